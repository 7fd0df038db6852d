//! LZF, the byte-oriented LZ77 variant Redis uses to compress strings in RDB files and DUMP
//! payloads.
//!
//! # Design
//!
//! The decoder is the part that must be exact: it accepts any valid LZF stream (Redis's
//! compressor, or this one) and rejects every stream that would read before the start of
//! the output, past the end of the input, or produce a length other than the one declared.
//! The compressor is a small greedy one (a hash of the next three bytes finds one
//! candidate); its output differs from Redis's byte for byte but any LZF decoder reads it.
//!
//! # Representation
//!
//! ```text
//! 000LLLLL <L+1 literal bytes>                 literal run, 1..=32 bytes
//! LLLOOOOO OOOOOOOO                            back reference, length L+2 (L in 1..=6)
//! 111OOOOO LLLLLLLL OOOOOOOO                   back reference, length L+9 (9..=264)
//! ```
//!
//! A back reference copies `length` bytes starting `offset + 1` bytes before the current
//! end of the output; the copy may overlap what it writes (a run).
//!
//! # Worked example
//!
//! `aaaaaaaaaa` (ten bytes) compresses to `00 61 E0 00 00`: one literal `a` (`00 61`),
//! then a back reference at distance 1 for the other nine bytes (`E0 00 00`: length field
//! 7 plus extension 0 plus 2 is 9; offset 0 is distance 1).
//!
//! # References
//!
//! Redis `src/lzf_d.c` and `src/lzf_c.c` (Marc Lehmann's liblzf), `src/rdb.c`
//! (`rdbSaveLzfStringObject`, `rdbLoadLzfStringObject`).

/// The most output bytes one input byte can stand for: a three-byte back reference copies
/// at most 264 bytes.
pub const MAX_RATIO: usize = 88;

const HASH_BITS: u32 = 13;
const MAX_DISTANCE: usize = 1 << 13;
const MAX_MATCH: usize = 264;
const MAX_LITERAL: usize = 32;

/// Decompresses `input`, which must expand to exactly `out_len` bytes. `None` when the
/// stream is malformed. The caller bounds `out_len` (at most `MAX_RATIO * input.len()`).
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while let Some(&ctrl) = input.get(ip) {
        ip += 1;
        if ctrl < 32 {
            let n = usize::from(ctrl) + 1;
            let lit = input.get(ip..ip + n)?;
            if out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut len = usize::from(ctrl >> 5);
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            let low = usize::from(*input.get(ip)?);
            ip += 1;
            let distance = ((usize::from(ctrl & 0x1f) << 8) | low) + 1;
            len += 2;
            if distance > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - distance;
            for i in start..start + len {
                // `i < out.len()`: `start < out.len()` and each step pushes one byte.
                let byte = *out.get(i)?;
                out.push(byte);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

fn hash3(a: u8, b: u8, c: u8) -> usize {
    let v = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

fn flush_literals(out: &mut Vec<u8>, lit: &[u8]) {
    for chunk in lit.chunks(MAX_LITERAL) {
        // A chunk holds 1..=32 bytes, so the control byte is 0..=31.
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
}

/// Compresses `input`; `None` when the result would be longer than `max_out` bytes (Redis
/// stores a string compressed only when that saves at least four bytes).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut out = Vec::with_capacity(max_out.min(input.len()));
    let mut lit_start = 0;
    let mut ip = 0;
    while ip + 2 < input.len() {
        let h = hash3(input[ip], input[ip + 1], input[ip + 2]);
        let cand = table[h];
        table[h] = ip;
        if cand != usize::MAX
            && ip - cand <= MAX_DISTANCE
            && input[cand..cand + 3] == input[ip..ip + 3]
        {
            let max_len = MAX_MATCH.min(input.len() - ip);
            let mut len = 3;
            while len < max_len && input[cand + len] == input[ip + len] {
                len += 1;
            }
            flush_literals(&mut out, &input[lit_start..ip]);
            let off = ip - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            ip += len;
            lit_start = ip;
            if out.len() > max_out {
                return None;
            }
        } else {
            ip += 1;
        }
    }
    flush_literals(&mut out, &input[lit_start..]);
    (out.len() <= max_out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_bytes() {
        let inputs: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaa".to_vec(),
            b"hello hello hello hello hello hello".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            vec![b'x'; 100_000],
            b"abc".to_vec(),
            Vec::new(),
        ];
        for input in inputs {
            let c = compress(&input, usize::MAX).expect("unbounded");
            assert_eq!(decompress(&c, input.len()), Some(input.clone()));
        }
    }

    #[test]
    fn worked_example() {
        assert_eq!(
            compress(b"aaaaaaaaaa", 100),
            Some(vec![0x00, b'a', 0xE0, 0x00, 0x00])
        );
    }

    #[test]
    fn decodes_a_redis_stream() {
        // One literal, then a 29-byte run through the length extension byte.
        let c = [0x00, b'a', 0xE0, 0x14, 0x00];
        assert_eq!(decompress(&c, 30), Some(vec![b'a'; 30]));
    }

    #[test]
    fn rejects_malformed_streams() {
        assert_eq!(decompress(&[0x20, 0x00], 3), None); // reference before the start
        assert_eq!(decompress(&[0x05, b'a'], 6), None); // literal past the input
        assert_eq!(decompress(&[0x00, b'a'], 2), None); // too short
        assert_eq!(decompress(&[0x00, b'a', 0x20, 0x00], 2), None); // too long
        assert_eq!(decompress(&[0x00], 1_000_000), None); // beyond the ratio
        assert_eq!(compress(&[b'q'; 3], 2), None);
    }
}
