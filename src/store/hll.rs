//! HyperLogLog semantics: PFADD, PFCOUNT (one key, or the union of several) and PFMERGE.
//!
//! A HyperLogLog is a Redis string. A string value is decoded into a
//! [`HyperLogLog`] the first time a PF command reads it (validated exactly as Redis's
//! `isHLLObjectOrReply`) and stays decoded, so later commands skip the validation and the
//! dense register histogram stays warm; GET still returns Redis's bytes, which are the
//! decoded value's own representation. Any byte-level write (APPEND, SETRANGE, SETBIT)
//! turns it back into plain bytes. TTLs are never touched.

use super::value::{StrValue, Value};
use super::{Db, Lock, Store};
use crate::error::{Error, Result};
use crate::types::hll::{HllError, HllUnion, HyperLogLog};

impl From<HllError> for Error {
    fn from(e: HllError) -> Error {
        Error::other(e.to_string())
    }
}

impl Db<'_> {
    /// The HyperLogLog at `key`: None when missing, WRONGTYPE for another type, Redis's
    /// "not a valid HyperLogLog" error for a string that is not one.
    fn hll(&mut self, key: &[u8]) -> Result<Option<&mut HyperLogLog>> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        let Value::Str(s) = v else {
            return Err(Error::WrongType);
        };
        let decoded = match s {
            StrValue::Hll(_) => None,
            StrValue::Int(_) => return Err(HllError::NotHll.into()),
            StrValue::Raw(b) => Some(HyperLogLog::from_redis_bytes(b)?),
        };
        if let Some(h) = decoded {
            *s = StrValue::Hll(Box::new(h));
        }
        match s {
            StrValue::Hll(h) => Ok(Some(h)),
            _ => Err(HllError::NotHll.into()),
        }
    }

    /// PFADD: whether the key was created or any register changed. An element that finds the
    /// value corrupt fails the command, keeping what earlier elements changed (as Redis).
    pub(crate) fn pfadd(&mut self, key: &[u8], items: &[&[u8]]) -> Result<bool> {
        let sparse_max = self.settings().hll_sparse_max_bytes();
        let mut updated = false;
        if self.hll(key)?.is_none() {
            let h = Value::Str(StrValue::Hll(Box::default()));
            self.insert(key, h, None);
            updated = true;
        }
        let mut result = Ok(());
        if let Some(h) = self.hll(key)? {
            for item in items {
                match h.add(item, sparse_max) {
                    Ok(changed) => updated |= changed,
                    Err(e) => {
                        result = Err(e.into());
                        break;
                    }
                }
            }
        }
        if updated {
            self.touch(key);
        }
        result.map(|()| updated)
    }

    /// PFCOUNT: one key answers from (and refreshes) its cached cardinality; several keys
    /// answer the cardinality of their union without modifying any of them.
    pub(crate) fn pfcount(&mut self, keys: &[&[u8]]) -> Result<u64> {
        if let [key] = keys {
            let Some(h) = self.hll(key)? else {
                return Ok(0);
            };
            let c = h.count_and_cache()?;
            if c.cache_written {
                self.touch(key);
            }
            return Ok(c.value);
        }
        let mut union = HllUnion::new();
        for key in keys {
            if let Some(h) = self.hll(key)? {
                union.merge(h)?;
            }
        }
        Ok(union.count())
    }

    /// PFMERGE: the union of `dest` (if it exists) and `sources` stored in `dest`.
    pub(crate) fn pfmerge(&mut self, dest: &[u8], sources: &[&[u8]]) -> Result<()> {
        let sparse_max = self.settings().hll_sparse_max_bytes();
        let mut union = HllUnion::new();
        for key in std::iter::once(&dest).chain(sources) {
            if let Some(h) = self.hll(key)? {
                union.merge(h)?;
            }
        }
        let (current, ttl) = match self.hll(dest)? {
            Some(h) => (Some(h.clone()), self.slot(dest).and_then(|s| s.expire_at())),
            None => (None, None),
        };
        let merged = union.store_into(current, sparse_max)?;
        self.insert(dest, Value::Str(StrValue::Hll(Box::new(merged))), ttl);
        Ok(())
    }
}

impl Store {
    /// PFADD: adds `items` to the HyperLogLog at `key` (creating it); true when the key was
    /// created or its estimate may have changed.
    pub fn pfadd<I: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, items: &[I]) -> Result<bool> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let items: Vec<&[u8]> = items.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.pfadd(key, &items))
    }

    /// PFCOUNT: the estimated cardinality of one HyperLogLog, or of the union of several.
    pub fn pfcount<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<u64> {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        self.with_db(Lock::Keys(&keys), |db| db.pfcount(&keys))
    }

    /// PFMERGE: stores the union of `dest` and `sources` in `dest`.
    pub fn pfmerge<K: AsRef<[u8]>>(&self, dest: impl AsRef<[u8]>, sources: &[K]) -> Result<()> {
        self.check_memory(true)?;
        let dest = dest.as_ref();
        let sources: Vec<&[u8]> = sources.iter().map(AsRef::as_ref).collect();
        let mut keys = sources.clone();
        keys.push(dest);
        self.with_db(Lock::Keys(&keys), |db| db.pfmerge(dest, &sources))
    }
}
