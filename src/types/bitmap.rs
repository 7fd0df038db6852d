//! Bit-level views of a Redis string: `GETBIT`, `SETBIT`, `BITCOUNT`, `BITPOS`, `BITOP` and
//! `BITFIELD`'s integer fields, as pure functions over the string's bytes.
//!
//! # Design
//!
//! - A bitmap is not a type of its own: Redis keeps bits in ordinary strings, so every function
//!   here reads a `&[u8]` or writes a `&mut Vec<u8>` that is the string value itself. `GET`
//!   after `SETBIT` shows exactly the bytes Redis would show. Cost: no cached popcount, so
//!   `BITCOUNT` is linear in the range it counts (as in Redis).
//! - Reads past the end see zero bits and never allocate; writes grow the string with zero bytes
//!   up to the byte holding the last written bit, as `SETBIT` and `BITFIELD` do.
//! - Offsets are bounded by Redis's 512 MB string limit. [`check_bit_offset`],
//!   [`bit_offset`] and [`BitfieldOffset::resolve`] reject an offset whose byte index is
//!   `>= MAX_STRING_BYTES`; the writers assert it, so no call can allocate more than
//!   [`MAX_GROWN_BYTES`]. Cost: the caller must check a raw `u64` before writing.
//! - A `BITFIELD` offset may count fields instead of bits ([`BitfieldOffset::Fields`], Redis's
//!   `#n`), resolved with Redis's own arithmetic (a wrapping multiply, then the sign and limit
//!   checks), so the typed form and the argument form agree even on the wrap-around quirk.
//! - `BITFIELD` overflow follows Redis's arithmetic exactly, quirks included: an unsigned `SET`
//!   of a negative value sees the value reinterpreted as a huge `u64` (so `SAT` stores the
//!   maximum, not zero); a signed `SET` under `SAT` of a value below `max - i64::MAX` (e.g.
//!   `i8` and `-9223372036854775808`) stores the maximum, because Redis's direction test
//!   wraps; `i64` and `u63` are checked with full 64-bit arithmetic. The hot path
//!   uses `i64::checked_add`; [`model`] recomputes everything with `i128` over a `Vec<bool>` so
//!   the two can be compared.
//! - `SET` and `INCRBY` grow the string even when `FAIL` rejects the write: Redis pads the key
//!   to the highest written field before any operation runs, so a rejected write still creates
//!   or extends the key. Growing per operation gives the same final bytes.
//! - Nothing here reads command arguments: the command layer turns Redis's tokens into these
//!   types and keeps Redis's parsing rules. Every failure is a [`BitmapError`] whose `Display`
//!   is Redis's exact error text.
//!
//! # Representation
//!
//! The string is one big-endian bit array: bit `n` is in byte `n >> 3`, under the mask
//! `0x80 >> (n & 7)`, so bit 0 is the most significant bit of byte 0. A `BITFIELD` integer of
//! width `w` at bit offset `o` occupies bits `o .. o + w`, most significant bit first, and may
//! straddle bytes. `u5` holding 23 at offset 7:
//!
//! ```text
//! bit offset   0 1 2 3 4 5 6 7 | 8 9 10 11 12 13 14 15
//! byte 0/1     0 0 0 0 0 0 0 1 | 0 1  1  1  0  0  0  0     = "\x01\x70"
//!                            ^---------------^
//!                            u5 at 7 = 0b10111 = 23
//! ```
//!
//! Signed fields are two's complement in `w` bits; a read sign-extends from bit `o`.
//!
//! # Worked example
//!
//! `BITFIELD k SET u8 #1 255` (typed: `Set(U8, Fields(1), 255)`) on a missing key: `#1` means
//! offset `1 * 8 = 8`; the string
//! grows to 2 bytes `"\x00\x00"`, the old value 0 is returned and the bytes become
//! `"\x00\xff"`. Then `OVERFLOW SAT INCRBY u8 8 1` computes 255 + 1 = 256 > 255, saturates and
//! returns 255; under `WRAP` it would store and return `256 mod 256 = 0`; under `FAIL` it
//! returns nil (`None`) and leaves the bytes alone. `BITCOUNT` of `"\x00\xff"` is 8 and
//! `BITPOS k 0 1` (from byte 1, no end) is 16: the string is taken as padded with zeros on the
//! right, while `BITPOS k 0 1 1` (end given) is -1.
//!
//! # Accuracy
//!
//! Exact: these are integer and bit operations, and no result is approximate. The
//! `bitfield_programs_match_model` property test runs random BITFIELD programs (every type,
//! offset form and overflow mode) through the fast code and through [`model`], which redoes
//! each one bit by bit in `i128`, and requires identical replies and bytes; the BITCOUNT and
//! BITPOS property tests (`bitcount_matches_naive`, `bitpos_matches_naive`) compare ranges in
//! bytes and bits against a naive count.
//!
//! # References
//!
//! - Redis 7.0.15 `src/bitops.c` (`redisBitpos`, `getBitOffsetFromArgument`,
//!   `getBitfieldTypeFromArgument`, `check{Signed,Unsigned}BitfieldOverflow`,
//!   `bitcountCommand`, `bitposCommand`, `bitfieldGeneric`) and `src/util.c` (`string2ll`).
//! - docs/redis-behaviours.md, "BITFIELD overflow": the quirks kept, with an example recorded
//!   from a real server.

use std::fmt;

/// One BITFIELD sub-command. An offset is a [`BitfieldOffset`]: `16.into()` is bit 16,
/// `BitfieldOffset::Fields(2)` is Redis's `#2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitfieldOp {
    /// `GET type offset`: the field's value.
    Get(BitfieldType, BitfieldOffset),
    /// `SET type offset value`: the field's old value, then stores `value`.
    Set(BitfieldType, BitfieldOffset, i64),
    /// `INCRBY type offset increment`: the field's new value.
    IncrBy(BitfieldType, BitfieldOffset, i64),
    /// `OVERFLOW WRAP|SAT|FAIL` for the SET and INCRBY that follow; no reply entry.
    Overflow(Overflow),
}

impl BitfieldOp {
    /// The field a GET, SET or INCRBY addresses, its offset resolved to bits.
    pub fn field(self) -> Option<Result<(BitfieldType, u64), BitmapError>> {
        match self {
            BitfieldOp::Get(t, o) | BitfieldOp::Set(t, o, _) | BitfieldOp::IncrBy(t, o, _) => {
                Some(o.resolve(t).map(|o| (t, o)))
            }
            BitfieldOp::Overflow(_) => None,
        }
    }

    /// Whether this is a SET or INCRBY.
    pub fn is_write(self) -> bool {
        matches!(self, BitfieldOp::Set(..) | BitfieldOp::IncrBy(..))
    }
}

/// Redis's string size limit (`proto-max-bulk-len`, 512 MB): an offset is valid when its byte
/// index `offset >> 3` is below this.
pub const MAX_STRING_BYTES: u64 = 512 * 1024 * 1024;

/// The largest bit offset `SETBIT` and `BITFIELD` accept: `2^32 - 1`.
pub const MAX_BIT_OFFSET: u64 = MAX_STRING_BYTES * 8 - 1;

/// The longest string a single valid write can produce: an `i64` field starting at
/// [`MAX_BIT_OFFSET`] ends in byte 536870919, so the string may exceed 512 MB by 8 bytes
/// (Redis checks only the start of a field).
pub const MAX_GROWN_BYTES: u64 = MAX_STRING_BYTES + 8;

/// A failure with Redis's exact error text as its `Display` (without the leading `-`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BitmapError {
    /// Offset not a strict integer, negative, or past the 512 MB limit (also `#n` forms).
    BitOffset,
    /// `SETBIT` value other than the integers 0 and 1.
    BitValue,
    /// `BITPOS` bit argument is an integer other than 0 and 1.
    BitposBit,
    /// A start, end, `SET` value, `INCRBY` increment or `BITPOS` bit that is not an `i64`.
    NotInteger,
    /// Bad unit word, `BITOP` operation, sub-command or argument count.
    Syntax,
    /// Bitfield type other than `i1..i64`, `u1..u63`.
    BitfieldType,
    /// `OVERFLOW` word other than `WRAP`, `SAT`, `FAIL`.
    OverflowType,
    /// `BITFIELD_RO` given a `SET` or `INCRBY`.
    BitfieldRoWrite,
    /// `BITOP NOT` with other than one source key.
    BitopNotArity,
    /// The key holds a value that is not a string.
    WrongType,
}

