//! The server's configuration: redis-server's command-line flags and redis.conf syntax, for
//! the options sketchstore-server honours.
//!
//! # Design
//!
//! As with redis-server, an optional first argument that does not start with `--` names a
//! configuration file; the flags that follow override it (`sketchstore-server redis.conf
//! --port 7000`). A file line and a flag are the same thing: a name and its arguments
//! (`port 7000` and `--port 7000`), split as Redis splits lines, so quoting works alike in
//! both. A later setting wins, except `save`, whose rules accumulate as in Redis (and
//! `save ""` clears them). Unknown names and bad values are errors naming the line or
//! flag, never silently ignored.
//!
//! Memory sizes take Redis's units: `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`,
//! case-insensitive.
//!
//! # References
//!
//! Redis 7.0 `src/config.c` (`loadServerConfigFromString`, `memtoll` in `src/util.c`),
//! `src/server.c` (`main`: how flags become config lines), `redis.conf`.

use super::resp::split_args;
use crate::EvictionPolicy;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Redis's log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Much, including each client that connects.
    Verbose,
    /// Start, stop and problems (the default).
    #[default]
    Notice,
    /// Problems only.
    Warning,
    /// Nothing.
    Nothing,
}

/// A parsed server configuration. [`Default`] is redis-server's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// TCP port (`port`, 6379).
    pub port: u16,
    /// Addresses to listen on (`bind`, 127.0.0.1).
    pub bind: Vec<String>,
    /// The password `AUTH` expects (`requirepass`); none by default.
    pub requirepass: Option<Vec<u8>>,
    /// The most simultaneous clients (`maxclients`, 10000).
    pub maxclients: usize,
    /// Number of databases (`databases`, 16).
    pub databases: usize,
    /// Threads serving clients (`io-threads`, 1). With one, as in Redis, every client is
    /// served by one thread and commands from different clients run in the order their
    /// bytes arrived; with more, clients are spread over that many threads.
    pub io_threads: usize,
    /// Memory limit in bytes, 0 for none (`maxmemory`).
    pub maxmemory: usize,
    /// What to do at the memory limit (`maxmemory-policy`, noeviction).
    pub maxmemory_policy: EvictionPolicy,
    /// Working directory for the snapshot (`dir`, the current directory).
    pub dir: PathBuf,
    /// Snapshot file name (`dbfilename`, dump.rdb).
    pub dbfilename: String,
    /// Snapshot rules, (seconds, changes) pairs (`save`); empty disables saving.
    pub save: Vec<(u64, u64)>,
    /// How much to log (`loglevel`, notice).
    pub loglevel: LogLevel,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: 6379,
            bind: vec!["127.0.0.1".to_string()],
            requirepass: None,
            maxclients: 10000,
            databases: 16,
            io_threads: 1,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            dir: PathBuf::from("."),
            dbfilename: "dump.rdb".to_string(),
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            loglevel: LogLevel::Notice,
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: `line N of PATH` or `argument --name`.
    pub location: String,
    /// The offending setting as written.
    pub setting: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad configuration at {}: '{}': {}",
            self.location, self.setting, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

