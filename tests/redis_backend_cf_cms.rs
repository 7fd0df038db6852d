//! The cuckoo filter and count-min sketch of `RedisBackend` on a Redis without RedisBloom
//! (emulated with Lua scripts over plain data) against the embedded store and against
//! `RedisBackend` on a Redis with RedisBloom: seeded streams of typed calls must give
//! identical results, errors included; on a cluster too, with untagged keys.
#![cfg(feature = "redis")]

mod common;

use common::cluster::{redisbloom_module, RedisCluster};
use common::{words, RedisServer};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Backend, CfInsertOptions, CfReserveOptions, RedisBackend, RedisOptions, Store};
use std::sync::atomic::{AtomicU64, Ordering};

fn line_reply(b: &dyn Backend, l: &str) -> sketchstore::Reply {
    let argv = words(l);
    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    b.execute(&refs).unwrap()
}

fn show<T: std::fmt::Debug>(r: sketchstore::Result<T>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    }
}

/// The CF operation `step` of a seeded stream on `b`, its result as text.
fn cf_step(b: &dyn Backend, rng: &mut ChaCha8Rng, keys: &[&str], pool: &[String]) -> String {
    let key = keys.choose(rng).unwrap().as_bytes();
    let item = pool.choose(rng).unwrap().as_bytes();
    let batch: Vec<&[u8]> = (0..rng.gen_range(1..8))
        .map(|_| pool.choose(rng).unwrap().as_bytes())
        .collect();
    match rng.gen_range(0..100) {
        0..=29 => show(b.cf_add(key, item)),
        30..=39 => show(b.cf_addnx(key, item)),
        40..=47 => show(b.cf_insert(key, CfInsertOptions::default(), &batch)),
        48..=51 => show(b.cf_insertnx(
            key,
            CfInsertOptions {
                capacity: 64,
                nocreate: rng.gen_bool(0.5),
            },
            &batch,
        )),
        52..=61 => show(b.cf_exists(key, item)),
        62..=67 => show(b.cf_mexists(key, &batch)),
        68..=84 => show(b.cf_del(key, item)),
        85..=92 => show(b.cf_count(key, item)),
        _ => show(b.cf_info(key)),
    }
}

/// Filters of every shape: growing by 2, never growing (full errors), wide buckets, short
/// walks; `cf:auto` is created by the first add, `cf:none` never exists, `cf:str` is a string.
fn cf_setup(b: &dyn Backend) -> Vec<String> {
    let shapes = [
        (
            "cf:grow",
            24,
            CfReserveOptions {
                bucket_size: 2,
                max_iterations: 5,
                expansion: 2,
            },
        ),
        (
            "cf:fixed",
            16,
            CfReserveOptions {
                bucket_size: 2,
                max_iterations: 20,
                expansion: 0,
            },
        ),
        (
            "cf:wide",
            40,
            CfReserveOptions {
                bucket_size: 4,
                max_iterations: 3,
                expansion: 1,
            },
        ),
        (
            "cf:three",
            12,
            CfReserveOptions {
                bucket_size: 3,
                max_iterations: 1,
                expansion: 3,
            },
        ),
    ];
    let mut out = Vec::new();
    for (k, cap, opts) in shapes {
        out.push(show(b.cf_reserve(k.as_bytes(), cap, opts)));
    }
    out.push(show(b.cf_reserve(
        b"cf:grow",
        100,
        CfReserveOptions::default(),
    )));
    out.push(show(b.cf_reserve(
        b"cf:bad",
        3,
        CfReserveOptions::default(),
    )));
    out.push(show(b.set(b"cf:str", b"v")));
    let nocreate = CfInsertOptions {
        capacity: 100,
        nocreate: true,
    };
    out.push(show(b.cf_insert(b"cf:missing", nocreate, &[b"x"])));
    out.push(show(b.cf_insert(
        b"cf:missing",
        CfInsertOptions::default(),
        &[],
    )));
    out.push(show(b.cf_info(b"cf:missing")));
    out.push(show(b.cf_del(b"cf:missing", b"x")));
    out.push(show(b.cf_count(b"cf:missing", b"x")));
    out.push(show(b.cf_mexists(b"cf:missing", &[b"x", b"y"])));
    out.push(show(b.cf_info(b"cf:str")));
    out.push(show(b.cf_del(b"cf:str", b"x")));
    out.push(show(b.cf_count(b"cf:str", b"x")));
    out
}

