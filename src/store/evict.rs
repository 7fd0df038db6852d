//! An optional memory limit with Redis's eviction policies, approximated as Redis does by
//! sampling.
//!
//! # Design
//!
//! | decision | why | cost |
//! |---|---|---|
//! | Memory is an estimate: each slot carries the estimated bytes of its key and value, and the store keeps one atomic sum | an exact count would need an allocator hook; the estimate moves with what the application stores, which is what a limit is for | the estimate can be off by the allocator's rounding and, for large hashes and lists, by sampling error (see `# Accuracy`) |
//! | Sizes are refreshed after each command, for the keys it looked up or wrote, while their shard is still locked | one code path for the typed methods and the argv front end; no command needs to report its growth | under a limit, every command pays one more table lookup per key it named |
//! | A hash or list of more than 16 elements is sized from 8 elements spread across it, times its length | O(1) per refresh, as Redis's `MEMORY USAGE` samples aggregates | the estimate of a collection with very uneven elements is rough |
//! | Nothing of this runs until a limit is set, even in a store built to accept one later (a server's `CONFIG SET maxmemory`): slot sizes and LRU clocks stay 0, and the hot path pays one branch per command and per key lookup on a flag the view read when it locked. The first limit walks the keyspace once under every shard's lock, measuring each key, and counting goes on from then, whatever the limit becomes | GET/SET/INCR keep their speed on a server without a limit (the per-key refresh was about a tenth of a pipelined SET's user time) | setting the first limit costs O(keys) once; until then `used_memory` (INFO) walks the keyspace on every call; OBJECT IDLETIME is 0 until then |
//! | Eviction samples: 4 random shards, up to 5 keys each found by probing the shard's table at a random hash; the best candidate of the about 20 is evicted | Redis's approximated LRU (`maxmemory-samples 5` and its eviction pool) in O(1) per eviction | approximate: a key among the oldest few percent, not the oldest, goes first |
//! | A write is refused only when eviction found nothing the policy may evict, never because the estimate is still over the limit after evicting; sampling counts only eligible keys and skips shards without any, retries, and ends in a scan | with several writers, another thread's write can push the estimate over again between one thread's eviction and its check, and another thread can evict the sampled candidates first: both made writes fail while evictable keys existed (`tests/eviction.rs`, 8 threads) | a caller evicts at most 256 keys before its command runs anyway, so writers outpacing evictions can take the estimate a little past the limit; a scan is O(keys), reached only when 4 samplings in a row found nothing |
//! | Writes are refused (`OOM command not allowed ...`) before they run, only for Redis's `denyoom` commands, through [`Store::execute`], the typed methods and at MULTI queue time | Redis's rule: reads, deletes and expiries still work at the limit, so memory can be freed | a refused typed call returns `Err` with Redis's text, which callers that never expect a full store must handle |
//!
//! LRU clocks are the low 32 bits of the store clock in milliseconds, set on every access
//! under a limit; a key idle for more than 49.7 days looks recently used (Redis's 24-bit
//! clock in seconds wraps after 194 days).
//!
//! # Accuracy
//!
//! Per key the estimate counts the keyspace's overhead (see `SLOT_OVERHEAD`), the key's
//! and value's heap blocks rounded up as an allocator does, and for collections their
//! element blocks. `tests/eviction.rs` checks that the estimate of
//! 100,000 session hashes is within a factor of 2 of the process's RSS growth.

use super::keyspace::Slot;
use super::value::{StrValue, Value};
use super::{Db, Store, StoreBuilder};
use crate::error::{Error, Result};
use crate::types::hash::HashValue;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

/// What to do when a write would take the store past its memory limit (Redis's
/// `maxmemory-policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvictionPolicy {
    /// Evict nothing; refuse writes that may grow memory with
    /// `OOM command not allowed when used memory > 'maxmemory'.` (the default).
    #[default]
    NoEviction,
    /// Evict an approximately least recently used key.
    AllKeysLru,
    /// Evict an approximately least recently used key among those with an expiry.
    VolatileLru,
    /// Evict a random key.
    AllKeysRandom,
    /// Evict a random key among those with an expiry.
    VolatileRandom,
    /// Evict the key with (approximately) the nearest expiry.
    VolatileTtl,
}

impl EvictionPolicy {
    /// Every policy, in the order of their codes.
    const ALL: [EvictionPolicy; 6] = [
        EvictionPolicy::NoEviction,
        EvictionPolicy::AllKeysLru,
        EvictionPolicy::VolatileLru,
        EvictionPolicy::AllKeysRandom,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
    ];

