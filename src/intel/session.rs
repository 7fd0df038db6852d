//! [`SessionIntel`]: the five session-intelligence operations over any [`Backend`].
//!
//! # Keys
//!
//! Every key of a session carries the session id as a hash tag, so that all of them live in
//! one Redis Cluster slot and the pageview transaction runs unchanged on a cluster:
//!
//! | key | type | written by | read by |
//! |---|---|---|---|
//! | `ss:{<session>}:pages` | HyperLogLog of the pages viewed | pageview (`PFADD`) | pageview (`PFCOUNT`) |
//! | `ss:{<session>}:views` | counter of page views | pageview (`INCR`) | pageview |
//! | `ss:{<session>}:activity` | [`ActivityTracker`] ring of views per time bucket | pageview (`BITFIELD`) | pageview (`GET`) |
//! | `ss:{<session>}:viewed` | Bloom filter of the pages viewed | pageview (`BF.ADD`) | combo, featured pages (`BF.MEXISTS`) |
//! | `ss:{<session>}:seen` | Bloom filter of the notifications seen | mark notification seen (`BF.ADD`) | notifications (`BF.MEXISTS`) |
//!
//! Every write refreshes the idle expiry of all five keys (`PEXPIRE`, in the same
//! transaction), so a session disappears whole [`IntelConfig::idle_timeout`] after its last
//! pageview or notification mark. Reads do not refresh it. The Bloom filters are created by
//! their first `BF.ADD` with RedisBloom's defaults (capacity 100, error rate 1%, growing by
//! 2): a reader may answer "viewed" for a page that was not (about 1 in 100), never the
//! reverse.
//!
//! # Time
//!
//! Activity buckets are taken from a [`Clock`]: the store's own for
//! [`SessionIntel::embedded`], [`IntelConfig::clock`] for [`SessionIntel::new`] (the system
//! clock unless a test passes a manual one).

use super::activity::ActivityTracker;
use crate::backend::Backend;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Store;
use crate::types::bitmap::{BitfieldOp, BitfieldType, Overflow};
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Duration;

/// The longest session id accepted.
pub const MAX_SESSION_ID_LEN: usize = 64;

/// Settings of a [`SessionIntel`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IntelConfig {
    /// How long a session's keys live after its last write. Default 30 minutes.
    pub idle_timeout: Duration,
    /// Width of one activity bucket. Default 1 minute.
    pub activity_bucket: Duration,
    /// How much activity history is kept. Default 1 hour.
    pub activity_span: Duration,
    /// How many buckets (the most recent, oldest first) a pageview reports. Default 30.
    pub activity_window: usize,
    /// The clock of [`SessionIntel::new`] (ignored by [`SessionIntel::embedded`], which
    /// uses the store's). Default: the system clock.
    pub clock: Clock,
}

impl Default for IntelConfig {
    fn default() -> IntelConfig {
        IntelConfig {
            idle_timeout: Duration::from_secs(30 * 60),
            activity_bucket: Duration::from_secs(60),
            activity_span: Duration::from_secs(3600),
            activity_window: 30,
            clock: Clock::system(),
        }
    }
}

/// What a pageview reports about its session afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageviewStats {
    /// Distinct pages viewed (a HyperLogLog estimate, exact for small counts).
    pub unique_pages: u64,
    /// Page views in all.
    pub total_views: i64,
    /// Views per activity bucket, the last [`IntelConfig::activity_window`] buckets, oldest
    /// first (the last one holds this view).
    pub activity: Vec<u8>,
}

/// The keys of one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionKeys {
    /// HyperLogLog of the pages viewed.
    pub pages: Vec<u8>,
    /// Counter of views.
    pub views: Vec<u8>,
    /// Activity tracker.
    pub activity: Vec<u8>,
    /// Bloom filter of the pages viewed.
    pub viewed: Vec<u8>,
    /// Bloom filter of the notifications seen.
    pub seen: Vec<u8>,
}

impl SessionKeys {
    /// The keys of `session` (which must be a valid session id, see
    /// [`valid_session_id`]).
    pub fn of(session: &str) -> SessionKeys {
        let k = |i: usize| {
            let mut key = Vec::new();
            push_key(&mut key, session, KEY_NAMES[i]);
            key
        };
        SessionKeys {
            pages: k(PAGES),
            views: k(VIEWS),
            activity: k(ACTIVITY),
            viewed: k(VIEWED),
            seen: k(SEEN),
        }
    }

    /// All five, in the order of the table in the module documentation.
    pub fn all(&self) -> [&[u8]; 5] {
        [
            &self.pages,
            &self.views,
            &self.activity,
            &self.viewed,
            &self.seen,
        ]
    }
}

