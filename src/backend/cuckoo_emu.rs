//! RedisBloom's cuckoo filter emulated over plain Redis data, for servers without the
//! RedisBloom module: same fingerprints, buckets, kick-out walk, growth and deletion-driven
//! compaction, hence the same answers (false positives included) as RedisBloom and as the
//! embedded store (`crate::types::cuckoo`).
//!
//! # Design
//!
//! - The client hashes: for each item it computes RedisBloom's 64-bit MurmurHash64A once and
//!   sends the fingerprint `h % 255 + 1` and the hash's low 32 bits. Every sub-filter has a
//!   power-of-two bucket count `n <= 2^29` (the first is rounded up to one, expansion is
//!   rounded up to one, and [`MAX_DATA_BYTES`] bounds the product), so the bucket
//!   `h % n` is `(h mod 2^32) % n` and the alternate bucket `(i ^ fp * 0x5bd1e995) % n` is
//!   `i XOR ((fp * 0x5bd1e995) % n)`: integers under 2^53 and a 32-bit XOR, which Redis's
//!   Lua (doubles and its `bit` library) computes exactly. The script can therefore follow
//!   RedisBloom's kick-out walk, whose path depends on the fingerprints it meets, and the
//!   compaction, which re-derives buckets from a bucket number and a fingerprint.
//! - One script (all operations, chosen by its first argument) does a whole command
//!   atomically on the server: one `EVALSHA` (`EVAL` after a `NOSCRIPT`) per command,
//!   batches included, so concurrent clients never see a half-applied insert or walk. The
//!   filter's shape is read by the script itself: no client-side cache to go stale.
//! - Random numbers: RedisBloom 2.8's kick-out walk draws none. It displaces slot 0 of the
//!   first bucket, then slot 1, 2, ... (modulo the bucket size) of each next bucket, and
//!   walks the same path back when the walk fails; the script does exactly that, so the
//!   emulation needs no seed and matches RedisBloom slot for slot.
//! - Sizes and budgets are checked by the client before anything is created
//!   ([`MAX_DATA_BYTES`], as the embedded store), and by the script before a sub-filter is
//!   added.
//!
//! # Representation
//!
//! ```text
//!  <key>              hash    sketchstore:cuckoo=1 buckets bucketsize maxiterations
//!                             expansion filters items deletes
//!  <prefix><i>        string  sub-filter i: buckets * expansion^i buckets of bucketsize
//!                             one-byte slots, RedisBloom's bytes exactly (0 = empty,
//!                             1..=255 a fingerprint), bucket b at byte b * bucketsize
//! ```
//!
//! `<prefix>` is `<key>:cf:` behind a hash tag of `<key>`'s slot when `<key>` has none, as
//! for the emulated Bloom filter (`super::bloom_emu`): the sub-filters live in `<key>`'s
//! cluster slot. `TYPE <key>` is `hash`, not `MBbloomCF`. `DEL <key>` removes the metadata
//! only; the next filter created under the key deletes the old sub-filters first.
//!
//! # Worked example
//!
//! `CF.RESERVE c 10` stores `buckets 8 bucketsize 2 filters 1` and an all-zero 16-byte
//! `{<n>}c:cf:0`. `CF.ADD c a`: the client sends fingerprint `0xc4` (196) and the low half
//! of `0x071717d2d36b6b11`; the script finds bucket `0xd36b6b11 % 8 = 1` with slot 0 free
//! and writes byte 2: the string is `00 00 c4 00 ...`, RedisBloom's `CF.SCANDUMP` bytes.
//!
//! # References
//!
//! `crate::types::cuckoo` (RedisBloom 2.8 `src/cuckoo.c`: layout, walk, compaction) and
//! `src/rebloom.c` (`CF.*` commands and their errors).

use super::bloom_emu::{sibling_prefix, Exec};
use super::lua::{int_at, u64_at, LuaScript};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::bloom::{ITEM_EXISTS, NOT_FOUND};
use crate::store::cuckoo::{
    check_insert_capacity, check_reserve, CfInsertOptions, CfReserveOptions, BAD_CAPACITY,
    DEL_NOT_FOUND,
};
use crate::types::cuckoo::{
    self, CuckooError, CuckooInfo, InsertOutcome, DEFAULT_BUCKET_SIZE, DEFAULT_CAPACITY,
    DEFAULT_EXPANSION, DEFAULT_MAX_ITERATIONS, MAX_DATA_BYTES,
};

