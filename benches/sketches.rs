//! RedisBloom's other families against the best-kept peer crates, in one run with fixed
//! seeds: sketchstore's `CuckooFilter`, `CountMinSketch`, `TopK` and `TDigest` (the types
//! behind `CF.*`, `CMS.*`, `TOPK.*` and `TDIGEST.*`) beside `scalable_cuckoo_filter` and
//! `cuckoofilter`, `count-min-sketch`, `heavykeeper` and `tdigest`.
//!
//! Each family's workload is written once against a trait with one adapter per engine. Inputs
//! come from `ChaCha8Rng` with fixed seeds and are generated before anything is timed. Items
//! are 16 random bytes. Throughput is per operation: ns/op is 1e9 / (elements per second).
//!
//! - `cuckoo/<n>` (n = 1e3, 1e6): `add` puts n items into a fresh filter (creation not timed);
//!   `exists_present` and `exists_absent` query items inserted and never inserted (at most
//!   1e5 per iteration); `del` deletes the inserted items from a full filter (filled outside the
//!   timing). Every filter is created for 2n items, so none grows
//!   while the items go in: sketchstore is `CF.RESERVE key 2n` with RedisBloom's defaults
//!   (bucket size 2, 20 kicks, expansion 1), `next_pow2(n)` buckets of two one-byte slots;
//!   `cuckoofilter` (SipHash-1-3, 4 one-byte slots per bucket) then has the same number of
//!   slots; `scalable_cuckoo_filter` (SipHash-1-3, 4 slots of 8 bits at a 0.03 target) sizes
//!   its own. Slot bytes and the measured false-positive rate of each are printed.
//! - `cms/<width>` (width 2048 and 262144, depth 7: 57 KB and 7.3 MB of `u32` counters):
//!   `incrby` adds 1 for each of 1e5 items drawn from 1e4 distinct ones, into a sketch that
//!   keeps counting across iterations; `query` reads the same items. Both engines get the
//!   same dimensions (sketchstore through `CMS.INITBYDIM`). `count-min-sketch` does
//!   conservative updates (reads every row first, raises only the minimal counters) with
//!   SipHash-1-3 keyed from the OS generator; sketchstore adds to every row as RedisBloom
//!   does, with one MurmurHash2 per row.
//! - `topk/<distinct>` (1e3 and 1e6 distinct items): `add` streams 1e5 items drawn from a
//!   Zipf(1.0) law over the distinct items into a fresh `TOPK.RESERVE key 50 2000 7 0.9`
//!   (creation not timed); `heavykeeper` gets the same k, width, depth and decay and a fixed
//!   seed. How many of the true top 10 each one lists in its top 10 is printed.
//! - `tdigest/<n>` (n = 1e3, 1e6 values from an exponential law): `add` puts n values, one
//!   call each, into a fresh digest of compression 100 (`tdigest`: at most 100 centroids);
//!   `quantile` asks for q = 0.5, 0.9, 0.99 from a copy (made outside the timing) of a digest
//!   that took those n values and 100 more, so it includes the merge of the values still
//!   buffered, as the first `TDIGEST.QUANTILE` after a run of `TDIGEST.ADD`s does; throughput
//!   there is per call. How many values are still buffered differs: `tdigest` holds the last
//!   100, sketchstore whatever arrived since its array (`6 * 100 + 10` nodes, merged ones
//!   included) was last full, and RedisBloom's compression sorts the whole array.
//!
//! Criterion defaults here are 0.5 s warm-up and 1.5 s measurement per function (the whole run
//! took 160 s on a loaded 2-vCPU VM); command-line options override them.
//!
//! Run: `cargo bench --bench sketches -- --warm-up-time 1 --measurement-time 3`.

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::types::cms::CountMinSketch;
use sketchstore::types::cuckoo::CuckooFilter;
use sketchstore::types::tdigest::TDigest;
use sketchstore::types::topk::TopK;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

const ITEM_LEN: usize = 16;
type Item = [u8; ITEM_LEN];

