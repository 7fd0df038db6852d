//! The request bus: services inside one process, or in many processes sharing a Redis, ask
//! the session-intelligence operations of each other through the store itself, with
//! `PUBLISH` for the request and a blocking list pop for the reply.
//!
//! # Protocol
//!
//! A request is a message on the channel `ss:<command>:<session id>:<request id>` (for
//! `notifications` and `featuredpages`, a further segment holds a JSON array of names:
//! `ss:notifications:k3x9:7f2a:["welcome","sale"]`). The message body carries the one
//! argument of the other commands: the page of `pageview`, the notification of
//! `mark-notification-seen`, and a JSON array of the combo's pages for `combo`.
//!
//! | command | channel's last segment | body | reply |
//! |---|---|---|---|
//! | `pageview` | | page | `{"unique_pages":2,"total_views":3,"activity":[0,1,2]}` |
//! | `mark-notification-seen` | | notification | `{"added":true}` |
//! | `combo` | | `["tv","tv-mount"]` | `{"complete":false}` |
//! | `notifications` | `["welcome","sale"]` | | `{"notifications":[{"id":"welcome","seen":true},...]}` |
//! | `featuredpages` | `["tv","radio"]` | | `{"pages":[{"page":"tv","viewed":true},...]}` |
//!
//! A responder `PSUBSCRIBE`s `ss:<command>:<partition>` for every command, runs the
//! operation, and answers with `RPUSH async:<channel> <json>` and `PEXPIRE` of that key (one
//! MULTI/EXEC, so the reply never exists without its expiry). A failed operation answers
//! `{"error":"<text>"}`. The requester `PUBLISH`es, then `BLPOP`s `async:<channel>` with a
//! server timeout ([`BusConfig::server_timeout`], 1 s) and gives up after the application
//! timeout ([`BusConfig::app_timeout`], 100 ms), measured in real time whatever the store's
//! clock: the caller then gets [`Answer::Degraded`] and renders without the data. Request ids
//! are unique, so a reply that comes later is never read by another request: the abandoned
//! wait keeps running in the background until the server timeout and takes and discards a
//! reply that reaches it; one that comes later still stays in its list until it expires after
//! [`BusConfig::reply_ttl`]. Either way nothing is left behind.
//!
//! # Partitions
//!
//! A partition is a glob over session ids. Responders given the patterns of
//! [`partitions`] each serve a disjoint share of the sessions, and together every session
//! whose id starts with a character of the alphabet: with base-36 ids and two responders,
//! `[a-r]*` and `[s-z0-9]*`. The requester does not know the partitioning; the channel name
//! routes the request.
//!
//! # Waiting
//!
//! [`Requester::call`] is a future that blocks no executor thread on the embedded store
//! (`Backend::blpop_async`) and races a delay woken by the store's timer thread, so it never
//! waits past the application timeout. [`Requester::call_blocking`] runs the same future on the calling
//! thread. Responders are threads, subscribed before [`Responder::spawn`] returns; each
//! answers its messages one at a time, in the order they were published, so requests of one
//! session sent one after another (a pageview, then a combo check) are run in that order even
//! when the caller waits for them together.

use super::json::Json;
use super::session::{valid_session_id, PageviewStats, SessionIntel};
use crate::backend::{Backend, PubSub};
use crate::error::{Error, Result};
use crate::wait::{block_on, Delay};
use parking_lot::{Condvar, Mutex};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

/// The base-36 alphabet of session ids, in the order [`partitions`] splits it.
pub const BASE36: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// Most names in one request (notifications, featured pages, combo items).
pub const MAX_NAMES: usize = 64;
/// Longest name (page, notification) in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// The commands of the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// [`SessionIntel::pageview`].
    Pageview,
    /// [`SessionIntel::mark_notification_seen`].
    MarkNotificationSeen,
    /// [`SessionIntel::combo`].
    Combo,
    /// [`SessionIntel::notifications`].
    Notifications,
    /// [`SessionIntel::featured_pages`].
    FeaturedPages,
}

