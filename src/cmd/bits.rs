//! Bit commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO, and the
//! parsers of their tokens.
//!
//! Numbers are read with Redis's `string2ll` rules (optional `-`, no `+`, no leading zero, no
//! `-0`, at most 20 characters) and words are compared as C strings (`strcasecmp` stops at
//! the first NUL byte, so `"u8\0junk"` is the type `u8`, as on a 7.0.15 server). Every
//! failure is a [`BitmapError`], whose `Display` is Redis's exact error text.
//!
//! References: Redis 7.0.15 `src/bitops.c` (`getBitOffsetFromArgument`,
//! `getBitfieldTypeFromArgument`, `bitfieldGeneric`) and `src/util.c` (`string2ll`).

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::bits::BitfieldOp;
use crate::store::{Db, KeyType};
use crate::types::bitmap::{
    self, BitOp, BitUnit, BitfieldOffset, BitfieldType, BitmapError, BitposRange, Overflow,
};

/// Parses `token` as Redis's `string2ll` does: optional `-`, then `0` alone or a digit 1-9
/// followed by digits, fitting in `i64`, shorter than 21 bytes. Rejects `+1`, `01`, `-0`, ` 1`.
pub(crate) fn parse_i64_strict(token: &[u8]) -> Option<i64> {
    if token.is_empty() || token.len() >= 21 {
        return None;
    }
    if token == b"0" {
        return Some(0);
    }
    let (negative, digits) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut magnitude = u64::from(first - b'0');
    for &c in rest {
        if !c.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// The part of `token` a C string function sees: everything before the first NUL byte.
fn c_str(token: &[u8]) -> &[u8] {
    match token.iter().position(|&b| b == 0) {
        Some(nul) => token.get(..nul).unwrap_or(token),
        None => token,
    }
}

/// Finds `token` among `words` case-insensitively, as a C string.
fn word<T: Copy>(token: &[u8], words: &[(&str, T)], err: BitmapError) -> Result<T, BitmapError> {
    let token = c_str(token);
    words
        .iter()
        .find(|(name, _)| token.eq_ignore_ascii_case(name.as_bytes()))
        .map(|&(_, v)| v)
        .ok_or(err)
}

/// An integer argument (`BITCOUNT`/`BITPOS` start and end, `BITFIELD` `SET` value and
/// `INCRBY` increment).
pub(crate) fn parse_integer(token: &[u8]) -> Result<i64, BitmapError> {
    parse_i64_strict(token).ok_or(BitmapError::NotInteger)
}

/// A `SETBIT`/`GETBIT` offset: a strict integer in `0..=MAX_BIT_OFFSET` (no `#` form).
pub(crate) fn parse_bit_offset(token: &[u8]) -> Result<u64, BitmapError> {
    parse_i64_strict(token)
        .ok_or(BitmapError::BitOffset)
        .and_then(bitmap::bit_offset)
}

/// A `BITFIELD` offset: a plain bit offset, or `#n` meaning `n` fields of `ty`, resolved to
/// bits here because Redis rejects a bad offset while it parses. A negative `n` cannot be a
/// [`BitfieldOffset::Fields`], but Redis multiplies before it checks the sign, so it goes
/// through the same [`bitmap::fields_offset`].
pub(crate) fn parse_bitfield_offset(token: &[u8], ty: BitfieldType) -> Result<u64, BitmapError> {
    match token.split_first() {
        Some((b'#', digits)) => parse_i64_strict(digits)
            .ok_or(BitmapError::BitOffset)
            .and_then(|n| bitmap::fields_offset(n, ty)),
        _ => parse_bit_offset(token),
    }
}

/// A `SETBIT` value: the integer 0 or 1.
pub(crate) fn parse_bit_value(token: &[u8]) -> Result<bool, BitmapError> {
    match parse_i64_strict(token) {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(BitmapError::BitValue),
    }
}

/// `BITPOS`'s bit argument: not an integer is [`BitmapError::NotInteger`], an integer other
/// than 0 or 1 is [`BitmapError::BitposBit`].
pub(crate) fn parse_bitpos_bit(token: &[u8]) -> Result<u8, BitmapError> {
    match parse_i64_strict(token) {
        None => Err(BitmapError::NotInteger),
        Some(0) => Ok(0),
        Some(1) => Ok(1),
        Some(_) => Err(BitmapError::BitposBit),
    }
}

/// `BYTE` or `BIT`.
pub(crate) fn parse_bit_unit(token: &[u8]) -> Result<BitUnit, BitmapError> {
    word(
        token,
        &[("byte", BitUnit::Byte), ("bit", BitUnit::Bit)],
        BitmapError::Syntax,
    )
}

/// `AND`, `OR`, `XOR` or `NOT`.
pub(crate) fn parse_bitop(token: &[u8]) -> Result<BitOp, BitmapError> {
    word(
        token,
        &[
            ("and", BitOp::And),
            ("or", BitOp::Or),
            ("xor", BitOp::Xor),
            ("not", BitOp::Not),
        ],
        BitmapError::Syntax,
    )
}

/// `WRAP`, `SAT` or `FAIL`.
pub(crate) fn parse_overflow(token: &[u8]) -> Result<Overflow, BitmapError> {
    word(
        token,
        &[
            ("wrap", Overflow::Wrap),
            ("sat", Overflow::Sat),
            ("fail", Overflow::Fail),
        ],
        BitmapError::OverflowType,
    )
}

/// `iN` or `uN`: lower-case prefix only, a strict width, read as a C string.
pub(crate) fn parse_bitfield_type(token: &[u8]) -> Result<BitfieldType, BitmapError> {
    let (signed, width) = match c_str(token).split_first() {
        Some((b'i', width)) => (true, width),
        Some((b'u', width)) => (false, width),
        _ => return Err(BitmapError::BitfieldType),
    };
    let width = parse_i64_strict(width).ok_or(BitmapError::BitfieldType)?;
    let bits = u8::try_from(width).map_err(|_| BitmapError::BitfieldType)?;
    BitfieldType::new(signed, bits)
}

impl From<BitmapError> for Error {
    fn from(e: BitmapError) -> Error {
        match e {
            BitmapError::WrongType => Error::WrongType,
            BitmapError::NotInteger => Error::NotInteger,
            BitmapError::Syntax => Error::Syntax,
            other => Error::other(other.text()),
        }
    }
}

/// Missing key, or WRONGTYPE for a key that is not a string.
fn string_key_state(db: &mut Db<'_>, key: &[u8]) -> Result<bool> {
    match db.key_type(key) {
        KeyType::None => Ok(false),
        KeyType::String => Ok(true),
        _ => Err(Error::WrongType),
    }
}

/// `SETBIT key offset value`
pub(crate) struct SetBit<'a> {
    key: &'a [u8],
    offset: u64,
    bit: bool,
}

impl<'a> Command<'a> for SetBit<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let offset = parse_bit_offset(args.required()?)?;
        let bit = parse_bit_value(args.required()?)?;
        Ok(SetBit { key, offset, bit })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.setbit(self.key, self.offset, self.bit).map(i64::from))
    }
}

