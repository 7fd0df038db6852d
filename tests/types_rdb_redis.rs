//! `types::rdb` against a real redis-server 7.0: payloads Redis DUMPs decode here to the
//! contents Redis reads back, and payloads encoded here RESTORE there to the same contents
//! and the same `OBJECT ENCODING` as a key Redis built from those contents itself.

mod common;

use common::cluster::redisbloom_module;
use common::{RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::types::rdb::{dump_payload, restore_payload, DumpConfig, RdbError, RdbValue};
use sketchstore::Reply;

fn bulk(r: Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b,
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn bulks(r: Reply) -> Vec<Vec<u8>> {
    match r {
        Reply::Array(items) => items.into_iter().map(bulk).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn status(r: Reply) -> String {
    match r {
        Reply::Status(s) => s,
        Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("expected a status, got {other:?}"),
    }
}

fn cmd(c: &mut RespConn, argv: &[&[u8]]) -> Reply {
    c.cmd(argv)
}

/// The contents of `key` read back with the ordinary read commands, in the model's form
/// (sets and hashes sorted, since their order is the server's hash table's).
fn read_back(c: &mut RespConn, key: &[u8]) -> RdbValue {
    let t = status(cmd(c, &[b"TYPE", key]));
    match t.as_str() {
        "string" => RdbValue::String(bulk(cmd(c, &[b"GET", key]))),
        "list" => RdbValue::List(bulks(cmd(c, &[b"LRANGE", key, b"0", b"-1"]))),
        "set" => {
            let mut m = bulks(cmd(c, &[b"SMEMBERS", key]));
            m.sort();
            RdbValue::Set(m)
        }
        "zset" => {
            let flat = bulks(cmd(c, &[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]));
            RdbValue::SortedSet(
                flat.chunks(2)
                    .map(|p| {
                        let s = std::str::from_utf8(&p[1]).unwrap();
                        let d = match s {
                            "inf" => f64::INFINITY,
                            "-inf" => f64::NEG_INFINITY,
                            _ => s.parse().unwrap(),
                        };
                        (p[0].clone(), d)
                    })
                    .collect(),
            )
        }
        "hash" => {
            let flat = bulks(cmd(c, &[b"HGETALL", key]));
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = flat
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect();
            pairs.sort();
            RdbValue::Hash(pairs)
        }
        other => panic!("unexpected type {other}"),
    }
}

fn normalized(v: &RdbValue) -> RdbValue {
    match v {
        RdbValue::Set(m) => {
            let mut m = m.clone();
            m.sort();
            RdbValue::Set(m)
        }
        RdbValue::Hash(p) => {
            let mut p = p.clone();
            p.sort();
            RdbValue::Hash(p)
        }
        other => other.clone(),
    }
}

struct Counts {
    cases: usize,
    lzf_payloads: usize,
}

/// Whether the payload's first string (the value itself, or the blob of a listpack,
/// intset or first quicklist node) is LZF-compressed.
fn first_string_is_lzf(p: &[u8]) -> bool {
    match p.first() {
        Some(0 | 11 | 16 | 17) => p.get(1) == Some(&0xC3),
        // type, node count (one byte below 64 nodes), container
        Some(18) => p.get(3) == Some(&0xC3),
        _ => false,
    }
}

/// Builds `key` with `setup`, then checks both directions.
fn check(c: &mut RespConn, name: &str, setup: &[Vec<Vec<u8>>], counts: &mut Counts) {
    let key: &[u8] = b"k";
    let copy: &[u8] = b"k2";
    cmd(c, &[b"DEL", key, copy]);
    for argv in setup {
        let mut full: Vec<&[u8]> = vec![argv[0].as_slice(), key];
        full.extend(argv[1..].iter().map(Vec::as_slice));
        let r = c.cmd(&full);
        assert!(!r.is_error(), "{name}: {r:?}");
    }
    let theirs = bulk(cmd(c, &[b"DUMP", key]));
    if first_string_is_lzf(&theirs) {
        counts.lzf_payloads += 1;
    }
    let decoded = restore_payload(&theirs).unwrap_or_else(|e| panic!("{name}: {e}"));
    let contents = read_back(c, key);
    assert_eq!(normalized(&decoded), contents, "{name}: decoded DUMP");
    let encoding = status(cmd(c, &[b"OBJECT", b"ENCODING", key]));

    let ours = dump_payload(&decoded, &DumpConfig::default());
    assert_eq!(ours[0], theirs[0], "{name}: RDB type byte");
    let r = cmd(c, &[b"RESTORE", copy, b"0", &ours]);
    assert_eq!(r, Reply::ok(), "{name}: RESTORE");
    assert_eq!(read_back(c, copy), contents, "{name}: restored contents");
    assert_eq!(
        status(cmd(c, &[b"OBJECT", b"ENCODING", copy])),
        encoding,
        "{name}: OBJECT ENCODING"
    );
    if let RdbValue::String(s) = &decoded {
        if s.len() <= 20 {
            assert_eq!(
                ours, theirs,
                "{name}: short strings are written byte for byte"
            );
        }
    }
    counts.cases += 1;
}

fn argv(words: &[&[u8]]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.to_vec()).collect()
}

fn word(rng: &mut ChaCha8Rng, max: usize) -> Vec<u8> {
    let len = rng.gen_range(1..=max);
    match rng.gen_range(0..4) {
        0 => rng.gen_range(-100_000i64..100_000).to_string().into_bytes(),
        1 => rng.gen::<i64>().to_string().into_bytes(),
        _ => (0..len).map(|_| rng.gen_range(b'a'..=b'f')).collect(),
    }
}

fn multi(cmd_name: &[u8], items: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut v = vec![cmd_name.to_vec()];
    v.extend(items);
    v
}

#[test]
fn dumps_decode_and_restore_with_the_same_encoding() {
    // Deep sanitization: the server walks every nested listpack and intset of the payloads
    // encoded here, and refuses duplicates, before it accepts them.
    let server = RedisServer::start_with(&["--sanitize-dump-payload", "yes"]);
    let mut c = server.conn();
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0016);
    let mut counts = Counts {
        cases: 0,
        lzf_payloads: 0,
    };

    // Strings: int encodings, embstr, raw, compressible and not, an HLL sparse and dense.
    let alnum: Vec<u8> = (0..1000).map(|_| rng.gen_range(b'!'..=b'~')).collect();
    let strings: Vec<(&str, Vec<u8>)> = vec![
        ("int8", b"123".to_vec()),
        ("negative", b"-5".to_vec()),
        ("int32", b"70000".to_vec()),
        ("beyond int32", b"2147483648".to_vec()),
        ("long integer", b"9223372036854775807".to_vec()),
        ("leading zero", b"007".to_vec()),
        ("short", b"abc".to_vec()),
        ("empty", Vec::new()),
        ("run of 30", vec![b'a'; 30]),
        ("random 1000", alnum),
        ("run of 100k", vec![b'x'; 100_000]),
    ];
    for (name, s) in &strings {
        check(&mut c, name, &[argv(&[b"SET", s])], &mut counts);
    }
    let sparse: Vec<Vec<u8>> = (0..100).map(|i| format!("u{i}").into_bytes()).collect();
    check(
        &mut c,
        "hll sparse",
        &[multi(b"PFADD", sparse)],
        &mut counts,
    );
    let dense: Vec<Vec<u8>> = (0..5000).map(|i| format!("u{i}").into_bytes()).collect();
    check(&mut c, "hll dense", &[multi(b"PFADD", dense)], &mut counts);

    // Lists: one node, many nodes, a large element.
    let small: Vec<Vec<u8>> = (0..10).map(|_| word(&mut rng, 10)).collect();
    check(&mut c, "list small", &[multi(b"RPUSH", small)], &mut counts);
    let large: Vec<Vec<u8>> = (0..3000).map(|_| word(&mut rng, 40)).collect();
    check(&mut c, "list large", &[multi(b"RPUSH", large)], &mut counts);
    let with_big = vec![b"a".to_vec(), vec![b'z'; 10_000], b"-3".to_vec()];
    check(
        &mut c,
        "list big element",
        &[multi(b"RPUSH", with_big)],
        &mut counts,
    );

    // Sets: intset (16, 32, 64-bit), past 512 members, strings.
    for (name, range) in [
        ("intset16", 1000i64),
        ("intset32", 1_000_000),
        ("intset64", i64::MAX / 2),
    ] {
        let m: Vec<Vec<u8>> = (0..50)
            .map(|_| rng.gen_range(-range..range).to_string().into_bytes())
            .collect();
        check(&mut c, name, &[multi(b"SADD", m)], &mut counts);
    }
    let many: Vec<Vec<u8>> = (0..600).map(|i| (i * 3).to_string().into_bytes()).collect();
    check(
        &mut c,
        "set of 600 integers",
        &[multi(b"SADD", many)],
        &mut counts,
    );
    let strs: Vec<Vec<u8>> = (0..40).map(|_| word(&mut rng, 30)).collect();
    check(&mut c, "set of words", &[multi(b"SADD", strs)], &mut counts);

    // Hashes: listpack, a long value, many fields.
    let pairs = |rng: &mut ChaCha8Rng, n: usize, max: usize| -> Vec<Vec<u8>> {
        (0..n)
            .flat_map(|i| [format!("field:{i}").into_bytes(), word(rng, max)])
            .collect()
    };
    let small = pairs(&mut rng, 20, 20);
    check(&mut c, "hash small", &[multi(b"HSET", small)], &mut counts);
    let mut wide = pairs(&mut rng, 5, 20);
    wide.extend([b"long".to_vec(), vec![b'v'; 100]]);
    check(
        &mut c,
        "hash long value",
        &[multi(b"HSET", wide)],
        &mut counts,
    );
    let mid = pairs(&mut rng, 200, 30);
    check(
        &mut c,
        "hash of 200 fields",
        &[multi(b"HSET", mid)],
        &mut counts,
    );
    let big = pairs(&mut rng, 600, 30);
    check(&mut c, "hash large", &[multi(b"HSET", big)], &mut counts);

    // Sorted sets: listpack, a long member, many members, infinite and fractional scores.
    let scored = |rng: &mut ChaCha8Rng, n: usize, member_len: usize| -> Vec<Vec<u8>> {
        (0..n)
            .flat_map(|i| {
                let score = match rng.gen_range(0..3) {
                    0 => rng.gen_range(-1000i64..1000).to_string(),
                    1 => format!("{}", rng.gen_range(-1e6..1e6f64)),
                    _ => format!("{:e}", rng.gen::<f64>() * 1e-5),
                };
                let mut m = format!("m{i}:").into_bytes();
                m.resize(member_len.max(m.len()), b'.');
                [score.into_bytes(), m]
            })
            .collect()
    };
    let small = scored(&mut rng, 50, 5);
    check(&mut c, "zset small", &[multi(b"ZADD", small)], &mut counts);
    let mut edge = scored(&mut rng, 5, 5);
    edge.extend(argv(&[b"inf", b"top", b"-inf", b"bottom", b"0", b"zero"]));
    check(
        &mut c,
        "zset infinities",
        &[multi(b"ZADD", edge)],
        &mut counts,
    );
    let long = scored(&mut rng, 10, 80);
    check(
        &mut c,
        "zset long member",
        &[multi(b"ZADD", long)],
        &mut counts,
    );
    let big = scored(&mut rng, 300, 8);
    check(&mut c, "zset large", &[multi(b"ZADD", big)], &mut counts);

    assert_eq!(counts.cases, 29);
    assert!(
        counts.lzf_payloads >= 5,
        "{} payloads used LZF",
        counts.lzf_payloads
    );
}

#[test]
fn errors_match_redis() {
    let server = RedisServer::start();
    let mut c = server.conn();
    c.cmd(&["SET", "k", "hello"]);
    let good = bulk(c.cmd(&["DUMP", "k"]));

    let mut flipped = good.clone();
    flipped[2] ^= 1;
    let ours = restore_payload(&flipped).unwrap_err();
    assert_eq!(ours, RdbError::VersionOrChecksum);
    let theirs = c.cmd(&[&b"RESTORE"[..], b"x", b"0", &flipped]);
    assert_eq!(theirs, Reply::Error(ours.to_string()));

    // A valid footer over a type byte no version of Redis writes.
    let mut body = vec![20u8, 1, b'a'];
    body.extend_from_slice(&10u16.to_le_bytes());
    let crc = sketchstore::types::rdb::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    let ours = restore_payload(&body).unwrap_err();
    assert_eq!(ours, RdbError::BadFormat);
    let theirs = c.cmd(&[&b"RESTORE"[..], b"x", b"0", &body]);
    assert_eq!(theirs, Reply::Error(ours.to_string()));

    // A version from the future.
    let mut newer = good[..good.len() - 10].to_vec();
    newer.extend_from_slice(&11u16.to_le_bytes());
    let crc = sketchstore::types::rdb::crc64(0, &newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    let ours = restore_payload(&newer).unwrap_err();
    let theirs = c.cmd(&[&b"RESTORE"[..], b"x", b"0", &newer]);
    assert_eq!(theirs, Reply::Error(ours.to_string()));
}

#[test]
fn a_redisbloom_filter_decodes_as_a_module_value() {
    let module = redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["BF.ADD", "f", "hello"]), Reply::Integer(1));
    let theirs = bulk(c.cmd(&["DUMP", "f"]));
    let v = restore_payload(&theirs).expect("module payload");
    let RdbValue::Module { name, encver, .. } = &v else {
        panic!("expected a module value, got {v:?}");
    };
    assert_eq!(name, "MBbloom--");
    assert!(*encver > 0);
    let ours = dump_payload(&v, &DumpConfig::default());
    assert_eq!(ours, theirs, "a module value is written back byte for byte");
    assert_eq!(c.cmd(&[&b"RESTORE"[..], b"g", b"0", &ours]), Reply::ok());
    assert_eq!(c.cmd(&["BF.EXISTS", "g", "hello"]), Reply::Integer(1));
}

fn len_prefixed(s: &[u8]) -> Vec<u8> {
    assert!(s.len() < 64);
    let mut out = vec![s.len() as u8];
    out.extend_from_slice(s);
    out
}

/// A ziplist of short strings and small integers (inline 4-bit, int8, int16), the way Redis
/// 6 wrote them.
fn ziplist(items: &[&str]) -> Vec<u8> {
    let mut zl = vec![0u8; 10];
    let mut prev = 0usize;
    let mut tail = 10;
    for s in items {
        tail = zl.len();
        let start = zl.len();
        zl.push(prev as u8);
        match s.parse::<i64>() {
            Ok(v @ 0..=12) => zl.push(0xF1 + v as u8),
            Ok(v @ -128..=127) => zl.extend_from_slice(&[0xFE, v as i8 as u8]),
            Ok(v @ -32768..=32767) => {
                zl.push(0xC0);
                zl.extend_from_slice(&(v as i16).to_le_bytes());
            }
            _ => zl.extend(len_prefixed(s.as_bytes())),
        }
        prev = zl.len() - start;
    }
    zl.push(0xFF);
    let n = zl.len() as u32;
    zl[..4].copy_from_slice(&n.to_le_bytes());
    zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    zl[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
    zl
}

fn payload(t: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut body = vec![t];
    for p in parts {
        body.extend_from_slice(p);
    }
    body.extend_from_slice(&10u16.to_le_bytes());
    let crc = sketchstore::types::rdb::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Encodings only older servers write: a 7.0 server loads them, and reads back what they
/// decode to here.
#[test]
fn legacy_encodings_load_the_same_there_and_here() {
    let server = RedisServer::start_with(&["--sanitize-dump-payload", "yes"]);
    let mut c = server.conn();
    let zl_list = ziplist(&["a", "7", "-100", "300", "hello"]);
    let zl_hash = ziplist(&["f", "1", "g", "value"]);
    let zl_zset = ziplist(&["a", "1", "b", "2.5", "c", "300"]);
    let zipmap: &[u8] = &[2, 1, b'f', 1, 0, b'v', 1, b'g', 2, 1, b'x', b'y', 0, 0xFF];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "list (type 1)",
            payload(
                1,
                &[&[3], &len_prefixed(b"a"), &[0xC0, 5], &len_prefixed(b"bc")],
            ),
        ),
        (
            "zset with text scores (type 3)",
            payload(
                3,
                &[
                    &[3],
                    &len_prefixed(b"a"),
                    &[3, b'1', b'.', b'5'],
                    &len_prefixed(b"b"),
                    &[254],
                    &len_prefixed(b"c"),
                    &[255],
                ],
            ),
        ),
        ("zipmap hash (type 9)", payload(9, &[&len_prefixed(zipmap)])),
        (
            "ziplist list (type 10)",
            payload(10, &[&len_prefixed(&zl_list)]),
        ),
        (
            "ziplist zset (type 12)",
            payload(12, &[&len_prefixed(&zl_zset)]),
        ),
        (
            "ziplist hash (type 13)",
            payload(13, &[&len_prefixed(&zl_hash)]),
        ),
        (
            "quicklist of ziplists (type 14)",
            payload(
                14,
                &[
                    &[2],
                    &len_prefixed(&zl_list),
                    &len_prefixed(&ziplist(&["z"])),
                ],
            ),
        ),
    ];
    for (name, p) in cases {
        let ours = restore_payload(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = c.cmd(&[&b"RESTORE"[..], name.as_bytes(), b"0", &p]);
        assert_eq!(r, Reply::ok(), "{name}: RESTORE there");
        assert_eq!(
            read_back(&mut c, name.as_bytes()),
            normalized(&ours),
            "{name}"
        );
    }
}

/// Mutated payloads (bit flips with the footer made valid again): whatever decodes here
/// must also load on the server, with the same contents. (This codec may refuse more than
/// Redis does, never less.)
#[test]
fn mutations_accepted_here_are_accepted_there() {
    let server = RedisServer::start_with(&["--sanitize-dump-payload", "yes"]);
    let mut c = server.conn();
    let mut rng = ChaCha8Rng::seed_from_u64(0xF1_1B);
    let cfg = DumpConfig::default();
    let values = [
        RdbValue::String(b"hello world".to_vec()),
        RdbValue::List(vec![
            b"a".to_vec(),
            b"17".to_vec(),
            b"-300".to_vec(),
            b"xyz".to_vec(),
        ]),
        RdbValue::Set(vec![b"1".to_vec(), b"5".to_vec(), b"900".to_vec()]),
        RdbValue::Set(vec![b"a".to_vec(), b"b".to_vec()]),
        RdbValue::Hash(vec![
            (b"f".to_vec(), b"v".to_vec()),
            (b"g".to_vec(), b"12".to_vec()),
        ]),
        RdbValue::SortedSet(vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.0)]),
        RdbValue::SortedSet(vec![(vec![b'm'; 70], 1.5), (b"b".to_vec(), 2.0)]),
    ];
    let mut accepted = 0;
    for round in 0..2000 {
        let p = dump_payload(&values[round % values.len()], &cfg);
        let mut body = p[..p.len() - 10].to_vec();
        let at = rng.gen_range(0..body.len());
        body[at] ^= 1 << rng.gen_range(0..8);
        let mutated = payload(body[0], &[&body[1..]]);
        // A module value is opaque here and refused there when no module claims its id.
        if let Ok(v) = restore_payload(&mutated)
            .map_err(drop)
            .and_then(|v| match v {
                RdbValue::Module { .. } => Err(()),
                v => Ok(v),
            })
        {
            let key = format!("m{round}");
            let r = c.cmd(&[&b"RESTORE"[..], key.as_bytes(), b"0", &mutated]);
            assert_eq!(r, Reply::ok(), "round {round}: accepted here, {v:?}");
            assert_eq!(
                read_back(&mut c, key.as_bytes()),
                normalized(&v),
                "round {round}"
            );
            accepted += 1;
        }
    }
    assert!(accepted > 100, "{accepted} mutations decoded");
}
