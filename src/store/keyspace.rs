//! One shard of the keyspace: a slab of slots (key, value, expiry) and a hash index of
//! their positions.
//!
//! # Design
//!
//! A key's 64-bit hash ([`key_hash`], one-shot `xxh3`) is computed once per command and
//! chooses both the shard (its top bits) and the bucket (the index gets the hash times an
//! odd constant, so that the bits the shard choice fixed are mixed back into the bits the
//! index uses for buckets and control bytes). For a key with a Redis Cluster hash tag the
//! shard bits come from the tag, so one session's keys share a shard (one lock per
//! transaction, and snapshots save them together) while their buckets still spread.
//!
//! Memory per key is the lever of a session store (five small keys per session), so the
//! slots do not live in the hash table, whose occupancy swings between 0.44 and 0.875 with
//! the key count: they live in a slab of fixed-size chunks, full but for the last chunk and
//! the positions deleted keys left (reused first), and the table holds 2-byte positions
//! (4-byte ones once a shard has handed out 65,535 of them).
//! The hash is not stored: the index recomputes it from the key when it grows (rare, and
//! `xxh3` of a short key costs nanoseconds), and a probe compares keys only where the
//! table's 7-bit control byte already matched. An expiry time is a 4-byte code beside its
//! slot (milliseconds after a per-shard epoch set about 24.9 days before the first
//! expiry): an 8-byte time inside the slot would round the slot up to 56 bytes. Times
//! more than 49.7 days from the epoch go to a side map, and when that map grows the epoch
//! moves and every code is recomputed. The LRU clock and size estimate that eviction needs
//! are kept in a side array by position, which stays empty until a memory limit is set.
//!
//! # Representation
//!
//! ```text
//! index:  hashbrown HashTable<u16>: 1 control byte + 2-byte position per bucket
//!         (HashTable<u32> once the slab reaches 65,535 positions)
//! slab:   chunks of 32 x Option<Slot> and 32 x u32 expiry codes; the free positions are
//!         a list linked through their codes
//! Slot (48 bytes): key: 22 bytes inline + len, or a boxed slice when longer (24)
//!                  | value (24 bytes: strings, HyperLogLogs and Bloom filters behind one
//!                    pointer, hashes and lists boxed)
//! expiry code u32: 0 none | 1..2^32-2: epoch + code ms | 2^32-1: in the side map
//! meta:   (lru u32, size u32) per position, once memory is counted (a limit was set)
//! ```
//!
//! A command looks up each of its keys once right after locking, one level at a time
//! over all of them (index buckets, then slots and expiry codes, then values), so that the
//! cache misses of a multi-key transaction overlap (`Shard::position`, `Shard::slot_value`).
//!
//! Expiry is lazy and active. Every lookup treats a key whose time has come as absent and
//! removes it. For keys nobody reads again, [`Shard::sweep`] walks the slab from a cursor,
//! a bounded number of positions per call, removing the keys whose time has come (as
//! Redis's active expiry samples its expires dict, at no memory per key). The shard keeps
//! a lower bound of its expiry times, lowered whenever an expiry is set and recomputed
//! when the cursor completes a pass over the slab, so that a shard whose keys all expire
//! later (sessions that refresh their TTL) is not walked at all.
//!
//! SCAN walks keys in ascending hash order (shards are hash ranges), which returns every
//! key that exists for the whole iteration exactly once, whatever the table does.
//!
//! # Worked example
//!
//! 781 session keys in a shard: an index of 1,024 buckets (3,072 bytes plus a control
//! group), 25 chunks of 32 slots and codes (41,600 bytes, 19 positions unused): 57.2 bytes
//! per key, where slots of 72 bytes inside the table took 95, and the expiry heap 21 more.
//! A session whose keys expire at 1,733,000,000,000 ms (with the epoch at
//! 1,733,000,000,000 - 2^31) has the code 2^31 = 2,147,483,648 beside each of its slots.

use super::value::Value;
use hashbrown::HashTable;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Weak};

const TABLE_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// The bits of a key's hash that choose its shard (enough for the most shards a store may
/// have, 4096).
const SHARD_BITS: u64 = !0 << 52;

/// The hash that places `key` in the keyspace: the one-shot `xxh3_64` of the key, except
/// that a key with a Redis Cluster hash tag takes its top 12 bits (those that choose the
/// shard) from the hash of the tag. All keys of one tag therefore share a shard, as they
/// share a slot on a cluster, so a transaction over one session's keys takes one lock. The
/// other 52 bits still come from the whole key, which spreads a shard's keys over its table.
///
/// Taking the bits that choose the table bucket from the tag too puts a session's keys side
/// by side in the table (one control group and adjacent slots to fetch), but every key of a
/// tag then starts its probe at the same bucket, and a tag with many keys
/// (`{tenant}:item:<n>`) makes each lookup walk all of them. Limited to a tag's few "field"
/// keys (`{tag}:<lowercase name>`) it was safe, but nine runs of the pageview against its
/// floor on a shared machine showed no gain beyond their spread (run medians x1.22-x1.78 of
/// the floor with it, x1.22-x1.57 without), so it is not done.
#[inline]
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    let full = xxhash_rust::xxh3::xxh3_64(key);
    match hash_tag(key) {
        Some(tag) => (xxhash_rust::xxh3::xxh3_64(tag) & SHARD_BITS) | (full & !SHARD_BITS),
        None => full,
    }
}

/// The hash tag of `key` as Redis Cluster defines it: the bytes between the first `{` and
/// the first `}` after it, when there are any.
#[inline]
pub(crate) fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = find_byte(key, b'{')?;
    let rest = key.get(open + 1..)?;
    let close = find_byte(rest, b'}')?;
    (close > 0).then(|| rest.get(..close)).flatten()
}

/// The position of the first `needle` in `hay`, eight bytes at a time: every key is
/// searched for a hash tag, and a byte loop over a session key cost more than hashing it.
#[inline]
fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        // Bytes equal to the needle become zero; the lowest flagged byte is the first zero
        // byte (a borrow only runs upward, from a zero byte below).
        let x = u64::from_le_bytes(bytes) ^ pattern;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(base + (zeros.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|p| base + p)
}

