//! redis-rs code on the embedded store: `redis::ConnectionLike` / `redis::aio::ConnectionLike`
//! for `Connection` (`store.connection()`). The same redis-rs calls (`Commands`, `redis::cmd`,
//! pipelines, atomic pipelines, MULTI/EXEC sent one by one, WATCH) run on a `Connection`
//! and on a real redis-server connection and must give identical `redis::Value`s and identical
//! errors.
#![cfg(feature = "redis")]
// Real servers and real threads: no store `Clock` is involved.
#![allow(clippy::disallowed_methods)]

mod common;

use common::RedisServer;
use redis::{Commands, ConnectionLike, RedisResult, Value};
use sketchstore::{Backend, Store};
use std::time::{Duration, Instant};

/// A result as text: the value, or the error's code and detail (Redis's line).
fn show<T: std::fmt::Debug>(r: RedisResult<T>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!(
            "error {} {}",
            e.code().unwrap_or("-"),
            e.detail().unwrap_or("")
        ),
    }
}

fn q<C: ConnectionLike>(con: &mut C, words: &[&str]) -> String {
    let mut c = redis::cmd(words[0]);
    for w in &words[1..] {
        c.arg(*w);
    }
    show(c.query::<Value>(con))
}

/// A representative session: every family through redis-rs, as a list of results.
fn script<C: ConnectionLike>(con: &mut C, p: &str) -> Vec<String> {
    let k = |name: &str| format!("{p}{name}");
    // strings and counters, through `Commands`
    let mut out = vec![show(con.set::<_, _, ()>(k("s"), "hello"))];
    out.push(show(con.get::<_, Option<String>>(k("s"))));
    out.push(show(con.get::<_, Option<String>>(k("missing"))));
    out.push(show(con.append::<_, _, i64>(k("s"), " world")));
    out.push(show(con.incr::<_, _, i64>(k("n"), 5)));
    out.push(show(con.incr::<_, _, i64>(k("s"), 1)));
    out.push(show(con.set_ex::<_, _, ()>(k("t"), "v", 100)));
    out.push(show(con.ttl::<_, i64>(k("t"))));
    out.push(q(con, &["INCRBYFLOAT", &k("f"), "10.5"]));
    out.push(q(con, &["INCRBYFLOAT", &k("f"), "5.0e3"]));
    out.push(q(con, &["SET", &k("s2"), "v", "EX", "0"]));
    out.push(q(con, &["MSET", &k("a"), "1", &k("b"), "2"]));
    out.push(q(con, &["MGET", &k("a"), &k("missing"), &k("b")]));
    out.push(q(con, &["NOSUCHCMD", "x"]));
    out.push(q(con, &["GET"]));
    // hashes
    out.push(show(con.hset_multiple::<_, _, _, ()>(
        k("h"),
        &[("f1", "1"), ("f2", "2")],
    )));
    out.push(show(con.hget::<_, _, Option<String>>(k("h"), "f1")));
    out.push(show(con.hincr::<_, _, _, i64>(k("h"), "f1", 10)));
    out.push(q(con, &["HGETALL", &k("h")]));
    out.push(q(con, &["HINCRBY", &k("s"), "f", "1"]));
    // HyperLogLog: replies and the value's bytes
    out.push(q(con, &["PFADD", &k("hll"), "a", "b", "c", "d"]));
    out.push(q(con, &["PFADD", &k("hll"), "a"]));
    out.push(q(con, &["PFCOUNT", &k("hll")]));
    out.push(q(con, &["GET", &k("hll")]));
    out.push(q(con, &["PFADD", &k("s"), "x"]));
    // bits and BITFIELD
    out.push(q(con, &["SETBIT", &k("bits"), "7", "1"]));
    out.push(q(con, &["BITCOUNT", &k("bits")]));
    out.push(q(
        con,
        &[
            "BITFIELD",
            &k("bf"),
            "SET",
            "u8",
            "0",
            "200",
            "GET",
            "i8",
            "0",
            "OVERFLOW",
            "FAIL",
            "INCRBY",
            "u8",
            "0",
            "100",
        ],
    ));
    out.push(q(con, &["BITFIELD", &k("bf"), "GET", "u64", "0"]));
    // lists
    out.push(show(con.rpush::<_, _, i64>(k("l"), &["a", "b", "c"])));
    out.push(show(con.lrange::<_, Vec<String>>(k("l"), 0, -1)));
    out.push(q(con, &["LPOP", &k("l"), "2"]));
    out.push(q(con, &["LPOP", &k("missing"), "2"]));
    out.push(q(con, &["BLPOP", &k("l"), "1"]));
    out.push(q(con, &["BLPOP", &k("missing"), "0.05"]));
    out.push(q(con, &["LPUSH", &k("h"), "x"]));
    // pipelines
    out.push(show(
        redis::pipe()
            .set(k("p"), 1)
            .ignore()
            .incr(k("p"), 2)
            .get(k("p"))
            .cmd("NOSUCHCMD")
            .query::<Vec<Value>>(con),
    ));
    out.push(show(
        redis::pipe()
            .atomic()
            .incr(k("p"), 1)
            .cmd("INCR")
            .arg(k("h"))
            .get(k("p"))
            .query::<Value>(con),
    ));
    // MULTI ... EXEC sent as separate commands
    out.push(q(con, &["MULTI"]));
    out.push(q(con, &["INCR", &k("m")]));
    out.push(q(con, &["BLPOP", &k("missing"), "0"]));
    out.push(q(con, &["MULTI"]));
    out.push(q(con, &["EXEC"]));
    out.push(q(con, &["EXEC"]));
    out.push(q(con, &["DISCARD"]));
    out.push(q(con, &["MULTI"]));
    out.push(q(con, &["INCR", &k("m")]));
    out.push(q(con, &["DISCARD"]));
    out.push(q(con, &["GET", &k("m")]));
    out.push(q(con, &["MULTI"]));
    out.push(q(con, &["INCR", &k("m")]));
    out.push(q(con, &["NOSUCHCMD"]));
    out.push(q(con, &["EXEC"]));
    out.push(q(con, &["WATCH", &k("w")]));
    out.push(q(con, &["SET", &k("w"), "own write"]));
    out.push(q(con, &["MULTI"]));
    out.push(q(con, &["WATCH", &k("w")]));
    out.push(q(con, &["GET", &k("w")]));
    out.push(q(con, &["EXEC"]));
    out.push(q(con, &["UNWATCH"]));
    out
}

