//! RedisBloom's scalable Bloom filter emulated over plain Redis data, for servers without the
//! RedisBloom module: same sizing, same hashing, same growth, hence the same answers
//! (false positives included) as RedisBloom and as the embedded store.
//!
//! # Design
//!
//! - The client does the arithmetic the server cannot do exactly in Lua (64-bit
//!   MurmurHash64A, RedisBloom's f64 sizing): for each item it computes the hash pair once
//!   ([`BloomHash::new`]) and, for every link the operation may touch, the link's probe
//!   positions `(a + i*b) mod 2^64 mod bits` from that link's [`LinkSizing`], which depends
//!   only on the filter's parameters and the link's index. A Lua script then applies the
//!   whole operation atomically on the server: RedisBloom's decision sequence (older links
//!   first, a full current link grows or reports `non scaling filter is full`) over
//!   `GETBIT`/`SETBIT`, and the item counts. One operation is one `EVALSHA` (`EVAL` after a
//!   `NOSCRIPT`), so concurrent clients never see or make a half-applied insert.
//! - The script checks the parameters and link count the client computed positions for
//!   against the stored ones, and answers with the stored ones instead of applying anything
//!   when they differ (another client created or grew the filter); the client recomputes and
//!   sends again. The last known parameters of each filter are cached, so an operation is
//!   one round trip in the common case; a stale cache costs one more.
//! - A batch (`BF.MADD`, `BF.INSERT`) may grow the filter several times. The client sends
//!   positions for as many new links as the items could fill if every one were new and the
//!   current link already full, so the script never runs out of links. Batches whose
//!   positions would exceed [`MAX_PAYLOAD`] are split into several atomic runs.
//!
//! # Representation
//!
//! ```text
//!  <key>                hash   sketchstore:bloom=1 capacity error expansion nonscaling
//!                              links items size:0 .. size:<links-1>
//!  <prefix><i>          string link i's bit array, RedisBloom's bytes exactly: probe x is
//!                              Redis bit (x & !7) | (7 - x % 8), i.e. byte x / 8, mask 1 << (x % 8)
//! ```
//!
//! `<prefix>` is `<key>:bf:` when `<key>` has a hash tag (a non-empty `{...}`), so the links
//! share the key's cluster slot. For an untagged key it is `{<n>}<key>:bf:`, where `<n>` is
//! the smallest decimal number whose CRC16 slot is the key's own slot: again the key's slot,
//! on a single server and on a cluster alike, with no requirement on the application's keys.
//! `error` is stored in Rust's shortest round-trip form, so the client reads back the exact
//! f64 the sizing was computed from. `TYPE <key>` is `hash`, not `MBbloom--`.
//!
//! `DEL`, `EXPIRE` or `RENAME` of `<key>` act on the metadata only: the links of a deleted
//! filter stay until a filter is created again under that key, which deletes them first.
//!
//! # References
//!
//! `crate::types::bloom` (RedisBloom's sizing, hashing and growth, and its sources).

