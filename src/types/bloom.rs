//! RedisBloom's scalable Bloom filter (`BF.*`): same sizing, same hashing, same growth, and
//! `BF.SCANDUMP` chunks that load in either implementation.
//!
//! # Design
//!
//! - A [`ScalableBloomFilter`] is a chain of [`BloomFilter`] links. Only the newest link takes
//!   new items; when its item count reaches its capacity a link `expansion` times larger with
//!   half the error rate is appended, so the chain's false-positive rate stays under the
//!   configured one however far it grows. Cost: a query probes every link.
//! - Sizing, hashing and growth follow RedisBloom bit for bit (including the f64 operation
//!   order), so `BF.ADD`/`BF.EXISTS` answer exactly as RedisBloom does, false positives
//!   included. Cost: the classic layout, k probes anywhere in the array with a `mod bits` each,
//!   instead of a cache-blocked one; speed has to come from the implementation.
//! - An item is hashed once per operation (two MurmurHash64A calls) and the pair is reused for
//!   every link (for items up to 16 bytes each block is mixed once for both hashes); an
//!   operation allocates nothing. `BF.ADD` checks the older links, then sets the newest
//!   link's bits in the same pass that finds whether one was clear. Cost: one exact
//!   `mod bits` per probe, done as a Barrett reduction (two 64-bit multiplications and a
//!   conditional subtraction, same result as `%`), which is about half the cost of a 64-bit
//!   division on an in-cache array; past L2 the probes are memory-bound either way (README,
//!   "Performance", has the measured times and the alternatives tried).
//! - Every allocation is checked against a [`BloomLimits`] budget before it is made: creation,
//!   growth and loading a `BF.SCANDUMP` header all fail with an error instead of allocating past
//!   it, and allocation failure itself is an error, not an abort.
//! - Headers from `BF.LOADCHUNK` or a persisted value are validated with RedisBloom's rules
//!   plus the ones that keep hostile input harmless (finite `bpe`, a hash count bound, the
//!   memory budget), before anything is allocated.
//! - Filters that RedisBloom could only have produced before `FORCE64` existed (32-bit
//!   MurmurHash2, power-of-two sizes) are still answered correctly when loaded from a header,
//!   because their options travel in the header; commands only create `FORCE64 | NOROUND`
//!   filters.
//!
//! # Representation
//!
//! A link's bit array is a `Box<[u64]>` of `ceil(bytes / 8)` words, allocated zeroed at its
//! final size and never resized (`BF.LOADCHUNK` overwrites words in place; growth adds a link).
//! Bit `x` lives in word `x / 64` at bit `x % 64`. Read as little-endian bytes this is
//! RedisBloom's byte array exactly (byte `x / 8`, mask `1 << (x % 8)`), so dumps are produced
//! by writing the words out little-endian:
//!
//! ```text
//!  bit x:      63 ............ 8  7 ... 0   127 ........... 64
//!  word:       [        words[0]         ]  [    words[1]     ] ...
//!  dump byte:  7  6  5  4  3  2  1  0        15 14 ...       8
//! ```
//!
//! In memory (64-bit targets) a [`ScalableBloomFilter`] is 88 bytes, which the store boxes,
//! and keeps its links in a `SmallVec` with room for one [`BloomFilter`] (64 bytes) inline.
//! A filter that never grew, such as the one `BF.ADD` creates (capacity 100, error 0.01, a
//! 144-byte array), therefore asks the allocator for 88 + 144 = 232 bytes; the links move to
//! a heap array of their own only once the chain grows. Header fields that follow cheaply
//! from others are computed when asked for instead of stored: a link's `bits` is
//! `bytes * 8`; its `bytes` is the word count times 8 less a slack of 0-7 (nonzero only in
//! hand-made headers, whose byte count need not be a multiple of 8); its probe modulus is
//! `bits`, or `2^n2` for power-of-two filters; and the chain's item count is the sum of its
//! links'. The Barrett reciprocal of the modulus is stored, because deriving it takes a
//! division per operation.
//!
//! `BF.SCANDUMP` header (iterator 0), packed little-endian, `20 + 53 * nfilters` bytes:
//!
//! ```text
//!  0        8          12        16       20
//!  +--------+----------+---------+--------+---------------- link 0 ----------------+ link 1 ..
//!  | size   | nfilters | options | growth | bytes bits size error bpe hashes entries n2 |
//!  | u64    | u32      | u32     | u32    | u64   u64  u64  f64   f64 u32    u64     u8 |
//!  +--------+----------+---------+--------+--------------------------------------------+
//!  link field offsets: +0 bytes, +8 bits, +16 size, +24 error, +32 bpe, +40 hashes,
//!                      +44 entries, +52 n2
//! ```
//!
//! Then iterator `p + 1` addresses byte `p` of the concatenated bit arrays (link 0 first); one
//! chunk never spans two links and holds at most [`MAX_SCANDUMP_CHUNK`] bytes.
//!
//! # Worked example
//!
//! `BF.RESERVE bf 0.1 10` makes one link with error `0.1 * 0.5 = 0.05`:
//! `bpe = -ln(0.05) / ln(2)^2 = 6.2352`, `bits0 = trunc(10 * 6.2352) = 62`, rounded up to one
//! 64-bit word: `bytes = 8`, `bits = 64`; `hashes = ceil(ln 2 * 6.2352) = 5`.
//! `BF.ADD bf item1` hashes `a = MurmurHash64A("item1", 0xc6a4a7935bd1e995) = 0xa053790e072b2e8b`
//! and `b = MurmurHash64A("item1", a) = 0x707e5d60182eb075`; the probes `(a + i*b) mod 64` for
//! `i = 0..5` are bits {11, 0, 53, 42, 31}, so the bit array dumps as
//! `01 08 00 80 00 04 20 00` and `BF.SCANDUMP bf 1` replies `[9, that]`.
//!
//! # Accuracy
//!
//! A link sized for `n` items at error `e` has `k = ceil(ln 2 * bpe)` hashes and
//! `m ~ n * bpe` bits, so when full its false-positive rate is `(1 - e^(-kn/m))^k ~ e`. Link
//! `i` of a chain gets `e / 2^(i+1)`, so the chain stays near or under `e`, the sum of the
//! series. Measured by `fp_rate_*` below with fixed seeds, capacity 1000 grown to 10,000
//! items (4 links), over 1,000,000 absent items: configured 0.01 -> 0.008618, configured
//! 0.001 -> 0.000931, against 0.00863 and 0.000860 predicted from the links' fill. The
//! chain's rate is not far under the configured one: links are full at about their own error
//! rate (`k` is rounded up, bits to a word), the first three links already add up to 0.875 e,
//! and across 20 other seeds the measured rate reached 0.997 e at e = 0.1%. This is
//! RedisBloom's behaviour, kept on purpose.
//!
//! # References
//!
//! - RedisBloom `src/sb.c` (chain, growth, SCANDUMP/LOADCHUNK) and `deps/bloom/bloom.c`
//!   (sizing, probing, header validation).
//! - docs/redis-behaviours.md, "Bloom filters: sizing and growth", recorded from RedisBloom
//!   2.8 on a real server.
//! - P. Almeida, C. Baquero, N. Preguiça, D. Hutchison, "Scalable Bloom Filters" (2007).
//! - A. Kirsch, M. Mitzenmacher, "Less Hashing, Same Performance: Building a Better Bloom
//!   Filter" (2006): the `a + i*b` double hashing.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use super::murmur::{fmix, le64, mix, murmurhash64a, tail_le};

/// Option flag: size in exact bits instead of a power of two.
pub const OPT_NOROUND: u32 = 1;
/// Option flag: the requested capacity is a power-of-two exponent of the bit count.
pub const OPT_ENTS_IS_BITS: u32 = 2;
/// Option flag: 64-bit hashing (MurmurHash64A); without it, legacy 32-bit MurmurHash2.
pub const OPT_FORCE64: u32 = 4;
/// Option flag: the chain never grows (`NONSCALING`).
pub const OPT_NO_SCALING: u32 = 8;
/// Every option flag RedisBloom knows; a header with any other bit set is rejected.
pub const OPT_ALL: u32 = OPT_NOROUND | OPT_ENTS_IS_BITS | OPT_FORCE64 | OPT_NO_SCALING;
/// Options of every filter that `BF.RESERVE`/`BF.ADD`/`BF.INSERT` create (`5`; `13` with
/// [`OPT_NO_SCALING`]).
pub const COMMAND_OPTIONS: u32 = OPT_FORCE64 | OPT_NOROUND;

/// Error rate of auto-created filters (`BF.ADD`, `BF.MADD`, `BF.INSERT` without `ERROR`).
pub const DEFAULT_ERROR_RATE: f64 = 0.01;
/// Capacity of auto-created filters.
pub const DEFAULT_CAPACITY: u64 = 100;
/// Expansion of auto-created filters and of `BF.RESERVE` without `EXPANSION`.
pub const DEFAULT_EXPANSION: u32 = 2;
/// Each new link's error rate is the previous link's times this; the first link's is the
/// requested rate times this (times 1 when non-scaling).
pub const ERROR_TIGHTENING_RATIO: f64 = 0.5;
/// Exclusive lower bound of a valid error rate (`ERR (0 < error rate range < 1) `).
pub const ERROR_RATE_MIN_EXCLUSIVE: f64 = 0.0;
/// Exclusive upper bound of a valid error rate.
pub const ERROR_RATE_MAX_EXCLUSIVE: f64 = 1.0;
/// Smallest valid capacity (`ERR (capacity should be larger than 0)` below it).
pub const MIN_CAPACITY: u64 = 1;
/// Smallest valid expansion (`ERR expansion should be greater or equal to 1` below it).
/// RedisBloom stores the expansion as a 32-bit unsigned integer, truncating larger values.
pub const MIN_EXPANSION: u32 = 1;
/// Largest `BF.SCANDUMP` data chunk, in bytes.
pub const MAX_SCANDUMP_CHUNK: usize = 16 * 1024 * 1024;
/// Fixed part of a `BF.SCANDUMP` header.
pub const HEADER_LEN: usize = 20;
/// Per-link part of a `BF.SCANDUMP` header.
pub const LINK_HEADER_LEN: usize = 53;
/// `BF.INFO Size` counts this for the chain (RedisBloom's `sizeof(SBChain)` on LP64).
pub const CHAIN_OVERHEAD_BYTES: u64 = 32;
/// `BF.INFO Size` counts this per link (RedisBloom's `sizeof(SBLink)` on LP64).
pub const LINK_OVERHEAD_BYTES: u64 = 64;
/// Default memory budget of one filter (its `BF.INFO Size`): 512 MiB, Redis's largest string.
/// A filter this large holds about 390 million items at 1%; `BF.RESERVE` beyond it fails with
/// `ERR Insufficient memory to create filter` and growth beyond it with
/// `ERR problem inserting into filter`, where RedisBloom would try to allocate.
pub const DEFAULT_MAX_BYTES: usize = 512 * 1024 * 1024;
/// Most hashes a link sized by RedisBloom can have: the smallest positive f64 error rate gives
/// `bpe = 1549.45` and `ceil(ln 2 * bpe) = 1075`. A header claiming more is rejected.
pub const MAX_HASHES: u32 = 1075;