/// Queries per iteration of the cuckoo exists benchmarks at the large size.
const CUCKOO_QUERIES: usize = 100_000;
const CMS_DEPTH: usize = 7;
const CMS_OPS: usize = 100_000;
const CMS_DISTINCT: usize = 10_000;
const TOPK_K: usize = 50;
const TOPK_WIDTH: usize = 2000;
const TOPK_DEPTH: usize = 7;
const TOPK_DECAY: f64 = 0.9;
const TOPK_STREAM: usize = 100_000;
const TDIGEST_COMPRESSION: usize = 100;
const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// Values added after the first n before `quantile` is timed, so that both digests hold
/// buffered values (`tdigest` flushes every 500, which n = 1e3 and 1e6 divide).
const TDIGEST_TAIL: usize = 100;

fn items(n: usize, seed: u64) -> Vec<Item> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut item = [0u8; ITEM_LEN];
            rng.fill_bytes(&mut item);
            item
        })
        .collect()
}

/// Large-input groups take few samples, each of the same iteration count.
fn large_group(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
}

// ---------------------------------------------------------------------------------------------
// Cuckoo filters

/// One cuckoo filter under test.
trait Cuckoo: Sized {
    const NAME: &'static str;
    fn for_items(n: usize) -> Self;
    /// A filter for `items.len()` items holding them.
    fn filled(items: &[Item]) -> Self {
        let mut filter = Self::for_items(items.len());
        for item in items {
            filter.add(item);
        }
        filter
    }
    fn add(&mut self, item: &[u8]);
    fn exists(&self, item: &[u8]) -> bool;
    fn del(&mut self, item: &[u8]) -> bool;
    fn slot_bytes(&self) -> usize;
}

struct SsCuckoo(CuckooFilter);

impl Cuckoo for SsCuckoo {
    const NAME: &'static str = "sketchstore";
    fn for_items(n: usize) -> Self {
        SsCuckoo(CuckooFilter::reserve(2 * n as i64, 2, 20, 1).expect("CF.RESERVE"))
    }
    #[inline]
    fn add(&mut self, item: &[u8]) {
        self.0.add(item).expect("room within capacity");
    }
    #[inline]
    fn exists(&self, item: &[u8]) -> bool {
        self.0.exists(item)
    }
    #[inline]
    fn del(&mut self, item: &[u8]) -> bool {
        self.0.del(item)
    }
    fn slot_bytes(&self) -> usize {
        self.0.filters().iter().map(|f| f.data().len()).sum()
    }
}

struct ScalableCuckoo(scalable_cuckoo_filter::ScalableCuckooFilter<[u8]>);

impl Cuckoo for ScalableCuckoo {
    const NAME: &'static str = "scalable_cuckoo_filter";
    fn for_items(n: usize) -> Self {
        ScalableCuckoo(
            scalable_cuckoo_filter::ScalableCuckooFilterBuilder::new()
                .initial_capacity(2 * n)
                .false_positive_probability(0.03)
                .finish(),
        )
    }
    #[inline]
    fn add(&mut self, item: &[u8]) {
        self.0.insert(item);
    }
    #[inline]
    fn exists(&self, item: &[u8]) -> bool {
        self.0.contains(item)
    }
    #[inline]
    fn del(&mut self, item: &[u8]) -> bool {
        self.0.remove(item)
    }
    fn slot_bytes(&self) -> usize {
        (self.0.bits() / 8) as usize
    }
}

struct CuckooFilterCrate(cuckoofilter::CuckooFilter<std::collections::hash_map::DefaultHasher>);

impl Cuckoo for CuckooFilterCrate {
    const NAME: &'static str = "cuckoofilter";
    fn for_items(n: usize) -> Self {
        CuckooFilterCrate(cuckoofilter::CuckooFilter::with_capacity(2 * n))
    }
    #[inline]
    fn add(&mut self, item: &[u8]) {
        self.0.add(item).expect("room within capacity");
    }
    #[inline]
    fn exists(&self, item: &[u8]) -> bool {
        self.0.contains(item)
    }
    #[inline]
    fn del(&mut self, item: &[u8]) -> bool {
        self.0.delete(item)
    }
    fn slot_bytes(&self) -> usize {
        self.0.memory_usage()
    }
}

