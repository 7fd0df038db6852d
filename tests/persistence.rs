//! Snapshots: `Store::save` and `Store::open` round trips (a property test over every value
//! kind, with and without TTLs), expiry across restarts, refusal of truncated, corrupt and
//! foreign files, periodic saves, the string-size rule, and the single instant a save
//! captures across shards.

use proptest::prelude::*;
use sketchstore::{Error, ManualClock, Reply, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sketchstore-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn manual_store(clock: &ManualClock) -> Store {
    Store::builder().clock(clock.clock()).build()
}

fn open_with(clock: &ManualClock, path: &Path) -> sketchstore::Result<Store> {
    Store::builder().clock(clock.clock()).open(path)
}

fn bulk(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b.clone(),
        other => panic!("expected a bulk reply, got {other:?}"),
    }
}

/// Every key with its type, PTTL and full contents, in key order.
fn dump(store: &Store) -> Vec<(Vec<u8>, Vec<Reply>)> {
    let mut keys: Vec<Vec<u8>> = match store.execute(&["KEYS", "*"]) {
        Reply::Array(items) => items.iter().map(bulk).collect(),
        other => panic!("KEYS: {other:?}"),
    };
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let ty = store.execute(&[&b"TYPE"[..], &k]);
            let mut out = vec![ty.clone(), store.execute(&[&b"PTTL"[..], &k])];
            match &ty {
                Reply::Status(t) if t == "string" => out.push(store.execute(&[&b"GET"[..], &k])),
                Reply::Status(t) if t == "hash" => {
                    let all = store.execute(&[&b"HGETALL"[..], &k]);
                    // A large hash lists its fields in its map's order, and whether a hash
                    // is large is not visible: compare as a set (the order of small hashes
                    // is checked by `small_hash_order_survives`).
                    if let Reply::Array(items) = all {
                        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = items
                            .chunks(2)
                            .map(|p| (bulk(&p[0]), bulk(&p[1])))
                            .collect();
                        pairs.sort();
                        out.push(Reply::Array(
                            pairs
                                .into_iter()
                                .flat_map(|(f, v)| [Reply::Bulk(f), Reply::Bulk(v)])
                                .collect(),
                        ));
                    } else {
                        panic!("HGETALL: {all:?}");
                    }
                }
                Reply::Status(t) if t == "list" => {
                    out.push(store.execute(&[&b"LRANGE"[..], &k, b"0", b"-1"]))
                }
                Reply::Status(t) if t == "MBbloom--" => {
                    out.push(store.execute(&[&b"BF.INFO"[..], &k]));
                    let mut iter = 0i64;
                    loop {
                        let r =
                            store.execute(&[&b"BF.SCANDUMP"[..], &k, iter.to_string().as_bytes()]);
                        let Reply::Array(parts) = &r else {
                            panic!("BF.SCANDUMP: {r:?}")
                        };
                        let Reply::Integer(next) = parts[0] else {
                            panic!("BF.SCANDUMP: {r:?}")
                        };
                        out.push(r.clone());
                        if next == 0 {
                            break;
                        }
                        iter = next;
                    }
                }
                Reply::Status(t) if t == "MBbloomCF" => {
                    out.push(store.execute(&[&b"CF.INFO"[..], &k]));
                    let mut cursor = 0i64;
                    loop {
                        let c = cursor.to_string();
                        let r = store.execute(&[&b"CF.SCANDUMP"[..], &k, c.as_bytes()]);
                        let Reply::Array(parts) = &r else {
                            panic!("CF.SCANDUMP: {r:?}")
                        };
                        let Reply::Integer(next) = parts[0] else {
                            panic!("CF.SCANDUMP: {r:?}")
                        };
                        out.push(r.clone());
                        if next == 0 {
                            break;
                        }
                        cursor = next;
                    }
                }
                Reply::Status(t) if t == "CMSk-TYPE" => {
                    out.push(store.execute(&[&b"CMS.INFO"[..], &k]));
                    let mut argv = vec![b"CMS.QUERY".to_vec(), k.clone()];
                    argv.extend((0..64).map(|i| format!("c{i}").into_bytes()));
                    out.push(store.execute(&argv));
                }
                other => panic!("unexpected type {other:?}"),
            }
            (k, out)
        })
        .collect()
}

