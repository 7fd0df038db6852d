//! A long mixed-workload run that checks invariants as it goes (not part of `cargo test`).
//!
//! ```text
//! cargo run --release --example stress -- [--threads 2] [--secs 600] [--session-ms 3000]
//!                                         [--max-memory BYTES] [--snapshot PATH]
//! ```
//!
//! Each thread loops over: a session (HSET of 4 fields, SET of a token, PFADD, BF.ADD, all
//! expiring after `--session-ms`), INCR of counters it owns (each reply must be exactly the
//! previous value plus one), and an RPUSH to the next thread's queue followed by a BLPOP from
//! its own (each queue has one producer, so every element must arrive exactly once and in
//! order). A background thread sweeps expired keys every 100 ms. Every 10 s the run prints
//! RSS (from /proc/self/statm), the store's key count and throughput; once sessions have
//! been expiring for a while, RSS must stay flat (within 1.5x + 32 MiB of its level at 30 s)
//! and the key count bounded (within 1.5x of its level at 30 s, or of the keys of the sessions
//! started within the last session lifetime when the session rate has grown). Any broken invariant prints why and exits with status 1.

use sketchstore::{EvictionPolicy, Reply, Store};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const COUNTERS: usize = 16;

struct Args {
    threads: usize,
    secs: u64,
    session_ms: u64,
    max_memory: usize,
    snapshot: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        threads: 2,
        secs: 600,
        session_ms: 3000,
        max_memory: 0,
        snapshot: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--threads" => a.threads = value.parse().expect("--threads N"),
            "--secs" => a.secs = value.parse().expect("--secs N"),
            "--session-ms" => a.session_ms = value.parse().expect("--session-ms N"),
            "--max-memory" => a.max_memory = value.parse().expect("--max-memory BYTES"),
            "--snapshot" => a.snapshot = Some(value),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

fn fail(msg: String) -> ! {
    eprintln!("INVARIANT BROKEN: {msg}");
    std::process::exit(1);
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn int(r: &Reply, what: &str) -> i64 {
    match r {
        Reply::Integer(n) => *n,
        other => fail(format!("{what}: expected an integer, got {other:?}")),
    }
}

fn ok(r: &Reply, what: &str) {
    if let Reply::Error(e) = r {
        fail(format!("{what}: {e}"));
    }
}

#[derive(Default)]
struct Stats {
    ops: AtomicU64,
    sessions: AtomicU64,
    pushed: AtomicU64,
    popped: AtomicU64,
}

fn worker(
    store: Store,
    t: usize,
    n: usize,
    session_ms: u64,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
) -> (u64, u64) {
    let mut counters = [0i64; COUNTERS];
    // The next element expected from the producer of our queue (thread t - 1).
    let mut expect_seq = 0u64;
    let mut seq = 0u64;
    let my_queue = format!("q:{t}");
    let next_queue = format!("q:{}", (t + 1) % n);
    let ttl = session_ms.to_string();
    let mut s = 0u64;
    let mut idle_pops = 0;
    while !stop.load(Ordering::Relaxed) {
        s += 1;
        let sid = format!("{t}:{s}");
        // A session: hash, token, HLL and Bloom filter, all expiring.
        let sess = format!("sess:{sid}");
        ok(
            &store.execute(&[
                "HSET",
                &sess,
                "user",
                &sid,
                "ip",
                "10.1.2.3",
                "agent",
                "Mozilla/5.0 (X11; Linux x86_64) stress",
                "started",
                &s.to_string(),
            ]),
            "HSET",
        );
        ok(&store.execute(&["PEXPIRE", &sess, &ttl]), "PEXPIRE");
        ok(
            &store.execute(&["SET", &format!("tok:{sid}"), &"t".repeat(48), "PX", &ttl]),
            "SET",
        );
        let hll = format!("seen:{sid}");
        ok(
            &store.execute(&["PFADD", &hll, "/home", "/cart", &format!("/item/{s}")]),
            "PFADD",
        );
        ok(&store.execute(&["PEXPIRE", &hll, &ttl]), "PEXPIRE");
        let bf = format!("bf:{sid}");
        ok(
            &store.execute(&["BF.ADD", &bf, &format!("item{s}")]),
            "BF.ADD",
        );
        ok(&store.execute(&["PEXPIRE", &bf, &ttl]), "PEXPIRE");
        if int(
            &store.execute(&["BF.EXISTS", &bf, &format!("item{s}")]),
            "BF.EXISTS",
        ) != 1
        {
            fail(format!("BF.EXISTS of an added item on {bf} is 0"));
        }

        // Counters this thread owns: exact.
        let c = (s as usize) % COUNTERS;
        let key = format!("ctr:{t}:{c}");
        let got = int(&store.execute(&["INCR", &key]), "INCR");
        counters[c] += 1;
        if got != counters[c] {
            fail(format!(
                "{key}: INCR returned {got}, expected {}",
                counters[c]
            ));
        }
        if s % 1024 == 0 {
            for (i, want) in counters.iter().enumerate() {
                let v = store
                    .get(format!("ctr:{t}:{i}"))
                    .unwrap_or_else(|e| fail(format!("GET: {e}")));
                let v: i64 = v.map_or(0, |b| String::from_utf8_lossy(&b).parse().unwrap_or(-1));
                if v != *want {
                    fail(format!("ctr:{t}:{i} = {v}, expected {want}"));
                }
            }
        }

        // One push to the next thread's queue, one blocking pop from ours.
        seq += 1;
        ok(
            &store.execute(&["RPUSH", &next_queue, &format!("{t}:{seq}")]),
            "RPUSH",
        );
        stats.pushed.fetch_add(1, Ordering::Relaxed);
        match store.execute(&["BLPOP", &my_queue, "1"]) {
            Reply::Array(kv) => {
                let Reply::Bulk(v) = &kv[1] else {
                    fail(format!("BLPOP: {kv:?}"))
                };
                let v = String::from_utf8_lossy(v);
                let (_, got) = v
                    .split_once(':')
                    .unwrap_or_else(|| fail(format!("element {v}")));
                let got: u64 = got.parse().unwrap_or_else(|_| fail(format!("element {v}")));
                expect_seq += 1;
                if got != expect_seq {
                    fail(format!(
                        "{my_queue}: popped {v}, expected sequence {expect_seq}"
                    ));
                }
                stats.popped.fetch_add(1, Ordering::Relaxed);
                idle_pops = 0;
            }
            Reply::NilArray | Reply::Nil => {
                idle_pops += 1;
                if idle_pops > 30 && !stop.load(Ordering::Relaxed) {
                    fail(format!("{my_queue}: nothing to pop for 30 s"));
                }
            }
            other => fail(format!("BLPOP: {other:?}")),
        }
        stats.ops.fetch_add(13, Ordering::Relaxed);
        stats.sessions.fetch_add(1, Ordering::Relaxed);
    }
    (expect_seq, seq)
}

fn main() {
    let args = parse_args();
    let mut builder = Store::builder();
    if args.max_memory > 0 {
        builder = builder
            .max_memory(args.max_memory)
            .eviction_policy(EvictionPolicy::VolatileTtl);
    }
    let store = builder.build();
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    println!(
        "stress: {} threads, {} s, sessions expire after {} ms{}",
        args.threads,
        args.secs,
        args.session_ms,
        if args.max_memory > 0 {
            format!(", max-memory {} (volatile-ttl)", args.max_memory)
        } else {
            String::new()
        }
    );

    let sweeper = {
        let store = store.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                store.sweep_expired(10_000);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let workers: Vec<_> = (0..args.threads)
        .map(|t| {
            let (store, stop, stats) = (store.clone(), stop.clone(), stats.clone());
            let (n, ms) = (args.threads, args.session_ms);
            std::thread::spawn(move || worker(store, t, n, ms, stop, stats))
        })
        .collect();

    let start = wall_now();
    let mut baseline: Option<(u64, usize)> = None;
    let mut last_ops = 0;
    let mut last_sessions = 0;
    let mut tick = 0u64;
    let mut peak_rss = 0;
    let mut peak_keys = 0;
    while start.elapsed() < Duration::from_secs(args.secs) {
        std::thread::sleep(Duration::from_millis(250));
        let elapsed = start.elapsed().as_secs();
        if elapsed < (tick + 1) * 10 {
            continue;
        }
        tick += 1;
        let rss = rss_bytes();
        let keys = store.stored_keys();
        let ops = stats.ops.load(Ordering::Relaxed);
        println!(
            "t={elapsed:>4}s rss={:>7.1} MiB keys={keys:>7} used_memory={:>7.1} MiB ops/s={:>8} sessions={} pushed={} popped={}",
            rss as f64 / 1048576.0,
            store.used_memory() as f64 / 1048576.0,
            (ops - last_ops) / 10,
            stats.sessions.load(Ordering::Relaxed),
            stats.pushed.load(Ordering::Relaxed),
            stats.popped.load(Ordering::Relaxed),
        );
        last_ops = ops;
        // Live keys follow the session rate (4 keys a session, alive for `session_ms`), so
        // the bound on stored keys (live + expired not yet reclaimed) follows it too: at most
        // 1.5x the keys of the sessions started in the last `session_ms` plus one second of
        // sweep lag, plus the counters and queues.
        let sessions = stats.sessions.load(Ordering::Relaxed);
        let rate = (sessions - last_sessions) as f64 / 10.0;
        last_sessions = sessions;
        let live_bound = 4.0 * rate * (args.session_ms as f64 / 1000.0 + 1.0) * 1.5 + 10_000.0;
        if let Some(path) = &args.snapshot {
            let t0 = wall_now();
            match store.save(path) {
                Ok(n) => println!("         saved {n} keys in {} ms", t0.elapsed().as_millis()),
                Err(e) => fail(format!("save: {e}")),
            }
        }
        match baseline {
            None if elapsed >= 30 => baseline = Some((rss, keys)),
            Some((rss0, keys0)) => {
                peak_rss = peak_rss.max(rss);
                peak_keys = peak_keys.max(keys);
                if rss as f64 > rss0 as f64 * 1.5 + 32.0 * 1048576.0 {
                    fail(format!("RSS grew from {rss0} to {rss} bytes"));
                }
                if keys as f64 > (keys0 as f64 * 1.5 + 1000.0).max(live_bound) {
                    fail(format!(
                        "keys grew from {keys0} to {keys} (bound for this session rate: {live_bound:.0})"
                    ));
                }
            }
            None => {}
        }
    }
    stop.store(true, Ordering::Relaxed);
    let done: Vec<(u64, u64)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    sweeper.join().unwrap();
    // Every element pushed was popped exactly once, or is still queued, in order.
    for t in 0..args.threads {
        let producer = (t + args.threads - 1) % args.threads;
        let mut next = done[t].0;
        let queue = format!("q:{t}");
        loop {
            match store.execute(&["LPOP", &queue]) {
                Reply::Bulk(v) => {
                    next += 1;
                    let want = format!("{producer}:{next}");
                    if v != want.as_bytes() {
                        fail(format!(
                            "{queue}: left over {}, expected {want}",
                            String::from_utf8_lossy(&v)
                        ));
                    }
                }
                Reply::Nil => break,
                other => fail(format!("LPOP: {other:?}")),
            }
        }
        if next != done[producer].1 {
            fail(format!(
                "{queue}: {next} elements arrived, {} were pushed",
                done[producer].1
            ));
        }
    }
    let pushed = stats.pushed.load(Ordering::Relaxed);
    let popped = stats.popped.load(Ordering::Relaxed);
    println!(
        "done: {} s, {} sessions, {pushed} pushed, {popped} popped during the run (the rest drained in order), peak RSS after 30 s {:.1} MiB, peak keys {peak_keys}; all invariants held",
        args.secs,
        stats.sessions.load(Ordering::Relaxed),
        peak_rss as f64 / 1048576.0
    );
}

/// Real elapsed time for the run's own pacing (the store keeps its clock).
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}
