//! sketchstore: an embedded, in-process store with Redis's session-intelligence data
//! structures (HyperLogLog, Bloom and cuckoo filters, count-min sketches, bitfields) beside
//! strings, counters, hashes and lists, answering exactly as Redis 7.0 (and RedisBloom for
//! `BF.*`, `CF.*` and `CMS.*`) does.
//!
//! Start with [`Store`]: typed methods named after the Redis commands (`store.incr(key)`),
//! and [`Store::execute`] for a raw command as a list of byte strings.
//!
//! ```
//! use sketchstore::Store;
//! let store = Store::new();
//! store.hset("session:42", &[("user", "ada")]).unwrap();
//! assert_eq!(store.incr("views").unwrap(), 1);
//! ```
//!
//! For one client's state (MULTI/WATCH, subscriptions, RESP2 or RESP3) open a
//! [`Connection`] with [`Store::connection`]; application code that should also run on a
//! real Redis takes a [`Backend`].
//!
//! The layering is `types` (pure data structures) under `store` (keyspace, expiry,
//! semantics) under `cmd` (the command table, argv parsing, reply shaping, [`Connection`])
//! under [`backend`] under [`intel`]; docs/architecture.md in the repository walks through
//! it, and each module's documentation explains its representation and decisions.

#![warn(missing_docs)]

/// The Redis version whose behaviour the store follows, as HELLO and INFO report it.
pub const REDIS_VERSION: &str = "7.0.15";

pub mod backend;
mod clients;
mod clock;
mod cmd;
mod error;
pub mod glob;
pub mod intel;
pub mod num;
#[cfg(feature = "redis")]
pub mod redis_compat;
mod reply;
pub mod server;
mod store;
pub mod types;
mod wait;

pub use backend::{Backend, TxOp, TxReply};
#[cfg(feature = "redis")]
pub use backend::{BloomMode, RedisBackend, RedisOptions};
pub use clock::{Clock, ManualClock};
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use cmd::bits::fuzz_bit_tokens;
pub use cmd::{Connection, Protocol};
pub use error::{Error, Result};
pub use reply::Reply;
pub use store::dump::RestoreOptions;
pub use store::evict::EvictionPolicy;
pub use store::generic::Ttl;
pub use store::hashes::{HScanPage, MAX_RANDOM_PICKS};
pub use store::hll::{PfDebug, PfDebugReply};
pub use store::lcs::{LcsMatches, LcsRange};
pub use store::lists::{ListEnd, LposOptions, MPopped};
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use store::persist::fuzz_snapshot;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use store::rdb_file::fuzz_rdb_file;

/// Whether `name` is a command that may block its caller (its table row has a blocking
/// parser), for fuzz bodies that must not block; not part of the API.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_is_blocking(name: &[u8]) -> bool {
    cmd::lookup(name).is_some_and(|s| s.block.is_some())
}
pub use store::persist::SNAPSHOT_VERSION;
pub use store::pubsub::{Message, Subscription, DEFAULT_PUBSUB_BUFFER_BYTES};
pub use store::sets::{SScanPage, MAX_SRANDMEMBER_PICKS};
pub use store::sort::SortOptions;
pub use store::strings::SetOutcome;
pub use store::{BfInfoField, BfInsertOptions, BloomOptions, CfInsertOptions, CfReserveOptions};
pub use store::{
    BitfieldOp, Config, ExpireCondition, KeyType, ScanPage, SetCondition, SetExpiry, SetOptions,
    Store, StoreBuilder, DEFAULT_HLL_SPARSE_MAX_BYTES, DEFAULT_MAX_STRING_BYTES,
};
pub use store::{KeyspaceInfo, TDigestMergeOptions, TopKOptions};
pub use store::{ZEntry, ZPopped, ZRange, ZRangeBy, ZSetOp, ZaddReply};
pub use types::bitmap::{
    BitOp, BitUnit, BitfieldOffset, BitfieldType, BitmapError, BitposRange, Overflow,
};
pub use types::bloom::{BloomError, BloomInfo};
pub use types::cms::CmsInfo;
pub use types::cuckoo::{CuckooInfo, InsertOutcome};

/// The README and the guides under docs/, run as doctests so that their examples keep
/// compiling and passing.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../README.md")]
    struct Readme;
    #[doc = include_str!("../docs/embedded.md")]
    struct Embedded;
    #[doc = include_str!("../docs/backends.md")]
    struct Backends;
    #[doc = include_str!("../docs/persistence.md")]
    struct Persistence;
    #[doc = include_str!("../docs/session-intelligence.md")]
    struct SessionIntelligence;
    #[doc = include_str!("../docs/architecture.md")]
    struct Architecture;
    #[doc = include_str!("../docs/redis-behaviours.md")]
    struct RedisBehaviours;
    #[doc = include_str!("../docs/server.md")]
    struct Server;
}
