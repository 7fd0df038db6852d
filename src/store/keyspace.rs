//! One shard of the keyspace: a hash table of keys to values with their expiry times.
//!
//! # Design
//!
//! A key's 64-bit hash ([`key_hash`], one-shot `xxh3`) is computed once per command and
//! chooses both the shard (its top bits) and the bucket (the table gets the hash times an
//! odd constant, so that the bits the shard choice fixed are mixed back into the bits the
//! table uses for buckets and control bytes). For a key with a Redis Cluster hash tag the
//! shard bits come from the tag, so one session's keys share a shard (one lock per
//! transaction, and snapshots save them together) while their buckets still spread. The
//! hash is stored beside the key, so growth never rehashes key bytes.
//!
//! # Representation
//!
//! ```text
//! Slot (72 bytes): hash u64 | expiry i64 (i64::MIN: none) | key: 22 bytes inline + len,
//!                  or a boxed slice when longer | value (24 bytes: strings, HyperLogLogs
//!                  and Bloom filters behind one pointer, hashes and lists boxed) | lru u32 | size u32
//! ```
//!
//! A command looks up each of its keys once right after locking (`Shard::prefetch`), slots
//! first and values after, so the cache misses of a multi-key transaction overlap.
//!
//! Expiry is lazy and active. Every lookup treats a key whose time has come as absent and
//! removes it. For keys nobody reads again, each shard keeps a min-heap of
//! `(expire_at, hash)`; [`Shard::sweep`] pops due entries in bounded steps. A heap entry is
//! only a hint: the slot's own `expire_at` is the truth. Every key with an expiry has a
//! hint at or before its time, so moving an expiry later pushes nothing (sessions refresh
//! their TTL on every request); a popped hint whose key now expires later is pushed again
//! for the new time, one left by a deleted key is dropped, and the heap is rebuilt from the
//! table when stale entries outnumber live ones.
//!
//! SCAN walks keys in ascending hash order (shards are hash ranges), which returns every
//! key that exists for the whole iteration exactly once, whatever the table does.

use super::value::Value;
use hashbrown::HashTable;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
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
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &rest[..close])
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

/// A key, its value and its absolute expiry time in Unix milliseconds.
pub(crate) struct Slot {
    pub hash: u64,
    /// The expiry time, or [`NO_EXPIRY`] (8 bytes where an `Option<i64>` takes 16).
    expiry: i64,
    pub key: Key,
    pub value: Value,
    /// Last access, low 32 bits of the store clock in ms; kept only under a memory limit.
    pub lru: u32,
    /// Estimated bytes of key and value; kept only under a memory limit (0 otherwise).
    pub size: u32,
}

/// [`Slot::expiry`] of a key without one. Never a real expiry time: a key whose time is at
/// or before the present is removed, never stored, and no present is `i64::MIN`.
const NO_EXPIRY: i64 = i64::MIN;

impl Slot {
    /// The absolute expiry time in Unix ms, if the key has one.
    #[inline]
    pub fn expire_at(&self) -> Option<i64> {
        (self.expiry != NO_EXPIRY).then_some(self.expiry)
    }

    #[inline]
    fn set_expire_at(&mut self, at: Option<i64>) -> Option<i64> {
        let old = self.expire_at();
        self.expiry = at.unwrap_or(NO_EXPIRY);
        old
    }

    #[inline]
    fn is_expired(&self, now: i64) -> bool {
        matches!(self.expire_at(), Some(t) if t <= now)
    }
}

