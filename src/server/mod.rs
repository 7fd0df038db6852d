//! `sketchstore-server`: the embedded store behind a TCP socket, speaking Redis's protocol,
//! so redis-cli, redis-benchmark, client libraries and Redis's own test suite can talk to it.
//!
//! # Design
//!
//! A tokio runtime accepts connections on every `bind` address; each client is one task
//! that reads into its query buffer ([`resp::RequestParser`]), runs every complete command
//! in order and writes the replies of everything it parsed in one write, so pipelined
//! requests cost one read and one write per batch. Replies are written in request order
//! because a client's commands run one after another in its task.
//!
//! By default (`io-threads 1`) the runtime is a current-thread one: every client task runs
//! on one thread, as Redis's event loop does, so commands of different clients that arrive
//! together are taken in about the order their bytes arrived (not a guarantee: a stress test
//! saw one exception in thousands of rounds; with several threads they came out of order
//! within a few rounds), and no request pays for waking another thread. A command that cannot block runs straight from the read loop; only a
//! blocking pop goes through the `select!` that keeps reading while it waits.
//!
//! Limits are Redis's: `maxclients` refuses a connection with
//! `-ERR max number of clients reached` before reading anything; a protocol error is
//! replied and the connection closed; more than 1 GB of unparsed input closes the
//! connection. A client's output is flushed whenever it passes 64 KB, so a long pipeline
//! of large replies does not accumulate in memory.
//!
//! SIGTERM, SIGINT and the `SHUTDOWN` command stop the accept loop; each client finishes
//! the command it is running, sends what it owes and is closed; then, if `save` rules are
//! configured (or `SHUTDOWN SAVE` asked), the store is saved to `dir/dbfilename`, and the
//! process exits with status 0.
//!
//! Per-connection semantics (MULTI, SUBSCRIBE, SELECT, HELLO) belong to the command
//! layer's connection object; the server reaches them only through `glue.rs`.
//!
//! # References
//!
//! Redis 7.0 `src/networking.c` (`acceptCommonHandler`, `readQueryFromClient`,
//! `processInputBuffer`), `src/server.c` (`prepareForShutdown`).

pub mod config;
mod glue;
pub mod resp;

pub use config::{ConfigError, LogLevel, ServerConfig};

use crate::{Store, StoreBuilder};
use glue::Session;
use resp::{Limits, RequestParser, PROTO_IOBUF_LEN};
use smallvec::SmallVec;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Replies are sent once this much output is pending, even mid-batch.
const OUTPUT_FLUSH_BYTES: usize = 64 * 1024;
/// The largest single read while a command runs (a client's pipelined input).
const READ_CHUNK: usize = 4 * PROTO_IOBUF_LEN;
/// How long shutdown waits for clients still running a command (a blocking pop).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Whether to save the store when the server stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOnExit {
    /// When `save` rules are configured (a signal, or `SHUTDOWN` without options).
    IfConfigured,
    /// Always (`SHUTDOWN SAVE`).
    Yes,
    /// Never (`SHUTDOWN NOSAVE`).
    No,
}

/// Runs the server binary: parses `args` (without the program name), serves until SIGTERM
/// or SIGINT, and returns the process's exit status.
pub fn main<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let config = match ServerConfig::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sketchstore-server: {e}");
            return ExitCode::from(1);
        }
    };
    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sketchstore-server: {e}");
            ExitCode::from(1)
        }
    }
}

/// Opens the store the configuration describes, serves it until SIGTERM or SIGINT, then
/// saves it if `save` rules are set.
pub fn run(mut config: ServerConfig) -> io::Result<()> {
    adjust_open_files_limit(&mut config);
    let store = open_store(&config)?;
    // One thread serves every client unless `io-threads` asks for more, as Redis's event
    // loop does (see the module docs for what that does to the order of clients'
    // commands), and no request pays for handing work between threads.
    let runtime = if config.io_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.io_threads)
            .enable_all()
            .build()?
    };
    let save = runtime.block_on(async {
        tokio::spawn(active_expiry(store.clone()));
        let listeners = bind(&config).await?;
        serve(listeners, store.clone(), &config, shutdown_signal()).await
    })?;
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    let save = match save {
        SaveOnExit::IfConfigured => !config.save.is_empty(),
        SaveOnExit::Yes => true,
        SaveOnExit::No => false,
    };
    if save {
        let path = config.snapshot_path();
        store
            .save(&path)
            .map_err(|e| io::Error::other(format!("saving {}: {e}", path.display())))?;
        log(&config, LogLevel::Notice, "DB saved on disk");
    }
    log(
        &config,
        LogLevel::Notice,
        "sketchstore is now ready to exit, bye bye...",
    );
    Ok(())
}

