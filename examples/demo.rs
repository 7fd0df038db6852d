//! The intelligent session store, end to end: Hearth & Hertz, a small shop (a catalogue of
//! eight products, product pages, a cart, notifications) whose every page shows what the
//! session-intelligence service knows about the visitor (recently viewed products, unique
//! pages, total views, an activity chart, the TV + mount combo offer, unread notifications),
//! asked for over the store's request bus, and says so when the service does not answer in
//! time. Pages report how long they were shown when left (a `sendBeacon` to `POST
//! /viewtime`), and the sidebar shows the shop's p50 and p90 view time (a t-digest).
//!
//! ```sh
//! cargo run --release --example demo                # embedded store, http://127.0.0.1:3379
//! cargo run --release --example demo -- --port 8080
//! cargo run --release --example demo -- --role serving     # no responder: degraded pages
//! # Two processes through a real Redis (with RedisBloom loaded):
//! cargo run --release --features redis --example demo -- --redis redis://127.0.0.1:6379 --role responder
//! cargo run --release --features redis --example demo -- --redis redis://127.0.0.1:6379 --role serving
//! ```
//!
//! Options: `--port N` (3379), `--bind ADDR` (127.0.0.1), `--redis URL` (embedded store when
//! absent), `--role serving|responder|both` (both), `--partitions N` (2 responders, each
//! serving a share of the session ids), `--app-timeout-ms N` (100).
//!
//! Screenshots of the pages are in `docs/screenshots/`; `tests/browser.rs` retakes them with
//! `SHOP_SCREENSHOTS=docs/screenshots cargo test --test browser`.

#[path = "demo/app.rs"]
mod app;

use sketchstore::intel::bus::{partitions, BASE36};
use sketchstore::intel::{BusConfig, IntelConfig, Requester, Responder, SessionIntel};
use sketchstore::{Backend, Store};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Serving,
    Responder,
    Both,
}

struct Options {
    port: u16,
    bind: String,
    redis: Option<String>,
    role: Role,
    partitions: usize,
    app_timeout: Duration,
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "{msg}\nusage: demo [--port N] [--bind ADDR] [--redis URL] \
         [--role serving|responder|both] [--partitions N] [--app-timeout-ms N]"
    );
    std::process::exit(2)
}

fn options() -> Options {
    let mut o = Options {
        port: 3379,
        bind: "127.0.0.1".into(),
        redis: None,
        role: Role::Both,
        partitions: 2,
        app_timeout: Duration::from_millis(100),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--port" => o.port = value().parse().unwrap_or_else(|_| usage("bad --port")),
            "--bind" => o.bind = value(),
            "--redis" => o.redis = Some(value()),
            "--role" => {
                o.role = match value().as_str() {
                    "serving" => Role::Serving,
                    "responder" => Role::Responder,
                    "both" => Role::Both,
                    other => usage(&format!("unknown role {other}")),
                }
            }
            "--partitions" => {
                o.partitions = value()
                    .parse()
                    .unwrap_or_else(|_| usage("bad --partitions"))
            }
            "--app-timeout-ms" => {
                o.app_timeout = Duration::from_millis(
                    value()
                        .parse()
                        .unwrap_or_else(|_| usage("bad --app-timeout-ms")),
                )
            }
            "-h" | "--help" => usage("sketchstore demo"),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    o
}

/// Activity in 10-second buckets over 10 minutes, so the chart moves while one clicks.
fn intel_config() -> IntelConfig {
    let mut c = IntelConfig::default();
    c.activity_bucket = Duration::from_secs(10);
    c.activity_span = Duration::from_secs(600);
    c.activity_window = 30;
    c.site = Some(app::SITE.to_owned());
    c
}

#[cfg(feature = "redis")]
fn redis_backend(url: &str) -> Arc<dyn Backend> {
    match sketchstore::RedisBackend::connect(url) {
        Ok(b) => Arc::new(b),
        Err(e) => {
            eprintln!("cannot connect to {url}: {e}");
            std::process::exit(1)
        }
    }
}

#[cfg(not(feature = "redis"))]
fn redis_backend(_url: &str) -> Arc<dyn Backend> {
    usage("--redis needs the redis feature: cargo run --features redis --example demo")
}

fn main() {
    let o = options();
    let (intel, label) = match &o.redis {
        None => {
            let store = Store::new();
            let intel = SessionIntel::embedded(&store, intel_config()).expect("intel config");
            (Arc::new(intel), "embedded store".to_owned())
        }
        Some(url) => {
            let intel =
                SessionIntel::new(redis_backend(url), intel_config()).expect("intel config");
            (Arc::new(intel), format!("redis at {url}"))
        }
    };
    let mut bus = BusConfig::default();
    bus.app_timeout = o.app_timeout;

    let _responders: Vec<Responder> = if o.role == Role::Serving {
        Vec::new()
    } else {
        partitions(BASE36, o.partitions)
            .iter()
            .map(|p| {
                let r = Responder::spawn(intel.clone(), p, bus.clone()).unwrap_or_else(|e| {
                    eprintln!("cannot start a responder: {e}");
                    std::process::exit(1)
                });
                println!("responder for sessions {p} on the {label}");
                r
            })
            .collect()
    };

    if o.role == Role::Responder {
        println!("responding only; stop with Ctrl-C");
        loop {
            std::thread::park();
        }
    }

    let requester = Arc::new(Requester::new(intel.backend().clone(), bus));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let addr = format!("{}:{}", o.bind, o.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .unwrap_or_else(|e| {
                eprintln!("cannot listen on {addr}: {e}");
                std::process::exit(1)
            });
        println!(
            "serving http://{addr}/ on the {label} ({} responders in this process)",
            if o.role == Role::Serving {
                0
            } else {
                o.partitions.min(36)
            }
        );
        let shop = app::Shop {
            requester,
            backend: intel.backend().clone(),
            activity_bucket: intel.config().activity_bucket,
        };
        if let Err(e) = axum::serve(listener, app::router(shop)).await {
            eprintln!("server failed: {e}");
            std::process::exit(1)
        }
    });
}