impl BitmapError {
    /// Every variant, for tables and tests.
    pub const ALL: [BitmapError; 10] = [
        BitmapError::BitOffset,
        BitmapError::BitValue,
        BitmapError::BitposBit,
        BitmapError::NotInteger,
        BitmapError::Syntax,
        BitmapError::BitfieldType,
        BitmapError::OverflowType,
        BitmapError::BitfieldRoWrite,
        BitmapError::BitopNotArity,
        BitmapError::WrongType,
    ];

    /// Redis's error line for this failure, without the leading `-`.
    pub const fn text(self) -> &'static str {
        match self {
            BitmapError::BitOffset => "ERR bit offset is not an integer or out of range",
            BitmapError::BitValue => "ERR bit is not an integer or out of range",
            BitmapError::BitposBit => "ERR The bit argument must be 1 or 0.",
            BitmapError::NotInteger => "ERR value is not an integer or out of range",
            BitmapError::Syntax => "ERR syntax error",
            BitmapError::BitfieldType => {
                "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
            }
            BitmapError::OverflowType => "ERR Invalid OVERFLOW type specified",
            BitmapError::BitfieldRoWrite => "ERR BITFIELD_RO only supports the GET subcommand",
            BitmapError::BitopNotArity => "ERR BITOP NOT must be called with a single source key.",
            BitmapError::WrongType => {
                "WRONGTYPE Operation against a key holding the wrong kind of value"
            }
        }
    }
}

impl fmt::Display for BitmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for BitmapError {}

// ---------------------------------------------------------------------------------------------
// Offsets
// ---------------------------------------------------------------------------------------------

/// Checks a raw bit offset against the 512 MB limit. Every writer requires this to hold.
pub fn check_bit_offset(offset: u64) -> Result<u64, BitmapError> {
    if offset >> 3 < MAX_STRING_BYTES {
        Ok(offset)
    } else {
        Err(BitmapError::BitOffset)
    }
}

/// A signed bit offset as Redis takes it: negative or past the 512 MB limit is
/// [`BitmapError::BitOffset`].
pub fn bit_offset(offset: i64) -> Result<u64, BitmapError> {
    u64::try_from(offset)
        .map_err(|_| BitmapError::BitOffset)
        .and_then(check_bit_offset)
}

/// Redis's `#n` offset: `n` fields of type `ty`, i.e. `n * ty.bits()` bits.
///
/// The limit applies to the start of the field only. As in Redis the multiplication wraps in
/// 64-bit two's complement before the sign and limit checks, so `u8` and
/// `n = 2305843009213693953` is offset 8 (recorded from a 7.0.15 server) while
/// `n = 1152921504606846977` wraps negative and is rejected.
pub fn fields_offset(n: i64, ty: BitfieldType) -> Result<u64, BitmapError> {
    bit_offset(n.wrapping_mul(i64::from(ty.bits)))
}

/// Where a `BITFIELD` field starts: a bit offset, or Redis's `#n`, a count of fields of the
/// operation's type. `From<u64>` gives `Bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitfieldOffset {
    /// Offset in bits (Redis's plain `offset`).
    Bits(u64),
    /// Offset in fields of the operation's type (Redis's `#n`): `n * width` bits.
    Fields(u64),
}

impl BitfieldOffset {
    /// The bit offset for a field of type `ty`, with Redis's checks: a value that is not an
    /// `i64` (Redis's argument would not parse), a `#n` product that wraps negative, or a start
    /// past the 512 MB limit is [`BitmapError::BitOffset`].
    pub fn resolve(self, ty: BitfieldType) -> Result<u64, BitmapError> {
        match self {
            BitfieldOffset::Bits(n) => check_bit_offset(n),
            BitfieldOffset::Fields(n) => i64::try_from(n)
                .map_err(|_| BitmapError::BitOffset)
                .and_then(|n| fields_offset(n, ty)),
        }
    }
}

impl From<u64> for BitfieldOffset {
    fn from(bits: u64) -> Self {
        BitfieldOffset::Bits(bits)
    }
}

