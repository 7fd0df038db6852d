//! The shop's HTML: the page shell (header, degraded banner, main column, the "your session"
//! sidebar, footer) and the sidebar's panels. Everything a page needs is in it: the CSS is
//! inline and the pictures and the chart are inline SVG, so a page is one request.

use super::catalogue::{Product, CATALOGUE};
use sketchstore::intel::{PageviewStats, ViewTimeQuantiles};
use std::fmt::Write as _;
use std::time::Duration;

/// HTML-escapes `s` for text and attribute values.
pub fn escape(s: &str) -> String {
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

/// What the header shows.
pub struct Nav {
    /// Items in the cart, None when the cart could not be read.
    pub cart_items: Option<u64>,
    /// Unread notifications, None when the service did not say.
    pub unread: Option<usize>,
}

/// What the sidebar shows: the session-intelligence answers of one page.
pub struct Sidebar<'a> {
    pub session: &'a str,
    pub stats: Option<&'a PageviewStats>,
    pub combo: Option<bool>,
    pub unread: Option<usize>,
    /// How many of them this page has just marked read.
    pub just_read: usize,
    pub recent: &'a [&'static Product],
    /// The shop's trending products with their estimated views, heaviest first.
    pub trending: &'a [(&'static Product, u64)],
    /// Whether every request of the page was answered in time.
    pub answered: bool,
    pub timeout: Duration,
    pub bucket: Duration,
    /// How long the shop's pages are looked at (the site's view-time digest), None before
    /// the first report or when the store cannot say.
    pub view_time: Option<ViewTimeQuantiles>,
}

/// Reports how long the page was shown when the visitor leaves it (`pagehide`, or the tab
/// going to the background), once, with `navigator.sendBeacon` to `POST /viewtime`.
const VIEW_TIME_BEACON: &str = "<script>(function(){var t0=performance.now(),sent=false;\
function send(){if(sent)return;sent=true;navigator.sendBeacon('/viewtime','page='+\
encodeURIComponent(location.pathname)+'&ms='+Math.round(performance.now()-t0));}\
addEventListener('pagehide',send);document.addEventListener('visibilitychange',function(){\
if(document.visibilityState==='hidden')send();});})();</script>";

const CSS: &str = "
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',sans-serif;
 color:#1f2328;background:#f6f4f0}
