//! Parity: the same commands against the embedded store and a real redis-server 7.0 that
//! this test starts on a free port; every reply must be identical, errors included.

mod common;

use common::{sorted, words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

/// Replies whose element order Redis leaves to its hash table are compared sorted.
fn normalize(argv: &[Vec<u8>], r: Reply) -> Reply {
    let name = argv
        .first()
        .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
        .unwrap_or_default();
    match name.as_str() {
        "keys" => sorted(r),
        _ => r,
    }
}

fn both(store: &Store, redis: &mut RespConn, argv: &[Vec<u8>]) -> (Reply, Reply) {
    let ours = normalize(argv, store.execute(argv));
    let theirs = normalize(argv, redis.cmd(argv));
    (ours, theirs)
}

fn check_lines(store: &Store, redis: &mut RespConn, lines: &[&str]) {
    for line in lines {
        let argv = words(line);
        let (ours, theirs) = both(store, redis, &argv);
        assert_eq!(ours, theirs, "command: {line}");
    }
}

/// The keyspace digest's single-client vectors and more, one command per line.
const CORPUS: &[&str] = &[
    "FLUSHALL",
    "SET k v",
    "SET k v2 GET",
    "SET nk v GET",
    "SET k v NX",
    "SET nk2 v XX",
    "SET k v NX XX",
    "SET k v XX NX",
    "SET k v EX 10 PX 100",
    "SET k v EX 10 KEEPTTL",
    "SET k v KEEPTTL EX 10",
    "SET k v EX",
    "SET k v EX 0",
    "SET k v EX -1",
    "SET k v PX 0",
    "SET k v EXAT 0",
    "SET k v PXAT -5",
    "SET k v EX 9223372036854775",
    "SET k v EX 1.5",
    "SET k v EX abc",
    "SET k v FOO",
    "SET k v EX 10 EX 20",
    "SET k v NX NX",
    "SET k v NX GET",
    "SET k v EX 5 GET",
    "TTL k",
    "SET k v2 KEEPTTL GET",
    "TTL k",
    "SET k v3",
    "TTL k",
    "SET n 9223372036854775807",
    "INCR n",
    "SET n -9223372036854775808",
    "DECR n",
    "INCRBY n -1",
    "SET s ' 1'",
    "SET s +1",
    "INCR s",
    "SET s 01",
    "INCR s",
    "SET s -0",
    "INCR s",
    "SET s 0",
    "DECRBY s -9223372036854775808",
    "INCRBY s -9223372036854775808",
    "INCRBY s abc",
    "INCRBY s 1.0",
    "INCR nosuch",
    "DECR nosuch2",
    "DECRBY nosuch3 5",
    "GET nosuch",
    "HSET h f1 v1",
    "HSET h f1 v1b f2 v2",
    "HGETALL h",
    "HDEL h f1 f1 nof",
    "HSET h s abc",
    "HINCRBY h s 1",
    "HINCRBY h n abc",
    "HINCRBY h n 5",
    "HINCRBY h n 9223372036854775807",
    "HSET h f3",
    "HMSET h a 1 b 2",
    "HMGET h a nof b",
    "HKEYS h",
    "HVALS h",
    "HLEN h",
    "HEXISTS h a",
    "HEXISTS h zz",
    "HSETNX h a 9",
    "HSETNX h z 9",
    "HSTRLEN h z",
    "HGET h a",
    "HGET nohash a",
    "HGETALL nohash",
    "GET h",
    "INCR h",
    "HGET k f",
    "HDEL h f2 s n a b z",
    "EXISTS h",
    "MSET a 1 b 2",
    "DEL a a b nokey",
    "MSET a 1 b 2",
    "EXISTS a a b nokey",
    "MSET a 1 b",
    "MGET a b nokey h",
    "MSETNX a 1 zz 2",
    "MSETNX yy 1 zz 2",
    "EXPIRE a 100",
    "EXPIRE a 100 NX",
    "EXPIRE a 50 GT",
    "EXPIRE a 300 GT",
    "TTL a",
    "EXPIRE b 100 GT",
    "EXPIRE b 100 LT",
    "EXPIRE a 10 NX XX",
    "EXPIRE a 10 GT LT",
    "EXPIRE a 10 FOO",
    "EXPIRE a abc NX XX",
    "EXPIRE a abc",
    "EXPIRE a 9223372036854775807",
    "PEXPIRE a 9223372036854775807",
    "PEXPIREAT a 9223372036854775807",
    "TTL a",
    "EXPIREAT a 9223372036854775807",
    "EXPIRE nokey 10",
    "EXPIRE a -5",
    "EXISTS a",
    "EXPIRE b -1 GT",
    "EXISTS b",
    "EXPIRE b -1 LT",
    "EXISTS b",
    "TTL nokey",
    "SET c 1",
    "TTL c",
    "PTTL c",
    "PERSIST c",
    "EXPIRE c 100",
    "PERSIST c",
    "TTL c",
    "SCAN abc",
    "SCAN 0 COUNT 0",
    "SCAN 0 COUNT abc",
    "SCAN 0 COUNT",
    "SCAN 0 FOO bar",
    "SCAN 18446744073709551616",
    "FOO bar baz",
    "FOO",
    "gEt",
    "GET",
    "SET k",
    "APPEND ap hello",
    "APPEND ap ' world'",
    "GET ap",
    "STRLEN ap",
    "STRLEN nokey",
    "GETRANGE ap 0 4",
    "GETRANGE ap -5 -1",
    "GETRANGE ap -100 -200",
    "GETRANGE ap 5 1",
    "GETRANGE ap 0 -1",
    "GETRANGE ap a 1",
    "GETRANGE nokey 0 -1",
    "SETRANGE ap 6 there",
    "SETRANGE ap -1 x",
    "SETRANGE sr 3 x",
    "GET sr",
    "SETRANGE sr2 3 ''",
    "EXISTS sr2",
    "GETDEL ap",
    "GETDEL ap",
    "GETDEL h",
    "SET gs old EX 100",
    "GETSET gs new",
    "TTL gs",
    "GET gs",
    "GETSET gs2 first",
    "GETSET h v",
    "GETSET gs",
    "SET ge v",
    "GETEX ge EX 100",
    "TTL ge",
    "GETEX ge PERSIST",
    "TTL ge",
    "GETEX ge EX 0",
    "GETEX ge EX 10 PX 10",
    "GETEX ge FOO",
    "GETEX nokey EX 10",
    "SETEX se 0 v",
    "SETEX se -1 v",
    "SETEX se abc v",
    "SETEX se 100 v",
    "TTL se",
    "PSETEX pse 0 v",
    "SETNX se x",
    "SETNX senew x",
    "TYPE se",
    "TYPE h",
    "TYPE nokey",
    "HSET h2 f v",
    "TYPE h2",
    "RENAME nokey x",
    "RENAME se se2",
    "GET se2",
    "TTL se2",
    "RENAME se2 se2",
    "RENAMENX se2 senew",
    "RENAMENX se2 se3",
    "RENAMENX se3 se3",
    "RENAMENX nokey se3",
    "KEYS *",
    "KEYS s*",
    "KEYS h?",
    "KEYS [a-c]*",
    "DBSIZE",
    "UNLINK se3 senew",
    "DBSIZE",
    "PING",
    "PING hello",
    "PING a b",
    "ECHO hi",
    "ECHO",
    "INCRBYFLOAT f 10.5",
    "INCRBYFLOAT f 0.1",
    "INCRBYFLOAT f -5",
    "INCRBYFLOAT f abc",
    "INCRBYFLOAT h 1",
    "SET f2 abc",
    "INCRBYFLOAT f2 1",
    "HINCRBYFLOAT hf x 1.5",
    "HINCRBYFLOAT hf x 2.25",
    "HGET hf x",
    "FLUSHALL ASYNC",
    "FLUSHALL SYNC",
    "FLUSHALL FOO",
    "FLUSHALL ASYNC SYNC",
    "FLUSHDB",
    "DBSIZE",
];

#[test]
fn corpus_replies_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    check_lines(&store, &mut redis, CORPUS);
}

