//! sketchstore-server with real clients: redis-rs (sync, async, pipelines, transactions,
//! pub/sub, RESP3), redis-cli and Python's redis-py, each started against the built binary;
//! and clients that misbehave (disconnecting mid-MULTI, mid-BLPOP, mid-subscription, a
//! subscriber that never reads) while others keep being served and nothing stored is lost.
#![cfg(feature = "redis")]
#![allow(clippy::disallowed_methods)]

mod common;

use common::server::Server;
use redis::{Commands, RedisResult, Value};
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

fn client(server: &Server) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{}/", server.port))
        .expect("client")
        .get_connection()
        .expect("connect with redis-rs")
}

#[test]
fn redis_rs_sync_commands_pipelines_and_transactions() {
    let server = Server::start();
    let mut con = client(&server);
    let _: () = con.set("k", "v").unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "v");
    let n: i64 = con.incr("n", 5).unwrap();
    assert_eq!(n, 5);
    let (a, b): (i64, i64) = redis::pipe()
        .incr("n", 1)
        .incr("n", 1)
        .query(&mut con)
        .unwrap();
    assert_eq!((a, b), (6, 7));
    let (x, y): (i64, String) = redis::pipe()
        .atomic()
        .incr("n", 10)
        .get("k")
        .query(&mut con)
        .unwrap();
    assert_eq!((x, y.as_str()), (17, "v"));
    // WATCH on one connection, a write on another: the transaction aborts.
    let mut other = client(&server);
    let _: () = redis::cmd("WATCH").arg("k").query(&mut con).unwrap();
    let _: () = other.set("k", "changed").unwrap();
    let r: Option<(String,)> = redis::pipe().atomic().get("k").query(&mut con).unwrap();
    assert_eq!(r, None, "EXEC after a watched key changed answers nil");
    let added: bool = redis::cmd("PFADD")
        .arg("h")
        .arg("a")
        .arg("b")
        .query(&mut con)
        .unwrap();
    assert!(added);
    let count: i64 = redis::cmd("PFCOUNT").arg("h").query(&mut con).unwrap();
    assert_eq!(count, 2);
    let e: RedisResult<Value> = redis::cmd("LPUSH").arg("k").arg("x").query(&mut con);
    assert_eq!(e.unwrap_err().code(), Some("WRONGTYPE"));
}

#[test]
fn redis_rs_async_blocking_pop_holds_no_thread() {
    // One serving thread (the default, as Redis) and several (`io-threads`).
    for threads in ["1", "2"] {
        blocking_pops_on(&Server::start_with(&["--io-threads", threads]));
    }
}

fn blocking_pops_on(server: &Server) {
    let url = format!("redis://127.0.0.1:{}/", server.port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use redis::AsyncCommands;
        let client = redis::Client::open(url).unwrap();
        // More blocked clients than the server has threads: each waits as a future.
        let mut waiters = Vec::new();
        for i in 0..8 {
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            waiters.push(tokio::spawn(async move {
                let r: Option<(String, String)> = con.blpop(format!("q{i}"), 10.0).await.unwrap();
                r
            }));
        }
        let mut pusher = client.get_multiplexed_async_connection().await.unwrap();
        // The server answers while all eight wait.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let pong: String = redis::cmd("PING").query_async(&mut pusher).await.unwrap();
        assert_eq!(pong, "PONG");
        for i in 0..8 {
            let _: i64 = pusher.rpush(format!("q{i}"), "job").await.unwrap();
        }
        for (i, w) in waiters.into_iter().enumerate() {
            assert_eq!(w.await.unwrap(), Some((format!("q{i}"), "job".to_string())));
        }
    });
}

#[test]
fn redis_rs_pubsub_receives_messages_and_patterns() {
    let server = Server::start();
    let mut sub_con = client(&server);
    let mut publisher = client(&server);
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("news").unwrap();
    sub.psubscribe("sport.*").unwrap();
    sub.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n: i64 = publisher.publish("news", "hello").unwrap();
    assert_eq!(n, 1);
    let n: i64 = publisher.publish("sport.tennis", "ace").unwrap();
    assert_eq!(n, 1);
    let m = sub.get_message().unwrap();
    assert_eq!(m.get_channel_name(), "news");
    assert_eq!(m.get_payload::<String>().unwrap(), "hello");
    let m = sub.get_message().unwrap();
    assert_eq!(m.get_pattern::<String>().unwrap(), "sport.*");
    assert_eq!(m.get_payload::<String>().unwrap(), "ace");
}

