//! The embedded store: a cheap-to-clone handle over a sharded keyspace.
//!
//! # Design
//!
//! The keyspace is split into a power-of-two number of [`keyspace::Shard`]s, each behind
//! its own `parking_lot::Mutex`. A command computes the `xxh3` hash of each key it names,
//! locks the shards those keys live in, always in ascending shard order so that two
//! multi-key commands can never deadlock, runs against a [`Db`] view of the locked shards,
//! and unlocks. Locks are held only for the operation: never while waiting and never while
//! running user code.
//!
//! Every command's semantics live once, as a method of [`Db`]. The typed methods of
//! [`Store`] lock and call that method; the argv dispatcher (`crate::cmd`) parses, locks,
//! calls the same method and shapes the reply; `EXEC` locks the union of its commands'
//! shards and runs them back to back.
//!
//! Time is read once per command from the store's [`Clock`], as Redis reads its command
//! time snapshot once per command.
//!
//! # Databases
//!
//! A store holds Redis's numbered databases (16 by default, [`StoreBuilder::databases`]).
//! They are one flat array of shards: database `d` owns shards `d * n .. (d + 1) * n`, `n`
//! being the shards per database, so a key's shard is `d * n` plus the shard its hash
//! chooses, and "ascending shard order" is one global order across databases. A [`Store`]
//! handle carries the index of the database it acts on ([`Store::select`]); finding a
//! key's shard costs one multiplication more than with a single database. MOVE locks its
//! key's shard in both databases ([`Lock::Moved`]); the other commands that cross databases
//! (SWAPDB, FLUSHALL, COPY ... DB, and a transaction holding SELECT or MOVE) lock every
//! shard of every database ([`Lock::Global`]). Both switch the view's database as they go. An empty shard allocates nothing, so unused databases cost their array slots
//! only. Expiry, eviction, memory accounting, snapshots and pub/sub span all databases.

pub(crate) mod avg_ttl;
pub(crate) mod bits;
pub(crate) mod blocking;
pub(crate) mod bloom;
pub(crate) mod cms;
pub(crate) mod cuckoo;
pub(crate) mod databases;
pub(crate) mod dump;
pub(crate) mod evict;
pub(crate) mod generic;
pub(crate) mod hashes;
pub(crate) mod hll;
pub(crate) mod keyspace;
pub(crate) mod lcs;
pub(crate) mod lists;
pub(crate) mod monitor;
pub(crate) mod notify;
pub(crate) mod persist;
pub(crate) mod pubsub;
pub(crate) mod rdb_file;
pub(crate) mod sets;
pub(crate) mod settings;
pub(crate) mod sort;
pub(crate) mod strings;
pub(crate) mod tdigest;
pub(crate) mod topk;
pub(crate) mod txn;
pub(crate) mod value;
pub(crate) mod zsets;

use crate::clock::Clock;
use keyspace::{key_hash, Shard, Slot, Taken};
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;
use std::sync::Arc;
use value::Value;

pub use bits::BitfieldOp;
pub use bloom::{BfInfoField, BfInsertOptions, BloomOptions};
pub use cuckoo::{CfInsertOptions, CfReserveOptions};
pub use databases::KeyspaceInfo;
pub use generic::{ExpireCondition, KeyType, ScanPage};
pub use strings::{SetCondition, SetExpiry, SetOptions};
pub use tdigest::TDigestMergeOptions;
pub use topk::TopKOptions;
pub use zsets::{ZEntry, ZPopped, ZRange, ZRangeBy, ZSetOp, ZaddReply};

/// Redis's `proto-max-bulk-len`: the largest string value, 512 MB.
pub const DEFAULT_MAX_STRING_BYTES: usize = 512 * 1024 * 1024;
/// Redis's `hll-sparse-max-bytes` default.
pub const DEFAULT_HLL_SPARSE_MAX_BYTES: usize = 3000;
/// Redis's default `databases`.
pub const DEFAULT_DATABASES: usize = 16;
/// The most databases a store may have.
pub const MAX_DATABASES: usize = 1 << 16;
/// Shards a view holds without allocating: the five keys of a session pageview's EXEC live
/// in up to five.
const GUARDS: usize = 8;
/// How many due keys a shard removes in one active-expiry step.
const SWEEP_STEP: usize = 8;