use super::lua::LuaScript;
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::bloom::{check_insert, check_reserve, BfInsertOptions, BloomOptions};
use crate::types::bloom::{
    BloomHash, BloomInfo, LinkSizing, CHAIN_OVERHEAD_BYTES, COMMAND_OPTIONS, DEFAULT_MAX_BYTES,
    ERROR_TIGHTENING_RATIO, LINK_OVERHEAD_BYTES, OPT_NO_SCALING,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Runs one command on the backend.
pub(crate) type Exec<'a> = &'a dyn Fn(&[&[u8]]) -> Result<Reply>;

/// Largest position payload of one script run, in bytes.
const MAX_PAYLOAD: usize = 4 << 20;
/// Most links one script run is prepared for.
const MAX_LINKS_PER_RUN: usize = 256;
/// How many times an operation is sent again after the filter changed under it.
const MAX_ATTEMPTS: usize = 16;
/// Cached filters kept before the cache starts over.
const MAX_CACHED: usize = 4096;

const FULL: &str = "ERR non scaling filter is full";
const CANNOT_GROW: &str = "ERR problem inserting into filter";
const NOT_FOUND: &str = "ERR not found";
const ITEM_EXISTS: &str = "ERR item exists";
const INVALID: &str = "ERR could not create filter";
const NO_MEMORY: &str = "ERR Insufficient memory to create filter";

/// The script. KEYS[1] is the metadata hash, KEYS[2..] the links 0.. it was given.
/// ARGV: op, create code, capacity, error, expansion, nonscaling, links assumed, link prefix,
/// links provided, growth blocked, one `entries:hashes:bytes` per provided link, then one
/// packed item (little-endian u32 Redis bit offsets, link 0's first) per remaining ARGV.
/// Replies `{0, links, results...}`, `{1, stored parameters...}` (mismatch), `{2}`
/// (WRONGTYPE), `{3}` (not found), `{4}` (item exists), `{5, create code}`.
const SCRIPT: &str = r#"
local meta = KEYS[1]
local op = ARGV[1]
local t = redis.call('TYPE', meta)['ok']
local exists = t ~= 'none'
if exists and (t ~= 'hash' or redis.call('HEXISTS', meta, 'sketchstore:bloom') == 0) then
  return {2}
end
if op == 'read' then
  if not exists then return {3} end
  local m = redis.call('HMGET', meta, 'capacity', 'error', 'expansion', 'nonscaling', 'links', 'items')
  return {0, m[1], m[2], m[3], m[4], m[5], m[6]}
end
local provided = tonumber(ARGV[9])
local blocked = ARGV[10] == '1'
local entries, hashes, nbytes, off = {}, {}, {}, {}
local at = 0
for j = 0, provided - 1 do
  local e, h, b = string.match(ARGV[11 + j], '^(%d+):(%d+):(%d+)$')
  entries[j] = tonumber(e); hashes[j] = tonumber(h); nbytes[j] = tonumber(b)
  off[j] = at
  at = at + 4 * hashes[j]
end
local first = 11 + provided
local function alloc(j)
  redis.call('SETRANGE', KEYS[j + 2], nbytes[j] - 1, '\0')
end
local function has(j, s)
  local key = KEYS[j + 2]
  local p = off[j] + 1
  for _ = 1, hashes[j] do
    local x
    x, p = struct.unpack('<I4', s, p)
    if redis.call('GETBIT', key, x) == 0 then return false end
  end
  return true
end
local function create()
  local prefix = ARGV[8]
  local i = 0
  while redis.call('EXISTS', prefix .. i) == 1 do
    redis.call('DEL', prefix .. i)
    i = i + 1
  end
  redis.call('HSET', meta, 'sketchstore:bloom', '1', 'capacity', ARGV[3], 'error', ARGV[4],
    'expansion', ARGV[5], 'nonscaling', ARGV[6], 'links', '1', 'items', '0', 'size:0', '0')
  alloc(0)
end
if op == 'reserve' then
  if exists then return {4} end
  if ARGV[2] ~= '1' then return {5, ARGV[2]} end
  create()
  return {0, 1}
end
local n
if exists then
  local m = redis.call('HMGET', meta, 'capacity', 'error', 'expansion', 'nonscaling', 'links')
  if m[1] ~= ARGV[3] or m[2] ~= ARGV[4] or m[3] ~= ARGV[5] or m[4] ~= ARGV[6] or m[5] ~= ARGV[7] then
    return {1, m[1], m[2], m[3], m[4], m[5]}
  end
  n = tonumber(m[5])
else
  if op == 'exists' or ARGV[2] == '0' then return {3} end
  if ARGV[7] ~= '0' then return {1} end
  if ARGV[2] ~= '1' then return {5, ARGV[2]} end
  create()
  n = 1
end
local out = {0, 0}
if op == 'exists' then
  for i = first, #ARGV do
    local r = 0
    for j = n - 1, 0, -1 do
      if has(j, ARGV[i]) then r = 1; break end
    end
    out[#out + 1] = r
  end
  out[2] = n
  return out
end
local nonscaling = ARGV[6] == '1'
local items = tonumber(redis.call('HGET', meta, 'items'))
local sizes = {}
for j = 0, n - 1 do sizes[j] = tonumber(redis.call('HGET', meta, 'size:' .. j)) end
for i = first, #ARGV do
  local s = ARGV[i]
  local r = nil
  for j = n - 2, 0, -1 do
    if has(j, s) then r = 0; break end
  end
  local cur = n - 1
  if r == nil and sizes[cur] >= entries[cur] then
    if has(cur, s) then r = 0
    elseif nonscaling then r = -1
    elseif n >= provided then r = -2
    else
      alloc(n); sizes[n] = 0; n = n + 1; cur = n - 1
    end
  end
  if r == nil then
    local key = KEYS[cur + 2]
    local p = off[cur] + 1
    local fresh = false
    for _ = 1, hashes[cur] do
      local x
      x, p = struct.unpack('<I4', s, p)
      if redis.call('SETBIT', key, x, 1) == 0 then fresh = true end
    end
    if fresh then
      sizes[cur] = sizes[cur] + 1; items = items + 1; r = 1
    else
      r = 0
    end
  end
  out[#out + 1] = r
  if r == -1 then break end
end
local w = {'links', string.format('%.0f', n), 'items', string.format('%.0f', items)}
for j = 0, n - 1 do
  w[#w + 1] = 'size:' .. j
  w[#w + 1] = string.format('%.0f', sizes[j])
end
redis.call('HSET', meta, unpack(w))
out[2] = n
return out
"#;

/// A filter's parameters as stored (the strings) and as the sizing reads them.
#[derive(Clone, Debug, PartialEq)]
struct Meta {
    capacity: u64,
    error: f64,
    expansion: u32,
    nonscaling: bool,
    links: u64,
}

impl Meta {
    fn of(opts: &BloomOptions) -> Meta {
        Meta {
            capacity: opts.capacity,
            error: opts.error_rate,
            expansion: opts.expansion,
            nonscaling: opts.nonscaling,
            links: 0,
        }
    }

    fn strings(&self) -> [String; 5] {
        [
            self.capacity.to_string(),
            format!("{:?}", self.error),
            self.expansion.to_string(),
            u8::from(self.nonscaling).to_string(),
            self.links.to_string(),
        ]
    }

    /// Parses the stored fields of a `{1, ...}` or `{0, ...}` reply.
    fn parse(fields: &[Reply]) -> Option<Meta> {
        let text = |i: usize| match fields.get(i) {
            Some(Reply::Bulk(b)) => std::str::from_utf8(b).ok(),
            _ => None,
        };
        Some(Meta {
            capacity: text(0)?.parse().ok()?,
            error: text(1)?.parse().ok()?,
            expansion: text(2)?.parse().ok()?,
            nonscaling: text(3)? == "1",
            links: text(4)?.parse().ok()?,
        })
    }

    fn options(&self) -> u32 {
        COMMAND_OPTIONS | if self.nonscaling { OPT_NO_SCALING } else { 0 }
    }

    /// Sizing of links `0..upto` as RedisBloom derives them; stops at the first link that
    /// cannot exist (invalid parameters or past the memory budget).
    fn sizings(&self, upto: usize) -> Vec<LinkSizing> {
        let mut out: Vec<LinkSizing> = Vec::with_capacity(upto);
        let mut memory = CHAIN_OVERHEAD_BYTES;
        while out.len() < upto {
            let next = match out.last() {
                None => {
                    let tightening = if self.nonscaling {
                        1.0
                    } else {
                        ERROR_TIGHTENING_RATIO
                    };
                    LinkSizing::compute(self.capacity, self.error * tightening, self.options())
                }
                Some(prev) => LinkSizing::compute(
                    prev.entries.wrapping_mul(u64::from(self.expansion)),
                    prev.error * ERROR_TIGHTENING_RATIO,
                    self.options(),
                ),
            };
            let Some(s) = next else { break };
            memory = match memory
                .checked_add(LINK_OVERHEAD_BYTES)
                .and_then(|m| m.checked_add(s.bytes))
            {
                Some(m) if m <= DEFAULT_MAX_BYTES as u64 => m,
                _ => break,
            };
            out.push(s);
        }
        out
    }

    /// The create code for a filter with these parameters: `1`, `2` (invalid), `3` (memory).
    fn create_code(&self) -> &'static str {
        let tightening = if self.nonscaling {
            1.0
        } else {
            ERROR_TIGHTENING_RATIO
        };
        match LinkSizing::compute(self.capacity, self.error * tightening, self.options()) {
            None => "2",
            Some(_) if self.sizings(1).is_empty() => "3",
            Some(_) => "1",
        }
    }
}

/// The probe positions of `hash` in a link, as Redis bit offsets of RedisBloom's layout.
fn push_positions(out: &mut Vec<u8>, hash: BloomHash, s: &LinkSizing) {
    let mut h = hash.a;
    for _ in 0..s.hashes {
        let x = h % s.bits;
        h = h.wrapping_add(hash.b);
        // The memory budget keeps every link under 2^32 bits.
        let redis_bit = ((x & !7) | (7 - (x & 7))) as u32;
        out.extend_from_slice(&redis_bit.to_le_bytes());
    }
}

/// Redis Cluster's hash tag of `key`, if it has a non-empty one.
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &rest[..close])
}

/// For each slot, the smallest decimal number whose slot it is.
fn slot_tags() -> &'static [u32] {
    static TAGS: OnceLock<Vec<u32>> = OnceLock::new();
    TAGS.get_or_init(|| {
        let mut tags = vec![u32::MAX; 16384];
        let mut left = tags.len();
        let mut n = 0u32;
        while left > 0 {
            let slot = usize::from(super::redis::key_slot(n.to_string().as_bytes()));
            if tags[slot] == u32::MAX {
                tags[slot] = n;
                left -= 1;
            }
            n += 1;
        }
        tags
    })
}

/// The prefix of the link keys of the filter at `key` (see the module documentation).
pub(crate) fn link_prefix(key: &[u8]) -> Vec<u8> {
    sibling_prefix(key, b":bf:")
}

/// `<key><suffix>`, behind a hash tag of `key`'s own slot when `key` has none: keys under
/// this prefix share `key`'s cluster slot (see the module documentation).
pub(crate) fn sibling_prefix(key: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(key.len() + suffix.len() + 8);
    if hash_tag(key).is_none() {
        let slot = super::redis::key_slot(key);
        p.push(b'{');
        p.extend_from_slice(slot_tags()[usize::from(slot)].to_string().as_bytes());
        p.push(b'}');
    }
    p.extend_from_slice(key);
    p.extend_from_slice(suffix);
    p
}

fn link_key(prefix: &[u8], i: usize) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(i.to_string().as_bytes());
    k
}

