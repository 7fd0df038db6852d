//! Crash safety of `Store::save`: a child process saves snapshots in a loop and is killed
//! with SIGKILL at random moments, 30 times; after every kill the snapshot on disk loads and
//! holds one complete generation, at least as new as the last one the child reported saved.
//!
//! The child is this test binary re-invoked with `--exact crash_child` and the directory in
//! `SKETCHSTORE_CRASH_CHILD_DIR`; without that variable `crash_child` does nothing.
//!
//! A second pair (`pageview_child`, `pageview_transactions_survive_sigkill`) runs the seed's
//! workload instead: two writer threads serve pageviews of many sessions (the
//! `SessionIntel::pageview` transaction, then a MULTI/EXEC that counts the pageview in keys
//! spread over several shards) under a memory limit with `volatile-lru` eviction, while the
//! periodic saver snapshots every 20 ms; it is killed with SIGKILL at random moments 20
//! times, and every snapshot left behind must satisfy the invariants one EXEC maintains:
//! `pv:total == pv:check == sum(HVALS pv:by-thread) == LLEN pv:all` (capped: the list keeps
//! the last 64 pageviews, so its length is `min(total, 64)`), and the temporary files of the
//! killed saves are gone after the next open.

use rand::{Rng, SeedableRng};
use sketchstore::intel::{IntelConfig, SessionIntel};
use sketchstore::{EvictionPolicy, Reply, Store, StoreBuilder};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "SKETCHSTORE_CRASH_CHILD_DIR";
const KEYS: usize = 40;
const BIG: usize = 256 * 1024;
const KILLS: usize = 30;