fn cf_stream(b: &dyn Backend, seed: u64, steps: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let keys = [
        "cf:grow", "cf:fixed", "cf:wide", "cf:three", "cf:auto", "cf:none", "cf:str",
    ];
    let pool: Vec<String> = (0..150).map(|i| format!("item:{i}")).collect();
    let mut out = cf_setup(b);
    for step in 0..steps {
        out.push(format!("{step}: {}", cf_step(b, &mut rng, &keys, &pool)));
    }
    for k in keys {
        out.push(show(b.cf_info(k.as_bytes())));
    }
    out
}

fn cms_step(b: &dyn Backend, rng: &mut ChaCha8Rng, keys: &[&str], pool: &[String]) -> String {
    let key = keys.choose(rng).unwrap().as_bytes();
    let items: Vec<&[u8]> = (0..rng.gen_range(1..6))
        .map(|_| pool.choose(rng).unwrap().as_bytes())
        .collect();
    match rng.gen_range(0..100) {
        0..=44 => {
            let pairs: Vec<(&[u8], u64)> = items
                .iter()
                .map(|&i| {
                    let v = match rng.gen_range(0..40) {
                        0 => 1 << 32,
                        1 => (1 << 31) + 7,
                        2 => 1 << 40,
                        3 => (i64::MAX as u64) + 1,
                        _ => rng.gen_range(0..50),
                    };
                    (i, v)
                })
                .collect();
            show(b.cms_incrby(key, &pairs))
        }
        45..=74 => show(b.cms_query(key, &items)),
        75..=84 => show(b.cms_info(key)),
        _ => {
            let n = rng.gen_range(1..4);
            let sources: Vec<&[u8]> = (0..n)
                .map(|_| keys.choose(rng).unwrap().as_bytes())
                .collect();
            let weights: Vec<i64> = (0..n)
                .map(|_| match rng.gen_range(0..10) {
                    0 => -1,
                    1 => 1 << 40,
                    _ => rng.gen_range(0..4),
                })
                .collect();
            let w = match rng.gen_range(0..4) {
                0 => None,
                1 => Some(&weights[..n - 1]),
                _ => Some(&weights[..]),
            };
            show(b.cms_merge(key, &sources, w))
        }
    }
}

fn cms_stream(b: &dyn Backend, seed: u64, steps: usize, tag: &str) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let names: Vec<String> = ["a", "b", "c", "prob", "none", "str"]
        .iter()
        .map(|n| format!("{tag}cms:{n}"))
        .collect();
    let keys: Vec<&str> = names.iter().map(String::as_str).collect();
    let pool: Vec<String> = (0..300).map(|i| format!("user:{i}")).collect();
    let mut out = vec![
        show(b.cms_initbydim(keys[0].as_bytes(), 40, 4)),
        show(b.cms_initbydim(keys[1].as_bytes(), 40, 4)),
        show(b.cms_initbydim(keys[2].as_bytes(), 30, 4)),
        show(b.cms_initbyprob(keys[3].as_bytes(), 0.05, 0.01)),
        show(b.cms_initbydim(keys[0].as_bytes(), 10, 2)),
        show(b.cms_initbydim(b"cms:zero", 0, 2)),
        show(b.cms_initbydim(b"cms:zero", 5, 0)),
        show(b.cms_initbyprob(b"cms:zero", 1.5, 0.1)),
        show(b.cms_initbyprob(b"cms:zero", 0.1, 0.0)),
        show(b.set(keys[5].as_bytes(), b"v")),
        show(b.cms_initbydim(keys[5].as_bytes(), 10, 2)),
    ];
    for step in 0..steps {
        out.push(format!("{step}: {}", cms_step(b, &mut rng, &keys, &pool)));
    }
    for k in &keys {
        out.push(show(b.cms_info(k.as_bytes())));
    }
    out
}