impl Command {
    /// Every command.
    pub const ALL: [Command; 5] = [
        Command::Pageview,
        Command::MarkNotificationSeen,
        Command::Combo,
        Command::Notifications,
        Command::FeaturedPages,
    ];

    /// The name in channel names.
    pub fn name(self) -> &'static str {
        match self {
            Command::Pageview => "pageview",
            Command::MarkNotificationSeen => "mark-notification-seen",
            Command::Combo => "combo",
            Command::Notifications => "notifications",
            Command::FeaturedPages => "featuredpages",
        }
    }

    fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    fn list_in_channel(self) -> bool {
        matches!(self, Command::Notifications | Command::FeaturedPages)
    }
}

/// A request and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Record a view of a page.
    Pageview {
        /// The page.
        page: String,
    },
    /// Mark a notification seen.
    MarkNotificationSeen {
        /// The notification.
        notification: String,
    },
    /// Whether every page of a combo was viewed.
    Combo {
        /// The combo's pages.
        items: Vec<String>,
    },
    /// Which of these notifications were seen.
    Notifications {
        /// The notifications.
        list: Vec<String>,
    },
    /// Which of these pages were viewed.
    FeaturedPages {
        /// The pages.
        pages: Vec<String>,
    },
}

/// A responder's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Of [`Request::Pageview`].
    Pageview(PageviewStats),
    /// Of [`Request::MarkNotificationSeen`]: whether the mark is new.
    NotificationSeen(bool),
    /// Of [`Request::Combo`]: whether it is complete.
    Combo(bool),
    /// Of [`Request::Notifications`]: each with whether it was seen.
    Notifications(Vec<(String, bool)>),
    /// Of [`Request::FeaturedPages`]: each with whether it was viewed.
    FeaturedPages(Vec<(String, bool)>),
}

/// What a requester got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The responder answered in time.
    Replied(Response),
    /// No answer within the application timeout.
    Degraded,
}

/// Timeouts of the bus.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BusConfig {
    /// How long a requester waits for a reply, in real time. Default 100 ms.
    pub app_timeout: Duration,
    /// The BLPOP timeout the server applies (a bound for a requester that stopped polling).
    /// Default 1 s.
    pub server_timeout: Duration,
    /// How long an unread reply is kept. Default 10 s.
    pub reply_ttl: Duration,
}

impl Default for BusConfig {
    fn default() -> BusConfig {
        BusConfig {
            app_timeout: Duration::from_millis(100),
            server_timeout: Duration::from_secs(1),
            reply_ttl: Duration::from_secs(10),
        }
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Io(msg.into())
}

fn check_names(names: &[String]) -> Result<()> {
    if names.len() > MAX_NAMES {
        return Err(bad(format!("more than {MAX_NAMES} names in one request")));
    }
    names.iter().try_for_each(|n| check_name(n))
}

fn check_name(n: &str) -> Result<()> {
    if n.len() > MAX_NAME_LEN {
        return Err(bad(format!("a name longer than {MAX_NAME_LEN} bytes")));
    }
    Ok(())
}

impl Request {
    /// Its command.
    pub fn command(&self) -> Command {
        match self {
            Request::Pageview { .. } => Command::Pageview,
            Request::MarkNotificationSeen { .. } => Command::MarkNotificationSeen,
            Request::Combo { .. } => Command::Combo,
            Request::Notifications { .. } => Command::Notifications,
            Request::FeaturedPages { .. } => Command::FeaturedPages,
        }
    }

    fn check(&self) -> Result<()> {
        match self {
            Request::Pageview { page: n } | Request::MarkNotificationSeen { notification: n } => {
                check_name(n)
            }
            Request::Combo { items: l }
            | Request::Notifications { list: l }
            | Request::FeaturedPages { pages: l } => check_names(l),
        }
    }

    /// The channel and message body that carry this request.
    pub fn encode(&self, session: &str, request_id: &str) -> (String, Vec<u8>) {
        let base = format!("ss:{}:{session}:{request_id}", self.command().name());
        match self {
            Request::Pageview { page } => (base, page.clone().into_bytes()),
            Request::MarkNotificationSeen { notification } => {
                (base, notification.clone().into_bytes())
            }
            Request::Combo { items } => (base, Json::strings(items).to_text().into_bytes()),
            Request::Notifications { list: l } | Request::FeaturedPages { pages: l } => {
                (format!("{base}:{}", Json::strings(l).to_text()), Vec::new())
            }
        }
    }

