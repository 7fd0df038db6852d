//! The demo's serving layer: a small shop (an axum router) whose pages show what the
//! session-intelligence service knows about the visitor, asked for through the request bus
//! (`sketchstore::intel::bus`). When the service does not answer within the application
//! timeout the page still renders, in degraded mode, with a banner saying so.
//!
//! Routes: `/` (the catalogue), `/product/<id>`, `/added/<id>` (puts one in the cart and
//! confirms), `/cart`, `POST /cart/add` and `POST /cart/remove` (form field `item`),
//! `/notifications`, `/favicon.ico`, and `POST /viewtime` (fields `page` and `ms`: the
//! beacon every page sends when it is left, with how long it was shown; the sidebar shows
//! p50 and p90 of these durations, the site's t-digest).
//!
//! Only a GET of a page is a pageview: HEAD answers the headers without asking the service
//! or touching the cart, the favicon and unknown paths are never recorded, and an item that
//! is blank, malformed or not in the catalogue answers 400 or 404 before anything is written.
//!
//! Beside the service's keys the shop keeps two of its own per session, through the same
//! backend and with the same hash tag: `shop:{<session>}:cart` (a hash, product id to
//! quantity) and `shop:{<session>}:recent` (a list of product ids, most recent first).
//!
//! Shared by `examples/demo.rs` (the binary) and `tests/browser.rs` (which serves it on a
//! free port and drives it with headless Chromium), through `#[path]`.
#![allow(dead_code)]

#[path = "catalogue.rs"]
pub mod catalogue;
#[path = "page.rs"]
pub mod page;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use catalogue::{money, product, Product, CATALOGUE};
use page::{escape, Nav, Sidebar};
use sketchstore::intel::session::{record_view_time, valid_session_id, view_time_quantiles};
use sketchstore::intel::{PageviewStats, Requester};
use sketchstore::Backend;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "ss_session";

/// How long the browser keeps the session cookie, in seconds (a cookie without an age would
/// not outlive the browser process).
pub const COOKIE_MAX_AGE: u64 = 30 * 24 * 3600;

/// The combo the pages check: a TV and its wall mount.
pub const COMBO: [&str; 2] = ["tv", "tv-mount"];

/// The notifications every session has: id, title, detail.
pub const NOTIFICATIONS: [(&str, &str, &str); 3] = [
    (
        "welcome",
        "Welcome to Hearth & Hertz",
        "Your cart and history stay with this browser for thirty minutes after your last visit.",
    ),
    (
        "free-shipping",
        "Free shipping on orders over £50",
        "Applied at checkout, nothing to enter.",
    ),
    (
        "tv-week",
        "TV week: wall mounts at half price",
        "Look at a TV and a mount and we install both for free.",
    ),
];

/// How long the shop's own keys of a session live after their last write, like the
/// service's.
pub const CART_TTL: Duration = Duration::from_secs(30 * 60);

/// How many products "Recently viewed" keeps.
pub const RECENT: usize = 4;

/// The site whose trending products the pageviews feed (the service's
/// [`IntelConfig::site`](sketchstore::intel::IntelConfig::site)).
pub const SITE: &str = "shop";

/// How many trending products the sidebar lists.
pub const TRENDING: usize = 4;

/// Delivery below the free-shipping threshold, and the threshold, in pence.
const DELIVERY: u64 = 495;
const FREE_DELIVERY_FROM: u64 = 5000;

/// What the router serves from.
pub struct Shop {
    /// Asks the session-intelligence service.
    pub requester: Arc<Requester>,
    /// The store, for the cart and the recently viewed list.
    pub backend: Arc<dyn Backend>,
    /// The service's activity bucket width, for the chart's labels.
    pub activity_bucket: Duration,
}

type S = State<Arc<Shop>>;

/// The router over a shop.
pub fn router(shop: Shop) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/product/{item}", get(product_page))
        .route("/added/{item}", get(added))
        .route("/cart", get(cart))
        .route("/cart/add", post(cart_add))
        .route("/cart/remove", post(cart_remove))
        .route("/notifications", get(notifications))
        .route("/viewtime", post(view_time))
        .route("/favicon.ico", get(favicon))
        .fallback(not_found)
        .with_state(Arc::new(shop))
}

// ---- sessions, items, forms ----

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
        .map(|_| char::from(digits[rng.gen_range(0..digits.len())]))
        .collect()
}