fn assert_same(what: &str, want: &[String], got: &[String]) {
    assert_eq!(want.len(), got.len(), "{what}: stream lengths");
    for (w, g) in want.iter().zip(got) {
        assert_eq!(w, g, "{what}: first difference");
    }
}

#[test]
fn cuckoo_streams_match_embedded_and_redisbloom() {
    let plain = RedisServer::start();
    let module = redisbloom_module();
    let bloom = RedisServer::start_with(&["--loadmodule", &module]);
    let emulated = RedisBackend::connect(&plain.url()).unwrap();
    let native = RedisBackend::connect(&bloom.url()).unwrap();
    assert!(!emulated.bloom_is_native().unwrap());
    assert!(native.bloom_is_native().unwrap());
    for seed in [1, 2, 3] {
        let store = Store::new();
        let want = cf_stream(&store, seed, 1500);
        assert_same("emulated", &want, &cf_stream(&emulated, seed, 1500));
        assert_same("redisbloom", &want, &cf_stream(&native, seed, 1500));
        // The streams reach growth, full filters, compaction and every error.
        let text = want.join("\n");
        for needle in [
            "Filter is full",
            "Not found",
            "WRONGTYPE",
            "ERR not found",
            "num_filters: 3",
        ] {
            assert!(
                text.contains(needle),
                "seed {seed} never reached {needle:?}"
            );
        }
        emulated.flushall().unwrap();
        native.flushall().unwrap();
    }
}

#[test]
fn count_min_streams_match_embedded_and_redisbloom() {
    let plain = RedisServer::start();
    let module = redisbloom_module();
    let bloom = RedisServer::start_with(&["--loadmodule", &module]);
    let emulated = RedisBackend::connect(&plain.url()).unwrap();
    let native = RedisBackend::connect(&bloom.url()).unwrap();
    for seed in [7, 8] {
        let store = Store::new();
        let want = cms_stream(&store, seed, 800, "");
        assert_same("emulated", &want, &cms_stream(&emulated, seed, 800, ""));
        assert_same("redisbloom", &want, &cms_stream(&native, seed, 800, ""));
        let text = want.join("\n");
        for needle in [
            "INCRBY overflow",
            "MERGE overflow",
            "width/depth is not equal",
            "Cannot parse number",
            "key does not exist",
            "wrong number of keys/weights",
        ] {
            assert!(
                text.contains(needle),
                "seed {seed} never reached {needle:?}"
            );
        }
        emulated.flushall().unwrap();
        native.flushall().unwrap();
    }
}

