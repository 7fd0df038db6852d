//! RedisBloom's count-min sketch commands: CMS.INITBYDIM, CMS.INITBYPROB, CMS.INCRBY,
//! CMS.QUERY, CMS.MERGE and CMS.INFO.
//!
//! The sketch itself is `crate::types::cms`; this layer does the key lookups with
//! RedisBloom's texts (`CMS: key does not exist`, `CMS: key already exists` for a key of any
//! type) and in its order, which comes before the other arguments are parsed.
//!
//! WATCH: CMS.INITBYDIM, CMS.INITBYPROB and CMS.MERGE (its destination) mark their key
//! modified as soon as they open it, errors included. CMS.INCRBY does not: RedisBloom opens
//! its key for reading only, so a watching transaction is not aborted by it.

use super::value::Value;
use super::{Db, Lock, Store};
use crate::error::{Error, Result};
use crate::types::cms::{dims_from_prob, CmsError, CmsInfo, CountMinSketch, MergeSource};
use std::collections::HashMap;

/// A CMS command on a missing key (other than the INITBY* commands).
pub(crate) const KEY_MISSING: &str = "CMS: key does not exist";
/// CMS.INITBYDIM / CMS.INITBYPROB on an existing key of any type.
pub(crate) const KEY_EXISTS: &str = "CMS: key already exists";
/// A CMS.INCRBY increment that is not an integer (or, typed, above `i64::MAX`).
pub(crate) const BAD_NUMBER: &str = "CMS: Cannot parse number";
/// A negative CMS.INCRBY increment.
pub(crate) const NEGATIVE_NUMBER: &str = "CMS: Number cannot be negative";
/// Dimensions whose product overflows a C `long long` (or a probability-derived dimension
/// that a C `size_t` cannot hold).
pub(crate) const INVALID_INIT: &str = "CMS: invalid init arguments";
/// CMS.MERGE with a NUMKEYS of 0 or less.
pub(crate) const NUMKEYS_NOT_POSITIVE: &str = "CMS: Number of keys must be positive";
/// A CMS.MERGE weight that is not an integer.
pub(crate) const BAD_WEIGHT: &str = "CMS: invalid weight value";
/// CMS.MERGE with WEIGHTS misplaced or not one per key.
pub(crate) const WRONG_KEYS_WEIGHTS: &str = "CMS: wrong number of keys/weights";

impl From<CmsError> for Error {
    fn from(e: CmsError) -> Error {
        Error::other(e.to_string())
    }
}

/// A C cast of a non-negative double to `size_t` on x86-64: exact below 2^64, 0 for 2^64
/// and above, infinity and NaN.
fn c_size_t(x: f64) -> u64 {
    if (0.0..18_446_744_073_709_551_616.0).contains(&x) {
        x as u64
    } else {
        0
    }
}

/// A placeholder left in a source's slot while CMS.MERGE borrows the sketch.
fn placeholder() -> Value {
    Value::Str(super::value::StrValue::Int(0))
}

