//! Session intelligence over the [`crate::Backend`] trait: what the store is for.

mod activity;

pub use activity::ActivityTracker;
