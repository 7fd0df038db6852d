//! String and counter semantics: GET, SET and its options, MGET/MSET, APPEND, STRLEN,
//! GETRANGE, SETRANGE, the INCR family and INCRBYFLOAT.

use super::value::{StrValue, Value};
use super::{notify, Db, Store};
use crate::error::{Error, Result};
use std::time::Duration;

/// SET's NX / XX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCondition {
    /// Only set a key that does not exist.
    Nx,
    /// Only set a key that exists.
    Xx,
}

/// SET's expiry options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetExpiry {
    /// Expire after this long (`EX` / `PX`).
    In(Duration),
    /// Expire at this Unix time in milliseconds (`EXAT` / `PXAT`).
    AtMs(i64),
    /// Keep the key's current time to live (`KEEPTTL`).
    KeepTtl,
}

/// Options of SET.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// NX or XX.
    pub condition: Option<SetCondition>,
    /// EX, PX, EXAT, PXAT or KEEPTTL.
    pub expiry: Option<SetExpiry>,
    /// GET: return the previous value.
    pub get: bool,
}

/// What SET did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was written (false when NX or XX prevented it).
    pub written: bool,
    /// The previous value, when [`SetOptions::get`] was asked for.
    pub previous: Option<Vec<u8>>,
}

/// The absolute expiry for a relative time, or Redis's invalid-expire error naming `cmd`.
pub(crate) fn expire_in(now: i64, ttl: Duration, cmd: &str) -> Result<i64> {
    let ms = i64::try_from(ttl.as_millis()).map_err(|_| Error::InvalidExpire(cmd.into()))?;
    if ms <= 0 {
        return Err(Error::InvalidExpire(cmd.into()));
    }
    now.checked_add(ms)
        .ok_or_else(|| Error::InvalidExpire(cmd.into()))
}

/// A string value, or WRONGTYPE.
fn string_of(v: &Value) -> Result<&StrValue> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(Error::WrongType),
    }
}

/// Reads a stored string as a canonical i64, as Redis's `getLongLongFromObject`.
fn stored_int(s: &StrValue) -> Result<i64> {
    match s {
        StrValue::Int(n) => Ok(*n),
        StrValue::Raw(b) => crate::num::parse_i64(b).ok_or(Error::NotInteger),
        StrValue::Short(b) => crate::num::parse_i64(b).ok_or(Error::NotInteger),
        StrValue::Hll(_) => Err(Error::NotInteger),
    }
}

/// How far past the string limit a bit write may grow a string: Redis checks only that a
/// field *starts* within `proto-max-bulk-len` bytes, so a 64-bit BITFIELD write at the last
/// allowed offset ends up to 8 bytes past it.
pub(crate) const BIT_WRITE_SLACK: u64 = 8;

