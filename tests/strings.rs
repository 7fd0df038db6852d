//! Strings and counters: argv -> exact reply tables (Redis 7.0's behaviour for common errors,
//! SET and INCR/DECR, recorded from a real server and written out so they run without one;
//! docs/redis-behaviours.md, "Integer and float arguments"), then the typed methods.

mod common;

use common::table::*;
use sketchstore::{Error, Reply, SetCondition, SetExpiry, SetOptions, SetOutcome, Ttl};
use std::time::Duration;

const OVERFLOW: &str = "ERR increment or decrement would overflow";

#[test]
fn spec_test_vectors() {
    run_table(&[
        (&["FLUSHALL"], ok()),
        (&["SET", "k", "v"], ok()),
        (&["SET", "k", "v2", "GET"], bulk("v")),
        (&["SET", "nk", "v", "GET"], nil()),
        (&["SET", "k", "v", "NX"], nil()),
        (&["SET", "nk2", "v", "XX"], nil()),
        (&["SET", "k", "v", "NX", "XX"], err(SYNTAX)),
        (&["SET", "k", "v", "EX", "10", "PX", "100"], err(SYNTAX)),
        (&["SET", "k", "v", "EX", "10", "KEEPTTL"], err(SYNTAX)),
        (&["SET", "k", "v", "EX"], err(SYNTAX)),
        (
            &["SET", "k", "v", "EX", "0"],
            err("ERR invalid expire time in 'set' command"),
        ),
        (&["SET", "k", "v", "EX", "1.5"], err(NOT_INT)),
        (&["SET", "k", "v", "NX", "GET"], bulk("v2")),
        (&["SET", "k", "v", "EX", "5", "GET"], bulk("v2")),
        (&["TTL", "k"], int(5)),
        (&["SET", "k", "v2", "KEEPTTL", "GET"], bulk("v")),
        (&["TTL", "k"], int(5)),
        (&["SET", "n", "9223372036854775807"], ok()),
        (&["INCR", "n"], err(OVERFLOW)),
        (&["SET", "s", " 1"], ok()),
        (&["INCR", "s"], err(NOT_INT)),
        (&["SET", "s", "+1"], ok()),
        (&["INCR", "s"], err(NOT_INT)),
        (&["SET", "s", "0"], ok()),
        (
            &["DECRBY", "s", "-9223372036854775808"],
            err("ERR decrement would overflow"),
        ),
        (
            &["FOO", "bar", "baz"],
            err("ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' "),
        ),
    ]);
}

#[test]
fn set_option_grammar() {
    let invalid = err("ERR invalid expire time in 'set' command");
    run_table(&[
        (&["SET", "k", "v", "EX", "10", "EX", "20"], ok()),
        (&["TTL", "k"], int(20)),
        (&["SET", "k", "v", "NX", "NX"], nil()),
        (&["SET", "k", "v", "XX", "XX"], ok()),
        (&["SET", "k", "v", "XX", "NX"], err(SYNTAX)),
        (&["SET", "k", "v", "KEEPTTL", "EX", "10"], err(SYNTAX)),
        (&["SET", "k", "v", "PX", "100", "EXAT", "5"], err(SYNTAX)),
        (&["SET", "k", "v", "EXAT", "5", "PXAT", "5"], err(SYNTAX)),
        (&["SET", "k", "v", "FOO"], err(SYNTAX)),
        (&["SET", "k", "v", "PX"], err(SYNTAX)),
        (&["SET", "k", "v", "EX", "-1"], invalid.clone()),
        (&["SET", "k", "v", "PX", "0"], invalid.clone()),
        (&["SET", "k", "v", "EXAT", "0"], invalid.clone()),
        (&["SET", "k", "v", "PXAT", "-5"], invalid.clone()),
        (&["SET", "k", "v", "EX", "9223372036854775"], invalid),
        (&["SET", "k", "v", "EX", "abc"], err(NOT_INT)),
        (&["set", "k", "v1", "ex", "10", "get"], bulk("v")),
        (&["sEt", "k", "v2", "Px", "2500", "gEt", "xX"], bulk("v1")),
        (&["PTTL", "k"], int(2500)),
        (&["TTL", "k"], int(3)),
        (
            &["SET", "k"],
            err("ERR wrong number of arguments for 'set' command"),
        ),
        (
            &["gEt"],
            err("ERR wrong number of arguments for 'get' command"),
        ),
        (
            &["GET", "a", "b"],
            err("ERR wrong number of arguments for 'get' command"),
        ),
    ]);
}

