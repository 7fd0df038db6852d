//! Parity for lists, blocking pops, pub/sub and MULTI/EXEC/WATCH: the same scenarios against
//! the embedded store and a real redis-server 7.0 started by the test; every reply must be
//! identical, errors included. Scenarios with several clients use one connection per client
//! on the Redis side and one handle (or thread) per client on ours.

mod common;

use common::{sorted, words, RedisServer, RespConn};
use sketchstore::{Connection, Reply, Store};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A client of ours: a transaction handle is a connection's state.
fn ours(tx: &mut Connection, line: &str) -> Reply {
    tx.execute(&words(line))
}

fn check_lines(tx: &mut Connection, redis: &mut RespConn, lines: &[&str]) {
    for line in lines {
        let argv = words(line);
        let theirs = redis.cmd(&argv);
        let mine = tx.execute(&argv);
        assert_eq!(mine, theirs, "command: {line}");
    }
}

fn setup() -> (RedisServer, Store) {
    let server = RedisServer::start();
    (server, Store::new())
}

/// messaging.md §1-2 single-client vectors, plus the list commands the digest does not
/// tabulate.
const LIST_CORPUS: &[&str] = &[
    "FLUSHALL",
    "LPUSH l a b c",
    "RPUSH l d e",
    "LRANGE l 0 -1",
    "LRANGE l -2 -1",
    "LRANGE l -100 100",
    "LRANGE l 3 1",
    "LRANGE l 5 10",
    "LRANGE l a 1",
    "LRANGE l 0 b",
    "LRANGE nokey a 1",
    "LRANGE nokey 0 -1",
    "LPOP l",
    "LPOP l 0",
    "LPOP l 2",
    "RPOP l 1",
    "LPOP l 5",
    "LPOP l",
    "LPOP l 2",
    "LPOP l 0",
    "RPOP l",
    "RPOP l 3",
    "LPOP nokey -1",
    "LPOP nokey abc",
    "RPOP nokey -5",
    "LPOP l 1 2",
    "LPOP",
    "LPUSH l",
    "RPUSH l",
    "RPUSH l2 a b c d",
    "RPOP l2 2",
    "RPOP l2 9223372036854775807",
    "EXISTS l2",
    "RPUSH full 1",
    "BLPOP empty full 0",
    "BLPOP empty 0.1",
    "BRPOP empty 0.05",
    "BLPOP empty -1",
    "BLPOP empty -0.5",
    "BLPOP empty abc",
    "BLPOP empty inf",
    "BLPOP empty 1e400",
    "BLPOP empty 1e16",
    "BLPOP empty 9223372036854775807",
    "BLPOP empty nan",
    "BLPOP empty ''",
    "BLPOP empty 5s",
    "BLPOP empty 1e99999",
    "BLPOP empty",
    "BLPOP",
    "SET s x",
    "BLPOP empty s 0",
    "BLPOP s 0",
    "BLPOP s -1",
    "RPUSH full2 a b",
    "BLPOP full2 s 0",
    "BRPOP full2 s 0",
    "EXISTS full2",
    "RPUSH k1 v1",
    "BLPOP k1 k1 0",
    "LPUSHX nolist a",
    "RPUSHX nolist a",
    "EXISTS nolist",
    "RPUSH x a b c",
    "LPUSHX x z",
    "RPUSHX x y y2",
    "LPUSHX s a",
    "RPUSHX x",
    "LRANGE x 0 -1",
    "LLEN x",
    "LLEN nokey",
    "LLEN s",
    "LINDEX x 0",
    "LINDEX x -1",
    "LINDEX x -100",
    "LINDEX x 100",
    "LINDEX x abc",
    "LINDEX nokey abc",
    "LINDEX s abc",
    "LSET x 0 Q",
    "LSET x -1 R",
    "LSET x 100 Q",
    "LSET x abc Q",
    "LSET nokey 0 Q",
    "LSET nokey abc Q",
    "LSET s 0 Q",
    "LSET s abc Q",
    "LRANGE x 0 -1",
    "RPUSH r a b a c a d a",
    "LREM r 2 a",
    "LRANGE r 0 -1",
    "LREM r -1 a",
    "LRANGE r 0 -1",
    "LREM r 0 a",
    "LRANGE r 0 -1",
    "LREM r 0 zz",
    "LREM r abc a",
    "LREM nokey abc a",
    "LREM nokey 1 a",
    "LREM s 1 a",
    "LREM r 0 b",
    "LREM r 0 c",
    "LREM r 0 d",
    "EXISTS r",
    "RPUSH t 1 2 3 4 5 6",
    "LTRIM t 1 -2",
    "LRANGE t 0 -1",
    "LTRIM t -100 100",
    "LTRIM t a 1",
    "LTRIM t 5 10",
    "EXISTS t",
    "LTRIM nokey 0 1",
    "LTRIM s 0 1",
    "RPUSH src a b c",
    "LMOVE src dst LEFT RIGHT",
    "LMOVE src dst right left",
    "LRANGE src 0 -1",
    "LRANGE dst 0 -1",
    "LMOVE src dst up RIGHT",
    "LMOVE src dst LEFT down",
    "LMOVE nokey s LEFT LEFT",
    "LMOVE src s LEFT LEFT",
    "LMOVE s dst LEFT LEFT",
    "LMOVE src src LEFT RIGHT",
    "LRANGE src 0 -1",
    "LMOVE src dst LEFT LEFT",
    "EXISTS src",
    "RPOPLPUSH dst dst",
    "LRANGE dst 0 -1",
    "RPOPLPUSH nokey dst",
    "RPOPLPUSH dst s",
    "RPUSH bsrc 1 2",
    "BLMOVE bsrc bdst LEFT RIGHT 0",
    "BLMOVE bsrc bdst LEFT RIGHT -1",
    "BLMOVE bsrc bdst foo RIGHT -1",
    "BLMOVE bsrc bdst LEFT RIGHT abc",
    "BLMOVE s bdst LEFT RIGHT 0",
    "BLMOVE bsrc s LEFT RIGHT 0",
    "BLMOVE nokey bdst LEFT RIGHT 0.05",
    "BRPOPLPUSH bsrc bdst 0",
    "BRPOPLPUSH nokey bdst 0.05",
    "BRPOPLPUSH nokey bdst -1",
    "LRANGE bdst 0 -1",
    "TYPE bdst",
    "LPUSH s a",
    "RPOP s",
    "LRANGE s 0 1",
];

