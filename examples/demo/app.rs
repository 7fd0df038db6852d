//! The demo's serving layer: an axum router that asks the session-intelligence service for
//! everything it shows through the request bus (`sketchstore::intel::bus`), and renders in
//! degraded mode when the service does not answer within the application timeout.
//!
//! Shared by `examples/demo.rs` (the binary) and `tests/browser.rs` (which serves it on a
//! free port and drives it with headless Chromium), through `#[path]`.
#![allow(dead_code)]

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sketchstore::intel::bus::MAX_NAME_LEN;
use sketchstore::intel::session::valid_session_id;
use sketchstore::intel::{PageviewStats, Requester};
use std::fmt::Write as _;
use std::sync::Arc;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "ss_session";

/// How long the browser keeps the session cookie, in seconds (a cookie without an age would
/// not outlive the browser process).
pub const COOKIE_MAX_AGE: u64 = 30 * 24 * 3600;

/// The combo the pages check: a TV and its wall mount.
pub const COMBO: [&str; 2] = ["tv", "tv-mount"];

/// Pages the home page features, each shown as viewed or not.
pub const FEATURED: [&str; 4] = ["tv", "tv-mount", "soundbar", "radio"];

/// The notifications every session has.
pub const NOTIFICATIONS: [(&str, &str); 3] = [
    ("welcome", "Welcome to the demo shop"),
    ("free-shipping", "Free shipping on orders over 50"),
    ("tv-week", "TV week: mounts at half price"),
];

/// The router over a requester.
pub fn router(requester: Arc<Requester>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/added/{item}", get(added))
        .route("/notifications", get(notifications))
        .with_state(requester)
}

/// The session of a request: its cookie's, or a new random base-36 id (then `true`).
fn session(headers: &HeaderMap) -> (String, bool) {
    let from_cookie = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_owned())
        .filter(|v| valid_session_id(v));
    match from_cookie {
        Some(s) => (s, false),
        None => (new_session_id(), true),
    }
}

fn new_session_id() -> String {
    use rand::Rng;
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| digits[rng.gen_range(0..36)] as char)
        .collect()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the footer shows, from the answers of one page's requests.
struct Footer {
    stats: Option<PageviewStats>,
    combo: Option<bool>,
    answered: bool,
    timeout_ms: u128,
    session: String,
}

fn footer(f: &Footer) -> String {
    let mut h = String::from("<footer id=\"stats\">");
    match &f.stats {
        Some(s) => {
            let _ = write!(
                h,
                "<p>Unique pages: <b id=\"unique-pages\">{}</b> &middot; Total views: \
                 <b id=\"total-views\">{}</b></p>",
                s.unique_pages, s.total_views
            );
            h.push_str(&activity_chart(&s.activity));
        }
        None => h.push_str(
            "<p>Unique pages: <b id=\"unique-pages\">?</b> &middot; Total views: \
             <b id=\"total-views\">?</b></p>",
        ),
    }
    let combo = match f.combo {
        Some(true) => "complete",
        Some(false) => "incomplete",
        None => "unknown",
    };
    let _ = write!(h, "<p>TV + mount combo: <b id=\"combo\">{combo}</b></p>");
    if f.answered {
        h.push_str("<p>Service: <b id=\"service\">answered</b> in time</p>");
    } else {
        let _ = write!(
            h,
            "<p>Service: <b id=\"service\">degraded</b> (no answer within {} ms)</p>",
            f.timeout_ms
        );
    }
    let _ = write!(
        h,
        "<p class=\"session\">session <code id=\"session\">{}</code></p></footer>",
        escape(&f.session)
    );
    h
}

