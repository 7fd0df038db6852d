//! The `Backend` contract: one suite of scenarios, written once against `&dyn Backend`, run on
//! every implementation: the embedded `Store`, a `RedisBackend` on a real redis-server, and a
//! `RedisBackend` on a local 3-node Redis Cluster (the last two with the `redis` feature).
//!
//! Each scenario takes the backend and a key prefix, and asserts exact results and exact
//! error texts (an error's `Display` is Redis's text). The prefix is a hash tag (`{c-bits}:`),
//! so that all keys of a scenario share one cluster slot. A new family adds its scenarios
//! to [`SCENARIOS`]; every backend then runs them.

mod common;

use sketchstore::types::bitmap::{BitOp, BitUnit, BitfieldType, BitposRange, Overflow};
use sketchstore::{
    Backend, BitfieldOp, Error, ExpireCondition, KeyType, SetCondition, SetExpiry, SetOptions,
    Store, Ttl,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A scenario: a name and a function of the backend and a key prefix.
type Scenario = (&'static str, fn(&dyn Backend, &str));

/// Every scenario, in the order they run. `keyspace` flushes the whole database, so it runs
/// first.
const SCENARIOS: &[Scenario] = &[
    ("keyspace", keyspace),
    ("strings", strings),
    ("set_options", set_options),
    ("counters", counters),
    ("hashes", hashes),
    ("expiry", expiry),
    ("bits", bits),
    ("bitfield", bitfield),
    ("wrong_type", wrong_type),
    ("setex_invalid_ttl", setex_invalid_ttl),
    ("expire_conflicting_options", expire_conflicting_options),
];

/// Scenarios the embedded store is known to fail, with the divergence from Redis. The run
/// fails if one of them passes, so that the entry is removed with the fix.
const EMBEDDED_KNOWN_DIVERGENCES: &[(&str, &str)] = &[];

/// Runs every scenario on `backend`, each with its own prefix, and fails listing the
/// scenarios that failed (their panics are printed as they happen).
fn run_contract(backend: &dyn Backend, tag: &str, known: &[(&str, &str)]) {
    let mut failed = Vec::new();
    let mut fixed = Vec::new();
    for (name, scenario) in SCENARIOS {
        let prefix = format!("{{{tag}-{name}}}:");
        let ok = catch_unwind(AssertUnwindSafe(|| scenario(backend, &prefix))).is_ok();
        match (ok, known.iter().find(|(n, _)| n == name)) {
            (false, None) => failed.push(*name),
            (false, Some((_, why))) => eprintln!("[{tag}] {name}: known divergence: {why}"),
            (true, Some(_)) => fixed.push(*name),
            (true, None) => {}
        }
    }
    assert!(failed.is_empty(), "[{tag}] failed scenarios: {failed:?}");
    assert!(
        fixed.is_empty(),
        "[{tag}] scenarios listed as known divergences now pass; remove them: {fixed:?}"
    );
}

#[test]
fn contract_embedded_store() {
    run_contract(&Store::new(), "embedded", EMBEDDED_KNOWN_DIVERGENCES);
}

#[cfg(feature = "redis")]
#[test]
fn contract_redis_server() {
    let server = common::RedisServer::start();
    let backend = sketchstore::RedisBackend::connect(&server.url()).expect("connect");
    run_contract(&backend, "server", &[]);
}

#[cfg(feature = "redis")]
#[test]
fn contract_redis_cluster() {
    let cluster = common::cluster::RedisCluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let backend = sketchstore::RedisBackend::cluster(&nodes).expect("connect to the cluster");
    run_contract(&backend, "cluster", &[]);
}

// ---- helpers ----

fn key(prefix: &str, name: &str) -> Vec<u8> {
    format!("{prefix}{name}").into_bytes()
}

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e.to_string(),
    }
}

fn some(v: &str) -> Option<Vec<u8>> {
    Some(v.as_bytes().to_vec())
}

