//! Numbered databases: SELECT's handles, MOVE, SWAPDB, FLUSHALL and the per-database counts
//! of INFO keyspace.
//!
//! # Design
//!
//! Databases are ranges of one flat shard array (see the module documentation of
//! `store`), so a command that crosses databases locks, in the one ascending order every
//! command uses, the shards it needs in each database, and switches its view's database
//! with [`Db::in_db`]. MOVE locks its key's shard in the two databases
//! ([`Lock::Moved`]); FLUSHALL, SWAPDB and COPY ... DB lock every shard of every database
//! ([`Lock::Global`]), one lock per shard per database, cheap next to FLUSHALL and SWAPDB,
//! which touch whole databases.
//!
//! SWAPDB exchanges the contents of the shards at the same position in the two databases
//! (key slabs and indexes, volatile counts and sweep positions), O(shards) whatever the
//! number of keys. What belongs to the clients stays with the database number, as in Redis 7.0's
//! `swapdbCommand`: WATCH flags and blocked clients. Watched keys present in either
//! database are flagged, and keys that clients block on and that now hold a value are
//! served before the locks are released.
//!
//! # Representation
//!
//! ```text
//! shards:  | db 0: shard 0 .. n-1 | db 1: shard 0 .. n-1 | ... | db D-1: shard 0 .. n-1 |
//! key k of db d lives in shard  d * n + (top log2(n) bits of key_hash(k))
//! ```
//!
//! # Worked example
//!
//! With 2 databases of 4 shards, a key whose hash starts with the bits `10` lives in
//! shard 2 in database 0 and in shard 6 in database 1. SWAPDB 0 1 locks shards 0 to 7,
//! then swaps the contents of shards 0 and 4, 1 and 5, 2 and 6, 3 and 7.
//!
//! # References
//!
//! Redis 7.0 `src/db.c` (`selectDb`, `moveCommand`, `copyCommand`, `dbSwapDatabases`,
//! `flushallCommand`) and `src/multi.c` (`touchAllWatchedKeysInDb`).

use super::{Db, Lock, Store};
use crate::error::{Error, Result};
use std::sync::atomic::Ordering::Relaxed;

/// MOVE's and COPY's refusal to act on a key with itself.
const SAME_OBJECT: &str = "source and destination objects are the same";
/// SELECT's, MOVE's, COPY's and SWAPDB's refusal of a database that does not exist.
pub(crate) const OUT_OF_RANGE: &str = "DB index is out of range";

/// Keys and keys with an expiry of one database: INFO keyspace's `dbN:` line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyspaceInfo {
    /// Keys held (expired keys not yet reclaimed included, as Redis counts them).
    pub keys: usize,
    /// Keys with a time to live.
    pub expires: usize,
    /// The estimated mean remaining time to live of the keys with one, in milliseconds,
    /// sampled by active expiry ([`crate::Store::sweep_expired`]); 0 before any sample.
    pub avg_ttl: i64,
}

