//! Sorted-set semantics: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK,
//! ZCOUNT, ZLEXCOUNT, the ZRANGE family and ZRANGESTORE, ZREMRANGEBY*, ZPOPMIN/ZPOPMAX,
//! ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP (their waiting lives in
//! [`super::blocking`]), ZRANDMEMBER, ZUNION/ZINTER/ZDIFF (and their STORE forms),
//! ZINTERCARD and ZSCAN.
//!
//! The value is [`ZSet`]; its module holds the ordering, encoding and parsing rules. An
//! empty sorted set is never stored: the command that removes the last member removes the
//! key. A command that creates a key marks it ready for blocked clients.

use super::blocking::{typed_timeout, Taken, WaitKind};
use super::value::Value;
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
use crate::types::zset::{
    Aggregate, LexRange, ListpackLimits, ScoreRange, ZInput, ZSet, ZaddFlags, ZaddOutcome,
};
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a ZRANGE-family command selects.
#[derive(Clone, Debug, PartialEq)]
pub enum ZRangeBy {
    /// Ranks `start..=stop`, negative counting from the end.
    Rank(i64, i64),
    /// Scores in a range.
    Score(ScoreRange),
    /// Members in a lex range.
    Lex(LexRange),
}

/// A ZRANGE query: what to select, in which direction, and `LIMIT offset count` (only with
/// scores or lex ranges; a negative count takes everything after `offset`).
#[derive(Clone, Debug, PartialEq)]
pub struct ZRange {
    /// The selection.
    pub by: ZRangeBy,
    /// Highest first (`REV`, `ZREVRANGE...`).
    pub rev: bool,
    /// `LIMIT offset count`.
    pub limit: Option<(i64, i64)>,
}

impl ZRange {
    /// Ranks `start..=stop`, lowest score first.
    pub fn rank(start: i64, stop: i64) -> ZRange {
        ZRange {
            by: ZRangeBy::Rank(start, stop),
            rev: false,
            limit: None,
        }
    }
}

/// ZADD's answer: the count of added (or with `CH` changed) members, or with `INCR` the new
/// score (`None` when a condition refused the update).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZaddReply {
    /// Members added (or changed, with `CH`).
    Count(usize),
    /// The new score under `INCR`.
    Score(Option<f64>),
}

/// ZUNION, ZINTER or ZDIFF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZSetOp {
    /// Every member of any input.
    Union,
    /// Members of every input.
    Inter,
    /// Members of the first input in none of the others.
    Diff,
}

/// A sorted-set entry: member and score.
pub type ZEntry = (Vec<u8>, f64);

/// What BZPOPMIN and BZPOPMAX pop: the key, the member and its score.
pub type ZPopped = (Vec<u8>, Vec<u8>, f64);

