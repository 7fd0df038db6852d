//! Redis 7.0.15's configuration parameters as data: name, pre-7.0 alias, value type with its
//! bounds, flags and default, and the checks `CONFIG SET` runs on a value before anything
//! changes.
//!
//! The table lists every parameter a redis-server 7.0.15 built with TLS answers to (names,
//! types, bounds and flags as that version declares them; defaults as `CONFIG GET` prints
//! them on a fresh server). It is data only: which parameters the store acts on is decided in
//! `cmd::server`, which reads this table for names, validation and defaults.
//!
//! [`check`] turns a value into the text `CONFIG GET` shows afterwards (Redis's normal form:
//! memory values as bytes, booleans `yes`/`no`, enum names lower case, `save` as pairs) or
//! into Redis's reason for refusing it; the caller wraps the reason in
//! `ERR CONFIG SET failed (possibly related to argument '<name>') - <reason>`. Numbers follow
//! Redis's parser: memory values (`memtoull`: digits and an optional unit, an empty number is
//! 0, an overflow saturates), percentages stored negative, octal, or strict integers, then the
//! bounds check, unsigned for the types Redis checks unsigned.

/// Redis refuses `CONFIG SET` of the parameter at run time.
pub(super) const IMMUTABLE: u8 = 1;
/// Settable only when `enable-protected-configs` allows it, which it never does here (that
/// parameter is immutable and `no`).
pub(super) const PROTECTED: u8 = 2;
/// Not matched by `CONFIG GET` patterns; returned only when asked for by exact name.
pub(super) const HIDDEN: u8 = 4;

/// One parameter.
pub(super) struct Param {
    pub(super) name: &'static str,
    pub(super) alias: Option<&'static str>,
    pub(super) kind: Kind,
    pub(super) flags: u8,
    /// What `CONFIG GET` shows before any `CONFIG SET`.
    pub(super) default: &'static str,
}

/// How a value is parsed, checked and shown.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// `yes` or `no`, any case.
    Bool,
    /// Names with their numeric value (several names may share one; `GET` shows the first).
    /// `true`: several space-separated names whose values are or-ed (bit flags).
    Enum(&'static [(&'static str, u32)], bool),
    Num(Num),
    /// Free text, with an optional check.
    Str(StrCheck),
    /// `save`: pairs of seconds (at least 1) and changes (at least 0), or empty.
    Save,
    /// `client-output-buffer-limit`: groups of class, hard limit, soft limit, soft seconds.
    ObufLimit,
    /// `oom-score-adj-values`: three integers in -2000..=2000.
    OomValues,
    /// `notify-keyspace-events`: class letters.
    Notify,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `replicaof`: immutable here, so never parsed.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: numbers in 0..=100.
    Percentiles,
    /// `dir`: protected, so never parsed.
    Dir,
}

