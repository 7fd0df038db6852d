//! RedisBloom's top-k sketch (`TOPK.*`): HeavyKeeper buckets plus a min-heap of the `k`
//! heaviest items, hashed, decayed and ordered as RedisBloom 2.8 does.
//!
//! # Design
//!
//! - `depth` rows of `width` buckets, each a `(fingerprint, count)` pair. An item's
//!   fingerprint is 32-bit MurmurHash2 with seed 1919; its bucket in row `i` is
//!   `MurmurHash2(item, seed i) % width`. Adding `n` to an item: an empty bucket or one with
//!   the item's fingerprint takes the count; a bucket held by another fingerprint is decayed
//!   up to `n` times, each time with probability `decay^count`, and is taken over (with the
//!   increments left) when it reaches zero. The largest count the item reached across rows is
//!   its estimate. Cost: one hash per row plus one for the fingerprint.
//! - The heap holds `k` slots (empty ones have count 0) as a binary min-heap on count, slot 0
//!   the minimum. An estimate at least the minimum either updates the item's slot (set, not
//!   raised: a decayed bucket may lower it) or replaces slot 0, whose item is "expelled".
//!   The sift-down, the heap search order (last slot first), `TOPK.COUNT`'s rule and
//!   `TOPK.LIST`'s order (stable sort by count, descending, as glibc's merge-sort `qsort`
//!   leaves ties) are RedisBloom's.
//! - Randomness: RedisBloom draws the C library's `rand()`, whose state is process-wide and
//!   seeded by Redis from the clock, so no sequence can reproduce it. Each sketch here owns a
//!   `ChaCha8Rng` (portable and seedable): [`TopK::reserve`] seeds it with
//!   [`DEFAULT_SEED`] so the embedded store is deterministic, and
//!   [`TopK::reserve_with_rng`] takes any seeded generator. A draw maps `next_u32() >> 1` onto
//!   `[0, 1]` by dividing by `2^31 - 1`, the shape of `rand() / RAND_MAX`. Consequence:
//!   wherever no decay happens (no two items ever share a bucket, or every decay is certain
//!   at `decay = 1`) counts and lists equal RedisBloom's exactly; elsewhere they agree in
//!   distribution, and on skewed streams the heavy items and their counts still agree (the
//!   parity test shows it).
//! - RedisBloom replies items as C strings, so `TOPK.LIST` and an expelled item in
//!   `TOPK.ADD`/`TOPK.INCRBY` end at the item's first NUL byte; the heap keeps the whole
//!   item (queries compare all its bytes). [`TopK::list`] and [`TopK::add`] return the
//!   truncated form, [`TopK::heap_items`] the whole one.
//! - Serde persists the buckets, the heap and the generator's state (the decay table is
//!   rebuilt from `decay`); loading re-checks the limits and the array sizes.
//! - Bounded: `k`, `width` and `depth` must fit `u32` (RedisBloom truncates them) and the
//!   sketch's memory must stay within [`DEFAULT_MAX_BYTES`]; beyond it `reserve` fails with
//!   [`TopKError::TooLarge`], where RedisBloom would try to allocate.
//!
//! # Representation
//!
//! ```text
//!  buckets: [ row 0: (fp u32, count u32) x width | row 1 ... | row depth-1 ]   8 bytes each
//!  heap:    [ slot 0 = min | 1 | 2 | ... | k-1 ]   slot = (fp u32, count u32, item bytes?)
//!           children of slot i are 2i+1 and 2i+2; a slot's count <= its children's
//!  lookup:  decay^0 .. decay^255 (f64); decay^c for c >= 256 is
//!           (decay^255)^(c / 255) * decay^(c % 255), RedisBloom's formula
//! ```
//!
//! # Worked example
//!
//! `TOPK.RESERVE t 2 8 7 0.9`, then `TOPK.ADD t a b a`: `a` lands in an empty bucket in
//! each row (count 1 >= heap minimum 0) and replaces empty slot 0: reply nil (the slot had
//! no item). `b` likewise, unless it shares a bucket with `a` in some row, where it would
//! decay `a`'s count 1 with probability 0.9. The second `a` raises its buckets to 2 and
//! updates its own slot. `TOPK.LIST t WITHCOUNT` is `a 2 b 1`.
//!
//! # Accuracy
//!
//! Counts only grow for an item whose fingerprint owns its bucket, and a bucket never counts
//! more than the increments made to its owner, so with no fingerprint collision an item's
//! `TOPK.COUNT` never exceeds its true count (the unit test checks this on seeded Zipf
//! streams). It can be far lower (a shared bucket decays), and it is 0 for an item outside
//! the heap whose buckets another item owns.
//!
//! # References
//!
//! - RedisBloom 2.8 `src/topk.c` (the sketch), `src/rm_topk.c` (commands, limits, error
//!   texts), `deps/murmur2/MurmurHash2.c`.
//! - J. Gong et al., "HeavyKeeper: An Accurate Algorithm for Finding Top-k Elephant Flows"
//!   (USENIX ATC 2018).