/// `CF.INFO Size` counts RedisBloom's filter struct and one record per sub-filter besides
/// the slots (the embedded filter's constants).
const INFO_FILTER_OVERHEAD: u64 = 40;
const INFO_SUBFILTER_OVERHEAD: u64 = 16;

/// `KEYS[1]` the metadata hash, `KEYS[2]` sub-filter 0 (for routing). ARGV: op, sub-filter
/// prefix, create code (`0` no, `1` yes, `2` creation fails), buckets, bucket size, max
/// iterations, expansion (the shape to create), nx, then `hash mod 2^32`, fingerprint per
/// item. Replies `{0, results...}`, `{2}` (WRONGTYPE), `{3}` (not found), `{4}` (item
/// exists), `{5}` (creation failed), `{6}` (maximum expansions).
const SCRIPT: &str = r#"
local meta = KEYS[1]
local op = ARGV[1]
local prefix = ARGV[2]
local t = redis.call('TYPE', meta)['ok']
if t ~= 'none' and (t ~= 'hash' or redis.call('HEXISTS', meta, 'sketchstore:cuckoo') == 0) then
  return {2}
end
local exists = t ~= 'none'
local BUDGET = 536870912
local M = 1540483477
local n0, bs, mi, ex, nf, items, deletes
local function load()
  local m = redis.call('HMGET', meta, 'buckets', 'bucketsize', 'maxiterations', 'expansion',
    'filters', 'items', 'deletes')
  n0 = tonumber(m[1]); bs = tonumber(m[2]); mi = tonumber(m[3]); ex = tonumber(m[4])
  nf = tonumber(m[5]); items = tonumber(m[6]); deletes = tonumber(m[7])
end
local function save()
  redis.call('HSET', meta, 'filters', string.format('%.0f', nf),
    'items', string.format('%.0f', items), 'deletes', string.format('%.0f', deletes))
end
local function nb(i) if i == 0 then return n0 end return n0 * ex ^ i end
local function sub(i) return prefix .. i end
local function bucket(i, b)
  return redis.call('GETRANGE', sub(i), string.format('%.0f', b * bs),
    string.format('%.0f', b * bs + bs - 1))
end
local function setslot(key, at, fp)
  redis.call('SETRANGE', key, string.format('%.0f', at), string.char(fp))
end
-- bucket counts are powers of two: (i ^ fp * M) % n == i XOR ((fp * M) % n) for i < n
local function alt(fp, b, n) return bit.bxor(b, (fp * M) % n) end
local function idx(i, hlo, fp)
  local n = nb(i)
  local b1 = hlo % n
  return b1, alt(fp, b1, n)
end
local function find(s, v) return string.find(s, string.char(v), 1, true) end
local function contains(hlo, fp)
  for i = 0, nf - 1 do
    local b1, b2 = idx(i, hlo, fp)
    if find(bucket(i, b1), fp) or find(bucket(i, b2), fp) then return true end
  end
  return false
end
local function put(i, b1, b2, fp)
  for _, b in ipairs({b1, b2}) do
    local j = find(bucket(i, b), 0)
    if j then setslot(sub(i), b * bs + j - 1, fp); return true end
  end
  return false
end
local function swap(key, at, fp)
  local old = string.byte(redis.call('GETRANGE', key, string.format('%.0f', at),
    string.format('%.0f', at)))
  setslot(key, at, fp)
  return old or 0
end
-- RedisBloom's walk: victim slot 0, 1, 2, ... modulo the bucket size, rolled back on failure
local function kick(hlo, fp)
  local c = nf - 1
  local n = nb(c)
  local key = sub(c)
  local victim = 0
  local ii = hlo % n
  for _ = 1, mi do
    fp = swap(key, ii * bs + victim, fp)
    ii = alt(fp, ii, n)
    local j = find(bucket(c, ii), 0)
    if j then setslot(key, ii * bs + j - 1, fp); return true end
    victim = (victim + 1) % bs
  end
  for _ = 1, mi do
    victim = (victim + bs - 1) % bs
    ii = alt(fp, ii, n)
    fp = swap(key, ii * bs + victim, fp)
  end
  return false
