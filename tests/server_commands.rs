//! CONFIG, INFO, TIME and COMMAND: replies and error texts against a real redis-server 7.0
//! where Redis's answer is deterministic, and the fields clients read where it is not.

mod common;

use common::{same, words, RedisServer};
use sketchstore::{Reply, Store};

fn store() -> Store {
    // Built to accept a memory limit (none yet) so that CONFIG SET maxmemory works, as on a
    // server.
    Store::builder().max_memory(0).build()
}

#[test]
fn config_matches_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = store();
    for line in [
        "CONFIG SET foo 1",
        "CONFIG SET maxmemory abc",
        "CONFIG SET maxmemory 10mb",
        "CONFIG GET maxmemory",
        "CONFIG SET maxmemory-policy bad",
        "CONFIG SET maxmemory-policy allkeys-lru",
        "CONFIG GET maxmemory-policy",
        "CONFIG SET hll-sparse-max-bytes -1",
        "CONFIG SET hll-sparse-max-bytes 1kb",
        "CONFIG GET hll-sparse-max-bytes",
        "CONFIG SET proto-max-bulk-len 10",
        "CONFIG GET proto-max-bulk-len",
        "CONFIG SET maxmemory 0 maxmemory 1",
        "CONFIG SET maxmemory 0",
        "CONFIG GET",
        "CONFIG FOO",
        "CONFIG SET",
        "CONFIG SET maxmemory",
        "CONFIG RESETSTAT",
        "CONFIG GET appendonly",
        "CONFIG GET databases",
        "CONFIG SET databases 4",
        "CONFIG GET io-threads",
        "CONFIG SET io-threads 2",
        "LASTSAVE x",
        "CONFIG SET list-max-listpack-size x",
        "CONFIG GET list-max-ziplist-size",
        "CONFIG GET set-max-intset-entries",
        "CONFIG GET zset-max-ziplist-entries",
        "CONFIG GET hash-max-listpack-value",
        "CONFIG GET nosuchparameter",
        "TIME x",
        "COMMAND FOO",
        "COMMAND GETKEYS",
        "COMMAND GETKEYS set a b",
        "COMMAND GETKEYS mset a 1 b 2",
        "COMMAND GETKEYS ping",
        "COMMAND GETKEYS ping x",
        "COMMAND GETKEYS get a b",
        "COMMAND GETKEYS get",
        "COMMAND GETKEYS nosuch a",
        "COMMAND COUNT x",
        "MEMORY USAGE nokey",
        "MEMORY FOO",
        "MEMORY USAGE",
        "MEMORY USAGE k SAMPLES x",
        "MEMORY USAGE k FOO",
        "MEMORY PURGE",
    ] {
        same(&store, &mut redis, &words(line));
    }
}

