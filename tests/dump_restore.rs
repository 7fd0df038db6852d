//! DUMP and RESTORE against a real redis-server 7.0: values built by commands on each side
//! move to the other through DUMP and RESTORE (every type and encoding the store has), with
//! contents and set encodings compared; RESTORE's options, TTLs and error texts compared
//! byte for byte; module payloads refused with a clear error.

mod common;

use common::{words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};

fn argv(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn bulk(r: Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(b) => b,
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// The contents of `key` as comparable text: type, then the value (sorted for unordered
/// types), plus the set encoding when it is a set.
fn contents(run: &mut dyn FnMut(&[Vec<u8>]) -> Reply, key: &str) -> Vec<String> {
    let k = key.as_bytes();
    let ty = run(&argv(&[b"TYPE", k]));
    let mut out = vec![format!("{ty:?}")];
    let items = |r: Reply| -> Vec<String> {
        match r {
            Reply::Array(v) | Reply::Set(v) => v.into_iter().map(|x| format!("{x:?}")).collect(),
            other => vec![format!("{other:?}")],
        }
    };
    match ty {
        Reply::Status(t) if t == "string" => out.push(format!("{:?}", run(&argv(&[b"GET", k])))),
        Reply::Status(t) if t == "list" => {
            out.extend(items(run(&argv(&[b"LRANGE", k, b"0", b"-1"]))))
        }
        Reply::Status(t) if t == "hash" => {
            let flat = items(run(&argv(&[b"HGETALL", k])));
            let mut pairs: Vec<String> = flat.chunks(2).map(|c| c.join("=")).collect();
            pairs.sort();
            out.extend(pairs);
        }
        Reply::Status(t) if t == "set" => {
            let mut m = items(run(&argv(&[b"SMEMBERS", k])));
            m.sort();
            out.extend(m);
        }
        _ => {}
    }
    out
}

fn redis_contents(r: &mut RespConn, key: &str) -> Vec<String> {
    let mut c = contents(&mut |a| r.cmd(a), key);
    if c[0] == "Status(\"set\")" {
        c.push(format!("{:?}", r.cmd(&["OBJECT", "ENCODING", key])));
    }
    c
}

fn store_contents(s: &Store, key: &str) -> Vec<String> {
    let mut c = contents(&mut |a| s.execute(a), key);
    if c[0] == "Status(\"set\")" {
        let e = s.set_encoding(key).map(|e| e.as_str()).unwrap_or("none");
        c.push(format!("{:?}", Reply::bulk(e)));
    }
    c
}

/// Builds the same value at `key` on both sides with `cmds`.
fn build(s: &Store, r: &mut RespConn, cmds: &[Vec<Vec<u8>>]) {
    for c in cmds {
        common::same(s, r, c);
    }
}

fn scenarios() -> Vec<(&'static str, Vec<Vec<Vec<u8>>>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut v: Vec<(&'static str, Vec<Vec<Vec<u8>>>)> = Vec::new();
    let cmd = |parts: Vec<Vec<u8>>| parts;
    for (name, value) in [
        ("int", b"123".to_vec()),
        ("negint", b"-9223372036854775808".to_vec()),
        ("notint", b"0123".to_vec()),
        ("empty", Vec::new()),
        ("embstr", b"hello world".to_vec()),
        (
            "long",
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".repeat(20),
        ),
        ("binary", (0..300).map(|_| rng.gen::<u8>()).collect()),
    ] {
        v.push((
            name,
            vec![cmd(vec![b"SET".to_vec(), name.as_bytes().to_vec(), value])],
        ));
    }
    let mut pf = vec![b"PFADD".to_vec(), b"hll".to_vec()];
    pf.extend((0..50).map(|i| format!("e{i}").into_bytes()));
    v.push(("hll", vec![pf]));
    let mut pf = vec![b"PFADD".to_vec(), b"hlldense".to_vec()];
    pf.extend((0..5000).map(|i| format!("e{i}").into_bytes()));
    v.push(("hlldense", vec![pf]));
    let list = |key: &str, n: usize, len: usize, rng: &mut ChaCha8Rng| {
        let mut c = vec![b"RPUSH".to_vec(), key.as_bytes().to_vec()];
        c.extend((0..n).map(|i| {
            if i % 3 == 0 {
                rng.gen_range(-100_000..100_000i64).to_string().into_bytes()
            } else {
                (0..len).map(|_| rng.gen_range(b'a'..=b'z')).collect()
            }
        }));
        c
    };
    v.push(("list", vec![list("list", 10, 5, &mut rng)]));
    v.push(("biglist", vec![list("biglist", 3000, 20, &mut rng)]));
    v.push(("hugeitems", vec![list("hugeitems", 20, 9000, &mut rng)]));
    let hash = |key: &str, n: usize, len: usize| {
        let mut c = vec![b"HSET".to_vec(), key.as_bytes().to_vec()];
        for i in 0..n {
            c.push(format!("f{i}").into_bytes());
            c.push(format!("{i}-{}", "v".repeat(len)).into_bytes());
        }
        c
    };
    v.push(("hash", vec![hash("hash", 5, 3)]));
    v.push(("bighash", vec![hash("bighash", 600, 3)]));
    v.push(("longvalhash", vec![hash("longvalhash", 5, 100)]));
    let set = |key: &str, members: Vec<String>| {
        let mut c = vec![b"SADD".to_vec(), key.as_bytes().to_vec()];
        c.extend(members.into_iter().map(String::into_bytes));
        c
    };
    v.push((
        "intset",
        vec![set(
            "intset",
            (0..100).map(|i| (i * 7 - 300).to_string()).collect(),
        )],
    ));
    v.push((
        "bigints",
        vec![set("bigints", (0..600).map(|i| i.to_string()).collect())],
    ));
    v.push((
        "textset",
        vec![set("textset", (0..50).map(|i| format!("m{i}")).collect())],
    ));
    v.push((
        "wideints",
        vec![set(
            "wideints",
            vec![i64::MIN.to_string(), "0".into(), i64::MAX.to_string()],
        )],
    ));
    v
}

#[test]
fn redis_payloads_restore_here_and_ours_restore_there() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    for (key, cmds) in scenarios() {
        build(&s, &mut r, &cmds);
        let want = redis_contents(&mut r, key);
        assert_eq!(store_contents(&s, key), want, "{key} built on both");
        let k = key.as_bytes();

        // Redis -> here.
        let theirs = bulk(r.cmd(&argv(&[b"DUMP", k])));
        let copy = format!("{key}:from-redis");
        assert_eq!(
            s.execute(&argv(&[b"RESTORE", copy.as_bytes(), b"0", &theirs])),
            Reply::ok(),
            "{key}: RESTORE of Redis's payload"
        );
        let mut got = store_contents(&s, &copy);
        got.truncate(want.len());
        assert_eq!(got, want, "{key}: restored here from Redis's DUMP");

        // Here -> Redis.
        let ours = bulk(s.execute(&argv(&[b"DUMP", k])));
        assert_eq!(
            r.cmd(&argv(&[b"RESTORE", copy.as_bytes(), b"0", &ours])),
            Reply::ok(),
            "{key}: RESTORE of our payload on Redis"
        );
        assert_eq!(
            redis_contents(&mut r, &copy),
            want,
            "{key}: restored on Redis from our DUMP"
        );

        // Our payload restores here too, and a strict decoder agrees with Redis's.
        let back = format!("{key}:back");
        assert_eq!(
            s.execute(&argv(&[b"RESTORE", back.as_bytes(), b"0", &ours])),
            Reply::ok()
        );
        assert_eq!(store_contents(&s, &back), want, "{key}: our own round trip");
    }
}

