//! The layout of an activity tracker: counts of events per time bucket, kept in one Redis
//! string and updated with BITFIELD, so it works on any backend that has BITFIELD.
//!
//! # Design
//!
//! A tracker divides time into buckets of a fixed width (a minute, an hour) and keeps the
//! last `slots` of them (a span: a day of minutes is 1440 slots) as a ring: bucket number
//! `b = floor(t / width)` lives in slot `b mod slots`. A ring slot is reused every span, so
//! each slot carries a 16-bit tag, `b mod 2^16`, beside its 8-bit count: a reader counts a
//! slot only when its tag says it belongs to the bucket asked about, so stale counts from an
//! earlier lap are never reported, whatever the gap between two events.
//!
//! Recording an event is one BITFIELD call, `SET u16 <tag> b` then `OVERFLOW SAT INCRBY u8
//! <count> 1`: the SET answers the slot's old tag. If it was another bucket's, the INCRBY
//! added to a stale count `c`, and the writer follows up with `INCRBY u8 <count> -c` (with
//! `c` = the returned count − 1). Only the first writer of a bucket can see a foreign tag
//! (it installs the new one), and additions commute, so concurrent writers of the same bucket
//! never lose an increment. The one exception is a stale count that was already saturated at
//! 255: increments by others between the two calls saturate too and are lost. Counts
//! saturate at 255 per bucket.
//!
//! Cost: 3 bytes per slot (a day of minutes is 4,320 bytes, a week of hours 504), and a
//! second BITFIELD call at most once per bucket.
//!
//! # Representation
//!
//! ```text
//! slot i at bit offset 24*i:  [ tag: u16 = bucket mod 65536 ][ count: u8 ]
//! string: slot 0 | slot 1 | ... | slot (slots-1)      (grows as slots are first written)
//! ```
//!
//! # Worked example
//!
//! Width 60 s, 60 slots (the last hour by minute). An event at t = 3,725 s is bucket 62,
//! slot 2: `BITFIELD k SET u16 48 62 OVERFLOW SAT INCRBY u8 64 1` answers `[0, 1]`: old tag 0,
//! not 62, but the returned count is 1, so there was nothing stale. Another event in the
//! same minute answers `[62, 2]`. An hour later (bucket 122, slot 2 again) the first event
//! answers `[62, 3]`: a foreign tag and a stale 2, so the writer sends `INCRBY u8 64 -2`.
//! Reading the window of the last 3 minutes at bucket 122 reads slots 0, 1, 2, and keeps a
//! count only where the tag equals 120, 121 or 122 respectively.
//!
//! # Accuracy
//!
//! Exact up to 255 events per bucket, which then reads 255. The one loss is the race named
//! above: when a slot's stale count was already 255, increments by other writers between the
//! two calls are lost. A reader never sees a count from an earlier lap.
//!
//! # References
//!
//! - Redis 7.0.15 `src/bitops.c` (`bitfieldGeneric`): the `SET`, `INCRBY` and `OVERFLOW SAT`
//!   semantics the layout relies on; [`crate::types::bitmap`] implements them.
//! - docs/redis-behaviours.md, "BITFIELD overflow".

use super::bitmap::{BitfieldOp, BitfieldType, Overflow};
use std::time::Duration;

const SLOT_BITS: u64 = 24;
const TAG: BitfieldType = match BitfieldType::new(false, 16) {
    Ok(t) => t,
    Err(_) => panic!("u16 is a valid bitfield type"),
};
const COUNT: BitfieldType = BitfieldType::U8;

/// The geometry of a tracker: bucket width and how many buckets are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityLayout {
    width_ms: u64,
    slots: u64,
}

/// What one recorded event needs from the BITFIELD reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedSlot {
    /// The bucket number the event fell in.
    pub bucket: u64,
    /// The slot it was written to.
    pub slot: u64,
}

impl ActivityLayout {
    /// Buckets of `width`, keeping `span / width` of them (at least 1, at most 65,535 so
    /// that tags stay unambiguous within a lap). Returns None for a zero width.
    pub fn new(width: Duration, span: Duration) -> Option<ActivityLayout> {
        let width_ms = u64::try_from(width.as_millis()).ok()?;
        if width_ms == 0 {
            return None;
        }
        let span_ms = u64::try_from(span.as_millis()).unwrap_or(u64::MAX);
        let slots = (span_ms / width_ms).clamp(1, 65_535);
        Some(ActivityLayout { width_ms, slots })
    }

    /// Number of buckets kept.
    pub fn slots(&self) -> u64 {
        self.slots
    }

