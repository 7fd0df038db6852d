//! RedisBloom's t-digest (`TDIGEST.*`): a merging digest whose quantile, CDF, rank and
//! trimmed-mean answers equal RedisBloom's bit for bit for the same inputs.
//!
//! # Design
//!
//! - One array of centroids, `(mean, weight)` pairs: a merged, sorted prefix followed by a
//!   buffer of unmerged points in arrival order. `add` appends to the buffer; when the array
//!   would reach `capacity - 1` nodes the whole array is sorted and merged (a "compression").
//!   Cost: the array is bounded by the capacity, `6 * compression + 10` nodes.
//! - Every step follows RedisBloom's t-digest-c 0.4 in its f64 operation order: the sort is
//!   its quicksort (Lomuto partition, middle pivot, unstable, so equal means keep the order
//!   that sort leaves them in), the merge uses the `q (1 - q)` size bound with normalizer
//!   `compression / (2 pi W ln W)`, and the interpolations are term for term the same.
//!   Cost: quirks are kept too. A digest holding total weight 1 sorts but never merges, so
//!   quantiles and CDFs of a one-sample digest are NaN and its ranks are `i64::MIN` (C's
//!   conversion of NaN to `long long` on x86-64), exactly as RedisBloom replies.
//! - Reads that RedisBloom answers after compressing (quantile, CDF, rank, by-rank, trimmed
//!   mean, merge sources) take `&mut self` and compress, so `info` afterwards shows the same
//!   node counts and compression count as `TDIGEST.INFO` does.
//! - The sort is iterative with an explicit range stack: RedisBloom's recursion is as deep as
//!   the array on sorted or equal input, which in Rust would be a stack overflow.
//! - Capacity is bounded: a compression above [`MAX_COMPRESSION`] fails with
//!   `ERR T-Digest: allocation failed` instead of allocating (RedisBloom only refuses sizes
//!   that overflow `size_t`). The node arrays grow with use up to the capacity; `Memory usage`
//!   reports RedisBloom's figure for the full capacity.
//! - Serde persists the fields as they are (buffer included, unlike RedisBloom's RDB, which
//!   compresses first, so a reload changes nothing observable); loading validates them.
//!
//! # Representation
//!
//! ```text
//!  means:   [ m0 <= m1 <= ... <= m(M-1) | u0  u1  ...  u(U-1) ]    M merged, U unmerged
//!  weights: [ w0    w1    ...    w(M-1) | 1   1   ...  (merged-in centroid weights) ]
//!           len = M + U <= capacity = 6 * compression + 10
//!  merged_weight = sum w0..w(M-1), unmerged_weight = sum of the buffer's weights
//!  min, max: extremes of every value ever added (f64::MAX and -f64::MAX when empty)
//! ```
//!
//! # Worked example
//!
//! `TDIGEST.CREATE t COMPRESSION 100` (capacity 610), `TDIGEST.ADD t 1 2 3 4 5 6 7 8 9 10`:
//! ten unmerged nodes. `TDIGEST.QUANTILE t 0.5` compresses: total weight 10, normalizer
//! `100 / (2 pi 10 ln 10) = 0.6912`; merging two unit points needs `2 * 0.6912 <= q (1 - q)`,
//! which never holds, so ten singleton centroids remain (`Merged nodes 10`,
//! `Total compressions 1`). Index `0.5 * 10 = 5` falls between the singletons 5 and 6 at
//! `weightSoFar + dw - index = 0.5`, so the answer is `6`. `TDIGEST.CDF t 5` finds a
//! centroid exactly at 5 and counts half of it: `(4 + 0.5) / 10 = 0.45`, so
//! `TDIGEST.RANK t 5` is `4.5` rounded half toward zero, `4`.
//!
//! # Accuracy
//!
//! The `q (1 - q)` bound keeps centroids near the tails small, so extreme quantiles are more
//! accurate than central ones. `quantile_error_uniform_and_exponential` adds 100,000 seeded
//! samples at compression 100 and asks for q = 0.001 .. 0.999: the worst distance between
//! q and the sample's rank range of the answer was 0.0073 (uniform) and 0.0101
//! (exponential), both in the middle; the test allows 0.015. The proptest
//! `quantiles_monotone_and_bounded` checks that for `q * N >= 1` answers stay within
//! `[min, max]` and never decrease in `q`. (Below one observation's weight the sweep
//! extrapolates, and with a first centroid of weight 2 divides by zero: RedisBloom replies
//! `-inf` or `-nan` there, and so does this type.)
//!
//! Cost to know: the sort is quadratic on runs of equal means (every partition puts only the
//! pivot in place). A compression sorts at most `capacity` nodes, so with the default
//! compression that is a few hundred thousand comparisons, but at very large compressions a
//! stream of one repeated value is slow, as it is in RedisBloom.
//!
//! # References
//!
//! - RedisBloom 2.8 `src/rm_tdigest.c` (commands, argument checks, error texts, the rank
//!   rounding) and `deps/t-digest-c/src/tdigest.c` (t-digest-c 0.4: the digest itself).
//! - T. Dunning, O. Ertl, "Computing Extremely Accurate Quantiles Using t-Digests" (2019).

use std::f64::consts::PI;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Compression of `TDIGEST.CREATE` without `COMPRESSION`.
pub const DEFAULT_COMPRESSION: i64 = 100;
/// Largest accepted compression: capacity `6 * 5_592_400 + 10` nodes of 16 bytes is just
/// under 512 MiB. Above it creation fails with [`TDigestError::AllocationFailed`].
pub const MAX_COMPRESSION: i64 = 5_592_400;