#[test]
fn restore_options_ttls_and_errors_match_redis() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    build(
        &s,
        &mut r,
        &[
            words("SET src hello"),
            words("SET str x"),
            words("SADD set 1 2"),
        ],
    );
    let payload = bulk(r.cmd(&["DUMP", "src"]));
    assert_eq!(
        bulk(s.execute(&["DUMP", "src"])),
        payload,
        "a short string's payload is Redis's"
    );
    let set_payload = bulk(r.cmd(&["DUMP", "set"]));
    assert_eq!(
        bulk(s.execute(&["DUMP", "set"])),
        set_payload,
        "an intset's payload is Redis's"
    );
    let mut bad_crc = payload.clone();
    if let Some(last) = bad_crc.last_mut() {
        *last ^= 1;
    }
    let mut newer = payload.clone();
    let n = newer.len();
    newer[n - 10] = 11;
    // A body Redis cannot parse, with a valid footer: an unknown type byte.
    let mut body = vec![200u8, 1, b'x'];
    body.extend_from_slice(&10u16.to_le_bytes());
    let crc = sketchstore::types::rdb::crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    let p = payload.as_slice();
    let cases: Vec<Vec<&[u8]>> = vec![
        vec![b"DUMP", b"nokey"],
        vec![b"RESTORE", b"k", b"0", b"xx"],
        vec![b"RESTORE", b"k", b"-1", p],
        vec![b"RESTORE", b"k", b"x", p],
        vec![b"RESTORE", b"str", b"0", p],
        vec![b"RESTORE", b"str", b"x", p],
        vec![b"RESTORE", b"str", b"-1", b"xx"],
        vec![b"RESTORE", b"k", b"0", p, b"FOO"],
        vec![b"RESTORE", b"k", b"0", p, b"IDLETIME", b"-1"],
        vec![b"RESTORE", b"k", b"0", p, b"IDLETIME", b"x"],
        vec![b"RESTORE", b"k", b"0", p, b"IDLETIME"],
        vec![b"RESTORE", b"k", b"0", p, b"FREQ", b"300"],
        vec![b"RESTORE", b"k", b"0", p, b"FREQ", b"1", b"IDLETIME", b"1"],
        vec![b"RESTORE", b"k", b"0", p, b"IDLETIME", b"1", b"FREQ", b"1"],
        vec![b"RESTORE", b"k", b"0", &bad_crc],
        vec![b"RESTORE", b"k", b"0", &newer],
        vec![b"RESTORE", b"k", b"0", &payload[..5]],
        vec![b"RESTORE", b"k", b"0", b""],
        vec![b"RESTORE", b"k", b"0", &body],
        vec![b"RESTORE", b"k", b"0", p, b"IDLETIME", b"10"],
        vec![b"GET", b"k"],
        vec![b"RESTORE", b"k", b"0", p],
        vec![b"RESTORE", b"k", b"0", p, b"REPLACE", b"FREQ", b"5"],
        vec![b"RESTORE", b"str", b"0", p, b"replace"],
        vec![b"GET", b"str"],
        vec![b"RESTORE", b"t", b"100000", p],
        vec![b"RESTORE", b"str", b"1", p, b"REPLACE", b"ABSTTL"],
        vec![b"EXISTS", b"str"],
        vec![b"RESTORE", b"gone", b"1000", p, b"ABSTTL"],
        vec![b"EXISTS", b"gone"],
        vec![b"RESTORE", b"t", b"100000", &set_payload, b"REPLACE"],
        vec![b"TYPE", b"t"],
        vec![b"SMEMBERS", b"t"],
        vec![b"RESTORE", b"k"],
        vec![b"DUMP"],
    ];
    for c in cases {
        let c: Vec<Vec<u8>> = c.into_iter().map(<[u8]>::to_vec).collect();
        common::same(&s, &mut r, &c);
    }
    let ttl = |x: Reply| match x {
        Reply::Integer(n) => n,
        other => panic!("{other:?}"),
    };
    let (ours, theirs) = (ttl(s.execute(&["PTTL", "t"])), ttl(r.cmd(&["PTTL", "t"])));
    assert!(ours > 90_000 && theirs > 90_000, "{ours} {theirs}");
    assert_eq!(ttl(s.execute(&["PTTL", "k"])), -1);
}

