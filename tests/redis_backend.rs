//! `RedisBackend` on real servers started by the tests: replies and error lines identical to a
//! raw RESP connection's, recovery after a server restart, bounded failures when the server
//! is unreachable or slow, blocking pops that do not stall other callers, transactions, and
//! the cluster's slot rules.
#![cfg(feature = "redis")]
// These tests measure real elapsed time against real servers: no store `Clock` is involved.
#![allow(clippy::disallowed_methods)]

mod common;

use common::cluster::RedisCluster;
use common::{words, RedisServer};
use sketchstore::{Backend, Error, RedisBackend, RedisOptions, Reply};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

fn exec(b: &dyn Backend, argv: &[Vec<u8>]) -> Reply {
    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    b.execute(&refs)
        .unwrap_or_else(|e| panic!("{argv:?} could not run: {e}"))
}

fn line(b: &dyn Backend, l: &str) -> Reply {
    exec(b, &words(l))
}

fn io_message(e: Error) -> String {
    match e {
        Error::Io(msg) => msg,
        other => panic!("expected Error::Io, got {other:?}"),
    }
}

fn owned(argv: &[&str]) -> Vec<Vec<u8>> {
    argv.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Commands whose replies (mostly errors) must be byte-identical through the backend and
/// through a raw RESP2 connection. Each is free of side effects once the setup ran, so
/// running it twice gives the same reply.
fn reply_cases() -> Vec<Vec<Vec<u8>>> {
    let mut cases: Vec<Vec<Vec<u8>>> = [
        "GET",
        "get a b",
        "NOSUCHCMD a b",
        "nosuchcmd",
        "LPUSH str x",
        "INCR str",
        "INCRBYFLOAT str 1",
        "SET k v EX 0",
        "SET k v PX -5",
        "SET k v NX XX",
        "SET k v EX abc",
        "HINCRBY h f 1",
        "HINCRBYFLOAT h f 1",
        "GETRANGE str a b",
        "SETBIT b 4294967296 1",
        "SETBIT b 0 2",
        "BITFIELD b GET u64 0",
        "BITFIELD b INCRBY i8 0",
        "BITOP NOT d a b",
        "BITCOUNT str 0",
        "EXPIRE str 10 NX XX",
        "EXPIRE str 10 GT LT",
        "RENAME missing x",
        "EXEC",
        "DISCARD",
        "LPOP l -1",
        "BLPOP l -1",
        "BLPOP l abc",
        "CONFIG GET",
        "OBJECT ENCODING missing",
        "PFADD str x",
        // replies that are not errors, including both kinds of nil
        "HGETALL h",
        "GET missing",
        "MGET str missing",
        "LPOP missing",
        "LPOP missing 2",
        "LPOP l 0",
        "LMPOP 1 missing LEFT",
        "BLPOP missing 0.05",
        "BRPOP missing 0.05",
        "BLMOVE missing x LEFT RIGHT 0.05",
        "BRPOPLPUSH missing x 0.05",
        "BLMPOP 0.05 1 missing LEFT",
        "XREAD COUNT 1 STREAMS s 0",
        "ZPOPMIN z 3",
        "LRANGE l 0 -1",
        "TYPE h",
        "PING",
        "ECHO hi",
        "STRLEN str",
        "OBJECT ENCODING str",
    ]
    .iter()
    .map(|l| words(l))
    .collect();
    for script in [
        "return redis.error_reply('MYERR custom  text with  spaces')",
        "return redis.error_reply('NOSPACE')",
        "return redis.error_reply('ERR')",
        "return {1, redis.error_reply('ERR inner'), 'x', {}}",
        "return redis.status_reply('FINE')",
        "return redis.call('GET', 'str')",
        "return redis.call('INCR', 'str')",
    ] {
        cases.push(owned(&["EVAL", script, "0"]));
    }
    cases
}

#[test]
fn replies_match_a_raw_connection() {
    let server = RedisServer::start();
    let b = RedisBackend::connect(&server.url()).unwrap();
    let mut raw = server.conn();
    for setup in ["SET str abc", "HSET h f v", "RPUSH l a b c", "SET b x"] {
        raw.cmd(&words(setup));
    }
    for argv in reply_cases() {
        let expected = raw.cmd(&argv);
        assert_eq!(exec(&b, &argv), expected, "{argv:?}");
    }

    // The one known gap: the redis crate cannot read an error line that is not UTF-8 (Redis
    // echoes the command name in it). The call fails cleanly and the connection is replaced.
    let msg = io_message(b.execute(&[b"\xff\xfe", b"x"]).unwrap_err());
    assert!(msg.contains("utf-8"), "{msg}");
    assert_eq!(line(&b, "PING"), Reply::status("PONG"));
}

#[test]
fn transaction_replies_match_a_raw_connection() {
    let server = RedisServer::start();
    let b = RedisBackend::connect(&server.url()).unwrap();
    let mut raw = server.conn();
    raw.cmd(&words("SET str abc"));

    // A command rejected when queued: EXECABORT, exactly.
    let bad = [words("GET"), words("INCR n")];
    assert_eq!(raw.cmd(&["MULTI"]), Reply::ok());
    for c in &bad {
        raw.cmd(c);
    }
    let Reply::Error(abort) = raw.cmd(&["EXEC"]) else {
        panic!("EXEC after a rejected command must fail");
    };
    let err = b.transaction(&[], &bad).unwrap_err();
    assert_eq!(err.to_string(), abort);
    assert_eq!(
        abort,
        "EXECABORT Transaction discarded because of previous errors."
    );
    assert_eq!(b.get(b"n").unwrap(), None, "nothing ran");

    // Replies inside EXEC, both nils and a runtime error included.
    let cmds: Vec<Vec<Vec<u8>>> = [
        "BLPOP missing 0",
        "LPOP missing 2",
        "LPOP missing",
        "BLMOVE missing x LEFT RIGHT 0",
        "INCR str",
        "SET k v",
        "GET k",
    ]
    .iter()
    .map(|l| words(l))
    .collect();
    raw.cmd(&["MULTI"]);
    for c in &cmds {
        assert_eq!(raw.cmd(c), Reply::status("QUEUED"));
    }
    let expected = raw.cmd(&["EXEC"]);
    let got = b.transaction(&[b"k"], &cmds).unwrap().expect("not aborted");
    assert_eq!(Reply::Array(got), expected);

    // WATCH with a concurrent writer: some attempts abort (None), none half-applies.
    let stop = AtomicBool::new(false);
    let (mut committed, mut aborted) = (0, 0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut w = server.conn();
            while !stop.load(Ordering::Relaxed) {
                w.cmd(&["INCR", "watched"]);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while (committed == 0 || aborted == 0) && Instant::now() < deadline {
            let set = vec![owned(&["SET", "w-copy", "x"]), owned(&["INCR", "w-count"])];
            match b.transaction(&[b"watched"], &set).unwrap() {
                Some(replies) => {
                    assert_eq!(replies[0], Reply::ok());
                    committed += 1;
                }
                None => aborted += 1,
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(
        committed > 0 && aborted > 0,
        "{committed} committed, {aborted} aborted"
    );
    assert_eq!(
        b.get(b"w-count").unwrap(),
        Some(committed.to_string().into_bytes())
    );

    // The connection's transaction state never leaks into later calls.
    assert_eq!(line(&b, "SET after 1"), Reply::ok());
    assert_eq!(
        line(&b, "EXEC"),
        Reply::Error("ERR EXEC without MULTI".into())
    );
}

#[test]
fn connection_state_commands_are_refused() {
    let server = RedisServer::start();
    let b = RedisBackend::connect(&server.url()).unwrap();
    for l in [
        "MULTI",
        "WATCH k",
        "SUBSCRIBE ch",
        "PSUBSCRIBE p*",
        "SELECT 1",
        "CLIENT REPLY OFF",
    ] {
        let argv = words(l);
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let msg = io_message(b.execute(&refs).unwrap_err());
        assert!(msg.contains(l.split(' ').next().unwrap()), "{msg}");
    }
    assert!(b.transaction(&[], &[owned(&["SUBSCRIBE", "ch"])]).is_err());
    assert_eq!(line(&b, "SET k v"), Reply::ok());
    assert_eq!(line(&b, "GET k"), Reply::bulk("v"));
}

#[test]
fn recovers_after_the_server_restarts() {
    let server = RedisServer::start();
    let port = server.port;
    let b = RedisBackend::connect(&server.url()).unwrap();
    // Several pooled connections, all of which the restart will kill.
    std::thread::scope(|s| {
        for i in 0..4 {
            let b = &b;
            s.spawn(move || line(b, &format!("BLPOP warm{i} 0.1")));
        }
    });
    b.set(b"k", b"before").unwrap();

    drop(server);
    let server = RedisServer::start_on_port(port);
    // The stale connection fails, is replaced, and the call succeeds: no error surfaces.
    assert_eq!(b.get(b"k").unwrap(), None, "a fresh server");
    b.set(b"k", b"after").unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let b = &b;
            s.spawn(move || assert_eq!(b.incr(b"n").map(|n| n > 0), Ok(true)));
        }
    });
    assert_eq!(b.get(b"n").unwrap(), Some(b"4".to_vec()));

    // While the server is down: a clear, quick error naming the address.
    drop(server);
    let t = Instant::now();
    let msg = io_message(b.get(b"k").unwrap_err());
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");

    let _server = RedisServer::start_on_port(port);
    assert_eq!(b.get(b"k").unwrap(), None);
    b.set(b"k", b"again").unwrap();
    assert_eq!(b.get(b"k").unwrap(), Some(b"again".to_vec()));
}

#[test]
fn unreachable_server_fails_quickly_with_its_address() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("redis://127.0.0.1:{port}");
    let mut opts = RedisOptions::default();
    opts.connect_timeout = Duration::from_millis(500);
    let t = Instant::now();
    let msg = io_message(RedisBackend::connect_with(&url, opts).unwrap_err());
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        t.elapsed()
    );
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");

    let t = Instant::now();
    let msg = io_message(RedisBackend::connect(&url).unwrap_err());
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(
        Error::Io(msg)
            .to_string()
            .starts_with("IOERR cannot connect to redis at 127.0.0.1:"),
        "Display"
    );

    let t = Instant::now();
    let msg = io_message(RedisBackend::cluster(&[&url]).unwrap_err());
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");

    let secret = format!("redis://user:hunter2@127.0.0.1:{port}");
    let msg = io_message(RedisBackend::connect(&secret).unwrap_err());
    assert!(!msg.contains("hunter2"), "credentials never appear: {msg}");
}

