//! RedisBloom's cuckoo filter commands: CF.RESERVE, CF.ADD, CF.ADDNX, CF.INSERT,
//! CF.INSERTNX, CF.EXISTS, CF.MEXISTS, CF.COUNT, CF.DEL, CF.COMPACT, CF.INFO, CF.DEBUG,
//! CF.SCANDUMP and CF.LOADCHUNK.
//!
//! The filter itself is `crate::types::cuckoo`; this layer decides what a key lookup means
//! for each command, which differs from command to command in RedisBloom: a missing key is
//! created (CF.ADD, CF.INSERT), `ERR not found` (CF.INFO, CF.SCANDUMP, CF.INSERT NOCREATE),
//! `Not found` (CF.DEL, for another type too), `Cuckoo filter was not found` (CF.COMPACT,
//! another type too), or simply 0 (CF.EXISTS, CF.COUNT, another type too).
//!
//! Write commands mark their key modified for WATCH as soon as they open it, errors
//! included, as RedisBloom's keys opened for writing are signalled when closed.

use super::bloom::{ITEM_EXISTS, NOT_FOUND};
use super::value::Value;
use super::{Db, Store};
use crate::error::{Error, Result};
use crate::types::cuckoo::{
    self, CuckooError, CuckooFilter, CuckooInfo, InsertOutcome, DEFAULT_BUCKET_SIZE,
    DEFAULT_CAPACITY, DEFAULT_EXPANSION, DEFAULT_MAX_ITERATIONS,
};

/// CF.DEL on a key that holds no cuckoo filter.
pub(crate) const DEL_NOT_FOUND: &str = "Not found";
/// CF.COMPACT on a key that holds no cuckoo filter.
pub(crate) const COMPACT_NOT_FOUND: &str = "Cuckoo filter was not found";
/// A capacity argument that is not an integer (or, typed, above `i64::MAX`).
pub(crate) const BAD_CAPACITY: &str = "Bad capacity";

impl From<CuckooError> for Error {
    fn from(e: CuckooError) -> Error {
        Error::other(e.to_string())
    }
}

/// The shape of a filter `CF.RESERVE` creates, beside its capacity. [`Default`] is
/// RedisBloom's: bucket size 2, 20 kick-out iterations, expansion 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfReserveOptions {
    /// Fingerprints per bucket, 1..=255.
    pub bucket_size: u16,
    /// Length of the kick-out walk before the filter grows, 1..=65535.
    pub max_iterations: u16,
    /// Each new sub-filter has this many times the buckets of the previous one, rounded up
    /// to a power of two; 0 never grows (adds to a full filter fail), at most 32768.
    pub expansion: u16,
}

impl Default for CfReserveOptions {
    fn default() -> Self {
        CfReserveOptions {
            bucket_size: DEFAULT_BUCKET_SIZE,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            expansion: DEFAULT_EXPANSION,
        }
    }
}

/// `CF.INSERT`'s options. [`Default`]: create a missing key with capacity 1024.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfInsertOptions {
    /// Capacity of the filter created for a missing key (at least 4); ignored for an
    /// existing filter.
    pub capacity: u64,
    /// `NOCREATE`: a missing key is `ERR not found` instead of being created.
    pub nocreate: bool,
}

impl Default for CfInsertOptions {
    fn default() -> Self {
        CfInsertOptions {
            capacity: DEFAULT_CAPACITY as u64,
            nocreate: false,
        }
    }
}

/// CF.RESERVE's checks of a typed call, in RedisBloom's order (max iterations, bucket size,
/// expansion, then the capacity against the bucket size).
pub(crate) fn check_reserve(capacity: u64, opts: &CfReserveOptions) -> Result<i64> {
    let capacity = i64::try_from(capacity).map_err(|_| Error::other(BAD_CAPACITY))?;
    cuckoo::check_max_iterations(i64::from(opts.max_iterations))?;
    cuckoo::check_bucket_size(i64::from(opts.bucket_size))?;
    cuckoo::check_expansion(i64::from(opts.expansion))?;
    cuckoo::check_capacity(capacity, opts.bucket_size)?;
    Ok(capacity)
}

/// CF.INSERT's capacity check (against the default bucket size of the filter it creates).
pub(crate) fn check_insert_capacity(capacity: i64) -> Result<i64> {
    cuckoo::check_capacity(capacity, DEFAULT_BUCKET_SIZE)?;
    Ok(capacity)
}