    /// Reads a request from its channel and body: the session id, request id and request.
    pub fn decode(channel: &[u8], body: &[u8]) -> Result<(String, String, Request)> {
        let channel = std::str::from_utf8(channel).map_err(|_| bad("channel is not UTF-8"))?;
        let mut parts = channel.splitn(5, ':');
        let (Some("ss"), Some(cmd), Some(session), Some(rid)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(format!("not a bus channel: {channel:?}")));
        };
        let command =
            Command::from_name(cmd).ok_or_else(|| bad(format!("unknown command {cmd:?}")))?;
        if !valid_session_id(session) {
            return Err(bad(format!("invalid session id {session:?}")));
        }
        if rid.is_empty() {
            return Err(bad("empty request id"));
        }
        let tail = parts.next();
        if tail.is_some() != command.list_in_channel() {
            return Err(bad(format!("malformed {} channel", command.name())));
        }
        let list = |text: &str| -> Result<Vec<String>> {
            let names = Json::parse(text)
                .and_then(|j| j.as_strings())
                .ok_or_else(|| bad("expected a JSON array of strings"))?;
            check_names(&names)?;
            Ok(names)
        };
        let text = || -> Result<String> {
            let s = String::from_utf8(body.to_vec()).map_err(|_| bad("body is not UTF-8"))?;
            check_name(&s)?;
            Ok(s)
        };
        let req = match command {
            Command::Pageview => Request::Pageview { page: text()? },
            Command::MarkNotificationSeen => Request::MarkNotificationSeen {
                notification: text()?,
            },
            Command::Combo => Request::Combo {
                items: list(std::str::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?)?,
            },
            Command::Notifications => Request::Notifications {
                list: list(tail.unwrap_or_default())?,
            },
            Command::FeaturedPages => Request::FeaturedPages {
                pages: list(tail.unwrap_or_default())?,
            },
        };
        Ok((session.to_owned(), rid.to_owned(), req))
    }

    /// Runs it on `intel`.
    pub fn run(&self, intel: &SessionIntel, session: &str) -> Result<Response> {
        fn refs(l: &[String]) -> Vec<&str> {
            l.iter().map(String::as_str).collect()
        }
        Ok(match self {
            Request::Pageview { page } => Response::Pageview(intel.pageview(session, page)?),
            Request::MarkNotificationSeen { notification } => {
                Response::NotificationSeen(intel.mark_notification_seen(session, notification)?)
            }
            Request::Combo { items } => Response::Combo(intel.combo(session, &refs(items))?),
            Request::Notifications { list } => {
                Response::Notifications(intel.notifications(session, &refs(list))?)
            }
            Request::FeaturedPages { pages } => {
                Response::FeaturedPages(intel.featured_pages(session, &refs(pages))?)
            }
        })
    }
}

fn flags_json(items: &[(String, bool)], name: &str, flag: &str) -> Json {
    Json::Arr(
        items
            .iter()
            .map(|(n, f)| {
                Json::Obj(vec![
                    (name.into(), Json::Str(n.clone())),
                    (flag.into(), Json::Bool(*f)),
                ])
            })
            .collect(),
    )
}

fn flags_of(j: Option<&Json>, name: &str, flag: &str) -> Option<Vec<(String, bool)>> {
    j?.as_array()?
        .iter()
        .map(|i| {
            Some((
                i.field(name)?.as_str()?.to_owned(),
                i.field(flag)?.as_bool()?,
            ))
        })
        .collect()
}

