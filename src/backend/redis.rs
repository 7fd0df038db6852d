//! [`RedisBackend`]: the [`Backend`] trait on a real Redis server or Redis Cluster, built on
//! the `redis` crate (sync API, RESP2).
//!
//! # Connection model
//!
//! Calls are synchronous: they block the calling thread (an async caller wraps them in its
//! runtime's blocking pool). A backend owns a pool of connections. Every call takes one connection out of the pool for
//! its whole duration (command sent, reply read) and puts it back afterwards, so calls from
//! many threads never interleave on a socket and never wait for each other: a `BLPOP` that
//! blocks for ten seconds holds its own connection for those ten seconds while `GET`/`SET` on
//! other threads run on other connections. A call that finds the pool empty opens a new
//! connection; at most [`RedisOptions::max_idle`] idle connections are kept. The pool never
//! limits how many connections are open at once: that is the number of concurrent calls.
//!
//! Commands that change the state of their connection (`MULTI`, `WATCH`, `SUBSCRIBE` and the
//! other subscription commands, `MONITOR`, `SELECT`, `HELLO`, `AUTH`, `RESET`, `QUIT`,
//! `READONLY`/`READWRITE`, `CLIENT REPLY`/`CLIENT TRACKING`) are refused by
//! [`Backend::execute`] with [`Error::Io`]: a pooled connection cannot carry that state to the
//! next call. Transactions run through [`Backend::transaction`] and
//! [`Backend::transaction_with`], which keep one connection for `WATCH` ... `EXEC`;
//! subscriptions through [`Backend::subscriber`], which opens a connection of its own
//! (`super::redis_pubsub`).
//!
//! # Async forms
//!
//! [`Backend::blpop_async`] and [`Backend::brpop_async`] run the blocking call on a thread
//! of their own with a clone of the backend (one pooled connection for the wait), so no
//! executor thread ever waits on a socket. Dropping the future does not interrupt the
//! server-side wait: if an element is popped after the future was dropped, it is pushed back
//! to the end it came from. [`PubSub::receive_async`] works the same way on the
//! subscription's connection.
//!
//! # Bloom filters
//!
//! `bf_*` send RedisBloom's `BF.*` commands when the server has the module, and otherwise
//! emulate its scalable filters over plain Redis data, with the same sizing, hashing and
//! growth, so the same answers (false positives included), replies and error texts
//! (`super::bloom_emu` documents the key layout, the script and its atomicity). The backend
//! asks the server once (`COMMAND INFO BF.ADD`) unless [`RedisOptions::bloom`] says which.
//! An emulated filter is a hash (`TYPE` answers `hash`, not `MBbloom--`) plus one string per
//! sub-filter under keys sharing its slot; `BF.*` sent through [`Backend::execute`] are not
//! emulated.
//!
//! The cuckoo filter (`cf_*`) and the count-min sketch (`cms_*`) follow the same rule, with
//! the same answer from the server (RedisBloom brings all its families at once) and the same
//! [`RedisOptions::bloom`] setting: natively `CF.*`/`CMS.*`, else emulated with the same
//! fingerprints, buckets, kick-out walk and compaction (`super::cuckoo_emu`), or the same
//! columns, saturation and merge checks (`super::cms_emu`), over a hash of metadata and
//! strings under keys sharing its slot.
//!
//! # Replies
//!
//! Replies are RESP2 and are converted to [`Reply`] one to one; a Redis error reply becomes
//! `Reply::Error` with the exact line Redis sent (without the `-`). The `redis` crate reads
//! the null bulk string (`$-1`) and the null array (`*-1`) as the same value, so the backend
//! restores `Reply::NilArray` from the command: blocking pops and their timeouts, `LMPOP`,
//! `ZMPOP`, `XREAD`/`XREADGROUP`, `LPOP`/`RPOP` with a count. Error lines that are not UTF-8
//! (Redis echoes argument bytes in some of them) cannot be read by the crate and come back as
//! [`Error::Io`]. On a cluster the crate raises an error nested in an array (a script that
//! returns an error in a table) as the error of the whole command.
//!
//! # Timeouts
//!
//! Opening a connection is bounded by [`RedisOptions::connect_timeout`], including every
//! retry. A reply must arrive within [`RedisOptions::response_timeout`]; for a blocking
//! command (`BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`, `BLMPOP`, `BZPOPMIN`, `BZPOPMAX`,
//! `BZMPOP`, `XREAD`/`XREADGROUP` with `BLOCK`, `WAIT`, `WAITAOF`) the limit is the
//! command's own timeout plus `response_timeout`, and none for a timeout of 0 (block forever,
//! as Redis does). A connection whose reply did not come in time is closed, never reused.
//!
//! # Reconnection
//!
//! A connection that failed in any way other than a Redis error reply is dropped. When the
//! failure shows a connection closed under an idle pooled connection (the server restarted or
//! dropped idle clients), every idle connection is dropped too and the call is sent again
//! once on a new connection: the command may be applied twice only if the server ran it and
//! then closed the connection before replying. A failed attempt to open a connection is
//! retried up to [`RedisOptions::reconnect_attempts`] times with doubling backoff from
//! [`RedisOptions::reconnect_backoff`], all within `connect_timeout`; then the call fails with
//! [`Error::Io`] naming the address. There is no background task: the next call after the
//! server is back simply works.
//!
//! # Cluster
//!
//! [`RedisBackend::cluster`] uses the crate's cluster client: a command goes to the primary
//! that owns its key's slot, following `MOVED`/`ASK` redirections, and keyless commands are
//! fanned out as the crate defines (`DBSIZE` sums, `KEYS` concatenates, `FLUSHALL` runs on
//! every primary). Unlike the crate's default, `MGET`, `MSET`, `DEL`, `EXISTS`, `UNLINK` and
//! `TOUCH` with keys in different slots are not split across nodes: they go to the first
//! key's node, which answers `CROSSSLOT Keys in request don't hash to the same slot`, as for
//! every other multi-key command, so that a command is atomic on a cluster or fails. Keys
//! that must be used together need a common hash tag (`{session:42}:views`).
//! [`Backend::scan`] walks the primaries one after another (ordered by their first slot) with
//! a cursor that carries the node's index in its low 6 bits; a raw `SCAN` through
//! [`Backend::execute`] is refused, since its cursor would belong to no node in particular.
//! A transaction runs on the primary of the slot of its first watched key (or else its first
//! command's first argument) over a direct connection to that node. Subscriptions connect to
//! the primary serving the lowest slots, and PUBLISH goes through that node too, so that its
//! count is the number of this backend's subscribers that received the message (a cluster
//! forwards every message to every node, but PUBLISH counts the receiving node's
//! subscribers only).