impl Db<'_> {
    /// The index of `n` as a database of this store, or Redis's out-of-range error.
    pub(crate) fn db_index(&self, n: i64) -> Result<usize> {
        usize::try_from(n)
            .ok()
            .filter(|&d| d < self.inner.databases)
            .ok_or_else(|| Error::err(OUT_OF_RANGE))
    }

    /// MOVE `key` from the view's database to `to` (a global view): whether it moved. Not
    /// when the key is missing here or present there. The value keeps its expiry.
    pub(crate) fn move_key(&mut self, key: &[u8], to: usize) -> Result<bool> {
        if to == self.db {
            return Err(Error::err(SAME_OBJECT));
        }
        if self.slot(key).is_none() {
            return Ok(false);
        }
        if self.in_db(to, |v| v.slot(key).is_some()) {
            return Ok(false);
        }
        let Some(slot) = self.remove(key) else {
            return Ok(false);
        };
        let at = slot.expire_at();
        self.in_db(to, |v| v.insert(key, slot.value, at));
        Ok(true)
    }

    /// SWAPDB `a` `b` on a global view (see the module documentation).
    pub(crate) fn swapdb(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let used = &self.inner.used_dbs;
        if used
            .iter()
            .skip(lo)
            .step_by(hi - lo)
            .take(2)
            .any(|u| u.load(Relaxed))
        {
            for u in used.iter().skip(lo).step_by(hi - lo).take(2) {
                u.store(true, Relaxed);
            }
        }
        let n = self.inner.shards_per_db;
        let now = self.now();
        // A global view holds shard i at position i.
        debug_assert_eq!(self.guards.len(), self.inner.shards.len());
        let split = (hi * n).min(self.guards.len());
        let (low, high) = self.guards.split_at_mut(split);
        let (Some(low), Some(high)) = (low.get_mut(lo * n..(lo + 1) * n), high.get_mut(..n)) else {
            return;
        };
        for (x, y) in low.iter_mut().zip(high) {
            debug_assert_eq!(x.0 + (hi - lo) * n, y.0);
            x.1.swap_contents(&mut y.1, now);
        }
    }

    /// FLUSHALL on a global view: every database emptied.
    pub(crate) fn flush_every_db(&mut self) {
        let mut removed = 0;
        for (_, shard) in self.shards_with_db() {
            removed += shard.len() as u64;
            shard.clear();
        }
        // Redis adds the keys it emptied to its change count.
        self.changes += removed;
    }

    /// Per-database counts on a global view, for INFO keyspace.
    pub(crate) fn keyspace_info(&mut self) -> Vec<KeyspaceInfo> {
        let mut out = vec![KeyspaceInfo::default(); self.inner.databases];
        for (d, shard) in self.shards_with_db() {
            if let Some(info) = out.get_mut(d) {
                info.keys += shard.len();
                info.expires += shard.volatile_len();
            }
        }
        for (d, info) in out.iter_mut().enumerate() {
            info.avg_ttl = self.inner.ttl_estimates.get(d);
        }
        out
    }
}

impl Store {
    /// `MOVE key db`: moves `key` with its expiry from this handle's database to `db`;
    /// whether it moved (not when `key` is missing here or exists there).
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// store.set("k", "v").unwrap();
    /// assert!(store.move_key("k", 3).unwrap());
    /// assert_eq!(store.select(3).unwrap().get("k").unwrap(), Some(b"v".to_vec()));
    /// ```
    pub fn move_key(&self, key: impl AsRef<[u8]>, db: usize) -> Result<bool> {
        let key = key.as_ref();
        if db >= self.inner.databases {
            return Err(Error::err(OUT_OF_RANGE));
        }
        self.with_db(Lock::Moved { key, to: db }, |v| v.move_key(key, db))
    }

    /// `SWAPDB a b`: databases `a` and `b` exchange their keys, in time proportional to the
    /// number of shards. Clients watching keys of either are flagged; clients blocked on
    /// keys that now hold values are served.
    pub fn swapdb(&self, a: usize, b: usize) -> Result<()> {
        if a >= self.inner.databases || b >= self.inner.databases {
            return Err(Error::err(OUT_OF_RANGE));
        }
        self.with_db(Lock::Global, |v| v.swapdb(a, b));
        Ok(())
    }

    /// `COPY source destination DB db [REPLACE]`: copies `src` of this handle's database to
    /// `dst` of database `db`; whether it copied.
    pub fn copy_to_db(
        &self,
        src: impl AsRef<[u8]>,
        dst: impl AsRef<[u8]>,
        db: usize,
        replace: bool,
    ) -> Result<bool> {
        if db >= self.inner.databases {
            return Err(Error::err(OUT_OF_RANGE));
        }
        self.check_memory(true)?;
        let (src, dst) = (src.as_ref(), dst.as_ref());
        if db == self.db {
            return self.with_db(Lock::Keys(&[src, dst]), |v| v.copy(src, dst, db, replace));
        }
        self.with_db(Lock::Global, |v| v.copy(src, dst, db, replace))
    }

    /// Keys and keys with an expiry of every database, for INFO keyspace.
    pub fn keyspace_info(&self) -> Vec<KeyspaceInfo> {
        self.with_db(Lock::Global, |v| v.keyspace_info())
    }
}