impl fmt::Display for BitfieldOffset {
    /// The Redis argument: `n` or `#n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BitfieldOffset::Bits(n) => write!(f, "{n}"),
            BitfieldOffset::Fields(n) => write!(f, "#{n}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GETBIT / SETBIT
// ---------------------------------------------------------------------------------------------

/// The bit at `offset` (0 or 1); 0 past the end.
#[inline]
pub fn getbit(bytes: &[u8], offset: u64) -> u8 {
    let Ok(index) = usize::try_from(offset >> 3) else {
        return 0;
    };
    match bytes.get(index) {
        Some(&byte) => (byte >> (7 - (offset & 7))) & 1,
        None => 0,
    }
}

/// Sets the bit at `offset` to `bit` (any nonzero value is 1), growing `bytes` with zero bytes
/// to include it, and returns the old bit.
///
/// # Panics
///
/// If `offset > MAX_BIT_OFFSET`; check with [`check_bit_offset`] or [`bit_offset`] first.
#[inline]
pub fn setbit(bytes: &mut Vec<u8>, offset: u64, bit: u8) -> u8 {
    assert!(offset <= MAX_BIT_OFFSET, "bit offset past the 512 MB limit");
    let index = (offset >> 3) as usize;
    if bytes.len() <= index {
        bytes.resize(index + 1, 0);
    }
    let mask = 0x80u8 >> (offset & 7);
    let byte = &mut bytes[index];
    let old = u8::from(*byte & mask != 0);
    if bit != 0 {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT / BITPOS
// ---------------------------------------------------------------------------------------------

/// The unit of a `BITCOUNT`/`BITPOS` range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BitUnit {
    /// Indexes count bytes (the default).
    #[default]
    Byte,
    /// Indexes count bits.
    Bit,
}

/// A range resolved to byte indexes `start..=end` plus masks of the bits of the first and last
/// byte that lie outside it (nonzero only in BIT mode).
struct ByteRange {
    start: usize,
    end: usize,
    before_start: u8,
    after_end: u8,
}

/// Redis's index rules: negative indexes count from the end, then both clamp into the string.
/// `None` when the range is empty.
fn resolve_range(len: usize, start: i64, end: i64, unit: BitUnit) -> Option<ByteRange> {
    let len = i64::try_from(len).unwrap_or(i64::MAX >> 3);
    let total = match unit {
        BitUnit::Byte => len,
        BitUnit::Bit => len << 3,
    };
    let mut start = if start < 0 { total + start } else { start };
    let mut end = if end < 0 { total + end } else { end };
    start = start.max(0);
    end = end.max(0).min(total - 1);
    if start > end {
        return None;
    }
    // 0 <= start <= end < total: both fit usize and index into the string.
    Some(match unit {
        BitUnit::Byte => ByteRange {
            start: start as usize,
            end: end as usize,
            before_start: 0,
            after_end: 0,
        },
        BitUnit::Bit => ByteRange {
            start: (start >> 3) as usize,
            end: (end >> 3) as usize,
            before_start: !(0xffu8 >> (start & 7)),
            after_end: 0x7fu8 >> (end & 7),
        },
    })
}

fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut count = 0u64;
    for word in &mut words {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(word);
        count += u64::from(u64::from_ne_bytes(buf).count_ones());
    }
    for &b in words.remainder() {
        count += u64::from(b.count_ones());
    }
    count
}

/// `BITCOUNT`: the number of set bits in the string, or in `range = (start, end, unit)` with
/// Redis's negative-index and clamping rules. A missing key is the caller's `:0`.
///
/// When both indexes are negative and `start > end` Redis answers 0 before it even parses the
/// unit word, so `BITCOUNT k -1 -2 FOO` is `:0` rather than a syntax error; the command layer
/// must make that check before it reads the unit.
pub fn bitcount(bytes: &[u8], range: Option<(i64, i64, BitUnit)>) -> i64 {
    let r = match range {
        None => {
            return popcount(bytes) as i64;
        }
        Some((start, end, _)) if start < 0 && end < 0 && start > end => return 0,
        Some((start, end, unit)) => match resolve_range(bytes.len(), start, end, unit) {
            Some(r) => r,
            None => return 0,
        },
    };
    let outside =
        (bytes[r.start] & r.before_start).count_ones() + (bytes[r.end] & r.after_end).count_ones();
    (popcount(&bytes[r.start..=r.end]) - u64::from(outside)) as i64
}

/// The range arguments of `BITPOS key bit [start [end [BYTE|BIT]]]`.
///
/// Redis's syntax allows `unit: Bit` only together with an explicit `end`; a `Bit` range with
/// `end: None` is still answered the way Redis's code would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitposRange {
    /// First index (negative counts from the end).
    pub start: i64,
    /// Last index if given. Whether it was given matters: see [`bitpos`].
    pub end: Option<i64>,
    /// Unit of `start` and `end`.
    pub unit: BitUnit,
}

/// `BITPOS` on a missing key: the key is an endless run of zeros.
pub const fn bitpos_missing_key(bit: u8) -> i64 {
    if bit != 0 {
        -1
    } else {
        0
    }
}

/// Position of the first `bit` in `bytes`; for 0 with none found, the bit just past the end
/// (the right of the string counts as zero padding), for 1 with none found, -1.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    let skip = if bit { 0x00 } else { 0xff };
    match bytes.iter().position(|&b| b != skip) {
        Some(i) => {
            let b = bytes[i];
            let within = if bit {
                b.leading_zeros()
            } else {
                b.leading_ones()
            };
            (i as i64) * 8 + i64::from(within)
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// `BITPOS`: the absolute position of the first bit equal to `bit` (nonzero means 1) in the
/// string or range, or -1.
///
/// Looking for 0 and finding none, the answer depends on whether an end was given: without
/// one the string counts as padded with zeros and the answer is the first bit after the range
/// (`BITPOS "\xff\xff\xff" 0` is 24); with one it is -1. An empty string or range is -1 for
/// both bits. A missing key is [`bitpos_missing_key`].
pub fn bitpos(bytes: &[u8], bit: u8, range: Option<BitposRange>) -> i64 {
    let bit = bit != 0;
    let len = bytes.len() as i64;
    let (r, end_given) = match range {
        None => {
            if bytes.is_empty() {
                return -1;
            }
            (
                ByteRange {
                    start: 0,
                    end: bytes.len() - 1,
                    before_start: 0,
                    after_end: 0,
                },
                false,
            )
        }
        Some(BitposRange { start, end, unit }) => {
            let end_index = end.unwrap_or(match unit {
                BitUnit::Byte => len - 1,
                BitUnit::Bit => (len << 3) + 7,
            });
            match resolve_range(bytes.len(), start, end_index, unit) {
                Some(r) => (r, end.is_some()),
                None => return -1,
            }
        }
    };

    // The scan mirrors Redis: the partial first byte, the whole middle bytes, the partial last
    // byte, each stopping early on a hit. `pos` is relative to `start`, and `remaining` is the
    // number of bytes left from `start`; both feed the end-given test below.
    let masked = |byte: u8, outside: u8| if bit { byte & !outside } else { byte | outside };
    let mut start = r.start;
    let mut remaining = (r.end - r.start + 1) as i64;
    let pos = 'scan: {
        if r.before_start != 0 {
            let mut first = masked(bytes[start], r.before_start);
            if r.after_end != 0 && remaining == 1 {
                first = masked(first, r.after_end);
            }
            let pos = first_bit(&[first], bit);
            if remaining == 1 || (pos != -1 && pos != 8) {
                break 'scan pos;
            }
            start += 1;
            remaining -= 1;
        }
        let whole = remaining - i64::from(r.after_end != 0);
        if whole > 0 {
            let pos = first_bit(&bytes[start..start + whole as usize], bit);
            if remaining == whole || (pos != -1 && pos != whole * 8) {
                break 'scan pos;
            }
            start += whole as usize;
            remaining -= whole;
        }
        first_bit(&[masked(bytes[r.end], r.after_end)], bit)
    };
    if end_given && !bit && pos == remaining * 8 {
        return -1;
    }
    if pos == -1 {
        -1
    } else {
        pos + (start as i64) * 8
    }
}

// ---------------------------------------------------------------------------------------------
// BITOP
// ---------------------------------------------------------------------------------------------

/// A `BITOP` operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitOp {
    /// Bitwise AND; shorter sources are zero-padded, so the tail of the result is zero.
    And,
    /// Bitwise OR.
    Or,
    /// Bitwise XOR.
    Xor,
    /// Bitwise NOT of exactly one source.
    Not,
}

impl BitOp {
    /// Redis rejects `NOT` with other than one source key before looking any key up.
    pub fn check_source_count(self, sources: usize) -> Result<(), BitmapError> {
        if self == BitOp::Not && sources != 1 {
            Err(BitmapError::BitopNotArity)
        } else {
            Ok(())
        }
    }
}

/// `BITOP`: combines `sources` (missing keys passed as empty slices) into a result as long as
/// the longest source. An empty result means Redis deletes the destination and replies 0.
///
/// `Not` complements `sources[0]` and ignores the rest; Redis accepts only one source for it
/// ([`BitOp::check_source_count`]).
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let longest = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    match op {
        BitOp::Not => sources
            .first()
            .map(|s| s.iter().map(|b| !b).collect())
            .unwrap_or_default(),
        BitOp::And => {
            let mut out = vec![0u8; longest];
            if let Some((first, rest)) = sources.split_first() {
                out[..first.len()].copy_from_slice(first);
                for src in rest {
                    for (o, s) in out.iter_mut().zip(src.iter()) {
                        *o &= s;
                    }
                    for o in out.iter_mut().skip(src.len()) {
                        *o = 0;
                    }
                }
            }
            out
        }
        BitOp::Or | BitOp::Xor => {
            let mut out = vec![0u8; longest];
            for src in sources {
                for (o, s) in out.iter_mut().zip(src.iter()) {
                    if op == BitOp::Or {
                        *o |= s;
                    } else {
                        *o ^= s;
                    }
                }
            }
            out
        }
    }
}

// ---------------------------------------------------------------------------------------------
// BITFIELD
// ---------------------------------------------------------------------------------------------

/// A `BITFIELD` integer type: `i1..=i64` or `u1..=u63` (`u64` is rejected because the reply
/// is a signed 64-bit integer). The invariant holds by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitfieldType {
    signed: bool,
    bits: u8,
}

impl BitfieldType {
    /// `u8`, the type of byte counters.
    pub const U8: BitfieldType = BitfieldType {
        signed: false,
        bits: 8,
    };

    /// A type of `bits` width; [`BitmapError::BitfieldType`] outside `i1..=i64`, `u1..=u63`.
    pub const fn new(signed: bool, bits: u8) -> Result<Self, BitmapError> {
        let max = if signed { 64 } else { 63 };
        if bits >= 1 && bits <= max {
            Ok(BitfieldType { signed, bits })
        } else {
            Err(BitmapError::BitfieldType)
        }
    }

    /// Two's complement (`i`) or unsigned (`u`).
    pub const fn is_signed(self) -> bool {
        self.signed
    }

    /// Width in bits, 1..=64.
    pub const fn bits(self) -> u8 {
        self.bits
    }

    /// Smallest storable value.
    pub const fn min(self) -> i64 {
        if self.signed {
            i64::MIN >> (64 - self.bits as u32)
        } else {
            0
        }
    }

    /// Largest storable value.
    pub const fn max(self) -> i64 {
        if self.signed {
            i64::MAX >> (64 - self.bits as u32)
        } else {
            (u64::MAX >> (64 - self.bits as u32)) as i64
        }
    }

    /// Bytes the string must have for a write of this type at `offset`.
    pub const fn write_len(self, offset: u64) -> u64 {
        (offset.saturating_add(self.bits as u64 - 1) >> 3) + 1
    }

    const fn mask(self) -> u64 {
        u64::MAX >> (64 - self.bits as u32)
    }

    /// Interprets the low `bits` of `raw` as this type.
    const fn decode(self, raw: u64) -> i64 {
        let unused = 64 - self.bits as u32;
        if self.signed {
            ((raw << unused) as i64) >> unused
        } else {
            (raw & self.mask()) as i64
        }
    }
}

impl fmt::Display for BitfieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.signed { 'i' } else { 'u' }, self.bits)
    }
}

/// What `BITFIELD` `SET`/`INCRBY` do with a result that does not fit the type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Modulo `2^N` (unsigned) or two's complement wrap (signed). The default of every call.
    #[default]
    Wrap,
    /// Clamp to the type's min or max.
    Sat,
    /// Write nothing and reply nil.
    Fail,
}

/// Reads `bits` bits at `offset` as an unsigned number, zeros past the end.
#[inline]
fn read_field(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let shift = (offset & 7) as u32;
    let span = shift + bits;
    let nbytes = span.div_ceil(8) as usize;
    let mut acc: u128 = 0;
    if let Some(window) = usize::try_from(offset >> 3)
        .ok()
        .and_then(|first| bytes.get(first..first.checked_add(nbytes)?))
    {
        for &b in window {
            acc = (acc << 8) | u128::from(b);
        }
    } else {
        let first = usize::try_from(offset >> 3).ok();
        for k in 0..nbytes {
            let b = first
                .and_then(|f| f.checked_add(k))
                .and_then(|i| bytes.get(i))
                .copied()
                .unwrap_or(0);
            acc = (acc << 8) | u128::from(b);
        }
    }
    let below = nbytes as u32 * 8 - span;
    (acc >> below) as u64 & (u64::MAX >> (64 - bits))
}

