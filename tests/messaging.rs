//! Blocking pops, pub/sub and transactions under concurrency and with a manual clock:
//! exactly-once handoff, atomic EXEC, exact PUBLISH counts, timeouts without sleeping, and
//! async waits on a small tokio runtime.

use sketchstore::{Error, ListEnd, ManualClock, Message, Reply, Store};
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

/// Spins (yielding, never sleeping) until `f` holds.
fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..50_000_000u64 {
        if f() {
            return;
        }
        thread::yield_now();
    }
    panic!("condition not reached");
}

fn manual() -> (ManualClock, Store) {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    (clock, store)
}

#[test]
fn producers_and_blocking_consumers_deliver_every_element_exactly_once() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 6;
    const PER_PRODUCER: usize = 5_000;
    const TOTAL: usize = PRODUCERS * PER_PRODUCER;
    let store = Store::new();
    let keys = ["q0", "q1", "q2", "q3"];
    let received = Arc::new(AtomicUsize::new(0));
    let mut consumers = Vec::new();
    for c in 0..CONSUMERS {
        let store = store.clone();
        let received = received.clone();
        consumers.push(thread::spawn(move || {
            let mut got = Vec::new();
            while received.load(Ordering::SeqCst) < TOTAL {
                let r = if c % 2 == 0 {
                    store.blpop(&keys, Duration::from_millis(20))
                } else {
                    store.brpop(&keys, Duration::from_millis(20))
                };
                if let Some((_, v)) = r.unwrap() {
                    received.fetch_add(1, Ordering::SeqCst);
                    got.push(v);
                }
            }
            got
        }));
    }
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let store = store.clone();
        producers.push(thread::spawn(move || {
            let mut i = 0;
            while i < PER_PRODUCER {
                let batch = 1 + (i % 3);
                let values: Vec<String> = (i..(i + batch).min(PER_PRODUCER))
                    .map(|j| format!("{p}:{j}"))
                    .collect();
                store.rpush(keys[(p + i) % keys.len()], &values).unwrap();
                i += values.len();
            }
        }));
    }
    for p in producers {
        p.join().unwrap();
    }
    let mut all = Vec::new();
    for c in consumers {
        all.extend(c.join().unwrap());
    }
    assert_eq!(all.len(), TOTAL, "every element delivered once");
    let uniq: HashSet<Vec<u8>> = all.into_iter().collect();
    assert_eq!(uniq.len(), TOTAL, "no element delivered twice");
    for k in keys {
        assert_eq!(store.llen(k).unwrap(), 0);
    }
    assert_eq!(store.blocked_clients(), 0);
}

