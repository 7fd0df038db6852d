//! List commands, blocking pops included.
//!
//! The table runners of BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP are their non-blocking
//! forms, which is how they run inside EXEC (Redis's `CLIENT_DENY_BLOCKING`); outside MULTI
//! a connection and `Store::execute` call the row's `block` parser instead and wait.

use super::{reply, Args, BlockingCall, Command, Flags, Keys, Spec};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::blocking::{ceil_ms, elem, WaitKind};
use crate::store::lists::{ListEnd, LposOptions, MPopped, LPOS_RANK_ZERO};
use crate::store::Db;
use std::time::Duration;

/// Redis's BLPOP/BRPOP/BLMOVE timeout argument: seconds as a C `long double`, converted to
/// whole milliseconds rounding up. `Ok(None)` blocks forever (`0`).
pub(crate) fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>> {
    match crate::num::parse_timeout_ms(arg) {
        Ok(0) => Ok(None),
        Ok(ms) => Ok(Some(Duration::from_millis(ms as u64))),
        Err(e) => Err(Error::other(
            e.to_string().trim_start_matches('-').to_owned(),
        )),
    }
}

/// `parse_timeout` against the clock: a timeout whose absolute time overflows Redis's
/// `timeout + mstime()` wraps negative there, and Redis's timeout table (keyed by the
/// unsigned time) then never fires it: the client blocks forever.
pub(crate) fn argv_timeout(clock: &Clock, arg: &[u8]) -> Result<Option<Duration>> {
    let t = parse_timeout(arg)?;
    Ok(t.filter(|d| clock.now_ms().checked_add(ceil_ms(*d)).is_some()))
}

fn end(left: bool) -> ListEnd {
    if left {
        ListEnd::Left
    } else {
        ListEnd::Right
    }
}

/// `LPUSH key element [element ...]`, `RPUSH`, `LPUSHX`, `RPUSHX`
pub(crate) struct Push<'a, const LEFT: bool, const XX: bool> {
    key: &'a [u8],
    values: &'a [&'a [u8]],
}

impl<'a, const LEFT: bool, const XX: bool> Command<'a> for Push<'a, LEFT, XX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Push {
            key: args.required()?,
            values: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.push(self.key, self.values, end(LEFT), XX))
    }
}

/// `LPOP key [count]`, `RPOP key [count]`
pub(crate) struct Pop<'a, const LEFT: bool> {
    key: &'a [u8],
    count: Option<usize>,
}

impl<'a, const LEFT: bool> Command<'a> for Pop<'a, LEFT> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        if args.remaining() > 1 {
            return Err(Error::WrongArity(if LEFT { "lpop" } else { "rpop" }.into()));
        }
        let count = match args.next() {
            None => None,
            Some(n) => match crate::num::parse_i64(n) {
                Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Err(Error::err("value is out of range, must be positive")),
            },
        };
        Ok(Pop { key, count })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.count {
            None => reply(db.pop(self.key, end(LEFT))),
            Some(n) => match db.pop_count(self.key, end(LEFT), n) {
                Ok(Some(items)) => Reply::from(items),
                Ok(None) => Reply::NilArray,
                Err(e) => Reply::Error(e.to_string()),
            },
        }
    }
}

/// `LRANGE key start stop`
pub(crate) struct LRange<'a> {
    key: &'a [u8],
    start: i64,
    stop: i64,
}

impl<'a> Command<'a> for LRange<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LRange {
            key: args.required()?,
            start: args.i64()?,
            stop: args.i64()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.lrange(self.key, self.start, self.stop))
    }
}

/// `LTRIM key start stop`
pub(crate) struct LTrim<'a> {
    key: &'a [u8],
    start: i64,
    stop: i64,
}

impl<'a> Command<'a> for LTrim<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LTrim {
            key: args.required()?,
            start: args.i64()?,
            stop: args.i64()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.ltrim(self.key, self.start, self.stop))
    }
}

