//! Sorted sets: argv -> reply tables with Redis 7.0's exact texts, the typed methods,
//! blocking pops, WATCH, and snapshots.

mod common;

use common::table::{parse, run_text_table as run_table};
use sketchstore::types::zset::{Aggregate, ScoreRange, ZaddFlags};
use sketchstore::{KeyType, ManualClock, Reply, Store, ZRange, ZRangeBy, ZSetOp, ZaddReply};
use std::time::Duration;

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn zadd_and_scores() {
    let store = Store::new();
    run_table(
        &store,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3"),
            ("ZADD z 1 a 5 b", ":0"),
            ("ZADD z CH 1 a 6 b 7 d", ":2"),
            ("ZADD z NX 9 a 8 e", ":1"),
            ("ZADD z XX 9 a 8 nope", ":0"),
            ("ZSCORE z a", "9"),
            ("ZADD z GT CH 1 a 10 b", ":1"),
            ("ZADD z LT CH 1 a 10 b", ":1"),
            ("ZADD z INCR 2.5 a", "3.5"),
            ("ZADD z XX INCR 1 nope", "$-1"),
            ("ZADD z NX INCR 1 a", "$-1"),
            ("ZINCRBY z -0.5 a", "3"),
            ("ZINCRBY z 1 new", "1"),
            (
                "ZADD z NX XX 1 a",
                "-ERR XX and NX options at the same time are not compatible",
            ),
            (
                "ZADD z GT LT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible",
            ),
            (
                "ZADD z NX GT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible",
            ),
            (
                "ZADD z INCR 1 a 2 b",
                "-ERR INCR option supports a single increment-element pair",
            ),
            (
                "ZADD z 1",
                "-ERR wrong number of arguments for 'zadd' command",
            ),
            ("ZADD z 1 a 2", "-ERR syntax error"),
            ("ZADD z nan a", "-ERR value is not a valid float"),
            ("ZADD z 1 a x b", "-ERR value is not a valid float"),
            ("ZINCRBY z abc a", "-ERR value is not a valid float"),
            ("ZADD z inf i", ":1"),
            (
                "ZINCRBY z -inf i",
                "-ERR resulting score is not a number (NaN)",
            ),
            ("ZSCORE z i", "inf"),
            ("ZSCORE z nope", "$-1"),
            ("ZSCORE none a", "$-1"),
            ("ZMSCORE z a nope i", "[3, $-1, inf]"),
            ("ZMSCORE none a", "[$-1]"),
            ("ZCARD z", ":7"),
            ("ZCARD none", ":0"),
            ("TYPE z", "+zset"),
            ("SET s v", "+OK"),
            ("ZADD s 1 a", WRONGTYPE),
            ("ZADD s nan a", "-ERR value is not a valid float"),
            ("ZSCORE s a", WRONGTYPE),
            ("ZMSCORE s a", WRONGTYPE),
            ("ZCARD s", WRONGTYPE),
            (
                "ZADD z",
                "-ERR wrong number of arguments for 'zadd' command",
            ),
            ("ZADD xx XX 1 a", ":0"),
            ("EXISTS xx", ":0"),
        ],
    );
}

