//! Sets against a real redis-server 7.0: fixed vectors (errors and edge cases, compared byte
//! for byte), seeded random command streams over a few keys (replies compared exactly where
//! Redis's order is defined, an intset's ascending order, and sorted where it is a hash
//! table's; the encoding compared after every write), random pops checked for membership,
//! and RESP3 reply kinds.

mod common;

use common::{sorted, words, RedisServer, RespConn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};
use std::collections::BTreeSet;

fn line(store: &Store, redis: &mut RespConn, l: &str) -> Reply {
    common::same(store, redis, &words(l))
}

/// Runs `argv` on both and compares the replies with array elements sorted (nested arrays
/// too, for SSCAN pages).
fn same_unordered(store: &Store, redis: &mut RespConn, argv: &[Vec<u8>]) -> Reply {
    fn norm(r: Reply) -> Reply {
        match r {
            Reply::Array(items) => sorted(Reply::Array(items.into_iter().map(norm).collect())),
            other => other,
        }
    }
    let ours = norm(store.execute(argv));
    let theirs = norm(redis.cmd(argv));
    assert_eq!(ours, theirs, "command: {}", show(argv));
    ours
}

fn show(argv: &[Vec<u8>]) -> String {
    argv.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn encoding_of(redis: &mut RespConn, key: &str) -> Option<String> {
    match redis.cmd(&["OBJECT", "ENCODING", key]) {
        Reply::Bulk(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        _ => None,
    }
}

fn same_encoding(store: &Store, redis: &mut RespConn, key: &str, after: &str) {
    let theirs =
        encoding_of(redis, key).filter(|_| redis.cmd(&["TYPE", key]) == Reply::status("set"));
    let ours = store.set_encoding(key).map(|e| e.as_str().to_owned());
    assert_eq!(ours, theirs, "encoding of {key} after {after}");
}

#[test]
fn fixed_vectors_match_redis() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    for l in [
        "SADD s 3 1 2",
        "SADD s 2 4",
        "SMEMBERS s",
        "SADD h b a c 1",
        "SET str x",
        "SADD str a",
        "SREM str a",
        "SMEMBERS str",
        "SMEMBERS nokey",
        "SCARD s",
        "SCARD nokey",
        "SCARD str",
        "SISMEMBER s 1",
        "SISMEMBER s 01",
        "SISMEMBER nokey 1",
        "SISMEMBER str 1",
        "SMISMEMBER s 1 7 2",
        "SMISMEMBER nokey a",
        "SMISMEMBER str a",
        "SMISMEMBER s",
        "TYPE s",
        "TYPE h",
        "SPOP s -1",
        "SPOP s x",
        "SPOP s 1 2",
        "SPOP str 0",
        "SPOP str",
        "SPOP nokey 0",
        "SPOP nokey 3",
        "SPOP nokey",
        "SPOP s 0",
        "SRANDMEMBER s -9223372036854775808",
        "SRANDMEMBER s x",
        "SRANDMEMBER s 1 2",
        "SRANDMEMBER str 1",
        "SRANDMEMBER str",
        "SRANDMEMBER nokey",
        "SRANDMEMBER nokey 5",
        "SRANDMEMBER s 0",
        "SRANDMEMBER s 10",
        "SINTERCARD 0 s",
        "SINTERCARD -1 s",
        "SINTERCARD 3 s h",
        "SINTERCARD 1 s LIMIT -1",
        "SINTERCARD 1 s LIMIT x",
        "SINTERCARD 1 s FOO 1",
        "SINTERCARD 1 s LIMIT",
        "SINTERCARD x s",
        "SINTERCARD 1 str",
        "SINTERCARD 2 s h",
        "SINTERCARD 2 s h LIMIT 0",
        "SINTERCARD 1 s LIMIT 2",
        "SINTERCARD 1 s LIMIT 1 LIMIT 3",
        "SINTERCARD 2 s nokey",
        "SINTERCARD 2 nokey str",
        "SSCAN s x",
        "SSCAN s 0 COUNT 0",
        "SSCAN s 0 COUNT x",
        "SSCAN s 0 FOO",
        "SSCAN s 0 MATCH",
        "SSCAN s -1",
        "SSCAN s 18446744073709551615",
        "SSCAN s 18446744073709551616",
        "SSCAN s 0 MATCH 1*",
        "SSCAN s 0 MATCH [12] COUNT 1",
        "SSCAN nokey 0 FOO",
        "SSCAN nokey x",
        "SSCAN str 0",
        "SSCAN str 0 FOO",
        "SMOVE s str 1",
        "SMOVE str s 1",
        "SMOVE nokey str 1",
        "SMOVE s s 1",
        "SMOVE s s 9",
        "SMOVE s h 9",
        "SMOVE s d 1",
        "TYPE d",
        "SMOVE h d a",
        "SMEMBERS d",
        "SINTER s str nokey",
        "SINTER nokey str",
        "SINTER s h",
        "SINTERSTORE d nokey",
        "EXISTS d",
        "SUNION s nokey",
        "SUNION str",
        "SUNIONSTORE d nokey",
        "SUNIONSTORE d s str",
        "SDIFF s nokey",
        "SDIFF nokey s",
        "SDIFF s s",
        "SDIFF s str",
        "SDIFFSTORE d s s",
        "EXISTS d",
        "SET d x",
        "SUNIONSTORE d s",
        "TYPE d",
        "SMEMBERS d",
        "SET d2 x EX 100",
        "SINTERSTORE d2 s s",
        "TTL d2",
        "SADD big 1",
        "SREM big 1",
        "EXISTS big",
        "SADD e -0 +1 01 1",
        "SMEMBERS s",
        "SREM s 1 2 3 4 9",
        "EXISTS s",
        "SADD",
        "SADD s",
        "SMOVE a b",
        "SINTERCARD 1",
    ] {
        let argv = words(l);
        // A hash table's order is Redis's dict order, which no client may rely on.
        let unordered = ["SMEMBERS", "SINTER", "SUNION", "SDIFF", "SRANDMEMBER"]
            .iter()
            .any(|c| l.starts_with(c));
        if unordered {
            same_unordered(&s, &mut r, &argv);
        } else {
            common::same(&s, &mut r, &argv);
        }
        if let Some(key) = argv.get(1) {
            let key = String::from_utf8_lossy(key).into_owned();
            same_encoding(&s, &mut r, &key, l);
        }
    }
    // Growing past set-max-intset-entries converts, in both.
    let ints: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    let mut argv = vec!["SADD".to_owned(), "many".to_owned()];
    argv.extend(ints);
    let argv: Vec<Vec<u8>> = argv.into_iter().map(String::into_bytes).collect();
    common::same(&s, &mut r, &argv);
    same_encoding(&s, &mut r, "many", "512 integers");
    line(&s, &mut r, "SMEMBERS many");
    line(&s, &mut r, "SSCAN many 0");
    line(&s, &mut r, "SADD many 512");
    same_encoding(&s, &mut r, "many", "513 integers");
    same_unordered(&s, &mut r, &words("SMEMBERS many"));
}

const KEYS: [&str; 5] = ["s1", "s2", "s3", "s4", "str"];

fn member(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..10) {
        0..=5 => rng.gen_range(-20..40).to_string(),
        6 => format!("0{}", rng.gen_range(0..5)),
        7 => i64::MAX.to_string(),
        _ => format!("m{}", rng.gen_range(0..15)),
    }
}