fn bytes(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn expires_within(t: Ttl, max: Duration) {
    match t {
        Ttl::Expires(d) => assert!(
            d <= max && d > max.saturating_sub(Duration::from_secs(5)),
            "ttl {d:?} not just under {max:?}"
        ),
        other => panic!("expected a ttl just under {max:?}, got {other:?}"),
    }
}

// Real servers expire by wall-clock time, so absolute expiry times come from it.
#[allow(clippy::disallowed_methods)]
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

// ---- scenarios ----

fn keyspace(b: &dyn Backend, p: &str) {
    let (a, c, h) = (key(p, "a"), key(p, "c"), key(p, "h"));
    b.flushall().unwrap();
    assert_eq!(b.dbsize().unwrap(), 0);
    b.set(&a, b"1").unwrap();
    b.set(&c, b"2").unwrap();
    b.hset(&h, &[(b"f", b"v")]).unwrap();
    assert_eq!(b.dbsize().unwrap(), 3);
    assert_eq!(
        b.exists(&[&a, &c, &key(p, "missing"), &a]).unwrap(),
        3,
        "duplicates count each time"
    );
    assert_eq!(b.key_type(&a).unwrap(), KeyType::String);
    assert_eq!(b.key_type(&h).unwrap(), KeyType::Hash);
    assert_eq!(b.key_type(&key(p, "missing")).unwrap(), KeyType::None);

    let pattern = format!("{p}*");
    let all = sorted(vec![a.clone(), c.clone(), h.clone()]);
    assert_eq!(sorted(b.keys(pattern.as_bytes()).unwrap()), all);
    assert_eq!(
        b.keys(format!("{p}?").as_bytes()).unwrap().len(),
        3,
        "? matches one byte"
    );
    assert_eq!(b.keys(format!("{p}[ac]").as_bytes()).unwrap().len(), 2);

    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = b.scan(cursor, Some(pattern.as_bytes()), 1).unwrap();
        seen.extend(page.keys);
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, all, "a full SCAN returns every key");

    let renamed = key(p, "renamed");
    b.rename(&a, &renamed).unwrap();
    assert_eq!(b.get(&renamed).unwrap(), some("1"));
    assert_eq!(b.exists(&[&a]).unwrap(), 0);
    assert_eq!(err_text(b.rename(&a, &renamed)), "ERR no such key");
    assert!(!b.renamenx(&renamed, &c).unwrap(), "target exists");
    assert!(b.renamenx(&renamed, &a).unwrap());
    assert_eq!(err_text(b.renamenx(&renamed, &a)), "ERR no such key");

    assert_eq!(b.del(&[&a, &c, &key(p, "missing")]).unwrap(), 2);
    assert_eq!(b.dbsize().unwrap(), 1);
    b.flushall().unwrap();
    assert_eq!(b.dbsize().unwrap(), 0);
    assert_eq!(b.keys(b"*").unwrap(), Vec::<Vec<u8>>::new());
}

fn strings(b: &dyn Backend, p: &str) {
    let (k, k2, missing) = (key(p, "k"), key(p, "k2"), key(p, "missing"));
    assert_eq!(b.get(&k).unwrap(), None);
    b.set(&k, b"hello").unwrap();
    assert_eq!(b.get(&k).unwrap(), some("hello"));
    b.set(&k, b"").unwrap();
    assert_eq!(b.get(&k).unwrap(), some(""), "empty value is a value");
    b.set(&k, b"\x00\xffbin").unwrap();
    assert_eq!(b.get(&k).unwrap(), Some(b"\x00\xffbin".to_vec()));

    assert!(b.setnx(&k2, b"first").unwrap());
    assert!(!b.setnx(&k2, b"second").unwrap());
    assert_eq!(b.get(&k2).unwrap(), some("first"));

    assert_eq!(b.getdel(&k2).unwrap(), some("first"));
    assert_eq!(b.getdel(&k2).unwrap(), None);

    b.mset(&[(&k, b"1"), (&k2, b"2")]).unwrap();
    assert_eq!(
        b.mget(&[&k, &missing, &k2]).unwrap(),
        vec![some("1"), None, some("2")]
    );

    assert_eq!(b.append(&k, b"23").unwrap(), 3);
    assert_eq!(b.append(&missing, b"new").unwrap(), 3);
    assert_eq!(b.strlen(&k).unwrap(), 3);
    assert_eq!(b.strlen(&key(p, "none")).unwrap(), 0);
    b.set(&k, b"Hello World").unwrap();
    assert_eq!(b.getrange(&k, 0, 4).unwrap(), b"Hello");
    assert_eq!(b.getrange(&k, -5, -1).unwrap(), b"World");
    assert_eq!(b.getrange(&k, 5, 2).unwrap(), b"");
    assert_eq!(b.getrange(&k, 0, 1000).unwrap(), b"Hello World");
    assert_eq!(b.getrange(&key(p, "none"), 0, -1).unwrap(), b"");

    b.setex(&k, Duration::from_secs(100), b"v").unwrap();
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(100));
}

