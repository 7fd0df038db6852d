//! A whole Redis RDB file (`dump.rdb`, versions 1 to 10): its opcodes walked in order and
//! every key handed to a caller as an [`RdbEntry`], values decoded by the per-value codec of
//! [`super`] (the one behind `RESTORE`).
//!
//! # Design
//!
//! - The reader works on the file's bytes in memory. Every length is checked against the
//!   bytes left before anything is taken or allocated for it (the value codec's rule), so a
//!   truncated or hostile file costs at most a small multiple of its own size.
//! - A non-zero CRC64 trailer is verified over the whole file before the first key is
//!   decoded, so a damaged file is refused without handing the caller anything; a zero one
//!   means the writer had `rdbchecksum no`, and is accepted as Redis accepts it.
//! - The walk must end at the EOF opcode directly followed by the 8-byte trailer (files of
//!   versions 5 and later; earlier files end at EOF). Data after it is refused.
//! - AUX fields are returned to the caller; RESIZEDB, IDLE and FREQ are read and ignored
//!   (hints for Redis's own tables and eviction). MODULE_AUX data is skipped after its
//!   framing is checked, as `redis-check-rdb` walks it. FUNCTION2 (a Lua library's code) is
//!   counted and skipped: this store runs no functions. The pre-release 7.0 `FUNCTION`
//!   opcode (246) is refused with its name.
//! - The database number (SELECTDB) is passed with every entry; what to do with a database
//!   other than 0 is the caller's decision.
//!
//! # Representation
//!
//! ```text
//! file   "REDIS" | version: 4 ASCII digits ("0010") | item* | FF | crc64: u64le (v >= 5)
//! item   FA aux: key string, value string
//!        FE SELECTDB: db length
//!        FB RESIZEDB: db size length, expires size length
//!        FC EXPIRETIME_MS: i64le (Unix ms)  | FD EXPIRETIME: i32le (Unix s)
//!        F8 IDLE: length (s)                | F9 FREQ: u8
//!        F7 MODULE_AUX: module id length, 02, when length, typed fields through 00
//!        F5 FUNCTION2: string (library code)
//!        T  key: type T (0..=19, as in a DUMP payload), key string, value
//! ```
//!
//! An expiry, IDLE or FREQ applies to the key that follows it.
//!
//! # Worked example
//!
//! A Redis 7.0 with one key `k` = `v` and nothing else saves (AUX fields left out):
//! `REDIS0010 | FE 00 | FB 01 00 | 00 01 6B 01 76 | FF | <crc64>`: database 0, one key of
//! which none expire, a string key `k`, the string `v`, EOF, then the CRC64 of every byte
//! before it, little endian.
//!
//! # References
//!
//! Redis 7.0 `src/rdb.c` (`rdbLoadRioWithLoadingCtx`, `rdbLoadCheckModuleValue`,
//! `rdbLoadTime`, `rdbLoadMillisecondTime`), `src/rdb.h` (opcode numbers),
//! `src/redis-check-rdb.c`.

use super::{crc64, read_value, RdbError, RdbValue, Reader, RDB_VERSION};
use std::fmt;

const OP_FUNCTION2: u8 = 245;
const OP_FUNCTION_PRE_GA: u8 = 246;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

/// The opcode a module's `when` field follows (an unsigned integer field).
const MODULE_OPCODE_UINT: u64 = 2;
/// The first version with a CRC64 trailer.
const FIRST_CHECKSUMMED_VERSION: u16 = 5;

/// One key of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct RdbEntry {
    /// The database of the last SELECTDB before the key (0 if none).
    pub db: u64,
    /// The key.
    pub key: Vec<u8>,
    /// The absolute expiry in Unix milliseconds, if the key has one.
    pub expire_at_ms: Option<i64>,
    /// The decoded value.
    pub value: RdbValue,
}

/// What the file held besides its keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RdbFileInfo {
    /// The RDB version of the header.
    pub version: u16,
    /// The AUX fields, in file order (`redis-ver`, `ctime`, `used-mem` ...).
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// FUNCTION2 records skipped (function libraries).
    pub functions_skipped: usize,
    /// Module names of the MODULE_AUX records skipped.
    pub module_aux_skipped: Vec<String>,
    /// Keys handed to the caller.
    pub keys: usize,
}

/// Why a file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbFileError {
    /// The byte offset where reading failed (0 for the header and checksum).
    pub offset: usize,
    /// What is wrong, in Redis's words where Redis has some.
    pub message: String,
}

impl fmt::Display for RdbFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for RdbFileError {}

/// Whether `data` starts like an RDB file (the magic `REDIS`).
pub fn is_rdb_file(data: &[u8]) -> bool {
    data.starts_with(b"REDIS")
}

fn at(offset: usize, message: impl Into<String>) -> RdbFileError {
    RdbFileError {
        offset,
        message: message.into(),
    }
}

