//! Numbered databases: SELECT, MOVE, SWAPDB, FLUSHDB/FLUSHALL, COPY ... DB, per-database
//! DBSIZE/KEYS/INFO keyspace, WATCH and blocked pops per database, snapshots of several
//! databases; typed API, connections, and a seeded parity stream against a real
//! redis-server 7.0.

mod common;

use common::{words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Connection, ManualClock, Reply, Store, Ttl};
use std::time::Duration;

fn run(conn: &mut Connection, line: &str) -> Reply {
    conn.execute(&words(line))
}

/// Sorts the elements of an array reply (KEYS, SMEMBERS), whose order Redis leaves open.
fn sorted(r: Reply) -> Reply {
    match r {
        Reply::Array(mut v) => {
            v.sort_by_key(|x| format!("{x:?}"));
            Reply::Array(v)
        }
        other => other,
    }
}

#[test]
fn typed_handles_act_on_their_database() {
    let store = Store::new();
    assert_eq!(store.databases(), 16);
    assert_eq!(store.db_index(), 0);
    let one = store.select(1).unwrap();
    let two = store.select(2).unwrap();
    assert_eq!(one.db_index(), 1);
    assert_eq!(
        store.select(16).unwrap_err().to_string(),
        "ERR DB index is out of range"
    );

    store.set("k", "zero").unwrap();
    one.set("k", "one").unwrap();
    assert_eq!(store.get("k").unwrap(), Some(b"zero".to_vec()));
    assert_eq!(one.get("k").unwrap(), Some(b"one".to_vec()));
    assert_eq!(two.get("k").unwrap(), None);
    assert_eq!(store.dbsize().unwrap(), 1);
    assert_eq!(one.dbsize().unwrap(), 1);
    assert_eq!(two.dbsize().unwrap(), 0);

    // MOVE: missing in the source or present in the target moves nothing.
    assert!(!store.move_key("k", 1).unwrap());
    assert!(!store.move_key("nokey", 2).unwrap());
    store.expire("k", Duration::from_secs(100)).unwrap();
    assert!(store.move_key("k", 2).unwrap());
    assert_eq!(store.get("k").unwrap(), None);
    assert_eq!(two.get("k").unwrap(), Some(b"zero".to_vec()));
    assert!(matches!(two.ttl("k").unwrap(), Ttl::Expires(d) if d > Duration::from_secs(90)));
    assert_eq!(
        store.move_key("k", 0).unwrap_err().to_string(),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        store.move_key("k", 16).unwrap_err().to_string(),
        "ERR DB index is out of range"
    );

    // SWAPDB exchanges whole databases; handles keep their numbers.
    one.rpush("l", &["a", "b"]).unwrap();
    store.swapdb(1, 2).unwrap();
    assert_eq!(one.get("k").unwrap(), Some(b"zero".to_vec()));
    assert_eq!(two.get("k").unwrap(), Some(b"one".to_vec()));
    assert_eq!(two.llen("l").unwrap(), 2);
    assert_eq!(one.llen("l").unwrap(), 0);
    store.swapdb(3, 3).unwrap();
    assert!(store.swapdb(0, 16).is_err());

    // COPY ... DB.
    assert!(two.copy_to_db("l", "l2", 5, false).unwrap());
    let five = store.select(5).unwrap();
    assert_eq!(
        five.lrange("l2", 0, -1).unwrap(),
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    assert!(!two.copy_to_db("l", "l2", 5, false).unwrap());
    assert!(two.copy_to_db("k", "l2", 5, true).unwrap());
    assert_eq!(five.get("l2").unwrap(), Some(b"one".to_vec()));
    assert!(two.copy_to_db("k", "k", 4, false).unwrap());

    let info = store.keyspace_info();
    assert_eq!(info.len(), 16);
    assert_eq!((info[1].keys, info[1].expires), (1, 1));
    assert_eq!(info[2].keys, 2);
    assert_eq!(info[0].keys, 0);

    // FLUSHDB empties one database, FLUSHALL all of them.
    two.flushdb().unwrap();
    assert_eq!(two.dbsize().unwrap(), 0);
    assert_eq!(one.dbsize().unwrap(), 1);
    store.flushall().unwrap();
    assert!(store.keyspace_info().iter().all(|i| i.keys == 0));
}

#[test]
fn the_number_of_databases_is_configurable() {
    let store = Store::builder().databases(3).build();
    assert_eq!(store.databases(), 3);
    assert!(store.select(2).is_ok());
    assert!(store.select(3).is_err());
    let mut c = store.connection();
    assert_eq!(
        run(&mut c, "SELECT 3"),
        Reply::Error("ERR DB index is out of range".into())
    );
    assert_eq!(
        run(&mut c, "CONFIG GET databases"),
        Reply::Array(vec![Reply::bulk("databases"), Reply::bulk("3")])
    );
}

#[test]
fn connections_select_and_reset() {
    let store = Store::new();
    let mut c = store.connection();
    assert_eq!(run(&mut c, "SELECT 9"), Reply::ok());
    assert_eq!(c.db_index(), 9);
    assert_eq!(run(&mut c, "SET k nine"), Reply::ok());
    assert_eq!(store.get("k").unwrap(), None);
    assert_eq!(
        store.select(9).unwrap().get("k").unwrap(),
        Some(b"nine".to_vec())
    );
    let (Reply::Bulk(line) | Reply::Verbatim(_, line)) = run(&mut c, "CLIENT INFO") else {
        panic!("CLIENT INFO is text");
    };
    assert!(String::from_utf8_lossy(&line).contains(" db=9 "));
    // HELLO keeps the database; RESET goes back to 0.
    assert!(matches!(run(&mut c, "HELLO 2"), Reply::Array(_)));
    assert_eq!(c.db_index(), 9);
    assert_eq!(run(&mut c, "RESET"), Reply::status("RESET"));
    assert_eq!(c.db_index(), 0);
    assert_eq!(run(&mut c, "GET k"), Reply::Nil);

    // A SELECT inside MULTI applies to the commands queued after it, and stays.
    assert_eq!(run(&mut c, "MULTI"), Reply::ok());
    run(&mut c, "SET a 0");
    run(&mut c, "SELECT 4");
    run(&mut c, "SET a 4");
    run(&mut c, "SELECT 99");
    run(&mut c, "DBSIZE");
    assert_eq!(
        run(&mut c, "EXEC"),
        Reply::Array(vec![
            Reply::ok(),
            Reply::ok(),
            Reply::ok(),
            Reply::Error("ERR DB index is out of range".into()),
            Reply::Integer(1),
        ])
    );
    assert_eq!(c.db_index(), 4);
    assert_eq!(store.get("a").unwrap(), Some(b"0".to_vec()));
    assert_eq!(
        store.select(4).unwrap().get("a").unwrap(),
        Some(b"4".to_vec())
    );
}

#[test]
fn a_push_wakes_only_waiters_of_its_database_and_swapdb_serves_them() {
    let store = Store::new();
    let waiter = {
        let store = store.clone();
        std::thread::spawn(move || store.blpop(&["q"], Duration::from_secs(10)))
    };
    while store.blocked_clients() == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let one = store.select(1).unwrap();
    one.rpush("q", &["from-one"]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        store.blocked_clients(),
        1,
        "a push in db 1 woke a waiter of db 0"
    );
    assert_eq!(one.llen("q").unwrap(), 1);
    store.swapdb(0, 1).unwrap();
    let got = waiter.join().unwrap().unwrap();
    assert_eq!(got, Some((b"q".to_vec(), b"from-one".to_vec())));
    assert_eq!(store.llen("q").unwrap(), 0);
    assert_eq!(one.llen("q").unwrap(), 0);

    // MOVE to a database with a waiter serves it too.
    let waiter = {
        let one = one.clone();
        std::thread::spawn(move || one.blpop(&["m"], Duration::from_secs(10)))
    };
    while store.blocked_clients() == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    store.rpush("m", &["moved"]).unwrap();
    assert!(store.move_key("m", 1).unwrap());
    let got = waiter.join().unwrap().unwrap();
    assert_eq!(got, Some((b"m".to_vec(), b"moved".to_vec())));
}

/// Runs the same WATCH scenario on our connections and on Redis's, comparing every reply.
fn watch_scenario(script: &[(usize, &str)]) {
    let server = RedisServer::start();
    let mut theirs = [server.conn(), server.conn()];
    let store = Store::new();
    let mut ours = [store.connection(), store.connection()];
    theirs[0].cmd(&words("FLUSHALL"));
    for (who, line) in script {
        let a = ours[*who].execute(&words(line));
        let b = theirs[*who].cmd(&words(line));
        assert_eq!(a, b, "client {who}: {line}");
    }
}

#[test]
fn swapdb_and_flushall_invalidate_watches_as_redis_does() {
    // A watched key that exists only in the other database.
    watch_scenario(&[
        (1, "SELECT 1"),
        (1, "SET k v"),
        (0, "WATCH k"),
        (1, "SWAPDB 0 1"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ]);
    // Neither database holds it: the watch survives.
    watch_scenario(&[
        (1, "SELECT 1"),
        (1, "SET other v"),
        (0, "WATCH k"),
        (1, "SWAPDB 0 1"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ]);
    // FLUSHALL flags existing watched keys only.
    watch_scenario(&[
        (0, "SET k v"),
        (0, "WATCH k"),
        (1, "FLUSHALL"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "WATCH missing"),
        (1, "FLUSHALL"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ]);
    // A watch belongs to its database: writing the same name elsewhere does not flag it;
    // MOVE flags both sides.
    watch_scenario(&[
        (0, "SELECT 2"),
        (0, "WATCH k"),
        (0, "SELECT 0"),
        (1, "SET k v"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "SELECT 2"),
        (0, "WATCH k"),
        (1, "MOVE k 2"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
        (0, "SELECT 3"),
        (0, "FLUSHDB"),
        (1, "SELECT 3"),
        (1, "SET w 1"),
        (0, "WATCH w"),
        (1, "FLUSHDB"),
        (0, "MULTI"),
        (0, "PING"),
        (0, "EXEC"),
    ]);
}

#[test]
fn errors_and_replies_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut ours = store.connection();
    redis.cmd(&words("FLUSHALL"));
    for line in [
        "SELECT 15",
        "SELECT 16",
        "SELECT -1",
        "SELECT abc",
        "SELECT 1.5",
        "SELECT 99999999999",
        "SELECT",
        "SELECT 1 2",
        "SELECT 0",
        "SET k v",
        "MOVE k 0",
        "MOVE k 16",
        "MOVE k -1",
        "MOVE k abc",
        "MOVE k 99999999999",
        "MOVE nokey 1",
        "MOVE k 1",
        "MOVE k 1",
        "SET k v2",
        "MOVE k 1",
        "SWAPDB 0 1",
        "GET k",
        "SWAPDB 0 16",
        "SWAPDB 16 0",
        "SWAPDB x 0",
        "SWAPDB 0 x",
        "SWAPDB 99999999999 0",
        "SWAPDB -1 0",
        "SWAPDB 2 2",
        "SWAPDB 0",
        "COPY k k",
        "COPY k k DB 0",
        "COPY k k DB 1",
        "COPY k k DB 1",
        "COPY k k DB 1 REPLACE",
        "COPY k k DB 16 FOO",
        "COPY k k FOO DB 16",
        "COPY k k DB -1",
        "FLUSHDB ASYNC",
        "FLUSHDB SYNC",
        "FLUSHDB FOO",
        "FLUSHALL FOO",
        "SELECT 1",
        "DBSIZE",
        "FLUSHALL SYNC",
        "DBSIZE",
        "MOVE",
        "SWAPDB 1 2 3",
    ] {
        let argv = words(line);
        assert_eq!(ours.execute(&argv), redis.cmd(&argv), "{line}");
    }
}

/// One random command of the parity stream, over four databases and a few keys.
fn random_command(rng: &mut ChaCha8Rng) -> String {
    let keys = ["a", "b", "c", "{t}x", "l"];
    let k = keys[rng.gen_range(0..keys.len())];
    let k2 = keys[rng.gen_range(0..keys.len())];
    let db = rng.gen_range(0..4);
    let db2 = rng.gen_range(0..4);
    match rng.gen_range(0..24) {
        0 | 1 => format!("SELECT {db}"),
        2 | 3 => format!("SET {k} v{}", rng.gen_range(0..100)),
        4 => format!("GET {k}"),
        5 => format!("RPUSH l e{}", rng.gen_range(0..10)),
        6 => "LRANGE l 0 -1".into(),
        7 | 8 => format!("MOVE {k} {db}"),
        9 => format!("SWAPDB {db} {db2}"),
        10 => "DBSIZE".into(),
        11 => "KEYS *".into(),
        12 => format!("COPY {k} {k2} DB {db}"),
        13 => format!("COPY {k} {k2} DB {db} REPLACE"),
        14 => format!("COPY {k} {k2}"),
        15 => format!("EXPIRE {k} 1000"),
        16 => format!("PERSIST {k}"),
        17 => format!("DEL {k}"),
        18 => format!("EXISTS {k} {k2}"),
        19 => {
            if rng.gen_range(0..6) == 0 {
                "FLUSHDB".into()
            } else {
                format!("TYPE {k}")
            }
        }
        20 => format!("SADD {k} m{}", rng.gen_range(0..5)),
        21 => format!("RENAME {k} {k2}"),
        22 => format!("INCR {k}"),
        _ => format!("MOVE {k} {}", rng.gen_range(-1..20)),
    }
}

#[test]
fn a_seeded_stream_across_databases_matches_redis() {
    let server = RedisServer::start();
    let mut redis: RespConn = server.conn();
    let store = Store::new();
    let mut ours = store.connection();
    redis.cmd(&words("FLUSHALL"));
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut in_multi = false;
    for step in 0..3000 {
        let line = if rng.gen_range(0..60) == 0 {
            in_multi = !in_multi;
            if in_multi { "MULTI" } else { "EXEC" }.to_string()
        } else {
            random_command(&mut rng)
        };
        let argv = words(&line);
        let (a, b) = if line == "KEYS *" {
            (sorted(ours.execute(&argv)), sorted(redis.cmd(&argv)))
        } else if line == "EXEC" {
            let sort_keys = |r: Reply| match r {
                Reply::Array(v) => Reply::Array(v.into_iter().map(sorted).collect()),
                o => o,
            };
            (sort_keys(ours.execute(&argv)), sort_keys(redis.cmd(&argv)))
        } else {
            (ours.execute(&argv), redis.cmd(&argv))
        };
        assert_eq!(a, b, "step {step}: {line}");
    }
    if in_multi {
        ours.execute(&words("EXEC"));
        redis.cmd(&words("EXEC"));
    }
    // Every database ends with the same keys and values.
    for db in 0..4 {
        let sel = words(&format!("SELECT {db}"));
        assert_eq!(ours.execute(&sel), redis.cmd(&sel));
        let keys = words("KEYS *");
        assert_eq!(
            sorted(ours.execute(&keys)),
            sorted(redis.cmd(&keys)),
            "db {db}"
        );
    }
    // INFO keyspace lists the same databases (avg_ttl aside).
    let info = |r: Reply| -> Vec<String> {
        let text = match r {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("INFO answered {other:?}"),
        };
        text.lines()
            .filter(|l| l.starts_with("db"))
            .map(|l| l.split(",avg_ttl").next().unwrap_or(l).to_owned())
            .collect()
    };
    let argv = words("INFO keyspace");
    assert_eq!(info(ours.execute(&argv)), info(redis.cmd(&argv)));
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sketchstore-multidb-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("dump.sks")
}

#[test]
fn snapshots_keep_every_database() {
    let clock = ManualClock::new(1_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    store.set("k", "zero").unwrap();
    let three = store.select(3).unwrap();
    three.set("k", "three").unwrap();
    three.expire("k", Duration::from_secs(50)).unwrap();
    three.rpush("l", &["x"]).unwrap();
    let last = store.select(15).unwrap();
    last.set("gone", "soon").unwrap();
    last.expire("gone", Duration::from_secs(5)).unwrap();
    let path = temp_path("round-trip");
    assert_eq!(store.save(&path).unwrap(), 4);

    clock.advance(Duration::from_secs(10));
    let back = Store::builder().clock(clock.clock()).open(&path).unwrap();
    assert_eq!(back.get("k").unwrap(), Some(b"zero".to_vec()));
    let b3 = back.select(3).unwrap();
    assert_eq!(b3.get("k").unwrap(), Some(b"three".to_vec()));
    assert_eq!(b3.ttl("k").unwrap(), Ttl::Expires(Duration::from_secs(40)));
    assert_eq!(b3.llen("l").unwrap(), 1);
    assert_eq!(back.select(15).unwrap().dbsize().unwrap(), 0);
    assert_eq!(back.dbsize().unwrap(), 1);

    // A store with fewer databases refuses the file, saying why.
    let err = Store::builder()
        .clock(clock.clock())
        .databases(2)
        .open(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("database 3") && err.contains("2 databases"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn a_database_zero_store_writes_the_single_database_format() {
    // Hand-built: the worked example of the format, `SET k v` and nothing else.
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"SKSNAP\r\n");
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&0i64.to_le_bytes());
    bytes.extend_from_slice(&[1, 0, 1, b'k', 1, b'v']);
    bytes.extend_from_slice(&[0xFF, 1]);
    let sum = xxhash_rust::xxh3::xxh3_64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    let path = temp_path("old-format");
    std::fs::write(&path, &bytes).unwrap();
    let back = Store::open(&path).unwrap();
    assert_eq!(back.get("k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(back.select(1).unwrap().dbsize().unwrap(), 0);

    // A store that only uses database 0 writes those very bytes (the saved time aside).
    let store = Store::new();
    store.set("k", "v").unwrap();
    store.save(&path).unwrap();
    let ours = std::fs::read(&path).unwrap();
    assert_eq!(ours.len(), bytes.len());
    assert_eq!(ours[24..ours.len() - 8], bytes[24..bytes.len() - 8]);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn eviction_and_expiry_cover_every_database() {
    let limit = 64 * 1024;
    let store = Store::builder()
        .max_memory(limit)
        .eviction_policy(sketchstore::EvictionPolicy::AllKeysLru)
        .build();
    let value = "v".repeat(100);
    let three = store.select(3).unwrap();
    for i in 0..2000 {
        assert_eq!(
            three.execute(&["SET", &format!("k{i}"), &value]),
            Reply::ok()
        );
        assert!(store.used_memory() <= limit);
    }
    let in_three = three.dbsize().unwrap();
    assert!(
        in_three < 2000 && in_three > 100,
        "{in_three} keys left in db 3"
    );
    // After SWAPDB the keys live in db 7; writes to db 0 evict them.
    store.swapdb(3, 7).unwrap();
    let seven = store.select(7).unwrap();
    assert_eq!(seven.dbsize().unwrap(), in_three);
    for i in 0..2000 {
        assert_eq!(
            store.execute(&["SET", &format!("z{i}"), &value]),
            Reply::ok()
        );
        assert!(store.used_memory() <= limit);
    }
    assert!(
        seven.dbsize().unwrap() < in_three / 4,
        "db 7 kept {}",
        seven.dbsize().unwrap()
    );

    // The active expiry sweep reclaims keys of every database.
    let clock = ManualClock::new(1_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    for db in [0, 5, 15] {
        let s = store.select(db).unwrap();
        for i in 0..10 {
            s.set(format!("t{i}"), "x").unwrap();
            s.expire(format!("t{i}"), Duration::from_secs(1)).unwrap();
        }
    }
    assert_eq!(store.stored_keys(), 30);
    clock.advance(Duration::from_secs(2));
    assert_eq!(store.sweep_expired(100), 30);
    assert_eq!(store.stored_keys(), 0);
}

#[test]
fn concurrent_moves_swaps_and_writes_do_not_deadlock() {
    let store = Store::builder().databases(4).shards(8).build();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut rng = ChaCha8Rng::seed_from_u64(t);
                let mut conn = store.connection();
                for _ in 0..3000 {
                    let k = format!("k{}", rng.gen_range(0..20));
                    let db = rng.gen_range(0..4);
                    let line = match rng.gen_range(0..8) {
                        0 => format!("SELECT {db}"),
                        1 => format!("MOVE {k} {db}"),
                        2 => format!("SWAPDB {db} {}", rng.gen_range(0..4)),
                        3 => format!("COPY {k} x{k} DB {db} REPLACE"),
                        4 => format!("RPUSH {k} e"),
                        5 => format!("MSET {k} 1 a{k} 2"),
                        6 => format!("RENAME {k} r{k}"),
                        _ => "DBSIZE".to_string(),
                    };
                    conn.execute(&words(&line));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let total: usize = store.keyspace_info().iter().map(|i| i.keys).sum();
    assert_eq!(total, store.stored_keys());
}
