//! The one place where the server meets the command layer: one [`Session`] per client,
//! holding that client's [`Connection`].
//!
//! The connection owns every per-client rule (MULTI/WATCH, subscribed mode, MONITOR, HELLO
//! and the protocol, CLIENT, RESET, QUIT); the session adds what only a server has: AUTH
//! against `requirepass` (compared in constant time, shown to MONITOR redacted, and read from
//! the store's settings when a client connects and at each AUTH, so that CONFIG SET
//! requirepass acts as in Redis: new clients need the new password, clients already in stay
//! in), SHUTDOWN, SAVE and BGSAVE (which need the server's `dir` and `dbfilename`), and
//! writing each reply in the client's protocol. Blocking commands wait as futures
//! (`Connection::execute_async`), so a
//! client parked in BLPOP holds no thread.

use super::SaveOnExit;
use crate::{Connection, Protocol, Reply, Store};

/// Per-client state the server needs.
pub(super) struct Session {
    conn: Connection,
    store: Store,
    authenticated: bool,
    close: bool,
    shutdown: Option<SaveOnExit>,
}

impl Session {
    pub(super) fn new(store: Store, peer: String, local: String) -> Session {
        let authenticated = requirepass(&store).is_none();
        let mut conn = store.connection();
        conn.set_addresses(peer, local);
        Session {
            conn,
            store,
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
        self.close || self.conn.is_closing()
    }

    /// A `SHUTDOWN` the client asked for: the connection closes without a reply and the
    /// server stops.
    pub(super) fn shutdown_requested(&self) -> Option<SaveOnExit> {
        self.shutdown
    }

    /// Whether the client is subscribed or monitors: its messages (MONITOR's lines) are
    /// written while it is idle.
    pub(super) fn has_pushes(&self) -> bool {
        self.conn.is_subscribed() || self.conn.is_monitor()
    }

    /// Runs one command that completes without waiting and appends its reply to `out`
    /// (unless CLIENT REPLY says not to); false, without running it, for a command that may
    /// wait (a blocking pop outside MULTI), which goes to [`Session::execute_waiting`].
    pub(super) fn execute_now(&mut self, argv: &[&[u8]], out: &mut Vec<u8>) -> bool {
        match self.run(argv) {
            Some(reply) => {
                self.write_reply(&reply, out);
                true
            }
            None => false,
        }
    }

    /// Runs a command [`Session::execute_now`] left, waiting as a future.
    pub(super) async fn execute_waiting(&mut self, argv: Vec<Vec<u8>>, out: &mut Vec<u8>) {
        let reply = self.conn.execute_async(argv).await;
        self.write_reply(&reply, out);
    }

    fn write_reply(&self, reply: &Reply, out: &mut Vec<u8>) {
        if self.shutdown.is_none() && !self.conn.reply_suppressed() {
            self.write(reply, out);
        }
    }

    /// A future that completes when another client kills this one (CLIENT KILL).
    pub(super) fn killed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.conn.killed()
    }

    /// Appends the replies the last command pushed after its first (further subscription
    /// confirmations) and messages already waiting.
    pub(super) fn write_pending_pushes(&mut self, out: &mut Vec<u8>) {
        while let Some(push) = self.conn.try_next_push() {
            if push.is_error() {
                // The subscription's buffer overflowed: close, as Redis does.
                self.close = true;
                return;
            }
            self.write(&push, out);
        }
    }

    /// The next message for a subscribed client, encoded; `None` when the connection must
    /// be closed (its buffer limit was passed).
    pub(super) async fn next_push(&mut self) -> Option<Vec<u8>> {
        let push = self.conn.next_push().await?;
        if push.is_error() {
            return None;
        }
        let mut out = Vec::new();
        self.write(&push, &mut out);
        Some(out)
    }

    fn write(&self, reply: &Reply, out: &mut Vec<u8>) {
        match self.conn.protocol() {
            Protocol::Resp3 => reply.write_resp3(out),
            _ => reply.write_resp(out),
        }
    }

    /// The reply; `None` when the command may wait.
    fn run(&mut self, argv: &[&[u8]]) -> Option<Reply> {
        let Some(&name) = argv.first() else {
            return Some(Reply::ok());
        };
        // Only a blocking command outside MULTI waits (inside, it is queued).
        if crate::cmd::may_block(name) && !self.conn.in_multi() {
            return (!self.authenticated)
                .then(|| Reply::Error("NOAUTH Authentication required.".to_string()));
        }
        Some(self.run_now(name, argv))
    }