#[test]
fn commands_on_the_store_match_a_real_server() {
    let server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let mut real = client.get_connection().unwrap();
    let mut store = Store::new().connection();
    let want = script(&mut real, "c:");
    let got = script(&mut store, "c:");
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "step {i}");
    }
}

#[test]
fn replies_match_the_typed_api() {
    let typed = Store::new();
    let mut con = typed.connection();
    let _: () = Commands::set(&mut con, "k", "v").unwrap();
    assert_eq!(typed.get(b"k").unwrap(), Some(b"v".to_vec()));
    let n: i64 = Commands::incr(&mut con, "n", 41).unwrap();
    assert_eq!(n, typed.incr(b"n").unwrap() - 1);
    let added: bool = Commands::pfadd(&mut con, "h", &["a", "b"]).unwrap();
    assert!(added);
    let count: u64 = Commands::pfcount(&mut con, "h").unwrap();
    assert_eq!(count, Backend::pfcount(&typed, &[b"h"]).unwrap());
    let bf: i64 = redis::cmd("BF.ADD")
        .arg("bf")
        .arg("x")
        .query(&mut con)
        .unwrap();
    assert_eq!(bf, 1);
    assert!(typed.bf_exists(b"bf", b"x").unwrap());
    let e = Commands::get::<_, String>(&mut con, "h2").map(|_| ());
    assert!(e.is_err(), "nil is not a String");
    let e = redis::cmd("LPUSH")
        .arg("k")
        .arg("x")
        .query::<Value>(&mut con)
        .unwrap_err();
    assert_eq!(
        (e.code(), e.detail()),
        (
            Some("WRONGTYPE"),
            Some("Operation against a key holding the wrong kind of value")
        )
    );
}

