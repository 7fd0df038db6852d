//! List semantics: LPUSH/RPUSH(X), LPOP/RPOP with count, LRANGE, LLEN, LINDEX, LSET, LREM,
//! LTRIM, LINSERT, LPOS, LMOVE, LMPOP, and the blocking BLPOP/BRPOP/BLMOVE/BLMPOP (their
//! waiting lives in [`super::blocking`]).
//!
//! A list is a `VecDeque` of byte strings. An empty list is never stored: the command that
//! removes the last element removes the key, as in Redis. Every modification marks the key
//! for WATCH; every push marks it ready for blocked clients.

use super::blocking::{elem, typed_timeout, Popped, WaitKind};
use super::value::Value;
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

/// An end of a list: Redis's `LEFT` (head) and `RIGHT` (tail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListEnd {
    /// The head (`LEFT`, what LPUSH and LPOP use).
    Left,
    /// The tail (`RIGHT`, what RPUSH and RPOP use).
    Right,
}

impl ListEnd {
    /// `LEFT` / `RIGHT` in any case; anything else is a syntax error.
    pub(crate) fn parse(word: &[u8]) -> Result<ListEnd> {
        if word.eq_ignore_ascii_case(b"left") {
            Ok(ListEnd::Left)
        } else if word.eq_ignore_ascii_case(b"right") {
            Ok(ListEnd::Right)
        } else {
            Err(Error::Syntax)
        }
    }
}

pub(crate) type List = VecDeque<Vec<u8>>;

/// What LMPOP and BLMPOP pop: the key and its elements, in popping order.
pub type MPopped = (Vec<u8>, Vec<Vec<u8>>);

/// LPOS's error for `RANK 0`.
pub(crate) const LPOS_RANK_ZERO: &str = "RANK can't be zero: use 1 to start from the first match, \
     2 from the second ... or use negative to start from the end of the list";

/// The inclusive range `start..=stop` of a list of `len` elements after Redis's index rules
/// (negative counts from the tail, clamped), or `None` when it is empty.
pub(crate) fn range_of(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let mut stop = if stop < 0 {
        len.saturating_add(stop)
    } else {
        stop
    };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

/// The position of `index` (negative from the tail) in a list of `len`, if inside.
pub(crate) fn index_of(len: usize, index: i64) -> Option<usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let i = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    (0..len).contains(&i).then_some(i as usize)
}

/// Pops up to `count` elements from `end`, in popping order.
pub(crate) fn pop_n(list: &mut List, end: ListEnd, count: usize) -> Vec<Vec<u8>> {
    let n = count.min(list.len());
    match end {
        ListEnd::Left => list.drain(..n).collect(),
        ListEnd::Right => {
            let at = list.len() - n;
            let mut v: Vec<Vec<u8>> = list.drain(at..).collect();
            v.reverse();
            v
        }
    }
}

/// LREM on a list: removes up to `count` elements equal to `value` (all when 0; from the tail
/// when negative). Returns how many it removed.
pub(crate) fn remove_matching(list: &mut List, count: i64, value: &[u8]) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
    };
    let mut removed = 0usize;
    if count >= 0 {
        list.retain(|e| {
            if removed < limit && e.as_slice() == value {
                removed += 1;
                false
            } else {
                true
            }
        });
    } else {
        let mut i = list.len();
        while i > 0 && removed < limit {
            i -= 1;
            if list[i] == value {
                list.remove(i);
                removed += 1;
            }
        }
    }
    removed
}

/// LTRIM on a list: keeps only `start..=stop`.
pub(crate) fn trim(list: &mut List, start: i64, stop: i64) {
    match range_of(list.len(), start, stop) {
        None => list.clear(),
        Some((s, e)) => {
            list.truncate(e + 1);
            list.drain(..s);
        }
    }
}

