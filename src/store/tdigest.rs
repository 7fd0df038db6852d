//! RedisBloom's t-digest commands: TDIGEST.CREATE, RESET, ADD, MERGE, MIN, MAX, QUANTILE,
//! CDF, RANK, REVRANK, BYRANK, BYREVRANK, TRIMMED_MEAN and INFO.
//!
//! The digest is `crate::types::tdigest`; this layer resolves keys (`ERR T-Digest: key does
//! not exist`, `ERR T-Digest: key already exists`, WRONGTYPE) and runs the merge. Reads that
//! RedisBloom answers after compressing compress the stored digest too, so `TDIGEST.INFO`
//! afterwards agrees with RedisBloom's. Write commands mark their key modified for WATCH as
//! soon as they open it, errors included; reads do not, although they may compress.

use super::value::Value;
use super::{Db, Lock, Store};
use crate::error::{Error, Result};
use crate::types::tdigest::{TDigest, TDigestError, TDigestInfo, DEFAULT_COMPRESSION};

impl From<TDigestError> for Error {
    fn from(e: TDigestError) -> Error {
        Error::other(e.to_string())
    }
}

/// `TDIGEST.MERGE`'s options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TDigestMergeOptions {
    /// `COMPRESSION`: the destination's compression. Default: the existing destination's,
    /// else (or with `override_dest`) the largest of the sources'.
    pub compression: Option<i64>,
    /// `OVERRIDE`: replace the destination instead of merging into it.
    pub override_dest: bool,
}

impl Db<'_> {
    /// The digest at `key`; `write` marks the key modified for WATCH.
    pub(crate) fn tdigest(&mut self, key: &[u8], write: bool) -> Result<&mut TDigest> {
        if write {
            self.touch(key);
        }
        match self.value(key) {
            Some(Value::TDigest(t)) => Ok(t),
            Some(_) => Err(Error::WrongType),
            None => Err(TDigestError::KeyDoesNotExist.into()),
        }
    }

    /// TDIGEST.CREATE's first check, made before the compression is parsed.
    pub(crate) fn tdigest_check_new(&mut self, key: &[u8]) -> Result<()> {
        self.touch(key);
        match self.value(key) {
            Some(Value::TDigest(_)) => Err(TDigestError::KeyExists.into()),
            Some(_) => Err(Error::WrongType),
            None => Ok(()),
        }
    }

    /// TDIGEST.CREATE.
    pub(crate) fn tdigest_create(&mut self, key: &[u8], compression: i64) -> Result<()> {
        self.tdigest_check_new(key)?;
        let t = TDigest::create(compression)?;
        self.insert(key, Value::TDigest(Box::new(t)), None);
        Ok(())
    }

    /// TDIGEST.RESET.
    pub(crate) fn tdigest_reset(&mut self, key: &[u8]) -> Result<()> {
        self.tdigest(key, true)?.reset();
        Ok(())
    }

    /// TDIGEST.ADD: every value checked (NaN, infinities) before any is added.
    pub(crate) fn tdigest_add(&mut self, key: &[u8], values: &[f64]) -> Result<()> {
        Ok(self.tdigest(key, true)?.add(values)?)
    }

    /// TDIGEST.MERGE: the destination's type is checked first, then each source in order;
    /// every source is compressed in place, as RedisBloom leaves them. The destination keeps
    /// its time to live.
    pub(crate) fn tdigest_merge(
        &mut self,
        dest: &[u8],
        sources: &[&[u8]],
        opts: TDigestMergeOptions,
    ) -> Result<()> {
        let (existing, ttl) = match self.value(dest) {
            Some(Value::TDigest(t)) => (Some(t.as_ref().clone()), self.expiry(dest)),
            Some(_) => return Err(Error::WrongType),
            None => (None, None),
        };
        let mut digests = Vec::with_capacity(sources.len());
        for key in sources {
            let t = self.tdigest(key, false)?;
            // A failure here fails the merge below, on the same digest.
            let _ = t.compress();
            digests.push(t.clone());
        }
        // RedisBloom signals the destination only once the sources are found.
        self.touch(dest);
        let refs: Vec<&TDigest> = digests.iter().collect();
        let merged = TDigest::merge(
            existing.as_ref(),
            &refs,
            opts.compression,
            opts.override_dest,
        )?;
        self.insert(dest, Value::TDigest(Box::new(merged)), ttl);
        Ok(())
    }

    /// TDIGEST.MIN.
    pub(crate) fn tdigest_min(&mut self, key: &[u8]) -> Result<f64> {
        Ok(self.tdigest(key, false)?.min())
    }

    /// TDIGEST.MAX.
    pub(crate) fn tdigest_max(&mut self, key: &[u8]) -> Result<f64> {
        Ok(self.tdigest(key, false)?.max())
    }

    /// TDIGEST.QUANTILE.
    pub(crate) fn tdigest_quantile(&mut self, key: &[u8], qs: &[f64]) -> Result<Vec<f64>> {
        Ok(self.tdigest(key, false)?.quantile(qs)?)
    }

    /// TDIGEST.CDF.
    pub(crate) fn tdigest_cdf(&mut self, key: &[u8], values: &[f64]) -> Result<Vec<f64>> {
        let t = self.tdigest(key, false)?;
        Ok(values.iter().map(|&v| t.cdf(v)).collect())
    }

    /// TDIGEST.RANK (`reverse` false) and TDIGEST.REVRANK.
    pub(crate) fn tdigest_rank(
        &mut self,
        key: &[u8],
        values: &[f64],
        reverse: bool,
    ) -> Result<Vec<i64>> {
        Ok(self.tdigest(key, false)?.rank(values, reverse)?)
    }

    /// TDIGEST.BYRANK (`reverse` false) and TDIGEST.BYREVRANK.
    pub(crate) fn tdigest_byrank(
        &mut self,
        key: &[u8],
        ranks: &[i64],
        reverse: bool,
    ) -> Result<Vec<f64>> {
        Ok(self.tdigest(key, false)?.byrank(ranks, reverse)?)
    }

    /// TDIGEST.TRIMMED_MEAN.
    pub(crate) fn tdigest_trimmed_mean(&mut self, key: &[u8], low: f64, high: f64) -> Result<f64> {
        Ok(self.tdigest(key, false)?.trimmed_mean(low, high)?)
    }

    /// TDIGEST.INFO.
    pub(crate) fn tdigest_info(&mut self, key: &[u8]) -> Result<TDigestInfo> {
        Ok(self.tdigest(key, false)?.info())
    }
}

