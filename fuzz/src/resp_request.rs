//! The body of the `resp_request` target: arbitrary bytes through the server's request
//! parser (`sketchstore::server::resp::RequestParser`).
//!
//! # Input format
//!
//! The first byte is a control byte, the rest is the stream a client sends. Bits 0-6 of the
//! control byte give the size of the pieces the stream is fed in (0 counts as 1); bit 7
//! parses as an unauthenticated client (Redis's smaller limits).
//!
//! Checks: nothing panics; the parser never holds more bytes than it was given; and the
//! stream parses to the same commands and the same error whether it arrives whole or in
//! pieces (except the "too big" line errors, which Redis too raises only when a read ends
//! before the line does).

use sketchstore::server::resp::{Limits, ProtocolError, RequestParser};

/// The parser's limits in the fuzzer: small, so that the limit paths are reachable.
pub const LIMITS: Limits = Limits {
    max_bulk_len: 1 << 20,
    max_querybuf_len: 1 << 20,
};

/// Commands parsed, and how parsing ended (`Ok` when more input was awaited).
pub type Parsed = (Vec<Vec<Vec<u8>>>, Result<(), ProtocolError>);

fn drain(
    p: &mut RequestParser,
    auth: bool,
    out: &mut Vec<Vec<Vec<u8>>>,
) -> Result<(), ProtocolError> {
    while let Some(argv) = p.next_request(auth)? {
        assert!(
            !argv.is_empty(),
            "empty requests are skipped, never returned"
        );
        out.push(argv);
    }
    Ok(())
}

/// Parses `stream` fed in pieces of `step` bytes.
pub fn parse_in_pieces(stream: &[u8], step: usize, auth: bool) -> Parsed {
    let mut p = RequestParser::new(LIMITS);
    let mut out = Vec::new();
    for piece in stream.chunks(step.max(1)) {
        if let Err(e) = p.feed(piece) {
            return (out, Err(e));
        }
        assert!(p.buffered() <= stream.len());
        if let Err(e) = drain(&mut p, auth, &mut out) {
            // An error is final.
            assert_eq!(p.next_request(auth), Ok(None));
            return (out, Err(e));
        }
    }
    (out, Ok(()))
}

/// The fuzz target's body.
pub fn run_resp_request(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let auth = control & 0x80 != 0;
    let step = usize::from(control & 0x7f);
    let whole = parse_in_pieces(stream, stream.len(), auth);
    let pieces = parse_in_pieces(stream, step, auth);
    let split_dependent = |r: &Result<(), ProtocolError>| {
        matches!(
            r,
            Err(ProtocolError::TooBigInline
                | ProtocolError::TooBigMbulkCount
                | ProtocolError::TooBigBulkCount
                | ProtocolError::QueryBufferLimit)
        )
    };
    if !split_dependent(&whole.1) && !split_dependent(&pieces.1) {
        assert_eq!(whole, pieces);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/resp_request");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            run_resp_request(&std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
        assert!(n >= 3);
    }

    #[test]
    fn pieces_agree_with_whole() {
        let stream = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nSET a \"b c\"\r\n*0\r\n";
        let whole = parse_in_pieces(stream, stream.len(), false);
        assert_eq!(whole.0.len(), 3);
        for step in 1..stream.len() {
            assert_eq!(parse_in_pieces(stream, step, false), whole);
        }
    }

    #[test]
    fn pseudo_random_streams() {
        let alphabet = b"*$\r\n0123-ab \"'\\x\0";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..5000 {
            let mut input = Vec::new();
            for _ in 0..(state % 80) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            run_resp_request(&input);
        }
    }
}