/// LPOS's options as Redis parses them: `rank` never 0 (negative searches from the tail;
/// `i64::MIN` behaves as Redis's wrapped negation does), `count` `None` without COUNT
/// (then at most one match) and 0 for all, `maxlen` 0 for no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LposOptions {
    /// RANK: which match to start from (1 the first, -1 the last).
    pub rank: i64,
    /// COUNT: how many matches to return (0 all); `None` for a single match.
    pub count: Option<u64>,
    /// MAXLEN: how many elements to compare at most (0 all).
    pub maxlen: u64,
}

impl Default for LposOptions {
    fn default() -> Self {
        LposOptions {
            rank: 1,
            count: None,
            maxlen: 0,
        }
    }
}

fn lpos_in(l: &List, element: &[u8], opts: LposOptions) -> Vec<usize> {
    let from_tail = opts.rank < 0;
    // Redis negates a negative rank in a C long: `i64::MIN` stays negative, so every
    // match qualifies and the COUNT test `matches - rank + 1 >= count` wraps negative.
    let rank = if from_tail {
        opts.rank.wrapping_neg()
    } else {
        opts.rank
    };
    let limit = if opts.maxlen == 0 {
        usize::MAX
    } else {
        usize::try_from(opts.maxlen).unwrap_or(usize::MAX)
    };
    let len = l.len();
    let mut out = Vec::new();
    let mut matches: i64 = 0;
    for idx in 0..len.min(limit) {
        let i = if from_tail { len - 1 - idx } else { idx };
        if l[i] != element {
            continue;
        }
        matches += 1;
        if matches >= rank {
            out.push(i);
            match opts.count {
                None => break,
                Some(0) => {}
                Some(c) => {
                    let got = matches.wrapping_sub(rank).wrapping_add(1);
                    if got >= 0 && got as u64 >= c {
                        break;
                    }
                }
            }
        }
    }
    out
}

/// The event a pop from `end` announces.
fn pop_event(end: ListEnd) -> &'static str {
    match end {
        ListEnd::Left => "lpop",
        ListEnd::Right => "rpop",
    }
}

/// The event a push to `end` announces.
fn push_event(end: ListEnd) -> &'static str {
    match end {
        ListEnd::Left => "lpush",
        ListEnd::Right => "rpush",
    }
}

fn push_end(list: &mut List, value: Vec<u8>, end: ListEnd) {
    match end {
        ListEnd::Left => list.push_front(value),
        ListEnd::Right => list.push_back(value),
    }
}