#[test]
fn ranks_ranges_and_counts() {
    let store = Store::new();
    run_table(
        &store,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5"),
            ("ZRANK z c", ":2"),
            ("ZREVRANK z c", ":2"),
            ("ZRANK z a", ":0"),
            ("ZREVRANK z a", ":4"),
            ("ZRANK z nope", "$-1"),
            ("ZRANGE z 0 -1", "[a, b, c, d, e]"),
            ("ZRANGE z -2 100", "[d, e]"),
            ("ZRANGE z 3 1", "[]"),
            ("ZRANGE z 0 1 WITHSCORES", "[a, 1, b, 2]"),
            ("ZRANGE z 0 1 REV", "[e, d]"),
            ("ZREVRANGE z 0 1 WITHSCORES", "[e, 5, d, 4]"),
            ("ZRANGE z (1 3 BYSCORE", "[b, c]"),
            ("ZRANGE z 3 (1 BYSCORE REV", "[c, b]"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 1 2", "[b, c]"),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 1 -1", "[b, c, d, e]"),
            ("ZRANGE z +inf -inf BYSCORE REV LIMIT 0 2 WITHSCORES", "[e, 5, d, 4]"),
            ("ZRANGEBYSCORE z 2 4 WITHSCORES LIMIT 1 1", "[c, 3]"),
            ("ZREVRANGEBYSCORE z 4 2", "[d, c, b]"),
            ("ZRANGEBYSCORE z x 2", "-ERR min or max is not a float"),
            ("ZCOUNT z (1 3", ":2"),
            ("ZCOUNT z -inf +inf", ":5"),
            ("ZCOUNT z a b", "-ERR min or max is not a float"),
            ("ZCOUNT none 0 1", ":0"),
            (
                "ZRANGE z 0 1 LIMIT 0 1",
                "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ),
            ("ZRANGE z 0 -1 LIMIT 0 -1", "[a, b, c, d, e]"),
            (
                "ZRANGE z - + BYLEX WITHSCORES",
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX",
            ),
            ("ZRANGE z 0 1 BYSCORE BYLEX", "-ERR syntax error"),
            ("ZREVRANGE z 0 1 REV", "-ERR syntax error"),
            ("ZRANGE z x 1", "-ERR value is not an integer or out of range"),
            ("ZRANGE none 0 -1", "[]"),
            ("ZADD l 0 a 0 b 0 c 0 d", ":4"),
            ("ZRANGEBYLEX l [b (d", "[b, c]"),
            ("ZRANGE l (d - BYLEX REV", "[c, b, a]"),
            ("ZREVRANGEBYLEX l + - LIMIT 1 2", "[c, b]"),
            ("ZLEXCOUNT l - +", ":4"),
            ("ZLEXCOUNT l b c", "-ERR min or max not valid string range item"),
            ("ZRANGESTORE dst z 1 2", ":2"),
            ("ZRANGE dst 0 -1 WITHSCORES", "[b, 2, c, 3]"),
            ("ZRANGESTORE dst z 5 (5 BYSCORE", ":0"),
            ("EXISTS dst", ":0"),
            ("ZRANGESTORE dst z 0 -1 WITHSCORES", "-ERR syntax error"),
            ("ZRANGESTORE dst none 0 -1", ":0"),
        ],
    );
}

#[test]
fn removal_and_pops() {
    let store = Store::new();
    run_table(
        &store,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", ":6"),
            ("ZREM z a nope a", ":1"),
            ("ZREMRANGEBYRANK z 0 0", ":1"),
            ("ZREMRANGEBYSCORE z (5 +inf", ":1"),
            ("ZRANGE z 0 -1", "[c, d, e]"),
            (
                "ZREMRANGEBYRANK z x 1",
                "-ERR value is not an integer or out of range",
            ),
            ("ZREMRANGEBYSCORE z x 1", "-ERR min or max is not a float"),
            (
                "ZREMRANGEBYLEX z x 1",
                "-ERR min or max not valid string range item",
            ),
            ("ZPOPMIN z", "[c, 3]"),
            ("ZPOPMAX z 5", "[e, 5, d, 4]"),
            ("EXISTS z", ":0"),
            ("ZPOPMIN z", "[]"),
            (
                "ZPOPMIN z -1",
                "-ERR value is out of range, must be positive",
            ),
            ("ZPOPMIN z 1 2", "-ERR syntax error"),
            ("ZADD z 1 a 2 b", ":2"),
            ("ZPOPMIN z 0", "[]"),
            ("ZMPOP 2 none z MAX COUNT 5", "[z, [[b, 2], [a, 1]]]"),
            ("ZMPOP 1 z MIN", "*-1"),
            ("ZMPOP 0 z MIN", "-ERR numkeys should be greater than 0"),
            ("ZMPOP 1 z MID", "-ERR syntax error"),
            (
                "ZMPOP 1 z MIN COUNT 0",
                "-ERR count should be greater than 0",
            ),
            ("ZMPOP 3 z MIN", "-ERR syntax error"),
            ("ZADD z 1 a", ":1"),
            ("BZPOPMIN none z 0", "[z, a, 1]"),
            ("BZPOPMIN z 0.01", "*-1"),
            ("BZPOPMIN z -1", "-ERR timeout is negative"),
            (
                "BZPOPMIN z x",
                "-ERR timeout is not a float or out of range",
            ),
            ("ZADD z 1 a 2 b 3 c", ":3"),
            ("BZMPOP 0 1 z MAX COUNT 2", "[z, [[c, 3], [b, 2]]]"),
            ("SET s v", "+OK"),
            ("ZPOPMIN s", WRONGTYPE),
            ("ZMPOP 2 none s MIN", WRONGTYPE),
            ("BZPOPMAX s 0", WRONGTYPE),
            ("ZREM s a", WRONGTYPE),
        ],
    );
}