impl Response {
    /// The JSON reply.
    pub fn to_json(&self) -> String {
        let j = match self {
            Response::Pageview(s) => Json::Obj(vec![
                ("unique_pages".into(), Json::Int(s.unique_pages as i64)),
                ("total_views".into(), Json::Int(s.total_views)),
                (
                    "activity".into(),
                    Json::Arr(s.activity.iter().map(|&n| Json::Int(n.into())).collect()),
                ),
            ]),
            Response::NotificationSeen(added) => {
                Json::Obj(vec![("added".into(), Json::Bool(*added))])
            }
            Response::Combo(complete) => {
                Json::Obj(vec![("complete".into(), Json::Bool(*complete))])
            }
            Response::Notifications(items) => Json::Obj(vec![(
                "notifications".into(),
                flags_json(items, "id", "seen"),
            )]),
            Response::FeaturedPages(items) => {
                Json::Obj(vec![("pages".into(), flags_json(items, "page", "viewed"))])
            }
        };
        j.to_text()
    }

    /// Reads the JSON reply to a `command` request; an `{"error":...}` reply is `Err` with
    /// its text.
    pub fn from_json(command: Command, text: &[u8]) -> Result<Response> {
        let j = std::str::from_utf8(text)
            .ok()
            .and_then(Json::parse)
            .ok_or_else(|| bad("reply is not JSON"))?;
        if let Some(e) = j.field("error").and_then(Json::as_str) {
            return Err(bad(format!("responder failed: {e}")));
        }
        let r = match command {
            Command::Pageview => (|| {
                Some(Response::Pageview(PageviewStats {
                    unique_pages: u64::try_from(j.field("unique_pages")?.as_int()?).ok()?,
                    total_views: j.field("total_views")?.as_int()?,
                    activity: j
                        .field("activity")?
                        .as_array()?
                        .iter()
                        .map(|n| u8::try_from(n.as_int()?).ok())
                        .collect::<Option<_>>()?,
                }))
            })(),
            Command::MarkNotificationSeen => j
                .field("added")
                .and_then(Json::as_bool)
                .map(Response::NotificationSeen),
            Command::Combo => j
                .field("complete")
                .and_then(Json::as_bool)
                .map(Response::Combo),
            Command::Notifications => {
                flags_of(j.field("notifications"), "id", "seen").map(Response::Notifications)
            }
            Command::FeaturedPages => {
                flags_of(j.field("pages"), "page", "viewed").map(Response::FeaturedPages)
            }
        };
        r.ok_or_else(|| bad(format!("malformed {} reply", command.name())))
    }
}

/// Answers one request message: runs it on `intel` and pushes the JSON reply (or
/// `{"error":...}`) to `async:<channel>` with an expiry of `reply_ttl`. `Ok(false)` when the
/// channel is not a request this bus can answer (nothing is written).
pub fn answer(
    intel: &SessionIntel,
    channel: &[u8],
    body: &[u8],
    reply_ttl: Duration,
) -> Result<bool> {
    let reply = match Request::decode(channel, body) {
        Ok((session, _, req)) => match req.run(intel, &session) {
            Ok(r) => r.to_json(),
            Err(e) => error_json(&message(&e)),
        },
        // A channel that routes nowhere gets no reply; one that is well formed up to the
        // request id but carries bad arguments is told so.
        Err(e) if has_request_shape(channel) => error_json(&message(&e)),
        Err(_) => return Ok(false),
    };
    let mut key = b"async:".to_vec();
    key.extend_from_slice(channel);
    let ttl = reply_ttl.as_millis().max(1).to_string();
    let commands = vec![
        vec![b"RPUSH".to_vec(), key.clone(), reply.into_bytes()],
        vec![b"PEXPIRE".to_vec(), key, ttl.into_bytes()],
    ];
    intel.backend().transaction(&[], &commands)?;
    Ok(true)
}

/// An error's text without the `IOERR ` of errors raised here.
fn message(e: &Error) -> String {
    match e {
        Error::Io(m) => m.clone(),
        e => e.to_string(),
    }
}

fn error_json(text: &str) -> String {
    Json::Obj(vec![("error".into(), Json::Str(text.into()))]).to_text()
}

fn has_request_shape(channel: &[u8]) -> bool {
    let Ok(c) = std::str::from_utf8(channel) else {
        return false;
    };
    let mut p = c.splitn(5, ':');
    matches!(
        (p.next(), p.next().and_then(Command::from_name), p.next(), p.next()),
        (Some("ss"), Some(_), Some(s), Some(r)) if valid_session_id(s) && !r.is_empty()
    )
}

