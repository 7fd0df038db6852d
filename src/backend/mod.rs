//! The trait application code takes: one interface, implemented by the embedded [`Store`]
//! and (with the `redis` feature) by a backend that talks to a real Redis.
//!
//! # Design
//!
//! [`Backend`] is object safe, so applications hold `&dyn Backend` or `Arc<dyn Backend>` and
//! never name the implementation. Its one required method is [`Backend::execute`], a raw
//! command in and a [`Reply`] out; every typed method (named after the Redis command, keys as
//! `&[u8]`, Rust types out) has a default implementation that builds the command, executes it
//! and converts the reply, so a backend that can run commands gets the whole typed surface.
//! The embedded store overrides every typed method with a direct call into its keyspace (no
//! argv, no reply), which is where its speed comes from; the contract tests run the same
//! scenarios on both to prove they agree.
//!
//! Errors: a Redis error reply becomes `Err(Error)` with Redis's text; `Error::Io` is kept for
//! a backend that could not reach its server.

pub use crate::cmd::{TxOp, TxReply};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::dump::RestoreOptions;
use crate::store::generic::Ttl;
use crate::store::hashes::HScanPage;
use crate::store::lists::{ListEnd, LposOptions, MPopped};
use crate::store::pubsub::{Message, Subscription};
use crate::store::sets::SScanPage;
use crate::store::sort::SortOptions;
use crate::store::strings::{SetCondition, SetExpiry, SetOptions, SetOutcome};
use crate::store::{BfInsertOptions, BloomOptions, CfInsertOptions, CfReserveOptions};
use crate::store::{BitfieldOp, ExpireCondition, KeyType, ScanPage, Store};
use crate::store::{TDigestMergeOptions, TopKOptions};
use crate::store::{ZEntry, ZRange, ZRangeBy, ZSetOp};
use crate::types::bitmap::{BitOp, BitUnit, BitposRange, Overflow};
use crate::types::bloom::BloomInfo;
use crate::types::cms::CmsInfo;
use crate::types::cuckoo::{CuckooInfo, InsertOutcome};
use crate::types::tdigest::TDigestInfo;
use crate::types::topk::TopKInfo;
use crate::types::zset::{Aggregate, LexBound, ScoreRange};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A boxed future, so that async methods keep the trait object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A list element popped by BLPOP / BRPOP: the key it came from and the value.
pub type Popped = (Vec<u8>, Vec<u8>);

/// The function of [`Backend::transaction_with`]: reads through the watching connection and
/// returns the commands to queue.
pub type TxnBuilder<'a> = &'a mut dyn FnMut(&dyn Backend) -> Result<Vec<Vec<Vec<u8>>>>;

/// A pub/sub subscription, on any backend: subscribe and unsubscribe, receive messages with a
/// timeout or asynchronously. Messages from one publisher arrive in order.
pub trait PubSub: Send {
    /// SUBSCRIBE: returns this subscription's channel and pattern count afterwards.
    fn subscribe(&mut self, channels: &[&[u8]]) -> Result<usize>;
    /// PSUBSCRIBE.
    fn psubscribe(&mut self, patterns: &[&[u8]]) -> Result<usize>;
    /// UNSUBSCRIBE (all channels when `channels` is empty).
    fn unsubscribe(&mut self, channels: &[&[u8]]) -> Result<usize>;
    /// PUNSUBSCRIBE (all patterns when `patterns` is empty).
    fn punsubscribe(&mut self, patterns: &[&[u8]]) -> Result<usize>;
    /// The next message, waiting at most `timeout`; None when none came.
    fn receive(&mut self, timeout: Duration) -> Result<Option<Message>>;
    /// The next message, without blocking an executor thread.
    fn receive_async(&mut self) -> BoxFuture<'static, Result<Message>>;
}

impl PubSub for Subscription {
    fn subscribe(&mut self, channels: &[&[u8]]) -> Result<usize> {
        Subscription::subscribe(self, channels)
    }
    fn psubscribe(&mut self, patterns: &[&[u8]]) -> Result<usize> {
        Subscription::psubscribe(self, patterns)
    }
    fn unsubscribe(&mut self, channels: &[&[u8]]) -> Result<usize> {
        Subscription::unsubscribe(self, channels)
    }
    fn punsubscribe(&mut self, patterns: &[&[u8]]) -> Result<usize> {
        Subscription::punsubscribe(self, patterns)
    }
    fn receive(&mut self, timeout: Duration) -> Result<Option<Message>> {
        Subscription::receive(self, timeout)
    }
    fn receive_async(&mut self) -> BoxFuture<'static, Result<Message>> {
        Box::pin(Subscription::receive_async(self))
    }
}