/// Descriptors kept beyond one per client (listeners, the snapshot file, logging), as
/// Redis's `CONFIG_MIN_RESERVED_FDS`.
const RESERVED_FDS: u64 = 32;

/// Raises the soft `RLIMIT_NOFILE` toward `maxclients + 32`, as Redis's
/// `adjustOpenFilesLimit`: the wanted value, or the highest the hard limit allows, stepping
/// down by 16 while the kernel refuses. When the limit stays below what `maxclients` needs,
/// `maxclients` is lowered to fit and a warning is logged.
#[cfg(unix)]
fn adjust_open_files_limit(config: &mut ServerConfig) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let wanted = (config.maxclients as u64).saturating_add(RESERVED_FDS);
    let old = getrlimit(Resource::Nofile);
    // `None` is RLIM_INFINITY.
    let current = old.current.unwrap_or(u64::MAX);
    if current >= wanted {
        return;
    }
    let mut best = old.maximum.map_or(wanted, |hard| wanted.min(hard));
    let mut error = None;
    while best > current {
        match setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(best),
                maximum: old.maximum,
            },
        ) {
            Ok(()) => break,
            Err(e) => {
                error = Some(e);
                best = best.saturating_sub(16).max(current);
            }
        }
    }
    let best = best.max(current);
    if best >= wanted {
        log(
            config,
            LogLevel::Notice,
            &format!(
                "Increased maximum number of open files to {best} (it was originally set to {current})."
            ),
        );
        return;
    }
    let reason = error.map_or_else(
        || format!("the hard limit is {best}"),
        |e| format!("OS error: {e}"),
    );
    log(
        config,
        LogLevel::Warning,
        &format!("Server can't set maximum open files to {wanted} because of {reason}."),
    );
    let fit = usize::try_from(best.saturating_sub(RESERVED_FDS))
        .unwrap_or(usize::MAX)
        .max(1);
    if fit < config.maxclients {
        log(
            config,
            LogLevel::Warning,
            &format!(
                "Current maximum open files is {best}. maxclients has been reduced to {fit} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
            ),
        );
        config.maxclients = fit;
    }
}

#[cfg(not(unix))]
fn adjust_open_files_limit(_config: &mut ServerConfig) {}

/// Redis's active expiry from its cron (`hz 10`): keys nobody reads again are removed, and
/// their `expired` events published, within about a tenth of a second of their time.
async fn active_expiry(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tick.tick().await;
        store.sweep_expired(ACTIVE_EXPIRY_BUDGET);
    }
}

/// Keys one active-expiry pass removes per shard at most (Redis's cycle looks at 20 keys
/// per database per loop).
const ACTIVE_EXPIRY_BUDGET: usize = 20;

fn open_store(config: &ServerConfig) -> io::Result<Store> {
    // Built to accept a memory limit later (CONFIG SET maxmemory); memory is counted only
    // once one is set (see `store::evict`).
    let mut builder: StoreBuilder = Store::builder()
        .max_memory(config.maxmemory)
        .eviction_policy(config.maxmemory_policy)
        .databases(config.databases);
    if let Some(period) = config.save_period() {
        builder = builder.save_every(period);
    }
    let path = config.snapshot_path();
    let store = builder
        .open(&path)
        .map_err(|e| io::Error::other(format!("loading {}: {e}", path.display())))?;
    // What CONFIG GET and INFO report of the server's own settings.
    let save: Vec<String> = config
        .save
        .iter()
        .map(|(secs, changes)| format!("{secs} {changes}"))
        .collect();
    let settings = &store.inner.settings;
    for (name, value) in [
        ("port", config.port.to_string()),
        ("bind", config.bind.join(" ")),
        ("maxclients", config.maxclients.to_string()),
        ("databases", config.databases.to_string()),
        ("io-threads", config.io_threads.to_string()),
        // Redis shows its working directory, an absolute path.
        (
            "dir",
            std::fs::canonicalize(&config.dir)
                .unwrap_or_else(|_| config.dir.clone())
                .display()
                .to_string(),
        ),
        ("dbfilename", config.dbfilename.clone()),
        ("save", save.join(" ")),
    ] {
        settings.set_text(name, value.as_bytes());
    }
    if let Some(pass) = &config.requirepass {
        settings.set_text("requirepass", pass);
    }
    Ok(store)
}