const HASH_SEED: u64 = 0xc6a4_a793_5bd1_e995;
const LEGACY_HASH_SEED: u32 = 0x9747_b28c;
/// The literal RedisBloom uses for ln 2, a few ulps short of `LN_2`: kept as written because
/// `ceil(ln 2 * bpe)` differs wherever the product lands within those ulps of an integer.
#[allow(clippy::approx_constant)]
const LN2: f64 = 0.693147180559945;
/// The literal RedisBloom uses for ln(2)^2.
const LN2_SQUARED: f64 = 0.480453013918201;

/// Whether `rate` is a valid error rate: `0 < rate < 1` (false for NaN).
pub fn error_rate_in_range(rate: f64) -> bool {
    rate > ERROR_RATE_MIN_EXCLUSIVE && rate < ERROR_RATE_MAX_EXCLUSIVE
}

/// Memory budget of one filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BloomLimits {
    /// Largest `BF.INFO Size` (chain and link overheads plus bit arrays) a filter may reach by
    /// creation, growth or loading.
    pub max_bytes: usize,
}

impl BloomLimits {
    /// [`DEFAULT_MAX_BYTES`].
    pub const DEFAULT: BloomLimits = BloomLimits {
        max_bytes: DEFAULT_MAX_BYTES,
    };
}

impl Default for BloomLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a `BF.SCANDUMP` header or chunk was rejected. All of them reply
/// `ERR received bad data`; the detail is for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadData {
    /// Header shorter than 20 bytes or not `20 + 53 * nfilters` long.
    HeaderLength,
    /// `nfilters` is 0.
    NoFilters,
    /// Options outside [`OPT_ALL`].
    Options,
    /// A link's error rate is not in (0, 1).
    ErrorRate {
        /// Index of the offending link, oldest first.
        link: usize,
    },
    /// A link's `n2` exceeds 63, or its bits are fewer than `2^n2`.
    PowerOfTwo {
        /// Index of the offending link, oldest first.
        link: usize,
    },
    /// A link has 0 bits, or bits differ from bytes * 8.
    Bits {
        /// Index of the offending link, oldest first.
        link: usize,
    },
    /// A link's `bpe` is negative or not finite.
    BitsPerEntry {
        /// Index of the offending link, oldest first.
        link: usize,
    },
    /// A link's hash count is not `ceil(ln 2 * bpe)` or exceeds [`MAX_HASHES`].
    Hashes {
        /// Index of the offending link, oldest first.
        link: usize,
    },
    /// The links' item counts do not add up to the chain's.
    ItemCount,
    /// The header describes a filter larger than the memory budget.
    MemoryLimit {
        /// `BF.INFO Size` the header asks for.
        requested: u64,
        /// The budget.
        limit: u64,
    },
    /// The bit arrays could not be allocated.
    OutOfMemory,
    /// A data chunk's iterator is not positive or is smaller than the chunk.
    ChunkIterator,
    /// A persisted value's bit array length differs from its header.
    ArrayLength {
        /// Index of the offending link, oldest first.
        link: usize,
    },
}

/// Why a new link could not be added. All of them reply `ERR problem inserting into filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrowthFailure {
    /// The new link's parameters are invalid: capacity 0 (wrapped or zero expansion), error
    /// rate underflowed to 0, or a size no option combination can represent.
    InvalidParameters,
    /// The new link would take the filter past its memory budget.
    MemoryLimit {
        /// `BF.INFO Size` the filter would reach.
        requested: u64,
        /// The budget.
        limit: u64,
    },
    /// The allocator refused.
    OutOfMemory,
}

/// What can fail in a Bloom filter. `Display` is RedisBloom's exact reply text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BloomError {
    /// Creation with parameters sizing rejects (capacity 0, error rate outside (0, 1),
    /// unknown options, a size that overflows): `ERR could not create filter`.
    InvalidParameters,
    /// Creation past the memory budget, or the allocator refused:
    /// `ERR Insufficient memory to create filter`.
    InsufficientMemory {
        /// `BF.INFO Size` the new filter would have.
        requested: u64,
        /// The budget.
        limit: u64,
    },
    /// Adding a new item to a full `NONSCALING` filter: `ERR non scaling filter is full`.
    Full,
    /// A full scaling filter could not add a link: `ERR problem inserting into filter`.
    CannotGrow(GrowthFailure),
    /// An invalid `BF.LOADCHUNK` header or chunk iterator: `ERR received bad data`.
    BadData(BadData),
    /// A chunk addresses no link: `ERR invalid offset - no link found`.
    InvalidOffset,
    /// A chunk runs past the end of its link: `ERR invalid chunk - Too big for current filter`.
    ChunkTooBig,
}

impl fmt::Display for BloomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BloomError::InvalidParameters => "ERR could not create filter",
            BloomError::InsufficientMemory { .. } => "ERR Insufficient memory to create filter",
            BloomError::Full => "ERR non scaling filter is full",
            BloomError::CannotGrow(_) => "ERR problem inserting into filter",
            BloomError::BadData(_) => "ERR received bad data",
            BloomError::InvalidOffset => "ERR invalid offset - no link found",
            BloomError::ChunkTooBig => "ERR invalid chunk - Too big for current filter",
        })
    }
}

impl std::error::Error for BloomError {}

/// The hash pair of one item; every link probes `(a + i*b) mod 2^64 mod bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BloomHash {
    /// The first hash: probe 0.
    pub a: u64,
    /// The second hash: the step between probes.
    pub b: u64,
}

impl BloomHash {
    /// The 64-bit pair of `FORCE64` filters (all command-created filters):
    /// `a = MurmurHash64A(item, 0xc6a4a7935bd1e995)`, `b = MurmurHash64A(item, a)`.
    ///
    /// The two hashes differ only in their seeds, so for items up to 16 bytes (keys, ids)
    /// the one or two 8-byte blocks and the tail are mixed once, in registers, and feed both
    /// chains; longer items are hashed twice.
    #[inline(always)]
    pub fn new(item: &[u8]) -> Self {
        const M: u64 = 0xc6a4_a793_5bd1_e995;
        let len = item.len();
        if len > 16 {
            let a = murmurhash64a(item, HASH_SEED);
            return BloomHash {
                a,
                b: murmurhash64a(item, a),
            };
        }
        let (k0, k1) = match (item.first_chunk::<8>(), item.get(8..16)) {
            (Some(b0), Some(b1)) => (Some(mix(le64(b0))), Some(mix(le64(b1)))),
            (Some(b0), None) => (Some(mix(le64(b0))), None),
            _ => (None, None),
        };
        let tail = len % 8;
        let last = if tail == 0 { 0 } else { tail_le(item, tail) };
        let len_m = (len as u64).wrapping_mul(M);
        let chain = |seed: u64| {
            let mut h = seed ^ len_m;
            for k in [k0, k1].into_iter().flatten() {
                h = (h ^ k).wrapping_mul(M);
            }
            if tail != 0 {
                h = (h ^ last).wrapping_mul(M);
            }
            fmix(h)
        };
        let a = chain(HASH_SEED);
        BloomHash { a, b: chain(a) }
    }

    /// The 32-bit pair of filters loaded with options lacking [`OPT_FORCE64`].
    pub fn legacy(item: &[u8]) -> Self {
        let a = murmurhash2(item, LEGACY_HASH_SEED);
        BloomHash {
            a: u64::from(a),
            b: u64::from(murmurhash2(item, a)),
        }
    }

    /// The pair a filter with `options` uses for `item`.
    #[inline]
    pub fn for_options(item: &[u8], options: u32) -> Self {
        if options & OPT_FORCE64 != 0 {
            Self::new(item)
        } else {
            Self::legacy(item)
        }
    }
}

/// Appleby's 32-bit MurmurHash2 as RedisBloom's legacy filters use it: blocks read
/// little-endian, length taken as a C `int`.
fn murmurhash2(data: &[u8], seed: u32) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let mut h = seed ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(block);
        let mut k = u32::from_le_bytes(buf).wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= u32::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// The parameters RedisBloom's `bloom_init` derives for one link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSizing {
    /// Capacity; differs from the request only for power-of-two options.
    pub entries: u64,
    /// The link's error rate.
    pub error: f64,
    /// Bits per entry, `-ln(error) / ln(2)^2`.
    pub bpe: f64,
    /// Probes per item, `ceil(ln 2 * bpe)`.
    pub hashes: u32,
    /// Always `bytes * 8`.
    pub bits: u64,
    /// Length of the bit array in bytes, a multiple of 8.
    pub bytes: u64,
    /// Power-of-two exponent of the probe modulus, 0 when the modulus is `bits`.
    pub n2: u8,
}

impl LinkSizing {
    /// RedisBloom's sizing of a link of `entries` items at `error` with `options`, or `None`
    /// where RedisBloom reports invalid arguments (or would compute with undefined
    /// behaviour: sizes past 2^64 bits, a shift by 64, a negative exponent).
    pub fn compute(entries: u64, error: f64, options: u32) -> Option<LinkSizing> {
        if entries < 1 || !error_rate_in_range(error) {
            return None;
        }
        let bpe = bits_per_entry(error);
        let mut entries = entries;
        let n2: u8;
        let bits0: u64;
        if options & OPT_ENTS_IS_BITS != 0 {
            if entries > 63 {
                return None;
            }
            n2 = entries as u8;
            bits0 = 1u64 << n2;
            entries = f64_to_u64(bits0 as f64 / bpe)?;
        } else if options & OPT_NOROUND != 0 {
            bits0 = f64_to_u64(entries as f64 * bpe)?.max(1);
            n2 = 0;
        } else {
            let wanted = entries as f64 * bpe;
            let exponent = logb(wanted)?;
            // RedisBloom rejects an exponent above 63; 63 itself would shift by 64.
            if !(-1..=62).contains(&exponent) {
                return None;
            }
            n2 = (exponent + 1) as u8;
            bits0 = 1u64 << n2;
            let spare_bits = f64_to_u64(bits0 as f64 - wanted)?;
            entries = entries.wrapping_add(f64_to_u64(spare_bits as f64 / bpe)?);
        }
        let bytes = if bits0 % 64 != 0 {
            (bits0 / 64 + 1) * 8
        } else {
            bits0 / 8
        };
        let bits = bytes.checked_mul(8)?;
        Some(LinkSizing {
            entries,
            error,
            bpe,
            hashes: (LN2 * bpe).ceil() as u32,
            bits,
            bytes,
            n2,
        })
    }
}

/// `-ln(error) / ln(2)^2`, in RedisBloom's operation order.
fn bits_per_entry(error: f64) -> f64 {
    (-(error.ln() / LN2_SQUARED)).abs()
}

/// C's truncating float-to-integer conversion where it is defined, `None` where it is not.
fn f64_to_u64(x: f64) -> Option<u64> {
    // 2^64 as f64 is exact; anything at or above it (or NaN) has no u64 value.
    if x > -1.0 && x < 18_446_744_073_709_551_616.0 {
        Some(x as u64)
    } else {
        None
    }
}

/// C's `logb` for positive normal numbers: the unbiased binary exponent.
fn logb(x: f64) -> Option<i32> {
    if !x.is_normal() || x < 0.0 {
        return None;
    }
    Some(((x.to_bits() >> 52) & 0x7ff) as i32 - 1023)
}

/// `u64::MAX / m`, the multiplier [`reduce`] takes for modulus `m >= 1`.
#[inline]
fn reciprocal(m: u64) -> u64 {
    u64::MAX / m
}