    fn run_now(&mut self, name: &[u8], argv: &[&[u8]]) -> Reply {
        // The server's own commands are all at most 8 bytes long: a longer name is none of
        // them, and the lower-casing needs no allocation.
        let mut lower = [0u8; 8];
        let name: &[u8] = match lower.get_mut(..name.len()) {
            Some(l) => {
                l.copy_from_slice(name);
                l.make_ascii_lowercase();
                l
            }
            None => b"",
        };
        match name {
            b"auth" => {
                let reply = self.auth(argv);
                if self.store.inner.monitors.active() {
                    self.conn.feed_monitors(argv);
                }
                return reply;
            }
            b"hello" => {
                if let Err(e) = self.hello_auth(argv) {
                    // Redis shows a HELLO whose AUTH failed, credentials redacted.
                    if self.store.inner.monitors.active() {
                        self.conn.feed_monitors(argv);
                    }
                    return e;
                }
            }
            b"quit" => {}
            _ if !self.authenticated => {
                return Reply::Error("NOAUTH Authentication required.".to_string());
            }
            // Redis's `no-multi` flag: refused while queuing, and the transaction aborts.
            b"shutdown" | b"save" if self.conn.in_multi() => {
                return self
                    .conn
                    .refuse_in_multi("ERR Command not allowed inside a transaction")
            }
            b"shutdown" => return self.shutdown(argv),
            // Inside MULTI they are queued (and run by EXEC without the path): only the
            // direct form is the server's.
            b"save" | b"bgsave" if !self.conn.in_multi() => return self.save(name, argv),
            _ => {}
        }
        self.conn.execute_args(argv)
    }

    /// HELLO's AUTH option, checked by the server before the connection answers HELLO.
    fn hello_auth(&mut self, argv: &[&[u8]]) -> Result<(), Reply> {
        let auth = argv
            .iter()
            .position(|a| a.eq_ignore_ascii_case(b"auth"))
            .filter(|&i| i >= 2 && i + 2 < argv.len());
        match auth {
            Some(i) => {
                let reply = self.check_password(argv[i + 1], argv[i + 2]);
                if reply.is_error() {
                    return Err(reply);
                }
                Ok(())
            }
            None if !self.authenticated => Err(Reply::Error(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".to_string(),
            )),
            None => Ok(()),
        }
    }

    /// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. NOW and FORCE change nothing here:
    /// there are no replicas to wait for, and a failed save fails the exit either way.
    fn shutdown(&mut self, argv: &[&[u8]]) -> Reply {
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

    /// SAVE and BGSAVE [SCHEDULE] to `dir/dbfilename` as CONFIG reports them now. A failed
    /// SAVE answers Redis's bare `ERR` (its reply object for a failed save; the reason goes to
    /// the log); a BGSAVE's failure shows in INFO's `rdb_last_bgsave_status`.
    fn save(&mut self, name: &[u8], argv: &[&[u8]]) -> Reply {
        match argv {
            [_] => {}
            [_, opt] if name == b"bgsave" && opt.eq_ignore_ascii_case(b"schedule") => {}
            [_, _] if name == b"bgsave" => return Reply::Error("ERR syntax error".to_string()),
            _ => {
                return Reply::Error(format!(
                    "ERR wrong number of arguments for '{}' command",
                    String::from_utf8_lossy(name)
                ))
            }
        }
        let settings = &self.store.inner.settings;
        let text = |n: &str| {
            settings
                .text(n)
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_default()
        };
        let path = std::path::Path::new(&text("dir")).join(text("dbfilename"));
        if name == b"save" {
            return match self.store.save(&path) {
                Ok(_) => Reply::ok(),
                Err(e) => {
                    eprintln!(
                        "{}:M * Failed saving the DB {}: {e}",
                        std::process::id(),
                        path.display()
                    );
                    Reply::Error("ERR".to_string())
                }
            };
        }
        match self.store.background_save(path) {
            // SCHEDULE only matters while an AOF rewrite runs, which never happens here.
            Ok(()) => Reply::status("Background saving started"),
            Err(e) => Reply::Error(e.to_string()),
        }
    }

    fn auth(&mut self, argv: &[&[u8]]) -> Reply {
        let (user, pass) = match argv {
            [_, pass] => (&b"default"[..], *pass),
            [_, user, pass] => (*user, *pass),
            _ => {
                return Reply::Error("ERR wrong number of arguments for 'auth' command".to_string())
            }
        };
        if requirepass(&self.store).is_none() && argv.len() == 2 {
            return Reply::Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".to_string());
        }
        self.check_password(user, pass)
    }

    /// The default user's password check: any password without `requirepass`.
    fn check_password(&mut self, user: &[u8], pass: &[u8]) -> Reply {
        let ok = user == b"default"
            && requirepass(&self.store)
                .as_deref()
                .is_none_or(|expected| constant_time_eq(pass, expected));
        if ok {
            self.authenticated = true;
            Reply::ok()
        } else {
            Reply::Error(
                "WRONGPASS invalid username-password pair or user is disabled.".to_string(),
            )
        }
    }
}

/// The default user's password as the store's settings hold it now (`requirepass` from the
/// command line or file, or the last CONFIG SET); none when empty.
fn requirepass(store: &Store) -> Option<Vec<u8>> {
    store
        .inner
        .settings
        .text("requirepass")
        .filter(|p| !p.is_empty())
}

/// Compares two secrets in time that depends only on their lengths, not on where they
/// first differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
