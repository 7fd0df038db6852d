//! Bloom filter add and exists: sketchstore's RedisBloom-exact `ScalableBloomFilter` against
//! the `fastbloom` crate (default hasher) and the `bloomfilter` crate, all built for the same
//! capacity and a configured false-positive rate of 0.01, in one run with fixed seeds.
//!
//! Workloads: 1e3 items (the filters fit in L1) and 1e7 items (12-14 MB each, past L2). For each:
//! `add` inserts every item into a fresh filter sized for them (creation is not timed),
//! `exists_present` queries inserted items, `exists_absent` queries items never inserted.
//! Throughput is per item: ns/op is 1e9 / (elements per second).
//!
//! `ScalableBloomFilter` is reserved with the item count as its capacity, so it never grows:
//! one link at RedisBloom's tightened error (0.005), 8 probes over a classic bit array.
//! fastbloom picks its own layout for 0.01 (blocked, one cache line per item); bloomfilter
//! uses SipHash-1-3 double hashing over a classic array.
//!
//! Run: `cargo bench --bench bloom -- --warm-up-time 1 --measurement-time 2`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use sketchstore::types::bloom::ScalableBloomFilter;

const FP_RATE: f64 = 0.01;
const ITEM_LEN: usize = 16;
/// Items queried per iteration at 1e7 (the queries themselves are spread over the filter).
const QUERIES_LARGE: usize = 1_000_000;

/// One engine under test: the workload is written once against this.
trait Engine {
    const NAME: &'static str;
    fn with_capacity(n: usize) -> Self;
    fn add(&mut self, item: &[u8]) -> bool;
    fn contains(&self, item: &[u8]) -> bool;
}

struct Sketchstore(ScalableBloomFilter);

impl Engine for Sketchstore {
    const NAME: &'static str = "sketchstore";
    fn with_capacity(n: usize) -> Self {
        Sketchstore(ScalableBloomFilter::new(n as u64, FP_RATE, 2, false).expect("filter"))
    }
    #[inline]
    fn add(&mut self, item: &[u8]) -> bool {
        self.0.insert(item).expect("no growth within capacity")
    }
    #[inline]
    fn contains(&self, item: &[u8]) -> bool {
        self.0.contains(item)
    }
}

struct FastBloom(fastbloom::BloomFilter);

impl Engine for FastBloom {
    const NAME: &'static str = "fastbloom";
    fn with_capacity(n: usize) -> Self {
        FastBloom(
            fastbloom::BloomFilter::with_false_pos(FP_RATE)
                .seed(&0x5eed)
                .expected_items(n),
        )
    }
    #[inline]
    fn add(&mut self, item: &[u8]) -> bool {
        // `insert` returns whether the item was already present.
        !self.0.insert(item)
    }
    #[inline]
    fn contains(&self, item: &[u8]) -> bool {
        self.0.contains(item)
    }
}

struct BloomFilterCrate(bloomfilter::Bloom<[u8]>);

impl Engine for BloomFilterCrate {
    const NAME: &'static str = "bloomfilter";
    fn with_capacity(n: usize) -> Self {
        BloomFilterCrate(
            bloomfilter::Bloom::new_for_fp_rate_with_seed(n, FP_RATE, &[7; 32]).expect("filter"),
        )
    }
    #[inline]
    fn add(&mut self, item: &[u8]) -> bool {
        !self.0.check_and_set(item)
    }
    #[inline]
    fn contains(&self, item: &[u8]) -> bool {
        self.0.check(item)
    }
}

fn items(n: usize, seed: u64) -> Vec<[u8; ITEM_LEN]> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut item = [0u8; ITEM_LEN];
            rng.fill_bytes(&mut item);
            item
        })
        .collect()
}

fn bench_engine<E: Engine>(
    c: &mut Criterion,
    label: &str,
    present: &[[u8; ITEM_LEN]],
    absent: &[[u8; ITEM_LEN]],
    queries: usize,
) {
    let n = present.len();
    let mut group = c.benchmark_group(format!("bloom/{label}"));
    if n > 100_000 {
        group.sample_size(10);
    }

    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("add/{}", E::NAME), |b| {
        b.iter_batched(
            || E::with_capacity(n),
            |mut filter| {
                for item in present {
                    black_box(filter.add(item));
                }
                filter
            },
            BatchSize::LargeInput,
        )
    });

    let mut filter = E::with_capacity(n);
    for item in present {
        filter.add(item);
    }
    // The filter answers correctly before it is timed (no false negatives); its measured
    // false-positive rate is printed beside the timings.
    assert!(present.iter().all(|i| filter.contains(i)), "{}", E::NAME);
    let fp = absent.iter().filter(|i| filter.contains(&i[..])).count() as f64 / absent.len() as f64;
    eprintln!("{label} {}: measured false-positive rate {fp:.5}", E::NAME);

    let hits = &present[..queries.min(n)];
    let misses = &absent[..queries.min(absent.len())];
    group.throughput(Throughput::Elements(hits.len() as u64));
    group.bench_function(format!("exists_present/{}", E::NAME), |b| {
        b.iter(|| {
            for item in hits {
                black_box(filter.contains(black_box(item)));
            }
        })
    });
    group.throughput(Throughput::Elements(misses.len() as u64));
    group.bench_function(format!("exists_absent/{}", E::NAME), |b| {
        b.iter(|| {
            for item in misses {
                black_box(filter.contains(black_box(item)));
            }
        })
    });
    group.finish();
}

fn bench_size(c: &mut Criterion, n: usize, label: &str) {
    let present = items(n, 1);
    let absent = items(n.clamp(1_000, QUERIES_LARGE), 2);
    let queries = n.min(QUERIES_LARGE);
    bench_engine::<Sketchstore>(c, label, &present, &absent, queries);
    bench_engine::<FastBloom>(c, label, &present, &absent, queries);
    bench_engine::<BloomFilterCrate>(c, label, &present, &absent, queries);
}

fn small(c: &mut Criterion) {
    bench_size(c, 1_000, "1e3");
}

fn large(c: &mut Criterion) {
    bench_size(c, 10_000_000, "1e7");
}

criterion_group!(benches, small, large);
criterion_main!(benches);