impl Db<'_> {
    /// The list at `key`: None when missing, WRONGTYPE for another type.
    fn list(&mut self, key: &[u8]) -> Result<Option<&mut List>> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::List(l)) => Ok(Some(l)),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// WRONGTYPE if `key` holds something other than a list.
    pub(crate) fn list_check(&mut self, key: &[u8]) -> Result<()> {
        self.list(key).map(|_| ())
    }

    /// The length of the list at `key`; 0 when missing or not a list.
    pub(crate) fn list_len_of(&mut self, key: &[u8]) -> usize {
        match self.list(key) {
            Ok(Some(l)) => l.len(),
            _ => 0,
        }
    }

    /// After a removal by the command that `event` names: announces it, then deletes the
    /// key if its list is now empty (announcing `del`), else marks it modified.
    /// `changes` is what Redis adds to its change count (the elements removed).
    fn after_removal(&mut self, key: &[u8], event: &'static str, changes: usize) {
        self.notify_n(notify::LIST, event, key, changes as u64);
        if self.list_len_of(key) == 0 {
            self.remove(key);
            self.notify_n(notify::GENERIC, "del", key, 0);
        } else {
            self.touch(key);
        }
    }

    /// Moves one element from the `from` end of the list at `src` to the `to` end of the
    /// list at `dst` (a list or missing, checked by the caller), in Redis's order of events:
    /// the push on `dst` (its creation first), the pop on `src`, then `src`'s deletion if
    /// it is empty. `None` when `src` has no element.
    pub(crate) fn list_move_one(
        &mut self,
        src: &[u8],
        dst: &[u8],
        from: ListEnd,
        to: ListEnd,
    ) -> Option<Vec<u8>> {
        let l = self.list(src).ok()??;
        let v = match from {
            ListEnd::Left => l.pop_front(),
            ListEnd::Right => l.pop_back(),
        }?;
        if src == dst {
            push_end(l, v.clone(), to);
            self.touch(src);
            self.signal_ready(src);
        } else {
            self.list_push_one(dst, v.clone(), to);
        }
        // One change for the whole move, as Redis counts it.
        self.notify(notify::LIST, push_event(to), dst);
        if src == dst {
            self.notify_n(notify::LIST, pop_event(from), src, 0);
        } else {
            self.after_removal(src, pop_event(from), 0);
        }
        Some(v)
    }

    /// Pops one element of a list known to be a list (blocked-client handoff).
    pub(crate) fn list_pop_one(&mut self, key: &[u8], end: ListEnd) -> Option<Vec<u8>> {
        let l = self.list(key).ok()??;
        let v = match end {
            ListEnd::Left => l.pop_front(),
            ListEnd::Right => l.pop_back(),
        };
        self.after_removal(key, pop_event(end), 1);
        v
    }

    /// Pops up to `count` elements of a list known to be a list; `None` when it is empty.
    pub(crate) fn list_pop_many(
        &mut self,
        key: &[u8],
        end: ListEnd,
        count: usize,
    ) -> Option<Vec<Vec<u8>>> {
        let l = self.list(key).ok()??;
        if l.is_empty() {
            return None;
        }
        let out = pop_n(l, end, count);
        self.after_removal(key, pop_event(end), out.len());
        Some(out)
    }

    /// LINSERT: the new length, -1 when `pivot` is not found, 0 when the key is missing.
    pub(crate) fn linsert(
        &mut self,
        key: &[u8],
        before: bool,
        pivot: &[u8],
        element: &[u8],
    ) -> Result<i64> {
        let Some(l) = self.list(key)? else {
            return Ok(0);
        };
        let Some(i) = l.iter().position(|e| e.as_slice() == pivot) else {
            return Ok(-1);
        };
        l.insert(if before { i } else { i + 1 }, element.to_vec());
        let len = l.len();
        self.touch(key);
        self.notify(notify::LIST, "linsert", key);
        Ok(i64::try_from(len).unwrap_or(i64::MAX))
    }

    /// LPOS: the indexes of the matches of `element` that the options select. `None` when
    /// the key is missing.
    pub(crate) fn lpos(
        &mut self,
        key: &[u8],
        element: &[u8],
        opts: LposOptions,
    ) -> Result<Option<Vec<usize>>> {
        let Some(l) = self.list(key)? else {
            return Ok(None);
        };
        Ok(Some(lpos_in(l, element, opts)))
    }

    /// LMPOP: the key and the elements popped from the first non-empty list of `keys`.
    pub(crate) fn lmpop(
        &mut self,
        keys: &[&[u8]],
        end: ListEnd,
        count: usize,
    ) -> Result<Option<MPopped>> {
        let kind = WaitKind::MPop { end, count };
        Ok(self
            .try_pop_now(keys, &kind)?
            .map(|(k, v)| (k.into_vec(), super::blocking::unframe(&v))))
    }

    /// Pushes one element to `key`, which is a list or missing (checked by the caller).
    pub(crate) fn list_push_one(&mut self, key: &[u8], value: Vec<u8>, end: ListEnd) {
        match self.list(key) {
            Ok(Some(l)) => {
                push_end(l, value, end);
                self.touch(key);
                self.signal_ready(key);
            }
            Ok(None) => {
                let mut l = List::new();
                l.push_back(value);
                self.insert(key, Value::List(Box::new(l)), None);
                self.signal_ready(key);
            }
            Err(_) => {}
        }
    }

    /// LPUSH / RPUSH, and with `only_existing` LPUSHX / RPUSHX: the length after the push.
    pub(crate) fn push(
        &mut self,
        key: &[u8],
        values: &[&[u8]],
        end: ListEnd,
        only_existing: bool,
    ) -> Result<usize> {
        let len = match self.list(key)? {
            Some(l) => {
                for v in values {
                    push_end(l, v.to_vec(), end);
                }
                let len = l.len();
                self.touch(key);
                len
            }
            None if only_existing => return Ok(0),
            None => {
                let mut l = List::with_capacity(values.len());
                for v in values {
                    push_end(&mut l, v.to_vec(), end);
                }
                let len = l.len();
                self.insert(key, Value::List(Box::new(l)), None);
                len
            }
        };
        self.notify_n(notify::LIST, push_event(end), key, values.len() as u64);
        self.signal_ready(key);
        Ok(len)
    }

    /// LPOP / RPOP without a count.
    pub(crate) fn pop(&mut self, key: &[u8], end: ListEnd) -> Result<Option<Vec<u8>>> {
        if self.list(key)?.is_none() {
            return Ok(None);
        }
        Ok(self.list_pop_one(key, end))
    }

    /// LPOP / RPOP with a count: `None` when the key is missing (whatever the count).
    pub(crate) fn pop_count(
        &mut self,
        key: &[u8],
        end: ListEnd,
        count: usize,
    ) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(l) = self.list(key)? else {
            return Ok(None);
        };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        let out = pop_n(l, end, count);
        self.after_removal(key, pop_event(end), out.len());
        Ok(Some(out))
    }

    /// LRANGE.
    pub(crate) fn lrange(&mut self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        let Some(l) = self.list(key)? else {
            return Ok(Vec::new());
        };
        Ok(match range_of(l.len(), start, stop) {
            None => Vec::new(),
            Some((s, e)) => l.range(s..=e).cloned().collect(),
        })
    }

    /// LLEN.
    pub(crate) fn llen(&mut self, key: &[u8]) -> Result<usize> {
        Ok(self.list(key)?.map_or(0, |l| l.len()))
    }

    /// LINDEX.
    pub(crate) fn lindex(&mut self, key: &[u8], index: i64) -> Result<Option<Vec<u8>>> {
        let Some(l) = self.list(key)? else {
            return Ok(None);
        };
        Ok(index_of(l.len(), index).map(|i| l[i].clone()))
    }

    /// LSET.
    pub(crate) fn lset(&mut self, key: &[u8], index: i64, value: &[u8]) -> Result<()> {
        let l = self.list(key)?.ok_or(Error::NoSuchKey)?;
        let i = index_of(l.len(), index).ok_or_else(|| Error::err("index out of range"))?;
        l[i] = value.to_vec();
        self.touch(key);
        self.notify(notify::LIST, "lset", key);
        Ok(())
    }

    /// LREM: how many elements were removed.
    pub(crate) fn lrem(&mut self, key: &[u8], count: i64, value: &[u8]) -> Result<usize> {
        let Some(l) = self.list(key)? else {
            return Ok(0);
        };
        let removed = remove_matching(l, count, value);
        if removed > 0 {
            self.after_removal(key, "lrem", removed);
        }
        Ok(removed)
    }

    /// LTRIM.
    pub(crate) fn ltrim(&mut self, key: &[u8], start: i64, stop: i64) -> Result<()> {
        let Some(l) = self.list(key)? else {
            return Ok(());
        };
        let before = l.len();
        trim(l, start, stop);
        let removed = before - l.len();
        self.after_removal(key, "ltrim", removed);
        Ok(())
    }

    /// LMOVE: the element moved, `None` when the source is missing.
    pub(crate) fn lmove(
        &mut self,
        src: &[u8],
        dst: &[u8],
        from: ListEnd,
        to: ListEnd,
    ) -> Result<Option<Vec<u8>>> {
        if self.list(src)?.is_none() {
            return Ok(None);
        }
        self.list_check(dst)?;
        Ok(self.list_move_one(src, dst, from, to))
    }

    /// The non-blocking part of BLPOP/BRPOP/BLMOVE: the first key (in order) holding a
    /// non-empty list is served; a non-list key met first is WRONGTYPE. BLMOVE looks at its
    /// one source only.
    pub(crate) fn try_pop_now(
        &mut self,
        keys: &[&[u8]],
        kind: &WaitKind,
    ) -> Result<Option<Popped>> {
        match kind {
            WaitKind::Pop(end) => {
                for k in keys {
                    if self.list(k)?.is_some_and(|l| !l.is_empty()) {
                        return Ok(self.list_pop_one(k, *end).map(|v| ((*k).into(), v)));
                    }
                }
                Ok(None)
            }
            WaitKind::MPop { end, count } => {
                for k in keys {
                    if self.list(k)?.is_some_and(|l| !l.is_empty()) {
                        return Ok(self
                            .list_pop_many(k, *end, *count)
                            .map(|items| ((*k).into(), super::blocking::frame(&items))));
                    }
                }
                Ok(None)
            }
            WaitKind::ZPop { .. } => Ok(None),
            WaitKind::Move { dst, from, to } => {
                let src = keys[0];
                Ok(self
                    .lmove(src, dst, *from, *to)?
                    .map(|v| (Box::<[u8]>::from(src), v)))
            }
        }
    }
}