/// What can fail with a t-digest. `Display` is RedisBloom's exact reply text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TDigestError {
    /// `ERR T-Digest: key does not exist`.
    KeyDoesNotExist,
    /// `ERR T-Digest: key already exists`.
    KeyExists,
    /// A compression that is not an integer: `ERR T-Digest: error parsing compression parameter`.
    ParseCompression,
    /// `ERR T-Digest: compression parameter needs to be a positive integer`.
    CompressionNotPositive,
    /// An unknown option: `ERR T-Digest: wrong keyword`.
    WrongKeyword,
    /// The node arrays cannot be allocated (compression above [`MAX_COMPRESSION`]):
    /// `ERR T-Digest: allocation failed`.
    AllocationFailed,
    /// A merge destination that cannot be allocated:
    /// `ERR T-Digest: allocation of destination digest failed`.
    DestinationAllocationFailed,
    /// A value that is not a number, or NaN: `ERR T-Digest: error parsing val parameter`.
    ParseVal,
    /// An infinite value: `ERR T-Digest: val parameter needs to be a finite number`.
    ValNotFinite,
    /// A weight sum past `i64` or an infinite normalizer: `ERR T-Digest: overflow detected`.
    Overflow,
    /// `ERR T-Digest: error parsing numkeys`.
    ParseNumkeys,
    /// `ERR T-Digest: numkeys needs to be a positive integer`.
    NumkeysNotPositive,
    /// `ERR T-Digest: error parsing quantile`.
    ParseQuantile,
    /// `ERR T-Digest: quantile should be in [0,1]`.
    QuantileOutOfRange,
    /// `ERR T-Digest: error parsing cdf`.
    ParseCdf,
    /// A rank/revrank value that is not a number, or NaN: `ERR T-Digest: error parsing value`.
    ParseValue,
    /// `ERR T-Digest: error parsing rank`.
    ParseRank,
    /// `ERR T-Digest: rank needs to be non negative`.
    RankNegative,
    /// `ERR T-Digest: error parsing low_cut_percentile`.
    ParseLowCut,
    /// `ERR T-Digest: error parsing high_cut_percentile`.
    ParseHighCut,
    /// `ERR T-Digest: low_cut_percentile and high_cut_percentile should be in [0,1]`.
    CutOutOfRange,
    /// `ERR T-Digest: low_cut_percentile should be lower than high_cut_percentile`.
    CutsNotOrdered,
}

impl fmt::Display for TDigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TDigestError::KeyDoesNotExist => "ERR T-Digest: key does not exist",
            TDigestError::KeyExists => "ERR T-Digest: key already exists",
            TDigestError::ParseCompression => "ERR T-Digest: error parsing compression parameter",
            TDigestError::CompressionNotPositive => {
                "ERR T-Digest: compression parameter needs to be a positive integer"
            }
            TDigestError::WrongKeyword => "ERR T-Digest: wrong keyword",
            TDigestError::AllocationFailed => "ERR T-Digest: allocation failed",
            TDigestError::DestinationAllocationFailed => {
                "ERR T-Digest: allocation of destination digest failed"
            }
            TDigestError::ParseVal => "ERR T-Digest: error parsing val parameter",
            TDigestError::ValNotFinite => "ERR T-Digest: val parameter needs to be a finite number",
            TDigestError::Overflow => "ERR T-Digest: overflow detected",
            TDigestError::ParseNumkeys => "ERR T-Digest: error parsing numkeys",
            TDigestError::NumkeysNotPositive => {
                "ERR T-Digest: numkeys needs to be a positive integer"
            }
            TDigestError::ParseQuantile => "ERR T-Digest: error parsing quantile",
            TDigestError::QuantileOutOfRange => "ERR T-Digest: quantile should be in [0,1]",
            TDigestError::ParseCdf => "ERR T-Digest: error parsing cdf",
            TDigestError::ParseValue => "ERR T-Digest: error parsing value",
            TDigestError::ParseRank => "ERR T-Digest: error parsing rank",
            TDigestError::RankNegative => "ERR T-Digest: rank needs to be non negative",
            TDigestError::ParseLowCut => "ERR T-Digest: error parsing low_cut_percentile",
            TDigestError::ParseHighCut => "ERR T-Digest: error parsing high_cut_percentile",
            TDigestError::CutOutOfRange => {
                "ERR T-Digest: low_cut_percentile and high_cut_percentile should be in [0,1]"
            }
            TDigestError::CutsNotOrdered => {
                "ERR T-Digest: low_cut_percentile should be lower than high_cut_percentile"
            }
        })
    }
}

impl std::error::Error for TDigestError {}

/// `TDIGEST.INFO`, field for field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TDigestInfo {
    /// `Compression`.
    pub compression: i64,
    /// `Capacity`: node slots, `6 * compression + 10`.
    pub capacity: i64,
    /// `Merged nodes`.
    pub merged_nodes: i64,
    /// `Unmerged nodes`.
    pub unmerged_nodes: i64,
    /// `Merged weight`.
    pub merged_weight: i64,
    /// `Unmerged weight`.
    pub unmerged_weight: i64,
    /// `Observations`: merged plus unmerged weight.
    pub observations: i64,
    /// `Total compressions`.
    pub total_compressions: i64,
    /// `Memory usage`: RedisBloom's figure, a pointer plus two arrays of `capacity` 8-byte
    /// slots.
    pub memory_usage: i64,
}

/// A t-digest. See the module documentation. Serialized as its fields; deserializing checks
/// every invariant (sizes, weight sums, finite means) so a damaged value is an error, never a
/// panic later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "TDigestRepr", try_from = "TDigestRepr")]
pub struct TDigest {
    /// Kept as the f64 RedisBloom stores; always a positive integer value.
    compression: f64,
    min: f64,
    max: f64,
    capacity: usize,
    merged_nodes: usize,
    total_compressions: i64,
    merged_weight: i64,
    unmerged_weight: i64,
    /// Invariant: `means.len() == weights.len() <= capacity`; the first `merged_nodes` are the
    /// merged centroids, the rest the buffer.
    means: Vec<f64>,
    weights: Vec<i64>,
}

/// The persisted form of a [`TDigest`].
#[derive(Clone, Serialize, Deserialize)]
struct TDigestRepr {
    compression: i64,
    min: f64,
    max: f64,
    merged_nodes: u64,
    total_compressions: i64,
    merged_weight: i64,
    unmerged_weight: i64,
    means: Vec<f64>,
    weights: Vec<i64>,
}

impl From<TDigest> for TDigestRepr {
    fn from(t: TDigest) -> Self {
        TDigestRepr {
            compression: t.compression as i64,
            min: t.min,
            max: t.max,
            merged_nodes: t.merged_nodes as u64,
            total_compressions: t.total_compressions,
            merged_weight: t.merged_weight,
            unmerged_weight: t.unmerged_weight,
            means: t.means,
            weights: t.weights,
        }
    }
}

impl TryFrom<TDigestRepr> for TDigest {
    type Error = String;

