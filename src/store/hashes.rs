//! Hash semantics: HSET, HSETNX, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS, HVALS,
//! HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.

use super::generic::random_u64;
use super::value::Value;
use super::{notify, Db, Store};
use crate::error::{Error, Result};
use crate::types::hash::{HashLimits, HashValue};

impl Db<'_> {
    /// The hash at `key`, None when missing, WRONGTYPE for another type.
    fn hash(&mut self, key: &[u8]) -> Result<Option<&mut HashValue>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(Some(h)),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// The listpack limits in force (CONFIG SET may change them between commands).
    pub(crate) fn hash_limits(&self) -> HashLimits {
        let settings = self.settings();
        HashLimits {
            entries: settings.hash_max_listpack_entries(),
            value: settings.hash_max_listpack_value(),
        }
    }

    /// The hash at `key`, created empty when missing.
    fn hash_or_create(&mut self, key: &[u8]) -> Result<&mut HashValue> {
        if self.hash(key)?.is_none() {
            self.insert(key, Value::Hash(Box::default()), None);
        }
        self.touch(key);
        match self.value(key) {
            Some(Value::Hash(h)) => Ok(h),
            _ => Err(Error::WrongType),
        }
    }

    /// HSET: the number of new fields.
    pub(crate) fn hset(&mut self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        let limits = self.hash_limits();
        let h = self.hash_or_create(key)?;
        let added = pairs
            .iter()
            .filter(|(f, v)| h.insert_within(f, v, limits))
            .count();
        self.notify_n(notify::HASH, "hset", key, pairs.len() as u64);
        Ok(added)
    }

    /// HSETNX: whether the field was set.
    pub(crate) fn hsetnx(&mut self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        if let Some(h) = self.hash(key)? {
            if h.get(field).is_some() {
                return Ok(false);
            }
        }
        let limits = self.hash_limits();
        self.hash_or_create(key)?
            .insert_within(field, value, limits);
        self.notify(notify::HASH, "hset", key);
        Ok(true)
    }

    /// HGET.
    pub(crate) fn hget(&mut self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .hash(key)?
            .and_then(|h| h.get(field).map(<[u8]>::to_vec)))
    }

    /// HMGET.
    pub(crate) fn hmget(&mut self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        let h = self.hash(key)?;
        Ok(fields
            .iter()
            .map(|f| h.as_ref().and_then(|h| h.get(f).map(<[u8]>::to_vec)))
            .collect())
    }

    /// HGETALL as pairs.
    pub(crate) fn hgetall(&mut self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(match self.hash(key)? {
            None => Vec::new(),
            Some(h) => h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
        })
    }

    /// HDEL: the number of fields removed; removing the last field removes the key.
    pub(crate) fn hdel(&mut self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        let Some(h) = self.hash(key)? else {
            return Ok(0);
        };
        let removed = fields.iter().filter(|f| h.remove(f)).count();
        let empty = h.is_empty();
        if removed > 0 {
            self.notify_n(notify::HASH, "hdel", key, removed as u64);
        }
        if empty {
            self.remove(key);
            self.notify_n(notify::GENERIC, "del", key, 0);
        } else if removed > 0 {
            self.touch(key);
        }
        Ok(removed)
    }

    /// HEXISTS.
    pub(crate) fn hexists(&mut self, key: &[u8], field: &[u8]) -> Result<bool> {
        Ok(self.hash(key)?.is_some_and(|h| h.get(field).is_some()))
    }

    /// HLEN.
    pub(crate) fn hlen(&mut self, key: &[u8]) -> Result<usize> {
        Ok(self.hash(key)?.map_or(0, |h| h.len()))
    }

    /// HSTRLEN.
    pub(crate) fn hstrlen(&mut self, key: &[u8], field: &[u8]) -> Result<usize> {
        Ok(self
            .hash(key)?
            .and_then(|h| h.get(field).map(<[u8]>::len))
            .unwrap_or(0))
    }

    /// HINCRBY: the new value.
    pub(crate) fn hincrby(&mut self, key: &[u8], field: &[u8], by: i64) -> Result<i64> {
        let current = match self.hash(key)? {
            Some(h) => match h.get(field) {
                Some(v) => crate::num::parse_i64(v).ok_or(Error::HashNotInteger)?,
                None => 0,
            },
            None => 0,
        };
        let n = current.checked_add(by).ok_or(Error::Overflow)?;
        let limits = self.hash_limits();
        self.hash_or_create(key)?
            .insert_within(field, n.to_string().as_bytes(), limits);
        self.notify(notify::HASH, "hincrby", key);
        Ok(n)
    }

    /// HINCRBYFLOAT: the new value's text. Redis checks the increment before the key.
    pub(crate) fn hincrbyfloat(&mut self, key: &[u8], field: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        let incr = crate::num::hincrbyfloat_increment(by)?;
        let current = self
            .hash(key)?
            .and_then(|h| h.get(field).map(<[u8]>::to_vec));
        let text = crate::num::hincrbyfloat(current.as_deref(), incr)?;
        let limits = self.hash_limits();
        self.hash_or_create(key)?
            .insert_within(field, &text, limits);
        self.notify(notify::HASH, "hincrbyfloat", key);
        Ok(text)
    }
}

