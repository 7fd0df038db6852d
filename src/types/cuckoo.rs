//! RedisBloom's cuckoo filter (`CF.*`): same layout, hashing, kick-out walk, growth,
//! deletion-driven compaction and `CF.SCANDUMP` chunks, so that the same operations give the
//! same replies as RedisBloom 2.8, false positives included.
//!
//! # Design
//!
//! - A [`CuckooFilter`] is a chain of [`SubFilter`]s. Sub-filter `i` has
//!   `num_buckets * expansion^i` buckets of `bucket_size` one-byte slots. Inserts go to the
//!   newest sub-filter that has a free slot in either of the item's two buckets; when none has,
//!   the newest sub-filter runs a kick-out walk, and when that fails too a new sub-filter is
//!   appended (or, with expansion 0, the insert fails). Cost: lookups probe two buckets in every
//!   sub-filter.
//! - Every quirk that shows in a reply is kept on purpose: the walk's deterministic victim slot
//!   (0, 1, 2, ... modulo the bucket size) and its rollback, compaction after more than 10 % of
//!   the items were deleted, `CF.SCANDUMP` returning a whole sub-filter from its start when the
//!   sub-filter fits one chunk (whatever the cursor pointed at inside it), and `CF.LOADCHUNK`'s
//!   offset arithmetic. Cost: code that reads oddly in places; each oddity carries a comment.
//! - Memory is bounded: creation, growth and loading a `CF.SCANDUMP` header all check the
//!   total slot bytes against [`MAX_DATA_BYTES`] before allocating, and allocation failure is
//!   an error, not an abort. The bound keeps every sub-filter under 2^32 bytes, where
//!   RedisBloom's 32-bit bucket index arithmetic agrees with 64-bit arithmetic.
//!
//! # Representation
//!
//! Each sub-filter is one byte array, bucket after bucket; slot value 0 is empty, 1..=255 a
//! fingerprint. An item hashes to `h = MurmurHash64A(item, seed 0)`, fingerprint
//! `fp = h % 255 + 1`, buckets `h % n` and `(h ^ fp * 0x5bd1e995) % n` for a sub-filter of `n`
//! buckets (both hashes are full 64-bit values reduced per sub-filter).
//!
//! ```text
//!  bucket:   0              1              2                    n-1
//!  slot:   [s0 s1 .. sB-1][s0 s1 .. sB-1][s0 ..        ] ... [      .. sB-1]
//!  byte:    0  1  .. B-1   B ....
//! ```
//!
//! `CF.SCANDUMP` header (cursor 0), packed little-endian, 38 bytes:
//!
//! ```text
//!  0          8            16           24           32          34            36
//!  +----------+------------+------------+------------+-----------+-------------+-----------+
//!  | numItems | numBuckets | numDeletes | numFilters | bucketSize| maxIterations| expansion |
//!  | u64      | u64        | u64        | u64        | u16       | u16          | u16       |
//!  +----------+------------+------------+------------+-----------+-------------+-----------+
//! ```
//!
//! Then cursor `p + 1` addresses byte `p` of the concatenated sub-filter arrays; a chunk never
//! spans two sub-filters, holds at most [`MAX_SCANDUMP_CHUNK`] bytes, and the reply's cursor
//! is the one after its last byte (the cursor `CF.LOADCHUNK` takes with it).
//!
//! # Worked example
//!
//! `CF.RESERVE c 10` makes one sub-filter of `next_pow2(10 / 2) = 8` buckets of 2 slots.
//! `CF.ADD c a`: `h = MurmurHash64A("a", 0) = 0x071717d2d36b6b11`, `fp = h % 255 + 1 = 0xc4`,
//! first bucket `h % 8 = 1`, whose slot 0 is empty, so byte 2 becomes `0xc4`:
//! `CF.SCANDUMP c 1` replies `[17, 00 00 c4 00 00 00 00 00 00 00 00 00 00 00 00 00]`
//! (the unit test `worked_example` checks this).
//!
//! # Accuracy
//!
//! An absent item is reported present when one of the `2 * bucket_size` slots of its two
//! buckets, in any sub-filter, holds its fingerprint: about `2 * b * load / 255` per
//! sub-filter. `fp_rate_bucket2` (fixed seed, 200,000 absent items) measures 0.0139 at
//! bucket size 2 with one sub-filter 90 % full, against `4 * 0.9 / 255 = 0.0141` predicted.
//!
//! # References
//!
//! RedisBloom 2.8 `src/cuckoo.c` (layout, walk, compaction), `src/cf.c` (dump and load),
//! `src/rebloom.c` (`CF.*` commands and their errors); B. Fan, D. Andersen, M. Kaminsky,
//! M. Mitzenmacher, "Cuckoo Filter: Practically Better Than Bloom" (2014).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::murmur::murmurhash64a;

/// Default bucket size of `CF.RESERVE` and auto-created filters.
pub const DEFAULT_BUCKET_SIZE: u16 = 2;
/// Default kick-out walk length.
pub const DEFAULT_MAX_ITERATIONS: u16 = 20;
/// Default expansion.
pub const DEFAULT_EXPANSION: u16 = 1;
/// Capacity of a filter `CF.ADD`/`CF.INSERT` create without `CAPACITY`.
pub const DEFAULT_CAPACITY: i64 = 1024;
/// Largest accepted `EXPANSION`.
pub const MAX_EXPANSION: i64 = 32768;
/// Largest accepted `MAXITERATIONS`.
pub const MAX_ITERATIONS: i64 = 65535;
/// Largest accepted `BUCKETSIZE`.
pub const MAX_BUCKET_SIZE: i64 = 255;
/// A filter with this many sub-filters refuses further adds (RedisBloom's `CFMaxExpansions`).
pub const MAX_EXPANSIONS: usize = 32;
/// Largest data chunk of `CF.SCANDUMP` (16 MiB).
pub const MAX_SCANDUMP_CHUNK: u64 = 16 * 1024 * 1024;
/// Largest total of slot bytes over all sub-filters that creation, growth or loading may
/// reach (512 MiB).
pub const MAX_DATA_BYTES: u64 = 512 * 1024 * 1024;
/// Length of the `CF.SCANDUMP` header chunk.
pub const HEADER_LEN: usize = 38;
/// `CF.INFO Size` counts RedisBloom's filter struct (40 bytes) and one 16-byte record per
/// sub-filter besides the slots.
const INFO_FILTER_OVERHEAD: u64 = 40;
const INFO_SUBFILTER_OVERHEAD: u64 = 16;
const ALT_MULTIPLIER: u64 = 0x5bd1_e995;