/// Writes the low `bits` bits of `value` at `offset`. The field must lie within `bytes`.
#[inline]
fn write_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let shift = (offset & 7) as u32;
    let span = shift + bits;
    let nbytes = span.div_ceil(8) as usize;
    let first = (offset >> 3) as usize;
    let window = &mut bytes[first..first + nbytes];
    let mut acc: u128 = 0;
    for &b in window.iter() {
        acc = (acc << 8) | u128::from(b);
    }
    let below = nbytes as u32 * 8 - span;
    let field = u128::from(u64::MAX >> (64 - bits)) << below;
    acc = (acc & !field) | ((u128::from(value) << below) & field);
    for b in window.iter_mut().rev() {
        *b = acc as u8;
        acc >>= 8;
    }
}

/// Redis's overflow rule for `base + incr` stored as `ty`, `base` being the old value for
/// `INCRBY` and the new value for `SET` (with `incr = 0`). Unsigned bases arrive as `u64`, so
/// a negative `SET` value is a huge number, as in Redis. `None` when `FAIL` rejects.
#[inline]
fn resolve(ty: BitfieldType, base: u64, incr: i64, overflow: Overflow) -> Option<i64> {
    // Exact sum when it fits i64; otherwise the direction it left i64 in.
    let exact = if ty.signed {
        (base as i64).checked_add(incr).ok_or(incr > 0)
    } else {
        i64::try_from(base)
            .ok()
            .and_then(|b| b.checked_add(incr))
            .ok_or(true)
    };
    let too_big = match exact {
        Ok(v) if v > ty.max() => true,
        Ok(v) if v < ty.min() => false,
        Ok(v) => return Some(v),
        Err(up) => up,
    };
    // Redis decides the direction of a signed overflow below 64 bits with
    // `incr > max - base`, the difference wrapping in 64 bits. With `incr = 0` (SET) a base
    // below `max - i64::MAX` makes the difference negative, so the overflow counts as upward
    // and SAT stores the maximum: `OVERFLOW SAT SET i8 0 -9223372036854775808` stores 127
    // (recorded from a 7.0.15 server). Otherwise this agrees with the exact direction.
    let too_big = if ty.signed && ty.bits < 64 {
        (base as i64) > ty.max() || incr > (ty.max() as u64).wrapping_sub(base) as i64
    } else {
        too_big
    };
    match overflow {
        Overflow::Wrap => Some(ty.decode(base.wrapping_add(incr as u64))),
        Overflow::Sat => Some(if too_big { ty.max() } else { ty.min() }),
        Overflow::Fail => None,
    }
}

fn grow_for(bytes: &mut Vec<u8>, ty: BitfieldType, offset: u64) {
    assert!(offset <= MAX_BIT_OFFSET, "bit offset past the 512 MB limit");
    let needed = ty.write_len(offset) as usize;
    if bytes.len() < needed {
        bytes.resize(needed, 0);
    }
}

/// `BITFIELD GET`: the field of type `ty` at bit `offset`, zeros past the end.
#[inline]
pub fn bitfield_get(bytes: &[u8], ty: BitfieldType, offset: u64) -> i64 {
    ty.decode(read_field(bytes, offset, u32::from(ty.bits)))
}

/// `BITFIELD SET`: stores `value` under `overflow` and returns the old value, or `None` when
/// `FAIL` rejects it. The string grows to hold the field either way, as Redis pads the key
/// before running any operation.
///
/// # Panics
///
/// If `offset > MAX_BIT_OFFSET`; resolve with [`BitfieldOffset::resolve`] or check with
/// [`check_bit_offset`] first.
pub fn bitfield_set(
    bytes: &mut Vec<u8>,
    ty: BitfieldType,
    offset: u64,
    value: i64,
    overflow: Overflow,
) -> Option<i64> {
    grow_for(bytes, ty, offset);
    let bits = u32::from(ty.bits);
    let old = ty.decode(read_field(bytes, offset, bits));
    let new = resolve(ty, value as u64, 0, overflow)?;
    write_field(bytes, offset, bits, new as u64);
    Some(old)
}

/// `BITFIELD INCRBY`: adds `incr` under `overflow` and returns the new value, or `None` when
/// `FAIL` rejects it. The string grows to hold the field either way.
///
/// # Panics
///
/// If `offset > MAX_BIT_OFFSET`, as [`bitfield_set`].
#[inline]
pub fn bitfield_incrby(
    bytes: &mut Vec<u8>,
    ty: BitfieldType,
    offset: u64,
    incr: i64,
    overflow: Overflow,
) -> Option<i64> {
    grow_for(bytes, ty, offset);
    let bits = u32::from(ty.bits);
    let old = ty.decode(read_field(bytes, offset, bits));
    let new = resolve(ty, old as u64, incr, overflow)?;
    write_field(bytes, offset, bits, new as u64);
    Some(new)
}

// ---------------------------------------------------------------------------------------------
// Reference model and fuzz body
// ---------------------------------------------------------------------------------------------

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
/// A plain reference for the functions above: one `bool` per bit and `i128` arithmetic, written
/// from Redis's documented semantics rather than from the fast code, for tests and the fuzz
/// target.
pub mod model {
    use super::{BitUnit, BitfieldType, BitposRange, Overflow};

