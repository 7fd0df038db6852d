//! Key space and expiry: argv -> exact reply tables (Redis 7.0's replies for common errors,
//! DEL/EXISTS/TYPE/KEYS/SCAN and expiry, recorded from a real server and written out so they
//! run without one; see docs/redis-behaviours.md, "Expiry arguments"), the typed methods (SCAN, KEYS,
//! EXPIRE conditions, TTL on a manual clock, active expiry), and the contract tests of the
//! public types (`Store` is Send + Sync + Clone, `Error`'s texts).

mod common;

use common::table::*;
use sketchstore::{Error, ExpireCondition, KeyType, ManualClock, Reply, Store, Ttl};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

#[test]
fn spec_test_vectors() {
    run_table(&[
        (&["MSET", "a", "1", "b", "2"], ok()),
        (&["DEL", "a", "a", "b", "nokey"], int(2)),
        (&["MSET", "a", "1", "b", "2"], ok()),
        (&["EXISTS", "a", "a", "b", "nokey"], int(3)),
        (&["EXPIRE", "a", "100"], int(1)),
        (&["EXPIRE", "a", "100", "NX"], int(0)),
        (&["EXPIRE", "a", "50", "GT"], int(0)),
        (&["EXPIRE", "a", "300", "GT"], int(1)),
        (&["EXPIRE", "b", "100", "GT"], int(0)),
        (&["EXPIRE", "b", "100", "LT"], int(1)),
        (
            &["EXPIRE", "a", "10", "NX", "XX"],
            err("ERR NX and XX, GT or LT options at the same time are not compatible"),
        ),
        (
            &["EXPIRE", "a", "10", "GT", "LT"],
            err("ERR GT and LT options at the same time are not compatible"),
        ),
        (
            &["EXPIRE", "a", "10", "FOO"],
            err("ERR Unsupported option FOO"),
        ),
        (
            &["EXPIRE", "a", "9223372036854775807"],
            err("ERR invalid expire time in 'expire' command"),
        ),
        (&["EXPIRE", "a", "-5"], int(1)),
        (&["EXISTS", "a"], int(0)),
        (&["TTL", "nokey"], int(-2)),
        (&["SET", "c", "1"], ok()),
        (&["TTL", "c"], int(-1)),
        (&["PERSIST", "c"], int(0)),
        (&["SCAN", "abc"], err("ERR invalid cursor")),
        (&["SCAN", "0", "COUNT", "0"], err(SYNTAX)),
        (
            &["FOO", "bar", "baz"],
            err("ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' "),
        ),
    ]);
}

#[test]
fn del_exists_type_rename() {
    run_table(&[
        (&["TYPE", "nokey"], status("none")),
        (&["SET", "s", "v"], ok()),
        (&["TYPE", "s"], status("string")),
        (&["HSET", "h", "f", "v"], int(1)),
        (&["TYPE", "h"], status("hash")),
        (&["UNLINK", "s", "s"], int(1)),
        (&["DEL", "s"], int(0)),
        (
            &["DEL"],
            err("ERR wrong number of arguments for 'del' command"),
        ),
        (
            &["EXISTS"],
            err("ERR wrong number of arguments for 'exists' command"),
        ),
        (&["RENAME", "nokey", "x"], err("ERR no such key")),
        (&["RENAMENX", "nokey", "x"], err("ERR no such key")),
        (&["SET", "s", "v", "EX", "100"], ok()),
        (&["RENAME", "s", "t"], ok()),
        (&["EXISTS", "s", "t"], int(1)),
        (&["TTL", "t"], int(100)),
        (&["RENAME", "t", "t"], ok()),
        (&["RENAMENX", "t", "t"], int(0)),
        (&["RENAMENX", "t", "h"], int(0)),
        (&["RENAME", "t", "h"], ok()),
        (&["TYPE", "h"], status("string")),
        (&["TTL", "h"], int(100)),
        (&["RENAMENX", "h", "fresh"], int(1)),
        (&["DBSIZE"], int(1)),
        (&["FLUSHALL", "ASYNC"], ok()),
        (&["FLUSHALL", "sync"], ok()),
        (&["FLUSHALL", "LAZY"], err(SYNTAX)),
        (&["FLUSHALL", "ASYNC", "SYNC"], err(SYNTAX)),
        (&["FLUSHDB"], ok()),
        (&["DBSIZE"], int(0)),
    ]);
}

