//! `TOPK.*` and `TDIGEST.*` through the store (argv level) against a real redis-server with
//! RedisBloom 2.8: argument and key vectors in RESP2 and RESP3, WATCH behaviour, and seeded
//! streams (the type-level parity test's generators) whose every reply must be identical.
//! Top-k streams use decay 1 (every decay certain, so no random draw decides anything) or
//! compare only the final list on skewed streams, where the heavy items agree.

mod common;

use common::cluster::redisbloom_module;
use common::streams::{item_name, stream, Zipf};
use common::{lines_match, same, words, RedisServer, RespConn};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::Store;

fn server() -> (RedisServer, RespConn) {
    let module = redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let conn = server.conn();
    (server, conn)
}

/// Command lines run in order on both sides. They reach every argument check, key check
/// and reply shape of the two families.
const VECTORS: &[&str] = &[
    "SET s 1",
    // ---- TOPK.RESERVE: counts, key first (any type "exists"), then k, width, depth, decay.
    "TOPK.RESERVE",
    "TOPK.RESERVE t",
    "TOPK.RESERVE t 3 8",
    "TOPK.RESERVE t 3 8 7",
    "TOPK.RESERVE t 3 8 7 0.9 x",
    "TOPK.RESERVE s 3",
    "TOPK.RESERVE u 0",
    "TOPK.RESERVE u x",
    "TOPK.RESERVE u 1.5",
    "TOPK.RESERVE u -1 8 7 0.9",
    "TOPK.RESERVE u 2 0 1 0.5",
    "TOPK.RESERVE u 2 x 1 0.5",
    "TOPK.RESERVE u 2 1 0 0.5",
    "TOPK.RESERVE u 2 1 x 0.5",
    "TOPK.RESERVE u 2 1 1 0",
    "TOPK.RESERVE u 2 1 1 1.5",
    "TOPK.RESERVE u 2 1 1 x",
    "TOPK.RESERVE u 2 1 1 nan",
    "TOPK.RESERVE t 3 8 7 1",
    "TOPK.RESERVE t 3",
    "TOPK.RESERVE t x",
    "TOPK.RESERVE d5 3",
    "TOPK.INFO d5",
    // ---- TOPK.ADD / INCRBY.
    "TOPK.ADD",
    "TOPK.ADD t",
    "TOPK.ADD nokey a",
    "TOPK.ADD s a",
    "TOPK.ADD t a b c d a",
    "TOPK.ADD t a e",
    "TOPK.INCRBY t",
    "TOPK.INCRBY t a",
    "TOPK.INCRBY t a 1 b",
    "TOPK.INCRBY nokey a -1",
    "TOPK.INCRBY s a 1",
    "TOPK.INCRBY t a -1",
    "TOPK.INCRBY t a 100001",
    "TOPK.INCRBY t a x",
    "TOPK.INCRBY t a 1.5",
    "TOPK.INCRBY t a 3 x 2",
    "TOPK.INCRBY t x 0",
    "TOPK.INCRBY t y 100000",
    // ---- reads.
    "TOPK.QUERY t",
    "TOPK.QUERY t a zz y",
    "TOPK.QUERY nokey a",
    "TOPK.QUERY s a",
    "TOPK.COUNT t",
    "TOPK.COUNT t a zz y",
    "TOPK.COUNT nokey a",
    "TOPK.COUNT s a",
    "TOPK.LIST",
    "TOPK.LIST t",
    "TOPK.LIST t WITHCOUNT",
    "TOPK.LIST t withcount",
    "TOPK.LIST t foo",
    "TOPK.LIST nokey foo",
    "TOPK.LIST t withcount x",
    "TOPK.LIST nokey",
    "TOPK.LIST s",
    "TOPK.INFO",
    "TOPK.INFO t",
    "TOPK.INFO t x",
    "TOPK.INFO nokey",
    "TOPK.INFO s",
    "TYPE t",
    // ---- TDIGEST.CREATE.
    "TDIGEST.CREATE",
    "TDIGEST.CREATE d compression",
    "TDIGEST.CREATE d compression 10 x",
    "TDIGEST.CREATE d7 foo",
    "TDIGEST.CREATE d7 foo 1",
    "TDIGEST.CREATE s",
    "TDIGEST.CREATE s compression x",
    "TDIGEST.CREATE d6 compression -5",
    "TDIGEST.CREATE d6 compression 0",
    "TDIGEST.CREATE d6 compression x",
    "TDIGEST.CREATE d",
    "TDIGEST.CREATE d",
    "TDIGEST.CREATE d compression x",
    "TDIGEST.CREATE e COMPRESSION 50",
    "TDIGEST.CREATE t",
    "TYPE d",
    // ---- empty digest reads.
    "TDIGEST.MIN d",
    "TDIGEST.MAX d",
    "TDIGEST.QUANTILE d 0.5",
    "TDIGEST.CDF d 1",
    "TDIGEST.RANK d 1",
    "TDIGEST.REVRANK d 1",
    "TDIGEST.BYRANK d 0 1",
    "TDIGEST.BYREVRANK d 0 1",
    "TDIGEST.TRIMMED_MEAN d 0.1 0.9",
    "TDIGEST.INFO d",
    // ---- TDIGEST.ADD.
    "TDIGEST.ADD",
    "TDIGEST.ADD d",
    "TDIGEST.ADD nokey 1",
    "TDIGEST.ADD nokey x",
    "TDIGEST.ADD s x",
    "TDIGEST.ADD d 1 x inf",
    "TDIGEST.ADD d 1 inf x",
    "TDIGEST.ADD d nan",
    "TDIGEST.ADD d -inf",
    "TDIGEST.ADD d 1",
    "TDIGEST.QUANTILE d 0 0.5 1",
    "TDIGEST.RANK d 1 0 2",
    "TDIGEST.BYRANK d 0 1",
    "TDIGEST.ADD d 2 3 4 5 0x10 1e3 -2.5",
    "TDIGEST.INFO d",
    // ---- reads, parse and range errors in order.
    "TDIGEST.MIN d",
    "TDIGEST.MAX d",
    "TDIGEST.MIN d x",
    "TDIGEST.MIN nokey",
    "TDIGEST.MIN s",
    "TDIGEST.MAX",
    "TDIGEST.QUANTILE d",
    "TDIGEST.QUANTILE nokey x",
    "TDIGEST.QUANTILE s 2",
    "TDIGEST.QUANTILE d 0.5 x",
    "TDIGEST.QUANTILE d 0.5 1.5 x",
    "TDIGEST.QUANTILE d 1.5 x",
    "TDIGEST.QUANTILE d 0.1 0.9 0.5 0 1 0.25",
    "TDIGEST.CDF d",
    "TDIGEST.CDF nokey x",
    "TDIGEST.CDF d nan",
    "TDIGEST.CDF d x",
    "TDIGEST.CDF d inf -inf 3 2.5 -100",
    "TDIGEST.RANK d nan",
    "TDIGEST.RANK d 1 nan",
    "TDIGEST.RANK d inf -inf 3 2.5",
    "TDIGEST.REVRANK d inf -inf 3 2.5",
    "TDIGEST.RANK nokey x",
    "TDIGEST.BYRANK d 1.5",
    "TDIGEST.BYRANK d 99999999999999999999",
    "TDIGEST.BYRANK d -1 x",
    "TDIGEST.BYRANK d x -1",
    "TDIGEST.BYRANK d 0 1 2 7 8 100",
    "TDIGEST.BYREVRANK d 0 1 2 7 8 100",
    "TDIGEST.BYRANK nokey -1",
    "TDIGEST.TRIMMED_MEAN d 0.1",
    "TDIGEST.TRIMMED_MEAN d 0.1 0.5 1",
    "TDIGEST.TRIMMED_MEAN nokey x 1",
    "TDIGEST.TRIMMED_MEAN s 0 2",
    "TDIGEST.TRIMMED_MEAN d x 1",
    "TDIGEST.TRIMMED_MEAN d 2 x",
    "TDIGEST.TRIMMED_MEAN d nan 0.5",
    "TDIGEST.TRIMMED_MEAN d 0.5 0.5",
    "TDIGEST.TRIMMED_MEAN d 0.6 0.5",
    "TDIGEST.TRIMMED_MEAN d -0.1 0.5",
    "TDIGEST.TRIMMED_MEAN d 0.5 1.5",
    "TDIGEST.TRIMMED_MEAN d 0.1 0.9",
    "TDIGEST.TRIMMED_MEAN d 0 1",
    "TDIGEST.INFO",
    "TDIGEST.INFO d x",
    "TDIGEST.INFO nokey",
    "TDIGEST.INFO s",
    // ---- TDIGEST.MERGE.
    "TDIGEST.MERGE",
    "TDIGEST.MERGE m",
    "TDIGEST.MERGE m 1",
    "TDIGEST.MERGE m 2 d",
    "TDIGEST.MERGE m 99999999999 d",
    "TDIGEST.MERGE m x d",
    "TDIGEST.MERGE m 0 d",
    "TDIGEST.MERGE m -1 d",
    "TDIGEST.MERGE m 1 d e",
    "TDIGEST.MERGE m 1 d compression",
    "TDIGEST.MERGE m 1 d compression x",
    "TDIGEST.MERGE m 1 d compression 0",
    "TDIGEST.MERGE m 1 d foo",
    "TDIGEST.MERGE m 1 nokey compression x",
    "TDIGEST.MERGE m 1 nokey",
    "TDIGEST.MERGE m 1 s",
    "TDIGEST.MERGE s 1 d",
    "TDIGEST.MERGE s 1 d override",
    "TDIGEST.MERGE m 2 d nokey",
    "TDIGEST.MERGE m 2 d s",
    "EXISTS m",
    "TDIGEST.MERGE m 1 d",
    "TDIGEST.INFO m",
    "TDIGEST.MERGE m 2 d m",
    "TDIGEST.INFO m",
    "TDIGEST.QUANTILE m 0.5",
    "TDIGEST.MERGE e 1 d",
    "TDIGEST.INFO e",
    "TDIGEST.MERGE e 1 d override",
    "TDIGEST.INFO e",
    "TDIGEST.MERGE e 1 d compression 50 override",
    "TDIGEST.INFO e",
    "TDIGEST.MERGE e 2 d e OVERRIDE COMPRESSION 70",
    "TDIGEST.INFO e",
    "TDIGEST.MERGE d 1 d",
    "TDIGEST.INFO d",
    // ---- TDIGEST.RESET.
    "TDIGEST.RESET",
    "TDIGEST.RESET d x",
    "TDIGEST.RESET nokey",
    "TDIGEST.RESET s",
    "TDIGEST.RESET d",
    "TDIGEST.INFO d",
    "TDIGEST.MIN d",
    // ---- other types' commands on the sketches.
    "GET t",
    "LPUSH d x",
    "BF.ADD t x",
    "PFADD d x",
];

