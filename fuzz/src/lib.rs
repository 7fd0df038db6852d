//! The bodies of sketchstore's fuzz targets, as plain functions so that unit tests run them
//! too and the targets cannot rot.
//!
//! # Input format of `execute`
//!
//! The input is a list of commands separated by `0xFF`; a command is a list of tokens
//! separated by `0xFE`. A token is taken literally unless its first byte is below `0x20`,
//! in which case it is drawn from a table, so that random bytes mostly spell commands the
//! store knows, keys that collide, and numbers at the edges:
//!
//! | first byte | position 0 (command name)          | other positions                    |
//! |------------|------------------------------------|------------------------------------|
//! | `00`-`0F`  | `NAMES[b \| next << 5]`            | `KEYS[b % 8]`                      |
//! | `10`-`17`  | (same as above)                    | `WORDS[(b - 0x10) \| next << 3]`   |
//! | `18`-`1B`  |                                    | `NUMBERS[next]`                    |
//! | `1C`       |                                    | the rest, little-endian, as an i64 |
//! | `1D`       |                                    | `next` as an i8                    |
//! | `1E`       |                                    | `x` repeated `16 * next` times     |
//! | `1F`       |                                    | `PATTERNS[next]`                   |
//!
//! (`next` is the token's second byte, 0 when absent; table indexes wrap.) A command whose
//! first token starts with `0x7F` is not a command: it advances the manual clock by the
//! rest of the token read as a little-endian number of milliseconds (at most 3 bytes).
//!
//! Seeds can therefore be written as plain text: `SET\xFEk\xFEv\xFFGET\xFEk`.

pub mod cf_loadchunk;
pub mod chunked;
pub mod loadchunk;
pub mod rdb_restore;
pub mod resp_request;

pub use cf_loadchunk::run_cf_loadchunk;
pub use loadchunk::run_loadchunk;
pub use rdb_restore::run_rdb_restore;
use sketchstore::{ManualClock, Reply, Store};
use std::fmt::Write as _;
use std::time::Duration;

/// The most commands one input runs.
pub const MAX_COMMANDS: usize = 64;
/// The most arguments (name included) of one command.
pub const MAX_ARGS: usize = 24;
/// The string size limit of the fuzzed store, so that `SETRANGE k 500000000 x` is an error
/// rather than half a gigabyte per execution.
pub const MAX_STRING_BYTES: usize = 1 << 20;
/// Where the manual clock starts (2023-11-14T22:13:20Z).
pub const START_MS: i64 = 1_700_000_000_000;