    /// Redis's name of the policy (`maxmemory-policy`).
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
            EvictionPolicy::AllKeysLru => "allkeys-lru",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::AllKeysRandom => "allkeys-random",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
        }
    }

    /// The policy of a Redis name, ignoring ASCII case.
    pub fn from_name(name: &[u8]) -> Option<EvictionPolicy> {
        Self::ALL
            .into_iter()
            .find(|p| name.eq_ignore_ascii_case(p.name().as_bytes()))
    }

    fn code(self) -> u8 {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0) as u8
    }

    fn of_code(code: u8) -> EvictionPolicy {
        Self::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or_default()
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
        )
    }
}

/// The builder's memory settings.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MemoryConfig {
    /// 0: no limit.
    pub limit: usize,
    pub policy: EvictionPolicy,
}

/// A store's memory limit and its used-memory estimate. The limit and the policy may change
/// while the store runs (`CONFIG SET`); 0 means no limit, with memory still counted.
pub(crate) struct Memory {
    /// Whether sizes and LRU clocks are kept: from the start when the store is built with a
    /// limit, else from the first time one is set (see [`super::Inner::start_accounting`]);
    /// never turned off again.
    active: AtomicBool,
    limit: AtomicUsize,
    policy: AtomicU8,
    used: Arc<AtomicI64>,
    rng: AtomicU64,
    pool: parking_lot::Mutex<Vec<Candidate>>,
}

/// Shards sampled per eviction.
const SAMPLE_SHARDS: usize = 8;
/// Keys sampled per shard (Redis's `maxmemory-samples` default).
const SAMPLE_KEYS: usize = 5;
/// Random probes of a shard's table per sampling.
const SAMPLE_PROBES: usize = 64;