impl Db<'_> {
    /// The filter at `key`: `Ok(None)` when missing, WRONGTYPE for another type.
    fn cuckoo(&mut self, key: &[u8]) -> Result<Option<&mut CuckooFilter>> {
        match self.value(key) {
            Some(Value::Cuckoo(cf)) => Ok(Some(cf)),
            Some(_) => Err(Error::WrongType),
            None => Ok(None),
        }
    }

    /// The filter at `key`, or `ERR not found` / WRONGTYPE.
    fn cuckoo_found(&mut self, key: &[u8]) -> Result<&mut CuckooFilter> {
        self.cuckoo(key)?.ok_or_else(|| Error::other(NOT_FOUND))
    }

    /// Runs `f` on the filter at `key`, first creating one of `capacity` with the default
    /// shape when the key is missing (`ERR not found` when `capacity` is `None`). A created
    /// key is stored whatever `f` returns.
    fn with_cuckoo_mut<R>(
        &mut self,
        key: &[u8],
        capacity: Option<i64>,
        f: impl FnOnce(&mut CuckooFilter) -> R,
    ) -> Result<R> {
        self.touch(key);
        if let Some(cf) = self.cuckoo(key)? {
            return Ok(f(cf));
        }
        let capacity = capacity.ok_or_else(|| Error::other(NOT_FOUND))?;
        let mut cf = Box::new(CuckooFilter::autocreate(capacity)?);
        let r = f(&mut cf);
        self.insert(key, Value::Cuckoo(cf), None);
        Ok(r)
    }

    /// CF.RESERVE, its arguments range-checked by the caller.
    pub(crate) fn cf_reserve(
        &mut self,
        key: &[u8],
        capacity: i64,
        opts: &CfReserveOptions,
    ) -> Result<()> {
        self.touch(key);
        match self.value(key) {
            Some(Value::Cuckoo(_)) => return Err(Error::other(ITEM_EXISTS)),
            Some(_) => return Err(Error::WrongType),
            None => {}
        }
        let cf = CuckooFilter::reserve(
            capacity,
            i64::from(opts.bucket_size),
            i64::from(opts.max_iterations),
            i64::from(opts.expansion),
        )?;
        self.insert(key, Value::Cuckoo(Box::new(cf)), None);
        Ok(())
    }

    /// CF.ADD (`nx` false) or CF.ADDNX (`nx` true).
    pub(crate) fn cf_add(&mut self, key: &[u8], item: &[u8], nx: bool) -> Result<bool> {
        let r = self.with_cuckoo_mut(key, Some(DEFAULT_CAPACITY), |cf| {
            if nx {
                cf.add_nx(item)
            } else {
                cf.add(item)
            }
        })?;
        Ok(r?)
    }

    /// CF.INSERT (`nx` false) or CF.INSERTNX (`nx` true), the capacity checked by the caller.
    pub(crate) fn cf_insert<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        capacity: i64,
        nocreate: bool,
        items: &[I],
        nx: bool,
    ) -> Result<Vec<InsertOutcome>> {
        let create = (!nocreate).then_some(capacity);
        Ok(self.with_cuckoo_mut(key, create, |cf| cf.insert(items, nx))??)
    }

    /// CF.EXISTS: false for a missing key and for a key of another type.
    pub(crate) fn cf_exists(&mut self, key: &[u8], item: &[u8]) -> bool {
        matches!(self.cuckoo(key), Ok(Some(cf)) if cf.exists(item))
    }

    /// CF.MEXISTS: all false for a missing key and for a key of another type.
    pub(crate) fn cf_mexists<I: AsRef<[u8]>>(&mut self, key: &[u8], items: &[I]) -> Vec<bool> {
        match self.cuckoo(key) {
            Ok(Some(cf)) => items.iter().map(|i| cf.exists(i.as_ref())).collect(),
            _ => vec![false; items.len()],
        }
    }

    /// CF.COUNT: 0 for a missing key and for a key of another type.
    pub(crate) fn cf_count(&mut self, key: &[u8], item: &[u8]) -> u64 {
        match self.cuckoo(key) {
            Ok(Some(cf)) => cf.count(item),
            _ => 0,
        }
    }

    /// CF.DEL: `Not found` unless `key` holds a filter.
    pub(crate) fn cf_del(&mut self, key: &[u8], item: &[u8]) -> Result<bool> {
        self.touch(key);
        match self.cuckoo(key) {
            Ok(Some(cf)) => Ok(cf.del(item)),
            _ => Err(Error::other(DEL_NOT_FOUND)),
        }
    }

    /// CF.COMPACT: `Cuckoo filter was not found` unless `key` holds a filter.
    pub(crate) fn cf_compact(&mut self, key: &[u8]) -> Result<()> {
        self.touch(key);
        match self.cuckoo(key) {
            Ok(Some(cf)) => {
                cf.compact();
                Ok(())
            }
            _ => Err(Error::other(COMPACT_NOT_FOUND)),
        }
    }

    /// CF.INFO.
    pub(crate) fn cf_info(&mut self, key: &[u8]) -> Result<CuckooInfo> {
        Ok(self.cuckoo_found(key)?.info())
    }

    /// CF.DEBUG: one line of the filter's parameters and counters.
    pub(crate) fn cf_debug(&mut self, key: &[u8]) -> Result<String> {
        let i = self.cuckoo_found(key)?.info();
        Ok(format!(
            "bktsize:{} buckets:{} items:{} deletes:{} filters:{} max_iterations:{} expansion:{}",
            i.bucket_size,
            i.num_buckets,
            i.num_items,
            i.num_deletes,
            i.num_filters,
            i.max_iterations,
            i.expansion
        ))
    }

    /// CF.SCANDUMP: `(next cursor, chunk)`, `(0, None)` past the end or for an empty filter.
    /// A negative cursor is refused before the key is looked up.
    pub(crate) fn cf_scandump(
        &mut self,
        key: &[u8],
        cursor: i64,
    ) -> Result<(i64, Option<Vec<u8>>)> {
        if cursor < 0 {
            return Err(CuckooError::InvalidPosition.into());
        }
        let (next, chunk) = self.cuckoo_found(key)?.scandump(cursor)?;
        Ok((next, chunk.map(std::borrow::Cow::into_owned)))
    }

    /// CF.LOADCHUNK: cursor 1 with a header creates a missing key (`ERR item exists` for an
    /// existing one); other cursors fill an existing filter. A rejected chunk leaves the key
    /// as it was.
    pub(crate) fn cf_loadchunk(&mut self, key: &[u8], cursor: i64, data: &[u8]) -> Result<()> {
        self.touch(key);
        if cursor == 0 {
            return Err(CuckooError::InvalidPosition.into());
        }
        if cursor == 1 {
            match self.value(key) {
                Some(Value::Cuckoo(_)) => return Err(Error::other(ITEM_EXISTS)),
                Some(_) => return Err(Error::WrongType),
                None => {}
            }
            let cf = CuckooFilter::from_header(data)?;
            self.insert(key, Value::Cuckoo(Box::new(cf)), None);
            return Ok(());
        }
        Ok(self.cuckoo_found(key)?.load_chunk(cursor, data)?)
    }
}

