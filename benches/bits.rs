//! Bit commands on a minute-of-day activity string (1440 bytes: one `u8` counter per minute):
//! `BITFIELD key OVERFLOW SAT INCRBY u8 <minute*8> 1`, `GETBIT key <bit>` and
//! `BITFIELD key GET u8 <minute*8>`, through sketchstore's typed methods and its argv entry
//! point (`execute`), with the bare byte functions of `sketchstore::types::bitmap` on a
//! `Vec<u8>` as the floor (no keyspace, no lock), measured in the same run.
//!
//! The workload is written once against [`Engine`], with one adapter per engine. Offsets come
//! from a fixed-seed generator (minutes uniform over the day for the `u8` fields, bits uniform
//! over the string for GETBIT), so every engine sees the same sequence; their decimal text
//! for `execute` is formatted beforehand, not timed. The string starts as random bytes, so
//! saturating increments are a mix of plain and clamped ones, and more counters sit at 255
//! the longer the run.
//!
//! Run: `cargo bench --bench bits -- --warm-up-time 1 --measurement-time 2`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use sketchstore::types::bitmap::{self, BitfieldType, Overflow};
use sketchstore::{BitfieldOp, Reply, Store};
use std::hint::black_box;

const SEED: u64 = 0x5EED_B175;
const MINUTES: u64 = 1440;
const SEQ: usize = 1 << 16;
const KEY: &[u8] = b"activity:user:42:2024-06-01";

/// A bit offset and its decimal text.
struct Offset {
    bit: u64,
    text: Vec<u8>,
}

impl Offset {
    fn new(bit: u64) -> Offset {
        Offset {
            bit,
            text: bit.to_string().into_bytes(),
        }
    }
}

trait Engine {
    /// `BITFIELD key OVERFLOW SAT INCRBY u8 offset 1`: the new value.
    fn incr_u8_sat(&mut self, offset: &Offset) -> i64;
    /// `GETBIT key offset`.
    fn getbit(&mut self, offset: &Offset) -> u8;
    /// `BITFIELD key GET u8 offset`.
    fn get_u8(&mut self, offset: &Offset) -> i64;
}

struct Typed(Store);

impl Engine for Typed {
    fn incr_u8_sat(&mut self, offset: &Offset) -> i64 {
        let ops = [
            BitfieldOp::Overflow(Overflow::Sat),
            BitfieldOp::IncrBy(BitfieldType::U8, offset.bit.into(), 1),
        ];
        let r = self.0.bitfield(KEY, &ops).expect("BITFIELD");
        r[0].expect("SAT never fails")
    }
    fn getbit(&mut self, offset: &Offset) -> u8 {
        self.0.getbit(KEY, offset.bit).expect("GETBIT")
    }
    fn get_u8(&mut self, offset: &Offset) -> i64 {
        let r = self
            .0
            .bitfield(KEY, &[BitfieldOp::Get(BitfieldType::U8, offset.bit.into())])
            .expect("BITFIELD");
        r[0].expect("GET always answers")
    }
}

struct Execute(Store);

fn first_integer(r: Reply) -> i64 {
    match r {
        Reply::Array(v) => match v.first() {
            Some(Reply::Integer(n)) => *n,
            other => panic!("BITFIELD: {other:?}"),
        },
        other => panic!("BITFIELD: {other:?}"),
    }
}

impl Engine for Execute {
    fn incr_u8_sat(&mut self, offset: &Offset) -> i64 {
        first_integer(self.0.execute(&[
            b"BITFIELD".as_slice(),
            KEY,
            b"OVERFLOW",
            b"SAT",
            b"INCRBY",
            b"u8",
            &offset.text,
            b"1",
        ]))
    }
    fn getbit(&mut self, offset: &Offset) -> u8 {
        match self.0.execute(&[b"GETBIT".as_slice(), KEY, &offset.text]) {
            Reply::Integer(n) => n as u8,
            other => panic!("GETBIT: {other:?}"),
        }
    }
    fn get_u8(&mut self, offset: &Offset) -> i64 {
        first_integer(
            self.0
                .execute(&[b"BITFIELD".as_slice(), KEY, b"GET", b"u8", &offset.text]),
        )
    }
}

/// The byte functions the store calls, on a plain vector: the floor.
struct Bytes(Vec<u8>);

impl Engine for Bytes {
    fn incr_u8_sat(&mut self, offset: &Offset) -> i64 {
        bitmap::bitfield_incrby(&mut self.0, BitfieldType::U8, offset.bit, 1, Overflow::Sat)
            .expect("SAT never fails")
    }
    fn getbit(&mut self, offset: &Offset) -> u8 {
        bitmap::getbit(&self.0, offset.bit)
    }
    fn get_u8(&mut self, offset: &Offset) -> i64 {
        bitmap::bitfield_get(&self.0, BitfieldType::U8, offset.bit)
    }
}

fn engines(day: &[u8]) -> Vec<(&'static str, Box<dyn Engine>)> {
    let store = || {
        let s = Store::new();
        s.set(KEY, day).expect("SET");
        s
    };
    vec![
        ("typed", Box::new(Typed(store())) as Box<dyn Engine>),
        ("execute", Box::new(Execute(store()))),
        ("bytes", Box::new(Bytes(day.to_vec()))),
    ]
}

fn bits(c: &mut Criterion) {
    let mut rng = SmallRng::seed_from_u64(SEED);
    let mut day = vec![0u8; MINUTES as usize];
    rng.fill_bytes(&mut day);
    let minutes: Vec<Offset> = (0..SEQ)
        .map(|_| Offset::new(rng.gen_range(0..MINUTES) * 8))
        .collect();
    let bits: Vec<Offset> = (0..SEQ)
        .map(|_| Offset::new(rng.gen_range(0..MINUTES * 8)))
        .collect();

    let mut engines = engines(&day);
    for (name, e) in engines.iter_mut() {
        // The adapters agree on a fresh copy of the day before anything is timed.
        let probe = (e.get_u8(&minutes[0]), e.getbit(&bits[0]));
        let want = (
            bitmap::bitfield_get(&day, BitfieldType::U8, minutes[0].bit),
            bitmap::getbit(&day, bits[0].bit),
        );
        assert_eq!(probe, want, "{name}");
    }

    let mut group = c.benchmark_group("bits");
    group.throughput(Throughput::Elements(1));
    for (name, e) in engines.iter_mut() {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("bitfield_incrby_u8_sat", *name), |b| {
            b.iter(|| {
                i = (i + 1) % SEQ;
                black_box(e.incr_u8_sat(black_box(&minutes[i])))
            })
        });
    }
    for (name, e) in engines.iter_mut() {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("getbit", *name), |b| {
            b.iter(|| {
                i = (i + 1) % SEQ;
                black_box(e.getbit(black_box(&bits[i])))
            })
        });
    }
    for (name, e) in engines.iter_mut() {
        let mut i = 0;
        group.bench_function(BenchmarkId::new("bitfield_get_u8", *name), |b| {
            b.iter(|| {
                i = (i + 1) % SEQ;
                black_box(e.get_u8(black_box(&minutes[i])))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bits);
criterion_main!(benches);