/// `GETBIT key offset`
pub(crate) struct GetBit<'a> {
    key: &'a [u8],
    offset: u64,
}

impl<'a> Command<'a> for GetBit<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(GetBit {
            key: args.required()?,
            offset: parse_bit_offset(args.required()?)?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.getbit(self.key, self.offset).map(i64::from))
    }
}

/// `BITCOUNT key [start end [BYTE | BIT]]`. Redis looks the key up before it reads the
/// range, so the range is parsed in `apply`.
pub(crate) struct BitCount<'a> {
    key: &'a [u8],
    range: &'a [&'a [u8]],
}

impl<'a> Command<'a> for BitCount<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(BitCount {
            key: args.required()?,
            range: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<i64> {
            if !string_key_state(db, self.key)? {
                return Ok(0);
            }
            let range = match self.range {
                [] => None,
                [start, end] | [start, end, _] => {
                    let start = parse_integer(start)?;
                    let end = parse_integer(end)?;
                    if start < 0 && end < 0 && start > end {
                        return Ok(0);
                    }
                    let unit = match self.range.get(2) {
                        Some(u) => parse_bit_unit(u)?,
                        None => BitUnit::Byte,
                    };
                    Some((start, end, unit))
                }
                _ => return Err(Error::Syntax),
            };
            db.bitcount(self.key, range)
        };
        reply(run(db))
    }
}