#[test]
fn expire_rules() {
    run_table(&[
        // Option errors come before the number is read.
        (&["SET", "p", "v"], ok()),
        (
            &["EXPIRE", "p", "abc", "NX", "XX"],
            err("ERR NX and XX, GT or LT options at the same time are not compatible"),
        ),
        (
            &["EXPIRE", "p", "abc", "foo"],
            err("ERR Unsupported option foo"),
        ),
        (&["EXPIRE", "p", "abc"], err(NOT_INT)),
        (&["EXPIRE", "p", "1.5"], err(NOT_INT)),
        (&["EXPIRE", "p", "10", "XX", "GT"], int(0)),
        (&["EXPIRE", "p", "10", "xx", "lt"], int(0)),
        (&["EXPIRE", "p", "10", "NX", "NX"], int(1)),
        (&["EXPIRE", "p", "20", "XX", "GT"], int(1)),
        (&["EXPIRE", "p", "30", "XX", "LT"], int(0)),
        (&["EXPIRE", "p", "5", "LT", "LT"], int(1)),
        (&["TTL", "p"], int(5)),
        // Past times delete, but only when the condition passes.
        (&["SET", "q", "v"], ok()),
        (&["EXPIRE", "q", "-1", "GT"], int(0)),
        (&["EXISTS", "q"], int(1)),
        (&["EXPIRE", "q", "-1", "LT"], int(1)),
        (&["EXISTS", "q"], int(0)),
        (&["SET", "q", "v"], ok()),
        (&["PEXPIRE", "q", "0"], int(1)),
        (&["EXISTS", "q"], int(0)),
        (&["SET", "q", "v"], ok()),
        (&["EXPIREAT", "q", "1"], int(1)),
        (&["EXISTS", "q"], int(0)),
        (&["SET", "q", "v"], ok()),
        (&["EXPIRE", "q", "0"], int(1)),
        (&["EXISTS", "q"], int(0)),
        // Overflow is checked even for a missing key; each command names itself.
        (
            &["EXPIRE", "nokey", "9223372036854775807"],
            err("ERR invalid expire time in 'expire' command"),
        ),
        (
            &["PEXPIRE", "nokey", "9223372036854775807"],
            err("ERR invalid expire time in 'pexpire' command"),
        ),
        (
            &["EXPIREAT", "nokey", "9223372036854775807"],
            err("ERR invalid expire time in 'expireat' command"),
        ),
        (&["EXPIRE", "nokey", "10"], int(0)),
        (&["SET", "m", "v"], ok()),
        (&["PEXPIREAT", "m", "9223372036854775807"], int(1)),
        (&["PTTL", "m"], int(i64::MAX - START_MS)),
        (
            &["EXPIRE", "m"],
            err("ERR wrong number of arguments for 'expire' command"),
        ),
        // TTL rounds to the nearest second.
        (&["SET", "r", "v"], ok()),
        (&["PEXPIRE", "r", "1500"], int(1)),
        (&["TTL", "r"], int(2)),
        (&["PTTL", "r"], int(1500)),
        (&[ADVANCE, "1001"], ok()),
        (&["TTL", "r"], int(0)),
        (&["PTTL", "r"], int(499)),
        (&["PERSIST", "r"], int(1)),
        (&["PERSIST", "r"], int(0)),
        (&["PERSIST", "nokey"], int(0)),
        (&["TTL", "r"], int(-1)),
        (&["PEXPIRE", "r", "10"], int(1)),
        (&[ADVANCE, "10"], ok()),
        (&["TTL", "r"], int(-2)),
        (&["PERSIST", "r"], int(0)),
    ]);
}

/// Redis's `addReplyErrorFormat` trims CR/LF at the ends of an error and turns the ones
/// inside into spaces (a raw CR/LF would end the RESP2 line early); `%s` stops at a NUL.
/// Found by the `execute` fuzz target.
#[test]
fn unsupported_option_error_has_no_line_breaks() {
    let (_, s) = store();
    s.set("a", "1").unwrap();
    assert_eq!(
        s.execute(&["EXPIRE", "a", "10", "X\n"]),
        err("ERR Unsupported option X")
    );
    assert_eq!(
        s.execute(&["EXPIRE", "a", "10", "a\r\nb"]),
        err("ERR Unsupported option a  b")
    );
    assert_eq!(
        s.execute(&[&b"EXPIRE"[..], b"a", b"10", b"X\n\x00junk"]),
        err("ERR Unsupported option X")
    );
}

#[test]
fn keys_glob() {
    let (_, s) = store();
    for k in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "other",
    ] {
        s.set(k, "1").unwrap();
    }
    let keys = |p: &str| -> BTreeSet<String> {
        s.keys(p)
            .unwrap()
            .into_iter()
            .map(|k| String::from_utf8(k).unwrap())
            .collect()
    };
    let set = |v: &[&str]| -> BTreeSet<String> { v.iter().map(|s| s.to_string()).collect() };
    assert_eq!(keys("h?llo"), set(&["hello", "hallo", "hxllo", "h*llo"]));
    assert_eq!(
        keys("h*llo"),
        set(&["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo"])
    );
    assert_eq!(keys("h[ae]llo"), set(&["hello", "hallo"]));
    assert_eq!(keys("h[^e]llo"), set(&["hallo", "hxllo", "h*llo"]));
    assert_eq!(keys("h[a-b]llo"), set(&["hallo"]));
    assert_eq!(keys("h\\*llo"), set(&["h*llo"]));
    assert_eq!(keys("*").len(), 7);
    assert_eq!(keys("nomatch*"), set(&[]));
    // The argv form: same keys, in some order.
    match s.execute(&["KEYS", "h?llo"]) {
        Reply::Array(items) => assert_eq!(items.len(), 4),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.execute(&["KEYS"]),
        err("ERR wrong number of arguments for 'keys' command")
    );
}