#[test]
fn set_and_types() {
    run_table(&[
        (&["HSET", "h", "f", "v"], int(1)),
        (&["GET", "h"], err(WRONGTYPE)),
        // GET on a non-string old value fails and writes nothing.
        (&["SET", "h", "v", "GET"], err(WRONGTYPE)),
        (&["TYPE", "h"], Reply::status("hash")),
        (&["SET", "h", "v", "NX", "GET"], err(WRONGTYPE)),
        // A plain SET replaces any type.
        (&["SET", "h", "v"], ok()),
        (&["TYPE", "h"], Reply::status("string")),
        (&["GET", "h"], bulk("v")),
        (&["HSET", "h2", "f", "v"], int(1)),
        (&["MSET", "a", "1", "b", "2"], ok()),
        (
            &["MGET", "a", "nokey", "h2", "b"],
            arr(vec![bulk("1"), nil(), nil(), bulk("2")]),
        ),
        (
            &["MSET", "a"],
            err("ERR wrong number of arguments for 'mset' command"),
        ),
        (
            &["MSET", "a", "1", "b"],
            err("ERR wrong number of arguments for 'mset' command"),
        ),
    ]);
}

#[test]
fn set_ttl_rules() {
    run_table(&[
        (&["SET", "k", "v", "EX", "100"], ok()),
        (&["SET", "k", "v2"], ok()),
        (&["TTL", "k"], int(-1)),
        (&["SET", "k", "v", "PX", "1500"], ok()),
        (&["TTL", "k"], int(2)),
        (&["SET", "k", "v3", "KEEPTTL"], ok()),
        (&["PTTL", "k"], int(1500)),
        (&[ADVANCE, "1499"], nil()),
        (&["PTTL", "k"], int(1)),
        (&["TTL", "k"], int(0)),
        (&["GET", "k"], bulk("v3")),
        (&[ADVANCE, "1"], nil()),
        (&["GET", "k"], nil()),
        (&["TTL", "k"], int(-2)),
        // SETEX / PSETEX name themselves in the invalid-expire error.
        (
            &["SETEX", "k", "0", "v"],
            err("ERR invalid expire time in 'setex' command"),
        ),
        (
            &["PSETEX", "k", "0", "v"],
            err("ERR invalid expire time in 'psetex' command"),
        ),
        (&["SETEX", "k", "x", "v"], err(NOT_INT)),
        (&["SETEX", "k", "10", "v"], ok()),
        (&["TTL", "k"], int(10)),
        (&["PSETEX", "k", "10", "v"], ok()),
        (&["PTTL", "k"], int(10)),
        // An absolute time in the past: written, and gone at once.
        (&["SET", "p", "v", "PXAT", "1"], ok()),
        (&["EXISTS", "p"], int(0)),
        // The clock stands at START_MS + 1500 here.
        (&["SET", "p", "v", "EXAT", "1700000011"], ok()),
        (&["TTL", "p"], int(10)),
        (&["PTTL", "p"], int(9500)),
        (&["SET", "q", "v", "PXAT", "1700000001750"], ok()),
        (&["PTTL", "q"], int(250)),
        // SETNX
        (&["SETNX", "q", "w"], int(0)),
        (&["SETNX", "r", "w"], int(1)),
        (&["GET", "r"], bulk("w")),
    ]);
}

