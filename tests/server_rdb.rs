//! sketchstore-server started on a `dump.rdb` that a real redis-server 7.0 saved: every type
//! and encoding Redis writes (with TTLs, a Lua function library, RedisBloom filters), then
//! every key compared through redis-rs on both servers (TYPE, PEXPIRETIME, contents, and
//! OBJECT ENCODING where the encoding is the point). Corrupt, truncated and foreign-database
//! files stop the server with a non-zero status and one line saying why.
#![cfg(feature = "redis")]
// Real servers and processes: no store `Clock` is involved.
#![allow(clippy::disallowed_methods)]

mod common;

use common::cluster::redisbloom_module;
use common::server::Server;
use common::RedisServer;
use redis::{Connection, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn q(con: &mut Connection, words: &[&str]) -> Value {
    let mut c = redis::cmd(words[0]);
    for w in &words[1..] {
        c.arg(*w);
    }
    c.query::<Value>(con)
        .unwrap_or_else(|e| panic!("{words:?}: {e}"))
}

fn connect(port: u16) -> Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".to_owned(),
        Value::Int(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// An array's items in a canonical order (members of sets, pairs of hashes).
fn sorted_items(v: Value, pairs: bool) -> Vec<Vec<String>> {
    let Value::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let texts: Vec<String> = items.iter().map(text).collect();
    let mut groups: Vec<Vec<String>> = if pairs {
        texts.chunks(2).map(<[String]>::to_vec).collect()
    } else {
        texts.into_iter().map(|t| vec![t]).collect()
    };
    groups.sort();
    groups
}

/// Fills a RedisBloom-enabled Redis (through `con`) with every type and encoding, saves, and returns the
/// path of its dump.rdb.
fn fill_and_save(con: &mut Connection) -> PathBuf {
    let cmd = |con: &mut Connection, w: &[&str]| {
        q(con, w);
    };
    cmd(con, &["SET", "str:plain", "hello"]);
    cmd(con, &["SET", "str:int", "12345"]);
    cmd(con, &["SET", "str:neg", "-70000"]);
    cmd(con, &["SET", "str:big", &"abcd".repeat(500)]);
    cmd(con, &["SET", "str:ttl", "v", "EX", "100000"]);
    cmd(con, &["SET", "str:bin", "\u{0}\u{1}\r\n"]);
    cmd(con, &["RPUSH", "list:small", "a", "b", "1", "-2"]);
    let big: Vec<String> = (0..20_000).map(|i| format!("item-{i}")).collect();
    for chunk in big.chunks(1000) {
        let mut w = vec!["RPUSH", "list:big"];
        w.extend(chunk.iter().map(String::as_str));
        cmd(con, &w);
    }
    cmd(con, &["PEXPIRE", "list:big", "50000000"]);
    cmd(con, &["RPUSH", "list:huge-item", &"x".repeat(10_000), "y"]);
    let ints: Vec<String> = (0..100).map(|i| (i * 7 - 300).to_string()).collect();
    let mut w = vec!["SADD", "set:intset"];
    w.extend(ints.iter().map(String::as_str));
    cmd(con, &w);
    cmd(
        con,
        &["SADD", "set:table", "apple", "banana", "17", "cherry"],
    );
    let many: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut w = vec!["SADD", "set:bigint"];
    w.extend(many.iter().map(String::as_str));
    cmd(con, &w);
    cmd(
        con,
        &["HSET", "hash:small", "f1", "v1", "f2", "2", "f3", ""],
    );
    let fields: Vec<String> = (0..700).map(|i| format!("field{i}")).collect();
    let mut w = vec!["HSET", "hash:big"];
    for f in &fields {
        w.push(f);
        w.push(f);
    }
    cmd(con, &w);
    cmd(con, &["HSET", "hash:longvalue", "f", &"z".repeat(100)]);
    cmd(con, &["EXPIRE", "hash:big", "86400"]);
    cmd(
        con,
        &[
            "ZADD",
            "zset:small",
            "1",
            "a",
            "2.5",
            "b",
            "-3",
            "c",
            "inf",
            "d",
        ],
    );
    let mut w = vec!["ZADD", "zset:skiplist"];
    let members: Vec<(String, String)> = (0..300)
        .map(|i| (format!("{}", f64::from(i) * 1.25 - 40.0), format!("m{i}")))
        .collect();
    for (s, m) in &members {
        w.push(s);
        w.push(m);
    }
    cmd(con, &w);
    let mut w = vec!["PFADD", "hll:sparse"];
    let few: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
    w.extend(few.iter().map(String::as_str));
    cmd(con, &w);
    let lots: Vec<String> = (0..5000).map(|i| format!("visitor-{i}")).collect();
    for chunk in lots.chunks(500) {
        let mut w = vec!["PFADD", "hll:dense"];
        w.extend(chunk.iter().map(String::as_str));
        cmd(con, &w);
    }
    cmd(con, &["BF.RESERVE", "bf:one", "0.01", "1000"]);
    cmd(con, &["BF.MADD", "bf:one", "a", "b", "c"]);
    cmd(
        con,
        &["BF.RESERVE", "bf:scaled", "0.001", "100", "EXPANSION", "2"],
    );
    for chunk in lots[..1000].chunks(250) {
        let mut w = vec!["BF.MADD", "bf:scaled"];
        w.extend(chunk.iter().map(String::as_str));
        cmd(con, &w);
    }
    // A function library: the file's FUNCTION2 record, which the loader skips.
    cmd(
        con,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)",
        ],
    );
    cmd(con, &["SAVE"]);
    let dir = text(&match q(con, &["CONFIG", "GET", "dir"]) {
        Value::Array(v) => v.into_iter().nth(1).expect("dir value"),
        other => panic!("CONFIG GET dir: {other:?}"),
    });
    Path::new(&dir).join("dump.rdb")
}

