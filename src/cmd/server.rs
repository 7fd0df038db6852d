//! Server commands a client library or a test suite sends: CONFIG, INFO, TIME, COMMAND.
//!
//! CONFIG reads and changes the store's runtime settings (`store::settings`) and its memory
//! limit. Every Redis 7.0.15 parameter is known (`cmd::config_params`: names, checks,
//! defaults); `Act` says which ones the store acts on, and the others are kept as the text
//! `CONFIG GET` shows (a server's `port`, `dir`, `save` are filled in at start). `CONFIG SET`
//! checks every pair (names, then values, then what the store can apply) before changing any. INFO reports Redis's sections with the fields clients read. COMMAND
//! answers from the command table itself, so it lists exactly the commands that exist.

use super::config_params::{self, Checked, Param, HIDDEN, IMMUTABLE, PARAMS, PROTECTED};
use super::{table, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::glob::glob_match;
use crate::reply::Reply;
use crate::store::evict::EvictionPolicy;
use crate::store::notify;
use crate::store::settings::Size;
use crate::store::Db;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// What the store does with a parameter beyond showing it. Parameters not named here are
/// stored and shown (`Stored`): the store keeps the value `CONFIG SET` gave (or the server
/// filled in at start) and `CONFIG GET` returns it.
#[derive(Clone, Copy)]
enum Act {
    Size(Size),
    /// `list-max-listpack-size`: an integer, negative for a size class.
    ListSize,
    MaxMemory,
    Policy,
    /// `notify-keyspace-events`: class letters (`store::notify`).
    Notify,
    /// `port` and `bind`: the server listens where it started; only the current value is
    /// accepted.
    Listen,
    Stored,
}

fn act(name: &str) -> Act {
    match name {
        "maxmemory" => Act::MaxMemory,
        "maxmemory-policy" => Act::Policy,
        "proto-max-bulk-len" => Act::Size(Size::MaxStringBytes),
        "hll-sparse-max-bytes" => Act::Size(Size::HllSparseMaxBytes),
        "hash-max-listpack-entries" => Act::Size(Size::HashMaxListpackEntries),
        "hash-max-listpack-value" => Act::Size(Size::HashMaxListpackValue),
        "set-max-intset-entries" => Act::Size(Size::SetMaxIntsetEntries),
        "zset-max-listpack-entries" => Act::Size(Size::ZsetMaxListpackEntries),
        "zset-max-listpack-value" => Act::Size(Size::ZsetMaxListpackValue),
        "list-max-listpack-size" => Act::ListSize,
        "notify-keyspace-events" => Act::Notify,
        "port" | "bind" => Act::Listen,
        _ => Act::Stored,
    }
}

/// What `CONFIG GET` shows for `p` now.
fn value_of(db: &Db<'_>, p: &Param) -> Vec<u8> {
    let inner = db.inner;
    match act(p.name) {
        Act::Size(s) => inner.settings.size(s).to_string().into_bytes(),
        Act::ListSize => inner
            .settings
            .list_max_listpack_size()
            .to_string()
            .into_bytes(),
        Act::MaxMemory => inner.memory_limit().to_string().into_bytes(),
        Act::Policy => inner
            .eviction_policy()
            .unwrap_or_default()
            .name()
            .as_bytes()
            .to_vec(),
        Act::Notify => notify::classes_text(inner.notify.flags()).into_bytes(),
        Act::Listen | Act::Stored => inner
            .settings
            .text(p.name)
            .unwrap_or_else(|| p.default.as_bytes().to_vec()),
    }
}

fn set_failed(name: &str, why: &str) -> Error {
    Error::other(format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
    ))
}

