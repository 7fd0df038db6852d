//! Snapshots: the whole keyspace written to one file and loaded back.
//!
//! # Design
//!
//! | decision | why | cost |
//! |---|---|---|
//! | A hand-written binary encoding of [`Value`], no serde format crate | the format is ours to version and document byte for byte; every length and count (a Bloom header's bit arrays included) is checked against the bytes left in the file before anything is allocated from it; no new dependency | about 200 lines of encoder and decoder |
//! | HyperLogLogs are stored as their Redis string bytes and Bloom filters as their `BF.SCANDUMP` header and chunks | loading runs the same validation as `SET` of an HLL string and `BF.LOADCHUNK` (including the store's `bloom_max_bytes`), which the types' serde impls run too | none: these are the types' own persisted forms |
//! | Cuckoo filters are stored as their `CF.SCANDUMP` header and one byte string per sub-filter; count-min sketches as their dimensions, total and counters | the header gets `CF.LOADCHUNK`'s checks, and every array is read (so the file holds its bytes) before the filter or sketch is built from it: a 38-byte header cannot make the loader allocate hundreds of megabytes | a sub-filter over 16 MiB is one record field, not several chunks |
//! | Write to a temporary file in the target's directory, `fsync`, rename over the target, `fsync` the directory | a crash at any moment leaves either the previous snapshot or the new one, complete (`tests/crash.rs` kills a saving process 30 times); a failed write or fsync (disk full, read-only directory) removes the temporary file, leaves the previous snapshot as it was and returns the error (a periodic save reports it through [`Store::background_save_error`] and INFO's `rdb_last_bgsave_status`) | a killed save leaves its temporary file (`.<name>.tmp-<pid>-<n>`) behind, until the next `open` of that path removes those of processes no longer running (Linux's `/proc` tells which) |
//! | The file is checksummed (xxh3-64) and the checksum is verified over the whole file before one record is decoded | a truncated or damaged file is refused with one clear error, and a loader never acts on corrupt data | loading reads the file twice (the second read is usually from the page cache) |
//! | Saving locks every shard (in ascending order, as multi-key commands do), marks each as owed to the snapshot and unlocks them; whoever locks a marked shard first (a command or the save) encodes it into the snapshot's buffer before changing it; then the buffers are written | every snapshot is one instant across all shards (below), as a forked Redis save is, with no global pause: a writer waits at most for one shard's encoding, never for the disk | the buffers hold the whole encoding until it is written; a command that meets a marked shard pays for encoding it (1/64 of the store with the default 64 shards) |
//! | Loading applies no string-size limit (`max_string_bytes`), only the bytes the file holds | every string the store accepted loads back, also after CONFIG SET lowered `proto-max-bulk-len` or BITFIELD grew a string up to 8 bytes past it (as Redis allows); a snapshot the store wrote always loads into a store built with the same settings | a hand-made file can hold a string longer than the loading store's limit: later APPEND/SETRANGE on it are refused, as in Redis after lowering the limit |
//! | Expiry times are absolute Unix milliseconds; keys already expired at load are dropped | a TTL keeps counting while the store is down, as in Redis | none |
//!
//! # Consistency
//!
//! A snapshot is the store at one instant, as Redis's forked RDB save is: the save holds
//! every shard's lock at once to fix the instant, so a command that wrote keys in several
//! shards (MSET, RENAME, LMOVE, EXEC) is in the file entirely or not at all. It then
//! releases all shards at once, each marked as owed to the snapshot; the first to lock a
//! marked shard (the save itself, or a command that needs it) encodes it before anything
//! changes it, so every shard is copied as it was at the instant (`tests/persistence.rs`
//! checks MSET, RENAME, LMOVE and EXEC across shards against 40 saves; `tests/crash.rs`
//! checks pageview transactions across SIGKILLs).
//!
//! Writers' pause, measured by `examples/snapshot_pause.rs` (release build, 1,000,000 keys:
//! 3/4 strings of 32 bytes, 1/4 hashes of 2 fields; 42 MB snapshot; two writer threads on a
//! shared 2-core VM under a load average of 6): a save took 0.6 to 0.9 s (encoding, writing
//! and fsyncing); during saves the writers' median latency stayed 1.1 to 1.3 µs, p99.9 was
//! 8 to 20 ms (the writes that met a marked shard and encoded it) and the longest wait
//! 66 to 68 ms, against 30 to 36 ms without saves (the VM's scheduling noise). Holding
//! every shard until its turn to be encoded instead made the longest wait 330 to 690 ms, the
//! time to encode the whole store.
//!
//! # Representation (format version 1; integers little-endian)
//!
//! ```text
//! header   "SKSNAP\r\n" | version: u32 = 1 | flags: u32 = 0 | saved_at: i64 (Unix ms)
//! record   kind: u8 (1..=11, 13, 16, 17) | flags: u8 (bit 0: has expiry) | [expire_at: i64] | key: bytes | body
//! select   0xFE | db: varint      (the records after it belong to database `db`; before
//!                                  the first one, to database 0)
//! end      0xFF | keys: varint    (records of every database)
//! trailer  xxh3_64 of every byte before it: u64
//!
//! bytes    len: varint (LEB128) | len bytes
//! body     1 raw string    bytes
//!          2 integer       i64
//!          3 HyperLogLog   bytes (the Redis string)
//!          4 small hash    n: varint | n * (field: bytes, value: bytes)  (insertion order)
//!          5 large hash    n: varint | n * (field: bytes, value: bytes)
//!          6 list          n: varint | n * bytes                         (head first)
//!          7 Bloom filter  header: bytes | n: varint | n * (iter: varint, chunk: bytes)
//!          8 cuckoo filter header: bytes (CF.SCANDUMP's 38) | n: varint | n * bytes (slots)
//!          9 count-min     width: varint | depth: varint | count: u64 | cells: bytes
//!                          (width * depth little-endian u32 counters, row after row)
//!         10 top-k         bytes (`TopK::to_snapshot`: dimensions, decay, generator
//!                          state, buckets, heap slots)
//!         11 t-digest      bytes (`TDigest::to_snapshot`: scalars, then (mean, weight)
//!                          nodes, merged first)
//!         16 intset        n: varint | n * bytes (the integers as text, ascending)
//!         17 set           n: varint | n * bytes                         (table order)
//!         13 sorted set    encoding: u8 (0 listpack, 1 skiplist) | n: varint
//!                          | n * (member: bytes, score: f64 bits)       (ascending)
//! ```
//!
//! # Worked example
//!
//! `SET k v` with no expiry saves as `01 00 01 6B 01 76` after the header; the whole file
//! is then 24 + 6 + 2 + 8 = 40 bytes.

