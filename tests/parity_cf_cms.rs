//! `CF.*` and `CMS.*` through the store against a real redis-server with RedisBloom 2.8:
//! argument-error vectors in RESP2 and RESP3, and seeded random command streams whose every
//! reply must be identical, `CF.SCANDUMP` chunks byte for byte, with dumps loaded both ways.

mod common;

use common::cluster::redisbloom_module;
use common::{lines_match, same, words, RedisServer, RespConn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

fn server() -> (RedisServer, RespConn) {
    let module = redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let conn = server.conn();
    (server, conn)
}

/// Command lines run in order on both sides (`''` is an empty argument). They reach every
/// argument check, key check and reply shape of the two families.
const VECTORS: &[&str] = &[
    // ---- CF.RESERVE: counts, parse and range errors in RedisBloom's order.
    "CF.RESERVE",
    "CF.RESERVE c",
    "CF.RESERVE c 10 BUCKETSIZE",
    "CF.RESERVE c 10 BUCKETSIZE 2 MAXITERATIONS",
    "CF.RESERVE c 10 BUCKETSIZE 2 MAXITERATIONS 20 EXPANSION 1 x",
    "CF.RESERVE c abc",
    "CF.RESERVE c 1.5",
    "CF.RESERVE c 3",
    "CF.RESERVE c -5",
    "CF.RESERVE c 10 MAXITERATIONS x",
    "CF.RESERVE c 10 MAXITERATIONS 0",
    "CF.RESERVE c 10 MAXITERATIONS 65536",
    "CF.RESERVE c 10 BUCKETSIZE x",
    "CF.RESERVE c 10 BUCKETSIZE 0",
    "CF.RESERVE c 10 BUCKETSIZE 256",
    "CF.RESERVE c 10 EXPANSION x",
    "CF.RESERVE c 10 EXPANSION -1",
    "CF.RESERVE c 10 EXPANSION 32769",
    "CF.RESERVE c 10 BUCKETSIZE 0 MAXITERATIONS 0",
    "CF.RESERVE c 10 EXPANSION 99999 BUCKETSIZE 999",
    "CF.RESERVE c 7 BUCKETSIZE 4",
    "CF.RESERVE c 8 BUCKETSIZE 4 MAXITERATIONS 5 EXPANSION 3",
    "CF.INFO c",
    "CF.DEBUG c",
    "CF.RESERVE c 8",
    "CF.RESERVE c2 100 foo bar",
    "CF.RESERVE c3 100 bucketsize 3 BucketSize 9",
    "CF.INFO c3",
    "CF.RESERVE MAXITERATIONS 10",
    "CF.INFO MAXITERATIONS",
    "CF.RESERVE c4 1000 EXPANSION 0",
    "CF.RESERVE c5 1000 EXPANSION 5",
    "CF.INFO c5",
    "SET s v",
    "CF.RESERVE s 10",
    "HSET h f v",
    // ---- CF.ADD / CF.ADDNX.
    "CF.ADD",
    "CF.ADD c",
    "CF.ADD c a b",
    "CF.ADD c a",
    "CF.ADD c a",
    "CF.ADDNX c a",
    "CF.ADDNX c b",
    "CF.ADDNX c2",
    "CF.ADD s a",
    "CF.ADDNX s a",
    "CF.ADD auto x",
    "CF.INFO auto",
    "CF.ADD '' x",
    "CF.EXISTS '' x",
    // ---- CF.INSERT / CF.INSERTNX.
    "CF.INSERT",
    "CF.INSERT c",
    "CF.INSERT c ITEMS",
    "CF.INSERT c CAPACITY 10",
    "CF.INSERT c CAPACITY",
    "CF.INSERT c CAPACITY 10 ITEMS",
    "CF.INSERT c CAPACITY x ITEMS a",
    "CF.INSERT c CAPACITY 3 ITEMS a",
    "CF.INSERT c CAPACITY -1 ITEMS a",
    "CF.INSERT c FOO ITEMS a",
    "CF.INSERT c '' ITEMS a",
    "CF.INSERT c NOCREATE NOCREATE ITEMS a b",
    "CF.INSERT c cheese 100 nonsense items a items",
    "CF.INSERT nope NOCREATE ITEMS a",
    "CF.INSERTNX nope NOCREATE ITEMS a",
    "CF.INSERT newi CAPACITY 4 ITEMS a b c d e f g h",
    "CF.INFO newi",
    "CF.INSERTNX newi ITEMS a zz a",
    "CF.INSERTNX newnx ITEMS a a",
    "CF.INSERT s ITEMS a",
    "CF.INSERTNX s NOCREATE ITEMS a",
    "CF.INSERT c4 ITEMS 1 2 3 4 5",
    // ---- CF.EXISTS / CF.MEXISTS / CF.COUNT.
    "CF.EXISTS",
    "CF.EXISTS c",
    "CF.EXISTS c a b",
    "CF.EXISTS c a",
    "CF.EXISTS c zzz",
    "CF.EXISTS nope a",
    "CF.EXISTS s a",
    "CF.MEXISTS c",
    "CF.MEXISTS c a b zzz",
    "CF.MEXISTS nope a b",
    "CF.MEXISTS s a",
    "CF.COUNT c",
    "CF.COUNT c a b",
    "CF.COUNT c a",
    "CF.COUNT nope a",
    "CF.COUNT s a",
    // ---- CF.DEL / CF.COMPACT.
    "CF.DEL c",
    "CF.DEL c a b",
    "CF.DEL c a",
    "CF.DEL c zzz",
    "CF.COUNT c a",
    "CF.DEL nope a",
    "CF.DEL s a",
    "CF.COMPACT",
    "CF.COMPACT c x",
    "CF.COMPACT c",
    "CF.COMPACT nope",
    "CF.COMPACT s",
    "CF.INFO c",
    // ---- CF.INFO / CF.DEBUG.
    "CF.INFO",
    "CF.INFO c x",
    "CF.INFO nope",
    "CF.INFO s",
    "CF.DEBUG nope",
    "CF.DEBUG s",
    "CF.DEBUG newi",
    // ---- CF.SCANDUMP / CF.LOADCHUNK.
    "CF.SCANDUMP c",
    "CF.SCANDUMP c 0 1",
    "CF.SCANDUMP c x",
    "CF.SCANDUMP c -1",
    "CF.SCANDUMP nope -1",
    "CF.SCANDUMP nope 0",
    "CF.SCANDUMP s 0",
    "CF.SCANDUMP c 0",
    "CF.SCANDUMP c 1",
    "CF.SCANDUMP c 2",
    "CF.SCANDUMP c 9",
    "CF.SCANDUMP c 10",
    "CF.SCANDUMP c 99999999999",
    "CF.SCANDUMP c2 0",
    "CF.LOADCHUNK c 1",
    "CF.LOADCHUNK c 1 x y",
    "CF.LOADCHUNK c x y",
    "CF.LOADCHUNK c 0 y",
    "CF.LOADCHUNK c 1 y",
    "CF.LOADCHUNK s 1 y",
    "CF.LOADCHUNK s 5 y",
    "CF.LOADCHUNK nope 5 y",
    "CF.LOADCHUNK nope 1 short",
    "CF.LOADCHUNK nope -3 y",
    "CF.LOADCHUNK c 2 y",
    "CF.LOADCHUNK c 3 y",
    "CF.LOADCHUNK c -3 y",
    "CF.LOADCHUNK c 4 abc",
    "CF.LOADCHUNK c 9 12345678",
    "CF.LOADCHUNK c 10 12345678",
    "CF.LOADCHUNK c 100 12345678",
    "CF.EXISTS c a",
    // ---- types and generic commands on both kinds.
    "TYPE c",
    "TYPE m",
    // ---- CMS.INITBYDIM / CMS.INITBYPROB.
    "CMS.INITBYDIM",
    "CMS.INITBYDIM m 10",
    "CMS.INITBYDIM m 10 2 3",
    "CMS.INITBYDIM m x 2",
    "CMS.INITBYDIM m 0 x",
    "CMS.INITBYDIM m 10 x",
    "CMS.INITBYDIM m 10 0",
    "CMS.INITBYDIM m -1 -1",
    "CMS.INITBYDIM s x x",
    "CMS.INITBYDIM c 10 2",
    "CMS.INITBYDIM m 10 3",
    "CMS.INITBYDIM m 10 3",
    "CMS.INFO m",
    "TYPE m",
    "CMS.INITBYPROB p 0.01",
    "CMS.INITBYPROB p x 0.1",
    "CMS.INITBYPROB p 0 0.1",
    "CMS.INITBYPROB p 1 0.1",
    "CMS.INITBYPROB p 0.1 x",
    "CMS.INITBYPROB p 0.1 1",
    "CMS.INITBYPROB p 0.1 -0.5",
    "CMS.INITBYPROB p nan 0.1",
    "CMS.INITBYPROB p inf 0.1",
    "CMS.INITBYPROB p 0.01 0.001",
    "CMS.INFO p",
    "CMS.INITBYPROB p2 .5 5e-1",
    "CMS.INFO p2",
    "CMS.INITBYPROB m 0.1 0.1",
    "CMS.INITBYPROB s 0.1 0.1",
    // ---- CMS.INCRBY.
    "CMS.INCRBY",
    "CMS.INCRBY m",
    "CMS.INCRBY m a",
    "CMS.INCRBY m a 1 b",
    "CMS.INCRBY nope a 1",
    "CMS.INCRBY s a 1",
    "CMS.INCRBY nope a x",
    "CMS.INCRBY m a x",
    "CMS.INCRBY m a -1",
    "CMS.INCRBY m a 1 b x",
    "CMS.INCRBY m a -1 b x",
    "CMS.INCRBY m a x b -1",
    "CMS.INCRBY m a 1.5",
    "CMS.INCRBY m a 1 b 2 a 3",
    "CMS.INCRBY m c 4294967295",
    "CMS.INCRBY m c 1",
    "CMS.INCRBY m d 4294967296",
    "CMS.INCRBY m e 9223372036854775807",
    "CMS.INCRBY m e 9223372036854775808",
    "CMS.INFO m",
    // ---- CMS.QUERY.
    "CMS.QUERY",
    "CMS.QUERY m",
    "CMS.QUERY nope a",
    "CMS.QUERY s a",
    "CMS.QUERY m a b c d e zzz",
    // ---- CMS.MERGE.
    "CMS.INITBYDIM m2 10 3",
    "CMS.INITBYDIM m3 10 3",
    "CMS.INITBYDIM odd 11 3",
    "CMS.INCRBY m2 a 5 b 7",
    "CMS.INCRBY m3 a 1 z 9",
    "CMS.MERGE",
    "CMS.MERGE m",
    "CMS.MERGE m 1",
    "CMS.MERGE nope 1 m2",
    "CMS.MERGE s 1 m2",
    "CMS.MERGE nope x m2",
    "CMS.MERGE m x m2",
    "CMS.MERGE m 1.0 m2",
    "CMS.MERGE m 2 m2",
    "CMS.MERGE m 1 m2 m3",
    "CMS.MERGE m 0 m2",
    "CMS.MERGE m -1 m2",
    "CMS.MERGE m 1 nope",
    "CMS.MERGE m 1 s",
    "CMS.MERGE m 1 odd",
    "CMS.MERGE m 2 m2 nope",
    "CMS.MERGE m 2 nope odd",
    "CMS.MERGE m 1 m2 WEIGHTS",
    "CMS.MERGE m 1 m2 WEIGHTS 2 3",
    "CMS.MERGE m 2 m2 WEIGHTS 1 2",
    "CMS.MERGE m 1 WEIGHTS m2 2",
    "CMS.MERGE m 1 m2 WEIGHTS x",
    "CMS.MERGE m 2 m2 nope WEIGHTS x 1",
    "CMS.MERGE m 2 m2 nope WEIGHTS 1 x",
    "CMS.MERGE m 2 m2 odd WEIGHTS 1 x",
    "CMS.MERGE m 2 m2 m3 WEIGHTS 2 3",
    "CMS.QUERY m a b z",
    "CMS.INFO m",
    "CMS.MERGE m 2 m m2 weights 2 -1",
    "CMS.QUERY m a b z",
    "CMS.MERGE m 3 m2 m2 m3",
    "CMS.QUERY m a b z",
    "CMS.MERGE m 1 m3 WEIGHTS -5",
    "CMS.MERGE m 1 m3 WEIGHTS 9223372036854775807",
    "CMS.MERGE m 0 WEIGHTS",
    "CMS.INFO m",
    "CMS.QUERY m a b z",
    "CMS.MERGE m 1 weights",
    "CMS.INITBYDIM weights 10 3",
    "CMS.MERGE m 1 weights",
    "CMS.MERGE m 1 weights weights 3",
    "CMS.INFO m",
    // ---- CMS.INFO.
    "CMS.INFO",
    "CMS.INFO m x",
    "CMS.INFO nope",
    "CMS.INFO s",
    // ---- generic commands on both kinds.
    "RENAME c c9",
    "TYPE c9",
    "CF.EXISTS c9 a",
    "RENAME m2 m9",
    "CMS.QUERY m9 a b",
    "EXISTS c9 m9 c m2",
    "DEL c9 m9",
    "EXISTS c9 m9",
    "CF.ADD s2 x",
    "GET s2",
    "INCR s2",
    "LPUSH s2 a",
    "CMS.INITBYDIM l 5 5",
    "HGET l f",
    // A filter that cannot grow fills up: CF.INSERT answers -1 in RESP2 and false in RESP3,
    // CF.INSERTNX -1 in both.
    "CF.RESERVE full 2 BUCKETSIZE 1 MAXITERATIONS 1 EXPANSION 0",
    "CF.INSERT full ITEMS i1 i2 i3 i4 i5 i6",
    "CF.INSERTNX full ITEMS zz yy",
    "CF.INSERT full ITEMS q1 q2",
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

/// Arity errors of the module's commands are answered when the transaction runs, not when
/// queued (the rows have arity -1, as RedisBloom's).
#[test]
fn arity_errors_inside_multi_match() {
    let (_server, mut redis) = server();
    lines_match(
        &mut redis,
        &[
            "MULTI",
            "CF.ADD k",
            "CMS.INCRBY k a",
            "CF.RESERVE k 10 BUCKETSIZE",
            "CF.ADD k a",
            "CMS.INITBYDIM m 2 2",
            "EXEC",
        ],
        false,
    );
}

/// Runs `argv` on both and returns the reply.
fn both(store: &Store, redis: &mut RespConn, parts: &[&[u8]]) -> Reply {
    let argv: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
    same(store, redis, &argv)
}

/// A whole CF.SCANDUMP, checked reply by reply; the `(cursor, chunk)` pairs.
fn dump_both(store: &Store, redis: &mut RespConn, key: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cursor = 0i64;
    loop {
        let c = cursor.to_string();
        let r = both(store, redis, &[b"CF.SCANDUMP", key, c.as_bytes()]);
        match r {
            Reply::Array(parts) => match parts.as_slice() {
                [Reply::Integer(next), Reply::Bulk(data)] => {
                    out.push((*next, data.clone()));
                    cursor = *next;
                }
                [Reply::Integer(0), Reply::Nil] => return out,
                other => panic!("CF.SCANDUMP parts {other:?}"),
            },
            other => panic!("CF.SCANDUMP reply {other:?}"),
        }
    }
}

/// Dumps `key` on both, loads the store's chunks into a module key and the module's into a
/// store key, and checks that both copies dump as the original.
fn cross_load(store: &Store, redis: &mut RespConn, key: &[u8], copy: &[u8]) {
    let chunks = dump_both(store, redis, key);
    both(store, redis, &[b"DEL", copy]);
    for (cursor, chunk) in &chunks {
        let c = cursor.to_string();
        let argv = [b"CF.LOADCHUNK".as_slice(), copy, c.as_bytes(), chunk];
        assert_eq!(store.execute(&argv), Reply::ok());
        assert_eq!(redis.cmd(&argv), Reply::ok());
    }
    if chunks.is_empty() {
        return;
    }
    assert_eq!(
        dump_both(store, redis, copy),
        chunks,
        "copies dump as the original"
    );
    both(store, redis, &[b"CF.INFO", copy]);
}

#[test]
fn cf_streams_match_redisbloom() {
    let (_server, mut redis) = server();
    let store = Store::new();
    // (capacity, bucket size, max iterations, expansion, item pool, operations)
    let cases: [(i64, i64, i64, i64, usize, usize); 5] = [
        (1000, 2, 20, 1, 600, 2500),
        (8, 2, 5, 1, 200, 2500),
        (16, 4, 10, 2, 400, 2500),
        (40, 3, 30, 3, 300, 2000),
        (64, 1, 7, 0, 300, 2500),
    ];
    let mut errors = std::collections::BTreeSet::new();
    for (ci, &(cap, bs, mi, ex, pool, ops)) in cases.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + ci as u64);
        let key = format!("cf:{ci}").into_bytes();
        let copy = format!("copy:{ci}").into_bytes();
        let line =
            format!("CF.RESERVE cf:{ci} {cap} BUCKETSIZE {bs} MAXITERATIONS {mi} EXPANSION {ex}");
        assert_eq!(same(&store, &mut redis, &words(&line)), Reply::ok());
        let items: Vec<Vec<u8>> = (0..pool)
            .map(|i| format!("i{ci}:{i}").into_bytes())
            .collect();
        let pick = |rng: &mut ChaCha8Rng| items.choose(rng).cloned().unwrap_or_default();
        for step in 0..ops {
            let item = pick(&mut rng);
            let r = match rng.gen_range(0..100) {
                0..=29 => both(&store, &mut redis, &[b"CF.ADD", &key, &item]),
                30..=39 => both(&store, &mut redis, &[b"CF.ADDNX", &key, &item]),
                40..=54 => both(&store, &mut redis, &[b"CF.EXISTS", &key, &item]),
                55..=72 => both(&store, &mut redis, &[b"CF.DEL", &key, &item]),
                73..=79 => both(&store, &mut redis, &[b"CF.COUNT", &key, &item]),
                80..=92 => {
                    let name: &[u8] = if rng.gen_bool(0.5) {
                        b"CF.INSERTNX"
                    } else {
                        b"CF.INSERT"
                    };
                    let mut argv = vec![name.to_vec(), key.clone(), b"ITEMS".to_vec()];
                    argv.extend((0..rng.gen_range(1..6)).map(|_| pick(&mut rng)));
                    same(&store, &mut redis, &argv)
                }
                93 => {
                    let mut argv = vec![b"CF.MEXISTS".to_vec(), key.clone()];
                    argv.extend((0..rng.gen_range(1..6)).map(|_| pick(&mut rng)));
                    same(&store, &mut redis, &argv)
                }
                94 => both(&store, &mut redis, &[b"CF.COMPACT", &key]),
                95..=96 => both(&store, &mut redis, &[b"CF.INFO", &key]),
                _ => {
                    let c = rng.gen_range(0..5000).to_string();
                    both(&store, &mut redis, &[b"CF.SCANDUMP", &key, c.as_bytes()])
                }
            };
            let mut note = |r: &Reply| {
                if let Reply::Error(e) = r {
                    errors.insert(e.clone());
                }
            };
            note(&r);
            if let Reply::Array(items) = &r {
                items.iter().for_each(&mut note);
            }
            if step % 700 == 699 {
                cross_load(&store, &mut redis, &key, &copy);
            }
        }
        cross_load(&store, &mut redis, &key, &copy);
    }
    for want in ["Filter is full", "Maximum expansions reached"] {
        assert!(
            errors.contains(want),
            "no stream reached {want:?}: {errors:?}"
        );
    }
}