impl Store {
    /// TDIGEST.CREATE with `compression` (`None`: 100). `ERR T-Digest: key already exists`
    /// for an existing digest, WRONGTYPE for another type.
    ///
    /// ```
    /// use sketchstore::Store;
    /// let store = Store::new();
    /// store.tdigest_create("latency", None).unwrap();
    /// store.tdigest_add("latency", &[12.0, 15.0, 11.0, 40.0]).unwrap();
    /// assert_eq!(store.tdigest_max("latency").unwrap(), 40.0);
    /// let median = store.tdigest_quantile("latency", &[0.5]).unwrap()[0];
    /// assert!((11.0..=40.0).contains(&median));
    /// ```
    pub fn tdigest_create(&self, key: impl AsRef<[u8]>, compression: Option<i64>) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let c = compression.unwrap_or(DEFAULT_COMPRESSION);
        self.with_key(key, |db| db.tdigest_create(key, c))
    }

    /// TDIGEST.RESET: empties the digest, keeping its compression.
    pub fn tdigest_reset(&self, key: impl AsRef<[u8]>) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_reset(key))
    }

    /// TDIGEST.ADD: nothing is added if a value is NaN or infinite.
    pub fn tdigest_add(&self, key: impl AsRef<[u8]>, values: &[f64]) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_add(key, values))
    }

    /// TDIGEST.MERGE of `sources` into `dest` (created if missing).
    pub fn tdigest_merge<K: AsRef<[u8]>>(
        &self,
        dest: impl AsRef<[u8]>,
        sources: &[K],
        opts: TDigestMergeOptions,
    ) -> Result<()> {
        self.check_memory(true)?;
        let dest = dest.as_ref();
        let sources: Vec<&[u8]> = sources.iter().map(AsRef::as_ref).collect();
        if sources.is_empty() {
            return Err(TDigestError::NumkeysNotPositive.into());
        }
        if let Some(c) = opts.compression {
            if c <= 0 {
                return Err(TDigestError::CompressionNotPositive.into());
            }
        }
        let mut keys = sources.clone();
        keys.push(dest);
        self.with_db(Lock::Keys(&keys), |db| {
            db.tdigest_merge(dest, &sources, opts)
        })
    }

    /// TDIGEST.MIN: NaN for an empty digest.
    pub fn tdigest_min(&self, key: impl AsRef<[u8]>) -> Result<f64> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_min(key))
    }

    /// TDIGEST.MAX: NaN for an empty digest.
    pub fn tdigest_max(&self, key: impl AsRef<[u8]>) -> Result<f64> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_max(key))
    }

    /// TDIGEST.QUANTILE: each fraction in `[0, 1]`; NaN answers for an empty digest.
    pub fn tdigest_quantile(&self, key: impl AsRef<[u8]>, qs: &[f64]) -> Result<Vec<f64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_quantile(key, qs))
    }

    /// TDIGEST.CDF: the fraction of observations at or below each value (half of those
    /// equal counted).
    pub fn tdigest_cdf(&self, key: impl AsRef<[u8]>, values: &[f64]) -> Result<Vec<f64>> {
        let key = key.as_ref();
        if values.iter().any(|v| v.is_nan()) {
            return Err(TDigestError::ParseCdf.into());
        }
        self.with_key(key, |db| db.tdigest_cdf(key, values))
    }

    /// TDIGEST.RANK: estimated rank of each value (-1 below the minimum, -2 when empty).
    pub fn tdigest_rank(&self, key: impl AsRef<[u8]>, values: &[f64]) -> Result<Vec<i64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_rank(key, values, false))
    }

    /// TDIGEST.REVRANK.
    pub fn tdigest_revrank(&self, key: impl AsRef<[u8]>, values: &[f64]) -> Result<Vec<i64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_rank(key, values, true))
    }

    /// TDIGEST.BYRANK: the estimated value at each rank (0 the smallest).
    pub fn tdigest_byrank(&self, key: impl AsRef<[u8]>, ranks: &[i64]) -> Result<Vec<f64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_byrank(key, ranks, false))
    }

    /// TDIGEST.BYREVRANK.
    pub fn tdigest_byrevrank(&self, key: impl AsRef<[u8]>, ranks: &[i64]) -> Result<Vec<f64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_byrank(key, ranks, true))
    }

    /// TDIGEST.TRIMMED_MEAN: the mean of the observations between two cumulative fractions.
    pub fn tdigest_trimmed_mean(&self, key: impl AsRef<[u8]>, low: f64, high: f64) -> Result<f64> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_trimmed_mean(key, low, high))
    }

    /// TDIGEST.INFO.
    pub fn tdigest_info(&self, key: impl AsRef<[u8]>) -> Result<TDigestInfo> {
        let key = key.as_ref();
        self.with_key(key, |db| db.tdigest_info(key))
    }
}
