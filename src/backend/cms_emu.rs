//! RedisBloom's count-min sketch emulated over plain Redis data, for servers without the
//! RedisBloom module: same dimensions, same column per row, same saturation and merge
//! checks, hence the same counts as RedisBloom and as the embedded store
//! (`crate::types::cms`).
//!
//! # Design
//!
//! - The client hashes: for each item and row `i` it computes `MurmurHash2(item, seed i)`
//!   (32 bits) and sends them packed; the script takes each modulo the width, adds with
//!   saturation at `u32::MAX` (an increment of 2^32 or more saturates, as in RedisBloom) and
//!   answers the smallest counter. Counters are under 2^33 in flight, exact in Lua's doubles.
//!   The 64-bit total travels and is stored as two 32-bit halves, added with a carry, so it
//!   wraps exactly as RedisBloom's `size_t`.
//! - `CMS.INCRBY`, `CMS.QUERY`, `CMS.INFO` and the creations are one `EVALSHA` each (`EVAL`
//!   after a `NOSCRIPT`), atomic on the server. The client caches each sketch's depth (how
//!   many hashes to send); the script checks it against the stored one and answers with
//!   the stored dimensions when they differ, and the client sends again.
//! - `CMS.MERGE` needs signed 64-bit products of weights and counters, which Lua's doubles
//!   cannot check exactly. It reads the destination and the sources in one script run
//!   (their counters, totals and versions), merges them in Rust with the embedded sketch's
//!   own code (`CountMinSketch::merge`: same checks, same texts, all or nothing), and writes
//!   the result with a second run that first checks that no key changed version in between
//!   (optimistic concurrency, like `WATCH`); when one did, it starts over. Every write
//!   bumps the version; a creation starts a new epoch from the server's `TIME`, so a sketch
//!   deleted and created again never matches an old version.
//!
//! # Representation
//!
//! ```text
//!  <key>            hash    sketchstore:cms=1 width depth count_hi count_lo epoch writes
//!  <prefix>cells    string  depth rows of width counters, u32 little-endian:
//!                           counter (row i, column j) at bytes 4 * (i * width + j) ..+4
//! ```
//!
//! `<prefix>` is `<key>:cms:` behind a hash tag of `<key>`'s slot when `<key>` has none (as
//! the emulated Bloom filter's links, `super::bloom_emu`): the counters share `<key>`'s
//! cluster slot. The counter bytes are the embedded sketch's persisted form. `TYPE <key>` is
//! `hash`, not `CMSk-TYPE`; `DEL <key>` removes the metadata only, and the next sketch
//! created under the key replaces the counters.
//!
//! # Worked example
//!
//! `CMS.INITBYDIM s 4 2` stores `width 4 depth 2` and 32 zero bytes. `CMS.INCRBY s a 3`
//! sends `MurmurHash2("a", 0)` and `MurmurHash2("a", 1)`; the script adds 3 to counter
//! `h0 % 4` of row 0 and `4 + h1 % 4` of row 1 and replies 3; the total's low half is 3.
//!
//! # References
//!
//! `crate::types::cms` (RedisBloom 2.8 `src/cms.c`) and `src/rm_cms.c` (commands, errors).

use super::bloom_emu::{sibling_prefix, Exec};
use super::lua::{int_at, join_u64, u64_at, LuaScript};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::cms::{BAD_NUMBER, INVALID_INIT, KEY_EXISTS, KEY_MISSING, WRONG_KEYS_WEIGHTS};
use crate::types::cms::{
    dims_from_prob, CmsError, CmsInfo, CountMinSketch, MergeSource, MAX_BYTES,
};
use crate::types::murmur::murmurhash2;
use parking_lot::Mutex;
use std::collections::HashMap;

/// How many times an operation is sent again after the sketch changed under it.
const MAX_ATTEMPTS: usize = 16;
/// Cached depths kept before the cache starts over.
const MAX_CACHED: usize = 4096;

/// KEYS: metadata hash and counters string, pairwise (several pairs for `read`, the
/// destination's then the sources' metadata for `write`). `ARGV[1]` the op, then per op:
/// `init` width depth; `incrby` depth, then per item its packed row hashes, the increment
/// capped at 2^32, its high and low halves; `query` depth, then packed row hashes per item;
/// `info`; `read`; `write` one expected `epoch:writes` per metadata key, the new total's
/// halves and the counters. Replies `{0, ...}`, `{1, width, depth}` (other dimensions, or
/// for `write` a version changed), `{2}` (WRONGTYPE), `{3}` (missing), `{4}` (exists).
const SCRIPT: &str = r#"
local op = ARGV[1]
local function kind(meta)
  local t = redis.call('TYPE', meta)['ok']
  if t == 'none' then return 3 end
  if t ~= 'hash' or redis.call('HEXISTS', meta, 'sketchstore:cms') == 0 then return 2 end
  return 0
