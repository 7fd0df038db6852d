//! Parity of the keyspace-wide, list, hash and utility commands added for Redis 7.0
//! (COPY, OBJECT, TOUCH, EXPIRETIME, LINSERT, LPOS, LMPOP, HRANDFIELD, HSCAN, LCS, SORT,
//! PFDEBUG, ...): the same commands against the embedded store and a real redis-server 7.0
//! that the test starts on a free port. Replies Redis chooses at random are compared by
//! their properties instead.

mod common;

use common::{words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

fn check_lines(store: &Store, redis: &mut RespConn, lines: &[&str]) {
    for line in lines {
        let argv = words(line);
        let ours = store.execute(&argv);
        let theirs = redis.cmd(&argv);
        assert_eq!(ours, theirs, "command: {line}");
    }
}

fn setup() -> (RedisServer, RespConn, Store) {
    let server = RedisServer::start();
    let redis = server.conn();
    (server, redis, Store::new())
}

const GENERIC_CORPUS: &[&str] = &[
    "FLUSHALL",
    "SET a 1",
    "SET b hello",
    "SET c xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "SET n 12345",
    "SET neg -1",
    "SET z 01",
    "RPUSH l x y",
    "HSET h f v",
    "PFADD hll a b c",
    "OBJECT ENCODING a",
    "OBJECT ENCODING b",
    "OBJECT ENCODING c",
    "OBJECT ENCODING n",
    "OBJECT ENCODING neg",
    "OBJECT ENCODING z",
    "OBJECT ENCODING l",
    "OBJECT ENCODING h",
    "OBJECT ENCODING hll",
    "OBJECT ENCODING nokey",
    "INCR counter",
    "OBJECT ENCODING counter",
    "OBJECT REFCOUNT counter",
    "OBJECT REFCOUNT a",
    "OBJECT REFCOUNT n",
    "OBJECT REFCOUNT b",
    "OBJECT REFCOUNT nokey",
    "OBJECT FREQ a",
    "OBJECT FREQ nokey",
    "OBJECT IDLETIME nokey",
    "OBJECT FOO a",
    "OBJECT ENCODING",
    "OBJECT ENCODING a b",
    "OBJECT HELP",
    "OBJECT HELP x",
    "OBJECT",
    "HSET big f xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "OBJECT ENCODING big",
    "HDEL big f",
    "COPY a a",
    "COPY a a DB 16",
    "COPY a x DB abc",
    "COPY a x DB 99999999999",
    "COPY a x DB",
    "COPY a x FOO",
    "COPY a x DB 0 REPLACE",
    "COPY a b",
    "GET b",
    "COPY a b REPLACE",
    "GET b",
    "COPY nokey x2",
    "EXPIRE l 100",
    "COPY l l2",
    "LRANGE l2 0 -1",
    "TTL l2",
    "COPY h h2",
    "HGETALL h2",
    "HSET h f2 v2",
    "HGETALL h2",
    "COPY hll hll2",
    "PFCOUNT hll2",
    "TYPE hll2",
    "EXPIRETIME a",
    "PEXPIRETIME a",
    "EXPIRETIME nokey",
    "PEXPIRETIME nokey",
    "EXPIREAT a 4102444800",
    "EXPIRETIME a",
    "PEXPIRETIME a",
    "PEXPIREAT a 4102444800123",
    "EXPIRETIME a",
    "PEXPIRETIME a",
    "PEXPIREAT a 4102444800500",
    "EXPIRETIME a",
    "EXPIRETIME",
    "TOUCH a b nokey a",
    "TOUCH",
    "FLUSHDB",
    "RANDOMKEY",
    "SET only 1",
    "RANDOMKEY",
    "FLUSHALL ASYNC",
    "FLUSHDB SYNC",
    "FLUSHALL foo",
    "FLUSHDB SYNC ASYNC",
    "RANDOMKEY x",
    "LOLWUT",
    "LOLWUT foo",
    "LOLWUT VERSION",
    "LOLWUT VERSION 7",
    "LOLWUT VERSION abc",
    "LOLWUT VERSION 1 extra",
];

#[test]
fn generic_commands_match_redis() {
    let (_server, mut redis, store) = setup();
    check_lines(&store, &mut redis, GENERIC_CORPUS);
}

const LIST_CORPUS: &[&str] = &[
    "FLUSHALL",
    "RPUSH l a b c a b c a",
    "LINSERT l BEFORE b X",
    "LINSERT l after a Y",
    "LRANGE l 0 -1",
    "LINSERT l AFTER zz X",
    "LINSERT l middle b X",
    "LINSERT nol BEFORE a b",
    "EXISTS nol",
    "SET s v",
    "LINSERT s BEFORE a b",
    "LINSERT s middle a b",
    "LINSERT l BEFORE",
    "LPOS l a",
    "LPOS l a RANK 2",
    "LPOS l a RANK -1",
    "LPOS l a RANK -2",
    "LPOS l a RANK 9",
    "LPOS l a COUNT 0",
    "LPOS l a COUNT 2 RANK -1",
    "LPOS l a COUNT 2 RANK 2",
    "LPOS l a RANK 0",
    "LPOS l a COUNT -1",
    "LPOS l a MAXLEN -1",
    "LPOS l a MAXLEN 2 COUNT 0",
    "LPOS l a MAXLEN 1",
    "LPOS l a MAXLEN 1 RANK -1",
    "LPOS l a RANK -9223372036854775808",
    "LPOS l a RANK -9223372036854775808 COUNT 2",
    "LPOS l a RANK 9223372036854775807 COUNT 2",
    "LPOS l a RANK abc",
    "LPOS l a COUNT abc",
    "LPOS l zz",
    "LPOS l zz COUNT 0",
    "LPOS nol a",
    "LPOS nol a COUNT 1",
    "LPOS l a foo",
    "LPOS l a RANK",
    "LPOS l a RANK 0 COUNT -1",
    "LPOS s a",
    "LPOS s a RANK 0",
    "LPOS nol a RANK 0",
    "LMPOP 1 l LEFT",
    "LMPOP 2 nol l RIGHT COUNT 2",
    "LMPOP 0 l LEFT",
    "LMPOP -1 l LEFT",
    "LMPOP abc l LEFT",
    "LMPOP 1 l up",
    "LMPOP 1 l LEFT COUNT 0",
    "LMPOP 1 l LEFT COUNT -1",
    "LMPOP 1 l LEFT COUNT abc",
    "LMPOP 1 l LEFT COUNT",
    "LMPOP 1 l LEFT foo",
    "LMPOP 2 nol1 nol2 LEFT",
    "LMPOP 3 l LEFT",
    "LMPOP 1 s LEFT",
    "LMPOP 2 nol s LEFT",
    "LMPOP 2 l s LEFT",
    "LMPOP 1 l LEFT COUNT 1 COUNT 2",
    "LMPOP 1 l left count 100",
    "EXISTS l",
    "LMPOP 1 l",
    "RPUSH l2 1 2 3",
    "BLMPOP 0.01 1 nol LEFT",
    "BLMPOP 0 1 nol middle",
    "BLMPOP -1 1 nol LEFT",
    "BLMPOP abc 1 l2 LEFT",
    "BLMPOP abc 0 l2 LEFT",
    "BLMPOP abc 1 l2 LEFT COUNT 0",
    "BLMPOP 0 1 l2 RIGHT COUNT 2",
    "BLMPOP 0 2 nol l2 LEFT COUNT 5",
    "BLMPOP 0 1 s LEFT",
    "BLMPOP 0 1 l",
    "RPUSH l3 a b c",
    "MULTI",
    "BLMPOP 0 1 l3 LEFT COUNT 2",
    "BLMPOP 0 1 nol LEFT",
    "BLMPOP -1 1 nol LEFT",
    "EXEC",
    "MULTI",
    "OBJECT ENCODING l3",
    "OBJECT FOO l3",
    "EXEC",
    "MULTI",
    "OBJECT ENCODING",
    "EXEC",
    "MULTI",
    "OBJECT HELP",
    "OBJECT ENCODING l3",
    "OBJECT FREQ l3",
    "EXEC",
];

#[test]
fn list_commands_match_redis() {
    let (_server, mut redis, store) = setup();
    let mut tx = store.connection();
    for line in LIST_CORPUS {
        let argv = words(line);
        let ours = tx.execute(&argv);
        let theirs = redis.cmd(&argv);
        assert_eq!(ours, theirs, "command: {line}");
    }
}

const HASH_CORPUS: &[&str] = &[
    "FLUSHALL",
    "HSET h a 1 b 2 c 3",
    "SET s v",
    "HRANDFIELD nokey",
    "HRANDFIELD nokey 2",
    "HRANDFIELD nokey -2 WITHVALUES",
    "HRANDFIELD nokey 0 WITHVALUES",
    "HRANDFIELD h 0",
    "HRANDFIELD h 0 WITHVALUES",
    "HRANDFIELD h 3",
    "HRANDFIELD h 5 WITHVALUES",
    "HRANDFIELD h abc",
    "HRANDFIELD h 1 foo",
    "HRANDFIELD h 1 WITHVALUES x",
    "HRANDFIELD h -9223372036854775808",
    "HRANDFIELD h -9223372036854775807 WITHVALUES",
    "HRANDFIELD h 9223372036854775807 WITHVALUES",
    "HRANDFIELD h -4611686018427387904 WITHVALUES",
    "HRANDFIELD h 4611686018427387903 WITHVALUES",
    "HRANDFIELD s",
    "HRANDFIELD s 1",
    "HRANDFIELD s 1 foo",
    "HRANDFIELD s abc",
    "HSCAN h 0",
    "HSCAN h 0 MATCH a*",
    "HSCAN h 0 MATCH * COUNT 1",
    "HSCAN h 0 COUNT 0",
    "HSCAN h 0 COUNT abc",
    "HSCAN h abc",
    "HSCAN h 0 foo",
    "HSCAN h 0 COUNT 1",
    "HSCAN h 0 MATCH",
    "HSCAN h 1",
    "HSCAN h -1",
    "HSCAN h 18446744073709551615",
    "HSCAN h 18446744073709551616",
    "HSCAN h 0 TYPE string",
    "HSCAN nokey 0",
    "HSCAN nokey 0 foo",
    "HSCAN nokey abc",
    "HSCAN s 0",
    "HSCAN s 0 foo",
    "HSCAN h",
];

#[test]
fn hash_commands_match_redis() {
    let (_server, mut redis, store) = setup();
    check_lines(&store, &mut redis, HASH_CORPUS);
}

fn bulks(r: Reply) -> Vec<Vec<u8>> {
    match r {
        Reply::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Reply::Bulk(b) => b,
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// HSCAN of a hashtable-encoded hash: pages differ (Redis's follow its own table), but
/// iterating to cursor 0 returns every pair once in both, and small hashes answer in one
/// page with cursor 0.
#[test]
fn hscan_iterates_every_field_like_redis() {
    let (_server, mut redis, store) = setup();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for size in [5usize, 512, 513, 2000] {
        let key = format!("h{size}");
        for chunk in (0..size).collect::<Vec<_>>().chunks(100) {
            let mut argv = vec![b"HSET".to_vec(), key.clone().into_bytes()];
            for i in chunk {
                argv.push(format!("f{i}").into_bytes());
                argv.push(format!("{}", rng.gen::<u32>()).into_bytes());
            }
            assert_eq!(store.execute(&argv), redis.cmd(&argv));
        }
        let enc = ["OBJECT", "ENCODING", &key];
        assert_eq!(store.execute(&enc), redis.cmd(&enc), "size {size}");
        for count in ["10", "7", "1000"] {
            let mut all = Vec::new();
            for ours in [true, false] {
                let mut cursor = b"0".to_vec();
                let mut pairs = Vec::new();
                let mut calls = 0;
                loop {
                    let argv: Vec<Vec<u8>> = vec![
                        b"HSCAN".to_vec(),
                        key.clone().into_bytes(),
                        cursor.clone(),
                        b"COUNT".to_vec(),
                        count.as_bytes().to_vec(),
                    ];
                    let r = if ours {
                        store.execute(&argv)
                    } else {
                        redis.cmd(&argv)
                    };
                    let Reply::Array(mut parts) = r else {
                        panic!("HSCAN reply")
                    };
                    let page = bulks(parts.pop().expect("page"));
                    let Some(Reply::Bulk(c)) = parts.pop() else {
                        panic!("cursor")
                    };
                    pairs.extend(page.chunks(2).map(|c| (c[0].clone(), c[1].clone())));
                    calls += 1;
                    cursor = c;
                    if cursor == b"0" {
                        break;
                    }
                }
                if size <= 512 {
                    assert_eq!(calls, 1, "a listpack hash comes in one page");
                }
                let n = pairs.len();
                pairs.sort();
                pairs.dedup();
                if ours {
                    assert_eq!(n, size, "every field exactly once");
                }
                all.push(pairs);
            }
            assert_eq!(all[0], all[1], "size {size} count {count}");
            assert_eq!(all[0].len(), size);
        }
    }
}

/// HRANDFIELD's random answers: distinct fields of the hash for a positive count, picks
/// of the right number for a negative one, values matching their fields, and every field
/// in time.
#[test]
fn hrandfield_properties() {
    let (_server, mut redis, store) = setup();
    for size in [3usize, 600] {
        let key = format!("h{size}");
        let mut argv = vec![b"HSET".to_vec(), key.clone().into_bytes()];
        for i in 0..size {
            argv.push(format!("f{i}").into_bytes());
            argv.push(format!("v{i}").into_bytes());
        }
        assert_eq!(store.execute(&argv), redis.cmd(&argv));
        for count in [1i64, 2, 3, 5, 599, 600, 700, -1, -5, -1000] {
            for with_values in [false, true] {
                let mut argv = vec!["HRANDFIELD".to_string(), key.clone(), count.to_string()];
                if with_values {
                    argv.push("WITHVALUES".into());
                }
                for r in [store.execute(&argv), redis.cmd(&argv)] {
                    let items = bulks(r);
                    let per = if with_values { 2 } else { 1 };
                    let want = if count < 0 {
                        count.unsigned_abs() as usize
                    } else {
                        (count as usize).min(size)
                    };
                    assert_eq!(items.len(), want * per, "{argv:?}");
                    let fields: Vec<&Vec<u8>> = items.iter().step_by(per).collect();
                    for (i, f) in fields.iter().enumerate() {
                        let f = String::from_utf8_lossy(f).into_owned();
                        let n: usize = f[1..].parse().expect("field");
                        assert!(n < size);
                        if with_values {
                            assert_eq!(items[i * 2 + 1], format!("v{n}").into_bytes());
                        }
                    }
                    if count > 0 {
                        let mut uniq = fields.clone();
                        uniq.sort();
                        uniq.dedup();
                        assert_eq!(uniq.len(), fields.len(), "{argv:?} repeats");
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(size * 20) {
            let Reply::Bulk(f) = store.execute(&["HRANDFIELD", &key]) else {
                panic!("HRANDFIELD")
            };
            seen.insert(f);
        }
        assert_eq!(seen.len(), size);
    }
}

/// RESP3 shapes: HRANDFIELD WITHVALUES answers an array of [field, value] pairs, LCS IDX a
/// map, SORT's missing GET values and LMPOP's miss RESP3 nulls.
#[test]
fn resp3_shapes_match_redis() {
    let (_server, mut redis, store) = setup();
    let mut conn = store.connection();
    for c in [
        &["HELLO", "3"][..],
        &["HSET", "h", "a", "1"],
        &["MSET", "s1", "ohmytext", "s2", "mynewtext"],
        &["RPUSH", "l", "2", "1"],
    ] {
        conn.execute(c);
        redis.cmd(c);
    }
    for line in [
        "HRANDFIELD h 1 WITHVALUES",
        "HRANDFIELD h -2 WITHVALUES",
        "HRANDFIELD h 5 WITHVALUES",
        "HRANDFIELD nokey",
        "LCS s1 s2 IDX WITHMATCHLEN",
        "SORT l GET # GET nokey_*",
        "LMPOP 1 nokey LEFT",
        "LPOS l 9",
        "OBJECT ENCODING nokey",
        "HSCAN h 0",
    ] {
        let argv = words(line);
        // Compared as RESP3 bytes: both nulls are `_` on the wire.
        let wire = |r: Reply| {
            let mut out = Vec::new();
            r.write_resp3(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        };
        let ours = wire(conn.execute(&argv));
        let theirs = wire(redis.cmd(&argv));
        assert_eq!(ours, theirs, "{line}");
    }
}

const LCS_CORPUS: &[&str] = &[
    "FLUSHALL",
    "MSET a ohmytext b mynewtext",
    "LCS a b",
    "LCS a b LEN",
    "LCS a b IDX",
    "LCS a b IDX WITHMATCHLEN",
    "LCS a b IDX MINMATCHLEN 4",
    "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
    "LCS a b IDX MINMATCHLEN -5 WITHMATCHLEN",
    "LCS a b IDX MINMATCHLEN abc",
    "LCS a b IDX MINMATCHLEN",
    "LCS a b LEN IDX",
    "LCS a b FOO",
    "LCS a nokey",
    "LCS nokey nokey2 IDX",
    "LCS a a",
    "RPUSH l x",
    "LCS a l",
    "LCS l a FOO",
    "SET n 12345",
    "SET m 2345",
    "LCS n m",
    "MSET x abcabcabcxyz y cbacbaxyzabc",
    "LCS x y",
    "LCS x y IDX WITHMATCHLEN",
    "LCS y x IDX WITHMATCHLEN",
    "LCS x",
];

#[test]
fn lcs_matches_redis() {
    let (_server, mut redis, store) = setup();
    check_lines(&store, &mut redis, LCS_CORPUS);
}

/// LCS of random strings over a small alphabet (many equally long subsequences): the
/// same subsequence and the same ranges as Redis.
#[test]
fn lcs_random_strings_match_redis() {
    let (_server, mut redis, store) = setup();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..200 {
        let mut s = || -> Vec<u8> {
            let n = rng.gen_range(0..40);
            (0..n).map(|_| b"abc"[rng.gen_range(0..3)]).collect()
        };
        let (a, b) = (s(), s());
        for argv in [
            vec![
                b"MSET".to_vec(),
                b"a".to_vec(),
                a.clone(),
                b"b".to_vec(),
                b.clone(),
            ],
            words("LCS a b"),
            words("LCS a b LEN"),
            words("LCS a b IDX WITHMATCHLEN"),
            words("LCS a b IDX MINMATCHLEN 2"),
        ] {
            assert_eq!(
                store.execute(&argv),
                redis.cmd(&argv),
                "{a:?} {b:?} {argv:?}"
            );
        }
    }
}

const SORT_CORPUS: &[&str] = &[
    "FLUSHALL",
    "RPUSH l 3 1 2 10 -5 2.5 1e2",
    "SORT l",
    "SORT l DESC",
    "SORT l ALPHA",
    "SORT l ALPHA DESC",
    "SORT l LIMIT 1 3",
    "SORT l LIMIT -5 2",
    "SORT l LIMIT 2 -1",
    "SORT l LIMIT 100 5",
    "SORT l LIMIT 0 0",
    "SORT l LIMIT abc 1",
    "SORT l LIMIT 0",
    "SORT l DESC LIMIT 0 2 ASC",
    "SORT_RO l DESC LIMIT 1 2",
    "SORT_RO l STORE dst",
    "SORT l FOO",
    "SORT l BY nosort",
    "SORT l BY nosort DESC",
    "SORT l BY nosort LIMIT 1 2",
    "SORT l BY nosort DESC LIMIT 1 2",
    "SORT l BY nosort LIMIT 10 2",
    "MSET w_3 30 w_1 10 w_2 20 w_10 5 w_-5 7 w_2.5 1 w_1e2 100",
    "SORT l BY w_*",
    "SORT l BY w_* DESC",
    "SORT l BY w_* GET #",
    "SORT l BY w_* GET # GET w_*",
    "SORT l GET w_* GET nostar GET #",
    "SORT l BY w_* ALPHA",
    "HSET h_3 f c",
    "HSET h_1 f a",
    "HSET h_2 f b",
    "SORT l BY h_*->f ALPHA",
    "SORT l BY h_*->f ALPHA DESC",
    "SORT l GET h_*->f",
    "SORT l GET h_*-> GET h_*->g",
    "SORT l BY h_*->f",
    "SET w_1 notanumber",
    "SORT l BY w_*",
    "SORT l BY w_* ALPHA",
    "SORT l BY missing_*",
    "SORT l BY missing_* DESC",
    "SORT l STORE dst",
    "LRANGE dst 0 -1",
    "SORT l GET h_*->f STORE dst",
    "LRANGE dst 0 -1",
    "SORT nokey STORE dst",
    "EXISTS dst",
    "SORT nokey",
    "SORT nokey BY w_* GET #",
    "RPUSH bad a b 1",
    "SORT bad",
    "SORT bad ALPHA",
    "SORT bad BY nosort",
    "RPUSH sp ' 1' '' 2",
    "SORT sp",
    "RPUSH inf inf -inf 0 +inf -1e300",
    "SORT inf",
    "RPUSH dup b a b a c",
    "SORT dup ALPHA",
    "SORT dup ALPHA DESC",
    "SET str v",
    "SORT str",
    "SORT str FOO",
    "HSET hash f v",
    "SORT hash",
    "SORT l STORE str",
    "TYPE str",
    "SORT",
    "SORT l STORE",
    "SORT l BY",
    "SORT l GET",
];

#[test]
fn sort_matches_redis() {
    let (_server, mut redis, store) = setup();
    check_lines(&store, &mut redis, SORT_CORPUS);
}

const PFDEBUG_CORPUS: &[&str] = &[
    "FLUSHALL",
    "PFADD h a b c",
    "PFDEBUG DECODE h",
    "PFDEBUG ENCODING h",
    "PFDEBUG foo h",
    "PFDEBUG foo nokey",
    "PFDEBUG GETREG nokey",
    "SET s v",
    "PFDEBUG foo s",
    "PFDEBUG ENCODING s",
    "SET n 1",
    "PFDEBUG ENCODING n",
    "RPUSH l a",
    "PFDEBUG ENCODING l",
    "PFDEBUG GETREG h",
    "PFDEBUG ENCODING h",
    "PFADD h2 x y",
    "PFDEBUG TODENSE h2",
    "PFDEBUG TODENSE h2",
    "PFDEBUG DECODE h2",
    "PFDEBUG ENCODING h2",
    "GET h2",
    "PFCOUNT h2",
    "PFDEBUG GETREG h x",
    "PFDEBUG GETREG",
    "PFSELFTEST",
    "PFSELFTEST x",
];

#[test]
fn pfdebug_matches_redis() {
    let (_server, mut redis, store) = setup();
    check_lines(&store, &mut redis, PFDEBUG_CORPUS);
}

/// RANDOMKEY answers a key that exists, and every key in time.
#[test]
fn randomkey_picks_every_key() {
    let (_server, mut redis, store) = setup();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for i in 0..20 {
        let k = format!("k{i}:{}", rng.gen::<u16>());
        store.execute(&["SET", &k, "v"]);
        redis.cmd(&["SET", &k, "v"]);
    }
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2000 {
        let Reply::Bulk(k) = store.execute(&["RANDOMKEY"]) else {
            panic!("RANDOMKEY gave no key");
        };
        assert_eq!(redis.cmd(&[&b"EXISTS"[..], &k]), Reply::Integer(1));
        seen.insert(k);
    }
    assert_eq!(seen.len(), 20);
}

fn random_value(rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.gen_range(0..8) {
        0 => b"".to_vec(),
        1 | 2 => rng.gen_range(-5i64..50).to_string().into_bytes(),
        3 => format!("{}.{}", rng.gen_range(-100..100), rng.gen_range(0..1000)).into_bytes(),
        4 => ["12345", "01", " 1", "1e3", "-0"][rng.gen_range(0..5)]
            .as_bytes()
            .to_vec(),
        _ => {
            let len = rng.gen_range(1..8);
            (0..len).map(|_| rng.gen_range(b'a'..=b'd')).collect()
        }
    }
}

/// One command of the random stream: writes that build lists, hashes and strings, and the
/// new commands in the forms whose replies are deterministic.
fn random_command(rng: &mut ChaCha8Rng) -> Vec<Vec<u8>> {
    let key = |rng: &mut ChaCha8Rng| format!("k{}", rng.gen_range(0..6)).into_bytes();
    let field = |rng: &mut ChaCha8Rng| format!("f{}", rng.gen_range(0..5)).into_bytes();
    let w = |s: &str| s.as_bytes().to_vec();
    let num =
        |rng: &mut ChaCha8Rng, lo: i64, hi: i64| rng.gen_range(lo..hi).to_string().into_bytes();
    let mut argv: Vec<Vec<u8>>;
    match rng.gen_range(0..30) {
        0..=2 => {
            argv = vec![w(["RPUSH", "LPUSH"][rng.gen_range(0..2)]), key(rng)];
            for _ in 0..rng.gen_range(1..5) {
                argv.push(random_value(rng));
            }
        }
        3 | 4 => {
            argv = vec![w("HSET"), key(rng)];
            for _ in 0..rng.gen_range(1..3) {
                argv.extend([field(rng), random_value(rng)]);
            }
        }
        5 => argv = vec![w("SET"), key(rng), random_value(rng)],
        6 => argv = vec![w("DEL"), key(rng)],
        7 => {
            argv = vec![
                w("LINSERT"),
                key(rng),
                w(["BEFORE", "AFTER", "NEAR"][rng.gen_range(0..3)]),
                random_value(rng),
                random_value(rng),
            ]
        }
        8 | 9 => {
            argv = vec![w("LPOS"), key(rng), random_value(rng)];
            for _ in 0..rng.gen_range(0..3) {
                match rng.gen_range(0..4) {
                    0 => argv.extend([w("RANK"), num(rng, -3, 4)]),
                    1 => argv.extend([w("COUNT"), num(rng, -1, 4)]),
                    2 => argv.extend([w("MAXLEN"), num(rng, -1, 6)]),
                    _ => argv.push(w("RANK")),
                }
            }
        }
        10 | 11 => {
            let blocking = rng.gen_bool(0.3);
            argv = if blocking {
                vec![w("BLMPOP"), w("0.001")]
            } else {
                vec![w("LMPOP")]
            };
            let n = rng.gen_range(0..4);
            argv.push(n.to_string().into_bytes());
            for _ in 0..n {
                argv.push(key(rng));
            }
            argv.push(w(["LEFT", "RIGHT", "UP"][rng.gen_range(0..3)]));
            if rng.gen_bool(0.5) {
                argv.extend([w("COUNT"), num(rng, -1, 5)]);
            }
        }
        12 => {
            argv = vec![w("COPY"), key(rng), key(rng)];
            if rng.gen_bool(0.5) {
                argv.push(w("REPLACE"));
            }
        }
        13 => argv = vec![w("TOUCH"), key(rng), key(rng)],
        14 => {
            argv = vec![
                w(["EXPIREAT", "PEXPIREAT"][rng.gen_range(0..2)]),
                key(rng),
                num(rng, 4_000_000_000, 4_000_000_100),
            ]
        }
        15 => {
            argv = vec![
                w(["EXPIRETIME", "PEXPIRETIME", "PERSIST"][rng.gen_range(0..3)]),
                key(rng),
            ]
        }
        16 => {
            argv = vec![
                w("OBJECT"),
                w(["ENCODING", "REFCOUNT", "FREQ"][rng.gen_range(0..3)]),
                key(rng),
            ]
        }
        17 => {
            // Counts of 0 and at least the hash's size answer deterministically.
            argv = vec![
                w("HRANDFIELD"),
                key(rng),
                w(["0", "100", "-0"][rng.gen_range(0..3)]),
            ];
            if rng.gen_bool(0.5) {
                argv.push(w("WITHVALUES"));
            }
        }
        18 => {
            argv = vec![w("HSCAN"), key(rng), w("0")];
            if rng.gen_bool(0.5) {
                argv.extend([w("MATCH"), w(["f[0-2]", "*", "x*"][rng.gen_range(0..3)])]);
            }
        }
        19 | 20 => {
            argv = vec![w("LCS"), key(rng), key(rng)];
            match rng.gen_range(0..4) {
                0 => argv.push(w("LEN")),
                1 => argv.extend([w("IDX"), w("WITHMATCHLEN")]),
                2 => argv.extend([w("IDX"), w("MINMATCHLEN"), num(rng, 0, 3)]),
                _ => {}
            }
        }
        21..=25 => {
            argv = vec![w(["SORT", "SORT_RO"][rng.gen_range(0..2)]), key(rng)];
            let alpha = rng.gen_bool(0.4);
            // ALPHA with BY leaves equal weights in an order Redis's qsort chooses.
            if !alpha && rng.gen_bool(0.4) {
                argv.extend([w("BY"), w(["k*", "nosort", "k*->f1"][rng.gen_range(0..3)])]);
            }
            if alpha {
                argv.push(w("ALPHA"));
            }
            if rng.gen_bool(0.3) {
                argv.push(w("DESC"));
            }
            if rng.gen_bool(0.3) {
                argv.extend([w("LIMIT"), num(rng, -1, 4), num(rng, -1, 4)]);
            }
            for _ in 0..rng.gen_range(0..3) {
                argv.extend([
                    w("GET"),
                    w(["#", "k*", "k*->f0", "nostar"][rng.gen_range(0..4)]),
                ]);
            }
            if argv[0] == b"SORT" && rng.gen_bool(0.3) {
                argv.extend([w("STORE"), key(rng)]);
            }
        }
        26 => argv = vec![w("LRANGE"), key(rng), w("0"), w("-1")],
        27 => argv = vec![w("HGETALL"), key(rng)],
        28 => argv = vec![w("TYPE"), key(rng)],
        _ => argv = vec![w("GET"), key(rng)],
    }
    argv
}

#[test]
fn seeded_random_sequences_match_redis() {
    let (_server, mut redis, _) = setup();
    // Per command name: replies that were not errors, so the stream is known to reach
    // each command's real work.
    let mut answered: std::collections::BTreeMap<String, usize> = Default::default();
    for seed in 0..12u64 {
        let store = Store::new();
        assert_eq!(redis.cmd(&["FLUSHALL"]), Reply::ok());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for step in 0..400 {
            let argv = random_command(&mut rng);
            let ours = store.execute(&argv);
            let theirs = redis.cmd(&argv);
            if !matches!(ours, Reply::Error(_) | Reply::Nil | Reply::NilArray) {
                let name = String::from_utf8_lossy(&argv[0]).into_owned();
                *answered.entry(name).or_default() += 1;
            }
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
    for name in [
        "LINSERT",
        "LPOS",
        "LMPOP",
        "BLMPOP",
        "COPY",
        "TOUCH",
        "EXPIRETIME",
        "PEXPIRETIME",
        "OBJECT",
        "HRANDFIELD",
        "HSCAN",
        "LCS",
        "SORT",
        "SORT_RO",
    ] {
        let n = answered.get(name).copied().unwrap_or(0);
        assert!(n >= 5, "{name} answered only {n} times: {answered:?}");
    }
}

/// The new commands on a RedisBloom filter, against Redis with the module loaded.
#[test]
fn bloom_keys_match_redisbloom() {
    let module = common::cluster::redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let mut redis = server.conn();
    let store = Store::new();
    check_lines(
        &store,
        &mut redis,
        &[
            "BF.ADD bf x",
            "OBJECT ENCODING bf",
            "OBJECT REFCOUNT bf",
            "COPY bf bf2",
            "SET s v",
            "COPY bf s",
            "COPY bf s REPLACE",
            "GET s",
            "TYPE bf2",
            "SORT bf",
            "LCS bf s",
            "TOUCH bf",
            "HRANDFIELD bf",
            "HSCAN bf 0",
            "LPOS bf x",
            "LINSERT bf BEFORE x y",
            "LMPOP 1 bf LEFT",
            "PFDEBUG ENCODING bf",
            "EXPIRETIME bf",
            "CF.ADD cf x",
            "CMS.INITBYDIM cm 10 2",
            "OBJECT ENCODING cf",
            "OBJECT ENCODING cm",
            "COPY cf cf2",
            "COPY cm cm2",
            "SORT cf",
            "LCS cm s",
        ],
    );
}
