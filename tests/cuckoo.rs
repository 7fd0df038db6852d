//! Cuckoo filters (`CF.*`): argv -> exact reply tables (errors included) through
//! `Store::execute`, RESP3 shapes through a `Connection`, the typed methods, the key's life
//! under generic commands, WATCH, the memory limit and snapshots.

mod common;

use sketchstore::types::cuckoo::HEADER_LEN;
use sketchstore::{
    Backend, CfInsertOptions, CfReserveOptions, Connection, Error, InsertOutcome, KeyType,
    ManualClock, Reply, Store,
};
use std::time::Duration;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn int(n: i64) -> Reply {
    Reply::Integer(n)
}
fn nil() -> Reply {
    Reply::Nil
}
fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}
fn err(s: &str) -> Reply {
    Reply::Error(s.to_owned())
}
fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}
fn status(s: &str) -> Reply {
    Reply::status(s)
}

/// Replies recorded from redis-server 7.0.15 with RedisBloom 2.8.2, run in order on one store.
#[test]
fn reply_table() {
    let rows: Vec<(&[&str], Reply)> = vec![
        (&["CF.RESERVE", "c", "10"], status("OK")),
        (&["CF.RESERVE", "c", "10"], err("ERR item exists")),
        (
            &["CF.RESERVE", "c", "3"],
            err("Capacity must be at least (BucketSize * 2)"),
        ),
        (
            &["CF.RESERVE", "c", "10", "BUCKETSIZE", "0"],
            err("BUCKETSIZE: value must be an integer between 1 and 255, inclusive."),
        ),
        (
            &["CF.RESERVE", "c", "10", "MAXITERATIONS", "70000"],
            err("MAXITERATIONS: value must be an integer between 1 and 65535, inclusive."),
        ),
        (
            &["CF.RESERVE", "c", "10", "EXPANSION", "40000"],
            err("EXPANSION: value must be an integer between 0 and 32768, inclusive."),
        ),
        (
            &["CF.RESERVE", "c", "10", "BUCKETSIZE"],
            err("ERR wrong number of arguments for 'cf.reserve' command"),
        ),
        (&["CF.RESERVE", "c", "x"], err("Bad capacity")),
        (&["CF.ADD", "c", "a"], int(1)),
        (&["CF.ADD", "c", "a"], int(1)),
        (&["CF.ADDNX", "c", "a"], int(0)),
        (&["CF.ADDNX", "c", "b"], int(1)),
        (&["CF.COUNT", "c", "a"], int(2)),
        (&["CF.EXISTS", "c", "a"], int(1)),
        (&["CF.EXISTS", "c", "zz"], int(0)),
        (
            &["CF.MEXISTS", "c", "a", "b", "zz"],
            arr(vec![int(1), int(1), int(0)]),
        ),
        (&["CF.DEL", "c", "a"], int(1)),
        (&["CF.DEL", "c", "zz"], int(0)),
        (&["CF.COUNT", "c", "a"], int(1)),
        (
            &["CF.INFO", "c"],
            arr(vec![
                status("Size"),
                int(72),
                status("Number of buckets"),
                int(8),
                status("Number of filters"),
                int(1),
                status("Number of items inserted"),
                int(2),
                status("Number of items deleted"),
                int(1),
                status("Bucket size"),
                int(2),
                status("Expansion rate"),
                int(1),
                status("Max iterations"),
                int(20),
            ]),
        ),
        (
            &["CF.DEBUG", "c"],
            bulk("bktsize:2 buckets:8 items:2 deletes:1 filters:1 max_iterations:20 expansion:1"),
        ),
        (&["CF.SCANDUMP", "c", "17"], arr(vec![int(0), nil()])),
        (&["CF.SCANDUMP", "c", "-1"], err("Invalid position")),
        (
            &["CF.INSERT", "c", "ITEMS", "x", "y"],
            arr(vec![int(1), int(1)]),
        ),
        (
            &["CF.INSERTNX", "c", "ITEMS", "x", "q"],
            arr(vec![int(0), int(1)]),
        ),
        (
            &["CF.INSERT", "c", "NOCREATE"],
            err("ERR wrong number of arguments for 'cf.insert' command"),
        ),
        (
            &["CF.INSERT", "c", "FOO", "ITEMS", "x"],
            err("Unknown argument received"),
        ),
        (
            &["CF.INSERT", "c", "CAPACITY", "2", "ITEMS", "x"],
            err("Capacity must be at least (BucketSize * 2)"),
        ),
        (
            &["CF.INSERT", "nf", "NOCREATE", "ITEMS", "x"],
            err("ERR not found"),
        ),
        (&["CF.DEL", "nf", "x"], err("Not found")),
        (&["CF.COMPACT", "nf"], err("Cuckoo filter was not found")),
        (&["CF.COMPACT", "c"], status("OK")),
        (&["CF.INFO", "nf"], err("ERR not found")),
        (&["CF.EXISTS", "nf", "x"], int(0)),
        (&["CF.COUNT", "nf", "x"], int(0)),
        (&["CF.LOADCHUNK", "c", "1", "x"], err("ERR item exists")),
        (&["CF.LOADCHUNK", "nf", "1", "x"], err("Invalid header")),
        (&["CF.LOADCHUNK", "nf", "0", "x"], err("Invalid position")),
        (&["CF.LOADCHUNK", "nf", "2", "x"], err("ERR not found")),
        (
            &["CF.LOADCHUNK", "c", "99", "x"],
            err("Couldn't load chunk!"),
        ),
        (&["SET", "s", "v"], status("OK")),
        (&["CF.ADD", "s", "x"], err(WRONGTYPE)),
        (&["CF.EXISTS", "s", "x"], int(0)),
        (&["CF.DEL", "s", "x"], err("Not found")),
        (&["CF.INFO", "s"], err(WRONGTYPE)),
        (
            &[
                "CF.RESERVE",
                "full",
                "2",
                "BUCKETSIZE",
                "1",
                "EXPANSION",
                "0",
            ],
            status("OK"),
        ),
        (&["CF.ADD", "full", "a"], int(1)),
        (&["CF.ADD", "full", "b"], err("Filter is full")),
        (&["CF.ADD", "full", "c"], int(1)),
        (
            &["CF.INSERT", "full", "ITEMS", "d", "e"],
            arr(vec![int(-1), int(-1)]),
        ),
        (
            &["CF.INSERTNX", "full", "ITEMS", "a", "f"],
            arr(vec![int(0), int(-1)]),
        ),
        (&["TYPE", "c"], status("MBbloomCF")),
    ];
    let store = Store::new();
    for (i, (argv, want)) in rows.iter().enumerate() {
        assert_eq!(&store.execute(argv), want, "row {i}: {}", argv.join(" "));
    }
}

