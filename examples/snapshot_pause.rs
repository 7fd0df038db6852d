//! How long writers wait while a snapshot is taken (not part of `cargo test`).
//!
//! ```text
//! cargo run --release --example snapshot_pause -- [--keys 1000000] [--saves 5]
//! ```
//!
//! Fills a store with `--keys` session-like keys (strings and small hashes), then runs two
//! writer threads that SET and HSET random keys and time every command, first without saves
//! and then while the main thread saves `--saves` snapshots back to back. Prints each
//! save's duration and the writers' latency (p50, p99.9, max) in both phases: the max
//! during saves is the pause a save imposes (all shards are locked at one instant, then
//! released one by one as they are copied).

use sketchstore::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn arg(name: &str, default: usize) -> usize {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn writers(
    store: &Store,
    keys: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Duration>>> {
    (0..2u64)
        .map(|t| {
            let store = store.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ t;
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = (x % keys as u64) as usize;
                    let started = now();
                    if k % 4 == 0 {
                        store.execute(&["HSET", &format!("sess:{k}"), "page", "/cart"]);
                    } else {
                        store.execute(&[
                            "SET",
                            &format!("tok:{k}"),
                            "0123456789abcdef0123456789abcdef",
                        ]);
                    }
                    lat.push(started.elapsed());
                }
                lat
            })
        })
        .collect()
}

fn report(phase: &str, handles: Vec<std::thread::JoinHandle<Vec<Duration>>>) {
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() - 1) as f64 * q) as usize];
    println!(
        "{phase}: {} writes, p50 {:?}, p99.9 {:?}, max {:?}",
        all.len(),
        at(0.5),
        at(0.999),
        all[all.len() - 1]
    );
}

fn main() {
    let keys = arg("--keys", 1_000_000);
    let saves = arg("--saves", 5);
    let store = Store::new();
    let started = now();
    for k in 0..keys {
        if k % 4 == 0 {
            store.execute(&["HSET", &format!("sess:{k}"), "user", "u1", "page", "/"]);
        } else {
            store
                .set(format!("tok:{k}"), "0123456789abcdef0123456789abcdef")
                .unwrap();
        }
    }
    println!("filled {keys} keys in {:?}", started.elapsed());
    let path = std::env::temp_dir().join(format!("sketchstore-pause-{}.sks", std::process::id()));

    let stop = Arc::new(AtomicBool::new(false));
    let h = writers(&store, keys, &stop);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    report("without saves", h);

    let stop = Arc::new(AtomicBool::new(false));
    let h = writers(&store, keys, &stop);
    for _ in 0..saves {
        let t = now();
        let n = store.save(&path).unwrap();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("save: {n} keys, {size} bytes, {:?}", t.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    report("during saves", h);
    let _ = std::fs::remove_file(&path);
}