#[test]
fn config_set_changes_behaviour() {
    let store = store();
    assert_eq!(store.execute(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(
        store.execute(&["CONFIG", "SET", "maxmemory", "1"]),
        Reply::ok()
    );
    assert_eq!(
        store.execute(&["SET", "other", "v"]),
        Reply::Error("OOM command not allowed when used memory > 'maxmemory'.".into())
    );
    assert_eq!(
        store.execute(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]),
        Reply::ok()
    );
    // Now a write evicts instead of failing.
    assert_eq!(store.execute(&["SET", "other", "v"]), Reply::ok());
    assert_eq!(
        store.execute(&["CONFIG", "SET", "maxmemory", "0"]),
        Reply::ok()
    );
    // A store built without memory accounting says so.
    let plain = Store::new();
    assert!(matches!(
        plain.execute(&["CONFIG", "SET", "maxmemory", "1mb"]),
        Reply::Error(e) if e.contains("without memory accounting")
    ));
}

#[test]
fn info_time_and_command_answer_what_clients_read() {
    let store = store();
    store.execute(&["SET", "a", "1"]);
    store.execute(&["SET", "b", "1", "EX", "100"]);
    let mut conn = store.connection();
    let Reply::Bulk(info) = conn.execute(&["INFO"]) else {
        panic!("INFO is a bulk string under RESP2");
    };
    let info = String::from_utf8(info).unwrap();
    for needle in [
        "# Server\r\n",
        "redis_version:7.0.15\r\n",
        "# Clients\r\n",
        "connected_clients:1\r\n",
        "# Keyspace\r\n",
        "db0:keys=2,expires=1,avg_ttl=0\r\n",
        "maxmemory_policy:noeviction\r\n",
    ] {
        assert!(info.contains(needle), "{needle:?} missing from {info}");
    }
    let Reply::Bulk(only) = conn.execute(&["INFO", "keyspace"]) else {
        panic!("bulk");
    };
    assert_eq!(
        String::from_utf8(only).unwrap(),
        "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n"
    );
    let Reply::Array(t) = conn.execute(&["TIME"]) else {
        panic!("TIME is an array");
    };
    let secs: i64 = String::from_utf8_lossy(match &t[0] {
        Reply::Bulk(b) => b,
        other => panic!("{other:?}"),
    })
    .parse()
    .unwrap();
    assert!(secs > 1_700_000_000, "{secs}");
    let Reply::Integer(usage) = conn.execute(&["MEMORY", "USAGE", "a"]) else {
        panic!("MEMORY USAGE of a key is an integer");
    };
    assert!(usage > 0, "{usage}");
    let Reply::Integer(n) = conn.execute(&["COMMAND", "COUNT"]) else {
        panic!("COUNT is an integer");
    };
    let Reply::Array(list) = conn.execute(&["COMMAND", "LIST"]) else {
        panic!("LIST is an array");
    };
    assert_eq!(n as usize, list.len());
    assert!(list.contains(&Reply::bulk("getset")));
    let Reply::Array(info) = conn.execute(&["COMMAND", "INFO", "get", "nosuch"]) else {
        panic!("INFO is an array");
    };
    assert_eq!(info[1], Reply::NilArray);
    let Reply::Array(get) = &info[0] else {
        panic!("a command's info is an array");
    };
    assert_eq!(&get[..2], &[Reply::bulk("get"), Reply::Integer(2)]);
    // RESP3: INFO is a verbatim string, CONFIG GET a map.
    conn.execute(&["HELLO", "3"]);
    assert!(matches!(
        conn.execute(&["INFO", "server"]),
        Reply::Verbatim("txt", _)
    ));
    assert_eq!(
        conn.execute(&["CONFIG", "GET", "maxmemory"]),
        Reply::Map(vec![(Reply::bulk("maxmemory"), Reply::bulk("0"))])
    );
}

#[test]
fn exec_refuses_a_transaction_that_may_grow_memory_past_the_limit_like_redis() {
    let server = RedisServer::start();
    let (mut r1, mut r2) = (server.conn(), server.conn());
    let store = store();
    let (mut c1, mut c2) = (store.connection(), store.connection());
    let mut both = |first: bool, line: &str| {
        let argv = words(line);
        let (ours, theirs) = if first {
            (c1.execute(&argv), r1.cmd(&argv))
        } else {
            (c2.execute(&argv), r2.cmd(&argv))
        };
        assert_eq!(ours, theirs, "{line}");
        ours
    };
    both(true, "SET y 1");
    both(true, "MULTI");
    both(true, "SET x 1");
    both(true, "GET x");
    both(false, "CONFIG SET maxmemory 1");
    let e = both(true, "EXEC");
    assert!(
        matches!(&e, Reply::Error(t) if t.starts_with("EXECABORT") && t.contains("OOM")),
        "{e:?}"
    );
    // Over the limit Redis queues nothing, reads included: EXEC then aborts.
    both(true, "MULTI");
    both(true, "GET y");
    both(true, "EXEC");
    both(false, "CONFIG SET maxmemory 0");
    both(true, "MULTI");
    both(true, "GET y");
    both(true, "EXEC");
}

/// The parameter names and values of a `CONFIG GET` reply (a map under RESP3, pairs under
/// RESP2).
fn config_pairs(reply: Reply) -> Vec<(Vec<u8>, Vec<u8>)> {
    let bulk = |r: Reply| match r {
        Reply::Bulk(b) => b,
        other => panic!("not a bulk string: {other:?}"),
    };
    match reply {
        Reply::Map(pairs) => pairs.into_iter().map(|(k, v)| (bulk(k), bulk(v))).collect(),
        Reply::Array(items) => {
            let mut it = items.into_iter();
            let mut out = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((bulk(k), bulk(v)));
            }
            out
        }
        other => panic!("not a CONFIG GET reply: {other:?}"),
    }
}