fn populate(s: &Store, n: usize) -> BTreeSet<Vec<u8>> {
    let keys: Vec<(String, String)> = (0..n)
        .map(|i| (format!("key:{i}"), i.to_string()))
        .collect();
    s.mset(&keys).unwrap();
    keys.into_iter().map(|(k, _)| k.into_bytes()).collect()
}

#[test]
fn scan_visits_every_key_exactly_once() {
    let (_, s) = store();
    let all = populate(&s, 10_000);
    for count in [1usize, 10, 1000] {
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut cursor = 0;
        let mut pages = 0;
        loop {
            let page = s.scan(cursor, None, count).unwrap();
            pages += 1;
            for k in page.keys {
                *seen.entry(k).or_default() += 1;
            }
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
            assert!(pages <= 10_000 + 64, "COUNT {count}: SCAN does not finish");
        }
        assert_eq!(seen.len(), all.len(), "COUNT {count}: keys seen");
        assert!(
            seen.values().all(|&n| n == 1),
            "COUNT {count}: a key seen twice"
        );
        assert!(
            all.iter().all(|k| seen.contains_key(k)),
            "COUNT {count}: a key missed"
        );
        assert!(pages >= 10_000 / count, "COUNT {count}: only {pages} pages");
    }
}

fn scan_argv(s: &Store, cursor: &[u8], extra: &[&str]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut argv: Vec<Vec<u8>> = vec![b"SCAN".to_vec(), cursor.to_vec()];
    argv.extend(extra.iter().map(|e| e.as_bytes().to_vec()));
    match s.execute(&argv) {
        Reply::Array(items) => match items.as_slice() {
            [Reply::Bulk(c), Reply::Array(keys)] => {
                let keys = keys
                    .iter()
                    .map(|k| match k {
                        Reply::Bulk(b) => b.clone(),
                        other => panic!("SCAN key {other:?}"),
                    })
                    .collect();
                (c.clone(), keys)
            }
            other => panic!("SCAN reply {other:?}"),
        },
        other => panic!("SCAN reply {other:?}"),
    }
}

#[test]
fn scan_argv_full_iteration() {
    let (_, s) = store();
    let all = populate(&s, 10_000);
    for count in ["1", "10", "1000"] {
        let mut seen = Vec::new();
        let mut cursor = b"0".to_vec();
        loop {
            let (next, keys) = scan_argv(&s, &cursor, &["COUNT", count]);
            seen.extend(keys);
            cursor = next;
            if cursor == b"0" {
                break;
            }
        }
        let n = seen.len();
        let distinct: BTreeSet<Vec<u8>> = seen.into_iter().collect();
        assert_eq!(n, distinct.len(), "COUNT {count}: duplicates");
        assert_eq!(distinct, all, "COUNT {count}");
    }
}

#[test]
fn scan_match_and_type() {
    let (_, s) = store();
    populate(&s, 500);
    s.hset("key:h", &[("f", "v")]).unwrap();
    let collect = |extra: &[&str]| -> BTreeSet<Vec<u8>> {
        let mut out = BTreeSet::new();
        let mut cursor = b"0".to_vec();
        loop {
            let (next, keys) = scan_argv(&s, &cursor, extra);
            out.extend(keys);
            cursor = next;
            if cursor == b"0" {
                return out;
            }
        }
    };
    let ones = collect(&["MATCH", "key:1?", "COUNT", "7"]);
    let want: BTreeSet<Vec<u8>> = (10..20).map(|i| format!("key:{i}").into_bytes()).collect();
    assert_eq!(ones, want);
    assert_eq!(
        collect(&["TYPE", "hash"]),
        BTreeSet::from([b"key:h".to_vec()])
    );
    assert_eq!(
        collect(&["TYPE", "string", "MATCH", "key:h*"]),
        BTreeSet::new()
    );
    assert_eq!(collect(&["type", "zset"]), BTreeSet::new());
    assert_eq!(collect(&["COUNT", "3", "TYPE", "STRING"]).len(), 500);

    let typed = {
        let mut out = BTreeSet::new();
        let mut cursor = 0;
        loop {
            let page = s.scan(cursor, Some(b"key:4*"), 10).unwrap();
            out.extend(page.keys);
            cursor = page.cursor;
            if cursor == 0 {
                break out;
            }
        }
    };
    assert_eq!(typed.len(), 1 + 10 + 100);
}

