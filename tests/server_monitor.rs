//! MONITOR on sketchstore-server against a real redis-server 7.0.15: the same scenario runs
//! on both, with a raw socket, `redis-cli monitor` and redis-rs as clients, and the monitors'
//! lines must be the same once their timestamps and client ports are replaced by stable
//! labels. Also: what a monitoring client may still send, RESP3, RESET, and a monitor that
//! never reads being disconnected instead of buffered without bound.
#![cfg(feature = "redis")]
#![allow(clippy::disallowed_methods)]

mod common;

use common::server::Server;
use common::{RedisServer, RespConn};
use sketchstore::Reply;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A connection read line by line: a monitor's feed and its replies are all one line each.
struct Lines {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Lines {
    fn connect(port: u16) -> Lines {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Lines {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    fn send(&mut self, argv: &[&[u8]]) {
        self.writer.write_all(&encode(argv)).unwrap();
    }

    /// The next line, without its CRLF.
    fn line(&mut self) -> String {
        let mut buf = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut buf)
            .expect("read a line");
        assert!(n > 0, "connection closed");
        assert!(buf.ends_with(b"\r\n"), "{buf:?}");
        buf.truncate(buf.len() - 2);
        String::from_utf8(buf).expect("monitor lines are ASCII")
    }

    /// Lines up to and including the first that contains `marker`.
    fn until(&mut self, marker: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line();
            let done = l.contains(marker);
            out.push(l);
            if done {
                return out;
            }
        }
    }
}

fn encode(argv: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Replaces a line's timestamp by `T` (checking its shape: seconds, a dot, six digits) and
/// each client address by a label in order of first appearance, so lines from two servers
/// compare. Lines that are not feed lines are returned as they are.
struct Normalizer {
    labels: HashMap<String, String>,
}

impl Normalizer {
    fn new() -> Normalizer {
        Normalizer {
            labels: HashMap::new(),
        }
    }

    fn line(&mut self, line: &str) -> String {
        let (plus, body) = match line.strip_prefix('+') {
            Some(b) => ("+", b),
            None => ("", line),
        };
        let Some((ts, rest)) = body.split_once(' ') else {
            return line.to_string();
        };
        let Some((secs, micros)) = ts.split_once('.') else {
            return line.to_string();
        };
        if secs.is_empty()
            || !secs.bytes().all(|b| b.is_ascii_digit())
            || micros.len() != 6
            || !micros.bytes().all(|b| b.is_ascii_digit())
        {
            return line.to_string();
        }
        let secs: i64 = secs.parse().unwrap();
        assert!(secs > 1_700_000_000, "a Unix time in seconds: {line}");
        let rest = rest.strip_prefix('[').expect("[db addr]");
        let (head, args) = rest.split_once("] ").expect("[db addr]");
        let (db, addr) = head.split_once(' ').expect("db and addr");
        let n = self.labels.len();
        let label = self
            .labels
            .entry(addr.to_string())
            .or_insert_with(|| format!("client{n}"))
            .clone();
        format!("{plus}T [{db} {label}] {args}")
    }

    fn all(&mut self, lines: &[String]) -> Vec<String> {
        lines.iter().map(|l| self.line(l)).collect()
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Commands whose feed lines are compared: quoting, SELECT, MULTI/EXEC (with errors, an
/// aborted one, a SELECT inside), refused commands, credentials, admin commands.
fn commands() -> Vec<Vec<Vec<u8>>> {
    let mut special = b"a\"b\\c\n\r\t".to_vec();
    special.extend_from_slice(&[0x07, 0x08, 0x01, 0xff, 0x00, 0x7f, b' ', b'~']);
    let words = |s: &str| s.split(' ').map(b).collect::<Vec<_>>();
    let mut cmds = vec![vec![b("SET"), b("k"), special]];
    for line in [
        "SELECT 3",
        "SET x 1",
        "GET x",
        "MULTI",
        "INCR n",
        "LPUSH x v",
        "EXEC",
        "NOSUCHCMD a",
        "GET",
        "LPUSH x v",
        "AUTH pw",
        "AUTH u pw",
        "HELLO 2 AUTH default pw",
        "HELLO 2 SETNAME me AUTH default pw",
        "HELLO 2",
        "CONFIG GET port",
        "CLIENT SETNAME x",
        "CLIENT LIST",
        "CLIENT KILL ID 999999",
        "CLIENT NOSUCH",
        "CLIENT ID extra",
        "CLIENT SETINFO LIB-NAME x",
        "CLIENT ID",
        "MULTI",
        "GET x",
        "FOO",
        "EXEC",
        "MULTI",
        "SELECT 5",
        "SET y 1",
        "CONFIG GET port",
        "EXEC",
        "SELECT 99",
        "SELECT 0",
        "SET i 123",
        "PING",
        "DISCARD",
        "WATCH a",
        "UNWATCH",
        "PUBLISH ch m",
        "PFADD h a b",
        "DEL h",
        "ECHO mark1",
    ] {
        cmds.push(words(line));
    }
    cmds
}

fn argv_refs(argv: &[Vec<u8>]) -> Vec<&[u8]> {
    argv.iter().map(Vec::as_slice).collect()
}

/// The scenario on a server at `port`: the monitor's lines, normalized. Also checks that a
/// client's address in the feed is the one CLIENT INFO gives.
fn scenario(port: u16) -> Vec<String> {
    let mut mon = Lines::connect(port);
    mon.send(&[b"MONITOR"]);
    assert_eq!(mon.line(), "+OK");
    let mut c = RespConn::connect(port).expect("connect");
    let Reply::Bulk(info) = c.cmd(&["CLIENT", "INFO"]) else {
        panic!("CLIENT INFO is a bulk string");
    };
    let info = String::from_utf8_lossy(&info).into_owned();
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr=")
        .to_string();
    let first = mon.line();
    assert!(
        first.ends_with(&format!(" [0 {addr}] \"CLIENT\" \"INFO\"")),
        "{first} (addr {addr})"
    );
    let mut lines = vec![first];
    for argv in commands() {
        c.cmd(&argv_refs(&argv));
    }
    lines.extend(mon.until("\"mark1\""));
    // A blocked command is shown when it blocks, once.
    let mut blocked = RespConn::connect(port).expect("connect");
    blocked.send(&["BLPOP", "bl", "0"]);
    lines.extend(mon.until("\"BLPOP\""));
    c.cmd(&["RPUSH", "bl", "v"]);
    assert_eq!(
        blocked.read(),
        Reply::Array(vec![Reply::bulk("bl"), Reply::bulk("v")])
    );
    // A transaction aborted by WATCH: MULTI and EXEC only.
    let mut w = RespConn::connect(port).expect("connect");
    w.cmd(&["WATCH", "wk"]);
    c.cmd(&["SET", "wk", "1"]);
    w.cmd(&["MULTI"]);
    w.cmd(&["GET", "wk"]);
    assert_eq!(w.cmd(&["EXEC"]), Reply::NilArray);
    c.cmd(&["ECHO", "mark2"]);
    lines.extend(mon.until("\"mark2\""));
    Normalizer::new().all(&lines)
}

#[test]
fn the_feed_is_redis_line_for_line() {
    let redis = RedisServer::start();
    let expected = scenario(redis.port);
    let server = Server::start();
    let got = scenario(server.port);
    assert_eq!(got, expected);
    // The shapes the comparison stands on.
    assert!(expected.contains(
        &"+T [0 client0] \"SET\" \"k\" \"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff\\x00\\x7f ~\""
            .to_string()
    ));
    assert!(expected.contains(&"+T [3 client0] \"AUTH\" \"(redacted)\"".to_string()));
    assert!(!expected.iter().any(|l| l.contains("CONFIG")));
}

/// What the monitoring client itself is answered, raw, normalized.
fn monitor_client_scenario(port: u16) -> Vec<String> {
    let mut mon = Lines::connect(port);
    let mut out = Vec::new();
    let mut step = |mon: &mut Lines, argv: &[&[u8]], lines: usize| {
        mon.send(argv);
        for _ in 0..lines {
            out.push(mon.line());
        }
    };
    step(&mut mon, &[b"MONITOR"], 1);
    // Its own commands are shown to it, after their replies.
    step(&mut mon, &[b"PING"], 2);
    step(&mut mon, &[b"ECHO", b"x"], 3);
    // The keyspace is refused (as to a replica), and not shown.
    step(&mut mon, &[b"GET", b"x"], 1);
    step(&mut mon, &[b"SET", b"x", b"1"], 1);
    step(&mut mon, &[b"PUBLISH", b"c", b"m"], 1);
    step(&mut mon, &[b"SELECT", b"2"], 2);
    // A second MONITOR has no reply at all: the next line is PING's.
    step(&mut mon, &[b"MONITOR"], 0);
    step(&mut mon, &[b"PING"], 2);
    // RESET ends monitor mode: others' commands are no longer shown, the keyspace is back.
    step(&mut mon, &[b"RESET"], 1);
    let mut other = RespConn::connect(port).expect("connect");
    other.cmd(&["SET", "a", "b"]);
    step(&mut mon, &[b"GET", b"a"], 2);
    // MONITOR inside MULTI fails at EXEC; a subscribed client may not monitor.
    step(&mut mon, &[b"MULTI"], 1);
    step(&mut mon, &[b"MONITOR"], 1);
    step(&mut mon, &[b"EXEC"], 2);
    step(&mut mon, &[b"SUBSCRIBE", b"q"], 4);
    step(&mut mon, &[b"MONITOR"], 1);
    // QUIT from a monitor: its reply, then the connection closes with nothing after it.
    let mut quitter = Lines::connect(port);
    step(&mut quitter, &[b"MONITOR"], 1);
    step(&mut quitter, &[b"QUIT"], 1);
    let mut rest = Vec::new();
    quitter.reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"", "nothing after QUIT's reply");
    Normalizer::new().all(&out)
}

#[test]
fn a_monitoring_client_is_answered_as_redis_answers_it() {
    let redis = RedisServer::start();
    let expected = monitor_client_scenario(redis.port);
    let server = Server::start();
    let got = monitor_client_scenario(server.port);
    assert_eq!(got, expected);
    assert!(expected.contains(&"-ERR Replica can't interact with the keyspace".to_string()));
}

/// A RESP3 monitor: its lines are simple strings, as under RESP2.
fn resp3_scenario(port: u16) -> Vec<String> {
    let mut mon = Lines::connect(port);
    mon.send(&[b"HELLO", b"3"]);
    mon.send(&[b"PING"]);
    mon.until("+PONG");
    mon.send(&[b"MONITOR"]);
    assert_eq!(mon.line(), "+OK");
    let mut c = RespConn::connect(port).expect("connect");
    c.cmd(&["SET", "r3", "x y"]);
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["ECHO", "end"]);
    let lines = mon.until("\"end\"");
    Normalizer::new().all(&lines)
}

#[test]
fn a_resp3_monitor_gets_simple_strings() {
    let redis = RedisServer::start();
    let expected = resp3_scenario(redis.port);
    let server = Server::start();
    assert_eq!(resp3_scenario(server.port), expected);
    assert_eq!(expected[0], "+T [0 client0] \"SET\" \"r3\" \"x y\"");
}

/// `redis-cli monitor` as a subprocess, with redis-rs sending commands (plain, pipelined and
/// as an atomic pipeline): redis-cli's printed lines, normalized.
fn redis_cli_scenario(port: u16) -> Vec<String> {
    let mut cli: Child = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "monitor"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli is installed");
    let mut out = BufReader::new(cli.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "OK", "redis-cli monitor starts with OK");
    let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v w")
        .query(&mut con)
        .unwrap();
    let _: (i64, i64) = redis::pipe()
        .incr("n", 1)
        .incr("n", 2)
        .query(&mut con)
        .unwrap();
    let _: (String, i64) = redis::pipe()
        .atomic()
        .get("k")
        .incr("n", 3)
        .query(&mut con)
        .unwrap();
    let _: String = redis::cmd("ECHO").arg("end").query(&mut con).unwrap();
    let mut lines = Vec::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "redis-cli ended");
        let l = line.trim_end().to_string();
        let done = l.contains("\"end\"");
        lines.push(l);
        if done {
            break;
        }
    }
    let _ = cli.kill();
    let _ = cli.wait();
    Normalizer::new().all(&lines)
}

#[test]
fn redis_cli_monitor_prints_what_it_prints_for_redis() {
    let redis = RedisServer::start();
    let expected = redis_cli_scenario(redis.port);
    let server = Server::start();
    assert_eq!(redis_cli_scenario(server.port), expected);
    assert!(expected.contains(&"T [0 client0] \"MULTI\"".to_string()));
}

#[test]
fn a_monitor_that_never_reads_is_disconnected_not_buffered() {
    let server = Server::start();
    let mut slow = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    slow.write_all(&encode(&[b"MONITOR"])).unwrap();
    let mut ok = [0u8; 5];
    slow.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    // Then it never reads: 64 lines of 1 MiB each, past the 32 MiB limit plus what the
    // socket buffers hold.
    let mut c = RespConn::connect(server.port).expect("connect");
    let value = "x".repeat(1 << 20);
    for _ in 0..64 {
        assert_eq!(c.cmd(&["SET", "big", value.as_str()]), Reply::ok());
    }
    // The server closed it: what it had written so far, then end of stream.
    let mut got = Vec::new();
    slow.read_to_end(&mut got).unwrap();
    assert!(
        got.len() < 48 << 20,
        "{} bytes reached a monitor that never read",
        got.len()
    );
    // Others are served, and the killed monitor is gone from CLIENT LIST.
    assert_eq!(c.cmd(&["PING"]), Reply::status("PONG"));
    let mut listed = true;
    for _ in 0..500 {
        let Reply::Bulk(list) = c.cmd(&["CLIENT", "LIST"]) else {
            panic!("CLIENT LIST is a bulk string");
        };
        listed = String::from_utf8_lossy(&list).contains("flags=O");
        if !listed {
            break;
        }
        std::thread::yield_now();
    }
    assert!(!listed, "the monitor is still listed");
}
