//! Top-k sketches and t-digests in the store: the typed methods, snapshots (a reloaded
//! sketch answers and decays exactly as the original), damaged records refused, the memory
//! estimate, trending pages per site through `SessionIntel`, and the typed `Backend` methods
//! of the store against `RedisBackend` on RedisBloom (with the `redis` feature).

mod common;

use sketchstore::intel::session::trending_key;
use sketchstore::intel::{IntelConfig, SessionIntel};
use sketchstore::types::topk::TopKError;
use sketchstore::{KeyType, Reply, Store, TDigestMergeOptions, TopKOptions};
use std::path::PathBuf;

fn temp_path(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sketchstore-tk-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("snap")
}

fn err_text<T: std::fmt::Debug>(r: sketchstore::Result<T>) -> String {
    r.expect_err("an error").to_string()
}

#[test]
fn typed_topk_methods() {
    let store = Store::new();
    assert_eq!(
        err_text(store.topk_add("t", &["a"])),
        TopKError::KeyDoesNotExist.to_string()
    );
    store.topk_reserve("t", TopKOptions::with_k(2)).unwrap();
    assert_eq!(
        err_text(store.topk_reserve("t", TopKOptions::with_k(2))),
        "TopK: key already exists"
    );
    store.set("s", "v").unwrap();
    assert_eq!(
        err_text(store.topk_reserve("s", TopKOptions::with_k(2))),
        "TopK: key already exists"
    );
    assert_eq!(
        err_text(store.topk_reserve("u", TopKOptions::with_k(0))),
        "TopK: invalid k"
    );
    assert_eq!(
        store.topk_add("t", &["a", "b", "a"]).unwrap(),
        vec![None; 3]
    );
    assert_eq!(
        store.topk_add("t", &["c", "c", "c"]).unwrap(),
        vec![Some(b"b".to_vec()), None, None]
    );
    // One bad increment: nothing applied.
    assert_eq!(
        err_text(store.topk_incrby("t", &[("a", 5), ("z", 100_001)])),
        TopKError::InvalidIncrement.to_string()
    );
    assert_eq!(store.topk_count("t", &["a", "z"]).unwrap(), vec![2, 0]);
    assert_eq!(store.topk_incrby("t", &[("a", 5)]).unwrap(), vec![None]);
    assert_eq!(
        store.topk_list("t").unwrap(),
        vec![(b"a".to_vec(), 7), (b"c".to_vec(), 3)]
    );
    assert_eq!(
        store.topk_query("t", &["a", "b"]).unwrap(),
        vec![true, false]
    );
    let info = store.topk_info("t").unwrap();
    assert_eq!((info.k, info.width, info.depth), (2, 8, 7));
    assert_eq!(store.key_type("t").unwrap(), KeyType::TopK);
    assert_eq!(
        store.execute(&["TYPE", "t"]),
        Reply::Status("TopK-TYPE".into())
    );
    assert_eq!(
        err_text(store.topk_list("s")),
        sketchstore::Error::WrongType.to_string()
    );
}