fn set_cookie(r: &mut Response, session: &str) {
    let c = format!(
        "{COOKIE_NAME}={session}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
}

/// Why an item named in a request is refused.
enum BadItem {
    /// A name no product could have (blank, too long, characters other than `a-z`, `0-9`
    /// and `-`): 400.
    Malformed(String),
    /// A plain name the catalogue lacks: 404.
    Unknown(String),
}

impl IntoResponse for BadItem {
    fn into_response(self) -> Response {
        match self {
            BadItem::Malformed(raw) => error_page(
                StatusCode::BAD_REQUEST,
                "That is not a product",
                &format!(
                    "\u{201c}{}\u{201d} is not a product name we could ever have.",
                    escape(&raw.chars().take(80).collect::<String>())
                ),
            ),
            BadItem::Unknown(raw) => error_page(
                StatusCode::NOT_FOUND,
                "We could not find that product",
                &format!(
                    "There is no product called \u{201c}{}\u{201d} in the shop.",
                    escape(&raw)
                ),
            ),
        }
    }
}

/// The catalogue product named `raw`.
fn item(raw: &str) -> Result<&'static Product, BadItem> {
    let plain = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !plain {
        return Err(BadItem::Malformed(raw.to_owned()));
    }
    product(raw).ok_or_else(|| BadItem::Unknown(raw.to_owned()))
}

/// The value of `key` in an `application/x-www-form-urlencoded` body; None when absent or
/// not valid percent-encoded UTF-8.
fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k)? == key)
            .then(|| percent_decode(v))
            .flatten()
    })
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

// ---- the shop's own keys ----

fn cart_key(session: &str) -> Vec<u8> {
    format!("shop:{{{session}}}:cart").into_bytes()
}

fn recent_key(session: &str) -> Vec<u8> {
    format!("shop:{{{session}}}:recent").into_bytes()
}

fn cart_add_one(b: &dyn Backend, session: &str, p: &Product) -> sketchstore::Result<()> {
    let key = cart_key(session);
    b.hincrby(&key, p.id.as_bytes(), 1)?;
    b.expire(&key, CART_TTL)?;
    Ok(())
}

/// The cart's lines in catalogue order; fields that are not catalogue products or not
/// positive quantities are ignored.
fn cart_lines(b: &dyn Backend, session: &str) -> sketchstore::Result<Vec<(&'static Product, u64)>> {
    let fields = b.hgetall(&cart_key(session))?;
    Ok(CATALOGUE
        .iter()
        .filter_map(|p| {
            let (_, qty) = fields.iter().find(|(f, _)| f == p.id.as_bytes())?;
            let qty: u64 = std::str::from_utf8(qty).ok()?.parse().ok()?;
            (qty > 0).then_some((p, qty))
        })
        .collect())
}

fn remember_viewed(b: &dyn Backend, session: &str, p: &Product) -> sketchstore::Result<()> {
    let key = recent_key(session);
    b.lrem(&key, 0, p.id.as_bytes())?;
    b.lpush(&key, &[p.id.as_bytes()])?;
    b.ltrim(&key, 0, RECENT as i64 - 1)?;
    b.expire(&key, CART_TTL)?;
    Ok(())
}

/// The shop's trending products, read from the store (empty when it cannot say).
fn trending_products(b: &dyn Backend) -> Vec<(&'static Product, u64)> {
    // Pages other than products (the home page, the cart) are in the list too.
    sketchstore::intel::session::trending(b, SITE, 16)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(page, views)| Some((product(&page)?, views)))
        .take(TRENDING)
        .collect()
}

fn recently_viewed(b: &dyn Backend, session: &str) -> Vec<&'static Product> {
    b.lrange(&recent_key(session), 0, RECENT as i64 - 1)
        .unwrap_or_default()
        .iter()
        .filter_map(|id| product(std::str::from_utf8(id).ok()?))
        .collect()
}

// ---- asking the service ----

/// The service's answers for one page; None where it did not answer in time.
struct Intel {
    stats: Option<PageviewStats>,
    combo: Option<bool>,
    /// The notifications, each with whether it was read.
    seen: Option<Vec<(String, bool)>>,
    /// The catalogue, each product with whether it was viewed.
    viewed: Option<Vec<(String, bool)>>,
}

impl Intel {
    fn answered(&self) -> bool {
        self.stats.is_some() && self.combo.is_some() && self.seen.is_some() && self.viewed.is_some()
    }

    fn unread(&self) -> Option<usize> {
        self.seen
            .as_ref()
            .map(|v| v.iter().filter(|(_, read)| !read).count())
    }
}

fn notification_ids() -> [&'static str; 3] {
    NOTIFICATIONS.map(|(id, _, _)| id)
}