#[test]
fn algebra() {
    let store = Store::new();
    run_table(
        &store,
        &[
            ("ZADD a 1 x 2 y 3 z", ":3"),
            ("ZADD b 10 y 20 z 30 w", ":3"),
            ("ZUNION 2 a b WITHSCORES", "[x, 1, y, 12, z, 23, w, 30]"),
            ("ZINTER 2 a b AGGREGATE MAX WITHSCORES", "[y, 10, z, 20]"),
            ("ZINTER 2 a b WEIGHTS 2 0.5 WITHSCORES", "[y, 9, z, 16]"),
            ("ZDIFF 2 a b WITHSCORES", "[x, 1]"),
            ("ZUNIONSTORE dst 2 a b AGGREGATE MIN", ":4"),
            ("ZRANGE dst 0 -1 WITHSCORES", "[x, 1, y, 2, z, 3, w, 30]"),
            ("ZINTERSTORE dst 2 a none", ":0"),
            ("EXISTS dst", ":0"),
            ("ZDIFFSTORE dst 1 a", ":3"),
            ("ZINTERCARD 2 a b", ":2"),
            ("ZINTERCARD 2 a b LIMIT 1", ":1"),
            ("ZINTERCARD 2 a b LIMIT -1", "-ERR LIMIT can't be negative"),
            (
                "ZUNION 0 a",
                "-ERR at least 1 input key is needed for 'zunion' command",
            ),
            (
                "ZINTERSTORE d 0 a",
                "-ERR at least 1 input key is needed for 'zinterstore' command",
            ),
            ("ZUNION 3 a b", "-ERR syntax error"),
            ("ZUNION x a", "-ERR value is not an integer or out of range"),
            ("ZUNION 2 a b WEIGHTS 1 x", "-ERR weight value is not a float"),
            ("ZUNION 2 a b AGGREGATE AVG", "-ERR syntax error"),
            ("ZDIFF 2 a b WEIGHTS 1 2", "-ERR syntax error"),
            ("ZUNIONSTORE d 1 a WITHSCORES", "-ERR syntax error"),
            ("SET s v", "+OK"),
            ("ZUNION 2 a s WEIGHTS 1 x", WRONGTYPE),
            ("ZINTERCARD 1 s", WRONGTYPE),
            ("ZSCAN z 0", "[0, []]"),
            ("ZSCAN a 0", "[0, [x, 1, y, 2, z, 3]]"),
            ("ZSCAN a 0 MATCH y*", "[0, [y, 2]]"),
            ("ZSCAN a 0 COUNT 0", "-ERR syntax error"),
            ("ZSCAN a x", "-ERR invalid cursor"),
            ("ZSCAN s 0", WRONGTYPE),
            ("ZRANDMEMBER none", "$-1"),
            ("ZRANDMEMBER none 3", "[]"),
            ("ZRANDMEMBER a 5 WITHSCORES", "[z, 3, y, 2, x, 1]"),
            ("ZRANDMEMBER a 0", "[]"),
            ("ZRANDMEMBER a 1 BOGUS", "-ERR syntax error"),
            (
                "ZRANDMEMBER a -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ),
            ("ZRANDMEMBER a -9223372036854775807 WITHSCORES", "-ERR value is out of range"),
        ],
    );
}

#[test]
fn typed_methods() {
    let store = Store::new();
    assert_eq!(store.zadd("z", &[(1.0, "a"), (2.0, "b")]).unwrap(), 2);
    assert_eq!(
        store
            .zadd_with(
                "z",
                ZaddFlags {
                    incr: true,
                    ..ZaddFlags::default()
                },
                false,
                &[(0.5, "a")]
            )
            .unwrap(),
        ZaddReply::Score(Some(1.5))
    );
    assert_eq!(store.zincrby("z", 1.0, "c").unwrap(), 1.0);
    assert_eq!(store.zscore("z", "a").unwrap(), Some(1.5));
    assert_eq!(
        store.zmscore("z", &["a", "x"]).unwrap(),
        vec![Some(1.5), None]
    );
    assert_eq!(store.zcard("z").unwrap(), 3);
    assert_eq!(store.zrank("z", "b").unwrap(), Some(2));
    assert_eq!(store.zrevrank("z", "b").unwrap(), Some(0));
    let all = ScoreRange::parse(b"-inf", b"+inf").unwrap();
    assert_eq!(store.zcount("z", &all).unwrap(), 3);
    let q = ZRange {
        by: ZRangeBy::Score(all),
        rev: true,
        limit: Some((0, 2)),
    };
    assert_eq!(
        store.zrange("z", &q).unwrap(),
        vec![(b"b".to_vec(), 2.0), (b"a".to_vec(), 1.5)]
    );
    assert_eq!(store.zrangestore("d", "z", &ZRange::rank(0, 0)).unwrap(), 1);
    assert_eq!(
        store
            .zsetop(ZSetOp::Union, &["z", "d"], &[], Aggregate::Sum)
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store
            .zsetop_store("u", ZSetOp::Inter, &["z", "d"], &[2.0, 1.0], Aggregate::Sum)
            .unwrap(),
        1
    );
    assert_eq!(store.zscore("u", "c").unwrap(), Some(3.0));
    assert_eq!(store.zintercard(&["z", "d"], 0).unwrap(), 1);
    assert_eq!(store.zrandmember("z", -5).unwrap().len(), 5);
    assert_eq!(store.zremrange("z", &ZRangeBy::Rank(0, 0)).unwrap(), 1);
    assert_eq!(store.zrem("z", &["a", "x"]).unwrap(), 1);
    assert_eq!(store.zpopmax("z", 5).unwrap(), vec![(b"b".to_vec(), 2.0)]);
    assert_eq!(store.zpopmin("z", 5).unwrap(), vec![]);
    store.zadd("m", &[(1.0, "a"), (2.0, "b")]).unwrap();
    assert_eq!(
        store.zmpop(&["z", "m"], true, 1).unwrap(),
        Some((b"m".to_vec(), vec![(b"b".to_vec(), 2.0)]))
    );
    assert_eq!(
        store.bzpop(&["z", "m"], false, Duration::ZERO).unwrap(),
        Some((b"m".to_vec(), b"a".to_vec(), 1.0))
    );
    assert_eq!(store.key_type("m").unwrap(), KeyType::None);
    assert_eq!(store.key_type("u").unwrap(), KeyType::ZSet);
    store.set("s", "v").unwrap();
    assert_eq!(
        store.zadd("s", &[(1.0, "a")]).unwrap_err().to_string(),
        WRONGTYPE.trim_start_matches('-')
    );
}

#[test]
fn a_blocked_pop_is_served_by_zadd_in_arrival_order() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    let s1 = store.clone();
    let first = std::thread::spawn(move || s1.bzpop(&["q"], false, Duration::from_secs(5)));
    while store.blocked_clients() < 1 {
        std::thread::yield_now();
    }
    let s2 = store.clone();
    let second = std::thread::spawn(move || s2.bzmpop(&["q"], true, 2, Duration::from_secs(5)));
    while store.blocked_clients() < 2 {
        std::thread::yield_now();
    }
    assert_eq!(
        store.execute(&["ZADD", "q", "1", "a", "2", "b", "3", "c"]),
        Reply::Integer(3)
    );
    assert_eq!(
        first.join().unwrap().unwrap(),
        Some((b"q".to_vec(), b"a".to_vec(), 1.0))
    );
    assert_eq!(
        second.join().unwrap().unwrap(),
        Some((
            b"q".to_vec(),
            vec![(b"c".to_vec(), 3.0), (b"b".to_vec(), 2.0)]
        ))
    );
    assert_eq!(store.zcard("q").unwrap(), 0);
    // A timeout on the manual clock.
    let s3 = store.clone();
    let waiter = std::thread::spawn(move || s3.bzpop(&["q"], true, Duration::from_millis(100)));
    while store.blocked_clients() < 1 {
        std::thread::yield_now();
    }
    clock.advance(Duration::from_millis(100));
    assert_eq!(waiter.join().unwrap().unwrap(), None);
    // A list push does not serve a sorted-set waiter.
    let s4 = store.clone();
    let waiter = std::thread::spawn(move || s4.bzpop(&["k"], true, Duration::from_millis(50)));
    while store.blocked_clients() < 1 {
        std::thread::yield_now();
    }
    store.execute(&["RPUSH", "k", "x"]);
    clock.advance(Duration::from_millis(50));
    assert_eq!(waiter.join().unwrap().unwrap(), None);
    assert_eq!(store.execute(&["LLEN", "k"]), Reply::Integer(1));
}

