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

/// Redis's `string2d` (what `RedisModule_StringToDouble` accepts): glibc `strtod` over the
/// whole argument. Decimal and hexadecimal forms and `inf`/`infinity` with an optional sign;
/// refused: empty, a leading space, trailing bytes, NaN, overflow to infinity, and a nonzero
/// number that underflows to zero.
pub(crate) fn parse_double(s: &[u8]) -> Option<f64> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return None,
    };
    let sign = |x: f64| if neg { -x } else { x };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(sign(f64::INFINITY));
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return parse_hex_double(&body[2..]).map(sign);
    }
    // strtod's decimal grammar: digits, an optional point, more digits (at least one digit
    // in all), then an optional exponent with at least one digit. Rust's parser takes the
    // same strings (and rounds correctly, as glibc does) once NaN and infinity spellings
    // are excluded above and here.
    let (mantissa, exponent) = match body.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mut digits = 0;
    let mut points = 0;
    for &b in mantissa {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    if digits == 0 || points > 1 {
        return None;
    }
    if let Some(e) = exponent {
        let e = e
            .strip_prefix(b"-")
            .or_else(|| e.strip_prefix(b"+"))
            .unwrap_or(e);
        if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
    let nonzero = mantissa.iter().any(|&b| (b'1'..=b'9').contains(&b));
    if v.is_infinite() || (v == 0.0 && nonzero) {
        return None;
    }
    Some(sign(v))
}

/// The part of a hexadecimal float after `0x`: hex digits with an optional point, then an
/// optional `p` binary exponent; rounded to nearest, ties to even, as glibc does.
fn parse_hex_double(s: &[u8]) -> Option<f64> {
    let (mantissa, exponent) = match s.iter().position(|&b| b == b'p' || b == b'P') {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    // Up to 16 significant hex digits in `m`; the rest only matter as a sticky bit.
    let mut m: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut seen_point = false;
    for &b in mantissa {
        if b == b'.' {
            if seen_point {
                return None;
            }
            seen_point = true;
            continue;
        }
        let d = (b as char).to_digit(16)? as u64;
        digits += 1;
        if m >> 60 == 0 {
            m = m << 4 | d;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
    }
    if digits == 0 {
        return None;
    }
    if let Some(e) = exponent {
        let (eneg, e) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Saturate: anything past a few thousand over- or underflows anyway.
        let mut v: i64 = 0;
        for &b in e {
            v = (v * 10 + i64::from(b - b'0')).min(1 << 20);
        }
        exp += if eneg { -v } else { v };
    }
    if m == 0 {
        return Some(0.0);
    }
    // Value = m * 2^exp (+ sticky). Normalize m to have its top bit at 63.
    let lz = m.leading_zeros() as i64;
    m <<= lz;
    exp -= lz;
    // Now value = 1.xxx * 2^(exp + 63).
    let e2 = exp + 63;
    if e2 > 1023 {
        return None;
    }
    // Bits kept: 53 for normal numbers, fewer below 2^-1022.
    let keep = if e2 >= -1022 { 53 } else { 53 - (-1022 - e2) };
    if keep <= 0 {
        // Below half the smallest subnormal, or exactly a tie at it that rounds to even 0,
        // is zero: ERANGE, refused. Above half, the smallest subnormal.
        let half = keep == 0 && (m << 1 != 0 || sticky);
        return half.then(|| f64::from_bits(1));
    }
    let drop = 64 - keep as u32;
    let mut q = m >> drop;
    let rest = m & ((1u64 << drop) - 1);
    let halfway = 1u64 << (drop - 1);
    if rest > halfway || (rest == halfway && (sticky || q & 1 == 1)) {
        q += 1;
    }
    // scale >= -1074: `keep` shrinks below 2^-1022 exactly so that it cannot go lower.
    let scale = e2 - (keep - 1);
    // q <= 2^53 and q * 2^scale is representable unless it overflows, so this is exact.
    let v = q as f64 * pow2(scale);
    v.is_finite().then_some(v)
}

/// 2^e for -1074 <= e <= 1023, exactly.
fn pow2(e: i64) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
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
