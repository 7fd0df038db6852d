//! Pure data structures: no locks, no replies, no argument parsing.

pub mod activity;
pub mod bitmap;
pub mod bloom;
pub mod hash;
pub mod hll;
pub mod murmur;
pub mod tdigest;
pub mod topk;