/// The source of ZRANDMEMBER's picks: a splitmix64 sequence shared by the process, seeded
/// from the standard library's per-process random keys.
fn random_below(n: usize) -> usize {
    static STATE: AtomicU64 = AtomicU64::new(0);
    if STATE.load(Ordering::Relaxed) == 0 {
        use std::hash::{BuildHasher, RandomState};
        let seed = RandomState::new().hash_one(0x5eed_u64) | 1;
        let _ = STATE.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if n == 0 {
        0
    } else {
        (z % n as u64) as usize
    }
}

/// The most entries one ZRANDMEMBER with a negative count answers (Redis streams any
/// count; here the reply is built in memory, so it is bounded).
pub const MAX_RANDMEMBER: u64 = 1 << 24;

fn owned(v: Vec<(&[u8], f64)>) -> Vec<ZEntry> {
    v.into_iter().map(|(m, s)| (m.to_vec(), s)).collect()
}

impl Db<'_> {
    /// The listpack limits in force (`CONFIG SET zset-max-listpack-entries|value`).
    fn zset_limits(&self) -> ListpackLimits {
        let s = self.settings();
        ListpackLimits {
            entries: s.zset_max_listpack_entries(),
            value: s.zset_max_listpack_value(),
        }
    }

    /// The sorted set at `key`: None when missing, WRONGTYPE for another type.
    fn zset(&mut self, key: &[u8]) -> Result<Option<&mut ZSet>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::ZSet(z)) => Ok(Some(z)),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// The number of members at `key`; 0 when missing or not a sorted set.
    pub(crate) fn zset_len_of(&mut self, key: &[u8]) -> usize {
        match self.zset(key) {
            Ok(Some(z)) => z.len(),
            _ => 0,
        }
    }

    /// After `removed` members left `key` by the command `event` names: announces it (when
    /// something left), then deletes the key when empty, else marks it modified.
    fn zset_after_removal(&mut self, key: &[u8], removed: usize, event: &'static str) {
        if removed > 0 {
            self.notify_n(notify::ZSET, event, key, removed as u64);
        }
        if self.zset_len_of(key) == 0 {
            self.remove(key);
            self.notify_n(notify::GENERIC, "del", key, 0);
        } else if removed > 0 {
            self.touch(key);
        }
    }

    /// ZADD (`flags.incr` is ZADD ... INCR and ZINCRBY). Scores are parsed by the caller,
    /// before the key is looked up, as Redis does.
    pub(crate) fn zadd(
        &mut self,
        key: &[u8],
        flags: ZaddFlags,
        ch: bool,
        pairs: &[(f64, &[u8])],
    ) -> Result<ZaddReply> {
        flags.validate(pairs.len())?;
        let Some(&(_, first)) = pairs.first() else {
            return Err(Error::Syntax);
        };
        let limits = self.zset_limits();
        let created = match self.zset(key)? {
            Some(_) => false,
            None if flags.xx => {
                return Ok(if flags.incr {
                    ZaddReply::Score(None)
                } else {
                    ZaddReply::Count(0)
                })
            }
            None => {
                let z = ZSet::for_zadd_within(first, limits);
                self.insert(key, Value::ZSet(Box::new(z)), None);
                true
            }
        };
        let Some(z) = self.zset(key)? else {
            return Err(Error::WrongType);
        };
        let (mut added, mut updated) = (0usize, 0usize);
        let mut last = None;
        let mut failed = None;
        for &(score, member) in pairs {
            match z.zadd_within(member, score, flags, limits) {
                Ok(ZaddOutcome::Added(s)) => {
                    added += 1;
                    last = Some(s);
                }
                Ok(ZaddOutcome::Updated(s)) => {
                    updated += 1;
                    last = Some(s);
                }
                Ok(ZaddOutcome::Unchanged(s)) => last = Some(s),
                Ok(ZaddOutcome::Nop) => last = None,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let empty = z.is_empty();
        if empty && created {
            // Only an INCR to NaN can leave a new key empty; Redis keeps no empty key.
            self.remove(key);
        } else if added + updated > 0 {
            self.touch(key);
            let event = if flags.incr { "zincr" } else { "zadd" };
            self.notify_n(notify::ZSET, event, key, (added + updated) as u64);
            self.signal_ready(key);
        }
        if let Some(e) = failed {
            return Err(e.into());
        }
        Ok(if flags.incr {
            ZaddReply::Score(last)
        } else if ch {
            ZaddReply::Count(added + updated)
        } else {
            ZaddReply::Count(added)
        })
    }

    /// ZINCRBY: the new score.
    pub(crate) fn zincrby(&mut self, key: &[u8], increment: f64, member: &[u8]) -> Result<f64> {
        let flags = ZaddFlags {
            incr: true,
            ..ZaddFlags::default()
        };
        match self.zadd(key, flags, false, &[(increment, member)])? {
            ZaddReply::Score(Some(s)) => Ok(s),
            _ => Ok(increment),
        }
    }

    /// ZREM: how many members were removed.
    pub(crate) fn zrem(&mut self, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        let Some(z) = self.zset(key)? else {
            return Ok(0);
        };
        let removed = members.iter().filter(|m| z.zrem(m)).count();
        self.zset_after_removal(key, removed, "zrem");
        Ok(removed)
    }

    /// ZCARD.
    pub(crate) fn zcard(&mut self, key: &[u8]) -> Result<usize> {
        Ok(self.zset(key)?.map_or(0, |z| z.len()))
    }

    /// ZSCORE.
    pub(crate) fn zscore(&mut self, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        Ok(self.zset(key)?.and_then(|z| z.score(member)))
    }

    /// ZMSCORE.
    pub(crate) fn zmscore(&mut self, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        let z = self.zset(key)?;
        Ok(members
            .iter()
            .map(|m| z.as_ref().and_then(|z| z.score(m)))
            .collect())
    }

    /// ZRANK (`rev` false) and ZREVRANK.
    pub(crate) fn zrank(&mut self, key: &[u8], member: &[u8], rev: bool) -> Result<Option<usize>> {
        Ok(self.zset(key)?.and_then(|z| {
            if rev {
                z.zrevrank(member)
            } else {
                z.zrank(member)
            }
        }))
    }

    /// ZCOUNT.
    pub(crate) fn zcount(&mut self, key: &[u8], range: &ScoreRange) -> Result<usize> {
        Ok(self.zset(key)?.map_or(0, |z| z.zcount(range)))
    }

    /// ZLEXCOUNT.
    pub(crate) fn zlexcount(&mut self, key: &[u8], range: &LexRange) -> Result<usize> {
        Ok(self.zset(key)?.map_or(0, |z| z.zlexcount(range)))
    }

    /// The ZRANGE family: the selected entries in reply order.
    pub(crate) fn zrange(&mut self, key: &[u8], q: &ZRange) -> Result<Vec<ZEntry>> {
        let Some(z) = self.zset(key)? else {
            return Ok(Vec::new());
        };
        Ok(select(z, q))
    }

    /// ZRANGESTORE: stores the selection at `dst` (deleting `dst` when it is empty); its size.
    pub(crate) fn zrangestore(&mut self, dst: &[u8], src: &[u8], q: &ZRange) -> Result<usize> {
        let (entries, hint) = match self.zset(src)? {
            None => (Vec::new(), 0),
            Some(z) => {
                let entries = select(z, q);
                // Redis sizes the destination from the rank window's length, and from
                // nothing (a listpack) for score and lex ranges.
                let hint = match q.by {
                    ZRangeBy::Rank(..) => entries.len(),
                    _ => 0,
                };
                (entries, hint)
            }
        };
        if entries.is_empty() {
            if self.remove(dst).is_some() {
                self.notify(notify::GENERIC, "del", dst);
            }
            return Ok(0);
        }
        let limits = self.zset_limits();
        let mut out = ZSet::for_length_within(hint, limits);
        for (m, s) in &entries {
            // Members are distinct and scores never NaN: every add succeeds.
            let _ = out.zadd_within(m, *s, ZaddFlags::default(), limits);
        }
        let n = out.len();
        self.insert(dst, Value::ZSet(Box::new(out)), None);
        self.notify(notify::ZSET, "zrangestore", dst);
        Ok(n)
    }

    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX: how many were removed.
    pub(crate) fn zremrange(&mut self, key: &[u8], by: &ZRangeBy) -> Result<usize> {
        let Some(z) = self.zset(key)? else {
            return Ok(0);
        };
        let (removed, event) = match by {
            ZRangeBy::Rank(start, stop) => (z.zremrangebyrank(*start, *stop), "zremrangebyrank"),
            ZRangeBy::Score(r) => (z.zremrangebyscore(r), "zremrangebyscore"),
            ZRangeBy::Lex(r) => (z.zremrangebylex(r), "zremrangebylex"),
        };
        self.zset_after_removal(key, removed, event);
        Ok(removed)
    }

    /// Pops up to `count` entries of a sorted set known to be one (ZPOP*, blocked-client
    /// handoff), lowest first or highest first when `max`.
    pub(crate) fn zset_pop_n(&mut self, key: &[u8], max: bool, count: usize) -> Vec<ZEntry> {
        let Ok(Some(z)) = self.zset(key) else {
            return Vec::new();
        };
        let v = if max {
            z.zpopmax(count)
        } else {
            z.zpopmin(count)
        };
        let n = v.len();
        self.zset_after_removal(key, n, if max { "zpopmax" } else { "zpopmin" });
        v
    }

    /// ZPOPMIN / ZPOPMAX with a count.
    pub(crate) fn zpop(&mut self, key: &[u8], max: bool, count: usize) -> Result<Vec<ZEntry>> {
        if self.zset(key)?.is_none() {
            return Ok(Vec::new());
        }
        Ok(self.zset_pop_n(key, max, count))
    }

    /// ZMPOP: pops from the first of `keys` that exists (WRONGTYPE stops the search).
    pub(crate) fn zmpop(
        &mut self,
        keys: &[&[u8]],
        max: bool,
        count: usize,
    ) -> Result<Option<(Vec<u8>, Vec<ZEntry>)>> {
        for k in keys {
            if self.zset(k)?.is_some_and(|z| !z.is_empty()) {
                return Ok(Some((k.to_vec(), self.zset_pop_n(k, max, count))));
            }
        }
        Ok(None)
    }

    /// Puts back entries a waiter was handed but never returned.
    pub(crate) fn zset_give_back(&mut self, key: &[u8], entries: Vec<ZEntry>) {
        let Some((first, _)) = entries.first() else {
            return;
        };
        let limits = self.zset_limits();
        match self.zset(key) {
            Err(_) => return,
            Ok(Some(_)) => {}
            Ok(None) => {
                let z = ZSet::for_zadd_within(first, limits);
                self.insert(key, Value::ZSet(Box::new(z)), None);
            }
        }
        if let Ok(Some(z)) = self.zset(key) {
            for (m, s) in &entries {
                let _ = z.zadd_within(m, *s, ZaddFlags::default(), limits);
            }
        }
        self.touch(key);
        self.signal_ready(key);
    }

    /// ZRANDMEMBER without a count: one random member.
    pub(crate) fn zrandmember_one(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(z) = self.zset(key)? else {
            return Ok(None);
        };
        let mut pick = random_below;
        Ok(z.zrandmember(1, &mut pick).first().map(|(m, _)| m.to_vec()))
    }

    /// ZRANDMEMBER with a count: distinct members for a positive count, `-count` members
    /// that may repeat for a negative one.
    pub(crate) fn zrandmember(&mut self, key: &[u8], count: i64) -> Result<Vec<ZEntry>> {
        let Some(z) = self.zset(key)? else {
            return Ok(Vec::new());
        };
        if count < 0 && count.unsigned_abs() > MAX_RANDMEMBER {
            return Err(Error::err("value is out of range"));
        }
        let mut pick = random_below;
        Ok(owned(z.zrandmember(count, &mut pick)))
    }

    /// WRONGTYPE unless every key is a sorted set or missing (algebra commands check this
    /// before reading their options).
    pub(crate) fn zset_check_types(&mut self, keys: &[&[u8]]) -> Result<()> {
        for k in keys {
            match self.value(k) {
                None | Some(Value::ZSet(_)) | Some(Value::Set(_)) => {}
                Some(_) => return Err(Error::WrongType),
            }
        }
        Ok(())
    }

    /// The inputs of an algebra command, copied out of the keyspace (several keys' values
    /// cannot be borrowed from the view at once); WRONGTYPE for a key of another type.
    fn zinputs(&mut self, keys: &[&[u8]]) -> Result<Vec<Input>> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(match self.value(k) {
                None => Input::Missing,
                Some(Value::ZSet(z)) => Input::Zset((**z).clone()),
                Some(Value::Set(s)) => Input::Set((**s).clone()),
                Some(_) => return Err(Error::WrongType),
            });
        }
        Ok(out)
    }

    /// ZUNION, ZINTER, ZDIFF: the result set (a `skiplist`, as Redis builds it).
    pub(crate) fn zsetop(
        &mut self,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<ZSet> {
        let sets = self.zinputs(keys)?;
        let inputs: Vec<ZInput<'_>> = sets.iter().map(Input::view).collect();
        Ok(match op {
            ZSetOp::Union => ZSet::zunion(&inputs, weights, aggregate),
            ZSetOp::Inter => ZSet::zinter(&inputs, weights, aggregate),
            ZSetOp::Diff => ZSet::zdiff(&inputs),
        })
    }

    /// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: the size stored at `dst` (deleted when 0).
    pub(crate) fn zsetop_store(
        &mut self,
        dst: &[u8],
        op: ZSetOp,
        keys: &[&[u8]],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<usize> {
        let mut z = self.zsetop(op, keys, weights, aggregate)?;
        if z.is_empty() {
            if self.remove(dst).is_some() {
                self.notify(notify::GENERIC, "del", dst);
            }
            return Ok(0);
        }
        z.convert_to_listpack_if_fits_within(self.zset_limits());
        let n = z.len();
        self.insert(dst, Value::ZSet(Box::new(z)), None);
        let event = match op {
            ZSetOp::Union => "zunionstore",
            ZSetOp::Inter => "zinterstore",
            ZSetOp::Diff => "zdiffstore",
        };
        self.notify(notify::ZSET, event, dst);
        Ok(n)
    }

    /// ZINTERCARD: the intersection's size, counting stopping at `limit` (0: no limit).
    pub(crate) fn zintercard(&mut self, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let sets = self.zinputs(keys)?;
        let inputs: Vec<ZInput<'_>> = sets.iter().map(Input::view).collect();
        Ok(ZSet::zintercard(&inputs, limit))
    }

    /// ZSCAN: the next cursor (0 when done) and entries whose member matches `pattern`.
    /// A `listpack` set is returned whole in one call, as Redis does; a larger one is walked
    /// by rank, `count` entries a call.
    pub(crate) fn zscan(
        &mut self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<ZEntry>)> {
        let Some(z) = self.zset(key)? else {
            return Ok((0, Vec::new()));
        };
        let keep = |m: &[u8]| pattern.is_none_or(|p| crate::glob::glob_match(p, m));
        let (next, page) = if z.encoding() == crate::types::zset::ZsetEncoding::Listpack {
            (0, z.iter().collect::<Vec<_>>())
        } else {
            let len = z.len() as u64;
            let from = cursor.min(len);
            let to = from.saturating_add(count as u64).min(len);
            let lo = i64::try_from(from).unwrap_or(i64::MAX);
            let hi = i64::try_from(to).unwrap_or(i64::MAX) - 1;
            let page = if to > from {
                z.range_by_rank(lo, hi, false)
            } else {
                Vec::new()
            };
            (if to >= len { 0 } else { to }, page)
        };
        Ok((
            next,
            page.into_iter()
                .filter(|(m, _)| keep(m))
                .map(|(m, s)| (m.to_vec(), s))
                .collect(),
        ))
    }
}

/// An algebra input owned for the command's length. Redis also takes plain sets (every
/// member scoring 1, [`ZInput::Set`]); they join here with the set value.
enum Input {
    Zset(ZSet),
    /// A plain set: every member scores 1.
    Set(crate::types::set::SetValue),
    Missing,
}

impl Input {
    fn view(&self) -> ZInput<'_> {
        match self {
            Input::Zset(z) => ZInput::Zset(z),
            Input::Set(s) => ZInput::Set(s),
            Input::Missing => ZInput::Missing,
        }
    }
}

