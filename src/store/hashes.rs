//! Hash semantics: HSET, HSETNX, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS, HVALS,
//! HSTRLEN, HINCRBY, HINCRBYFLOAT.

use super::value::Value;
use super::{Db, Store};
use crate::error::{Error, Result};
use crate::types::hash::HashValue;

impl Db<'_> {
    /// The hash at `key`, None when missing, WRONGTYPE for another type.
    fn hash(&mut self, key: &[u8]) -> Result<Option<&mut HashValue>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(Some(h)),
            Some(_) => Err(Error::WrongType),
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
        let h = self.hash_or_create(key)?;
        Ok(pairs.iter().filter(|(f, v)| h.insert(f, v)).count())
    }

    /// HSETNX: whether the field was set.
    pub(crate) fn hsetnx(&mut self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        if let Some(h) = self.hash(key)? {
            if h.get(field).is_some() {
                return Ok(false);
            }
        }
        self.hash_or_create(key)?.insert(field, value);
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
        if empty {
            self.remove(key);
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
        self.hash_or_create(key)?
            .insert(field, n.to_string().as_bytes());
        Ok(n)
    }

    /// HINCRBYFLOAT: the new value's text. Redis checks the increment before the key.
    pub(crate) fn hincrbyfloat(&mut self, key: &[u8], field: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        let incr = crate::num::hincrbyfloat_increment(by)?;
        let current = self
            .hash(key)?
            .and_then(|h| h.get(field).map(<[u8]>::to_vec));
        let text = crate::num::hincrbyfloat(current.as_deref(), incr)?;
        self.hash_or_create(key)?.insert(field, &text);
        Ok(text)
    }
}

impl Store {
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