/// Whether `id` can name a session: 1 to 64 ASCII letters, digits, `-` or `_`. Anything else
/// (`:` separates the segments of bus channels, `{}` are hash-tag delimiters, `*?[]\` are
/// glob characters) is refused.
pub fn valid_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_session(id: &str) -> Result<()> {
    if valid_session_id(id) {
        Ok(())
    } else {
        Err(Error::Io(format!("invalid session id {id:?}")))
    }
}

/// The session-intelligence operations over one backend. Cheap to share (`Arc`), safe to use
/// from any number of threads. See the module documentation for keys and expiry.
pub struct SessionIntel {
    backend: Arc<dyn Backend>,
    tracker: ActivityTracker,
    config: IntelConfig,
    /// `config.idle_timeout` in ms, in decimal: PEXPIRE's argument.
    ttl: Box<[u8]>,
}

impl std::fmt::Debug for SessionIntel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionIntel")
            .field("tracker", &self.tracker)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The idle timeout in ms as PEXPIRE takes it (at least 1), in decimal.
fn ttl_arg(d: Duration) -> Box<[u8]> {
    d.as_millis().max(1).to_string().into_bytes().into()
}

/// The five key names of a session, in the order of [`SessionKeys::all`].
const KEY_NAMES: [&[u8]; 5] = [b"pages", b"views", b"activity", b"viewed", b"seen"];
const PAGES: usize = 0;
const VIEWS: usize = 1;
const ACTIVITY: usize = 2;
const VIEWED: usize = 3;
const SEEN: usize = 4;

/// Appends the key `name` of `session`: `ss:{<session>}:<name>`.
fn push_key(out: &mut Vec<u8>, session: &str, name: &[u8]) {
    out.extend_from_slice(b"ss:{");
    out.extend_from_slice(session.as_bytes());
    out.extend_from_slice(b"}:");
    out.extend_from_slice(name);
}

/// Appends `n` in decimal.
fn push_int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends `u` in decimal.
fn push_u64(out: &mut Vec<u8>, mut u: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// The commands of one transaction, built in buffers that the thread reuses from call to
/// call: a pageview is eleven commands of about forty arguments, which would otherwise be
/// as many allocations per call.
#[derive(Default)]
struct Commands {
    cmds: Vec<Vec<Vec<u8>>>,
    /// Commands built so far; `cmds` beyond are spare buffers.
    len: usize,
    /// Arguments of the command being built; its spare buffers beyond are dropped when it
    /// ends.
    argc: usize,
    /// The longest argument built, to drop buffers grown by an outsized one.
    longest: usize,
    /// `ss:{<session>}:`, the prefix of the keys of the session being built for.
    prefix: Vec<u8>,
}

/// Arguments longer than this are not kept for reuse.
const SCRATCH_KEEP: usize = 1024;

impl Commands {
    /// Runs `f` with this thread's reusable buffers, or fresh ones if they are in use.
    fn with<R>(f: impl FnOnce(&mut Commands) -> R) -> R {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Commands> = std::cell::RefCell::default();
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut c) => {
                c.len = 0;
                c.argc = 0;
                c.longest = 0;
                let r = f(&mut c);
                if c.longest > SCRATCH_KEEP {
                    *c = Commands::default();
                }
                r
            }
            Err(_) => f(&mut Commands::default()),
        })
    }

    fn end_command(&mut self) {
        if self.len > 0 {
            let argc = self.argc;
            self.cmds[self.len - 1].truncate(argc);
        }
    }

    /// Starts a command named `name`.
    fn command(&mut self, name: &[u8]) -> &mut Commands {
        self.end_command();
        if self.cmds.len() == self.len {
            self.cmds.push(Vec::new());
        }
        self.len += 1;
        self.argc = 0;
        self.arg(name)
    }

    /// A cleared buffer for the next argument of the current command.
    fn next_arg(&mut self) -> &mut Vec<u8> {
        let cmd = &mut self.cmds[self.len - 1];
        if cmd.len() == self.argc {
            cmd.push(Vec::new());
        }
        let a = &mut cmd[self.argc];
        self.argc += 1;
        a.clear();
        a
    }

    fn arg(&mut self, bytes: &[u8]) -> &mut Commands {
        self.longest = self.longest.max(bytes.len());
        self.next_arg().extend_from_slice(bytes);
        self
    }

    fn int(&mut self, n: i64) -> &mut Commands {
        push_int(self.next_arg(), n);
        self
    }

    /// Sets the session whose keys [`Commands::key`] names.
    fn session(&mut self, session: &str) -> &mut Commands {
        self.prefix.clear();
        push_key(&mut self.prefix, session, b"");
        self
    }

    /// The key `name` of the session.
    fn key(&mut self, name: &[u8]) -> &mut Commands {
        let a = &mut self.cmds[self.len - 1];
        if a.len() == self.argc {
            a.push(Vec::new());
        }
        let a = &mut a[self.argc];
        self.argc += 1;
        a.clear();
        a.extend_from_slice(&self.prefix);
        a.extend_from_slice(name);
        self
    }

    /// The BITFIELD ops `ops`, as arguments.
    fn bitfield_ops(&mut self, ops: &[BitfieldOp]) -> &mut Commands {
        let ty = |c: &mut Commands, t: BitfieldType| {
            let a = c.next_arg();
            a.push(if t.is_signed() { b'i' } else { b'u' });
            push_int(a, i64::from(t.bits()));
        };
        for op in ops {
            match *op {
                BitfieldOp::Get(t, o) => {
                    self.arg(b"GET");
                    ty(self, t);
                    self.int_u64(o);
                }
                BitfieldOp::Set(t, o, v) => {
                    self.arg(b"SET");
                    ty(self, t);
                    self.int_u64(o).int(v);
                }
                BitfieldOp::IncrBy(t, o, v) => {
                    self.arg(b"INCRBY");
                    ty(self, t);
                    self.int_u64(o).int(v);
                }
                BitfieldOp::Overflow(o) => {
                    self.arg(b"OVERFLOW").arg(match o {
                        Overflow::Wrap => b"WRAP",
                        Overflow::Sat => b"SAT",
                        Overflow::Fail => b"FAIL",
                    });
                }
            }
        }
        self
    }

    fn int_u64(&mut self, n: u64) -> &mut Commands {
        push_u64(self.next_arg(), n);
        self
    }

    /// `PEXPIRE` of every key of the session, `ttl` being the time in ms in decimal.
    fn refresh(&mut self, ttl: &[u8]) -> &mut Commands {
        for name in KEY_NAMES {
            self.command(b"PEXPIRE").key(name).arg(ttl);
        }
        self
    }

    /// The commands built.
    fn done(&mut self) -> &[Vec<Vec<u8>>] {
        self.end_command();
        &self.cmds[..self.len]
    }
}

