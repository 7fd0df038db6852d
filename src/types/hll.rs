//! Redis 7.0's HyperLogLog: the value behind `PFADD`, `PFCOUNT` and `PFMERGE`, byte for byte.
//!
//! # Design
//!
//! - **The representation is the Redis string.** A sparse value is kept as the exact bytes
//!   Redis stores (header and opcodes in one `Vec<u8>`), a dense value as the exact 12304-byte
//!   string with 6-bit packed registers. `as_bytes` is therefore free (a `GET` of an HLL key
//!   costs nothing extra, except once after deferred updates: see below), and bytes move
//!   between sketchstore and Redis in both directions.
//!   Cost: a dense register read or write is a shift-and-mask over two bytes instead of a byte
//!   load. Most of a dense `add` is the hash, so unpacked `u8` registers (16384 bytes, +33 %)
//!   would buy nothing measurable and would cost a repack of 16384 registers on every `GET`
//!   (README, "Performance", has the measured times).
//! - **Dense values carry an estimator summary** (16 bytes beside the header: the number of
//!   zero registers, the exact integer `Σ 2^(38−v)` over the other registers, and the
//!   number of registers above 38), kept up to date by every register change. While no
//!   register is above 38 (some 2^52 elements), Redis's estimator computes exactly
//!   `sum·2^−38` before its σ correction (`horner_exact` proves it), so `PFCOUNT` right
//!   after a changing `PFADD` is one division and a memoized σ instead of Redis's rescan of
//!   16384 registers; above 38 the count rescans. A dense value read from bytes builds its
//!   summary on its first count, so loading a value only to add to it costs nothing extra.
//! - **Sparse values defer their updates.** Redis's sparse update moves the tail of the
//!   string on nearly every new register. A sparse value that covers exactly 16384
//!   registers logs `(register, value)` instead, with the register histogram and, once 64
//!   updates are logged, a nibble per register (0, the logged value, or where to find it;
//!   before that a lookup searches the short log, then walks the bytes), so `PFADD` answers
//!   whether a register changed and `PFCOUNT` counts without the bytes. The log is applied
//!   in arrival order with Redis's update and promotion check when the bytes are read
//!   (`GET`, `STRLEN`, `DUMP`, persistence, `PFDEBUG`, `PFMERGE`; a read through `&self` keeps
//!   the result beside the log until the next change) or when 2048 updates accumulate:
//!   the bytes are those of the update-by-update walk, because they are made by it.
//!   Cost: up to about 8.3 KB beside a value while it is being written (a few hundred
//!   bytes until the nibbles are made); values under 256 bytes drop it all when applied.
//! - **Small sparse values carry nothing beside their bytes** once read, so a 20-item HLL
//!   stays about 80 bytes (plus `Vec` slack), as in Redis; walking it costs a few hundred
//!   nanoseconds. While one is being written it carries its log and an index (below).
//!   From 128 bytes on, a sparse value gets a boxed index: an opcode boundary about every
//!   12 opcodes (with its first register and the length of its predecessor) and the
//!   register histogram. `PFADD` then walks from the nearest boundary instead of the first
//!   opcode (a walk of about a dozen opcodes instead of up to the whole 3000-byte value) and
//!   `PFCOUNT` is the estimator alone. The index is maintained locally,
//!   never rebuilt: an update shifts the boundaries after the bytes it rewrote, replaces the
//!   ones inside by the next boundary after them (a walk of a few opcodes), and a walk that
//!   got long adds boundaries along the gap it walked. Cost: about 1.4 KB beside a
//!   3000-byte value. The index is derived data: the bytes are the ones Redis's walk
//!   produces (tested against the plain walk).
//! - **`PFMERGE` into a sparse value resumes its walk.** Redis sets the merged registers in
//!   ascending order, each update walking from the first opcode (quadratic). Nothing before
//!   an update's merge window changes again, so each walk here resumes from there: the same
//!   bytes in linear instead of quadratic time.
//! - **The sparse update is Redis's algorithm, not a canonical encoder.** The sparse bytes
//!   depend on the order registers were set (zero runs are never coalesced, adjacent equal
//!   values merge only in a five-opcode window), so byte parity needs the same splits, the
//!   same merge window and the same promotion points.
//! - **Validation is lazy, where Redis's is.** [`HyperLogLog::from_redis_bytes`] does exactly
//!   Redis's type check (`WRONGTYPE`); a sparse body is only judged by the operation that
//!   reads it, giving `INVALIDOBJ`. `PFADD` walks only up to the opcode covering its register
//!   and never looks further; every other reader (`PFCOUNT`, `PFMERGE`, promotion to dense)
//!   wants opcodes covering exactly 16384 registers. The difference is observable (a sparse
//!   value covering 16385 registers takes a `PFADD` but fails `PFCOUNT`), so the type keeps
//!   unchecked sparse bytes and `add`/`count` return `Result`. Cost: they are fallible even
//!   though values this module builds never fail.
//! - **Redis as deployed, CVE-2025-32023 fix included.** The 7.0.15 tag stops decoding at a
//!   VAL that would run past register 16384 and accepts the value if 16384 registers were
//!   covered by then (a trailing VAL after a full cover passes `PFMERGE`). The patched 7.0.15
//!   that distributions ship (Debian's `7.0.15-1~deb12u10`, the parity reference) rejects
//!   it, which gives the single rule above.
//! - **Every walk is bounded by the input.** Each opcode step advances at least one byte,
//!   register positions are `u64` (a 512 MB string of `XZERO`s reaches about 2^42, where the
//!   C code's `int` wraps: CVE-2019-10192 / CVE-2025-32023), and register writes are checked
//!   against 16384 before they happen. An `XZERO` cut off by the end of the string reads its
//!   missing second byte where Redis reads it: the byte past the end of its buffer, the
//!   terminator 0 unless a split of that very XZERO left a byte there (kept as `past_end`).
//!
//! # Representation
//!
//! Header, both encodings (16 bytes):
//!
//! ```text
//!  0      4     5      8                                15
//! +------+-----+------+-----------------------------------+
//! | HYLL | enc | 0 0 0| cardinality, u64 little-endian    |   enc: 0 dense, 1 sparse
//! +------+-----+------+-----------------------------------+
//!                      bit 7 of byte 15 set = cache stale; "invalidate" sets only that bit
//! ```
//!
//! Dense body: 16384 registers of 6 bits in a little-endian bit stream, 12288 bytes. Register
//! `i` is bits `6i .. 6i+5`, its least significant bit first; four registers share 3 bytes:
//!
//! ```text
//!  byte 0             byte 1             byte 2
//! |r1:1..0|r0:5..0|  |r2:3..0|r1:5..2|  |r3:5..0|r2:5..4|
//! ```
//!
//! Sparse body: opcodes that cover the registers left to right.
//!
//! ```text
//! 00xxxxxx            ZERO   xxxxxx+1 (1..64) registers are 0
//! 01xxxxxx yyyyyyyy   XZERO  (xxxxxx<<8 | yyyyyyyy)+1 (1..16384) registers are 0
//! 1vvvvvxx            VAL    xx+1 (1..4) registers hold vvvvv+1 (1..32)
//! ```
//!
//! A sparse value becomes dense when a register needs a value above 32, or when a split would
//! make the whole string (header included) longer than `sparse_max_bytes`
//! (`hll-sparse-max-bytes`, 3000 by default). It never goes back.
//!
//! # Worked example
//!
//! `PFADD h a b c`: `a` hashes to `53d2470a9b43b1a7`; its low 14 bits give register 12711 and
//! the rest, shifted right by 14, has one trailing zero, so the register becomes 2. `b` sets
//! register 15780 to 1, `c` register 8436 to 1. The empty value `7f ff` (XZERO 16384) is split
//! three times and `h` holds 27 bytes:
//!
//! ```text
//! 48594c4c 01 000000 0000000000000080   header: sparse, card 0, stale
//! 60 f3   XZERO 8436      80   VAL 1 x1       50 b1   XZERO 4274
//! 84      VAL 2 x1        4b fb XZERO 3068    80      VAL 1 x1      42 5a  XZERO 603
//! ```
//!
//! `PFCOUNT h` computes 3 and stores it: bytes 8..15 become `03 00 00 00 00 00 00 00`.
//!
//! # Accuracy
//!
//! The estimator is Ertl's improved estimator, as in Redis since 5.0; with m = 16384 its
//! standard error is about 1.04/sqrt(m) = 0.81 %. `tests::accuracy_within_bound` (seeded,
//! part of every `cargo test`, about 3 s in a debug build) fills four independent sketches
//! with 1,000,000 uniform 64-bit item hashes each and checks the count every 4999 items:
//! measured root-mean-square relative error 1.08 % pooled over the 800 checkpoints (1.58 %,
//! 1.08 %, 0.86 % and 0.51 % per sketch: one sketch's checkpoints are strongly correlated),
//! worst 2.3 %; the test requires every checkpoint within 3 % and the pooled RMS within
//! 1.2 %.
//!
//! # References
//!
//! - Redis 7.0.15 `src/hyperloglog.c` and `tests/unit/hyperloglog.tcl` (facts only).
//! - docs/redis-behaviours.md, "HyperLogLog: sparse, dense, and the exact count", recorded
//!   from a real server.
//! - O. Ertl, "New cardinality estimation algorithms for HyperLogLog sketches",
//!   arXiv:1702.01284 (the `sigma`/`tau` estimator).
//! - P. Flajolet et al., "HyperLogLog: the analysis of a near-optimal cardinality estimation
//!   algorithm", 2007.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use smallvec::SmallVec;

use super::murmur::murmurhash64a;

/// Number of registers (2^P with P = 14).
pub const REGISTERS: usize = 1 << P;
/// Length of the header shared by both encodings.
pub const HEADER_LEN: usize = 16;
/// Length of a dense value: header plus 16384 six-bit registers.
pub const DENSE_LEN: usize = HEADER_LEN + REGISTERS * BITS / 8;
/// Redis's default `hll-sparse-max-bytes`.
pub const DEFAULT_SPARSE_MAX_BYTES: usize = 3000;

const P: u32 = 14;
const BITS: usize = 6;
const REGISTER_MAX: u8 = 63;
/// Run lengths are taken from the 50 hash bits above the index; 51 is the largest count.
const Q: usize = 64 - P as usize;
const SEED: u64 = 0xadc8_3b19;
const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;
const STALE_BIT: u8 = 0x80;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: u32 = 4;
const ZERO_MAX_LEN: u64 = 64;
/// Redis writes this literal (0.5 / ln 2); a computed value may differ in the last bit.
#[allow(clippy::excessive_precision)]
const ALPHA_INF: f64 = 0.721_347_520_444_481_703_680;
/// What Redis's `llroundl` yields for an estimate that does not fit `i64` (infinite when all
/// registers are >= 52). Read as `i64` it is `i64::MIN`, Redis's reply in that case.
const OUT_OF_RANGE: u64 = 1 << 63;

/// The empty value `PFADD` and `PFMERGE` create: sparse, one XZERO of 16384, cache stale.
const EMPTY: [u8; 18] = [
    b'H', b'Y', b'L', b'L', ENC_SPARSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, STALE_BIT, 0x7f, 0xff,
];

/// Why a string cannot be used as a HyperLogLog. `Display` is Redis's error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HllError {
    /// Fails Redis's type check: shorter than 16 bytes, magic not `HYLL`, encoding byte
    /// above 1, or dense with a length other than 12304.
    NotHll,
    /// A sparse body that the reading operation cannot decode (Redis's `INVALIDOBJ`).
    Corrupt,
}

impl fmt::Display for HllError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HllError::NotHll => "WRONGTYPE Key is not a valid HyperLogLog string value.",
            HllError::Corrupt => "INVALIDOBJ Corrupted HLL object detected",
        })
    }
}

impl std::error::Error for HllError {}

/// The two stored encodings (`PFDEBUG ENCODING`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HllEncoding {
    /// Run-length opcodes (ZERO, XZERO, VAL), for values with few non-zero registers.
    Sparse,
    /// 16384 packed 6-bit registers.
    Dense,
}

/// A Redis 7.0 HyperLogLog value. See the module documentation.
#[derive(Clone)]
pub struct HyperLogLog {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Sparse(Sparse),
    Dense(Box<Dense>),
}

#[derive(Clone)]
struct Sparse {
    /// The whole Redis string; at least 16 bytes, encoding byte 1. The body is unchecked.
    bytes: Vec<u8>,
    /// The byte Redis's buffer holds just past the string, which it reads as the second byte
    /// of an XZERO cut off by the end. Normally the terminator 0; a split of such an XZERO
    /// leaves the sequence's dropped last byte there until the length changes again.
    past_end: u8,
    /// Updates spliced into the bytes since the value was last counted (saturating at
    /// [`DEFER_AFTER`]): deferring starts only after a run of updates without a count.
    adds: u8,
    /// Derived from `bytes`, kept only for values of at least `AUX_MIN_LEN` bytes.
    aux: Option<Box<SparseAux>>,
}

impl Sparse {
    fn new(bytes: Vec<u8>) -> Sparse {
        Sparse {
            bytes,
            past_end: 0,
            adds: 0,
            aux: None,
        }
    }

    /// Builds the index if the value is large enough to profit and has none. Not while a
    /// byte past the end is live: the index assumes the terminator.
    #[inline]
    fn refresh_aux(&mut self) {
        if self.aux.is_none() && self.bytes.len() >= AUX_MIN_LEN && self.past_end == 0 {
            self.aux = SparseAux::build(&self.bytes);
        }
    }
}

/// Smallest sparse value that keeps what deferring needs (see [`Pending`]) once its updates
/// are applied. Smaller values defer too (see [`DEFER_AFTER`]), but go back to their bytes
/// alone when read, so their memory is Redis's except while they are being written.
const PENDING_MIN_LEN: usize = 256;
/// Updates in a row, with no count between them, that a sparse value splices into its bytes
/// at once (as Redis does) before it starts deferring. A value that is counted after every
/// update or two (a session's pages: PFADD then PFCOUNT on each view) never defers: it gains
/// nothing from it, and since a count does not drop the side data, it would carry about 450
/// bytes of it beside its 80 for good. A run of adds (a bulk load) defers from its third.
const DEFER_AFTER: u8 = 2;
/// Most updates a value defers; the next one applies them all.
const PENDING_MAX: usize = 2048;
/// Deferred updates that a value logs before it makes [`Pending::regs`].
const LITE_MAX: usize = 64;

/// The nibble of register `index` (below 16384) in [`Pending::regs`].
#[inline]
fn nibble(regs: &[u8; NIBBLE_BYTES], index: usize) -> u8 {
    (regs[(index >> 1) & (NIBBLE_BYTES - 1)] >> ((index & 1) * 4)) & 0xf
}

/// Sets the nibble of register `index` (below 16384) to `nib` (at most 15).
#[inline]
fn set_nibble(regs: &mut [u8; NIBBLE_BYTES], index: usize, nib: u8) {
    let shift = (index & 1) * 4;
    let b = &mut regs[(index >> 1) & (NIBBLE_BYTES - 1)];
    *b = (*b & !(0xf << shift)) | (nib << shift);
}

/// The nibble of a register a deferred update raised to `count`.
#[inline]
fn nibble_of(count: u8) -> u8 {
    if count < NIB_IN_BYTES {
        count
    } else {
        NIB_IN_LOG
    }
}

/// Bytes of [`Pending::regs`]: one nibble per register.
const NIBBLE_BYTES: usize = REGISTERS / 2;
/// [`Pending::regs`]: the register is not 0 and its value is in the bytes (no deferred update).
const NIB_IN_BYTES: u8 = 14;
/// [`Pending::regs`]: a deferred update raised the register to `NIB_IN_BYTES` or more (one
/// item in 8192 sets a value that high); the log has the value.
const NIB_IN_LOG: u8 = 15;

