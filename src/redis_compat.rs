//! A [`Connection`] to the embedded store as a redis-rs connection: `redis::ConnectionLike` and
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
//! let store = sketchstore::Store::new();
//! let mut con = store.connection();
//! assert_eq!(visit(&mut con, "home").unwrap(), (1, "home".to_string()));
//! let (a, b): (i64, i64) = redis::pipe().atomic().incr("n", 1).incr("n", 2).query(&mut con).unwrap();
//! assert_eq!((a, b), (1, 3));
//! let n: i64 = con.incr("n", 1).unwrap();
//! assert_eq!(n, 4);
//! // The typed API sees the same data.
//! assert_eq!(store.get("n").unwrap(), Some(b"4".to_vec()));
//! ```
//!
//! # Design
//!
//! - The packed request bytes redis-rs writes are parsed as RESP2 (arrays of bulk strings,
//!   one or many commands), each command runs through [`Connection::execute`], and each reply
//!   is encoded as RESP2 and read back with redis-rs's own parser, so the `redis::Value` (and
//!   the error a caller gets from it, with Redis's exact text) is the one a real server's
//!   bytes would give.
//! - The connection's state is the [`Connection`]'s: MULTI, WATCH, client name. Open one
//!   connection per redis-rs connection you would have opened (`store.connection()`).
//! - A blocking command (`BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`) blocks the calling thread
//!   on the sync trait, as a socket read would, and only that connection. On the async trait
//!   it waits as a future ([`Connection::execute_async`]), never holding an executor thread;
//!   inside `MULTI` it is queued and runs without blocking, as in Redis.
//! - `SUBSCRIBE` and the other subscription commands, and `MONITOR`, would turn the
//!   connection into a message stream, which `ConnectionLike` cannot carry: they are refused
//!   with an error naming [`Connection::next_push`], the connection's own way to read pushed
//!   messages (and MONITOR's lines).
//!
//! Known difference: an atomic pipeline with a command that Redis rejects while queuing
//! fails with the `EXECABORT` error of its `EXEC`, where a real connection gives redis-rs's
//! own "transaction aborted" error listing the queuing errors (redis-rs does not let other
//! crates build that error).

use crate::cmd::{Connection, Flags};
use crate::reply::Reply;
use ::redis::{ErrorKind, RedisError, RedisResult, Value};

/// Why a subscription command cannot run through `ConnectionLike`.
fn subscription_refused(name: &[u8]) -> Reply {
    Reply::Error(format!(
        "ERR {} is not supported through redis-rs's ConnectionLike: call Connection::execute and take messages with Connection::next_push",
        String::from_utf8_lossy(name).to_ascii_uppercase()
    ))
}

/// Whether a command would turn the connection into a message stream (SUBSCRIBE and the
/// other subscription commands, MONITOR), which `ConnectionLike` cannot carry.
fn is_subscription(name: &[u8]) -> bool {
    crate::cmd::lookup(name).is_some_and(|s| {
        (s.flags.has(Flags::PUBSUB) && !s.flags.has(Flags::CONN) && s.name != "ping")
            || s.name == "monitor"
    })
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

impl Connection {
    /// Runs one command for redis-rs: as [`Connection::execute`], subscriptions refused.
    fn run_for_redis(&mut self, argv: &[Vec<u8>]) -> Reply {
        let name = argv[0].as_slice();
        if is_subscription(name) {
            return subscription_refused(name);
        }
        self.execute(argv)
    }

    /// [`Connection::run_for_redis`] waiting as a future for a blocking command.
    async fn run_for_redis_async(&mut self, argv: Vec<Vec<u8>>) -> Reply {
        if is_subscription(&argv[0]) {
            return subscription_refused(&argv[0]);
        }
        self.execute_async(argv).await
    }

    /// Runs commands back to back and returns the values of `offset..offset + count`, as
    /// redis-rs's connection reads a pipeline's replies.
    fn run_pipeline(
        &mut self,
        commands: &[Vec<Vec<u8>>],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let replies = commands
            .iter()
            .map(|argv| self.run_for_redis(argv))
            .collect();
        pipeline_values(replies, commands.len(), offset, count)
    }

    async fn run_pipeline_async(
        &mut self,
        commands: Vec<Vec<Vec<u8>>>,
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let n = commands.len();
        let mut replies = Vec::with_capacity(n);
        for argv in commands {
            replies.push(self.run_for_redis_async(argv).await);
        }
        pipeline_values(replies, n, offset, count)
    }

    /// The reply to a single packed command (the last one's if several were packed).
    fn run_packed(&mut self, commands: &[Vec<Vec<u8>>]) -> RedisResult<Value> {
        let mut last = None;
        for argv in commands {
            last = Some(value_of(&self.run_for_redis(argv))?);
        }
        last.ok_or_else(|| protocol_error("empty request".into()))
    }

    async fn run_packed_async(&mut self, commands: Vec<Vec<Vec<u8>>>) -> RedisResult<Value> {
        let mut last = None;
        for argv in commands {
            last = Some(value_of(&self.run_for_redis_async(argv).await)?);
        }
        last.ok_or_else(|| protocol_error("empty request".into()))
    }
}

/// The values of `offset..offset + count` among a pipeline's replies; the error of an
/// atomic pipeline's EXEC when a command failed to queue.
fn pipeline_values(
    replies: Vec<Reply>,
    commands: usize,
    offset: usize,
    count: usize,
) -> RedisResult<Vec<Value>> {
    let mut out = Vec::with_capacity(count);
    let mut queue_error = false;
    for (i, reply) in replies.iter().enumerate() {
        let value = value_of(reply)?;
        if i < offset {
            queue_error |= matches!(value, Value::ServerError(_));
        } else if i < offset + count {
            out.push(value);
        }
    }
    if out.len() < count {
        return Err(protocol_error(format!(
            "{count} replies wanted from {} commands after {offset}",
            commands.saturating_sub(offset)
        )));
    }
    if queue_error {
        // The EXEC reply is then EXECABORT: report it as the pipeline's error.
        if let Some(Value::ServerError(e)) = out.last() {
            return Err(RedisError::from(e.clone()));
        }
    }
    Ok(out)
}

impl ::redis::ConnectionLike for Connection {
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
        !self.is_closing()
    }
}

impl ::redis::aio::ConnectionLike for Connection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a ::redis::Cmd,
    ) -> ::redis::RedisFuture<'a, Value> {
        let commands = match parse_requests(&cmd.get_packed_command()) {
            Ok(c) => c,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        Box::pin(self.run_packed_async(commands))
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
        Box::pin(self.run_pipeline_async(commands, offset, count))
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// The body of the `resp` fuzz target: arbitrary bytes as a packed request to a fresh
/// connection's `ConnectionLike`, as one command and as a pipeline, with blocking commands
/// left out (a `BLPOP k 0` would wait forever, as on a server). Must never panic.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_resp(data: &[u8]) {
    use ::redis::ConnectionLike;
    if let Ok(commands) = parse_requests(data) {
        if commands
            .iter()
            .any(|argv| crate::cmd::lookup(&argv[0]).is_some_and(|s| s.block.is_some()))
        {
            return;
        }
    }
    let mut store = crate::Store::new().connection();
    let _ = store.req_packed_command(data);
    let n = parse_requests(data).map_or(0, |c| c.len());
    let mut store = crate::Store::new().connection();
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