#[test]
fn slow_replies_time_out_and_blocking_commands_get_their_own_limit() {
    let server = RedisServer::start_with(&["--enable-debug-command", "yes"]);
    let mut opts = RedisOptions::default();
    opts.response_timeout = Duration::from_millis(300);
    let b = RedisBackend::connect_with(&server.url(), opts).unwrap();

    let t = Instant::now();
    let msg = io_message(b.execute(&[b"DEBUG", b"SLEEP", b"1"]).unwrap_err());
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "took {:?}",
        t.elapsed()
    );
    assert!(msg.contains("did not reply within 300 ms"), "{msg}");
    assert_eq!(line(&b, "PING"), Reply::status("PONG"), "a new connection");

    // A blocking pop may wait its own timeout (0.6 s) beyond the 300 ms response limit.
    let t = Instant::now();
    assert_eq!(line(&b, "BLPOP q 0.6"), Reply::NilArray);
    assert!(
        t.elapsed() >= Duration::from_millis(550),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn a_blocking_pop_does_not_stall_other_callers() {
    let server = RedisServer::start();
    let b = RedisBackend::connect(&server.url()).unwrap();
    let blocked_done = AtomicBool::new(false);
    let finished_while_blocked = AtomicUsize::new(0);
    let slowest = MaxDuration::default();
    std::thread::scope(|s| {
        s.spawn(|| {
            let t = Instant::now();
            assert_eq!(line(&b, "BLPOP idle 1"), Reply::NilArray);
            let waited = t.elapsed();
            assert!(
                waited >= Duration::from_millis(950),
                "BLPOP returned after {waited:?}"
            );
            blocked_done.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(100));
        for t in 0..4 {
            let (b, blocked_done, finished, slowest) =
                (&b, &blocked_done, &finished_while_blocked, &slowest);
            s.spawn(move || {
                let start = Instant::now();
                for i in 0..50 {
                    let k = format!("k{t}-{i}");
                    b.set(k.as_bytes(), b"v").unwrap();
                    assert_eq!(b.get(k.as_bytes()).unwrap(), Some(b"v".to_vec()));
                }
                slowest.record(start.elapsed());
                if !blocked_done.load(Ordering::SeqCst) {
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(
        finished_while_blocked.load(Ordering::SeqCst),
        4,
        "every batch of 100 calls finished while BLPOP was still blocked"
    );
    let worst = slowest.get();
    assert!(
        worst < Duration::from_millis(500),
        "slowest batch took {worst:?}"
    );

    // A push from another thread serves the blocked pop at once.
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let t = Instant::now();
            (line(&b, "BLPOP jobs 5"), t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(line(&b, "RPUSH jobs j1"), Reply::Integer(1));
        let (reply, waited) = waiter.join().unwrap();
        assert_eq!(
            reply,
            Reply::Array(vec![Reply::bulk("jobs"), Reply::bulk("j1")])
        );
        assert!(waited < Duration::from_secs(2), "served after {waited:?}");
    });
}

/// The largest duration recorded from several threads.
#[derive(Default)]
struct MaxDuration(std::sync::Mutex<Duration>);

impl MaxDuration {
    fn record(&self, d: Duration) {
        let mut m = self.0.lock().unwrap();
        *m = (*m).max(d);
    }
    fn get(&self) -> Duration {
        *self.0.lock().unwrap()
    }
}

#[test]
fn concurrent_callers_share_the_pool_safely() {
    let server = RedisServer::start();
    let b = RedisBackend::connect(&server.url()).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..250 {
                    b.incr(b"counter").unwrap();
                }
            });
        }
    });
    assert_eq!(b.get(b"counter").unwrap(), Some(b"2000".to_vec()));
    let Reply::Bulk(clients) = line(&b, "CLIENT LIST") else {
        panic!("CLIENT LIST");
    };
    let open = String::from_utf8_lossy(&clients).lines().count();
    assert!(open <= 16 + 1, "idle connections are capped: {open} open");
}

#[test]
fn cluster_routes_by_slot_and_rejects_cross_slot_commands() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let b = RedisBackend::cluster(&nodes).unwrap();
    assert!(b.is_cluster());

    // Keys spread over every node work one by one.
    for i in 0..30 {
        b.set(format!("spread{i}").as_bytes(), b"v").unwrap();
    }
    assert_eq!(b.dbsize().unwrap(), 30, "DBSIZE sums the primaries");
    assert_eq!(
        b.keys(b"spread*").unwrap().len(),
        30,
        "KEYS joins the primaries"
    );

    // Different slots: the server's CROSSSLOT, byte for byte, as a raw client sees it.
    let mut raw = cluster.conn_for("{a}1");
    for l in [
        "MGET {a}1 {b}1",
        "DEL {a}1 {b}1",
        "EXISTS {a}1 {b}1",
        "MSET {a}1 x {b}1 y",
        "RENAME {a}1 {b}1",
        "BITOP AND {a}1 {b}1",
        "BLPOP {a}1 {b}1 0.1",
    ] {
        let expected = raw.cmd(&words(l));
        assert_eq!(
            expected,
            Reply::Error(CROSSSLOT.into()),
            "{l} on a raw node"
        );
        assert_eq!(line(&b, l), expected, "{l}");
    }
    assert_eq!(
        b.mget(&[b"{a}1", b"{b}1"]).unwrap_err().to_string(),
        CROSSSLOT
    );
    assert_eq!(
        b.get(b"{b}1").unwrap(),
        None,
        "a rejected MSET wrote nothing"
    );

    // One hash tag: one slot, so multi-key commands work.
    b.mset(&[(b"{t1}:a", b"1"), (b"{t1}:b", b"2")]).unwrap();
    assert_eq!(
        b.mget(&[b"{t1}:a", b"{t1}:b", b"{t1}:c"]).unwrap(),
        vec![Some(b"1".to_vec()), Some(b"2".to_vec()), None]
    );
    assert_eq!(b.del(&[b"{t1}:a", b"{t1}:b"]).unwrap(), 2);

    // Errors keep Redis's text on the cluster too.
    assert_eq!(
        line(&b, "GET"),
        Reply::Error("ERR wrong number of arguments for 'get' command".into())
    );
    b.hset(b"{t1}:h", &[(b"f", b"v")]).unwrap();
    assert_eq!(
        line(&b, "INCR {t1}:h"),
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    );
    assert_eq!(line(&b, "LPOP {t1}:missing 2"), Reply::NilArray);
    let custom = owned(&[
        "EVAL",
        "return redis.error_reply('MYERR custom  text')",
        "0",
    ]);
    assert_eq!(exec(&b, &custom), Reply::Error("MYERR custom  text".into()));
    assert_eq!(
        line(&b, "SET {t1}:k v EX 0"),
        Reply::Error("ERR invalid expire time in 'set' command".into())
    );

    // Transactions: one slot runs on its node; keys on two nodes fail with CROSSSLOT.
    let cmds = vec![owned(&["INCR", "{t1}:n"]), owned(&["INCR", "{t1}:n"])];
    assert_eq!(
        b.transaction(&[b"{t1}:n"], &cmds).unwrap(),
        Some(vec![Reply::Integer(1), Reply::Integer(2)])
    );
    let (k1, k2) = keys_on_two_nodes(&cluster);
    let spanning = vec![owned(&["SET", &k1, "1"]), owned(&["SET", &k2, "2"])];
    assert_eq!(
        b.transaction(&[], &spanning).unwrap_err().to_string(),
        CROSSSLOT
    );
    assert_eq!(b.get(k1.as_bytes()).unwrap(), None, "nothing ran");
    assert_eq!(
        b.transaction(&[k1.as_bytes(), k2.as_bytes()], &[])
            .unwrap_err()
            .to_string(),
        CROSSSLOT
    );
    let (k3, k4) = keys_on_one_node_in_two_slots(&cluster);
    let same_node = vec![owned(&["SET", &k3, "1"]), owned(&["SET", &k4, "2"])];
    assert_eq!(
        b.transaction(&[], &same_node).unwrap_err().to_string(),
        CROSSSLOT
    );
    assert_eq!(b.get(k3.as_bytes()).unwrap(), None, "nothing ran");

    // A blocking pop on the cluster does not stall other callers either.
    std::thread::scope(|s| {
        let waiter = s.spawn(|| line(&b, "BLPOP {t1}:q 0.5"));
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        for i in 0..20 {
            b.set(format!("{{t1}}:x{i}").as_bytes(), b"v").unwrap();
        }
        assert!(
            t.elapsed() < Duration::from_millis(300),
            "took {:?}",
            t.elapsed()
        );
        assert_eq!(waiter.join().unwrap(), Reply::NilArray);
    });

    // SCAN visits every primary.
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = b.scan(cursor, Some(b"spread*"), 10).unwrap();
        seen.extend(page.keys);
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 30);
}

