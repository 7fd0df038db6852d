//! The five session-intelligence operations (`sketchstore::intel::SessionIntel`) with exact
//! expected results, written once and run on the embedded store, on a real redis-server and
//! on a local 3-node Redis Cluster (the last two with the `redis` feature; the servers load
//! RedisBloom for `BF.*`, see [`redisbloom_module`]).
// tests/common waits for the real servers it starts in real time.
#![allow(clippy::disallowed_methods)]

mod common;

use sketchstore::intel::session::valid_session_id;
use sketchstore::intel::{IntelConfig, PageviewStats, SessionIntel, SessionKeys};
#[cfg(feature = "redis")]
use sketchstore::Backend;
use sketchstore::{ManualClock, Store, Ttl};
#[cfg(feature = "redis")]
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_700_000_000_000;
/// Longer than the activity span, so that the ring's lap in the scenario keeps the session.
const IDLE: Duration = Duration::from_secs(7200);

fn config() -> IntelConfig {
    let mut c = IntelConfig::default();
    c.idle_timeout = IDLE;
    c.activity_bucket = Duration::from_secs(60);
    c.activity_span = Duration::from_secs(3600);
    c.activity_window = 5;
    c
}

fn stats(unique_pages: u64, total_views: i64, activity: [u8; 5]) -> PageviewStats {
    PageviewStats {
        unique_pages,
        total_views,
        activity: activity.to_vec(),
    }
}

fn flags(items: &[(&str, bool)]) -> Vec<(String, bool)> {
    items.iter().map(|(n, f)| ((*n).to_owned(), *f)).collect()
}

const COMBO: &[&str] = &["tv", "tv-mount"];

/// The scenario every backend runs: the same calls, the same answers. `clock` drives the
/// activity buckets (and, on the embedded store, expiry).
fn five_operations(intel: &SessionIntel, clock: &ManualClock, s: &str) {
    let b = intel.backend();
    assert_eq!(
        intel.pageview(s, "tv").unwrap(),
        stats(1, 1, [0, 0, 0, 0, 1])
    );
    assert_eq!(
        intel.pageview(s, "tv").unwrap(),
        stats(1, 2, [0, 0, 0, 0, 2])
    );
    assert!(!intel.combo(s, COMBO).unwrap());
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        intel.pageview(s, "tv-mount").unwrap(),
        stats(2, 3, [0, 0, 0, 2, 1])
    );
    assert!(intel.combo(s, COMBO).unwrap());
    assert!(intel.combo(s, &[]).unwrap(), "an empty combo is complete");
    assert!(!intel.combo(s, &["tv", "soundbar"]).unwrap());
    assert_eq!(
        intel
            .featured_pages(s, &["tv", "radio", "tv-mount"])
            .unwrap(),
        flags(&[("tv", true), ("radio", false), ("tv-mount", true)])
    );
    assert_eq!(
        intel.notifications(s, &["welcome", "sale"]).unwrap(),
        flags(&[("welcome", false), ("sale", false)])
    );
    assert!(intel.mark_notification_seen(s, "welcome").unwrap());
    assert!(!intel.mark_notification_seen(s, "welcome").unwrap());
    assert_eq!(
        intel.notifications(s, &["welcome", "sale"]).unwrap(),
        flags(&[("welcome", true), ("sale", false)])
    );
    // A lap of the activity ring later the same slot is reused: its stale 1 is removed.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        intel.pageview(s, "radio").unwrap(),
        stats(3, 4, [0, 0, 0, 0, 1])
    );
    assert_eq!(
        intel.featured_pages(s, &["radio"]).unwrap(),
        flags(&[("radio", true)])
    );
    // Every key of the session carries the idle expiry, refreshed by the last write.
    let keys = SessionKeys::of(s);
    for k in keys.all() {
        match b.ttl(k).unwrap() {
            Ttl::Expires(d) => assert!(
                d <= IDLE && d > IDLE - Duration::from_secs(5),
                "{}: ttl {d:?}",
                String::from_utf8_lossy(k)
            ),
            other => panic!("{}: {other:?}", String::from_utf8_lossy(k)),
        }
    }
    // Another session shares nothing.
    let other = format!("{s}x");
    assert_eq!(
        intel.featured_pages(&other, &["tv"]).unwrap(),
        flags(&[("tv", false)])
    );
    assert!(!intel.combo(&other, COMBO).unwrap());
    assert_eq!(intel.notifications(&other, &[]).unwrap(), flags(&[]));
    // Invalid session ids never reach the backend.
    for bad in ["", "a:b", "a{b}", "a*", &"x".repeat(65)] {
        assert!(intel.pageview(bad, "tv").is_err(), "{bad:?}");
        assert!(intel.combo(bad, COMBO).is_err(), "{bad:?}");
    }
}