/// `LLEN key`
pub(crate) struct LLen<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for LLen<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LLen {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.llen(self.key))
    }
}

/// `LINDEX key index` (the key is looked up before the index is parsed)
pub(crate) struct LIndex<'a> {
    key: &'a [u8],
    index: &'a [u8],
}

impl<'a> Command<'a> for LIndex<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LIndex {
            key: args.required()?,
            index: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.llen(self.key) {
            Err(e) => return Reply::Error(e.to_string()),
            Ok(0) => return Reply::Nil,
            Ok(_) => {}
        }
        match crate::num::parse_i64(self.index) {
            None => Reply::Error(Error::NotInteger.to_string()),
            Some(i) => reply(db.lindex(self.key, i)),
        }
    }
}

/// `LSET key index element` (the key is looked up before the index is parsed)
pub(crate) struct LSet<'a> {
    key: &'a [u8],
    index: &'a [u8],
    value: &'a [u8],
}

impl<'a> Command<'a> for LSet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LSet {
            key: args.required()?,
            index: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.llen(self.key) {
            Err(e) => return Reply::Error(e.to_string()),
            Ok(0) => return Reply::Error(Error::NoSuchKey.to_string()),
            Ok(_) => {}
        }
        match crate::num::parse_i64(self.index) {
            None => Reply::Error(Error::NotInteger.to_string()),
            Some(i) => reply(db.lset(self.key, i, self.value)),
        }
    }
}

/// `LREM key count element`
pub(crate) struct LRem<'a> {
    key: &'a [u8],
    count: i64,
    value: &'a [u8],
}

impl<'a> Command<'a> for LRem<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LRem {
            key: args.required()?,
            count: args.i64()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.lrem(self.key, self.count, self.value))
    }
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`, and `RPOPLPUSH source destination`
/// (`RPOPLPUSH` is `LMOVE source destination RIGHT LEFT`).
pub(crate) struct LMove<'a, const RPOPLPUSH: bool> {
    src: &'a [u8],
    dst: &'a [u8],
    from: ListEnd,
    to: ListEnd,
}

impl<'a, const RPOPLPUSH: bool> Command<'a> for LMove<'a, RPOPLPUSH> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let src = args.required()?;
        let dst = args.required()?;
        let (from, to) = if RPOPLPUSH {
            (ListEnd::Right, ListEnd::Left)
        } else {
            (
                ListEnd::parse(args.required()?)?,
                ListEnd::parse(args.required()?)?,
            )
        };
        Ok(LMove { src, dst, from, to })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.lmove(self.src, self.dst, self.from, self.to))
    }
}

/// `BLPOP key [key ...] timeout`, `BRPOP`: here the non-blocking form.
pub(crate) struct BPop<'a, const LEFT: bool> {
    keys: &'a [&'a [u8]],
}

impl<'a, const LEFT: bool> Command<'a> for BPop<'a, LEFT> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        let (keys, timeout) = all.split_at(all.len().saturating_sub(1));
        parse_timeout(timeout.first().copied().unwrap_or_default())?;
        Ok(BPop { keys })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.try_pop_now(self.keys, &WaitKind::Pop(end(LEFT))) {
            Ok(Some((k, v))) => Reply::Array(vec![Reply::Bulk(k.into_vec()), Reply::Bulk(v)]),
            Ok(None) => Reply::NilArray,
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout` and
/// `BRPOPLPUSH source destination timeout`: here the non-blocking form.
pub(crate) struct BLMove<'a, const RPOPLPUSH: bool> {
    mv: LMove<'a, RPOPLPUSH>,
}

impl<'a, const RPOPLPUSH: bool> Command<'a> for BLMove<'a, RPOPLPUSH> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let mv = LMove::parse(args)?;
        parse_timeout(args.required()?)?;
        Ok(BLMove { mv })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        self.mv.apply(db)
    }
}

/// `LINSERT key BEFORE|AFTER pivot element`
pub(crate) struct LInsert<'a> {
    key: &'a [u8],
    before: bool,
    pivot: &'a [u8],
    element: &'a [u8],
}