fn set_options(b: &dyn Backend, p: &str) {
    let k = key(p, "k");
    let nx = SetOptions {
        condition: Some(SetCondition::Nx),
        ..SetOptions::default()
    };
    let xx = SetOptions {
        condition: Some(SetCondition::Xx),
        ..SetOptions::default()
    };
    let out = b.set_with(&k, b"a", xx).unwrap();
    assert!(!out.written);
    assert_eq!(out.previous, None);
    assert_eq!(b.get(&k).unwrap(), None);
    assert!(b.set_with(&k, b"a", nx).unwrap().written);
    assert!(!b.set_with(&k, b"b", nx).unwrap().written);
    assert!(b.set_with(&k, b"c", xx).unwrap().written);
    assert_eq!(b.get(&k).unwrap(), some("c"));

    let get = SetOptions {
        get: true,
        ..SetOptions::default()
    };
    let out = b.set_with(&k, b"d", get).unwrap();
    assert!(out.written);
    assert_eq!(out.previous, some("c"));
    let out = b
        .set_with(&k, b"e", SetOptions { get: true, ..nx })
        .unwrap();
    assert!(!out.written);
    assert_eq!(out.previous, some("d"));
    assert_eq!(b.get(&k).unwrap(), some("d"));

    let ttl = SetOptions {
        expiry: Some(SetExpiry::In(Duration::from_secs(50))),
        ..SetOptions::default()
    };
    assert!(b.set_with(&k, b"t", ttl).unwrap().written);
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(50));
    let keep = SetOptions {
        expiry: Some(SetExpiry::KeepTtl),
        ..SetOptions::default()
    };
    b.set_with(&k, b"kept", keep).unwrap();
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(50));
    b.set(&k, b"plain").unwrap();
    assert_eq!(b.ttl(&k).unwrap(), Ttl::Persistent, "SET clears the ttl");

    let at = SetOptions {
        expiry: Some(SetExpiry::AtMs(now_ms() + 30_000)),
        ..SetOptions::default()
    };
    b.set_with(&k, b"at", at).unwrap();
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(30));

    let zero = SetOptions {
        expiry: Some(SetExpiry::In(Duration::ZERO)),
        ..SetOptions::default()
    };
    assert_eq!(
        err_text(b.set_with(&k, b"x", zero)),
        "ERR invalid expire time in 'set' command"
    );

    b.hset(&key(p, "h"), &[(b"f", b"v")]).unwrap();
    assert_eq!(err_text(b.set_with(&key(p, "h"), b"x", get)), WRONGTYPE);
}

