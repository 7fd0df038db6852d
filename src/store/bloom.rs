//! RedisBloom's Bloom filter commands: BF.RESERVE, BF.ADD, BF.MADD, BF.INSERT, BF.EXISTS,
//! BF.MEXISTS, BF.INFO, BF.CARD, BF.DEBUG, BF.SCANDUMP and BF.LOADCHUNK.
//!
//! The filter itself is `crate::types::bloom`; this layer decides what a key lookup means
//! for each command (create, `ERR not found`, WRONGTYPE, or answer 0), validates typed
//! arguments with RedisBloom's texts, and gives every filter the store's memory budget
//! ([`Config::bloom_max_bytes`](super::Config::bloom_max_bytes)).
//!
//! Write commands mark their key modified for WATCH whenever they get as far as opening it,
//! replies 0 and errors included: RedisBloom opens the key for writing and Redis signals a
//! module key opened for writing when it is closed.

use super::value::Value;
use super::{Db, Store};
use crate::error::{Error, Result};
use crate::types::bloom::{
    error_rate_in_range, BloomError, BloomInfo, BloomLimits, ScalableBloomFilter, DEFAULT_CAPACITY,
    DEFAULT_ERROR_RATE, DEFAULT_EXPANSION, MIN_CAPACITY, MIN_EXPANSION,
};

/// `ERR not found`: BF.INFO, BF.DEBUG, BF.SCANDUMP, BF.LOADCHUNK (not at iterator 1) and
/// BF.INSERT NOCREATE on a missing key.
pub(crate) const NOT_FOUND: &str = "ERR not found";
/// BF.RESERVE on an existing filter.
pub(crate) const ITEM_EXISTS: &str = "ERR item exists";
/// BF.RESERVE error rate outside (0, 1); the trailing space is RedisBloom's.
pub(crate) const RESERVE_ERROR_RATE_RANGE: &str = "ERR (0 < error rate range < 1) ";
/// BF.RESERVE capacity below 1.
pub(crate) const RESERVE_CAPACITY_RANGE: &str = "ERR (capacity should be larger than 0)";
/// BF.RESERVE expansion below 1.
pub(crate) const RESERVE_EXPANSION_RANGE: &str = "ERR expansion should be greater or equal to 1";
/// BF.INSERT with an error rate, capacity or expansion out of range (no `ERR` prefix).
pub(crate) const INSERT_BAD_ARGUMENT: &str = "Bad argument received";

impl From<BloomError> for Error {
    fn from(e: BloomError) -> Error {
        Error::other(e.to_string())
    }
}

/// The shape of a new filter: `BF.RESERVE`'s arguments, or `BF.INSERT`'s `ERROR`, `CAPACITY`,
/// `EXPANSION` and `NONSCALING`. [`Default`] is what `BF.ADD` auto-creates: error rate 0.01,
/// capacity 100, expansion 2, scaling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BloomOptions {
    /// Target false-positive rate, in (0, 1). The first sub-filter gets half of it (all of it
    /// when non-scaling).
    pub error_rate: f64,
    /// Items the first sub-filter holds, at least 1.
    pub capacity: u64,
    /// Each new sub-filter holds this many times more than the previous one, at least 1.
    /// Kept (and dumped by BF.SCANDUMP) for non-scaling filters too, where BF.INFO shows nil.
    pub expansion: u32,
    /// Never grow: adding a new item to a full filter is `ERR non scaling filter is full`.
    pub nonscaling: bool,
}

impl Default for BloomOptions {
    fn default() -> Self {
        BloomOptions {
            error_rate: DEFAULT_ERROR_RATE,
            capacity: DEFAULT_CAPACITY,
            expansion: DEFAULT_EXPANSION,
            nonscaling: false,
        }
    }
}

/// `BF.INSERT`'s options.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BfInsertOptions {
    /// The filter to create when the key is missing; ignored for an existing filter.
    pub filter: BloomOptions,
    /// `NOCREATE`: a missing key is `ERR not found` instead of being created.
    pub nocreate: bool,
}

/// One field of `BF.INFO key <field>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BfInfoField {
    /// `CAPACITY`: `Capacity`.
    Capacity,
    /// `SIZE`: `Size`.
    Size,
    /// `FILTERS`: `Number of filters`.
    Filters,
    /// `ITEMS`: `Number of items inserted`.
    Items,
    /// `EXPANSION`: `Expansion rate`, nil for a non-scaling filter.
    Expansion,
}