/// RedisBloom reads past its argument array for an option word that is the last argument
/// (and may crash); the store answers that option's parse error.
#[test]
fn reserve_option_without_value() {
    let store = Store::new();
    for (line, want) in [
        (
            "CF.RESERVE k 10 x MAXITERATIONS",
            "Couldn't parse MAXITERATIONS",
        ),
        ("CF.RESERVE k 10 x BUCKETSIZE", "Couldn't parse BUCKETSIZE"),
        ("CF.RESERVE k 10 x EXPANSION", "Couldn't parse EXPANSION"),
    ] {
        let argv: Vec<&str> = line.split(' ').collect();
        assert_eq!(store.execute(&argv), err(want), "{line}");
    }
    assert_eq!(store.key_type("k").unwrap(), KeyType::None);
}

#[test]
fn resp3_shapes() {
    let store = Store::new();
    let mut conn: Connection = store.connection();
    conn.execute(&["HELLO", "3"]);
    let run = |conn: &mut Connection, line: &str| {
        let argv: Vec<&str> = line.split(' ').collect();
        conn.execute(&argv)
    };
    assert_eq!(run(&mut conn, "CF.ADD c a"), Reply::Bool(true));
    assert_eq!(run(&mut conn, "CF.ADDNX c a"), Reply::Bool(false));
    assert_eq!(run(&mut conn, "CF.EXISTS c a"), Reply::Bool(true));
    assert_eq!(run(&mut conn, "CF.EXISTS nope a"), Reply::Bool(false));
    assert_eq!(
        run(&mut conn, "CF.MEXISTS c a zz"),
        arr(vec![Reply::Bool(true), Reply::Bool(false)])
    );
    assert_eq!(run(&mut conn, "CF.COUNT c a"), int(1));
    assert_eq!(
        run(&mut conn, "CF.INSERT c ITEMS a"),
        arr(vec![Reply::Bool(true)])
    );
    assert_eq!(
        run(&mut conn, "CF.INSERTNX c ITEMS a b"),
        arr(vec![int(0), int(1)])
    );
    assert_eq!(run(&mut conn, "CF.DEL c a"), Reply::Bool(true));
    match run(&mut conn, "CF.INFO c") {
        Reply::Map(pairs) => {
            assert_eq!(pairs.len(), 8);
            assert_eq!(pairs[0], (status("Size"), int(1080)));
            assert_eq!(pairs[3], (status("Number of items inserted"), int(2)));
        }
        other => panic!("CF.INFO in RESP3: {other:?}"),
    }
    assert_eq!(
        run(&mut conn, "CF.SCANDUMP nope-empty 0"),
        err("ERR not found")
    );
    run(&mut conn, "CF.RESERVE e 10");
    assert_eq!(run(&mut conn, "CF.SCANDUMP e 0"), arr(vec![int(0), nil()]));
}