/// Command names, those the store has today and those the design plans; blocking
/// commands are left out because with a manual clock nothing would wake them.
pub const NAMES: &[&str] = &[
    "GET",
    "SET",
    "SETNX",
    "SETEX",
    "PSETEX",
    "GETDEL",
    "GETEX",
    "MGET",
    "MSET",
    "MSETNX",
    "APPEND",
    "STRLEN",
    "GETRANGE",
    "SUBSTR",
    "SETRANGE",
    "INCR",
    "DECR",
    "INCRBY",
    "DECRBY",
    "INCRBYFLOAT",
    "HSET",
    "HMSET",
    "HSETNX",
    "HGET",
    "HMGET",
    "HGETALL",
    "HKEYS",
    "HVALS",
    "HDEL",
    "HEXISTS",
    "HLEN",
    "HSTRLEN",
    "HINCRBY",
    "HINCRBYFLOAT",
    "DEL",
    "UNLINK",
    "EXISTS",
    "TYPE",
    "KEYS",
    "SCAN",
    "DBSIZE",
    "FLUSHALL",
    "FLUSHDB",
    "RENAME",
    "RENAMENX",
    "EXPIRE",
    "PEXPIRE",
    "EXPIREAT",
    "PEXPIREAT",
    "TTL",
    "PTTL",
    "PERSIST",
    "PING",
    "ECHO",
    "LPUSH",
    "RPUSH",
    "LPOP",
    "RPOP",
    "LLEN",
    "LRANGE",
    "LINDEX",
    "LREM",
    "LTRIM",
    "PFADD",
    "PFCOUNT",
    "PFMERGE",
    "SETBIT",
    "GETBIT",
    "BITCOUNT",
    "BITPOS",
    "BITFIELD",
    "BF.ADD",
    "BF.MADD",
    "BF.EXISTS",
    "BF.MEXISTS",
    "BF.RESERVE",
    "BF.INFO",
    "TOPK.RESERVE",
    "TOPK.ADD",
    "TOPK.INCRBY",
    "TOPK.LIST",
    "TDIGEST.CREATE",
    "TDIGEST.ADD",
    "TDIGEST.QUANTILE",
    "TDIGEST.MERGE",
    "CF.RESERVE",
    "CF.ADD",
    "CF.ADDNX",
    "CF.INSERT",
    "CF.EXISTS",
    "CF.DEL",
    "CF.COUNT",
    "CF.SCANDUMP",
    "CF.LOADCHUNK",
    "CMS.INITBYDIM",
    "CMS.INCRBY",
    "CMS.QUERY",
    "CMS.MERGE",
    "PUBLISH",
    "MULTI",
    "EXEC",
    "DISCARD",
    "WATCH",
    "UNWATCH",
    "get",
    "sEt",
    "NOSUCHCMD",
    "ZADD",
    "ZINCRBY",
    "ZREM",
    "ZCARD",
    "ZSCORE",
    "ZMSCORE",
    "ZRANK",
    "ZCOUNT",
    "ZLEXCOUNT",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZRANGEBYLEX",
    "ZRANGESTORE",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZPOPMIN",
    "ZPOPMAX",
    "ZMPOP",
    "ZRANDMEMBER",
    "ZUNIONSTORE",
    "ZINTER",
    "ZDIFF",
    "ZINTERCARD",
    "ZSCAN",
];

/// Keys: a few that collide often, one empty, one with a hash tag, one binary.
pub const KEYS: &[&[u8]] = &[b"k", b"a", b"b", b"h", b"n", b"", b"{k}x", b"\x00\xff"];

/// Option words and type names.
pub const WORDS: &[&str] = &[
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "NX",
    "XX",
    "GT",
    "LT",
    "GET",
    "PERSIST",
    "MATCH",
    "COUNT",
    "TYPE",
    "ASYNC",
    "SYNC",
    "string",
    "hash",
    "list",
    "none",
    "ex",
    "nx",
    "FOO",
    "LEFT",
    "RIGHT",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "INCRBY",
    "u8",
    "i64",
    "WITHCOUNT",
    "COMPRESSION",
    "OVERRIDE",
];

/// Numbers at the edges, and things that look like numbers but are not.
pub const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "10",
    "100",
    "1000",
    "1500",
    "-5",
    "5",
    "60",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "9223372036854775",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1.5",
    "abc",
    "+1",
    "01",
    "-0",
    " 1",
    "1 ",
    "",
    "3.0e3",
    "inf",
    "-inf",
    "nan",
    "0x10",
    "1700000000",
    "1700000000000",
    "536870911",
    "4294967295",
];

/// Glob patterns, including the ones that are expensive to match naively.
pub const PATTERNS: &[&str] = &[
    "*",
    "?",
    "k*",
    "[ab]",
    "[^a]*",
    "\\*",
    "*a*a*a*a*a*a*a*a*b",
    "[a-",
    "h?",
    "[",
    "\\",
    "*{k}*",
    "[z-a]",
    "**********************************************************x",
];

/// One decoded step of an `execute` input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Advance the manual clock by this many milliseconds.
    Advance(u64),
    /// Run this argv.
    Command(Vec<Vec<u8>>),
}

fn pick<T: Copy>(table: &[T], i: usize) -> T {
    table[i % table.len()]
}