/// `h % m` without a division (Barrett reduction), given `r = reciprocal(m)`.
///
/// `r >= 2^64/m - 1`, so the estimated quotient `q = floor(h * r / 2^64)` is the true
/// quotient or one less: `h - q*m` is in `[0, 2m)` and one conditional subtraction finishes.
/// (`q*m <= h` always, so nothing wraps; for `m > 2^63`, `r = 1`, `q = 0`, and `h < 2m`.)
/// Two multiplications per probe instead of a 64-bit division, identical results.
#[inline]
fn reduce(h: u64, m: u64, r: u64) -> u64 {
    let q = ((u128::from(h) * u128::from(r)) >> 64) as u64;
    let x = h - q * m;
    let x = if x >= m { x - m } else { x };
    debug_assert_eq!(x, h % m);
    x
}

/// The probe positions `(a + i*b) mod 2^64 mod m` for `i = 0..k`, `m >= 1`: the reference
/// the probe loops of [`BloomFilter`] are tested against.
#[cfg(test)]
struct Probes {
    h: u64,
    b: u64,
    m: u64,
    r: u64,
    left: u32,
}

#[cfg(test)]
impl Probes {
    fn new(hash: BloomHash, m: u64, k: u32) -> Self {
        Self::with_reciprocal(hash, m, reciprocal(m), k)
    }

    #[inline]
    fn with_reciprocal(hash: BloomHash, m: u64, r: u64, k: u32) -> Self {
        Probes {
            h: hash.a,
            b: hash.b,
            m,
            r,
            left: k,
        }
    }
}

#[cfg(test)]
impl Iterator for Probes {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let x = reduce(self.h, self.m, self.r);
        self.h = self.h.wrapping_add(self.b);
        Some(x)
    }
}

/// Largest link array (bytes) that [`BloomFilter::contains`] tests in groups of four probes.
const GROUPED_MAX_BYTES: usize = 256 << 10;

/// One link: a fixed-size Bloom filter with RedisBloom's sizing and probing.
///
/// Sizes that follow from the array are not stored: `bytes` is `words.len() * 8 - slack`,
/// `bits` is `bytes * 8` and the probe modulus is `bits` or `2^n2`, computed on demand (once
/// per operation, not per probe). `reciprocal` and `hashes` are derivable too (from the
/// modulus by a division, from `bpe` by a float `ceil`) but stay stored: the probe loop needs
/// them on every operation.
///
/// Invariants: every probe position is below `modulus() <= bits() = bytes() * 8 <=
/// words.len() * 64`; bits at or past `bytes() * 8` are never set; `bytes() >= 1`.
#[derive(Clone, PartialEq)]
pub struct BloomFilter {
    /// The bit array, `ceil(bytes / 8)` words; never resized after allocation.
    words: Box<[u64]>,
    /// `reciprocal(modulus())`.
    reciprocal: u64,
    entries: u64,
    size: u64,
    error: f64,
    bpe: f64,
    hashes: u32,
    n2: u8,
    /// `words.len() * 8 - bytes`, in `0..8`: only a loaded header can ask for a byte count
    /// that is not a multiple of 8 (every link this module sizes has 0).
    slack: u8,
}

impl fmt::Debug for BloomFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BloomFilter")
            .field("bytes", &self.bytes())
            .field("bits", &self.bits())
            .field("hashes", &self.hashes)
            .field("entries", &self.entries)
            .field("size", &self.size)
            .field("error", &self.error)
            .field("bpe", &self.bpe)
            .field("n2", &self.n2)
            .finish_non_exhaustive()
    }
}

impl BloomFilter {
    /// An empty link of `entries` items at `error`, sized as RedisBloom does for `options`.
    /// Its bit array alone may not exceed `limits.max_bytes`.
    pub fn new(
        entries: u64,
        error: f64,
        options: u32,
        limits: &BloomLimits,
    ) -> Result<Self, BloomError> {
        let sizing = LinkSizing::compute(entries, error, options)
            .filter(|_| options & !OPT_ALL == 0)
            .ok_or(BloomError::InvalidParameters)?;
        let insufficient = BloomError::InsufficientMemory {
            requested: sizing.bytes,
            limit: limits.max_bytes as u64,
        };
        if sizing.bytes > limits.max_bytes as u64 {
            return Err(insufficient);
        }
        Self::from_sizing(&sizing, 0).ok_or(insufficient)
    }

    /// Allocates a zeroed link; `None` when the allocator refuses. The caller has checked
    /// `sizing.bytes` against a budget that fits in `usize`.
    fn from_sizing(sizing: &LinkSizing, size: u64) -> Option<Self> {
        // Sizing computes `bits` as `bytes * 8` and header validation rejects anything else,
        // so `bits` need not be kept.
        debug_assert_eq!(sizing.bytes.checked_mul(8), Some(sizing.bits));
        let words = zeroed_words(sizing.bytes)?;
        // `words.len() = ceil(bytes / 8)`, so this is in 0..8.
        let slack = (words.len() as u64 * 8 - sizing.bytes) as u8;
        let modulus = modulus_of(sizing.bits, sizing.n2);
        Some(BloomFilter {
            words,
            reciprocal: reciprocal(modulus),
            entries: sizing.entries,
            size,
            error: sizing.error,
            bpe: sizing.bpe,
            hashes: sizing.hashes,
            n2: sizing.n2,
            slack,
        })
    }

    /// The probe modulus: `bits`, or `2^n2` for power-of-two filters; never 0.
    #[inline]
    fn modulus(&self) -> u64 {
        modulus_of(self.bits(), self.n2)
    }

    /// Sets the item's bits and counts it if any was clear; returns whether any was clear
    /// (the item was new). Does not check capacity: that is the chain's job.
    // Always inlined, as `contains`: in a caller's loop over items the modulus, reciprocal
    // and array bounds are then loaded once instead of in a call per item.
    #[inline(always)]
    pub fn insert(&mut self, hash: BloomHash) -> bool {
        let (m, r) = (self.modulus(), self.reciprocal);
        let words = &mut self.words[..];
        let mut h = hash.a;
        // The bits among the item's that were clear; no branch per probe.
        let mut clear = 0u64;
        for _ in 0..self.hashes {
            let x = reduce(h, m, r);
            h = h.wrapping_add(hash.b);
            let word = &mut words[(x >> 6) as usize];
            let mask = 1u64 << (x & 63);
            clear |= !*word & mask;
            *word |= mask;
        }
        let fresh = clear != 0;
        if fresh {
            self.size = self.size.wrapping_add(1);
        }
        fresh
    }

    /// Whether all the item's bits are set (maybe present) or not (certainly absent).
    ///
    /// An array that fits in L2 (up to [`GROUPED_MAX_BYTES`]) is tested in branch-free
    /// groups of four probes: one well-predicted branch per group instead of one per probe,
    /// and an absent item (half the bits clear) mostly leaves after the first group. A
    /// larger array stops at the first clear bit: each probe there is a cache miss, which
    /// the exit saves (README, "Performance", has the measured times of both).
    #[inline(always)]
    pub fn contains(&self, hash: BloomHash) -> bool {
        let (m, r) = (self.modulus(), self.reciprocal);
        let words = &self.words[..];
        let bit = |h: u64| {
            let x = reduce(h, m, r);
            words[(x >> 6) as usize] >> (x & 63) & 1
        };
        let (mut h, b) = (hash.a, hash.b);
        let mut left = self.hashes;
        if words.len() * 8 > GROUPED_MAX_BYTES {
            for _ in 0..left {
                if bit(h) == 0 {
                    return false;
                }
                h = h.wrapping_add(b);
            }
            return true;
        }
        let (b2, b3, b4) = (b.wrapping_mul(2), b.wrapping_mul(3), b.wrapping_mul(4));
        while left >= 4 {
            let all =
                bit(h) & bit(h.wrapping_add(b)) & bit(h.wrapping_add(b2)) & bit(h.wrapping_add(b3));
            if all == 0 {
                return false;
            }
            h = h.wrapping_add(b4);
            left -= 4;
        }
        let mut all = 1;
        for _ in 0..left {
            all &= bit(h);
            h = h.wrapping_add(b);
        }
        all != 0
    }

    /// Capacity (`BF.DEBUG capacity:`).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Items added to this link (`BF.DEBUG size:`).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// This link's error rate (`BF.DEBUG ratio:`).
    pub fn error(&self) -> f64 {
        self.error
    }

    /// Bits per entry.
    pub fn bpe(&self) -> f64 {
        self.bpe
    }

    /// Number of probes per item.
    pub fn hashes(&self) -> u32 {
        self.hashes
    }

    /// Length of the bit array in bits (always `bytes * 8`).
    #[inline]
    pub fn bits(&self) -> u64 {
        self.bytes() * 8
    }

    /// Length of the bit array in bytes.
    #[inline]
    pub fn bytes(&self) -> u64 {
        self.words.len() as u64 * 8 - u64::from(self.slack)
    }

    /// Power-of-two exponent of the probe modulus; 0 for every command-created filter.
    pub fn n2(&self) -> u8 {
        self.n2
    }

    /// The bit array as 64-bit words (bit `x` is bit `x % 64` of word `x / 64`).
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// The bit array as RedisBloom stores it (bit `x` in byte `x / 8`, mask `1 << (x % 8)`).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.read_bytes(0, self.bytes() as usize)
    }

    /// `len` bytes of the array from byte `offset`; the caller keeps the range inside it.
    fn read_bytes(&self, offset: usize, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 16);
        if len == 0 {
            return out;
        }
        let first = offset / 8;
        let last = (offset + len - 1) / 8;
        for word in &self.words[first..=last] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.drain(..offset % 8);
        out.truncate(len);
        out
    }

    /// Overwrites bytes from `offset`; the caller keeps the range inside `bytes`.
    fn write_bytes(&mut self, offset: usize, data: &[u8]) {
        // Bytes up to the next word boundary one at a time, then whole words.
        let head = ((8 - offset % 8) % 8).min(data.len());
        let (unaligned, aligned) = data.split_at(head);
        for (i, &byte) in unaligned.iter().enumerate() {
            self.write_byte(offset + i, byte);
        }
        let start = offset + head;
        let mut words = aligned.chunks_exact(8);
        for (i, chunk) in (&mut words).enumerate() {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(chunk);
            self.words[start / 8 + i] = u64::from_le_bytes(buf);
        }
        let tail_start = start + aligned.len() - words.remainder().len();
        for (i, &byte) in words.remainder().iter().enumerate() {
            self.write_byte(tail_start + i, byte);
        }
    }

    fn write_byte(&mut self, at: usize, byte: u8) {
        let shift = (at % 8) * 8;
        let word = &mut self.words[at / 8];
        *word = (*word & !(0xffu64 << shift)) | (u64::from(byte) << shift);
    }
}

/// `bits`, or `2^n2` when `n2 > 0` (`n2 <= 63`, checked by sizing and header validation).
#[inline]
fn modulus_of(bits: u64, n2: u8) -> u64 {
    if n2 > 0 {
        1u64 << n2
    } else {
        bits
    }
}

