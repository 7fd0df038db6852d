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
//! # Trending pages per site
//!
//! With [`IntelConfig::site`] set, every pageview also feeds the site's top-k sketch
//! `ss:{site:<site>}:trending` (`TOPK.ADD`, created by the first view with
//! [`IntelConfig::trending_k`] slots and RedisBloom's other defaults). The site key has its
//! own hash tag, so on a cluster it lives in another slot than the session's keys: it is
//! written right after the pageview's transaction, not inside it, and a failure there does
//! not fail the pageview. [`SessionIntel::trending`] reads the list back (`TOPK.LIST
//! WITHCOUNT`), heaviest first. The sketch never expires. Counts are HeavyKeeper estimates:
//! a page's count never exceeds its views, and heavy pages keep theirs.
//!
//! # View time per site
//!
//! The serving layer reports how long a page stayed in front of the visitor
//! ([`SessionIntel::view_time`], or [`record_view_time`] on any backend): one duration in
//! milliseconds, added to the site's t-digest `ss:{site:<site>}:viewtime` (`TDIGEST.ADD`;
//! the first one creates it with compression [`VIEW_TIME_COMPRESSION`]).
//! [`SessionIntel::view_time_quantiles`] reads p50, p90 and p99 back (`TDIGEST.QUANTILE`).
//! One digest per site, not per page: the question is how long visitors look at the shop's
//! pages, a page's own digest would hold too few views to say much, and one key keeps the
//! state bounded (a few kilobytes) however many pages there are. Like the trending sketch,
//! the key has the site's hash tag and never expires. The write is not part of a session's
//! transaction and answers nothing the page needs, so it needs no bus round trip: the
//! serving layer writes it directly. On a Redis without RedisBloom both calls fail with an
//! error that says so (t-digests are not emulated).
//!
//! # Time
//!
//! Activity buckets are taken from a [`Clock`]: the store's own for
//! [`SessionIntel::embedded`], [`IntelConfig::clock`] for [`SessionIntel::new`] (the system
//! clock unless a test passes a manual one). A pageview reads it once: with the backend's
//! clock, that reading is also the transaction's time on the embedded store
//! ([`Backend::transaction_ops_typed_into`]).
//!
//! # Allocation
//!
//! On the embedded store, [`SessionIntel::pageview_into`] of an existing session allocates
//! nothing (the `pageview_alloc` test counts): the keys are built on the stack, and the
//! replies land in slots kept per thread whose ring and field buffers are reused.
//! [`SessionIntel::pageview`] allocates only the activity list it returns.

use super::activity::ActivityTracker;
use crate::backend::{Backend, TxOp, TxReply};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::TopKOptions;
use crate::types::tdigest::TDigestError;
use crate::types::topk::TopKError;
use crate::Store;
use std::cell::RefCell;
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
    /// The clock activity buckets are read from. Default `None`: the backend's
    /// ([`Backend::clock`]: the embedded store's own, the system clock for Redis).
    pub clock: Option<Clock>,
    /// The site whose trending pages every pageview feeds (see the module documentation).
    /// Default `None`: pageviews feed no trending list. Must be a valid session id
    /// ([`valid_session_id`]) to be used.
    pub site: Option<String>,
    /// How many pages a site's trending sketch keeps, when the first pageview creates it.
    /// Default 10.
    pub trending_k: i64,
}

