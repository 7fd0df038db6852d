//! DUMP and RESTORE: a key's value as a Redis 7.0 DUMP payload, and back.
//!
//! The payload codec is [`crate::types::rdb`]; this module converts between the store's
//! values and the codec's [`RdbValue`] and applies RESTORE's rules (BUSYKEY, REPLACE, TTL,
//! ABSTTL, an already expired TTL). Strings (HyperLogLogs included, which are strings),
//! lists, hashes and sets move both ways with a real Redis 7.0. A Bloom filter is dumped as
//! RedisBloom 2.8 dumps it (module type `MBbloom--`, encoding version 4), so it moves both
//! ways with a Redis that has RedisBloom loaded; its fields are the `BF.SCANDUMP` header's and
//! the bit arrays, and loading runs the same validation as `BF.LOADCHUNK` (the store's
//! `bloom_max_bytes` included). A payload of any other module type, or of an older RedisBloom
//! encoding, answers an error naming it.
//!
//! ```text
//! MBbloom-- v4: size | nfilters | options | growth | nfilters * link        (then EOF)
//! link:         entries | error (double) | hashes | bpe (double) | bits | n2 |
//!               bit array (string) | size                 (others: unsigned integers)
//! ```

use super::value::{StrValue, Value};
use super::{notify, Db, Store};
use crate::error::{Error, Result};
use crate::types::bloom::{BloomLimits, ScalableBloomFilter};
use crate::types::hash::{HashLimits, HashValue};
use crate::types::rdb::{
    dump_payload, module_id, read_module_fields, restore_payload, write_module_fields, DumpConfig,
    ModuleField, RdbError, RdbValue,
};
use crate::types::set::SetValue;
use crate::types::zset::{ZSet, ZsetEncoding};
use std::collections::VecDeque;

/// RESTORE's options after the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// REPLACE: overwrite an existing key instead of answering BUSYKEY.
    pub replace: bool,
    /// ABSTTL: the TTL is an absolute Unix time in milliseconds.
    pub absttl: bool,
    /// IDLETIME seconds (accepted; this store keeps no idle time outside a memory limit).
    pub idletime: Option<i64>,
    /// FREQ (accepted; this store keeps no LFU counters).
    pub freq: Option<i64>,
}

impl From<RdbError> for Error {
    fn from(e: RdbError) -> Error {
        Error::Other(e.to_string())
    }
}

/// RedisBloom's module type name and the encoding version 2.8 writes.
const BLOOM_TYPE: &str = "MBbloom--";
const BLOOM_ENCVER: u16 = 4;
/// Fields before the links, and per link.
const BLOOM_HEAD_FIELDS: usize = 4;
const BLOOM_LINK_FIELDS: usize = 8;

/// A Bloom filter as RedisBloom's `rdb_save` writes it.
fn bloom_to_rdb(f: &ScalableBloomFilter, cfg: &DumpConfig) -> RdbValue {
    use ModuleField::{Double, String, Unsigned};
    let mut fields = vec![
        Unsigned(f.card()),
        Unsigned(f.links().len() as u64),
        Unsigned(u64::from(f.options())),
        Unsigned(u64::from(f.growth())),
    ];
    for l in f.links() {
        fields.extend([
            Unsigned(l.entries()),
            Double(l.error()),
            Unsigned(u64::from(l.hashes())),
            Double(l.bpe()),
            Unsigned(l.bits()),
            Unsigned(u64::from(l.n2())),
            String(l.to_bytes()),
            Unsigned(l.size()),
        ]);
    }
    RdbValue::Module {
        name: BLOOM_TYPE.to_owned(),
        encver: BLOOM_ENCVER,
        id: module_id(BLOOM_TYPE, BLOOM_ENCVER).unwrap_or_default(),
        data: write_module_fields(&fields, cfg),
    }
}