fn int(r: Reply) -> i64 {
    match r {
        Reply::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn big_value(generation: u64) -> Vec<u8> {
    generation.to_string().into_bytes().repeat(BIG / 8)
}

/// Writes generation `g` over generation `g - 1`.
fn write_generation(store: &Store, g: u64) {
    let gs = g.to_string();
    store.set("gen", &gs).unwrap();
    for i in 0..KEYS {
        store.set(format!("k:{i}"), format!("{g}:{i}")).unwrap();
        store.execute(&["HSET", "h", &format!("f{i}"), &gs]);
    }
    store.execute(&["RPUSH", "list", &gs]);
    store.execute(&["BF.ADD", "bf", &gs]);
    store.execute(&["PFADD", "hll", &gs]);
    store.execute(&["SETBIT", "bits", &gs, "1"]);
    store.set("big", big_value(g)).unwrap();
}

/// The generation a loaded store holds, after checking that every key agrees with it.
fn check_generation(store: &Store) -> u64 {
    let Some(g) = store.get("gen").unwrap() else {
        assert_eq!(store.stored_keys(), 0, "keys without a generation");
        return 0;
    };
    let g: u64 = String::from_utf8(g).unwrap().parse().unwrap();
    let gs = g.to_string();
    for i in 0..KEYS {
        assert_eq!(
            store.get(format!("k:{i}")).unwrap(),
            Some(format!("{g}:{i}").into_bytes())
        );
        assert_eq!(
            store.execute(&["HGET", "h", &format!("f{i}")]),
            Reply::Bulk(gs.clone().into_bytes())
        );
    }
    assert_eq!(int(store.execute(&["LLEN", "list"])), g as i64);
    assert_eq!(
        store.execute(&["LINDEX", "list", "-1"]),
        Reply::Bulk(gs.clone().into_bytes())
    );
    assert_eq!(int(store.execute(&["BF.EXISTS", "bf", &gs])), 1);
    assert_eq!(int(store.execute(&["BITCOUNT", "bits"])), g as i64);
    assert_eq!(int(store.execute(&["GETBIT", "bits", &gs])), 1);
    assert_eq!(store.get("big").unwrap(), Some(big_value(g)));
    g
}

fn marker(dir: &Path) -> u64 {
    match std::fs::read_to_string(dir.join("marker")) {
        Ok(s) => s.trim().parse().unwrap(),
        Err(_) => 0,
    }
}

/// The child: resume from the snapshot, then save generation after generation, recording
/// each completed save in `marker` (written by rename, so it is never torn).
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let path = dir.join("dump.sks");
    let store = Store::open(&path).expect("the last snapshot loads");
    let mut g = check_generation(&store);
    loop {
        g += 1;
        write_generation(&store, g);
        store.save(&path).unwrap();
        std::fs::write(dir.join("marker.tmp"), g.to_string()).unwrap();
        std::fs::rename(dir.join("marker.tmp"), dir.join("marker")).unwrap();
    }
}

#[test]
fn snapshots_survive_sigkill_at_random_moments() {
    let dir = std::env::temp_dir().join(format!("sketchstore-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
    let started = wall_now();
    let mut partial_temps = 0;
    let mut gens = Vec::new();
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..300)));
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child exited by itself ({status}) before kill {kill}");
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        // The last save known complete: the marker, or the generation the previous kill left
        // (the child resumed from it, and a kill between a save and its marker leaves the
        // marker behind).
        let saved = marker(&dir).max(gens.last().copied().unwrap_or(0));
        let temps = || {
            std::fs::read_dir(&dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .contains(".tmp-")
                })
                .count()
        };
        partial_temps += temps();
        let store = Store::open(dir.join("dump.sks"))
            .unwrap_or_else(|e| panic!("after kill {kill} the snapshot does not load: {e}"));
        assert_eq!(
            temps(),
            0,
            "kill {kill}: open left a dead save's temporary file"
        );
        let g = check_generation(&store);
        assert!(
            g == saved || g == saved + 1,
            "kill {kill}: snapshot generation {g}, last reported save {saved}"
        );
        gens.push(g);
    }
    eprintln!(
        "{KILLS} kills in {:.1} s; generations after each kill: {gens:?}; {partial_temps} kills landed mid-save (a temporary file was left, and removed by the next open)",
        started.elapsed().as_secs_f64()
    );
    assert!(
        gens.last().copied().unwrap_or(0) >= KILLS as u64,
        "the child made too little progress"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const PAGEVIEW_ENV: &str = "SKETCHSTORE_PAGEVIEW_CHILD_DIR";
const PAGEVIEW_KILLS: usize = 20;
const RECENT: i64 = 64;

fn pageview_store() -> StoreBuilder {
    Store::builder()
        .max_memory(2 << 20)
        .eviction_policy(EvictionPolicy::VolatileLru)
}

fn int_of(r: Reply) -> i64 {
    match r {
        Reply::Integer(n) => n,
        Reply::Bulk(b) => String::from_utf8(b).unwrap().parse().unwrap(),
        Reply::Nil => 0,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// The pageview count a snapshot holds, after checking the invariants every EXEC keeps.
fn check_pageviews(store: &Store) -> i64 {
    let total = int_of(store.execute(&["GET", "pv:total"]));
    let check = int_of(store.execute(&["GET", "pv:check"]));
    assert_eq!(total, check, "pv:total and pv:check differ");
    let by_thread: i64 = match store.execute(&["HVALS", "pv:by-thread"]) {
        Reply::Array(items) => items.into_iter().map(int_of).sum(),
        other => panic!("HVALS: {other:?}"),
    };
    assert_eq!(by_thread, total, "pv:by-thread does not add up to pv:total");
    let recent = int_of(store.execute(&["LLEN", "pv:all"]));
    assert_eq!(
        recent,
        total.min(RECENT),
        "pv:all's length does not track pv:total"
    );
    total
}

/// The child: resume from the snapshot, then serve pageviews on two threads until killed.
#[test]
fn pageview_child() {
    let Ok(dir) = std::env::var(PAGEVIEW_ENV) else {
        return;
    };
    let path = PathBuf::from(dir).join("dump.sks");
    let store = pageview_store()
        .save_every(Duration::from_millis(20))
        .open(&path)
        .expect("the last snapshot loads");
    check_pageviews(&store);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let intel = SessionIntel::embedded(&store, IntelConfig::default()).unwrap();
                let mut conn = store.connection();
                let mut rng =
                    rand_chacha::ChaCha8Rng::seed_from_u64(std::process::id() as u64 * 2 + t);
                let thread = t.to_string();
                loop {
                    let session = format!("s{}", rng.gen_range(0..5000));
                    let page = format!("/item/{}", rng.gen_range(0..200));
                    intel.pageview(&session, &page).unwrap();
                    conn.execute(&["MULTI"]);
                    conn.execute(&["INCR", "pv:total"]);
                    conn.execute(&["HINCRBY", "pv:by-thread", &thread, "1"]);
                    conn.execute(&["LPUSH", "pv:all", &format!("{session} {page}")]);
                    conn.execute(&["LTRIM", "pv:all", "0", &(RECENT - 1).to_string()]);
                    conn.execute(&["INCR", "pv:check"]);
                    match conn.execute(&["EXEC"]) {
                        Reply::Array(_) => {}
                        other => panic!("EXEC: {other:?}"),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn pageview_transactions_survive_sigkill() {
    let dir = std::env::temp_dir().join(format!("sketchstore-pvcrash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.sks");
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x9a9e);
    let started = wall_now();
    let mut totals = Vec::new();
    let mut temps_removed = 0;
    for kill in 0..PAGEVIEW_KILLS {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "pageview_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PAGEVIEW_ENV, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..500)));
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child exited by itself ({status}) before kill {kill}");
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let temps = |dir: &Path| {
            std::fs::read_dir(dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .contains(".tmp-")
                })
                .count()
        };
        let left = temps(&dir);
        let store = pageview_store()
            .open(&path)
            .unwrap_or_else(|e| panic!("after kill {kill} the snapshot does not load: {e}"));
        assert_eq!(
            temps(&dir),
            0,
            "kill {kill}: open left a dead save's temporary file"
        );
        temps_removed += left;
        let total = check_pageviews(&store);
        assert!(
            totals.last().is_none_or(|&last| total >= last),
            "kill {kill}: pv:total went back from {totals:?} to {total}"
        );
        totals.push(total);
    }
    eprintln!(
        "{PAGEVIEW_KILLS} kills in {:.1} s; pv:total after each kill: {totals:?}; {temps_removed} temporary files of killed saves removed by open",
        started.elapsed().as_secs_f64()
    );
    assert!(
        totals.last().copied().unwrap_or(0) > 0,
        "no pageview was ever saved"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Real elapsed time for the run's own pacing (the store keeps its clock).
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}