/// What can fail. `Display` is RedisBloom's exact reply text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CuckooError {
    /// Capacity under twice the bucket size.
    CapacityTooSmall,
    /// `BUCKETSIZE` outside 1..=255.
    BucketSizeRange,
    /// `MAXITERATIONS` outside 1..=65535.
    MaxIterationsRange,
    /// `EXPANSION` outside 0..=32768.
    ExpansionRange,
    /// `CF.RESERVE` could not allocate the filter (over [`MAX_DATA_BYTES`] or refused).
    CreateFailed,
    /// `CF.ADD`/`CF.INSERT` could not allocate the filter they auto-create.
    AutoCreateFailed,
    /// `CF.ADD`/`CF.ADDNX` on a full filter with expansion 0.
    Full,
    /// The filter already has [`MAX_EXPANSIONS`] sub-filters.
    MaxExpansions,
    /// Growth past [`MAX_DATA_BYTES`] or refused by the allocator.
    OutOfMemory,
    /// A negative `CF.SCANDUMP` cursor or a `CF.LOADCHUNK` cursor of 0.
    InvalidPosition,
    /// A `CF.LOADCHUNK` header that is not [`HEADER_LEN`] bytes.
    InvalidHeader,
    /// A header with inconsistent or oversized fields.
    HeaderRejected,
    /// A data chunk outside the filter.
    ChunkRejected,
}

impl fmt::Display for CuckooError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CuckooError::CapacityTooSmall => "Capacity must be at least (BucketSize * 2)",
            CuckooError::BucketSizeRange => {
                "BUCKETSIZE: value must be an integer between 1 and 255, inclusive."
            }
            CuckooError::MaxIterationsRange => {
                "MAXITERATIONS: value must be an integer between 1 and 65535, inclusive."
            }
            CuckooError::ExpansionRange => {
                "EXPANSION: value must be an integer between 0 and 32768, inclusive."
            }
            CuckooError::CreateFailed => "Couldn't create Cuckoo Filter",
            CuckooError::AutoCreateFailed => "Could not create filter",
            CuckooError::Full => "Filter is full",
            CuckooError::MaxExpansions => "Maximum expansions reached",
            CuckooError::OutOfMemory => "Memory allocation failure",
            CuckooError::InvalidPosition => "Invalid position",
            CuckooError::InvalidHeader => "Invalid header",
            CuckooError::HeaderRejected => "Couldn't create filter!",
            CuckooError::ChunkRejected => "Couldn't load chunk!",
        })
    }
}

impl std::error::Error for CuckooError {}

/// Checks a `MAXITERATIONS` value.
pub fn check_max_iterations(v: i64) -> Result<u16, CuckooError> {
    if (1..=MAX_ITERATIONS).contains(&v) {
        u16::try_from(v).map_err(|_| CuckooError::MaxIterationsRange)
    } else {
        Err(CuckooError::MaxIterationsRange)
    }
}

/// Checks a `BUCKETSIZE` value.
pub fn check_bucket_size(v: i64) -> Result<u16, CuckooError> {
    if (1..=MAX_BUCKET_SIZE).contains(&v) {
        u16::try_from(v).map_err(|_| CuckooError::BucketSizeRange)
    } else {
        Err(CuckooError::BucketSizeRange)
    }
}

/// Checks an `EXPANSION` value.
pub fn check_expansion(v: i64) -> Result<u16, CuckooError> {
    if (0..=MAX_EXPANSION).contains(&v) {
        u16::try_from(v).map_err(|_| CuckooError::ExpansionRange)
    } else {
        Err(CuckooError::ExpansionRange)
    }
}

/// Checks a capacity against a bucket size (`CF.RESERVE`, `CF.INSERT ... CAPACITY`).
pub fn check_capacity(capacity: i64, bucket_size: u16) -> Result<u64, CuckooError> {
    if i64::from(bucket_size) * 2 > capacity {
        return Err(CuckooError::CapacityTooSmall);
    }
    u64::try_from(capacity).map_err(|_| CuckooError::CapacityTooSmall)
}

/// The result of inserting one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored (`1`).
    Inserted,
    /// `CF.ADDNX`/`CF.INSERTNX` only: the item may already be present (`0`).
    Exists,
    /// No room and the filter may not grow (`-1` in `CF.INSERT`, an error in `CF.ADD`).
    NoSpace,
    /// Growth was needed but over [`MAX_DATA_BYTES`] or refused by the allocator.
    OutOfMemory,
}

/// A `CF.SCANDUMP` reply: the cursor to ask for next (0 at the end) and the chunk (`None` at
/// the end).
pub type ScanDump<'a> = (i64, Option<Cow<'a, [u8]>>);

/// `CF.INFO` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CuckooInfo {
    /// `Size`: RedisBloom's struct sizes plus the slot bytes.
    pub size: u64,
    /// `Number of buckets` (of the first sub-filter).
    pub num_buckets: u64,
    /// `Number of filters`.
    pub num_filters: u64,
    /// `Number of items inserted` (net of deletions).
    pub num_items: u64,
    /// `Number of items deleted` since the last compaction.
    pub num_deletes: u64,
    /// `Bucket size`.
    pub bucket_size: u64,
    /// `Expansion rate`.
    pub expansion: u64,
    /// `Max iterations`.
    pub max_iterations: u64,
}

/// One sub-filter: `num_buckets` buckets of the filter's bucket size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubFilter {
    num_buckets: u64,
    data: Box<[u8]>,
}

impl SubFilter {
    /// Bucket count.
    pub fn num_buckets(&self) -> u64 {
        self.num_buckets
    }