impl Default for IntelConfig {
    fn default() -> IntelConfig {
        IntelConfig {
            idle_timeout: Duration::from_secs(30 * 60),
            activity_bucket: Duration::from_secs(60),
            activity_span: Duration::from_secs(3600),
            activity_window: 30,
            clock: None,
            site: None,
            trending_k: 10,
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

/// The top-k key of `site`'s trending pages: `ss:{site:<site>}:trending`.
pub fn trending_key(site: &str) -> Vec<u8> {
    [b"ss:{site:", site.as_bytes(), b"}:trending"].concat()
}

/// Adds a view of `page` to `site`'s trending pages, creating the sketch with `k` slots on
/// the first view.
pub fn record_trending(backend: &dyn Backend, site: &str, page: &str, k: i64) -> Result<()> {
    check_session(site)?;
    let key = trending_key(site);
    let missing = TopKError::KeyDoesNotExist.to_string();
    match backend.topk_add(&key, &[page.as_bytes()]) {
        Err(e) if e.to_string() == missing => {
            // Another writer may create it first: its sketch serves as well.
            match backend.topk_reserve(&key, TopKOptions::with_k(k)) {
                Err(e) if e.to_string() != TopKError::KeyExists.to_string() => return Err(e),
                _ => {}
            }
            backend.topk_add(&key, &[page.as_bytes()]).map(|_| ())
        }
        r => r.map(|_| ()),
    }
}

/// The `n` heaviest of `site`'s trending pages with their estimated views, heaviest first;
/// empty before the site's first view.
pub fn trending(backend: &dyn Backend, site: &str, n: usize) -> Result<Vec<(String, u64)>> {
    check_session(site)?;
    let list = match backend.topk_list(&trending_key(site)) {
        Err(e) if e.to_string() == TopKError::KeyDoesNotExist.to_string() => Vec::new(),
        r => r?,
    };
    Ok(list
        .into_iter()
        .take(n)
        .map(|(page, count)| (String::from_utf8_lossy(&page).into_owned(), count))
        .collect())
}

/// The t-digest key of `site`'s page view durations: `ss:{site:<site>}:viewtime`.
pub fn view_time_key(site: &str) -> Vec<u8> {
    [b"ss:{site:", site.as_bytes(), b"}:viewtime"].concat()
}

/// Compression of a site's view-time digest (RedisBloom's default): about 1 % rank error
/// around the median and much less at p99, in a few kilobytes whatever the traffic.
pub const VIEW_TIME_COMPRESSION: i64 = 100;

/// The longest view duration recorded; longer ones (a tab left open overnight) count as
/// this long, so that they weigh on p99 without stretching the digest's range.
pub const MAX_VIEW_TIME: Duration = Duration::from_secs(3600);

/// Quantiles of a site's page view durations, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewTimeQuantiles {
    /// Durations recorded.
    pub views: u64,
    /// The median.
    pub p50: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The 99th percentile.
    pub p99: f64,
}

/// The error of a t-digest call on a backend without t-digests (a Redis without RedisBloom):
/// a clear text instead of `unknown command`.
fn tdigest_missing(e: Error) -> Error {
    if e.to_string().contains("unknown command") {
        Error::other(
            "ERR view-time quantiles need RedisBloom's t-digest (TDIGEST.*), which this server \
             does not have",
        )
    } else {
        e
    }
}

/// Adds one page view of `duration` to `site`'s view-time digest (`TDIGEST.ADD`, in
/// milliseconds, capped at [`MAX_VIEW_TIME`]), creating it on the first view.
pub fn record_view_time(backend: &dyn Backend, site: &str, duration: Duration) -> Result<()> {
    check_session(site)?;
    let key = view_time_key(site);
    let millis = duration.min(MAX_VIEW_TIME).as_secs_f64() * 1000.0;
    let missing = TDigestError::KeyDoesNotExist.to_string();
    match backend
        .tdigest_add(&key, &[millis])
        .map_err(tdigest_missing)
    {
        Err(e) if e.to_string() == missing => {
            // Another writer may create it first: its digest serves as well.
            match backend.tdigest_create(&key, Some(VIEW_TIME_COMPRESSION)) {
                Err(e) if e.to_string() != TDigestError::KeyExists.to_string() => {
                    return Err(tdigest_missing(e))
                }
                _ => {}
            }
            backend
                .tdigest_add(&key, &[millis])
                .map_err(tdigest_missing)
        }
        r => r,
    }
}

/// p50, p90 and p99 of `site`'s page view durations; `None` before the first one.
pub fn view_time_quantiles(backend: &dyn Backend, site: &str) -> Result<Option<ViewTimeQuantiles>> {
    check_session(site)?;
    let key = view_time_key(site);
    let missing = TDigestError::KeyDoesNotExist.to_string();
    let info = match backend.tdigest_info(&key).map_err(tdigest_missing) {
        Err(e) if e.to_string() == missing => return Ok(None),
        r => r?,
    };
    let views = u64::try_from(info.observations).unwrap_or(0);
    if views == 0 {
        return Ok(None);
    }
    // RedisBloom answers `nan` for every quantile of a digest of one value (the embedded
    // store too): that value is every quantile.
    let q = if views == 1 {
        vec![backend.tdigest_min(&key).map_err(tdigest_missing)?; 3]
    } else {
        backend
            .tdigest_quantile(&key, &[0.5, 0.9, 0.99])
            .map_err(tdigest_missing)?
    };
    let at = |i: usize| q.get(i).copied().unwrap_or(f64::NAN);
    Ok(Some(ViewTimeQuantiles {
        views,
        p50: at(0),
        p90: at(1),
        p99: at(2),
    }))
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
        // Any string is accepted here (KeySet takes only valid ids, which fit its buffer).
        let k = |i: usize| key_parts(session, KEY_NAMES[i]).concat();
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
    /// `config.clock`, else the backend's.
    clock: Clock,
    /// `config.idle_timeout` in whole milliseconds, at least one: PEXPIRE's argument.
    ttl: Duration,
}

impl std::fmt::Debug for SessionIntel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionIntel")
            .field("tracker", &self.tracker)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The idle timeout as PEXPIRE takes it: whole milliseconds, at least one (PEXPIRE 0 would
/// delete the keys).
fn ttl_arg(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1))
}

/// The five key names of a session, in the order of [`SessionKeys::all`].
const KEY_NAMES: [&[u8]; 5] = [b"pages", b"views", b"activity", b"viewed", b"seen"];
const PAGES: usize = 0;
const VIEWS: usize = 1;
const ACTIVITY: usize = 2;
const VIEWED: usize = 3;
const SEEN: usize = 4;

/// The pieces of the key `name` of `session`: `ss:{<session>}:<name>`.
fn key_parts<'a>(session: &'a str, name: &'a [u8]) -> [&'a [u8]; 4] {
    [b"ss:{", session.as_bytes(), b"}:", name]
}