// ---- partitions ----

/// Glob patterns over session ids that split `alphabet` (its characters in order) into `n`
/// contiguous shares as even as possible: every id whose first character is in the alphabet
/// matches exactly one pattern. `n` is clamped to 1 ..= the alphabet's length; one share is
/// `*` (every id). `partitions(BASE36, 2)` is `["[a-r]*", "[s-z0-9]*"]`.
pub fn partitions(alphabet: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = alphabet.chars().collect();
    let n = n.clamp(1, chars.len().max(1));
    if n == 1 {
        return vec!["*".to_owned()];
    }
    let (base, extra) = (chars.len() / n, chars.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        out.push(format!("[{}]*", class(&chars[at..at + len])));
        at += len;
    }
    out
}

/// A glob class body holding exactly `chars`: runs of consecutive code points as ranges.
fn class(chars: &[char]) -> String {
    let esc = |c: char| {
        if matches!(c, '\\' | '[' | ']' | '^' | '-' | '*' | '?') {
            format!("\\{c}")
        } else {
            c.to_string()
        }
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j + 1 < chars.len() && chars[j + 1] as u32 == chars[j] as u32 + 1 {
            j += 1;
        }
        match j - i {
            0 => out.push_str(&esc(chars[i])),
            1 => {
                out.push_str(&esc(chars[i]));
                out.push_str(&esc(chars[j]));
            }
            _ => {
                out.push_str(&esc(chars[i]));
                out.push('-');
                out.push_str(&esc(chars[j]));
            }
        }
        i = j + 1;
    }
    out
}

// ---- requester ----

/// Sends requests and waits for replies. Cheap to share; safe from any number of threads
/// and tasks.
pub struct Requester {
    backend: Arc<dyn Backend>,
    config: BusConfig,
    prefix: String,
    next: AtomicU64,
}

impl std::fmt::Debug for Requester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester")
            .field("config", &self.config)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn base36(mut n: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// 64 random bits from the standard library's per-process random hasher keys.
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(u64::from(std::process::id()));
    h.finish()
}

impl Requester {
    /// A requester on `backend`.
    pub fn new(backend: Arc<dyn Backend>, config: BusConfig) -> Requester {
        Requester {
            backend,
            config,
            prefix: base36(random_u64()),
            next: AtomicU64::new(0),
        }
    }

    /// The timeouts.
    pub fn config(&self) -> &BusConfig {
        &self.config
    }