#[test]
fn empty_key_and_binary_values_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let cmds: Vec<Vec<Vec<u8>>> = vec![
        vec![b"SET".to_vec(), b"".to_vec(), b"\x00\xff\r\n".to_vec()],
        vec![b"GET".to_vec(), b"".to_vec()],
        vec![b"KEYS".to_vec(), b"*".to_vec()],
        vec![b"KEYS".to_vec(), b"**".to_vec()],
        vec![b"STRLEN".to_vec(), b"".to_vec()],
        vec![b"APPEND".to_vec(), b"".to_vec(), b"\x00".to_vec()],
        vec![b"GET".to_vec(), b"".to_vec()],
        vec![b"FOO\r\nBAR".to_vec(), b"a\nb".to_vec()],
    ];
    for argv in cmds {
        let (ours, theirs) = both(&store, &mut redis, &argv);
        assert_eq!(ours, theirs, "command: {argv:?}");
    }
}

/// Iterating SCAN to the end returns every key once, in both.
#[test]
fn scan_covers_the_keyspace_like_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    for i in 0..500 {
        let k = format!("key:{i}");
        let argv = vec![b"SET".to_vec(), k.into_bytes(), b"v".to_vec()];
        store.execute(&argv);
        redis.cmd(&argv);
    }
    store.execute(&["HSET", "hash:1", "f", "v"]);
    redis.cmd(&["HSET", "hash:1", "f", "v"]);
    for opts in [
        vec![],
        vec!["COUNT", "7"],
        vec!["MATCH", "key:1*"],
        vec!["MATCH", "key:1*", "COUNT", "3"],
        vec!["TYPE", "hash"],
        vec!["TYPE", "string", "COUNT", "50"],
        vec!["TYPE", "nosuchtype"],
    ] {
        let mut all = Vec::new();
        for conn in 0..2 {
            let mut cursor = b"0".to_vec();
            let mut keys: Vec<Vec<u8>> = Vec::new();
            for _ in 0..10_000 {
                let mut argv = vec![b"SCAN".to_vec(), cursor.clone()];
                argv.extend(opts.iter().map(|o| o.as_bytes().to_vec()));
                let r = if conn == 0 {
                    store.execute(&argv)
                } else {
                    redis.cmd(&argv)
                };
                let Reply::Array(parts) = r else {
                    panic!("SCAN reply is not an array: {r:?}")
                };
                let [Reply::Bulk(next), Reply::Array(page)] = parts.as_slice() else {
                    panic!("SCAN reply shape: {parts:?}")
                };
                for k in page {
                    let Reply::Bulk(k) = k else {
                        panic!("key not bulk")
                    };
                    keys.push(k.clone());
                }
                cursor = next.clone();
                if cursor == b"0" {
                    break;
                }
            }
            assert_eq!(cursor, b"0", "SCAN did not finish");
            keys.sort();
            let before = keys.len();
            keys.dedup();
            if conn == 0 {
                assert_eq!(before, keys.len(), "embedded SCAN returned a key twice");
            }
            all.push(keys);
        }
        assert_eq!(all[0], all[1], "SCAN {opts:?}");
    }
}

