//! `sketchstore::types::{tdigest, topk}` against RedisBloom 2.8 loaded into a real
//! redis-server: seeded streams go to both, and the module's RESP2 replies are compared with
//! the types' answers shaped the way RedisBloom shapes them (doubles as `%.17g` text).
//!
//! t-digest: every reply is identical, over several compressions, distributions (duplicates,
//! sorted runs, wide ranges), queries interleaved with adds, merges and resets.
//! Top-k: with `decay = 1` decay is certain, so everything (expelled items, counts, queries,
//! lists) is identical even under heavy bucket sharing; with `decay < 1` the random draws
//! differ, and on skewed streams the lists (items and counts) are still equal.

mod common;

use common::cluster::redisbloom_module;
use common::streams::{item_name, stream, uniform, Zipf};
use common::{RedisServer, RespConn};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::types::tdigest::{TDigest, TDigestError};
use sketchstore::types::topk::{TopK, TopKError};
use sketchstore::Reply;

fn server() -> RedisServer {
    let module = redisbloom_module();
    RedisServer::start_with(&["--loadmodule", &module])
}

fn dbl(d: f64) -> Reply {
    Reply::Double(d).into_resp2()
}

fn dbls(ds: &[f64]) -> Reply {
    Reply::Array(ds.iter().map(|&d| dbl(d)).collect())
}

fn ints(xs: &[i64]) -> Reply {
    Reply::Array(xs.iter().map(|&x| Reply::Integer(x)).collect())
}

/// Text that strtod reads back as exactly `v`.
fn num(v: f64) -> String {
    format!("{v:?}")
}

fn info_reply(t: &TDigest) -> Reply {
    let i = t.info();
    let fields = [
        ("Compression", i.compression),
        ("Capacity", i.capacity),
        ("Merged nodes", i.merged_nodes),
        ("Unmerged nodes", i.unmerged_nodes),
        ("Merged weight", i.merged_weight),
        ("Unmerged weight", i.unmerged_weight),
        ("Observations", i.observations),
        ("Total compressions", i.total_compressions),
        ("Memory usage", i.memory_usage),
    ];
    Reply::Array(
        fields
            .iter()
            .flat_map(|&(k, v)| [Reply::status(k), Reply::Integer(v)])
            .collect(),
    )
}

