//! sketchstore-server end to end: the binary started on a free port, driven with redis-cli
//! and raw sockets; protocol errors compared byte for byte with a real redis-server.

mod common;

use common::server::{free_port, raw, Server};
use common::{RedisServer, RespConn};
use sketchstore::Reply;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Everything the peer sends until it closes the connection (or 10 s pass).
fn read_to_close(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return (all, true),
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (all, true),
            Err(_) => return (all, false),
        }
    }
}

/// What arrives within `wait`, without expecting a close.
fn read_for(s: &mut TcpStream, wait: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(wait)).expect("timeout");
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = s.read(&mut chunk) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&chunk[..n]);
    }
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    all
}

fn resp(argv: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for a in argv {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

#[test]
fn redis_cli_set_get() {
    let server = Server::start();
    assert_eq!(server.redis_cli(&["SET", "k", "hello world"], b""), "OK\n");
    assert_eq!(server.redis_cli(&["GET", "k"], b""), "hello world\n");
    assert_eq!(server.redis_cli(&["INCR", "n"], b""), "1\n");
    assert_eq!(
        server.redis_cli(&["INCR", "k"], b"").trim_end(),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn redis_cli_pipe_mode() {
    let server = Server::start();
    let mut input = Vec::new();
    for i in 0..2000 {
        input.extend(resp(&["RPUSH", "l", &i.to_string()]));
    }
    let out = server.redis_cli(&["--pipe"], &input);
    assert!(out.contains("errors: 0, replies: 2000"), "{out}");
    let mut c = server.conn();
    assert_eq!(c.cmd(&["LLEN", "l"]), Reply::Integer(2000));
    assert_eq!(c.cmd(&["LINDEX", "l", "1999"]), Reply::bulk("1999"));
}

#[test]
fn pipelined_replies_come_in_order() {
    let server = Server::start();
    let mut s = server.raw();
    let mut input = Vec::new();
    let mut want = Vec::new();
    for i in 0..500 {
        input.extend(resp(&["INCR", "c"]));
        want.extend(format!(":{}\r\n", i + 1).into_bytes());
    }
    input.extend(resp(&["QUIT"]));
    want.extend(b"+OK\r\n");
    s.write_all(&input).expect("write");
    let (got, closed) = read_to_close(&mut s);
    assert!(closed);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn inline_commands() {
    let server = Server::start();
    let mut s = server.raw();
    s.write_all(b"SET inline \"a b\\x21\"\r\nGET inline\nPING\r\n\r\nECHO 'it\\'s'\r\n")
        .expect("write");
    let got = read_for(&mut s, Duration::from_millis(500));
    assert_eq!(
        String::from_utf8_lossy(&got),
        "+OK\r\n$4\r\na b!\r\n+PONG\r\n$4\r\nit's\r\n"
    );
}

/// Each input: a protocol error. The reply bytes and the close must be Redis's.
#[test]
fn protocol_errors_match_redis() {
    let server = Server::start();
    let redis = RedisServer::start();
    let mut big_inline = vec![b'a'; 70 * 1024];
    big_inline.extend_from_slice(b" x");
    let cases: Vec<Vec<u8>> = vec![
        b"*1\r\n$536870913\r\n".to_vec(),
        b"*1\r\n$-5\r\n".to_vec(),
        b"*x\r\n".to_vec(),
        b"*2147483648\r\n".to_vec(),
        b"*1\r\n+PING\r\n".to_vec(),
        b"SET k \"unbalanced\r\n".to_vec(),
        b"PING\r\n*1\r\n$4\r\nPING\r\n*abc\r\nPING\r\n".to_vec(),
        big_inline,
    ];
    for input in &cases {
        let ours = {
            let mut s = server.raw();
            s.write_all(input).expect("write");
            read_to_close(&mut s)
        };
        let theirs = {
            let mut s = raw(redis.port);
            s.write_all(input).expect("write");
            read_to_close(&mut s)
        };
        let shown = String::from_utf8_lossy(&input[..input.len().min(60)]).into_owned();
        assert!(theirs.1, "redis kept {shown:?} open");
        assert_eq!(
            String::from_utf8_lossy(&ours.0),
            String::from_utf8_lossy(&theirs.0),
            "{shown:?}"
        );
        assert_eq!(ours.1, theirs.1, "{shown:?}");
    }
}

#[test]
fn oversized_bulk_closes_only_that_client() {
    let server = Server::start();
    let mut other = server.conn();
    assert_eq!(other.cmd(&["SET", "k", "v"]), Reply::ok());
    let mut bad = server.raw();
    bad.write_all(b"*1\r\n$536870913\r\n").expect("write");
    let (got, closed) = read_to_close(&mut bad);
    assert_eq!(got, b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(closed);
    assert_eq!(other.cmd(&["GET", "k"]), Reply::bulk("v"));
    // The largest length is accepted and costs nothing until its bytes come.
    let mut big = server.raw();
    big.write_all(b"*2\r\n$3\r\nGET\r\n$536870912\r\nab")
        .expect("write");
    assert!(read_for(&mut big, Duration::from_millis(300)).is_empty());
    assert_eq!(other.cmd(&["PING"]), Reply::status("PONG"));
}

#[test]
fn unterminated_requests_wait_for_the_rest() {
    let server = Server::start();
    let mut s = server.raw();
    s.write_all(b"*2\r\n$3\r\nGET\r\n$1\r").expect("write");
    assert!(read_for(&mut s, Duration::from_millis(300)).is_empty());
    s.write_all(b"\nk").expect("write");
    assert!(read_for(&mut s, Duration::from_millis(200)).is_empty());
    s.write_all(b"\r\nECHO unfinished").expect("write");
    assert_eq!(read_for(&mut s, Duration::from_millis(300)), b"$-1\r\n");
    s.write_all(b"\r\n").expect("write");
    assert_eq!(
        read_for(&mut s, Duration::from_millis(300)),
        b"$10\r\nunfinished\r\n"
    );
    // A client that goes away mid-request does not disturb the server.
    s.write_all(b"*3\r\n$3\r\nSET\r\n").expect("write");
    s.shutdown(Shutdown::Both).expect("shutdown");
    assert_eq!(server.conn().cmd(&["PING"]), Reply::status("PONG"));
}

#[test]
fn many_idle_connections() {
    let server = Server::start();
    let idle: Vec<TcpStream> = (0..300).map(|_| server.raw()).collect();
    let mut c = server.conn();
    assert_eq!(c.cmd(&["SET", "k", "1"]), Reply::ok());
    let mut busy: Vec<RespConn> = (0..20).map(|_| server.conn()).collect();
    for (i, b) in busy.iter_mut().enumerate() {
        assert_eq!(b.cmd(&["INCR", "k"]), Reply::Integer(i as i64 + 2));
    }
    drop(idle);
    assert_eq!(c.cmd(&["GET", "k"]), Reply::bulk("21"));
}

#[test]
fn maxclients_refuses_with_redis_text() {
    let server = Server::start_with(&["--maxclients", "3"]);
    // The server's own readiness probe has closed; give it a moment to be reaped.
    std::thread::sleep(Duration::from_millis(100));
    let mut held: Vec<RespConn> = (0..3).map(|_| server.conn()).collect();
    for c in &mut held {
        assert_eq!(c.cmd(&["PING"]), Reply::status("PONG"));
    }
    let mut refused = server.raw();
    let (got, closed) = read_to_close(&mut refused);
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    assert!(closed);
    held.pop();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.conn().cmd(&["PING"]), Reply::status("PONG"));
}

#[test]
fn requirepass() {
    let server_pass = "s3cret";
    let server = {
        // The readiness probe's PING gets NOAUTH, so start and probe by hand.
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "sketchstore-server-auth-{port}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let child = Command::new(env!("CARGO_BIN_EXE_sketchstore-server"))
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--requirepass",
                server_pass,
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sketchstore-server");
        let server = Server { child, port, dir };
        wait_listening(port);
        server
    };
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["GET", "k"]),
        Reply::Error("NOAUTH Authentication required.".into())
    );
    assert_eq!(
        c.cmd(&["AUTH", "nope"]),
        Reply::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    assert_eq!(c.cmd(&["AUTH", server_pass]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    // CONFIG SET requirepass acts as in Redis 7.0: new clients need the new password, the
    // clients already in stay in; an empty password lets new clients in without AUTH.
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", "n3w"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "k"]), Reply::bulk("v"));
    let mut late = server.conn();
    assert_eq!(
        late.cmd(&["AUTH", server_pass]),
        Reply::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    assert_eq!(late.cmd(&["AUTH", "n3w"]), Reply::ok());
    assert_eq!(c.cmd(&["CONFIG", "SET", "requirepass", ""]), Reply::ok());
    assert_eq!(server.conn().cmd(&["GET", "k"]), Reply::bulk("v"));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "requirepass", server_pass]),
        Reply::ok()
    );
    // Before AUTH, Redis's smaller request limits apply.
    let mut s = server.raw();
    s.write_all(b"*11\r\n").expect("write");
    let (got, closed) = read_to_close(&mut s);
    assert_eq!(
        got,
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    assert!(closed);
}

#[allow(clippy::disallowed_methods)]
fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_finishes_and_exits_zero() {
    let mut server = Server::start();
    let mut c = server.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    let _idle = server.raw();
    let status = server.terminate();
    assert!(status.success(), "{status}");
    assert!(TcpStream::connect(("127.0.0.1", server.port)).is_err());
}

#[test]
fn sigterm_saves_when_save_rules_are_set() {
    let mut server = Server::start_with(&["--save", "3600 1", "--dbfilename", "snap.db"]);
    assert_eq!(server.conn().cmd(&["SET", "k", "kept"]), Reply::ok());
    let status = server.terminate();
    assert!(status.success(), "{status}");
    let path = server.dir.join("snap.db");
    assert!(path.exists(), "no snapshot at {}", path.display());
    let store = sketchstore::Store::open(&path).expect("load snapshot");
    assert_eq!(store.get("k").expect("get"), Some(b"kept".to_vec()));
}

#[test]
fn bad_configuration_exits_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_sketchstore-server"))
        .args(["--port", "notaport"])
        .output()
        .expect("run sketchstore-server");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--port notaport"), "{err}");
}

#[test]
#[allow(clippy::disallowed_methods)]
fn shutdown_command_stops_the_server() {
    let mut server = Server::start_with(&["--dbfilename", "snap.db"]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(
        c.cmd(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        Reply::Error("ERR syntax error".into())
    );
    assert_eq!(
        c.cmd(&["SHUTDOWN", "ABORT"]),
        Reply::Error("ERR No shutdown in progress.".into())
    );
    // Like Redis, a successful SHUTDOWN closes the connection without a reply.
    let mut s = server.raw();
    s.write_all(&resp(&["SHUTDOWN", "SAVE"])).expect("write");
    let (got, closed) = read_to_close(&mut s);
    assert!(
        got.is_empty() && closed,
        "{}",
        String::from_utf8_lossy(&got)
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SHUTDOWN");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(server.dir.join("snap.db").exists());
}

/// VmRSS of a process, in kB.
fn vm_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

fn connected_clients(c: &mut RespConn) -> u64 {
    match c.cmd(&["INFO", "clients"]) {
        Reply::Bulk(b) => String::from_utf8_lossy(&b)
            .lines()
            .find_map(|l| l.strip_prefix("connected_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("connected_clients"),
        other => panic!("INFO clients: {other:?}"),
    }
}

/// The issue's 10,000 idle clients, on the default `maxclients` (10000). The server is
/// started under a soft open-files limit of 1024 and must raise its own limit (as Redis's
/// adjustOpenFilesLimit) to hold them; the test raises its own soft limit to its hard one.
#[test]
#[allow(clippy::disallowed_methods)]
fn ten_thousand_idle_clients() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    const CLIENTS: usize = 10_000;
    let lim = getrlimit(Resource::Nofile);
    let hard = lim.maximum.unwrap_or(u64::MAX);
    assert!(
        hard >= CLIENTS as u64 + 100,
        "the hard open-files limit ({hard}) is below the {CLIENTS} connections this test opens"
    );
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: lim.maximum,
            maximum: lim.maximum,
        },
    )
    .expect("raise this test's soft open-files limit");

    let port = free_port();
    let dir = std::env::temp_dir().join(format!("sketchstore-10k-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -Sn 1024 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_sketchstore-server"))
        .args(["--port", &port.to_string(), "--save", ""])
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sketchstore-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first = loop {
        if let Ok(c) = RespConn::connect(port) {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "sketchstore-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let pid = child.id();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let soft: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .expect("Max open files");
    assert!(soft >= 10_032, "the server's soft limit stayed at {soft}");

    let start = Instant::now();
    let rss_before = vm_rss_kb(pid);
    assert_eq!(first.cmd(&["PING"]), Reply::status("PONG"));
    // Four connecting threads: on a loaded machine one connect at a time is slow.
    const THREADS: usize = 4;
    let per_thread = (CLIENTS - 1).div_ceil(THREADS);
    let mut streams: Vec<TcpStream> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let n = per_thread.min((CLIENTS - 1).saturating_sub(t * per_thread));
                s.spawn(move || {
                    (0..n)
                        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("connecting thread"))
            .collect()
    });
    assert_eq!(streams.len(), CLIENTS - 1);
    let opened = start.elapsed();
    let mut last = RespConn::connect(port);
    // The 10,001st is refused by maxclients, as in Redis.
    if let Ok(c) = last.as_mut() {
        assert_eq!(
            c.read(),
            Reply::Error("ERR max number of clients reached".into())
        );
    }
    drop(last);
    // The last of the 10,000 and the first answer.
    let mut tail = streams.pop().expect("a stream");
    tail.write_all(b"PING\r\n").expect("write");
    let mut buf = [0u8; 7];
    tail.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    tail.read_exact(&mut buf).expect("PONG");
    assert_eq!(&buf, b"+PONG\r\n");
    assert_eq!(first.cmd(&["PING"]), Reply::status("PONG"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while connected_clients(&mut first) < CLIENTS as u64 {
        assert!(
            Instant::now() < deadline,
            "the server never counted them all"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(connected_clients(&mut first), CLIENTS as u64);
    let rss = vm_rss_kb(pid);
    println!(
        "{CLIENTS} idle clients: opened in {opened:?}; server VmRSS {rss_before} kB before, {rss} kB with them ({:.1} kB per client)",
        (rss.saturating_sub(rss_before)) as f64 / CLIENTS as f64
    );
    drop(tail);
    drop(streams);
    let deadline = Instant::now() + Duration::from_secs(10);
    while connected_clients(&mut first) != 1 {
        assert!(Instant::now() < deadline, "closed clients still counted");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