#[test]
fn scan_argument_errors() {
    run_table(&[
        (&["SET", "k", "v"], ok()),
        (&["SCAN", "abc"], err("ERR invalid cursor")),
        (&["SCAN", "18446744073709551616"], err("ERR invalid cursor")),
        (&["SCAN", "0", "COUNT", "0"], err(SYNTAX)),
        (&["SCAN", "0", "COUNT", "-1"], err(SYNTAX)),
        (&["SCAN", "0", "COUNT", "abc"], err(NOT_INT)),
        (&["SCAN", "0", "COUNT"], err(SYNTAX)),
        (&["SCAN", "0", "MATCH"], err(SYNTAX)),
        (&["SCAN", "0", "FOO", "bar"], err(SYNTAX)),
        (
            &["SCAN"],
            err("ERR wrong number of arguments for 'scan' command"),
        ),
    ]);
    let (_, s) = store();
    s.set("k", "v").unwrap();
    // -1 wraps to the largest cursor: accepted.
    assert!(!s.execute(&["SCAN", "-1"]).is_error());
    assert!(!s
        .execute(&["SCAN", "18446744073709551615", "COUNT", "5"])
        .is_error());
    let (cursor, keys) = scan_argv(&s, b"0", &["COUNT", "100"]);
    assert_eq!((cursor, keys), (b"0".to_vec(), vec![b"k".to_vec()]));
}

