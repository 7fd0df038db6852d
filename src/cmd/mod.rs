//! The argv front end: one command as a list of byte strings in, one [`Reply`] out.
//!
//! # Design
//!
//! Each command is a struct named after it (`Get`, `IncrBy`, `HSet`) holding its parsed
//! arguments, with `parse(&mut Args)` and `apply(self, &mut Db) -> Reply`. Parsing and
//! reply shaping live here; semantics live in the `Db` methods of `crate::store`, which the
//! typed `Store` methods call too, so both entry points share one code path.
//!
//! The command table gives each command its arity (Redis's convention: `n` exactly `n`
//! arguments counting the name, `-n` at least `n`) and where its keys are, so the shards a
//! command needs are locked before it runs and `EXEC` can lock the union of its queue.
//! Arity and unknown-command errors come from the table, before anything is locked, with
//! Redis's exact texts.

/// A table entry's runner for a command struct: a closure, so that the struct's argument
/// lifetime is chosen per call.
macro_rules! cmd {
    ($t:ty) => {
        |args, db| $crate::cmd::run::<$t>(args, db)
    };
}

mod bits;
mod bloom;
mod generic;
mod hashes;
mod hll;
mod lists;
pub(crate) mod pubsub;
mod strings;
mod txn;

pub(crate) use pubsub::{check_subcommand, full_name};

use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::{Db, Lock, Store};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The arguments of one command after its name, consumed left to right.
pub(crate) struct Args<'a> {
    items: &'a [&'a [u8]],
    pos: usize,
}

impl<'a> Args<'a> {
    pub(crate) fn new(items: &'a [&'a [u8]]) -> Args<'a> {
        Args { items, pos: 0 }
    }

    /// The next argument, if any.
    pub(crate) fn next(&mut self) -> Option<&'a [u8]> {
        let item = self.items.get(self.pos).copied();
        if item.is_some() {
            self.pos += 1;
        }
        item
    }

    /// The next argument; a syntax error if there is none.
    pub(crate) fn required(&mut self) -> Result<&'a [u8]> {
        self.next().ok_or(Error::Syntax)
    }

    /// The next argument as a Redis integer.
    pub(crate) fn i64(&mut self) -> Result<i64> {
        let a = self.required()?;
        crate::num::parse_i64(a).ok_or(Error::NotInteger)
    }

    /// How many arguments are left.
    pub(crate) fn remaining(&self) -> usize {
        self.items.len() - self.pos
    }

    /// All remaining arguments.
    pub(crate) fn rest(&mut self) -> &'a [&'a [u8]] {
        let r = &self.items[self.pos..];
        self.pos = self.items.len();
        r
    }

    /// Whether `arg` equals `word`, ignoring ASCII case.
    pub(crate) fn is(arg: &[u8], word: &str) -> bool {
        arg.eq_ignore_ascii_case(word.as_bytes())
    }
}

/// A command: parsed arguments and how to apply them.
pub(crate) trait Command<'a>: Sized {
    fn parse(args: &mut Args<'a>) -> Result<Self>;
    fn apply(self, db: &mut Db<'_>) -> Reply;
}

/// Where a command's keys are among its arguments (index 0 is the command name).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Keys {
    /// No keys.
    None,
    /// Needs every shard.
    All,
    /// Keys at `first`, `first + step`, ... up to `last` (negative: counted from the end,
    /// `-1` being the last argument).
    Range {
        first: usize,
        last: isize,
        step: usize,
    },
}

impl Keys {
    const ONE: Keys = Keys::Range {
        first: 1,
        last: 1,
        step: 1,
    };
    const ALL_ARGS: Keys = Keys::Range {
        first: 1,
        last: -1,
        step: 1,
    };

    /// The keys of `argv` (which includes the name).
    pub(crate) fn of<'a>(self, argv: &[&'a [u8]]) -> SmallVec<[&'a [u8]; 4]> {
        let mut out = SmallVec::new();
        if let Keys::Range { first, last, step } = self {
            let last = if last < 0 {
                argv.len() as isize + last
            } else {
                last
            };
            let mut i = first as isize;
            while i <= last && (i as usize) < argv.len() {
                out.push(argv[i as usize]);
                i += step as isize;
            }
        }
        out
    }
}

pub(crate) type Runner = for<'a, 'b> fn(&mut Args<'a>, &mut Db<'b>) -> Reply;

/// One row of the command table.
pub(crate) struct Spec {
    pub name: &'static str,
    pub arity: i32,
    pub keys: Keys,
    pub run: Runner,
}

pub(crate) fn run<'a, C: Command<'a>>(args: &mut Args<'a>, db: &mut Db<'_>) -> Reply {
    match C::parse(args) {
        Ok(c) => c.apply(db),
        Err(e) => Reply::Error(e.to_string()),
    }
}

/// A `Reply` from a typed result.
pub(crate) fn reply<T: Into<Reply>>(r: Result<T>) -> Reply {
    match r {
        Ok(v) => v.into(),
        Err(e) => Reply::Error(e.to_string()),
    }
}

impl From<i64> for Reply {
    fn from(n: i64) -> Reply {
        Reply::Integer(n)
    }
}