/// Limits and tunables, set with [`StoreBuilder`].
#[derive(Clone, Debug)]
pub struct Config {
    /// The largest string value in bytes (Redis `proto-max-bulk-len`, 512 MB).
    pub max_string_bytes: usize,
    /// A HyperLogLog stays sparse while its string is at most this long (Redis
    /// `hll-sparse-max-bytes`).
    pub hll_sparse_max_bytes: usize,
    /// Bytes of undelivered messages a subscription may hold before it is closed (Redis
    /// `client-output-buffer-limit pubsub`, 32 MB).
    pub pubsub_buffer_bytes: usize,
    /// The largest Bloom filter in bytes, as BF.INFO `Size` counts them (see
    /// [`StoreBuilder::bloom_max_bytes`]).
    pub bloom_max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_string_bytes: DEFAULT_MAX_STRING_BYTES,
            hll_sparse_max_bytes: DEFAULT_HLL_SPARSE_MAX_BYTES,
            pubsub_buffer_bytes: pubsub::DEFAULT_PUBSUB_BUFFER_BYTES,
            bloom_max_bytes: crate::types::bloom::DEFAULT_MAX_BYTES,
        }
    }
}

#[repr(align(128))]
struct Padded<T>(T);

pub(crate) struct Inner {
    /// Every database's shards, database after database.
    shards: Box<[Padded<Mutex<Shard>>]>,
    /// Shards per database (a power of two).
    pub(crate) shards_per_db: usize,
    /// Number of databases (Redis's `databases`).
    pub(crate) databases: usize,
    /// Under a memory limit, the databases that have held a key: eviction samples only
    /// those (see [`evict`]).
    pub(crate) used_dbs: Box<[std::sync::atomic::AtomicBool]>,
    shard_bits: u32,
    pub(crate) clock: Clock,
    pub(crate) settings: settings::Settings,
    pub(crate) pubsub: pubsub::Hub,
    /// The connections in MONITOR mode (see [`monitor`]).
    pub(crate) monitors: monitor::Monitors,
    /// The keyspace-notification classes enabled (see [`notify`]).
    pub(crate) notify: notify::Notifier,
    /// The memory limit and its accounting, when one is set (see [`evict`]).
    pub(crate) memory: Option<Box<evict::Memory>>,
    /// The periodic saver, when one runs; dropping it stops the thread (see [`persist`]).
    pub(crate) saver: std::sync::OnceLock<persist::Saver>,
    /// Counters INFO reports.
    pub(crate) stats: Stats,
    /// The connections to this store (CLIENT LIST, CLIENT KILL).
    pub(crate) clients: crate::clients::Registry,
    /// INFO keyspace's `avg_ttl` per database (see [`avg_ttl`]).
    pub(crate) ttl_estimates: avg_ttl::TtlEstimates,
}

/// Counters of what happened to a store since it was built, for INFO. Updated with relaxed
/// atomics by the command layer (clients, commands) and the keyspace (expired, evicted).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) connected_clients: std::sync::atomic::AtomicU64,
    pub(crate) connections_received: std::sync::atomic::AtomicU64,
    pub(crate) commands_processed: std::sync::atomic::AtomicU64,
    /// When the store was built, in Unix milliseconds of its clock.
    pub(crate) started_ms: i64,
    /// When the last successful save finished, in Unix seconds of the store's clock; the
    /// store's creation (or the load of its snapshot) until then, as Redis counts a freshly
    /// started server as saved (LASTSAVE, INFO's `rdb_last_save_time`).
    pub(crate) last_save_s: std::sync::atomic::AtomicI64,
}

impl Inner {
    /// Locks shard `i`, first copying it into a snapshot that is waiting for it. Every
    /// lock of a shard goes through here (a snapshot's own first locking excepted).
    #[inline]
    pub(crate) fn lock_shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        let mut shard = self.shards[i].0.lock();
        if shard.capture.is_some() {
            persist::settle(&mut shard);
        }
        shard
    }

    /// The shard, within its database, of a key with this hash.
    #[inline]
    fn shard_of(&self, hash: u64) -> usize {
        if self.shard_bits == 0 {
            0
        } else {
            (hash >> (64 - self.shard_bits)) as usize
        }
    }
}