end
local function grow()
  if nf >= 65535 then return false end
  local n = nb(nf)
  local total = 0
  for i = 0, nf - 1 do total = total + nb(i) * bs end
  if n < 1 or total + n * bs > BUDGET then return false end
  redis.call('DEL', sub(nf))
  redis.call('SETRANGE', sub(nf), string.format('%.0f', n * bs - 1), '\0')
  nf = nf + 1
  return true
end
local function insert(hlo, fp, nx)
  if nx and contains(hlo, fp) then return 0 end
  while true do
    for i = nf - 1, 0, -1 do
      local b1, b2 = idx(i, hlo, fp)
      if put(i, b1, b2, fp) then items = items + 1; return 1 end
    end
    if kick(hlo, fp) then items = items + 1; return 1 end
    if ex == 0 then return -1 end
    if not grow() then return -2 end
  end
end
local function count(hlo, fp)
  local c = 0
  for i = 0, nf - 1 do
    local b1, b2 = idx(i, hlo, fp)
    for _, b in ipairs({b1, b2}) do
      local s = bucket(i, b)
      for j = 1, #s do if string.byte(s, j) == fp then c = c + 1 end end
    end
  end
  return c
end
local function delete(hlo, fp)
  for i = nf - 1, 0, -1 do
    local b1, b2 = idx(i, hlo, fp)
    for _, b in ipairs({b1, b2}) do
      local j = find(bucket(i, b), fp)
      if j then setslot(sub(i), b * bs + j - 1, 0); return true end
    end
  end
  return false
end
-- moves sub-filter ix's fingerprints into the oldest sub-filter with room; older
-- sub-filters have no more buckets, so a bucket number and a fingerprint give both buckets
local function compact_single(ix)
  local key = sub(ix)
  local data = redis.call('GET', key) or ''
  local all = true
  local pos = 1
  while true do
    local p = string.find(data, '[^%z]', pos)
    if not p then break end
    local at = p - 1
    local fp = string.byte(data, p)
    local b = math.floor(at / bs)
    local moved = false
    for i = 0, ix - 1 do
      local m = nb(i)
      local b1 = b % m
      if put(i, b1, alt(fp, b1, m), fp) then moved = true; break end
    end
    if moved then setslot(key, at, 0) else all = false end
    pos = p + 1
  end
  if all and ix + 1 == nf then
    redis.call('DEL', key)
    nf = nf - 1
  end
  return all
end
local function create()
  local i = 0
  while redis.call('EXISTS', sub(i)) == 1 do
    redis.call('DEL', sub(i))
    i = i + 1
  end
  redis.call('HSET', meta, 'sketchstore:cuckoo', '1', 'buckets', ARGV[4], 'bucketsize', ARGV[5],
    'maxiterations', ARGV[6], 'expansion', ARGV[7], 'filters', '1', 'items', '0', 'deletes', '0')
  load()
  redis.call('SETRANGE', sub(0), string.format('%.0f', n0 * bs - 1), '\0')
end
local first = 9
if op == 'reserve' then
  if exists then return {4} end
  if ARGV[3] ~= '1' then return {5} end
  create()
  return {0}
end
if op == 'add' then
  if exists then
    load()
  elseif ARGV[3] == '1' then
    create()
  elseif ARGV[3] == '2' then
    return {5}
  else
    return {3}
  end
  if nf >= 32 then return {6} end
  local nx = ARGV[8] == '1'
  local out = {0}
  for k = first, #ARGV, 2 do
    out[#out + 1] = insert(tonumber(ARGV[k]), tonumber(ARGV[k + 1]), nx)
  end
  save()
  return out
end
if not exists then return {3} end
load()
if op == 'info' then
  return {0, n0, bs, mi, ex, nf, string.format('%.0f', items), string.format('%.0f', deletes)}
end
if op == 'exists' or op == 'count' then
  local out = {0}
  for k = first, #ARGV, 2 do
    local hlo, fp = tonumber(ARGV[k]), tonumber(ARGV[k + 1])
    if op == 'count' then
      out[#out + 1] = count(hlo, fp)
    elseif contains(hlo, fp) then
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
  return out
end
if op == 'del' then
  local r = 0
  if delete(tonumber(ARGV[first]), tonumber(ARGV[first + 1])) then
    r = 1
    items = items - 1
    deletes = deletes + 1
    if nf > 1 and deletes > items * 0.10 then
      local ix = nf
      while ix > 1 do
        if not compact_single(ix - 1) then break end
        ix = ix - 1
      end
      deletes = 0
    end
    save()
  end
  return {0, r}
end
return redis.error_reply('ERR unknown cuckoo emulation op')
"#;

/// RedisBloom's round-up to a power of two: 0 stays 0.
fn next_pow2(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        n.checked_next_power_of_two().unwrap_or(0)
    }
}

/// The shape of a filter to create, as RedisBloom sizes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    buckets: u64,
    bucket_size: u16,
    max_iterations: u16,
    expansion: u16,
}