use super::value::{StrValue, Value};
use super::{Lock, Store, StoreBuilder};
use crate::error::{Error, Result};
use crate::types::bloom::{BloomLimits, ScalableBloomFilter};
use crate::types::cms::CountMinSketch;
use crate::types::cuckoo::CuckooFilter;
use crate::types::hash::HashValue;
use crate::types::hll::HyperLogLog;
use crate::types::set::{SetEncoding, SetValue};
use crate::types::tdigest::TDigest;
use crate::types::topk::TopK;
use crate::types::zset::{ZSet, ZsetEncoding};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use xxhash_rust::xxh3::Xxh3;

const MAGIC: &[u8; 8] = b"SKSNAP\r\n";
/// The format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;
const HEADER_LEN: u64 = 24;
const TRAILER_LEN: u64 = 8;

const KIND_RAW: u8 = 1;
const KIND_INT: u8 = 2;
const KIND_HLL: u8 = 3;
const KIND_HASH_SMALL: u8 = 4;
const KIND_HASH_LARGE: u8 = 5;
const KIND_LIST: u8 = 6;
const KIND_BLOOM: u8 = 7;
const KIND_CUCKOO: u8 = 8;
const KIND_CMS: u8 = 9;
// 8 and 9 are the cuckoo filter and the count-min sketch.
const KIND_TOPK: u8 = 10;
const KIND_TDIGEST: u8 = 11;
// Sets take 16 and 17.
const KIND_SET_INTSET: u8 = 16;
const KIND_SET_TABLE: u8 = 17;
const KIND_ZSET: u8 = 13;
/// The keys after it belong to the database it names (Redis's RDB uses 0xFE for the same).
const OP_SELECT_DB: u8 = 0xFE;
const OP_END: u8 = 0xFF;
const FLAG_EXPIRY: u8 = 1;

fn io_err(what: &str, path: &Path, e: io::Error) -> Error {
    Error::Io(format!("{what} {}: {e}", path.display()))
}

fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Snapshot(format!("Bad data loading snapshot: {what}"))
}

// ---------------------------------------------------------------------------------------
// Saving

struct HashWriter<W: Write> {
    inner: W,
    hasher: Xxh3,
}