#[test]
fn strings_restore_under_the_store_limit() {
    let s = Store::builder().max_string_bytes(10).build();
    let other = Store::new();
    other.set("k", "x".repeat(11)).unwrap();
    let payload = other.dump("k").unwrap().unwrap();
    assert_eq!(
        s.execute(&[&b"RESTORE"[..], b"k", b"0", &payload]),
        Reply::Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)".into())
    );
    assert_eq!(s.execute(&["EXISTS", "k"]), Reply::Integer(0));
}

/// Every `BF.SCANDUMP` chunk of `key`, header first.
fn scandump(run: &mut dyn FnMut(&[Vec<u8>]) -> Reply, key: &str) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut iter = b"0".to_vec();
    for _ in 0..10_000 {
        let Reply::Array(page) = run(&argv(&[b"BF.SCANDUMP", key.as_bytes(), &iter])) else {
            panic!("BF.SCANDUMP reply");
        };
        let [Reply::Integer(next), chunk] = &page[..] else {
            panic!("BF.SCANDUMP page");
        };
        if *next == 0 {
            return out;
        }
        out.push(chunk.clone());
        iter = next.to_string().into_bytes();
    }
    panic!("BF.SCANDUMP did not finish");
}

#[test]
fn bloom_filters_move_both_ways_with_redisbloom() {
    let module = common::cluster::redisbloom_module();
    let server = RedisServer::start_with(&["--loadmodule", &module]);
    let mut r = server.conn();
    let s = Store::new();
    for (key, reserve, n) in [
        ("bf", "BF.RESERVE bf 0.01 100", 350),
        ("small", "BF.RESERVE small 0.001 10 EXPANSION 3", 5),
        ("fixed", "BF.RESERVE fixed 0.05 50 NONSCALING", 40),
        ("empty", "BF.RESERVE empty 0.01 1000", 0),
    ] {
        common::same(&s, &mut r, &words(reserve));
        for i in 0..n {
            common::same(&s, &mut r, &words(&format!("BF.ADD {key} item{i}")));
        }
        let want = scandump(&mut |a| r.cmd(a), key);
        assert_eq!(
            scandump(&mut |a| s.execute(a), key),
            want,
            "{key} built on both"
        );
        let theirs = bulk(r.cmd(&["DUMP", key]));
        let ours = bulk(s.execute(&["DUMP", key]));
        let copy = format!("{key}:copy");
        assert_eq!(
            s.execute(&argv(&[b"RESTORE", copy.as_bytes(), b"0", &theirs])),
            Reply::ok(),
            "{key}: RESTORE of RedisBloom's payload"
        );
        assert_eq!(
            scandump(&mut |a| s.execute(a), &copy),
            want,
            "{key} restored here"
        );
        common::same(&s, &mut r, &words(&format!("TYPE {key}")));
        assert_eq!(
            r.cmd(&argv(&[b"RESTORE", copy.as_bytes(), b"0", &ours])),
            Reply::ok(),
            "{key}: RESTORE of our payload on RedisBloom"
        );
        assert_eq!(
            scandump(&mut |a| r.cmd(a), &copy),
            want,
            "{key} restored there"
        );
        common::same(&s, &mut r, &words(&format!("BF.INFO {copy}")));
        common::same(&s, &mut r, &words(&format!("BF.EXISTS {copy} item1")));
        common::same(&s, &mut r, &words(&format!("BF.ADD {copy} more")));
    }
    // Another module's value: refused, naming its type.
    r.cmd(&["CF.ADD", "cf", "a"]);
    let payload = bulk(r.cmd(&["DUMP", "cf"]));
    assert_eq!(
        s.execute(&[&b"RESTORE"[..], b"cf", b"0", &payload]),
        Reply::Error(
            "ERR DUMP payload holds a value of module type MBbloomCF, which this store does not load"
                .into()
        )
    );
    // A Bloom payload whose fields do not fit together is bad data, whatever its checksum.
    let good = bulk(r.cmd(&["DUMP", "small"]));
    let body_end = good.len() - 10;
    let mut broken = good[..body_end].to_vec();
    // The filter count (the second field) raised from 1 to 2.
    let at = broken
        .windows(2)
        .position(|w| w == [2, 1])
        .expect("the link count field");
    broken[at + 1] = 2;
    broken.extend_from_slice(&10u16.to_le_bytes());
    let crc = sketchstore::types::rdb::crc64(0, &broken);
    broken.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        s.execute(&[&b"RESTORE"[..], b"x", b"0", &broken]),
        Reply::Error("ERR Bad data format".into())
    );
    // A sorted set from Redis: refused until sorted sets are values of the store.
    r.cmd(&["ZADD", "z", "1", "a"]);
    let z = bulk(r.cmd(&["DUMP", "z"]));
    let got = s.execute(&[&b"RESTORE"[..], b"z", b"0", &z]);
    assert!(matches!(got, Reply::Error(_) | Reply::Status(_)), "{got:?}");
}