use std::fmt;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::murmur::murmurhash2;

/// Width of `TOPK.RESERVE key k` without the optional parameters.
pub const DEFAULT_WIDTH: u32 = 8;
/// Depth of `TOPK.RESERVE key k` without the optional parameters.
pub const DEFAULT_DEPTH: u32 = 7;
/// Decay of `TOPK.RESERVE key k` without the optional parameters.
pub const DEFAULT_DECAY: f64 = 0.9;
/// Largest `TOPK.INCRBY` increment.
pub const MAX_INCREMENT: u32 = 100_000;
/// Seed of the generator [`TopK::reserve`] creates.
pub const DEFAULT_SEED: u64 = 0x746f_706b;
/// Largest [`TopK::memory_usage`] a sketch may have: 512 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Fingerprint seed.
const FP_SEED: u32 = 1919;
/// Entries of the precomputed `decay^i` table.
const LOOKUP: usize = 256;
/// `RAND_MAX` of glibc.
const RAND_MAX: f64 = 2_147_483_647.0;
/// RedisBloom's `sizeof(TopK)` on LP64: three u32 and a double, two pointers, the table.
const SKETCH_OVERHEAD: u64 = 40 + 8 * LOOKUP as u64;
/// RedisBloom's `sizeof(Bucket)`.
const BUCKET_BYTES: u64 = 8;
/// RedisBloom's `sizeof(HeapBucket)` on LP64.
const HEAP_SLOT_BYTES: u64 = 24;

/// What can fail with a top-k sketch. `Display` is RedisBloom's exact reply text (these
/// carry no `ERR` prefix), except [`TopKError::TooLarge`], sketchstore's own limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopKError {
    /// `TopK: key does not exist`.
    KeyDoesNotExist,
    /// `TopK: key already exists`.
    KeyExists,
    /// `k` not an integer, below 1 or above `u32::MAX`: `TopK: invalid k`.
    InvalidK,
    /// `TopK: invalid width`.
    InvalidWidth,
    /// `TopK: invalid depth`.
    InvalidDepth,
    /// Decay not a number or outside `(0, 1]`:
    /// `TopK: invalid decay value. must be '<= 1' & '> 0'`.
    InvalidDecay,
    /// An increment outside `0..=100000` (RedisBloom's text, its run of spaces included).
    InvalidIncrement,
    /// `TOPK.LIST key x` with `x` not `WITHCOUNT`: `WITHCOUNT keyword expected`.
    WithcountExpected,
    /// The sketch would exceed [`DEFAULT_MAX_BYTES`]:
    /// `TopK: insufficient memory to create sketch`.
    TooLarge,
}

impl fmt::Display for TopKError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopKError::KeyDoesNotExist => "TopK: key does not exist",
            TopKError::KeyExists => "TopK: key already exists",
            TopKError::InvalidK => "TopK: invalid k",
            TopKError::InvalidWidth => "TopK: invalid width",
            TopKError::InvalidDepth => "TopK: invalid depth",
            TopKError::InvalidDecay => "TopK: invalid decay value. must be '<= 1' & '> 0'",
            TopKError::InvalidIncrement => {
                "TopK: increment must be an integer greater or equal to 0                            and smaller or equal to 100,000"
            }
            TopKError::WithcountExpected => "WITHCOUNT keyword expected",
            TopKError::TooLarge => "TopK: insufficient memory to create sketch",
        })
    }
}

impl std::error::Error for TopKError {}

