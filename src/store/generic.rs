//! Keyspace-wide semantics: DEL, EXISTS, TOUCH, TYPE, KEYS, SCAN, RANDOMKEY, DBSIZE,
//! FLUSHALL, RENAME, COPY, OBJECT, and the expiry commands (EXPIRE family, TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME, PERSIST).

use super::value::{StrValue, Value};
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
use crate::glob::{glob_match, is_match_all};
use std::time::Duration;

/// EXPIRE's NX / XX / GT / LT conditions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpireCondition {
    /// NX: only when the key has no expiry.
    pub nx: bool,
    /// XX: only when the key has an expiry.
    pub xx: bool,
    /// GT: only when the new expiry is later (a key without expiry counts as infinite).
    pub gt: bool,
    /// LT: only when the new expiry is sooner.
    pub lt: bool,
}

impl ExpireCondition {
    /// Redis's checks of the combination: NX excludes the others, GT excludes LT.
    pub fn check(&self) -> Result<()> {
        if self.nx && (self.xx || self.gt || self.lt) {
            return Err(Error::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if self.gt && self.lt {
            return Err(Error::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(())
    }
}

/// The type of a key, as TYPE names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// No such key (`none`).
    None,
    /// `string` (also HyperLogLogs and bitmaps).
    String,
    /// `hash`.
    Hash,
    /// `list`.
    List,
    /// `MBbloom--`, a RedisBloom filter.
    Bloom,
    /// `MBbloomCF`, a RedisBloom cuckoo filter.
    Cuckoo,
    /// `CMSk-TYPE`, a RedisBloom count-min sketch.
    Cms,
    /// `TopK-TYPE`, a RedisBloom top-k sketch.
    TopK,
    /// `TDIS-TYPE`, a RedisBloom t-digest.
    TDigest,
    /// `set`.
    Set,
    /// `zset`, a sorted set.
    ZSet,
}

impl KeyType {
    /// The name TYPE replies with.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::None => "none",
            KeyType::String => "string",
            KeyType::Hash => "hash",
            KeyType::List => "list",
            KeyType::Bloom => "MBbloom--",
            KeyType::Cuckoo => "MBbloomCF",
            KeyType::Cms => "CMSk-TYPE",
            KeyType::TopK => "TopK-TYPE",
            KeyType::TDigest => "TDIS-TYPE",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
        }
    }

    fn of(v: &Value) -> KeyType {
        match v {
            Value::Str(_) => KeyType::String,
            Value::Hash(_) => KeyType::Hash,
            Value::List(_) => KeyType::List,
            Value::Bloom(_) => KeyType::Bloom,
            Value::Cuckoo(_) => KeyType::Cuckoo,
            Value::Cms(_) => KeyType::Cms,
            Value::TopK(_) => KeyType::TopK,
            Value::TDigest(_) => KeyType::TDigest,
            Value::Set(_) => KeyType::Set,
            Value::ZSet(_) => KeyType::ZSet,
        }
    }
}

/// A key's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// The key does not exist (`-2`).
    Missing,
    /// The key exists and does not expire (`-1`).
    Persistent,
    /// The key expires after this long.
    Expires(Duration),
}

impl Ttl {
    /// TTL's integer reply: seconds rounded to nearest, or -1 / -2.
    pub fn as_redis_secs(self) -> i64 {
        match self {
            Ttl::Missing => -2,
            Ttl::Persistent => -1,
            Ttl::Expires(d) => ((d.as_millis() as i64).saturating_add(500)) / 1000,
        }
    }

    /// PTTL's integer reply: milliseconds, or -1 / -2.
    pub fn as_redis_millis(self) -> i64 {
        match self {
            Ttl::Missing => -2,
            Ttl::Persistent => -1,
            Ttl::Expires(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// One page of SCAN: the cursor to continue from (0 when done) and the keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanPage {
    /// Pass this back to continue; 0 means the iteration is complete.
    pub cursor: u64,
    /// The keys of this page.
    pub keys: Vec<Vec<u8>>,
}

/// SCAN options.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ScanOptions<'a> {
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub type_name: Option<&'a [u8]>,
}

fn pattern_matches(pattern: &[u8], key: &[u8]) -> bool {
    is_match_all(pattern) || glob_match(pattern, key)
}

/// How an expire command names itself in its errors and whether its number is relative
/// and in seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExpireForm {
    pub name: &'static str,
    pub seconds: bool,
    pub relative: bool,
}

impl Db<'_> {
    /// DEL / UNLINK: keys removed, each counted once.
    pub(crate) fn del(&mut self, keys: &[&[u8]]) -> usize {
        keys.iter()
            .filter(|k| {
                let removed = self.remove(k).is_some();
                if removed {
                    self.notify(notify::GENERIC, "del", k);
                }
                removed
            })
            .count()
    }