#[inline]
fn table_hash(hash: u64) -> u64 {
    hash.wrapping_mul(TABLE_MIX)
}

/// The longest key kept inside its slot.
const INLINE_KEY: usize = 22;

/// A key's bytes: inside the slot when they fit (most session keys do), so finding a key
/// compares bytes that came with the slot's cache line instead of following a pointer to
/// another one. Longer keys are boxed. 24 bytes either way.
#[derive(Clone)]
pub(crate) enum Key {
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    Boxed(Box<[u8]>),
}

impl From<&[u8]> for Key {
    #[inline]
    fn from(key: &[u8]) -> Key {
        if key.len() <= INLINE_KEY {
            let mut bytes = [0; INLINE_KEY];
            bytes[..key.len()].copy_from_slice(key);
            Key::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            Key::Boxed(key.into())
        }
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Boxed(b) => b,
        }
    }
}

/// A key and its value (the expiry lives beside the slot, see [`Keys::expiry`]).
pub(crate) struct Slot {
    pub key: Key,
    pub value: Value,
}

impl Slot {
    /// The keyspace hash of the slot's key (recomputed: slots do not store it).
    #[inline]
    pub fn hash(&self) -> u64 {
        key_hash(&self.key)
    }
}

/// A slot taken out of the keyspace, with its expiry.
pub(crate) struct Taken {
    pub key: Key,
    pub value: Value,
    expire_at: Option<i64>,
}

impl Taken {
    /// The absolute expiry time in Unix ms, if the key had one.
    pub fn expire_at(&self) -> Option<i64> {
        self.expire_at
    }
}

/// An expiry code: no expiry.
const NO_EXPIRY: u32 = 0;
/// An expiry code: the time is in [`Keys::far`].
const FAR: u32 = u32::MAX;
/// Where a new epoch is put before the first expiry time it encodes (about 24.9 days), so
/// that times on both sides of it fit.
const HALF_RANGE: i64 = 1 << 31;

/// Slots per slab chunk. Chunks never move or grow, so the slab has no doubling slack: at
/// most one partly used chunk per shard.
const CHUNK: usize = 32;

/// The LRU clock and size estimate of a slot, kept only under a memory limit.
#[derive(Clone, Copy, Default)]
pub(crate) struct Meta {
    /// Last access, low 32 bits of the store clock in ms.
    pub lru: u32,
    /// Estimated bytes of key and value.
    pub size: u32,
}

/// The hash index of slab positions: 2-byte positions while the slab has fewer than
/// 65,535 of them (3 bytes per bucket with the control byte), 4-byte ones beyond.
enum Index {
    Small(HashTable<u16>),
    Large(HashTable<u32>),
}

impl Default for Index {
    fn default() -> Index {
        Index::Small(HashTable::new())
    }
}

impl Index {
    fn len(&self) -> usize {
        match self {
            Index::Small(t) => t.len(),
            Index::Large(t) => t.len(),
        }
    }

    /// The first position along `hash`'s probe sequence that satisfies `eq`.
    #[inline]
    fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        match self {
            Index::Small(t) => t.find(hash, |&i| eq(u32::from(i))).map(|&i| u32::from(i)),
            Index::Large(t) => t.find(hash, |&i| eq(i)).copied(),
        }
    }

    /// Removes position `i`, indexed under `hash`.
    fn remove(&mut self, hash: u64, i: u32) {
        match self {
            Index::Small(t) => {
                if let Ok(e) = t.find_entry(hash, |&j| u32::from(j) == i) {
                    e.remove();
                }
            }
            Index::Large(t) => {
                if let Ok(e) = t.find_entry(hash, |&j| j == i) {
                    e.remove();
                }
            }
        }
    }

    /// Indexes position `i` under `hash`; `rehash` gives the hash of an indexed position
    /// when the table grows.
    fn insert(&mut self, hash: u64, i: u32, rehash: impl Fn(u32) -> u64) {
        if let Index::Small(t) = self {
            match u16::try_from(i) {
                Ok(small) if small != u16::MAX => {
                    t.insert_unique(hash, small, |&j| rehash(u32::from(j)));
                    return;
                }
                _ => {
                    let mut large = HashTable::with_capacity(t.len() + 1);
                    for &j in t.iter() {
                        let j = u32::from(j);
                        large.insert_unique(rehash(j), j, |&k| rehash(k));
                    }
                    *self = Index::Large(large);
                }
            }
        }
        if let Index::Large(t) = self {
            t.insert_unique(hash, i, |&j| rehash(j));
        }
    }

    /// The positions whose control byte matches `hash`'s along its probe sequence.
    fn iter_hash(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let (small, large) = match self {
            Index::Small(t) => (Some(t.iter_hash(hash).map(|&i| u32::from(i))), None),
            Index::Large(t) => (None, Some(t.iter_hash(hash).copied())),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }
}

/// A chunk of the slab: its slots and their expiry codes (see [`Keys::epoch`]).
struct Chunk {
    slots: Box<[Option<Slot>]>,
    expiries: Box<[u32]>,
}

/// The keys of a shard: what SWAPDB exchanges.
struct Keys {
    /// Slab positions of the slots, hashed by their keys' hashes.
    index: Index,
    /// The slab: fixed-size chunks of slots; `None` is a free position.
    chunks: Vec<Chunk>,
    /// The first free position below `used`, plus one (0: none). A free position's expiry
    /// code holds the next one the same way, so the free list takes no memory of its own.
    free_head: u32,
    /// Positions ever handed out (the first free position at the end of the slab).
    used: usize,
    volatile: usize,
    /// Per position, under a memory limit only (empty otherwise).
    meta: Vec<Meta>,
    /// The next position the active-expiry sweep inspects.
    cursor: usize,
    /// At or before every expiry time in the shard (`i64::MAX` when there is none).
    earliest: i64,
    /// The least expiry seen or set since the sweep's pass over the slab began: the next
    /// `earliest` when the pass ends.
    pass_min: i64,
    /// Expiry codes are milliseconds after this time: code `c` in `1..FAR` is `epoch + c`.
    epoch: i64,
    /// The expiry times that do not fit a code (more than 49.7 days from `epoch`), by
    /// position.
    far: HashMap<u32, i64>,
    /// `far` entries beyond which the epoch is moved and every code recomputed.
    far_limit: usize,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            index: Index::default(),
            chunks: Vec::new(),
            free_head: 0,
            used: 0,
            volatile: 0,
            meta: Vec::new(),
            cursor: 0,
            earliest: i64::MAX,
            pass_min: i64::MAX,
            epoch: 0,
            far: HashMap::new(),
            far_limit: 64,
        }
    }
}