    /// Bucket width.
    pub fn width(&self) -> Duration {
        Duration::from_millis(self.width_ms)
    }

    /// The bucket number of Unix time `unix_ms` (times before 1970 fall in bucket 0).
    pub fn bucket_of(&self, unix_ms: i64) -> u64 {
        u64::try_from(unix_ms).unwrap_or(0) / self.width_ms
    }

    fn offsets(&self, bucket: u64) -> (u64, u64) {
        let slot = bucket % self.slots;
        (slot * SLOT_BITS, slot * SLOT_BITS + 16)
    }

    /// The BITFIELD program that records one event at `unix_ms`; its reply is `[old tag,
    /// new count]`, which [`ActivityLayout::stale_count`] reads.
    pub fn record_ops(&self, unix_ms: i64) -> ([BitfieldOp; 3], RecordedSlot) {
        let bucket = self.bucket_of(unix_ms);
        let (tag, count) = self.offsets(bucket);
        let ops = [
            BitfieldOp::Set(TAG, tag.into(), (bucket & 0xffff) as i64),
            BitfieldOp::Overflow(Overflow::Sat),
            BitfieldOp::IncrBy(COUNT, count.into(), 1),
        ];
        let slot = bucket % self.slots;
        (ops, RecordedSlot { bucket, slot })
    }

    /// From the reply of [`ActivityLayout::record_ops`]: how much stale count the increment
    /// landed on (0 when the slot already belonged to this bucket or was empty).
    pub fn stale_count(&self, at: RecordedSlot, reply: &[Option<i64>]) -> i64 {
        match reply {
            [Some(old_tag), _, ..] if *old_tag == (at.bucket & 0xffff) as i64 => 0,
            [_, Some(count), ..] => (count - 1).max(0),
            _ => 0,
        }
    }

    /// The BITFIELD program that removes a stale count found by
    /// [`ActivityLayout::stale_count`].
    pub fn correction_ops(&self, at: RecordedSlot, stale: i64) -> [BitfieldOp; 2] {
        let (_, count) = self.offsets(at.bucket);
        [
            BitfieldOp::Overflow(Overflow::Sat),
            BitfieldOp::IncrBy(COUNT, count.into(), -stale),
        ]
    }

    /// The counts of the `n` buckets ending with the one holding `unix_ms`, oldest first,
    /// read from the tracker string's bytes (`n` is capped at the number of slots).
    pub fn window(&self, bytes: &[u8], unix_ms: i64, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        self.window_into(bytes, unix_ms, n, &mut out);
        out
    }