/// The checks Redis makes when it applies a value, after every value passed its own check:
/// what the store cannot do.
fn check_applicable(db: &Db<'_>, p: &Param, checked: &Checked, current: &[u8]) -> Result<()> {
    let without_memory = || {
        set_failed(
            p.name,
            "this store was built without memory accounting (StoreBuilder::max_memory)",
        )
    };
    match act(p.name) {
        Act::MaxMemory if db.inner.memory.is_none() => Err(without_memory()),
        Act::Policy
            if db.inner.memory.is_none()
                && EvictionPolicy::from_name(&checked.shown)
                    != Some(EvictionPolicy::NoEviction) =>
        {
            Err(without_memory())
        }
        // The listeners stay where the server bound them: a new address is answered as
        // Redis answers one it cannot listen on.
        Act::Listen if checked.shown != current => Err(set_failed(
            p.name,
            if p.name == "port" {
                "Unable to listen on this port. Check server logs."
            } else {
                "Failed to bind to specified addresses."
            },
        )),
        _ => Ok(()),
    }
}

fn apply_value(db: &mut Db<'_>, p: &Param, checked: Checked) {
    let inner = db.inner;
    // Redis keeps memory values unsigned: a saturated one is u64::MAX.
    let number = checked.number as u64;
    match act(p.name) {
        Act::Size(s) => inner
            .settings
            .set_size(s, usize::try_from(number).unwrap_or(usize::MAX)),
        Act::ListSize => inner.settings.set_list_max_listpack_size(checked.number),
        Act::MaxMemory => {
            db.set_max_memory(usize::try_from(number).unwrap_or(usize::MAX));
        }
        Act::Policy => {
            if let Some(policy) = EvictionPolicy::from_name(&checked.shown) {
                inner.set_eviction_policy(policy);
            }
        }
        Act::Notify => inner
            .notify
            .set_flags(u32::try_from(checked.number).unwrap_or_default()),
        Act::Listen | Act::Stored => inner.settings.set_text(p.name, &checked.shown),
    }
}

/// `CONFIG SET` of several pairs, all or nothing, failing as Redis does: first on a name
/// (unknown, immutable, protected, repeated) in argument order, then on the first value its
/// parameter refuses, then on the first value the store cannot apply. Nothing changes until
/// every pair has passed.
fn config_set(db: &mut Db<'_>, pairs: &[(&[u8], &[u8])]) -> Result<()> {
    let mut chosen: Vec<(&'static Param, &'static str, &[u8])> = Vec::with_capacity(pairs.len());
    for &(name, value) in pairs {
        let typed = || String::from_utf8_lossy(name).into_owned();
        let Some((p, spelled)) = config_params::lookup(name) else {
            return Err(Error::other(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                typed()
            )));
        };
        if p.flags & IMMUTABLE != 0 {
            return Err(set_failed(&typed(), "can't set immutable config"));
        }
        if p.flags & PROTECTED != 0 {
            return Err(set_failed(&typed(), "can't set protected config"));
        }
        if chosen.iter().any(|(q, _, _)| std::ptr::eq(*q, p)) {
            return Err(set_failed(&typed(), "duplicate parameter"));
        }
        chosen.push((p, spelled, value));
    }
    let mut checked = Vec::with_capacity(chosen.len());
    for (p, spelled, value) in chosen {
        let current = value_of(db, p);
        let c =
            config_params::check(p, value, &current).map_err(|why| set_failed(spelled, &why))?;
        checked.push((p, c, current));
    }
    for (p, c, current) in &checked {
        check_applicable(db, p, c, current)?;
    }
    for (p, c, _) in checked {
        apply_value(db, p, c);
    }
    Ok(())
}

enum ConfigOp<'a> {
    Get(&'a [&'a [u8]]),
    Set(Vec<(&'a [u8], &'a [u8])>),
    ResetStat,
    Rewrite,
    Help,
}

/// `CONFIG GET parameter [parameter ...] | SET parameter value [parameter value ...] |
/// RESETSTAT | REWRITE | HELP`
pub(crate) struct Config<'a> {
    op: ConfigOp<'a>,
}

