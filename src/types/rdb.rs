//! Redis 7.0 `DUMP`/`RESTORE` payloads (RDB version 10): one value, its RDB encoding, the
//! version and a CRC64, as a pure codec over an owned value model.
//!
//! # Design
//!
//! - The value model (`RdbValue`) is independent of the store: plain vectors of byte
//!   strings, pairs and scores, in the order Redis lists them. A HyperLogLog is a string,
//!   as in Redis.
//! - `dump_payload` writes the encodings Redis 7.0 itself writes for the same contents, so
//!   `RESTORE` on a real 7.0 server accepts the payload and reports the same
//!   `OBJECT ENCODING` as for a key built there by commands: integer encodings for short
//!   integer strings, lists as quicklist-2 nodes of listpacks, small hashes and sorted sets
//!   as listpacks, all-integer small sets as intsets, the thresholds in `DumpConfig`.
//!   Strings longer than 20 bytes are LZF-compressed when that saves bytes, as Redis does
//!   with `rdbcompression yes`; the compressed bytes differ from Redis's (another
//!   compressor) but decode to the same value.
//! - `restore_payload` checks what Redis's `verifyDumpPayload` checks (length, version not
//!   newer than 10, CRC64), then decodes every type and encoding a 7.0 server can load from
//!   a payload, old ones (ziplist, zipmap, quicklist of ziplists, string-scored sorted
//!   sets) included. It is stricter than Redis's default (`sanitize-dump-payload no`):
//!   every nested blob is validated entry by entry, duplicates and empty collections are
//!   refused, a listpack sorted set must be in order, and the value must end exactly where
//!   the footer starts. Every length read from the payload is compared with the bytes left
//!   before anything is allocated for it; an LZF string may declare at most
//!   `lzf::MAX_RATIO` times its compressed size.
//! - The thresholds default to the server's built-in values, which are what a
//!   redis-server started without a configuration file uses: notably
//!   `hash-max-listpack-entries` is 512 there, while the sample `redis.conf` says 128.
//! - A module value (type 7) decodes to `RdbValue::Module` with its type name (the nine
//!   characters packed into the 64-bit module id) and its opaque bytes (checked only for
//!   their framing: typed fields up to the end marker), so a caller can say which module
//!   it would need; `read_module_fields` and `write_module_fields` turn those bytes into
//!   typed fields and back, for a caller that models the module's value (the store does for
//!   RedisBloom's filters). Streams are `RdbError::Unsupported`.
//!
//! # Representation
//!
//! ```text
//! payload = type u8 | value | version u16le (10) | crc64 u64le of everything before it
//! length  = 00LLLLLL | 01LLLLLL LLLLLLLL | 80 + u32be | 81 + u64be
//! string  = length bytes | C0 i8 | C1 i16le | C2 i32le | C3 clen len <clen LZF bytes>
//! type 0  string                       type 11  intset in a string
//! type 2  set: length, members         type 16  hash: listpack in a string (f, v, f, v)
//! type 4  hash: length, (f, v)*        type 17  zset: listpack (member, score, ...)
//! type 5  zset: length, (m, f64le)*    type 18  list: length nodes, each (container
//! type 7  module: id as a length, data          2 = listpack in a string | 1 = one element)
//! loaded only: 1 list, 3 zset with text scores, 9 zipmap, 10 ziplist list, 12/13 ziplist
//! zset/hash, 14 quicklist of ziplists
//! ```
//!
//! # Worked example
//!
//! `SET k 123` then `DUMP k` gives 13 bytes:
//! `00 | C0 7B | 0A 00 | <8 CRC bytes>`: type string, the int8 encoding of 123, version 10,
//! then the CRC64 of those five bytes, little endian.
//!
//! # References
//!
//! Redis 7.0 `src/rdb.c` (`rdbSaveObject`, `rdbLoadObject`, `rdbSaveLen`,
//! `rdbTryIntegerEncoding`, `rdbLoadDoubleValue`), `src/rdb.h` (type numbers),
//! `src/cluster.c` (`createDumpPayload`, `verifyDumpPayload`), `src/crc64.c`,
//! `src/module.c` (`moduleTypeNameByID`), `src/quicklist.c` (node size limits).

