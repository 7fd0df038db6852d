//! RedisBloom's Bloom filter commands (`BF.*`): argument checks in RedisBloom's order, with
//! its texts (some without an `ERR ` prefix), and its reply shapes.
//!
//! RedisBloom registers every command with arity -1 and counts arguments itself, so arity
//! errors that depend on more than a minimum (BF.RESERVE's 4..7, BF.INFO's 2..3, BF.INSERT's
//! option values and ITEMS) are raised while parsing, with Redis's text naming the
//! registered lower-case name.

use super::{Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::bloom::{
    BfInfoField, BfInsertOptions, BloomOptions, INSERT_BAD_ARGUMENT, RESERVE_CAPACITY_RANGE,
    RESERVE_ERROR_RATE_RANGE, RESERVE_EXPANSION_RANGE,
};
use crate::store::Db;

fn arity(name: &str) -> Error {
    Error::WrongArity(name.to_owned())
}

/// Redis's `string2d` (what `RedisModule_StringToDouble` accepts): the sorted-set score
/// parser, [`crate::types::zset::parse_score`], which implements exactly that.
pub(crate) fn parse_double(s: &[u8]) -> Option<f64> {
    crate::types::zset::parse_score(s)
}

/// An integer argument (`RedisModule_StringToLongLong`: Redis's strict `string2ll`).
fn parse_ll(s: &[u8]) -> Option<i64> {
    crate::num::parse_i64(s)
}

/// One item's reply in BF.MADD / BF.INSERT: 1, 0 or an error element.
fn item_reply(r: Result<bool>) -> Reply {
    match r {
        Ok(added) => Reply::Bool(added),
        Err(e) => Reply::Error(e.to_string()),
    }
}

fn items_reply(r: Result<Vec<Result<bool>>>) -> Reply {
    match r {
        Ok(items) => Reply::Array(items.into_iter().map(item_reply).collect()),
        Err(e) => Reply::Error(e.to_string()),
    }
}

/// `BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]`
///
/// `NONSCALING` and `EXPANSION` are found anywhere among the arguments, the key included,
/// and unknown extra arguments are ignored, as RedisBloom does.
pub(crate) struct BfReserve<'a> {
    key: &'a [u8],
    opts: BloomOptions,
}

impl<'a> Command<'a> for BfReserve<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        if all.len() < 3 || all.len() > 6 {
            return Err(arity("bf.reserve"));
        }
        let error_rate = parse_double(all[1]).ok_or_else(|| Error::err("bad error rate"))?;
        if !(error_rate > 0.0 && error_rate < 1.0) {
            return Err(Error::other(RESERVE_ERROR_RATE_RANGE));
        }
        let capacity = parse_ll(all[2]).ok_or_else(|| Error::err("bad capacity"))?;
        if capacity <= 0 {
            return Err(Error::other(RESERVE_CAPACITY_RANGE));
        }
        let find = |word: &str| all.iter().position(|a| Args::is(a, word));
        let nonscaling = find("NONSCALING").is_some();
        let mut expansion = i64::from(crate::types::bloom::DEFAULT_EXPANSION);
        if let Some(at) = find("EXPANSION") {
            if at + 1 == all.len() {
                return Err(Error::err("no expansion"));
            }
            if nonscaling {
                return Err(Error::other("Nonscaling filters cannot expand"));
            }
            expansion = parse_ll(all[at + 1]).ok_or_else(|| Error::err("bad expansion"))?;
            if expansion < 1 {
                return Err(Error::other(RESERVE_EXPANSION_RANGE));
            }
        }
        Ok(BfReserve {
            key: all[0],
            opts: BloomOptions {
                error_rate,
                capacity: capacity as u64,
                // RedisBloom passes it on as a C `unsigned`.
                expansion: expansion as u32,
                nonscaling,
            },
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.bf_reserve(self.key, &self.opts) {
            Ok(()) => Reply::ok(),
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

/// `BF.ADD key item`
pub(crate) struct BfAdd<'a> {
    pub(super) key: &'a [u8],
    pub(super) item: &'a [u8],
}

impl<'a> Command<'a> for BfAdd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfAdd {
            key: args.required()?,
            item: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        item_reply(db.bf_add(self.key, self.item))
    }
}

/// `BF.MADD key item [item ...]`
pub(crate) struct BfMAdd<'a> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for BfMAdd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfMAdd {
            key: args.required()?,
            items: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        items_reply(db.bf_madd(self.key, self.items))
    }
}