/// Every read command on `key`, compared; reads run in the same order on both sides because
/// they compress.
fn compare_reads(redis: &mut RespConn, key: &str, t: &mut TDigest, rng: &mut ChaCha8Rng) {
    let ctx = |what: &str| format!("{key}: {what}");
    assert_eq!(
        redis.cmd(&["TDIGEST.MIN", key]),
        dbl(t.min()),
        "{}",
        ctx("min")
    );
    assert_eq!(
        redis.cmd(&["TDIGEST.MAX", key]),
        dbl(t.max()),
        "{}",
        ctx("max")
    );

    let mut qs: Vec<f64> = vec![
        0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0,
    ];
    for _ in 0..6 {
        qs.push(uniform(rng));
    }
    qs.push(0.3);
    let mut cmd = vec!["TDIGEST.QUANTILE".to_owned(), key.to_owned()];
    cmd.extend(qs.iter().map(|&q| num(q)));
    let want = t.quantile(&qs).expect("quantiles in range");
    assert_eq!(redis.cmd(&cmd), dbls(&want), "{}", ctx("quantile"));

    let (lo, hi) = (t.min(), t.max());
    let mut xs = vec![lo, hi, lo - 1.0, hi + 1.0, (lo + hi) / 2.0];
    for _ in 0..8 {
        xs.push(lo + (hi - lo) * uniform(rng));
    }
    let xs: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    if !xs.is_empty() {
        let mut cmd = vec!["TDIGEST.CDF".to_owned(), key.to_owned()];
        cmd.extend(xs.iter().map(|&x| num(x)));
        let want: Vec<f64> = xs.iter().map(|&x| t.cdf(x)).collect();
        assert_eq!(redis.cmd(&cmd), dbls(&want), "{}", ctx("cdf"));
        for (name, reverse) in [("TDIGEST.RANK", false), ("TDIGEST.REVRANK", true)] {
            let mut cmd = vec![name.to_owned(), key.to_owned()];
            cmd.extend(xs.iter().map(|&x| num(x)));
            let want = t.rank(&xs, reverse).expect("no NaN");
            assert_eq!(redis.cmd(&cmd), ints(&want), "{}", ctx(name));
        }
    }

    let size = t.size();
    let mut ranks = vec![0, 1, 2, size / 2, size - 1, size, size + 5];
    for _ in 0..6 {
        ranks.push((rng.next_u64() % (size as u64 + 1)) as i64);
    }
    let ranks: Vec<i64> = ranks.into_iter().filter(|&r| r >= 0).collect();
    for (name, reverse) in [("TDIGEST.BYRANK", false), ("TDIGEST.BYREVRANK", true)] {
        let mut cmd = vec![name.to_owned(), key.to_owned()];
        cmd.extend(ranks.iter().map(|r| r.to_string()));
        let want = t.byrank(&ranks, reverse).expect("non-negative");
        assert_eq!(redis.cmd(&cmd), dbls(&want), "{}", ctx(name));
    }

    for (a, b) in [
        (0.0, 1.0),
        (0.1, 0.9),
        (0.25, 0.75),
        (0.0, 0.01),
        (0.5, 0.51),
    ] {
        let want = t.trimmed_mean(a, b).expect("valid cuts");
        let got = redis.cmd(&["TDIGEST.TRIMMED_MEAN", key, &num(a), &num(b)]);
        assert_eq!(got, dbl(want), "{}", ctx("trimmed_mean"));
    }
    assert_eq!(
        redis.cmd(&["TDIGEST.INFO", key]),
        info_reply(t),
        "{}",
        ctx("info")
    );
}

/// Adds `values` in commands of `batch` values to both.
fn add_all(redis: &mut RespConn, key: &str, t: &mut TDigest, values: &[f64], batch: usize) {
    for chunk in values.chunks(batch.max(1)) {
        let mut cmd = vec!["TDIGEST.ADD".to_owned(), key.to_owned()];
        cmd.extend(chunk.iter().map(|&v| num(v)));
        assert_eq!(redis.cmd(&cmd), Reply::ok());
        t.add(chunk).expect("finite values");
    }
}

#[test]
fn tdigest_replies_equal_redisbloom() {
    let srv = server();
    let mut redis = srv.conn();
    let mut rng = ChaCha8Rng::seed_from_u64(0x07d1_6e57);
    let mut case = 0;
    for &compression in &[1i64, 10, 50, 100, 500] {
        for kind in 0..7u32 {
            for &n in &[1usize, 2, 3, 7, 64, 1000, 6000] {
                case += 1;
                let key = format!("td{case}");
                let c = compression.to_string();
                assert_eq!(
                    redis.cmd(&["TDIGEST.CREATE", &key, "COMPRESSION", &c]),
                    Reply::ok()
                );
                let mut t = TDigest::create(compression).expect("valid compression");
                let values = stream(kind, n, &mut rng);
                let batch = 1 + (rng.next_u32() % 200) as usize;
                let half = values.len() / 2;
                add_all(&mut redis, &key, &mut t, &values[..half], batch);
                if half > 0 {
                    compare_reads(&mut redis, &key, &mut t, &mut rng);
                }
                add_all(&mut redis, &key, &mut t, &values[half..], batch);
                compare_reads(&mut redis, &key, &mut t, &mut rng);
            }
        }
    }
}

