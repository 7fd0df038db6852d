//! Waking waiters: the one mechanism behind blocking pops, subscription receives, the
//! request bus's replies and every real-time timeout.
//!
//! # Design
//!
//! A waiter is anything that can re-check its own state ([`Notify`]). Three tools wake it:
//!
//! - [`notify_at`]: one process-wide timer thread, a heap of real-time deadlines each holding
//!   a `Weak` to its waiter, so a finished wait costs only its entry until its time comes;
//! - [`spin_until`]: a short spin, then yields, before a thread parks, since waking a parked
//!   thread costs far more than a hand-off between running threads;
//! - [`block_on`] and [`Delay`]: a future driven to completion on the calling thread, and a
//!   future that completes after a real-time delay (woken by the timer thread).
//!
//! A store's blocking pops and subscriptions use the first two; the request bus (`intel`)
//! uses all of them, through this module rather than the store's internals.

use crate::clock::real_instant;
use parking_lot::{Condvar, Mutex};
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Something that re-checks its state when a deadline may have passed.
pub(crate) trait Notify: Send + Sync {
    fn notify(&self);
}

/// Spins a little while `ready` is false, before a thread parks: true when it became true.
///
/// Waking a parked thread takes the kernel; on an idle virtual CPU it measured ~100 µs
/// here, against well under a microsecond for a hand-off between two running threads. A
/// reply to a request often comes within a few microseconds, so a waiter first spins with
/// exponential backoff (127 pause instructions), then yields its CPU up to 40 times,
/// checking in between, and parks only after that. Yielding keeps a waiter from starving
/// the thread that would answer it when CPUs are scarce. Never on a single CPU, where
/// spinning would only delay the thread it waits for.
pub(crate) fn spin_until(ready: impl Fn() -> bool) -> bool {
    static CPUS: OnceLock<usize> = OnceLock::new();
    let cpus = *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if cpus < 2 {
        return false;
    }
    for step in 0..SPIN_STEPS {
        if step < 7 {
            for _ in 0..1u32 << step {
                std::hint::spin_loop();
            }
        } else {
            // Past a few microseconds, let any other runnable thread (often the one that
            // will answer) have the CPU.
            std::thread::yield_now();
        }
        if ready() {
            return true;
        }
    }
    false
}

/// Rounds of [`spin_until`]: 7 of busy backoff (127 pause instructions), then yields.
const SPIN_STEPS: u32 = 7 + 40;

/// Calls `target.notify()` from the timer thread once real time reaches `at` (if `target`
/// still exists then).
pub(crate) fn notify_at(at: Instant, target: Weak<dyn Notify>) {
    timer().add(at, target);
}

/// The one timer thread that wakes futures whose system-clock deadline passes.
///
/// Entries hold a `Weak` to their waiter, so a finished wait costs nothing but its entry,
/// which is dropped when its deadline comes.
struct Timer {
    heap: Mutex<BinaryHeap<TimerEntry>>,
    cv: Condvar,
}

struct TimerEntry {
    at: Instant,
    seq: u64,
    target: Weak<dyn Notify>,
}

impl PartialEq for TimerEntry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for TimerEntry {}
impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for TimerEntry {
    // Reversed: the heap's top is the earliest deadline.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<Timer> = OnceLock::new();
    static STARTED: std::sync::Once = std::sync::Once::new();
    let t = TIMER.get_or_init(|| Timer {
        heap: Mutex::new(BinaryHeap::new()),
        cv: Condvar::new(),
    });
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("sketchstore-timer".into())
            .spawn(move || t.run())
            .expect("spawn the sketchstore timer thread");
    });
    t
}

impl Timer {
    fn add(&self, at: Instant, target: Weak<dyn Notify>) {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut heap = self.heap.lock();
        let earliest = heap.peek().is_none_or(|e| at < e.at);
        heap.push(TimerEntry { at, seq, target });
        drop(heap);
        if earliest {
            self.cv.notify_one();
        }
    }

    fn run(&self) {
        let mut due: Vec<Weak<dyn Notify>> = Vec::new();
        loop {
            {
                let mut heap = self.heap.lock();
                loop {
                    let now = real_instant();
                    while heap.peek().is_some_and(|e| e.at <= now) {
                        if let Some(e) = heap.pop() {
                            due.push(e.target);
                        }
                    }
                    if !due.is_empty() {
                        break;
                    }
                    match heap.peek().map(|e| e.at) {
                        Some(at) => {
                            self.cv.wait_until(&mut heap, at);
                        }
                        None => self.cv.wait(&mut heap),
                    }
                }
            }
            for t in due.drain(..) {
                if let Some(t) = t.upgrade() {
                    t.notify();
                }
            }
        }
    }
}

/// Runs a future to completion on the calling thread. Between polls it spins briefly for a
/// wake-up before it parks (see `spin_until`): a reply usually comes within microseconds,
/// and waking a parked thread costs far more.
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark {
        thread: std::thread::Thread,
        woken: AtomicBool,
    }
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.store(true, Ordering::Release);
            self.thread.unpark();
        }
    }
    let unpark = Arc::new(Unpark {
        thread: std::thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        unpark.woken.store(false, Ordering::Relaxed);
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        // A wake-up after the spin gave up leaves park's token: park then returns at once.
        if !spin_until(|| unpark.woken.load(Ordering::Acquire)) {
            std::thread::park();
        }
    }
}

/// A future completing after a real-time delay, woken by the timer thread.
pub(crate) struct Delay {
    state: Arc<DelayState>,
    at: std::time::Instant,
    registered: bool,
}

#[derive(Default)]
struct DelayState {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Delay {
    pub(crate) fn new(d: Duration) -> Delay {
        Delay {
            state: Arc::new(DelayState::default()),
            at: crate::clock::real_instant() + d,
            registered: false,
        }
    }
}

impl Future for Delay {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.fired.load(Ordering::SeqCst) || crate::clock::real_instant() >= self.at {
            return Poll::Ready(());
        }
        *self.state.waker.lock() = Some(cx.waker().clone());
        if self.state.fired.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !self.registered {
            self.registered = true;
            let state: Arc<dyn Notify> = self.state.clone();
            notify_at(self.at, Arc::downgrade(&state));
        }
        Poll::Pending
    }
}

impl Notify for DelayState {
    /// Called once the delay's time has come.
    fn notify(&self) {
        self.fired.store(true, Ordering::SeqCst);
        let waker = self.waker.lock().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}