/// Keys present for the whole iteration come back exactly once, whatever else is added or
/// removed between pages.
#[test]
fn scan_under_concurrent_writes() {
    let (_, s) = store();
    let all = populate(&s, 5_000);
    let stable: BTreeSet<Vec<u8>> = all.iter().filter(|k| !k.ends_with(b"7")).cloned().collect();
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut cursor = 0;
    let mut page_no = 0u32;
    loop {
        let page = s.scan(cursor, None, 25).unwrap();
        for k in page.keys {
            *seen.entry(k).or_default() += 1;
        }
        page_no += 1;
        // Churn: remove some keys ending in 7, add new ones.
        let victim = format!("key:{}7", page_no % 500);
        s.del(&[victim]).unwrap();
        s.set(format!("new:{page_no}"), "x").unwrap();
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    assert!(seen.values().all(|&n| n == 1), "a key returned twice");
    for k in &stable {
        assert_eq!(seen.get(k), Some(&1), "{}", String::from_utf8_lossy(k));
    }
}

// ---- typed expiry ----

#[test]
fn typed_ttl_on_manual_clock() {
    let (clock, s) = store();
    assert_eq!(s.ttl("k").unwrap(), Ttl::Missing);
    s.set("k", "v").unwrap();
    assert_eq!(s.ttl("k").unwrap(), Ttl::Persistent);
    assert!(s.expire("k", Duration::from_secs(10)).unwrap());
    assert_eq!(s.ttl("k").unwrap(), Ttl::Expires(Duration::from_secs(10)));
    clock.advance(Duration::from_millis(9_499));
    assert_eq!(s.ttl("k").unwrap().as_redis_secs(), 1);
    assert_eq!(s.ttl("k").unwrap().as_redis_millis(), 501);
    clock.advance(Duration::from_millis(2));
    assert_eq!(s.ttl("k").unwrap().as_redis_secs(), 0);
    clock.advance(Duration::from_millis(499));
    assert_eq!(s.ttl("k").unwrap(), Ttl::Missing);
    assert_eq!(s.get("k").unwrap(), None);

    assert_eq!(Ttl::Missing.as_redis_secs(), -2);
    assert_eq!(Ttl::Persistent.as_redis_millis(), -1);
    assert_eq!(Ttl::Expires(Duration::from_millis(1500)).as_redis_secs(), 2);
    assert_eq!(Ttl::Expires(Duration::from_millis(1499)).as_redis_secs(), 1);

    s.set("p", "v").unwrap();
    assert!(s.pexpire("p", Duration::from_millis(250)).unwrap());
    assert_eq!(
        s.ttl("p").unwrap(),
        Ttl::Expires(Duration::from_millis(250))
    );
    assert!(s.persist("p").unwrap());
    assert!(!s.persist("p").unwrap());
    assert!(!s.persist("nokey").unwrap());
    let now = clock.clock().now_ms();
    assert!(s.pexpireat("p", now + 1000).unwrap());
    assert_eq!(s.ttl("p").unwrap().as_redis_millis(), 1000);
    assert!(s.pexpireat("p", now - 1).unwrap());
    assert_eq!(s.exists(&["p"]).unwrap(), 0);
    assert!(!s.pexpireat("p", now + 1000).unwrap());
    assert!(!s.expire("nokey", Duration::from_secs(1)).unwrap());
    // A zero TTL deletes, as EXPIRE k 0 does.
    s.set("z", "v").unwrap();
    assert!(s.expire("z", Duration::ZERO).unwrap());
    assert_eq!(s.exists(&["z"]).unwrap(), 0);
}

#[test]
fn typed_expire_if_conditions() {
    let (_, s) = store();
    let nx = ExpireCondition {
        nx: true,
        ..Default::default()
    };
    let xx = ExpireCondition {
        xx: true,
        ..Default::default()
    };
    let gt = ExpireCondition {
        gt: true,
        ..Default::default()
    };
    let lt = ExpireCondition {
        lt: true,
        ..Default::default()
    };
    let secs = Duration::from_secs;
    s.set("k", "v").unwrap();

    assert!(!s.expire_if("k", secs(10), xx).unwrap(), "XX without a TTL");
    assert!(
        !s.expire_if("k", secs(10), gt).unwrap(),
        "GT against infinite"
    );
    assert_eq!(s.ttl("k").unwrap(), Ttl::Persistent);
    assert!(
        s.expire_if("k", secs(100), lt).unwrap(),
        "LT against infinite"
    );
    assert!(!s.expire_if("k", secs(10), nx).unwrap(), "NX with a TTL");
    assert!(!s.expire_if("k", secs(100), gt).unwrap(), "GT equal");
    assert!(s.expire_if("k", secs(200), gt).unwrap());
    assert!(!s.expire_if("k", secs(200), lt).unwrap(), "LT equal");
    assert!(s.expire_if("k", secs(50), lt).unwrap());
    assert!(s.expire_if("k", secs(60), xx).unwrap());
    assert_eq!(s.ttl("k").unwrap(), Ttl::Expires(secs(60)));
    let xx_gt = ExpireCondition {
        xx: true,
        gt: true,
        ..Default::default()
    };
    assert!(s.expire_if("k", secs(70), xx_gt).unwrap());
    assert!(s.persist("k").unwrap());
    assert!(s.expire_if("k", secs(5), nx).unwrap());
    // A zero TTL deletes only if the condition passes.
    assert!(!s.expire_if("k", Duration::ZERO, gt).unwrap());
    assert_eq!(s.exists(&["k"]).unwrap(), 1);
    assert!(s.expire_if("k", Duration::ZERO, lt).unwrap());
    assert_eq!(s.exists(&["k"]).unwrap(), 0);
    assert!(!s.expire_if("nokey", secs(5), lt).unwrap());
}

#[test]
fn typed_keyspace_methods() {
    let (_, s) = store();
    s.mset(&[("a", "1"), ("b", "2")]).unwrap();
    s.hset("h", &[("f", "v")]).unwrap();
    assert_eq!(s.exists(&["a", "a", "b", "nokey"]).unwrap(), 3);
    assert_eq!(s.key_type("a").unwrap(), KeyType::String);
    assert_eq!(s.key_type("h").unwrap(), KeyType::Hash);
    assert_eq!(s.key_type("nokey").unwrap(), KeyType::None);
    assert_eq!(KeyType::None.as_str(), "none");
    assert_eq!(KeyType::String.as_str(), "string");
    assert_eq!(KeyType::Hash.as_str(), "hash");
    assert_eq!(KeyType::List.as_str(), "list");
    assert_eq!(s.dbsize().unwrap(), 3);
    assert_eq!(s.rename("nokey", "x"), Err(Error::NoSuchKey));
    s.rename("a", "c").unwrap();
    assert!(!s.renamenx("c", "b").unwrap());
    assert!(s.renamenx("c", "d").unwrap());
    assert_eq!(s.get("d").unwrap(), Some(b"1".to_vec()));
    assert_eq!(s.del(&["a", "b", "b", "d"]).unwrap(), 2);
    assert_eq!(s.unlink(&["h"]).unwrap(), 1);
    assert_eq!(s.dbsize().unwrap(), 0);
    s.set("x", "1").unwrap();
    s.flushall().unwrap();
    assert_eq!(s.keys("*").unwrap(), Vec::<Vec<u8>>::new());
}

/// Expired keys are invisible at once, still counted by DBSIZE / `stored_keys` until they
/// are reclaimed, and `sweep_expired` reclaims them in bounded steps.
#[test]
fn active_expiry_reclaims_in_bounded_steps() {
    let clock = ManualClock::new(START_MS);
    let s = Store::builder().clock(clock.clock()).shards(4).build();
    for i in 0..1000 {
        s.execute(&["SET", &format!("t:{i}"), "v", "PX", "100"]);
    }
    populate(&s, 10);
    assert_eq!(s.stored_keys(), 1010);
    clock.advance(Duration::from_millis(100));
    // Due but not yet reclaimed: still held and counted.
    assert_eq!(s.stored_keys(), 1010);
    let removed = s.sweep_expired(5);
    assert!(
        removed <= 5 * 4,
        "the budget is per shard: removed {removed}"
    );
    assert!(removed > 0);
    assert_eq!(s.stored_keys(), 1010 - removed);
    assert_eq!(s.dbsize().unwrap(), 1010 - removed);
    // Invisible at once; every command also reclaims a few on the shards it locked.
    assert_eq!(s.keys("t:*").unwrap().len(), 0);
    assert_eq!(s.exists(&["t:1"]).unwrap(), 0);
    let held = s.stored_keys();
    assert!(held < 1010 - removed && held > 10, "held {held}");
    let rest = s.sweep_expired(usize::MAX);
    assert_eq!(rest, held - 10);
    assert_eq!(s.stored_keys(), 10);
    assert_eq!(s.dbsize().unwrap(), 10);
    assert_eq!(s.sweep_expired(usize::MAX), 0);
}

#[test]
fn refreshed_ttls_are_not_swept_early() {
    let (clock, s) = store();
    for i in 0..200 {
        let k = format!("k{i}");
        s.set(&k, "v").unwrap();
        s.expire(&k, Duration::from_millis(10)).unwrap();
        s.expire(&k, Duration::from_millis(1_000)).unwrap();
    }
    clock.advance(Duration::from_millis(500));
    assert_eq!(s.sweep_expired(usize::MAX), 0);
    assert_eq!(s.stored_keys(), 200);
    clock.advance(Duration::from_millis(500));
    assert_eq!(s.sweep_expired(usize::MAX), 200);
    assert_eq!(s.stored_keys(), 0);
}

// ---- contracts ----

#[test]
fn store_is_send_sync_clone() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<Store>();
    assert_send_sync_clone::<ManualClock>();
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Error>();

    let (_, s) = store();
    let t = s.clone();
    t.set("shared", "1").unwrap();
    assert_eq!(s.get("shared").unwrap(), Some(b"1".to_vec()));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    s.incr("ctr").unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(t.get("ctr").unwrap(), Some(b"4000".to_vec()));
}