impl Db<'_> {
    /// The store's one size rule for strings, which every command and typed method that
    /// creates or grows a string from bytes checks before writing: the result is at most
    /// `max_string_bytes` (Redis's `proto-max-bulk-len`) long, or the write is refused with
    /// Redis's error. Bit writes (SETBIT, BITFIELD) check offsets as Redis does instead
    /// ([`BIT_WRITE_SLACK`]). The snapshot loader does not apply the rule: what was accepted
    /// under any limit loads back (see `store::persist`).
    pub(crate) fn check_string_len(&self, len: usize) -> Result<()> {
        if len > self.settings().max_string_bytes() {
            return Err(Error::StringTooLong);
        }
        Ok(())
    }

    /// GET.
    pub(crate) fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => Ok(Some(string_of(v)?.bytes().into_owned())),
        }
    }

    /// GET into `out` (cleared first, its allocation reused): false for a missing key.
    pub(crate) fn get_into(&mut self, key: &[u8], out: &mut Vec<u8>) -> Result<bool> {
        out.clear();
        match self.value(key) {
            None => Ok(false),
            Some(v) => {
                out.extend_from_slice(&string_of(v)?.bytes());
                Ok(true)
            }
        }
    }

    /// SET with options; `expiry` `In` durations have already been checked by the caller
    /// or are converted here naming `cmd` in the error.
    pub(crate) fn set(
        &mut self,
        key: &[u8],
        value: Vec<u8>,
        opts: SetOptions,
        cmd: &str,
    ) -> Result<SetOutcome> {
        self.check_string_len(value.len())?;
        let expire_at = match opts.expiry {
            Some(SetExpiry::In(d)) => Some(Some(expire_in(self.now(), d, cmd)?)),
            Some(SetExpiry::AtMs(at)) => {
                if at <= 0 {
                    return Err(Error::InvalidExpire(cmd.into()));
                }
                Some(Some(at))
            }
            Some(SetExpiry::KeepTtl) => None,
            None => Some(None),
        };
        // One lookup (which also expires a dead key first, as Redis's lookupKeyWrite does);
        // the old time to live only when KEEPTTL keeps it.
        let (exists, previous) = match self.slot(key) {
            None => (false, None),
            Some(slot) => {
                let prev = if opts.get {
                    Some(string_of(&slot.value)?.bytes().into_owned())
                } else {
                    None
                };
                (true, prev)
            }
        };
        let old_ttl = if exists && expire_at.is_none() {
            self.expiry(key)
        } else {
            None
        };
        let allowed = match opts.condition {
            Some(SetCondition::Nx) => !exists,
            Some(SetCondition::Xx) => exists,
            None => true,
        };
        if allowed {
            let at = expire_at.unwrap_or(old_ttl);
            self.insert(key, Value::Str(StrValue::written(value)), at);
            self.notify(notify::STRING, "set", key);
            if matches!(opts.expiry, Some(SetExpiry::In(_) | SetExpiry::AtMs(_))) {
                self.notify_n(notify::GENERIC, "expire", key, 0);
            }
        }
        Ok(SetOutcome {
            written: allowed,
            previous,
        })
    }

    /// GETSET: SET with GET, dropping any time to live; the previous value.
    pub(crate) fn getset(&mut self, key: &[u8], value: Vec<u8>) -> Result<Option<Vec<u8>>> {
        let opts = SetOptions {
            get: true,
            ..SetOptions::default()
        };
        Ok(self.set(key, value, opts, "getset")?.previous)
    }

    /// GETDEL.
    pub(crate) fn getdel(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let v = self.get(key)?;
        if v.is_some() {
            self.remove(key);
            self.notify(notify::GENERIC, "del", key);
        }
        Ok(v)
    }

    /// GETEX: `expiry` None leaves the TTL, `Some(None)` is PERSIST, `Some(Some(at))` sets it.
    pub(crate) fn getex(
        &mut self,
        key: &[u8],
        expiry: Option<Option<i64>>,
    ) -> Result<Option<Vec<u8>>> {
        let v = self.get(key)?;
        if v.is_none() {
            return Ok(None);
        }
        match expiry {
            None => {}
            Some(Some(at)) if at <= self.now() => {
                self.remove(key);
                self.notify(notify::GENERIC, "del", key);
            }
            Some(at) => {
                let has_ttl = self.expiry(key).is_some();
                if at.is_some() || has_ttl {
                    self.set_expire(key, at);
                    let event = if at.is_some() { "expire" } else { "persist" };
                    self.notify(notify::GENERIC, event, key);
                }
            }
        }
        Ok(v)
    }

    /// MGET: nil for missing and for non-string keys.
    pub(crate) fn mget(&mut self, keys: &[&[u8]]) -> Vec<Option<Vec<u8>>> {
        keys.iter()
            .map(|k| match self.value(k) {
                Some(Value::Str(s)) => Some(s.bytes().into_owned()),
                _ => None,
            })
            .collect()
    }

    /// MSET: all or nothing, a value too long refusing the whole command.
    pub(crate) fn mset(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        for (_, v) in pairs {
            self.check_string_len(v.len())?;
        }
        for (k, v) in pairs {
            self.insert(k, Value::Str(StrValue::written(v.to_vec())), None);
            self.notify(notify::STRING, "set", k);
        }
        Ok(())
    }

    /// MSETNX: sets all or none.
    pub(crate) fn msetnx(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<bool> {
        for (_, v) in pairs {
            self.check_string_len(v.len())?;
        }
        if pairs.iter().any(|(k, _)| self.slot(k).is_some()) {
            return Ok(false);
        }
        self.mset(pairs)?;
        Ok(true)
    }

    /// APPEND: the new length.
    pub(crate) fn append(&mut self, key: &[u8], tail: &[u8]) -> Result<usize> {
        let current = match self.value(key) {
            None => None,
            Some(v) => Some(string_of(v)?.len()),
        };
        self.check_string_len(current.unwrap_or(0).saturating_add(tail.len()))?;
        let n = match self.value(key) {
            None => {
                self.insert(key, Value::Str(StrValue::written(tail.to_vec())), None);
                tail.len()
            }
            Some(Value::Str(s)) => {
                let raw = s.raw_mut();
                raw.extend_from_slice(tail);
                let n = raw.len();
                self.touch(key);
                n
            }
            Some(_) => return Err(Error::WrongType),
        };
        self.notify(notify::STRING, "append", key);
        Ok(n)
    }

    /// STRLEN.
    pub(crate) fn strlen(&mut self, key: &[u8]) -> Result<usize> {
        match self.value(key) {
            None => Ok(0),
            Some(v) => Ok(string_of(v)?.len()),
        }
    }

    /// GETRANGE with Redis's index rules (negative from the end, clamped).
    pub(crate) fn getrange(&mut self, key: &[u8], start: i64, end: i64) -> Result<Vec<u8>> {
        let Some(v) = self.value(key) else {
            return Ok(Vec::new());
        };
        let bytes = string_of(v)?.bytes();
        Ok(substring(&bytes, start, end).to_vec())
    }

    /// SETRANGE: the new length.
    pub(crate) fn setrange(&mut self, key: &[u8], offset: i64, data: &[u8]) -> Result<usize> {
        if offset < 0 {
            return Err(Error::err("offset is out of range"));
        }
        let offset = usize::try_from(offset).map_err(|_| Error::StringTooLong)?;
        let current = match self.value(key) {
            None => None,
            Some(v) => Some(string_of(v)?.len()),
        };
        if data.is_empty() {
            return Ok(current.unwrap_or(0));
        }
        self.check_string_len(offset.saturating_add(data.len()))?;
        if current.is_none() {
            self.insert(key, Value::Str(StrValue::Raw(Vec::new())), None);
        }
        let Some(Value::Str(s)) = self.value(key) else {
            return Err(Error::WrongType);
        };
        let raw = s.raw_mut();
        if raw.len() < offset + data.len() {
            raw.resize(offset + data.len(), 0);
        }
        raw[offset..offset + data.len()].copy_from_slice(data);
        let n = raw.len();
        self.touch(key);
        self.notify(notify::STRING, "setrange", key);
        Ok(n)
    }

    /// INCRBY (and INCR, DECR, DECRBY): the new value. The TTL is kept.
    pub(crate) fn incrby(&mut self, key: &[u8], by: i64) -> Result<i64> {
        let n = match self.value(key) {
            None => {
                self.insert(key, Value::Str(StrValue::Int(by)), None);
                by
            }
            Some(Value::Str(s)) => {
                let n = stored_int(s)?.checked_add(by).ok_or(Error::Overflow)?;
                *s = StrValue::Int(n);
                self.touch(key);
                n
            }
            Some(_) => return Err(Error::WrongType),
        };
        self.notify(notify::STRING, "incrby", key);
        Ok(n)
    }

    /// DECRBY: like INCRBY of the negation, with Redis's own error for `i64::MIN`.
    pub(crate) fn decrby(&mut self, key: &[u8], by: i64) -> Result<i64> {
        let neg = by.checked_neg().ok_or(Error::DecrementOverflow)?;
        self.incrby(key, neg)
    }

    /// INCRBYFLOAT: the new value's text (what Redis stores and replies). Redis checks the
    /// key's type, then the stored value, then the increment; the arithmetic is an 80-bit
    /// long double as in Redis (`crate::num`).
    pub(crate) fn incrbyfloat(&mut self, key: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        let ttl = self.expiry(key);
        let (current, ttl) = match self.slot(key) {
            None => (None, None),
            Some(slot) => (Some(string_of(&slot.value)?.bytes().into_owned()), ttl),
        };
        let text = crate::num::incrbyfloat(current.as_deref(), by)?;
        self.check_string_len(text.len())?;
        self.insert(key, Value::Str(StrValue::written(text.clone())), ttl);
        self.notify(notify::STRING, "incrbyfloat", key);
        Ok(text)
    }
}