/// `BITPOS key bit [start [end [BYTE | BIT]]]`
pub(crate) struct BitPos<'a> {
    key: &'a [u8],
    bit: u8,
    range: &'a [&'a [u8]],
}

impl<'a> Command<'a> for BitPos<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let bit = parse_bitpos_bit(args.required()?)?;
        Ok(BitPos {
            key,
            bit,
            range: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let run = |db: &mut Db<'_>| -> Result<i64> {
            if !string_key_state(db, self.key)? {
                return Ok(bitmap::bitpos_missing_key(self.bit));
            }
            let range = match self.range {
                [] => None,
                [start, rest @ ..] if rest.len() <= 2 => {
                    let start = parse_integer(start)?;
                    let unit = match rest.get(1) {
                        Some(u) => parse_bit_unit(u)?,
                        None => BitUnit::Byte,
                    };
                    let end = match rest.first() {
                        Some(e) => Some(parse_integer(e)?),
                        None => None,
                    };
                    Some(BitposRange { start, end, unit })
                }
                _ => return Err(Error::Syntax),
            };
            db.bitpos(self.key, self.bit, range)
        };
        reply(run(db))
    }
}

/// `BITOP <AND | OR | XOR | NOT> destkey key [key ...]`
pub(crate) struct BitOpCmd<'a> {
    op: BitOp,
    dest: &'a [u8],
    sources: &'a [&'a [u8]],
}

impl<'a> Command<'a> for BitOpCmd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let op = parse_bitop(args.required()?)?;
        let dest = args.required()?;
        let sources = args.rest();
        op.check_source_count(sources.len())?;
        Ok(BitOpCmd { op, dest, sources })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.bitop(self.op, self.dest, self.sources))
    }
}

/// `BITFIELD key [GET type offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET type offset value |
/// INCRBY type offset increment> ...]`, and `BITFIELD_RO key [GET type offset ...]` when
/// `RO`. The whole argument list is parsed before anything runs.
pub(crate) struct BitField<'a, const RO: bool> {
    pub(super) key: &'a [u8],
    pub(super) ops: Vec<BitfieldOp>,
}

fn parse_field(args: &mut Args<'_>) -> Result<(BitfieldType, BitfieldOffset)> {
    let ty = args.required()?;
    let offset = args.required()?;
    let ty = parse_bitfield_type(ty)?;
    let offset = parse_bitfield_offset(offset, ty)?;
    Ok((ty, BitfieldOffset::Bits(offset)))
}

impl<'a, const RO: bool> Command<'a> for BitField<'a, RO> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let mut ops = Vec::new();
        while let Some(word) = args.next() {
            let left = args.remaining();
            if Args::is(word, "get") && left >= 2 {
                let (t, o) = parse_field(args)?;
                ops.push(BitfieldOp::Get(t, o));
            } else if (Args::is(word, "set") || Args::is(word, "incrby")) && left >= 3 {
                let (t, o) = parse_field(args)?;
                let v = parse_integer(args.required()?)?;
                ops.push(if Args::is(word, "set") {
                    BitfieldOp::Set(t, o, v)
                } else {
                    BitfieldOp::IncrBy(t, o, v)
                });
            } else if Args::is(word, "overflow") && left >= 1 {
                ops.push(BitfieldOp::Overflow(parse_overflow(args.required()?)?));
            } else {
                return Err(Error::Syntax);
            }
        }
        if RO && ops.iter().any(|o| o.is_write()) {
            return Err(BitmapError::BitfieldRoWrite.into());
        }
        Ok(BitField { key, ops })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        bitfield_reply(db, self.key, &self.ops)
    }
}

