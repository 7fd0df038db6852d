//! RedisBloom's top-k commands (`TOPK.*`): arguments checked in RedisBloom's order (the key
//! before the other arguments, except `TOPK.LIST`'s keyword), its texts (without an `ERR `
//! prefix) and its reply shapes.
//!
//! RedisBloom registers these with arity -1 and counts arguments itself, so the rows have
//! arity -1 too (inside MULTI an arity error is answered by EXEC, not when queued) and the
//! counts are checked while parsing, with Redis's arity text.

use super::bloom::parse_double;
use super::{Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::{Db, TopKOptions};
use crate::types::topk::TopKError;

/// An integer argument (Redis's strict `string2ll`).
fn parse_ll(s: &[u8]) -> Option<i64> {
    crate::num::parse_i64(s)
}

fn arity(name: &str) -> Error {
    Error::WrongArity(name.to_owned())
}

/// At least `n` arguments after the name, else `name`'s arity error.
fn at_least(args: &Args<'_>, n: usize, name: &str) -> Result<()> {
    if args.remaining() < n {
        return Err(arity(name));
    }
    Ok(())
}

fn err(e: Error) -> Reply {
    Reply::Error(e.to_string())
}

fn expelled_reply(r: Result<Vec<Option<Vec<u8>>>>) -> Reply {
    match r {
        Ok(items) => items.into(),
        Err(e) => err(e),
    }
}

/// `TOPK.RESERVE key topk [width depth decay]`
pub(crate) struct TopKReserve<'a> {
    key: &'a [u8],
    params: &'a [&'a [u8]],
}

impl TopKReserve<'_> {
    fn options(&self) -> Result<TopKOptions> {
        let mut opts = TopKOptions::with_k(0);
        let int = |i: usize, e: TopKError| -> Result<i64> {
            self.params
                .get(i)
                .and_then(|a| parse_ll(a))
                .ok_or_else(|| e.into())
        };
        opts.k = int(0, TopKError::InvalidK)?;
        if self.params.len() == 4 {
            opts.width = int(1, TopKError::InvalidWidth)?;
            opts.depth = int(2, TopKError::InvalidDepth)?;
            opts.decay = self
                .params
                .get(3)
                .and_then(|a| parse_double(a))
                .ok_or(TopKError::InvalidDecay)?;
        }
        Ok(opts)
    }
}

impl<'a> Command<'a> for TopKReserve<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if !matches!(args.remaining(), 2 | 5) {
            return Err(arity("topk.reserve"));
        }
        Ok(TopKReserve {
            key: args.required()?,
            params: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<()> {
            db.topk_check_new(self.key)?;
            db.topk_reserve(self.key, &self.options()?)
        };
        super::reply(run(db))
    }
}

/// `TOPK.ADD key item [item ...]`
pub(crate) struct TopKAdd<'a> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for TopKAdd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        at_least(args, 2, "topk.add")?;
        Ok(TopKAdd {
            key: args.required()?,
            items: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        expelled_reply(db.topk_add(self.key, self.items))
    }
}

/// `TOPK.INCRBY key item increment [item increment ...]`
///
/// Every increment is checked (an integer in 0..=100,000) before any is applied: RedisBloom
/// applies the pairs before a bad one and then answers an array shorter than its header,
/// which no client can read. A bad increment answers a one-element array holding the error,
/// which is RedisBloom's reply when the bad pair is the first.
pub(crate) struct TopKIncrBy<'a> {
    key: &'a [u8],
    pairs: Vec<(&'a [u8], i64)>,
}

impl<'a> Command<'a> for TopKIncrBy<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        at_least(args, 3, "topk.incrby")?;
        let key = args.required()?;
        let rest = args.rest();
        if rest.len() % 2 != 0 {
            return Err(arity("topk.incrby"));
        }
        let pairs = rest
            .chunks_exact(2)
            // An unparsable increment becomes -1, which is refused alike.
            .map(|p| (p[0], parse_ll(p[1]).unwrap_or(-1)))
            .collect();
        Ok(TopKIncrBy { key, pairs })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.topk_incrby(self.key, &self.pairs) {
            Ok(items) => items.into(),
            Err(e) if e == TopKError::InvalidIncrement.into() => Reply::Array(vec![err(e)]),
            Err(e) => err(e),
        }
    }
}