    /// A request id unique to this requester and, with overwhelming probability, across
    /// processes.
    fn request_id(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            base36(self.next.fetch_add(1, Ordering::Relaxed))
        )
    }

    /// Sends `request` for `session` and waits at most the application timeout for the reply.
    pub async fn call(&self, session: &str, request: &Request) -> Result<Answer> {
        if !valid_session_id(session) {
            return Err(bad(format!("invalid session id {session:?}")));
        }
        request.check()?;
        let rid = self.request_id();
        let (channel, body) = request.encode(session, &rid);
        let deadline = Delay::new(self.config.app_timeout);
        self.backend.publish(channel.as_bytes(), &body)?;
        let key = format!("async:{channel}");
        let mut pop = self
            .backend
            .blpop_async(&[key.as_bytes()], self.config.server_timeout);
        match Race(&mut pop, deadline).await {
            Some(Ok(Some((_, reply)))) => {
                Response::from_json(request.command(), &reply).map(Answer::Replied)
            }
            Some(Ok(None)) => Ok(Answer::Degraded),
            None => {
                reaper().adopt(pop, self.config.server_timeout + REAP_GRACE);
                Ok(Answer::Degraded)
            }
            Some(Err(e)) => Err(e),
        }
    }

    /// [`Requester::call`], blocking the calling thread.
    pub fn call_blocking(&self, session: &str, request: &Request) -> Result<Answer> {
        block_on(self.call(session, request))
    }

    /// A pageview through the bus; None when degraded.
    pub async fn pageview(&self, session: &str, page: &str) -> Result<Option<PageviewStats>> {
        let req = Request::Pageview { page: page.into() };
        match self.call(session, &req).await? {
            Answer::Replied(Response::Pageview(s)) => Ok(Some(s)),
            Answer::Degraded => Ok(None),
            Answer::Replied(other) => Err(mismatch(&other)),
        }
    }

    /// Marks a notification seen through the bus; None when degraded.
    pub async fn mark_notification_seen(
        &self,
        session: &str,
        notification: &str,
    ) -> Result<Option<bool>> {
        let req = Request::MarkNotificationSeen {
            notification: notification.into(),
        };
        match self.call(session, &req).await? {
            Answer::Replied(Response::NotificationSeen(b)) => Ok(Some(b)),
            Answer::Degraded => Ok(None),
            Answer::Replied(other) => Err(mismatch(&other)),
        }
    }

    /// Whether a combo is complete, through the bus; None when degraded.
    pub async fn combo(&self, session: &str, items: &[&str]) -> Result<Option<bool>> {
        let req = Request::Combo {
            items: items.iter().map(|s| (*s).to_owned()).collect(),
        };
        match self.call(session, &req).await? {
            Answer::Replied(Response::Combo(b)) => Ok(Some(b)),
            Answer::Degraded => Ok(None),
            Answer::Replied(other) => Err(mismatch(&other)),
        }
    }

    /// Notifications marked seen or not, through the bus; None when degraded.
    pub async fn notifications(
        &self,
        session: &str,
        list: &[&str],
    ) -> Result<Option<Vec<(String, bool)>>> {
        let req = Request::Notifications {
            list: list.iter().map(|s| (*s).to_owned()).collect(),
        };
        match self.call(session, &req).await? {
            Answer::Replied(Response::Notifications(v)) => Ok(Some(v)),
            Answer::Degraded => Ok(None),
            Answer::Replied(other) => Err(mismatch(&other)),
        }
    }

    /// Featured pages marked viewed or not, through the bus; None when degraded.
    pub async fn featured_pages(
        &self,
        session: &str,
        pages: &[&str],
    ) -> Result<Option<Vec<(String, bool)>>> {
        let req = Request::FeaturedPages {
            pages: pages.iter().map(|s| (*s).to_owned()).collect(),
        };
        match self.call(session, &req).await? {
            Answer::Replied(Response::FeaturedPages(v)) => Ok(Some(v)),
            Answer::Degraded => Ok(None),
            Answer::Replied(other) => Err(mismatch(&other)),
        }
    }
}

fn mismatch(r: &Response) -> Error {
    bad(format!("reply of another command: {r:?}"))
}

// ---- responder ----

/// A thread answering the requests of one partition of the sessions. Stops when
/// [`Responder::stop`] is called or it is dropped.
pub struct Responder {
    control: Vec<u8>,
    backend: Arc<dyn Backend>,
    stop: Arc<AtomicBool>,
    stats: Arc<ResponderStats>,
    thread: Option<JoinHandle<()>>,
    partition: String,
}

#[derive(Default)]
struct ResponderStats {
    answered: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("partition", &self.partition)
            .field("answered", &self.answered())
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// Subscribes `ss:<command>:<partition>` for every command (`partition` is a glob over
    /// session ids: `*`, or one of [`partitions`]) and starts answering on a new thread.
    pub fn spawn(
        intel: Arc<SessionIntel>,
        partition: &str,
        config: BusConfig,
    ) -> Result<Responder> {
        if partition.is_empty() {
            return Err(bad("empty partition"));
        }
        let backend = intel.backend().clone();
        let mut sub: Box<dyn PubSub> = backend.subscriber()?;
        let patterns: Vec<Vec<u8>> = Command::ALL
            .iter()
            .map(|c| format!("ss:{}:{partition}", c.name()).into_bytes())
            .collect();
        let refs: Vec<&[u8]> = patterns.iter().map(Vec::as_slice).collect();
        sub.psubscribe(&refs)?;
        let control = format!("ss-control:{}", base36(random_u64())).into_bytes();
        sub.subscribe(&[&control])?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(ResponderStats::default());
        let thread = {
            let (stop, stats, control) = (stop.clone(), stats.clone(), control.clone());
            std::thread::Builder::new()
                .name(format!("ss-responder {partition}"))
                .spawn(move || serve(&intel, sub, &control, &stop, &stats, &config))
                .map_err(|e| bad(format!("cannot start a responder thread: {e}")))?
        };
        Ok(Responder {
            control,
            backend,
            stop,
            stats,
            thread: Some(thread),
            partition: partition.to_owned(),
        })
    }

