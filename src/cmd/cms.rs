//! RedisBloom's count-min sketch commands (`CMS.*`): the key is looked up before the other
//! arguments are parsed, as RedisBloom does, and the texts are its own (`CMS: ...`).
//!
//! Rows have arity -1 as RedisBloom registers them; the counts are checked while parsing
//! (see `super::cuckoo`). CMS.MERGE locks every argument's shard: its source keys sit
//! among its arguments at positions only its NUMKEYS names.

use super::bloom::parse_double;
use super::cuckoo::module_row;
use super::{Args, Command, Flags, Keys, Runner, Spec};
use crate::error::{Error, Result};
use crate::num::parse_i64;
use crate::reply::Reply;
use crate::store::cms::{BAD_NUMBER, NEGATIVE_NUMBER, NUMKEYS_NOT_POSITIVE, WRONG_KEYS_WEIGHTS};
use crate::store::Db;
use crate::types::cms::CmsError;

fn arity(name: &str) -> Error {
    Error::WrongArity(name.to_owned())
}

fn err_reply(e: Error) -> Reply {
    Reply::Error(e.to_string())
}

/// `CMS.INITBYDIM key width depth` (`PROB` false) and `CMS.INITBYPROB key error probability`.
/// The key must not exist (whatever its type) before the numbers are looked at.
pub(crate) struct CmsInit<'a, const PROB: bool> {
    key: &'a [u8],
    a: &'a [u8],
    b: &'a [u8],
}

impl<'a, const PROB: bool> Command<'a> for CmsInit<'a, PROB> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key, a, b] => Ok(CmsInit { key, a, b }),
            _ => Err(arity(if PROB {
                "cms.initbyprob"
            } else {
                "cms.initbydim"
            })),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<()> {
            db.cms_check_absent(self.key)?;
            if PROB {
                let in_range = |x: f64| x > 0.0 && x < 1.0;
                let error = parse_double(self.a)
                    .filter(|&x| in_range(x))
                    .ok_or(CmsError::InvalidOverestimation)?;
                let prob = parse_double(self.b)
                    .filter(|&x| in_range(x))
                    .ok_or(CmsError::InvalidProb)?;
                db.cms_initbyprob(self.key, error, prob)
            } else {
                let width = parse_i64(self.a)
                    .filter(|&w| w >= 1)
                    .ok_or(CmsError::InvalidWidth)?;
                let depth = parse_i64(self.b)
                    .filter(|&d| d >= 1)
                    .ok_or(CmsError::InvalidDepth)?;
                db.cms_initbydim(self.key, width, depth)
            }
        };
        super::reply(run(db))
    }
}

/// `CMS.INCRBY key item increment [item increment ...]`. The key is checked first, then
/// every increment in order, before any is applied.
pub(crate) struct CmsIncrBy<'a> {
    key: &'a [u8],
    pairs: &'a [&'a [u8]],
}

impl<'a> Command<'a> for CmsIncrBy<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        if all.len() < 3 || all.len() % 2 == 0 {
            return Err(arity("cms.incrby"));
        }
        Ok(CmsIncrBy {
            key: all[0],
            pairs: &all[1..],
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<Vec<Result<u64>>> {
            db.cms_check(self.key)?;
            let mut pairs = Vec::with_capacity(self.pairs.len() / 2);
            for p in self.pairs.chunks_exact(2) {
                let v = parse_i64(p[1]).ok_or_else(|| Error::other(BAD_NUMBER))?;
                let v = u64::try_from(v).map_err(|_| Error::other(NEGATIVE_NUMBER))?;
                pairs.push((p[0], v));
            }
            db.cms_incrby(self.key, &pairs)
        };
        match run(db) {
            Ok(items) => Reply::Array(
                items
                    .into_iter()
                    .map(|r| match r {
                        Ok(n) => Reply::Integer(n as i64),
                        Err(e) => err_reply(e),
                    })
                    .collect(),
            ),
            Err(e) => err_reply(e),
        }
    }
}

