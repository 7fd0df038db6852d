//! The body of the `cf_loadchunk` target: arbitrary `CF.LOADCHUNK` headers and chunks
//! through `Store::execute`, then queries that must behave like a cuckoo filter.
//!
//! # Input format
//!
//! The framing of [`crate::chunked`]. Flags:
//!
//! | bit | effect |
//! |-----|--------|
//! | 0   | key `k` already holds a filter (CF.ADD) before the header is sent |
//! | 1   | every chunk is also sent to `s`, a string key, which must stay untouched |
//! | 2   | every chunk is also sent to `v`, a valid filter, which must be unchanged after any error |
//! | 3   | the header is sent with cursor `2` instead of `1` |
//!
//! A 38-byte header whose sub-filters would hold more than [`MAX_CF_BYTES`] of slots, or that
//! declares more than [`MAX_CF_FILTERS`] sub-filters, is not sent: the store accepts filters up
//! to 512 MiB, and each chunk finds its sub-filter by walking the list from the first (as
//! RedisBloom does), so dumping and reloading a filter of n sub-filters costs n² steps. Either
//! would make a run slow without reaching new code (one input with 25,972 sub-filters of 8
//! bytes took 38 s); `types::cuckoo`'s unit tests cover the budget check.

use crate::chunked::{int, run, Framed};
use sketchstore::types::cuckoo::HEADER_LEN;
use sketchstore::{Reply, Store};

/// The largest filter (in slot bytes) an input may ask for.
pub const MAX_CF_BYTES: u64 = 1 << 20;

/// The most sub-filters an input's header may declare.
pub const MAX_CF_FILTERS: u64 = 512;

/// Error texts CF.LOADCHUNK may answer with.
const LOADCHUNK_ERRORS: &[&str] = &[
    "Invalid position",
    "Invalid header",
    "Couldn't create filter!",
    "Couldn't load chunk!",
    "ERR not found",
    "ERR item exists",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
];

fn loadchunk(store: &Store, key: &[u8], cursor: &[u8], data: &[u8]) -> Reply {
    crate::chunked::load(store, b"CF.LOADCHUNK", LOADCHUNK_ERRORS, key, cursor, data)
}

/// Whether a chunk is a 38-byte header too large to send (see the module documentation).
pub fn oversized_header(header: &[u8]) -> bool {
    header_bytes(header).is_some_and(|n| n > MAX_CF_BYTES)
        || (header.len() == HEADER_LEN
            && u64::from(u16::from_le_bytes([header[24], header[25]])) > MAX_CF_FILTERS)
}

/// The slot bytes a 38-byte header asks for (saturating), `None` for another length.
pub fn header_bytes(header: &[u8]) -> Option<u64> {
    if header.len() != HEADER_LEN {
        return None;
    }
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&header[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([header[i], header[i + 1]]));
    let (buckets, filters) = (u64_at(8), u64_at(24) as u16);
    let (bucket_size, expansion) = (u16_at(32), u16_at(36));
    let mut total: u64 = 0;
    let mut growth: u64 = 1;
    for _ in 0..filters {
        total = total.saturating_add(buckets.saturating_mul(growth).saturating_mul(bucket_size));
        growth = growth.saturating_mul(expansion);
    }
    Some(total)
}

/// Every `(cursor, chunk)` of `key` through CF.SCANDUMP, header first; `None` when the key
/// holds no filter. An empty filter dumps nothing.
pub fn dump(store: &Store, key: &[u8]) -> Option<Vec<(i64, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut cursor = 0i64;
    loop {
        let reply = run(store, &[b"CF.SCANDUMP", key, cursor.to_string().as_bytes()]);
        let Reply::Array(pair) = reply else {
            return None;
        };
        match pair.as_slice() {
            [Reply::Integer(0), Reply::Nil] => return Some(out),
            [Reply::Integer(next), Reply::Bulk(chunk)] => {
                assert!(
                    *next > cursor,
                    "SCANDUMP cursor went from {cursor} to {next}"
                );
                out.push((*next, chunk.clone()));
                cursor = *next;
            }
            other => panic!("CF.SCANDUMP replied {other:?}"),
        }
        assert!(out.len() <= 1 + 65_536, "SCANDUMP does not end");
    }
}

