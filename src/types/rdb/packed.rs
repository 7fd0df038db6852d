//! The compact blobs Redis nests inside RDB strings: listpack, ziplist, intset and zipmap.
//!
//! # Design
//!
//! Each decoder takes the whole blob and returns its entries as byte strings (integers as
//! their decimal text, which is how Redis hands them to clients), or `None` when any
//! header, length, back-length, count or terminator is inconsistent. Every read is bounds
//! checked, and nothing is allocated from a declared length: entries are pushed one by one
//! as they are read, each no longer than the bytes that hold it. Only the listpack and the
//! intset have encoders: they are what Redis 7.0 writes; ziplist and zipmap come only from
//! older servers' payloads.
//!
//! # Representation
//!
//! ```text
//! listpack: total-bytes u32le | count u16le (65535 = unknown) | entry* | FF
//!   entry = encoding+data | back-length (1..5 bytes, 7 bits each, read right to left)
//!   0xxxxxxx                 uint 0..127
//!   10LLLLLL <L bytes>       string, up to 63 bytes
//!   110xxxxx xxxxxxxx        int13, two's complement, high bits first
//!   1110LLLL LLLLLLLL <..>   string, up to 4095 bytes
//!   F0 <len u32le> <..>      string
//!   F1/F2/F3/F4 <2/3/4/8 le> int16/int24/int32/int64
//! ziplist:  total-bytes u32le | tail-offset u32le | count u16le | entry* | FF
//!   entry = prevlen (1 byte < 254, or FE + u32le) | encoding | data
//!   00LLLLLL, 01LLLLLL LLLLLLLL (be), 80 + u32be: strings
//!   C0 i16, D0 i32, E0 i64, F0 i24, FE i8 (little endian), F1..FD: 0..12 inline
//! intset:   width u32le (2, 4, 8) | count u32le | count signed ints, ascending, le
//! zipmap:   count u8 (254 = unknown) | (len key len free value <free bytes>)* | FF
//!   len = one byte < 254, or FE + u32le
//! ```
//!
//! # Worked example
//!
//! The listpack of `["a", "5", "-1"]` is 15 bytes:
//! `0F 00 00 00 | 03 00 | 81 61 02 | 05 01 | DF FF 02 | FF`: a one-byte string `a` with
//! back-length 2, the 7-bit integer 5 with back-length 1, the 13-bit integer -1 (`1FFF`)
//! with back-length 2, and the terminator.
//!
//! # References
//!
//! Redis `src/listpack.c` (`lpEncodeBacklen`, `lpCurrentEncodedSizeUnsafe`, `lpGet`),
//! `src/ziplist.c` (`zipStoreEntryEncoding`, `zipEntrySafe`), `src/intset.c`,
//! `src/zipmap.c` (`zipmapValidateIntegrity`).