    fn try_from(r: TDigestRepr) -> Result<Self, String> {
        let mut t = TDigest::create(r.compression).map_err(|e| e.to_string())?;
        let merged = usize::try_from(r.merged_nodes).map_err(|_| "merged nodes too large")?;
        if r.means.len() != r.weights.len() || r.means.len() > t.capacity {
            return Err("t-digest node arrays do not match its capacity".into());
        }
        if merged > r.means.len() {
            return Err("t-digest merged nodes past its nodes".into());
        }
        if r.means.iter().any(|m| !m.is_finite()) || r.weights.iter().any(|&w| w < 1) {
            return Err("t-digest node with a non-finite mean or a weight below 1".into());
        }
        let sum = |ws: &[i64]| ws.iter().try_fold(0i64, |acc, &w| acc.checked_add(w));
        let merged_sum = sum(&r.weights[..merged]);
        let unmerged_sum = sum(&r.weights[merged..]);
        if merged_sum != Some(r.merged_weight)
            || unmerged_sum != Some(r.unmerged_weight)
            || r.merged_weight.checked_add(r.unmerged_weight).is_none()
        {
            return Err("t-digest weights do not add up".into());
        }
        if r.total_compressions < 0 {
            return Err("t-digest compression count is negative".into());
        }
        t.min = r.min;
        t.max = r.max;
        t.merged_nodes = merged;
        t.total_compressions = r.total_compressions;
        t.merged_weight = r.merged_weight;
        t.unmerged_weight = r.unmerged_weight;
        t.means = r.means;
        t.weights = r.weights;
        Ok(t)
    }
}

/// The C `__td_max` macro: `x > y ? x : y` (NaN handling differs from `f64::max`).
#[inline]
fn c_max(x: f64, y: f64) -> f64 {
    if x > y {
        x
    } else {
        y
    }
}

/// The C `__td_min` macro: `x < y ? x : y`.
#[inline]
fn c_min(x: f64, y: f64) -> f64 {
    if x < y {
        x
    } else {
        y
    }
}