#[test]
fn argument_vectors_match_redisbloom_resp2() {
    let (_server, mut redis) = server();
    lines_match(&mut redis, VECTORS, false);
}

#[test]
fn argument_vectors_match_redisbloom_resp3() {
    let (_server, mut redis) = server();
    lines_match(&mut redis, VECTORS, true);
}

/// Arity errors are answered when the transaction runs (the rows have arity -1, as
/// RedisBloom's).
#[test]
fn arity_errors_inside_multi_match() {
    let (_server, mut redis) = server();
    lines_match(
        &mut redis,
        &[
            "MULTI",
            "TOPK.ADD k",
            "TDIGEST.CREATE",
            "TOPK.RESERVE k 2",
            "TOPK.ADD k a",
            "TDIGEST.CREATE d",
            "TDIGEST.ADD d 1 2",
            "TDIGEST.TRIMMED_MEAN d 0.1",
            "EXEC",
        ],
        false,
    );
}

/// Which commands abort a transaction WATCHing their key: writes signal once they open
/// their key, errors included; reads never (although t-digest reads compress).
#[test]
fn watch_matches_redisbloom() {
    let (server, mut redis_b) = server();
    let store = Store::new();
    for setup in ["TOPK.RESERVE t 2", "TDIGEST.CREATE d", "TDIGEST.ADD d 1 2"] {
        same(&store, &mut redis_b, &words(setup));
    }
    let cases = [
        ("t", "TOPK.QUERY t x"),
        ("t", "TOPK.COUNT t x"),
        ("t", "TOPK.LIST t"),
        ("t", "TOPK.INFO t"),
        ("t", "TOPK.ADD t x"),
        ("n", "TOPK.ADD n x"),
        ("t", "TOPK.INCRBY t x -1"),
        ("t", "TOPK.RESERVE t 2"),
        ("d", "TDIGEST.MIN d"),
        ("d", "TDIGEST.QUANTILE d 0.5"),
        ("d", "TDIGEST.INFO d"),
        ("d", "TDIGEST.ADD d x"),
        ("d", "TDIGEST.CREATE d"),
        ("d", "TDIGEST.RESET d"),
        ("d", "TDIGEST.MERGE e 1 d"),
        ("e", "TDIGEST.MERGE e 1 d"),
        ("n", "TDIGEST.MERGE n 1 zz"),
    ];
    for (key, line) in cases {
        let mut ours = store.connection();
        let mut theirs = server.conn();
        let watch = words(&format!("WATCH {key}"));
        ours.execute(&watch);
        theirs.cmd(&watch);
        same(&store, &mut redis_b, &words(line));
        for step in ["MULTI", "PING"] {
            ours.execute(&words(step));
            theirs.cmd(&words(step));
        }
        let exec = words("EXEC");
        assert_eq!(
            ours.execute(&exec),
            theirs.cmd(&exec),
            "WATCH {key}; {line}"
        );
    }
}