impl ServerConfig {
    /// Parses the arguments after the program name: an optional config file path first,
    /// then `--name value...` flags.
    pub fn from_args<I, S>(args: I) -> Result<ServerConfig, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        let mut config = ServerConfig::default();
        let mut rest = &args[..];
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                let text = std::fs::read(first).map_err(|e| ConfigError {
                    location: format!("file {first}"),
                    setting: first.clone(),
                    reason: format!("cannot read it: {e}"),
                })?;
                config.apply_file(&text, first)?;
                rest = &rest[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let flag = &rest[i];
            let Some(name) = flag.strip_prefix("--").filter(|n| !n.is_empty()) else {
                return Err(ConfigError {
                    location: format!("argument {}", i + 1),
                    setting: flag.clone(),
                    reason: "expected an option --name followed by its values".to_string(),
                });
            };
            let mut values = Vec::new();
            i += 1;
            while i < rest.len() && !rest[i].starts_with("--") {
                values.push(rest[i].as_bytes().to_vec());
                i += 1;
            }
            let setting = std::iter::once(flag.clone())
                .chain(
                    values
                        .iter()
                        .map(|v| String::from_utf8_lossy(v).into_owned()),
                )
                .collect::<Vec<_>>()
                .join(" ");
            config.set(name, &values).map_err(|reason| ConfigError {
                location: format!("argument --{name}"),
                setting,
                reason,
            })?;
        }
        Ok(config)
    }

    /// Applies the lines of a redis.conf-style file (`name value...`, `#` comments).
    pub fn apply_file(&mut self, text: &[u8], path: &str) -> Result<(), ConfigError> {
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() || trimmed.starts_with(b"#") {
                continue;
            }
            let err = |reason: String| ConfigError {
                location: format!("line {} of {path}", n + 1),
                setting: String::from_utf8_lossy(trimmed).into_owned(),
                reason,
            };
            let words = split_args(trimmed).ok_or_else(|| err("unbalanced quotes".into()))?;
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            let name = String::from_utf8_lossy(name).into_owned();
            self.set(&name, values).map_err(err)?;
        }
        Ok(())
    }

    /// Sets one option from its arguments.
    pub fn set(&mut self, name: &str, values: &[Vec<u8>]) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        if name == "save" {
            return self.set_save(values);
        }
        if name == "bind" {
            if values.is_empty() {
                return Err("wrong number of arguments".into());
            }
            self.bind = values
                .iter()
                .map(|v| text(v).map(|s| s.trim_start_matches('-').to_string()))
                .collect::<Result<_, _>>()?;
            return Ok(());
        }
        let [value] = values else {
            return Err("wrong number of arguments".into());
        };
        match name.as_str() {
            "port" => {
                self.port = number(value)?
                    .try_into()
                    .map_err(|_| "argument must be between 0 and 65535 inclusive".to_string())?
            }
            "requirepass" => {
                self.requirepass = (!value.is_empty()).then(|| value.clone());
            }
            "maxclients" => {
                self.maxclients = positive(number(value)?)?;
            }
            "databases" => {
                self.databases = positive(number(value)?)?;
            }
            "io-threads" => {
                let n = number(value)?;
                if !(1..=128).contains(&n) {
                    return Err("argument must be between 1 and 128 inclusive".into());
                }
                self.io_threads = n as usize;
            }
            "maxmemory" => {
                self.maxmemory = usize::try_from(memory(value)?)
                    .map_err(|_| "memory size too large for this machine".to_string())?
            }
            "maxmemory-policy" => self.maxmemory_policy = policy(value)?,
            "dir" => self.dir = PathBuf::from(text(value)?),
            "dbfilename" => {
                let name = text(value)?;
                if name.contains('/') {
                    return Err("dbfilename can't be a path, just a filename".into());
                }
                self.dbfilename = name.to_string();
            }
            "loglevel" => {
                self.loglevel = match text(value)?.to_ascii_lowercase().as_str() {
                    "debug" => LogLevel::Debug,
                    "verbose" => LogLevel::Verbose,
                    "notice" => LogLevel::Notice,
                    "warning" => LogLevel::Warning,
                    "nothing" => LogLevel::Nothing,
                    _ => return Err("argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into()),
                }
            }
            _ => return Err("Bad directive or wrong number of arguments".into()),
        }
        Ok(())
    }

    fn set_save(&mut self, values: &[Vec<u8>]) -> Result<(), String> {
        if values.len() == 1 && values.first().is_some_and(|v| v.is_empty()) {
            self.save.clear();
            return Ok(());
        }
        // A single value holding the pairs (`--save "3600 1 300 100"`) or the pairs as
        // separate arguments.
        let words: Vec<Vec<u8>> = if values.len() == 1 {
            values
                .iter()
                .flat_map(|v| v.split(|b| b.is_ascii_whitespace()))
                .filter(|w| !w.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        } else {
            values.to_vec()
        };
        if words.is_empty() || words.len() % 2 != 0 {
            return Err("save needs pairs of seconds and changes".into());
        }
        let mut rules = Vec::with_capacity(words.len() / 2);
        for pair in words.chunks(2) {
            let [secs, changes] = pair else {
                return Err("save needs pairs of seconds and changes".into());
            };
            let secs = u64::try_from(number(secs)?).map_err(|_| "Invalid save parameters")?;
            let changes = u64::try_from(number(changes)?).map_err(|_| "Invalid save parameters")?;
            rules.push((secs, changes));
        }
        // Rules from the defaults are replaced by the first explicit `save`, later ones add.
        if self.save == ServerConfig::default().save {
            self.save.clear();
        }
        self.save.extend(rules);
        Ok(())
    }

    /// How often the store saves its snapshot: the shortest `save` interval, if any. The
    /// embedded store saves periodically rather than after a count of changes.
    pub fn save_period(&self) -> Option<Duration> {
        self.save
            .iter()
            .map(|&(secs, _)| secs)
            .filter(|&s| s > 0)
            .min()
            .map(Duration::from_secs)
    }

    /// The snapshot path, `dir/dbfilename`.
    pub fn snapshot_path(&self) -> PathBuf {
        self.dir.join(&self.dbfilename)
    }
}

fn text(v: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(v).map_err(|_| "argument is not valid UTF-8".to_string())
}

fn number(v: &[u8]) -> Result<i64, String> {
    text(v)?
        .parse::<i64>()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())
}

fn positive(n: i64) -> Result<usize, String> {
    usize::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| "argument must be 1 or greater".to_string())
}

/// Redis's `memtoll`: a number with an optional unit.
pub fn memory(v: &[u8]) -> Result<u64, String> {
    let s = text(v)?.to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err("argument must be a memory value".into()),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| "argument must be a memory value".to_string())
}

