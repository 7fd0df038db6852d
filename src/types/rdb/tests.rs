use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn with_footer(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn round_trip(v: &RdbValue) -> Vec<u8> {
    let p = dump_payload(v, &DumpConfig::default());
    assert_eq!(restore_payload(&p).as_ref(), Ok(v), "{v:?}");
    p
}

#[test]
fn crc64_test_vector() {
    assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
}

#[test]
fn worked_example() {
    let p = dump_payload(&RdbValue::String(b("123")), &DumpConfig::default());
    assert_eq!(p.len(), 13);
    assert_eq!(&p[..5], &[0x00, 0xC0, 0x7B, 0x0A, 0x00]);
    assert_eq!(p[5..], crc64(0, &p[..5]).to_le_bytes());
}

#[test]
fn strings_pick_redis_encodings() {
    let cases: &[(&str, &[u8])] = &[
        ("-128", &[0xC0, 0x80]),
        ("128", &[0xC1, 0x80, 0x00]),
        ("-32769", &[0xC2, 0xFF, 0x7F, 0xFF, 0xFF]),
        (
            "2147483648",
            &[
                10, b'2', b'1', b'4', b'7', b'4', b'8', b'3', b'6', b'4', b'8',
            ],
        ),
        ("007", &[3, b'0', b'0', b'7']),
        ("-0", &[2, b'-', b'0']),
    ];
    for (s, enc) in cases {
        let p = round_trip(&RdbValue::String(b(s)));
        assert_eq!(&p[1..p.len() - 10], *enc, "{s}");
    }
    let long = vec![b'a'; 1000];
    let p = round_trip(&RdbValue::String(long.clone()));
    assert_eq!(p[1], 0xC3, "compressible string is LZF-compressed");
    assert!(p.len() < 100);
    let cfg = DumpConfig {
        compression: false,
        ..DumpConfig::default()
    };
    let p = dump_payload(&RdbValue::String(long.clone()), &cfg);
    assert_eq!(&p[1..4], &[0x43, 0xE8, b'a']);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let noise: Vec<u8> = (0..300).map(|_| rng.gen()).collect();
    let p = round_trip(&RdbValue::String(noise));
    assert_eq!(&p[1..3], &[0x41, 0x2C], "incompressible string stays raw");
    round_trip(&RdbValue::String(Vec::new()));
    round_trip(&RdbValue::String(vec![7; 70_000]));
}

#[test]
fn lengths_use_every_width() {
    for (n, enc) in [
        (63u64, vec![0x3F]),
        (64, vec![0x40, 0x40]),
        (16383, vec![0x7F, 0xFF]),
        (16384, vec![0x80, 0, 0, 0x40, 0]),
        (1 << 32, vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
    ] {
        let mut out = Vec::new();
        write_len(&mut out, n);
        assert_eq!(out, enc);
        let mut r = Reader { buf: &out, pos: 0 };
        assert_eq!(r.len().ok(), Some(n));
    }
}

fn type_byte(v: &RdbValue) -> u8 {
    dump_payload(v, &DumpConfig::default())[0]
}

#[test]
fn collections_round_trip_in_each_encoding() {
    let small_list = RdbValue::List(vec![b("a"), b("12"), b("-70000"), Vec::new()]);
    let big_list = RdbValue::List(
        (0..5000)
            .map(|i| format!("item-{i}").into_bytes())
            .collect(),
    );
    let p = round_trip(&big_list);
    assert_eq!(p[0], T_LIST_QUICKLIST_2);
    assert!(p[1] > 1, "several nodes");
    round_trip(&small_list);
    let cfg = DumpConfig {
        list_packed_threshold: 3,
        ..DumpConfig::default()
    };
    let mixed = RdbValue::List(vec![b("a"), b("long"), b("b"), b("c")]);
    let p = dump_payload(&mixed, &cfg);
    assert_eq!(restore_payload(&p), Ok(mixed));
    assert_eq!(p[1], 3, "listpack, plain, listpack");

    let int_set = RdbValue::Set(vec![b("-5"), b("3"), b("100000")]);
    assert_eq!(type_byte(&int_set), T_SET_INTSET);
    round_trip(&int_set);
    let str_set = RdbValue::Set(vec![b("x"), b("3")]);
    assert_eq!(type_byte(&str_set), T_SET);
    round_trip(&str_set);
    let big_int_set = RdbValue::Set((0..513).map(|i| i.to_string().into_bytes()).collect());
    assert_eq!(type_byte(&big_int_set), T_SET);
    round_trip(&big_int_set);

    let small_hash = RdbValue::Hash(vec![(b("f"), b("v")), (b("n"), b("42"))]);
    assert_eq!(type_byte(&small_hash), T_HASH_LISTPACK);
    round_trip(&small_hash);
    let wide_hash = RdbValue::Hash(vec![(b("f"), vec![b'v'; 65])]);
    assert_eq!(type_byte(&wide_hash), T_HASH);
    round_trip(&wide_hash);
    let big_hash = RdbValue::Hash(
        (0..513)
            .map(|i| (format!("f{i}").into_bytes(), b("v")))
            .collect(),
    );
    assert_eq!(type_byte(&big_hash), T_HASH);
    round_trip(&big_hash);

    let small_zset = RdbValue::SortedSet(vec![
        (b("a"), f64::NEG_INFINITY),
        (b("b"), -1.5),
        (b("c"), 0.0),
        (b("d"), 3.0),
        (b("e"), 1e300),
        (b("f"), 0.1),
        (b("g"), 1e-300),
        (b("h"), f64::INFINITY),
    ]);
    // 0.1 < 3, so compare with the canonical order.
    let RdbValue::SortedSet(mut sorted) = small_zset.clone() else {
        unreachable!()
    };
    sorted.sort_by(cmp_scored);
    let small_zset = RdbValue::SortedSet(sorted);
    assert_eq!(type_byte(&small_zset), T_ZSET_LISTPACK);
    round_trip(&small_zset);
    let big_zset = RdbValue::SortedSet(
        (0..200)
            .map(|i| (format!("m{i:03}").into_bytes(), f64::from(i) / 7.0))
            .collect(),
    );
    assert_eq!(type_byte(&big_zset), T_ZSET_2);
    round_trip(&big_zset);
}

fn lp_blob(items: &[&str]) -> Vec<u8> {
    packed::listpack_encode(items.iter().map(|s| s.as_bytes()))
}

fn ziplist(items: &[&str]) -> Vec<u8> {
    let mut zl = vec![0u8; 10];
    let mut prev = 0usize;
    let mut tail = 10;
    for s in items {
        tail = zl.len();
        zl.push(prev as u8);
        zl.push(s.len() as u8);
        zl.extend_from_slice(s.as_bytes());
        prev = s.len() + 2;
    }
    zl.push(0xFF);
    let n = zl.len() as u32;
    zl[..4].copy_from_slice(&n.to_le_bytes());
    zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    zl[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
    zl
}

fn string_field(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_len(&mut out, s.len() as u64);
    out.extend_from_slice(s);
    out
}

fn decode(t: u8, parts: &[&[u8]]) -> std::result::Result<RdbValue, RdbError> {
    let mut body = vec![t];
    for p in parts {
        body.extend_from_slice(p);
    }
    restore_payload(&with_footer(&body))
}

#[test]
fn decodes_every_loaded_encoding_from_hand_built_bytes() {
    let list = || RdbValue::List(vec![b("a"), b("bc")]);
    assert_eq!(decode(T_LIST, &[&[2, 1, b'a', 2, b'b', b'c']]), Ok(list()));
    assert_eq!(
        decode(T_LIST_ZIPLIST, &[&string_field(&ziplist(&["a", "bc"]))]),
        Ok(list())
    );
    assert_eq!(
        decode(
            T_LIST_QUICKLIST,
            &[
                &[2],
                &string_field(&ziplist(&["a"])),
                &string_field(&ziplist(&["bc"]))
            ]
        ),
        Ok(list())
    );
    assert_eq!(
        decode(
            T_LIST_QUICKLIST_2,
            &[
                &[3, 2],
                &string_field(&lp_blob(&["a"])),
                &[1, 2, b'b', b'c'],
                &[2],
                &string_field(&lp_blob(&[]))
            ]
        ),
        Ok(list())
    );
    assert_eq!(
        decode(T_ZSET, &[&[2, 1, b'a', 3, b'1', b'.', b'5', 1, b'b', 255]]),
        Ok(RdbValue::SortedSet(vec![
            (b("b"), f64::NEG_INFINITY),
            (b("a"), 1.5)
        ]))
    );
    assert_eq!(
        decode(
            T_ZSET_ZIPLIST,
            &[&string_field(&ziplist(&["a", "2", "b", "1e1"]))]
        ),
        Ok(RdbValue::SortedSet(vec![(b("a"), 2.0), (b("b"), 10.0)]))
    );
    let hash = || RdbValue::Hash(vec![(b("f"), b("v"))]);
    assert_eq!(decode(T_HASH, &[&[1, 1, b'f', 1, b'v']]), Ok(hash()));
    assert_eq!(
        decode(T_HASH_ZIPLIST, &[&string_field(&ziplist(&["f", "v"]))]),
        Ok(hash())
    );
    assert_eq!(
        decode(T_HASH_LISTPACK, &[&string_field(&lp_blob(&["f", "v"]))]),
        Ok(hash())
    );
    assert_eq!(
        decode(
            T_HASH_ZIPMAP,
            &[&string_field(&[1, 1, b'f', 1, 0, b'v', 0xFF])]
        ),
        Ok(hash())
    );
    assert_eq!(
        decode(
            T_SET_INTSET,
            &[&string_field(&packed::intset_encode(&[1, 2]))]
        ),
        Ok(RdbValue::Set(vec![b("1"), b("2")]))
    );
    // Strings with each special encoding, LZF included.
    assert_eq!(
        decode(T_STRING, &[&[0xC0, 0xFF]]),
        Ok(RdbValue::String(b("-1")))
    );
    assert_eq!(
        decode(T_STRING, &[&[0xC1, 0x00, 0x80]]),
        Ok(RdbValue::String(b("-32768")))
    );
    assert_eq!(
        decode(T_STRING, &[&[0xC2, 0x00, 0x00, 0x00, 0x80]]),
        Ok(RdbValue::String(b("-2147483648")))
    );
    assert_eq!(
        decode(T_STRING, &[&[0xC3, 5, 30, 0x00, b'a', 0xE0, 0x14, 0x00]]),
        Ok(RdbValue::String(vec![b'a'; 30]))
    );
}

#[test]
fn refuses_what_redis_refuses() {
    assert_eq!(
        decode(T_SET, &[&[2, 1, b'a', 1, b'a']]),
        Err(RdbError::BadFormat)
    );
    assert_eq!(decode(T_SET, &[&[0]]), Err(RdbError::BadFormat));
    assert_eq!(
        decode(
            T_ZSET_LISTPACK,
            &[&string_field(&lp_blob(&["a", "2", "b", "1"]))]
        ),
        Err(RdbError::BadFormat),
        "misordered listpack"
    );
    assert_eq!(
        decode(T_ZSET, &[&[1, 1, b'a', 253]]),
        Err(RdbError::BadFormat)
    );
    assert_eq!(
        decode(T_HASH_LISTPACK, &[&string_field(&lp_blob(&["f"]))]),
        Err(RdbError::BadFormat)
    );
    assert_eq!(
        decode(T_LIST_QUICKLIST_2, &[&[1, 2], &string_field(&lp_blob(&[]))]),
        Err(RdbError::BadFormat)
    );
    assert_eq!(
        decode(T_STRING, &[&[1, b'a', 0]]),
        Err(RdbError::BadFormat),
        "trailing byte"
    );
    assert_eq!(decode(6, &[&[0]]), Err(RdbError::BadFormat));
    assert_eq!(
        decode(T_STREAM_LISTPACKS_2, &[&[0]]),
        Err(RdbError::Unsupported(19))
    );
    assert_eq!(
        decode(T_LIST, &[&[0x80, 0xFF, 0xFF, 0xFF, 0xFF]]),
        Err(RdbError::BadFormat)
    );
    assert_eq!(
        decode(T_STRING, &[&[0xC3, 1, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0]]),
        Err(RdbError::BadFormat)
    );

    let good = dump_payload(&RdbValue::String(b("x")), &DumpConfig::default());
    assert_eq!(
        restore_payload(&good[..9]),
        Err(RdbError::VersionOrChecksum)
    );
    let mut newer = good[..good.len() - 10].to_vec();
    newer.extend_from_slice(&11u16.to_le_bytes());
    let crc = crc64(0, &newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore_payload(&newer), Err(RdbError::VersionOrChecksum));
    let mut older = good.clone();
    older[good.len() - 10] = 9;
    let crc = crc64(0, &older[..good.len() - 8]);
    older[good.len() - 8..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(restore_payload(&older), Ok(RdbValue::String(b("x"))));
    let mut flipped = good.clone();
    flipped[1] ^= 1;
    assert_eq!(restore_payload(&flipped), Err(RdbError::VersionOrChecksum));
    assert_eq!(RdbError::BadFormat.to_string(), "ERR Bad data format");
    assert_eq!(
        RdbError::VersionOrChecksum.to_string(),
        "ERR DUMP payload version or checksum are wrong"
    );
}

fn module_id(name: &str, encver: u64) -> u64 {
    let mut id = 0u64;
    for c in name.bytes() {
        let v = MODULE_NAME_CHARS.iter().position(|x| *x == c).unwrap() as u64;
        id = (id << 6) | v;
    }
    (id << 10) | encver
}

#[test]
fn module_values_name_their_type() {
    let id = module_id("MBbloom--", 4);
    let v = RdbValue::Module {
        name: "MBbloom--".into(),
        encver: 4,
        id,
        data: vec![2, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 0],
    };
    let p = round_trip(&v);
    assert_eq!(&p[..2], &[T_MODULE_2, 0x81]);
    assert_eq!(module_type_name(module_id("TopK-TYPE", 0)), "TopK-TYPE");
    let mut body = vec![T_MODULE_2];
    write_len(&mut body, id);
    let fields: &[u8] = &[
        5, 2, b'h', b'i', 3, 0, 0, 0x80, 0x3F, 4, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 1, 7,
    ];
    body.extend_from_slice(fields);
    assert_eq!(
        restore_payload(&with_footer(&body)),
        Err(RdbError::BadFormat),
        "no end marker"
    );
    body.push(0);
    assert!(matches!(
        restore_payload(&with_footer(&body)),
        Ok(RdbValue::Module { .. })
    ));
    body.push(0);
    assert_eq!(
        restore_payload(&with_footer(&body)),
        Err(RdbError::BadFormat),
        "after the end"
    );
    body.truncate(body.len() - 2);
    body.extend_from_slice(&[9, 0]);
    assert_eq!(
        restore_payload(&with_footer(&body)),
        Err(RdbError::BadFormat),
        "bad opcode"
    );
}

fn samples() -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let cfg = DumpConfig::default();
    let values = vec![
        RdbValue::String(b("hello")),
        RdbValue::String(vec![b'q'; 200]),
        RdbValue::String(b("-1234")),
        RdbValue::List(
            (0..40)
                .map(|i| format!("e{}", i % 7).into_bytes())
                .collect(),
        ),
        RdbValue::Set(
            (0..20)
                .map(|i| (i * 1000).to_string().into_bytes())
                .collect(),
        ),
        RdbValue::Set(vec![b("a"), b("b"), vec![b'c'; 30]]),
        RdbValue::Hash(vec![(b("f1"), b("1")), (b("f2"), vec![b'z'; 40])]),
        RdbValue::Hash(vec![(b("f1"), vec![b'x'; 100]), (b("f2"), b("2"))]),
        RdbValue::SortedSet(vec![(b("a"), 1.0), (b("b"), 2.5)]),
        RdbValue::SortedSet(vec![(vec![b'm'; 70], 1.0), (b("b"), 2.5)]),
    ];
    let mut out: Vec<Vec<u8>> = values.iter().map(|v| dump_payload(v, &cfg)).collect();
    out.push(with_footer(&[T_LIST_QUICKLIST, 1]));
    let mut zl_list = vec![T_LIST_QUICKLIST, 1];
    zl_list.extend(string_field(&ziplist(&["ab", "cd", "ef"])));
    out.push(with_footer(&zl_list));
    let mut zm = vec![T_HASH_ZIPMAP];
    zm.extend(string_field(&[1, 1, b'f', 1, 0, b'v', 0xFF]));
    out.push(with_footer(&zm));
    let noise: Vec<u8> = (0..64).map(|_| rng.gen()).collect();
    out.push(with_footer(&noise));
    out
}

#[test]
fn truncation_and_corruption_never_panic() {
    for p in samples() {
        let body = &p[..p.len() - 10];
        for cut in 0..body.len() {
            // A shorter body with a valid footer: never a panic, and never the same value.
            let _ = restore_payload(&with_footer(&body[..cut]));
        }
        for i in 0..body.len() {
            for x in [0x01u8, 0x80, 0xFF] {
                let mut c = body.to_vec();
                c[i] ^= x;
                let _ = restore_payload(&with_footer(&c));
            }
        }
        for i in 0..p.len() {
            let mut c = p.clone();
            c[i] ^= 0x10;
            assert!(restore_payload(&c).is_err(), "CRC catches a flip at {i}");
            assert!(restore_payload(&p[..i]).is_err());
        }
    }
}

#[test]
fn truncated_values_are_refused() {
    let cfg = DumpConfig::default();
    for v in [
        RdbValue::String(b("hello")),
        RdbValue::List(vec![b("a"), b("b")]),
        RdbValue::Hash(vec![(b("f"), vec![b'v'; 100])]),
        RdbValue::SortedSet(
            (0..200)
                .map(|i| (i.to_string().into_bytes(), 1.0))
                .collect(),
        ),
    ] {
        let p = dump_payload(&v, &cfg);
        let body = &p[..p.len() - 10];
        for cut in 0..body.len() {
            assert!(
                restore_payload(&with_footer(&body[..cut])).is_err(),
                "{v:?} cut at {cut}"
            );
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for _ in 0..20_000 {
        let len = rng.gen_range(0..40);
        let mut body: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if let Some(t) = body.first_mut() {
            *t %= 20;
        }
        let _ = restore_payload(&with_footer(&body));
    }
}

#[test]
fn module_fields_round_trip_and_ids_name_their_type() {
    let fields = vec![
        ModuleField::Unsigned(5),
        ModuleField::Signed(-3),
        ModuleField::Float(1.5),
        ModuleField::Double(0.01),
        ModuleField::String(vec![0; 300]),
        ModuleField::String(b("12")),
        ModuleField::String(Vec::new()),
    ];
    let data = write_module_fields(&fields, &DumpConfig::default());
    assert_eq!(read_module_fields(&data), Ok(fields));
    let id = crate::types::rdb::module_id("MBbloom--", 4).unwrap_or_default();
    assert_eq!(module_type_name(id), "MBbloom--");
    assert_eq!(id & 1023, 4);
    assert_eq!(crate::types::rdb::module_id("MBbloom", 4), None);
    assert_eq!(crate::types::rdb::module_id("MBbloom-!", 4), None);
    assert_eq!(crate::types::rdb::module_id("MBbloom--", 1024), None);
    // Trailing bytes after the end marker, an unknown opcode, a cut field: refused.
    let mut trailing = data.clone();
    trailing.push(0);
    assert!(read_module_fields(&trailing).is_err());
    assert!(read_module_fields(&[9, 0]).is_err());
    for cut in 0..data.len() {
        assert!(read_module_fields(&data[..cut]).is_err(), "cut at {cut}");
    }
}