/// Listens on every `bind` address at `port`.
pub async fn bind(config: &ServerConfig) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::with_capacity(config.bind.len());
    for addr in &config.bind {
        let listener = TcpListener::bind((addr.as_str(), config.port))
            .await
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("could not bind {addr}:{}: {e}", config.port),
                )
            })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn log(config: &ServerConfig, level: LogLevel, msg: &str) {
    let rank = |l: LogLevel| match l {
        LogLevel::Debug => 0,
        LogLevel::Verbose => 1,
        LogLevel::Notice => 2,
        LogLevel::Warning => 3,
        LogLevel::Nothing => 4,
    };
    if rank(level) >= rank(config.loglevel) && config.loglevel != LogLevel::Nothing {
        println!("{}:M * {msg}", std::process::id());
    }
}

/// Serves `store` on `listeners` until `shutdown` resolves or a client sends `SHUTDOWN`,
/// then lets every client finish the command it is running and closes it. Returns whether
/// the caller should save. Runs on either kind of tokio runtime: a blocking pop waits as a
/// future, holding no thread.
pub async fn serve(
    listeners: Vec<TcpListener>,
    store: Store,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<SaveOnExit> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (request_tx, mut request_rx) = tokio::sync::mpsc::channel::<SaveOnExit>(1);
    let mut save = SaveOnExit::IfConfigured;
    let clients = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::channel::<(TcpStream, SocketAddr)>(64);
    for listener in listeners {
        if let Ok(addr) = listener.local_addr() {
            log(
                config,
                LogLevel::Notice,
                &format!("Ready to accept connections tcp {addr}"),
            );
        }
        let conn_tx = conn_tx.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(pair) => {
                            if conn_tx.send(pair).await.is_err() {
                                return;
                            }
                        }
                        // Out of descriptors and the like: back off instead of spinning.
                        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    },
                    _ = stop.changed() => return,
                }
            }
        });
    }
    drop(conn_tx);

    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(mode) = request_rx.recv() => {
                save = mode;
                break;
            }
            conn = conn_rx.recv() => {
                let Some((socket, peer)) = conn else { break };
                if clients.load(Ordering::Acquire) >= config.maxclients {
                    tasks.spawn(refuse(socket));
                    continue;
                }
                clients.fetch_add(1, Ordering::AcqRel);
                let local = socket
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                let session = Session::new(store.clone(), peer.to_string(), local);
                let clients = Arc::clone(&clients);
                let stop = stop_rx.clone();
                let request = request_tx.clone();
                tasks.spawn(async move {
                    // Errors end the connection; there is nobody to report them to.
                    let _ = client(socket, session, stop, request).await;
                    clients.fetch_sub(1, Ordering::AcqRel);
                });
            }
            // Reap finished tasks so the set does not grow with every connection served.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    log(
        config,
        LogLevel::Notice,
        "Received shutdown signal, closing client connections",
    );
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        log(
            config,
            LogLevel::Warning,
            "Some clients were still running a command at shutdown",
        );
    }
    Ok(save)
}

async fn refuse(mut socket: TcpStream) {
    let _ = socket
        .write_all(b"-ERR max number of clients reached\r\n")
        .await;
}

/// Reads what the socket holds into the spare room of `buf` (at least what the parser asked
/// for: more only when the buffer already had the room, which changes where reads split the
/// input, never what a request or the query buffer limit sees). A read that returns less
/// than the room has drained the socket: its readiness is cleared in the same step, so that
/// the next wait goes straight to the poller instead of first trying a read that fails
/// with `WouldBlock`, one system call per batch of requests saved. Tokio clears it only if
/// no readiness event came since the read began, so bytes that arrive meanwhile are not
/// missed.
async fn read_available(socket: &TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        socket.readable().await?;
        let mut drained = None;
        let read = socket.try_io(tokio::io::Interest::READABLE, || {
            let room = buf.capacity() - buf.len();
            let n = socket.try_read_buf(buf)?;
            if n != 0 && n < room {
                drained = Some(n);
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match (read, drained) {
            (_, Some(n)) => return Ok(n),
            (Ok(n), None) => return Ok(n),
            (Err(e), None) if e.kind() == io::ErrorKind::WouldBlock => {}
            (Err(e), None) => return Err(e),
        }
    }
}

/// Writes what the socket did not take at once of a message pushed to an idle client, until
/// it is written (true) or the client is killed (false): a subscriber or monitor that stopped
/// reading is killed when its buffer overflows, and must not keep its task stuck on a full
/// socket. Boxed and out of line so that the read loop's common path stays as small as
/// without it; it runs only when a client's socket is full.
#[inline(never)]
fn write_rest<'a>(
    socket: &'a mut TcpStream,
    rest: &'a [u8],
    killed: std::pin::Pin<&'a mut (dyn Future<Output = ()> + Send)>,
) -> std::pin::Pin<Box<dyn Future<Output = io::Result<bool>> + Send + 'a>> {
    Box::pin(async move {
        tokio::select! {
            written = socket.write_all(rest) => written.map(|()| true),
            () = killed => Ok(false),
        }
    })
}

