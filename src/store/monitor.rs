//! MONITOR's fan-out: the lines describing each command a connection runs, queued for
//! every connection in monitor mode.
//!
//! # Design
//!
//! The store keeps one [`Monitors`]: a flag that says whether anyone monitors, and the
//! feeds of the monitoring connections behind a mutex. The flag is what every command
//! pays for when nobody monitors: one relaxed load ([`Monitors::active`]), no lock and no
//! formatting. It is set and cleared under the mutex, so it is exact once the lock is
//! released; a command racing a MONITOR that is just starting may be missed, as it may
//! in Redis when it runs a moment earlier.
//!
//! A line is built once (the command layer formats it, Redis's way) and shared by every
//! feed (`Arc<str>`). Each [`Feed`] holds the lines its client has not taken yet, up to a
//! byte limit counted as their encoding on the wire (`+line\r\n`). Redis counts a monitor
//! as a normal client, whose output buffer is unlimited by default; here a monitor that
//! does not read is bounded by the pub/sub limit ([`crate::Config::pubsub_buffer_bytes`],
//! 32 MB by default) instead, so a stalled `redis-cli monitor` cannot grow the process
//! without bound: a line that would pass the limit closes the feed, drops what it held and
//! kills its client (as CLIENT KILL would), and the server closes that connection.
//!
//! Lines are taken with [`Feed::try_receive`], [`Feed::receive`] (sync, with a timeout on
//! the store's clock) or [`Feed::receive_async`].

use super::blocking::{Deadline, DeadlineWatch};
use super::Store;
use crate::clients::ClientState;
use crate::wait::Notify;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The monitoring connections of a store.
#[derive(Default)]
pub(crate) struct Monitors {
    /// Whether `feeds` is not empty.
    active: AtomicBool,
    feeds: Mutex<Vec<Arc<Feed>>>,
    next_id: AtomicU64,
}

impl Monitors {
    /// Whether any connection monitors: the only cost of MONITOR for a command when nobody
    /// does.
    #[inline]
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Queues `line` (without `+` and CRLF) for every monitor.
    pub(crate) fn feed(&self, line: &str) {
        let line: Arc<str> = Arc::from(line);
        let mut overflowed = Vec::new();
        {
            let feeds = self.feeds.lock();
            for f in feeds.iter() {
                if !f.deliver(&line) {
                    overflowed.push(f.id);
                }
            }
        }
        for id in overflowed {
            self.remove(id);
        }
    }

    fn remove(&self, id: u64) {
        let mut feeds = self.feeds.lock();
        feeds.retain(|f| f.id != id);
        self.active.store(!feeds.is_empty(), Ordering::Relaxed);
    }
}

struct FeedState {
    queue: VecDeque<Arc<str>>,
    bytes: usize,
    closed: bool,
    waker: Option<Waker>,
}

/// One monitoring connection's queue of lines.
pub(crate) struct Feed {
    id: u64,
    limit: usize,
    state: Mutex<FeedState>,
    cv: Condvar,
    /// The monitoring client, killed when its feed overflows.
    client: Arc<ClientState>,
}

/// Bytes a line takes on the wire: `+`, the line, CRLF.
fn wire_len(line: &str) -> usize {
    line.len() + 3
}