/// The updates of a large sparse value that changed a register but are not yet in its
/// bytes, and what `PFADD` and `PFCOUNT` need to answer without them.
///
/// A sparse update moves the tail of the string and maintains the index; deferred, it is a
/// push. The updates are applied in arrival order, with Redis's algorithm and promotion
/// check, when the bytes are read (`GET`, `DUMP`, persistence, `PFDEBUG`, `PFMERGE`...) or
/// when `PENDING_MAX` accumulate, so the bytes are the ones Redis's update-by-update
/// walk produces: the sparse encoding depends on the order of updates, so they are
/// replayed rather than re-encoded. Cost: about 100 bytes, 4 bytes per deferred update,
/// and 8 KB of nibbles once `LITE_MAX` updates were logged.
#[derive(Clone)]
struct Pending {
    /// One nibble per register (register `i` in byte `i / 2`, low nibble first), deferred
    /// updates included: 0 the register is 0; 1..=13 its value, set by a deferred update;
    /// `NIB_IN_BYTES` not 0, value in the bytes; `NIB_IN_LOG` value in the log. So `PFADD`
    /// finds the current value of a register in one load, except for registers set before
    /// deferring began (a walk from the nearest mark) and values of 14 and up (a scan of
    /// the log). An earlier layout, a bitmap of logged registers whose value a search of
    /// the log found, spent most of a deferred `PFADD` in that search once the log was long.
    ///
    /// Made only once `LITE_MAX` updates are logged: until then a lookup searches the short
    /// log, then walks the bytes, so a small value being written carries a few hundred bytes
    /// beside it rather than 8 KB.
    regs: Option<Box<[u8; NIBBLE_BYTES]>>,
    /// Deferred updates in arrival order: register << 8 | value (1..=32).
    log: Vec<u32>,
    /// The `hll-sparse-max-bytes` the deferred updates came with.
    limit: usize,
    /// The estimator's summary of the registers, deferred updates included (no register
    /// of a sparse value is above 32, so `stats.high` is 0 and the summary alone gives
    /// Redis's estimate): `PFCOUNT` costs one division and a memoized σ.
    stats: Stats,
    /// The value with the deferred updates applied, made by the first read through `&self`
    /// and dropped by the next change.
    view: std::sync::OnceLock<Box<Repr>>,
}

impl Pending {
    /// Starts deferring updates of `s`, which must cover exactly 16384 registers with
    /// complete opcodes (else `None`: its updates stay immediate, so errors stay where
    /// Redis reports them).
    fn start(s: &Sparse, limit: usize) -> Option<Box<Pending>> {
        if s.past_end != 0 {
            return None;
        }
        let mut p = Box::new(Pending {
            regs: None,
            log: Vec::new(),
            limit,
            stats: Stats::default(),
            view: std::sync::OnceLock::new(),
        });
        let b = &s.bytes;
        let (mut at, mut first) = (HEADER_LEN, 0u64);
        let mut hist = [0u32; 64];
        while let Some(&byte) = b.get(at) {
            let (run, len, value) = op_span(b, 0, at, byte);
            if at + len > b.len() || first + u64::from(run) > REGISTERS as u64 {
                return None;
            }
            hist[usize::from(value & REGISTER_MAX)] += run;
            first += u64::from(run);
            at += len;
        }
        p.stats = Stats::of(&hist);
        (first == REGISTERS as u64).then_some(p)
    }

    /// The estimate of the registers, deferred updates included.
    #[inline]
    fn estimate(&self) -> u64 {
        debug_assert_eq!(self.stats.high, 0);
        estimate_from_sum(self.stats.sum, self.stats.zeros)
    }

    /// The current value of register `index` (below 16384), deferred updates included;
    /// `b`, `pos` and `meta` are the bytes and their index.
    #[inline]
    fn value(&self, b: &[u8], pos: &[u32], meta: &[u32], index: usize) -> u8 {
        match &self.regs {
            Some(regs) => match nibble(regs, index) {
                NIB_IN_BYTES => sparse_get(b, pos, meta, index),
                NIB_IN_LOG => self.logged(index),
                nib => nib,
            },
            None => match self.logged(index) {
                0 => sparse_get(b, pos, meta, index),
                v => v,
            },
        }
    }

    /// Logs register `index` going from `old` to `count` (above `old`, at most 32); `b` is
    /// the bytes (for the nibbles, once the log outgrows `LITE_MAX`).
    #[inline]
    fn push(&mut self, b: &[u8], index: usize, old: u8, count: u8) {
        self.log.push((index as u32) << 8 | u32::from(count));
        match &mut self.regs {
            Some(regs) => set_nibble(regs, index, nibble_of(count)),
            None if self.log.len() > LITE_MAX => self.make_regs(b),
            None => {}
        }
        self.stats.raised(old, count);
        if self.view.get().is_some() {
            self.view = std::sync::OnceLock::new();
        }
    }

    /// Builds the nibbles from the bytes `b` (complete opcodes covering 16384 registers,
    /// as [`Pending::start`] checked) and the log.
    #[cold]
    fn make_regs(&mut self, b: &[u8]) {
        let mut regs: Box<[u8; NIBBLE_BYTES]> = Box::new([0; NIBBLE_BYTES]);
        let (mut at, mut first) = (HEADER_LEN, 0usize);
        while let Some(&byte) = b.get(at) {
            let (run, len, value) = op_span(b, 0, at, byte);
            let end = (first + run as usize).min(REGISTERS);
            if value != 0 {
                for i in first..end {
                    set_nibble(&mut regs, i, NIB_IN_BYTES);
                }
            }
            first = end;
            at += len;
        }
        for &e in &self.log {
            set_nibble(&mut regs, (e >> 8) as usize, nibble_of(e as u8));
        }
        self.regs = Some(regs);
    }

    /// Once the log is applied: every non-zero register's value is in the bytes.
    fn all_in_bytes(&mut self) {
        let Some(regs) = &mut self.regs else {
            return;
        };
        for b in regs.iter_mut() {
            let lo = if *b & 0x0f != 0 { NIB_IN_BYTES } else { 0 };
            let hi = if *b & 0xf0 != 0 { NIB_IN_BYTES << 4 } else { 0 };
            *b = lo | hi;
        }
    }

    /// The latest deferred value of register `index`, 0 if the log has none.
    ///
    /// A register's deferred values only rise, so the latest is the largest entry for it:
    /// a branchless maximum over the whole log in eight lanes (used only while the log is
    /// short, or for the rare values of 14 and up; a search from the end that stopped at
    /// the first hit was most of a deferred `PFADD`'s cost with the earlier bitmap layout).
    fn logged(&self, index: usize) -> u8 {
        // Entries are below 2^22 (register < 2^14), so `i32` compares them as `u32` would.
        let key = index as i32;
        let hit = |e: u32| {
            let e = e as i32;
            e & -i32::from(e >> 8 == key)
        };
        let chunks = self.log.chunks_exact(8);
        let mut best = chunks.remainder().iter().fold(0, |m, &e| m.max(hit(e)));
        let mut lanes = [0i32; 8];
        for chunk in chunks {
            for (m, &e) in lanes.iter_mut().zip(chunk) {
                *m = (*m).max(hit(e));
            }
        }
        for m in lanes {
            best = best.max(m);
        }
        best as u8
    }
}

impl Sparse {
    /// `PFADD`'s update deferred: `Some(changed)`, or `None` when it must be applied now
    /// (a value above 32, a different `sparse_max_bytes` than the deferred updates', or a
    /// value that does not qualify).
    #[inline]
    fn defer(&mut self, index: usize, count: u8, limit: usize) -> Option<bool> {
        // The common case first, in few instructions: deferring is under way, same limit.
        if let Some(aux) = self.aux.as_deref_mut() {
            if let Some(p) = aux.pending.as_deref_mut() {
                if p.limit == limit && count <= VAL_MAX_VALUE {
                    let old = p.value(&self.bytes, &aux.pos, &aux.meta, index);
                    if count <= old {
                        return Some(false);
                    }
                    p.push(&self.bytes, index, old, count);
                    self.bytes[15] |= STALE_BIT;
                    return Some(true);
                }
            }
        }
        self.defer_slow(index, count, limit)
    }

    /// [`Sparse::defer`] when deferring has not started or the limit changed.
    #[inline(never)]
    fn defer_slow(&mut self, index: usize, count: u8, limit: usize) -> Option<bool> {
        if count > VAL_MAX_VALUE {
            return None;
        }
        if self.pending().is_none() {
            if self.adds < DEFER_AFTER {
                self.adds += 1;
                return None;
            }
            let p = Pending::start(self, limit)?;
            // Values too small for an index get one while they defer (see `settle`).
            if self.aux.is_none() {
                self.aux = SparseAux::build(&self.bytes);
            }
            self.aux.as_deref_mut()?.pending = Some(p);
        }
        let aux = self.aux.as_deref_mut()?;
        let p = aux.pending.as_deref_mut()?;
        if p.limit != limit {
            if !p.log.is_empty() {
                return None;
            }
            p.limit = limit;
        }
        let old = p.value(&self.bytes, &aux.pos, &aux.meta, index);
        if count <= old {
            return Some(false);
        }
        p.push(&self.bytes, index, old, count);
        self.bytes[15] |= STALE_BIT;
        Some(true)
    }

    /// Whether deferred updates wait to be applied.
    #[inline]
    fn has_pending(&self) -> bool {
        self.pending().is_some_and(|p| !p.log.is_empty())
    }

    #[inline]
    fn pending(&self) -> Option<&Pending> {
        self.aux.as_deref()?.pending.as_deref()
    }

    fn pending_mut(&mut self) -> Option<&mut Pending> {
        self.aux.as_deref_mut()?.pending.as_deref_mut()
    }

    /// The value with the deferred updates applied, leaving `self` as it is.
    fn applied(&self) -> Option<&Repr> {
        let aux = self.aux.as_deref()?;
        let p = aux.pending.as_deref()?;
        if p.log.is_empty() {
            return None;
        }
        Some(p.view.get_or_init(|| {
            let base = Sparse {
                bytes: self.bytes.clone(),
                past_end: 0,
                adds: 0,
                aux: Some(aux.index_only()),
            };
            Box::new(replay(base, &p.log, p.limit))
        }))
    }
}

/// The value of register `index` in the sparse bytes `b` (complete opcodes covering 16384
/// registers), walking from the nearest of the marks `pos`/`meta` (see [`SparseAux`]).
fn sparse_get(b: &[u8], pos: &[u32], meta: &[u32], index: usize) -> u8 {
    let k = meta.partition_point(|&m| (m >> 1) as usize <= index);
    let (mut at, mut first) = match k.checked_sub(1) {
        Some(k) => (
            pos.get(k).map_or(HEADER_LEN, |&p| p as usize),
            u64::from(meta[k] >> 1),
        ),
        None => (HEADER_LEN, 0),
    };
    while let Some(&byte) = b.get(at) {
        let (run, len, value) = op_span(b, 0, at, byte);
        first += u64::from(run);
        if (index as u64) < first {
            return value;
        }
        at += len;
    }
    0
}

/// Applies the deferred updates `log` to `base` (which has none of its own) one by one in
/// arrival order, as they would have been applied when they came: Redis's sparse update,
/// promotion at the update Redis promotes at, the updates after it on the dense registers.
/// The header is `base`'s, which is the current one (the updates' invalidations are in it).
fn replay(mut base: Sparse, log: &[u32], limit: usize) -> Repr {
    let mut header = [0u8; HEADER_LEN];
    header.copy_from_slice(&base.bytes[..HEADER_LEN]);
    base.refresh_aux();
    let mut done = 0;
    for &e in log {
        let (index, count) = ((e >> 8) as usize, e as u8);
        match sparse_set(&mut base, index, count, limit, Cursor::START).0 {
            SparseSet::Unchanged | SparseSet::Changed => done += 1,
            // A deferred value covers exactly 16384 registers with complete opcodes, which
            // updates preserve, so nothing is corrupt here.
            SparseSet::Promote | SparseSet::Corrupt => break,
        }
    }
    let rest = &log[done..];
    if rest.is_empty() {
        base.bytes[..HEADER_LEN].copy_from_slice(&header);
        return Repr::Sparse(base);
    }
    match sparse_to_dense(&base) {
        Ok(mut dense) => {
            for &e in rest {
                dense.raise((e >> 8) as usize, e as u8);
            }
            dense.bytes[..HEADER_LEN].copy_from_slice(&header);
            dense.bytes[4] = ENC_DENSE;
            Repr::Dense(dense)
        }
        Err(_) => Repr::Sparse(base),
    }
}

/// Smallest sparse value that gets a [`SparseAux`]: below it a walk is a few hundred
/// nanoseconds and the index would double the memory. (At 256, the walks of the first 100
/// or so adds to a fresh value were half the time of its first 1000 adds; 128 keeps values
/// of up to about 45 registers, such as a session's, free of it.)
const AUX_MIN_LEN: usize = 128;
/// Opcodes between two marks when the index is built or a long gap is split.
const MARK_EVERY: u32 = 12;
/// A walk from a mark longer than this many bytes (gaps grow as updates insert opcodes
/// and merge marks away) splits the gap it walked: marks every `MARK_EVERY` opcodes.
const SPLIT_WALK: usize = 24;

/// Index of a large sparse value, so that `PFADD` does not walk from the first opcode and
/// `PFCOUNT` does not walk at all. Purely derived: bytes stay exactly Redis's.
///
/// A mark is an opcode boundary (never the first opcode) with its first register and the
/// length of the opcode before it (where the merge window of an update found there starts).
/// An update keeps every mark before its merge window, shifts the marks after the bytes it
/// rewrote by the change of length, and replaces the marks inside by one found by walking
/// the rewritten opcodes (a handful). A walk that got long splits its gap. So the index is
/// maintained locally and never rebuilt once built.
#[derive(Clone)]
struct SparseAux {
    /// Byte offsets of the marked opcodes, ascending (kept apart so shifting them is a
    /// plain vectorizable add).
    pos: Vec<u32>,
    /// Per mark: first register << 1 | 1 if the opcode before it is 2 bytes long.
    meta: Vec<u32>,
    /// Register histogram; valid only when the opcodes cover exactly 16384 registers
    /// (then every count fits: at most 16384).
    hist: [u16; 64],
    hist_ok: bool,
    /// Deferred updates, only for values that cover exactly 16384 registers (in the index,
    /// which a value gets when it starts deferring, so that the value itself stays small;
    /// a value under `AUX_MIN_LEN` bytes drops its index when the updates are applied).
    /// While it holds updates, the bytes are the value before them
    /// except for the header, which is always the current one.
    pending: Option<Box<Pending>>,
}

/// An update of one opcode, as the index needs to follow it (offsets in the new bytes).
struct Update {
    /// Start of the merge window (the opcode before the updated one), unchanged.
    window: usize,
    /// First register of the opcode at `window`.
    window_first: u64,
    /// No byte or opcode boundary after this offset changed, except by the shift `delta`.
    rewritten_to: usize,
    delta: isize,
    old: u8,
    new: u8,
}

impl SparseAux {
    /// Panics unless every mark is an opcode boundary with the right first register and
    /// predecessor, and a valid histogram matches the bytes. For tests and fuzzing.
    #[cfg(any(test, feature = "fuzzing"))]
    fn assert_consistent(&self, s: &[u8], past_end: u8) {
        let mut boundaries = std::collections::HashMap::new();
        let (mut p, mut first, mut prev) = (HEADER_LEN, 0u64, 0usize);
        while let Some(&b) = s.get(p) {
            boundaries.insert(p, (first, prev));
            let (run, len, _) = op_span(s, past_end, p, b);
            first += u64::from(run);
            prev = p;
            p += len;
        }
        assert_eq!(self.pos.len(), self.meta.len());
        assert!(
            self.pos.windows(2).all(|w| w[0] < w[1]),
            "marks out of order"
        );
        for (&mp, &meta) in self.pos.iter().zip(&self.meta) {
            let expected = boundaries.get(&(mp as usize)).copied();
            let mprev = mp as usize - 1 - (meta & 1) as usize;
            assert_eq!(
                expected,
                Some((u64::from(meta >> 1), mprev)),
                "mark at {mp} meta {meta}"
            );
        }
        if self.hist_ok {
            let fresh = SparseAux::build(s);
            assert_eq!(fresh.map(|f| (f.hist_ok, f.hist)), Some((true, self.hist)));
        }
    }

    /// A copy without the deferred updates.
    fn index_only(&self) -> Box<SparseAux> {
        Box::new(SparseAux {
            pos: self.pos.clone(),
            meta: self.meta.clone(),
            hist: self.hist,
            hist_ok: self.hist_ok,
            pending: None,
        })
    }

    fn build(s: &[u8]) -> Option<Box<SparseAux>> {
        if s.len() > u32::MAX as usize {
            return None;
        }
        let mut pos = Vec::with_capacity(s.len() / 16);
        let mut meta = Vec::with_capacity(s.len() / 16);
        let mut hist = [0u64; 64];
        let (mut p, mut first, mut prevlen, mut ops) = (HEADER_LEN, 0u64, 0usize, 0u32);
        while let Some(&b) = s.get(p) {
            if ops == MARK_EVERY {
                ops = 0;
                if first < REGISTERS as u64 {
                    pos.push(p as u32);
                    meta.push((first as u32) << 1 | (prevlen as u32 - 1));
                }
            }
            let (run, len, value) = op_span(s, 0, p, b);
            hist[usize::from(value & REGISTER_MAX)] += u64::from(run);
            first += u64::from(run);
            prevlen = len;
            p += len;
            ops += 1;
        }
        let hist_ok = first == REGISTERS as u64;
        Some(Box::new(SparseAux {
            pos,
            meta,
            hist: hist.map(|c| c as u16),
            hist_ok,
            pending: None,
        }))
    }