/// BITFIELD's reply to `ops` run on `key` (shared with the typed transaction op, which
/// holds its ops borrowed).
pub(crate) fn bitfield_reply(db: &mut Db<'_>, key: &[u8], ops: &[BitfieldOp]) -> Reply {
    match db.bitfield(key, ops) {
        Ok(items) => Reply::Array(
            items
                .into_iter()
                .map(|v| v.map_or(Reply::Nil, Reply::Integer))
                .collect(),
        ),
        Err(e) => Reply::Error(e.to_string()),
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    t.extend([
        Spec {
            name: "setbit",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(SetBit),
            block: None,
        },
        Spec {
            name: "getbit",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(GetBit),
            block: None,
        },
        Spec {
            name: "bitcount",
            arity: -2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BitCount),
            block: None,
        },
        Spec {
            name: "bitpos",
            arity: -3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BitPos),
            block: None,
        },
        Spec {
            name: "bitop",
            arity: -4,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::Range {
                first: 2,
                last: -1,
                step: 1,
            },
            run: cmd!(BitOpCmd),
            block: None,
        },
        Spec {
            name: "bitfield",
            arity: -2,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(BitField<false>),
            block: None,
        },
        Spec {
            name: "bitfield_ro",
            arity: -2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(BitField<true>),
            block: None,
        },
    ]);
}

