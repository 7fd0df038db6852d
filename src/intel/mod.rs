//! Session intelligence over the [`crate::Backend`] trait: what the store is for.
//!
//! - [`SessionIntel`]: the five operations on one session (pageview, mark a notification
//!   seen, combo, notifications, featured pages), atomic where they touch several keys, on
//!   keys that share the session's cluster slot ([`session`] documents them), and trending
//!   pages per site (a top-k sketch each pageview feeds, [`SessionIntel::trending`]) and
//!   view-time quantiles per site (a t-digest, [`SessionIntel::view_time_quantiles`]);
//! - [`bus`]: the same operations asked for over pub/sub and answered through a list, so
//!   that a serving layer and the services behind it talk through the store, partitioned by
//!   session id and with a degraded answer after an application timeout;
//! - [`ActivityTracker`]: counts of events per time bucket in one string.

mod activity;
pub mod bus;
mod json;
pub mod session;

pub use activity::ActivityTracker;
pub use bus::{Answer, BusConfig, Requester, Responder};
pub use session::{IntelConfig, PageviewStats, SessionIntel, SessionKeys, ViewTimeQuantiles};
