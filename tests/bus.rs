//! The request bus (`sketchstore::intel::bus`): partitioned responders answering every
//! request once, by the right one; degraded answers within the application timeout when no
//! responder is there or it answers late, with nothing left behind once replies expire; the
//! same on a real redis-server (with the `redis` feature).
// The application timeout is real time by design: these tests measure it.
#![allow(clippy::disallowed_methods)]

mod common;

use rand::{Rng, SeedableRng};
use sketchstore::glob::glob_match;
use sketchstore::intel::bus::{self, partitions, Request, Response, BASE36};
use sketchstore::intel::{
    Answer, BusConfig, IntelConfig, PageviewStats, Requester, Responder, SessionIntel,
};
use sketchstore::{ManualClock, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

const APP_TIMEOUT: Duration = Duration::from_millis(100);

fn random_ids(seed: u64, n: usize) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let alphabet = BASE36.as_bytes();
    (0..n)
        .map(|_| {
            let len = rng.gen_range(1..=16);
            (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
                .collect()
        })
        .collect()
}

#[test]
fn partitions_cover_the_id_space_exactly_once() {
    assert_eq!(partitions(BASE36, 2), ["[a-r]*", "[s-z0-9]*"]);
    assert_eq!(
        partitions(BASE36, 3),
        ["[a-l]*", "[m-x]*", "[yz0-9]*"],
        "runs of two stay plain"
    );
    let ids = random_ids(7, 20_000);
    for n in 1..=40 {
        let parts = partitions(BASE36, n);
        assert_eq!(parts.len(), n.min(36));
        for id in &ids {
            let hits = parts
                .iter()
                .filter(|p| glob_match(p.as_bytes(), id.as_bytes()))
                .count();
            assert_eq!(hits, 1, "{id} in {parts:?}");
        }
        // Every first character, alone.
        for c in BASE36.chars() {
            let id = c.to_string();
            let hits = parts
                .iter()
                .filter(|p| glob_match(p.as_bytes(), id.as_bytes()))
                .count();
            assert_eq!(hits, 1, "{id} in {parts:?}");
        }
    }
}

fn embedded_intel(clock: Option<&ManualClock>) -> (Store, Arc<SessionIntel>) {
    let mut b = Store::builder();
    if let Some(c) = clock {
        b = b.clock(c.clock());
    }
    let store = b.build();
    let intel = SessionIntel::embedded(&store, IntelConfig::default()).unwrap();
    (store, Arc::new(intel))
}

/// Two responders on `[a-r]*` and `[s-z0-9]*`: every request answered, once, by the
/// responder of its session.
fn partitioned_responders(intel: Arc<SessionIntel>, requests: usize) {
    let backend = intel.backend().clone();
    let parts = partitions(BASE36, 2);
    let responders: Vec<Responder> = parts
        .iter()
        .map(|p| Responder::spawn(intel.clone(), p, BusConfig::default()).unwrap())
        .collect();
    let mut cfg = BusConfig::default();
    // Generous on a loaded machine: this test is about routing, not latency.
    cfg.app_timeout = Duration::from_secs(2);
    let requester = Requester::new(backend.clone(), cfg);
    let ids = random_ids(42, requests);
    let mut want = [0u64; 2];
    for (i, id) in ids.iter().enumerate() {
        let page = format!("p{i}");
        let a = requester
            .call_blocking(id, &Request::Pageview { page: page.clone() })
            .unwrap();
        let Answer::Replied(Response::Pageview(s)) = a else {
            panic!("request {i} for {id}: {a:?}");
        };
        assert_eq!(s.unique_pages, s.total_views as u64, "{id}");
        let featured = requester.call_blocking(
            id,
            &Request::FeaturedPages {
                pages: vec![page.clone()],
            },
        );
        assert_eq!(
            featured.unwrap(),
            Answer::Replied(Response::FeaturedPages(vec![(page, true)]))
        );
        let owner = parts
            .iter()
            .position(|p| glob_match(p.as_bytes(), id.as_bytes()))
            .unwrap();
        want[owner] += 2;
    }
    assert!(want[0] > 0 && want[1] > 0, "both partitions used: {want:?}");
    // A responder counts an answer just after pushing it, so the last count may trail the
    // reply the requester already took: wait (boundedly) for the counts to settle.
    let mut got = [0u64; 2];
    for _ in 0..500 {
        got = [responders[0].answered(), responders[1].answered()];
        if got == want {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(got, want, "answers per responder");
    for r in &responders {
        assert_eq!(r.failed(), 0, "{:?}", r.last_error());
    }
    // A second answer to any request would still sit in its reply list.
    assert_eq!(backend.keys(b"async:*").unwrap(), Vec::<Vec<u8>>::new());
    for r in responders {
        r.stop();
    }
}

#[test]
fn two_partitioned_responders_answer_every_request_once_on_the_embedded_store() {
    let (_store, intel) = embedded_intel(None);
    partitioned_responders(intel, 300);
}

#[test]
fn typed_requests_through_the_bus_match_direct_calls() {
    let (_store, intel) = embedded_intel(None);
    let _r = Responder::spawn(intel.clone(), "*", BusConfig::default()).unwrap();
    let mut cfg = BusConfig::default();
    cfg.app_timeout = Duration::from_secs(2);
    let q = Requester::new(intel.backend().clone(), cfg);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = "k3x9";
        let pv = q.pageview(s, "tv").await.unwrap().unwrap();
        assert_eq!((pv.unique_pages, pv.total_views), (1, 1));
        assert_eq!(pv.activity.last(), Some(&1));
        assert_eq!(q.combo(s, &["tv", "tv-mount"]).await.unwrap(), Some(false));
        q.pageview(s, "tv-mount").await.unwrap().unwrap();
        assert_eq!(q.combo(s, &["tv", "tv-mount"]).await.unwrap(), Some(true));
        assert_eq!(
            q.notifications(s, &["welcome", "a:b"]).await.unwrap(),
            Some(vec![("welcome".into(), false), ("a:b".into(), false)])
        );
        assert_eq!(
            q.mark_notification_seen(s, "a:b").await.unwrap(),
            Some(true)
        );
        assert_eq!(
            q.notifications(s, &["welcome", "a:b"]).await.unwrap(),
            Some(vec![("welcome".into(), false), ("a:b".into(), true)])
        );
        assert_eq!(
            q.featured_pages(s, &["tv", "radio"]).await.unwrap(),
            Some(vec![("tv".into(), true), ("radio".into(), false)])
        );
    });
    assert_eq!(
        intel.featured_pages("k3x9", &["tv-mount"]).unwrap(),
        vec![("tv-mount".to_owned(), true)]
    );
}

#[test]
fn no_responder_degrades_within_the_timeout_and_leaves_nothing_behind() {
    let clock = ManualClock::new(1_700_000_000_000);
    let (store, intel) = embedded_intel(Some(&clock));
    let requester = Requester::new(intel.backend().clone(), BusConfig::default());
    let start = Instant::now();
    let a = requester
        .call_blocking("k3x9", &Request::Pageview { page: "tv".into() })
        .unwrap();
    let took = start.elapsed();
    assert_eq!(a, Answer::Degraded);
    assert!(
        took >= APP_TIMEOUT && took < APP_TIMEOUT + Duration::from_millis(500),
        "degraded after {took:?}"
    );
    // Concurrent async requests on one executor thread all degrade within one timeout:
    // the wait blocks no thread, although the store's (manual) clock never moves.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let answers = rt.block_on(async {
        let (a, b, c, d) = tokio::join!(
            requester.pageview("a1", "tv"),
            requester.combo("b2", &["tv"]),
            requester.notifications("c3", &["welcome"]),
            requester.featured_pages("d4", &["tv"]),
        );
        (a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap())
    });
    let took = start.elapsed();
    assert_eq!(answers, (None, None, None, None));
    assert!(took < APP_TIMEOUT + Duration::from_millis(500), "{took:?}");
    clock.advance(Duration::from_secs(60));
    assert_eq!(store.keys("*").unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(store.dbsize().unwrap(), 0);
}

