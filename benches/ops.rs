//! GET, SET and INCR on a keyspace of 100,000 keys: sketchstore's typed methods and its argv
//! entry point (`execute`), against a `HashMap<Vec<u8>, Vec<u8>>` behind a parking_lot
//! mutex and behind a std mutex, measured in the same run.
//!
//! The workload is written once against [`Engine`], with one adapter per engine. Keys are
//! drawn uniformly from the keyspace by a fixed-seed generator, so every engine sees the
//! same sequence. The baselines store text and INCR parses and formats it, which is what a
//! map of byte strings has to do; sketchstore keeps counters decoded.
//!
//! Run: `cargo bench --bench ops -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use sketchstore::{Reply, Store};
use std::collections::HashMap;
use std::hint::black_box;

const KEYS: usize = 100_000;
const SEQ: usize = 1 << 16;
const SEED: u64 = 0x5EED_0F0A;

trait Engine {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    fn set(&self, key: &[u8], value: &[u8]);
    fn incr(&self, key: &[u8]) -> i64;
}

struct Typed(Store);

impl Engine for Typed {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).expect("GET")
    }
    fn set(&self, key: &[u8], value: &[u8]) {
        self.0.set(key, value).expect("SET");
    }
    fn incr(&self, key: &[u8]) -> i64 {
        self.0.incr(key).expect("INCR")
    }
}

struct Execute(Store);

impl Engine for Execute {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.0.execute(&[b"GET", key]) {
            Reply::Bulk(b) => Some(b),
            Reply::Nil => None,
            other => panic!("GET: {other:?}"),
        }
    }
    fn set(&self, key: &[u8], value: &[u8]) {
        let r = self.0.execute(&[b"SET", key, value]);
        debug_assert_eq!(r, Reply::ok());
        black_box(r);
    }
    fn incr(&self, key: &[u8]) -> i64 {
        match self.0.execute(&[b"INCR", key]) {
            Reply::Integer(n) => n,
            other => panic!("INCR: {other:?}"),
        }
    }
}

fn incr_text(v: &mut Vec<u8>) -> i64 {
    let n: i64 = std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("an integer");
    let n = n + 1;
    v.clear();
    v.extend_from_slice(n.to_string().as_bytes());
    n
}

struct ParkingLotMap(parking_lot::Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl Engine for ParkingLotMap {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.lock().get(key).cloned()
    }
    fn set(&self, key: &[u8], value: &[u8]) {
        self.0.lock().insert(key.to_vec(), value.to_vec());
    }
    fn incr(&self, key: &[u8]) -> i64 {
        let mut m = self.0.lock();
        match m.get_mut(key) {
            Some(v) => incr_text(v),
            None => {
                m.insert(key.to_vec(), b"1".to_vec());
                1
            }
        }
    }
}

struct StdMap(std::sync::Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl Engine for StdMap {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.lock().expect("lock").get(key).cloned()
    }
    fn set(&self, key: &[u8], value: &[u8]) {
        self.0
            .lock()
            .expect("lock")
            .insert(key.to_vec(), value.to_vec());
    }
    fn incr(&self, key: &[u8]) -> i64 {
        let mut m = self.0.lock().expect("lock");
        match m.get_mut(key) {
            Some(v) => incr_text(v),
            None => {
                m.insert(key.to_vec(), b"1".to_vec());
                1
            }
        }
    }
}

/// Keys `session:000000` .. `session:099999` (14 bytes, like a session id), values their
/// index as text so that INCR works on any of them.
fn keyspace() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..KEYS)
        .map(|i| {
            (
                format!("session:{i:06}").into_bytes(),
                i.to_string().into_bytes(),
            )
        })
        .collect()
}

fn engines(data: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&'static str, Box<dyn Engine>)> {
    let store = || {
        let s = Store::new();
        s.mset(data).expect("MSET");
        s
    };
    let map: HashMap<Vec<u8>, Vec<u8>> = data.iter().cloned().collect();
    vec![
        ("typed", Box::new(Typed(store())) as Box<dyn Engine>),
        ("execute", Box::new(Execute(store()))),
        (
            "parking_lot_hashmap",
            Box::new(ParkingLotMap(parking_lot::Mutex::new(map.clone()))),
        ),
        (
            "std_mutex_hashmap",
            Box::new(StdMap(std::sync::Mutex::new(map))),
        ),
    ]
}

fn ops(c: &mut Criterion) {
    let data = keyspace();
    let engines = engines(&data);
    let mut rng = SmallRng::seed_from_u64(SEED);
    let seq: Vec<usize> = (0..SEQ).map(|_| rng.gen_range(0..KEYS)).collect();
    let key = |i: usize| data[seq[i % SEQ]].0.as_slice();

    let mut group = c.benchmark_group("ops");
    group.throughput(Throughput::Elements(1));
    for (name, engine) in &engines {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("get", name), |b| {
            b.iter(|| {
                i += 1;
                black_box(engine.get(black_box(key(i))))
            })
        });
    }
    for (name, engine) in &engines {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("set", name), |b| {
            b.iter(|| {
                i += 1;
                engine.set(black_box(key(i)), black_box(b"4242"))
            })
        });
    }
    for (name, engine) in &engines {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("incr", name), |b| {
            b.iter(|| {
                i += 1;
                black_box(engine.incr(black_box(key(i))))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ops);
criterion_main!(benches);