/// One client: read, parse, run, reply, until it closes, errs, quits or the server stops.
async fn client(
    mut socket: TcpStream,
    mut session: Session,
    mut stop: watch::Receiver<bool>,
    request: tokio::sync::mpsc::Sender<SaveOnExit>,
) -> io::Result<()> {
    let _ = socket.set_nodelay(true);
    // CLIENT KILL from another client ends this task wherever it waits.
    let killed = session.killed();
    tokio::pin!(killed);
    // One wait for the server's stop for the connection's whole life: a fresh
    // `changed()` per read would register with the shared watch channel every time.
    let stopped = async move {
        let _ = stop.changed().await;
    };
    tokio::pin!(stopped);
    // Reads go straight into the parser's query buffer (no per-client read buffer, no copy):
    // an idle client holds only its socket, its task and what it sent.
    let mut parser = RequestParser::new(Limits::default());
    let mut out = Vec::new();
    loop {
        loop {
            match parser.next_args(session.auth_required()) {
                Ok(Some(args)) => {
                    // While a command waits (a blocking pop), keep reading: a client that
                    // goes away cancels its wait, as Redis unblocks a client that
                    // disconnects; what it sends meanwhile is queued behind the command.
                    // Every other command runs at once, without that machinery.
                    let waiting = {
                        // Filled in place (a collected list was moved, 136 bytes a command).
                        let mut argv: SmallVec<[&[u8]; 8]> = SmallVec::new();
                        argv.extend(args.iter());
                        (!session.execute_now(&argv, &mut out)).then(|| args.to_vecs())
                    };
                    if let Some(argv) = waiting {
                        let exec = session.execute_waiting(argv, &mut out);
                        tokio::pin!(exec);
                        loop {
                            tokio::select! {
                                biased;
                                () = &mut exec => break,
                                () = &mut killed => return Ok(()),
                                // Only a readiness wait here: this branch is built for every
                                // command, and the query buffer is touched only when bytes came.
                                ready = socket.readable() => {
                                    if ready.is_err() {
                                        return Ok(());
                                    }
                                    match socket.try_read_buf(parser.input_buffer(READ_CHUNK)) {
                                        Ok(0) => return Ok(()),
                                        Ok(_) => {
                                            if parser.appended().is_err() {
                                                return Ok(());
                                            }
                                        }
                                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                                        Err(_) => return Ok(()),
                                    }
                                }
                            }
                        }
                    }
                    // A closing client is sent nothing after its last reply (Redis adds
                    // nothing to the output of a client it will close: QUIT from a monitor).
                    let closing = session.should_close();
                    if !closing {
                        session.write_pending_pushes(&mut out);
                    }
                    if closing || session.should_close() {
                        socket.write_all(&out).await?;
                        if let Some(mode) = session.shutdown_requested() {
                            // Another client may have asked first; one request is enough.
                            let _ = request.try_send(mode);
                        }
                        return Ok(());
                    }
                    if out.len() >= OUTPUT_FLUSH_BYTES {
                        socket.write_all(&out).await?;
                        out.clear();
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    if let Some(reply) = e.reply_bytes() {
                        out.extend_from_slice(&reply);
                    }
                    socket.write_all(&out).await?;
                    return Ok(());
                }
            }
        }
        if !out.is_empty() {
            socket.write_all(&out).await?;
            out.clear();
        }
        let want = parser.read_hint().min(READ_CHUNK);
        let n = tokio::select! {
            biased;
            () = &mut stopped => return Ok(()),
            read = read_available(&socket, parser.input_buffer(want)) => read?,
            () = &mut killed => return Ok(()),
            // A subscribed or monitoring client is sent its messages while it is idle.
            push = session.next_push(), if session.has_pushes() => {
                match push {
                    // A client that stopped reading is killed when its buffer overflows:
                    // that ends a write stuck on its full socket too.
                    Some(bytes) => {
                        let n = match socket.try_write(&bytes) {
                            Ok(n) => n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                            Err(e) => return Err(e),
                        };
                        if n < bytes.len()
                            && !write_rest(&mut socket, &bytes[n..], killed.as_mut()).await?
                        {
                            return Ok(());
                        }
                    }
                    // Its buffer overflowed: Redis disconnects such a client.
                    None => return Ok(()),
                }
                continue;
            }
        };
        if n == 0 {
            return Ok(());
        }
        if parser.appended().is_err() {
            // The query buffer limit: Redis closes such a client without a reply.
            return Ok(());
        }
    }
}