/// A zeroed array covering `bytes` bytes, or `None` when the allocator refuses.
fn zeroed_words(bytes: u64) -> Option<Box<[u64]>> {
    let len = usize::try_from(bytes.div_ceil(8)).ok()?;
    let mut words = Vec::new();
    words.try_reserve_exact(len).ok()?;
    words.resize(len, 0);
    // Reserved exactly, the capacity is `len`: the allocation is handed over, not copied.
    Some(words.into_boxed_slice())
}

/// `BF.INFO`'s fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BloomInfo {
    /// `Capacity`: the links' capacities summed (wrapping, as RedisBloom's `size_t`).
    pub capacity: u64,
    /// `Size`: `32 + 64 * filters + Σ link bytes`.
    pub size: u64,
    /// `Number of filters`.
    pub filters: u64,
    /// `Number of items inserted`.
    pub items: u64,
    /// `Expansion rate`, `None` (nil) for a non-scaling filter.
    pub expansion: Option<u32>,
}

/// RedisBloom's scalable Bloom filter: the value of a `BF.*` key.
///
/// Invariant: at least one link. The chain's item count is not stored: it is the links'
/// sizes summed (wrapping), which RedisBloom's own count always equals, since loaded headers
/// are checked for it and an insertion counts in both.
///
/// The first link is stored inline, so a filter that never grew is one allocation besides its
/// bit array; a chain that grows moves its links to the heap.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalableBloomFilter {
    links: SmallVec<[BloomFilter; 1]>,
    options: u32,
    growth: u32,
    limits: BloomLimits,
}

impl ScalableBloomFilter {
    /// `BF.RESERVE key error_rate capacity [EXPANSION expansion] [NONSCALING]` with the default
    /// memory budget.
    pub fn new(
        capacity: u64,
        error_rate: f64,
        expansion: u32,
        nonscaling: bool,
    ) -> Result<Self, BloomError> {
        Self::with_limits(
            capacity,
            error_rate,
            expansion,
            nonscaling,
            BloomLimits::DEFAULT,
        )
    }

    /// [`new`](Self::new) with a memory budget.
    pub fn with_limits(
        capacity: u64,
        error_rate: f64,
        expansion: u32,
        nonscaling: bool,
        limits: BloomLimits,
    ) -> Result<Self, BloomError> {
        let options = COMMAND_OPTIONS | if nonscaling { OPT_NO_SCALING } else { 0 };
        Self::with_options(capacity, error_rate, expansion, options, limits)
    }

    /// A filter with raw RedisBloom option flags (any of [`OPT_ALL`]).
    pub fn with_options(
        capacity: u64,
        error_rate: f64,
        expansion: u32,
        options: u32,
        limits: BloomLimits,
    ) -> Result<Self, BloomError> {
        if capacity == 0 || !error_rate_in_range(error_rate) || options & !OPT_ALL != 0 {
            return Err(BloomError::InvalidParameters);
        }
        let tightening = if options & OPT_NO_SCALING != 0 {
            1.0
        } else {
            ERROR_TIGHTENING_RATIO
        };
        let sizing = LinkSizing::compute(capacity, error_rate * tightening, options)
            .ok_or(BloomError::InvalidParameters)?;
        let requested = memory_of(1, sizing.bytes);
        let insufficient = BloomError::InsufficientMemory {
            requested: requested.unwrap_or(u64::MAX),
            limit: limits.max_bytes as u64,
        };
        if !matches!(requested, Some(r) if r <= limits.max_bytes as u64) {
            return Err(insufficient);
        }
        let link = BloomFilter::from_sizing(&sizing, 0).ok_or(insufficient)?;
        Ok(ScalableBloomFilter {
            links: SmallVec::from_buf([link]),
            options,
            growth: expansion,
            limits,
        })
    }

    /// The hash pair this filter uses for `item`.
    #[inline]
    pub fn hash(&self, item: &[u8]) -> BloomHash {
        BloomHash::for_options(item, self.options)
    }

    /// `BF.ADD`: `Ok(true)` if the item was added, `Ok(false)` if it may already be present
    /// (nothing changes then, even in a full filter).
    #[inline]
    pub fn insert(&mut self, item: &[u8]) -> Result<bool, BloomError> {
        self.insert_hash(self.hash(item))
    }

    /// [`insert`](Self::insert) with a precomputed [`hash`](Self::hash).
    ///
    /// RedisBloom checks every link before touching any. Setting the newest link's bits
    /// directly is the same as long as the older links were checked first and the link is not
    /// full: if all its bits were set, setting them changes nothing and the reply is the same 0.
    #[inline]
    pub fn insert_hash(&mut self, hash: BloomHash) -> Result<bool, BloomError> {
        // One link below capacity (every filter that never grew): no older links to check.
        if let [only] = &mut self.links[..] {
            if only.size < only.entries {
                return Ok(only.insert(hash));
            }
        }
        let older = &self.links[..self.links.len() - 1];
        if older.iter().rev().any(|link| link.contains(hash)) {
            return Ok(false);
        }
        let current = self.current();
        if current.size >= current.entries {
            if current.contains(hash) {
                return Ok(false);
            }
            if self.options & OPT_NO_SCALING != 0 {
                return Err(BloomError::Full);
            }
            self.grow().map_err(BloomError::CannotGrow)?;
        }
        // The link's count is the chain's count too (see `card`).
        Ok(self.current_mut().insert(hash))
    }

    /// `BF.EXISTS`: whether the item may be present (false: certainly absent).
    #[inline]
    pub fn contains(&self, item: &[u8]) -> bool {
        self.contains_hash(self.hash(item))
    }

    /// [`contains`](Self::contains) with a precomputed [`hash`](Self::hash). Newest link first:
    /// it is the largest and most recently filled, so the likeliest to hold the item.
    #[inline]
    pub fn contains_hash(&self, hash: BloomHash) -> bool {
        match &self.links[..] {
            [only] => only.contains(hash),
            links => links.iter().rev().any(|link| link.contains(hash)),
        }
    }

    fn current(&self) -> &BloomFilter {
        &self.links[self.links.len() - 1]
    }

    fn current_mut(&mut self) -> &mut BloomFilter {
        let last = self.links.len() - 1;
        &mut self.links[last]
    }

    fn grow(&mut self) -> Result<(), GrowthFailure> {
        let current = self.current();
        let entries = current.entries.wrapping_mul(u64::from(self.growth));
        let error = current.error * ERROR_TIGHTENING_RATIO;
        let sizing = LinkSizing::compute(entries, error, self.options)
            .ok_or(GrowthFailure::InvalidParameters)?;
        let requested = self
            .memory_usage()
            .checked_add(LINK_OVERHEAD_BYTES)
            .and_then(|m| m.checked_add(sizing.bytes));
        let limit = self.limits.max_bytes as u64;
        if !matches!(requested, Some(r) if r <= limit) {
            return Err(GrowthFailure::MemoryLimit {
                requested: requested.unwrap_or(u64::MAX),
                limit,
            });
        }
        let link = BloomFilter::from_sizing(&sizing, 0).ok_or(GrowthFailure::OutOfMemory)?;
        self.links
            .try_reserve(1)
            .map_err(|_| GrowthFailure::OutOfMemory)?;
        self.links.push(link);
        Ok(())
    }

    /// `BF.CARD`: items inserted, the links' sizes summed (wrapping, as RedisBloom's
    /// `size_t` count would).
    pub fn card(&self) -> u64 {
        self.links
            .iter()
            .fold(0u64, |sum, link| sum.wrapping_add(link.size))
    }

    /// `BF.INFO`.
    pub fn info(&self) -> BloomInfo {
        BloomInfo {
            capacity: self
                .links
                .iter()
                .fold(0u64, |sum, link| sum.wrapping_add(link.entries)),
            size: self.memory_usage(),
            filters: self.links.len() as u64,
            items: self.card(),
            expansion: self.expansion(),
        }
    }

    /// `BF.INFO Size`: `32 + 64 * filters + Σ link bytes`; the quantity the memory budget caps.
    pub fn memory_usage(&self) -> u64 {
        let bytes = self
            .links
            .iter()
            .fold(0u64, |sum, link| sum.saturating_add(link.bytes()));
        memory_of(self.links.len() as u64, bytes).unwrap_or(u64::MAX)
    }

    /// `BF.INFO Expansion rate`: `None` for a non-scaling filter.
    pub fn expansion(&self) -> Option<u32> {
        (self.options & OPT_NO_SCALING == 0).then_some(self.growth)
    }

    /// The stored growth factor, also for non-scaling filters (it is part of the header).
    pub fn growth(&self) -> u32 {
        self.growth
    }

    /// RedisBloom option flags (`5` for command-created filters, `13` non-scaling).
    pub fn options(&self) -> u32 {
        self.options
    }

    /// Whether the filter never grows.
    pub fn is_nonscaling(&self) -> bool {
        self.options & OPT_NO_SCALING != 0
    }

    /// The links, oldest first (`BF.DEBUG` lists them in this order).
    pub fn links(&self) -> &[BloomFilter] {
        &self.links
    }

    /// The memory budget this filter grows within.
    pub fn limits(&self) -> BloomLimits {
        self.limits
    }

    /// Changes the budget for future growth; the filter keeps what it already has.
    pub fn set_limits(&mut self, limits: BloomLimits) {
        self.limits = limits;
    }

    /// `BF.SCANDUMP key iter`: `(1, header)` for 0, then `(next, chunk)` for each chunk of bit
    /// array, then `(0, [])` (also for negative or out-of-range iterators).
    pub fn scandump(&self, iter: i64) -> (i64, Vec<u8>) {
        if iter == 0 {
            return (1, self.header_chunk());
        }
        let Some((index, offset)) = self.locate(iter) else {
            return (0, Vec::new());
        };
        let link = &self.links[index];
        // `locate` keeps offset < bytes, and bytes fits in usize (it was allocated).
        let len = (link.bytes() - offset).min(MAX_SCANDUMP_CHUNK as u64);
        let chunk = link.read_bytes(offset as usize, len as usize);
        (iter.saturating_add(len as i64), chunk)
    }

    /// The `BF.SCANDUMP key 0` header: `20 + 53 * filters` bytes, layout in the module doc.
    pub fn header_chunk(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + LINK_HEADER_LEN * self.links.len());
        out.extend_from_slice(&self.card().to_le_bytes());
        // `from_header_chunk` and growth within the memory budget keep the count in u32.
        out.extend_from_slice(&(self.links.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.options.to_le_bytes());
        out.extend_from_slice(&self.growth.to_le_bytes());
        for link in &self.links {
            out.extend_from_slice(&link.bytes().to_le_bytes());
            out.extend_from_slice(&link.bits().to_le_bytes());
            out.extend_from_slice(&link.size.to_le_bytes());
            out.extend_from_slice(&link.error.to_le_bytes());
            out.extend_from_slice(&link.bpe.to_le_bytes());
            out.extend_from_slice(&link.hashes.to_le_bytes());
            out.extend_from_slice(&link.entries.to_le_bytes());
            out.push(link.n2);
        }
        out
    }

    /// Link index and byte offset addressed by a chunk iterator (`p + 1` for byte `p`).
    fn locate(&self, iter: i64) -> Option<(usize, u64)> {
        if iter < 1 {
            return None;
        }
        let mut position = (iter - 1) as u64;
        for (index, link) in self.links.iter().enumerate() {
            let bytes = link.bytes();
            if position < bytes {
                return Some((index, position));
            }
            position -= bytes;
        }
        None
    }