#[test]
fn redis_rs_resp3_maps_and_pushes() {
    let server = Server::start();
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", server.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: i64 = con.hset("h", "f", "v").unwrap();
    let raw: Value = redis::cmd("HELLO").arg(3).query(&mut con).unwrap();
    assert!(
        matches!(raw, Value::Map(_)),
        "HELLO 3 answers a map: {raw:?}"
    );
    let info: Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut con)
        .unwrap();
    assert!(
        matches!(info, Value::Map(_)),
        "CONFIG GET is a map under RESP3: {info:?}"
    );
    let all: std::collections::HashMap<String, String> = con.hgetall("h").unwrap();
    assert_eq!(all.get("f").map(String::as_str), Some("v"));
}

#[test]
fn redis_cli_talks_to_the_server() {
    let server = Server::start();
    assert_eq!(
        server.redis_cli(&["SET", "greeting", "hi"], b"").trim(),
        "OK"
    );
    assert_eq!(server.redis_cli(&["GET", "greeting"], b"").trim(), "hi");
    let info = server.redis_cli(&["INFO", "server"], b"");
    assert!(info.contains("redis_version:7.0.15"), "{info}");
    let hello = server.redis_cli(&["-3", "HELLO", "3"], b"");
    assert!(hello.contains("proto"), "{hello}");
    let out = server.redis_cli(&[], b"MULTI\nINCR c\nINCR c\nEXEC\n");
    assert!(out.contains("QUEUED") && out.contains('2'), "{out}");
}