fn bench_cuckoo<E: Cuckoo>(c: &mut Criterion, label: &str, present: &[Item], absent: &[Item]) {
    let n = present.len();
    let mut group = c.benchmark_group(format!("cuckoo/{label}"));
    if n > 100_000 {
        large_group(&mut group);
    }

    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("add/{}", E::NAME), |b| {
        b.iter_batched(
            || E::for_items(n),
            |mut filter| {
                for item in present {
                    filter.add(black_box(item));
                }
                filter
            },
            BatchSize::LargeInput,
        )
    });

    let full = E::filled(present);
    assert!(present.iter().all(|i| full.exists(i)), "{}", E::NAME);
    let fp = absent.iter().filter(|i| full.exists(&i[..])).count() as f64 / absent.len() as f64;
    eprintln!(
        "cuckoo/{label} {}: {} slot bytes, measured false-positive rate {fp:.4}",
        E::NAME,
        full.slot_bytes()
    );

    let hits = &present[..n.min(CUCKOO_QUERIES)];
    let misses = &absent[..absent.len().min(CUCKOO_QUERIES)];
    group.throughput(Throughput::Elements(hits.len() as u64));
    group.bench_function(format!("exists_present/{}", E::NAME), |b| {
        b.iter(|| {
            for item in hits {
                black_box(full.exists(black_box(item)));
            }
        })
    });
    group.throughput(Throughput::Elements(misses.len() as u64));
    group.bench_function(format!("exists_absent/{}", E::NAME), |b| {
        b.iter(|| {
            for item in misses {
                black_box(full.exists(black_box(item)));
            }
        })
    });
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("del/{}", E::NAME), |b| {
        b.iter_batched(
            || E::filled(present),
            |mut filter| {
                for item in present {
                    black_box(filter.del(black_box(item)));
                }
                filter
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn cuckoo(c: &mut Criterion) {
    for (n, label) in [(1_000, "1e3"), (1_000_000, "1e6")] {
        let present = items(n, 0xC0C0_0001);
        let absent = items(n.min(CUCKOO_QUERIES), 0xC0C0_0002);
        bench_cuckoo::<SsCuckoo>(c, label, &present, &absent);
        bench_cuckoo::<ScalableCuckoo>(c, label, &present, &absent);
        bench_cuckoo::<CuckooFilterCrate>(c, label, &present, &absent);
    }
}

// ---------------------------------------------------------------------------------------------
// Count-min sketches

/// One count-min sketch under test.
trait Cms {
    const NAME: &'static str;
    fn with_dims(width: usize, depth: usize) -> Self;
    fn incrby(&mut self, item: &[u8], by: u32);
    fn query(&self, item: &[u8]) -> u32;
}

struct SsCms(CountMinSketch);

impl Cms for SsCms {
    const NAME: &'static str = "sketchstore";
    fn with_dims(width: usize, depth: usize) -> Self {
        SsCms(CountMinSketch::init_by_dim(width as i64, depth as i64).expect("CMS.INITBYDIM"))
    }
    #[inline]
    fn incrby(&mut self, item: &[u8], by: u32) {
        let _ = black_box(self.0.incrby(item, u64::from(by)));
    }
    #[inline]
    fn query(&self, item: &[u8]) -> u32 {
        self.0.query(item)
    }
}

struct CmsCrate(count_min_sketch::CountMinSketch32<Vec<u8>>);

impl Cms for CmsCrate {
    const NAME: &'static str = "count-min-sketch";
    fn with_dims(width: usize, depth: usize) -> Self {
        // The crate derives width = next_pow2(round(2 * capacity / tolerance)) and
        // depth = trunc(ln(1 - probability) / ln(0.5)); these arguments give exactly
        // `width` (a power of two) and `depth`.
        let tolerance = 2.0 / width as f64;
        let probability = 1.0 - 0.5f64.powf(depth as f64 + 0.5);
        let bytes = count_min_sketch::CountMinSketch32::<Vec<u8>>::estimate_memory(
            1,
            probability,
            tolerance,
        )
        .expect("dimensions");
        assert_eq!(bytes, width * depth * 4, "count-min-sketch dimensions");
        CmsCrate(
            count_min_sketch::CountMinSketch32::new(1, probability, tolerance).expect("sketch"),
        )
    }
    #[inline]
    fn incrby(&mut self, item: &[u8], by: u32) {
        self.0.add(item, by);
    }
    #[inline]
    fn query(&self, item: &[u8]) -> u32 {
        self.0.estimate(item)
    }
}

fn bench_cms<E: Cms>(c: &mut Criterion, width: usize, stream: &[Item]) {
    let mut group = c.benchmark_group(format!("cms/{width}"));
    group.throughput(Throughput::Elements(stream.len() as u64));
    let mut sketch = E::with_dims(width, CMS_DEPTH);
    group.bench_function(format!("incrby/{}", E::NAME), |b| {
        b.iter(|| {
            for item in stream {
                sketch.incrby(black_box(item), 1);
            }
        })
    });
    group.bench_function(format!("query/{}", E::NAME), |b| {
        b.iter(|| {
            for item in stream {
                black_box(sketch.query(black_box(item)));
            }
        })
    });
    group.finish();
}

fn cms(c: &mut Criterion) {
    let distinct = items(CMS_DISTINCT, 0xC45_0001);
    let mut rng = ChaCha8Rng::seed_from_u64(0xC45_0002);
    let stream: Vec<Item> = (0..CMS_OPS)
        .map(|_| distinct[rng.gen_range(0..distinct.len())])
        .collect();
    for width in [2048, 262_144] {
        bench_cms::<SsCms>(c, width, &stream);
        bench_cms::<CmsCrate>(c, width, &stream);
    }
}

// ---------------------------------------------------------------------------------------------
// Top-k

/// One heavy-hitter sketch under test.
trait HeavyHitters {
    const NAME: &'static str;
    fn new() -> Self;
    fn add(&mut self, item: &[u8]);
    /// Items of the top list, heaviest first.
    fn top(&self) -> Vec<Vec<u8>>;
}

struct SsTopK(TopK);

impl HeavyHitters for SsTopK {
    const NAME: &'static str = "sketchstore";
    fn new() -> Self {
        SsTopK(
            TopK::reserve(
                TOPK_K as i64,
                TOPK_WIDTH as i64,
                TOPK_DEPTH as i64,
                TOPK_DECAY,
            )
            .expect("TOPK.RESERVE"),
        )
    }
    #[inline]
    fn add(&mut self, item: &[u8]) {
        black_box(self.0.add(item));
    }
    fn top(&self) -> Vec<Vec<u8>> {
        self.0.list().into_iter().map(|(item, _)| item).collect()
    }
}

struct HeavyKeeper(heavykeeper::TopK<Vec<u8>>);

impl HeavyHitters for HeavyKeeper {
    const NAME: &'static str = "heavykeeper";
    fn new() -> Self {
        HeavyKeeper(heavykeeper::TopK::with_seed(
            TOPK_K,
            TOPK_WIDTH,
            TOPK_DEPTH,
            TOPK_DECAY,
            0x746f_706b,
        ))
    }
    #[inline]
    fn add(&mut self, item: &[u8]) {
        self.0.add(item, 1);
    }
    fn top(&self) -> Vec<Vec<u8>> {
        self.0.list().into_iter().map(|node| node.item).collect()
    }
}

/// `len` draws of a Zipf(1.0) law over `distinct` items (rank 1 the most frequent).
fn zipf_stream(distinct: &[Item], len: usize, seed: u64) -> Vec<Item> {
    let mut cdf = Vec::with_capacity(distinct.len());
    let mut sum = 0.0;
    for rank in 1..=distinct.len() {
        sum += 1.0 / rank as f64;
        cdf.push(sum);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len)
        .map(|_| {
            let u = rng.gen::<f64>() * sum;
            let at = cdf.partition_point(|&c| c < u).min(distinct.len() - 1);
            distinct[at]
        })
        .collect()
}

fn bench_topk<E: HeavyHitters>(c: &mut Criterion, label: &str, stream: &[Item], truth: &[Item]) {
    let mut group = c.benchmark_group(format!("topk/{label}"));
    group.throughput(Throughput::Elements(stream.len() as u64));
    group.bench_function(format!("add/{}", E::NAME), |b| {
        b.iter_batched(
            E::new,
            |mut sketch| {
                for item in stream {
                    sketch.add(black_box(item));
                }
                sketch
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();

    let mut sketch = E::new();
    for item in stream {
        sketch.add(item);
    }
    let top = sketch.top();
    let listed = &top[..top.len().min(truth.len())];
    let found = truth
        .iter()
        .filter(|t| listed.iter().any(|l| l[..] == t[..]))
        .count();
    eprintln!(
        "topk/{label} {}: {found} of the true top {} in its top {}",
        E::NAME,
        truth.len(),
        truth.len()
    );
}

fn topk(c: &mut Criterion) {
    for (distinct, label) in [(1_000, "1e3"), (1_000_000, "1e6")] {
        let universe = items(distinct, 0x70B_0001);
        let stream = zipf_stream(&universe, TOPK_STREAM, 0x70B_0002);
        let mut exact: HashMap<Item, u64> = HashMap::new();
        for item in &stream {
            *exact.entry(*item).or_default() += 1;
        }
        let mut ranked: Vec<(Item, u64)> = exact.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let truth: Vec<Item> = ranked.iter().take(10).map(|(i, _)| *i).collect();
        bench_topk::<SsTopK>(c, label, &stream, &truth);
        bench_topk::<HeavyKeeper>(c, label, &stream, &truth);
    }
}

// ---------------------------------------------------------------------------------------------
// T-digest

/// One quantile digest under test.
trait Digest: Clone {
    const NAME: &'static str;
    fn new() -> Self;
    fn add(&mut self, value: f64);
    fn quantiles(&mut self, qs: &[f64]) -> Vec<f64>;
}

#[derive(Clone)]
struct SsDigest(TDigest);

impl Digest for SsDigest {
    const NAME: &'static str = "sketchstore";
    fn new() -> Self {
        SsDigest(TDigest::create(TDIGEST_COMPRESSION as i64).expect("TDIGEST.CREATE"))
    }
    #[inline]
    fn add(&mut self, value: f64) {
        self.0
            .add(std::slice::from_ref(&value))
            .expect("finite values");
    }
    fn quantiles(&mut self, qs: &[f64]) -> Vec<f64> {
        self.0.quantile(qs).expect("quantiles in [0, 1]")
    }
}

#[derive(Clone)]
struct TDigestCrate(tdigest::TDigest);

impl Digest for TDigestCrate {
    const NAME: &'static str = "tdigest";
    fn new() -> Self {
        TDigestCrate(tdigest::TDigest::new_with_size(TDIGEST_COMPRESSION))
    }
    #[inline]
    fn add(&mut self, value: f64) {
        self.0.push(value);
    }
    fn quantiles(&mut self, qs: &[f64]) -> Vec<f64> {
        // The crate estimates only from flushed centroids.
        self.0.flush();
        self.0
            .quantiles(qs)
            .into_iter()
            .map(|q| q.unwrap_or(f64::NAN))
            .collect()
    }
}

fn bench_tdigest<E: Digest>(c: &mut Criterion, label: &str, values: &[f64], tail: &[f64]) {
    let n = values.len();
    let mut group = c.benchmark_group(format!("tdigest/{label}"));
    if n > 100_000 {
        large_group(&mut group);
    }
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("add/{}", E::NAME), |b| {
        b.iter_batched(
            E::new,
            |mut digest| {
                for &v in values {
                    digest.add(black_box(v));
                }
                digest
            },
            BatchSize::LargeInput,
        )
    });

    let mut filled = E::new();
    for &v in values.iter().chain(tail) {
        filled.add(v);
    }
    let answers = filled.clone().quantiles(&QUANTILES);
    eprintln!(
        "tdigest/{label} {}: q {QUANTILES:?} -> {answers:.4?}",
        E::NAME
    );

    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("quantile/{}", E::NAME), |b| {
        b.iter_batched_ref(
            || filled.clone(),
            |digest| black_box(digest.quantiles(black_box(&QUANTILES))),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn tdigest(c: &mut Criterion) {
    for (n, label) in [(1_000, "1e3"), (1_000_000, "1e6")] {
        let mut rng = ChaCha8Rng::seed_from_u64(0x7D1_0001);
        // Exponential with mean 1 by inversion; 1 - u is in (0, 1].
        let values: Vec<f64> = (0..n + TDIGEST_TAIL)
            .map(|_| -(1.0 - rng.gen::<f64>()).ln())
            .collect();
        let (values, tail) = values.split_at(n);
        bench_tdigest::<SsDigest>(c, label, values, tail);
        bench_tdigest::<TDigestCrate>(c, label, values, tail);
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = cuckoo, cms, topk, tdigest
}
criterion_main!(benches);