use super::bloom_emu::BloomEmulation;
use super::cms_emu::CmsEmulation;
use super::cuckoo_emu::CuckooEmulation;
use super::redis_pubsub::{RedisSubscription, Target};
use super::{spawn_cancellable, Backend, BoxFuture, Popped, PubSub, TxnBuilder};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::{BfInsertOptions, BloomOptions, CfInsertOptions, CfReserveOptions, ScanPage};
use crate::types::bloom::BloomInfo;
use crate::types::cms::CmsInfo;
use crate::types::cuckoo::{CuckooInfo, InsertOutcome};
use ::redis::cluster::{ClusterClient, ClusterConnection};
use ::redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use ::redis::{Client, Cmd, ConnectionLike, ErrorKind, RedisError, RedisResult, Value};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Timeouts, reconnection and pooling of a [`RedisBackend`].
///
/// ```no_run
/// use sketchstore::{Backend, RedisBackend, RedisOptions};
/// use std::time::Duration;
/// let mut opts = RedisOptions::default();
/// opts.connect_timeout = Duration::from_millis(500);
/// let redis = RedisBackend::connect_with("redis://127.0.0.1:6379", opts)?;
/// redis.set(b"greeting", b"hello")?;
/// # Ok::<(), sketchstore::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RedisOptions {
    /// The longest time opening a connection may take, retries included. Default 2 s.
    pub connect_timeout: Duration,
    /// The longest wait for a reply beyond a blocking command's own timeout. Default 10 s.
    pub response_timeout: Duration,
    /// How many times a refused or failed connection attempt is retried. Default 3.
    pub reconnect_attempts: u32,
    /// The pause before the first retry, doubled before each next one. Default 50 ms.
    pub reconnect_backoff: Duration,
    /// How many idle connections are kept for reuse. Default 16.
    pub max_idle: usize,
    /// Whether `BF.*`, `CF.*` and `CMS.*` run natively or are emulated over plain Redis
    /// data (see [`BloomMode`]). Default [`BloomMode::Detect`].
    pub bloom: BloomMode,
}

/// How a [`RedisBackend`] runs the Bloom filter, cuckoo filter and count-min sketch methods
/// (`bf_*`, `cf_*`, `cms_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BloomMode {
    /// Asks the server once (`COMMAND INFO BF.ADD`) whether it has RedisBloom: native
    /// commands if it does, the emulation otherwise.
    #[default]
    Detect,
    /// Always sends `BF.*`, `CF.*` and `CMS.*` commands (the server has RedisBloom).
    Native,
    /// Always emulates RedisBloom's filters over a hash and strings with a Lua script, same
    /// answers as RedisBloom (see the module documentation, "Bloom filters").
    Emulate,
}

impl Default for RedisOptions {
    fn default() -> RedisOptions {
        RedisOptions {
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(10),
            reconnect_attempts: 3,
            reconnect_backoff: Duration::from_millis(50),
            max_idle: 16,
            bloom: BloomMode::Detect,
        }
    }
}

