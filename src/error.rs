//! The one public error type. Its `Display` is the exact error text Redis 7.0 (RedisBloom
//! for `BF.*`) replies with, without the leading `-`, so an error reply is
//! `Reply::Error(err.to_string())` and parity tests compare strings.

use std::fmt;

/// Every way a sketchstore command can fail.
///
/// Variants carry what their Redis text needs; `Display` produces that text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`.
    WrongType,
    /// `ERR wrong number of arguments for '<name>' command`.
    WrongArity(String),
    /// `ERR unknown command '<name>', with args beginning with: ...` (the full text).
    UnknownCommand(String),
    /// `ERR syntax error`.
    Syntax,
    /// `ERR value is not an integer or out of range`.
    NotInteger,
    /// `ERR value is not a valid float`.
    NotFloat,
    /// `ERR increment or decrement would overflow`.
    Overflow,
    /// `ERR decrement would overflow` (DECRBY of `i64::MIN`).
    DecrementOverflow,
    /// `ERR hash value is not an integer`.
    HashNotInteger,
    /// `ERR hash value is not a float`.
    HashNotFloat,
    /// `ERR increment would produce NaN or Infinity`.
    NanOrInfinity,
    /// `ERR invalid expire time in '<command>' command`.
    InvalidExpire(String),
    /// `ERR no such key`.
    NoSuchKey,
    /// `ERR invalid cursor`.
    InvalidCursor,
    /// `ERR string exceeds maximum allowed size (proto-max-bulk-len)`.
    StringTooLong,
    /// A Redis error whose text is not shared by several commands: the full text after `-`.
    Other(String),
    /// An I/O or connection failure of a backend that is not a Redis reply.
    Io(String),
    /// `OOM command not allowed when used memory > 'maxmemory'.`: a write that may grow
    /// memory, refused under a memory limit with nothing left to evict.
    OutOfMemory,
    /// A snapshot file that cannot be loaded (foreign, truncated, corrupt or from a newer
    /// format); the text says why, in the style of Redis's RDB load errors.
    Snapshot(String),
}

impl Error {
    /// An error with an arbitrary Redis text (the whole line after the `-`).
    pub fn other(text: impl Into<String>) -> Error {
        Error::Other(text.into())
    }

    /// `ERR <text>`.
    pub fn err(text: impl fmt::Display) -> Error {
        Error::Other(format!("ERR {text}"))
    }

    /// An error whose text embeds bytes the client sent, cleaned as Redis cleans them: the
    /// bytes stop at a NUL (Redis formats them as C strings), line breaks at the end are
    /// trimmed and the others become spaces, so the reply stays one protocol line.
    pub(crate) fn with_user_text(prefix: &str, user: &[u8], suffix: &str) -> Error {
        let user = user.split(|&b| b == 0).next().unwrap_or_default();
        let text = format!("{prefix}{}{suffix}", String::from_utf8_lossy(user));
        let text = text.trim_end_matches(['\r', '\n']);
        Error::Other(text.replace(['\r', '\n'], " "))
    }

    /// Builds the error from a Redis error reply's text, mapping known texts to variants.
    pub fn from_reply_text(text: &str) -> Error {
        match text {
            "WRONGTYPE Operation against a key holding the wrong kind of value" => Error::WrongType,
            "ERR syntax error" => Error::Syntax,
            "ERR value is not an integer or out of range" => Error::NotInteger,
            "ERR value is not a valid float" => Error::NotFloat,
            "ERR increment or decrement would overflow" => Error::Overflow,
            "ERR decrement would overflow" => Error::DecrementOverflow,
            "ERR hash value is not an integer" => Error::HashNotInteger,
            "ERR hash value is not a float" => Error::HashNotFloat,
            "ERR increment would produce NaN or Infinity" => Error::NanOrInfinity,
            "ERR no such key" => Error::NoSuchKey,
            "ERR invalid cursor" => Error::InvalidCursor,
            "OOM command not allowed when used memory > 'maxmemory'." => Error::OutOfMemory,
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)" => Error::StringTooLong,
            _ => {
                if let Some(name) = text
                    .strip_prefix("ERR wrong number of arguments for '")
                    .and_then(|r| r.strip_suffix("' command"))
                {
                    return Error::WrongArity(name.to_owned());
                }
                if let Some(name) = text
                    .strip_prefix("ERR invalid expire time in '")
                    .and_then(|r| r.strip_suffix("' command"))
                {
                    return Error::InvalidExpire(name.to_owned());
                }
                if text.starts_with("ERR unknown command '") {
                    return Error::UnknownCommand(text.to_owned());
                }
                Error::Other(text.to_owned())
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            Error::WrongArity(name) => {
                write!(f, "ERR wrong number of arguments for '{name}' command")
            }
            Error::UnknownCommand(text) | Error::Other(text) => f.write_str(text),
            Error::Syntax => f.write_str("ERR syntax error"),
            Error::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            Error::NotFloat => f.write_str("ERR value is not a valid float"),
            Error::Overflow => f.write_str("ERR increment or decrement would overflow"),
            Error::DecrementOverflow => f.write_str("ERR decrement would overflow"),
            Error::HashNotInteger => f.write_str("ERR hash value is not an integer"),
            Error::HashNotFloat => f.write_str("ERR hash value is not a float"),
            Error::NanOrInfinity => f.write_str("ERR increment would produce NaN or Infinity"),
            Error::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            Error::NoSuchKey => f.write_str("ERR no such key"),
            Error::InvalidCursor => f.write_str("ERR invalid cursor"),
            Error::StringTooLong => {
                f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            Error::Io(msg) => write!(f, "IOERR {msg}"),
            Error::OutOfMemory => {
                f.write_str("OOM command not allowed when used memory > 'maxmemory'.")
            }
            Error::Snapshot(msg) => write!(f, "ERR snapshot: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::num::FloatError> for Error {
    fn from(e: crate::num::FloatError) -> Error {
        Error::from_reply_text(&e.to_string())
    }
}

/// `Result` with sketchstore's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn texts_round_trip_through_from_reply_text() {
        let all = [
            Error::WrongType,
            Error::WrongArity("get".into()),
            Error::Syntax,
            Error::NotInteger,
            Error::NotFloat,
            Error::Overflow,
            Error::DecrementOverflow,
            Error::HashNotInteger,
            Error::HashNotFloat,
            Error::NanOrInfinity,
            Error::InvalidExpire("set".into()),
            Error::NoSuchKey,
            Error::InvalidCursor,
            Error::StringTooLong,
            Error::OutOfMemory,
            Error::Other("ERR something else".into()),
        ];
        for e in all {
            assert_eq!(Error::from_reply_text(&e.to_string()), e);
        }
    }
}
