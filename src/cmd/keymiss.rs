//! Which keys a command looks up for reading, for the `keymiss` keyspace event.
//!
//! # Design
//!
//! Redis publishes `keymiss` (class `m`) from its read lookup (`lookupKeyRead` and its
//! variants) when the key is missing, and not from write lookups. Which of a command's keys
//! go through a read lookup is a fact of each command's implementation, so it is written
//! down here once, from the table's flags and a short list of exceptions, rather than in
//! every command's `apply`:
//!
//! - a command without the `WRITE` flag reads every key it names (GET, MGET, EXISTS, TYPE,
//!   TTL, TOUCH, DUMP, PFCOUNT, SINTER, ZUNION, LCS, BITFIELD_RO, SORT_RO ...), except
//!   OBJECT (looked up with `LOOKUP_NONOTIFY`), MEMORY USAGE (a plain dictionary find) and
//!   the script runners (their keys are read, if at all, by the commands they call);
//! - write commands that read some keys: SET with GET, GETSET, GETDEL and GETEX read their
//!   key; SINTERSTORE, SUNIONSTORE, SDIFFSTORE, ZRANGESTORE, ZUNIONSTORE, ZINTERSTORE,
//!   ZDIFFSTORE, BITOP and COPY read their sources; PFMERGE reads every key, its
//!   destination included; SORT reads its key; BITFIELD reads its key when it only GETs.
//!
//! The keys are looked up before the command runs (an `expired` event for a key that the
//! lookup expires comes first, as in Redis), and the misses are announced ahead of the
//! command's own events once its reply is known: Redis checks arguments before its lookups,
//! so a command refused for its arguments announces nothing (except the sorted-set set
//! operations, which read their options after their keys), and a multi-key read that
//! stops at a key of the wrong type announces only the misses before that key. Not
//! modelled: SORT's BY and GET pattern lookups.
//!
//! With the `m` class off (the default), none of this runs: the caller pays one relaxed
//! atomic load.
//!
//! # References
//!
//! Redis 7.0 `src/db.c` (`lookupKey`, the flags, EXISTS, TYPE), `src/object.c`,
//! `src/t_string.c`, `src/t_set.c`, `src/t_zset.c`, `src/bitops.c`, `src/hyperloglog.c`,
//! `src/sort.c`, `src/expire.c`.

use super::{Args, Flags, Keys, Spec};
use crate::reply::Reply;
use crate::store::generic::KeyType;
use crate::store::Db;
use smallvec::SmallVec;

/// The keys of `argv` that `spec`'s command looks up for reading.
fn read_keys<'a>(spec: &Spec, argv: &[&'a [u8]]) -> SmallVec<[&'a [u8]; 4]> {
    let from = |i: usize| -> SmallVec<[&'a [u8]; 4]> {
        argv.get(i..).unwrap_or_default().iter().copied().collect()
    };
    let key = || from(1).into_iter().take(1).collect();
    let is = |i: usize, word: &str| argv.get(i).is_some_and(|a| Args::is(a, word));
    match spec.name {
        "object" | "memory" | "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall"
        | "fcall_ro" => SmallVec::new(),
        "set" => {
            if (3..argv.len()).any(|i| is(i, "get")) {
                key()
            } else {
                SmallVec::new()
            }
        }
        "getset" | "getdel" | "getex" | "sort" | "sort_ro" | "copy" => key(),
        "bitfield" => {
            let writes = (2..argv.len()).any(|i| is(i, "set") || is(i, "incrby"));
            if writes {
                SmallVec::new()
            } else {
                key()
            }
        }
        "sinterstore" | "sunionstore" | "sdiffstore" => from(2),
        "zrangestore" => from(2).into_iter().take(1).collect(),
        "bitop" => from(3),
        "pfmerge" => from(1),
        "zunionstore" | "zinterstore" | "zdiffstore" => Keys::Counted { at: 2 }.of(argv),
        _ if spec.flags.has(Flags::WRITE)
            || spec.flags.has(Flags::TXN)
            || spec.flags.has(Flags::CONN)
            || spec.flags.has(Flags::BLOCKING) =>
        {
            SmallVec::new()
        }
        _ => spec.keys.of(argv),
    }
}

/// Whether an existing key of type `t` passes `name`'s type check (for finding the key a
/// multi-key read stopped at with WRONGTYPE).
fn accepts(name: &str, t: KeyType) -> bool {
    match name {
        "sinter" | "sinterstore" | "sunion" | "sunionstore" | "sdiff" | "sdiffstore"
        | "sintercard" | "smembers" => t == KeyType::Set,
        "zunion" | "zinter" | "zdiff" | "zunionstore" | "zinterstore" | "zdiffstore"
        | "zintercard" => matches!(t, KeyType::ZSet | KeyType::Set),
        _ => t == KeyType::String,
    }
}

/// Whether `argv`'s command looks its keys up before reading its options, so that an
/// option's error follows the misses: the sorted-set set operations, once their key count
/// fits the arguments.
fn lookups_precede_options(name: &str, argv: &[&[u8]]) -> bool {
    let at = match name {
        "zunionstore" | "zinterstore" | "zdiffstore" => 2,
        "zunion" | "zinter" | "zdiff" | "zintercard" => 1,
        _ => return false,
    };
    argv.get(at)
        .and_then(|a| crate::num::parse_i64(a))
        .and_then(|n| usize::try_from(n).ok())
        .is_some_and(|n| n >= 1 && n < argv.len().saturating_sub(at))
}

/// Runs the command with its read lookups announced as `keymiss` (the `m` class is on).
pub(super) fn run_announcing_misses(spec: &Spec, argv: &[&[u8]], db: &mut Db<'_>) -> Reply {
    let keys = read_keys(spec, argv);
    let types: SmallVec<[KeyType; 4]> = keys.iter().map(|k| db.key_type(k)).collect();
    let mark = db.events_mark();
    let mut args = Args::new(argv.get(1..).unwrap_or_default());
    let reply = (spec.run)(&mut args, db);
    let looked_up = match &reply {
        Reply::Error(e) if e.starts_with("WRONGTYPE") => types
            .iter()
            .position(|t| *t != KeyType::None && !accepts(spec.name, *t))
            .unwrap_or(keys.len()),
        Reply::Error(_) if !lookups_precede_options(spec.name, argv) => 0,
        _ => keys.len(),
    };
    let missed: SmallVec<[&[u8]; 4]> = keys
        .iter()
        .zip(&types)
        .take(looked_up)
        .filter(|(_, t)| **t == KeyType::None)
        .map(|(k, _)| *k)
        .collect();
    if !missed.is_empty() {
        db.insert_misses(mark, &missed);
    }
    reply
}