impl<W: Write> HashWriter<W> {
    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.hasher.update(b);
        self.inner.write_all(b)
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn encode_entry(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at: Option<i64>) {
    let kind = match value {
        Value::Str(StrValue::Raw(_) | StrValue::Short(_)) => KIND_RAW,
        Value::Str(StrValue::Int(_)) => KIND_INT,
        Value::Str(StrValue::Hll(_)) => KIND_HLL,
        Value::Hash(h) => match **h {
            HashValue::Small(_) => KIND_HASH_SMALL,
            HashValue::Large(_) => KIND_HASH_LARGE,
        },
        Value::List(_) => KIND_LIST,
        Value::Bloom(_) => KIND_BLOOM,
        Value::Cuckoo(_) => KIND_CUCKOO,
        Value::Cms(_) => KIND_CMS,
        Value::TopK(_) => KIND_TOPK,
        Value::TDigest(_) => KIND_TDIGEST,
        Value::Set(s) => match s.encoding() {
            SetEncoding::Intset => KIND_SET_INTSET,
            SetEncoding::Hashtable => KIND_SET_TABLE,
        },
        Value::ZSet(_) => KIND_ZSET,
    };
    out.push(kind);
    match expire_at {
        Some(at) => {
            out.push(FLAG_EXPIRY);
            out.extend_from_slice(&at.to_le_bytes());
        }
        None => out.push(0),
    }
    put_bytes(out, key);
    match value {
        Value::Str(StrValue::Raw(b)) => put_bytes(out, b),
        Value::Str(StrValue::Short(b)) => put_bytes(out, b),
        Value::Str(StrValue::Int(n)) => out.extend_from_slice(&n.to_le_bytes()),
        Value::Str(StrValue::Hll(h)) => put_bytes(out, h.as_bytes()),
        Value::Hash(h) => match &**h {
            HashValue::Small(pairs) => {
                put_varint(out, pairs.len() as u64);
                for (f, v) in pairs {
                    put_bytes(out, f);
                    put_bytes(out, v);
                }
            }
            HashValue::Large(map) => {
                put_varint(out, map.len() as u64);
                for (f, v) in map {
                    put_bytes(out, f);
                    put_bytes(out, v);
                }
            }
        },
        Value::ZSet(z) => {
            out.push(match z.encoding() {
                ZsetEncoding::Listpack => 0,
                ZsetEncoding::Skiplist => 1,
            });
            put_varint(out, z.len() as u64);
            for (m, score) in z.iter() {
                put_bytes(out, m);
                out.extend_from_slice(&score.to_bits().to_le_bytes());
            }
        }
        Value::List(items) => {
            put_varint(out, items.len() as u64);
            for item in items.iter() {
                put_bytes(out, item);
            }
        }
        Value::Bloom(filter) => {
            put_bytes(out, &filter.header_chunk());
            let mut chunks = Vec::new();
            let mut iter = 1;
            loop {
                let (next, data) = filter.scandump(iter);
                if next == 0 {
                    break;
                }
                chunks.push((next, data));
                iter = next;
            }
            put_varint(out, chunks.len() as u64);
            for (next, data) in chunks {
                put_varint(out, next as u64);
                put_bytes(out, &data);
            }
        }
        Value::Cuckoo(cf) => {
            put_bytes(out, &cf.header_chunk());
            put_varint(out, cf.filters().len() as u64);
            for f in cf.filters() {
                put_bytes(out, f.data());
            }
        }
        Value::Cms(s) => {
            put_varint(out, s.width() as u64);
            put_varint(out, s.depth() as u64);
            out.extend_from_slice(&s.info().count.to_le_bytes());
            put_varint(out, s.cells().len() as u64 * 4);
            for c in s.cells() {
                out.extend_from_slice(&c.to_le_bytes());
            }
        }
        Value::TopK(t) => put_bytes(out, &t.to_snapshot()),
        Value::TDigest(t) => put_bytes(out, &t.to_snapshot()),
        Value::Set(s) => {
            let members = s.members();
            put_varint(out, members.len() as u64);
            for m in &members {
                put_bytes(out, m);
            }
        }
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Writes every live key, its value and its expiry to `path`, replacing the file
    /// atomically: the data goes to a temporary file in the same directory, which is
    /// fsynced and renamed over `path`, then the directory is fsynced. A crash at any moment
    /// leaves `path` holding either the previous snapshot or this one. Returns the number of
    /// keys written.
    ///
    /// The snapshot is the store at one instant across all shards: no multi-key command or
    /// transaction is ever half applied in it (README, "Guarantees").
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("sketchstore-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("dump.sks");
    /// let store = sketchstore::Store::new();
    /// store.set("k", "v").unwrap();
    /// assert_eq!(store.save(&path).unwrap(), 1);
    /// let back = sketchstore::Store::open(&path).unwrap();
    /// assert_eq!(back.get("k").unwrap(), Some(b"v".to_vec()));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<usize> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| Error::Io(format!("not a file path: {}", path.display())))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = dir.join(format!(
            ".{}.tmp-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = self.save_to_tmp(&tmp).and_then(|n| {
            fs::rename(&tmp, path).map_err(|e| io_err("renaming over", path, e))?;
            sync_dir(&dir)?;
            Ok(n)
        });
        match &result {
            Ok(_) => self.inner.stats.last_save_s.store(
                self.inner.clock.now_ms().div_euclid(1000),
                Ordering::Relaxed,
            ),
            Err(_) => {
                let _ = fs::remove_file(&tmp);
            }
        }
        result
    }

    /// LASTSAVE: when the last successful save finished, in Unix seconds; the store's
    /// creation time until one has.
    pub fn lastsave(&self) -> i64 {
        self.inner.stats.last_save_s.load(Ordering::Relaxed)
    }