#[test]
fn counters() {
    run_table(&[
        (&["INCR", "c"], int(1)),
        (&["INCRBY", "c", "41"], int(42)),
        (&["DECR", "c"], int(41)),
        (&["DECRBY", "c", "-9"], int(50)),
        (&["GET", "c"], bulk("50")),
        (&["APPEND", "c", "0"], int(3)),
        (&["INCR", "c"], int(501)),
        (&["STRLEN", "c"], int(3)),
        (&["INCRBY", "c", "abc"], err(NOT_INT)),
        (&["INCRBY", "c", "1.0"], err(NOT_INT)),
        (&["INCRBY", "c", "9223372036854775808"], err(NOT_INT)),
        (&["SET", "x", "01"], ok()),
        (&["INCR", "x"], err(NOT_INT)),
        (&["SET", "x", "-0"], ok()),
        (&["INCR", "x"], err(NOT_INT)),
        (&["SET", "x", ""], ok()),
        (&["INCR", "x"], err(NOT_INT)),
        (&["SET", "x", "1 "], ok()),
        (&["INCR", "x"], err(NOT_INT)),
        (&["SET", "x", "1.0"], ok()),
        (&["INCR", "x"], err(NOT_INT)),
        (&["SET", "x", "-9223372036854775808"], ok()),
        (&["DECR", "x"], err(OVERFLOW)),
        (&["INCRBY", "x", "-1"], err(OVERFLOW)),
        (&["SET", "x", "-1"], ok()),
        (&["INCRBY", "x", "-9223372036854775808"], err(OVERFLOW)),
        (&["INCRBY", "x", "-9223372036854775807"], int(i64::MIN)),
        (&["SET", "x", "0"], ok()),
        (&["DECRBY", "x", "9223372036854775807"], int(-i64::MAX)),
        (
            &["DECRBY", "x", "-9223372036854775808"],
            err("ERR decrement would overflow"),
        ),
        (&["HSET", "h", "f", "1"], int(1)),
        (&["INCR", "h"], err(WRONGTYPE)),
        (&["DECRBY", "h", "1"], err(WRONGTYPE)),
        // INCR keeps the TTL.
        (&["SET", "t", "10", "EX", "100"], ok()),
        (&["INCR", "t"], int(11)),
        (&["TTL", "t"], int(100)),
        (
            &["INCR"],
            err("ERR wrong number of arguments for 'incr' command"),
        ),
        (
            &["INCRBY", "t"],
            err("ERR wrong number of arguments for 'incrby' command"),
        ),
    ]);
}

#[test]
fn unknown_command_texts() {
    let long_a = "a".repeat(100);
    let long_b = "b".repeat(100);
    let (_, store) = store();
    assert_eq!(
        store.execute(&["FOO"]),
        err("ERR unknown command 'FOO', with args beginning with: ")
    );
    assert_eq!(
        store.execute(&["X", &long_a, &long_b, "c"]),
        err(&format!(
            "ERR unknown command 'X', with args beginning with: '{long_a}' '{}' ",
            "b".repeat(25)
        ))
    );
    assert_eq!(
        store.execute(&["it's", "don't"]),
        err("ERR unknown command 'it's', with args beginning with: 'don't' ")
    );
    assert_eq!(
        store.execute(&["a\r\nb", "c\nd"]),
        err("ERR unknown command 'a  b', with args beginning with: 'c d' ")
    );
}

/// Redis builds this text with printf `%s`, which stops at a NUL byte (checked against
/// redis-server 7.0.15: `FOO "a\0b" c` -> `... with args beginning with: 'a' 'c' `).
#[test]
fn unknown_command_text_stops_at_nul() {
    let (_, store) = store();
    assert_eq!(
        store.execute(&[&b"FOO"[..], b"a\x00b", b"c"]),
        err("ERR unknown command 'FOO', with args beginning with: 'a' 'c' ")
    );
    assert_eq!(
        store.execute(&[&b"F\x00OO"[..], b"a"]),
        err("ERR unknown command 'F', with args beginning with: 'a' ")
    );
}

// ---- typed methods ----