/// A responder that answers the first request matching `ss:*` after `delay`, on its own
/// thread, and returns the request's channel.
fn slow_responder(
    intel: &Arc<SessionIntel>,
    delay: Duration,
    ttl: Duration,
) -> std::thread::JoinHandle<Vec<u8>> {
    let mut sub = intel.backend().subscriber().unwrap();
    sub.psubscribe(&[b"ss:*"]).unwrap();
    let intel = intel.clone();
    std::thread::spawn(move || {
        let msg = sub.receive(Duration::from_secs(3600)).unwrap().unwrap();
        std::thread::sleep(delay);
        assert!(bus::answer(&intel, msg.channel(), msg.payload(), ttl).unwrap());
        msg.channel().to_vec()
    })
}

#[test]
fn a_late_reply_is_ignored_and_expires() {
    let clock = ManualClock::new(1_700_000_000_000);
    let (store, intel) = embedded_intel(Some(&clock));
    let mut cfg = BusConfig::default();
    // The abandoned wait is dropped 100 ms after this (real time: the store's clock is
    // manual and never reaches it).
    cfg.server_timeout = Duration::from_millis(200);
    let ttl = cfg.reply_ttl;
    let requester = Requester::new(intel.backend().clone(), cfg.clone());

    // Late, while the abandoned wait still runs: it takes the reply and discards it.
    let slow = slow_responder(&intel, Duration::from_millis(150), ttl);
    let start = Instant::now();
    let a = requester
        .call_blocking("k3x9", &Request::Pageview { page: "tv".into() })
        .unwrap();
    assert_eq!(a, Answer::Degraded);
    assert!(start.elapsed() < APP_TIMEOUT + Duration::from_millis(500));
    slow.join().unwrap();
    assert_eq!(store.keys("async:*").unwrap(), Vec::<Vec<u8>>::new());

    // Later still, after the abandoned wait was dropped: the reply sits unread, with its
    // expiry, until the clock passes it.
    let slow = slow_responder(&intel, Duration::from_millis(500), ttl);
    let a = requester
        .call_blocking(
            "k3x9",
            &Request::Pageview {
                page: "radio".into(),
            },
        )
        .unwrap();
    assert_eq!(a, Answer::Degraded);
    let channel = slow.join().unwrap();
    let mut reply_key = b"async:".to_vec();
    reply_key.extend_from_slice(&channel);
    assert_eq!(store.keys("async:*").unwrap(), vec![reply_key.clone()]);
    let mut want = vec![0u8; 29];
    want.push(2);
    assert_eq!(
        store.lrange(&reply_key, 0, -1).unwrap(),
        vec![Response::Pageview(PageviewStats {
            unique_pages: 2,
            total_views: 2,
            activity: want,
        })
        .to_json()
        .into_bytes()]
    );
    assert_eq!(
        store.ttl(&reply_key).unwrap(),
        sketchstore::Ttl::Expires(ttl)
    );

    // The next request gets its own reply, never a late one.
    let _r = Responder::spawn(intel.clone(), "*", BusConfig::default()).unwrap();
    let mut cfg = BusConfig::default();
    cfg.app_timeout = Duration::from_secs(2);
    let a = Requester::new(intel.backend().clone(), cfg)
        .call_blocking(
            "k3x9",
            &Request::Pageview {
                page: "tv-mount".into(),
            },
        )
        .unwrap();
    let Answer::Replied(Response::Pageview(PageviewStats {
        unique_pages,
        total_views,
        ..
    })) = a
    else {
        panic!("{a:?}");
    };
    assert_eq!((unique_pages, total_views), (3, 3));
    clock.advance(ttl - Duration::from_millis(1));
    assert_eq!(store.exists(&[&reply_key]).unwrap(), 1);
    clock.advance(Duration::from_millis(1));
    assert_eq!(store.keys("async:*").unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn malformed_requests_get_an_error_reply_or_none() {
    let (store, intel) = embedded_intel(None);
    let ttl = Duration::from_secs(10);
    // Routable but with a bad argument: told so.
    assert!(bus::answer(&intel, b"ss:notifications:s1:r1:[1,2]", b"", ttl).unwrap());
    assert_eq!(
        store
            .lrange("async:ss:notifications:s1:r1:[1,2]", 0, -1)
            .unwrap(),
        vec![b"{\"error\":\"expected a JSON array of strings\"}".to_vec()]
    );
    // Not a request at all: nothing written.
    assert!(!bus::answer(&intel, b"ss:nope:s1:r1", b"", ttl).unwrap());
    assert!(!bus::answer(&intel, b"other", b"", ttl).unwrap());
    assert_eq!(store.dbsize().unwrap(), 1);
    // Requesters refuse what responders would.
    let q = Requester::new(intel.backend().clone(), BusConfig::default());
    assert!(q
        .call_blocking("a:b", &Request::Pageview { page: "tv".into() })
        .is_err());
    assert!(q
        .call_blocking(
            "s1",
            &Request::Pageview {
                page: "x".repeat(300)
            }
        )
        .is_err());
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;

    fn server() -> (common::RedisServer, Arc<SessionIntel>) {
        let module = common::cluster::redisbloom_module();
        let server = common::RedisServer::start_with(&["--loadmodule", &module]);
        let backend = sketchstore::RedisBackend::connect(&server.url()).expect("connect");
        let intel = SessionIntel::new(Arc::new(backend), IntelConfig::default()).unwrap();
        (server, Arc::new(intel))
    }

    #[test]
    fn two_partitioned_responders_answer_every_request_once_on_redis() {
        let (_server, intel) = server();
        partitioned_responders(intel, 100);
    }

    #[test]
    fn no_responder_degrades_within_the_timeout_on_redis() {
        let (_server, intel) = server();
        let requester = Requester::new(intel.backend().clone(), BusConfig::default());
        for _ in 0..3 {
            let start = Instant::now();
            let a = requester
                .call_blocking(
                    "k3x9",
                    &Request::Combo {
                        items: vec!["tv".into()],
                    },
                )
                .unwrap();
            let took = start.elapsed();
            assert_eq!(a, Answer::Degraded);
            assert!(
                took >= APP_TIMEOUT && took < APP_TIMEOUT + Duration::from_millis(500),
                "degraded after {took:?}"
            );
        }
        assert_eq!(intel.backend().dbsize().unwrap(), 0);
    }

    #[test]
    fn a_late_reply_is_ignored_and_expires_on_redis() {
        let (_server, intel) = server();
        let mut cfg = BusConfig::default();
        cfg.reply_ttl = Duration::from_millis(300);
        let slow = slow_responder(&intel, Duration::from_millis(250), cfg.reply_ttl);
        let requester = Requester::new(intel.backend().clone(), cfg.clone());
        let start = Instant::now();
        let a = requester
            .call_blocking("k3x9", &Request::Pageview { page: "tv".into() })
            .unwrap();
        assert_eq!(a, Answer::Degraded);
        assert!(start.elapsed() < APP_TIMEOUT + Duration::from_millis(500));
        slow.join().unwrap();
        // Taken and discarded by the abandoned BLPOP, or else gone once its expiry passes.
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(
            intel.backend().keys(b"async:*").unwrap(),
            Vec::<Vec<u8>>::new()
        );
        assert!(
            intel.combo("k3x9", &["tv"]).unwrap(),
            "the late pageview did run"
        );
    }
}