fn token(t: &[u8], position: usize) -> Vec<u8> {
    let Some(&b) = t.first() else {
        return Vec::new();
    };
    if b >= 0x20 {
        return t.to_vec();
    }
    let next = usize::from(t.get(1).copied().unwrap_or(0));
    if position == 0 {
        return pick(NAMES, usize::from(b) | next << 5).as_bytes().to_vec();
    }
    match b {
        0x00..=0x0F => pick(KEYS, usize::from(b)).to_vec(),
        0x10..=0x17 => pick(WORDS, usize::from(b - 0x10) | next << 3)
            .as_bytes()
            .to_vec(),
        0x18..=0x1B => pick(NUMBERS, next).as_bytes().to_vec(),
        0x1C => {
            let mut le = [0u8; 8];
            let rest = &t[1..t.len().min(9)];
            le[..rest.len()].copy_from_slice(rest);
            i64::from_le_bytes(le).to_string().into_bytes()
        }
        0x1D => (next as u8 as i8).to_string().into_bytes(),
        0x1E => vec![b'x'; 16 * next],
        _ => pick(PATTERNS, next).as_bytes().to_vec(),
    }
}

/// Decodes an `execute` input into steps (see the module documentation).
pub fn decode(data: &[u8]) -> Vec<Step> {
    data.split(|&b| b == 0xFF)
        .take(MAX_COMMANDS)
        .map(|cmd| {
            if cmd.first() == Some(&0x7F) {
                let mut le = [0u8; 8];
                let rest = &cmd[1..cmd.len().min(4)];
                le[..rest.len()].copy_from_slice(rest);
                return Step::Advance(u64::from_le_bytes(le));
            }
            Step::Command(
                cmd.split(|&b| b == 0xFE)
                    .take(MAX_ARGS)
                    .enumerate()
                    .map(|(i, t)| token(t, i))
                    .collect(),
            )
        })
        .collect()
}

/// The steps as text, one per line, for reading a crash reproducer.
pub fn describe(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Advance(ms) => {
                let _ = writeln!(out, "(clock +{ms} ms)");
            }
            Step::Command(argv) => {
                let words: Vec<String> = argv
                    .iter()
                    .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
                    .collect();
                let _ = writeln!(out, "{}", words.join(" "));
            }
        }
    }
    out
}

/// A reply must survive its own wire encoding: error and status lines cannot hold CR or
/// LF (Redis turns them into spaces), and the RESP2 bytes must parse back to the reply.
pub fn check_reply(argv: &[Vec<u8>], reply: &Reply) {
    fn lines_ok(r: &Reply) -> bool {
        match r {
            Reply::Status(s) | Reply::Error(s) => !s.contains(['\r', '\n']),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
                items.iter().all(lines_ok)
            }
            Reply::Map(pairs) | Reply::Pairs(pairs) => {
                pairs.iter().all(|(k, v)| lines_ok(k) && lines_ok(v))
            }
            _ => true,
        }
    }
    let shown = || describe(&[Step::Command(argv.to_vec())]);
    assert!(
        lines_ok(reply),
        "reply line holds CR/LF: {reply:?} for {}",
        shown()
    );
    let wire = reply.to_resp();
    let back = Reply::from_resp(&wire);
    assert_eq!(
        back,
        Ok(Some((reply.clone().into_resp2(), wire.len()))),
        "reply does not round-trip through RESP2 for {}",
        shown()
    );
    let wire3 = reply.to_resp3();
    let back3 = Reply::from_resp(&wire3);
    assert!(
        matches!(back3, Ok(Some((_, used))) if used == wire3.len()),
        "reply does not parse back from RESP3 for {}",
        shown()
    );
}