fn counters(b: &dyn Backend, p: &str) {
    let (n, s, f) = (key(p, "n"), key(p, "s"), key(p, "f"));
    assert_eq!(b.incr(&n).unwrap(), 1);
    assert_eq!(b.incrby(&n, 41).unwrap(), 42);
    assert_eq!(b.decrby(&n, 50).unwrap(), -8);
    assert_eq!(b.incrby(&n, -2).unwrap(), -10);
    assert_eq!(b.get(&n).unwrap(), some("-10"));

    b.set(&s, b"abc").unwrap();
    assert_eq!(err_text(b.incr(&s)), NOT_INTEGER);
    b.set(&s, b" 1").unwrap();
    assert_eq!(err_text(b.incrby(&s, 1)), NOT_INTEGER);
    b.set(&s, i64::MAX.to_string().as_bytes()).unwrap();
    assert_eq!(
        err_text(b.incr(&s)),
        "ERR increment or decrement would overflow"
    );
    b.set(&s, b"0").unwrap();
    assert_eq!(
        err_text(b.decrby(&s, i64::MIN)),
        "ERR decrement would overflow"
    );

    assert_eq!(b.incrbyfloat(&f, b"10.5").unwrap(), b"10.5");
    assert_eq!(b.incrbyfloat(&f, b"0.1").unwrap(), b"10.6");
    assert_eq!(b.incrbyfloat(&f, b"-5").unwrap(), b"5.6");
    // Redis adds in long double and prints 17 decimals, trailing zeros trimmed.
    assert_eq!(
        b.incrbyfloat(&f, b"5.0e3").unwrap(),
        b"5005.60000000000000009"
    );
    assert_eq!(
        err_text(b.incrbyfloat(&f, b"abc")),
        "ERR value is not a valid float"
    );
    b.set(&s, b"x").unwrap();
    assert_eq!(
        err_text(b.incrbyfloat(&s, b"1")),
        "ERR value is not a valid float"
    );
    b.set(&f, b"1").unwrap();
    assert_eq!(
        err_text(b.incrbyfloat(&f, b"inf")),
        "ERR increment would produce NaN or Infinity"
    );
}

