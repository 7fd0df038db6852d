//! The snapshot loader allocates no more than the file's bytes allow: the process's peak
//! virtual memory must not move while a hostile file loads (issue 20). Its own test binary,
//! so that no other test's allocations move the peak.

use sketchstore::{Reply, Store};

/// The process's peak virtual memory (`VmPeak` in /proc/self/status), in bytes: a large
/// allocation raises it even when its pages are never touched.
fn vm_peak() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .expect("missing /proc/self/status: this test measures VmPeak on Linux");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmPeak:"))
        .expect("missing VmPeak in /proc/self/status");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("unreadable VmPeak");
    kb * 1024
}

fn reseal(mut body: Vec<u8>) -> Vec<u8> {
    let sum = xxhash_rust::xxh3::xxh3_64(&body);
    body.extend_from_slice(&sum.to_le_bytes());
    body
}

fn header() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"SKSNAP\r\n");
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&1_700_000_000_000i64.to_le_bytes());
    b
}

fn bulk(r: Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b,
        other => panic!("expected a bulk reply, got {other:?}"),
    }
}

/// A `BF.SCANDUMP` header of one link, patched to describe a bit array of `bytes` bytes
/// (the shape of `BF.RESERVE b 0.01 300000000`, without ever allocating it).
fn big_bloom_header(bytes: u64) -> Vec<u8> {
    let store = Store::new();
    store.execute(&["BF.RESERVE", "b", "0.01", "100"]);
    let mut h = match store.execute(&["BF.SCANDUMP", "b", "0"]) {
        Reply::Array(items) => bulk(items.into_iter().nth(1).unwrap()),
        other => panic!("BF.SCANDUMP: {other:?}"),
    };
    assert_eq!(h.len(), 73, "a one-link header");
    // Link 0's fields start at 20: bytes u64, bits u64.
    h[20..28].copy_from_slice(&bytes.to_le_bytes());
    h[28..36].copy_from_slice(&(bytes * 8).to_le_bytes());
    h
}

#[test]
fn a_small_file_describing_a_huge_bloom_filter_allocates_nothing_large() {
    let dir = std::env::temp_dir().join(format!("sketchstore-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.sks");
    // BF.RESERVE b 0.01 300000000: 2,875,517,520 bits, 359,439,690 bytes rounded to 8.
    let bytes = 359_439_696u64;
    let mut body = header();
    let h = big_bloom_header(bytes);
    body.extend_from_slice(&[7, 0, 1, b'b', h.len() as u8]);
    body.extend_from_slice(&h);
    body.extend_from_slice(&[0, 0xFF, 1]);
    let file = reseal(body);
    assert_eq!(file.len(), 113);
    std::fs::write(&path, &file).unwrap();

    let before = vm_peak();
    let err = match Store::open(&path) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a Bloom filter without its data loaded"),
    };
    let grown = vm_peak().saturating_sub(before);
    assert!(err.contains("exceeds the data left"), "{err}");
    assert!(
        grown < 64 << 20,
        "loading a 113-byte file raised the peak virtual memory by {grown} bytes"
    );

    // The same header with its data present loads (a smaller filter, to keep the test light).
    let bytes = 4096u64;
    let mut body = header();
    let h = big_bloom_header(bytes);
    body.extend_from_slice(&[7, 0, 1, b'b', h.len() as u8]);
    body.extend_from_slice(&h);
    // One chunk: iterator 1 + 4096 = 4097 as a varint, then the 4096 bytes.
    body.extend_from_slice(&[1, 0x81, 0x20, 0x80, 0x20]);
    body.extend_from_slice(&vec![0u8; bytes as usize]);
    body.extend_from_slice(&[0xFF, 1]);
    std::fs::write(&path, reseal(body)).unwrap();
    let store = Store::open(&path).expect("a complete Bloom record loads");
    assert_eq!(
        store.execute(&["TYPE", "b"]),
        Reply::Status("MBbloom--".into())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