/// A Bloom filter from RedisBloom's module data: the fields become a `BF.SCANDUMP` header and
/// chunks, loaded with the same validation as `BF.LOADCHUNK`.
fn bloom_from_rdb(data: &[u8], limits: BloomLimits) -> Result<ScalableBloomFilter> {
    let bad = || Error::from(RdbError::BadFormat);
    let fields = read_module_fields(data)?;
    let uint = |i: usize| match fields.get(i) {
        Some(ModuleField::Unsigned(n)) => Ok(*n),
        _ => Err(bad()),
    };
    let double = |i: usize| match fields.get(i) {
        Some(ModuleField::Double(d)) => Ok(*d),
        _ => Err(bad()),
    };
    let n = usize::try_from(uint(1)?).map_err(|_| bad())?;
    if fields.len() != BLOOM_HEAD_FIELDS + n.checked_mul(BLOOM_LINK_FIELDS).ok_or_else(bad)? {
        return Err(bad());
    }
    let narrow = |v: u64| u32::try_from(v).map_err(|_| bad());
    let mut header = Vec::new();
    header.extend_from_slice(&uint(0)?.to_le_bytes());
    header.extend_from_slice(&narrow(uint(1)?)?.to_le_bytes());
    header.extend_from_slice(&narrow(uint(2)?)?.to_le_bytes());
    header.extend_from_slice(&narrow(uint(3)?)?.to_le_bytes());
    let mut arrays = Vec::with_capacity(n);
    for i in 0..n {
        let at = BLOOM_HEAD_FIELDS + i * BLOOM_LINK_FIELDS;
        let Some(ModuleField::String(bits)) = fields.get(at + 6) else {
            return Err(bad());
        };
        let n2 = u8::try_from(uint(at + 5)?).map_err(|_| bad())?;
        header.extend_from_slice(&(bits.len() as u64).to_le_bytes());
        header.extend_from_slice(&uint(at + 4)?.to_le_bytes());
        header.extend_from_slice(&uint(at + 7)?.to_le_bytes());
        header.extend_from_slice(&double(at + 1)?.to_le_bytes());
        header.extend_from_slice(&double(at + 3)?.to_le_bytes());
        header.extend_from_slice(&narrow(uint(at + 2)?)?.to_le_bytes());
        header.extend_from_slice(&uint(at)?.to_le_bytes());
        header.push(n2);
        arrays.push(bits);
    }
    let mut filter = ScalableBloomFilter::from_header_chunk(&header, limits).map_err(|_| bad())?;
    // Chunk iterators count bytes from 1 across the links, pointing just past each chunk.
    let mut start = 1i64;
    for bits in &arrays {
        let len = i64::try_from(bits.len()).map_err(|_| bad())?;
        if len > 0 {
            filter.load_chunk(start + len, bits).map_err(|_| bad())?;
        }
        start += len;
    }
    Ok(filter)
}

