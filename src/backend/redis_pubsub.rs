//! [`PubSub`] on a Redis server: a dedicated connection in subscribed mode.
//!
//! # Design
//!
//! A subscribed connection carries unsolicited messages between confirmations, so it cannot
//! come from the backend's pool and is never returned to it. It speaks RESP2 over its own
//! socket with its own read buffer instead of the `redis` crate's connection: a receive that
//! times out leaves a partly read message in the buffer, to be completed by the next read,
//! where the crate's connection would skip the next reply after a timeout. Messages that
//! arrive while a (un)subscription waits for its confirmations are queued and delivered
//! first, so the order of messages is the order the server sent them.
//!
//! [`PubSub::receive_async`] runs the wait on its own thread (the connection's reads are
//! blocking) in short slices, so that a dropped future releases the connection within one
//! slice; a message read after the future was dropped goes back to the front of the queue.
//!
//! On a cluster, the subscription connects to the primary that serves slot 0's range
//! (the first primary), and [`RedisBackend`](super::RedisBackend) publishes through that
//! node too, so that PUBLISH counts the backend's subscribers as a single server would
//! (Redis Cluster forwards every message to every node; the count is the receiving node's).

use super::{BoxFuture, PubSub};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::pubsub::Message;
use parking_lot::Mutex;
use std::collections::{HashSet, VecDeque};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long one slice of an async receive waits before checking that its future is alive.
const ASYNC_SLICE: Duration = Duration::from_millis(50);

/// Where and how to open a subscription connection.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
}

/// A subscription over its own connection. See the module documentation.
pub(crate) struct RedisSubscription {
    conn: Arc<Mutex<Conn>>,
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    addr: String,
    response_timeout: Duration,
    pending: VecDeque<Message>,
    channels: HashSet<Vec<u8>>,
    patterns: HashSet<Vec<u8>>,
    /// Set when the connection failed; every later call fails with it.
    broken: Option<String>,
}

fn io(addr: &str, e: impl std::fmt::Display) -> Error {
    Error::Io(format!("redis subscription at {addr}: {e}"))
}

impl RedisSubscription {
    pub(crate) fn open(t: &Target) -> Result<RedisSubscription> {
        let addr = format!("{}:{}", t.host, t.port);
        let sock = std::net::ToSocketAddrs::to_socket_addrs(&(t.host.as_str(), t.port))
            .map_err(|e| io(&addr, e))?
            .next()
            .ok_or_else(|| io(&addr, "no address"))?;
        let stream =
            TcpStream::connect_timeout(&sock, t.connect_timeout.max(Duration::from_millis(1)))
                .map_err(|e| Error::Io(format!("cannot connect to redis at {addr}: {e}")))?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            addr,
            response_timeout: t.response_timeout,
            pending: VecDeque::new(),
            channels: HashSet::new(),
            patterns: HashSet::new(),
            broken: None,
        };
        if let Some(password) = &t.password {
            let mut argv: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &t.username {
                argv.push(user.as_bytes());
            }
            argv.push(password.as_bytes());
            conn.send(&argv)?;
            match conn.read(Some(t.response_timeout))? {
                Some(Reply::Error(e)) => return Err(Error::from_reply_text(&e)),
                Some(_) => {}
                None => return Err(io(&conn.addr, "no reply to AUTH")),
            }
        }
        Ok(RedisSubscription {
            conn: Arc::new(Mutex::new(conn)),
        })
    }
}

impl Conn {
    fn check(&self) -> Result<()> {
        match &self.broken {
            Some(why) => Err(Error::Io(why.clone())),
            None => Ok(()),
        }
    }

    fn fail(&mut self, e: impl std::fmt::Display) -> Error {
        let text = format!("redis subscription at {}: {e}", self.addr);
        self.broken = Some(text.clone());
        Error::Io(text)
    }