pub mod file;
pub mod lzf;
pub mod packed;

use std::collections::HashSet;
use std::fmt;

/// The RDB version Redis 7.0 writes, and the newest it accepts.
pub const RDB_VERSION: u16 = 10;

const T_STRING: u8 = 0;
const T_LIST: u8 = 1;
const T_SET: u8 = 2;
const T_ZSET: u8 = 3;
const T_HASH: u8 = 4;
const T_ZSET_2: u8 = 5;
const T_MODULE_2: u8 = 7;
const T_HASH_ZIPMAP: u8 = 9;
const T_LIST_ZIPLIST: u8 = 10;
const T_SET_INTSET: u8 = 11;
const T_ZSET_ZIPLIST: u8 = 12;
const T_HASH_ZIPLIST: u8 = 13;
const T_LIST_QUICKLIST: u8 = 14;
const T_STREAM_LISTPACKS: u8 = 15;
const T_HASH_LISTPACK: u8 = 16;
const T_ZSET_LISTPACK: u8 = 17;
const T_LIST_QUICKLIST_2: u8 = 18;
const T_STREAM_LISTPACKS_2: u8 = 19;

const MODULE_EOF: u64 = 0;
const MODULE_SINT: u64 = 1;
const MODULE_UINT: u64 = 2;
const MODULE_FLOAT: u64 = 3;
const MODULE_DOUBLE: u64 = 4;
const MODULE_STRING: u64 = 5;

const NODE_PLAIN: u64 = 1;
const NODE_PACKED: u64 = 2;

/// The characters of a module type name, indexed by 6-bit groups of the module id.
const MODULE_NAME_CHARS: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One value, as a DUMP payload carries it.
#[derive(Clone, Debug, PartialEq)]
pub enum RdbValue {
    /// A string (also a HyperLogLog or a bitmap).
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set; members are distinct.
    Set(Vec<Vec<u8>>),
    /// A sorted set, ascending by score then member (as `ZRANGE`); members are distinct.
    SortedSet(Vec<(Vec<u8>, f64)>),
    /// A hash; fields are distinct.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A module type's value, opaque here.
    Module {
        /// The module type's nine-character name (`MBbloom--` for a RedisBloom filter).
        name: String,
        /// The module type's encoding version (the id's low 10 bits).
        encver: u16,
        /// The 64-bit module id as written.
        id: u64,
        /// The module's own serialization: typed fields (opcode, value) through the end
        /// marker `0`.
        data: Vec<u8>,
    },
}

/// Why a payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RdbError {
    /// Shorter than a footer, a version newer than 10, or a CRC64 mismatch.
    VersionOrChecksum,
    /// The value's bytes are malformed.
    BadFormat,
    /// A valid value of a type this codec does not model (streams), by RDB type number.
    Unsupported(u8),
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::VersionOrChecksum => {
                f.write_str("ERR DUMP payload version or checksum are wrong")
            }
            RdbError::BadFormat => f.write_str("ERR Bad data format"),
            RdbError::Unsupported(t) => write!(
                f,
                "ERR DUMP payload holds a value of RDB type {t} (a stream), which is not supported"
            ),
        }
    }
}

impl std::error::Error for RdbError {}

/// The encoding thresholds Redis applies (its configuration names, its defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpConfig {
    /// `hash-max-listpack-entries`: 512 is the server's built-in default (the sample
    /// `redis.conf` shipped with Redis sets 128).
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (bytes of a field or a value).
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (bytes of a member).
    pub zset_max_listpack_value: usize,
    /// The byte size a list node's listpack may reach (`list-max-listpack-size -2`).
    pub list_max_listpack_bytes: usize,
    /// An element at least this long is a node of its own, unpacked (1 GiB in Redis).
    pub list_packed_threshold: usize,
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it saves bytes.
    pub compression: bool,
}

impl Default for DumpConfig {
    fn default() -> Self {
        DumpConfig {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_bytes: 8192,
            list_packed_threshold: 1 << 30,
            compression: true,
        }
    }
}

// ---------------------------------------------------------------------------------------
// CRC64

