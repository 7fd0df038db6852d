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

pub(crate) mod bits;
mod bloom;
mod cms;
mod config_params;
mod connection;
mod cuckoo;
pub(crate) mod databases;
mod dump;
mod generic;
mod hashes;
mod hll;
mod keymiss;
mod lists;
mod ops;
pub(crate) mod pubsub;
mod server;
mod sets;
mod strings;
mod tdigest;
mod topk;
mod txn;
mod zsets;

pub use connection::{Connection, Protocol};
pub(crate) use ops::short_buffer;
pub use ops::{TxOp, TxReply};
pub(crate) use pubsub::{check_subcommand, full_name};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::blocking::{Got, WaitKind};
use crate::store::{Db, Store};
use smallvec::SmallVec;
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
    /// Needs every shard of the connection's database.
    All,
    /// Needs every shard of every database (FLUSHALL, SWAPDB, INFO).
    Global,
    /// MOVE's key at 1, in the connection's database and in the one at 2 (every shard of
    /// every database inside EXEC).
    Move,
    /// COPY's keys at 1 and 2, and every shard of every database when a `DB` option names
    /// another database.
    Copy,
    /// Keys at `first`, `first + step`, ... up to `last` (negative: counted from the end,
    /// `-1` being the last argument).
    Range {
        first: usize,
        last: isize,
        step: usize,
    },
    /// Redis's `keynum` keys: the argument at `at` counts the keys that follow it (LMPOP,
    /// BLMPOP). A count that is not a positive integer names no keys; the command's parser
    /// reports it.
    Counted { at: usize },
    /// A destination key at 1, then [`Keys::Counted`] keys (ZUNIONSTORE, ZINTERSTORE,
    /// ZDIFFSTORE).
    DestCounted { at: usize },
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
        self.extend_with(argv, &mut out);
        out
    }

    /// Whether `argv` needs every shard of every database.
    pub(crate) fn is_global(self, argv: &[&[u8]]) -> bool {
        match self {
            Keys::Global | Keys::Move => true,
            Keys::Copy => argv
                .get(3..)
                .unwrap_or_default()
                .iter()
                .any(|a| a.eq_ignore_ascii_case(b"db")),
            _ => false,
        }
    }

    /// Appends the keys of `argv` (which includes the name) to `out`.
    pub(crate) fn extend_with<'a, const N: usize>(
        self,
        argv: &[&'a [u8]],
        out: &mut SmallVec<[&'a [u8]; N]>,
    ) where
        [&'a [u8]; N]: smallvec::Array<Item = &'a [u8]>,
    {
        if let Keys::Move = self {
            out.extend(argv.get(1).copied());
            return;
        }
        if let Keys::Copy = self {
            out.extend(argv.get(1..3).unwrap_or_default().iter().copied());
            return;
        }
        if let Keys::DestCounted { at } = self {
            out.extend(argv.get(1).copied());
            return Keys::Counted { at }.extend_with(argv, out);
        }
        if let Keys::Counted { at } = self {
            let n = argv
                .get(at)
                .and_then(|a| crate::num::parse_i64(a))
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0);
            let first = at + 1;
            let end = first.saturating_add(n).min(argv.len());
            out.extend(argv.get(first..end).unwrap_or_default().iter().copied());
            return;
        }
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
    }
}

pub(crate) type Runner = for<'a, 'b> fn(&mut Args<'a>, &mut Db<'b>) -> Reply;

/// A blocking command's parser: the wait it asks for, or the error its arguments earn.
/// Outside MULTI the caller (a [`crate::Connection`], `Store::execute`) runs the wait, on the
/// calling thread or as a future; inside MULTI the row's `run` serves it without waiting.
pub(crate) type BlockParser = fn(&[&[u8]], &Clock) -> Result<BlockingCall>;

/// What a command is, for every part of the crate that treats commands by kind: eviction
/// refuses `DENYOOM` commands at the memory limit, a connection runs `BLOCKING` ones through
/// the row's `block` parser, allows only `PUBSUB` ones in subscribed mode and runs `TXN` ones
/// itself instead of queuing them, and COMMAND reports them. No list of command names exists
/// outside the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flags(u16);

