//! The clients of a store, as CLIENT LIST, CLIENT KILL and INFO see them.
//!
//! # Design
//!
//! Every `Connection` registers one [`ClientState`] in its store's [`Registry`] when it is
//! created and removes it when dropped. The state is shared (`Arc`): the connection updates
//! it as it runs commands (a few relaxed atomic stores per command, and a short mutex for
//! the name and the last command's name), and any client can read every state to list them
//! or mark one killed. A killed client is closed by whoever drives it: a server notices
//! through [`ClientState::killed`], which a task can await, and a connection refuses further
//! commands. Nothing here knows of sockets or commands; the server fills in the addresses.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};
use std::sync::Arc;

/// Bits of [`ClientState::flags`].
pub(crate) const FLAG_MULTI: u8 = 1;
pub(crate) const FLAG_SUBSCRIBED: u8 = 2;
pub(crate) const FLAG_BLOCKED: u8 = 4;
pub(crate) const FLAG_NO_EVICT: u8 = 8;
pub(crate) const FLAG_MONITOR: u8 = 16;

/// How a blocked client was asked to stop waiting (CLIENT UNBLOCK).
pub(crate) const UNBLOCK_NONE: u8 = 0;
pub(crate) const UNBLOCK_TIMEOUT: u8 = 1;
pub(crate) const UNBLOCK_ERROR: u8 = 2;

/// What the store knows of one client.
#[derive(Debug)]
pub(crate) struct ClientState {
    pub id: u64,
    /// When the client connected, in the store clock's milliseconds.
    pub created_ms: i64,
    /// When it last ran a command.
    pub last_ms: AtomicI64,
    pub name: Mutex<Option<Vec<u8>>>,
    /// The table name of its last command (`client|list` style for containers is not kept).
    pub last_cmd: Mutex<&'static str>,
    /// Peer and local address, when a server set them.
    pub addr: Mutex<Option<(String, String)>>,
    pub flags: AtomicU8,
    /// 2 or 3.
    pub resp: AtomicU8,
    /// Subscribed channels and patterns, for CLIENT LIST's `sub` and `psub`.
    pub subs: AtomicI64,
    pub psubs: AtomicI64,
    /// The database the client selected, for CLIENT LIST's `db`.
    pub db: AtomicI64,
    killed: AtomicBool,
    kill: tokio::sync::Notify,
    /// A CLIENT UNBLOCK request (`UNBLOCK_*`), and its wake-up.
    pub unblock: AtomicU8,
    pub unblocked: tokio::sync::Notify,
}

impl ClientState {
    pub(crate) fn new(id: u64, now_ms: i64) -> ClientState {
        ClientState {
            id,
            created_ms: now_ms,
            last_ms: AtomicI64::new(now_ms),
            name: Mutex::new(None),
            last_cmd: Mutex::new("NULL"),
            addr: Mutex::new(None),
            flags: AtomicU8::new(0),
            resp: AtomicU8::new(2),
            subs: AtomicI64::new(0),
            psubs: AtomicI64::new(0),
            db: AtomicI64::new(0),
            killed: AtomicBool::new(false),
            kill: tokio::sync::Notify::new(),
            unblock: AtomicU8::new(UNBLOCK_NONE),
            unblocked: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn set_flag(&self, flag: u8, on: bool) {
        // Set on every command: a read-modify-write only when the flag changes.
        if self.has_flag(flag) == on {
            return;
        }
        if on {
            self.flags.fetch_or(flag, Ordering::Relaxed);
        } else {
            self.flags.fetch_and(!flag, Ordering::Relaxed);
        }
    }

    pub(crate) fn has_flag(&self, flag: u8) -> bool {
        self.flags.load(Ordering::Relaxed) & flag != 0
    }

    /// Marks the client killed and wakes whoever drives it.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_waiters();
        self.kill.notify_one();
    }

    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Completes once the client is killed.
    pub(crate) async fn killed(&self) {
        loop {
            let notified = self.kill.notified();
            if self.is_killed() {
                return;
            }
            notified.await;
        }
    }
}

/// The clients of one store, by id.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    clients: Mutex<BTreeMap<u64, Arc<ClientState>>>,
}

impl Registry {
    pub(crate) fn add(&self, client: Arc<ClientState>) {
        self.clients.lock().insert(client.id, client);
    }

    pub(crate) fn remove(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Every client, in id order.
    pub(crate) fn all(&self) -> Vec<Arc<ClientState>> {
        self.clients.lock().values().cloned().collect()
    }

    pub(crate) fn get(&self, id: u64) -> Option<Arc<ClientState>> {
        self.clients.lock().get(&id).cloned()
    }
}