/// `CMS.QUERY key item [item ...]`
pub(crate) struct CmsQuery<'a> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for CmsQuery<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key, items @ ..] if !items.is_empty() => Ok(CmsQuery { key, items }),
            _ => Err(arity("cms.query")),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.cms_query(self.key, self.items) {
            Ok(counts) => Reply::Array(
                counts
                    .into_iter()
                    .map(|n| Reply::Integer(n as i64))
                    .collect(),
            ),
            Err(e) => err_reply(e),
        }
    }
}

/// `CMS.MERGE destination numkeys source [source ...] [WEIGHTS weight [weight ...]]`
///
/// Checked in RedisBloom's order: the destination, NUMKEYS, the shape (WEIGHTS is the first
/// argument after NUMKEYS spelled so, sources included, and must follow exactly NUMKEYS
/// sources and precede as many weights), then per source its weight, key and dimensions.
pub(crate) struct CmsMerge<'a> {
    dest: &'a [u8],
    numkeys: &'a [u8],
    rest: &'a [&'a [u8]],
}

impl<'a> Command<'a> for CmsMerge<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [dest, numkeys, rest @ ..] if !rest.is_empty() => Ok(CmsMerge {
                dest,
                numkeys,
                rest,
            }),
            _ => Err(arity("cms.merge")),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<()> {
            db.cms_merge_check(self.dest)?;
            let n = parse_i64(self.numkeys).ok_or_else(|| Error::other("CMS: invalid numkeys"))?;
            if n <= 0 {
                return Err(Error::other(NUMKEYS_NOT_POSITIVE));
            }
            let len = self.rest.len() as i128;
            let weights_at = self.rest.iter().position(|a| Args::is(a, "WEIGHTS"));
            match weights_at {
                None if i128::from(n) != len => {
                    return Err(Error::other("CMS: wrong number of keys"))
                }
                Some(at) if at as i64 != n || len != 1 + 2 * i128::from(n) => {
                    return Err(Error::other(WRONG_KEYS_WEIGHTS))
                }
                _ => {}
            }
            // 0 < n <= len here.
            let n = n as usize;
            let sources: Vec<(&[u8], Option<i64>)> = (0..n)
                .map(|i| {
                    let w = match weights_at {
                        None => Some(1),
                        Some(_) => self.rest.get(n + 1 + i).and_then(|w| parse_i64(w)),
                    };
                    (self.rest[i], w)
                })
                .collect();
            db.cms_merge(self.dest, &sources)
        };
        super::reply(run(db))
    }
}

/// `CMS.INFO key`
pub(crate) struct CmsInfo<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for CmsInfo<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key] => Ok(CmsInfo { key }),
            _ => Err(arity("cms.info")),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.cms_info(self.key) {
            // RedisBloom replies its unsigned counters as `long long`.
            Ok(i) => Reply::Map(vec![
                (Reply::status("width"), Reply::Integer(i.width as i64)),
                (Reply::status("depth"), Reply::Integer(i.depth as i64)),
                (Reply::status("count"), Reply::Integer(i.count as i64)),
            ]),
            Err(e) => err_reply(e),
        }
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let row =
        |name: &'static str, flags: Flags, run: Runner| module_row(name, flags, Keys::ONE, run);
    let w = Flags::WRITE_DENYOOM;
    t.extend([
        row("cms.initbydim", w, cmd!(CmsInit<false>)),
        row("cms.initbyprob", w, cmd!(CmsInit<true>)),
        row("cms.incrby", w, cmd!(CmsIncrBy)),
        row("cms.query", Flags::NONE, cmd!(CmsQuery)),
        module_row("cms.merge", w, Keys::ALL_ARGS, cmd!(CmsMerge)),
        row("cms.info", Flags::NONE, cmd!(CmsInfo)),
    ]);
}
