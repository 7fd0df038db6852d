//! Memory limits: `noeviction` refuses growing writes with Redis's OOM text and keeps data
//! intact; `allkeys-lru` evicts cold keys before hot ones; `volatile-ttl` the nearest
//! expiries; `allkeys-random` keeps the estimate under the limit; the estimate tracks what is
//! stored and returns to zero when it is gone.

use sketchstore::{Error, EvictionPolicy, ManualClock, Reply, Store};
use std::time::Duration;

/// The tests of this file run one at a time: one of them measures the process's RSS, which
/// the others' allocations would inflate.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
const T0: i64 = 1_700_000_000_000;

fn limited(clock: &ManualClock, limit: usize, policy: EvictionPolicy) -> Store {
    Store::builder()
        .clock(clock.clock())
        .max_memory(limit)
        .eviction_policy(policy)
        .build()
}

fn exists(store: &Store, key: &str) -> bool {
    store.execute(&["EXISTS", key]) == Reply::Integer(1)
}

#[test]
fn no_limit_counts_nothing() {
    let _serial = serial();
    let store = Store::new();
    store.set("k", "v").unwrap();
    assert_eq!(store.used_memory(), 0);
    assert_eq!(store.max_memory(), None);
    assert_eq!(Store::builder().max_memory(0).build().max_memory(), None);
}

#[test]
fn noeviction_refuses_growing_writes_and_keeps_data() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let store = limited(&clock, 64 * 1024, EvictionPolicy::NoEviction);
    let value = "x".repeat(100);
    let mut stored = 0;
    loop {
        match store.execute(&["SET", &format!("k{stored}"), &value]) {
            Reply::Status(s) if s == "OK" => stored += 1,
            Reply::Error(e) => {
                assert_eq!(e, OOM);
                break;
            }
            other => panic!("{other:?}"),
        }
        assert!(stored < 10_000, "the limit was never reached");
    }
    assert!(stored > 100, "only {stored} keys fit in 64 KiB");
    let used = store.used_memory();
    assert!(used > 64 * 1024 && used < 64 * 1024 + 1024, "{used}");
    // Every denyoom command is refused, and refused before it changes anything.
    for argv in [
        vec!["SET", "k0", "changed"],
        vec!["APPEND", "k0", "more"],
        vec!["INCR", "counter"],
        vec!["HSET", "h", "f", "v"],
        vec!["RPUSH", "l", "a"],
        vec!["PFADD", "p", "a"],
        vec!["BF.ADD", "b", "a"],
        vec!["SETBIT", "bits", "7", "1"],
    ] {
        assert_eq!(
            store.execute(&argv),
            Reply::Error(OOM.to_owned()),
            "{argv:?}"
        );
    }
    assert_eq!(Error::from_reply_text(OOM), Error::OutOfMemory);
    assert_eq!(Error::OutOfMemory.to_string(), OOM);
    // Data is intact; reads, expiries and deletes still work.
    for i in 0..stored {
        assert_eq!(
            store.get(format!("k{i}")).unwrap().as_deref(),
            Some(value.as_bytes())
        );
    }
    assert_eq!(
        store.execute(&["EXISTS", "counter", "h", "l", "p", "b", "bits"]),
        Reply::Integer(0)
    );
    assert_eq!(store.execute(&["PEXPIRE", "k1", "10"]), Reply::Integer(1));
    assert_eq!(store.execute(&["DEL", "k2", "k3", "k4"]), Reply::Integer(3));
    assert!(store.used_memory() < used);
    // Room again: writes are accepted until the limit is crossed again.
    assert_eq!(store.execute(&["SET", "k2", "v"]), Reply::ok());
    clock.advance(Duration::from_millis(10));
    assert_eq!(store.execute(&["GET", "k1"]), Reply::Nil);
}