#[derive(Clone, Debug)]
enum Op {
    Set(u8, Vec<u8>),
    IncrBy(u8, i64),
    HSet(u8, Vec<(Vec<u8>, Vec<u8>)>),
    RPush(u8, Vec<Vec<u8>>),
    PfAdd(u8, u16),
    BfAdd(u8, u16, bool),
    CfAdd(u8, u16, bool),
    CmsIncr(u8, u16),
    SetBit(u8, u32),
    PExpire(u8, u32),
    Del(u8),
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..12;
    prop_oneof![
        (key.clone(), bytes(40)).prop_map(|(k, v)| Op::Set(k, v)),
        (key.clone(), any::<i64>()).prop_map(|(k, n)| Op::IncrBy(k, n)),
        (
            key.clone(),
            prop::collection::vec((bytes(8), prop_oneof![bytes(8), bytes(100)]), 1..6)
        )
            .prop_map(|(k, p)| Op::HSet(k, p)),
        (key.clone(), 130u16..200).prop_map(|(k, n)| Op::HSet(
            k,
            (0..n)
                .map(|i| (format!("f{i}").into_bytes(), vec![i as u8]))
                .collect()
        )),
        (key.clone(), prop::collection::vec(bytes(12), 1..8)).prop_map(|(k, v)| Op::RPush(k, v)),
        (key.clone(), prop_oneof![1u16..20, 500u16..3000]).prop_map(|(k, n)| Op::PfAdd(k, n)),
        (key.clone(), 1u16..400, any::<bool>()).prop_map(|(k, n, s)| Op::BfAdd(k, n, s)),
        (key.clone(), 1u16..300, any::<bool>()).prop_map(|(k, n, s)| Op::CfAdd(k, n, s)),
        (key.clone(), 1u16..200).prop_map(|(k, n)| Op::CmsIncr(k, n)),
        (key.clone(), 0u32..5000).prop_map(|(k, o)| Op::SetBit(k, o)),
        (key.clone(), 1u32..100_000).prop_map(|(k, ms)| Op::PExpire(k, ms)),
        key.prop_map(Op::Del),
    ]
}

