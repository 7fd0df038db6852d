//! RedisBloom's t-digest commands (`TDIGEST.*`): arguments checked in RedisBloom's order
//! (the key before the other arguments, except in `TDIGEST.MERGE`, whose numkeys and
//! options are parsed first), its texts and its reply shapes (doubles as RESP3 doubles,
//! `%.17g` bulk strings in RESP2).
//!
//! RedisBloom registers these with arity -1 and counts arguments itself, so the rows have
//! arity -1 too (inside MULTI an arity error is answered by EXEC, not when queued) and the
//! counts (`TDIGEST.CREATE` 2 or 4, `TDIGEST.MIN` 2, `TDIGEST.TRIMMED_MEAN` 4, MERGE's
//! numkeys) are checked while parsing, with Redis's arity text.

use super::bloom::parse_double;
use super::{Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::{Db, TDigestMergeOptions};
use crate::types::tdigest::{TDigestError, TDigestInfo, DEFAULT_COMPRESSION};

fn arity(name: &str) -> Error {
    Error::WrongArity(name.to_owned())
}

fn parse_ll(s: &[u8]) -> Option<i64> {
    crate::num::parse_i64(s)
}

fn err(e: Error) -> Reply {
    Reply::Error(e.to_string())
}

fn doubles(r: Result<Vec<f64>>) -> Reply {
    match r {
        Ok(v) => Reply::Array(v.into_iter().map(Reply::Double).collect()),
        Err(e) => err(e),
    }
}

fn double(r: Result<f64>) -> Reply {
    match r {
        Ok(v) => Reply::Double(v),
        Err(e) => err(e),
    }
}

/// Each argument as a double; `bad` for one that is not a number (NaN included), then
/// `check` on it, in argument order.
fn doubles_arg(
    args: &[&[u8]],
    bad: TDigestError,
    check: impl Fn(f64) -> Option<TDigestError>,
) -> Result<Vec<f64>> {
    args.iter()
        .map(|a| {
            let v = parse_double(a).filter(|v| !v.is_nan()).ok_or(bad)?;
            match check(v) {
                Some(e) => Err(e.into()),
                None => Ok(v),
            }
        })
        .collect()
}

/// `TDIGEST.CREATE key [COMPRESSION compression]`. The key is checked first.
pub(crate) struct TdCreate<'a> {
    key: &'a [u8],
    opt: Option<(&'a [u8], &'a [u8])>,
}

impl<'a> Command<'a> for TdCreate<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.next().ok_or_else(|| arity("tdigest.create"))?;
        let opt = match args.rest() {
            [] => None,
            [word, value] => Some((*word, *value)),
            _ => return Err(arity("tdigest.create")),
        };
        Ok(TdCreate { key, opt })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<()> {
            db.tdigest_check_new(self.key)?;
            let compression = match self.opt {
                None => DEFAULT_COMPRESSION,
                Some((word, value)) => {
                    if !Args::is(word, "COMPRESSION") {
                        return Err(TDigestError::WrongKeyword.into());
                    }
                    parse_ll(value).ok_or(TDigestError::ParseCompression)?
                }
            };
            db.tdigest_create(self.key, compression)
        };
        super::reply(run(db))
    }
}

/// A command taking exactly a key: `TDIGEST.RESET`, `MIN`, `MAX`, `INFO`.
pub(crate) struct TdKey<'a, const OP: u8> {
    key: &'a [u8],
}

const RESET: u8 = 0;
const MIN: u8 = 1;
const MAX: u8 = 2;
const INFO: u8 = 3;

impl<'a, const OP: u8> Command<'a> for TdKey<'a, OP> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if args.remaining() != 1 {
            let name = [
                "tdigest.reset",
                "tdigest.min",
                "tdigest.max",
                "tdigest.info",
            ];
            return Err(arity(
                name.get(usize::from(OP)).copied().unwrap_or("tdigest"),
            ));
        }
        Ok(TdKey {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match OP {
            RESET => super::reply(db.tdigest_reset(self.key)),
            MIN => double(db.tdigest_min(self.key)),
            MAX => double(db.tdigest_max(self.key)),
            _ => match db.tdigest_info(self.key) {
                Ok(i) => info_reply(&i),
                Err(e) => err(e),
            },
        }
    }
}

