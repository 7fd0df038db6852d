//! Count-min sketches (`CMS.*`): argv -> exact reply tables (errors included) through
//! `Store::execute`, RESP3 shapes through a `Connection`, the typed methods, the key's life
//! under generic commands, WATCH and snapshots.

mod common;

use sketchstore::{Backend, Connection, Error, KeyType, ManualClock, Reply, Store};
use std::time::Duration;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn int(n: i64) -> Reply {
    Reply::Integer(n)
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
        (&["CMS.INITBYDIM", "m", "10", "3"], status("OK")),
        (
            &["CMS.INITBYDIM", "m", "10", "3"],
            err("CMS: key already exists"),
        ),
        (
            &["CMS.INITBYDIM", "m2", "0", "3"],
            err("CMS: invalid width"),
        ),
        (
            &["CMS.INITBYDIM", "m2", "10", "x"],
            err("CMS: invalid depth"),
        ),
        (
            &["CMS.INITBYDIM", "m2", "4294967296", "4294967296"],
            err("CMS: invalid init arguments"),
        ),
        (
            &["CMS.INITBYDIM", "m2", "10"],
            err("ERR wrong number of arguments for 'cms.initbydim' command"),
        ),
        (&["CMS.INITBYPROB", "p", "0.01", "0.01"], status("OK")),
        (
            &["CMS.INFO", "p"],
            arr(vec![
                status("width"),
                int(200),
                status("depth"),
                int(7),
                status("count"),
                int(0),
            ]),
        ),
        (
            &["CMS.INITBYPROB", "p2", "1", "0.5"],
            err("CMS: invalid overestimation value"),
        ),
        (
            &["CMS.INITBYPROB", "p2", "0.5", "0"],
            err("CMS: invalid prob value"),
        ),
        (
            &["CMS.INITBYPROB", "p2", "0.1", "1e-300"],
            err("CMS: invalid init arguments"),
        ),
        (
            &["CMS.INCRBY", "m", "a", "1", "b", "2", "a", "3"],
            arr(vec![int(1), int(2), int(4)]),
        ),
        (
            &["CMS.INCRBY", "m", "a", "x"],
            err("CMS: Cannot parse number"),
        ),
        (
            &["CMS.INCRBY", "m", "a", "-1"],
            err("CMS: Number cannot be negative"),
        ),
        (
            &["CMS.INCRBY", "m", "a", "1", "b"],
            err("ERR wrong number of arguments for 'cms.incrby' command"),
        ),
        (
            &["CMS.INCRBY", "nope", "a", "1"],
            err("CMS: key does not exist"),
        ),
        (
            &["CMS.INCRBY", "m", "big", "4294967294"],
            arr(vec![int(4294967294)]),
        ),
        (
            &["CMS.INCRBY", "m", "big", "1"],
            arr(vec![err("CMS: INCRBY overflow")]),
        ),
        (
            &["CMS.INCRBY", "m", "big", "1"],
            arr(vec![err("CMS: INCRBY overflow")]),
        ),
        (
            &["CMS.QUERY", "m", "a", "b", "big", "zz"],
            arr(vec![int(4), int(2), int(4294967295), int(0)]),
        ),
        (&["CMS.QUERY", "nope", "a"], err("CMS: key does not exist")),
        (
            &["CMS.INFO", "m"],
            arr(vec![
                status("width"),
                int(10),
                status("depth"),
                int(3),
                status("count"),
                int(4294967302),
            ]),
        ),
        (&["CMS.INITBYDIM", "m2", "10", "3"], status("OK")),
        (
            &["CMS.INCRBY", "m2", "a", "10", "z", "1"],
            arr(vec![int(10), int(1)]),
        ),
        (&["CMS.INITBYDIM", "odd", "11", "3"], status("OK")),
        (
            &["CMS.MERGE", "m", "1", "odd"],
            err("CMS: width/depth is not equal"),
        ),
        (
            &["CMS.MERGE", "m", "1", "nope"],
            err("CMS: key does not exist"),
        ),
        (
            &["CMS.MERGE", "m", "0", "m2"],
            err("CMS: Number of keys must be positive"),
        ),
        (
            &["CMS.MERGE", "m", "2", "m2"],
            err("CMS: wrong number of keys"),
        ),
        (
            &["CMS.MERGE", "m", "1", "m2", "WEIGHTS", "1", "2"],
            err("CMS: wrong number of keys/weights"),
        ),
        (
            &["CMS.MERGE", "m", "1", "m2", "WEIGHTS", "x"],
            err("CMS: invalid weight value"),
        ),
        (&["CMS.MERGE", "m", "x", "m2"], err("CMS: invalid numkeys")),
        (
            &["CMS.MERGE", "nope", "1", "m2"],
            err("CMS: key does not exist"),
        ),
        (
            &["CMS.MERGE", "m", "2", "m", "m2", "WEIGHTS", "1", "3"],
            err("CMS: MERGE overflow"),
        ),
        (
            &["CMS.QUERY", "m", "a", "b", "z"],
            arr(vec![int(4), int(2), int(0)]),
        ),
        (
            &["CMS.MERGE", "m", "1", "m", "WEIGHTS", "-1"],
            err("CMS: MERGE overflow"),
        ),
        (
            &["CMS.INFO", "m"],
            arr(vec![
                status("width"),
                int(10),
                status("depth"),
                int(3),
                status("count"),
                int(4294967302),
            ]),
        ),
        (
            &["CMS.MERGE", "m", "1", "m2", "WEIGHTS", "1000000000"],
            err("CMS: MERGE overflow"),
        ),
        (
            &["CMS.MERGE", "m", "1", "m2", "WEIGHTS", "429496730"],
            err("CMS: MERGE overflow"),
        ),
        (&["CMS.QUERY", "m", "a"], arr(vec![int(4)])),
        (
            &["CMS.INFO", "m"],
            arr(vec![
                status("width"),
                int(10),
                status("depth"),
                int(3),
                status("count"),
                int(4294967302),
            ]),
        ),
        (&["SET", "s", "v"], status("OK")),
        (
            &["CMS.INITBYDIM", "s", "10", "3"],
            err("CMS: key already exists"),
        ),
        (&["CMS.INCRBY", "s", "a", "1"], err(WRONGTYPE)),
        (&["CMS.QUERY", "s", "a"], err(WRONGTYPE)),
        (&["CMS.INFO", "s"], err(WRONGTYPE)),
        (&["CMS.MERGE", "m", "1", "s"], err(WRONGTYPE)),
        (&["TYPE", "m"], status("CMSk-TYPE")),
        (
            &["CMS.INFO"],
            err("ERR wrong number of arguments for 'cms.info' command"),
        ),
        (&["CMS.INITBYDIM", "x", "10", "3"], status("OK")),
        (&["CMS.INCRBY", "x", "a", "100"], arr(vec![int(100)])),
        (
            &[
                "CMS.MERGE",
                "x",
                "3",
                "x",
                "m2",
                "m2",
                "WEIGHTS",
                "1",
                "2",
                "-1",
            ],
            status("OK"),
        ),
        (&["CMS.QUERY", "x", "a", "z"], arr(vec![int(110), int(1)])),
        (
            &["CMS.INFO", "x"],
            arr(vec![
                status("width"),
                int(10),
                status("depth"),
                int(3),
                status("count"),
                int(111),
            ]),
        ),
    ];
    let store = Store::new();
    for (i, (argv, want)) in rows.iter().enumerate() {
        assert_eq!(&store.execute(argv), want, "row {i}: {}", argv.join(" "));
    }
}