fn subcommand_error(word: &[u8], container: &str) -> Error {
    let shown = String::from_utf8_lossy(&word[..word.len().min(128)]).into_owned();
    Error::other(format!(
        "ERR unknown subcommand '{shown}'. Try {container} HELP."
    ))
}

impl<'a> Command<'a> for Config<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let sub = args.required()?;
        let rest = args.rest();
        let is = |w: &str| Args::is(sub, w);
        let op = if is("get") {
            if rest.is_empty() {
                return Err(Error::WrongArity("config|get".into()));
            }
            ConfigOp::Get(rest)
        } else if is("set") {
            if rest.len() < 2 {
                return Err(Error::WrongArity("config|set".into()));
            }
            if rest.len() % 2 != 0 {
                return Err(Error::Syntax);
            }
            ConfigOp::Set(rest.chunks_exact(2).map(|c| (c[0], c[1])).collect())
        } else if is("resetstat") && rest.is_empty() {
            ConfigOp::ResetStat
        } else if is("rewrite") && rest.is_empty() {
            ConfigOp::Rewrite
        } else if is("help") && rest.is_empty() {
            ConfigOp::Help
        } else {
            return Err(subcommand_error(sub, "CONFIG"));
        };
        Ok(Config { op })
    }

    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.op {
            ConfigOp::Get(patterns) => {
                // Shown name and parameter, in the order found: patterns in argument order,
                // parameters in table order (stable from call to call).
                let mut found: Vec<(Vec<u8>, &Param)> = Vec::new();
                let seen = |found: &[(Vec<u8>, &Param)], key: &[u8]| {
                    found.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
                };
                for &pat in patterns {
                    if !pat.iter().any(|b| b"[*?".contains(b)) {
                        // An exact name: hidden parameters too, shown as asked.
                        if !seen(&found, pat) {
                            if let Some((p, _)) = config_params::lookup(pat) {
                                found.push((pat.to_vec(), p));
                            }
                        }
                        continue;
                    }
                    let pat = pat.to_ascii_lowercase();
                    for p in PARAMS.iter().filter(|p| p.flags & HIDDEN == 0) {
                        for shown in std::iter::once(p.name).chain(p.alias) {
                            if !seen(&found, shown.as_bytes()) && glob_match(&pat, shown.as_bytes())
                            {
                                found.push((shown.as_bytes().to_vec(), p));
                            }
                        }
                    }
                }
                Reply::Map(
                    found
                        .into_iter()
                        .map(|(k, p)| (Reply::Bulk(k), Reply::Bulk(value_of(db, p))))
                        .collect(),
                )
            }
            ConfigOp::Set(pairs) => match config_set(db, &pairs) {
                Ok(()) => Reply::ok(),
                Err(e) => Reply::Error(e.to_string()),
            },
            ConfigOp::ResetStat => {
                db.inner
                    .stats
                    .commands_processed
                    .store(0, Ordering::Relaxed);
                db.inner
                    .stats
                    .connections_received
                    .store(0, Ordering::Relaxed);
                Reply::ok()
            }
            ConfigOp::Rewrite => {
                Reply::Error("ERR The server is running without a config file".into())
            }
            ConfigOp::Help => Reply::Array(
                [
                    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GET <pattern>",
                    "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>",
                    "    Set the configuration <directive> to <value>.",
                    "RESETSTAT",
                    "    Reset statistics reported by the INFO command.",
                    "REWRITE",
                    "    Rewrite the configuration file.",
                    "HELP",
                    "    Print this help.",
                ]
                .iter()
                .map(|l| Reply::status(l))
                .collect(),
            ),
        }
    }
}

/// `TIME`: seconds and microseconds of the store's clock.
pub(crate) struct Time;

impl<'a> Command<'a> for Time {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        Ok(Time)
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let us = db.inner.clock.now_us();
        Reply::Array(vec![
            Reply::bulk(us.div_euclid(1_000_000).to_string()),
            Reply::bulk(us.rem_euclid(1_000_000).to_string()),
        ])
    }
}