/// The longest key of a session.
const KEY_MAX: usize = 4 + MAX_SESSION_ID_LEN + 2 + NAME_MAX;

/// The longest key name (`activity`).
const NAME_MAX: usize = 8;

/// `}:` and each of [`KEY_NAMES`], padded with zeros to one length: the end of a key.
const KEY_ENDS: [[u8; 2 + NAME_MAX]; 5] = {
    let mut out = [[0; 2 + NAME_MAX]; 5];
    let mut i = 0;
    while i < 5 {
        out[i][0] = b'}';
        out[i][1] = b':';
        let mut j = 0;
        while j < KEY_NAMES[i].len() {
            out[i][2 + j] = KEY_NAMES[i][j];
            j += 1;
        }
        i += 1;
    }
    out
};

/// The five keys of a session, built on the stack (a transaction needs them all).
struct KeySet {
    keys: [[u8; KEY_MAX]; 5],
    lens: [usize; 5],
}

impl KeySet {
    /// The keys of `session`, a valid session id.
    fn of(session: &str) -> KeySet {
        // Every copy but the first has a fixed size, which needs no call to memcpy: the id
        // is padded with zeros to its longest once, then each key is `ss:{`, the padded id,
        // and its padded end written over the id's padding. Bytes past a key's length are
        // never read.
        let id = session.as_bytes();
        let mut padded = [0; MAX_SESSION_ID_LEN];
        padded[..id.len()].copy_from_slice(id);
        let at = 4 + id.len();
        let mut set = KeySet {
            keys: [[0; KEY_MAX]; 5],
            lens: [0; 5],
        };
        for (i, key) in set.keys.iter_mut().enumerate() {
            key[..4].copy_from_slice(b"ss:{");
            key[4..4 + MAX_SESSION_ID_LEN].copy_from_slice(&padded);
            key[at..at + 2 + NAME_MAX].copy_from_slice(&KEY_ENDS[i]);
            set.lens[i] = at + 2 + KEY_NAMES[i].len();
        }
        set
    }

    fn get(&self, i: usize) -> &[u8] {
        &self.keys[i][..self.lens[i]]
    }

    /// `PEXPIRE` of every key of the session: the end of every writing transaction.
    fn refresh(&self, ttl: Duration) -> [TxOp<'_>; 5] {
        std::array::from_fn(|i| TxOp::PExpire(self.get(i), ttl))
    }
}

fn malformed(what: &str, r: &TxReply) -> Error {
    let r = r.clone().into_reply();
    Error::Io(format!("unexpected {what} reply in a transaction: {r:?}"))
}

/// A reply of EXEC's array: a command's error becomes `Err` with Redis's text.
fn ok(r: &TxReply) -> Result<&TxReply> {
    match r {
        TxReply::Error(e) => Err(e.clone()),
        r => Ok(r),
    }
}

fn int(r: &TxReply, what: &str) -> Result<i64> {
    match ok(r)? {
        TxReply::Integer(n) => Ok(*n),
        r => Err(malformed(what, r)),
    }
}

fn short_reply() -> Error {
    Error::Io("short EXEC reply".into())
}