impl Shape {
    /// `None` when RedisBloom (and the embedded store) would fail to create the filter.
    fn new(capacity: u64, bucket_size: u16, max_iterations: u16, expansion: u16) -> Option<Shape> {
        if bucket_size == 0 {
            return None;
        }
        let buckets = match next_pow2(capacity / u64::from(bucket_size)) {
            0 => 1,
            n => n,
        };
        let expansion = u16::try_from(next_pow2(u64::from(expansion))).ok()?;
        let bytes = buckets.checked_mul(u64::from(bucket_size))?;
        (bytes <= MAX_DATA_BYTES).then_some(Shape {
            buckets,
            bucket_size,
            max_iterations,
            expansion,
        })
    }

    fn autocreate(capacity: i64) -> Option<Shape> {
        Shape::new(
            u64::try_from(capacity).ok()?,
            DEFAULT_BUCKET_SIZE,
            DEFAULT_MAX_ITERATIONS,
            DEFAULT_EXPANSION,
        )
    }
}

/// What an operation does when the filter is missing.
#[derive(Clone, Copy)]
enum Create {
    No,
    With(Shape),
    /// The filter would be created but cannot be.
    Fails,
}

/// The script's failure codes, mapped by the caller to the command's own texts.
enum Failure {
    NotFound,
    CreateFailed,
}

/// The emulation's state in a backend: the script and its SHA-1.
pub(crate) struct CuckooEmulation {
    script: LuaScript,
}

impl Default for CuckooEmulation {
    fn default() -> CuckooEmulation {
        CuckooEmulation {
            script: LuaScript::new(SCRIPT, "cuckoo"),
        }
    }
}

/// Sends fingerprint and low hash half per item (see the module documentation).
fn push_items(args: &mut Vec<Vec<u8>>, items: &[&[u8]]) {
    for item in items {
        let h = cuckoo::hash(item);
        args.push((h & 0xffff_ffff).to_string().into_bytes());
        args.push((h % 255 + 1).to_string().into_bytes());
    }
}

impl CuckooEmulation {
    /// Runs `op`; the reply after its status code, or the failure the caller maps.
    fn run(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        op: &str,
        create: Create,
        nx: bool,
        items: &[&[u8]],
    ) -> Result<std::result::Result<Vec<Reply>, Failure>> {
        let prefix = sibling_prefix(key, b":cf:");
        let mut sub0 = prefix.clone();
        sub0.push(b'0');
        let keys = [key.to_vec(), sub0];
        let mut args: Vec<Vec<u8>> = Vec::with_capacity(8 + 2 * items.len());
        args.push(op.as_bytes().to_vec());
        args.push(prefix);
        let shape = match create {
            Create::With(s) => {
                args.push(b"1".to_vec());
                Some(s)
            }
            Create::No => {
                args.push(b"0".to_vec());
                None
            }
            Create::Fails => {
                args.push(b"2".to_vec());
                None
            }
        };
        match shape {
            Some(s) => {
                args.push(s.buckets.to_string().into_bytes());
                args.push(s.bucket_size.to_string().into_bytes());
                args.push(s.max_iterations.to_string().into_bytes());
                args.push(s.expansion.to_string().into_bytes());
            }
            None => args.extend((0..4).map(|_| b"0".to_vec())),
        }
        args.push(if nx { b"1".to_vec() } else { b"0".to_vec() });
        push_items(&mut args, items);
        let mut reply = self.script.eval(exec, &keys, &args)?;
        match int_at(&reply, 0) {
            Some(0) => {
                reply.remove(0);
                Ok(Ok(reply))
            }
            Some(2) => Err(Error::WrongType),
            Some(3) => Ok(Err(Failure::NotFound)),
            Some(4) => Err(Error::other(ITEM_EXISTS)),
            Some(5) => Ok(Err(Failure::CreateFailed)),
            Some(6) => Err(CuckooError::MaxExpansions.into()),
            _ => Err(Error::Io(format!(
                "malformed cuckoo script reply {reply:?}"
            ))),
        }
    }

