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