/// `BF.INSERT key [CAPACITY capacity] [ERROR error] [EXPANSION expansion] [NOCREATE]
/// [NONSCALING] ITEMS item [item ...]`
///
/// Options are told apart by their first letter (`e` then `r` is ERROR, other `e` words
/// EXPANSION; `n` with `c` third is NOCREATE, other `n` words NONSCALING), as RedisBloom
/// does.
pub(crate) struct BfInsert<'a> {
    key: &'a [u8],
    opts: BfInsertOptions,
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for BfInsert<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        const NAME: &str = "bf.insert";
        let all = args.rest();
        if all.len() < 3 {
            return Err(arity(NAME));
        }
        let mut capacity = crate::types::bloom::DEFAULT_CAPACITY as i64;
        let mut error_rate = crate::types::bloom::DEFAULT_ERROR_RATE;
        let mut expansion = i64::from(crate::types::bloom::DEFAULT_EXPANSION);
        let mut nocreate = false;
        let mut nonscaling = false;
        let mut items_at = None;
        let mut pos = 1;
        while pos < all.len() && items_at.is_none() {
            let word = all[pos];
            let letter = |i: usize| word.get(i).map_or(0, u8::to_ascii_lowercase);
            pos += 1;
            match letter(0) {
                b'i' => items_at = Some(pos),
                b'e' | b'c' => {
                    let Some(value) = all.get(pos) else {
                        return Err(arity(NAME));
                    };
                    pos += 1;
                    if letter(0) == b'c' {
                        capacity = parse_ll(value).ok_or_else(|| Error::other("Bad capacity"))?;
                    } else if letter(1) == b'r' {
                        error_rate =
                            parse_double(value).ok_or_else(|| Error::other("Bad error rate"))?;
                    } else {
                        expansion = parse_ll(value).ok_or_else(|| Error::other("Bad expansion"))?;
                    }
                }
                b'n' => {
                    if letter(2) == b'c' {
                        nocreate = true;
                    } else {
                        nonscaling = true;
                    }
                }
                _ => return Err(Error::other("Unknown argument received")),
            }
        }
        let items = match items_at {
            Some(at) if at < all.len() => &all[at..],
            _ => return Err(arity(NAME)),
        };
        if !(error_rate > 0.0 && error_rate < 1.0) || capacity < 1 || expansion < 1 {
            return Err(Error::other(INSERT_BAD_ARGUMENT));
        }
        Ok(BfInsert {
            key: all[0],
            opts: BfInsertOptions {
                filter: BloomOptions {
                    error_rate,
                    capacity: capacity as u64,
                    expansion: expansion as u32,
                    nonscaling,
                },
                nocreate,
            },
            items,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        items_reply(db.bf_insert(self.key, &self.opts, self.items))
    }
}

/// `BF.EXISTS key item`
pub(crate) struct BfExists<'a> {
    key: &'a [u8],
    item: &'a [u8],
}

impl<'a> Command<'a> for BfExists<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfExists {
            key: args.required()?,
            item: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::Bool(db.bf_exists(self.key, self.item))
    }
}

/// `BF.MEXISTS key item [item ...]`
pub(crate) struct BfMExists<'a> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for BfMExists<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfMExists {
            key: args.required()?,
            items: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let found = db.bf_mexists(self.key, self.items);
        Reply::Array(found.into_iter().map(Reply::Bool).collect())
    }
}

/// `BF.INFO key [CAPACITY | SIZE | FILTERS | ITEMS | EXPANSION]`. The key is checked before
/// the field.
pub(crate) struct BfInfo<'a> {
    key: &'a [u8],
    field: Option<&'a [u8]>,
}

impl<'a> Command<'a> for BfInfo<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        if args.remaining() > 2 {
            return Err(arity("bf.info"));
        }
        Ok(BfInfo {
            key: args.required()?,
            field: args.next(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let info = match db.bf_info(self.key) {
            Ok(info) => info,
            Err(e) => return Reply::Error(e.to_string()),
        };
        let value = |f: BfInfoField| f.value(&info).map_or(Reply::Nil, Reply::Integer);
        match self.field {
            None => Reply::Map(
                BfInfoField::ALL
                    .into_iter()
                    .map(|f| (Reply::status(f.label()), value(f)))
                    .collect(),
            ),
            // RESP2 answers the bare value in an array; RESP3 a one-entry map.
            Some(word) => match BfInfoField::parse(word) {
                Some(f) => Reply::Shapes(Box::new((
                    Reply::Array(vec![value(f)]),
                    Reply::Map(vec![(Reply::status(f.label()), value(f))]),
                ))),
                None => Reply::Error("Invalid information value".to_owned()),
            },
        }
    }
}

/// `BF.CARD key`
pub(crate) struct BfCard<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for BfCard<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfCard {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        // RedisBloom replies its `size_t` as a `long long`.
        super::reply(db.bf_card(self.key).map(|n| n as i64))
    }
}