    /// The partition served.
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// Requests answered so far (errors replied included).
    pub fn answered(&self) -> u64 {
        self.stats.answered.load(Ordering::SeqCst)
    }

    /// Requests that could not be answered (the reply could not be written).
    pub fn failed(&self) -> u64 {
        self.stats.failed.load(Ordering::SeqCst)
    }

    /// The last failure's text.
    pub fn last_error(&self) -> Option<String> {
        self.stats.last_error.lock().clone()
    }

    /// Stops the thread and waits for it (at most about a second on a backend whose
    /// control message is lost).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.backend.publish(&self.control, b"stop");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn serve(
    intel: &SessionIntel,
    mut sub: Box<dyn PubSub>,
    control: &[u8],
    stop: &AtomicBool,
    stats: &ResponderStats,
    config: &BusConfig,
) {
    while !stop.load(Ordering::SeqCst) {
        let msg = match sub.receive(Duration::from_secs(1)) {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(e) => {
                *stats.last_error.lock() = Some(e.to_string());
                return;
            }
        };
        if msg.channel() == control {
            return;
        }
        match answer(intel, msg.channel(), msg.payload(), config.reply_ttl) {
            Ok(true) => {
                stats.answered.fetch_add(1, Ordering::SeqCst);
            }
            Ok(false) => {}
            Err(e) => {
                stats.failed.fetch_add(1, Ordering::SeqCst);
                *stats.last_error.lock() = Some(e.to_string());
            }
        }
    }
}

// ---- waiting ----

/// Polls two futures; the first to finish wins (`Some` for the first, `None` for the timer).
struct Race<A, B>(A, B);

impl<A: Future + Unpin, B: Future<Output = ()> + Unpin> Future for Race<A, B> {
    type Output = Option<A::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = Pin::new(&mut self.0).poll(cx) {
            return Poll::Ready(Some(v));
        }
        if Pin::new(&mut self.1).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

/// How long past the server timeout an abandoned wait is kept before it is dropped.
const REAP_GRACE: Duration = Duration::from_millis(100);

/// Keeps the waits of requesters that gave up running until they end (the server's timeout,
/// or a late reply, which they take and discard) or a deadline passes, then drops them.
///
/// Dropping a wait at once would let a backend hand back an element that reached it late
/// (RedisBackend pushes it back onto its list, without the list's expiry); a wait that runs
/// to its end consumes the late reply instead, so nothing is left behind. On a store whose
/// clock is manual the server timeout may never pass: the real-time deadline bounds the wait.
#[derive(Default)]
struct Reaper {
    waits: Mutex<Vec<(std::time::Instant, Abandoned)>>,
    woken: AtomicBool,
    cv: Condvar,
}

type Abandoned = crate::backend::BoxFuture<'static, Result<Option<crate::backend::Popped>>>;

struct ReaperWake;

impl std::task::Wake for ReaperWake {
    fn wake(self: Arc<Self>) {
        let r = reaper();
        r.woken.store(true, Ordering::SeqCst);
        let _g = r.waits.lock();
        r.cv.notify_one();
    }
}

impl Reaper {
    fn adopt(&self, wait: Abandoned, within: Duration) {
        let at = crate::clock::real_instant() + within;
        self.waits.lock().push((at, wait));
        self.woken.store(true, Ordering::SeqCst);
        self.cv.notify_one();
    }