#[test]
fn resp3_shapes() {
    let store = Store::new();
    let mut conn: Connection = store.connection();
    conn.execute(&["HELLO", "3"]);
    conn.execute(&["CMS.INITBYDIM", "m", "4", "2"]);
    assert_eq!(
        conn.execute(&["CMS.INCRBY", "m", "a", "2"]),
        arr(vec![int(2)])
    );
    assert_eq!(
        conn.execute(&["CMS.INFO", "m"]),
        Reply::Map(vec![
            (status("width"), int(4)),
            (status("depth"), int(2)),
            (status("count"), int(2)),
        ])
    );
}

#[test]
fn typed_methods() {
    let store = Store::new();
    store.cms_initbydim("m", 100, 4).unwrap();
    assert_eq!(
        store.cms_initbydim("m", 100, 4).unwrap_err().to_string(),
        "CMS: key already exists"
    );
    assert_eq!(
        store.cms_initbydim("z", 0, 4).unwrap_err().to_string(),
        "CMS: invalid width"
    );
    assert_eq!(
        store
            .cms_initbydim("z", u64::MAX, 4)
            .unwrap_err()
            .to_string(),
        "CMS: invalid width"
    );
    assert_eq!(
        store
            .cms_initbydim("z", 1 << 32, 1 << 32)
            .unwrap_err()
            .to_string(),
        "CMS: invalid init arguments"
    );
    // Bounded allocation: RedisBloom would try to allocate 40 GB here.
    assert_eq!(
        store
            .cms_initbydim("z", 10_000_000_000, 1)
            .unwrap_err()
            .to_string(),
        "CMS: Insufficient memory to create the key"
    );
    assert_eq!(store.key_type("z").unwrap(), KeyType::None);
    store.cms_initbyprob("p", 0.01, 0.01).unwrap();
    let i = store.cms_info("p").unwrap();
    assert_eq!((i.width, i.depth, i.count), (200, 7, 0));
    assert_eq!(
        store.cms_initbyprob("q", 0.0, 0.5).unwrap_err().to_string(),
        "CMS: invalid overestimation value"
    );

    let r = store
        .cms_incrby("m", &[("a", 1), ("b", 2), ("a", 3)])
        .unwrap();
    let r: Vec<u64> = r.into_iter().map(|x| x.unwrap()).collect();
    assert_eq!(r, vec![1, 2, 4]);
    assert_eq!(
        store
            .cms_incrby("m", &[("a", u64::MAX)])
            .unwrap_err()
            .to_string(),
        "CMS: Cannot parse number"
    );
    assert_eq!(
        store
            .cms_incrby("nope", &[("a", 1)])
            .unwrap_err()
            .to_string(),
        "CMS: key does not exist"
    );
    let over = store
        .cms_incrby("m", &[("c", u64::from(u32::MAX))])
        .unwrap();
    assert_eq!(
        over[0].as_ref().unwrap_err().to_string(),
        "CMS: INCRBY overflow"
    );
    assert_eq!(
        store.cms_query("m", &["a", "b", "zz"]).unwrap(),
        vec![4, 2, 0]
    );

    store.cms_initbydim("n", 100, 4).unwrap();
    store.cms_incrby("n", &[("a", 10)]).unwrap();
    store.cms_initbydim("d", 100, 4).unwrap();
    store.cms_merge("d", &["n", "n"], None).unwrap();
    assert_eq!(store.cms_query("d", &["a"]).unwrap(), vec![20]);
    store.cms_merge("d", &["d", "n"], Some(&[1, -2])).unwrap();
    assert_eq!(store.cms_query("d", &["a"]).unwrap(), vec![0]);
    assert_eq!(store.cms_info("d").unwrap().count, 0);
    assert_eq!(
        store
            .cms_merge("d", &["n"], Some(&[1, 2]))
            .unwrap_err()
            .to_string(),
        "CMS: wrong number of keys/weights"
    );
    assert_eq!(
        store
            .cms_merge("d", &["n"], Some(&[-1]))
            .unwrap_err()
            .to_string(),
        "CMS: MERGE overflow"
    );
    store.cms_initbydim("odd", 101, 4).unwrap();
    assert_eq!(
        store
            .cms_merge("d", &["n", "odd"], None)
            .unwrap_err()
            .to_string(),
        "CMS: width/depth is not equal"
    );
    // A failed merge leaves every key as it was, the sources included.
    assert_eq!(store.cms_query("n", &["a"]).unwrap(), vec![10]);
    assert_eq!(store.key_type("odd").unwrap(), KeyType::Cms);
    assert!(matches!(
        store.cms_merge::<&str>("d", &[], None),
        Err(Error::WrongArity(_))
    ));
    store.set("s", "v").unwrap();
    assert!(matches!(
        store.cms_query("s", &["a"]),
        Err(Error::WrongType)
    ));
}