    /// EXISTS: keys that exist, duplicates counted each time.
    pub(crate) fn exists(&mut self, keys: &[&[u8]]) -> usize {
        keys.iter().filter(|k| self.slot(k).is_some()).count()
    }

    /// TYPE.
    pub(crate) fn key_type(&mut self, key: &[u8]) -> KeyType {
        self.value(key).map_or(KeyType::None, |v| KeyType::of(v))
    }

    /// KEYS.
    pub(crate) fn keys(&mut self, pattern: &[u8]) -> Vec<Vec<u8>> {
        let now = self.now();
        let mut out = Vec::new();
        for shard in self.shards() {
            out.extend(
                shard
                    .iter_live(now)
                    .filter(|s| pattern_matches(pattern, &s.key))
                    .map(|s| s.key.to_vec()),
            );
        }
        out
    }

    /// DBSIZE: keys held, including expired keys not yet reclaimed, as in Redis.
    /// MEMORY USAGE: the estimated bytes of a key and its value, `None` when missing.
    pub(crate) fn memory_usage(&mut self, key: &[u8]) -> Option<usize> {
        let value = self.value(key)?;
        Some(super::evict::estimate(key, value) as usize)
    }

    /// Keys and keys with a time to live, over the locked shards (INFO keyspace).
    pub(crate) fn dbsize(&mut self) -> usize {
        self.shards().map(|s| s.len()).sum()
    }

    /// FLUSHDB: the view's database emptied.
    pub(crate) fn flushdb(&mut self) {
        let mut removed = 0;
        for shard in self.shards() {
            removed += shard.len() as u64;
            shard.clear();
        }
        // Redis adds the keys it emptied to its change count.
        self.changes += removed;
    }

    /// Changes of the dataset since the last snapshot (INFO's `rdb_changes_since_last_save`),
    /// over the locked shards (every database's under INFO's global lock).
    pub(crate) fn changes_since_save(&mut self) -> u64 {
        self.guards.iter().map(|(_, g)| g.dirty).sum::<u64>() + self.changes
    }

    /// SCAN over an all-shard lock. Keys are visited in ascending hash order, so every key
    /// present for the whole iteration is returned exactly once.
    pub(crate) fn scan(&mut self, cursor: u64, opts: ScanOptions<'_>) -> ScanPage {
        let now = self.now();
        let bits = self.inner.shard_bits;
        let count = opts.count.max(1);
        let mut picked: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut at = cursor;
        let mut done = false;
        let shards: Vec<_> = self.shards().collect();
        let shard_of = |h: u64| {
            if bits == 0 {
                0
            } else {
                (h >> (64 - bits)) as usize
            }
        };
        while picked.len() < count {
            let s = shard_of(at);
            let Some(shard) = shards.get(s) else {
                done = true;
                break;
            };
            let mut cands: Vec<(u64, &[u8])> = shard
                .iter_live(now)
                .map(|slot| (slot.hash(), &*slot.key))
                .filter(|&(h, _)| h >= at)
                .collect();
            let want = count - picked.len();
            if cands.len() > want {
                cands.select_nth_unstable_by_key(want - 1, |c| c.0);
                let boundary = cands[want - 1].0;
                // Keys sharing the boundary hash must come in the same page, since the
                // cursor cannot point between them.
                let (mut head, rest): (Vec<_>, Vec<_>) =
                    cands.into_iter().partition(|c| c.0 <= boundary);
                drop(rest);
                head.sort_unstable_by_key(|c| c.0);
                picked.extend(head.into_iter().map(|(h, k)| (h, k.to_vec())));
                match boundary.checked_add(1) {
                    Some(next) => at = next,
                    None => done = true,
                }
                break;
            }
            picked.extend(cands.into_iter().map(|(h, k)| (h, k.to_vec())));
            let next_shard = s + 1;
            if next_shard >= shards.len() {
                done = true;
                break;
            }
            at = (next_shard as u64) << (64 - bits);
        }
        let next = if done { 0 } else { at };
        let type_filter = opts.type_name;
        let keys = picked
            .into_iter()
            .map(|(_, k)| k)
            .filter(|k| opts.pattern.is_none_or(|p| pattern_matches(p, k)))
            .collect::<Vec<_>>();
        let keys = match type_filter {
            None => keys,
            Some(t) => keys
                .into_iter()
                .filter(|k| {
                    let ty = self.key_type(k);
                    ty != KeyType::None && ty.as_str().as_bytes().eq_ignore_ascii_case(t)
                })
                .collect(),
        };
        ScanPage { cursor: next, keys }
    }