fn product_ids() -> [&'static str; 8] {
    CATALOGUE.each_ref().map(|p| p.id)
}

/// Every request of a page is sent at once: they are published in order, so the one
/// responder of the session runs them in order (the pageview first, so the other answers
/// include it), and the page waits one application timeout at most.
async fn ask(q: &Requester, session: &str, page: &str) -> Intel {
    let (notes, products) = (notification_ids(), product_ids());
    let (stats, combo, seen, viewed) = tokio::join!(
        q.pageview(session, page),
        q.combo(session, &COMBO),
        q.notifications(session, &notes),
        q.featured_pages(session, &products),
    );
    Intel {
        stats: stats.ok().flatten(),
        combo: combo.ok().flatten(),
        seen: seen.ok().flatten(),
        viewed: viewed.ok().flatten(),
    }
}

// ---- responses ----

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The answer to a HEAD of a page: its headers, with nothing recorded.
fn head_only() -> Response {
    html(StatusCode::OK, String::new())
}

fn error_page(status: StatusCode, title: &str, text: &str) -> Response {
    let nav = Nav {
        cart_items: None,
        unread: None,
    };
    let main = format!(
        "<div class=\"error\" id=\"error\" data-status=\"{}\"><h1>{}</h1><p class=\"muted\">{text}</p>\
         <p><a class=\"button\" href=\"/\">Back to the shop</a></p></div>",
        status.as_u16(),
        escape(title)
    );
    html(status, page::shell(title, &nav, false, &main, None))
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response()
}

/// A page with the header and the sidebar filled from `intel`.
#[allow(clippy::too_many_arguments)]
fn render(
    shop: &Shop,
    session: &str,
    new: bool,
    title: &str,
    main: &str,
    intel: &Intel,
    unread: Option<usize>,
    just_read: usize,
    answered: bool,
) -> Response {
    let b = &*shop.backend;
    let recent = recently_viewed(b, session);
    let trending = trending_products(b);
    let cart_items = cart_lines(b, session)
        .ok()
        .map(|lines| lines.iter().map(|(_, q)| *q).sum());
    let timeout = shop.requester.config().app_timeout;
    let aside = page::sidebar(&Sidebar {
        session,
        stats: intel.stats.as_ref(),
        combo: intel.combo,
        unread,
        just_read,
        recent: &recent,
        trending: &trending,
        answered,
        timeout,
        bucket: shop.activity_bucket,
        view_time: view_time_quantiles(b, SITE).ok().flatten(),
    });
    let nav = Nav { cart_items, unread };
    let mut r = html(
        StatusCode::OK,
        page::shell(title, &nav, !answered, main, Some(&aside)),
    );
    if new {
        set_cookie(&mut r, session);
    }
    r
}

// ---- handlers ----

async fn home(State(shop): S, method: Method, headers: HeaderMap) -> Response {
    if method == Method::HEAD {
        return head_only();
    }
    let (s, new) = session(&headers);
    let intel = ask(&shop.requester, &s, "/").await;
    let main = page::home(intel.viewed.as_deref());
    render(
        &shop,
        &s,
        new,
        "Shop",
        &main,
        &intel,
        intel.unread(),
        0,
        intel.answered(),
    )
}

/// The other half of the combo, for a product that is in it.
fn combo_partner(p: &Product) -> Option<&'static Product> {
    if !COMBO.contains(&p.id) {
        return None;
    }
    COMBO
        .iter()
        .find(|id| **id != p.id)
        .and_then(|id| product(id))
}

async fn product_page(
    State(shop): S,
    method: Method,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let p = match item(&raw) {
        Ok(p) => p,
        Err(bad) => return bad.into_response(),
    };
    if method == Method::HEAD {
        return head_only();
    }
    let (s, new) = session(&headers);
    let intel = ask(&shop.requester, &s, p.id).await;
    let _ = remember_viewed(&*shop.backend, &s, p);
    let mut main = format!(
        "<article class=\"product\" data-product=\"{id}\">{pic}<div>\
         <h1 id=\"product-name\">{name}</h1><div class=\"muted\">{tag}</div>\
         <div class=\"price\" id=\"price\">{price}</div><p>{desc}</p>\
         <form method=\"post\" action=\"/cart/add\" id=\"add-form\">\
         <input type=\"hidden\" name=\"item\" value=\"{id}\">\
         <button type=\"submit\">Add to cart</button></form>\
         <p class=\"small\">Free delivery over £50 \u{b7} 30-day returns \u{b7} 2-year guarantee</p>",
        id = p.id,
        pic = p.picture("big"),
        name = p.name,
        tag = p.tagline,
        price = p.price_text(),
        desc = p.description
    );
    if let Some(other) = combo_partner(p) {
        let _ = write!(
            main,
            "<p class=\"note\">Goes well with the <a href=\"/product/{}\">{}</a>: look at \
             both and installation is on us.</p>",
            other.id, other.name
        );
    }
    main.push_str("</div></article>");
    render(
        &shop,
        &s,
        new,
        p.name,
        &main,
        &intel,
        intel.unread(),
        0,
        intel.answered(),
    )
}