/// An embedded, in-process Redis-compatible store.
///
/// Cloning is cheap and every clone sees the same data.
///
/// ```
/// let store = sketchstore::Store::new();
/// store.set("visits", "10").unwrap();
/// assert_eq!(store.incr("visits").unwrap(), 11);
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    /// The database this handle acts on.
    pub(crate) db: usize,
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("db", &self.db)
            .field("databases", &self.inner.databases)
            .field("shards", &self.inner.shards_per_db)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Store`] with a chosen clock, shard count and limits.
#[derive(Clone, Debug)]
pub struct StoreBuilder {
    clock: Clock,
    shards: usize,
    databases: usize,
    config: Config,
    memory: Option<evict::MemoryConfig>,
    save_every: Option<std::time::Duration>,
}

impl Default for StoreBuilder {
    fn default() -> Self {
        StoreBuilder {
            clock: Clock::system(),
            shards: 64,
            databases: DEFAULT_DATABASES,
            config: Config::default(),
            memory: None,
            save_every: None,
        }
    }
}

impl StoreBuilder {
    /// The clock expiry and timeouts are measured with (system clock by default).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Number of keyspace shards, rounded up to a power of two, between 1 and 4096
    /// (64 by default). Keys that share a Redis Cluster hash tag (`{...}`) always share a
    /// shard, so a transaction over them takes one lock.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n.clamp(1, 4096).next_power_of_two();
        self
    }

    /// Number of databases, SELECT's 0 to `n - 1` (Redis's `databases`, 16 by default),
    /// between 1 and 65,536. An empty database allocates nothing beyond its
    /// shards' slots.
    pub fn databases(mut self, n: usize) -> Self {
        self.databases = n.clamp(1, MAX_DATABASES);
        self
    }

    /// The largest string value in bytes (512 MB by default, as in Redis).
    pub fn max_string_bytes(mut self, n: usize) -> Self {
        self.config.max_string_bytes = n;
        self
    }

    /// Redis's `hll-sparse-max-bytes` (3000 by default).
    pub fn hll_sparse_max_bytes(mut self, n: usize) -> Self {
        self.config.hll_sparse_max_bytes = n;
        self
    }

    /// The largest Bloom filter in bytes, counted as BF.INFO `Size` counts them (sub-filter
    /// bit arrays plus RedisBloom's 32 + 64 bytes per sub-filter of overhead). Default
    /// [`types::bloom::DEFAULT_MAX_BYTES`](crate::types::bloom::DEFAULT_MAX_BYTES), 512 MiB:
    /// about 390 million items at 1%. BF.RESERVE, BF.ADD, BF.MADD and BF.INSERT creating a
    /// larger filter fail with `ERR Insufficient memory to create filter`; growing past it,
    /// with `ERR problem inserting into filter` (the filter stays as it was); BF.LOADCHUNK of
    /// a larger header, with `ERR received bad data`, before anything is allocated. A filter
    /// keeps the budget it was created or loaded with.
    pub fn bloom_max_bytes(mut self, n: usize) -> Self {
        self.config.bloom_max_bytes = n;
        self
    }

    /// Bytes of undelivered messages a subscription may hold before it is closed (32 MB by
    /// default, Redis's `client-output-buffer-limit pubsub` hard limit).
    pub fn pubsub_buffer_bytes(mut self, n: usize) -> Self {
        self.config.pubsub_buffer_bytes = n;
        self
    }

    /// Builds the store.
    pub fn build(self) -> Store {
        let memory = self.memory.map(|m| Box::new(evict::Memory::new(m)));
        let notifier = notify::Notifier::default();
        let settings = settings::Settings::new(&self.config);
        settings.set_text("databases", self.databases.to_string().as_bytes());
        let shards = (0..self.shards * self.databases)
            .map(|_| {
                let mut shard = Shard::default();
                shard.meter = memory.as_ref().map(|m| m.meter());
                shard.notify = Some(notifier.shared());
                Padded(Mutex::new(shard))
            })
            .collect();
        Store {
            inner: Arc::new(Inner {
                shards,
                shards_per_db: self.shards,
                databases: self.databases,
                used_dbs: (0..self.databases)
                    .map(|_| std::sync::atomic::AtomicBool::new(false))
                    .collect(),
                shard_bits: self.shards.trailing_zeros(),
                settings,
                pubsub: pubsub::Hub::default(),
                monitors: monitor::Monitors::default(),
                notify: notifier,
                memory,
                saver: std::sync::OnceLock::new(),
                stats: Stats {
                    started_ms: self.clock.now_ms(),
                    last_save_s: self.clock.now_ms().div_euclid(1000).into(),
                    ..Stats::default()
                },
                clients: crate::clients::Registry::default(),
                ttl_estimates: avg_ttl::TtlEstimates::new(self.databases),
                clock: self.clock,
            }),
            db: 0,
        }
    }
}

/// Which shards a command needs.
pub(crate) enum Lock<'k> {
    /// The shards of these keys.
    Keys(&'k [&'k [u8]]),
    /// Every shard of the handle's database (KEYS, SCAN, DBSIZE, FLUSHDB).
    All,
    /// Every shard of every database (FLUSHALL, SWAPDB, INFO keyspace, and commands across
    /// databases inside EXEC).
    Global,
    /// The shard of a key in the handle's database and in database `to` (MOVE).
    Moved { key: &'k [u8], to: usize },
}

/// A view of `$store`'s database holding no lock yet, for [`Store::lock_into`]. A macro, not
/// a function: a view returned by value is copied (some 600 bytes) where it is kept, even
/// from an inlined function, while a struct literal is built in place.
macro_rules! unlocked_view {
    ($store:expr) => {
        Db {
            inner: &$store.inner,
            db: $store.db,
            now: std::cell::Cell::new(NOT_READ),
            guards: SmallVec::new(),
            hashes: SmallVec::new(),
            touched: SmallVec::new(),
            events: Vec::new(),
            changes: 0,
            accounting: false,
            start_accounting: false,
        }
    };
}

impl Store {
    /// A store with the defaults: system clock, 64 shards, Redis's limits.
    pub fn new() -> Store {
        StoreBuilder::default().build()
    }

    /// A builder for a store with another clock, shard count or limits.
    pub fn builder() -> StoreBuilder {
        StoreBuilder::default()
    }

    /// A handle on database `db` of the same store (Redis's `SELECT`): every typed method
    /// and [`Store::execute`] of the returned handle act on that database.
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// let one = store.select(1).unwrap();
    /// one.set("k", "v").unwrap();
    /// assert_eq!(store.get("k").unwrap(), None);
    /// assert_eq!(one.db_index(), 1);
    /// assert!(store.select(16).is_err());
    /// ```
    pub fn select(&self, db: usize) -> Result<Store, crate::Error> {
        if db >= self.inner.databases {
            return Err(crate::Error::err("DB index is out of range"));
        }
        Ok(Store {
            inner: Arc::clone(&self.inner),
            db,
        })
    }

    /// The index of the database this handle acts on.
    pub fn db_index(&self) -> usize {
        self.db
    }

    /// How many databases the store has.
    pub fn databases(&self) -> usize {
        self.inner.databases
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The store's limits and tunables as they are now (`CONFIG SET` changes some).
    pub fn config(&self) -> Config {
        self.inner.settings.snapshot()
    }

    /// Locks what `lock` names and runs `f` on the locked view, then runs a bounded
    /// active-expiry step on the shards it held.
    #[inline]
    pub(crate) fn with_db<R>(&self, lock: Lock<'_>, f: impl FnOnce(&mut Db<'_>) -> R) -> R {
        // The view is filled and dropped where it lies: returning it by value or passing it
        // to `drop` would copy its 600 bytes on every command.
        let (r, blocked, accounting, start, events) = {
            let mut db = unlocked_view!(self);
            self.lock_into(lock, &mut db);
            let r = f(&mut db);
            let blocked = db.serve_blocked();
            db.sweep_step();
            let (accounting, start) = (db.accounting, db.start_accounting);
            if accounting {
                db.account_touched();
            }
            (r, blocked, accounting, start, db.take_events())
        };
        if !events.is_empty() {
            self.inner.publish_events(events);
        }
        blocked.finish(self);
        if start {
            // Every shard is locked for the walk, which the view's own locks would block.
            self.inner.start_accounting();
        }
        // A first limit evicts at once, as any later one does (Redis evicts when CONFIG SET
        // lowers maxmemory, before the next command).
        if accounting || start {
            self.evict_if_needed();
        }
        r
    }

    /// Runs `f` with the shard of one key locked.
    #[inline]
    pub(crate) fn with_key<R>(&self, key: &[u8], f: impl FnOnce(&mut Db<'_>) -> R) -> R {
        self.with_db(Lock::Keys(&[key]), f)
    }

    pub(crate) fn lock<'s>(&'s self, lock: Lock<'s>) -> Db<'s> {
        let mut db = unlocked_view!(self);
        self.lock_into(lock, &mut db);
        db
    }

    /// Locks what `lock` names into `db`, a view from `unlocked_view!`: the view is
    /// some 600 bytes (its inline guard and hash lists), which moving finished lists into
    /// it, or returning it, would copy on every command.
    fn lock_into<'s>(&'s self, lock: Lock<'s>, db: &mut Db<'s>) {
        let inner = &*self.inner;
        let guards = &mut db.guards;
        let hashes = &mut db.hashes;
        let base = self.db * inner.shards_per_db;
        match lock {
            // The common case, one key: no shard list to sort, nothing to prefetch.
            Lock::Keys(&[key]) => {
                let hash = key_hash(key);
                hashes.push((key, hash));
                let i = base + inner.shard_of(hash);
                guards.push((i, inner.lock_shard(i)));
            }
            Lock::All => {
                for i in base..base + inner.shards_per_db {
                    guards.push((i, inner.lock_shard(i)));
                }
            }
            Lock::Global => {
                for i in 0..inner.shards.len() {
                    guards.push((i, inner.lock_shard(i)));
                }
            }
            Lock::Moved { key, to } => {
                let hash = key_hash(key);
                hashes.push((key, hash));
                let local = inner.shard_of(hash);
                let here = base + local;
                let there = to.min(inner.databases - 1) * inner.shards_per_db + local;
                for i in [here.min(there), here.max(there)] {
                    if guards.last().is_none_or(|(j, _)| *j != i) {
                        guards.push((i, inner.lock_shard(i)));
                    }
                }
            }
            Lock::Keys(keys) => {
                let mut idx: SmallVec<[usize; GUARDS]> = SmallVec::new();
                for k in keys {
                    // A transaction names each key several times (a pageview: five keys in
                    // eleven commands), from the same slice: it is hashed once.
                    let seen = hashes
                        .iter()
                        .find(|(r, _)| r.as_ptr() == k.as_ptr() && r.len() == k.len());
                    let hash = match seen {
                        Some(&(_, h)) => h,
                        None => {
                            let h = key_hash(k);
                            if hashes.len() < REMEMBERED_KEYS {
                                hashes.push((*k, h));
                            }
                            h
                        }
                    };
                    let i = base + inner.shard_of(hash);
                    if !idx.contains(&i) {
                        idx.push(i);
                    }
                }
                idx.sort_unstable();
                for i in idx {
                    guards.push((i, inner.lock_shard(i)));
                }
                // The keys are looked up one level at a time over all of them: index
                // buckets, slots (with expiry codes), values' boxes, values' bytes. Each
                // level's loads depend only on the level before, so the cache misses of the
                // keys overlap instead of following one another (a pageview's five keys
                // each take four or five). A one-key command has nothing to overlap: it
                // looks its key up once, when it runs.
                let several = hashes.iter().any(|&(_, h)| h != hashes[0].1);
                if several {
                    // Fixed arrays rather than collected lists: collecting cost more than the
                    // loads it arranges.
                    let mut found: [Option<(&Shard, u32)>; REMEMBERED_KEYS] =
                        [None; REMEMBERED_KEYS];
                    let mut n = 0;
                    for (i, &(_, hash)) in hashes.iter().enumerate() {
                        if hashes[..i].iter().any(|&(_, h)| h == hash) {
                            continue;
                        }
                        let idx = base + inner.shard_of(hash);
                        if let Some((_, g)) = guards.iter().find(|(j, _)| *j == idx) {
                            if let (Some(p), Some(f)) = (g.position(hash), found.get_mut(n)) {
                                *f = Some((&**g, p));
                                n += 1;
                            }
                        }
                    }
                    let found = &found[..n];
                    let mut values: [Option<&Value>; REMEMBERED_KEYS] = [None; REMEMBERED_KEYS];
                    for (v, f) in values.iter_mut().zip(found) {
                        *v = f.and_then(|(g, p)| g.slot_value(p));
                    }
                    let mut heaps = [value::Heap::None; REMEMBERED_KEYS];
                    for (h, v) in heaps.iter_mut().zip(&values[..n]) {
                        *h = v.map_or(value::Heap::None, Value::heap);
                    }
                    for h in &heaps[..n] {
                        std::hint::black_box(h.touch());
                    }
                }
            }
        }
        // Read under the locks: a walk that starts the accounting holds every shard while
        // it measures them and turns the flag on, so a view either sees the flag or ran
        // before the walk measured its shards.
        db.accounting = inner.accounting();
    }

    /// Runs one active-expiry pass over every shard, removing up to `budget` due keys per
    /// shard. Returns how many keys it removed. Owners that want expired keys reclaimed on an
    /// idle store call this periodically; busy stores also sweep a little on every command.
    ///
    /// Each pass also samples the remaining TTLs of a few volatile keys per database for
    /// INFO keyspace's `avg_ttl` (see [`avg_ttl`]).
    pub fn sweep_expired(&self, budget: usize) -> usize {
        let now = self.inner.clock.now_ms();
        let per_db = self.inner.shards_per_db.max(1);
        let per_shard = avg_ttl::SAMPLES_PER_DB.div_ceil(per_db);
        let start = self.inner.ttl_estimates.next_start(per_shard);
        let (mut volatile, mut sum, mut samples) = (0usize, 0i64, 0i64);
        let mut removed = 0;
        for i in 0..self.inner.shards.len() {
            let mut shard = self.inner.lock_shard(i);
            removed += shard.sweep(now, budget);
            volatile += shard.volatile_len();
            let (s, n) = shard.sample_ttls(now, start, per_shard);
            sum = sum.saturating_add(s);
            samples += n;
            if (i + 1) % per_db == 0 {
                self.inner
                    .ttl_estimates
                    .update(i / per_db, volatile, sum, samples);
                (volatile, sum, samples) = (0, 0, 0);
            }
            let expired = std::mem::take(&mut shard.expired);
            drop(shard);
            for key in expired {
                let db = self.inner.db_of_shard(i);
                self.inner.notify_now(notify::EXPIRED, "expired", &key, db);
            }
        }
        removed
    }

    /// Keys held in memory in every database, counting expired keys not yet reclaimed
    /// (DBSIZE counts them too until they are removed, as in Redis).
    pub fn stored_keys(&self) -> usize {
        (0..self.inner.shards.len())
            .map(|i| self.inner.lock_shard(i).len())
            .sum()
    }
}

