//! RedisBloom's count-min sketch (`CMS.*`): same dimensions, hashing, saturation and merge
//! checks, so counts equal RedisBloom 2.8's for the same operations.
//!
//! # Design
//!
//! - `depth` rows of `width` 32-bit counters. Row `i` counts an item in column
//!   `MurmurHash2(item, seed i) % width`; a query answers the smallest of the item's `depth`
//!   counters. Cost: `depth` hashes per item and operation.
//! - Counters saturate at `u32::MAX` instead of wrapping, and an increment that leaves the
//!   item's minimum at `u32::MAX` is reported as an overflow (the counters stay saturated),
//!   as RedisBloom does. The total `count` is a 64-bit wrapping sum, also as RedisBloom.
//! - A merge checks every weighted cell sum and the weighted total for 64-bit overflow, and
//!   each cell for the 0..=`u32::MAX` range, before writing anything: it applies whole or not
//!   at all.
//! - Sizes are bounded: creation fails when the counters would take more than
//!   [`MAX_BYTES`].
//!
//! # Representation
//!
//! One `u32` array, row after row: the counter of row `i`, column `j` is at `i * width + j`.
//!
//! ```text
//!  row 0: [c(0,0) c(0,1) ... c(0,w-1)]
//!  row 1: [c(1,0) c(1,1) ... c(1,w-1)]
//!  ...
//! ```
//!
//! # Worked example
//!
//! `CMS.INITBYPROB s 0.001 0.01` gives `width = ceil(2 / 0.001) = 2000` and
//! `depth = ceil(log10f(0.01) / log10f(0.5)) = 7` (single-precision logarithms, as
//! RedisBloom). `CMS.INCRBY s a 3` adds 3 to seven counters, one per row, and replies 3;
//! `CMS.QUERY s a` then replies 3 unless another item shares a column with `a` in every row.
//!
//! # Accuracy
//!
//! A query never under-counts (property `never_undercounts`). With `width = ceil(2 / e)` the
//! over-count exceeds `e * count` with probability at most `0.5^depth`; `init_by_prob` picks
//! `depth` so that this is at most the requested probability.
//!
//! # References
//!
//! RedisBloom 2.8 `src/cms.c` (sketch, merge checks) and `src/rm_cms.c` (commands and their
//! errors); G. Cormode, S. Muthukrishnan, "An Improved Data Stream Summary: The Count-Min
//! Sketch and its Applications" (2005).

use std::fmt;

use serde::de;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::cuckoo::Blob;
use super::murmur::murmurhash2;

/// Largest counter array a sketch may have (512 MiB of counters).
pub const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// What can fail. `Display` is RedisBloom's exact reply text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmsError {
    /// Width under 1.
    InvalidWidth,
    /// Depth under 1.
    InvalidDepth,
    /// Error rate outside (0, 1).
    InvalidOverestimation,
    /// Probability outside (0, 1).
    InvalidProb,
    /// Counters over [`MAX_BYTES`] or refused by the allocator (RedisBloom 2.8.x before the
    /// check was added aborted instead; later 2.8 releases reply this text).
    TooLarge,
    /// The item's count reached `u32::MAX`.
    IncrByOverflow,
    /// A merge source with other dimensions than the destination.
    DimensionMismatch,
    /// A merged cell or total leaves its range.
    MergeOverflow,
}

impl fmt::Display for CmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmsError::InvalidWidth => "CMS: invalid width",
            CmsError::InvalidDepth => "CMS: invalid depth",
            CmsError::InvalidOverestimation => "CMS: invalid overestimation value",
            CmsError::InvalidProb => "CMS: invalid prob value",
            CmsError::TooLarge => "CMS: Insufficient memory to create the key",
            CmsError::IncrByOverflow => "CMS: INCRBY overflow",
            CmsError::DimensionMismatch => "CMS: width/depth is not equal",
            CmsError::MergeOverflow => "CMS: MERGE overflow",
        })
    }
}

impl std::error::Error for CmsError {}

/// `CMS.INFO` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmsInfo {
    /// Counters per row.
    pub width: u64,
    /// Rows.
    pub depth: u64,
    /// Sum of all increments.
    pub count: u64,
}

/// One source of [`CountMinSketch::merge`].
#[derive(Clone, Copy, Debug)]
pub enum MergeSource<'a> {
    /// The destination's own counters (before the merge), times a weight.
    Dest(i64),
    /// Another sketch, times a weight.
    Other(&'a CountMinSketch, i64),
}

/// A RedisBloom count-min sketch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountMinSketch {
    width: usize,
    depth: usize,
    count: u64,
    cells: Box<[u32]>,
}