    /// The slots, bucket after bucket.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    fn zeroed(num_buckets: u64, bucket_size: u16) -> Option<SubFilter> {
        let len = usize::try_from(num_buckets.checked_mul(u64::from(bucket_size))?).ok()?;
        let mut v = Vec::new();
        v.try_reserve_exact(len).ok()?;
        v.resize(len, 0u8);
        Some(SubFilter {
            num_buckets,
            data: v.into_boxed_slice(),
        })
    }

    /// Byte offset of the bucket `hash` maps to.
    #[inline]
    fn bucket_start(&self, hash: u64, bucket_size: u16) -> usize {
        // The product stays under the array length (< 2^32 by MAX_DATA_BYTES).
        ((hash % self.num_buckets) * u64::from(bucket_size)) as usize
    }

    #[inline]
    fn bucket(&self, hash: u64, bucket_size: u16) -> &[u8] {
        let start = self.bucket_start(hash, bucket_size);
        self.data
            .get(start..start + usize::from(bucket_size))
            .unwrap_or(&[])
    }

    #[inline]
    fn bucket_mut(&mut self, hash: u64, bucket_size: u16) -> &mut [u8] {
        let start = self.bucket_start(hash, bucket_size);
        self.data
            .get_mut(start..start + usize::from(bucket_size))
            .unwrap_or(&mut [])
    }

    fn contains(&self, key: &Lookup, bucket_size: u16) -> bool {
        self.bucket(key.h1, bucket_size).contains(&key.fp)
            || self.bucket(key.h2, bucket_size).contains(&key.fp)
    }

    fn count(&self, key: &Lookup, bucket_size: u16) -> u64 {
        let c1 = self.bucket(key.h1, bucket_size);
        let c2 = self.bucket(key.h2, bucket_size);
        c1.iter().chain(c2).filter(|&&s| s == key.fp).count() as u64
    }

    fn delete(&mut self, key: &Lookup, bucket_size: u16) -> bool {
        for h in [key.h1, key.h2] {
            let b = self.bucket_mut(h, bucket_size);
            if let Some(s) = b.iter_mut().find(|s| **s == key.fp) {
                *s = 0;
                return true;
            }
        }
        false
    }

    /// Stores `fp` in the first empty slot of its first bucket, else of its second.
    fn put(&mut self, key: &Lookup, bucket_size: u16) -> bool {
        for h in [key.h1, key.h2] {
            let b = self.bucket_mut(h, bucket_size);
            if let Some(s) = b.iter_mut().find(|s| **s == 0) {
                *s = key.fp;
                return true;
            }
        }
        false
    }
}

/// An item's fingerprint and its two bucket hashes (reduced per sub-filter).
#[derive(Clone, Copy, Debug)]
struct Lookup {
    h1: u64,
    h2: u64,
    fp: u8,
}

#[inline]
fn alt_hash(fp: u8, index: u64) -> u64 {
    index ^ u64::from(fp).wrapping_mul(ALT_MULTIPLIER)
}

impl Lookup {
    #[inline]
    fn new(hash: u64) -> Lookup {
        // 1..=255: 0 marks an empty slot.
        let fp = (hash % 255 + 1) as u8;
        Lookup {
            h1: hash,
            h2: alt_hash(fp, hash),
            fp,
        }
    }
}

/// The hash RedisBloom gives an item: MurmurHash64A with seed 0.
#[inline]
pub fn hash(item: &[u8]) -> u64 {
    murmurhash64a(item, 0)
}

fn next_pow2(n: u64) -> u64 {
    // RedisBloom's bit-smearing round-up: 0 maps to 0, a power of two to itself, and
    // anything above 2^63 wraps to 0.
    let mut n = n.wrapping_sub(1);
    n |= n >> 1;
    n |= n >> 2;
    n |= n >> 4;
    n |= n >> 8;
    n |= n >> 16;
    n |= n >> 32;
    n.wrapping_add(1)
}

/// A RedisBloom cuckoo filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CuckooFilter {
    num_buckets: u64,
    num_items: u64,
    num_deletes: u64,
    bucket_size: u16,
    max_iterations: u16,
    expansion: u16,
    filters: Vec<SubFilter>,
}

impl CuckooFilter {
    /// `CF.RESERVE` with already parsed arguments, checked in RedisBloom's order
    /// (max iterations, bucket size, expansion, capacity).
    pub fn reserve(
        capacity: i64,
        bucket_size: i64,
        max_iterations: i64,
        expansion: i64,
    ) -> Result<CuckooFilter, CuckooError> {
        let max_iterations = check_max_iterations(max_iterations)?;
        let bucket_size = check_bucket_size(bucket_size)?;
        let expansion = check_expansion(expansion)?;
        let capacity = check_capacity(capacity, bucket_size)?;
        Self::new(capacity, bucket_size, max_iterations, expansion).ok_or(CuckooError::CreateFailed)
    }

    /// The filter `CF.ADD`/`CF.INSERT` create on a missing key: default bucket size, walk
    /// length and expansion.
    pub fn autocreate(capacity: i64) -> Result<CuckooFilter, CuckooError> {
        let capacity = u64::try_from(capacity).map_err(|_| CuckooError::AutoCreateFailed)?;
        Self::new(
            capacity,
            DEFAULT_BUCKET_SIZE,
            DEFAULT_MAX_ITERATIONS,
            DEFAULT_EXPANSION,
        )
        .ok_or(CuckooError::AutoCreateFailed)
    }

    /// A filter with `next_pow2(capacity / bucket_size)` buckets (at least 1) and the given
    /// parameters; `None` when `bucket_size` is 0 or the slots would exceed
    /// [`MAX_DATA_BYTES`] or the allocator refuses.
    pub fn new(
        capacity: u64,
        bucket_size: u16,
        max_iterations: u16,
        expansion: u16,
    ) -> Option<CuckooFilter> {
        if bucket_size == 0 {
            return None;
        }
        let num_buckets = match next_pow2(capacity / u64::from(bucket_size)) {
            0 => 1,
            n => n,
        };
        // RedisBloom stores the rounded expansion in 16 bits; 32768 is its maximum.
        let expansion = u16::try_from(next_pow2(u64::from(expansion))).ok()?;
        let mut cf = CuckooFilter {
            num_buckets,
            num_items: 0,
            num_deletes: 0,
            bucket_size,
            max_iterations,
            expansion,
            filters: Vec::new(),
        };
        cf.grow().then_some(cf)
    }

