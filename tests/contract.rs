//! The `Backend` contract: one suite of scenarios, written once against `&dyn Backend`, run on
//! every implementation: the embedded `Store`, a `RedisBackend` on a real redis-server, and a
//! `RedisBackend` on a local 3-node Redis Cluster (the last two with the `redis` feature).
//!
//! Each scenario takes the backend and a key prefix, and asserts exact results and exact
//! error texts (an error's `Display` is Redis's text). The prefix is a hash tag (`{c-bits}:`),
//! so that all keys of a scenario share one cluster slot. A new family adds its scenarios
//! to [`SCENARIOS`]; every backend then runs them.
// Real servers expire keys and time out waits by wall-clock time: scenarios measure real
// elapsed time, and no store `Clock` is involved.
#![allow(clippy::disallowed_methods)]

mod common;

use sketchstore::{
    Backend, BfInsertOptions, BitOp, BitUnit, BitfieldOffset, BitfieldOp, BitfieldType,
    BitposRange, BloomOptions, Error, ExpireCondition, KeyType, ListEnd, Message, Overflow, Reply,
    SetCondition, SetExpiry, SetOptions, Store, Ttl, TxOp, TxReply,
};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    ("sets", sets),
    ("dump_restore", dump_restore),
    ("expiry", expiry),
    ("bits", bits),
    ("bitfield", bitfield),
    ("wrong_type", wrong_type),
    ("setex_invalid_ttl", setex_invalid_ttl),
    ("expire_conflicting_options", expire_conflicting_options),
    ("hll", hll),
    ("lists", lists),
    ("blocking_pops", blocking_pops),
    ("blocking_pops_async", blocking_pops_async),
    ("pubsub", pubsub),
    ("pubsub_async", pubsub_async),
    ("transactions", transactions),
    ("typed_transactions", typed_transactions),
    ("typed_transactions_bloom", typed_transactions_bloom),
    ("watch", watch),
    ("bloom", bloom),
    ("bloom_growth_and_errors", bloom_growth_and_errors),
    (
        "bloom_same_answers_as_embedded",
        bloom_same_answers_as_embedded,
    ),
];

/// Scenarios the embedded store is known to fail, with the divergence from Redis. The run
/// fails if one of them passes, so that the entry is removed with the fix.
const EMBEDDED_KNOWN_DIVERGENCES: &[(&str, &str)] = &[];

/// Where RedisBloom is not loaded, `BF.*` is emulated by client-driven Lua rounds, which
/// cannot be queued inside MULTI/EXEC: the server refuses the transaction.
#[cfg(feature = "redis")]
const NO_NATIVE_BLOOM: &[(&str, &str)] = &[(
    "typed_transactions_bloom",
    "BF.ADD inside MULTI/EXEC needs RedisBloom (EXECABORT: unknown command)",
)];

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
    assert!(
        !backend.bloom_is_native().unwrap(),
        "the test server has no RedisBloom: BF.* is emulated"
    );
    run_contract(&backend, "server", NO_NATIVE_BLOOM);
}

/// A redis-server with RedisBloom loaded: BF.* runs natively there, so the Bloom scenarios
/// compare the embedded store with RedisBloom itself.
#[cfg(feature = "redis")]
#[test]
fn contract_redis_server_with_redisbloom() {
    let module = common::cluster::redisbloom_module();
    let server = common::RedisServer::start_with(&["--loadmodule", &module]);
    let backend = sketchstore::RedisBackend::connect(&server.url()).expect("connect");
    assert!(backend.bloom_is_native().unwrap(), "RedisBloom is detected");
    run_contract(&backend, "redisbloom", &[]);
}