impl Flags {
    /// Nothing special: a read, or a command with no keys.
    pub const NONE: Flags = Flags(0);
    /// Modifies the keyspace (Redis's `write`).
    pub const WRITE: Flags = Flags(1);
    /// May grow memory: refused while over `maxmemory` (Redis's `denyoom`, which Redis only
    /// sets on write commands).
    pub const WRITE_DENYOOM: Flags = Flags(1 | 2);
    /// May block the connection (outside MULTI).
    pub const BLOCKING: Flags = Flags(4);
    /// Allowed while the connection is in subscribed mode (RESP2).
    pub const PUBSUB: Flags = Flags(8);
    /// Acts on the connection's transaction at once, even inside MULTI (MULTI, EXEC,
    /// DISCARD, WATCH).
    pub const TXN: Flags = Flags(16);
    /// Acts on the connection itself (SELECT, HELLO, CLIENT, RESET, QUIT, AUTH): run by the
    /// connection, never through the keyspace.
    pub const CONN: Flags = Flags(32);
    /// Redis's `admin`: never shown to MONITOR (CONFIG, PFDEBUG, MONITOR itself, ...).
    pub const ADMIN: Flags = Flags(64);

    /// Both sets of flags.
    pub const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    #[inline]
    pub const fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One row of the command table.
pub(crate) struct Spec {
    pub name: &'static str,
    pub arity: i32,
    pub flags: Flags,
    pub keys: Keys,
    pub run: Runner,
    pub block: Option<BlockParser>,
}

/// A blocking pop a command asked for: its keys, what it does with the element, how long it
/// waits and how its outcome is answered.
pub(crate) struct BlockingCall {
    pub keys: Vec<Box<[u8]>>,
    pub kind: WaitKind,
    pub timeout: Option<std::time::Duration>,
    pub answer: fn(Result<Option<Got>>) -> Reply,
}

impl BlockingCall {
    /// Waits on the calling thread.
    pub(crate) fn run(self, store: &Store) -> Reply {
        let keys: SmallVec<[&[u8]; 4]> = self.keys.iter().map(|k| &**k).collect();
        (self.answer)(store.block_sync(&keys, self.kind, self.timeout))
    }

    /// Waits as a future, without holding a thread.
    pub(crate) fn run_async(
        self,
        store: &Store,
    ) -> impl std::future::Future<Output = Reply> + Send + 'static {
        let answer = self.answer;
        let wait = store.block_async(self.keys, self.kind, self.timeout);
        async move { answer(wait.await) }
    }
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

/// The command table: the rows, and an open-addressed index of them by a case-blind hash
/// of the name. Every command pays for one lookup, so the index avoids lower-casing into a
/// string and SipHash: a lookup hashes and compares three words (about 200 instructions a
/// lookup before, about 40 now).
struct Table {
    specs: Box<[Spec]>,
    /// Per row: its name as [`name_words`], and a mask with `0x20` at each byte that is a
    /// letter, so that `words | mask` folds a name in any case onto the row's.
    names: Box<[([u64; NAME_WORDS], [u64; NAME_WORDS])]>,
    /// `TABLE_EMPTY` or an index into `specs`; probed linearly from the name's hash.
    index: Box<[u16; TABLE_SLOTS]>,
    /// Per row: how often connections ran it and how often it was refused or failed (INFO
    /// commandstats, process-wide).
    calls: Box<[CallStats]>,
}

/// Counters of one command, for INFO commandstats.
#[derive(Default)]
pub(crate) struct CallStats {
    pub calls: std::sync::atomic::AtomicU64,
    pub rejected: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

/// The counters of a row of the table.
pub(crate) fn call_stats(spec: &'static Spec) -> Option<&'static CallStats> {
    let t = table();
    let base = t.specs.as_ptr() as usize;
    let at = (spec as *const Spec as usize).checked_sub(base)? / std::mem::size_of::<Spec>();
    t.calls.get(at)
}

/// Index slots: a power of two over four times the number of commands, so probes are short.
const TABLE_SLOTS: usize = 512;
const TABLE_EMPTY: u16 = u16::MAX;
/// Words of a name in the index.
const NAME_WORDS: usize = 3;
/// The longest name the index holds (`tdigest.trimmed_mean` is 20); longer names are not
/// commands.
const MAX_NAME: usize = 8 * NAME_WORDS;

/// A name of at most [`MAX_NAME`] bytes as little-endian words, zero padded.
#[inline]
fn name_words(name: &[u8]) -> [u64; NAME_WORDS] {
    let mut buf = [0u8; MAX_NAME];
    buf[..name.len()].copy_from_slice(name);
    std::array::from_fn(|i| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[8 * i..8 * i + 8]);
        u64::from_le_bytes(w)
    })
}

/// The index slot to probe first for a name: a hash that ignores ASCII case (`| 0x20`
/// folds upper case onto lower; other bytes it folds together only collide).
#[inline]
fn name_slot(words: [u64; NAME_WORDS], len: usize) -> usize {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let h = ((words[0] | FOLD)
        ^ (words[1] | FOLD).rotate_left(31)
        ^ (words[2] | FOLD).rotate_left(17)
        ^ len as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - TABLE_SLOTS.trailing_zeros())) as usize
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut specs = Vec::new();
        strings::register(&mut specs);
        hashes::register(&mut specs);
        generic::register(&mut specs);
        databases::register(&mut specs);
        bits::register(&mut specs);
        hll::register(&mut specs);
        bloom::register(&mut specs);
        cuckoo::register(&mut specs);
        cms::register(&mut specs);
        topk::register(&mut specs);
        tdigest::register(&mut specs);
        lists::register(&mut specs);
        zsets::register(&mut specs);
        pubsub::register(&mut specs);
        txn::register(&mut specs);
        server::register(&mut specs);
        sets::register(&mut specs);
        dump::register(&mut specs);
        assert!(
            specs.len() < TABLE_SLOTS / 2,
            "command table index too small"
        );
        let names: Box<[_]> = specs
            .iter()
            .map(|spec| {
                let name = spec.name.as_bytes();
                // Names are matched by lower-casing what is sent, so a row's name is lower
                // case; the mask below relies on it.
                assert!(
                    name.len() <= MAX_NAME && !name.iter().any(u8::is_ascii_uppercase),
                    "command name {:?} not lower case or too long",
                    spec.name
                );
                let letters: Vec<u8> = name
                    .iter()
                    .map(|b| if b.is_ascii_lowercase() { 0x20 } else { 0 })
                    .collect();
                (name_words(name), name_words(&letters))
            })
            .collect();
        let mut index = Box::new([TABLE_EMPTY; TABLE_SLOTS]);
        for (i, spec) in specs.iter().enumerate() {
            let mut slot = name_slot(names[i].0, spec.name.len());
            loop {
                match index[slot] {
                    TABLE_EMPTY => break,
                    // A later row of the same name replaces the earlier one.
                    j if specs[usize::from(j)].name == spec.name => break,
                    _ => slot = (slot + 1) % TABLE_SLOTS,
                }
            }
            index[slot] = i as u16;
        }
        let calls = specs.iter().map(|_| CallStats::default()).collect();
        Table {
            specs: specs.into_boxed_slice(),
            names,
            index,
            calls,
        }
    })
}

