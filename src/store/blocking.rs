//! Waiting without holding locks: blocked list and sorted-set pops, their handoff, and
//! deadlines.
//!
//! # Design
//!
//! A blocked pop is a [`Waiter`]: an `Arc` with its own small mutex holding its state
//! (pending, served with a key and a value, timed out, finished) and a condvar. It is
//! registered in the FIFO queue of each key it waits on; queues live in the keyspace shard of
//! their key ([`Blocked`]), so checking "every key is empty" and registering happen under the
//! same shard locks and no push can slip in between.
//!
//! A command that pushes to a key with waiters marks the key ready. When the command (or the
//! whole `EXEC`) has run, and before the shard locks are released, [`Db::serve_blocked`] hands
//! elements to the waiters of the ready keys in the order they blocked, as Redis's
//! `handleClientsBlockedOnKeys` does after each command. Each handoff happens under the
//! waiter's mutex: the element is popped only if the waiter is still pending, so an element
//! reaches exactly one waiter, and a waiter already served through another key, or timed out,
//! leaves it in the list. A waiter that times out marks itself under the same mutex, and if it
//! was served in the meantime it takes the value instead: nothing is lost, nothing is
//! delivered twice.
//!
//! Sorted-set pops (`BZPOPMIN`, `BZPOPMAX`, `BZMPOP`) wait the same way: `ZADD` and
//! `ZINCRBY` creating a key mark it ready like a push does, and a waiter only takes from a
//! key of its own kind (a list waiter never pops a sorted set, nor the reverse). A key's
//! queue is served front first; a front waiter of the other kind stops the serving of that
//! key until it is gone, where Redis would skip it.
//!
//! A `BLMOVE` waiter pushes to its destination during the handoff, which needs the
//! destination's shard. When that shard is not among the locked ones, serving of that key
//! stops at that waiter (FIFO is kept) and resumes right after the locks are released,
//! re-locking the source and destination together ([`Store::serve_deferred`]). In that short
//! window another client may pop the element first; Redis, being single-threaded, has no
//! such window.
//!
//! Every wait has two thin front ends over the same state: a sync wait on the condvar, and a
//! future that stores a `Waker` in the state. Deadlines come from the store's clock: with a
//! manual clock a clock listener wakes the waiter whenever the clock moves, and the waiter
//! compares the clock with its deadline, so tests never sleep; with the system clock a sync
//! wait uses a timed condvar wait and a future registers with one shared timer thread.
//!
//! No lock is held while waiting. Lock order: shard locks (ascending), then a waiter's mutex;
//! a clock's listener list, then a waiter's mutex. Nothing takes a shard lock or the listener
//! list while holding a waiter's mutex.

use super::keyspace::key_hash;
use super::lists::ListEnd;
use super::{Db, Lock, Store};
use crate::clock::{real_instant, Clock};
use crate::error::Result;
use crate::wait::notify_at;
use crate::wait::{spin_until, Notify};
use parking_lot::{Condvar, Mutex};
use smallvec::SmallVec;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// When a wait gives up.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    Never,
    /// A real instant (system clock).
    Real(Instant),
    /// A manual clock reading in Unix ms.
    Manual(i64),
}

/// Whole milliseconds, rounded up, as Redis rounds a timeout (`ceill`).
pub(crate) fn ceil_ms(d: Duration) -> i64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

impl Deadline {
    /// The deadline `timeout` from now; `None` waits forever. A deadline past what the clock
    /// can express never comes.
    pub(crate) fn after(clock: &Clock, timeout: Option<Duration>) -> Deadline {
        let Some(t) = timeout else {
            return Deadline::Never;
        };
        let ms = ceil_ms(t);
        if clock.is_manual() {
            match clock.now_ms().checked_add(ms) {
                Some(at) => Deadline::Manual(at),
                None => Deadline::Never,
            }
        } else {
            match real_instant().checked_add(Duration::from_millis(ms as u64)) {
                Some(at) => Deadline::Real(at),
                None => Deadline::Never,
            }
        }
    }

    /// Whether the deadline has passed.
    pub(crate) fn passed(&self, clock: &Clock) -> bool {
        match *self {
            Deadline::Never => false,
            Deadline::Real(at) => real_instant() >= at,
            Deadline::Manual(at) => clock.now_ms() >= at,
        }
    }
}