/// The value of `Db::now` before the clock has been read.
const NOT_READ: i64 = i64::MIN;

/// The time of a view: the cached reading, or the clock read now and cached.
#[inline]
/// The command's time when it has been read, else the coarse clock (for the LRU clock,
/// whose resolution is a second, as Redis's).
fn coarse_now_of(inner: &Inner, cell: &std::cell::Cell<i64>) -> i64 {
    match cell.get() {
        NOT_READ => inner.clock.coarse_ms(),
        n => n,
    }
}

fn now_of(inner: &Inner, cell: &std::cell::Cell<i64>) -> i64 {
    let n = cell.get();
    if n != NOT_READ {
        return n;
    }
    let n = inner.clock.now_ms();
    cell.set(n);
    n
}

/// Locked guards with the global index of each shard, ascending.
type Guards<'a> = SmallVec<[(usize, MutexGuard<'a, Shard>); GUARDS]>;

/// The shard of global index `idx` among the locked `guards`.
#[inline]
fn shard_in<'g>(guards: &'g mut Guards<'_>, idx: usize) -> &'g mut Shard {
    let pos = if guards.len() == 1 {
        0
    } else {
        // All-shard locks hold a contiguous ascending run: found by subtraction.
        let dense = guards
            .first()
            .and_then(|(first, _)| idx.checked_sub(*first))
            .filter(|&p| guards.get(p).is_some_and(|(i, _)| *i == idx));
        match dense.or_else(|| guards.iter().position(|(i, _)| *i == idx)) {
            Some(p) => p,
            // Keys are locked from the same argument positions the command reads them
            // from; reaching this is a bug in a command's key specification.
            None => panic!("sketchstore: a command touched a key whose shard it did not lock"),
        }
    };
    debug_assert_eq!(guards[pos].0, idx, "key outside the locked shard");
    &mut guards[pos].1
}