/// The integer a Redis string stands for when it is an integer's canonical decimal text
/// (what `string2ll` accepts and `ll2string` would print back): no sign but `-`, no
/// leading zeros, no spaces, within `i64`.
pub fn canonical_i64(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let ok = s == b"0"
        || (!digits.is_empty()
            && digits.len() <= 19
            && digits.first().is_some_and(|d| (b'1'..=b'9').contains(d))
            && digits.iter().all(u8::is_ascii_digit));
    if !ok {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le_int(b: &[u8], at: usize, width: usize) -> Option<i64> {
    let bytes = b.get(at..at + width)?;
    let mut buf = [0u8; 8];
    buf.get_mut(..width)?.copy_from_slice(bytes);
    let shift = 64 - 8 * width as u32;
    // Sign-extends from `width` bytes.
    Some((i64::from_le_bytes(buf) << shift) >> shift)
}

// ---------------------------------------------------------------------------------------
// listpack

fn backlen(len: usize) -> ([u8; 5], usize) {
    let mut out = [0u8; 5];
    let n = match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    // Most significant group first, with the high bit set on every byte but the first.
    for (i, slot) in out.iter_mut().take(n).enumerate() {
        let group = ((len >> (7 * (n - 1 - i))) & 0x7f) as u8;
        *slot = if i == 0 { group } else { group | 0x80 };
    }
    (out, n)
}

/// Appends one listpack entry for `item` to `out`; returns the bytes written.
pub fn listpack_push(out: &mut Vec<u8>, item: &[u8]) -> usize {
    let start = out.len();
    match canonical_i64(item) {
        Some(v @ 0..=127) => out.push(v as u8),
        Some(v @ -4096..=4095) => {
            let u = (v & 0x1fff) as u16;
            out.push(0xC0 | (u >> 8) as u8);
            out.push((u & 0xff) as u8);
        }
        Some(v @ -32768..=32767) => {
            out.push(0xF1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        }
        Some(v @ -8_388_608..=8_388_607) => {
            out.push(0xF2);
            out.extend_from_slice(&v.to_le_bytes()[..3]);
        }
        Some(v) if i32::try_from(v).is_ok() => {
            out.push(0xF3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        Some(v) => {
            out.push(0xF4);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => {
            let n = item.len();
            if n < 64 {
                out.push(0x80 | n as u8);
            } else if n < 4096 {
                out.push(0xE0 | (n >> 8) as u8);
                out.push((n & 0xff) as u8);
            } else {
                out.push(0xF0);
                out.extend_from_slice(&(n as u32).to_le_bytes());
            }
            out.extend_from_slice(item);
        }
    }
    let (bl, n) = backlen(out.len() - start);
    out.extend_from_slice(&bl[..n]);
    out.len() - start
}

/// An empty listpack to which `listpack_push` appends; `listpack_finish` closes it.
pub fn listpack_start() -> Vec<u8> {
    vec![0u8; 6]
}

/// Writes the terminator and the header of a listpack holding `count` entries.
pub fn listpack_finish(mut lp: Vec<u8>, count: usize) -> Vec<u8> {
    lp.push(0xFF);
    let total = u32::try_from(lp.len()).unwrap_or(u32::MAX).to_le_bytes();
    let count = u16::try_from(count).unwrap_or(u16::MAX).to_le_bytes();
    if let Some(h) = lp.get_mut(0..6) {
        h[..4].copy_from_slice(&total);
        h[4..].copy_from_slice(&count);
    }
    lp
}

/// A listpack of `items`.
pub fn listpack_encode<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut lp = listpack_start();
    let mut count = 0;
    for item in items {
        listpack_push(&mut lp, item);
        count += 1;
    }
    listpack_finish(lp, count)
}

/// The entries of a listpack, or `None` when it is malformed.
pub fn listpack_decode(lp: &[u8]) -> Option<Vec<Vec<u8>>> {
    if lp.len() < 7 || le_u32(lp, 0)? as usize != lp.len() {
        return None;
    }
    let declared = le_u16(lp, 4)?;
    let mut out = Vec::new();
    let mut pos = 6;
    loop {
        let b = *lp.get(pos)?;
        if b == 0xFF {
            if pos + 1 != lp.len() {
                return None;
            }
            break;
        }
        let (item, len) = match b {
            0x00..=0x7F => (i64::from(b).to_string().into_bytes(), 1),
            0x80..=0xBF => {
                let n = usize::from(b & 0x3f);
                (lp.get(pos + 1..pos + 1 + n)?.to_vec(), 1 + n)
            }
            0xC0..=0xDF => {
                let u = (i64::from(b & 0x1f) << 8) | i64::from(*lp.get(pos + 1)?);
                let v = if u >= 4096 { u - 8192 } else { u };
                (v.to_string().into_bytes(), 2)
            }
            0xE0..=0xEF => {
                let n = (usize::from(b & 0x0f) << 8) | usize::from(*lp.get(pos + 1)?);
                (lp.get(pos + 2..pos + 2 + n)?.to_vec(), 2 + n)
            }
            0xF0 => {
                let n = le_u32(lp, pos + 1)? as usize;
                let end = (pos + 5).checked_add(n)?;
                (lp.get(pos + 5..end)?.to_vec(), 5 + n)
            }
            0xF1 => (le_int(lp, pos + 1, 2)?.to_string().into_bytes(), 3),
            0xF2 => (le_int(lp, pos + 1, 3)?.to_string().into_bytes(), 4),
            0xF3 => (le_int(lp, pos + 1, 4)?.to_string().into_bytes(), 5),
            0xF4 => (le_int(lp, pos + 1, 8)?.to_string().into_bytes(), 9),
            _ => return None,
        };
        let (bl, n) = backlen(len);
        let at = pos + len;
        if lp.get(at..at + n)? != &bl[..n] {
            return None;
        }
        pos = at + n;
        out.push(item);
    }
    if declared != u16::MAX && usize::from(declared) != out.len() {
        return None;
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// ziplist

/// The entries of a ziplist, or `None` when it is malformed.
pub fn ziplist_decode(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
    if zl.len() < 11 || le_u32(zl, 0)? as usize != zl.len() {
        return None;
    }
    let tail = le_u32(zl, 4)? as usize;
    let declared = le_u16(zl, 8)?;
    let mut out = Vec::new();
    let mut pos = 10;
    let mut prev_len = 0usize;
    let mut last_start = 10;
    loop {
        let b = *zl.get(pos)?;
        if b == 0xFF {
            if pos + 1 != zl.len() {
                return None;
            }
            break;
        }
        let start = pos;
        let (prevlen, p) = match b {
            0..=253 => (usize::from(b), 1),
            254 => (le_u32(zl, pos + 1)? as usize, 5),
            _ => return None,
        };
        if prevlen != prev_len {
            return None;
        }
        pos += p;
        let e = *zl.get(pos)?;
        let (item, len) = match e >> 6 {
            0 => {
                let n = usize::from(e & 0x3f);
                (zl.get(pos + 1..pos + 1 + n)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (usize::from(e & 0x3f) << 8) | usize::from(*zl.get(pos + 1)?);
                (zl.get(pos + 2..pos + 2 + n)?.to_vec(), 2 + n)
            }
            2 => {
                if e != 0x80 {
                    return None;
                }
                let n = u32::from_be_bytes(zl.get(pos + 1..pos + 5)?.try_into().ok()?) as usize;
                let end = (pos + 5).checked_add(n)?;
                (zl.get(pos + 5..end)?.to_vec(), 5 + n)
            }
            _ => {
                let (v, width) = match e {
                    0xC0 => (le_int(zl, pos + 1, 2)?, 2),
                    0xD0 => (le_int(zl, pos + 1, 4)?, 4),
                    0xE0 => (le_int(zl, pos + 1, 8)?, 8),
                    0xF0 => (le_int(zl, pos + 1, 3)?, 3),
                    0xFE => (le_int(zl, pos + 1, 1)?, 1),
                    0xF1..=0xFD => (i64::from(e & 0x0f) - 1, 0),
                    _ => return None,
                };
                (v.to_string().into_bytes(), 1 + width)
            }
        };
        pos += len;
        prev_len = pos - start;
        last_start = start;
        out.push(item);
    }
    if tail != last_start || (declared != u16::MAX && usize::from(declared) != out.len()) {
        return None;
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// intset

/// The intset of `values`, which must be sorted ascending without duplicates.
pub fn intset_encode(values: &[i64]) -> Vec<u8> {
    let width: usize = if values.iter().all(|v| i16::try_from(*v).is_ok()) {
        2
    } else if values.iter().all(|v| i32::try_from(*v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(
        &u32::try_from(values.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    for v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// The members of an intset, ascending, or `None` when it is malformed (bad width, length
/// not matching the count, members not strictly ascending).
pub fn intset_decode(is: &[u8]) -> Option<Vec<i64>> {
    let width = le_u32(is, 0)? as usize;
    let count = le_u32(is, 4)? as usize;
    if ![2, 4, 8].contains(&width) || count.checked_mul(width)?.checked_add(8)? != is.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let v = le_int(is, 8 + i * width, width)?;
        if out.last().is_some_and(|last| *last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// zipmap

fn zipmap_len(zm: &[u8], pos: usize) -> Option<(usize, usize)> {
    match *zm.get(pos)? {
        b @ 0..=253 => Some((usize::from(b), 1)),
        254 => Some((le_u32(zm, pos + 1)? as usize, 5)),
        _ => None,
    }
}

/// The field-value pairs of a zipmap (Redis 2.4 small hashes), or `None` when malformed.
pub fn zipmap_decode(zm: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let declared = *zm.first()?;
    let mut out = Vec::new();
    let mut pos = 1;
    loop {
        if *zm.get(pos)? == 0xFF {
            if pos + 1 != zm.len() {
                return None;
            }
            break;
        }
        let (klen, n) = zipmap_len(zm, pos)?;
        pos += n;
        let key = zm.get(pos..pos.checked_add(klen)?)?.to_vec();
        pos += klen;
        let (vlen, n) = zipmap_len(zm, pos)?;
        pos += n;
        let free = usize::from(*zm.get(pos)?);
        pos += 1;
        let value = zm.get(pos..pos.checked_add(vlen)?)?.to_vec();
        pos += vlen + free;
        out.push((key, value));
    }
    if declared < 254 && usize::from(declared) != out.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn canonical_integers_are_string2ll_exact() {
        assert_eq!(canonical_i64(b"0"), Some(0));
        assert_eq!(canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
        ] {
            assert_eq!(canonical_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn listpack_worked_example() {
        let lp = listpack_encode([&b"a"[..], b"5", b"-1"]);
        assert_eq!(
            lp,
            [0x0F, 0, 0, 0, 3, 0, 0x81, b'a', 2, 5, 1, 0xDF, 0xFF, 2, 0xFF]
        );
        assert_eq!(listpack_decode(&lp), Some(v(&["a", "5", "-1"])));
    }

    #[test]
    fn listpack_round_trips_every_encoding() {
        let long = "z".repeat(5000);
        let mid = "y".repeat(300);
        let items = v(&[
            "0",
            "127",
            "128",
            "-4096",
            "4095",
            "-4097",
            "32767",
            "-32768",
            "32768",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "",
            "abc",
            "007",
            "-0",
            &mid,
            &long,
        ]);
        let lp = listpack_encode(items.iter().map(Vec::as_slice));
        assert_eq!(listpack_decode(&lp), Some(items));
        for (i, len) in [(127usize, 1usize), (128, 2), (16382, 2), (16383, 3)] {
            assert_eq!(backlen(i).1, len);
        }
        assert_eq!(&backlen(300).0[..2], &[0x02, 0x80 | 44]);
    }

    #[test]
    fn ziplist_decodes_hand_built_bytes() {
        // ["ab", 7 (inline), 300 (int16), -2 (int8 written by old servers), 100000 (int24)]
        let mut zl = vec![0u8; 10];
        let mut starts = Vec::new();
        let mut prev = 0u8;
        for entry in [
            &[0x02, b'a', b'b'][..],
            &[0xF8],
            &[0xC0, 0x2C, 0x01],
            &[0xFE, 0xFE],
            &[0xF0, 0xA0, 0x86, 0x01],
        ] {
            starts.push(zl.len());
            zl.push(prev);
            zl.extend_from_slice(entry);
            prev = (entry.len() + 1) as u8;
        }
        zl.push(0xFF);
        let n = zl.len() as u32;
        zl[..4].copy_from_slice(&n.to_le_bytes());
        zl[4..8].copy_from_slice(&(*starts.last().unwrap() as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&5u16.to_le_bytes());
        assert_eq!(
            ziplist_decode(&zl),
            Some(v(&["ab", "7", "300", "-2", "100000"]))
        );
        let mut bad = zl.clone();
        bad[8] = 4;
        assert_eq!(ziplist_decode(&bad), None);
    }

    #[test]
    fn intset_round_trips_and_rejects_disorder() {
        for values in [
            vec![1i64, 2, 3],
            vec![-70000, 5],
            vec![i64::MIN, 0, i64::MAX],
        ] {
            assert_eq!(intset_decode(&intset_encode(&values)), Some(values));
        }
        assert_eq!(intset_encode(&[1, 2])[..4], [2, 0, 0, 0]);
        assert_eq!(intset_decode(&intset_encode(&[2, 1])), None);
        assert_eq!(intset_decode(&[2, 0, 0, 0, 9, 0, 0, 0]), None);
    }

    #[test]
    fn zipmap_decodes_hand_built_bytes() {
        let zm = [
            2, 1, b'a', 2, 0, b'x', b'y', 1, b'b', 1, 3, b'z', 0, 0, 0, 0xFF,
        ];
        assert_eq!(
            zipmap_decode(&zm),
            Some(vec![
                (b"a".to_vec(), b"xy".to_vec()),
                (b"b".to_vec(), b"z".to_vec())
            ])
        );
        assert_eq!(zipmap_decode(&zm[..zm.len() - 1]), None);
    }
}