/// `TOPK.INFO`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopKInfo {
    /// `k`.
    pub k: u32,
    /// `width`.
    pub width: u32,
    /// `depth`.
    pub depth: u32,
    /// `decay`.
    pub decay: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    fp: u32,
    count: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct HeapSlot {
    fp: u32,
    count: u32,
    /// `None` for a slot never filled (RedisBloom's NULL item, length 0).
    item: Option<Box<[u8]>>,
}

impl HeapSlot {
    fn matches(&self, fp: u32, item: &[u8]) -> bool {
        self.fp == fp && self.item.as_deref().unwrap_or(&[]) == item
    }
}

/// The bytes RedisBloom replies for an item: up to its first NUL.
fn c_string(item: &[u8]) -> &[u8] {
    match item.iter().position(|&b| b == 0) {
        Some(end) => &item[..end],
        None => item,
    }
}

/// A top-k sketch. See the module documentation. Serialized with its generator's state, so a
/// reloaded sketch decays exactly as the original would have; the decay table is rebuilt.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "TopKRepr", try_from = "TopKRepr")]
pub struct TopK {
    k: u32,
    width: u32,
    depth: u32,
    decay: f64,
    /// Invariant: `depth * width` buckets, row-major.
    buckets: Box<[Bucket]>,
    /// Invariant: `k` slots, a min-heap on count.
    heap: Box<[HeapSlot]>,
    lookup: Box<[f64; LOOKUP]>,
    rng: ChaCha8Rng,
}

/// The persisted form of a [`TopK`].
#[derive(Clone, Serialize, Deserialize)]
struct TopKRepr {
    k: u32,
    width: u32,
    depth: u32,
    decay: f64,
    buckets: Vec<Bucket>,
    heap: Vec<HeapSlot>,
    rng: ChaCha8Rng,
}

impl From<TopK> for TopKRepr {
    fn from(t: TopK) -> Self {
        TopKRepr {
            k: t.k,
            width: t.width,
            depth: t.depth,
            decay: t.decay,
            buckets: t.buckets.into_vec(),
            heap: t.heap.into_vec(),
            rng: t.rng,
        }
    }
}

impl TryFrom<TopKRepr> for TopK {
    type Error = String;

    fn try_from(r: TopKRepr) -> Result<Self, String> {
        let mut t =
            TopK::reserve_with_rng(r.k.into(), r.width.into(), r.depth.into(), r.decay, r.rng)
                .map_err(|e| e.to_string())?;
        if r.buckets.len() != t.buckets.len() || r.heap.len() != t.heap.len() {
            return Err("top-k arrays do not match k, width and depth".into());
        }
        t.buckets = r.buckets.into_boxed_slice();
        t.heap = r.heap.into_boxed_slice();
        Ok(t)
    }
}

impl TopK {
    /// `TOPK.RESERVE key k width depth decay` with RedisBloom's limits (`k`, `width`,
    /// `depth` at least 1, `decay` in `(0, 1]`), decaying with a generator seeded by
    /// [`DEFAULT_SEED`].
    pub fn reserve(k: i64, width: i64, depth: i64, decay: f64) -> Result<TopK, TopKError> {
        Self::reserve_with_rng(
            k,
            width,
            depth,
            decay,
            ChaCha8Rng::seed_from_u64(DEFAULT_SEED),
        )
    }

    /// [`TopK::reserve`] decaying with `rng`.
    pub fn reserve_with_rng(
        k: i64,
        width: i64,
        depth: i64,
        decay: f64,
        rng: ChaCha8Rng,
    ) -> Result<TopK, TopKError> {
        let k = u32::try_from(k)
            .ok()
            .filter(|&k| k >= 1)
            .ok_or(TopKError::InvalidK)?;
        let width = u32::try_from(width)
            .ok()
            .filter(|&w| w >= 1)
            .ok_or(TopKError::InvalidWidth)?;
        let depth = u32::try_from(depth)
            .ok()
            .filter(|&d| d >= 1)
            .ok_or(TopKError::InvalidDepth)?;
        if !(decay > 0.0 && decay <= 1.0) {
            return Err(TopKError::InvalidDecay);
        }
        if memory_usage(k, width, depth) > DEFAULT_MAX_BYTES {
            return Err(TopKError::TooLarge);
        }
        let cells = width as usize * depth as usize;
        let mut lookup = Box::new([0.0f64; LOOKUP]);
        for (i, slot) in lookup.iter_mut().enumerate() {
            *slot = decay.powf(i as f64);
        }
        Ok(TopK {
            k,
            width,
            depth,
            decay,
            buckets: vec![Bucket::default(); cells].into_boxed_slice(),
            heap: vec![HeapSlot::default(); k as usize].into_boxed_slice(),
            lookup,
            rng,
        })
    }