#[test]
fn blmove_across_shards_moves_every_element_once() {
    const TOTAL: usize = 4_000;
    let store = Store::builder().shards(64).build();
    let moved = Arc::new(AtomicUsize::new(0));
    let mut movers = Vec::new();
    for i in 0..4 {
        let store = store.clone();
        let moved = moved.clone();
        movers.push(thread::spawn(move || {
            while moved.load(Ordering::SeqCst) < TOTAL {
                let (from, to) = if i % 2 == 0 {
                    (ListEnd::Left, ListEnd::Right)
                } else {
                    (ListEnd::Right, ListEnd::Left)
                };
                if store
                    .blmove(
                        "src",
                        format!("dst{i}"),
                        from,
                        to,
                        Duration::from_millis(20),
                    )
                    .unwrap()
                    .is_some()
                {
                    moved.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for i in 0..TOTAL {
        store.lpush("src", &[i.to_string()]).unwrap();
    }
    for m in movers {
        m.join().unwrap();
    }
    let mut all = HashSet::new();
    for i in 0..4 {
        for v in store.lrange(format!("dst{i}"), 0, -1).unwrap() {
            assert!(all.insert(v), "moved twice");
        }
    }
    assert_eq!(all.len(), TOTAL);
    assert_eq!(store.llen("src").unwrap(), 0);
}

#[test]
fn concurrent_multi_exec_never_loses_an_update() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 400;
    let store = Store::new();
    let mut handles = Vec::new();
    for _ in 0..THREADS {
        let store = store.clone();
        handles.push(thread::spawn(move || {
            let mut tx = store.connection();
            for _ in 0..ROUNDS {
                tx.multi().unwrap();
                tx.execute(&["INCR", "a"]);
                tx.execute(&["INCR", "b"]);
                tx.execute(&["INCRBY", "c", "2"]);
                tx.execute(&["RPUSH", "log", "x"]);
                let Reply::Array(r) = tx.exec() else {
                    panic!("EXEC without WATCH always runs");
                };
                assert_eq!(r.len(), 4);
                // Optimistic locking: WATCH, read, write in MULTI, retry on the null array.
                loop {
                    tx.watch(&["w"]).unwrap();
                    let v: i64 = store
                        .get("w")
                        .unwrap()
                        .map_or(0, |b| String::from_utf8(b).unwrap().parse().unwrap());
                    tx.multi().unwrap();
                    tx.execute(&["SET", "w", &(v + 1).to_string()]);
                    match tx.exec() {
                        Reply::NilArray => continue,
                        Reply::Array(_) => break,
                        other => panic!("{other:?}"),
                    }
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let n = (THREADS * ROUNDS) as i64;
    assert_eq!(store.get("a").unwrap(), Some(n.to_string().into_bytes()));
    assert_eq!(store.get("b").unwrap(), Some(n.to_string().into_bytes()));
    assert_eq!(
        store.get("c").unwrap(),
        Some((2 * n).to_string().into_bytes())
    );
    assert_eq!(store.get("w").unwrap(), Some(n.to_string().into_bytes()));
    assert_eq!(store.llen("log").unwrap(), n as usize);
}

#[test]
fn readers_never_see_half_a_transaction() {
    let store = Store::builder().shards(64).build();
    let keys = ["acct:alice", "acct:bob", "acct:carol"];
    for k in keys {
        store.set(k, "0").unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3 {
        let store = store.clone();
        writers.push(thread::spawn(move || {
            let mut tx = store.connection();
            for i in 0..2_000 {
                let v = format!("{w}-{i}");
                tx.multi().unwrap();
                for k in keys {
                    tx.execute(&["SET", k, &v]);
                }
                tx.execute(&["RPUSH", "hist", &v]);
                tx.exec();
            }
        }));
    }
    let mut readers = Vec::new();
    for r in 0..3 {
        let store = store.clone();
        let stop = stop.clone();
        readers.push(thread::spawn(move || {
            let mut tx = store.connection();
            let mut checks = 0usize;
            while !stop.load(Ordering::SeqCst) {
                let vals: Vec<Reply> = if r == 0 {
                    match store.execute(&["MGET", keys[0], keys[1], keys[2]]) {
                        Reply::Array(v) => v,
                        other => panic!("{other:?}"),
                    }
                } else {
                    tx.multi().unwrap();
                    for k in keys {
                        tx.execute(&["GET", k]);
                    }
                    match tx.exec() {
                        Reply::Array(v) => v,
                        other => panic!("{other:?}"),
                    }
                };
                assert!(vals.windows(2).all(|w| w[0] == w[1]), "torn read: {vals:?}");
                checks += 1;
            }
            checks
        }));
    }
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(store.llen("hist").unwrap(), 6_000);
}

#[test]
fn publish_counts_are_exact_while_subscribers_come_and_go() {
    const STABLE: usize = 3;
    let store = Store::new();
    let stop = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(Barrier::new(STABLE + 1));
    let mut stable = Vec::new();
    for i in 0..STABLE {
        let mut sub = store.subscriber().unwrap();
        let (stop, delivered, ready) = (stop.clone(), delivered.clone(), ready.clone());
        stable.push(thread::spawn(move || {
            if i == 0 {
                sub.psubscribe(&["ch*"]).unwrap();
            } else {
                sub.subscribe(&["ch"]).unwrap();
            }
            ready.wait();
            let mut n = 0;
            let mut next_seq = 0u64;
            loop {
                match sub.receive(Duration::from_millis(5)).unwrap() {
                    Some(m) => {
                        // One publisher: its messages arrive in order.
                        let seq: u64 = String::from_utf8_lossy(m.payload()).parse().unwrap();
                        assert_eq!(seq, next_seq);
                        next_seq += 1;
                        n += 1;
                    }
                    None if stop.load(Ordering::SeqCst) => break,
                    None => {}
                }
            }
            delivered.fetch_add(n, Ordering::SeqCst);
        }));
    }
    let mut churn = Vec::new();
    for i in 0..4 {
        let store = store.clone();
        let (stop, delivered) = (stop.clone(), delivered.clone());
        churn.push(thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let mut sub = store.subscriber().unwrap();
                if i % 2 == 0 {
                    sub.subscribe(&["ch", "other"]).unwrap();
                } else {
                    sub.psubscribe(&["c*", "*h"]).unwrap();
                }
                for _ in 0..3 {
                    if sub.receive(Duration::from_micros(200)).unwrap().is_some() {
                        n += 1;
                    }
                }
                sub.unsubscribe::<&str>(&[]).unwrap();
                sub.punsubscribe::<&str>(&[]).unwrap();
                // Deliveries made before unsubscribing stay receivable.
                while sub.try_receive().unwrap().is_some() {
                    n += 1;
                }
            }
            delivered.fetch_add(n, Ordering::SeqCst);
        }));
    }
    ready.wait();
    let mut published = 0usize;
    for seq in 0..20_000u64 {
        let n = store.publish("ch", seq.to_string()).unwrap();
        assert!((STABLE..=STABLE + 4 * 2).contains(&n), "{n}");
        published += n;
    }
    stop.store(true, Ordering::SeqCst);
    for h in stable.into_iter().chain(churn) {
        h.join().unwrap();
    }
    assert_eq!(delivered.load(Ordering::SeqCst), published);
    assert_eq!(store.pubsub_numpat().unwrap(), 0);
    assert!(store.pubsub_channels(None).unwrap().is_empty());
}

#[test]
fn blpop_times_out_when_the_manual_clock_passes_the_deadline() {
    let (clock, store) = manual();
    let s = store.clone();
    let h = thread::spawn(move || s.blpop(&["k"], Duration::from_millis(1500)));
    wait_until(|| store.blocked_clients() == 1);
    clock.advance(Duration::from_millis(1499));
    assert_eq!(store.blocked_clients(), 1);
    assert!(!h.is_finished() || store.blocked_clients() == 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(h.join().unwrap().unwrap(), None);
    assert_eq!(store.blocked_clients(), 0);
    // A push after the timeout stays in the list.
    store.rpush("k", &["v"]).unwrap();
    assert_eq!(store.llen("k").unwrap(), 1);
}

#[test]
fn argv_blocking_commands_use_the_parsed_timeout() {
    let (clock, store) = manual();
    let s = store.clone();
    let h = thread::spawn(move || s.execute(&["BLPOP", "a", "b", "0x1.8p0"]));
    wait_until(|| store.blocked_clients() == 1);
    clock.advance(Duration::from_millis(1499));
    assert_eq!(store.blocked_clients(), 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(h.join().unwrap(), Reply::NilArray);

    let s = store.clone();
    let h = thread::spawn(move || s.execute(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "0.0001"]));
    wait_until(|| store.blocked_clients() == 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(h.join().unwrap(), Reply::NilArray);

    // Timeout 0 waits forever: a clock jump of a year does not end it.
    let s = store.clone();
    let h = thread::spawn(move || s.execute(&["BRPOP", "a", "0"]));
    wait_until(|| store.blocked_clients() == 1);
    clock.advance(Duration::from_secs(365 * 86_400));
    assert_eq!(store.blocked_clients(), 1);
    store.rpush("a", &["x", "y"]).unwrap();
    assert_eq!(
        h.join().unwrap(),
        Reply::Array(vec![Reply::bulk("a"), Reply::bulk("y")])
    );
    assert_eq!(store.lrange("a", 0, -1).unwrap(), vec![b"x".to_vec()]);
}

#[test]
fn a_waiter_served_just_before_its_timeout_keeps_the_element() {
    let (clock, store) = manual();
    for _ in 0..200 {
        let s = store.clone();
        let h = thread::spawn(move || s.blpop(&["r"], Duration::from_millis(10)));
        wait_until(|| store.blocked_clients() == 1);
        let c = clock.clone();
        let t = thread::spawn(move || c.advance(Duration::from_millis(10)));
        store.rpush("r", &["v"]).unwrap();
        t.join().unwrap();
        let got = h.join().unwrap().unwrap();
        let left = store.lpop("r").unwrap();
        // Exactly one of the popper and the list has it.
        assert!(got.is_some() != left.is_some(), "{got:?} {left:?}");
    }
}

#[test]
fn subscription_receive_times_out_on_the_manual_clock() {
    let (clock, store) = manual();
    let mut sub = store.subscriber().unwrap();
    sub.subscribe(&["c"]).unwrap();
    assert_eq!(sub.receive(Duration::ZERO).unwrap(), None);
    let c = clock.clone();
    let h = thread::spawn(move || {
        let start = c.now_ms();
        let r = sub.receive(Duration::from_secs(2));
        (sub, r, c.now_ms() - start)
    });
    // The receiver's deadline is 2 s after it started waiting, whenever that was.
    while !h.is_finished() {
        clock.advance(Duration::from_millis(100));
        thread::yield_now();
    }
    let (sub, r, waited) = h.join().unwrap();
    assert_eq!(r.unwrap(), None);
    assert!(waited >= 2000, "{waited}");
    store.publish("c", "m").unwrap();
    assert_eq!(
        sub.receive(Duration::from_secs(2)).unwrap(),
        Some(Message::Message {
            channel: b"c".to_vec(),
            payload: b"m".to_vec()
        })
    );
}

#[test]
#[allow(clippy::disallowed_methods)]
fn timeouts_use_real_time_with_the_system_clock() {
    let store = Store::new();
    let start = std::time::Instant::now();
    assert_eq!(
        store.blpop(&["none"], Duration::from_millis(60)).unwrap(),
        None
    );
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(60), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let sub = store.subscriber().unwrap();
    let start = std::time::Instant::now();
    assert_eq!(sub.receive(Duration::from_millis(30)).unwrap(), None);
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn a_slow_subscriber_is_closed_at_its_buffer_limit() {
    let store = Store::builder().pubsub_buffer_bytes(1_000).build();
    let mut slow = store.subscriber().unwrap();
    slow.subscribe(&["c"]).unwrap();
    let mut fast = store.subscriber().unwrap();
    fast.subscribe(&["c"]).unwrap();
    let payload = vec![b'x'; 100];
    let mut counts = Vec::new();
    for _ in 0..12 {
        counts.push(store.publish("c", &payload).unwrap());
        while fast.try_receive().unwrap().is_some() {}
    }
    // Each message costs 126 bytes (its RESP2 form): the 8th would pass 1000 bytes. The
    // message that overflowed is still counted, as Redis counts it.
    assert_eq!(counts, [2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1]);
    let err = slow.receive(Duration::ZERO).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(
        err.to_string().contains("buffer limit of 1000 bytes"),
        "{err}"
    );
    assert!(slow.subscribe(&["d"]).is_err());
    assert_eq!(
        store.pubsub_numsub(&["c"]).unwrap(),
        vec![(b"c".to_vec(), 1)]
    );
    // A connection whose subscription overflows reads the error (a server then closes it, as
    // Redis disconnects such a client) and is no longer subscribed.
    let mut conn = store.connection();
    assert_eq!(
        conn.execute(&["SUBSCRIBE", "e"]),
        Reply::Array(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("e"),
            Reply::Integer(1)
        ])
    );
    for _ in 0..12 {
        store.publish("e", &payload).unwrap();
    }
    assert_eq!(conn.try_next_push(), Some(Reply::Error(err.to_string())));
    assert!(!conn.is_subscribed());
    assert_eq!(conn.execute(&["PING"]), Reply::status("PONG"));
}

#[test]
fn dropping_a_served_future_gives_the_element_back() {
    let store = Store::new();
    let mut fut = Box::pin(store.blpop_async(&["k"], Duration::ZERO));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(store.blocked_clients(), 1);
    store.rpush("k", &["a", "b"]).unwrap();
    // The handoff happened when the push ended; the future was never polled again.
    assert_eq!(store.lrange("k", 0, -1).unwrap(), vec![b"b".to_vec()]);
    drop(fut);
    assert_eq!(
        store.lrange("k", 0, -1).unwrap(),
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(store.blocked_clients(), 0);
    // An abandoned, unserved future leaves no waiter behind.
    let mut fut = Box::pin(store.brpop_async(&["z"], Duration::ZERO));
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    drop(fut);
    assert_eq!(store.blocked_clients(), 0);
    store.rpush("z", &["v"]).unwrap();
    assert_eq!(store.llen("z").unwrap(), 1);
}

#[test]
fn a_thousand_async_waiters_share_two_worker_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = Store::new();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..1000 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("job:{}", i % 10);
                store.blpop_async(&[key], Duration::ZERO).await
            }));
        }
        // Every waiter has registered before anything is pushed; the executor threads stay
        // free meanwhile, which this very loop relies on.
        while store.blocked_clients() < 1000 {
            tokio::task::yield_now().await;
        }
        for i in 0..1000 {
            store
                .rpush(format!("job:{}", i % 10), &[i.to_string()])
                .unwrap();
        }
        let mut got = HashSet::new();
        for t in tasks {
            let (_, v) = t.await.unwrap().unwrap().expect("served");
            assert!(got.insert(v));
        }
        assert_eq!(got.len(), 1000);
    });
    assert_eq!(store.blocked_clients(), 0);
}

#[test]
fn async_timeouts_with_both_clocks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (clock, store) = manual();
    rt.block_on(async {
        let s = store.clone();
        let t = tokio::spawn(async move { s.blpop_async(&["m"], Duration::from_secs(3)).await });
        while store.blocked_clients() < 1 {
            tokio::task::yield_now().await;
        }
        clock.advance(Duration::from_secs(3));
        assert_eq!(t.await.unwrap().unwrap(), None);

        let s = store.clone();
        let t = tokio::spawn(async move {
            s.blmove_async(
                "m",
                "n",
                ListEnd::Right,
                ListEnd::Left,
                Duration::from_secs(3),
            )
            .await
        });
        while store.blocked_clients() < 1 {
            tokio::task::yield_now().await;
        }
        store.rpush("m", &["v"]).unwrap();
        assert_eq!(t.await.unwrap().unwrap(), Some(b"v".to_vec()));
        assert_eq!(store.lrange("n", 0, -1).unwrap(), vec![b"v".to_vec()]);

        // System clock: the shared timer wakes the future.
        let real = Store::new();
        let r = real.brpop_async(&["x"], Duration::from_millis(30)).await;
        assert_eq!(r.unwrap(), None);

        let mut sub = real.subscriber().unwrap();
        sub.psubscribe(&["ev:*"]).unwrap();
        let recv = sub.receive_async();
        let p = real.clone();
        tokio::spawn(async move { p.publish("ev:1", "hello").unwrap() });
        assert_eq!(
            recv.await.unwrap(),
            Message::PMessage {
                pattern: b"ev:*".to_vec(),
                channel: b"ev:1".to_vec(),
                payload: b"hello".to_vec()
            }
        );
    });
}

#[test]
fn contract_send_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    fn is_send<T: Send>() {}
    is_send_sync::<sketchstore::Connection>();
    is_send_sync::<sketchstore::Subscription>();
    is_send::<Message>();
    let store = Store::new();
    let f = store.blpop_async(&["k"], Duration::ZERO);
    fn future_is_send<F: Future + Send + 'static>(_: &F) {}
    future_is_send(&f);
    assert!(matches!(
        store.execute(&["SUBSCRIBE", "c"]),
        Reply::Error(e) if e.contains("Store::subscriber")
    ));
    assert!(matches!(
        store.execute(&["MULTI"]),
        Reply::Error(e) if e.contains("Store::connection")
    ));
    assert_eq!(
        store.execute(&["EXEC"]),
        Reply::Error("ERR EXEC without MULTI".into())
    );
    let _ = Poll::<()>::Pending;
}

#[test]
fn watched_keys_expiring_abort_exec_on_the_manual_clock() {
    let (clock, store) = manual();
    let mut tx = store.connection();
    store.execute(&["SET", "e", "v", "PX", "100"]);
    tx.watch(&["e"]).unwrap();
    clock.advance(Duration::from_millis(100));
    tx.multi().unwrap();
    assert_eq!(tx.execute(&["PING"]), Reply::status("QUEUED"));
    assert_eq!(tx.exec(), Reply::NilArray);
    // Already expired when watched: absent, not changed.
    store.execute(&["SET", "e2", "v", "PX", "10"]);
    clock.advance(Duration::from_millis(10));
    tx.watch(&["e2"]).unwrap();
    tx.multi().unwrap();
    tx.execute(&["PING"]);
    // Transaction commands act at once inside MULTI.
    assert_eq!(
        tx.execute(&["MULTI"]),
        Reply::Error("ERR MULTI calls can not be nested".into())
    );
    assert_eq!(
        tx.execute(&["EXEC"]),
        Reply::Array(vec![Reply::status("PONG")])
    );
    // After EXEC, commands run at once again.
    assert_eq!(tx.execute(&["PING"]), Reply::status("PONG"));
}

/// Runs `consume` on a thread and fails if it does not finish within a minute: a hand-off
/// that is lost leaves a waiter under a manual clock parked forever, with no deadline to
/// rescue it. (A liveness watchdog, not a speed check: the work takes well under a second.)
fn finishes(consume: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let worker = thread::spawn(move || {
        consume();
        let _ = done_tx.send(());
    });
    thread::spawn(move || {
        match done_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("a hand-off to a waiting thread was lost")
            }
        }
        worker.join().unwrap();
    })
}

/// Waiters spin briefly before they park; a push landing at any moment of that (before the
/// spin, during it, between its last look and the park) reaches the popper.
#[test]
fn blpop_hand_offs_are_never_lost_whenever_the_push_lands() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    let n = 3_000u32;
    let popper = {
        let store = store.clone();
        finishes(move || {
            for i in 0..n {
                let got = store.blpop(&["q"], Duration::ZERO).unwrap();
                assert_eq!(got, Some((b"q".to_vec(), i.to_string().into_bytes())));
            }
        })
    };
    // The pusher's own waits end when the watchdog does, so a lost hand-off fails the test
    // instead of hanging it.
    for i in 0..n {
        if i % 3 == 0 {
            // Yield while waiting: on a busy machine a pure spin keeps the popper off the
            // CPU it needs to block.
            while store.blocked_clients() == 0 && !popper.is_finished() {
                thread::yield_now();
            }
        }
        for _ in 0..(i * 7919) % 4000 {
            std::hint::spin_loop();
        }
        store.rpush("q", &[i.to_string()]).unwrap();
        if i % 3 == 1 {
            while store.llen("q").unwrap() > 0 && !popper.is_finished() {
                thread::yield_now();
            }
        }
    }
    popper.join().unwrap();
}

/// The same for a subscriber waiting in `receive`.
#[test]
fn published_messages_reach_a_waiting_subscriber_whenever_they_land() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();
    let mut sub = store.subscriber().unwrap();
    sub.subscribe(&["c"]).unwrap();
    let n = 3_000u32;
    let received = Arc::new(AtomicUsize::new(0));
    let receiver = {
        let received = received.clone();
        finishes(move || {
            for i in 0..n {
                let got = sub.receive(Duration::from_secs(3600)).unwrap();
                assert_eq!(
                    got,
                    Some(Message::Message {
                        channel: b"c".to_vec(),
                        payload: i.to_string().into_bytes(),
                    })
                );
                received.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    for i in 0..n {
        // The previous message was taken: the subscriber is on its way into `receive`, and
        // this one lands somewhere in its spin or its park.
        while received.load(Ordering::SeqCst) < i as usize && !receiver.is_finished() {
            thread::yield_now();
        }
        for _ in 0..(i * 7919) % 4000 {
            std::hint::spin_loop();
        }
        assert_eq!(store.publish("c", i.to_string()).unwrap(), 1);
    }
    receiver.join().unwrap();
}
