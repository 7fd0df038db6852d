//! Pub/sub: PUBLISH, SUBSCRIBE/PSUBSCRIBE and their UNSUBSCRIBEs, PUBSUB introspection.
//!
//! # Design
//!
//! The store keeps one [`Hub`]: channel name -> subscribers, and distinct pattern ->
//! subscribers, behind a read-write lock. PUBLISH takes the read lock and appends the message
//! to each receiver's [`Mailbox`] before returning, so every subscriber sees the messages of
//! one publisher in publishing order, and the receiver count it returns is exact. A
//! subscriber matching by channel and by patterns gets one message per match, channel first,
//! as Redis counts and delivers them.
//!
//! A [`Subscription`] is the subscriber's own handle. Confirmations of (un)subscribing are
//! returned by the call that asked for them; messages are taken with
//! [`Subscription::receive`] (sync, with a timeout) or [`Subscription::receive_async`].
//!
//! # Buffer limit
//!
//! A slow subscriber cannot make the store grow without bound. Each mailbox holds at most
//! [`crate::Config::pubsub_buffer_bytes`] bytes of pending messages, counted as their RESP2
//! encoding (32 MB by default, Redis's `client-output-buffer-limit pubsub` hard limit). A
//! message that would take a mailbox past its limit closes the subscription instead, as
//! Redis disconnects such a client: pending messages are dropped, the subscription leaves
//! every channel and pattern, and every later call on it returns an [`Error::Io`] saying so.
//! The message that overflowed is still counted by PUBLISH, as Redis counts it.

use super::blocking::{Deadline, DeadlineWatch};
use super::Store;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::wait::{spin_until, Notify};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Redis's `client-output-buffer-limit pubsub` hard limit: 32 MB.
pub const DEFAULT_PUBSUB_BUFFER_BYTES: usize = 32 * 1024 * 1024;

/// A message delivered to a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Published to a channel the subscription subscribed to.
    Message {
        /// The channel.
        channel: Vec<u8>,
        /// The message.
        payload: Vec<u8>,
    },
    /// Published to a channel matching a pattern the subscription subscribed to.
    PMessage {
        /// The pattern that matched.
        pattern: Vec<u8>,
        /// The channel.
        channel: Vec<u8>,
        /// The message.
        payload: Vec<u8>,
    },
}

impl Message {
    /// The RESP2 shape Redis pushes: `["message", channel, payload]` or
    /// `["pmessage", pattern, channel, payload]`.
    pub fn to_reply(&self) -> Reply {
        match self {
            Message::Message { channel, payload } => Reply::Array(vec![
                Reply::bulk("message"),
                Reply::bulk(channel),
                Reply::bulk(payload),
            ]),
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => Reply::Array(vec![
                Reply::bulk("pmessage"),
                Reply::bulk(pattern),
                Reply::bulk(channel),
                Reply::bulk(payload),
            ]),
        }
    }

    /// The channel it was published to.
    pub fn channel(&self) -> &[u8] {
        match self {
            Message::Message { channel, .. } | Message::PMessage { channel, .. } => channel,
        }
    }

    /// The message.
    pub fn payload(&self) -> &[u8] {
        match self {
            Message::Message { payload, .. } | Message::PMessage { payload, .. } => payload,
        }
    }

    /// Bytes of its RESP2 encoding, which is what the buffer limit counts.
    fn resp_len(&self) -> usize {
        fn bulk(n: usize) -> usize {
            let mut digits = 1;
            let mut m = n;
            while m >= 10 {
                m /= 10;
                digits += 1;
            }
            1 + digits + 2 + n + 2
        }
        match self {
            Message::Message { channel, payload } => {
                4 + bulk(7) + bulk(channel.len()) + bulk(payload.len())
            }
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => 4 + bulk(8) + bulk(pattern.len()) + bulk(channel.len()) + bulk(payload.len()),
        }
    }
}

struct MailState {
    queue: VecDeque<Message>,
    bytes: usize,
    closed: bool,
    waker: Option<Waker>,
}

/// A subscription's queue of undelivered messages.
pub(crate) struct Mailbox {
    id: u64,
    limit: usize,
    state: Mutex<MailState>,
    cv: Condvar,
    /// Whether the queue may hold a message or the mailbox was closed (set under the lock
    /// when one is delivered, cleared when the last is taken), for a spinning receiver.
    mail: AtomicBool,
}