#[test]
fn generic_commands_on_a_sketch() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    store.cms_initbydim("m", 10, 2).unwrap();
    store.cms_incrby("m", &[("a", 5)]).unwrap();
    assert_eq!(store.key_type("m").unwrap(), KeyType::Cms);
    assert_eq!(store.execute(&["TYPE", "m"]), status("CMSk-TYPE"));
    assert_eq!(store.execute(&["RENAME", "m", "n"]), Reply::ok());
    assert_eq!(store.cms_query("n", &["a"]).unwrap(), vec![5]);
    assert_eq!(store.execute(&["PEXPIRE", "n", "500"]), int(1));
    clock.advance(Duration::from_millis(501));
    assert_eq!(
        store.cms_info("n").unwrap_err().to_string(),
        "CMS: key does not exist"
    );
    store.cms_initbydim("n", 10, 2).unwrap();
    assert_eq!(store.execute(&["DEL", "n"]), int(1));
    assert_eq!(store.execute(&["EXISTS", "n"]), int(0));
}

/// CMS.INCRBY opens its key for reading in RedisBloom, so WATCH does not see it; the
/// INITBY* commands and CMS.MERGE (its destination) are seen, errors included.
#[test]
fn watch_sees_what_redisbloom_signals() {
    let store = Store::new();
    store.cms_initbydim("m", 10, 2).unwrap();
    let cases: [(&str, &str, bool); 7] = [
        ("m", "CMS.INCRBY m a 1", false),
        ("m", "CMS.QUERY m a", false),
        ("m", "CMS.MERGE m 1 m", true),
        ("zz", "CMS.MERGE zz 1 m", true),
        ("m", "CMS.MERGE m 1 zz", true),
        ("m", "CMS.INITBYDIM m 10 2", true),
        ("q", "CMS.INITBYDIM q 0 2", true),
    ];
    common::table::assert_watch_cases(&store, &cases);
}