    fn save_to_tmp(&self, tmp: &Path) -> Result<usize> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)
            .map_err(|e| io_err("creating", tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let n = self
            .write_snapshot(&mut w)
            .map_err(|e| io_err("writing", tmp, e))?;
        let file = w
            .into_inner()
            .map_err(|e| io_err("writing", tmp, e.into_error()))?;
        file.sync_all().map_err(|e| io_err("syncing", tmp, e))?;
        Ok(n)
    }

    /// Writes a snapshot to `w` (see the format in the module documentation).
    pub(crate) fn write_snapshot<W: Write>(&self, w: W) -> io::Result<usize> {
        let mut w = HashWriter {
            inner: w,
            hasher: Xxh3::new(),
        };
        let mut header = Vec::with_capacity(HEADER_LEN as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&self.inner.clock.now_ms().to_le_bytes());
        w.put(&header)?;
        let (count, shards) = self.capture();
        // Keys of database 0 come first with no record before them, so that a store using
        // only database 0 writes what a single-database build wrote; every other database
        // with keys is announced by a select record.
        let per_db = self.inner.shards_per_db.max(1);
        let mut current = 0;
        for (i, buf) in shards.iter().enumerate() {
            let db = i / per_db;
            if db != current && !buf.is_empty() {
                let mut select = vec![OP_SELECT_DB];
                put_varint(&mut select, db as u64);
                w.put(&select)?;
                current = db;
            }
            w.put(buf)?;
        }
        drop(shards);
        let mut buf = Vec::new();
        buf.push(OP_END);
        put_varint(&mut buf, count);
        w.put(&buf)?;
        let sum = w.hasher.digest();
        w.inner.write_all(&sum.to_le_bytes())?;
        w.inner.flush()?;
        Ok(count as usize)
    }
}

/// One snapshot's copies of the shards, filled by whoever locks each shard first after the
/// snapshot fixed its instant: the saving thread, or a command that needed the shard.
pub(crate) struct Capture {
    /// The instant's time: keys expired at it are left out.
    now: i64,
    /// Per shard: its copy, once made.
    shards: Box<[Mutex<Option<ShardCopy>>]>,
}

/// A shard's live keys at a snapshot's instant: how many, and their encoding.
type ShardCopy = (u64, Vec<u8>);

/// A shard's pending copy: the snapshot, and the shard's index in it.
pub(crate) struct PendingCapture(Arc<Capture>, usize);

/// Copies `shard` into the snapshot waiting for it. Called with the shard locked, before
/// anything can change it (see `Inner::lock_shard`).
pub(crate) fn settle(shard: &mut super::keyspace::Shard) {
    let Some(PendingCapture(job, i)) = shard.capture.take() else {
        return;
    };
    let mut buf = Vec::new();
    let mut count = 0u64;
    for (slot, at) in shard.iter_live_expiring(job.now) {
        encode_entry(&mut buf, &slot.key, &slot.value, at);
        count += 1;
    }
    if let Some(cell) = job.shards.get(i) {
        *cell.lock() = Some((count, buf));
    }
}

