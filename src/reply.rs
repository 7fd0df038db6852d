//! `Reply`: a command's answer, in the shape Redis 7.0 gives it.
//!
//! The argv entry points (`Store::execute`, `Connection::execute`) answer with a `Reply`;
//! typed methods return Rust values instead.
//!
//! # Protocols
//!
//! A command builds one `Reply` whatever the protocol, using the RESP3 kinds where Redis does
//! (`Map` for HGETALL, `Double` for ZSCORE, `Set` for SMEMBERS, `Bool`, `Push` for pub/sub
//! messages). Each protocol then writes it its own way, as Redis's `addReply*` functions do:
//! [`Reply::write_resp`] writes RESP2 (a map as a flat array, a double as a bulk string, a
//! boolean as `:1`/`:0`, a push as an array), [`Reply::write_resp3`] writes RESP3.
//! [`Reply::into_resp2`] gives the value a RESP2 client would read back, which is what
//! `Store::execute` returns, so a RESP2 reply has a single representation in memory.
//! `Reply::from_resp` reads RESP2 and RESP3 (used by the parity tests and by the redis-rs
//! `ConnectionLike` bridge).

use std::fmt;

/// One reply.
#[derive(Clone)]
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
    /// RESP3 `%n` map; a flat array of keys and values in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 `~n` set; an array in RESP2.
    Set(Vec<Reply>),
    /// RESP3 `,d` double; a bulk string in RESP2, both formatted as C's `%.17g`.
    Double(f64),
    /// RESP3 `#t`/`#f`; `:1`/`:0` in RESP2.
    Bool(bool),
    /// RESP3 `>n` push (pub/sub messages); an array in RESP2.
    Push(Vec<Reply>),
    /// RESP3 `=n` verbatim string with its three-letter format (`txt`); a bulk string in
    /// RESP2.
    Verbatim(&'static str, Vec<u8>),
    /// Pairs (a member and its score): an array of two-element arrays in RESP3, one flat
    /// array in RESP2 (ZRANGE WITHSCORES, HRANDFIELD WITHVALUES).
    Pairs(Vec<(Reply, Reply)>),
    /// A reply whose RESP2 and RESP3 forms differ in shape, not only in kinds (RedisBloom's
    /// `BF.INFO key field`: `[value]` in RESP2, `{field: value}` in RESP3).
    Shapes(Box<(Reply, Reply)>),
}

impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        use Reply::*;
        match (self, other) {
            (Status(a), Status(b)) | (Error(a), Error(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Bulk(a), Bulk(b)) => a == b,
            (Nil, Nil) | (NilArray, NilArray) => true,
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            // Doubles compare by their bits, so that a reply equals itself (NaN included).
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (Bool(a), Bool(b)) => a == b,
            (Verbatim(f, a), Verbatim(g, b)) => f == g && a == b,
            (Pairs(a), Pairs(b)) => a == b,
            (Shapes(a), Shapes(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Reply {}

impl std::hash::Hash for Reply {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Reply::Status(s) | Reply::Error(s) => s.hash(state),
            Reply::Integer(n) => n.hash(state),
            Reply::Bulk(b) | Reply::Verbatim(_, b) => b.hash(state),
            Reply::Nil | Reply::NilArray => {}
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => v.hash(state),
            Reply::Map(m) | Reply::Pairs(m) => m.hash(state),
            Reply::Shapes(b) => b.hash(state),
            Reply::Double(d) => d.to_bits().hash(state),
            Reply::Bool(b) => b.hash(state),
        }
    }
}

/// C's `printf("%.17g", d)`, which Redis 7.0 uses for doubles in both protocols (`inf`,
/// `-inf`, and `nan` or `-nan` by the NaN's sign bit: RedisBloom's t-digest replies `-nan`
/// where x86-64 arithmetic produced its default, negative, NaN).
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // 17 significant digits, correctly rounded, as `d.ddddddddddddddddde<exp>`.
    let sci = format!("{d:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if (-4..17).contains(&exp) {
        let decimals = usize::try_from(16 - exp).unwrap_or(0);
        strip(&format!("{d:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mantissa), exp.unsigned_abs())
    }
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

    /// The reply a RESP2 client reads: maps flattened, sets and pushes as arrays, doubles and
    /// verbatim strings as bulk strings, booleans as integers.
    pub fn into_resp2(self) -> Reply {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
                Reply::Array(v.into_iter().map(Reply::into_resp2).collect())
            }
            Reply::Map(m) | Reply::Pairs(m) => Reply::Array(
                m.into_iter()
                    .flat_map(|(k, v)| [k.into_resp2(), v.into_resp2()])
                    .collect(),
            ),
            Reply::Shapes(b) => b.0.into_resp2(),
            Reply::Double(d) => Reply::Bulk(format_double(d).into_bytes()),
            Reply::Bool(b) => Reply::Integer(i64::from(b)),
            Reply::Verbatim(_, b) => Reply::Bulk(b),
            other => other,
        }
    }

    /// The reply a RESP3 client reads: pairs as two-element arrays and shape alternatives
    /// resolved to their RESP3 side; every RESP3 kind kept.
    pub fn into_resp3(self) -> Reply {
        match self {
            Reply::Array(v) => Reply::Array(v.into_iter().map(Reply::into_resp3).collect()),
            Reply::Set(v) => Reply::Set(v.into_iter().map(Reply::into_resp3).collect()),
            Reply::Push(v) => Reply::Push(v.into_iter().map(Reply::into_resp3).collect()),
            Reply::Map(m) => Reply::Map(
                m.into_iter()
                    .map(|(k, v)| (k.into_resp3(), v.into_resp3()))
                    .collect(),
            ),
            Reply::Pairs(m) => Reply::Array(
                m.into_iter()
                    .map(|(k, v)| Reply::Array(vec![k.into_resp3(), v.into_resp3()]))
                    .collect(),
            ),
            Reply::Shapes(b) => b.1.into_resp3(),
            other => other,
        }
    }

    /// Appends the RESP3 encoding of this reply to `out`.
    pub fn write_resp3(&self, out: &mut Vec<u8>) {
        let header = |out: &mut Vec<u8>, tag: u8, n: usize| write_line(out, tag, n as u64, false);
        match self {
            Reply::Nil | Reply::NilArray => out.extend_from_slice(b"_\r\n"),
            Reply::Array(v) => {
                header(out, b'*', v.len());
                v.iter().for_each(|r| r.write_resp3(out));
            }
            Reply::Set(v) => {
                header(out, b'~', v.len());
                v.iter().for_each(|r| r.write_resp3(out));
            }
            Reply::Push(v) => {
                header(out, b'>', v.len());
                v.iter().for_each(|r| r.write_resp3(out));
            }
            Reply::Map(m) => {
                header(out, b'%', m.len());
                for (k, v) in m {
                    k.write_resp3(out);
                    v.write_resp3(out);
                }
            }
            Reply::Pairs(m) => {
                header(out, b'*', m.len());
                for (k, v) in m {
                    header(out, b'*', 2);
                    k.write_resp3(out);
                    v.write_resp3(out);
                }
            }
            Reply::Shapes(b) => b.1.write_resp3(out),
            Reply::Double(d) => {
                out.push(b',');
                out.extend_from_slice(format_double(*d).as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Reply::Bool(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Reply::Verbatim(format, b) => {
                header(out, b'=', b.len() + 4);
                out.extend_from_slice(format.as_bytes());
                out.push(b':');
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            other => other.write_resp(out),
        }
    }

    /// The RESP3 encoding of this reply.
    pub fn to_resp3(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_resp3(&mut out);
        out
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
            Reply::Integer(n) => write_line(out, b':', n.unsigned_abs(), *n < 0),
            Reply::Bulk(b) => {
                write_line(out, b'$', b.len() as u64, false);
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::Array(items) => {
                write_line(out, b'*', items.len() as u64, false);
                for item in items {
                    item.write_resp(out);
                }
            }
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Map(m) | Reply::Pairs(m) => {
                write_line(out, b'*', (m.len() as u64).saturating_mul(2), false);
                for (k, v) in m {
                    k.write_resp(out);
                    v.write_resp(out);
                }
            }
            Reply::Set(items) | Reply::Push(items) => {
                write_line(out, b'*', items.len() as u64, false);
                for item in items {
                    item.write_resp(out);
                }
            }
            Reply::Double(d) => Reply::Bulk(format_double(*d).into_bytes()).write_resp(out),
            Reply::Bool(b) => out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
            Reply::Verbatim(_, b) => Reply::Bulk(b.clone()).write_resp(out),
            Reply::Shapes(b) => b.0.write_resp(out),
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

/// Appends a RESP line: `tag`, the decimal `n` (negated when `negative`), CRLF. Formatted on
/// the stack: every integer, bulk and aggregate reply writes one, and a `String` per line
/// was an allocation per reply.
#[inline]
fn write_line(out: &mut Vec<u8>, tag: u8, mut n: u64, negative: bool) {
    // u64::MAX has 20 digits; a sign, the tag and CRLF make 24.
    let mut buf = [0u8; 24];
    let mut at = buf.len() - 2;
    buf[at..].copy_from_slice(b"\r\n");
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        at -= 1;
        buf[at] = b'-';
    }
    at -= 1;
    buf[at] = tag;
    out.extend_from_slice(&buf[at..]);
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
        b'*' | b'~' | b'>' | b'%' => {
            let n = parse_int(line)?;
            if n == -1 && tag == b'*' {
                return Ok(Some((Reply::NilArray, next)));
            }
            let n = usize::try_from(n).map_err(|_| "negative aggregate length".to_string())?;
            let elements = if tag == b'%' {
                n.checked_mul(2).ok_or("map length overflow")?
            } else {
                n
            };
            let mut items = Vec::with_capacity(elements.min(1024));
            let mut at = next;
            for _ in 0..elements {
                match parse_resp(buf, at, depth + 1)? {
                    Some((item, used)) => {
                        items.push(item);
                        at = used;
                    }
                    None => return Ok(None),
                }
            }
            let reply = match tag {
                b'~' => Reply::Set(items),
                b'>' => Reply::Push(items),
                b'%' => {
                    let mut pairs = Vec::with_capacity(n.min(1024));
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Reply::Map(pairs)
                }
                _ => Reply::Array(items),
            };
            Ok(Some((reply, at)))
        }
        b'_' => Ok(Some((Reply::Nil, next))),
        b'#' => match line {
            b"t" => Ok(Some((Reply::Bool(true), next))),
            b"f" => Ok(Some((Reply::Bool(false), next))),
            _ => Err("bad RESP3 boolean".into()),
        },
        b',' => {
            let d = match line {
                b"inf" => f64::INFINITY,
                b"-inf" => f64::NEG_INFINITY,
                b"nan" => f64::NAN,
                b"-nan" => -f64::NAN,
                _ => std::str::from_utf8(line)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or("bad RESP3 double")?,
            };
            Ok(Some((Reply::Double(d), next)))
        }
        b'(' => Ok(Some((Reply::Status(text()), next))),
        b'=' => {
            let n = parse_int(line)?;
            let n = usize::try_from(n).map_err(|_| "negative verbatim length".to_string())?;
            let end = next.checked_add(n).ok_or("verbatim length overflow")?;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if n < 4 || &buf[end..end + 2] != b"\r\n" || buf[next + 3] != b':' {
                return Err("bad RESP3 verbatim string".into());
            }
            let format = match &buf[next..next + 3] {
                b"txt" => "txt",
                b"mkd" => "mkd",
                _ => return Err("unknown RESP3 verbatim format".into()),
            };
            Ok(Some((
                Reply::Verbatim(format, buf[next + 4..end].to_vec()),
                end + 2,
            )))
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
            Reply::Set(items) => {
                write!(f, "~")?;
                f.debug_list().entries(items).finish()
            }
            Reply::Push(items) => {
                write!(f, ">")?;
                f.debug_list().entries(items).finish()
            }
            Reply::Map(pairs) => f
                .debug_map()
                .entries(pairs.iter().map(|(k, v)| (k, v)))
                .finish(),
            Reply::Double(d) => write!(f, ",{}", format_double(*d)),
            Reply::Bool(b) => write!(f, "#{}", if *b { 't' } else { 'f' }),
            Reply::Verbatim(format, b) => write!(f, "={format}:{:?}", String::from_utf8_lossy(b)),
            Reply::Pairs(pairs) => f
                .debug_list()
                .entries(pairs.iter().map(|(k, v)| [k, v]))
                .finish(),
            Reply::Shapes(b) => write!(f, "{:?} | {:?}", b.0, b.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reply;

    #[test]
    fn integers_and_lengths_are_written_in_decimal() {
        for n in [
            0,
            1,
            -1,
            9,
            10,
            -10,
            1234567890,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ] {
            assert_eq!(
                Reply::Integer(n).to_resp(),
                format!(":{n}\r\n").into_bytes()
            );
            assert_eq!(
                Reply::Integer(n).to_resp3(),
                format!(":{n}\r\n").into_bytes()
            );
        }
        assert_eq!(Reply::bulk("").to_resp(), b"$0\r\n\r\n".to_vec());
        let long = vec![b'x'; 12345];
        let mut want = b"$12345\r\n".to_vec();
        want.extend_from_slice(&long);
        want.extend_from_slice(b"\r\n");
        assert_eq!(Reply::Bulk(long).to_resp(), want);
        let pairs = Reply::Map(vec![(Reply::Integer(-5), Reply::Nil)]);
        assert_eq!(pairs.to_resp(), b"*2\r\n:-5\r\n$-1\r\n".to_vec());
        assert_eq!(pairs.to_resp3(), b"%1\r\n:-5\r\n_\r\n".to_vec());
    }

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
    fn resp3_round_trip_and_resp2_downgrade() {
        let r = Reply::Array(vec![
            Reply::Map(vec![(Reply::bulk("a"), Reply::Double(1.5))]),
            Reply::Set(vec![Reply::bulk("x")]),
            Reply::Bool(true),
            Reply::Nil,
            Reply::Push(vec![Reply::bulk("message")]),
            Reply::Verbatim("txt", b"hello".to_vec()),
        ]);
        let bytes = r.to_resp3();
        let (back, used) = Reply::from_resp(&bytes).unwrap().unwrap();
        assert_eq!(back, r);
        assert_eq!(used, bytes.len());
        let two = r.clone().into_resp2();
        assert_eq!(
            two,
            Reply::Array(vec![
                Reply::Array(vec![Reply::bulk("a"), Reply::bulk("1.5")]),
                Reply::Array(vec![Reply::bulk("x")]),
                Reply::Integer(1),
                Reply::Nil,
                Reply::Array(vec![Reply::bulk("message")]),
                Reply::bulk("hello"),
            ])
        );
        assert_eq!(r.to_resp(), two.to_resp());
    }

    #[test]
    fn doubles_print_as_c_percent_17g() {
        use super::format_double as g;
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(3.0), "3");
        assert_eq!(g(-2.5e-5), "-2.5000000000000001e-05");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(12345678901234567.0), "12345678901234568");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1.0000000000000001e-05");
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(-f64::NAN), "-nan");
        let parsed = Reply::from_resp(b",-nan\r\n");
        assert!(
            matches!(parsed, Ok(Some((Reply::Double(d), 7))) if d.is_nan() && d.is_sign_negative())
        );
    }

    #[test]
    fn resp_rejects_garbage() {
        assert!(Reply::from_resp(b"?x\r\n").is_err());
        assert!(Reply::from_resp(b"$-5\r\n").is_err());
    }
}