/// One ziplist entry (`prev` is the previous entry's size): a string with a 6-bit length,
/// or an integer in the narrowest encoding Redis's ziplist would choose.
fn ziplist_entry(out: &mut Vec<u8>, prev: usize, item: &[u8]) -> usize {
    let start = out.len();
    out.push(prev as u8);
    let int = std::str::from_utf8(item)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|n| n.to_string().as_bytes() == item);
    match int {
        Some(n @ 0..=12) => out.push(0xF1 + n as u8),
        Some(n) if i8::try_from(n).is_ok() => {
            out.push(0xFE);
            out.extend_from_slice(&(n as i8).to_le_bytes());
        }
        Some(n) if i16::try_from(n).is_ok() => {
            out.push(0xC0);
            out.extend_from_slice(&(n as i16).to_le_bytes());
        }
        Some(n) if (-(1 << 23)..(1 << 23)).contains(&n) => {
            out.push(0xF0);
            out.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
        }
        Some(n) if i32::try_from(n).is_ok() => {
            out.push(0xD0);
            out.extend_from_slice(&(n as i32).to_le_bytes());
        }
        Some(n) => {
            out.push(0xE0);
            out.extend_from_slice(&n.to_le_bytes());
        }
        None => {
            assert!(
                item.len() < 64,
                "the test's ziplist writer has 6-bit lengths only"
            );
            out.push(item.len() as u8);
            out.extend_from_slice(item);
        }
    }
    out.len() - start
}