    /// The number of marks at or before the opcode covering `index`, and a cursor at the
    /// last of them (the first opcode if none).
    #[inline]
    fn cursor_for(&self, index: u64) -> (usize, Cursor) {
        let i = self.meta.partition_point(|&m| u64::from(m >> 1) <= index);
        let cursor = match i.checked_sub(1) {
            Some(k) => {
                let (p, m) = (self.pos[k] as usize, self.meta[k]);
                Cursor {
                    p,
                    first: u64::from(m >> 1),
                    prev: Some(p - 1 - (m & 1) as usize),
                }
            }
            None => Cursor::START,
        };
        (i, cursor)
    }

    /// Adds marks every `MARK_EVERY` opcodes along a long walk from `start` (the last mark
    /// before `at`, or the first opcode) up to offset `until`, which an update at the end
    /// of the walk does not touch. `at` is where `start`'s successors go in the mark list.
    /// Returns the number of marks added.
    fn split_gap(&mut self, s: &[u8], at: usize, start: Cursor, until: usize) -> usize {
        let mut cur = start;
        let (mut pos, mut meta) = (SmallVec::<[u32; 8]>::new(), SmallVec::<[u32; 8]>::new());
        let mut ops = 0;
        while cur.p < until {
            let (span, len, _) = op_span(s, 0, cur.p, s[cur.p]);
            let next = cur.p + len;
            let first = cur.first + u64::from(span);
            ops += 1;
            if ops == MARK_EVERY && next <= until && first < REGISTERS as u64 {
                ops = 0;
                pos.push(next as u32);
                meta.push((first as u32) << 1 | (len as u32 - 1));
            }
            cur = Cursor {
                p: next,
                first,
                prev: Some(cur.p),
            };
        }
        // The next mark lies past `until`, so the list stays ascending.
        if pos.last().is_some_and(|&p| self.pos.get(at) == Some(&p)) {
            pos.pop();
            meta.pop();
        }
        let added = pos.len();
        for (v, new) in [(&mut self.pos, pos), (&mut self.meta, meta)] {
            let len = v.len();
            v.extend_from_slice(&new);
            v.copy_within(at..len, at + added);
            v[at..at + added].copy_from_slice(&new);
        }
        added
    }

    /// Follows an update (see [`Update`]); `s` is the new bytes.
    /// `lo`, if known, is the number of marks at or before `u.window`.
    fn updated(&mut self, s: &[u8], lo: Option<usize>, u: &Update) {
        // Marks at or before the window start stay; the ones from `lo` whose new offset is
        // within the rewritten bytes go; the rest shift.
        let lo = lo.unwrap_or_else(|| self.pos.partition_point(|&x| x as usize <= u.window));
        debug_assert_eq!(lo, self.pos.partition_point(|&x| x as usize <= u.window));
        let t = u.rewritten_to as isize - u.delta;
        let mut hi = lo;
        while self.pos.get(hi).is_some_and(|&x| x as isize <= t) {
            hi += 1;
        }
        let delta = u.delta as i32 as u32;
        if delta != 0 {
            for x in &mut self.pos[hi..] {
                *x = x.wrapping_add(delta);
            }
        }
        if hi > lo {
            // Replace the dropped marks by the first boundary past the rewritten bytes.
            let (mut p, mut first, mut prevlen) = (u.window, u.window_first, 0usize);
            while p <= u.rewritten_to {
                let Some(&b) = s.get(p) else { break };
                let (span, len, _) = op_span(s, 0, p, b);
                first += u64::from(span);
                prevlen = len;
                p += len;
            }
            let fresh = p < s.len()
                && prevlen > 0
                && first < REGISTERS as u64
                && self.pos.get(hi) != Some(&(p as u32));
            if fresh {
                self.pos[lo] = p as u32;
                self.meta[lo] = (first as u32) << 1 | (prevlen as u32 - 1);
                self.pos.drain(lo + 1..hi);
                self.meta.drain(lo + 1..hi);
            } else {
                self.pos.drain(lo..hi);
                self.meta.drain(lo..hi);
            }
        }
        if self.hist_ok {
            self.hist[usize::from(u.old & REGISTER_MAX)] -= 1;
            self.hist[usize::from(u.new & REGISTER_MAX)] += 1;
        }
    }
}

/// `repr(C)` keeps the field order: without it `stats_ok` goes after the 12 KB of bytes,
/// and a count of a value not in cache touches two distant cache lines instead of one.
#[derive(Clone)]
#[repr(C)]
struct Dense {
    /// What the estimator needs of the registers; exact whenever `stats_ok`. Placed before
    /// the bytes so that it shares a cache line with the header.
    stats: Stats,
    stats_ok: bool,
    /// The whole Redis string; encoding byte 0.
    bytes: [u8; DENSE_LEN],
}

/// The register summary the estimator reads, kept up to date by every register change so
/// that a count right after a change reads a few words instead of 16384 registers.
///
/// `sum` is `Σ 2^(38−v)` over the registers with `1 <= v <= 38`: the estimator's
/// `Σ C[v]·2^−v` scaled to an integer (at most 2^14·2^37, so exact, and exact again as a
/// double). While `high` is 0, [`horner_exact`] applies and its result is `sum·2^−38`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stats {
    sum: u64,
    /// Registers at 0.
    zeros: u32,
    /// Registers above 38 (then the estimator takes the full histogram).
    high: u32,
}

/// Highest register value [`Stats::sum`] covers.
const SUM_TOP: u8 = 38;

/// Per register value: its term in [`Stats::sum`] (0 for 0 and for values above 38).
const SUM_WEIGHT: [u64; 64] = {
    let mut w = [0u64; 64];
    let mut v = 1;
    while v <= SUM_TOP as usize {
        w[v] = 1 << (SUM_TOP as usize - v);
        v += 1;
    }
    w
};

impl Stats {
    fn of(hist: &[u32; 64]) -> Stats {
        let mut st = Stats {
            zeros: hist[0],
            ..Stats::default()
        };
        for (v, &c) in hist.iter().enumerate() {
            st.sum += SUM_WEIGHT[v] * u64::from(c);
            if v > usize::from(SUM_TOP) {
                st.high += c;
            }
        }
        st
    }

    /// Follows one register going from `old` to `new` (both at most 63).
    #[inline]
    fn raised(&mut self, old: u8, new: u8) {
        let (old, new) = (old & REGISTER_MAX, new & REGISTER_MAX);
        self.sum = self.sum - SUM_WEIGHT[usize::from(old)] + SUM_WEIGHT[usize::from(new)];
        self.zeros -= u32::from(old == 0);
        self.high = self.high + u32::from(new > SUM_TOP) - u32::from(old > SUM_TOP);
    }
}

impl Dense {
    fn zeroed() -> Box<Dense> {
        Box::new(Dense {
            stats: Stats::default(),
            stats_ok: false,
            bytes: [0; DENSE_LEN],
        })
    }

    fn registers(&self) -> &[u8] {
        &self.bytes[HEADER_LEN..]
    }

    /// Raises register `index` to `count`; returns whether it changed.
    #[inline]
    fn raise(&mut self, index: usize, count: u8) -> bool {
        let regs = &mut self.bytes[HEADER_LEN..];
        let old = dense_get(regs, index);
        if count <= old {
            return false;
        }
        dense_set(regs, index, count);
        if self.stats_ok {
            self.stats.raised(old, count);
        }
        true
    }

    /// The estimate of the registers, from the summary when it applies.
    fn estimate(&mut self) -> u64 {
        if !self.stats_ok {
            self.stats = Stats::of(&dense_histogram(self.registers()));
            self.stats_ok = true;
        }
        self.estimate_ref()
    }

    fn estimate_ref(&self) -> u64 {
        match self.stats_ok && self.stats.high == 0 {
            true => estimate_from_sum(self.stats.sum, self.stats.zeros),
            false => estimate(&dense_histogram(self.registers())),
        }
    }
}

/// What `PFCOUNT key` did besides answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    /// The cardinality as Redis keeps it; `value as i64` is the integer reply
    /// (`i64::MIN` in the all-registers-above-51 case).
    pub value: u64,
    /// The cached cardinality was recomputed and written into the header, which Redis
    /// treats as a modification of the key (dirty, propagation, WATCH).
    pub cache_written: bool,
}

/// Register index and run length ("pattern length") of `item`: what it would set.
pub fn pattern_len(item: &[u8]) -> (usize, u8) {
    pattern_of_hash(murmurhash64a(item, SEED))
}

/// Register index (the low `P` bits) and run length (trailing zeros of the rest, plus one)
/// of a 64-bit item hash.
fn pattern_of_hash(hash: u64) -> (usize, u8) {
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The sentinel bit bounds the run at Q + 1 when the 50 high bits are all zero.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

impl Default for HyperLogLog {
    fn default() -> Self {
        HyperLogLog::new()
    }
}

impl HyperLogLog {
    /// The empty value `PFADD` creates: sparse, 18 bytes, cached cardinality marked stale.
    pub fn new() -> HyperLogLog {
        HyperLogLog {
            repr: Repr::Sparse(Sparse::new(EMPTY.to_vec())),
        }
    }

    /// Accepts `bytes` exactly when Redis's type check does (`isHLLObjectOrReply`).
    ///
    /// A sparse body is not decoded here: as in Redis, an operation that reads it reports
    /// [`HllError::Corrupt`] if it cannot make sense of it.
    pub fn from_redis_bytes(bytes: &[u8]) -> Result<HyperLogLog, HllError> {
        if bytes.len() < HEADER_LEN || &bytes[..4] != b"HYLL" {
            return Err(HllError::NotHll);
        }
        match bytes[4] {
            ENC_SPARSE => Ok(HyperLogLog {
                repr: Repr::Sparse(Sparse::new(bytes.to_vec())),
            }),
            ENC_DENSE => {
                if bytes.len() != DENSE_LEN {
                    return Err(HllError::NotHll);
                }
                let mut dense = Dense::zeroed();
                dense.bytes.copy_from_slice(bytes);
                Ok(HyperLogLog {
                    repr: Repr::Dense(dense),
                })
            }
            _ => Err(HllError::NotHll),
        }
    }

    /// The representation with any deferred updates applied (made once, on the first read).
    fn current(&self) -> &Repr {
        if let Repr::Sparse(s) = &self.repr {
            if let Some(r) = s.applied() {
                return r;
            }
        }
        &self.repr
    }

    /// Applies deferred updates to the bytes (see [`Pending`]), keeping what lets later
    /// updates be deferred.
    fn settle(&mut self) {
        let Repr::Sparse(s) = &mut self.repr else {
            return;
        };
        if !s.has_pending() {
            return;
        }
        let Some(mut p) = s.aux.as_deref_mut().and_then(|a| a.pending.take()) else {
            return;
        };
        let out = match p.view.take() {
            Some(v) => *v,
            None => {
                let base = Sparse {
                    bytes: std::mem::take(&mut s.bytes),
                    past_end: s.past_end,
                    adds: s.adds,
                    aux: s.aux.take(),
                };
                replay(base, &p.log, p.limit)
            }
        };
        p.log.clear();
        p.all_in_bytes();
        self.repr = out;
        // Kept when the result is large and sparse; a small value goes back to its bytes
        // alone, as in Redis, until its next update.
        if let Repr::Sparse(sp) = &mut self.repr {
            if sp.bytes.len() >= PENDING_MIN_LEN {
                if let Some(a) = &mut sp.aux {
                    a.pending = Some(p);
                }
            } else if sp.bytes.len() < AUX_MIN_LEN {
                sp.aux = None;
            }
        }
    }

    /// Applies deferred updates and stops deferring (before an operation that rewrites the
    /// bytes itself).
    fn settle_all(&mut self) {
        self.settle();
        if let Repr::Sparse(sp) = &mut self.repr {
            if sp.bytes.len() < AUX_MIN_LEN {
                sp.aux = None;
            } else if let Some(a) = &mut sp.aux {
                a.pending = None;
            }
        }
    }

    /// The header, always current (deferred updates never hold back a header change).
    fn header(&self) -> &[u8] {
        match &self.repr {
            Repr::Sparse(s) => &s.bytes[..HEADER_LEN],
            Repr::Dense(d) => &d.bytes[..HEADER_LEN],
        }
    }

    /// Bytes held for this value, for memory accounting: the string as last applied, and
    /// the side data of deferred updates. Unlike [`len`](Self::len) it applies nothing.
    pub fn memory_len(&self) -> usize {
        match &self.repr {
            Repr::Sparse(s) => {
                s.bytes.capacity()
                    + s.pending().map_or(0, |p| {
                        std::mem::size_of::<Pending>()
                            + p.log.capacity() * 4
                            + p.regs.as_ref().map_or(0, |_| NIBBLE_BYTES)
                    })
            }
            Repr::Dense(_) => DENSE_LEN,
        }
    }

    /// The Redis string holding this value.
    pub fn as_bytes(&self) -> &[u8] {
        match self.current() {
            Repr::Sparse(s) => &s.bytes,
            Repr::Dense(d) => &d.bytes,
        }
    }

    /// Appends the Redis string to `out`.
    pub fn write_redis_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }

    /// The Redis string, owned.
    pub fn to_redis_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    /// `PFDEBUG ENCODING`.
    pub fn encoding(&self) -> HllEncoding {
        match self.current() {
            Repr::Sparse(_) => HllEncoding::Sparse,
            Repr::Dense(_) => HllEncoding::Dense,
        }
    }

    /// Length of the Redis string (`STRLEN`).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Always false: even the header-only sparse value is 16 bytes long.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The cached cardinality if the header marks it valid.
    pub fn cached_count(&self) -> Option<u64> {
        let card = header_card(self.header());
        (card >> 63 == 0).then_some(card)
    }

    /// Value of register `index` as `PFDEBUG GETREG` would report it.
    ///
    /// Reads 0 for `index >= 16384` and for registers a corrupt sparse body does not reach.
    pub fn register(&self, index: usize) -> u8 {
        if index >= REGISTERS {
            return 0;
        }
        match self.current() {
            Repr::Dense(d) => dense_get(d.registers(), index),
            Repr::Sparse(s) => {
                let mut found = 0;
                sparse_decode(s, |first, run, value| {
                    if (first..first + run).contains(&(index as u64)) {
                        found = value;
                    }
                });
                found
            }
        }
    }

    /// `PFADD key item`: raises the register `item` hashes to. Returns whether a register
    /// changed (then the cached cardinality is marked stale, as Redis does).
    ///
    /// On a sparse value this may promote to dense (see the module documentation). Fails
    /// with [`HllError::Corrupt`] where Redis does; changes made by earlier calls stay.
    #[inline]
    pub fn add(&mut self, item: &[u8], sparse_max_bytes: usize) -> Result<bool, HllError> {
        let (index, count) = pattern_len(item);
        self.raise(index, count, sparse_max_bytes)
    }

    /// Raises register `index` (below 16384) to `count` (1..=63) if it is lower: Redis's
    /// `hllDenseSet` / `hllSparseSet`, cache invalidation included.
    fn raise(
        &mut self,
        index: usize,
        count: u8,
        sparse_max_bytes: usize,
    ) -> Result<bool, HllError> {
        let index = index & (REGISTERS - 1);
        let count = count & REGISTER_MAX;
        match &mut self.repr {
            Repr::Sparse(s) => {
                if let Some(changed) = s.defer(index, count, sparse_max_bytes) {
                    if changed && s.pending().is_some_and(|p| p.log.len() >= PENDING_MAX) {
                        self.settle();
                    }
                    return Ok(changed);
                }
            }
            Repr::Dense(d) => {
                let changed = d.raise(index, count);
                if changed {
                    d.bytes[15] |= STALE_BIT;
                }
                return Ok(changed);
            }
        }
        self.raise_now(index, count, sparse_max_bytes)
    }

    /// [`HyperLogLog::raise`] when the update is not deferred: applied to the bytes (after
    /// any deferred ones) or to the dense registers.
    #[inline(never)]
    fn raise_now(
        &mut self,
        index: usize,
        count: u8,
        sparse_max_bytes: usize,
    ) -> Result<bool, HllError> {
        if let Repr::Sparse(s) = &mut self.repr {
            if s.pending().is_some() {
                self.settle_all();
            }
        }
        match &mut self.repr {
            Repr::Dense(d) => {
                let changed = d.raise(index, count);
                if changed {
                    d.bytes[15] |= STALE_BIT;
                }
                Ok(changed)
            }
            Repr::Sparse(s) => {
                s.refresh_aux();
                let outcome = sparse_set(s, index, count, sparse_max_bytes, Cursor::START).0;
                match outcome {
                    SparseSet::Unchanged => Ok(false),
                    SparseSet::Changed => Ok(true),
                    SparseSet::Corrupt => Err(HllError::Corrupt),
                    SparseSet::Promote => {
                        let mut dense = sparse_to_dense(s)?;
                        // The register is below `count` here, so this always changes it.
                        dense.raise(index, count);
                        dense.bytes[15] |= STALE_BIT;
                        self.repr = Repr::Dense(dense);
                        Ok(true)
                    }
                }
            }
        }
    }

    /// `PFCOUNT key` (one key): the cached cardinality if valid, else the estimate, which is
    /// then cached in the header.
    #[inline]
    pub fn count(&mut self) -> Result<u64, HllError> {
        self.count_and_cache().map(|c| c.value)
    }

    /// [`HyperLogLog::count`] that also says whether the header was rewritten.
    #[inline]
    pub fn count_and_cache(&mut self) -> Result<Count, HllError> {
        if let Repr::Sparse(s) = &mut self.repr {
            s.adds = 0;
        }
        if let Some(value) = self.cached_count() {
            return Ok(Count {
                value,
                cache_written: false,
            });
        }
        // A dense value with a usable summary (every value this module built or counted):
        // a handful of instructions, kept out of the general path's large frame.
        if let Repr::Dense(d) = &mut self.repr {
            if d.stats_ok && d.stats.high == 0 {
                let value = estimate_from_sum(d.stats.sum, d.stats.zeros);
                d.bytes[8..HEADER_LEN].copy_from_slice(&value.to_le_bytes());
                return Ok(Count {
                    value,
                    cache_written: true,
                });
            }
        }
        self.count_uncached()
    }

    /// [`HyperLogLog::count_and_cache`] once the cache is known to be stale.
    #[inline(never)]
    fn count_uncached(&mut self) -> Result<Count, HllError> {
        let value = match &mut self.repr {
            Repr::Dense(d) => d.estimate(),
            Repr::Sparse(s) if s.pending().is_some() => s.pending().map_or(0, Pending::estimate),
            Repr::Sparse(s) => {
                s.refresh_aux();
                match &s.aux {
                    Some(aux) if aux.hist_ok => estimate(&aux.hist.map(u32::from)),
                    _ => estimate(&sparse_histogram(s)?),
                }
            }
        };
        let header = match &mut self.repr {
            Repr::Dense(d) => &mut d.bytes[..HEADER_LEN],
            Repr::Sparse(s) => &mut s.bytes[..HEADER_LEN],
        };
        header[8..16].copy_from_slice(&value.to_le_bytes());
        if let Some(p) = match &mut self.repr {
            Repr::Sparse(s) => s.pending_mut(),
            Repr::Dense(_) => None,
        } {
            // A view made before the count carries the header of that time.
            let view_header = match p.view.get_mut().map(|v| &mut **v) {
                Some(Repr::Sparse(v)) => Some(&mut v.bytes[..HEADER_LEN]),
                Some(Repr::Dense(v)) => Some(&mut v.bytes[..HEADER_LEN]),
                None => None,
            };
            if let Some(h) = view_header {
                h[8..16].copy_from_slice(&value.to_le_bytes());
            }
        }
        Ok(Count {
            value,
            cache_written: true,
        })
    }

    /// The estimate from the registers, ignoring and not touching the cache.
    pub fn estimate(&self) -> Result<u64, HllError> {
        match &self.repr {
            Repr::Dense(d) => Ok(d.estimate_ref()),
            Repr::Sparse(s) if s.pending().is_some() => {
                Ok(s.pending().map_or(0, Pending::estimate))
            }
            Repr::Sparse(s) => match &s.aux {
                Some(aux) if aux.hist_ok => Ok(estimate(&aux.hist.map(u32::from))),
                _ => Ok(estimate(&sparse_histogram(s)?)),
            },
        }
    }

    /// `PFDEBUG TODENSE`: converts a sparse value; returns whether it was sparse.
    pub fn to_dense(&mut self) -> Result<bool, HllError> {
        self.settle_all();
        match &self.repr {
            Repr::Dense(_) => Ok(false),
            Repr::Sparse(s) => {
                self.repr = Repr::Dense(sparse_to_dense(s)?);
                Ok(true)
            }
        }
    }

    /// `PFDEBUG DECODE`: the sparse opcodes as text (`Z:n`, `z:n`, `v:value,run`), or `None`
    /// for a dense value (Redis: `ERR HLL encoding is not sparse`).
    pub fn sparse_decode(&self) -> Option<String> {
        let Repr::Sparse(s) = self.current() else {
            return None;
        };
        let mut out = String::new();
        let mut p = HEADER_LEN;
        while let Some((op, len)) = opcode_at(&s.bytes, s.past_end, p) {
            if !out.is_empty() {
                out.push(' ');
            }
            let text = match op {
                Op::Zero(n) => format!("z:{n}"),
                Op::XZero(n) => format!("Z:{n}"),
                Op::Val { value, run } => format!("v:{value},{run}"),
            };
            out.push_str(&text);
            p += len;
        }
        Some(out)
    }

    /// Multi-key `PFCOUNT`: the estimate of the register-wise maximum. Inputs are unchanged
    /// and no cache is read or written.
    pub fn union_count(hlls: &[&HyperLogLog]) -> Result<u64, HllError> {
        let mut union = HllUnion::new();
        for h in hlls {
            union.merge(h)?;
        }
        Ok(union.count())
    }

    /// `PFMERGE dest src...`: `dest` (the destination's current value, if the key exists)
    /// takes part in the maximum like a source, as in Redis. The result is dense if any
    /// input was dense, else it is built by sparse updates and may stay sparse; its cache is
    /// always marked stale.
    pub fn merge(
        dest: Option<HyperLogLog>,
        sources: &[&HyperLogLog],
        sparse_max_bytes: usize,
    ) -> Result<HyperLogLog, HllError> {
        let mut union = HllUnion::new();
        if let Some(d) = &dest {
            union.merge(d)?;
        }
        for s in sources {
            union.merge(s)?;
        }
        union.store_into(dest, sparse_max_bytes)
    }
}