    fn run(&self) {
        let waker = Waker::from(Arc::new(ReaperWake));
        let mut cx = Context::from_waker(&waker);
        let mut waits = self.waits.lock();
        loop {
            self.woken.store(false, Ordering::SeqCst);
            let mut pending = std::mem::take(&mut *waits);
            // Poll without the lock: a wait may wake the reaper while it is polled.
            parking_lot::MutexGuard::unlocked(&mut waits, || {
                let now = crate::clock::real_instant();
                pending.retain_mut(|(at, w)| *at > now && w.as_mut().poll(&mut cx).is_pending());
            });
            waits.append(&mut pending);
            if self.woken.load(Ordering::SeqCst) {
                continue;
            }
            match waits.iter().map(|(at, _)| *at).min() {
                Some(at) => {
                    self.cv.wait_until(&mut waits, at);
                }
                None => self.cv.wait(&mut waits),
            }
        }
    }
}

fn reaper() -> &'static Reaper {
    static REAPER: OnceLock<&'static Reaper> = OnceLock::new();
    REAPER.get_or_init(|| {
        let r: &'static Reaper = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("ss-bus-reaper".into())
            .spawn(move || r.run())
            .expect("start the bus reaper thread");
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_render_runs_as_ranges() {
        assert_eq!(partitions(BASE36, 2), vec!["[a-r]*", "[s-z0-9]*"]);
        assert_eq!(partitions(BASE36, 1), vec!["*"]);
        assert_eq!(partitions("ab-]x", 2), vec!["[ab\\-]*", "[\\]x]*"]);
        assert_eq!(partitions(BASE36, 100).len(), 36);
    }

    #[test]
    fn requests_round_trip_through_channels() {
        let reqs = [
            Request::Pageview {
                page: "tv:55\"".into(),
            },
            Request::MarkNotificationSeen {
                notification: "welcome".into(),
            },
            Request::Combo {
                items: vec!["tv".into(), "tv-mount".into()],
            },
            Request::Notifications {
                list: vec!["a:b".into(), "c".into()],
            },
            Request::FeaturedPages { pages: vec![] },
        ];
        for r in reqs {
            let (ch, body) = r.encode("s1", "r1");
            let (s, rid, back) = Request::decode(ch.as_bytes(), &body).unwrap();
            assert_eq!((s.as_str(), rid.as_str(), &back), ("s1", "r1", &r));
        }
        assert_eq!(
            Request::Notifications {
                list: vec!["welcome".into()]
            }
            .encode("k3", "7f")
            .0,
            "ss:notifications:k3:7f:[\"welcome\"]"
        );
        for bad in [
            "ss:pageview:s1",
            "ss:nope:s1:r1",
            "ss:pageview:s{1}:r1",
            "ss:notifications:s1:r1",
            "ss:notifications:s1:r1:[1]",
            "xx:pageview:s1:r1",
        ] {
            assert!(Request::decode(bad.as_bytes(), b"p").is_err(), "{bad}");
        }
    }

    #[test]
    fn responses_round_trip_through_json() {
        let rs = [
            (
                Command::Pageview,
                Response::Pageview(PageviewStats {
                    unique_pages: 2,
                    total_views: 3,
                    activity: vec![0, 1, 2],
                }),
            ),
            (
                Command::MarkNotificationSeen,
                Response::NotificationSeen(true),
            ),
            (Command::Combo, Response::Combo(false)),
            (
                Command::Notifications,
                Response::Notifications(vec![("a".into(), true), ("b".into(), false)]),
            ),
            (
                Command::FeaturedPages,
                Response::FeaturedPages(vec![("tv".into(), true)]),
            ),
        ];
        for (c, r) in rs {
            assert_eq!(Response::from_json(c, r.to_json().as_bytes()).unwrap(), r);
        }
        assert_eq!(
            Response::Pageview(PageviewStats {
                unique_pages: 2,
                total_views: 3,
                activity: vec![0, 1, 2],
            })
            .to_json(),
            "{\"unique_pages\":2,\"total_views\":3,\"activity\":[0,1,2]}"
        );
        let e = Response::from_json(Command::Combo, b"{\"error\":\"boom\"}").unwrap_err();
        assert!(e.to_string().contains("boom"));
    }

    #[test]
    fn delay_fires_and_block_on_waits_for_it() {
        let start = crate::clock::real_instant();
        block_on(Delay::new(Duration::from_millis(30)));
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(30) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }
}