#[inline]
fn slot_at(chunks: &[Chunk], i: u32) -> Option<&Slot> {
    let i = i as usize;
    chunks.get(i / CHUNK)?.slots.get(i % CHUNK)?.as_ref()
}

#[inline]
fn slot_at_mut(chunks: &mut [Chunk], i: u32) -> Option<&mut Slot> {
    let i = i as usize;
    chunks
        .get_mut(i / CHUNK)?
        .slots
        .get_mut(i % CHUNK)?
        .as_mut()
}

/// Whether position `i` holds `key`.
#[inline]
fn holds(chunks: &[Chunk], i: u32, key: &[u8]) -> bool {
    slot_at(chunks, i).is_some_and(|s| key_eq(&s.key, key))
}

/// Whether a stored key is `key`. An inline key is compared with a few fixed-width loads
/// (two overlapping ones cover any length from 4 to 32 bytes) instead of a call to
/// `memcmp`: a pageview compares keys about twenty times.
#[inline]
fn key_eq(stored: &Key, key: &[u8]) -> bool {
    match stored {
        Key::Inline { len, bytes } => {
            let n = usize::from(*len);
            n == key.len() && bytes.get(..n).is_some_and(|b| short_eq(b, key))
        }
        Key::Boxed(b) => **b == *key,
    }
}

/// `a == b`, without a call for slices of at most 32 bytes.
#[inline]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    fn ends<const W: usize>(s: &[u8]) -> Option<([u8; W], [u8; W])> {
        let first = s.get(..W)?.try_into().ok()?;
        let last = s.get(s.len().checked_sub(W)?..)?.try_into().ok()?;
        Some((first, last))
    }
    a.len() == b.len()
        && match a.len() {
            4..8 => ends::<4>(a) == ends::<4>(b),
            8..16 => ends::<8>(a) == ends::<8>(b),
            16..=32 => ends::<16>(a) == ends::<16>(b),
            _ => a == b,
        }
}

/// The table hash of the slot at position `i`, for the index's growth.
fn rehash(chunks: &[Chunk], i: u32) -> u64 {
    slot_at(chunks, i).map_or(0, |s| table_hash(s.hash()))
}