impl Store {
    /// Encodes every live key as of one instant. The save locks all shards, in ascending
    /// order as every multi-key command locks them, so no command is half applied at that
    /// instant; it marks each shard as owed to this snapshot and unlocks them all at once.
    /// From then on, whoever locks a marked shard first copies it before touching it: a
    /// command that needs it pays for copying that one shard, and the save copies those
    /// nobody needed. Each copy is therefore the shard as it was at the instant. Writers
    /// wait at most for the locking and for one shard's copy (a memory copy, never the
    /// disk). Returns the key count and the shards' encodings.
    fn capture(&self) -> (u64, Vec<Vec<u8>>) {
        let inner = &*self.inner;
        let n = inner.shards.len();
        let job;
        {
            let mut guards: Vec<_> = inner.shards.iter().map(|s| s.0.lock()).collect();
            job = Arc::new(Capture {
                now: inner.clock.now_ms(),
                shards: (0..n).map(|_| Mutex::new(None)).collect(),
            });
            for (i, shard) in guards.iter_mut().enumerate() {
                // A concurrent save's copy still owed is made first: its instant came
                // before this one.
                settle(shard);
                shard.capture = Some(PendingCapture(Arc::clone(&job), i));
                shard.dirty = 0;
            }
        }
        for i in 0..n {
            drop(inner.lock_shard(i));
        }
        let mut count = 0u64;
        let mut out = Vec::with_capacity(n);
        for cell in job.shards.iter() {
            let (c, buf) = cell.lock().take().unwrap_or_default();
            count += c;
            out.push(buf);
        }
        (count, out)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("syncing directory", dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Loading

struct Dec<R: Read> {
    r: R,
    /// Bytes of the record section not yet read: every length is checked against it.
    left: u64,
}

impl<R: Read> Dec<R> {
    fn exact(&mut self, out: &mut [u8]) -> Result<()> {
        if out.len() as u64 > self.left {
            return Err(corrupt("a record runs past the end of the data"));
        }
        self.r
            .read_exact(out)
            .map_err(|e| Error::Snapshot(format!("Short read loading snapshot: {e}")))?;
        self.left -= out.len() as u64;
        Ok(())
    }

    fn u8(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    fn i64(&mut self) -> Result<i64> {
        let mut b = [0u8; 8];
        self.exact(&mut b)?;
        Ok(i64::from_le_bytes(b))
    }

    fn varint(&mut self) -> Result<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(corrupt("a length is not a valid varint"))
    }

    /// A count of items each taking at least one byte: bounded by the bytes left.
    fn count(&mut self) -> Result<usize> {
        self.count_of(1)
    }

    /// A count of items each taking at least `min` bytes: bounded by the bytes left, so
    /// that nothing sized from it outgrows the file.
    fn count_of(&mut self, min: u64) -> Result<usize> {
        let n = self.varint()?;
        if n.saturating_mul(min) > self.left {
            return Err(corrupt(format!("a count of {n} exceeds the data left")));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.count()?;
        let mut v = vec![0u8; n];
        self.exact(&mut v)?;
        Ok(v)
    }
}

/// The longest a collection is preallocated for from a count in the file.
const PREALLOC: usize = 4096;

fn decode_value<R: Read>(d: &mut Dec<R>, kind: u8, limits: BloomLimits) -> Result<Value> {
    Ok(match kind {
        // No string limit here: a string the store accepted under any `max_string_bytes`
        // (raised or lowered since by CONFIG SET) loads back, as Redis's RDB loader does;
        // `Dec::bytes` bounds it by the bytes the file holds.
        KIND_RAW => Value::Str(StrValue::written(d.bytes()?)),
        KIND_INT => Value::Str(StrValue::Int(d.i64()?)),
        KIND_HLL => {
            let b = d.bytes()?;
            let h = HyperLogLog::from_redis_bytes(&b)
                .map_err(|e| corrupt(format!("invalid HyperLogLog: {e}")))?;
            Value::Str(StrValue::Hll(Box::new(h)))
        }
        KIND_HASH_SMALL => {
            let n = d.count_of(2)?;
            if n == 0 {
                return Err(corrupt("an empty hash"));
            }
            // Raised listpack limits let a small hash pass the default entry limit, so the
            // duplicate check sorts rather than scanning pairwise.
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                let f = d.bytes()?;
                let v = d.bytes()?;
                pairs.push((f, v));
            }
            let mut fields: Vec<&[u8]> = pairs.iter().map(|(f, _)| f.as_slice()).collect();
            fields.sort_unstable();
            if fields.windows(2).any(|w| w[0] == w[1]) {
                return Err(corrupt("a hash field appears twice"));
            }
            Value::Hash(Box::new(HashValue::Small(pairs)))
        }
        KIND_HASH_LARGE => {
            let n = d.count_of(2)?;
            if n == 0 {
                return Err(corrupt("an empty hash"));
            }
            let mut map = HashMap::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                let f = d.bytes()?;
                let v = d.bytes()?;
                if map.insert(f, v).is_some() {
                    return Err(corrupt("a hash field appears twice"));
                }
            }
            Value::Hash(Box::new(HashValue::Large(map)))
        }
        KIND_LIST => {
            let n = d.count()?;
            if n == 0 {
                return Err(corrupt("an empty list"));
            }
            let mut items = VecDeque::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                items.push_back(d.bytes()?);
            }
            Value::List(Box::new(items))
        }
        KIND_BLOOM => {
            let header = d.bytes()?;
            let bad_header = |e| corrupt(format!("invalid Bloom filter header: {e}"));
            // The bit arrays are allocated (and zeroed) only once the file is known to hold
            // their bytes: a small file cannot make the loader allocate a large filter.
            let total: u64 = ScalableBloomFilter::header_chunk_array_bytes(&header, limits)
                .map_err(bad_header)?
                .iter()
                .sum();
            if total > d.left {
                return Err(corrupt(format!(
                    "a Bloom filter of {total} bytes exceeds the data left"
                )));
            }
            let mut filter =
                ScalableBloomFilter::from_header_chunk(&header, limits).map_err(bad_header)?;
            let n = d.count_of(2)?;
            let mut loaded = 0u64;
            for _ in 0..n {
                let iter = i64::try_from(d.varint()?)
                    .map_err(|_| corrupt("a Bloom filter chunk iterator is out of range"))?;
                let chunk = d.bytes()?;
                filter
                    .load_chunk(iter, &chunk)
                    .map_err(|e| corrupt(format!("invalid Bloom filter chunk: {e}")))?;
                loaded += chunk.len() as u64;
            }
            if loaded != total {
                return Err(corrupt(
                    "a Bloom filter's chunks do not cover its bit arrays",
                ));
            }
            Value::Bloom(Box::new(filter))
        }
        KIND_CUCKOO => {
            let header = d.bytes()?;
            let n = d.count()?;
            let mut arrays = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                arrays.push(d.bytes()?);
            }
            let cf = CuckooFilter::from_dump(&header, arrays)
                .map_err(|e| corrupt(format!("invalid cuckoo filter: {e}")))?;
            Value::Cuckoo(Box::new(cf))
        }
        KIND_CMS => {
            let width = d.varint()?;
            let depth = d.varint()?;
            let count = u64::from_le_bytes(d.i64()?.to_le_bytes());
            let cells = d.bytes()?;
            let s = CountMinSketch::from_parts(width, depth, count, &cells)
                .map_err(|e| corrupt(format!("invalid count-min sketch: {e}")))?;
            Value::Cms(Box::new(s))
        }
        KIND_TOPK => {
            let b = d.bytes()?;
            let t = TopK::from_snapshot(&b)
                .map_err(|e| corrupt(format!("invalid top-k sketch: {e}")))?;
            Value::TopK(Box::new(t))
        }
        KIND_TDIGEST => {
            let b = d.bytes()?;
            let t = TDigest::from_snapshot(&b)
                .map_err(|e| corrupt(format!("invalid t-digest: {e}")))?;
            Value::TDigest(Box::new(t))
        }
        KIND_SET_INTSET => {
            let n = d.count()?;
            if n == 0 {
                return Err(corrupt(format!("an intset of {n} members")));
            }
            let mut ints = Vec::with_capacity(n);
            for _ in 0..n {
                let m = d.bytes()?;
                ints.push(
                    crate::num::parse_i64(&m)
                        .ok_or_else(|| corrupt("an intset member is not an integer"))?,
                );
            }
            let s = SetValue::restore_intset(ints)
                .ok_or_else(|| corrupt("an intset is not ascending"))?;
            Value::Set(Box::new(s))
        }
        KIND_SET_TABLE => {
            let n = d.count()?;
            if n == 0 {
                return Err(corrupt("an empty set"));
            }
            let mut members = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                members.push(d.bytes()?);
            }
            let s = SetValue::restore_hashtable(members)
                .ok_or_else(|| corrupt("a set member appears twice"))?;
            Value::Set(Box::new(s))
        }
        KIND_ZSET => {
            let encoding = match d.u8()? {
                0 => ZsetEncoding::Listpack,
                1 => ZsetEncoding::Skiplist,
                e => return Err(corrupt(format!("unknown sorted set encoding {e}"))),
            };
            // Each entry takes at least 9 bytes (a length and a score).
            let n = d.count()?;
            if n == 0 || n as u64 > d.left / 9 {
                return Err(corrupt(format!("a sorted set of {n} members")));
            }
            let mut entries = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                let m = d.bytes()?;
                let score = f64::from_bits(d.i64()? as u64);
                entries.push((m, score));
            }
            let z = ZSet::restore(encoding, entries)
                .ok_or_else(|| corrupt("a sorted set with a NaN score or a repeated member"))?;
            Value::ZSet(Box::new(z))
        }
        other => return Err(corrupt(format!("unknown record kind {other}"))),
    })
}

