//! Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH on a [`Transaction`] handle, the
//! transaction state of one Redis connection.
//!
//! # Design
//!
//! Commands are checked when queued (unknown command, arity, PUBSUB subcommand), as Redis
//! checks them, and a failed check flags the transaction so that EXEC answers `EXECABORT`.
//!
//! EXEC locks the union of the shards of every queued command's keys and of the watched
//! keys (every shard if a queued command needs all of them), checks the watches, runs the
//! commands back to back on that one locked view, and serves blocked clients before
//! unlocking. No other operation can observe a transaction half applied, and pushes inside it
//! reach blocked clients only after the last command, as in Redis. A blocking command inside
//! runs as its non-blocking form.
//!
//! WATCH registers a flag on each key's shard under that shard's lock; every modification of
//! the key sets it (keyspace.rs `touch`). A key that expired at WATCH time is removed then,
//! before registering, so it counts as absent; a key that expires between WATCH and EXEC is
//! removed by EXEC's own lookup, which sets the flag: an expiry aborts the transaction as in
//! Redis 7.0.

use super::{Lock, Store};
use crate::cmd::{self, Keys, TxOp};
use crate::error::{Error, Result};
use crate::reply::Reply;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// The MULTI/EXEC/WATCH state of one client.
///
/// ```
/// use sketchstore::{Reply, Store};
/// let store = Store::new();
/// let mut tx = store.transaction();
/// tx.multi().unwrap();
/// assert_eq!(tx.queue(&["INCR", "a"]), Reply::status("QUEUED"));
/// assert_eq!(tx.queue(&["INCR", "a"]), Reply::status("QUEUED"));
/// assert_eq!(tx.exec(), Reply::Array(vec![Reply::Integer(1), Reply::Integer(2)]));
/// ```
pub struct Transaction {
    store: Store,
    flag: Arc<AtomicBool>,
    watched: Vec<Vec<u8>>,
    queue: Option<Vec<Vec<Vec<u8>>>>,
    flagged: bool,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("in_multi", &self.queue.is_some())
            .field("queued", &self.queue.as_ref().map_or(0, Vec::len))
            .field("watched", &self.watched.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A new transaction handle: no MULTI, no WATCH.
    pub fn transaction(&self) -> Transaction {
        Transaction {
            store: self.clone(),
            flag: Arc::new(AtomicBool::new(false)),
            watched: Vec::new(),
            queue: None,
            flagged: false,
        }
    }
}

impl Transaction {
    /// Whether MULTI has been called and neither EXEC nor DISCARD since.
    pub fn in_multi(&self) -> bool {
        self.queue.is_some()
    }

    /// `WATCH key [key ...]`: EXEC will fail if any of them is modified from now on.
    pub fn watch<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<()> {
        if self.in_multi() {
            return Err(Error::err("WATCH inside MULTI is not allowed"));
        }
        if keys.is_empty() {
            return Err(Error::WrongArity("watch".into()));
        }
        if self.flag.load(Ordering::SeqCst) {
            return Ok(());
        }
        let new: SmallVec<[&[u8]; 4]> = keys
            .iter()
            .map(AsRef::as_ref)
            .filter(|k| !self.watched.iter().any(|w| w == k))
            .collect();
        let flag = &self.flag;
        self.store.with_db(Lock::Keys(&new), |db| {
            for k in &new {
                // An expired key is removed before the flag is registered: absent, not changed.
                db.slot(k);
                let hash = db.key_hash(k);
                db.shard(hash).watch(k, flag);
            }
        });
        for k in new {
            if !self.watched.iter().any(|w| w == k) {
                self.watched.push(k.to_vec());
            }
        }
        Ok(())
    }

    /// `UNWATCH`.
    pub fn unwatch(&mut self) {
        // The shards hold only weak references to the flag: replacing it unregisters.
        self.flag = Arc::new(AtomicBool::new(false));
        self.watched.clear();
    }

    /// `MULTI`.
    pub fn multi(&mut self) -> Result<()> {
        if self.in_multi() {
            return Err(Error::err("MULTI calls can not be nested"));
        }
        self.queue = Some(Vec::new());
        Ok(())
    }

    /// `DISCARD`: drops the queue and the watches.
    pub fn discard(&mut self) -> Result<()> {
        if !self.in_multi() {
            return Err(Error::err("DISCARD without MULTI"));
        }
        self.reset();
        Ok(())
    }