/// Keeps a waiter told about time while it waits: a clock listener (manual clock) or, for a
/// future on the system clock, an entry in the shared timer. Dropping it unregisters.
pub(crate) struct DeadlineWatch {
    clock: Clock,
    listener: Option<u64>,
}

impl DeadlineWatch {
    pub(crate) fn new(
        clock: &Clock,
        deadline: Deadline,
        target: Weak<dyn Notify>,
        for_future: bool,
    ) -> DeadlineWatch {
        let mut listener = None;
        match deadline {
            Deadline::Never => {}
            Deadline::Manual(_) => {
                let t = target;
                listener = clock.add_listener(Box::new(move || {
                    if let Some(t) = t.upgrade() {
                        t.notify();
                    }
                }));
            }
            Deadline::Real(at) => {
                if for_future {
                    notify_at(at, target);
                }
            }
        }
        DeadlineWatch {
            clock: clock.clone(),
            listener,
        }
    }
}

impl Drop for DeadlineWatch {
    fn drop(&mut self) {
        if let Some(id) = self.listener.take() {
            self.clock.remove_listener(id);
        }
    }
}

/// What a blocked client waits to do with the first element it gets.
#[derive(Clone, Debug)]
pub(crate) enum WaitKind {
    /// BLPOP (`Left`) / BRPOP (`Right`).
    Pop(ListEnd),
    /// BLMOVE: pop from `from`, push to `to` of `dst`.
    Move {
        dst: Box<[u8]>,
        from: ListEnd,
        to: ListEnd,
    },
    /// BLMPOP: pop up to `count` elements from `end` of the first non-empty list. The
    /// elements travel in [`Popped`]'s value as [`frame`]s.
    MPop { end: ListEnd, count: usize },
    /// BZPOPMIN / BZPOPMAX (`count` `None`: one entry) and BZMPOP (up to `count` entries),
    /// from the highest scores when `max`.
    ZPop { max: bool, count: Option<usize> },
}

/// Several elements as one value: each as its length (4 bytes, little endian) and bytes.
/// Only [`unframe`] reads it, and only what [`frame`] wrote.
pub(crate) fn frame(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 4).sum());
    for i in items {
        out.extend_from_slice(&(i.len() as u32).to_le_bytes());
        out.extend_from_slice(i);
    }
    out
}

/// The elements [`frame`] joined.
pub(crate) fn unframe(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((len, rest)) = b.split_first_chunk::<4>() {
        let n = (u32::from_le_bytes(*len) as usize).min(rest.len());
        out.push(rest[..n].to_vec());
        b = &rest[n..];
    }
    out
}

impl WaitKind {
    fn is_zset(&self) -> bool {
        matches!(self, WaitKind::ZPop { .. })
    }
}

/// What a served waiter took: a list element, or sorted-set entries in popping order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Taken {
    Elem(Vec<u8>),
    Entries(Vec<(Vec<u8>, f64)>),
}

impl Taken {
    /// The list elements a BLMPOP waiter was served (packed by [`frame`]).
    pub(crate) fn frames(&self) -> Vec<Vec<u8>> {
        match self {
            Taken::Elem(b) => unframe(b),
            Taken::Entries(_) => Vec::new(),
        }
    }
}

/// A key and what was taken from it.
pub(crate) type Got = (Box<[u8]>, Taken);

/// The list form of a wait's outcome (a list wait is only ever served a list element).
pub(crate) fn elem(r: Result<Option<Got>>) -> Result<Option<Popped>> {
    r.map(|g| match g {
        Some((k, Taken::Elem(v))) => Some((k, v)),
        _ => None,
    })
}

/// A key and the element popped from it (for BLMOVE, the element moved).
pub(crate) type Popped = (Box<[u8]>, Vec<u8>);

/// What a served waiter got, or the error the handoff met (BLMOVE to a non-list
/// destination).
pub(crate) type Served = Result<Got>;

/// A database, a source key in it and the destination its front BLMOVE waiter needs
/// locked.
type KeyPair = (usize, Box<[u8]>, Box<[u8]>);

