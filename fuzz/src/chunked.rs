//! What the `loadchunk` (Bloom) and `cf_loadchunk` (cuckoo) bodies share: the framing of an
//! input into a flags byte, a header and `(cursor, chunk)` pairs, and running commands with
//! their replies checked.
//!
//! ```text
//! [flags: u8] [header_len: u16 LE] [header] { [cursor: i64 LE] [len: u16 LE] [chunk] }*
//! ```
//!
//! A short tail is taken as is: a missing length means "the rest", a length past the end is
//! cut to it. At most [`MAX_CHUNKS`] chunks are read.

use crate::check_reply;
use sketchstore::{Reply, Store};

/// Chunks sent per input at most.
pub const MAX_CHUNKS: usize = 64;

/// An input split into its flags, its header and an iterator over its chunks.
pub struct Framed<'a> {
    /// The first byte; each body gives its bits a meaning.
    pub flags: u8,
    /// The bytes sent with cursor 1 (or 2, by a flag).
    pub header: &'a [u8],
    rest: &'a [u8],
    sent: usize,
}

impl<'a> Framed<'a> {
    /// `None` for an empty input.
    pub fn new(data: &'a [u8]) -> Option<Framed<'a>> {
        let (&flags, rest) = data.split_first()?;
        let (len_bytes, rest) = rest.split_first_chunk::<2>().unwrap_or((&[0, 0], rest));
        let header_len = usize::from(u16::from_le_bytes(*len_bytes)).min(rest.len());
        let (header, rest) = rest.split_at(header_len);
        Some(Framed {
            flags,
            header,
            rest,
            sent: 0,
        })
    }
}

impl<'a> Iterator for Framed<'a> {
    /// The cursor as the decimal text a client sends, and the chunk.
    type Item = (String, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.sent == MAX_CHUNKS {
            return None;
        }
        let (cursor_bytes, tail) = self.rest.split_first_chunk::<8>()?;
        self.sent += 1;
        let (len, tail) = match tail.split_first_chunk::<2>() {
            Some((len_bytes, tail)) => (usize::from(u16::from_le_bytes(*len_bytes)), tail),
            None => (tail.len(), tail),
        };
        let (chunk, tail) = tail.split_at(len.min(tail.len()));
        self.rest = tail;
        Some((i64::from_le_bytes(*cursor_bytes).to_string(), chunk))
    }
}

/// Runs `argv` on `store` and checks that the reply survives its wire encoding.
pub fn run(store: &Store, argv: &[&[u8]]) -> Reply {
    let reply = store.execute(argv);
    let owned: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    check_reply(&owned, &reply);
    reply
}

/// Sends one chunk with `command` (BF.LOADCHUNK or CF.LOADCHUNK): the reply is OK or one of
/// `errors`.
pub fn load(
    store: &Store,
    command: &[u8],
    errors: &[&str],
    key: &[u8],
    cursor: &[u8],
    data: &[u8],
) -> Reply {
    let reply = run(store, &[command, key, cursor, data]);
    match &reply {
        Reply::Status(s) => assert_eq!(s, "OK"),
        Reply::Error(e) => assert!(errors.contains(&e.as_str()), "{e}"),
        other => panic!("{} replied {other:?}", String::from_utf8_lossy(command)),
    }
    reply
}

/// The integer of an integer reply.
pub fn int(reply: &Reply) -> i64 {
    match reply {
        Reply::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}
