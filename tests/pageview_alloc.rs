//! A pageview of an existing session on the embedded store allocates nothing (issue 21):
//! `SessionIntel::pageview_into` with a kept `PageviewStats`, counted by a global allocator
//! that counts this thread's allocations. Its own test binary, so that the counting
//! allocator serves no other test.

use sketchstore::intel::{IntelConfig, PageviewStats, SessionIntel};
use sketchstore::{Clock, ManualClock, Store};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

/// The system allocator, counting the allocations (and reallocations) of each thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: a thread being torn down may still allocate; it is not measured.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded to `System` unchanged; counting touches only a
// thread-local integer, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// This thread's allocations while `f` runs.
fn allocations<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

#[test]
fn pageviews_of_existing_sessions_allocate_nothing() {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(Clock::manual(&clock)).build();
    let intel = SessionIntel::embedded(&store, IntelConfig::default()).unwrap();
    let sessions: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
    let pages: Vec<String> = (0..8).map(|i| format!("/page/{i}")).collect();
    // Every session has viewed every page (so that the filters and the HyperLogLogs do not
    // grow below) and marked a notification seen, as the workload's sessions have.
    for s in &sessions {
        for p in &pages {
            intel.pageview(s, p).unwrap();
        }
        intel.mark_notification_seen(s, "note-1").unwrap();
    }

    // The counter counts: a plain pageview allocates its answer's activity list.
    let (n, stats) = allocations(|| intel.pageview(&sessions[0], &pages[0]).unwrap());
    assert!(
        n >= 1,
        "pageview() returns a new Vec, yet {n} allocations were counted"
    );
    assert_eq!(stats.total_views, 9);

    let mut stats = PageviewStats {
        unique_pages: 0,
        total_views: 0,
        activity: Vec::new(),
    };
    // The first call on this thread sizes the kept buffers.
    intel
        .pageview_into(&sessions[1], &pages[1], &mut stats)
        .unwrap();
    let mut expected_views = vec![8i64; sessions.len()];
    expected_views[0] = 9;
    expected_views[1] = 9;
    for round in 0..3 {
        for (i, s) in sessions.iter().enumerate() {
            let page = &pages[(i + round) % pages.len()];
            let (n, r) = allocations(|| intel.pageview_into(s, page, &mut stats));
            r.unwrap();
            assert_eq!(n, 0, "pageview {round} of {s} allocated {n} times");
            expected_views[i] += 1;
            assert_eq!(stats.total_views, expected_views[i]);
            assert_eq!(stats.unique_pages, pages.len() as u64);
            assert_eq!(stats.activity.len(), 30);
            // All of the session's views so far fell in this minute.
            assert_eq!(
                i64::from(*stats.activity.last().unwrap()),
                expected_views[i]
            );
        }
        // A notification mark between pageviews does not take the pageview's buffers.
        intel
            .mark_notification_seen(&sessions[round], "note-1")
            .unwrap();
    }

    // The answers are the plain pageview's, also after the clock moves on.
    clock.advance(Duration::from_secs(61));
    let mut kept = stats.clone();
    intel.pageview_into("s5", &pages[0], &mut kept).unwrap();
    let fresh = intel.pageview("s6", &pages[0]).unwrap();
    assert_eq!(kept.total_views, fresh.total_views);
    assert_eq!(kept.activity, fresh.activity);
    assert_eq!(&kept.activity[28..], &[11, 1]);
}
