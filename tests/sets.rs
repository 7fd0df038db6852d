//! Sets through the typed API and the argv front end: replies and error texts, WATCH
//! invalidation, snapshots of both encodings, the memory estimate, and the bounds on
//! random picks.

use sketchstore::types::set::SetEncoding;
use sketchstore::{KeyType, Reply, Store};

fn b(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

#[test]
fn typed_methods() {
    let s = Store::new();
    assert_eq!(s.sadd("s", &["3", "1", "2", "1"]).unwrap(), 3);
    assert_eq!(s.set_encoding("s"), Some(SetEncoding::Intset));
    assert_eq!(s.smembers("s").unwrap(), b(&["1", "2", "3"]));
    assert_eq!(s.key_type("s").unwrap(), KeyType::Set);
    assert_eq!(KeyType::Set.as_str(), "set");
    assert_eq!(s.sadd("t", &["x", "2"]).unwrap(), 2);
    assert_eq!(s.set_encoding("t"), Some(SetEncoding::Hashtable));
    assert_eq!(s.smismember("s", &["1", "x"]).unwrap(), vec![true, false]);
    assert_eq!(s.sinter(&["s", "t"]).unwrap(), b(&["2"]));
    assert_eq!(s.sintercard(&["s", "t", "missing"], 0).unwrap(), 0);
    assert_eq!(s.sdiff(&["s", "t"]).unwrap(), b(&["1", "3"]));
    assert_eq!(s.sdiffstore("d", &["s", "t"]).unwrap(), 2);
    assert_eq!(s.set_encoding("d"), Some(SetEncoding::Intset));
    assert_eq!(s.sunionstore("d", &["missing"]).unwrap(), 0);
    assert_eq!(s.key_type("d").unwrap(), KeyType::None);
    assert!(s.smove("t", "s", "x").unwrap());
    assert_eq!(s.set_encoding("s"), Some(SetEncoding::Hashtable));
    assert_eq!(s.srem("t", &["2"]).unwrap(), 1);
    assert_eq!(s.key_type("t").unwrap(), KeyType::None);
    assert_eq!(s.srandmember_count("s", -7).unwrap().len(), 7);
    assert_eq!(s.spop_count("s", 10).unwrap().len(), 4);
    assert_eq!(s.key_type("s").unwrap(), KeyType::None);
    s.set("str", "v").unwrap();
    assert_eq!(
        s.sadd("str", &["a"]).unwrap_err().to_string(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
}

#[test]
fn negative_counts_are_bounded() {
    let s = Store::new();
    s.sadd("s", &["a"]).unwrap();
    let max = sketchstore::MAX_SRANDMEMBER_PICKS as i64;
    assert_eq!(s.srandmember_count("s", -max).unwrap().len(), max as usize);
    assert_eq!(
        s.execute(&["SRANDMEMBER", "s", &(-max - 1).to_string()]),
        Reply::Error("ERR value is out of range".into())
    );
    // A huge positive count is the whole set.
    assert_eq!(
        s.execute(&["SRANDMEMBER", "s", "9223372036854775807"]),
        Reply::Array(vec![Reply::bulk("a")])
    );
    assert_eq!(
        s.execute(&["SPOP", "s", "9223372036854775807"]),
        Reply::Array(vec![Reply::bulk("a")])
    );
}

#[test]
fn writes_invalidate_watch_only_when_they_change_the_set() {
    let s = Store::new();
    s.sadd("src", &["a", "b"]).unwrap();
    s.sadd("dst", &["a"]).unwrap();
    for (write, aborted) in [
        (vec!["SMOVE", "src", "dst", "a"], false),
        (vec!["SADD", "dst", "a"], false),
        (vec!["SREM", "dst", "zz"], false),
        (vec!["SADD", "dst", "n"], true),
        (vec!["SMOVE", "src", "dst", "b"], true),
    ] {
        let mut c = s.connection();
        c.execute(&["WATCH", "dst"]);
        c.execute(&["MULTI"]);
        c.execute(&["SCARD", "dst"]);
        s.execute(&write);
        let r = c.execute(&["EXEC"]);
        assert_eq!(r == Reply::NilArray, aborted, "{write:?}: {r:?}");
    }
}

#[test]
fn snapshots_keep_both_encodings_and_the_order_of_an_intset() {
    let dir = std::env::temp_dir().join(format!("sketchstore-sets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snap");
    let s = Store::new();
    s.sadd("ints", &["5", "-3", "10"]).unwrap();
    let texts: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    s.sadd("texts", &texts).unwrap();
    // A hash table holding only integers stays one through a snapshot.
    s.sadd("wide", &["1", "x"]).unwrap();
    s.srem("wide", &["x"]).unwrap();
    assert_eq!(s.save(&path).unwrap(), 3);
    let t = Store::open(&path).unwrap();
    assert_eq!(t.smembers("ints").unwrap(), b(&["-3", "5", "10"]));
    assert_eq!(t.set_encoding("ints"), Some(SetEncoding::Intset));
    assert_eq!(t.set_encoding("texts"), Some(SetEncoding::Hashtable));
    assert_eq!(t.smembers("texts").unwrap(), s.smembers("texts").unwrap());
    assert_eq!(t.set_encoding("wide"), Some(SetEncoding::Hashtable));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_memory_estimate_grows_with_a_set() {
    let s = Store::builder().max_memory(1 << 30).build();
    let before = s.used_memory();
    let members: Vec<String> = (0..10_000).map(|i| format!("member-{i}")).collect();
    s.sadd("big", &members).unwrap();
    let grown = s.used_memory() - before;
    assert!(grown > 10_000 * 16, "{grown}");
    let ints: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    s.sadd("ints", &ints).unwrap();
    assert!(s.used_memory() - before - grown >= 500 * 8);
}