fn node_id(cluster: &RedisCluster, key: &str) -> Vec<u8> {
    match cluster.conn_for(key).cmd(&["CLUSTER", "MYID"]) {
        Reply::Bulk(id) => id,
        other => panic!("CLUSTER MYID: {other:?}"),
    }
}

/// Two keys served by different nodes.
fn keys_on_two_nodes(cluster: &RedisCluster) -> (String, String) {
    let first = "{n}0".to_owned();
    let home = node_id(cluster, &first);
    (1..100)
        .map(|i| format!("{{n{i}}}0"))
        .find(|k| node_id(cluster, k) != home)
        .map(|k| (first, k))
        .expect("keys on two nodes")
}

/// Two keys in different slots of one node.
fn keys_on_one_node_in_two_slots(cluster: &RedisCluster) -> (String, String) {
    let first = "{n}0".to_owned();
    let home = node_id(cluster, &first);
    (1..100)
        .map(|i| format!("{{n{i}}}0"))
        .find(|k| node_id(cluster, k) == home)
        .map(|k| (first, k))
        .expect("two slots on one node")
}

/// Adds `items` through `b` and through a fresh embedded store; both must answer the same.
fn bloom_matches_embedded(b: &dyn Backend, key: &[u8], items: &[Vec<u8>]) {
    let store = sketchstore::Store::new();
    for chunk in items.chunks(50) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        let got: Vec<String> = b
            .bf_madd(key, &refs)
            .unwrap()
            .into_iter()
            .map(|r| format!("{r:?}"))
            .collect();
        let want: Vec<String> = store
            .bf_madd(key, &refs)
            .unwrap()
            .into_iter()
            .map(|r| format!("{r:?}"))
            .collect();
        assert_eq!(got, want);
    }
    assert_eq!(b.bf_info(key).unwrap(), store.bf_info(key).unwrap());
}