/// Reads the whole file `data`, handing every key to `each` in file order; an error from
/// `each` stops the walk and is returned with the key's offset. Refuses a wrong magic, a
/// version above 10, a CRC64 mismatch (before any key is handed over), a truncated or
/// malformed item, and bytes after the trailer.
pub fn read_rdb_file(
    data: &[u8],
    mut each: impl FnMut(RdbEntry) -> Result<(), String>,
) -> Result<RdbFileInfo, RdbFileError> {
    if !is_rdb_file(data) {
        return Err(at(0, "Wrong signature trying to load DB from file"));
    }
    let digits = data
        .get(5..9)
        .ok_or_else(|| at(0, "Short read loading DB: the RDB header is truncated"))?;
    let version = std::str::from_utf8(digits)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| at(5, "Wrong signature trying to load DB from file"))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(at(5, format!("Can't handle RDB format version {version}")));
    }
    let body_end = if version >= FIRST_CHECKSUMMED_VERSION {
        let end = data
            .len()
            .checked_sub(8)
            .filter(|&e| e >= 10)
            .ok_or_else(|| at(0, "Short read loading DB: the file is truncated"))?;
        let stored: [u8; 8] = data
            .get(end..)
            .and_then(|t| t.try_into().ok())
            .unwrap_or_default();
        let expected = u64::from_le_bytes(stored);
        if expected != 0 {
            let actual = crc64(0, data.get(..end).unwrap_or_default());
            if actual != expected {
                return Err(at(
                    end,
                    format!(
                        "Wrong RDB checksum expected: ({expected:x}) got: ({actual:x}); the file is truncated or corrupt"
                    ),
                ));
            }
        }
        end
    } else {
        data.len()
    };

    let mut r = Reader {
        buf: data.get(..body_end).unwrap_or_default(),
        pos: 9,
    };
    let truncated = |pos: usize| at(pos, "Short read or malformed data loading DB");
    let mut info = RdbFileInfo {
        version,
        ..RdbFileInfo::default()
    };
    let mut db = 0u64;
    let mut expire_at_ms: Option<i64> = None;
    loop {
        let start = r.pos;
        let op = r.u8().map_err(|_| truncated(start))?;
        match op {
            OP_EOF => break,
            OP_AUX => {
                let key = r.string().map_err(|_| truncated(start))?;
                let value = r.string().map_err(|_| truncated(start))?;
                info.aux.push((key, value));
            }
            OP_SELECTDB => db = r.len().map_err(|_| truncated(start))?,
            OP_RESIZEDB => {
                r.len().map_err(|_| truncated(start))?;
                r.len().map_err(|_| truncated(start))?;
            }
            OP_EXPIRETIME_MS => {
                let ms: [u8; 8] = r
                    .take(8)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| truncated(start))?;
                expire_at_ms = Some(i64::from_le_bytes(ms));
            }
            OP_EXPIRETIME => {
                let s: [u8; 4] = r
                    .take(4)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| truncated(start))?;
                expire_at_ms = Some(i64::from(i32::from_le_bytes(s)) * 1000);
            }
            OP_IDLE => {
                r.len().map_err(|_| truncated(start))?;
            }
            OP_FREQ => {
                r.u8().map_err(|_| truncated(start))?;
            }
            OP_MODULE_AUX => {
                let id = r.len().map_err(|_| truncated(start))?;
                let when_opcode = r.len().map_err(|_| truncated(start))?;
                if when_opcode != MODULE_OPCODE_UINT {
                    return Err(at(start, "Bad module AUX data: bad when_opcode"));
                }
                r.len().map_err(|_| truncated(start))?;
                r.module_fields().map_err(|_| truncated(start))?;
                info.module_aux_skipped.push(super::module_type_name(id));
            }
            OP_FUNCTION2 => {
                r.string().map_err(|_| truncated(start))?;
                info.functions_skipped += 1;
            }
            OP_FUNCTION_PRE_GA => {
                return Err(at(
                    start,
                    "The RDB file holds functions in the pre-release Redis 7.0 format (opcode 246), which is not supported",
                ))
            }
            t => {
                let key = r.string().map_err(|_| truncated(start))?;
                let value = match read_value(&mut r, t) {
                    Ok(v) => v,
                    Err(RdbError::Unsupported(t)) => {
                        return Err(at(
                            start,
                            format!(
                                "key '{}' holds a value of RDB type {t} (a stream), which is not supported",
                                String::from_utf8_lossy(&key)
                            ),
                        ))
                    }
                    Err(_) => {
                        return Err(at(
                            start,
                            format!(
                                "Bad data format loading key '{}' of RDB type {t}",
                                String::from_utf8_lossy(&key)
                            ),
                        ))
                    }
                };
                let entry = RdbEntry {
                    db,
                    key,
                    expire_at_ms: expire_at_ms.take(),
                    value,
                };
                each(entry).map_err(|m| at(start, m))?;
                info.keys += 1;
            }
        }
    }
    if r.remaining() != 0 {
        return Err(at(r.pos, "Unexpected data after the RDB EOF opcode"));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::super::{dump_payload, DumpConfig};
    use super::*;

    /// A version-10 file: header, `items`, EOF and the CRC64.
    pub(crate) fn file(items: &[u8]) -> Vec<u8> {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(items);
        f.push(OP_EOF);
        let crc = crc64(0, &f);
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    /// A key item: the DUMP payload's type and value with the key between them.
    fn item(key: &[u8], v: &RdbValue) -> Vec<u8> {
        let p = dump_payload(v, &DumpConfig::default());
        let body = &p[..p.len() - 10];
        let mut out = vec![body[0]];
        out.push(key.len() as u8);
        out.extend_from_slice(key);
        out.extend_from_slice(&body[1..]);
        out
    }

    fn read_all(data: &[u8]) -> Result<Vec<RdbEntry>, RdbFileError> {
        let mut out = Vec::new();
        read_rdb_file(data, |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn worked_example() {
        let f = file(&[0xFE, 0, 0xFB, 1, 0, 0, 1, b'k', 1, b'v']);
        let keys = read_all(&f).unwrap();
        assert_eq!(
            keys,
            vec![RdbEntry {
                db: 0,
                key: b"k".to_vec(),
                expire_at_ms: None,
                value: RdbValue::String(b"v".to_vec()),
            }]
        );
    }

    #[test]
    fn opcodes_and_expiry() {
        let mut items = vec![OP_AUX, 9];
        items.extend_from_slice(b"redis-ver");
        items.extend_from_slice(&[6]);
        items.extend_from_slice(b"7.0.15");
        items.extend_from_slice(&[OP_SELECTDB, 3, OP_RESIZEDB, 2, 1]);
        items.push(OP_EXPIRETIME_MS);
        items.extend_from_slice(&1_700_000_000_123i64.to_le_bytes());
        items.extend_from_slice(&[OP_IDLE, 5, OP_FREQ, 9]);
        items.extend(item(b"a", &RdbValue::List(vec![b"x".to_vec()])));
        items.push(OP_EXPIRETIME);
        items.extend_from_slice(&1_700_000_000i32.to_le_bytes());
        items.extend(item(b"b", &RdbValue::String(b"12".to_vec())));
        items.extend(item(b"c", &RdbValue::String(b"z".to_vec())));
        items.extend_from_slice(&[OP_FUNCTION2, 3, b'l', b'u', b'a']);
        let f = file(&items);
        let mut keys = Vec::new();
        let info = read_rdb_file(&f, |e| {
            keys.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(info.version, 10);
        assert_eq!(info.aux, vec![(b"redis-ver".to_vec(), b"7.0.15".to_vec())]);
        assert_eq!(info.functions_skipped, 1);
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0].db, 3);
        assert_eq!(keys[0].expire_at_ms, Some(1_700_000_000_123));
        assert_eq!(keys[1].expire_at_ms, Some(1_700_000_000_000));
        assert_eq!(keys[2].expire_at_ms, None);
    }

    #[test]
    fn refusals() {
        let good = file(&item(b"k", &RdbValue::String(b"v".to_vec())));
        assert!(read_all(&good).is_ok());
        // Every truncation and every single-byte change is refused, never a panic.
        for n in 0..good.len() {
            assert!(read_all(&good[..n]).is_err(), "prefix of {n} bytes");
        }
        for i in 0..good.len() - 8 {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            assert!(read_all(&bad).is_err(), "byte {i} flipped");
        }
        let mut v11 = good.clone();
        v11[5..9].copy_from_slice(b"0011");
        let e = read_all(&v11).unwrap_err();
        assert!(e.message.contains("Can't handle RDB format version 11"));
        // A zero checksum is not checked; the structure still is.
        let mut unchecked = good.clone();
        let n = unchecked.len();
        unchecked[n - 8..].fill(0);
        assert!(read_all(&unchecked).is_ok());
        unchecked[n - 9] = 0xFE;
        assert!(read_all(&unchecked).is_err());
        // A huge declared length in a tiny file allocates nothing.
        let e = read_all(&file(&[
            0, 1, b'k', 0x81, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
        ]))
        .unwrap_err();
        assert!(e.message.contains("Bad data format"), "{e}");
        // The caller's error stops the walk, with the key's offset.
        let e = read_rdb_file(&good, |_| Err("no".to_owned())).unwrap_err();
        assert_eq!(e, at(9, "no"));
    }

    #[test]
    fn module_aux_is_skipped() {
        let id = super::super::module_id("MBbloom--", 4).unwrap();
        let mut items = vec![OP_MODULE_AUX];
        // The id as a 64-bit length, `when` as an unsigned field, one field, EOF.
        items.push(0x81);
        items.extend_from_slice(&id.to_be_bytes());
        items.extend_from_slice(&[2, 2, 2, 7, 0]);
        let info = read_rdb_file(&file(&items), |_| Ok(())).unwrap();
        assert_eq!(info.module_aux_skipped, vec!["MBbloom--".to_owned()]);
    }
}
