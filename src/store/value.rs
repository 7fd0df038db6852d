//! The value a key holds, tagged with its Redis type.
//!
//! A Redis "string" may be kept decoded: an integer written by `INCR` stays an `i64`
//! until someone reads its bytes, so counters never format and parse text. The bytes are
//! materialized on demand and are always what Redis would hold.

use crate::types::bloom::ScalableBloomFilter;
use crate::types::cms::CountMinSketch;
use crate::types::cuckoo::CuckooFilter;
use crate::types::hash::HashValue;
use crate::types::hll::HyperLogLog;
use crate::types::set::SetValue;
use crate::types::tdigest::TDigest;
use crate::types::topk::TopK;
use crate::types::zset::ZSet;
use std::borrow::Cow;
use std::collections::VecDeque;

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`: longer strings are `raw`.
pub(crate) const EMBSTR_LIMIT: usize = 44;

/// A string value in its cheapest faithful form.
#[derive(Clone, Debug)]
pub(crate) enum StrValue {
    /// Bytes in Redis's `raw` encoding: written whole and longer than
    /// [`EMBSTR_LIMIT`] bytes, or edited in place (APPEND, SETRANGE, SETBIT, BITFIELD,
    /// BITOP's result) whatever their content.
    Raw(Vec<u8>),
    /// A value of at most [`EMBSTR_LIMIT`] bytes written whole: Redis's `embstr`, or `int`
    /// when its text is an integer. Boxed so that the enum keeps its 24 bytes.
    Short(Box<[u8]>),
    Int(i64),
    /// A string whose bytes are a HyperLogLog, kept decoded (its bytes are Redis's).
    Hll(Box<HyperLogLog>),
}

impl StrValue {
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            StrValue::Raw(b) => Cow::Borrowed(b),
            StrValue::Short(b) => Cow::Borrowed(b),
            StrValue::Int(n) => Cow::Owned(n.to_string().into_bytes()),
            StrValue::Hll(h) => Cow::Borrowed(h.as_bytes()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Raw(b) => b.len(),
            StrValue::Short(b) => b.len(),
            StrValue::Int(n) => int_len(*n),
            StrValue::Hll(h) => h.len(),
        }
    }

    /// A value written whole (SET and the like), in the form Redis's encoding of it
    /// calls for.
    pub fn written(bytes: Vec<u8>) -> StrValue {
        if bytes.len() <= EMBSTR_LIMIT {
            StrValue::Short(bytes.into_boxed_slice())
        } else {
            StrValue::Raw(bytes)
        }
    }

    /// The raw bytes, for in-place edits (APPEND, SETRANGE, SETBIT, BITFIELD); the value
    /// becomes [`StrValue::Raw`], as Redis's edits leave a `raw` string.
    pub fn raw_mut(&mut self) -> &mut Vec<u8> {
        match self {
            StrValue::Raw(_) => {}
            StrValue::Short(b) => *self = StrValue::Raw(std::mem::take(b).into_vec()),
            StrValue::Int(n) => *self = StrValue::Raw(n.to_string().into_bytes()),
            StrValue::Hll(h) => *self = StrValue::Raw(h.to_redis_bytes()),
        }
        match self {
            StrValue::Raw(b) => b,
            _ => unreachable!("converted to Raw above"),
        }
    }
}

fn int_len(n: i64) -> usize {
    let mut len = usize::from(n < 0);
    let mut m = n.unsigned_abs();
    loop {
        len += 1;
        m /= 10;
        if m == 0 {
            return len;
        }
    }
}

/// A key's value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Str(StrValue),
    // Hashes and lists are boxed so that a value, and with it every keyspace slot, stays
    // 32 bytes: a session store is mostly strings, HyperLogLogs and Bloom filters.
    Hash(Box<HashValue>),
    #[allow(clippy::box_collection)]
    List(Box<VecDeque<Vec<u8>>>),
    Bloom(Box<ScalableBloomFilter>),
    /// A RedisBloom cuckoo filter (`CF.*`).
    Cuckoo(Box<CuckooFilter>),
    /// A RedisBloom count-min sketch (`CMS.*`).
    Cms(Box<CountMinSketch>),
    /// A RedisBloom top-k sketch (`TOPK.*`).
    TopK(Box<TopK>),
    /// A RedisBloom t-digest (`TDIGEST.*`).
    TDigest(Box<TDigest>),
    Set(Box<SetValue>),
    ZSet(Box<ZSet>),
}

impl Value {
    /// The heap block a value's bytes live in, found by reading the value's own box (one
    /// cache miss for boxed values), for [`Store::lock`](super::Store::lock)'s warming of
    /// the cache: the bytes of a string or HyperLogLog, the bit array of a Bloom filter's
    /// last link (where adds go).
    #[inline]
    pub fn heap(&self) -> Heap<'_> {
        match self {
            Value::Str(StrValue::Raw(b)) => Heap::Bytes(b),
            Value::Str(StrValue::Short(b)) => Heap::Bytes(b),
            Value::Str(StrValue::Hll(h)) => Heap::Bytes(h.as_bytes()),
            Value::Bloom(b) => b
                .links()
                .last()
                .map_or(Heap::None, |l| Heap::Words(l.words())),
            _ => Heap::None,
        }
    }
}

/// A value's heap block (see [`Value::heap`]).
#[derive(Clone, Copy)]
pub(crate) enum Heap<'a> {
    Bytes(&'a [u8]),
    Words(&'a [u64]),
    None,
}

impl Heap<'_> {
    /// A word read from each of the block's first four cache lines: a session's sparse
    /// HyperLogLog and small Bloom filters are a few lines, which a command then reads.
    #[inline]
    pub fn touch(&self) -> u64 {
        match self {
            Heap::Bytes(b) => [0, 64, 128, 192]
                .iter()
                .filter_map(|&i| b.get(i))
                .fold(0, |a, &x| a ^ u64::from(x)),
            Heap::Words(w) => [0, 8, 16, 24]
                .iter()
                .filter_map(|&i| w.get(i))
                .fold(0, |a, &x| a ^ x),
            Heap::None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_len_matches_formatting() {
        for n in [0, 1, -1, 9, 10, -10, 99, 12345, i64::MAX, i64::MIN] {
            assert_eq!(int_len(n), n.to_string().len(), "{n}");
            assert_eq!(StrValue::Int(n).len(), StrValue::Int(n).bytes().len());
        }
    }
}