    fn reset(&mut self) {
        self.queue = None;
        self.flagged = false;
        self.unwatch();
    }

    /// Queues a command inside MULTI: `+QUEUED`, or the error Redis gives at queue time
    /// (unknown command, wrong arity, unknown PUBSUB subcommand), which also makes EXEC fail
    /// with `EXECABORT`. MULTI, EXEC, DISCARD and WATCH act at once, as
    /// [`Transaction::execute`] runs them. Outside MULTI it is an error and nothing is queued.
    pub fn queue<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Reply {
        let argv: SmallVec<[&[u8]; 8]> = argv.iter().map(AsRef::as_ref).collect();
        if !self.in_multi() {
            return Reply::Error("ERR queue without MULTI".into());
        }
        if acts_on_transaction(&argv[..1]) {
            return self.execute(&argv);
        }
        if let Err(e) = check_queued(&self.store, &argv) {
            self.flagged = true;
            return Reply::Error(e.to_string());
        }
        if let Some(q) = self.queue.as_mut() {
            q.push(argv.iter().map(|a| a.to_vec()).collect());
        }
        Reply::status("QUEUED")
    }

    /// `EXEC`: the array of the queued commands' replies; the null array if a watched key
    /// changed; `EXECABORT` if a command failed to queue.
    pub fn exec(&mut self) -> Reply {
        let Some(queue) = self.queue.take() else {
            return Reply::Error("ERR EXEC without MULTI".into());
        };
        let flagged = std::mem::take(&mut self.flagged);
        let flag = std::mem::replace(&mut self.flag, Arc::new(AtomicBool::new(false)));
        let watched = std::mem::take(&mut self.watched);
        if flagged {
            return Reply::Error(EXECABORT.into());
        }
        let mut queued = Queued::default();
        for argv in &queue {
            let argv = argv.iter().map(Vec::as_slice);
            let Ok(spec) = cmd::check(queued.stage(argv)) else {
                return Reply::Error(EXECABORT.into());
            };
            queued.commit(spec);
        }
        self.store.exec_queued(&queued, &watched, Some(&flag))
    }

    /// Runs one command as a Redis connection would, transaction state included: MULTI,
    /// EXEC, DISCARD, WATCH and UNWATCH act on this handle with Redis's replies and errors;
    /// inside MULTI other commands are queued; outside they run at once (a blocking command
    /// blocks).
    pub fn execute<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Reply {
        let argv: SmallVec<[&[u8]; 8]> = argv.iter().map(AsRef::as_ref).collect();
        let spec = match cmd::check(&argv) {
            Ok(s) => s,
            Err(e) => {
                if self.in_multi() {
                    self.flagged = true;
                }
                if let Error::WrongArity(name) = &e {
                    if name == "exec" {
                        // Redis aborts the transaction when EXEC itself is rejected.
                        self.reset();
                        let text = e.to_string();
                        let text = text.strip_prefix("ERR ").unwrap_or(&text);
                        return Reply::Error(format!(
                            "EXECABORT Transaction discarded because of: {text}"
                        ));
                    }
                }
                return Reply::Error(e.to_string());
            }
        };
        match spec.name {
            "multi" => reply(self.multi()),
            "exec" => self.exec(),
            "discard" => reply(self.discard()),
            "watch" => reply(self.watch(&argv[1..])),
            _ if self.in_multi() => self.queue(&argv),
            "unwatch" => {
                self.unwatch();
                Reply::ok()
            }
            _ => self.store.execute(&argv),
        }
    }
}

/// Whether a command acts on the transaction instead of being queued (MULTI, EXEC, DISCARD,
/// WATCH), as in Redis. `name` is the command's first argument, or nothing.
#[inline]
fn acts_on_transaction(name: &[&[u8]]) -> bool {
    let Some(name) = name.first() else {
        return false;
    };
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    match name.len() {
        4 => is("exec"),
        5 => is("multi") || is("watch"),
        7 => is("discard"),
        _ => false,
    }
}

/// The checks Redis makes when it queues a command: it refuses one (flagging the transaction)
/// that fails its arity check or, under a memory limit, that may grow memory (`denyoom`).
fn check_queued(store: &Store, argv: &[&[u8]]) -> Result<&'static cmd::Spec> {
    let spec = cmd::check(argv)?;
    cmd::check_subcommand(spec, argv)?;
    store.check_memory(spec.name)?;
    Ok(spec)
}