fn config_get(
    store: &Store,
    redis: &mut common::RespConn,
    line: &str,
) -> [Vec<(Vec<u8>, Vec<u8>)>; 2] {
    let argv = words(line);
    let mut ours = config_pairs(store.execute(&argv));
    let mut theirs = config_pairs(redis.cmd(&argv));
    ours.sort();
    theirs.sort();
    [ours, theirs]
}

/// Parameters whose value on the test's redis-server differs from an embedded store's by
/// construction: where the server listens, its directory and process id file.
const SERVER_SPECIFIC: &[&str] = &["port", "bind", "dir"];

#[test]
fn config_get_lists_every_parameter_redis_7_0_15_lists_with_its_default() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = store();
    let [ours, theirs] = config_get(&store, &mut redis, "CONFIG GET *");
    let names = |pairs: &[(Vec<u8>, Vec<u8>)]| -> Vec<String> {
        pairs
            .iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect()
    };
    assert_eq!(names(&ours), names(&theirs), "CONFIG GET * names");
    assert!(theirs.len() > 180, "{} names", theirs.len());
    for ((name, ours), (_, theirs)) in ours.iter().zip(&theirs) {
        let name = String::from_utf8_lossy(name);
        if !SERVER_SPECIFIC.contains(&name.as_ref()) {
            assert_eq!(
                String::from_utf8_lossy(ours),
                String::from_utf8_lossy(theirs),
                "default of {name}"
            );
        }
    }
    // The order is the same from call to call.
    let first = store.execute(&["CONFIG", "GET", "*"]);
    assert_eq!(store.execute(&["CONFIG", "GET", "*"]), first);
    // Hidden parameters: left out of patterns, answered by exact name.
    for hidden in [
        "key-load-delay",
        "rdb-key-save-delay",
        "loading-process-events-interval-bytes",
        "watchdog-period",
        "use-exit-on-panic",
    ] {
        assert!(!names(&ours).iter().any(|n| n == hidden), "{hidden}");
        same(&store, &mut redis, &words(&format!("CONFIG GET {hidden}")));
    }
    // Several patterns, aliases beside names, no duplicates, exact names as typed.
    for line in [
        "CONFIG GET maxmemory maxmemory* bind *of",
        "CONFIG GET *ziplist* *listpack*",
        "CONFIG GET SLAVEOF MAXMEMORY maxmemory",
        "CONFIG GET lua-time-limit busy-reply-threshold",
        "CONFIG GET save",
        "CONFIG GET client-output-buffer-limit",
        "CONFIG GET nosuch* nosuch",
    ] {
        let [ours, theirs] = config_get(&store, &mut redis, line);
        let ours: Vec<_> = ours
            .into_iter()
            .filter(|(k, _)| !SERVER_SPECIFIC.iter().any(|s| k == s.as_bytes()))
            .collect();
        let theirs: Vec<_> = theirs
            .into_iter()
            .filter(|(k, _)| !SERVER_SPECIFIC.iter().any(|s| k == s.as_bytes()))
            .collect();
        assert_eq!(ours, theirs, "{line}");
    }
}

