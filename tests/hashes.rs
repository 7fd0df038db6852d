//! Hashes: argv -> exact reply tables (Redis 7.0's behaviour, recorded from a real server
//! and written out so they run without one), then the typed methods.

mod common;

use common::table::*;
use sketchstore::{Error, Reply, Ttl};
use std::time::Duration;

#[test]
fn spec_test_vectors() {
    run_table(&[
        (&["HSET", "h", "f1", "v1"], int(1)),
        (&["HSET", "h", "f1", "v1b", "f2", "v2"], int(1)),
        (&["HGETALL", "h"], bulks(&["f1", "v1b", "f2", "v2"])),
        (&["HDEL", "h", "f1", "f1", "nof"], int(1)),
        (&["HSET", "h", "s", "abc"], int(1)),
        (
            &["HINCRBY", "h", "s", "1"],
            err("ERR hash value is not an integer"),
        ),
        (&["HINCRBY", "h", "n", "abc"], err(NOT_INT)),
        (
            &["HSET", "h", "f3"],
            err("ERR wrong number of arguments for 'hset' command"),
        ),
    ]);
}

#[test]
fn hash_commands() {
    run_table(&[
        (&["HSET", "h", "x", "1", "x", "2"], int(1)),
        (&["HGET", "h", "x"], bulk("2")),
        (&["HGET", "h", "nofield"], nil()),
        (&["HGET", "nokey", "x"], nil()),
        (&["HGETALL", "nokey"], Reply::Array(vec![])),
        (&["HEXISTS", "h", "x"], int(1)),
        (&["HEXISTS", "h", "y"], int(0)),
        (&["HEXISTS", "nokey", "y"], int(0)),
        (&["HLEN", "h"], int(1)),
        (&["HLEN", "nokey"], int(0)),
        (&["HMSET", "h", "a", "1", "b", "2"], ok()),
        (
            &["HMGET", "h", "a", "zz", "b"],
            Reply::Array(vec![bulk("1"), nil(), bulk("2")]),
        ),
        (&["HMGET", "nokey", "a"], Reply::Array(vec![nil()])),
        (&["HKEYS", "h"], bulks(&["x", "a", "b"])),
        (&["HVALS", "h"], bulks(&["2", "1", "2"])),
        (&["HSTRLEN", "h", "x"], int(1)),
        (&["HSETNX", "h", "x", "9"], int(0)),
        (&["HSETNX", "h", "y", "9"], int(1)),
        (&["HINCRBY", "h", "y", "-10"], int(-1)),
        (&["HINCRBY", "h", "new", "5"], int(5)),
        (&["HINCRBY", "fresh", "f", "7"], int(7)),
        (&["HSET", "h", "big", "9223372036854775807"], int(1)),
        (
            &["HINCRBY", "h", "big", "1"],
            err("ERR increment or decrement would overflow"),
        ),
        (&["HSET", "h", "z", "01"], int(1)),
        (
            &["HINCRBY", "h", "z", "1"],
            err("ERR hash value is not an integer"),
        ),
        (
            &["HDEL", "h", "x", "a", "b", "y", "new", "big", "z"],
            int(7),
        ),
        (&["HLEN", "h"], int(0)),
        // Deleting the last field deletes the key.
        (&["EXISTS", "h"], int(0)),
        (&["TYPE", "h"], Reply::status("none")),
        (&["HDEL", "h", "x"], int(0)),
        (
            &["HMSET", "h", "a"],
            err("ERR wrong number of arguments for 'hmset' command"),
        ),
        (
            &["HMSET", "h", "a", "1", "b"],
            err("ERR wrong number of arguments for 'hmset' command"),
        ),
        (
            &["HGET", "h"],
            err("ERR wrong number of arguments for 'hget' command"),
        ),
        (
            &["HDEL", "h"],
            err("ERR wrong number of arguments for 'hdel' command"),
        ),
        (
            &["hGetAll"],
            err("ERR wrong number of arguments for 'hgetall' command"),
        ),
    ]);
}