/// A directory holding a copy of `rdb` as dump.rdb.
fn dir_with(rdb: &[u8], tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sketchstore-rdb-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("dump.rdb"), rdb).expect("write dump.rdb");
    dir
}

fn keys(con: &mut Connection) -> Vec<String> {
    let mut k: Vec<String> = sorted_items(q(con, &["KEYS", "*"]), false)
        .into_iter()
        .flatten()
        .collect();
    k.sort();
    k
}

#[test]
fn loads_every_type_redis_saved() {
    let module = redisbloom_module();
    let redis = RedisServer::start_with(&["--loadmodule", &module]);
    let mut real = connect(redis.port);
    let rdb = std::fs::read(fill_and_save(&mut real)).expect("read dump.rdb");
    let dir = dir_with(&rdb, "all");
    let server = Server::start_with(&["--dir", dir.to_str().expect("utf-8 dir")]);
    let mut ours = connect(server.port);

    let names = keys(&mut real);
    assert_eq!(keys(&mut ours), names);
    assert_eq!(names.len(), 21, "{names:?}");
    for key in &names {
        let k = key.as_str();
        let ty = text(&q(&mut real, &["TYPE", k]));
        assert_eq!(text(&q(&mut ours, &["TYPE", k])), ty, "TYPE {k}");
        assert_eq!(
            q(&mut ours, &["PEXPIRETIME", k]),
            q(&mut real, &["PEXPIRETIME", k]),
            "PEXPIRETIME {k}"
        );
        match ty.as_str() {
            "string" => {
                assert_eq!(q(&mut ours, &["GET", k]), q(&mut real, &["GET", k]), "{k}");
            }
            "list" => assert_eq!(
                q(&mut ours, &["LRANGE", k, "0", "-1"]),
                q(&mut real, &["LRANGE", k, "0", "-1"]),
                "{k}"
            ),
            "set" => {
                assert_eq!(
                    sorted_items(q(&mut ours, &["SMEMBERS", k]), false),
                    sorted_items(q(&mut real, &["SMEMBERS", k]), false),
                    "{k}"
                );
                assert_eq!(
                    q(&mut ours, &["OBJECT", "ENCODING", k]),
                    q(&mut real, &["OBJECT", "ENCODING", k]),
                    "encoding of {k}"
                );
            }
            "hash" => assert_eq!(
                sorted_items(q(&mut ours, &["HGETALL", k]), true),
                sorted_items(q(&mut real, &["HGETALL", k]), true),
                "{k}"
            ),
            "zset" => {
                assert_eq!(
                    q(&mut ours, &["ZRANGE", k, "0", "-1", "WITHSCORES"]),
                    q(&mut real, &["ZRANGE", k, "0", "-1", "WITHSCORES"]),
                    "{k}"
                );
                assert_eq!(
                    q(&mut ours, &["OBJECT", "ENCODING", k]),
                    q(&mut real, &["OBJECT", "ENCODING", k]),
                    "encoding of {k}"
                );
            }
            "MBbloom--" => {
                assert_eq!(
                    q(&mut ours, &["BF.INFO", k]),
                    q(&mut real, &["BF.INFO", k]),
                    "{k}"
                );
                let mut probe = vec!["BF.MEXISTS", k];
                let items: Vec<String> = (0..1200).map(|i| format!("visitor-{i}")).collect();
                probe.extend(["a", "b", "c", "d"]);
                probe.extend(items.iter().map(String::as_str));
                assert_eq!(q(&mut ours, &probe), q(&mut real, &probe), "{k}");
            }
            other => panic!("unexpected type {other} of {k}"),
        }
    }
    // HyperLogLogs are strings: the same bytes, so the same counts.
    for k in ["hll:sparse", "hll:dense"] {
        assert_eq!(q(&mut ours, &["PFCOUNT", k]), q(&mut real, &["PFCOUNT", k]));
    }
    // The loaded keys are live: they change as Redis's would.
    for w in [
        &["INCR", "str:int"][..],
        &["LPOP", "list:big"],
        &["SADD", "set:intset", "5000"],
        &["PFADD", "hll:dense", "new-one"],
    ] {
        assert_eq!(q(&mut ours, w), q(&mut real, w), "{w:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs sketchstore-server on `dir` and expects it to exit non-zero within 20 s with one
/// line on stderr, which is returned.
fn refused_start(dir: &Path, extra: &[&str]) -> String {
    let port = common::server::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sketchstore-server"))
        .args(["--port", &port.to_string(), "--save", ""])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sketchstore-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sketchstore-server still runs on a bad dump.rdb");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("stderr");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn corrupt_truncated_and_foreign_db_files_stop_the_server() {
    let redis = RedisServer::start();
    let mut real = connect(redis.port);
    q(&mut real, &["RPUSH", "l", "a", "b", "c"]);
    q(&mut real, &["SET", "s", &"text ".repeat(100)]);
    q(&mut real, &["SAVE"]);
    let dir = text(&match q(&mut real, &["CONFIG", "GET", "dir"]) {
        Value::Array(v) => v.into_iter().nth(1).expect("dir value"),
        other => panic!("{other:?}"),
    });
    let good = std::fs::read(Path::new(&dir).join("dump.rdb")).expect("dump.rdb");

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let d = dir_with(&flipped, "flipped");
    let err = refused_start(&d, &[]);
    assert!(err.contains("Wrong RDB checksum"), "{err}");

    let d2 = dir_with(&good[..good.len() - 20], "truncated");
    let err = refused_start(&d2, &[]);
    assert!(err.contains("dump.rdb"), "{err}");

    let mut newer = good.clone();
    newer[5..9].copy_from_slice(b"0011");
    let d3 = dir_with(&newer, "newer");
    assert!(refused_start(&d3, &[]).contains("Can't handle RDB format version 11"));

    // A key in database 1: refused by a server with one database, loaded into database 1
    // by one with the default 16.
    q(&mut real, &["SELECT", "1"]);
    q(&mut real, &["SET", "other", "db"]);
    q(&mut real, &["SAVE"]);
    let two_dbs = std::fs::read(Path::new(&dir).join("dump.rdb")).expect("dump.rdb");
    let d4 = dir_with(&two_dbs, "db1");
    let err = refused_start(&d4, &["--databases", "1"]);
    assert!(err.contains("database 1"), "{err}");
    let server = Server::start_with(&["--dir", d4.to_str().expect("utf-8")]);
    let mut ours = connect(server.port);
    q(&mut ours, &["SELECT", "1"]);
    assert_eq!(
        q(&mut ours, &["GET", "other"]),
        q(&mut real, &["GET", "other"])
    );
    q(&mut ours, &["SELECT", "0"]);
    assert_eq!(
        q(&mut ours, &["LRANGE", "l", "0", "-1"]),
        Value::Array(vec![
            Value::BulkString(b"a".to_vec()),
            Value::BulkString(b"b".to_vec()),
            Value::BulkString(b"c".to_vec())
        ])
    );
    drop(server);

    // The unchanged file loads.
    q(&mut real, &["SELECT", "0"]);
    let d5 = dir_with(&good, "good");
    let server = Server::start_with(&["--dir", d5.to_str().expect("utf-8")]);
    let mut ours = connect(server.port);
    assert_eq!(
        q(&mut ours, &["LRANGE", "l", "0", "-1"]),
        q(&mut real, &["LRANGE", "l", "0", "-1"])
    );
    for d in [d, d2, d3, d4, d5] {
        let _ = std::fs::remove_dir_all(d);
    }
}