fn refs<V: AsRef<[u8]>>(values: &[V]) -> SmallVec<[&[u8]; 8]> {
    values.iter().map(AsRef::as_ref).collect()
}

fn pair(r: Option<Popped>) -> Option<(Vec<u8>, Vec<u8>)> {
    r.map(|(k, v)| (k.into_vec(), v))
}

impl Store {
    fn push_typed<V: AsRef<[u8]>>(
        &self,
        key: &[u8],
        values: &[V],
        end: ListEnd,
        xx: bool,
        name: &str,
    ) -> Result<usize> {
        if values.is_empty() {
            return Err(Error::WrongArity(name.to_owned()));
        }
        let values = refs(values);
        self.with_key(key, |db| db.push(key, &values, end, xx))
    }

    /// `LPUSH key value [value ...]`: pushes each value to the head in turn; the new length.
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// assert_eq!(store.lpush("l", &["a", "b"]).unwrap(), 2);
    /// assert_eq!(store.lrange("l", 0, -1).unwrap(), vec![b"b".to_vec(), b"a".to_vec()]);
    /// ```
    pub fn lpush<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<usize> {
        self.check_memory(true)?;
        self.push_typed(key.as_ref(), values, ListEnd::Left, false, "lpush")
    }

    /// `RPUSH key value [value ...]`: the new length.
    pub fn rpush<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<usize> {
        self.check_memory(true)?;
        self.push_typed(key.as_ref(), values, ListEnd::Right, false, "rpush")
    }