#[test]
fn typed_methods() {
    let store = Store::new();
    let opts = CfReserveOptions {
        bucket_size: 4,
        max_iterations: 50,
        expansion: 2,
    };
    store.cf_reserve("c", 64, opts).unwrap();
    let e = store.cf_reserve("c", 64, opts).unwrap_err();
    assert_eq!(e.to_string(), "ERR item exists");
    let e = store
        .cf_reserve(
            "d",
            7,
            CfReserveOptions {
                bucket_size: 4,
                ..opts
            },
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "Capacity must be at least (BucketSize * 2)");
    let e = store
        .cf_reserve(
            "d",
            10,
            CfReserveOptions {
                max_iterations: 0,
                ..opts
            },
        )
        .unwrap_err();
    assert!(e.to_string().starts_with("MAXITERATIONS:"), "{e}");
    let e = store.cf_reserve("d", u64::MAX, opts).unwrap_err();
    assert_eq!(e.to_string(), "Bad capacity");

    assert!(store.cf_add("c", "a").unwrap());
    assert!(store.cf_add("c", "a").unwrap());
    assert!(!store.cf_addnx("c", "a").unwrap());
    assert_eq!(store.cf_count("c", "a").unwrap(), 2);
    assert!(store.cf_exists("c", "a").unwrap());
    assert_eq!(
        store.cf_mexists("c", &["a", "zz"]).unwrap(),
        vec![true, false]
    );
    assert!(store.cf_del("c", "a").unwrap());
    assert_eq!(store.cf_count("c", "a").unwrap(), 1);
    assert_eq!(
        store
            .cf_insert("c", CfInsertOptions::default(), &["x", "y"])
            .unwrap(),
        vec![InsertOutcome::Inserted; 2]
    );
    assert_eq!(
        store
            .cf_insertnx("c", CfInsertOptions::default(), &["x", "q"])
            .unwrap(),
        vec![InsertOutcome::Exists, InsertOutcome::Inserted]
    );
    let info = store.cf_info("c").unwrap();
    assert_eq!(
        (
            info.num_buckets,
            info.bucket_size,
            info.num_items,
            info.num_deletes
        ),
        (16, 4, 4, 1)
    );
    assert_eq!((info.expansion, info.max_iterations), (2, 50));

    // NOCREATE, the capacity check, and the created filter's shape.
    let nocreate = CfInsertOptions {
        nocreate: true,
        ..CfInsertOptions::default()
    };
    let e = store.cf_insert("n", nocreate, &["x"]).unwrap_err();
    assert_eq!(e.to_string(), "ERR not found");
    let small = CfInsertOptions {
        capacity: 3,
        nocreate: false,
    };
    let e = store.cf_insert("n", small, &["x"]).unwrap_err();
    assert_eq!(e.to_string(), "Capacity must be at least (BucketSize * 2)");
    let e = store.cf_insert::<&str>("n", small, &[]).unwrap_err();
    assert!(matches!(e, Error::WrongArity(_)), "{e:?}");
    let made = CfInsertOptions {
        capacity: 100,
        nocreate: false,
    };
    store.cf_insert("n", made, &["x"]).unwrap();
    assert_eq!(store.cf_info("n").unwrap().num_buckets, 64);

    // A filter that may not grow: CF.ADD fails, CF.INSERT reports no space per item.
    let fixed = CfReserveOptions {
        bucket_size: 1,
        max_iterations: 3,
        expansion: 0,
    };
    store.cf_reserve("f", 2, fixed).unwrap();
    let mut full = None;
    for i in 0..20 {
        if let Err(e) = store.cf_add("f", format!("i{i}")) {
            full = Some(e.to_string());
            break;
        }
    }
    assert_eq!(full.as_deref(), Some("Filter is full"));
    let outs = store
        .cf_insert("f", CfInsertOptions::default(), &["p", "q", "r", "s"])
        .unwrap();
    assert!(outs.contains(&InsertOutcome::NoSpace), "{outs:?}");

    store.cf_compact("c").unwrap();
    assert_eq!(
        store.cf_compact("zz").unwrap_err().to_string(),
        "Cuckoo filter was not found"
    );
    assert_eq!(
        store.cf_del("zz", "a").unwrap_err().to_string(),
        "Not found"
    );
    assert_eq!(
        store.cf_info("zz").unwrap_err().to_string(),
        "ERR not found"
    );

    // Key types: reads answer 0, writes WRONGTYPE.
    store.set("s", "v").unwrap();
    assert!(!store.cf_exists("s", "a").unwrap());
    assert_eq!(store.cf_count("s", "a").unwrap(), 0);
    assert!(matches!(store.cf_add("s", "a"), Err(Error::WrongType)));
}