fn random_value(rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0 => b"".to_vec(),
        1 => rng.gen_range(-5i64..50).to_string().into_bytes(),
        2 => [
            "9223372036854775807",
            "-9223372036854775808",
            "01",
            "+1",
            " 1",
            "-0",
            "1.5",
        ][rng.gen_range(0..7)]
        .as_bytes()
        .to_vec(),
        3 => format!("{}.{}", rng.gen_range(-100..100), rng.gen_range(0..1000)).into_bytes(),
        _ => {
            let len = rng.gen_range(1..12);
            (0..len).map(|_| rng.gen_range(b'a'..=b'e')).collect()
        }
    }
}

fn random_int_arg(rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.gen_range(0..8) {
        0 => b"abc".to_vec(),
        1 => b"9223372036854775807".to_vec(),
        2 => b"-9223372036854775808".to_vec(),
        3 => b"1.5".to_vec(),
        _ => rng.gen_range(-20i64..200).to_string().into_bytes(),
    }
}

/// A time-to-live argument. Positive lifetimes are long (at least 100 s even in milliseconds),
/// so no key expires while a sequence runs: a short one could expire in one store and not yet in
/// the other, since the two are driven one after the other and a loaded machine can stall between.
/// Zero, negative and malformed values still exercise the immediate-expiry and error paths.
fn random_ttl_arg(rng: &mut ChaCha8Rng, millis: bool) -> Vec<u8> {
    match rng.gen_range(0..6) {
        0 => ["abc", "1.5", "9223372036854775807", "-9223372036854775808"][rng.gen_range(0..4)]
            .as_bytes()
            .to_vec(),
        1 => rng.gen_range(-20i64..=0).to_string().into_bytes(),
        _ => {
            let secs = rng.gen_range(100i64..100_000);
            let n = if millis { secs * 1000 } else { secs };
            n.to_string().into_bytes()
        }
    }
}

