//! The demo shop (`examples/demo/app.rs`) in a real browser: Debian's Chromium, headless,
//! loads the pages of a shop served on a free port by this test, with a persistent profile so
//! that the session cookie carries across visits: the catalogue with its pictures, product
//! pages, the cart (filled through the product page's form), the sidebar's counts, activity
//! chart, combo offer, recently viewed and trending products, the view-time quantiles a
//! page's leave beacon feeds, and the notifications' read state. A second shop with no responder renders its pages in degraded mode, with the
//! banner, within the application timeout. Plain HTTP checks what is not a pageview (HEAD, the favicon,
//! malformed or unknown items) and that those answer as they should.
//!
//! Chromium must be installed (`apt-get install -y chromium`; `.ci/run` does this): the test
//! fails, never skips, without it.
// Starting a browser and timing a degraded page take real time.
#![allow(clippy::disallowed_methods)]

#[path = "../examples/demo/app.rs"]
mod app;

use sketchstore::intel::bus::{partitions, BASE36};
use sketchstore::intel::{BusConfig, IntelConfig, Requester, Responder, SessionIntel};
use sketchstore::Store;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A demo served on a free port from a thread of this test.
struct Demo {
    port: u16,
    _responders: Vec<Responder>,
}

fn serve(with_responders: bool, app_timeout: Duration) -> Demo {
    let store = Store::new();
    let mut config = IntelConfig::default();
    config.site = Some(app::SITE.to_owned());
    let intel = Arc::new(SessionIntel::embedded(&store, config).unwrap());
    let mut bus = BusConfig::default();
    bus.app_timeout = app_timeout;
    let responders = if with_responders {
        partitions(BASE36, 2)
            .iter()
            .map(|p| Responder::spawn(intel.clone(), p, bus.clone()).unwrap())
            .collect()
    } else {
        Vec::new()
    };
    let shop = app::Shop {
        requester: Arc::new(Requester::new(intel.backend().clone(), bus)),
        backend: intel.backend().clone(),
        activity_bucket: intel.config().activity_bucket,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app::router(shop)).await.unwrap();
        });
    });
    Demo {
        port,
        _responders: responders,
    }
}

fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium is not installed at {CHROMIUM}: the browser test needs it. Install it with \
         `apt-get install -y chromium` (.ci/run does this)."
    );
    CHROMIUM
}