    fn data_bytes(&self) -> u64 {
        self.filters.iter().map(|f| f.data.len() as u64).sum()
    }

    /// Appends a sub-filter `expansion^n` times the first one; false past the budget.
    fn grow(&mut self) -> bool {
        if self.filters.len() >= usize::from(u16::MAX) {
            return false;
        }
        let Some(growth) = u64::from(self.expansion).checked_pow(self.filters.len() as u32) else {
            return false;
        };
        let Some(buckets) = self.num_buckets.checked_mul(growth) else {
            return false;
        };
        let Some(bytes) = buckets.checked_mul(u64::from(self.bucket_size)) else {
            return false;
        };
        if buckets == 0 || self.data_bytes().saturating_add(bytes) > MAX_DATA_BYTES {
            return false;
        }
        match SubFilter::zeroed(buckets, self.bucket_size) {
            Some(f) => {
                self.filters.push(f);
                true
            }
            None => false,
        }
    }

    /// `CF.ADD`: stores the item (a duplicate is stored again). Refuses a filter with
    /// [`MAX_EXPANSIONS`] sub-filters; [`CuckooError::Full`] when there is no room.
    pub fn add(&mut self, item: &[u8]) -> Result<bool, CuckooError> {
        self.check_expandable()?;
        single_reply(self.insert_hash(hash(item), false))
    }

    /// `CF.ADDNX`: stores the item unless it may be present; true when stored.
    pub fn add_nx(&mut self, item: &[u8]) -> Result<bool, CuckooError> {
        self.check_expandable()?;
        single_reply(self.insert_hash(hash(item), true))
    }

    /// `CF.INSERT` (`nx` false) or `CF.INSERTNX` (`nx` true) on an existing filter: one
    /// outcome per item. The sub-filter count is checked once, before the first item.
    pub fn insert<I: AsRef<[u8]>>(
        &mut self,
        items: &[I],
        nx: bool,
    ) -> Result<Vec<InsertOutcome>, CuckooError> {
        self.check_expandable()?;
        Ok(items
            .iter()
            .map(|i| self.insert_hash(hash(i.as_ref()), nx))
            .collect())
    }

    /// [`CuckooError::MaxExpansions`] when the filter may take no more adds.
    pub fn check_expandable(&self) -> Result<(), CuckooError> {
        if self.filters.len() >= MAX_EXPANSIONS {
            Err(CuckooError::MaxExpansions)
        } else {
            Ok(())
        }
    }

    /// Inserts a prehashed item ([`hash`]) without the sub-filter count check.
    pub fn insert_hash(&mut self, hash: u64, nx: bool) -> InsertOutcome {
        let key = Lookup::new(hash);
        if nx && self.contains_key(&key) {
            return InsertOutcome::Exists;
        }
        loop {
            let bs = self.bucket_size;
            if self.filters.iter_mut().rev().any(|f| f.put(&key, bs)) {
                self.num_items = self.num_items.wrapping_add(1);
                return InsertOutcome::Inserted;
            }
            if self.kick_out(key) {
                self.num_items = self.num_items.wrapping_add(1);
                return InsertOutcome::Inserted;
            }
            if self.expansion == 0 {
                return InsertOutcome::NoSpace;
            }
            if !self.grow() {
                return InsertOutcome::OutOfMemory;
            }
        }
    }

    /// The kick-out walk in the newest sub-filter, rolled back when it fails.
    fn kick_out(&mut self, key: Lookup) -> bool {
        let bs = usize::from(self.bucket_size);
        let max = self.max_iterations;
        let Some(cur) = self.filters.last_mut() else {
            return false;
        };
        // RedisBloom walks with 32-bit bucket numbers; under MAX_DATA_BYTES they are exact.
        let n = cur.num_buckets;
        let mut fp = key.fp;
        let mut victim = 0usize;
        let mut ii = key.h1 % n;
        for _ in 0..max {
            let at = ii as usize * bs + victim;
            if let Some(slot) = cur.data.get_mut(at) {
                std::mem::swap(slot, &mut fp);
            }
            ii = alt_hash(fp, ii) % n;
            let start = ii as usize * bs;
            if let Some(empty) = cur
                .data
                .get_mut(start..start + bs)
                .and_then(|b| b.iter_mut().find(|s| **s == 0))
            {
                *empty = fp;
                return true;
            }
            victim = (victim + 1) % bs;
        }
        // Walk back the same path, restoring every displaced fingerprint.
        for _ in 0..max {
            victim = (victim + bs - 1) % bs;
            ii = alt_hash(fp, ii) % n;
            let at = ii as usize * bs + victim;
            if let Some(slot) = cur.data.get_mut(at) {
                std::mem::swap(slot, &mut fp);
            }
        }
        false
    }

    fn contains_key(&self, key: &Lookup) -> bool {
        self.filters
            .iter()
            .any(|f| f.contains(key, self.bucket_size))
    }

    /// `CF.EXISTS`: false means certainly absent.
    pub fn exists(&self, item: &[u8]) -> bool {
        self.contains_key(&Lookup::new(hash(item)))
    }

    /// `CF.COUNT`: how many slots hold the item's fingerprint in its buckets.
    pub fn count(&self, item: &[u8]) -> u64 {
        let key = Lookup::new(hash(item));
        self.filters
            .iter()
            .map(|f| f.count(&key, self.bucket_size))
            .sum()
    }

    /// `CF.DEL`: removes one copy of the item's fingerprint, newest sub-filter first. After
    /// more than 10 % of the remaining items were deleted from a multi-filter chain, the
    /// newer sub-filters are compacted into the older ones.
    pub fn del(&mut self, item: &[u8]) -> bool {
        let key = Lookup::new(hash(item));
        let bs = self.bucket_size;
        if !self.filters.iter_mut().rev().any(|f| f.delete(&key, bs)) {
            return false;
        }
        self.num_items = self.num_items.wrapping_sub(1);
        self.num_deletes = self.num_deletes.wrapping_add(1);
        if self.filters.len() > 1 && self.num_deletes as f64 > self.num_items as f64 * 0.10 {
            self.compact_chain(false);
        }
        true
    }