#[test]
fn error_display_is_redis_text() {
    let cases = error_texts();
    for (e, text) in &cases {
        assert_eq!(e.to_string(), *text, "{e:?}");
    }
    // An error reply is `Reply::Error(err.to_string())`.
    let (_, s) = store();
    s.hset("h", &[("f", "v")]).unwrap();
    let e = s.get("h").unwrap_err();
    assert_eq!(s.execute(&["GET", "h"]), Reply::Error(e.to_string()));
}

/// `Error::from_reply_text` maps every text back to its variant (the Redis backend builds
/// errors this way, so users can match on variants whichever backend they use).
#[test]
fn error_text_round_trips() {
    for (e, text) in error_texts() {
        assert_eq!(Error::from_reply_text(text), e, "{text}");
    }
}

fn error_texts() -> Vec<(Error, &'static str)> {
    vec![
        (
            Error::WrongType,
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            Error::WrongArity("get".into()),
            "ERR wrong number of arguments for 'get' command",
        ),
        (
            Error::WrongArity("config|get".into()),
            "ERR wrong number of arguments for 'config|get' command",
        ),
        (Error::Syntax, "ERR syntax error"),
        (
            Error::NotInteger,
            "ERR value is not an integer or out of range",
        ),
        (Error::NotFloat, "ERR value is not a valid float"),
        (Error::Overflow, "ERR increment or decrement would overflow"),
        (Error::DecrementOverflow, "ERR decrement would overflow"),
        (Error::HashNotInteger, "ERR hash value is not an integer"),
        (Error::HashNotFloat, "ERR hash value is not a float"),
        (
            Error::NanOrInfinity,
            "ERR increment would produce NaN or Infinity",
        ),
        (
            Error::InvalidExpire("set".into()),
            "ERR invalid expire time in 'set' command",
        ),
        (
            Error::InvalidExpire("pexpire".into()),
            "ERR invalid expire time in 'pexpire' command",
        ),
        (Error::NoSuchKey, "ERR no such key"),
        (Error::InvalidCursor, "ERR invalid cursor"),
        (
            Error::StringTooLong,
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ),
        (
            Error::err("Unsupported option FOO"),
            "ERR Unsupported option FOO",
        ),
        (Error::other("EXECABORT x"), "EXECABORT x"),
    ]
}