#[test]
fn allkeys_lru_evicts_cold_keys_before_hot_ones() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let store = limited(&clock, 128 * 1024, EvictionPolicy::AllKeysLru);
    let value = "v".repeat(100);
    for i in 0..100 {
        store.set(format!("cold:{i}"), &value).unwrap();
    }
    clock.advance(Duration::from_secs(10));
    for i in 0..100 {
        store.set(format!("hot:{i}"), &value).unwrap();
    }
    assert!(store.used_memory() < 128 * 1024, "no eviction yet");
    for i in 0..2000 {
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            store.execute(&["SET", &format!("new:{i}"), &value]),
            Reply::ok()
        );
        if i % 5 == 0 {
            for h in 0..100 {
                store.get(format!("hot:{h}")).unwrap();
            }
        }
        assert!(store.used_memory() <= 128 * 1024);
    }
    let hot = (0..100)
        .filter(|i| exists(&store, &format!("hot:{i}")))
        .count();
    let cold = (0..100)
        .filter(|i| exists(&store, &format!("cold:{i}")))
        .count();
    let recent = (1900..2000)
        .filter(|i| exists(&store, &format!("new:{i}")))
        .count();
    assert!(hot >= 98, "hot keys kept: {hot}/100");
    assert_eq!(cold, 0, "cold keys kept: {cold}/100");
    assert!(recent >= 95, "most recent keys kept: {recent}/100");
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiries() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let store = limited(&clock, 80 * 1024, EvictionPolicy::VolatileTtl);
    let value = "v".repeat(100);
    // 200 volatile keys, key i expiring in i seconds, and persistent keys pushing past the
    // limit.
    for i in 1..=200 {
        store.execute(&["SET", &format!("vol:{i}"), &value, "EX", &i.to_string()]);
    }
    for i in 0..200 {
        assert_eq!(
            store.execute(&["SET", &format!("keep:{i}"), &value]),
            Reply::ok()
        );
    }
    let kept: Vec<usize> = (1..=200)
        .filter(|i| exists(&store, &format!("vol:{i}")))
        .collect();
    let evicted = 200 - kept.len();
    assert!(evicted > 50, "evicted {evicted}");
    assert!(
        (0..200).all(|i| exists(&store, &format!("keep:{i}"))),
        "only volatile keys go"
    );
    // The evicted keys are (approximately, by sampling) the nearest expiries: at most 15% of
    // the `evicted - 10` nearest are kept, and those past the `evicted + 20` nearest stay.
    let early_kept = kept.iter().filter(|&&i| i <= evicted - 10).count();
    assert!(
        early_kept * 100 <= (evicted - 10) * 15,
        "{early_kept} of the {} nearest expiries kept",
        evicted - 10
    );
    let far_evicted: Vec<usize> = (evicted + 20..=200).filter(|i| !kept.contains(i)).collect();
    assert!(
        far_evicted.len() <= 3,
        "far expiries evicted: {far_evicted:?}"
    );
    // With no volatile key left to evict, growing writes are refused.
    store.execute(&["PERSIST", "vol:200"]);
    let mut refused = false;
    for i in 0..2000 {
        if let Reply::Error(e) = store.execute(&["SET", &format!("more:{i}"), &value]) {
            assert_eq!(e, OOM);
            refused = true;
            break;
        }
    }
    assert!(refused);
    assert!((0..200).all(|i| exists(&store, &format!("keep:{i}"))));
}

#[test]
fn volatile_lru_evicts_only_volatile_keys() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let store = limited(&clock, 64 * 1024, EvictionPolicy::VolatileLru);
    let value = "v".repeat(100);
    for i in 0..100 {
        store.execute(&["SET", &format!("keep:{i}"), &value]);
    }
    for i in 0..1000 {
        clock.advance(Duration::from_millis(1));
        let r = store.execute(&["SET", &format!("vol:{i}"), &value, "EX", "1000"]);
        assert_eq!(r, Reply::ok());
    }
    assert!((0..100).all(|i| exists(&store, &format!("keep:{i}"))));
    assert!(store.used_memory() <= 64 * 1024);
}

#[test]
fn allkeys_random_keeps_memory_under_the_limit() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let limit = 256 * 1024;
    let store = limited(&clock, limit, EvictionPolicy::AllKeysRandom);
    let mut x = 12345u64;
    for i in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = format!("k{}", x % 5000);
        let r = match i % 5 {
            0 => store.execute(&["SET", &key, &"s".repeat((x % 2000) as usize)]),
            1 => store.execute(&["RPUSH", &format!("l{key}"), &"e".repeat((x % 300) as usize)]),
            2 => store.execute(&["HSET", &format!("h{key}"), &format!("f{}", x % 50), "value"]),
            3 => store.execute(&["PFADD", &format!("p{key}"), &i.to_string()]),
            _ => store.execute(&["INCR", &format!("n{key}")]),
        };
        assert!(!matches!(r, Reply::Error(_)), "{r:?}");
        assert!(
            store.used_memory() <= limit,
            "{} > {limit}",
            store.used_memory()
        );
    }
    assert!(store.stored_keys() > 100);
}