fn hashes(b: &dyn Backend, p: &str) {
    let (h, missing) = (key(p, "h"), key(p, "missing"));
    assert_eq!(b.hset(&h, &[(b"a", b"1"), (b"b", b"2")]).unwrap(), 2);
    assert_eq!(b.hset(&h, &[(b"a", b"10"), (b"c", b"3")]).unwrap(), 1);
    assert!(!b.hsetnx(&h, b"a", b"x").unwrap());
    assert!(b.hsetnx(&h, b"d", b"4").unwrap());
    assert_eq!(b.hget(&h, b"a").unwrap(), some("10"));
    assert_eq!(b.hget(&h, b"zz").unwrap(), None);
    assert_eq!(b.hget(&missing, b"a").unwrap(), None);
    assert_eq!(
        b.hmget(&h, &[b"a", b"zz", b"d"]).unwrap(),
        vec![some("10"), None, some("4")]
    );
    assert_eq!(b.hmget(&missing, &[b"a"]).unwrap(), vec![None]);
    assert_eq!(
        sorted(b.hgetall(&h).unwrap()),
        vec![
            (b"a".to_vec(), b"10".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
            (b"c".to_vec(), b"3".to_vec()),
            (b"d".to_vec(), b"4".to_vec()),
        ]
    );
    assert_eq!(b.hgetall(&missing).unwrap(), vec![]);
    assert_eq!(sorted(b.hkeys(&h).unwrap()), bytes(&["a", "b", "c", "d"]));
    assert_eq!(sorted(b.hvals(&h).unwrap()), bytes(&["10", "2", "3", "4"]));
    assert_eq!(b.hlen(&h).unwrap(), 4);
    assert_eq!(b.hlen(&missing).unwrap(), 0);
    assert!(b.hexists(&h, b"b").unwrap());
    assert!(!b.hexists(&h, b"zz").unwrap());
    assert_eq!(b.hdel(&h, &[b"b", b"zz", b"b"]).unwrap(), 1);
    assert_eq!(b.hincrby(&h, b"a", 5).unwrap(), 15);
    assert_eq!(b.hincrby(&h, b"new", -3).unwrap(), -3);
    assert_eq!(b.hincrbyfloat(&h, b"a", b"0.5").unwrap(), b"15.5");
    assert_eq!(b.hincrbyfloat(&h, b"fl", b"1e2").unwrap(), b"100");

    b.hset(&h, &[(b"text", b"abc")]).unwrap();
    assert_eq!(
        err_text(b.hincrby(&h, b"text", 1)),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        err_text(b.hincrbyfloat(&h, b"text", b"1")),
        "ERR hash value is not a float"
    );
    assert_eq!(
        err_text(b.hincrbyfloat(&h, b"a", b"x")),
        "ERR value is not a valid float"
    );
    b.hset(&h, &[(b"max", i64::MAX.to_string().as_bytes())])
        .unwrap();
    assert_eq!(
        err_text(b.hincrby(&h, b"max", 1)),
        "ERR increment or decrement would overflow"
    );

    assert_eq!(
        b.hdel(&h, &[b"a", b"c", b"d", b"new", b"fl", b"text", b"max"])
            .unwrap(),
        7
    );
    assert_eq!(b.exists(&[&h]).unwrap(), 0, "the last HDEL removes the key");
}

fn expiry(b: &dyn Backend, p: &str) {
    let (k, missing) = (key(p, "k"), key(p, "missing"));
    assert_eq!(b.ttl(&missing).unwrap(), Ttl::Missing);
    assert!(!b.expire(&missing, Duration::from_secs(10)).unwrap());
    assert!(!b.persist(&missing).unwrap());

    b.set(&k, b"v").unwrap();
    assert_eq!(b.ttl(&k).unwrap(), Ttl::Persistent);
    assert!(!b.persist(&k).unwrap(), "nothing to persist");
    let nx = ExpireCondition {
        nx: true,
        ..ExpireCondition::default()
    };
    let xx = ExpireCondition {
        xx: true,
        ..ExpireCondition::default()
    };
    let gt = ExpireCondition {
        gt: true,
        ..ExpireCondition::default()
    };
    let lt = ExpireCondition {
        lt: true,
        ..ExpireCondition::default()
    };
    assert!(!b.expire_if(&k, Duration::from_secs(100), xx).unwrap());
    assert!(
        !b.expire_if(&k, Duration::from_secs(100), gt).unwrap(),
        "no ttl is infinite"
    );
    assert!(b.expire_if(&k, Duration::from_secs(100), nx).unwrap());
    assert!(!b.expire_if(&k, Duration::from_secs(50), nx).unwrap());
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(100));
    assert!(!b.expire_if(&k, Duration::from_secs(50), gt).unwrap());
    assert!(b.expire_if(&k, Duration::from_secs(200), gt).unwrap());
    assert!(!b.expire_if(&k, Duration::from_secs(300), lt).unwrap());
    assert!(b.expire_if(&k, Duration::from_secs(60), lt).unwrap());
    assert!(b.expire_if(&k, Duration::from_secs(70), xx).unwrap());
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(70));
    assert!(b.persist(&k).unwrap());
    assert_eq!(b.ttl(&k).unwrap(), Ttl::Persistent);

    assert!(b.expire(&k, Duration::from_secs(1000)).unwrap());
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(1000));
    assert!(b.pexpireat(&k, now_ms() + 20_000).unwrap());
    expires_within(b.ttl(&k).unwrap(), Duration::from_secs(20));
    assert!(!b.pexpireat(&missing, now_ms() + 20_000).unwrap());
    assert!(
        b.pexpireat(&k, now_ms() - 1000).unwrap(),
        "a past time deletes"
    );
    assert_eq!(b.ttl(&k).unwrap(), Ttl::Missing);
    assert_eq!(b.get(&k).unwrap(), None);

    b.set(&k, b"v").unwrap();
    assert!(b.expire(&k, Duration::from_millis(30)).unwrap());
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(b.get(&k).unwrap(), None, "expired keys are never visible");
    assert_eq!(b.exists(&[&k]).unwrap(), 0);

    b.set(&k, b"v").unwrap();
    assert!(b.expire(&k, Duration::from_secs(100)).unwrap());
    b.rename(&k, &key(p, "moved")).unwrap();
    expires_within(b.ttl(&key(p, "moved")).unwrap(), Duration::from_secs(100));
}