enum State {
    Pending,
    Served(Served),
    /// Timed out, or the outcome was taken (or the wait abandoned); nothing more happens.
    Finished,
}

struct WaitCell {
    state: State,
    waker: Option<Waker>,
}

/// One blocked client.
pub(crate) struct Waiter {
    pub(crate) kind: WaitKind,
    /// The keys it waits on, without duplicates, in argument order.
    pub(crate) keys: Vec<Box<[u8]>>,
    cell: Mutex<WaitCell>,
    cv: Condvar,
    /// Set once the cell holds an outcome, so that a spinning waiter need not lock.
    served: AtomicBool,
}

impl Notify for Waiter {
    fn notify(&self) {
        let waker = self.cell.lock().waker.take();
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Waiter {
    pub(crate) fn new(keys: &[&[u8]], kind: WaitKind) -> Arc<Waiter> {
        let mut uniq: Vec<Box<[u8]>> = Vec::with_capacity(keys.len());
        for k in keys {
            if !uniq.iter().any(|u| **u == **k) {
                uniq.push((*k).into());
            }
        }
        Arc::new(Waiter {
            kind,
            keys: uniq,
            cell: Mutex::new(WaitCell {
                state: State::Pending,
                waker: None,
            }),
            cv: Condvar::new(),
            served: AtomicBool::new(false),
        })
    }

    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.cell.lock().state, State::Pending)
    }

    /// Serves the waiter with what `give` produces, if it is still pending. `give` runs under
    /// the waiter's mutex, so it pops its element only when the handoff cannot fail.
    fn try_serve(&self, give: impl FnOnce() -> Option<Served>) -> bool {
        let waker = {
            let mut cell = self.cell.lock();
            if !matches!(cell.state, State::Pending) {
                return false;
            }
            let Some(outcome) = give() else {
                return false;
            };
            cell.state = State::Served(outcome);
            self.served.store(true, Ordering::Release);
            cell.waker.take()
        };
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    /// Takes the outcome if there is one; times out if the deadline has passed.
    /// `Poll::Ready(None)` is a timeout.
    fn check(
        &self,
        cell: &mut WaitCell,
        clock: &Clock,
        deadline: Deadline,
    ) -> Poll<Option<Served>> {
        match std::mem::replace(&mut cell.state, State::Finished) {
            State::Served(s) => Poll::Ready(Some(s)),
            State::Finished => Poll::Ready(None),
            State::Pending => {
                if deadline.passed(clock) {
                    Poll::Ready(None)
                } else {
                    cell.state = State::Pending;
                    Poll::Pending
                }
            }
        }
    }

    /// Blocks the calling thread until served or the deadline passes.
    fn wait_sync(self: &Arc<Self>, clock: &Clock, deadline: Deadline) -> Option<Served> {
        let me: Arc<dyn Notify> = self.clone();
        let _watch = DeadlineWatch::new(clock, deadline, Arc::downgrade(&me), false);
        let mut cell = self.cell.lock();
        let mut spun = false;
        loop {
            if let Poll::Ready(r) = self.check(&mut cell, clock, deadline) {
                return r;
            }
            if !spun {
                // Whatever the spin saw, check again under the lock before waiting: a serve
                // between its last look and the relock has already notified.
                spun = true;
                parking_lot::MutexGuard::unlocked(&mut cell, || {
                    spin_until(|| self.served.load(Ordering::Acquire))
                });
                continue;
            }
            match deadline {
                Deadline::Real(at) => {
                    self.cv.wait_until(&mut cell, at);
                }
                Deadline::Never | Deadline::Manual(_) => self.cv.wait(&mut cell),
            }
        }
    }

    /// Abandons the wait: returns an outcome that arrived before it could be abandoned.
    fn abandon(&self) -> Option<Served> {
        let mut cell = self.cell.lock();
        match std::mem::replace(&mut cell.state, State::Finished) {
            State::Served(s) => Some(s),
            _ => None,
        }
    }
}

/// The blocked clients of one shard's keys.
#[derive(Default)]
pub(crate) struct Blocked {
    queues: HashMap<Box<[u8]>, VecDeque<Arc<Waiter>>>,
    ready: Vec<Box<[u8]>>,
}

/// Source keys whose serving must continue after the locks are released, with the
/// destination the front waiter needs.
#[must_use]
pub(crate) struct Deferred(SmallVec<[KeyPair; 1]>);

impl Blocked {
    /// Marks ready the keys with blocked clients for which `holds` is true.
    pub(crate) fn mark_ready_where(&mut self, holds: impl Fn(&[u8]) -> bool) {
        for k in self.queues.keys() {
            if holds(k) && !self.ready.iter().any(|r| r == k) {
                self.ready.push(k.clone());
            }
        }
    }
}

impl Deferred {
    /// Serves what could not be served under the command's locks. Call after releasing them.
    pub(crate) fn finish(self, store: &Store) {
        if !self.0.is_empty() {
            store.serve_deferred(self.0);
        }
    }
}

impl Db<'_> {
    /// Whether `key`'s shard is locked in this view.
    pub(crate) fn locks_key(&self, key: &[u8]) -> bool {
        let idx = self.shard_index(self.key_hash(key));
        self.guards.iter().any(|(i, _)| *i == idx)
    }

