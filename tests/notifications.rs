//! Keyspace notifications against a real redis-server 7.0 (with RedisBloom loaded): a
//! subscriber on each side pattern-subscribes to `__key*__:*`, the same seeded stream of
//! commands runs on both, and the two sequences of messages must be identical. Also the
//! CONFIG GET/SET texts of `notify-keyspace-events`.

mod common;

use common::{words, RedisServer, RespConn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::{Reply, Store};
use std::time::Duration;

/// The end marker: published on a channel both subscribers also listen to.
const SENTINEL: &str = "notify-test-end";
/// Each command is published on this channel after it runs, so that a difference is
/// reported with the command that caused it.
const STEP: &str = "notify-test-step";

fn start() -> (RedisServer, Store) {
    let module = common::cluster::redisbloom_module();
    (
        RedisServer::start_with(&["--loadmodule", &module]),
        Store::new(),
    )
}

/// Reads Redis's pushes up to the sentinel, as (kind, channel, payload) lines.
fn drain_redis(sub: &mut RespConn) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let Reply::Array(items) = sub.read() else {
            panic!("a push that is not an array");
        };
        let text: Vec<String> = items
            .iter()
            .map(|r| match r {
                Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => format!("{other:?}"),
            })
            .collect();
        if text.first().map(String::as_str) == Some("message") {
            if text[1] == SENTINEL {
                return out;
            }
            out.push(format!("> {}", text[2]));
            continue;
        }
        out.push(text[2..].join(" "));
    }
}

fn drain_ours(sub: &sketchstore::Subscription) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let m = sub
            .receive(Duration::from_secs(5))
            .expect("subscription open")
            .expect("a message before the sentinel");
        let channel = String::from_utf8_lossy(m.channel()).into_owned();
        if channel == SENTINEL {
            return out;
        }
        if channel == STEP {
            out.push(format!("> {}", String::from_utf8_lossy(m.payload())));
            continue;
        }
        out.push(format!(
            "{} {}",
            channel,
            String::from_utf8_lossy(m.payload())
        ));
    }
}

/// Runs `lines` on both sides (replies must agree too), then compares the messages.
fn check(server: &RedisServer, store: &Store, classes: &str, lines: &[String]) {
    let mut redis = server.conn();
    let mut sub = server.conn();
    sub.send(&words("PSUBSCRIBE __key*__:*"));
    sub.read();
    sub.send(&words(&format!("SUBSCRIBE {SENTINEL} {STEP}")));
    sub.read();
    sub.read();
    let mut ours = store.subscriber().expect("subscriber");
    ours.psubscribe(&["__key*__:*"]).expect("psubscribe");
    ours.subscribe(&[SENTINEL, STEP]).expect("subscribe");
    for line in [
        format!("CONFIG SET notify-keyspace-events {classes}"),
        "FLUSHALL".to_owned(),
    ]
    .iter()
    .chain(lines)
    {
        if let Some(ms) = line.strip_prefix("SLEEP ") {
            std::thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
            continue;
        }
        let argv = words(line);
        let theirs = redis.cmd(&argv);
        let mine = store.execute(&argv);
        assert_eq!(mine, theirs, "command: {line}");
        let step = vec![
            b"PUBLISH".to_vec(),
            STEP.as_bytes().to_vec(),
            line.clone().into_bytes(),
        ];
        redis.cmd(&step);
        store.execute(&step);
    }
    let end = words(&format!("PUBLISH {SENTINEL} end"));
    redis.cmd(&end);
    store.execute(&end);
    let theirs = drain_redis(&mut sub);
    let mine = drain_ours(&ours);
    for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
        assert_eq!(
            a,
            b,
            "message {i} differs (classes {classes}); ours {:?}\ntheirs {:?}",
            &mine[i.saturating_sub(6)..mine.len().min(i + 3)],
            &theirs[i.saturating_sub(6)..theirs.len().min(i + 3)]
        );
    }
    assert_eq!(
        mine.len(),
        theirs.len(),
        "message counts (classes {classes})"
    );
    assert!(!theirs.is_empty() || lines.is_empty() || classes.is_empty());
}