#[test]
fn typed_tdigest_methods() {
    let store = Store::new();
    store.tdigest_create("d", None).unwrap();
    assert_eq!(
        err_text(store.tdigest_create("d", None)),
        "ERR T-Digest: key already exists"
    );
    assert_eq!(
        err_text(store.tdigest_create("e", Some(0))),
        "ERR T-Digest: compression parameter needs to be a positive integer"
    );
    assert!(store.tdigest_min("d").unwrap().is_nan());
    assert_eq!(
        err_text(store.tdigest_add("d", &[1.0, f64::INFINITY])),
        "ERR T-Digest: val parameter needs to be a finite number"
    );
    assert_eq!(store.tdigest_info("d").unwrap().observations, 0);
    store.tdigest_add("d", &[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    assert_eq!(store.tdigest_min("d").unwrap(), 1.0);
    assert_eq!(store.tdigest_max("d").unwrap(), 5.0);
    assert_eq!(
        store.tdigest_quantile("d", &[0.5, 0.9]).unwrap(),
        vec![3.0, 5.0]
    );
    assert_eq!(
        store.tdigest_cdf("d", &[3.0, 10.0]).unwrap(),
        vec![0.5, 1.0]
    );
    assert_eq!(store.tdigest_rank("d", &[3.0, 10.0]).unwrap(), vec![2, 5]);
    assert_eq!(
        store.tdigest_revrank("d", &[3.0, 10.0]).unwrap(),
        vec![2, -1]
    );
    assert_eq!(
        store.tdigest_byrank("d", &[0, 2, 100]).unwrap(),
        vec![1.0, 3.0, f64::INFINITY]
    );
    assert_eq!(
        store.tdigest_byrevrank("d", &[0, 2, 100]).unwrap(),
        vec![5.0, 3.0, f64::NEG_INFINITY]
    );
    assert_eq!(store.tdigest_trimmed_mean("d", 0.1, 0.9).unwrap(), 3.0);
    let info = store.tdigest_info("d").unwrap();
    assert_eq!((info.merged_nodes, info.total_compressions), (5, 1));
    let opts = TDigestMergeOptions {
        compression: Some(50),
        override_dest: false,
    };
    store.tdigest_merge("m", &["d", "d"], opts).unwrap();
    let info = store.tdigest_info("m").unwrap();
    assert_eq!((info.compression, info.observations), (50, 10));
    assert_eq!(
        err_text(store.tdigest_merge("m", &["nokey"], opts)),
        "ERR T-Digest: key does not exist"
    );
    store.tdigest_reset("d").unwrap();
    assert_eq!(store.tdigest_info("d").unwrap().observations, 0);
    assert_eq!(store.key_type("m").unwrap(), KeyType::TDigest);
}

#[test]
fn snapshots_keep_sketches_exactly() {
    let path = temp_path("snap");
    let store = Store::new();
    store
        .topk_reserve(
            "t",
            TopKOptions {
                k: 5,
                width: 4,
                depth: 3,
                decay: 0.9,
            },
        )
        .unwrap();
    for i in 0..400u32 {
        store.topk_add("t", &[format!("p{}", i * 7 % 23)]).unwrap();
    }
    store.tdigest_create("d", Some(20)).unwrap();
    let values: Vec<f64> = (0..300).map(|i| f64::from(i * 13 % 97)).collect();
    store.tdigest_add("d", &values).unwrap();
    store.save(&path).unwrap();
    let back = Store::open(&path).unwrap();
    assert_eq!(back.topk_list("t").unwrap(), store.topk_list("t").unwrap());
    assert_eq!(
        back.tdigest_info("d").unwrap(),
        store.tdigest_info("d").unwrap()
    );
    // The generator's state came along: both decay alike from here on.
    for i in 0..400u32 {
        let item = [format!("q{}", i * 11 % 31)];
        assert_eq!(
            back.topk_add("t", &item).unwrap(),
            store.topk_add("t", &item).unwrap()
        );
    }
    assert_eq!(back.topk_list("t").unwrap(), store.topk_list("t").unwrap());
    let qs = [0.01, 0.5, 0.99];
    assert_eq!(
        back.tdigest_quantile("d", &qs).unwrap(),
        store.tdigest_quantile("d", &qs).unwrap()
    );
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

fn site_config() -> IntelConfig {
    let mut config = IntelConfig::default();
    config.site = Some("shop".to_owned());
    config.trending_k = 3;
    config
}

/// Six views on three sessions, then the site's trending pages; the same on every backend.
fn trending_scenario(intel: &SessionIntel) {
    assert!(intel.trending("shop", 5).unwrap().is_empty());
    let views = [
        ("s1", "tv"),
        ("s2", "tv"),
        ("s1", "kettle"),
        ("s3", "tv"),
        ("s3", "radio"),
        ("s2", "kettle"),
    ];
    for (session, page) in views {
        intel.pageview(session, page).unwrap();
    }
    assert_eq!(
        intel.trending("shop", 5).unwrap(),
        vec![
            ("tv".to_owned(), 3),
            ("kettle".to_owned(), 2),
            ("radio".to_owned(), 1)
        ]
    );
    assert_eq!(
        intel.trending("shop", 1).unwrap(),
        vec![("tv".to_owned(), 3)]
    );
    assert!(intel.trending("other", 5).unwrap().is_empty());
    assert!(intel.trending("bad site", 5).is_err());
}

#[test]
fn trending_pages_per_site() {
    let store = Store::new();
    let intel = SessionIntel::embedded(&store, site_config()).unwrap();
    trending_scenario(&intel);
    // One key per site, with its own hash tag, never expiring.
    let key = trending_key("shop");
    assert_eq!(key, b"ss:{site:shop}:trending");
    assert_eq!(store.key_type(&key).unwrap(), KeyType::TopK);
    assert_eq!(store.topk_info(&key).unwrap().k, 3);
    assert_eq!(store.ttl(&key).unwrap(), sketchstore::Ttl::Persistent);
    // Without a site, pageviews feed nothing.
    let plain = SessionIntel::embedded(&store, IntelConfig::default()).unwrap();
    plain.pageview("s9", "tv").unwrap();
    assert_eq!(
        intel.trending("shop", 1).unwrap(),
        vec![("tv".to_owned(), 3)]
    );
}

/// The same views through a real redis-server and a 3-node cluster with RedisBloom: the
/// site's key lives in its own slot, written after each pageview's transaction.
#[cfg(feature = "redis")]
#[test]
fn trending_pages_on_redis_and_a_cluster() {
    use common::cluster::{redisbloom_module, RedisCluster};
    use sketchstore::RedisBackend;
    use std::sync::Arc;
    let module = redisbloom_module();
    let server = common::RedisServer::start_with(&["--loadmodule", &module]);
    let backend = RedisBackend::connect(&server.url()).expect("connect");
    trending_scenario(&SessionIntel::new(Arc::new(backend), site_config()).unwrap());
    let cluster = RedisCluster::start_with(&["--loadmodule", &module]);
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.iter().map(String::as_str).collect();
    let backend = RedisBackend::cluster(&nodes).expect("connect to the cluster");
    trending_scenario(&SessionIntel::new(Arc::new(backend), site_config()).unwrap());
}

/// The typed `Backend` methods: the store's direct calls and `RedisBackend`'s defaults
/// (command, then reply parsing) against RedisBloom give the same results.
#[cfg(feature = "redis")]
#[test]
fn typed_methods_agree_with_redis_backend() {
    use common::cluster::redisbloom_module;
    use common::RedisServer;
    use sketchstore::{Backend, RedisBackend};
    let module = redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let redis = RedisBackend::connect(&server.url()).expect("connect to redis-server");
    let store = Store::new();
    fn script(b: &dyn Backend) -> Vec<String> {
        let mut out = Vec::new();
        let mut note = |r: String| out.push(r);
        let t = |e: sketchstore::Error| e.to_string();
        let exact = TopKOptions {
            k: 3,
            width: 8,
            depth: 4,
            decay: 1.0,
        };
        note(format!("{:?}", b.topk_reserve(b"t", exact).map_err(t)));
        note(format!("{:?}", b.topk_reserve(b"t", exact).map_err(t)));
        note(format!("{:?}", b.topk_add(b"none", &[b"a"]).map_err(t)));
        for i in 0..40u8 {
            let item = [b'a' + i % 7];
            note(format!("{:?}", b.topk_add(b"t", &[&item]).map_err(t)));
        }
        let pairs: [(&[u8], i64); 2] = [(b"a", 3), (b"z", 9)];
        note(format!("{:?}", b.topk_incrby(b"t", &pairs).map_err(t)));
        let items: [&[u8]; 3] = [b"a", b"z", b"q"];
        note(format!("{:?}", b.topk_query(b"t", &items).map_err(t)));
        note(format!("{:?}", b.topk_count(b"t", &items).map_err(t)));
        note(format!("{:?}", b.topk_list(b"t").map_err(t)));
        note(format!("{:?}", b.topk_info(b"t").map_err(t)));
        note(format!("{:?}", b.tdigest_create(b"d", Some(50)).map_err(t)));
        note(format!("{:?}", b.tdigest_create(b"d", None).map_err(t)));
        note(format!(
            "{:?}",
            b.tdigest_min(b"d").map(f64::is_nan).map_err(t)
        ));
        let values: Vec<f64> = (0..200).map(|i| f64::from(i) * 1.25 - 40.0).collect();
        note(format!("{:?}", b.tdigest_add(b"d", &values).map_err(t)));
        note(format!("{:?}", b.tdigest_add(b"none", &[1.0]).map_err(t)));
        note(format!("{:?}", b.tdigest_min(b"d").map_err(t)));
        note(format!("{:?}", b.tdigest_max(b"d").map_err(t)));
        let qs = [0.0, 0.01, 0.33, 0.5, 0.999, 1.0];
        note(format!("{:?}", b.tdigest_quantile(b"d", &qs).map_err(t)));
        note(format!(
            "{:?}",
            b.tdigest_cdf(b"d", &[-100.0, 0.3, 17.0]).map_err(t)
        ));
        let at = [-100.0, -3.5, 17.0, 500.0];
        note(format!("{:?}", b.tdigest_rank(b"d", &at, false).map_err(t)));
        note(format!("{:?}", b.tdigest_rank(b"d", &at, true).map_err(t)));
        let ranks = [0, 7, 199, 500];
        note(format!(
            "{:?}",
            b.tdigest_byrank(b"d", &ranks, false).map_err(t)
        ));
        note(format!(
            "{:?}",
            b.tdigest_byrank(b"d", &ranks, true).map_err(t)
        ));
        note(format!(
            "{:?}",
            b.tdigest_trimmed_mean(b"d", 0.1, 0.9).map_err(t)
        ));
        note(format!(
            "{:?}",
            b.tdigest_trimmed_mean(b"d", 0.9, 0.1).map_err(t)
        ));
        let opts = TDigestMergeOptions {
            compression: None,
            override_dest: true,
        };
        note(format!(
            "{:?}",
            b.tdigest_merge(b"m", &[b"d", b"d"], opts).map_err(t)
        ));
        note(format!("{:?}", b.tdigest_info(b"m").map_err(t)));
        note(format!("{:?}", b.tdigest_info(b"d").map_err(t)));
        note(format!("{:?}", b.tdigest_reset(b"d").map_err(t)));
        note(format!("{:?}", b.tdigest_info(b"d").map_err(t)));
        note(format!("{:?}", b.key_type(b"t").map_err(t)));
        note(format!("{:?}", b.key_type(b"m").map_err(t)));
        out
    }
    assert_eq!(script(&store), script(&redis));
}
