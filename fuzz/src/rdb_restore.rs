//! The body of the `rdb_restore` target: arbitrary bytes through
//! `sketchstore::types::rdb::restore_payload`, twice: as given (so the footer checks are
//! fuzzed too) and as a payload body with a valid version and CRC64 appended (so the value
//! decoders are reached at all). Whatever decodes must encode and decode back to itself.

use sketchstore::types::rdb::{crc64, dump_payload, restore_payload, DumpConfig, RdbValue};

/// `body`, then RDB version 10 and the CRC64 of both, as a DUMP payload ends.
pub fn with_footer(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn canonical(v: RdbValue) -> RdbValue {
    match v {
        // A set's members come back ascending when they turn into an intset.
        RdbValue::Set(mut m) => {
            m.sort();
            RdbValue::Set(m)
        }
        other => other,
    }
}

/// The `rdb_restore` target. Panics on a bug: a decoded value that does not survive its
/// own re-encoding.
pub fn run_rdb_restore(data: &[u8]) {
    for payload in [data.to_vec(), with_footer(data)] {
        if let Ok(value) = restore_payload(&payload) {
            let again = restore_payload(&dump_payload(&value, &DumpConfig::default()))
                .expect("a re-encoded value decodes");
            assert_eq!(canonical(again), canonical(value));
        }
    }
}

/// Payload bodies (footer left off) of each type and encoding, to seed the corpus.
pub fn seed_inputs() -> Vec<Vec<u8>> {
    let b = |s: &str| s.as_bytes().to_vec();
    let values = [
        RdbValue::String(b("hello")),
        RdbValue::String(b("-300")),
        RdbValue::String(vec![b'a'; 64]),
        RdbValue::List(vec![b("a"), b("17"), b("-70000"), vec![b'q'; 40]]),
        RdbValue::Set(vec![b("1"), b("2"), b("70000")]),
        RdbValue::Set(vec![b("x"), b("y")]),
        RdbValue::Hash(vec![(b("f"), b("v")), (b("n"), b("5"))]),
        RdbValue::Hash(vec![(b("f"), vec![b'v'; 70])]),
        RdbValue::SortedSet(vec![(b("a"), 1.0), (b("b"), 2.5)]),
        RdbValue::SortedSet(vec![(vec![b'm'; 70], -1.0)]),
    ];
    values
        .iter()
        .map(|v| {
            let p = dump_payload(v, &DumpConfig::default());
            p[..p.len() - 10].to_vec()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_decode_and_run() {
        for seed in seed_inputs() {
            assert!(restore_payload(&with_footer(&seed)).is_ok());
            run_rdb_restore(&seed);
        }
    }

    #[test]
    fn seed_corpus_runs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rdb_restore");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("seed corpus") {
            run_rdb_restore(&std::fs::read(entry.expect("entry").path()).expect("seed"));
            n += 1;
        }
        assert!(n >= 5, "seed corpus has {n} files");
    }

    #[test]
    fn mutated_inputs_run() {
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let seeds = seed_inputs();
        for round in 0..3000 {
            let mut data = seeds[round % seeds.len()].clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % data.len();
                data[at] ^= 1 << (next() % 8);
            }
            if round % 4 == 0 {
                let at = (next() as usize) % data.len();
                data.truncate(at);
            }
            run_rdb_restore(&data);
        }
    }

    /// Regenerates `corpus/rdb_restore` from [`seed_inputs`]:
    /// `cargo test --lib -- --ignored write_rdb_seed_corpus` from `fuzz/`.
    #[test]
    #[ignore = "writes the seed corpus, not a check; run by hand with --ignored"]
    fn write_rdb_seed_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/rdb_restore");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (i, seed) in seed_inputs().iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), seed).expect("write");
        }
    }
}