#[test]
fn list_commands_match_redis() {
    let (server, store) = setup();
    let mut redis = server.conn();
    let mut tx = store.connection();
    check_lines(&mut tx, &mut redis, LIST_CORPUS);
}

/// keyspace.md §7 and messaging.md §2.1 single-client transaction vectors, and more errors.
const TXN_CORPUS: &[&str] = &[
    "FLUSHALL",
    "RPUSH full 1",
    "MULTI",
    "BLPOP empty 0",
    "BRPOP empty 5",
    "RPUSH full 1 2",
    "BLPOP empty full 0",
    "EXEC",
    "MULTI",
    "BLPOP none -1",
    "EXEC",
    "MULTI",
    "BLMOVE none dst LEFT RIGHT 0",
    "BLMOVE full dst LEFT RIGHT 0",
    "BRPOPLPUSH none dst 1",
    "EXEC",
    "MULTI",
    "RPUSH q v",
    "LPOP q",
    "EXEC",
    "MULTI",
    "SET a 1",
    "GET",
    "EXEC",
    "GET a",
    "MULTI",
    "SET a 1",
    "SET a 2 EX 0",
    "INCR a",
    "LPUSH a x",
    "SET a 3",
    "EXEC",
    "MULTI",
    "MULTI",
    "EXEC",
    "EXEC",
    "DISCARD",
    "MULTI",
    "WATCH a",
    "EXEC",
    "MULTI",
    "SET d 1",
    "DISCARD",
    "GET d",
    "MULTI",
    "EXEC x",
    "EXEC",
    "EXEC x",
    "MULTI x",
    "DISCARD x",
    "WATCH",
    "UNWATCH",
    "UNWATCH x",
    "WATCH a b",
    "MULTI",
    "WATCH",
    "EXEC",
    "MULTI",
    "UNWATCH",
    "PING",
    "EXEC",
    "MULTI",
    "FOO bar",
    "SET k v",
    "EXEC",
    "GET k",
    "MULTI",
    "PUBSUB FOO",
    "EXEC",
    "MULTI",
    "PUBSUB NUMPAT x",
    "EXEC",
    "MULTI",
    "PUBSUB CHANNELS a b",
    "PUBSUB NUMPAT",
    "PUBLISH ch m",
    "EXEC",
    "MULTI",
    "MULTI x",
    "EXEC",
    "MULTI",
    "DISCARD x",
    "EXEC",
    "MULTI",
    "EXEC",
    "MULTI",
    "INCR n",
    "INCR n",
    "LPUSH n x",
    "GET n",
    "EXEC",
];