/// Loads a snapshot from `r` (`len` bytes long) into `store`, which should be empty.
/// Verifies the header and checksum before decoding anything. Returns the keys loaded
/// (those already expired are dropped and not counted).
pub(crate) fn load_snapshot<R: Read + Seek>(store: &Store, mut r: R, len: u64) -> Result<usize> {
    let mut header = [0u8; HEADER_LEN as usize];
    let got = read_up_to(&mut r, &mut header)
        .map_err(|e| Error::Snapshot(format!("Short read loading snapshot: {e}")))?;
    if got < MAGIC.len() || header[..MAGIC.len()] != MAGIC[..] {
        return Err(Error::Snapshot(
            "Wrong signature trying to load snapshot from file".to_owned(),
        ));
    }
    if len < HEADER_LEN + 2 + TRAILER_LEN || got < header.len() {
        return Err(Error::Snapshot(
            "Short read loading snapshot: the file is truncated".to_owned(),
        ));
    }
    let version = u32::from_le_bytes(header[8..12].try_into().unwrap_or_default());
    if version != SNAPSHOT_VERSION {
        return Err(Error::Snapshot(format!(
            "Can't handle snapshot format version {version}"
        )));
    }
    let flags = u32::from_le_bytes(header[12..16].try_into().unwrap_or_default());
    if flags != 0 {
        return Err(Error::Snapshot(format!(
            "Can't handle snapshot flags {flags:#x}"
        )));
    }

    // Pass 1: the checksum over everything before the trailer.
    let body = len - TRAILER_LEN;
    let mut hasher = Xxh3::new();
    hasher.update(&header);
    let mut buf = vec![0u8; 1 << 16];
    let mut left = body - HEADER_LEN;
    let short = |e: io::Error| {
        Error::Snapshot(format!(
            "Short read loading snapshot (the file is truncated): {e}"
        ))
    };
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        r.read_exact(&mut buf[..n]).map_err(short)?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    let mut trailer = [0u8; 8];
    r.read_exact(&mut trailer).map_err(short)?;
    let expected = u64::from_le_bytes(trailer);
    let actual = hasher.digest();
    if expected != actual {
        return Err(Error::Snapshot(format!(
            "Wrong snapshot checksum expected: ({expected:#018x}) got: ({actual:#018x}); the file is truncated or corrupt"
        )));
    }
    drop(buf);

    // Pass 2: decode.
    r.seek(SeekFrom::Start(HEADER_LEN))
        .map_err(|e| Error::Snapshot(format!("Short read loading snapshot: {e}")))?;
    let mut d = Dec {
        r: BufReader::with_capacity(1 << 16, r.take(body - HEADER_LEN)),
        left: body - HEADER_LEN,
    };
    let limits = BloomLimits {
        max_bytes: store.inner.settings.bloom_max_bytes(),
    };
    let now = store.inner.clock.now_ms();
    let mut records = 0u64;
    let mut loaded = 0usize;
    let mut current = 0usize;
    let mut seen: Vec<bool> = Vec::new();
    loop {
        // One database's run of records, under that database's locks.
        let target = store.select(current).map_err(|_| {
            corrupt(format!(
                "the snapshot holds database {current}, the store has {} databases (raise `databases`)",
                store.inner.databases
            ))
        })?;
        if seen.get(current).copied().unwrap_or(false) {
            return Err(corrupt(format!("database {current} appears twice")));
        }
        if seen.len() <= current {
            seen.resize(current + 1, false);
        }
        seen[current] = true;
        let next = target.with_db(Lock::All, |db| -> Result<Option<usize>> {
            loop {
                let kind = d.u8()?;
                if kind == OP_END {
                    return Ok(None);
                }
                if kind == OP_SELECT_DB {
                    let n = d.varint()?;
                    return usize::try_from(n)
                        .map(Some)
                        .map_err(|_| corrupt(format!("database {n} out of range")));
                }
                let flags = d.u8()?;
                if flags & !FLAG_EXPIRY != 0 {
                    return Err(corrupt(format!("unknown record flags {flags:#x}")));
                }
                let expire_at = if flags & FLAG_EXPIRY != 0 {
                    Some(d.i64()?)
                } else {
                    None
                };
                let key = d.bytes()?;
                let value = decode_value(&mut d, kind, limits)?;
                records += 1;
                if db.value(&key).is_some() {
                    return Err(corrupt("a key appears twice"));
                }
                if matches!(expire_at, Some(at) if at <= now) {
                    continue;
                }
                db.insert(&key, value, expire_at);
                loaded += 1;
            }
        })?;
        match next {
            Some(db) => current = db,
            None => break,
        }
    }
    let count = d.varint()?;
    if count != records {
        return Err(corrupt(format!(
            "the end marker counts {count} keys, the file holds {records}"
        )));
    }
    if d.left != 0 {
        return Err(corrupt("data after the end marker"));
    }
    Ok(loaded)
}

