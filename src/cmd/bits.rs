//! Bit commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::bits::BitfieldOp;
use crate::store::{Db, KeyType};
use crate::types::bitmap::{
    self, BitOp, BitUnit, BitfieldType, BitmapError, BitposRange, Overflow,
};

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
        let offset = bitmap::parse_bit_offset(args.required()?)?;
        let bit = bitmap::parse_bit_value(args.required()?)? == 1;
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
            offset: bitmap::parse_bit_offset(args.required()?)?,
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
                    let start = bitmap::parse_integer(start)?;
                    let end = bitmap::parse_integer(end)?;
                    if start < 0 && end < 0 && start > end {
                        return Ok(0);
                    }
                    let unit = match self.range.get(2) {
                        Some(u) => BitUnit::parse(u)?,
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
        let bit = bitmap::parse_bitpos_bit(args.required()?)?;
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
                    let start = bitmap::parse_integer(start)?;
                    let unit = match rest.get(1) {
                        Some(u) => BitUnit::parse(u)?,
                        None => BitUnit::Byte,
                    };
                    let end = match rest.first() {
                        Some(e) => Some(bitmap::parse_integer(e)?),
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
        let op = BitOp::parse(args.required()?)?;
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

fn parse_field(args: &mut Args<'_>) -> Result<(BitfieldType, u64)> {
    let ty = args.required()?;
    let offset = args.required()?;
    let ty = BitfieldType::parse(ty)?;
    let offset = bitmap::parse_bitfield_offset(offset, ty)?;
    Ok((ty, offset))
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
                let v = bitmap::parse_integer(args.required()?)?;
                ops.push(if Args::is(word, "set") {
                    BitfieldOp::Set(t, o, v)
                } else {
                    BitfieldOp::IncrBy(t, o, v)
                });
            } else if Args::is(word, "overflow") && left >= 1 {
                ops.push(BitfieldOp::Overflow(Overflow::parse(args.required()?)?));
            } else {
                return Err(Error::Syntax);
            }
        }
        if RO
            && ops
                .iter()
                .any(|o| matches!(o, BitfieldOp::Set(..) | BitfieldOp::IncrBy(..)))
        {
            return Err(BitmapError::BitfieldRoWrite.into());
        }
        Ok(BitField { key, ops })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.bitfield(self.key, &self.ops) {
            Ok(items) => Reply::Array(
                items
                    .into_iter()
                    .map(|v| v.map_or(Reply::Nil, Reply::Integer))
                    .collect(),
            ),
            Err(e) => Reply::Error(e.to_string()),
        }
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