#[test]
fn hash_commands_on_other_types() {
    let mut rows: Vec<(&[&str], Reply)> = vec![(&["SET", "s", "v"], ok())];
    let wrong: &[&[&str]] = &[
        &["HSET", "s", "f", "v"],
        &["HMSET", "s", "f", "v"],
        &["HSETNX", "s", "f", "v"],
        &["HGET", "s", "f"],
        &["HMGET", "s", "f"],
        &["HGETALL", "s"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HDEL", "s", "f"],
        &["HEXISTS", "s", "f"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "f"],
        &["HINCRBY", "s", "f", "1"],
        &["HINCRBYFLOAT", "s", "f", "1"],
    ];
    rows.extend(wrong.iter().map(|argv| (*argv, err(WRONGTYPE))));
    rows.push((&["GET", "s"], bulk("v")));
    run_table(&rows);
}

#[test]
fn hash_keeps_ttl_when_modified() {
    let (clock, s) = store();
    assert_eq!(s.execute(&["HSET", "h", "a", "1"]), int(1));
    assert_eq!(s.execute(&["EXPIRE", "h", "10"]), int(1));
    assert_eq!(s.execute(&["HSET", "h", "b", "2"]), int(1));
    assert_eq!(s.execute(&["HINCRBY", "h", "a", "1"]), int(2));
    assert_eq!(s.execute(&["HDEL", "h", "b"]), int(1));
    assert_eq!(s.execute(&["TTL", "h"]), int(10));
    clock.advance(Duration::from_secs(10));
    assert_eq!(s.execute(&["HGETALL", "h"]), Reply::Array(vec![]));
    assert_eq!(s.execute(&["HLEN", "h"]), int(0));
    // A new hash under an expired key starts without a TTL.
    assert_eq!(s.execute(&["HSET", "h", "c", "3"]), int(1));
    assert_eq!(s.execute(&["TTL", "h"]), int(-1));
}

// ---- typed methods ----

#[test]
fn typed_hash_methods() {
    let (_, s) = store();
    assert_eq!(
        s.hset("h", &[("f1", "v1"), ("f2", "v2"), ("f1", "v1b")])
            .unwrap(),
        2
    );
    assert_eq!(s.hget("h", "f1").unwrap(), Some(b"v1b".to_vec()));
    assert_eq!(s.hget("h", "nope").unwrap(), None);
    assert_eq!(s.hget("nokey", "f1").unwrap(), None);
    assert_eq!(
        s.hgetall("h").unwrap(),
        vec![
            (b"f1".to_vec(), b"v1b".to_vec()),
            (b"f2".to_vec(), b"v2".to_vec())
        ]
    );
    assert_eq!(s.hkeys("h").unwrap(), vec![b"f1".to_vec(), b"f2".to_vec()]);
    assert_eq!(s.hvals("h").unwrap(), vec![b"v1b".to_vec(), b"v2".to_vec()]);
    assert_eq!(
        s.hmget("h", &["f2", "x", "f1"]).unwrap(),
        vec![Some(b"v2".to_vec()), None, Some(b"v1b".to_vec())]
    );
    assert!(s.hexists("h", "f2").unwrap());
    assert!(!s.hexists("h", "f3").unwrap());
    assert_eq!(s.hlen("h").unwrap(), 2);
    assert!(s.hsetnx("h", "f3", "v3").unwrap());
    assert!(!s.hsetnx("h", "f3", "other").unwrap());
    assert_eq!(s.hget("h", "f3").unwrap(), Some(b"v3".to_vec()));
    assert_eq!(s.hincrby("h", "n", 5).unwrap(), 5);
    assert_eq!(s.hincrby("h", "n", -7).unwrap(), -2);
    assert_eq!(s.hincrby("h", "f1", 1), Err(Error::HashNotInteger));
    assert_eq!(s.hincrby("h", "n", 2).unwrap(), 0);
    assert_eq!(s.hincrby("h", "n", i64::MIN).unwrap(), i64::MIN);
    assert_eq!(s.hincrby("h", "n", -1), Err(Error::Overflow));
    assert_eq!(s.hdel("h", &["f1", "f1", "zz"]).unwrap(), 1);
    assert_eq!(s.hdel("h", &["f2", "f3", "n"]).unwrap(), 3);
    assert_eq!(s.hlen("h").unwrap(), 0);
    assert_eq!(s.exists(&["h"]).unwrap(), 0);
    assert_eq!(s.hgetall("h").unwrap(), vec![]);

    s.set("str", "v").unwrap();
    assert_eq!(s.hset("str", &[("f", "v")]), Err(Error::WrongType));
    assert_eq!(s.hget("str", "f"), Err(Error::WrongType));
    assert_eq!(s.hgetall("str"), Err(Error::WrongType));
    assert_eq!(s.hdel("str", &["f"]), Err(Error::WrongType));
    assert_eq!(s.hlen("str"), Err(Error::WrongType));
    assert_eq!(s.hincrby("str", "f", 1), Err(Error::WrongType));
}

#[test]
fn typed_and_argv_agree_on_binary_fields() {
    let (_, s) = store();
    let field: &[u8] = b"\x00\xffbin\r\n";
    let value: &[u8] = b"\x01\x02";
    assert_eq!(s.hset(b"h\x00", &[(field, value)]).unwrap(), 1);
    assert_eq!(
        s.execute(&[&b"HGET"[..], b"h\x00", field]),
        Reply::bulk(value)
    );
    assert_eq!(
        s.hgetall(b"h\x00").unwrap(),
        vec![(field.to_vec(), value.to_vec())]
    );
    assert_eq!(s.ttl(b"h\x00").unwrap(), Ttl::Persistent);
}

#[test]
fn hrandfield_and_hscan_table() {
    run_table(&[
        (&["HSET", "h", "a", "1", "b", "2"], int(2)),
        (&["HRANDFIELD", "nokey"], nil()),
        (&["HRANDFIELD", "nokey", "3"], arr(vec![])),
        (&["HRANDFIELD", "h", "0"], arr(vec![])),
        (&["HRANDFIELD", "h", "2"], bulks(&["a", "b"])),
        (
            &["HRANDFIELD", "h", "9", "WITHVALUES"],
            bulks(&["a", "1", "b", "2"]),
        ),
        (&["HRANDFIELD", "h", "1", "x"], err(SYNTAX)),
        (&["HRANDFIELD", "h", "x"], err(NOT_INT)),
        (
            &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"],
            err("ERR value is out of range"),
        ),
        (
            &["HSCAN", "h", "0"],
            arr(vec![bulk("0"), bulks(&["a", "1", "b", "2"])]),
        ),
        (
            &["HSCAN", "h", "7", "MATCH", "b"],
            arr(vec![bulk("0"), bulks(&["b", "2"])]),
        ),
        (&["HSCAN", "h", "0", "COUNT", "0"], err(SYNTAX)),
        (&["HSCAN", "h", "x"], err("ERR invalid cursor")),
        (
            &["HSCAN", "nokey", "0", "BAD"],
            arr(vec![bulk("0"), arr(vec![])]),
        ),
        (&["SET", "s", "v"], ok()),
        (&["HSCAN", "s", "0"], err(WRONGTYPE)),
        (&["HRANDFIELD", "s"], err(WRONGTYPE)),
    ]);
}

#[test]
fn typed_hrandfield_and_hscan() {
    let (_clock, store) = store();
    let pairs: Vec<(String, String)> = (0..600)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    store.hset("big", &pairs).unwrap();
    assert_eq!(
        store.object_encoding("big").unwrap().as_deref(),
        Some("hashtable")
    );
    let picks = store.hrandfield_count("big", -1000).unwrap();
    assert_eq!(picks.len(), 1000);
    let distinct = store.hrandfield_count("big", 100).unwrap();
    let set: std::collections::HashSet<_> = distinct.iter().collect();
    assert_eq!(set.len(), 100);
    for (f, v) in store.hrandfield_withvalues("big", 10).unwrap() {
        assert_eq!(f[1..], v[1..]);
    }
    assert!(store.hrandfield_count("big", -(1 << 21)).is_err());
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.hscan("big", cursor, None, 50).unwrap();
        seen.extend(page.pairs);
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    seen.sort();
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = pairs
        .iter()
        .map(|(f, v)| (f.clone().into_bytes(), v.clone().into_bytes()))
        .collect();
    want.sort();
    assert_eq!(seen, want);
}

/// Redis 7.0's built-in hash thresholds: 512 fields and 64-byte strings keep a listpack.
#[test]
fn hash_encoding_follows_the_listpack_thresholds() {
    let (_clock, store) = store();
    let pairs: Vec<(String, String)> = (0..512).map(|i| (format!("f{i}"), "v".into())).collect();
    store.hset("h", &pairs).unwrap();
    assert_eq!(
        store.object_encoding("h").unwrap().as_deref(),
        Some("listpack")
    );
    store.hset("h", &[("one-more", "v")]).unwrap();
    assert_eq!(
        store.object_encoding("h").unwrap().as_deref(),
        Some("hashtable")
    );
    store.hset("g", &[("f", "x".repeat(64))]).unwrap();
    assert_eq!(
        store.object_encoding("g").unwrap().as_deref(),
        Some("listpack")
    );
    store.hset("g", &[("f", "x".repeat(65))]).unwrap();
    assert_eq!(
        store.object_encoding("g").unwrap().as_deref(),
        Some("hashtable")
    );
    store.hdel("g", &["f"]).unwrap();
    store.execute(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    store
        .hset("k", &[("a", "1"), ("b", "2"), ("c", "3")])
        .unwrap();
    assert_eq!(
        store.object_encoding("k").unwrap().as_deref(),
        Some("hashtable")
    );
}