/// `LASTSAVE`
pub(crate) struct LastSave;

impl<'a> Command<'a> for LastSave {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        Ok(LastSave)
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.inner.stats.last_save_s.load(Ordering::Relaxed))
    }
}

/// The sections INFO prints, in Redis's order; the default set leaves out those marked
/// `false` (they come with `all`, `everything` or by name).
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
];

/// `INFO [section [section ...]]`
pub(crate) struct Info<'a> {
    sections: &'a [&'a [u8]],
}

impl<'a> Command<'a> for Info<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Info {
            sections: args.rest(),
        })
    }

    fn apply(self, db: &mut Db<'_>) -> Reply {
        let wanted = |name: &str, default: bool| {
            (self.sections.is_empty() && default)
                || self.sections.iter().any(|s| {
                    s.eq_ignore_ascii_case(name.as_bytes())
                        || Args::is(s, "all")
                        || Args::is(s, "everything")
                        || (Args::is(s, "default") && default)
                })
        };
        let mut out = String::new();
        for &(section, default) in SECTIONS {
            if !wanted(section, default) {
                continue;
            }
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            let mut title = section.to_owned();
            title[..1].make_ascii_uppercase();
            if section == "cpu" {
                title = "CPU".into();
            }
            let _ = write!(out, "# {title}\r\n");
            info_section(db, section, &mut out);
        }
        Reply::Verbatim("txt", out.into_bytes())
    }
}

fn human(bytes: usize) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

fn info_section(db: &mut Db<'_>, section: &str, out: &mut String) {
    let inner = db.inner;
    let stats = &inner.stats;
    let now_ms = inner.clock.now_ms();
    let mut line = |k: &str, v: &dyn std::fmt::Display| {
        let _ = write!(out, "{k}:{v}\r\n");
    };
    match section {
        "server" => {
            let uptime = (now_ms - stats.started_ms).max(0) / 1000;
            line("redis_version", &crate::REDIS_VERSION);
            line("redis_git_sha1", &"00000000");
            line("redis_git_dirty", &0);
            line("redis_mode", &"standalone");
            line("sketchstore_version", &env!("CARGO_PKG_VERSION"));
            line("os", &std::env::consts::OS);
            line("arch_bits", &(usize::BITS));
            line("process_id", &std::process::id());
            line(
                "tcp_port",
                &String::from_utf8_lossy(&inner.settings.text("port").unwrap_or_default()),
            );
            line("server_time_usec", &inner.clock.now_us());
            line("uptime_in_seconds", &uptime);
            line("uptime_in_days", &(uptime / 86400));
            line("hz", &10);
        }
        "clients" => {
            line(
                "connected_clients",
                &stats.connected_clients.load(Ordering::Relaxed),
            );
            line("blocked_clients", &blocked_clients(db));
        }
        "memory" => {
            let used = db.used_memory();
            let limit = inner.memory_limit();
            line("used_memory", &used);
            line("used_memory_human", &human(used));
            line("maxmemory", &limit);
            line("maxmemory_human", &human(limit));
            line(
                "maxmemory_policy",
                &inner.eviction_policy().unwrap_or_default().name(),
            );
            line("mem_allocator", &"libc");
        }
        "persistence" => {
            line("loading", &0);
            line("rdb_changes_since_last_save", &db.changes_since_save());
            line(
                "rdb_bgsave_in_progress",
                &u8::from(inner.background_save_running()),
            );
            line(
                "rdb_last_save_time",
                &inner.stats.last_save_s.load(Ordering::Relaxed),
            );
            // The periodic saver's last outcome: `err` until a save succeeds again.
            let failed = inner.background_save_failed();
            line("rdb_last_bgsave_status", &if failed { "err" } else { "ok" });
            line("aof_enabled", &0);
            line("aof_rewrite_in_progress", &0);
        }
        "stats" => {
            line(
                "total_connections_received",
                &stats.connections_received.load(Ordering::Relaxed),
            );
            line(
                "total_commands_processed",
                &stats.commands_processed.load(Ordering::Relaxed),
            );
            line("instantaneous_ops_per_sec", &0);
            line("pubsub_channels", &inner.pubsub.channels(None).len());
            line("pubsub_patterns", &inner.pubsub.numpat());
        }
        "replication" => {
            line("role", &"master");
            line("connected_slaves", &0);
            line("master_failover_state", &"no-failover");
            line("master_repl_offset", &0);
            line("repl_backlog_active", &0);
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            line("used_cpu_sys", &format!("{sys:.6}"));
            line("used_cpu_user", &format!("{user:.6}"));
            line("used_cpu_sys_children", &"0.000000");
            line("used_cpu_user_children", &"0.000000");
        }
        "commandstats" => {
            for spec in table().specs.iter() {
                let Some(stats) = super::call_stats(spec) else {
                    continue;
                };
                let calls = stats.calls.load(Ordering::Relaxed);
                if calls == 0 {
                    continue;
                }
                line(
                    &format!("cmdstat_{}", spec.name),
                    &format!(
                        "calls={calls},usec=0,usec_per_call=0.00,rejected_calls={},failed_calls={}",
                        stats.rejected.load(Ordering::Relaxed),
                        stats.failed.load(Ordering::Relaxed)
                    ),
                );
            }
        }
        "keyspace" => {
            for (i, info) in db.keyspace_info().into_iter().enumerate() {
                if info.keys > 0 {
                    line(
                        &format!("db{i}"),
                        &format!(
                            "keys={},expires={},avg_ttl={}",
                            info.keys, info.expires, info.avg_ttl
                        ),
                    );
                }
            }
        }
        _ => {}
    }
}

