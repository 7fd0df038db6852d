//! Pure data structures: no locks, no replies, no argument parsing.

pub mod activity;
pub mod bitmap;
pub mod bloom;
pub mod cms;
pub mod cuckoo;
pub mod hash;
pub mod hll;
pub mod murmur;
pub mod rdb;
pub mod set;
pub mod tdigest;
pub mod topk;
pub mod zset;