const fn crc64_table() -> [u64; 256] {
    // Jones polynomial, reflected.
    const POLY: u64 = 0x95AC_9329_AC4B_C9B5;
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static CRC64_TABLE: [u64; 256] = crc64_table();

/// Redis's CRC64 (Jones polynomial, reflected, initial value `crc`, no final xor).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = CRC64_TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

// ---------------------------------------------------------------------------------------
// Writing

fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 64 {
        out.push(len as u8);
    } else if len < 16384 {
        out.push(0x40 | (len >> 8) as u8);
        out.push((len & 0xff) as u8);
    } else if let Ok(l) = u32::try_from(len) {
        out.push(0x80);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

fn write_string(out: &mut Vec<u8>, s: &[u8], cfg: &DumpConfig) {
    if s.len() <= 11 {
        match packed::canonical_i64(s) {
            Some(v @ -128..=127) => {
                out.extend_from_slice(&[0xC0, v as i8 as u8]);
                return;
            }
            Some(v @ -32768..=32767) => {
                out.push(0xC1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
                return;
            }
            Some(v) if i32::try_from(v).is_ok() => {
                out.push(0xC2);
                out.extend_from_slice(&(v as i32).to_le_bytes());
                return;
            }
            _ => {}
        }
    }
    if cfg.compression && s.len() > 20 {
        // Redis gives the compressor `len - 4` bytes of room, so that compression always
        // pays for the two lengths it adds.
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            write_len(out, c.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn write_f64(out: &mut Vec<u8>, d: f64) {
    out.extend_from_slice(&d.to_le_bytes());
}

/// A score as listpack text: integral values within +-2^52 as integers (which the
/// listpack then stores as integers, as Redis's `d2string` arranges), others in the
/// shortest text that reads back to the same double.
fn score_text(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    if d.fract() == 0.0 && d.abs() < 4_503_599_627_370_496.0 {
        return format!("{}", d as i64);
    }
    format!("{d:e}")
}

fn cmp_scored(a: &(Vec<u8>, f64), b: &(Vec<u8>, f64)) -> std::cmp::Ordering {
    a.1.partial_cmp(&b.1)
        .unwrap_or(std::cmp::Ordering::Equal)
        .then_with(|| a.0.cmp(&b.0))
}

fn write_list(out: &mut Vec<u8>, items: &[Vec<u8>], cfg: &DumpConfig) {
    // Nodes: a listpack grows while it stays within the byte limit; an element at or past
    // the packed threshold is a plain node of its own.
    enum Node<'a> {
        Packed(Vec<u8>),
        Plain(&'a [u8]),
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut lp = packed::listpack_start();
    let mut count = 0usize;
    for item in items {
        if item.len() >= cfg.list_packed_threshold {
            if count > 0 {
                nodes.push(Node::Packed(packed::listpack_finish(lp, count)));
                lp = packed::listpack_start();
                count = 0;
            }
            nodes.push(Node::Plain(item));
            continue;
        }
        let before = lp.len();
        packed::listpack_push(&mut lp, item);
        if count > 0 && lp.len() + 1 > cfg.list_max_listpack_bytes {
            let entry = lp.split_off(before);
            nodes.push(Node::Packed(packed::listpack_finish(lp, count)));
            lp = packed::listpack_start();
            lp.extend_from_slice(&entry);
            count = 0;
        }
        count += 1;
    }
    if count > 0 {
        nodes.push(Node::Packed(packed::listpack_finish(lp, count)));
    }
    write_len(out, nodes.len() as u64);
    for node in &nodes {
        match node {
            Node::Packed(lp) => {
                write_len(out, NODE_PACKED);
                write_string(out, lp, cfg);
            }
            Node::Plain(item) => {
                write_len(out, NODE_PLAIN);
                write_string(out, item, cfg);
            }
        }
    }
}

/// The DUMP payload of `value`, in the encodings Redis 7.0 writes under `cfg`.
///
/// Members of a set, fields of a hash and members of a sorted set are taken to be
/// distinct (Redis refuses a payload with duplicates); an empty collection is written as
/// such, though Redis refuses to restore one.
pub fn dump_payload(value: &RdbValue, cfg: &DumpConfig) -> Vec<u8> {
    let mut out = Vec::new();
    match value {
        RdbValue::String(s) => {
            out.push(T_STRING);
            write_string(&mut out, s, cfg);
        }
        RdbValue::List(items) => {
            out.push(T_LIST_QUICKLIST_2);
            write_list(&mut out, items, cfg);
        }
        RdbValue::Set(members) => {
            let ints: Option<Vec<i64>> = if members.len() <= cfg.set_max_intset_entries {
                members.iter().map(|m| packed::canonical_i64(m)).collect()
            } else {
                None
            };
            if let Some(mut ints) = ints {
                ints.sort_unstable();
                ints.dedup();
                out.push(T_SET_INTSET);
                write_string(&mut out, &packed::intset_encode(&ints), cfg);
            } else {
                out.push(T_SET);
                write_len(&mut out, members.len() as u64);
                for m in members {
                    write_string(&mut out, m, cfg);
                }
            }
        }
        RdbValue::SortedSet(pairs) => {
            let small = pairs.len() <= cfg.zset_max_listpack_entries
                && pairs
                    .iter()
                    .all(|(m, _)| m.len() <= cfg.zset_max_listpack_value);
            let mut sorted: Vec<&(Vec<u8>, f64)> = pairs.iter().collect();
            sorted.sort_by(|a, b| cmp_scored(a, b));
            if small {
                out.push(T_ZSET_LISTPACK);
                let texts: Vec<String> = sorted.iter().map(|(_, s)| score_text(*s)).collect();
                let lp = packed::listpack_encode(
                    sorted
                        .iter()
                        .zip(&texts)
                        .flat_map(|((m, _), t)| [m.as_slice(), t.as_bytes()]),
                );
                write_string(&mut out, &lp, cfg);
            } else {
                // Highest score first, as Redis walks its skiplist from the tail.
                out.push(T_ZSET_2);
                write_len(&mut out, sorted.len() as u64);
                for (m, s) in sorted.iter().rev() {
                    write_string(&mut out, m, cfg);
                    write_f64(&mut out, *s);
                }
            }
        }
        RdbValue::Hash(pairs) => {
            let small = pairs.len() <= cfg.hash_max_listpack_entries
                && pairs.iter().all(|(f, v)| {
                    f.len() <= cfg.hash_max_listpack_value && v.len() <= cfg.hash_max_listpack_value
                });
            if small {
                out.push(T_HASH_LISTPACK);
                let lp = packed::listpack_encode(
                    pairs.iter().flat_map(|(f, v)| [f.as_slice(), v.as_slice()]),
                );
                write_string(&mut out, &lp, cfg);
            } else {
                out.push(T_HASH);
                write_len(&mut out, pairs.len() as u64);
                for (f, v) in pairs {
                    write_string(&mut out, f, cfg);
                    write_string(&mut out, v, cfg);
                }
            }
        }
        RdbValue::Module { id, data, .. } => {
            out.push(T_MODULE_2);
            write_len(&mut out, *id);
            out.extend_from_slice(data);
        }
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

// ---------------------------------------------------------------------------------------
// Reading

type Result<T> = std::result::Result<T, RdbError>;

fn bad<T>(_: T) -> RdbError {
    RdbError::BadFormat
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length field, or one of the special string encodings (`C0`..`C3`).
enum Len {
    Plain(u64),
    Special(u8),
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(RdbError::BadFormat)?;
        let s = self.buf.get(self.pos..end).ok_or(RdbError::BadFormat)?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(*self.take(1)?.first().ok_or(RdbError::BadFormat)?)
    }

    fn len_or_special(&mut self) -> Result<Len> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.u8()?)),
            2 => match b {
                0x80 => Len::Plain(u64::from(u32::from_be_bytes(
                    self.take(4)?.try_into().map_err(bad)?,
                ))),
                0x81 => Len::Plain(u64::from_be_bytes(self.take(8)?.try_into().map_err(bad)?)),
                _ => return Err(RdbError::BadFormat),
            },
            _ => Len::Special(b & 0x3f),
        })
    }

    fn len(&mut self) -> Result<u64> {
        match self.len_or_special()? {
            Len::Plain(n) => Ok(n),
            Len::Special(_) => Err(RdbError::BadFormat),
        }
    }

    /// A count of items each taking at least `min_bytes` bytes, checked against the bytes
    /// left so that a vector of that capacity is bounded by the input.
    fn count(&mut self, min_bytes: usize) -> Result<usize> {
        let n = usize::try_from(self.len()?).map_err(bad)?;
        if n == 0 || n.checked_mul(min_bytes).ok_or(RdbError::BadFormat)? > self.remaining() {
            return Err(RdbError::BadFormat);
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<Vec<u8>> {
        match self.len_or_special()? {
            Len::Plain(n) => Ok(self.take(usize::try_from(n).map_err(bad)?)?.to_vec()),
            Len::Special(0) => Ok(i64::from(self.u8()? as i8).to_string().into_bytes()),
            Len::Special(1) => Ok(i16::from_le_bytes(self.take(2)?.try_into().map_err(bad)?)
                .to_string()
                .into_bytes()),
            Len::Special(2) => Ok(i32::from_le_bytes(self.take(4)?.try_into().map_err(bad)?)
                .to_string()
                .into_bytes()),
            Len::Special(3) => {
                let clen = usize::try_from(self.len()?).map_err(bad)?;
                let len = usize::try_from(self.len()?).map_err(bad)?;
                let compressed = self.take(clen)?;
                lzf::decompress(compressed, len).ok_or(RdbError::BadFormat)
            }
            Len::Special(_) => Err(RdbError::BadFormat),
        }
    }

    /// A score in the legacy text form: a length byte (253 NaN, 254 +inf, 255 -inf) and
    /// that many bytes of `%.17g` text.
    fn text_double(&mut self) -> Result<f64> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_score(self.take(usize::from(n))?),
        }
    }

    /// Walks a module value's typed fields (each an opcode, then a length-encoded
    /// integer, a float, a double or a string) through the end marker.
    fn module_fields(&mut self) -> Result<()> {
        loop {
            match self.len()? {
                MODULE_EOF => return Ok(()),
                MODULE_SINT | MODULE_UINT => {
                    self.len()?;
                }
                MODULE_FLOAT => {
                    self.take(4)?;
                }
                MODULE_DOUBLE => {
                    self.take(8)?;
                }
                MODULE_STRING => {
                    self.string()?;
                }
                _ => return Err(RdbError::BadFormat),
            }
        }
    }

    fn binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().map_err(bad)?))
    }
}

/// A score from text as `strtod` reads Redis's own output: decimal or exponent notation,
/// `inf`/`-inf`; NaN is refused, as Redis refuses NaN scores.
fn parse_score(text: &[u8]) -> Result<f64> {
    let s = std::str::from_utf8(text).map_err(bad)?;
    let d: f64 = match s {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ if s
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
            && !s.is_empty() =>
        {
            s.parse().map_err(bad)?
        }
        _ => return Err(RdbError::BadFormat),
    };
    if d.is_nan() {
        return Err(RdbError::BadFormat);
    }
    Ok(d)
}

fn distinct<'a>(items: impl Iterator<Item = &'a [u8]>) -> Result<()> {
    let mut seen = HashSet::new();
    for item in items {
        if !seen.insert(item) {
            return Err(RdbError::BadFormat);
        }
    }
    Ok(())
}

