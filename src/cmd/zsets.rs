//! Sorted-set commands, the blocking pops included.
//!
//! Argument errors come in Redis's order: options and numbers are checked before the key is
//! looked up, except where Redis looks the keys up first (the algebra commands check their
//! inputs' types before reading WEIGHTS, AGGREGATE, LIMIT; ZSCAN its key before its
//! options). The table runners of BZPOPMIN, BZPOPMAX and BZMPOP are their non-blocking
//! forms, which is how they run inside EXEC.

use super::lists::{argv_timeout, parse_timeout};
use super::{Args, BlockingCall, Command, Flags, Keys, Spec};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::blocking::{Got, Taken, WaitKind};
use crate::store::zsets::{ZEntry, ZRange, ZRangeBy, ZSetOp, ZaddReply};
use crate::store::Db;
use crate::types::zset::{parse_score, Aggregate, LexRange, ScoreRange, ZaddFlags};

fn err_reply(e: impl std::fmt::Display) -> Reply {
    Reply::Error(e.to_string())
}

fn score_arg(a: &[u8]) -> Result<f64> {
    parse_score(a).ok_or(Error::NotFloat)
}

fn members(v: Vec<ZEntry>) -> Reply {
    Reply::Array(v.into_iter().map(|(m, _)| Reply::Bulk(m)).collect())
}

/// Member/score pairs: flat in RESP2, nested in RESP3.
fn pairs(v: Vec<ZEntry>) -> Reply {
    Reply::Pairs(
        v.into_iter()
            .map(|(m, s)| (Reply::Bulk(m), Reply::Double(s)))
            .collect(),
    )
}

fn entries(v: Vec<ZEntry>, withscores: bool) -> Reply {
    if withscores {
        pairs(v)
    } else {
        members(v)
    }
}

fn opt_double(s: Option<f64>) -> Reply {
    s.map_or(Reply::Nil, Reply::Double)
}

/// `getPositiveLongFromObjectOrReply` with no message of its own.
fn positive(a: &[u8]) -> Result<usize> {
    match crate::num::parse_i64(a) {
        None => Err(Error::NotInteger),
        Some(n) if n < 0 => Err(Error::err("value is out of range, must be positive")),
        Some(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

/// `getRangeLongFromObjectOrReply(1, LONG_MAX, msg)`: any failure answers `msg`.
fn at_least_one(a: &[u8], msg: &str) -> Result<usize> {
    match crate::num::parse_i64(a) {
        Some(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(Error::err(msg)),
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
pub(crate) struct ZAdd<'a> {
    key: &'a [u8],
    flags: ZaddFlags,
    ch: bool,
    pairs: Vec<(f64, &'a [u8])>,
}

impl<'a> Command<'a> for ZAdd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let mut flags = ZaddFlags::default();
        let mut ch = false;
        let rest = args.rest();
        let mut i = 0;
        while let Some(w) = rest.get(i) {
            match w.to_ascii_lowercase().as_slice() {
                b"nx" => flags.nx = true,
                b"xx" => flags.xx = true,
                b"ch" => ch = true,
                b"incr" => flags.incr = true,
                b"gt" => flags.gt = true,
                b"lt" => flags.lt = true,
                _ => break,
            }
            i += 1;
        }
        let rest = &rest[i..];
        if rest.is_empty() || rest.len() % 2 == 1 {
            return Err(Error::Syntax);
        }
        flags.validate(rest.len() / 2)?;
        let pairs = rest
            .chunks_exact(2)
            .map(|p| Ok((score_arg(p[0])?, p[1])))
            .collect::<Result<Vec<_>>>()?;
        Ok(ZAdd {
            key,
            flags,
            ch,
            pairs,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zadd(self.key, self.flags, self.ch, &self.pairs) {
            Ok(ZaddReply::Count(n)) => Reply::from(n),
            Ok(ZaddReply::Score(s)) => opt_double(s),
            Err(e) => err_reply(e),
        }
    }
}

/// `ZINCRBY key increment member`
pub(crate) struct ZIncrBy<'a> {
    key: &'a [u8],
    by: f64,
    member: &'a [u8],
}

impl<'a> Command<'a> for ZIncrBy<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZIncrBy {
            key: args.required()?,
            by: score_arg(args.required()?)?,
            member: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zincrby(self.key, self.by, self.member) {
            Ok(s) => Reply::Double(s),
            Err(e) => err_reply(e),
        }
    }
}

/// `ZREM key member [member ...]`
pub(crate) struct ZRem<'a> {
    key: &'a [u8],
    members: &'a [&'a [u8]],
}

impl<'a> Command<'a> for ZRem<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZRem {
            key: args.required()?,
            members: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.zrem(self.key, self.members))
    }
}