/// `BF.DEBUG key`
pub(crate) struct BfDebug<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for BfDebug<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfDebug {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.bf_debug(self.key) {
            Ok(lines) => Reply::bulks(lines),
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

/// `BF.SCANDUMP key iterator`. The key is checked before the iterator.
pub(crate) struct BfScanDump<'a> {
    key: &'a [u8],
    iter: &'a [u8],
}

impl<'a> Command<'a> for BfScanDump<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BfScanDump {
            key: args.required()?,
            iter: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<(i64, Vec<u8>)> {
            db.bf_check_key(self.key)?;
            let iter = parse_ll(self.iter)
                .ok_or_else(|| Error::other("Second argument must be numeric"))?;
            db.bf_scandump(self.key, iter)
        };
        match run(db) {
            Ok((next, chunk)) => Reply::Array(vec![Reply::Integer(next), Reply::Bulk(chunk)]),
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

/// `BF.LOADCHUNK key iterator data`
pub(crate) struct BfLoadChunk<'a> {
    key: &'a [u8],
    iter: i64,
    data: &'a [u8],
}

impl<'a> Command<'a> for BfLoadChunk<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let iter = parse_ll(args.required()?)
            .ok_or_else(|| Error::err("Second argument must be numeric"))?;
        Ok(BfLoadChunk {
            key,
            iter,
            data: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.bf_loadchunk(self.key, self.iter, self.data))
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    t.extend([
        Spec {
            name: "bf.reserve",
            arity: -4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(BfReserve),
            block: None,
        },
        Spec {
            name: "bf.add",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(BfAdd),
            block: None,
        },
        Spec {
            name: "bf.madd",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(BfMAdd),
            block: None,
        },
        Spec {
            name: "bf.insert",
            arity: -4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(BfInsert),
            block: None,
        },
        Spec {
            name: "bf.exists",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BfExists),
            block: None,
        },
        Spec {
            name: "bf.mexists",
            arity: -3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BfMExists),
            block: None,
        },
        Spec {
            name: "bf.info",
            arity: -2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BfInfo),
            block: None,
        },
        Spec {
            name: "bf.card",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BfCard),
            block: None,
        },
        Spec {
            name: "bf.debug",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BfDebug),
            block: None,
        },
        Spec {
            name: "bf.scandump",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BfScanDump),
            block: None,
        },
        Spec {
            name: "bf.loadchunk",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(BfLoadChunk),
            block: None,
        },
    ]);
}

#[cfg(test)]
mod tests {
    use super::parse_double;

    #[test]
    fn parse_double_is_string2d() {
        let good: &[(&str, f64)] = &[
            ("0.01", 0.01),
            ("1", 1.0),
            ("-1.5e-3", -1.5e-3),
            (".5", 0.5),
            ("5.", 5.0),
            ("+0.1", 0.1),
            ("1e3", 1000.0),
            ("1E+3", 1000.0),
            ("inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("0", 0.0),
            ("0e-999", 0.0),
            ("0x10", 16.0),
            ("0x1p-2", 0.25),
            ("0x.8", 0.5),
            ("0X1.8P1", 3.0),
            ("4.9e-324", f64::from_bits(1)),
            ("0x1p-1074", f64::from_bits(1)),
            ("0x1.8p-1074", f64::from_bits(2)),
            ("0x1.fffffffffffff8p0", 2.0),
            ("0x1.fffffffffffff7p0", 1.9999999999999998),
            ("1.7976931348623157e308", f64::MAX),
        ];
        for (s, want) in good {
            assert_eq!(parse_double(s.as_bytes()), Some(*want), "{s}");
        }
        let bad = [
            "",
            " 1",
            "1 ",
            "nan",
            "NaN",
            "-nan",
            "1e",
            "1e+",
            "e5",
            ".",
            "+",
            "-",
            "0x",
            "0xg",
            "0x1p",
            "1e400",
            "-1e400",
            "1e-400",
            "2e-324",
            "0x1p-1076",
            "0x1p1024",
            "infinit",
            "1.2.3",
            "1,5",
            "1\0",
            "0x1.0.0",
        ];
        for s in bad {
            assert_eq!(parse_double(s.as_bytes()), None, "{s:?}");
        }
    }
}