/// The `cf_loadchunk` target. Panics on a bug.
pub fn run_cf_loadchunk(data: &[u8]) {
    let Some(framed) = Framed::new(data) else {
        return;
    };
    let (flags, header) = (framed.flags, framed.header);
    let store = Store::builder().shards(4).build();
    if flags & 1 != 0 {
        assert_eq!(run(&store, &[b"CF.ADD", b"k", b"pre"]), Reply::Integer(1));
    }
    assert_eq!(run(&store, &[b"SET", b"s", b"string"]), Reply::ok());
    assert_eq!(
        run(&store, &[b"CF.RESERVE", b"v", b"16", b"EXPANSION", b"2"]),
        Reply::ok()
    );
    for i in 0..40u32 {
        run(&store, &[b"CF.ADD", b"v", &i.to_le_bytes()]);
    }

    let header_cursor: &[u8] = if flags & 8 != 0 { b"2" } else { b"1" };
    if !oversized_header(header) {
        let reply = loadchunk(&store, b"k", header_cursor, header);
        if flags & 1 != 0 && flags & 8 == 0 {
            assert_eq!(reply, Reply::Error("ERR item exists".into()));
        }
    }

    for (cursor, chunk) in framed {
        if cursor == "1" && oversized_header(chunk) {
            continue;
        }
        loadchunk(&store, b"k", cursor.as_bytes(), chunk);
        if flags & 2 != 0 {
            let reply = loadchunk(&store, b"s", cursor.as_bytes(), chunk);
            assert!(reply.is_error());
        }
        if flags & 4 != 0 && cursor != "1" {
            let before = dump(&store, b"v");
            if loadchunk(&store, b"v", cursor.as_bytes(), chunk).is_error() {
                assert_eq!(
                    dump(&store, b"v"),
                    before,
                    "a rejected chunk changed the filter"
                );
            }
        }
    }
    assert_eq!(run(&store, &[b"GET", b"s"]), Reply::bulk("string"));

    match dump(&store, b"k") {
        Some(dumped) => query_filter(&store, &dumped),
        None => {
            assert_eq!(run(&store, &[b"EXISTS", b"k"]), Reply::Integer(0));
            assert_eq!(run(&store, &[b"CF.EXISTS", b"k", b"x"]), Reply::Integer(0));
            assert_eq!(run(&store, &[b"CF.COUNT", b"k", b"x"]), Reply::Integer(0));
        }
    }
}

/// Queries a loaded filter `k`: it reloads from its dump identically, answers like its copy,
/// CF.EXISTS agrees with CF.COUNT, and CF.ADD / CF.DEL answer their shapes.
fn query_filter(store: &Store, dumped: &[(i64, Vec<u8>)]) {
    let Reply::Array(info) = run(store, &[b"CF.INFO", b"k"]) else {
        panic!("CF.INFO of a filter is not an array");
    };
    assert_eq!(info.len(), 16);
    if !dumped.is_empty() {
        for (cursor, chunk) in dumped {
            let reply = loadchunk(store, b"copy", cursor.to_string().as_bytes(), chunk);
            assert_eq!(reply, Reply::ok(), "reloading a dump");
        }
        assert_eq!(run(store, &[b"CF.INFO", b"copy"]), Reply::Array(info));
        for i in 0u32..128 {
            let item = i.to_le_bytes();
            assert_eq!(
                run(store, &[b"CF.COUNT", b"copy", &item]),
                run(store, &[b"CF.COUNT", b"k", &item])
            );
        }
        assert_eq!(dump(store, b"copy").as_deref(), Some(dumped));
    }
    for i in 0u32..48 {
        let item = i.to_le_bytes();
        let count = int(&run(store, &[b"CF.COUNT", b"k", &item]));
        let exists = int(&run(store, &[b"CF.EXISTS", b"k", &item]));
        assert_eq!(exists, i64::from(count > 0));
        match run(store, &[b"CF.ADD", b"k", &item]) {
            // A loaded header may give sub-filters bucket counts that are not powers of
            // two, where kick-outs can carry a fingerprint away from its item's buckets (in
            // RedisBloom too): only the reply shapes are certain.
            Reply::Integer(1) => {
                let del = int(&run(store, &[b"CF.DEL", b"k", &item]));
                assert!(del == 0 || del == 1, "CF.DEL replied {del}");
            }
            Reply::Error(e) => assert!(
                [
                    "Filter is full",
                    "Maximum expansions reached",
                    "Memory allocation failure"
                ]
                .contains(&e.as_str()),
                "{e}"
            ),
            other => panic!("CF.ADD replied {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_corpus_runs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cf_loadchunk");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("seed corpus") {
            let data = std::fs::read(entry.expect("entry").path()).expect("seed");
            run_cf_loadchunk(&data);
            n += 1;
        }
        assert!(n >= 4, "seed corpus has {n} files");
    }

    #[test]
    fn pseudo_random_inputs_run() {
        let mut s: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..200 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let mut data = vec![(s & 0x0F) as u8, 38, 0];
            // A plausible header: small power-of-two bucket count, sane fields.
            let mut h = [0u8; 38];
            h[0] = (s >> 8) as u8;
            h[8] = 1 << ((s >> 16) % 6);
            h[24] = 1 + ((s >> 20) % 3) as u8;
            h[32] = 1 + ((s >> 24) % 4) as u8;
            h[34] = 1 + ((s >> 28) % 30) as u8;
            h[36] = ((s >> 32) % 3) as u8;
            data.extend_from_slice(&h);
            for _ in 0..(s >> 40) % 6 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                data.extend_from_slice(&((s % 300) as i64 - 5).to_le_bytes());
                let len = (s >> 16) % 40;
                data.extend_from_slice(&(len as u16).to_le_bytes());
                data.extend((0..len).map(|i| (s >> (i % 56)) as u8));
            }
            run_cf_loadchunk(&data);
        }
    }

    #[test]
    fn oversized_headers_are_not_sent() {
        let mut h = [0u8; 38];
        h[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes());
        h[24] = 1;
        h[32] = 2;
        assert!(header_bytes(&h).is_some_and(|n| n > MAX_CF_BYTES));
        let mut data = vec![0u8, 38, 0];
        data.extend_from_slice(&h);
        run_cf_loadchunk(&data);
    }
}