impl Notify for Feed {
    fn notify(&self) {
        let waker = self.state.lock().waker.take();
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Feed {
    /// Appends `line`; false when this closed the feed (it went over its limit).
    fn deliver(&self, line: &Arc<str>) -> bool {
        let size = wire_len(line);
        let closed;
        {
            let mut s = self.state.lock();
            if s.closed {
                return true;
            }
            closed = s.bytes.saturating_add(size) > self.limit;
            if closed {
                s.closed = true;
                s.queue = VecDeque::new();
                s.bytes = 0;
            } else {
                s.bytes += size;
                s.queue.push_back(Arc::clone(line));
            }
        }
        if closed {
            self.client.kill();
        }
        self.notify();
        !closed
    }

    /// The next line, `Err(())` once the feed was closed by its limit.
    fn take(&self, s: &mut FeedState) -> Poll<Result<Arc<str>, ()>> {
        if s.closed {
            return Poll::Ready(Err(()));
        }
        match s.queue.pop_front() {
            Some(line) => {
                s.bytes -= wire_len(&line);
                Poll::Ready(Ok(line))
            }
            None => Poll::Pending,
        }
    }

    /// The limit the feed was closed by, for the error its reader gets.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}

/// A connection's membership in [`Monitors`]: its feed, removed when dropped (RESET, or the
/// connection going away).
pub(crate) struct MonitorHandle {
    store: Store,
    feed: Arc<Feed>,
}

impl Drop for MonitorHandle {
    fn drop(&mut self) {
        self.store.inner.monitors.remove(self.feed.id);
    }
}

impl Store {
    /// Starts feeding `client` the commands of every connection.
    pub(crate) fn start_monitor(&self, client: Arc<ClientState>) -> MonitorHandle {
        let monitors = &self.inner.monitors;
        let feed = Arc::new(Feed {
            id: monitors.next_id.fetch_add(1, Ordering::Relaxed),
            limit: self.inner.settings.pubsub_buffer_bytes(),
            state: Mutex::new(FeedState {
                queue: VecDeque::new(),
                bytes: 0,
                closed: false,
                waker: None,
            }),
            cv: Condvar::new(),
            client,
        });
        let mut feeds = monitors.feeds.lock();
        feeds.push(Arc::clone(&feed));
        monitors.active.store(true, Ordering::Relaxed);
        drop(feeds);
        MonitorHandle {
            store: self.clone(),
            feed,
        }
    }
}

impl MonitorHandle {
    pub(crate) fn feed(&self) -> &Feed {
        &self.feed
    }

    /// The next line without waiting.
    pub(crate) fn try_receive(&self) -> Poll<Result<Arc<str>, ()>> {
        let mut s = self.feed.state.lock();
        self.feed.take(&mut s)
    }

    /// The next line, waiting up to `timeout` on the store's clock; `Pending` when none
    /// came in time.
    pub(crate) fn receive(&self, timeout: Duration) -> Poll<Result<Arc<str>, ()>> {
        let clock = &self.store.inner.clock;
        let deadline = Deadline::after(clock, Some(timeout));
        let me: Arc<dyn Notify> = self.feed.clone();
        let _watch = DeadlineWatch::new(clock, deadline, Arc::downgrade(&me), false);
        let mut s = self.feed.state.lock();
        loop {
            if let Poll::Ready(r) = self.feed.take(&mut s) {
                return Poll::Ready(r);
            }
            if deadline.passed(clock) {
                return Poll::Pending;
            }
            match deadline {
                Deadline::Real(at) => {
                    self.feed.cv.wait_until(&mut s, at);
                }
                _ => self.feed.cv.wait(&mut s),
            }
        }
    }

    /// The next line, as a future that waits without holding a thread.
    pub(crate) fn receive_async(
        &self,
    ) -> impl Future<Output = Result<Arc<str>, ()>> + Send + 'static {
        Receive {
            feed: Arc::clone(&self.feed),
        }
    }
}

struct Receive {
    feed: Arc<Feed>,
}

impl Future for Receive {
    type Output = Result<Arc<str>, ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.feed.state.lock();
        match self.feed.take(&mut s) {
            Poll::Ready(r) => Poll::Ready(r),
            Poll::Pending => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Arc<ClientState> {
        Arc::new(ClientState::new(1, 0))
    }

    #[test]
    fn only_monitors_make_the_store_active() {
        let store = Store::new();
        assert!(!store.inner.monitors.active());
        let m = store.start_monitor(client());
        assert!(store.inner.monitors.active());
        store.inner.monitors.feed("1.000000 [0 ?:0] \"PING\"");
        assert_eq!(
            m.try_receive(),
            Poll::Ready(Ok(Arc::from("1.000000 [0 ?:0] \"PING\"")))
        );
        assert_eq!(m.try_receive(), Poll::Pending);
        drop(m);
        assert!(!store.inner.monitors.active());
    }

    #[test]
    fn a_feed_past_its_limit_closes_and_kills_its_client() {
        let store = Store::builder().pubsub_buffer_bytes(100).build();
        let c = client();
        let m = store.start_monitor(Arc::clone(&c));
        let line = "x".repeat(40);
        store.inner.monitors.feed(&line);
        store.inner.monitors.feed(&line);
        assert!(!c.is_killed());
        store.inner.monitors.feed(&line);
        assert!(c.is_killed());
        assert_eq!(m.try_receive(), Poll::Ready(Err(())));
        assert!(!store.inner.monitors.active());
    }
}