#[test]
fn typed_get_set() {
    let (_, s) = store();
    assert_eq!(s.get("k").unwrap(), None);
    s.set("k", "v").unwrap();
    assert_eq!(s.get("k").unwrap(), Some(b"v".to_vec()));
    s.set(b"bin\x00\xff", [0u8, 1, 2]).unwrap();
    assert_eq!(s.get(b"bin\x00\xff").unwrap(), Some(vec![0, 1, 2]));
    s.hset("h", &[("f", "v")]).unwrap();
    assert_eq!(s.get("h"), Err(Error::WrongType));
    assert_eq!(s.strlen("k").unwrap(), 1);
    assert_eq!(s.append("k", "xyz").unwrap(), 4);
    assert_eq!(s.getrange("k", 1, -1).unwrap(), b"xyz".to_vec());
    assert_eq!(s.getdel("k").unwrap(), Some(b"vxyz".to_vec()));
    assert_eq!(s.getdel("k").unwrap(), None);
    s.setex("k", "old", Duration::from_secs(10)).unwrap();
    assert_eq!(s.getset("k", "new").unwrap(), Some(b"old".to_vec()));
    assert_eq!(s.ttl("k").unwrap(), sketchstore::Ttl::Persistent);
    assert_eq!(s.getset("fresh", "x").unwrap(), None);
    s.mset(&[("a", "1"), ("b", "2")]).unwrap();
    assert_eq!(
        s.mget(&["a", "h", "zz", "b"]).unwrap(),
        vec![Some(b"1".to_vec()), None, None, Some(b"2".to_vec())]
    );
    assert!(s.setnx("new", "1").unwrap());
    assert!(!s.setnx("new", "2").unwrap());
    assert_eq!(s.get("new").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn typed_set_with_options() {
    let (clock, s) = store();
    let opts = |condition, expiry, get| SetOptions {
        condition,
        expiry,
        get,
    };
    let out = |written, previous: Option<&str>| SetOutcome {
        written,
        previous: previous.map(|p| p.as_bytes().to_vec()),
    };

    assert_eq!(
        s.set_with("k", "v", SetOptions::default()).unwrap(),
        out(true, None)
    );
    assert_eq!(
        s.set_with("k", "v2", opts(None, None, true)).unwrap(),
        out(true, Some("v"))
    );
    assert_eq!(
        s.set_with("k", "v3", opts(Some(SetCondition::Nx), None, true))
            .unwrap(),
        out(false, Some("v2"))
    );
    assert_eq!(
        s.set_with("nk", "v", opts(Some(SetCondition::Xx), None, false))
            .unwrap(),
        out(false, None)
    );
    assert_eq!(s.get("nk").unwrap(), None);

    let in5 = Some(SetExpiry::In(Duration::from_secs(5)));
    assert!(
        s.set_with("k", "v", opts(Some(SetCondition::Xx), in5, false))
            .unwrap()
            .written
    );
    assert_eq!(s.ttl("k").unwrap(), Ttl::Expires(Duration::from_secs(5)));
    clock.advance(Duration::from_millis(1200));
    let keep = Some(SetExpiry::KeepTtl);
    assert_eq!(
        s.set_with("k", "w", opts(None, keep, true)).unwrap(),
        out(true, Some("v"))
    );
    assert_eq!(
        s.ttl("k").unwrap(),
        Ttl::Expires(Duration::from_millis(3800))
    );
    assert_eq!(s.ttl("k").unwrap().as_redis_secs(), 4);

    let at = Some(SetExpiry::AtMs(START_MS + 60_000));
    s.set_with("k", "w", opts(None, at, false)).unwrap();
    assert_eq!(s.ttl("k").unwrap().as_redis_millis(), 60_000 - 1200);
    s.set("k", "plain").unwrap();
    assert_eq!(s.ttl("k").unwrap(), Ttl::Persistent);

    let zero = Some(SetExpiry::In(Duration::ZERO));
    assert_eq!(
        s.set_with("k", "v", opts(None, zero, false)),
        Err(Error::InvalidExpire("set".into()))
    );
    assert_eq!(
        s.set_with("k", "v", opts(None, Some(SetExpiry::AtMs(0)), false)),
        Err(Error::InvalidExpire("set".into()))
    );
    assert_eq!(
        s.setex("k", "v", Duration::ZERO),
        Err(Error::InvalidExpire("psetex".into()))
    );
    assert_eq!(s.get("k").unwrap(), Some(b"plain".to_vec()));

    s.hset("h", &[("f", "v")]).unwrap();
    assert_eq!(
        s.set_with("h", "v", opts(None, None, true)),
        Err(Error::WrongType)
    );
    assert_eq!(s.key_type("h").unwrap().as_str(), "hash");
    s.setex("h", "v", Duration::from_millis(10)).unwrap();
    clock.advance(Duration::from_millis(10));
    assert_eq!(s.get("h").unwrap(), None);
}

#[test]
fn typed_getex() {
    let (clock, s) = store();
    assert_eq!(
        s.getex("missing", Some(Duration::from_secs(1))).unwrap(),
        None
    );
    assert_eq!(s.ttl("missing").unwrap(), Ttl::Missing);
    s.set("k", "v").unwrap();
    assert_eq!(
        s.getex("k", Some(Duration::from_secs(10))).unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(s.ttl("k").unwrap(), Ttl::Expires(Duration::from_secs(10)));
    clock.advance(Duration::from_secs(3));
    assert_eq!(s.ttl("k").unwrap().as_redis_secs(), 7);
    assert_eq!(s.getex("k", None).unwrap(), Some(b"v".to_vec()));
    assert_eq!(s.ttl("k").unwrap(), Ttl::Persistent);
    assert_eq!(s.getex("k", None).unwrap(), Some(b"v".to_vec()));
    assert_eq!(s.ttl("k").unwrap(), Ttl::Persistent);
    assert_eq!(
        s.getex("k", Some(Duration::ZERO)),
        Err(Error::InvalidExpire("getex".into()))
    );
    s.hset("h", &[("f", "v")]).unwrap();
    assert_eq!(s.getex("h", None), Err(Error::WrongType));

    // The argv form.
    assert_eq!(s.execute(&["GETEX", "k", "PX", "500"]), bulk("v"));
    assert_eq!(s.execute(&["PTTL", "k"]), int(500));
    assert_eq!(s.execute(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(s.execute(&["TTL", "k"]), int(-1));
    assert_eq!(
        s.execute(&["GETEX", "k", "EX", "0"]),
        err("ERR invalid expire time in 'getex' command")
    );
    assert_eq!(
        s.execute(&["GETEX", "k", "EX", "10", "PERSIST"]),
        err(SYNTAX)
    );
    assert_eq!(s.execute(&["GETEX", "k", "FOO"]), err(SYNTAX));
    assert_eq!(s.execute(&["GETEX", "nokey", "EX", "10"]), nil());
}

#[test]
fn typed_counters() {
    let (_, s) = store();
    assert_eq!(s.incr("c").unwrap(), 1);
    assert_eq!(s.incrby("c", 10).unwrap(), 11);
    assert_eq!(s.decr("c").unwrap(), 10);
    assert_eq!(s.decrby("c", -5).unwrap(), 15);
    assert_eq!(s.get("c").unwrap(), Some(b"15".to_vec()));
    assert_eq!(s.decrby("c", i64::MIN), Err(Error::DecrementOverflow));
    s.set("c", i64::MAX.to_string()).unwrap();
    assert_eq!(s.incr("c"), Err(Error::Overflow));
    s.set("c", "x").unwrap();
    assert_eq!(s.incr("c"), Err(Error::NotInteger));
    s.hset("h", &[("f", "1")]).unwrap();
    assert_eq!(s.incr("h"), Err(Error::WrongType));
    assert_eq!(s.incrbyfloat("f", "1.5").unwrap(), b"1.5".to_vec());
    assert_eq!(
        s.execute(&["INCRBYFLOAT", "f", "abc"]),
        err("ERR value is not a valid float")
    );
}
