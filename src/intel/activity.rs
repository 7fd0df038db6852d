//! `ActivityTracker`: counts of events per time bucket in one string key, on any
//! [`Backend`] that has BITFIELD. The layout and its reasoning are in
//! [`crate::types::activity`].
//!
//! ```
//! use sketchstore::intel::ActivityTracker;
//! use sketchstore::Store;
//! use std::time::Duration;
//!
//! let store = Store::new();
//! // Per minute over the last hour.
//! let tracker = ActivityTracker::new(Duration::from_secs(60), Duration::from_secs(3600)).unwrap();
//! let t0 = 1_700_000_000_000; // Unix ms
//! tracker.record(&store, b"activity:{s1}", t0).unwrap();
//! tracker.record(&store, b"activity:{s1}", t0 + 1_000).unwrap();
//! tracker.record(&store, b"activity:{s1}", t0 + 120_000).unwrap();
//! // The last 4 minutes, oldest first: two events two minutes ago, one now.
//! assert_eq!(tracker.window(&store, b"activity:{s1}", t0 + 120_000, 4).unwrap(), vec![0, 2, 0, 1]);
//! ```

use crate::backend::Backend;
use crate::error::Result;
use crate::types::activity::ActivityLayout;
use crate::types::bitmap::BitfieldOp;
use std::time::Duration;

/// Counts events per time bucket over a span, in one string key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityTracker {
    layout: ActivityLayout,
}

impl ActivityTracker {
    /// Buckets of `width` over `span` (e.g. a minute over a day); None for a zero width.
    pub fn new(width: Duration, span: Duration) -> Option<ActivityTracker> {
        ActivityLayout::new(width, span).map(|layout| ActivityTracker { layout })
    }

    /// The layout (bucket width, number of slots).
    pub fn layout(&self) -> &ActivityLayout {
        &self.layout
    }

    /// Records one event at Unix time `unix_ms`.
    pub fn record(&self, backend: &dyn Backend, key: &[u8], unix_ms: i64) -> Result<()> {
        let ops = self.layout.record_ops(unix_ms).0;
        let reply = backend.bitfield(key, &ops)?;
        self.finish_record(backend, key, unix_ms, &reply)
    }

    /// The BITFIELD program recording an event at `unix_ms`, for callers that put it in a
    /// transaction; pass its reply to [`ActivityTracker::finish_record`] afterwards.
    pub fn record_ops(&self, unix_ms: i64) -> [BitfieldOp; 3] {
        self.layout.record_ops(unix_ms).0
    }

    /// Completes a record whose BITFIELD reply was `reply`: removes a stale count left in
    /// the slot by an earlier lap of the ring, if there was one.
    pub fn finish_record(
        &self,
        backend: &dyn Backend,
        key: &[u8],
        unix_ms: i64,
        reply: &[Option<i64>],
    ) -> Result<()> {
        let (_, at) = self.layout.record_ops(unix_ms);
        let stale = self.layout.stale_count(at, reply);
        if stale > 0 {
            backend.bitfield(key, &self.layout.correction_ops(at, stale))?;
        }
        Ok(())
    }

    /// The counts of the last `n` buckets up to the one holding `unix_ms`, oldest first.
    pub fn window(
        &self,
        backend: &dyn Backend,
        key: &[u8],
        unix_ms: i64,
        n: usize,
    ) -> Result<Vec<u8>> {
        let bytes = backend.get(key)?.unwrap_or_default();
        Ok(self.layout.window(&bytes, unix_ms, n))
    }
}