pub(crate) fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

// ---------------------------------------------------------------------------------------
// Opening and periodic saves

/// The periodic saver of a store: dropping it (with the store) stops its thread.
pub(crate) struct Saver {
    _stop: mpsc::Sender<()>,
    last_error: Arc<Mutex<Option<Error>>>,
    /// A BGSAVE thread is running.
    in_progress: Arc<std::sync::atomic::AtomicBool>,
}

impl StoreBuilder {
    /// With [`open`](StoreBuilder::open): also save to the opened path every `period`, from
    /// a background thread that holds only a weak reference to the store and stops when
    /// the store is dropped. A failed save is reported by
    /// [`Store::background_save_error`] and retried at the next period. [`build`](StoreBuilder::build)
    /// (StoreBuilder::build) ignores it.
    pub fn save_every(mut self, period: Duration) -> Self {
        self.save_every = Some(period);
        self
    }

    /// Builds the store and loads the snapshot at `path` into it: the store's own format, or
    /// a Redis RDB file (`dump.rdb` of Redis up to 7.0, recognized by its magic `REDIS`). A
    /// missing file gives an empty store (as Redis starts without `dump.rdb`); a foreign,
    /// truncated or corrupt one fails with [`Error::Snapshot`]. Keys whose expiry has passed are
    /// dropped.
    pub fn open(self, path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        let period = self.save_every;
        let store = self.build();
        remove_stale_temporaries(path);
        match File::open(path) {
            Ok(file) => {
                let len = file
                    .metadata()
                    .map_err(|e| io_err("reading", path, e))?
                    .len();
                super::rdb_file::load_file(&store, file, len)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("opening", path, e)),
        }
        if let Some(period) = period {
            start_saver(&store, path.to_path_buf(), period)?;
        }
        Ok(store)
    }
}