#[test]
fn each_connection_has_its_own_state() {
    let store = Store::new();
    let mut a = store.connection();
    let mut b = store.connection();
    // WATCH on one handle, a write on another: EXEC aborts.
    let _: () = redis::cmd("WATCH").arg("k").query(&mut a).unwrap();
    let _: () = Commands::set(&mut b, "k", "changed").unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let queued: String = redis::cmd("SET")
        .arg("k")
        .arg("mine")
        .query(&mut a)
        .unwrap();
    assert_eq!(queued, "QUEUED");
    // The other handle is not inside MULTI: its commands run at once.
    let now: String = Commands::get(&mut b, "k").unwrap();
    assert_eq!(now, "changed");
    let exec: Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(exec, Value::Nil, "aborted: the null array");
    let v: String = Commands::get(&mut a, "k").unwrap();
    assert_eq!(v, "changed");

    // Atomic pipelines on two clones at once do not interleave.
    std::thread::scope(|s| {
        for _ in 0..4 {
            let mut c = store.connection();
            s.spawn(move || {
                for _ in 0..200 {
                    let (x, y): (i64, i64) = redis::pipe()
                        .atomic()
                        .incr("ctr", 1)
                        .incr("ctr", 1)
                        .query(&mut c)
                        .unwrap();
                    assert_eq!(y, x + 1);
                }
            });
        }
    });
    let total: i64 = Commands::get(&mut a, "ctr").unwrap();
    assert_eq!(total, 1600);

    // A BLPOP blocks only its own handle.
    let mut waiter = store.connection();
    let start = Instant::now();
    std::thread::scope(|s| {
        let t = s.spawn(move || {
            let r: Option<(String, String)> = Commands::blpop(&mut waiter, "q", 5.0).unwrap();
            r
        });
        std::thread::sleep(Duration::from_millis(100));
        let _: () = Commands::set(&mut b, "other", "works").unwrap();
        let _: i64 = Commands::rpush(&mut b, "q", "job").unwrap();
        assert_eq!(t.join().unwrap(), Some(("q".into(), "job".into())));
    });
    assert!(start.elapsed() < Duration::from_secs(4));

    let e = redis::cmd("SUBSCRIBE")
        .arg("news")
        .query::<Value>(&mut a)
        .unwrap_err();
    assert!(
        e.to_string().contains("Connection::next_push"),
        "points to the connection's pub/sub API: {e}"
    );
    // MONITOR would turn the connection into a stream of lines too.
    let e = redis::cmd("MONITOR").query::<Value>(&mut a).unwrap_err();
    assert!(
        e.to_string()
            .contains("MONITOR is not supported through redis-rs's ConnectionLike"),
        "{e}"
    );
    assert_eq!(Commands::set::<_, _, ()>(&mut a, "still", "works"), Ok(()));
}

#[test]
fn async_commands_run_on_the_store() {
    use redis::AsyncCommands;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::new();
        let mut con = store.connection();
        let mut other = store.connection();
        let _: () = AsyncCommands::set(&mut con, "k", "v").await.unwrap();
        let v: String = AsyncCommands::get(&mut con, "k").await.unwrap();
        assert_eq!(v, "v");
        let (a, b): (i64, i64) = redis::pipe()
            .atomic()
            .incr("n", 1)
            .incr("n", 1)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!((a, b), (1, 2));
        // The wait leaves the single executor thread free for the push.
        let (popped, ()) = tokio::join!(
            AsyncCommands::blpop::<_, Option<(String, String)>>(&mut con, "q", 5.0),
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _: i64 = AsyncCommands::rpush(&mut other, "q", "x").await.unwrap();
            }
        );
        assert_eq!(popped.unwrap(), Some(("q".into(), "x".into())));
        let _: () = redis::cmd("MULTI").query_async(&mut con).await.unwrap();
        let queued: String = redis::cmd("BLPOP")
            .arg("q")
            .arg(0)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(queued, "QUEUED", "inside MULTI a blocking pop is queued");
        let exec: Value = redis::cmd("EXEC").query_async(&mut con).await.unwrap();
        assert_eq!(exec, Value::Array(vec![Value::Nil]));
    });
}
