//! Lists: argv -> reply tables with Redis 7.0's exact texts (messaging.md §1-2), and the
//! typed methods.

mod common;

use common::table::{parse, run_text_table as run_table};
use sketchstore::{Error, ListEnd, Reply, Store};
use std::time::Duration;

#[test]
fn digest_vectors() {
    let store = Store::new();
    run_table(
        &store,
        &[
            ("LPUSH l a b c", ":3"),
            ("RPUSH l d e", ":5"),
            ("LRANGE l 0 -1", r#"["c", "b", "a", "d", "e"]"#),
            ("LRANGE l -2 -1", r#"["d", "e"]"#),
            ("LRANGE l -100 100", r#"["c", "b", "a", "d", "e"]"#),
            ("LRANGE l 3 1", "[]"),
            (
                "LRANGE l a 1",
                "-ERR value is not an integer or out of range",
            ),
            ("LPOP l", r#""c""#),
            ("LPOP l 0", "[]"),
            ("LPOP l 2", r#"["b", "a"]"#),
            ("RPOP l 1", r#"["e"]"#),
            ("LPOP l 5", r#"["d"]"#),
            ("EXISTS l", ":0"),
            ("LPOP l", "$-1"),
            ("LPOP l 2", "*-1"),
            ("LPOP l 0", "*-1"),
            (
                "LPOP nokey -1",
                "-ERR value is out of range, must be positive",
            ),
            (
                "LPOP l 1 2",
                "-ERR wrong number of arguments for 'lpop' command",
            ),
            (
                "LPUSH k",
                "-ERR wrong number of arguments for 'lpush' command",
            ),
            ("LPUSHX missing a", ":0"),
            ("EXISTS missing", ":0"),
            ("RPUSH full 1", ":1"),
            ("BLPOP empty full 0", r#"["full", "1"]"#),
            ("BLPOP empty -1", "-ERR timeout is negative"),
            (
                "BLPOP empty abc",
                "-ERR timeout is not a float or out of range",
            ),
            (
                "BLPOP k",
                "-ERR wrong number of arguments for 'blpop' command",
            ),
            ("SET s x", "+OK"),
            (
                "BLPOP empty s 0",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            (
                "LLEN s",
                "-WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
            ("RPUSH m a b c", ":3"),
            ("LINDEX m 1", r#""b""#),
            ("LINDEX m 3", "$-1"),
            ("LINDEX nokey x", "$-1"),
            ("LSET m 1 B", "+OK"),
            ("LSET m 3 B", "-ERR index out of range"),
            ("LSET nokey 0 B", "-ERR no such key"),
            ("LREM m 0 B", ":1"),
            ("LTRIM m 0 0", "+OK"),
            ("LRANGE m 0 -1", r#"["a"]"#),
            ("LMOVE m n LEFT LEFT", r#""a""#),
            ("EXISTS m", ":0"),
            ("LMOVE n m left middle", "-ERR syntax error"),
            ("RPOPLPUSH n m", r#""a""#),
            ("BLMOVE m n RIGHT LEFT 0", r#""a""#),
            ("BRPOPLPUSH none n 0.01", "*-1"),
        ],
    );
}

#[test]
fn transaction_vectors_of_the_digest() {
    let store = Store::new();
    let mut tx = store.connection();
    store.rpush("full", &["1"]).unwrap();
    let lines = [
        ("MULTI", "+OK"),
        ("BLPOP empty 0", "+QUEUED"),
        ("BRPOP empty 5", "+QUEUED"),
        ("RPUSH full 1 2", "+QUEUED"),
        ("BLPOP empty full 0", "+QUEUED"),
        ("EXEC", r#"[*-1, *-1, :3, ["full", "1"]]"#),
        ("MULTI", "+OK"),
        ("BLPOP none -1", "+QUEUED"),
        ("EXEC", "[-ERR timeout is negative]"),
    ];
    for (cmd, expect) in lines {
        let argv: Vec<&str> = cmd.split(' ').collect();
        assert_eq!(tx.execute(&argv), parse(expect), "{cmd}");
    }
}

#[test]
fn typed_methods() {
    let store = Store::new();
    assert_eq!(store.lpush("l", &["a", "b"]).unwrap(), 2);
    assert_eq!(store.rpush("l", &["c"]).unwrap(), 3);
    assert_eq!(store.lpushx("nope", &["c"]).unwrap(), 0);
    assert_eq!(store.rpushx("l", &["d"]).unwrap(), 4);
    assert_eq!(
        store.lpush::<&str>("l", &[]).unwrap_err(),
        Error::WrongArity("lpush".into())
    );
    assert_eq!(store.llen("l").unwrap(), 4);
    assert_eq!(store.lindex("l", -1).unwrap(), Some(b"d".to_vec()));
    store.lset("l", 0, "B").unwrap();
    assert_eq!(store.lset("nope", 0, "x").unwrap_err(), Error::NoSuchKey);
    assert_eq!(
        store.lset("l", 9, "x").unwrap_err().to_string(),
        "ERR index out of range"
    );
    assert_eq!(store.lrem("l", 0, "a").unwrap(), 1);
    assert_eq!(
        store.lrange("l", 0, -1).unwrap(),
        vec![b"B".to_vec(), b"c".to_vec(), b"d".to_vec()]
    );
    store.ltrim("l", 1, -1).unwrap();
    assert_eq!(store.lpop("l").unwrap(), Some(b"c".to_vec()));
    assert_eq!(store.rpop_count("l", 5).unwrap(), Some(vec![b"d".to_vec()]));
    assert_eq!(store.lpop_count("l", 5).unwrap(), None);
    assert_eq!(store.rpop("l").unwrap(), None);
    store.rpush("src", &["1", "2"]).unwrap();
    assert_eq!(
        store
            .lmove("src", "dst", ListEnd::Right, ListEnd::Left)
            .unwrap(),
        Some(b"2".to_vec())
    );
    assert_eq!(
        store
            .blmove("src", "dst", ListEnd::Left, ListEnd::Left, Duration::ZERO)
            .unwrap(),
        Some(b"1".to_vec())
    );
    assert_eq!(
        store.lrange("dst", 0, -1).unwrap(),
        vec![b"1".to_vec(), b"2".to_vec()]
    );
    assert_eq!(
        store.blpop(&["none", "dst"], Duration::ZERO).unwrap(),
        Some((b"dst".to_vec(), b"1".to_vec()))
    );
    assert_eq!(
        store.brpop(&["dst"], Duration::from_millis(1)).unwrap(),
        Some((b"dst".to_vec(), b"2".to_vec()))
    );
    assert_eq!(
        store.brpop(&["dst"], Duration::from_millis(1)).unwrap(),
        None
    );
    store.set("s", "x").unwrap();
    assert_eq!(
        store.blpop(&["s"], Duration::ZERO).unwrap_err(),
        Error::WrongType
    );
    assert_eq!(store.lpush("s", &["x"]).unwrap_err(), Error::WrongType);
}

#[test]
fn linsert_lpos_lmpop_table() {
    let store = Store::new();
    run_table(
        &store,
        &[
            ("RPUSH l a b c a", ":4"),
            ("LINSERT l BEFORE b X", ":5"),
            ("LINSERT l AFTER a Y", ":6"),
            ("LRANGE l 0 -1", "[a, Y, X, b, c, a]"),
            ("LINSERT l AFTER zz Y", ":-1"),
            ("LINSERT l MIDDLE a Y", "-ERR syntax error"),
            ("LINSERT nokey BEFORE a Y", ":0"),
            ("LPOS l a", ":0"),
            ("LPOS l a RANK -1", ":5"),
            ("LPOS l a COUNT 0", "[:0, :5]"),
            ("LPOS l a MAXLEN 1 RANK -1", ":5"),
            ("LPOS l zz", "$-1"),
            ("LPOS l zz COUNT 1", "[]"),
            ("LPOS l a RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"),
            ("LPOS l a COUNT -1", "-ERR COUNT can't be negative"),
            ("LPOS l a MAXLEN x", "-ERR MAXLEN can't be negative"),
            ("LMPOP 2 nokey l LEFT COUNT 2", "[l, [a, Y]]"),
            ("LMPOP 1 l RIGHT", "[l, [a]]"),
            ("LMPOP 1 nokey RIGHT", "*-1"),
            ("LMPOP 0 l RIGHT", "-ERR numkeys should be greater than 0"),
            ("LMPOP 2 l RIGHT", "-ERR syntax error"),
            ("LMPOP 1 l RIGHT COUNT 0", "-ERR count should be greater than 0"),
            ("BLMPOP 0 1 l LEFT COUNT 10", "[l, [X, b, c]]"),
            ("EXISTS l", ":0"),
            ("BLMPOP x 1 l LEFT", "-ERR timeout is not a float or out of range"),
            ("BLMPOP 0 1 l UP", "-ERR syntax error"),
        ],
    );
}

#[test]
fn typed_linsert_lpos_lmpop() {
    let store = Store::new();
    store.rpush("l", &["a", "b", "a"]).unwrap();
    assert_eq!(store.linsert_after("l", "b", "c").unwrap(), 4);
    assert_eq!(store.linsert_before("l", "zz", "c").unwrap(), -1);
    let last = sketchstore::LposOptions {
        rank: -1,
        ..Default::default()
    };
    assert_eq!(store.lpos("l", "a", last).unwrap(), vec![3]);
    let zero = sketchstore::LposOptions {
        rank: 0,
        ..Default::default()
    };
    assert!(store.lpos("l", "a", zero).is_err());
    assert_eq!(
        store.lmpop(&["nokey", "l"], ListEnd::Left, 2).unwrap(),
        Some((b"l".to_vec(), vec![b"a".to_vec(), b"b".to_vec()]))
    );
    assert_eq!(store.lmpop(&["nokey"], ListEnd::Left, 2).unwrap(), None);
    assert_eq!(
        store
            .lmpop::<&str>(&[], ListEnd::Left, 1)
            .unwrap_err()
            .to_string(),
        "ERR numkeys should be greater than 0"
    );
}

/// A blocked BLMPOP is served by a later push with up to COUNT elements, and times out with
/// the null array.
#[test]
fn blmpop_blocks_until_served() {
    let store = Store::new();
    let s2 = store.clone();
    let waiter = std::thread::spawn(move || {
        s2.connection()
            .execute(&["BLMPOP", "0", "2", "q1", "q2", "RIGHT", "COUNT", "2"])
    });
    while store.blocked_clients() == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(store.rpush("q2", &["a", "b", "c"]).unwrap(), 3);
    assert_eq!(waiter.join().unwrap(), parse("[q2, [c, b]]"));
    assert_eq!(store.lrange("q2", 0, -1).unwrap(), vec![b"a".to_vec()]);
    let typed = store
        .blmpop(&["q2"], ListEnd::Left, 5, Duration::from_millis(10))
        .unwrap();
    assert_eq!(typed, Some((b"q2".to_vec(), vec![b"a".to_vec()])));
    assert_eq!(
        store
            .blmpop(&["q2"], ListEnd::Left, 5, Duration::from_millis(10))
            .unwrap(),
        None
    );
    let mut c = store.connection();
    assert_eq!(
        c.execute(&["BLMPOP", "0.01", "1", "q2", "LEFT"]),
        Reply::NilArray
    );
}

/// BLMPOP through `execute_async` waits as a future and is served by a later push.
#[test]
fn blmpop_waits_as_a_future() {
    let store = Store::new();
    let mut c = store.connection();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (got, ()) = rt.block_on(async {
        let argv: Vec<Vec<u8>> = ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let wait = c.execute_async(argv);
        let push = async {
            while store.blocked_clients() == 0 {
                tokio::task::yield_now().await;
            }
            store.rpush("l", &["a", "b", "c"]).unwrap();
        };
        tokio::join!(wait, push)
    });
    assert_eq!(got, parse("[l, [a, b]]"));
    assert_eq!(store.lrange("l", 0, -1).unwrap(), vec![b"c".to_vec()]);
}

/// The typed async BLMPOP: served by a later push; dropped unserved, it leaves nothing behind.
#[test]
fn typed_blmpop_async() {
    let store = Store::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let got = rt.block_on(async {
        let wait = store.blmpop_async(&["a", "b"], ListEnd::Right, 3, Duration::ZERO);
        let push = async {
            while store.blocked_clients() == 0 {
                tokio::task::yield_now().await;
            }
            store.rpush("b", &["x", "y"]).unwrap();
        };
        tokio::join!(wait, push).0
    });
    assert_eq!(
        got.unwrap(),
        Some((b"b".to_vec(), vec![b"y".to_vec(), b"x".to_vec()]))
    );
    let fut = store.blmpop_async(&["a"], ListEnd::Left, 1, Duration::ZERO);
    drop(fut);
    assert_eq!(store.blocked_clients(), 0);
    let err = rt.block_on(store.blmpop_async::<&str>(&[], ListEnd::Left, 1, Duration::ZERO));
    assert_eq!(
        err.unwrap_err().to_string(),
        "ERR numkeys should be greater than 0"
    );
}

/// A client blocked in BRPOPLPUSH on a missing source does not modify the destination: a
/// transaction that WATCHes the destination meanwhile still executes (as in Redis), while
/// the push that serves the waiter does modify it and aborts a later EXEC.
#[test]
fn a_blocked_brpoplpush_does_not_touch_watched_keys() {
    let store = Store::new();
    store.set("somekey", "somevalue").unwrap();
    let s2 = store.clone();
    let blocked =
        std::thread::spawn(move || s2.connection().execute(&["BRPOPLPUSH", "src", "dst", "0"]));
    while store.blocked_clients() == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut w = store.connection();
    for k in ["dst", "src"] {
        assert_eq!(w.execute(&["WATCH", k]), Reply::ok());
        assert_eq!(w.execute(&["MULTI"]), Reply::ok());
        assert_eq!(w.execute(&["GET", "somekey"]), Reply::status("QUEUED"));
        assert_eq!(w.execute(&["EXEC"]), parse("[somevalue]"), "watching {k}");
    }
    // A wait that times out modifies nothing either.
    assert_eq!(w.execute(&["WATCH", "dst", "src"]), Reply::ok());
    assert_eq!(
        store
            .connection()
            .execute(&["BRPOPLPUSH", "src", "dst", "0.01"]),
        Reply::NilArray
    );
    assert_eq!(w.execute(&["MULTI"]), Reply::ok());
    assert_eq!(w.execute(&["GET", "somekey"]), Reply::status("QUEUED"));
    assert_eq!(w.execute(&["EXEC"]), parse("[somevalue]"));
    // The served move modifies both keys.
    assert_eq!(w.execute(&["WATCH", "dst"]), Reply::ok());
    assert_eq!(w.execute(&["MULTI"]), Reply::ok());
    assert_eq!(w.execute(&["GET", "somekey"]), Reply::status("QUEUED"));
    assert_eq!(store.lpush("src", &["element"]).unwrap(), 1);
    assert_eq!(blocked.join().unwrap(), parse("element"));
    assert_eq!(w.execute(&["EXEC"]), Reply::NilArray);
}