#[test]
fn emulated_sub_filters_hold_redisbloom_bytes() {
    let module = redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let native = RedisBackend::connect(&server.url()).unwrap();
    let mut opts = RedisOptions::default();
    opts.bloom = sketchstore::BloomMode::Emulate;
    let emulated = RedisBackend::connect_with(&server.url(), opts).unwrap();
    let shape = CfReserveOptions {
        bucket_size: 2,
        max_iterations: 10,
        expansion: 2,
    };
    native.cf_reserve(b"{f}n", 32, shape).unwrap();
    emulated.cf_reserve(b"{f}e", 32, shape).unwrap();
    let items: Vec<String> = (0..200).map(|i| format!("sku:{i}")).collect();
    for (i, item) in items.iter().enumerate() {
        assert_eq!(
            show(native.cf_add(b"{f}n", item.as_bytes())),
            show(emulated.cf_add(b"{f}e", item.as_bytes()))
        );
        if i % 5 == 0 {
            let gone = items[i / 2].as_bytes();
            assert_eq!(
                show(native.cf_del(b"{f}n", gone)),
                show(emulated.cf_del(b"{f}e", gone))
            );
        }
    }
    let info = native.cf_info(b"{f}n").unwrap();
    assert_eq!(info, emulated.cf_info(b"{f}e").unwrap());
    assert!(info.num_filters >= 2, "{info:?}");
    // CF.SCANDUMP's chunks, oldest sub-filter first, are the emulated strings' bytes.
    let mut dumped = Vec::new();
    let mut cursor = 1i64;
    loop {
        let r = line_reply(&native, &format!("CF.SCANDUMP {{f}}n {cursor}"));
        let sketchstore::Reply::Array(parts) = r else {
            panic!("CF.SCANDUMP: {r:?}")
        };
        let (sketchstore::Reply::Integer(next), sketchstore::Reply::Bulk(data)) =
            (&parts[0], &parts[1])
        else {
            break;
        };
        if *next == 0 {
            break;
        }
        dumped.extend_from_slice(data);
        cursor = *next;
    }
    let mut subs = Vec::new();
    for i in 0..info.num_filters {
        subs.extend(
            emulated
                .get(format!("{{f}}e:cf:{i}").as_bytes())
                .unwrap()
                .unwrap(),
        );
    }
    assert!(
        subs == dumped,
        "the emulated sub-filters are RedisBloom's bytes"
    );
    // The counters of an emulated sketch are RedisBloom's counts.
    native.cms_initbydim(b"{m}n", 64, 3).unwrap();
    emulated.cms_initbydim(b"{m}e", 64, 3).unwrap();
    for (i, item) in items.iter().enumerate() {
        let pairs = [(item.as_bytes(), (i % 7) as u64)];
        assert_eq!(
            show(native.cms_incrby(b"{m}n", &pairs)),
            show(emulated.cms_incrby(b"{m}e", &pairs))
        );
    }
    let refs: Vec<&[u8]> = items.iter().map(String::as_bytes).collect();
    assert_eq!(
        native.cms_query(b"{m}n", &refs).unwrap(),
        emulated.cms_query(b"{m}e", &refs).unwrap()
    );
    assert_eq!(
        native.cms_info(b"{m}n").unwrap(),
        emulated.cms_info(b"{m}e").unwrap()
    );
}