/// `width` and `depth` for an over-estimation `error` with probability `prob`, as RedisBloom
/// computes them: `ceil(2 / error)` and `ceil(log10f(prob) / log10f(0.5))` in single
/// precision. Errors outside (0, 1).
pub fn dims_from_prob(error: f64, prob: f64) -> Result<(f64, f64), CmsError> {
    if !(error > 0.0 && error < 1.0) {
        return Err(CmsError::InvalidOverestimation);
    }
    if !(prob > 0.0 && prob < 1.0) {
        return Err(CmsError::InvalidProb);
    }
    let width = (2.0 / error).ceil();
    let depth = f64::from((prob as f32).log10() / 0.5f32.log10()).ceil();
    Ok((width, depth))
}

impl CountMinSketch {
    /// `CMS.INITBYDIM`.
    pub fn init_by_dim(width: i64, depth: i64) -> Result<CountMinSketch, CmsError> {
        if width < 1 {
            return Err(CmsError::InvalidWidth);
        }
        if depth < 1 {
            return Err(CmsError::InvalidDepth);
        }
        Self::with_dims(width as u64, depth as u64)
    }

    /// `CMS.INITBYPROB`.
    pub fn init_by_prob(error: f64, prob: f64) -> Result<CountMinSketch, CmsError> {
        let (w, d) = dims_from_prob(error, prob)?;
        let cells = (MAX_BYTES / 4) as f64;
        if w > cells || d > cells {
            return Err(CmsError::TooLarge);
        }
        Self::with_dims(w as u64, d as u64)
    }

    fn with_dims(width: u64, depth: u64) -> Result<CountMinSketch, CmsError> {
        let n = width
            .checked_mul(depth)
            .filter(|n| n.checked_mul(4).is_some_and(|b| b <= MAX_BYTES))
            .ok_or(CmsError::TooLarge)?;
        let n = usize::try_from(n).map_err(|_| CmsError::TooLarge)?;
        let mut v = Vec::new();
        v.try_reserve_exact(n).map_err(|_| CmsError::TooLarge)?;
        v.resize(n, 0u32);
        Ok(CountMinSketch {
            width: width as usize,
            depth: depth as usize,
            count: 0,
            cells: v.into_boxed_slice(),
        })
    }

    #[inline]
    fn index(&self, item: &[u8], row: usize) -> usize {
        let h = murmurhash2(item, row as u32) as usize;
        h % self.width + row * self.width
    }

    /// `CMS.INCRBY` for one item: adds `value` to its counter in every row (saturating) and
    /// returns the item's new estimate. [`CmsError::IncrByOverflow`] when that estimate is
    /// `u32::MAX`; the counters and the total are updated either way.
    pub fn incrby(&mut self, item: &[u8], value: u64) -> Result<u32, CmsError> {
        let mut min = u32::MAX;
        for row in 0..self.depth {
            let at = self.index(item, row);
            if let Some(c) = self.cells.get_mut(at) {
                // RedisBloom adds modulo 2^32 and saturates when the result is below the
                // increment, so any increment of 2^32 or more saturates.
                let sum = (*c).wrapping_add(value as u32);
                *c = if u64::from(sum) < value {
                    u32::MAX
                } else {
                    sum
                };
                min = min.min(*c);
            }
        }
        self.count = self.count.wrapping_add(value);
        if min == u32::MAX {
            Err(CmsError::IncrByOverflow)
        } else {
            Ok(min)
        }
    }

    /// `CMS.QUERY` for one item: the smallest of its counters.
    pub fn query(&self, item: &[u8]) -> u32 {
        (0..self.depth)
            .filter_map(|row| self.cells.get(self.index(item, row)).copied())
            .min()
            .unwrap_or(u32::MAX)
    }