    /// CF.RESERVE.
    pub(crate) fn reserve(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        capacity: u64,
        opts: &CfReserveOptions,
    ) -> Result<()> {
        let capacity = check_reserve(capacity, opts)?;
        let create = u64::try_from(capacity)
            .ok()
            .and_then(|c| Shape::new(c, opts.bucket_size, opts.max_iterations, opts.expansion))
            .map_or(Create::Fails, Create::With);
        match self.run(exec, key, "reserve", create, false, &[])? {
            Ok(_) => Ok(()),
            Err(_) => Err(CuckooError::CreateFailed.into()),
        }
    }

    fn outcomes(reply: &[Reply]) -> Vec<InsertOutcome> {
        (0..reply.len())
            .map(|i| match int_at(reply, i) {
                Some(1) => InsertOutcome::Inserted,
                Some(0) => InsertOutcome::Exists,
                Some(-1) => InsertOutcome::NoSpace,
                _ => InsertOutcome::OutOfMemory,
            })
            .collect()
    }

    /// CF.ADD (`nx` false) or CF.ADDNX (`nx` true).
    pub(crate) fn add(&self, exec: Exec<'_>, key: &[u8], item: &[u8], nx: bool) -> Result<bool> {
        let create = Shape::autocreate(DEFAULT_CAPACITY).map_or(Create::Fails, Create::With);
        let reply = match self.run(exec, key, "add", create, nx, &[item])? {
            Ok(r) => r,
            Err(_) => return Err(CuckooError::AutoCreateFailed.into()),
        };
        match Self::outcomes(&reply).first() {
            Some(InsertOutcome::Inserted) => Ok(true),
            Some(InsertOutcome::Exists) => Ok(false),
            Some(InsertOutcome::NoSpace) => Err(CuckooError::Full.into()),
            _ => Err(CuckooError::OutOfMemory.into()),
        }
    }

    /// CF.INSERT (`nx` false) or CF.INSERTNX (`nx` true).
    pub(crate) fn insert(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        opts: &CfInsertOptions,
        items: &[&[u8]],
        nx: bool,
    ) -> Result<Vec<InsertOutcome>> {
        if items.is_empty() {
            return Err(Error::WrongArity(
                if nx { "cf.insertnx" } else { "cf.insert" }.to_owned(),
            ));
        }
        let capacity = i64::try_from(opts.capacity).map_err(|_| Error::other(BAD_CAPACITY))?;
        let capacity = check_insert_capacity(capacity)?;
        let create = if opts.nocreate {
            Create::No
        } else {
            Shape::autocreate(capacity).map_or(Create::Fails, Create::With)
        };
        match self.run(exec, key, "add", create, nx, items)? {
            Ok(r) => Ok(Self::outcomes(&r)),
            Err(Failure::NotFound) => Err(Error::other(NOT_FOUND)),
            Err(Failure::CreateFailed) => Err(CuckooError::AutoCreateFailed.into()),
        }
    }