    /// `LPUSHX`: like LPUSH but only onto an existing list; 0 when the key is missing.
    pub fn lpushx<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<usize> {
        self.check_memory(true)?;
        self.push_typed(key.as_ref(), values, ListEnd::Left, true, "lpushx")
    }

    /// `RPUSHX`: like RPUSH but only onto an existing list; 0 when the key is missing.
    pub fn rpushx<V: AsRef<[u8]>>(&self, key: impl AsRef<[u8]>, values: &[V]) -> Result<usize> {
        self.check_memory(true)?;
        self.push_typed(key.as_ref(), values, ListEnd::Right, true, "rpushx")
    }

    /// `LPOP key`.
    pub fn lpop(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.pop(key, ListEnd::Left))
    }

    /// `RPOP key`.
    pub fn rpop(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.pop(key, ListEnd::Right))
    }

    /// `LPOP key count`: up to `count` elements; `None` when the key is missing.
    pub fn lpop_count(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Option<Vec<Vec<u8>>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.pop_count(key, ListEnd::Left, count))
    }

    /// `RPOP key count`: up to `count` elements, tail first; `None` when the key is missing.
    pub fn rpop_count(&self, key: impl AsRef<[u8]>, count: usize) -> Result<Option<Vec<Vec<u8>>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.pop_count(key, ListEnd::Right, count))
    }

    /// `LRANGE key start stop` (inclusive; negative indexes count from the tail).
    pub fn lrange(&self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<Vec<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.lrange(key, start, stop))
    }

    /// `LLEN key`.
    pub fn llen(&self, key: impl AsRef<[u8]>) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.llen(key))
    }

    /// `LINDEX key index`.
    pub fn lindex(&self, key: impl AsRef<[u8]>, index: i64) -> Result<Option<Vec<u8>>> {
        let key = key.as_ref();
        self.with_key(key, |db| db.lindex(key, index))
    }

    /// `LSET key index value`: `ERR no such key`, `ERR index out of range`.
    pub fn lset(&self, key: impl AsRef<[u8]>, index: i64, value: impl AsRef<[u8]>) -> Result<()> {
        self.check_memory(true)?;
        let key = key.as_ref();
        self.with_key(key, |db| db.lset(key, index, value.as_ref()))
    }

    /// `LREM key count value`: how many were removed.
    pub fn lrem(
        &self,
        key: impl AsRef<[u8]>,
        count: i64,
        value: impl AsRef<[u8]>,
    ) -> Result<usize> {
        let key = key.as_ref();
        self.with_key(key, |db| db.lrem(key, count, value.as_ref()))
    }

    /// `LTRIM key start stop`.
    pub fn ltrim(&self, key: impl AsRef<[u8]>, start: i64, stop: i64) -> Result<()> {
        let key = key.as_ref();
        self.with_key(key, |db| db.ltrim(key, start, stop))
    }

    /// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: the element moved.
    pub fn lmove(
        &self,
        src: impl AsRef<[u8]>,
        dst: impl AsRef<[u8]>,
        from: ListEnd,
        to: ListEnd,
    ) -> Result<Option<Vec<u8>>> {
        self.check_memory(true)?;
        let (src, dst) = (src.as_ref(), dst.as_ref());
        self.with_db(Lock::Keys(&[src, dst]), |db| db.lmove(src, dst, from, to))
    }

    /// `LINSERT key BEFORE|AFTER pivot element`: the new length, -1 when `pivot` is not in
    /// the list, 0 when the key is missing.
    pub fn linsert_before(
        &self,
        key: impl AsRef<[u8]>,
        pivot: impl AsRef<[u8]>,
        element: impl AsRef<[u8]>,
    ) -> Result<i64> {
        self.linsert_typed(key.as_ref(), true, pivot.as_ref(), element.as_ref())
    }

    /// `LINSERT key AFTER pivot element`, as [`Store::linsert_before`].
    pub fn linsert_after(
        &self,
        key: impl AsRef<[u8]>,
        pivot: impl AsRef<[u8]>,
        element: impl AsRef<[u8]>,
    ) -> Result<i64> {
        self.linsert_typed(key.as_ref(), false, pivot.as_ref(), element.as_ref())
    }

    fn linsert_typed(&self, key: &[u8], before: bool, pivot: &[u8], element: &[u8]) -> Result<i64> {
        self.check_memory(true)?;
        self.with_key(key, |db| db.linsert(key, before, pivot, element))
    }

    /// `LPOS key element [RANK rank] [COUNT count] [MAXLEN len]`: the indexes of the
    /// selected matches (at most one without COUNT); empty when the key is missing.
    ///
    /// ```
    /// use sketchstore::{LposOptions, Store};
    /// let store = Store::new();
    /// store.rpush("l", &["a", "b", "a"]).unwrap();
    /// let all = LposOptions { count: Some(0), ..LposOptions::default() };
    /// assert_eq!(store.lpos("l", "a", all).unwrap(), vec![0, 2]);
    /// ```
    pub fn lpos(
        &self,
        key: impl AsRef<[u8]>,
        element: impl AsRef<[u8]>,
        opts: LposOptions,
    ) -> Result<Vec<usize>> {
        if opts.rank == 0 {
            return Err(Error::err(LPOS_RANK_ZERO));
        }
        let key = key.as_ref();
        Ok(self
            .with_key(key, |db| db.lpos(key, element.as_ref(), opts))?
            .unwrap_or_default())
    }

    /// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: the first non-empty list's
    /// key and up to `count` elements popped from `end`.
    pub fn lmpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        end: ListEnd,
        count: usize,
    ) -> Result<Option<MPopped>> {
        if keys.is_empty() {
            return Err(Error::err("numkeys should be greater than 0"));
        }
        if count == 0 {
            return Err(Error::err("count should be greater than 0"));
        }
        let keys = refs(keys);
        self.with_db(Lock::Keys(&keys), |db| db.lmpop(&keys, end, count))
    }

    /// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`: LMPOP, waiting up
    /// to `timeout` for a list to have elements (`Duration::ZERO` waits forever).
    pub fn blmpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        end: ListEnd,
        count: usize,
        timeout: Duration,
    ) -> Result<Option<MPopped>> {
        if keys.is_empty() {
            return Err(Error::err("numkeys should be greater than 0"));
        }
        if count == 0 {
            return Err(Error::err("count should be greater than 0"));
        }
        let keys = refs(keys);
        self.block_sync(&keys, WaitKind::MPop { end, count }, typed_timeout(timeout))
            .map(|r| r.map(|(k, v)| (k.into_vec(), v.frames())))
    }

    /// The async form of [`Store::blmpop`]: waits without blocking an executor thread.
    /// Dropping the future cancels the wait; elements it was handed but never returned go
    /// back to their list, in their order.
    pub fn blmpop_async<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        end: ListEnd,
        count: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<MPopped>>> + Send + 'static {
        let invalid = if keys.is_empty() {
            Some(Error::err("numkeys should be greater than 0"))
        } else if count == 0 {
            Some(Error::err("count should be greater than 0"))
        } else {
            None
        };
        let keys: Vec<Box<[u8]>> = keys.iter().map(|k| k.as_ref().into()).collect();
        let fut = self.block_async(keys, WaitKind::MPop { end, count }, typed_timeout(timeout));
        async move {
            if let Some(e) = invalid {
                return Err(e);
            }
            fut.await
                .map(|r| r.map(|(k, v)| (k.into_vec(), v.frames())))
        }
    }

    /// `BLPOP key [key ...] timeout`: the key and element popped from the head of the first
    /// non-empty list, waiting up to `timeout` for one (`Duration::ZERO` waits forever, as
    /// timeout 0 does in Redis); `None` on timeout. Blocks the calling thread.
    pub fn blpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        timeout: Duration,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.bpop_typed(keys, ListEnd::Left, timeout, "blpop")
    }

    /// `BRPOP`: like [`Store::blpop`], popping from the tail.
    pub fn brpop<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        timeout: Duration,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.bpop_typed(keys, ListEnd::Right, timeout, "brpop")
    }

    fn bpop_typed<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        end: ListEnd,
        timeout: Duration,
        name: &str,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if keys.is_empty() {
            return Err(Error::WrongArity(name.to_owned()));
        }
        let keys = refs(keys);
        elem(self.block_sync(&keys, WaitKind::Pop(end), typed_timeout(timeout))).map(pair)
    }

    /// The async form of [`Store::blpop`]: waits without blocking an executor thread.
    /// Dropping the future cancels the wait; an element it was handed but never returned goes
    /// back to the head of its list.
    pub fn blpop_async<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<(Vec<u8>, Vec<u8>)>>> + Send + 'static {
        self.bpop_async(keys, ListEnd::Left, timeout, "blpop")
    }

    /// The async form of [`Store::brpop`].
    pub fn brpop_async<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<(Vec<u8>, Vec<u8>)>>> + Send + 'static {
        self.bpop_async(keys, ListEnd::Right, timeout, "brpop")
    }

    fn bpop_async<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
        end: ListEnd,
        timeout: Duration,
        name: &str,
    ) -> impl Future<Output = Result<Option<(Vec<u8>, Vec<u8>)>>> + Send + 'static {
        let arity = keys.is_empty().then(|| Error::WrongArity(name.to_owned()));
        let keys: Vec<Box<[u8]>> = keys.iter().map(|k| k.as_ref().into()).collect();
        let fut = self.block_async(keys, WaitKind::Pop(end), typed_timeout(timeout));
        async move {
            if let Some(e) = arity {
                return Err(e);
            }
            elem(fut.await).map(pair)
        }
    }

    /// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`: LMOVE, waiting up to
    /// `timeout` for the source to have an element (`Duration::ZERO` waits forever).
    pub fn blmove(
        &self,
        src: impl AsRef<[u8]>,
        dst: impl AsRef<[u8]>,
        from: ListEnd,
        to: ListEnd,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>> {
        let kind = WaitKind::Move {
            dst: dst.as_ref().into(),
            from,
            to,
        };
        elem(self.block_sync(&[src.as_ref()], kind, typed_timeout(timeout)))
            .map(|r| r.map(|(_, v)| v))
    }

    /// The async form of [`Store::blmove`].
    pub fn blmove_async(
        &self,
        src: impl AsRef<[u8]>,
        dst: impl AsRef<[u8]>,
        from: ListEnd,
        to: ListEnd,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send + 'static {
        let kind = WaitKind::Move {
            dst: dst.as_ref().into(),
            from,
            to,
        };
        let fut = self.block_async(vec![src.as_ref().into()], kind, typed_timeout(timeout));
        async move { elem(fut.await).map(|r| r.map(|(_, v)| v)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn ranges_follow_redis_index_rules() {
        assert_eq!(range_of(5, 0, -1), Some((0, 4)));
        assert_eq!(range_of(5, -2, -1), Some((3, 4)));
        assert_eq!(range_of(5, -100, 100), Some((0, 4)));
        assert_eq!(range_of(5, 3, 1), None);
        assert_eq!(range_of(5, 5, 10), None);
        assert_eq!(range_of(5, 0, -6), None);
        assert_eq!(range_of(0, 0, -1), None);
        assert_eq!(range_of(5, i64::MIN, i64::MAX), Some((0, 4)));
    }

    #[test]
    fn indexes() {
        assert_eq!(index_of(3, 0), Some(0));
        assert_eq!(index_of(3, -1), Some(2));
        assert_eq!(index_of(3, 3), None);
        assert_eq!(index_of(3, -4), None);
        assert_eq!(index_of(3, i64::MIN), None);
    }

    #[test]
    fn popping_several() {
        let mut l = list(&["a", "b", "c", "d"]);
        assert_eq!(
            pop_n(&mut l, ListEnd::Right, 3),
            list(&["d", "c", "b"]).into_iter().collect::<Vec<_>>()
        );
        assert_eq!(pop_n(&mut l, ListEnd::Left, 5), vec![b"a".to_vec()]);
        assert!(l.is_empty());
    }

    #[test]
    fn lrem_directions() {
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(remove_matching(&mut l, -2, b"x"), 2);
        assert_eq!(l, list(&["x", "a", "b"]));
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(remove_matching(&mut l, 1, b"x"), 1);
        assert_eq!(l, list(&["a", "x", "b", "x"]));
        assert_eq!(remove_matching(&mut l, 0, b"x"), 2);
        assert_eq!(l, list(&["a", "b"]));
        assert_eq!(remove_matching(&mut l, i64::MIN, b"a"), 1);
    }

    #[test]
    fn trimming() {
        let mut l = list(&["a", "b", "c", "d"]);
        trim(&mut l, 1, -2);
        assert_eq!(l, list(&["b", "c"]));
        trim(&mut l, 5, 10);
        assert!(l.is_empty());
    }

    #[test]
    fn list_ends_parse_in_any_case() {
        assert_eq!(ListEnd::parse(b"LeFt").unwrap(), ListEnd::Left);
        assert_eq!(ListEnd::parse(b"RIGHT").unwrap(), ListEnd::Right);
        assert_eq!(ListEnd::parse(b"up").unwrap_err(), Error::Syntax);
    }
}