fn nonempty<T>(v: Vec<T>) -> Result<Vec<T>> {
    if v.is_empty() {
        Err(RdbError::BadFormat)
    } else {
        Ok(v)
    }
}

fn into_pairs(items: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    if items.len() % 2 != 0 {
        return Err(RdbError::BadFormat);
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

fn hash_value(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Result<RdbValue> {
    let pairs = nonempty(pairs)?;
    distinct(pairs.iter().map(|(f, _)| f.as_slice()))?;
    Ok(RdbValue::Hash(pairs))
}

fn zset_value(mut pairs: Vec<(Vec<u8>, f64)>) -> Result<RdbValue> {
    pairs = nonempty(pairs)?;
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return Err(RdbError::BadFormat);
    }
    distinct(pairs.iter().map(|(m, _)| m.as_slice()))?;
    pairs.sort_by(cmp_scored);
    Ok(RdbValue::SortedSet(pairs))
}

/// A sorted set from a listpack or ziplist of member, score, member, score... The blob
/// must already be in order: Redis keeps a misordered one as it is and then answers
/// range queries wrongly, so it is refused here.
fn zset_from_flat(items: Vec<Vec<u8>>) -> Result<RdbValue> {
    let pairs = into_pairs(items)?
        .into_iter()
        .map(|(m, s)| Ok((m, parse_score(&s)?)))
        .collect::<Result<Vec<_>>>()?;
    if pairs
        .windows(2)
        .any(|w| cmp_scored(&w[0], &w[1]) != std::cmp::Ordering::Less)
    {
        return Err(RdbError::BadFormat);
    }
    zset_value(pairs)
}

/// One typed field of a module value's serialization (what `RedisModule_Save*` writes).
#[derive(Clone, Debug, PartialEq)]
pub enum ModuleField {
    /// `SaveSigned`.
    Signed(i64),
    /// `SaveUnsigned`.
    Unsigned(u64),
    /// `SaveFloat`.
    Float(f32),
    /// `SaveDouble`.
    Double(f64),
    /// `SaveStringBuffer` / `SaveString`.
    String(Vec<u8>),
}

/// The typed fields of a module value's data (as in [`RdbValue::Module`]), through the end
/// marker, strings decoded (integer and LZF encodings included).
pub fn read_module_fields(data: &[u8]) -> std::result::Result<Vec<ModuleField>, RdbError> {
    let mut r = Reader { buf: data, pos: 0 };
    let mut out = Vec::new();
    loop {
        let field = match r.len()? {
            MODULE_EOF => break,
            MODULE_SINT => ModuleField::Signed(r.len()? as i64),
            MODULE_UINT => ModuleField::Unsigned(r.len()?),
            MODULE_FLOAT => {
                ModuleField::Float(f32::from_le_bytes(r.take(4)?.try_into().map_err(bad)?))
            }
            MODULE_DOUBLE => ModuleField::Double(r.binary_double()?),
            MODULE_STRING => ModuleField::String(r.string()?),
            _ => return Err(RdbError::BadFormat),
        };
        out.push(field);
    }
    if r.remaining() != 0 {
        return Err(RdbError::BadFormat);
    }
    Ok(out)
}

/// A module value's data for `fields`, with the end marker, strings written as Redis's
/// `rdbSaveRawString` writes them under `cfg`.
pub fn write_module_fields(fields: &[ModuleField], cfg: &DumpConfig) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        match f {
            ModuleField::Signed(n) => {
                write_len(&mut out, MODULE_SINT);
                write_len(&mut out, *n as u64);
            }
            ModuleField::Unsigned(n) => {
                write_len(&mut out, MODULE_UINT);
                write_len(&mut out, *n);
            }
            ModuleField::Float(x) => {
                write_len(&mut out, MODULE_FLOAT);
                out.extend_from_slice(&x.to_le_bytes());
            }
            ModuleField::Double(x) => {
                write_len(&mut out, MODULE_DOUBLE);
                write_f64(&mut out, *x);
            }
            ModuleField::String(b) => {
                write_len(&mut out, MODULE_STRING);
                write_string(&mut out, b, cfg);
            }
        }
    }
    write_len(&mut out, MODULE_EOF);
    out
}

