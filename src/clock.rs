//! Time, injected: every reading of "now" in sketchstore goes through a [`Clock`].
//!
//! # Design
//!
//! Expiry and blocking timeouts compare against the store's clock, never the system clock
//! directly, so tests drive time by hand with [`ManualClock`] instead of sleeping. This is
//! the only module allowed to read the system clock (`clippy.toml` bans `SystemTime::now`
//! and `Instant::now` elsewhere).
//!
//! Time is Unix milliseconds as `i64`, which is what Redis stores for expiry (`PEXPIREAT`).
//! A manual clock notifies listeners when it moves, so waiters whose deadline it passes
//! can wake up without polling.

use parking_lot::Mutex;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

type Listener = Box<dyn Fn() + Send + Sync>;

/// A source of the current time, cheap to clone.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<ManualClock>,
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that only moves when the given [`ManualClock`] is moved.
    pub fn manual(manual: &ManualClock) -> Clock {
        Clock {
            manual: Some(manual.clone()),
        }
    }

    /// Whether this clock is driven by hand.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Milliseconds since the Unix epoch.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            Some(m) => m.now_ms(),
            None => system_now_ms(),
        }
    }

    /// Milliseconds since the Unix epoch from the kernel's coarse clock (a few ms behind at
    /// most, and several times cheaper to read): for bookkeeping shown in seconds, such as a
    /// client's idle time. A manual clock's time as is.
    #[inline]
    pub fn coarse_ms(&self) -> i64 {
        match &self.manual {
            Some(m) => m.now_ms(),
            None => system_coarse_ms(),
        }
    }

    /// Microseconds since the Unix epoch (TIME): a manual clock's milliseconds times 1000.
    pub fn now_us(&self) -> i64 {
        match &self.manual {
            Some(m) => m.now_ms().saturating_mul(1000),
            None => system_now_us(),
        }
    }

    /// Registers a callback run after every move of a manual clock; a no-op for the system
    /// clock. Returns an id for [`Clock::remove_listener`].
    pub(crate) fn add_listener(&self, f: Listener) -> Option<u64> {
        self.manual.as_ref().map(|m| m.add_listener(f))
    }

    pub(crate) fn remove_listener(&self, id: u64) {
        if let Some(m) = &self.manual {
            m.inner.listeners.lock().retain(|(i, _)| *i != id);
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manual {
            Some(m) => write!(f, "Clock::manual({})", m.now_ms()),
            None => f.write_str("Clock::system()"),
        }
    }
}

#[allow(clippy::disallowed_methods)]
fn system_now_ms() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

#[cfg(target_os = "linux")]
fn system_coarse_ms() -> i64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    t.tv_sec
        .saturating_mul(1000)
        .saturating_add(t.tv_nsec / 1_000_000)
}

#[cfg(not(target_os = "linux"))]
fn system_coarse_ms() -> i64 {
    system_now_ms()
}

#[allow(clippy::disallowed_methods)]
fn system_now_us() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// A monotonic instant for measuring real elapsed time (benchmarks, the real-clock wait path).
#[allow(clippy::disallowed_methods)]
pub(crate) fn real_instant() -> std::time::Instant {
    std::time::Instant::now()
}

struct ManualInner {
    now: AtomicI64,
    next_id: AtomicU64,
    listeners: Mutex<Vec<(u64, Listener)>>,
}

/// A clock moved by hand, for tests.
///
/// ```
/// use sketchstore::{ManualClock, Store};
/// use std::time::Duration;
/// let clock = ManualClock::new(1_000_000);
/// let store = Store::builder().clock(clock.clock()).build();
/// store.set("k", "v").unwrap();
/// store.pexpire("k", Duration::from_millis(100)).unwrap();
/// clock.advance(Duration::from_millis(100));
/// assert_eq!(store.get("k").unwrap(), None);
/// ```
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

impl ManualClock {
    /// A clock standing at `start_ms` milliseconds after the Unix epoch.
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                now: AtomicI64::new(start_ms),
                next_id: AtomicU64::new(1),
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A [`Clock`] reading this manual clock.
    pub fn clock(&self) -> Clock {
        Clock::manual(self)
    }

    /// The current reading in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.inner.now.load(Ordering::SeqCst)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .inner
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
        self.notify();
    }

    /// Sets the clock to `ms` (it may move backwards, as a wall clock can).
    pub fn set_ms(&self, ms: i64) {
        self.inner.now.store(ms, Ordering::SeqCst);
        self.notify();
    }

    fn add_listener(&self, f: Listener) -> u64 {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.listeners.lock().push((id, f));
        id
    }

    fn notify(&self) {
        let listeners = self.inner.listeners.lock();
        for (_, f) in listeners.iter() {
            f();
        }
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManualClock({})", self.now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_by_hand() {
        let m = ManualClock::new(5_000);
        let c = m.clock();
        assert_eq!(c.now_ms(), 5_000);
        m.advance(Duration::from_millis(250));
        assert_eq!(c.now_ms(), 5_250);
        m.set_ms(10);
        assert_eq!(c.now_ms(), 10);
    }

    #[test]
    fn listeners_run_on_moves() {
        let m = ManualClock::new(0);
        let c = m.clock();
        let hits = Arc::new(AtomicU64::new(0));
        let h = hits.clone();
        let id = c
            .add_listener(Box::new(move || {
                h.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        m.advance(Duration::from_millis(1));
        c.remove_listener(id);
        m.advance(Duration::from_millis(1));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(Clock::system().now_ms() > 1_577_836_800_000);
    }
}