    /// A string as a bit vector whose length is always a whole number of bytes.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct BitModel {
        bits: Vec<bool>,
    }

    impl BitModel {
        /// The model of `bytes`.
        pub fn from_bytes(bytes: &[u8]) -> Self {
            let bits = bytes
                .iter()
                .flat_map(|&b| (0..8).map(move |i| b & (0x80 >> i) != 0))
                .collect();
            BitModel { bits }
        }

        /// The string's bytes.
        pub fn to_bytes(&self) -> Vec<u8> {
            self.bits
                .chunks(8)
                .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b)))
                .collect()
        }

        fn bit(&self, n: u64) -> bool {
            usize::try_from(n)
                .ok()
                .and_then(|i| self.bits.get(i))
                .copied()
                .unwrap_or(false)
        }

        fn grow_to_bit(&mut self, n: u64) {
            let bytes = n / 8 + 1;
            let want = (bytes * 8) as usize;
            if self.bits.len() < want {
                self.bits.resize(want, false);
            }
        }

        /// `GETBIT`.
        pub fn getbit(&self, n: u64) -> u8 {
            u8::from(self.bit(n))
        }

        /// `SETBIT`.
        pub fn setbit(&mut self, n: u64, bit: u8) -> u8 {
            let old = self.getbit(n);
            self.grow_to_bit(n);
            self.bits[n as usize] = bit != 0;
            old
        }

        /// `BITFIELD GET`.
        pub fn get(&self, ty: BitfieldType, offset: u64) -> i64 {
            let width = u32::from(ty.bits());
            let mut v: i128 = 0;
            for j in 0..u64::from(width) {
                v = v * 2 + i128::from(self.bit(offset + j));
            }
            if ty.is_signed() && v >= 1i128 << (width - 1) {
                v -= 1i128 << width;
            }
            v as i64
        }

        fn put(&mut self, ty: BitfieldType, offset: u64, value: i128) {
            let width = u64::from(ty.bits());
            let raw = value.rem_euclid(1i128 << width);
            for j in 0..width {
                self.bits[(offset + j) as usize] = (raw >> (width - 1 - j)) & 1 == 1;
            }
        }

        fn fit(ty: BitfieldType, target: i128, overflow: Overflow) -> Option<i128> {
            let width = u32::from(ty.bits());
            let (min, max) = if ty.is_signed() {
                (-(1i128 << (width - 1)), (1i128 << (width - 1)) - 1)
            } else {
                (0, (1i128 << width) - 1)
            };
            if (min..=max).contains(&target) {
                return Some(target);
            }
            match overflow {
                Overflow::Fail => None,
                Overflow::Sat => Some(target.clamp(min, max)),
                Overflow::Wrap => {
                    let r = target.rem_euclid(1i128 << width);
                    Some(if r > max { r - (1i128 << width) } else { r })
                }
            }
        }

        /// `BITFIELD SET`; unsigned types see a negative value as `value + 2^64`.
        pub fn set(
            &mut self,
            ty: BitfieldType,
            offset: u64,
            value: i64,
            overflow: Overflow,
        ) -> Option<i64> {
            self.grow_to_bit(offset + u64::from(ty.bits()) - 1);
            let old = self.get(ty, offset);
            let target = if ty.is_signed() {
                i128::from(value)
            } else {
                i128::from(value as u64)
            };
            let mut new = Self::fit(ty, target, overflow)?;
            // Redis quirk: a signed SET value so low that `max - value` exceeds i64::MAX
            // saturates to the maximum, not the minimum.
            let max = (1i128 << (ty.bits() - 1)) - 1;
            if overflow == Overflow::Sat
                && ty.is_signed()
                && ty.bits() < 64
                && max - target > i128::from(i64::MAX)
            {
                new = max;
            }
            self.put(ty, offset, new);
            Some(old)
        }

        /// `BITFIELD INCRBY`.
        pub fn incrby(
            &mut self,
            ty: BitfieldType,
            offset: u64,
            incr: i64,
            overflow: Overflow,
        ) -> Option<i64> {
            self.grow_to_bit(offset + u64::from(ty.bits()) - 1);
            let old = i128::from(self.get(ty, offset));
            let new = Self::fit(ty, old + i128::from(incr), overflow)?;
            self.put(ty, offset, new);
            Some(new as i64)
        }

        /// The inclusive bit range a `BITCOUNT`/`BITPOS` range covers, `None` if empty.
        fn bit_range(&self, start: i64, end: i64, unit: BitUnit) -> Option<(i128, i128)> {
            let nbits = self.bits.len() as i128;
            let total = match unit {
                BitUnit::Byte => nbits / 8,
                BitUnit::Bit => nbits,
            };
            let fix = |i: i64| {
                let i = i128::from(i);
                if i < 0 {
                    i + total
                } else {
                    i
                }
            };
            let start = fix(start).max(0);
            let end = fix(end).max(0).min(total - 1);
            if start > end {
                return None;
            }
            Some(match unit {
                BitUnit::Byte => (start * 8, end * 8 + 7),
                BitUnit::Bit => (start, end),
            })
        }

        /// `BITCOUNT`, one bit at a time.
        pub fn bitcount(&self, range: Option<(i64, i64, BitUnit)>) -> i64 {
            let (lo, hi) = match range {
                None => (0, self.bits.len() as i128 - 1),
                Some((s, e, _)) if s < 0 && e < 0 && s > e => return 0,
                Some((s, e, unit)) => match self.bit_range(s, e, unit) {
                    Some(r) => r,
                    None => return 0,
                },
            };
            (lo..=hi).filter(|&i| self.bits[i as usize]).count() as i64
        }

        /// `BITPOS`, one bit at a time.
        pub fn bitpos(&self, bit: u8, range: Option<BitposRange>) -> i64 {
            let want = bit != 0;
            let (lo, hi, end_given) = match range {
                None => (0, self.bits.len() as i128 - 1, false),
                Some(r) => {
                    let total = match r.unit {
                        BitUnit::Byte => self.bits.len() as i64 / 8,
                        BitUnit::Bit => self.bits.len() as i64,
                    };
                    match self.bit_range(r.start, r.end.unwrap_or(total - 1), r.unit) {
                        Some((lo, hi)) => (lo, hi, r.end.is_some()),
                        None => return -1,
                    }
                }
            };
            if lo > hi {
                return -1;
            }
            match (lo..=hi).find(|&i| self.bits[i as usize] == want) {
                Some(i) => i as i64,
                None if want || end_given => -1,
                None => (hi + 1) as i64,
            }
        }
    }
}