/// Runs decoded `steps` on a fresh store with a manual clock, through one `Connection` (so
/// MULTI/WATCH/EXEC, subscribed mode, HELLO/RESP3 and RESET are exercised as a client would
/// drive them) and, for every third command, through `Store::execute` (a second client whose
/// writes can invalidate the first one's WATCH). Checks every reply, and checks the keyspace
/// counters agree at the end. Returns how many commands ran.
pub fn run_steps(steps: &[Step]) -> usize {
    let clock = ManualClock::new(START_MS);
    let store = Store::builder()
        .clock(clock.clock())
        .shards(8)
        .max_string_bytes(MAX_STRING_BYTES)
        .build();
    let mut conn = store.connection();
    let mut ran = 0;
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Advance(ms) => clock.advance(Duration::from_millis(*ms)),
            Step::Command(argv) if is_blocking(argv) && !conn.in_multi() => {
                // Nothing would wake a blocked pop on a manual clock in one thread, so a
                // blocking command runs inside MULTI/EXEC, where Redis (and the store) runs it
                // without blocking: its parsing and semantics are still exercised. A
                // connection that cannot start a transaction (subscribed) skips it.
                if conn.execute(&["MULTI"]) != Reply::ok() {
                    continue;
                }
                let queued = conn.execute(argv);
                check_reply(argv, &queued);
                let reply = conn.execute(&["EXEC"]);
                check_reply(argv, &reply);
                ran += 1;
            }
            Step::Command(argv) if i % 3 == 2 && !is_blocking(argv) => {
                let reply = store.execute(argv);
                check_reply(argv, &reply);
                ran += 1;
            }
            Step::Command(argv) => {
                let reply = conn.execute(argv);
                check_reply(argv, &reply);
                while let Some(push) = conn.try_next_push() {
                    check_reply(argv, &push);
                }
                ran += 1;
            }
        }
    }
    store.sweep_expired(usize::MAX);
    let stored = store.stored_keys();
    assert_eq!(
        store.dbsize().ok(),
        Some(stored),
        "DBSIZE != stored keys after a full sweep"
    );
    let live = store.keys("*").map(|k| k.len()).ok();
    assert_eq!(
        live,
        Some(stored),
        "KEYS * != stored keys after a full sweep"
    );
    ran
}

/// Whether `argv` names a command that can block its caller (the command table says so).
fn is_blocking(argv: &[Vec<u8>]) -> bool {
    argv.first()
        .is_some_and(|n| sketchstore::fuzz_is_blocking(n))
}

/// The `execute` target: decode, run, check. Panics on a bug.
pub fn run_execute(data: &[u8]) -> usize {
    run_steps(&decode(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Step {
        Step::Command(words.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    #[test]
    fn decodes_literals_tables_and_clock_steps() {
        let steps = decode(
            b"SET\xFEk\xFEv\xFF\x7F\xE8\x03\xFF\x01\xFE\x02\xFE\x18\x0B\xFF\x00\x01\xFE\x1D\xFB",
        );
        assert_eq!(
            steps,
            vec![
                argv(&["SET", "k", "v"]),
                Step::Advance(1000),
                argv(&[NAMES[1], "b", "9223372036854775807"]),
                argv(&[NAMES[32], "-5"]),
            ]
        );
        assert_eq!(decode(b""), vec![Step::Command(vec![Vec::new()])]);
    }

    #[test]
    fn blocking_commands_do_not_block() {
        let steps = [
            argv(&["BLPOP", "k", "0"]),
            argv(&["brpop", "k", "1.5"]),
            argv(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]),
            argv(&["RPUSH", "k", "x"]),
            argv(&["BLPOP", "k", "0"]),
        ];
        assert_eq!(run_steps(&steps), 5);
    }

    #[test]
    fn caps_commands_and_arguments() {
        let many = vec![0xFF; 1000];
        assert_eq!(decode(&many).len(), MAX_COMMANDS);
        let wide = vec![0xFE; 1000];
        match &decode(&wide)[0] {
            Step::Command(a) => assert_eq!(a.len(), MAX_ARGS),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seed_corpus_runs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/execute");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("seed corpus") {
            let data = std::fs::read(entry.expect("entry").path()).expect("seed");
            run_execute(&data);
            n += 1;
        }
        assert!(n >= 5, "seed corpus has {n} files");
    }

    #[test]
    fn every_table_entry_runs() {
        for i in 0..NAMES.len() {
            let mut data = vec![(i & 31) as u8, (i >> 5) as u8];
            data.extend_from_slice(b"\xFE\x00\xFE\x18\x01\xFE\x10\x01\xFE\x1F\x00");
            run_execute(&data);
        }
    }

    #[test]
    fn pseudo_random_inputs_run() {
        // xorshift: a fixed stream of inputs in the target's own format, biased toward
        // separators and table bytes.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..300 {
            let mut data = Vec::new();
            for _ in 0..(s % 200) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let b = (s >> 24) as u8;
                data.push(match s % 5 {
                    0 => 0xFE,
                    1 if s.is_multiple_of(3) => 0xFF,
                    2 => b & 0x1F,
                    _ => b,
                });
            }
            run_execute(&data);
        }
    }
}