/// `ZCARD key`
pub(crate) struct ZCard<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for ZCard<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZCard {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.zcard(self.key))
    }
}

/// `ZSCORE key member`
pub(crate) struct ZScore<'a> {
    key: &'a [u8],
    member: &'a [u8],
}

impl<'a> Command<'a> for ZScore<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZScore {
            key: args.required()?,
            member: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zscore(self.key, self.member) {
            Ok(s) => opt_double(s),
            Err(e) => err_reply(e),
        }
    }
}

/// `ZMSCORE key member [member ...]`
pub(crate) struct ZMScore<'a> {
    key: &'a [u8],
    members: &'a [&'a [u8]],
}

impl<'a> Command<'a> for ZMScore<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZMScore {
            key: args.required()?,
            members: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zmscore(self.key, self.members) {
            Ok(v) => Reply::Array(v.into_iter().map(opt_double).collect()),
            Err(e) => err_reply(e),
        }
    }
}

/// `ZRANK key member`, `ZREVRANK key member`
pub(crate) struct ZRank<'a, const REV: bool> {
    key: &'a [u8],
    member: &'a [u8],
}

impl<'a, const REV: bool> Command<'a> for ZRank<'a, REV> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZRank {
            key: args.required()?,
            member: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zrank(self.key, self.member, REV) {
            Ok(Some(r)) => Reply::from(r),
            Ok(None) => Reply::Nil,
            Err(e) => err_reply(e),
        }
    }
}

/// `ZCOUNT key min max`
pub(crate) struct ZCount<'a> {
    key: &'a [u8],
    range: ScoreRange,
}

impl<'a> Command<'a> for ZCount<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let range = ScoreRange::parse(args.required()?, args.required()?)?;
        Ok(ZCount { key, range })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.zcount(self.key, &self.range))
    }
}

/// `ZLEXCOUNT key min max`
pub(crate) struct ZLexCount<'a> {
    key: &'a [u8],
    range: LexRange,
}

impl<'a> Command<'a> for ZLexCount<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let range = LexRange::parse(args.required()?, args.required()?)?;
        Ok(ZLexCount { key, range })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.zlexcount(self.key, &self.range))
    }
}