fn bits(b: &dyn Backend, p: &str) {
    let (k, k2, dest, missing) = (key(p, "k"), key(p, "k2"), key(p, "dest"), key(p, "missing"));
    assert_eq!(b.setbit(&k, 7, true).unwrap(), 0);
    assert_eq!(b.setbit(&k, 7, true).unwrap(), 1);
    assert_eq!(b.getbit(&k, 7).unwrap(), 1);
    assert_eq!(b.getbit(&k, 6).unwrap(), 0);
    assert_eq!(b.getbit(&k, 10_000).unwrap(), 0);
    assert_eq!(b.getbit(&missing, 0).unwrap(), 0);
    assert_eq!(b.get(&k).unwrap(), Some(vec![0x01]));
    b.setbit(&k, 23, true).unwrap();
    assert_eq!(b.strlen(&k).unwrap(), 3);
    assert_eq!(b.setbit(&k, 7, false).unwrap(), 1);
    assert_eq!(
        err_text(b.setbit(&k, 1 << 32, true)),
        "ERR bit offset is not an integer or out of range"
    );

    b.set(&k, b"foobar").unwrap();
    assert_eq!(b.bitcount(&k, None).unwrap(), 26);
    assert_eq!(b.bitcount(&k, Some((0, 0, BitUnit::Byte))).unwrap(), 4);
    assert_eq!(b.bitcount(&k, Some((1, 1, BitUnit::Byte))).unwrap(), 6);
    assert_eq!(b.bitcount(&k, Some((5, 30, BitUnit::Bit))).unwrap(), 17);
    assert_eq!(b.bitcount(&k, Some((-2, -1, BitUnit::Byte))).unwrap(), 7);
    assert_eq!(b.bitcount(&missing, None).unwrap(), 0);

    b.set(&k2, b"\xff\xf0\x00").unwrap();
    assert_eq!(b.bitpos(&k2, false, None).unwrap(), 12);
    assert_eq!(b.bitpos(&k2, true, None).unwrap(), 0);
    let from = |start, end, unit| BitposRange { start, end, unit };
    assert_eq!(
        b.bitpos(&k2, true, Some(from(2, None, BitUnit::Byte)))
            .unwrap(),
        -1
    );
    assert_eq!(
        b.bitpos(&k2, true, Some(from(7, Some(15), BitUnit::Bit)))
            .unwrap(),
        7
    );
    assert_eq!(
        b.bitpos(&k2, false, Some(from(0, Some(0), BitUnit::Byte)))
            .unwrap(),
        -1
    );
    b.set(&k2, b"\xff\xff").unwrap();
    assert_eq!(
        b.bitpos(&k2, false, None).unwrap(),
        16,
        "no end given: past the end"
    );
    assert_eq!(b.bitpos(&missing, false, None).unwrap(), 0);
    assert_eq!(b.bitpos(&missing, true, None).unwrap(), -1);

    b.set(&k, b"\x0f\xf0").unwrap();
    b.set(&k2, b"\xff").unwrap();
    assert_eq!(b.bitop(BitOp::And, &dest, &[&k, &k2]).unwrap(), 2);
    assert_eq!(b.get(&dest).unwrap(), Some(vec![0x0f, 0x00]));
    assert_eq!(b.bitop(BitOp::Or, &dest, &[&k, &k2]).unwrap(), 2);
    assert_eq!(b.get(&dest).unwrap(), Some(vec![0xff, 0xf0]));
    assert_eq!(b.bitop(BitOp::Xor, &dest, &[&k, &k2]).unwrap(), 2);
    assert_eq!(b.get(&dest).unwrap(), Some(vec![0xf0, 0xf0]));
    assert_eq!(b.bitop(BitOp::Not, &dest, &[&k]).unwrap(), 2);
    assert_eq!(b.get(&dest).unwrap(), Some(vec![0xf0, 0x0f]));
    assert_eq!(
        err_text(b.bitop(BitOp::Not, &dest, &[&k, &k2])),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(b.bitop(BitOp::And, &dest, &[&missing]).unwrap(), 0);
    assert_eq!(
        b.exists(&[&dest]).unwrap(),
        0,
        "an empty result deletes the destination"
    );
}

fn bitfield(b: &dyn Backend, p: &str) {
    let (k, h) = (key(p, "k"), key(p, "h"));
    let t = |signed, bits| BitfieldType::new(signed, bits).unwrap();
    assert_eq!(
        b.bitfield(
            &k,
            &[
                BitfieldOp::Set(t(false, 8), 0, 200),
                BitfieldOp::Get(t(false, 8), 0),
                BitfieldOp::Get(t(true, 8), 0),
                BitfieldOp::IncrBy(t(false, 8), 0, 100),
            ]
        )
        .unwrap(),
        vec![Some(0), Some(200), Some(-56), Some(44)]
    );
    assert_eq!(b.get(&k).unwrap(), Some(vec![44]));
    assert_eq!(
        b.bitfield(
            &k,
            &[
                BitfieldOp::Overflow(Overflow::Sat),
                BitfieldOp::IncrBy(t(false, 8), 0, 1000),
                BitfieldOp::IncrBy(t(true, 4), 8, -100),
                BitfieldOp::Overflow(Overflow::Fail),
                BitfieldOp::IncrBy(t(false, 8), 0, 1),
                BitfieldOp::Get(t(false, 8), 0),
                BitfieldOp::Overflow(Overflow::Wrap),
                BitfieldOp::IncrBy(t(false, 8), 0, 1),
            ]
        )
        .unwrap(),
        vec![Some(255), Some(-8), None, Some(255), Some(0)]
    );
    assert_eq!(
        b.bitfield(
            &k,
            &[
                BitfieldOp::Get(t(true, 64), 0),
                BitfieldOp::Get(t(false, 63), 100)
            ]
        )
        .unwrap(),
        vec![Some(1 << 55), Some(0)],
        "the bytes are now 00 80"
    );
    assert_eq!(b.bitfield(&key(p, "none"), &[]).unwrap(), vec![]);

    b.hset(&h, &[(b"f", b"v")]).unwrap();
    assert_eq!(
        err_text(b.bitfield(&h, &[BitfieldOp::Get(t(false, 8), 0)])),
        WRONGTYPE
    );
}

fn wrong_type(b: &dyn Backend, p: &str) {
    let (s, h) = (key(p, "s"), key(p, "h"));
    b.set(&s, b"1").unwrap();
    b.hset(&h, &[(b"f", b"1")]).unwrap();
    assert_eq!(err_text(b.get(&h)), WRONGTYPE);
    assert_eq!(err_text(b.append(&h, b"x")), WRONGTYPE);
    assert_eq!(err_text(b.incr(&h)), WRONGTYPE);
    assert_eq!(err_text(b.strlen(&h)), WRONGTYPE);
    assert_eq!(err_text(b.getrange(&h, 0, 1)), WRONGTYPE);
    assert_eq!(err_text(b.setbit(&h, 0, true)), WRONGTYPE);
    assert_eq!(err_text(b.bitcount(&h, None)), WRONGTYPE);
    assert_eq!(err_text(b.hget(&s, b"f")), WRONGTYPE);
    assert_eq!(err_text(b.hset(&s, &[(b"f", b"v")])), WRONGTYPE);
    assert_eq!(err_text(b.hgetall(&s)), WRONGTYPE);
    assert_eq!(err_text(b.hincrby(&s, b"f", 1)), WRONGTYPE);
    assert_eq!(err_text(b.hlen(&s)), WRONGTYPE);
    assert_eq!(
        b.mget(&[&s, &h]).unwrap(),
        vec![some("1"), None],
        "MGET reads a non-string as nil"
    );
    assert!(matches!(b.get(&h), Err(Error::WrongType)));
    b.set(&h, b"overwritten").unwrap();
    assert_eq!(
        b.get(&h).unwrap(),
        some("overwritten"),
        "SET replaces any type"
    );
}

fn setex_invalid_ttl(b: &dyn Backend, p: &str) {
    let k = key(p, "k");
    assert_eq!(
        err_text(b.setex(&k, Duration::ZERO, b"v")),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(b.get(&k).unwrap(), None);
}

fn expire_conflicting_options(b: &dyn Backend, p: &str) {
    let k = key(p, "k");
    b.set(&k, b"v").unwrap();
    assert_eq!(
        err_text(b.expire_if(
            &k,
            Duration::from_secs(1),
            ExpireCondition {
                nx: true,
                xx: true,
                ..ExpireCondition::default()
            }
        )),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err_text(b.expire_if(
            &k,
            Duration::from_secs(1),
            ExpireCondition {
                gt: true,
                lt: true,
                ..ExpireCondition::default()
            }
        )),
        "ERR GT and LT options at the same time are not compatible"
    );

    assert_eq!(b.ttl(&k).unwrap(), Ttl::Persistent);
}