#[test]
fn keys_are_documented_and_share_the_session_hash_tag() {
    let k = SessionKeys::of("k3x9");
    assert_eq!(
        k.all().map(|k| String::from_utf8(k.to_vec()).unwrap()),
        [
            "ss:{k3x9}:pages",
            "ss:{k3x9}:views",
            "ss:{k3x9}:activity",
            "ss:{k3x9}:viewed",
            "ss:{k3x9}:seen",
        ]
    );
    assert!(valid_session_id("abc-DEF_019"));
    assert!(!valid_session_id("a b"));
}

#[test]
fn five_operations_on_the_embedded_store() {
    let clock = ManualClock::new(T0);
    let store = Store::builder().clock(clock.clock()).build();
    let intel = SessionIntel::embedded(&store, config()).unwrap();
    five_operations(&intel, &clock, "k3x9");
    let mut keys = store.keys("ss:{k3x9}:*").unwrap();
    keys.sort();
    let mut want: Vec<Vec<u8>> = SessionKeys::of("k3x9")
        .all()
        .iter()
        .map(|k| k.to_vec())
        .collect();
    want.sort();
    assert_eq!(keys, want);
}

#[test]
fn session_keys_expire_together_after_the_idle_time_refreshed_by_writes() {
    let clock = ManualClock::new(T0);
    let store = Store::builder().clock(clock.clock()).build();
    let intel = SessionIntel::embedded(&store, config()).unwrap();
    intel.pageview("s1", "tv").unwrap();
    intel.mark_notification_seen("s1", "welcome").unwrap();
    let keys = SessionKeys::of("s1");
    let live = || store.exists(&keys.all()).unwrap();
    assert_eq!(live(), 5);
    clock.advance(IDLE - Duration::from_secs(1));
    // Reads do not refresh; a write does.
    assert!(intel.combo("s1", &["tv"]).unwrap());
    intel.mark_notification_seen("s1", "sale").unwrap();
    clock.advance(Duration::from_secs(2));
    assert_eq!(live(), 5, "refreshed by the notification mark");
    assert_eq!(
        intel.pageview("s1", "radio").unwrap(),
        PageviewStats {
            unique_pages: 2,
            total_views: 2,
            activity: vec![0, 0, 0, 0, 1],
        }
    );
    clock.advance(IDLE - Duration::from_millis(1));
    assert_eq!(live(), 5);
    clock.advance(Duration::from_millis(1));
    assert_eq!(live(), 0, "every key of the session is gone");
    assert!(!intel.combo("s1", &["tv"]).unwrap());
}

#[test]
fn a_failing_command_of_the_pageview_transaction_is_reported_with_redis_text() {
    let clock = ManualClock::new(T0);
    let store = Store::builder().clock(clock.clock()).build();
    let intel = SessionIntel::embedded(&store, config()).unwrap();
    store.set("ss:{s2}:views", "not a number").unwrap();
    let e = intel.pageview("s2", "tv").unwrap_err();
    assert_eq!(e.to_string(), "ERR value is not an integer or out of range");
    // MULTI/EXEC does not roll back: the other commands ran, as on Redis.
    assert_eq!(store.pfcount(&["ss:{s2}:pages"]).unwrap(), 1);
}

#[cfg(feature = "redis")]
use common::cluster::redisbloom_module;

