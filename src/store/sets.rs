//! Set semantics: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER,
//! SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE, SSCAN.
//!
//! The set itself, with Redis 7.0's intset and hash-table encodings and the algorithms that
//! decide a result's encoding and order, is [`SetValue`]; this module adds the keyspace: type
//! checks, creating and deleting keys, `*STORE` destinations and the random source.

use super::value::Value;
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
use crate::types::set::{SetEncoding, SetValue};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;

/// The most members SRANDMEMBER answers with a negative count: picks repeat, so the reply is
/// not bounded by the set, and a hostile count must not allocate without limit.
pub const MAX_SRANDMEMBER_PICKS: u64 = 1 << 20;

/// One SSCAN page: the cursor to continue from (0 when done) and the members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SScanPage {
    /// Pass this back to continue; 0 means the iteration is complete.
    pub cursor: u64,
    /// The members of this page.
    pub members: Vec<Vec<u8>>,
}

thread_local! {
    // One generator per thread, seeded from std's per-process random keys: SPOP and
    // SRANDMEMBER need unpredictable picks, not reproducible ones.
    static RNG: RefCell<ChaCha8Rng> = RefCell::new(ChaCha8Rng::seed_from_u64({
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new().build_hasher().finish()
    }));
}

/// A uniformly random index below `n` (0 when `n` is 0).
fn pick(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let n = n as u64;
    // Rejection sampling: the low zone of `u64` that is not a whole number of `n`s is
    // redrawn, so every index is equally likely.
    let zone = u64::MAX - (u64::MAX % n);
    RNG.with(|r| {
        let mut r = r.borrow_mut();
        loop {
            let x = r.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    })
}

impl Db<'_> {
    /// The set at `key`, None when missing, WRONGTYPE for another type.
    fn set_at(&mut self, key: &[u8]) -> Result<Option<&mut SetValue>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Set(s)) => Ok(Some(s)),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// Copies of the sets at `keys` (None for a missing key), after checking every key's
    /// type as Redis does before it computes anything.
    fn sets_of(&mut self, keys: &[&[u8]]) -> Result<Vec<Option<SetValue>>> {
        keys.iter()
            .map(|k| Ok(self.set_at(k)?.map(|s| s.clone())))
            .collect()
    }

    /// Stores `result` at `dst` as a `*STORE` command does: replaces whatever was there
    /// (expiry included) when it has members, deletes `dst` when it is empty.
    fn store_set(&mut self, dst: &[u8], result: SetValue, event: &'static str) -> usize {
        let n = result.len();
        if n == 0 {
            if self.remove(dst).is_some() {
                self.notify(notify::GENERIC, "del", dst);
            }
        } else {
            self.insert(dst, Value::Set(Box::new(result)), None);
            self.notify(notify::SET, event, dst);
        }
        n
    }

    /// The store's `set-max-intset-entries`.
    fn max_intset(&self) -> usize {
        self.settings().set_max_intset_entries()
    }

    /// SADD: how many members were new.
    pub(crate) fn sadd(&mut self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let max = self.max_intset();
        let added = match self.set_at(key)? {
            Some(s) => members.iter().filter(|m| s.sadd_with(m, max)).count(),
            None => {
                let Some(first) = members.first() else {
                    return Ok(0);
                };
                let mut s = SetValue::for_member(first);
                let n = members.iter().filter(|m| s.sadd_with(m, max)).count();
                self.insert(key, Value::Set(Box::new(s)), None);
                self.notify_n(notify::SET, "sadd", key, n as u64);
                return Ok(n);
            }
        };
        if added > 0 {
            self.touch(key);
            self.notify_n(notify::SET, "sadd", key, added as u64);
        }
        Ok(added)
    }

    /// SREM: how many members were removed; removing the last member removes the key.
    pub(crate) fn srem(&mut self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let Some(s) = self.set_at(key)? else {
            return Ok(0);
        };
        let removed = members.iter().filter(|m| s.srem(m)).count();
        let empty = s.is_empty();
        if removed > 0 {
            self.notify_n(notify::SET, "srem", key, removed as u64);
        }
        if empty {
            self.remove(key);
            self.notify_n(notify::GENERIC, "del", key, 0);
        } else if removed > 0 {
            self.touch(key);
        }
        Ok(removed)
    }

    /// SMEMBERS: ascending integers for an intset, the table's order otherwise.
    pub(crate) fn smembers(&mut self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        Ok(self.set_at(key)?.map(|s| s.members()).unwrap_or_default())
    }

    /// SISMEMBER.
    pub(crate) fn sismember(&mut self, key: &[u8], member: &[u8]) -> Result<bool> {
        Ok(self.set_at(key)?.is_some_and(|s| s.contains(member)))
    }

    /// SMISMEMBER.
    pub(crate) fn smismember(&mut self, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        let s = self.set_at(key)?;
        Ok(members
            .iter()
            .map(|m| s.as_ref().is_some_and(|s| s.contains(m)))
            .collect())
    }

    /// SCARD.
    pub(crate) fn scard(&mut self, key: &[u8]) -> Result<usize> {
        Ok(self.set_at(key)?.map_or(0, |s| s.len()))
    }

    /// The encoding OBJECT ENCODING reports for the set at `key`; None when missing or not
    /// a set.
    pub(crate) fn set_encoding(&mut self, key: &[u8]) -> Option<SetEncoding> {
        match self.value(key) {
            Some(Value::Set(s)) => Some(s.encoding()),
            _ => None,
        }
    }

    /// SPOP without a count: a random member, removed.
    pub(crate) fn spop(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.spop_count(key, 1)?.into_iter().next())
    }

    /// SPOP with a count: up to `count` random distinct members, removed.
    pub(crate) fn spop_count(&mut self, key: &[u8], count: usize) -> Result<Vec<Vec<u8>>> {
        let max = self.max_intset();
        let Some(s) = self.set_at(key)? else {
            return Ok(Vec::new());
        };
        if count == 0 {
            return Ok(Vec::new());
        }
        let popped = s.spop_with(count, &mut pick, max);
        let empty = s.is_empty();
        self.notify_n(notify::SET, "spop", key, popped.len() as u64);
        if empty {
            self.remove(key);
            self.notify_n(notify::GENERIC, "del", key, 0);
        } else {
            self.touch(key);
        }
        Ok(popped)
    }

    /// SRANDMEMBER without a count.
    pub(crate) fn srandmember(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.srandmember_count(key, 1)?.into_iter().next())
    }

    /// SRANDMEMBER with a count: distinct members for a positive count, `-count` picks
    /// that may repeat for a negative one (at most [`MAX_SRANDMEMBER_PICKS`]).
    pub(crate) fn srandmember_count(&mut self, key: &[u8], count: i64) -> Result<Vec<Vec<u8>>> {
        let Some(s) = self.set_at(key)? else {
            return Ok(Vec::new());
        };
        if count < 0 && count.unsigned_abs() > MAX_SRANDMEMBER_PICKS {
            return Err(Error::err("value is out of range"));
        }
        Ok(s.srandmember(count, &mut pick))
    }

    /// SMOVE: whether the member moved (or, with `src == dst`, whether it is there).
    pub(crate) fn smove(&mut self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        if self.set_at(src)?.is_none() {
            return Ok(false);
        }
        self.set_at(dst)?;
        if src == dst {
            return self.sismember(src, member);
        }
        let max = self.max_intset();
        let Some(s) = self.set_at(src)? else {
            return Ok(false);
        };
        if !s.srem(member) {
            return Ok(false);
        }
        let empty = s.is_empty();
        // One change for the whole move, as Redis counts it.
        self.notify(notify::SET, "srem", src);
        if empty {
            self.remove(src);
            self.notify_n(notify::GENERIC, "del", src, 0);
        } else {
            self.touch(src);
        }
        match self.set_at(dst)? {
            // WATCH sees the destination modified only when the member is new there.
            Some(d) => {
                if d.sadd_with(member, max) {
                    self.touch(dst);
                    self.notify(notify::SET, "sadd", dst);
                }
            }
            None => {
                let mut d = SetValue::for_member(member);
                d.sadd_with(member, max);
                self.insert(dst, Value::Set(Box::new(d)), None);
                self.notify(notify::SET, "sadd", dst);
            }
        }
        Ok(true)
    }

    /// SINTER: in the order of the smallest input.
    pub(crate) fn sinter(&mut self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        let sets = self.sets_of(keys)?;
        let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
        Ok(SetValue::sinter(&refs))
    }

    /// SINTERCARD: the intersection's size, counting stopping at `limit` (0: no limit).
    pub(crate) fn sintercard(&mut self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let sets = self.sets_of(keys)?;
        let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
        Ok(SetValue::sintercard(&refs, limit))
    }

    /// SINTERSTORE: the size of the stored result.
    pub(crate) fn sinterstore(&mut self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        let sets = self.sets_of(keys)?;
        let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
        let max = self.max_intset();
        Ok(self.store_set(dst, SetValue::sinter_store_with(&refs, max), "sinterstore"))
    }

    /// SUNION / SDIFF as a set value.
    fn union_or_diff(&mut self, keys: &[&[u8]], diff: bool) -> Result<SetValue> {
        let sets = self.sets_of(keys)?;
        let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
        let max = self.max_intset();
        Ok(if diff {
            SetValue::sdiff_with(&refs, max)
        } else {
            SetValue::sunion_with(&refs, max)
        })
    }

    /// SUNION: in the order Redis's result set lists them.
    pub(crate) fn sunion(&mut self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        Ok(self.union_or_diff(keys, false)?.members())
    }

    /// SUNIONSTORE: the size of the stored result.
    pub(crate) fn sunionstore(&mut self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        let s = self.union_or_diff(keys, false)?;
        Ok(self.store_set(dst, s, "sunionstore"))
    }

    /// SDIFF: members of the first set in none of the others.
    pub(crate) fn sdiff(&mut self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        Ok(self.union_or_diff(keys, true)?.members())
    }

    /// SDIFFSTORE: the size of the stored result.
    pub(crate) fn sdiffstore(&mut self, dst: &[u8], keys: &[&[u8]]) -> Result<usize> {
        let s = self.union_or_diff(keys, true)?;
        Ok(self.store_set(dst, s, "sdiffstore"))
    }

    /// SSCAN. An intset is returned whole with cursor 0, as Redis returns its small
    /// encodings. A hash table is walked in order of the members' hashes, the cursor being
    /// the next hash to visit: a member present for the whole iteration is returned at least
    /// once whatever is added or removed meanwhile, as SCAN guarantees.
    pub(crate) fn sscan(
        &mut self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<SScanPage> {
        let keep = |m: &[u8]| {
            pattern.is_none_or(|p| crate::glob::is_match_all(p) || crate::glob::glob_match(p, m))
        };
        let Some(s) = self.set_at(key)? else {
            return Ok(SScanPage {
                cursor: 0,
                members: Vec::new(),
            });
        };
        if s.encoding() == SetEncoding::Intset {
            return Ok(SScanPage {
                cursor: 0,
                members: s.members().into_iter().filter(|m| keep(m)).collect(),
            });
        }
        let mut cands: Vec<(u64, Vec<u8>)> = s
            .members()
            .into_iter()
            .map(|m| (super::keyspace::key_hash(&m), m))
            .filter(|c| c.0 >= cursor)
            .collect();
        let count = count.max(1);
        let next = if cands.len() > count {
            cands.select_nth_unstable_by_key(count - 1, |c| c.0);
            let boundary = cands.get(count - 1).map_or(u64::MAX, |c| c.0);
            // Members sharing the boundary hash come in the same page: the cursor cannot
            // point between them.
            cands.retain(|c| c.0 <= boundary);
            boundary.checked_add(1).unwrap_or(0)
        } else {
            0
        };
        cands.sort_unstable_by_key(|c| c.0);
        Ok(SScanPage {
            cursor: next,
            members: cands
                .into_iter()
                .map(|(_, m)| m)
                .filter(|m| keep(m))
                .collect(),
        })
    }
}

