//! The incremental request parser of the server: bytes from a socket in, one command (argv) at
//! a time out, with Redis 7.0's limits and protocol error texts.
//!
//! # Design
//!
//! A client sends either multibulk requests (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every
//! client library sends) or inline commands (`GET k\r\n`, what a person types into telnet).
//! The first byte of a request decides which, as in Redis. The parser owns the connection's
//! query buffer; [`RequestParser::feed`] appends what the socket delivered and
//! [`RequestParser::next_args`] takes complete commands off its front ([`Args`];
//! `next_request` gives them as vectors).
//!
//! A multibulk argument is never copied: the parser records where it lies in the query
//! buffer, and [`Args`] hands out slices of the buffer itself. Consumed bytes are dropped
//! from the front of the buffer only before the next read (never while a batch of pipelined
//! requests is being parsed), and never the bytes of a request not yet complete, whose
//! arguments read so far stay where they are. Inline requests, whose quotes and escapes must
//! be decoded, are the one case where arguments are copied (into a small buffer the parser
//! reuses).
//!
//! A multibulk request that arrives in pieces keeps its progress (arguments already read,
//! the length of the bulk being read), so a large request is never parsed twice.
//!
//! Every allocation is justified by bytes already received: the argument list starts at no
//! more than 1024 slots whatever count the header announces, and a header claiming a 512 MB
//! argument costs nothing until 512 MB arrive. The buffer grows only by what was read, and
//! [`RequestParser::feed`] refuses to hold more than the query buffer limit (1 GB) of bytes
//! not yet parsed (the arguments of a request being read do not count, as in Redis, where
//! they have left the query buffer by then).
//!
//! An error is final: Redis replies the error, then closes the connection without reading
//! further requests. Commands parsed before the error in the same read still run first.
//!
//! # Representation
//!
//! ```text
//! multibulk:  '*' count CR LF  ( '$' len CR LF  <len bytes>  CR LF ){count}
//!             count, len: Redis's strict integers (no '+', no leading zero, no spaces);
//!             count <= 0 is an empty request (skipped); count > INT_MAX is an error;
//!             len in 0..=512 MB. The byte after each header CR is skipped unchecked, and
//!             the two bytes after an argument are skipped unchecked, as Redis does.
//! inline:     tokens up to LF (a CR before the LF is dropped), split as sdssplitargs:
//!             blanks separate; "..." knows \xHH \n \r \t \b \a and \<c> -> c;
//!             '...' knows only \'; a closing quote must be followed by a blank or the end.
//! ```
//!
//! Lines are searched for as Redis's `strchr` does on its NUL-terminated buffer: a NUL byte
//! before the line end hides the line end.
//!
//! # Worked example
//!
//! `*1\r\n$4\r\nPI` then `NG\r\n`: the first feed reads the count (1) and the bulk length (4)
//! and waits, keeping both; the second completes `["PING"]`. `SET k "a b"\r\n` inline gives
//! `["SET", "k", "a b"]`; `SET k "a\r\n` gives `-ERR Protocol error: unbalanced quotes in
//! request`.
//!
//! # References
//!
//! Redis 7.0 `src/networking.c` (`processInlineBuffer`, `processMultibulkBuffer`,
//! `readQueryFromClient`), `src/sds.c` (`sdssplitargs`), `src/util.c` (`string2ll`),
//! `src/server.h` (`PROTO_INLINE_MAX_SIZE`).

use std::fmt;

/// Redis's `proto-max-bulk-len` default: the longest argument, 512 MB.
pub const PROTO_MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Redis's `client-query-buffer-limit` default: 1 GB of unparsed input per client.
pub const CLIENT_MAX_QUERYBUF_LEN: usize = 1024 * 1024 * 1024;
/// Redis's `PROTO_INLINE_MAX_SIZE`: 64 KB without a line end is a protocol error.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Redis's read size (`PROTO_IOBUF_LEN`), 16 KB; the inline limit is checked after each read.
pub const PROTO_IOBUF_LEN: usize = 16 * 1024;
/// Arguments above this size are read in one piece when possible (`PROTO_MBULK_BIG_ARG`).
pub const PROTO_MBULK_BIG_ARG: usize = 32 * 1024;
/// Before authentication: the most arguments of a request.
pub const UNAUTH_MAX_ARGS: i64 = 10;
/// Before authentication: the longest argument.
pub const UNAUTH_MAX_BULK_LEN: i64 = 16384;
/// The most slots reserved for arguments before they arrive.
const ARGV_PREALLOC: usize = 1024;