/// The codec's value for a store value; an error for the RedisBloom types whose module
/// payloads the store does not write (cuckoo filter, count-min sketch, top-k, t-digest).
fn to_rdb(v: &Value, cfg: &DumpConfig) -> Result<RdbValue> {
    let unsupported = |name: &str| {
        Err(Error::other(format!(
            "ERR DUMP of a {name} value is not supported by this store"
        )))
    };
    Ok(match v {
        Value::Str(s) => RdbValue::String(s.bytes().into_owned()),
        Value::List(l) => RdbValue::List(l.iter().cloned().collect()),
        Value::Hash(h) => RdbValue::Hash(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
        Value::Set(s) => RdbValue::Set(s.members()),
        Value::ZSet(z) => RdbValue::SortedSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        Value::Bloom(f) => bloom_to_rdb(f, cfg),
        Value::Cuckoo(_) => return unsupported("MBbloomCF"),
        Value::Cms(_) => return unsupported("CMSk-TYPE"),
        Value::TopK(_) => return unsupported("TopK-TYPE"),
        Value::TDigest(_) => return unsupported("TDIS-TYPE"),
    })
}

/// The store value for a decoded payload, built as Redis's loader builds it (a set of
/// integers within `set-max-intset-entries` is an intset), under the store's string limit.
pub(super) fn from_rdb(
    v: RdbValue,
    max_string: usize,
    max_intset: usize,
    zset_limits: (usize, usize),
    hash_limits: HashLimits,
    limits: BloomLimits,
) -> Result<Value> {
    Ok(match v {
        RdbValue::String(b) => {
            if b.len() > max_string {
                return Err(Error::StringTooLong);
            }
            Value::Str(StrValue::written(b))
        }
        RdbValue::List(items) => Value::List(Box::new(VecDeque::from(items))),
        RdbValue::Hash(pairs) => {
            let mut h = HashValue::new();
            // Payload order, as Redis's loader keeps a listpack's (or a ziplist's, which it
            // converts entry by entry); past the limits the fields go into a map.
            for (f, v) in &pairs {
                h.insert_within(f, v, hash_limits);
            }
            Value::Hash(Box::new(h))
        }
        RdbValue::Set(members) => {
            Value::Set(Box::new(SetValue::from_members_with(members, max_intset)))
        }
        // Listpack while within the thresholds, as Redis's loader converts.
        RdbValue::SortedSet(entries) => {
            let (max_entries, max_value) = zset_limits;
            let small =
                entries.len() <= max_entries && entries.iter().all(|(m, _)| m.len() <= max_value);
            let encoding = if small {
                ZsetEncoding::Listpack
            } else {
                ZsetEncoding::Skiplist
            };
            let z =
                ZSet::restore(encoding, entries).ok_or_else(|| Error::err("Bad data format"))?;
            Value::ZSet(Box::new(z))
        }
        RdbValue::Module {
            name, encver, data, ..
        } if name == BLOOM_TYPE && encver == BLOOM_ENCVER => {
            Value::Bloom(Box::new(bloom_from_rdb(&data, limits)?))
        }
        RdbValue::Module { name, .. } => {
            return Err(Error::err(format!(
                "DUMP payload holds a value of module type {name}, which this store does not load"
            )))
        }
    })
}

impl Db<'_> {
    /// DUMP: the payload, None when the key is missing.
    pub(crate) fn dump(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let settings = self.settings();
        let cfg = DumpConfig {
            hash_max_listpack_entries: settings.hash_max_listpack_entries(),
            hash_max_listpack_value: settings.hash_max_listpack_value(),
            set_max_intset_entries: settings.set_max_intset_entries(),
            zset_max_listpack_entries: settings.zset_max_listpack_entries(),
            zset_max_listpack_value: settings.zset_max_listpack_value(),
            ..DumpConfig::default()
        };
        match self.value(key) {
            None => Ok(None),
            Some(v) => Ok(Some(dump_payload(&to_rdb(v, &cfg)?, &cfg))),
        }
    }

    /// RESTORE from argv: the TTL as text, checked after BUSYKEY as Redis checks it.
    pub(crate) fn restore_checked(
        &mut self,
        key: &[u8],
        ttl: &[u8],
        payload: &[u8],
        opts: RestoreOptions,
    ) -> Result<()> {
        self.busy_check(key, opts)?;
        let ttl = crate::num::parse_i64(ttl).ok_or(Error::NotInteger)?;
        self.restore(key, ttl, payload, opts)
    }

    fn busy_check(&mut self, key: &[u8], opts: RestoreOptions) -> Result<()> {
        if !opts.replace && self.value(key).is_some() {
            return Err(Error::Other(
                "BUSYKEY Target key name already exists.".to_owned(),
            ));
        }
        Ok(())
    }

    /// RESTORE, after its options are parsed: Redis's order of checks (BUSYKEY, the TTL,
    /// the payload), then the key is written unless its TTL has already passed.
    pub(crate) fn restore(
        &mut self,
        key: &[u8],
        ttl: i64,
        payload: &[u8],
        opts: RestoreOptions,
    ) -> Result<()> {
        self.busy_check(key, opts)?;
        if ttl < 0 {
            return Err(Error::err("Invalid TTL value, must be >= 0"));
        }
        let limits = BloomLimits {
            max_bytes: self.settings().bloom_max_bytes(),
        };
        let value = from_rdb(
            restore_payload(payload)?,
            self.settings().max_string_bytes(),
            self.settings().set_max_intset_entries(),
            (
                self.settings().zset_max_listpack_entries(),
                self.settings().zset_max_listpack_value(),
            ),
            self.hash_limits(),
            limits,
        )?;
        let deleted = opts.replace && self.remove(key).is_some();
        let expire_at = match ttl {
            0 => None,
            t if opts.absttl => Some(t),
            t => Some(self.now().saturating_add(t)),
        };
        if expire_at.is_some_and(|at| at <= self.now()) {
            if deleted {
                self.notify(notify::GENERIC, "del", key);
            }
            return Ok(());
        }
        self.insert(key, value, expire_at);
        self.notify(notify::GENERIC, "restore", key);
        Ok(())
    }
}

impl Store {
    /// DUMP: the key's value as a Redis 7.0 DUMP payload (which `RESTORE` on a real Redis
    /// accepts); `None` when the key is missing.
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// store.set("k", "123").unwrap();
    /// let payload = store.dump("k").unwrap().unwrap();
    /// store.restore("copy", std::time::Duration::ZERO, &payload, Default::default()).unwrap();
    /// assert_eq!(store.get("copy").unwrap(), Some(b"123".to_vec()));
    /// ```
    pub fn dump(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.dump(key))
    }

    /// RESTORE with a relative TTL (`Duration::ZERO`: no expiry).
    pub fn restore(
        &self,
        key: impl AsRef<[u8]>,
        ttl: std::time::Duration,
        payload: &[u8],
        opts: RestoreOptions,
    ) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let opts = RestoreOptions {
            absttl: false,
            ..opts
        };
        self.with_key(key, |db| db.restore(key, ttl, payload, opts))
    }
}