    /// `BF.LOADCHUNK key 1 header` on a missing key: an empty filter shaped by a `BF.SCANDUMP`
    /// header, validated in full before anything is allocated.
    pub fn from_header_chunk(header: &[u8], limits: BloomLimits) -> Result<Self, BloomError> {
        let parsed = ParsedHeader::parse(header, &limits).map_err(BloomError::BadData)?;
        let mut links = SmallVec::new();
        links
            .try_reserve_exact(parsed.links.len())
            .map_err(|_| BloomError::BadData(BadData::OutOfMemory))?;
        for (sizing, size) in &parsed.links {
            let link = BloomFilter::from_sizing(sizing, *size)
                .ok_or(BloomError::BadData(BadData::OutOfMemory))?;
            links.push(link);
        }
        // `parse` checked that the links' sizes add up to the header's item count, so `card`
        // returns it.
        Ok(ScalableBloomFilter {
            links,
            options: parsed.options,
            growth: parsed.growth,
            limits,
        })
    }

    /// The length of each bit array a `BF.SCANDUMP` header describes, validated as
    /// [`from_header_chunk`](Self::from_header_chunk) validates it but without allocating
    /// the arrays, so that a loader can check that its input holds that many bytes first.
    pub fn header_chunk_array_bytes(
        header: &[u8],
        limits: BloomLimits,
    ) -> Result<Vec<u64>, BloomError> {
        let parsed = ParsedHeader::parse(header, &limits).map_err(BloomError::BadData)?;
        Ok(parsed.links.iter().map(|(s, _)| s.bytes).collect())
    }

    /// `BF.LOADCHUNK key iter data` on an existing filter: `iter` is the one `BF.SCANDUMP`
    /// returned with `data`, pointing just past it. Counters are not touched.
    pub fn load_chunk(&mut self, iter: i64, data: &[u8]) -> Result<(), BloomError> {
        let len = data.len() as u64;
        if iter <= 0 || (iter as u64) < len {
            return Err(BloomError::BadData(BadData::ChunkIterator));
        }
        let start = iter - len as i64;
        let (index, offset) = self.locate(start).ok_or(BloomError::InvalidOffset)?;
        let link = &mut self.links[index];
        if len > link.bytes() - offset {
            return Err(BloomError::ChunkTooBig);
        }
        link.write_bytes(offset as usize, data);
        Ok(())
    }
}

/// `32 + 64 * links + bytes`, `None` on overflow.
fn memory_of(links: u64, bytes: u64) -> Option<u64> {
    links
        .checked_mul(LINK_OVERHEAD_BYTES)?
        .checked_add(CHAIN_OVERHEAD_BYTES)?
        .checked_add(bytes)
}

/// A validated `BF.SCANDUMP` header. Its item count is checked against the links' and then
/// dropped: the filter derives it from them.
struct ParsedHeader {
    options: u32,
    growth: u32,
    links: Vec<(LinkSizing, u64)>,
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(buf.get(at..at + 8)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

impl ParsedHeader {
    /// RedisBloom's checks (`SB_NewChainFromHeader`, `bloom_validate_integrity`,
    /// `SB_ValidateIntegrity`), then the ones that bound work and memory: finite non-negative
    /// `bpe`, at most [`MAX_HASHES`] hashes, the whole filter within `limits`.
    fn parse(buf: &[u8], limits: &BloomLimits) -> Result<ParsedHeader, BadData> {
        let field = |v: Option<u64>| v.ok_or(BadData::HeaderLength);
        let size = field(u64_at(buf, 0))?;
        let nfilters = u32_at(buf, 8).ok_or(BadData::HeaderLength)?;
        if nfilters == 0 {
            return Err(BadData::NoFilters);
        }
        let expected = (nfilters as u64)
            .checked_mul(LINK_HEADER_LEN as u64)
            .and_then(|n| n.checked_add(HEADER_LEN as u64));
        if expected != Some(buf.len() as u64) {
            return Err(BadData::HeaderLength);
        }
        let options = u32_at(buf, 12).ok_or(BadData::HeaderLength)?;
        if options & !OPT_ALL != 0 {
            return Err(BadData::Options);
        }
        let growth = u32_at(buf, 16).ok_or(BadData::HeaderLength)?;

        // The length check bounds nfilters by the input, so this is at most a small multiple
        // of the header's own size.
        let mut links = Vec::with_capacity(nfilters as usize);
        let mut total_items = 0u64;
        let mut total_bytes = 0u64;
        for link in 0..nfilters as usize {
            let at = HEADER_LEN + LINK_HEADER_LEN * link;
            let bytes = field(u64_at(buf, at))?;
            let bits = field(u64_at(buf, at + 8))?;
            let items = field(u64_at(buf, at + 16))?;
            let error = f64::from_bits(field(u64_at(buf, at + 24))?);
            let bpe = f64::from_bits(field(u64_at(buf, at + 32))?);
            let hashes = u32_at(buf, at + 40).ok_or(BadData::HeaderLength)?;
            let entries = field(u64_at(buf, at + 44))?;
            let n2 = *buf.get(at + 52).ok_or(BadData::HeaderLength)?;

            if !error_rate_in_range(error) {
                return Err(BadData::ErrorRate { link });
            }
            if n2 > 63 || (n2 != 0 && bits < 1u64 << n2) {
                return Err(BadData::PowerOfTwo { link });
            }
            if bits == 0 || bytes.checked_mul(8) != Some(bits) {
                return Err(BadData::Bits { link });
            }
            if !bpe.is_finite() || bpe < 0.0 {
                return Err(BadData::BitsPerEntry { link });
            }
            let wanted = (LN2 * bpe).ceil();
            if wanted > f64::from(MAX_HASHES) || wanted != f64::from(hashes) {
                return Err(BadData::Hashes { link });
            }
            total_items = total_items.checked_add(items).ok_or(BadData::ItemCount)?;
            total_bytes = total_bytes.saturating_add(bytes);
            links.push((
                LinkSizing {
                    entries,
                    error,
                    bpe,
                    hashes,
                    bits,
                    bytes,
                    n2,
                },
                items,
            ));
        }
        if total_items != size {
            return Err(BadData::ItemCount);
        }
        let requested = memory_of(u64::from(nfilters), total_bytes).unwrap_or(u64::MAX);
        let limit = limits.max_bytes as u64;
        if requested > limit {
            return Err(BadData::MemoryLimit { requested, limit });
        }
        Ok(ParsedHeader {
            options,
            growth,
            links,
        })
    }
}

/// Persisted form: the `BF.SCANDUMP` header and each link's bit array, so that loading runs
/// exactly the `BF.LOADCHUNK` validation.
impl Serialize for ScalableBloomFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let arrays: Vec<Bytes> = self.links.iter().map(|l| Bytes(l.to_bytes())).collect();
        let mut state = serializer.serialize_struct("ScalableBloomFilter", 2)?;
        state.serialize_field("header", &Bytes(self.header_chunk()))?;
        state.serialize_field("arrays", &arrays)?;
        state.end()
    }
}

#[derive(Deserialize)]
#[serde(rename = "ScalableBloomFilter")]
struct Persisted {
    header: Bytes,
    arrays: Vec<Bytes>,
}

/// Deserialized values get the default memory budget ([`BloomLimits::DEFAULT`]); a value
/// larger than it is rejected. Use [`ScalableBloomFilter::from_header_chunk`] and
/// [`ScalableBloomFilter::load_chunk`] for another budget.
impl<'de> Deserialize<'de> for ScalableBloomFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let persisted = Persisted::deserialize(deserializer)?;
        // The arrays must be there before the filter they fill is allocated: a short input
        // describing a huge filter fails here, not after zeroing its memory.
        let lens = ScalableBloomFilter::header_chunk_array_bytes(
            &persisted.header.0,
            BloomLimits::DEFAULT,
        )
        .map_err(de::Error::custom)?;
        if let Some(link) = (0..lens.len().max(persisted.arrays.len()))
            .find(|&i| lens.get(i).copied() != persisted.arrays.get(i).map(|a| a.0.len() as u64))
        {
            return Err(de::Error::custom(BloomError::BadData(
                BadData::ArrayLength { link },
            )));
        }
        let mut filter =
            ScalableBloomFilter::from_header_chunk(&persisted.header.0, BloomLimits::DEFAULT)
                .map_err(de::Error::custom)?;
        if persisted.arrays.len() != filter.links.len() {
            return Err(de::Error::custom(BloomError::BadData(
                BadData::ArrayLength {
                    link: persisted.arrays.len().min(filter.links.len()),
                },
            )));
        }
        for (link, (dst, src)) in filter.links.iter_mut().zip(&persisted.arrays).enumerate() {
            if src.0.len() as u64 != dst.bytes() {
                return Err(de::Error::custom(BloomError::BadData(
                    BadData::ArrayLength { link },
                )));
            }
            dst.write_bytes(0, &src.0);
        }
        Ok(filter)
    }
}