/// The [`Backend`] on a Redis server or cluster. Cheap to clone (one shared pool); safe to
/// use from any number of threads. See the module documentation.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("addr", &self.inner.main.addr)
            .field("cluster", &self.inner.cluster.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner {
    opts: RedisOptions,
    main: Pool,
    cluster: Option<ClusterState>,
    /// 0: not asked yet, 1: RedisBloom present, 2: emulated.
    bloom_native: AtomicU8,
    bloom: BloomEmulation,
    cuckoo: CuckooEmulation,
    cms: CmsEmulation,
}

/// What only a cluster backend has: direct connections to single nodes (for transactions and
/// SCAN) and the slot map that says which node that is.
struct ClusterState {
    /// `redis://` plus the seed's user info, to which a node's `host:port` is appended.
    url_prefix: String,
    slots: RwLock<Vec<SlotRange>>,
    nodes: Mutex<HashMap<String, Arc<Pool>>>,
}

#[derive(Clone, Debug)]
struct SlotRange {
    start: u16,
    end: u16,
    addr: String,
}

enum Opener {
    Single(Client),
    Cluster(ClusterClient),
}

enum Conn {
    Single(::redis::Connection),
    Cluster(Box<ClusterConnection>),
}

struct Pooled {
    conn: Conn,
    read_timeout: Option<Duration>,
}

struct Pool {
    opener: Opener,
    /// For error messages: `host:port`, or the seeds of a cluster, never credentials.
    addr: String,
    idle: Mutex<Vec<Pooled>>,
}

impl Conn {
    fn set_read_timeout(&self, d: Option<Duration>) -> RedisResult<()> {
        match self {
            Conn::Single(c) => c.set_read_timeout(d),
            Conn::Cluster(c) => c.set_read_timeout(d),
        }
    }
}

impl Pool {
    fn new(opener: Opener, addr: String) -> Pool {
        Pool {
            opener,
            addr,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self, opts: &RedisOptions) -> Result<Pooled> {
        let start = crate::clock::real_instant();
        let mut backoff = opts.reconnect_backoff;
        let mut attempt = 0;
        loop {
            let left = opts.connect_timeout.saturating_sub(start.elapsed());
            let result = match &self.opener {
                Opener::Single(client) => client
                    .get_connection_with_timeout(left.max(Duration::from_millis(1)))
                    .map(Conn::Single),
                Opener::Cluster(client) => {
                    client.get_connection().map(|c| Conn::Cluster(Box::new(c)))
                }
            };
            let err = match result {
                Ok(conn) => {
                    return Ok(Pooled {
                        conn,
                        read_timeout: None,
                    })
                }
                Err(e) => e,
            };
            let elapsed = start.elapsed();
            if attempt >= opts.reconnect_attempts || elapsed + backoff >= opts.connect_timeout {
                return Err(Error::Io(format!(
                    "cannot connect to redis at {} ({} attempts in {} ms): {err}",
                    self.addr,
                    attempt + 1,
                    elapsed.as_millis()
                )));
            }
            std::thread::sleep(backoff);
            backoff = backoff.saturating_mul(2);
            attempt += 1;
        }
    }

    fn checkin(&self, p: Pooled, opts: &RedisOptions) {
        let mut idle = self.idle.lock();
        if idle.len() < opts.max_idle {
            idle.push(p);
        }
    }

    /// Runs `f` on a connection of this pool with `read_timeout`. `f` turns Redis error
    /// replies into its `Ok` value, so an `Err` from it always means the connection failed.
    fn run<T>(
        &self,
        opts: &RedisOptions,
        read_timeout: Option<Duration>,
        mut f: impl FnMut(&mut Conn) -> RedisResult<T>,
    ) -> Result<T> {
        let pooled = self.idle.lock().pop();
        let (mut pooled, mut reused) = match pooled {
            Some(p) => (p, true),
            None => (self.open(opts)?, false),
        };
        loop {
            if pooled.read_timeout != read_timeout {
                if let Err(e) = pooled.conn.set_read_timeout(read_timeout) {
                    return Err(self.io_error(&e, read_timeout));
                }
                pooled.read_timeout = read_timeout;
            }
            match f(&mut pooled.conn) {
                Ok(v) => {
                    self.checkin(pooled, opts);
                    return Ok(v);
                }
                Err(e) => {
                    drop(pooled);
                    if reused && e.is_connection_dropped() {
                        // The other idle connections most likely died with this one.
                        self.idle.lock().clear();
                        pooled = self.open(opts)?;
                        reused = false;
                        continue;
                    }
                    return Err(self.io_error(&e, read_timeout));
                }
            }
        }
    }

    fn io_error(&self, e: &RedisError, read_timeout: Option<Duration>) -> Error {
        if e.is_timeout() {
            if let Some(t) = read_timeout {
                return Error::Io(format!(
                    "redis at {} did not reply within {} ms",
                    self.addr,
                    t.as_millis()
                ));
            }
        }
        Error::Io(format!("redis at {}: {e}", self.addr))
    }
}

impl RedisBackend {
    /// A backend on the Redis server at `url` (`redis://[user:password@]host:port[/db]`),
    /// with default options. Connects once to check that the server answers.
    pub fn connect(url: &str) -> Result<RedisBackend> {
        RedisBackend::connect_with(url, RedisOptions::default())
    }

    /// [`RedisBackend::connect`] with options.
    pub fn connect_with(url: &str, opts: RedisOptions) -> Result<RedisBackend> {
        let client = Client::open(url)
            .map_err(|e| Error::Io(format!("invalid redis url {}: {e}", redact(url))))?;
        let addr = client.get_connection_info().addr().to_string();
        let main = Pool::new(Opener::Single(client), addr);
        let first = main.open(&opts)?;
        main.checkin(first, &opts);
        Ok(RedisBackend {
            inner: Arc::new(Inner {
                opts,
                main,
                cluster: None,
                bloom_native: AtomicU8::new(0),
                bloom: BloomEmulation::default(),
                cuckoo: CuckooEmulation::default(),
                cms: CmsEmulation::default(),
            }),
        })
    }

    /// A backend on the Redis Cluster reachable through any of `nodes` (`redis://host:port`
    /// URLs), with default options. Connects once to learn the slot map.
    pub fn cluster(nodes: &[&str]) -> Result<RedisBackend> {
        RedisBackend::cluster_with(nodes, RedisOptions::default())
    }

    /// [`RedisBackend::cluster`] with options.
    pub fn cluster_with(nodes: &[&str], opts: RedisOptions) -> Result<RedisBackend> {
        let Some(first) = nodes.first() else {
            return Err(Error::Io("no cluster nodes given".into()));
        };
        let addr = nodes
            .iter()
            .map(|n| host_port(n))
            .collect::<Vec<_>>()
            .join(",");
        let client = ClusterClient::builder(nodes.iter().copied())
            .connection_timeout(opts.connect_timeout)
            .response_timeout(opts.response_timeout)
            .retries(opts.reconnect_attempts)
            .build()
            .map_err(|e| Error::Io(format!("invalid redis cluster nodes {addr}: {e}")))?;
        let main = Pool::new(Opener::Cluster(client), addr);
        let conn = main.open(&opts)?;
        main.checkin(conn, &opts);
        let backend = RedisBackend {
            inner: Arc::new(Inner {
                opts,
                main,
                cluster: Some(ClusterState {
                    url_prefix: url_prefix(first),
                    slots: RwLock::new(Vec::new()),
                    nodes: Mutex::new(HashMap::new()),
                }),
                bloom_native: AtomicU8::new(0),
                bloom: BloomEmulation::default(),
                cuckoo: CuckooEmulation::default(),
                cms: CmsEmulation::default(),
            }),
        };
        backend.refresh_slots()?;
        Ok(backend)
    }

    /// Whether this backend talks to a cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.cluster.is_some()
    }

    /// [`Backend::transaction`]: `WATCH watch...` (when `watch` is not empty), then `MULTI`,
    /// `commands` and `EXEC` on one connection. `Some(replies)` is EXEC's array, one reply
    /// per command (a command that failed while running is a `Reply::Error` in it); `None`
    /// means a watched key changed and nothing ran. A command rejected when queued (unknown,
    /// wrong arity) makes the whole call fail with Redis's `EXECABORT Transaction discarded
    /// because of previous errors.`; a failed `WATCH` fails with its own error before
    /// anything is queued.
    ///
    /// On a cluster every key must be in one slot; the transaction runs on that slot's
    /// primary, and keys on another node fail with `CROSSSLOT`.
    fn run_transaction(
        &self,
        watch: &[&[u8]],
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Option<Vec<Reply>>> {
        check_queueable(commands)?;
        let key = watch
            .first()
            .copied()
            .or_else(|| commands.first().and_then(|c| c.get(1)).map(Vec::as_slice));
        self.run_txn(watch, key, &mut |_| Ok(commands.to_vec()))
    }

    /// Runs a transaction on the node of `key`'s slot (any primary without a key).
    fn run_txn(
        &self,
        watch: &[&[u8]],
        key: Option<&[u8]>,
        build: TxnBuilder<'_>,
    ) -> Result<Option<Vec<Reply>>> {
        if self.inner.cluster.is_none() {
            return run_transaction(&self.inner.main, &self.inner.opts, watch, build)?.outcome;
        }
        let mut refreshed = false;
        loop {
            let target =
                match key {
                    Some(k) => self.slot_owner(key_slot(k))?,
                    None => self.primaries()?.into_iter().next().ok_or_else(|| {
                        Error::Io("the cluster has no primary serving slots".into())
                    })?,
                };
            let pool = self.node_pool(&target)?;
            let t = run_transaction(&pool, &self.inner.opts, watch, &mut *build)?;
            let Some(slot) = t.redirected else {
                return t.outcome;
            };
            if refreshed {
                return t.outcome;
            }
            self.refresh_slots()?;
            refreshed = true;
            if key.is_some_and(|k| self.slot_owner(key_slot(k)).ok().as_ref() != Some(&target)) {
                // The map was stale for our own slot: run again on the new owner.
                continue;
            }
            if self.slot_owner(slot)? != target {
                return Err(Error::other(CROSSSLOT));
            }
            return t.outcome;
        }
    }

    fn cluster_state(&self) -> &ClusterState {
        self.inner
            .cluster
            .as_ref()
            .expect("only called on a cluster backend")
    }

    fn refresh_slots(&self) -> Result<()> {
        let reply = self.execute(&[b"CLUSTER", b"SLOTS"])?;
        let Reply::Array(entries) = reply else {
            return Err(Error::Io(format!(
                "unexpected CLUSTER SLOTS reply {reply:?}"
            )));
        };
        let mut ranges = Vec::with_capacity(entries.len());
        for e in entries {
            let Reply::Array(parts) = e else { continue };
            let (Some(Reply::Integer(start)), Some(Reply::Integer(end)), Some(Reply::Array(node))) =
                (parts.first(), parts.get(1), parts.get(2))
            else {
                continue;
            };
            let (Some(Reply::Bulk(host)), Some(Reply::Integer(port))) = (node.first(), node.get(1))
            else {
                continue;
            };
            ranges.push(SlotRange {
                start: u16::try_from(*start).unwrap_or(0),
                end: u16::try_from(*end).unwrap_or(0),
                addr: format!("{}:{port}", String::from_utf8_lossy(host)),
            });
        }
        ranges.sort_by_key(|r| r.start);
        *self.cluster_state().slots.write() = ranges;
        Ok(())
    }

    fn slot_owner(&self, slot: u16) -> Result<String> {
        let find = |ranges: &[SlotRange]| {
            ranges
                .iter()
                .find(|r| r.start <= slot && slot <= r.end)
                .map(|r| r.addr.clone())
        };
        if let Some(a) = find(&self.cluster_state().slots.read()) {
            return Ok(a);
        }
        self.refresh_slots()?;
        find(&self.cluster_state().slots.read())
            .ok_or_else(|| Error::Io(format!("no cluster node serves slot {slot}")))
    }

    /// The primaries, each once, ordered by the first slot they serve.
    fn primaries(&self) -> Result<Vec<String>> {
        if self.cluster_state().slots.read().is_empty() {
            self.refresh_slots()?;
        }
        let mut out: Vec<String> = Vec::new();
        for r in self.cluster_state().slots.read().iter() {
            if !out.contains(&r.addr) {
                out.push(r.addr.clone());
            }
        }
        Ok(out)
    }

    fn node_pool(&self, addr: &str) -> Result<Arc<Pool>> {
        let state = self.cluster_state();
        let mut nodes = state.nodes.lock();
        if let Some(p) = nodes.get(addr) {
            return Ok(Arc::clone(p));
        }
        let url = format!("{}{addr}", state.url_prefix);
        let client = Client::open(url.as_str())
            .map_err(|e| Error::Io(format!("invalid node address {addr}: {e}")))?;
        let pool = Arc::new(Pool::new(Opener::Single(client), addr.to_owned()));
        nodes.insert(addr.to_owned(), Arc::clone(&pool));
        Ok(pool)
    }

    fn node_execute(&self, addr: &str, argv: &[&[u8]]) -> Result<Reply> {
        let cmd = build_cmd(argv);
        let timeout = Some(self.inner.opts.response_timeout);
        self.node_pool(addr)?
            .run(&self.inner.opts, timeout, |c| call(c, &cmd, None))
            .map(|r| reply_of(r, false))
    }

    fn cluster_scan(&self, cursor: u64, pattern: Option<&[u8]>, count: usize) -> Result<ScanPage> {
        const NODE_BITS: u32 = 6;
        let nodes = self.primaries()?;
        if nodes.len() > 1 << NODE_BITS {
            return Err(Error::Io(
                "SCAN supports clusters of at most 64 primaries".into(),
            ));
        }
        let index = usize::try_from(cursor & ((1 << NODE_BITS) - 1)).unwrap_or(usize::MAX);
        let Some(addr) = nodes.get(index) else {
            return Err(Error::InvalidCursor);
        };
        let node = Raw(&|argv: &[&[u8]]| self.node_execute(addr, argv));
        let page = node.scan(cursor >> NODE_BITS, pattern, count)?;
        let next = if page.cursor == 0 {
            if index + 1 < nodes.len() {
                index as u64 + 1
            } else {
                0
            }
        } else if page.cursor >> (64 - NODE_BITS) != 0 {
            return Err(Error::Io(
                "SCAN cursor of a node too large to combine".into(),
            ));
        } else {
            (page.cursor << NODE_BITS) | index as u64
        };
        Ok(ScanPage {
            cursor: next,
            keys: page.keys,
        })
    }
}

/// In a RedisBloom method: when the module is loaded, returns its own command's answer
/// through the trait's argv default; otherwise the method goes on to its emulation.
macro_rules! when_native {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        if $self.bloom_native()? {
            return Raw(&|argv: &[&[u8]]| $self.execute(argv)).$method($($arg),*);
        }
    };
}

impl Backend for RedisBackend {
    fn execute(&self, argv: &[&[u8]]) -> Result<Reply> {
        let Some(name) = argv.first() else {
            return Err(Error::Io("empty command".into()));
        };
        let name = name.to_ascii_uppercase();
        if let Some(why) = refused(&name, argv.get(1).copied()) {
            return Err(Error::Io(why));
        }
        let cluster = self.inner.cluster.is_some();
        if cluster && name == b"SCAN" {
            return Err(Error::Io(
                "SCAN through execute has no cluster-wide cursor: use Backend::scan".into(),
            ));
        }
        let response = self.inner.opts.response_timeout;
        let read_timeout = match blocking_wait(&name, argv) {
            None => Some(response),
            Some(None) => None,
            Some(Some(wait)) => Some(wait.saturating_add(response)),
        };
        let route = if cluster {
            single_slot_route(&name, argv)
        } else {
            None
        };
        let nil_array = nil_is_array(&name, argv.len(), false);
        let cmd = build_cmd(argv);
        self.inner
            .main
            .run(&self.inner.opts, read_timeout, |c| {
                call(c, &cmd, route.clone())
            })
            .map(|r| reply_of(r, nil_array))
    }

    fn scan(&self, cursor: u64, pattern: Option<&[u8]>, count: usize) -> Result<ScanPage> {
        if self.inner.cluster.is_some() {
            return self.cluster_scan(cursor, pattern, count);
        }
        Raw(&|argv: &[&[u8]]| self.execute(argv)).scan(cursor, pattern, count)
    }

    fn blpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        self.bpop_async(keys, timeout, true)
    }

    fn brpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        self.bpop_async(keys, timeout, false)
    }

    fn publish(&self, channel: &[u8], message: &[u8]) -> Result<usize> {
        if self.inner.cluster.is_none() {
            return Raw(&|argv: &[&[u8]]| self.execute(argv)).publish(channel, message);
        }
        let node = self.pubsub_node()?;
        Raw(&|argv: &[&[u8]]| self.node_execute(&node, argv)).publish(channel, message)
    }

    fn subscriber(&self) -> Result<Box<dyn PubSub>> {
        let target = self.pubsub_target()?;
        Ok(Box::new(RedisSubscription::open(&target)?))
    }

    fn transaction(
        &self,
        watch: &[&[u8]],
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Option<Vec<Reply>>> {
        self.run_transaction(watch, commands)
    }

    fn transaction_with(
        &self,
        watch: &[&[u8]],
        build: TxnBuilder<'_>,
    ) -> Result<Option<Vec<Reply>>> {
        self.run_txn(watch, watch.first().copied(), build)
    }

    fn bf_reserve(&self, key: &[u8], opts: BloomOptions) -> Result<()> {
        when_native!(self.bf_reserve(key, opts));
        self.inner
            .bloom
            .reserve(&|argv| self.execute(argv), key, &opts)
    }

    fn bf_add(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        when_native!(self.bf_add(key, item));
        self.inner
            .bloom
            .add_one(&|argv| self.execute(argv), key, item)
    }

    fn bf_madd(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<Result<bool>>> {
        when_native!(self.bf_madd(key, items));
        self.inner
            .bloom
            .madd(&|argv| self.execute(argv), key, items)
    }

    fn bf_insert(
        &self,
        key: &[u8],
        opts: BfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<Result<bool>>> {
        when_native!(self.bf_insert(key, opts, items));
        self.inner
            .bloom
            .insert(&|argv| self.execute(argv), key, &opts, items)
    }

    fn bf_exists(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        when_native!(self.bf_exists(key, item));
        let found = self
            .inner
            .bloom
            .mexists(&|argv| self.execute(argv), key, &[item])?;
        Ok(found.first().copied().unwrap_or(false))
    }

    fn bf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        when_native!(self.bf_mexists(key, items));
        self.inner
            .bloom
            .mexists(&|argv| self.execute(argv), key, items)
    }

    fn bf_info(&self, key: &[u8]) -> Result<BloomInfo> {
        when_native!(self.bf_info(key));
        self.inner.bloom.info(&|argv| self.execute(argv), key)
    }

    fn bf_card(&self, key: &[u8]) -> Result<u64> {
        when_native!(self.bf_card(key));
        self.inner.bloom.card(&|argv| self.execute(argv), key)
    }

    fn cf_reserve(&self, key: &[u8], capacity: u64, opts: CfReserveOptions) -> Result<()> {
        when_native!(self.cf_reserve(key, capacity, opts));
        self.inner
            .cuckoo
            .reserve(&|argv| self.execute(argv), key, capacity, &opts)
    }

    fn cf_add(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        when_native!(self.cf_add(key, item));
        self.inner
            .cuckoo
            .add(&|argv| self.execute(argv), key, item, false)
    }

    fn cf_addnx(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        when_native!(self.cf_addnx(key, item));
        self.inner
            .cuckoo
            .add(&|argv| self.execute(argv), key, item, true)
    }

    fn cf_insert(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<InsertOutcome>> {
        when_native!(self.cf_insert(key, opts, items));
        self.inner
            .cuckoo
            .insert(&|argv| self.execute(argv), key, &opts, items, false)
    }

    fn cf_insertnx(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<InsertOutcome>> {
        when_native!(self.cf_insertnx(key, opts, items));
        self.inner
            .cuckoo
            .insert(&|argv| self.execute(argv), key, &opts, items, true)
    }

    fn cf_exists(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        when_native!(self.cf_exists(key, item));
        let found = self
            .inner
            .cuckoo
            .mexists(&|argv| self.execute(argv), key, &[item])?;
        Ok(found.first().copied().unwrap_or(false))
    }

    fn cf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        when_native!(self.cf_mexists(key, items));
        self.inner
            .cuckoo
            .mexists(&|argv| self.execute(argv), key, items)
    }

    fn cf_del(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        when_native!(self.cf_del(key, item));
        self.inner.cuckoo.del(&|argv| self.execute(argv), key, item)
    }

    fn cf_count(&self, key: &[u8], item: &[u8]) -> Result<u64> {
        when_native!(self.cf_count(key, item));
        self.inner
            .cuckoo
            .count(&|argv| self.execute(argv), key, item)
    }

    fn cf_info(&self, key: &[u8]) -> Result<CuckooInfo> {
        when_native!(self.cf_info(key));
        self.inner.cuckoo.info(&|argv| self.execute(argv), key)
    }

    fn cms_initbydim(&self, key: &[u8], width: u64, depth: u64) -> Result<()> {
        when_native!(self.cms_initbydim(key, width, depth));
        self.inner
            .cms
            .initbydim(&|argv| self.execute(argv), key, width, depth)
    }

    fn cms_initbyprob(&self, key: &[u8], error: f64, prob: f64) -> Result<()> {
        when_native!(self.cms_initbyprob(key, error, prob));
        self.inner
            .cms
            .initbyprob(&|argv| self.execute(argv), key, error, prob)
    }

    fn cms_incrby(&self, key: &[u8], pairs: &[(&[u8], u64)]) -> Result<Vec<Result<u64>>> {
        when_native!(self.cms_incrby(key, pairs));
        self.inner
            .cms
            .incrby(&|argv| self.execute(argv), key, pairs)
    }

    fn cms_query(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<u64>> {
        when_native!(self.cms_query(key, items));
        self.inner.cms.query(&|argv| self.execute(argv), key, items)
    }

    fn cms_merge(&self, dest: &[u8], sources: &[&[u8]], weights: Option<&[i64]>) -> Result<()> {
        when_native!(self.cms_merge(dest, sources, weights));
        self.inner
            .cms
            .merge(&|argv| self.execute(argv), dest, sources, weights)
    }

    fn cms_info(&self, key: &[u8]) -> Result<CmsInfo> {
        when_native!(self.cms_info(key));
        self.inner.cms.info(&|argv| self.execute(argv), key)
    }
}

impl RedisBackend {
    /// Whether `BF.*` runs natively: [`RedisOptions::bloom`], or asked once per backend.
    /// A failed probe is not remembered.
    pub fn bloom_is_native(&self) -> Result<bool> {
        self.bloom_native()
    }

    fn bloom_native(&self) -> Result<bool> {
        match self.inner.opts.bloom {
            BloomMode::Native => return Ok(true),
            BloomMode::Emulate => return Ok(false),
            BloomMode::Detect => {}
        }
        match self.inner.bloom_native.load(Ordering::Relaxed) {
            1 => return Ok(true),
            2 => return Ok(false),
            _ => {}
        }
        let native = match self.execute(&[b"COMMAND", b"INFO", b"BF.ADD"])? {
            Reply::Array(items) => matches!(items.first(), Some(Reply::Array(_))),
            Reply::Error(e) => return Err(Error::from_reply_text(&e)),
            _ => false,
        };
        self.inner
            .bloom_native
            .store(if native { 1 } else { 2 }, Ordering::Relaxed);
        Ok(native)
    }

    /// BLPOP / BRPOP on a thread of its own with a clone of the backend (one pooled
    /// connection for the wait). If the future is dropped before the element was handed
    /// over, the element goes back where it came from.
    fn bpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
        left: bool,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        let backend = self.clone();
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        spawn_cancellable(move |cancelled| {
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let popped = if left {
                backend.blpop(&refs, timeout)
            } else {
                backend.brpop(&refs, timeout)
            };
            if let Ok(Some((key, value))) = &popped {
                if cancelled.load(Ordering::SeqCst) {
                    let _ = if left {
                        backend.lpush(key, &[value])
                    } else {
                        backend.rpush(key, &[value])
                    };
                }
            }
            popped
        })
    }

    /// The node a cluster backend publishes through and subscribes at: the primary serving
    /// the lowest slots.
    fn pubsub_node(&self) -> Result<String> {
        self.primaries()?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Io("the cluster has no primary serving slots".into()))
    }

    fn pubsub_target(&self) -> Result<Target> {
        let client = match (&self.inner.cluster, &self.inner.main.opener) {
            (None, Opener::Single(c)) => c.clone(),
            (Some(state), _) => {
                let node = self.pubsub_node()?;
                let url = format!("{}{node}", state.url_prefix);
                Client::open(url.as_str())
                    .map_err(|e| Error::Io(format!("invalid node address {node}: {e}")))?
            }
            (None, Opener::Cluster(_)) => unreachable!("a cluster opener has cluster state"),
        };
        let info = client.get_connection_info();
        let ::redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
            return Err(Error::Io(
                "subscriptions need a plain TCP connection (no TLS, no Unix socket)".into(),
            ));
        };
        let settings = info.redis_settings();
        Ok(Target {
            host: host.clone(),
            port: *port,
            username: settings.username().map(str::to_owned),
            password: settings.password().map(str::to_owned),
            connect_timeout: self.inner.opts.connect_timeout,
            response_timeout: self.inner.opts.response_timeout,
        })
    }
}