/// User and system CPU seconds of this process, from `/proc/self/stat` (Linux; zeros
/// elsewhere). Clock ticks are taken as 100 a second, Linux's `USER_HZ`.
fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11), ticks(12))
}

fn blocked_clients(db: &mut Db<'_>) -> usize {
    db.blocked_count()
}

/// `COMMAND [COUNT | INFO [name ...] | DOCS [name ...] | GETKEYS cmd ... | LIST]`
pub(crate) struct CommandCmd<'a> {
    sub: Option<&'a [u8]>,
    rest: &'a [&'a [u8]],
}

/// A row as COMMAND INFO describes it: name, arity, flags, first key, last key, step, ACL
/// categories, tips, key specs, subcommands.
fn command_info(spec: &Spec) -> Reply {
    let mut flags = Vec::new();
    let f = spec.flags;
    if f.has(Flags::WRITE) {
        flags.push("write");
    } else if !f.has(Flags::CONN) && !f.has(Flags::TXN) {
        flags.push("readonly");
    }
    if f.has(Flags::WRITE_DENYOOM) {
        flags.push("denyoom");
    }
    if f.has(Flags::BLOCKING) {
        flags.push("blocking");
    }
    if f.has(Flags::PUBSUB) {
        flags.push("pubsub");
    }
    let (first, last, step) = match spec.keys {
        Keys::Range { first, last, step } => (first as i64, last as i64, step as i64),
        Keys::DestCounted { .. } => (1, 1, 1),
        Keys::Copy => (1, 2, 1),
        Keys::Move => (1, 1, 1),
        Keys::None | Keys::All | Keys::Global | Keys::Counted { .. } => (0, 0, 0),
    };
    Reply::Array(vec![
        Reply::bulk(spec.name),
        Reply::Integer(i64::from(spec.arity)),
        Reply::Set(flags.into_iter().map(Reply::status).collect()),
        Reply::Integer(first),
        Reply::Integer(last),
        Reply::Integer(step),
        Reply::Set(Vec::new()),
        Reply::Set(Vec::new()),
        Reply::Array(Vec::new()),
        Reply::Array(Vec::new()),
    ])
}