impl Notify for Mailbox {
    fn notify(&self) {
        let waker = self.state.lock().waker.take();
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Mailbox {
    /// Appends `msg`; returns false when this closed the mailbox (it went over its limit).
    fn deliver(&self, msg: Message) -> bool {
        let size = msg.resp_len();
        let waker = {
            let mut s = self.state.lock();
            if s.closed {
                return true;
            }
            if s.bytes.saturating_add(size) > self.limit {
                s.closed = true;
                s.queue = VecDeque::new();
                s.bytes = 0;
                self.mail.store(true, Ordering::Release);
                let w = s.waker.take();
                drop(s);
                self.cv.notify_all();
                if let Some(w) = w {
                    w.wake();
                }
                return false;
            }
            s.bytes += size;
            s.queue.push_back(msg);
            self.mail.store(true, Ordering::Release);
            s.waker.take()
        };
        self.cv.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
        true
    }

    fn closed_error(&self) -> Error {
        Error::Io(format!(
            "pub/sub subscription closed: its pending messages exceeded the buffer limit of {} bytes",
            self.limit
        ))
    }

    fn take(&self, s: &mut MailState) -> Poll<Result<Message>> {
        if s.closed {
            return Poll::Ready(Err(self.closed_error()));
        }
        match s.queue.pop_front() {
            Some(m) => {
                s.bytes -= m.resp_len();
                if s.queue.is_empty() {
                    self.mail.store(false, Ordering::Relaxed);
                }
                Poll::Ready(Ok(m))
            }
            None => Poll::Pending,
        }
    }
}

#[derive(Default)]
struct HubState {
    channels: HashMap<Vec<u8>, Vec<Arc<Mailbox>>>,
    /// Distinct patterns in first-subscribed order, each with its subscribers.
    patterns: Vec<(Vec<u8>, Vec<Arc<Mailbox>>)>,
}

/// The store's channels and patterns.
#[derive(Default)]
pub(crate) struct Hub {
    state: RwLock<HubState>,
    next_id: AtomicU64,
}

impl Hub {
    /// PUBLISH: the number of deliveries.
    pub(crate) fn publish(&self, channel: &[u8], payload: &[u8]) -> usize {
        let mut receivers = 0;
        let mut overflowed: Vec<Arc<Mailbox>> = Vec::new();
        {
            let st = self.state.read();
            if let Some(subs) = st.channels.get(channel) {
                for m in subs {
                    receivers += 1;
                    let msg = Message::Message {
                        channel: channel.to_vec(),
                        payload: payload.to_vec(),
                    };
                    if !m.deliver(msg) {
                        overflowed.push(m.clone());
                    }
                }
            }
            for (pattern, subs) in &st.patterns {
                if !crate::glob::glob_match(pattern, channel) {
                    continue;
                }
                for m in subs {
                    receivers += 1;
                    let msg = Message::PMessage {
                        pattern: pattern.clone(),
                        channel: channel.to_vec(),
                        payload: payload.to_vec(),
                    };
                    if !m.deliver(msg) {
                        overflowed.push(m.clone());
                    }
                }
            }
        }
        if !overflowed.is_empty() {
            let mut st = self.state.write();
            for m in overflowed {
                st.drop_mailbox(m.id);
            }
        }
        receivers
    }

    /// PUBSUB CHANNELS [pattern].
    pub(crate) fn channels(&self, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let st = self.state.read();
        st.channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::glob_match(p, c)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB: subscribers of each channel (patterns not counted).
    pub(crate) fn numsub(&self, channels: &[&[u8]]) -> Vec<(Vec<u8>, usize)> {
        let st = self.state.read();
        channels
            .iter()
            .map(|c| (c.to_vec(), st.channels.get(*c).map_or(0, Vec::len)))
            .collect()
    }

    /// PUBSUB NUMPAT: distinct patterns.
    pub(crate) fn numpat(&self) -> usize {
        self.state.read().patterns.len()
    }
}

impl HubState {
    fn drop_mailbox(&mut self, id: u64) {
        self.channels.retain(|_, subs| {
            subs.retain(|m| m.id != id);
            !subs.is_empty()
        });
        self.patterns.retain_mut(|(_, subs)| {
            subs.retain(|m| m.id != id);
            !subs.is_empty()
        });
    }
}

/// A subscriber: the pub/sub half of a Redis connection in subscribed state.
///
/// It only offers pub/sub operations. Dropping it unsubscribes from everything.
///
/// ```
/// use sketchstore::{Message, Store};
/// use std::time::Duration;
/// let store = Store::new();
/// let mut sub = store.subscriber()?;
/// assert_eq!(sub.subscribe(&["news"]).unwrap(), 1);
/// assert_eq!(store.publish("news", "hi").unwrap(), 1);
/// let msg = sub.receive(Duration::from_secs(1)).unwrap().unwrap();
/// assert_eq!(msg, Message::Message { channel: b"news".to_vec(), payload: b"hi".to_vec() });
/// # Ok::<(), sketchstore::Error>(())
/// ```
pub struct Subscription {
    store: Store,
    mailbox: Arc<Mailbox>,
    channels: HashSet<Vec<u8>>,
    patterns: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("channels", &self.channels.len())
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

/// What (un)subscribing replies for one name: Redis's confirmation.
fn confirmation(kind: &str, name: Option<&[u8]>, count: usize) -> Reply {
    Reply::Array(vec![
        Reply::bulk(kind),
        Reply::opt_bulk(name),
        Reply::from(count),
    ])
}

impl Store {
    /// A new subscriber with no subscriptions. Never fails on the embedded store; a
    /// `Result` as [`Backend::subscriber`](crate::Backend::subscriber) answers one.
    pub fn subscriber(&self) -> crate::Result<Subscription> {
        Ok(self.new_subscription())
    }

    pub(crate) fn new_subscription(&self) -> Subscription {
        let hub = &self.inner.pubsub;
        let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
        Subscription {
            store: self.clone(),
            mailbox: Arc::new(Mailbox {
                id,
                limit: self.inner.settings.pubsub_buffer_bytes(),
                state: Mutex::new(MailState {
                    queue: VecDeque::new(),
                    bytes: 0,
                    closed: false,
                    waker: None,
                }),
                cv: Condvar::new(),
                mail: AtomicBool::new(false),
            }),
            channels: HashSet::new(),
            patterns: Vec::new(),
        }
    }

    /// `PUBLISH channel message`: how many subscriptions received it (a subscription matching
    /// by channel and by patterns counts once per match).
    pub fn publish(&self, channel: impl AsRef<[u8]>, message: impl AsRef<[u8]>) -> Result<usize> {
        Ok(self
            .inner
            .pubsub
            .publish(channel.as_ref(), message.as_ref()))
    }

    /// `PUBSUB CHANNELS [pattern]`: channels with at least one subscriber, in no particular
    /// order.
    pub fn pubsub_channels(&self, pattern: Option<&[u8]>) -> Result<Vec<Vec<u8>>> {
        Ok(self.inner.pubsub.channels(pattern))
    }

    /// `PUBSUB NUMSUB channel ...`: each channel with its number of subscribers.
    pub fn pubsub_numsub<C: AsRef<[u8]>>(&self, channels: &[C]) -> Result<Vec<(Vec<u8>, usize)>> {
        let c: Vec<&[u8]> = channels.iter().map(AsRef::as_ref).collect();
        Ok(self.inner.pubsub.numsub(&c))
    }

    /// `PUBSUB NUMPAT`: the number of distinct subscribed patterns.
    pub fn pubsub_numpat(&self) -> Result<usize> {
        Ok(self.inner.pubsub.numpat())
    }
}

impl Subscription {
    fn hub(&self) -> &Hub {
        &self.store.inner.pubsub
    }

    fn live(&self) -> Result<()> {
        if self.mailbox.state.lock().closed {
            Err(self.mailbox.closed_error())
        } else {
            Ok(())
        }
    }

    /// Channels plus patterns subscribed to, the count Redis's confirmations carry.
    pub fn subscription_count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// How many channels are subscribed to.
    pub(crate) fn channels_len(&self) -> usize {
        self.channels.len()
    }

    /// The channels subscribed to, in no particular order.
    pub fn channels(&self) -> Vec<Vec<u8>> {
        self.channels.iter().cloned().collect()
    }

    /// The patterns subscribed to, in subscription order.
    pub fn patterns(&self) -> &[Vec<u8>] {
        &self.patterns
    }

    fn subscribe_one(&mut self, channel: &[u8]) -> Reply {
        if !self.channels.contains(channel) {
            let mut st = self.hub().state.write();
            st.channels
                .entry(channel.to_vec())
                .or_default()
                .push(self.mailbox.clone());
            drop(st);
            self.channels.insert(channel.to_vec());
        }
        confirmation("subscribe", Some(channel), self.subscription_count())
    }

    fn psubscribe_one(&mut self, pattern: &[u8]) -> Reply {
        if !self.patterns.iter().any(|p| p == pattern) {
            let mut st = self.hub().state.write();
            match st.patterns.iter_mut().find(|(p, _)| p == pattern) {
                Some((_, subs)) => subs.push(self.mailbox.clone()),
                None => st
                    .patterns
                    .push((pattern.to_vec(), vec![self.mailbox.clone()])),
            }
            drop(st);
            self.patterns.push(pattern.to_vec());
        }
        confirmation("psubscribe", Some(pattern), self.subscription_count())
    }

    fn unsubscribe_one(&mut self, channel: &[u8]) -> Reply {
        if self.channels.remove(channel) {
            let id = self.mailbox.id;
            let mut st = self.hub().state.write();
            if let Some(subs) = st.channels.get_mut(channel) {
                subs.retain(|m| m.id != id);
                if subs.is_empty() {
                    st.channels.remove(channel);
                }
            }
        }
        confirmation("unsubscribe", Some(channel), self.subscription_count())
    }

    fn punsubscribe_one(&mut self, pattern: &[u8]) -> Reply {
        if let Some(i) = self.patterns.iter().position(|p| p == pattern) {
            self.patterns.remove(i);
            let id = self.mailbox.id;
            let mut st = self.hub().state.write();
            if let Some(i) = st.patterns.iter().position(|(p, _)| p == pattern) {
                let subs = &mut st.patterns[i].1;
                subs.retain(|m| m.id != id);
                if subs.is_empty() {
                    st.patterns.remove(i);
                }
            }
        }
        confirmation("punsubscribe", Some(pattern), self.subscription_count())
    }

    /// The confirmations of SUBSCRIBE: one `["subscribe", channel, count]` per channel.
    pub(crate) fn subscribe_replies<C: AsRef<[u8]>>(&mut self, channels: &[C]) -> Vec<Reply> {
        channels
            .iter()
            .map(|c| self.subscribe_one(c.as_ref()))
            .collect()
    }

    pub(crate) fn psubscribe_replies<C: AsRef<[u8]>>(&mut self, patterns: &[C]) -> Vec<Reply> {
        patterns
            .iter()
            .map(|p| self.psubscribe_one(p.as_ref()))
            .collect()
    }

    pub(crate) fn unsubscribe_replies<C: AsRef<[u8]>>(&mut self, channels: &[C]) -> Vec<Reply> {
        if !channels.is_empty() {
            return channels
                .iter()
                .map(|c| self.unsubscribe_one(c.as_ref()))
                .collect();
        }
        let all: Vec<Vec<u8>> = self.channels.iter().cloned().collect();
        if all.is_empty() {
            return vec![confirmation("unsubscribe", None, self.subscription_count())];
        }
        all.iter().map(|c| self.unsubscribe_one(c)).collect()
    }

    pub(crate) fn punsubscribe_replies<C: AsRef<[u8]>>(&mut self, patterns: &[C]) -> Vec<Reply> {
        if !patterns.is_empty() {
            return patterns
                .iter()
                .map(|p| self.punsubscribe_one(p.as_ref()))
                .collect();
        }
        let all = self.patterns.clone();
        if all.is_empty() {
            return vec![confirmation(
                "punsubscribe",
                None,
                self.subscription_count(),
            )];
        }
        all.iter().map(|p| self.punsubscribe_one(p)).collect()
    }

    /// `SUBSCRIBE channel [channel ...]`: the subscription count afterwards.
    pub fn subscribe<C: AsRef<[u8]>>(&mut self, channels: &[C]) -> Result<usize> {
        self.live()?;
        if channels.is_empty() {
            return Err(Error::WrongArity("subscribe".into()));
        }
        self.subscribe_replies(channels);
        Ok(self.subscription_count())
    }

    /// `PSUBSCRIBE pattern [pattern ...]` (Redis's glob rules): the count afterwards.
    pub fn psubscribe<P: AsRef<[u8]>>(&mut self, patterns: &[P]) -> Result<usize> {
        self.live()?;
        if patterns.is_empty() {
            return Err(Error::WrongArity("psubscribe".into()));
        }
        self.psubscribe_replies(patterns);
        Ok(self.subscription_count())
    }

    /// `UNSUBSCRIBE [channel ...]` (none: every channel): the count afterwards.
    pub fn unsubscribe<C: AsRef<[u8]>>(&mut self, channels: &[C]) -> Result<usize> {
        self.live()?;
        self.unsubscribe_replies(channels);
        Ok(self.subscription_count())
    }

    /// `PUNSUBSCRIBE [pattern ...]` (none: every pattern): the count afterwards.
    pub fn punsubscribe<P: AsRef<[u8]>>(&mut self, patterns: &[P]) -> Result<usize> {
        self.live()?;
        self.punsubscribe_replies(patterns);
        Ok(self.subscription_count())
    }

    /// The next message without waiting.
    pub fn try_receive(&self) -> Result<Option<Message>> {
        let mut s = self.mailbox.state.lock();
        match self.mailbox.take(&mut s) {
            Poll::Ready(r) => r.map(Some),
            Poll::Pending => Ok(None),
        }
    }

    /// The next message, waiting up to `timeout` (measured on the store's clock; zero does
    /// not wait). `Ok(None)` when none came in time.
    pub fn receive(&self, timeout: Duration) -> Result<Option<Message>> {
        let clock = &self.store.inner.clock;
        let deadline = Deadline::after(clock, Some(timeout));
        let me: Arc<dyn Notify> = self.mailbox.clone();
        let _watch = DeadlineWatch::new(clock, deadline, Arc::downgrade(&me), false);
        let mut s = self.mailbox.state.lock();
        let mut spun = false;
        loop {
            if let Poll::Ready(r) = self.mailbox.take(&mut s) {
                return r.map(Some);
            }
            if deadline.passed(clock) {
                return Ok(None);
            }
            if !spun {
                // Whatever the spin saw, check again under the lock before waiting: a
                // delivery between its last look and the relock has already notified.
                spun = true;
                let mail = &self.mailbox.mail;
                parking_lot::MutexGuard::unlocked(&mut s, || {
                    spin_until(|| mail.load(Ordering::Acquire))
                });
                continue;
            }
            match deadline {
                Deadline::Real(at) => {
                    self.mailbox.cv.wait_until(&mut s, at);
                }
                _ => self.mailbox.cv.wait(&mut s),
            }
        }
    }

    /// The next message, as a future that waits without blocking an executor thread.
    /// Bound it with the runtime's timeout if needed. One receive at a time: a second future
    /// polled at the same time takes the first one's wake-ups.
    pub fn receive_async(&self) -> impl Future<Output = Result<Message>> + Send + 'static {
        Receive {
            mailbox: self.mailbox.clone(),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.channels.is_empty() && self.patterns.is_empty() {
            return;
        }
        self.hub().state.write().drop_mailbox(self.mailbox.id);
    }
}

struct Receive {
    mailbox: Arc<Mailbox>,
}

impl Future for Receive {
    type Output = Result<Message>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.mailbox.state.lock();
        match self.mailbox.take(&mut s) {
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

    #[test]
    fn resp_len_is_the_encoding_length() {
        let m = Message::Message {
            channel: b"news".to_vec(),
            payload: vec![b'x'; 123],
        };
        assert_eq!(m.resp_len(), m.to_reply().to_resp().len());
        let p = Message::PMessage {
            pattern: b"n*".to_vec(),
            channel: b"news".to_vec(),
            payload: Vec::new(),
        };
        assert_eq!(p.resp_len(), p.to_reply().to_resp().len());
    }
}
