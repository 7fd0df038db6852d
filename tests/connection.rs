//! `Connection`: each rule of per-connection state, one test each, plus the protocol and
//! client commands a connection answers itself.

use sketchstore::{Connection, Protocol, Reply, Store};
use std::time::{Duration, Instant};

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

#[test]
fn a_multi_on_one_connection_is_invisible_to_another() {
    let store = Store::new();
    let (mut a, mut b) = (store.connection(), store.connection());
    assert_eq!(a.execute(&["MULTI"]), Reply::ok());
    assert_eq!(a.execute(&["SET", "k", "from-a"]), Reply::status("QUEUED"));
    assert!(a.in_multi() && !b.in_multi());
    // b runs at once and sees nothing of a's queue.
    assert_eq!(b.execute(&["GET", "k"]), Reply::Nil);
    assert_eq!(b.execute(&["SET", "k", "from-b"]), Reply::ok());
    assert_eq!(
        b.execute(&["EXEC"]),
        Reply::Error("ERR EXEC without MULTI".into())
    );
    assert_eq!(a.execute(&["EXEC"]), arr(vec![Reply::ok()]));
    assert_eq!(b.execute(&["GET", "k"]), Reply::bulk("from-a"));
    // The store's own entry point has no connection state at all.
    assert_eq!(
        store.execute(&["EXEC"]),
        Reply::Error("ERR EXEC without MULTI".into())
    );
}

#[test]
fn watch_state_is_per_connection() {
    let store = Store::new();
    let (mut a, mut b, mut c) = (store.connection(), store.connection(), store.connection());
    assert_eq!(a.execute(&["WATCH", "w"]), Reply::ok());
    // b watches nothing: its transaction is not aborted by the write below.
    for conn in [&mut a, &mut b] {
        assert_eq!(conn.execute(&["MULTI"]), Reply::ok());
        assert_eq!(conn.execute(&["INCR", "n"]), Reply::status("QUEUED"));
    }
    assert_eq!(c.execute(&["SET", "w", "changed"]), Reply::ok());
    assert_eq!(a.execute(&["EXEC"]), Reply::NilArray);
    assert_eq!(b.execute(&["EXEC"]), arr(vec![Reply::Integer(1)]));
    // After EXEC the watch is gone: the same transaction now commits.
    assert_eq!(a.execute(&["MULTI"]), Reply::ok());
    assert_eq!(a.execute(&["INCR", "n"]), Reply::status("QUEUED"));
    assert_eq!(c.execute(&["SET", "w", "again"]), Reply::ok());
    assert_eq!(a.execute(&["EXEC"]), arr(vec![Reply::Integer(2)]));
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Reply {
    arr(vec![
        Reply::bulk("pmessage"),
        Reply::bulk(pattern),
        Reply::bulk(channel),
        Reply::bulk(payload),
    ])
}

#[test]
fn two_connections_subscribed_to_different_patterns_each_get_only_theirs() {
    let store = Store::new();
    let (mut news, mut sport) = (store.connection(), store.connection());
    assert_eq!(
        news.execute(&["PSUBSCRIBE", "news.*"]),
        arr(vec![
            Reply::bulk("psubscribe"),
            Reply::bulk("news.*"),
            Reply::Integer(1)
        ])
    );
    sport.execute(&["PSUBSCRIBE", "sport.*"]);
    assert_eq!(store.publish("news.world", "a").unwrap(), 1);
    assert_eq!(store.publish("sport.tennis", "b").unwrap(), 1);
    assert_eq!(store.publish("weather", "c").unwrap(), 0);
    let t = Duration::from_secs(5);
    assert_eq!(
        news.receive_push(t),
        Some(pmessage("news.*", "news.world", "a"))
    );
    assert_eq!(
        sport.receive_push(t),
        Some(pmessage("sport.*", "sport.tennis", "b"))
    );
    assert_eq!(news.try_next_push(), None);
    assert_eq!(sport.try_next_push(), None);
}

#[test]
fn a_subscribed_connection_refuses_other_commands_with_redis_text() {
    let store = Store::new();
    let mut c = store.connection();
    // Several channels: the first confirmation is the reply, the rest are pushed after it.
    assert_eq!(
        c.execute(&["SUBSCRIBE", "a", "b"]),
        arr(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("a"),
            Reply::Integer(1)
        ])
    );
    assert_eq!(
        c.try_next_push(),
        Some(arr(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("b"),
            Reply::Integer(2)
        ]))
    );
    assert_eq!(
        c.execute(&["GET", "k"]),
        Reply::Error(
            "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                .into()
        )
    );
    assert_eq!(
        c.execute(&["PING"]),
        arr(vec![Reply::bulk("pong"), Reply::bulk("")])
    );
    // Another connection is not in subscribed mode.
    assert_eq!(store.connection().execute(&["GET", "k"]), Reply::Nil);
    // RESET leaves subscribed mode.
    assert_eq!(c.execute(&["RESET"]), Reply::status("RESET"));
    assert!(!c.is_subscribed());
    assert_eq!(c.execute(&["GET", "k"]), Reply::Nil);
}