    /// CF.MEXISTS (all false for a missing key and for another type, as RedisBloom).
    pub(crate) fn mexists(&self, exec: Exec<'_>, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        match self.run(exec, key, "exists", Create::No, false, items) {
            Ok(Ok(r)) => Ok((0..items.len()).map(|i| int_at(&r, i) == Some(1)).collect()),
            Ok(Err(_)) | Err(Error::WrongType) => Ok(vec![false; items.len()]),
            Err(e) => Err(e),
        }
    }

    /// CF.COUNT (0 for a missing key and for another type).
    pub(crate) fn count(&self, exec: Exec<'_>, key: &[u8], item: &[u8]) -> Result<u64> {
        match self.run(exec, key, "count", Create::No, false, &[item]) {
            Ok(Ok(r)) => Ok(u64_at(&r, 0).unwrap_or(0)),
            Ok(Err(_)) | Err(Error::WrongType) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// CF.DEL (`Not found` unless the key holds a filter).
    pub(crate) fn del(&self, exec: Exec<'_>, key: &[u8], item: &[u8]) -> Result<bool> {
        match self.run(exec, key, "del", Create::No, false, &[item]) {
            Ok(Ok(r)) => Ok(int_at(&r, 0) == Some(1)),
            Ok(Err(_)) | Err(Error::WrongType) => Err(Error::other(DEL_NOT_FOUND)),
            Err(e) => Err(e),
        }
    }

    /// CF.INFO.
    pub(crate) fn info(&self, exec: Exec<'_>, key: &[u8]) -> Result<CuckooInfo> {
        let r = match self.run(exec, key, "info", Create::No, false, &[])? {
            Ok(r) => r,
            Err(_) => return Err(Error::other(NOT_FOUND)),
        };
        let field = |i: usize| {
            u64_at(&r, i).ok_or_else(|| Error::Io("malformed cuckoo filter metadata".into()))
        };
        let (buckets, bs, mi, ex, nf) = (field(0)?, field(1)?, field(2)?, field(3)?, field(4)?);
        let slots = (0..nf).fold(0u64, |sum, i| {
            let growth = ex.saturating_pow(u32::try_from(i).unwrap_or(u32::MAX));
            sum.saturating_add(buckets.saturating_mul(growth).saturating_mul(bs))
        });
        Ok(CuckooInfo {
            size: INFO_FILTER_OVERHEAD + INFO_SUBFILTER_OVERHEAD * nf + slots,
            num_buckets: buckets,
            num_filters: nf,
            num_items: field(5)?,
            num_deletes: field(6)?,
            bucket_size: bs,
            expansion: ex,
            max_iterations: mi,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::cuckoo::CuckooFilter;

    #[test]
    fn shapes_match_the_embedded_filter() {
        for (cap, bs, ex) in [(10, 2, 1), (1000, 4, 3), (7, 1, 0), (1 << 20, 255, 32768)] {
            let f = CuckooFilter::new(cap, bs, 20, ex).unwrap();
            let s = Shape::new(cap, bs, 20, ex).unwrap();
            let i = f.info();
            assert_eq!(
                (s.buckets, u64::from(s.expansion)),
                (i.num_buckets, i.expansion)
            );
        }
        assert!(Shape::new(1 << 40, 2, 20, 1).is_none());
        assert!(CuckooFilter::new(1 << 40, 2, 20, 1).is_none());
    }

    #[test]
    fn worked_example_arguments() {
        let mut args = Vec::new();
        push_items(&mut args, &[b"a"]);
        assert_eq!(args, [b"3547032337".to_vec(), b"196".to_vec()]);
        assert_eq!(0xd36b_6b11u64, 3_547_032_337);
        assert_eq!(Shape::new(10, 2, 20, 1).map(|s| s.buckets), Some(8));
    }

    #[test]
    fn sub_filters_share_the_filter_key_slot() {
        use super::super::redis::key_slot;
        for key in [&b"cf"[..], b"carts", b"{t}cf", b"x{"] {
            let mut sub = sibling_prefix(key, b":cf:");
            sub.extend_from_slice(b"12");
            assert_eq!(key_slot(&sub), key_slot(key), "{key:?}");
        }
        assert_eq!(sibling_prefix(b"{t}cf", b":cf:"), b"{t}cf:cf:");
    }

    #[test]
    fn low_hash_bits_give_the_buckets() {
        // (h % n) and (h ^ fp * 0x5bd1e995) % n from the low 32 bits, for power-of-two n.
        for item in [&b"a"[..], b"item:17", b""] {
            let h = cuckoo::hash(item);
            let fp = h % 255 + 1;
            let lo = h & 0xffff_ffff;
            for shift in [0, 3, 16, 29] {
                let n = 1u64 << shift;
                assert_eq!(h % n, lo % n);
                let alt = (h ^ fp.wrapping_mul(0x5bd1_e995)) % n;
                assert_eq!(alt, (lo % n) ^ ((fp * 0x5bd1_e995) % n));
            }
        }
    }
}