/// A request the server cannot parse. [`fmt::Display`] gives Redis's error text (without
/// the leading `-`, so `ERR Protocol error: ...`); [`ProtocolError::reply_bytes`] gives the
/// exact reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An inline request longer than 64 KB without a line end.
    TooBigInline,
    /// A multibulk count line longer than 64 KB.
    TooBigMbulkCount,
    /// A bulk length line longer than 64 KB.
    TooBigBulkCount,
    /// The multibulk count is not a number or exceeds `INT_MAX`.
    InvalidMultibulkLength,
    /// More than 10 arguments before authentication.
    UnauthenticatedMultibulkLength,
    /// A bulk length that is not a number, is negative or exceeds `proto-max-bulk-len`.
    InvalidBulkLength,
    /// An argument longer than 16384 bytes before authentication.
    UnauthenticatedBulkLength,
    /// A multibulk argument that does not start with `$`; holds the byte found.
    ExpectedDollar(u8),
    /// An inline request with an unterminated quote or a quote followed by a non-blank.
    UnbalancedQuotes,
    /// More than 1 GB of unparsed input: Redis closes the client without a reply.
    QueryBufferLimit,
}

impl ProtocolError {
    /// The reply Redis sends before closing the connection (RESP error line), or `None`
    /// when it closes without one.
    pub fn reply_bytes(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        // Redis sends these through addReplyError, which prefixes "ERR ".
        out.extend_from_slice(b"-ERR ");
        match self {
            ProtocolError::QueryBufferLimit => return None,
            ProtocolError::ExpectedDollar(b) => {
                out.extend_from_slice(b"Protocol error: expected '$', got '");
                // The text is formatted with %c into a C string: a NUL ends it there, and
                // CR/LF become spaces so the error stays one line.
                match b {
                    0 => {}
                    b'\r' | b'\n' => out.extend_from_slice(b" '"),
                    _ => {
                        out.push(*b);
                        out.push(b'\'');
                    }
                }
            }
            other => out.extend_from_slice(other.message().as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
        Some(out)
    }
}

impl ProtocolError {
    /// The text after `ERR ` (for [`ProtocolError::ExpectedDollar`], with the byte shown
    /// escaped).
    fn message(&self) -> String {
        let text = match self {
            ProtocolError::TooBigInline => "Protocol error: too big inline request",
            ProtocolError::TooBigMbulkCount => "Protocol error: too big mbulk count string",
            ProtocolError::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtocolError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => {
                "Protocol error: unauthenticated bulk length"
            }
            ProtocolError::ExpectedDollar(b) => {
                return format!(
                    "Protocol error: expected '$', got '{}'",
                    char::from(*b).escape_default()
                )
            }
            ProtocolError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtocolError::QueryBufferLimit => {
                "closing client that reached max query buffer length"
            }
        };
        text.to_string()
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::QueryBufferLimit => f.write_str(&self.message()),
            _ => write!(f, "ERR {}", self.message()),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// The parser's limits; [`Default`] is Redis 7.0's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest argument (`proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// The most unparsed bytes held (`client-query-buffer-limit`).
    pub max_querybuf_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: PROTO_MAX_BULK_LEN,
            max_querybuf_len: CLIENT_MAX_QUERYBUF_LEN,
        }
    }
}

/// Progress through a multibulk request that has not fully arrived (its arguments so far
/// are the parser's spans).
#[derive(Debug)]
struct Multibulk {
    /// Arguments still to read.
    remaining: usize,
    /// The length of the argument being read, once its `$` line was read.
    bulk_len: Option<usize>,
}

/// A request's arguments, borrowed from the parser until its next call: slices of the query
/// buffer (or, for an inline request, of the parser's buffer of decoded arguments).
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    data: &'a [u8],
    /// Where each argument lies in `data` (start, end).
    spans: &'a [(usize, usize)],
}

