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