#[test]
fn bloom_emulation_on_the_cluster_takes_untagged_keys() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let b = RedisBackend::cluster(&nodes).unwrap();
    assert!(!b.bloom_is_native().unwrap());
    let items: Vec<Vec<u8>> = (0..600)
        .map(|i| format!("visitor-{i}").into_bytes())
        .collect();
    // Untagged keys on every node: the links get a hash tag of the key's own slot.
    for name in ["seen", "pages", "bf:untagged", "x{"] {
        bloom_matches_embedded(&b, name.as_bytes(), &items);
        assert_eq!(
            b.key_type(name.as_bytes()).unwrap(),
            sketchstore::KeyType::Hash
        );
    }
    // The link keys live on the filter key's node.
    let Reply::Array(keys) = cluster.conn_for("seen").cmd(&["KEYS", "*seen:bf:*"]) else {
        panic!("KEYS failed");
    };
    assert!(keys.len() >= 3, "the links of a grown filter: {keys:?}");
}

#[test]
fn bloom_emulation_is_safe_across_clients_and_recreation() {
    let server = RedisServer::start();
    let a = RedisBackend::connect(&server.url()).unwrap();
    let b = RedisBackend::connect(&server.url()).unwrap();
    let store = sketchstore::Store::new();
    let items: Vec<Vec<u8>> = (0..400).map(|i| format!("i{i}").into_bytes()).collect();
    // Two backends with their own caches take turns on one filter while it grows: each
    // finds the other's growth and recomputes.
    let opts = sketchstore::BloomOptions {
        capacity: 20,
        ..Default::default()
    };
    a.bf_reserve(b"shared", opts).unwrap();
    store.bf_reserve(b"shared", opts).unwrap();
    for (i, item) in items.iter().enumerate() {
        let who: &dyn Backend = if i % 3 == 0 { &a } else { &b };
        assert_eq!(
            who.bf_add(b"shared", item).unwrap(),
            store.bf_add(b"shared", item).unwrap(),
            "item {i}"
        );
    }
    assert_eq!(
        a.bf_info(b"shared").unwrap(),
        store.bf_info(b"shared").unwrap()
    );
    // Concurrent writers on a growing filter: no insert is lost (no false negatives) and
    // the count is exactly the number of adds that answered "new" (which, as in RedisBloom,
    // depends on the order of the adds).
    let fresh = std::sync::atomic::AtomicU64::new(0);
    let small = sketchstore::BloomOptions {
        capacity: 30,
        ..Default::default()
    };
    a.bf_reserve(b"concurrent", small).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let backend = if t % 2 == 0 { a.clone() } else { b.clone() };
            let fresh = &fresh;
            s.spawn(move || {
                for i in 0..100 {
                    if backend
                        .bf_add(b"concurrent", format!("{t}-{i}").as_bytes())
                        .unwrap()
                    {
                        fresh.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    assert_eq!(
        a.bf_card(b"concurrent").unwrap(),
        fresh.load(Ordering::SeqCst)
    );
    assert!(a.bf_info(b"concurrent").unwrap().filters >= 3);
    for t in 0..4 {
        let names: Vec<String> = (0..100).map(|i| format!("{t}-{i}")).collect();
        let refs: Vec<&[u8]> = names.iter().map(String::as_bytes).collect();
        assert!(a
            .bf_mexists(b"concurrent", &refs)
            .unwrap()
            .iter()
            .all(|&x| x));
    }
    // DEL leaves the links; a new filter under the key starts from clean links.
    assert_eq!(a.del(&[b"shared"]).unwrap(), 1);
    assert!(!b.bf_exists(b"shared", &items[0]).unwrap());
    bloom_matches_embedded(&b, b"shared", &items[..10]);
    assert_eq!(
        b.bf_mexists(b"shared", &[items[0].as_slice(), items[399].as_slice()])
            .unwrap(),
        vec![true, false]
    );
    // The embedded store's memory budget, with its text.
    let huge = sketchstore::BloomOptions {
        capacity: 1 << 40,
        ..Default::default()
    };
    assert_eq!(
        a.bf_reserve(b"huge", huge).unwrap_err().to_string(),
        "ERR Insufficient memory to create filter"
    );
    assert_eq!(
        store.bf_reserve(b"huge", huge).unwrap_err().to_string(),
        "ERR Insufficient memory to create filter"
    );
    assert_eq!(a.exists(&[b"huge"]).unwrap(), 0);
    // A hash that is not a filter is the wrong type.
    a.hset(b"plain", &[(b"f", b"v")]).unwrap();
    assert!(matches!(a.bf_add(b"plain", b"x"), Err(Error::WrongType)));
    assert!(!a.bf_exists(b"plain", b"x").unwrap());
}

#[test]
fn bloom_mode_native_sends_bf_commands() {
    let server = RedisServer::start();
    let mut opts = RedisOptions::default();
    opts.bloom = sketchstore::BloomMode::Native;
    let b = RedisBackend::connect_with(&server.url(), opts).unwrap();
    assert!(b.bloom_is_native().unwrap());
    let e = b.bf_add(b"k", b"x").unwrap_err().to_string();
    assert!(
        e.starts_with("ERR unknown command 'BF.ADD'"),
        "sent to a server without RedisBloom: {e}"
    );
}

#[test]
fn emulated_links_hold_redisbloom_bytes() {
    let module = common::cluster::redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let native = RedisBackend::connect(&server.url()).unwrap();
    assert!(native.bloom_is_native().unwrap());
    let mut opts = RedisOptions::default();
    opts.bloom = sketchstore::BloomMode::Emulate;
    let emulated = RedisBackend::connect_with(&server.url(), opts).unwrap();
    let filter = sketchstore::BloomOptions {
        capacity: 50,
        error_rate: 0.01,
        ..Default::default()
    };
    native.bf_reserve(b"{f}native", filter).unwrap();
    emulated.bf_reserve(b"{f}emulated", filter).unwrap();
    let items: Vec<Vec<u8>> = (0..300).map(|i| format!("item:{i}").into_bytes()).collect();
    for chunk in items.chunks(40) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        let n: Vec<String> = native
            .bf_madd(b"{f}native", &refs)
            .unwrap()
            .iter()
            .map(|r| format!("{r:?}"))
            .collect();
        let e: Vec<String> = emulated
            .bf_madd(b"{f}emulated", &refs)
            .unwrap()
            .iter()
            .map(|r| format!("{r:?}"))
            .collect();
        assert_eq!(n, e);
    }
    let info = native.bf_info(b"{f}native").unwrap();
    assert_eq!(info, emulated.bf_info(b"{f}emulated").unwrap());
    assert!(info.filters >= 3);
    // BF.SCANDUMP's data chunks are the links' bit arrays, oldest first; each emulated link
    // string holds the same bytes.
    let mut dumped = Vec::new();
    let mut iter = 0i64;
    loop {
        let r = line(&native, &format!("BF.SCANDUMP {{f}}native {iter}"));
        let Reply::Array(parts) = r else {
            panic!("BF.SCANDUMP: {r:?}")
        };
        let (Reply::Integer(next), Reply::Bulk(data)) = (&parts[0], &parts[1]) else {
            panic!("BF.SCANDUMP parts: {parts:?}")
        };
        if *next == 0 {
            break;
        }
        if iter > 0 {
            dumped.extend_from_slice(data);
        }
        iter = *next;
    }
    let mut links = Vec::new();
    for i in 0..info.filters {
        let Some(bytes) = emulated
            .get(format!("{{f}}emulated:bf:{i}").as_bytes())
            .unwrap()
        else {
            panic!("link {i} missing")
        };
        links.extend_from_slice(&bytes);
    }
    assert_eq!(links.len(), dumped.len());
    assert!(
        links == dumped,
        "the emulated links are RedisBloom's bit arrays"
    );
}