/// Hand-written scenarios per family, each event Redis emits at least once.
const SCENARIOS: &[&str] = &[
    "SET s 1",
    "SET s 2 EX 100",
    "SET s 3 KEEPTTL GET",
    "SETNX s 4",
    "SETNX s2 4",
    "SETEX s3 100 v",
    "PSETEX s3 100000 v",
    "GETSET s 5",
    "MSET m1 a m2 b",
    "MSETNX m1 a m3 c",
    "MSETNX m4 a m5 c",
    "APPEND s xyz",
    "APPEND newa xyz",
    "SETRANGE s 1 QQ",
    "SETRANGE newr 2 ab",
    "SETRANGE newe 0 ''",
    "INCR i",
    "INCRBY i 5",
    "DECR i",
    "DECRBY i 2",
    "INCRBYFLOAT f 1.5",
    "INCRBYFLOAT f 1.5",
    "GETEX s PX 100000",
    "GETEX s PERSIST",
    "GETEX s PERSIST",
    "GETDEL s",
    "GETDEL s",
    "GETEX m1 PXAT 1",
    "EXPIRE m2 100",
    "PEXPIRE m2 200000 GT",
    "PEXPIRE m2 5000 LT",
    "PERSIST m3",
    "EXPIRE m3 100",
    "PERSIST m3",
    "EXPIREAT m3 1",
    "DEL m1 m2 m3 m4 m5 nokey",
    "SET r 1",
    "RENAME r r2",
    "SET r3 x",
    "RENAME r2 r3",
    "RENAMENX r3 r3",
    "RENAME r3 r3",
    "SET r4 y",
    "RENAMENX r3 r4",
    "RENAMENX r3 r5",
    "COPY r5 r6",
    "COPY r5 r6",
    "COPY r5 r6 REPLACE",
    "UNLINK r5 r6",
    "LPUSH l a b c",
    "RPUSH l d",
    "LPUSHX l e",
    "RPUSHX nol e",
    "LINSERT l BEFORE a z",
    "LINSERT l BEFORE nothere z",
    "LSET l 0 q",
    "LREM l 1 z",
    "LREM l 1 nothere",
    "LTRIM l 0 3",
    "LPOP l",
    "RPOP l 2",
    "LMOVE l l2 LEFT RIGHT",
    "RPOPLPUSH l2 l",
    "LMOVE l l LEFT RIGHT",
    "LMPOP 2 nol l RIGHT COUNT 10",
    "RPUSH l a",
    "LTRIM l 1 0",
    "RPUSH l a b",
    "LMOVE l l RIGHT LEFT",
    "BLPOP l 0",
    "BRPOP l 0",
    "RPUSH l a",
    "BLMOVE l l9 LEFT LEFT 0",
    "BLMPOP 0 1 l9 LEFT",
    "HSET h a 1 b 2",
    "HSET h a 1",
    "HSETNX h a 3",
    "HSETNX h c 3",
    "HINCRBY h a 5",
    "HINCRBYFLOAT h a 1.5",
    "HDEL h nothere",
    "HDEL h a b",
    "HDEL h c",
    "HMSET h2 x 1",
    "SADD st a b c",
    "SADD st a",
    "SREM st nothere",
    "SREM st a",
    "SMOVE st st2 b",
    "SMOVE st st2 nothere",
    "SMOVE st st2 c",
    "SADD st3 1 2 3",
    "SINTERSTORE dst st2 st3",
    "SUNIONSTORE dst st2 st3",
    "SDIFFSTORE dst st3 st3",
    "SDIFFSTORE dst st3 st3",
    "SADD one x",
    "SPOP one",
    "SADD two x",
    "SPOP two 5",
    "SPOP two 0",
    "ZADD z 1 a 2 b 3 c 4 d 5 e",
    "ZADD z 1 a",
    "ZADD z XX 7 nothere",
    "ZADD z INCR 1 a",
    "ZINCRBY z 1 b",
    "ZREM z nothere",
    "ZREM z a",
    "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYSCORE z 4 4",
    "ZREMRANGEBYLEX z [nothere [nothere",
    "ZADD z2 0 a 0 b 0 c",
    "ZREMRANGEBYLEX z2 [a [a",
    "ZPOPMIN z",
    "ZPOPMAX z 1",
    "ZADD z 1 a 2 b",
    "ZRANGESTORE zr z 0 -1",
    "ZRANGESTORE zr z 5 6",
    "ZUNIONSTORE zu 2 z z2",
    "ZINTERSTORE zu 2 z z2",
    "ZDIFFSTORE zd 1 z",
    "ZMPOP 1 z MIN COUNT 10",
    "BZPOPMIN z2 0",
    "BZPOPMAX z2 0",
    "ZADD z2 5 q",
    "BZMPOP 0 1 z2 MAX",
    "PFADD p a b c",
    "PFADD p a",
    "PFADD p2",
    "PFMERGE p3 p p2",
    "PFMERGE p p2",
    "SETBIT b 7 1",
    "SETBIT b 7 1",
    "SETBIT b 7 0",
    "SETBIT b 100 0",
    "BITFIELD bf SET u8 0 255 GET u8 0",
    "BITFIELD bf GET u8 0",
    "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 10",
    "BITFIELD bf2 OVERFLOW FAIL INCRBY u8 0 300",
    "BITOP OR bo b bf",
    "BITOP AND bo nokey1 nokey2",
    "BITOP AND bo nokey1 nokey2",
    "RPUSH srt 3 1 2",
    "SORT srt STORE srtd",
    "SORT srt STORE srtd",
    "SORT nokey STORE srtd",
    "SORT nokey STORE srtd",
    "SET d1 v",
    "BF.ADD bl a",
    "BF.ADD bl b",
    "BF.RESERVE bl2 0.01 100",
    "BF.MADD bl3 a b",
    "CF.ADD cf a",
    "CF.DEL cf a",
    "CMS.INITBYDIM cms 10 5",
    "CMS.INCRBY cms a 1",
    "TOPK.RESERVE tk 3",
    "TOPK.ADD tk a",
    "TDIGEST.CREATE td",
    "TDIGEST.ADD td 1",
    "DEL bl cf cms tk td",
    // Read lookups of missing keys (`keymiss`), and lookups that announce none.
    "SET rk v",
    "GET nokey",
    "MGET rk nokey nokey2",
    "EXISTS nokey rk",
    "TYPE nokey",
    "TTL nokey",
    "PTTL nokey",
    "EXPIRETIME nokey",
    "OBJECT ENCODING nokey",
    "MEMORY USAGE nokey",
    "DUMP nokey",
    "TOUCH nokey rk",
    "STRLEN nokey",
    "GETRANGE nokey 0 1",
    "GETBIT nokey 3",
    "BITCOUNT nokey",
    "BITPOS nokey 1",
    "BITFIELD_RO nokey GET u8 0",
    "BITFIELD nokey GET u8 0",
    "LCS nokey rk",
    "LRANGE nokey 0 -1",
    "LLEN nokey",
    "LINDEX nokey 0",
    "LPOS nokey a",
    "HGET nokey f",
    "HMGET nokey f g",
    "HGETALL nokey",
    "HLEN nokey",
    "HEXISTS nokey f",
    "HSCAN nokey 0",
    "HRANDFIELD nokey",
    "SMEMBERS nokey",
    "SISMEMBER nokey a",
    "SCARD nokey",
    "SINTER nokey rk2",
    "SUNION nokey nokey2",
    "SDIFF nokey nokey2",
    "SINTERCARD 2 nokey nokey2",
    "SRANDMEMBER nokey",
    "ZSCORE nokey a",
    "ZRANGE nokey 0 -1",
    "ZCARD nokey",
    "ZRANK nokey a",
    "ZUNION 2 nokey nokey2",
    "ZINTERCARD 1 nokey",
    "ZRANDMEMBER nokey",
    "PFCOUNT nokey",
    "PFCOUNT nokey nokey2",
    "SORT_RO nokey",
    "SORT nokey",
    "GET rk",
    "SET rk w GET",
    "SET nokey w GET",
    "GETSET nokey2 x",
    "GETEX nokey3",
    "GETDEL nokey3",
    "COPY nokey3 rk",
    "SUNIONSTORE dst nokey3 nokey4",
    "ZUNIONSTORE dst 2 nokey3 nokey4",
    "ZRANGESTORE dst nokey3 0 -1",
    "BITOP OR dst nokey3 nokey4",
    "PFMERGE nokey5 nokey3",
    "SORT nokey3 STORE dst",
    "LPUSH nokey6 a",
    "INCR nokey7",
    "HSET nokey8 f v",
    "LMOVE nokey9 dst LEFT LEFT",
    "ZINTERSTORE dst 2 nokey3 nokey4 WEIGHTS 1",
    "GET rk extra",
    "FLUSHALL",
];