impl Store {
    /// CF.RESERVE: creates an empty cuckoo filter for about `capacity` items (at least twice
    /// the bucket size). `ERR item exists` if `key` holds one already.
    ///
    /// ```
    /// use sketchstore::{CfReserveOptions, Store};
    /// let store = Store::new();
    /// store.cf_reserve("carts", 1000, CfReserveOptions::default()).unwrap();
    /// assert!(store.cf_add("carts", "sku:1").unwrap());
    /// assert!(store.cf_exists("carts", "sku:1").unwrap());
    /// assert!(store.cf_del("carts", "sku:1").unwrap());
    /// assert!(!store.cf_exists("carts", "sku:1").unwrap());
    /// ```
    pub fn cf_reserve(
        &self,
        key: impl AsRef<[u8]>,
        capacity: u64,
        opts: CfReserveOptions,
    ) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let capacity = check_reserve(capacity, &opts)?;
        self.with_key(key, |db| db.cf_reserve(key, capacity, &opts))
    }

    /// CF.ADD: stores `item` (again, if it is there already), creating a filter of capacity
    /// 1024 when `key` is missing. `Filter is full` when there is no room and the filter may
    /// not grow; `Maximum expansions reached` once it has 32 sub-filters.
    pub fn cf_add(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<bool> {
        self.check_memory(true)?;
        let (key, item) = (key.as_ref(), item.as_ref());
        self.with_key(key, |db| db.cf_add(key, item, false))
    }

    /// CF.ADDNX: [`cf_add`](Self::cf_add) unless the item may be present already; `true`
    /// when it was stored.
    pub fn cf_addnx(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<bool> {
        self.check_memory(true)?;
        let (key, item) = (key.as_ref(), item.as_ref());
        self.with_key(key, |db| db.cf_add(key, item, true))
    }

    /// CF.INSERT: adds every item, creating the filter with `opts.capacity` unless
    /// `opts.nocreate`. One outcome per item: [`InsertOutcome::NoSpace`] where CF.ADD would
    /// fail with `Filter is full`.
    pub fn cf_insert<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        opts: CfInsertOptions,
        items: &[I],
    ) -> Result<Vec<InsertOutcome>> {
        self.cf_insert_impl(key.as_ref(), opts, items, false)
    }

    /// CF.INSERTNX: [`cf_insert`](Self::cf_insert) skipping items that may be present
    /// ([`InsertOutcome::Exists`]).
    pub fn cf_insertnx<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        opts: CfInsertOptions,
        items: &[I],
    ) -> Result<Vec<InsertOutcome>> {
        self.cf_insert_impl(key.as_ref(), opts, items, true)
    }

    fn cf_insert_impl<I: AsRef<[u8]>>(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[I],
        nx: bool,
    ) -> Result<Vec<InsertOutcome>> {
        self.check_memory(true)?;
        if items.is_empty() {
            return Err(Error::WrongArity(
                if nx { "cf.insertnx" } else { "cf.insert" }.to_owned(),
            ));
        }
        let capacity = i64::try_from(opts.capacity).map_err(|_| Error::other(BAD_CAPACITY))?;
        let capacity = check_insert_capacity(capacity)?;
        self.with_key(key, |db| {
            db.cf_insert(key, capacity, opts.nocreate, items, nx)
        })
    }

    /// CF.EXISTS: whether `item` may be present. `false` when `key` is missing or holds
    /// another type (RedisBloom answers 0 there, not WRONGTYPE).
    pub fn cf_exists(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<bool> {
        let (key, item) = (key.as_ref(), item.as_ref());
        Ok(self.with_key(key, |db| db.cf_exists(key, item)))
    }

    /// CF.MEXISTS: [`cf_exists`](Self::cf_exists) for each item.
    pub fn cf_mexists<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<bool>> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| db.cf_mexists(key, items)))
    }

    /// CF.COUNT: how many copies of `item`'s fingerprint the filter holds (an upper bound
    /// of the times it was added and not deleted); 0 when `key` is missing or holds another
    /// type.
    pub fn cf_count(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<u64> {
        let (key, item) = (key.as_ref(), item.as_ref());
        Ok(self.with_key(key, |db| db.cf_count(key, item)))
    }

    /// CF.DEL: removes one copy of `item`; `false` when it was not found. `Not found` when
    /// `key` holds no filter. Deleting an item that was never added may remove another
    /// item's fingerprint.
    pub fn cf_del(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<bool> {
        let (key, item) = (key.as_ref(), item.as_ref());
        self.with_key(key, |db| db.cf_del(key, item))
    }

    /// CF.COMPACT: moves fingerprints into older sub-filters and frees emptied ones.
    pub fn cf_compact(&self, key: impl AsRef<[u8]>) -> Result<()> {
        let key = key.as_ref();
        self.with_key(key, |db| db.cf_compact(key))
    }

    /// CF.INFO. `ERR not found` for a missing key.
    pub fn cf_info(&self, key: impl AsRef<[u8]>) -> Result<CuckooInfo> {
        let key = key.as_ref();
        self.with_key(key, |db| db.cf_info(key))
    }

    /// CF.SCANDUMP: cursor 0 gives `(1, header)`, then each `(next, chunk)` of the slots
    /// until `(0, None)`; an empty filter answers `(0, None)` at once. Feed every pair to
    /// [`cf_loadchunk`](Self::cf_loadchunk) as is.
    ///
    /// ```
    /// use sketchstore::Store;
    /// let store = Store::new();
    /// store.cf_add("a", "x").unwrap();
    /// let mut cursor = 0;
    /// while let (next, Some(chunk)) = store.cf_scandump("a", cursor).unwrap() {
    ///     store.cf_loadchunk("b", next, &chunk).unwrap();
    ///     cursor = next;
    /// }
    /// assert!(store.cf_exists("b", "x").unwrap());
    /// ```
    pub fn cf_scandump(
        &self,
        key: impl AsRef<[u8]>,
        cursor: i64,
    ) -> Result<(i64, Option<Vec<u8>>)> {
        let key = key.as_ref();
        self.with_key(key, |db| db.cf_scandump(key, cursor))
    }

    /// CF.LOADCHUNK: cursor 1 with a 38-byte header creates a missing key; the other pairs
    /// from CF.SCANDUMP fill it. `Couldn't create filter!` / `Couldn't load chunk!` (and
    /// nothing changes) for an invalid header or a misplaced chunk.
    pub fn cf_loadchunk(
        &self,
        key: impl AsRef<[u8]>,
        cursor: i64,
        data: impl AsRef<[u8]>,
    ) -> Result<()> {
        self.check_memory(true)?;
        let (key, data) = (key.as_ref(), data.as_ref());
        self.with_key(key, |db| db.cf_loadchunk(key, cursor, data))
    }
}