fn key(rng: &mut ChaCha8Rng) -> &'static str {
    // The string key comes up rarely, for WRONGTYPE.
    if rng.gen_range(0..30) == 0 {
        "str"
    } else {
        KEYS[rng.gen_range(0..4)]
    }
}

/// Every member a whole SSCAN iteration returns, starting with `argv` (cursor 0).
fn full_scan(run: &mut dyn FnMut(&[Vec<u8>]) -> Reply, argv: &[Vec<u8>]) -> BTreeSet<Vec<u8>> {
    let mut argv = argv.to_vec();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let Reply::Array(page) = run(&argv) else {
            panic!("SSCAN page");
        };
        let [Reply::Bulk(cursor), Reply::Array(items)] = &page[..] else {
            panic!("SSCAN page shape");
        };
        for i in items {
            if let Reply::Bulk(m) = i {
                seen.insert(m.clone());
            }
        }
        if cursor == b"0" {
            return seen;
        }
        argv[2] = cursor.clone();
    }
    panic!("SSCAN did not finish");
}

/// Members of `key` in the store, sorted.
fn members(s: &Store, key: &str) -> BTreeSet<Vec<u8>> {
    s.smembers(key).unwrap_or_default().into_iter().collect()
}

#[test]
fn seeded_command_streams_match_redis() {
    let server = RedisServer::start();
    let mut r = server.conn();
    for seed in 0..12u64 {
        let s = Store::new();
        r.cmd(&["FLUSHALL"]);
        line(&s, &mut r, "SET str x");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Mostly integers in some streams, so intsets grow, convert and are rebuilt.
        let text_bias = seed % 3;
        for _ in 0..400 {
            let k = key(&mut rng);
            let mut argv: Vec<String>;
            let op = rng.gen_range(0..100);
            let n = rng.gen_range(1..6);
            let mems = |rng: &mut ChaCha8Rng| -> Vec<String> {
                (0..n)
                    .map(|_| {
                        let m = member(rng);
                        if text_bias == 0 && m.starts_with('m') {
                            rng.gen_range(0..30).to_string()
                        } else {
                            m
                        }
                    })
                    .collect()
            };
            let some_keys = |rng: &mut ChaCha8Rng| -> Vec<String> {
                (0..rng.gen_range(1..4))
                    .map(|_| key(rng).to_owned())
                    .collect()
            };
            let ordered;
            match op {
                0..=29 => {
                    argv = vec!["SADD".into(), k.into()];
                    argv.extend(mems(&mut rng));
                    ordered = true;
                }
                30..=41 => {
                    argv = vec!["SREM".into(), k.into()];
                    argv.extend(mems(&mut rng));
                    ordered = true;
                }
                42..=47 => {
                    argv = vec!["SMEMBERS".into(), k.into()];
                    ordered = encoding_of(&mut r, k).as_deref() == Some("intset");
                }
                48..=51 => {
                    argv = vec!["SISMEMBER".into(), k.into(), member(&mut rng)];
                    ordered = true;
                }
                52..=54 => {
                    argv = vec!["SMISMEMBER".into(), k.into()];
                    argv.extend(mems(&mut rng));
                    ordered = true;
                }
                55..=57 => {
                    argv = vec!["SCARD".into(), k.into()];
                    ordered = true;
                }
                58..=62 => {
                    argv = vec![
                        "SMOVE".into(),
                        k.into(),
                        key(&mut rng).into(),
                        member(&mut rng),
                    ];
                    ordered = true;
                }
                63..=67 => {
                    let cmd = ["SINTER", "SUNION", "SDIFF"][rng.gen_range(0..3)];
                    argv = vec![cmd.into()];
                    argv.extend(some_keys(&mut rng));
                    ordered = false;
                }
                68..=75 => {
                    let cmd = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][rng.gen_range(0..3)];
                    argv = vec![cmd.into(), k.into()];
                    argv.extend(some_keys(&mut rng));
                    ordered = true;
                }
                76..=79 => {
                    let ks = some_keys(&mut rng);
                    argv = vec!["SINTERCARD".into(), ks.len().to_string()];
                    argv.extend(ks);
                    if rng.gen_bool(0.5) {
                        argv.push("LIMIT".into());
                        argv.push(rng.gen_range(0..4).to_string());
                    }
                    ordered = true;
                }
                80..=83 => {
                    argv = vec!["SSCAN".into(), k.into(), "0".into()];
                    if rng.gen_bool(0.5) {
                        argv.push("MATCH".into());
                        argv.push(["*1*", "m*", "-*", "[0-3]"][rng.gen_range(0..4)].into());
                    }
                    // A hash table's pages differ: both sides are walked to the end and
                    // what they returned is compared. An intset's single page is compared.
                    if encoding_of(&mut r, k).as_deref() == Some("hashtable") {
                        let argv: Vec<Vec<u8>> = argv.into_iter().map(String::into_bytes).collect();
                        assert_eq!(
                            full_scan(&mut |a| s.execute(a), &argv),
                            full_scan(&mut |a| r.cmd(a), &argv),
                            "{}",
                            show(&argv)
                        );
                        continue;
                    }
                    ordered = true;
                }
                84..=91 => {
                    // SPOP and SRANDMEMBER are random: the store's answer is checked for
                    // membership, and the key is then rebuilt identically on both sides.
                    let before = members(&s, k);
                    let count: i64 = rng.gen_range(-4..8);
                    let pop = op < 88;
                    let got = if pop {
                        if count < 0 {
                            s.spop(k).map(|m| m.into_iter().collect())
                        } else {
                            s.spop_count(k, count as usize)
                        }
                    } else {
                        s.srandmember_count(k, count)
                    };
                    let Ok(got) = got else {
                        assert_eq!(k, "str");
                        continue;
                    };
                    assert!(got.iter().all(|m| before.contains(m)), "{k}: {got:?}");
                    let distinct: BTreeSet<&Vec<u8>> = got.iter().collect();
                    if pop || count >= 0 {
                        assert_eq!(distinct.len(), got.len(), "distinct picks");
                        let want = if pop && count < 0 {
                            1
                        } else {
                            count.max(0) as usize
                        };
                        assert_eq!(got.len(), want.min(before.len()));
                    } else {
                        let want = if before.is_empty() {
                            0
                        } else {
                            count.unsigned_abs()
                        };
                        assert_eq!(got.len() as u64, want);
                    }
                    if pop && !got.is_empty() {
                        let after = members(&s, k);
                        let want: BTreeSet<Vec<u8>> = before
                            .difference(&distinct.into_iter().cloned().collect())
                            .cloned()
                            .collect();
                        assert_eq!(after, want, "{k} after SPOP");
                        r.cmd(&["DEL", k]);
                        s.execute(&["DEL", k]);
                        if !after.is_empty() {
                            let mut argv: Vec<Vec<u8>> =
                                vec![b"SADD".to_vec(), k.as_bytes().to_vec()];
                            let mut items: Vec<Vec<u8>> = after.into_iter().collect();
                            items.shuffle(&mut rng);
                            argv.extend(items);
                            common::same(&s, &mut r, &argv);
                        }
                    }
                    continue;
                }
                92..=94 => {
                    argv = vec!["TYPE".into(), k.into()];
                    ordered = true;
                }
                95..=96 => {
                    argv = vec!["DEL".into(), k.into()];
                    ordered = true;
                }
                _ => {
                    argv = vec!["EXISTS".into(), k.into()];
                    ordered = true;
                }
            }
            let argv: Vec<Vec<u8>> = argv.into_iter().map(String::into_bytes).collect();
            if ordered {
                common::same(&s, &mut r, &argv);
            } else {
                same_unordered(&s, &mut r, &argv);
            }
            for k in KEYS {
                same_encoding(&s, &mut r, k, &format!("seed {seed}: {}", show(&argv)));
            }
        }
        for k in KEYS {
            same_unordered(&s, &mut r, &words(&format!("SMEMBERS {k}")));
        }
    }
}