#[test]
// The wait is bounded in real time: the connection under test has no clock of its own.
#[allow(clippy::disallowed_methods)]
fn a_blocked_blpop_on_one_connection_does_not_block_another() {
    let store = Store::new();
    let mut waiter = store.connection();
    let mut other = store.connection();
    let start = Instant::now();
    std::thread::scope(|s| {
        let t = s.spawn(move || waiter.execute(&["BLPOP", "q", "5"]));
        // The other connection works while the first one waits.
        while store.blocked_clients() == 0 {
            std::thread::yield_now();
        }
        assert_eq!(other.execute(&["SET", "x", "1"]), Reply::ok());
        assert_eq!(other.execute(&["INCR", "x"]), Reply::Integer(2));
        assert_eq!(other.execute(&["RPUSH", "q", "job"]), Reply::Integer(1));
        assert_eq!(
            t.join().unwrap(),
            arr(vec![Reply::bulk("q"), Reply::bulk("job")])
        );
    });
    assert!(start.elapsed() < Duration::from_secs(4));
}

#[test]
fn execute_async_waits_without_holding_the_executor() {
    let store = Store::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut waiter = store.connection();
        let mut pusher = store.connection();
        let argv = |s: &str| {
            s.split(' ')
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        let (popped, pushed) = tokio::join!(waiter.execute_async(argv("BLPOP q 5")), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            pusher.execute_async(argv("RPUSH q x")).await
        });
        assert_eq!(pushed, Reply::Integer(1));
        assert_eq!(popped, arr(vec![Reply::bulk("q"), Reply::bulk("x")]));
    });
}

#[test]
fn hello_switches_the_protocol_and_shapes_replies() {
    let store = Store::new();
    let mut c = store.connection();
    assert_eq!(c.protocol(), Protocol::Resp2);
    let Reply::Array(hello2) = c.execute(&["HELLO"]) else {
        panic!("HELLO under RESP2 is a flat array");
    };
    assert_eq!(hello2[0], Reply::bulk("server"));
    assert_eq!(hello2[5], Reply::Integer(2));
    let Reply::Map(hello3) = c.execute(&["HELLO", "3", "SETNAME", "shop"]) else {
        panic!("HELLO 3 answers a map");
    };
    assert_eq!(c.protocol(), Protocol::Resp3);
    assert!(hello3.contains(&(Reply::bulk("proto"), Reply::Integer(3))));
    assert!(hello3.contains(&(Reply::bulk("id"), Reply::Integer(c.id() as i64))));
    assert_eq!(c.execute(&["CLIENT", "GETNAME"]), Reply::bulk("shop"));
    assert_eq!(
        c.execute(&["HELLO", "4"]),
        Reply::Error("NOPROTO unsupported protocol version".into())
    );
    // Under RESP3 a subscription's confirmations and messages are pushes.
    assert_eq!(
        c.execute(&["SUBSCRIBE", "ch"]),
        Reply::Push(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("ch"),
            Reply::Integer(1)
        ])
    );
    // RESP3 allows any command while subscribed.
    assert_eq!(c.execute(&["GET", "nothing"]), Reply::Nil);
    store.publish("ch", "hi").unwrap();
    assert_eq!(
        c.receive_push(Duration::from_secs(5)),
        Some(Reply::Push(vec![
            Reply::bulk("message"),
            Reply::bulk("ch"),
            Reply::bulk("hi")
        ]))
    );
}