impl Keys {
    /// The position of `key`.
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        let chunks = &self.chunks;
        self.index.find(table_hash(hash), |i| holds(chunks, i, key))
    }

    fn meta(&self, i: u32) -> Meta {
        self.meta.get(i as usize).copied().unwrap_or_default()
    }

    fn meta_mut(&mut self, i: u32) -> Option<&mut Meta> {
        let i = i as usize;
        if i >= self.meta.len() {
            self.meta.resize(i + 1, Meta::default());
        }
        self.meta.get_mut(i)
    }

    /// The expiry time of the slot at position `i`.
    #[inline]
    fn expiry(&self, i: u32) -> Option<i64> {
        let p = i as usize;
        match *self.chunks.get(p / CHUNK)?.expiries.get(p % CHUNK)? {
            NO_EXPIRY => None,
            FAR => self.far.get(&i).copied(),
            code => Some(self.epoch.saturating_add(i64::from(code))),
        }
    }

    /// The code of expiry time `at` relative to the current epoch.
    fn code(&self, at: i64) -> u32 {
        match at.checked_sub(self.epoch) {
            Some(d) if d > 0 && d < i64::from(FAR) => d as u32,
            _ => FAR,
        }
    }

    /// Sets the expiry of the slot at position `i` (which holds a slot, or is being
    /// filled); returns the previous one. Keeps the volatile count and the sweep's bound.
    fn set_expiry(&mut self, i: u32, at: Option<i64>) -> Option<i64> {
        if let Some(t) = at {
            if let Some(old) = self.refresh_expiry(i, t) {
                return Some(old);
            }
        }
        let old = self.expiry(i);
        match (old.is_some(), at) {
            (false, Some(t)) => {
                if self.volatile == 0 && self.far.is_empty() {
                    // No other code to keep: center the epoch on this time.
                    self.epoch = t.saturating_sub(HALF_RANGE);
                }
                self.volatile += 1;
            }
            (true, None) => self.volatile -= 1,
            _ => {}
        }
        let code = match at {
            None => NO_EXPIRY,
            Some(t) => {
                self.note_expiry(t);
                self.code(t)
            }
        };
        match at {
            Some(t) if code == FAR => {
                self.far.insert(i, t);
            }
            _ => {
                if !self.far.is_empty() {
                    self.far.remove(&i);
                }
            }
        }
        let p = i as usize;
        if let Some(c) = self
            .chunks
            .get_mut(p / CHUNK)
            .and_then(|c| c.expiries.get_mut(p % CHUNK))
        {
            *c = code;
        }
        if self.far.len() > self.far_limit {
            self.rebase();
        }
        old
    }

    /// [`Keys::set_expiry`]'s common case, a session refreshing its time to live: a time
    /// replacing a time, both coded within the epoch's range. Nothing but the code and the
    /// sweep's bounds changes (the volatile count stays, neither time is in `far`). `None`,
    /// having changed nothing, in any other case.
    #[inline]
    fn refresh_expiry(&mut self, i: u32, at: i64) -> Option<i64> {
        let code = self.code(at);
        let p = i as usize;
        let c = self
            .chunks
            .get_mut(p / CHUNK)
            .and_then(|c| c.expiries.get_mut(p % CHUNK))?;
        let old = *c;
        if code == FAR || old == NO_EXPIRY || old == FAR {
            return None;
        }
        *c = code;
        self.note_expiry(at);
        Some(self.epoch.saturating_add(i64::from(old)))
    }

    /// Moves the epoch just before the earliest expiry time and recomputes every code.
    /// Run when `far` has grown past its limit, which then doubles (amortized O(1)).
    fn rebase(&mut self) {
        let times: Vec<(u32, i64)> = self
            .iter()
            .filter_map(|(i, _)| self.expiry(i).map(|t| (i, t)))
            .collect();
        if let Some(min) = times.iter().map(|&(_, t)| t).min() {
            self.epoch = min.saturating_sub(1);
        }
        self.far.clear();
        for (i, t) in times {
            let code = self.code(t);
            if code == FAR {
                self.far.insert(i, t);
            }
            let p = i as usize;
            if let Some(c) = self
                .chunks
                .get_mut(p / CHUNK)
                .and_then(|c| c.expiries.get_mut(p % CHUNK))
            {
                *c = code;
            }
        }
        self.far_limit = 64 + 2 * self.far.len() + self.volatile / 4;
    }

    /// Removes the slot at position `i`, whose key has hash `hash`: from the index and the
    /// slab. Returns it with its size estimate.
    fn take(&mut self, hash: u64, i: u32) -> Option<(Taken, u32)> {
        self.index.remove(table_hash(hash), i);
        let pos = i as usize;
        let slot = self
            .chunks
            .get_mut(pos / CHUNK)?
            .slots
            .get_mut(pos % CHUNK)?
            .take()?;
        let expire_at = self.set_expiry(i, None);
        if let Some(c) = self
            .chunks
            .get_mut(pos / CHUNK)
            .and_then(|c| c.expiries.get_mut(pos % CHUNK))
        {
            *c = std::mem::replace(&mut self.free_head, i + 1);
        }
        let size = match self.meta.get_mut(pos) {
            Some(m) => std::mem::take(m).size,
            None => 0,
        };
        let taken = Taken {
            key: slot.key,
            value: slot.value,
            expire_at,
        };
        Some((taken, size))
    }

    /// Stores a new slot (its key is absent) and indexes it.
    fn add(&mut self, hash: u64, slot: Slot, expire_at: Option<i64>) {
        let reused = self.free_head.checked_sub(1).and_then(|i| {
            let p = i as usize;
            let link = self
                .chunks
                .get_mut(p / CHUNK)?
                .expiries
                .get_mut(p % CHUNK)?;
            self.free_head = std::mem::replace(link, NO_EXPIRY);
            Some(i)
        });
        let i = match reused {
            Some(i) => i,
            None => {
                let i = self.used;
                if i / CHUNK >= self.chunks.len() {
                    self.chunks.push(Chunk {
                        slots: (0..CHUNK).map(|_| None).collect(),
                        expiries: vec![NO_EXPIRY; CHUNK].into_boxed_slice(),
                    });
                }
                self.used += 1;
                // Positions stay below u32::MAX: a shard never holds 4 billion keys.
                i as u32
            }
        };
        let pos = i as usize;
        if let Some(place) = self
            .chunks
            .get_mut(pos / CHUNK)
            .and_then(|c| c.slots.get_mut(pos % CHUNK))
        {
            *place = Some(slot);
        }
        self.set_expiry(i, expire_at);
        if let Some(m) = self.meta.get_mut(pos) {
            *m = Meta::default();
        }
        let chunks = &self.chunks;
        self.index
            .insert(table_hash(hash), i, |j| rehash(chunks, j));
    }

    /// Lowers the bounds the sweep keeps for an expiry time just set.
    #[inline]
    fn note_expiry(&mut self, at: i64) {
        self.earliest = self.earliest.min(at);
        self.pass_min = self.pass_min.min(at);
    }

    /// Every slot with its position, in slab order.
    fn iter(&self) -> impl Iterator<Item = (u32, &Slot)> {
        self.chunks
            .iter()
            .flat_map(|c| c.slots.iter())
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i as u32, s)))
    }

    /// The positions of the slots whose key has hash `hash` (table hash collisions weeded
    /// out by recomputing the key's hash).
    fn with_hash(&self, hash: u64) -> impl Iterator<Item = (u32, &Slot)> {
        let chunks = &self.chunks;
        self.index
            .iter_hash(table_hash(hash))
            .filter_map(move |i| slot_at(chunks, i).map(|s| (i, s)))
            .filter(move |(_, s)| s.hash() == hash)
    }
}

/// One shard: a table, its expiry bounds and the WATCH flags of its keys.
#[derive(Default)]
pub(crate) struct Shard {
    keys: Keys,
    watchers: Vec<(Box<[u8]>, Weak<AtomicBool>)>,
    /// Clients blocked on this shard's keys (BLPOP and friends).
    pub(crate) blocked: super::blocking::Blocked,
    /// The store's used-memory estimate, under a memory limit (see `super::evict`).
    pub(crate) meter: Option<Arc<AtomicI64>>,
    /// A snapshot that has fixed its instant but not yet copied this shard: whoever locks
    /// the shard next copies it first (see `super::persist`), so the copy is the shard as it
    /// was at that instant.
    pub(crate) capture: Option<super::persist::PendingCapture>,
    /// The store's keyspace-notification classes (see `super::notify`).
    pub(crate) notify: Option<Arc<AtomicU32>>,
    /// Keys this shard expired while `expired` events are enabled, until a view collects
    /// them (see `super::notify`).
    pub(crate) expired: Vec<Box<[u8]>>,
    /// Changes of the dataset counted on this shard since the last snapshot captured it
    /// (INFO's `rdb_changes_since_last_save` is the sum over shards).
    pub(crate) dirty: u64,
}

impl Shard {
    pub fn len(&self) -> usize {
        self.keys.index.len()
    }

    /// Keys with a time to live.
    pub fn volatile_len(&self) -> usize {
        self.keys.volatile
    }

    /// The live slot for `key`, removing it first if it has expired.
    /// The clock is read only for a key that has an expiry.
    #[inline]
    pub fn get_mut(
        &mut self,
        hash: u64,
        key: &[u8],
        now: impl FnOnce() -> i64,
    ) -> Option<&mut Slot> {
        let (i, _) = self.live(hash, key, now)?;
        slot_at_mut(&mut self.keys.chunks, i)
    }