impl<'a> Command<'a> for LInsert<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let word = args.required()?;
        let before = if Args::is(word, "before") {
            true
        } else if Args::is(word, "after") {
            false
        } else {
            return Err(Error::Syntax);
        };
        Ok(LInsert {
            key,
            before,
            pivot: args.required()?,
            element: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.linsert(self.key, self.before, self.pivot, self.element))
    }
}

/// A non-negative integer argument; `msg` for anything else, a non-integer included
/// (Redis's `getPositiveLongFromObjectOrReply`).
fn positive(args: &mut Args<'_>, msg: &str) -> Result<u64> {
    crate::num::parse_i64(args.required()?)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| Error::err(msg))
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
pub(crate) struct LPos<'a> {
    key: &'a [u8],
    element: &'a [u8],
    opts: LposOptions,
}

impl<'a> Command<'a> for LPos<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let element = args.required()?;
        let mut opts = LposOptions::default();
        while let Some(word) = args.next() {
            let more = args.remaining() > 0;
            if Args::is(word, "rank") && more {
                opts.rank = args.i64()?;
                if opts.rank == 0 {
                    return Err(Error::err(LPOS_RANK_ZERO));
                }
            } else if Args::is(word, "count") && more {
                opts.count = Some(positive(args, "COUNT can't be negative")?);
            } else if Args::is(word, "maxlen") && more {
                opts.maxlen = positive(args, "MAXLEN can't be negative")?;
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(LPos { key, element, opts })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let index = |i: usize| Reply::Integer(i64::try_from(i).unwrap_or(i64::MAX));
        match db.lpos(self.key, self.element, self.opts) {
            Err(e) => Reply::Error(e.to_string()),
            Ok(found) => match (self.opts.count, found) {
                (Some(_), found) => {
                    Reply::Array(found.unwrap_or_default().into_iter().map(index).collect())
                }
                (None, Some(found)) => found.first().map_or(Reply::Nil, |&i| index(i)),
                (None, None) => Reply::Nil,
            },
        }
    }
}

/// LMPOP's and BLMPOP's arguments from the numkeys argument on: the keys, the end and
/// the count, checked in Redis's order.
fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<(&'a [&'a [u8]], ListEnd, usize)> {
    let numkeys = match crate::num::parse_i64(args.required()?) {
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => return Err(Error::err("numkeys should be greater than 0")),
    };
    let rest = args.rest();
    if numkeys >= rest.len() {
        return Err(Error::Syntax);
    }
    let (keys, rest) = rest.split_at(numkeys);
    let mut opts = Args::new(rest);
    let end = ListEnd::parse(opts.required()?)?;
    let mut count = None;
    while let Some(word) = opts.next() {
        if count.is_none() && Args::is(word, "count") && opts.remaining() > 0 {
            match crate::num::parse_i64(opts.required()?) {
                Some(n) if n >= 1 => count = Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Err(Error::err("count should be greater than 0")),
            }
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok((keys, end, count.unwrap_or(1)))
}

/// LMPOP's reply: the key and its elements, or the null array.
fn mpop_reply(r: Result<Option<MPopped>>) -> Reply {
    match r {
        Ok(Some((k, items))) => Reply::Array(vec![Reply::Bulk(k), Reply::from(items)]),
        Ok(None) => Reply::NilArray,
        Err(e) => Reply::Error(e.to_string()),
    }
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`
pub(crate) struct LMPop<'a> {
    keys: &'a [&'a [u8]],
    end: ListEnd,
    count: usize,
}

impl<'a> Command<'a> for LMPop<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let (keys, end, count) = parse_mpop(args)?;
        Ok(LMPop { keys, end, count })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        mpop_reply(db.lmpop(self.keys, self.end, self.count))
    }
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`: here the non-blocking
/// form. Redis checks the timeout after the other arguments.
pub(crate) struct BLMPop<'a> {
    mpop: LMPop<'a>,
}

impl<'a> Command<'a> for BLMPop<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let timeout = args.required()?;
        let mpop = LMPop::parse(args)?;
        parse_timeout(timeout)?;
        Ok(BLMPop { mpop })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        self.mpop.apply(db)
    }
}