#[test]
fn tdigest_empty_and_reset_equal_redisbloom() {
    let srv = server();
    let mut redis = srv.conn();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    assert_eq!(redis.cmd(&["TDIGEST.CREATE", "e"]), Reply::ok());
    let mut t = TDigest::create(100).expect("default");
    compare_reads(&mut redis, "e", &mut t, &mut rng);
    let values = stream(1, 500, &mut rng);
    add_all(&mut redis, "e", &mut t, &values, 50);
    compare_reads(&mut redis, "e", &mut t, &mut rng);
    assert_eq!(redis.cmd(&["TDIGEST.RESET", "e"]), Reply::ok());
    t.reset();
    compare_reads(&mut redis, "e", &mut t, &mut rng);
    add_all(&mut redis, "e", &mut t, &values[..3], 3);
    compare_reads(&mut redis, "e", &mut t, &mut rng);
}

/// (destination, destination exists?, source indexes, COMPRESSION, OVERRIDE)
type MergeCase = (&'static str, bool, &'static [usize], Option<i64>, bool);

#[test]
fn tdigest_merge_equals_redisbloom() {
    let srv = server();
    let mut redis = srv.conn();
    let mut rng = ChaCha8Rng::seed_from_u64(0x3e26e);
    let comps = [20i64, 100, 300];
    let mut sources = Vec::new();
    for (i, &c) in comps.iter().enumerate() {
        let key = format!("s{i}");
        redis.cmd(&["TDIGEST.CREATE", &key, "COMPRESSION", &c.to_string()]);
        let mut t = TDigest::create(c).expect("valid");
        let values = stream(i as u32, 3000 + 1000 * i, &mut rng);
        add_all(&mut redis, &key, &mut t, &values, 100);
        sources.push(t);
    }
    let cases: &[MergeCase] = &[
        ("m1", false, &[0, 1, 2], None, false),
        ("m2", false, &[2, 0], Some(50), false),
        ("m3", true, &[1, 2], None, false),
        ("m4", true, &[1], None, true),
        ("m5", true, &[0, 2], Some(1000), true),
        ("m6", true, &[0, 0, 1], Some(7), false),
    ];
    for &(dest, exists, srcs, compression, over) in cases {
        let mut existing = None;
        if exists {
            redis.cmd(&["TDIGEST.CREATE", dest, "COMPRESSION", "40"]);
            let mut t = TDigest::create(40).expect("valid");
            let values = stream(6, 777, &mut rng);
            add_all(&mut redis, dest, &mut t, &values, 70);
            existing = Some(t);
        }
        let mut cmd = vec![
            "TDIGEST.MERGE".to_owned(),
            dest.to_owned(),
            srcs.len().to_string(),
        ];
        cmd.extend(srcs.iter().map(|i| format!("s{i}")));
        if let Some(c) = compression {
            cmd.push("COMPRESSION".to_owned());
            cmd.push(c.to_string());
        }
        if over {
            cmd.push("OVERRIDE".to_owned());
        }
        assert_eq!(redis.cmd(&cmd), Reply::ok(), "{cmd:?}");
        for &i in srcs {
            sources[i].compress().expect("no overflow");
        }
        let refs: Vec<&TDigest> = srcs.iter().map(|&i| &sources[i]).collect();
        let mut merged =
            TDigest::merge(existing.as_ref(), &refs, compression, over).expect("merge");
        compare_reads(&mut redis, dest, &mut merged, &mut rng);
    }
    for (i, t) in sources.iter_mut().enumerate() {
        compare_reads(&mut redis, &format!("s{i}"), t, &mut rng);
    }
}