/// The transactions' reply slots in [`REPLIES`]: a pageview's eleven, then a notification
/// mark's six, apart so that neither overwrites the other's bulk and field buffers.
const PAGEVIEW_REPLIES: std::ops::Range<usize> = 0..11;
const MARK_REPLIES: std::ops::Range<usize> = 11..17;

thread_local! {
    /// This thread's reply slots ([`Backend::transaction_ops_typed_into`]): the embedded
    /// store writes the activity ring (`GET`) and the `BITFIELD` answer into the buffers
    /// they hold from the thread's previous pageview, so that a pageview allocates nothing
    /// for its replies. Per thread: seventeen slots and the last activity ring read.
    static REPLIES: RefCell<Vec<TxReply>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the reply slots `range` of this thread's [`REPLIES`] (fresh ones if they are
/// in use: `f` reached this again through a backend).
fn with_replies<R>(range: std::ops::Range<usize>, f: impl FnOnce(&mut [TxReply]) -> R) -> R {
    REPLIES.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slots) => {
            if slots.len() < range.end {
                slots.resize_with(range.end, || TxReply::Nil);
            }
            f(&mut slots[range])
        }
        Err(_) => f(&mut range.map(|_| TxReply::Nil).collect::<Vec<_>>()),
    })
}

impl SessionIntel {
    /// The operations over `backend`, reading time from `config.clock`, else the backend's.
    pub fn new(backend: Arc<dyn Backend>, config: IntelConfig) -> Result<SessionIntel> {
        let clock = config.clock.clone().unwrap_or_else(|| backend.clock());
        let tracker = ActivityTracker::new(config.activity_bucket, config.activity_span)
            .ok_or_else(|| Error::Io("the activity bucket must not be zero".into()))?;
        Ok(SessionIntel {
            backend,
            ttl: ttl_arg(config.idle_timeout),
            tracker,
            config,
            clock,
        })
    }

    /// The operations over an embedded store: [`SessionIntel::new`] with the store as the
    /// backend.
    pub fn embedded(store: &Store, config: IntelConfig) -> Result<SessionIntel> {
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
        let mut stats = PageviewStats {
            unique_pages: 0,
            total_views: 0,
            activity: Vec::new(),
        };
        self.pageview_into(session, page, &mut stats)?;
        Ok(stats)
    }

    /// [`SessionIntel::pageview`] answering into `stats`, whose activity buffer it reuses:
    /// on the embedded store, a caller that keeps one `stats` per thread makes pageviews of
    /// existing sessions without allocating (the `pageview_alloc` test counts). After an
    /// error `stats` holds nothing meaningful.
    pub fn pageview_into(
        &self,
        session: &str,
        page: &str,
        stats: &mut PageviewStats,
    ) -> Result<()> {
        check_session(session)?;
        // One clock reading for the bucket and, when the clock is the backend's, for the
        // transaction's own time too.
        let now = self.clock.now_ms();
        let now_hint = self.config.clock.is_none().then_some(now);
        let layout = self.tracker.layout();
        let (record, at) = layout.record_ops(now);
        let pages = [page.as_bytes()];
        let keys = KeySet::of(session);
        let [e0, e1, e2, e3, e4] = keys.refresh(self.ttl);
        let ops = [
            TxOp::PfAdd(keys.get(PAGES), &pages),
            TxOp::Incr(keys.get(VIEWS)),
            TxOp::Bitfield(keys.get(ACTIVITY), &record),
            TxOp::PfCount(keys.get(PAGES)),
            TxOp::BfAdd(keys.get(VIEWED), pages[0]),
            TxOp::Get(keys.get(ACTIVITY)),
            e0,
            e1,
            e2,
            e3,
            e4,
        ];
        let stale = with_replies(PAGEVIEW_REPLIES, |replies| -> Result<i64> {
            let n = self
                .backend
                .transaction_ops_typed_into(&ops, now_hint, replies)?;
            let mut r = replies.iter().take(n);
            let mut next = || r.next().ok_or_else(short_reply);
            ok(next()?)?;
            stats.total_views = int(next()?, "INCR")?;
            let bitfield = match ok(next()?)? {
                TxReply::Fields(f) => f,
                other => return Err(malformed("BITFIELD", other)),
            };
            stats.unique_pages = int(next()?, "PFCOUNT")?.max(0) as u64;
            ok(next()?)?;
            let ring: &[u8] = match ok(next()?)? {
                TxReply::Bulk(b) => b,
                TxReply::Nil => &[],
                other => return Err(malformed("GET", other)),
            };
            layout.window_into(ring, now, self.config.activity_window, &mut stats.activity);
            Ok(layout.stale_count(at, bitfield))
        })?;
        if stale > 0 {
            // What `ActivityTracker::finish_record` sends for this reply.
            self.backend
                .bitfield(keys.get(ACTIVITY), &layout.correction_ops(at, stale))?;
        }
        if let Some(site) = &self.config.site {
            // The site's key lives in another slot; a failure there leaves the view counted.
            let _ = record_trending(&*self.backend, site, page, self.config.trending_k);
        }
        // The ring was read before the stale count was removed: it sits in the last bucket.
        if let Some(last) = stats.activity.last_mut() {
            *last = (i64::from(*last) - stale).clamp(0, 255) as u8;
        }
        Ok(())
    }