/// An inline argument buffer that grew past this is freed after its request, so one large
/// request does not pin its size to the connection.
const ARGS_KEEP_BYTES: usize = 64 * 1024;

impl<'a> Args<'a> {
    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The arguments in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans
            .iter()
            .map(move |&(start, end)| data.get(start..end).unwrap_or_default())
    }

    /// Each argument as its own vector.
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.iter().map(<[u8]>::to_vec).collect()
    }
}

impl PartialEq for Args<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Args<'_> {}

/// The query buffer of one connection and the parser over it.
#[derive(Debug)]
pub struct RequestParser {
    buf: Vec<u8>,
    /// Bytes of `buf` already parsed.
    pos: usize,
    /// Where in `buf` the request being read starts: bytes before it (before `pos` when no
    /// request is pending) may be dropped.
    request_start: usize,
    pending: Option<Multibulk>,
    /// The arguments of the request being read, then of the one last returned: spans of
    /// `buf`, or of `inline` when `inline_request`.
    spans: Vec<(usize, usize)>,
    /// The decoded arguments of the last inline request, back to back.
    inline: Vec<u8>,
    inline_request: bool,
    limits: Limits,
    failed: bool,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new(Limits::default())
    }
}

impl RequestParser {
    /// An empty parser with the given limits.
    pub fn new(limits: Limits) -> RequestParser {
        RequestParser {
            buf: Vec::new(),
            pos: 0,
            request_start: 0,
            pending: None,
            spans: Vec::new(),
            inline: Vec::new(),
            inline_request: false,
            limits,
            failed: false,
        }
    }

    /// Unparsed bytes held.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// How many bytes the next read should ask for: Redis's 16 KB, or the rest of a large
    /// argument being read (so a big value arrives in few reads), never more than the
    /// limit leaves room for.
    pub fn read_hint(&self) -> usize {
        let mut want = PROTO_IOBUF_LEN;
        if let Some(Multibulk {
            bulk_len: Some(len),
            ..
        }) = self.pending
        {
            if len >= PROTO_MBULK_BIG_ARG {
                let missing = (len + 2).saturating_sub(self.buffered());
                want = want.max(missing);
            }
        }
        let room = self
            .limits
            .max_querybuf_len
            .saturating_add(1)
            .saturating_sub(self.buffered());
        want.min(room).max(1)
    }