/// The seed's route: puts one of `item` in the cart, records a view of its page and
/// confirms.
async fn added(
    State(shop): S,
    method: Method,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let p = match item(&raw) {
        Ok(p) => p,
        Err(bad) => return bad.into_response(),
    };
    if method == Method::HEAD {
        return head_only();
    }
    let (s, new) = session(&headers);
    let stored = cart_add_one(&*shop.backend, &s, p).is_ok();
    let intel = ask(&shop.requester, &s, p.id).await;
    let _ = remember_viewed(&*shop.backend, &s, p);
    let mut main = if stored {
        format!(
            "<div class=\"product\"><div>{pic}</div><div><h1 id=\"added\" data-product=\"{id}\">\
             Added to your cart</h1><p>One <b>{name}</b> ({price}) is in your cart.</p>\
             <p><a class=\"button\" href=\"/cart\">View cart</a> &nbsp; \
             <a href=\"/\">Keep shopping</a></p>",
            pic = p.picture("big"),
            id = p.id,
            name = p.name,
            price = p.price_text()
        )
    } else {
        format!(
            "<div class=\"product\"><div>{pic}</div><div><h1>Your cart is unavailable</h1>\
             <p>We could not add the {name}; please try again in a moment.</p>",
            pic = p.picture("big"),
            name = p.name
        )
    };
    match (intel.combo, combo_partner(p)) {
        (Some(true), _) => main.push_str(
            "<p class=\"note\" id=\"combo-banner\">You have both the TV and the mount: \
             installation is free.</p>",
        ),
        (Some(false), Some(other)) => {
            let _ = write!(
                main,
                "<p class=\"note\">Goes well with the <a href=\"/product/{}\">{}</a>.</p>",
                other.id, other.name
            );
        }
        _ => {}
    }
    main.push_str("</div></div>");
    render(
        &shop,
        &s,
        new,
        &format!("Added {}", p.name),
        &main,
        &intel,
        intel.unread(),
        0,
        intel.answered(),
    )
}

async fn cart(State(shop): S, method: Method, headers: HeaderMap) -> Response {
    if method == Method::HEAD {
        return head_only();
    }
    let (s, new) = session(&headers);
    let intel = ask(&shop.requester, &s, "/cart").await;
    let mut main = String::from("<h1>Your cart</h1>");
    match cart_lines(&*shop.backend, &s) {
        Err(_) => main.push_str("<p class=\"lead\">Your cart is unavailable right now.</p>"),
        Ok(lines) if lines.is_empty() => main.push_str(
            "<p class=\"lead\" id=\"cart-empty\">Your cart is empty.</p>\
             <p><a class=\"button\" href=\"/\">Browse the shop</a></p>",
        ),
        Ok(lines) => {
            main.push_str(
                "<p class=\"lead\">Delivery is free over £50.</p><table class=\"cart\" id=\"cart\">\
                 <tr><th></th><th>Product</th><th class=\"num\">Qty</th><th class=\"num\">Price</th>\
                 <th></th></tr>",
            );
            let mut subtotal = 0u64;
            for (p, qty) in &lines {
                let line = u64::from(p.price).saturating_mul(*qty);
                subtotal = subtotal.saturating_add(line);
                let _ = write!(
                    main,
                    "<tr class=\"line\" data-line=\"{id}\"><td>{pic}</td>\
                     <td><a href=\"/product/{id}\">{name}</a><div class=\"small\">{unit} each</div></td>\
                     <td class=\"num\">{qty}</td><td class=\"num\">{total}</td><td class=\"num\">\
                     <form method=\"post\" action=\"/cart/remove\"><input type=\"hidden\" \
                     name=\"item\" value=\"{id}\"><button class=\"quiet\" type=\"submit\">Remove\
                     </button></form></td></tr>",
                    id = p.id,
                    pic = p.picture("thumb"),
                    name = p.name,
                    unit = p.price_text(),
                    total = money(line)
                );
            }
            let delivery = if subtotal >= FREE_DELIVERY_FROM {
                0
            } else {
                DELIVERY
            };
            let _ = write!(
                main,
                "</table><div class=\"totals\"><div><span>Subtotal</span><span id=\"subtotal\">{}</span></div>\
                 <div><span>Delivery</span><span>{}</span></div>\
                 <div class=\"grand\"><span>Total</span><span id=\"total\">{}</span></div>\
                 <p><button disabled title=\"This is a demo shop\">Checkout</button></p>\
                 <p class=\"small\">A demo shop: nothing here is for sale.</p></div>",
                money(subtotal),
                if delivery == 0 {
                    "Free".to_owned()
                } else {
                    money(delivery)
                },
                money(subtotal.saturating_add(delivery))
            );
        }
    }
    render(
        &shop,
        &s,
        new,
        "Your cart",
        &main,
        &intel,
        intel.unread(),
        0,
        intel.answered(),
    )
}

