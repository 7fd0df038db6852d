//! The embedded [`Store`] as a redis-rs connection: `redis::ConnectionLike` and
//! `redis::aio::ConnectionLike`, so code written against redis-rs (`Commands`,
//! `AsyncCommands`, `redis::cmd`, pipelines, atomic pipelines) runs on it unchanged.
//!
//! ```
//! use redis::{Commands, ConnectionLike, RedisResult};
//!
//! // Existing redis-rs code, generic over the connection.
//! fn visit<C: ConnectionLike>(con: &mut C, page: &str) -> RedisResult<(i64, String)> {
//!     let views: i64 = con.incr(format!("views:{page}"), 1)?;
//!     let _: () = con.set("last", page)?;
//!     let last: String = con.get("last")?;
//!     Ok((views, last))
//! }
//!
//! let mut store = sketchstore::Store::new();
//! assert_eq!(visit(&mut store, "home").unwrap(), (1, "home".to_string()));
//! let (a, b): (i64, i64) = redis::pipe().atomic().incr("n", 1).incr("n", 2).query(&mut store).unwrap();
//! assert_eq!((a, b), (1, 3));
//! // `Store`'s own typed methods share names with `Commands`' and win in method calls on a
//! // `Store`; name the trait to call redis-rs's.
//! let n: i64 = Commands::incr(&mut store, "n", 1).unwrap();
//! assert_eq!(n, 4);
//! ```
//!
//! # Design
//!
//! - The packed request bytes redis-rs writes are parsed as RESP2 (arrays of bulk strings,
//!   one or many commands), each command runs through [`Store::execute`], and each reply is
//!   encoded as RESP2 and read back with redis-rs's own parser, so the `redis::Value` (and the
//!   error a caller gets from it, with Redis's exact text) is the one a real server's bytes
//!   would give.
//! - Each `Store` handle is one connection. `MULTI`, queued commands, `EXEC`, `DISCARD`,
//!   `WATCH` and `UNWATCH` sent as separate commands keep their state in the handle (a
//!   [`Transaction`](crate::Transaction) created on first use); cloning a handle gives a new
//!   connection with no state, sharing the data. Commands of a handle outside a transaction
//!   take the same path as [`Store::execute`], untouched by this state.
//! - A blocking command (`BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`) blocks the calling thread
//!   on the sync trait, as a socket read would, and only that handle. On the async trait it
//!   waits on a thread of its own, never on an executor thread; inside `MULTI` it is queued
//!   and runs without blocking, as in Redis.
//! - `SUBSCRIBE` and the other subscription commands (and `MONITOR`) would turn the
//!   connection into a message stream, which `ConnectionLike` cannot carry: they are
//!   refused with an error naming [`Store::subscriber`].
//!
//! Known difference: an atomic pipeline with a command that Redis rejects while queuing
//! fails with the `EXECABORT` error of its `EXEC`, where a real connection gives redis-rs's
//! own "transaction aborted" error listing the queuing errors (redis-rs does not let other
//! crates build that error).

use crate::reply::Reply;
use crate::store::Store;
use ::redis::{ErrorKind, RedisError, RedisResult, Value};

/// Why a subscription command cannot run on a `Store` connection.
fn subscription_refused(name: &[u8]) -> Reply {
    Reply::Error(format!(
        "ERR {} is not supported on a sketchstore connection: use Store::subscriber() for pub/sub",
        String::from_utf8_lossy(name).to_ascii_uppercase()
    ))
}

