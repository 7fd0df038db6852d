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
use crate::cmd::{self, Keys};
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
                let hash = super::keyspace::key_hash(k);
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
        // These act on the transaction instead of being queued, as in Redis.
        if ["multi", "exec", "discard", "watch"].iter().any(|n| {
            argv[..1]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(n.as_bytes()))
        }) {
            return self.execute(&argv);
        }
        // Redis refuses a command at queue time (flagging the transaction) when it fails
        // its arity check or, under a memory limit, when it may grow memory (`denyoom`).
        let checked = cmd::check(&argv)
            .and_then(|s| cmd::check_subcommand(s, &argv).map(|()| s))
            .and_then(|s| self.store.check_memory(s.name));
        if let Err(e) = checked {
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
        let mut specs = Vec::with_capacity(queue.len());
        let mut all = false;
        let mut keys: SmallVec<[&[u8]; 16]> = SmallVec::new();
        for argv in &queue {
            let argv: SmallVec<[&[u8]; 8]> = argv.iter().map(Vec::as_slice).collect();
            let Ok(spec) = cmd::check(&argv) else {
                return Reply::Error(EXECABORT.into());
            };
            match spec.keys {
                Keys::All => all = true,
                k => keys.extend(k.of(&argv)),
            }
            specs.push(spec);
        }
        keys.extend(watched.iter().map(Vec::as_slice));
        let lock = if all { Lock::All } else { Lock::Keys(&keys) };
        self.store.with_db(lock, |db| {
            for k in &watched {
                db.slot(k);
            }
            if flag.load(Ordering::SeqCst) {
                return Reply::NilArray;
            }
            let replies = queue
                .iter()
                .zip(&specs)
                .map(|(argv, spec)| {
                    let argv: SmallVec<[&[u8]; 8]> = argv.iter().map(Vec::as_slice).collect();
                    cmd::run_locked(spec, &argv, db)
                })
                .collect();
            Reply::Array(replies)
        })
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

fn reply(r: Result<()>) -> Reply {
    match r {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::Error(e.to_string()),
    }
}