    /// `TOPK.ADD key item`: the item expelled from the top-k list, if any (as RedisBloom
    /// replies it, up to its first NUL byte).
    pub fn add(&mut self, item: &[u8]) -> Option<Vec<u8>> {
        self.add_n(item, 1)
    }

    /// `TOPK.INCRBY key item increment`, one pair; the increment must be at most
    /// [`MAX_INCREMENT`]. RedisBloom stops at the first bad increment of a multi-pair call
    /// after applying the pairs before it (its reply is then a truncated array): a command
    /// layer should check every increment first.
    pub fn incrby(&mut self, item: &[u8], increment: i64) -> Result<Option<Vec<u8>>, TopKError> {
        let inc = u32::try_from(increment)
            .ok()
            .filter(|&n| n <= MAX_INCREMENT)
            .ok_or(TopKError::InvalidIncrement)?;
        Ok(self.add_n(item, inc))
    }

    fn decay_chance(&self, count: u32) -> f64 {
        let c = count as usize;
        if c < LOOKUP {
            self.lookup[c]
        } else {
            let last = LOOKUP - 1;
            self.lookup[last].powf((count / last as u32) as f64) * self.lookup[c % last]
        }
    }

    fn add_n(&mut self, item: &[u8], increment: u32) -> Option<Vec<u8>> {
        let fp = murmurhash2(item, FP_SEED);
        let heap_min = self.heap[0].count;
        let width = self.width as usize;
        let mut max_count = 0u32;
        for row in 0..self.depth {
            let loc = (murmurhash2(item, row) % self.width) as usize;
            let at = row as usize * width + loc;
            let bucket = self.buckets[at];
            if bucket.count == 0 {
                self.buckets[at] = Bucket {
                    fp,
                    count: increment,
                };
                max_count = max_count.max(increment);
            } else if bucket.fp == fp {
                let count = bucket.count.wrapping_add(increment);
                self.buckets[at].count = count;
                max_count = max_count.max(count);
            } else {
                let mut count = bucket.count;
                let mut left = increment;
                while left > 0 {
                    let p = self.decay_chance(count);
                    let chance = f64::from(self.rng.next_u32() >> 1) / RAND_MAX;
                    if chance < p {
                        count -= 1;
                        if count == 0 {
                            self.buckets[at].fp = fp;
                            count = left;
                            max_count = max_count.max(count);
                            break;
                        }
                    }
                    left -= 1;
                }
                self.buckets[at].count = count;
            }
        }
        if max_count < heap_min {
            return None;
        }
        if let Some(i) = self.find_in_heap(fp, item) {
            self.heap[i].count = max_count;
            self.sift_down(i);
            return None;
        }
        let expelled = std::mem::replace(
            &mut self.heap[0],
            HeapSlot {
                fp,
                count: max_count,
                item: Some(item.into()),
            },
        )
        .item;
        self.sift_down(0);
        expelled.map(|e| c_string(&e).to_vec())
    }

    /// The slot holding `item`, searching from the last slot down as RedisBloom does.
    fn find_in_heap(&self, fp: u32, item: &[u8]) -> Option<usize> {
        self.heap.iter().rposition(|s| s.matches(fp, item))
    }

    /// RedisBloom's sift-down: moves the slot at `start` below every child with a count at
    /// most its own (ties move down, unlike a textbook heap).
    fn sift_down(&mut self, mut start: usize) {
        let len = self.heap.len();
        if len < 2 || (len - 2) / 2 < start {
            return;
        }
        let mut child = 2 * start + 1;
        if child + 1 < len && self.heap[child].count > self.heap[child + 1].count {
            child += 1;
        }
        if self.heap[child].count > self.heap[start].count {
            return;
        }
        let top = self.heap[start].count;
        loop {
            // The moving slot stays at `start` throughout; swapping carries it down.
            self.heap.swap(start, child);
            start = child;
            if (len - 2) / 2 < child {
                break;
            }
            child = 2 * child + 1;
            if child + 1 < len && self.heap[child].count > self.heap[child + 1].count {
                child += 1;
            }
            if self.heap[child].count >= top {
                break;
            }
        }
    }