impl BfInfoField {
    /// The field named by a BF.INFO argument (ASCII case ignored).
    pub fn parse(word: &[u8]) -> Option<BfInfoField> {
        [
            ("capacity", BfInfoField::Capacity),
            ("size", BfInfoField::Size),
            ("filters", BfInfoField::Filters),
            ("items", BfInfoField::Items),
            ("expansion", BfInfoField::Expansion),
        ]
        .into_iter()
        .find(|(w, _)| word.eq_ignore_ascii_case(w.as_bytes()))
        .map(|(_, f)| f)
    }

    /// The field's value in `info` as BF.INFO replies it (`None` is nil); counters wrap into
    /// `i64` as RedisBloom's `size_t` to `long long` conversion does.
    pub fn value(self, info: &BloomInfo) -> Option<i64> {
        match self {
            BfInfoField::Capacity => Some(info.capacity as i64),
            BfInfoField::Size => Some(info.size as i64),
            BfInfoField::Filters => Some(info.filters as i64),
            BfInfoField::Items => Some(info.items as i64),
            BfInfoField::Expansion => info.expansion.map(i64::from),
        }
    }

    /// The label of the whole-filter reply, in reply order.
    pub fn label(self) -> &'static str {
        match self {
            BfInfoField::Capacity => "Capacity",
            BfInfoField::Size => "Size",
            BfInfoField::Filters => "Number of filters",
            BfInfoField::Items => "Number of items inserted",
            BfInfoField::Expansion => "Expansion rate",
        }
    }

    /// Every field, in BF.INFO's reply order.
    pub const ALL: [BfInfoField; 5] = [
        BfInfoField::Capacity,
        BfInfoField::Size,
        BfInfoField::Filters,
        BfInfoField::Items,
        BfInfoField::Expansion,
    ];
}

/// BF.RESERVE's range checks, in its order.
pub(crate) fn check_reserve(opts: &BloomOptions) -> Result<()> {
    if !error_rate_in_range(opts.error_rate) {
        return Err(Error::other(RESERVE_ERROR_RATE_RANGE));
    }
    if opts.capacity < MIN_CAPACITY {
        return Err(Error::other(RESERVE_CAPACITY_RANGE));
    }
    if opts.expansion < MIN_EXPANSION {
        return Err(Error::other(RESERVE_EXPANSION_RANGE));
    }
    Ok(())
}

/// BF.INSERT's range check: one text for all three.
pub(crate) fn check_insert(opts: &BloomOptions) -> Result<()> {
    if !error_rate_in_range(opts.error_rate)
        || opts.capacity < MIN_CAPACITY
        || opts.expansion < MIN_EXPANSION
    {
        return Err(Error::other(INSERT_BAD_ARGUMENT));
    }
    Ok(())
}

/// `ERR not found` for a missing key.
fn not_found() -> Error {
    Error::other(NOT_FOUND)
}

/// RedisBloom's `%g` (six significant digits, trailing zeros removed), for BF.DEBUG ratios.
pub(crate) fn format_g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return match x {
            x if x.is_nan() => "nan".to_owned(),
            x if x == f64::INFINITY => "inf".to_owned(),
            x if x == f64::NEG_INFINITY => "-inf".to_owned(),
            x if x.is_sign_negative() => "-0".to_owned(),
            _ => "0".to_owned(),
        };
    }
    // The exponent after rounding to six digits decides between %e and %f.
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if (-4..6).contains(&exp) {
        let decimals = (5 - exp) as usize;
        trim(&format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs())
    }
}