/// The table row for a command name, matched case-insensitively.
#[inline]
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Spec> {
    if name.len() > MAX_NAME {
        return None;
    }
    let t = table();
    let words = name_words(name);
    let mut slot = name_slot(words, name.len());
    loop {
        let i = usize::from(t.index[slot]);
        if i == usize::from(TABLE_EMPTY) {
            return None;
        }
        let (row, letters) = t.names[i];
        let spec = &t.specs[i];
        if (0..NAME_WORDS).all(|w| (words[w] | letters[w]) == row[w])
            && spec.name.len() == name.len()
        {
            return Some(spec);
        }
        slot = (slot + 1) % TABLE_SLOTS;
    }
}

/// Whether `name` is a command that may wait for data (BLPOP and the other blocking pops).
/// Their names all start with `b` (a test keeps it so), which spares every other command a
/// second table lookup on the server's path.
pub(crate) fn may_block(name: &[u8]) -> bool {
    matches!(name.first(), Some(b'b' | b'B')) && lookup(name).is_some_and(|s| s.block.is_some())
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
    if db.notifying(crate::store::notify::KEY_MISS) {
        return keymiss::run_announcing_misses(spec, argv, db);
    }
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
        match check(&argv) {
            Ok(spec) => self.run_spec(spec, &argv).into_resp2(),
            Err(e) => Reply::Error(e.to_string()),
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
    fn blocking_commands_are_the_ones_may_block_sees() {
        for spec in table().specs.iter() {
            assert_eq!(
                may_block(spec.name.as_bytes()),
                spec.block.is_some(),
                "{}",
                spec.name
            );
        }
        assert!(may_block(b"BLPOP") && !may_block(b"bitcount") && !may_block(b""));
    }

    #[test]
    fn lookup_finds_every_command_in_any_case() {
        for spec in table().specs.iter() {
            let upper = spec.name.to_ascii_uppercase();
            for name in [spec.name.as_bytes(), upper.as_bytes()] {
                let found = lookup(name).map(|s| s.name);
                assert_eq!(found, Some(spec.name), "{}", spec.name);
            }
        }
        for name in [
            &b""[..],
            b"gett",
            b"ge",
            b"GET\0",
            b"\xffget",
            b"bf.addd",
            &[b'a'; 40],
        ] {
            assert!(lookup(name).is_none(), "{name:?}");
        }
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