#[test]
fn sscan_pages_cover_a_hash_table() {
    let s = Store::new();
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    s.sadd("h", &members).unwrap();
    let mut seen = BTreeSet::new();
    let mut cursor = 0;
    let mut pages = 0;
    loop {
        let page = s.sscan("h", cursor, None, 10).unwrap();
        pages += 1;
        seen.extend(page.members);
        // Removing members meanwhile never hides the others.
        if pages % 7 == 0 {
            s.srem("h", &[format!("m{pages}")]).unwrap();
        }
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    assert!(pages > 50, "{pages} pages of about 10");
    for i in 0..1000 {
        if i % 7 != 0 || i == 0 || i > pages {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
        }
    }
}

#[test]
fn resp3_kinds_match_redis() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    let mut c = s.connection();
    r.cmd(&["HELLO", "3"]);
    c.execute(&["HELLO", "3"]);
    for l in [
        "SADD s 5 1 3",
        "SMEMBERS s",
        "SMEMBERS nokey",
        "SINTER s",
        "SINTER s nokey",
        "SUNION s nokey",
        "SDIFF s",
        "SMISMEMBER s 1 2",
        "SISMEMBER s 1",
        "SRANDMEMBER s 5",
        "SRANDMEMBER nokey 5",
        "SRANDMEMBER s 0",
        "SPOP nokey 2",
        "SPOP s 0",
        "SSCAN s 0",
        "SPOP s 5",
        "SINTERCARD 1 s",
    ] {
        let argv = words(l);
        let theirs = r.cmd(&argv);
        let ours = c.execute(&argv);
        assert_eq!(ours, theirs, "{l}");
    }
}