    /// `CF.COMPACT`: moves fingerprints into older sub-filters, dropping emptied newest ones.
    pub fn compact(&mut self) {
        self.compact_chain(true);
    }

    /// Compacts from the newest sub-filter down; without `cont`, stops at the first
    /// sub-filter that could not be emptied (the older ones cannot be freed then either).
    fn compact_chain(&mut self, cont: bool) {
        let mut ix = self.filters.len();
        while ix > 1 {
            if !self.compact_single(ix - 1) && !cont {
                break;
            }
            ix -= 1;
        }
        self.num_deletes = 0;
    }

    /// Moves each fingerprint of sub-filter `ix` into the oldest sub-filter with room in
    /// its buckets. True when all moved; the sub-filter is dropped if it is the newest.
    fn compact_single(&mut self, ix: usize) -> bool {
        let bs = self.bucket_size;
        let bsz = usize::from(bs);
        let Some((older, rest)) = self.filters.split_at_mut_checked(ix) else {
            return false;
        };
        let Some(cur) = rest.first_mut() else {
            return false;
        };
        let mut all = true;
        for bucket_ix in 0..cur.num_buckets {
            for slot_ix in 0..bsz {
                let at = bucket_ix as usize * bsz + slot_ix;
                let fp = match cur.data.get(at) {
                    Some(&fp) if fp != 0 => fp,
                    _ => continue,
                };
                // Older sub-filters have no more buckets than this one (expansion >= 1), so the
                // bucket number and the fingerprint recover both candidate buckets.
                let key = Lookup {
                    h1: bucket_ix,
                    h2: alt_hash(fp, bucket_ix),
                    fp,
                };
                if older.iter_mut().any(|f| f.put(&key, bs)) {
                    if let Some(s) = cur.data.get_mut(at) {
                        *s = 0;
                    }
                } else {
                    all = false;
                }
            }
        }
        if all && ix + 1 == self.filters.len() {
            self.filters.pop();
        }
        all
    }

    /// `CF.INFO`.
    pub fn info(&self) -> CuckooInfo {
        let buckets: u64 = self.filters.iter().map(|f| f.num_buckets).sum();
        CuckooInfo {
            size: INFO_FILTER_OVERHEAD
                + INFO_SUBFILTER_OVERHEAD * self.filters.len() as u64
                + buckets * u64::from(self.bucket_size),
            num_buckets: self.num_buckets,
            num_filters: self.filters.len() as u64,
            num_items: self.num_items,
            num_deletes: self.num_deletes,
            bucket_size: u64::from(self.bucket_size),
            expansion: u64::from(self.expansion),
            max_iterations: u64::from(self.max_iterations),
        }
    }

    /// The sub-filters, oldest first.
    pub fn filters(&self) -> &[SubFilter] {
        &self.filters
    }

    /// Bucket size.
    pub fn bucket_size(&self) -> u16 {
        self.bucket_size
    }

    /// Items stored, net of deletions.
    pub fn num_items(&self) -> u64 {
        self.num_items
    }