/// TOUCH, EXPIRETIME, COPY, RANDOMKEY, OBJECT, SORT: Redis 7.0's replies, and where this
/// store differs by design (one database: `COPY ... DB n` for n != 0).
#[test]
fn keyspace_commands_of_redis_7() {
    let at = (START_MS / 1000 + 100).to_string();
    let at_ms = ((START_MS / 1000 + 100) * 1000).to_string();
    run_table(&[
        (&["SET", "a", "1"], ok()),
        (&["TOUCH", "a", "a", "nokey"], int(2)),
        (&["EXPIRETIME", "a"], int(-1)),
        (&["EXPIRETIME", "nokey"], int(-2)),
        (&["EXPIRE", "a", "100"], int(1)),
        (&["EXPIRETIME", "a"], Reply::Integer(at.parse().unwrap())),
        (
            &["PEXPIRETIME", "a"],
            Reply::Integer(at_ms.parse().unwrap()),
        ),
        (&["COPY", "a", "b"], int(1)),
        (
            &["PEXPIRETIME", "b"],
            Reply::Integer(at_ms.parse().unwrap()),
        ),
        (&["COPY", "a", "b"], int(0)),
        (&["COPY", "a", "b", "REPLACE", "DB", "0"], int(1)),
        (&["COPY", "a", "c", "DB", "1"], int(1)),
        (
            &["COPY", "a", "c", "DB", "16"],
            err("ERR DB index is out of range"),
        ),
        (
            &["COPY", "a", "a"],
            err("ERR source and destination objects are the same"),
        ),
        (&["COPY", "a", "c", "DB"], err(SYNTAX)),
        (&["OBJECT", "ENCODING", "a"], bulk("int")),
        (&["OBJECT", "REFCOUNT", "a"], int(i64::from(i32::MAX))),
        (&["OBJECT", "IDLETIME", "a"], int(0)),
        (&["OBJECT", "ENCODING", "nokey"], nil()),
        (
            &["OBJECT", "NOPE", "a"],
            err("ERR unknown subcommand 'NOPE'. Try OBJECT HELP."),
        ),
        (
            &["OBJECT", "ENCODING"],
            err("ERR wrong number of arguments for 'object|encoding' command"),
        ),
        (&["FLUSHDB", "ASYNC"], ok()),
        (&["RANDOMKEY"], nil()),
        (&["RPUSH", "l", "2", "10", "1"], int(3)),
        (&["SORT", "l"], bulks(&["1", "2", "10"])),
        (
            &["SORT", "l", "ALPHA", "DESC", "LIMIT", "0", "2"],
            bulks(&["2", "10"]),
        ),
        (&["SORT_RO", "l", "STORE", "d"], err(SYNTAX)),
        (&["SORT", "l", "STORE", "d"], int(3)),
        (&["LRANGE", "d", "0", "-1"], bulks(&["1", "2", "10"])),
        (&["OBJECT", "ENCODING", "l"], bulk("quicklist")),
    ]);
}