/// What an operation does when the filter is missing.
#[derive(Clone, Copy)]
enum Create<'a> {
    No,
    With(&'a BloomOptions),
}

/// The result of one script run.
enum Run {
    Done { links: u64, results: Vec<i64> },
    Meta(Vec<Reply>),
}

/// The emulation's state in a backend: the script (with its SHA-1 once loaded) and the
/// parameter cache.
pub(crate) struct BloomEmulation {
    script: LuaScript,
    cache: Mutex<HashMap<Vec<u8>, Meta>>,
}

impl Default for BloomEmulation {
    fn default() -> Self {
        BloomEmulation {
            script: LuaScript::new(SCRIPT, "bloom"),
            cache: Mutex::default(),
        }
    }
}

impl BloomEmulation {
    fn eval(&self, exec: Exec<'_>, keys: &[Vec<u8>], args: &[Vec<u8>]) -> Result<Vec<Reply>> {
        self.script.eval(exec, keys, args)
    }

    fn cached(&self, key: &[u8]) -> Option<Meta> {
        self.cache.lock().get(key).cloned()
    }

    fn remember(&self, key: &[u8], meta: Option<Meta>) {
        let mut cache = self.cache.lock();
        match meta {
            Some(m) => {
                if cache.len() >= MAX_CACHED && !cache.contains_key(key) {
                    cache.clear();
                }
                cache.insert(key.to_vec(), m);
            }
            None => {
                cache.remove(key);
            }
        }
    }