fn is_subscription(name: &[u8]) -> bool {
    [
        &b"subscribe"[..],
        b"psubscribe",
        b"ssubscribe",
        b"unsubscribe",
        b"punsubscribe",
        b"sunsubscribe",
        b"monitor",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

fn is_transaction_command(name: &[u8]) -> bool {
    [&b"multi"[..], b"exec", b"discard", b"watch", b"unwatch"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

fn is_blocking(name: &[u8]) -> bool {
    [&b"blpop"[..], b"brpop", b"blmove", b"brpoplpush"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

fn protocol_error(detail: String) -> RedisError {
    RedisError::from((ErrorKind::Client, "invalid request", detail))
}

/// The commands of a packed request: RESP2 arrays of bulk strings, back to back.
pub(crate) fn parse_requests(mut bytes: &[u8]) -> RedisResult<Vec<Vec<Vec<u8>>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes[0] != b'*' {
            return Err(protocol_error(format!(
                "expected '*', got byte {:#04x}",
                bytes[0]
            )));
        }
        let (reply, used) = match Reply::from_resp(bytes) {
            Ok(Some(r)) => r,
            Ok(None) => return Err(protocol_error("truncated request".into())),
            Err(e) => return Err(protocol_error(e)),
        };
        bytes = &bytes[used..];
        let Reply::Array(items) = reply else {
            return Err(protocol_error(
                "a request is an array of bulk strings".into(),
            ));
        };
        let argv = items
            .into_iter()
            .map(|item| match item {
                Reply::Bulk(b) => Ok(b),
                _ => Err(protocol_error(
                    "a request is an array of bulk strings".into(),
                )),
            })
            .collect::<RedisResult<Vec<_>>>()?;
        // Redis ignores an empty array.
        if !argv.is_empty() {
            out.push(argv);
        }
    }
    Ok(out)
}

/// A reply as the `redis::Value` a server's bytes for it would parse to.
fn value_of(reply: &Reply) -> RedisResult<Value> {
    ::redis::parse_redis_value(&reply.to_resp())
}

impl Store {
    /// Runs one command as this handle's connection: transaction commands and commands
    /// queued inside MULTI go through the handle's transaction, others straight to the store.
    fn run_as_connection(&mut self, argv: &[Vec<u8>]) -> Reply {
        let name = argv[0].as_slice();
        if is_subscription(name) {
            return subscription_refused(name);
        }
        let in_txn = self.conn.0.as_ref().is_some_and(|t| t.in_multi());
        if in_txn || is_transaction_command(name) {
            let store = self.clone();
            let tx = self
                .conn
                .0
                .get_or_insert_with(|| Box::new(store.transaction()));
            return tx.execute(argv);
        }
        self.execute(argv)
    }

    /// Whether running `commands` may block: a blocking command outside MULTI.
    fn may_block(&self, commands: &[Vec<Vec<u8>>]) -> bool {
        let mut in_multi = self.conn.0.as_ref().is_some_and(|t| t.in_multi());
        for argv in commands {
            let name = argv[0].as_slice();
            if name.eq_ignore_ascii_case(b"multi") {
                in_multi = true;
            } else if name.eq_ignore_ascii_case(b"exec") || name.eq_ignore_ascii_case(b"discard") {
                in_multi = false;
            } else if !in_multi && is_blocking(name) {
                return true;
            }
        }
        false
    }

    /// Runs commands back to back and returns the values of `offset..offset + count`, as
    /// redis-rs's connection reads a pipeline's replies.
    fn run_pipeline(
        &mut self,
        commands: &[Vec<Vec<u8>>],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let mut out = Vec::with_capacity(count);
        let mut queue_error = None;
        for (i, argv) in commands.iter().enumerate() {
            let value = value_of(&self.run_as_connection(argv))?;
            if i < offset {
                if queue_error.is_none() && matches!(value, Value::ServerError(_)) {
                    queue_error = Some(value);
                }
            } else if i < offset + count {
                out.push(value);
            }
        }
        if out.len() < count {
            return Err(protocol_error(format!(
                "{count} replies wanted from {} commands after {offset}",
                commands.len().saturating_sub(offset)
            )));
        }
        if queue_error.is_some() {
            // The EXEC reply is then EXECABORT: report it as the pipeline's error.
            if let Some(Value::ServerError(e)) = out.last() {
                return Err(RedisError::from(e.clone()));
            }
        }
        Ok(out)
    }

    /// The reply to a single packed command (the last one's if several were packed).
    fn run_packed(&mut self, commands: &[Vec<Vec<u8>>]) -> RedisResult<Value> {
        let mut last = None;
        for argv in commands {
            last = Some(value_of(&self.run_as_connection(argv))?);
        }
        last.ok_or_else(|| protocol_error("empty request".into()))
    }

    /// Runs `f` on a handle carrying this handle's connection state on a thread of its own,
    /// then gives the state back: the async form of a call that may block.
    fn on_own_thread<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> crate::backend::BoxFuture<'_, T> {
        let mut handle = self.clone();
        handle.conn = std::mem::take(&mut self.conn);
        let wait = crate::backend::spawn_blocking(move || {
            let r = f(&mut handle);
            (r, handle.conn)
        });
        Box::pin(async move {
            let (r, conn) = wait.await;
            self.conn = conn;
            r
        })
    }
}

impl ::redis::ConnectionLike for Store {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        let commands = parse_requests(cmd)?;
        self.run_packed(&commands)
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let commands = parse_requests(cmd)?;
        self.run_pipeline(&commands, offset, count)
    }

    fn get_db(&self) -> i64 {
        0
    }

    fn check_connection(&mut self) -> bool {
        true
    }

    fn is_open(&self) -> bool {
        true
    }
}

impl ::redis::aio::ConnectionLike for Store {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a ::redis::Cmd,
    ) -> ::redis::RedisFuture<'a, Value> {
        let commands = match parse_requests(&cmd.get_packed_command()) {
            Ok(c) => c,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        if self.may_block(&commands) {
            return self.on_own_thread(move |s| s.run_packed(&commands));
        }
        Box::pin(std::future::ready(self.run_packed(&commands)))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a ::redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> ::redis::RedisFuture<'a, Vec<Value>> {
        let commands = match parse_requests(&cmd.get_packed_pipeline()) {
            Ok(c) => c,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        if self.may_block(&commands) {
            return self.on_own_thread(move |s| s.run_pipeline(&commands, offset, count));
        }
        Box::pin(std::future::ready(
            self.run_pipeline(&commands, offset, count),
        ))
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// The body of the `resp` fuzz target: arbitrary bytes as a packed request to a fresh
/// store's `ConnectionLike`, as one command and as a pipeline, with blocking commands left
/// out (a `BLPOP k 0` would wait forever, as on a server). Must never panic.
pub fn fuzz_resp(data: &[u8]) {
    use ::redis::ConnectionLike;
    if let Ok(commands) = parse_requests(data) {
        if commands.iter().any(|argv| is_blocking(&argv[0])) {
            return;
        }
    }
    let mut store = Store::new();
    let _ = store.req_packed_command(data);
    let n = parse_requests(data).map_or(0, |c| c.len());
    let mut store = Store::new();
    let _ = store.req_packed_commands(data, 0, n);
    let _ = store.req_packed_commands(data, n / 2, n - n / 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_body_runs_on_seeds() {
        for seed in [
            &b""[..],
            b"*1\r\n$4\r\nPING\r\n",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
            b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n",
            b"*1\r\n$5\r\nMULTI\r\n*1\r\n$3\r\nFOO\r\n*1\r\n$4\r\nEXEC\r\n",
            b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n",
            b"*1\r\n$9\r\nSUBSCRIBE\r\n",
            b"*2\r\n$3\r\nGET\r\n$99\r\nk\r\n",
            b"*-1\r\n",
            b"*1\r\n*1\r\n$1\r\nx\r\n",
            b"PING\r\n",
            b"*0\r\n",
            b"*2\r\n:1\r\n$1\r\nx\r\n",
        ] {
            fuzz_resp(seed);
        }
    }

    #[test]
    fn requests_parse() {
        let c =
            parse_requests(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(
            c,
            vec![vec![b"GET".to_vec(), b"k".to_vec()], vec![b"PING".to_vec()]]
        );
        assert!(parse_requests(b"*2\r\n$3\r\nGET\r\n").is_err());
        assert!(parse_requests(b"GET k\r\n").is_err());
    }
}
