//! The demo web app (`examples/demo/app.rs`) in a real browser: Debian's Chromium, headless,
//! loads the pages of a demo served on a free port by this test, with a persistent profile so
//! that the session cookie carries across visits, and the footer's counts, the combo status
//! and the notifications' read state change as they should. A second demo with no responder
//! renders its pages in degraded mode within the application timeout.
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
    let intel = Arc::new(SessionIntel::embedded(&store, IntelConfig::default()).unwrap());
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
    let requester = Arc::new(Requester::new(intel.backend().clone(), bus));
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
            axum::serve(listener, app::router(requester)).await.unwrap();
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

/// (unique pages, total views, combo, service) from the footer.
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

#[test]
fn footer_counts_combo_and_notifications_change_across_visits() {
    // Generous: this test is about what the pages show, not latency under a loaded CI.
    let demo = serve(true, Duration::from_secs(2));
    let base = format!("http://127.0.0.1:{}", demo.port);
    let profile = profile_dir("visits");

    let dom = dump_dom(&profile, &format!("{base}/added/tv"));
    assert_eq!(
        footer(&dom),
        (s("1"), s("1"), s("incomplete"), s("answered"))
    );
    assert!(dom.contains("Added <b>tv</b> to your cart."), "{dom}");
    assert!(!dom.contains("combo-banner"));
    let session = by_id(&dom, "session");
    assert_eq!(session.len(), 16);

    let dom = dump_dom(&profile, &format!("{base}/added/tv-mount"));
    assert_eq!(
        by_id(&dom, "session"),
        session,
        "the cookie carried the session"
    );
    assert_eq!(footer(&dom), (s("2"), s("2"), s("complete"), s("answered")));
    assert!(dom.contains("id=\"combo-banner\""), "{dom}");
    assert!(dom.contains("<svg id=\"activity\""));
    let views: u32 = by_id(&dom, "activity-text")
        .split(' ')
        .map(|n| n.parse::<u32>().unwrap())
        .sum();
    assert_eq!(views, 2, "both views in the activity window");

    let dom = dump_dom(&profile, &format!("{base}/notifications"));
    assert_eq!(footer(&dom), (s("3"), s("3"), s("complete"), s("answered")));
    assert_eq!(notification_states(&dom), ["unread", "unread", "unread"]);

    let dom = dump_dom(&profile, &format!("{base}/notifications"));
    assert_eq!(footer(&dom), (s("3"), s("4"), s("complete"), s("answered")));
    assert_eq!(notification_states(&dom), ["read", "read", "read"]);

    let dom = dump_dom(&profile, &format!("{base}/added/tv"));
    assert_eq!(footer(&dom), (s("3"), s("5"), s("complete"), s("answered")));

    let dom = dump_dom(&profile, &format!("{base}/"));
    assert_eq!(footer(&dom), (s("4"), s("6"), s("complete"), s("answered")));
    for (item, viewed) in [
        ("tv", true),
        ("tv-mount", true),
        ("soundbar", false),
        ("radio", false),
    ] {
        let li = format!("<li data-item=\"{item}\"><a href=\"/added/{item}\">{item}</a>");
        let at = dom
            .find(&li)
            .unwrap_or_else(|| panic!("no {item} in {dom}"))
            + li.len();
        assert_eq!(
            dom[at..].starts_with(" <span class=\"viewed\">"),
            viewed,
            "{item}"
        );
    }

    // A new profile is a new session.
    let dom = dump_dom(&profile_dir("fresh"), &format!("{base}/added/radio"));
    assert_ne!(by_id(&dom, "session"), session);
    assert_eq!(
        footer(&dom),
        (s("1"), s("1"), s("incomplete"), s("answered"))
    );

    // One picture, for a human to look at.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo-added-tv-mount.png");
    let out = browser(&profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=900,760")
        .arg(format!("{base}/added/tv-mount"))
        .output()
        .expect("run chromium");
    assert!(out.status.success() && shot.exists(), "no screenshot");
    eprintln!("screenshot: {}", shot.display());
}

/// Milliseconds to fetch `path` over plain HTTP, and the body.
fn timed_get(port: u16, path: &str) -> (Duration, String) {
    let start = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    c.read_to_string(&mut body).unwrap();
    (start.elapsed(), body)
}

#[test]
fn without_a_responder_pages_render_degraded_within_the_timeout() {
    let demo = serve(false, Duration::from_millis(100));
    for path in ["/added/tv", "/notifications", "/"] {
        let (took, body) = timed_get(demo.port, path);
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_millis(600),
            "{path} took {took:?}"
        );
        assert_eq!(by_id(&body, "service"), "degraded");
        assert_eq!(by_id(&body, "unique-pages"), "?");
        assert_eq!(by_id(&body, "combo"), "unknown");
    }
    let dom = dump_dom(
        &profile_dir("degraded"),
        &format!("http://127.0.0.1:{}/notifications", demo.port),
    );
    assert_eq!(footer(&dom), (s("?"), s("?"), s("unknown"), s("degraded")));
    assert_eq!(notification_states(&dom), ["unknown", "unknown", "unknown"]);
}