fn policy(v: &[u8]) -> Result<EvictionPolicy, String> {
    Ok(match text(v)?.to_ascii_lowercase().as_str() {
        "noeviction" => EvictionPolicy::NoEviction,
        "allkeys-lru" => EvictionPolicy::AllKeysLru,
        "volatile-lru" => EvictionPolicy::VolatileLru,
        "allkeys-random" => EvictionPolicy::AllKeysRandom,
        "volatile-random" => EvictionPolicy::VolatileRandom,
        "volatile-ttl" => EvictionPolicy::VolatileTtl,
        "allkeys-lfu" | "volatile-lfu" => {
            return Err("LFU policies are not supported; use an LRU, random or ttl policy".into())
        }
        _ => return Err("argument(s) must be one of the following: volatile-lru, allkeys-lru, volatile-random, allkeys-random, volatile-ttl, noeviction".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = ServerConfig::from_args(Vec::<String>::new()).unwrap();
        assert_eq!(c, ServerConfig::default());
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, vec!["127.0.0.1"]);
        assert_eq!(c.maxclients, 10000);
        assert_eq!(c.databases, 16);
        assert_eq!(c.snapshot_path(), PathBuf::from("./dump.rdb"));
        assert_eq!(c.save_period(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn flags() {
        let c = ServerConfig::from_args([
            "--port",
            "7000",
            "--bind",
            "0.0.0.0",
            "::1",
            "--requirepass",
            "secret",
            "--maxclients",
            "5",
            "--databases",
            "1",
            "--maxmemory",
            "100mb",
            "--maxmemory-policy",
            "allkeys-lru",
            "--dir",
            "/tmp",
            "--dbfilename",
            "x.snap",
            "--save",
            "900 1 300 10",
            "--loglevel",
            "warning",
        ])
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, vec!["0.0.0.0", "::1"]);
        assert_eq!(c.requirepass.as_deref(), Some(&b"secret"[..]));
        assert_eq!(c.maxclients, 5);
        assert_eq!(c.databases, 1);
        assert_eq!(c.maxmemory, 100 * 1024 * 1024);
        assert_eq!(c.maxmemory_policy, EvictionPolicy::AllKeysLru);
        assert_eq!(c.snapshot_path(), PathBuf::from("/tmp/x.snap"));
        assert_eq!(c.save, vec![(900, 1), (300, 10)]);
        assert_eq!(c.save_period(), Some(Duration::from_secs(300)));
        assert_eq!(c.loglevel, LogLevel::Warning);
    }

    #[test]
    fn save_empty_disables() {
        let c = ServerConfig::from_args(["--save", ""]).unwrap();
        assert!(c.save.is_empty());
        assert_eq!(c.save_period(), None);
    }

    #[test]
    fn memory_units() {
        for (v, want) in [
            ("0", 0),
            ("100", 100),
            ("1b", 1),
            ("1k", 1000),
            ("1kb", 1024),
            ("2m", 2_000_000),
            ("1mb", 1 << 20),
            ("1g", 1_000_000_000),
            ("1GB", 1 << 30),
        ] {
            assert_eq!(memory(v.as_bytes()), Ok(want), "{v}");
        }
        for bad in ["", "x", "1tb", "-1", "1 mb", "99999999999999999999gb"] {
            assert!(memory(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_then_flags() {
        let dir = std::env::temp_dir().join(format!("sketchstore-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("redis.conf");
        std::fs::write(
            &path,
            "# comment\n\nport 7001\nrequirepass \"a b\"\nmaxmemory 1gb\r\nsave 60 1\nsave 10 5\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let c = ServerConfig::from_args([p, "--port", "7002"]).unwrap();
        assert_eq!(c.port, 7002);
        assert_eq!(c.requirepass.as_deref(), Some(&b"a b"[..]));
        assert_eq!(c.maxmemory, 1 << 30);
        assert_eq!(c.save, vec![(60, 1), (10, 5)]);

        std::fs::write(&path, "port 7001\nport abc\n").unwrap();
        let e = ServerConfig::from_args([p]).unwrap_err();
        assert_eq!(e.location, format!("line 2 of {p}"));
        assert_eq!(e.setting, "port abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_setting() {
        let e = ServerConfig::from_args(["--port", "70000"]).unwrap_err();
        assert_eq!(e.location, "argument --port");
        assert!(e.to_string().contains("'--port 70000'"), "{e}");
        assert!(ServerConfig::from_args(["--nosuch", "1"]).is_err());
        assert!(ServerConfig::from_args(["--port"]).is_err());
        assert!(ServerConfig::from_args(["--maxclients", "0"]).is_err());
        assert!(ServerConfig::from_args(["--maxmemory-policy", "lru"]).is_err());
        assert!(ServerConfig::from_args(["--save", "60"]).is_err());
        assert!(ServerConfig::from_args(["--dbfilename", "a/b"]).is_err());
        assert!(ServerConfig::from_args(["/nonexistent/redis.conf"]).is_err());
        assert!(ServerConfig::from_args(["--port", "1", "stray"]).is_err());
    }
}
