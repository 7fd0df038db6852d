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