/// A backend with nothing but `execute`, so its typed methods are the trait's defaults.
struct Raw<'a>(&'a (dyn Fn(&[&[u8]]) -> Result<Reply> + Sync));

impl Backend for Raw<'_> {
    fn execute(&self, argv: &[&[u8]]) -> Result<Reply> {
        (self.0)(argv)
    }
}

const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

/// Sends `cmd`: `Ok(Err(line))` for a Redis error reply that the cluster client raised as an
/// error (a single connection returns it as a value); `Err` only for failures of the
/// connection itself.
fn call(
    c: &mut Conn,
    cmd: &Cmd,
    route: Option<RoutingInfo>,
) -> RedisResult<std::result::Result<Value, String>> {
    let result = match c {
        Conn::Single(c) => return c.req_command(cmd).map(Ok),
        Conn::Cluster(c) => match route {
            Some(r) => c.route_command(cmd, r),
            None => c.req_command(cmd),
        },
    };
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) => match server_error_text(&e) {
            Some(text) => Ok(Err(text)),
            None => Err(e),
        },
    }
}

fn reply_of(r: std::result::Result<Value, String>, nil_array: bool) -> Reply {
    match r {
        Ok(v) => to_reply(v, nil_array),
        Err(text) => Reply::Error(text),
    }
}

