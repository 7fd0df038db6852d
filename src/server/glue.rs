//! The one place where the server meets the command layer: one [`Session`] per client.
//!
//! Interim: until `Connection` (per-connection state: MULTI/WATCH, subscribed mode, the
//! selected database, HELLO and the protocol, AUTH) exists, a session runs each command with
//! [`Store::execute`], writes RESP2, and handles the few connection commands the server
//! itself must answer (`QUIT`, `AUTH` against `requirepass`). `SHUTDOWN` stays here after
//! the switch: stopping the process is the server's business, not a connection's. Switching to `Connection` is
//! confined to this file: `Session` holds one, `execute` calls `Connection::execute_async`
//! and writes with `write_resp3` when the connection's protocol says so, and pushes are
//! read with `Connection::next_push`.

use super::SaveOnExit;
use crate::{Reply, Store};

/// Per-client state the server needs.
pub(super) struct Session {
    store: Store,
    requirepass: Option<Vec<u8>>,
    authenticated: bool,
    close: bool,
    shutdown: Option<SaveOnExit>,
}

impl Session {
    pub(super) fn new(store: Store, requirepass: Option<Vec<u8>>) -> Session {
        let authenticated = requirepass.is_none();
        Session {
            store,
            requirepass,
            authenticated,
            close: false,
            shutdown: None,
        }
    }

    /// Whether the client must still authenticate (the parser's smaller limits apply).
    pub(super) fn auth_required(&self) -> bool {
        !self.authenticated
    }

    /// Whether the connection is to be closed once the replies written so far are sent.
    pub(super) fn should_close(&self) -> bool {
        self.close
    }

    /// A `SHUTDOWN` the client asked for: the connection closes without a reply and the
    /// server stops.
    pub(super) fn shutdown_requested(&self) -> Option<SaveOnExit> {
        self.shutdown
    }

    /// Runs one command and appends its reply to `out`.
    pub(super) async fn execute(&mut self, argv: Vec<Vec<u8>>, out: &mut Vec<u8>) {
        let reply = self.run(argv);
        if self.shutdown.is_none() {
            reply.write_resp(out);
        }
    }

    fn run(&mut self, argv: Vec<Vec<u8>>) -> Reply {
        let Some(name) = argv.first() else {
            return Reply::ok();
        };
        let name = name.to_ascii_lowercase();
        match name.as_slice() {
            b"quit" => {
                self.close = true;
                return Reply::ok();
            }
            b"auth" => return self.auth(&argv),
            _ => {}
        }
        if !self.authenticated {
            return Reply::Error("NOAUTH Authentication required.".to_string());
        }
        if name == b"shutdown" {
            return self.shutdown(&argv);
        }
        if is_blocking(&name) {
            // A blocking pop waits on the calling thread; keep it off the executor's
            // workers until Connection::execute_async replaces this.
            let store = &self.store;
            return tokio::task::block_in_place(|| store.execute(&argv));
        }
        self.store.execute(&argv)
    }

    /// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. NOW and FORCE change nothing here:
    /// there are no replicas to wait for, and a failed save fails the exit either way.
    fn shutdown(&mut self, argv: &[Vec<u8>]) -> Reply {
        let syntax = || Reply::Error("ERR syntax error".to_string());
        let (mut save, mut nosave, mut abort, mut other) = (false, false, false, false);
        for arg in argv.iter().skip(1) {
            match arg.to_ascii_lowercase().as_slice() {
                b"nosave" => nosave = true,
                b"save" => save = true,
                b"now" | b"force" => other = true,
                b"abort" => abort = true,
                _ => return syntax(),
            }
        }
        if (abort && (save || nosave || other)) || (save && nosave) {
            return syntax();
        }
        if abort {
            return Reply::Error("ERR No shutdown in progress.".to_string());
        }
        self.shutdown = Some(if nosave {
            SaveOnExit::No
        } else if save {
            SaveOnExit::Yes
        } else {
            SaveOnExit::IfConfigured
        });
        self.close = true;
        Reply::ok()
    }

    fn auth(&mut self, argv: &[Vec<u8>]) -> Reply {
        let (user, pass) = match argv {
            [_, pass] => (&b"default"[..], pass),
            [_, user, pass] => (user.as_slice(), pass),
            _ => {
                return Reply::Error("ERR wrong number of arguments for 'auth' command".to_string())
            }
        };
        let Some(expected) = &self.requirepass else {
            if argv.len() == 2 {
                return Reply::Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".to_string());
            }
            // Without requirepass the default user accepts any password.
            if user == b"default" {
                self.authenticated = true;
                return Reply::ok();
            }
            return wrongpass();
        };
        if user == b"default" && pass == expected {
            self.authenticated = true;
            Reply::ok()
        } else {
            wrongpass()
        }
    }
}

fn wrongpass() -> Reply {
    Reply::Error("WRONGPASS invalid username-password pair or user is disabled.".to_string())
}

fn is_blocking(lower_name: &[u8]) -> bool {
    matches!(
        lower_name,
        b"blpop" | b"brpop" | b"blmove" | b"brpoplpush" | b"blmpop"
    )
}
