//! Bit commands against a real redis-server 7.0: the digest's vectors and seeded random
//! BITFIELD programs and SETBIT/BITCOUNT/BITPOS/BITOP sequences, compared reply by reply and
//! by the bytes GET returns.

mod common;

use common::{words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

fn check(store: &Store, redis: &mut RespConn, argv: &[Vec<u8>]) {
    common::same(store, redis, argv);
}

const VECTORS: &[&str] = &[
    "FLUSHALL",
    "SETBIT k 0 1",
    "GET k",
    "SETBIT k 7 1",
    "GETBIT k 0",
    "GETBIT k 1",
    "GETBIT k 100",
    "SETBIT k 9 1",
    "STRLEN k",
    "GET k",
    "SETBIT k 9 0",
    "SETBIT k 0 2",
    "SETBIT k -1 1",
    "SETBIT k 4294967296 1",
    "SETBIT k x 1",
    "SETBIT k 1.5 1",
    "GETBIT k -1",
    "GETBIT nokey 5",
    "EXISTS nokey",
    "SET s foobar",
    "BITCOUNT s",
    "BITCOUNT s 1 1",
    "BITCOUNT s 5 30 BIT",
    "BITCOUNT s -2 -1 BYTE",
    "BITCOUNT s 3 1",
    "BITCOUNT s 0",
    "BITCOUNT s a b",
    "BITCOUNT nokey a b",
    "BITCOUNT s 0 1 FOO",
    "BITCOUNT s -1 -2 FOO",
    "BITCOUNT s 0 1 2 3",
    "BITCOUNT",
    "BITPOS s 1 0 x FOO",
    "BITPOS s 1 x 0 FOO",
    "BITPOS s 1 0 1 BYTE extra",
    "BITPOS nokey 1",
    "BITPOS nokey 0",
    "BITPOS s 2",
    "BITPOS s x",
    "BITPOS s 0 -1",
    "BITPOS s 1 -100 100 BIT",
    "DEL bf",
    "BITFIELD bf SET u8 0 255 GET u8 0",
    "BITFIELD bf INCRBY u8 0 1",
    "BITFIELD bf OVERFLOW SAT INCRBY u8 0 300",
    "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 1",
    "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 -1 INCRBY u8 0 1",
    "BITFIELD bf OVERFLOW SAT INCRBY u8 0 -300",
    "BITFIELD bf SET i8 0 127",
    "BITFIELD bf INCRBY i8 0 1",
    "BITFIELD bf OVERFLOW SAT INCRBY i8 0 1000",
    "BITFIELD bf OVERFLOW FAIL INCRBY i8 0 1",
    "BITFIELD bf OVERFLOW WRAP INCRBY i8 0 1",
    "BITFIELD bf GET i8 0 GET u8 0",
    "BITFIELD bf SET i8 0 200",
    "BITFIELD bf GET i8 0",
    "BITFIELD bf OVERFLOW SAT SET i8 0 -300",
    "BITFIELD bf GET i8 0",
    "DEL k",
    "BITFIELD k INCRBY u8 0 300 OVERFLOW SAT INCRBY u8 0 300 OVERFLOW FAIL INCRBY u8 0 1 OVERFLOW WRAP INCRBY u8 0 1",
    "DEL bf",
    "BITFIELD bf SET i64 0 9223372036854775807",
    "BITFIELD bf GET i64 0 GET u63 0 GET u63 1 GET i64 1",
    "BITFIELD bf INCRBY i64 0 1",
    "BITFIELD bf OVERFLOW SAT INCRBY i64 0 -1",
    "BITFIELD bf OVERFLOW FAIL INCRBY i64 0 -1",
    "BITFIELD bf OVERFLOW WRAP INCRBY i64 0 -1",
    "BITFIELD bf SET i64 0 9223372036854775808",
    "BITFIELD bf SET u63 0 9223372036854775807",
    "BITFIELD bf GET u63 0",
    "BITFIELD bf INCRBY u63 0 1",
    "BITFIELD bf GET u64 0",
    "BITFIELD bf GET i65 0",
    "DEL bf",
    "BITFIELD bf SET u8 #1 255",
    "GET bf",
    "BITFIELD bf SET u4 #3 15 GET u4 12 GET u4 #3",
    "BITFIELD bf GET u8 #-1",
    "BITFIELD bf GET u8 #536870912",
    "BITFIELD bf GET i64 #67108863",
    "SET s ab",
    "BITFIELD s GET u8 0 GET u8 8 GET u8 16 GET u16 12 GET i8 100",
    "BITFIELD s SET u8 #4 1",
    "GET s",
    "BITFIELD nk GET u8 0 GET i16 100 GET u63 #5",
    "EXISTS nk",
    "BITFIELD nk",
    "BITFIELD nk OVERFLOW BAD GET u8 0",
    "BITFIELD nk GET u8",
    "BITFIELD nk overflow fail set u8 0 256",
    "EXISTS nk",
    "GET nk",
    "BITFIELD_RO nk2 GET u8 0",
    "BITFIELD_RO nk2 SET u8 0 1",
    "BITFIELD_RO nk2 GET u8 0 OVERFLOW SAT GET u8 0",
    "BITFIELD",
    "HSET l a b",
    "BITFIELD l GET u8 0",
    "BITFIELD l OVERFLOW SAT",
    "SETBIT l 0 1",
    "GETBIT l 0",
    "BITCOUNT l",
    "BITPOS l 1",
    "SET n 12",
    "GETBIT n 2",
    "SETBIT n 0 1",
    "GET n",
    "BITOP foo d s",
    "BITOP NOT d s s",
    "BITOP AND d",
    "BITOP NOT d nokey",
    "EXISTS d",
    "BITOP AND d s l",
    "BITOP OR d s n nokey",
    "GET d",
    "BITOP XOR d s n",
    "GET d",
    "BITOP NOT d s",
    "GET d",
    "BITOP AND l s",
    "TYPE l",
];

#[test]
fn digest_vectors_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    for line in VECTORS {
        check(&store, &mut redis, &words(line));
    }
    // Binary values from the digest.
    for (key, bytes) in [("y", &b"\x00\xff\xf0"[..]), ("f", &b"\xff\xff\xff"[..])] {
        check(
            &store,
            &mut redis,
            &[b"SET".to_vec(), key.into(), bytes.to_vec()],
        );
    }
    for line in [
        "BITPOS y 1 0",
        "BITPOS y 1 2",
        "BITPOS y 1 7 15 BIT",
        "BITPOS f 0",
        "BITPOS f 0 0 -1",
        "BITPOS f 0 1",
        "BITPOS f 1 -1 -1 BIT",
    ] {
        check(&store, &mut redis, &words(line));
    }
}