/// The Redis error line behind a `RedisError`, if it is a server's error reply. The crate
/// splits the line at its first space into code and detail; joining them restores it.
fn server_error_text(e: &RedisError) -> Option<String> {
    if !matches!(e.kind(), ErrorKind::Server(_) | ErrorKind::Extension) {
        return None;
    }
    let code = e.code()?;
    Some(match e.detail() {
        Some(d) => format!("{code} {d}"),
        None => code.to_owned(),
    })
}

fn build_cmd(argv: &[&[u8]]) -> Cmd {
    let mut cmd = Cmd::new();
    for a in argv {
        cmd.arg(*a);
    }
    cmd
}

/// Converts a RESP2 value; `nil_array` says that this command's nil is `*-1`.
fn to_reply(v: Value, nil_array: bool) -> Reply {
    match v {
        Value::Nil if nil_array => Reply::NilArray,
        Value::Nil => Reply::Nil,
        Value::Int(n) => Reply::Integer(n),
        Value::BulkString(b) => Reply::Bulk(b),
        Value::Array(items) => {
            Reply::Array(items.into_iter().map(|i| to_reply(i, false)).collect())
        }
        Value::Okay => Reply::ok(),
        Value::SimpleString(s) => Reply::Status(s),
        Value::ServerError(e) => Reply::Error(match e.details() {
            Some(d) => format!("{} {d}", e.code()),
            None => e.code().to_owned(),
        }),
        // RESP3 shapes: never sent on a RESP2 connection, mapped as RESP2 would show them.
        Value::Map(pairs) => Reply::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [to_reply(k, false), to_reply(v, false)])
                .collect(),
        ),
        Value::Set(items) => Reply::Array(items.into_iter().map(|i| to_reply(i, false)).collect()),
        Value::Attribute { data, .. } => to_reply(*data, nil_array),
        Value::Double(d) => Reply::Bulk(d.to_string().into_bytes()),
        Value::Boolean(b) => Reply::Integer(i64::from(b)),
        Value::VerbatimString { text, .. } => Reply::Bulk(text.into_bytes()),
        Value::BigNumber(n) => Reply::Bulk(n),
        Value::Push { data, .. } => {
            Reply::Array(data.into_iter().map(|i| to_reply(i, false)).collect())
        }
        other => Reply::Error(format!("ERR unsupported reply {other:?}")),
    }
}