impl<'a> Command<'a> for CommandCmd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let sub = args.next();
        let rest = args.rest();
        if let Some(s) = sub {
            let known = ["count", "info", "docs", "getkeys", "list", "help"];
            if !known.iter().any(|k| Args::is(s, k)) {
                return Err(subcommand_error(s, "COMMAND"));
            }
            if Args::is(s, "getkeys") && rest.len() < 2 {
                return Err(Error::WrongArity("command|getkeys".into()));
            }
            if Args::is(s, "count") && !rest.is_empty() {
                return Err(Error::WrongArity("command|count".into()));
            }
        }
        Ok(CommandCmd { sub, rest })
    }

    fn apply(self, _: &mut Db<'_>) -> Reply {
        let specs = &table().specs;
        let Some(sub) = self.sub else {
            return Reply::Array(specs.iter().map(command_info).collect());
        };
        let is = |w: &str| Args::is(sub, w);
        if is("count") {
            Reply::from(specs.len())
        } else if is("list") {
            Reply::Array(specs.iter().map(|s| Reply::bulk(s.name)).collect())
        } else if is("info") {
            if self.rest.is_empty() {
                return Reply::Array(specs.iter().map(command_info).collect());
            }
            Reply::Array(
                self.rest
                    .iter()
                    .map(|n| super::lookup(n).map_or(Reply::NilArray, command_info))
                    .collect(),
            )
        } else if is("docs") {
            let names: Vec<&'static Spec> = if self.rest.is_empty() {
                specs.iter().collect()
            } else {
                self.rest.iter().filter_map(|n| super::lookup(n)).collect()
            };
            Reply::Map(
                names
                    .into_iter()
                    .map(|s| (Reply::bulk(s.name), Reply::Map(Vec::new())))
                    .collect(),
            )
        } else if is("getkeys") {
            let argv = self.rest;
            let spec = match super::check(argv) {
                Ok(s) => s,
                Err(crate::Error::WrongArity(_)) => {
                    return Reply::Error(
                        "ERR Invalid number of arguments specified for command".into(),
                    )
                }
                Err(_) => return Reply::Error("ERR Invalid command specified".into()),
            };
            let keys = match spec.name {
                "sort" | "sort_ro" => sort_keys(spec.name, argv),
                _ => spec.keys.of(argv).to_vec(),
            };
            if keys.is_empty() {
                return Reply::Error("ERR The command has no key arguments".into());
            }
            Reply::Array(keys.iter().map(Reply::bulk).collect())
        } else {
            Reply::Array(
                [
                    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "(no subcommand)",
                    "    Return details about all Redis commands.",
                    "COUNT",
                    "    Return the total number of commands in this Redis server.",
                    "LIST",
                    "    Return a list of all commands in this Redis server.",
                    "INFO [<command-name> ...]",
                    "    Return details about multiple Redis commands.",
                    "DOCS [<command-name> ...]",
                    "    Return documentation details about multiple Redis commands.",
                    "GETKEYS <full-command>",
                    "    Return the keys from a full Redis command.",
                    "HELP",
                    "    Print this help.",
                ]
                .iter()
                .map(|l| Reply::status(l))
                .collect(),
            )
        }
    }
}

/// `FUNCTION FLUSH [ASYNC|SYNC] | LIST | ...` and `SCRIPT FLUSH [ASYNC|SYNC] | EXISTS ...`:
/// the store runs no scripts, so there is never anything to list or flush; test suites and
/// clients that clean up before they start get Redis's answers for an empty library.
pub(crate) struct Scripting<'a, const FUNCTION: bool> {
    sub: &'a [u8],
    rest: &'a [&'a [u8]],
}

