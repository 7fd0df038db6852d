//! Sorted-set commands on the store against a real redis-server 7.0: seeded random command
//! streams through `Store::execute` (RESP2), every reply compared byte for byte, and a few
//! RESP3 scenarios through a `Connection` after `HELLO 3`.
//!
//! Random replies (ZRANDMEMBER below the set's size) are checked for shape and membership
//! only; ZSCAN is compared as the set of entries a whole scan returns.

mod common;

use common::{RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

const ZKEYS: [&str; 4] = ["z0", "z1", "z2", "{z}3"];
const LKEYS: [&str; 2] = ["l0", "l1"];

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.gen_range(0..from.len())]
    }

    fn key(&mut self) -> String {
        match self.rng.gen_range(0..40) {
            0 => "str".into(),
            1 => "missing".into(),
            _ => self.pick(&ZKEYS).into(),
        }
    }

    /// A key for a read: lex keys too (whose members all score 0, so that lex ranges on
    /// them are defined; writes with other scores never go there).
    fn rkey(&mut self) -> String {
        if self.rng.gen_range(0..5) == 0 {
            self.pick(&LKEYS).into()
        } else {
            self.key()
        }
    }

    fn member(&mut self) -> String {
        common::zargs::member(&mut self.rng, 45, 170)
    }

    fn lmember(&mut self) -> String {
        common::zargs::lex_member(&mut self.rng)
    }

    fn score(&mut self) -> String {
        common::zargs::score(&mut self.rng)
    }

    fn score_end(&mut self) -> String {
        common::zargs::score_end(&mut self.rng)
    }

    fn lex_end(&mut self) -> String {
        common::zargs::lex_end(&mut self.rng)
    }

    fn index(&mut self) -> String {
        match self.rng.gen_range(0..30) {
            0 => "x".into(),
            1 => "9223372036854775807".into(),
            2 => "-9223372036854775808".into(),
            _ => self.rng.gen_range(-8..10).to_string(),
        }
    }

    fn limit(&mut self, v: &mut Vec<String>) {
        common::zargs::limit(&mut self.rng, v)
    }

    fn keys(&mut self, v: &mut Vec<String>, max: usize) -> usize {
        let n = self.rng.gen_range(1..=max);
        v.push(if self.rng.gen_range(0..40) == 0 {
            self.pick(&["0", "-1", "x", "9"]).into()
        } else {
            n.to_string()
        });
        for _ in 0..n {
            let k = self.key();
            v.push(k);
        }
        n
    }

    fn command(&mut self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let s = |x: &str| x.to_string();
        match self.rng.gen_range(0..120) {
            0..=24 => {
                let lex = self.rng.gen_bool(0.25);
                v.push(s("ZADD"));
                v.push(if lex {
                    self.pick(&LKEYS).into()
                } else {
                    self.key()
                });
                let incr = !lex && self.rng.gen_bool(0.12);
                for f in ["NX", "XX", "GT", "LT", "CH"] {
                    if self.rng.gen_bool(0.1) {
                        v.push(s(f));
                    }
                }
                if incr {
                    v.push(s("INCR"));
                }
                let pairs = if incr { 1 } else { self.rng.gen_range(1..14) };
                for _ in 0..pairs {
                    if lex {
                        v.push(s("0"));
                        v.push(self.lmember());
                    } else {
                        v.push(self.score());
                        v.push(self.member());
                    }
                }
                if self.rng.gen_range(0..50) == 0 {
                    v.pop();
                }
            }
            25..=28 => {
                v.push(s("ZINCRBY"));
                v.push(self.key());
                v.push(self.score());
                v.push(self.member());
            }
            29..=32 => {
                v.push(s("ZREM"));
                v.push(self.key());
                for _ in 0..self.rng.gen_range(1..5) {
                    let m = self.member();
                    v.push(m);
                }
            }
            33 => {
                v.push(s("ZCARD"));
                v.push(self.rkey());
            }
            34..=35 => {
                v.push(s("ZSCORE"));
                v.push(self.rkey());
                v.push(self.member());
            }
            36 => {
                v.push(s("ZMSCORE"));
                v.push(self.key());
                for _ in 0..self.rng.gen_range(1..4) {
                    let m = self.member();
                    v.push(m);
                }
            }
            37..=38 => {
                v.push(s(self.pick(&["ZRANK", "ZREVRANK"])));
                v.push(self.rkey());
                v.push(self.member());
            }
            39..=40 => {
                v.push(s("ZCOUNT"));
                v.push(self.key());
                v.push(self.score_end());
                v.push(self.score_end());
            }
            41 => {
                v.push(s("ZLEXCOUNT"));
                v.push(self.pick(&LKEYS).into());
                v.push(self.lex_end());
                v.push(self.lex_end());
            }
            42..=52 => {
                // ZRANGE in all its forms.
                let by = self.rng.gen_range(0..3);
                v.push(s("ZRANGE"));
                v.push(if by == 2 {
                    self.pick(&LKEYS).into()
                } else {
                    self.rkey()
                });
                match by {
                    0 => {
                        v.push(self.index());
                        v.push(self.index());
                    }
                    1 => {
                        v.push(self.score_end());
                        v.push(self.score_end());
                        v.push(s("BYSCORE"));
                    }
                    _ => {
                        v.push(self.lex_end());
                        v.push(self.lex_end());
                        v.push(s("BYLEX"));
                    }
                }
                if self.rng.gen_bool(0.3) {
                    v.push(s("REV"));
                }
                if by > 0 || self.rng.gen_range(0..10) == 0 {
                    self.limit(&mut v);
                }
                if by < 2 && self.rng.gen_bool(0.5) || self.rng.gen_range(0..20) == 0 {
                    v.push(s("WITHSCORES"));
                }
                if self.rng.gen_range(0..30) == 0 {
                    v.push(s("BOGUS"));
                }
            }
            53..=56 => {
                let name = self.pick(&["ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
                v.push(s(name));
                v.push(self.key());
                if name == "ZREVRANGE" {
                    v.push(self.index());
                    v.push(self.index());
                } else {
                    v.push(self.score_end());
                    v.push(self.score_end());
                    self.limit(&mut v);
                }
                if self.rng.gen_bool(0.5) {
                    v.push(s("WITHSCORES"));
                }
            }
            57..=58 => {
                v.push(s(self.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"])));
                v.push(self.pick(&LKEYS).into());
                v.push(self.lex_end());
                v.push(self.lex_end());
                self.limit(&mut v);
            }
            59..=61 => {
                v.push(s("ZRANGESTORE"));
                v.push(self.key());
                v.push(self.key());
                if self.rng.gen_bool(0.5) {
                    v.push(self.index());
                    v.push(self.index());
                } else {
                    v.push(self.score_end());
                    v.push(self.score_end());
                    v.push(s("BYSCORE"));
                    self.limit(&mut v);
                }
                if self.rng.gen_bool(0.2) {
                    v.push(s("REV"));
                }
            }
            62..=64 => {
                let which = self.rng.gen_range(0..3);
                match which {
                    0 => {
                        v.push(s("ZREMRANGEBYRANK"));
                        v.push(self.key());
                        v.push(self.index());
                        v.push(self.index());
                    }
                    1 => {
                        v.push(s("ZREMRANGEBYSCORE"));
                        v.push(self.key());
                        v.push(self.score_end());
                        v.push(self.score_end());
                    }
                    _ => {
                        v.push(s("ZREMRANGEBYLEX"));
                        v.push(self.pick(&LKEYS).into());
                        v.push(self.lex_end());
                        v.push(self.lex_end());
                    }
                }
            }
            65..=68 => {
                v.push(s(self.pick(&["ZPOPMIN", "ZPOPMAX"])));
                v.push(self.key());
                match self.rng.gen_range(0..6) {
                    0 => {}
                    1 => v.push(s("-1")),
                    _ => v.push(self.rng.gen_range(0..5).to_string()),
                }
            }
            69..=71 => {
                v.push(s("ZMPOP"));
                self.keys(&mut v, 3);
                v.push(s(self.pick(&["MIN", "MAX", "MID"])));
                if self.rng.gen_bool(0.5) {
                    v.push(s("COUNT"));
                    v.push(self.rng.gen_range(-1..5).to_string());
                }
            }
            72..=73 => {
                v.push(s(self.pick(&["BZPOPMIN", "BZPOPMAX"])));
                for _ in 0..self.rng.gen_range(1..3) {
                    let k = self.key();
                    v.push(k);
                }
                v.push(s(self.pick(&["0.01", "0.01", "-1", "x"])));
            }
            74 => {
                v.push(s("BZMPOP"));
                v.push(s("0.01"));
                self.keys(&mut v, 2);
                v.push(s(self.pick(&["MIN", "MAX"])));
                if self.rng.gen_bool(0.5) {
                    v.push(s("COUNT"));
                    v.push(self.rng.gen_range(1..4).to_string());
                }
            }
            75..=84 => {
                let kind = self.rng.gen_range(0..3);
                let op = self.pick(&["ZUNION", "ZINTER", "ZDIFF"]);
                if kind == 1 {
                    v.push(format!("{op}STORE"));
                    v.push(self.key());
                } else {
                    v.push(s(op));
                }
                let n = self.keys(&mut v, 3);
                if op != "ZDIFF" || self.rng.gen_range(0..10) == 0 {
                    if self.rng.gen_bool(0.4) {
                        v.push(s("WEIGHTS"));
                        for _ in 0..n {
                            v.push(self.pick(&["1", "2", "-1", "0", "0.5", "inf", "x"]).into());
                        }
                    }
                    if self.rng.gen_bool(0.4) {
                        v.push(s("AGGREGATE"));
                        v.push(self.pick(&["SUM", "MIN", "MAX", "AVG"]).into());
                    }
                }
                if kind == 0 && self.rng.gen_bool(0.5) {
                    v.push(s("WITHSCORES"));
                }
            }
            85..=86 => {
                v.push(s("ZINTERCARD"));
                self.keys(&mut v, 3);
                if self.rng.gen_bool(0.5) {
                    v.push(s("LIMIT"));
                    v.push(self.rng.gen_range(-1..4).to_string());
                }
            }
            87..=89 => {
                v.push(s("ZRANDMEMBER"));
                v.push(self.key());
                if self.rng.gen_range(0..5) > 0 {
                    v.push(self.rng.gen_range(-6..8).to_string());
                    if self.rng.gen_bool(0.4) {
                        v.push(s("WITHSCORES"));
                    }
                }
            }
            90..=91 => {
                v.push(s("ZSCAN"));
                v.push(self.key());
                v.push(s("0"));
                if self.rng.gen_bool(0.3) {
                    v.push(s("MATCH"));
                    v.push(self.pick(&["m1*", "*", "x*", "m?"]).into());
                }
            }
            92 => {
                v.push(s("TYPE"));
                v.push(self.key());
            }
            93 => {
                v.push(s("SET"));
                v.push(s("str"));
                v.push(s("v"));
            }
            _ => {
                v.push(s("ZRANGE"));
                v.push(self.key());
                v.push(s("0"));
                v.push(s("-1"));
                v.push(s("WITHSCORES"));
            }
        }
        v
    }
}

fn upper(a: &[u8]) -> String {
    String::from_utf8_lossy(a).to_ascii_uppercase()
}

fn bulks_of(r: &Reply) -> Vec<Vec<u8>> {
    match r {
        Reply::Array(items) => items
            .iter()
            .map(|i| match i {
                Reply::Bulk(b) => b.clone(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Every (member, score) a whole ZSCAN returns, sorted.
fn full_scan(mut run: impl FnMut(&[Vec<u8>]) -> Reply, argv: &[Vec<u8>]) -> Reply {
    let mut argv = argv.to_vec();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for _ in 0..1000 {
        let r = run(&argv);
        let Reply::Array(parts) = &r else {
            return r;
        };
        let cursor = bulks_of(&Reply::Array(vec![parts[0].clone()]))[0].clone();
        let items = bulks_of(&parts[1]);
        for e in items.chunks(2) {
            seen.push([e[0].clone(), b" ".to_vec(), e[1].clone()].concat());
        }
        if cursor == b"0" {
            break;
        }
        argv[2] = cursor;
    }
    seen.sort();
    seen.dedup();
    Reply::Array(seen.into_iter().map(Reply::Bulk).collect())
}

/// ZRANDMEMBER: exact for a missing key and for a count covering the whole set; otherwise
/// the reply's size and that every entry is a member with its score.
fn check_randmember(store: &Store, redis: &mut RespConn, argv: &[Vec<u8>], ctx: &str) {
    let ours = store.execute(argv);
    let theirs = redis.cmd(argv);
    if theirs.is_error() || argv.len() == 2 || matches!(theirs, Reply::Nil) {
        if argv.len() == 2 && !theirs.is_error() && theirs != Reply::Nil {
            // One random member: both must be members.
            let m = match &ours {
                Reply::Bulk(b) => b.clone(),
                other => panic!("{ctx}: {other:?}"),
            };
            let score = store.execute(&[b"ZSCORE".to_vec(), argv[1].clone(), m]);
            assert_ne!(score, Reply::Nil, "{ctx}");
            return;
        }
        assert_eq!(ours, theirs, "{ctx}");
        return;
    }
    let card = match store.execute(&[b"ZCARD".to_vec(), argv[1].clone()]) {
        Reply::Integer(n) => n,
        _ => 0,
    };
    let count: i64 = String::from_utf8_lossy(&argv[2]).parse().unwrap_or(0);
    if count >= card {
        assert_eq!(ours, theirs, "{ctx}");
        return;
    }
    let (o, t) = (bulks_of(&ours), bulks_of(&theirs));
    assert_eq!(o.len(), t.len(), "{ctx}: {ours:?} / {theirs:?}");
    let step = if argv.len() > 3 { 2 } else { 1 };
    for e in o.chunks(step) {
        let score = store.execute(&[b"ZSCORE".to_vec(), argv[1].clone(), e[0].clone()]);
        assert_ne!(score, Reply::Nil, "{ctx}: {:?} is not a member", e[0]);
        if step == 2 {
            assert_eq!(score, Reply::Bulk(e[1].clone()), "{ctx}");
        }
    }
}

fn run_stream(seed: u64, ops: usize) -> (usize, usize, usize) {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut gen = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let (mut errors, mut nils) = (0, 0);
    for step in 0..ops {
        let argv: Vec<Vec<u8>> = gen.command().into_iter().map(String::into_bytes).collect();
        let shown: Vec<_> = argv
            .iter()
            .take(14)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let ctx = format!("seed {seed} step {step}: {shown:?}");
        match upper(&argv[0]).as_str() {
            "ZRANDMEMBER" => check_randmember(&store, &mut redis, &argv, &ctx),
            "ZSCAN" => {
                let ours = full_scan(|a| store.execute(a), &argv);
                let theirs = full_scan(|a| redis.cmd(a), &argv);
                assert_eq!(ours, theirs, "{ctx}");
            }
            _ => {
                let ours = store.execute(&argv);
                let theirs = redis.cmd(&argv);
                errors += usize::from(theirs.is_error());
                nils += usize::from(matches!(theirs, Reply::Nil | Reply::NilArray));
                assert_eq!(ours, theirs, "{ctx}");
            }
        }
        if step % 200 == 199 {
            for k in ZKEYS.iter().chain(LKEYS.iter()) {
                let argv: Vec<Vec<u8>> = ["ZRANGE", k, "0", "-1", "WITHSCORES"]
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect();
                assert_eq!(
                    store.execute(&argv),
                    redis.cmd(&argv),
                    "seed {seed} state of {k}"
                );
            }
        }
    }
    (ops, errors, nils)
}

#[test]
fn random_streams_match_redis() {
    let (mut total, mut errors, mut nils) = (0, 0, 0);
    for seed in [11, 12, 13, 14] {
        let (n, e, z) = run_stream(seed, 2500);
        total += n;
        errors += e;
        nils += z;
    }
    assert_eq!(total, 10_000);
    assert!(errors > 300 && nils > 100, "errors {errors} nils {nils}");
    eprintln!("{total} commands; {errors} error replies, {nils} nil replies");
}

/// A store reply as a RESP3 client reads it.
fn resp3(r: &Reply) -> Reply {
    let mut out = Vec::new();
    r.write_resp3(&mut out);
    match Reply::from_resp(&out) {
        Ok(Some((r, _))) => r,
        other => panic!("unreadable RESP3 {other:?}"),
    }
}

#[test]
fn resp3_replies_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut conn = store.connection();
    let hello = ["HELLO", "3"];
    redis.cmd(&hello);
    conn.execute(&hello);
    let script: &[&str] = &[
        "ZADD z 1 a 2.5 b -0 c inf d",
        "ZADD z INCR 1.5 a",
        "ZADD z XX INCR 1 nope",
        "ZINCRBY z 0.1 b",
        "ZSCORE z b",
        "ZSCORE z nope",
        "ZMSCORE z a nope d",
        "ZRANGE z 0 -1",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE z (1 +inf BYSCORE REV LIMIT 0 2 WITHSCORES",
        "ZRANGEBYSCORE z -inf +inf WITHSCORES",
        "ZREVRANGE z 0 1 WITHSCORES",
        "ZRANDMEMBER z 10 WITHSCORES",
        "ZRANDMEMBER z 0 WITHSCORES",
        "ZUNION 2 z w WITHSCORES",
        "ZINTER 1 z WITHSCORES",
        "ZDIFF 2 z w WITHSCORES",
        "ZSCAN z 0",
        "ZPOPMIN z",
        "ZPOPMAX z 2",
        "ZPOPMIN nope",
        "ZPOPMIN nope 2",
        "ZADD y 1 a 2 b",
        "ZMPOP 2 nope y MAX COUNT 5",
        "ZMPOP 1 nope MIN",
        "BZPOPMIN nope z 0.01",
        "BZPOPMAX nope 0.01",
        "ZADD y 3 c",
        "BZMPOP 0.01 1 y MIN",
        "BZMPOP 0.01 1 nope MIN",
        "ZRANK z c",
        "ZRANK z nope",
        "ZCARD z",
    ];
    for line in script {
        let argv: Vec<&str> = line.split(' ').collect();
        let ours = resp3(&conn.execute(&argv));
        let theirs = redis.cmd(&argv);
        assert_eq!(ours, theirs, "RESP3 {line}");
    }
}

/// The typed `Backend` methods on a `RedisBackend` answer as the store's do.
#[cfg(feature = "redis")]
#[test]
fn redis_backend_typed_methods_match_the_store() {
    use sketchstore::types::zset::{Aggregate, LexRange, ScoreRange};
    use sketchstore::{Backend, RedisBackend, ZRange, ZRangeBy, ZSetOp};
    fn script(b: &dyn Backend) -> Vec<String> {
        let a: &[u8] = b"a";
        let r = ScoreRange::parse(b"(0", b"+inf").unwrap();
        let q = ZRange {
            by: ZRangeBy::Score(r),
            rev: true,
            limit: Some((1, 5)),
        };
        let lex = ZRange {
            by: ZRangeBy::Lex(LexRange::parse(b"(p", b"+").unwrap()),
            rev: true,
            limit: None,
        };
        vec![
            format!(
                "{:?}",
                b.zadd(
                    b"z",
                    &[(1.0, a), (2.5, b"b"), (-0.0, b"c"), (f64::INFINITY, b"d")]
                )
            ),
            format!("{:?}", b.zincrby(b"z", 0.5, b"a")),
            format!("{:?}", b.zmscore(b"z", &[b"a", b"x", b"d"])),
            format!("{:?}", b.zrank(b"z", b"b")),
            format!("{:?}", b.zcount(b"z", &r)),
            format!("{:?}", b.zrange(b"z", &q)),
            format!("{:?}", b.zrange(b"z", &ZRange::rank(0, -1))),
            format!(
                "{:?}",
                b.zadd(b"l", &[(0.0, b"p"), (0.0, b"q"), (0.0, b"r")])
            ),
            format!("{:?}", b.zrange(b"l", &lex)),
            format!("{:?}", b.zrangestore(b"{z}dst", b"z", &q)),
            format!(
                "{:?}",
                b.zsetop(ZSetOp::Union, &[b"z", b"l"], &[1.0, 2.0], Aggregate::Max)
            ),
            format!("{:?}", b.zintercard(&[b"z", b"l"], 0)),
            format!("{:?}", b.zpopmax(b"z", 2)),
            format!(
                "{:?}",
                b.zadd(b"s", &[(1.0, a)]).and_then(|_| b.zcard(b"q"))
            ),
            format!("{:?}", b.key_type(b"z")),
        ]
    }
    let server = RedisServer::start();
    let remote = RedisBackend::connect(&server.url()).unwrap();
    assert_eq!(script(&Store::new()), script(&remote));
}

/// Listpack limits, seen through `-0` scores (a listpack reads them back as `0`) and through
/// what the *STORE commands build, with `CONFIG SET` changing the limits.
#[test]
fn listpack_limits_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let script: &[&str] = &[
        "ZADD small -0 a",
        "ZSCORE small a",
        "CONFIG SET zset-max-listpack-entries 0",
        "ZADD big -0 a 1 b",
        "ZSCORE big a",
        "ZRANGESTORE dst big 0 0",
        "ZSCORE dst a",
        "ZRANGESTORE dst2 big -inf 0 BYSCORE",
        "ZSCORE dst2 a",
        "CONFIG SET zset-max-listpack-entries 128",
        "ZUNIONSTORE u 1 big",
        "ZSCORE u a",
        "ZUNION 1 big WITHSCORES",
        "CONFIG SET zset-max-listpack-value 1",
        "ZADD long -0 ab",
        "ZSCORE long ab",
        "ZADD short -0 a",
        "ZADD short -0 bb -0 c",
        "ZMSCORE short a bb c",
        "CONFIG SET zset-max-listpack-value 64",
    ];
    for line in script {
        let argv: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        common::same(&store, &mut redis, &argv);
    }
}