/// Whether Redis answers this command's "nothing" with the null array `*-1` (RESP2) rather
/// than the null bulk string. Blocking moves give `*-1` when they time out but `$-1` inside
/// MULTI, where they never block.
fn nil_is_array(name: &[u8], argc: usize, in_multi: bool) -> bool {
    match name {
        b"BLPOP" | b"BRPOP" | b"BLMPOP" | b"LMPOP" | b"BZPOPMIN" | b"BZPOPMAX" | b"BZMPOP"
        | b"ZMPOP" | b"XREAD" | b"XREADGROUP" | b"EXEC" => true,
        b"BLMOVE" | b"BRPOPLPUSH" => !in_multi,
        b"LPOP" | b"RPOP" => argc >= 3,
        _ => false,
    }
}

/// Why a command cannot run on a pooled connection, if it cannot.
fn refused(name: &[u8], first_arg: Option<&[u8]>) -> Option<String> {
    let name_text = String::from_utf8_lossy(name);
    let state = match name {
        b"MULTI" | b"WATCH" => {
            return Some(format!(
                "{name_text} needs a dedicated connection: use Backend::transaction or Backend::transaction_with"
            ))
        }
        b"SUBSCRIBE" | b"PSUBSCRIBE" | b"SSUBSCRIBE" | b"UNSUBSCRIBE" | b"PUNSUBSCRIBE"
        | b"SUNSUBSCRIBE" | b"MONITOR" | b"SELECT" | b"HELLO" | b"AUTH" | b"RESET" | b"QUIT"
        | b"READONLY" | b"READWRITE" => true,
        b"CLIENT" => first_arg.is_some_and(|s| {
            let s = s.to_ascii_uppercase();
            s == b"REPLY" || s == b"TRACKING"
        }),
        _ => false,
    };
    state.then(|| {
        format!(
            "{name_text} changes the state of its connection, which a pooled backend cannot keep"
        )
    })
}

