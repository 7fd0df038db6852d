//! INFO keyspace's `avg_ttl`: a running estimate of the remaining time to live of each
//! database's volatile keys, fed by active expiry.
//!
//! # Design
//!
//! Redis does not keep an exact mean: each active-expiry cycle samples a few keys with an
//! expiry, averages the remaining TTLs of those not yet due, and folds that mean into the
//! database's estimate with a weight of 2% (the first sample sets it outright); a database
//! with no volatile key left is reset to 0. The store does the same from
//! [`Store::sweep_expired`]: after sweeping, it samples up to [`SAMPLES_PER_DB`] keys of each
//! database, spread over its shards, from the keys with an expiry among a few slab positions
//! of each shard. A rotating cursor moves the sample through the positions from one pass
//! to the next. A store whose owner never calls
//! `sweep_expired` reports 0, as Redis does before its first cycle.
//!
//! # Representation
//!
//! ```text
//! per_db: [AtomicI64; databases]   milliseconds, 0 = no estimate
//! cursor: AtomicUsize              where the next pass starts in each shard's slab
//! ```
//!
//! # Worked example
//!
//! Ten keys with 100 s to live: the first pass samples them, mean 100 000 ms, and the
//! estimate becomes 100 000 / 50 * 49 + 100 000 / 50 = 100 000. Ten seconds later the
//! sampled mean is 90 000 and the estimate moves by 2% of the difference, to 99 800.
//!
//! # References
//!
//! Redis 7.0 `src/expire.c` (`activeExpireCycle`: the sampling, the 2% running average, the
//! reset to 0), `src/server.c` (the `avg_ttl` field of INFO keyspace).

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// Keys sampled per database and pass (Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
pub(crate) const SAMPLES_PER_DB: usize = 20;

/// The per-database estimates.
pub(crate) struct TtlEstimates {
    per_db: Box<[AtomicI64]>,
    cursor: AtomicUsize,
}

impl TtlEstimates {
    pub(crate) fn new(databases: usize) -> TtlEstimates {
        TtlEstimates {
            per_db: (0..databases).map(|_| AtomicI64::new(0)).collect(),
            cursor: AtomicUsize::new(0),
        }
    }

    /// The estimate of database `db` in milliseconds (0 without one).
    pub(crate) fn get(&self, db: usize) -> i64 {
        self.per_db.get(db).map_or(0, |e| e.load(Ordering::Relaxed))
    }

    /// Where this pass's samples start, advancing the cursor for the next one.
    pub(crate) fn next_start(&self, step: usize) -> usize {
        self.cursor.fetch_add(step, Ordering::Relaxed)
    }

    /// Folds one pass over database `db` in: `volatile` keys with an expiry, and the sum and
    /// count of the remaining TTLs sampled.
    pub(crate) fn update(&self, db: usize, volatile: usize, sum: i64, samples: i64) {
        let Some(e) = self.per_db.get(db) else {
            return;
        };
        if volatile == 0 {
            e.store(0, Ordering::Relaxed);
            return;
        }
        if samples > 0 {
            e.store(
                fold(e.load(Ordering::Relaxed), sum / samples),
                Ordering::Relaxed,
            );
        }
    }
}

/// Redis's running average: 98% of the previous estimate, 2% of the new mean, in integer
/// arithmetic; no previous estimate takes the mean.
fn fold(previous: i64, mean: i64) -> i64 {
    let previous = if previous == 0 { mean } else { previous };
    (previous / 50) * 49 + mean / 50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_two_percent_and_resets_without_volatile_keys() {
        assert_eq!(fold(0, 100_000), 100_000);
        assert_eq!(fold(100_000, 90_000), 99_800);
        let e = TtlEstimates::new(2);
        e.update(1, 10, 1_000_000, 10);
        assert_eq!(e.get(1), 100_000);
        e.update(1, 10, 0, 0);
        assert_eq!(e.get(1), 100_000);
        e.update(1, 0, 0, 0);
        assert_eq!(e.get(1), 0);
        assert_eq!(e.get(0), 0);
        assert_eq!(e.get(7), 0);
    }
}