/// `POST /cart/add` with the form field `item`: one more in the cart, then the cart.
async fn cart_add(State(shop): S, headers: HeaderMap, body: String) -> Response {
    let raw = form_value(&body, "item").unwrap_or_default();
    let p = match item(&raw) {
        Ok(p) => p,
        Err(bad) => return bad.into_response(),
    };
    let (s, new) = session(&headers);
    if cart_add_one(&*shop.backend, &s, p).is_err() {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Your cart is unavailable",
            "We could not add that product; please try again in a moment.",
        );
    }
    let mut r = redirect("/cart");
    if new {
        set_cookie(&mut r, &s);
    }
    r
}

/// `POST /cart/remove` with the form field `item`: the line goes, then the cart.
async fn cart_remove(State(shop): S, headers: HeaderMap, body: String) -> Response {
    let raw = form_value(&body, "item").unwrap_or_default();
    let p = match item(&raw) {
        Ok(p) => p,
        Err(bad) => return bad.into_response(),
    };
    let (s, _) = session(&headers);
    let _ = shop.backend.hdel(&cart_key(&s), &[p.id.as_bytes()]);
    redirect("/cart")
}

/// `POST /viewtime` with `ms`, how long a page was shown: one duration more in the site's
/// view-time digest. 204; 400 for a body without a whole number of milliseconds; 503 when
/// the store cannot record it (a Redis without RedisBloom's t-digest).
async fn view_time(State(shop): S, body: String) -> Response {
    let Some(ms) = form_value(&body, "ms").and_then(|v| v.parse::<u64>().ok()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match record_view_time(&*shop.backend, SITE, Duration::from_millis(ms)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn notifications(State(shop): S, method: Method, headers: HeaderMap) -> Response {
    if method == Method::HEAD {
        return head_only();
    }
    let (s, new) = session(&headers);
    let q = &shop.requester;
    let ids = notification_ids();
    // The marks are published after the read, so the page shows what was unread before.
    let (intel, m0, m1, m2) = tokio::join!(
        ask(q, &s, "/notifications"),
        q.mark_notification_seen(&s, ids[0]),
        q.mark_notification_seen(&s, ids[1]),
        q.mark_notification_seen(&s, ids[2]),
    );
    let marked = [m0, m1, m2].iter().all(|m| matches!(m, Ok(Some(_))));
    let mut main = String::from(
        "<h1>Notifications</h1><p class=\"lead\">Opening this page marks them all read.</p>\
         <ul class=\"notes\" id=\"notifications\">",
    );
    for (i, (id, title, detail)) in NOTIFICATIONS.iter().enumerate() {
        let state = match intel.seen.as_ref().and_then(|v| v.get(i)).map(|(_, s)| *s) {
            Some(true) => "read",
            Some(false) => "unread",
            None => "unknown",
        };
        let _ = write!(
            main,
            "<li class=\"notification {state}\" data-id=\"{id}\"><span class=\"dot\"></span>\
             <span class=\"text\">{}<small>{}</small></span><span class=\"state\">{state}</span></li>",
            escape(title),
            escape(detail)
        );
    }
    main.push_str("</ul>");
    // Everything on this page is read once the marks are in.
    let (unread, just_read) = match (marked, intel.unread()) {
        (true, before) => (Some(0), before.unwrap_or(0)),
        (false, before) => (before, 0),
    };
    render(
        &shop,
        &s,
        new,
        "Notifications",
        &main,
        &intel,
        unread,
        just_read,
        intel.answered() && marked,
    )
}

async fn favicon() -> Response {
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "max-age=86400"),
        ],
        page::FAVICON,
    )
        .into_response()
}

async fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address.",
    )
}