/// C's `(long long)` conversion as x86-64 performs it: NaN and out-of-range values become
/// `i64::MIN`.
fn c_llong(x: f64) -> i64 {
    // 2^63 is exactly representable; anything at or past it does not fit. NaN is in no range.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

fn weighted_average_sorted(x1: f64, w1: f64, x2: f64, w2: f64) -> f64 {
    let x = (x1 * w1 + x2 * w2) / (w1 + w2);
    c_max(x1, c_min(x, x2))
}

fn weighted_average(x1: f64, w1: f64, x2: f64, w2: f64) -> f64 {
    if x1 <= x2 {
        weighted_average_sorted(x1, w1, x2, w2)
    } else {
        weighted_average_sorted(x2, w2, x1, w1)
    }
}

/// `a + b` does not overflow `i64`, by t-digest-c's test (which for negative `b` is looser
/// than exact, kept as is).
fn add_safe(a: i64, b: i64) -> bool {
    if b < 0 {
        a >= i64::MAX.wrapping_sub(b)
    } else {
        a <= i64::MAX - b
    }
}

/// RedisBloom's rounding for `TDIGEST.RANK`: halves round toward zero.
fn half_round_down(f: f64) -> f64 {
    let int_part = f.trunc();
    let frac = if f.is_infinite() { 0.0 } else { f - int_part };
    if frac.abs() <= 0.5 {
        int_part
    } else if int_part >= 0.0 {
        int_part + 1.0
    } else {
        int_part - 1.0
    }
}

/// Lomuto partition of `means[start..=end]` around `means[pivot]`, moving `weights` along.
fn partition(
    means: &mut [f64],
    weights: &mut [i64],
    start: usize,
    end: usize,
    pivot: usize,
) -> usize {
    let pivot_mean = means[pivot];
    means.swap(pivot, end);
    weights.swap(pivot, end);
    // `store` is one past the last element known smaller than the pivot.
    let mut store = start;
    for j in start..end {
        if means[j] < pivot_mean {
            means.swap(store, j);
            weights.swap(store, j);
            store += 1;
        }
    }
    means.swap(store, end);
    weights.swap(store, end);
    store
}

/// t-digest-c's quicksort of the parallel arrays, iteratively. Ranges on the stack are
/// disjoint, so the order in which they are processed does not change the result.
fn sort_nodes(means: &mut [f64], weights: &mut [i64]) {
    if means.len() < 2 {
        return;
    }
    let mut stack = vec![(0usize, means.len() - 1)];
    while let Some((start, end)) = stack.pop() {
        if start >= end {
            continue;
        }
        if end - start == 1 {
            if means[start] > means[end] {
                means.swap(start, end);
                weights.swap(start, end);
            }
            continue;
        }
        let pivot = start + (end - start) / 2;
        let p = partition(means, weights, start, end, pivot);
        if p > start {
            stack.push((start, p - 1));
        }
        stack.push((p + 1, end));
    }
}

impl TDigest {
    /// `TDIGEST.CREATE key COMPRESSION compression`.
    pub fn create(compression: i64) -> Result<TDigest, TDigestError> {
        if compression <= 0 {
            return Err(TDigestError::CompressionNotPositive);
        }
        if compression > MAX_COMPRESSION {
            return Err(TDigestError::AllocationFailed);
        }
        let capacity =
            usize::try_from(6 * compression + 10).map_err(|_| TDigestError::AllocationFailed)?;
        Ok(TDigest {
            compression: compression as f64,
            min: f64::MAX,
            max: -f64::MAX,
            capacity,
            merged_nodes: 0,
            total_compressions: 0,
            merged_weight: 0,
            unmerged_weight: 0,
            means: Vec::new(),
            weights: Vec::new(),
        })
    }

    /// `TDIGEST.RESET`: empty, same compression and capacity.
    pub fn reset(&mut self) {
        self.min = f64::MAX;
        self.max = -f64::MAX;
        self.merged_nodes = 0;
        self.merged_weight = 0;
        self.unmerged_weight = 0;
        self.total_compressions = 0;
        self.means.clear();
        self.weights.clear();
    }

    /// `TDIGEST.ADD`: every value is checked before any is added; an overflow part way leaves
    /// the values before it added, as in RedisBloom.
    pub fn add(&mut self, values: &[f64]) -> Result<(), TDigestError> {
        for v in values {
            if v.is_nan() {
                return Err(TDigestError::ParseVal);
            }
            if v.is_infinite() {
                return Err(TDigestError::ValNotFinite);
            }
        }
        for &v in values {
            self.add_weighted(v, 1)?;
        }
        Ok(())
    }

    /// t-digest-c's `td_add`: one centroid into the buffer, compressing first if the array is
    /// nearly full.
    fn add_weighted(&mut self, mean: f64, weight: i64) -> Result<(), TDigestError> {
        if self.means.len() + 1 >= self.capacity {
            self.compress()?;
        }
        if self.means.len() >= self.capacity {
            return Err(TDigestError::Overflow);
        }
        if !add_safe(self.unmerged_weight, weight) {
            return Err(TDigestError::Overflow);
        }
        let new_unmerged = self.unmerged_weight + weight;
        if !add_safe(new_unmerged, self.merged_weight) {
            return Err(TDigestError::Overflow);
        }
        let new_total = new_unmerged + self.merged_weight;
        check_overflow(new_unmerged as f64, new_total as f64)?;
        if mean < self.min {
            self.min = mean;
        }
        if mean > self.max {
            self.max = mean;
        }
        self.means.push(mean);
        self.weights.push(weight);
        self.unmerged_weight = new_unmerged;
        Ok(())
    }

    /// Sorts the whole array and merges neighbours under the size bound. A digest of total
    /// weight at most 1 is sorted but left unmerged (t-digest-c's early return).
    pub fn compress(&mut self) -> Result<(), TDigestError> {
        if self.means.len() == self.merged_nodes {
            return Ok(());
        }
        sort_nodes(&mut self.means, &mut self.weights);
        let total = self.merged_weight as f64 + self.unmerged_weight as f64;
        check_overflow(self.unmerged_weight as f64, total)?;
        if total <= 1.0 {
            return Ok(());
        }
        let denom = 2.0 * PI * total * total.ln();
        if denom == f64::INFINITY {
            return Err(TDigestError::Overflow);
        }
        let normalizer = self.compression / denom;
        if normalizer == f64::INFINITY {
            return Err(TDigestError::Overflow);
        }
        let n = self.means.len();
        let mut cur = 0usize;
        let mut weight_so_far = 0.0f64;
        for i in 1..n {
            let proposed = self.weights[cur] as f64 + self.weights[i] as f64;
            let z = proposed * normalizer;
            let q0 = weight_so_far / total;
            let q2 = (weight_so_far + proposed) / total;
            if z <= q0 * (1.0 - q0) && z <= q2 * (1.0 - q2) {
                self.weights[cur] += self.weights[i];
                let delta = self.means[i] - self.means[cur];
                let weighted_delta = (delta * self.weights[i] as f64) / self.weights[cur] as f64;
                self.means[cur] += weighted_delta;
            } else {
                weight_so_far += self.weights[cur] as f64;
                cur += 1;
                self.weights[cur] = self.weights[i];
                self.means[cur] = self.means[i];
            }
        }
        self.means.truncate(cur + 1);
        self.weights.truncate(cur + 1);
        self.merged_nodes = cur + 1;
        self.merged_weight = total as i64;
        self.unmerged_weight = 0;
        self.total_compressions += 1;
        Ok(())
    }

    /// `TDIGEST.MERGE destination numkeys source... [COMPRESSION c] [OVERRIDE]`: the new
    /// value of `destination`. `existing` is the destination's current digest, if any;
    /// `sources` in argument order (the destination may appear among them).
    ///
    /// The compression is `compression` if given; otherwise the existing destination's,
    /// unless there is none or `override_dest` is set, then the largest of the sources'.
    /// Without `override_dest` the existing destination's centroids go in first.
    ///
    /// RedisBloom compresses every source in place as a side effect; call
    /// [`TDigest::compress`] on each to mirror that (the result does not depend on it).
    pub fn merge(
        existing: Option<&TDigest>,
        sources: &[&TDigest],
        compression: Option<i64>,
        override_dest: bool,
    ) -> Result<TDigest, TDigestError> {
        let compression = match compression {
            Some(c) if c <= 0 => return Err(TDigestError::CompressionNotPositive),
            Some(c) => c,
            None => match existing {
                Some(e) if !override_dest => e.compression as i64,
                _ => sources
                    .iter()
                    .map(|s| s.compression as i64)
                    .fold(0, i64::max),
            },
        };
        let mut into =
            TDigest::create(compression).map_err(|_| TDigestError::DestinationAllocationFailed)?;
        if let Some(e) = existing {
            if !override_dest {
                // RedisBloom ignores a failure here.
                let _ = into.merge_one(e);
            }
        }
        for s in sources {
            into.merge_one(s)?;
        }
        Ok(into)
    }

    /// t-digest-c's `td_merge`: every node of `from` (compressed) added to `self`.
    fn merge_one(&mut self, from: &TDigest) -> Result<(), TDigestError> {
        self.compress()?;
        let compressed;
        let from = if from.means.len() != from.merged_nodes {
            let mut c = from.clone();
            c.compress()?;
            compressed = c;
            &compressed
        } else {
            from
        };
        for (&m, &w) in from.means.iter().zip(&from.weights) {
            self.add_weighted(m, w)?;
        }
        Ok(())
    }

    /// Total weight, merged and unmerged.
    pub fn size(&self) -> i64 {
        self.merged_weight + self.unmerged_weight
    }

    /// `TDIGEST.MIN`: NaN when empty.
    pub fn min(&self) -> f64 {
        if self.size() > 0 {
            self.min
        } else {
            f64::NAN
        }
    }

    /// `TDIGEST.MAX`: NaN when empty.
    pub fn max(&self) -> f64 {
        if self.size() > 0 {
            self.max
        } else {
            f64::NAN
        }
    }

    /// `TDIGEST.QUANTILE`: each `q` must be in `[0, 1]`. Non-decreasing runs of `q` are
    /// answered in one sweep, as RedisBloom does (its sweep skips the `index < 1` clamp of
    /// the single-quantile path, so replies can differ from [`TDigest::byrank`]'s).
    pub fn quantile(&mut self, qs: &[f64]) -> Result<Vec<f64>, TDigestError> {
        if qs.iter().any(|q| !(0.0..=1.0).contains(q)) {
            return Err(TDigestError::QuantileOutOfRange);
        }
        let mut out = Vec::with_capacity(qs.len());
        let mut i = 0;
        while i < qs.len() {
            let start = i;
            while i + 1 < qs.len() && qs[i] <= qs[i + 1] {
                i += 1;
            }
            self.quantiles_run(&qs[start..=i], &mut out);
            i += 1;
        }
        Ok(out)
    }

    /// t-digest-c's `td_quantiles` for one non-decreasing run.
    fn quantiles_run(&mut self, qs: &[f64], out: &mut Vec<f64>) {
        let _ = self.compress();
        let n = self.merged_nodes;
        if n == 0 {
            out.extend(qs.iter().map(|_| f64::NAN));
            return;
        }
        if n == 1 {
            let m = self.means[0];
            out.extend(qs.iter().map(|&q| {
                if !(0.0..=1.0).contains(&q) {
                    f64::NAN
                } else {
                    m
                }
            }));
            return;
        }
        let left_w = self.weights[0] as f64;
        let mut weight_so_far = left_w / 2.0;
        let mut pos = 0usize;
        for &q in qs {
            let index = q * self.merged_weight as f64;
            out.push(self.value_at_index(index, left_w, &mut weight_so_far, &mut pos));
        }
    }

    /// t-digest-c's `td_quantile`.
    fn quantile_one(&mut self, q: f64) -> f64 {
        let _ = self.compress();
        if !(0.0..=1.0).contains(&q) || self.merged_nodes == 0 {
            return f64::NAN;
        }
        if self.merged_nodes == 1 {
            return self.means[0];
        }
        let index = q * self.merged_weight as f64;
        if index < 1.0 {
            return self.min;
        }
        let left_w = self.weights[0] as f64;
        let mut weight_so_far = left_w / 2.0;
        let mut pos = 0usize;
        self.value_at_index(index, left_w, &mut weight_so_far, &mut pos)
    }

    /// The interpolated value at cumulative weight `index`, resuming a sweep at centroid
    /// `pos` with `weight_so_far` before it. Requires at least two merged centroids.
    fn value_at_index(
        &self,
        index: f64,
        left_w: f64,
        weight_so_far: &mut f64,
        pos: &mut usize,
    ) -> f64 {
        let n = self.merged_nodes;
        if left_w > 1.0 && index < left_w / 2.0 {
            return self.min + (index - 1.0) / (left_w / 2.0 - 1.0) * (self.means[0] - self.min);
        }
        if index > (self.merged_weight - 1) as f64 {
            return self.max;
        }
        let total = self.merged_weight as f64;
        let right_w = self.weights[n - 1] as f64;
        let right_mean = self.means[n - 1];
        if right_w > 1.0 && total - index <= right_w / 2.0 {
            return self.max
                - (total - index - 1.0) / (right_w / 2.0 - 1.0) * (self.max - right_mean);
        }
        while *pos + 1 < n {
            let i = *pos;
            let w = self.weights[i] as f64;
            let w_next = self.weights[i + 1] as f64;
            let m = self.means[i];
            let m_next = self.means[i + 1];
            let dw = (w + w_next) / 2.0;
            if *weight_so_far + dw > index {
                let mut left_unit = 0.0;
                if w == 1.0 {
                    if index - *weight_so_far < 0.5 {
                        return m;
                    }
                    left_unit = 0.5;
                }
                let mut right_unit = 0.0;
                if w_next == 1.0 {
                    if *weight_so_far + dw - index <= 0.5 {
                        return m_next;
                    }
                    right_unit = 0.5;
                }
                let z1 = index - *weight_so_far - left_unit;
                let z2 = *weight_so_far + dw - index - right_unit;
                return weighted_average(m, z2, m_next, z1);
            }
            *weight_so_far += dw;
            *pos += 1;
        }
        let z1 = index - total - right_w / 2.0;
        let z2 = right_w / 2.0 - z1;
        weighted_average(right_mean, z1, self.max, z2)
    }

    /// `TDIGEST.CDF` of one value (t-digest-c's `td_cdf`): NaN while nothing is merged.
    pub fn cdf(&mut self, val: f64) -> f64 {
        let _ = self.compress();
        let n = self.merged_nodes;
        if n == 0 {
            return f64::NAN;
        }
        if val < self.min {
            return 0.0;
        }
        if val > self.max {
            return 1.0;
        }
        if n == 1 {
            let width = self.max - self.min;
            return if val - self.min <= width {
                0.5
            } else {
                (val - self.min) / width
            };
        }
        let total = self.merged_weight as f64;
        let left_mean = self.means[0];
        let left_w = self.weights[0] as f64;
        if val < left_mean {
            let width = left_mean - self.min;
            if width > 0.0 {
                if val == self.min {
                    return 0.5 / total;
                }
                return (1.0 + (val - self.min) / width * (left_w / 2.0 - 1.0)) / total;
            }
            return 0.0;
        }
        let right_mean = self.means[n - 1];
        let right_w = self.weights[n - 1] as f64;
        if val > right_mean {
            let width = self.max - right_mean;
            if width > 0.0 {
                if val == self.max {
                    return 1.0 - 0.5 / total;
                }
                let dq = (1.0 + (self.max - val) / width * (right_w / 2.0 - 1.0)) / total;
                return 1.0 - dq;
            }
            return 1.0;
        }
        let mut weight_so_far = 0.0f64;
        let mut it = 0usize;
        while it + 1 < n {
            if self.means[it] == val {
                let mut dw = 0.0f64;
                while it < n && self.means[it] == val {
                    dw += self.weights[it] as f64;
                    it += 1;
                }
                return (weight_so_far + dw / 2.0) / total;
            } else if self.means[it] <= val && val < self.means[it + 1] {
                let w = self.weights[it] as f64;
                let w_next = self.weights[it + 1] as f64;
                let m = self.means[it];
                let m_next = self.means[it + 1];
                if m_next - m > 0.0 {
                    let mut left_excluded = 0.0;
                    let mut right_excluded = 0.0;
                    if w == 1.0 {
                        if w_next == 1.0 {
                            return (weight_so_far + 1.0) / total;
                        }
                        left_excluded = 0.5;
                    } else if w_next == 1.0 {
                        right_excluded = 0.5;
                    }
                    let dw = (w + w_next) / 2.0;
                    let dw_no_singleton = dw - left_excluded - right_excluded;
                    let base = weight_so_far + w / 2.0 + left_excluded;
                    return (base + dw_no_singleton * (val - m) / (m_next - m)) / total;
                }
                let dw = (w + w_next) / 2.0;
                return (weight_so_far + dw) / total;
            } else {
                weight_so_far += self.weights[it] as f64;
            }
            it += 1;
        }
        1.0 - 0.5 / total
    }

    /// `TDIGEST.RANK` (`reverse` false) or `TDIGEST.REVRANK` (true): -2 for an empty digest,
    /// -1 / size outside the observed range, otherwise the rounded CDF times the size.
    pub fn rank(&mut self, values: &[f64], reverse: bool) -> Result<Vec<i64>, TDigestError> {
        if values.iter().any(|v| v.is_nan()) {
            return Err(TDigestError::ParseValue);
        }
        let size = self.size() as f64;
        let (min, max) = (self.min, self.max);
        let mut out = Vec::with_capacity(values.len());
        for &v in values {
            let r = if size == 0.0 {
                -2.0
            } else if v < min {
                if reverse {
                    size
                } else {
                    -1.0
                }
            } else if v > max {
                if reverse {
                    -1.0
                } else {
                    size
                }
            } else {
                let scaled = self.cdf(v) * size;
                if reverse {
                    (size - scaled.round()).round()
                } else {
                    half_round_down(scaled)
                }
            };
            out.push(c_llong(r));
        }
        Ok(out)
    }

    /// `TDIGEST.BYRANK` (`reverse` false) or `TDIGEST.BYREVRANK` (true).
    pub fn byrank(&mut self, ranks: &[i64], reverse: bool) -> Result<Vec<f64>, TDigestError> {
        if ranks.iter().any(|&r| r < 0) {
            return Err(TDigestError::RankNegative);
        }
        let size = self.size() as f64;
        let (min, max) = (self.min, self.max);
        let mut out = Vec::with_capacity(ranks.len());
        for &r in ranks {
            let rank = r as f64;
            let v = if size == 0.0 {
                f64::NAN
            } else if rank == 0.0 {
                if reverse {
                    max
                } else {
                    min
                }
            } else if rank >= size {
                if reverse {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            } else {
                let target = if reverse { size - rank - 1.0 } else { rank };
                self.quantile_one(target / size)
            };
            out.push(v);
        }
        Ok(out)
    }

    /// `TDIGEST.TRIMMED_MEAN key low high`: the weighted mean of the centroids (or the parts
    /// of them) between the two cumulative fractions.
    pub fn trimmed_mean(&mut self, low: f64, high: f64) -> Result<f64, TDigestError> {
        if !(0.0..=1.0).contains(&low) || !(0.0..=1.0).contains(&high) {
            return Err(TDigestError::CutOutOfRange);
        }
        if low >= high {
            return Err(TDigestError::CutsNotOrdered);
        }
        let _ = self.compress();
        if self.merged_nodes == 0 {
            return Ok(f64::NAN);
        }
        if self.merged_nodes == 1 {
            return Ok(self.means[0]);
        }
        let total = self.merged_weight as f64;
        let left = (total * low).floor();
        let right = (total * high).ceil();
        let mut done = 0.0f64;
        let mut sum = 0.0f64;
        let mut count = 0.0f64;
        for i in 0..self.merged_nodes {
            let w = self.weights[i] as f64;
            let mut add = w;
            add -= c_min(c_max(0.0, left - done), add);
            add = c_min(c_max(0.0, right - done), add);
            done += w;
            sum += self.means[i] * add;
            count += add;
            if done >= right {
                break;
            }
        }
        Ok(sum / count)
    }

    /// `TDIGEST.INFO`.
    pub fn info(&self) -> TDigestInfo {
        let capacity = self.capacity as i64;
        TDigestInfo {
            compression: self.compression as i64,
            capacity,
            merged_nodes: self.merged_nodes as i64,
            unmerged_nodes: (self.means.len() - self.merged_nodes) as i64,
            merged_weight: self.merged_weight,
            unmerged_weight: self.unmerged_weight,
            observations: self.size(),
            total_compressions: self.total_compressions,
            memory_usage: 8 + 2 * capacity * 8,
        }
    }

    /// The configured compression.
    pub fn compression(&self) -> i64 {
        self.compression as i64
    }

    /// Introspection: every node as `(mean, weight)`, the merged centroids first, then the
    /// buffer in arrival order (sorted if a compression stopped early).
    pub fn nodes(&self) -> impl Iterator<Item = (f64, i64)> + '_ {
        self.means.iter().copied().zip(self.weights.iter().copied())
    }

    /// Introspection: how many leading [`TDigest::nodes`] are merged centroids.
    pub fn merged_nodes(&self) -> usize {
        self.merged_nodes
    }
}

/// t-digest-c's overflow check before a weight total is used as a normalizer's input.
fn check_overflow(unmerged: f64, total: f64) -> Result<(), TDigestError> {
    if unmerged == f64::INFINITY || total == f64::INFINITY {
        return Err(TDigestError::Overflow);
    }
    if 2.0 * PI * total * total.ln() == f64::INFINITY {
        return Err(TDigestError::Overflow);
    }
    Ok(())
}

impl TDigest {
    /// The digest as snapshot bytes: `compression, min, max, merged_nodes,
    /// total_compressions, merged_weight, unmerged_weight, n` (8 bytes each, little-endian;
    /// min and max as f64) then `n` nodes of `(mean f64, weight i64)`.
    /// [`TDigest::from_snapshot`] reads it back.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.means.len() * 16);
        out.extend_from_slice(&(self.compression as i64).to_le_bytes());
        out.extend_from_slice(&self.min.to_le_bytes());
        out.extend_from_slice(&self.max.to_le_bytes());
        out.extend_from_slice(&(self.merged_nodes as u64).to_le_bytes());
        for n in [
            self.total_compressions,
            self.merged_weight,
            self.unmerged_weight,
            self.means.len() as i64,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for (m, w) in self.means.iter().zip(&self.weights) {
            out.extend_from_slice(&m.to_le_bytes());
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// A digest from [`TDigest::to_snapshot`]'s bytes, with every invariant checked; the
    /// node count must match the bytes that follow before anything is allocated.
    pub fn from_snapshot(bytes: &[u8]) -> Result<TDigest, String> {
        if bytes.len() < 64 || (bytes.len() - 64) % 16 != 0 {
            return Err("t-digest snapshot has a bad length".into());
        }
        let word = |i: usize| -> [u8; 8] {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            w
        };
        let int = |i: usize| i64::from_le_bytes(word(i));
        let n = (bytes.len() - 64) / 16;
        if u64::try_from(int(7)).ok() != Some(n as u64) {
            return Err("t-digest snapshot node count does not match its length".into());
        }
        let mut means = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        for i in 0..n {
            means.push(f64::from_le_bytes(word(8 + 2 * i)));
            weights.push(int(9 + 2 * i));
        }
        TDigest::try_from(TDigestRepr {
            compression: int(0),
            min: f64::from_le_bytes(word(1)),
            max: f64::from_le_bytes(word(2)),
            merged_nodes: u64::from_le_bytes(word(3)),
            total_compressions: int(4),
            merged_weight: int(5),
            unmerged_weight: int(6),
            means,
            weights,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn worked_example() {
        let mut t = TDigest::create(100).unwrap();
        t.add(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
            .unwrap();
        assert_eq!(t.info().unmerged_nodes, 10);
        assert_eq!(t.quantile(&[0.5]).unwrap(), vec![6.0]);
        assert_eq!(t.cdf(5.0), 0.45);
        assert_eq!(t.rank(&[5.0], false).unwrap(), vec![4]);
        let info = t.info();
        assert_eq!(
            info,
            TDigestInfo {
                compression: 100,
                capacity: 610,
                merged_nodes: 10,
                unmerged_nodes: 0,
                merged_weight: 10,
                unmerged_weight: 0,
                observations: 10,
                total_compressions: 1,
                memory_usage: 9768,
            }
        );
    }

    #[test]
    fn one_sample_never_merges() {
        let mut t = TDigest::create(100).unwrap();
        t.add(&[5.0]).unwrap();
        assert!(t.quantile(&[0.5]).unwrap()[0].is_nan());
        assert!(t.cdf(5.0).is_nan());
        assert_eq!(
            t.rank(&[5.0, 4.0, 6.0], false).unwrap(),
            vec![i64::MIN, -1, 1]
        );
        assert_eq!(t.byrank(&[0, 1], false).unwrap(), vec![5.0, f64::INFINITY]);
        assert_eq!((t.min(), t.max()), (5.0, 5.0));
        let info = t.info();
        assert_eq!((info.merged_nodes, info.unmerged_nodes), (0, 1));
        assert_eq!(info.total_compressions, 0);
    }

    #[test]
    fn empty_digest_answers() {
        let mut t = TDigest::create(10).unwrap();
        assert!(t.min().is_nan() && t.max().is_nan());
        assert!(t.quantile(&[0.0, 1.0]).unwrap().iter().all(|v| v.is_nan()));
        assert_eq!(t.rank(&[1.0], true).unwrap(), vec![-2]);
        assert!(t.byrank(&[0], false).unwrap()[0].is_nan());
        assert!(t.trimmed_mean(0.1, 0.9).unwrap().is_nan());
    }

    #[test]
    fn limits() {
        assert_eq!(
            TDigest::create(0),
            Err(TDigestError::CompressionNotPositive)
        );
        assert_eq!(
            TDigest::create(MAX_COMPRESSION + 1),
            Err(TDigestError::AllocationFailed)
        );
        assert_eq!(
            TDigest::create(MAX_COMPRESSION)
                .unwrap()
                .info()
                .memory_usage,
            8 + 16 * (6 * MAX_COMPRESSION + 10)
        );
        const { assert!(8 + 16 * (6 * MAX_COMPRESSION + 10) <= 512 * 1024 * 1024) };
        let a = TDigest::create(10).unwrap();
        assert_eq!(
            TDigest::merge(None, &[&a], Some(MAX_COMPRESSION + 1), false),
            Err(TDigestError::DestinationAllocationFailed)
        );
    }

    #[test]
    fn sort_matches_a_plain_sort_and_keeps_pairs() {
        let mut rng = SmallRng::seed_from_u64(1);
        for n in [0usize, 1, 2, 3, 10, 1000] {
            for dup in [false, true] {
                let mut means: Vec<f64> = (0..n)
                    .map(|_| {
                        if dup {
                            f64::from(rng.gen_range(0..5u8))
                        } else {
                            rng.gen::<f64>()
                        }
                    })
                    .collect();
                // Weight i belongs to mean i; encode the mean so pairs can be checked.
                let mut weights: Vec<i64> = means.iter().map(|m| (m * 1e6) as i64).collect();
                let mut want = means.clone();
                want.sort_by(|a, b| a.partial_cmp(b).unwrap());
                sort_nodes(&mut means, &mut weights);
                assert_eq!(means, want);
                for (m, w) in means.iter().zip(&weights) {
                    assert_eq!((m * 1e6) as i64, *w);
                }
            }
        }
        // Already sorted and all-equal inputs (deep recursion in C) are fine here.
        let mut means = vec![1.0; 20_000];
        let mut weights = vec![1; 20_000];
        sort_nodes(&mut means, &mut weights);
        let mut means: Vec<f64> = (0..20_000).map(f64::from).collect();
        sort_nodes(&mut means, &mut weights);
        assert!(means.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn compression_keeps_weight_and_bounds() {
        let mut rng = SmallRng::seed_from_u64(2);
        let mut t = TDigest::create(20).unwrap();
        for i in 0..50_000 {
            t.add(&[rng.gen::<f64>() * 100.0]).unwrap();
            assert!(t.nodes().count() <= t.info().capacity as usize);
            if i % 9973 == 0 {
                t.compress().unwrap();
                let nodes: Vec<(f64, i64)> = t.nodes().collect();
                assert!(nodes.windows(2).all(|w| w[0].0 <= w[1].0));
                assert_eq!(nodes.iter().map(|n| n.1).sum::<i64>(), i as i64 + 1);
            }
        }
        assert_eq!(t.size(), 50_000);
    }

    fn exact_quantile_error(values: &mut [f64], compression: i64) -> f64 {
        let mut t = TDigest::create(compression).unwrap();
        t.add(values).unwrap();
        values.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let n = values.len() as f64;
        let mut worst = 0.0f64;
        for i in 1..1000 {
            let q = f64::from(i) / 1000.0;
            let v = t.quantile(&[q]).unwrap()[0];
            // The fraction of the sample below v and at most v brackets the true rank of v.
            let below = values.partition_point(|&x| x < v) as f64 / n;
            let upto = values.partition_point(|&x| x <= v) as f64 / n;
            let err = if q < below {
                below - q
            } else if q > upto {
                q - upto
            } else {
                0.0
            };
            worst = worst.max(err);
        }
        worst
    }

    #[test]
    fn quantile_error_uniform_and_exponential() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut uniform: Vec<f64> = (0..100_000).map(|_| rng.gen::<f64>()).collect();
        let mut expo: Vec<f64> = (0..100_000)
            .map(|_| -(1.0 - rng.gen::<f64>()).ln())
            .collect();
        let eu = exact_quantile_error(&mut uniform, 100);
        let ee = exact_quantile_error(&mut expo, 100);
        println!("rank error: uniform {eu}, exponential {ee}");
        assert!(eu < 0.015, "uniform rank error {eu}");
        assert!(ee < 0.015, "exponential rank error {ee}");
    }

    #[test]
    fn merge_override_and_compression_rules() {
        let mut a = TDigest::create(30).unwrap();
        let mut b = TDigest::create(70).unwrap();
        a.add(&[1.0, 2.0, 3.0]).unwrap();
        b.add(&[10.0, 20.0]).unwrap();
        let mut d = TDigest::create(40).unwrap();
        d.add(&[100.0]).unwrap();
        let m = TDigest::merge(None, &[&a, &b], None, false).unwrap();
        assert_eq!((m.compression(), m.size()), (70, 5));
        let m = TDigest::merge(Some(&d), &[&a], None, false).unwrap();
        assert_eq!((m.compression(), m.size(), m.max()), (40, 4, 100.0));
        let m = TDigest::merge(Some(&d), &[&a], None, true).unwrap();
        assert_eq!((m.compression(), m.size(), m.max()), (30, 3, 3.0));
        let m = TDigest::merge(Some(&d), &[&a, &a], Some(5), false).unwrap();
        assert_eq!((m.compression(), m.size()), (5, 7));
        a.compress().unwrap();
        b.compress().unwrap();
        assert_eq!(a.info().unmerged_nodes, 0);
    }

    #[test]
    fn weight_overflow_is_an_error() {
        let mut t = TDigest::create(10).unwrap();
        t.add(&[1.0]).unwrap();
        assert_eq!(t.add_weighted(2.0, i64::MAX), Err(TDigestError::Overflow));
        assert_eq!(t.size(), 1);
    }

    #[test]
    fn serde_round_trip_and_rejects_damage() {
        let mut t = TDigest::create(25).unwrap();
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i % 37) * 1.5).collect();
        t.add(&values).unwrap();
        t.quantile(&[0.5]).unwrap();
        t.add(&[3.0, 4.0]).unwrap();
        let json = serde_json::to_string(&t).unwrap();
        let back: TDigest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["merged_weight"] = serde_json::json!(1);
        assert!(serde_json::from_value::<TDigest>(v.clone()).is_err());
        v["merged_weight"] = serde_json::json!(t.info().merged_weight);
        v["merged_nodes"] = serde_json::json!(100_000);
        assert!(serde_json::from_value::<TDigest>(v.clone()).is_err());
        v["merged_nodes"] = serde_json::json!(t.info().merged_nodes);
        v["compression"] = serde_json::json!(0);
        assert!(serde_json::from_value::<TDigest>(v).is_err());
    }

    #[test]
    fn c_conversions() {
        assert_eq!(c_llong(f64::NAN), i64::MIN);
        assert_eq!(c_llong(1e19), i64::MIN);
        assert_eq!(c_llong(-3.7), -3);
        assert_eq!(half_round_down(2.5), 2.0);
        assert_eq!(half_round_down(2.51), 3.0);
        assert_eq!(half_round_down(-2.5), -2.0);
        assert_eq!(half_round_down(-2.6), -3.0);
        assert_eq!(half_round_down(f64::INFINITY), f64::INFINITY);
        assert!(half_round_down(f64::NAN).is_nan());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// For quantiles at or past one observation's weight (`q * N >= 1`), answers lie in
        /// [min, max] and never decrease as q grows.
        #[test]
        fn quantiles_monotone_and_bounded(
            values in proptest::collection::vec(-1e6f64..1e6, 2..3000),
            compression in 1i64..300,
            qs in proptest::collection::vec(0.0f64..=1.0, 1..40),
        ) {
            let mut t = TDigest::create(compression).unwrap();
            t.add(&values).unwrap();
            let n = values.len() as f64;
            let mut qs: Vec<f64> = qs.into_iter().filter(|q| q * n >= 1.0).collect();
            qs.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let out = t.quantile(&qs).unwrap();
            let (lo, hi) = (t.min(), t.max());
            for w in out.windows(2) {
                prop_assert!(w[0] <= w[1], "{:?} -> {:?}", qs, out);
            }
            for v in &out {
                prop_assert!(*v >= lo && *v <= hi, "{} outside [{}, {}]", v, lo, hi);
            }
            // byrank's single-quantile path agrees with the sweep on the same targets.
            for (q, v) in qs.iter().zip(&out) {
                prop_assert_eq!(t.quantile_one(*q).to_bits(), v.to_bits());
            }
        }
    }

    #[test]
    fn snapshot_round_trip() {
        let mut t = TDigest::create(20).expect("valid");
        let values: Vec<f64> = (0..500).map(|i| f64::from(i * 37 % 101) * 0.5).collect();
        t.add(&values).expect("finite");
        let bytes = t.to_snapshot();
        let mut back = TDigest::from_snapshot(&bytes).expect("valid snapshot");
        assert_eq!(back, t);
        let qs = [0.0, 0.1, 0.5, 0.99, 1.0];
        let a = t.quantile(&qs).expect("in range");
        let b = back.quantile(&qs).expect("in range");
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(t.info(), back.info());
    }

    #[test]
    fn damaged_snapshots_are_refused() {
        let mut t = TDigest::create(10).expect("valid");
        t.add(&[1.0, 2.0, 3.0]).expect("finite");
        let bytes = t.to_snapshot();
        for len in 0..bytes.len() {
            assert!(TDigest::from_snapshot(&bytes[..len]).is_err(), "{len}");
        }
        // A node count that the bytes do not hold.
        let mut count = bytes.clone();
        count[56..64].copy_from_slice(&i64::MAX.to_le_bytes());
        assert!(TDigest::from_snapshot(&count).is_err());
        // A compression past the limit.
        let mut big = bytes.clone();
        big[0..8].copy_from_slice(&i64::MAX.to_le_bytes());
        assert!(TDigest::from_snapshot(&big).is_err());
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0x5A;
            let _ = TDigest::from_snapshot(&b);
        }
    }
}