    /// The `n` heaviest trending pages of `site` with their estimated views (see the module
    /// documentation); empty before the site's first view.
    pub fn trending(&self, site: &str, n: usize) -> Result<Vec<(String, u64)>> {
        trending(&*self.backend, site, n)
    }

    /// Records that a page of `site` was viewed for `duration` (see the module
    /// documentation, "View time per site").
    pub fn view_time(&self, site: &str, duration: Duration) -> Result<()> {
        record_view_time(&*self.backend, site, duration)
    }

    /// p50, p90 and p99 of `site`'s page view durations in milliseconds; `None` before the
    /// first one.
    pub fn view_time_quantiles(&self, site: &str) -> Result<Option<ViewTimeQuantiles>> {
        view_time_quantiles(&*self.backend, site)
    }

    /// Marks `notification` seen (`BF.ADD`), refreshing the session's expiry in the same
    /// transaction. True when it was not marked before (as far as the filter can tell).
    pub fn mark_notification_seen(&self, session: &str, notification: &str) -> Result<bool> {
        check_session(session)?;
        let keys = KeySet::of(session);
        let [e0, e1, e2, e3, e4] = keys.refresh(self.ttl);
        let ops = [
            TxOp::BfAdd(keys.get(SEEN), notification.as_bytes()),
            e0,
            e1,
            e2,
            e3,
            e4,
        ];
        with_replies(MARK_REPLIES, |replies| {
            let n = self
                .backend
                .transaction_ops_typed_into(&ops, None, replies)?;
            let first = replies.iter().take(n).next().ok_or_else(short_reply)?;
            Ok(int(first, "BF.ADD")? != 0)
        })
    }

    /// Whether every one of `items` was viewed (`BF.MEXISTS` on the viewed pages); true for
    /// no items.
    pub fn combo(&self, session: &str, items: &[&str]) -> Result<bool> {
        Ok(self
            .flags(session, VIEWED, items)?
            .iter()
            .all(|(_, seen)| *seen))
    }

    /// Each of `list` with whether it was marked seen (`BF.MEXISTS`), in order.
    pub fn notifications(&self, session: &str, list: &[&str]) -> Result<Vec<(String, bool)>> {
        self.flags(session, SEEN, list)
    }

    /// Each of `pages` with whether it was viewed (`BF.MEXISTS`), in order.
    pub fn featured_pages(&self, session: &str, pages: &[&str]) -> Result<Vec<(String, bool)>> {
        self.flags(session, VIEWED, pages)
    }

    fn flags(&self, session: &str, key: usize, items: &[&str]) -> Result<Vec<(String, bool)>> {
        check_session(session)?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let keys = KeySet::of(session);
        let bytes: Vec<&[u8]> = items.iter().map(|i| i.as_bytes()).collect();
        let found = self.backend.bf_mexists(keys.get(key), &bytes)?;
        Ok(items
            .iter()
            .zip(found)
            .map(|(i, f)| ((*i).to_owned(), f))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack-built keys are the documented ones, for ids of every length.
    #[test]
    fn key_set_spells_the_session_keys() {
        for id in [
            "a",
            "u00002a",
            "session_-9",
            &"x".repeat(MAX_SESSION_ID_LEN),
        ] {
            assert!(valid_session_id(id));
            let set = KeySet::of(id);
            let keys = SessionKeys::of(id);
            for (i, key) in keys.all().into_iter().enumerate() {
                assert_eq!(set.get(i), key, "{id}");
            }
            assert_eq!(
                set.get(ACTIVITY),
                format!("ss:{{{id}}}:activity").as_bytes()
            );
        }
    }
}