/// Inline SVG bars, one per activity bucket, oldest first.
fn activity_chart(activity: &[u8]) -> String {
    let max = activity.iter().copied().max().unwrap_or(0).max(1) as u32;
    let (w, h) = (8u32, 40u32);
    let mut svg = format!(
        "<svg id=\"activity\" width=\"{}\" height=\"{}\" role=\"img\" \
         aria-label=\"views per 10 seconds\">",
        activity.len() as u32 * w,
        h + 2
    );
    for (i, &n) in activity.iter().enumerate() {
        let bar = (u32::from(n) * h / max).max(u32::from(n > 0));
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#3b82f6\"><title>{n}</title></rect>",
            i as u32 * w + 1,
            h - bar + 1,
            w - 2,
            bar
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/></svg>",
        h + 1,
        activity.len() as u32 * w,
        h + 1
    );
    format!(
        "<p>Activity, views per bucket over the last {} buckets:</p><div>{svg}</div>\
         <p><small id=\"activity-text\">{}</small></p>",
        activity.len(),
        activity
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn page(title: &str, body: &str, f: &Footer, set_cookie: bool) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:42em;margin:2em auto;color:#222}}\
         footer{{margin-top:2em;padding-top:1em;border-top:1px solid #ccc;font-size:90%}}\
         .unread{{font-weight:bold}}.read{{color:#888}}.viewed{{color:#080}}\
         .banner{{background:#fef3c7;padding:.5em 1em}}</style></head><body>\
         <nav><a href=\"/\">Home</a> &middot; <a href=\"/notifications\">Notifications</a></nav>\
         <h1>{t}</h1>{body}{foot}</body></html>",
        t = escape(title),
        foot = footer(f)
    );
    let mut r = ([(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if set_cookie {
        let c = format!(
            "{COOKIE_NAME}={}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax",
            f.session
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().insert(SET_COOKIE, v);
        }
    }
    r
}

/// Every request of a page is sent at once (published in order, so the one responder of
/// the session runs them in order) and the page waits one application timeout at most.
async fn home(State(q): State<Arc<Requester>>, headers: HeaderMap) -> Response {
    let (s, new) = session(&headers);
    let (pv, combo, featured) = tokio::join!(
        q.pageview(&s, "/"),
        q.combo(&s, &COMBO),
        q.featured_pages(&s, &FEATURED),
    );
    let (pv, combo, featured) = (
        pv.ok().flatten(),
        combo.ok().flatten(),
        featured.ok().flatten(),
    );
    let answered = pv.is_some() && combo.is_some() && featured.is_some();
    let mut body = String::from("<p>Add something to your cart:</p><ul id=\"featured\">");
    for (i, item) in FEATURED.iter().enumerate() {
        let viewed = featured.as_ref().and_then(|f| f.get(i)).map(|(_, v)| *v);
        let mark = match viewed {
            Some(true) => " <span class=\"viewed\">(viewed)</span>",
            Some(false) => "",
            None => " <span>(?)</span>",
        };
        let _ = write!(
            body,
            "<li data-item=\"{item}\"><a href=\"/added/{item}\">{item}</a>{mark}</li>"
        );
    }
    body.push_str(
        "<li><a href=\"/added/anything-you-like\">/added/&lt;anything&gt;</a></li></ul>\
         <p><a href=\"/notifications\">Your notifications</a></p>",
    );
    let f = Footer {
        stats: pv,
        combo,
        answered,
        timeout_ms: q.config().app_timeout.as_millis(),
        session: s,
    };
    page("sketchstore demo shop", &body, &f, new)
}

async fn added(
    State(q): State<Arc<Requester>>,
    Path(item): Path<String>,
    headers: HeaderMap,
) -> Response {
    if item.is_empty() || item.len() > MAX_NAME_LEN {
        return (StatusCode::BAD_REQUEST, "item name too long").into_response();
    }
    let (s, new) = session(&headers);
    let (pv, combo) = tokio::join!(q.pageview(&s, &item), q.combo(&s, &COMBO));
    let (pv, combo) = (pv.ok().flatten(), combo.ok().flatten());
    let answered = pv.is_some() && combo.is_some();
    let mut body = format!(
        "<p id=\"added\">Added <b>{}</b> to your cart.</p>",
        escape(&item)
    );
    match combo {
        Some(true) => body.push_str(
            "<p class=\"banner\" id=\"combo-banner\">You have both the TV and the mount: \
             installation is free.</p>",
        ),
        Some(false) if COMBO.contains(&item.as_str()) => {
            let other = COMBO.iter().find(|c| **c != item).unwrap_or(&COMBO[0]);
            let _ = write!(
                body,
                "<p>Goes well with <a href=\"/added/{other}\">{other}</a>.</p>"
            );
        }
        _ => {}
    }
    let f = Footer {
        stats: pv,
        combo,
        answered,
        timeout_ms: q.config().app_timeout.as_millis(),
        session: s,
    };
    page(&format!("Added {item}"), &body, &f, new)
}

async fn notifications(State(q): State<Arc<Requester>>, headers: HeaderMap) -> Response {
    let (s, new) = session(&headers);
    let ids: Vec<&str> = NOTIFICATIONS.iter().map(|(id, _)| *id).collect();
    // The marks are published after the read, so the page shows what was unread before.
    let (pv, combo, seen, m0, m1, m2) = tokio::join!(
        q.pageview(&s, "/notifications"),
        q.combo(&s, &COMBO),
        q.notifications(&s, &ids),
        q.mark_notification_seen(&s, ids[0]),
        q.mark_notification_seen(&s, ids[1]),
        q.mark_notification_seen(&s, ids[2]),
    );
    let (pv, combo, seen) = (pv.ok().flatten(), combo.ok().flatten(), seen.ok().flatten());
    let marked = [m0, m1, m2].iter().all(|m| matches!(m, Ok(Some(_))));
    let answered = pv.is_some() && combo.is_some() && seen.is_some() && marked;
    let mut body = String::from("<ul id=\"notifications\">");
    for (i, (id, text)) in NOTIFICATIONS.iter().enumerate() {
        let state = match seen.as_ref().and_then(|v| v.get(i)).map(|(_, s)| *s) {
            Some(true) => "read",
            Some(false) => "unread",
            None => "unknown",
        };
        let _ = write!(
            body,
            "<li class=\"notification {state}\" data-id=\"{id}\">{text} <small>({state})</small></li>"
        );
    }
    body.push_str("</ul>");
    let f = Footer {
        stats: pv,
        combo,
        answered,
        timeout_ms: q.config().app_timeout.as_millis(),
        session: s,
    };
    page("Notifications", &body, &f, new)
}