/// Queued commands, borrowed: every argument of every command in one list, each command a
/// range of it with its table row. Inline capacity fits a session pageview without
/// allocating.
#[derive(Default)]
struct Queued<'q> {
    args: SmallVec<[&'q [u8]; 64]>,
    cmds: SmallVec<[(usize, &'static cmd::Spec); 16]>,
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
    fn commit(&mut self, spec: &'static cmd::Spec) {
        self.cmds.push((self.args.len(), spec));
        self.staged = self.args.len();
    }

    fn iter(&self) -> impl Iterator<Item = (&[&'q [u8]], &'static cmd::Spec)> + '_ {
        let starts = std::iter::once(0).chain(self.cmds.iter().map(|&(end, _)| end));
        starts
            .zip(&self.cmds)
            .map(|(start, &(end, spec))| (&self.args[start..end], spec))
    }
}

impl Store {
    /// EXEC of checked commands: locks the union of the shards of their keys and of
    /// `watched` (every shard if a command needs all), checks the watches (`flag`), runs the
    /// commands back to back on that one locked view.
    fn exec_queued(
        &self,
        queued: &Queued<'_>,
        watched: &[Vec<u8>],
        flag: Option<&AtomicBool>,
    ) -> Reply {
        let mut all = false;
        let mut keys: SmallVec<[&[u8]; 16]> = SmallVec::new();
        for (argv, spec) in queued.iter() {
            match spec.keys {
                Keys::All => all = true,
                k => k.extend_with(argv, &mut keys),
            }
        }
        keys.extend(watched.iter().map(Vec::as_slice));
        let lock = if all { Lock::All } else { Lock::Keys(&keys) };
        self.with_db(lock, |db| {
            for k in watched {
                db.slot(k);
            }
            if flag.is_some_and(|f| f.load(Ordering::SeqCst)) {
                return Reply::NilArray;
            }
            let replies = queued
                .iter()
                .map(|(argv, spec)| cmd::run_locked(spec, argv, db))
                .collect();
            Reply::Array(replies)
        })
    }

    /// MULTI, the typed `ops`, EXEC, with no WATCH: what [`Store::multi_exec`] does with the
    /// ops' argv (same queue-time memory check, same locks, same replies), without building
    /// or parsing it.
    pub(crate) fn exec_ops(&self, ops: &[TxOp<'_>]) -> Result<Vec<Reply>> {
        for op in ops {
            if self.check_memory(op.name()).is_err() {
                return Err(Error::from_reply_text(EXECABORT));
            }
        }
        let keys: SmallVec<[&[u8]; 16]> = ops.iter().map(TxOp::key).collect();
        Ok(self.with_db(Lock::Keys(&keys), |db| {
            ops.iter().map(|op| op.run(db)).collect()
        }))
    }

    /// MULTI, `commands`, EXEC, with no WATCH, as a fresh [`Transaction`] would run them
    /// (same checks, same replies), without copying the commands. `None`, having done
    /// nothing, when a command is empty or acts on the transaction (MULTI, EXEC, DISCARD,
    /// WATCH): only a `Transaction` handles those.
    pub(crate) fn multi_exec<C, A>(&self, commands: &[C]) -> Option<Reply>
    where
        C: AsRef<[A]>,
        A: AsRef<[u8]>,
    {
        if commands.iter().any(|c| {
            let c = c.as_ref();
            c.is_empty() || acts_on_transaction(&[c[0].as_ref()])
        }) {
            return None;
        }
        let mut queued = Queued::default();
        let mut flagged = false;
        for argv in commands {
            let argv = argv.as_ref().iter().map(AsRef::as_ref);
            match check_queued(self, queued.stage(argv)) {
                Ok(spec) => queued.commit(spec),
                Err(_) => flagged = true,
            }
        }
        if flagged {
            return Some(Reply::Error(EXECABORT.into()));
        }
        Some(self.exec_queued(&queued, &[], None))
    }
}

fn reply(r: Result<()>) -> Reply {
    match r {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::Error(e.to_string()),
    }
}