#[test]
fn redis_py_commands_pipelines_pubsub_and_resp3() {
    let server = Server::start();
    let script = r#"
import sys, redis
port = int(sys.argv[1])
r = redis.Redis(port=port, decode_responses=True)
assert r.set("py", "1")
assert r.incr("py") == 2
p = r.pipeline(transaction=True)
p.incr("py").incr("py")
assert p.execute() == [3, 4]
ps = r.pubsub()
ps.subscribe("chan")
assert ps.get_message(timeout=5)["type"] == "subscribe"
assert r.publish("chan", "msg") == 1
m = ps.get_message(timeout=5)
assert m["type"] == "message" and m["data"] == "msg", m
r3 = redis.Redis(port=port, protocol=3, decode_responses=True)
r3.hset("h3", mapping={"a": "1"})
assert r3.hgetall("h3") == {"a": "1"}
print("redis-py ok")
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(server.port.to_string())
        .output()
        .unwrap_or_else(|e| panic!("python3 is not installed ({e}): cargo xtask test installs it"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("No module named 'redis'"),
        "redis-py is not installed: python3 -m pip install redis (cargo xtask test does)"
    );
    assert!(
        out.status.success() && text.contains("redis-py ok"),
        "{text}"
    );
}

/// A raw RESP client over TCP.
fn send(port: u16, bytes: &[u8]) -> std::net::TcpStream {
    let mut s = common::server::raw(port);
    s.write_all(bytes).unwrap();
    s
}

fn resp(argv: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fn wait_until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "condition not reached in 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn clients_that_leave_midway_disturb_nobody() {
    let server = Server::start();
    let mut con = client(&server);
    let _: () = con.set("kept", "value").unwrap();
    // Mid-MULTI: the queued write never runs.
    let mut a = send(
        server.port,
        &[resp(&["MULTI"]), resp(&["SET", "kept", "lost"])].concat(),
    );
    let mut buf = [0u8; 64];
    let _ = a.read(&mut buf);
    drop(a);
    // Mid-BLPOP: the waiter goes away; a later push stays in the list.
    let b = send(server.port, &resp(&["BLPOP", "queue", "0"]));
    wait_until(|| {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut con).unwrap();
        info.contains("blocked_clients:1")
    });
    drop(b);
    wait_until(|| {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut con).unwrap();
        info.contains("blocked_clients:0")
    });
    let _: i64 = con.rpush("queue", "job").unwrap();
    // Mid-subscription: the subscriber is gone from the channel.
    let c = send(server.port, &resp(&["SUBSCRIBE", "ch"]));
    wait_until(|| {
        let n: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("ch")
            .query(&mut con)
            .unwrap();
        n == vec![("ch".to_string(), 1)]
    });
    drop(c);
    wait_until(|| {
        let n: i64 = con.publish("ch", "x").unwrap();
        n == 0
    });
    let v: String = con.get("kept").unwrap();
    assert_eq!(v, "value");
    let q: Vec<String> = con.lrange("queue", 0, -1).unwrap();
    assert_eq!(q, vec!["job".to_string()]);
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_not_buffered() {
    let server = Server::start();
    let mut con = client(&server);
    // Subscribe, then never read.
    let slow = send(server.port, &resp(&["SUBSCRIBE", "firehose"]));
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    wait_until(|| {
        let n: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("firehose")
            .query(&mut con)
            .unwrap();
        n == vec![("firehose".to_string(), 1)]
    });
    let payload = "x".repeat(1 << 20);
    // 64 MiB of messages: past the 32 MiB pub/sub buffer limit (plus what the socket holds).
    for _ in 0..64 {
        let _: i64 = con.publish("firehose", &payload).unwrap();
    }
    wait_until(|| {
        let n: Vec<(String, i64)> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("firehose")
            .query(&mut con)
            .unwrap();
        n == vec![("firehose".to_string(), 0)]
    });
    // The server keeps serving.
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn client_kill_closes_the_socket_and_client_list_shows_addresses() {
    let server = Server::start();
    let mut admin = client(&server);
    let mut victim = common::server::raw(server.port);
    victim
        .write_all(&resp(&["CLIENT", "SETNAME", "victim"]))
        .unwrap();
    let mut ok = [0u8; 5];
    victim.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    let line = list
        .lines()
        .find(|l| l.contains("name=victim"))
        .unwrap_or_else(|| panic!("victim not listed: {list}"));
    let peer = victim.local_addr().unwrap().to_string();
    assert!(line.contains(&format!("addr={peer} ")), "{line}");
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ADDR")
        .arg(&peer)
        .query(&mut admin)
        .unwrap();
    assert_eq!(n, 1);
    let mut buf = [0u8; 16];
    assert_eq!(
        victim.read(&mut buf).unwrap_or(0),
        0,
        "the killed socket is closed"
    );
    let pong: String = redis::cmd("PING").query(&mut admin).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn a_client_that_never_reads_its_replies_blocks_only_itself() {
    let server = Server::start();
    let mut con = client(&server);
    let big = "v".repeat(1 << 20);
    let _: () = con.set("big", &big).unwrap();
    // Ask for 64 MiB of replies and never read them: the server's writes to this socket
    // stall once the kernel buffers fill, holding at most one flush of output.
    let requests: Vec<u8> = (0..64).flat_map(|_| resp(&["GET", "big"])).collect();
    let _silent = send(server.port, &requests);
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..100 {
        let n: i64 = con.incr("others", 1).unwrap();
        assert_eq!(n, i + 1);
    }
    let v: String = con.get("big").unwrap();
    assert_eq!(v.len(), big.len());
}

/// INFO commandstats counts a blocking pop whether it is served at once, after a wait or
/// by its timeout (the server runs blocking commands on their own path).
#[test]
fn blocking_pops_are_counted_in_commandstats() {
    let server = Server::start();
    let mut c = server.conn();
    let mut other = server.conn();
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), sketchstore::Reply::ok());
    assert_eq!(
        c.cmd(&["LPUSH", "list", "foo"]),
        sketchstore::Reply::Integer(1)
    );
    c.cmd(&["BRPOP", "list", "0"]);
    c.cmd(&["BLPOP", "empty", "0.01"]);
    let stats = |c: &mut common::RespConn| match c.cmd(&["INFO", "commandstats"]) {
        sketchstore::Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("INFO replied {other:?}"),
    };
    let info = stats(&mut other);
    assert!(info.contains("cmdstat_brpop:calls=1,"), "{info}");
    assert!(info.contains("cmdstat_blpop:calls=1,"), "{info}");
}
