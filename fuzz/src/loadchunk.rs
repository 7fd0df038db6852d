//! The body of the `loadchunk` target: arbitrary `BF.LOADCHUNK` headers and chunks through
//! `Store::execute`, then queries that must behave like a Bloom filter.
//!
//! # Input format
//!
//! The framing of [`crate::chunked`] (the part after `flags` is the layout of
//! `sketchstore::types::bloom::fuzz_loadchunk`, which runs on it too). Flags:
//!
//! | bit | effect |
//! |-----|--------|
//! | 0   | key `k` already holds a default filter (BF.ADD) before the header is sent |
//! | 1   | every chunk is also sent to `s`, a string key, which must stay untouched |
//! | 2   | every chunk is also sent to `v`, a valid filter, which must be unchanged after any error |
//! | 3   | the header is sent with iterator `2` instead of `1` |
//!
//! The store's Bloom budget is [`MAX_BLOOM_BYTES`]: no input may make it allocate more.

use crate::chunked::{int, run, Framed};
use sketchstore::{Reply, Store};

/// The fuzzed store's `bloom_max_bytes`.
pub const MAX_BLOOM_BYTES: usize = 1 << 20;

/// Error texts BF.LOADCHUNK may answer with.
const LOADCHUNK_ERRORS: &[&str] = &[
    "ERR received bad data",
    "ERR invalid offset - no link found",
    "ERR invalid chunk - Too big for current filter",
    "ERR not found",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
];

fn loadchunk(store: &Store, key: &[u8], iter: &[u8], data: &[u8]) -> Reply {
    crate::chunked::load(store, b"BF.LOADCHUNK", LOADCHUNK_ERRORS, key, iter, data)
}

/// Every `(iterator, chunk)` of `key` through BF.SCANDUMP, header first; `None` when the key
/// holds no filter.
pub fn dump(store: &Store, key: &[u8]) -> Option<Vec<(i64, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut iter = 0i64;
    loop {
        let reply = run(store, &[b"BF.SCANDUMP", key, iter.to_string().as_bytes()]);
        let Reply::Array(pair) = reply else {
            return None;
        };
        let [Reply::Integer(next), Reply::Bulk(chunk)] = pair.as_slice() else {
            panic!("BF.SCANDUMP replied {pair:?}");
        };
        if *next == 0 {
            assert!(chunk.is_empty());
            return Some(out);
        }
        assert!(*next > iter, "SCANDUMP iterator went from {iter} to {next}");
        out.push((*next, chunk.clone()));
        iter = *next;
        assert!(out.len() <= 1 + 20_000, "SCANDUMP does not end");
    }
}

/// BF.INFO as (label, value) pairs; checks the shape and the budget.
fn info(store: &Store, key: &[u8]) -> Vec<Reply> {
    let Reply::Array(items) = run(store, &[b"BF.INFO", key]) else {
        panic!("BF.INFO of a filter is not an array");
    };
    assert_eq!(items.len(), 10);
    let size = int(&items[3]);
    assert!(
        (0..=MAX_BLOOM_BYTES as i64).contains(&size),
        "filter of {size} bytes past the budget"
    );
    items
}

/// The `loadchunk` target. Panics on a bug.
pub fn run_loadchunk(data: &[u8]) {
    let Some(framed) = Framed::new(data) else {
        return;
    };
    let (flags, header) = (framed.flags, framed.header);
    let store = Store::builder()
        .shards(4)
        .bloom_max_bytes(MAX_BLOOM_BYTES)
        .build();
    if flags & 1 != 0 {
        assert_eq!(run(&store, &[b"BF.ADD", b"k", b"pre"]), Reply::Integer(1));
    }
    assert_eq!(run(&store, &[b"SET", b"s", b"string"]), Reply::ok());
    assert_eq!(
        run(&store, &[b"BF.RESERVE", b"v", b"0.05", b"20"]),
        Reply::ok()
    );
    for i in 0..50u32 {
        run(&store, &[b"BF.ADD", b"v", &i.to_le_bytes()]);
    }
    let valid = dump(&store, b"v").expect("v is a filter");

    let header_iter: &[u8] = if flags & 8 != 0 { b"2" } else { b"1" };
    loadchunk(&store, b"k", header_iter, header);

    for (iter, chunk) in framed {
        loadchunk(&store, b"k", iter.as_bytes(), chunk);
        if flags & 2 != 0 {
            let reply = loadchunk(&store, b"s", iter.as_bytes(), chunk);
            assert!(reply.is_error());
        }
        if flags & 4 != 0 {
            let before = dump(&store, b"v");
            if loadchunk(&store, b"v", iter.as_bytes(), chunk).is_error() {
                assert_eq!(
                    dump(&store, b"v"),
                    before,
                    "a rejected chunk changed the filter"
                );
            } else {
                // Data chunks never change the header.
                let after = dump(&store, b"v").expect("v is a filter");
                assert_eq!(after[0], valid[0]);
            }
        }
    }
    assert_eq!(run(&store, &[b"GET", b"s"]), Reply::bulk("string"));

    if let Some(dumped) = dump(&store, b"k") {
        query_filter(&store, &dumped);
    } else {
        assert_eq!(run(&store, &[b"EXISTS", b"k"]), Reply::Integer(0));
        assert_eq!(run(&store, &[b"BF.EXISTS", b"k", b"x"]), Reply::Integer(0));
        assert_eq!(run(&store, &[b"BF.CARD", b"k"]), Reply::Integer(0));
    }
    sketchstore::types::bloom::fuzz_loadchunk(&data[1..]);
}

