//! HyperLogLog semantics: PFADD, PFCOUNT (one key, or the union of several), PFMERGE, and
//! the introspection commands PFDEBUG and PFSELFTEST.
//!
//! A HyperLogLog is a Redis string. A string value is decoded into a
//! [`HyperLogLog`] the first time a PF command reads it (validated exactly as Redis's
//! `isHLLObjectOrReply`) and stays decoded, so later commands skip the validation and the
//! dense register histogram stays warm; GET still returns Redis's bytes, which are the
//! decoded value's own representation. Any byte-level write (APPEND, SETRANGE, SETBIT)
//! turns it back into plain bytes. TTLs are never touched.

use super::value::{StrValue, Value};
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
use crate::types::hll::{HllEncoding, HllError, HllUnion, HyperLogLog};

/// A PFDEBUG subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PfDebug {
    /// `GETREG`: the 16384 registers (converting a sparse value to dense, as Redis does).
    GetReg,
    /// `DECODE`: a sparse value's opcodes as text.
    Decode,
    /// `ENCODING`: `sparse` or `dense`.
    Encoding,
    /// `TODENSE`: converts to dense; whether it was sparse.
    ToDense,
}

/// What a PFDEBUG subcommand answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PfDebugReply {
    /// `GETREG`.
    Registers(Vec<u8>),
    /// `DECODE`.
    Decoded(String),
    /// `ENCODING`.
    Encoding(HllEncoding),
    /// `TODENSE`.
    Converted(bool),
}

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
            StrValue::Short(b) => Some(HyperLogLog::from_redis_bytes(b)?),
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
        // Redis counts the creation and each element that changed a register.
        // An existing HyperLogLog is looked up once (a pageview adds to one every time).
        let (updated, result) = match self.hll(key)? {
            Some(h) => add_all(h, items, sparse_max),
            None => {
                let h = Value::Str(StrValue::Hll(Box::default()));
                self.insert(key, h, None);
                match self.hll(key)? {
                    Some(h) => {
                        let (n, r) = add_all(h, items, sparse_max);
                        (n + 1, r)
                    }
                    None => (1, Ok(())),
                }
            }
        };
        if updated > 0 {
            self.touch(key);
            if result.is_ok() {
                self.notify_n(notify::STRING, "pfadd", key, updated);
            }
        }
        result.map(|()| updated > 0)
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
            Some(h) => (Some(h.clone()), self.expiry(dest)),
            None => (None, None),
        };
        let merged = union.store_into(current, sparse_max)?;
        self.insert(dest, Value::Str(StrValue::Hll(Box::new(merged))), ttl);
        self.notify(notify::STRING, "pfadd", dest);
        Ok(())
    }
}

impl Db<'_> {
    /// PFDEBUG on the HyperLogLog at `key`.
    pub(crate) fn pfdebug(&mut self, sub: PfDebug, key: &[u8]) -> Result<PfDebugReply> {
        let h = self
            .hll(key)?
            .ok_or_else(|| Error::err("The specified key does not exist"))?;
        let out = match sub {
            PfDebug::GetReg => {
                let converted = h.to_dense()?;
                let regs = (0..crate::types::hll::REGISTERS)
                    .map(|i| h.register(i))
                    .collect();
                if converted {
                    self.touch(key);
                }
                PfDebugReply::Registers(regs)
            }
            PfDebug::Decode => PfDebugReply::Decoded(
                h.sparse_decode()
                    .ok_or_else(|| Error::err("HLL encoding is not sparse"))?,
            ),
            PfDebug::Encoding => PfDebugReply::Encoding(h.encoding()),
            PfDebug::ToDense => {
                let converted = h.to_dense()?;
                if converted {
                    self.touch(key);
                }
                PfDebugReply::Converted(converted)
            }
        };
        Ok(out)
    }
}

/// PFSELFTEST: checks the HyperLogLog implementation against itself: a value that starts
/// sparse (and turns dense at the default size limit) and one dense from the start must
/// hold the same registers and give the same estimate as elements are added, within five
/// standard errors of the true cardinality. The error names the first failure.
pub(crate) fn pfselftest() -> Result<()> {
    let mut sparse = HyperLogLog::new();
    let mut dense = HyperLogLog::new();
    dense.to_dense()?;
    let std_err = 1.04 / (crate::types::hll::REGISTERS as f64).sqrt();
    let mut next_check = 10u64;
    let sparse_max = super::DEFAULT_HLL_SPARSE_MAX_BYTES;
    for i in 1..=100_000u64 {
        let item = i.to_le_bytes();
        sparse.add(&item, sparse_max)?;
        dense.add(&item, sparse_max)?;
        if i == next_check {
            next_check *= 10;
            for r in 0..crate::types::hll::REGISTERS {
                if sparse.register(r) != dense.register(r) {
                    return Err(Error::err(format!("TESTFAILED Register error at {r}")));
                }
            }
            let (a, b) = (sparse.count()?, dense.count()?);
            if a != b {
                return Err(Error::err(format!(
                    "TESTFAILED sparse and dense counts differ at {i}: {a} vs {b}"
                )));
            }
            let err = (b as f64 - i as f64).abs() / i as f64;
            if i > 100 && err > 5.0 * std_err {
                return Err(Error::err(format!(
                    "TESTFAILED Too big error. card:{i} abserr:{err}"
                )));
            }
        }
    }
    Ok(())
}

/// Adds `items` to `h`; the number of them that changed a register, and the error of the
/// one that found the value corrupt, if one did (the items after it are not added).
fn add_all(h: &mut HyperLogLog, items: &[&[u8]], sparse_max: usize) -> (u64, Result<()>) {
    let mut changed = 0;
    for item in items {
        match h.add(item, sparse_max) {
            Ok(c) => changed += u64::from(c),
            Err(e) => return (changed, Err(e.into())),
        }
    }
    (changed, Ok(()))
}

impl Store {
    /// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`: Redis's HyperLogLog introspection.
    pub fn pfdebug(&self, sub: PfDebug, key: impl AsRef<[u8]>) -> Result<PfDebugReply> {
        let key = key.as_ref();
        self.with_key(key, |db| db.pfdebug(sub, key))
    }

    /// `PFSELFTEST`: runs the HyperLogLog self test.
    pub fn pfselftest(&self) -> Result<()> {
        pfselftest()
    }

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