/// How long a blocking command may wait: `None` for a command that does not block,
/// `Some(None)` for one that blocks without limit.
fn blocking_wait(name: &[u8], argv: &[&[u8]]) -> Option<Option<Duration>> {
    let seconds = |arg: Option<&&[u8]>| {
        let s: f64 = std::str::from_utf8(arg?).ok()?.trim().parse().ok()?;
        Some(s)
    };
    let millis = |arg: Option<&&[u8]>| {
        let ms: f64 = std::str::from_utf8(arg?).ok()?.trim().parse().ok()?;
        Some(ms / 1000.0)
    };
    let secs = match name {
        b"BLPOP" | b"BRPOP" | b"BZPOPMIN" | b"BZPOPMAX" | b"BRPOPLPUSH" | b"BLMOVE" => {
            seconds(argv.last())?
        }
        b"BLMPOP" | b"BZMPOP" => seconds(argv.get(1))?,
        b"WAIT" | b"WAITAOF" => millis(argv.last())?,
        b"XREAD" | b"XREADGROUP" => {
            let at = argv
                .iter()
                .take_while(|a| !a.eq_ignore_ascii_case(b"STREAMS"))
                .position(|a| a.eq_ignore_ascii_case(b"BLOCK"))?;
            millis(argv.get(at + 1))?
        }
        _ => return None,
    };
    // Redis answers a negative, unparsable or overflowing timeout at once: no longer wait.
    if secs == 0.0 {
        Some(None)
    } else {
        Duration::try_from_secs_f64(secs).ok().map(Some)
    }
}

/// For multi-key commands that the cluster client would split across slots, a route to the
/// first key's slot instead, so that the server answers CROSSSLOT as for any other command.
fn single_slot_route(name: &[u8], argv: &[&[u8]]) -> Option<RoutingInfo> {
    let keys: Vec<&[u8]> = match name {
        b"MGET" | b"DEL" | b"EXISTS" | b"UNLINK" | b"TOUCH" => argv[1..].to_vec(),
        b"MSET" => argv[1..].iter().step_by(2).copied().collect(),
        _ => return None,
    };
    let first = key_slot(keys.first()?);
    if keys.iter().all(|k| key_slot(k) == first) {
        return None;
    }
    Some(RoutingInfo::SingleNode(
        SingleNodeRoutingInfo::SpecificNode(Route::new(first, SlotAddr::Master)),
    ))
}

/// Redis Cluster's key slot: CRC16 (XMODEM) of the key, or of its hash tag (the bytes
/// between the first `{` and the next `}`, when not empty), modulo 16384.
pub(super) fn key_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    crc16(tagged.unwrap_or(key)) % 16384
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The result of one attempt at a transaction.
struct TxnRun {
    outcome: Result<Option<Vec<Reply>>>,
    /// A slot whose key this node redirected (cluster): the node was the wrong one.
    redirected: Option<u16>,
}

/// Why a transaction stopped before EXEC without a connection failure.
enum Stopped {
    /// WATCH was refused (its error reply).
    Watch(Value),
    /// The build function failed or built a command that cannot be queued.
    Build(Error),
}

/// The commands a transaction may not queue, checked before anything is sent.
fn check_queueable(commands: &[Vec<Vec<u8>>]) -> Result<()> {
    for c in commands {
        let Some(name) = c.first() else {
            return Err(Error::Io("empty command in a transaction".into()));
        };
        let name = name.to_ascii_uppercase();
        if matches!(
            name.as_slice(),
            b"MULTI" | b"EXEC" | b"DISCARD" | b"WATCH" | b"UNWATCH"
        ) || refused(&name, c.get(1).map(Vec::as_slice)).is_some()
        {
            return Err(Error::Io(format!(
                "{} cannot be queued in a transaction",
                String::from_utf8_lossy(&name)
            )));
        }
    }
    Ok(())
}