    /// `CF.SCANDUMP key cursor`: `(0, None)` when the dump is over (or the filter holds no
    /// items), the header for cursor 0, else the next data chunk and the cursor after it.
    pub fn scandump(&self, cursor: i64) -> Result<ScanDump<'_>, CuckooError> {
        if cursor < 0 {
            return Err(CuckooError::InvalidPosition);
        }
        if self.num_items == 0 {
            return Ok((0, None));
        }
        if cursor == 0 {
            return Ok((1, Some(Cow::Owned(self.header_chunk().to_vec()))));
        }
        let mut offset = (cursor - 1) as u64;
        for f in &self.filters {
            let size = f.data.len() as u64;
            if offset < size {
                // A sub-filter that fits one chunk is sent whole, from its start, whatever
                // the cursor pointed at inside it; the cursor still advances by its size.
                let (from, len) = if size <= MAX_SCANDUMP_CHUNK {
                    (0, size)
                } else {
                    (offset, (size - offset).min(MAX_SCANDUMP_CHUNK))
                };
                let chunk = f
                    .data
                    .get(from as usize..(from + len) as usize)
                    .unwrap_or(&[]);
                let next = cursor.saturating_add(len as i64);
                return Ok((next, Some(Cow::Borrowed(chunk))));
            }
            offset -= size;
        }
        Ok((0, None))
    }

    /// The 38-byte header chunk.
    pub fn header_chunk(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&self.num_items.to_le_bytes());
        h[8..16].copy_from_slice(&self.num_buckets.to_le_bytes());
        h[16..24].copy_from_slice(&self.num_deletes.to_le_bytes());
        h[24..32].copy_from_slice(&(self.filters.len() as u64).to_le_bytes());
        h[32..34].copy_from_slice(&self.bucket_size.to_le_bytes());
        h[34..36].copy_from_slice(&self.max_iterations.to_le_bytes());
        h[36..38].copy_from_slice(&self.expansion.to_le_bytes());
        h
    }

    /// `CF.LOADCHUNK key 1 header`: a zeroed filter shaped by the header. Checked before
    /// anything is allocated: bucket size 1..=255, a power-of-two bucket count under 2^56,
    /// 1..=65535 sub-filters (RedisBloom keeps the count's low 16 bits), max iterations
    /// nonzero, no zero-bucket sub-filter, and at most [`MAX_DATA_BYTES`] of slots.
    pub fn from_header(header: &[u8]) -> Result<CuckooFilter, CuckooError> {
        let (mut cf, sizes) = Self::parse_header(header)?;
        let bad = CuckooError::HeaderRejected;
        cf.filters.try_reserve_exact(sizes.len()).map_err(|_| bad)?;
        for buckets in sizes {
            cf.filters
                .push(SubFilter::zeroed(buckets, cf.bucket_size).ok_or(bad)?);
        }
        Ok(cf)
    }

    /// A filter from a `CF.SCANDUMP` header and every sub-filter's slots, oldest first,
    /// taking ownership of the arrays (nothing is allocated for the slots). The header gets
    /// [`from_header`](Self::from_header)'s checks; each array must be exactly as long as the
    /// header makes its sub-filter ([`CuckooError::ChunkRejected`] otherwise).
    pub fn from_dump(header: &[u8], arrays: Vec<Vec<u8>>) -> Result<CuckooFilter, CuckooError> {
        let (mut cf, sizes) = Self::parse_header(header)?;
        let bad = CuckooError::ChunkRejected;
        if arrays.len() != sizes.len() {
            return Err(bad);
        }
        let bs = u64::from(cf.bucket_size);
        if sizes
            .iter()
            .zip(&arrays)
            .any(|(&buckets, a)| buckets * bs != a.len() as u64)
        {
            return Err(bad);
        }
        cf.filters = sizes
            .into_iter()
            .zip(arrays)
            .map(|(num_buckets, a)| SubFilter {
                num_buckets,
                data: a.into_boxed_slice(),
            })
            .collect();
        Ok(cf)
    }

    /// The header's filter (with no sub-filters yet) and its sub-filters' bucket counts,
    /// after every check of [`from_header`](Self::from_header).
    fn parse_header(header: &[u8]) -> Result<(CuckooFilter, Vec<u64>), CuckooError> {
        let h: &[u8; HEADER_LEN] = header.try_into().map_err(|_| CuckooError::InvalidHeader)?;
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
        let num_items = u64_at(0);
        let num_buckets = u64_at(8);
        let num_deletes = u64_at(16);
        let num_filters = u64_at(24) as u16;
        let bucket_size = u16_at(32);
        let max_iterations = u16_at(34);
        let expansion = u16_at(36);
        let bad = CuckooError::HeaderRejected;
        if bucket_size == 0
            || i64::from(bucket_size) > MAX_BUCKET_SIZE
            || num_buckets == 0
            || num_buckets > 0x00ff_ffff_ffff_ffff
            || !num_buckets.is_power_of_two()
            || num_filters == 0
            || max_iterations == 0
        {
            return Err(bad);
        }
        let mut total: u64 = 0;
        let mut sizes = Vec::with_capacity(usize::from(num_filters).min(64));
        for ii in 0..u32::from(num_filters) {
            let buckets = u64::from(expansion)
                .checked_pow(ii)
                .and_then(|g| g.checked_mul(num_buckets))
                .filter(|&b| b != 0)
                .ok_or(bad)?;
            total = buckets
                .checked_mul(u64::from(bucket_size))
                .and_then(|b| b.checked_add(total))
                .filter(|&t| t <= MAX_DATA_BYTES)
                .ok_or(bad)?;
            sizes.push(buckets);
        }
        let cf = CuckooFilter {
            num_buckets,
            num_items,
            num_deletes,
            bucket_size,
            max_iterations,
            expansion,
            filters: Vec::new(),
        };
        Ok((cf, sizes))
    }

    /// `CF.LOADCHUNK key cursor data` for a data chunk: `cursor` is the one `CF.SCANDUMP`
    /// returned with `data`, so the chunk starts at byte `cursor - 1 - len`.
    pub fn load_chunk(&mut self, cursor: i64, data: &[u8]) -> Result<(), CuckooError> {
        if cursor == 0 {
            return Err(CuckooError::InvalidPosition);
        }
        let bad = CuckooError::ChunkRejected;
        let len = data.len() as u64;
        if len == 0 || cursor <= 0 || ((cursor - 1) as u64) < len {
            return Err(bad);
        }
        let mut offset = (cursor - 1) as u64 - len;
        // Like RedisBloom, an offset past every sub-filter is reduced by all of their sizes
        // and then checked against the newest one.
        let mut target = None;
        for (ix, f) in self.filters.iter().enumerate() {
            target = Some(ix);
            let size = f.data.len() as u64;
            if offset < size {
                break;
            }
            offset -= size;
        }
        let f = target.and_then(|ix| self.filters.get_mut(ix)).ok_or(bad)?;
        let end = offset.checked_add(len).ok_or(bad)?;
        if end > f.data.len() as u64 {
            return Err(bad);
        }
        f.data
            .get_mut(offset as usize..end as usize)
            .ok_or(bad)?
            .copy_from_slice(data);
        Ok(())
    }
}

fn single_reply(outcome: InsertOutcome) -> Result<bool, CuckooError> {
    match outcome {
        InsertOutcome::Inserted => Ok(true),
        InsertOutcome::Exists => Ok(false),
        InsertOutcome::NoSpace => Err(CuckooError::Full),
        InsertOutcome::OutOfMemory => Err(CuckooError::OutOfMemory),
    }
}

/// Persisted form: the `CF.SCANDUMP` header and each sub-filter's slots, so that loading runs
/// exactly the `CF.LOADCHUNK` header checks plus a length check per sub-filter.
impl Serialize for CuckooFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("CuckooFilter", 2)?;
        state.serialize_field("header", &Blob(self.header_chunk().to_vec()))?;
        let arrays: Vec<Blob> = self.filters.iter().map(|f| Blob(f.data.to_vec())).collect();
        state.serialize_field("arrays", &arrays)?;
        state.end()
    }
}

#[derive(Deserialize)]
#[serde(rename = "CuckooFilter")]
struct PersistedCuckoo {
    header: Blob,
    arrays: Vec<Blob>,
}

impl<'de> Deserialize<'de> for CuckooFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let p = PersistedCuckoo::deserialize(deserializer)?;
        let mut cf = CuckooFilter::from_header(&p.header.0).map_err(de::Error::custom)?;
        if p.arrays.len() != cf.filters.len() {
            return Err(de::Error::custom(CuckooError::ChunkRejected));
        }
        for (dst, src) in cf.filters.iter_mut().zip(&p.arrays) {
            if dst.data.len() != src.0.len() {
                return Err(de::Error::custom(CuckooError::ChunkRejected));
            }
            dst.data.copy_from_slice(&src.0);
        }
        Ok(cf)
    }
}