fn info_reply(i: &TDigestInfo) -> Reply {
    let fields = [
        ("Compression", i.compression),
        ("Capacity", i.capacity),
        ("Merged nodes", i.merged_nodes),
        ("Unmerged nodes", i.unmerged_nodes),
        ("Merged weight", i.merged_weight),
        ("Unmerged weight", i.unmerged_weight),
        ("Observations", i.observations),
        ("Total compressions", i.total_compressions),
        ("Memory usage", i.memory_usage),
    ];
    Reply::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Reply::status(k), Reply::Integer(v)))
            .collect(),
    )
}

/// A command taking a key and one or more values: `TDIGEST.ADD`, `QUANTILE`, `CDF`, `RANK`,
/// `REVRANK`, `BYRANK`, `BYREVRANK`. The key is checked before the values.
pub(crate) struct TdValues<'a, const OP: u8> {
    key: &'a [u8],
    values: &'a [&'a [u8]],
}

const ADD: u8 = 0;
const QUANTILE: u8 = 1;
const CDF: u8 = 2;
const RANK: u8 = 3;
const REVRANK: u8 = 4;
const BYRANK: u8 = 5;
const BYREVRANK: u8 = 6;

impl<'a, const OP: u8> Command<'a> for TdValues<'a, OP> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if args.remaining() < 2 {
            let name = [
                "tdigest.add",
                "tdigest.quantile",
                "tdigest.cdf",
                "tdigest.rank",
                "tdigest.revrank",
                "tdigest.byrank",
                "tdigest.byrevrank",
            ];
            return Err(arity(
                name.get(usize::from(OP)).copied().unwrap_or("tdigest"),
            ));
        }
        Ok(TdValues {
            key: args.required()?,
            values: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        if let Err(e) = db.tdigest(self.key, OP == ADD) {
            return err(e);
        }
        let vals =
            |bad, check: fn(f64) -> Option<TDigestError>| doubles_arg(self.values, bad, check);
        let ranks = || -> Result<Vec<i64>> {
            self.values
                .iter()
                .map(|a| {
                    let r = parse_ll(a).ok_or(TDigestError::ParseRank)?;
                    if r < 0 {
                        return Err(TDigestError::RankNegative.into());
                    }
                    Ok(r)
                })
                .collect()
        };
        let none = |_| None;
        match OP {
            ADD => super::reply(
                vals(TDigestError::ParseVal, |v| {
                    v.is_infinite().then_some(TDigestError::ValNotFinite)
                })
                .and_then(|v| db.tdigest_add(self.key, &v)),
            ),
            QUANTILE => doubles(
                vals(TDigestError::ParseQuantile, |q| {
                    (!(0.0..=1.0).contains(&q)).then_some(TDigestError::QuantileOutOfRange)
                })
                .and_then(|q| db.tdigest_quantile(self.key, &q)),
            ),
            CDF => doubles(
                vals(TDigestError::ParseCdf, none).and_then(|v| db.tdigest_cdf(self.key, &v)),
            ),
            RANK | REVRANK => match vals(TDigestError::ParseValue, none)
                .and_then(|v| db.tdigest_rank(self.key, &v, OP == REVRANK))
            {
                Ok(r) => Reply::Array(r.into_iter().map(Reply::Integer).collect()),
                Err(e) => err(e),
            },
            _ => doubles(ranks().and_then(|r| db.tdigest_byrank(self.key, &r, OP == BYREVRANK))),
        }
    }
}

/// `TDIGEST.TRIMMED_MEAN key low_cut_percentile high_cut_percentile`
pub(crate) struct TdTrimmedMean<'a> {
    key: &'a [u8],
    low: &'a [u8],
    high: &'a [u8],
}

