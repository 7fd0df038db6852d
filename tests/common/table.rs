//! Table-driven argv -> reply tests: reply constructors, the texts most tables need, and a
//! runner that executes rows in order on one store driven by a manual clock.
#![allow(dead_code)]

use sketchstore::{ManualClock, Reply, Store};
use std::time::Duration;

/// The manual clock's start, in Unix ms.
pub const START_MS: i64 = 1_700_000_000_000;
/// A row whose first word is this advances the clock by the second word, in ms.
pub const ADVANCE: &str = "(advance ms)";

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";

pub fn ok() -> Reply {
    Reply::ok()
}
pub fn nil() -> Reply {
    Reply::Nil
}
pub fn int(n: i64) -> Reply {
    Reply::Integer(n)
}
pub fn bulk(s: impl AsRef<[u8]>) -> Reply {
    Reply::bulk(s)
}
pub fn bulks(items: &[&str]) -> Reply {
    Reply::bulks(items)
}
pub fn err(s: &str) -> Reply {
    Reply::Error(s.to_owned())
}
pub fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}
pub fn status(s: &str) -> Reply {
    Reply::status(s)
}

/// A store on a manual clock standing at [`START_MS`].
pub fn store() -> (ManualClock, Store) {
    let clock = ManualClock::new(START_MS);
    let store = Store::builder().clock(clock.clock()).build();
    (clock, store)
}

/// Runs the rows in order on one store; every reply must be exactly the expected one.
pub fn run_table(rows: &[(&[&str], Reply)]) {
    let (clock, store) = store();
    for (i, (argv, want)) in rows.iter().enumerate() {
        if argv[0] == ADVANCE {
            clock.advance(Duration::from_millis(argv[1].parse().expect("ms")));
            continue;
        }
        let got = store.execute(argv);
        assert_eq!(&got, want, "row {i}: {}", argv.join(" "));
    }
}

/// A reply written as text: `-ERR ..`, `+OK`, `:3`, `$-1`, `*-1`, `[]`, `[a, [b, c]]`, or
/// a bulk string (optionally in double quotes).
pub fn parse(expect: &str) -> Reply {
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

/// Runs each `(command line, reply text)` row on `store` in order, checking the replies.
pub fn run_text_table(store: &Store, table: &[(&str, &str)]) {
    for (cmd, expect) in table {
        let argv: Vec<&str> = cmd.split(' ').collect();
        assert_eq!(store.execute(&argv), parse(expect), "{cmd}");
    }
}

/// WATCH cases: for each `(key, command line, touched)`, a fresh connection WATCHes `key`,
/// the line runs on `store` from outside, and the connection's `MULTI PING EXEC` must be
/// aborted exactly when `touched` says the line modified the key.
pub fn assert_watch_cases(store: &Store, cases: &[(&str, &str, bool)]) {
    for &(key, line, touched) in cases {
        let mut a = store.connection();
        a.execute(&["WATCH", key]);
        let argv: Vec<&str> = line.split(' ').collect();
        store.execute(&argv);
        a.execute(&["MULTI"]);
        a.execute(&["PING"]);
        let aborted = a.execute(&["EXEC"]) == Reply::NilArray;
        assert_eq!(aborted, touched, "{line}");
    }
}
