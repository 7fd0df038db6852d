//! Commands across databases: MOVE, SWAPDB, FLUSHALL, and COPY's `DB` option (parsed here,
//! run by `generic::Copy`). SELECT is the connection's (see `connection.rs`); a SELECT
//! queued in MULTI runs at EXEC through [`select_in_exec`].

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Db;

/// An argument read as Redis's `getIntFromObjectOrReply` reads it: not an integer is
/// `msg` (or "value is not an integer or out of range"), outside C's `int` is `msg` (or
/// the range error).
pub(crate) fn int_arg(arg: &[u8], msg: Option<&str>) -> Result<i64> {
    let Some(n) = crate::num::parse_i64(arg) else {
        return Err(msg.map_or(Error::NotInteger, Error::err));
    };
    if i32::try_from(n).is_err() {
        return Err(Error::err(msg.unwrap_or(
            "value is out of range, value must between -2147483648 and 2147483647",
        )));
    }
    Ok(n)
}

/// `SELECT index` inside EXEC, on a global view: switches the view's database for the
/// commands queued after it.
pub(crate) fn select_in_exec(argv: &[&[u8]], db: &mut Db<'_>) -> Reply {
    let r = argv
        .get(1)
        .ok_or_else(|| Error::WrongArity("select".into()))
        .and_then(|a| int_arg(a, None))
        .and_then(|n| db.db_index(n));
    match r {
        Ok(d) => {
            db.db = d;
            Reply::ok()
        }
        Err(e) => Reply::Error(e.to_string()),
    }
}

/// `MOVE key db`
pub(crate) struct Move<'a> {
    key: &'a [u8],
    to: i64,
}

impl<'a> Command<'a> for Move<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let to = int_arg(args.required()?, None)?;
        Ok(Move { key, to })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(
            db.db_index(self.to)
                .and_then(|to| db.move_key(self.key, to))
                .map(i64::from),
        )
    }
}

/// `SWAPDB index1 index2`
pub(crate) struct SwapDb {
    a: i64,
    b: i64,
}

impl<'a> Command<'a> for SwapDb {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let a = int_arg(args.required()?, Some("invalid first DB index"))?;
        let b = int_arg(args.required()?, Some("invalid second DB index"))?;
        Ok(SwapDb { a, b })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match (db.db_index(self.a), db.db_index(self.b)) {
            (Ok(a), Ok(b)) => {
                db.swapdb(a, b);
                Reply::ok()
            }
            (Err(e), _) | (_, Err(e)) => Reply::Error(e.to_string()),
        }
    }
}

/// `FLUSHALL [ASYNC | SYNC]` (every database) and `FLUSHDB [ASYNC | SYNC]` (the
/// connection's).
pub(crate) struct Flush<const ALL: bool>;

impl<'a, const ALL: bool> Command<'a> for Flush<ALL> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [] => Ok(Flush),
            [w] if Args::is(w, "async") || Args::is(w, "sync") => Ok(Flush),
            _ => Err(Error::Syntax),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        if ALL {
            db.flush_every_db();
        } else {
            db.flushdb();
        }
        Reply::ok()
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    t.extend([
        Spec {
            name: "move",
            arity: 3,
            flags: Flags::WRITE,
            keys: Keys::Move,
            run: cmd!(Move),
            block: None,
        },
        Spec {
            name: "swapdb",
            arity: 3,
            flags: Flags::WRITE,
            keys: Keys::Global,
            run: cmd!(SwapDb),
            block: None,
        },
        Spec {
            name: "flushall",
            arity: -1,
            flags: Flags::WRITE,
            keys: Keys::Global,
            run: cmd!(Flush<true>),
            block: None,
        },
        Spec {
            name: "flushdb",
            arity: -1,
            flags: Flags::WRITE,
            keys: Keys::All,
            run: cmd!(Flush<false>),
            block: None,
        },
    ]);
}