/// The most elements HRANDFIELD answers with a negative count: picks repeat, so the reply
/// is not bounded by the hash, and a hostile count must not allocate without limit.
pub const MAX_RANDOM_PICKS: u64 = 1 << 20;

/// One HSCAN page: the cursor to continue from (0 when done) and the pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HScanPage {
    /// Pass this back to continue; 0 means the iteration is complete.
    pub cursor: u64,
    /// The (field, value) pairs of this page.
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// One HRANDFIELD pick: a field, with its value when asked for.
pub(crate) type Pick = (Vec<u8>, Option<Vec<u8>>);

/// A random index below `n` (`n > 0`).
fn below(n: usize) -> usize {
    (random_u64() % n as u64) as usize
}

impl Db<'_> {
    /// Whether the hash at `key` is one Redis would keep as a listpack under the current
    /// settings (false when missing or not a hash).
    pub(crate) fn hash_is_listpack(&mut self, key: &[u8]) -> bool {
        matches!(
            self.object(key, super::generic::ObjectField::Encoding),
            Some(super::generic::ObjectInfo::Encoding("listpack"))
        )
    }

    /// HRANDFIELD without a count: a random field, `None` when the key is missing.
    pub(crate) fn hrandfield(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(h) = self.hash(key)? else {
            return Ok(None);
        };
        Ok(h.iter().nth(below(h.len().max(1))).map(|(f, _)| f.to_vec()))
    }

    /// HRANDFIELD with a count: distinct fields when `count` is positive (the whole hash
    /// when it asks for as many or more), `-count` independent picks when negative. Values
    /// come along when `with_values`.
    pub(crate) fn hrandfield_count(
        &mut self,
        key: &[u8],
        count: i64,
        with_values: bool,
    ) -> Result<Vec<Pick>> {
        let Some(h) = self.hash(key)? else {
            return Ok(Vec::new());
        };
        let pair = |(f, v): (&[u8], &[u8])| (f.to_vec(), with_values.then(|| v.to_vec()));
        let size = h.len();
        if count == 0 || size == 0 {
            return Ok(Vec::new());
        }
        let all: Vec<(&[u8], &[u8])> = h.iter().collect();
        if count < 0 || count == 1 {
            let n = count.unsigned_abs();
            if n > MAX_RANDOM_PICKS {
                return Err(Error::err("value is out of range"));
            }
            return Ok((0..n).map(|_| pair(all[below(size)])).collect());
        }
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        if n >= size {
            return Ok(all.into_iter().map(pair).collect());
        }
        // A partial Fisher-Yates shuffle: the first `n` slots end up a uniform sample.
        let mut idx: Vec<usize> = (0..size).collect();
        for i in 0..n {
            let j = i + below(size - i);
            idx.swap(i, j);
        }
        Ok(idx[..n].iter().map(|&i| pair(all[i])).collect())
    }

    /// HSCAN: a listpack hash in one page with cursor 0, as Redis answers it; a larger hash
    /// in pages of about `count` fields, visited in ascending order of a hash of the field,
    /// so a field present for the whole iteration is returned exactly once.
    pub(crate) fn hscan(
        &mut self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<HScanPage> {
        let listpack = self.hash_is_listpack(key);
        let Some(h) = self.hash(key)? else {
            return Ok(HScanPage {
                cursor: 0,
                pairs: Vec::new(),
            });
        };
        let keep = |f: &[u8]| {
            pattern.is_none_or(|p| crate::glob::is_match_all(p) || crate::glob::glob_match(p, f))
        };
        if listpack {
            return Ok(HScanPage {
                cursor: 0,
                pairs: h
                    .iter()
                    .filter(|(f, _)| keep(f))
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect(),
            });
        }
        let mut cands: Vec<(u64, &[u8], &[u8])> = h
            .iter()
            .map(|(f, v)| (super::keyspace::key_hash(f), f, v))
            .filter(|c| c.0 >= cursor)
            .collect();
        let count = count.max(1);
        let next = if cands.len() > count {
            cands.select_nth_unstable_by_key(count - 1, |c| c.0);
            let boundary = cands[count - 1].0;
            // Fields sharing the boundary hash come in the same page: the cursor cannot
            // point between them.
            cands.retain(|c| c.0 <= boundary);
            boundary.checked_add(1).unwrap_or(0)
        } else {
            0
        };
        cands.sort_unstable_by_key(|c| c.0);
        Ok(HScanPage {
            cursor: next,
            pairs: cands
                .into_iter()
                .filter(|c| keep(c.1))
                .map(|(_, f, v)| (f.to_vec(), v.to_vec()))
                .collect(),
        })
    }
}