#[test]
fn emulation_is_atomic_across_clients() {
    let server = RedisServer::start();
    let a = RedisBackend::connect(&server.url()).unwrap();
    let b = RedisBackend::connect(&server.url()).unwrap();
    let shape = CfReserveOptions {
        bucket_size: 2,
        max_iterations: 20,
        expansion: 2,
    };
    a.cf_reserve(b"shared", 16, shape).unwrap();
    a.cms_initbydim(b"hits", 100, 4).unwrap();
    let added = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..4 {
            let backend = if t % 2 == 0 { a.clone() } else { b.clone() };
            let added = &added;
            s.spawn(move || {
                for i in 0..100 {
                    let item = format!("{t}-{i}");
                    if backend.cf_add(b"shared", item.as_bytes()).unwrap() {
                        added.fetch_add(1, Ordering::SeqCst);
                    }
                    backend.cms_incrby(b"hits", &[(b"page", 1)]).unwrap();
                }
            });
        }
    });
    let info = a.cf_info(b"shared").unwrap();
    assert_eq!(info.num_items, added.load(Ordering::SeqCst));
    assert_eq!(info.num_items, 400);
    for t in 0..4 {
        let names: Vec<String> = (0..100).map(|i| format!("{t}-{i}")).collect();
        let refs: Vec<&[u8]> = names.iter().map(String::as_bytes).collect();
        assert!(b.cf_mexists(b"shared", &refs).unwrap().iter().all(|&x| x));
    }
    assert_eq!(b.cms_query(b"hits", &[b"page"]).unwrap(), vec![400]);
    assert_eq!(b.cms_info(b"hits").unwrap().count, 400);
    // Merges (read, merge in Rust, checked write) racing increments of their destination
    // lose nothing: every merge adds the source's 5 once, every increment its 1.
    a.cms_initbydim(b"{m}dest", 50, 3).unwrap();
    a.cms_initbydim(b"{m}src", 50, 3).unwrap();
    a.cms_incrby(b"{m}src", &[(b"x", 5)]).unwrap();
    std::thread::scope(|s| {
        for t in 0..3 {
            let backend = if t % 2 == 0 { a.clone() } else { b.clone() };
            s.spawn(move || {
                for i in 0..40 {
                    if t == 0 {
                        if i % 4 == 0 {
                            backend
                                .cms_merge(b"{m}dest", &[b"{m}dest", b"{m}src"], None)
                                .unwrap();
                        }
                    } else {
                        backend.cms_incrby(b"{m}dest", &[(b"y", 1)]).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(a.cms_info(b"{m}dest").unwrap().count, 80 + 10 * 5);
    assert_eq!(
        a.cms_query(b"{m}dest", &[b"x", b"y"]).unwrap(),
        vec![50, 80]
    );
    // A second client's cached depth goes stale when the sketch is created again.
    a.del(&[b"hits"]).unwrap();
    a.cms_initbydim(b"hits", 10, 7).unwrap();
    assert_eq!(
        b.cms_incrby(b"hits", &[(b"page", 2)]).unwrap()[0]
            .as_ref()
            .unwrap(),
        &2
    );
    assert_eq!(b.cms_info(b"hits").unwrap().depth, 7);
    // The embedded store's memory budget, with its texts (RedisBloom itself would try to
    // allocate).
    let store = Store::new();
    let huge = CfReserveOptions::default();
    assert_eq!(
        show(a.cf_reserve(b"huge", 1 << 40, huge)),
        show(store.cf_reserve(b"huge", 1 << 40, huge))
    );
    assert_eq!(
        show(a.cms_initbydim(b"big", 1 << 30, 1 << 10)),
        show(store.cms_initbydim(b"big", 1 << 30, 1 << 10))
    );
    assert_eq!(
        show(a.cms_initbyprob(b"big", 1e-9, 0.5)),
        show(store.cms_initbyprob(b"big", 1e-9, 0.5))
    );
    assert_eq!(a.exists(&[b"huge", b"big"]).unwrap(), 0);
    // A deleted filter's sub-filters do not leak into the next one.
    a.del(&[b"shared"]).unwrap();
    assert!(!b.cf_exists(b"shared", b"0-0").unwrap());
    a.cf_reserve(b"shared", 16, shape).unwrap();
    assert!(!b.cf_exists(b"shared", b"0-0").unwrap());
    assert_eq!(a.key_type(b"shared").unwrap(), sketchstore::KeyType::Hash);
}

#[test]
fn cluster_emulation_takes_untagged_keys() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let b = RedisBackend::cluster(&nodes).unwrap();
    assert!(!b.bloom_is_native().unwrap());
    let store = Store::new();
    assert_same(
        "cluster cf",
        &cf_stream(&store, 11, 600),
        &cf_stream(&b, 11, 600),
    );
    // Merges need their keys in one slot, as on any cluster: tagged names.
    let store = Store::new();
    assert_same(
        "cluster cms",
        &cms_stream(&store, 12, 300, "{m}"),
        &cms_stream(&b, 12, 300, "{m}"),
    );
    // The sub-filters live on their filter key's node.
    let Some(sketchstore::Reply::Array(keys)) =
        Some(cluster.conn_for("cf:grow").cmd(&["KEYS", "*cf:grow:cf:*"]))
    else {
        panic!("KEYS failed");
    };
    assert!(
        keys.len() >= 2,
        "the sub-filters of a grown filter: {keys:?}"
    );
}