/// Every `(cursor, chunk)` of a dump through the typed methods.
fn dump(store: &Store, key: &str) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cursor = 0;
    while let (next, Some(chunk)) = store.cf_scandump(key, cursor).unwrap() {
        out.push((next, chunk));
        cursor = next;
    }
    out
}

#[test]
fn scandump_loadchunk_round_trip() {
    let store = Store::new();
    for i in 0..3000u32 {
        store.cf_add("src", i.to_le_bytes()).unwrap();
    }
    let chunks = dump(&store, "src");
    assert!(chunks.len() > 2, "header and several sub-filters");
    assert_eq!(chunks[0].1.len(), HEADER_LEN);
    for (cursor, chunk) in &chunks {
        store.cf_loadchunk("dst", *cursor, chunk).unwrap();
    }
    assert_eq!(dump(&store, "dst"), chunks);
    assert_eq!(store.cf_info("dst").unwrap(), store.cf_info("src").unwrap());
    for i in 0..3000u32 {
        assert!(store.cf_exists("dst", i.to_le_bytes()).unwrap());
    }
    // The header on an existing key, a bad header, a misplaced chunk: nothing changes.
    let (_, header) = &chunks[0];
    assert_eq!(
        store
            .cf_loadchunk("dst", 1, header)
            .unwrap_err()
            .to_string(),
        "ERR item exists"
    );
    let mut bad = header.clone();
    bad[32] = 0;
    assert_eq!(
        store.cf_loadchunk("new", 1, &bad).unwrap_err().to_string(),
        "Couldn't create filter!"
    );
    assert_eq!(store.key_type("new").unwrap(), KeyType::None);
    assert_eq!(
        store
            .cf_loadchunk("dst", 1 << 40, b"xy")
            .unwrap_err()
            .to_string(),
        "Couldn't load chunk!"
    );
    assert_eq!(dump(&store, "dst"), chunks);
    // A header claiming the largest filter allowed loads (zeroed, allocated once) but one
    // past the budget is refused before any allocation.
    let mut huge = header.clone();
    huge[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_eq!(
        store
            .cf_loadchunk("huge", 1, &huge)
            .unwrap_err()
            .to_string(),
        "Couldn't create filter!"
    );
}

#[test]
fn generic_commands_on_a_filter() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    store.cf_add("c", "a").unwrap();
    assert_eq!(store.key_type("c").unwrap(), KeyType::Cuckoo);
    assert_eq!(store.execute(&["TYPE", "c"]), status("MBbloomCF"));
    assert_eq!(store.execute(&["RENAME", "c", "d"]), Reply::ok());
    assert!(store.cf_exists("d", "a").unwrap());
    assert_eq!(store.execute(&["EXISTS", "c", "d"]), int(1));
    assert_eq!(store.execute(&["EXPIRE", "d", "10"]), int(1));
    assert_eq!(store.execute(&["TTL", "d"]), int(10));
    clock.advance(Duration::from_secs(11));
    assert!(!store.cf_exists("d", "a").unwrap());
    assert_eq!(store.cf_info("d").unwrap_err().to_string(), "ERR not found");
    store.cf_add("e", "a").unwrap();
    assert_eq!(store.execute(&["GET", "e"]), err(WRONGTYPE));
    assert_eq!(store.execute(&["DEL", "e"]), int(1));
    assert_eq!(store.key_type("e").unwrap(), KeyType::None);
}