impl Store {
    /// `HRANDFIELD key`: a random field, `None` when the key is missing.
    pub fn hrandfield(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.hrandfield(key))
    }

    /// `HRANDFIELD key count`: up to `count` distinct fields, or with a negative count
    /// `-count` fields that may repeat (at most [`MAX_RANDOM_PICKS`]).
    pub fn hrandfield_count(&self, key: impl AsRef<[u8]>, count: i64) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        let picks = self.with_key(key, |db| db.hrandfield_count(key, count, false))?;
        Ok(picks.into_iter().map(|(f, _)| f).collect())
    }

    /// `HRANDFIELD key count WITHVALUES`: as [`Store::hrandfield_count`], with values.
    pub fn hrandfield_withvalues(
        &self,
        key: impl AsRef<[u8]>,
        count: i64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let key = key.as_ref();
        let picks = self.with_key(key, |db| db.hrandfield_count(key, count, true))?;
        Ok(picks
            .into_iter()
            .map(|(f, v)| (f, v.unwrap_or_default()))
            .collect())
    }

    /// `HSCAN key cursor [MATCH pattern] [COUNT count]`: one page of the hash's pairs.
    pub fn hscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<HScanPage> {
        let key = key.as_ref();
        self.with_key(key, |db| db.hscan(key, cursor, pattern, count))
    }

    /// HSET: sets fields; returns how many were new.
    pub fn hset<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        pairs: &[(F, V)],
    ) -> Result<usize> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(f, v)| (f.as_ref(), v.as_ref()))
            .collect();
        self.with_key(key, |db| db.hset(key, &pairs))
    }

    /// HSETNX.
    pub fn hsetnx(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.hsetnx(key, field.as_ref(), value.as_ref()))
    }

    /// HGET.
    pub fn hget(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.hget(key, field.as_ref()))
    }

    /// HMGET.
    pub fn hmget<F: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        fields: &[F],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let key = key.as_ref();
        let fields: Vec<&[u8]> = fields.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.hmget(key, &fields))
    }

    /// HGETALL: (field, value) pairs, in insertion order for small hashes as in Redis.
    pub fn hgetall(&self, key: impl AsRef<[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.hgetall(key))
    }

    /// HDEL.
    pub fn hdel<F: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, fields: &[F]) -> Result<usize> {
        let key = key.as_ref();
        let fields: Vec<&[u8]> = fields.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.hdel(key, &fields))
    }

    /// HEXISTS.
    pub fn hexists(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        self.with_key(key, |db| db.hexists(key, field.as_ref()))
    }

    /// HLEN.
    pub fn hlen(&self, key: impl AsRef<[u8]>) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.hlen(key))
    }

    /// HKEYS.
    pub fn hkeys(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        Ok(self.hgetall(key)?.into_iter().map(|(f, _)| f).collect())
    }

    /// HVALS.
    pub fn hvals(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        Ok(self.hgetall(key)?.into_iter().map(|(_, v)| v).collect())
    }

    /// HINCRBY.
    pub fn hincrby(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>, by: i64) -> Result<i64> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.hincrby(key, field.as_ref(), by))
    }

    /// HINCRBYFLOAT with the increment as text; returns the new value's text.
    pub fn hincrbyfloat(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        by: impl AsRef<[u8]>,
    ) -> Result<Vec<u8>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.hincrbyfloat(key, field.as_ref(), by.as_ref()))
    }
}