/// The module id of a nine-character type name (from the 64-character alphabet of module
/// names) and an encoding version below 1024; `None` for another name.
pub fn module_id(name: &str, encver: u16) -> Option<u64> {
    if name.len() != 9 || encver >= 1024 {
        return None;
    }
    let mut id = 0u64;
    for c in name.bytes() {
        let i = MODULE_NAME_CHARS.iter().position(|&m| m == c)?;
        id = (id << 6) | i as u64;
    }
    Some((id << 10) | u64::from(encver))
}

/// The nine-character type name packed in a module id's high 54 bits.
pub fn module_type_name(id: u64) -> String {
    let mut name = [0u8; 9];
    let mut bits = id >> 10;
    for slot in name.iter_mut().rev() {
        *slot = MODULE_NAME_CHARS[(bits & 63) as usize];
        bits >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

fn read_value(r: &mut Reader<'_>, t: u8) -> Result<RdbValue> {
    let blob = |r: &mut Reader<'_>| r.string();
    Ok(match t {
        T_STRING => RdbValue::String(r.string()?),
        T_LIST => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            RdbValue::List(items)
        }
        T_SET => {
            let n = r.count(1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(r.string()?);
            }
            distinct(items.iter().map(Vec::as_slice))?;
            RdbValue::Set(items)
        }
        T_ZSET | T_ZSET_2 => {
            let n = r.count(if t == T_ZSET { 2 } else { 9 })?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == T_ZSET {
                    r.text_double()?
                } else {
                    r.binary_double()?
                };
                pairs.push((m, s));
            }
            zset_value(pairs)?
        }
        T_HASH => {
            let n = r.count(2)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                pairs.push((f, v));
            }
            hash_value(pairs)?
        }
        T_MODULE_2 => {
            let id = r.len()?;
            let start = r.pos;
            r.module_fields()?;
            let data = r.buf.get(start..r.pos).ok_or(RdbError::BadFormat)?.to_vec();
            RdbValue::Module {
                name: module_type_name(id),
                encver: (id & 1023) as u16,
                id,
                data,
            }
        }
        T_HASH_ZIPMAP => hash_value(packed::zipmap_decode(&blob(r)?).ok_or(RdbError::BadFormat)?)?,
        T_LIST_ZIPLIST => RdbValue::List(nonempty(
            packed::ziplist_decode(&blob(r)?).ok_or(RdbError::BadFormat)?,
        )?),
        T_SET_INTSET => {
            let ints = packed::intset_decode(&blob(r)?).ok_or(RdbError::BadFormat)?;
            RdbValue::Set(nonempty(
                ints.iter().map(|v| v.to_string().into_bytes()).collect(),
            )?)
        }
        T_ZSET_ZIPLIST => {
            zset_from_flat(packed::ziplist_decode(&blob(r)?).ok_or(RdbError::BadFormat)?)?
        }
        T_HASH_ZIPLIST => hash_value(into_pairs(
            packed::ziplist_decode(&blob(r)?).ok_or(RdbError::BadFormat)?,
        )?)?,
        T_HASH_LISTPACK => hash_value(into_pairs(
            packed::listpack_decode(&blob(r)?).ok_or(RdbError::BadFormat)?,
        )?)?,
        T_ZSET_LISTPACK => {
            zset_from_flat(packed::listpack_decode(&blob(r)?).ok_or(RdbError::BadFormat)?)?
        }
        T_LIST_QUICKLIST | T_LIST_QUICKLIST_2 => {
            let nodes = r.count(if t == T_LIST_QUICKLIST { 1 } else { 2 })?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = if t == T_LIST_QUICKLIST {
                    NODE_PACKED
                } else {
                    r.len()?
                };
                let node = r.string()?;
                match container {
                    NODE_PLAIN => items.push(node),
                    // Redis skips an empty node and refuses the list only if all are empty.
                    NODE_PACKED if t == T_LIST_QUICKLIST => {
                        items.extend(packed::ziplist_decode(&node).ok_or(RdbError::BadFormat)?)
                    }
                    NODE_PACKED => {
                        items.extend(packed::listpack_decode(&node).ok_or(RdbError::BadFormat)?)
                    }
                    _ => return Err(RdbError::BadFormat),
                }
            }
            RdbValue::List(nonempty(items)?)
        }
        T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 => return Err(RdbError::Unsupported(t)),
        _ => return Err(RdbError::BadFormat),
    })
}

/// Checks a DUMP payload's footer (version, CRC64) and decodes its value.
pub fn restore_payload(payload: &[u8]) -> std::result::Result<RdbValue, RdbError> {
    let body_len = payload
        .len()
        .checked_sub(10)
        .ok_or(RdbError::VersionOrChecksum)?;
    let (body, footer) = payload.split_at(body_len);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(RdbError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if crc64(0, &payload[..body_len + 2]) != u64::from_le_bytes(crc) {
        return Err(RdbError::VersionOrChecksum);
    }
    let mut r = Reader { buf: body, pos: 0 };
    let t = r.u8()?;
    let value = read_value(&mut r, t)?;
    if r.remaining() != 0 {
        return Err(RdbError::BadFormat);
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