fn run_transaction(
    pool: &Pool,
    opts: &RedisOptions,
    watch: &[&[u8]],
    build: TxnBuilder<'_>,
) -> Result<TxnRun> {
    let watch_cmd = (!watch.is_empty()).then(|| {
        let mut argv: Vec<&[u8]> = vec![b"WATCH"];
        argv.extend_from_slice(watch);
        build_cmd(&argv)
    });
    let unwatch = Cmd::new().arg("UNWATCH").clone();
    let mut built: Vec<Vec<Vec<u8>>> = Vec::new();
    let replies = pool.run(opts, Some(opts.response_timeout), |conn| {
        let Conn::Single(c) = conn else {
            unreachable!("transactions run on single-node connections");
        };
        if let Some(w) = &watch_cmd {
            // WATCH first and alone: if it fails, nothing may run unwatched.
            let r = c.req_command(w)?;
            if matches!(r, Value::ServerError(_)) {
                return Ok(Err(Stopped::Watch(r)));
            }
        }
        let commands = {
            let cell = Mutex::new(&mut *c);
            let on_conn = Raw(&|argv: &[&[u8]]| {
                let Some(name) = argv.first() else {
                    return Err(Error::Io("empty command".into()));
                };
                let name = name.to_ascii_uppercase();
                if let Some(why) = refused(&name, argv.get(1).copied()) {
                    return Err(Error::Io(why));
                }
                let nil_array = nil_is_array(&name, argv.len(), false);
                let mut c = cell.lock();
                c.req_command(&build_cmd(argv))
                    .map(|v| to_reply(v, nil_array))
                    .map_err(|e| Error::Io(format!("redis at {}: {e}", pool.addr)))
            });
            build(&on_conn).and_then(|cmds| check_queueable(&cmds).map(|()| cmds))
        };
        let commands = match commands {
            Ok(cmds) => cmds,
            Err(e) => {
                if watch_cmd.is_some() {
                    c.req_command(&unwatch)?;
                }
                return Ok(Err(Stopped::Build(e)));
            }
        };
        let mut packed = Vec::new();
        packed.extend(Cmd::new().arg("MULTI").get_packed_command());
        for cmd in &commands {
            let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
            packed.extend(build_cmd(&argv).get_packed_command());
        }
        packed.extend(Cmd::new().arg("EXEC").get_packed_command());
        c.send_packed_command(&packed)?;
        let mut replies = Vec::with_capacity(commands.len() + 2);
        for _ in 0..commands.len() + 2 {
            replies.push(c.recv_response()?);
        }
        built = commands;
        Ok(Ok(replies))
    })?;
    let commands = &built;
    let replies = match replies {
        Ok(r) => r,
        Err(Stopped::Build(e)) => {
            return Ok(TxnRun {
                outcome: Err(e),
                redirected: None,
            })
        }
        Err(Stopped::Watch(watch_error)) => {
            let redirected = moved_slot(&watch_error);
            let Reply::Error(text) = to_reply(watch_error, false) else {
                unreachable!("a server error converts to an error reply");
            };
            return Ok(TxnRun {
                outcome: Err(Error::from_reply_text(&text)),
                redirected,
            });
        }
    };
    let mut it = replies.into_iter();
    let multi = it.next().unwrap_or_default();
    let mut redirected = moved_slot(&multi);
    let queued: Vec<Value> = it.by_ref().take(commands.len()).collect();
    for q in &queued {
        redirected = redirected.or_else(|| moved_slot(q));
    }
    let outcome = match to_reply(it.next().unwrap_or_default(), true) {
        Reply::Array(items) => Ok(Some(
            items
                .into_iter()
                .zip(commands)
                .map(|(r, c)| match r {
                    Reply::Nil if nil_is_array(&c[0].to_ascii_uppercase(), c.len(), true) => {
                        Reply::NilArray
                    }
                    r => r,
                })
                .collect(),
        )),
        Reply::NilArray => Ok(None),
        Reply::Error(text) => Err(Error::from_reply_text(&text)),
        other => Err(Error::Io(format!("unexpected EXEC reply {other:?}"))),
    };
    Ok(TxnRun {
        outcome,
        redirected,
    })
}

/// The slot of a `MOVED`/`ASK` error reply.
fn moved_slot(v: &Value) -> Option<u16> {
    let Value::ServerError(e) = v else {
        return None;
    };
    if !matches!(e.code(), "MOVED" | "ASK") {
        return None;
    }
    e.details()?.split(' ').next()?.parse().ok()
}

/// `host:port` of a node URL, for messages (never the user info).
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, hp)| hp)
        .to_owned()
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://{}", host_port(url)),
        None => host_port(url),
    }
}

/// `scheme://[userinfo@]` of a seed URL, to reach the other nodes with the same credentials.
fn url_prefix(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => format!("{scheme}://{userinfo}@"),
        None => format!("{scheme}://"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_slots_match_redis() {
        // Values from CLUSTER KEYSLOT on Redis 7.0.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"{}x"), crc16(b"{}x") % 16384);
        assert_eq!(key_slot(b""), 0);
    }

    #[test]
    fn blocking_waits() {
        let w = |line: &str| {
            let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            blocking_wait(&argv[0].to_ascii_uppercase(), &argv)
        };
        assert_eq!(w("BLPOP a b 1.5"), Some(Some(Duration::from_millis(1500))));
        assert_eq!(w("BLPOP a 0"), Some(None));
        assert_eq!(w("BLMPOP 2 1 a LEFT"), Some(Some(Duration::from_secs(2))));
        assert_eq!(
            w("XREAD COUNT 1 BLOCK 250 STREAMS s 0"),
            Some(Some(Duration::from_millis(250)))
        );
        assert_eq!(w("XREAD COUNT 1 STREAMS BLOCK 0"), None);
        assert_eq!(w("BLPOP a -1"), None);
        assert_eq!(w("BLPOP a nan"), None);
        assert_eq!(w("GET a"), None);
    }

    #[test]
    fn urls() {
        assert_eq!(host_port("redis://u:p@h:1/0"), "h:1");
        assert_eq!(redact("redis://u:secret@h:1/0"), "redis://h:1");
        assert_eq!(url_prefix("redis://u:p@h:1"), "redis://u:p@");
        assert_eq!(url_prefix("redis://h:1/"), "redis://");
    }
}