    /// Marks `key` ready if clients are blocked on it: they are served once the command ends.
    pub(crate) fn signal_ready(&mut self, key: &[u8]) {
        let blocked = &mut self.shard(self.key_hash(key)).blocked;
        if blocked.queues.is_empty() || !blocked.queues.contains_key(key) {
            return;
        }
        if !blocked.ready.iter().any(|k| **k == *key) {
            blocked.ready.push(key.into());
        }
    }

    /// Queues `waiter` on each of its keys (their shards are locked).
    pub(crate) fn register(&mut self, waiter: &Arc<Waiter>) {
        for k in &waiter.keys {
            self.shard(key_hash(k))
                .blocked
                .queues
                .entry(k.clone())
                .or_default()
                .push_back(waiter.clone());
        }
    }

    /// Removes `waiter` from the queues of its keys (their shards are locked).
    pub(crate) fn unregister(&mut self, waiter: &Arc<Waiter>) {
        for k in &waiter.keys {
            let blocked = &mut self.shard(key_hash(k)).blocked;
            if let Some(q) = blocked.queues.get_mut(&**k) {
                q.retain(|w| !Arc::ptr_eq(w, waiter));
                if q.is_empty() {
                    blocked.queues.remove(&**k);
                }
            }
        }
    }

    /// Serves the clients blocked on the keys marked ready, first come first served, until no
    /// locked key is ready. Returns what needs another shard lock.
    pub(crate) fn serve_blocked(&mut self) -> Deferred {
        let mut deferred = Deferred(SmallVec::new());
        // Nearly every command: nothing was made ready.
        if self.guards.iter().all(|(_, g)| g.blocked.ready.is_empty()) {
            return deferred;
        }
        loop {
            let mut ready: SmallVec<[(usize, Box<[u8]>); 4]> = SmallVec::new();
            for (db, g) in self.shards_with_db() {
                ready.extend(g.blocked.ready.drain(..).map(|k| (db, k)));
            }
            if ready.is_empty() {
                return deferred;
            }
            for (db, key) in ready {
                if let Some(dst) = self.in_db(db, |v| v.serve_key(&key)) {
                    deferred.0.push((db, key, dst));
                }
            }
        }
    }