#[test]
fn snapshot_round_trip() {
    let dir = std::env::temp_dir().join(format!("sketchstore-cms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cms.sks");
    let store = Store::new();
    store.cms_initbyprob("p", 0.001, 0.01).unwrap();
    for i in 0..500u32 {
        store
            .cms_incrby("p", &[(i.to_le_bytes(), u64::from(i))])
            .unwrap();
    }
    store.cms_initbydim("one", 1, 1).unwrap();
    assert_eq!(store.save(&path).unwrap(), 2);
    let back = Store::open(&path).unwrap();
    assert_eq!(back.cms_info("p").unwrap(), store.cms_info("p").unwrap());
    let items: Vec<[u8; 4]> = (0..600u32).map(|i| i.to_le_bytes()).collect();
    assert_eq!(
        back.cms_query("p", &items).unwrap(),
        store.cms_query("p", &items).unwrap()
    );
    assert_eq!(
        back.cms_info("one").unwrap(),
        store.cms_info("one").unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn memory_estimate_follows_the_sketch() {
    let store = Store::builder().max_memory(1 << 30).build();
    let before = store.used_memory();
    store.cms_initbydim("m", 1 << 16, 4).unwrap();
    let grown = store.used_memory() - before;
    // 2^18 four-byte counters.
    assert!((1 << 20..(1 << 20) + 4096).contains(&grown), "{grown}");
}

#[test]
fn through_the_backend_trait() {
    let store = Store::new();
    let b: &dyn Backend = &store;
    b.cms_initbydim(b"m", 50, 3).unwrap();
    b.cms_initbyprob(b"p", 0.02, 0.125).unwrap();
    assert_eq!(b.cms_info(b"p").unwrap().depth, 3);
    let r = b.cms_incrby(b"m", &[(b"a", 2)]).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(b.cms_query(b"m", &[b"a", b"b"]).unwrap(), vec![2, 0]);
    b.cms_initbydim(b"d", 50, 3).unwrap();
    b.cms_merge(b"d", &[b"m"], Some(&[3])).unwrap();
    assert_eq!(b.cms_query(b"d", &[b"a"]).unwrap(), vec![6]);
    assert_eq!(b.cms_info(b"d").unwrap().count, 6);
}
