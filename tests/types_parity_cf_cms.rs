//! Parity of `types::cuckoo` and `types::cms` with RedisBloom 2.8: a real redis-server with
//! the module loaded and the pure types receive the same seeded random operation streams, and
//! every reply is compared, `CF.SCANDUMP` chunks byte for byte, with chunks loaded both ways.

mod common;

use common::cluster::redisbloom_module;
use common::{RedisServer, RespConn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::types::cms::{CmsError, CountMinSketch, MergeSource};
use sketchstore::types::cuckoo::{self, CuckooError, CuckooFilter, InsertOutcome};
use sketchstore::Reply;

fn server() -> (RedisServer, RespConn) {
    let module = redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let conn = server.conn();
    (server, conn)
}

fn err(e: impl ToString) -> Reply {
    Reply::Error(e.to_string())
}

fn int(n: i64) -> Reply {
    Reply::Integer(n)
}

fn flag(b: bool) -> Reply {
    int(i64::from(b))
}

fn bool_reply(r: Result<bool, CuckooError>) -> Reply {
    r.map_or_else(err, flag)
}

fn outcome(o: InsertOutcome) -> Reply {
    match o {
        InsertOutcome::Inserted => int(1),
        InsertOutcome::Exists => int(0),
        InsertOutcome::NoSpace => int(-1),
        InsertOutcome::OutOfMemory => err("Memory allocation failure"),
    }
}

fn cf_info(cf: &CuckooFilter) -> Reply {
    let i = cf.info();
    let fields = [
        ("Size", i.size),
        ("Number of buckets", i.num_buckets),
        ("Number of filters", i.num_filters),
        ("Number of items inserted", i.num_items),
        ("Number of items deleted", i.num_deletes),
        ("Bucket size", i.bucket_size),
        ("Expansion rate", i.expansion),
        ("Max iterations", i.max_iterations),
    ];
    Reply::Array(
        fields
            .iter()
            .flat_map(|&(k, v)| [Reply::Status(k.into()), int(v as i64)])
            .collect(),
    )
}

fn scandump_reply(cf: &CuckooFilter, cursor: i64) -> Reply {
    match cf.scandump(cursor) {
        Ok((next, chunk)) => Reply::Array(vec![
            int(next),
            chunk.map_or(Reply::Nil, |c| Reply::Bulk(c.into_owned())),
        ]),
        Err(e) => err(e),
    }
}

fn check(redis: &mut RespConn, argv: &[Vec<u8>], ours: Reply) -> Reply {
    let theirs = redis.cmd(argv);
    assert_eq!(
        ours,
        theirs,
        "command: {:?}",
        argv.iter()
            .take(6)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
    );
    theirs
}

fn argv(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// Every chunk of a full dump, checked reply by reply; returns `(cursor, chunk)` pairs.
fn dump_both(redis: &mut RespConn, key: &[u8], cf: &CuckooFilter) -> Vec<(i64, Vec<u8>)> {
    let mut chunks = Vec::new();
    let mut cursor = 0i64;
    loop {
        let cur = cursor.to_string();
        let r = check(
            redis,
            &argv(&[b"CF.SCANDUMP", key, cur.as_bytes()]),
            scandump_reply(cf, cursor),
        );
        let Reply::Array(parts) = r else {
            panic!("SCANDUMP reply {r:?}")
        };
        match (&parts[0], &parts[1]) {
            (Reply::Integer(0), Reply::Nil) => break,
            (Reply::Integer(next), Reply::Bulk(data)) => {
                chunks.push((*next, data.clone()));
                cursor = *next;
            }
            other => panic!("SCANDUMP parts {other:?}"),
        }
    }
    chunks
}

/// Loads the module's chunks into a fresh type and the type's into a fresh module key; both
/// copies must equal their originals.
fn cross_load(redis: &mut RespConn, key: &[u8], cf: &CuckooFilter, copy_key: &[u8]) {
    let chunks = dump_both(redis, key, cf);
    let Some(((_, header), data)) = chunks.split_first() else {
        return;
    };
    let mut loaded = CuckooFilter::from_header(header).expect("module header loads");
    for (cursor, chunk) in data {
        loaded
            .load_chunk(*cursor, chunk)
            .expect("module chunk loads");
    }
    assert_eq!(&loaded, cf, "module dump loaded into the type");

    redis.cmd(&[b"DEL".to_vec(), copy_key.to_vec()]);
    let mut cursor = 0;
    while let Ok((next, Some(chunk))) = cf.scandump(cursor) {
        let n = next.to_string();
        let r = redis.cmd(&[
            b"CF.LOADCHUNK".to_vec(),
            copy_key.to_vec(),
            n.into_bytes(),
            chunk.into_owned(),
        ]);
        assert_eq!(r, Reply::ok(), "type chunk loaded into the module");
        cursor = next;
    }
    let again = dump_both(redis, copy_key, cf);
    assert_eq!(again, chunks, "module copy dumps as the original");
    check(redis, &argv(&[b"CF.INFO", copy_key]), cf_info(cf));
}

struct CfCase {
    capacity: i64,
    bucket: i64,
    max_iter: i64,
    expansion: i64,
    pool: usize,
    ops: usize,
}

/// What the streams reached, so that a test cannot pass by exercising nothing.
#[derive(Default)]
struct Seen {
    replies: std::collections::BTreeSet<String>,
    max_filters: u64,
    shrank: bool,
}

impl Seen {
    fn note(&mut self, r: &Reply) {
        match r {
            Reply::Error(e) => {
                self.replies.insert(e.clone());
            }
            Reply::Array(items) => items.iter().for_each(|i| self.note(i)),
            Reply::Integer(-1) => {
                self.replies.insert("-1".into());
            }
            Reply::Integer(n) if *n > 1 => {
                self.replies.insert(">1".into());
            }
            _ => {}
        }
    }
}

fn run_cf_stream(redis: &mut RespConn, seed: u64, case: &CfCase, seen: &mut Seen) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let key = format!("cf:{seed}").into_bytes();
    let copy = format!("cfcopy:{seed}").into_bytes();
    let mut cf = CuckooFilter::reserve(case.capacity, case.bucket, case.max_iter, case.expansion)
        .expect("reserve");
    let reserve = argv(&[
        b"CF.RESERVE",
        &key,
        case.capacity.to_string().as_bytes(),
        b"BUCKETSIZE",
        case.bucket.to_string().as_bytes(),
        b"MAXITERATIONS",
        case.max_iter.to_string().as_bytes(),
        b"EXPANSION",
        case.expansion.to_string().as_bytes(),
    ]);
    check(redis, &reserve, Reply::ok());
    let pool: Vec<Vec<u8>> = (0..case.pool)
        .map(|i| format!("item:{seed}:{i}").into_bytes())
        .collect();
    let pick = |rng: &mut ChaCha8Rng| pool.choose(rng).cloned().unwrap_or_default();
    for step in 0..case.ops {
        let item = pick(&mut rng);
        let filters_before = cf.info().num_filters;
        let r = match rng.gen_range(0..100) {
            0..=29 => {
                let ours = bool_reply(cf.add(&item));
                check(redis, &argv(&[b"CF.ADD", &key, &item]), ours)
            }
            30..=39 => {
                let ours = bool_reply(cf.add_nx(&item));
                check(redis, &argv(&[b"CF.ADDNX", &key, &item]), ours)
            }
            40..=54 => {
                let ours = flag(cf.exists(&item));
                check(redis, &argv(&[b"CF.EXISTS", &key, &item]), ours)
            }
            55..=74 => {
                let ours = flag(cf.del(&item));
                check(redis, &argv(&[b"CF.DEL", &key, &item]), ours)
            }
            75..=82 => {
                let ours = int(cf.count(&item) as i64);
                check(redis, &argv(&[b"CF.COUNT", &key, &item]), ours)
            }
            83..=94 => {
                let nx = rng.gen_bool(0.5);
                let n = rng.gen_range(1..6);
                let items: Vec<Vec<u8>> = (0..n).map(|_| pick(&mut rng)).collect();
                let ours = match cf.insert(&items, nx) {
                    Ok(outs) => Reply::Array(outs.into_iter().map(outcome).collect()),
                    Err(e) => err(e),
                };
                let mut a = vec![
                    if nx {
                        b"CF.INSERTNX".to_vec()
                    } else {
                        b"CF.INSERT".to_vec()
                    },
                    key.clone(),
                    b"ITEMS".to_vec(),
                ];
                a.extend(items);
                check(redis, &a, ours)
            }
            95 => {
                cf.compact();
                check(redis, &argv(&[b"CF.COMPACT", &key]), Reply::ok())
            }
            96..=97 => check(redis, &argv(&[b"CF.INFO", &key]), cf_info(&cf)),
            _ => {
                let cursor = rng.gen_range(0..(cf.info().size as i64 + 4));
                let c = cursor.to_string();
                check(
                    redis,
                    &argv(&[b"CF.SCANDUMP", &key, c.as_bytes()]),
                    scandump_reply(&cf, cursor),
                )
            }
        };
        seen.note(&r);
        let filters = cf.info().num_filters;
        seen.max_filters = seen.max_filters.max(filters);
        seen.shrank |= filters < filters_before;
        if step % 500 == 499 {
            cross_load(redis, &key, &cf, &copy);
        }
    }
    check(redis, &argv(&[b"CF.INFO", &key]), cf_info(&cf));
    cross_load(redis, &key, &cf, &copy);
}

#[test]
fn cf_streams_match_redisbloom() {
    let (_server, mut redis) = server();
    let cases = [
        // Defaults, no growth: exercises false positives and counts of duplicates.
        CfCase {
            capacity: 1000,
            bucket: 2,
            max_iter: 20,
            expansion: 1,
            pool: 600,
            ops: 3000,
        },
        // Tiny filters that grow quickly, with compaction after deletions and the
        // 32-sub-filter limit.
        CfCase {
            capacity: 8,
            bucket: 2,
            max_iter: 5,
            expansion: 1,
            pool: 200,
            ops: 3000,
        },
        CfCase {
            capacity: 16,
            bucket: 4,
            max_iter: 10,
            expansion: 2,
            pool: 400,
            ops: 3000,
        },
        CfCase {
            capacity: 40,
            bucket: 3,
            max_iter: 30,
            expansion: 3,
            pool: 300,
            ops: 2000,
        },
        // No growth: the kick-out walk fails, is rolled back, and adds answer "Filter is full".
        CfCase {
            capacity: 64,
            bucket: 1,
            max_iter: 7,
            expansion: 0,
            pool: 300,
            ops: 3000,
        },
        CfCase {
            capacity: 100,
            bucket: 2,
            max_iter: 50,
            expansion: 0,
            pool: 400,
            ops: 3000,
        },
    ];
    let mut seen = Seen::default();
    for (i, case) in cases.iter().enumerate() {
        for seed in 0..2u64 {
            run_cf_stream(&mut redis, 100 * i as u64 + seed, case, &mut seen);
        }
    }
    for want in ["Filter is full", "Maximum expansions reached", "-1", ">1"] {
        assert!(
            seen.replies.contains(want),
            "no stream reached {want:?}: {:?}",
            seen.replies
        );
    }
    assert_eq!(seen.max_filters, cuckoo::MAX_EXPANSIONS as u64);
    assert!(seen.shrank, "no deletion compacted a sub-filter away");
}

#[test]
fn cf_autocreate_and_large_chunks() {
    let (_server, mut redis) = server();
    let mut cf = CuckooFilter::autocreate(cuckoo::DEFAULT_CAPACITY).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..1500 {
        let item: [u8; 6] = rng.gen();
        check(
            &mut redis,
            &argv(&[b"CF.ADD", b"auto", &item]),
            bool_reply(cf.add(&item)),
        );
    }
    check(&mut redis, &argv(&[b"CF.INFO", b"auto"]), cf_info(&cf));
    cross_load(&mut redis, b"auto", &cf, b"autocopy");

    // A sub-filter larger than one 16 MiB chunk is sent in pieces.
    let mut big = CuckooFilter::reserve(20_000_000, 2, 20, 1).unwrap();
    check(
        &mut redis,
        &argv(&[b"CF.RESERVE", b"big", b"20000000"]),
        Reply::ok(),
    );
    for i in 0..200u32 {
        let item = i.to_le_bytes();
        check(
            &mut redis,
            &argv(&[b"CF.ADD", b"big", &item]),
            bool_reply(big.add(&item)),
        );
    }
    for cursor in [
        1i64,
        5,
        16 * 1024 * 1024 + 1,
        16 * 1024 * 1024 + 7,
        33554433,
    ] {
        let c = cursor.to_string();
        check(
            &mut redis,
            &argv(&[b"CF.SCANDUMP", b"big", c.as_bytes()]),
            scandump_reply(&big, cursor),
        );
    }
    cross_load(&mut redis, b"big", &big, b"bigcopy");
}

#[test]
fn cf_errors_match_redisbloom() {
    let (_server, mut redis) = server();
    let reserves: [(i64, i64, i64, i64); 8] = [
        (1, 2, 20, 1),
        (3, 2, 20, 1),
        (10, 0, 20, 1),
        (10, 256, 20, 1),
        (10, 2, 0, 1),
        (10, 2, 65536, 1),
        (10, 2, 20, -1),
        (10, 2, 20, 32769),
    ];
    for (i, (cap, bs, mi, ex)) in reserves.iter().enumerate() {
        let key = format!("r{i}");
        let a = argv(&[
            b"CF.RESERVE",
            key.as_bytes(),
            cap.to_string().as_bytes(),
            b"BUCKETSIZE",
            bs.to_string().as_bytes(),
            b"MAXITERATIONS",
            mi.to_string().as_bytes(),
            b"EXPANSION",
            ex.to_string().as_bytes(),
        ]);
        let ours = CuckooFilter::reserve(*cap, *bs, *mi, *ex).map_or_else(err, |_| Reply::ok());
        check(&mut redis, &a, ours);
    }
    // Hostile LOADCHUNK input RedisBloom survives.
    let mut cf = CuckooFilter::reserve(10, 2, 20, 1).unwrap();
    cf.add(b"a").unwrap();
    check(
        &mut redis,
        &argv(&[b"CF.RESERVE", b"h", b"10"]),
        Reply::ok(),
    );
    check(&mut redis, &argv(&[b"CF.ADD", b"h", b"a"]), int(1));
    let header = cf.header_chunk();
    let short = &header[..37];
    check(
        &mut redis,
        &argv(&[b"CF.LOADCHUNK", b"h2", b"1", short]),
        err(CuckooFilter::from_header(short).unwrap_err()),
    );
    for (at, v) in [(8usize, 3u8), (32, 0), (34, 0), (24, 0)] {
        let mut h = header;
        h[at] = v;
        if at == 34 {
            h[35] = 0;
        }
        check(
            &mut redis,
            &argv(&[b"CF.LOADCHUNK", b"h3", b"1", &h]),
            err(CuckooFilter::from_header(&h).unwrap_err()),
        );
    }
    for (cursor, data) in [
        (2i64, &b"ab"[..]),
        (17, &[1u8; 17][..]),
        (5, b"abc"),
        (18, b"z"),
        (40, b"zz"),
        (-4, b"z"),
    ] {
        let ours = cf
            .load_chunk(cursor, data)
            .map_or_else(err, |_| Reply::ok());
        let c = cursor.to_string();
        check(
            &mut redis,
            &argv(&[b"CF.LOADCHUNK", b"h", c.as_bytes(), data]),
            ours,
        );
    }
    let c = cf.scandump(-1).map_or_else(err, |_| Reply::ok());
    check(&mut redis, &argv(&[b"CF.SCANDUMP", b"h", b"-1"]), c);
    dump_both(&mut redis, b"h", &cf);
}

fn cms_info(s: &CountMinSketch) -> Reply {
    let i = s.info();
    Reply::Array(vec![
        Reply::Status("width".into()),
        int(i.width as i64),
        Reply::Status("depth".into()),
        int(i.depth as i64),
        Reply::Status("count".into()),
        int(i.count as i64),
    ])
}

#[test]
fn cms_streams_match_redisbloom() {
    let (_server, mut redis) = server();
    for (probe_err, prob) in [(0.001, 0.01), (0.5, 0.5), (0.013, 0.0001), (0.3, 0.999)] {
        let key = format!("p{probe_err}:{prob}");
        let s = CountMinSketch::init_by_prob(probe_err, prob).unwrap();
        check(
            &mut redis,
            &argv(&[
                b"CMS.INITBYPROB",
                key.as_bytes(),
                probe_err.to_string().as_bytes(),
                prob.to_string().as_bytes(),
            ]),
            Reply::ok(),
        );
        check(
            &mut redis,
            &argv(&[b"CMS.INFO", key.as_bytes()]),
            cms_info(&s),
        );
    }
    for (w, d) in [(0i64, 1i64), (1, 0), (-3, 2)] {
        let ours = CountMinSketch::init_by_dim(w, d).map_or_else(err, |_| Reply::ok());
        check(
            &mut redis,
            &argv(&[
                b"CMS.INITBYDIM",
                b"bad",
                w.to_string().as_bytes(),
                d.to_string().as_bytes(),
            ]),
            ours,
        );
    }
    for (e, p) in [(0.0, 0.5), (1.0, 0.5), (0.1, 0.0), (0.1, 1.0)] {
        let ours = CountMinSketch::init_by_prob(e, p).map_or_else(err, |_| Reply::ok());
        check(
            &mut redis,
            &argv(&[
                b"CMS.INITBYPROB",
                b"bad",
                e.to_string().as_bytes(),
                p.to_string().as_bytes(),
            ]),
            ours,
        );
    }

    let mut seen = Seen::default();
    for (seed, (width, depth)) in [(20i64, 3i64), (7, 5), (300, 2), (1, 1)].iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed as u64);
        let keys: Vec<Vec<u8>> = (0..3)
            .map(|k| format!("cms:{seed}:{k}").into_bytes())
            .collect();
        let mut sketches: Vec<CountMinSketch> = Vec::new();
        for k in &keys {
            sketches.push(CountMinSketch::init_by_dim(*width, *depth).unwrap());
            check(
                &mut redis,
                &argv(&[
                    b"CMS.INITBYDIM",
                    k,
                    width.to_string().as_bytes(),
                    depth.to_string().as_bytes(),
                ]),
                Reply::ok(),
            );
        }
        let odd = format!("cms:{seed}:odd").into_bytes();
        let odd_sketch = CountMinSketch::init_by_dim(width + 1, *depth).unwrap();
        redis.cmd(&argv(&[
            b"CMS.INITBYDIM",
            &odd,
            (width + 1).to_string().as_bytes(),
            depth.to_string().as_bytes(),
        ]));
        let items: Vec<Vec<u8>> = (0..60).map(|i| format!("x{i}").into_bytes()).collect();
        for _ in 0..1500 {
            let k = rng.gen_range(0..keys.len());
            match rng.gen_range(0..100) {
                0..=54 => {
                    let n = rng.gen_range(1..5);
                    let mut a = vec![b"CMS.INCRBY".to_vec(), keys[k].clone()];
                    let mut replies = Vec::new();
                    for _ in 0..n {
                        let item = items.choose(&mut rng).cloned().unwrap_or_default();
                        let v: u64 = match rng.gen_range(0..50) {
                            0 => rng.gen_range(0..=i64::MAX as u64),
                            1 => u64::from(u32::MAX) - rng.gen_range(0..3),
                            2..=4 => rng.gen_range(0..100_000_000),
                            _ => rng.gen_range(0..100),
                        };
                        replies.push(
                            sketches[k]
                                .incrby(&item, v)
                                .map_or_else(err, |c| int(i64::from(c))),
                        );
                        a.push(item);
                        a.push(v.to_string().into_bytes());
                    }
                    seen.note(&check(&mut redis, &a, Reply::Array(replies)));
                }
                55..=79 => {
                    let n = rng.gen_range(1..6);
                    let mut a = vec![b"CMS.QUERY".to_vec(), keys[k].clone()];
                    let mut replies = Vec::new();
                    for _ in 0..n {
                        let item = items.choose(&mut rng).cloned().unwrap_or_default();
                        replies.push(int(i64::from(sketches[k].query(&item))));
                        a.push(item);
                    }
                    check(&mut redis, &a, Reply::Array(replies));
                }
                80..=94 => {
                    let n = rng.gen_range(1..=3);
                    let srcs: Vec<usize> = (0..n).map(|_| rng.gen_range(0..keys.len())).collect();
                    let weights: Vec<i64> = srcs
                        .iter()
                        .map(|_| match rng.gen_range(0..10) {
                            0 => -1,
                            1 => 0,
                            2 => 1 << 40,
                            _ => rng.gen_range(1..4),
                        })
                        .collect();
                    let sources: Vec<MergeSource<'_>> = srcs
                        .iter()
                        .zip(&weights)
                        .map(|(&s, &w)| {
                            if s == k {
                                MergeSource::Dest(w)
                            } else {
                                MergeSource::Other(&sketches[s], w)
                            }
                        })
                        .collect();
                    let mut dest = sketches[k].clone();
                    let res = dest.merge(&sources);
                    let ours = res.map_or_else(err, |_| Reply::ok());
                    if ours == Reply::ok() {
                        sketches[k] = dest;
                    }
                    let mut a = vec![
                        b"CMS.MERGE".to_vec(),
                        keys[k].clone(),
                        n.to_string().into_bytes(),
                    ];
                    a.extend(srcs.iter().map(|&s| keys[s].clone()));
                    a.push(b"WEIGHTS".to_vec());
                    a.extend(weights.iter().map(|w| w.to_string().into_bytes()));
                    seen.note(&check(&mut redis, &a, ours));
                }
                95..=97 => {
                    check(
                        &mut redis,
                        &argv(&[b"CMS.INFO", &keys[k]]),
                        cms_info(&sketches[k]),
                    );
                }
                _ => {
                    let ours = sketches[k]
                        .clone()
                        .merge(&[MergeSource::Other(&odd_sketch, 1)])
                        .map_or_else(err, |_| Reply::ok());
                    assert_eq!(ours, err(CmsError::DimensionMismatch));
                    check(
                        &mut redis,
                        &argv(&[b"CMS.MERGE", &keys[k], b"1", &odd]),
                        ours,
                    );
                }
            }
        }
        for k in 0..keys.len() {
            check(
                &mut redis,
                &argv(&[b"CMS.INFO", &keys[k]]),
                cms_info(&sketches[k]),
            );
            let mut a = vec![b"CMS.QUERY".to_vec(), keys[k].clone()];
            a.extend(items.iter().cloned());
            let all = Reply::Array(
                items
                    .iter()
                    .map(|i| int(i64::from(sketches[k].query(i))))
                    .collect(),
            );
            check(&mut redis, &a, all);
        }
    }
    for want in ["CMS: INCRBY overflow", "CMS: MERGE overflow"] {
        assert!(
            seen.replies.contains(want),
            "no stream reached {want:?}: {:?}",
            seen.replies
        );
    }
}
