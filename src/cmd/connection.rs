//! [`Connection`]: one client of the store, and the one owner of per-client state.
//!
//! # Design
//!
//! A [`Store`] is shared by every thread and every client; what belongs to one client lives
//! here: its MULTI queue and WATCH set, its subscriptions and the messages pushed to it, its
//! protocol (RESP2 or RESP3, switched by HELLO), its id and name, and the database it
//! selected. The network server gives each socket a `Connection`, the redis-rs drop-in
//! (feature `redis`) implements `ConnectionLike` on it, and tests open as many as they need.
//!
//! A command goes through [`Connection::execute`] in this order, each step reading the
//! command table's flags rather than names:
//!
//! 1. name and arity (an error inside MULTI also flags the transaction, as Redis does);
//! 2. subscribed mode (RESP2): only `PUBSUB` commands are allowed;
//! 3. `TXN` commands (MULTI, EXEC, DISCARD, WATCH) act on the transaction at once;
//! 4. inside MULTI every other command is checked (subcommand, memory) and queued;
//! 5. `CONN` commands (HELLO, SELECT, CLIENT, RESET, QUIT) act on the connection;
//! 6. the subscription commands act on the connection's subscription;
//! 7. `BLOCKING` commands wait (on the calling thread, or as a future with
//!    [`Connection::execute_async`]);
//! 8. everything else runs as [`Store::execute`] runs it.
//!
//! A command that answers more than once (SUBSCRIBE with several channels) returns its first
//! reply; the others wait in the connection's push queue, ahead of any message, and come out
//! of [`Connection::try_next_push`] / [`Connection::next_push`] as Redis would write them
//! after the first.
//!
//! # MONITOR
//!
//! `MONITOR` puts a connection in monitor mode: every command any connection of the store
//! runs afterwards reaches it as one status line, Redis's (`<secs>.<micros> [<db> <addr>]
//! "cmd" "arg" ...`, see [`monitor_line`]), through the same push queue as pub/sub messages.
//! What is shown follows Redis 7.0's `call()`: a command is shown once it ran (a blocking one
//! when it starts waiting), with the database selected after it, errors from running it
//! included; commands refused before running (unknown, wrong arity, wrong context) and
//! commands queued by MULTI are not, EXEC shows the commands it ran and then itself, admin
//! commands (the `ADMIN` flag, and CLIENT KILL/LIST/...) never are, and the credentials of
//! AUTH and HELLO show as `(redacted)`. A connection without a peer address (not a server's)
//! shows as `?:0`, Redis's address for a client without a socket. When no connection
//! monitors, a command pays one relaxed atomic load for all of this.
//!
//! A monitoring connection, as in Redis (which treats it as a replica), may not use the
//! keyspace (`ERR Replica can't interact with the keyspace`), gets no reply at all to a
//! second MONITOR, and leaves monitor mode with RESET or by going away. The lines wait in a
//! buffer bounded by the pub/sub limit; past it the connection is killed (see
//! `store::monitor`).
//!
//! Replies are built protocol-neutral (maps, doubles, sets, pushes) and returned in the
//! connection's protocol: under RESP2, [`Reply::into_resp2`]'s shapes.

use super::{check, check_subcommand, full_name, lookup, Flags, Keys, Spec};
use crate::clients::{self as clients, ClientState};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::monitor::MonitorHandle;
use crate::store::pubsub::Subscription;
use crate::store::Store;
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// The wire protocol a connection speaks, switched by `HELLO 2` / `HELLO 3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// RESP2, every connection's protocol until HELLO.
    #[default]
    Resp2,
    /// RESP3: maps, sets, doubles, booleans and push messages on the wire.
    Resp3,
}

/// Client ids, unique within the process, as Redis's are within a server.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// MULTI/WATCH state.
#[derive(Default)]
struct TxState {
    /// Set by any modification of a watched key; replaced (unregistering) by UNWATCH.
    flag: Arc<AtomicBool>,
    /// The watched keys with the database each was watched in.
    watched: Vec<(usize, Vec<u8>)>,
    /// The queued commands while in MULTI.
    queue: Option<Vec<Vec<Vec<u8>>>>,
    /// A command failed to queue: EXEC answers EXECABORT.
    flagged: bool,
}

/// One client of a [`Store`]: its transaction, subscriptions, protocol, name and id.
///
/// `Send + 'static` and cheap to create; every connection sees the same data, and nothing one
/// connection queues, watches or subscribes to is visible to another.
///
/// ```
/// use sketchstore::{Reply, Store};
/// let store = Store::new();
/// let mut a = store.connection();
/// let mut b = store.connection();
/// assert_eq!(a.execute(&["MULTI"]), Reply::ok());
/// assert_eq!(a.execute(&["INCR", "n"]), Reply::status("QUEUED"));
/// // b is not in a transaction: its INCR runs at once.
/// assert_eq!(b.execute(&["INCR", "n"]), Reply::Integer(1));
/// assert_eq!(a.execute(&["EXEC"]), Reply::Array(vec![Reply::Integer(2)]));
/// ```
pub struct Connection {
    store: Store,
    id: u64,
    name: Option<Vec<u8>>,
    protocol: Protocol,
    tx: TxState,
    sub: Option<Subscription>,
    /// Replies pushed to the client that it has not taken: further confirmations of a
    /// subscription command. Messages wait in the subscription's mailbox, behind these.
    pending: VecDeque<Reply>,
    closing: bool,
    /// What CLIENT LIST and CLIENT KILL see of this connection.
    client: Arc<ClientState>,
    /// CLIENT REPLY: whether replies are sent.
    reply_mode: ReplyMode,
    /// Whether the reply of the last command is to be dropped (CLIENT REPLY OFF/SKIP).
    suppressed: bool,
    /// What `client.last_cmd` holds, so that a command repeated is not written under its
    /// lock again.
    last_cmd: &'static str,
    /// In MONITOR mode: the feed of every connection's commands.
    monitor: Option<MonitorHandle>,
}