/// A byte string that binary formats store as bytes and text formats as a sequence.
pub(crate) struct Blob(pub(crate) Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlobVisitor;
        impl<'de> Visitor<'de> for BlobVisitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
                // The size hint comes from the input: cap the preallocation.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(Blob(out))
            }
        }
        deserializer.deserialize_bytes(BlobVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn worked_example() {
        let mut cf = CuckooFilter::reserve(10, 2, 20, 1).unwrap();
        assert_eq!(hash(b"a"), 0x0717_17d2_d36b_6b11);
        assert!(cf.add(b"a").unwrap());
        let (next, chunk) = cf.scandump(1).unwrap();
        assert_eq!(next, 17);
        let mut want = [0u8; 16];
        want[2] = 0xc4;
        assert_eq!(chunk.unwrap().as_ref(), &want);
        let info = cf.info();
        assert_eq!(info.size, 72);
        assert_eq!(info.num_buckets, 8);
    }

    #[test]
    fn from_dump_takes_exact_arrays() {
        let mut cf = CuckooFilter::reserve(8, 2, 5, 2).unwrap();
        for i in 0..40u32 {
            let _ = cf.add(&i.to_le_bytes());
        }
        assert!(cf.filters().len() > 1);
        let arrays: Vec<Vec<u8>> = cf.filters().iter().map(|f| f.data().to_vec()).collect();
        let back = CuckooFilter::from_dump(&cf.header_chunk(), arrays.clone()).unwrap();
        assert_eq!(back, cf);
        let mut short = arrays.clone();
        short.pop();
        assert_eq!(
            CuckooFilter::from_dump(&cf.header_chunk(), short),
            Err(CuckooError::ChunkRejected)
        );
        let mut cut = arrays.clone();
        cut[0].pop();
        assert_eq!(
            CuckooFilter::from_dump(&cf.header_chunk(), cut),
            Err(CuckooError::ChunkRejected)
        );
        assert_eq!(
            CuckooFilter::from_dump(&cf.header_chunk()[..37], arrays),
            Err(CuckooError::InvalidHeader)
        );
    }

    #[test]
    fn header_layout() {
        let mut cf = CuckooFilter::reserve(10, 2, 20, 1).unwrap();
        cf.add(b"a").unwrap();
        let h = cf.header_chunk();
        let want: [u8; 38] = [
            1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
            0, 0, 0, 2, 0, 20, 0, 1, 0,
        ];
        assert_eq!(h, want);
    }

    #[test]
    fn reserve_errors_in_order() {
        assert_eq!(
            CuckooFilter::reserve(1, 2, 20, 1).unwrap_err(),
            CuckooError::CapacityTooSmall
        );
        assert_eq!(
            CuckooFilter::reserve(1, 0, 0, 1).unwrap_err(),
            CuckooError::MaxIterationsRange
        );
        assert_eq!(
            CuckooFilter::reserve(1, 0, 1, -1).unwrap_err(),
            CuckooError::BucketSizeRange
        );
        assert_eq!(
            CuckooFilter::reserve(1, 1, 1, 32769).unwrap_err(),
            CuckooError::ExpansionRange
        );
        assert_eq!(
            CuckooFilter::reserve(i64::MAX, 1, 1, 1).unwrap_err(),
            CuckooError::CreateFailed
        );
        assert_eq!(
            CuckooError::BucketSizeRange.to_string(),
            "BUCKETSIZE: value must be an integer between 1 and 255, inclusive."
        );
    }

    #[test]
    fn expansion_zero_fills_up() {
        let mut cf = CuckooFilter::reserve(4, 2, 5, 0).unwrap();
        let mut full = false;
        for i in 0..100u32 {
            match cf.add(&i.to_le_bytes()) {
                Ok(true) => {}
                Err(CuckooError::Full) => {
                    full = true;
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(full);
        assert_eq!(cf.filters().len(), 1);
        // A failed walk restores the slots: every stored item is still found.
        let stored = cf.num_items();
        assert!(stored <= 4);
    }

    #[test]
    fn grows_and_compacts() {
        let mut cf = CuckooFilter::reserve(64, 2, 20, 2).unwrap();
        let items: Vec<Vec<u8>> = (0..400u32).map(|i| format!("i{i}").into_bytes()).collect();
        for it in &items {
            assert!(cf.add(it).unwrap());
        }
        assert!(cf.filters().len() > 1);
        for (n, f) in cf.filters().iter().enumerate() {
            assert_eq!(f.num_buckets(), 32 << n);
        }
        for it in &items {
            assert!(cf.exists(it));
        }
        for it in &items[..300] {
            assert!(cf.del(it));
        }
        for it in &items[300..] {
            assert!(cf.exists(it));
        }
        cf.compact();
        assert_eq!(cf.info().num_deletes, 0);
        for it in &items[300..] {
            assert!(cf.exists(it));
        }
    }

    #[test]
    fn scandump_roundtrip() {
        let mut cf = CuckooFilter::reserve(1000, 4, 20, 1).unwrap();
        for i in 0..3000u32 {
            cf.add(&i.to_be_bytes()).unwrap();
        }
        let (c, h) = cf.scandump(0).unwrap();
        assert_eq!(c, 1);
        let mut copy = CuckooFilter::from_header(&h.unwrap()).unwrap();
        let mut cursor = c;
        loop {
            let (next, chunk) = cf.scandump(cursor).unwrap();
            let Some(chunk) = chunk else { break };
            copy.load_chunk(next, &chunk).unwrap();
            cursor = next;
        }
        assert_eq!(copy, cf);
    }

    #[test]
    fn header_validation() {
        let cf = {
            let mut cf = CuckooFilter::reserve(10, 2, 20, 1).unwrap();
            cf.add(b"a").unwrap();
            cf
        };
        let good = cf.header_chunk();
        assert_eq!(
            CuckooFilter::from_header(&good[..37]).unwrap_err(),
            CuckooError::InvalidHeader
        );
        let mut h = good;
        h[8] = 3; // not a power of two
        assert_eq!(
            CuckooFilter::from_header(&h).unwrap_err(),
            CuckooError::HeaderRejected
        );
        let mut h = good;
        h[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes()); // too big
        assert_eq!(
            CuckooFilter::from_header(&h).unwrap_err(),
            CuckooError::HeaderRejected
        );
        let mut h = good;
        h[24] = 2;
        h[36] = 0; // expansion 0 with two sub-filters
        assert_eq!(
            CuckooFilter::from_header(&h).unwrap_err(),
            CuckooError::HeaderRejected
        );
        let mut h = good;
        h[24..32].copy_from_slice(&0x1_0001u64.to_le_bytes()); // low 16 bits: 1
        assert_eq!(CuckooFilter::from_header(&h).unwrap().filters().len(), 1);
    }

    #[test]
    fn chunk_bounds() {
        let mut cf = CuckooFilter::reserve(10, 2, 20, 1).unwrap();
        assert_eq!(cf.load_chunk(0, b"a"), Err(CuckooError::InvalidPosition));
        assert_eq!(cf.load_chunk(-3, b"a"), Err(CuckooError::ChunkRejected));
        assert_eq!(cf.load_chunk(2, b""), Err(CuckooError::ChunkRejected));
        assert_eq!(cf.load_chunk(2, b"ab"), Err(CuckooError::ChunkRejected));
        assert_eq!(cf.load_chunk(17, &[9; 17]), Err(CuckooError::ChunkRejected));
        assert_eq!(cf.load_chunk(5, b"abc"), Ok(()));
        assert_eq!(&cf.filters()[0].data()[1..4], b"abc");
        // Past the end: reduced by every sub-filter and written at the newest one's start.
        assert_eq!(cf.load_chunk(18, b"z"), Ok(()));
        assert_eq!(cf.filters()[0].data()[0], b'z');
        assert_eq!(
            cf.load_chunk(i64::MAX, b"z"),
            Err(CuckooError::ChunkRejected)
        );
        assert_eq!(cf.scandump(-1).unwrap_err(), CuckooError::InvalidPosition);
    }

    #[test]
    fn max_expansions() {
        let mut cf = CuckooFilter::reserve(2, 1, 1, 1).unwrap();
        let mut i = 0u32;
        while cf.filters().len() < MAX_EXPANSIONS {
            cf.add(&i.to_le_bytes()).unwrap();
            i += 1;
        }
        assert_eq!(cf.add(b"x"), Err(CuckooError::MaxExpansions));
        assert_eq!(cf.insert(&[b"x"], false), Err(CuckooError::MaxExpansions));
    }

    #[test]
    fn fp_rate_bucket2() {
        let mut cf = CuckooFilter::reserve(20_000, 2, 500, 0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let slots = 16384 * 2;
        let mut n = 0;
        while n < slots * 9 / 10 {
            let v: u64 = rng.gen();
            if cf.add(&v.to_le_bytes()).is_ok() {
                n += 1;
            }
        }
        let trials = 200_000;
        let hits = (0..trials)
            .filter(|_| {
                let v: u64 = rng.gen::<u64>() | (1 << 63);
                cf.exists(&v.to_be_bytes())
            })
            .count();
        let rate = hits as f64 / trials as f64;
        assert!((0.011..0.017).contains(&rate), "{rate}");
    }

    #[test]
    fn serde_roundtrip_and_rejects() {
        let mut cf = CuckooFilter::reserve(64, 2, 20, 2).unwrap();
        for i in 0..300u32 {
            cf.add(&i.to_le_bytes()).unwrap();
        }
        let json = serde_json::to_string(&cf).unwrap();
        let back: CuckooFilter = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cf);
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["arrays"][0].as_array_mut().unwrap().pop();
        assert!(serde_json::from_value::<CuckooFilter>(v).is_err());
    }

    /// A small valid header: 1..=4 sub-filters of up to 64 buckets.
    fn small_header() -> impl Strategy<Value = Vec<u8>> {
        (
            0u64..100,
            0u32..7,
            0u64..10,
            1u64..5,
            1u16..5,
            1u16..30,
            1u16..4,
        )
            .prop_map(
                |(items, log_buckets, deletes, filters, bucket, iters, exp)| {
                    let mut h = Vec::with_capacity(HEADER_LEN);
                    h.extend_from_slice(&items.to_le_bytes());
                    h.extend_from_slice(&(1u64 << log_buckets).to_le_bytes());
                    h.extend_from_slice(&deletes.to_le_bytes());
                    h.extend_from_slice(&filters.to_le_bytes());
                    h.extend_from_slice(&bucket.to_le_bytes());
                    h.extend_from_slice(&iters.to_le_bytes());
                    h.extend_from_slice(&exp.to_le_bytes());
                    h
                },
            )
    }

    proptest! {
        #[test]
        fn hostile_headers_never_panic(h in proptest::collection::vec(any::<u8>(), 30..40)) {
            if let Ok(cf) = CuckooFilter::from_header(&h) {
                prop_assert!(cf.data_bytes() <= MAX_DATA_BYTES);
            }
        }

        #[test]
        fn hostile_chunks_never_panic(
            header in small_header(),
            chunks in proptest::collection::vec(
                (-3i64..3000, proptest::collection::vec(any::<u8>(), 0..80)), 0..20),
            items in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut cf = CuckooFilter::from_header(&header).unwrap();
            for (cursor, data) in &chunks {
                let _ = cf.load_chunk(*cursor, data);
                for it in &items {
                    let _ = cf.add(&[*it]);
                    let _ = cf.del(&[it.wrapping_add(1)]);
                    let _ = cf.count(&[*it]);
                }
            }
            let mut cursor = 0;
            let mut rounds = 0;
            while let Ok((next, Some(_))) = cf.scandump(cursor) {
                cursor = next;
                rounds += 1;
                prop_assert!(rounds < 1000);
            }
        }

        #[test]
        fn no_false_negatives(items in proptest::collection::vec(any::<Vec<u8>>(), 1..300),
                              bucket in 1i64..6, expansion in 1i64..4) {
            let mut cf = CuckooFilter::reserve(16, bucket, 20, expansion).unwrap();
            for it in &items {
                cf.add(it).unwrap();
            }
            for it in &items {
                prop_assert!(cf.exists(it));
                prop_assert!(cf.count(it) >= 1);
            }
            prop_assert_eq!(cf.num_items(), items.len() as u64);
        }
    }
}