#[test]
fn the_estimate_returns_to_zero() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let store = limited(&clock, usize::MAX / 2, EvictionPolicy::NoEviction);
    for i in 0..500 {
        let k = format!("k{i}");
        store.execute(&["SET", &format!("s{k}"), "value", "PX", "100"]);
        store.execute(&["RPUSH", &format!("l{k}"), "a", "b", "c"]);
        store.execute(&["HSET", &format!("h{k}"), "f", "v"]);
        store.execute(&["PFADD", &format!("p{k}"), "a"]);
        store.execute(&["BF.ADD", &format!("b{k}"), "a"]);
        store.execute(&["INCR", &format!("n{k}")]);
    }
    let full = store.used_memory();
    assert!(full > 500 * 6 * 100, "{full}");
    clock.advance(Duration::from_millis(100));
    assert_eq!(store.sweep_expired(usize::MAX), 500);
    assert!(store.used_memory() < full);
    for i in 0..250 {
        store.execute(&["DEL", &format!("lk{i}")]);
        store.execute(&["LPOP", &format!("lk{}", i + 250), "3"]);
    }
    store.execute(&["FLUSHALL"]);
    assert_eq!(store.used_memory(), 0);
}

/// Linux only: the estimate of 100,000 session hashes against the process's RSS growth.
#[cfg(target_os = "linux")]
#[test]
fn the_estimate_is_within_a_factor_of_two_of_rss() {
    let _serial = serial();
    fn rss() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4096
    }
    let store = Store::builder()
        .max_memory(usize::MAX / 2)
        .eviction_policy(EvictionPolicy::AllKeysLru)
        .build();
    let before = rss();
    for i in 0..100_000 {
        let key = format!("session:{i:08}");
        store
            .hset(
                &key,
                &[
                    ("user", "user-12345"),
                    ("ip", "10.0.0.1"),
                    ("agent", "Mozilla/5.0 (X11; Linux x86_64)"),
                    ("seen", "1700000000"),
                ],
            )
            .unwrap();
        store.set(format!("views:{i}"), "12345678").unwrap();
    }
    let grown = rss().saturating_sub(before);
    let est = store.used_memory();
    eprintln!(
        "estimate {est} bytes, RSS growth {grown} bytes, ratio {:.2}",
        est as f64 / grown as f64
    );
    assert!(
        est * 2 >= grown && est <= grown * 2,
        "estimate {est}, RSS growth {grown}"
    );
}

/// The typed methods and MULTI/EXEC are refused under `noeviction` as `execute` is: the
/// typed write returns `Error::OutOfMemory`, a queued write flags the transaction.
#[test]
fn noeviction_refuses_typed_writes_and_queued_writes() {
    let _serial = serial();
    let clock = ManualClock::new(T0);
    let store = limited(&clock, 32 * 1024, EvictionPolicy::NoEviction);
    let value = "y".repeat(100);
    let mut i = 0;
    while store.set(format!("t{i}"), &value).is_ok() {
        i += 1;
        assert!(i < 10_000, "the limit was never reached");
    }
    assert_eq!(
        store.set("t0", "changed").unwrap_err(),
        sketchstore::Error::OutOfMemory
    );
    assert_eq!(store.get("t0").unwrap(), Some(value.clone().into_bytes()));
    assert_eq!(
        store.incr("fresh").unwrap_err(),
        sketchstore::Error::OutOfMemory
    );
    assert_eq!(
        store.pfadd("p", &["a"]).unwrap_err(),
        sketchstore::Error::OutOfMemory
    );
    assert_eq!(
        store.bf_add("b", "a").unwrap_err(),
        sketchstore::Error::OutOfMemory
    );
    assert_eq!(
        store.lpush("l", &["a"]).unwrap_err(),
        sketchstore::Error::OutOfMemory
    );
    assert!(!exists(&store, "fresh") && !exists(&store, "p") && !exists(&store, "l"));
    // Reads and deletes still work.
    assert_eq!(store.get("t1").unwrap(), Some(value.into_bytes()));
    // Inside MULTI, Redis 7.0 queues nothing over the limit, reads included (queuing takes
    // memory; tests/server_commands.rs checks this against a real server).
    let mut tx = store.connection();
    tx.multi().unwrap();
    assert_eq!(tx.execute(&["GET", "t1"]), Reply::Error(OOM.into()));
    assert_eq!(tx.execute(&["SET", "t1", "x"]), Reply::Error(OOM.into()));
    assert_eq!(
        tx.exec(),
        Reply::Error("EXECABORT Transaction discarded because of previous errors.".into())
    );
    assert_eq!(store.del(&["t1", "t2", "t3"]).unwrap(), 3);
}