fn num(v: f64) -> String {
    format!("{v:?}")
}

fn argv(parts: &[String]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Seeded t-digest streams: adds in batches interleaved with every read, merges and resets;
/// every reply identical.
#[test]
fn tdigest_streams_match_redisbloom() {
    let (_server, mut redis) = server();
    let store = Store::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x7d16);
    for (case, &(compression, kind, n)) in [
        (100i64, 0u32, 3000usize),
        (50, 1, 2000),
        (20, 2, 1500),
        (100, 3, 1200),
        (35, 4, 900),
        (400, 5, 2500),
        (10, 6, 700),
    ]
    .iter()
    .enumerate()
    {
        let key = format!("td{case}");
        let c = compression.to_string();
        same(
            &store,
            &mut redis,
            &argv(&[
                "TDIGEST.CREATE".into(),
                key.clone(),
                "COMPRESSION".into(),
                c,
            ]),
        );
        let values = stream(kind, n, &mut rng);
        let mut at = 0;
        while at < values.len() {
            let batch = 1 + (rng.next_u32() % 200) as usize;
            let end = (at + batch).min(values.len());
            let mut cmd = vec!["TDIGEST.ADD".to_owned(), key.clone()];
            cmd.extend(values[at..end].iter().map(|&v| num(v)));
            same(&store, &mut redis, &argv(&cmd));
            at = end;
            let q = |rng: &mut ChaCha8Rng| num(f64::from(rng.next_u32() % 1001) / 1000.0);
            let v = |rng: &mut ChaCha8Rng| num(values[rng.next_u32() as usize % values.len()]);
            let pick = rng.next_u32() % 8;
            let read: Vec<String> = match pick {
                0 => vec![
                    "TDIGEST.QUANTILE".into(),
                    key.clone(),
                    q(&mut rng),
                    q(&mut rng),
                ],
                1 => vec!["TDIGEST.CDF".into(), key.clone(), v(&mut rng), v(&mut rng)],
                2 => vec!["TDIGEST.RANK".into(), key.clone(), v(&mut rng), v(&mut rng)],
                3 => vec!["TDIGEST.REVRANK".into(), key.clone(), v(&mut rng)],
                4 => {
                    let r = (rng.next_u32() as usize % (end + 2)).to_string();
                    vec!["TDIGEST.BYRANK".into(), key.clone(), r, "0".into()]
                }
                5 => {
                    let r = (rng.next_u32() as usize % (end + 2)).to_string();
                    vec!["TDIGEST.BYREVRANK".into(), key.clone(), r]
                }
                6 => vec![
                    "TDIGEST.TRIMMED_MEAN".into(),
                    key.clone(),
                    "0.1".into(),
                    "0.85".into(),
                ],
                _ => vec!["TDIGEST.INFO".into(), key.clone()],
            };
            same(&store, &mut redis, &argv(&read));
        }
        for read in [
            "TDIGEST.MIN",
            "TDIGEST.MAX",
            "TDIGEST.INFO",
            "TDIGEST.QUANTILE 0 0.001 0.01 0.25 0.5 0.75 0.99 0.999 1",
        ] {
            let mut parts = read.split(' ');
            let mut cmd: Vec<String> =
                vec![parts.next().unwrap_or_default().to_owned(), key.clone()];
            cmd.extend(parts.map(str::to_owned));
            same(&store, &mut redis, &argv(&cmd));
        }
    }
    for line in [
        "TDIGEST.MERGE all 3 td0 td1 td2",
        "TDIGEST.INFO all",
        "TDIGEST.QUANTILE all 0.1 0.5 0.9",
        "TDIGEST.MERGE all 2 td3 td4 COMPRESSION 60",
        "TDIGEST.INFO all",
        "TDIGEST.MERGE all 2 td5 td6 OVERRIDE",
        "TDIGEST.INFO all",
        "TDIGEST.CDF all 0 1 7",
        "TDIGEST.INFO td5",
        "TDIGEST.RESET td0",
        "TDIGEST.INFO td0",
        "TDIGEST.ADD td0 1 2 3",
        "TDIGEST.QUANTILE td0 0.5",
    ] {
        same(&store, &mut redis, &words(line));
    }
}