impl Memory {
    pub(crate) fn new(config: MemoryConfig) -> Memory {
        Memory {
            active: AtomicBool::new(config.limit != 0),
            limit: AtomicUsize::new(config.limit),
            policy: AtomicU8::new(config.policy.code()),
            used: Arc::new(AtomicI64::new(0)),
            rng: AtomicU64::new(0x853c_49e6_748f_ea9b),
            pool: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// The counter each shard adds its size changes to.
    pub(crate) fn meter(&self) -> Arc<AtomicI64> {
        Arc::clone(&self.used)
    }

    fn used(&self) -> usize {
        usize::try_from(self.used.load(Ordering::Relaxed)).unwrap_or(0)
    }

    fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    fn policy(&self) -> EvictionPolicy {
        EvictionPolicy::of_code(self.policy.load(Ordering::Relaxed))
    }

    fn over(&self) -> bool {
        let limit = self.limit();
        limit != 0 && self.used() > limit
    }

    fn random(&self) -> u64 {
        // splitmix64 over a shared counter: only runs under a limit, while evicting.
        let mut z = self
            .rng
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl StoreBuilder {
    /// A memory limit in bytes, as an estimate of what keys and values take (Redis's
    /// `maxmemory`; 0, the default, means no limit). What happens at the limit is the
    /// [`eviction_policy`](StoreBuilder::eviction_policy). See the `Guarantees` section of the
    /// README for how memory is estimated.
    pub fn max_memory(mut self, bytes: usize) -> Self {
        self.memory.get_or_insert_with(MemoryConfig::default).limit = bytes;
        self
    }

    /// What to do at the memory limit ([`EvictionPolicy::NoEviction`] by default).
    pub fn eviction_policy(mut self, policy: EvictionPolicy) -> Self {
        self.memory.get_or_insert_with(MemoryConfig::default).policy = policy;
        self
    }
}

impl super::Inner {
    /// The memory policy in force, when memory is counted.
    pub(crate) fn eviction_policy(&self) -> Option<EvictionPolicy> {
        self.memory.as_ref().map(|m| m.policy())
    }

    /// Changes the memory limit (0: none) at run time; false when the store was built without
    /// memory accounting ([`StoreBuilder::max_memory`] never called), which cannot be added
    /// later. A limit set while memory is not counted yet takes effect once
    /// [`Inner::start_accounting`](super::Inner::start_accounting) has run.
    pub(crate) fn set_max_memory(&self, bytes: usize) -> bool {
        let Some(m) = &self.memory else {
            return false;
        };
        m.limit.store(bytes, Ordering::Relaxed);
        true
    }

    /// Whether memory is counted now: sizes and LRU clocks kept for every key touched.
    #[inline]
    pub(crate) fn accounting(&self) -> bool {
        self.memory
            .as_ref()
            .is_some_and(|m| m.active.load(Ordering::Acquire))
    }

    /// Starts counting memory: with every shard locked (in ascending order, as any view
    /// locks them), measures every key and sets its LRU clock to now, then turns the
    /// counting on before unlocking. O(keys), once per store. Must not be called while
    /// holding a shard lock.
    pub(crate) fn start_accounting(&self) {
        let Some(m) = &self.memory else {
            return;
        };
        if m.active.load(Ordering::Acquire) {
            return;
        }
        let mut guards: Vec<_> = (0..self.shards.len()).map(|i| self.lock_shard(i)).collect();
        // Another caller may have finished the walk while this one waited for the locks.
        if m.active.load(Ordering::Acquire) {
            return;
        }
        let lru = self.clock.coarse_ms() as u32;
        for (i, shard) in guards.iter_mut().enumerate() {
            if shard.len() != 0 {
                if let Some(used) = self.used_dbs.get(i / self.shards_per_db) {
                    used.store(true, Ordering::Relaxed);
                }
            }
            shard.refresh_all(lru, |slot| estimate(&slot.key, &slot.value));
        }
        m.active.store(true, Ordering::Release);
    }

    /// The sum of every key's estimate, walking the keyspace shard by shard: what INFO
    /// reports while memory is not counted. O(keys).
    fn measure_keyspace(&self) -> usize {
        let total: u64 = (0..self.shards.len())
            .map(|i| {
                self.lock_shard(i)
                    .measure(|slot| estimate(&slot.key, &slot.value))
            })
            .sum();
        usize::try_from(total).unwrap_or(usize::MAX)
    }

    /// Changes the eviction policy at run time; false without memory accounting.
    pub(crate) fn set_eviction_policy(&self, policy: EvictionPolicy) -> bool {
        let Some(m) = &self.memory else {
            return false;
        };
        m.policy.store(policy.code(), Ordering::Relaxed);
        true
    }

    /// The estimate of memory used: the running count while memory is counted, else a walk
    /// of the keyspace ([`Inner::measure_keyspace`](Self::measure_keyspace)); 0 for a store
    /// built without memory accounting. The walk locks every shard in turn: not for a caller
    /// holding one (a view has [`Db::used_memory`]).
    pub(crate) fn used_memory(&self) -> usize {
        match &self.memory {
            Some(m) if m.active.load(Ordering::Acquire) => m.used(),
            Some(_) => self.measure_keyspace(),
            None => 0,
        }
    }

    /// The limit in force, 0 for none.
    pub(crate) fn memory_limit(&self) -> usize {
        self.memory.as_ref().map_or(0, |m| m.limit())
    }
}

impl Store {
    /// The estimate of the memory keys and values take, in bytes; 0 for a store built
    /// without [`StoreBuilder::max_memory`]. Built with a limit of 0, the store counts
    /// nothing until a limit is set, and this walks the keyspace (O(keys)) until then.
    pub fn used_memory(&self) -> usize {
        self.inner.used_memory()
    }

    /// The memory limit, if one is set.
    pub fn max_memory(&self) -> Option<usize> {
        self.inner
            .memory
            .as_ref()
            .map(|m| m.limit())
            .filter(|&l| l != 0)
    }

    /// Evicts keys by the store's policy while the estimate is over the limit (after a
    /// command: never refuses anything).
    pub(crate) fn evict_if_needed(&self) {
        let _ = self.evict_while_over();
    }

    /// Evicts while the estimate is over the limit, at most [`EVICTIONS_PER_CALL`] keys.
    /// False only when the store is over the limit and nothing it may evict is left (or the
    /// policy is `noeviction`).
    ///
    /// Writers on other threads add memory while this one evicts, so the estimate alone
    /// cannot decide a refusal: a write is refused only when eviction itself found nothing
    /// to evict. When other writers outpace one caller's evictions it stops after its quota
    /// and lets its own command run, as Redis lets a command run when eviction ran out of
    /// time: each writer evicts before it writes, so memory is not left to grow unboundedly.
    fn evict_while_over(&self) -> bool {
        let Some(m) = &self.inner.memory else {
            return true;
        };
        if !m.over() {
            return true;
        }
        if m.policy() == EvictionPolicy::NoEviction {
            return false;
        }
        for _ in 0..EVICTIONS_PER_CALL {
            if !m.over() {
                return true;
            }
            if !self.evict_one(m) {
                return !m.over();
            }
        }
        true
    }

    /// Before a command from the argv front end: evicts if over the limit, then refuses a
    /// `denyoom` command if nothing evictable is left.
    #[inline]
    pub(crate) fn check_memory(&self, denyoom: bool) -> Result<()> {
        let Some(m) = &self.inner.memory else {
            return Ok(());
        };
        if !m.over() {
            return Ok(());
        }
        if !self.evict_while_over() && denyoom {
            return Err(Error::OutOfMemory);
        }
        Ok(())
    }

    /// Evicts one key; false when no key the policy may evict exists. Sampling finds a
    /// candidate in O(1) almost always; when it does not (another thread evicted or used the
    /// sampled keys, or the few eligible keys hide among many others), the sampling is
    /// retried and then every shard is scanned, so that "nothing found" means "nothing to
    /// evict".
    fn evict_one(&self, m: &Memory) -> bool {
        for _ in 0..SAMPLING_ROUNDS {
            if self.evict_sampled(m) {
                return true;
            }
        }
        self.evict_scanned(m)
    }

    /// One eviction by sampling; false when this round evicted nothing.
    fn evict_sampled(&self, m: &Memory) -> bool {
        let inner = &*self.inner;
        let policy = m.policy();
        let lru_now = inner.clock.now_ms() as u32;
        let n = inner.shards.len();
        let mut fresh: Vec<Candidate> = Vec::new();
        // Shard positions first, databases within each, skipping databases that never held
        // a key under the limit: with the keys in one database the sampled shards follow a
        // uniformly chosen position, as with a single database, instead of always following
        // the run of empty shards before database 0.
        let per_db = inner.shards_per_db;
        let used: SmallVec<[usize; 16]> = (0..inner.databases)
            .filter(|&d| {
                inner
                    .used_dbs
                    .get(d)
                    .is_some_and(|u| u.load(Ordering::Relaxed))
            })
            .collect();
        if used.is_empty() {
            return false;
        }
        let dbs = used.len();
        let n = n.min(per_db * dbs);
        let start = m.random() as usize % per_db;
        let first_db = m.random() as usize % dbs;
        let mut sampled_shards = 0;
        for step in 0..n {
            if sampled_shards >= SAMPLE_SHARDS && !fresh.is_empty() {
                break;
            }
            let position = (start + step / dbs) % per_db;
            let i = used[(first_db + step) % dbs] * per_db + position;
            let shard = inner.lock_shard(i);
            let eligible = if policy.volatile_only() {
                shard.volatile_len()
            } else {
                shard.len()
            };
            if eligible == 0 {
                continue;
            }
            sampled_shards += 1;
            let mut found = 0;
            for _ in 0..SAMPLE_PROBES {
                for (slot, lru, at) in shard.sample(m.random()) {
                    found += usize::from(consider(&mut fresh, i, slot, lru, at, policy));
                }
                if found >= SAMPLE_KEYS {
                    break;
                }
            }
            if found == 0 {
                for (slot, lru, at) in shard.first_slots() {
                    found += usize::from(consider(&mut fresh, i, slot, lru, at, policy));
                    if found >= SAMPLE_KEYS {
                        break;
                    }
                }
            }
        }
        if matches!(
            policy,
            EvictionPolicy::AllKeysRandom | EvictionPolicy::VolatileRandom
        ) {
            while let Some(c) = fresh.pop() {
                if remove_candidate(inner, &c, policy) {
                    return true;
                }
            }
            return false;
        }
        // Redis's eviction pool: the best candidates of past samplings stay eligible, so
        // each eviction chooses among more than one sampling's keys.
        let mut pool = m.pool.lock();
        pool.append(&mut fresh);
        let score = |c: &Candidate| match policy {
            EvictionPolicy::VolatileTtl => {
                // Nearest expiry first: the signed time's order, flipped.
                !((c.expire_at.unwrap_or(i64::MAX) as u64) ^ (1 << 63))
            }
            _ => u64::from(lru_now.wrapping_sub(c.lru)),
        };
        pool.sort_by_key(|c| std::cmp::Reverse(score(c)));
        pool.dedup_by(|a, b| a.shard == b.shard && a.hash == b.hash && a.key == b.key);
        pool.truncate(POOL);
        while !pool.is_empty() {
            let c = pool.remove(0);
            // A candidate removed since it was sampled is skipped; one used since is still
            // evicted (as Redis does), unless it lost the expiry a volatile policy needs.
            if remove_candidate(inner, &c, policy) {
                return true;
            }
        }
        false
    }

    /// The last resort of [`evict_one`](Self::evict_one): the first eligible key of a full
    /// scan, shard by shard. O(keys), reached only when sampling keeps missing.
    fn evict_scanned(&self, m: &Memory) -> bool {
        let policy = m.policy();
        for i in 0..self.inner.shards.len() {
            let mut shard = self.inner.lock_shard(i);
            let victim = shard
                .first_slots()
                .find(|(_, _, at)| !policy.volatile_only() || at.is_some())
                .map(|(s, _, _)| (s.hash(), Box::<[u8]>::from(&*s.key)));
            if let Some((hash, key)) = victim {
                shard.remove(hash, &key);
                drop(shard);
                self.inner.notify_now(
                    super::notify::EVICTED,
                    "evicted",
                    &key,
                    self.inner.db_of_shard(i),
                );
                return true;
            }
        }
        false
    }
}

/// Most keys one caller evicts before its command runs anyway.
const EVICTIONS_PER_CALL: usize = 256;
/// Sampling rounds before [`Store::evict_one`] falls back to a scan.
const SAMPLING_ROUNDS: usize = 4;

/// Removes a sampled candidate if it is still there and still eligible under `policy`.
fn remove_candidate(inner: &super::Inner, c: &Candidate, policy: EvictionPolicy) -> bool {
    let mut shard = inner.lock_shard(c.shard);
    let eligible = shard
        .first_slots_with_hash(c.hash)
        .any(|(s, at)| *s.key == *c.key && (!policy.volatile_only() || at.is_some()));
    let removed = eligible && shard.remove(c.hash, &c.key).is_some();
    drop(shard);
    if removed {
        inner.notify_now(
            super::notify::EVICTED,
            "evicted",
            &c.key,
            inner.db_of_shard(c.shard),
        );
    }
    removed
}

/// Candidates kept between evictions (Redis's `EVPOOL_SIZE`).
const POOL: usize = 16;

/// An eviction candidate.
pub(crate) struct Candidate {
    shard: usize,
    hash: u64,
    key: Box<[u8]>,
    lru: u32,
    expire_at: Option<i64>,
}

/// Adds `slot` to `out` if `policy` may evict it; whether it did.
fn consider(
    out: &mut Vec<Candidate>,
    shard: usize,
    slot: &Slot,
    lru: u32,
    expire_at: Option<i64>,
    policy: EvictionPolicy,
) -> bool {
    if policy.volatile_only() && expire_at.is_none() {
        return false;
    }
    out.push(Candidate {
        shard,
        hash: slot.hash(),
        key: (*slot.key).into(),
        lru,
        expire_at,
    });
    true
}

impl Db<'_> {
    /// Sets the memory limit (0: none; see [`super::Inner::set_max_memory`]); the first
    /// limit set on a store that was not counting memory starts the counting when this view
    /// is released.
    pub(crate) fn set_max_memory(&mut self, bytes: usize) -> bool {
        let set = self.inner.set_max_memory(bytes);
        if set && bytes != 0 && !self.accounting {
            self.start_accounting = true;
        }
        set
    }

    /// The estimate of memory used, for a view that may hold shard locks (INFO holds them
    /// all): the running count while memory is counted, else the sum of the estimates of
    /// the keys in the shards it holds, or of every shard when it holds none.
    pub(crate) fn used_memory(&self) -> usize {
        if self.accounting || self.inner.memory.is_none() || self.guards.is_empty() {
            return self.inner.used_memory();
        }
        let total: u64 = self
            .guards
            .iter()
            .map(|(_, g)| g.measure(|slot| estimate(&slot.key, &slot.value)))
            .sum();
        usize::try_from(total).unwrap_or(usize::MAX)
    }

    /// Refreshes the size estimate and LRU clock of every key this view touched.
    pub(crate) fn account_touched(&mut self) {
        let lru = self.lru_now() as u32;
        let touched = std::mem::take(&mut self.touched);
        for (db, hash) in touched {
            if let Some(used) = self.inner.used_dbs.get(db) {
                if !used.load(Ordering::Relaxed) {
                    used.store(true, Ordering::Relaxed);
                }
            }
            let idx = db * self.inner.shards_per_db + self.inner.shard_of(hash);
            super::shard_in(&mut self.guards, idx)
                .refresh(hash, lru, |slot| estimate(&slot.key, &slot.value));
        }
    }
}

/// Bytes an allocation of `n` bytes takes, as a size-class allocator rounds it.
fn block(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        n.next_multiple_of(16) + 8
    }
}

/// Per-key overhead besides the key and value. Kept at what the earlier keyspace layout
/// took (a 72-byte slot inside the table with 1/7 of slack, its control byte and a 16-byte
/// expiry-heap entry), so that MEMORY USAGE, INFO's `used_memory` and where a configured
/// limit starts evicting did not move when the layout shrank: the slab position and its
/// index entry now take about `size_of::<Option<Slot>>() + 6` = 62 bytes.
const SLOT_OVERHEAD: usize = 72 * 8 / 7 + 1 + 16;

/// Elements a collection is sized from when it has more than `EXACT_UP_TO`.
const SAMPLES: usize = 8;
const EXACT_UP_TO: usize = 16;

/// The estimated bytes `key` and `value` take, saturated to `u32::MAX`.
pub(crate) fn estimate(key: &[u8], value: &Value) -> u32 {
    let v = match value {
        Value::Str(StrValue::Raw(b)) => block(b.capacity()),
        Value::Str(StrValue::Short(b)) => block(b.len()),
        Value::Str(StrValue::Int(_)) => 0,
        Value::Str(StrValue::Hll(h)) => block(h.memory_len()) + 64,
        Value::Hash(h) => hash_bytes(h),
        Value::List(l) => {
            let n = l.len();
            let elems = if n <= EXACT_UP_TO {
                l.iter().map(|e| block(e.capacity())).sum()
            } else {
                let s: usize = (0..SAMPLES)
                    .map(|i| block(l[i * n / SAMPLES].capacity()))
                    .sum();
                s * n / SAMPLES
            };
            block(l.capacity() * std::mem::size_of::<Vec<u8>>()) + elems
        }
        Value::ZSet(z) => zset_bytes(z),
        Value::Bloom(b) => {
            usize::try_from(b.memory_usage()).unwrap_or(usize::MAX)
                + std::mem::size_of_val(&**b)
                + 16
        }
        Value::Cuckoo(cf) => {
            let subs = cf.filters();
            subs.iter().map(|f| block(f.data().len())).sum::<usize>()
                + block(std::mem::size_of_val(subs))
                + block(std::mem::size_of_val(&**cf))
        }
        Value::Cms(s) => {
            block(std::mem::size_of_val(s.cells())) + block(std::mem::size_of_val(&**s))
        }
        Value::TopK(t) => {
            usize::try_from(t.memory_usage()).unwrap_or(usize::MAX)
                + t.heap_items()
                    .map(|(i, _)| i.map_or(0, |i| block(i.len())))
                    .sum::<usize>()
        }
        Value::TDigest(t) => {
            let i = t.info();
            let nodes = usize::try_from(i.merged_nodes + i.unmerged_nodes).unwrap_or(0);
            block(nodes * 16) + block(std::mem::size_of_val(&**t))
        }
        Value::Set(s) => set_bytes(s),
    };
    let total = SLOT_OVERHEAD
        .saturating_add(block(key.len()))
        .saturating_add(v);
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// A set's bytes: eight per intset member; for a hash table, its members (sampled past
/// `EXACT_UP_TO`) plus a vector slot and about an index slot and a half each.
fn set_bytes(s: &crate::types::set::SetValue) -> usize {
    let n = s.len();
    if s.encoding() == crate::types::set::SetEncoding::Intset {
        return block(n * 8);
    }
    let members = s.first_members(EXACT_UP_TO);
    let taken = members.len().max(1);
    let sum: usize = members.iter().map(|m| block(m.len())).sum();
    sum * n / taken + block(n * std::mem::size_of::<Vec<u8>>()) + n * 6
}

/// A tree node and its index slot per member, plus the members' heap blocks (sampled by
/// rank past [`EXACT_UP_TO`]).
fn zset_bytes(z: &crate::types::zset::ZSet) -> usize {
    const NODE: usize = 48 + 8;
    let n = z.len();
    let member = |rank: usize| {
        let r = i64::try_from(rank).unwrap_or(i64::MAX);
        z.range_by_rank(r, r, false)
            .first()
            .map_or(0, |(m, _)| block(m.len()))
    };
    let members = if n <= EXACT_UP_TO {
        z.iter().map(|(m, _)| block(m.len())).sum()
    } else {
        let s: usize = (0..SAMPLES).map(|i| member(i * n / SAMPLES)).sum();
        s * n / SAMPLES
    };
    n * NODE + members + 64
}

fn hash_bytes(h: &HashValue) -> usize {
    let pair = |f: &Vec<u8>, v: &Vec<u8>| block(f.capacity()) + block(v.capacity());
    match h {
        HashValue::Small(v) => {
            let n = v.len();
            let elems = if n <= EXACT_UP_TO {
                v.iter().map(|(f, x)| pair(f, x)).sum()
            } else {
                let s: usize = (0..SAMPLES)
                    .map(|i| {
                        let (f, x) = &v[i * n / SAMPLES];
                        pair(f, x)
                    })
                    .sum();
                s * n / SAMPLES
            };
            block(v.capacity() * std::mem::size_of::<(Vec<u8>, Vec<u8>)>()) + elems
        }
        HashValue::Large(m) => {
            let n = m.len();
            let elems = if n <= EXACT_UP_TO {
                m.iter().map(|(f, x)| pair(f, x)).sum()
            } else {
                let s: usize = m.iter().take(SAMPLES).map(|(f, x)| pair(f, x)).sum();
                s * n / SAMPLES
            };
            block(m.capacity() * (std::mem::size_of::<(Vec<u8>, Vec<u8>)>() + 1)) + elems
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reply;

    #[test]
    fn a_first_limit_counts_the_keys_stored_before_it() {
        let store = Store::builder().max_memory(0).build();
        let one = store.select(1).expect("database 1");
        for i in 0..2000 {
            let (k, v) = (format!("key:{i}"), format!("value-{i:0>40}"));
            let db = if i % 2 == 0 { &store } else { &one };
            assert_eq!(db.execute(&["SET", k.as_str(), v.as_str()]), Reply::ok());
        }
        assert!(!store.inner.accounting());
        let walked = store.used_memory();
        assert!(walked > 2000 * 64, "{walked}");
        // Nothing was counted: the walk is the only figure.
        assert_eq!(
            store.inner.memory.as_ref().map(|m| m.used()),
            Some(0),
            "counted without a limit"
        );
        assert_eq!(
            store.execute(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
            Reply::ok()
        );
        let limit = (walked / 2).to_string();
        assert_eq!(
            store.execute(&["CONFIG", "SET", "maxmemory", limit.as_str()]),
            Reply::ok()
        );
        assert!(store.inner.accounting());
        // The limit evicted its first keys at once.
        let after = store.used_memory();
        assert!(after < walked, "{after} >= {walked}");
        assert_eq!(after, store.inner.measure_keyspace());
        assert!(store.stored_keys() < 2000);
        // Writes evict (at most EVICTIONS_PER_CALL keys each), from both databases, until
        // the estimate fits.
        for i in 0..2000 / EVICTIONS_PER_CALL + 2 {
            let k = format!("new:{i}");
            assert_eq!(store.execute(&["SET", k.as_str(), "v"]), Reply::ok());
        }
        let used = store.used_memory();
        assert!(used <= walked / 2, "{used} > {}", walked / 2);
        let left = store.stored_keys();
        assert!(left < 1200 && left > 700, "{left} keys left");
        for db in [&store, &one] {
            let n = db.dbsize().expect("dbsize");
            assert!(n < 700 && n > 300, "{n} keys left in one database");
        }
        // Counting goes on: the running figure is still the keyspace's.
        assert_eq!(used, store.inner.measure_keyspace());
        assert_eq!(
            store.execute(&["CONFIG", "SET", "maxmemory", "0"]),
            Reply::ok()
        );
        assert!(store.inner.accounting());
        assert_eq!(store.execute(&["SET", "more", "v"]), Reply::ok());
        assert_eq!(store.used_memory(), store.inner.measure_keyspace());
    }

    #[test]
    fn a_first_limit_below_the_usage_evicts_before_the_next_command() {
        let store = Store::builder().max_memory(0).build();
        let mut sub = store.connection();
        assert!(!sub
            .execute(&["CONFIG", "SET", "notify-keyspace-events", "Ee"])
            .is_error());
        assert!(!sub.execute(&["PSUBSCRIBE", "*"]).is_error());
        for cmd in [
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"][..],
            &["SET", "foo", "bar"],
            &["CONFIG", "SET", "maxmemory", "1"],
        ] {
            assert!(!store.execute(cmd).is_error(), "{cmd:?}");
        }
        assert_eq!(store.dbsize().expect("dbsize"), 0, "foo was not evicted");
        let mut pushed = Vec::new();
        while let Some(m) = sub.try_next_push() {
            pushed.push(format!("{m:?}"));
        }
        assert!(
            pushed.iter().any(|m| m.contains("__keyevent@0__:evicted")),
            "no evicted event: {pushed:?}"
        );
    }

    #[test]
    fn a_limit_set_inside_a_transaction_starts_counting_after_it() {
        let store = Store::builder().max_memory(0).build();
        let mut conn = store.connection();
        for line in [
            &["SET", "a", "1"][..],
            &["MULTI"],
            &["SET", "b", "2"],
            &["CONFIG", "SET", "maxmemory", "1gb"],
            &["SET", "c", "3"],
        ] {
            assert!(!conn.execute(line).is_error(), "{line:?}");
        }
        assert!(!store.inner.accounting());
        assert!(!conn.execute(&["EXEC"]).is_error());
        assert!(store.inner.accounting());
        assert_eq!(store.used_memory(), store.inner.measure_keyspace());
        assert!(store.used_memory() > 0);
    }

    #[test]
    fn estimates_grow_with_content() {
        let small = estimate(b"k", &Value::Str(StrValue::Raw(b"v".to_vec())));
        let big = estimate(b"k", &Value::Str(StrValue::Raw(vec![0; 1000])));
        assert!(big >= small + 990, "{small} {big}");
        let list: std::collections::VecDeque<Vec<u8>> = (0..1000).map(|_| vec![1u8; 100]).collect();
        let l = estimate(b"k", &Value::List(Box::new(list)));
        assert!(l > 100_000 && l < 200_000, "{l}");
        let mut z = crate::types::zset::ZSet::new();
        for i in 0..1000 {
            let _ = z.zadd(
                format!("member-{i}").as_bytes(),
                f64::from(i),
                crate::types::zset::ZaddFlags::default(),
            );
        }
        let z = estimate(b"k", &Value::ZSet(Box::new(z)));
        assert!(z > 50_000 && z < 200_000, "{z}");
    }

    #[test]
    fn sketch_estimates_follow_their_size() {
        use crate::types::tdigest::TDigest;
        use crate::types::topk::TopK;
        let small = TopK::reserve(10, 8, 7, 0.9).expect("valid");
        let big = TopK::reserve(100, 2000, 7, 0.9).expect("valid");
        let (s, b) = (
            estimate(b"k", &Value::TopK(Box::new(small))),
            estimate(b"k", &Value::TopK(Box::new(big))),
        );
        assert!(b as usize > 2000 * 7 * 8 && s < b / 10, "{s} {b}");
        let mut d = TDigest::create(100).expect("valid");
        let empty = estimate(b"k", &Value::TDigest(Box::new(d.clone())));
        let values: Vec<f64> = (0..500).map(f64::from).collect();
        d.add(&values).expect("finite");
        let full = estimate(b"k", &Value::TDigest(Box::new(d)));
        assert!(full >= empty + 500 * 16, "{empty} {full}");
    }

    #[test]
    fn the_meter_is_the_sum_of_slot_sizes() {
        let store = Store::builder()
            .max_memory(1 << 40)
            .eviction_policy(EvictionPolicy::AllKeysLru)
            .shards(4)
            .build();
        let mut x = 7u64;
        for i in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = format!("k{}", (x >> 33) % 300);
            let n = ((x >> 20) % 50).to_string();
            let argv: Vec<&str> = match i % 9 {
                0 => vec!["SET", &k, &n],
                1 => vec!["APPEND", &k, &n],
                2 => vec!["RPUSH", &k, &n, &n],
                3 => vec!["LPOP", &k],
                4 => vec!["HSET", &k, &n, &n],
                5 => vec!["HDEL", &k, &n],
                6 => vec!["DEL", &k],
                7 => vec!["SET", &k, &n, "PX", "1"],
                _ => vec!["BF.ADD", &k, &n],
            };
            store.execute(&argv);
        }
        let sum: i64 = store
            .inner
            .shards
            .iter()
            .map(|s| s.0.lock().estimated_bytes())
            .sum();
        assert!(sum > 0);
        assert_eq!(store.used_memory() as i64, sum);
    }
}