fn random_type(rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(0.5) {
        format!("i{}", rng.gen_range(1..=64))
    } else {
        format!("u{}", rng.gen_range(1..=63))
    }
}

fn random_int(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..6) {
        0 => i64::MAX.to_string(),
        1 => i64::MIN.to_string(),
        2 => (1i64 << rng.gen_range(0..63)).to_string(),
        3 => (-(1i64 << rng.gen_range(0..63))).to_string(),
        _ => rng.gen_range(-300i64..300).to_string(),
    }
}

fn random_offset(rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(0.3) {
        format!("#{}", rng.gen_range(0..6))
    } else {
        rng.gen_range(0..80).to_string()
    }
}

#[test]
fn seeded_bitfield_programs_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for round in 0..1500 {
        let key = format!("bf{}", round % 7);
        let mut argv = vec!["BITFIELD".to_string(), key.clone()];
        for _ in 0..rng.gen_range(1..7) {
            match rng.gen_range(0..7) {
                0 | 1 => {
                    argv.extend(["GET".into(), random_type(&mut rng), random_offset(&mut rng)])
                }
                2 | 3 => argv.extend([
                    "SET".into(),
                    random_type(&mut rng),
                    random_offset(&mut rng),
                    random_int(&mut rng),
                ]),
                4 | 5 => argv.extend([
                    "INCRBY".into(),
                    random_type(&mut rng),
                    random_offset(&mut rng),
                    random_int(&mut rng),
                ]),
                _ => argv.extend([
                    "OVERFLOW".into(),
                    ["WRAP", "SAT", "FAIL"][rng.gen_range(0..3)].into(),
                ]),
            }
        }
        let argv: Vec<Vec<u8>> = argv.into_iter().map(String::into_bytes).collect();
        check(&store, &mut redis, &argv);
        check(&store, &mut redis, &[b"GET".to_vec(), key.into_bytes()]);
    }
}