#[test]
fn client_commands_and_quit() {
    let store = Store::new();
    let (mut a, mut b) = (store.connection(), store.connection());
    assert_ne!(a.id(), b.id());
    assert_eq!(a.execute(&["CLIENT", "ID"]), Reply::Integer(a.id() as i64));
    assert_eq!(a.execute(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(a.execute(&["CLIENT", "SETNAME", "web-1"]), Reply::ok());
    assert_eq!(a.name(), Some(&b"web-1"[..]));
    assert_eq!(b.name(), None);
    assert_eq!(
        a.execute(&["CLIENT", "SETNAME", "has space"]),
        Reply::Error(
            "ERR Client names cannot contain spaces, newlines or special characters.".into()
        )
    );
    assert_eq!(a.execute(&["SELECT", "0"]), Reply::ok());
    assert_eq!(b.execute(&["QUIT"]), Reply::ok());
    assert!(b.is_closing() && !a.is_closing());
}

#[test]
fn a_connection_is_send_and_static() {
    fn check<T: Send + 'static>() {}
    check::<Connection>();
}

fn text(r: Reply) -> String {
    match r {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8(b).unwrap(),
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn client_list_kill_and_unblock() {
    let store = Store::new();
    let (mut a, mut b) = (store.connection(), store.connection());
    a.execute(&["CLIENT", "SETNAME", "alpha"]);
    b.execute(&["MULTI"]);
    let list = text(a.execute(&["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with(&format!("id={} ", a.id())), "{list}");
    assert!(lines[0].contains(" name=alpha ") && lines[0].contains(" cmd=client|list "));
    assert!(
        lines[1].contains(" flags=x ") && lines[1].contains(" multi=0 "),
        "{list}"
    );
    assert_eq!(b.execute(&["EXEC"]), Reply::Array(vec![]));
    let me = text(a.execute(&["CLIENT", "INFO"]));
    assert!(me.starts_with(&format!("id={} ", a.id())) && me.ends_with('\n'));
    // Redis shows the asking client's request still in its query buffer: 26 bytes of RESP.
    assert!(me.contains(" qbuf=26 "), "{me}");
    let my_id = a.id().to_string();
    let listed = text(a.execute(&["CLIENT", "LIST", "ID", &my_id]));
    // `*4`, then `$6 client`, `$4 list`, `$2 id` and the id's digits, each line ended by CRLF.
    let want = format!(" qbuf={} ", 4 + 12 + 10 + 8 + 6 + my_id.len());
    assert!(listed.contains(&want), "{listed}");
    // KILL by id: the other connection is closed; SKIPME keeps the caller alive.
    let id = b.id().to_string();
    assert_eq!(a.execute(&["CLIENT", "KILL", "ID", &id]), Reply::Integer(1));
    assert!(b.is_closing());
    assert!(b.execute(&["PING"]).is_error());
    assert_eq!(
        a.execute(&["CLIENT", "KILL", "ID", &a.id().to_string()]),
        Reply::Integer(0)
    );
    assert_eq!(
        a.execute(&["CLIENT", "KILL", "ID", "abc"]),
        Reply::Error("ERR client-id should be greater than 0".into())
    );
    // Redis's answers to malformed KILLs (checked against redis-server 7.0.15): no filter is
    // an arity error, the old form with any word looks for that address, a filter without its
    // value is a syntax error, but only after the filters before it were read.
    for (argv, reply) in [
        (
            &["CLIENT", "KILL"][..],
            "ERR wrong number of arguments for 'client|kill' command",
        ),
        (&["CLIENT", "KILL", "ID"], "ERR No such client"),
        (
            &["CLIENT", "KILL", "ID", "10", "wrong_arg"],
            "ERR syntax error",
        ),
        (
            &["CLIENT", "KILL", "ID", "10", "SKIPME"],
            "ERR syntax error",
        ),
        (
            &["CLIENT", "KILL", "ID", "0", "SKIPME"],
            "ERR client-id should be greater than 0",
        ),
        (&["CLIENT", "KILL", "SKIPME", "maybe"], "ERR syntax error"),
    ] {
        assert_eq!(a.execute(argv), Reply::Error(reply.into()), "{argv:?}");
    }
    assert_eq!(
        a.execute(&["CLIENT", "UNBLOCK", "999", "FOO"]),
        Reply::Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into())
    );
    // UNBLOCK ends a blocked pop: as a timeout, then with Redis's error.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut waiter = store.connection();
        let wid = waiter.id().to_string();
        let argv = |s: &str| {
            s.split(' ')
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>()
        };
        let (popped, unblocked) = tokio::join!(waiter.execute_async(argv("BLPOP q 0")), async {
            while store.blocked_clients() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            a.execute(&["CLIENT", "UNBLOCK", &wid])
        });
        assert_eq!(unblocked, Reply::Integer(1));
        assert_eq!(popped, Reply::NilArray);
        let (popped, _) = tokio::join!(waiter.execute_async(argv("BLPOP q 0")), async {
            while store.blocked_clients() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            a.execute(&["CLIENT", "UNBLOCK", &wid, "ERROR"])
        });
        assert_eq!(
            popped,
            Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
        );
        assert_eq!(store.blocked_clients(), 0);
    });
    // CLIENT REPLY: OFF and SKIP are not answered; SKIP also drops the next reply.
    a.execute(&["CLIENT", "REPLY", "SKIP"]);
    assert!(a.reply_suppressed());
    a.execute(&["PING"]);
    assert!(a.reply_suppressed());
    a.execute(&["PING"]);
    assert!(!a.reply_suppressed());
    a.execute(&["CLIENT", "REPLY", "OFF"]);
    a.execute(&["PING"]);
    assert!(a.reply_suppressed());
    // Subscription confirmations are pushes, sent whatever CLIENT REPLY says.
    a.execute(&["SUBSCRIBE", "news"]);
    assert!(!a.reply_suppressed());
    a.execute(&["UNSUBSCRIBE"]);
    assert_eq!(a.execute(&["CLIENT", "REPLY", "ON"]), Reply::ok());
    assert!(!a.reply_suppressed());
}

/// A MONITOR line without its timestamp: `[db addr] "cmd" ...`.
fn monitor_body(r: Reply) -> String {
    let Reply::Status(line) = r else {
        panic!("a MONITOR line is a status reply: {r:?}");
    };
    let (ts, body) = line.split_once(' ').expect("timestamp, then the rest");
    let (secs, micros) = ts.split_once('.').expect("secs.micros");
    assert!(secs.parse::<i64>().is_ok() && micros.len() == 6, "{line}");
    body.to_string()
}

#[test]
fn an_embedded_connection_monitors_through_its_push_queue() {
    let store = Store::new();
    let mut mon = store.connection();
    let mut c = store.connection();
    assert_eq!(c.execute(&["SET", "before", "1"]), Reply::ok());
    assert_eq!(mon.execute(&["MONITOR"]), Reply::ok());
    assert!(mon.is_monitor());
    assert_eq!(mon.try_next_push(), None, "only commands after MONITOR");
    c.execute(&["SELECT", "2"]);
    c.execute(&["SET", "k", "a b\n"]);
    c.execute(&["NOSUCH"]);
    c.execute(&["CONFIG", "GET", "port"]);
    c.execute(&["AUTH", "secret"]);
    // An in-process connection has no socket: Redis's `?:0`.
    let lines: Vec<String> = std::iter::from_fn(|| mon.try_next_push())
        .map(monitor_body)
        .collect();
    assert_eq!(
        lines,
        [
            "[2 ?:0] \"SELECT\" \"2\"",
            "[2 ?:0] \"SET\" \"k\" \"a b\\n\"",
        ]
    );
    // The keyspace is refused to a monitor, as Redis refuses it to a replica.
    assert_eq!(
        mon.execute(&["GET", "k"]),
        Reply::Error("ERR Replica can't interact with the keyspace".into())
    );
    // A blocking wait on the feed, on the store's clock.
    c.execute(&["PING"]);
    let line = mon.receive_push(std::time::Duration::from_secs(5));
    assert_eq!(monitor_body(line.expect("a line")), "[2 ?:0] \"PING\"");
    assert_eq!(mon.execute(&["RESET"]), Reply::status("RESET"));
    assert!(!mon.is_monitor());
    c.execute(&["PING"]);
    assert_eq!(mon.try_next_push(), None);
}

#[test]
fn monitor_inside_multi_fails_at_exec_like_redis() {
    let store = Store::new();
    let mut c = store.connection();
    c.execute(&["MULTI"]);
    assert_eq!(c.execute(&["MONITOR"]), Reply::status("QUEUED"));
    assert_eq!(
        c.execute(&["EXEC"]),
        arr(vec![Reply::Error(
            "ERR MONITOR isn't allowed for DENY BLOCKING client".into()
        )])
    );
    assert!(!c.is_monitor());
}
