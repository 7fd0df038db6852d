//! A Redis set value that knows Redis 7.0's encoding: `intset` or `hashtable`.
//!
//! # Design
//!
//! Redis 7.0 keeps a set whose members are all integers in canonical form (what `string2ll`
//! accepts: no `+`, no leading zeros, no `-0`, within `i64`) as an intset, a sorted array of
//! integers, while it holds at most [`MAX_INTSET_ENTRIES`] members; any other member, or one
//! member too many, turns it into a hash table for good (7.0 has no listpack sets). The
//! encoding shows in `OBJECT ENCODING` and in order: an intset lists its members in ascending
//! numeric order (`SMEMBERS`, `SUNION` and `SDIFF` replies), so the intset here is the same
//! sorted array and replies match Redis's exactly. A hash table's order is Redis's dict order,
//! which no client may rely on; here it is insertion order disturbed by removals.
//!
//! The hash table form is a vector of members plus a `hashbrown::HashTable` of indices into
//! it: O(1) add, remove (swap with the last) and lookup, and a uniformly random member in O(1)
//! for `SRANDMEMBER` and `SPOP`, without storing members twice. Randomness is injected: every
//! random operation takes a `pick(n)` function returning an index below `n`.
//!
//! The intset limit is Redis's default unless a caller passes its own: the `*_with(.., max)`
//! forms of the operations that add members take the store's `set-max-intset-entries`.
//!
//! # Representation
//!
//! ```text
//! Intset(Vec<i64>)            ascending, distinct, len <= 512
//! Hashtable { items: Vec<Vec<u8>>, index: HashTable<u32> → position in items }
//! ```
//!
//! # Worked example
//!
//! `SADD s 3 1 2` gives `Intset([1, 2, 3])`; `SMEMBERS s` is `1 2 3`. `SADD s 007` adds a
//! member that is not canonical, so the set becomes `Hashtable` with items `1 2 3 007`, and
//! stays one after `SREM s 007`.
//!
//! # References
//!
//! Redis 7.0 `src/t_set.c` (`setTypeCreate`, `setTypeAdd`, `spopWithCountCommand`,
//! `sinterGenericCommand`, `sunionDiffGenericCommand`), `src/intset.c`, `src/util.c`
//! (`string2ll`). Behaviour checked against redis-server 7.0.15 by
//! `tests/types_zset_redis.rs`.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::num::parse_i64;

/// An intset with more members than this becomes a hash table (`set-max-intset-entries`).
pub const MAX_INTSET_ENTRIES: usize = 512;

/// `spopWithCountCommand`'s `SPOP_MOVE_STRATEGY_MUL`: when the members left after a counted
/// pop are at most a fifth of the count, Redis rebuilds the set from them.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// What `OBJECT ENCODING` reports for a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetEncoding {
    /// Sorted integers.
    Intset,
    /// A hash table.
    Hashtable,
}

impl SetEncoding {
    /// The name `OBJECT ENCODING` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            SetEncoding::Intset => "intset",
            SetEncoding::Hashtable => "hashtable",
        }
    }
}

/// The hash table form: members in a vector, found through an index table.
#[derive(Clone, Debug, Default)]
pub struct Members {
    items: Vec<Vec<u8>>,
    index: HashTable<u32>,
    hasher: RandomState,
}

impl Members {
    fn find(&self, member: &[u8]) -> Option<usize> {
        let items = &self.items;
        self.index
            .find(self.hasher.hash_one(member), |&i| {
                items[i as usize] == member
            })
            .map(|&i| i as usize)
    }

    fn insert(&mut self, member: Vec<u8>) -> bool {
        if self.find(&member).is_some() {
            return false;
        }
        let hash = self.hasher.hash_one(member.as_slice());
        let pos = self.items.len() as u32;
        self.items.push(member);
        let Members {
            items,
            index,
            hasher,
        } = self;
        index.insert_unique(hash, pos, |&i| {
            hasher.hash_one(items[i as usize].as_slice())
        });
        true
    }

    fn remove_at(&mut self, pos: usize) -> Vec<u8> {
        let hash = self.hasher.hash_one(self.items[pos].as_slice());
        if let Ok(e) = self.index.find_entry(hash, |&i| i as usize == pos) {
            e.remove();
        }
        let last = self.items.len() - 1;
        if pos != last {
            // The last member moves into `pos`: repoint its index slot.
            let moved = self.hasher.hash_one(self.items[last].as_slice());
            if let Some(slot) = self.index.find_mut(moved, |&i| i as usize == last) {
                *slot = pos as u32;
            }
        }
        self.items.swap_remove(pos)
    }

    fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some(pos) => {
                self.remove_at(pos);
                true
            }
            None => false,
        }
    }
}

/// A Redis set.
#[derive(Clone, Debug)]
pub enum SetValue {
    /// Ascending distinct integers, at most [`MAX_INTSET_ENTRIES`].
    Intset(Vec<i64>),
    /// Any members.
    Hashtable(Members),
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::new()
    }
}

impl PartialEq for SetValue {
    fn eq(&self, other: &SetValue) -> bool {
        self.len() == other.len() && self.members().iter().all(|m| other.contains(m))
    }
}

impl SetValue {
    /// An empty intset (Redis's `createIntsetObject`, the start of every `*STORE` result).
    pub fn new() -> SetValue {
        SetValue::Intset(Vec::new())
    }

    /// The empty set `SADD`/`SMOVE` create for their first member (`setTypeCreate`).
    pub fn for_member(first: &[u8]) -> SetValue {
        if parse_i64(first).is_some() {
            SetValue::new()
        } else {
            SetValue::Hashtable(Members::default())
        }
    }

    /// A set of `members` built as Redis builds a `*STORE` destination.
    pub fn from_members<I, B>(members: I) -> SetValue
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        SetValue::from_members_with(members, MAX_INTSET_ENTRIES)
    }

    /// [`SetValue::from_members`] under a `set-max-intset-entries` of `max`.
    pub fn from_members_with<I, B>(members: I, max: usize) -> SetValue
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut s = SetValue::new();
        for m in members {
            s.sadd_with(m.as_ref(), max);
        }
        s
    }

    /// An intset from a snapshot: `None` unless ascending and distinct. Its length is not
    /// bounded by [`MAX_INTSET_ENTRIES`]: a store whose `set-max-intset-entries` was raised
    /// keeps longer intsets.
    pub fn restore_intset(members: Vec<i64>) -> Option<SetValue> {
        let ok = members.windows(2).all(|w| w[0] < w[1]);
        ok.then_some(SetValue::Intset(members))
    }

    /// A hash-table set from a snapshot, in the given iteration order: `None` on a repeated
    /// member.
    pub fn restore_hashtable<I: IntoIterator<Item = Vec<u8>>>(members: I) -> Option<SetValue> {
        let mut h = Members::default();
        for m in members {
            if !h.insert(m) {
                return None;
            }
        }
        Some(SetValue::Hashtable(h))
    }

    /// What `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> SetEncoding {
        match self {
            SetValue::Intset(_) => SetEncoding::Intset,
            SetValue::Hashtable(_) => SetEncoding::Hashtable,
        }
    }

    /// Number of members (`SCARD`).
    pub fn len(&self) -> usize {
        match self {
            SetValue::Intset(v) => v.len(),
            SetValue::Hashtable(h) => h.items.len(),
        }
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `member` is in the set (`SISMEMBER`).
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Intset(v) => parse_i64(member).is_some_and(|i| v.binary_search(&i).is_ok()),
            SetValue::Hashtable(h) => h.find(member).is_some(),
        }
    }

    fn convert_to_hashtable(&mut self) {
        if let SetValue::Intset(v) = self {
            let mut h = Members::default();
            h.items.reserve(v.len() + 1);
            for i in v.iter() {
                h.insert(i.to_string().into_bytes());
            }
            *self = SetValue::Hashtable(h);
        }
    }

    /// Adds `member` (`SADD`); whether it is new.
    pub fn sadd(&mut self, member: &[u8]) -> bool {
        self.sadd_with(member, MAX_INTSET_ENTRIES)
    }

    /// [`SetValue::sadd`] under a `set-max-intset-entries` of `max`: an intset growing past
    /// `max` members becomes a hash table.
    pub fn sadd_with(&mut self, member: &[u8], max: usize) -> bool {
        if let SetValue::Intset(v) = self {
            if let Some(i) = parse_i64(member) {
                return match v.binary_search(&i) {
                    Ok(_) => false,
                    Err(at) => {
                        v.insert(at, i);
                        if v.len() > max {
                            self.convert_to_hashtable();
                        }
                        true
                    }
                };
            }
            self.convert_to_hashtable();
        }
        match self {
            SetValue::Hashtable(h) => h.insert(member.to_vec()),
            SetValue::Intset(_) => false,
        }
    }

    /// Removes `member` (`SREM`); whether it was there.
    pub fn srem(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Intset(v) => match parse_i64(member).map(|i| v.binary_search(&i)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            SetValue::Hashtable(h) => h.remove(member),
        }
    }

    /// The member at position `pos` of the iteration order.
    fn member_at(&self, pos: usize) -> Option<Vec<u8>> {
        match self {
            SetValue::Intset(v) => v.get(pos).map(|i| i.to_string().into_bytes()),
            SetValue::Hashtable(h) => h.items.get(pos).cloned(),
        }
    }

    /// All members (`SMEMBERS`): ascending integers for an intset.
    pub fn members(&self) -> Vec<Vec<u8>> {
        match self {
            SetValue::Intset(v) => v.iter().map(|i| i.to_string().into_bytes()).collect(),
            SetValue::Hashtable(h) => h.items.clone(),
        }
    }

    /// The first `k` members in iteration order (a sample for size estimates).
    pub fn first_members(&self, k: usize) -> Vec<Vec<u8>> {
        (0..k.min(self.len()))
            .filter_map(|p| self.member_at(p))
            .collect()
    }

    /// `count` distinct positions below `len` (`count < len`), chosen with `pick`.
    pub(crate) fn distinct_positions(
        len: usize,
        count: usize,
        pick: &mut impl FnMut(usize) -> usize,
    ) -> Vec<usize> {
        if count * 2 <= len {
            let mut seen = std::collections::HashSet::with_capacity(count);
            let mut out = Vec::with_capacity(count);
            // With a fair `pick` each draw is new with probability >= 1/2; the bound only
            // stops a broken one from spinning forever.
            let mut draws = 64 + 64 * count;
            while out.len() < count && draws > 0 {
                draws -= 1;
                let p = pick(len) % len;
                if seen.insert(p) {
                    out.push(p);
                }
            }
            let mut next = 0;
            while out.len() < count {
                if seen.insert(next) {
                    out.push(next);
                }
                next += 1;
            }
            out
        } else {
            // A partial Fisher-Yates shuffle of all positions.
            let mut all: Vec<usize> = (0..len).collect();
            for i in 0..count {
                let j = i + pick(len - i) % (len - i);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        }
    }

    /// `SRANDMEMBER key count`: a positive `count` gives up to `count` distinct members, a
    /// negative one exactly `-count` members that may repeat. `pick(n)` returns a uniformly
    /// random index below `n`. The caller bounds `count`.
    pub fn srandmember(&self, count: i64, pick: &mut impl FnMut(usize) -> usize) -> Vec<Vec<u8>> {
        let len = self.len();
        if len == 0 || count == 0 {
            return Vec::new();
        }
        if count < 0 {
            let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
            return (0..n)
                .filter_map(|_| self.member_at(pick(len) % len))
                .collect();
        }
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count >= len {
            return self.members();
        }
        SetValue::distinct_positions(len, count, pick)
            .into_iter()
            .filter_map(|p| self.member_at(p))
            .collect()
    }

    /// `SPOP key count`: removes and returns up to `count` random distinct members. When few
    /// members remain, the set is rebuilt from them as Redis does, which can turn a hash table
    /// of integers back into an intset.
    pub fn spop(&mut self, count: usize, pick: &mut impl FnMut(usize) -> usize) -> Vec<Vec<u8>> {
        self.spop_with(count, pick, MAX_INTSET_ENTRIES)
    }

    /// [`SetValue::spop`] under a `set-max-intset-entries` of `max` (for the rebuild).
    pub fn spop_with(
        &mut self,
        count: usize,
        pick: &mut impl FnMut(usize) -> usize,
        max: usize,
    ) -> Vec<Vec<u8>> {
        let len = self.len();
        if count == 0 || len == 0 {
            return Vec::new();
        }
        if count >= len {
            let all = self.members();
            *self = SetValue::new();
            return all;
        }
        let mut positions = SetValue::distinct_positions(len, count, pick);
        // Remove from the highest position down, so earlier positions stay valid for both
        // forms (the hash table moves only its last member).
        positions.sort_unstable_by(|a, b| b.cmp(a));
        let mut out = Vec::with_capacity(count);
        for p in positions {
            let m = match self {
                SetValue::Intset(v) => v.remove(p).to_string().into_bytes(),
                SetValue::Hashtable(h) => h.remove_at(p),
            };
            out.push(m);
        }
        if self.len() * SPOP_MOVE_STRATEGY_MUL <= count {
            *self = SetValue::from_members_with(self.members(), max);
        }
        out
    }

    /// `SINTER`: members of every input, in the iteration order of the smallest (ascending
    /// for an intset); empty if any input is missing.
    pub fn sinter(inputs: &[Option<&SetValue>]) -> Vec<Vec<u8>> {
        SetValue::inter_scan(inputs, 0)
    }

    /// `SINTERSTORE`'s destination.
    pub fn sinter_store(inputs: &[Option<&SetValue>]) -> SetValue {
        SetValue::sinter_store_with(inputs, MAX_INTSET_ENTRIES)
    }

    /// [`SetValue::sinter_store`] under a `set-max-intset-entries` of `max`.
    pub fn sinter_store_with(inputs: &[Option<&SetValue>], max: usize) -> SetValue {
        SetValue::from_members_with(SetValue::inter_scan(inputs, 0), max)
    }

    /// `SINTERCARD`: the intersection's size, counting stopping at `limit` (0: no limit).
    pub fn sintercard(inputs: &[Option<&SetValue>], limit: usize) -> usize {
        SetValue::inter_scan(inputs, limit).len()
    }

    fn inter_scan(inputs: &[Option<&SetValue>], limit: usize) -> Vec<Vec<u8>> {
        let mut sets: Vec<&SetValue> = Vec::with_capacity(inputs.len());
        for s in inputs {
            match s {
                Some(s) => sets.push(s),
                None => return Vec::new(),
            }
        }
        // glibc's qsort is a stable merge sort at these sizes.
        sets.sort_by_key(|s| s.len());
        let Some((first, rest)) = sets.split_first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in first.members() {
            if rest
                .iter()
                .all(|s| std::ptr::eq(*s, *first) || s.contains(&m))
            {
                out.push(m);
                if limit != 0 && out.len() >= limit {
                    break;
                }
            }
        }
        out
    }

    /// `SUNION`/`SUNIONSTORE`: the union, built as Redis builds it (an intset while it can be),
    /// so its members come in Redis's order for an intset result.
    pub fn sunion(inputs: &[Option<&SetValue>]) -> SetValue {
        SetValue::sunion_with(inputs, MAX_INTSET_ENTRIES)
    }

    /// [`SetValue::sunion`] under a `set-max-intset-entries` of `max`.
    pub fn sunion_with(inputs: &[Option<&SetValue>], max: usize) -> SetValue {
        let mut dst = SetValue::new();
        for s in inputs.iter().flatten() {
            for m in s.members() {
                dst.sadd_with(&m, max);
            }
        }
        dst
    }

    /// `SDIFF`/`SDIFFSTORE`: members of the first input in none of the others, built with
    /// the algorithm Redis would choose for these sizes (which decides the encoding).
    pub fn sdiff(inputs: &[Option<&SetValue>]) -> SetValue {
        SetValue::sdiff_with(inputs, MAX_INTSET_ENTRIES)
    }

    /// [`SetValue::sdiff`] under a `set-max-intset-entries` of `max`.
    pub fn sdiff_with(inputs: &[Option<&SetValue>], max: usize) -> SetValue {
        let mut dst = SetValue::new();
        let Some((Some(first), rest)) = inputs.split_first() else {
            return dst;
        };
        if rest.iter().flatten().any(|s| std::ptr::eq(*s, *first)) {
            return dst;
        }
        let present = inputs.iter().flatten().count();
        let algo_one_work = first.len().saturating_mul(present) / 2;
        let algo_two_work: usize = inputs.iter().flatten().map(|s| s.len()).sum();
        if algo_one_work <= algo_two_work {
            let mut others: Vec<&SetValue> = rest.iter().flatten().copied().collect();
            others.sort_by_key(|s| std::cmp::Reverse(s.len()));
            for m in first.members() {
                if !others.iter().any(|s| s.contains(&m)) {
                    dst.sadd_with(&m, max);
                }
            }
        } else {
            for m in first.members() {
                dst.sadd_with(&m, max);
            }
            for s in rest.iter().flatten() {
                if dst.is_empty() {
                    break;
                }
                for m in s.members() {
                    dst.srem(&m);
                }
            }
        }
        dst
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect()
    }

    #[test]
    fn intset_until_a_non_integer_or_too_many() {
        let mut s = SetValue::for_member(b"3");
        for m in ["3", "1", "-2", "10"] {
            s.sadd(m.as_bytes());
        }
        assert_eq!(s.encoding().as_str(), "intset");
        assert_eq!(strs(s.members()), ["-2", "1", "3", "10"]);
        assert!(s.contains(b"10") && !s.contains(b"010") && !s.contains(b"+10"));
        assert!(!s.sadd(b"1"));
        assert!(s.sadd(b"007"));
        assert_eq!(s.encoding(), SetEncoding::Hashtable);
        assert!(s.srem(b"007"));
        assert_eq!(s.encoding(), SetEncoding::Hashtable);
        assert_eq!(
            SetValue::for_member(b"-0").encoding(),
            SetEncoding::Hashtable
        );
        let mut big = SetValue::new();
        for i in 0..MAX_INTSET_ENTRIES as i64 {
            big.sadd(i.to_string().as_bytes());
        }
        assert_eq!(big.encoding(), SetEncoding::Intset);
        big.sadd(b"-1");
        assert_eq!(big.encoding(), SetEncoding::Hashtable);
        assert_eq!(big.len(), MAX_INTSET_ENTRIES + 1);
    }

    #[test]
    fn random_members_and_pop() {
        let mut state = 12345u64;
        let mut pick = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        let mut s = SetValue::new();
        for m in ["a", "b", "c", "d", "e", "f"] {
            s.sadd(m.as_bytes());
        }
        let r = s.srandmember(4, &mut pick);
        assert_eq!(r.iter().collect::<BTreeSet<_>>().len(), 4);
        assert_eq!(s.srandmember(-10, &mut pick).len(), 10);
        assert_eq!(s.srandmember(10, &mut pick).len(), 6);
        let popped = s.spop(2, &mut pick);
        assert_eq!(popped.len(), 2);
        assert_eq!(s.len(), 4);
        assert!(popped.iter().all(|m| !s.contains(m)));
        // A hash table of integers rebuilt after a large pop is an intset again.
        let mut h = SetValue::for_member(b"x");
        for i in 0..20 {
            h.sadd(i.to_string().as_bytes());
        }
        h.srem(b"x");
        h.spop(17, &mut pick);
        assert_eq!(h.len(), 3);
        assert_eq!(h.encoding(), SetEncoding::Intset);
    }

    #[test]
    fn restore_validates_and_a_broken_pick_terminates() {
        assert!(SetValue::restore_intset(vec![1, 2, 3]).is_some());
        assert!(SetValue::restore_intset(vec![2, 1]).is_none());
        assert!(SetValue::restore_intset(vec![1, 1]).is_none());
        assert!(SetValue::restore_intset((0..600).collect()).is_some());
        let h = SetValue::restore_hashtable([b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(h.map(|h| h.encoding()), Some(SetEncoding::Hashtable));
        assert!(SetValue::restore_hashtable([b"a".to_vec(), b"a".to_vec()]).is_none());
        let s = SetValue::from_members((0..100).map(|i| format!("v{i}")));
        let got = s.srandmember(10, &mut |_| 0);
        assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), 10);
    }

    #[test]
    fn algebra_orders() {
        let a = SetValue::from_members(["5", "1", "3", "9"]);
        let b = SetValue::from_members(["3", "9", "x", "5"]);
        let c = SetValue::from_members(["9", "3", "5"]);
        assert_eq!(
            strs(SetValue::sinter(&[Some(&b), Some(&c), Some(&a)])),
            ["3", "5", "9"]
        );
        assert_eq!(SetValue::sinter(&[Some(&a), None]), Vec::<Vec<u8>>::new());
        assert_eq!(SetValue::sintercard(&[Some(&a), Some(&c)], 2), 2);
        assert_eq!(
            strs(SetValue::sunion(&[Some(&a), None, Some(&c)]).members()),
            ["1", "3", "5", "9"]
        );
        assert_eq!(
            strs(SetValue::sdiff(&[Some(&a), Some(&c)]).members()),
            ["1"]
        );
        assert!(SetValue::sdiff(&[Some(&a), Some(&a)]).is_empty());
        assert_eq!(
            SetValue::sunion(&[Some(&a), Some(&b)]).encoding(),
            SetEncoding::Hashtable
        );
    }

    proptest! {
        #[test]
        fn matches_reference_model(ops in proptest::collection::vec((any::<bool>(), 0u16..700, any::<bool>()), 0..1500)) {
            let mut s = SetValue::new();
            let mut m: BTreeSet<Vec<u8>> = BTreeSet::new();
            let mut ever_text = false;
            for (add, k, text) in ops {
                let key = if text { format!("k{}", k % 8).into_bytes() } else { k.to_string().into_bytes() };
                if add {
                    ever_text |= text;
                    prop_assert_eq!(s.sadd(&key), m.insert(key.clone()));
                } else {
                    prop_assert_eq!(s.srem(&key), m.remove(&key));
                }
                prop_assert_eq!(s.len(), m.len());
                prop_assert_eq!(s.contains(&key), m.contains(&key));
            }
            let got: BTreeSet<Vec<u8>> = s.members().into_iter().collect();
            prop_assert_eq!(&got, &m);
            if s.encoding() == SetEncoding::Intset {
                prop_assert!(!ever_text);
                let ints: Vec<i64> = s.members().iter().filter_map(|b| std::str::from_utf8(b).ok()?.parse().ok()).collect();
                prop_assert!(ints.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