impl Db<'_> {
    /// The sketch at `key`, or `CMS: key does not exist` / WRONGTYPE.
    fn cms(&mut self, key: &[u8]) -> Result<&mut CountMinSketch> {
        match self.value(key) {
            Some(Value::Cms(s)) => Ok(s),
            Some(_) => Err(Error::WrongType),
            None => Err(Error::other(KEY_MISSING)),
        }
    }

    /// The key check of CMS.INCRBY, CMS.QUERY and CMS.INFO, which comes before their other
    /// arguments are parsed.
    pub(crate) fn cms_check(&mut self, key: &[u8]) -> Result<()> {
        self.cms(key).map(|_| ())
    }

    /// The key check of CMS.INITBYDIM and CMS.INITBYPROB: `CMS: key already exists` for a
    /// key of any type. Marks the key modified (RedisBloom opens it for writing).
    pub(crate) fn cms_check_absent(&mut self, key: &[u8]) -> Result<()> {
        self.touch(key);
        match self.value(key) {
            Some(_) => Err(Error::other(KEY_EXISTS)),
            None => Ok(()),
        }
    }

    /// Stores a new sketch at `key` after the CMS.INITBY* key check.
    fn cms_create(
        &mut self,
        key: &[u8],
        build: impl FnOnce() -> std::result::Result<CountMinSketch, CmsError>,
    ) -> Result<()> {
        self.cms_check_absent(key)?;
        let sketch = build()?;
        self.insert(key, Value::Cms(Box::new(sketch)), None);
        Ok(())
    }

    /// CMS.INITBYDIM.
    pub(crate) fn cms_initbydim(&mut self, key: &[u8], width: i64, depth: i64) -> Result<()> {
        self.cms_check_absent(key)?;
        if width < 1 {
            return Err(CmsError::InvalidWidth.into());
        }
        if depth < 1 {
            return Err(CmsError::InvalidDepth.into());
        }
        self.cms_create_dims(key, width as u64, depth as u64)
    }

    /// CMS.INITBYPROB: the dimensions RedisBloom derives, converted to `size_t` as its C
    /// code does (a value of 2^64 or more, or not a number, becomes 0).
    pub(crate) fn cms_initbyprob(&mut self, key: &[u8], error: f64, prob: f64) -> Result<()> {
        self.cms_check_absent(key)?;
        let (width, depth) = dims_from_prob(error, prob)?;
        self.cms_create_dims(key, c_size_t(width), c_size_t(depth))
    }

    /// Creates the sketch after RedisBloom's check that `width * depth` fits a `long long`.
    fn cms_create_dims(&mut self, key: &[u8], width: u64, depth: u64) -> Result<()> {
        if width < 1 || depth < 1 || width > i64::MAX as u64 / depth {
            return Err(Error::other(INVALID_INIT));
        }
        self.cms_create(key, || {
            CountMinSketch::init_by_dim(width as i64, depth as i64)
        })
    }

    /// CMS.INCRBY, the increments checked by the caller: each item's new estimate, or
    /// `CMS: INCRBY overflow` for an item whose estimate saturated.
    pub(crate) fn cms_incrby<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        pairs: &[(I, u64)],
    ) -> Result<Vec<Result<u64>>> {
        let s = self.cms(key)?;
        Ok(pairs
            .iter()
            .map(|(item, v)| {
                s.incrby(item.as_ref(), *v)
                    .map(u64::from)
                    .map_err(Error::from)
            })
            .collect())
    }

    /// CMS.QUERY.
    pub(crate) fn cms_query<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        items: &[I],
    ) -> Result<Vec<u64>> {
        let s = self.cms(key)?;
        Ok(items
            .iter()
            .map(|i| u64::from(s.query(i.as_ref())))
            .collect())
    }

    /// CMS.INFO.
    pub(crate) fn cms_info(&mut self, key: &[u8]) -> Result<CmsInfo> {
        Ok(self.cms(key)?.info())
    }

    /// The destination check of CMS.MERGE, before its other arguments are parsed. Marks the
    /// key modified (RedisBloom opens it for writing).
    pub(crate) fn cms_merge_check(&mut self, dest: &[u8]) -> Result<()> {
        self.touch(dest);
        self.cms_check(dest)
    }

    /// CMS.MERGE: `dest` becomes the weighted sum of `sources` (which may name `dest`).
    /// Sources are checked in order, each one's weight (`None`: not an integer) before its
    /// key and dimensions. Nothing changes on an error.
    pub(crate) fn cms_merge(
        &mut self,
        dest: &[u8],
        sources: &[(&[u8], Option<i64>)],
    ) -> Result<()> {
        self.cms_merge_check(dest)?;
        // Every distinct source other than `dest` is moved out of its slot while the merge
        // borrows it, and always put back. `index` finds a key's place in `taken` (a merge
        // may name many keys, some many times).
        let mut taken: Vec<(&[u8], Box<CountMinSketch>)> = Vec::new();
        let mut index: HashMap<&[u8], usize> = HashMap::new();
        let gathered = self.cms_take_sources(dest, sources, &mut taken, &mut index);
        let result = gathered.and_then(|()| {
            let parts: Vec<MergeSource<'_>> = sources
                .iter()
                .map(|&(key, w)| {
                    let w = w.unwrap_or(0);
                    match index.get(key).and_then(|&at| taken.get(at)) {
                        Some((_, s)) => MergeSource::Other(s, w),
                        None => MergeSource::Dest(w),
                    }
                })
                .collect();
            Ok(self.cms(dest)?.merge(&parts)?)
        });
        for (key, s) in taken {
            if let Some(v) = self.value(key) {
                *v = Value::Cms(s);
            }
        }
        result
    }

    /// Checks the sources in order and moves each distinct one (other than `dest`) into
    /// `taken`. A source seen before has passed the dimension check already.
    fn cms_take_sources<'k>(
        &mut self,
        dest: &[u8],
        sources: &[(&'k [u8], Option<i64>)],
        taken: &mut Vec<(&'k [u8], Box<CountMinSketch>)>,
        index: &mut HashMap<&'k [u8], usize>,
    ) -> Result<()> {
        let dims = {
            let d = self.cms(dest)?;
            (d.width(), d.depth())
        };
        for &(key, weight) in sources {
            if weight.is_none() {
                return Err(Error::other(BAD_WEIGHT));
            }
            if key == dest || index.contains_key(key) {
                continue;
            }
            let s = self.cms(key)?;
            if (s.width(), s.depth()) != dims {
                return Err(CmsError::DimensionMismatch.into());
            }
            if let Some(v) = self.value(key) {
                if let Value::Cms(s) = std::mem::replace(v, placeholder()) {
                    index.insert(key, taken.len());
                    taken.push((key, s));
                }
            }
        }
        Ok(())
    }
}

impl Store {
    /// CMS.INITBYDIM: a sketch of `depth` rows of `width` counters. `CMS: key already exists`
    /// if `key` holds anything.
    ///
    /// ```
    /// use sketchstore::Store;
    /// let store = Store::new();
    /// store.cms_initbydim("views", 2000, 5).unwrap();
    /// assert_eq!(store.cms_incrby("views", &[("page:1", 3)]).unwrap()[0].as_ref().ok(), Some(&3));
    /// assert_eq!(store.cms_query("views", &["page:1", "page:2"]).unwrap(), vec![3, 0]);
    /// ```
    pub fn cms_initbydim(&self, key: impl AsRef<[u8]>, width: u64, depth: u64) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        // Above i64::MAX RedisBloom cannot parse the number: the same texts as a zero.
        let width = i64::try_from(width).unwrap_or(0);
        let depth = i64::try_from(depth).unwrap_or(0);
        self.with_key(key, |db| db.cms_initbydim(key, width, depth))
    }

    /// CMS.INITBYPROB: a sketch that over-counts by more than `error` times the total with
    /// probability at most `prob` (both in (0, 1)).
    pub fn cms_initbyprob(&self, key: impl AsRef<[u8]>, error: f64, prob: f64) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.cms_initbyprob(key, error, prob))
    }

    /// CMS.INCRBY: adds each increment (at most `i64::MAX`) to its item; each item's new
    /// estimate, or `CMS: INCRBY overflow` where it saturated at `u32::MAX`.
    pub fn cms_incrby<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        pairs: &[(I, u64)],
    ) -> Result<Vec<Result<u64>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        if pairs.is_empty() {
            return Err(Error::WrongArity("cms.incrby".to_owned()));
        }
        self.with_key(key, |db| {
            db.cms_check(key)?;
            if pairs.iter().any(|(_, v)| i64::try_from(*v).is_err()) {
                return Err(Error::other(BAD_NUMBER));
            }
            db.cms_incrby(key, pairs)
        })
    }

    /// CMS.QUERY: each item's estimate (never below its true count).
    pub fn cms_query<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<u64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.cms_query(key, items))
    }

    /// CMS.MERGE: `dest` (which must exist) becomes the sum of `sources`, each times its
    /// weight (1 without `weights`). All must have `dest`'s dimensions; `CMS: MERGE overflow`
    /// (and nothing changes) when a counter would leave 0..=`u32::MAX`.
    pub fn cms_merge<K: AsRef<[u8]>>(
        &self,
        dest: impl AsRef<[u8]>,
        sources: &[K],
        weights: Option<&[i64]>,
    ) -> Result<()> {
        self.check_memory(true)?;
        let dest = dest.as_ref();
        if sources.is_empty() {
            return Err(Error::WrongArity("cms.merge".to_owned()));
        }
        let keys: Vec<&[u8]> = sources.iter().map(AsRef::as_ref).collect();
        let mut lock = keys.clone();
        lock.push(dest);
        self.with_db(Lock::Keys(&lock), |db| {
            db.cms_merge_check(dest)?;
            let pairs: Vec<(&[u8], Option<i64>)> = match weights {
                None => keys.iter().map(|&k| (k, Some(1))).collect(),
                Some(w) if w.len() == keys.len() => {
                    keys.iter().zip(w).map(|(&k, &w)| (k, Some(w))).collect()
                }
                Some(_) => return Err(Error::other(WRONG_KEYS_WEIGHTS)),
            };
            db.cms_merge(dest, &pairs)
        })
    }

    /// CMS.INFO: width, depth and the total of all increments.
    pub fn cms_info(&self, key: impl AsRef<[u8]>) -> Result<CmsInfo> {
        let key = key.as_ref();
        self.with_key(key, |db| db.cms_info(key))
    }
}