/// The string [`fuzz_bit_tokens`] reads parsed offsets from.
#[cfg(any(test, feature = "fuzzing"))]
const FUZZ_STRING: &[u8] = b"\x01\x70\xff\x00\x80";

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
/// Fuzz body: reads `data` as tokens (a length byte, then that many bytes, up to 23), passes
/// each through every token parser and panics only when one disagrees with its definition:
/// `parse_i64_strict` with the standard parser on canonical text, a parsed offset with the
/// typed [`BitfieldOffset`] it stands for, a parsed type with its `Display`. The bit
/// operations have their own body, `types::bitmap::fuzz_bit_ops`.
pub fn fuzz_bit_tokens(data: &[u8]) {
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len % 24).min(tail.len());
        let (token, tail) = tail.split_at(len);
        rest = tail;
        let strict = std::str::from_utf8(token)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|v| v.to_string().as_bytes() == token);
        assert_eq!(parse_i64_strict(token), strict);
        assert_eq!(parse_integer(token).ok(), strict);
        let _ = (
            parse_overflow(token),
            parse_bit_unit(token),
            parse_bitop(token),
        );
        let _ = (parse_bit_value(token), parse_bitpos_bit(token));
        if let Ok(ty) = parse_bitfield_type(token) {
            assert_eq!(parse_bitfield_type(ty.to_string().as_bytes()), Ok(ty));
        }
        let ty =
            BitfieldType::new(len % 2 == 0, (len as u8) * 3 % 64 + 1).unwrap_or(BitfieldType::U8);
        let parsed = parse_bitfield_offset(token, ty);
        if let Ok(off) = parsed {
            assert!(off <= bitmap::MAX_BIT_OFFSET);
            let _ = bitmap::bitfield_get(FUZZ_STRING, ty, off);
        }
        // A non-negative `#n` parses exactly as the typed offset resolves.
        if let Some(n) = token
            .strip_prefix(b"#")
            .and_then(parse_i64_strict)
            .and_then(|n| u64::try_from(n).ok())
        {
            assert_eq!(parsed, BitfieldOffset::Fields(n).resolve(ty));
        } else if let Some(n) = strict.and_then(|n| u64::try_from(n).ok()) {
            assert_eq!(parsed, BitfieldOffset::Bits(n).resolve(ty));
            assert_eq!(parse_bit_offset(token), parsed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::bitmap::MAX_BIT_OFFSET;
    use proptest::prelude::*;

    #[test]
    fn bit_offsets_and_values() {
        assert_eq!(parse_bit_value(b"1"), Ok(true));
        assert_eq!(parse_bit_value(b"0"), Ok(false));
        assert_eq!(parse_bit_value(b"2"), Err(BitmapError::BitValue));
        assert_eq!(parse_bit_offset(b"-1"), Err(BitmapError::BitOffset));
        assert_eq!(parse_bit_offset(b"4294967296"), Err(BitmapError::BitOffset));
        assert_eq!(parse_bit_offset(b"4294967295"), Ok(MAX_BIT_OFFSET));
        for bad in ["-1", "x", "", "01", "-0", "+1", "1.0"] {
            assert_eq!(parse_bit_value(bad.as_bytes()), Err(BitmapError::BitValue));
        }
        for bad in ["1.5", "x", "", "+3", "03", " 3", "#1"] {
            assert_eq!(
                parse_bit_offset(bad.as_bytes()),
                Err(BitmapError::BitOffset),
                "{bad}"
            );
        }
    }

    #[test]
    fn integers_units_and_words() {
        assert_eq!(parse_integer(b"a"), Err(BitmapError::NotInteger));
        assert_eq!(
            parse_integer(b"9223372036854775808"),
            Err(BitmapError::NotInteger)
        );
        assert_eq!(parse_integer(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_bit_unit(b"bIt"), Ok(BitUnit::Bit));
        assert_eq!(parse_bit_unit(b"BYTE"), Ok(BitUnit::Byte));
        assert_eq!(parse_bit_unit(b"bits"), Err(BitmapError::Syntax));
        assert_eq!(parse_bitpos_bit(b"2"), Err(BitmapError::BitposBit));
        assert_eq!(parse_bitpos_bit(b"x"), Err(BitmapError::NotInteger));
        assert_eq!(parse_bitpos_bit(b"1"), Ok(1));
        assert_eq!(parse_bitop(b"xOr"), Ok(BitOp::Xor));
        assert_eq!(parse_bitop(b"not\0x"), Ok(BitOp::Not));
        assert_eq!(parse_bitop(b"nand"), Err(BitmapError::Syntax));
        assert_eq!(parse_overflow(b"BAD"), Err(BitmapError::OverflowType));
        assert_eq!(parse_overflow(b"fail"), Ok(Overflow::Fail));
        assert_eq!(parse_overflow(b"sAt"), Ok(Overflow::Sat));
        assert_eq!(parse_overflow(b"WRAP"), Ok(Overflow::Wrap));
        // Recorded from the 7.0.15 server: words are read as C strings.
        assert_eq!(parse_overflow(b"sat\0x"), Ok(Overflow::Sat));
    }

    #[test]
    fn bitfield_types() {
        for bad in [
            "u64", "i65", "u0", "i0", "x8", "U8", "I8", "u", "i8a", "u-1", "u+8", "u08", "",
            "i256", "i-0",
        ] {
            assert_eq!(
                parse_bitfield_type(bad.as_bytes()),
                Err(BitmapError::BitfieldType),
                "{bad}"
            );
        }
        assert_eq!(parse_bitfield_type(b"i64").map(|t| t.bits()), Ok(64));
        assert_eq!(
            parse_bitfield_type(b"u63").map(|t| t.is_signed()),
            Ok(false)
        );
        // Recorded from the 7.0.15 server: the type is read as a C string.
        assert_eq!(parse_bitfield_type(b"u8\0junk"), Ok(BitfieldType::U8));
    }

    #[test]
    fn bitfield_offsets() {
        let t = |name: &str| parse_bitfield_type(name.as_bytes()).unwrap_or(BitfieldType::U8);
        let (u8t, u4t, i64t) = (t("u8"), t("u4"), t("i64"));
        for (token, ty) in [
            ("#-1", u8t),
            ("#536870912", u8t),
            ("#67108864", i64t),
            ("#", u8t),
            ("##1", u8t),
            ("#x", u8t),
            ("-0", u8t),
            ("#-0", u8t),
            ("0\0", u8t),
            ("#1152921504606846977", u8t),
            ("#9223372036854775808", u8t),
        ] {
            assert_eq!(
                parse_bitfield_offset(token.as_bytes(), ty),
                Err(BitmapError::BitOffset),
                "{token}"
            );
        }
        let ok = |token: &str, ty| parse_bitfield_offset(token.as_bytes(), ty);
        assert_eq!(ok("#1", u8t), Ok(8));
        assert_eq!(ok("#3", u4t), Ok(12));
        assert_eq!(ok("12", u4t), Ok(12));
        assert_eq!(ok("#536870911", u8t), Ok(MAX_BIT_OFFSET - 7));
        assert_eq!(ok("#67108863", i64t), Ok(MAX_BIT_OFFSET - 63));
        assert_eq!(ok("4294967295", u8t), Ok(MAX_BIT_OFFSET));
        assert_eq!(ok("#0", u8t), Ok(0));
        // Recorded from the 7.0.15 server: `#n * width` wraps like C's signed multiply, for a
        // negative `n` too.
        assert_eq!(ok("#2305843009213693953", u8t), Ok(8));
        assert_eq!(ok("#-2305843009213693951", u8t), Ok(8));
    }

    /// Recorded from the 7.0.15 server with `proto-max-bulk-len 1mb`: a GET's offset is
    /// checked against the configured limit too, before the key is looked up; a `#n` with a
    /// negative `n` whose product wraps to a valid offset writes there.
    #[test]
    fn offsets_against_the_configured_limit() {
        let store = crate::Store::builder().max_string_bytes(1 << 20).build();
        let offset_error = Reply::Error(BitmapError::BitOffset.text().into());
        assert_eq!(
            store.execute(&["BITFIELD", "k", "GET", "u8", "8388608"]),
            offset_error
        );
        assert_eq!(
            store.execute(&["BITFIELD", "k", "GET", "u8", "8388600"]),
            Reply::Array(vec![Reply::Integer(0)])
        );
        let typed = store.bitfield(
            "k",
            &[BitfieldOp::Get(
                BitfieldType::U8,
                BitfieldOffset::Fields(1 << 20),
            )],
        );
        assert_eq!(
            typed.map_err(|e| e.to_string()),
            Err(BitmapError::BitOffset.text().into())
        );
        store.hset("h", &[("f", "v")]).unwrap();
        assert_eq!(
            store.execute(&["BITFIELD", "h", "GET", "u8", "#1048576"]),
            offset_error
        );
        assert_eq!(
            store.execute(&["BITFIELD", "k", "SET", "u8", "#-2305843009213693951", "255"]),
            Reply::Array(vec![Reply::Integer(0)])
        );
        assert_eq!(store.get("k").ok().flatten(), Some(vec![0, 255]));
    }

    proptest! {
        #[test]
        fn strict_integer_parse(token in "-?[0-9+ ]{0,21}") {
            let want = token.parse::<i64>().ok().filter(|v| v.to_string() == token);
            prop_assert_eq!(parse_i64_strict(token.as_bytes()), want);
        }

        #[test]
        fn hash_offsets_resolve_as_typed(n in prop_oneof![0u64..1 << 30, any::<u64>()],
                                         w in 1u8..=63, signed in any::<bool>()) {
            let ty = BitfieldType::new(signed, w).unwrap_or(BitfieldType::U8);
            let token = format!("#{n}");
            prop_assert_eq!(
                parse_bitfield_offset(token.as_bytes(), ty),
                BitfieldOffset::Fields(n).resolve(ty)
            );
            prop_assert_eq!(
                parse_bitfield_offset(n.to_string().as_bytes(), ty),
                BitfieldOffset::Bits(n).resolve(ty)
            );
        }
    }

    #[test]
    fn fuzz_body_runs_on_seeded_inputs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed_b175);
        let alphabet = b"#-0123456789uiUI\0 +satwrpfl";
        for round in 0..400 {
            let len = rng.gen_range(0..(64 + round));
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    if i % 5 == 0 {
                        rng.gen()
                    } else {
                        alphabet[rng.gen_range(0..alphabet.len())]
                    }
                })
                .collect();
            fuzz_bit_tokens(&data);
        }
        fuzz_bit_tokens(&[]);
        fuzz_bit_tokens(&[0xff; 300]);
        fuzz_bit_tokens(b"\x14#2305843009213693953\x03u63\x03SaT\x02#5\x0a4294967295");
    }
}