    /// Serves waiters of one key while it has elements. Returns the destination a `BLMOVE`
    /// waiter needs when its shard is not locked.
    pub(crate) fn serve_key(&mut self, key: &[u8]) -> Option<Box<[u8]>> {
        let hash = self.key_hash(key);
        loop {
            let front = {
                let blocked = &mut self.shard(hash).blocked;
                let q = blocked.queues.get_mut(key)?;
                while q.front().is_some_and(|w| !w.is_pending()) {
                    q.pop_front();
                }
                match q.front() {
                    Some(w) => w.clone(),
                    None => {
                        blocked.queues.remove(key);
                        return None;
                    }
                }
            };
            let available = if front.kind.is_zset() {
                self.zset_len_of(key)
            } else {
                self.list_len_of(key)
            };
            if available == 0 {
                return None;
            }
            match &front.kind {
                WaitKind::Pop(end) => {
                    let end = *end;
                    front.try_serve(|| {
                        self.list_pop_one(key, end)
                            .map(|v| Ok((Box::<[u8]>::from(key), Taken::Elem(v))))
                    });
                }
                WaitKind::MPop { end, count } => {
                    let (end, count) = (*end, *count);
                    front.try_serve(|| {
                        let items = self.list_pop_many(key, end, count)?;
                        Some(Ok((Box::<[u8]>::from(key), Taken::Elem(frame(&items)))))
                    });
                }
                WaitKind::Move { dst, from, to } => {
                    if !self.locks_key(dst) {
                        return Some(dst.clone());
                    }
                    let (from, to) = (*from, *to);
                    front.try_serve(|| match self.list_check(dst) {
                        Err(e) => Some(Err(e)),
                        Ok(()) => {
                            let v = self.list_move_one(key, dst, from, to)?;
                            Some(Ok((Box::<[u8]>::from(key), Taken::Elem(v))))
                        }
                    });
                }
                WaitKind::ZPop { max, count } => {
                    let (max, n) = (*max, count.unwrap_or(1));
                    front.try_serve(|| {
                        let v = self.zset_pop_n(key, max, n);
                        (!v.is_empty()).then(|| Ok((Box::<[u8]>::from(key), Taken::Entries(v))))
                    });
                }
            }
            let blocked = &mut self.shard(hash).blocked;
            if let Some(q) = blocked.queues.get_mut(key) {
                if q.front().is_some_and(|w| Arc::ptr_eq(w, &front)) {
                    q.pop_front();
                }
            }
        }
    }
}

/// The outcome of trying a blocking command without blocking.
pub(crate) enum Attempt {
    /// Served at once (or failed).
    Done(Served),
    /// Nothing to pop: registered and waiting.
    Waiting(Arc<Waiter>),
    /// Nothing to pop and not allowed to block.
    Empty,
}

impl Db<'_> {
    /// Takes at once what `kind` waits for from the first of `keys` that has it.
    pub(crate) fn try_take_now(&mut self, keys: &[&[u8]], kind: &WaitKind) -> Result<Option<Got>> {
        match kind {
            WaitKind::ZPop { max, count } => Ok(self
                .zmpop(keys, *max, count.unwrap_or(1))?
                .map(|(k, v)| (k.into_boxed_slice(), Taken::Entries(v)))),
            _ => Ok(self
                .try_pop_now(keys, kind)?
                .map(|(k, v)| (k, Taken::Elem(v)))),
        }
    }

    /// Waiters still pending on the locked shards, each counted once.
    pub(crate) fn blocked_count(&self) -> usize {
        let mut seen: Vec<*const Waiter> = Vec::new();
        for (_, g) in self.guards.iter() {
            for q in g.blocked.queues.values() {
                for w in q {
                    let p = Arc::as_ptr(w);
                    if w.is_pending() && !seen.contains(&p) {
                        seen.push(p);
                    }
                }
            }
        }
        seen.len()
    }
}