end
local function version(meta)
  local m = redis.call('HMGET', meta, 'epoch', 'writes')
  return m[1] .. ':' .. m[2]
end
if op == 'read' then
  local out = {}
  for k = 1, #KEYS, 2 do
    local c = kind(KEYS[k])
    out[#out + 1] = c
    if c == 0 then
      local m = redis.call('HMGET', KEYS[k], 'width', 'depth', 'count_hi', 'count_lo')
      out[#out + 1] = m[1]; out[#out + 1] = m[2]; out[#out + 1] = m[3]; out[#out + 1] = m[4]
      out[#out + 1] = version(KEYS[k])
      out[#out + 1] = redis.call('GET', KEYS[k + 1]) or ''
    else
      for _ = 1, 6 do out[#out + 1] = '' end
    end
  end
  return out
end
if op == 'write' then
  -- ARGV[2] is the destination's version, ARGV[k] that of KEYS[k] for k >= 3
  if kind(KEYS[1]) ~= 0 or version(KEYS[1]) ~= ARGV[2] then return {1} end
  for k = 3, #KEYS do
    if kind(KEYS[k]) ~= 0 or version(KEYS[k]) ~= ARGV[k] then return {1} end
  end
  local n = #KEYS - 2
  redis.call('SET', KEYS[2], ARGV[n + 5])
  redis.call('HSET', KEYS[1], 'count_hi', ARGV[n + 3], 'count_lo', ARGV[n + 4])
  redis.call('HINCRBY', KEYS[1], 'writes', 1)
  return {0}
end
local meta, cells = KEYS[1], KEYS[2]
local c = kind(meta)
if op == 'init' then
  if c ~= 3 then return {4} end
  local t = redis.call('TIME')
  redis.call('DEL', cells)
  redis.call('HSET', meta, 'sketchstore:cms', '1', 'width', ARGV[2], 'depth', ARGV[3],
    'count_hi', '0', 'count_lo', '0', 'epoch', t[1] .. '.' .. t[2], 'writes', '0')
  local bytes = tonumber(ARGV[2]) * tonumber(ARGV[3]) * 4
  redis.call('SETRANGE', cells, string.format('%.0f', bytes - 1), '\0')
  return {0}
end
if c ~= 0 then return {c} end
local m = redis.call('HMGET', meta, 'width', 'depth', 'count_hi', 'count_lo')
local width, depth = tonumber(m[1]), tonumber(m[2])
if op == 'info' then return {0, m[1], m[2], m[3], m[4]} end
if ARGV[2] ~= m[2] then return {1, m[1], m[2]} end
local function at(row, s, p)
  local h
  h, p = struct.unpack('<I4', s, p)
  return string.format('%.0f', 4 * (row * width + h % width)), p
end
local function get(off)
  return struct.unpack('<I4', redis.call('GETRANGE', cells, off, off + 3))
end
local out = {0}
if op == 'query' then
  for i = 3, #ARGV do
    local p, min = 1, nil
    for row = 0, depth - 1 do
      local off
      off, p = at(row, ARGV[i], p)
      local v = get(off)
      if min == nil or v < min then min = v end
    end
    out[#out + 1] = min
  end
  return out
end
if op == 'incrby' then
  local hi, lo = tonumber(m[3]), tonumber(m[4])
  for i = 3, #ARGV, 4 do
    local add = tonumber(ARGV[i + 1])
    local p, min = 1, nil
    for row = 0, depth - 1 do
      local off
      off, p = at(row, ARGV[i], p)
      local v = get(off) + add
      if v > 4294967295 then v = 4294967295 end
      redis.call('SETRANGE', cells, off, struct.pack('<I4', v))
      if min == nil or v < min then min = v end
    end
    lo = lo + tonumber(ARGV[i + 3])
    local carry = math.floor(lo / 4294967296)
    lo = lo - carry * 4294967296
    hi = (hi + tonumber(ARGV[i + 2]) + carry) % 4294967296
    if min == 4294967295 then out[#out + 1] = -1 else out[#out + 1] = min end
  end
  redis.call('HSET', meta, 'count_hi', string.format('%.0f', hi), 'count_lo', string.format('%.0f', lo))
  redis.call('HINCRBY', meta, 'writes', 1)
  return out
end
return redis.error_reply('ERR unknown count-min emulation op')
"#;

/// The emulation's state in a backend: the script's SHA-1 and the depth cache.
pub(crate) struct CmsEmulation {
    script: LuaScript,
    depths: Mutex<HashMap<Vec<u8>, u64>>,
}

impl Default for CmsEmulation {
    fn default() -> CmsEmulation {
        CmsEmulation {
            script: LuaScript::new(SCRIPT, "count-min"),
            depths: Mutex::new(HashMap::new()),
        }
    }
}

fn cells_key(key: &[u8]) -> Vec<u8> {
    let mut k = sibling_prefix(key, b":cms:");
    k.extend_from_slice(b"cells");
    k
}

/// The row hashes of `item`, packed little-endian.
fn row_hashes(item: &[u8], depth: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(depth).unwrap_or(0).saturating_mul(4));
    for row in 0..depth {
        out.extend_from_slice(&murmurhash2(item, row as u32).to_le_bytes());
    }
    out
}

fn bulk_text(reply: &[Reply], i: usize) -> String {
    match reply.get(i) {
        Some(Reply::Bulk(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// One key as the `read` op saw it.
struct Read {
    code: i64,
    width: u64,
    depth: u64,
    count: u64,
    version: String,
    cells: Vec<u8>,
}

impl CmsEmulation {
    fn key_error(code: i64) -> Error {
        match code {
            2 => Error::WrongType,
            _ => Error::other(KEY_MISSING),
        }
    }

    fn remember(&self, key: &[u8], depth: Option<u64>) {
        let mut cache = self.depths.lock();
        match depth {
            Some(d) => {
                if cache.len() >= MAX_CACHED && !cache.contains_key(key) {
                    cache.clear();
                }
                cache.insert(key.to_vec(), d);
            }
            None => {
                cache.remove(key);
            }
        }
    }

    /// Runs an op that needs the row hashes: `args_for(depth)` builds its arguments after
    /// the op and depth.
    fn run_hashed(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        op: &str,
        args_for: &dyn Fn(u64) -> Vec<Vec<u8>>,
    ) -> Result<Vec<Reply>> {
        let keys = [key.to_vec(), cells_key(key)];
        let mut depth = self.depths.lock().get(key).copied().unwrap_or(0);
        for _ in 0..MAX_ATTEMPTS {
            let mut args = vec![op.as_bytes().to_vec(), depth.to_string().into_bytes()];
            args.extend(args_for(depth));
            let mut reply = self.script.eval(exec, &keys, &args)?;
            match int_at(&reply, 0) {
                Some(0) => {
                    self.remember(key, Some(depth));
                    reply.remove(0);
                    return Ok(reply);
                }
                Some(1) => {
                    // Bounded as at creation before it sizes the hashes sent.
                    depth = u64_at(&reply, 2)
                        .filter(|d| (1..=MAX_BYTES / 4).contains(d))
                        .ok_or_else(|| Error::Io("malformed count-min metadata".into()))?;
                }
                Some(c) => {
                    self.remember(key, None);
                    return Err(Self::key_error(c));
                }
                None => return Err(Error::Io(format!("malformed count-min reply {reply:?}"))),
            }
        }
        Err(Error::Io(
            "count-min sketch changed under every attempt".into(),
        ))
    }

    fn init(&self, exec: Exec<'_>, key: &[u8], dims: Result<(u64, u64)>) -> Result<()> {
        // RedisBloom looks at the key before the arguments.
        let info = self
            .script
            .eval(exec, &[key.to_vec(), cells_key(key)], &[b"info".to_vec()])?;
        if int_at(&info, 0) != Some(3) {
            return Err(Error::other(KEY_EXISTS));
        }
        let (width, depth) = dims?;
        if width < 1 || depth < 1 || width > i64::MAX as u64 / depth {
            return Err(Error::other(INVALID_INIT));
        }
        let fits = width
            .checked_mul(depth)
            .and_then(|n| n.checked_mul(4))
            .is_some_and(|b| b <= MAX_BYTES);
        if !fits {
            return Err(CmsError::TooLarge.into());
        }
        let reply = self.script.eval(
            exec,
            &[key.to_vec(), cells_key(key)],
            &[
                b"init".to_vec(),
                width.to_string().into_bytes(),
                depth.to_string().into_bytes(),
            ],
        )?;
        match int_at(&reply, 0) {
            Some(0) => {
                self.remember(key, Some(depth));
                Ok(())
            }
            _ => Err(Error::other(KEY_EXISTS)),
        }
    }

    /// CMS.INITBYDIM.
    pub(crate) fn initbydim(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        width: u64,
        depth: u64,
    ) -> Result<()> {
        // Above i64::MAX RedisBloom cannot parse the number: the same texts as a zero.
        let width = if i64::try_from(width).is_ok() {
            width
        } else {
            0
        };
        let depth = if i64::try_from(depth).is_ok() {
            depth
        } else {
            0
        };
        let dims = if width < 1 {
            Err(CmsError::InvalidWidth.into())
        } else if depth < 1 {
            Err(CmsError::InvalidDepth.into())
        } else {
            Ok((width, depth))
        };
        self.init(exec, key, dims)
    }

    /// CMS.INITBYPROB.
    pub(crate) fn initbyprob(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        error: f64,
        prob: f64,
    ) -> Result<()> {
        let c_size_t = |x: f64| {
            if (0.0..18_446_744_073_709_551_616.0).contains(&x) {
                x as u64
            } else {
                0
            }
        };
        let dims = dims_from_prob(error, prob)
            .map(|(w, d)| (c_size_t(w), c_size_t(d)))
            .map_err(Error::from);
        self.init(exec, key, dims)
    }

    /// CMS.INCRBY.
    pub(crate) fn incrby(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        pairs: &[(&[u8], u64)],
    ) -> Result<Vec<Result<u64>>> {
        if pairs.is_empty() {
            return Err(Error::WrongArity("cms.incrby".to_owned()));
        }
        if pairs.iter().any(|(_, v)| i64::try_from(*v).is_err()) {
            // The key's errors come first.
            self.info(exec, key)?;
            return Err(Error::other(BAD_NUMBER));
        }
        let reply = self.run_hashed(exec, key, "incrby", &|depth| {
            let mut args = Vec::with_capacity(pairs.len() * 4);
            for (item, v) in pairs {
                args.push(row_hashes(item, depth));
                args.push((*v).min(1 << 32).to_string().into_bytes());
                args.push((v >> 32).to_string().into_bytes());
                args.push((v & 0xffff_ffff).to_string().into_bytes());
            }
            args
        })?;
        Ok((0..pairs.len())
            .map(|i| match int_at(&reply, i) {
                Some(n) if n >= 0 => Ok(n as u64),
                _ => Err(CmsError::IncrByOverflow.into()),
            })
            .collect())
    }

    /// CMS.QUERY.
    pub(crate) fn query(&self, exec: Exec<'_>, key: &[u8], items: &[&[u8]]) -> Result<Vec<u64>> {
        let reply = self.run_hashed(exec, key, "query", &|depth| {
            items.iter().map(|i| row_hashes(i, depth)).collect()
        })?;
        Ok((0..items.len())
            .map(|i| u64_at(&reply, i).unwrap_or(0))
            .collect())
    }

    /// CMS.INFO.
    pub(crate) fn info(&self, exec: Exec<'_>, key: &[u8]) -> Result<CmsInfo> {
        let reply = self
            .script
            .eval(exec, &[key.to_vec(), cells_key(key)], &[b"info".to_vec()])?;
        match int_at(&reply, 0) {
            Some(0) => {}
            Some(c) => return Err(Self::key_error(c)),
            None => return Err(Error::Io(format!("malformed count-min reply {reply:?}"))),
        }
        let field = |i: usize| {
            u64_at(&reply, i).ok_or_else(|| Error::Io("malformed count-min metadata".into()))
        };
        Ok(CmsInfo {
            width: field(1)?,
            depth: field(2)?,
            count: join_u64(field(3)?, field(4)?),
        })
    }

    fn read(&self, exec: Exec<'_>, keys: &[&[u8]]) -> Result<Vec<Read>> {
        let mut script_keys = Vec::with_capacity(keys.len() * 2);
        for k in keys {
            script_keys.push(k.to_vec());
            script_keys.push(cells_key(k));
        }
        let reply = self.script.eval(exec, &script_keys, &[b"read".to_vec()])?;
        let mut out = Vec::with_capacity(keys.len());
        for (i, _) in keys.iter().enumerate() {
            let base = i * 7;
            let code = int_at(&reply, base)
                .ok_or_else(|| Error::Io("malformed count-min read reply".into()))?;
            let num = |j: usize| u64_at(&reply, base + j).unwrap_or(0);
            out.push(Read {
                code,
                width: num(1),
                depth: num(2),
                count: join_u64(num(3), num(4)),
                version: bulk_text(&reply, base + 5),
                cells: match reply.get(base + 6) {
                    Some(Reply::Bulk(b)) => b.clone(),
                    _ => Vec::new(),
                },
            });
        }
        Ok(out)
    }

    /// CMS.MERGE (see the module documentation: read, merge in Rust, checked write). A
    /// write refused because a sketch changed since the read is tried again after a pause
    /// that doubles each time, at most [`MAX_ATTEMPTS`] times.
    pub(crate) fn merge(
        &self,
        exec: Exec<'_>,
        dest: &[u8],
        sources: &[&[u8]],
        weights: Option<&[i64]>,
    ) -> Result<()> {
        if sources.is_empty() {
            return Err(Error::WrongArity("cms.merge".to_owned()));
        }
        // The distinct keys, destination first.
        let mut keys: Vec<&[u8]> = vec![dest];
        for s in sources {
            if !keys.contains(s) {
                keys.push(s);
            }
        }
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                // Clients incrementing the destination without pause would otherwise win
                // every race against the read-merge-write round trip: back off, doubling
                // from 50 µs up to 12.8 ms (about 0.13 s over all attempts).
                std::thread::sleep(std::time::Duration::from_micros(50 << (attempt - 1).min(8)));
            }
            let read = self.read(exec, &keys)?;
            let Some(d) = read.first() else {
                return Err(Error::Io("empty count-min read reply".into()));
            };
            if d.code != 0 {
                return Err(Self::key_error(d.code));
            }
            let pairs: Vec<(&[u8], i64)> = match weights {
                None => sources.iter().map(|&k| (k, 1)).collect(),
                Some(w) if w.len() == sources.len() => {
                    sources.iter().zip(w).map(|(&k, &w)| (k, w)).collect()
                }
                Some(_) => return Err(Error::other(WRONG_KEYS_WEIGHTS)),
            };
            let at = |k: &[u8]| keys.iter().position(|x| *x == k).unwrap_or(0);
            let mut seen = vec![false; keys.len()];
            for &(k, _) in &pairs {
                let i = at(k);
                if i == 0 || seen[i] {
                    continue;
                }
                seen[i] = true;
                let s = &read[i];
                if s.code != 0 {
                    return Err(Self::key_error(s.code));
                }
                if (s.width, s.depth) != (d.width, d.depth) {
                    return Err(CmsError::DimensionMismatch.into());
                }
            }
            let sketch = |r: &Read| {
                CountMinSketch::from_parts(r.width, r.depth, r.count, &r.cells)
                    .map_err(|_| Error::Io("malformed count-min counters".into()))
            };
            let mut merged = sketch(d)?;
            let mut others: Vec<Option<CountMinSketch>> = Vec::with_capacity(keys.len());
            others.push(None);
            for (i, r) in read.iter().enumerate().skip(1) {
                others.push(if seen[i] { Some(sketch(r)?) } else { None });
            }
            let parts: Vec<MergeSource<'_>> = pairs
                .iter()
                .map(|&(k, w)| match others.get(at(k)).and_then(Option::as_ref) {
                    Some(s) => MergeSource::Other(s, w),
                    None => MergeSource::Dest(w),
                })
                .collect();
            merged.merge(&parts)?;
            let mut script_keys: Vec<Vec<u8>> = vec![dest.to_vec(), cells_key(dest)];
            script_keys.extend(keys[1..].iter().map(|k| k.to_vec()));
            let mut args: Vec<Vec<u8>> = vec![b"write".to_vec()];
            args.extend(read.iter().map(|r| r.version.clone().into_bytes()));
            let count = merged.info().count;
            args.push((count >> 32).to_string().into_bytes());
            args.push((count & 0xffff_ffff).to_string().into_bytes());
            let mut bytes = Vec::with_capacity(merged.cells().len() * 4);
            for c in merged.cells() {
                bytes.extend_from_slice(&c.to_le_bytes());
            }
            args.push(bytes);
            let reply = self.script.eval(exec, &script_keys, &args)?;
            if int_at(&reply, 0) == Some(0) {
                return Ok(());
            }
        }
        Err(Error::Io(
            "count-min sketches changed under every attempt to merge them".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_share_the_sketch_key_slot() {
        use super::super::redis::key_slot;
        for key in [&b"cms"[..], b"hits:pages", b"{m}a", b""] {
            assert_eq!(key_slot(&cells_key(key)), key_slot(key), "{key:?}");
        }
        assert_eq!(cells_key(b"{m}a"), b"{m}a:cms:cells");
    }

    #[test]
    fn row_hashes_are_the_embedded_sketch_columns() {
        // The embedded sketch counts "a" in column murmurhash2("a", row) % width of each row.
        let mut s = CountMinSketch::init_by_dim(7, 3).unwrap();
        s.incrby(b"a", 1).unwrap();
        let packed = row_hashes(b"a", 3);
        for (row, h) in packed.chunks_exact(4).enumerate() {
            let h = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
            assert_eq!(s.cells()[row * 7 + h % 7], 1);
        }
    }
}
