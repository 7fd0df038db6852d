//! Crash safety of `Store::save`: a child process saves snapshots in a loop and is killed
//! with SIGKILL at random moments, 30 times; after every kill the snapshot on disk loads and
//! holds one complete generation, at least as new as the last one the child reported saved.
//!
//! The child is this test binary re-invoked with `--exact crash_child` and the directory in
//! `SKETCHSTORE_CRASH_CHILD_DIR`; without that variable `crash_child` does nothing.

use rand::{Rng, SeedableRng};
use sketchstore::{Reply, Store};
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

        let saved = marker(&dir);
        let store = Store::open(dir.join("dump.sks"))
            .unwrap_or_else(|e| panic!("after kill {kill} the snapshot does not load: {e}"));
        let g = check_generation(&store);
        assert!(
            g == saved || g == saved + 1,
            "kill {kill}: snapshot generation {g}, last reported save {saved}"
        );
        gens.push(g);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.contains(".tmp-") {
                partial_temps += 1;
                std::fs::remove_file(dir.join(name)).unwrap();
            }
        }
    }
    eprintln!(
        "{KILLS} kills in {:.1} s; generations after each kill: {gens:?}; {partial_temps} kills landed mid-save (a temporary file was left)",
        started.elapsed().as_secs_f64()
    );
    assert!(
        gens.last().copied().unwrap_or(0) >= KILLS as u64,
        "the child made too little progress"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Real elapsed time for the run's own pacing (the store keeps its clock).
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}