impl Store {
    /// SADD: adds members; returns how many were new.
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// assert_eq!(store.sadd("s", &["a", "b", "a"]).unwrap(), 2);
    /// assert!(store.sismember("s", "b").unwrap());
    /// ```
    pub fn sadd<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<usize> {
        self.check_memory(true)?;
        let key = key.as_ref();
        let members: Vec<&[u8]> = members.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.sadd(key, &members))
    }

    /// SREM: how many members were removed.
    pub fn srem<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<usize> {
        let key = key.as_ref();
        let members: Vec<&[u8]> = members.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.srem(key, &members))
    }

    /// SMEMBERS: ascending integers for an intset (as in Redis), unspecified order otherwise.
    pub fn smembers(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.smembers(key))
    }

    /// SISMEMBER.
    pub fn sismember(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<bool> {
        let key = key.as_ref();
        self.with_key(key, |db| db.sismember(key, member.as_ref()))
    }

    /// SMISMEMBER: one answer per member, in order.
    pub fn smismember<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        members: &[M],
    ) -> Result<Vec<bool>> {
        let key = key.as_ref();
        let members: Vec<&[u8]> = members.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.smismember(key, &members))
    }

    /// SCARD.
    pub fn scard(&self, key: impl AsRef<[u8]>) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.scard(key))
    }

    /// SPOP: a random member, removed; `None` when the key is missing.
    pub fn spop(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.spop(key))
    }

    /// SPOP with a count: up to `count` random distinct members, removed.
    pub fn spop_count(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.spop_count(key, count))
    }

    /// SRANDMEMBER: a random member; `None` when the key is missing.
    pub fn srandmember(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.srandmember(key))
    }

    /// SRANDMEMBER with a count: up to `count` distinct members when positive, exactly
    /// `-count` members that may repeat when negative (at most [`MAX_SRANDMEMBER_PICKS`]).
    pub fn srandmember_count(&self, key: impl AsRef<[u8]>, count: i64) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.srandmember_count(key, count))
    }

    /// SMOVE: whether `member` moved from `src` to `dst`.
    pub fn smove(
        &self,
        src: impl AsRef<[u8]>,
        dst: impl AsRef<[u8]>,
        member: impl AsRef<[u8]>,
    ) -> Result<bool> {
        let (src, dst) = (src.as_ref(), dst.as_ref());
        self.with_db(Lock::Keys(&[src, dst]), |db| {
            db.smove(src, dst, member.as_ref())
        })
    }

    fn with_keys<K: AsRef<[u8]>, R>(
        &self,
        dst: Option<&[u8]>,
        keys: &[K],
        f: impl FnOnce(&mut Db<'_>, &[&[u8]]) -> R,
    ) -> R {
        let keys: Vec<&[u8]> = keys.iter().map(AsRef::as_ref).collect();
        let mut all = keys.clone();
        all.extend(dst);
        self.with_db(Lock::Keys(&all), |db| f(db, &keys))
    }

    /// SINTER: members in every set (empty when one is missing).
    pub fn sinter<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        self.with_keys(None, keys, |db, keys| db.sinter(keys))
    }

    /// SINTERCARD: the intersection's size, counting stopping at `limit` (0: no limit).
    pub fn sintercard<K: AsRef<[u8]>>(&self, keys: &[K], limit: usize) -> Result<usize> {
        self.with_keys(None, keys, |db, keys| db.sintercard(keys, limit))
    }

    /// SINTERSTORE: stores the intersection at `dst`; its size.
    pub fn sinterstore<K: AsRef<[u8]>>(&self, dst: impl AsRef<[u8]>, keys: &[K]) -> Result<usize> {
        self.check_memory(true)?;
        let dst = dst.as_ref();
        self.with_keys(Some(dst), keys, |db, keys| db.sinterstore(dst, keys))
    }

    /// SUNION.
    pub fn sunion<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        self.with_keys(None, keys, |db, keys| db.sunion(keys))
    }

    /// SUNIONSTORE: stores the union at `dst`; its size.
    pub fn sunionstore<K: AsRef<[u8]>>(&self, dst: impl AsRef<[u8]>, keys: &[K]) -> Result<usize> {
        self.check_memory(true)?;
        let dst = dst.as_ref();
        self.with_keys(Some(dst), keys, |db, keys| db.sunionstore(dst, keys))
    }

    /// SDIFF: members of the first set in none of the others.
    pub fn sdiff<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Vec<Vec<u8>>> {
        self.with_keys(None, keys, |db, keys| db.sdiff(keys))
    }

    /// SDIFFSTORE: stores the difference at `dst`; its size.
    pub fn sdiffstore<K: AsRef<[u8]>>(&self, dst: impl AsRef<[u8]>, keys: &[K]) -> Result<usize> {
        self.check_memory(true)?;
        let dst = dst.as_ref();
        self.with_keys(Some(dst), keys, |db, keys| db.sdiffstore(dst, keys))
    }

    /// SSCAN: one page of the set's members from `cursor` (0 to start), filtered by the glob
    /// `pattern`, about `count` of them before filtering.
    pub fn sscan(
        &self,
        key: impl AsRef<[u8]>,
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<SScanPage> {
        let key = key.as_ref();
        self.with_key(key, |db| db.sscan(key, cursor, pattern, count))
    }

    /// The encoding `OBJECT ENCODING` reports for the set at `key` (`intset` or
    /// `hashtable`); `None` when the key is missing or not a set.
    pub fn set_encoding(&self, key: impl AsRef<[u8]>) -> Option<SetEncoding> {
        let key = key.as_ref();
        self.with_key(key, |db| db.set_encoding(key))
    }
}