impl From<usize> for Reply {
    fn from(n: usize) -> Reply {
        Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Reply {
    fn from(b: bool) -> Reply {
        Reply::Integer(i64::from(b))
    }
}

impl From<Option<Vec<u8>>> for Reply {
    fn from(b: Option<Vec<u8>>) -> Reply {
        match b {
            Some(b) => Reply::Bulk(b),
            None => Reply::Nil,
        }
    }
}

impl From<Vec<u8>> for Reply {
    fn from(b: Vec<u8>) -> Reply {
        Reply::Bulk(b)
    }
}

impl From<Vec<Option<Vec<u8>>>> for Reply {
    fn from(items: Vec<Option<Vec<u8>>>) -> Reply {
        Reply::Array(items.into_iter().map(Reply::from).collect())
    }
}

impl From<Vec<Vec<u8>>> for Reply {
    fn from(items: Vec<Vec<u8>>) -> Reply {
        Reply::Array(items.into_iter().map(Reply::Bulk).collect())
    }
}

impl From<()> for Reply {
    fn from(_: ()) -> Reply {
        Reply::ok()
    }
}

fn table() -> &'static HashMap<&'static str, Spec> {
    static TABLE: OnceLock<HashMap<&'static str, Spec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut specs = Vec::new();
        strings::register(&mut specs);
        hashes::register(&mut specs);
        generic::register(&mut specs);
        bits::register(&mut specs);
        hll::register(&mut specs);
        bloom::register(&mut specs);
        lists::register(&mut specs);
        pubsub::register(&mut specs);
        txn::register(&mut specs);
        specs.into_iter().map(|s| (s.name, s)).collect()
    })
}

/// The table row for a command name, matched case-insensitively.
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).ok()?;
    table().get(lower)
}

/// Redis's unknown-command text: the name as sent, cut to 128 bytes, then the arguments,
/// each quoted and followed by a space, while the text built so far is under 128 bytes.
pub(crate) fn unknown_command(argv: &[&[u8]]) -> Error {
    // Redis formats the name and arguments as C strings: each stops at its first NUL.
    let c_str = |b: &'_ [u8]| -> usize { b.iter().position(|&c| c == 0).unwrap_or(b.len()) };
    let name = argv.first().copied().unwrap_or_default();
    let name = &name[..c_str(name).min(128)];
    let mut args: Vec<u8> = Vec::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(&a[..c_str(a).min(room)]);
        args.extend_from_slice(b"' ");
    }
    let clean = |b: &[u8]| -> String {
        String::from_utf8_lossy(b)
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect()
    };
    Error::UnknownCommand(format!(
        "ERR unknown command '{}', with args beginning with: {}",
        clean(name),
        clean(&args)
    ))
}

/// Checks the name and arity of `argv`; returns its table row.
pub(crate) fn check(argv: &[&[u8]]) -> Result<&'static Spec> {
    let Some(name) = argv.first() else {
        return Err(unknown_command(argv));
    };
    let spec = lookup(name).ok_or_else(|| unknown_command(argv))?;
    let n = argv.len() as i64;
    let arity = i64::from(spec.arity);
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        return Err(Error::WrongArity(spec.name.to_owned()));
    }
    Ok(spec)
}

/// Runs one checked command against an already locked view.
pub(crate) fn run_locked(spec: &Spec, argv: &[&[u8]], db: &mut Db<'_>) -> Reply {
    let mut args = Args::new(&argv[1..]);
    (spec.run)(&mut args, db)
}

impl Store {
    /// Runs one command given as its name and arguments, as a Redis client would send it,
    /// and returns Redis's reply, errors included.
    ///
    /// ```
    /// use sketchstore::{Reply, Store};
    /// let store = Store::new();
    /// assert_eq!(store.execute(&["SET", "k", "v"]), Reply::ok());
    /// assert_eq!(store.execute(&["GET", "k"]), Reply::bulk("v"));
    /// ```
    pub fn execute<A: AsRef<[u8]>>(&self, argv: &[A]) -> Reply {
        let argv: SmallVec<[&[u8]; 8]> = argv.iter().map(AsRef::as_ref).collect();
        let spec = match check(&argv) {
            Ok(s) => s,
            Err(e) => return Reply::Error(e.to_string()),
        };
        if self.inner.memory.is_some() {
            if let Err(e) = self.check_memory(spec.name) {
                return Reply::Error(e.to_string());
            }
        }
        if let Some(r) = self.execute_blocking(spec.name, &argv) {
            return r;
        }
        match spec.keys {
            Keys::All => self.with_db(Lock::All, |db| run_locked(spec, &argv, db)),
            keys => {
                let keys = keys.of(&argv);
                self.with_db(Lock::Keys(&keys), |db| run_locked(spec, &argv, db))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_text_matches_redis() {
        let e = unknown_command(&[b"FOO"]);
        assert_eq!(
            e.to_string(),
            "ERR unknown command 'FOO', with args beginning with: "
        );
        let e = unknown_command(&[b"FOO", b"bar", b"baz"]);
        assert_eq!(
            e.to_string(),
            "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' "
        );
        let a = [b'a'; 100];
        let b = [b'b'; 100];
        let e = unknown_command(&[b"X", &a, &b, b"c"]).to_string();
        let want = format!(
            "ERR unknown command 'X', with args beginning with: '{}' '{}' ",
            "a".repeat(100),
            "b".repeat(25)
        );
        assert_eq!(e, want);
    }

    #[test]
    fn key_ranges() {
        let argv: [&[u8]; 5] = [b"mset", b"a", b"1", b"b", b"2"];
        let k = Keys::Range {
            first: 1,
            last: -1,
            step: 2,
        }
        .of(&argv);
        assert_eq!(k.as_slice(), &[&b"a"[..], &b"b"[..]]);
        let argv: [&[u8]; 4] = [b"blpop", b"a", b"b", b"0"];
        let k = Keys::Range {
            first: 1,
            last: -2,
            step: 1,
        }
        .of(&argv);
        assert_eq!(k.as_slice(), &[&b"a"[..], &b"b"[..]]);
    }
}