    /// Runs `op` on `items` once with the filter assumed to be `assumed` (`None`: missing).
    #[allow(clippy::too_many_arguments)]
    fn run_once(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        op: &str,
        create: Create<'_>,
        assumed: Option<&Meta>,
        hashes: &[BloomHash],
    ) -> Result<Run> {
        let creating = match create {
            Create::With(o) => Some(Meta::of(o)),
            Create::No => None,
        };
        let create_code = match (&creating, op) {
            (Some(m), _) => m.create_code(),
            (None, _) => "0",
        };
        // The parameters the positions are computed for.
        let params = match (assumed, &creating) {
            (Some(m), _) => m.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => Meta::of(&BloomOptions::default()),
        };
        let base = match assumed {
            Some(m) => usize::try_from(m.links).unwrap_or(usize::MAX),
            None => 1,
        };
        let (want, growth) = match op {
            "exists" => (if assumed.is_some() { base } else { 0 }, false),
            "reserve" => (1, false),
            _ => (base, !params.nonscaling),
        };
        let mut sizings = params.sizings(want.min(MAX_LINKS_PER_RUN * 4));
        let mut blocked = sizings.len() < want;
        if growth && !blocked {
            // Enough new links for every item to be new with the current link full.
            let all = params.sizings(want + hashes.len().min(MAX_LINKS_PER_RUN));
            let mut absorbed: u64 = 0;
            let mut links = want;
            while absorbed < hashes.len() as u64 && links < all.len() {
                absorbed = absorbed.saturating_add(all[links].entries);
                links += 1;
            }
            // Short of links only because the budget or the sizing ends the chain: growth
            // past the last one fails as RedisBloom's would.
            blocked = absorbed < hashes.len() as u64;
            sizings = all;
            sizings.truncate(links);
        }
        let prefix = link_prefix(key);
        let mut keys = Vec::with_capacity(sizings.len() + 1);
        keys.push(key.to_vec());
        keys.extend((0..sizings.len()).map(|i| link_key(&prefix, i)));
        let strings = params.strings();
        let assumed_links = assumed.map_or(0, |m| m.links).to_string();
        let mut args: Vec<Vec<u8>> = Vec::with_capacity(10 + sizings.len() + hashes.len());
        args.push(op.as_bytes().to_vec());
        args.push(create_code.as_bytes().to_vec());
        args.extend(strings[..4].iter().map(|s| s.as_bytes().to_vec()));
        args.push(assumed_links.into_bytes());
        args.push(prefix);
        args.push(sizings.len().to_string().into_bytes());
        args.push(if blocked {
            b"1".to_vec()
        } else {
            b"0".to_vec()
        });
        for s in &sizings {
            args.push(format!("{}:{}:{}", s.entries, s.hashes, s.bytes).into_bytes());
        }
        let per_item: usize = sizings.iter().map(|s| 4 * s.hashes as usize).sum();
        for h in hashes {
            let mut packed = Vec::with_capacity(per_item);
            for s in &sizings {
                push_positions(&mut packed, *h, s);
            }
            args.push(packed);
        }
        let reply = self.eval(exec, &keys, &args)?;
        let code = match reply.first() {
            Some(Reply::Integer(c)) => *c,
            other => return Err(Error::Io(format!("malformed bloom script reply {other:?}"))),
        };
        match code {
            0 => {
                let links = match reply.get(1) {
                    Some(Reply::Integer(n)) => *n as u64,
                    _ => 0,
                };
                let results = reply[2..]
                    .iter()
                    .map(|r| match r {
                        Reply::Integer(n) => *n,
                        _ => 0,
                    })
                    .collect();
                Ok(Run::Done { links, results })
            }
            1 => Ok(Run::Meta(reply[1..].to_vec())),
            2 => Err(Error::WrongType),
            3 => Err(Error::other(NOT_FOUND)),
            4 => Err(Error::other(ITEM_EXISTS)),
            5 => Err(Error::other(match reply.get(1) {
                Some(Reply::Bulk(c)) if c == b"3" => NO_MEMORY,
                _ => INVALID,
            })),
            other => Err(Error::Io(format!("unknown bloom script code {other}"))),
        }
    }