    /// RENAME / RENAMENX. Returns false when `nx` and the destination exists.
    pub(crate) fn rename(&mut self, from: &[u8], to: &[u8], nx: bool) -> Result<bool> {
        if self.slot(from).is_none() {
            return Err(Error::NoSuchKey);
        }
        if from == to {
            return Ok(!nx);
        }
        if nx && self.slot(to).is_some() {
            return Ok(false);
        }
        let Some(slot) = self.remove(from) else {
            return Err(Error::NoSuchKey);
        };
        self.remove(to);
        let at = slot.expire_at();
        self.insert(to, slot.value, at);
        self.notify(notify::GENERIC, "rename_from", from);
        self.notify_n(notify::GENERIC, "rename_to", to, 0);
        Ok(true)
    }

    /// The absolute expiry in ms for an EXPIRE-family number, or the invalid-expire error.
    pub(crate) fn expire_time(&self, form: ExpireForm, n: i64) -> Result<i64> {
        let invalid = || Error::InvalidExpire(form.name.into());
        let mut when = n;
        if form.seconds {
            when = when.checked_mul(1000).ok_or_else(invalid)?;
        }
        if form.relative {
            when = when.checked_add(self.now()).ok_or_else(invalid)?;
        }
        Ok(when)
    }

    /// EXPIRE family with an absolute time in ms: whether the expiry was set (or the key
    /// deleted because the time has passed).
    pub(crate) fn expire_at(&mut self, key: &[u8], when: i64, cond: ExpireCondition) -> bool {
        let now = self.now();
        // One lookup for the check and the change, on one borrow of the shard (a pageview
        // refreshes five expiries).
        let hash = self.key_hash(key);
        if self.accounting {
            self.touched.push((self.db, hash));
        }
        let shard = self.shard(hash);
        let Some((pos, current)) = shard.live(hash, key, || now) else {
            return false;
        };
        if cond.nx && current.is_some() {
            return false;
        }
        if cond.xx && current.is_none() {
            return false;
        }
        if cond.gt && current.is_none_or(|c| when <= c) {
            return false;
        }
        if cond.lt && current.is_some_and(|c| when >= c) {
            return false;
        }
        if when <= now {
            self.remove(key);
            self.notify(notify::GENERIC, "del", key);
        } else {
            shard.set_expire_at(pos, key, Some(when));
            self.notify(notify::GENERIC, "expire", key);
        }
        true
    }

    /// TTL / PTTL.
    pub(crate) fn ttl(&mut self, key: &[u8]) -> Ttl {
        let now = self.now();
        if self.slot(key).is_none() {
            return Ttl::Missing;
        }
        match self.expiry(key) {
            None => Ttl::Persistent,
            Some(at) => Ttl::Expires(Duration::from_millis(at.saturating_sub(now).max(0) as u64)),
        }
    }

    /// PERSIST: whether an expiry was removed.
    pub(crate) fn persist(&mut self, key: &[u8]) -> bool {
        match self.expiry(key) {
            Some(_) => {
                self.set_expire(key, None);
                self.notify(notify::GENERIC, "persist", key);
                true
            }
            _ => false,
        }
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// DEL: how many of `keys` existed and were removed.
    pub fn del<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        Ok(self.with_db(Lock::Keys(&keys), |db| db.del(&keys)))
    }