#[test]
fn cms_streams_match_redisbloom() {
    let (_server, mut redis) = server();
    let store = Store::new();
    let mut errors = std::collections::BTreeSet::new();
    for (seed, (w, d)) in [(20u64, 3u64), (7, 5), (300, 2), (1, 1)]
        .into_iter()
        .enumerate()
    {
        let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
        let keys: Vec<String> = (0..3).map(|k| format!("cms:{seed}:{k}")).collect();
        for k in &keys {
            same(
                &store,
                &mut redis,
                &words(&format!("CMS.INITBYDIM {k} {w} {d}")),
            );
        }
        let items: Vec<String> = (0..60).map(|i| format!("x{i}")).collect();
        for _ in 0..1200 {
            let k = keys.choose(&mut rng).cloned().unwrap_or_default();
            let mut argv: Vec<Vec<u8>>;
            match rng.gen_range(0..100) {
                0..=54 => {
                    argv = vec![b"CMS.INCRBY".to_vec(), k.into_bytes()];
                    for _ in 0..rng.gen_range(1..5) {
                        let v: u64 = match rng.gen_range(0..50) {
                            0 => rng.gen_range(0..=i64::MAX as u64),
                            1 => u64::from(u32::MAX) - rng.gen_range(0..3),
                            2..=4 => rng.gen_range(0..100_000_000),
                            _ => rng.gen_range(0..100),
                        };
                        argv.push(
                            items
                                .choose(&mut rng)
                                .cloned()
                                .unwrap_or_default()
                                .into_bytes(),
                        );
                        argv.push(v.to_string().into_bytes());
                    }
                }
                55..=79 => {
                    argv = vec![b"CMS.QUERY".to_vec(), k.into_bytes()];
                    for _ in 0..rng.gen_range(1..6) {
                        argv.push(
                            items
                                .choose(&mut rng)
                                .cloned()
                                .unwrap_or_default()
                                .into_bytes(),
                        );
                    }
                }
                80..=94 => {
                    let n = rng.gen_range(1..=3);
                    argv = vec![
                        b"CMS.MERGE".to_vec(),
                        k.into_bytes(),
                        n.to_string().into_bytes(),
                    ];
                    for _ in 0..n {
                        argv.push(
                            keys.choose(&mut rng)
                                .cloned()
                                .unwrap_or_default()
                                .into_bytes(),
                        );
                    }
                    if rng.gen_bool(0.7) {
                        argv.push(b"WEIGHTS".to_vec());
                        for _ in 0..n {
                            let wgt: i64 = match rng.gen_range(0..10) {
                                0 => -1,
                                1 => 0,
                                2 => 1 << 40,
                                _ => rng.gen_range(1..4),
                            };
                            argv.push(wgt.to_string().into_bytes());
                        }
                    }
                }
                _ => argv = vec![b"CMS.INFO".to_vec(), k.into_bytes()],
            }
            let r = same(&store, &mut redis, &argv);
            match &r {
                Reply::Error(e) => {
                    errors.insert(e.clone());
                }
                Reply::Array(items) => {
                    for i in items {
                        if let Reply::Error(e) = i {
                            errors.insert(e.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        for k in &keys {
            let mut argv = words(&format!("CMS.QUERY {k}"));
            argv.extend(items.iter().map(|i| i.clone().into_bytes()));
            same(&store, &mut redis, &argv);
            same(&store, &mut redis, &words(&format!("CMS.INFO {k}")));
        }
    }
    for want in ["CMS: INCRBY overflow", "CMS: MERGE overflow"] {
        assert!(
            errors.contains(want),
            "no stream reached {want:?}: {errors:?}"
        );
    }
}

/// Which commands abort a transaction WATCHing their key: the store and the module agree,
/// key by key (writes signal once they open their key, errors included; CMS.INCRBY never).
#[test]
fn watch_matches_redisbloom() {
    let (server, mut redis_b) = server();
    let store = Store::new();
    for setup in ["CMS.INITBYDIM m 10 2", "CF.ADD c x", "SET s v"] {
        same(&store, &mut redis_b, &words(setup));
    }
    let cases = [
        ("m", "CMS.INCRBY m a 1"),
        ("m", "CMS.INCRBY m a x"),
        ("m", "CMS.QUERY m a"),
        ("m", "CMS.INFO m"),
        ("m", "CMS.MERGE m 1 m"),
        ("m", "CMS.MERGE m 1 zz"),
        ("zz", "CMS.MERGE zz 1 m"),
        ("m", "CMS.MERGE m x m"),
        ("m", "CMS.INITBYDIM m 10 2"),
        ("q", "CMS.INITBYDIM q 0 2"),
        ("q", "CMS.INITBYPROB q 2 2"),
        ("c", "CF.ADD c x"),
        ("c", "CF.ADDNX c x"),
        ("n", "CF.ADD n"),
        ("c", "CF.EXISTS c x"),
        ("c", "CF.COUNT c x"),
        ("c", "CF.INFO c"),
        ("c", "CF.SCANDUMP c 0"),
        ("c", "CF.DEL c nope"),
        ("n", "CF.DEL n nope"),
        ("s", "CF.DEL s nope"),
        ("c", "CF.COMPACT c"),
        ("n", "CF.COMPACT n"),
        ("n", "CF.LOADCHUNK n x y"),
        ("n", "CF.LOADCHUNK n 5 y"),
        ("n", "CF.RESERVE n 1"),
        ("c", "CF.RESERVE c 10"),
        ("n", "CF.INSERT n NOCREATE ITEMS a"),
        ("c", "CF.INSERT c BAD ITEMS a"),
        ("c", "CF.INSERTNX c ITEMS a"),
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

/// The typed `Backend` methods: the embedded store's direct calls and `RedisBackend`'s
/// defaults (command, then reply parsing) against RedisBloom give the same results.
#[cfg(feature = "redis")]
#[test]
fn typed_methods_agree_with_redis_backend() {
    use sketchstore::{Backend, CfInsertOptions, CfReserveOptions, RedisBackend};
    let (server, _conn) = server();
    let redis = RedisBackend::connect(&server.url()).expect("connect to redis-server");
    let store = Store::new();
    fn script(b: &dyn Backend) -> Vec<String> {
        let mut out = Vec::new();
        let mut note = |r: String| out.push(r);
        let t = |e: sketchstore::Error| e.to_string();
        let small = CfReserveOptions {
            bucket_size: 1,
            max_iterations: 3,
            expansion: 0,
        };
        note(format!(
            "{:?}",
            b.cf_reserve(b"c", 100, CfReserveOptions::default())
                .map_err(t)
        ));
        note(format!(
            "{:?}",
            b.cf_reserve(b"c", 100, CfReserveOptions::default())
                .map_err(t)
        ));
        note(format!("{:?}", b.cf_reserve(b"f", 2, small).map_err(t)));
        note(format!(
            "{:?}",
            b.cf_reserve(b"x", 3, CfReserveOptions::default())
                .map_err(t)
        ));
        for i in 0..6u8 {
            note(format!("{:?}", b.cf_add(b"c", &[i]).map_err(t)));
            note(format!("{:?}", b.cf_addnx(b"c", &[i, i]).map_err(t)));
            note(format!("{:?}", b.cf_add(b"f", &[i]).map_err(t)));
        }
        let items: [&[u8]; 4] = [b"a", b"b", b"a", b"z"];
        let opts = CfInsertOptions::default();
        note(format!("{:?}", b.cf_insert(b"c", opts, &items).map_err(t)));
        note(format!(
            "{:?}",
            b.cf_insertnx(b"c", opts, &items).map_err(t)
        ));
        note(format!("{:?}", b.cf_insert(b"f", opts, &items).map_err(t)));
        note(format!(
            "{:?}",
            b.cf_insertnx(b"f", opts, &items).map_err(t)
        ));
        let nocreate = CfInsertOptions {
            capacity: 50,
            nocreate: true,
        };
        note(format!(
            "{:?}",
            b.cf_insert(b"none", nocreate, &items).map_err(t)
        ));
        note(format!("{:?}", b.cf_exists(b"c", b"a").map_err(t)));
        note(format!("{:?}", b.cf_mexists(b"c", &items).map_err(t)));
        note(format!("{:?}", b.cf_count(b"c", b"a").map_err(t)));
        note(format!("{:?}", b.cf_del(b"c", b"a").map_err(t)));
        note(format!("{:?}", b.cf_del(b"none", b"a").map_err(t)));
        note(format!("{:?}", b.cf_info(b"c").map_err(t)));
        note(format!("{:?}", b.cf_info(b"none").map_err(t)));
        note(format!("{:?}", b.cms_initbydim(b"m", 20, 4).map_err(t)));
        note(format!("{:?}", b.cms_initbydim(b"m", 20, 4).map_err(t)));
        note(format!("{:?}", b.cms_initbydim(b"z", 0, 4).map_err(t)));
        note(format!(
            "{:?}",
            b.cms_initbyprob(b"p", 0.05, 0.01).map_err(t)
        ));
        note(format!(
            "{:?}",
            b.cms_initbyprob(b"q", 1.5, 0.01).map_err(t)
        ));
        let pairs: [(&[u8], u64); 3] = [(b"a", 3), (b"b", 4), (b"c", u64::from(u32::MAX))];
        note(format!("{:?}", b.cms_incrby(b"m", &pairs).map_err(t)));
        note(format!("{:?}", b.cms_incrby(b"none", &pairs).map_err(t)));
        note(format!("{:?}", b.cms_query(b"m", &items).map_err(t)));
        note(format!("{:?}", b.cms_initbydim(b"m2", 20, 4).map_err(t)));
        note(format!(
            "{:?}",
            b.cms_merge(b"m2", &[b"m", b"m"], None).map_err(t)
        ));
        note(format!(
            "{:?}",
            b.cms_merge(b"m2", &[b"m2", b"m"], Some(&[1, -1]))
                .map_err(t)
        ));
        note(format!(
            "{:?}",
            b.cms_merge(b"m2", &[b"p"], None).map_err(t)
        ));
        note(format!("{:?}", b.cms_query(b"m2", &items).map_err(t)));
        note(format!("{:?}", b.cms_info(b"m2").map_err(t)));
        note(format!("{:?}", b.cms_info(b"p").map_err(t)));
        note(format!("{:?}", b.key_type(b"c").map_err(t)));
        note(format!("{:?}", b.key_type(b"m").map_err(t)));
        out
    }
    assert_eq!(script(&store), script(&redis));
}
