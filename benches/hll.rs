//! HyperLogLog insert and count: sketchstore's Redis-exact `HyperLogLog` against the
//! `cardinality-estimator` crate (P = 14, W = 6, its default WyHash) and the `hyperloglogplus`
//! crate (precision 14, std `RandomState`), in one run; then `PFADD`/`PFCOUNT` through the
//! store.
//!
//! The workload is written once against [`Engine`], with one adapter per engine. Elements are
//! random 8-16 byte strings from a fixed seed, generated before anything is timed.
//!
//! - `insert_<n>` (n = 1e3, 1e5, 1e6): a fresh sketch takes the first n elements; throughput
//!   is per element. At 1e3 sketchstore is still sparse (Redis's encoding up to 3000 bytes).
//! - `count_<n>`: `cold/*` counts a copy of the sketch just filled and never counted (the copy
//!   is made outside the timing); `warm/*` counts the same sketch again and again, which for
//!   sketchstore is the cached cardinality in the Redis header.
//! - `after_insert` on a dense sketch of 1e5 elements: `insert/*` and `insert+count/*` apply
//!   a chunk of 1024 new elements (per element: insert, or insert then count), each chosen so
//!   that it raises a sketchstore register, so every sketchstore count after it is uncached;
//!   the chunk goes into a copy of the base made outside the timing. `count/*` counts a copy
//!   into which one such element was just inserted (insert and copy outside the timing).
//!   The peers see the same elements; their count cost does not depend on whether a register
//!   changed.
//! - `store_pf`: one key holding the same dense 1e5 base; `pfadd/changing` and
//!   `pfadd+pfcount/changing` apply the register-raising elements one `PFADD` each (the key
//!   is reset, outside the timing, before the elements run out); `pfadd/repeat` adds elements
//!   already present; `pfcount/cached` counts again and again.
//!
//! Copy-per-iteration benchmarks spend most of their wall time copying, so their groups use a
//! 1 s measurement time whatever the command line says.
//!
//! Run: `cargo bench --bench hll -- --warm-up-time 1 --measurement-time 2`.

use cardinality_estimator::CardinalityEstimator;
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use hyperloglogplus::{HyperLogLog as _, HyperLogLogPlus};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use sketchstore::types::hll::{
    pattern_len, HllEncoding, HyperLogLog, DEFAULT_SPARSE_MAX_BYTES, REGISTERS,
};
use sketchstore::Store;
use std::collections::hash_map::RandomState;
use std::hint::black_box;
use std::time::Duration;
use wyhash::WyHash;

const SEED: u64 = 0x5EED_0411;
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
/// Elements in the dense sketch of the after-insert and store benchmarks.
const BASE: usize = 100_000;
/// Elements per timed chunk in the after-insert and store benchmarks.
const CHUNK: usize = 1024;
/// New elements screened for ones that raise a register of the base.
const CANDIDATES: usize = 1 << 21;
/// Copies made per batch by the copy-per-iteration benchmarks (about 800 KB of dense sketches).
const COPIES_PER_BATCH: u64 = 64;
const KEY: &[u8] = b"hll:pageviews:2024-06-01";

/// One engine under test: the workload is written once against this.
trait Engine: Clone {
    const NAME: &'static str;
    fn new() -> Self;
    fn insert(&mut self, item: &[u8]);
    fn count(&mut self) -> u64;
}

#[derive(Clone)]
struct Sketchstore(HyperLogLog);

impl Engine for Sketchstore {
    const NAME: &'static str = "sketchstore";
    fn new() -> Self {
        Sketchstore(HyperLogLog::new())
    }
    #[inline]
    fn insert(&mut self, item: &[u8]) {
        self.0
            .add(item, DEFAULT_SPARSE_MAX_BYTES)
            .expect("a value built by add is never corrupt");
    }
    #[inline]
    fn count(&mut self) -> u64 {
        self.0
            .count()
            .expect("a value built by add is never corrupt")
    }
}

#[derive(Clone)]
struct CardEst(CardinalityEstimator<[u8], WyHash, 14, 6>);

impl Engine for CardEst {
    const NAME: &'static str = "cardinality-estimator";
    fn new() -> Self {
        CardEst(CardinalityEstimator::new())
    }
    #[inline]
    fn insert(&mut self, item: &[u8]) {
        self.0.insert(item);
    }
    #[inline]
    fn count(&mut self) -> u64 {
        self.0.estimate() as u64
    }
}

#[derive(Clone)]
// `Vec<u8>` rather than `[u8]` only because the crate's `Clone` wants a `Clone` element type;
// `insert` takes the `&[u8]` it borrows as, which hashes the same.
struct HllPlus(HyperLogLogPlus<Vec<u8>, RandomState>);