impl<'a> Command<'a> for TdTrimmedMean<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if args.remaining() != 3 {
            return Err(arity("tdigest.trimmed_mean"));
        }
        Ok(TdTrimmedMean {
            key: args.required()?,
            low: args.required()?,
            high: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<f64> {
            db.tdigest(self.key, false)?;
            let cut = |a: &[u8], e: TDigestError| parse_double(a).filter(|v| !v.is_nan()).ok_or(e);
            let low = cut(self.low, TDigestError::ParseLowCut)?;
            let high = cut(self.high, TDigestError::ParseHighCut)?;
            db.tdigest_trimmed_mean(self.key, low, high)
        };
        double(run(db))
    }
}

/// `TDIGEST.MERGE destination numkeys source [source ...] [COMPRESSION compression]
/// [OVERRIDE]`: numkeys and the options are parsed before any key is looked at; then the
/// destination, then each source.
pub(crate) struct TdMerge<'a> {
    dest: &'a [u8],
    sources: &'a [&'a [u8]],
    opts: TDigestMergeOptions,
}

impl<'a> Command<'a> for TdMerge<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        const NAME: &str = "tdigest.merge";
        if args.remaining() < 3 {
            return Err(arity(NAME));
        }
        let dest = args.required()?;
        let numkeys = parse_ll(args.required()?).ok_or(TDigestError::ParseNumkeys)?;
        if numkeys <= 0 {
            return Err(TDigestError::NumkeysNotPositive.into());
        }
        let rest = args.rest();
        let n = usize::try_from(numkeys).unwrap_or(usize::MAX);
        if n > rest.len() {
            return Err(arity(NAME));
        }
        let (sources, options) = rest.split_at(n);
        let mut opts = TDigestMergeOptions::default();
        let mut i = 0;
        while let Some(word) = options.get(i) {
            i += 1;
            if Args::is(word, "COMPRESSION") {
                let value = options.get(i).ok_or_else(|| arity(NAME))?;
                i += 1;
                let c = parse_ll(value).ok_or(TDigestError::ParseCompression)?;
                if c <= 0 {
                    return Err(TDigestError::CompressionNotPositive.into());
                }
                opts.compression = Some(c);
            } else if Args::is(word, "OVERRIDE") {
                opts.override_dest = true;
            } else {
                return Err(TDigestError::WrongKeyword.into());
            }
        }
        Ok(TdMerge {
            dest,
            sources,
            opts,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.tdigest_merge(self.dest, self.sources, self.opts))
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
    let w = Flags::WRITE_DENYOOM;
    let r = Flags::NONE;
    t.extend([
        row("tdigest.create", -1, w, cmd!(TdCreate)),
        row("tdigest.reset", -1, w, cmd!(TdKey<RESET>)),
        row("tdigest.add", -1, w, cmd!(TdValues<ADD>)),
        // The destination and the sources, found among every argument: a superset of the
        // keys, which only locks a shard more than needed.
        Spec {
            name: "tdigest.merge",
            arity: -1,
            flags: w,
            keys: Keys::ALL_ARGS,
            run: cmd!(TdMerge),
            block: None,
        },
        row("tdigest.min", -1, r, cmd!(TdKey<MIN>)),
        row("tdigest.max", -1, r, cmd!(TdKey<MAX>)),
        row("tdigest.quantile", -1, r, cmd!(TdValues<QUANTILE>)),
        row("tdigest.cdf", -1, r, cmd!(TdValues<CDF>)),
        row("tdigest.rank", -1, r, cmd!(TdValues<RANK>)),
        row("tdigest.revrank", -1, r, cmd!(TdValues<REVRANK>)),
        row("tdigest.byrank", -1, r, cmd!(TdValues<BYRANK>)),
        row("tdigest.byrevrank", -1, r, cmd!(TdValues<BYREVRANK>)),
        row("tdigest.trimmed_mean", -1, r, cmd!(TdTrimmedMean)),
        row("tdigest.info", -1, r, cmd!(TdKey<INFO>)),
    ]);
}