/// A DUMP payload of an old ziplist-encoded hash (RDB type 13, RDB version 9).
fn ziplist_hash_payload(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut zl = vec![0u8; 10];
    let (mut prev, mut tail) = (0, 10);
    for item in pairs.iter().flat_map(|(f, v)| [f, v]) {
        tail = zl.len();
        prev = ziplist_entry(&mut zl, prev, item.as_bytes());
    }
    zl.push(0xFF);
    let total = zl.len() as u32;
    zl[..4].copy_from_slice(&total.to_le_bytes());
    zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    zl[8..10].copy_from_slice(&((pairs.len() * 2) as u16).to_le_bytes());
    assert!(zl.len() < 1 << 14);
    let mut payload = vec![13u8, 0x40 | (zl.len() >> 8) as u8, zl.len() as u8];
    payload.extend_from_slice(&zl);
    payload.extend_from_slice(&9u16.to_le_bytes());
    let crc = sketchstore::types::rdb::crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// A hash keeps Redis's field order where Redis keeps a listpack: RESTOREd from an old
/// ziplist payload with integer-encoded entries (the payload's order), and built by HSET
/// under raised listpack limits with values far past the default 64 bytes (insertion
/// order), then DUMPed and RESTOREd under those limits. Under low limits the restored hash
/// holds the same pairs.
#[test]
fn hash_field_order_follows_ziplists_and_the_configured_listpack_limits() {
    let server = RedisServer::start();
    let mut r = server.conn();
    let s = Store::new();
    macro_rules! same {
        ($argv:expr) => {
            common::same(&s, &mut r, $argv)
        };
    }
    let pairs = [
        ("ZIP_INT_8B", "127"),
        ("ZIP_INT_16B", "32767"),
        ("ZIP_INT_24B", "8388607"),
        ("ZIP_INT_32B", "2147483647"),
        ("ZIP_INT_64B", "9223372036854775807"),
        ("ZIP_NOT_INT", "9223372036854775808"),
        ("ZIP_INT_IMM_MIN", "0"),
        ("ZIP_INT_IMM_MAX", "12"),
        ("-5", "-129"),
        ("ZIP_STR", "hello"),
    ];
    let payload = ziplist_hash_payload(&pairs);
    same!(&argv(&[b"RESTORE", b"zl", b"0", &payload]));
    let want: Vec<Reply> = pairs
        .iter()
        .flat_map(|(f, v)| {
            [
                Reply::Bulk(f.as_bytes().to_vec()),
                Reply::Bulk(v.as_bytes().to_vec()),
            ]
        })
        .collect();
    assert_eq!(same!(&words("HGETALL zl")), Reply::Array(want));
    same!(&words("OBJECT ENCODING zl"));

    same!(&words("CONFIG SET hash-max-ziplist-entries 1000000000"));
    same!(&words("CONFIG SET hash-max-ziplist-value 1000000000"));
    let long = |n: usize| vec![b'x'; n];
    let fields: [(&[u8], Vec<u8>); 6] = [
        (b"ZIP_INT_32B", b"2147483647".to_vec()),
        (b"long_100", long(100)),
        (b"ZIP_INT_8B", b"127".to_vec()),
        (b"long_300", long(300)),
        (b"short_31", long(31)),
        (b"ZIP_INT_IMM_MAX", b"12".to_vec()),
    ];
    for (f, v) in &fields {
        same!(&argv(&[b"HSET", b"k", f, v]));
    }
    let order = same!(&words("HGETALL k"));
    let Reply::Array(items) = &order else {
        panic!("HGETALL: {order:?}");
    };
    assert_eq!(items.first(), Some(&Reply::Bulk(b"ZIP_INT_32B".to_vec())));
    same!(&words("OBJECT ENCODING k"));
    let dump = bulk(r.cmd(&words("DUMP k")));
    same!(&argv(&[b"RESTORE", b"kk", b"0", &dump]));
    assert_eq!(same!(&words("HGETALL kk")), order);

    same!(&words("CONFIG SET hash-max-ziplist-entries 2"));
    same!(&argv(&[b"RESTORE", b"small", b"0", &dump]));
    assert_eq!(
        common::sorted(s.execute(&words("HGETALL small"))),
        common::sorted(order)
    );
    same!(&words("OBJECT ENCODING small"));
    same!(&argv(&[b"RESTORE", b"zl2", b"0", &payload]));
    same!(&words("OBJECT ENCODING zl2"));
}