    /// Appends bytes read from the socket. Fails when the unparsed input would exceed the
    /// query buffer limit (the connection must then be closed without a reply).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        self.compact();
        self.buf.extend_from_slice(bytes);
        if self.buffered() > self.limits.max_querybuf_len {
            self.failed = true;
            return Err(ProtocolError::QueryBufferLimit);
        }
        Ok(())
    }

    /// The query buffer, with room reserved for a read of `want` bytes, for a reader that
    /// appends to it in place (tokio's `read_buf`), which saves copying every read through a
    /// separate buffer. [`appended`](Self::appended) must follow.
    pub fn input_buffer(&mut self, want: usize) -> &mut Vec<u8> {
        self.compact();
        self.buf.reserve(want);
        &mut self.buf
    }

    /// Checks the query buffer limit after bytes were appended through
    /// [`input_buffer`](Self::input_buffer), as [`feed`](Self::feed) does.
    pub fn appended(&mut self) -> Result<(), ProtocolError> {
        if self.buffered() > self.limits.max_querybuf_len {
            self.failed = true;
            return Err(ProtocolError::QueryBufferLimit);
        }
        Ok(())
    }

    /// Drops consumed bytes from the front of the buffer once they are worth moving: those
    /// before the request being read, whose arguments so far are kept (and their spans
    /// moved with them). Called only before a read, when no [`Args`] is borrowed.
    fn compact(&mut self) {
        let keep_from = if self.pending.is_some() {
            self.request_start
        } else {
            // The spans are of a request already handed out and done with.
            self.spans.clear();
            self.pos
        };
        if keep_from == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            self.request_start = 0;
        } else if keep_from > 0 && keep_from >= self.buf.len() / 2 {
            self.buf.drain(..keep_from);
            self.pos -= keep_from;
            self.request_start -= keep_from;
            if !self.inline_request {
                for span in &mut self.spans {
                    span.0 -= keep_from;
                    span.1 -= keep_from;
                }
            }
        }
    }

    /// Starts a new request at `pos`: forgets the last one's arguments, and frees their
    /// buffers if one large request grew them.
    fn start_request(&mut self) {
        self.request_start = self.pos;
        if self.spans.capacity() > ARGV_PREALLOC {
            self.spans = Vec::new();
        }
        self.spans.clear();
        if self.inline_request {
            if self.inline.capacity() > ARGS_KEEP_BYTES {
                self.inline = Vec::new();
            }
            self.inline.clear();
            self.inline_request = false;
        }
    }

    /// The next complete command, `Ok(None)` when more bytes are needed. Empty requests
    /// (`*0`, a blank line) are skipped. `auth_required` applies Redis's smaller limits for
    /// connections that have not authenticated. After an error the parser stays failed.
    pub fn next_request(
        &mut self,
        auth_required: bool,
    ) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
        Ok(self.next_args(auth_required)?.map(|a| a.to_vecs()))
    }

    /// [`next_request`](Self::next_request) without a vector per argument: the arguments
    /// stay in the parser's buffer until the next call.
    pub fn next_args(&mut self, auth_required: bool) -> Result<Option<Args<'_>>, ProtocolError> {
        if self.failed {
            return Ok(None);
        }
        match self.next_args_inner(auth_required) {
            Ok(true) => Ok(Some(Args {
                data: if self.inline_request {
                    &self.inline
                } else {
                    &self.buf
                },
                spans: &self.spans,
            })),
            Ok(false) => Ok(None),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Whether a whole request is now in `self.spans`.
    fn next_args_inner(&mut self, auth_required: bool) -> Result<bool, ProtocolError> {
        loop {
            if self.pending.is_none() {
                match self.buf.get(self.pos) {
                    None => return Ok(false),
                    Some(b'*') => {
                        self.start_request();
                        if !self.start_multibulk(auth_required)? {
                            return Ok(false);
                        }
                        if self.pending.is_none() {
                            continue;
                        }
                    }
                    Some(_) => {
                        self.start_request();
                        match self.inline()? {
                            false => return Ok(false),
                            true if self.spans.is_empty() => continue,
                            true => return Ok(true),
                        }
                    }
                }
            }
            return self.multibulk_args(auth_required);
        }
    }

    /// Reads a `*count` line; `Ok(false)` when it has not fully arrived.
    fn start_multibulk(&mut self, auth_required: bool) -> Result<bool, ProtocolError> {
        let rest = &self.buf[self.pos..];
        let (count, cr) = match short_header(rest) {
            Some(header) => header,
            None => {
                let Some(cr) = find_line_end(rest, b'\r') else {
                    if rest.len() > PROTO_INLINE_MAX_SIZE {
                        return Err(ProtocolError::TooBigMbulkCount);
                    }
                    return Ok(false);
                };
                // The CR must not be the last byte: the byte after it is skipped unchecked.
                if cr + 2 > rest.len() {
                    return Ok(false);
                }
                match crate::num::parse_i64(&rest[1..cr]) {
                    Some(n) if n <= i64::from(i32::MAX) => (n, cr),
                    _ => return Err(ProtocolError::InvalidMultibulkLength),
                }
            }
        };
        if count > UNAUTH_MAX_ARGS && auth_required {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.pos += cr + 2;
        if count > 0 {
            let count = usize::try_from(count).unwrap_or(0);
            self.spans.reserve(count.min(ARGV_PREALLOC));
            self.pending = Some(Multibulk {
                remaining: count,
                bulk_len: None,
            });
        }
        Ok(true)
    }

    /// Reads the arguments of the pending multibulk request as far as they arrived.
    fn multibulk_args(&mut self, auth_required: bool) -> Result<bool, ProtocolError> {
        let Some(mb) = self.pending.as_mut() else {
            return Ok(false);
        };
        while mb.remaining > 0 {
            let len = match mb.bulk_len {
                Some(len) => len,
                None => {
                    let rest = &self.buf[self.pos..];
                    let first = rest.first().copied().unwrap_or(0);
                    let short = short_header(rest).filter(|_| first == b'$');
                    let (n, cr) = match short {
                        Some((n, cr)) => (Some(n), cr),
                        None => {
                            let Some(cr) = find_line_end(rest, b'\r') else {
                                if rest.len() > PROTO_INLINE_MAX_SIZE {
                                    return Err(ProtocolError::TooBigBulkCount);
                                }
                                return Ok(false);
                            };
                            if cr + 2 > rest.len() {
                                return Ok(false);
                            }
                            if first != b'$' {
                                return Err(ProtocolError::ExpectedDollar(first));
                            }
                            (crate::num::parse_i64(&rest[1..cr]), cr)
                        }
                    };
                    let len = match n {
                        Some(n) if n >= 0 => usize::try_from(n)
                            .ok()
                            .filter(|&n| n <= self.limits.max_bulk_len),
                        _ => None,
                    };
                    let Some(len) = len else {
                        return Err(ProtocolError::InvalidBulkLength);
                    };
                    if auth_required && len > UNAUTH_MAX_BULK_LEN as usize {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos += cr + 2;
                    mb.bulk_len = Some(len);
                    len
                }
            };
            // The two bytes after the argument (CRLF) are skipped unchecked.
            if self.buf.len() - self.pos < len + 2 {
                return Ok(false);
            }
            self.spans.push((self.pos, self.pos + len));
            self.pos += len + 2;
            mb.bulk_len = None;
            mb.remaining -= 1;
        }
        self.pending = None;
        Ok(true)
    }

    /// Reads one inline request into `self.inline` and `self.spans`; `Ok(false)` when its line has not fully
    /// arrived.
    fn inline(&mut self) -> Result<bool, ProtocolError> {
        let rest = &self.buf[self.pos..];
        let Some(lf) = find_line_end(rest, b'\n') else {
            if rest.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(false);
        };
        let line_end = if lf > 0 && rest.get(lf - 1) == Some(&b'\r') {
            lf - 1
        } else {
            lf
        };
        let argv = split_args(&rest[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.pos += lf + 1;
        self.inline_request = true;
        for arg in &argv {
            let start = self.inline.len();
            self.inline.extend_from_slice(arg);
            self.spans.push((start, self.inline.len()));
        }
        Ok(true)
    }
}

/// A header line (`*N` or `$N`, the first byte not checked) of the common short form, one
/// or two digits not starting with 0 then CR and at least one more byte, as `(N, position
/// of the CR)`: the value and position the general path (`find_line_end`, `parse_i64`)
/// finds for such a line, without its scan. `None` for any other line.
#[inline]
fn short_header(rest: &[u8]) -> Option<(i64, usize)> {
    match *rest {
        [_, d @ b'1'..=b'9', b'\r', _, ..] => Some((i64::from(d - b'0'), 2)),
        [_, d @ b'1'..=b'9', e @ b'0'..=b'9', b'\r', _, ..] => {
            Some((i64::from(d - b'0') * 10 + i64::from(e - b'0'), 3))
        }
        _ => None,
    }
}

/// The position of `end` in `buf`, as `strchr` finds it in a NUL-terminated buffer: a NUL
/// before it means not found.
fn find_line_end(buf: &[u8], end: u8) -> Option<usize> {
    let i = buf.iter().position(|&b| b == end || b == 0)?;
    (buf.get(i) == Some(&end)).then_some(i)
}

/// C's `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Splits an inline request line as Redis's `sdssplitargs` does; `None` for unbalanced
/// quotes. The line is read as a C string: it ends at its first NUL.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut argv = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(at(p)) {
            p += 1;
        }
        if p >= line.len() {
            return Some(argv);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        current.push(hi * 16 + lo);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    current.push(match at(p + 1) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => b'\x08',
                        b'a' => b'\x07',
                        other => other,
                    });
                    p += 2;
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                    p += 1;
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    current.push(b'\'');
                    p += 2;
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                    p += 1;
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' => {
                        p += 1;
                        break;
                    }
                    0 => break,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    other => current.push(other),
                }
                p += 1;
            }
        }
        argv.push(current);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Collected = (Vec<Vec<Vec<u8>>>, Result<(), ProtocolError>);

    fn collect(p: &mut RequestParser, auth: bool, fed: Result<(), ProtocolError>) -> Collected {
        let mut out = Vec::new();
        if let Err(e) = fed {
            return (out, Err(e));
        }
        loop {
            match p.next_request(auth) {
                Ok(Some(argv)) => out.push(argv),
                Ok(None) => return (out, Ok(())),
                Err(e) => return (out, Err(e)),
            }
        }
    }

    fn parse_all(input: &[u8]) -> Collected {
        let mut p = RequestParser::default();
        let fed = p.feed(input);
        collect(&mut p, false, fed)
    }

    fn args(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_in_one_piece_and_pipelined() {
        let (cmds, res) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(res, Ok(()));
        assert_eq!(cmds, vec![args(&["GET", "k"]), args(&["PING"])]);
    }

    #[test]
    fn multibulk_byte_by_byte_keeps_progress() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\0lo\r\n";
        let mut p = RequestParser::default();
        let mut got = Vec::new();
        for b in input {
            p.feed(&[*b]).unwrap();
            while let Some(argv) = p.next_request(false).unwrap() {
                got.push(argv);
            }
        }
        assert_eq!(
            got,
            vec![vec![b"SET".to_vec(), b"k".to_vec(), b"he\0lo".to_vec()]]
        );
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn empty_requests_are_skipped() {
        let (cmds, res) = parse_all(b"*0\r\n*-1\r\n\r\n   \r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(res, Ok(()));
        assert_eq!(cmds, vec![args(&["PING"])]);
    }

    #[test]
    fn protocol_errors_have_redis_texts() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"*abc\r\n",
                "-ERR Protocol error: invalid multibulk length\r\n",
            ),
            (
                b"*+1\r\n",
                "-ERR Protocol error: invalid multibulk length\r\n",
            ),
            (
                b"*01\r\n",
                "-ERR Protocol error: invalid multibulk length\r\n",
            ),
            (
                b"*2147483648\r\n",
                "-ERR Protocol error: invalid multibulk length\r\n",
            ),
            (
                b"*1\r\n$-1\r\n",
                "-ERR Protocol error: invalid bulk length\r\n",
            ),
            (
                b"*1\r\n$536870913\r\n",
                "-ERR Protocol error: invalid bulk length\r\n",
            ),
            (
                b"*1\r\nfoo\r\n",
                "-ERR Protocol error: expected '$', got 'f'\r\n",
            ),
            (
                b"*1\r\n\r\n\r\n",
                "-ERR Protocol error: expected '$', got ' '\r\n",
            ),
            (
                b"SET k \"v\r\n",
                "-ERR Protocol error: unbalanced quotes in request\r\n",
            ),
            (
                b"SET k \"v\"x\r\n",
                "-ERR Protocol error: unbalanced quotes in request\r\n",
            ),
            (
                b"SET k 'v\r\n",
                "-ERR Protocol error: unbalanced quotes in request\r\n",
            ),
        ];
        for (input, want) in cases {
            let (_, res) = parse_all(input);
            let err = res.unwrap_err();
            assert_eq!(
                String::from_utf8_lossy(&err.reply_bytes().unwrap()),
                *want,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn max_bulk_len_is_accepted_without_allocating_it() {
        let mut p = RequestParser::default();
        p.feed(b"*1\r\n$536870912\r\nabc").unwrap();
        assert_eq!(p.next_request(false), Ok(None));
        assert!(p.buf.capacity() < 4096);
        assert!(p.read_hint() > PROTO_IOBUF_LEN);
    }

    #[test]
    fn args_are_slices_of_the_query_buffer_and_inline_ones_do_not_pin() {
        let big = vec![b'v'; ARGS_KEEP_BYTES * 2];
        let mut input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n".to_vec();
        input.extend_from_slice(format!("${}\r\n", big.len()).as_bytes());
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\r\nECHO ");
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\r\nGET k\r\n*2\r\n$0\r\n\r\n$1\r\nx\r\n");
        let mut p = RequestParser::new(Limits {
            max_bulk_len: PROTO_MAX_BULK_LEN,
            max_querybuf_len: CLIENT_MAX_QUERYBUF_LEN,
        });
        p.feed(&input).unwrap();
        let buf = p.buf.as_ptr_range();
        let first = p.next_args(false).unwrap().unwrap();
        assert_eq!(first.len(), 3);
        let got: Vec<&[u8]> = first.iter().collect();
        assert_eq!(got, vec![&b"SET"[..], b"k", &big[..]]);
        assert!(got.iter().all(|a| buf.contains(&a.as_ptr())));
        assert_eq!(
            p.next_args(false).unwrap().unwrap().to_vecs(),
            vec![b"ECHO".to_vec(), big.clone()]
        );
        assert_eq!(
            p.next_args(false).unwrap().unwrap().to_vecs(),
            args(&["GET", "k"])
        );
        assert!(p.inline.capacity() <= ARGS_KEEP_BYTES);
        let last = p.next_args(false).unwrap().unwrap();
        assert_eq!(last.to_vecs(), args(&["", "x"]));
        assert_eq!(p.next_args(false), Ok(None));
    }

    #[test]
    fn a_request_split_across_reads_keeps_its_arguments_when_the_buffer_compacts() {
        let mut p = RequestParser::default();
        p.feed(b"*2\r\n$4\r\nECHO\r\n$20\r\nabcdefghijklmnopqrst\r\n*3\r\n$3\r\nSET\r\n$1\r\nk")
            .unwrap();
        assert_eq!(
            p.next_request(false),
            Ok(Some(args(&["ECHO", "abcdefghijklmnopqrst"])))
        );
        assert_eq!(p.next_request(false), Ok(None));
        // The consumed ECHO is dropped, the SET's first argument kept and moved.
        p.feed(b"\r\n$5\r\nv").unwrap();
        assert_eq!(p.request_start, 0);
        assert_eq!(p.next_request(false), Ok(None));
        p.feed(b"alue\r\n*1\r\n$4\r\nPI").unwrap();
        assert_eq!(
            p.next_request(false),
            Ok(Some(args(&["SET", "k", "value"])))
        );
        assert_eq!(p.next_request(false), Ok(None));
        p.feed(b"NG\r\n").unwrap();
        assert_eq!(p.buf.as_slice(), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(p.next_request(false), Ok(Some(args(&["PING"]))));
        assert_eq!(p.buffered(), 0);
    }

    #[test]
    fn huge_count_reserves_little() {
        let mut p = RequestParser::default();
        p.feed(b"*2147483647\r\n$1\r\na\r\n").unwrap();
        assert_eq!(p.next_request(false), Ok(None));
        let mb = p.pending.as_ref().unwrap();
        assert_eq!(mb.remaining, 2147483646);
        assert!(p.spans.capacity() <= ARGV_PREALLOC);
    }

    #[test]
    fn too_big_lines() {
        let mut p = RequestParser::default();
        p.feed(&vec![b'a'; PROTO_INLINE_MAX_SIZE]).unwrap();
        assert_eq!(p.next_request(false), Ok(None));
        p.feed(b"a").unwrap();
        assert_eq!(p.next_request(false), Err(ProtocolError::TooBigInline));

        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; PROTO_INLINE_MAX_SIZE + 1]);
        assert_eq!(parse_all(&big).1, Err(ProtocolError::TooBigMbulkCount));

        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; PROTO_INLINE_MAX_SIZE + 1]);
        assert_eq!(parse_all(&big).1, Err(ProtocolError::TooBigBulkCount));
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::default();
        p.feed(b"*11\r\n").unwrap();
        assert_eq!(
            p.next_request(true),
            Err(ProtocolError::UnauthenticatedMultibulkLength)
        );
        let mut p = RequestParser::default();
        p.feed(b"*1\r\n$16385\r\n").unwrap();
        assert_eq!(
            p.next_request(true),
            Err(ProtocolError::UnauthenticatedBulkLength)
        );
        let mut p = RequestParser::default();
        p.feed(b"*10\r\n$16384\r\n").unwrap();
        assert_eq!(p.next_request(true), Ok(None));
    }

    #[test]
    fn query_buffer_limit() {
        let mut p = RequestParser::new(Limits {
            max_bulk_len: 100,
            max_querybuf_len: 10,
        });
        p.feed(b"*1\r\n$5\r\n").unwrap();
        assert_eq!(p.feed(b"abcd"), Err(ProtocolError::QueryBufferLimit));
        assert_eq!(ProtocolError::QueryBufferLimit.reply_bytes(), None);
    }

    #[test]
    fn inline_splitting_follows_sdssplitargs() {
        let cases: &[(&[u8], &[&[u8]])] = &[
            (b"SET k v", &[b"SET", b"k", b"v"]),
            (b"  SET\tk   v  ", &[b"SET", b"k", b"v"]),
            (b"SET k \"a b\"", &[b"SET", b"k", b"a b"]),
            (b"SET k \"\\x41\\x4a\\n\\q\"", &[b"SET", b"k", b"AJ\nq"]),
            (b"SET k \"\\xZZ\"", &[b"SET", b"k", b"xZZ"]),
            (b"SET k 'it\\'s \\n'", &[b"SET", b"k", b"it's \\n"]),
            (b"SET k \"\"", &[b"SET", b"k", b""]),
            (b"a\"b c\"", &[b"ab c"]),
            (b"SET k v\0ignored", &[b"SET", b"k", b"v"]),
            (b"a\x0bb", &[b"a\x0bb"]),
        ];
        for (line, want) in cases {
            let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
            assert_eq!(
                split_args(line),
                Some(want),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        assert_eq!(split_args(b"\"a\"b"), None);
        assert_eq!(split_args(b"'a"), None);
        assert_eq!(split_args(b"\"a\\"), None);
    }

    #[test]
    fn inline_lines_end_at_lf_with_optional_cr() {
        let (cmds, res) = parse_all(b"PING\nECHO \"x\"\r\nGET k");
        assert_eq!(res, Ok(()));
        assert_eq!(cmds, vec![args(&["PING"]), args(&["ECHO", "x"])]);
    }

    #[test]
    fn short_headers_agree_with_the_general_path() {
        for line in [
            &b"*1\r\n"[..],
            b"$9\r\n",
            b"$10\r\n",
            b"*99\rx",
            b"$0\r\n",
            b"$01\r\n",
            b"$1\r",
            b"$100\r\n",
            b"$1\0\r\n",
            b"$-1\r\n",
        ] {
            let general = find_line_end(line, b'\r')
                .filter(|&cr| cr + 2 <= line.len())
                .and_then(|cr| Some((crate::num::parse_i64(&line[1..cr])?, cr)));
            if let Some(short) = short_header(line) {
                assert_eq!(Some(short), general, "{line:?}");
            }
        }
        assert_eq!(short_header(b"$42\r\n"), Some((42, 3)));
        assert_eq!(short_header(b"$0\r\n"), None);
        assert_eq!(short_header(b"$1\r"), None);
    }

    #[test]
    fn nul_hides_a_line_end() {
        let mut p = RequestParser::default();
        p.feed(b"*1\0\r\n").unwrap();
        assert_eq!(p.next_request(false), Ok(None));
    }

    #[test]
    fn error_is_final_and_earlier_commands_survive() {
        let (cmds, res) = parse_all(b"*1\r\n$4\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n");
        assert_eq!(cmds, vec![args(&["PING"])]);
        assert_eq!(res, Err(ProtocolError::InvalidMultibulkLength));
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(crate::num::parse_i64(b"0"), Some(0));
        assert_eq!(crate::num::parse_i64(b"-5"), Some(-5));
        assert_eq!(
            crate::num::parse_i64(b"9223372036854775807"),
            Some(i64::MAX)
        );
        assert_eq!(
            crate::num::parse_i64(b"-9223372036854775808"),
            Some(i64::MIN)
        );
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"00",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"18446744073709551616",
        ] {
            assert_eq!(
                crate::num::parse_i64(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