/// Register-wise maximum of several values: multi-key `PFCOUNT` and `PFMERGE`.
///
/// A store merges keys in argument order, loading each (type check) just before merging it,
/// so the first failing key decides the error as in Redis. After an error the accumulator
/// holds a partial merge and must be dropped: Redis fails the command then.
#[derive(Clone)]
pub struct HllUnion {
    max: Box<[u8; REGISTERS]>,
    any_dense: bool,
}

impl Default for HllUnion {
    fn default() -> Self {
        HllUnion::new()
    }
}

impl HllUnion {
    /// All registers 0.
    pub fn new() -> HllUnion {
        HllUnion {
            max: Box::new([0; REGISTERS]),
            any_dense: false,
        }
    }

    /// Raises every register to `hll`'s (Redis's `hllMerge`). A sparse `hll` must cover
    /// exactly 16384 registers.
    pub fn merge(&mut self, hll: &HyperLogLog) -> Result<(), HllError> {
        match hll.current() {
            Repr::Dense(d) => {
                self.any_dense = true;
                for (group, max) in d
                    .registers()
                    .chunks_exact(3)
                    .zip(self.max.chunks_exact_mut(4))
                {
                    let regs = unpack4(group);
                    for (m, r) in max.iter_mut().zip(regs) {
                        *m = (*m).max(r);
                    }
                }
                Ok(())
            }
            Repr::Sparse(s) => {
                let max = &mut self.max;
                let total = sparse_decode(s, |first, run, value| {
                    // `sparse_decode` only reports runs that end at or before register 16384.
                    for m in max.iter_mut().skip(first as usize).take(run as usize) {
                        *m = (*m).max(value);
                    }
                });
                if total == REGISTERS as u64 {
                    Ok(())
                } else {
                    Err(HllError::Corrupt)
                }
            }
        }
    }

    /// Value of register `index` in the union (0 when out of range).
    pub fn register(&self, index: usize) -> u8 {
        self.max.get(index).copied().unwrap_or(0)
    }

    /// The estimate of the merged registers.
    pub fn count(&self) -> u64 {
        estimate(&raw_histogram(&self.max[..]))
    }

    /// The write half of `PFMERGE`: raises `dest` (a new empty value if `None`) to the
    /// merged registers in ascending order, converting it to dense first if any merged
    /// value was dense, then marks the cache stale. `dest` must have been merged too.
    pub fn store_into(
        &self,
        dest: Option<HyperLogLog>,
        sparse_max_bytes: usize,
    ) -> Result<HyperLogLog, HllError> {
        let mut out = dest.unwrap_or_default();
        out.settle_all();
        if let Repr::Sparse(s) = &out.repr {
            // Redis validated the destination while merging it; repeat that check so a
            // destination that was not merged cannot reach the sparse updates corrupt.
            if sparse_decode(s, |_, _, _| {}) != REGISTERS as u64 {
                return Err(HllError::Corrupt);
            }
        }
        if self.any_dense {
            out.to_dense()?;
        }
        if let Repr::Sparse(s) = &mut out.repr {
            // Redis raises the registers one by one in ascending order, each update walking
            // from the first opcode. Bytes before the merge window of one update never change
            // again, so each walk resumes where the previous one left off: same bytes,
            // linear instead of quadratic time.
            // The cursor replaces the index here; it is rebuilt when next needed.
            s.aux = None;
            let mut cursor = Cursor::START;
            let mut promote_at = None;
            for (index, &value) in self.max.iter().enumerate() {
                if value == 0 {
                    continue;
                }
                let (outcome, next) = sparse_set(s, index, value, sparse_max_bytes, cursor);
                cursor = next;
                match outcome {
                    SparseSet::Unchanged | SparseSet::Changed => {}
                    SparseSet::Promote => {
                        promote_at = Some(index);
                        break;
                    }
                    // Cannot happen: the destination covers exactly 16384 registers, which
                    // sparse updates preserve.
                    SparseSet::Corrupt => return Err(HllError::Corrupt),
                }
            }
            if promote_at.is_some() {
                out.repr = Repr::Dense(sparse_to_dense(s)?);
            }
        }
        if let Repr::Dense(d) = &mut out.repr {
            // Raising is order-independent on dense registers, so the remaining (or all)
            // registers are raised in one packed pass.
            let regs = &mut d.bytes[HEADER_LEN..];
            for (group, max) in regs.chunks_exact_mut(3).zip(self.max.chunks_exact(4)) {
                let mut r = unpack4(group);
                for (reg, m) in r.iter_mut().zip(max) {
                    *reg = (*reg).max(*m & REGISTER_MAX);
                }
                pack4(group, r);
            }
            d.stats = Stats::of(&dense_histogram(d.registers()));
            d.stats_ok = true;
        }
        match &mut out.repr {
            Repr::Dense(d) => d.bytes[15] |= STALE_BIT,
            Repr::Sparse(s) => s.bytes[15] |= STALE_BIT,
        }
        Ok(out)
    }
}

impl PartialEq for HyperLogLog {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for HyperLogLog {}

impl fmt::Debug for HyperLogLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperLogLog")
            .field("encoding", &self.encoding())
            .field("len", &self.len())
            .field("cached_count", &self.cached_count())
            .finish()
    }
}

impl Serialize for HyperLogLog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.as_bytes())
    }
}

impl<'de> Deserialize<'de> for HyperLogLog {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;

        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = HyperLogLog;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the bytes of a Redis HyperLogLog string")
            }

            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<HyperLogLog, E> {
                HyperLogLog::from_redis_bytes(v).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HyperLogLog, A::Error> {
                // Cap the pre-allocation: the size hint comes from the input.
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(DENSE_LEN));
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                HyperLogLog::from_redis_bytes(&bytes).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_bytes(BytesVisitor)
    }
}

fn header_card(bytes: &[u8]) -> u64 {
    let mut card = [0u8; 8];
    if let Some(b) = bytes.get(8..16) {
        card.copy_from_slice(b);
    }
    u64::from_le_bytes(card)
}

// ---------------------------------------------------------------------------------------
// Dense registers

/// Register `index` of a 12288-byte register array. `index` is below 16384, so the byte
/// after the first one exists whenever the register reaches into it.
#[inline]
fn dense_get(regs: &[u8], index: usize) -> u8 {
    let bit = index * BITS;
    let byte = bit / 8;
    let shift = bit % 8;
    let lo = u16::from(regs.get(byte).copied().unwrap_or(0));
    let hi = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((lo | hi << 8) >> shift) as u8) & REGISTER_MAX
}

#[inline]
fn dense_set(regs: &mut [u8], index: usize, value: u8) {
    let bit = index * BITS;
    let byte = bit / 8;
    let shift = bit % 8;
    let mask = u16::from(REGISTER_MAX) << shift;
    let v = u16::from(value & REGISTER_MAX) << shift;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(mask as u8)) | v as u8;
    }
    if shift > 8 - BITS {
        if let Some(b) = regs.get_mut(byte + 1) {
            *b = (*b & !((mask >> 8) as u8)) | (v >> 8) as u8;
        }
    }
}

/// The four registers packed in 3 bytes.
#[inline]
fn unpack4(g: &[u8]) -> [u8; 4] {
    let (b0, b1, b2) = (g[0], g[1], g[2]);
    [
        b0 & 63,
        (b0 >> 6) | ((b1 & 15) << 2),
        (b1 >> 4) | ((b2 & 3) << 4),
        b2 >> 2,
    ]
}

#[inline]
fn pack4(g: &mut [u8], r: [u8; 4]) {
    g[0] = r[0] | r[1] << 6;
    g[1] = r[1] >> 2 | r[2] << 4;
    g[2] = r[2] >> 4 | r[3] << 2;
}

/// Histogram of the packed registers. Four partial histograms, because most registers
/// share a few values and a single counter array would serialize on store-to-load
/// forwarding (measured 3x slower).
fn dense_histogram(regs: &[u8]) -> [u32; 64] {
    let mut lanes = [[0u32; 64]; 4];
    for group in regs.chunks_exact(3) {
        let [r0, r1, r2, r3] = unpack4(group);
        lanes[0][usize::from(r0)] += 1;
        lanes[1][usize::from(r1)] += 1;
        lanes[2][usize::from(r2)] += 1;
        lanes[3][usize::from(r3)] += 1;
    }
    sum_lanes(&lanes)
}

/// Histogram of one byte per register (multi-key `PFCOUNT`), values masked to 6 bits.
fn raw_histogram(regs: &[u8]) -> [u32; 64] {
    let mut lanes = [[0u32; 64]; 4];
    for group in regs.chunks_exact(4) {
        for (lane, &r) in lanes.iter_mut().zip(group) {
            lane[usize::from(r & REGISTER_MAX)] += 1;
        }
    }
    sum_lanes(&lanes)
}

fn sum_lanes(lanes: &[[u32; 64]; 4]) -> [u32; 64] {
    let mut hist = [0u32; 64];
    for lane in lanes {
        for (h, c) in hist.iter_mut().zip(lane) {
            *h += c;
        }
    }
    hist
}

// ---------------------------------------------------------------------------------------
// Sparse opcodes

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Zero(u32),
    XZero(u32),
    Val { value: u8, run: u32 },
}

impl Op {
    fn run(self) -> u32 {
        match self {
            Op::Zero(n) | Op::XZero(n) => n,
            Op::Val { run, .. } => run,
        }
    }
}

/// The opcode at `p` and its length in bytes. An XZERO cut off by the end of the string
/// still counts 2 bytes and reads its missing byte as `past_end`, as Redis does.
#[inline]
fn opcode_at(s: &[u8], past_end: u8, p: usize) -> Option<(Op, usize)> {
    let b = *s.get(p)?;
    Some(match b & 0xc0 {
        0x00 => (Op::Zero(u32::from(b & 0x3f) + 1), 1),
        0x40 => {
            let lo = u32::from(s.get(p + 1).copied().unwrap_or(past_end));
            (Op::XZero((u32::from(b & 0x3f) << 8 | lo) + 1), 2)
        }
        _ => (
            Op::Val {
                value: ((b >> 2) & 0x1f) + 1,
                run: u32::from(b & 3) + 1,
            },
            1,
        ),
    })
}

/// Branch-free form of [`opcode_at`] for the hot walks: (registers covered, opcode length,
/// VAL value or 0). Opcode kinds alternate unpredictably in a full sparse value, and
/// mispredicted branches cost more than decoding all three kinds and selecting.
#[inline]
fn op_span(s: &[u8], past_end: u8, p: usize, b: u8) -> (u32, usize, u8) {
    let b32 = u32::from(b);
    let next = u32::from(s.get(p + 1).copied().unwrap_or(past_end));
    let val = b32 >> 7;
    let xzero = (b32 >> 6) & 1 & (val ^ 1);
    let val_mask = 0u32.wrapping_sub(val);
    let x_mask = 0u32.wrapping_sub(xzero);
    let zero_mask = !(val_mask | x_mask);
    let low6 = b32 & 0x3f;
    let span = (((b32 & 3) + 1) & val_mask)
        | (((low6 << 8 | next) + 1) & x_mask)
        | ((low6 + 1) & zero_mask);
    let value = ((((b32 >> 2) & 0x1f) + 1) & val_mask) as u8;
    (span, 1 + xzero as usize, value)
}

