//! A Lua script run on a Redis server by its SHA-1 (`EVALSHA`), sent whole (`EVAL`) when the
//! server does not know it (`NOSCRIPT`: never loaded, flushed, or another cluster node).
//!
//! # Design
//!
//! The SHA-1 comes from `SCRIPT LOAD` on first use and is kept for the life of the backend;
//! the script text is fixed, so the SHA-1 is the same on every node and after a restart, and
//! a `NOSCRIPT` costs one `EVAL` that also loads it there.

use super::bloom_emu::Exec;
use crate::error::{Error, Result};
use crate::reply::Reply;
use parking_lot::Mutex;

/// One script and its SHA-1 once known.
pub(crate) struct LuaScript {
    source: &'static str,
    what: &'static str,
    sha: Mutex<Option<String>>,
}

impl LuaScript {
    /// `what` names the script in I/O error messages.
    pub(crate) const fn new(source: &'static str, what: &'static str) -> LuaScript {
        LuaScript {
            source,
            what,
            sha: Mutex::new(None),
        }
    }

    fn sha(&self, exec: Exec<'_>) -> Result<String> {
        if let Some(s) = self.sha.lock().clone() {
            return Ok(s);
        }
        let s = match exec(&[b"SCRIPT", b"LOAD", self.source.as_bytes()])? {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            Reply::Error(e) => return Err(Error::from_reply_text(&e)),
            other => return Err(Error::Io(format!("unexpected SCRIPT LOAD reply {other:?}"))),
        };
        *self.sha.lock() = Some(s.clone());
        Ok(s)
    }

    /// Runs the script; its reply must be an array (the emulations' replies all are).
    pub(crate) fn eval(
        &self,
        exec: Exec<'_>,
        keys: &[Vec<u8>],
        args: &[Vec<u8>],
    ) -> Result<Vec<Reply>> {
        let sha = self.sha(exec)?;
        let numkeys = keys.len().to_string();
        let mut argv: Vec<&[u8]> = Vec::with_capacity(3 + keys.len() + args.len());
        argv.push(b"EVALSHA");
        argv.push(sha.as_bytes());
        argv.push(numkeys.as_bytes());
        argv.extend(keys.iter().map(Vec::as_slice));
        argv.extend(args.iter().map(Vec::as_slice));
        let mut reply = exec(&argv)?;
        if matches!(&reply, Reply::Error(e) if e.starts_with("NOSCRIPT")) {
            argv[0] = b"EVAL";
            argv[1] = self.source.as_bytes();
            reply = exec(&argv)?;
        }
        match reply {
            Reply::Array(items) => Ok(items),
            Reply::Error(e) => Err(Error::from_reply_text(&e)),
            other => Err(Error::Io(format!(
                "unexpected {} script reply {other:?}",
                self.what
            ))),
        }
    }
}

/// The integer at `i` of a script reply.
pub(crate) fn int_at(reply: &[Reply], i: usize) -> Option<i64> {
    match reply.get(i) {
        Some(Reply::Integer(n)) => Some(*n),
        Some(Reply::Bulk(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// The unsigned integer at `i` of a script reply, sent as decimal text (Lua numbers are
/// doubles: counters that may pass 2^53 travel as two 32-bit halves, see [`join_u64`]).
pub(crate) fn u64_at(reply: &[Reply], i: usize) -> Option<u64> {
    match reply.get(i) {
        Some(Reply::Integer(n)) => u64::try_from(*n).ok(),
        Some(Reply::Bulk(b)) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// A u64 from its high and low 32-bit halves.
pub(crate) fn join_u64(hi: u64, lo: u64) -> u64 {
    (hi << 32) | (lo & 0xffff_ffff)
}