#[test]
fn set_max_intset_entries_is_honoured_as_in_redis() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    for l in [
        "CONFIG SET set-max-intset-entries 3",
        "SADD a 1 2 3",
        "SADD b 1 2 3 4",
        "SADD c 1",
        "SADD c 2 3 4",
        "SUNIONSTORE u a c",
        "SINTERSTORE i b c",
        "SDIFFSTORE d b a",
        "SMOVE b a 4",
        "CONFIG SET set-max-intset-entries 0",
        "SADD z 7",
        "CONFIG SET set-max-intset-entries 600",
        "SADD big 1",
    ] {
        let argv = words(l);
        common::same(&s, &mut r, &argv);
        for k in ["a", "b", "c", "u", "i", "d", "z", "big"] {
            same_encoding(&s, &mut r, k, l);
        }
    }
    let mut argv = vec![b"SADD".to_vec(), b"big".to_vec()];
    argv.extend((0..599).map(|i| i.to_string().into_bytes()));
    common::same(&s, &mut r, &argv);
    same_encoding(&s, &mut r, "big", "599 integers under 600");
    line(&s, &mut r, "SMEMBERS big");
    // RESTORE follows the setting too, and a DUMP of a long intset restores on Redis.
    let payload = match s.execute(&["DUMP", "big"]) {
        Reply::Bulk(b) => b,
        other => panic!("{other:?}"),
    };
    common::same(
        &s,
        &mut r,
        &[
            b"RESTORE".to_vec(),
            b"big2".to_vec(),
            b"0".to_vec(),
            payload,
        ],
    );
    same_encoding(&s, &mut r, "big2", "RESTORE under 600");
    line(&s, &mut r, "CONFIG SET set-max-intset-entries 512");
}