/// A numeric parameter: bounds as Redis declares them and how the value is written.
#[derive(Clone, Copy)]
pub(super) struct Num {
    pub(super) min: i128,
    pub(super) max: i128,
    /// Redis checks the bounds on the value reinterpreted as unsigned (size_t, unsigned int,
    /// unsigned long long parameters).
    pub(super) unsigned: bool,
    pub(super) fmt: NumFmt,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NumFmt {
    /// A strict integer.
    Int,
    /// A memory value (`1gb`), shown in bytes.
    Memory,
    /// A memory value or a percentage (`10%`), the latter kept as a negative number.
    MemoryPercent,
    /// An octal number, shown in octal.
    Octal,
}

#[derive(Clone, Copy)]
pub(super) enum StrCheck {
    Any,
    /// At most 255 characters of letters, digits, `-` and `.`.
    Hostname,
    /// A process title template: known `{variables}` only, not empty once expanded.
    ProcTitle,
}

pub(super) const PARAMS: &[Param] = &[
    Param {
        name: "rdbchecksum",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "yes",
    },
    Param {
        name: "daemonize",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "io-threads-do-reads",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "always-show-logo",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "protected-mode",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "rdbcompression",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "rdb-del-sync-files",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "activerehashing",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "stop-writes-on-bgsave-error",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "set-proc-title",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "yes",
    },
    Param {
        name: "dynamic-hz",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "lazyfree-lazy-eviction",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "lazyfree-lazy-expire",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "lazyfree-lazy-server-del",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "lazyfree-lazy-user-del",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "lazyfree-lazy-user-flush",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "repl-disable-tcp-nodelay",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "repl-diskless-sync",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "aof-rewrite-incremental-fsync",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "no-appendfsync-on-rewrite",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "cluster-require-full-coverage",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "rdb-save-incremental-fsync",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "aof-load-truncated",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "aof-use-rdb-preamble",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "aof-timestamp-enabled",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "cluster-replica-no-failover",
        alias: Some("cluster-slave-no-failover"),
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "replica-lazy-flush",
        alias: Some("slave-lazy-flush"),
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "replica-serve-stale-data",
        alias: Some("slave-serve-stale-data"),
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "replica-read-only",
        alias: Some("slave-read-only"),
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "replica-ignore-maxmemory",
        alias: Some("slave-ignore-maxmemory"),
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "jemalloc-bg-thread",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "activedefrag",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "syslog-enabled",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "cluster-enabled",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "appendonly",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "cluster-allow-reads-when-down",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "cluster-allow-pubsubshard-when-down",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "crash-log-enabled",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "crash-memcheck-enabled",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "use-exit-on-panic",
        alias: None,
        kind: Kind::Bool,
        flags: HIDDEN,
        default: "no",
    },
    Param {
        name: "disable-thp",
        alias: None,
        kind: Kind::Bool,
        flags: IMMUTABLE,
        default: "yes",
    },
    Param {
        name: "cluster-allow-replica-migration",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "replica-announced",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "latency-tracking",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "aof-disable-auto-gc",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "replica-ignore-disk-write-errors",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "aclfile",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "unixsocket",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "pidfile",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "replica-announce-ip",
        alias: Some("slave-announce-ip"),
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "masteruser",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "cluster-announce-ip",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "cluster-config-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "nodes.conf",
    },
    Param {
        name: "cluster-announce-hostname",
        alias: None,
        kind: Kind::Str(StrCheck::Hostname),
        flags: 0,
        default: "",
    },
    Param {
        name: "syslog-ident",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "redis",
    },
    Param {
        name: "dbfilename",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: PROTECTED,
        default: "dump.rdb",
    },
    Param {
        name: "appendfilename",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "appendonly.aof",
    },
    Param {
        name: "appenddirname",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "appendonlydir",
    },
    Param {
        name: "server_cpulist",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "bio_cpulist",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "aof_rewrite_cpulist",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "bgsave_cpulist",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "ignore-warnings",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "proc-title-template",
        alias: None,
        kind: Kind::Str(StrCheck::ProcTitle),
        flags: 0,
        default: "{title} {listen-addr} {server-mode}",
    },
    Param {
        name: "bind-source-addr",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "logfile",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "masterauth",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "requirepass",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "supervised",
        alias: None,
        kind: Kind::Enum(
            &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)],
            false,
        ),
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "syslog-facility",
        alias: None,
        kind: Kind::Enum(
            &[
                ("user", 0),
                ("local0", 1),
                ("local1", 2),
                ("local2", 3),
                ("local3", 4),
                ("local4", 5),
                ("local5", 6),
                ("local6", 7),
                ("local7", 8),
            ],
            false,
        ),
        flags: IMMUTABLE,
        default: "local0",
    },
    Param {
        name: "repl-diskless-load",
        alias: None,
        kind: Kind::Enum(&[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)], false),
        flags: 0,
        default: "disabled",
    },
    Param {
        name: "loglevel",
        alias: None,
        kind: Kind::Enum(
            &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)],
            false,
        ),
        flags: 0,
        default: "notice",
    },
    Param {
        name: "maxmemory-policy",
        alias: None,
        kind: Kind::Enum(
            &[
                ("volatile-lru", 0),
                ("volatile-lfu", 1),
                ("volatile-random", 2),
                ("volatile-ttl", 3),
                ("allkeys-lru", 4),
                ("allkeys-lfu", 5),
                ("allkeys-random", 6),
                ("noeviction", 7),
            ],
            false,
        ),
        flags: 0,
        default: "noeviction",
    },
    Param {
        name: "appendfsync",
        alias: None,
        kind: Kind::Enum(&[("everysec", 0), ("always", 1), ("no", 2)], false),
        flags: 0,
        default: "everysec",
    },
    Param {
        name: "oom-score-adj",
        alias: None,
        kind: Kind::Enum(
            &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)],
            false,
        ),
        flags: 0,
        default: "no",
    },
    Param {
        name: "acl-pubsub-default",
        alias: None,
        kind: Kind::Enum(&[("allchannels", 0), ("resetchannels", 1)], false),
        flags: 0,
        default: "resetchannels",
    },
    Param {
        name: "sanitize-dump-payload",
        alias: None,
        kind: Kind::Enum(&[("no", 0), ("yes", 1), ("clients", 2)], false),
        flags: 0,
        default: "no",
    },
    Param {
        name: "enable-protected-configs",
        alias: None,
        kind: Kind::Enum(&[("no", 0), ("yes", 1), ("local", 2)], false),
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "enable-debug-command",
        alias: None,
        kind: Kind::Enum(&[("no", 0), ("yes", 1), ("local", 2)], false),
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "enable-module-command",
        alias: None,
        kind: Kind::Enum(&[("no", 0), ("yes", 1), ("local", 2)], false),
        flags: IMMUTABLE,
        default: "no",
    },
    Param {
        name: "cluster-preferred-endpoint-type",
        alias: None,
        kind: Kind::Enum(
            &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)],
            false,
        ),
        flags: 0,
        default: "ip",
    },
    Param {
        name: "propagation-error-behavior",
        alias: None,
        kind: Kind::Enum(
            &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)],
            false,
        ),
        flags: 0,
        default: "ignore",
    },
    Param {
        name: "shutdown-on-sigint",
        alias: None,
        kind: Kind::Enum(
            &[
                ("default", 0),
                ("save", 1),
                ("nosave", 2),
                ("now", 4),
                ("force", 8),
            ],
            true,
        ),
        flags: 0,
        default: "default",
    },
    Param {
        name: "shutdown-on-sigterm",
        alias: None,
        kind: Kind::Enum(
            &[
                ("default", 0),
                ("save", 1),
                ("nosave", 2),
                ("now", 4),
                ("force", 8),
            ],
            true,
        ),
        flags: 0,
        default: "default",
    },
    Param {
        name: "databases",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: IMMUTABLE,
        default: "16",
    },
    Param {
        name: "port",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "6379",
    },
    Param {
        name: "io-threads",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 128,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: IMMUTABLE,
        default: "1",
    },
    Param {
        name: "auto-aof-rewrite-percentage",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "100",
    },
    Param {
        name: "cluster-replica-validity-factor",
        alias: Some("cluster-slave-validity-factor"),
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "list-max-listpack-size",
        alias: Some("list-max-ziplist-size"),
        kind: Kind::Num(Num {
            min: -2147483648,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "-2",
    },
    Param {
        name: "tcp-keepalive",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "300",
    },
    Param {
        name: "cluster-migration-barrier",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "1",
    },
    Param {
        name: "active-defrag-cycle-min",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 99,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "1",
    },
    Param {
        name: "active-defrag-cycle-max",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 99,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "25",
    },
    Param {
        name: "active-defrag-threshold-lower",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 1000,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "active-defrag-threshold-upper",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 1000,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "100",
    },
    Param {
        name: "lfu-log-factor",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "lfu-decay-time",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "1",
    },
    Param {
        name: "replica-priority",
        alias: Some("slave-priority"),
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "100",
    },
    Param {
        name: "repl-diskless-sync-delay",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "5",
    },
    Param {
        name: "maxmemory-samples",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "5",
    },
    Param {
        name: "maxmemory-eviction-tenacity",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 100,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "timeout",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "replica-announce-port",
        alias: Some("slave-announce-port"),
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "tcp-backlog",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: IMMUTABLE,
        default: "511",
    },
    Param {
        name: "cluster-port",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: IMMUTABLE,
        default: "0",
    },
    Param {
        name: "cluster-announce-bus-port",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "cluster-announce-port",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "cluster-announce-tls-port",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "repl-timeout",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "60",
    },
    Param {
        name: "repl-ping-replica-period",
        alias: Some("repl-ping-slave-period"),
        kind: Kind::Num(Num {
            min: 1,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "list-compress-depth",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "rdb-key-save-delay",
        alias: None,
        kind: Kind::Num(Num {
            min: -2147483648,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: HIDDEN,
        default: "0",
    },
    Param {
        name: "key-load-delay",
        alias: None,
        kind: Kind::Num(Num {
            min: -2147483648,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: HIDDEN,
        default: "0",
    },
    Param {
        name: "active-expire-effort",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 10,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "1",
    },
    Param {
        name: "hz",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "min-replicas-to-write",
        alias: Some("min-slaves-to-write"),
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "min-replicas-max-lag",
        alias: Some("min-slaves-max-lag"),
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "watchdog-period",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: HIDDEN,
        default: "0",
    },
    Param {
        name: "shutdown-timeout",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10",
    },
    Param {
        name: "repl-diskless-sync-max-replicas",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "maxclients",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 4294967295,
            unsigned: true,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10000",
    },
    Param {
        name: "unixsocketperm",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 511,
            unsigned: true,
            fmt: NumFmt::Octal,
        }),
        flags: IMMUTABLE,
        default: "0",
    },
    Param {
        name: "socket-mark-id",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 4294967295,
            unsigned: true,
            fmt: NumFmt::Int,
        }),
        flags: IMMUTABLE,
        default: "0",
    },
    Param {
        name: "active-defrag-max-scan-fields",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "1000",
    },
    Param {
        name: "slowlog-max-len",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "128",
    },
    Param {
        name: "acllog-max-len",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "128",
    },
    Param {
        name: "busy-reply-threshold",
        alias: Some("lua-time-limit"),
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "5000",
    },
    Param {
        name: "cluster-node-timeout",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "15000",
    },
    Param {
        name: "slowlog-log-slower-than",
        alias: None,
        kind: Kind::Num(Num {
            min: -1,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "10000",
    },
    Param {
        name: "latency-monitor-threshold",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "proto-max-bulk-len",
        alias: None,
        kind: Kind::Num(Num {
            min: 1048576,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "536870912",
    },
    Param {
        name: "stream-node-max-entries",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "100",
    },
    Param {
        name: "repl-backlog-size",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "1048576",
    },
    Param {
        name: "maxmemory",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 18446744073709551615,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "cluster-link-sendbuf-limit",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 18446744073709551615,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "hash-max-listpack-entries",
        alias: Some("hash-max-ziplist-entries"),
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "512",
    },
    Param {
        name: "set-max-intset-entries",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "512",
    },
    Param {
        name: "zset-max-listpack-entries",
        alias: Some("zset-max-ziplist-entries"),
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "128",
    },
    Param {
        name: "active-defrag-ignore-bytes",
        alias: None,
        kind: Kind::Num(Num {
            min: 1,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "104857600",
    },
    Param {
        name: "hash-max-listpack-value",
        alias: Some("hash-max-ziplist-value"),
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "64",
    },
    Param {
        name: "stream-node-max-bytes",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "4096",
    },
    Param {
        name: "zset-max-listpack-value",
        alias: Some("zset-max-ziplist-value"),
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "64",
    },
    Param {
        name: "hll-sparse-max-bytes",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "3000",
    },
    Param {
        name: "tracking-table-max-keys",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "1000000",
    },
    Param {
        name: "client-query-buffer-limit",
        alias: None,
        kind: Kind::Num(Num {
            min: 1048576,
            max: 9223372036854775807,
            unsigned: true,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "1073741824",
    },
    Param {
        name: "maxmemory-clients",
        alias: None,
        kind: Kind::Num(Num {
            min: -100,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::MemoryPercent,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "repl-backlog-ttl",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "3600",
    },
    Param {
        name: "auto-aof-rewrite-min-size",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 9223372036854775807,
            unsigned: false,
            fmt: NumFmt::Memory,
        }),
        flags: 0,
        default: "67108864",
    },
    Param {
        name: "loading-process-events-interval-bytes",
        alias: None,
        kind: Kind::Num(Num {
            min: 1024,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: HIDDEN,
        default: "2097152",
    },
    Param {
        name: "tls-port",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 65535,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "0",
    },
    Param {
        name: "tls-session-cache-size",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "20480",
    },
    Param {
        name: "tls-session-cache-timeout",
        alias: None,
        kind: Kind::Num(Num {
            min: 0,
            max: 2147483647,
            unsigned: false,
            fmt: NumFmt::Int,
        }),
        flags: 0,
        default: "300",
    },
    Param {
        name: "tls-cluster",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "tls-replication",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "tls-auth-clients",
        alias: None,
        kind: Kind::Enum(&[("no", 0), ("yes", 1), ("optional", 2)], false),
        flags: 0,
        default: "yes",
    },
    Param {
        name: "tls-prefer-server-ciphers",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "no",
    },
    Param {
        name: "tls-session-caching",
        alias: None,
        kind: Kind::Bool,
        flags: 0,
        default: "yes",
    },
    Param {
        name: "tls-cert-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-key-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-key-file-pass",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-client-cert-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-client-key-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-client-key-file-pass",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-dh-params-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-ca-cert-file",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-ca-cert-dir",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-protocols",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-ciphers",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "tls-ciphersuites",
        alias: None,
        kind: Kind::Str(StrCheck::Any),
        flags: 0,
        default: "",
    },
    Param {
        name: "dir",
        alias: None,
        kind: Kind::Dir,
        flags: PROTECTED,
        default: "",
    },
    Param {
        name: "save",
        alias: None,
        kind: Kind::Save,
        flags: 0,
        default: "",
    },
    Param {
        name: "client-output-buffer-limit",
        alias: None,
        kind: Kind::ObufLimit,
        flags: 0,
        default: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    },
    Param {
        name: "oom-score-adj-values",
        alias: None,
        kind: Kind::OomValues,
        flags: 0,
        default: "0 200 800",
    },
    Param {
        name: "notify-keyspace-events",
        alias: None,
        kind: Kind::Notify,
        flags: 0,
        default: "",
    },
    Param {
        name: "bind",
        alias: None,
        kind: Kind::Bind,
        flags: 0,
        default: "* -::*",
    },
    Param {
        name: "replicaof",
        alias: Some("slaveof"),
        kind: Kind::ReplicaOf,
        flags: IMMUTABLE,
        default: "",
    },
    Param {
        name: "latency-tracking-info-percentiles",
        alias: None,
        kind: Kind::Percentiles,
        flags: 0,
        default: "50 99 99.9",
    },
];

/// The parameter called `name` or whose alias is `name`, any case, with the spelling that
/// matched (Redis names a refused value by the name or alias it was set through).
pub(super) fn lookup(name: &[u8]) -> Option<(&'static Param, &'static str)> {
    PARAMS.iter().find_map(|p| {
        std::iter::once(p.name)
            .chain(p.alias)
            .find(|n| name.eq_ignore_ascii_case(n.as_bytes()))
            .map(|n| (p, n))
    })
}

/// A checked value: what `CONFIG GET` shows, and the number for numeric parameters (the
/// class flags for `notify-keyspace-events`).
pub(super) struct Checked {
    pub(super) shown: Vec<u8>,
    pub(super) number: i64,
}

/// Checks `value` for `p` against `current` (the value shown now; used by parameters whose
/// `SET` changes only part of the value). The error is Redis's reason text.
pub(super) fn check(p: &Param, value: &[u8], current: &[u8]) -> Result<Checked, String> {
    let plain = |shown: Vec<u8>| Checked { shown, number: 0 };
    // Redis splits multi-argument values on single spaces; an empty value is no argument.
    let words = || split_args(value);
    match p.kind {
        Kind::Bool => {
            if value.eq_ignore_ascii_case(b"yes") {
                Ok(plain(b"yes".to_vec()))
            } else if value.eq_ignore_ascii_case(b"no") {
                Ok(plain(b"no".to_vec()))
            } else {
                Err("argument must be 'yes' or 'no'".into())
            }
        }
        Kind::Enum(names, bits) => check_enum(p.name, names, bits, value).map(plain),
        Kind::Num(n) => {
            let v = parse_number(n, value)?;
            check_bounds(n, v)?;
            Ok(Checked {
                shown: show_number(n, v).into_bytes(),
                number: v,
            })
        }
        Kind::Str(StrCheck::Any) => Ok(plain(value.to_vec())),
        Kind::Str(StrCheck::Hostname) => {
            if value.len() >= 256 {
                return Err("Hostnames must be less than 256 characters".into());
            }
            if !value
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(
                    "Hostnames may only contain alphanumeric characters, hyphens or dots".into(),
                );
            }
            Ok(plain(value.to_vec()))
        }
        Kind::Str(StrCheck::ProcTitle) => {
            if proc_title_ok(value) {
                Ok(plain(value.to_vec()))
            } else {
                Err("template format is invalid or contains unknown variables".into())
            }
        }
        Kind::Save => check_save(&words()).map(plain),
        Kind::ObufLimit => check_obuf(&words(), current).map(plain),
        Kind::OomValues => {
            let w = words();
            if w.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut out = Vec::new();
            for word in w {
                match strtoll(word) {
                    Some(v) if (-2000..=2000).contains(&v) => out.push(v.to_string()),
                    _ => return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .into(),
                    ),
                }
            }
            Ok(plain(out.join(" ").into_bytes()))
        }
        // The number is the class flags (`store::notify`).
        Kind::Notify => crate::store::notify::parse_classes(value)
            .map(|flags| Checked {
                shown: crate::store::notify::classes_text(flags).into_bytes(),
                number: i64::from(flags),
            })
            .ok_or_else(|| crate::store::notify::INVALID_CLASSES.to_owned()),
        Kind::Bind => {
            let w = words();
            if w.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(plain(value.to_vec()))
        }
        Kind::Percentiles => check_percentiles(&words()).map(plain),
        // Immutable and protected: refused before any value is looked at.
        Kind::ReplicaOf | Kind::Dir => Ok(plain(value.to_vec())),
    }
}

/// `sdssplitlen` on one space: empty words kept, an empty value is no word at all.
fn split_args(value: &[u8]) -> Vec<&[u8]> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(|&b| b == b' ').collect()
    }
}

fn enum_error(names: &[(&str, u32)]) -> String {
    let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    )
}

fn check_enum(
    name: &str,
    names: &[(&str, u32)],
    bits: bool,
    value: &[u8],
) -> Result<Vec<u8>, String> {
    let args: Vec<&[u8]> = if bits { split_args(value) } else { vec![value] };
    if args.is_empty() {
        return Err(enum_error(names));
    }
    let mut v = 0u32;
    for arg in &args {
        let hit = names
            .iter()
            .filter(|(n, _)| arg.eq_ignore_ascii_case(n.as_bytes()))
            .fold(None, |acc: Option<u32>, (_, x)| Some(acc.unwrap_or(0) | x));
        match hit {
            Some(x) => v |= x,
            None => return Err(enum_error(names)),
        }
    }
    // shutdown-on-sigint/sigterm: SAVE (1) and NOSAVE (2) exclude each other.
    if name.starts_with("shutdown-on-") && v & 1 != 0 && v & 2 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    // Shown as Redis names a value: the first exact name, else (bit flags) the names whose
    // bits it holds, in table order.
    let mut shown: Vec<&str> = Vec::new();
    let mut left = v;
    for (n, x) in names {
        if *x == v {
            return Ok(n.as_bytes().to_vec());
        }
        if bits && *x != 0 && *x == left & x {
            shown.push(n);
            left &= !x;
        }
    }
    if shown.is_empty() || left != 0 {
        return Ok(b"unknown".to_vec());
    }
    Ok(shown.join(" ").into_bytes())
}

/// `memtoull`: `None` where Redis reports a parse error. An empty number is 0 and an overflow
/// saturates before the unit multiplies (wrapping), as in Redis.
pub(super) fn memtoull(value: &[u8]) -> Option<u64> {
    if value.first() == Some(&b'-') {
        return None;
    }
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = value[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let n = value[..digits].iter().fold(0u64, |acc, &b| {
        acc.checked_mul(10)
            .and_then(|a| a.checked_add(u64::from(b - b'0')))
            .unwrap_or(u64::MAX)
    });
    Some(n.wrapping_mul(mul))
}

/// C's `strtoll` base 10 with the whole string consumed: leading spaces, a sign, digits,
/// saturating on overflow; the empty string is 0.
fn strtoll(s: &[u8]) -> Option<i64> {
    strtoll_radix(s, 10)
}

fn strtoll_radix(s: &[u8], radix: u32) -> Option<i64> {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    if s.is_empty() {
        return Some(0);
    }
    let rest = &s[start..];
    let (neg, digits) = match rest.split_first() {
        Some((b'-', d)) => (true, d),
        Some((b'+', d)) => (false, d),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(|&b| (b as char).is_digit(radix)) {
        return None;
    }
    let mag = digits.iter().fold(0i128, |acc, &b| {
        (acc * i128::from(radix) + i128::from((b as char).to_digit(radix).unwrap_or(0)))
            .min(i128::from(u64::MAX))
    });
    let v = if neg { -mag } else { mag };
    Some(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

fn parse_number(n: Num, value: &[u8]) -> Result<i64, String> {
    if matches!(n.fmt, NumFmt::Memory | NumFmt::MemoryPercent) {
        if let Some(v) = memtoull(value) {
            return Ok(v as i64);
        }
    }
    if n.fmt == NumFmt::MemoryPercent && value.len() > 1 {
        if let Some(digits) = value.strip_suffix(b"%") {
            if let Some(v) = crate::num::parse_i64(digits).filter(|v| *v >= 0) {
                return Ok(-v);
            }
        }
    }
    if n.fmt == NumFmt::Octal {
        // strtoll base 8, rejecting overflow (errno) as Redis does.
        let overflow = value.iter().filter(|b| b.is_ascii_digit()).count() > 21;
        if let Some(v) = strtoll_radix(value, 8).filter(|_| !overflow) {
            if v != i64::MAX && v != i64::MIN {
                return Ok(v);
            }
        }
    }
    if n.fmt == NumFmt::Int {
        if let Some(v) = crate::num::parse_i64(value) {
            return Ok(v);
        }
    }
    Err(match n.fmt {
        NumFmt::MemoryPercent => "argument must be a memory or percent value",
        NumFmt::Memory => "argument must be a memory value",
        NumFmt::Octal => "argument couldn't be parsed as an octal number",
        NumFmt::Int => "argument couldn't be parsed into an integer",
    }
    .into())
}

fn check_bounds(n: Num, v: i64) -> Result<(), String> {
    if n.unsigned {
        let u = i128::from(v as u64);
        if u > n.max || u < n.min {
            return Err(if n.fmt == NumFmt::Octal {
                format!(
                    "argument must be between {:o} and {:o} inclusive",
                    n.min, n.max
                )
            } else {
                format!("argument must be between {} and {} inclusive", n.min, n.max)
            });
        }
    } else if n.fmt == NumFmt::MemoryPercent && v < 0 {
        if i128::from(v) < n.min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -n.min
            ));
        }
    } else if i128::from(v) > n.max || i128::from(v) < n.min {
        return Err(format!(
            "argument must be between {} and {} inclusive",
            n.min, n.max
        ));
    }
    Ok(())
}

fn show_number(n: Num, v: i64) -> String {
    match n.fmt {
        NumFmt::MemoryPercent if v < 0 => format!("{}%", -i128::from(v)),
        NumFmt::Memory | NumFmt::MemoryPercent => (v as u64).to_string(),
        NumFmt::Octal => format!("{v:o}"),
        NumFmt::Int => v.to_string(),
    }
}

fn check_save(words: &[&[u8]]) -> Result<Vec<u8>, String> {
    let words: &[&[u8]] = if words.len() == 1 && words[0].is_empty() {
        &[]
    } else {
        words
    };
    let bad = || "Invalid save parameters".to_owned();
    if words.len() % 2 != 0 {
        return Err(bad());
    }
    let mut out = Vec::new();
    for pair in words.chunks_exact(2) {
        let secs = strtoll(pair[0]).filter(|s| *s >= 1).ok_or_else(bad)?;
        let changes = strtoll(pair[1]).filter(|c| *c >= 0).ok_or_else(bad)?;
        // Redis keeps the changes in an int.
        out.push(format!("{secs} {}", changes as i32));
    }
    Ok(out.join(" ").into_bytes())
}

/// The three classes Redis shows, in its order.
const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

fn check_obuf(words: &[&[u8]], current: &[u8]) -> Result<Vec<u8>, String> {
    if words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    // Start from the value shown now: a SET changes only the classes it names.
    let mut limits: Vec<String> = current
        .split(|&b| b == b' ')
        .collect::<Vec<_>>()
        .chunks_exact(4)
        .map(|c| {
            c[1..]
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    limits.resize(3, "0 0 0".into());
    for group in words.chunks_exact(4) {
        let class = group[0].to_ascii_lowercase();
        let index = match class.as_slice() {
            b"normal" => 0,
            b"slave" | b"replica" => 1,
            b"pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = memtoull(group[1]);
        let soft = memtoull(group[2]);
        // strtoll into an int.
        let secs = strtoll(group[3]).map(|s| s as i32);
        match (hard, soft, secs) {
            (Some(h), Some(s), Some(t)) if t >= 0 => limits[index] = format!("{h} {s} {t}"),
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                )
            }
        }
    }
    Ok(OBUF_CLASSES
        .iter()
        .zip(&limits)
        .map(|(c, l)| format!("{c} {l}"))
        .collect::<Vec<_>>()
        .join(" ")
        .into_bytes())
}

fn check_percentiles(words: &[&[u8]]) -> Result<Vec<u8>, String> {
    let words: &[&[u8]] = if words.len() == 1 && words[0].is_empty() {
        &[]
    } else {
        words
    };
    let mut out = Vec::new();
    for w in words {
        let p = std::str::from_utf8(w)
            .ok()
            .filter(|s| !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_whitespace()))
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|p| !p.is_nan())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        let text = format!("{p:.6}");
        out.push(text.trim_end_matches('0').trim_end_matches('.').to_owned());
    }
    Ok(out.join(" ").into_bytes())
}

/// A process title template expands (with an empty title) to something not blank: `{{` is a
/// literal brace, `{name}` must be one of Redis's variables.
fn proc_title_ok(template: &[u8]) -> bool {
    // Variables and whether they expand to something on a standalone server.
    const VARS: [(&[u8], bool); 7] = [
        (b"title", false),
        (b"listen-addr", true),
        (b"server-mode", false),
        (b"port", true),
        (b"tls-port", true),
        (b"unixsocket", false),
        (b"config-file", false),
    ];
    let mut rest = template;
    let mut visible = false;
    while !rest.is_empty() {
        let Some(open) = rest.iter().position(|&b| b == b'{') else {
            visible |= rest.iter().any(|&b| b != b' ');
            break;
        };
        visible |= rest[..open].iter().any(|&b| b != b' ');
        let after = &rest[open + 1..];
        match after.first() {
            None => return false,
            Some(b'{') => {
                visible = true;
                rest = &after[1..];
            }
            Some(_) => {
                let Some(close) = after.iter().position(|&b| b == b'}') else {
                    return false;
                };
                match VARS.iter().find(|(v, _)| *v == &after[..close]) {
                    Some((_, shows)) => visible |= shows,
                    None => return false,
                }
                rest = &after[close + 1..];
            }
        }
    }
    visible
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(name: &str, value: &str, current: &str) -> Result<String, String> {
        let (p, _) = lookup(name.as_bytes()).expect("a parameter");
        check(p, value.as_bytes(), current.as_bytes())
            .map(|c| String::from_utf8_lossy(&c.shown).into_owned())
    }

    #[test]
    fn memory_values_as_redis_7_0_15_reads_them() {
        // Recorded with CONFIG SET/GET on redis-server 7.0.15.
        assert_eq!(memtoull(b"100"), Some(100));
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1KB"), Some(1024));
        assert_eq!(memtoull(b"10mb"), Some(10 << 20));
        assert_eq!(memtoull(b"2g"), Some(2_000_000_000));
        assert_eq!(memtoull(b"abc"), None);
        assert_eq!(memtoull(b"-1"), None);
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"kb"), Some(0));
        assert_eq!(memtoull(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(
            shown("maxmemory", "99999999999999999999999", "0").as_deref(),
            Ok("18446744073709551615")
        );
        assert_eq!(
            shown("hll-sparse-max-bytes", "99999999999999999999kb", "3000"),
            Err("argument must be between 0 and 9223372036854775807 inclusive".into())
        );
    }

    #[test]
    fn values_are_shown_in_redis_normal_form() {
        assert_eq!(shown("appendonly", "Yes", "no").as_deref(), Ok("yes"));
        assert_eq!(
            shown("loglevel", "NOTICE", "notice").as_deref(),
            Ok("notice")
        );
        assert_eq!(
            shown("oom-score-adj", "relative", "no").as_deref(),
            Ok("yes")
        );
        assert_eq!(
            shown("shutdown-on-sigint", "now save", "default").as_deref(),
            Ok("save now")
        );
        assert_eq!(
            shown("shutdown-on-sigint", "save nosave", "default"),
            Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into())
        );
        assert_eq!(shown("maxmemory-clients", "10%", "0").as_deref(), Ok("10%"));
        assert_eq!(
            shown("maxmemory-clients", "200%", "0"),
            Err("percentage argument must be less or equal to 100".into())
        );
        assert_eq!(
            shown("repl-backlog-size", "1mb", "0").as_deref(),
            Ok("1048576")
        );
        assert_eq!(
            shown("save", "3600 1 300 100", "").as_deref(),
            Ok("3600 1 300 100")
        );
        assert_eq!(shown("save", "", "3600 1").as_deref(), Ok(""));
        assert_eq!(
            shown("save", "100  0", ""),
            Err("Invalid save parameters".into())
        );
        assert_eq!(
            shown("latency-tracking-info-percentiles", "50.000 99 1e1", "").as_deref(),
            Ok("50 99 10")
        );
        let obuf = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";
        assert_eq!(
            shown(
                "client-output-buffer-limit",
                "pubsub 1mb 0 0 replica 1 2 3",
                obuf
            )
            .as_deref(),
            Ok("normal 0 0 0 slave 1 2 3 pubsub 1048576 0 0")
        );
        assert_eq!(
            shown("client-output-buffer-limit", "master 1 1 1", obuf),
            Err("Invalid client class specified in buffer limit configuration.".into())
        );
        assert_eq!(
            shown("oom-score-adj-values", "0 200 800", "").as_deref(),
            Ok("0 200 800")
        );
        assert_eq!(
            shown("proc-title-template", "{title} {port}", "").as_deref(),
            Ok("{title} {port}")
        );
        assert!(shown("proc-title-template", "{title}", "").is_err());
        assert!(shown("proc-title-template", "{nosuch} {port}", "").is_err());
    }

    #[test]
    fn the_table_has_one_entry_per_name() {
        let mut names: Vec<&str> = PARAMS
            .iter()
            .flat_map(|p| std::iter::once(p.name).chain(p.alias))
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
        // Every default passes its own check and is shown unchanged.
        for p in PARAMS
            .iter()
            .filter(|p| !matches!(p.kind, Kind::Dir | Kind::ReplicaOf))
        {
            let c = check(p, p.default.as_bytes(), p.default.as_bytes());
            assert_eq!(
                c.map(|c| c.shown).as_deref(),
                Ok(p.default.as_bytes()),
                "{}",
                p.name
            );
        }
    }
}