impl Db<'_> {
    fn bloom_limits(&self) -> BloomLimits {
        BloomLimits {
            max_bytes: self.settings().bloom_max_bytes(),
        }
    }

    fn new_filter(&self, opts: &BloomOptions) -> Result<ScalableBloomFilter> {
        Ok(ScalableBloomFilter::with_limits(
            opts.capacity,
            opts.error_rate,
            opts.expansion,
            opts.nonscaling,
            self.bloom_limits(),
        )?)
    }

    /// Runs `f` on the filter at `key`, first creating it with `create` when the key is
    /// missing (`ERR not found` when `create` is `None`). The new key is stored whatever `f`
    /// returns, as RedisBloom creates it before adding anything.
    fn with_bloom_mut<R>(
        &mut self,
        key: &[u8],
        create: Option<&BloomOptions>,
        f: impl FnOnce(&mut ScalableBloomFilter) -> R,
    ) -> Result<R> {
        self.touch(key);
        match self.value(key) {
            Some(Value::Bloom(filter)) => return Ok(f(filter)),
            Some(_) => return Err(Error::WrongType),
            None => {}
        }
        let opts = create.ok_or_else(not_found)?;
        let mut filter = Box::new(self.new_filter(opts)?);
        let r = f(&mut filter);
        self.insert(key, Value::Bloom(filter), None);
        Ok(r)
    }

    /// Runs `f` on the filter at `key`: `Ok(None)` when missing, WRONGTYPE for another type.
    fn with_bloom<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&ScalableBloomFilter) -> R,
    ) -> Result<Option<R>> {
        match self.value(key) {
            Some(Value::Bloom(filter)) => Ok(Some(f(filter))),
            Some(_) => Err(Error::WrongType),
            None => Ok(None),
        }
    }

    /// The lookup outcome of BF.INFO, BF.DEBUG and BF.SCANDUMP: `ERR not found` or WRONGTYPE
    /// unless `key` holds a filter. They check it before their other arguments.
    pub(crate) fn bf_check_key(&mut self, key: &[u8]) -> Result<()> {
        self.with_bloom(key, |_| ())?.ok_or_else(not_found)
    }

    /// BF.RESERVE, its options range-checked by the caller (see [`Db::bf_insert`]).
    pub(crate) fn bf_reserve(&mut self, key: &[u8], opts: &BloomOptions) -> Result<()> {
        self.touch(key);
        match self.value(key) {
            Some(Value::Bloom(_)) => return Err(Error::other(ITEM_EXISTS)),
            Some(_) => return Err(Error::WrongType),
            None => {}
        }
        let filter = self.new_filter(opts)?;
        self.insert(key, Value::Bloom(Box::new(filter)), None);
        Ok(())
    }

    /// BF.ADD: whether the item was added (false: it may already be there).
    pub(crate) fn bf_add(&mut self, key: &[u8], item: &[u8]) -> Result<bool> {
        Ok(self.with_bloom_mut(key, Some(&BloomOptions::default()), |f| f.insert(item))??)
    }

    /// BF.MADD and BF.INSERT's items: one result per item, stopping after the first
    /// `ERR non scaling filter is full`.
    fn add_items<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        create: Option<&BloomOptions>,
        items: &[I],
    ) -> Result<Vec<Result<bool>>> {
        self.with_bloom_mut(key, create, |filter| {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match filter.insert(item.as_ref()) {
                    Ok(added) => out.push(Ok(added)),
                    Err(e) => {
                        let full = e == BloomError::Full;
                        out.push(Err(e.into()));
                        if full {
                            break;
                        }
                    }
                }
            }
            out
        })
    }

    /// BF.MADD.
    pub(crate) fn bf_madd<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        items: &[I],
    ) -> Result<Vec<Result<bool>>> {
        self.add_items(key, Some(&BloomOptions::default()), items)
    }

    /// BF.INSERT, its options range-checked by the caller (the argv path checks the 64-bit
    /// values before RedisBloom's truncation of the expansion to 32 bits).
    pub(crate) fn bf_insert<I: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        opts: &BfInsertOptions,
        items: &[I],
    ) -> Result<Vec<Result<bool>>> {
        let create = (!opts.nocreate).then_some(&opts.filter);
        self.add_items(key, create, items)
    }

    /// BF.EXISTS: false for a missing key and for a key of another type.
    pub(crate) fn bf_exists(&mut self, key: &[u8], item: &[u8]) -> bool {
        matches!(self.with_bloom(key, |f| f.contains(item)), Ok(Some(true)))
    }

    /// BF.MEXISTS: all false for a missing key and for a key of another type.
    pub(crate) fn bf_mexists<I: AsRef<[u8]>>(&mut self, key: &[u8], items: &[I]) -> Vec<bool> {
        match self.with_bloom(key, |f| {
            items.iter().map(|i| f.contains(i.as_ref())).collect()
        }) {
            Ok(Some(found)) => found,
            _ => vec![false; items.len()],
        }
    }

    /// BF.INFO.
    pub(crate) fn bf_info(&mut self, key: &[u8]) -> Result<BloomInfo> {
        self.with_bloom(key, ScalableBloomFilter::info)?
            .ok_or_else(not_found)
    }

    /// BF.CARD: 0 for a missing key.
    pub(crate) fn bf_card(&mut self, key: &[u8]) -> Result<u64> {
        Ok(self
            .with_bloom(key, ScalableBloomFilter::card)?
            .unwrap_or(0))
    }

    /// BF.DEBUG: `size:<items>`, then one line per sub-filter, oldest first.
    pub(crate) fn bf_debug(&mut self, key: &[u8]) -> Result<Vec<String>> {
        self.with_bloom(key, |f| {
            let width = if f.options() & crate::types::bloom::OPT_FORCE64 != 0 {
                64
            } else {
                32
            };
            let mut out = vec![format!("size:{}", f.card())];
            out.extend(f.links().iter().map(|l| {
                format!(
                    "bytes:{} bits:{} hashes:{} hashwidth:{width} capacity:{} size:{} ratio:{}",
                    l.bytes(),
                    l.bits(),
                    l.hashes(),
                    l.entries(),
                    l.size(),
                    format_g(l.error())
                )
            }));
            out
        })?
        .ok_or_else(not_found)
    }

    /// BF.SCANDUMP: `(next iterator, chunk)`; `(0, [])` past the end.
    pub(crate) fn bf_scandump(&mut self, key: &[u8], iter: i64) -> Result<(i64, Vec<u8>)> {
        self.with_bloom(key, |f| f.scandump(iter))?
            .ok_or_else(not_found)
    }

    /// BF.LOADCHUNK: a header at iterator 1 creates a missing key (validated against the
    /// store's memory budget before anything is allocated); other chunks fill an existing
    /// filter. A rejected chunk leaves the key as it was.
    pub(crate) fn bf_loadchunk(&mut self, key: &[u8], iter: i64, data: &[u8]) -> Result<()> {
        self.touch(key);
        match self.value(key) {
            Some(Value::Bloom(filter)) => return Ok(filter.load_chunk(iter, data)?),
            Some(_) => return Err(Error::WrongType),
            None => {}
        }
        if iter != 1 {
            return Err(not_found());
        }
        let filter = ScalableBloomFilter::from_header_chunk(data, self.bloom_limits())?;
        self.insert(key, Value::Bloom(Box::new(filter)), None);
        Ok(())
    }
}