impl Store {
    /// How many clients are blocked in BLPOP, BRPOP, BLMOVE, BLMPOP or a sorted-set pop right now (Redis's INFO
    /// `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        self.with_db(Lock::Global, |db| db.blocked_count())
    }

    /// Serves keys left over by [`Db::serve_blocked`], locking each source with the
    /// destination its front waiter needs.
    pub(crate) fn serve_deferred(&self, mut work: SmallVec<[KeyPair; 1]>) {
        while let Some((index, key, dst)) = work.pop() {
            let keys: [&[u8]; 2] = [&key, &dst];
            let Ok(store) = self.select(index) else {
                continue;
            };
            let mut db = store.lock(Lock::Keys(&keys));
            let next = db.serve_key(&key);
            let more = db.serve_blocked();
            let events = db.take_events();
            drop(db);
            if !events.is_empty() {
                self.inner.publish_events(events);
            }
            if let Some(d) = next {
                work.push((index, key, d));
            }
            work.extend(more.0);
        }
    }

    /// Pops at once if one of `keys` has an element, else registers a waiter (unless
    /// `may_block` is false), all under the same shard locks.
    pub(crate) fn pop_or_register(
        &self,
        keys: &[&[u8]],
        kind: WaitKind,
        may_block: bool,
    ) -> Attempt {
        let dst: Option<Box<[u8]>> = match &kind {
            WaitKind::Move { dst, .. } => Some(dst.clone()),
            WaitKind::Pop(_) | WaitKind::MPop { .. } | WaitKind::ZPop { .. } => None,
        };
        let mut lock_keys: SmallVec<[&[u8]; 4]> = keys.iter().copied().collect();
        lock_keys.extend(dst.as_deref());
        self.with_db(Lock::Keys(&lock_keys), |db| {
            match db.try_take_now(keys, &kind) {
                Err(e) => return Attempt::Done(Err(e)),
                Ok(Some(served)) => return Attempt::Done(Ok(served)),
                Ok(None) => {}
            }
            if !may_block {
                return Attempt::Empty;
            }
            let w = Waiter::new(keys, kind);
            db.register(&w);
            Attempt::Waiting(w)
        })
    }

    fn unregister(&self, waiter: &Arc<Waiter>) {
        let keys: SmallVec<[&[u8]; 4]> = waiter.keys.iter().map(|k| &**k).collect();
        self.with_db(Lock::Keys(&keys), |db| db.unregister(waiter));
    }

    /// Gives back an element a waiter received but never returned (its future was dropped):
    /// it goes back to the end it came from and waiters are served again.
    fn give_back(&self, waiter: &Waiter, served: Served) {
        let Ok((key, taken)) = served else {
            return;
        };
        match (&waiter.kind, taken) {
            (WaitKind::Pop(end), Taken::Elem(value)) => self.with_key(&key, |db| {
                if db.list_check(&key).is_ok() {
                    db.list_push_one(&key, value, *end);
                }
            }),
            // Pushed back in reverse popping order, so the list reads as before.
            (WaitKind::MPop { end, .. }, Taken::Elem(value)) => self.with_key(&key, |db| {
                if db.list_check(&key).is_ok() {
                    for v in unframe(&value).into_iter().rev() {
                        db.list_push_one(&key, v, *end);
                    }
                }
            }),
            (WaitKind::ZPop { .. }, Taken::Entries(entries)) => self.with_key(&key, |db| {
                db.zset_give_back(&key, entries);
            }),
            _ => {}
        }
    }

    /// Blocks the calling thread: served, `None` on timeout (`timeout` `None` waits forever).
    pub(crate) fn block_sync(
        &self,
        keys: &[&[u8]],
        kind: WaitKind,
        timeout: Option<Duration>,
    ) -> Result<Option<Got>> {
        let deadline = Deadline::after(&self.inner.clock, timeout);
        match self.pop_or_register(keys, kind, true) {
            Attempt::Done(s) => s.map(Some),
            Attempt::Empty => Ok(None),
            Attempt::Waiting(w) => {
                let r = w.wait_sync(&self.inner.clock, deadline);
                self.unregister(&w);
                r.transpose()
            }
        }
    }

    /// The future form of [`Store::block_sync`].
    pub(crate) fn block_async(
        &self,
        keys: Vec<Box<[u8]>>,
        kind: WaitKind,
        timeout: Option<Duration>,
    ) -> BlockFuture {
        BlockFuture {
            store: self.clone(),
            keys,
            kind: Some(kind),
            timeout,
            deadline: Deadline::Never,
            waiter: None,
            watch: None,
        }
    }
}

/// A blocking pop in progress as a future. Dropping it before it completes cancels the wait;
/// an element handed to it that it never returned goes back to its list.
pub(crate) struct BlockFuture {
    store: Store,
    keys: Vec<Box<[u8]>>,
    kind: Option<WaitKind>,
    timeout: Option<Duration>,
    deadline: Deadline,
    waiter: Option<Arc<Waiter>>,
    watch: Option<DeadlineWatch>,
}