#[test]
fn tdigest_error_texts_equal_redisbloom() {
    let srv = server();
    let mut redis = srv.conn();
    redis.cmd(&["TDIGEST.CREATE", "t"]);
    let cases: &[(&[&str], TDigestError)] = &[
        (&["TDIGEST.CREATE", "t"], TDigestError::KeyExists),
        (&["TDIGEST.RESET", "nokey"], TDigestError::KeyDoesNotExist),
        (
            &["TDIGEST.CREATE", "u", "COMPRESSION", "x"],
            TDigestError::ParseCompression,
        ),
        (
            &["TDIGEST.CREATE", "u", "COMPRESSION", "0"],
            TDigestError::CompressionNotPositive,
        ),
        (
            &["TDIGEST.CREATE", "u", "FOO", "1"],
            TDigestError::WrongKeyword,
        ),
        (&["TDIGEST.ADD", "t", "x"], TDigestError::ParseVal),
        (&["TDIGEST.ADD", "t", "inf"], TDigestError::ValNotFinite),
        (
            &["TDIGEST.MERGE", "t", "x", "t"],
            TDigestError::ParseNumkeys,
        ),
        (
            &["TDIGEST.MERGE", "t", "0", "t"],
            TDigestError::NumkeysNotPositive,
        ),
        (&["TDIGEST.QUANTILE", "t", "x"], TDigestError::ParseQuantile),
        (
            &["TDIGEST.QUANTILE", "t", "1.5"],
            TDigestError::QuantileOutOfRange,
        ),
        (&["TDIGEST.CDF", "t", "x"], TDigestError::ParseCdf),
        (&["TDIGEST.RANK", "t", "x"], TDigestError::ParseValue),
        (&["TDIGEST.BYRANK", "t", "x"], TDigestError::ParseRank),
        (&["TDIGEST.BYRANK", "t", "-1"], TDigestError::RankNegative),
        (
            &["TDIGEST.TRIMMED_MEAN", "t", "x", "1"],
            TDigestError::ParseLowCut,
        ),
        (
            &["TDIGEST.TRIMMED_MEAN", "t", "0", "x"],
            TDigestError::ParseHighCut,
        ),
        (
            &["TDIGEST.TRIMMED_MEAN", "t", "0", "2"],
            TDigestError::CutOutOfRange,
        ),
        (
            &["TDIGEST.TRIMMED_MEAN", "t", "0.5", "0.5"],
            TDigestError::CutsNotOrdered,
        ),
    ];
    for (cmd, err) in cases {
        assert_eq!(redis.cmd(cmd), Reply::Error(err.to_string()), "{cmd:?}");
    }
    // The typed methods report the same errors for the same inputs.
    let mut t = TDigest::create(100).expect("valid");
    assert_eq!(
        TDigest::create(0),
        Err(TDigestError::CompressionNotPositive)
    );
    assert_eq!(t.add(&[f64::INFINITY]), Err(TDigestError::ValNotFinite));
    assert_eq!(t.add(&[f64::NAN]), Err(TDigestError::ParseVal));
    assert_eq!(t.quantile(&[1.5]), Err(TDigestError::QuantileOutOfRange));
    assert_eq!(t.byrank(&[-1], false), Err(TDigestError::RankNegative));
    assert_eq!(t.trimmed_mean(0.0, 2.0), Err(TDigestError::CutOutOfRange));
    assert_eq!(t.trimmed_mean(0.5, 0.5), Err(TDigestError::CutsNotOrdered));
}

fn bulk_or_nil(x: Option<Vec<u8>>) -> Reply {
    match x {
        Some(b) => Reply::Bulk(b),
        None => Reply::Nil,
    }
}

fn list_reply(t: &TopK) -> Reply {
    Reply::Array(
        t.list()
            .into_iter()
            .flat_map(|(item, count)| [Reply::Bulk(item), Reply::Integer(count as i64)])
            .collect(),
    )
}

