//! RedisBloom's top-k commands: TOPK.RESERVE, TOPK.ADD, TOPK.INCRBY, TOPK.QUERY,
//! TOPK.COUNT, TOPK.LIST and TOPK.INFO.
//!
//! The sketch is `crate::types::topk`; this layer decides what a key lookup means for each
//! command (`TopK: key does not exist`, `TopK: key already exists` for any existing key,
//! WRONGTYPE) and checks every `TOPK.INCRBY` increment before applying any. Write commands
//! mark their key modified for WATCH as soon as they open it, errors included, as RedisBloom
//! does; reads do not.

use super::value::Value;
use super::{Db, Store};
use crate::error::{Error, Result};
use crate::types::topk::{TopK, TopKError, TopKInfo, MAX_INCREMENT};

impl From<TopKError> for Error {
    fn from(e: TopKError) -> Error {
        Error::other(e.to_string())
    }
}

/// The shape of a new top-k sketch: `TOPK.RESERVE key k [width depth decay]`. [`Default`]
/// is `k` 10 with RedisBloom's defaults for the rest (width 8, depth 7, decay 0.9).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopKOptions {
    /// How many items the list keeps, at least 1.
    pub k: i64,
    /// Buckets per row, at least 1.
    pub width: i64,
    /// Rows, at least 1.
    pub depth: i64,
    /// Decay probability base, in `(0, 1]`.
    pub decay: f64,
}

impl TopKOptions {
    /// `k` with RedisBloom's default width, depth and decay.
    pub fn with_k(k: i64) -> TopKOptions {
        TopKOptions {
            k,
            width: i64::from(crate::types::topk::DEFAULT_WIDTH),
            depth: i64::from(crate::types::topk::DEFAULT_DEPTH),
            decay: crate::types::topk::DEFAULT_DECAY,
        }
    }
}

impl Default for TopKOptions {
    fn default() -> Self {
        TopKOptions::with_k(10)
    }
}

/// Whether an increment is one `TOPK.INCRBY` accepts.
fn valid_increment(n: i64) -> bool {
    (0..=i64::from(MAX_INCREMENT)).contains(&n)
}

impl Db<'_> {
    /// The sketch at `key` for writing: `TopK: key does not exist` when missing.
    fn topk_mut(&mut self, key: &[u8]) -> Result<&mut TopK> {
        self.touch(key);
        match self.value(key) {
            Some(Value::TopK(t)) => Ok(t),
            Some(_) => Err(Error::WrongType),
            None => Err(TopKError::KeyDoesNotExist.into()),
        }
    }

    /// The sketch at `key` for reading.
    fn topk(&mut self, key: &[u8]) -> Result<&mut TopK> {
        match self.value(key) {
            Some(Value::TopK(t)) => Ok(t),
            Some(_) => Err(Error::WrongType),
            None => Err(TopKError::KeyDoesNotExist.into()),
        }
    }

    /// TOPK.RESERVE's first check: any existing key, whatever its type, is
    /// `TopK: key already exists` (before the arguments are looked at).
    pub(crate) fn topk_check_new(&mut self, key: &[u8]) -> Result<()> {
        self.touch(key);
        if self.value(key).is_some() {
            return Err(TopKError::KeyExists.into());
        }
        Ok(())
    }

    /// TOPK.RESERVE.
    pub(crate) fn topk_reserve(&mut self, key: &[u8], opts: &TopKOptions) -> Result<()> {
        self.topk_check_new(key)?;
        let t = TopK::reserve(opts.k, opts.width, opts.depth, opts.decay)?;
        self.insert(key, Value::TopK(Box::new(t)), None);
        Ok(())
    }

    /// TOPK.ADD: per item, the item expelled from the list (up to its first NUL byte).
    pub(crate) fn topk_add<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        items: &[I],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let t = self.topk_mut(key)?;
        Ok(items.iter().map(|i| t.add(i.as_ref())).collect())
    }

    /// TOPK.INCRBY: the key is checked first, then every increment (0 to 100,000), and only
    /// then is anything applied.
    pub(crate) fn topk_incrby<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        pairs: &[(I, i64)],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let t = self.topk_mut(key)?;
        if pairs.iter().any(|(_, n)| !valid_increment(*n)) {
            return Err(TopKError::InvalidIncrement.into());
        }
        pairs
            .iter()
            .map(|(i, n)| Ok(t.incrby(i.as_ref(), *n)?))
            .collect()
    }

    /// TOPK.QUERY.
    pub(crate) fn topk_query<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        items: &[I],
    ) -> Result<Vec<bool>> {
        let t = self.topk(key)?;
        Ok(items.iter().map(|i| t.query(i.as_ref())).collect())
    }

    /// TOPK.COUNT.
    pub(crate) fn topk_count<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        items: &[I],
    ) -> Result<Vec<u64>> {
        let t = self.topk(key)?;
        Ok(items.iter().map(|i| t.count(i.as_ref())).collect())
    }

    /// TOPK.LIST WITHCOUNT: items by count, highest first.
    pub(crate) fn topk_list(&mut self, key: &[u8]) -> Result<Vec<(Vec<u8>, u64)>> {
        Ok(self.topk(key)?.list())
    }

    /// TOPK.INFO.
    pub(crate) fn topk_info(&mut self, key: &[u8]) -> Result<TopKInfo> {
        Ok(self.topk(key)?.info())
    }
}

impl Store {
    /// TOPK.RESERVE: creates an empty sketch. `TopK: key already exists` when `key` holds
    /// anything (RedisBloom does not answer WRONGTYPE here); RedisBloom's range errors
    /// otherwise.
    ///
    /// ```
    /// use sketchstore::{Store, TopKOptions};
    /// let store = Store::new();
    /// store.topk_reserve("hot", TopKOptions::with_k(2)).unwrap();
    /// store.topk_add("hot", &["a", "b", "a", "c", "a"]).unwrap();
    /// assert_eq!(store.topk_list("hot").unwrap()[0], (b"a".to_vec(), 3));
    /// ```
    pub fn topk_reserve(&self, key: impl AsRef<[u8]>, opts: TopKOptions) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_reserve(key, &opts))
    }

    /// TOPK.ADD: per item, the item it expelled from the list, if any.
    pub fn topk_add<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_add(key, items))
    }

    /// TOPK.INCRBY: `(item, increment)` pairs; nothing is applied unless every increment is
    /// within 0..=100,000.
    pub fn topk_incrby<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        pairs: &[(I, i64)],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_incrby(key, pairs))
    }

    /// TOPK.QUERY: whether each item is in the list.
    pub fn topk_query<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<bool>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_query(key, items))
    }

    /// TOPK.COUNT: each item's estimated count.
    pub fn topk_count<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<u64>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_count(key, items))
    }

    /// TOPK.LIST WITHCOUNT: the list, highest count first (items up to their first NUL).
    pub fn topk_list(&self, key: impl AsRef<[u8]>) -> Result<Vec<(Vec<u8>, u64)>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_list(key))
    }

    /// TOPK.INFO.
    pub fn topk_info(&self, key: impl AsRef<[u8]>) -> Result<TopKInfo> {
        let key = key.as_ref();
        self.with_key(key, |db| db.topk_info(key))
    }
}