fn random_command(rng: &mut ChaCha8Rng) -> Vec<Vec<u8>> {
    let key = |rng: &mut ChaCha8Rng| format!("k{}", rng.gen_range(0..6)).into_bytes();
    let field = |rng: &mut ChaCha8Rng| format!("f{}", rng.gen_range(0..5)).into_bytes();
    let w = |s: &str| s.as_bytes().to_vec();
    let mut argv: Vec<Vec<u8>>;
    match rng.gen_range(0..38) {
        0 => argv = vec![w("GET"), key(rng)],
        1 | 2 => {
            argv = vec![w("SET"), key(rng), random_value(rng)];
            for _ in 0..rng.gen_range(0..3) {
                match rng.gen_range(0..9) {
                    0 => argv.push(w("NX")),
                    1 => argv.push(w("XX")),
                    2 => argv.push(w("GET")),
                    3 => argv.push(w("KEEPTTL")),
                    4 => argv.extend([w("EX"), random_ttl_arg(rng, false)]),
                    5 => argv.extend([w("PX"), w("100000")]),
                    6 => argv.extend([w("EXAT"), w("99999999999")]),
                    7 => argv.push(w("BOGUS")),
                    _ => argv.push(w("EX")),
                }
            }
        }
        3 => argv = vec![w("SETNX"), key(rng), random_value(rng)],
        4 => {
            argv = vec![
                w("SETEX"),
                key(rng),
                random_ttl_arg(rng, false),
                random_value(rng),
            ]
        }
        5 => argv = vec![w("GETDEL"), key(rng)],
        6 => {
            argv = vec![w("GETEX"), key(rng)];
            match rng.gen_range(0..4) {
                0 => argv.extend([w("EX"), random_ttl_arg(rng, false)]),
                1 => argv.push(w("PERSIST")),
                2 => argv.push(w("BAD")),
                _ => {}
            }
        }
        7 => {
            argv = vec![w("MGET")];
            for _ in 0..rng.gen_range(1..4) {
                argv.push(key(rng));
            }
        }
        8 => {
            argv = vec![w("MSET")];
            for _ in 0..rng.gen_range(1..3) {
                argv.extend([key(rng), random_value(rng)]);
            }
        }
        9 => argv = vec![w("APPEND"), key(rng), random_value(rng)],
        10 => argv = vec![w("STRLEN"), key(rng)],
        11 => {
            argv = vec![
                w("GETRANGE"),
                key(rng),
                random_int_arg(rng),
                random_int_arg(rng),
            ]
        }
        12 | 13 => argv = vec![w("INCR"), key(rng)],
        14 => argv = vec![w("INCRBY"), key(rng), random_int_arg(rng)],
        15 => argv = vec![w("DECR"), key(rng)],
        16 => argv = vec![w("DECRBY"), key(rng), random_int_arg(rng)],
        17 => argv = vec![w("INCRBYFLOAT"), key(rng), random_value(rng)],
        18 | 19 => {
            argv = vec![w("HSET"), key(rng)];
            for _ in 0..rng.gen_range(1..3) {
                argv.extend([field(rng), random_value(rng)]);
            }
        }
        20 => argv = vec![w("HSETNX"), key(rng), field(rng), random_value(rng)],
        21 => argv = vec![w("HGET"), key(rng), field(rng)],
        22 => argv = vec![w("HMGET"), key(rng), field(rng), field(rng)],
        23 => argv = vec![w("HGETALL"), key(rng)],
        24 => argv = vec![w("HDEL"), key(rng), field(rng), field(rng)],
        25 => argv = vec![w("HEXISTS"), key(rng), field(rng)],
        26 => argv = vec![w("HLEN"), key(rng)],
        27 => argv = vec![w(["HKEYS", "HVALS"][rng.gen_range(0..2)]), key(rng)],
        28 => argv = vec![w("HINCRBY"), key(rng), field(rng), random_int_arg(rng)],
        29 => argv = vec![w("HINCRBYFLOAT"), key(rng), field(rng), random_value(rng)],
        30 => {
            argv = vec![w(["DEL", "UNLINK", "EXISTS"][rng.gen_range(0..3)])];
            for _ in 0..rng.gen_range(1..4) {
                argv.push(key(rng));
            }
        }
        31 => argv = vec![w("TYPE"), key(rng)],
        32 => {
            argv = vec![
                w(["RENAME", "RENAMENX"][rng.gen_range(0..2)]),
                key(rng),
                key(rng),
            ]
        }
        33 => {
            let millis = rng.gen_bool(0.5);
            argv = vec![w(if millis { "PEXPIRE" } else { "EXPIRE" }), key(rng)];
            argv.push(random_ttl_arg(rng, millis));
            for _ in 0..rng.gen_range(0..2) {
                argv.push(w(["NX", "XX", "GT", "LT", "ZZ"][rng.gen_range(0..5)]));
            }
        }
        34 => argv = vec![w("TTL"), key(rng)],
        35 => argv = vec![w("PERSIST"), key(rng)],
        36 => {
            argv = vec![
                w("KEYS"),
                w(["*", "k[0-2]", "k?", "x*"][rng.gen_range(0..4)]),
            ]
        }
        _ => argv = vec![w("DBSIZE")],
    }
    argv
}

#[test]
fn seeded_random_sequences_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    for seed in 0..20u64 {
        let store = Store::new();
        assert_eq!(redis.cmd(&["FLUSHALL"]), Reply::ok());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for step in 0..400 {
            let argv = random_command(&mut rng);
            let (ours, theirs) = both(&store, &mut redis, &argv);
            assert_eq!(
                ours,
                theirs,
                "seed {seed} step {step}: {:?}",
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a))
                    .collect::<Vec<_>>()
            );
        }
    }
}