#[test]
fn topk_without_decay_equals_redisbloom_exactly() {
    let srv = server();
    let mut redis = srv.conn();
    let mut rng = ChaCha8Rng::seed_from_u64(0x70bc);
    // Narrow sketches force bucket sharing; decay 1 makes every decay certain.
    for (case, &(k, width, depth)) in [(5i64, 8i64, 3i64), (10, 50, 4), (3, 2, 7), (20, 100, 5)]
        .iter()
        .enumerate()
    {
        let key = format!("tk{case}");
        let params = [k.to_string(), width.to_string(), depth.to_string()];
        let reply = redis.cmd(&[
            "TOPK.RESERVE",
            &key,
            &params[0],
            &params[1],
            &params[2],
            "1",
        ]);
        assert_eq!(reply, Reply::ok());
        let mut t = TopK::reserve(k, width, depth, 1.0).expect("valid");
        let zipf = Zipf::new(300, 1.1);
        for step in 0..3000 {
            let item = item_name(zipf.sample(&mut rng));
            if step % 7 == 3 {
                let inc = (rng.next_u32() % 5) as i64;
                let got = redis.cmd(&["TOPK.INCRBY", &key, &item, &inc.to_string()]);
                let want = t.incrby(item.as_bytes(), inc).expect("valid increment");
                assert_eq!(got, Reply::Array(vec![bulk_or_nil(want)]), "step {step}");
            } else {
                let got = redis.cmd(&["TOPK.ADD", &key, &item]);
                let want = t.add(item.as_bytes());
                assert_eq!(got, Reply::Array(vec![bulk_or_nil(want)]), "step {step}");
            }
        }
        assert_eq!(redis.cmd(&["TOPK.LIST", &key, "WITHCOUNT"]), list_reply(&t));
        let names: Vec<String> = (0..300).map(item_name).collect();
        let mut cmd = vec!["TOPK.COUNT".to_owned(), key.clone()];
        cmd.extend(names.iter().cloned());
        let counts: Vec<i64> = names.iter().map(|n| t.count(n.as_bytes()) as i64).collect();
        assert_eq!(redis.cmd(&cmd), ints(&counts), "{key} counts");
        cmd[0] = "TOPK.QUERY".to_owned();
        let queries: Vec<i64> = names.iter().map(|n| t.query(n.as_bytes()) as i64).collect();
        assert_eq!(redis.cmd(&cmd), ints(&queries), "{key} queries");
        let info = t.info();
        let want = Reply::Array(vec![
            Reply::status("k"),
            Reply::Integer(info.k.into()),
            Reply::status("width"),
            Reply::Integer(info.width.into()),
            Reply::status("depth"),
            Reply::Integer(info.depth.into()),
            Reply::status("decay"),
            dbl(info.decay),
        ]);
        assert_eq!(redis.cmd(&["TOPK.INFO", &key]), want);
    }
}

#[test]
fn topk_items_with_nul_reply_as_c_strings() {
    let srv = server();
    let mut redis = srv.conn();
    redis.cmd(&["TOPK.RESERVE", "n", "1", "8", "7", "1"]);
    let mut t = TopK::reserve(1, 8, 7, 1.0).expect("valid");
    let steps: [&[u8]; 4] = [b"x\0y", b"other", b"x\0y", b"x"];
    for item in steps {
        let got = redis.cmd(&[&b"TOPK.ADD"[..], b"n", item]);
        assert_eq!(
            got,
            Reply::Array(vec![bulk_or_nil(t.add(item))]),
            "{item:?}"
        );
    }
    assert_eq!(redis.cmd(&["TOPK.LIST", "n", "WITHCOUNT"]), list_reply(&t));
    for item in steps {
        let got = redis.cmd(&[&b"TOPK.QUERY"[..], b"n", item]);
        assert_eq!(got, ints(&[t.query(item) as i64]), "{item:?}");
    }
}

