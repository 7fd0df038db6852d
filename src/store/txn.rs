//! The store's half of transactions: WATCH flags, and running a batch of commands on one
//! locked view. The connection's half (MULTI's queue, EXEC's replies, the queue-time checks)
//! lives with `Connection` in the command layer.
//!
//! # Design
//!
//! WATCH registers a flag on each key's shard under that shard's lock; every modification of
//! the key sets it (keyspace.rs `touch`). A key that expired at WATCH time is removed then,
//! before registering, so it counts as absent; a key that expires between WATCH and EXEC is
//! removed by EXEC's own lookup, which sets the flag: an expiry aborts the transaction as in
//! Redis 7.0.
//!
//! EXEC locks the union of the shards of every queued command's keys and of the watched keys
//! (every shard if a queued command needs all of them), checks the watches, runs the commands
//! back to back on that one locked view, and serves blocked clients before unlocking. No
//! other operation can observe a transaction half applied, and pushes inside it reach blocked
//! clients only after the last command, as in Redis.

use super::{Db, Lock, Store};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};

impl Store {
    /// Registers `flag` on each of `keys`: any later modification of one of them sets it.
    pub(crate) fn watch_keys(&self, keys: &[&[u8]], flag: &std::sync::Arc<AtomicBool>) {
        self.with_db(Lock::Keys(keys), |db| {
            for k in keys {
                // An expired key is removed before the flag is registered: absent, not changed.
                db.slot(k);
                let hash = db.key_hash(k);
                db.shard(hash).watch(k, flag);
            }
        });
    }

    /// Locks the shards of `keys` and `watched` (every shard of the handle's database when
    /// `all`, of every database when `global` or when a key was watched in another
    /// database), and runs `batch` on that view unless a watched key changed (`flag` set,
    /// expiries of watched keys included), in which case it answers `None` having run
    /// nothing.
    pub(crate) fn run_atomic<R>(
        &self,
        keys: &[&[u8]],
        all: bool,
        global: bool,
        watched: &[(usize, Vec<u8>)],
        flag: Option<&AtomicBool>,
        batch: impl FnOnce(&mut Db<'_>) -> R,
    ) -> Option<R> {
        let global = global || watched.iter().any(|(d, _)| *d != self.db);
        // Without WATCH (typed transactions) the keys are locked as given, without a copy.
        let lock_keys: SmallVec<[&[u8]; 16]> = if watched.is_empty() {
            SmallVec::new()
        } else {
            let mut v: SmallVec<[&[u8]; 16]> = keys.iter().copied().collect();
            v.extend(watched.iter().map(|(_, k)| k.as_slice()));
            v
        };
        let lock = if global {
            Lock::Global
        } else if all {
            Lock::All
        } else if watched.is_empty() {
            Lock::Keys(keys)
        } else {
            Lock::Keys(&lock_keys)
        };
        self.with_db(lock, |db| {
            for (d, k) in watched {
                db.in_db(*d, |v| {
                    v.slot(k);
                });
            }
            if flag.is_some_and(|f| f.load(Ordering::SeqCst)) {
                return None;
            }
            Some(batch(db))
        })
    }
}