/// Top-k with decay 1 on skewed and narrow sketches: every ADD and INCRBY reply (expelled
/// items), and the final counts, queries and lists, identical.
#[test]
fn topk_streams_without_decay_match_redisbloom() {
    let (_server, mut redis) = server();
    let store = Store::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x70bd);
    for (case, &(k, width, depth)) in [(5i64, 8i64, 3i64), (10, 50, 4), (3, 2, 7)]
        .iter()
        .enumerate()
    {
        let key = format!("tk{case}");
        let reserve = format!("TOPK.RESERVE {key} {k} {width} {depth} 1");
        same(&store, &mut redis, &words(&reserve));
        let zipf = Zipf::new(300, 1.1);
        for step in 0..1500 {
            let item = item_name(zipf.sample(&mut rng));
            let cmd = if step % 5 == 3 {
                let item2 = item_name(zipf.sample(&mut rng));
                let (a, b) = (rng.next_u32() % 5, rng.next_u32() % 5);
                format!("TOPK.INCRBY {key} {item} {a} {item2} {b}")
            } else if step % 5 == 1 {
                let item2 = item_name(zipf.sample(&mut rng));
                format!("TOPK.ADD {key} {item} {item2}")
            } else {
                format!("TOPK.ADD {key} {item}")
            };
            same(&store, &mut redis, &words(&cmd));
        }
        let names: Vec<String> = (0..300).map(item_name).collect();
        for cmd in ["TOPK.COUNT", "TOPK.QUERY"] {
            let mut parts = vec![cmd.to_owned(), key.clone()];
            parts.extend(names.iter().cloned());
            same(&store, &mut redis, &argv(&parts));
        }
        same(
            &store,
            &mut redis,
            &words(&format!("TOPK.LIST {key} WITHCOUNT")),
        );
        same(&store, &mut redis, &words(&format!("TOPK.LIST {key}")));
        same(&store, &mut redis, &words(&format!("TOPK.INFO {key}")));
    }
}