/// What a ZRANGE-family name fixes before its options are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// `zrangeGenericCommand`'s parse: `min max` then the options the command allows, then
/// the conflicts, then the range itself. Returns the query and WITHSCORES.
fn parse_range(
    args: &mut Args<'_>,
    store: bool,
    mut by: By,
    fixed_rev: Option<bool>,
) -> Result<(ZRange, bool)> {
    let min = args.required()?;
    let max = args.required()?;
    let opts = args.rest();
    let mut withscores = false;
    let mut limit: (i64, i64) = (0, -1);
    let mut rev = fixed_rev;
    let mut j = 0;
    while let Some(w) = opts.get(j) {
        let left = opts.len() - j - 1;
        if !store && Args::is(w, "withscores") {
            withscores = true;
        } else if Args::is(w, "limit") && left >= 2 {
            let off = crate::num::parse_i64(opts[j + 1]).ok_or(Error::NotInteger)?;
            let cnt = crate::num::parse_i64(opts[j + 2]).ok_or(Error::NotInteger)?;
            limit = (off, cnt);
            j += 2;
        } else if rev.is_none() && Args::is(w, "rev") {
            rev = Some(true);
        } else if by == By::Auto && Args::is(w, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && Args::is(w, "byscore") {
            by = By::Score;
        } else {
            return Err(Error::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    // Redis tells "no LIMIT" by a count of -1, so `LIMIT x -1` passes as no LIMIT.
    let has_limit = limit.1 != -1;
    if has_limit && by == By::Rank {
        return Err(Error::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(Error::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (lo, hi) = if rev && by != By::Rank {
        (max, min)
    } else {
        (min, max)
    };
    let range = match by {
        By::Score => ZRangeBy::Score(ScoreRange::parse(lo, hi)?),
        By::Lex => ZRangeBy::Lex(LexRange::parse(lo, hi)?),
        By::Rank | By::Auto => {
            let start = crate::num::parse_i64(lo).ok_or(Error::NotInteger)?;
            let stop = crate::num::parse_i64(hi).ok_or(Error::NotInteger)?;
            ZRangeBy::Rank(start, stop)
        }
    };
    Ok((
        ZRange {
            by: range,
            rev,
            // An offset applies even when the count is -1.
            limit: Some(limit),
        },
        withscores,
    ))
}

/// `ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` and the
/// fixed forms: `ZREVRANGE` (`BY` rank, `REV` true), `ZRANGEBYSCORE`, `ZREVRANGEBYSCORE`,
/// `ZRANGEBYLEX`, `ZREVRANGEBYLEX`.
pub(crate) struct ZRangeCmd<'a, const BY: u8, const REV: u8> {
    key: &'a [u8],
    q: ZRange,
    withscores: bool,
}

/// `BY`: 0 any (ZRANGE), 1 rank, 2 score, 3 lex. `REV`: 0 any, 1 forward, 2 reverse.
fn fixed(by: u8, rev: u8) -> (By, Option<bool>) {
    let by = match by {
        1 => By::Rank,
        2 => By::Score,
        3 => By::Lex,
        _ => By::Auto,
    };
    let rev = match rev {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    };
    (by, rev)
}

impl<'a, const BY: u8, const REV: u8> Command<'a> for ZRangeCmd<'a, BY, REV> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let (by, rev) = fixed(BY, REV);
        let (q, withscores) = parse_range(args, false, by, rev)?;
        Ok(ZRangeCmd { key, q, withscores })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zrange(self.key, &self.q) {
            Ok(v) => entries(v, self.withscores),
            Err(e) => err_reply(e),
        }
    }
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`
pub(crate) struct ZRangeStore<'a> {
    dst: &'a [u8],
    src: &'a [u8],
    q: ZRange,
}

impl<'a> Command<'a> for ZRangeStore<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let dst = args.required()?;
        let src = args.required()?;
        let (q, _) = parse_range(args, true, By::Auto, None)?;
        Ok(ZRangeStore { dst, src, q })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.zrangestore(self.dst, self.src, &self.q))
    }
}

/// `ZREMRANGEBYRANK key start stop` (`BY` 1), `ZREMRANGEBYSCORE key min max` (2),
/// `ZREMRANGEBYLEX key min max` (3)
pub(crate) struct ZRemRange<'a, const BY: u8> {
    key: &'a [u8],
    by: ZRangeBy,
}

impl<'a, const BY: u8> Command<'a> for ZRemRange<'a, BY> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let (a, b) = (args.required()?, args.required()?);
        let by = match BY {
            2 => ZRangeBy::Score(ScoreRange::parse(a, b)?),
            3 => ZRangeBy::Lex(LexRange::parse(a, b)?),
            _ => ZRangeBy::Rank(
                crate::num::parse_i64(a).ok_or(Error::NotInteger)?,
                crate::num::parse_i64(b).ok_or(Error::NotInteger)?,
            ),
        };
        Ok(ZRemRange { key, by })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.zremrange(self.key, &self.by))
    }
}

/// `ZPOPMIN key [count]`, `ZPOPMAX key [count]`
pub(crate) struct ZPop<'a, const MAX: bool> {
    key: &'a [u8],
    count: Option<usize>,
}

impl<'a, const MAX: bool> Command<'a> for ZPop<'a, MAX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        if args.remaining() > 1 {
            return Err(Error::Syntax);
        }
        let count = args.next().map(positive).transpose()?;
        Ok(ZPop { key, count })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.zpop(self.key, MAX, self.count.unwrap_or(1)) {
            Err(e) => err_reply(e),
            // Without a count the pair is flat in both protocols.
            Ok(v) if self.count.is_none() => Reply::Array(
                v.into_iter()
                    .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                    .collect(),
            ),
            Ok(v) => pairs(v),
        }
    }
}

fn bzpop_reply(r: Result<Option<Got>>) -> Reply {
    match r {
        Ok(Some((k, Taken::Entries(mut v)))) => match v.pop() {
            Some((m, s)) => Reply::Array(vec![
                Reply::Bulk(k.into_vec()),
                Reply::Bulk(m),
                Reply::Double(s),
            ]),
            None => Reply::NilArray,
        },
        Ok(_) => Reply::NilArray,
        Err(e) => err_reply(e),
    }
}

fn zmpop_reply(r: Result<Option<Got>>) -> Reply {
    match r {
        Ok(Some((k, Taken::Entries(v)))) => Reply::Array(vec![
            Reply::Bulk(k.into_vec()),
            Reply::Array(
                v.into_iter()
                    .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                    .collect(),
            ),
        ]),
        Ok(_) => Reply::NilArray,
        Err(e) => err_reply(e),
    }
}

/// `BZPOPMIN key [key ...] timeout`, `BZPOPMAX`: here the non-blocking form.
pub(crate) struct BZPop<'a, const MAX: bool> {
    keys: &'a [&'a [u8]],
}

impl<'a, const MAX: bool> Command<'a> for BZPop<'a, MAX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        let (keys, timeout) = all.split_at(all.len().saturating_sub(1));
        parse_timeout(timeout.first().copied().unwrap_or_default())?;
        Ok(BZPop { keys })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let kind = WaitKind::ZPop {
            max: MAX,
            count: None,
        };
        bzpop_reply(db.try_take_now(self.keys, &kind))
    }
}

fn block_zpop<const MAX: bool>(argv: &[&[u8]], clock: &Clock) -> Result<BlockingCall> {
    let (keys, timeout) = argv[1..].split_at(argv.len() - 2);
    Ok(BlockingCall {
        keys: keys.iter().map(|k| Box::from(*k)).collect(),
        kind: WaitKind::ZPop {
            max: MAX,
            count: None,
        },
        timeout: argv_timeout(clock, timeout[0])?,
        answer: bzpop_reply,
    })
}

/// ZMPOP's and BZMPOP's arguments after the count at `at`: keys, `MIN|MAX`, `COUNT n`.
struct MPopArgs<'a> {
    keys: &'a [&'a [u8]],
    max: bool,
    count: usize,
}

fn parse_mpop<'a>(rest: &'a [&'a [u8]]) -> Result<MPopArgs<'a>> {
    let Some((numkeys, rest)) = rest.split_first() else {
        return Err(Error::Syntax);
    };
    let n = at_least_one(numkeys, "numkeys should be greater than 0")?;
    if n >= rest.len() {
        return Err(Error::Syntax);
    }
    let (keys, rest) = rest.split_at(n);
    let max = if Args::is(rest[0], "min") {
        false
    } else if Args::is(rest[0], "max") {
        true
    } else {
        return Err(Error::Syntax);
    };
    let mut count = None;
    let mut j = 1;
    while let Some(w) = rest.get(j) {
        let more = rest.len() - 1 - j;
        if count.is_none() && Args::is(w, "count") && more > 0 {
            count = Some(at_least_one(rest[j + 1], "count should be greater than 0")?);
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok(MPopArgs {
        keys,
        max,
        count: count.unwrap_or(1),
    })
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`
pub(crate) struct ZMPop<'a> {
    a: MPopArgs<'a>,
}

impl<'a> Command<'a> for ZMPop<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ZMPop {
            a: parse_mpop(args.rest())?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let kind = WaitKind::ZPop {
            max: self.a.max,
            count: Some(self.a.count),
        };
        zmpop_reply(db.try_take_now(self.a.keys, &kind))
    }
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`: here the non-blocking form.
pub(crate) struct BZMPop<'a> {
    inner: ZMPop<'a>,
}

impl<'a> Command<'a> for BZMPop<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let timeout = args.required()?;
        let a = parse_mpop(args.rest())?;
        parse_timeout(timeout)?;
        Ok(BZMPop { inner: ZMPop { a } })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        self.inner.apply(db)
    }
}

fn block_zmpop(argv: &[&[u8]], clock: &Clock) -> Result<BlockingCall> {
    let a = parse_mpop(&argv[2..])?;
    Ok(BlockingCall {
        keys: a.keys.iter().map(|k| Box::from(*k)).collect(),
        kind: WaitKind::ZPop {
            max: a.max,
            count: Some(a.count),
        },
        timeout: argv_timeout(clock, argv[1])?,
        answer: zmpop_reply,
    })
}

/// `ZRANDMEMBER key [count [WITHSCORES]]`
pub(crate) struct ZRandMember<'a> {
    key: &'a [u8],
    count: Option<i64>,
    withscores: bool,
}

impl<'a> Command<'a> for ZRandMember<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let Some(c) = args.next() else {
            return Ok(ZRandMember {
                key,
                count: None,
                withscores: false,
            });
        };
        let count = match crate::num::parse_i64(c) {
            None => return Err(Error::NotInteger),
            Some(i64::MIN) => {
                return Err(Error::err(
                    "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ))
            }
            Some(n) => n,
        };
        let withscores = match args.rest() {
            [] => false,
            [w] if Args::is(w, "withscores") => true,
            _ => return Err(Error::Syntax),
        };
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(Error::err("value is out of range"));
        }
        Ok(ZRandMember {
            key,
            count: Some(count),
            withscores,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.count {
            None => super::reply(db.zrandmember_one(self.key)),
            Some(n) => match db.zrandmember(self.key, n) {
                Ok(v) => entries(v, self.withscores),
                Err(e) => err_reply(e),
            },
        }
    }
}

/// The options after an algebra command's keys, read once the inputs' types are checked.
struct AlgebraOpts {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// `ZUNION`/`ZINTER`/`ZDIFF numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES]`, their `*STORE destination numkeys ...` forms and `ZINTERCARD numkeys key
/// [key ...] [LIMIT limit]`. `KIND`: 0 reply, 1 store, 2 cardinality.
pub(crate) struct ZAlgebra<'a, const OP: u8, const KIND: u8> {
    dst: Option<&'a [u8]>,
    keys: &'a [&'a [u8]],
    opts: Result<AlgebraOpts>,
}

fn op_of(op: u8) -> ZSetOp {
    match op {
        0 => ZSetOp::Union,
        1 => ZSetOp::Inter,
        _ => ZSetOp::Diff,
    }
}

fn algebra_name(op: u8, kind: u8) -> &'static str {
    match (op, kind) {
        (0, 1) => "zunionstore",
        (1, 1) => "zinterstore",
        (_, 1) => "zdiffstore",
        (0, _) => "zunion",
        (1, 2) => "zintercard",
        (1, _) => "zinter",
        _ => "zdiff",
    }
}