    /// UNLINK: the same as DEL here (memory is released on the calling thread).
    pub fn unlink<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        self.del(keys)
    }

    /// EXISTS: how many of `keys` exist, duplicates counted each time.
    pub fn exists<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        Ok(self.with_db(Lock::Keys(&keys), |db| db.exists(&keys)))
    }

    /// TYPE.
    pub fn key_type(&self, key: impl AsRef<[u8]>) -> Result<KeyType> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| db.key_type(key)))
    }

    /// KEYS: every key matching the glob `pattern`.
    pub fn keys(&self, pattern: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        Ok(self.with_db(Lock::All, |db| db.keys(pattern.as_ref())))
    }

    /// SCAN: one page of keys from `cursor` (0 to start), about `count` keys examined,
    /// filtered by an optional glob.
    pub fn scan(&self, cursor: u64, pattern: Option<&[u8]>, count: usize) -> Result<ScanPage> {
        let opts = ScanOptions {
            pattern,
            count,
            type_name: None,
        };
        Ok(self.with_db(Lock::All, |db| db.scan(cursor, opts)))
    }

    /// DBSIZE.
    pub fn dbsize(&self) -> Result<usize> {
        Ok(self.with_db(Lock::All, |db| db.dbsize()))
    }

    /// FLUSHALL: removes every key of every database.
    pub fn flushall(&self) -> Result<()> {
        self.with_db(Lock::Global, |db| db.flush_every_db());
        Ok(())
    }

    /// RENAME.
    pub fn rename(&self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<()> {
        let (from, to) = (from.as_ref(), to.as_ref());
        self.with_db(Lock::Keys(&[from, to]), |db| db.rename(from, to, false))
            .map(|_| ())
    }

    /// RENAMENX: whether it renamed.
    pub fn renamenx(&self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<bool> {
        let (from, to) = (from.as_ref(), to.as_ref());
        self.with_db(Lock::Keys(&[from, to]), |db| db.rename(from, to, true))
    }

    /// EXPIRE / PEXPIRE: the key expires after `ttl` (a zero `ttl` deletes it).
    pub fn expire(&self, key: impl AsRef<[u8]>, ttl: Duration) -> Result<bool> {
        self.expire_if(key, ttl, ExpireCondition::default())
    }

    /// PEXPIRE: the same as [`Store::expire`]; both take a `Duration`.
    pub fn pexpire(&self, key: impl AsRef<[u8]>, ttl: Duration) -> Result<bool> {
        self.expire(key, ttl)
    }

    /// EXPIRE with NX / XX / GT / LT.
    pub fn expire_if(
        &self,
        key: impl AsRef<[u8]>,
        ttl: Duration,
        cond: ExpireCondition,
    ) -> Result<bool> {
        let key = key.as_ref();
        cond.check()?;
        self.with_key(key, |db| {
            let form = ExpireForm {
                name: "pexpire",
                seconds: false,
                relative: true,
            };
            let when = db.expire_time(form, duration_ms(ttl))?;
            Ok(db.expire_at(key, when, cond))
        })
    }

    /// PEXPIREAT: the key expires at `unix_ms` (a past time deletes it).
    pub fn pexpireat(&self, key: impl AsRef<[u8]>, unix_ms: i64) -> Result<bool> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| {
            db.expire_at(key, unix_ms, ExpireCondition::default())
        }))
    }

    /// TTL / PTTL as a typed value.
    pub fn ttl(&self, key: impl AsRef<[u8]>) -> Result<Ttl> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| db.ttl(key)))
    }

    /// PERSIST.
    pub fn persist(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| db.persist(key)))
    }
}

/// What OBJECT reports about a key's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectField {
    Encoding,
    RefCount,
    IdleTime,
}

/// Redis's shared integer objects: strings holding `0..SHARED_INTEGERS` share one object
/// whose reference count OBJECT REFCOUNT reports as `i32::MAX`.
const SHARED_INTEGERS: i64 = 10_000;

use super::value::EMBSTR_LIMIT;

/// OBJECT's answer for one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ObjectInfo {
    Encoding(&'static str),
    Int(i64),
}