#[cfg(feature = "redis")]
#[test]
fn contract_redis_cluster() {
    let cluster = common::cluster::RedisCluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let backend = sketchstore::RedisBackend::cluster(&nodes).expect("connect to the cluster");
    run_contract(&backend, "cluster", NO_NATIVE_BLOOM);
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

    b.setex(&k, b"v", Duration::from_secs(100)).unwrap();
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

fn sets(b: &dyn Backend, p: &str) {
    let (s, t, d, missing) = (key(p, "s"), key(p, "t"), key(p, "d"), key(p, "missing"));
    assert_eq!(b.sadd(&s, &[b"3", b"1", b"2", b"1"]).unwrap(), 3);
    assert_eq!(b.smembers(&s).unwrap(), bytes(&["1", "2", "3"]));
    assert_eq!(b.key_type(&s).unwrap(), KeyType::Set);
    assert_eq!(b.sadd(&t, &[b"2", b"x", b"3"]).unwrap(), 3);
    assert!(b.sismember(&s, b"2").unwrap());
    assert_eq!(b.smismember(&s, &[b"1", b"9"]).unwrap(), vec![true, false]);
    assert_eq!(b.scard(&s).unwrap(), 3);
    assert_eq!(b.scard(&missing).unwrap(), 0);
    assert_eq!(sorted(b.sinter(&[&s, &t]).unwrap()), bytes(&["2", "3"]));
    assert_eq!(b.sintercard(&[&s, &t], 1).unwrap(), 1);
    assert_eq!(b.sintercard(&[&s, &t], 0).unwrap(), 2);
    assert_eq!(
        sorted(b.sunion(&[&s, &t, &missing]).unwrap()),
        bytes(&["1", "2", "3", "x"])
    );
    assert_eq!(b.sdiff(&[&s, &t]).unwrap(), bytes(&["1"]));
    assert_eq!(b.sunionstore(&d, &[&s, &t]).unwrap(), 4);
    assert_eq!(b.sinterstore(&d, &[&s, &missing]).unwrap(), 0);
    assert_eq!(b.exists(&[&d]).unwrap(), 0);
    assert_eq!(b.sdiffstore(&d, &[&t, &s]).unwrap(), 1);
    assert!(b.smove(&s, &d, b"1").unwrap());
    assert!(!b.smove(&s, &d, b"1").unwrap());
    assert_eq!(sorted(b.smembers(&d).unwrap()), bytes(&["1", "x"]));
    let page = b.sscan(&s, 0, None, 10).unwrap();
    assert_eq!((page.cursor, page.members), (0, bytes(&["2", "3"])));
    let r = b.srandmember_count(&s, -5).unwrap();
    assert_eq!(r.len(), 5);
    assert!(b.srandmember(&s).unwrap().is_some());
    assert_eq!(b.srandmember(&missing).unwrap(), None);
    assert_eq!(b.spop_count(&s, 5).unwrap(), bytes(&["2", "3"]));
    assert_eq!(b.spop(&s).unwrap(), None);
    assert_eq!(b.srem(&t, &[b"x", b"2", b"3", b"9"]).unwrap(), 3);
    assert!(b.smembers(&t).unwrap().is_empty());
}

fn dump_restore(b: &dyn Backend, p: &str) {
    let (k, copy, missing) = (key(p, "k"), key(p, "copy"), key(p, "missing"));
    assert_eq!(b.dump(&missing).unwrap(), None);
    assert_eq!(b.sadd(&k, &[b"a", b"b"]).unwrap(), 2);
    let payload = b.dump(&k).unwrap().unwrap();
    b.restore(
        &copy,
        Duration::from_secs(100),
        &payload,
        Default::default(),
    )
    .unwrap();
    assert_eq!(sorted(b.smembers(&copy).unwrap()), bytes(&["a", "b"]));
    expires_within(b.ttl(&copy).unwrap(), Duration::from_secs(100));
    assert_eq!(
        err_text(b.restore(&copy, Duration::ZERO, &payload, Default::default())),
        "BUSYKEY Target key name already exists."
    );
    let replace = sketchstore::RestoreOptions {
        replace: true,
        ..Default::default()
    };
    b.restore(&copy, Duration::ZERO, b"bad", replace)
        .unwrap_err();
    b.restore(&copy, Duration::ZERO, &payload, replace).unwrap();
    assert_eq!(b.ttl(&copy).unwrap(), Ttl::Persistent);
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
                BitfieldOp::Set(t(false, 8), 0.into(), 200),
                BitfieldOp::Get(t(false, 8), 0.into()),
                BitfieldOp::Get(t(true, 8), 0.into()),
                BitfieldOp::IncrBy(t(false, 8), 0.into(), 100),
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
                BitfieldOp::IncrBy(t(false, 8), 0.into(), 1000),
                BitfieldOp::IncrBy(t(true, 4), 8.into(), -100),
                BitfieldOp::Overflow(Overflow::Fail),
                BitfieldOp::IncrBy(t(false, 8), 0.into(), 1),
                BitfieldOp::Get(t(false, 8), 0.into()),
                BitfieldOp::Overflow(Overflow::Wrap),
                BitfieldOp::IncrBy(t(false, 8), 0.into(), 1),
            ]
        )
        .unwrap(),
        vec![Some(255), Some(-8), None, Some(255), Some(0)]
    );
    assert_eq!(
        b.bitfield(
            &k,
            &[
                BitfieldOp::Get(t(true, 64), 0.into()),
                BitfieldOp::Get(t(false, 63), 100.into())
            ]
        )
        .unwrap(),
        vec![Some(1 << 55), Some(0)],
        "the bytes are now 00 80"
    );
    assert_eq!(b.bitfield(&key(p, "none"), &[]).unwrap(), vec![]);

    // Redis's `#n`: n fields of the operation's type. The bytes are 00 80.
    let (u4, i64t) = (t(false, 4), t(true, 64));
    assert_eq!(
        b.bitfield(
            &k,
            &[
                BitfieldOp::Get(u4, BitfieldOffset::Fields(2)),
                BitfieldOp::Get(u4, 8.into()),
                BitfieldOp::Set(u4, BitfieldOffset::Fields(5), 9),
                BitfieldOp::Get(t(false, 8), 16.into()),
                BitfieldOp::IncrBy(u4, BitfieldOffset::Fields(5), 1),
                BitfieldOp::Get(i64t, BitfieldOffset::Fields(0)),
                BitfieldOp::Get(i64t, BitfieldOffset::Fields(67108863)),
            ]
        )
        .unwrap(),
        vec![
            Some(8),
            Some(8),
            Some(0),
            Some(9),
            Some(10),
            Some(1 << 55 | 0x0a << 40),
            Some(0)
        ]
    );
    // `#2305843009213693953 * 8` wraps to 8 in 64 bits, as in Redis.
    assert_eq!(
        b.bitfield(
            &k,
            &[BitfieldOp::Get(
                t(false, 8),
                BitfieldOffset::Fields(2305843009213693953)
            )]
        )
        .unwrap(),
        vec![Some(0x80)]
    );
    b.hset(&h, &[(b"f", b"v")]).unwrap();
    let u8t = t(false, 8);
    for (ty, bad) in [
        (i64t, BitfieldOffset::Fields(67108864)),
        (u8t, BitfieldOffset::Fields(1152921504606846977)),
        (u8t, BitfieldOffset::Fields(1 << 63)),
        (u8t, BitfieldOffset::Bits(1 << 32)),
    ] {
        assert_eq!(
            err_text(b.bitfield(&k, &[BitfieldOp::Set(ty, bad, 1)])),
            "ERR bit offset is not an integer or out of range",
            "{ty} {bad}"
        );
        assert_eq!(
            err_text(b.bitfield(&h, &[BitfieldOp::Get(ty, bad)])),
            "ERR bit offset is not an integer or out of range",
            "{ty} {bad}: before the key's type"
        );
    }
    assert_eq!(b.get(&k).unwrap(), Some(vec![0x00, 0x80, 0x0a]));

    assert_eq!(
        err_text(b.bitfield(&h, &[BitfieldOp::Get(t(false, 8), 0.into())])),
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
        err_text(b.setex(&k, b"v", Duration::ZERO)),
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

// ---- HyperLogLog, lists, blocking pops, pub/sub, transactions, Bloom filters ----

/// A reference store: the embedded implementation, whose results every backend must equal.
fn reference() -> Store {
    Store::new()
}

fn items(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

fn hll(b: &dyn Backend, p: &str) {
    let r = reference();
    let (h1, h2, dest, s) = (key(p, "h1"), key(p, "h2"), key(p, "dest"), key(p, "s"));
    let first: Vec<String> = (0..500).map(|i| format!("user:{i}")).collect();
    let second: Vec<String> = (250..5000).map(|i| format!("user:{i}")).collect();
    let refs = |v: &[String]| v.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
    let (first, second) = (refs(&first), refs(&second));
    for backend in [b, &r as &dyn Backend] {
        assert!(backend.pfadd(&h1, &items(&first)).unwrap());
        assert!(
            !backend.pfadd(&h1, &items(&first[..10])).unwrap(),
            "nothing new"
        );
        assert!(backend.pfadd(&h2, &[]).unwrap(), "creates the key");
        assert!(!backend.pfadd(&h2, &[]).unwrap());
        for chunk in second.chunks(700) {
            backend.pfadd(&h2, &items(chunk)).unwrap();
        }
    }
    assert_eq!(b.pfcount(&[&h1]).unwrap(), r.pfcount(&[&h1]).unwrap());
    assert_eq!(b.pfcount(&[&h2]).unwrap(), r.pfcount(&[&h2]).unwrap());
    assert_eq!(
        b.pfcount(&[&h1, &h2]).unwrap(),
        r.pfcount(&[&h1, &h2]).unwrap()
    );
    assert_eq!(b.pfcount(&[&key(p, "none")]).unwrap(), 0);
    assert_eq!(b.get(&h1).unwrap(), r.get(&h1).unwrap(), "sparse bytes");
    assert_eq!(b.get(&h2).unwrap(), r.get(&h2).unwrap(), "dense bytes");
    b.pfmerge(&dest, &[&h1, &h2]).unwrap();
    r.pfmerge(&dest, &[&h1, &h2]).unwrap();
    assert_eq!(b.get(&dest).unwrap(), r.get(&dest).unwrap(), "merged bytes");
    assert_eq!(b.pfcount(&[&dest]).unwrap(), r.pfcount(&[&dest]).unwrap());
    let count = b.pfcount(&[&dest]).unwrap();
    assert!((4900..=5100).contains(&count), "estimate {count} near 5000");

    // Bytes written by one implementation are read by the other.
    let copy = key(p, "copy");
    b.set(&copy, &r.get(&h1).unwrap().unwrap()).unwrap();
    assert_eq!(b.pfcount(&[&copy]).unwrap(), r.pfcount(&[&h1]).unwrap());

    b.set(&s, b"not an hll").unwrap();
    assert_eq!(
        err_text(b.pfadd(&s, &[b"x"])),
        "WRONGTYPE Key is not a valid HyperLogLog string value."
    );
    assert_eq!(
        err_text(b.pfcount(&[&s])),
        "WRONGTYPE Key is not a valid HyperLogLog string value."
    );
}

fn lists(b: &dyn Backend, p: &str) {
    let (l, other, h) = (key(p, "l"), key(p, "other"), key(p, "h"));
    assert_eq!(b.rpush(&l, &[b"a", b"b", b"c"]).unwrap(), 3);
    assert_eq!(b.lpush(&l, &[b"x", b"y"]).unwrap(), 5);
    assert_eq!(
        b.lrange(&l, 0, -1).unwrap(),
        bytes(&["y", "x", "a", "b", "c"])
    );
    assert_eq!(b.lrange(&l, -2, 100).unwrap(), bytes(&["b", "c"]));
    assert_eq!(b.lrange(&l, 3, 1).unwrap(), bytes(&[]));
    assert_eq!(b.llen(&l).unwrap(), 5);
    assert_eq!(b.lindex(&l, 0).unwrap(), some("y"));
    assert_eq!(b.lindex(&l, -1).unwrap(), some("c"));
    assert_eq!(b.lindex(&l, 99).unwrap(), None);
    assert_eq!(b.lpop(&l).unwrap(), some("y"));
    assert_eq!(b.rpop(&l).unwrap(), some("c"));
    b.rpush(&l, &[b"a", b"z", b"a"]).unwrap();
    assert_eq!(b.lrem(&l, -1, b"a").unwrap(), 1, "from the tail");
    assert_eq!(
        b.lrange(&l, 0, -1).unwrap(),
        bytes(&["x", "a", "b", "a", "z"])
    );
    assert_eq!(b.lrem(&l, 0, b"a").unwrap(), 2);
    b.ltrim(&l, 1, -1).unwrap();
    assert_eq!(b.lrange(&l, 0, -1).unwrap(), bytes(&["b", "z"]));
    assert_eq!(
        b.lmove(&l, &other, ListEnd::Right, ListEnd::Left).unwrap(),
        some("z")
    );
    assert_eq!(
        b.lmove(&l, &other, ListEnd::Left, ListEnd::Right).unwrap(),
        some("b")
    );
    assert_eq!(b.exists(&[&l]).unwrap(), 0, "the last pop removes the list");
    assert_eq!(b.lrange(&other, 0, -1).unwrap(), bytes(&["z", "b"]));
    assert_eq!(b.lpop(&l).unwrap(), None);
    assert_eq!(b.llen(&l).unwrap(), 0);
    assert_eq!(b.key_type(&other).unwrap(), KeyType::List);

    b.hset(&h, &[(b"f", b"v")]).unwrap();
    assert_eq!(err_text(b.lpush(&h, &[b"x"])), WRONGTYPE);
    assert_eq!(err_text(b.lrange(&h, 0, -1)), WRONGTYPE);
    assert_eq!(
        err_text(b.blpop(&[&h], Duration::from_millis(10))),
        WRONGTYPE
    );
}

fn blocking_pops(b: &dyn Backend, p: &str) {
    let (l1, l2) = (key(p, "l1"), key(p, "l2"));
    b.rpush(&l2, &[b"a", b"b"]).unwrap();
    assert_eq!(
        b.blpop(&[&l1, &l2], Duration::from_secs(1)).unwrap(),
        Some((l2.clone(), b"a".to_vec())),
        "the first non-empty list, at once"
    );
    assert_eq!(
        b.brpop(&[&l1, &l2], Duration::from_secs(1)).unwrap(),
        Some((l2.clone(), b"b".to_vec()))
    );
    let start = Instant::now();
    assert_eq!(
        b.blpop(&[&l1, &l2], Duration::from_millis(150)).unwrap(),
        None
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(140) && waited < Duration::from_secs(3),
        "timed out after {waited:?}"
    );
    assert_eq!(
        err_text(b.blpop(&[], Duration::from_millis(10))),
        "ERR wrong number of arguments for 'blpop' command"
    );

    // Woken by a push from another thread.
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            b.rpush(&l1, &[b"late"]).unwrap();
        });
        assert_eq!(
            b.brpop(&[&l1, &l2], Duration::from_secs(5)).unwrap(),
            Some((l1.clone(), b"late".to_vec()))
        );
    });
    assert_eq!(b.exists(&[&l1, &l2]).unwrap(), 0);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