fn parse_algebra_opts(
    rest: &[&[u8]],
    setnum: usize,
    op: ZSetOp,
    store: bool,
    card: bool,
) -> Result<AlgebraOpts> {
    let mut o = AlgebraOpts {
        weights: Vec::new(),
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = 0;
    while let Some(w) = rest.get(j) {
        let remaining = rest.len() - j;
        if op != ZSetOp::Diff && !card && remaining > setnum && Args::is(w, "weights") {
            j += 1;
            o.weights.clear();
            for a in &rest[j..j + setnum] {
                o.weights
                    .push(parse_score(a).ok_or_else(|| Error::err("weight value is not a float"))?);
            }
            j += setnum;
        } else if op != ZSetOp::Diff && !card && remaining >= 2 && Args::is(w, "aggregate") {
            let a = rest[j + 1];
            o.aggregate = if Args::is(a, "sum") {
                Aggregate::Sum
            } else if Args::is(a, "min") {
                Aggregate::Min
            } else if Args::is(a, "max") {
                Aggregate::Max
            } else {
                return Err(Error::Syntax);
            };
            j += 2;
        } else if !store && !card && Args::is(w, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && Args::is(w, "limit") {
            o.limit = match crate::num::parse_i64(rest[j + 1]) {
                Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(Error::err("LIMIT can't be negative")),
            };
            j += 2;
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok(o)
}

impl<'a, const OP: u8, const KIND: u8> Command<'a> for ZAlgebra<'a, OP, KIND> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let dst = if KIND == 1 {
            Some(args.required()?)
        } else {
            None
        };
        let setnum = args.i64()?;
        if setnum < 1 {
            return Err(Error::err(format!(
                "at least 1 input key is needed for '{}' command",
                algebra_name(OP, KIND)
            )));
        }
        let rest = args.rest();
        let setnum = usize::try_from(setnum).unwrap_or(usize::MAX);
        if setnum > rest.len() {
            return Err(Error::Syntax);
        }
        let (keys, rest) = rest.split_at(setnum);
        let opts = parse_algebra_opts(rest, setnum, op_of(OP), KIND == 1, KIND == 2);
        Ok(ZAlgebra { dst, keys, opts })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        if let Err(e) = db.zset_check_types(self.keys) {
            return err_reply(e);
        }
        let o = match self.opts {
            Ok(o) => o,
            Err(e) => return err_reply(e),
        };
        let op = op_of(OP);
        match (KIND, self.dst) {
            (1, Some(dst)) => {
                super::reply(db.zsetop_store(dst, op, self.keys, &o.weights, o.aggregate))
            }
            (2, _) => super::reply(db.zintercard(self.keys, o.limit)),
            _ => match db.zsetop(op, self.keys, &o.weights, o.aggregate) {
                Ok(z) => entries(
                    z.iter().map(|(m, s)| (m.to_vec(), s)).collect(),
                    o.withscores,
                ),
                Err(e) => err_reply(e),
            },
        }
    }
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
pub(crate) struct ZScan<'a> {
    key: &'a [u8],
    cursor: u64,
    opts: &'a [&'a [u8]],
}