/// BLMPOP outside MULTI.
fn block_mpop(argv: &[&[u8]], clock: &Clock) -> Result<BlockingCall> {
    let mut args = Args::new(argv.get(2..).unwrap_or_default());
    let (keys, end, count) = parse_mpop(&mut args)?;
    Ok(BlockingCall {
        keys: keys.iter().map(|k| Box::from(*k)).collect(),
        kind: WaitKind::MPop { end, count },
        timeout: argv_timeout(clock, argv[1])?,
        answer: |r| mpop_reply(r.map(|p| p.map(|(k, v)| (k.into_vec(), v.frames())))),
    })
}

/// BLPOP and BRPOP outside MULTI: the wait on every key but the last, the last being the
/// timeout.
fn block_pop<const LEFT: bool>(argv: &[&[u8]], clock: &Clock) -> Result<BlockingCall> {
    let (keys, timeout) = argv[1..].split_at(argv.len() - 2);
    Ok(BlockingCall {
        keys: keys.iter().map(|k| Box::from(*k)).collect(),
        kind: WaitKind::Pop(end(LEFT)),
        timeout: argv_timeout(clock, timeout[0])?,
        answer: |r| match elem(r) {
            Ok(Some((k, v))) => Reply::Array(vec![Reply::Bulk(k.into_vec()), Reply::Bulk(v)]),
            Ok(None) => Reply::NilArray,
            Err(e) => Reply::Error(e.to_string()),
        },
    })
}