impl Db<'_> {
    /// TOUCH: keys that exist, duplicates counted each time (their access time refreshed).
    pub(crate) fn touch_keys(&mut self, keys: &[&[u8]]) -> usize {
        self.exists(keys)
    }

    /// EXPIRETIME / PEXPIRETIME: the absolute expiry in Unix ms, or -1 / -2.
    pub(crate) fn expiretime_ms(&mut self, key: &[u8]) -> i64 {
        if self.slot(key).is_none() {
            return -2;
        }
        self.expiry(key).unwrap_or(-1)
    }

    /// RANDOMKEY over an all-shard lock: a live key chosen uniformly by `pick`, which
    /// receives the number of live keys and answers an index below it.
    pub(crate) fn randomkey(&mut self, pick: impl FnOnce(usize) -> usize) -> Option<Vec<u8>> {
        let now = self.now();
        let counts: Vec<usize> = self.shards().map(|s| s.iter_live(now).count()).collect();
        let total: usize = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let mut at = pick(total) % total;
        for (shard, n) in self.shards().zip(counts) {
            if at < n {
                return shard.iter_live(now).nth(at).map(|s| s.key.to_vec());
            }
            at -= n;
        }
        None
    }

    /// COPY to database `to` (the view's own, or any on a global view): whether it copied.
    /// The value and its expiry are cloned; an existing destination is replaced only with
    /// `replace`.
    pub(crate) fn copy(
        &mut self,
        src: &[u8],
        dst: &[u8],
        to: usize,
        replace: bool,
    ) -> Result<bool> {
        if src == dst && to == self.db {
            return Err(Error::err("source and destination objects are the same"));
        }
        let at = self.expiry(src);
        let Some(slot) = self.slot(src) else {
            return Ok(false);
        };
        // RedisBloom's types have no copy callback: Redis refuses them, once it has found
        // that the copy would otherwise go ahead.
        let bloom = matches!(
            slot.value,
            Value::Bloom(_) | Value::Cuckoo(_) | Value::Cms(_)
        );
        let exists = self.in_db(to, |v| v.slot(dst).is_some());
        if exists && !replace {
            return Ok(false);
        }
        if bloom {
            return Err(Error::err("not supported for this module key"));
        }
        let Some(value) = self.value(src).cloned() else {
            return Ok(false);
        };
        self.in_db(to, |v| {
            if exists {
                v.remove(dst);
            }
            v.insert(dst, value, at);
            let db = v.event_db();
            v.notify_in(db, notify::GENERIC, "copy_to", dst);
        });
        Ok(true)
    }

    /// OBJECT ENCODING / REFCOUNT / IDLETIME of `key`; `None` when it is missing.
    pub(crate) fn object(&mut self, key: &[u8], field: ObjectField) -> Option<ObjectInfo> {
        let settings = self.settings();
        let (entries, longest) = (
            settings.hash_max_listpack_entries(),
            settings.hash_max_listpack_value(),
        );
        let tracked = self.accounting;
        let now = self.now();
        let lru = if tracked { self.lru(key) } else { 0 };
        let slot = self.slot(key)?;
        let shared = match &slot.value {
            Value::Str(StrValue::Int(n)) => (0..SHARED_INTEGERS).contains(n),
            Value::Str(StrValue::Short(b)) => {
                crate::num::parse_i64(b).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n))
            }
            _ => false,
        };
        Some(match field {
            ObjectField::Encoding => {
                ObjectInfo::Encoding(encoding_of(&slot.value, entries, longest))
            }
            ObjectField::RefCount => ObjectInfo::Int(if shared { i64::from(i32::MAX) } else { 1 }),
            ObjectField::IdleTime => {
                // Access times are kept only under a memory limit (for eviction).
                let idle = if tracked {
                    i64::from((now as u32).wrapping_sub(lru)) / 1000
                } else {
                    0
                };
                ObjectInfo::Int(idle)
            }
        })
    }
}