    /// The slab position and expiry time of `key` if it is live, removing it first if it
    /// has expired (as [`Shard::get_mut`]). The position stays valid until a key of the
    /// shard is added or removed.
    #[inline]
    pub fn live(
        &mut self,
        hash: u64,
        key: &[u8],
        now: impl FnOnce() -> i64,
    ) -> Option<(u32, Option<i64>)> {
        let i = self.keys.find(hash, key)?;
        let at = self.keys.expiry(i);
        if at.is_some_and(|at| at <= now()) {
            let (slot, size) = self.keys.take(hash, i)?;
            self.account(-i64::from(size));
            touch_watchers(&mut self.watchers, &slot.key);
            log_expired(&self.notify, &mut self.expired, slot.key);
            return None;
        }
        Some((i, at))
    }

    /// Sets or clears the expiry of `key`, live at slab position `i` (from [`Shard::live`]
    /// under the same lock, no key added or removed since).
    #[inline]
    pub fn set_expire_at(&mut self, i: u32, key: &[u8], expire_at: Option<i64>) {
        debug_assert!(holds(&self.keys.chunks, i, key), "a stale slab position");
        self.keys.set_expiry(i, expire_at);
        self.touch(key);
    }

    /// The expiry time of `key`, live or not.
    pub fn expiry(&self, hash: u64, key: &[u8]) -> Option<i64> {
        self.keys.find(hash, key).and_then(|i| self.keys.expiry(i))
    }

    /// The LRU clock of `key` (0 when it is missing or no memory limit is set).
    pub fn lru(&self, hash: u64, key: &[u8]) -> u32 {
        self.keys
            .find(hash, key)
            .map_or(0, |i| self.keys.meta(i).lru)
    }

    /// The first step of warming the cache for a key before a command runs (see
    /// `Store::lock`): the slab position of `hash`, the first whose control byte matches
    /// (nearly always the key's own). Loads the index's control group and bucket.
    #[inline]
    pub fn position(&self, hash: u64) -> Option<u32> {
        self.keys.index.find(table_hash(hash), |_| true)
    }

    /// The second step: the value at slab position `i`, loading the slot and its expiry
    /// code (on another cache line) on the way.
    #[inline]
    pub fn slot_value(&self, i: u32) -> Option<&Value> {
        std::hint::black_box(self.keys.expiry(i));
        slot_at(&self.keys.chunks, i).map(|s| &s.value)
    }

    /// Inserts or replaces `key`.
    pub fn insert(&mut self, hash: u64, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.touch(key);
        let keys = &mut self.keys;
        match keys.find(hash, key) {
            Some(i) => {
                let Some(slot) = slot_at_mut(&mut keys.chunks, i) else {
                    return;
                };
                slot.value = value;
                keys.set_expiry(i, expire_at);
            }
            None => keys.add(
                hash,
                Slot {
                    key: key.into(),
                    value,
                },
                expire_at,
            ),
        }
    }