/// Redis's GETRANGE / LRANGE-style substring: negative indexes count from the end, the
/// range is clamped, an empty or inverted range is empty.
pub(crate) fn substring(bytes: &[u8], start: i64, end: i64) -> &[u8] {
    let len = bytes.len() as i64;
    if len == 0 || (start < 0 && end < 0 && start > end) {
        return &[];
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = 0;
    }
    if end >= len {
        end = len - 1;
    }
    if start > end {
        return &[];
    }
    &bytes[start as usize..=end as usize]
}

impl Store {
    /// GET: the string value of `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.get(key))
    }

    /// SET: stores `value`, replacing any value and removing any TTL.
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        self.set_with(key, value, SetOptions::default()).map(|_| ())
    }

    /// SET with NX/XX, an expiry and GET.
    pub fn set_with(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: SetOptions,
    ) -> Result<SetOutcome> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let value = value.as_ref().to_vec();
        self.with_key(key, |db| db.set(key, value, opts, "set"))
    }

    /// SETNX: sets only a missing key; true when it did.
    pub fn setnx(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<bool> {
        let opts = SetOptions {
            condition: Some(SetCondition::Nx),
            ..SetOptions::default()
        };
        self.set_with(key, value, opts).map(|o| o.written)
    }

    /// SETEX / PSETEX: sets with a time to live (at least one millisecond). Arguments in
    /// redis-rs's order (`set_ex(key, value, seconds)`).
    pub fn setex(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        ttl: Duration,
    ) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let value = value.as_ref().to_vec();
        let opts = SetOptions {
            expiry: Some(SetExpiry::In(ttl)),
            ..SetOptions::default()
        };
        // Named as PSETEX, the millisecond form a Duration maps to on every backend.
        self.with_key(key, |db| db.set(key, value, opts, "psetex"))
            .map(|_| ())
    }

    /// GETSET: sets `key` to `value` (removing its time to live) and returns the previous
    /// value, `None` when there was none; WRONGTYPE when the key holds another type.
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// assert_eq!(store.getset("k", "a").unwrap(), None);
    /// assert_eq!(store.getset("k", "b").unwrap(), Some(b"a".to_vec()));
    /// ```
    pub fn getset(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<Option<Vec<u8>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let value = value.as_ref().to_vec();
        self.with_key(key, |db| db.getset(key, value))
    }

    /// GETDEL.
    pub fn getdel(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.getdel(key))
    }

    /// GETEX with a new time to live (`None` removes it, as PERSIST).
    pub fn getex(&self, key: impl AsRef<[u8]>, ttl: Option<Duration>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| {
            let at = match ttl {
                Some(d) => Some(expire_in(db.now(), d, "getex")?),
                None => None,
            };
            db.getex(key, Some(at))
        })
    }

    /// MGET.
    pub fn mget<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Option<Vec<u8>>>> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        Ok(self.with_db(super::Lock::Keys(&keys), |db| db.mget(&keys)))
    }

    /// MSET.
    pub fn mset<K: AsRef<[u8]>, V: AsRef<[u8]>>(&self, pairs: &[(K, V)]) -> Result<()> {
        self.check_memory(true)?;
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| *k).collect();
        self.with_db(super::Lock::Keys(&keys), |db| db.mset(&pairs))
    }

    /// APPEND: the new length.
    pub fn append(&self, key: impl AsRef<[u8]>, tail: impl AsRef<[u8]>) -> Result<usize> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.append(key, tail.as_ref()))
    }

    /// STRLEN.
    pub fn strlen(&self, key: impl AsRef<[u8]>) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.strlen(key))
    }

    /// GETRANGE.
    pub fn getrange(&self, key: impl AsRef<[u8]>, start: i64, end: i64) -> Result<Vec<u8>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.getrange(key, start, end))
    }

    /// INCR.
    pub fn incr(&self, key: impl AsRef<[u8]>) -> Result<i64> {
        self.incrby(key, 1)
    }

    /// INCRBY.
    pub fn incrby(&self, key: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.incrby(key, by))
    }

    /// DECR.
    pub fn decr(&self, key: impl AsRef<[u8]>) -> Result<i64> {
        self.decrby(key, 1)
    }

    /// DECRBY.
    pub fn decrby(&self, key: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.decrby(key, by))
    }

    /// INCRBYFLOAT with the increment as Redis reads it from text; returns the new value as
    /// Redis formats it.
    pub fn incrbyfloat(&self, key: impl AsRef<[u8]>, by: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.incrbyfloat(key, by.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::substring;

    #[test]
    fn substring_follows_redis_index_rules() {
        let s = b"This is a string";
        assert_eq!(substring(s, 0, 3), b"This");
        assert_eq!(substring(s, -3, -1), b"ing");
        assert_eq!(substring(s, 0, -1), s);
        assert_eq!(substring(s, 10, 100), b"string");
        assert_eq!(substring(s, 5, 3), b"");
        assert_eq!(substring(b"", 0, -1), b"");
        assert_eq!(substring(s, -100, 1), b"Th");
        assert_eq!(substring(s, -100, -200), b"");
    }
}
