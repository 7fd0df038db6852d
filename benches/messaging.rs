//! Messaging latency: PUBLISH to receive, LPUSH to a blocked BLPOP (a thread waiting in
//! BLPOP, woken by the push), and a 5-command MULTI/EXEC. The waiting thread acknowledges
//! each message by bumping a counter the sending thread spins on, so the hand-off measured
//! is the store's alone (a channel that parks would add its own wake-up).
//!
//! `cargo bench --bench messaging`

use criterion::{criterion_group, criterion_main, Criterion};
use sketchstore::{Reply, Store};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

fn publish_to_receive(c: &mut Criterion) {
    let store = Store::new();
    let mut sub = store.subscriber().unwrap();
    sub.subscribe(&["bench:ch"]).unwrap();
    let payload = vec![b'x'; 64];
    c.bench_function("messaging/publish_then_receive_same_thread", |b| {
        b.iter(|| {
            store.publish("bench:ch", &payload).unwrap();
            black_box(sub.receive(Duration::from_secs(1)).unwrap().unwrap());
        })
    });

    // Cross-thread: a subscriber thread waiting in `receive` is woken by each publish and
    // acknowledges on the counter.
    let acks = Arc::new(AtomicU64::new(0));
    let ack_tx = acks.clone();
    let mut remote = store.subscriber().unwrap();
    remote.subscribe(&["bench:x"]).unwrap();
    let h = thread::spawn(move || loop {
        match remote.receive(Duration::from_secs(5)) {
            Ok(Some(m)) if m.payload() == b"stop" => break,
            Ok(Some(_)) => {
                ack_tx.fetch_add(1, Ordering::Release);
            }
            _ => break,
        }
    });
    c.bench_function("messaging/publish_to_receiving_thread", |b| {
        b.iter(|| {
            let seen = acks.load(Ordering::Acquire);
            store.publish("bench:x", &payload).unwrap();
            while acks.load(Ordering::Acquire) == seen {
                std::hint::spin_loop();
            }
        })
    });
    store.publish("bench:x", "stop").unwrap();
    h.join().unwrap();
}

fn lpush_to_blpop(c: &mut Criterion) {
    let store = Store::new();
    let acks = Arc::new(AtomicU64::new(0));
    let ack_tx = acks.clone();
    let s = store.clone();
    let h = thread::spawn(move || loop {
        match s.blpop(&["bench:q"], Duration::from_secs(5)).unwrap() {
            Some((_, v)) if v == b"stop" => break,
            Some(_) => {
                ack_tx.fetch_add(1, Ordering::Release);
            }
            None => break,
        }
    });
    c.bench_function("messaging/lpush_to_blocked_blpop", |b| {
        b.iter(|| {
            // Wait until the popper is parked so every push is a handoff, not a plain pop.
            while store.blocked_clients() == 0 {
                std::hint::spin_loop();
            }
            let seen = acks.load(Ordering::Acquire);
            store.lpush("bench:q", &["job"]).unwrap();
            while acks.load(Ordering::Acquire) == seen {
                std::hint::spin_loop();
            }
        })
    });
    while store.blocked_clients() == 0 {
        std::hint::spin_loop();
    }
    store.lpush("bench:q", &["stop"]).unwrap();
    h.join().unwrap();

    c.bench_function("messaging/lpush_then_blpop_same_thread", |b| {
        b.iter(|| {
            store.lpush("bench:q2", &["job"]).unwrap();
            black_box(store.blpop(&["bench:q2"], Duration::ZERO).unwrap());
        })
    });
}

fn multi_exec(c: &mut Criterion) {
    let store = Store::new();
    let mut tx = store.connection();
    c.bench_function("messaging/multi_exec_5_commands", |b| {
        b.iter(|| {
            tx.multi().unwrap();
            tx.execute(&["INCR", "bench:a"]);
            tx.execute(&["INCR", "bench:b"]);
            tx.execute(&["SET", "bench:c", "v"]);
            tx.execute(&["RPUSH", "bench:l", "x"]);
            tx.execute(&["LPOP", "bench:l"]);
            let r = tx.exec();
            debug_assert!(matches!(r, Reply::Array(_)));
            black_box(r);
        })
    });
    c.bench_function("messaging/watch_multi_exec_5_commands", |b| {
        b.iter(|| {
            tx.watch(&["bench:a"]).unwrap();
            tx.multi().unwrap();
            tx.execute(&["INCR", "bench:a"]);
            tx.execute(&["INCR", "bench:b"]);
            tx.execute(&["SET", "bench:c", "v"]);
            tx.execute(&["RPUSH", "bench:l", "x"]);
            tx.execute(&["LPOP", "bench:l"]);
            black_box(tx.exec());
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = publish_to_receive, lpush_to_blpop, multi_exec
}
criterion_main!(benches);