fn apply(store: &Store, op: &Op) {
    let k = |k: &u8| format!("key:{k}").into_bytes();
    match op {
        Op::Set(key, v) => {
            store.execute(&[&b"SET"[..], &k(key), v]);
        }
        Op::IncrBy(key, n) => {
            store.execute(&[&b"INCRBY"[..], &k(key), n.to_string().as_bytes()]);
        }
        Op::HSet(key, pairs) => {
            let mut argv = vec![b"HSET".to_vec(), k(key)];
            for (f, v) in pairs {
                argv.push(f.clone());
                argv.push(v.clone());
            }
            store.execute(&argv);
        }
        Op::RPush(key, items) => {
            let mut argv = vec![b"RPUSH".to_vec(), k(key)];
            argv.extend(items.iter().cloned());
            store.execute(&argv);
        }
        Op::PfAdd(key, n) => {
            let mut argv = vec![b"PFADD".to_vec(), k(key)];
            argv.extend((0..*n).map(|i| format!("item{i}").into_bytes()));
            store.execute(&argv);
        }
        Op::BfAdd(key, n, small) => {
            if *small {
                // A small scaling filter that grows several sub-filters.
                store.execute(&[
                    &b"BF.RESERVE"[..],
                    &k(key),
                    b"0.01",
                    b"20",
                    b"EXPANSION",
                    b"2",
                ]);
            }
            let mut argv = vec![b"BF.MADD".to_vec(), k(key)];
            argv.extend((0..*n).map(|i| format!("e{i}").into_bytes()));
            store.execute(&argv);
        }
        Op::CfAdd(key, n, small) => {
            if *small {
                // A small filter that grows several sub-filters, with some deletions.
                store.execute(&[&b"CF.RESERVE"[..], &k(key), b"8", b"EXPANSION", b"2"]);
            }
            for i in 0..*n {
                store.execute(&[&b"CF.ADD"[..], &k(key), format!("e{i}").as_bytes()]);
            }
            for i in (0..*n).step_by(7) {
                store.execute(&[&b"CF.DEL"[..], &k(key), format!("e{i}").as_bytes()]);
            }
        }
        Op::CmsIncr(key, n) => {
            store.execute(&[&b"CMS.INITBYDIM"[..], &k(key), b"16", b"3"]);
            let mut argv = vec![b"CMS.INCRBY".to_vec(), k(key)];
            for i in 0..*n {
                argv.push(format!("c{}", i % 64).into_bytes());
                argv.push(i.to_string().into_bytes());
            }
            store.execute(&argv);
        }
        Op::SetBit(key, off) => {
            store.execute(&[&b"SETBIT"[..], &k(key), off.to_string().as_bytes(), b"1"]);
        }
        Op::PExpire(key, ms) => {
            store.execute(&[&b"PEXPIRE"[..], &k(key), ms.to_string().as_bytes()]);
        }
        Op::Del(key) => {
            store.execute(&[&b"DEL"[..], &k(key)]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_state_survives_save_and_open(ops in prop::collection::vec(op(), 1..40)) {
        let dir = TempDir::new("prop");
        let path = dir.path("dump.sks");
        let clock = ManualClock::new(T0);
        let store = manual_store(&clock);
        for op in &ops {
            apply(&store, op);
        }
        let before = dump(&store);
        let saved = store.save(&path).unwrap();
        prop_assert_eq!(saved, before.len());
        let back = open_with(&clock, &path).unwrap();
        let after = dump(&back);
        prop_assert_eq!(before, after);
    }
}

#[test]
fn expiry_is_absolute_across_restarts() {
    let dir = TempDir::new("ttl");
    let path = dir.path("dump.sks");
    let clock = ManualClock::new(T0);
    let store = manual_store(&clock);
    store.execute(&["SET", "short", "1", "PX", "1000"]);
    store.execute(&["SET", "long", "1", "PX", "60000"]);
    store.execute(&["SET", "forever", "1"]);
    assert_eq!(store.save(&path).unwrap(), 3);
    drop(store);
    // Down for 5 seconds: `short` expired meanwhile, `long` lost 5 seconds.
    clock.advance(Duration::from_secs(5));
    let back = open_with(&clock, &path).unwrap();
    assert_eq!(back.stored_keys(), 2, "a key expired at load is dropped");
    assert_eq!(back.execute(&["EXISTS", "short"]), Reply::Integer(0));
    assert_eq!(back.execute(&["PTTL", "long"]), Reply::Integer(55_000));
    assert_eq!(back.execute(&["PTTL", "forever"]), Reply::Integer(-1));
}

#[test]
fn small_hash_order_survives() {
    let dir = TempDir::new("order");
    let path = dir.path("dump.sks");
    let store = Store::new();
    store.execute(&["HSET", "h", "z", "1", "a", "2", "m", "3"]);
    store.execute(&["HDEL", "h", "a"]);
    store.execute(&["HSET", "h", "b", "4", "z", "5"]);
    let before = store.execute(&["HGETALL", "h"]);
    store.save(&path).unwrap();
    assert_eq!(
        Store::open(&path).unwrap().execute(&["HGETALL", "h"]),
        before
    );
}

#[test]
fn missing_file_opens_empty() {
    let dir = TempDir::new("missing");
    let store = Store::open(dir.path("nothing-here.sks")).unwrap();
    assert_eq!(store.stored_keys(), 0);
}

fn sample_snapshot(dir: &TempDir) -> (PathBuf, Vec<u8>) {
    let path = dir.path("dump.sks");
    let store = Store::new();
    store.execute(&["SET", "s", "hello"]);
    store.execute(&["HSET", "h", "a", "1", "b", "2"]);
    store.execute(&["RPUSH", "l", "x", "y", "z"]);
    store.execute(&["PFADD", "p", "a", "b", "c"]);
    store.execute(&["BF.ADD", "bf", "x"]);
    store.execute(&["SETBIT", "bits", "100", "1"]);
    store.execute(&["INCRBY", "n", "42"]);
    store.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn open_err(path: &Path) -> String {
    match Store::open(path) {
        Ok(s) => panic!("loaded {} keys from a bad file", s.stored_keys()),
        Err(e @ Error::Snapshot(_)) => e.to_string(),
        Err(e) => panic!("expected Error::Snapshot, got {e:?}"),
    }
}

#[test]
fn truncated_files_fail_clearly() {
    let dir = TempDir::new("trunc");
    let (path, bytes) = sample_snapshot(&dir);
    let bad = dir.path("bad.sks");
    for len in 0..bytes.len() {
        std::fs::write(&bad, &bytes[..len]).unwrap();
        let e = open_err(&bad);
        if len < 8 {
            assert_eq!(
                e,
                "ERR snapshot: Wrong signature trying to load snapshot from file"
            );
        } else {
            assert!(
                e.contains("truncated"),
                "a file cut at {len} of {} bytes: {e}",
                bytes.len()
            );
        }
    }
    assert_eq!(Store::open(&path).unwrap().stored_keys(), 7);
}

#[test]
fn bit_flips_fail_clearly() {
    let dir = TempDir::new("flip");
    let (_, bytes) = sample_snapshot(&dir);
    let bad = dir.path("bad.sks");
    for i in 0..bytes.len() {
        for bit in [0, 3, 7] {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            std::fs::write(&bad, &b).unwrap();
            let e = open_err(&bad);
            let want = if i < 8 {
                "Wrong signature"
            } else if i < 12 {
                "Can't handle snapshot format version"
            } else if i < 16 {
                "Can't handle snapshot flags"
            } else {
                "Wrong snapshot checksum"
            };
            assert!(e.contains(want), "flip of bit {bit} at {i}: {e}");
        }
    }
}

#[test]
fn foreign_and_newer_files_fail_clearly() {
    let dir = TempDir::new("foreign");
    let bad = dir.path("bad.sks");
    std::fs::write(
        &bad,
        b"REDIS0009\xfa\x09redis-ver\x057.0.0\xff\x00\x00\x00\x00\x00\x00\x00\x00",
    )
    .unwrap();
    // A Redis RDB file is not foreign: it loads (this one holds no keys).
    assert_eq!(
        Store::open(&bad).expect("an empty dump.rdb").stored_keys(),
        0
    );
    std::fs::write(&bad, b"{\"json\": true}").unwrap();
    assert!(open_err(&bad).contains("Wrong signature"));
    let (_, mut bytes) = sample_snapshot(&dir);
    bytes[8] = 2;
    std::fs::write(&bad, &bytes).unwrap();
    assert_eq!(
        open_err(&bad),
        "ERR snapshot: Can't handle snapshot format version 2"
    );
}

#[test]
fn well_formed_but_invalid_records_fail_clearly() {
    let dir = TempDir::new("records");
    let bad = dir.path("bad.sks");
    let reseal = |mut body: Vec<u8>| {
        let sum = xxhash_rust::xxh3::xxh3_64(&body);
        body.extend_from_slice(&sum.to_le_bytes());
        body
    };
    let header = |b: &mut Vec<u8>| {
        b.extend_from_slice(b"SKSNAP\r\n");
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&T0.to_le_bytes());
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // A string claiming 2^62 bytes: refused before any allocation.
        (
            vec![
                1, 0, 1, b'k', 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40,
            ],
            "exceeds the data left",
        ),
        // A list claiming 10^9 elements.
        (
            vec![6, 0, 1, b'k', 0x80, 0x94, 0xeb, 0xdc, 0x03, 1, b'x'],
            "exceeds the data left",
        ),
        (vec![12, 0, 1, b'k', 0], "unknown record kind 12"),
        // An empty top-k record, and a t-digest whose node count its bytes do not hold.
        (vec![10, 0, 1, b'k', 0], "invalid top-k sketch"),
        (
            {
                let mut r = vec![11, 0, 1, b'k', 64];
                let mut body = [0u8; 64];
                body[0] = 100;
                body[56] = 1;
                r.extend_from_slice(&body);
                r
            },
            "invalid t-digest",
        ),
        // A cuckoo filter header asking for 2^28 buckets, with no slot arrays.
        (
            {
                let mut r = vec![8, 0, 1, b'k', 38];
                let mut h = [0u8; 38];
                h[8..16].copy_from_slice(&(1u64 << 28).to_le_bytes());
                h[24] = 1;
                h[32] = 2;
                h[34] = 20;
                r.extend_from_slice(&h);
                r.push(0);
                r
            },
            "invalid cuckoo filter",
        ),
        // The same header claiming 10^9 slot arrays.
        (
            {
                let mut r = vec![8, 0, 1, b'k', 38];
                let mut h = [0u8; 38];
                h[8..16].copy_from_slice(&(1u64 << 28).to_le_bytes());
                h[24] = 1;
                h[32] = 2;
                h[34] = 20;
                r.extend_from_slice(&h);
                r.extend_from_slice(&[0x80, 0x94, 0xeb, 0xdc, 0x03]);
                r
            },
            "exceeds the data left",
        ),
        (vec![8, 0, 1, b'k', 3, 1, 2, 3, 0], "invalid cuckoo filter"),
        // A count-min sketch of width 0, and one whose counters do not fill it.
        (
            vec![9, 0, 1, b'k', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "invalid count-min sketch",
        ),
        (
            vec![9, 0, 1, b'k', 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0],
            "invalid count-min sketch",
        ),
        (vec![1, 2, 1, b'k', 0], "unknown record flags"),
        (
            vec![3, 0, 1, b'k', 4, b'H', b'Y', b'L', b'L'],
            "invalid HyperLogLog",
        ),
        (vec![6, 0, 1, b'k', 0], "an empty list"),
        (
            vec![4, 0, 1, b'k', 2, 1, b'a', 0, 1, b'a', 0],
            "appears twice",
        ),
        (
            vec![1, 0, 1, b'k', 0, 1, 0, 1, b'k', 0],
            "a key appears twice",
        ),
        (
            vec![7, 0, 1, b'k', 3, 1, 2, 3, 0],
            "invalid Bloom filter header",
        ),
    ];
    for (records, want) in cases {
        for end in [true, false] {
            let mut b = Vec::new();
            header(&mut b);
            b.extend_from_slice(&records);
            if end {
                b.extend_from_slice(&[0xFF, 1]);
            }
            std::fs::write(&bad, reseal(b)).unwrap();
            let e = open_err(&bad);
            assert!(
                e.contains(want) || (!end && e.contains("Bad data")),
                "{want}: {e}"
            );
        }
    }
    // A well-formed file whose end marker miscounts.
    let mut b = Vec::new();
    header(&mut b);
    b.extend_from_slice(&[1, 0, 1, b'k', 1, b'v', 0xFF, 5]);
    std::fs::write(&bad, reseal(b)).unwrap();
    assert!(open_err(&bad).contains("end marker counts 5 keys"));
}

#[test]
fn a_bloom_filter_over_the_stores_budget_is_refused() {
    let dir = TempDir::new("bloom");
    let path = dir.path("dump.sks");
    let store = Store::new();
    store.execute(&["BF.RESERVE", "big", "0.001", "1000000"]);
    store.save(&path).unwrap();
    let small = Store::builder().bloom_max_bytes(1 << 16).open(&path);
    match small {
        Err(Error::Snapshot(msg)) => assert!(msg.contains("Bloom filter"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(Store::open(&path).unwrap().stored_keys(), 1);
}

#[test]
fn saves_replace_atomically_and_leave_no_temporary_files() {
    let dir = TempDir::new("atomic");
    let path = dir.path("dump.sks");
    let store = Store::new();
    for i in 0..5 {
        store.set(format!("k{i}"), "v").unwrap();
        assert_eq!(store.save(&path).unwrap(), i + 1);
        assert_eq!(Store::open(&path).unwrap().stored_keys(), i + 1);
    }
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["dump.sks".to_owned()]);
    // A save into a directory that does not exist fails and changes nothing.
    let e = store.save(dir.path("no/such/dir/dump.sks")).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
}

#[test]
fn periodic_saves_run_and_stop_with_the_store() {
    let dir = TempDir::new("periodic");
    let path = dir.path("dump.sks");
    let store = Store::builder()
        .save_every(Duration::from_millis(20))
        .open(&path)
        .unwrap();
    store.set("a", "1").unwrap();
    let mut seen = false;
    for _ in 0..500 {
        std::thread::sleep(Duration::from_millis(10));
        if let Ok(s) = Store::open(&path) {
            if s.stored_keys() == 1 {
                seen = true;
                break;
            }
        }
    }
    assert!(seen, "the periodic save never wrote the key");
    assert!(store.background_save_error().is_none());
    drop(store);
    // The thread holds no strong reference: the store is gone and no save runs again.
    std::thread::sleep(Duration::from_millis(60));
    std::fs::remove_file(&path).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert!(!path.exists(), "a save ran after the store was dropped");
}

/// Every snapshot is one instant across all shards (issue 20): while writers run
/// transactions, MSETs and LMOVEs whose keys span shards, every saved file holds each of
/// them whole or not at all.
#[test]
fn every_snapshot_is_one_instant_across_shards() {
    const PAIRS: usize = 8;
    const LIST: usize = 50;
    let dir = TempDir::new("instant");
    let path = dir.path("dump.sks");
    let store = Store::new();
    let items: Vec<String> = (0..LIST).map(|i| i.to_string()).collect();
    let mut rpush = vec!["RPUSH", "list:a"];
    rpush.extend(items.iter().map(String::as_str));
    store.execute(&rpush);
    store.set("r:b", "token").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let counters = {
        let store = store.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut conn = store.connection();
            let mut execs = 0u64;
            while !stop.load(Ordering::Relaxed) {
                conn.execute(&["MULTI"]);
                for i in 0..PAIRS {
                    conn.execute(&["INCR", &format!("x:{i}")]);
                    conn.execute(&["INCR", &format!("y:{i}")]);
                }
                assert!(matches!(conn.execute(&["EXEC"]), Reply::Array(_)));
                execs += 1;
            }
            execs
        })
    };
    let movers = {
        let store = store.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let v = n.to_string();
                let mut mset = vec!["MSET"];
                let keys: Vec<String> = (0..PAIRS).map(|i| format!("m:{i}")).collect();
                for k in &keys {
                    mset.push(k);
                    mset.push(&v);
                }
                store.execute(&mset);
                let (from, to) = if n % 2 == 0 {
                    ("list:a", "list:b")
                } else {
                    ("list:b", "list:a")
                };
                store.execute(&["LMOVE", from, to, "LEFT", "RIGHT"]);
                let (from, to) = if n % 2 == 0 {
                    ("r:a", "r:b")
                } else {
                    ("r:b", "r:a")
                };
                assert_eq!(store.execute(&["RENAME", from, to]), Reply::ok());
            }
            n
        })
    };
    // A second thread saves at the same time: overlapping saves each keep their instant.
    let other = {
        let store = store.clone();
        let path = dir.path("other.sks");
        std::thread::spawn(move || {
            for save in 0..20 {
                store.save(&path).unwrap();
                check_instant(&Store::open(&path).unwrap(), save);
            }
        })
    };
    for save in 0..40 {
        store.save(&path).unwrap();
        check_instant(&Store::open(&path).unwrap(), save);
    }
    other.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(counters.join().unwrap() > 0);
    assert!(movers.join().unwrap() > 0);
}

/// The invariants of [`every_snapshot_is_one_instant_across_shards`]'s writers.
fn check_instant(back: &Store, save: usize) {
    const PAIRS: usize = 8;
    const LIST: i64 = 50;
    let len = |s: &Store, k: &str| match s.execute(&["LLEN", k]) {
        Reply::Integer(n) => n,
        other => panic!("LLEN: {other:?}"),
    };
    let x0 = back.get("x:0").unwrap();
    for i in 0..PAIRS {
        assert_eq!(
            back.get(format!("x:{i}")).unwrap(),
            x0,
            "save {save}: x:{i}"
        );
        assert_eq!(
            back.get(format!("y:{i}")).unwrap(),
            x0,
            "save {save}: y:{i}"
        );
    }
    let m0 = back.get("m:0").unwrap();
    for i in 0..PAIRS {
        assert_eq!(
            back.get(format!("m:{i}")).unwrap(),
            m0,
            "save {save}: m:{i}"
        );
    }
    assert_eq!(
        len(back, "list:a") + len(back, "list:b"),
        LIST,
        "save {save}: an LMOVE half applied"
    );
    let renamed = ["r:a", "r:b"]
        .iter()
        .filter(|k| back.get(k).unwrap().is_some())
        .count();
    assert_eq!(renamed, 1, "save {save}: a RENAME half applied");
}

/// Writes the seeds of the `snapshot` fuzz target (`fuzz/corpus/snapshot/`):
/// `cargo test --test persistence write_fuzz_seeds -- --ignored`.
#[test]
#[ignore = "a tool that writes the fuzz corpus seeds, not a check; run by hand with --ignored"]
fn write_fuzz_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/snapshot");
    std::fs::create_dir_all(&dir).unwrap();
    let clock = ManualClock::new(T0);
    let empty = manual_store(&clock);
    empty.save(dir.join("empty")).unwrap();
    let all = manual_store(&clock);
    all.execute(&["SET", "s", "hello"]);
    all.execute(&["INCRBY", "n", "-42"]);
    all.execute(&["HSET", "h", "a", "1", "b", "2"]);
    all.execute(&["RPUSH", "l", "x", "y"]);
    all.execute(&["PFADD", "p", "a", "b", "c"]);
    all.execute(&["BF.RESERVE", "bf", "0.1", "8", "EXPANSION", "2"]);
    all.execute(&[
        "BF.MADD", "bf", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
    ]);
    all.execute(&["SETBIT", "bits", "9", "1"]);
    all.execute(&["CF.RESERVE", "cf", "8", "EXPANSION", "2"]);
    all.execute(&[
        "CF.INSERT",
        "cf",
        "ITEMS",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
    ]);
    all.execute(&["CMS.INITBYDIM", "cms", "4", "2"]);
    all.execute(&["CMS.INCRBY", "cms", "a", "3", "b", "5"]);
    all.save(dir.join("every_kind")).unwrap();
    let ttl = manual_store(&clock);
    ttl.execute(&["SET", "a", "1", "PX", "5000"]);
    ttl.execute(&["SET", "b", "2", "PX", "1"]);
    ttl.save(dir.join("expiries")).unwrap();
    let large = manual_store(&clock);
    let mut argv = vec!["HSET".to_owned(), "big".to_owned()];
    for i in 0..130 {
        argv.push(format!("f{i}"));
        argv.push(i.to_string());
    }
    large.execute(&argv);
    large.save(dir.join("large_hash")).unwrap();
}

