//! `Reply`: a command's answer, shaped like a RESP2 reply.
//!
//! The argv entry point (`Store::execute`) answers with a `Reply`; typed methods return
//! Rust values instead. `Reply::to_resp` writes the RESP2 wire form, and `Reply::from_resp`
//! reads it back (used by the parity tests and by the redis-rs `ConnectionLike` bridge).

use std::fmt;

/// One RESP2 reply.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Reply {
    /// `+OK`-style simple string.
    Status(String),
    /// `-ERR ...`-style error: the whole text after the `-`.
    Error(String),
    /// `:n`.
    Integer(i64),
    /// `$n` bulk string.
    Bulk(Vec<u8>),
    /// `$-1`, the nil bulk string.
    Nil,
    /// `*n` array.
    Array(Vec<Reply>),
    /// `*-1`, the null array.
    NilArray,
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Status("OK".to_owned())
    }

    /// A simple string reply.
    pub fn status(s: &str) -> Reply {
        Reply::Status(s.to_owned())
    }

    /// A bulk reply from anything byte-like.
    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(b.as_ref().to_vec())
    }

    /// A bulk reply, or nil for `None`.
    pub fn opt_bulk(b: Option<impl AsRef<[u8]>>) -> Reply {
        match b {
            Some(b) => Reply::bulk(b),
            None => Reply::Nil,
        }
    }

    /// An array of bulk strings.
    pub fn bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        Reply::Array(items.into_iter().map(Reply::bulk).collect())
    }

    /// Whether this is an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the RESP2 encoding of this reply to `out`.
    pub fn write_resp(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Status(s) => {
                out.push(b'+');
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Error(s) => {
                out.push(b'-');
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Integer(n) => {
                out.push(b':');
                out.extend_from_slice(n.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Bulk(b) => {
                out.push(b'$');
                out.extend_from_slice(b.len().to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::Array(items) => {
                out.push(b'*');
                out.extend_from_slice(items.len().to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                for item in items {
                    item.write_resp(out);
                }
            }
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
        }
    }

    /// The RESP2 encoding of this reply.
    pub fn to_resp(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_resp(&mut out);
        out
    }

    /// Parses one RESP2 reply from the front of `buf`.
    ///
    /// Returns the reply and the number of bytes it used, `Ok(None)` when `buf` holds only
    /// part of a reply, and an error message when the bytes are not RESP2.
    pub fn from_resp(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
        parse_resp(buf, 0, 0)
    }
}

const MAX_RESP_DEPTH: usize = 64;

fn read_line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let idx = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..idx], pos + idx + 2))
}

fn parse_int(line: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| {
            format!(
                "bad RESP length or integer {:?}",
                String::from_utf8_lossy(line)
            )
        })
}

fn parse_resp(buf: &[u8], pos: usize, depth: usize) -> Result<Option<(Reply, usize)>, String> {
    if depth > MAX_RESP_DEPTH {
        return Err("RESP nesting too deep".into());
    }
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((line, next)) = read_line(buf, pos + 1) else {
        return Ok(None);
    };
    let text = || String::from_utf8_lossy(line).into_owned();
    match tag {
        b'+' => Ok(Some((Reply::Status(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => Ok(Some((Reply::Integer(parse_int(line)?), next))),
        b'$' => {
            let n = parse_int(line)?;
            if n == -1 {
                return Ok(Some((Reply::Nil, next)));
            }
            let n = usize::try_from(n).map_err(|_| "negative bulk length".to_string())?;
            let end = next.checked_add(n).ok_or("bulk length overflow")?;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err("bulk string not terminated by CRLF".into());
            }
            Ok(Some((Reply::Bulk(buf[next..end].to_vec()), end + 2)))
        }
        b'*' => {
            let n = parse_int(line)?;
            if n == -1 {
                return Ok(Some((Reply::NilArray, next)));
            }
            let n = usize::try_from(n).map_err(|_| "negative array length".to_string())?;
            let mut items = Vec::with_capacity(n.min(1024));
            let mut at = next;
            for _ in 0..n {
                match parse_resp(buf, at, depth + 1)? {
                    Some((item, used)) => {
                        items.push(item);
                        at = used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(items), at)))
        }
        other => Err(format!("unexpected RESP type byte {other:#04x}")),
    }
}

impl fmt::Debug for Reply {
    /// The notation of the spec digests: `:n`, `"x"`, `$-1`, `*-1`, `[...]`, `+OK`, `-ERR ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Status(s) => write!(f, "+{s}"),
            Reply::Error(s) => write!(f, "-{s}"),
            Reply::Integer(n) => write!(f, ":{n}"),
            Reply::Bulk(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Reply::Nil => write!(f, "$-1"),
            Reply::NilArray => write!(f, "*-1"),
            Reply::Array(items) => f.debug_list().entries(items).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reply;

    #[test]
    fn resp_round_trip() {
        let r = Reply::Array(vec![
            Reply::ok(),
            Reply::Error("ERR syntax error".into()),
            Reply::Integer(-7),
            Reply::bulk("a\r\nb"),
            Reply::Nil,
            Reply::NilArray,
            Reply::Array(vec![]),
        ]);
        let bytes = r.to_resp();
        let (back, used) = Reply::from_resp(&bytes).unwrap().unwrap();
        assert_eq!(back, r);
        assert_eq!(used, bytes.len());
        assert_eq!(Reply::from_resp(&bytes[..bytes.len() - 1]).unwrap(), None);
    }

    #[test]
    fn resp_rejects_garbage() {
        assert!(Reply::from_resp(b"?x\r\n").is_err());
        assert!(Reply::from_resp(b"$-5\r\n").is_err());
    }
}