a{color:inherit}
header.top{background:#fff;border-bottom:1px solid #e7e2d9}
.top .in{max-width:1180px;margin:0 auto;padding:14px 24px;display:flex;align-items:center;gap:28px}
.brand{display:flex;align-items:center;gap:10px;text-decoration:none;font-weight:700;font-size:19px;
 letter-spacing:-.01em}
.brand svg{width:30px;height:30px}
.top nav{margin-left:auto;display:flex;gap:22px;align-items:center}
.top nav a{text-decoration:none;color:#4a4f57;font-weight:500}
.top nav a:hover{color:#1f2328}
.count{display:inline-block;min-width:20px;padding:0 6px;margin-left:4px;border-radius:10px;
 background:#ece8e0;color:#4a4f57;font-size:12px;line-height:20px;text-align:center;font-weight:600}
.count.hot{background:#d9480f;color:#fff}
.degraded{background:#fff4d6;border-bottom:1px solid #f0d58c;color:#6b4e00}
.degraded .in{max-width:1180px;margin:0 auto;padding:10px 24px}
.wrap{max-width:1180px;margin:0 auto;padding:26px 24px 10px;display:grid;
 grid-template-columns:minmax(0,1fr) 300px;gap:28px;align-items:start}
h1{font-size:26px;letter-spacing:-.02em;margin:0 0 4px}
.lead{color:#6a6f77;margin:0 0 20px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(176px,1fr));gap:18px}
.card{position:relative;background:#fff;border-radius:14px;overflow:hidden;text-decoration:none;
 box-shadow:0 1px 2px rgba(31,35,40,.06),0 4px 14px rgba(31,35,40,.05);transition:transform .15s}
.card:hover{transform:translateY(-2px)}
.pic{display:block;width:100%;height:auto}
.card .body{padding:10px 14px 14px}
.card .name{font-weight:600}
.card .tag{color:#6a6f77;font-size:13px}
.card .price{margin-top:6px;font-weight:700}
.chip{position:absolute;top:10px;left:10px;background:rgba(255,255,255,.92);color:#2f6b3a;
 font-size:12px;font-weight:600;padding:2px 8px;border-radius:10px}
.product{display:grid;grid-template-columns:minmax(0,1.1fr) minmax(0,1fr);gap:28px;background:#fff;
 border-radius:16px;padding:22px;box-shadow:0 1px 2px rgba(31,35,40,.06)}
.product .pic{border-radius:12px}
.product .price{font-size:24px;font-weight:700;margin:8px 0 12px}
.product p{color:#474c54}
button,.button{font:inherit;font-weight:600;border:0;border-radius:10px;padding:11px 20px;
 background:#1f2328;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button:hover,.button:hover{background:#3a4048}
button.quiet{background:none;color:#8a4b2a;padding:4px 8px;font-weight:500}
button.quiet:hover{text-decoration:underline;background:none}
button[disabled]{background:#b8bcc2;cursor:not-allowed}
.muted{color:#6a6f77}
.note{background:#eef6f0;border-radius:10px;padding:10px 14px;color:#285a33;margin:16px 0}
.cart{width:100%;border-collapse:collapse;background:#fff;border-radius:14px;overflow:hidden;
 box-shadow:0 1px 2px rgba(31,35,40,.06)}
.cart td,.cart th{padding:10px 14px;text-align:left;border-bottom:1px solid #f0ece5}
.cart th{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:#8a8f96;font-weight:600}
.cart .thumb{width:72px;border-radius:8px;display:block}
.cart td:first-child,.cart th:first-child{width:100px;padding-right:0}
.cart .num{text-align:right;white-space:nowrap}
.totals{margin:16px 0 0 auto;width:300px}
.totals p{margin:14px 0 0;text-align:right}
.totals div{display:flex;justify-content:space-between;padding:3px 0}
.totals .grand{font-weight:700;font-size:18px;border-top:1px solid #e7e2d9;margin-top:6px;padding-top:8px}
.notes{list-style:none;padding:0;margin:0;display:grid;gap:12px}
.notification{background:#fff;border-radius:12px;padding:14px 16px;display:flex;gap:14px;
 align-items:center;box-shadow:0 1px 2px rgba(31,35,40,.06)}
.notification .dot{width:10px;height:10px;border-radius:50%;background:#d0d3d8;flex:none}
.notification.unread .dot{background:#d9480f}
.notification.unread .text{font-weight:600}
.notification small{display:block;font-weight:400;color:#6a6f77;font-size:13px}
.notification .state{margin-left:auto;font-size:12px;font-weight:600;padding:2px 10px;
 border-radius:10px;background:#f0ece5;color:#6a6f77}
.notification.unread .state{background:#fde7dc;color:#b23c0a}
aside{display:grid;gap:14px}
.panel{background:#fff;border-radius:14px;padding:14px 16px;box-shadow:0 1px 2px rgba(31,35,40,.06)}
.panel h3{margin:0 0 8px;font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:#8a8f96}
.stats{display:flex;gap:10px}
.stats div{flex:1;background:#f6f4f0;border-radius:10px;padding:8px 10px}
.stats b{display:block;font-size:24px;line-height:1.2}
.stats span{font-size:12px;color:#6a6f77}
.chart{width:100%;height:auto;display:block;margin-top:4px}
.axis{display:flex;justify-content:space-between;font-size:11px;color:#8a8f96}
.recent{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.recent a{display:flex;gap:10px;align-items:center;text-decoration:none}
.recent svg{width:48px;border-radius:6px;flex:none}
.recent small{display:block;color:#6a6f77}
.offer{background:#16443c;color:#e9f5f1}
.offer h3{color:#9fd3c4}
.offer b{color:#fff}
.small{font-size:12px;color:#8a8f96}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
footer.bottom{max-width:1180px;margin:0 auto;padding:18px 24px 36px;color:#8a8f96;font-size:13px}
.error{background:#fff;border-radius:16px;padding:40px;text-align:center}
@media (max-width:860px){.wrap,.product{grid-template-columns:1fr}}
";

const LOGO: &str = "<svg viewBox=\"0 0 32 32\" aria-hidden=\"true\">\
    <rect width=\"32\" height=\"32\" rx=\"8\" fill=\"#1f2328\"/>\
    <path d=\"M8 22 V12 L16 7 L24 12 V22\" fill=\"none\" stroke=\"#f6c453\" stroke-width=\"2.4\" \
     stroke-linejoin=\"round\"/>\
    <path d=\"M11 19 Q13.5 14 16 19 T21 19\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2\" \
     stroke-linecap=\"round\"/></svg>";

/// The favicon, served at `/favicon.ico`.
pub const FAVICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
    <rect width=\"32\" height=\"32\" rx=\"8\" fill=\"#1f2328\"/>\
    <path d=\"M8 22 V12 L16 7 L24 12 V22\" fill=\"none\" stroke=\"#f6c453\" stroke-width=\"2.4\" \
     stroke-linejoin=\"round\"/></svg>";

/// A whole page. `aside` is None on pages without the sidebar (errors).
pub fn shell(title: &str, nav: &Nav, degraded: bool, main: &str, aside: Option<&str>) -> String {
    let cart = match nav.cart_items {
        Some(n) => format!("<span class=\"count\" id=\"cart-count\">{n}</span>"),
        None => String::new(),
    };
    let unread = match nav.unread {
        Some(0) => "<span class=\"count\" id=\"unread\">0</span>".to_owned(),
        Some(n) => format!("<span class=\"count hot\" id=\"unread\">{n}</span>"),
        None => String::new(),
    };
    let banner = if degraded {
        "<div class=\"degraded\" id=\"degraded\"><div class=\"in\"><b>Personalisation is \
         unavailable right now.</b> The shop works as usual; your history and offers will be \
         back shortly.</div></div>"
    } else {
        ""
    };
    let (open, close) = match aside {
        Some(a) => (
            "<div class=\"wrap\"><main>".to_owned(),
            format!("</main>{a}</div>{VIEW_TIME_BEACON}"),
        ),
        None => (
            "<div class=\"wrap\" style=\"grid-template-columns:1fr\"><main>".to_owned(),
            "</main></div>".to_owned(),
        ),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} \u{b7} Hearth &amp; Hertz</title>\
         <link rel=\"icon\" href=\"/favicon.ico\" type=\"image/svg+xml\"><style>{CSS}</style></head><body>\
         <header class=\"top\"><div class=\"in\"><a class=\"brand\" href=\"/\">{LOGO}Hearth &amp; Hertz</a>\
         <nav><a href=\"/\">Shop</a><a href=\"/cart\">Cart{cart}</a>\
         <a href=\"/notifications\">Notifications{unread}</a></nav></div></header>\
         {banner}{open}{main}{close}\
         <footer class=\"bottom\">Hearth &amp; Hertz is a demo of <b>sketchstore</b>, an embedded \
         Redis-compatible session store. Unique pages come from a HyperLogLog, views from a \
         counter, the chart from a bitfield ring, viewed products and read notifications from \
         Bloom filters; the pages ask for them over the store's request bus.</footer>\
         </body></html>",
        t = escape(title),
    )
}

/// A product as a card of the grid; `viewed` adds the "Viewed" chip.
pub fn card(p: &Product, viewed: bool) -> String {
    let chip = if viewed {
        "<span class=\"chip\">Viewed</span>"
    } else {
        ""
    };
    format!(
        "<a class=\"card\" href=\"/product/{id}\" data-product=\"{id}\">{chip}{pic}\
         <div class=\"body\"><div class=\"name\">{name}</div><div class=\"tag\">{tag}</div>\
         <div class=\"price\">{price}</div></div></a>",
        id = p.id,
        pic = p.picture("card-pic"),
        name = p.name,
        tag = p.tagline,
        price = p.price_text()
    )
}

/// The "your session" sidebar.
pub fn sidebar(s: &Sidebar<'_>) -> String {
    let mut h = String::from("<aside id=\"intel\">");
    if let Some(true) = s.combo {
        h.push_str(
            "<section class=\"panel offer\" id=\"combo-offer\"><h3>Your combo</h3>\
             You looked at the <b>Aurora TV</b> and the <b>tilt wall mount</b>: buy both and \
             we install them <b>free</b>.</section>",
        );
    }

    h.push_str("<section class=\"panel\"><h3>Recently viewed</h3>");
    if s.recent.is_empty() {
        h.push_str("<p class=\"small\" id=\"recent-empty\">Products you look at appear here.</p>");
    } else {
        h.push_str("<ul class=\"recent\" id=\"recent\">");
        for p in s.recent {
            let _ = write!(
                h,
                "<li data-product=\"{id}\"><a href=\"/product/{id}\">{pic}<span>{name}\
                 <small>{price}</small></span></a></li>",
                id = p.id,
                pic = p.picture("mini"),
                name = p.name,
                price = p.price_text()
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");

    h.push_str("<section class=\"panel\"><h3>Trending</h3>");
    if s.trending.is_empty() {
        h.push_str(
            "<p class=\"small\" id=\"trending-empty\">The most viewed products appear here.</p>",
        );
    } else {
        h.push_str("<ul class=\"recent\" id=\"trending\">");
        for (p, views) in s.trending {
            let _ = write!(
                h,
                "<li data-product=\"{id}\" data-views=\"{views}\"><a href=\"/product/{id}\">\
                 {pic}<span>{name}<small>{views} views</small></span></a></li>",
                id = p.id,
                pic = p.picture("mini"),
                name = p.name,
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");

    h.push_str("<section class=\"panel\"><h3>Time on page</h3>");
    match s.view_time {
        Some(q) => {
            let _ = write!(
                h,
                "<p class=\"small\" style=\"margin:0\" data-views=\"{v}\" data-p50=\"{p50:.0}\" \
                 data-p90=\"{p90:.0}\" id=\"viewtime\">Half of the shop's page views last under \
                 <b>{a}</b>, nine in ten under <b>{b}</b> ({v} views, a t-digest).</p>",
                v = q.views,
                p50 = q.p50,
                p90 = q.p90,
                a = seconds_text(q.p50),
                b = seconds_text(q.p90),
            );
        }
        None => h.push_str(
            "<p class=\"small\" style=\"margin:0\" id=\"viewtime-empty\">How long pages are \
             looked at appears here.</p>",
        ),
    }
    h.push_str("</section>");

    h.push_str("<section class=\"panel\"><h3>Your visit</h3><div class=\"stats\">");
    let (unique, total) = match s.stats {
        Some(st) => (st.unique_pages.to_string(), st.total_views.to_string()),
        None => ("?".to_owned(), "?".to_owned()),
    };
    let _ = write!(
        h,
        "<div><b id=\"unique-pages\">{unique}</b><span>unique pages</span></div>\
         <div><b id=\"total-views\">{total}</b><span>page views</span></div></div>"
    );
    match s.stats {
        Some(st) => h.push_str(&activity_chart(&st.activity, s.bucket)),
        None => h.push_str("<p class=\"small\">Activity is unavailable right now.</p>"),
    }
    h.push_str("</section>");

    let combo = match s.combo {
        Some(true) => "complete",
        Some(false) => "incomplete",
        None => "unknown",
    };
    let unread = match s.unread {
        Some(0) if s.just_read == 1 => "You have just read <b>1</b> new notification.".to_owned(),
        Some(0) if s.just_read > 1 => format!(
            "You have just read <b>{}</b> new notifications.",
            s.just_read
        ),
        Some(0) => "You have read everything.".to_owned(),
        Some(1) => "<b>1</b> unread notification.".to_owned(),
        Some(n) => format!("<b>{n}</b> unread notifications."),
        None => "Notifications are unavailable right now.".to_owned(),
    };
    let service = if s.answered {
        "<b id=\"service\">answered</b> in time".to_owned()
    } else {
        format!(
            "<b id=\"service\">degraded</b> (no answer within {} ms)",
            s.timeout.as_millis()
        )
    };
    let _ = write!(
        h,
        "<section class=\"panel\"><h3>Notifications</h3><p style=\"margin:0\">{unread} \
         <a href=\"/notifications\">Open</a></p></section>\
         <section class=\"panel small\">TV + mount combo: <b id=\"combo\">{combo}</b><br>\
         Service: {service}<br>Session <code id=\"session\">{}</code></section></aside>",
        escape(s.session)
    );
    h
}

/// Milliseconds as "0.8 s", "12 s", "3 min".
fn seconds_text(ms: f64) -> String {
    let s = ms / 1000.0;
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.0} min", s / 60.0)
    }
}

/// "10 s", "1 min", "2 h".
fn span_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// Views per activity bucket as SVG bars, oldest on the left; every bucket has a faint track
/// so that an empty window still reads as a chart.
pub fn activity_chart(activity: &[u8], bucket: Duration) -> String {
    let n = activity.len().max(1) as u32;
    let max = u32::from(activity.iter().copied().max().unwrap_or(0)).max(1);
    let (step, h) = (10u32, 56u32);
    let mut svg = format!(
        "<svg class=\"chart\" id=\"activity\" viewBox=\"0 0 {} {}\" role=\"img\" \
         aria-label=\"page views per {} over the last {}\">",
        n * step,
        h + 4,
        span_text(bucket),
        span_text(bucket * n)
    );
    for (i, &v) in activity.iter().enumerate() {
        let x = i as u32 * step + 1;
        let bar = if v == 0 {
            0
        } else {
            (u32::from(v) * h / max).max(3)
        };
        let _ = write!(
            svg,
            "<rect class=\"track\" x=\"{x}\" y=\"2\" width=\"{w}\" height=\"{h}\" rx=\"2\" fill=\"#f0ece5\"/>\
             <rect class=\"bar\" x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{bar}\" rx=\"2\" \
             fill=\"#2f6fde\"><title>{v} views</title></rect>",
            w = step - 2,
            y = h + 2 - bar,
        );
    }
    svg.push_str("</svg>");
    format!(
        "<div style=\"margin-top:12px\" class=\"small\">Views per {}</div>{svg}\
         <div class=\"axis\"><span>{} ago</span><span>now</span></div>\
         <span hidden id=\"activity-text\">{}</span>",
        span_text(bucket),
        span_text(bucket * n),
        activity
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The home page's main column.
pub fn home(viewed: Option<&[(String, bool)]>) -> String {
    let mut h = String::from(
        "<h1>Good things for the living room</h1>\
         <p class=\"lead\">Screens, sound and the furniture around them. Free delivery over £50.</p>\
         <div class=\"grid\" id=\"products\">",
    );
    for p in CATALOGUE.iter() {
        let seen = viewed
            .and_then(|v| v.iter().find(|(id, _)| id == p.id))
            .is_some_and(|(_, s)| *s);
        h.push_str(&card(p, seen));
    }
    h.push_str("</div>");
    h
}