/// Top-k with RedisBloom's recommended decay on skewed streams: the random draws differ,
/// yet the final lists agree (their counts may differ by a decay or two).
#[test]
fn topk_skewed_lists_match_redisbloom_with_decay() {
    let (_server, mut redis) = server();
    let store = Store::new();
    for seed in 0..2u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let key = format!("zipf{seed}");
        same(
            &store,
            &mut redis,
            &words(&format!("TOPK.RESERVE {key} 10 200 7 0.9")),
        );
        let zipf = Zipf::new(2000, 1.2);
        let mut batch = vec!["TOPK.ADD".to_owned(), key.clone()];
        for _ in 0..20_000 {
            batch.push(item_name(zipf.sample(&mut rng)));
            if batch.len() == 502 {
                store.execute(&argv(&batch));
                redis.cmd(&batch);
                batch.truncate(2);
            }
        }
        same(&store, &mut redis, &words(&format!("TOPK.LIST {key}")));
    }
}

/// Items with NUL bytes: stored whole, replied up to the NUL, as RedisBloom does.
#[test]
fn topk_items_with_nul_match_redisbloom() {
    let (_server, mut redis) = server();
    let store = Store::new();
    let lines: [&[&[u8]]; 6] = [
        &[b"TOPK.RESERVE", b"n", b"1", b"8", b"7", b"1"],
        &[b"TOPK.ADD", b"n", b"x\0y"],
        &[b"TOPK.ADD", b"n", b"other", b"x\0y"],
        &[b"TOPK.ADD", b"n", b"x"],
        &[b"TOPK.QUERY", b"n", b"x\0y", b"x", b"other"],
        &[b"TOPK.LIST", b"n", b"WITHCOUNT"],
    ];
    for parts in lines {
        let argv: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
        same(&store, &mut redis, &argv);
    }
}