    /// `TOPK.QUERY key item`: whether the item is in the top-k list.
    pub fn query(&self, item: &[u8]) -> bool {
        self.find_in_heap(murmurhash2(item, FP_SEED), item)
            .is_some()
    }

    /// `TOPK.COUNT key item`: the largest count among the item's buckets that carry its
    /// fingerprint (for an item in the list, only buckets at least the list's minimum).
    pub fn count(&self, item: &[u8]) -> u64 {
        let fp = murmurhash2(item, FP_SEED);
        let heap_min = self.heap[0].count;
        let in_heap = self.find_in_heap(fp, item).is_some();
        let width = self.width as usize;
        let mut res = 0u32;
        for row in 0..self.depth {
            let loc = (murmurhash2(item, row) % self.width) as usize;
            let b = self.buckets[row as usize * width + loc];
            if b.fp == fp && (!in_heap || b.count >= heap_min) {
                res = res.max(b.count);
            }
        }
        u64::from(res)
    }

    /// `TOPK.LIST key WITHCOUNT`: items by count, descending, ties in heap order, stopping
    /// at the first empty slot (count 0); items as RedisBloom replies them.
    pub fn list(&self) -> Vec<(Vec<u8>, u64)> {
        let mut slots: Vec<&HeapSlot> = self.heap.iter().collect();
        slots.sort_by_key(|s| std::cmp::Reverse(s.count));
        slots
            .into_iter()
            .take_while(|s| s.count != 0)
            .map(|s| {
                let item = s.item.as_deref().unwrap_or(&[]);
                (c_string(item).to_vec(), u64::from(s.count))
            })
            .collect()
    }

    /// `TOPK.INFO`.
    pub fn info(&self) -> TopKInfo {
        TopKInfo {
            k: self.k,
            width: self.width,
            depth: self.depth,
            decay: self.decay,
        }
    }

    /// RedisBloom's `MEMORY USAGE` figure for the sketch (items' bytes not counted).
    pub fn memory_usage(&self) -> u64 {
        memory_usage(self.k, self.width, self.depth)
    }

    /// Introspection: the heap slots in heap order as `(whole item, count)`; `None` for a
    /// slot never filled.
    pub fn heap_items(&self) -> impl Iterator<Item = (Option<&[u8]>, u32)> + '_ {
        self.heap.iter().map(|s| (s.item.as_deref(), s.count))
    }

    /// Introspection: bucket `(fingerprint, count)` at `row`, `column`.
    pub fn bucket(&self, row: u32, column: u32) -> Option<(u32, u32)> {
        if row >= self.depth || column >= self.width {
            return None;
        }
        let b = self
            .buckets
            .get(row as usize * self.width as usize + column as usize)?;
        Some((b.fp, b.count))
    }
}

/// A cursor over snapshot bytes: every read is bounds checked.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("top-k snapshot truncated".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }
}