/// Removes the temporary files that saves to `path` by processes no longer running left
/// behind (a save killed before its rename). A temporary file is `.<name>.tmp-<pid>-<n>`
/// beside `path`; one whose process still runs may be a save in progress and is kept. Where
/// `/proc` does not exist no process can be known to have ended, so nothing is removed. Failures are ignored: a leftover file
/// takes space but never affects a load or a save.
fn remove_stale_temporaries(path: &Path) {
    let Some(name) = path.file_name() else {
        return;
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    let proc = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let running =
            pid == std::process::id() || !proc || Path::new("/proc").join(pid.to_string()).exists();
        if !running {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn start_saver(store: &Store, path: PathBuf, period: Duration) -> Result<()> {
    let (stop, stopped) = mpsc::channel::<()>();
    let last_error = Arc::new(Mutex::new(None));
    let errors = Arc::clone(&last_error);
    let weak = Arc::downgrade(&store.inner);
    std::thread::Builder::new()
        .name("sketchstore-save".to_owned())
        .spawn(move || loop {
            match stopped.recv_timeout(period) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let store = Store { inner, db: 0 };
            let result = store.save(&path);
            *errors.lock() = result.err();
        })
        .map_err(|e| Error::Io(format!("starting the save thread: {e}")))?;
    let _ = store.inner.saver.set(Saver {
        _stop: stop,
        last_error,
        in_progress: Arc::default(),
    });
    Ok(())
}

impl super::Inner {
    /// Whether the last periodic save failed (INFO's `rdb_last_bgsave_status`).
    pub(crate) fn background_save_failed(&self) -> bool {
        self.saver
            .get()
            .is_some_and(|s| s.last_error.lock().is_some())
    }

    /// Whether a BGSAVE is writing now (INFO's `rdb_bgsave_in_progress`).
    pub(crate) fn background_save_running(&self) -> bool {
        self.saver
            .get()
            .is_some_and(|s| s.in_progress.load(Ordering::Acquire))
    }
}

impl Store {
    /// Builds a store with the defaults and loads the snapshot at `path`
    /// (see [`StoreBuilder::open`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        StoreBuilder::default().open(path)
    }

    /// BGSAVE: saves to `path` from a new thread and returns at once. The outcome is what
    /// [`background_save_error`](Store::background_save_error) (and INFO's
    /// `rdb_last_bgsave_status`) reports afterwards, as for a periodic save. Fails with
    /// Redis's error when a BGSAVE is still running.
    pub fn background_save(&self, path: impl Into<PathBuf>) -> Result<()> {
        let path = path.into();
        // A store without a periodic saver gets an idle one: the slot for the outcome.
        let saver = self.inner.saver.get_or_init(|| Saver {
            _stop: mpsc::channel().0,
            last_error: Arc::default(),
            in_progress: Arc::default(),
        });
        if saver.in_progress.swap(true, Ordering::AcqRel) {
            return Err(Error::err("Background save already in progress"));
        }
        let errors = Arc::clone(&saver.last_error);
        let running = Arc::clone(&saver.in_progress);
        let store = self.clone();
        let spawned = std::thread::Builder::new()
            .name("sketchstore-bgsave".to_owned())
            .spawn(move || {
                let result = store.save(&path);
                *errors.lock() = result.err();
                running.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            saver.in_progress.store(false, Ordering::Release);
            return Err(Error::Io(format!("starting the save thread: {e}")));
        }
        Ok(())
    }

    /// The error of the last periodic save ([`StoreBuilder::save_every`]), `None` if it
    /// succeeded or none has run.
    pub fn background_save_error(&self) -> Option<Error> {
        self.inner
            .saver
            .get()
            .and_then(|s| s.last_error.lock().clone())
    }
}

// ---------------------------------------------------------------------------------------
// Fuzzing

/// The body of the `snapshot` fuzz target: `data` loaded as a snapshot file, as is and
/// again with its checksum fixed so that the decoder sees it. Must never panic or allocate
/// more than a small multiple of `data.len()`; what loads must save and load back to the
/// same keys.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_snapshot(data: &[u8]) {
    // The default limits: the loader itself must bound what a file can make it allocate.
    let build = || Store::builder().shards(4).build();
    let store = build();
    let _ = load_snapshot(&store, io::Cursor::new(data), data.len() as u64);
    if data.len() as u64 >= HEADER_LEN + TRAILER_LEN {
        let mut fixed = data[..data.len() - TRAILER_LEN as usize].to_vec();
        let sum = xxhash_rust::xxh3::xxh3_64(&fixed);
        fixed.extend_from_slice(&sum.to_le_bytes());
        let store = build();
        if let Ok(n) = load_snapshot(&store, io::Cursor::new(&fixed), fixed.len() as u64) {
            let mut again = Vec::new();
            let written = store.write_snapshot(&mut again).expect("save to memory");
            assert_eq!(written, store.stored_keys());
            let back = build();
            let m = load_snapshot(&back, io::Cursor::new(&again), again.len() as u64)
                .expect("a saved snapshot loads");
            assert_eq!(m, written);
            assert!(written <= n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(store: &Store) -> Vec<u8> {
        let mut out = Vec::new();
        store.write_snapshot(&mut out).unwrap();
        out
    }

    #[test]
    fn worked_example_is_exact() {
        let store = Store::builder()
            .clock(crate::Clock::manual(&crate::ManualClock::new(7)))
            .build();
        store.set("k", "v").unwrap();
        let bytes = snapshot(&store);
        assert_eq!(bytes.len(), 40);
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(&bytes[24..30], &[1, 0, 1, b'k', 1, b'v']);
        assert_eq!(&bytes[30..32], &[OP_END, 1]);
    }

    #[test]
    fn fuzz_body_runs_on_seeds() {
        let store = Store::new();
        store.set("s", "v").unwrap();
        store.execute(&["HSET", "h", "a", "1"]);
        store.execute(&["RPUSH", "l", "x", "y"]);
        store.execute(&["PFADD", "p", "a", "b"]);
        store.execute(&["BF.ADD", "b", "x"]);
        store.execute(&["CF.RESERVE", "c", "4"]);
        store.execute(&["CF.ADD", "c", "x"]);
        store.execute(&["CMS.INITBYDIM", "m", "2", "2"]);
        store.execute(&["CMS.INCRBY", "m", "x", "7"]);
        store.execute(&["SET", "n", "12"]);
        store.execute(&["INCR", "n"]);
        let bytes = snapshot(&store);
        fuzz_snapshot(&bytes);
        fuzz_snapshot(&[]);
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/snapshot");
        for seed in std::fs::read_dir(seeds).into_iter().flatten().flatten() {
            fuzz_snapshot(&std::fs::read(seed.path()).unwrap());
        }
        fuzz_snapshot(b"SKSNAP\r\n");
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            fuzz_snapshot(&b);
            fuzz_snapshot(&bytes[..i]);
        }
    }
}