    /// Runs `op` until the filter did not change under it; the results per item.
    fn run(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        op: &str,
        create: Create<'_>,
        hashes: &[BloomHash],
    ) -> Result<Vec<i64>> {
        let mut assumed = self.cached(key);
        for _ in 0..MAX_ATTEMPTS {
            match self.run_once(exec, key, op, create, assumed.as_ref(), hashes) {
                Ok(Run::Done { links, results }) => {
                    let meta = match (assumed, create) {
                        (Some(m), _) => Some(m),
                        (None, Create::With(o)) => Some(Meta::of(o)),
                        (None, Create::No) => None,
                    };
                    self.remember(key, meta.map(|m| Meta { links, ..m }));
                    return Ok(results);
                }
                Ok(Run::Meta(fields)) => {
                    assumed = Meta::parse(&fields);
                    self.remember(key, assumed.clone());
                }
                Err(e) => {
                    self.remember(key, None);
                    return Err(e);
                }
            }
        }
        Err(Error::Io(
            "bloom filter changed under every attempt to update it".into(),
        ))
    }

    /// Adds items in atomic runs of at most [`MAX_PAYLOAD`] bytes of positions.
    fn add(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        create: Create<'_>,
        items: &[&[u8]],
    ) -> Result<Vec<Result<bool>>> {
        let hashes: Vec<BloomHash> = items.iter().map(|i| BloomHash::new(i)).collect();
        let mut out = Vec::with_capacity(items.len());
        let mut rest = &hashes[..];
        loop {
            let chunk = self.chunk_len(key, create, rest);
            let results = self.run(exec, key, "add", create, &rest[..chunk])?;
            let mut full = false;
            for r in results {
                out.push(match r {
                    1 => Ok(true),
                    0 => Ok(false),
                    -1 => {
                        full = true;
                        Err(Error::other(FULL))
                    }
                    _ => Err(Error::other(CANNOT_GROW)),
                });
            }
            rest = &rest[chunk..];
            if full || rest.is_empty() {
                return Ok(out);
            }
        }
    }

