//! HyperLogLog against a real redis-server 7.0: PFADD/PFCOUNT/PFMERGE replies and the exact
//! bytes GET returns, for seeded element sets from 1 to 200,000 elements (sparse, dense, the
//! promotion between them), multi-key PFCOUNT and PFMERGE, the digest's vectors and the
//! corruption cases Redis's own test suite checks.

mod common;

use common::{words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

fn check(store: &Store, redis: &mut RespConn, argv: &[Vec<u8>]) -> Reply {
    common::same(store, redis, argv)
}

fn line(store: &Store, redis: &mut RespConn, l: &str) -> Reply {
    check(store, redis, &words(l))
}

fn get(store: &Store, redis: &mut RespConn, key: &str) {
    check(store, redis, &[b"GET".to_vec(), key.as_bytes().to_vec()]);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Adds `items` with PFADD in batches, pipelined to Redis, comparing every reply.
fn add_all(store: &Store, redis: &mut RespConn, key: &str, items: &[Vec<u8>], batch: usize) {
    let cmds: Vec<Vec<Vec<u8>>> = items
        .chunks(batch)
        .map(|c| {
            let mut argv = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
            argv.extend(c.iter().cloned());
            argv
        })
        .collect();
    for chunk in cmds.chunks(256) {
        for argv in chunk {
            redis.send(argv);
        }
        for argv in chunk {
            let theirs = redis.read();
            let ours = store.execute(argv);
            assert_eq!(ours, theirs, "PFADD batch into {key}");
        }
    }
}

fn random_items(rng: &mut ChaCha8Rng, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let len = rng.gen_range(0..24);
            (0..len).map(|_| rng.gen::<u8>()).collect()
        })
        .collect()
}

#[test]
fn digest_vectors_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    for l in [
        "FLUSHALL",
        "PFADD h a b c",
        "GET h",
        "PFCOUNT h",
        "GET h",
        "PFADD h a",
        "GET h",
        "PFADD h d",
        "GET h",
        "PFCOUNT h",
        "GET h",
        "PFADD az a b c d e f g h i j k l m n o p q r s t u v w x y z",
        "PFCOUNT az",
        "STRLEN az",
        "GET az",
        "PFADD s1 a b c",
        "PFADD s2 c d",
        "PFMERGE sm s1 s2",
        "GET sm",
        "PFCOUNT sm",
        "PFMERGE empty",
        "GET empty",
        "PFADD dd zz",
        "PFMERGE dd s1",
        "PFCOUNT dd",
        "SET hello hello",
        "PFADD hello a",
        "PFCOUNT hello",
        "PFMERGE m hello",
        "LPUSH lst a",
        "HSET lst a b",
        "PFADD lst a",
        "PFCOUNT lst",
        "PFCOUNT h lst",
        "SET iv 123",
        "PFCOUNT iv",
        "PFADD ne",
        "GET ne",
        "PFADD ne",
        "PFCOUNT ne",
        "GET ne",
        "PFCOUNT nokey",
        "PFCOUNT nokey nokey2",
        "EXISTS nokey",
        "PFADD t a",
        "EXPIRE t 1000",
        "PFADD t b",
        "PFCOUNT t",
        "PFMERGE t h",
        "TTL t",
        "PFADD",
        "PFCOUNT",
        "PFMERGE",
        "TYPE h",
        "APPEND sm x",
        "PFCOUNT sm",
        "INCR h",
        "PFCOUNT h h h",
    ] {
        line(&store, &mut redis, l);
    }
    check(
        &store,
        &mut redis,
        &[b"PFADD".to_vec(), b"es".to_vec(), b"".to_vec()],
    );
    get(&store, &mut redis, "es");
}

