//! A sketchstore-server binary started on a free port by a test, and small clients for it.
#![allow(dead_code)]

use super::RespConn;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A sketchstore-server child process, stopped on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    // Waiting for a child process is real time, outside any store's clock.
    #[allow(clippy::disallowed_methods)]
    pub fn start_with(extra: &[&str]) -> Server {
        for attempt in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "sketchstore-server-{port}-{}-{attempt}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let mut child = Command::new(env!("CARGO_BIN_EXE_sketchstore-server"))
                .args(["--port", &port.to_string(), "--save", ""])
                .arg("--dir")
                .arg(&dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn sketchstore-server");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if super::answers_as(port, child.id()) {
                    return Server { child, port, dir };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("sketchstore-server did not start");
    }

    pub fn conn(&self) -> RespConn {
        RespConn::connect(self.port).expect("connect to sketchstore-server")
    }

    pub fn raw(&self) -> TcpStream {
        raw(self.port)
    }

    pub fn redis_cli(&self, args: &[&str], stdin: &[u8]) -> String {
        redis_cli(self.port, args, stdin)
    }

    /// Sends SIGTERM and waits for the exit.
    #[allow(clippy::disallowed_methods)]
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit 15 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn raw(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s
}

pub fn redis_cli(port: u16, args: &[&str], stdin: &[u8]) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("redis-cli is not installed or cannot run: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write to redis-cli");
    let out = child.wait_with_output().expect("redis-cli output");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}