#[cfg(feature = "redis")]
#[test]
fn five_operations_on_a_redis_server() {
    let module = redisbloom_module();
    let server = common::RedisServer::start_with(&["--loadmodule", &module]);
    let backend = sketchstore::RedisBackend::connect(&server.url()).expect("connect");
    let clock = ManualClock::new(T0);
    let mut c = config();
    c.clock = Some(clock.clock());
    let intel = SessionIntel::new(Arc::new(backend), c).unwrap();
    five_operations(&intel, &clock, "k3x9");
}

#[cfg(feature = "redis")]
#[test]
fn five_operations_on_a_redis_cluster() {
    let module = redisbloom_module();
    let cluster = common::cluster::RedisCluster::start_with(&["--loadmodule", &module]);
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let backend = sketchstore::RedisBackend::cluster(&nodes).expect("connect to the cluster");
    let backend: Arc<dyn Backend> = Arc::new(backend);
    // Sessions whose slots are on different nodes.
    for s in ["k3x9", "a", "zz"] {
        let clock = ManualClock::new(T0);
        let mut c = config();
        c.clock = Some(clock.clock());
        let intel = SessionIntel::new(backend.clone(), c).unwrap();
        five_operations(&intel, &clock, s);
    }
}

/// Durations 1..=1000 ms in a seeded order: p50, p90 and p99 within a rank error of 1 %
/// of 500, 900 and 990 ms. Returns the quantiles, so that backends can be compared.
fn view_time_scenario(intel: &SessionIntel) -> sketchstore::intel::ViewTimeQuantiles {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    assert_eq!(intel.view_time_quantiles("shop").unwrap(), None);
    let mut ms: Vec<u64> = (1..=1000).collect();
    ms.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(18));
    for m in ms {
        intel.view_time("shop", Duration::from_millis(m)).unwrap();
    }
    let q = intel
        .view_time_quantiles("shop")
        .unwrap()
        .expect("quantiles");
    assert_eq!(q.views, 1000);
    for (got, want) in [(q.p50, 500.0), (q.p90, 900.0), (q.p99, 990.0)] {
        assert!((got - want).abs() <= 10.0, "{q:?}");
    }
    // Another site has its own digest; a tab left open counts as the cap.
    intel
        .view_time("blog", Duration::from_secs(86_400))
        .unwrap();
    let blog = intel.view_time_quantiles("blog").unwrap().unwrap();
    assert_eq!((blog.views, blog.p50), (1, 3_600_000.0));
    assert!(intel
        .view_time("bad{site}", Duration::from_secs(1))
        .is_err());
    q
}

#[test]
fn view_time_quantiles_on_the_embedded_store() {
    let store = Store::new();
    let intel = SessionIntel::embedded(&store, config()).unwrap();
    view_time_scenario(&intel);
    assert_eq!(
        store.key_type(b"ss:{site:shop}:viewtime").unwrap(),
        sketchstore::KeyType::TDigest
    );
}

#[cfg(feature = "redis")]
#[test]
fn view_time_quantiles_on_redis_match_the_embedded_store() {
    let module = redisbloom_module();
    let server = common::RedisServer::start_with(&["--loadmodule", &module]);
    let backend = sketchstore::RedisBackend::connect(&server.url()).expect("connect");
    let intel = SessionIntel::new(Arc::new(backend), config()).unwrap();
    let on_redis = view_time_scenario(&intel);
    let store = Store::new();
    let embedded = view_time_scenario(&SessionIntel::embedded(&store, config()).unwrap());
    assert_eq!(on_redis, embedded);
    // Without RedisBloom: a clear error, no emulation.
    let plain = common::RedisServer::start();
    let backend = sketchstore::RedisBackend::connect(&plain.url()).expect("connect");
    let intel = SessionIntel::new(Arc::new(backend), config()).unwrap();
    for e in [
        intel.view_time("shop", Duration::from_secs(1)).unwrap_err(),
        intel.view_time_quantiles("shop").unwrap_err(),
    ] {
        assert!(e.to_string().contains("need RedisBloom's t-digest"), "{e}");
    }
}