fn malformed(what: &str, r: &Reply) -> Error {
    Error::Io(format!("unexpected {what} reply in a transaction: {r:?}"))
}

/// A reply of EXEC's array: a command's error becomes `Err` with Redis's text.
fn ok(r: Reply) -> Result<Reply> {
    match r {
        Reply::Error(e) => Err(Error::from_reply_text(&e)),
        r => Ok(r),
    }
}

fn int(r: Reply, what: &str) -> Result<i64> {
    match ok(r)? {
        Reply::Integer(n) => Ok(n),
        r => Err(malformed(what, &r)),
    }
}

impl SessionIntel {
    /// The operations over `backend`, reading time from `config.clock`.
    pub fn new(backend: Arc<dyn Backend>, config: IntelConfig) -> Result<SessionIntel> {
        let tracker = ActivityTracker::new(config.activity_bucket, config.activity_span)
            .ok_or_else(|| Error::Io("the activity bucket must not be zero".into()))?;
        Ok(SessionIntel {
            backend,
            ttl: ttl_arg(config.idle_timeout),
            tracker,
            config,
        })
    }

    /// The operations over an embedded store, reading time from the store's clock.
    pub fn embedded(store: &Store, mut config: IntelConfig) -> Result<SessionIntel> {
        config.clock = store.clock().clone();
        SessionIntel::new(Arc::new(store.clone()), config)
    }

    /// The backend the operations run on.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The settings.
    pub fn config(&self) -> &IntelConfig {
        &self.config
    }

    /// The activity tracker the pageviews record into.
    pub fn tracker(&self) -> &ActivityTracker {
        &self.tracker
    }