/// How many of a view's keys it remembers the hashes of, and warms the cache for: a pageview
/// has eleven. Bounded, so that a command with a huge key list (MSET, DEL) pays no
/// quadratic search.
const REMEMBERED_KEYS: usize = 16;

/// A view of the locked shards that one command (or one `EXEC`) runs against.
pub(crate) struct Db<'a> {
    pub(crate) inner: &'a Inner,
    /// The database this view's commands act on (a global view may switch it).
    pub(crate) db: usize,
    /// The command's time, read from the clock on first use ([`NOT_READ`] until then): a
    /// command that meets no expiry never reads the clock.
    now: std::cell::Cell<i64>,
    guards: Guards<'a>,
    /// The first [`REMEMBERED_KEYS`] keys the view was locked for, with their hashes. They
    /// stay borrowed, unchanged, for as long as the view lives, so a key at the same
    /// address and of the same length is the same key: commands look their keys up by
    /// address instead of hashing them again (a pageview uses each of its keys two or three
    /// times).
    hashes: SmallVec<[(&'a [u8], u64); REMEMBERED_KEYS]>,
    /// Databases and hashes of the keys this view looked up or wrote, while memory is
    /// counted only: their size estimates and LRU clocks are refreshed before the locks are released.
    pub(crate) touched: SmallVec<[(usize, u64); 2]>,
    /// Keyspace events recorded while notifications are on, published after unlocking.
    events: Vec<notify::Event>,
    /// Changes of the dataset this view made (Redis's `server.dirty` increments), added to
    /// a locked shard's [`Shard::dirty`] before unlocking.
    changes: u64,
    /// Whether memory is being counted (see [`evict`]): read once, when the view locked.
    pub(crate) accounting: bool,
    /// Set by a command that turned a memory limit on while memory was not counted yet:
    /// the store starts counting once the view is released.
    pub(crate) start_accounting: bool,
}

impl<'a> Db<'a> {
    /// The keyspace hash of `key` (see [`Db::hashes`]).
    #[inline]
    pub(crate) fn key_hash(&self, key: &[u8]) -> u64 {
        for &(k, h) in &self.hashes {
            if k.as_ptr() == key.as_ptr() && k.len() == key.len() {
                return h;
            }
        }
        key_hash(key)
    }

    /// The global index of the shard of a key with this hash in the view's database.
    #[inline]
    pub(crate) fn shard_index(&self, hash: u64) -> usize {
        self.db * self.inner.shards_per_db + self.inner.shard_of(hash)
    }

    #[inline]
    pub(crate) fn shard(&mut self, hash: u64) -> &mut Shard {
        let idx = self.shard_index(hash);
        shard_in(&mut self.guards, idx)
    }

    /// Runs `f` with the view switched to database `db` (the view must be global).
    pub(crate) fn in_db<R>(&mut self, db: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved = std::mem::replace(&mut self.db, db);
        let r = f(self);
        self.db = saved;
        r
    }

    /// The command's time in Unix ms (read once per command, on first use).
    #[inline]
    pub(crate) fn now(&self) -> i64 {
        now_of(self.inner, &self.now)
    }

    /// Takes `unix_ms`, read from the store's clock by the caller just before, as the
    /// command's time if the view has not read the clock yet, so that it is read once.
    #[inline]
    pub(crate) fn assume_now(&self, unix_ms: i64) {
        if self.now.get() == NOT_READ {
            self.now.set(unix_ms);
        }
    }

    /// The command's time if it was read, else the coarse clock's: for LRU bookkeeping,
    /// which a command that never needed the time should not pay a clock read for.
    #[inline]
    pub(crate) fn lru_now(&self) -> i64 {
        coarse_now_of(self.inner, &self.now)
    }

    pub(crate) fn settings(&self) -> &'a settings::Settings {
        &self.inner.settings
    }

    /// The live slot of `key`.
    #[inline]
    pub(crate) fn slot(&mut self, key: &[u8]) -> Option<&mut Slot> {
        let hash = self.key_hash(key);
        if self.accounting {
            self.touched.push((self.db, hash));
        }
        let idx = self.shard_index(hash);
        let (inner, now) = (self.inner, &self.now);
        shard_in(&mut self.guards, idx).get_mut(hash, key, || now_of(inner, now))
    }

    /// The expiry time of `key` if it is live and has one (looked up as [`Db::slot`] does).
    pub(crate) fn expiry(&mut self, key: &[u8]) -> Option<i64> {
        self.slot(key)?;
        let hash = self.key_hash(key);
        self.shard(hash).expiry(hash, key)
    }

    /// The LRU clock of `key` (kept under a memory limit only; 0 otherwise).
    pub(crate) fn lru(&mut self, key: &[u8]) -> u32 {
        let hash = self.key_hash(key);
        self.shard(hash).lru(hash, key)
    }

    /// The live value of `key`.
    #[inline]
    pub(crate) fn value(&mut self, key: &[u8]) -> Option<&mut Value> {
        self.slot(key).map(|s| &mut s.value)
    }

    /// Stores `value` under `key` with the given expiry, replacing what was there.
    pub(crate) fn insert(&mut self, key: &[u8], value: Value, expire_at: Option<i64>) {
        // Redis's dbAdd announces a key it creates; the lookup also expires a dead key first,
        // so its `expired` event comes before `new`.
        let new = self.notifying(notify::NEW) && self.slot(key).is_none();
        let hash = self.key_hash(key);
        // A new list or sorted set may be what blocked clients wait for.
        let poppable = matches!(value, Value::List(_) | Value::ZSet(_));
        if self.accounting {
            self.touched.push((self.db, hash));
        }
        self.shard(hash).insert(hash, key, value, expire_at);
        if new {
            self.notify_n(notify::NEW, "new", key, 0);
        }
        if poppable {
            self.signal_ready(key);
        }
    }

    /// Removes `key` if it is live; returns its slot.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Taken> {
        let hash = self.key_hash(key);
        let idx = self.shard_index(hash);
        let (inner, now) = (self.inner, &self.now);
        let shard = shard_in(&mut self.guards, idx);
        shard.get_mut(hash, key, || now_of(inner, now))?;
        shard.remove(hash, key)
    }

    /// Sets or clears the expiry of a live key.
    pub(crate) fn set_expire(&mut self, key: &[u8], expire_at: Option<i64>) {
        let hash = self.key_hash(key);
        self.shard(hash).set_expire(hash, key, expire_at);
    }

    /// Records that `key` was modified in place (for WATCH).
    pub(crate) fn touch(&mut self, key: &[u8]) {
        let hash = self.key_hash(key);
        self.shard(hash).touch(key);
    }

    /// The locked shards of the view's database (all of them for an all-shard lock).
    pub(crate) fn shards(&mut self) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        let n = self.inner.shards_per_db;
        let range = self.db * n..(self.db + 1) * n;
        self.guards
            .iter_mut()
            .filter(move |(i, _)| range.contains(i))
            .map(|(_, g)| &mut **g)
    }

    /// Every locked shard with its database.
    pub(crate) fn shards_with_db(
        &mut self,
    ) -> impl Iterator<Item = (usize, &mut Shard)> + use<'_, 'a> {
        let n = self.inner.shards_per_db;
        self.guards.iter_mut().map(move |(i, g)| (*i / n, &mut **g))
    }

    fn sweep_step(&mut self) {
        let (inner, now) = (self.inner, &self.now);
        for (_, g) in self.guards.iter_mut() {
            if g.has_due(|| now_of(inner, now)) {
                g.sweep(now_of(inner, now), SWEEP_STEP);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_remembers_a_bounded_number_of_key_hashes() {
        let store = Store::new();
        let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("k{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let db = store.lock(Lock::Keys(&refs));
        assert_eq!(db.hashes.len(), REMEMBERED_KEYS);
        // Remembered or not, every key hashes to its keyspace hash.
        for k in &refs {
            assert_eq!(db.key_hash(k), key_hash(k));
        }
        // A copy of a remembered key at another address is hashed afresh, to the same value.
        let copy = keys[0].clone();
        assert_eq!(db.key_hash(&copy), db.key_hash(refs[0]));
    }
}