fn browser(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The DOM of `url` after load, as Chromium serializes it.
fn dump_dom(profile: &Path, url: &str) -> String {
    let out = browser(profile)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 DOM")
}

/// The text of the element with `id` (up to the next tag).
fn by_id(dom: &str, id: &str) -> String {
    let open = format!("id=\"{id}\">");
    let at = dom
        .find(&open)
        .unwrap_or_else(|| panic!("no #{id} in {dom}"))
        + open.len();
    dom[at..].split('<').next().unwrap_or_default().to_owned()
}

/// (unique pages, total views, combo, service) from the sidebar.
fn footer(dom: &str) -> (String, String, String, String) {
    (
        by_id(dom, "unique-pages"),
        by_id(dom, "total-views"),
        by_id(dom, "combo"),
        by_id(dom, "service"),
    )
}

fn notification_states(dom: &str) -> Vec<String> {
    dom.match_indices("class=\"notification ")
        .map(|(i, m)| {
            dom[i + m.len()..]
                .split('"')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_owned()
}

fn profile_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sketchstore-browser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How many times `pat` occurs in `dom`.
fn count(dom: &str, pat: &str) -> usize {
    dom.matches(pat).count()
}

/// The HTML from `start` (which must occur) up to the first `end` after it.
fn section<'a>(dom: &'a str, start: &str, end: &str) -> &'a str {
    let at = dom
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {dom}"));
    let rest = &dom[at..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The values of every `attr="..."` in `html`, in order.
fn attrs(html: &str, attr: &str) -> Vec<String> {
    let open = format!("{attr}=\"");
    html.match_indices(&open)
        .map(|(i, _)| {
            html[i + open.len()..]
                .split('"')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The product ids of the sidebar's "Recently viewed", most recent first.
fn recent(dom: &str) -> Vec<String> {
    if dom.contains("id=\"recent-empty\"") {
        return Vec::new();
    }
    attrs(section(dom, "id=\"recent\"", "</ul>"), "data-product")
}

/// The product ids of the sidebar's "Trending", most viewed first.
fn trending(dom: &str) -> Vec<String> {
    if dom.contains("id=\"trending-empty\"") {
        return Vec::new();
    }
    attrs(section(dom, "id=\"trending\"", "</ul>"), "data-product")
}

/// The product cards of the home page's grid, each with whether it has a picture and the
/// "Viewed" chip.
fn cards(dom: &str) -> Vec<(String, bool, bool)> {
    let grid = section(dom, "id=\"products\"", "</main>");
    grid.split("<a class=\"card\"")
        .skip(1)
        .map(|card| {
            let card = &card[..card.find("</a>").unwrap_or(card.len())];
            let id = attrs(card, "data-product").into_iter().next().unwrap();
            (
                id,
                card.contains("<svg class=\"pic"),
                card.contains("class=\"chip\""),
            )
        })
        .collect()
}

/// The activity chart's bars, and the views it reports in all.
fn activity(dom: &str) -> (usize, u32) {
    let svg = section(dom, "<svg class=\"chart\" id=\"activity\"", "</svg>");
    let views = by_id(dom, "activity-text")
        .split(' ')
        .map(|n| n.parse::<u32>().unwrap())
        .sum();
    (count(svg, "class=\"bar\""), views)
}

/// Submits the form `form_id` of the page `dom` (served at `base`) from `profile`, as a
/// click on its button would, and returns the DOM of the page it ends on. The form is copied
/// into a local page that submits it on load; Chromium follows the POST's redirect.
fn submit(profile: &Path, base: &str, dom: &str, form_id: &str) -> String {
    let form = section(dom, &format!("id=\"{form_id}\""), "</form>");
    let action = attrs(dom, "action")
        .into_iter()
        .find(|a| dom.contains(&format!("action=\"{a}\" id=\"{form_id}\"")))
        .unwrap_or_else(|| panic!("no action for #{form_id}"));
    let fields = &form[form.find('>').unwrap() + 1..];
    let page = profile.join("submit.html");
    std::fs::write(
        &page,
        format!(
            "<!doctype html><form method=\"post\" action=\"{base}{action}\">{fields}</form>\
             <script>document.forms[0].submit()</script>"
        ),
    )
    .unwrap();
    let out = browser(profile)
        .arg("--virtual-time-budget=5000")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed submitting #{form_id}"
    );
    String::from_utf8(out.stdout).expect("UTF-8 DOM")
}

fn screenshot(profile: &Path, url: &str, to: &Path) {
    let out = browser(profile)
        .arg("--hide-scrollbars")
        .arg(format!("--screenshot={}", to.display()))
        .arg("--window-size=1280,900")
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success() && to.exists(), "no screenshot {to:?}");
}

#[test]
fn a_visit_to_the_shop_in_a_browser() {
    // Generous: this test is about what the pages show, not latency under a loaded CI.
    let demo = serve(true, Duration::from_secs(2));
    let base = format!("http://127.0.0.1:{}", demo.port);
    let profile = profile_dir("visit");

    // The catalogue: eight products or more, each with its picture; nothing viewed yet.
    let dom = dump_dom(&profile, &format!("{base}/"));
    let grid = cards(&dom);
    assert!(grid.len() >= 8, "{grid:?}");
    assert!(grid.iter().all(|(_, pic, chip)| *pic && !chip), "{grid:?}");
    assert!(count(&dom, "<svg class=\"pic card-pic\"") >= 8);
    assert_eq!(
        footer(&dom),
        (s("1"), s("1"), s("incomplete"), s("answered"))
    );
    assert!(recent(&dom).is_empty());
    assert!(trending(&dom).is_empty(), "the home page is not a product");
    assert_eq!(by_id(&dom, "unread"), "3");
    assert!(!dom.contains("id=\"degraded\""));
    assert_eq!(activity(&dom), (30, 1), "30 buckets, one view");
    assert!(
        dom.contains("id=\"viewtime-empty\""),
        "no view time reported yet"
    );
    let session = by_id(&dom, "session");
    assert_eq!(session.len(), 16);

    // A product page: picture, name, price, the add-to-cart form.
    let dom = dump_dom(&profile, &format!("{base}/product/tv"));
    assert_eq!(
        by_id(&dom, "session"),
        session,
        "the cookie carried the session"
    );
    assert_eq!(by_id(&dom, "product-name"), "Aurora 55\u{2033} 4K TV");
    assert_eq!(by_id(&dom, "price"), "£649.00");
    assert!(dom.contains("<svg class=\"pic big\""));
    assert!(
        dom.contains("action=\"/cart/add\" id=\"add-form\""),
        "{dom}"
    );
    assert_eq!(
        footer(&dom),
        (s("2"), s("2"), s("incomplete"), s("answered"))
    );
    assert!(!dom.contains("id=\"combo-offer\""));
    assert_eq!(recent(&dom), ["tv"]);
    assert_eq!(trending(&dom), ["tv"], "this view is counted");

    // The mount completes the combo: the offer appears.
    let dom = dump_dom(&profile, &format!("{base}/product/tv-mount"));
    assert_eq!(footer(&dom), (s("3"), s("3"), s("complete"), s("answered")));
    assert!(dom.contains("id=\"combo-offer\""), "{dom}");
    assert_eq!(recent(&dom), ["tv-mount", "tv"]);

    // The seed's route puts one in the cart and confirms.
    let dom = dump_dom(&profile, &format!("{base}/added/kettle"));
    assert!(
        dom.contains("id=\"added\" data-product=\"kettle\""),
        "{dom}"
    );
    assert!(dom.contains("id=\"combo-banner\""));
    assert_eq!(footer(&dom), (s("4"), s("4"), s("complete"), s("answered")));
    assert_eq!(by_id(&dom, "cart-count"), "1");

    let dom = dump_dom(&profile, &format!("{base}/cart"));
    assert_eq!(attrs(&dom, "data-line"), ["kettle"]);
    assert_eq!(by_id(&dom, "total"), "£69.00", "free delivery over £50");
    assert_eq!(footer(&dom), (s("5"), s("5"), s("complete"), s("answered")));

    // Notifications: unread on the first visit, which reads them; read on the next.
    let dom = dump_dom(&profile, &format!("{base}/notifications"));
    assert_eq!(footer(&dom), (s("6"), s("6"), s("complete"), s("answered")));
    assert_eq!(notification_states(&dom), ["unread", "unread", "unread"]);
    assert_eq!(by_id(&dom, "unread"), "0");
    let dom = dump_dom(&profile, &format!("{base}/notifications"));
    assert_eq!(footer(&dom), (s("6"), s("7"), s("complete"), s("answered")));
    assert_eq!(notification_states(&dom), ["read", "read", "read"]);

    // Back home: the viewed products carry the chip; every view is in the chart.
    let dom = dump_dom(&profile, &format!("{base}/"));
    assert_eq!(footer(&dom), (s("6"), s("8"), s("complete"), s("answered")));
    let viewed: Vec<String> = cards(&dom)
        .into_iter()
        .filter(|(_, _, chip)| *chip)
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(viewed, ["tv", "tv-mount", "kettle"]);
    assert_eq!(recent(&dom), ["kettle", "tv-mount", "tv"]);
    let mut hot = trending(&dom);
    hot.sort();
    assert_eq!(
        hot,
        ["kettle", "tv", "tv-mount"],
        "trending after some views"
    );
    assert_eq!(activity(&dom), (30, 8));
    assert_eq!(by_id(&dom, "unread"), "0");

    // The product page's form, submitted, ends on the cart with the line. A cross-site POST
    // carries no SameSite=Lax cookie, so this is a new session, kept by the redirect's cookie.
    let fresh = profile_dir("form");
    let dom = dump_dom(&fresh, &format!("{base}/product/headphones"));
    let first = by_id(&dom, "session");
    let dom = submit(&fresh, &base, &dom, "add-form");
    assert_eq!(attrs(&dom, "data-line"), ["headphones"], "{dom}");
    assert_eq!(by_id(&dom, "subtotal"), "£179.00");
    let second = by_id(&dom, "session");
    assert_ne!(second, session);
    let dom = dump_dom(&fresh, &format!("{base}/cart"));
    assert_eq!(by_id(&dom, "session"), second);
    assert_eq!(attrs(&dom, "data-line"), ["headphones"]);
    assert_ne!(first, session);

    // Leaving a page reports how long it was shown (navigator.sendBeacon on pagehide): a
    // product page in a frame is replaced after 400 ms; the sidebar then shows p50 and p90.
    let leave = profile.join("leave.html");
    std::fs::write(
        &leave,
        format!(
            "<!doctype html><iframe id=\"f\" src=\"{base}/product/tv\"></iframe><script>\
             var f=document.getElementById('f'),n=0;f.onload=function(){{if(++n===1)\
             setTimeout(function(){{f.src='{base}/favicon.ico';}},400);}};</script>"
        ),
    )
    .unwrap();
    let out = browser(&profile)
        .arg("--virtual-time-budget=5000")
        .arg("--dump-dom")
        .arg(format!("file://{}", leave.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed leaving a page");
    let deadline = Instant::now() + Duration::from_secs(10);
    let dom = loop {
        let dom = dump_dom(&profile, &format!("{base}/cart"));
        if dom.contains("id=\"viewtime\"") || Instant::now() > deadline {
            break dom;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let views: u64 = attrs(&dom, "data-views")[0].parse().unwrap();
    let p50: f64 = attrs(&dom, "data-p50")[0].parse().unwrap();
    let p90: f64 = attrs(&dom, "data-p90")[0].parse().unwrap();
    assert!(views >= 1 && p50 > 0.0 && p90 >= p50, "{views} {p50} {p90}");
    assert!(by_id(&dom, "viewtime").starts_with("Half of the shop's page views"));

    // Pictures for the documentation, when asked for:
    // SHOP_SCREENSHOTS=docs/screenshots cargo test --test browser a_visit
    if let Some(dir) = std::env::var_os("SHOP_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        screenshot(&profile, &format!("{base}/"), &dir.join("home.png"));
        screenshot(
            &profile,
            &format!("{base}/product/tv-mount"),
            &dir.join("product.png"),
        );
        let _ = dump_dom(&profile, &format!("{base}/added/tv-mount"));
        screenshot(&profile, &format!("{base}/cart"), &dir.join("cart.png"));
        // A session that has not opened its notifications yet.
        let _ = dump_dom(&fresh, &format!("{base}/product/camera"));
        screenshot(
            &fresh,
            &format!("{base}/notifications"),
            &dir.join("notifications.png"),
        );
        eprintln!("screenshots in {}", dir.display());
    }
}

/// One HTTP/1.1 exchange: the status, the whole response (headers and body) and how long
/// it took.
fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (u16, String, Duration) {
    let start = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    if let Some(id) = cookie {
        req.push_str(&format!("Cookie: {}={id}\r\n", app::COOKIE_NAME));
    }
    if let Some(body) = form {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    c.read_to_string(&mut resp).unwrap();
    let status = resp
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {resp:?}"));
    (status, resp, start.elapsed())
}

#[test]
fn only_a_get_of_a_real_page_is_a_pageview() {
    let demo = serve(true, Duration::from_secs(2));
    let sid = Some("httpcheck01");
    let get = |path: &str| http(demo.port, "GET", path, sid, None);
    let post = |path: &str, form: &str| http(demo.port, "POST", path, sid, Some(form));

    for path in ["/", "/product/tv", "/added/tv", "/cart", "/notifications"] {
        let (status, resp, _) = http(demo.port, "HEAD", path, sid, None);
        assert_eq!(status, 200, "HEAD {path}: {resp}");
        assert!(resp.contains("text/html"), "{resp}");
        assert!(
            resp.ends_with("\r\n\r\n"),
            "HEAD {path} has no body: {resp}"
        );
    }
    for method in ["GET", "HEAD"] {
        let (status, resp, _) = http(demo.port, method, "/favicon.ico", sid, None);
        assert_eq!(status, 200);
        assert!(resp.contains("image/svg+xml"), "{resp}");
    }
    for (path, want) in [
        ("/added/%20", 400),
        ("/added/", 404),
        ("/added/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400),
        ("/added/TV", 400),
        ("/added/no-such-thing", 404),
        ("/product/does-not-exist", 404),
        ("/product/%20", 400),
        ("/product/tv%3Amount", 400),
        ("/nowhere", 404),
    ] {
        for method in ["GET", "HEAD"] {
            let (status, resp, _) = http(demo.port, method, path, sid, None);
            assert_eq!(status, want, "{method} {path}: {resp}");
            assert!(!resp.contains("<script>"), "{resp}");
        }
    }
    for (form, want) in [
        ("item=%20", 400),
        ("item=nope", 404),
        ("", 400),
        ("item=%zz", 400),
    ] {
        let (status, resp, _) = post("/cart/add", form);
        assert_eq!(status, want, "POST /cart/add {form}: {resp}");
    }

    // None of that was a pageview, put anything in the cart or read a notification.
    let (status, dom, _) = get("/");
    assert_eq!(status, 200);
    assert_eq!(
        footer(&dom),
        (s("1"), s("1"), s("incomplete"), s("answered"))
    );
    assert_eq!(by_id(&dom, "cart-count"), "0");
    assert_eq!(by_id(&dom, "unread"), "3");
    assert!(recent(&dom).is_empty());

    // The cart's forms: add, then remove, each answered by a redirect to the cart.
    let (status, resp, _) = post("/cart/add", "item=lamp");
    assert_eq!(status, 303, "{resp}");
    assert!(
        resp.to_ascii_lowercase().contains("location: /cart\r\n"),
        "{resp}"
    );
    let (_, dom, _) = get("/cart");
    assert_eq!(attrs(&dom, "data-line"), ["lamp"]);
    assert_eq!(by_id(&dom, "total"), "£89.00");
    assert_eq!(
        footer(&dom),
        (s("2"), s("2"), s("incomplete"), s("answered"))
    );
    let (status, _, _) = post("/cart/add", "item=tv-mount");
    assert_eq!(status, 303);
    let (_, dom, _) = get("/cart");
    assert_eq!(attrs(&dom, "data-line"), ["tv-mount", "lamp"]);
    assert_eq!(by_id(&dom, "total"), "£138.00");
    let (status, _, _) = post("/cart/remove", "item=lamp");
    assert_eq!(status, 303);
    let (status, _, _) = post("/cart/remove", "item=tv-mount");
    assert_eq!(status, 303);
    let (_, dom, _) = get("/cart");
    assert!(dom.contains("id=\"cart-empty\""), "{dom}");
    assert_eq!(
        footer(&dom),
        (s("2"), s("4"), s("incomplete"), s("answered"))
    );
}

#[test]
fn without_a_responder_pages_render_degraded_within_the_timeout() {
    let demo = serve(false, Duration::from_millis(100));
    for path in ["/", "/product/tv", "/added/tv", "/cart", "/notifications"] {
        let (status, body, took) = http(demo.port, "GET", path, None, None);
        assert_eq!(status, 200, "{body}");
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_millis(600),
            "{path} took {took:?}"
        );
        assert!(
            body.contains("id=\"degraded\"")
                && body.contains("Personalisation is unavailable right now."),
            "{body}"
        );
        assert_eq!(by_id(&body, "service"), "degraded");
        assert_eq!(by_id(&body, "unique-pages"), "?");
        assert_eq!(by_id(&body, "combo"), "unknown");
        assert!(!body.contains("id=\"activity\""));
    }
    let dom = dump_dom(
        &profile_dir("degraded"),
        &format!("http://127.0.0.1:{}/notifications", demo.port),
    );
    assert_eq!(footer(&dom), (s("?"), s("?"), s("unknown"), s("degraded")));
    assert_eq!(notification_states(&dom), ["unknown", "unknown", "unknown"]);
    assert!(dom.contains("id=\"degraded\""));
    // The catalogue does not depend on the service.
    let dom = dump_dom(
        &profile_dir("degraded-home"),
        &format!("http://127.0.0.1:{}/", demo.port),
    );
    assert!(cards(&dom).len() >= 8);
    if let Some(dir) = std::env::var_os("SHOP_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        screenshot(
            &profile_dir("degraded-shot"),
            &format!("http://127.0.0.1:{}/product/lamp", demo.port),
            &dir.join("degraded.png"),
        );
    }
}