    /// Removes `key` whatever its expiry; returns its slot.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Taken> {
        let i = self.keys.find(hash, key)?;
        let (slot, size) = self.keys.take(hash, i)?;
        self.account(-i64::from(size));
        self.touch(key);
        Some(slot)
    }

    /// Sets or clears the expiry of a present key. The caller has checked it is live.
    pub fn set_expire(&mut self, hash: u64, key: &[u8], expire_at: Option<i64>) {
        let Some(i) = self.keys.find(hash, key) else {
            return;
        };
        self.keys.set_expiry(i, expire_at);
        self.touch(key);
    }

    /// Removes up to `budget` keys whose time has come; returns how many it removed. It
    /// inspects slab positions from where the last sweep stopped, at most `4 * budget` (at
    /// least 16) and at most the whole slab once.
    pub fn sweep(&mut self, now: i64, budget: usize) -> usize {
        let positions = self.keys.chunks.len() * CHUNK;
        if self.keys.volatile == 0 {
            self.keys.earliest = i64::MAX;
            return 0;
        }
        let limit = budget.saturating_mul(4).max(16).min(positions);
        let mut removed = 0;
        for _ in 0..limit {
            if removed >= budget {
                break;
            }
            let i = self.keys.cursor as u32;
            self.keys.cursor += 1;
            // A free position's code is a link of the free list, not a time.
            let at = slot_at(&self.keys.chunks, i).and_then(|_| self.keys.expiry(i));
            match at {
                Some(at) if at > now => self.keys.pass_min = self.keys.pass_min.min(at),
                Some(_) => {
                    let Some(hash) = slot_at(&self.keys.chunks, i).map(Slot::hash) else {
                        continue;
                    };
                    if let Some((slot, size)) = self.keys.take(hash, i) {
                        self.account(-i64::from(size));
                        self.touch(&slot.key);
                        log_expired(&self.notify, &mut self.expired, slot.key);
                        removed += 1;
                    }
                }
                None => {}
            }
            if self.keys.cursor >= positions {
                // A pass over the whole slab saw every expiry it did not remove, and
                // `note_expiry` every one set meanwhile.
                self.keys.cursor = 0;
                self.keys.earliest = self.keys.pass_min;
                self.keys.pass_min = i64::MAX;
            }
        }
        if self.keys.volatile == 0 {
            self.keys.earliest = i64::MAX;
        }
        removed
    }

    /// The sum and count of the remaining TTLs (ms) of up to `n` keys not yet due, found by
    /// looking at slab positions from `start` on (wrapping), at most `4 * n` of them, as a
    /// sweep does.
    pub fn sample_ttls(&self, now: i64, start: usize, n: usize) -> (i64, i64) {
        let positions = self.keys.chunks.len() * CHUNK;
        let (mut sum, mut count) = (0i64, 0i64);
        if self.keys.volatile == 0 || positions == 0 {
            return (sum, count);
        }
        for j in 0..n.saturating_mul(4).min(positions) {
            if count as usize >= n {
                break;
            }
            let Ok(i) = u32::try_from(start.wrapping_add(j) % positions) else {
                continue;
            };
            // A free position's code is a link of the free list, not a time.
            let at = slot_at(&self.keys.chunks, i).and_then(|_| self.keys.expiry(i));
            if let Some(ttl) = at.map(|at| at.saturating_sub(now)).filter(|&t| t > 0) {
                sum = sum.saturating_add(ttl);
                count += 1;
            }
        }
        (sum, count)
    }

    /// Whether a sweep may find something due now (it may not: the bound is refreshed only
    /// when a sweep completes a pass).
    #[inline]
    pub fn has_due(&self, now: impl FnOnce() -> i64) -> bool {
        self.keys.volatile != 0 && self.keys.earliest <= now()
    }

    /// Every live slot, in no particular order.
    pub fn iter_live(&self, now: i64) -> impl Iterator<Item = &Slot> {
        self.iter_live_expiring(now).map(|(s, _)| s)
    }

    /// Every live slot with its expiry time, in no particular order.
    pub fn iter_live_expiring(&self, now: i64) -> impl Iterator<Item = (&Slot, Option<i64>)> {
        let keys = &self.keys;
        keys.iter()
            .map(|(i, s)| (s, keys.expiry(i)))
            .filter(move |(_, at)| !matches!(at, Some(t) if *t <= now))
    }

    /// Removes every key; WATCH flags of existing keys fire.
    pub fn clear(&mut self) {
        if !self.watchers.is_empty() {
            let keys: Vec<Key> = self.keys.iter().map(|(_, s)| s.key.clone()).collect();
            for k in keys {
                self.touch(&k);
            }
        }
        let total = self.estimated_bytes();
        self.account(-total);
        self.keys = Keys::default();
    }

    /// The sum of the slots' size estimates (0 without a memory limit).
    pub(crate) fn estimated_bytes(&self) -> i64 {
        self.keys.meta.iter().map(|m| i64::from(m.size)).sum()
    }

    /// Adds `delta` bytes to the store's used-memory estimate (a no-op without a limit, when
    /// every slot's size stays 0).
    #[inline]
    pub(crate) fn account(&mut self, delta: i64) {
        if delta != 0 {
            if let Some(m) = &self.meter {
                m.fetch_add(delta, Ordering::Relaxed);
            }
        }
    }

    /// Sets the LRU clock of the slots whose hash is `hash` (one, but for a 64-bit
    /// collision) to `lru` and their size estimate to `estimate` of them.
    pub(crate) fn refresh(&mut self, hash: u64, lru: u32, estimate: impl Fn(&Slot) -> u32) {
        let found: SmallVec<[(u32, u32); 2]> = self
            .keys
            .with_hash(hash)
            .map(|(i, s)| (i, estimate(s)))
            .collect();
        let mut delta = 0;
        for (i, new) in found {
            if let Some(m) = self.keys.meta_mut(i) {
                delta += i64::from(new) - i64::from(m.size);
                *m = Meta { lru, size: new };
            }
        }
        self.account(delta);
    }

    /// Sets every slot's LRU clock to `lru` and its size estimate to `estimate` of it, and
    /// accounts the change: what starting to count memory does to a shard that was not
    /// counted.
    pub(crate) fn refresh_all(&mut self, lru: u32, estimate: impl Fn(&Slot) -> u32) {
        let sizes: Vec<(u32, u32)> = self.keys.iter().map(|(i, s)| (i, estimate(s))).collect();
        let before = self.estimated_bytes();
        let mut after = 0;
        for (i, size) in sizes {
            if let Some(m) = self.keys.meta_mut(i) {
                *m = Meta { lru, size };
                after += i64::from(size);
            }
        }
        self.account(after - before);
    }

    /// The sum of `estimate` over the shard's slots, counted or not.
    pub(crate) fn measure(&self, estimate: impl Fn(&Slot) -> u32) -> u64 {
        self.keys.iter().map(|(_, s)| u64::from(estimate(s))).sum()
    }

    /// A few slots with their LRU clocks, chosen by `seed`: those whose control byte
    /// matches the seed's along its probe sequence (often none). Eviction samples with it
    /// in O(1).
    pub(crate) fn sample(&self, seed: u64) -> impl Iterator<Item = (&Slot, u32, Option<i64>)> {
        let keys = &self.keys;
        keys.index.iter_hash(seed).filter_map(move |i| {
            slot_at(&keys.chunks, i).map(|s| (s, keys.meta(i).lru, keys.expiry(i)))
        })
    }

    /// The first slots in slab order with their LRU clocks; the fallback when
    /// [`Shard::sample`] finds nothing.
    pub(crate) fn first_slots(&self) -> impl Iterator<Item = (&Slot, u32, Option<i64>)> {
        let keys = &self.keys;
        keys.iter()
            .map(move |(i, s)| (s, keys.meta(i).lru, keys.expiry(i)))
    }

    /// The slots whose hash is `hash`, expired or not, with their expiry times.
    pub(crate) fn first_slots_with_hash(
        &self,
        hash: u64,
    ) -> impl Iterator<Item = (&Slot, Option<i64>)> {
        let keys = &self.keys;
        keys.with_hash(hash).map(move |(i, s)| (s, keys.expiry(i)))
    }

    /// Whether `key` is in the table and live at `now`.
    fn holds_live(&self, key: &[u8], now: i64) -> bool {
        let hash = key_hash(key);
        self.keys
            .find(hash, key)
            .is_some_and(|i| !matches!(self.keys.expiry(i), Some(t) if t <= now))
    }

    /// SWAPDB of two shards at the same position in two databases: the keys, their expiries
    /// and their sweep positions change places; WATCH flags and blocked clients stay with
    /// their database. A watched key that is in either shard is flagged (Redis's
    /// `touchAllWatchedKeysInDb`, a key replaced by one already expired excepted); keys
    /// that clients block on and that now hold a value are marked ready.
    pub(crate) fn swap_contents(&mut self, other: &mut Shard, now: i64) {
        flag_swapped(&mut self.watchers, self_view(&self.keys), other, now);
        flag_swapped(&mut other.watchers, self_view(&other.keys), self, now);
        std::mem::swap(&mut self.keys, &mut other.keys);
        self.mark_ready_blocked();
        other.mark_ready_blocked();
    }

    /// Marks ready every key with blocked clients that now holds a value.
    pub(crate) fn mark_ready_blocked(&mut self) {
        let keys = &self.keys;
        self.blocked.mark_ready_where(self_view(keys));
    }

    /// Registers a WATCH flag for `key`: it is set when the key is modified.
    pub fn watch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) {
        self.watchers.retain(|(_, w)| w.strong_count() > 0);
        self.watchers.push((key.into(), Arc::downgrade(flag)));
    }

    /// Marks `key` modified for WATCH.
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        touch_watchers(&mut self.watchers, key);
    }
}