fn blocking_pops_async(b: &dyn Backend, p: &str) {
    let (l1, l2) = (key(p, "l1"), key(p, "l2"));
    let rt = runtime();
    b.rpush(&l1, &[b"a", b"b"]).unwrap();
    assert_eq!(
        rt.block_on(b.blpop_async(&[&l1, &l2], Duration::from_secs(1)))
            .unwrap(),
        Some((l1.clone(), b"a".to_vec()))
    );
    assert_eq!(
        rt.block_on(b.brpop_async(&[&l2, &l1], Duration::from_secs(1)))
            .unwrap(),
        Some((l1.clone(), b"b".to_vec()))
    );
    // On a single-threaded runtime the push below only runs if the pop's wait leaves the
    // executor thread free.
    let (popped, ()) = rt.block_on(async {
        tokio::join!(b.blpop_async(&[&l1, &l2], Duration::from_secs(5)), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            b.rpush(&l2, &[b"pushed"]).unwrap();
        })
    });
    assert_eq!(popped.unwrap(), Some((l2.clone(), b"pushed".to_vec())));
    let start = Instant::now();
    assert_eq!(
        rt.block_on(b.brpop_async(&[&l1], Duration::from_millis(150)))
            .unwrap(),
        None
    );
    assert!(start.elapsed() >= Duration::from_millis(140));
    assert_eq!(b.exists(&[&l1, &l2]).unwrap(), 0);
}