/// Bits a fuzz write may reach; keeps every string under [`FUZZ_MAX_BYTES`].
#[cfg(any(test, feature = "fuzzing"))]
const FUZZ_MAX_OFFSET: u64 = 4095;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
/// The longest string [`fuzz_bit_ops`] can build.
pub const FUZZ_MAX_BYTES: usize = (FUZZ_MAX_OFFSET as usize + 64) / 8 + 1;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
/// Fuzz body: reads `data` as a program of bit operations, runs it on a byte string and on
/// [`model::BitModel`], and panics only on a disagreement. Write offsets stay below 4096 bits,
/// so the string never exceeds [`FUZZ_MAX_BYTES`]; `#n` offsets, which may be large, are used
/// for reads only. The command layer's token parsers have their own body.
pub fn fuzz_bit_ops(data: &[u8]) {
    let mut input = data.iter().copied();
    let mut next = move || input.next();
    let mut bytes: Vec<u8> = Vec::new();
    let mut model = model::BitModel::default();
    let mut overflow = Overflow::Wrap;

    fn word(next: &mut impl FnMut() -> Option<u8>, n: usize) -> Option<u64> {
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 8) | u64::from(next()?);
        }
        Some(v)
    }

    while let Some(tag) = next() {
        let Some(sel) = next() else { break };
        let ty = BitfieldType::new(sel & 1 == 1, (sel >> 1) % 64 + 1).unwrap_or(BitfieldType::U8);
        let Some(raw_offset) = word(&mut next, 2) else {
            break;
        };
        let offset = raw_offset % (FUZZ_MAX_OFFSET + 1);
        match tag % 8 {
            0 => assert_eq!(bitfield_get(&bytes, ty, offset), model.get(ty, offset)),
            1 | 2 => {
                let Some(v) = word(&mut next, 8) else { break };
                let v = v as i64;
                let (got, want) = if tag % 8 == 1 {
                    (
                        bitfield_set(&mut bytes, ty, offset, v, overflow),
                        model.set(ty, offset, v, overflow),
                    )
                } else {
                    (
                        bitfield_incrby(&mut bytes, ty, offset, v, overflow),
                        model.incrby(ty, offset, v, overflow),
                    )
                };
                assert_eq!(got, want);
            }
            3 => {
                overflow = match sel % 3 {
                    0 => Overflow::Wrap,
                    1 => Overflow::Sat,
                    _ => Overflow::Fail,
                }
            }
            4 => {
                let bit = sel & 1;
                assert_eq!(setbit(&mut bytes, offset, bit), model.setbit(offset, bit));
                assert_eq!(getbit(&bytes, offset), model.getbit(offset));
            }
            5 => {
                let start = i64::from(raw_offset as u8 as i8);
                let end = i64::from((raw_offset >> 8) as u8 as i8);
                let unit = if sel & 2 == 0 {
                    BitUnit::Byte
                } else {
                    BitUnit::Bit
                };
                assert_eq!(
                    bitcount(&bytes, Some((start, end, unit))),
                    model.bitcount(Some((start, end, unit)))
                );
                let range = BitposRange {
                    start,
                    end: (sel & 4 != 0).then_some(end),
                    unit,
                };
                assert_eq!(
                    bitpos(&bytes, sel & 1, Some(range)),
                    model.bitpos(sel & 1, Some(range))
                );
                assert_eq!(bitpos(&bytes, sel & 1, None), model.bitpos(sel & 1, None));
            }
            _ => {
                // A `#n` offset, n from the whole 64-bit range: resolved, it is only read.
                let Some(n) = word(&mut next, 8) else { break };
                let fields = BitfieldOffset::Fields(n).resolve(ty);
                assert_eq!(
                    fields,
                    i64::try_from(n)
                        .map_err(|_| BitmapError::BitOffset)
                        .and_then(|n| fields_offset(n, ty))
                );
                if let Ok(off) = fields {
                    assert!(off <= MAX_BIT_OFFSET);
                    assert_eq!(bitfield_get(&bytes, ty, off), model.get(ty, off));
                }
            }
        }
        assert!(bytes.len() <= FUZZ_MAX_BYTES);
        assert_eq!(bytes, model.to_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::model::BitModel;
    use super::*;
    use proptest::prelude::*;

    /// `"i8"`, `"u63"`: a type by its name (Redis's token rules live in the command layer).
    fn ty(name: &str) -> BitfieldType {
        let width = name[1..].parse().unwrap_or(0);
        match BitfieldType::new(name.starts_with('i'), width) {
            Ok(t) => t,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    /// `"12"` is bit 12, `"#3"` is three fields of `t`.
    fn off(offset: &str, t: BitfieldType) -> u64 {
        let o = match offset.strip_prefix('#') {
            Some(n) => BitfieldOffset::Fields(n.parse().unwrap_or(u64::MAX)),
            None => BitfieldOffset::Bits(offset.parse().unwrap_or(u64::MAX)),
        };
        match o.resolve(t) {
            Ok(o) => o,
            Err(e) => panic!("{offset}: {e}"),
        }
    }

    const WRAP: Overflow = Overflow::Wrap;
    const SAT: Overflow = Overflow::Sat;
    const FAIL: Overflow = Overflow::Fail;

    // ---- spec vectors ----------------------------------------------------------------------

    #[test]
    fn spec_setbit_getbit() {
        let mut k = Vec::new();
        assert_eq!(setbit(&mut k, 0, 1), 0);
        assert_eq!(k, b"\x80");
        assert_eq!(setbit(&mut k, 7, 1), 0);
        assert_eq!(k, b"\x81");
        assert_eq!((getbit(&k, 0), getbit(&k, 1), getbit(&k, 100)), (1, 0, 0));
        assert_eq!(setbit(&mut k, 9, 1), 0);
        assert_eq!(k, b"\x81@");
        assert_eq!(setbit(&mut k, 9, 0), 1);
        assert_eq!(bit_offset(-1), Err(BitmapError::BitOffset));
        assert_eq!(bit_offset(4294967296), Err(BitmapError::BitOffset));
        assert_eq!(bit_offset(4294967295), Ok(MAX_BIT_OFFSET));
    }

    #[test]
    fn spec_bitcount() {
        let s = b"foobar";
        assert_eq!(bitcount(s, None), 26);
        assert_eq!(bitcount(s, Some((1, 1, BitUnit::Byte))), 6);
        assert_eq!(bitcount(s, Some((5, 30, BitUnit::Bit))), 17);
        assert_eq!(bitcount(s, Some((-2, -1, BitUnit::Byte))), 7);
        assert_eq!(bitcount(s, Some((3, 1, BitUnit::Byte))), 0);
        assert_eq!(bitcount(b"", None), 0);
        assert_eq!(bitcount(b"", Some((0, -1, BitUnit::Byte))), 0);
    }

    #[test]
    fn spec_bitpos() {
        let y = b"\x00\xff\xf0";
        let r = |start, end, unit| Some(BitposRange { start, end, unit });
        assert_eq!(bitpos(y, 1, r(0, None, BitUnit::Byte)), 8);
        assert_eq!(bitpos(y, 1, r(2, None, BitUnit::Byte)), 16);
        assert_eq!(bitpos(y, 1, r(7, Some(15), BitUnit::Bit)), 8);
        let f = b"\xff\xff\xff";
        assert_eq!(bitpos(f, 0, None), 24);
        assert_eq!(bitpos(f, 0, r(0, Some(-1), BitUnit::Byte)), -1);
        assert_eq!((bitpos_missing_key(1), bitpos_missing_key(0)), (-1, 0));
        // Recorded from the 7.0.15 server: an empty string has no bit of either value.
        assert_eq!(bitpos(b"", 0, None), -1);
        assert_eq!(bitpos(b"", 1, None), -1);
        assert_eq!(bitpos(b"", 0, r(0, None, BitUnit::Byte)), -1);
    }

    #[test]
    fn spec_bitfield_u8_i8() {
        let u8t = ty("u8");
        let i8t = ty("i8");
        let mut bf = Vec::new();
        assert_eq!(bitfield_set(&mut bf, u8t, 0, 255, WRAP), Some(0));
        assert_eq!(bitfield_get(&bf, u8t, 0), 255);
        assert_eq!(bitfield_incrby(&mut bf, u8t, 0, 1, WRAP), Some(0));
        assert_eq!(bitfield_incrby(&mut bf, u8t, 0, 300, SAT), Some(255));
        assert_eq!(bitfield_incrby(&mut bf, u8t, 0, 1, FAIL), None);
        assert_eq!(bitfield_get(&bf, u8t, 0), 255);
        assert_eq!(bitfield_incrby(&mut bf, u8t, 0, -1, FAIL), Some(254));
        assert_eq!(bitfield_incrby(&mut bf, u8t, 0, 1, FAIL), Some(255));
        assert_eq!(bitfield_incrby(&mut bf, u8t, 0, -300, SAT), Some(0));
        assert_eq!(bitfield_set(&mut bf, i8t, 0, 127, WRAP), Some(0));
        assert_eq!(bitfield_incrby(&mut bf, i8t, 0, 1, WRAP), Some(-128));
        assert_eq!(bitfield_incrby(&mut bf, i8t, 0, 1000, SAT), Some(127));
        assert_eq!(bitfield_incrby(&mut bf, i8t, 0, 1, FAIL), None);
        assert_eq!(bitfield_incrby(&mut bf, i8t, 0, 1, WRAP), Some(-128));
        assert_eq!(
            (bitfield_get(&bf, i8t, 0), bitfield_get(&bf, u8t, 0)),
            (-128, 128)
        );
        assert_eq!(bitfield_set(&mut bf, i8t, 0, 200, WRAP), Some(-128));
        assert_eq!(bitfield_get(&bf, i8t, 0), -56);
        assert_eq!(bitfield_set(&mut bf, i8t, 0, -300, SAT), Some(-56));
        assert_eq!(bitfield_get(&bf, i8t, 0), -128);

        let mut k = Vec::new();
        assert_eq!(bitfield_incrby(&mut k, u8t, 0, 300, WRAP), Some(44));
        assert_eq!(bitfield_incrby(&mut k, u8t, 0, 300, SAT), Some(255));
        assert_eq!(bitfield_incrby(&mut k, u8t, 0, 1, FAIL), None);
        assert_eq!(bitfield_incrby(&mut k, u8t, 0, 1, WRAP), Some(0));
    }

    #[test]
    fn spec_bitfield_set_quirks() {
        let u8t = ty("u8");
        let i8t = ty("i8");
        let cases: [(BitfieldType, i64, Overflow, Option<i64>); 9] = [
            (u8t, 256, WRAP, Some(0)),
            (u8t, 256, FAIL, None),
            (u8t, 256, SAT, Some(255)),
            (i8t, 200, WRAP, Some(-56)),
            (i8t, -129, WRAP, Some(127)),
            (u8t, -1, WRAP, Some(255)),
            (u8t, -5, SAT, Some(255)),
            (u8t, -5, FAIL, None),
            (u8t, -1, FAIL, None),
        ];
        for (t, v, o, stored) in cases.into_iter().chain([
            // Recorded from the 7.0.15 server: Redis's direction test wraps for very low values.
            (i8t, i64::MIN, SAT, Some(127)),
            (i8t, -9223372036854775681, SAT, Some(127)),
            (i8t, -9223372036854775680, SAT, Some(-128)),
            (ty("i63"), i64::MIN, SAT, Some(4611686018427387903)),
            (ty("i1"), -2, SAT, Some(-1)),
        ]) {
            let mut b = Vec::new();
            assert_eq!(bitfield_set(&mut b, t, 0, v, o).is_some(), stored.is_some());
            assert_eq!(bitfield_get(&b, t, 0), stored.unwrap_or(0), "{t} {v} {o:?}");
            // FAIL still creates the key, padded to the field.
            assert_eq!(b.len() as u64, t.write_len(0));
        }
    }

    #[test]
    fn spec_bitfield_64() {
        let i64t = ty("i64");
        let u63t = ty("u63");
        let mut bf = Vec::new();
        assert_eq!(bitfield_set(&mut bf, i64t, 0, i64::MAX, WRAP), Some(0));
        assert_eq!(bitfield_get(&bf, i64t, 0), i64::MAX);
        assert_eq!(bitfield_get(&bf, u63t, 0), 4611686018427387903);
        assert_eq!(bitfield_get(&bf, u63t, 1), i64::MAX);
        assert_eq!(bitfield_get(&bf, i64t, 1), -2);
        assert_eq!(bitfield_incrby(&mut bf, i64t, 0, 1, WRAP), Some(i64::MIN));
        assert_eq!(bitfield_incrby(&mut bf, i64t, 0, -1, SAT), Some(i64::MIN));
        assert_eq!(bitfield_incrby(&mut bf, i64t, 0, -1, FAIL), None);
        assert_eq!(bitfield_incrby(&mut bf, i64t, 0, -1, WRAP), Some(i64::MAX));
        assert_eq!(
            bitfield_set(&mut bf, u63t, 0, i64::MAX, WRAP),
            Some(4611686018427387903)
        );
        assert_eq!(bitfield_get(&bf, u63t, 0), i64::MAX);
        assert_eq!(bitfield_incrby(&mut bf, u63t, 0, 1, WRAP), Some(0));
    }

    #[test]
    fn spec_bitfield_types_and_offsets() {
        let u8t = ty("u8");
        let u4t = ty("u4");
        let i64t = ty("i64");
        let mut bf = Vec::new();
        assert_eq!(
            bitfield_set(&mut bf, u8t, off("#1", u8t), 255, WRAP),
            Some(0)
        );
        assert_eq!(bf, b"\x00\xff");
        assert_eq!(
            bitfield_set(&mut bf, u4t, off("#3", u4t), 15, WRAP),
            Some(15)
        );
        assert_eq!(bitfield_get(&bf, u4t, off("12", u4t)), 15);
        assert_eq!(bitfield_get(&bf, u4t, off("#3", u4t)), 15);
        for (o, t) in [
            (BitfieldOffset::Fields(536870912), u8t),
            (BitfieldOffset::Fields(67108864), i64t),
            (BitfieldOffset::Fields(1152921504606846977), u8t),
            (BitfieldOffset::Fields(1 << 63), u8t),
            (BitfieldOffset::Fields(u64::MAX), ty("i1")),
            (BitfieldOffset::Bits(MAX_BIT_OFFSET + 1), u8t),
            (BitfieldOffset::Bits(u64::MAX), u8t),
        ] {
            assert_eq!(o.resolve(t), Err(BitmapError::BitOffset), "{o}");
        }
        assert_eq!(fields_offset(-1, u8t), Err(BitmapError::BitOffset));
        // `-2305843009213693951 * 8` wraps to 8, as C's signed multiply does in Redis.
        assert_eq!(fields_offset(-2305843009213693951, u8t), Ok(8));
        assert_eq!(BitfieldOffset::from(5), BitfieldOffset::Bits(5));
        assert_eq!(BitfieldOffset::Fields(3).to_string(), "#3");
        assert_eq!(BitfieldOffset::Bits(3).to_string(), "3");
        assert_eq!(off("#536870911", u8t), MAX_BIT_OFFSET - 7);
        assert_eq!(off("#67108863", i64t), MAX_BIT_OFFSET - 63);
        assert_eq!(bitfield_get(&bf, i64t, off("#67108863", i64t)), 0);
        assert_eq!(off("4294967295", u8t), MAX_BIT_OFFSET);
        // Recorded from the 7.0.15 server: `#n * width` wraps like C's signed multiply.
        assert_eq!(off("#2305843009213693953", u8t), 8);
        assert_eq!(off("#0", u8t), 0);
        assert_eq!(u8t.write_len(MAX_BIT_OFFSET), MAX_STRING_BYTES + 1);
        assert_eq!(i64t.write_len(MAX_BIT_OFFSET), MAX_GROWN_BYTES);
    }

    #[test]
    fn spec_bitfield_on_text() {
        let mut s = b"ab".to_vec();
        let got: Vec<i64> = [
            ("u8", "0"),
            ("u8", "8"),
            ("u8", "16"),
            ("u16", "12"),
            ("i8", "100"),
        ]
        .iter()
        .map(|&(t, o)| bitfield_get(&s, ty(t), off(o, ty(t))))
        .collect();
        assert_eq!(got, [97, 98, 0, 8192, 0]);
        let u8t = ty("u8");
        assert_eq!(bitfield_set(&mut s, u8t, off("#4", u8t), 1, WRAP), Some(0));
        assert_eq!(s, b"ab\x00\x00\x01");

        let nk: &[u8] = b"";
        assert_eq!(bitfield_get(nk, u8t, 0), 0);
        assert_eq!(bitfield_get(nk, ty("i16"), 100), 0);
        assert_eq!(bitfield_get(nk, ty("u63"), off("#5", ty("u63"))), 0);
        let mut nk = Vec::new();
        assert_eq!(bitfield_set(&mut nk, u8t, 0, 256, FAIL), None);
        assert_eq!(nk, b"\x00");
    }

    #[test]
    fn error_texts_are_redis_lines() {
        let texts: Vec<String> = BitmapError::ALL.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            texts,
            [
                "ERR bit offset is not an integer or out of range",
                "ERR bit is not an integer or out of range",
                "ERR The bit argument must be 1 or 0.",
                "ERR value is not an integer or out of range",
                "ERR syntax error",
                "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
                "ERR Invalid OVERFLOW type specified",
                "ERR BITFIELD_RO only supports the GET subcommand",
                "ERR BITOP NOT must be called with a single source key.",
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ]
        );
    }

    #[test]
    fn bitop_ops() {
        let a: &[u8] = b"\xf0\x0f\xff";
        let b: &[u8] = b"\x3c";
        let none: &[u8] = b"";
        assert_eq!(bitop(BitOp::And, &[a, b]), b"\x30\x00\x00");
        assert_eq!(bitop(BitOp::Or, &[a, b]), b"\xfc\x0f\xff");
        assert_eq!(bitop(BitOp::Xor, &[a, b]), b"\xcc\x0f\xff");
        assert_eq!(bitop(BitOp::Not, &[a]), b"\x0f\xf0\x00");
        assert_eq!(bitop(BitOp::And, &[a, none]), b"\x00\x00\x00");
        assert_eq!(bitop(BitOp::And, &[a]), a);
        assert!(bitop(BitOp::Or, &[none, none]).is_empty());
        assert!(bitop(BitOp::Not, &[none]).is_empty());
        assert_eq!(
            BitOp::Not.check_source_count(2),
            Err(BitmapError::BitopNotArity)
        );
        assert_eq!(BitOp::And.check_source_count(5), Ok(()));
    }

    #[test]
    fn limits() {
        assert_eq!(check_bit_offset(MAX_BIT_OFFSET), Ok(MAX_BIT_OFFSET));
        assert_eq!(
            check_bit_offset(MAX_BIT_OFFSET + 1),
            Err(BitmapError::BitOffset)
        );
        assert_eq!(getbit(b"\xff", u64::MAX), 0);
        assert_eq!(bitfield_get(b"\xff", BitfieldType::U8, u64::MAX - 3), 0);
        assert_eq!(bitfield_get(b"\xff", ty("i64"), u64::MAX), 0);
        assert!(
            std::panic::catch_unwind(|| setbit(&mut Vec::new(), MAX_BIT_OFFSET + 1, 1)).is_err()
        );
        assert!(std::panic::catch_unwind(|| {
            bitfield_set(
                &mut Vec::new(),
                BitfieldType::U8,
                MAX_BIT_OFFSET + 1,
                1,
                WRAP,
            )
        })
        .is_err());
    }

    #[test]
    fn straddling_field_layout() {
        // The `# Representation` diagram: u5 = 23 at offset 7.
        let mut b = vec![0u8; 2];
        bitfield_set(&mut b, ty("u5"), 7, 23, WRAP);
        assert_eq!(b, b"\x01\x70");
        // An i64 at bit 7 spans 9 bytes.
        let mut b = Vec::new();
        bitfield_set(&mut b, ty("i64"), 7, -1, WRAP);
        assert_eq!(b, b"\x01\xff\xff\xff\xff\xff\xff\xff\xfe");
        assert_eq!(bitfield_get(&b, ty("i64"), 7), -1);
        assert_eq!(bitfield_get(&b, ty("u63"), 8), i64::MAX);
    }

    // ---- overflow boundaries for every width -----------------------------------------------

    fn all_types() -> impl Iterator<Item = BitfieldType> {
        (1..=64u8)
            .filter_map(|w| BitfieldType::new(true, w).ok())
            .chain((1..=63u8).filter_map(|w| BitfieldType::new(false, w).ok()))
    }

    #[test]
    fn every_width_min_max() {
        for t in all_types() {
            let w = u32::from(t.bits());
            let (min, max) = if t.is_signed() {
                (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
            } else {
                (0, (1i128 << w) - 1)
            };
            assert_eq!(
                (i128::from(t.min()), i128::from(t.max())),
                (min, max),
                "{t}"
            );
        }
        assert_eq!(BitfieldType::new(false, 64), Err(BitmapError::BitfieldType));
        assert_eq!(BitfieldType::new(true, 65), Err(BitmapError::BitfieldType));
        assert_eq!(BitfieldType::new(true, 0), Err(BitmapError::BitfieldType));
    }

    #[test]
    fn every_width_incrby_boundaries() {
        for t in all_types() {
            for offset in [0u64, 5] {
                let (min, max) = (t.min(), t.max());
                let fresh = |v: i64| {
                    let mut b = Vec::new();
                    bitfield_set(&mut b, t, offset, v, WRAP);
                    b
                };
                // max + 1
                let mut b = fresh(max);
                assert_eq!(
                    bitfield_incrby(&mut b, t, offset, 1, WRAP),
                    Some(min),
                    "{t}"
                );
                let mut b = fresh(max);
                assert_eq!(bitfield_incrby(&mut b, t, offset, 1, SAT), Some(max), "{t}");
                let mut b = fresh(max);
                assert_eq!(bitfield_incrby(&mut b, t, offset, 1, FAIL), None, "{t}");
                assert_eq!(bitfield_get(&b, t, offset), max, "{t}");
                // min - 1
                let mut b = fresh(min);
                assert_eq!(
                    bitfield_incrby(&mut b, t, offset, -1, WRAP),
                    Some(max),
                    "{t}"
                );
                let mut b = fresh(min);
                assert_eq!(
                    bitfield_incrby(&mut b, t, offset, -1, SAT),
                    Some(min),
                    "{t}"
                );
                let mut b = fresh(min);
                assert_eq!(bitfield_incrby(&mut b, t, offset, -1, FAIL), None, "{t}");
                // exactly to the limits
                let mut b = fresh(min);
                assert_eq!(
                    bitfield_incrby(&mut b, t, offset, max.wrapping_sub(min), FAIL),
                    (t.bits() < 64).then_some(max),
                    "{t}"
                );
                let mut b = fresh(max);
                assert_eq!(bitfield_incrby(&mut b, t, offset, 0, FAIL), Some(max));
                // the largest increments
                for (start, incr) in [
                    (max, i64::MAX),
                    (min, i64::MIN),
                    (max, i64::MIN),
                    (min, i64::MAX),
                ] {
                    for ov in [WRAP, SAT, FAIL] {
                        let mut b = fresh(start);
                        let mut m = BitModel::from_bytes(&b);
                        assert_eq!(
                            bitfield_incrby(&mut b, t, offset, incr, ov),
                            m.incrby(t, offset, incr, ov),
                            "{t} {start} {incr} {ov:?}"
                        );
                        assert_eq!(b, m.to_bytes());
                    }
                }
            }
        }
    }

    #[test]
    fn every_width_set_boundaries() {
        for t in all_types() {
            let (min, max) = (t.min(), t.max());
            let span = 1i128 << t.bits();
            for v in [
                min,
                max,
                min.wrapping_sub(1),
                max.wrapping_add(1),
                -1,
                i64::MIN,
                i64::MAX,
            ] {
                let target = if t.is_signed() {
                    i128::from(v)
                } else {
                    i128::from(v as u64)
                };
                let fits = (i128::from(min)..=i128::from(max)).contains(&target);
                let wrapped = {
                    let r = target.rem_euclid(span);
                    if r > i128::from(max) {
                        r - span
                    } else {
                        r
                    }
                } as i64;
                // Redis's wrapped direction test: see `resolve`.
                let quirk = t.is_signed()
                    && t.bits() < 64
                    && i128::from(max) - target > i128::from(i64::MAX);
                let saturated = if target > i128::from(max) || quirk {
                    max
                } else {
                    min
                };
                for (ov, want) in [
                    (WRAP, Some(if fits { v } else { wrapped })),
                    (SAT, Some(if fits { v } else { saturated })),
                    (FAIL, fits.then_some(v)),
                ] {
                    let mut b = Vec::new();
                    let old = bitfield_set(&mut b, t, 3, v, ov);
                    assert_eq!(old.is_some(), want.is_some(), "{t} {v} {ov:?}");
                    assert_eq!(bitfield_get(&b, t, 3), want.unwrap_or(0), "{t} {v} {ov:?}");
                    assert_eq!(b.len() as u64, t.write_len(3));
                }
            }
        }
    }

    // ---- model and property tests ----------------------------------------------------------

    #[derive(Clone, Debug)]
    enum Op {
        Get(BitfieldType, u64),
        Set(BitfieldType, u64, i64, Overflow),
        IncrBy(BitfieldType, u64, i64, Overflow),
        SetBit(u64, u8),
    }

    fn any_type() -> impl Strategy<Value = BitfieldType> {
        (any::<bool>(), 1u8..=64).prop_map(|(s, w)| {
            BitfieldType::new(s, w).unwrap_or(BitfieldType::new(s, 63).unwrap_or(BitfieldType::U8))
        })
    }

    fn any_value() -> impl Strategy<Value = i64> {
        prop_oneof![
            -300i64..300,
            any::<i64>(),
            (0u32..64).prop_map(|k| 1i64 << k),
            (0u32..64).prop_map(|k| (1i64 << k).wrapping_sub(1)),
            (0u32..64).prop_map(|k| (1i64 << k).wrapping_neg()),
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    fn any_overflow() -> impl Strategy<Value = Overflow> {
        prop_oneof![Just(WRAP), Just(SAT), Just(FAIL)]
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any_type(), 0u64..200).prop_map(|(t, o)| Op::Get(t, o)),
            (any_type(), 0u64..200, any_value(), any_overflow())
                .prop_map(|(t, o, v, ov)| Op::Set(t, o, v, ov)),
            (any_type(), 0u64..200, any_value(), any_overflow())
                .prop_map(|(t, o, v, ov)| Op::IncrBy(t, o, v, ov)),
            (0u64..300, 0u8..2).prop_map(|(o, b)| Op::SetBit(o, b)),
        ]
    }

    fn any_index() -> impl Strategy<Value = i64> {
        prop_oneof![8 => -100i64..100, 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
    }

    fn any_unit() -> impl Strategy<Value = BitUnit> {
        prop_oneof![Just(BitUnit::Byte), Just(BitUnit::Bit)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn bitfield_programs_match_model(
            init in proptest::collection::vec(any::<u8>(), 0..16),
            ops in proptest::collection::vec(any_op(), 0..40),
        ) {
            let mut bytes = init.clone();
            let mut model = BitModel::from_bytes(&init);
            for op in ops {
                match op {
                    Op::Get(t, o) => prop_assert_eq!(bitfield_get(&bytes, t, o), model.get(t, o)),
                    Op::Set(t, o, v, ov) => prop_assert_eq!(
                        bitfield_set(&mut bytes, t, o, v, ov), model.set(t, o, v, ov)),
                    Op::IncrBy(t, o, v, ov) => prop_assert_eq!(
                        bitfield_incrby(&mut bytes, t, o, v, ov), model.incrby(t, o, v, ov)),
                    Op::SetBit(o, b) => {
                        prop_assert_eq!(setbit(&mut bytes, o, b), model.setbit(o, b));
                        prop_assert_eq!(getbit(&bytes, o), model.getbit(o));
                    }
                }
                prop_assert_eq!(&bytes, &model.to_bytes());
            }
        }

        #[test]
        fn bitcount_matches_naive(
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            start in any_index(), end in any_index(), unit in any_unit(),
        ) {
            let model = BitModel::from_bytes(&bytes);
            prop_assert_eq!(bitcount(&bytes, None), model.bitcount(None));
            prop_assert_eq!(
                bitcount(&bytes, Some((start, end, unit))),
                model.bitcount(Some((start, end, unit))));
        }

        #[test]
        fn bitpos_matches_naive(
            bytes in proptest::collection::vec(
                prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 0..40),
            bit in 0u8..2,
            start in any_index(), end in proptest::option::of(any_index()), unit in any_unit(),
        ) {
            let model = BitModel::from_bytes(&bytes);
            prop_assert_eq!(bitpos(&bytes, bit, None), model.bitpos(bit, None));
            let range = BitposRange { start, end, unit };
            prop_assert_eq!(bitpos(&bytes, bit, Some(range)), model.bitpos(bit, Some(range)));
        }

        #[test]
        fn bitop_matches_bitwise(
            a in proptest::collection::vec(any::<u8>(), 0..20),
            b in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let n = a.len().max(b.len());
            let at = |v: &Vec<u8>, i: usize| v.get(i).copied().unwrap_or(0);
            let and: Vec<u8> = (0..n).map(|i| at(&a, i) & at(&b, i)).collect();
            let or: Vec<u8> = (0..n).map(|i| at(&a, i) | at(&b, i)).collect();
            let xor: Vec<u8> = (0..n).map(|i| at(&a, i) ^ at(&b, i)).collect();
            prop_assert_eq!(bitop(BitOp::And, &[&a, &b]), and);
            prop_assert_eq!(bitop(BitOp::Or, &[&a, &b]), or);
            prop_assert_eq!(bitop(BitOp::Xor, &[&a, &b]), xor);
        }
    }

    #[test]
    fn fuzz_body_runs_on_seeded_inputs() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed_b175);
        for round in 0..400 {
            let len = rng.gen_range(0..(64 + round * 2));
            let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            fuzz_bit_ops(&data);
        }
        fuzz_bit_ops(&[]);
        fuzz_bit_ops(&[0xff; 300]);
        // A `#n` read whose product wraps to bit 8.
        fuzz_bit_ops(b"\x07\x0f\x00\x00\x20\x00\x00\x00\x00\x00\x00\x01");
    }
}