    /// `CMS.MERGE`: replaces the counters with the weighted sum of the sources' and the total
    /// with the weighted sum of theirs. Nothing changes on an error.
    pub fn merge(&mut self, sources: &[MergeSource<'_>]) -> Result<(), CmsError> {
        for s in sources {
            if let MergeSource::Other(o, _) = s {
                if o.width != self.width || o.depth != self.depth {
                    return Err(CmsError::DimensionMismatch);
                }
            }
        }
        let parts: Vec<(&[u32], u64, i64)> = sources
            .iter()
            .map(|s| match *s {
                MergeSource::Dest(w) => (&self.cells[..], self.count, w),
                MergeSource::Other(o, w) => (&o.cells[..], o.count, w),
            })
            .collect();
        let mut merged = Vec::new();
        merged
            .try_reserve_exact(self.cells.len())
            .map_err(|_| CmsError::TooLarge)?;
        for at in 0..self.cells.len() {
            let mut sum: i64 = 0;
            for &(cells, _, w) in &parts {
                let c = i64::from(cells.get(at).copied().unwrap_or(0));
                sum = c
                    .checked_mul(w)
                    .and_then(|m| sum.checked_add(m))
                    .ok_or(CmsError::MergeOverflow)?;
            }
            merged.push(u32::try_from(sum).map_err(|_| CmsError::MergeOverflow)?);
        }
        let mut total: i64 = 0;
        for &(_, count, w) in &parts {
            // RedisBloom multiplies the unsigned total by the weight into a signed 64-bit
            // product: the exact product must fit.
            total = i128::from(count)
                .checked_mul(i128::from(w))
                .and_then(|m| i64::try_from(m).ok())
                .and_then(|m| total.checked_add(m))
                .ok_or(CmsError::MergeOverflow)?;
        }
        if total < 0 {
            return Err(CmsError::MergeOverflow);
        }
        self.cells = merged.into_boxed_slice();
        self.count = total as u64;
        Ok(())
    }

    /// A sketch from its dimensions, total and counters (little-endian `u32`s, row after
    /// row), as persisted. The dimensions must be at least 1, within [`MAX_BYTES`], and
    /// filled exactly by `cells_le`; they are checked before anything is allocated.
    pub fn from_parts(
        width: u64,
        depth: u64,
        count: u64,
        cells_le: &[u8],
    ) -> Result<CountMinSketch, CmsError> {
        if width == 0 {
            return Err(CmsError::InvalidWidth);
        }
        if depth == 0 {
            return Err(CmsError::InvalidDepth);
        }
        let bytes = width.checked_mul(depth).and_then(|n| n.checked_mul(4));
        if bytes != Some(cells_le.len() as u64) {
            return Err(CmsError::TooLarge);
        }
        let mut s = CountMinSketch::with_dims(width, depth)?;
        for (dst, src) in s.cells.iter_mut().zip(cells_le.chunks_exact(4)) {
            *dst = u32::from_le_bytes([src[0], src[1], src[2], src[3]]);
        }
        s.count = count;
        Ok(s)
    }

    /// `CMS.INFO`.
    pub fn info(&self) -> CmsInfo {
        CmsInfo {
            width: self.width as u64,
            depth: self.depth as u64,
            count: self.count,
        }
    }

    /// Counters per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Rows.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The counters, row after row.
    pub fn cells(&self) -> &[u32] {
        &self.cells
    }
}

/// Persisted form: width, depth, total and the counters as little-endian `u32`s, row after row.
impl Serialize for CountMinSketch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("CountMinSketch", 4)?;
        state.serialize_field("width", &(self.width as u64))?;
        state.serialize_field("depth", &(self.depth as u64))?;
        state.serialize_field("count", &self.count)?;
        let cells: Vec<u8> = self.cells.iter().flat_map(|c| c.to_le_bytes()).collect();
        state.serialize_field("cells", &Blob(cells))?;
        state.end()
    }
}

#[derive(Deserialize)]
#[serde(rename = "CountMinSketch")]
struct Persisted {
    width: u64,
    depth: u64,
    count: u64,
    cells: Blob,
}