fn msg(channel: &str, payload: &str) -> Message {
    Message::Message {
        channel: channel.as_bytes().to_vec(),
        payload: payload.as_bytes().to_vec(),
    }
}

fn pmsg(pattern: &str, channel: &str, payload: &str) -> Message {
    Message::PMessage {
        pattern: pattern.as_bytes().to_vec(),
        channel: channel.as_bytes().to_vec(),
        payload: payload.as_bytes().to_vec(),
    }
}

fn pubsub(b: &dyn Backend, p: &str) {
    let (news, sport, pat) = (format!("{p}news"), format!("{p}sport"), format!("{p}n*"));
    let wait = Duration::from_secs(2);
    let mut sub = b.subscriber().unwrap();
    assert_eq!(
        b.publish(news.as_bytes(), b"unheard").unwrap(),
        0,
        "no subscriber yet"
    );
    assert_eq!(
        sub.subscribe(&[news.as_bytes(), sport.as_bytes()]).unwrap(),
        2
    );
    assert_eq!(sub.psubscribe(&[pat.as_bytes()]).unwrap(), 3);
    assert_eq!(
        b.publish(news.as_bytes(), b"m0").unwrap(),
        2,
        "by channel and by pattern"
    );
    assert_eq!(b.publish(sport.as_bytes(), b"s0").unwrap(), 1);
    assert_eq!(sub.receive(wait).unwrap(), Some(msg(&news, "m0")));
    assert_eq!(sub.receive(wait).unwrap(), Some(pmsg(&pat, &news, "m0")));
    assert_eq!(sub.receive(wait).unwrap(), Some(msg(&sport, "s0")));
    assert_eq!(sub.receive(Duration::from_millis(50)).unwrap(), None);

    for i in 0..100 {
        b.publish(sport.as_bytes(), format!("{i}").as_bytes())
            .unwrap();
    }
    for i in 0..100 {
        assert_eq!(
            sub.receive(wait).unwrap(),
            Some(msg(&sport, &i.to_string())),
            "messages arrive in publishing order"
        );
    }

    // Two subscribers each count.
    let mut second = b.subscriber().unwrap();
    assert_eq!(second.psubscribe(&[pat.as_bytes()]).unwrap(), 1);
    assert_eq!(b.publish(news.as_bytes(), b"m1").unwrap(), 3);
    assert_eq!(second.receive(wait).unwrap(), Some(pmsg(&pat, &news, "m1")));
    assert_eq!(sub.receive(wait).unwrap(), Some(msg(&news, "m1")));
    assert_eq!(sub.receive(wait).unwrap(), Some(pmsg(&pat, &news, "m1")));

    assert_eq!(sub.unsubscribe(&[news.as_bytes()]).unwrap(), 2);
    assert_eq!(sub.punsubscribe(&[]).unwrap(), 1);
    assert_eq!(
        b.publish(news.as_bytes(), b"m2").unwrap(),
        1,
        "only the second"
    );
    assert_eq!(second.receive(wait).unwrap(), Some(pmsg(&pat, &news, "m2")));
    assert_eq!(sub.unsubscribe(&[]).unwrap(), 0);
    assert_eq!(b.publish(sport.as_bytes(), b"s1").unwrap(), 0);
    assert_eq!(sub.receive(Duration::from_millis(50)).unwrap(), None);
    drop(second);
    assert_eq!(b.publish(news.as_bytes(), b"m3").unwrap(), 0);
}