#[test]
fn topk_with_decay_lists_equal_redisbloom_on_skewed_streams() {
    let srv = server();
    let mut redis = srv.conn();
    for seed in 0..4u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let key = format!("zipf{seed}");
        // RedisBloom's recommended sizing for k = 10: width k*log(k), depth log(k), decay 0.9.
        assert_eq!(
            redis.cmd(&["TOPK.RESERVE", &key, "10", "200", "7", "0.9"]),
            Reply::ok()
        );
        let mut t = TopK::reserve_with_rng(10, 200, 7, 0.9, ChaCha8Rng::seed_from_u64(!seed))
            .expect("valid");
        let zipf = Zipf::new(2000, 1.2);
        let mut batch = vec!["TOPK.ADD".to_owned(), key.clone()];
        for _ in 0..20_000 {
            let item = item_name(zipf.sample(&mut rng));
            t.add(item.as_bytes());
            batch.push(item);
            if batch.len() == 502 {
                redis.cmd(&batch);
                batch.truncate(2);
            }
        }
        if batch.len() > 2 {
            redis.cmd(&batch);
        }
        // Decay draws random numbers (RedisBloom: the process's `rand()`, whose position
        // depends on everything the server ran before): the lists are equal, and each count
        // is within a decay or two of RedisBloom's.
        let (Reply::Array(theirs), Reply::Array(ours)) =
            (redis.cmd(&["TOPK.LIST", &key, "WITHCOUNT"]), list_reply(&t))
        else {
            panic!("TOPK.LIST WITHCOUNT is an array");
        };
        assert_eq!(theirs.len(), ours.len(), "seed {seed}");
        for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
            match (a, b) {
                (Reply::Integer(x), Reply::Integer(y)) => assert!(
                    (x - y).abs() <= 2.max(x / 100),
                    "seed {seed}: count {i} {x} against {y}"
                ),
                _ => assert_eq!(a, b, "seed {seed}: item {i}"),
            }
        }
    }
}

#[test]
fn topk_error_texts_equal_redisbloom() {
    let srv = server();
    let mut redis = srv.conn();
    redis.cmd(&["TOPK.RESERVE", "t", "3"]);
    let cases: &[(&[&str], TopKError)] = &[
        (&["TOPK.RESERVE", "t", "3"], TopKError::KeyExists),
        (&["TOPK.ADD", "nokey", "a"], TopKError::KeyDoesNotExist),
        (&["TOPK.RESERVE", "u", "0"], TopKError::InvalidK),
        (&["TOPK.RESERVE", "u", "x"], TopKError::InvalidK),
        (
            &["TOPK.RESERVE", "u", "1", "0", "1", "0.5"],
            TopKError::InvalidWidth,
        ),
        (
            &["TOPK.RESERVE", "u", "1", "1", "0", "0.5"],
            TopKError::InvalidDepth,
        ),
        (
            &["TOPK.RESERVE", "u", "1", "1", "1", "0"],
            TopKError::InvalidDecay,
        ),
        (
            &["TOPK.RESERVE", "u", "1", "1", "1", "1.5"],
            TopKError::InvalidDecay,
        ),
        (&["TOPK.LIST", "t", "foo"], TopKError::WithcountExpected),
    ];
    for (cmd, err) in cases {
        assert_eq!(redis.cmd(cmd), Reply::Error(err.to_string()), "{cmd:?}");
    }
    // A bad increment as the only pair: the array header, then the error element.
    redis.send(&["TOPK.INCRBY", "t", "a", "100001"]);
    let first = redis.read();
    assert_eq!(
        first,
        Reply::Array(vec![Reply::Error(TopKError::InvalidIncrement.to_string())])
    );
    let mut t = TopK::reserve(3, 8, 7, 0.9).expect("valid");
    assert_eq!(TopK::reserve(0, 8, 7, 0.9).err(), Some(TopKError::InvalidK));
    assert_eq!(
        TopK::reserve(1, 0, 7, 0.9).err(),
        Some(TopKError::InvalidWidth)
    );
    assert_eq!(
        TopK::reserve(1, 8, 0, 0.9).err(),
        Some(TopKError::InvalidDepth)
    );
    assert_eq!(
        TopK::reserve(1, 8, 7, 0.0).err(),
        Some(TopKError::InvalidDecay)
    );
    assert_eq!(t.incrby(b"a", 100_001), Err(TopKError::InvalidIncrement));
    assert_eq!(t.incrby(b"a", -1), Err(TopKError::InvalidIncrement));
}