/// The one size rule for strings (issue 20): every command that creates or grows a string
/// from bytes refuses one longer than `max_string_bytes` with Redis's error, and whatever
/// was accepted saves and loads back into a store built with the same settings.
#[test]
fn every_string_the_store_accepts_loads_back() {
    const TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    let dir = TempDir::new("strlimit");
    let path = dir.path("dump.sks");
    let build = || Store::builder().max_string_bytes(1024);
    let store = build().build();
    let long = "x".repeat(1025);
    let fits = "x".repeat(1024);
    for argv in [
        vec!["SET", "k", &long],
        vec!["SET", "k", &long, "EX", "100"],
        vec!["SETNX", "k", &long],
        vec!["SETEX", "k", "100", &long],
        vec!["PSETEX", "k", "100000", &long],
        vec!["GETSET", "k", &long],
        vec!["MSET", "a", "1", "k", &long],
        vec!["MSETNX", "a", "1", "k", &long],
        vec!["APPEND", "k", &long],
        vec!["SETRANGE", "k", "1", &fits],
    ] {
        let r = store.execute(&argv);
        assert_eq!(r, Reply::Error(TOO_LONG.into()), "{}", argv[0]);
        assert_eq!(store.stored_keys(), 0, "{argv:?} wrote something");
    }
    assert!(matches!(store.set("k", &long), Err(Error::StringTooLong)));
    assert!(matches!(
        store.mset(&[("k", &long)]),
        Err(Error::StringTooLong)
    ));
    assert!(matches!(
        store.getset("k", &long),
        Err(Error::StringTooLong)
    ));
    assert!(matches!(
        store.setex("k", &long, Duration::from_secs(9)),
        Err(Error::StringTooLong)
    ));
    assert!(matches!(store.setnx("k", &long), Err(Error::StringTooLong)));
    assert_eq!(store.stored_keys(), 0);

    // At the limit everything is accepted; BITFIELD may end 8 bytes past it, as in Redis.
    store.set("s", &fits).unwrap();
    assert_eq!(
        store.execute(&["APPEND", "s", "y"]),
        Reply::Error(TOO_LONG.into())
    );
    store.execute(&["SETRANGE", "r", "1023", "z"]);
    assert_eq!(
        store.execute(&["BITFIELD", "b", "SET", "i64", "8191", "1"]),
        Reply::Array(vec![Reply::Integer(0)])
    );
    assert_eq!(store.execute(&["STRLEN", "b"]), Reply::Integer(1032));
    assert_eq!(
        store.execute(&["SETBIT", "t", "8191", "1"]),
        Reply::Integer(0)
    );
    assert_eq!(store.save(&path).unwrap(), 4);
    let back = build()
        .open(&path)
        .expect("what the store accepted loads back");
    assert_eq!(dump(&back), dump(&store));

    // Lowering the limit at run time: strings accepted before still save and load.
    let big = Store::builder().max_string_bytes(2 << 20).build();
    big.set("k", "y".repeat(3 << 19)).unwrap();
    assert_eq!(
        big.execute(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        Reply::ok()
    );
    big.save(&path).unwrap();
    let back = Store::builder()
        .max_string_bytes(1 << 20)
        .open(&path)
        .expect("a string accepted under a higher limit loads");
    assert_eq!(back.strlen("k").unwrap(), 3 << 19);
}