fn pubsub_async(b: &dyn Backend, p: &str) {
    let ch = format!("{p}events");
    let rt = runtime();
    let mut sub = b.subscriber().unwrap();
    assert_eq!(sub.subscribe(&[ch.as_bytes()]).unwrap(), 1);
    assert_eq!(b.publish(ch.as_bytes(), b"first").unwrap(), 1);
    assert_eq!(rt.block_on(sub.receive_async()).unwrap(), msg(&ch, "first"));
    // The publish runs on the same single-threaded runtime as the wait.
    let (got, ()) = rt.block_on(async {
        tokio::join!(sub.receive_async(), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(b.publish(ch.as_bytes(), b"second").unwrap(), 1);
        })
    });
    assert_eq!(got.unwrap(), msg(&ch, "second"));
    // A receive that timed out loses nothing.
    let timed_out = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(50), sub.receive_async()).await
    });
    assert!(timed_out.is_err());
    assert_eq!(b.publish(ch.as_bytes(), b"third").unwrap(), 1);
    assert_eq!(
        sub.receive(Duration::from_secs(2)).unwrap(),
        Some(msg(&ch, "third"))
    );
}

fn argv(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// `transaction_ops`: the embedded store runs the typed commands directly, other backends
/// send them as argv; both must answer as Redis does.
fn typed_transactions(b: &dyn Backend, p: &str) {
    let (h, n, s) = (key(p, "h"), key(p, "n"), key(p, "s"));
    let missing = key(p, "missing");
    let items: [&[u8]; 3] = [b"a", b"b", b"a"];
    let u8t = BitfieldType::U8;
    let program = [
        BitfieldOp::Set(u8t, 0.into(), 200),
        BitfieldOp::Overflow(Overflow::Sat),
        BitfieldOp::IncrBy(u8t, 0.into(), 100),
        BitfieldOp::Get(u8t, 0.into()),
    ];
    let replies = b
        .transaction_ops(&[
            TxOp::PfAdd(&h, &items),
            TxOp::PfCount(&h),
            TxOp::Incr(&n),
            TxOp::Incr(&h),
            TxOp::Bitfield(&s, &program),
            TxOp::Get(&s),
            TxOp::PExpire(&n, Duration::from_millis(1500)),
            TxOp::PExpire(&missing, Duration::from_secs(1)),
        ])
        .unwrap();
    assert_eq!(
        replies,
        vec![
            Reply::Integer(1),
            Reply::Integer(2),
            Reply::Integer(1),
            Reply::Error("ERR value is not an integer or out of range".into()),
            Reply::Array(vec![
                Reply::Integer(0),
                Reply::Integer(255),
                Reply::Integer(255)
            ]),
            Reply::Bulk(vec![255]),
            Reply::Integer(1),
            Reply::Integer(0),
        ]
    );
    expires_within(b.ttl(&n).unwrap(), Duration::from_millis(1500));
    assert_eq!(b.exists(&[&missing]).unwrap(), 0);

    // `transaction_ops_typed_into` answers what `transaction_ops_typed` does, whatever
    // the slots held before (the embedded store writes into their buffers).
    let read = [
        BitfieldOp::Get(u8t, 0.into()),
        BitfieldOp::Get(u8t, 8.into()),
    ];
    let ops = [
        TxOp::Get(&s),
        TxOp::Bitfield(&s, &read),
        TxOp::Get(&missing),
        TxOp::Bitfield(&h, &read),
        TxOp::PfCount(&h),
        TxOp::Get(&h),
    ];
    let want = b.transaction_ops_typed(&ops).unwrap();
    assert_eq!(want[0], TxReply::Bulk(vec![255]));
    assert_eq!(want[1], TxReply::Fields(vec![Some(255), Some(0)]));
    assert_eq!(want[2], TxReply::Nil);
    let mut slots = vec![
        TxReply::Bulk(vec![7; 100]),
        TxReply::Fields(vec![None; 9]),
        TxReply::Bulk(vec![1, 2]),
        TxReply::Fields(vec![Some(3)]),
        TxReply::Bulk(vec![4]),
        TxReply::Integer(5),
        TxReply::Integer(6),
    ];
    let now = b.clock().now_ms();
    assert_eq!(
        b.transaction_ops_typed_into(&ops, Some(now), &mut slots)
            .unwrap(),
        ops.len()
    );
    assert_eq!(&slots[..ops.len()], &want[..]);
    assert_eq!(slots[ops.len()], TxReply::Integer(6), "a slot past the ops");
    assert!(b
        .transaction_ops_typed_into(&ops, None, &mut slots[..2])
        .is_err());
}

/// `BF.ADD` in a typed transaction (the pageview's): native on the embedded store and
/// RedisBloom.
fn typed_transactions_bloom(b: &dyn Backend, p: &str) {
    let (n, f) = (key(p, "n"), key(p, "f"));
    let replies = b
        .transaction_ops(&[
            TxOp::Incr(&n),
            TxOp::BfAdd(&f, b"x"),
            TxOp::BfAdd(&f, b"x"),
            TxOp::BfAdd(&n, b"x"),
        ])
        .unwrap();
    assert_eq!(
        replies,
        vec![
            Reply::Integer(1),
            Reply::Integer(1),
            Reply::Integer(0),
            Reply::Error(WRONGTYPE.into()),
        ]
    );
    assert_eq!(b.bf_card(&f).unwrap(), 1);
}

fn transactions(b: &dyn Backend, p: &str) {
    let (n, h, l) = (key(p, "n"), key(p, "h"), key(p, "l"));
    let (n_s, h_s, l_s) = (
        String::from_utf8(n.clone()).unwrap(),
        String::from_utf8(h.clone()).unwrap(),
        String::from_utf8(l.clone()).unwrap(),
    );
    b.hset(&h, &[(b"f", b"v")]).unwrap();
    let replies = b
        .transaction(
            &[],
            &[
                argv(&["INCR", &n_s]),
                argv(&["INCRBY", &n_s, "10"]),
                argv(&["INCR", &h_s]),
                argv(&["GET", &n_s]),
                argv(&["RPUSH", &l_s, "a", "b"]),
                argv(&["LPOP", &l_s]),
                argv(&["BLPOP", &l_s, &key_str(p, "none"), "0"]),
                argv(&["BLPOP", &key_str(p, "none"), "0"]),
            ],
        )
        .unwrap()
        .expect("nothing watched");
    assert_eq!(
        replies,
        vec![
            Reply::Integer(1),
            Reply::Integer(11),
            Reply::Error(WRONGTYPE.into()),
            Reply::bulk("11"),
            Reply::Integer(2),
            Reply::bulk("a"),
            Reply::Array(vec![Reply::Bulk(l.clone()), Reply::bulk("b")]),
            Reply::NilArray,
        ],
        "a failing command does not stop the others; blocking pops do not block"
    );
    assert_eq!(b.get(&n).unwrap(), some("11"));

    assert_eq!(
        err_text(b.transaction(
            &[],
            &[argv(&["INCR", &n_s]), argv(&["NOSUCHCOMMAND", &n_s])]
        )),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(
        err_text(b.transaction(&[], &[argv(&["INCR", &n_s]), argv(&["GET"])])),
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(
        b.get(&n).unwrap(),
        some("11"),
        "an aborted transaction runs nothing"
    );
    assert_eq!(
        b.transaction(&[&n], &[argv(&["INCR", &n_s])]).unwrap(),
        Some(vec![Reply::Integer(12)]),
        "an unmodified watched key"
    );
    assert_eq!(b.transaction(&[], &[]).unwrap(), Some(vec![]));
}

fn key_str(p: &str, name: &str) -> String {
    format!("{p}{name}")
}

fn watch(b: &dyn Backend, p: &str) {
    let (k, other) = (key(p, "k"), key(p, "other"));
    let k_s = key_str(p, "k");
    b.set(&k, b"10").unwrap();
    // Check-and-set: read through the watching connection, write the computed value.
    let r = b
        .transaction_with(&[&k], &mut |conn| {
            let v: i64 = String::from_utf8(conn.get(&k)?.unwrap())
                .unwrap()
                .parse()
                .unwrap();
            Ok(vec![argv(&["SET", &k_s, &(v * 2).to_string()])])
        })
        .unwrap();
    assert_eq!(r, Some(vec![Reply::ok()]));
    assert_eq!(b.get(&k).unwrap(), some("20"));

    // A second writer changes the key between WATCH and EXEC: nothing runs.
    let r = b
        .transaction_with(&[&k], &mut |conn| {
            let v = conn.get(&k)?.unwrap();
            b.set(&k, b"changed by another client")?;
            let next = format!("{}!", String::from_utf8_lossy(&v));
            Ok(vec![
                argv(&["SET", &k_s, &next]),
                argv(&["INCR", &key_str(p, "other")]),
            ])
        })
        .unwrap();
    assert_eq!(r, None, "the watched key changed");
    assert_eq!(b.get(&k).unwrap(), some("changed by another client"));
    assert_eq!(
        b.exists(&[&other]).unwrap(),
        0,
        "no command of the transaction ran"
    );

    // A key that did not exist when watched and was created meanwhile also aborts.
    let fresh = key(p, "fresh");
    let r = b
        .transaction_with(&[&fresh], &mut |_| {
            b.set(&fresh, b"x")?;
            Ok(vec![argv(&["DEL", &key_str(p, "fresh")])])
        })
        .unwrap();
    assert_eq!(r, None);
    assert_eq!(b.get(&fresh).unwrap(), some("x"));

    // The build function's error ends the transaction, and the connection is usable after.
    assert!(matches!(
        b.transaction_with(&[&k], &mut |conn| {
            conn.incr(&k)?;
            unreachable!("INCR of a non-integer fails")
        }),
        Err(Error::NotInteger)
    ));
    assert_eq!(
        b.transaction(&[&k], &[argv(&["GET", &k_s])]).unwrap(),
        Some(vec![Reply::bulk("changed by another client")])
    );
}

fn bloom_opts(capacity: u64, error_rate: f64, expansion: u32, nonscaling: bool) -> BloomOptions {
    BloomOptions {
        error_rate,
        capacity,
        expansion,
        nonscaling,
    }
}

fn added(r: Vec<Result<bool, Error>>) -> Vec<Result<bool, String>> {
    r.into_iter()
        .map(|x| x.map_err(|e| e.to_string()))
        .collect()
}

fn bloom(b: &dyn Backend, p: &str) {
    let (f, auto, s, missing) = (key(p, "f"), key(p, "auto"), key(p, "s"), key(p, "missing"));
    b.bf_reserve(&f, bloom_opts(100, 0.01, 2, false)).unwrap();
    assert_eq!(
        err_text(b.bf_reserve(&f, bloom_opts(100, 0.01, 2, false))),
        "ERR item exists"
    );
    assert!(b.bf_add(&f, b"a").unwrap());
    assert!(!b.bf_add(&f, b"a").unwrap());
    assert!(b.bf_exists(&f, b"a").unwrap());
    assert!(!b.bf_exists(&f, b"b").unwrap());
    assert_eq!(
        added(b.bf_madd(&f, &[b"b", b"a", b"c"]).unwrap()),
        vec![Ok(true), Ok(false), Ok(true)]
    );
    assert_eq!(
        b.bf_mexists(&f, &[b"a", b"zz", b"c"]).unwrap(),
        vec![true, false, true]
    );
    assert_eq!(b.bf_card(&f).unwrap(), 3);
    let info = b.bf_info(&f).unwrap();
    assert_eq!(
        (
            info.capacity,
            info.size,
            info.filters,
            info.items,
            info.expansion
        ),
        (100, 240, 1, 3, Some(2))
    );

    // BF.ADD creates a default filter: capacity 100, 1%, expansion 2.
    assert!(b.bf_add(&auto, b"x").unwrap());
    let r = reference();
    r.bf_add(&auto, b"x").unwrap();
    assert_eq!(b.bf_info(&auto).unwrap(), r.bf_info(&auto).unwrap());

    // Missing keys.
    assert!(!b.bf_exists(&missing, b"a").unwrap());
    assert_eq!(
        b.bf_mexists(&missing, &[b"a", b"b"]).unwrap(),
        vec![false, false]
    );
    assert_eq!(b.bf_card(&missing).unwrap(), 0);
    assert_eq!(err_text(b.bf_info(&missing)), "ERR not found");
    let nocreate = BfInsertOptions {
        nocreate: true,
        ..BfInsertOptions::default()
    };
    assert_eq!(
        err_text(b.bf_insert(&missing, nocreate, &[b"a"])),
        "ERR not found"
    );
    assert_eq!(b.exists(&[&missing]).unwrap(), 0);

    // BF.INSERT creates with its options, and ignores them for an existing filter.
    let ins = key(p, "ins");
    let opts = BfInsertOptions {
        filter: bloom_opts(1000, 0.001, 4, false),
        nocreate: false,
    };
    assert_eq!(
        added(b.bf_insert(&ins, opts, &[b"p", b"q", b"p"]).unwrap()),
        vec![Ok(true), Ok(true), Ok(false)]
    );
    r.bf_insert(&ins, opts, &[b"p", b"q", b"p"]).unwrap();
    assert_eq!(b.bf_info(&ins).unwrap(), r.bf_info(&ins).unwrap());
    assert_eq!(
        added(
            b.bf_insert(&ins, BfInsertOptions::default(), &[b"r"])
                .unwrap()
        ),
        vec![Ok(true)]
    );
    assert_eq!(b.bf_info(&ins).unwrap().capacity, 1000);

    // Wrong types: writes and BF.INFO/BF.CARD refuse, BF.EXISTS answers 0.
    b.set(&s, b"string").unwrap();
    assert_eq!(err_text(b.bf_add(&s, b"a")), WRONGTYPE);
    assert_eq!(err_text(b.bf_madd(&s, &[b"a"])), WRONGTYPE);
    assert_eq!(
        err_text(b.bf_reserve(&s, BloomOptions::default())),
        WRONGTYPE
    );
    assert_eq!(err_text(b.bf_info(&s)), WRONGTYPE);
    assert_eq!(err_text(b.bf_card(&s)), WRONGTYPE);
    assert!(!b.bf_exists(&s, b"a").unwrap());
    assert_eq!(b.get(&s).unwrap(), some("string"));

    // Argument checks, with RedisBloom's texts.
    assert_eq!(
        err_text(b.bf_reserve(&key(p, "bad"), bloom_opts(100, 1.5, 2, false))),
        "ERR (0 < error rate range < 1) "
    );
    assert_eq!(
        err_text(b.bf_reserve(&key(p, "bad"), bloom_opts(0, 0.01, 2, false))),
        "ERR (capacity should be larger than 0)"
    );
    assert_eq!(
        err_text(b.bf_reserve(&key(p, "bad"), bloom_opts(100, 0.01, 0, false))),
        "ERR expansion should be greater or equal to 1"
    );
    let bad = BfInsertOptions {
        filter: bloom_opts(0, 0.01, 2, false),
        nocreate: false,
    };
    assert_eq!(
        err_text(b.bf_insert(&key(p, "bad"), bad, &[b"a"])),
        "Bad argument received"
    );
    // (The memory budget, `ERR Insufficient memory to create filter`, is sketchstore's and
    // its emulation's: RedisBloom itself tries to allocate. See tests/redis_backend.rs.)
    assert_eq!(b.exists(&[&key(p, "bad")]).unwrap(), 0);
}

fn bloom_growth_and_errors(b: &dyn Backend, p: &str) {
    let r = reference();
    let (small, fixed) = (key(p, "small"), key(p, "fixed"));
    let items: Vec<Vec<u8>> = (0..100).map(|i| format!("item-{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();

    // Growth inside one BF.MADD.
    for backend in [b, &r as &dyn Backend] {
        backend
            .bf_reserve(&small, bloom_opts(5, 0.05, 3, false))
            .unwrap();
    }
    let got = added(b.bf_madd(&small, &refs).unwrap());
    assert_eq!(got, added(r.bf_madd(&small, &refs).unwrap()));
    assert_eq!(b.bf_info(&small).unwrap(), r.bf_info(&small).unwrap());
    assert!(
        b.bf_info(&small).unwrap().filters >= 3,
        "grew several times"
    );

    // A full non-scaling filter: new items fail and BF.MADD stops at the first failure.
    for backend in [b, &r as &dyn Backend] {
        backend
            .bf_reserve(&fixed, bloom_opts(3, 0.01, 2, true))
            .unwrap();
    }
    let got = added(b.bf_madd(&fixed, &refs[..6]).unwrap());
    assert_eq!(got, added(r.bf_madd(&fixed, &refs[..6]).unwrap()));
    assert_eq!(
        got,
        vec![
            Ok(true),
            Ok(true),
            Ok(true),
            Err("ERR non scaling filter is full".into())
        ]
    );
    assert_eq!(
        err_text(b.bf_add(&fixed, b"new")),
        "ERR non scaling filter is full"
    );
    assert!(
        !b.bf_add(&fixed, &items[0]).unwrap(),
        "a present item is not an error"
    );
    let info = b.bf_info(&fixed).unwrap();
    assert_eq!(info, r.bf_info(&fixed).unwrap());
    assert_eq!(info.expansion, None);
    assert_eq!(b.bf_card(&fixed).unwrap(), 3);
}

/// The same operations on the backend and on the embedded store give the same answers,
/// false positives included: same sizing, same hashing, same growth.
fn bloom_same_answers_as_embedded(b: &dyn Backend, p: &str) {
    let r = reference();
    let f = key(p, "f");
    for backend in [b, &r as &dyn Backend] {
        backend
            .bf_reserve(&f, bloom_opts(400, 0.02, 2, false))
            .unwrap();
    }
    let items: Vec<Vec<u8>> = (0..3000u32)
        .map(|i| format!("session:{}:page:{}", i * 7919 % 1000, i).into_bytes())
        .collect();
    let mut got = Vec::new();
    let mut want = Vec::new();
    for (i, chunk) in items.chunks(250).enumerate() {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        if i % 3 == 0 {
            for item in &refs {
                got.push(Ok(b.bf_add(&f, item).unwrap()));
                want.push(Ok(r.bf_add(&f, item).unwrap()));
            }
        } else {
            got.extend(added(b.bf_madd(&f, &refs).unwrap()));
            want.extend(added(r.bf_madd(&f, &refs).unwrap()));
        }
    }
    assert_eq!(got, want, "BF.ADD / BF.MADD answers");
    assert!(
        want.iter().any(|a| a == &Ok(false)),
        "some items collide (false positives or repeats)"
    );
    let probes: Vec<Vec<u8>> = (0..20_000u32)
        .map(|i| format!("absent:{i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = probes.iter().map(Vec::as_slice).collect();
    let mut got = Vec::new();
    let mut want = Vec::new();
    for chunk in refs.chunks(2000) {
        got.extend(b.bf_mexists(&f, chunk).unwrap());
        want.extend(r.bf_mexists(&f, chunk).unwrap());
    }
    let false_positives = want.iter().filter(|&&x| x).count();
    assert!(
        (50..800).contains(&false_positives),
        "{false_positives} false positives in 20000"
    );
    assert_eq!(got, want, "BF.MEXISTS answers, false positives included");
    for item in refs.iter().take(300) {
        assert_eq!(
            b.bf_exists(&f, item).unwrap(),
            r.bf_exists(&f, item).unwrap()
        );
    }
    assert_eq!(b.bf_info(&f).unwrap(), r.bf_info(&f).unwrap());
    assert_eq!(b.bf_card(&f).unwrap(), r.bf_card(&f).unwrap());
}
