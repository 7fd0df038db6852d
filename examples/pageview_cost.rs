//! Instructions per pageview: 100,000 sessions populated (one pageview and one notification
//! mark each, as the workload bench does), then `N` pageviews (argument, default 20,000) on
//! sessions drawn uniformly. Run under callgrind with
//! `--toggle-collect='*pageview_cost::measured*'` and divide by `N`.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sketchstore::intel::{IntelConfig, SessionIntel};
use sketchstore::Store;

#[inline(never)]
fn measured(intel: &SessionIntel, sessions: &[String], pages: &[String], n: usize) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut sum = 0;
    for _ in 0..n {
        let s = &sessions[rng.gen_range(0..sessions.len())];
        let p = &pages[rng.gen_range(0..pages.len())];
        let st = intel.pageview(s, p).unwrap();
        sum +=
            st.unique_pages + st.total_views as u64 + u64::from(st.activity[st.activity.len() - 1]);
    }
    sum
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(20_000, |a| a.parse().unwrap());
    let store = Store::new();
    let intel = SessionIntel::embedded(&store, IntelConfig::default()).unwrap();
    let sessions: Vec<String> = (0..100_000).map(|i| format!("u{i:06x}")).collect();
    let pages: Vec<String> = (0..200).map(|i| format!("/page/{i}")).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for s in &sessions {
        intel
            .pageview(s, &pages[rng.gen_range(0..pages.len())])
            .unwrap();
        intel.mark_notification_seen(s, "note-1").unwrap();
    }
    let sum = measured(&intel, &sessions, &pages, n);
    println!("{sum}");
}