#[test]
fn blocking_pops_inside_multi_do_not_wait() {
    let store = Store::new();
    let mut c = store.connection();
    assert_eq!(c.execute(&["MULTI"]), Reply::ok());
    assert_eq!(c.execute(&["BZPOPMIN", "q", "0"]), Reply::status("QUEUED"));
    assert_eq!(c.execute(&["ZADD", "q", "1", "a"]), Reply::status("QUEUED"));
    assert_eq!(
        c.execute(&["BZMPOP", "0", "1", "q", "MIN"]),
        Reply::status("QUEUED")
    );
    assert_eq!(c.execute(&["EXEC"]), parse("[*-1, :1, [q, [[a, 1]]]]"));
}

#[test]
fn watch_sees_sorted_set_writes() {
    let store = Store::new();
    store.zadd("z", &[(1.0, "a")]).unwrap();
    let mut c = store.connection();
    c.execute(&["WATCH", "z"]);
    store.zincrby("z", 1.0, "a").unwrap();
    c.execute(&["MULTI"]);
    c.execute(&["ZCARD", "z"]);
    assert_eq!(c.execute(&["EXEC"]), Reply::NilArray);
    // A ZADD that changes nothing does not touch the key.
    c.execute(&["WATCH", "z"]);
    store.zadd("z", &[(2.0, "a")]).unwrap();
    c.execute(&["MULTI"]);
    c.execute(&["ZCARD", "z"]);
    assert_eq!(c.execute(&["EXEC"]), parse("[:1]"));
}