    fn send(&mut self, argv: &[&[u8]]) -> Result<()> {
        self.check()?;
        let mut out = Vec::new();
        out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
        for a in argv {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        if let Err(e) = self.stream.write_all(&out) {
            return Err(self.fail(e));
        }
        Ok(())
    }

    /// One reply, waiting at most `timeout` (`None`: without limit) for more bytes; `None`
    /// when the time ran out. Bytes of a partly received reply stay buffered.
    fn read(&mut self, timeout: Option<Duration>) -> Result<Option<Reply>> {
        self.check()?;
        let deadline = timeout.map(|t| crate::clock::real_instant() + t);
        loop {
            match Reply::from_resp(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(Some(reply));
                }
                Ok(None) => {}
                Err(e) => return Err(self.fail(format!("invalid reply: {e}"))),
            }
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(crate::clock::real_instant());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    Some(left)
                }
                None => None,
            };
            if let Err(e) = self.stream.set_read_timeout(wait) {
                return Err(self.fail(e));
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(self.fail("connection closed")),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// A pushed message, or `None` for a reply that is not one.
    fn as_message(reply: &Reply) -> Option<Message> {
        let Reply::Array(items) = reply else {
            return None;
        };
        let bulk = |i: usize| match items.get(i) {
            Some(Reply::Bulk(b)) => Some(b.clone()),
            _ => None,
        };
        match (bulk(0)?.as_slice(), items.len()) {
            (b"message", 3) => Some(Message::Message {
                channel: bulk(1)?,
                payload: bulk(2)?,
            }),
            (b"pmessage", 4) => Some(Message::PMessage {
                pattern: bulk(1)?,
                channel: bulk(2)?,
                payload: bulk(3)?,
            }),
            _ => None,
        }
    }

    /// Sends a (un)subscription command and reads its `expected` confirmations, queuing
    /// messages that arrive in between. Returns the last confirmation's count.
    fn confirm(&mut self, argv: &[&[u8]], kind: &[u8], expected: usize) -> Result<usize> {
        self.send(argv)?;
        let mut count = 0;
        let mut got = 0;
        while got < expected {
            let Some(reply) = self.read(Some(self.response_timeout))? else {
                let t = self.response_timeout.as_millis();
                return Err(self.fail(format!("no confirmation within {t} ms")));
            };
            if let Some(m) = Self::as_message(&reply) {
                self.pending.push_back(m);
                continue;
            }
            match reply {
                Reply::Error(e) => return Err(Error::from_reply_text(&e)),
                Reply::Array(items)
                    if items.len() == 3 && items[0] == Reply::Bulk(kind.to_vec()) =>
                {
                    if let Reply::Integer(n) = items[2] {
                        count = usize::try_from(n).unwrap_or(0);
                    }
                    got += 1;
                }
                other => return Err(self.fail(format!("unexpected reply {other:?}"))),
            }
        }
        Ok(count)
    }

    fn receive(&mut self, timeout: Option<Duration>) -> Result<Option<Message>> {
        if let Some(m) = self.pending.pop_front() {
            return Ok(Some(m));
        }
        let deadline = timeout.map(|t| crate::clock::real_instant() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(crate::clock::real_instant()));
            let Some(reply) = self.read(left)? else {
                return Ok(None);
            };
            if let Some(m) = Self::as_message(&reply) {
                return Ok(Some(m));
            }
            // Anything else pushed unasked (a late confirmation) carries no message.
        }
    }
}

fn command<'a>(name: &'a [u8], args: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut argv = Vec::with_capacity(args.len() + 1);
    argv.push(name);
    argv.extend_from_slice(args);
    argv
}

impl PubSub for RedisSubscription {
    fn subscribe(&mut self, channels: &[&[u8]]) -> Result<usize> {
        if channels.is_empty() {
            return Err(Error::WrongArity("subscribe".into()));
        }
        let mut c = self.conn.lock();
        let n = c.confirm(
            &command(b"SUBSCRIBE", channels),
            b"subscribe",
            channels.len(),
        )?;
        c.channels.extend(channels.iter().map(|ch| ch.to_vec()));
        Ok(n)
    }

    fn psubscribe(&mut self, patterns: &[&[u8]]) -> Result<usize> {
        if patterns.is_empty() {
            return Err(Error::WrongArity("psubscribe".into()));
        }
        let mut c = self.conn.lock();
        let n = c.confirm(
            &command(b"PSUBSCRIBE", patterns),
            b"psubscribe",
            patterns.len(),
        )?;
        c.patterns.extend(patterns.iter().map(|p| p.to_vec()));
        Ok(n)
    }

    fn unsubscribe(&mut self, channels: &[&[u8]]) -> Result<usize> {
        let mut c = self.conn.lock();
        // Redis confirms each channel named, or each one subscribed (at least one reply).
        let expected = if channels.is_empty() {
            c.channels.len().max(1)
        } else {
            channels.len()
        };
        let n = c.confirm(&command(b"UNSUBSCRIBE", channels), b"unsubscribe", expected)?;
        if channels.is_empty() {
            c.channels.clear();
        } else {
            for ch in channels {
                c.channels.remove(*ch);
            }
        }
        Ok(n)
    }

    fn punsubscribe(&mut self, patterns: &[&[u8]]) -> Result<usize> {
        let mut c = self.conn.lock();
        let expected = if patterns.is_empty() {
            c.patterns.len().max(1)
        } else {
            patterns.len()
        };
        let n = c.confirm(
            &command(b"PUNSUBSCRIBE", patterns),
            b"punsubscribe",
            expected,
        )?;
        if patterns.is_empty() {
            c.patterns.clear();
        } else {
            for p in patterns {
                c.patterns.remove(*p);
            }
        }
        Ok(n)
    }

    fn receive(&mut self, timeout: Duration) -> Result<Option<Message>> {
        // A zero timeout still looks at what already arrived.
        self.conn
            .lock()
            .receive(Some(timeout.max(Duration::from_millis(1))))
    }

    fn receive_async(&mut self) -> BoxFuture<'static, Result<Message>> {
        let conn = self.conn.clone();
        super::spawn_cancellable(move |cancelled| loop {
            if cancelled.load(Ordering::SeqCst) {
                return Err(Error::Io("receive cancelled".into()));
            }
            let mut c = conn.lock();
            match c.receive(Some(ASYNC_SLICE)) {
                Ok(Some(m)) => {
                    if cancelled.load(Ordering::SeqCst) {
                        c.pending.push_front(m);
                        return Err(Error::Io("receive cancelled".into()));
                    }
                    return Ok(m);
                }
                Ok(None) => {}
                Err(e) => return Err(e),
            }
            drop(c);
            // Let a sync caller waiting for the lock in.
            std::thread::yield_now();
        })
    }
}