    /// How many of `hashes` one run takes: all of them unless their positions would pass
    /// [`MAX_PAYLOAD`] (estimated from the cached or creation parameters).
    fn chunk_len(&self, key: &[u8], create: Create<'_>, hashes: &[BloomHash]) -> usize {
        let params = self.cached(key).or(match create {
            Create::With(o) => Some(Meta {
                links: 1,
                ..Meta::of(o)
            }),
            Create::No => None,
        });
        let Some(p) = params else {
            return hashes.len().max(1);
        };
        // Every link holds at least `capacity` items, so a run of at most this many items
        // never needs more than MAX_LINKS_PER_RUN new links.
        let cap = usize::try_from(p.capacity.saturating_mul(MAX_LINKS_PER_RUN as u64))
            .unwrap_or(usize::MAX);
        let mut n = hashes.len().min(cap);
        while n > 1 {
            let links = usize::try_from(p.links).unwrap_or(1).max(1) + n.min(MAX_LINKS_PER_RUN);
            let per_item: usize = p.sizings(links).iter().map(|s| 4 * s.hashes as usize).sum();
            if n.saturating_mul(per_item) <= MAX_PAYLOAD {
                break;
            }
            n /= 2;
        }
        n.max(1).min(hashes.len().max(1))
    }

    /// BF.RESERVE.
    pub(crate) fn reserve(&self, exec: Exec<'_>, key: &[u8], opts: &BloomOptions) -> Result<()> {
        check_reserve(opts)?;
        self.run(exec, key, "reserve", Create::With(opts), &[])
            .map(|_| ())
    }

    /// BF.ADD.
    pub(crate) fn add_one(&self, exec: Exec<'_>, key: &[u8], item: &[u8]) -> Result<bool> {
        let opts = BloomOptions::default();
        let mut r = self.add(exec, key, Create::With(&opts), &[item])?;
        r.pop().unwrap_or(Ok(false))
    }

    /// BF.MADD.
    pub(crate) fn madd(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        items: &[&[u8]],
    ) -> Result<Vec<Result<bool>>> {
        if items.is_empty() {
            return Err(Error::WrongArity("bf.madd".into()));
        }
        let opts = BloomOptions::default();
        self.add(exec, key, Create::With(&opts), items)
    }

    /// BF.INSERT.
    pub(crate) fn insert(
        &self,
        exec: Exec<'_>,
        key: &[u8],
        opts: &BfInsertOptions,
        items: &[&[u8]],
    ) -> Result<Vec<Result<bool>>> {
        if items.is_empty() {
            return Err(Error::WrongArity("bf.insert".into()));
        }
        check_insert(&opts.filter)?;
        let create = if opts.nocreate {
            Create::No
        } else {
            Create::With(&opts.filter)
        };
        self.add(exec, key, create, items)
    }

    /// BF.MEXISTS (false for a missing key and for another type, as RedisBloom answers).
    pub(crate) fn mexists(&self, exec: Exec<'_>, key: &[u8], items: &[&[u8]]) -> Result<Vec<bool>> {
        if items.is_empty() {
            return Err(Error::WrongArity("bf.mexists".into()));
        }
        let hashes: Vec<BloomHash> = items.iter().map(|i| BloomHash::new(i)).collect();
        match self.run(exec, key, "exists", Create::No, &hashes) {
            Ok(r) => Ok(r.into_iter().map(|x| x == 1).collect()),
            Err(Error::WrongType) => Ok(vec![false; items.len()]),
            Err(e) if e.to_string() == NOT_FOUND => Ok(vec![false; items.len()]),
            Err(e) => Err(e),
        }
    }