impl Future for BlockFuture {
    type Output = Result<Option<Got>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(kind) = this.kind.take() {
            this.deadline = Deadline::after(&this.store.inner.clock, this.timeout);
            let keys: SmallVec<[&[u8]; 4]> = this.keys.iter().map(|k| &**k).collect();
            match this.store.pop_or_register(&keys, kind, true) {
                Attempt::Done(s) => return Poll::Ready(s.map(Some)),
                Attempt::Empty => return Poll::Ready(Ok(None)),
                Attempt::Waiting(w) => {
                    let me: Arc<dyn Notify> = w.clone();
                    this.watch = Some(DeadlineWatch::new(
                        &this.store.inner.clock,
                        this.deadline,
                        Arc::downgrade(&me),
                        true,
                    ));
                    this.waiter = Some(w);
                }
            }
        }
        let Some(w) = this.waiter.as_ref() else {
            return Poll::Ready(Ok(None));
        };
        let r = {
            let mut cell = w.cell.lock();
            let r = w.check(&mut cell, &this.store.inner.clock, this.deadline);
            if r.is_pending() {
                cell.waker = Some(cx.waker().clone());
            }
            r
        };
        match r {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                this.watch = None;
                if let Some(w) = this.waiter.take() {
                    this.store.unregister(&w);
                }
                Poll::Ready(r.transpose())
            }
        }
    }
}

impl Drop for BlockFuture {
    fn drop(&mut self) {
        self.watch = None;
        if let Some(w) = self.waiter.take() {
            let late = w.abandon();
            self.store.unregister(&w);
            if let Some(s) = late {
                self.store.give_back(&w, s);
            }
        }
    }
}

/// A typed timeout: zero blocks forever, as in Redis.
pub(crate) fn typed_timeout(t: Duration) -> Option<Duration> {
    if t.is_zero() {
        None
    } else {
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_whole_ms() {
        assert_eq!(ceil_ms(Duration::from_micros(1)), 1);
        assert_eq!(ceil_ms(Duration::from_millis(5)), 5);
        assert_eq!(ceil_ms(Duration::from_micros(5001)), 6);
        assert_eq!(typed_timeout(Duration::ZERO), None);
    }

    #[test]
    fn manual_deadlines() {
        let m = crate::ManualClock::new(1000);
        let c = m.clock();
        let d = Deadline::after(&c, Some(Duration::from_millis(100)));
        assert!(!d.passed(&c));
        m.advance(Duration::from_millis(99));
        assert!(!d.passed(&c));
        m.advance(Duration::from_millis(1));
        assert!(d.passed(&c));
        assert!(!Deadline::after(&c, None).passed(&c));
        assert!(!Deadline::after(&c, Some(Duration::MAX)).passed(&c));
    }

    #[test]
    fn a_waiter_is_served_once() {
        let w = Waiter::new(&[b"a", b"b", b"a"], WaitKind::Pop(ListEnd::Left));
        assert_eq!(w.keys.len(), 2);
        assert!(w.try_serve(|| Some(Ok((b"a"[..].into(), Taken::Elem(b"x".to_vec()))))));
        assert!(!w.try_serve(|| panic!("a served waiter takes nothing more")));
        assert!(!w.is_pending());
        let got = w.abandon().unwrap().unwrap();
        assert_eq!(got.1, Taken::Elem(b"x".to_vec()));
        assert!(w.abandon().is_none());
    }

    #[test]
    fn frames_round_trip() {
        let items = vec![b"".to_vec(), b"ab".to_vec(), vec![0u8; 300]];
        assert_eq!(unframe(&frame(&items)), items);
        // A cut frame yields what is there.
        let f = frame(&[b"abcd".to_vec()]);
        assert_eq!(unframe(&f[..6]), vec![b"ab".to_vec()]);
    }

    #[test]
    fn a_dropped_mpop_future_gives_its_elements_back_in_order() {
        let store = Store::new();
        let kind = WaitKind::MPop {
            end: ListEnd::Left,
            count: 2,
        };
        let mut fut = Box::pin(store.block_async(vec![Box::from(&b"l"[..])], kind, None));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        store.rpush("l", &["a", "b", "c"]).unwrap();
        assert_eq!(store.llen("l").unwrap(), 1);
        drop(fut);
        let want: Vec<Vec<u8>> = vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()];
        assert_eq!(store.lrange("l", 0, -1).unwrap(), want);
    }
}
