//! Pure data structures: no locks, no replies, no argument parsing.

pub mod bitmap;
pub mod hash;
pub mod murmur;