impl TopK {
    /// The sketch as snapshot bytes: `k, width, depth: u32 | decay: f64 | seed: [u8; 32] |
    /// stream: u64 | word_pos: u128 | buckets (fp u32, count u32) row after row | k heap
    /// slots (fp u32, count u32, tag u8: 0 empty / 1 item, then len u32 and the item)`, all
    /// little-endian. [`TopK::from_snapshot`] reads it back.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(76 + self.buckets.len() * 8 + self.heap.len() * 9);
        for n in [self.k, self.width, self.depth] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.decay.to_le_bytes());
        out.extend_from_slice(&self.rng.get_seed());
        out.extend_from_slice(&self.rng.get_stream().to_le_bytes());
        out.extend_from_slice(&self.rng.get_word_pos().to_le_bytes());
        for b in self.buckets.iter() {
            out.extend_from_slice(&b.fp.to_le_bytes());
            out.extend_from_slice(&b.count.to_le_bytes());
        }
        for s in self.heap.iter() {
            out.extend_from_slice(&s.fp.to_le_bytes());
            out.extend_from_slice(&s.count.to_le_bytes());
            match &s.item {
                None => out.push(0),
                Some(item) => {
                    out.push(1);
                    out.extend_from_slice(&(item.len() as u32).to_le_bytes());
                    out.extend_from_slice(item);
                }
            }
        }
        out
    }

    /// A sketch from [`TopK::to_snapshot`]'s bytes, validated: RedisBloom's limits, and
    /// arrays the bytes actually hold, checked before anything is allocated for them.
    pub fn from_snapshot(bytes: &[u8]) -> Result<TopK, String> {
        let mut c = Cursor(bytes);
        let (k, width, depth) = (c.u32()?, c.u32()?, c.u32()?);
        let decay = f64::from_le_bytes(c.array()?);
        let seed: [u8; 32] = c.array()?;
        let stream = u64::from_le_bytes(c.array()?);
        let word_pos = u128::from_le_bytes(c.array()?);
        let cells = u64::from(width) * u64::from(depth);
        // Each bucket takes 8 bytes and each heap slot at least 9.
        let left = c.0.len() as u64;
        if cells.saturating_mul(8).saturating_add(u64::from(k) * 9) > left {
            return Err("top-k snapshot shorter than its arrays".into());
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(stream);
        rng.set_word_pos(word_pos);
        let mut t = TopK::reserve_with_rng(k.into(), width.into(), depth.into(), decay, rng)
            .map_err(|e| e.to_string())?;
        for b in t.buckets.iter_mut() {
            *b = Bucket {
                fp: c.u32()?,
                count: c.u32()?,
            };
        }
        for s in t.heap.iter_mut() {
            let (fp, count) = (c.u32()?, c.u32()?);
            let item = match c.array::<1>()?[0] {
                0 => None,
                1 => {
                    let len = c.u32()? as usize;
                    Some(c.take(len)?.into())
                }
                _ => return Err("top-k snapshot has a bad heap slot tag".into()),
            };
            *s = HeapSlot { fp, count, item };
        }
        if !c.0.is_empty() {
            return Err("top-k snapshot has trailing bytes".into());
        }
        Ok(t)
    }
}