/// BLMOVE and BRPOPLPUSH outside MULTI: Redis parses the ends before the timeout.
fn block_move<const RPOPLPUSH: bool>(argv: &[&[u8]], clock: &Clock) -> Result<BlockingCall> {
    let (from, to, timeout) = if RPOPLPUSH {
        (ListEnd::Right, ListEnd::Left, argv[3])
    } else {
        (ListEnd::parse(argv[3])?, ListEnd::parse(argv[4])?, argv[5])
    };
    Ok(BlockingCall {
        keys: vec![Box::from(argv[1])],
        kind: WaitKind::Move {
            dst: argv[2].into(),
            from,
            to,
        },
        timeout: argv_timeout(clock, timeout)?,
        answer: |r| match elem(r) {
            Ok(Some((_, v))) => Reply::Bulk(v),
            // A blocked list client that times out gets the null array, BLMOVE too.
            Ok(None) => Reply::NilArray,
            Err(e) => Reply::Error(e.to_string()),
        },
    })
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    let two = Keys::Range {
        first: 1,
        last: 2,
        step: 1,
    };
    let all_but_last = Keys::Range {
        first: 1,
        last: -2,
        step: 1,
    };
    t.extend([
        Spec {
            name: "lpush",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(Push<true, false>),
            block: None,
        },
        Spec {
            name: "rpush",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(Push<false, false>),
            block: None,
        },
        Spec {
            name: "lpushx",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(Push<true, true>),
            block: None,
        },
        Spec {
            name: "rpushx",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(Push<false, true>),
            block: None,
        },
        Spec {
            name: "lpop",
            arity: -2,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Pop<true>),
            block: None,
        },
        Spec {
            name: "rpop",
            arity: -2,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Pop<false>),
            block: None,
        },
        Spec {
            name: "lrange",
            arity: 4,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(LRange),
            block: None,
        },
        Spec {
            name: "ltrim",
            arity: 4,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(LTrim),
            block: None,
        },
        Spec {
            name: "llen",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(LLen),
            block: None,
        },
        Spec {
            name: "lindex",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(LIndex),
            block: None,
        },
        Spec {
            name: "lset",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(LSet),
            block: None,
        },
        Spec {
            name: "lrem",
            arity: 4,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(LRem),
            block: None,
        },
        Spec {
            name: "lmove",
            arity: 5,
            flags: Flags::WRITE_DENYOOM,
            keys: two,
            run: cmd!(LMove<false>),
            block: None,
        },
        Spec {
            name: "rpoplpush",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: two,
            run: cmd!(LMove<true>),
            block: None,
        },
        Spec {
            name: "blpop",
            arity: -3,
            flags: Flags::WRITE.with(Flags::BLOCKING),
            keys: all_but_last,
            run: cmd!(BPop<true>),
            block: Some(block_pop::<true>),
        },
        Spec {
            name: "brpop",
            arity: -3,
            flags: Flags::WRITE.with(Flags::BLOCKING),
            keys: all_but_last,
            run: cmd!(BPop<false>),
            block: Some(block_pop::<false>),
        },
        Spec {
            name: "blmove",
            arity: 6,
            flags: Flags::WRITE_DENYOOM.with(Flags::BLOCKING),
            keys: two,
            run: cmd!(BLMove<false>),
            block: Some(block_move::<false>),
        },
        Spec {
            name: "brpoplpush",
            arity: 4,
            flags: Flags::WRITE_DENYOOM.with(Flags::BLOCKING),
            keys: two,
            run: cmd!(BLMove<true>),
            block: Some(block_move::<true>),
        },
        Spec {
            name: "linsert",
            arity: 5,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(LInsert),
            block: None,
        },
        Spec {
            name: "lpos",
            arity: -3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(LPos),
            block: None,
        },
        Spec {
            name: "lmpop",
            arity: -4,
            flags: Flags::WRITE,
            keys: Keys::Counted { at: 1 },
            run: cmd!(LMPop),
            block: None,
        },
        Spec {
            name: "blmpop",
            arity: -5,
            flags: Flags::WRITE.with(Flags::BLOCKING),
            keys: Keys::Counted { at: 2 },
            run: cmd!(BLMPop),
            block: Some(block_mpop),
        },
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(arg: &str) -> Result<Option<u128>> {
        parse_timeout(arg.as_bytes()).map(|d| d.map(|d| d.as_millis()))
    }

    #[test]
    fn timeout_table_of_the_spec() {
        for zero in ["0", "0.0", "-0", "-0.0001"] {
            assert_eq!(ms(zero).unwrap(), None, "{zero}");
        }
        assert_eq!(ms("0.1").unwrap(), Some(100));
        assert_eq!(ms(".1").unwrap(), Some(100));
        assert_eq!(ms("+0.1").unwrap(), Some(100));
        assert_eq!(ms("1.5e-1").unwrap(), Some(150));
        assert_eq!(ms("1e0").unwrap(), Some(1000));
        assert_eq!(ms("0x1").unwrap(), Some(1000));
        assert_eq!(ms("0x0.8p0").unwrap(), Some(500));
        assert_eq!(ms("0.0001").unwrap(), Some(1));
        let neg = "ERR timeout is negative";
        let nf = "ERR timeout is not a float or out of range";
        for n in ["-1", "-0.5", "inf", "1e400", "1e16", "9223372036854775807"] {
            assert_eq!(ms(n).unwrap_err().to_string(), neg, "{n}");
        }
        for n in ["abc", "nan", "", " 0.1", "0.1 ", "5s"] {
            assert_eq!(ms(n).unwrap_err().to_string(), nf, "{n:?}");
        }
    }

    #[test]
    fn a_timeout_past_redis_clock_range_blocks_forever() {
        let m = crate::ManualClock::new(1000);
        let c = m.clock();
        // Redis's `timeout + mstime()` overflow blocks forever.
        assert_eq!(argv_timeout(&c, b"9223372036854775").unwrap(), None);
        assert_eq!(
            argv_timeout(&c, b"1").unwrap(),
            Some(Duration::from_secs(1))
        );
    }
}