/// CLIENT REPLY's modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command, then back to `On`.
    SkipNext,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let stats = &self.store.inner.stats;
        stats.connected_clients.fetch_sub(1, Ordering::Relaxed);
        self.store.inner.clients.remove(self.id);
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("protocol", &self.protocol)
            .field("in_multi", &self.in_multi())
            .field("subscribed", &self.is_subscribed())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A new connection to this store: RESP2, no transaction, no subscription.
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// let mut conn = store.connection();
    /// assert_eq!(conn.execute(&["PING"]), sketchstore::Reply::status("PONG"));
    /// ```
    pub fn connection(&self) -> Connection {
        let stats = &self.inner.stats;
        stats.connected_clients.fetch_add(1, Ordering::Relaxed);
        stats.connections_received.fetch_add(1, Ordering::Relaxed);
        let id = NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed);
        let client = Arc::new(ClientState::new(id, self.inner.clock.now_ms()));
        self.inner.clients.add(Arc::clone(&client));
        Connection {
            store: self.clone(),
            id,
            name: None,
            protocol: Protocol::Resp2,
            tx: TxState::default(),
            sub: None,
            pending: VecDeque::new(),
            closing: false,
            client,
            reply_mode: ReplyMode::On,
            suppressed: false,
            last_cmd: "NULL",
            monitor: None,
        }
    }

    /// Runs one checked command outside any transaction: the memory check, then the wait of
    /// a blocking command or the command under its keys' locks.
    pub(crate) fn run_spec(&self, spec: &'static Spec, argv: &[&[u8]]) -> Reply {
        if self.inner.memory.is_some() {
            if let Err(e) = self.check_memory(spec.flags.has(Flags::WRITE_DENYOOM)) {
                return Reply::Error(e.to_string());
            }
        }
        if let Some(parse) = spec.block {
            return match parse(argv, &self.inner.clock) {
                Ok(call) => call.run(self),
                Err(e) => Reply::Error(e.to_string()),
            };
        }
        self.run_unchecked(spec, argv)
    }

    /// Runs a checked, non-blocking command under its keys' locks.
    pub(crate) fn run_unchecked(&self, spec: &'static Spec, argv: &[&[u8]]) -> Reply {
        match spec.keys {
            Keys::All => self.with_db(crate::store::Lock::All, |db| {
                super::run_locked(spec, argv, db)
            }),
            Keys::Move => {
                // The target's shard too, when the target is one MOVE will act on; otherwise
                // MOVE answers an error before it looks at another database.
                let key = argv.get(1).copied().unwrap_or_default();
                let to = argv
                    .get(2)
                    .and_then(|a| super::databases::int_arg(a, None).ok())
                    .and_then(|n| usize::try_from(n).ok())
                    .filter(|&d| d < self.databases());
                let lock = match to {
                    Some(to) => crate::store::Lock::Moved { key, to },
                    None => crate::store::Lock::Keys(argv.get(1..2).unwrap_or_default()),
                };
                self.with_db(lock, |db| super::run_locked(spec, argv, db))
            }
            keys if keys.is_global(argv) => self.with_db(crate::store::Lock::Global, |db| {
                super::run_locked(spec, argv, db)
            }),
            keys => {
                let keys = keys.of(argv);
                self.with_db(crate::store::Lock::Keys(&keys), |db| {
                    super::run_locked(spec, argv, db)
                })
            }
        }
    }

    /// WATCH `watch`, then MULTI, the `commands`, EXEC, atomically, as
    /// [`Backend::transaction`](crate::Backend::transaction) does on every backend:
    /// `Some(replies)`, `None` when a watched key changed, Redis's EXECABORT error when a
    /// command was refused while queuing.
    ///
    /// ```
    /// use sketchstore::{Reply, Store};
    /// let store = Store::new();
    /// let cmds = vec![vec![b"INCR".to_vec(), b"n".to_vec()], vec![b"GET".to_vec(), b"n".to_vec()]];
    /// let replies = store.transaction(&[], &cmds)?.expect("not aborted");
    /// assert_eq!(replies, vec![Reply::Integer(1), Reply::bulk("1")]);
    /// # Ok::<(), sketchstore::Error>(())
    /// ```
    pub fn transaction(
        &self,
        watch: &[&[u8]],
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Option<Vec<Reply>>> {
        crate::Backend::transaction(self, watch, commands)
    }

    /// MULTI, `commands`, EXEC, with no WATCH, as a fresh connection would run them (same
    /// checks, same replies), without copying the commands. `None`, having done nothing, when
    /// a command is empty or acts on a connection (MULTI, EXEC, SELECT, ...): only a
    /// [`Connection`] runs those.
    pub(crate) fn multi_exec<C, A>(&self, commands: &[C]) -> Option<Reply>
    where
        C: AsRef<[A]>,
        A: AsRef<[u8]>,
    {
        let mut queued = Queued::default();
        let mut flagged = false;
        for argv in commands {
            let argv = argv.as_ref();
            let name = argv.first()?.as_ref();
            if lookup(name).is_some_and(|s| s.flags.has(Flags::TXN) || s.flags.has(Flags::CONN)) {
                return None;
            }
            match check_queued(self, queued.stage(argv.iter().map(AsRef::as_ref))) {
                Ok(spec) => queued.commit(spec),
                Err(_) => flagged = true,
            }
        }
        if flagged {
            return Some(Reply::Error(EXECABORT.into()));
        }
        Some(
            exec_queued(self, &queued, &[], None)
                .map_or(Reply::NilArray, |(r, _)| r)
                .into_resp2(),
        )
    }
}

/// The checks Redis makes when it queues a command: name and arity, a container's
/// subcommand, and the memory limit: over it, Redis refuses to queue any command (queuing
/// itself takes memory), reads included.
fn check_queued(store: &Store, argv: &[&[u8]]) -> Result<&'static Spec> {
    let spec = check(argv)?;
    check_subcommand(spec, argv)?;
    store.check_memory(true)?;
    Ok(spec)
}

/// EXEC of checked commands: the replies and the database selected at the end (a queued
/// SELECT changes it for the commands after it and for the connection), or `None` when a
/// watched key changed.
fn exec_queued(
    store: &Store,
    queued: &Queued<'_>,
    watched: &[(usize, Vec<u8>)],
    flag: Option<&AtomicBool>,
) -> Option<(Reply, usize)> {
    let mut all = false;
    let mut global = false;
    let mut keys: SmallVec<[&[u8]; 16]> = SmallVec::new();
    for (argv, spec) in queued.iter() {
        match spec.keys {
            Keys::All => all = true,
            _ if spec.name == "select" || spec.keys.is_global(argv) => global = true,
            k => k.extend_with(argv, &mut keys),
        }
    }
    store.run_atomic(&keys, all, global, watched, flag, |db| {
        let replies = queued
            .iter()
            .map(|(argv, spec)| {
                if spec.name == "select" {
                    super::databases::select_in_exec(argv, db)
                } else {
                    super::run_locked(spec, argv, db)
                }
            })
            .collect();
        (Reply::Array(replies), db.db)
    })
}