fn memory_usage(k: u32, width: u32, depth: u32) -> u64 {
    SKETCH_OVERHEAD
        + u64::from(width) * u64::from(depth) * BUCKET_BYTES
        + u64::from(k) * HEAP_SLOT_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::rand_core::RngCore;
    use std::collections::HashMap;

    #[test]
    fn worked_example() {
        let mut t = TopK::reserve(2, 8, 7, 0.9).unwrap();
        assert_eq!(t.add(b"a"), None);
        assert_eq!(t.add(b"b"), None);
        assert_eq!(t.add(b"a"), None);
        assert_eq!(t.list(), vec![(b"a".to_vec(), 2), (b"b".to_vec(), 1)]);
        assert!(t.query(b"a") && t.query(b"b") && !t.query(b"c"));
        assert_eq!((t.count(b"a"), t.count(b"b"), t.count(b"c")), (2, 1, 0));
        assert_eq!(
            t.info(),
            TopKInfo {
                k: 2,
                width: 8,
                depth: 7,
                decay: 0.9
            }
        );
        assert_eq!(t.memory_usage(), 2088 + 8 * 7 * 8 + 2 * 24);
    }

    #[test]
    fn expels_the_minimum() {
        let mut t = TopK::reserve(1, 100, 3, 1.0).unwrap();
        assert_eq!(t.add(b"x"), None);
        // "y" reaches count 1 >= the minimum 1 and takes the only slot.
        assert_eq!(t.add(b"y"), Some(b"x".to_vec()));
        assert_eq!(t.incrby(b"x", 5).unwrap(), Some(b"y".to_vec()));
        assert_eq!(t.list(), vec![(b"x".to_vec(), 6)]);
    }

    #[test]
    fn zero_increment_enters_the_heap_with_count_zero() {
        let mut t = TopK::reserve(2, 8, 7, 0.9).unwrap();
        assert_eq!(t.incrby(b"a", 0).unwrap(), None);
        assert!(t.query(b"a"));
        assert!(t.list().is_empty());
    }

    #[test]
    fn items_reply_up_to_their_first_nul() {
        let mut t = TopK::reserve(1, 8, 7, 0.9).unwrap();
        t.add(b"x\0y");
        assert_eq!(t.list(), vec![(b"x".to_vec(), 1)]);
        assert!(t.query(b"x\0y") && !t.query(b"x"));
        assert_eq!(t.heap_items().next(), Some((Some(&b"x\0y"[..]), 1)));
        t.incrby(b"z", 2).unwrap();
        assert!(t.query(b"z"));
    }

    #[test]
    fn limits() {
        assert_eq!(TopK::reserve(0, 8, 7, 0.9).err(), Some(TopKError::InvalidK));
        assert_eq!(
            TopK::reserve(1 << 32, 8, 7, 0.9).err(),
            Some(TopKError::InvalidK)
        );
        assert_eq!(
            TopK::reserve(1, -1, 7, 0.9).err(),
            Some(TopKError::InvalidWidth)
        );
        assert_eq!(
            TopK::reserve(1, 8, 0, 0.9).err(),
            Some(TopKError::InvalidDepth)
        );
        assert_eq!(
            TopK::reserve(1, 8, 7, f64::NAN).err(),
            Some(TopKError::InvalidDecay)
        );
        assert_eq!(
            TopK::reserve(1, 8, 7, 1.01).err(),
            Some(TopKError::InvalidDecay)
        );
        assert_eq!(
            TopK::reserve(1, 1 << 20, 1 << 10, 0.9).err(),
            Some(TopKError::TooLarge)
        );
        assert_eq!(
            TopK::reserve(30_000_000, 1, 1, 0.9).err(),
            Some(TopKError::TooLarge)
        );
        let mut t = TopK::reserve(1, 1, 1, 1.0).unwrap();
        assert_eq!(t.incrby(b"a", 100_001), Err(TopKError::InvalidIncrement));
        assert_eq!(t.incrby(b"a", 100_000).unwrap(), None);
        assert_eq!(t.count(b"a"), 100_000);
        assert_eq!(t.bucket(0, 0).map(|b| b.1), Some(100_000));
        assert_eq!(t.bucket(1, 0), None);
    }

    #[test]
    fn decay_table_follows_redisbloom_past_255() {
        let t = TopK::reserve(1, 1, 1, 0.99).unwrap();
        assert_eq!(t.decay_chance(3), 0.99f64.powf(3.0));
        let c = 600u32;
        let want = 0.99f64.powf(255.0).powf(f64::from(c / 255)) * 0.99f64.powf(f64::from(c % 255));
        assert_eq!(t.decay_chance(c), want);
    }

    #[test]
    fn serde_round_trip_keeps_the_generator() {
        let mut t = TopK::reserve(3, 4, 2, 0.7).unwrap();
        for i in 0..200u32 {
            t.add(format!("w{}", i % 11).as_bytes());
        }
        let json = serde_json::to_string(&t).unwrap();
        let mut back: TopK = serde_json::from_str(&json).unwrap();
        for i in 0..500u32 {
            let item = format!("v{}", i % 17);
            assert_eq!(back.add(item.as_bytes()), t.add(item.as_bytes()));
        }
        assert_eq!(back.list(), t.list());
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["width"] = serde_json::json!(5);
        assert!(serde_json::from_value::<TopK>(v.clone()).is_err());
        v["width"] = serde_json::json!(4);
        v["decay"] = serde_json::json!(2.0);
        assert!(serde_json::from_value::<TopK>(v).is_err());
    }

    #[test]
    fn seeded_generators_reproduce() {
        let run = |seed| {
            let mut t =
                TopK::reserve_with_rng(5, 10, 3, 0.8, ChaCha8Rng::seed_from_u64(seed)).unwrap();
            for i in 0..5000u32 {
                t.add(format!("i{}", (i * 7919) % 97 % (1 + i % 13)).as_bytes());
            }
            t.list()
        };
        assert_eq!(run(1), run(1));
    }

    /// Zipf-like stream over `n` items from a seeded generator.
    fn zipf_stream(seed: u64, n: usize, len: usize) -> Vec<Vec<u8>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights: Vec<f64> = (1..=n).map(|i| 1.0 / (i as f64).powf(1.1)).collect();
        let total: f64 = weights.iter().sum();
        (0..len)
            .map(|_| {
                let mut u = f64::from(rng.next_u32()) / 4_294_967_296.0 * total;
                let mut i = 0;
                while i + 1 < n && u >= weights[i] {
                    u -= weights[i];
                    i += 1;
                }
                format!("item-{i}").into_bytes()
            })
            .collect()
    }

    /// Checks what HeavyKeeper guarantees when fingerprints are distinct: no count exceeds the
    /// true count, an item with a bucket of its own in some row is counted exactly, and the
    /// list is at most k long, by count descending.
    fn check_counts(t: &TopK, stream: &[Vec<u8>]) -> Result<(), TestCaseError> {
        let mut truth: HashMap<&[u8], u64> = HashMap::new();
        for item in stream {
            *truth.entry(item.as_slice()).or_default() += 1;
        }
        let fps: std::collections::HashSet<u32> =
            truth.keys().map(|i| murmurhash2(i, FP_SEED)).collect();
        prop_assume!(fps.len() == truth.len());
        let cell = |item: &[u8], row: u32| murmurhash2(item, row) % t.width;
        for (&item, &n) in &truth {
            let c = t.count(item);
            prop_assert!(c <= n, "{:?}: count {} > true {}", item, c, n);
            let private = (0..t.depth).any(|row| {
                truth
                    .keys()
                    .all(|&o| o == item || cell(o, row) != cell(item, row))
            });
            if private {
                prop_assert_eq!(c, n, "{:?} owns a bucket", item);
            }
        }
        let list = t.list();
        prop_assert!(list.len() <= t.k as usize);
        prop_assert!(list.windows(2).all(|w| w[0].1 >= w[1].1));
        Ok(())
    }

    #[test]
    fn counts_on_seeded_zipf_streams() {
        for seed in 0..5 {
            let stream = zipf_stream(seed, 500, 20_000);
            let mut t = TopK::reserve(10, 100, 5, 0.9).unwrap();
            for item in &stream {
                t.add(item);
            }
            check_counts(&t, &stream).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn count_never_exceeds_truth(
            items in proptest::collection::vec(0u16..60, 1..800),
            k in 1i64..8,
            width in 1i64..40,
            depth in 1i64..6,
            decay in 0.5f64..=1.0,
            seed in any::<u64>(),
        ) {
            let stream: Vec<Vec<u8>> =
                items.iter().map(|i| format!("k{i}").into_bytes()).collect();
            let mut t =
                TopK::reserve_with_rng(k, width, depth, decay, ChaCha8Rng::seed_from_u64(seed))
                    .unwrap();
            for item in &stream {
                t.add(item);
            }
            check_counts(&t, &stream)?;
        }
    }

    #[test]
    fn snapshot_round_trip_continues_identically() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut t = TopK::reserve(4, 6, 3, 0.9).expect("valid");
        for _ in 0..500 {
            let i = rng.next_u32() % 40;
            t.add(format!("p{i}").as_bytes());
        }
        t.add(b"nul\0inside");
        let bytes = t.to_snapshot();
        let mut back = TopK::from_snapshot(&bytes).expect("valid snapshot");
        assert_eq!(back.to_snapshot(), bytes);
        for _ in 0..500 {
            let item = format!("p{}", rng.next_u32() % 40);
            assert_eq!(t.add(item.as_bytes()), back.add(item.as_bytes()));
        }
        assert_eq!(t.list(), back.list());
        let whole: Vec<_> = t
            .heap_items()
            .map(|(i, c)| (i.map(<[u8]>::to_vec), c))
            .collect();
        let again: Vec<_> = back
            .heap_items()
            .map(|(i, c)| (i.map(<[u8]>::to_vec), c))
            .collect();
        assert_eq!(whole, again);
    }

    #[test]
    fn damaged_snapshots_are_refused() {
        let mut t = TopK::reserve(3, 4, 2, 0.9).expect("valid");
        t.add(b"a");
        let bytes = t.to_snapshot();
        for len in 0..bytes.len() {
            assert!(TopK::from_snapshot(&bytes[..len]).is_err(), "{len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(TopK::from_snapshot(&longer).is_err());
        // Dimensions claiming far more buckets than the bytes hold: refused before any
        // allocation.
        let mut huge = bytes.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(TopK::from_snapshot(&huge).is_err());
        let mut bad_decay = bytes.clone();
        bad_decay[12..20].copy_from_slice(&2.0f64.to_le_bytes());
        assert!(TopK::from_snapshot(&bad_decay).is_err());
        // Any single damaged byte gives a sketch or an error, never a panic.
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0xA5;
            let _ = TopK::from_snapshot(&b);
        }
    }
}