    /// The stored metadata and item count, or `ERR not found` / WRONGTYPE.
    fn read(&self, exec: Exec<'_>, key: &[u8]) -> Result<(Meta, u64)> {
        let reply = self.eval(exec, &[key.to_vec()], &[b"read".to_vec()])?;
        match reply.first() {
            Some(Reply::Integer(0)) => {}
            Some(Reply::Integer(2)) => return Err(Error::WrongType),
            Some(Reply::Integer(3)) => return Err(Error::other(NOT_FOUND)),
            other => return Err(Error::Io(format!("malformed bloom script reply {other:?}"))),
        }
        let meta = Meta::parse(&reply[1..6])
            .ok_or_else(|| Error::Io("malformed bloom filter metadata".into()))?;
        let items = match reply.get(6) {
            Some(Reply::Bulk(b)) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            _ => 0,
        };
        self.remember(key, Some(meta.clone()));
        Ok((meta, items))
    }

    /// BF.INFO.
    pub(crate) fn info(&self, exec: Exec<'_>, key: &[u8]) -> Result<BloomInfo> {
        let (meta, items) = self.read(exec, key)?;
        let sizings = meta.sizings(usize::try_from(meta.links).unwrap_or(0));
        let capacity = sizings
            .iter()
            .fold(0u64, |sum, s| sum.wrapping_add(s.entries));
        let bytes = sizings
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.bytes));
        Ok(BloomInfo {
            capacity,
            size: CHAIN_OVERHEAD_BYTES + LINK_OVERHEAD_BYTES * meta.links + bytes,
            filters: meta.links,
            items,
            expansion: (!meta.nonscaling).then_some(meta.expansion),
        })
    }

    /// BF.CARD (0 for a missing key).
    pub(crate) fn card(&self, exec: Exec<'_>, key: &[u8]) -> Result<u64> {
        match self.read(exec, key) {
            Ok((_, items)) => Ok(items),
            Err(e) if e.to_string() == NOT_FOUND => Ok(0),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::bloom::ScalableBloomFilter;

    #[test]
    fn link_keys_share_the_filter_key_slot() {
        use super::super::redis::key_slot;
        for key in [&b"bf"[..], b"seen:pages", b"a{}b", b"x{", b"", b"{tag}:bf"] {
            let p = link_prefix(key);
            assert_eq!(key_slot(&link_key(&p, 0)), key_slot(key), "{key:?}");
            assert_eq!(key_slot(&link_key(&p, 17)), key_slot(key), "{key:?}");
        }
        assert_eq!(link_prefix(b"{s}:f"), b"{s}:f:bf:");
        assert!(slot_tags().iter().all(|&t| t != u32::MAX));
    }

    #[test]
    fn sizings_match_the_filter_links() {
        let mut f = ScalableBloomFilter::new(10, 0.01, 2, false).unwrap();
        for i in 0..200u32 {
            f.insert(&i.to_le_bytes()).unwrap();
        }
        let meta = Meta {
            capacity: 10,
            error: 0.01,
            expansion: 2,
            nonscaling: false,
            links: f.links().len() as u64,
        };
        let s = meta.sizings(f.links().len());
        assert_eq!(s.len(), f.links().len());
        for (s, l) in s.iter().zip(f.links()) {
            assert_eq!(
                (s.entries, s.hashes, s.bits),
                (l.entries(), l.hashes(), l.bits())
            );
        }
    }

    #[test]
    fn positions_are_redisbloom_bytes_as_redis_bits() {
        // The worked example of `types::bloom`: BF.RESERVE bf 0.1 10, BF.ADD bf item1 sets
        // bits {11, 0, 53, 42, 31} of a 64-bit link.
        let s = LinkSizing::compute(10, 0.05, COMMAND_OPTIONS).unwrap();
        let mut out = Vec::new();
        push_positions(&mut out, BloomHash::new(b"item1"), &s);
        let got: Vec<u32> = out
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let redis_bit = |x: u32| (x & !7) | (7 - (x & 7));
        assert_eq!(got, [11, 0, 53, 42, 31].map(redis_bit));
    }
}