/// `TOPK.QUERY key item [item ...]`: integers in RESP2, booleans in RESP3.
pub(crate) struct TopKQuery<'a> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for TopKQuery<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        at_least(args, 2, "topk.query")?;
        Ok(TopKQuery {
            key: args.required()?,
            items: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.topk_query(self.key, self.items) {
            Ok(found) => Reply::Array(found.into_iter().map(Reply::Bool).collect()),
            Err(e) => err(e),
        }
    }
}

/// `TOPK.COUNT key item [item ...]`
pub(crate) struct TopKCount<'a> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for TopKCount<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        at_least(args, 2, "topk.count")?;
        Ok(TopKCount {
            key: args.required()?,
            items: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.topk_count(self.key, self.items) {
            Ok(counts) => Reply::Array(
                counts
                    .into_iter()
                    .map(|c| Reply::Integer(c as i64))
                    .collect(),
            ),
            Err(e) => err(e),
        }
    }
}

/// `TOPK.LIST key [WITHCOUNT]`: the keyword is checked before the key; with counts the
/// reply is flat in both protocols.
pub(crate) struct TopKList<'a> {
    key: &'a [u8],
    withcount: bool,
}

impl<'a> Command<'a> for TopKList<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if !matches!(args.remaining(), 1 | 2) {
            return Err(arity("topk.list"));
        }
        let key = args.required()?;
        let withcount = match args.next() {
            None => false,
            Some(w) if Args::is(w, "WITHCOUNT") => true,
            Some(_) => return Err(TopKError::WithcountExpected.into()),
        };
        Ok(TopKList { key, withcount })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.topk_list(self.key) {
            Ok(list) if self.withcount => Reply::Array(
                list.into_iter()
                    .flat_map(|(i, c)| [Reply::Bulk(i), Reply::Integer(c as i64)])
                    .collect(),
            ),
            Ok(list) => Reply::Array(list.into_iter().map(|(i, _)| Reply::Bulk(i)).collect()),
            Err(e) => err(e),
        }
    }
}

/// `TOPK.INFO key`: a map in RESP3, label/value pairs in RESP2.
pub(crate) struct TopKInfoCmd<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for TopKInfoCmd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if args.remaining() != 1 {
            return Err(arity("topk.info"));
        }
        Ok(TopKInfoCmd {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.topk_info(self.key) {
            Ok(i) => Reply::Map(vec![
                (Reply::status("k"), Reply::Integer(i64::from(i.k))),
                (Reply::status("width"), Reply::Integer(i64::from(i.width))),
                (Reply::status("depth"), Reply::Integer(i64::from(i.depth))),
                (Reply::status("decay"), Reply::Double(i.decay)),
            ]),
            Err(e) => err(e),
        }
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    let row = |name, arity, flags, run| Spec {
        name,
        arity,
        flags,
        keys: one,
        run,
        block: None,
    };
    t.extend([
        row("topk.reserve", -1, Flags::WRITE_DENYOOM, cmd!(TopKReserve)),
        row("topk.add", -1, Flags::WRITE_DENYOOM, cmd!(TopKAdd)),
        row("topk.incrby", -1, Flags::WRITE_DENYOOM, cmd!(TopKIncrBy)),
        row("topk.query", -1, Flags::NONE, cmd!(TopKQuery)),
        // RedisBloom declares TOPK.COUNT `write` (without `denyoom`).
        row("topk.count", -1, Flags::WRITE, cmd!(TopKCount)),
        row("topk.list", -1, Flags::NONE, cmd!(TopKList)),
        row("topk.info", -1, Flags::NONE, cmd!(TopKInfoCmd)),
    ]);
}