impl Store {
    /// BF.RESERVE: creates an empty filter. `ERR item exists` if `key` holds one already,
    /// `ERR Insufficient memory to create filter` past
    /// [`Config::bloom_max_bytes`](super::Config::bloom_max_bytes).
    ///
    /// ```
    /// use sketchstore::{BloomOptions, Store};
    /// let store = Store::new();
    /// let opts = BloomOptions { error_rate: 0.001, capacity: 10_000, ..Default::default() };
    /// store.bf_reserve("seen", opts).unwrap();
    /// assert!(store.bf_add("seen", "page:1").unwrap());
    /// assert!(store.bf_exists("seen", "page:1").unwrap());
    /// ```
    pub fn bf_reserve(&self, key: impl AsRef<[u8]>, opts: BloomOptions) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        check_reserve(&opts)?;
        self.with_key(key, |db| db.bf_reserve(key, &opts))
    }

    /// BF.ADD: adds `item`, creating a default filter ([`BloomOptions::default`]) when `key`
    /// is missing. `true` if it was added, `false` if it may already be present.
    pub fn bf_add(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<bool> {
        self.check_memory(true)?;
        let (key, item) = (key.as_ref(), item.as_ref());
        self.with_key(key, |db| db.bf_add(key, item))
    }

    /// BF.MADD: one result per item as BF.ADD would give it; after an
    /// `ERR non scaling filter is full` the remaining items are not processed and have no
    /// entry. The outer error is WRONGTYPE or a failure to create the filter.
    pub fn bf_madd<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<Result<bool>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.bf_madd(key, items))
    }

    /// BF.INSERT: BF.MADD with the options of the filter to create (`Bad argument received`
    /// if out of range), or `ERR not found` with `nocreate`. An existing filter keeps its own
    /// options.
    pub fn bf_insert<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        opts: BfInsertOptions,
        items: &[I],
    ) -> Result<Vec<Result<bool>>> {
        self.check_memory(true)?;
        let key = key.as_ref();
        check_insert(&opts.filter)?;
        self.with_key(key, |db| db.bf_insert(key, &opts, items))
    }

    /// BF.EXISTS: whether `item` may be present. `false` when `key` is missing or holds
    /// another type (RedisBloom answers 0 there, not WRONGTYPE).
    pub fn bf_exists(&self, key: impl AsRef<[u8]>, item: impl AsRef<[u8]>) -> Result<bool> {
        let (key, item) = (key.as_ref(), item.as_ref());
        Ok(self.with_key(key, |db| db.bf_exists(key, item)))
    }

    /// BF.MEXISTS: [`bf_exists`](Self::bf_exists) for each item.
    pub fn bf_mexists<I: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        items: &[I],
    ) -> Result<Vec<bool>> {
        let key = key.as_ref();
        Ok(self.with_key(key, |db| db.bf_mexists(key, items)))
    }

    /// BF.INFO: capacity, size in bytes, sub-filters, items and expansion (`None` when
    /// non-scaling). `ERR not found` for a missing key.
    pub fn bf_info(&self, key: impl AsRef<[u8]>) -> Result<BloomInfo> {
        let key = key.as_ref();
        self.with_key(key, |db| db.bf_info(key))
    }

    /// BF.INFO with one field: its value, `None` for the expansion of a non-scaling filter.
    pub fn bf_info_field(&self, key: impl AsRef<[u8]>, field: BfInfoField) -> Result<Option<i64>> {
        Ok(field.value(&self.bf_info(key)?))
    }

    /// BF.CARD: items added; 0 for a missing key.
    pub fn bf_card(&self, key: impl AsRef<[u8]>) -> Result<u64> {
        let key = key.as_ref();
        self.with_key(key, |db| db.bf_card(key))
    }

    /// BF.DEBUG: `size:<items>` then, per sub-filter, `bytes:.. bits:.. hashes:..
    /// hashwidth:64 capacity:.. size:.. ratio:..`.
    pub fn bf_debug(&self, key: impl AsRef<[u8]>) -> Result<Vec<String>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.bf_debug(key))
    }

    /// BF.SCANDUMP: iterator 0 gives `(1, header)`, then each `(next, chunk)` of the bit
    /// arrays until `(0, [])`. Feed every pair to [`bf_loadchunk`](Self::bf_loadchunk) as is.
    ///
    /// ```
    /// use sketchstore::Store;
    /// let store = Store::new();
    /// store.bf_add("a", "x").unwrap();
    /// let mut iter = 0;
    /// loop {
    ///     let (next, chunk) = store.bf_scandump("a", iter).unwrap();
    ///     if next == 0 {
    ///         break;
    ///     }
    ///     store.bf_loadchunk("b", next, &chunk).unwrap();
    ///     iter = next;
    /// }
    /// assert!(store.bf_exists("b", "x").unwrap());
    /// ```
    pub fn bf_scandump(&self, key: impl AsRef<[u8]>, iter: i64) -> Result<(i64, Vec<u8>)> {
        let key = key.as_ref();
        self.with_key(key, |db| db.bf_scandump(key, iter))
    }

    /// BF.LOADCHUNK: iterator 1 with a header creates a missing key; the other pairs from
    /// BF.SCANDUMP fill it. `ERR received bad data` (and nothing changes) for an invalid
    /// header, a header past [`Config::bloom_max_bytes`](super::Config::bloom_max_bytes), or
    /// a misplaced chunk.
    pub fn bf_loadchunk(
        &self,
        key: impl AsRef<[u8]>,
        iter: i64,
        data: impl AsRef<[u8]>,
    ) -> Result<()> {
        self.check_memory(true)?;
        let (key, data) = (key.as_ref(), data.as_ref());
        self.with_key(key, |db| db.bf_loadchunk(key, iter, data))
    }
}

#[cfg(test)]
mod tests {
    use super::format_g;

    #[test]
    fn format_g_matches_printf() {
        let table = [
            (0.005, "0.005"),
            (0.0025, "0.0025"),
            (0.00125, "0.00125"),
            (0.000625, "0.000625"),
            (0.0005, "0.0005"),
            (0.05, "0.05"),
            (0.5, "0.5"),
            (1e-5, "1e-05"),
            (3.0517578125e-05, "3.05176e-05"),
            (0.0001, "0.0001"),
            (0.00009999999, "0.0001"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (999999.5, "1e+06"),
            (1e-300, "1e-300"),
            (0.0, "0"),
        ];
        for (x, want) in table {
            assert_eq!(format_g(x), want, "{x}");
        }
    }
}