#[test]
fn transactions_match_redis() {
    let (server, store) = setup();
    let mut redis = server.conn();
    let mut tx = store.connection();
    check_lines(&mut tx, &mut redis, TXN_CORPUS);
}

/// One step of a multi-client script: which client and what it sends.
fn two_clients(store: &Store, server: &RedisServer, script: &[(usize, &str)]) {
    let mut mine = [store.connection(), store.connection()];
    let mut theirs = [server.conn(), server.conn()];
    for (c, line) in script {
        if let Some(ms) = line.strip_prefix("SLEEP ") {
            thread::sleep(Duration::from_millis(ms.parse().unwrap()));
            continue;
        }
        let argv = words(line);
        let t = theirs[*c].cmd(&argv);
        let m = mine[*c].execute(&argv);
        assert_eq!(m, t, "client {c}: {line}");
    }
}

#[test]
fn watch_matches_redis() {
    let (server, store) = setup();
    let (a, b) = (0, 1);
    two_clients(
        &store,
        &server,
        &[
            (a, "FLUSHALL"),
            // keyspace.md §7 vectors.
            (a, "SET w 1"),
            (a, "WATCH w"),
            (b, "SET w 2"),
            (a, "MULTI"),
            (a, "SET w 3"),
            (a, "EXEC"),
            (a, "GET w"),
            (a, "WATCH w"),
            (a, "MULTI"),
            (a, "INCR w"),
            (a, "EXEC"),
            // This client's own write before MULTI counts.
            (a, "WATCH w"),
            (a, "SET w 5"),
            (a, "MULTI"),
            (a, "INCR w"),
            (a, "EXEC"),
            // The same value written again counts.
            (a, "WATCH w"),
            (b, "SET w 5"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            // SETBIT writing the bit the string already has does not; changing it does.
            (a, "SET bits a"),
            (a, "WATCH bits"),
            (b, "SETBIT bits 1 1"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH bits"),
            (b, "SETBIT bits 0 0"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH bits"),
            (b, "SETBIT bits 0 1"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            // Growing the string counts, even with a zero bit.
            (a, "WATCH bits"),
            (b, "SETBIT bits 100 0"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "GET bits"),
            // DEL of a missing key does not; creating it does.
            (a, "WATCH nx"),
            (b, "DEL nx"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH nx"),
            (b, "SET nx 1"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            // Writes to other keys do not.
            (a, "WATCH w"),
            (b, "SET other 1"),
            (b, "RPUSH otherlist 1"),
            (a, "MULTI"),
            (a, "GET w"),
            (a, "EXEC"),
            // In-place list changes do.
            (b, "RPUSH wl a b"),
            (a, "WATCH wl"),
            (b, "LSET wl 0 z"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH wl"),
            (b, "LREM wl 0 nothere"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH wl"),
            (b, "RPOP wl"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            // FLUSHALL of an existing key counts, of a missing one does not.
            (a, "SET fk v"),
            (a, "WATCH fk"),
            (b, "FLUSHALL"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH missing"),
            (b, "FLUSHALL"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            // UNWATCH and DISCARD clear the watches.
            (a, "WATCH u"),
            (a, "UNWATCH"),
            (b, "SET u 1"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "WATCH u"),
            (a, "MULTI"),
            (a, "DISCARD"),
            (b, "SET u 2"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            // Queue errors win over a changed watched key.
            (a, "WATCH u"),
            (b, "SET u 3"),
            (a, "MULTI"),
            (a, "GET"),
            (a, "EXEC"),
            // A watched key expiring makes EXEC fail; one already expired at WATCH does not.
            (a, "SET e v PX 60"),
            (a, "WATCH e"),
            (a, "SLEEP 150"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
            (a, "SET e2 v PX 30"),
            (a, "SLEEP 100"),
            (a, "WATCH e2"),
            (a, "MULTI"),
            (a, "PING"),
            (a, "EXEC"),
        ],
    );
}

/// Sends `argv` as client `c` of Redis and, on our side, runs it on a thread (it may block).
fn spawn_ours(store: &Store, line: &str) -> JoinHandle<Reply> {
    let store = store.clone();
    let argv = words(line);
    thread::spawn(move || store.execute(&argv))
}

fn redis_blocked(c: &mut RespConn) -> usize {
    let Reply::Bulk(info) = c.cmd(&["INFO", "clients"]) else {
        panic!("INFO reply");
    };
    let info = String::from_utf8(info).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if f() {
            return;
        }
        thread::sleep(Duration::from_millis(1));
    }
    panic!("condition not reached");
}

/// Client `name` blocks with `line` on both sides; returns our join handle. Waits until both
/// sides count `blocked` blocked clients.
fn block(
    store: &Store,
    conn: &mut RespConn,
    control: &mut RespConn,
    line: &str,
    blocked: usize,
) -> JoinHandle<Reply> {
    conn.send(&words(line));
    let h = spawn_ours(store, line);
    wait_until(|| store.blocked_clients() == blocked);
    wait_until(|| redis_blocked(control) == blocked);
    h
}

fn same(tx: &mut Connection, c: &mut RespConn, line: &str) -> Reply {
    let t = c.cmd(&words(line));
    let m = ours(tx, line);
    assert_eq!(m, t, "{line}");
    m
}

#[test]
fn blocked_clients_are_served_like_redis() {
    let (server, store) = setup();
    let (mut ra, mut rb, mut rc) = (server.conn(), server.conn(), server.conn());
    let mut c = store.connection();
    same(&mut c, &mut rc, "FLUSHALL");

    // messaging.md: A then B block on q; each push serves the earliest.
    let a = block(&store, &mut ra, &mut rc, "BLPOP q 0", 1);
    let b = block(&store, &mut rb, &mut rc, "BLPOP q 0", 2);
    same(&mut c, &mut rc, "RPUSH q one");
    assert_eq!(a.join().unwrap(), ra.read());
    wait_until(|| store.blocked_clients() == 1);
    assert_eq!(redis_blocked(&mut rc), 1);
    same(&mut c, &mut rc, "RPUSH q two");
    assert_eq!(b.join().unwrap(), rb.read());

    // Pushes inside MULTI serve only after EXEC.
    let a = block(&store, &mut ra, &mut rc, "BLPOP q 0", 1);
    same(&mut c, &mut rc, "MULTI");
    same(&mut c, &mut rc, "RPUSH q m1");
    assert_eq!(store.blocked_clients(), 1);
    same(&mut c, &mut rc, "RPUSH q m2");
    same(&mut c, &mut rc, "EXEC");
    assert_eq!(a.join().unwrap(), ra.read());
    same(&mut c, &mut rc, "LRANGE q 0 -1");
    same(&mut c, &mut rc, "DEL q");

    // One push of several elements serves several waiters, each from its own end.
    let a = block(&store, &mut ra, &mut rc, "BLPOP q 0", 1);
    let b = block(&store, &mut rb, &mut rc, "BRPOP q 0", 2);
    same(&mut c, &mut rc, "RPUSH q x y z");
    assert_eq!(a.join().unwrap(), ra.read());
    assert_eq!(b.join().unwrap(), rb.read());
    same(&mut c, &mut rc, "LRANGE q 0 -1");

    // A push then a pop in one EXEC leaves nothing for the waiter.
    same(&mut c, &mut rc, "DEL q");
    let a = block(&store, &mut ra, &mut rc, "BLPOP q 0", 1);
    same(&mut c, &mut rc, "MULTI");
    same(&mut c, &mut rc, "RPUSH q v");
    same(&mut c, &mut rc, "LPOP q");
    same(&mut c, &mut rc, "EXEC");
    assert_eq!(store.blocked_clients(), 1);
    assert_eq!(redis_blocked(&mut rc), 1);
    same(&mut c, &mut rc, "RPUSH q w");
    assert_eq!(a.join().unwrap(), ra.read());

    // Several keys: woken by any of them, with that key's name; a key listed twice.
    let a = block(&store, &mut ra, &mut rc, "BLPOP k1 k2 k1 0", 1);
    same(&mut c, &mut rc, "RPUSH k2 v");
    assert_eq!(a.join().unwrap(), ra.read());

    // BLMOVE: served by a push, the element lands in the destination, which serves the
    // next waiter.
    let a = block(&store, &mut ra, &mut rc, "BLMOVE s1 s2 LEFT RIGHT 0", 1);
    let b = block(&store, &mut rb, &mut rc, "BLPOP s2 0", 2);
    same(&mut c, &mut rc, "RPUSH s1 v1 v2");
    assert_eq!(a.join().unwrap(), ra.read());
    assert_eq!(b.join().unwrap(), rb.read());
    same(&mut c, &mut rc, "LRANGE s1 0 -1");
    same(&mut c, &mut rc, "LRANGE s2 0 -1");

    // BLMOVE whose destination became a non-list: WRONGTYPE, nothing consumed.
    same(&mut c, &mut rc, "SET notlist x");
    let a = block(&store, &mut ra, &mut rc, "BRPOPLPUSH src9 notlist 0", 1);
    same(&mut c, &mut rc, "RPUSH src9 a");
    assert_eq!(a.join().unwrap(), ra.read());
    same(&mut c, &mut rc, "LRANGE src9 0 -1");

    // Timeouts (real clock).
    let a = spawn_ours(&store, "BLPOP nothing 0.1");
    assert_eq!(a.join().unwrap(), ra.cmd(&words("BLPOP nothing 0.1")));
    let a = spawn_ours(&store, "BLMOVE nothing d LEFT LEFT 0.05");
    assert_eq!(
        a.join().unwrap(),
        ra.cmd(&words("BLMOVE nothing d LEFT LEFT 0.05"))
    );
    // A timeout whose absolute time overflows never fires.
    let a = block(
        &store,
        &mut ra,
        &mut rc,
        "BLPOP nothing 9223372036854775",
        1,
    );
    thread::sleep(Duration::from_millis(100));
    assert_eq!(store.blocked_clients(), 1);
    assert_eq!(redis_blocked(&mut rc), 1);
    same(&mut c, &mut rc, "RPUSH nothing late");
    assert_eq!(a.join().unwrap(), ra.read());
}

/// A command's replies on a connection: its reply, then the confirmations it pushed.
fn replies_of(sub: &mut Connection, argv: &[Vec<u8>], replies: usize) -> Vec<Reply> {
    let mut mine = vec![sub.execute(argv)];
    mine.extend((1..replies).map(|_| sub.try_next_push().expect("a pushed confirmation")));
    assert_eq!(sub.try_next_push(), None, "more replies than Redis gives");
    mine
}

fn sub_cmd(sub: &mut Connection, conn: &mut RespConn, line: &str, replies: usize) -> Vec<Reply> {
    let argv = words(line);
    conn.send(&argv);
    let theirs: Vec<Reply> = (0..replies).map(|_| conn.read()).collect();
    let mine = replies_of(sub, &argv, replies);
    assert_eq!(mine, theirs, "{line}");
    mine
}

/// Like [`sub_cmd`] for confirmations whose order Redis leaves to a hash table: the same
/// names, and the same counts in the same order.
fn sub_cmd_unordered(sub: &mut Connection, conn: &mut RespConn, line: &str, replies: usize) {
    fn split(replies: Vec<Reply>) -> (Reply, Vec<Reply>) {
        let mut names = Vec::new();
        let mut counts = Vec::new();
        for r in replies {
            let Reply::Array(mut items) = r else {
                panic!("a confirmation array");
            };
            counts.push(items.pop().unwrap());
            names.push(Reply::Array(items));
        }
        (sorted(Reply::Array(names)), counts)
    }
    let argv = words(line);
    conn.send(&argv);
    let theirs = split((0..replies).map(|_| conn.read()).collect());
    let mine = split(replies_of(sub, &argv, replies));
    assert_eq!(mine, theirs, "{line}");
}

fn messages(sub: &mut Connection, conn: &mut RespConn, n: usize) {
    let theirs = sorted(Reply::Array((0..n).map(|_| conn.read()).collect()));
    let mine: Vec<Reply> = (0..n)
        .map(|_| sub.receive_push(Duration::from_secs(5)).expect("a message"))
        .collect();
    assert_eq!(sorted(Reply::Array(mine)), theirs);
    assert_eq!(sub.try_next_push(), None);
}

#[test]
fn pubsub_matches_redis() {
    let (server, store) = setup();
    let (mut ra, mut rb, mut rc) = (server.conn(), server.conn(), server.conn());
    let (mut a, mut b) = (store.connection(), store.connection());
    let mut c = store.connection();

    sub_cmd(&mut a, &mut ra, "SUBSCRIBE news news sport", 3);
    sub_cmd(&mut a, &mut ra, "PSUBSCRIBE n* ne?s", 2);
    sub_cmd(&mut b, &mut rb, "PSUBSCRIBE n*", 1);
    same(&mut c, &mut rc, "PUBLISH news hi");
    // The channel message comes first, then one per matching pattern.
    let first = ra.read();
    assert_eq!(a.receive_push(Duration::from_secs(5)), Some(first));
    messages(&mut a, &mut ra, 2);
    messages(&mut b, &mut rb, 1);
    same(&mut c, &mut rc, "PUBLISH sport x");
    messages(&mut a, &mut ra, 1);
    same(&mut c, &mut rc, "PUBLISH nope y");
    messages(&mut a, &mut ra, 1);
    messages(&mut b, &mut rb, 1);
    same(&mut c, &mut rc, "PUBLISH other z");
    same(&mut c, &mut rc, "PUBSUB NUMSUB news sport none");
    same(&mut c, &mut rc, "PUBSUB NUMSUB");
    same(&mut c, &mut rc, "PUBSUB NUMPAT");
    same(&mut c, &mut rc, "PUBSUB CHANNELS s*");
    same(&mut c, &mut rc, "PUBSUB SHARDCHANNELS");
    same(&mut c, &mut rc, "PUBSUB SHARDNUMSUB news");
    same(&mut c, &mut rc, "PUBSUB HELP");
    for line in [
        "PUBSUB FOO",
        "PUBSUB CHANNELS a b",
        "PUBSUB NUMPAT x",
        "PUBSUB HELP x",
        "PUBSUB",
        "PUBLISH ch",
        "PUBLISH",
    ] {
        same(&mut c, &mut rc, line);
    }
    sub_cmd(&mut a, &mut ra, "PING", 1);
    sub_cmd(&mut a, &mut ra, "PING hi", 1);
    sub_cmd(&mut a, &mut ra, "PING a b", 1);
    sub_cmd(&mut a, &mut ra, "SET k v", 1);
    sub_cmd(&mut a, &mut ra, "gEt k", 1);
    sub_cmd(&mut a, &mut ra, "PUBSUB NUMPAT", 1);
    sub_cmd(&mut a, &mut ra, "PUBSUB FOO", 1);
    sub_cmd(&mut a, &mut ra, "GET", 1);
    sub_cmd(&mut a, &mut ra, "FOO bar", 1);
    sub_cmd(&mut a, &mut ra, "SUBSCRIBE", 1);
    sub_cmd(&mut a, &mut ra, "PSUBSCRIBE", 1);
    sub_cmd(&mut a, &mut ra, "PUNSUBSCRIBE ne?s", 1);
    sub_cmd(&mut a, &mut ra, "UNSUBSCRIBE nothere", 1);
    sub_cmd_unordered(&mut a, &mut ra, "UNSUBSCRIBE", 2);
    sub_cmd(&mut a, &mut ra, "UNSUBSCRIBE", 1);
    sub_cmd(&mut a, &mut ra, "PUNSUBSCRIBE", 1);
    sub_cmd(&mut a, &mut ra, "PUNSUBSCRIBE", 1);
    sub_cmd(&mut a, &mut ra, "PING", 1);
    sub_cmd(&mut a, &mut ra, "PING hi", 1);
    same(&mut c, &mut rc, "PUBSUB NUMPAT");
    // A client with only patterns left: UNSUBSCRIBE reports them.
    sub_cmd(&mut b, &mut rb, "PSUBSCRIBE x* y*", 2);
    sub_cmd(&mut b, &mut rb, "UNSUBSCRIBE", 1);
    sub_cmd(&mut b, &mut rb, "SUBSCRIBE c1", 1);
    sub_cmd(&mut b, &mut rb, "PUNSUBSCRIBE y* n*", 2);
    // A normal client may UNSUBSCRIBE: one confirmation with a nil name.
    let mut fresh = store.connection();
    sub_cmd(&mut fresh, &mut rc, "UNSUBSCRIBE", 1);
    sub_cmd(&mut fresh, &mut rc, "PUNSUBSCRIBE", 1);
    sub_cmd(&mut fresh, &mut rc, "SET k v", 1);
    sub_cmd(&mut fresh, &mut rc, "GET k", 1);
}

/// messaging.md §4.1: each glob vector through PUBSUB CHANNELS on subscribed channels.
#[test]
fn pubsub_channels_glob_matches_redis() {
    let (server, store) = setup();
    let (mut ra, mut rc) = (server.conn(), server.conn());
    let mut a = store.connection();
    let mut c = store.connection();
    let channels = [
        "hello",
        "hllo",
        "heeeello",
        "hallo",
        "hillo",
        "hbllo",
        "hcllo",
        "h*llo",
        "h[",
        "ha",
        "h[ab",
        "hx",
        "]",
        "-",
        "b",
        "_",
        "]a",
        "x",
        "[",
        "d",
        "xdy",
        "ab\\",
        "ab",
        "acb",
        "f.txt.bak",
        "x[",
        "a",
        "''",
    ];
    let line = format!("SUBSCRIBE {}", channels.join(" "));
    sub_cmd(&mut a, &mut ra, &line, channels.len());
    let patterns = [
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "h[z-a]llo",
        "h\\*llo",
        "h[",
        "h[ab",
        "h[^",
        "[\\]]",
        "[a\\-z]",
        "[a-]",
        "[]a",
        "[^]",
        "[[]",
        "[a-c-e]",
        "x[^a-c]y",
        "ab\\",
        "a\\b",
        "\\?",
        "H*",
        "a?",
        "a*b*c",
        "*.txt",
        "*[",
        "*",
        "**",
        "''",
    ];
    for p in patterns {
        let line = format!("PUBSUB CHANNELS {p}");
        let argv = words(&line);
        let theirs = sorted(rc.cmd(&argv));
        let mine = sorted(c.execute(&argv));
        assert_eq!(mine, theirs, "{line}");
    }
    let argv = words("PUBSUB CHANNELS");
    assert_eq!(sorted(c.execute(&argv)), sorted(rc.cmd(&argv)));
}