/// A byte string that binary formats store as bytes and text formats as a sequence.
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                // The size hint comes from the input; cap the preallocation.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(byte) = seq.next_element::<u8>()? {
                    out.push(byte);
                }
                Ok(Bytes(out))
            }
        }
        deserializer.deserialize_bytes(BytesVisitor)
    }
}

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
/// Fuzz target body: splits `data` into a header and chunks, loads them with a 1 MiB budget,
/// then adds, queries and dumps. Must never panic nor allocate past the budget.
///
/// Layout: `[header_len: u16 LE][header]` then repeated `[iter: i64 LE][len: u16 LE][chunk]`;
/// a short tail is taken as is.
pub fn fuzz_loadchunk(data: &[u8]) {
    let limits = BloomLimits { max_bytes: 1 << 20 };
    let Some((len_bytes, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let header_len = (u16::from_le_bytes(*len_bytes) as usize).min(rest.len());
    let (header, mut rest) = rest.split_at(header_len);
    let Ok(mut filter) = ScalableBloomFilter::from_header_chunk(header, limits) else {
        return;
    };
    while let Some((iter_bytes, tail)) = rest.split_first_chunk::<8>() {
        let iter = i64::from_le_bytes(*iter_bytes);
        let (len, tail) = match tail.split_first_chunk::<2>() {
            Some((len_bytes, tail)) => (u16::from_le_bytes(*len_bytes) as usize, tail),
            None => (tail.len(), tail),
        };
        let (chunk, tail) = tail.split_at(len.min(tail.len()));
        let _ = filter.load_chunk(iter, chunk);
        rest = tail;
    }
    let info = filter.info();
    assert!(info.size <= limits.max_bytes as u64);
    for i in 0u32..64 {
        let item = i.to_le_bytes();
        let before = filter.contains(&item);
        match filter.insert(&item) {
            Ok(true) => assert!(!before && filter.contains(&item)),
            Ok(false) => assert!(before),
            Err(_) => assert!(!before),
        }
        assert!(filter.memory_usage() <= limits.max_bytes as u64);
    }
    let mut copy: Option<ScalableBloomFilter> = None;
    let mut iter = 0;
    loop {
        let (next, chunk) = filter.scandump(iter);
        if next == 0 {
            break;
        }
        match copy.as_mut() {
            None => copy = ScalableBloomFilter::from_header_chunk(&chunk, limits).ok(),
            Some(copy) => assert_eq!(copy.load_chunk(next, &chunk), Ok(())),
        }
        iter = next;
    }
    if let Some(copy) = copy {
        assert_eq!(copy.header_chunk(), filter.header_chunk());
        for i in 0u32..256 {
            let item = i.to_le_bytes();
            assert_eq!(copy.contains(&item), filter.contains(&item));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn reserve(error: f64, capacity: u64) -> ScalableBloomFilter {
        ScalableBloomFilter::new(capacity, error, DEFAULT_EXPANSION, false).expect("valid")
    }

    fn add_all(filter: &mut ScalableBloomFilter, items: &[&str]) -> Vec<Result<bool, BloomError>> {
        items.iter().map(|i| filter.insert(i.as_bytes())).collect()
    }

    /// (bytes, bits, hashes, capacity, size, error) of each link.
    fn shape(filter: &ScalableBloomFilter) -> Vec<(u64, u64, u32, u64, u64, f64)> {
        filter
            .links()
            .iter()
            .map(|l| {
                (
                    l.bytes(),
                    l.bits(),
                    l.hashes(),
                    l.entries(),
                    l.size(),
                    l.error(),
                )
            })
            .collect()
    }

    fn dump_all(filter: &ScalableBloomFilter) -> Vec<(i64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut iter = 0;
        loop {
            let (next, chunk) = filter.scandump(iter);
            if next == 0 {
                assert!(chunk.is_empty());
                return out;
            }
            out.push((next, chunk));
            iter = next;
        }
    }

    fn load_all(dump: &[(i64, Vec<u8>)], limits: BloomLimits) -> ScalableBloomFilter {
        let mut filter = ScalableBloomFilter::from_header_chunk(&dump[0].1, limits).expect("hdr");
        for (iter, chunk) in &dump[1..] {
            filter.load_chunk(*iter, chunk).expect("chunk");
        }
        filter
    }

    #[test]
    fn sizing_matches_redisbloom_table() {
        // (capacity, link error, bits0-derived bytes, bits, hashes) from the spec's §2 table.
        let table = [
            (100, 0.005, 144, 1152, 8),
            (10, 0.05, 8, 64, 5),
            (10, 0.005, 16, 128, 8),
            (100, 0.0005, 200, 1600, 11),
            (50000, 0.0005, 98880, 791040, 11),
            (3, 0.01, 8, 64, 7),
            (300_000_000, 5e-7, 1_132_420_136, 9_059_361_088, 21),
        ];
        for (entries, error, bytes, bits, hashes) in table {
            let s = LinkSizing::compute(entries, error, COMMAND_OPTIONS).expect("valid");
            assert_eq!(
                (s.bytes, s.bits, s.hashes, s.entries, s.n2),
                (bytes, bits, hashes, entries, 0)
            );
        }
        let s = LinkSizing::compute(10, 0.05, COMMAND_OPTIONS).expect("valid");
        assert!((s.bpe - 6.23522).abs() < 1e-5);
        // The largest hash count any error rate can produce is MAX_HASHES.
        let tiny = LinkSizing::compute(1, f64::from_bits(1), COMMAND_OPTIONS).expect("valid");
        assert_eq!(tiny.hashes, MAX_HASHES);
        // bits0 == 0 becomes 1 bit, rounded to one word.
        let wide = LinkSizing::compute(1, 0.99, COMMAND_OPTIONS).expect("valid");
        assert_eq!((wide.bytes, wide.bits, wide.hashes), (8, 64, 1));
        assert_eq!(LinkSizing::compute(0, 0.01, COMMAND_OPTIONS), None);
        assert_eq!(LinkSizing::compute(1, 0.0, COMMAND_OPTIONS), None);
        assert_eq!(LinkSizing::compute(1, 1.0, COMMAND_OPTIONS), None);
        assert_eq!(LinkSizing::compute(1, f64::NAN, COMMAND_OPTIONS), None);
        assert_eq!(LinkSizing::compute(u64::MAX, 1e-300, COMMAND_OPTIONS), None);
    }

    #[test]
    fn legacy_option_sizing() {
        // Power of two: 100 * 11.03 = 1102.8 bits -> logb 10 -> 2^11 bits; the spare 945 bits
        // hold 85 more entries.
        let p = LinkSizing::compute(100, 0.005, OPT_FORCE64).expect("valid");
        assert_eq!(
            (p.n2, p.bits, p.bytes, p.entries, p.hashes),
            (11, 2048, 256, 185, 8)
        );
        // Capacity as a bit exponent.
        let e = LinkSizing::compute(10, 0.005, OPT_ENTS_IS_BITS).expect("valid");
        assert_eq!((e.n2, e.bits, e.entries), (10, 1024, 92));
        assert_eq!(LinkSizing::compute(64, 0.005, OPT_ENTS_IS_BITS), None);
        let mut f =
            ScalableBloomFilter::with_options(100, 0.01, 2, OPT_FORCE64, BloomLimits::DEFAULT)
                .expect("valid");
        for i in 0..1000u32 {
            f.insert(&i.to_le_bytes()).expect("grows");
        }
        assert!((0..1000u32).all(|i| f.contains(&i.to_le_bytes())));
        assert!(f
            .links()
            .iter()
            .all(|l| l.n2() > 0 && l.bits() == 1 << l.n2()));
    }

    #[test]
    fn shared_block_hash_pair_is_murmur_twice() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for len in 0..200 {
            let mut item = vec![0u8; len];
            rng.fill_bytes(&mut item);
            let a = murmurhash64a(&item, HASH_SEED);
            let b = murmurhash64a(&item, a);
            assert_eq!(BloomHash::new(&item), BloomHash { a, b }, "len {len}");
        }
    }

    #[test]
    fn barrett_reduction_is_exact() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut moduli = vec![1, 2, 3, 63, 64, 1152, 1 << 33, (1 << 63) - 1, 1 << 63];
        moduli.extend([(1 << 63) + 1, u64::MAX - 1, u64::MAX]);
        moduli.extend((0..200).map(|_| rng.gen_range(1..1u64 << 40) * 64));
        moduli.extend((0..50).map(|_| rng.gen::<u64>() | 1));
        for &m in &moduli {
            let r = reciprocal(m);
            let mut hs = vec![0, 1, m - 1, m, m.wrapping_add(1), u64::MAX, u64::MAX - 1];
            hs.extend((1..4).map(|q| m.wrapping_mul(q)));
            hs.extend((1..4).map(|q| m.wrapping_mul(q).wrapping_sub(1)));
            hs.extend((0..200).map(|_| rng.gen::<u64>()));
            for h in hs {
                assert_eq!(reduce(h, m, r), h % m, "{h} mod {m}");
            }
        }
    }

    #[test]
    fn probe_loops_match_the_reference_positions() {
        // Arrays on both sides of `GROUPED_MAX_BYTES`, probe counts on both sides of a
        // multiple of four: `insert` sets exactly the reference positions and reports
        // whether one was clear; `contains` agrees with testing them one by one.
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        for (entries, error) in [(100, 0.01), (1000, 0.3), (300_000, 0.001), (400_000, 0.25)] {
            let mut link = BloomFilter::new(entries, error, COMMAND_OPTIONS, &BloomLimits::DEFAULT)
                .expect("link");
            let (m, k) = (link.modulus(), link.hashes());
            let mut reference = vec![false; m as usize];
            for i in 0..2 * entries {
                let h = BloomHash {
                    a: rng.gen(),
                    b: rng.gen(),
                };
                let set = |r: &[bool]| Probes::new(h, m, k).all(|x| r[x as usize]);
                assert_eq!(link.contains(h), set(&reference), "{entries} {i}");
                if i % 2 == 0 {
                    let was_new = !set(&reference);
                    assert_eq!(link.insert(h), was_new);
                    for x in Probes::new(h, m, k) {
                        reference[x as usize] = true;
                    }
                }
            }
            let bits: Vec<bool> = (0..m)
                .map(|x| link.words()[(x / 64) as usize] >> (x % 64) & 1 == 1)
                .collect();
            assert_eq!(bits, reference);
        }
    }

    #[test]
    fn item1_hash_vector() {
        let h = BloomHash::new(b"item1");
        assert_eq!((h.a, h.b), (0xa053_790e_072b_2e8b, 0x707e_5d60_182e_b075));
        let mut positions: Vec<u64> = Probes::new(h, 64, 5).collect();
        positions.sort_unstable();
        assert_eq!(positions, [0, 11, 31, 42, 53]);
        let mut link =
            BloomFilter::new(10, 0.05, COMMAND_OPTIONS, &BloomLimits::DEFAULT).expect("ok");
        assert!(link.insert(h));
        assert!(!link.insert(h));
        assert_eq!(link.size(), 1);
        assert_eq!(
            link.to_bytes(),
            [0x01, 0x08, 0x00, 0x80, 0x00, 0x04, 0x20, 0x00]
        );
    }

    #[test]
    fn scandump_doc_example() {
        let mut bf = reserve(0.1, 10);
        assert_eq!(bf.insert(b"item1"), Ok(true));
        let (next, header) = bf.scandump(0);
        assert_eq!(next, 1);
        let mut want = Vec::new();
        want.extend_from_slice(&1u64.to_le_bytes());
        want.extend_from_slice(&1u32.to_le_bytes());
        want.extend_from_slice(&5u32.to_le_bytes());
        want.extend_from_slice(&2u32.to_le_bytes());
        want.extend_from_slice(&8u64.to_le_bytes());
        want.extend_from_slice(&64u64.to_le_bytes());
        want.extend_from_slice(&1u64.to_le_bytes());
        want.extend_from_slice(&0.05f64.to_le_bytes());
        want.extend_from_slice(&bits_per_entry(0.05).to_le_bytes());
        want.extend_from_slice(&5u32.to_le_bytes());
        want.extend_from_slice(&10u64.to_le_bytes());
        want.push(0);
        assert_eq!(header, want);
        assert_eq!(header.len(), 73);
        assert_eq!(
            bf.scandump(1),
            (9, b"\x01\x08\x00\x80\x00\x04 \x00".to_vec())
        );
        assert_eq!(bf.scandump(9), (0, Vec::new()));
        assert_eq!(bf.scandump(-1), (0, Vec::new()));
        let mut copy =
            ScalableBloomFilter::from_header_chunk(&header, BloomLimits::DEFAULT).expect("ok");
        assert!(!copy.contains(b"item1"));
        assert_eq!(copy.card(), 1);
        copy.load_chunk(9, b"\x01\x08\x00\x80\x00\x04 \x00")
            .expect("ok");
        assert!(copy.contains(b"item1"));
        assert_eq!(copy, bf);
    }

    #[test]
    fn default_filter_dump_shape() {
        let mut bf = reserve(DEFAULT_ERROR_RATE, DEFAULT_CAPACITY);
        bf.insert(b"x").expect("ok");
        let dump = dump_all(&bf);
        assert_eq!(dump.len(), 2);
        assert_eq!((dump[0].0, dump[0].1.len()), (1, 73));
        assert_eq!((dump[1].0, dump[1].1.len()), (145, 144));
    }

    #[test]
    fn growth_counts_by_expansion() {
        for (expansion, filters) in [(1, 23), (2, 5), (4, 4)] {
            let mut bf = ScalableBloomFilter::new(4, 0.01, expansion, false).expect("ok");
            for i in 0..100 {
                bf.insert(i.to_string().as_bytes()).expect("grows");
            }
            assert_eq!(bf.links().len(), filters, "expansion {expansion}");
            assert_eq!(bf.info().filters, filters as u64);
        }
    }

    #[test]
    fn debug_example_links() {
        let mut bf = reserve(0.01, 10);
        for i in 0..100 {
            bf.insert(i.to_string().as_bytes()).expect("grows");
        }
        assert_eq!(bf.card(), 99);
        assert_eq!(
            shape(&bf),
            [
                (16, 128, 8, 10, 10, 0.005),
                (32, 256, 9, 20, 20, 0.0025),
                (72, 576, 10, 40, 40, 0.00125),
                (160, 1280, 11, 80, 29, 0.000625),
            ]
        );
    }

    #[test]
    fn info_examples() {
        let mut bf = reserve(DEFAULT_ERROR_RATE, DEFAULT_CAPACITY);
        assert_eq!(bf.insert(b"observation1"), Ok(true));
        let want = BloomInfo {
            capacity: 100,
            size: 240,
            filters: 1,
            items: 1,
            expansion: Some(2),
        };
        assert_eq!(bf.info(), want);
        let bf = reserve(0.001, 100);
        let want = BloomInfo {
            capacity: 100,
            size: 296,
            filters: 1,
            items: 0,
            expansion: Some(2),
        };
        assert_eq!(bf.info(), want);

        let mut ns =
            ScalableBloomFilter::new(3, DEFAULT_ERROR_RATE, DEFAULT_EXPANSION, true).expect("ok");
        assert_eq!(ns.options(), 13);
        assert_eq!(
            add_all(&mut ns, &["a", "b", "c"]),
            [Ok(true), Ok(true), Ok(true)]
        );
        assert_eq!(
            add_all(&mut ns, &["a", "b", "c", "d"]),
            [Ok(false), Ok(false), Ok(false), Err(BloomError::Full)]
        );
        let want = BloomInfo {
            capacity: 3,
            size: 104,
            filters: 1,
            items: 3,
            expansion: None,
        };
        assert_eq!(ns.info(), want);
        assert_eq!(ns.growth(), DEFAULT_EXPANSION);
    }

    #[test]
    fn add_examples() {
        let mut bf = reserve(0.01, 1000);
        assert_eq!(add_all(&mut bf, &["item1", "item1"]), [Ok(true), Ok(false)]);
        let mut bf = reserve(0.01, 1000);
        assert_eq!(
            add_all(&mut bf, &["item1", "item2", "item2"]),
            [Ok(true), Ok(true), Ok(false)]
        );
        assert!(bf.contains(b"item1") && bf.contains(b"item2") && !bf.contains(b"item3"));
        let mut bf = reserve(0.01, 100);
        assert_eq!(
            add_all(&mut bf, &["foo", "bar", "baz"]),
            [Ok(true), Ok(true), Ok(true)]
        );
        assert_eq!(
            add_all(&mut bf, &["foo", "new1", "bar"]),
            [Ok(false), Ok(true), Ok(false)]
        );
        assert!(!bf.contains(b"nonexist"));

        let mut bf = reserve(0.001, 50000);
        assert_eq!(bf.insert(b"foo"), Ok(true));
        assert_eq!(shape(&bf), [(98880, 791040, 11, 50000, 1, 0.0005)]);
        assert_eq!(
            add_all(&mut bf, &["foo", "bar", "baz"]),
            [Ok(false), Ok(true), Ok(true)]
        );
    }

    #[test]
    fn creation_errors_and_memory_budget() {
        assert_eq!(
            ScalableBloomFilter::new(0, 0.01, 2, false),
            Err(BloomError::InvalidParameters)
        );
        assert_eq!(
            ScalableBloomFilter::new(1, 1.0, 2, false),
            Err(BloomError::InvalidParameters)
        );
        assert_eq!(
            ScalableBloomFilter::new(1, 0.0, 2, false),
            Err(BloomError::InvalidParameters)
        );
        assert_eq!(
            ScalableBloomFilter::with_options(1, 0.01, 2, 16, BloomLimits::DEFAULT),
            Err(BloomError::InvalidParameters)
        );
        // test_issue178's filter is 1,132,420,232 bytes: past the default budget.
        assert_eq!(
            ScalableBloomFilter::new(300_000_000, 0.000001, 2, false),
            Err(BloomError::InsufficientMemory {
                requested: 1_132_420_232,
                limit: DEFAULT_MAX_BYTES as u64
            })
        );
        assert_eq!(
            ScalableBloomFilter::new(u64::MAX, 0.01, 2, false),
            Err(BloomError::InvalidParameters)
        );
        // Growth stops at the budget instead of allocating, and the filter stays usable.
        let limits = BloomLimits { max_bytes: 1000 };
        let mut bf = ScalableBloomFilter::with_limits(10, 0.01, 2, false, limits).expect("ok");
        let mut failure = None;
        for i in 0..1000u32 {
            if let Err(e) = bf.insert(&i.to_le_bytes()) {
                failure = Some(e);
                break;
            }
        }
        assert!(matches!(
            failure,
            Some(BloomError::CannotGrow(GrowthFailure::MemoryLimit {
                limit: 1000,
                ..
            }))
        ));
        assert!(bf.memory_usage() <= 1000);
        let (filters, items) = (bf.links().len(), bf.card());
        assert!(bf.insert(b"another").is_err());
        assert_eq!((bf.links().len(), bf.card()), (filters, items));
        // Zero expansion: the next link would have capacity 0.
        let mut bf = ScalableBloomFilter::new(1, 0.01, 0, false).expect("ok");
        assert_eq!(bf.insert(b"a"), Ok(true));
        assert_eq!(
            bf.insert(b"b"),
            Err(BloomError::CannotGrow(GrowthFailure::InvalidParameters))
        );
    }

    #[test]
    fn error_texts() {
        let table = [
            (BloomError::InvalidParameters, "ERR could not create filter"),
            (
                BloomError::InsufficientMemory {
                    requested: 1,
                    limit: 0,
                },
                "ERR Insufficient memory to create filter",
            ),
            (BloomError::Full, "ERR non scaling filter is full"),
            (
                BloomError::CannotGrow(GrowthFailure::OutOfMemory),
                "ERR problem inserting into filter",
            ),
            (
                BloomError::BadData(BadData::Options),
                "ERR received bad data",
            ),
            (
                BloomError::InvalidOffset,
                "ERR invalid offset - no link found",
            ),
            (
                BloomError::ChunkTooBig,
                "ERR invalid chunk - Too big for current filter",
            ),
        ];
        for (error, text) in table {
            assert_eq!(error.to_string(), text);
        }
        assert!(error_rate_in_range(0.5) && !error_rate_in_range(0.0) && !error_rate_in_range(1.0));
        assert!(!error_rate_in_range(f64::NAN));
    }

    /// A valid one-link header, for mutation.
    fn header_of(error: f64, capacity: u64) -> Vec<u8> {
        reserve(error, capacity).header_chunk()
    }

    #[test]
    fn header_validation() {
        let load =
            |h: &[u8]| ScalableBloomFilter::from_header_chunk(h, BloomLimits::DEFAULT).map(|_| ());
        let bad = |d| Err(BloomError::BadData(d));
        let good = header_of(0.01, 100);
        assert_eq!(load(&good), Ok(()));
        assert_eq!(load(&good[..19]), bad(BadData::HeaderLength));
        assert_eq!(load(&good[..72]), bad(BadData::HeaderLength));
        let mut long = good.clone();
        long.push(0);
        assert_eq!(load(&long), bad(BadData::HeaderLength));
        let patch = |at: usize, bytes: &[u8]| {
            let mut h = good.clone();
            h[at..at + bytes.len()].copy_from_slice(bytes);
            h
        };
        assert_eq!(
            load(&patch(8, &0u32.to_le_bytes())),
            bad(BadData::NoFilters)
        );
        assert_eq!(
            load(&patch(8, &u32::MAX.to_le_bytes())),
            bad(BadData::HeaderLength)
        );
        // test_scandump_invalid_header: options bytes set to 0xFF.
        assert_eq!(load(&patch(12, &[0xff; 4])), bad(BadData::Options));
        assert_eq!(
            load(&patch(0, &1u64.to_le_bytes())),
            bad(BadData::ItemCount)
        );
        let link = BadData::ErrorRate { link: 0 };
        for e in [0.0, 1.0, -0.5, f64::NAN, f64::INFINITY] {
            assert_eq!(load(&patch(44, &e.to_le_bytes())), bad(link));
        }
        assert_eq!(
            load(&patch(72, &[64])),
            bad(BadData::PowerOfTwo { link: 0 })
        );
        assert_eq!(
            load(&patch(72, &[11])),
            bad(BadData::PowerOfTwo { link: 0 })
        );
        assert_eq!(load(&patch(72, &[10])), Ok(()));
        assert_eq!(
            load(&patch(28, &1151u64.to_le_bytes())),
            bad(BadData::Bits { link: 0 })
        );
        assert_eq!(
            load(&patch(28, &0u64.to_le_bytes())),
            bad(BadData::Bits { link: 0 })
        );
        let h = patch(20, &(1u64 << 61).to_le_bytes());
        assert_eq!(load(&h), bad(BadData::Bits { link: 0 }));
        for bpe in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                load(&patch(52, &bpe.to_le_bytes())),
                bad(BadData::BitsPerEntry { link: 0 })
            );
        }
        assert_eq!(
            load(&patch(60, &9u32.to_le_bytes())),
            bad(BadData::Hashes { link: 0 })
        );
        // A bpe that passes RedisBloom's check but asks for a million probes per item.
        let mut h = patch(52, &1.5e6f64.to_le_bytes());
        h[60..64].copy_from_slice(&1_039_721u32.to_le_bytes());
        assert_eq!(load(&h), bad(BadData::Hashes { link: 0 }));
        // 1 GiB of bits: consistent, but past the budget; nothing is allocated.
        let mut h = patch(20, &(1u64 << 30).to_le_bytes());
        h[28..36].copy_from_slice(&(1u64 << 33).to_le_bytes());
        let limit = DEFAULT_MAX_BYTES as u64;
        let requested = (1 << 30) + 96;
        assert_eq!(load(&h), bad(BadData::MemoryLimit { requested, limit }));
        // The budget bounds the whole filter, overheads included.
        let mut h = patch(20, &(1u64 << 20).to_le_bytes());
        h[28..36].copy_from_slice(&(1u64 << 23).to_le_bytes());
        let requested = (1 << 20) + 96;
        let with =
            |max_bytes| ScalableBloomFilter::from_header_chunk(&h, BloomLimits { max_bytes });
        assert_eq!(
            with(requested as usize - 1).map(|f| f.memory_usage()),
            Err(BloomError::BadData(BadData::MemoryLimit {
                requested,
                limit: requested - 1
            }))
        );
        assert_eq!(
            with(requested as usize).map(|f| f.memory_usage()),
            Ok(requested)
        );
    }

    #[test]
    fn arbitrary_offset_header() {
        // test_arbitrary_offset: a hand-made header RedisBloom accepts.
        let n = 0x14874ddf31811u64;
        let mut h = Vec::new();
        h.extend_from_slice(&n.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&1u64.to_le_bytes());
        h.extend_from_slice(&8u64.to_le_bytes());
        h.extend_from_slice(&n.to_le_bytes());
        h.extend_from_slice(&0.1f64.to_le_bytes());
        h.extend_from_slice(&0.1f64.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h.extend_from_slice(&n.to_le_bytes());
        h.push(0);
        let mut bf = ScalableBloomFilter::from_header_chunk(&h, BloomLimits::DEFAULT).expect("ok");
        assert!(matches!(
            bf.insert(b"1"),
            Err(BloomError::CannotGrow(GrowthFailure::MemoryLimit { .. }))
        ));
        assert_eq!(
            bf.load_chunk(71_752_852_194_637, b"HELLO"),
            Err(BloomError::InvalidOffset)
        );
        assert_eq!(bf.scandump(1), (2, vec![0]));
        assert_eq!(bf.load_chunk(2, b"\xff"), Ok(()));
        assert!(bf.contains(b"anything"));
    }

    #[test]
    fn load_chunk_errors() {
        let mut bf = reserve(0.01, 100);
        for i in 0..400u32 {
            bf.insert(&i.to_le_bytes()).expect("ok");
        }
        let sizes: Vec<u64> = bf.links().iter().map(|l| l.bytes()).collect();
        assert_eq!(sizes, [144, 312, 696]);
        let bad = Err(BloomError::BadData(BadData::ChunkIterator));
        assert_eq!(bf.load_chunk(0, b""), bad);
        assert_eq!(bf.load_chunk(-5, b"x"), bad);
        assert_eq!(bf.load_chunk(3, b"xxxx"), bad);
        assert_eq!(bf.load_chunk(4, b"xxxx"), Err(BloomError::InvalidOffset));
        assert_eq!(
            bf.load_chunk(1 + 144 + 312 + 696 + 1, b"x"),
            Err(BloomError::InvalidOffset)
        );
        // A chunk may not cross from link 0 into link 1.
        assert_eq!(
            bf.load_chunk(1 + 140 + 8, &[0; 8]),
            Err(BloomError::ChunkTooBig)
        );
        let before = bf.clone();
        assert_eq!(
            bf.load_chunk(1 + 140 + 4, &before.links()[0].to_bytes()[140..]),
            Ok(())
        );
        assert_eq!(bf, before);
        assert_eq!(bf.load_chunk(i64::MAX, b""), Err(BloomError::InvalidOffset));
    }

    #[test]
    fn large_link_dumps_in_16_mib_chunks() {
        let limits = BloomLimits {
            max_bytes: 64 << 20,
        };
        // 12.5M entries at 0.5% is 17,237,632 bytes: one full chunk and a remainder.
        let mut bf =
            ScalableBloomFilter::with_limits(12_500_000, 0.01, 2, false, limits).expect("ok");
        bf.insert(b"item").expect("ok");
        let bytes = bf.links()[0].bytes();
        assert!(bytes > MAX_SCANDUMP_CHUNK as u64);
        let dump = dump_all(&bf);
        assert_eq!(dump.len(), 3);
        assert_eq!(dump[1].1.len(), MAX_SCANDUMP_CHUNK);
        assert_eq!(dump[1].0, 1 + MAX_SCANDUMP_CHUNK as i64);
        assert_eq!(dump[2].0, 1 + bytes as i64);
        assert_eq!(load_all(&dump, limits), bf);
    }

    #[test]
    fn serde_round_trip_validates() {
        let mut bf = reserve(0.01, 10);
        for i in 0..50u32 {
            bf.insert(&i.to_le_bytes()).expect("ok");
        }
        let json = serde_json::to_string(&bf).expect("ser");
        let back: ScalableBloomFilter = serde_json::from_str(&json).expect("de");
        assert_eq!(back, bf);
        let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
        value["header"][12] = serde_json::json!(0xff);
        let err = serde_json::from_value::<ScalableBloomFilter>(value).expect_err("options");
        assert!(err.to_string().contains("ERR received bad data"));
        let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
        value["arrays"][1] = serde_json::json!([1, 2, 3]);
        assert!(serde_json::from_value::<ScalableBloomFilter>(value).is_err());
        let mut value: serde_json::Value = serde_json::from_str(&json).expect("json");
        value["arrays"] = serde_json::json!([]);
        assert!(serde_json::from_value::<ScalableBloomFilter>(value).is_err());
    }

    /// Capacity 1000 grown to 10,000 items (4 links); FP rate over 1,000,000 absent items.
    /// Returns (measured, predicted from the links' fill).
    fn fp_rate(error: f64, seed: u64) -> (f64, f64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut bf = reserve(error, 1000);
        // Present items start with 0, absent ones with 1, so no absent item was inserted.
        let mut item = [0u8; 9];
        for _ in 0..10_000 {
            rng.fill_bytes(&mut item[1..]);
            bf.insert(&item).expect("grows");
        }
        assert_eq!(bf.links().len(), 4);
        let trials = 1_000_000u32;
        item[0] = 1;
        let mut hits = 0u32;
        for _ in 0..trials {
            rng.fill_bytes(&mut item[1..]);
            hits += u32::from(bf.contains(&item));
        }
        // A link with m bits, k hashes and n items answers yes to a random absent item with
        // probability (1 - e^(-kn/m))^k; the chain misses only if every link does.
        let miss: f64 = bf
            .links()
            .iter()
            .map(|l| {
                let (k, n, m) = (l.hashes() as f64, l.size() as f64, l.bits() as f64);
                1.0 - (1.0 - (-k * n / m).exp()).powf(k)
            })
            .product();
        (hits as f64 / trials as f64, 1.0 - miss)
    }

    // Tolerances. The seeds are fixed, so these tests are deterministic; the bounds say how far
    // another seed may move them. Three full links contribute about e/2 + e/4 + e/8, so the
    // prediction is about 0.86 e. The query sampling error is small (sigma 0.009 e at 1%, 0.029 e
    // at 0.1%), but the filter's own fill varies with the inserted items: over seeds 10..30
    // the measured rate ranged 0.842-0.925 e at 1% and 0.862-0.997 e at 0.1%, running up to
    // 16% above the prediction (the formula ignores that variance). Hence: at or under e,
    // which is the contract, and within 25% of the prediction, which catches a broken probe
    // sequence or a mis-sized link.

    #[test]
    fn fp_rate_one_percent() {
        let (measured, predicted) = fp_rate(0.01, 1);
        assert!(measured <= 0.01, "measured {measured}");
        assert!(
            (measured / predicted - 1.0).abs() <= 0.25,
            "{measured} vs {predicted}"
        );
    }

    #[test]
    fn fp_rate_one_per_mille() {
        let (measured, predicted) = fp_rate(0.001, 2);
        assert!(measured <= 0.001, "measured {measured}");
        assert!(
            (measured / predicted - 1.0).abs() <= 0.25,
            "{measured} vs {predicted}"
        );
    }

    #[test]
    fn fuzz_loadchunk_corpus() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for _ in 0..100 {
            let len = rng.gen_range(0..400);
            let mut data = vec![0u8; len];
            rng.fill_bytes(&mut data);
            inputs.push(data);
        }
        for case in 0..300 {
            let options = [
                COMMAND_OPTIONS,
                COMMAND_OPTIONS | OPT_NO_SCALING,
                OPT_NOROUND,
                0,
                OPT_ENTS_IS_BITS,
            ][case % 5];
            // With ENTS_IS_BITS the capacity is a bit exponent.
            let capacity = rng.gen_range(1..if options == OPT_ENTS_IS_BITS { 12 } else { 40 });
            let error = rng.gen_range(0.001..0.5);
            let expansion = rng.gen_range(0..4);
            let mut bf = ScalableBloomFilter::with_options(
                capacity,
                error,
                expansion,
                options,
                BloomLimits::DEFAULT,
            )
            .expect("valid");
            for _ in 0..rng.gen_range(0..200) {
                let _ = bf.insert(&rng.gen::<u32>().to_le_bytes());
            }
            let dump = dump_all(&bf);
            let mut data = (dump[0].1.len() as u16).to_le_bytes().to_vec();
            data.extend_from_slice(&dump[0].1);
            for (iter, chunk) in &dump[1..] {
                data.extend_from_slice(&iter.to_le_bytes());
                data.extend_from_slice(&(chunk.len() as u16).to_le_bytes());
                data.extend_from_slice(chunk);
            }
            fuzz_loadchunk(&data);
            for _ in 0..rng.gen_range(1..6) {
                let at = rng.gen_range(0..data.len());
                data[at] ^= 1 << rng.gen_range(0..8);
            }
            if case % 3 == 0 {
                let at = rng.gen_range(0..data.len());
                data.truncate(at);
            }
            inputs.push(data);
        }
        for data in &inputs {
            fuzz_loadchunk(data);
        }
    }

    #[test]
    fn contract() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ScalableBloomFilter>();
        send_sync::<BloomError>();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn no_false_negatives(
            items in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..400),
            capacity in 1u64..50,
            expansion in 1u32..4,
            error in 0.001f64..0.5,
        ) {
            let mut bf = ScalableBloomFilter::new(capacity, error, expansion, false).expect("ok");
            for item in &items {
                let before = bf.contains(item);
                prop_assert_eq!(bf.insert(item), Ok(!before));
            }
            for item in &items {
                prop_assert!(bf.contains(item));
            }
            let sum: u64 = bf.links().iter().map(|l| l.size()).sum();
            prop_assert_eq!(sum, bf.card());
        }

        #[test]
        fn scandump_load_round_trip(
            items in prop::collection::vec(any::<u32>(), 0..300),
            capacity in 1u64..64,
            nonscaling: bool,
            probes in prop::collection::vec(any::<u32>(), 200),
        ) {
            let mut bf = ScalableBloomFilter::new(capacity, 0.05, 2, nonscaling).expect("ok");
            for item in &items {
                let _ = bf.insert(&item.to_le_bytes());
            }
            let copy = load_all(&dump_all(&bf), BloomLimits::DEFAULT);
            for item in items.iter().chain(&probes) {
                prop_assert_eq!(copy.contains(&item.to_le_bytes()), bf.contains(&item.to_le_bytes()));
            }
            prop_assert_eq!(copy.info(), bf.info());
            prop_assert_eq!(&copy, &bf);
        }
    }

    /// The in-memory layout (see the module doc's Representation): a regression here costs
    /// every Bloom key in the store.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn layout_sizes() {
        use std::mem::size_of;
        // Box<[u64]> (16) + reciprocal, entries, size, error, bpe (40) + hashes, n2, slack (6).
        assert_eq!(size_of::<BloomFilter>(), 64);
        // SmallVec with one inline link (64 + 8) + options, growth (8) + limits (8).
        assert_eq!(size_of::<ScalableBloomFilter>(), 88);
        // BF.ADD's default filter: one inline link, so the heap holds the boxed chain and the
        // 144-byte array and nothing else.
        let mut bf = ScalableBloomFilter::new(
            DEFAULT_CAPACITY,
            DEFAULT_ERROR_RATE,
            DEFAULT_EXPANSION,
            false,
        )
        .expect("valid");
        assert!(!bf.links.spilled());
        assert_eq!(bf.links[0].words.len() * 8, 144);
        assert_eq!((bf.links[0].bytes(), bf.links[0].bits()), (144, 1152));
        let mut i = 0u32;
        while bf.links().len() == 1 {
            bf.insert(&i.to_le_bytes()).expect("grows");
            i += 1;
        }
        assert!(bf.links.spilled());
    }
}
