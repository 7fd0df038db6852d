//! Lists: argv -> reply tables with Redis 7.0's exact texts (messaging.md §1-2), and the
//! typed methods.

use sketchstore::{Error, ListEnd, Reply, Store};
use std::time::Duration;

fn parse(expect: &str) -> Reply {
    let e = expect.trim();
    if let Some(rest) = e.strip_prefix('-') {
        return Reply::Error(rest.to_owned());
    }
    if let Some(rest) = e.strip_prefix('+') {
        return Reply::Status(rest.to_owned());
    }
    if let Some(n) = e.strip_prefix(':') {
        return Reply::Integer(n.parse().unwrap());
    }
    match e {
        "$-1" => return Reply::Nil,
        "*-1" => return Reply::NilArray,
        "[]" => return Reply::Array(Vec::new()),
        _ => {}
    }
    if let Some(inner) = e.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return Reply::Array(split_top(inner).into_iter().map(parse).collect());
    }
    Reply::bulk(e.trim_matches('"'))
}

/// Splits `a, [b, c], d` at its top-level commas.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in s.char_indices() {
        match ch {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s.trim().is_empty() {
        out.push(&s[start..]);
    }
    out
}

fn run_table(store: &Store, table: &[(&str, &str)]) {
    for (cmd, expect) in table {
        let argv: Vec<&str> = cmd.split(' ').collect();
        assert_eq!(store.execute(&argv), parse(expect), "{cmd}");
    }
}

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