    /// Records a view of `page` in one MULTI/EXEC: `PFADD` to the unique pages, `INCR` of the
    /// views, the activity `BITFIELD`, `PFCOUNT`, `BF.ADD` to the viewed pages, `GET` of the
    /// activity ring and `PEXPIRE` of every key of the session. A stale activity count found
    /// by the BITFIELD (the ring slot's previous lap) is removed after EXEC.
    pub fn pageview(&self, session: &str, page: &str) -> Result<PageviewStats> {
        check_session(session)?;
        let now = self.config.clock.now_ms();
        let ops = self.tracker.record_ops(now);
        let page = page.as_bytes();
        let replies = Commands::with(|c| {
            c.session(session);
            c.command(b"PFADD").key(KEY_NAMES[PAGES]).arg(page);
            c.command(b"INCR").key(KEY_NAMES[VIEWS]);
            c.command(b"BITFIELD")
                .key(KEY_NAMES[ACTIVITY])
                .bitfield_ops(&ops);
            c.command(b"PFCOUNT").key(KEY_NAMES[PAGES]);
            c.command(b"BF.ADD").key(KEY_NAMES[VIEWED]).arg(page);
            c.command(b"GET").key(KEY_NAMES[ACTIVITY]);
            c.refresh(&self.ttl);
            self.backend.transaction(&[], c.done())
        })?;
        let Some(replies) = replies else {
            return Err(Error::Io("pageview transaction aborted".into()));
        };
        let mut r = replies.into_iter();
        let mut next = || r.next().ok_or_else(|| Error::Io("short EXEC reply".into()));
        ok(next()?)?;
        let total_views = int(next()?, "INCR")?;
        let bitfield: SmallVec<[Option<i64>; 4]> = match ok(next()?)? {
            Reply::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Reply::Integer(n) => Ok(Some(n)),
                    Reply::Nil => Ok(None),
                    other => Err(malformed("BITFIELD", &other)),
                })
                .collect::<Result<_>>()?,
            other => return Err(malformed("BITFIELD", &other)),
        };
        let unique_pages = int(next()?, "PFCOUNT")?.max(0) as u64;
        ok(next()?)?;
        let ring = match ok(next()?)? {
            Reply::Bulk(b) => b,
            Reply::Nil => Vec::new(),
            other => return Err(malformed("GET", &other)),
        };
        let layout = self.tracker.layout();
        let (_, at) = layout.record_ops(now);
        let stale = layout.stale_count(at, &bitfield);
        if stale > 0 {
            let mut activity_key = Vec::new();
            push_key(&mut activity_key, session, KEY_NAMES[ACTIVITY]);
            self.tracker
                .finish_record(&*self.backend, &activity_key, now, &bitfield)?;
        }
        let mut activity = layout.window(&ring, now, self.config.activity_window);
        // The ring was read before the stale count was removed: it sits in the last bucket.
        if let Some(last) = activity.last_mut() {
            *last = (i64::from(*last) - stale).clamp(0, 255) as u8;
        }
        Ok(PageviewStats {
            unique_pages,
            total_views,
            activity,
        })
    }

    /// Marks `notification` seen (`BF.ADD`), refreshing the session's expiry in the same
    /// transaction. True when it was not marked before (as far as the filter can tell).
    pub fn mark_notification_seen(&self, session: &str, notification: &str) -> Result<bool> {
        check_session(session)?;
        let replies = Commands::with(|c| {
            c.session(session);
            c.command(b"BF.ADD")
                .key(KEY_NAMES[SEEN])
                .arg(notification.as_bytes());
            c.refresh(&self.ttl);
            self.backend.transaction(&[], c.done())
        })?;
        let Some(replies) = replies else {
            return Err(Error::Io("notification transaction aborted".into()));
        };
        let first = replies
            .into_iter()
            .next()
            .ok_or_else(|| Error::Io("short EXEC reply".into()))?;
        Ok(int(first, "BF.ADD")? != 0)
    }

    /// Whether every one of `items` was viewed (`BF.MEXISTS` on the viewed pages); true for
    /// no items.
    pub fn combo(&self, session: &str, items: &[&str]) -> Result<bool> {
        Ok(self
            .flags(session, |k| &k.viewed, items)?
            .iter()
            .all(|(_, seen)| *seen))
    }

    /// Each of `list` with whether it was marked seen (`BF.MEXISTS`), in order.
    pub fn notifications(&self, session: &str, list: &[&str]) -> Result<Vec<(String, bool)>> {
        self.flags(session, |k| &k.seen, list)
    }

    /// Each of `pages` with whether it was viewed (`BF.MEXISTS`), in order.
    pub fn featured_pages(&self, session: &str, pages: &[&str]) -> Result<Vec<(String, bool)>> {
        self.flags(session, |k| &k.viewed, pages)
    }

    fn flags(
        &self,
        session: &str,
        key: impl Fn(&SessionKeys) -> &Vec<u8>,
        items: &[&str],
    ) -> Result<Vec<(String, bool)>> {
        check_session(session)?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let keys = SessionKeys::of(session);
        let bytes: Vec<&[u8]> = items.iter().map(|i| i.as_bytes()).collect();
        let found = self.backend.bf_mexists(key(&keys), &bytes)?;
        Ok(items
            .iter()
            .zip(found)
            .map(|(i, f)| ((*i).to_owned(), f))
            .collect())
    }
}