#[test]
fn seeded_bitmap_sequences_match_redis() {
    let server = RedisServer::start();
    let mut redis = server.conn();
    let store = Store::new();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let key = |rng: &mut ChaCha8Rng| format!("b{}", rng.gen_range(0..4));
    for _ in 0..3000 {
        let argv: Vec<String> = match rng.gen_range(0..6) {
            0 | 1 => vec![
                "SETBIT".into(),
                key(&mut rng),
                rng.gen_range(0..200).to_string(),
                rng.gen_range(0..2).to_string(),
            ],
            2 => {
                let mut a = vec!["BITCOUNT".into(), key(&mut rng)];
                if rng.gen_bool(0.7) {
                    a.push(rng.gen_range(-30..30).to_string());
                    a.push(rng.gen_range(-30..30).to_string());
                    if rng.gen_bool(0.5) {
                        a.push(["BIT", "BYTE"][rng.gen_range(0..2)].into());
                    }
                }
                a
            }
            3 => {
                let mut a = vec![
                    "BITPOS".into(),
                    key(&mut rng),
                    rng.gen_range(0..2).to_string(),
                ];
                for _ in 0..rng.gen_range(0..3) {
                    a.push(rng.gen_range(-30..30).to_string());
                }
                if a.len() == 5 && rng.gen_bool(0.5) {
                    a.push(["BIT", "BYTE"][rng.gen_range(0..2)].into());
                }
                a
            }
            4 => {
                let op = ["AND", "OR", "XOR", "NOT"][rng.gen_range(0..4)];
                let mut a = vec!["BITOP".into(), op.into(), key(&mut rng), key(&mut rng)];
                if op != "NOT" {
                    for _ in 0..rng.gen_range(0..3) {
                        a.push(key(&mut rng));
                    }
                }
                a
            }
            _ => vec!["GET".into(), key(&mut rng)],
        };
        let argv: Vec<Vec<u8>> = argv.into_iter().map(String::into_bytes).collect();
        check(&store, &mut redis, &argv);
    }
    for i in 0..4 {
        check(
            &store,
            &mut redis,
            &[b"GET".to_vec(), format!("b{i}").into_bytes()],
        );
    }
    assert_eq!(redis.cmd(&["PING"]), Reply::status("PONG"));
}

/// A bit write on an `int` or `embstr` string leaves it `raw`, as Redis's unsharing lookup
/// does, also when the bit or field keeps its value; a GET-only BITFIELD converts nothing.
/// A write that keeps the value does not invalidate a WATCH.
#[test]
fn bit_writes_leave_strings_raw() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    let mut lines = Vec::new();
    for (value, write) in [
        ("12", "SETBIT k 0 0"),
        ("12", "SETBIT k 2 1"),
        ("12", "SETBIT k 20 0"),
        ("12", "SETBIT k 2 0"),
        ("abc", "SETBIT k 1 1"),
        ("abc", "SETBIT k 0 0"),
        ("abc", "BITFIELD k SET u8 0 97"),
        ("abc", "BITFIELD k INCRBY u8 0 0"),
        ("12", "BITFIELD k SET u8 0 49"),
        ("12", "BITFIELD k OVERFLOW FAIL INCRBY u8 0 255"),
        ("12", "BITFIELD k GET u8 0"),
        ("12", "BITFIELD_RO k GET u8 0"),
        ("abc", "GETBIT k 1"),
        ("abc", "BITCOUNT k"),
    ] {
        lines.push(format!("SET k {value}"));
        lines.push("OBJECT ENCODING k".to_owned());
        lines.push(write.to_owned());
        lines.push("OBJECT ENCODING k".to_owned());
        lines.push("GET k".to_owned());
    }
    for line in &lines {
        check(&s, &mut r, &words(line));
    }
    let mut c = s.connection();
    let mut watcher = server.conn();
    for write in [
        "SETBIT w 0 0",
        "BITFIELD w SET u8 0 97",
        "BITFIELD w INCRBY u8 8 0",
        "SETBIT w 0 1",
        "BITFIELD w SET u8 0 1",
    ] {
        for line in ["SET w abc", "WATCH w", write, "MULTI", "GET w", "EXEC"] {
            let argv = words(line);
            assert_eq!(c.execute(&argv), watcher.cmd(&argv), "{write}: {line}");
        }
    }
}