/// WATCH: writes mark the key modified as soon as they open it, errors included; reads and
/// argument errors found before the key is opened do not.
#[test]
fn watch_sees_what_redisbloom_signals() {
    let store = Store::new();
    store.cf_add("c", "x").unwrap();
    store.set("s", "v").unwrap();
    let cases: [(&str, &str, bool); 10] = [
        ("c", "CF.ADD c x", true),
        ("c", "CF.EXISTS c x", false),
        ("c", "CF.SCANDUMP c 0", false),
        ("n", "CF.DEL n x", true),
        ("s", "CF.DEL s x", true),
        ("n", "CF.COMPACT n", true),
        ("n", "CF.LOADCHUNK n x y", true),
        ("n", "CF.RESERVE n 1", false),
        ("c", "CF.RESERVE c 10", true),
        ("c", "CF.INSERT c BAD ITEMS a", false),
    ];
    common::table::assert_watch_cases(&store, &cases);
}

#[test]
fn snapshot_round_trip() {
    let dir = std::env::temp_dir().join(format!("sketchstore-cf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cf.sks");
    let store = Store::new();
    for i in 0..2500u32 {
        store.cf_add("grown", i.to_be_bytes()).unwrap();
    }
    for i in 0..300u32 {
        store.cf_del("grown", i.to_be_bytes()).unwrap();
    }
    store
        .cf_reserve("empty", 100, CfReserveOptions::default())
        .unwrap();
    store.cf_add("ttl", "a").unwrap();
    store.execute(&["EXPIRE", "ttl", "1000"]);
    assert_eq!(store.save(&path).unwrap(), 3);
    let back = Store::open(&path).unwrap();
    for key in ["grown", "empty", "ttl"] {
        assert_eq!(
            back.cf_info(key).unwrap(),
            store.cf_info(key).unwrap(),
            "{key}"
        );
        assert_eq!(dump(&back, key), dump(&store, key), "{key}");
    }
    assert!(back.execute(&["TTL", "ttl"]) != int(-1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn memory_limit_refuses_growth_commands() {
    let store = Store::builder().max_memory(1).build();
    store.set("fill", "x").ok();
    assert!(store.used_memory() > 0);
    let oom = "OOM command not allowed when used memory > 'maxmemory'.";
    assert_eq!(store.execute(&["CF.ADD", "c", "a"]), err(oom));
    assert_eq!(store.execute(&["CF.RESERVE", "c", "10"]), err(oom));
    // Reads and CF.DEL (no denyoom) still run.
    assert_eq!(store.execute(&["CF.EXISTS", "c", "a"]), int(0));
    assert_eq!(store.execute(&["CF.DEL", "c", "a"]), err("Not found"));
}

#[test]
fn memory_estimate_follows_the_filter() {
    let store = Store::builder().max_memory(1 << 30).build();
    let before = store.used_memory();
    store
        .cf_reserve("big", 1 << 20, CfReserveOptions::default())
        .unwrap();
    let grown = store.used_memory() - before;
    // 2^19 buckets of 2 one-byte slots.
    assert!((1 << 20..(1 << 20) + 4096).contains(&grown), "{grown}");
    store.execute(&["DEL", "big"]);
    assert_eq!(store.used_memory(), before);
}

#[test]
fn through_the_backend_trait() {
    let store = Store::new();
    let b: &dyn Backend = &store;
    b.cf_reserve(b"k", 100, CfReserveOptions::default())
        .unwrap();
    assert!(b.cf_add(b"k", b"a").unwrap());
    assert!(!b.cf_addnx(b"k", b"a").unwrap());
    assert_eq!(
        b.cf_insert(b"k", CfInsertOptions::default(), &[b"b"])
            .unwrap(),
        vec![InsertOutcome::Inserted]
    );
    assert_eq!(
        b.cf_insertnx(b"k", CfInsertOptions::default(), &[b"b"])
            .unwrap(),
        vec![InsertOutcome::Exists]
    );
    assert!(b.cf_exists(b"k", b"b").unwrap());
    assert_eq!(
        b.cf_mexists(b"k", &[b"a", b"z"]).unwrap(),
        vec![true, false]
    );
    assert_eq!(b.cf_count(b"k", b"a").unwrap(), 1);
    assert!(b.cf_del(b"k", b"a").unwrap());
    assert_eq!(b.cf_info(b"k").unwrap().num_items, 1);
}