/// One shard: a table, its expiry hints and the WATCH flags of its keys.
#[derive(Default)]
pub(crate) struct Shard {
    table: HashTable<Slot>,
    expiries: BinaryHeap<Reverse<(i64, u64)>>,
    volatile: usize,
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
        self.table.len()
    }

    /// Keys with a time to live.
    pub fn volatile_len(&self) -> usize {
        self.volatile
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
        let entry = self
            .table
            .find_entry(table_hash(hash), |s| s.hash == hash && *s.key == *key)
            .ok()?;
        match entry.get().expire_at() {
            Some(at) if at <= now() => {
                let (slot, _) = entry.remove();
                self.volatile -= 1;
                if slot.size != 0 {
                    if let Some(m) = &self.meter {
                        m.fetch_add(-i64::from(slot.size), Ordering::Relaxed);
                    }
                }
                touch_watchers(&mut self.watchers, &slot.key);
                log_expired(&self.notify, &mut self.expired, slot.key);
                None
            }
            _ => Some(entry.into_mut()),
        }
    }

    /// Loads the slot of `hash` and the first bytes of its value into the cache, without
    /// using them. Called for each key of a command before it runs, so that the cache
    /// misses of several keys overlap instead of following one another.
    #[inline]
    pub fn prefetch(&self, hash: u64) -> Option<&Value> {
        self.table
            .find(table_hash(hash), |s| s.hash == hash)
            .map(|s| &s.value)
    }

    /// Inserts or replaces `key`. Returns the previous slot's value if there was one.
    pub fn insert(&mut self, hash: u64, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.touch(key);
        if let Some(at) = expire_at {
            self.volatile += 1;
            self.expiries.push(Reverse((at, hash)));
        }
        match self.table.entry(
            table_hash(hash),
            |s| s.hash == hash && *s.key == *key,
            |s| table_hash(s.hash),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                let slot = o.get_mut();
                if slot.expire_at().is_some() {
                    self.volatile -= 1;
                }
                slot.value = value;
                slot.set_expire_at(expire_at);
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Slot {
                    hash,
                    expiry: expire_at.unwrap_or(NO_EXPIRY),
                    key: key.into(),
                    value,
                    lru: 0,
                    size: 0,
                });
            }
        }
        self.maybe_compact();
    }

    /// Removes `key` whatever its expiry; returns its slot.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Slot> {
        match self
            .table
            .find_entry(table_hash(hash), |s| s.hash == hash && *s.key == *key)
        {
            Ok(o) => {
                let (slot, _) = o.remove();
                if slot.expire_at().is_some() {
                    self.volatile -= 1;
                }
                self.account(-i64::from(slot.size));
                self.touch(key);
                Some(slot)
            }
            Err(_) => None,
        }
    }

    /// Sets or clears the expiry of a present key. The caller has checked it is live.
    pub fn set_expire(&mut self, hash: u64, key: &[u8], expire_at: Option<i64>) {
        let Some(slot) = self
            .table
            .find_mut(table_hash(hash), |s| s.hash == hash && *s.key == *key)
        else {
            return;
        };
        match (slot.expire_at().is_some(), expire_at.is_some()) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        let old = slot.set_expire_at(expire_at);
        if let Some(at) = expire_at {
            // A key that already expired no later than `at` has a hint no later than that:
            // a session refreshing its TTL on every request pushes nothing.
            if !matches!(old, Some(o) if o <= at) {
                self.expiries.push(Reverse((at, hash)));
            }
        }
        self.touch(key);
        self.maybe_compact();
    }

    fn maybe_compact(&mut self) {
        if self.expiries.len() > 64 + 2 * self.volatile {
            self.expiries = self
                .table
                .iter()
                .filter_map(|s| s.expire_at().map(|at| Reverse((at, s.hash))))
                .collect();
        }
    }

    /// Removes up to `budget` keys whose time has come; returns how many it removed.
    pub fn sweep(&mut self, now: i64, budget: usize) -> usize {
        let mut removed = 0;
        let mut popped = 0;
        while removed < budget && popped < budget.saturating_mul(4).max(16) {
            let Some(&Reverse((at, hash))) = self.expiries.peek() else {
                break;
            };
            if at > now {
                break;
            }
            self.expiries.pop();
            popped += 1;
            // A key whose expiry moved later since this hint was pushed gets a hint for its
            // new time.
            for s in self.table.iter_hash(table_hash(hash)) {
                if let Some(t) = s.expire_at().filter(|&t| s.hash == hash && t > now) {
                    self.expiries.push(Reverse((t, hash)));
                }
            }
            while let Ok(o) = self
                .table
                .find_entry(table_hash(hash), |s| s.hash == hash && s.is_expired(now))
            {
                let (slot, _) = o.remove();
                self.volatile -= 1;
                self.account(-i64::from(slot.size));
                self.touch(&slot.key);
                log_expired(&self.notify, &mut self.expired, slot.key);
                removed += 1;
            }
        }
        removed
    }

    /// The sum and count of the remaining TTLs (ms) of up to `n` keys not yet due, read
    /// from the expiry hints from position `start` on (wrapping); a stale hint counts only
    /// when its key still has an expiry.
    pub fn sample_ttls(&self, now: i64, start: usize, n: usize) -> (i64, i64) {
        let hints = self.expiries.as_slice();
        let (mut sum, mut count) = (0i64, 0i64);
        for j in 0..n.min(hints.len()) {
            let Some(Reverse((_, hash))) = hints.get(start.wrapping_add(j) % hints.len()) else {
                continue;
            };
            let ttl = self
                .table
                .iter_hash(table_hash(*hash))
                .find_map(|s| s.expire_at().filter(|_| s.hash == *hash))
                .map(|at| at.saturating_sub(now));
            if let Some(ttl) = ttl.filter(|&t| t > 0) {
                sum = sum.saturating_add(ttl);
                count += 1;
            }
        }
        (sum, count)
    }

    /// Whether a sweep would find something due now.
    #[inline]
    pub fn has_due(&self, now: impl FnOnce() -> i64) -> bool {
        matches!(self.expiries.peek(), Some(Reverse((at, _))) if *at <= now())
    }

    /// Every live slot, in no particular order.
    pub fn iter_live(&self, now: i64) -> impl Iterator<Item = &Slot> {
        self.table.iter().filter(move |s| !s.is_expired(now))
    }

    /// Removes every key; WATCH flags of existing keys fire.
    pub fn clear(&mut self) {
        if !self.watchers.is_empty() {
            let keys: Vec<Key> = self.table.iter().map(|s| s.key.clone()).collect();
            for k in keys {
                self.touch(&k);
            }
        }
        if self.meter.is_some() {
            let total: i64 = self.table.iter().map(|s| i64::from(s.size)).sum();
            self.account(-total);
        }
        self.table.clear();
        self.expiries.clear();
        self.volatile = 0;
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

    /// Runs `f` on the slots whose hash is `hash` (one, but for a 64-bit collision); `f`
    /// returns the change in their estimated size.
    pub(crate) fn update_hash(&mut self, hash: u64, mut f: impl FnMut(&mut Slot) -> i64) {
        let mut delta = 0;
        for s in self.table.iter_hash_mut(table_hash(hash)) {
            if s.hash == hash {
                delta += f(s);
            }
        }
        self.account(delta);
    }

    /// A few slots, chosen by `seed`: those whose control byte matches the seed's along its
    /// probe sequence (often none). Eviction samples with it in O(1).
    pub(crate) fn sample(&self, seed: u64) -> impl Iterator<Item = &Slot> {
        self.table.iter_hash(seed)
    }

    /// The first slots in table order; the fallback when [`Shard::sample`] finds nothing.
    pub(crate) fn first_slots(&self) -> impl Iterator<Item = &Slot> {
        self.table.iter()
    }

    /// The slots whose hash is `hash`, expired or not.
    pub(crate) fn first_slots_with_hash(&self, hash: u64) -> impl Iterator<Item = &Slot> {
        self.table
            .iter_hash(table_hash(hash))
            .filter(move |s| s.hash == hash)
    }

    /// Whether `key` is in the table and live at `now`.
    fn holds_live(&self, key: &[u8], now: i64) -> bool {
        let hash = key_hash(key);
        self.first_slots_with_hash(hash)
            .any(|s| *s.key == *key && !s.is_expired(now))
    }

    /// SWAPDB of two shards at the same position in two databases: the keys, their expiries
    /// and their hints change places; WATCH flags and blocked clients stay with their
    /// database. A watched key that is in either shard is flagged (Redis's
    /// `touchAllWatchedKeysInDb`, a key replaced by one already expired excepted); keys
    /// that clients block on and that now hold a value are marked ready.
    pub(crate) fn swap_contents(&mut self, other: &mut Shard, now: i64) {
        flag_swapped(&mut self.watchers, self_view(&self.table), other, now);
        flag_swapped(&mut other.watchers, self_view(&other.table), self, now);
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.expiries, &mut other.expiries);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
        self.mark_ready_blocked();
        other.mark_ready_blocked();
    }

    /// Marks ready every key with blocked clients that now holds a value.
    pub(crate) fn mark_ready_blocked(&mut self) {
        let table = &self.table;
        self.blocked.mark_ready_where(self_view(table));
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
fn self_view(table: &HashTable<Slot>) -> impl Fn(&[u8]) -> bool + '_ {
    move |key| {
        let hash = key_hash(key);
        table
            .iter_hash(table_hash(hash))
            .any(|s| s.hash == hash && *s.key == *key)
    }
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

    #[test]
    fn refreshed_expiries_push_no_hints_and_are_still_swept() {
        use super::super::value::StrValue;
        let mut shard = Shard::default();
        let (key, hash) = (&b"k"[..], key_hash(b"k"));
        shard.insert(hash, key, Value::Str(StrValue::Int(1)), Some(100));
        for t in (200..=10_000).step_by(100) {
            shard.set_expire(hash, key, Some(t));
        }
        assert_eq!(shard.expiries.len(), 1);
        // The first hint comes due: the key lives on and gets a hint for its real time.
        assert_eq!(shard.sweep(150, 8), 0);
        assert_eq!(shard.len(), 1);
        assert_eq!(shard.expiries.len(), 1);
        assert!(!shard.has_due(|| 9_999));
        assert!(shard.has_due(|| 10_000));
        assert_eq!(shard.sweep(10_000, 8), 1);
        assert_eq!(shard.len(), 0);
        assert!(shard.expiries.is_empty());
        // An earlier expiry pushes a new hint.
        shard.insert(hash, key, Value::Str(StrValue::Int(1)), Some(500));
        shard.set_expire(hash, key, Some(300));
        assert_eq!(shard.sweep(300, 8), 1);
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
    fn slots_stay_compact() {
        // The table's memory per key is a slot over the load factor: keep it small.
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Slot>(), 72);
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