#[test]
fn each_family_publishes_what_redis_publishes() {
    let (server, store) = start();
    let lines: Vec<String> = SCENARIOS.iter().map(|s| (*s).to_owned()).collect();
    for classes in [
        "KEA", "KEAn", "Kl", "E$g", "Kx", "En", "A", "Kg", "KEAm", "Km", "Em",
    ] {
        check(&server, &store, classes, &lines);
    }
}

#[test]
fn expiry_publishes_expired_on_lazy_and_active_removal() {
    let (server, store) = start();
    let lines: Vec<String> = [
        "SET e1 v PX 30",
        "SLEEP 150",
        "GET e1",
        "LPUSH e2 a",
        "PEXPIRE e2 30",
        "SLEEP 150",
        "LPUSH e2 b",
        "SET e3 v PX 30",
        "SLEEP 150",
        "SET e3 w",
        "HSET e4 f v",
        "PEXPIRE e4 30",
        "SLEEP 150",
        "EXISTS e4",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    check(&server, &store, "KEA", &lines);
    check(&server, &store, "KEAn", &lines);
}

/// A seeded stream over a few keys of every family; replies and messages must agree.
#[test]
fn a_seeded_stream_publishes_the_same_messages() {
    let (server, store) = start();
    let mut rng = ChaCha8Rng::seed_from_u64(0x6e6f_7469_6679);
    let keys = ["a", "b", "c"];
    let mut lines = Vec::new();
    for _ in 0..1500 {
        let k = keys[rng.gen_range(0..keys.len())];
        let k2 = keys[rng.gen_range(0..keys.len())];
        let v = rng.gen_range(0..4);
        let line = match rng.gen_range(0..45) {
            0 => format!("SET {k} {v}"),
            1 => format!("INCRBY {k} {v}"),
            2 => format!("APPEND {k} x{v}"),
            3 => format!("SETRANGE {k} {v} yy"),
            4 => format!("DEL {k} {k2}"),
            5 => format!("EXPIRE {k} 1000"),
            6 => format!("PERSIST {k}"),
            7 => format!("RENAME {k} {k2}"),
            8 => format!("COPY {k} {k2} REPLACE"),
            9 => format!("LPUSH {k} {v}"),
            10 => format!("RPUSH {k} {v} {v}"),
            11 => format!("LPOP {k}"),
            12 => format!("RPOP {k} 2"),
            13 => format!("LREM {k} 0 {v}"),
            14 => format!("LTRIM {k} 1 -1"),
            15 => format!("LMOVE {k} {k2} LEFT RIGHT"),
            16 => format!("LSET {k} 0 {v}"),
            17 => format!("HSET {k} f{v} {v}"),
            18 => format!("HDEL {k} f{v}"),
            19 => format!("HINCRBY {k} f{v} 1"),
            20 => format!("SADD {k} {v}"),
            21 => format!("SREM {k} {v}"),
            22 => format!("SMOVE {k} {k2} {v}"),
            23 => format!("SINTERSTORE {k} {k} {k2}"),
            24 => format!("SUNIONSTORE {k} {k} {k2}"),
            25 => format!("ZADD {k} {v} m{v}"),
            26 => format!("ZREM {k} m{v}"),
            27 => format!("ZINCRBY {k} 1 m{v}"),
            28 => format!("ZPOPMIN {k}"),
            29 => format!("ZUNIONSTORE {k} 2 {k} {k2}"),
            30 => format!("ZREMRANGEBYSCORE {k} 0 {v}"),
            31 => format!("PFADD {k} {v}"),
            32 => format!("SETBIT {k} {v} 1"),
            33 => format!("BITFIELD {k} INCRBY u4 0 {v}"),
            34 => format!("SORT {k} STORE {k2}"),
            35 => format!("GETDEL {k}"),
            36 => format!("HINCRBYFLOAT {k} f{v} 0.5"),
            37 => format!("SETNX {k} {v}"),
            38 => format!("ZRANGESTORE {k2} {k} 0 {v}"),
            39 => format!("BITOP OR {k} {k} {k2}"),
            40 => format!("GET {k}"),
            41 => format!("MGET {k} {k2}"),
            42 => format!("SMEMBERS {k}"),
            43 => format!("TYPE {k}"),
            _ => format!("LRANGE {k} 0 -1"),
        };
        lines.push(line);
        if rng.gen_range(0..60) == 0 {
            // A short TTL read back after it passed: the same `expired` on both sides
            // whether a lazy or an active expiry removed the key.
            lines.push(format!("PEXPIRE {k} 20"));
            lines.push("SLEEP 120".to_owned());
            lines.push(format!("EXISTS {k}"));
        }
    }
    check(&server, &store, "KEAn", &lines);
    check(&server, &store, "KEAnm", &lines);
}

#[test]
fn config_get_and_set_print_classes_as_redis_does() {
    let (server, store) = start();
    let mut redis = server.conn();
    for v in [
        "KEA",
        "AKEn",
        "gKE",
        "K",
        "E",
        "",
        "Ex",
        "mK",
        "g$lshzxetdn",
        "KEw",
        "A A",
    ] {
        let set = vec![
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            b"notify-keyspace-events".to_vec(),
            v.as_bytes().to_vec(),
        ];
        assert_eq!(store.execute(&set), redis.cmd(&set), "set {v:?}");
        let get = words("CONFIG GET notify-keyspace-events");
        assert_eq!(store.execute(&get), redis.cmd(&get), "get after {v:?}");
    }
}

/// INFO's `rdb_changes_since_last_save` of a reply.
fn changes_of(info: &Reply) -> i64 {
    let text = match info {
        Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("INFO replied {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rdb_changes_since_last_save in {text}"))
}

/// The change count (Redis's `server.dirty`) grows by what each command adds in Redis.
#[test]
fn each_command_counts_the_changes_redis_counts() {
    let (server, store) = start();
    let mut redis = server.conn();
    let info = words("INFO persistence");
    let flush = words("FLUSHALL");
    redis.cmd(&flush);
    store.execute(&flush);
    let (mut base_theirs, mut base_mine) = (
        changes_of(&redis.cmd(&info)),
        changes_of(&store.execute(&info)),
    );
    for line in SCENARIOS {
        let argv = words(line);
        assert_eq!(store.execute(&argv), redis.cmd(&argv), "command: {line}");
        let theirs = changes_of(&redis.cmd(&info)) - base_theirs;
        let mine = changes_of(&store.execute(&info)) - base_mine;
        // RedisBloom's commands count through the module API's replication calls, which
        // are not modelled: their changes are not compared.
        if line.split(' ').next().is_some_and(|c| c.contains('.')) {
            (base_theirs, base_mine) = (base_theirs + theirs, base_mine + mine);
            continue;
        }
        assert_eq!(mine, theirs, "changes after: {line}");
    }
}