/// Deserializing checks the dimensions (at least 1, at most [`MAX_BYTES`] of counters) and
/// that the counters fill them exactly before allocating.
impl<'de> Deserialize<'de> for CountMinSketch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let p = Persisted::deserialize(deserializer)?;
        if p.width == 0 || p.depth == 0 {
            return Err(de::Error::custom("count-min sketch with a zero dimension"));
        }
        let bytes = p.width.checked_mul(p.depth).and_then(|n| n.checked_mul(4));
        if bytes != Some(p.cells.0.len() as u64) {
            return Err(de::Error::custom(
                "count-min sketch counters do not fit its dimensions",
            ));
        }
        let mut s = CountMinSketch::with_dims(p.width, p.depth).map_err(de::Error::custom)?;
        for (dst, src) in s.cells.iter_mut().zip(p.cells.0.chunks_exact(4)) {
            *dst = u32::from_le_bytes([src[0], src[1], src[2], src[3]]);
        }
        s.count = p.count;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn prob_dims() {
        let s = CountMinSketch::init_by_prob(0.001, 0.01).unwrap();
        assert_eq!((s.width(), s.depth()), (2000, 7));
        let s = CountMinSketch::init_by_prob(0.5, 0.5).unwrap();
        assert_eq!((s.width(), s.depth()), (4, 1));
        assert_eq!(
            CountMinSketch::init_by_prob(0.0, 0.5).unwrap_err(),
            CmsError::InvalidOverestimation
        );
        assert_eq!(
            CountMinSketch::init_by_prob(0.5, 1.0).unwrap_err(),
            CmsError::InvalidProb
        );
        assert_eq!(
            CountMinSketch::init_by_prob(1e-300, 0.5).unwrap_err(),
            CmsError::TooLarge
        );
    }

    #[test]
    fn from_parts_round_trip_and_checks() {
        let mut s = CountMinSketch::init_by_dim(5, 3).unwrap();
        s.incrby(b"a", 7).unwrap();
        let le: Vec<u8> = s.cells().iter().flat_map(|c| c.to_le_bytes()).collect();
        let back = CountMinSketch::from_parts(5, 3, s.info().count, &le).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            CountMinSketch::from_parts(0, 3, 0, &[]).unwrap_err(),
            CmsError::InvalidWidth
        );
        assert_eq!(
            CountMinSketch::from_parts(5, 3, 0, &le[1..]).unwrap_err(),
            CmsError::TooLarge
        );
        assert_eq!(
            CountMinSketch::from_parts(u64::MAX, 3, 0, &le).unwrap_err(),
            CmsError::TooLarge
        );
    }

    #[test]
    fn dims_errors() {
        assert_eq!(
            CountMinSketch::init_by_dim(0, 1).unwrap_err(),
            CmsError::InvalidWidth
        );
        assert_eq!(
            CountMinSketch::init_by_dim(1, 0).unwrap_err(),
            CmsError::InvalidDepth
        );
        assert_eq!(
            CountMinSketch::init_by_dim(100_000_000_000, 100_000).unwrap_err(),
            CmsError::TooLarge
        );
        assert_eq!(CmsError::InvalidWidth.to_string(), "CMS: invalid width");
    }

    #[test]
    fn saturation() {
        let mut s = CountMinSketch::init_by_dim(10, 3).unwrap();
        assert_eq!(s.incrby(b"a", 5), Ok(5));
        assert_eq!(
            s.incrby(b"a", u64::from(u32::MAX)),
            Err(CmsError::IncrByOverflow)
        );
        assert_eq!(s.query(b"a"), u32::MAX);
        assert_eq!(s.incrby(b"a", 0), Err(CmsError::IncrByOverflow));
        assert_eq!(s.info().count, 5 + u64::from(u32::MAX));
        let mut t = CountMinSketch::init_by_dim(10, 3).unwrap();
        assert_eq!(t.incrby(b"b", 1 << 33), Err(CmsError::IncrByOverflow));
    }

    #[test]
    fn merge_weights_and_errors() {
        let mut a = CountMinSketch::init_by_dim(50, 4).unwrap();
        let mut b = CountMinSketch::init_by_dim(50, 4).unwrap();
        a.incrby(b"x", 3).unwrap();
        b.incrby(b"x", 2).unwrap();
        let mut d = CountMinSketch::init_by_dim(50, 4).unwrap();
        d.merge(&[MergeSource::Other(&a, 2), MergeSource::Other(&b, 5)])
            .unwrap();
        assert_eq!(d.query(b"x"), 16);
        assert_eq!(d.info().count, 16);
        d.merge(&[MergeSource::Dest(1), MergeSource::Other(&a, 1)])
            .unwrap();
        assert_eq!(d.query(b"x"), 19);
        let before = d.clone();
        assert_eq!(
            d.merge(&[MergeSource::Other(&a, -1)]),
            Err(CmsError::MergeOverflow)
        );
        assert_eq!(d, before);
        let other = CountMinSketch::init_by_dim(51, 4).unwrap();
        assert_eq!(
            d.merge(&[MergeSource::Other(&other, 1)]),
            Err(CmsError::DimensionMismatch)
        );
    }

    #[test]
    fn serde_roundtrip_and_rejects() {
        let mut s = CountMinSketch::init_by_dim(30, 4).unwrap();
        for i in 0..100u32 {
            s.incrby(&i.to_le_bytes(), u64::from(i)).unwrap();
        }
        let json = serde_json::to_string(&s).unwrap();
        let back: CountMinSketch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["width"] = 31.into();
        assert!(serde_json::from_value::<CountMinSketch>(v.clone()).is_err());
        v["width"] = 0.into();
        assert!(serde_json::from_value::<CountMinSketch>(v).is_err());
    }

    proptest! {
        #[test]
        fn never_undercounts(ops in proptest::collection::vec((0u8..40, 0u64..1000), 1..200),
                             width in 1i64..64, depth in 1i64..6) {
            let mut s = CountMinSketch::init_by_dim(width, depth).unwrap();
            let mut truth = std::collections::HashMap::new();
            for (item, v) in &ops {
                s.incrby(&[*item], *v).unwrap();
                *truth.entry(*item).or_insert(0u64) += v;
            }
            for (item, n) in truth {
                prop_assert!(u64::from(s.query(&[item])) >= n);
            }
        }
    }
}