impl<'a, const FUNCTION: bool> Command<'a> for Scripting<'a, FUNCTION> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let sub = args.required()?;
        let rest = args.rest();
        let container = if FUNCTION { "FUNCTION" } else { "SCRIPT" };
        let flush_mode = |r: &[&[u8]]| {
            r.is_empty() || (r.len() == 1 && (Args::is(r[0], "async") || Args::is(r[0], "sync")))
        };
        let known = if Args::is(sub, "flush") {
            flush_mode(rest)
        } else if FUNCTION {
            Args::is(sub, "list") || Args::is(sub, "stats") && rest.is_empty()
        } else {
            Args::is(sub, "exists") && !rest.is_empty()
        };
        if !known {
            return Err(subcommand_error(sub, container));
        }
        Ok(Scripting { sub, rest })
    }

    fn apply(self, _: &mut Db<'_>) -> Reply {
        let is = |w: &str| Args::is(self.sub, w);
        if is("flush") {
            Reply::ok()
        } else if is("list") {
            Reply::Array(Vec::new())
        } else if is("stats") {
            Reply::Map(vec![
                (Reply::bulk("running_script"), Reply::Nil),
                (Reply::bulk("engines"), Reply::Map(Vec::new())),
            ])
        } else {
            Reply::Array(self.rest.iter().map(|_| Reply::Integer(0)).collect())
        }
    }
}

/// `MEMORY USAGE key [SAMPLES count] | PURGE | HELP`: the store's estimate of the bytes a
/// key and its value take (the same estimate eviction accounts with), nil for a missing key.
pub(crate) struct Memory<'a> {
    key: Option<&'a [u8]>,
}

impl<'a> Command<'a> for Memory<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let sub = args.required()?;
        let rest = args.rest();
        if Args::is(sub, "usage") {
            let Some((&key, opts)) = rest.split_first() else {
                return Err(Error::WrongArity("memory|usage".into()));
            };
            match opts {
                [] => {}
                [w, n] if Args::is(w, "samples") => {
                    crate::num::parse_i64(n).ok_or(Error::NotInteger)?;
                }
                _ => return Err(Error::Syntax),
            }
            Ok(Memory { key: Some(key) })
        } else if (Args::is(sub, "purge") || Args::is(sub, "help")) && rest.is_empty() {
            Ok(Memory { key: None })
        } else {
            Err(subcommand_error(sub, "MEMORY"))
        }
    }

    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.key {
            Some(key) => match db.memory_usage(key) {
                Some(n) => Reply::Integer(n as i64),
                None => Reply::Nil,
            },
            None => Reply::ok(),
        }
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    t.extend([
        Spec {
            name: "config",
            arity: -2,
            flags: Flags::ADMIN,
            keys: Keys::None,
            run: cmd!(Config),
            block: None,
        },
        Spec {
            name: "info",
            arity: -1,
            flags: Flags::NONE,
            keys: Keys::Global,
            run: cmd!(Info),
            block: None,
        },
        Spec {
            name: "memory",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::Range {
                first: 2,
                last: 2,
                step: 1,
            },
            run: cmd!(Memory),
            block: None,
        },
        Spec {
            name: "lastsave",
            arity: 1,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(LastSave),
            block: None,
        },
        Spec {
            name: "time",
            arity: 1,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Time),
            block: None,
        },
        Spec {
            name: "function",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Scripting<true>),
            block: None,
        },
        Spec {
            name: "script",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Scripting<false>),
            block: None,
        },
        Spec {
            name: "command",
            arity: -1,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(CommandCmd),
            block: None,
        },
    ]);
}

/// The keys of a SORT or SORT_RO call as Redis's COMMAND GETKEYS extracts them: the sorted
/// key, then (SORT only) the argument after the last `STORE`, options' arguments skipped
/// (`LIMIT` two, `GET` and `BY` one). SORT locks every shard, so its spec names no keys.
fn sort_keys<'a>(name: &str, argv: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut keys: Vec<&[u8]> = argv.get(1).copied().into_iter().collect();
    if name != "sort" {
        return keys;
    }
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let arg = argv[i];
        if arg.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            store = Some(argv[i + 1]);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}