#[test]
fn typed_redis_7_keyspace_methods() {
    let (_clock, store) = store();
    store.set("a", "hello").unwrap();
    assert_eq!(store.touch(&["a", "x"]).unwrap(), 1);
    assert_eq!(store.expiretime("a").unwrap(), -1);
    assert!(store.copy("a", "b", false).unwrap());
    assert_eq!(store.get("b").unwrap(), Some(b"hello".to_vec()));
    assert_eq!(
        store.copy("a", "a", true).unwrap_err().to_string(),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        store.object_encoding("a").unwrap().as_deref(),
        Some("embstr")
    );
    let k = store.randomkey().unwrap().unwrap();
    assert!(k == b"a" || k == b"b");
    store.rpush("l", &["b", "c", "a"]).unwrap();
    let opts = sketchstore::SortOptions {
        alpha: true,
        ..Default::default()
    };
    let sorted: Vec<_> = store
        .sort("l", &opts)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(sorted, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(store.sort_store("l", &opts, "dst").unwrap(), 3);
    assert_eq!(store.lcs("a", "b").unwrap(), b"hello".to_vec());
    assert_eq!(
        store.lcs_len("a", "l").unwrap_err().to_string(),
        "ERR The specified keys must contain string values"
    );
    store.flushdb().unwrap();
    assert_eq!(store.randomkey().unwrap(), None);
}

/// A backend that only runs argv: every typed method goes through the trait's defaults,
/// which must agree with the embedded store's own typed methods.
struct ViaExecute(Store);

impl sketchstore::Backend for ViaExecute {
    fn execute(&self, argv: &[&[u8]]) -> sketchstore::Result<Reply> {
        Ok(self.0.execute(argv))
    }
}

#[test]
fn backend_defaults_agree_with_the_typed_methods() {
    use sketchstore::{Backend, ListEnd, LposOptions, SortOptions};
    let direct = Store::new();
    let via = ViaExecute(Store::new());
    let backends: [&dyn Backend; 2] = [&direct, &via];
    let mut answers: Vec<Vec<String>> = Vec::new();
    for b in backends {
        let mut out = Vec::new();
        b.set(b"s1", b"ohmytext").unwrap();
        b.set(b"s2", b"mynewtext").unwrap();
        b.rpush(b"l", &[b"3", b"1", b"2", b"1"]).unwrap();
        b.hset(b"h", &[(b"f", b"v"), (b"g", b"w")]).unwrap();
        out.push(format!("{:?}", b.touch(&[b"s1", b"nokey"])));
        out.push(format!("{:?}", b.expiretime(b"s1")));
        out.push(format!("{:?}", b.pexpiretime(b"nokey")));
        out.push(format!("{:?}", b.copy(b"s1", b"s3", false)));
        out.push(format!("{:?}", b.copy(b"s1", b"s3", false)));
        out.push(format!("{:?}", b.object_encoding(b"s1")));
        out.push(format!("{:?}", b.object_encoding(b"nokey")));
        out.push(format!("{:?}", b.lcs(b"s1", b"s2")));
        out.push(format!("{:?}", b.lcs_len(b"s1", b"s2")));
        out.push(format!("{:?}", b.sort(b"l", &SortOptions::default())));
        let by = SortOptions {
            by: Some(b"nosort".to_vec()),
            get: vec![b"#".to_vec(), b"nokey_*".to_vec()],
            desc: true,
            limit: Some((1, 2)),
            ..Default::default()
        };
        out.push(format!("{:?}", b.sort(b"l", &by)));
        out.push(format!("{:?}", b.sort_store(b"l", &by, b"dst")));
        out.push(format!("{:?}", b.linsert(b"l", true, b"2", b"x")));
        out.push(format!("{:?}", b.linsert(b"l", false, b"zz", b"x")));
        let all = LposOptions {
            count: Some(0),
            ..Default::default()
        };
        out.push(format!("{:?}", b.lpos(b"l", b"1", all)));
        out.push(format!("{:?}", b.lpos(b"l", b"1", LposOptions::default())));
        out.push(format!("{:?}", b.lpos(b"l", b"zz", LposOptions::default())));
        out.push(format!(
            "{:?}",
            b.lmpop(&[b"nokey", b"l"], ListEnd::Right, 2)
        ));
        out.push(format!("{:?}", b.lmpop(&[b"nokey"], ListEnd::Right, 2)));
        out.push(format!("{:?}", b.hrandfield_count(b"h", 5)));
        out.push(format!("{:?}", b.hrandfield_withvalues(b"h", 5)));
        out.push(format!("{:?}", b.hrandfield(b"nokey")));
        out.push(format!("{:?}", b.hscan(b"h", 0, Some(b"f*"), 10)));
        out.push(format!("{:?}", b.hscan(b"nokey", 0, None, 10)));
        out.push(format!("{:?}", b.flushdb()));
        out.push(format!("{:?}", b.randomkey()));
        answers.push(out);
    }
    assert_eq!(answers[0], answers[1]);
}

/// The `avg_ttl` of INFO keyspace's line for `db`.
fn avg_ttl(info: &Reply, db: usize) -> i64 {
    let Reply::Bulk(text) = info else {
        panic!("INFO is a bulk string: {info:?}");
    };
    let text = String::from_utf8_lossy(text);
    let prefix = format!("db{db}:");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in {text}"));
    line.rsplit("avg_ttl=")
        .next()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no avg_ttl in {line}"))
}

/// INFO keyspace's `avg_ttl` estimates the remaining TTL of a database's volatile keys
/// once active expiry has sampled them (as Redis's does, which the test checks too), and
/// is 0 before any pass and for a database without volatile keys.
#[test]
fn avg_ttl_estimates_the_remaining_ttl_after_active_expiry() {
    let lines: Vec<String> = (0..50)
        .map(|i| format!("SET v{i} x PX {}", 100_000 + i * 2_000))
        .chain((0..50).map(|i| format!("SET p{i} x")))
        .collect();

    let redis = common::RedisServer::start();
    let mut r = redis.conn();
    for line in &lines {
        r.cmd(&common::words(line));
    }
    // A few of Redis's active-expiry cycles (10 a second).
    std::thread::sleep(Duration::from_millis(400));
    let theirs = avg_ttl(&r.cmd(&common::words("INFO keyspace")), 0);
    assert!(
        (100_000..=200_000).contains(&theirs),
        "Redis's avg_ttl {theirs}"
    );

    let clock = ManualClock::new(START_MS);
    let s = Store::builder().clock(clock.clock()).shards(4).build();
    let mut c = s.connection();
    for line in &lines {
        c.execute(&common::words(line));
    }
    c.execute(&["SELECT", "1"]);
    c.execute(&["SET", "other", "x"]);
    let info = || s.execute(&["INFO", "keyspace"]);
    assert_eq!(avg_ttl(&info(), 0), 0, "before any pass");
    for _ in 0..10 {
        s.sweep_expired(20);
    }
    let ours = avg_ttl(&info(), 0);
    assert!((100_000..=200_000).contains(&ours), "avg_ttl {ours}");
    assert_eq!(avg_ttl(&info(), 1), 0, "no volatile keys in db 1");
    // Time passes: the estimate follows the remaining TTLs down, within their range.
    clock.advance(Duration::from_secs(50));
    for _ in 0..200 {
        s.sweep_expired(20);
    }
    let later = avg_ttl(&info(), 0);
    assert!(
        (50_000..ours).contains(&later),
        "avg_ttl {later} after 50 s (was {ours})"
    );
    for i in 0..50 {
        s.execute(&["PERSIST", &format!("v{i}")]);
    }
    s.sweep_expired(20);
    assert_eq!(avg_ttl(&info(), 0), 0, "no volatile keys left");
}