/// The entries a ZRANGE query selects, in reply order.
fn select(z: &ZSet, q: &ZRange) -> Vec<ZEntry> {
    let (offset, count) = q.limit.unwrap_or((0, -1));
    owned(match &q.by {
        ZRangeBy::Rank(start, stop) => z.range_by_rank(*start, *stop, q.rev),
        ZRangeBy::Score(r) => z.range_by_score(r, q.rev, offset, count),
        ZRangeBy::Lex(r) => z.range_by_lex(r, q.rev, offset, count),
    })
}

impl Store {
    fn write_key<R>(&self, key: &[u8], f: impl FnOnce(&mut Db<'_>) -> Result<R>) -> Result<R> {
        self.check_memory(true)?;
        self.with_key(key, f)
    }

    /// ZADD: adds members with their scores, or updates their scores; how many were new.
    pub fn zadd<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, pairs: &[(f64, M)]) -> Result<usize> {
        match self.zadd_with(key, ZaddFlags::default(), false, pairs)? {
            ZaddReply::Count(n) => Ok(n),
            ZaddReply::Score(_) => Ok(0),
        }
    }

    /// ZADD with its options: `flags` (NX, XX, GT, LT, INCR) and `ch` (count changed
    /// members too).
    pub fn zadd_with<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        flags: ZaddFlags,
        ch: bool,
        pairs: &[(f64, M)],
    ) -> Result<ZaddReply> {
        let key = key.as_ref();
        let pairs: Vec<(f64, &[u8])> = pairs.iter().map(|(s, m)| (*s, m.as_ref())).collect();
        self.write_key(key, |db| db.zadd(key, flags, ch, &pairs))
    }

    /// ZINCRBY: the member's new score.
    pub fn zincrby(
        &self,
        key: impl AsRef<[u8]>,
        increment: f64,
        member: impl AsRef<[u8]>,
    ) -> Result<f64> {
        let (key, member) = (key.as_ref(), member.as_ref());
        self.write_key(key, |db| db.zincrby(key, increment, member))
    }

    /// ZREM: how many members were removed.
    pub fn zrem<M: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, members: &[M]) -> Result<usize> {
        let key = key.as_ref();
        let members: SmallVec<[&[u8]; 8]> = members.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.zrem(key, &members))
    }

    /// ZCARD.
    pub fn zcard(&self, key: impl AsRef<[u8]>) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zcard(key))
    }

    /// ZSCORE.
    pub fn zscore(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<Option<f64>> {
        let (key, member) = (key.as_ref(), member.as_ref());
        self.with_key(key, |db| db.zscore(key, member))
    }

    /// ZMSCORE.
    pub fn zmscore<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        members: &[M],
    ) -> Result<Vec<Option<f64>>> {
        let key = key.as_ref();
        let members: SmallVec<[&[u8]; 8]> = members.iter().map(AsRef::as_ref).collect();
        self.with_key(key, |db| db.zmscore(key, &members))
    }

    /// ZRANK.
    pub fn zrank(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<Option<usize>> {
        let (key, member) = (key.as_ref(), member.as_ref());
        self.with_key(key, |db| db.zrank(key, member, false))
    }

    /// ZREVRANK.
    pub fn zrevrank(
        &self,
        key: impl AsRef<[u8]>,
        member: impl AsRef<[u8]>,
    ) -> Result<Option<usize>> {
        let (key, member) = (key.as_ref(), member.as_ref());
        self.with_key(key, |db| db.zrank(key, member, true))
    }

    /// ZCOUNT.
    pub fn zcount(&self, key: impl AsRef<[u8]>, range: &ScoreRange) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zcount(key, range))
    }

    /// ZLEXCOUNT.
    pub fn zlexcount(&self, key: impl AsRef<[u8]>, range: &LexRange) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zlexcount(key, range))
    }

    /// ZRANGE (every form: by rank, score or lex, `REV`, `LIMIT`), with scores.
    ///
    /// ```
    /// use sketchstore::{Store, ZRange};
    /// let store = Store::new();
    /// store.zadd("z", &[(2.0, "b"), (1.0, "a")]).unwrap();
    /// let all = store.zrange("z", &ZRange::rank(0, -1)).unwrap();
    /// assert_eq!(all, vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.0)]);
    /// ```
    pub fn zrange(&self, key: impl AsRef<[u8]>, q: &ZRange) -> Result<Vec<ZEntry>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zrange(key, q))
    }

    /// ZRANGESTORE: how many entries were stored at `dst`.
    pub fn zrangestore(
        &self,
        dst: impl AsRef<[u8]>,
        src: impl AsRef<[u8]>,
        q: &ZRange,
    ) -> Result<usize> {
        let (dst, src) = (dst.as_ref(), src.as_ref());
        self.check_memory(true)?;
        self.with_db(Lock::Keys(&[dst, src]), |db| db.zrangestore(dst, src, q))
    }

    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE or ZREMRANGEBYLEX: how many were removed.
    pub fn zremrange(&self, key: impl AsRef<[u8]>, by: &ZRangeBy) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zremrange(key, by))
    }

    /// ZPOPMIN key count.
    pub fn zpopmin(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Vec<ZEntry>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zpop(key, false, count))
    }

    /// ZPOPMAX key count.
    pub fn zpopmax(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Vec<ZEntry>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zpop(key, true, count))
    }

    /// ZMPOP: pops up to `count` entries from the first non-empty of `keys`.
    pub fn zmpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        max: bool,
        count: usize,
    ) -> Result<Option<(Vec<u8>, Vec<ZEntry>)>> {
        let keys: SmallVec<[&[u8]; 4]> = keys.iter().map(AsRef::as_ref).collect();
        self.with_db(Lock::Keys(&keys), |db| db.zmpop(&keys, max, count))
    }

    /// BZPOPMIN (`max` false) / BZPOPMAX: the key, member and score popped, waiting up to
    /// `timeout` (`Duration::ZERO` waits forever); `None` on timeout.
    pub fn bzpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        max: bool,
        timeout: Duration,
    ) -> Result<Option<ZPopped>> {
        let got = self.bzmpop_inner(keys, max, None, timeout)?;
        Ok(got.and_then(|(k, mut v)| {
            let (m, s) = v.pop()?;
            Some((k, m, s))
        }))
    }

    /// BZMPOP: like [`Store::zmpop`], waiting up to `timeout` for one of `keys`.
    pub fn bzmpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        max: bool,
        count: usize,
        timeout: Duration,
    ) -> Result<Option<(Vec<u8>, Vec<ZEntry>)>> {
        self.bzmpop_inner(keys, max, Some(count), timeout)
    }

    fn bzmpop_inner<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        max: bool,
        count: Option<usize>,
        timeout: Duration,
    ) -> Result<Option<(Vec<u8>, Vec<ZEntry>)>> {
        let keys: SmallVec<[&[u8]; 4]> = keys.iter().map(AsRef::as_ref).collect();
        let kind = WaitKind::ZPop { max, count };
        Ok(
            match self.block_sync(&keys, kind, typed_timeout(timeout))? {
                Some((k, Taken::Entries(v))) => Some((k.into_vec(), v)),
                _ => None,
            },
        )
    }

    /// ZRANDMEMBER key count: a positive count gives distinct members (at most the set), a
    /// negative one that many draws, repeats allowed, as in Redis.
    pub fn zrandmember(&self, key: impl AsRef<[u8]>, count: i64) -> Result<Vec<ZEntry>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.zrandmember(key, count))
    }

    /// ZUNION / ZINTER / ZDIFF with weights (missing ones are 1; ignored by ZDIFF) and an
    /// aggregate: the entries, lowest score first.
    pub fn zsetop<K: AsRef<[u8]>>(
        &self,
        op: ZSetOp,
        keys: &[K],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<Vec<ZEntry>> {
        let keys: SmallVec<[&[u8]; 4]> = keys.iter().map(AsRef::as_ref).collect();
        self.with_db(Lock::Keys(&keys), |db| {
            let z = db.zsetop(op, &keys, weights, aggregate)?;
            Ok(z.iter().map(|(m, s)| (m.to_vec(), s)).collect())
        })
    }

    /// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE: the size stored at `dst`.
    pub fn zsetop_store<K: AsRef<[u8]>>(
        &self,
        dst: impl AsRef<[u8]>,
        op: ZSetOp,
        keys: &[K],
        weights: &[f64],
        aggregate: Aggregate,
    ) -> Result<usize> {
        let dst = dst.as_ref();
        let mut all: SmallVec<[&[u8]; 4]> = keys.iter().map(AsRef::as_ref).collect();
        let n = all.len();
        all.push(dst);
        self.check_memory(true)?;
        self.with_db(Lock::Keys(&all), |db| {
            db.zsetop_store(dst, op, &all[..n], weights, aggregate)
        })
    }

    /// ZINTERCARD.
    pub fn zintercard<K: AsRef<[u8]>>(&self, keys: &[K], limit: usize) -> Result<usize> {
        let keys: SmallVec<[&[u8]; 4]> = keys.iter().map(AsRef::as_ref).collect();
        self.with_db(Lock::Keys(&keys), |db| db.zintercard(&keys, limit))
    }
}
