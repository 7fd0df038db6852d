//! Shared test support: a real redis-server started on a free port, and a raw RESP2
//! connection to it that returns `sketchstore::Reply`, so replies (errors included) compare
//! directly with the embedded store's.
#![allow(dead_code)]

use sketchstore::Reply;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod cluster;
pub mod server;
pub mod streams;
pub mod table;
pub mod zargs;

/// A redis-server child process, killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

/// Where redis-server is, or a panic that says how to install it. Tests that need it
/// fail loudly rather than skip.
pub fn redis_server_path() -> PathBuf {
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "redis-server is not installed: these parity tests compare against a real Redis 7.0. \
         Install it with `apt-get install -y redis-server` (.ci/run does this)."
    );
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Whether the server answering on `port` is the process `pid`. Two tests can draw the same
/// free port: the second server then fails to bind and exits, but until it has, a PING on
/// the port is answered by the first test's server, which that test kills when it ends.
pub(crate) fn answers_as(port: u16, pid: u32) -> bool {
    let Ok(mut c) = RespConn::connect(port) else {
        return false;
    };
    match c.cmd(&["INFO", "server"]) {
        Reply::Bulk(info) => String::from_utf8_lossy(&info)
            .lines()
            .any(|l| l.trim() == format!("process_id:{pid}")),
        _ => false,
    }
}

impl RedisServer {
    /// Starts a fresh, persistence-free redis-server on a free loopback port.
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// Starts a server with extra `--name value` arguments.
    // Waiting for a child process to come up is real time, outside any store's clock.
    #[allow(clippy::disallowed_methods)]
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let bin = redis_server_path();
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("sketchstore-redis-{port}-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            let mut cmd = Command::new(&bin);
            cmd.arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if answers_as(port, child.id()) {
                    return RedisServer { child, port, dir };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    /// A new connection to this server.
    pub fn conn(&self) -> RespConn {
        RespConn::connect(self.port).expect("connect to redis-server")
    }
}

impl RedisServer {
    /// Starts a fresh, persistence-free redis-server on the given port (for restart tests:
    /// the port of a server that was just stopped). Panics if it does not come up.
    #[allow(clippy::disallowed_methods)] // waiting for a real process
    pub fn start_on_port(port: u16) -> RedisServer {
        let dir = std::env::temp_dir().join(format!(
            "sketchstore-redis-{port}-{}-restart",
            std::process::id()
        ));
        let _ = std::fs::create_dir_all(&dir);
        let mut child = Command::new(redis_server_path())
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("redis-server on port {port} exited: {status}");
            }
            if answers_as(port, child.id()) {
                return RedisServer { child, port, dir };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A raw RESP2 connection.
pub struct RespConn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RespConn {
    pub fn connect(port: u16) -> std::io::Result<RespConn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        Ok(RespConn {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends one command.
    pub fn send<A: AsRef<[u8]>>(&mut self, argv: &[A]) {
        let mut out = Vec::new();
        out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
        for a in argv {
            let a = a.as_ref();
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&out).expect("write to redis-server");
    }

    /// Reads one reply.
    pub fn read(&mut self) -> Reply {
        loop {
            match Reply::from_resp(&self.buf).expect("valid RESP from redis-server") {
                Some((reply, used)) => {
                    self.buf.drain(..used);
                    return reply;
                }
                None => {
                    let mut chunk = [0u8; 65536];
                    let n = self
                        .stream
                        .read(&mut chunk)
                        .expect("read from redis-server");
                    assert!(n > 0, "redis-server closed the connection");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }

    /// Sends one command and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, argv: &[A]) -> Reply {
        self.send(argv);
        self.read()
    }
}

/// Splits a command line on spaces, with `''` standing for an empty argument.
pub fn words(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w == "''" {
                Vec::new()
            } else {
                w.as_bytes().to_vec()
            }
        })
        .collect()
}

/// Sorts the elements of an array reply (for replies whose order Redis leaves unspecified,
/// such as KEYS).
pub fn sorted(r: Reply) -> Reply {
    match r {
        Reply::Array(mut items) => {
            items.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            Reply::Array(items)
        }
        other => other,
    }
}

/// Runs each command line on one `Connection` of a fresh store and on `redis`, after
/// `HELLO 3` on both when `resp3`, and asserts every pair of replies is equal. Lines are
/// split with [`words`]; a MULTI among them queues on both sides alike.
pub fn lines_match(redis: &mut RespConn, lines: &[&str], resp3: bool) {
    let store = sketchstore::Store::new();
    let mut conn = store.connection();
    if resp3 {
        let hello = words("HELLO 3");
        conn.execute(&hello);
        redis.cmd(&hello);
    }
    for line in lines {
        let argv = words(line);
        assert_eq!(conn.execute(&argv), redis.cmd(&argv), "command: {line}");
    }
}

/// Runs `argv` on the embedded store and on Redis, asserts the replies are identical (the
/// message shows the first arguments), and returns the reply.
pub fn same(store: &sketchstore::Store, redis: &mut RespConn, argv: &[Vec<u8>]) -> Reply {
    let ours = store.execute(argv);
    let theirs = redis.cmd(argv);
    assert_eq!(
        ours,
        theirs,
        "command: {:?}",
        argv.iter()
            .take(8)
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>()
    );
    ours
}