impl<'a> Command<'a> for ZScan<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let cursor = crate::num::parse_u64_cursor(args.required()?).ok_or(Error::InvalidCursor)?;
        Ok(ZScan {
            key,
            cursor,
            opts: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        // A missing key answers before the options are read, as in Redis.
        match db.zcard(self.key) {
            Err(e) => return err_reply(e),
            Ok(0) => return Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]),
            Ok(_) => {}
        }
        let mut pattern = None;
        let mut count = 10usize;
        let mut j = 0;
        while let Some(w) = self.opts.get(j) {
            let has_value = j + 1 < self.opts.len();
            if Args::is(w, "count") && has_value {
                match crate::num::parse_i64(self.opts[j + 1]) {
                    None => return err_reply(Error::NotInteger),
                    Some(n) if n < 1 => return err_reply(Error::Syntax),
                    Some(n) => count = usize::try_from(n).unwrap_or(usize::MAX),
                }
            } else if Args::is(w, "match") && has_value {
                pattern = Some(self.opts[j + 1]);
            } else {
                return err_reply(Error::Syntax);
            }
            j += 2;
        }
        match db.zscan(self.key, self.cursor, pattern, count) {
            Ok((next, v)) => Reply::Array(vec![
                Reply::bulk(next.to_string()),
                Reply::Array(
                    v.into_iter()
                        .flat_map(|(m, s)| {
                            [
                                Reply::Bulk(m),
                                Reply::bulk(crate::types::zset::format_score(s)),
                            ]
                        })
                        .collect(),
                ),
            ]),
            Err(e) => err_reply(e),
        }
    }
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
    let counted = |at| Keys::Counted { at };
    let stored = Keys::DestCounted { at: 2 };
    let w = Flags::WRITE;
    let wd = Flags::WRITE_DENYOOM;
    let r = Flags::NONE;
    let row = |name, arity, flags, keys, run| Spec {
        name,
        arity,
        flags,
        keys,
        run,
        block: None,
    };
    t.extend([
        row("zadd", -4, wd, one, cmd!(ZAdd)),
        row("zincrby", 4, wd, one, cmd!(ZIncrBy)),
        row("zrem", -3, w, one, cmd!(ZRem)),
        row("zcard", 2, r, one, cmd!(ZCard)),
        row("zscore", 3, r, one, cmd!(ZScore)),
        row("zmscore", -3, r, one, cmd!(ZMScore)),
        row("zrank", 3, r, one, cmd!(ZRank<false>)),
        row("zrevrank", 3, r, one, cmd!(ZRank<true>)),
        row("zcount", 4, r, one, cmd!(ZCount)),
        row("zlexcount", 4, r, one, cmd!(ZLexCount)),
        row("zrange", -4, r, one, cmd!(ZRangeCmd<0, 0>)),
        row("zrevrange", -4, r, one, cmd!(ZRangeCmd<1, 2>)),
        row("zrangebyscore", -4, r, one, cmd!(ZRangeCmd<2, 1>)),
        row("zrevrangebyscore", -4, r, one, cmd!(ZRangeCmd<2, 2>)),
        row("zrangebylex", -4, r, one, cmd!(ZRangeCmd<3, 1>)),
        row("zrevrangebylex", -4, r, one, cmd!(ZRangeCmd<3, 2>)),
        row("zrangestore", -5, wd, two, cmd!(ZRangeStore)),
        row("zremrangebyrank", 4, w, one, cmd!(ZRemRange<1>)),
        row("zremrangebyscore", 4, w, one, cmd!(ZRemRange<2>)),
        row("zremrangebylex", 4, w, one, cmd!(ZRemRange<3>)),
        row("zpopmin", -2, w, one, cmd!(ZPop<false>)),
        row("zpopmax", -2, w, one, cmd!(ZPop<true>)),
        row("zmpop", -4, w, counted(1), cmd!(ZMPop)),
        row("zrandmember", -2, r, one, cmd!(ZRandMember)),
        row("zunion", -3, r, counted(1), cmd!(ZAlgebra<0, 0>)),
        row("zinter", -3, r, counted(1), cmd!(ZAlgebra<1, 0>)),
        row("zdiff", -3, r, counted(1), cmd!(ZAlgebra<2, 0>)),
        row("zunionstore", -4, wd, stored, cmd!(ZAlgebra<0, 1>)),
        row("zinterstore", -4, wd, stored, cmd!(ZAlgebra<1, 1>)),
        row("zdiffstore", -4, wd, stored, cmd!(ZAlgebra<2, 1>)),
        row("zintercard", -3, r, counted(1), cmd!(ZAlgebra<1, 2>)),
        row("zscan", -3, r, one, cmd!(ZScan)),
        Spec {
            name: "bzpopmin",
            arity: -3,
            flags: w.with(Flags::BLOCKING),
            keys: all_but_last,
            run: cmd!(BZPop<false>),
            block: Some(block_zpop::<false>),
        },
        Spec {
            name: "bzpopmax",
            arity: -3,
            flags: w.with(Flags::BLOCKING),
            keys: all_but_last,
            run: cmd!(BZPop<true>),
            block: Some(block_zpop::<true>),
        },
        Spec {
            name: "bzmpop",
            arity: -5,
            flags: w.with(Flags::BLOCKING),
            keys: counted(2),
            run: cmd!(BZMPop),
            block: Some(block_zmpop),
        },
    ]);
}