/// Keeps an expired key for its `expired` event when that class is enabled.
#[inline]
fn log_expired(notify: &Option<Arc<AtomicU32>>, log: &mut Vec<Box<[u8]>>, key: Key) {
    if let Some(flags) = notify {
        if super::notify::enabled(flags.load(Ordering::Relaxed), super::notify::EXPIRED) {
            log.push(match key {
                Key::Boxed(b) => b,
                inline => Box::from(&*inline),
            });
        }
    }
}

/// The table a shard's own watchers are checked against before a swap.
fn self_view(keys: &Keys) -> impl Fn(&[u8]) -> bool + '_ {
    move |key| keys.find(key_hash(key), key).is_some()
}

/// Flags the watchers of keys present in their own shard (`own`) or live in `other`.
fn flag_swapped(
    watchers: &mut Vec<(Box<[u8]>, Weak<AtomicBool>)>,
    own: impl Fn(&[u8]) -> bool,
    other: &Shard,
    now: i64,
) {
    if watchers.is_empty() {
        return;
    }
    watchers.retain(|(k, w)| match w.upgrade() {
        None => false,
        Some(flag) => {
            if own(k) || other.holds_live(k, now) {
                flag.store(true, Ordering::SeqCst);
                false
            } else {
                true
            }
        }
    });
}