/// [`spawn_blocking`] for a call that must know whether its future was dropped: `f` gets a
/// flag that is set when that happens, so that it can put back what it took for nobody.
#[cfg(feature = "redis")]
pub(crate) fn spawn_cancellable<T, F>(f: F) -> BoxFuture<'static, T>
where
    T: Send + 'static,
    F: FnOnce(&std::sync::atomic::AtomicBool) -> T + Send + 'static,
{
    use std::sync::atomic::{AtomicBool, Ordering};
    struct Cancel(Arc<AtomicBool>);
    impl Drop for Cancel {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let cancelled = Arc::new(AtomicBool::new(false));
    let guard = Cancel(cancelled.clone());
    let wait = spawn_blocking(move || f(&cancelled));
    Box::pin(async move {
        let _guard = guard;
        wait.await
    })
}

/// Runs a blocking call on its own thread and completes a future with its result, so that
/// a backend whose blocking calls are synchronous still offers async forms that never block
/// an executor thread.
pub fn spawn_blocking<T, F>(f: F) -> BoxFuture<'static, T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    struct Slot<T> {
        value: Option<T>,
        waker: Option<Waker>,
    }
    struct Wait<T>(Arc<parking_lot::Mutex<Slot<T>>>);
    impl<T> Future for Wait<T> {
        type Output = T;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            let mut slot = self.0.lock();
            match slot.value.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
    let shared = Arc::new(parking_lot::Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    let done = shared.clone();
    std::thread::spawn(move || {
        let v = f();
        let waker = {
            let mut slot = done.lock();
            slot.value = Some(v);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    Box::pin(Wait(shared))
}

fn end_word(e: ListEnd) -> &'static str {
    match e {
        ListEnd::Left => "LEFT",
        ListEnd::Right => "RIGHT",
    }
}

/// A timeout in seconds as BLPOP takes it (0 waits forever).
fn timeout_arg(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

fn as_popped(r: Reply) -> Result<Option<Popped>> {
    match r {
        Reply::NilArray | Reply::Nil => Ok(None),
        r => {
            let mut items = as_bulks(r)?.into_iter();
            match (items.next(), items.next()) {
                (Some(k), Some(v)) => Ok(Some((k, v))),
                _ => Err(Error::Io("malformed blocking pop reply".into())),
            }
        }
    }
}

fn opt_bulks(r: Reply) -> Result<Vec<Option<Vec<u8>>>> {
    match r {
        Reply::NilArray => Ok(Vec::new()),
        r => as_opt_bulks(r),
    }
}

/// A `[cursor, [items...]]` reply of the SCAN family.
fn as_scan_reply(r: Reply) -> Result<(u64, Vec<Vec<u8>>)> {
    let mut parts = as_array(r)?.into_iter();
    let (Some(c), Some(items)) = (parts.next(), parts.next()) else {
        return Err(Error::Io("malformed SCAN reply".into()));
    };
    let c = as_bulk(c)?;
    let cursor = crate::num::parse_u64_cursor(&c)
        .ok_or_else(|| Error::Io("malformed SCAN cursor".into()))?;
    Ok((cursor, as_bulks(items)?))
}

/// LMPOP's reply: the key and its elements, or the null array.
fn as_mpop(r: Reply) -> Result<Option<MPopped>> {
    match r {
        Reply::NilArray | Reply::Nil => Ok(None),
        r => {
            let mut parts = as_array(r)?.into_iter();
            match (parts.next(), parts.next()) {
                (Some(k), Some(items)) => Ok(Some((as_bulk(k)?, as_bulks(items)?))),
                _ => Err(Error::Io("malformed LMPOP reply".into())),
            }
        }
    }
}

fn sort_argv(name: &str, key: &[u8], o: &SortOptions) -> Argv {
    let mut a = Argv::new(name).arg(key);
    if let Some(by) = &o.by {
        a = a.arg("BY").arg(by);
    }
    if let Some((offset, count)) = o.limit {
        a = a.arg("LIMIT").num(offset).num(count);
    }
    for g in &o.get {
        a = a.arg("GET").arg(g);
    }
    if o.desc {
        a = a.arg("DESC");
    }
    if o.alpha {
        a = a.arg("ALPHA");
    }
    a
}

fn as_bool_results(r: Reply) -> Result<Vec<Result<bool>>> {
    Ok(as_array(r)?
        .into_iter()
        .map(|item| match item {
            Reply::Error(e) => Err(Error::from_reply_text(&e)),
            other => as_bool(other),
        })
        .collect())
}

/// A RESP2 integer or RESP3 boolean flag.
fn as_flag(r: Reply) -> Result<bool> {
    match r {
        Reply::Bool(b) => Ok(b),
        other => as_bool(other),
    }
}

fn cf_insert_argv(name: &str, key: &[u8], opts: &CfInsertOptions, items: &[&[u8]]) -> Argv {
    let mut a = Argv::new(name).arg(key).arg("CAPACITY").num(opts.capacity);
    if opts.nocreate {
        a = a.arg("NOCREATE");
    }
    a.arg("ITEMS").args(items)
}

/// CF.INSERT / CF.INSERTNX replies: 1 (or true) stored, 0 present (NX), -1 (or false for
/// CF.INSERT in RESP3) no room, an error element for a failed allocation.
fn as_outcomes(r: Reply) -> Result<Vec<InsertOutcome>> {
    as_array(r)?
        .into_iter()
        .map(|item| match item {
            Reply::Integer(1) | Reply::Bool(true) => Ok(InsertOutcome::Inserted),
            Reply::Integer(0) => Ok(InsertOutcome::Exists),
            Reply::Integer(-1) | Reply::Bool(false) => Ok(InsertOutcome::NoSpace),
            Reply::Error(_) => Ok(InsertOutcome::OutOfMemory),
            other => Err(unexpected(&other)),
        })
        .collect()
}

/// The `N` integer values of an INFO-style reply (a flat label/value array or a map).
fn info_values<const N: usize>(what: &str, r: Reply) -> Result<[u64; N]> {
    let values: Vec<Reply> = match r {
        Reply::Map(pairs) => pairs.into_iter().map(|(_, v)| v).collect(),
        Reply::Array(items) => items.into_iter().skip(1).step_by(2).collect(),
        other => return Err(unexpected(&other)),
    };
    let mut out = [0u64; N];
    if values.len() != N {
        return Err(Error::Io(format!("malformed {what} reply")));
    }
    for (o, v) in out.iter_mut().zip(values) {
        *o = as_int(v)? as u64;
    }
    Ok(out)
}

/// A double: a RESP3 double, or RESP2's bulk text (`%.17g`, `nan`, `inf`).
fn as_double(r: Reply) -> Result<f64> {
    match r {
        Reply::Double(d) => Ok(d),
        Reply::Bulk(b) => {
            let text = String::from_utf8_lossy(&b);
            match text.as_ref() {
                "nan" => Ok(f64::NAN),
                "-nan" => Ok(-f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                t => t
                    .parse()
                    .map_err(|_| Error::Io(format!("malformed double reply {t:?}"))),
            }
        }
        other => Err(unexpected(&other)),
    }
}

fn as_doubles(r: Reply) -> Result<Vec<f64>> {
    as_array(r)?.into_iter().map(as_double).collect()
}

/// The values of an INFO-style reply (a flat label/value array or a map), in order.
fn info_fields(r: Reply) -> Result<Vec<Reply>> {
    match r {
        Reply::Map(pairs) => Ok(pairs.into_iter().map(|(_, v)| v).collect()),
        Reply::Array(items) => Ok(items.into_iter().skip(1).step_by(2).collect()),
        other => Err(unexpected(&other)),
    }
}

fn bloom_options(mut a: Argv, o: &BloomOptions) -> Argv {
    a = a
        .arg("CAPACITY")
        .num(o.capacity)
        .arg("ERROR")
        .num(o.error_rate);
    a = a.arg("EXPANSION").num(o.expansion);
    if o.nonscaling {
        a = a.arg("NONSCALING");
    }
    a
}

#[cfg(feature = "redis")]
mod bloom_emu;
#[cfg(feature = "redis")]
mod cms_emu;
#[cfg(feature = "redis")]
mod cuckoo_emu;
#[cfg(feature = "redis")]
mod lua;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
mod redis_pubsub;
#[cfg(feature = "redis")]
pub use self::redis::{BloomMode, RedisBackend, RedisOptions};

/// An argument list under construction.
pub(crate) struct Argv(Vec<Vec<u8>>);

impl Argv {
    pub(crate) fn new(name: &str) -> Argv {
        Argv(vec![name.as_bytes().to_vec()])
    }
    pub(crate) fn arg(mut self, a: impl AsRef<[u8]>) -> Argv {
        self.0.push(a.as_ref().to_vec());
        self
    }
    pub(crate) fn args<A: AsRef<[u8]>>(mut self, items: &[A]) -> Argv {
        self.0.extend(items.iter().map(|a| a.as_ref().to_vec()));
        self
    }
    pub(crate) fn num(self, n: impl std::fmt::Display) -> Argv {
        self.arg(n.to_string())
    }
    /// BITFIELD's operations, as arguments.
    pub(crate) fn bitfield_ops(mut self, ops: &[BitfieldOp]) -> Argv {
        for op in ops {
            self = match *op {
                BitfieldOp::Get(t, o) => self.arg("GET").num(t).num(o),
                BitfieldOp::Set(t, o, v) => self.arg("SET").num(t).num(o).num(v),
                BitfieldOp::IncrBy(t, o, v) => self.arg("INCRBY").num(t).num(o).num(v),
                BitfieldOp::Overflow(o) => self.arg("OVERFLOW").arg(match o {
                    Overflow::Wrap => "WRAP",
                    Overflow::Sat => "SAT",
                    Overflow::Fail => "FAIL",
                }),
            };
        }
        self
    }
    pub(crate) fn run(&self, b: &(impl Backend + ?Sized)) -> Result<Reply> {
        let refs: Vec<&[u8]> = self.0.iter().map(Vec::as_slice).collect();
        match b.execute(&refs)? {
            Reply::Error(e) => Err(Error::from_reply_text(&e)),
            r => Ok(r),
        }
    }
}

impl TxOp<'_> {
    /// The command as Redis takes it: name first, then the arguments.
    pub fn to_argv(&self) -> Vec<Vec<u8>> {
        let a = Argv::new(&self.name().to_ascii_uppercase()).arg(self.key());
        let a = match *self {
            TxOp::PfAdd(_, items) => a.args(items),
            TxOp::Bitfield(_, ops) => a.bitfield_ops(ops),
            TxOp::BfAdd(_, item) => a.arg(item),
            TxOp::PExpire(_, ttl) => a.num(ttl.as_millis()),
            TxOp::Incr(_) | TxOp::PfCount(_) | TxOp::Get(_) => a,
        };
        a.0
    }
}

fn unsupported(what: &str) -> Error {
    Error::Io(format!("{what}: not supported by this backend"))
}

fn unexpected(r: &Reply) -> Error {
    Error::Io(format!("unexpected reply {r:?}"))
}

pub(crate) fn as_int(r: Reply) -> Result<i64> {
    match r {
        Reply::Integer(n) => Ok(n),
        other => Err(unexpected(&other)),
    }
}

pub(crate) fn as_usize(r: Reply) -> Result<usize> {
    as_int(r).map(|n| usize::try_from(n).unwrap_or(0))
}

pub(crate) fn as_bool(r: Reply) -> Result<bool> {
    as_int(r).map(|n| n != 0)
}

pub(crate) fn as_opt_bulk(r: Reply) -> Result<Option<Vec<u8>>> {
    match r {
        Reply::Bulk(b) => Ok(Some(b)),
        Reply::Nil => Ok(None),
        other => Err(unexpected(&other)),
    }
}

pub(crate) fn as_bulk(r: Reply) -> Result<Vec<u8>> {
    match r {
        Reply::Bulk(b) => Ok(b),
        Reply::Status(s) => Ok(s.into_bytes()),
        other => Err(unexpected(&other)),
    }
}

pub(crate) fn as_array(r: Reply) -> Result<Vec<Reply>> {
    match r {
        Reply::Array(items) => Ok(items),
        other => Err(unexpected(&other)),
    }
}

pub(crate) fn as_bulks(r: Reply) -> Result<Vec<Vec<u8>>> {
    as_array(r)?.into_iter().map(as_bulk).collect()
}

pub(crate) fn as_opt_bulks(r: Reply) -> Result<Vec<Option<Vec<u8>>>> {
    as_array(r)?.into_iter().map(as_opt_bulk).collect()
}

/// The members of an array reply, or of a RESP3 set.
fn as_members(r: Reply) -> Result<Vec<Vec<u8>>> {
    match r {
        Reply::Set(items) => items.into_iter().map(as_bulk).collect(),
        other => as_bulks(other),
    }
}

fn as_pairs(r: Reply) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let flat = as_bulks(r)?;
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        out.push((f, v));
    }
    Ok(out)
}

/// A score as an argument Redis reads back exactly (`%.17g`, `inf`, `-inf`).
fn score_text(score: f64) -> String {
    crate::reply::format_double(score)
}

fn score_range_args(r: &ScoreRange) -> (String, String) {
    let end = |v: f64, ex: bool| format!("{}{}", if ex { "(" } else { "" }, score_text(v));
    (end(r.min, r.min_exclusive), end(r.max, r.max_exclusive))
}

fn lex_arg(b: &LexBound) -> Vec<u8> {
    match b {
        LexBound::Min => b"-".to_vec(),
        LexBound::Max => b"+".to_vec(),
        LexBound::Inclusive(m) => [b"[".as_slice(), m].concat(),
        LexBound::Exclusive(m) => [b"(".as_slice(), m].concat(),
    }
}

/// ZRANGE's `min max [BYSCORE|BYLEX] [REV] [LIMIT ..] [WITHSCORES]` for a query (the ends
/// of a reversed score or lex range go highest first, as Redis reads them).
fn zrange_args(mut a: Argv, q: &ZRange, withscores: bool) -> Argv {
    let swap = |(lo, hi): (Vec<u8>, Vec<u8>)| if q.rev { (hi, lo) } else { (lo, hi) };
    match &q.by {
        ZRangeBy::Rank(start, stop) => a = a.num(start).num(stop),
        ZRangeBy::Score(r) => {
            let (min, max) = score_range_args(r);
            let (x, y) = swap((min.into_bytes(), max.into_bytes()));
            a = a.arg(x).arg(y).arg("BYSCORE");
        }
        ZRangeBy::Lex(r) => {
            let (x, y) = swap((lex_arg(&r.min), lex_arg(&r.max)));
            a = a.arg(x).arg(y).arg("BYLEX");
        }
    }
    if q.rev {
        a = a.arg("REV");
    }
    if let (Some((offset, count)), false) = (q.limit, matches!(q.by, ZRangeBy::Rank(..))) {
        a = a.arg("LIMIT").num(offset).num(count);
    }
    if withscores {
        a = a.arg("WITHSCORES");
    }
    a
}

fn zsetop_args(mut a: Argv, op: ZSetOp, weights: &[f64], aggregate: Aggregate) -> Argv {
    if op == ZSetOp::Diff {
        return a;
    }
    if !weights.is_empty() {
        a = a.arg("WEIGHTS");
        for w in weights {
            a = a.arg(score_text(*w));
        }
    }
    a.arg("AGGREGATE").arg(match aggregate {
        Aggregate::Sum => "SUM",
        Aggregate::Min => "MIN",
        Aggregate::Max => "MAX",
    })
}

/// A score reply: a double (RESP3), its text (RESP2), or nil.
fn as_score(r: Reply) -> Result<Option<f64>> {
    match r {
        Reply::Nil => Ok(None),
        Reply::Double(d) => Ok(Some(d)),
        Reply::Bulk(b) => crate::types::zset::parse_score(&b)
            .map(Some)
            .ok_or_else(|| unexpected(&Reply::Bulk(b))),
        Reply::Error(e) => Err(Error::from_reply_text(&e)),
        other => Err(unexpected(&other)),
    }
}

fn as_opt_usize(r: Reply) -> Result<Option<usize>> {
    match r {
        Reply::Nil => Ok(None),
        other => as_usize(other).map(Some),
    }
}

/// Member/score pairs: flat (RESP2) or nested (RESP3).
fn as_entries(r: Reply) -> Result<Vec<ZEntry>> {
    let items = match r {
        Reply::Pairs(p) => p.into_iter().flat_map(|(m, s)| [m, s]).collect(),
        other => as_array(other)?,
    };
    let mut flat = Vec::with_capacity(items.len());
    for i in items {
        match i {
            Reply::Array(pair) => flat.extend(pair),
            other => flat.push(other),
        }
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        let m = as_bulk(m)?;
        let s = as_score(s)?.ok_or_else(|| unexpected(&Reply::Nil))?;
        out.push((m, s));
    }
    Ok(out)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn unit_word(u: BitUnit) -> &'static str {
    match u {
        BitUnit::Byte => "BYTE",
        BitUnit::Bit => "BIT",
    }
}

/// The typed Redis command set, object safe. See the module documentation.
pub trait Backend: Send + Sync {
    /// Runs one command (name and arguments) and returns Redis's reply. Redis error replies
    /// are `Ok(Reply::Error(..))`; `Err` means the command could not be run at all.
    fn execute(&self, argv: &[&[u8]]) -> Result<Reply>;

    /// The clock that the data's times are read against: the embedded store's own clock (a
    /// manual one in tests), the system clock for a server. Code above the backend (the
    /// session layer's activity buckets) reads time here, never elsewhere.
    fn clock(&self) -> crate::Clock {
        crate::Clock::system()
    }

    // ---- strings and counters ----

    /// GET.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("GET").arg(key).run(self)?)
    }
    /// SET.
    fn set(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Argv::new("SET").arg(key).arg(value).run(self).map(|_| ())
    }
    /// SET with options.
    fn set_with(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome> {
        let mut a = Argv::new("SET").arg(key).arg(value);
        match opts.condition {
            Some(SetCondition::Nx) => a = a.arg("NX"),
            Some(SetCondition::Xx) => a = a.arg("XX"),
            None => {}
        }
        if opts.get {
            a = a.arg("GET");
        }
        match opts.expiry {
            Some(SetExpiry::In(d)) => a = a.arg("PX").num(ms(d)),
            Some(SetExpiry::AtMs(at)) => a = a.arg("PXAT").num(at),
            Some(SetExpiry::KeepTtl) => a = a.arg("KEEPTTL"),
            None => {}
        }
        let r = a.run(self)?;
        Ok(if opts.get {
            // With GET, Redis replies with the old value whether or not it wrote.
            let previous = as_opt_bulk(r)?;
            let written = match opts.condition {
                Some(SetCondition::Nx) => previous.is_none(),
                Some(SetCondition::Xx) => previous.is_some(),
                None => true,
            };
            SetOutcome { written, previous }
        } else {
            SetOutcome {
                written: r != Reply::Nil,
                previous: None,
            }
        })
    }
    /// SETNX.
    fn setnx(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        as_bool(Argv::new("SETNX").arg(key).arg(value).run(self)?)
    }
    /// SET with PX: the value expires after `ttl` (redis-rs's argument order).
    fn setex(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<()> {
        Argv::new("PSETEX")
            .arg(key)
            .num(ms(ttl))
            .arg(value)
            .run(self)
            .map(|_| ())
    }
    /// GETDEL.
    fn getdel(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("GETDEL").arg(key).run(self)?)
    }
    /// MGET.
    fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        as_opt_bulks(Argv::new("MGET").args(keys).run(self)?)
    }
    /// MSET.
    fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        let mut a = Argv::new("MSET");
        for (k, v) in pairs {
            a = a.arg(k).arg(v);
        }
        a.run(self).map(|_| ())
    }
    /// APPEND: the new length.
    fn append(&self, key: &[u8], tail: &[u8]) -> Result<usize> {
        as_usize(Argv::new("APPEND").arg(key).arg(tail).run(self)?)
    }
    /// STRLEN.
    fn strlen(&self, key: &[u8]) -> Result<usize> {
        as_usize(Argv::new("STRLEN").arg(key).run(self)?)
    }
    /// GETRANGE.
    fn getrange(&self, key: &[u8], start: i64, end: i64) -> Result<Vec<u8>> {
        as_bulk(
            Argv::new("GETRANGE")
                .arg(key)
                .num(start)
                .num(end)
                .run(self)?,
        )
    }
    /// INCR.
    fn incr(&self, key: &[u8]) -> Result<i64> {
        as_int(Argv::new("INCR").arg(key).run(self)?)
    }
    /// INCRBY.
    fn incrby(&self, key: &[u8], by: i64) -> Result<i64> {
        as_int(Argv::new("INCRBY").arg(key).num(by).run(self)?)
    }
    /// DECRBY.
    fn decrby(&self, key: &[u8], by: i64) -> Result<i64> {
        as_int(Argv::new("DECRBY").arg(key).num(by).run(self)?)
    }
    /// INCRBYFLOAT with the increment as text; the new value as Redis formats it.
    fn incrbyfloat(&self, key: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        as_bulk(Argv::new("INCRBYFLOAT").arg(key).arg(by).run(self)?)
    }

    // ---- hashes ----

    /// HRANDFIELD: a random field.
    fn hrandfield(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("HRANDFIELD").arg(key).run(self)?)
    }
    /// HRANDFIELD key count: distinct fields (positive) or repeated picks (negative).
    fn hrandfield_count(&self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        as_bulks(Argv::new("HRANDFIELD").arg(key).num(count).run(self)?)
    }
    /// HRANDFIELD key count WITHVALUES.
    fn hrandfield_withvalues(&self, key: &[u8], count: i64) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let r = Argv::new("HRANDFIELD")
            .arg(key)
            .num(count)
            .arg("WITHVALUES")
            .run(self)?;
        as_pairs(r)
    }
    /// HSCAN: one page of (field, value) pairs.
    fn hscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<HScanPage> {
        let mut a = Argv::new("HSCAN")
            .arg(key)
            .num(cursor)
            .arg("COUNT")
            .num(count.max(1));
        if let Some(p) = pattern {
            a = a.arg("MATCH").arg(p);
        }
        let (cursor, items) = as_scan_reply(a.run(self)?)?;
        let mut it = items.into_iter();
        let mut pairs = Vec::new();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            pairs.push((f, v));
        }
        Ok(HScanPage { cursor, pairs })
    }

    /// HSET: the number of new fields.
    fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        let mut a = Argv::new("HSET").arg(key);
        for (f, v) in pairs {
            a = a.arg(f).arg(v);
        }
        as_usize(a.run(self)?)
    }
    /// HSETNX.
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        as_bool(
            Argv::new("HSETNX")
                .arg(key)
                .arg(field)
                .arg(value)
                .run(self)?,
        )
    }
    /// HGET.
    fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("HGET").arg(key).arg(field).run(self)?)
    }
    /// HMGET.
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        as_opt_bulks(Argv::new("HMGET").arg(key).args(fields).run(self)?)
    }
    /// HGETALL as pairs.
    fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        as_pairs(Argv::new("HGETALL").arg(key).run(self)?)
    }
    /// HDEL.
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("HDEL").arg(key).args(fields).run(self)?)
    }
    /// HEXISTS.
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        as_bool(Argv::new("HEXISTS").arg(key).arg(field).run(self)?)
    }
    /// HLEN.
    fn hlen(&self, key: &[u8]) -> Result<usize> {
        as_usize(Argv::new("HLEN").arg(key).run(self)?)
    }
    /// HKEYS.
    fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        as_bulks(Argv::new("HKEYS").arg(key).run(self)?)
    }
    /// HVALS.
    fn hvals(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        as_bulks(Argv::new("HVALS").arg(key).run(self)?)
    }
    /// HINCRBY.
    fn hincrby(&self, key: &[u8], field: &[u8], by: i64) -> Result<i64> {
        as_int(Argv::new("HINCRBY").arg(key).arg(field).num(by).run(self)?)
    }
    /// HINCRBYFLOAT.
    fn hincrbyfloat(&self, key: &[u8], field: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        as_bulk(
            Argv::new("HINCRBYFLOAT")
                .arg(key)
                .arg(field)
                .arg(by)
                .run(self)?,
        )
    }

    // ---- sets ----

    /// SADD: how many members were new.
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("SADD").arg(key).args(members).run(self)?)
    }
    /// SREM: how many members were removed.
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("SREM").arg(key).args(members).run(self)?)
    }
    /// SMEMBERS.
    fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        as_members(Argv::new("SMEMBERS").arg(key).run(self)?)
    }
    /// SISMEMBER.
    fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
        as_bool(Argv::new("SISMEMBER").arg(key).arg(member).run(self)?)
    }
    /// SMISMEMBER.
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        as_array(Argv::new("SMISMEMBER").arg(key).args(members).run(self)?)?
            .into_iter()
            .map(as_bool)
            .collect()
    }
    /// SCARD.
    fn scard(&self, key: &[u8]) -> Result<usize> {
        as_usize(Argv::new("SCARD").arg(key).run(self)?)
    }
    /// SPOP: a random member, removed.
    fn spop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("SPOP").arg(key).run(self)?)
    }
    /// SPOP with a count.
    fn spop_count(&self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        as_members(Argv::new("SPOP").arg(key).num(count).run(self)?)
    }
    /// SRANDMEMBER.
    fn srandmember(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("SRANDMEMBER").arg(key).run(self)?)
    }
    /// SRANDMEMBER with a count (negative: picks may repeat).
    fn srandmember_count(&self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        as_members(Argv::new("SRANDMEMBER").arg(key).num(count).run(self)?)
    }
    /// SMOVE.
    fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        as_bool(Argv::new("SMOVE").arg(src).arg(dst).arg(member).run(self)?)
    }
    /// SINTER.
    fn sinter(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        as_members(Argv::new("SINTER").args(keys).run(self)?)
    }
    /// SINTERCARD (`limit` 0: no limit).
    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let n = i64::try_from(keys.len()).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        as_usize(
            Argv::new("SINTERCARD")
                .num(n)
                .args(keys)
                .arg("LIMIT")
                .num(limit)
                .run(self)?,
        )
    }
    /// SINTERSTORE.
    fn sinterstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("SINTERSTORE").arg(dst).args(keys).run(self)?)
    }
    /// SUNION.
    fn sunion(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        as_members(Argv::new("SUNION").args(keys).run(self)?)
    }
    /// SUNIONSTORE.
    fn sunionstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("SUNIONSTORE").arg(dst).args(keys).run(self)?)
    }
    /// SDIFF.
    fn sdiff(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        as_members(Argv::new("SDIFF").args(keys).run(self)?)
    }
    /// SDIFFSTORE.
    fn sdiffstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("SDIFFSTORE").arg(dst).args(keys).run(self)?)
    }
    /// SSCAN: one page from `cursor` (0 to start).
    fn sscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<SScanPage> {
        let mut a = Argv::new("SSCAN").arg(key).arg(cursor.to_string());
        if let Some(p) = pattern {
            a = a.arg("MATCH").arg(p);
        }
        a = a
            .arg("COUNT")
            .num(i64::try_from(count.max(1)).unwrap_or(i64::MAX));
        let page = as_array(a.run(self)?)?;
        let mut it = page.into_iter();
        let (Some(c), Some(items)) = (it.next(), it.next()) else {
            return Err(Error::Io("unexpected SSCAN reply".into()));
        };
        let cursor = std::str::from_utf8(&as_bulk(c)?)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| Error::Io("unexpected SSCAN cursor".into()))?;
        Ok(SScanPage {
            cursor,
            members: as_members(items)?,
        })
    }

    // ---- DUMP and RESTORE ----

    /// DUMP: the key's Redis 7.0 payload, None when missing.
    fn dump(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("DUMP").arg(key).run(self)?)
    }
    /// RESTORE with a relative TTL (`Duration::ZERO`: none).
    fn restore(
        &self,
        key: &[u8],
        ttl: Duration,
        payload: &[u8],
        opts: RestoreOptions,
    ) -> Result<()> {
        let mut a = Argv::new("RESTORE").arg(key).num(ms(ttl)).arg(payload);
        if opts.replace {
            a = a.arg("REPLACE");
        }
        if let Some(n) = opts.idletime {
            a = a.arg("IDLETIME").num(n);
        }
        if let Some(n) = opts.freq {
            a = a.arg("FREQ").num(n);
        }
        a.run(self).map(|_| ())
    }

    // ---- keys and expiry ----

    /// DEL.
    fn del(&self, keys: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("DEL").args(keys).run(self)?)
    }
    /// EXISTS (duplicates counted each time).
    fn exists(&self, keys: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("EXISTS").args(keys).run(self)?)
    }
    /// TYPE.
    fn key_type(&self, key: &[u8]) -> Result<KeyType> {
        let r = Argv::new("TYPE").arg(key).run(self)?;
        Ok(match as_bulk(r)?.as_slice() {
            b"none" => KeyType::None,
            b"string" => KeyType::String,
            b"hash" => KeyType::Hash,
            b"list" => KeyType::List,
            b"MBbloom--" => KeyType::Bloom,
            b"TopK-TYPE" => KeyType::TopK,
            b"TDIS-TYPE" => KeyType::TDigest,
            b"MBbloomCF" => KeyType::Cuckoo,
            b"CMSk-TYPE" => KeyType::Cms,
            b"set" => KeyType::Set,
            b"zset" => KeyType::ZSet,
            other => {
                return Err(Error::Io(format!(
                    "unsupported key type {}",
                    String::from_utf8_lossy(other)
                )))
            }
        })
    }
    /// KEYS.
    fn keys(&self, pattern: &[u8]) -> Result<Vec<Vec<u8>>> {
        as_bulks(Argv::new("KEYS").arg(pattern).run(self)?)
    }
    /// SCAN.
    fn scan(&self, cursor: u64, pattern: Option<&[u8]>, count: usize) -> Result<ScanPage> {
        let mut a = Argv::new("SCAN").num(cursor).arg("COUNT").num(count.max(1));
        if let Some(p) = pattern {
            a = a.arg("MATCH").arg(p);
        }
        let mut parts = as_array(a.run(self)?)?.into_iter();
        let (Some(c), Some(keys)) = (parts.next(), parts.next()) else {
            return Err(Error::Io("malformed SCAN reply".into()));
        };
        let c = as_bulk(c)?;
        let cursor = crate::num::parse_u64_cursor(&c)
            .ok_or_else(|| Error::Io("malformed SCAN cursor".into()))?;
        Ok(ScanPage {
            cursor,
            keys: as_bulks(keys)?,
        })
    }
    /// DBSIZE.
    fn dbsize(&self) -> Result<usize> {
        as_usize(Argv::new("DBSIZE").run(self)?)
    }
    /// FLUSHALL.
    fn flushall(&self) -> Result<()> {
        Argv::new("FLUSHALL").run(self).map(|_| ())
    }
    /// RENAME.
    fn rename(&self, from: &[u8], to: &[u8]) -> Result<()> {
        Argv::new("RENAME").arg(from).arg(to).run(self).map(|_| ())
    }
    /// RENAMENX.
    fn renamenx(&self, from: &[u8], to: &[u8]) -> Result<bool> {
        as_bool(Argv::new("RENAMENX").arg(from).arg(to).run(self)?)
    }
    /// PEXPIRE: the key expires after `ttl`.
    fn expire(&self, key: &[u8], ttl: Duration) -> Result<bool> {
        self.expire_if(key, ttl, ExpireCondition::default())
    }
    /// PEXPIRE with NX / XX / GT / LT.
    fn expire_if(&self, key: &[u8], ttl: Duration, cond: ExpireCondition) -> Result<bool> {
        let mut a = Argv::new("PEXPIRE").arg(key).num(ms(ttl));
        for (on, word) in [
            (cond.nx, "NX"),
            (cond.xx, "XX"),
            (cond.gt, "GT"),
            (cond.lt, "LT"),
        ] {
            if on {
                a = a.arg(word);
            }
        }
        as_bool(a.run(self)?)
    }
    /// PEXPIREAT.
    fn pexpireat(&self, key: &[u8], unix_ms: i64) -> Result<bool> {
        as_bool(Argv::new("PEXPIREAT").arg(key).num(unix_ms).run(self)?)
    }
    /// PTTL as a typed value.
    fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        Ok(match as_int(Argv::new("PTTL").arg(key).run(self)?)? {
            -2 => Ttl::Missing,
            -1 => Ttl::Persistent,
            n => Ttl::Expires(Duration::from_millis(n.max(0) as u64)),
        })
    }
    /// PERSIST.
    fn persist(&self, key: &[u8]) -> Result<bool> {
        as_bool(Argv::new("PERSIST").arg(key).run(self)?)
    }
    /// TOUCH: how many of `keys` exist.
    fn touch(&self, keys: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("TOUCH").args(keys).run(self)?)
    }
    /// EXPIRETIME: Unix seconds, -1 without expiry, -2 when missing.
    fn expiretime(&self, key: &[u8]) -> Result<i64> {
        as_int(Argv::new("EXPIRETIME").arg(key).run(self)?)
    }
    /// PEXPIRETIME: Unix milliseconds, -1 without expiry, -2 when missing.
    fn pexpiretime(&self, key: &[u8]) -> Result<i64> {
        as_int(Argv::new("PEXPIRETIME").arg(key).run(self)?)
    }
    /// COPY within the current database.
    fn copy(&self, src: &[u8], dst: &[u8], replace: bool) -> Result<bool> {
        let mut a = Argv::new("COPY").arg(src).arg(dst);
        if replace {
            a = a.arg("REPLACE");
        }
        as_bool(a.run(self)?)
    }
    /// RANDOMKEY.
    fn randomkey(&self) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("RANDOMKEY").run(self)?)
    }
    /// OBJECT ENCODING.
    fn object_encoding(&self, key: &[u8]) -> Result<Option<String>> {
        Ok(
            as_opt_bulk(Argv::new("OBJECT").arg("ENCODING").arg(key).run(self)?)?
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
        )
    }
    /// FLUSHDB.
    fn flushdb(&self) -> Result<()> {
        Argv::new("FLUSHDB").run(self).map(|_| ())
    }
    /// SORT (without STORE): the elements, or the GET patterns' values.
    fn sort(&self, key: &[u8], opts: &SortOptions) -> Result<Vec<Option<Vec<u8>>>> {
        opt_bulks(sort_argv("SORT", key, opts).run(self)?)
    }
    /// SORT ... STORE: the stored list's length.
    fn sort_store(&self, key: &[u8], opts: &SortOptions, dst: &[u8]) -> Result<usize> {
        as_usize(
            sort_argv("SORT", key, opts)
                .arg("STORE")
                .arg(dst)
                .run(self)?,
        )
    }
    /// LCS: the longest common subsequence of two strings.
    fn lcs(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
        as_bulk(Argv::new("LCS").arg(a).arg(b).run(self)?)
    }
    /// LCS ... LEN.
    fn lcs_len(&self, a: &[u8], b: &[u8]) -> Result<usize> {
        as_usize(Argv::new("LCS").arg(a).arg(b).arg("LEN").run(self)?)
    }

    // ---- bits ----

    /// SETBIT: the old bit.
    fn setbit(&self, key: &[u8], offset: u64, bit: bool) -> Result<u8> {
        let r = Argv::new("SETBIT")
            .arg(key)
            .num(offset)
            .num(u8::from(bit))
            .run(self)?;
        Ok(u8::from(as_int(r)? != 0))
    }
    /// GETBIT.
    fn getbit(&self, key: &[u8], offset: u64) -> Result<u8> {
        Ok(u8::from(
            as_int(Argv::new("GETBIT").arg(key).num(offset).run(self)?)? != 0,
        ))
    }
    /// BITCOUNT.
    fn bitcount(&self, key: &[u8], range: Option<(i64, i64, BitUnit)>) -> Result<i64> {
        let mut a = Argv::new("BITCOUNT").arg(key);
        if let Some((s, e, u)) = range {
            a = a.num(s).num(e).arg(unit_word(u));
        }
        as_int(a.run(self)?)
    }
    /// BITPOS.
    fn bitpos(&self, key: &[u8], bit: bool, range: Option<BitposRange>) -> Result<i64> {
        let mut a = Argv::new("BITPOS").arg(key).num(u8::from(bit));
        if let Some(r) = range {
            a = a.num(r.start);
            if let Some(e) = r.end {
                a = a.num(e).arg(unit_word(r.unit));
            }
        }
        as_int(a.run(self)?)
    }
    /// BITOP: the destination's length.
    fn bitop(&self, op: BitOp, dest: &[u8], sources: &[&[u8]]) -> Result<usize> {
        let word = match op {
            BitOp::And => "AND",
            BitOp::Or => "OR",
            BitOp::Xor => "XOR",
            BitOp::Not => "NOT",
        };
        as_usize(
            Argv::new("BITOP")
                .arg(word)
                .arg(dest)
                .args(sources)
                .run(self)?,
        )
    }
    /// BITFIELD.
    fn bitfield(&self, key: &[u8], ops: &[BitfieldOp]) -> Result<Vec<Option<i64>>> {
        let a = Argv::new("BITFIELD").arg(key).bitfield_ops(ops);
        as_array(a.run(self)?)?
            .into_iter()
            .map(|r| match r {
                Reply::Nil => Ok(None),
                r => as_int(r).map(Some),
            })
            .collect()
    }

    // ---- HyperLogLog ----

    /// PFADD: whether the key was created or an estimate may have changed.
    fn pfadd(&self, key: &[u8], items: &[&[u8]]) -> Result<bool> {
        as_bool(Argv::new("PFADD").arg(key).args(items).run(self)?)
    }
    /// PFCOUNT: one key's estimate, or the union's of several.
    fn pfcount(&self, keys: &[&[u8]]) -> Result<u64> {
        Ok(as_int(Argv::new("PFCOUNT").args(keys).run(self)?)? as u64)
    }
    /// PFMERGE.
    fn pfmerge(&self, dest: &[u8], sources: &[&[u8]]) -> Result<()> {
        Argv::new("PFMERGE")
            .arg(dest)
            .args(sources)
            .run(self)
            .map(|_| ())
    }

    // ---- Bloom filters ----

    /// BF.RESERVE.
    fn bf_reserve(&self, key: &[u8], opts: BloomOptions) -> Result<()> {
        let mut a = Argv::new("BF.RESERVE")
            .arg(key)
            .num(opts.error_rate)
            .num(opts.capacity);
        if opts.nonscaling {
            a = a.arg("NONSCALING");
        } else {
            a = a.arg("EXPANSION").num(opts.expansion);
        }
        a.run(self).map(|_| ())
    }
    /// BF.ADD: true when the item was added, false when it may have been present.
    fn bf_add(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        as_bool(Argv::new("BF.ADD").arg(key).arg(item).run(self)?)
    }
    /// BF.MADD: one result per processed item.
    fn bf_madd(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<Result<bool>>> {
        as_bool_results(Argv::new("BF.MADD").arg(key).args(items).run(self)?)
    }
    /// BF.INSERT.
    fn bf_insert(
        &self,
        key: &[u8],
        opts: BfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<Result<bool>>> {
        let mut a = bloom_options(Argv::new("BF.INSERT").arg(key), &opts.filter);
        if opts.nocreate {
            a = a.arg("NOCREATE");
        }
        as_bool_results(a.arg("ITEMS").args(items).run(self)?)
    }
    /// BF.EXISTS.
    fn bf_exists(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        as_bool(Argv::new("BF.EXISTS").arg(key).arg(item).run(self)?)
    }
    /// BF.MEXISTS.
    fn bf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        as_array(Argv::new("BF.MEXISTS").arg(key).args(items).run(self)?)?
            .into_iter()
            .map(as_bool)
            .collect()
    }
    /// BF.INFO.
    fn bf_info(&self, key: &[u8]) -> Result<BloomInfo> {
        let items = as_array(Argv::new("BF.INFO").arg(key).run(self)?)?;
        let field = |i: usize| -> Result<Option<u64>> {
            match items.get(i * 2 + 1) {
                Some(Reply::Integer(n)) => Ok(Some(*n as u64)),
                Some(Reply::Nil) => Ok(None),
                other => Err(Error::Io(format!("malformed BF.INFO reply: {other:?}"))),
            }
        };
        let num = |i: usize| field(i).map(Option::unwrap_or_default);
        Ok(BloomInfo {
            capacity: num(0)?,
            size: num(1)?,
            filters: num(2)?,
            items: num(3)?,
            expansion: field(4)?.map(|e| e as u32),
        })
    }
    /// BF.CARD.
    fn bf_card(&self, key: &[u8]) -> Result<u64> {
        Ok(as_int(Argv::new("BF.CARD").arg(key).run(self)?)? as u64)
    }

    // ---- cuckoo filters ----

    /// CF.RESERVE.
    fn cf_reserve(&self, key: &[u8], capacity: u64, opts: CfReserveOptions) -> Result<()> {
        Argv::new("CF.RESERVE")
            .arg(key)
            .num(capacity)
            .arg("BUCKETSIZE")
            .num(opts.bucket_size)
            .arg("MAXITERATIONS")
            .num(opts.max_iterations)
            .arg("EXPANSION")
            .num(opts.expansion)
            .run(self)
            .map(|_| ())
    }
    /// CF.ADD: true when stored.
    fn cf_add(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        as_flag(Argv::new("CF.ADD").arg(key).arg(item).run(self)?)
    }
    /// CF.ADDNX: true when stored, false when the item may be present already.
    fn cf_addnx(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        as_flag(Argv::new("CF.ADDNX").arg(key).arg(item).run(self)?)
    }
    /// CF.INSERT: one outcome per item.
    fn cf_insert(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<InsertOutcome>> {
        as_outcomes(cf_insert_argv("CF.INSERT", key, &opts, items).run(self)?)
    }
    /// CF.INSERTNX: one outcome per item.
    fn cf_insertnx(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<InsertOutcome>> {
        as_outcomes(cf_insert_argv("CF.INSERTNX", key, &opts, items).run(self)?)
    }
    /// CF.EXISTS.
    fn cf_exists(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        as_flag(Argv::new("CF.EXISTS").arg(key).arg(item).run(self)?)
    }
    /// CF.MEXISTS.
    fn cf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        as_array(Argv::new("CF.MEXISTS").arg(key).args(items).run(self)?)?
            .into_iter()
            .map(as_flag)
            .collect()
    }
    /// CF.DEL: true when a copy was removed.
    fn cf_del(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        as_flag(Argv::new("CF.DEL").arg(key).arg(item).run(self)?)
    }
    /// CF.COUNT.
    fn cf_count(&self, key: &[u8], item: &[u8]) -> Result<u64> {
        Ok(as_int(Argv::new("CF.COUNT").arg(key).arg(item).run(self)?)? as u64)
    }
    /// CF.INFO.
    fn cf_info(&self, key: &[u8]) -> Result<CuckooInfo> {
        let v = info_values::<8>("CF.INFO", Argv::new("CF.INFO").arg(key).run(self)?)?;
        Ok(CuckooInfo {
            size: v[0],
            num_buckets: v[1],
            num_filters: v[2],
            num_items: v[3],
            num_deletes: v[4],
            bucket_size: v[5],
            expansion: v[6],
            max_iterations: v[7],
        })
    }

    // ---- count-min sketches ----

    /// CMS.INITBYDIM.
    fn cms_initbydim(&self, key: &[u8], width: u64, depth: u64) -> Result<()> {
        Argv::new("CMS.INITBYDIM")
            .arg(key)
            .num(width)
            .num(depth)
            .run(self)
            .map(|_| ())
    }
    /// CMS.INITBYPROB.
    fn cms_initbyprob(&self, key: &[u8], error: f64, prob: f64) -> Result<()> {
        Argv::new("CMS.INITBYPROB")
            .arg(key)
            .num(error)
            .num(prob)
            .run(self)
            .map(|_| ())
    }
    /// CMS.INCRBY: each item's new estimate, or its overflow error.
    fn cms_incrby(&self, key: &[u8], pairs: &[(&[u8], u64)]) -> Result<Vec<Result<u64>>> {
        let mut a = Argv::new("CMS.INCRBY").arg(key);
        for (item, v) in pairs {
            a = a.arg(item).num(v);
        }
        Ok(as_array(a.run(self)?)?
            .into_iter()
            .map(|r| match r {
                Reply::Error(e) => Err(Error::from_reply_text(&e)),
                other => as_int(other).map(|n| n as u64),
            })
            .collect())
    }
    /// CMS.QUERY.
    fn cms_query(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<u64>> {
        as_array(Argv::new("CMS.QUERY").arg(key).args(items).run(self)?)?
            .into_iter()
            .map(|r| as_int(r).map(|n| n as u64))
            .collect()
    }
    /// CMS.MERGE, with WEIGHTS when `weights` is given.
    fn cms_merge(&self, dest: &[u8], sources: &[&[u8]], weights: Option<&[i64]>) -> Result<()> {
        let mut a = Argv::new("CMS.MERGE")
            .arg(dest)
            .num(sources.len())
            .args(sources);
        if let Some(w) = weights {
            a = a.arg("WEIGHTS");
            for w in w {
                a = a.num(w);
            }
        }
        a.run(self).map(|_| ())
    }
    /// CMS.INFO.
    fn cms_info(&self, key: &[u8]) -> Result<CmsInfo> {
        let v = info_values::<3>("CMS.INFO", Argv::new("CMS.INFO").arg(key).run(self)?)?;
        Ok(CmsInfo {
            width: v[0],
            depth: v[1],
            count: v[2],
        })
    }

    // ---- top-k ----

    /// TOPK.RESERVE.
    fn topk_reserve(&self, key: &[u8], opts: TopKOptions) -> Result<()> {
        Argv::new("TOPK.RESERVE")
            .arg(key)
            .num(opts.k)
            .num(opts.width)
            .num(opts.depth)
            .num(opts.decay)
            .run(self)
            .map(|_| ())
    }
    /// TOPK.ADD: per item, the item it expelled from the list.
    fn topk_add(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        as_opt_bulks(Argv::new("TOPK.ADD").arg(key).args(items).run(self)?)
    }
    /// TOPK.INCRBY.
    fn topk_incrby(&self, key: &[u8], pairs: &[(&[u8], i64)]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut a = Argv::new("TOPK.INCRBY").arg(key);
        for (item, n) in pairs {
            a = a.arg(item).num(n);
        }
        as_array(a.run(self)?)?
            .into_iter()
            .map(|r| match r {
                Reply::Error(e) => Err(Error::from_reply_text(&e)),
                r => as_opt_bulk(r),
            })
            .collect()
    }
    /// TOPK.QUERY.
    fn topk_query(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        as_array(Argv::new("TOPK.QUERY").arg(key).args(items).run(self)?)?
            .into_iter()
            .map(|r| match r {
                Reply::Bool(b) => Ok(b),
                r => as_bool(r),
            })
            .collect()
    }
    /// TOPK.COUNT.
    fn topk_count(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<u64>> {
        as_array(Argv::new("TOPK.COUNT").arg(key).args(items).run(self)?)?
            .into_iter()
            .map(|r| as_int(r).map(|n| n as u64))
            .collect()
    }
    /// TOPK.LIST WITHCOUNT: the list, highest count first.
    fn topk_list(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, u64)>> {
        let flat = as_array(Argv::new("TOPK.LIST").arg(key).arg("WITHCOUNT").run(self)?)?;
        let mut out = Vec::with_capacity(flat.len() / 2);
        let mut it = flat.into_iter();
        while let (Some(item), Some(count)) = (it.next(), it.next()) {
            out.push((as_bulk(item)?, as_int(count)? as u64));
        }
        Ok(out)
    }
    /// TOPK.INFO.
    fn topk_info(&self, key: &[u8]) -> Result<TopKInfo> {
        let mut v = info_fields(Argv::new("TOPK.INFO").arg(key).run(self)?)?.into_iter();
        let mut int = || -> Result<u32> {
            let n = as_int(
                v.next()
                    .ok_or_else(|| Error::Io("short TOPK.INFO".into()))?,
            )?;
            Ok(n as u32)
        };
        let (k, width, depth) = (int()?, int()?, int()?);
        let decay = as_double(
            v.next()
                .ok_or_else(|| Error::Io("short TOPK.INFO".into()))?,
        )?;
        Ok(TopKInfo {
            k,
            width,
            depth,
            decay,
        })
    }

    // ---- t-digest ----

    /// TDIGEST.CREATE (`None`: compression 100).
    fn tdigest_create(&self, key: &[u8], compression: Option<i64>) -> Result<()> {
        let mut a = Argv::new("TDIGEST.CREATE").arg(key);
        if let Some(c) = compression {
            a = a.arg("COMPRESSION").num(c);
        }
        a.run(self).map(|_| ())
    }
    /// TDIGEST.RESET.
    fn tdigest_reset(&self, key: &[u8]) -> Result<()> {
        Argv::new("TDIGEST.RESET").arg(key).run(self).map(|_| ())
    }
    /// TDIGEST.ADD.
    fn tdigest_add(&self, key: &[u8], values: &[f64]) -> Result<()> {
        let mut a = Argv::new("TDIGEST.ADD").arg(key);
        for v in values {
            // `{:?}` is the shortest text that reads back as exactly `v`.
            a = a.arg(format!("{v:?}"));
        }
        a.run(self).map(|_| ())
    }
    /// TDIGEST.MERGE.
    fn tdigest_merge(
        &self,
        dest: &[u8],
        sources: &[&[u8]],
        opts: TDigestMergeOptions,
    ) -> Result<()> {
        let mut a = Argv::new("TDIGEST.MERGE")
            .arg(dest)
            .num(sources.len())
            .args(sources);
        if let Some(c) = opts.compression {
            a = a.arg("COMPRESSION").num(c);
        }
        if opts.override_dest {
            a = a.arg("OVERRIDE");
        }
        a.run(self).map(|_| ())
    }
    /// TDIGEST.MIN.
    fn tdigest_min(&self, key: &[u8]) -> Result<f64> {
        as_double(Argv::new("TDIGEST.MIN").arg(key).run(self)?)
    }
    /// TDIGEST.MAX.
    fn tdigest_max(&self, key: &[u8]) -> Result<f64> {
        as_double(Argv::new("TDIGEST.MAX").arg(key).run(self)?)
    }
    /// TDIGEST.QUANTILE.
    fn tdigest_quantile(&self, key: &[u8], qs: &[f64]) -> Result<Vec<f64>> {
        let mut a = Argv::new("TDIGEST.QUANTILE").arg(key);
        for q in qs {
            a = a.arg(format!("{q:?}"));
        }
        as_doubles(a.run(self)?)
    }
    /// TDIGEST.CDF.
    fn tdigest_cdf(&self, key: &[u8], values: &[f64]) -> Result<Vec<f64>> {
        let mut a = Argv::new("TDIGEST.CDF").arg(key);
        for v in values {
            a = a.arg(format!("{v:?}"));
        }
        as_doubles(a.run(self)?)
    }
    /// TDIGEST.RANK (`reverse` false) or TDIGEST.REVRANK.
    fn tdigest_rank(&self, key: &[u8], values: &[f64], reverse: bool) -> Result<Vec<i64>> {
        let name = if reverse {
            "TDIGEST.REVRANK"
        } else {
            "TDIGEST.RANK"
        };
        let mut a = Argv::new(name).arg(key);
        for v in values {
            a = a.arg(format!("{v:?}"));
        }
        as_array(a.run(self)?)?.into_iter().map(as_int).collect()
    }
    /// TDIGEST.BYRANK (`reverse` false) or TDIGEST.BYREVRANK.
    fn tdigest_byrank(&self, key: &[u8], ranks: &[i64], reverse: bool) -> Result<Vec<f64>> {
        let name = if reverse {
            "TDIGEST.BYREVRANK"
        } else {
            "TDIGEST.BYRANK"
        };
        let mut a = Argv::new(name).arg(key);
        for r in ranks {
            a = a.num(r);
        }
        as_doubles(a.run(self)?)
    }
    /// TDIGEST.TRIMMED_MEAN.
    fn tdigest_trimmed_mean(&self, key: &[u8], low: f64, high: f64) -> Result<f64> {
        as_double(
            Argv::new("TDIGEST.TRIMMED_MEAN")
                .arg(key)
                .arg(format!("{low:?}"))
                .arg(format!("{high:?}"))
                .run(self)?,
        )
    }
    /// TDIGEST.INFO.
    fn tdigest_info(&self, key: &[u8]) -> Result<TDigestInfo> {
        let v = info_fields(Argv::new("TDIGEST.INFO").arg(key).run(self)?)?;
        let n: Vec<i64> = v.into_iter().map(as_int).collect::<Result<_>>()?;
        match n[..] {
            [compression, capacity, merged_nodes, unmerged_nodes, merged_weight, unmerged_weight, observations, total_compressions, memory_usage] => {
                Ok(TDigestInfo {
                    compression,
                    capacity,
                    merged_nodes,
                    unmerged_nodes,
                    merged_weight,
                    unmerged_weight,
                    observations,
                    total_compressions,
                    memory_usage,
                })
            }
            _ => Err(Error::Io("malformed TDIGEST.INFO reply".into())),
        }
    }

    // ---- lists ----

    /// LINSERT: the new length, -1 without the pivot, 0 for a missing key.
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], element: &[u8]) -> Result<i64> {
        let r = Argv::new("LINSERT")
            .arg(key)
            .arg(if before { "BEFORE" } else { "AFTER" })
            .arg(pivot)
            .arg(element)
            .run(self)?;
        as_int(r)
    }
    /// LPOS: the selected matches' indexes.
    fn lpos(&self, key: &[u8], element: &[u8], opts: LposOptions) -> Result<Vec<usize>> {
        let mut a = Argv::new("LPOS")
            .arg(key)
            .arg(element)
            .arg("RANK")
            .num(opts.rank)
            .arg("MAXLEN")
            .num(opts.maxlen);
        let single = opts.count.is_none();
        if let Some(c) = opts.count {
            a = a.arg("COUNT").num(c);
        }
        let r = a.run(self)?;
        let to_index = |n: i64| usize::try_from(n).map_err(|_| unexpected(&Reply::Integer(n)));
        if single {
            return match r {
                Reply::Nil => Ok(Vec::new()),
                r => Ok(vec![to_index(as_int(r)?)?]),
            };
        }
        as_array(r)?
            .into_iter()
            .map(|i| to_index(as_int(i)?))
            .collect()
    }
    /// LMPOP: the first non-empty list's key and up to `count` elements.
    fn lmpop(&self, keys: &[&[u8]], end: ListEnd, count: usize) -> Result<Option<MPopped>> {
        let r = Argv::new("LMPOP")
            .num(keys.len())
            .args(keys)
            .arg(end_word(end))
            .arg("COUNT")
            .num(count)
            .run(self)?;
        as_mpop(r)
    }

    /// LPUSH: the list's length afterwards.
    fn lpush(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("LPUSH").arg(key).args(values).run(self)?)
    }
    /// RPUSH.
    fn rpush(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("RPUSH").arg(key).args(values).run(self)?)
    }
    /// LPOP.
    fn lpop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("LPOP").arg(key).run(self)?)
    }
    /// RPOP.
    fn rpop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("RPOP").arg(key).run(self)?)
    }
    /// LRANGE.
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        as_bulks(
            Argv::new("LRANGE")
                .arg(key)
                .num(start)
                .num(stop)
                .run(self)?,
        )
    }
    /// LLEN.
    fn llen(&self, key: &[u8]) -> Result<usize> {
        as_usize(Argv::new("LLEN").arg(key).run(self)?)
    }
    /// LINDEX.
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
        as_opt_bulk(Argv::new("LINDEX").arg(key).num(index).run(self)?)
    }
    /// LREM: how many were removed.
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
        as_usize(Argv::new("LREM").arg(key).num(count).arg(value).run(self)?)
    }
    /// LTRIM.
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        Argv::new("LTRIM")
            .arg(key)
            .num(start)
            .num(stop)
            .run(self)
            .map(|_| ())
    }
    /// LMOVE.
    fn lmove(&self, src: &[u8], dst: &[u8], from: ListEnd, to: ListEnd) -> Result<Option<Vec<u8>>> {
        let a = Argv::new("LMOVE")
            .arg(src)
            .arg(dst)
            .arg(end_word(from))
            .arg(end_word(to));
        as_opt_bulk(a.run(self)?)
    }
    /// BLPOP: waits up to `timeout` (zero waits forever) for an element of any of `keys`.
    fn blpop(&self, keys: &[&[u8]], timeout: Duration) -> Result<Option<Popped>> {
        as_popped(
            Argv::new("BLPOP")
                .args(keys)
                .arg(timeout_arg(timeout))
                .run(self)?,
        )
    }
    /// BRPOP.
    fn brpop(&self, keys: &[&[u8]], timeout: Duration) -> Result<Option<Popped>> {
        as_popped(
            Argv::new("BRPOP")
                .args(keys)
                .arg(timeout_arg(timeout))
                .run(self)?,
        )
    }
    /// BLMOVE.
    fn blmove(
        &self,
        src: &[u8],
        dst: &[u8],
        from: ListEnd,
        to: ListEnd,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>> {
        let a = Argv::new("BLMOVE")
            .arg(src)
            .arg(dst)
            .arg(end_word(from))
            .arg(end_word(to));
        as_opt_bulk(a.arg(timeout_arg(timeout)).run(self)?)
    }
    /// BLPOP without blocking an executor thread.
    fn blpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        let _ = (keys, timeout);
        Box::pin(std::future::ready(Err(unsupported("BLPOP (async)"))))
    }
    /// BRPOP without blocking an executor thread.
    fn brpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        let _ = (keys, timeout);
        Box::pin(std::future::ready(Err(unsupported("BRPOP (async)"))))
    }

    // ---- sorted sets ----

    /// ZADD: how many members were new.
    fn zadd(&self, key: &[u8], pairs: &[(f64, &[u8])]) -> Result<usize> {
        let mut a = Argv::new("ZADD").arg(key);
        for (score, member) in pairs {
            a = a.arg(score_text(*score)).arg(member);
        }
        as_usize(a.run(self)?)
    }
    /// ZINCRBY: the new score.
    fn zincrby(&self, key: &[u8], increment: f64, member: &[u8]) -> Result<f64> {
        let r = Argv::new("ZINCRBY")
            .arg(key)
            .arg(score_text(increment))
            .arg(member)
            .run(self)?;
        as_score(r)?.ok_or_else(|| unexpected(&Reply::Nil))
    }
    /// ZREM: how many members were removed.
    fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        as_usize(Argv::new("ZREM").arg(key).args(members).run(self)?)
    }
    /// ZCARD.
    fn zcard(&self, key: &[u8]) -> Result<usize> {
        as_usize(Argv::new("ZCARD").arg(key).run(self)?)
    }
    /// ZSCORE.
    fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        as_score(Argv::new("ZSCORE").arg(key).arg(member).run(self)?)
    }
    /// ZMSCORE.
    fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        as_array(Argv::new("ZMSCORE").arg(key).args(members).run(self)?)?
            .into_iter()
            .map(as_score)
            .collect()
    }
    /// ZRANK.
    fn zrank(&self, key: &[u8], member: &[u8]) -> Result<Option<usize>> {
        as_opt_usize(Argv::new("ZRANK").arg(key).arg(member).run(self)?)
    }
    /// ZREVRANK.
    fn zrevrank(&self, key: &[u8], member: &[u8]) -> Result<Option<usize>> {
        as_opt_usize(Argv::new("ZREVRANK").arg(key).arg(member).run(self)?)
    }
    /// ZCOUNT.
    fn zcount(&self, key: &[u8], range: &ScoreRange) -> Result<usize> {
        let (min, max) = score_range_args(range);
        as_usize(Argv::new("ZCOUNT").arg(key).arg(min).arg(max).run(self)?)
    }
    /// ZRANGE in any form, with scores (a lex range answers its members' scores too).
    fn zrange(&self, key: &[u8], q: &ZRange) -> Result<Vec<ZEntry>> {
        let lex = matches!(q.by, ZRangeBy::Lex(_));
        let r = zrange_args(Argv::new("ZRANGE").arg(key), q, !lex).run(self)?;
        if !lex {
            return as_entries(r);
        }
        let members = as_bulks(r)?;
        let refs: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
        let scores = if refs.is_empty() {
            Vec::new()
        } else {
            self.zmscore(key, &refs)?
        };
        Ok(members
            .into_iter()
            .zip(scores)
            .map(|(m, s)| (m, s.unwrap_or(0.0)))
            .collect())
    }
    /// ZRANGESTORE: how many entries were stored.
    fn zrangestore(&self, dst: &[u8], src: &[u8], q: &ZRange) -> Result<usize> {
        as_usize(zrange_args(Argv::new("ZRANGESTORE").arg(dst).arg(src), q, false).run(self)?)
    }
    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE or ZREMRANGEBYLEX.
    fn zremrange(&self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        let a = match by {
            ZRangeBy::Rank(start, stop) => {
                Argv::new("ZREMRANGEBYRANK").arg(key).num(start).num(stop)
            }
            ZRangeBy::Score(r) => {
                let (min, max) = score_range_args(r);
                Argv::new("ZREMRANGEBYSCORE").arg(key).arg(min).arg(max)
            }
            ZRangeBy::Lex(r) => Argv::new("ZREMRANGEBYLEX")
                .arg(key)
                .arg(lex_arg(&r.min))
                .arg(lex_arg(&r.max)),
        };
        as_usize(a.run(self)?)
    }
    /// ZPOPMIN key count.
    fn zpopmin(&self, key: &[u8], count: usize) -> Result<Vec<ZEntry>> {
        as_entries(Argv::new("ZPOPMIN").arg(key).num(count).run(self)?)
    }
    /// ZPOPMAX key count.
    fn zpopmax(&self, key: &[u8], count: usize) -> Result<Vec<ZEntry>> {
        as_entries(Argv::new("ZPOPMAX").arg(key).num(count).run(self)?)
    }
    /// ZUNION, ZINTER or ZDIFF with scores (weights and aggregate are ignored by ZDIFF).
    fn zsetop(
        &self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<Vec<ZEntry>> {
        let name = match op {
            ZSetOp::Union => "ZUNION",
            ZSetOp::Inter => "ZINTER",
            ZSetOp::Diff => "ZDIFF",
        };
        let a = zsetop_args(
            Argv::new(name).num(keys.len()).args(keys),
            op,
            weights,
            aggregate,
        );
        as_entries(a.arg("WITHSCORES").run(self)?)
    }
    /// ZUNIONSTORE, ZINTERSTORE or ZDIFFSTORE: the size stored at `dst`.
    fn zsetop_store(
        &self,
        dst: &[u8],
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<usize> {
        let name = match op {
            ZSetOp::Union => "ZUNIONSTORE",
            ZSetOp::Inter => "ZINTERSTORE",
            ZSetOp::Diff => "ZDIFFSTORE",
        };
        let a = Argv::new(name).arg(dst).num(keys.len()).args(keys);
        as_usize(zsetop_args(a, op, weights, aggregate).run(self)?)
    }
    /// ZINTERCARD (`limit` 0: no limit).
    fn zintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let a = Argv::new("ZINTERCARD").num(keys.len()).args(keys);
        as_usize(a.arg("LIMIT").num(limit).run(self)?)
    }

    // ---- pub/sub ----

    /// PUBLISH: how many subscriptions received the message.
    fn publish(&self, channel: &[u8], message: &[u8]) -> Result<usize> {
        as_usize(Argv::new("PUBLISH").arg(channel).arg(message).run(self)?)
    }
    /// A new subscription handle (subscribed to nothing yet).
    fn subscriber(&self) -> Result<Box<dyn PubSub>> {
        Err(unsupported("subscriptions"))
    }

    // ---- transactions ----

    /// WATCH `watch`, then MULTI, the `commands`, EXEC, atomically: `Some(replies)` (errors of
    /// single commands are `Reply::Error` items), `None` when a watched key changed, and
    /// Redis's EXECABORT error when a command was refused while queuing.
    fn transaction(
        &self,
        watch: &[&[u8]],
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Option<Vec<Reply>>> {
        let _ = (watch, commands);
        Err(unsupported("transactions"))
    }

    /// MULTI, the typed `ops`, EXEC, atomically: the commands' replies in order (errors of
    /// single commands are `Reply::Error` items), exactly what [`Backend::transaction`]
    /// answers for the same commands without WATCH, and Redis's EXECABORT error when one
    /// was refused while queuing. The embedded store runs them without building or parsing
    /// argv; other backends send [`TxOp::to_argv`].
    fn transaction_ops(&self, ops: &[TxOp<'_>]) -> Result<Vec<Reply>> {
        let argv: Vec<Vec<Vec<u8>>> = ops.iter().map(TxOp::to_argv).collect();
        self.transaction(&[], &argv)?
            .ok_or_else(|| Error::Io("a transaction without WATCH was aborted".into()))
    }

    /// [`Backend::transaction_ops`] for a caller that reads the replies: each as
    /// [`TxReply::from_reply`] gives it. The embedded store builds them without building
    /// `Reply` values first; other backends convert EXEC's replies.
    fn transaction_ops_typed(&self, ops: &[TxOp<'_>]) -> Result<Vec<TxReply>> {
        Ok(self
            .transaction_ops(ops)?
            .into_iter()
            .zip(ops)
            .map(|(r, op)| TxReply::from_reply(r, op))
            .collect())
    }

    /// [`Backend::transaction_ops_typed`] into `replies`, for a caller that runs such
    /// transactions again and again: the embedded store reuses what the slots already hold
    /// (a `GET` whose slot holds a [`TxReply::Bulk`] copies the value into that bulk's
    /// allocation, a `BITFIELD` into a [`TxReply::Fields`]'s), so a caller that keeps its
    /// buffer allocates nothing once the buffer has grown. Returns how many replies it wrote
    /// (the first ones of `replies`): `ops.len()`, unless EXEC answered fewer. An error,
    /// before anything runs, when `replies` is shorter than `ops`.
    ///
    /// `now_ms`, when given, must have been read from [`Backend::clock`] just before (to
    /// build `ops`, say): a backend whose commands read that clock may take it as the
    /// transaction's time instead of reading the clock again. Other backends ignore it.
    fn transaction_ops_typed_into(
        &self,
        ops: &[TxOp<'_>],
        now_ms: Option<i64>,
        replies: &mut [TxReply],
    ) -> Result<usize> {
        let _ = now_ms;
        if replies.len() < ops.len() {
            return Err(crate::cmd::short_buffer(ops.len(), replies.len()));
        }
        let got = self.transaction_ops_typed(ops)?;
        let n = got.len().min(replies.len());
        for (slot, r) in replies.iter_mut().zip(got) {
            *slot = r;
        }
        Ok(n)
    }

    /// Optimistic locking (check-and-set): `WATCH watch`, then `build` reads what it needs
    /// through the watching connection (the `&dyn Backend` it is given) and returns the
    /// commands to queue, then MULTI, those commands, EXEC. `None` when a watched key was
    /// modified (by anyone, `build`'s own writes included) between WATCH and EXEC: nothing
    /// ran, and the caller usually tries again. An error from `build` ends the transaction
    /// (unwatched) with that error. On a cluster every key must be in the first watched
    /// key's slot. `build` may run again if the connection dropped before EXEC was sent.
    fn transaction_with(
        &self,
        watch: &[&[u8]],
        build: TxnBuilder<'_>,
    ) -> Result<Option<Vec<Reply>>> {
        let _ = (watch, build);
        Err(unsupported("transactions"))
    }
}

impl Backend for Store {
    fn execute(&self, argv: &[&[u8]]) -> Result<Reply> {
        Ok(Store::execute(self, argv))
    }
    fn touch(&self, keys: &[&[u8]]) -> Result<usize> {
        Store::touch(self, keys)
    }
    fn expiretime(&self, key: &[u8]) -> Result<i64> {
        Store::expiretime(self, key)
    }
    fn pexpiretime(&self, key: &[u8]) -> Result<i64> {
        Store::pexpiretime(self, key)
    }
    fn copy(&self, src: &[u8], dst: &[u8], replace: bool) -> Result<bool> {
        Store::copy(self, src, dst, replace)
    }
    fn randomkey(&self) -> Result<Option<Vec<u8>>> {
        Store::randomkey(self)
    }
    fn object_encoding(&self, key: &[u8]) -> Result<Option<String>> {
        Store::object_encoding(self, key)
    }
    fn flushdb(&self) -> Result<()> {
        Store::flushdb(self)
    }
    fn sort(&self, key: &[u8], opts: &SortOptions) -> Result<Vec<Option<Vec<u8>>>> {
        Store::sort(self, key, opts)
    }
    fn sort_store(&self, key: &[u8], opts: &SortOptions, dst: &[u8]) -> Result<usize> {
        Store::sort_store(self, key, opts, dst)
    }
    fn lcs(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>> {
        Store::lcs(self, a, b)
    }
    fn lcs_len(&self, a: &[u8], b: &[u8]) -> Result<usize> {
        Store::lcs_len(self, a, b)
    }
    fn hrandfield(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::hrandfield(self, key)
    }
    fn hrandfield_count(&self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        Store::hrandfield_count(self, key, count)
    }
    fn hrandfield_withvalues(&self, key: &[u8], count: i64) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Store::hrandfield_withvalues(self, key, count)
    }
    fn hscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<HScanPage> {
        Store::hscan(self, key, cursor, pattern, count)
    }
    fn linsert(&self, key: &[u8], before: bool, pivot: &[u8], element: &[u8]) -> Result<i64> {
        if before {
            Store::linsert_before(self, key, pivot, element)
        } else {
            Store::linsert_after(self, key, pivot, element)
        }
    }
    fn lpos(&self, key: &[u8], element: &[u8], opts: LposOptions) -> Result<Vec<usize>> {
        Store::lpos(self, key, element, opts)
    }
    fn lmpop(&self, keys: &[&[u8]], end: ListEnd, count: usize) -> Result<Option<MPopped>> {
        Store::lmpop(self, keys, end, count)
    }
    fn clock(&self) -> crate::Clock {
        Store::clock(self).clone()
    }
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::get(self, key)
    }
    fn set(&self, key: &[u8], value: &[u8]) -> Result<()> {
        Store::set(self, key, value)
    }
    fn set_with(&self, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome> {
        Store::set_with(self, key, value, opts)
    }
    fn setnx(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        Store::setnx(self, key, value)
    }
    fn setex(&self, key: &[u8], value: &[u8], ttl: Duration) -> Result<()> {
        Store::setex(self, key, value, ttl)
    }
    fn getdel(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::getdel(self, key)
    }
    fn mget(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        Store::mget(self, keys)
    }
    fn mset(&self, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        Store::mset(self, pairs)
    }
    fn append(&self, key: &[u8], tail: &[u8]) -> Result<usize> {
        Store::append(self, key, tail)
    }
    fn strlen(&self, key: &[u8]) -> Result<usize> {
        Store::strlen(self, key)
    }
    fn getrange(&self, key: &[u8], start: i64, end: i64) -> Result<Vec<u8>> {
        Store::getrange(self, key, start, end)
    }
    fn incr(&self, key: &[u8]) -> Result<i64> {
        Store::incr(self, key)
    }
    fn incrby(&self, key: &[u8], by: i64) -> Result<i64> {
        Store::incrby(self, key, by)
    }
    fn decrby(&self, key: &[u8], by: i64) -> Result<i64> {
        Store::decrby(self, key, by)
    }
    fn incrbyfloat(&self, key: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        Store::incrbyfloat(self, key, by)
    }
    fn hset(&self, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        Store::hset(self, key, pairs)
    }
    fn hsetnx(&self, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        Store::hsetnx(self, key, field, value)
    }
    fn hget(&self, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::hget(self, key, field)
    }
    fn hmget(&self, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        Store::hmget(self, key, fields)
    }
    fn hgetall(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Store::hgetall(self, key)
    }
    fn hdel(&self, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        Store::hdel(self, key, fields)
    }
    fn hexists(&self, key: &[u8], field: &[u8]) -> Result<bool> {
        Store::hexists(self, key, field)
    }
    fn hlen(&self, key: &[u8]) -> Result<usize> {
        Store::hlen(self, key)
    }
    fn hkeys(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        Store::hkeys(self, key)
    }
    fn hvals(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        Store::hvals(self, key)
    }
    fn hincrby(&self, key: &[u8], field: &[u8], by: i64) -> Result<i64> {
        Store::hincrby(self, key, field, by)
    }
    fn hincrbyfloat(&self, key: &[u8], field: &[u8], by: &[u8]) -> Result<Vec<u8>> {
        Store::hincrbyfloat(self, key, field, by)
    }
    fn sadd(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        Store::sadd(self, key, members)
    }
    fn srem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        Store::srem(self, key, members)
    }
    fn smembers(&self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        Store::smembers(self, key)
    }
    fn sismember(&self, key: &[u8], member: &[u8]) -> Result<bool> {
        Store::sismember(self, key, member)
    }
    fn smismember(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        Store::smismember(self, key, members)
    }
    fn scard(&self, key: &[u8]) -> Result<usize> {
        Store::scard(self, key)
    }
    fn spop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::spop(self, key)
    }
    fn spop_count(&self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
        Store::spop_count(self, key, count)
    }
    fn srandmember(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::srandmember(self, key)
    }
    fn srandmember_count(&self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        Store::srandmember_count(self, key, count)
    }
    fn smove(&self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        Store::smove(self, src, dst, member)
    }
    fn sinter(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        Store::sinter(self, keys)
    }
    fn sintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        Store::sintercard(self, keys, limit)
    }
    fn sinterstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        Store::sinterstore(self, dst, keys)
    }
    fn sunion(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        Store::sunion(self, keys)
    }
    fn sunionstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        Store::sunionstore(self, dst, keys)
    }
    fn sdiff(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        Store::sdiff(self, keys)
    }
    fn sdiffstore(&self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        Store::sdiffstore(self, dst, keys)
    }
    fn sscan(
        &self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<SScanPage> {
        Store::sscan(self, key, cursor, pattern, count)
    }
    fn dump(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::dump(self, key)
    }
    fn restore(
        &self,
        key: &[u8],
        ttl: Duration,
        payload: &[u8],
        opts: RestoreOptions,
    ) -> Result<()> {
        Store::restore(self, key, ttl, payload, opts)
    }
    fn del(&self, keys: &[&[u8]]) -> Result<usize> {
        Store::del(self, keys)
    }
    fn exists(&self, keys: &[&[u8]]) -> Result<usize> {
        Store::exists(self, keys)
    }
    fn key_type(&self, key: &[u8]) -> Result<KeyType> {
        Store::key_type(self, key)
    }
    fn keys(&self, pattern: &[u8]) -> Result<Vec<Vec<u8>>> {
        Store::keys(self, pattern)
    }
    fn scan(&self, cursor: u64, pattern: Option<&[u8]>, count: usize) -> Result<ScanPage> {
        Store::scan(self, cursor, pattern, count)
    }
    fn dbsize(&self) -> Result<usize> {
        Store::dbsize(self)
    }
    fn flushall(&self) -> Result<()> {
        Store::flushall(self)
    }
    fn rename(&self, from: &[u8], to: &[u8]) -> Result<()> {
        Store::rename(self, from, to)
    }
    fn renamenx(&self, from: &[u8], to: &[u8]) -> Result<bool> {
        Store::renamenx(self, from, to)
    }
    fn expire_if(&self, key: &[u8], ttl: Duration, cond: ExpireCondition) -> Result<bool> {
        Store::expire_if(self, key, ttl, cond)
    }
    fn pexpireat(&self, key: &[u8], unix_ms: i64) -> Result<bool> {
        Store::pexpireat(self, key, unix_ms)
    }
    fn ttl(&self, key: &[u8]) -> Result<Ttl> {
        Store::ttl(self, key)
    }
    fn persist(&self, key: &[u8]) -> Result<bool> {
        Store::persist(self, key)
    }
    fn setbit(&self, key: &[u8], offset: u64, bit: bool) -> Result<u8> {
        Store::setbit(self, key, offset, bit)
    }
    fn getbit(&self, key: &[u8], offset: u64) -> Result<u8> {
        Store::getbit(self, key, offset)
    }
    fn bitcount(&self, key: &[u8], range: Option<(i64, i64, BitUnit)>) -> Result<i64> {
        Store::bitcount(self, key, range)
    }
    fn bitpos(&self, key: &[u8], bit: bool, range: Option<BitposRange>) -> Result<i64> {
        Store::bitpos(self, key, bit, range)
    }
    fn bitop(&self, op: BitOp, dest: &[u8], sources: &[&[u8]]) -> Result<usize> {
        Store::bitop(self, op, dest, sources)
    }
    fn bitfield(&self, key: &[u8], ops: &[BitfieldOp]) -> Result<Vec<Option<i64>>> {
        Store::bitfield(self, key, ops)
    }

    fn pfadd(&self, key: &[u8], items: &[&[u8]]) -> Result<bool> {
        Store::pfadd(self, key, items)
    }
    fn pfcount(&self, keys: &[&[u8]]) -> Result<u64> {
        Store::pfcount(self, keys)
    }
    fn pfmerge(&self, dest: &[u8], sources: &[&[u8]]) -> Result<()> {
        Store::pfmerge(self, dest, sources)
    }
    fn bf_reserve(&self, key: &[u8], opts: BloomOptions) -> Result<()> {
        Store::bf_reserve(self, key, opts)
    }
    fn bf_add(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        Store::bf_add(self, key, item)
    }
    fn bf_madd(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<Result<bool>>> {
        Store::bf_madd(self, key, items)
    }
    fn bf_insert(
        &self,
        key: &[u8],
        opts: BfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<Result<bool>>> {
        Store::bf_insert(self, key, opts, items)
    }
    fn bf_exists(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        Store::bf_exists(self, key, item)
    }
    fn bf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        Store::bf_mexists(self, key, items)
    }
    fn bf_info(&self, key: &[u8]) -> Result<BloomInfo> {
        Store::bf_info(self, key)
    }
    fn bf_card(&self, key: &[u8]) -> Result<u64> {
        Store::bf_card(self, key)
    }
    fn cf_reserve(&self, key: &[u8], capacity: u64, opts: CfReserveOptions) -> Result<()> {
        Store::cf_reserve(self, key, capacity, opts)
    }
    fn cf_add(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        Store::cf_add(self, key, item)
    }
    fn cf_addnx(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        Store::cf_addnx(self, key, item)
    }
    fn cf_insert(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<InsertOutcome>> {
        Store::cf_insert(self, key, opts, items)
    }
    fn cf_insertnx(
        &self,
        key: &[u8],
        opts: CfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<InsertOutcome>> {
        Store::cf_insertnx(self, key, opts, items)
    }
    fn cf_exists(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        Store::cf_exists(self, key, item)
    }
    fn cf_mexists(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        Store::cf_mexists(self, key, items)
    }
    fn cf_del(&self, key: &[u8], item: &[u8]) -> Result<bool> {
        Store::cf_del(self, key, item)
    }
    fn cf_count(&self, key: &[u8], item: &[u8]) -> Result<u64> {
        Store::cf_count(self, key, item)
    }
    fn cf_info(&self, key: &[u8]) -> Result<CuckooInfo> {
        Store::cf_info(self, key)
    }
    fn cms_initbydim(&self, key: &[u8], width: u64, depth: u64) -> Result<()> {
        Store::cms_initbydim(self, key, width, depth)
    }
    fn cms_initbyprob(&self, key: &[u8], error: f64, prob: f64) -> Result<()> {
        Store::cms_initbyprob(self, key, error, prob)
    }
    fn cms_incrby(&self, key: &[u8], pairs: &[(&[u8], u64)]) -> Result<Vec<Result<u64>>> {
        Store::cms_incrby(self, key, pairs)
    }
    fn cms_query(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<u64>> {
        Store::cms_query(self, key, items)
    }
    fn cms_merge(&self, dest: &[u8], sources: &[&[u8]], weights: Option<&[i64]>) -> Result<()> {
        Store::cms_merge(self, dest, sources, weights)
    }
    fn cms_info(&self, key: &[u8]) -> Result<CmsInfo> {
        Store::cms_info(self, key)
    }
    fn topk_reserve(&self, key: &[u8], opts: TopKOptions) -> Result<()> {
        Store::topk_reserve(self, key, opts)
    }
    fn topk_add(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>> {
        Store::topk_add(self, key, items)
    }
    fn topk_incrby(&self, key: &[u8], pairs: &[(&[u8], i64)]) -> Result<Vec<Option<Vec<u8>>>> {
        Store::topk_incrby(self, key, pairs)
    }
    fn topk_query(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        Store::topk_query(self, key, items)
    }
    fn topk_count(&self, key: &[u8], items: &[&[u8]]) -> Result<Vec<u64>> {
        Store::topk_count(self, key, items)
    }
    fn topk_list(&self, key: &[u8]) -> Result<Vec<(Vec<u8>, u64)>> {
        Store::topk_list(self, key)
    }
    fn topk_info(&self, key: &[u8]) -> Result<TopKInfo> {
        Store::topk_info(self, key)
    }
    fn tdigest_create(&self, key: &[u8], compression: Option<i64>) -> Result<()> {
        Store::tdigest_create(self, key, compression)
    }
    fn tdigest_reset(&self, key: &[u8]) -> Result<()> {
        Store::tdigest_reset(self, key)
    }
    fn tdigest_add(&self, key: &[u8], values: &[f64]) -> Result<()> {
        Store::tdigest_add(self, key, values)
    }
    fn tdigest_merge(
        &self,
        dest: &[u8],
        sources: &[&[u8]],
        opts: TDigestMergeOptions,
    ) -> Result<()> {
        Store::tdigest_merge(self, dest, sources, opts)
    }
    fn tdigest_min(&self, key: &[u8]) -> Result<f64> {
        Store::tdigest_min(self, key)
    }
    fn tdigest_max(&self, key: &[u8]) -> Result<f64> {
        Store::tdigest_max(self, key)
    }
    fn tdigest_quantile(&self, key: &[u8], qs: &[f64]) -> Result<Vec<f64>> {
        Store::tdigest_quantile(self, key, qs)
    }
    fn tdigest_cdf(&self, key: &[u8], values: &[f64]) -> Result<Vec<f64>> {
        Store::tdigest_cdf(self, key, values)
    }
    fn tdigest_rank(&self, key: &[u8], values: &[f64], reverse: bool) -> Result<Vec<i64>> {
        if reverse {
            Store::tdigest_revrank(self, key, values)
        } else {
            Store::tdigest_rank(self, key, values)
        }
    }
    fn tdigest_byrank(&self, key: &[u8], ranks: &[i64], reverse: bool) -> Result<Vec<f64>> {
        if reverse {
            Store::tdigest_byrevrank(self, key, ranks)
        } else {
            Store::tdigest_byrank(self, key, ranks)
        }
    }
    fn tdigest_trimmed_mean(&self, key: &[u8], low: f64, high: f64) -> Result<f64> {
        Store::tdigest_trimmed_mean(self, key, low, high)
    }
    fn tdigest_info(&self, key: &[u8]) -> Result<TDigestInfo> {
        Store::tdigest_info(self, key)
    }
    fn lpush(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
        Store::lpush(self, key, values)
    }
    fn rpush(&self, key: &[u8], values: &[&[u8]]) -> Result<usize> {
        Store::rpush(self, key, values)
    }
    fn lpop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::lpop(self, key)
    }
    fn rpop(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Store::rpop(self, key)
    }
    fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        Store::lrange(self, key, start, stop)
    }
    fn llen(&self, key: &[u8]) -> Result<usize> {
        Store::llen(self, key)
    }
    fn lindex(&self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
        Store::lindex(self, key, index)
    }
    fn lrem(&self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
        Store::lrem(self, key, count, value)
    }
    fn ltrim(&self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        Store::ltrim(self, key, start, stop)
    }
    fn lmove(&self, src: &[u8], dst: &[u8], from: ListEnd, to: ListEnd) -> Result<Option<Vec<u8>>> {
        Store::lmove(self, src, dst, from, to)
    }
    fn blpop(&self, keys: &[&[u8]], timeout: Duration) -> Result<Option<Popped>> {
        Store::blpop(self, keys, timeout)
    }
    fn brpop(&self, keys: &[&[u8]], timeout: Duration) -> Result<Option<Popped>> {
        Store::brpop(self, keys, timeout)
    }
    fn blmove(
        &self,
        src: &[u8],
        dst: &[u8],
        from: ListEnd,
        to: ListEnd,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>> {
        Store::blmove(self, src, dst, from, to, timeout)
    }
    fn blpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        Box::pin(Store::blpop_async(self, keys, timeout))
    }
    fn brpop_async(
        &self,
        keys: &[&[u8]],
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Option<Popped>>> {
        Box::pin(Store::brpop_async(self, keys, timeout))
    }
    fn zadd(&self, key: &[u8], pairs: &[(f64, &[u8])]) -> Result<usize> {
        Store::zadd(self, key, pairs)
    }
    fn zincrby(&self, key: &[u8], increment: f64, member: &[u8]) -> Result<f64> {
        Store::zincrby(self, key, increment, member)
    }
    fn zrem(&self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        Store::zrem(self, key, members)
    }
    fn zcard(&self, key: &[u8]) -> Result<usize> {
        Store::zcard(self, key)
    }
    fn zscore(&self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        Store::zscore(self, key, member)
    }
    fn zmscore(&self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        Store::zmscore(self, key, members)
    }
    fn zrank(&self, key: &[u8], member: &[u8]) -> Result<Option<usize>> {
        Store::zrank(self, key, member)
    }
    fn zrevrank(&self, key: &[u8], member: &[u8]) -> Result<Option<usize>> {
        Store::zrevrank(self, key, member)
    }
    fn zcount(&self, key: &[u8], range: &ScoreRange) -> Result<usize> {
        Store::zcount(self, key, range)
    }
    fn zrange(&self, key: &[u8], q: &ZRange) -> Result<Vec<ZEntry>> {
        Store::zrange(self, key, q)
    }
    fn zrangestore(&self, dst: &[u8], src: &[u8], q: &ZRange) -> Result<usize> {
        Store::zrangestore(self, dst, src, q)
    }
    fn zremrange(&self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        Store::zremrange(self, key, by)
    }
    fn zpopmin(&self, key: &[u8], count: usize) -> Result<Vec<ZEntry>> {
        Store::zpopmin(self, key, count)
    }
    fn zpopmax(&self, key: &[u8], count: usize) -> Result<Vec<ZEntry>> {
        Store::zpopmax(self, key, count)
    }
    fn zsetop(
        &self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<Vec<ZEntry>> {
        Store::zsetop(self, op, keys, weights, aggregate)
    }
    fn zsetop_store(
        &self,
        dst: &[u8],
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<usize> {
        Store::zsetop_store(self, dst, op, keys, weights, aggregate)
    }
    fn zintercard(&self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        Store::zintercard(self, keys, limit)
    }
    fn publish(&self, channel: &[u8], message: &[u8]) -> Result<usize> {
        Store::publish(self, channel, message)
    }
    fn subscriber(&self) -> Result<Box<dyn PubSub>> {
        Ok(Box::new(Store::subscriber(self)?))
    }
    fn transaction(
        &self,
        watch: &[&[u8]],
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Option<Vec<Reply>>> {
        if watch.is_empty() {
            if let Some(r) = self.multi_exec(commands) {
                return exec_outcome(r);
            }
        }
        self.transaction_with(watch, &mut |_| Ok(commands.to_vec()))
    }
    fn transaction_ops(&self, ops: &[TxOp<'_>]) -> Result<Vec<Reply>> {
        self.exec_ops(ops)
    }
    fn transaction_ops_typed(&self, ops: &[TxOp<'_>]) -> Result<Vec<TxReply>> {
        self.exec_ops_typed(ops)
    }
    fn transaction_ops_typed_into(
        &self,
        ops: &[TxOp<'_>],
        now_ms: Option<i64>,
        replies: &mut [TxReply],
    ) -> Result<usize> {
        self.exec_ops_typed_into(ops, now_ms, replies)
    }
    fn transaction_with(
        &self,
        watch: &[&[u8]],
        build: TxnBuilder<'_>,
    ) -> Result<Option<Vec<Reply>>> {
        let mut conn = self.connection();
        if !watch.is_empty() {
            conn.watch(watch)?;
        }
        let commands = build(self)?;
        conn.multi()?;
        for argv in &commands {
            conn.execute(argv);
        }
        exec_outcome(conn.exec())
    }
}

/// The outcome of an embedded EXEC reply.
fn exec_outcome(r: Reply) -> Result<Option<Vec<Reply>>> {
    match r {
        Reply::Array(items) => Ok(Some(items)),
        Reply::NilArray => Ok(None),
        Reply::Error(e) => Err(Error::from_reply_text(&e)),
        other => Err(unexpected(&other)),
    }
}