/// Per first opcode byte: registers covered (for an XZERO without its second byte) in bits
/// 0..16, the mask for the second byte in bits 16..24 (0xff for an XZERO, else 0) and the
/// opcode length in bits 24..32. The walks to a register use it instead of [`op_span`].
const STEP: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b & 0xc0 {
            0x00 => ((b as u32 & 0x3f) + 1) | (1 << 24),
            0x40 => (((b as u32 & 0x3f) << 8) + 1) | (0xff << 16) | (2 << 24),
            _ => ((b as u32 & 3) + 1) | (1 << 24),
        };
        b += 1;
    }
    t
};

/// Registers covered and length of the opcode at `p` (first byte `b`), from [`STEP`].
#[inline(always)]
fn op_step(s: &[u8], past_end: u8, p: usize, b: u8) -> (u32, usize) {
    let e = STEP[usize::from(b)];
    let next = u32::from(s.get(p + 1).copied().unwrap_or(past_end));
    ((e & 0xffff) + (next & (e >> 16 & 0xff)), (e >> 24) as usize)
}

fn val_byte(value: u8, run: u32) -> u8 {
    0x80 | (value - 1) << 2 | (run - 1) as u8
}

/// Appends the shortest zero run opcode for `n` (1..=16384) registers.
fn push_zeros(seq: &mut [u8; 5], len: &mut usize, n: u64) {
    let l = (n - 1) as u16;
    if n > ZERO_MAX_LEN {
        seq[*len] = 0x40 | (l >> 8) as u8;
        seq[*len + 1] = l as u8;
        *len += 2;
    } else {
        seq[*len] = l as u8;
        *len += 1;
    }
}

/// Walks every opcode, reporting each VAL run that lies within the 16384 registers as
/// (first register, run, value), and returns the number of registers the opcodes cover.
/// Readers other than `PFADD` accept a value only when that is exactly 16384.
fn sparse_decode(s: &Sparse, mut on_val: impl FnMut(u64, u64, u8)) -> u64 {
    let mut idx = 0u64;
    let mut p = HEADER_LEN;
    while let Some((op, len)) = opcode_at(&s.bytes, s.past_end, p) {
        let run = u64::from(op.run());
        if let Op::Val { value, .. } = op {
            if idx + run <= REGISTERS as u64 {
                on_val(idx, run, value);
            }
        }
        idx += run;
        p += len;
    }
    idx
}

/// Register histogram of a sparse value as `hllSparseRegHisto` computes it (no early stop);
/// the opcodes must cover exactly 16384 registers.
fn sparse_histogram(s: &Sparse) -> Result<[u32; 64], HllError> {
    let mut hist = [0u64; 64];
    let mut idx = 0u64;
    let mut p = HEADER_LEN;
    while let Some(&b) = s.bytes.get(p) {
        let (run, len, value) = op_span(&s.bytes, s.past_end, p, b);
        hist[usize::from(value & REGISTER_MAX)] += u64::from(run);
        idx += u64::from(run);
        p += len;
    }
    if idx != REGISTERS as u64 {
        return Err(HllError::Corrupt);
    }
    // Every count is at most 16384 now.
    Ok(hist.map(|c| c as u32))
}

/// `hllSparseToDense`: copies the header (unused bytes and cache included) and the
/// registers; the opcodes must cover exactly 16384 registers.
fn sparse_to_dense(s: &Sparse) -> Result<Box<Dense>, HllError> {
    let mut dense = Dense::zeroed();
    let mut hist = [0u32; 64];
    let mut nonzero = 0u32;
    let total = {
        let regs = &mut dense.bytes[HEADER_LEN..];
        sparse_decode(s, |first, run, value| {
            for i in first..first + run {
                dense_set(regs, i as usize, value);
            }
            hist[usize::from(value)] += run as u32;
            nonzero += run as u32;
        })
    };
    if total != REGISTERS as u64 {
        return Err(HllError::Corrupt);
    }
    hist[0] = REGISTERS as u32 - nonzero;
    dense.bytes[..HEADER_LEN].copy_from_slice(&s.bytes[..HEADER_LEN]);
    dense.bytes[4] = ENC_DENSE;
    dense.stats = Stats::of(&hist);
    dense.stats_ok = true;
    Ok(dense)
}

enum SparseSet {
    Unchanged,
    Changed,
    /// The value must become dense first (value above 32, or the string would outgrow
    /// `sparse_max_bytes`). Nothing was modified.
    Promote,
    Corrupt,
}

/// A position in the opcode walk: opcode offset, its first register, the previous opcode.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    p: usize,
    first: u64,
    prev: Option<usize>,
}

impl Cursor {
    const START: Cursor = Cursor {
        p: HEADER_LEN,
        first: 0,
        prev: None,
    };
}

/// `hllSparseSet`: raises register `index` to `count` in the sparse string, walking from
/// `from` (an opcode at or before the one covering `index`; [`Cursor::START`] is Redis's
/// walk). Also returns a cursor from which a later call with a higher index may walk: the
/// opcode before the covering one, which is where the merge window starts, so nothing
/// before it changes.
fn sparse_set(
    sp: &mut Sparse,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
    from: Cursor,
) -> (SparseSet, Cursor) {
    if count > VAL_MAX_VALUE {
        return (SparseSet::Promote, from);
    }
    let index = index as u64;
    let past_end = sp.past_end;
    let (mark_at, start) = match (&sp.aux, from.p == HEADER_LEN) {
        (Some(aux), true) => {
            let (i, c) = aux.cursor_for(index);
            (Some(i), c)
        }
        _ => (None, from),
    };
    let s = &sp.bytes;
    let end = s.len();
    let (mut p, mut first) = (start.p, start.first);
    // The opcode before `p` and the one before that; 0 for none (never an opcode offset).
    let (mut prev, mut pprev) = (start.prev.unwrap_or(0), 0usize);
    let found = 'walk: {
        // Both bytes of an XZERO are in the string up to the last byte.
        while p + 1 < end {
            let e = STEP[usize::from(s[p])];
            let span = (e & 0xffff) + (u32::from(s[p + 1]) & (e >> 16 & 0xff));
            if index < first + u64::from(span) {
                break 'walk opcode_at(s, past_end, p);
            }
            pprev = prev;
            prev = p;
            first += u64::from(span);
            p += (e >> 24) as usize;
        }
        // The last byte: an opcode whose missing second byte is read as `past_end`.
        match s.get(p) {
            Some(&b) if index < first + u64::from(op_step(s, past_end, p, b).0) => {
                opcode_at(s, past_end, p)
            }
            _ => None,
        }
    };
    // Trailing opcodes after the covering one are never looked at, as in Redis.
    let Some((op, oplen)) = found else {
        return (SparseSet::Corrupt, Cursor::START);
    };
    let stepped = p != start.p;
    let (window, window_first) = match prev {
        0 => (HEADER_LEN, first),
        w => (w, first - u64::from(op_step(s, past_end, w, s[w]).0)),
    };
    // Without a step the merge window starts before `from`, so `from` may not survive.
    let next = if stepped {
        Cursor {
            p: window,
            first: window_first,
            prev: (pprev != 0).then_some(pprev),
        }
    } else {
        Cursor::START
    };
    // The first mark after the merge window's start, once the gap split below is done.
    let mut marks_before = None;
    if let (Some(aux), Some(at)) = (&mut sp.aux, mark_at) {
        let mut at = at;
        if p - start.p > SPLIT_WALK {
            // Only bytes before `window` are read, which no update at `p` changes.
            at += aux.split_gap(s, at, start, window);
        }
        // Without a step, the mark walked from is the updated opcode itself.
        marks_before = Some(if stepped { at } else { at.saturating_sub(1) });
    }

    let old_value = match op {
        Op::Val { value, .. } => value,
        _ => 0,
    };
    let in_place = match op {
        Op::Val { value, .. } if value >= count => return (SparseSet::Unchanged, next),
        Op::Val { run: 1, .. } | Op::Zero(1) => true,
        _ => false,
    };
    // An XZERO cut off by the end changes the number of registers covered when split.
    let cut_off = p + oplen > end;
    let s = &mut sp.bytes;
    let mut n = 1;
    if in_place {
        s[p] = val_byte(count, 1);
    } else {
        let span = u64::from(op.run());
        let last = first + span - 1;
        let mut seq = [0u8; 5];
        n = 0;
        match op {
            Op::Val { value, .. } => {
                if index != first {
                    seq[n] = val_byte(value, (index - first) as u32);
                    n += 1;
                }
                seq[n] = val_byte(count, 1);
                n += 1;
                if index != last {
                    seq[n] = val_byte(value, (last - index) as u32);
                    n += 1;
                }
            }
            Op::Zero(_) | Op::XZero(_) => {
                if index != first {
                    push_zeros(&mut seq, &mut n, index - first);
                }
                seq[n] = val_byte(count, 1);
                n += 1;
                if index != last {
                    push_zeros(&mut seq, &mut n, last - index);
                }
            }
        }
        if n > oplen && end + (n - oplen) > sparse_max_bytes {
            return (SparseSet::Promote, next);
        }
        // Redis sets the new length to `end - oplen + n` (terminator included) before copying
        // the sequence, so an XZERO cut off by the end of the string loses the sequence's
        // last byte, which stays in the buffer just past the end.
        let new_len = end + n - oplen;
        let tail = (p + oplen).min(end);
        let spliced = end - (tail - p) + n;
        if spliced > end {
            let need = spliced - end;
            if s.capacity() - s.len() < need {
                // Grow by a quarter (at least 16 bytes), not by doubling: a session's value
                // of a few dozen registers would otherwise carry up to half its size unused.
                s.reserve_exact(need.max(16).max(s.len() / 4));
            }
            // Placeholder bytes, overwritten by the move below.
            s.extend_from_slice(&seq[..need]);
        }
        s.copy_within(tail..end, p + n);
        s[p..p + n].copy_from_slice(&seq[..n]);
        sp.past_end = if spliced > new_len { s[new_len] } else { 0 };
        s.truncate(new_len);
    }
    let (shrank, scanned_to) = merge_adjacent_vals(&mut sp.bytes, window);
    if shrank {
        sp.past_end = 0;
    }
    sp.bytes[15] |= STALE_BIT;
    if cut_off || sp.past_end != 0 {
        sp.aux = None;
    } else if let Some(aux) = &mut sp.aux {
        aux.updated(
            &sp.bytes,
            marks_before,
            &Update {
                window,
                window_first,
                rewritten_to: scanned_to.max(p + n),
                delta: sp.bytes.len() as isize - end as isize,
                old: old_value,
                new: count,
            },
        );
    }
    (SparseSet::Changed, next)
}

