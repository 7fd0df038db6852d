//! A pageview, the session store's hottest path, measured four ways in one run: the direct
//! `SessionIntel::pageview` call (one MULTI/EXEC) and the round trip through the request bus
//! (PUBLISH, a responder thread running the pageview, RPUSH of the JSON reply, BLPOP), each
//! on the embedded store and on a `RedisBackend` against a local redis-server (loopback,
//! RedisBloom loaded) that the bench starts itself (with the `redis` feature).
//!
//! Workload: 1,000 sessions and 50 pages, chosen with a fixed seed; every call records a
//! view of a page by a session.
//!
//! Run: `cargo bench --bench pageview --features redis`.
// The bench waits for the server it starts; criterion does the timing.
#![allow(clippy::disallowed_methods)]

#[cfg(feature = "redis")]
#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use sketchstore::intel::bus::Request;
use sketchstore::intel::{Answer, BusConfig, IntelConfig, Requester, Responder, SessionIntel};
use sketchstore::Store;
use std::sync::Arc;
use std::time::Duration;

struct Workload {
    sessions: Vec<String>,
    pages: Vec<String>,
    rng: rand_chacha::ChaCha8Rng,
}

impl Workload {
    fn new() -> Workload {
        Workload {
            sessions: (0..1000).map(|i| format!("s{i:x}q")).collect(),
            pages: (0..50).map(|i| format!("page-{i}")).collect(),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(0x5e55),
        }
    }

    fn next(&mut self) -> (&str, &str) {
        let s = self.rng.gen_range(0..self.sessions.len());
        let p = self.rng.gen_range(0..self.pages.len());
        (&self.sessions[s], &self.pages[p])
    }
}

fn direct(c: &mut Criterion, name: &str, intel: &SessionIntel) {
    let mut w = Workload::new();
    c.bench_function(&format!("pageview/direct/{name}"), |b| {
        b.iter(|| {
            let (s, p) = w.next();
            intel.pageview(s, p).unwrap()
        })
    });
}

fn through_bus(c: &mut Criterion, name: &str, intel: &Arc<SessionIntel>) {
    let responder = Responder::spawn(intel.clone(), "*", BusConfig::default()).unwrap();
    let mut cfg = BusConfig::default();
    cfg.app_timeout = Duration::from_secs(5);
    let requester = Requester::new(intel.backend().clone(), cfg);
    let mut w = Workload::new();
    c.bench_function(&format!("pageview/bus/{name}"), |b| {
        b.iter(|| {
            let (s, p) = w.next();
            let a = requester
                .call_blocking(s, &Request::Pageview { page: p.to_owned() })
                .unwrap();
            assert!(matches!(a, Answer::Replied(_)), "{a:?}");
        })
    });
    assert_eq!(responder.failed(), 0, "{:?}", responder.last_error());
    responder.stop();
}

fn embedded(c: &mut Criterion) {
    let store = Store::new();
    let intel = Arc::new(SessionIntel::embedded(&store, IntelConfig::default()).unwrap());
    direct(c, "embedded", &intel);
    through_bus(c, "embedded", &intel);
}

#[cfg(feature = "redis")]
fn redis(c: &mut Criterion) {
    let module = common::cluster::redisbloom_module();
    let server = common::RedisServer::start_with(&["--loadmodule", &module]);
    let backend = sketchstore::RedisBackend::connect(&server.url()).expect("connect");
    let intel = Arc::new(SessionIntel::new(Arc::new(backend), IntelConfig::default()).unwrap());
    direct(c, "redis", &intel);
    through_bus(c, "redis", &intel);
    drop(server);
}

#[cfg(not(feature = "redis"))]
fn redis(_: &mut Criterion) {
    eprintln!("pageview: the RedisBackend half needs --features redis");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = embedded, redis
}
criterion_main!(benches);