/// The name Redis 7.0 gives a value's encoding. Strings: `int` when the text is an integer
/// Redis would store as one, `embstr` up to 44 bytes, `raw` beyond (a HyperLogLog is built
/// raw). Hashes: `listpack` while within the listpack thresholds, `hashtable` once past
/// them. Lists are always quicklists in 7.0. Module types report `raw`.
fn encoding_of(v: &Value, entries: usize, longest: usize) -> &'static str {
    match v {
        Value::Str(StrValue::Int(_)) => "int",
        Value::Str(StrValue::Hll(_) | StrValue::Raw(_)) => "raw",
        Value::Str(StrValue::Short(b)) => {
            if crate::num::parse_i64(b).is_some() {
                "int"
            } else if b.len() <= EMBSTR_LIMIT {
                "embstr"
            } else {
                "raw"
            }
        }
        Value::Hash(h) => {
            let small = h.is_small()
                && h.len() <= entries
                && h.iter()
                    .all(|(f, v)| f.len() <= longest && v.len() <= longest);
            if small {
                "listpack"
            } else {
                "hashtable"
            }
        }
        Value::List(_) => "quicklist",
        Value::Set(s) => s.encoding().as_str(),
        Value::ZSet(z) => z.encoding().as_str(),
        Value::Bloom(_) | Value::Cuckoo(_) | Value::Cms(_) | Value::TopK(_) | Value::TDigest(_) => {
            "raw"
        }
    }
}

/// A source of random numbers for the commands that pick at random (RANDOMKEY,
/// HRANDFIELD): splitmix64 over a per-thread state seeded by std's random hasher keys.
pub(crate) fn random_u64() -> u64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::collections::hash_map::RandomState::new().build_hasher().finish(),
        );
    }
    STATE.with(|s| {
        let x = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

impl Store {
    /// `TOUCH key [key ...]`: how many of `keys` exist.
    pub fn touch<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<usize> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        Ok(self.with_db(Lock::Keys(&keys), |db| db.touch_keys(&keys)))
    }

    /// `EXPIRETIME key`: the absolute Unix time in seconds at which `key` expires, -1 when it
    /// has no expiry, -2 when it is missing.
    pub fn expiretime(&self, key: impl AsRef<[u8]>) -> Result<i64> {
        let ms = self.pexpiretime(key)?;
        Ok(if ms < 0 { ms } else { (ms + 500) / 1000 })
    }

    /// `PEXPIRETIME key`: [`Store::expiretime`] in milliseconds.
    pub fn pexpiretime(&self, key: impl AsRef<[u8]>) -> Result<i64> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| db.expiretime_ms(key)))
    }

    /// `RANDOMKEY`: a random live key, `None` when the store is empty.
    pub fn randomkey(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.with_db(Lock::All, |db| {
            db.randomkey(|n| (random_u64() % n as u64) as usize)
        }))
    }

    /// `COPY source destination [REPLACE]`: whether the value (and its expiry) was copied.
    pub fn copy(
        &self,
        src: impl AsRef<[u8]>,
        dst: impl AsRef<[u8]>,
        replace: bool,
    ) -> Result<bool> {
        self.check_memory(true)?;
        let (src, dst) = (src.as_ref(), dst.as_ref());
        self.with_db(Lock::Keys(&[src, dst]), |db| {
            let here = db.db;
            db.copy(src, dst, here, replace)
        })
    }

    /// `OBJECT ENCODING key`: Redis 7.0's name of the value's encoding, `None` when missing.
    pub fn object_encoding(&self, key: impl AsRef<[u8]>) -> Result<Option<String>> {
        let key = key.as_ref();
        Ok(
            self.with_key(key, |db| match db.object(key, ObjectField::Encoding) {
                Some(ObjectInfo::Encoding(e)) => Some(e.to_owned()),
                _ => None,
            }),
        )
    }

    /// `OBJECT REFCOUNT key`: 2147483647 for Redis's shared integers (0 to 9999), else 1;
    /// `None` when missing.
    pub fn object_refcount(&self, key: impl AsRef<[u8]>) -> Result<Option<i64>> {
        self.object_int(key.as_ref(), ObjectField::RefCount)
    }

    /// `OBJECT IDLETIME key`: seconds since the last access, tracked under a memory limit
    /// only (0 otherwise); `None` when missing.
    pub fn object_idletime(&self, key: impl AsRef<[u8]>) -> Result<Option<i64>> {
        self.object_int(key.as_ref(), ObjectField::IdleTime)
    }

    fn object_int(&self, key: &[u8], field: ObjectField) -> Result<Option<i64>> {
        Ok(self.with_key(key, |db| match db.object(key, field) {
            Some(ObjectInfo::Int(n)) => Some(n),
            _ => None,
        }))
    }

    /// `FLUSHDB`: removes every key of this handle's database.
    pub fn flushdb(&self) -> Result<()> {
        self.with_db(Lock::All, |db| db.flushdb());
        Ok(())
    }
}