/// Redis's post-update pass: from `p`, look at up to five opcodes and merge a VAL with the
/// following VAL of the same value when the runs fit in one opcode. Returns whether the
/// string shrank (Redis then rewrites the terminator) and where the pass stopped: no byte
/// from there on changed, except a merge at that very opcode (which stays one VAL byte).
fn merge_adjacent_vals(s: &mut Vec<u8>, mut p: usize) -> (bool, usize) {
    let mut shrank = false;
    let mut budget = 5;
    while p < s.len() && budget > 0 {
        budget -= 1;
        let b = s[p];
        match b & 0xc0 {
            0x40 => p += 2,
            0x00 => p += 1,
            _ => {
                if let Some(&next) = s.get(p + 1) {
                    if next & 0x80 != 0 && (next >> 2) & 0x1f == (b >> 2) & 0x1f {
                        let run = u32::from(b & 3) + u32::from(next & 3) + 2;
                        if run <= VAL_MAX_LEN {
                            s[p + 1] = val_byte(((b >> 2) & 0x1f) + 1, run);
                            s.remove(p);
                            shrank = true;
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    (shrank, p)
}

// ---------------------------------------------------------------------------------------
// Estimator

/// Ertl's improved estimator over a register histogram, in Redis's order of operations.
fn estimate(hist: &[u32; 64]) -> u64 {
    let z = match horner_exact(hist) {
        Some(z) => z,
        None => horner(hist),
    };
    finish_estimate(z, hist[0])
}

/// [`estimate`] from a [`Stats`] summary without registers above 38: there the first half
/// is exactly `sum·2^−38` (see [`horner_exact`]).
#[inline]
fn estimate_from_sum(sum: u64, zeros: u32) -> u64 {
    // 2^-38, built from its bits (exact); `sum` < 2^52 converts exactly (through `i64`:
    // one instruction instead of `u64`'s sequence).
    let scale = f64::from_bits((1023 - u64::from(SUM_TOP)) << 52);
    finish_estimate(sum as i64 as f64 * scale, zeros)
}

/// The second half of the estimator, from the first half `z`.
#[inline]
fn finish_estimate(mut z: f64, zeros: u32) -> u64 {
    let m = REGISTERS as f64;
    z += m * sigma_of(zeros);
    let e = ALPHA_INF * m * m / z;
    // `llroundl` rounds half away from zero, like `f64::round`; out of range (infinite when
    // every register is >= 52) it yields i64::MIN.
    if e < 9_223_372_036_854_775_808.0 {
        round_half_away(e)
    } else {
        OUT_OF_RANGE
    }
}

/// `e.round() as u64` for `e < 2^63` (negative gives 0), without the library call that
/// `f64::round` is on x86-64's baseline (with the `i64` conversions below, the estimate of
/// a dense value went from 15 to 9 ns).
///
/// `t = trunc(e)` is a double, so `e - t` is exact (`t <= e < t + 1` share the ulp grid of
/// `e`), and rounding half away from zero adds one exactly when that fraction is >= 0.5.
#[inline]
fn round_half_away(e: f64) -> u64 {
    // Through `i64` (one instruction each way instead of `u64`'s sequences): `e < 2^63`.
    let t = (e as i64).max(0);
    t as u64 + u64::from(e - t as f64 >= 0.5)
}

/// The first half of the estimator as Redis computes it: `z = m·τ(1 − C[q+1]/m)`, then for
/// `k = q..1`, `z = (z + C[k]) / 2`, each step rounded to a double.
fn horner(hist: &[u32; 64]) -> f64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(hist[Q + 1])) / m);
    for k in (1..=Q).rev() {
        z += f64::from(hist[k]);
        z *= 0.5;
    }
    z
}

/// [`horner`] without its chain of dependent floating-point steps, when no step rounds:
/// then the result is the exact sum `Σ C[k]·2^-k`, computed in integers.
///
/// With no register at the top value, τ(1) = 0 and z starts at 0. Let `t` be the highest
/// `k` with `C[k] > 0`. Before step `k` halves it, z is `Σ_{i≥k} C[i]·2^(k−i)`: below
/// 2^15 (the counts add up to at most 2^14) and a multiple of 2^(k−t), so it spans at
/// most 15 + t − k bits. For `t ≤ 38` that is at most 52 bits, so every sum is a double
/// exactly, halving is exact, and Redis's loop computes the exact value. Otherwise (values
/// that high need some 2^52 elements, or a corrupted value) None.
fn horner_exact(hist: &[u32; 64]) -> Option<f64> {
    if hist[Q + 1] != 0 {
        return None;
    }
    let top = (1..=Q).rev().find(|&k| hist[k] != 0).unwrap_or(0);
    if top > 38 {
        return None;
    }
    // S = Σ C[k]·2^(top−k) < 2^15·2^37: z = S·2^-top.
    let sum: u64 = (1..=top)
        .zip(&hist[1..=top])
        .map(|(k, &c)| u64::from(c) << (top - k))
        .sum();
    // 2^-top, built from its bits (exact).
    let scale = f64::from_bits((1023 - top as u64) << 52);
    Some(sum as f64 * scale)
}

/// [`sigma_of`]'s memo: the bits of σ(zeros/m) by count of zero registers, 0 until computed.
static SIGMA_MEMO: [std::sync::atomic::AtomicU64; REGISTERS + 1] =
    [const { std::sync::atomic::AtomicU64::new(0) }; REGISTERS + 1];

/// `m·σ(zeros/m)`'s σ, memoized per count of zero registers: σ iterates until it
/// converges, which for a mostly empty sketch takes a dozen dependent steps. Entries are
/// the bits of σ's value, 0 until computed (σ is positive for any positive count; 0 zeros
/// gives σ(0) = 0, computed at once).
fn sigma_of(zeros: u32) -> f64 {
    use std::sync::atomic::Ordering;
    // σ(0) = 0, which the memo cannot hold (0 there means not yet computed).
    if zeros == 0 {
        return 0.0;
    }
    let m = REGISTERS as f64;
    let Some(slot) = SIGMA_MEMO.get(zeros as usize) else {
        return sigma(f64::from(zeros) / m);
    };
    match slot.load(Ordering::Relaxed) {
        0 => {
            let v = sigma(f64::from(zeros) / m);
            slot.store(v.to_bits(), Ordering::Relaxed);
            v
        }
        bits => f64::from_bits(bits),
    }
}

/// Ertl's sigma. Terminates: `x` squares towards 0 (or stays infinite when above 1).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// Ertl's tau. Terminates: `y` halves towards 0. `(1-x)*(1-x)` is what GCC makes of
/// Redis's `pow(1 - x, 2)`; the server's counts match it.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fuzzing

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
/// Fuzz target body: loads arbitrary bytes, then adds, counts and merges. Never panics on
/// any input unless an internal invariant is broken (which the assertions report).
pub fn fuzz_load_add_count(data: &[u8]) {
    // The last byte picks `hll-sparse-max-bytes` (0..=4080): the first is always `H` when
    // the input loads.
    let limit = data
        .last()
        .map_or(DEFAULT_SPARSE_MAX_BYTES, |&b| usize::from(b) * 16);
    let Ok(mut h) = HyperLogLog::from_redis_bytes(data) else {
        return;
    };
    assert_eq!(h.as_bytes(), data);
    let original = h.clone();
    let items: Vec<&[u8]> = data.chunks(7).take(8).collect();
    for item in &items {
        if h.add(item, limit).is_err() {
            break;
        }
    }
    let _ = h.add(b"fuzz", limit);
    let _ = h.estimate();
    let counted = h.count();
    if let Ok(c) = counted {
        assert_eq!(h.cached_count(), (c >> 63 == 0).then_some(c));
        assert_eq!(h.count(), Ok(c));
    }
    if let Some(p) = match &h.repr {
        Repr::Sparse(s) => s.pending(),
        Repr::Dense(_) => None,
    } {
        let mut fresh = HyperLogLog::from_redis_bytes(h.as_bytes()).expect("own bytes");
        let _ = fresh.to_dense();
        if let Repr::Dense(d) = &fresh.repr {
            assert_eq!(p.stats, Stats::of(&dense_histogram(d.registers())));
        }
    }
    match &h.repr {
        Repr::Dense(d) if d.stats_ok => {
            assert_eq!(d.stats, Stats::of(&dense_histogram(d.registers())))
        }
        Repr::Sparse(s) => {
            if let Some(aux) = &s.aux {
                aux.assert_consistent(&s.bytes, s.past_end);
            }
        }
        _ => {}
    }
    assert!(
        HyperLogLog::from_redis_bytes(h.as_bytes()).is_ok(),
        "own bytes must reload"
    );
    for i in [0, 1, 8191, 16383, 16384, usize::MAX] {
        let _ = h.register(i);
    }
    let _ = h.sparse_decode();
    let _ = HyperLogLog::union_count(&[&original, &h]);
    if let Ok(m) = HyperLogLog::merge(Some(original.clone()), &[&h], limit) {
        if let Ok(u) = HyperLogLog::union_count(&[&original, &h]) {
            let mut m = m;
            // A destination with opcodes past register 16384 merges but cannot be counted.
            if let Ok(c) = m.count() {
                assert_eq!(c, u);
            }
        }
    }
    let mut d = original;
    if d.to_dense().is_ok() {
        let _ = d.count();
        let _ = d.add(b"more", limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer form of the estimator's first half gives Redis's loop bit for bit, and
    /// the memoized sigma gives sigma.
    #[test]
    fn exact_horner_and_memoized_sigma_match_the_loops() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut checked = 0;
        for case in 0..20_000 {
            // Spread 2^14 registers over bins up to a random top, sometimes past 38.
            let top = (next() % 45) as usize;
            let mut hist = [0u32; 64];
            let mut left = REGISTERS as u32;
            for k in (1..=top.min(Q + 1)).rev() {
                let c = match next() % 4 {
                    0 => 0,
                    1 => (next() % 3) as u32,
                    _ => (next() % u64::from(left / 4 + 1)) as u32,
                };
                let c = c.min(left);
                hist[k] = c;
                left -= c;
            }
            if case % 7 == 0 {
                hist[top.min(Q + 1)] = 1;
            }
            hist[0] = left;
            let slow = horner(&hist);
            if let Some(fast) = horner_exact(&hist) {
                assert_eq!(fast.to_bits(), slow.to_bits(), "{hist:?}");
                checked += 1;
            }
            let zeros = hist[0];
            assert_eq!(
                sigma_of(zeros).to_bits(),
                sigma(f64::from(zeros) / REGISTERS as f64).to_bits()
            );
            // The call above left σ's exact bits in the memo, which later calls read.
            assert_eq!(
                SIGMA_MEMO[zeros as usize].load(std::sync::atomic::Ordering::Relaxed),
                sigma(f64::from(zeros) / REGISTERS as f64).to_bits()
            );
        }
        assert!(checked > 10_000, "{checked}");
        let mut all_top = [0u32; 64];
        all_top[Q + 1] = REGISTERS as u32;
        assert_eq!(horner_exact(&all_top), None);
        assert_eq!(horner_exact(&[0; 64]), Some(0.0));
        assert_eq!(sigma_of(REGISTERS as u32), f64::INFINITY);
        assert_eq!(
            sigma_of(u32::MAX).to_bits(),
            sigma(u32::MAX as f64 / REGISTERS as f64).to_bits()
        );
    }
    use proptest::prelude::*;
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn to_hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn registers(h: &HyperLogLog) -> Vec<u8> {
        let mut u = HllUnion::new();
        u.merge(h).unwrap();
        u.max.to_vec()
    }

    fn add_all<'a>(h: &mut HyperLogLog, items: impl IntoIterator<Item = &'a [u8]>) -> bool {
        let mut changed = false;
        for item in items {
            changed |= h.add(item, DEFAULT_SPARSE_MAX_BYTES).unwrap();
        }
        changed
    }

    fn with_items(prefix: &str, range: std::ops::Range<u64>, limit: usize) -> HyperLogLog {
        let mut h = HyperLogLog::new();
        for i in range {
            h.add(format!("{prefix}{i}").as_bytes(), limit).unwrap();
        }
        h
    }

    /// SHA-256, for comparing against digests recorded from a real server (kept local: the crate
    /// has no hashing dependency for it).
    fn sha256(data: &[u8]) -> String {
        const K: [u32; 64] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
            0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
            0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
            0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
            0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
            0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
            0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
            0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
            0xc67178f2,
        ];
        let mut h: [u32; 8] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
            0x5be0cd19,
        ];
        let mut msg = data.to_vec();
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
        for block in msg.chunks(64) {
            let mut w = [0u32; 64];
            for i in 0..16 {
                w[i] = u32::from_be_bytes(block[i * 4..i * 4 + 4].try_into().unwrap());
            }
            for i in 16..64 {
                let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
                let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16]
                    .wrapping_add(s0)
                    .wrapping_add(w[i - 7])
                    .wrapping_add(s1);
            }
            let mut v = h;
            for i in 0..64 {
                let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
                let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
                let t1 = v[7]
                    .wrapping_add(s1)
                    .wrapping_add(ch)
                    .wrapping_add(K[i])
                    .wrapping_add(w[i]);
                let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
                let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
                let t2 = s0.wrapping_add(maj);
                v = [
                    t1.wrapping_add(t2),
                    v[0],
                    v[1],
                    v[2],
                    v[3].wrapping_add(t1),
                    v[4],
                    v[5],
                    v[6],
                ];
            }
            for (a, b) in h.iter_mut().zip(v) {
                *a = a.wrapping_add(b);
            }
        }
        h.iter().map(|x| format!("{x:08x}")).collect()
    }

    #[test]
    fn sha256_self_check() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hash_and_pattern_vectors() {
        let cases: [(&[u8], u64, usize, u8); 7] = [
            (b"a", 0x53d2470a9b43b1a7, 12711, 2),
            (b"b", 0xf10cdf96c004fda4, 15780, 1),
            (b"c", 0x7585a45533f260f4, 8436, 1),
            (b"", 0xd8dfea6585bc9732, 5938, 2),
            (b"hello world!", 0x0fc444011f57220c, 8716, 3),
            (b"12345678", 0x95ebb86389132953, 10579, 3),
            (b"123456789abcdefgh", 0xad1cb3e99ced07a6, 1958, 3),
        ];
        for (item, hash, index, count) in cases {
            assert_eq!(murmurhash64a(item, SEED), hash);
            assert_eq!(pattern_len(item), (index, count));
        }
    }

    #[test]
    fn new_is_redis_empty_value() {
        let h = HyperLogLog::new();
        assert_eq!(to_hex(h.as_bytes()), "48594c4c0100000000000000000000807fff");
        assert_eq!(h.encoding(), HllEncoding::Sparse);
        assert_eq!(h.len(), 18);
        assert_eq!(h.cached_count(), None);
    }

    #[test]
    fn v1_v10_abc_bytes_and_cache() {
        let mut h = HyperLogLog::new();
        assert!(add_all(&mut h, [&b"a"[..], b"b", b"c"]));
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000000000000000008060f38050b1844bfb80425a"
        );
        assert_eq!(
            h.sparse_decode().unwrap(),
            "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"
        );
        assert_eq!(
            h.count_and_cache(),
            Ok(Count {
                value: 3,
                cache_written: true
            })
        );
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000030000000000000060f38050b1844bfb80425a"
        );
        assert_eq!(
            h.count_and_cache(),
            Ok(Count {
                value: 3,
                cache_written: false
            })
        );
        // V10: an unchanged add leaves a valid cache alone.
        assert!(!h.add(b"a", 3000).unwrap());
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000030000000000000060f38050b1844bfb80425a"
        );
        // V10b: a change sets only the stale bit.
        assert!(h.add(b"d", 3000).unwrap());
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c0100000003000000000000805c7b8044768050b1844bfb80425a"
        );
        assert_eq!(h.count(), Ok(4));
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c0100000004000000000000005c7b8044768050b1844bfb80425a"
        );
        assert_eq!(h.register(12711), 2);
        assert_eq!(h.register(8436), 1);
        assert_eq!(h.register(0), 0);
    }

    #[test]
    fn v2_alphabet() {
        let mut h = HyperLogLog::new();
        let letters: Vec<[u8; 1]> = (b'a'..=b'z').map(|c| [c]).collect();
        assert!(add_all(&mut h, letters.iter().map(|l| &l[..])));
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000000000000000008044458c42268040898846e89441758440ec840e8040c48444\
             9094446680426280443c843880408f8041ac8047d18043b08042ed8441fc8c43938443188840df\
             80426d8041d080407e8408"
        );
        assert_eq!(h.len(), 90);
        assert_eq!(h.count(), Ok(25));
        assert_eq!(h.encoding(), HllEncoding::Sparse);
    }

    #[test]
    fn v3_v4_v5_item_sets() {
        let mut h = with_items("item:", 0..1000, 3000);
        assert_eq!((h.len(), h.encoding()), (1892, HllEncoding::Sparse));
        assert_eq!(
            sha256(h.as_bytes()),
            "ce8f109a2914aee2e4d918652643a88688b95f0e8047b95110432c803fa87111"
        );
        assert_eq!(h.count(), Ok(1002));
        assert_eq!(
            sha256(h.as_bytes()),
            "1aa0b6135794fd19558705c7b35279c094f4a4cedc6d202e23811c4db4228dbc"
        );
        assert_eq!(
            to_hex(&h.as_bytes()[..16]),
            "48594c4c01000000ea03000000000000"
        );

        let mut h = with_items("item:", 0..10000, 3000);
        assert_eq!((h.len(), h.encoding()), (12304, HllEncoding::Dense));
        assert_eq!(
            sha256(h.as_bytes()),
            "b0e6163ad38b7b66bdc74e88af486c8860c48265a75b2713b05d9121f4f8f099"
        );
        assert_eq!(h.count(), Ok(10083));
        assert_eq!(
            sha256(h.as_bytes()),
            "d1cce7dfa12f0a3f116ffb78c163daf1d9620a1bffe05897ed7b2dc198332a98"
        );
        assert_eq!(
            to_hex(&h.as_bytes()[..48]),
            "48594c4c000000006327000000000000c0000c81000000100003300c00200c40300c0500180630040020080120000420"
        );

        let mut h = with_items("item:", 0..100_000, 3000);
        assert_eq!(
            sha256(h.as_bytes()),
            "ab3849fccbe094a7b7c39a85871584bea8b84d27f44df90bfdf7f903644b024e"
        );
        assert_eq!(h.count(), Ok(100_310));
        assert_eq!(
            sha256(h.as_bytes()),
            "709675d6b21747ba4a865019dea4e2e223afdc02984cb5f70dd8ccba4ab27e1b"
        );
        assert_eq!(
            to_hex(&h.as_bytes()[..16]),
            "48594c4c00000000d687010000000000"
        );
    }

    #[test]
    fn v6_union_and_merge() {
        let mut k1 = with_items("e:", 0..600, 3000);
        let mut k2 = with_items("e:", 300..900, 3000);
        assert_eq!(k1.count(), Ok(599));
        assert_eq!(k2.count(), Ok(604));
        let (b1, b2) = (k1.to_redis_bytes(), k2.to_redis_bytes());
        assert_eq!(HyperLogLog::union_count(&[&k1, &k2]), Ok(899));
        assert_eq!((k1.to_redis_bytes(), k2.to_redis_bytes()), (b1, b2));

        let mut km = HyperLogLog::merge(None, &[&k1, &k2], 3000).unwrap();
        assert_eq!((km.encoding(), km.len()), (HllEncoding::Sparse, 1716));
        assert_eq!(
            to_hex(&km.as_bytes()[..16]),
            "48594c4c010000000000000000000080"
        );
        assert_eq!(
            sha256(km.as_bytes()),
            "6c5460d6220c613811e1c07041ee93c41b33eb2cba2a1490d007e129c3b4a6f8"
        );
        assert_eq!(km.count(), Ok(899));

        // V6b: a dense input makes the result dense.
        let kd = with_items("d:", 0..5000, 3000);
        assert_eq!(kd.encoding(), HllEncoding::Dense);
        let mut km2 = HyperLogLog::merge(None, &[&k1, &kd], 3000).unwrap();
        assert_eq!(km2.encoding(), HllEncoding::Dense);
        assert_eq!(
            to_hex(&km2.as_bytes()[..16]),
            "48594c4c000000000000000000000080"
        );
        assert_eq!(
            sha256(km2.as_bytes()),
            "697e6a0f9203e0a0de05d4dcc730e4b59c775d7a281baf80d40c73f9185bc2d4"
        );
        assert_eq!(km2.count(), Ok(5565));
        assert_eq!(HyperLogLog::union_count(&[&k1, &kd]), Ok(5565));
    }

    #[test]
    fn v6c_v6d_small_merges() {
        let mut s1 = HyperLogLog::new();
        add_all(&mut s1, [&b"a"[..], b"b", b"c"]);
        let mut s2 = HyperLogLog::new();
        add_all(&mut s2, [&b"c"[..], b"d"]);
        let mut sm = HyperLogLog::merge(None, &[&s1, &s2], 3000).unwrap();
        assert_eq!(
            to_hex(sm.as_bytes()),
            "48594c4c0100000000000000000000805c7b8044768050b1844bfb80425a"
        );
        assert_eq!(sm.count(), Ok(4));

        let empty = HyperLogLog::merge(None, &[], 3000).unwrap();
        assert_eq!(
            to_hex(empty.as_bytes()),
            "48594c4c0100000000000000000000807fff"
        );

        let mut dd = HyperLogLog::new();
        add_all(&mut dd, [&b"zz"[..]]);
        let mut dd = HyperLogLog::merge(Some(dd), &[&s1], 3000).unwrap();
        assert_eq!(dd.count(), Ok(4));
        assert_eq!(dd.register(pattern_len(b"zz").0), pattern_len(b"zz").1);

        // Merging a value with a valid cache into itself still marks the cache stale.
        let mut c = s1.clone();
        c.count().unwrap();
        let c = HyperLogLog::merge(Some(c), &[], 3000).unwrap();
        assert_eq!(c.cached_count(), None);
        assert_eq!(c.as_bytes()[8], 3);
    }

    #[test]
    fn v7_promotion_point() {
        let mut h = HyperLogLog::new();
        for i in 0..1671 {
            h.add(format!("x:{i}").as_bytes(), 3000).unwrap();
        }
        assert_eq!((h.encoding(), h.len()), (HllEncoding::Sparse, 3000));
        assert_eq!(
            sha256(h.as_bytes()),
            "812019a3579ecdd49c26b1e2578b054cfca0c64830210ba664f805f27e4b23c5"
        );
        assert!(h.add(b"x:1671", 3000).unwrap());
        assert_eq!((h.encoding(), h.len()), (HllEncoding::Dense, 12304));
        assert_eq!(
            to_hex(&h.as_bytes()[..16]),
            "48594c4c000000000000000000000080"
        );
        assert_eq!(
            sha256(h.as_bytes()),
            "8749f4a41f99279977ec55df431de5880a7f1a8c5f0cd46b29b754c1f02863d9"
        );
        assert_eq!(h.count(), Ok(1665));
    }

    #[test]
    fn v9_v12_cache_from_bytes() {
        let mut h = HyperLogLog::from_redis_bytes(&hex(
            "48594c4c01000000000000000000008060f38050b1844bfb80425a",
        ))
        .unwrap();
        assert_eq!(h.count(), Ok(3));
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000030000000000000060f38050b1844bfb80425a"
        );

        // V12: a valid cache is returned without decoding the (corrupt) body.
        let mut h =
            HyperLogLog::from_redis_bytes(&hex("48594c4c01000000d2040000000000007ffe")).unwrap();
        assert_eq!(
            h.count_and_cache(),
            Ok(Count {
                value: 1234,
                cache_written: false
            })
        );
        assert_eq!(h.estimate(), Err(HllError::Corrupt));
    }

    #[test]
    fn v11_empty_counts_zero() {
        let mut h = HyperLogLog::new();
        assert_eq!(h.count(), Ok(0));
        assert_eq!(to_hex(h.as_bytes()), "48594c4c0100000000000000000000007fff");
        assert_eq!(HyperLogLog::union_count(&[]), Ok(0));
    }

    #[test]
    fn v13_corrupt_sparse_partial_add() {
        let mut h =
            HyperLogLog::from_redis_bytes(&hex("48594c4c0100000000000000000000805f3f")).unwrap();
        assert_eq!(h.count(), Err(HllError::Corrupt));
        assert_eq!(h.add(b"123456789abcdefgh", 3000), Ok(true));
        assert_eq!(h.add(b"a", 3000), Err(HllError::Corrupt));
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000000000000000008047a5885798"
        );
    }

    #[test]
    fn v13b_extra_registers_accept_add_fail_count() {
        let over = hex("48594c4c0100000000000000000000807fff00");
        let mut h = HyperLogLog::from_redis_bytes(&over).unwrap();
        assert_eq!(h.add(b"a", 3000), Ok(true));
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000000000000000008071a6844e5700"
        );
        assert_eq!(h.count(), Err(HllError::Corrupt));
        let other = HyperLogLog::new();
        assert_eq!(
            HyperLogLog::union_count(&[&h, &other]),
            Err(HllError::Corrupt)
        );
        assert_eq!(
            HyperLogLog::merge(None, &[&h], 3000),
            Err(HllError::Corrupt)
        );
    }

    #[test]
    fn v14_all_registers_63() {
        let mut bytes = hex("48594c4c000000000000000000000080");
        bytes.resize(DENSE_LEN, 0xff);
        let mut h = HyperLogLog::from_redis_bytes(&bytes).unwrap();
        assert_eq!(h.count().map(|c| c as i64), Ok(i64::MIN));
        assert_eq!(
            to_hex(&h.as_bytes()[..16]),
            "48594c4c000000000000000000000080"
        );
        assert!(h.count_and_cache().unwrap().cache_written);
    }

    #[test]
    fn v15_type_check_errors() {
        let mut good = HyperLogLog::new();
        add_all(&mut good, [&b"a"[..], b"b", b"c"]);
        let good = good.to_redis_bytes();
        let mut magic = good.clone();
        magic[3] = b'M';
        let mut enc2 = good.clone();
        enc2[4] = 2;
        let mut dense116 = good.clone();
        dense116[4] = 0;
        dense116.resize(116, 0);
        for bad in [
            magic,
            enc2,
            dense116,
            b"123".to_vec(),
            Vec::new(),
            good[..15].to_vec(),
        ] {
            assert_eq!(HyperLogLog::from_redis_bytes(&bad), Err(HllError::NotHll));
        }
        assert_eq!(
            HllError::NotHll.to_string(),
            "WRONGTYPE Key is not a valid HyperLogLog string value."
        );
        assert_eq!(
            HllError::Corrupt.to_string(),
            "INVALIDOBJ Corrupted HLL object detected"
        );

        let mut header_only = HyperLogLog::from_redis_bytes(&good[..16]).unwrap();
        assert_eq!(header_only.count(), Err(HllError::Corrupt));
        assert_eq!(header_only.add(b"a", 3000), Err(HllError::Corrupt));
    }

    #[test]
    fn v16_unused_header_bytes_preserved() {
        let mut h =
            HyperLogLog::from_redis_bytes(&hex("48594c4c01abcdef00000000000000807fff")).unwrap();
        assert!(h.add(b"a", 3000).unwrap());
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01abcdef000000000000008071a6844e57"
        );
        assert_eq!(h.to_dense(), Ok(true));
        assert_eq!(h.to_dense(), Ok(false));
        assert_eq!(
            to_hex(&h.as_bytes()[..16]),
            "48594c4c00abcdef0000000000000080"
        );
    }

    #[test]
    fn v19_empty_string_item() {
        let mut h = HyperLogLog::new();
        assert!(h.add(b"", 3000).unwrap());
        assert_eq!(
            to_hex(h.as_bytes()),
            "48594c4c01000000000000000000008057318468cc"
        );
    }

    /// Redis's own suite: `tests/unit/hyperloglog.tcl`, corruption cases.
    #[test]
    fn redis_suite_corruptions() {
        let mut abc = HyperLogLog::new();
        add_all(&mut abc, [&b"a"[..], b"b", b"c"]);
        let abc = abc.to_redis_bytes();

        let mut tail = abc.clone();
        tail.extend_from_slice(b"hello");
        let mut h = HyperLogLog::from_redis_bytes(&tail).unwrap();
        assert_eq!(h.count(), Err(HllError::Corrupt));

        let mut magic = abc.clone();
        magic[..4].copy_from_slice(b"0123");
        assert_eq!(HyperLogLog::from_redis_bytes(&magic), Err(HllError::NotHll));

        let mut enc = abc.clone();
        enc[4] = b'x';
        assert_eq!(HyperLogLog::from_redis_bytes(&enc), Err(HllError::NotHll));

        let mut dense_len = abc.clone();
        dense_len[4] = 0;
        assert_eq!(
            HyperLogLog::from_redis_bytes(&dense_len),
            Err(HllError::NotHll)
        );

        // ZERO / XZERO runs that pass the last register.
        for body in ["7fff3f", "7fff7fff", "7f00ff", "3f7fff", "7fff80"] {
            let mut h =
                HyperLogLog::from_redis_bytes(&hex(&format!("{}{body}", &to_hex(&abc[..16]))))
                    .unwrap();
            assert_eq!(h.count(), Err(HllError::Corrupt), "{body}");
        }
        // Runs that stop short of it.
        for body in ["", "7ffe", "3f", "80", "7f"] {
            let bytes = hex(&format!("{}{body}", &to_hex(&abc[..16])));
            let mut h = HyperLogLog::from_redis_bytes(&bytes).unwrap();
            assert_eq!(h.count(), Err(HllError::Corrupt), "{body}");
            assert_eq!(HyperLogLog::union_count(&[&h, &h]), Err(HllError::Corrupt));
            assert_eq!(h.clone().to_dense(), Err(HllError::Corrupt));
        }
    }

    /// Long hostile sparse bodies: every reader is linear and none wraps its register count
    /// (2^20 XZEROs of 16384 cover 2^34 registers; a C `int` would wrap).
    #[test]
    fn huge_sparse_is_bounded() {
        let mut bytes = hex("48594c4c010000000000000000000080");
        for _ in 0..(1 << 20) {
            bytes.extend_from_slice(&[0x7f, 0xff]);
        }
        let mut h = HyperLogLog::from_redis_bytes(&bytes).unwrap();
        assert_eq!(h.clone().count(), Err(HllError::Corrupt));
        assert_eq!(HyperLogLog::union_count(&[&h]), Err(HllError::Corrupt));
        assert_eq!(h.clone().to_dense(), Err(HllError::Corrupt));
        // Past `hll-sparse-max-bytes` a split promotes, and promotion rejects the value.
        assert_eq!(h.add(b"a", 3000), Err(HllError::Corrupt));
        assert_eq!(h.len(), bytes.len());
        assert_eq!(h.add(b"a", usize::MAX), Ok(true));
        assert_eq!(h.add(b"b", usize::MAX), Ok(true));
        assert_eq!(h.len(), bytes.len() + 6);
        assert_eq!(h.count(), Err(HllError::Corrupt));
    }

    /// Readers other than `PFADD` want exactly 16384 registers; `PFADD` only walks to the
    /// opcode covering its register. Replies and bytes recorded from the live server.
    #[test]
    fn crafted_sparse_live_vectors() {
        let header = "48594c4c010000000000000000000080";
        let load =
            |body: &str| HyperLogLog::from_redis_bytes(&hex(&format!("{header}{body}"))).unwrap();
        for body in [
            "7fff80", "7fff00", "7ffe81", "7fff7fff", "7e7f4180", "7f", "3f", "7fffc9",
        ] {
            let h = load(body);
            assert_eq!(h.clone().count(), Err(HllError::Corrupt), "{body}");
            assert_eq!(
                HyperLogLog::union_count(&[&h]),
                Err(HllError::Corrupt),
                "{body}"
            );
            assert_eq!(
                HyperLogLog::merge(None, &[&h], 3000),
                Err(HllError::Corrupt),
                "{body}"
            );
            assert_eq!(h.clone().to_dense(), Err(HllError::Corrupt), "{body}");
        }
        let adds = [
            ("7fff80", "a", "71a6844e5780"),
            ("7fff00", "a", "71a6844e5700"),
            ("7ffe81", "a", "71a6844e5681"),
            ("7fff7fff", "a", "71a6844e577fff"),
            ("7e7f4180", "a", "71a6844cd74180"),
            ("7f", "a", "71a6844d"),
            ("7fffc9", "a", "71a6844e57c9"),
            ("7efe41", "a", "71a6844d5641"),
            ("7ffe80", "a", "71a6844e5680"),
            ("7ffe81", "it40566", "7ffe9080"),
            ("7ffe7d", "it40566", "7ffe907c"),
            ("7e7f4180", "it247", "7e7f407080410e"),
            ("7e7f4180", "it485", "7e7f414a8834"),
            ("7e7f4180", "it40566", "7e7f417e9000"),
            ("7ffe4180", "it40566", "7ffe90417f"),
            ("7fff", "it40566", "7ffe90"),
        ];
        for (body, item, after) in adds {
            let mut h = load(body);
            assert_eq!(h.add(item.as_bytes(), 3000), Ok(true), "{body} {item}");
            assert_eq!(to_hex(&h.as_bytes()[16..]), after, "{body} {item}");
        }
        for (body, item) in [("3f", "a"), ("7e7f41", "it485")] {
            let mut h = load(body);
            assert_eq!(h.add(item.as_bytes(), 3000), Err(HllError::Corrupt));
            assert_eq!(to_hex(&h.as_bytes()[16..]), body);
        }
        // A cut-off XZERO reads its missing byte as 0 and can complete a valid value.
        let mut h = load("7efe41");
        assert_eq!(h.clone().count(), Ok(0));
        let mut g = HyperLogLog::new();
        g.add(b"zz", 3000).unwrap();
        assert_eq!(HyperLogLog::union_count(&[&g, &h]), Ok(1));
        let m = HyperLogLog::merge(Some(h.clone()), &[&g], 3000).unwrap();
        assert_eq!(to_hex(&m.as_bytes()[16..]), "4ad980742341");
        assert_eq!(h.to_dense(), Ok(true));
        let mut v = load("7ffe80");
        assert_eq!(v.count(), Ok(1));
        let m = HyperLogLog::merge(Some(load("7ffe80")), &[&g], 3000).unwrap();
        assert_eq!(to_hex(&m.as_bytes()[16..]), "4ad980752380");
    }

    #[test]
    fn truncated_xzero_reads_zero_low_byte() {
        // XZERO with high bits 0x3f and a missing low byte: 0x3f00 + 1 = 16129 registers.
        let mut bytes = hex("48594c4c010000000000000000000080");
        bytes.extend_from_slice(&[0x3f, 0xfe, 0x7f]);
        // 64 + 255... compute coverage: ZERO(64), VAL(32,3) then XZERO(0x3f<<8 | 0)+1.
        let h = HyperLogLog::from_redis_bytes(&bytes).unwrap();
        assert_eq!(h.sparse_decode().unwrap(), "z:64 v:32,3 Z:16129");
        let mut h = h;
        assert_eq!(h.count(), Err(HllError::Corrupt));
        // The add path splits the cut-off XZERO and, as Redis, drops the sequence's last byte.
        let mut bytes = hex("48594c4c010000000000000000000080");
        bytes.extend_from_slice(&[0x7f]);
        let mut h = HyperLogLog::from_redis_bytes(&bytes).unwrap();
        assert_eq!(h.add(b"a", 3000), Ok(true));
        assert_eq!(to_hex(&h.as_bytes()[16..]), "71a6844d");
    }

    /// Redis's walk from the first opcode, never building the index.
    fn add_without_index(h: &mut HyperLogLog, item: &[u8], limit: usize) -> bool {
        if let Repr::Sparse(s) = &h.repr {
            assert!(s.aux.is_none());
        }
        let (index, count) = pattern_len(item);
        raise_without_index(h, index, count, limit)
    }

    /// A value counted after each update (a session's pages) keeps no side data; a run of
    /// updates without a count defers.
    #[test]
    fn counted_after_each_update_never_defers() {
        let mut h = HyperLogLog::new();
        for i in 0..200u32 {
            h.add(&i.to_le_bytes(), DEFAULT_SPARSE_MAX_BYTES).unwrap();
            h.count().unwrap();
            let Repr::Sparse(s) = &h.repr else {
                panic!("200 items promoted the value")
            };
            assert!(s.pending().is_none(), "deferring after {i} counted adds");
        }
        for i in 200..210u32 {
            h.add(&i.to_le_bytes(), DEFAULT_SPARSE_MAX_BYTES).unwrap();
        }
        let Repr::Sparse(s) = &h.repr else {
            panic!("210 items promoted the value")
        };
        assert!(s.pending().is_some(), "a run of ten adds did not defer");
    }

    /// Deferred updates give the bytes, counts and promotion point of immediate ones,
    /// whatever reads come between them.
    #[test]
    fn deferred_updates_match_immediate_ones() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for (limit, reads) in [(3000usize, 0u32), (3000, 5), (1500, 50), (20000, 300)] {
            let mut lazy = HyperLogLog::new();
            let mut eager = HyperLogLog::new();
            let mut deferred = 0;
            for i in 0..12_000u32 {
                // Some items twice, and some registers raised again.
                let item: [u8; 8] = if i % 7 == 3 {
                    (u64::from(i / 2)).to_le_bytes()
                } else {
                    rng.gen()
                };
                let a = lazy.add(&item, limit);
                let b = add_without_index(&mut eager, &item, limit);
                assert_eq!(a, Ok(b), "limit {limit} item {i}");
                if let Repr::Sparse(s) = &lazy.repr {
                    deferred += usize::from(s.has_pending());
                }
                if reads > 0 && rng.gen_range(0..reads) == 0 {
                    assert_eq!(lazy.as_bytes(), eager.as_bytes(), "limit {limit} item {i}");
                    assert_eq!(lazy.encoding(), eager.encoding());
                }
                if rng.gen_range(0..40) == 0 {
                    assert_eq!(lazy.count(), eager.count(), "limit {limit} item {i}");
                    assert_eq!(lazy.cached_count(), eager.cached_count());
                    // The reference walks without an index.
                    if let Repr::Sparse(s) = &mut eager.repr {
                        s.aux = None;
                    }
                }
                if i % 1000 == 999 {
                    assert_eq!(lazy.as_bytes(), eager.as_bytes(), "limit {limit} item {i}");
                    let idx = rng.gen_range(0..REGISTERS);
                    assert_eq!(lazy.register(idx), eager.register(idx));
                    assert_eq!(lazy.sparse_decode(), eager.sparse_decode());
                    assert_eq!(lazy.estimate(), eager.estimate());
                }
            }
            assert!(deferred > 0, "limit {limit}: nothing was deferred");
            assert_eq!(lazy.as_bytes(), eager.as_bytes());
            assert_eq!(lazy.count(), eager.count());
            assert_eq!(lazy.as_bytes(), eager.as_bytes());
        }
    }

    /// Redis's update of register `index` to `count`, walking from the first opcode.
    fn raise_without_index(h: &mut HyperLogLog, index: usize, count: u8, limit: usize) -> bool {
        let Repr::Sparse(s) = &mut h.repr else {
            return h.raise(index, count, limit).unwrap();
        };
        s.aux = None;
        match sparse_set(s, index, count, limit, Cursor::START).0 {
            SparseSet::Unchanged => false,
            SparseSet::Changed => true,
            SparseSet::Corrupt => panic!("corrupt"),
            SparseSet::Promote => {
                let mut dense = sparse_to_dense(s).unwrap();
                dense.raise(index, count);
                dense.bytes[15] |= STALE_BIT;
                h.repr = Repr::Dense(dense);
                true
            }
        }
    }

    /// One step of [`deferred_state_matches_eager`].
    #[derive(Clone, Debug)]
    enum LazyOp {
        /// Raise a register (indices crowd a few ranges, so registers are raised again and
        /// values of 14 and up, kept in the log rather than the nibbles, occur).
        Raise(usize, u8),
        /// Read the bytes through `&self` (the view beside the log).
        Bytes,
        /// Count (the cache is written).
        Count,
        /// PFMERGE of this value with one other small one into this key.
        Merge(Vec<u16>),
        /// Clone, and continue with the clone.
        Clone,
    }

    fn arb_lazy_op() -> impl Strategy<Value = LazyOp> {
        prop_oneof![
            20 => (0usize..REGISTERS, 1u8..=4).prop_map(|(i, c)| LazyOp::Raise(i, c)),
            15 => (0usize..600, 1u8..=20).prop_map(|(i, c)| LazyOp::Raise(i * 27, c)),
            40 => (0usize..40, 1u8..=6).prop_map(|(i, c)| LazyOp::Raise(i * 401, c)),
            4 => (0usize..REGISTERS, 21u8..=40).prop_map(|(i, c)| LazyOp::Raise(i, c)),
            2 => Just(LazyOp::Bytes),
            2 => Just(LazyOp::Count),
            1 => prop::collection::vec(any::<u16>(), 0..40).prop_map(LazyOp::Merge),
            1 => Just(LazyOp::Clone),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// After any sequence of updates, reads, counts, merges and clones, the deferred
        /// representation gives the bytes, counts and answers of Redis's update-by-update walk.
        #[test]
        fn deferred_state_matches_eager(
            ops in prop::collection::vec(arb_lazy_op(), 1..1500),
            limit in prop_oneof![Just(3000usize), 300usize..5000],
        ) {
            let mut lazy = HyperLogLog::new();
            let mut eager = HyperLogLog::new();
            for op in ops {
                match op {
                    LazyOp::Raise(i, c) => {
                        let a = lazy.raise(i, c, limit);
                        let b = raise_without_index(&mut eager, i, c, limit);
                        prop_assert_eq!(a, Ok(b));
                    }
                    LazyOp::Bytes => {
                        prop_assert_eq!(lazy.as_bytes(), eager.as_bytes());
                        prop_assert_eq!(lazy.encoding(), eager.encoding());
                    }
                    LazyOp::Count => {
                        prop_assert_eq!(lazy.count(), eager.count());
                    }
                    LazyOp::Merge(regs) => {
                        let mut other = HyperLogLog::new();
                        for r in regs {
                            other.raise(usize::from(r) % REGISTERS, (r >> 14) as u8 + 1, 3000).unwrap();
                        }
                        lazy = HyperLogLog::merge(Some(lazy), &[&other], limit).unwrap();
                        eager = HyperLogLog::merge(Some(eager), &[&other], limit).unwrap();
                    }
                    LazyOp::Clone => lazy = lazy.clone(),
                }
            }
            prop_assert_eq!(lazy.count(), eager.count());
            prop_assert_eq!(lazy.as_bytes(), eager.as_bytes());
        }
    }

    /// A value with deferred updates merges, converts and clones as its bytes say.
    #[test]
    fn deferred_updates_before_merge_and_todense() {
        let mut a = HyperLogLog::new();
        let mut b = HyperLogLog::new();
        for i in 0..400u32 {
            a.add(format!("a{i}").as_bytes(), 3000).unwrap();
            b.add(format!("b{i}").as_bytes(), 3000).unwrap();
        }
        let Repr::Sparse(s) = &a.repr else {
            panic!("sparse expected")
        };
        assert!(s.has_pending());
        let a_bytes = a.as_bytes().to_vec();
        let a2 = HyperLogLog::from_redis_bytes(&a_bytes).unwrap();
        let merged = HyperLogLog::merge(Some(a.clone()), &[&b], 3000).unwrap();
        let merged2 = HyperLogLog::merge(Some(a2.clone()), &[&b], 3000).unwrap();
        assert_eq!(merged.as_bytes(), merged2.as_bytes());
        assert_eq!(
            HyperLogLog::union_count(&[&a, &b]),
            HyperLogLog::union_count(&[&a2, &b])
        );
        let mut c = a.clone();
        let mut c2 = a2.clone();
        assert_eq!(c.to_dense(), Ok(true));
        assert_eq!(c2.to_dense(), Ok(true));
        assert_eq!(c.as_bytes(), c2.as_bytes());
        assert_eq!(a.clone().count(), a2.clone().count());
        assert_eq!(a, a2);
    }

    /// The index of large sparse values never changes the bytes and stays consistent.
    #[test]
    fn sparse_index_matches_plain_walk() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for limit in [3000usize, 6000, 20000] {
            let mut indexed = HyperLogLog::new();
            let mut plain = HyperLogLog::new();
            for i in 0..6000u32 {
                let item: [u8; 8] = rng.gen();
                let a = indexed.add(&item, limit);
                let b = add_without_index(&mut plain, &item, limit);
                assert_eq!(a, Ok(b));
                assert_eq!(
                    indexed.as_bytes(),
                    plain.as_bytes(),
                    "limit {limit} item {i}"
                );
                if let Repr::Sparse(s) = &indexed.repr {
                    if let Some(aux) = &s.aux {
                        if i % 97 == 0 {
                            aux.assert_consistent(&s.bytes, s.past_end);
                        }
                    }
                }
                if i % 50 == 0 {
                    assert_eq!(indexed.clone().count(), plain.clone().count());
                }
                if indexed.encoding() == HllEncoding::Dense {
                    break;
                }
            }
        }
    }

    #[test]
    fn round_trips_and_serde() {
        for n in [0u64, 1, 20, 1000, 5000] {
            let mut h = with_items("rt:", 0..n, 3000);
            for _ in 0..2 {
                let bytes = h.to_redis_bytes();
                let back = HyperLogLog::from_redis_bytes(&bytes).unwrap();
                assert_eq!(back.as_bytes(), &bytes[..]);
                assert_eq!(back.encoding(), h.encoding());
                let mut out = Vec::new();
                back.write_redis_bytes(&mut out);
                assert_eq!(out, bytes);
                let json = serde_json::to_string(&h).unwrap();
                let de: HyperLogLog = serde_json::from_str(&json).unwrap();
                assert_eq!(de, h);
                h.count().unwrap();
            }
        }
        assert!(serde_json::from_str::<HyperLogLog>("[1,2,3]").is_err());
    }

    #[test]
    fn sparse_stays_small() {
        let h = with_items("s:", 0..20, 3000);
        assert_eq!(h.encoding(), HllEncoding::Sparse);
        assert!(h.len() < 80, "{}", h.len());
        assert!(std::mem::size_of::<HyperLogLog>() <= 40);
    }

    #[test]
    fn promotion_respects_sparse_max_bytes() {
        for limit in [0usize, 50, 3000] {
            let mut h = HyperLogLog::new();
            let mut i = 0u64;
            while h.encoding() == HllEncoding::Sparse {
                let before = h.len();
                let changed = h.add(format!("p:{i}").as_bytes(), limit).unwrap();
                if h.encoding() == HllEncoding::Sparse {
                    assert!(h.len() <= limit.max(before), "limit {limit}");
                } else {
                    assert!(changed);
                }
                i += 1;
            }
            assert_eq!(h.len(), DENSE_LEN);
            if limit == 0 {
                assert_eq!(i, 1, "the first growing split promotes");
            }
            // Dense holds the same registers as a never-promoted sparse with the same items.
            let sparse = with_items("p:", 0..i, usize::MAX);
            assert_eq!(registers(&h), registers(&sparse));
            assert_eq!(h.estimate(), sparse.estimate());
        }
        // A count above 32 promotes even on the empty value.
        let mut h = HyperLogLog::new();
        assert_eq!(h.raise(5, 33, usize::MAX), Ok(true));
        assert_eq!((h.encoding(), h.register(5)), (HllEncoding::Dense, 33));
    }

    #[test]
    fn dense_registers_and_histogram() {
        let mut h = with_items("dr:", 0..20_000, 3000);
        let Repr::Dense(d) = &mut h.repr else {
            panic!("dense expected")
        };
        assert!(d.stats_ok);
        let hist = dense_histogram(d.registers());
        assert_eq!(hist.iter().sum::<u32>(), REGISTERS as u32);
        assert_eq!(d.stats, Stats::of(&hist));
        assert_eq!(d.estimate_ref(), estimate(&hist));
        let mut regs = [0u8; REGISTERS];
        let mut d2 = Dense::zeroed();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (i, r) in regs.iter_mut().enumerate() {
            *r = rng.gen_range(0..64);
            dense_set(&mut d2.bytes[HEADER_LEN..], i, *r);
        }
        for (i, r) in regs.iter().enumerate() {
            assert_eq!(dense_get(d2.registers(), i), *r);
        }
    }

    #[test]
    fn union_count_multi_key_matches_raw_max() {
        let a = with_items("u:", 0..3000, 3000);
        let b = with_items("u:", 2000..2600, 3000);
        let c = HyperLogLog::new();
        let merged = HyperLogLog::merge(None, &[&a, &b, &c], 3000).unwrap();
        let mut m = merged.clone();
        assert_eq!(
            HyperLogLog::union_count(&[&a, &b, &c, &a]).unwrap(),
            m.count().unwrap()
        );
        for r in (0..REGISTERS).step_by(7) {
            assert_eq!(merged.register(r), a.register(r).max(b.register(r)));
        }
    }

    /// Seeded statistical bound, see the module's `# Accuracy`. The items are uniform 64-bit
    /// hashes fed through the same register mapping as `add` (MurmurHash64A of an item is
    /// checked against Redis elsewhere), so the 1,000,000 items of each of the four
    /// independent sketches run in a debug build too. One sketch's checkpoints are strongly
    /// correlated (each count includes all earlier items), so the RMS is pooled over four.
    #[test]
    fn accuracy_within_bound() {
        const N: u64 = 1_000_000;
        const STEP: u64 = 4999;
        let (mut sq, mut checks, mut worst) = (0.0, 0.0, 0.0f64);
        for seed in [0x5eed, 0x5eee, 0x5eef, 0x5ef0] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut h = HyperLogLog::new();
            for n in 1..=N {
                let (index, count) = pattern_of_hash(rng.next_u64());
                h.raise(index, count, 3000).unwrap();
                if n % STEP == 0 {
                    let est = h.count().unwrap() as f64;
                    let err = (est - n as f64) / n as f64;
                    assert!(err.abs() < 0.03, "seed {seed:#x} n={n} est={est}");
                    sq += err * err;
                    checks += 1.0;
                    worst = worst.max(err.abs());
                }
            }
        }
        let rms = (sq / checks).sqrt();
        assert_eq!(checks, (4 * (N / STEP)) as f64);
        eprintln!("accuracy: rms {rms:.5} worst {worst:.5} over {checks} checkpoints");
        assert!(rms < 0.012, "rms {rms} worst {worst}");
        assert!(rms > 0.002, "rms {rms}: too good to be an estimate");
    }

    #[test]
    fn fuzz_inputs() {
        let mut rng = ChaCha8Rng::seed_from_u64(0xf022);
        let mut seeds: Vec<Vec<u8>> = vec![
            HyperLogLog::new().to_redis_bytes(),
            with_items("f:", 0..30, 3000).to_redis_bytes(),
            with_items("f:", 0..1500, 3000).to_redis_bytes(),
            with_items("f:", 0..4000, 3000).to_redis_bytes(),
        ];
        seeds.push(hex("48594c4c010000000000000000000080"));
        seeds.push(hex("48594c4c0100000000000000000000807f"));
        for seed in &seeds {
            fuzz_load_add_count(seed);
        }
        for i in 0..400 {
            let input = if i % 4 == 0 {
                let len = rng.gen_range(0..64);
                let mut v: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                if len >= 5 && rng.gen_bool(0.8) {
                    v[..4].copy_from_slice(b"HYLL");
                    v[4] = rng.gen_range(0..2);
                }
                v
            } else {
                let mut v = seeds[rng.gen_range(0..seeds.len())].clone();
                for _ in 0..rng.gen_range(1..6) {
                    match rng.gen_range(0..4) {
                        0 if v.len() > 16 => {
                            let p = rng.gen_range(16..v.len());
                            v[p] = rng.gen();
                        }
                        1 => v.push(rng.gen()),
                        2 if v.len() > 16 => {
                            let p = rng.gen_range(16..v.len());
                            v.truncate(p);
                        }
                        _ => {
                            let p = rng.gen_range(0..v.len().min(16));
                            v[p] ^= 1 << rng.gen_range(0..8);
                        }
                    }
                }
                v
            };
            fuzz_load_add_count(&input);
        }
    }

    fn arb_hll() -> impl Strategy<Value = HyperLogLog> {
        (
            prop::collection::vec(any::<u32>(), 0..400),
            prop::bool::ANY,
            0usize..4000,
        )
            .prop_map(|(items, dense, limit)| {
                let mut h = HyperLogLog::new();
                if dense {
                    h.to_dense().unwrap();
                }
                for i in items {
                    h.add(&i.to_le_bytes(), limit).unwrap();
                }
                h
            })
    }

    fn same_registers(a: &HyperLogLog, b: &HyperLogLog) -> bool {
        registers(a) == registers(b)
    }

    #[test]
    fn round_half_away_edges() {
        let below_half = 0.5f64.next_down();
        for e in [
            0.0,
            below_half,
            0.5,
            1.5,
            2.5,
            2.5f64.next_down(),
            4503599627370495.5,
            9007199254740993.0,
            9_223_372_036_854_774_784.0,
            1e18 + 0.5,
            -0.0,
            -3.7,
        ] {
            assert_eq!(round_half_away(e), e.round() as u64, "{e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn round_half_away_is_round(bits in 0u64..0x43e0_0000_0000_0000, frac in 0.0f64..1.0, n in 0u64..1 << 53) {
            // Any non-negative double below 2^63, and values near halves at every scale.
            let e = f64::from_bits(bits);
            prop_assert_eq!(round_half_away(e), e.round() as u64);
            let e = n as f64 + frac;
            prop_assert_eq!(round_half_away(e), e.round() as u64);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn merge_commutative(a in arb_hll(), b in arb_hll()) {
            let ab = HyperLogLog::merge(None, &[&a, &b], 3000).unwrap();
            let ba = HyperLogLog::merge(None, &[&b, &a], 3000).unwrap();
            prop_assert_eq!(ab, ba);
        }

        #[test]
        fn merge_associative(a in arb_hll(), b in arb_hll(), c in arb_hll()) {
            let ab = HyperLogLog::merge(None, &[&a, &b], 3000).unwrap();
            let bc = HyperLogLog::merge(None, &[&b, &c], 3000).unwrap();
            let left = HyperLogLog::merge(None, &[&ab, &c], 3000).unwrap();
            let right = HyperLogLog::merge(None, &[&a, &bc], 3000).unwrap();
            prop_assert!(same_registers(&left, &right));
            prop_assert_eq!(left.estimate(), right.estimate());
        }

        #[test]
        fn merge_idempotent(a in arb_hll()) {
            let aa = HyperLogLog::merge(None, &[&a, &a], 3000).unwrap();
            prop_assert!(same_registers(&aa, &a));
            prop_assert_eq!(aa.estimate(), a.estimate());
            let again = HyperLogLog::merge(Some(aa.clone()), &[&a], 3000).unwrap();
            prop_assert!(same_registers(&again, &aa));
        }

        #[test]
        fn union_count_is_count_of_merge(a in arb_hll(), b in arb_hll()) {
            let mut m = HyperLogLog::merge(None, &[&a, &b], 3000).unwrap();
            prop_assert_eq!(HyperLogLog::union_count(&[&a, &b]), m.count());
        }

        #[test]
        fn count_never_decreases(items in prop::collection::vec(any::<u64>(), 1..3000), limit in 0usize..4000) {
            let mut h = HyperLogLog::new();
            let mut last = 0;
            for (i, item) in items.iter().enumerate() {
                h.add(&item.to_le_bytes(), limit).unwrap();
                if i % 16 == 0 || i + 1 == items.len() {
                    let c = h.count().unwrap();
                    prop_assert!(c >= last);
                    last = c;
                }
            }
        }

        #[test]
        fn fuzz_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
            fuzz_load_add_count(&data);
            let mut framed = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
            framed.extend_from_slice(&data);
            fuzz_load_add_count(&framed);
        }
    }
}
