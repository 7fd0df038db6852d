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