/// Sets (and drops) the WATCH flags registered for `key`, pruning flags whose transaction
/// is gone.
#[inline]
fn touch_watchers(watchers: &mut Vec<(Box<[u8]>, Weak<AtomicBool>)>, key: &[u8]) {
    if watchers.is_empty() {
        return;
    }
    watchers.retain(|(k, w)| match w.upgrade() {
        None => false,
        Some(flag) => {
            if **k == *key {
                flag.store(true, Ordering::SeqCst);
                false
            } else {
                true
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(n: i64) -> Value {
        Value::Str(super::super::value::StrValue::Int(n))
    }

    #[test]
    fn refreshed_expiries_are_swept_at_their_last_time() {
        let mut shard = Shard::default();
        let (key, hash) = (&b"k"[..], key_hash(b"k"));
        shard.insert(hash, key, int(1), Some(100));
        for t in (200..=10_000).step_by(100) {
            shard.set_expire(hash, key, Some(t));
        }
        // The bound is still the first time: a sweep finds nothing and refreshes it.
        assert!(shard.has_due(|| 150));
        assert_eq!(shard.sweep(150, 8), 0);
        assert_eq!(shard.len(), 1);
        assert_eq!(shard.sweep(150, usize::MAX), 0);
        assert!(!shard.has_due(|| 9_999));
        assert!(shard.has_due(|| 10_000));
        assert_eq!(shard.sweep(10_000, 8), 1);
        assert_eq!(shard.len(), 0);
        assert!(!shard.has_due(|| i64::MAX));
        // An earlier expiry lowers the bound at once.
        shard.insert(hash, key, int(1), Some(500));
        shard.set_expire(hash, key, Some(300));
        assert!(shard.has_due(|| 300));
        assert_eq!(shard.sweep(300, 8), 1);
    }

    #[test]
    fn positions_are_reused_and_the_index_follows_growth() {
        let mut shard = Shard::default();
        let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("key:{i}").into_bytes()).collect();
        for (n, k) in keys.iter().enumerate() {
            let at = (n % 2 == 0).then_some(1_000 + n as i64);
            shard.insert(key_hash(k), k, int(n as i64), at);
        }
        assert_eq!(shard.len(), 1000);
        assert_eq!(shard.volatile_len(), 500);
        let used = shard.keys.used;
        for k in keys.iter().step_by(3) {
            assert!(shard.remove(key_hash(k), k).is_some());
        }
        for k in keys.iter().step_by(3) {
            shard.insert(key_hash(k), k, int(-1), None);
        }
        // Every freed position was reused.
        assert_eq!(shard.keys.used, used);
        assert_eq!(shard.keys.free_head, 0);
        for (n, k) in keys.iter().enumerate() {
            let v = shard.get_mut(key_hash(k), k, || 0).map(|s| s.value.clone());
            let want = if n % 3 == 0 { -1 } else { n as i64 };
            assert!(
                matches!(v, Some(Value::Str(super::super::value::StrValue::Int(x))) if x == want),
                "{n}"
            );
        }
        // A full sweep after every time has come removes exactly the volatile keys.
        let volatile = shard.volatile_len();
        assert_eq!(shard.sweep(10_000, usize::MAX), volatile);
        assert_eq!(shard.len(), 1000 - volatile);
        assert!(!shard.has_due(|| i64::MAX));
    }

    #[test]
    fn the_index_widens_its_positions_past_65535() {
        let mut shard = Shard::default();
        let keys: Vec<Vec<u8>> = (0..70_000).map(|i| format!("k{i}").into_bytes()).collect();
        for (n, k) in keys.iter().enumerate() {
            shard.insert(key_hash(k), k, int(n as i64), None);
            if n == 65_534 {
                assert!(matches!(shard.keys.index, Index::Small(_)));
            }
        }
        assert!(matches!(shard.keys.index, Index::Large(_)));
        assert_eq!(shard.len(), keys.len());
        for (n, k) in keys.iter().enumerate() {
            let v = shard.get_mut(key_hash(k), k, || 0).map(|s| s.value.clone());
            assert!(
                matches!(v, Some(Value::Str(super::super::value::StrValue::Int(x))) if x == n as i64),
                "{n}"
            );
        }
        for k in keys.iter().step_by(2) {
            assert!(shard.remove(key_hash(k), k).is_some());
        }
        assert_eq!(shard.len(), keys.len() / 2);
        assert_eq!(shard.first_slots_with_hash(key_hash(b"k1")).count(), 1);
        assert_eq!(shard.first_slots_with_hash(key_hash(b"k0")).count(), 0);
    }

    #[test]
    fn expiry_times_survive_any_distance_from_the_epoch() {
        let mut shard = Shard::default();
        const DAY: i64 = 86_400_000;
        let t0 = 1_733_000_000_000;
        // Times around the first one, then ever farther ones: past the code range they go
        // to the side map, which moves the epoch when it grows.
        let times: Vec<i64> = (0..2_000i64)
            .map(|n| match n % 4 {
                0 => t0 + n,
                1 => t0 + (n % 90) * DAY + 7,
                2 => t0 + n * 37 * DAY,
                _ => i64::MAX - n,
            })
            .collect();
        let keys: Vec<Vec<u8>> = (0..times.len())
            .map(|i| format!("e{i}").into_bytes())
            .collect();
        for (k, &t) in keys.iter().zip(&times) {
            shard.insert(key_hash(k), k, int(0), Some(t));
        }
        for (k, &t) in keys.iter().zip(&times) {
            assert_eq!(shard.expiry(key_hash(k), k), Some(t));
        }
        assert!(shard.keys.far.len() <= shard.keys.far_limit);
        // Changing and clearing expiries keeps every other one.
        for (n, k) in keys.iter().enumerate().step_by(3) {
            let at = (n % 2 == 0).then_some(t0 - 5 * DAY + n as i64);
            shard.set_expire(key_hash(k), k, at);
        }
        for (n, (k, &t)) in keys.iter().zip(&times).enumerate() {
            let want = if n % 3 == 0 {
                (n % 2 == 0).then_some(t0 - 5 * DAY + n as i64)
            } else {
                Some(t)
            };
            assert_eq!(shard.expiry(key_hash(k), k), want, "{n}");
        }
        let volatile = (0..keys.len()).filter(|n| n % 3 != 0 || n % 2 == 0).count();
        assert_eq!(shard.volatile_len(), volatile);
        // Removed keys take their expiries along; the sweep finds the due ones.
        let removed = shard
            .remove(key_hash(&keys[1]), &keys[1])
            .map(|t| t.expire_at());
        assert_eq!(removed, Some(Some(times[1])));
        let due = (0..keys.len())
            .filter(|&n| n != 1)
            .filter(|&n| {
                shard
                    .expiry(key_hash(&keys[n]), &keys[n])
                    .is_some_and(|t| t <= t0 + DAY)
            })
            .count();
        assert_eq!(shard.sweep(t0 + DAY, usize::MAX), due);
        assert_eq!(shard.volatile_len(), volatile - 1 - due);
    }

    #[test]
    fn keys_up_to_the_inline_length_live_in_the_slot() {
        assert_eq!(std::mem::size_of::<Key>(), 24);
        for len in [0, 1, INLINE_KEY - 1, INLINE_KEY, INLINE_KEY + 1, 100] {
            let bytes: Vec<u8> = (0..len as u8).map(|b| b ^ 0xa5).collect();
            let key = Key::from(&bytes[..]);
            assert_eq!(&*key, &bytes[..]);
            assert_eq!(&*key.clone(), &bytes[..]);
            assert_eq!(
                matches!(key, Key::Inline { .. }),
                len <= INLINE_KEY,
                "{len}"
            );
        }
    }

    #[test]
    fn the_word_search_finds_the_first_byte() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..70usize {
            for _ in 0..40 {
                let hay: Vec<u8> = (0..len)
                    .map(|_| {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        [b'{', b'}', b'a', 0, 0xff, 0x7b ^ 0x80][(rng % 6) as usize]
                    })
                    .collect();
                for needle in [b'{', b'}', 0, 0xff, b'a', b'z'] {
                    assert_eq!(
                        find_byte(&hay, needle),
                        hay.iter().position(|&b| b == needle),
                        "{hay:?} {needle}"
                    );
                }
            }
        }
    }

    #[test]
    fn short_key_comparison_sees_every_byte() {
        for len in 0..40usize {
            let a: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
            assert!(short_eq(&a, &a.clone()), "{len}");
            assert!(key_eq(&Key::from(&a[..]), &a), "{len}");
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x10;
                assert!(!short_eq(&a, &b), "{len} {i}");
                assert!(!key_eq(&Key::from(&a[..]), &b), "{len} {i}");
            }
            assert!(!short_eq(&a, &a[..len.saturating_sub(1)]) || len == 0);
            assert!(!key_eq(&Key::from(&a[..]), &[&a[..], b"x"].concat()));
        }
    }

    #[test]
    fn slots_stay_compact() {
        // The table's memory per key is a slot over the load factor: keep it small.
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Slot>(), 48);
        assert_eq!(std::mem::size_of::<Option<Slot>>(), 48);
    }

    #[test]
    fn hash_tags_follow_redis_cluster_rules() {
        assert_eq!(hash_tag(b"ss:{u1}:pages"), Some(&b"u1"[..]));
        assert_eq!(hash_tag(b"{a}{b}"), Some(&b"a"[..]));
        assert_eq!(hash_tag(b"x{a{b}c"), Some(&b"a{b"[..]));
        assert_eq!(hash_tag(b"{}{b}"), None);
        assert_eq!(hash_tag(b"x{abc"), None);
        assert_eq!(hash_tag(b"x}a{"), None);
        assert_eq!(hash_tag(b""), None);
    }

    #[test]
    fn keys_of_one_tag_share_the_shard_bits_and_nothing_else() {
        let a = key_hash(b"ss:{u1}:pages");
        let b = key_hash(b"ss:{u1}:views");
        assert_eq!(a & SHARD_BITS, b & SHARD_BITS);
        assert_ne!(a, b);
        assert_eq!(
            a & SHARD_BITS,
            xxhash_rust::xxh3::xxh3_64(b"u1") & SHARD_BITS
        );
        assert_eq!(key_hash(b"plain"), xxhash_rust::xxh3::xxh3_64(b"plain"));
        assert_eq!(key_hash(b"{}x"), xxhash_rust::xxh3::xxh3_64(b"{}x"));
        // Distinct tags spread over the shards.
        let shards: std::collections::HashSet<u64> = (0..1000)
            .map(|i| key_hash(format!("ss:{{u{i}}}:pages").as_bytes()) >> 58)
            .collect();
        assert_eq!(shards.len(), 64);
    }
}