impl Engine for HllPlus {
    const NAME: &'static str = "hyperloglogplus";
    fn new() -> Self {
        HllPlus(HyperLogLogPlus::new(14, RandomState::new()).expect("precision 14"))
    }
    #[inline]
    fn insert(&mut self, item: &[u8]) {
        self.0.insert(item);
    }
    #[inline]
    fn count(&mut self) -> u64 {
        self.0.count().round() as u64
    }
}

/// Byte strings packed end to end.
struct Items {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Items {
    fn random(rng: &mut SmallRng, n: usize) -> Items {
        let mut items = Items {
            buf: Vec::with_capacity(n * 12),
            ends: Vec::with_capacity(n),
        };
        let mut tmp = [0u8; 16];
        for _ in 0..n {
            let len = rng.gen_range(8..=16);
            rng.fill_bytes(&mut tmp[..len]);
            items.push(&tmp[..len]);
        }
        items
    }

    fn push(&mut self, item: &[u8]) {
        self.buf.extend_from_slice(item);
        self.ends.push(self.buf.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    fn range(&self, start: usize, len: usize) -> impl Iterator<Item = &[u8]> {
        (start..start + len).map(move |i| self.get(i))
    }
}

fn label(n: usize) -> String {
    format!("1e{}", n.ilog10())
}

fn filled<E: Engine>(items: &Items, n: usize) -> E {
    let mut e = E::new();
    for item in items.range(0, n) {
        e.insert(item);
    }
    e
}

/// Prints each engine's estimate at each size, so a broken adapter shows before its timing.
fn report_accuracy<E: Engine>(items: &Items) {
    for &n in &SIZES {
        let mut e: E = filled(items, n);
        let c = e.count();
        let err = (c as f64 - n as f64) / n as f64 * 100.0;
        eprintln!(
            "{:>22} n={:<8} count={:<8} error={:+.2}%",
            E::NAME,
            n,
            c,
            err
        );
    }
}

fn bench_insert<E: Engine>(g: &mut BenchmarkGroup<'_, WallTime>, items: &Items, n: usize) {
    let size = if n <= 1_000 {
        BatchSize::SmallInput
    } else {
        BatchSize::PerIteration
    };
    g.bench_function(E::NAME, |b| {
        b.iter_batched(
            E::new,
            |mut e| {
                for item in items.range(0, n) {
                    e.insert(black_box(item));
                }
                e
            },
            size,
        )
    });
}

fn bench_count<E: Engine>(g: &mut BenchmarkGroup<'_, WallTime>, items: &Items, n: usize) {
    let base: E = filled(items, n);
    g.bench_function(BenchmarkId::new("cold", E::NAME), |b| {
        b.iter_batched_ref(
            || base.clone(),
            |e| e.count(),
            BatchSize::NumIterations(COPIES_PER_BATCH),
        )
    });
    let mut warm = base.clone();
    warm.count();
    g.bench_function(BenchmarkId::new("warm", E::NAME), |b| {
        b.iter(|| black_box(&mut warm).count())
    });
}

/// Cycles through `pool` in chunks of `CHUNK`.
struct Chunks<'a> {
    pool: &'a Items,
    next: usize,
}

impl<'a> Chunks<'a> {
    /// The start of the next chunk and whether the pool wrapped to get it.
    fn next(&mut self) -> (usize, bool) {
        let wrapped = self.next + CHUNK > self.pool.len();
        if wrapped {
            self.next = 0;
        }
        let start = self.next;
        self.next += CHUNK;
        (start, wrapped)
    }
}

fn bench_after_insert<E: Engine>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    items: &Items,
    pool: &Items,
) {
    let base: E = filled(items, BASE);
    g.throughput(Throughput::Elements(CHUNK as u64));
    let mut chunks = Chunks { pool, next: 0 };
    g.bench_function(BenchmarkId::new("insert", E::NAME), |b| {
        b.iter_batched_ref(
            || (base.clone(), chunks.next().0),
            |(e, start)| {
                for item in pool.range(*start, CHUNK) {
                    e.insert(black_box(item));
                }
            },
            BatchSize::NumIterations(8),
        )
    });
    g.bench_function(BenchmarkId::new("insert+count", E::NAME), |b| {
        b.iter_batched_ref(
            || (base.clone(), chunks.next().0),
            |(e, start)| {
                for item in pool.range(*start, CHUNK) {
                    e.insert(black_box(item));
                    black_box(e.count());
                }
            },
            BatchSize::NumIterations(8),
        )
    });
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function(BenchmarkId::new("count", E::NAME), |b| {
        b.iter_batched_ref(
            || {
                let mut e = base.clone();
                e.insert(pool.get(i % pool.len()));
                i += 1;
                e
            },
            |e| e.count(),
            BatchSize::NumIterations(COPIES_PER_BATCH),
        )
    });
}

/// Resets `KEY` to the base value and decodes it (register histogram built), as a key that
/// PFADD and PFCOUNT have been using is.
fn reset_key(store: &Store, base_bytes: &[u8]) {
    store.set(KEY, base_bytes).expect("SET");
    store.pfcount(&[KEY]).expect("PFCOUNT");
}

fn bench_store(c: &mut Criterion, items: &Items, pool: &Items, base_bytes: &[u8]) {
    let store = Store::new();
    let mut g = c.benchmark_group("store_pf");
    g.throughput(Throughput::Elements(CHUNK as u64));
    // Pool elements raise distinct registers, so the key needs a reset only when they run
    // out; a batch (setups first, then routines) spans less than one pass over the pool.
    assert!(4 * CHUNK < pool.len());
    for with_count in [false, true] {
        let name = if with_count { "pfadd+pfcount" } else { "pfadd" };
        let mut chunks = Chunks { pool, next: 0 };
        reset_key(&store, base_bytes);
        g.bench_function(BenchmarkId::new(name, "changing"), |b| {
            b.iter_batched(
                || {
                    let (start, wrapped) = chunks.next();
                    if wrapped {
                        reset_key(&store, base_bytes);
                    }
                    start
                },
                |start| {
                    for item in pool.range(start, CHUNK) {
                        black_box(store.pfadd(KEY, &[black_box(item)]).expect("PFADD"));
                        if with_count {
                            black_box(store.pfcount(&[KEY]).expect("PFCOUNT"));
                        }
                    }
                },
                BatchSize::NumIterations(4),
            )
        });
    }
    g.throughput(Throughput::Elements(1));
    reset_key(&store, base_bytes);
    let mut i = 0;
    g.bench_function(BenchmarkId::new("pfadd", "repeat"), |b| {
        b.iter(|| {
            i = (i + 1) % BASE;
            black_box(store.pfadd(KEY, &[black_box(items.get(i))]).expect("PFADD"))
        })
    });
    g.bench_function(BenchmarkId::new("pfcount", "cached"), |b| {
        b.iter(|| black_box(store.pfcount(&[black_box(KEY)]).expect("PFCOUNT")))
    });
    g.finish();
}

fn hll(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(SEED);
    let items = Items::random(&mut rng, SIZES[2]);
    let candidates = Items::random(&mut rng, CANDIDATES);

    report_accuracy::<Sketchstore>(&items);
    report_accuracy::<CardEst>(&items);
    report_accuracy::<HllPlus>(&items);
    let small: Sketchstore = filled(&items, SIZES[0]);
    eprintln!(
        "sketchstore at 1e3: {:?}, {} bytes",
        small.0.encoding(),
        small.0.len()
    );

    // New elements that each raise a distinct register of the base above its value.
    let base: Sketchstore = filled(&items, BASE);
    assert_eq!(base.0.encoding(), HllEncoding::Dense);
    assert_eq!(
        base.0.cached_count(),
        None,
        "base must not carry a valid cache"
    );
    let mut taken = vec![false; REGISTERS];
    let mut pool = Items {
        buf: Vec::new(),
        ends: Vec::new(),
    };
    for i in 0..candidates.len() {
        let item = candidates.get(i);
        let (index, count) = pattern_len(item);
        if !taken[index] && count > base.0.register(index) {
            taken[index] = true;
            pool.push(item);
        }
    }
    eprintln!(
        "register-raising pool: {} elements ({} chunks)",
        pool.len(),
        pool.len() / CHUNK
    );

    for &n in &SIZES {
        let mut g = c.benchmark_group(format!("insert_{}", label(n)));
        g.throughput(Throughput::Elements(n as u64));
        if n >= 1_000_000 {
            g.sample_size(10);
        }
        bench_insert::<Sketchstore>(&mut g, &items, n);
        bench_insert::<CardEst>(&mut g, &items, n);
        bench_insert::<HllPlus>(&mut g, &items, n);
        g.finish();
    }
    for &n in &SIZES {
        let mut g = c.benchmark_group(format!("count_{}", label(n)));
        g.measurement_time(Duration::from_secs(1));
        bench_count::<Sketchstore>(&mut g, &items, n);
        bench_count::<CardEst>(&mut g, &items, n);
        bench_count::<HllPlus>(&mut g, &items, n);
        g.finish();
    }
    {
        let mut g = c.benchmark_group("after_insert");
        g.measurement_time(Duration::from_secs(1));
        bench_after_insert::<Sketchstore>(&mut g, &items, &pool);
        bench_after_insert::<CardEst>(&mut g, &items, &pool);
        bench_after_insert::<HllPlus>(&mut g, &items, &pool);
        g.finish();
    }
    bench_store(c, &items, &pool, base.0.as_bytes());
}

criterion_group!(benches, hll);
criterion_main!(benches);