/// Queued commands, borrowed: every argument of every command in one list, each command a
/// range of it with its table row. Inline capacity fits a session pageview without
/// allocating.
#[derive(Default)]
struct Queued<'q> {
    args: SmallVec<[&'q [u8]; 64]>,
    cmds: SmallVec<[(usize, &'static Spec); 16]>,
    /// Where the staged command's arguments start in `args`.
    staged: usize,
}

impl<'q> Queued<'q> {
    /// Appends a command's arguments (replacing a staged command not committed) and returns
    /// them, to be checked before [`Queued::commit`].
    fn stage(&mut self, argv: impl IntoIterator<Item = &'q [u8]>) -> &[&'q [u8]] {
        self.args.truncate(self.staged);
        self.args.extend(argv);
        &self.args[self.staged..]
    }

    /// Queues the staged command with its table row.
    fn commit(&mut self, spec: &'static Spec) {
        self.cmds.push((self.args.len(), spec));
        self.staged = self.args.len();
    }

    fn iter(&self) -> impl Iterator<Item = (&[&'q [u8]], &'static Spec)> + '_ {
        let starts = std::iter::once(0).chain(self.cmds.iter().map(|&(end, _)| end));
        starts
            .zip(&self.cmds)
            .map(|(start, &(end, spec))| (&self.args[start..end], spec))
    }
}

/// Counts a run of `spec` for INFO commandstats: an OOM refusal is a rejected call, another
/// error reply a failed one.
fn count_call(spec: &'static Spec, reply: &Reply) {
    let Some(stats) = super::call_stats(spec) else {
        return;
    };
    stats.calls.fetch_add(1, Ordering::Relaxed);
    if let Reply::Error(e) = reply {
        let counter = if e.starts_with("OOM") {
            &stats.rejected
        } else {
            &stats.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A reply as a push message: Redis sends subscription confirmations and messages as pushes
/// under RESP3 (arrays under RESP2).
fn as_push(r: Reply) -> Reply {
    match r {
        Reply::Array(v) => Reply::Push(v),
        other => other,
    }
}

fn ok_or_error(r: Result<()>) -> Reply {
    match r {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::Error(e.to_string()),
    }
}

impl Connection {
    /// This connection's id (CLIENT ID): unique within the process, increasing.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The name set by CLIENT SETNAME or HELLO's SETNAME.
    pub fn name(&self) -> Option<&[u8]> {
        self.name.as_deref()
    }

    /// The protocol this connection's replies follow.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The store this connection talks to, as a handle on the database it selected.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database this connection selected (SELECT; 0 at first and after RESET).
    pub fn db_index(&self) -> usize {
        self.store.db_index()
    }

    /// Switches to database `db`, which exists.
    fn set_db(&mut self, db: usize) {
        if db != self.store.db_index() {
            if let Ok(store) = self.store.select(db) {
                self.store = store;
            }
        }
        self.client.db.store(db as i64, Ordering::Relaxed);
    }

    /// Whether MULTI has been called and neither EXEC nor DISCARD since.
    pub fn in_multi(&self) -> bool {
        self.tx.queue.is_some()
    }

    /// Whether the connection is subscribed to at least one channel or pattern.
    pub fn is_subscribed(&self) -> bool {
        self.sub
            .as_ref()
            .is_some_and(|s| s.subscription_count() > 0)
    }

    /// Whether the connection is in MONITOR mode: every command run through any connection
    /// of the store comes out of [`Connection::try_next_push`] / [`Connection::next_push`]
    /// as one status line.
    pub fn is_monitor(&self) -> bool {
        self.monitor.is_some()
    }

    /// Whether the client asked to close the connection (QUIT): a server closes it after
    /// writing the reply.
    pub fn is_closing(&self) -> bool {
        self.closing || self.client.is_killed()
    }

    /// A future that completes when another client kills this one (CLIENT KILL): a server
    /// then closes the socket. It never completes otherwise, and does not borrow the
    /// connection.
    pub fn killed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let client = Arc::clone(&self.client);
        async move { client.killed().await }
    }

    /// Whether the reply of the last command must not be sent (CLIENT REPLY OFF or SKIP):
    /// the caller (a server) drops it.
    pub fn reply_suppressed(&self) -> bool {
        self.suppressed
    }

    /// Records the peer and local addresses a server accepted this connection on, for
    /// CLIENT LIST and CLIENT KILL ADDR.
    pub fn set_addresses(&mut self, peer: impl Into<String>, local: impl Into<String>) {
        *self.client.addr.lock() = Some((peer.into(), local.into()));
    }

    /// Refuses a command that a server runs itself (SHUTDOWN) while in MULTI: the error,
    /// and EXEC will answer EXECABORT.
    pub(crate) fn refuse_in_multi(&mut self, error: &str) -> Reply {
        self.tx.flagged = true;
        self.shape(Reply::Error(error.to_owned()))
    }

    /// `MULTI`.
    pub fn multi(&mut self) -> Result<()> {
        if self.in_multi() {
            return Err(Error::err("MULTI calls can not be nested"));
        }
        self.tx.queue = Some(Vec::new());
        Ok(())
    }

    /// `WATCH key [key ...]`: EXEC will fail if any of them is modified from now on.
    pub fn watch<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<()> {
        if self.in_multi() {
            return Err(Error::err("WATCH inside MULTI is not allowed"));
        }
        if keys.is_empty() {
            return Err(Error::WrongArity("watch".into()));
        }
        if self.tx.flag.load(Ordering::SeqCst) {
            return Ok(());
        }
        let db = self.store.db_index();
        let mut new: SmallVec<[&[u8]; 4]> = SmallVec::new();
        for k in keys.iter().map(AsRef::as_ref) {
            if !self.tx.watched.iter().any(|(d, w)| *d == db && w == k) && !new.contains(&k) {
                new.push(k);
            }
        }
        self.store.watch_keys(&new, &self.tx.flag);
        self.tx.watched.extend(new.iter().map(|k| (db, k.to_vec())));
        Ok(())
    }

    /// `UNWATCH`.
    pub fn unwatch(&mut self) {
        // The shards hold only weak references to the flag: replacing it unregisters.
        self.tx.flag = Arc::new(AtomicBool::new(false));
        self.tx.watched.clear();
    }

    /// `DISCARD`: drops the queue and the watches.
    pub fn discard(&mut self) -> Result<()> {
        if !self.in_multi() {
            return Err(Error::err("DISCARD without MULTI"));
        }
        self.reset_transaction();
        Ok(())
    }

    fn reset_transaction(&mut self) {
        self.tx.queue = None;
        self.tx.flagged = false;
        self.unwatch();
    }

    /// `EXEC`: the array of the queued commands' replies; the null array if a watched key
    /// changed; `EXECABORT` if a command failed to queue.
    pub fn exec(&mut self) -> Reply {
        let Some(queue) = self.tx.queue.take() else {
            return Reply::Error("ERR EXEC without MULTI".into());
        };
        let flagged = std::mem::take(&mut self.tx.flagged);
        let flag = std::mem::replace(&mut self.tx.flag, Arc::new(AtomicBool::new(false)));
        let watched = std::mem::take(&mut self.tx.watched);
        if flagged {
            return Reply::Error(EXECABORT.into());
        }
        let mut queued = Queued::default();
        let mut denyoom = false;
        for argv in &queue {
            let argv = argv.iter().map(Vec::as_slice);
            let Ok(spec) = check(queued.stage(argv)) else {
                return Reply::Error(EXECABORT.into());
            };
            denyoom |= spec.flags.has(Flags::WRITE_DENYOOM);
            queued.commit(spec);
        }
        // Redis checks memory again at EXEC for a transaction that may grow it.
        if denyoom {
            if let Err(e) = self.store.check_memory(true) {
                return Reply::Error(format!("EXECABORT Transaction discarded because of: {e}"));
            }
        }
        let reply = match exec_queued(&self.store, &queued, &watched, Some(&flag)) {
            Some((reply, db)) => {
                if self.store.inner.monitors.active() {
                    self.feed_executed(&queued, &reply);
                }
                self.set_db(db);
                reply
            }
            None => Reply::NilArray,
        };
        self.shape(reply)
    }

    /// Shows the commands EXEC ran to the monitors, before EXEC itself, each with the
    /// database it ran in (a queued SELECT changes it for those after it).
    #[cold]
    #[inline(never)]
    fn feed_executed(&self, queued: &Queued<'_>, reply: &Reply) {
        let replies: &[Reply] = match reply {
            Reply::Array(r) => r,
            _ => &[],
        };
        let mut db = self.store.db_index();
        for (i, (argv, spec)) in queued.iter().enumerate() {
            if spec.name == "select" && !replies.get(i).is_some_and(Reply::is_error) {
                if let Some(n) = argv
                    .get(1)
                    .and_then(|a| crate::num::parse_i64(a))
                    .and_then(|n| usize::try_from(n).ok())
                {
                    db = n;
                }
            }
            if shown_to_monitors(spec, argv) {
                self.feed_line(argv, db, 0..0);
            }
        }
    }

    /// The next reply pushed to this connection, without waiting: a further confirmation of
    /// a subscription command, else a message of a subscribed channel or pattern.
    pub fn try_next_push(&mut self) -> Option<Reply> {
        if let Some(r) = self.pending.pop_front() {
            return Some(self.shape(r));
        }
        if let Some(m) = &self.monitor {
            if let Poll::Ready(line) = m.try_receive() {
                return Some(self.monitor_reply(line));
            }
        }
        let msg = self.sub.as_ref()?.try_receive();
        self.message_reply(msg.transpose())
    }

    /// The next pushed reply, waiting up to `timeout` on the store's clock. `None` when
    /// nothing came, or the connection has no subscription.
    pub fn receive_push(&mut self, timeout: Duration) -> Option<Reply> {
        if let Some(r) = self.pending.pop_front() {
            return Some(self.shape(r));
        }
        if let Some(m) = &self.monitor {
            // A monitor that also subscribed waits on its subscription once its feed is
            // empty (one wait at a time on the sync path).
            let line = if self.sub.is_some() {
                m.try_receive()
            } else {
                m.receive(timeout)
            };
            match line {
                Poll::Ready(line) => return Some(self.monitor_reply(line)),
                Poll::Pending if self.sub.is_none() => return None,
                Poll::Pending => {}
            }
        }
        let msg = self.sub.as_ref()?.receive(timeout);
        self.message_reply(msg.transpose())
    }

    /// The next pushed reply, as a future that waits without holding a thread. `None` when
    /// the connection has no subscription.
    pub async fn next_push(&mut self) -> Option<Reply> {
        if let Some(r) = self.pending.pop_front() {
            return Some(self.shape(r));
        }
        let Some(m) = &self.monitor else {
            let msg = self.sub.as_ref()?.receive_async().await;
            return self.message_reply(Some(msg));
        };
        let line = m.receive_async();
        let Some(sub) = &self.sub else {
            let line = line.await;
            return Some(self.monitor_reply(line));
        };
        let msg = sub.receive_async();
        tokio::select! {
            line = line => Some(self.monitor_reply(line)),
            msg = msg => self.message_reply(Some(msg)),
        }
    }

    /// A MONITOR line as the status reply a client reads; a feed closed by its buffer limit
    /// as the error that says so, after which the connection no longer monitors.
    fn monitor_reply(&mut self, line: std::result::Result<Arc<str>, ()>) -> Reply {
        match line {
            Ok(line) => Reply::status(&line),
            Err(()) => {
                let limit = self.monitor.as_ref().map_or(0, |m| m.feed().limit());
                self.monitor = None;
                self.client.set_flag(clients::FLAG_MONITOR, false);
                Reply::Error(format!(
                    "ERR MONITOR closed: its pending lines exceeded the buffer limit of {limit} bytes"
                ))
            }
        }
    }

    /// Shows `argv`, just run by this connection, to every monitor: Redis's line, with
    /// AUTH's and HELLO's credentials redacted; admin commands (CONFIG, CLIENT KILL, ...)
    /// are not shown. The database is the one selected after the command (SELECT shows the
    /// new one).
    // Kept out of line: the command path only tests the flag before calling it.
    #[cold]
    #[inline(never)]
    pub(crate) fn feed_monitors(&self, argv: &[&[u8]]) {
        let Some(&name) = argv.first() else {
            return;
        };
        let mut redacted = 0..0;
        if name.eq_ignore_ascii_case(b"auth") {
            redacted = 1..argv.len();
        } else {
            let Some(spec) = lookup(name) else {
                return;
            };
            if !shown_to_monitors(spec, argv) {
                return;
            }
            if spec.name == "hello" {
                redacted = hello_credentials(argv);
            }
        }
        self.feed_line(argv, self.store.db_index(), redacted);
    }

    fn feed_line(&self, argv: &[&[u8]], db: usize, redacted: std::ops::Range<usize>) {
        let addr = self
            .client
            .addr
            .lock()
            .as_ref()
            .map(|(peer, _)| peer.clone());
        let line = monitor_line(
            self.store.inner.clock.now_us(),
            db,
            addr.as_deref().unwrap_or("?:0"),
            argv,
            redacted,
        );
        self.store.inner.monitors.feed(&line);
    }

    /// A message as the reply a client reads; a closed subscription (its buffer overflowed)
    /// as the error that says so, after which the connection has no subscription.
    fn message_reply(
        &mut self,
        msg: Option<Result<crate::store::pubsub::Message>>,
    ) -> Option<Reply> {
        match msg? {
            Ok(m) => Some(self.shape(as_push(m.to_reply()))),
            Err(e) => {
                self.sub = None;
                Some(Reply::Error(e.to_string()))
            }
        }
    }

    #[inline]
    fn count_command(&self) {
        let stats = &self.store.inner.stats;
        stats.commands_processed.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the command CLIENT LIST shows as the client's last.
    #[inline]
    fn note_command(&mut self, name: &'static str) {
        if !std::ptr::eq(self.last_cmd, name) {
            self.last_cmd = name;
            *self.client.last_cmd.lock() = name;
        }
    }

    /// A reply in this connection's protocol, after the command: the client's listed state
    /// brought up to date.
    #[inline]
    fn shape(&self, r: Reply) -> Reply {
        let c = &self.client;
        c.set_flag(clients::FLAG_MULTI, self.in_multi());
        let (subs, psubs) = self
            .sub
            .as_ref()
            .map_or((0, 0), |s| (s.channels_len(), s.patterns().len()));
        c.set_flag(clients::FLAG_SUBSCRIBED, subs + psubs > 0);
        // Written only when they change: the client's entry is shared (CLIENT LIST reads
        // it), and a store per command would keep its cache line moving for nothing.
        let resp = if self.protocol == Protocol::Resp3 {
            3
        } else {
            2
        };
        for (cell, value) in [(&c.subs, subs as i64), (&c.psubs, psubs as i64)] {
            if cell.load(Ordering::Relaxed) != value {
                cell.store(value, Ordering::Relaxed);
            }
        }
        if c.resp.load(Ordering::Relaxed) != resp {
            c.resp.store(resp, Ordering::Relaxed);
        }
        match self.protocol {
            Protocol::Resp2 => r.into_resp2(),
            Protocol::Resp3 => r.into_resp3(),
        }
    }

    /// Runs one command as a Redis server runs it for this client (see the module docs for
    /// the order of the checks). A blocking command outside MULTI blocks the calling thread
    /// until it is served or times out.
    pub fn execute<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Reply {
        let argv: SmallVec<[&[u8]; 8]> = argv.iter().map(AsRef::as_ref).collect();
        self.execute_args(&argv)
    }

    /// [`Connection::execute`] of arguments already borrowed as slices (the server's path).
    pub(crate) fn execute_args(&mut self, argv: &[&[u8]]) -> Reply {
        self.count_command();
        match self.route(argv) {
            Route::Refused(r) => self.shape(r),
            Route::Done(r) => {
                if self.store.inner.monitors.active() {
                    self.feed_monitors(argv);
                }
                self.shape(r)
            }
            Route::Run(spec) => {
                // A blocking command is shown when it starts waiting, as Redis shows it when
                // it blocks; every other one once it ran.
                if spec.block.is_some() && self.store.inner.monitors.active() {
                    self.feed_monitors(argv);
                }
                let r = self.store.run_spec(spec, argv);
                count_call(spec, &r);
                if spec.block.is_none() && self.store.inner.monitors.active() {
                    self.feed_monitors(argv);
                }
                self.shape(r)
            }
        }
    }

    /// [`Connection::execute`] for async code: a blocking command waits as a future, without
    /// holding an executor thread.
    pub async fn execute_async(&mut self, argv: Vec<Vec<u8>>) -> Reply {
        self.count_command();
        let (call, spec) = {
            let args: SmallVec<[&[u8]; 8]> = argv.iter().map(Vec::as_slice).collect();
            let spec = match self.route(&args) {
                Route::Refused(r) => return self.shape(r),
                Route::Done(r) => {
                    if self.store.inner.monitors.active() {
                        self.feed_monitors(&args);
                    }
                    return self.shape(r);
                }
                Route::Run(spec) => spec,
            };
            if self.store.inner.monitors.active() {
                self.feed_monitors(&args);
            }
            let Some(parse) = spec.block else {
                let r = self.store.run_spec(spec, &args);
                count_call(spec, &r);
                return self.shape(r);
            };
            if self.store.inner.memory.is_some() {
                if let Err(e) = self
                    .store
                    .check_memory(spec.flags.has(Flags::WRITE_DENYOOM))
                {
                    let r = Reply::Error(e.to_string());
                    count_call(spec, &r);
                    return self.shape(r);
                }
            }
            match parse(&args, &self.store.inner.clock) {
                Ok(call) => (call, spec),
                Err(e) => {
                    let r = Reply::Error(e.to_string());
                    count_call(spec, &r);
                    return self.shape(r);
                }
            }
        };
        let answer = call.answer;
        let client = Arc::clone(&self.client);
        client
            .unblock
            .store(clients::UNBLOCK_NONE, Ordering::SeqCst);
        client.set_flag(clients::FLAG_BLOCKED, true);
        let wait = call.run_async(&self.store);
        // CLIENT UNBLOCK ends the wait early: as a timeout, or with Redis's error. Dropping
        // the wait cancels it (an element handed to it goes back to its list).
        let unblocked = async {
            loop {
                let notified = client.unblocked.notified();
                let how = client.unblock.load(Ordering::SeqCst);
                if how != clients::UNBLOCK_NONE {
                    return how;
                }
                notified.await;
            }
        };
        let r = tokio::select! {
            r = wait => r,
            how = unblocked => {
                if how == clients::UNBLOCK_ERROR {
                    Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
                } else {
                    answer(Ok(None))
                }
            }
        };
        client.set_flag(clients::FLAG_BLOCKED, false);
        count_call(spec, &r);
        self.shape(r)
    }

    /// Everything [`Connection::execute`] does before running a command on the store:
    /// either the answer, or the checked row to run.
    // Inlined into its callers, as the compiler did before MONITOR's branches made it
    // larger: out of line, a SET or GET through `Connection::execute` took about 16 ns more
    // (best of 25 runs: 279 ns against 263 ns inlined, 260 ns before MONITOR).
    #[inline]
    fn route(&mut self, argv: &[&[u8]]) -> Route {
        self.suppressed = match self.reply_mode {
            ReplyMode::On => false,
            ReplyMode::Off => true,
            ReplyMode::SkipNext => {
                self.reply_mode = ReplyMode::On;
                true
            }
        };
        if self.client.is_killed() {
            self.closing = true;
            return Route::Refused(Reply::Error(
                "ERR this connection was killed (CLIENT KILL)".into(),
            ));
        }
        let spec = match check(argv) {
            Ok(s) => s,
            Err(e) => return Route::Refused(self.rejected(e)),
        };
        self.client
            .last_ms
            .store(self.store.inner.clock.coarse_ms(), Ordering::Relaxed);
        self.note_command(spec.name);
        if let Err(e) = check_subcommand(spec, argv) {
            return Route::Refused(self.rejected(e));
        }
        let flags = spec.flags;
        if self.protocol == Protocol::Resp2 && self.is_subscribed() && !flags.has(Flags::PUBSUB) {
            return Route::Refused(Reply::Error(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                full_name(spec, argv)
            )));
        }
        if self.monitor.is_some() {
            if spec.name == "monitor" {
                // Redis answers nothing to a second MONITOR.
                self.suppressed = true;
                return Route::Refused(Reply::ok());
            }
            if touches_keyspace(spec, argv) {
                // Redis flags a monitor as a replica, and replicas may not use the keyspace.
                return Route::Refused(Reply::Error(
                    "ERR Replica can't interact with the keyspace".into(),
                ));
            }
        }
        if flags.has(Flags::TXN) {
            return Route::Done(match spec.name {
                "multi" => ok_or_error(self.multi()),
                "exec" => self.exec(),
                "discard" => ok_or_error(self.discard()),
                _ => ok_or_error(self.watch(&argv[1..])),
            });
        }
        if self.in_multi() && !matches!(spec.name, "quit" | "reset") {
            return Route::Refused(self.queue(argv));
        }
        if flags.has(Flags::CONN) {
            return Route::Done(self.connection_command(spec, argv));
        }
        if flags.has(Flags::PUBSUB) && spec.name != "ping" {
            // Subscription confirmations are pushes: CLIENT REPLY OFF does not hold them back.
            self.suppressed = false;
            return Route::Done(self.subscription_command(spec.name, &argv[1..]));
        }
        if spec.name == "ping" && self.is_subscribed() && self.protocol == Protocol::Resp2 {
            if argv.len() > 2 {
                return Route::Done(Reply::Error(Error::WrongArity("ping".into()).to_string()));
            }
            let msg = argv.get(1).copied().unwrap_or_default();
            return Route::Done(Reply::Array(vec![Reply::bulk("pong"), Reply::bulk(msg)]));
        }
        if spec.name == "unwatch" {
            self.unwatch();
            return Route::Done(Reply::ok());
        }
        Route::Run(spec)
    }

    /// A command that failed its name or arity check; inside MULTI it also flags the
    /// transaction, and a rejected EXEC aborts it.
    fn rejected(&mut self, e: Error) -> Reply {
        if self.in_multi() {
            self.tx.flagged = true;
        }
        if let Error::WrongArity(name) = &e {
            if name == "exec" {
                // Redis answers a rejected EXEC with EXECABORT, in MULTI or not.
                self.reset_transaction();
                let text = e.to_string();
                let text = text.strip_prefix("ERR ").unwrap_or(&text);
                return Reply::Error(format!(
                    "EXECABORT Transaction discarded because of: {text}"
                ));
            }
        }
        Reply::Error(e.to_string())
    }

    /// Queues a command inside MULTI: `+QUEUED`, or the error Redis gives at queue time,
    /// which also makes EXEC fail with `EXECABORT`.
    fn queue(&mut self, argv: &[&[u8]]) -> Reply {
        if let Err(e) = check_queued(&self.store, argv) {
            self.tx.flagged = true;
            return Reply::Error(e.to_string());
        }
        if let Some(q) = self.tx.queue.as_mut() {
            q.push(argv.iter().map(|a| a.to_vec()).collect());
        }
        Reply::status("QUEUED")
    }

    /// SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE: the first confirmation; the others
    /// go to the push queue.
    fn subscription_command(&mut self, name: &str, args: &[&[u8]]) -> Reply {
        if self.sub.is_none() {
            self.sub = Some(self.store.new_subscription());
        }
        let Some(sub) = self.sub.as_mut() else {
            return Reply::Error("ERR no subscription".into());
        };
        let replies = match name {
            "subscribe" => sub.subscribe_replies(args),
            "psubscribe" => sub.psubscribe_replies(args),
            "unsubscribe" => sub.unsubscribe_replies(args),
            _ => sub.punsubscribe_replies(args),
        };
        let mut replies = replies.into_iter().map(as_push);
        let first = replies.next().unwrap_or(Reply::Nil);
        self.pending.extend(replies);
        first
    }

    /// HELLO, SELECT, CLIENT, RESET, QUIT, MONITOR.
    fn connection_command(&mut self, spec: &Spec, argv: &[&[u8]]) -> Reply {
        let args = &argv[1..];
        match spec.name {
            "select" => {
                let picked = super::databases::int_arg(args[0], None).and_then(|n| {
                    usize::try_from(n)
                        .map_err(|_| Error::err(crate::store::databases::OUT_OF_RANGE))
                        .and_then(|d| self.store.select(d))
                });
                match picked {
                    Ok(store) => {
                        self.set_db(store.db_index());
                        Reply::ok()
                    }
                    Err(e) => Reply::Error(e.to_string()),
                }
            }
            "quit" => {
                self.closing = true;
                Reply::ok()
            }
            "monitor" => {
                self.monitor = Some(self.store.start_monitor(Arc::clone(&self.client)));
                self.client.set_flag(clients::FLAG_MONITOR, true);
                Reply::ok()
            }
            "reset" => {
                self.monitor = None;
                self.client.set_flag(clients::FLAG_MONITOR, false);
                self.reset_transaction();
                self.sub = None;
                self.pending.clear();
                self.protocol = Protocol::Resp2;
                self.name = None;
                self.reply_mode = ReplyMode::On;
                *self.client.name.lock() = None;
                self.set_db(0);
                Reply::status("RESET")
            }
            "hello" => self.hello(args),
            _ => self.client_command(args),
        }
    }

    /// `CLIENT ID | GETNAME | SETNAME | INFO | LIST | KILL | UNBLOCK | NO-EVICT | REPLY |
    /// GETREDIR | TRACKING | HELP`.
    fn client_command(&mut self, args: &[&[u8]]) -> Reply {
        let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        let sub = args[0];
        let rest = &args[1..];
        let err = |t: &str| Reply::Error(t.to_owned());
        let arity =
            |name: &str| Reply::Error(Error::WrongArity(format!("client|{name}")).to_string());
        let store = self.store.clone();
        let registry = &store.inner.clients;
        if is(sub, "id") {
            if !rest.is_empty() {
                return arity("id");
            }
            self.note_command("client|id");
            Reply::Integer(i64::try_from(self.id).unwrap_or(i64::MAX))
        } else if is(sub, "getname") {
            if !rest.is_empty() {
                return arity("getname");
            }
            Reply::opt_bulk(self.name.as_deref())
        } else if is(sub, "setname") {
            if rest.len() != 1 {
                return arity("setname");
            }
            match set_name(rest[0]) {
                Ok(name) => {
                    self.name = name;
                    self.client.name.lock().clone_from(&self.name);
                    Reply::ok()
                }
                Err(e) => Reply::Error(e.to_string()),
            }
        } else if is(sub, "info") {
            if !rest.is_empty() {
                return arity("info");
            }
            self.note_command("client|info");
            let now = store.inner.clock.now_ms();
            Reply::Verbatim(
                "txt",
                format!("{}\n", client_line(&self.client, now, request_bytes(args))).into_bytes(),
            )
        } else if is(sub, "list") {
            self.note_command("client|list");
            let mut ids: Option<Vec<u64>> = None;
            let mut pubsub: Option<bool> = None;
            let mut i = 0;
            while i < rest.len() {
                if is(rest[i], "type") && i + 1 < rest.len() {
                    let t = rest[i + 1];
                    pubsub = Some(if is(t, "pubsub") {
                        true
                    } else if is(t, "normal")
                        || is(t, "master")
                        || is(t, "replica")
                        || is(t, "slave")
                    {
                        false
                    } else {
                        return Reply::Error(format!(
                            "ERR Unknown client type '{}'",
                            String::from_utf8_lossy(t)
                        ));
                    });
                    i += 2;
                } else if is(rest[i], "id") && i + 1 < rest.len() {
                    let mut list = Vec::new();
                    for a in &rest[i + 1..] {
                        match crate::num::parse_i64(a).filter(|n| *n > 0) {
                            Some(n) => list.push(n as u64),
                            None => return err("ERR Invalid client ID"),
                        }
                    }
                    ids = Some(list);
                    i = rest.len();
                } else {
                    return err("ERR syntax error");
                }
            }
            let now = store.inner.clock.now_ms();
            let mut out = String::new();
            for c in registry.all() {
                if ids.as_ref().is_some_and(|l| !l.contains(&c.id)) {
                    continue;
                }
                // A normal client is one not subscribed; masters and replicas do not exist here.
                let is_pubsub = c.has_flag(clients::FLAG_SUBSCRIBED);
                if pubsub.is_some_and(|p| p != is_pubsub) {
                    continue;
                }
                let qbuf = if c.id == self.id {
                    request_bytes(args)
                } else {
                    0
                };
                out.push_str(&client_line(&c, now, qbuf));
                out.push('\n');
            }
            Reply::Verbatim("txt", out.into_bytes())
        } else if is(sub, "kill") {
            self.client_kill(rest)
        } else if is(sub, "unblock") {
            if rest.is_empty() || rest.len() > 2 {
                return arity("unblock");
            }
            let Some(id) = crate::num::parse_i64(rest[0]) else {
                return Reply::Error(Error::NotInteger.to_string());
            };
            let how = match rest.get(1) {
                None => clients::UNBLOCK_TIMEOUT,
                Some(r) if is(r, "timeout") => clients::UNBLOCK_TIMEOUT,
                Some(r) if is(r, "error") => clients::UNBLOCK_ERROR,
                Some(_) => return err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
            };
            let target = u64::try_from(id).ok().and_then(|id| registry.get(id));
            match target {
                Some(c) if c.has_flag(clients::FLAG_BLOCKED) => {
                    c.unblock.store(how, Ordering::SeqCst);
                    c.unblocked.notify_waiters();
                    c.unblocked.notify_one();
                    Reply::Integer(1)
                }
                _ => Reply::Integer(0),
            }
        } else if is(sub, "no-evict") {
            match rest {
                [v] if is(v, "on") || is(v, "off") => {
                    self.client.set_flag(clients::FLAG_NO_EVICT, is(v, "on"));
                    Reply::ok()
                }
                [_] => err("ERR syntax error"),
                _ => arity("no-evict"),
            }
        } else if is(sub, "reply") {
            match rest {
                [v] if is(v, "on") => {
                    self.reply_mode = ReplyMode::On;
                    self.suppressed = false;
                    Reply::ok()
                }
                [v] if is(v, "off") || is(v, "skip") => {
                    // Neither form is answered; SKIP also drops the next command's reply.
                    self.reply_mode = if is(v, "off") {
                        ReplyMode::Off
                    } else {
                        ReplyMode::SkipNext
                    };
                    self.suppressed = true;
                    Reply::ok()
                }
                [_] => err("ERR syntax error"),
                _ => arity("reply"),
            }
        } else if is(sub, "getredir") {
            Reply::Integer(-1)
        } else if is(sub, "tracking") || is(sub, "caching") || is(sub, "trackinginfo") {
            err("ERR client-side caching is not supported by sketchstore")
        } else if is(sub, "help") {
            Reply::Array(
                [
                    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "ID",
                    "    Return the ID of the current connection.",
                    "GETNAME",
                    "    Return the name of the current connection.",
                    "SETNAME <name>",
                    "    Assign the name <name> to the current connection.",
                    "INFO",
                    "    Return information about the current client connection.",
                    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
                    "    Return information about client connections.",
                    "KILL <ip:port> | KILL <option> <value> [<option> <value> [...]]",
                    "    Kill connections (ID, ADDR, LADDR, TYPE, USER, SKIPME).",
                    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                    "    Unblock the specified blocked client.",
                    "NO-EVICT (ON|OFF)",
                    "    Protect the current client connection from eviction.",
                    "REPLY (ON|OFF|SKIP)",
                    "    Control the replies sent to the current connection.",
                    "HELP",
                    "    Print this help.",
                ]
                .iter()
                .map(|l| Reply::status(l))
                .collect(),
            )
        } else {
            let shown = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
            Reply::Error(format!(
                "ERR unknown subcommand '{shown}'. Try CLIENT HELP."
            ))
        }
    }

    /// `CLIENT KILL ip:port` (the old form: OK or an error) and `CLIENT KILL <filter> <value>
    /// ...` (the new form: how many were killed; SKIPME yes by default).
    fn client_kill(&mut self, rest: &[&[u8]]) -> Reply {
        let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        let registry = &self.store.inner.clients;
        let addr_of = |c: &ClientState, local: bool| {
            c.addr
                .lock()
                .as_ref()
                .map(|(p, l)| if local { l.clone() } else { p.clone() })
        };
        if rest.len() == 1 {
            let wanted = String::from_utf8_lossy(rest[0]).into_owned();
            let hit = registry
                .all()
                .into_iter()
                .find(|c| addr_of(c, false).as_deref() == Some(wanted.as_str()));
            return match hit {
                Some(c) => {
                    c.kill();
                    Reply::ok()
                }
                None => Reply::Error("ERR No such client".into()),
            };
        }
        if rest.is_empty() {
            return Reply::Error(Error::WrongArity("client|kill".into()).to_string());
        }
        let (mut id, mut addr, mut laddr, mut pubsub, mut skipme) = (None, None, None, None, true);
        // Filters are read in order, so an earlier bad value is reported before a last
        // filter that lacks its value (a syntax error), as Redis does.
        for pair in rest.chunks(2) {
            let (k, v) = match *pair {
                [k, v] => (k, v),
                _ => return Reply::Error("ERR syntax error".into()),
            };
            if is(k, "id") {
                match crate::num::parse_i64(v).filter(|n| *n > 0) {
                    Some(n) => id = Some(n as u64),
                    None => return Reply::Error("ERR client-id should be greater than 0".into()),
                }
            } else if is(k, "addr") {
                addr = Some(String::from_utf8_lossy(v).into_owned());
            } else if is(k, "laddr") {
                laddr = Some(String::from_utf8_lossy(v).into_owned());
            } else if is(k, "type") {
                pubsub = Some(if is(v, "pubsub") {
                    true
                } else if is(v, "normal") || is(v, "master") || is(v, "replica") || is(v, "slave") {
                    false
                } else {
                    return Reply::Error(format!(
                        "ERR Unknown client type '{}'",
                        String::from_utf8_lossy(v)
                    ));
                });
            } else if is(k, "user") {
                if !is(v, "default") {
                    return Reply::Error(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(v)
                    ));
                }
            } else if is(k, "skipme") {
                skipme = if is(v, "yes") {
                    true
                } else if is(v, "no") {
                    false
                } else {
                    return Reply::Error("ERR syntax error".into());
                };
            } else {
                return Reply::Error("ERR syntax error".into());
            }
        }
        let mut killed = 0;
        for c in registry.all() {
            if (skipme && c.id == self.id)
                || id.is_some_and(|i| i != c.id)
                || addr
                    .as_ref()
                    .is_some_and(|a| addr_of(&c, false).as_ref() != Some(a))
                || laddr
                    .as_ref()
                    .is_some_and(|a| addr_of(&c, true).as_ref() != Some(a))
                || pubsub.is_some_and(|p| p != c.has_flag(clients::FLAG_SUBSCRIBED))
            {
                continue;
            }
            c.kill();
            killed += 1;
        }
        Reply::Integer(killed)
    }

    /// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
    fn hello(&mut self, args: &[&[u8]]) -> Reply {
        let mut protocol = self.protocol;
        let mut name = None;
        if let Some(ver) = args.first() {
            protocol = match crate::num::parse_i64(ver) {
                None => {
                    return Reply::Error(
                        "ERR Protocol version is not an integer or out of range".into(),
                    )
                }
                Some(2) => Protocol::Resp2,
                Some(3) => Protocol::Resp3,
                Some(_) => return Reply::Error("NOPROTO unsupported protocol version".into()),
            };
            let mut i = 1;
            while i < args.len() {
                let more = args.len() - i - 1;
                if args[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
                    // No users or passwords here: the default user takes any password.
                    i += 3;
                } else if args[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
                    match set_name(args[i + 1]) {
                        Ok(n) => name = Some(n),
                        Err(e) => return Reply::Error(e.to_string()),
                    }
                    i += 2;
                } else {
                    let shown = String::from_utf8_lossy(args[i]).into_owned();
                    return Reply::Error(format!("ERR Syntax error in HELLO option '{shown}'"));
                }
            }
        }
        self.protocol = protocol;
        if let Some(n) = name {
            self.name = n;
            self.client.name.lock().clone_from(&self.name);
        }
        Reply::Map(vec![
            (Reply::bulk("server"), Reply::bulk("redis")),
            (Reply::bulk("version"), Reply::bulk(crate::REDIS_VERSION)),
            (
                Reply::bulk("proto"),
                Reply::Integer(if protocol == Protocol::Resp3 { 3 } else { 2 }),
            ),
            (
                Reply::bulk("id"),
                Reply::Integer(i64::try_from(self.id).unwrap_or(i64::MAX)),
            ),
            (Reply::bulk("mode"), Reply::bulk("standalone")),
            (Reply::bulk("role"), Reply::bulk("master")),
            (Reply::bulk("modules"), Reply::Array(Vec::new())),
        ])
    }
}

/// A client name as CLIENT SETNAME takes it: empty clears it; spaces, newlines and other
/// characters outside `!`..`~` are refused with Redis's text.
fn set_name(name: &[u8]) -> Result<Option<Vec<u8>>> {
    if name.is_empty() {
        return Ok(None);
    }
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(Error::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(Some(name.to_vec()))
}

/// The size in RESP of `CLIENT <args...>` sent as a multi-bulk request.
fn request_bytes(args: &[&[u8]]) -> usize {
    let digits = |n: usize| n.checked_ilog10().map_or(1, |d| d as usize + 1);
    let bulk = |len: usize| 1 + digits(len) + 2 + len + 2;
    let argc = args.len() + 1;
    1 + digits(argc) + 2 + bulk("client".len()) + args.iter().map(|a| bulk(a.len())).sum::<usize>()
}

/// CLIENT's subcommands that Redis 7.0 shows to MONITOR, with their arities (counting
/// CLIENT): the others are `admin` (KILL, LIST, NO-EVICT, PAUSE, UNPAUSE, UNBLOCK), and an
/// unknown subcommand or a wrong arity is refused before running. The table has no rows for
/// subcommands, hence this list.
const CLIENT_SHOWN: &[(&str, i32)] = &[
    ("caching", 3),
    ("getname", 2),
    ("getredir", 2),
    ("help", 2),
    ("id", 2),
    ("info", 2),
    ("reply", 3),
    ("setname", 3),
    ("tracking", -3),
    ("trackinginfo", 2),
];

/// Whether MONITOR shows a command that ran: not Redis's `admin` ones (the `ADMIN` flag, and
/// CLIENT's admin subcommands).
fn shown_to_monitors(spec: &Spec, argv: &[&[u8]]) -> bool {
    if spec.flags.has(Flags::ADMIN) {
        return false;
    }
    if spec.name == "client" {
        let sub = argv.get(1).copied().unwrap_or_default();
        let n = argv.len() as i32;
        return CLIENT_SHOWN.iter().any(|&(name, arity)| {
            sub.eq_ignore_ascii_case(name.as_bytes()) && (n == arity || (arity < 0 && n >= -arity))
        });
    }
    true
}

/// The arguments of `HELLO` that Redis shows as `(redacted)`: the user and password of an
/// `AUTH` option, as far as HELLO's option parsing gets.
fn hello_credentials(argv: &[&[u8]]) -> std::ops::Range<usize> {
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if argv[i].eq_ignore_ascii_case(b"auth") && more >= 2 {
            return i + 1..i + 3;
        } else if argv[i].eq_ignore_ascii_case(b"setname") && more >= 1 {
            i += 2;
        } else {
            break;
        }
    }
    0..0
}

/// Whether a monitoring connection is refused `argv` (Redis: "Replica can't interact with
/// the keyspace"): Redis refuses its `readonly`, `write` and `may_replicate` commands,
/// which here are the writes, the commands that name keys in `argv` or read the whole
/// keyspace, and PUBLISH (`may_replicate`, with no key). WATCH names keys but is none of
/// those in Redis.
fn touches_keyspace(spec: &Spec, argv: &[&[u8]]) -> bool {
    if spec.flags.has(Flags::WRITE) {
        return true;
    }
    match spec.keys {
        Keys::None | Keys::Global => spec.name == "publish",
        Keys::All => true,
        _ if spec.flags.has(Flags::TXN) => false,
        keys => !keys.of(argv).is_empty(),
    }
}

/// One MONITOR line as Redis 7.0 writes it (without `+` and CRLF):
/// `<secs>.<micros> [<db> <addr>] "arg" ...`, each argument quoted as Redis's `sdscatrepr`
/// does (`\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, other bytes outside `' '..='~'` as
/// `\xhh`), and those in `redacted` as `"(redacted)"`.
pub(crate) fn monitor_line(
    now_us: i64,
    db: usize,
    addr: &str,
    argv: &[&[u8]],
    redacted: std::ops::Range<usize>,
) -> String {
    use std::fmt::Write;
    let mut line =
        String::with_capacity(32 + addr.len() + argv.iter().map(|a| a.len() + 3).sum::<usize>());
    let _ = write!(
        line,
        "{}.{:06} [{db} {addr}]",
        now_us.div_euclid(1_000_000),
        now_us.rem_euclid(1_000_000)
    );
    for (i, arg) in argv.iter().enumerate() {
        line.push_str(" \"");
        if redacted.contains(&i) {
            line.push_str("(redacted)");
        } else {
            for &b in *arg {
                match b {
                    b'\\' => line.push_str("\\\\"),
                    b'"' => line.push_str("\\\""),
                    b'\n' => line.push_str("\\n"),
                    b'\r' => line.push_str("\\r"),
                    b'\t' => line.push_str("\\t"),
                    0x07 => line.push_str("\\a"),
                    0x08 => line.push_str("\\b"),
                    b' '..=b'~' => line.push(char::from(b)),
                    _ => {
                        let _ = write!(line, "\\x{b:02x}");
                    }
                }
            }
        }
        line.push('"');
    }
    line
}

enum Route {
    /// Answered by the connection; MONITOR shows it.
    Done(Reply),
    /// Refused before running (unknown, arity, wrong context) or queued in MULTI; MONITOR
    /// does not show it.
    Refused(Reply),
    Run(&'static Spec),
}

/// One line of CLIENT LIST / CLIENT INFO, with Redis 7.0's fields (those with no meaning
/// here carry Redis's values for an idle client).
///
/// `qbuf` is the query buffer's length: for the client asking, the size of its request (what
/// Redis shows while it runs a request sent alone); 0 for the others, which are idle.
fn client_line(c: &ClientState, now_ms: i64, qbuf: usize) -> String {
    let (addr, laddr) = c.addr.lock().clone().unwrap_or_default();
    let name = c.name.lock().clone().unwrap_or_default();
    let mut flags = String::new();
    if c.has_flag(clients::FLAG_SUBSCRIBED) {
        flags.push('P');
    }
    if c.has_flag(clients::FLAG_MULTI) {
        flags.push('x');
    }
    if c.has_flag(clients::FLAG_BLOCKED) {
        flags.push('b');
    }
    if c.has_flag(clients::FLAG_NO_EVICT) {
        flags.push('e');
    }
    if c.has_flag(clients::FLAG_MONITOR) {
        flags.push('O');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let age = (now_ms - c.created_ms).max(0) / 1000;
    let idle = (now_ms - c.last_ms.load(Ordering::Relaxed)).max(0) / 1000;
    format!(
        "id={} addr={addr} laddr={laddr} fd=-1 name={} age={age} idle={idle} flags={flags} db={} sub={} psub={} ssub=0 multi={} qbuf={qbuf} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        String::from_utf8_lossy(&name),
        c.db.load(Ordering::Relaxed),
        c.subs.load(Ordering::Relaxed),
        c.psubs.load(Ordering::Relaxed),
        if c.has_flag(clients::FLAG_MULTI) { 0 } else { -1 },
        c.last_cmd.lock(),
        c.resp.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod monitor_tests {
    use super::{hello_credentials, monitor_line};

    #[test]
    fn lines_quote_as_redis_sdscatrepr() {
        let argv: [&[u8]; 3] = [b"SET", b"k", b"q\"\\\n\r\t\x07\x08\x00\x7f\xff ~"];
        assert_eq!(
            monitor_line(1_700_000_000_000_042, 3, "127.0.0.1:5000", &argv, 0..0),
            "1700000000.000042 [3 127.0.0.1:5000] \"SET\" \"k\" \"q\\\"\\\\\\n\\r\\t\\a\\b\\x00\\x7f\\xff ~\""
        );
        let auth: [&[u8]; 3] = [b"AUTH", b"user", b"pw"];
        assert_eq!(
            monitor_line(5, 0, "?:0", &auth, 1..3),
            "0.000005 [0 ?:0] \"AUTH\" \"(redacted)\" \"(redacted)\""
        );
    }

    #[test]
    fn hello_redacts_what_its_parser_reads_as_credentials() {
        let argv: [&[u8]; 7] = [b"HELLO", b"3", b"SETNAME", b"n", b"AUTH", b"u", b"p"];
        assert_eq!(hello_credentials(&argv), 5..7);
        let short: [&[u8]; 4] = [b"HELLO", b"3", b"AUTH", b"u"];
        assert_eq!(hello_credentials(&short), 0..0);
        let bad: [&[u8]; 6] = [b"HELLO", b"3", b"NOPE", b"AUTH", b"u", b"p"];
        assert_eq!(hello_credentials(&bad), 0..0);
    }
}