/// Queries a loaded filter `k`: it dumps and reloads identically, answers like its copy, and
/// BF.ADD / BF.MADD / BF.EXISTS agree with each other within the budget.
fn query_filter(store: &Store, dumped: &[(i64, Vec<u8>)]) {
    let before = info(store, b"k");
    assert!(matches!(run(store, &[b"BF.DEBUG", b"k"]), Reply::Array(_)));
    for (iter, chunk) in dumped {
        let reply = loadchunk(store, b"copy", iter.to_string().as_bytes(), chunk);
        assert_eq!(reply, Reply::ok(), "reloading a dump");
    }
    assert_eq!(info(store, b"copy"), before);
    for i in 0u32..128 {
        let item = i.to_le_bytes();
        assert_eq!(
            run(store, &[b"BF.EXISTS", b"copy", &item]),
            run(store, &[b"BF.EXISTS", b"k", &item])
        );
    }
    assert_eq!(dump(store, b"copy").as_deref(), Some(dumped));

    for i in 0u32..48 {
        let item = i.to_le_bytes();
        let was = int(&run(store, &[b"BF.EXISTS", b"k", &item])) == 1;
        match run(store, &[b"BF.ADD", b"k", &item]) {
            Reply::Integer(1) => assert!(!was),
            Reply::Integer(0) => assert!(was),
            Reply::Error(e) => {
                assert!(!was);
                assert!(
                    e == "ERR non scaling filter is full"
                        || e == "ERR problem inserting into filter",
                    "{e}"
                );
            }
            other => panic!("BF.ADD replied {other:?}"),
        }
        let now = int(&run(store, &[b"BF.EXISTS", b"k", &item])) == 1;
        assert!(now || !was, "an item disappeared");
        info(store, b"k");
    }
    let items: Vec<[u8; 4]> = (100u32..140).map(u32::to_le_bytes).collect();
    let mut argv: Vec<&[u8]> = vec![b"BF.MADD", b"k"];
    argv.extend(items.iter().map(|i| &i[..]));
    let Reply::Array(results) = run(store, &argv) else {
        panic!("BF.MADD of a filter is not an array");
    };
    assert!(!results.is_empty() && results.len() <= items.len());
    argv[0] = b"BF.MEXISTS";
    let Reply::Array(found) = run(store, &argv) else {
        panic!("BF.MEXISTS is not an array");
    };
    for (added, found) in results.iter().zip(&found) {
        if *added == Reply::Integer(1) {
            assert_eq!(*found, Reply::Integer(1), "added but not found");
        }
    }
    info(store, b"k");
    assert!(dump(store, b"k").is_some());
}

/// Seed inputs: dumps of filters of several shapes in the target's format, and the same with
/// each flag.
pub fn seed_inputs() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let shapes: &[(&str, &str, &[&str], usize)] = &[
        ("0.1", "10", &[], 1),
        ("0.01", "100", &[], 300),
        ("0.01", "4", &["EXPANSION", "1"], 40),
        ("0.05", "3", &["NONSCALING"], 3),
        ("0.001", "50", &["EXPANSION", "3"], 500),
    ];
    for (shape, (error, capacity, extra, adds)) in shapes.iter().enumerate() {
        let store = Store::new();
        let mut argv: Vec<&str> = vec!["BF.RESERVE", "src", error, capacity];
        argv.extend_from_slice(extra);
        assert_eq!(store.execute(&argv), Reply::ok());
        for i in 0..*adds as u32 {
            store.bf_add("src", i.to_be_bytes()).ok();
        }
        let pairs = dump(&store, b"src").expect("filter");
        let mut body = (pairs[0].1.len() as u16).to_le_bytes().to_vec();
        body.extend_from_slice(&pairs[0].1);
        for (iter, chunk) in &pairs[1..] {
            body.extend_from_slice(&iter.to_le_bytes());
            body.extend_from_slice(&(chunk.len() as u16).to_le_bytes());
            body.extend_from_slice(chunk);
        }
        let flags = [0u8, 1, 2, 4, 8, 6][shape % 6];
        out.push([&[0u8][..], &body].concat());
        out.push([&[flags | 4][..], &body].concat());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_run() {
        for seed in seed_inputs() {
            run_loadchunk(&seed);
        }
    }

    #[test]
    fn seed_corpus_runs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/loadchunk");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("seed corpus") {
            run_loadchunk(&std::fs::read(entry.expect("entry").path()).expect("seed"));
            n += 1;
        }
        assert!(n >= 5, "seed corpus has {n} files");
    }

    #[test]
    fn mutated_inputs_run() {
        // xorshift: bit flips, truncations and garbage over the seeds.
        let mut s: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let seeds = seed_inputs();
        for round in 0..300 {
            let mut data = seeds[round % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % data.len();
                data[at] ^= 1 << (next() % 8);
            }
            if round % 3 == 0 {
                let at = (next() as usize) % data.len();
                data.truncate(at);
            }
            run_loadchunk(&data);
        }
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            run_loadchunk(&data);
        }
    }

    /// Regenerates `corpus/loadchunk` from [`seed_inputs`]:
    /// `cargo test --lib -- --ignored write_seed_corpus` from `fuzz/`.
    #[test]
    #[ignore = "writes the seed corpus, not a check; run by hand with --ignored"]
    fn write_seed_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/loadchunk");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (i, seed) in seed_inputs().iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), seed).expect("write");
        }
    }
}