#[test]
fn snapshots_keep_members_scores_and_encoding() {
    let dir = std::env::temp_dir().join(format!("sketchstore-zsets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snap");
    let store = Store::new();
    store
        .zadd("small", &[(1.5, "a"), (-0.0, "b"), (f64::INFINITY, "c")])
        .unwrap();
    let big: Vec<(f64, String)> = (0..300)
        .map(|i| (f64::from(i) / 7.0, format!("m{i}")))
        .collect();
    store.zadd("big", &big).unwrap();
    store.execute(&["PEXPIRE", "small", "100000000"]);
    assert_eq!(store.save(&path).unwrap(), 2);
    let loaded = Store::open(&path).unwrap();
    for key in ["small", "big"] {
        let argv = ["ZRANGE", key, "0", "-1", "WITHSCORES"];
        assert_eq!(loaded.execute(&argv), store.execute(&argv), "{key}");
    }
    assert_eq!(
        loaded.execute(&["TTL", "small"]),
        store.execute(&["TTL", "small"])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs the `Backend` trait's typed sorted-set methods on `b` and returns what they answered.
fn backend_script(b: &dyn sketchstore::Backend) -> Vec<String> {
    use sketchstore::types::zset::LexRange;
    let mut out = Vec::new();
    let mut log = |what: &str, v: String| out.push(format!("{what}: {v}"));
    let a: &[u8] = b"a";
    log(
        "zadd",
        format!(
            "{:?}",
            b.zadd(
                b"z",
                &[(1.0, a), (2.5, b"b"), (-0.0, b"c"), (f64::INFINITY, b"d")]
            )
        ),
    );
    log("zincrby", format!("{:?}", b.zincrby(b"z", 0.5, b"a")));
    log("zscore", format!("{:?}", b.zscore(b"z", b"d")));
    log("zmscore", format!("{:?}", b.zmscore(b"z", &[b"a", b"x"])));
    log("zrank", format!("{:?}", b.zrank(b"z", b"b")));
    log("zrevrank", format!("{:?}", b.zrevrank(b"z", b"x")));
    log("zcard", format!("{:?}", b.zcard(b"z")));
    let r = ScoreRange::parse(b"(0", b"+inf").unwrap();
    log("zcount", format!("{:?}", b.zcount(b"z", &r)));
    let q = ZRange {
        by: ZRangeBy::Score(r),
        rev: true,
        limit: Some((1, 5)),
    };
    log("zrange score rev", format!("{:?}", b.zrange(b"z", &q)));
    log(
        "zrange rank",
        format!("{:?}", b.zrange(b"z", &ZRange::rank(0, -1))),
    );
    b.zadd(b"l", &[(0.0, b"p"), (0.0, b"q"), (0.0, b"r")])
        .unwrap();
    let lex = ZRange {
        by: ZRangeBy::Lex(LexRange::parse(b"(p", b"+").unwrap()),
        rev: true,
        limit: None,
    };
    log("zrange lex", format!("{:?}", b.zrange(b"l", &lex)));
    log(
        "zrangestore",
        format!("{:?}", b.zrangestore(b"dst", b"z", &q)),
    );
    log(
        "zunion",
        format!(
            "{:?}",
            b.zsetop(ZSetOp::Union, &[b"z", b"dst"], &[1.0, 2.0], Aggregate::Max)
        ),
    );
    log(
        "zinterstore",
        format!(
            "{:?}",
            b.zsetop_store(b"i", ZSetOp::Inter, &[b"z", b"dst"], &[], Aggregate::Sum)
        ),
    );
    log(
        "zdiff",
        format!(
            "{:?}",
            b.zsetop(ZSetOp::Diff, &[b"z", b"dst"], &[], Aggregate::Sum)
        ),
    );
    log(
        "zintercard",
        format!("{:?}", b.zintercard(&[b"z", b"dst"], 0)),
    );
    log(
        "zremrange",
        format!("{:?}", b.zremrange(b"l", &ZRangeBy::Rank(0, 0))),
    );
    log("zrem", format!("{:?}", b.zrem(b"z", &[b"c", b"x"])));
    log("zpopmax", format!("{:?}", b.zpopmax(b"z", 2)));
    log("zpopmin", format!("{:?}", b.zpopmin(b"z", 5)));
    log("zpopmin missing", format!("{:?}", b.zpopmin(b"z", 5)));
    log("type", format!("{:?}", b.key_type(b"i")));
    out
}

struct ViaExecute(Store);

impl sketchstore::Backend for ViaExecute {
    fn execute(&self, argv: &[&[u8]]) -> sketchstore::Result<Reply> {
        Ok(self.0.execute(argv))
    }
}

#[test]
fn backend_defaults_agree_with_the_store() {
    let direct = backend_script(&Store::new());
    let via = backend_script(&ViaExecute(Store::new()));
    assert_eq!(direct, via);
    assert!(direct[0].contains("Ok(4)"), "{direct:?}");
}

#[test]
fn an_async_pop_waits_and_a_dropped_one_gives_entries_back() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let store = Store::new();
    let argv = |s: &str| {
        s.split(' ')
            .map(|w| w.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut waiter = store.connection();
        let mut adder = store.connection();
        let (popped, added) = tokio::join!(waiter.execute_async(argv("BZMPOP 5 1 q MAX")), async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            adder.execute_async(argv("ZADD q 1 a 2 b")).await
        });
        assert_eq!(added, Reply::Integer(2));
        assert_eq!(popped, parse("[q, [[b, 2]]]"));
    });
    // Served while nobody polls, then dropped: the entry goes back.
    let mut conn = store.connection();
    let mut cx = Context::from_waker(Waker::noop());
    {
        let mut fut = Box::pin(conn.execute_async(argv("BZPOPMIN e 0")));
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
        assert_eq!(store.blocked_clients(), 1);
        assert_eq!(store.execute(&["ZADD", "e", "7", "x"]), Reply::Integer(1));
        assert_eq!(store.execute(&["ZCARD", "e"]), Reply::Integer(0));
    }
    assert_eq!(store.blocked_clients(), 0);
    assert_eq!(store.execute(&["ZSCORE", "e", "x"]), Reply::bulk("7"));
}