#[test]
fn corrupted_values_get_redis_errors() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let dense_ok = {
        let mut v = hex("48594c4c000000000000000000000080");
        v.extend(std::iter::repeat_n(0u8, 12288));
        v
    };
    let mut broken_magic = dense_ok.clone();
    broken_magic[0] = b'X';
    let mut bad_encoding = dense_ok.clone();
    bad_encoding[4] = 2;
    let mut extra_tail = dense_ok.clone();
    extra_tail.push(0);
    let short_dense = dense_ok[..116].to_vec();
    let mut all_ff = hex("48594c4c000000000000000000000080");
    all_ff.extend(std::iter::repeat_n(0xffu8, 12288));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("broken_magic", broken_magic),
        ("bad_encoding", bad_encoding),
        ("extra_tail", extra_tail),
        ("short_dense", short_dense),
        ("d63", all_ff),
        ("badc", hex("48594c4c01000000d2040000000000007ffe")),
        ("bad2", hex("48594c4c0100000000000000000000805f3f")),
        ("over", hex("48594c4c0100000000000000000000807fff00")),
        ("nu", hex("48594c4c01abcdef00000000000000807fff")),
        ("s16", hex("48594c4c010000000000000000000080")),
        // XZERO runs past the last register, and a ZERO run that overshoots.
        (
            "xzero_past",
            hex("48594c4c0100000000000000000000807fff7fff"),
        ),
        ("zero_past", hex("48594c4c0100000000000000000000807ffe3f")),
        ("val_past", hex("48594c4c0100000000000000000000807fff80")),
        ("truncated_xzero", hex("48594c4c0100000000000000000000807f")),
    ];
    for (name, bytes) in &cases {
        check(
            &store,
            &mut redis,
            &[b"SET".to_vec(), name.as_bytes().to_vec(), bytes.clone()],
        );
    }
    for (name, _) in &cases {
        for l in [
            format!("PFCOUNT {name}"),
            format!("GET {name}"),
            format!("PFCOUNT {name} nokey"),
            format!("PFMERGE m_{name} {name}"),
            format!("EXISTS m_{name}"),
            format!("PFADD {name} 123456789abcdefgh a hello"),
            format!("GET {name}"),
            format!("PFCOUNT {name}"),
            format!("GET {name}"),
        ] {
            line(&store, &mut redis, &l);
        }
    }
}

#[test]
fn seeded_element_sets_match_redis_bytes_and_counts() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let sizes = [
        1usize, 2, 10, 100, 500, 1000, 1671, 1672, 3000, 10_000, 50_000, 200_000,
    ];
    for (i, &n) in sizes.iter().enumerate() {
        let key = format!("set{i}");
        let items = random_items(&mut rng, n);
        let batch = if n > 10_000 { 500 } else { 1 + i * 3 };
        add_all(&store, &mut redis, &key, &items, batch);
        get(&store, &mut redis, &key);
        line(&store, &mut redis, &format!("PFCOUNT {key}"));
        get(&store, &mut redis, &key);
        // Adding again changes nothing and keeps the cache.
        add_all(&store, &mut redis, &key, &items[..n.min(50)], 7);
        get(&store, &mut redis, &key);
    }
    // Unions and merges across sparse and dense values.
    for _ in 0..40 {
        let k = rng.gen_range(1..5);
        let keys: Vec<String> = (0..k)
            .map(|_| format!("set{}", rng.gen_range(0..sizes.len() + 2)))
            .collect();
        line(&store, &mut redis, &format!("PFCOUNT {}", keys.join(" ")));
        let dest = if rng.gen_bool(0.5) {
            format!("merged{}", rng.gen_range(0..3))
        } else {
            keys[0].clone()
        };
        line(
            &store,
            &mut redis,
            &format!("PFMERGE {dest} {}", keys.join(" ")),
        );
        get(&store, &mut redis, &dest);
        line(&store, &mut redis, &format!("PFCOUNT {dest}"));
        get(&store, &mut redis, &dest);
        let more = random_items(&mut rng, 5);
        add_all(&store, &mut redis, &dest, &more, 5);
        get(&store, &mut redis, &dest);
    }
}

/// Values written by one side load on the other: bytes taken from Redis and SET into the
/// store (and back) keep counting identically.
#[test]
fn bytes_move_between_redis_and_the_store() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for n in [3usize, 800, 20_000] {
        let items = random_items(&mut rng, n);
        let mut argv = vec![b"PFADD".to_vec(), b"src".to_vec()];
        argv.extend(items.iter().cloned());
        redis.cmd(&argv);
        let Reply::Bulk(bytes) = redis.cmd(&["GET", "src"]) else {
            panic!("GET src")
        };
        store.set("copy", &bytes).expect("SET");
        let more = random_items(&mut rng, 100);
        let mut a1 = vec![b"PFADD".to_vec(), b"copy".to_vec()];
        a1.extend(more.iter().cloned());
        let mut a2 = vec![b"PFADD".to_vec(), b"src".to_vec()];
        a2.extend(more.iter().cloned());
        assert_eq!(store.execute(&a1), redis.cmd(&a2));
        assert_eq!(
            store.execute(&["PFCOUNT", "copy"]),
            redis.cmd(&["PFCOUNT", "src"])
        );
        let ours = store.get("copy").expect("GET").expect("copy exists");
        assert_eq!(Reply::Bulk(ours.clone()), redis.cmd(&["GET", "src"]));
        // And back: the store's bytes load in Redis.
        redis.cmd(&[b"SET".to_vec(), b"back".to_vec(), ours]);
        assert_eq!(
            redis.cmd(&["PFCOUNT", "back"]),
            store.execute(&["PFCOUNT", "copy"])
        );
        redis.cmd(&["DEL", "src", "back"]);
    }
}