    /// [`ActivityLayout::window`] into `out` (its contents replaced, its allocation reused).
    pub fn window_into(&self, bytes: &[u8], unix_ms: i64, n: usize, out: &mut Vec<u8>) {
        let last = self.bucket_of(unix_ms);
        let n = (n as u64).min(self.slots).min(last + 1);
        let first = last + 1 - n;
        // Slots are 3 whole bytes (big-endian tag, then count), so they are read as bytes;
        // past the end of the string a slot reads as zeros, as BITFIELD GET reads it. The
        // buckets are walked in at most two runs of consecutive slots (before and after the
        // ring wraps), without a division or a bounds check per bucket.
        out.clear();
        out.resize(n as usize, 0);
        let start = first % self.slots;
        let before_wrap = (self.slots - start).min(n) as usize;
        let (head, tail) = out.split_at_mut(before_wrap);
        let from_start = bytes.get(start as usize * 3..).unwrap_or_default();
        let runs = [
            (head, from_start.chunks_exact(3), first),
            (tail, bytes.chunks_exact(3), first + before_wrap as u64),
        ];
        for (counts, slots, bucket) in runs {
            for ((count, slot), b) in counts.iter_mut().zip(slots).zip(bucket..) {
                if u16::from_be_bytes([slot[0], slot[1]]) == b as u16 {
                    *count = slot[2];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::bitmap::{bitfield_incrby, bitfield_set, BitfieldOffset};

    /// Applies a BITFIELD program to bytes, as the store would.
    fn run(bytes: &mut Vec<u8>, ops: &[BitfieldOp]) -> Vec<Option<i64>> {
        let mut of = Overflow::Wrap;
        let mut out = Vec::new();
        let bits = |t, o: BitfieldOffset| match o.resolve(t) {
            Ok(o) => o,
            Err(e) => panic!("{o}: {e}"),
        };
        for op in ops {
            match *op {
                BitfieldOp::Overflow(o) => of = o,
                BitfieldOp::Set(t, o, v) => out.push(bitfield_set(bytes, t, bits(t, o), v, of)),
                BitfieldOp::IncrBy(t, o, v) => {
                    out.push(bitfield_incrby(bytes, t, bits(t, o), v, of))
                }
                BitfieldOp::Get(t, o) => out.push(Some(super::super::bitmap::bitfield_get(
                    bytes,
                    t,
                    bits(t, o),
                ))),
            }
        }
        out
    }

    fn record(l: &ActivityLayout, bytes: &mut Vec<u8>, t: i64) {
        let (ops, at) = l.record_ops(t);
        let reply = run(bytes, &ops);
        let stale = l.stale_count(at, &reply);
        if stale > 0 {
            run(bytes, &l.correction_ops(at, stale));
        }
    }

    #[test]
    fn worked_example() {
        let l = ActivityLayout::new(Duration::from_secs(60), Duration::from_secs(3600)).unwrap();
        let mut b = Vec::new();
        let (ops, at) = l.record_ops(3_725_000);
        assert_eq!(
            at,
            RecordedSlot {
                bucket: 62,
                slot: 2
            }
        );
        assert_eq!(run(&mut b, &ops), vec![Some(0), Some(1)]);
        assert_eq!(l.stale_count(at, &[Some(0), Some(1)]), 0);
        record(&l, &mut b, 3_726_000);
        assert_eq!(l.window(&b, 3_726_000, 3), vec![0, 0, 2]);
        // An hour later the slot is reused: the stale 2 is removed.
        let t = 3_725_000 + 3_600_000;
        let (ops, at) = l.record_ops(t);
        let reply = run(&mut b, &ops);
        assert_eq!(reply, vec![Some(62), Some(3)]);
        assert_eq!(l.stale_count(at, &reply), 2);
        run(&mut b, &l.correction_ops(at, 2));
        assert_eq!(l.window(&b, t, 3), vec![0, 0, 1]);
    }

    #[test]
    fn window_matches_a_plain_model_over_random_gaps() {
        use std::collections::HashMap;
        let l = ActivityLayout::new(Duration::from_secs(60), Duration::from_secs(60 * 30)).unwrap();
        let mut bytes = Vec::new();
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut t: i64 = 1_700_000_000_000;
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            t += match seed % 10 {
                0 => 3_600_000,
                1..=3 => 60_000,
                _ => (seed % 20_000) as i64,
            };
            record(&l, &mut bytes, t);
            *model.entry(l.bucket_of(t)).or_default() += 1;
            let w = l.window(&bytes, t, 30);
            let last = l.bucket_of(t);
            let want: Vec<u8> = (last + 1 - 30..=last)
                .map(|b| model.get(&b).copied().unwrap_or(0).min(255) as u8)
                .collect();
            assert_eq!(w, want);
        }
        assert_eq!(bytes.len() as u64, 30 * 3);
    }

    #[test]
    fn window_reads_slots_as_bitfield_get_would_on_any_bytes() {
        let l = ActivityLayout::new(Duration::from_secs(60), Duration::from_secs(60 * 7)).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..30 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly tags of the buckets asked about, so that counts get read.
                    if seed % 3 == 0 {
                        0
                    } else {
                        (seed >> 8) as u8 % 4
                    }
                })
                .collect();
            for t in [0, 60_000, 59_999, 300_000, 420_000, 1_000_000, 3_900_000] {
                let last = l.bucket_of(t);
                let n = 7u64.min(last + 1);
                let want: Vec<u8> = (last + 1 - n..=last)
                    .map(|b| {
                        let (tag_off, count_off) = l.offsets(b);
                        let tag = crate::types::bitmap::bitfield_get(&bytes, TAG, tag_off);
                        if tag == (b & 0xffff) as i64 {
                            crate::types::bitmap::bitfield_get(&bytes, COUNT, count_off) as u8
                        } else {
                            0
                        }
                    })
                    .collect();
                assert_eq!(l.window(&bytes, t, 9), want, "len {len} t {t}");
            }
        }
    }

    #[test]
    fn zero_width_is_rejected_and_slots_are_bounded() {
        assert!(ActivityLayout::new(Duration::ZERO, Duration::from_secs(1)).is_none());
        let l =
            ActivityLayout::new(Duration::from_millis(1), Duration::from_secs(1_000_000)).unwrap();
        assert_eq!(l.slots(), 65_535);
        let l = ActivityLayout::new(Duration::from_secs(10), Duration::from_secs(1)).unwrap();
        assert_eq!(l.slots(), 1);
    }
}