#[test]
fn config_set_refuses_what_redis_refuses_with_its_text() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = store();
    let [all, _] = config_get(&store, &mut redis, "CONFIG GET *");
    let mut compared = 0;
    for (name, _) in &all {
        let name = String::from_utf8_lossy(name).into_owned();
        // TLS files and ports make a real server load certificates; port and bind rebind it.
        if name.starts_with("tls-") || SERVER_SPECIFIC.contains(&name.as_str()) {
            continue;
        }
        for value in ["x", "-1", "99999999999999999999", "101%", "1.5", "", "0 0"] {
            let before = config_get(&store, &mut redis, &format!("CONFIG GET {name}"));
            let argv = vec![
                b"CONFIG".to_vec(),
                b"SET".to_vec(),
                name.clone().into_bytes(),
                value.as_bytes().to_vec(),
            ];
            let reply = same(&store, &mut redis, &argv);
            if reply == Reply::ok() {
                // Both took it: both show the same, then both go back.
                let [ours, theirs] = config_get(&store, &mut redis, &format!("CONFIG GET {name}"));
                assert_eq!(ours, theirs, "{name} after SET {value:?}");
                let old = before[1][0].1.clone();
                let restore = vec![
                    b"CONFIG".to_vec(),
                    b"SET".to_vec(),
                    name.clone().into_bytes(),
                    old,
                ];
                assert_eq!(same(&store, &mut redis, &restore), Reply::ok(), "{name}");
            }
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared} SETs compared");
    for line in [
        "CONFIG SET maxmemory 10000001 maxmemory-clients 200% client-query-buffer-limit invalid",
        "CONFIG SET daemonize yes",
        "CONFIG SET dir /tmp",
        "CONFIG SET dbfilename x.rdb",
        "CONFIG SET slaveof localhost",
        "CONFIG SET maxmemory 1 MAXMEMORY 2",
        "CONFIG SET maxmemory 1 nosuch 2 daemonize yes",
        "CONFIG SET daemonize yes nosuch 2",
        "CONFIG SET maxmemory 1 maxmemory",
        "CONFIG SET save",
        "CONFIG SET oom-score-adj-values 1",
        "CONFIG SET client-output-buffer-limit normal",
    ] {
        same(&store, &mut redis, &words(line));
    }
    // Pairs that all pass apply together; the values are shown as Redis shows them.
    for line in [
        "CONFIG SET maxmemory 10000001 repl-backlog-size 10000002 save 3000_5",
        "CONFIG GET save",
        "CONFIG GET repl-backlog-size",
        "CONFIG SET maxmemory 0 repl-backlog-size 1mb save 0",
    ] {
        let argv: Vec<Vec<u8>> = words(line)
            .into_iter()
            .map(|w| String::from_utf8_lossy(&w).replace('_', " ").into_bytes())
            .collect();
        same(&store, &mut redis, &argv);
    }
}

#[test]
fn config_set_of_listen_addresses_accepts_only_the_current_ones() {
    let store = store();
    let port = config_pairs(store.execute(&["CONFIG", "GET", "port"]));
    // An embedded store shows Redis's default port; the server shows the one it listens on.
    assert_eq!(port[0].1, b"6379");
    assert_eq!(
        store.execute(&["CONFIG", "SET", "port", "6379"]),
        Reply::ok()
    );
    assert_eq!(
        store.execute(&["CONFIG", "SET", "port", "6380"]),
        Reply::Error(
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
                .into()
        )
    );
    // Nothing of a refused SET applies.
    assert_eq!(
        store.execute(&["CONFIG", "SET", "slowlog-max-len", "7", "port", "1"]),
        Reply::Error(
            "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."
                .into()
        )
    );
    assert_eq!(
        config_pairs(store.execute(&["CONFIG", "GET", "slowlog-max-len"]))[0].1,
        b"128"
    );
}
