//! A Redis sorted set: members ordered by (score, member bytes), with Redis 7.0's semantics.
//!
//! # Design
//!
//! Redis keeps a sorted set as a listpack while it is small and as a skiplist with spans plus a
//! member → score dict after. Both hold the same order: score ascending, ties broken by
//! `memcmp` of the member bytes (shorter first on a common prefix), with `-0` and `+0` equal.
//! The order, not the structure, is what replies show, so one structure serves both here and
//! the encoding is a label that follows Redis's conversion rules for `OBJECT ENCODING`:
//!
//! - a set starts as `listpack` (or `skiplist` straight away, see [`ZSet::for_zadd`]);
//! - adding a new member converts it to `skiplist` when it would exceed
//!   [`MAX_LISTPACK_ENTRIES`] entries or the member is longer than [`MAX_LISTPACK_VALUE`]
//!   bytes; updating a score never converts;
//! - nothing converts back except a freshly built destination
//!   ([`ZSet::convert_to_listpack_if_fits`], what `ZUNIONSTORE` and friends do).
//!
//! One difference between the encodings is visible: a listpack stores a score as text and
//! reads `-0` back as the integer `0`, so a `-0` score stored in a listpack is `0` from then
//! on (`ZADD z -0 m` replies with nothing to show it, `ZSCORE z m` is `0`), while a skiplist
//! keeps `-0`. Scores are normalized the same way here when stored under `listpack`. Every
//! other double survives Redis's text form exactly (`%.17g` or an integer), so no other
//! score changes.
//!
//! The structure is an order-statistic treap: every node stores its subtree size, so rank,
//! select, insertion and removal are O(log n) expected, and a range of k entries costs
//! O(log n + k), the bounds of Redis's skiplist with spans. Node priorities come from a fixed
//! xorshift sequence: deterministic across runs, and independent of the members, so no input
//! can unbalance the tree. A `hashbrown::HashTable` of node indices, hashed by member bytes,
//! gives O(1) member lookup without storing each member twice.
//!
//! Cost: a node is about 40 bytes plus the member, and an index slot 4 bytes; a listpack
//! in Redis is smaller for tiny sets.
//!
//! # Representation
//!
//! ```text
//! nodes: [Node { member, score, prio, left, right, size }, ...]   arena, u32 links, NIL = !0
//!        freed slots are reused through `free`
//! root ──► node (prio >= children's prio; in-order = (score, member) ascending;
//!                size = 1 + size(left) + size(right))
//! index: HashTable<u32>   member bytes → node index
//! encoding: Listpack | Skiplist                     what OBJECT ENCODING reports
//! ```
//!
//! # Worked example
//!
//! `ZADD z 2 b 1 c 2 a` orders the members `c(1) a(2) b(2)`: `a` and `b` tie on score and
//! `a` < `b` bytewise. `ZRANK z b` is 2: descending from the root, every left subtree passed
//! and every node stepped over adds to the count. `ZRANGEBYSCORE z (1 +inf` finds the first
//! rank whose score is above 1 (1) and the first rank above +inf (3), then lists ranks 1..3.
//!
//! # References
//!
//! Redis 7.0 `src/t_zset.c` (`zsetAdd`, `zslParseRange`, `zslParseLexRangeItem`,
//! `zunionInterDiffGenericCommand`, `zunionInterAggregate`, `zsetConvertToListpackIfNeeded`,
//! `genericZrangebyscoreCommand`), `src/util.c` (`string2d`), `src/object.c`
//! (`getDoubleFromObject`). Behaviour checked against redis-server 7.0.15 by
//! `tests/types_zset_redis.rs`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::types::set::SetValue;

/// New members beyond this count make a listpack a skiplist (`zset-max-listpack-entries`).
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// A member longer than this makes a listpack a skiplist (`zset-max-listpack-value`).
pub const MAX_LISTPACK_VALUE: usize = 64;

/// The listpack limits (`zset-max-listpack-entries`, `zset-max-listpack-value`) a set
/// converts by; [`Default`] is Redis's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListpackLimits {
    /// Most entries a listpack holds.
    pub entries: usize,
    /// Longest member a listpack holds.
    pub value: usize,
}

impl Default for ListpackLimits {
    fn default() -> Self {
        ListpackLimits {
            entries: MAX_LISTPACK_ENTRIES,
            value: MAX_LISTPACK_VALUE,
        }
    }
}

/// What `OBJECT ENCODING` reports for a sorted set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZsetEncoding {
    /// Redis's compact form for small sets.
    Listpack,
    /// Redis's skiplist + dict form.
    Skiplist,
}

impl ZsetEncoding {
    /// The name `OBJECT ENCODING` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ZsetEncoding::Listpack => "listpack",
            ZsetEncoding::Skiplist => "skiplist",
        }
    }
}

/// Why a sorted-set operation failed. `Display` is Redis's exact error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZsetError {
    /// A score or increment does not parse.
    NotAFloat,
    /// An `INCR` produced NaN (`inf` + `-inf`).
    ResultNan,
    /// A score range end does not parse.
    MinMaxNotFloat,
    /// A lex range end does not start with `[`, `(`, or is not exactly `-` or `+`.
    MinMaxNotLex,
    /// `ZADD` with both `NX` and `XX`.
    XxAndNx,
    /// `ZADD` with `NX` and `GT` or `LT`, or with both `GT` and `LT`.
    GtLtNx,
    /// `ZADD ... INCR` with more than one score-member pair.
    IncrSinglePair,
}

impl fmt::Display for ZsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ZsetError::NotAFloat => "ERR value is not a valid float",
            ZsetError::ResultNan => "ERR resulting score is not a number (NaN)",
            ZsetError::MinMaxNotFloat => "ERR min or max is not a float",
            ZsetError::MinMaxNotLex => "ERR min or max not valid string range item",
            ZsetError::XxAndNx => "ERR XX and NX options at the same time are not compatible",
            ZsetError::GtLtNx => {
                "ERR GT, LT, and/or NX options at the same time are not compatible"
            }
            ZsetError::IncrSinglePair => "ERR INCR option supports a single increment-element pair",
        })
    }
}

impl std::error::Error for ZsetError {}

impl From<ZsetError> for crate::Error {
    fn from(e: ZsetError) -> crate::Error {
        match e {
            ZsetError::NotAFloat => crate::Error::NotFloat,
            other => crate::Error::Other(other.to_string()),
        }
    }
}

/// A score as Redis prints it in replies (C's `%.17g`; `inf`, `-inf`).
pub fn format_score(score: f64) -> String {
    crate::reply::format_double(score)
}
/// glibc `strtod` over a whole string (no leading space, nothing left over): the value, and
/// whether `errno` would be `ERANGE` (overflow to infinity, or underflow to zero or a
/// subnormal). NaN spellings give NaN. `None` when the string is not entirely one number.
fn strtod_whole(s: &[u8]) -> Option<(f64, bool)> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return None,
    };
    let sign = |x: f64| if neg { -x } else { x };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some((sign(f64::INFINITY), false));
    }
    if body.eq_ignore_ascii_case(b"nan") {
        return Some((f64::NAN, false));
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return hex_body(&body[2..]).map(|(v, erange)| (sign(v), erange));
    }
    // Decimal: digits with at most one point (at least one digit), then an optional
    // exponent with at least one digit. Rust's parser accepts exactly these strings here
    // and rounds correctly, as glibc does.
    let (mantissa, exponent) = match body.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mut digits = 0;
    let mut points = 0;
    for &b in mantissa {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    if digits == 0 || points > 1 {
        return None;
    }
    if let Some(e) = exponent {
        let e = e
            .strip_prefix(b"-")
            .or_else(|| e.strip_prefix(b"+"))
            .unwrap_or(e);
        if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
            return None;
        }
    }
    let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
    let nonzero = mantissa.iter().any(|&b| (b'1'..=b'9').contains(&b));
    let erange = v.is_infinite() || (nonzero && v.abs() < f64::MIN_POSITIVE);
    Some((sign(v), erange))
}

/// A hexadecimal float after `0x`: hex digits with an optional point, then an optional `p`
/// binary exponent; rounded to nearest, ties to even, as glibc does.
fn hex_body(s: &[u8]) -> Option<(f64, bool)> {
    let (mantissa, exponent) = match s.iter().position(|&b| b == b'p' || b == b'P') {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    // Up to 16 significant hex digits in `m`; the rest only matter as a sticky bit.
    let mut m: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut seen_point = false;
    for &b in mantissa {
        if b == b'.' {
            if seen_point {
                return None;
            }
            seen_point = true;
            continue;
        }
        let d = u64::from((b as char).to_digit(16)?);
        digits += 1;
        if m >> 60 == 0 {
            m = m << 4 | d;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
    }
    if digits == 0 {
        return None;
    }
    if let Some(e) = exponent {
        let (eneg, e) = match e.first() {
            Some(b'-') => (true, &e[1..]),
            Some(b'+') => (false, &e[1..]),
            _ => (false, e),
        };
        if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Saturated: past a few thousand everything over- or underflows anyway.
        let mut v: i64 = 0;
        for &b in e {
            v = (v * 10 + i64::from(b - b'0')).min(1 << 20);
        }
        exp += if eneg { -v } else { v };
    }
    if m == 0 {
        return Some((0.0, false));
    }
    let lz = i64::from(m.leading_zeros());
    m <<= lz;
    exp -= lz;
    // The value is now 1.xxx * 2^e2.
    let e2 = exp + 63;
    if e2 > 1023 {
        return Some((f64::INFINITY, true));
    }
    // Significant bits kept: 53 for normal numbers, fewer below 2^-1022.
    let keep = if e2 >= -1022 { 53 } else { 53 - (-1022 - e2) };
    if keep <= 0 {
        // Above half the smallest subnormal rounds up to it; a tie rounds to even (zero).
        let above_half = keep == 0 && (m << 1 != 0 || sticky);
        return Some((if above_half { f64::from_bits(1) } else { 0.0 }, true));
    }
    let drop = 64 - keep as u32;
    let mut q = m >> drop;
    let rest = m & ((1u64 << drop) - 1);
    let halfway = 1u64 << (drop - 1);
    if rest > halfway || (rest == halfway && (sticky || q & 1 == 1)) {
        q += 1;
    }
    let scale = e2 - (keep - 1);
    // q <= 2^53, so q * 2^scale is exact unless it overflows.
    let v = q as f64 * pow2(scale);
    Some((v, v.is_infinite() || keep < 53))
}

/// 2^e for -1074 <= e <= 1023, exactly.
fn pow2(e: i64) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A score argument, as Redis's `string2d` (`getDoubleFromObject`) takes it: the whole
/// string is one `strtod` number, not empty, no leading space, not NaN, no overflow to
/// infinity and no underflow to zero (`inf` spelled out is fine). `None` is
/// [`ZsetError::NotAFloat`].
pub fn parse_score(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let (v, erange) = strtod_whole(s)?;
    if v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// One end of a score range as `zslParseRange` reads it: plain `strtod` up to the first NUL
/// byte (the argument is a C string there), so leading spaces, overflow to infinity and an
/// empty string (0) are accepted; only NaN and trailing bytes are refused.
fn parse_range_float(s: &[u8]) -> Option<f64> {
    let s = match s.iter().position(|&b| b == 0) {
        Some(nul) => &s[..nul],
        None => s,
    };
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|&b| !is_c_space(b))?;
    let (v, _) = strtod_whole(&s[start..])?;
    (!v.is_nan()).then_some(v)
}

/// `ZADD`'s condition flags (`CH` only shapes the reply and is the caller's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZaddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Update an existing member only when the new score is greater.
    pub gt: bool,
    /// Update an existing member only when the new score is less.
    pub lt: bool,
    /// The score is an increment (`ZINCRBY`, `ZADD ... INCR`).
    pub incr: bool,
}

impl ZaddFlags {
    /// Redis's checks on the flag combination, given the number of score-member pairs, in
    /// Redis's order.
    pub fn validate(&self, pairs: usize) -> Result<(), ZsetError> {
        if self.nx && self.xx {
            return Err(ZsetError::XxAndNx);
        }
        if (self.nx && (self.gt || self.lt)) || (self.gt && self.lt) {
            return Err(ZsetError::GtLtNx);
        }
        if self.incr && pairs > 1 {
            return Err(ZsetError::IncrSinglePair);
        }
        Ok(())
    }
}

/// What one `zadd` did (`zsetAdd`'s out flags with the resulting score).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ZaddOutcome {
    /// A new member, with its score.
    Added(f64),
    /// An existing member whose score changed, with the new score.
    Updated(f64),
    /// An existing member whose score stayed (the same score given, or `INCR` by 0).
    Unchanged(f64),
    /// Nothing done: `NX` on an existing member, `XX` on a missing one, or `GT`/`LT` refused.
    /// `ZADD ... INCR` replies nil for it.
    Nop,
}

/// A score range (`ZRANGEBYSCORE`, `ZCOUNT`, `ZREMRANGEBYSCORE`): `min`/`max` with `(` for
/// an exclusive end, `-inf`/`+inf` for none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// Whether `min` itself is excluded.
    pub min_exclusive: bool,
    /// Upper end.
    pub max: f64,
    /// Whether `max` itself is excluded.
    pub max_exclusive: bool,
}

impl ScoreRange {
    /// Parses the two arguments as `zslParseRange` does.
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, ZsetError> {
        let (min, min_exclusive) = parse_score_end(min)?;
        let (max, max_exclusive) = parse_score_end(max)?;
        Ok(ScoreRange {
            min,
            min_exclusive,
            max,
            max_exclusive,
        })
    }

    /// Whether `score` is at or above the lower end.
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    /// Whether `score` is at or below the upper end.
    pub fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

fn parse_score_end(s: &[u8]) -> Result<(f64, bool), ZsetError> {
    let (body, exclusive) = match s.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    parse_range_float(body)
        .map(|v| (v, exclusive))
        .ok_or(ZsetError::MinMaxNotFloat)
}

/// One end of a lex range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    /// `[member`.
    Inclusive(Vec<u8>),
    /// `(member`.
    Exclusive(Vec<u8>),
}

impl LexBound {
    /// Parses one end as `zslParseLexRangeItem` does.
    pub fn parse(s: &[u8]) -> Result<LexBound, ZsetError> {
        // `-` and `+` are read as C strings: a NUL right after them ends the argument.
        let alone = s.get(1).is_none_or(|&b| b == 0);
        match s.first() {
            Some(b'-') if alone => Ok(LexBound::Min),
            Some(b'+') if alone => Ok(LexBound::Max),
            Some(b'[') => Ok(LexBound::Inclusive(s[1..].to_vec())),
            Some(b'(') => Ok(LexBound::Exclusive(s[1..].to_vec())),
            _ => Err(ZsetError::MinMaxNotLex),
        }
    }
}

/// A lex range (`ZRANGEBYLEX`, `ZLEXCOUNT`, `ZREMRANGEBYLEX`). Meaningful when all members
/// share one score, as Redis documents; with mixed scores the answer follows this type's
/// order and may differ from Redis's, whose answer then depends on its encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Parses the two arguments.
    pub fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, ZsetError> {
        Ok(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// Whether `member` is at or above the lower end.
    pub fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(m) => member >= m.as_slice(),
            LexBound::Exclusive(m) => member > m.as_slice(),
        }
    }

    /// Whether `member` is at or below the upper end.
    pub fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(m) => member <= m.as_slice(),
            LexBound::Exclusive(m) => member < m.as_slice(),
        }
    }
}

/// How `ZUNION`/`ZINTER` combine the scores of one member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Aggregate {
    /// Add them (the default); `inf + -inf` counts as 0.
    #[default]
    Sum,
    /// The least.
    Min,
    /// The greatest.
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`.
    fn apply(self, acc: f64, v: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let s = acc + v;
                if s.is_nan() {
                    0.0
                } else {
                    s
                }
            }
            Aggregate::Min => {
                if v < acc {
                    v
                } else {
                    acc
                }
            }
            Aggregate::Max => {
                if v > acc {
                    v
                } else {
                    acc
                }
            }
        }
    }
}

/// An input of `ZUNION`/`ZINTER`/`ZDIFF`: a sorted set, a plain set (every member scores
/// 1), or a missing key (empty).
#[derive(Clone, Copy, Debug)]
pub enum ZInput<'a> {
    /// A sorted set.
    Zset(&'a ZSet),
    /// A set.
    Set(&'a SetValue),
    /// A key that does not exist.
    Missing,
}

impl ZInput<'_> {
    fn len(&self) -> usize {
        match self {
            ZInput::Zset(z) => z.len(),
            ZInput::Set(s) => s.len(),
            ZInput::Missing => 0,
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZInput::Zset(z) => z.score(member),
            ZInput::Set(s) => s.contains(member).then_some(1.0),
            ZInput::Missing => None,
        }
    }

    /// Entries in the input's own order (score order; a set's iteration order).
    fn entries(&self) -> Vec<(Vec<u8>, f64)> {
        match self {
            ZInput::Zset(z) => z.iter().map(|(m, s)| (m.to_vec(), s)).collect(),
            ZInput::Set(s) => s.members().into_iter().map(|m| (m, 1.0)).collect(),
            ZInput::Missing => Vec::new(),
        }
    }
}

/// Redis's rank window: negative indices count from the end; `None` when empty. The result
/// is the half-open rank range.
pub fn rank_window(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 {
        start.saturating_add(len_i)
    } else {
        start
    };
    let mut stop = if stop < 0 {
        stop.saturating_add(len_i)
    } else {
        stop
    };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len_i {
        return None;
    }
    if stop >= len_i {
        stop = len_i - 1;
    }
    let lo = usize::try_from(start).ok()?;
    let hi = usize::try_from(stop).ok()?;
    Some((lo, hi + 1))
}

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    member: Vec<u8>,
    score: f64,
    prio: u32,
    left: u32,
    right: u32,
    size: u32,
}

/// Redis's order: score (`-0` == `+0`; NaN is never stored), then member bytes.
fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

/// The order-statistic treap: an arena of nodes linked by index.
#[derive(Clone, Debug)]
struct Tree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    rng: u32,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            rng: 0x9e37_79b9,
        }
    }

    fn node(&self, t: u32) -> &Node {
        &self.nodes[t as usize]
    }

    fn node_mut(&mut self, t: u32) -> &mut Node {
        &mut self.nodes[t as usize]
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL {
            0
        } else {
            self.node(t).size as usize
        }
    }

    fn len(&self) -> usize {
        self.size(self.root)
    }

    fn update(&mut self, t: u32) {
        let n = self.node(t);
        let size = 1 + self.size(n.left) + self.size(n.right);
        self.node_mut(t).size = size as u32;
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift32: a full-period sequence independent of the data.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    fn alloc(&mut self, member: Vec<u8>, score: f64) -> u32 {
        let node = Node {
            member,
            score,
            prio: self.next_prio(),
            left: NIL,
            right: NIL,
            size: 1,
        };
        match self.free.pop() {
            Some(t) => {
                *self.node_mut(t) = node;
                t
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, t: u32) -> Vec<u8> {
        let n = self.node_mut(t);
        n.left = NIL;
        n.right = NIL;
        self.free.push(t);
        std::mem::take(&mut self.node_mut(t).member)
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.node(a).prio >= self.node(b).prio {
            let r = self.merge(self.node(a).right, b);
            self.node_mut(a).right = r;
            self.update(a);
            a
        } else {
            let l = self.merge(a, self.node(b).left);
            self.node_mut(b).left = l;
            self.update(b);
            b
        }
    }

    /// Splits `t` into its first `k` entries and the rest.
    fn split(&mut self, t: u32, k: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let left = self.node(t).left;
        let ls = self.size(left);
        if k <= ls {
            let (a, b) = self.split(left, k);
            self.node_mut(t).left = b;
            self.update(t);
            (a, t)
        } else {
            let (a, b) = self.split(self.node(t).right, k - ls - 1);
            self.node_mut(t).right = a;
            self.update(t);
            (t, b)
        }
    }

    /// The length of the prefix whose entries satisfy `before` (true up to some rank, false
    /// after: the predicate must be monotone in the order).
    fn count_prefix(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut count = 0;
        while t != NIL {
            let n = self.node(t);
            if before(n.score, &n.member) {
                count += self.size(n.left) + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        count
    }

    /// Rank of `(score, member)` among the entries: how many order before it.
    fn rank_of(&self, score: f64, member: &[u8]) -> usize {
        self.count_prefix(|s, m| cmp_entry(s, m, score, member) == Ordering::Less)
    }

    fn insert_at(&mut self, k: usize, t: u32) {
        let (a, b) = self.split(self.root, k);
        let a = self.merge(a, t);
        self.root = self.merge(a, b);
    }

    /// Detaches the entries of ranks `lo..hi`, returning their subtree.
    fn cut(&mut self, lo: usize, hi: usize) -> u32 {
        let (a, bc) = self.split(self.root, lo);
        let (b, c) = self.split(bc, hi - lo);
        self.root = self.merge(a, c);
        b
    }

    /// Entries of ranks `lo..hi` of subtree `t` (whose first entry has rank `base`), in order.
    fn collect<'a>(
        &'a self,
        t: u32,
        base: usize,
        lo: usize,
        hi: usize,
        out: &mut Vec<(&'a [u8], f64)>,
    ) {
        if t == NIL || lo >= hi {
            return;
        }
        let n = self.node(t);
        let here = base + self.size(n.left);
        if lo < here {
            self.collect(n.left, base, lo, hi, out);
        }
        if lo <= here && here < hi {
            out.push((&n.member, n.score));
        }
        if here + 1 < hi {
            self.collect(n.right, here + 1, lo, hi, out);
        }
    }

    /// The node indices of subtree `t`, in order.
    fn subtree_nodes(&self, t: u32, out: &mut Vec<u32>) {
        if t == NIL {
            return;
        }
        let n = self.node(t);
        self.subtree_nodes(n.left, out);
        out.push(t);
        self.subtree_nodes(n.right, out);
    }
}

/// A Redis sorted set.
#[derive(Clone, Debug)]
pub struct ZSet {
    tree: Tree,
    index: HashTable<u32>,
    hasher: RandomState,
    encoding: ZsetEncoding,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &ZSet) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((m1, s1), (m2, s2))| m1 == m2 && s1.to_bits() == s2.to_bits())
    }
}

impl ZSet {
    /// An empty set in the `listpack` encoding.
    pub fn new() -> ZSet {
        ZSet {
            tree: Tree::new(),
            index: HashTable::new(),
            hasher: RandomState::new(),
            encoding: ZsetEncoding::Listpack,
        }
    }

    /// An empty set in the given encoding.
    pub fn with_encoding(encoding: ZsetEncoding) -> ZSet {
        ZSet {
            encoding,
            ..ZSet::new()
        }
    }

    /// The empty set `ZADD` creates for a missing key: `skiplist` when the first member
    /// argument is longer than [`MAX_LISTPACK_VALUE`], `listpack` otherwise (Redis 7.0 looks
    /// at that one member only; later ones convert as they are added).
    pub fn for_zadd(first_member: &[u8]) -> ZSet {
        ZSet::for_zadd_within(first_member, ListpackLimits::default())
    }

    /// [`ZSet::for_zadd`] under the given limits (an entry limit of 0 means `skiplist`).
    pub fn for_zadd_within(first_member: &[u8], limits: ListpackLimits) -> ZSet {
        if limits.entries == 0 || first_member.len() > limits.value {
            ZSet::with_encoding(ZsetEncoding::Skiplist)
        } else {
            ZSet::new()
        }
    }

    /// The empty destination `ZRANGESTORE` fills: `skiplist` when more than
    /// [`MAX_LISTPACK_ENTRIES`] entries are coming.
    pub fn for_length(len: usize) -> ZSet {
        ZSet::for_length_within(len, ListpackLimits::default())
    }

    /// [`ZSet::for_length`] under the given limits.
    pub fn for_length_within(len: usize, limits: ListpackLimits) -> ZSet {
        if len > limits.entries {
            ZSet::with_encoding(ZsetEncoding::Skiplist)
        } else {
            ZSet::new()
        }
    }

    /// A set from a snapshot's entries in the given encoding: `None` on a NaN score or a
    /// repeated member. Under `listpack` a `-0` score is stored as `0`, as Redis does.
    pub fn restore<I: IntoIterator<Item = (Vec<u8>, f64)>>(
        encoding: ZsetEncoding,
        entries: I,
    ) -> Option<ZSet> {
        let mut z = ZSet::with_encoding(encoding);
        for (m, s) in entries {
            if s.is_nan() || z.contains(&m) {
                return None;
            }
            z.insert_new(&m, s);
        }
        Some(z)
    }

    /// What `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> ZsetEncoding {
        self.encoding
    }

    /// `zsetConvertToListpackIfNeeded`: a `skiplist` set small enough for a listpack becomes
    /// one. Redis does this only to a freshly built destination key.
    pub fn convert_to_listpack_if_fits(&mut self) {
        self.convert_to_listpack_if_fits_within(ListpackLimits::default());
    }

    /// [`ZSet::convert_to_listpack_if_fits`] under the given limits.
    pub fn convert_to_listpack_if_fits_within(&mut self, limits: ListpackLimits) {
        if self.encoding == ZsetEncoding::Skiplist
            && self.len() <= limits.entries
            && self.iter().all(|(m, _)| m.len() <= limits.value)
        {
            self.encoding = ZsetEncoding::Listpack;
            for n in &mut self.tree.nodes {
                if n.score == 0.0 {
                    n.score = 0.0;
                }
            }
        }
    }

    /// Number of members (`ZCARD`).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let nodes = &self.tree.nodes;
        self.index
            .find(self.hash(member), |&t| nodes[t as usize].member == member)
            .copied()
    }

    /// The score of `member` (`ZSCORE`).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|t| self.tree.node(t).score)
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// The score as the encoding stores it: a listpack keeps scores as text that it reads
    /// back as numbers, and `-0` comes back as `0` (a skiplist keeps the double).
    fn stored(&self, score: f64) -> f64 {
        if self.encoding == ZsetEncoding::Listpack && score == 0.0 {
            0.0
        } else {
            score
        }
    }

    fn insert_new(&mut self, member: &[u8], score: f64) {
        let score = self.stored(score);
        let k = self.tree.rank_of(score, member);
        let t = self.tree.alloc(member.to_vec(), score);
        self.tree.insert_at(k, t);
        let hash = self.hash(member);
        let ZSet {
            tree,
            index,
            hasher,
            ..
        } = self;
        index.insert_unique(hash, t, |&i| {
            hasher.hash_one(tree.nodes[i as usize].member.as_slice())
        });
    }

    /// Moves the existing node `t` to `score`.
    fn rescore(&mut self, t: u32, score: f64) {
        let n = self.tree.node(t);
        let k = self.tree.rank_of(n.score, &n.member);
        let detached = self.tree.cut(k, k + 1);
        debug_assert_eq!(detached, t);
        let score = self.stored(score);
        self.tree.node_mut(t).score = score;
        let n = self.tree.node(t);
        let k = self.tree.rank_of(n.score, &n.member);
        self.tree.insert_at(k, t);
    }

    /// `zsetAdd`: adds or updates `member` under `flags`. An `INCR` whose result is NaN is
    /// refused ([`ZsetError::ResultNan`]); `score` itself must not be NaN (a parsed score
    /// never is).
    pub fn zadd(
        &mut self,
        member: &[u8],
        score: f64,
        flags: ZaddFlags,
    ) -> Result<ZaddOutcome, ZsetError> {
        self.zadd_within(member, score, flags, ListpackLimits::default())
    }

    /// [`ZSet::zadd`] converting to `skiplist` by the given limits.
    pub fn zadd_within(
        &mut self,
        member: &[u8],
        score: f64,
        flags: ZaddFlags,
        limits: ListpackLimits,
    ) -> Result<ZaddOutcome, ZsetError> {
        if score.is_nan() {
            return Err(ZsetError::ResultNan);
        }
        match self.find(member) {
            Some(t) => {
                if flags.nx {
                    return Ok(ZaddOutcome::Nop);
                }
                let current = self.tree.node(t).score;
                let mut score = score;
                if flags.incr {
                    score += current;
                    if score.is_nan() {
                        return Err(ZsetError::ResultNan);
                    }
                }
                if (flags.lt && score >= current) || (flags.gt && score <= current) {
                    return Ok(ZaddOutcome::Nop);
                }
                if score == current {
                    return Ok(ZaddOutcome::Unchanged(score));
                }
                self.rescore(t, score);
                Ok(ZaddOutcome::Updated(score))
            }
            None if flags.xx => Ok(ZaddOutcome::Nop),
            None => {
                if self.len() + 1 > limits.entries || member.len() > limits.value {
                    self.encoding = ZsetEncoding::Skiplist;
                }
                self.insert_new(member, score);
                Ok(ZaddOutcome::Added(score))
            }
        }
    }

    /// `ZINCRBY`: adds `increment` to the score of `member` (0 when missing); the new score.
    pub fn zincrby(&mut self, member: &[u8], increment: f64) -> Result<f64, ZsetError> {
        let flags = ZaddFlags {
            incr: true,
            ..ZaddFlags::default()
        };
        match self.zadd(member, increment, flags)? {
            ZaddOutcome::Added(s) | ZaddOutcome::Updated(s) | ZaddOutcome::Unchanged(s) => Ok(s),
            // Unreachable without NX/XX/GT/LT; the increment is the closest honest answer.
            ZaddOutcome::Nop => Ok(increment),
        }
    }

    /// Removes `member` (`ZREM`); whether it was there.
    pub fn zrem(&mut self, member: &[u8]) -> bool {
        let Some(t) = self.find(member) else {
            return false;
        };
        let n = self.tree.node(t);
        let k = self.tree.rank_of(n.score, &n.member);
        let detached = self.tree.cut(k, k + 1);
        self.free_subtree(detached);
        true
    }

    /// Drops a detached subtree's nodes and their index entries; their entries in order.
    fn free_subtree(&mut self, t: u32) -> Vec<(Vec<u8>, f64)> {
        let mut ids = Vec::with_capacity(self.tree.size(t));
        self.tree.subtree_nodes(t, &mut ids);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let hash = self.hash(&self.tree.node(id).member);
            if let Ok(entry) = self.index.find_entry(hash, |&i| i == id) {
                entry.remove();
            }
            let score = self.tree.node(id).score;
            out.push((self.tree.release(id), score));
        }
        out
    }

    /// 0-based rank of `member`, lowest score first (`ZRANK`).
    pub fn zrank(&self, member: &[u8]) -> Option<usize> {
        let t = self.find(member)?;
        let n = self.tree.node(t);
        Some(self.tree.rank_of(n.score, &n.member))
    }

    /// 0-based rank of `member`, highest score first (`ZREVRANK`).
    pub fn zrevrank(&self, member: &[u8]) -> Option<usize> {
        self.zrank(member).map(|r| self.len() - 1 - r)
    }

    /// All entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> {
        self.entries(0, self.len()).into_iter()
    }

    /// Entries of ranks `lo..hi` in order.
    fn entries(&self, lo: usize, hi: usize) -> Vec<(&[u8], f64)> {
        let hi = hi.min(self.len());
        let mut out = Vec::with_capacity(hi.saturating_sub(lo));
        self.tree.collect(self.tree.root, 0, lo, hi, &mut out);
        out
    }

    /// `ZRANGE start stop [REV]`: by rank, negative indices from the end. With `rev` the
    /// ranks count from the highest score and entries come highest first.
    pub fn range_by_rank(&self, start: i64, stop: i64, rev: bool) -> Vec<(&[u8], f64)> {
        let len = self.len();
        let Some((lo, hi)) = rank_window(start, stop, len) else {
            return Vec::new();
        };
        if rev {
            let mut v = self.entries(len - hi, len - lo);
            v.reverse();
            v
        } else {
            self.entries(lo, hi)
        }
    }

    /// The half-open rank range of the entries in `range`.
    fn score_ranks(&self, range: &ScoreRange) -> (usize, usize) {
        let lo = self.tree.count_prefix(|s, _| !range.above_min(s));
        let hi = self.tree.count_prefix(|s, _| range.below_max(s));
        (lo, hi.max(lo))
    }

    /// The half-open rank range of the entries in `range`.
    fn lex_ranks(&self, range: &LexRange) -> (usize, usize) {
        let lo = self.tree.count_prefix(|_, m| !range.above_min(m));
        let hi = self.tree.count_prefix(|_, m| range.below_max(m));
        (lo, hi.max(lo))
    }

    /// Ranks `lo..hi`, skipping `offset` and taking `count` (negative: all) from the low
    /// end, or from the high end when `rev`; Redis's `LIMIT` (a negative offset gives nothing).
    fn window(
        &self,
        lo: usize,
        hi: usize,
        rev: bool,
        offset: i64,
        count: i64,
    ) -> Vec<(&[u8], f64)> {
        let Ok(offset) = usize::try_from(offset) else {
            return Vec::new();
        };
        let avail = (hi - lo).saturating_sub(offset);
        let take = usize::try_from(count).map_or(avail, |c| c.min(avail));
        if rev {
            let top = hi - offset.min(hi - lo);
            let mut v = self.entries(top - take, top);
            v.reverse();
            v
        } else {
            let from = lo + offset.min(hi - lo);
            self.entries(from, from + take)
        }
    }

    /// `ZRANGEBYSCORE` / `ZREVRANGEBYSCORE` / `ZRANGE ... BYSCORE [REV] [LIMIT offset count]`.
    /// Pass `offset` 0 and `count` -1 for no `LIMIT`.
    pub fn range_by_score(
        &self,
        range: &ScoreRange,
        rev: bool,
        offset: i64,
        count: i64,
    ) -> Vec<(&[u8], f64)> {
        let (lo, hi) = self.score_ranks(range);
        self.window(lo, hi, rev, offset, count)
    }

    /// `ZRANGEBYLEX` / `ZREVRANGEBYLEX` / `ZRANGE ... BYLEX [REV] [LIMIT offset count]`.
    pub fn range_by_lex(
        &self,
        range: &LexRange,
        rev: bool,
        offset: i64,
        count: i64,
    ) -> Vec<(&[u8], f64)> {
        let (lo, hi) = self.lex_ranks(range);
        self.window(lo, hi, rev, offset, count)
    }

    /// `ZCOUNT`.
    pub fn zcount(&self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(range);
        hi - lo
    }

    /// `ZLEXCOUNT`.
    pub fn zlexcount(&self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_ranks(range);
        hi - lo
    }

    fn remove_ranks(&mut self, lo: usize, hi: usize) -> Vec<(Vec<u8>, f64)> {
        if lo >= hi {
            return Vec::new();
        }
        let cut = self.tree.cut(lo, hi);
        self.free_subtree(cut)
    }

    /// `ZREMRANGEBYRANK`: the number removed.
    pub fn zremrangebyrank(&mut self, start: i64, stop: i64) -> usize {
        match rank_window(start, stop, self.len()) {
            Some((lo, hi)) => self.remove_ranks(lo, hi).len(),
            None => 0,
        }
    }

    /// `ZREMRANGEBYSCORE`: the number removed.
    pub fn zremrangebyscore(&mut self, range: &ScoreRange) -> usize {
        let (lo, hi) = self.score_ranks(range);
        self.remove_ranks(lo, hi).len()
    }

    /// `ZREMRANGEBYLEX`: the number removed.
    pub fn zremrangebylex(&mut self, range: &LexRange) -> usize {
        let (lo, hi) = self.lex_ranks(range);
        self.remove_ranks(lo, hi).len()
    }

    /// `ZPOPMIN key count`: up to `count` lowest entries, lowest first.
    pub fn zpopmin(&mut self, count: usize) -> Vec<(Vec<u8>, f64)> {
        let n = count.min(self.len());
        self.remove_ranks(0, n)
    }

    /// `ZPOPMAX key count`: up to `count` highest entries, highest first.
    pub fn zpopmax(&mut self, count: usize) -> Vec<(Vec<u8>, f64)> {
        let len = self.len();
        let n = count.min(len);
        let mut v = self.remove_ranks(len - n, len);
        v.reverse();
        v
    }

    /// `ZRANDMEMBER key count`: a positive `count` gives up to `count` distinct entries, a
    /// negative one exactly `-count` entries that may repeat; `pick(n)` returns a uniformly
    /// random index below `n`. When `count` covers the whole set Redis lists it highest score
    /// first (its set iterator walks from the tail), and so does this. The caller bounds
    /// `count`.
    pub fn zrandmember(
        &self,
        count: i64,
        pick: &mut impl FnMut(usize) -> usize,
    ) -> Vec<(&[u8], f64)> {
        let len = self.len();
        if len == 0 || count == 0 {
            return Vec::new();
        }
        let at = |k: usize| self.entries(k, k + 1).into_iter().next();
        if count < 0 {
            let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
            return (0..n).filter_map(|_| at(pick(len) % len)).collect();
        }
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count >= len {
            let mut all = self.entries(0, len);
            all.reverse();
            return all;
        }
        SetValue::distinct_positions(len, count, pick)
            .into_iter()
            .filter_map(at)
            .collect()
    }

    /// A `skiplist` set holding `entries` (distinct members), as Redis builds an algebra
    /// result. A `*STORE` command then calls [`ZSet::convert_to_listpack_if_fits`]; a reply
    /// reads it as it is (a `-0` score stays `-0` there).
    fn from_distinct(entries: impl IntoIterator<Item = (Vec<u8>, f64)>) -> ZSet {
        let mut z = ZSet::with_encoding(ZsetEncoding::Skiplist);
        for (m, s) in entries {
            z.insert_new(&m, s);
        }
        z
    }

    /// Inputs with their weights (missing weights are 1), smallest first, as Redis sorts
    /// them (a stable sort, as glibc's `qsort` is for these sizes).
    fn weighted<'a>(inputs: &[ZInput<'a>], weights: &[f64]) -> Vec<(ZInput<'a>, f64)> {
        let mut v: Vec<(ZInput<'a>, f64)> = inputs
            .iter()
            .enumerate()
            .map(|(i, z)| (*z, weights.get(i).copied().unwrap_or(1.0)))
            .collect();
        v.sort_by_key(|(z, _)| z.len());
        v
    }

    /// `weight * score`, where `0 * inf` counts as 0.
    fn weigh(weight: f64, score: f64) -> f64 {
        let v = weight * score;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    }

    /// `ZUNION`/`ZUNIONSTORE`: every member of any input, its weighted scores combined.
    /// The result is a `skiplist` (see [`ZSet::convert_to_listpack_if_fits`] for a store).
    pub fn zunion(inputs: &[ZInput<'_>], weights: &[f64], aggregate: Aggregate) -> ZSet {
        let sources = ZSet::weighted(inputs, weights);
        let mut acc: std::collections::HashMap<Vec<u8>, f64> = std::collections::HashMap::new();
        for (input, weight) in &sources {
            for (member, score) in input.entries() {
                let v = ZSet::weigh(*weight, score);
                match acc.entry(member) {
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        let cur = *e.get();
                        *e.get_mut() = aggregate.apply(cur, v);
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(v);
                    }
                }
            }
        }
        ZSet::from_distinct(acc)
    }

    /// The entries of the intersection, scanning the smallest input in its order.
    fn inter_scan(
        sources: &[(ZInput<'_>, f64)],
        aggregate: Aggregate,
        limit: usize,
    ) -> Vec<(Vec<u8>, f64)> {
        let mut out = Vec::new();
        let Some(((first, w0), rest)) = sources.split_first() else {
            return out;
        };
        if first.len() == 0 {
            return out;
        }
        'members: for (member, score) in first.entries() {
            let mut acc = ZSet::weigh(*w0, score);
            for (input, weight) in rest {
                match input.score(&member) {
                    Some(s) => acc = aggregate.apply(acc, s * weight),
                    None => continue 'members,
                }
            }
            out.push((member, acc));
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
        out
    }

    /// `ZINTER`/`ZINTERSTORE`: members in every input, weighted scores combined.
    pub fn zinter(inputs: &[ZInput<'_>], weights: &[f64], aggregate: Aggregate) -> ZSet {
        let sources = ZSet::weighted(inputs, weights);
        ZSet::from_distinct(ZSet::inter_scan(&sources, aggregate, 0))
    }

    /// `ZINTERCARD`: the intersection's size, counting stopping at `limit` (0: no limit).
    pub fn zintercard(inputs: &[ZInput<'_>], limit: usize) -> usize {
        let sources = ZSet::weighted(inputs, &[]);
        ZSet::inter_scan(&sources, Aggregate::Sum, limit).len()
    }

    /// `ZDIFF`/`ZDIFFSTORE`: members of the first input in none of the others, with their
    /// scores from the first.
    pub fn zdiff(inputs: &[ZInput<'_>]) -> ZSet {
        let Some((first, rest)) = inputs.split_first() else {
            return ZSet::new();
        };
        let entries = first
            .entries()
            .into_iter()
            .filter(|(m, _)| rest.iter().all(|z| z.score(m).is_none()));
        ZSet::from_distinct(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn add(z: &mut ZSet, m: &str, s: f64) -> ZaddOutcome {
        z.zadd(m.as_bytes(), s, ZaddFlags::default())
            .unwrap_or(ZaddOutcome::Nop)
    }

    fn names(v: &[(&[u8], f64)]) -> Vec<String> {
        v.iter()
            .map(|(m, _)| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    #[test]
    fn order_is_score_then_bytes() {
        let mut z = ZSet::new();
        add(&mut z, "b", 2.0);
        add(&mut z, "c", 1.0);
        add(&mut z, "a", 2.0);
        add(&mut z, "ab", 2.0);
        add(&mut z, "z", -0.0);
        add(&mut z, "y", 0.0);
        assert_eq!(
            names(&z.range_by_rank(0, -1, false)),
            ["y", "z", "c", "a", "ab", "b"]
        );
        assert_eq!(z.zrank(b"b"), Some(5));
        assert_eq!(z.zrevrank(b"b"), Some(0));
        assert_eq!(z.zrank(b"nope"), None);
        // A listpack reads `-0` back as `0`; a skiplist keeps it.
        assert_eq!(format_score(z.score(b"z").unwrap_or(1.0)), "0");
        let mut sk = ZSet::with_encoding(ZsetEncoding::Skiplist);
        assert_eq!(add(&mut sk, "z", -0.0), ZaddOutcome::Added(-0.0));
        assert_eq!(format_score(sk.score(b"z").unwrap_or(1.0)), "-0");
        sk.convert_to_listpack_if_fits();
        assert_eq!(format_score(sk.score(b"z").unwrap_or(1.0)), "0");
    }

    #[test]
    fn zadd_flags_follow_zsetadd() {
        let mut z = ZSet::new();
        let f = |nx, xx, gt, lt, incr| ZaddFlags {
            nx,
            xx,
            gt,
            lt,
            incr,
        };
        assert_eq!(
            z.zadd(b"a", 1.0, f(false, true, false, false, false)),
            Ok(ZaddOutcome::Nop)
        );
        assert_eq!(
            z.zadd(b"a", 1.0, f(true, false, false, false, false)),
            Ok(ZaddOutcome::Added(1.0))
        );
        assert_eq!(
            z.zadd(b"a", 5.0, f(true, false, false, false, false)),
            Ok(ZaddOutcome::Nop)
        );
        assert_eq!(
            z.zadd(b"a", 0.5, f(false, false, true, false, false)),
            Ok(ZaddOutcome::Nop)
        );
        assert_eq!(
            z.zadd(b"a", 2.0, f(false, false, true, false, false)),
            Ok(ZaddOutcome::Updated(2.0))
        );
        assert_eq!(
            z.zadd(b"a", 2.0, f(false, false, false, false, false)),
            Ok(ZaddOutcome::Unchanged(2.0))
        );
        assert_eq!(
            z.zadd(b"a", 3.0, f(false, false, false, true, true)),
            Ok(ZaddOutcome::Nop)
        );
        assert_eq!(
            z.zadd(b"a", -1.0, f(false, false, false, true, true)),
            Ok(ZaddOutcome::Updated(1.0))
        );
        assert_eq!(
            z.zadd(b"b", 7.0, f(false, false, true, false, true)),
            Ok(ZaddOutcome::Added(7.0))
        );
        assert_eq!(
            z.zadd(b"a", 0.0, f(false, false, false, false, true)),
            Ok(ZaddOutcome::Unchanged(1.0))
        );
        assert_eq!(z.zincrby(b"a", f64::INFINITY), Ok(f64::INFINITY));
        assert_eq!(
            z.zincrby(b"a", f64::NEG_INFINITY),
            Err(ZsetError::ResultNan)
        );
        assert_eq!(z.score(b"a"), Some(f64::INFINITY));
        assert_eq!(
            ZsetError::ResultNan.to_string(),
            "ERR resulting score is not a number (NaN)"
        );
        assert_eq!(
            f(true, true, false, false, false).validate(1),
            Err(ZsetError::XxAndNx)
        );
        assert_eq!(
            f(true, false, true, false, false).validate(1),
            Err(ZsetError::GtLtNx)
        );
        assert_eq!(
            f(false, false, true, true, false).validate(1),
            Err(ZsetError::GtLtNx)
        );
        assert_eq!(
            f(false, false, false, false, true).validate(2),
            Err(ZsetError::IncrSinglePair)
        );
    }

    #[test]
    fn score_parsing_is_string2d() {
        for (s, v) in [
            ("1", 1.0),
            ("-1.5e3", -1500.0),
            ("inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            (".5", 0.5),
            ("0x10", 16.0),
            ("+3", 3.0),
            ("4.9e-324", f64::from_bits(1)),
        ] {
            assert_eq!(parse_score(s.as_bytes()), Some(v), "{s}");
        }
        for s in [
            "", " 1", "1 ", "nan", "abc", "1e400", "1e-400", "1e", "--1", "0x", "1\0",
        ] {
            assert_eq!(parse_score(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn score_ranges_parse_like_zslparserange() {
        let r = ScoreRange::parse(b"(1", b"+inf").unwrap_or_else(|e| panic!("{e}"));
        assert!(r.min_exclusive && !r.max_exclusive && r.max == f64::INFINITY);
        // strtod on a C string: empty is 0, leading spaces and overflow are fine, NUL ends it.
        for (s, v) in [
            ("", 0.0),
            ("(", 0.0),
            (" 2", 2.0),
            ("1e400", f64::INFINITY),
            ("3\0junk", 3.0),
        ] {
            let r = ScoreRange::parse(s.as_bytes(), b"1").unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(r.min, v, "{s:?}");
        }
        for s in ["nan", "a", "1x", " ", "(nan", "[1"] {
            assert_eq!(
                ScoreRange::parse(s.as_bytes(), b"1"),
                Err(ZsetError::MinMaxNotFloat),
                "{s:?}"
            );
        }
        assert_eq!(
            ZsetError::MinMaxNotFloat.to_string(),
            "ERR min or max is not a float"
        );
        assert_eq!(
            LexRange::parse(b"[a", b"+").map(|r| r.max),
            Ok(LexBound::Max)
        );
        for s in ["a", "", "--", "+a"] {
            assert_eq!(
                LexBound::parse(s.as_bytes()),
                Err(ZsetError::MinMaxNotLex),
                "{s:?}"
            );
        }
        assert_eq!(LexBound::parse(b"-\0x"), Ok(LexBound::Min));
        assert_eq!(LexBound::parse(b"("), Ok(LexBound::Exclusive(Vec::new())));
    }

    #[test]
    fn ranges_and_limits() {
        let mut z = ZSet::new();
        for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            add(&mut z, m, i as f64);
        }
        let r = |min: &str, max: &str| {
            ScoreRange::parse(min.as_bytes(), max.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(
            names(&z.range_by_score(&r("(1", "3"), false, 0, -1)),
            ["c", "d"]
        );
        assert_eq!(
            names(&z.range_by_score(&r("-inf", "+inf"), true, 1, 2)),
            ["d", "c"]
        );
        assert_eq!(
            names(&z.range_by_score(&r("-inf", "+inf"), false, -1, 2)),
            Vec::<String>::new()
        );
        assert_eq!(
            names(&z.range_by_score(&r("-inf", "+inf"), false, 3, -5)),
            ["d", "e"]
        );
        assert_eq!(
            names(&z.range_by_score(&r("3", "1"), false, 0, -1)),
            Vec::<String>::new()
        );
        assert_eq!(z.zcount(&r("(1", "(1")), 0);
        assert_eq!(names(&z.range_by_rank(-2, -1, false)), ["d", "e"]);
        assert_eq!(names(&z.range_by_rank(0, 1, true)), ["e", "d"]);
        assert_eq!(names(&z.range_by_rank(3, 1, false)), Vec::<String>::new());
        let mut l = ZSet::new();
        for m in ["a", "b", "c", "d"] {
            add(&mut l, m, 0.0);
        }
        let lr = |a: &str, b: &str| {
            LexRange::parse(a.as_bytes(), b.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(
            names(&l.range_by_lex(&lr("(a", "[c"), false, 0, -1)),
            ["b", "c"]
        );
        assert_eq!(
            names(&l.range_by_lex(&lr("-", "+"), true, 0, 2)),
            ["d", "c"]
        );
        assert_eq!(l.zlexcount(&lr("+", "-")), 0);
        assert_eq!(l.zremrangebylex(&lr("[b", "(d")), 2);
        assert_eq!(names(&l.range_by_rank(0, -1, false)), ["a", "d"]);
        assert_eq!(z.zremrangebyrank(1, -2), 3);
        assert_eq!(
            z.zpopmax(5),
            vec![(b"e".to_vec(), 4.0), (b"a".to_vec(), 0.0)]
        );
        assert!(z.is_empty());
    }

    #[test]
    fn encoding_converts_one_way() {
        let mut z = ZSet::new();
        for i in 0..MAX_LISTPACK_ENTRIES {
            add(&mut z, &i.to_string(), i as f64);
        }
        assert_eq!(z.encoding(), ZsetEncoding::Listpack);
        add(&mut z, "0", 5.0);
        assert_eq!(z.encoding(), ZsetEncoding::Listpack);
        add(&mut z, "new", 1.0);
        assert_eq!(z.encoding(), ZsetEncoding::Skiplist);
        z.zpopmin(100);
        assert_eq!(z.encoding().as_str(), "skiplist");
        z.convert_to_listpack_if_fits();
        assert_eq!(z.encoding().as_str(), "listpack");
        let mut long = ZSet::new();
        add(&mut long, &"x".repeat(65), 1.0);
        assert_eq!(long.encoding(), ZsetEncoding::Skiplist);
        assert_eq!(
            ZSet::for_zadd(&[b'x'; 65]).encoding(),
            ZsetEncoding::Skiplist
        );
        assert_eq!(ZSet::for_length(129).encoding(), ZsetEncoding::Skiplist);
    }

    #[test]
    fn algebra_weights_and_aggregates() {
        let mut a = ZSet::new();
        add(&mut a, "x", 1.0);
        add(&mut a, "y", f64::INFINITY);
        let mut b = ZSet::new();
        add(&mut b, "y", f64::NEG_INFINITY);
        add(&mut b, "z", 3.0);
        let mut s = SetValue::new();
        s.sadd(b"x");
        s.sadd(b"z");
        let ins = [ZInput::Zset(&a), ZInput::Zset(&b), ZInput::Set(&s)];
        let u = ZSet::zunion(&ins, &[2.0, 1.0, 10.0], Aggregate::Sum);
        let got: Vec<(String, f64)> = u
            .iter()
            .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s))
            .collect();
        // y: inf + -inf is 0; x: 2*1 + 10; z: 3 + 10.
        assert_eq!(
            got,
            vec![("y".into(), 0.0), ("x".into(), 12.0), ("z".into(), 13.0)]
        );
        let i = ZSet::zinter(
            &[ZInput::Zset(&a), ZInput::Zset(&b)],
            &[0.0, 1.0],
            Aggregate::Max,
        );
        // y: 0 * inf is 0, max(0, -inf) = 0.
        assert_eq!(i.iter().collect::<Vec<_>>(), vec![(&b"y"[..], 0.0)]);
        assert_eq!(ZSet::zintercard(&[ZInput::Zset(&a), ZInput::Set(&s)], 0), 1);
        assert_eq!(ZSet::zintercard(&[ZInput::Zset(&a), ZInput::Missing], 0), 0);
        let d = ZSet::zdiff(&[ZInput::Zset(&a), ZInput::Set(&s)]);
        assert_eq!(
            d.iter().collect::<Vec<_>>(),
            vec![(&b"y"[..], f64::INFINITY)]
        );
        let m = ZSet::zunion(&ins, &[], Aggregate::Min);
        assert_eq!(m.score(b"x"), Some(1.0));
        assert_eq!(m.score(b"y"), Some(f64::NEG_INFINITY));
    }

    /// Checks the treap's invariants below `t` (heap order of priorities, subtree sizes,
    /// index consistency is checked by lookups elsewhere); returns (size, depth).
    fn check(tree: &Tree, t: u32) -> (usize, usize) {
        if t == NIL {
            return (0, 0);
        }
        let n = tree.node(t);
        for c in [n.left, n.right] {
            if c != NIL {
                assert!(tree.node(c).prio <= n.prio, "heap order");
            }
        }
        let (ls, ld) = check(tree, n.left);
        let (rs, rd) = check(tree, n.right);
        assert_eq!(n.size as usize, ls + rs + 1, "subtree size");
        (ls + rs + 1, ld.max(rd) + 1)
    }

    #[test]
    fn sorted_input_keeps_the_tree_shallow() {
        let mut z = ZSet::new();
        for i in 0..100_000u32 {
            add(&mut z, &format!("{i:08}"), f64::from(i));
        }
        let (size, depth) = check(&z.tree, z.tree.root);
        assert_eq!(size, 100_000);
        // log2(100000) is 16.6; a random treap's expected depth is about 2.99 log2 n.
        assert!(depth < 60, "depth {depth}");
        assert_eq!(z.zrank(b"00054321"), Some(54_321));
        assert_eq!(z.zremrangebyrank(10, 99_989), 99_980);
        assert_eq!(check(&z.tree, z.tree.root).0, 20);
        assert_eq!(z.range_by_rank(9, 10, false)[1].0, b"00099990");
    }

    #[test]
    fn zrandmember_counts() {
        let mut z = ZSet::new();
        for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            add(&mut z, m, i as f64);
        }
        let mut state = 7usize;
        let mut pick = |n: usize| {
            state = state
                .wrapping_mul(2862933555777941757)
                .wrapping_add(3037000493);
            (state >> 33) % n
        };
        assert_eq!(
            names(&z.zrandmember(10, &mut pick)),
            ["e", "d", "c", "b", "a"]
        );
        let three = z.zrandmember(3, &mut pick);
        assert_eq!(
            three.iter().map(|(m, _)| *m).collect::<BTreeSet<_>>().len(),
            3
        );
        assert!(three.iter().all(|(m, s)| z.score(m) == Some(*s)));
        assert_eq!(z.zrandmember(-12, &mut pick).len(), 12);
        assert!(ZSet::new().zrandmember(-3, &mut pick).is_empty());
    }

    #[test]
    fn restore_validates() {
        let e = |m: &str, s: f64| (m.as_bytes().to_vec(), s);
        let z = ZSet::restore(ZsetEncoding::Skiplist, [e("b", 1.0), e("a", -0.0)]);
        assert_eq!(
            z.as_ref().map(|z| z.encoding()),
            Some(ZsetEncoding::Skiplist)
        );
        assert_eq!(
            z.and_then(|z| z.score(b"a")).map(format_score).as_deref(),
            Some("-0")
        );
        assert!(ZSet::restore(ZsetEncoding::Listpack, [e("a", 1.0), e("a", 2.0)]).is_none());
        assert!(ZSet::restore(ZsetEncoding::Listpack, [e("a", f64::NAN)]).is_none());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(u8, i8, u8),
        Rem(u8),
        RemRank(i8, i8),
        RemScore(i8, i8),
        PopMin(u8),
        PopMax(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>(), 0u8..32).prop_map(|(m, s, f)| Op::Add(m, s, f)),
            2 => any::<u8>().prop_map(Op::Rem),
            1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::RemRank(a, b)),
            1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::RemScore(a, b)),
            1 => (0u8..4).prop_map(Op::PopMin),
            1 => (0u8..4).prop_map(Op::PopMax),
        ]
    }

    /// The reference: member -> score, and the order as a sorted set of (score bits, member)
    /// for integer scores.
    fn model_order(m: &BTreeMap<Vec<u8>, i64>) -> Vec<(Vec<u8>, f64)> {
        let s: BTreeSet<(i64, Vec<u8>)> = m.iter().map(|(k, v)| (*v, k.clone())).collect();
        s.into_iter().map(|(v, k)| (k, v as f64)).collect()
    }

    proptest! {
        #[test]
        fn matches_reference_model(ops in proptest::collection::vec(op(), 0..300)) {
            let mut z = ZSet::new();
            let mut m: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Add(k, s, f) => {
                        let key = vec![b'm', k % 64];
                        let flags = ZaddFlags { nx: f & 1 != 0, xx: f & 2 != 0 && f & 1 == 0, gt: f & 4 != 0 && f & 1 == 0,
                            lt: f & 8 != 0 && f & 1 == 0 && f & 4 == 0, incr: f & 16 != 0 };
                        let out = z.zadd(&key, f64::from(s), flags);
                        let cur = m.get(&key).copied();
                        let expect = match cur {
                            Some(_) if flags.nx => ZaddOutcome::Nop,
                            Some(c) => {
                                let n = if flags.incr { c + i64::from(s) } else { i64::from(s) };
                                if (flags.lt && n >= c) || (flags.gt && n <= c) { ZaddOutcome::Nop }
                                else if n == c { ZaddOutcome::Unchanged(n as f64) }
                                else { m.insert(key.clone(), n); ZaddOutcome::Updated(n as f64) }
                            }
                            None if flags.xx => ZaddOutcome::Nop,
                            None => { m.insert(key.clone(), i64::from(s)); ZaddOutcome::Added(f64::from(s)) }
                        };
                        prop_assert_eq!(out, Ok(expect));
                    }
                    Op::Rem(k) => {
                        let key = vec![b'm', k % 64];
                        prop_assert_eq!(z.zrem(&key), m.remove(&key).is_some());
                    }
                    Op::RemRank(a, b) => {
                        let order = model_order(&m);
                        let n = match rank_window(i64::from(a), i64::from(b), order.len()) {
                            Some((lo, hi)) => { for (k, _) in &order[lo..hi] { m.remove(k); } hi - lo }
                            None => 0,
                        };
                        prop_assert_eq!(z.zremrangebyrank(i64::from(a), i64::from(b)), n);
                    }
                    Op::RemScore(a, b) => {
                        let range = ScoreRange { min: f64::from(a), min_exclusive: a % 2 == 0, max: f64::from(b), max_exclusive: false };
                        let before = m.len();
                        m.retain(|_, v| !(range.above_min(*v as f64) && range.below_max(*v as f64)));
                        prop_assert_eq!(z.zremrangebyscore(&range), before - m.len());
                    }
                    Op::PopMin(c) => {
                        let want: Vec<_> = model_order(&m).into_iter().take(usize::from(c)).collect();
                        for (k, _) in &want { m.remove(k); }
                        prop_assert_eq!(z.zpopmin(usize::from(c)), want);
                    }
                    Op::PopMax(c) => {
                        let want: Vec<_> = model_order(&m).into_iter().rev().take(usize::from(c)).collect();
                        for (k, _) in &want { m.remove(k); }
                        prop_assert_eq!(z.zpopmax(usize::from(c)), want);
                    }
                }
                let order = model_order(&m);
                let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(k, s)| (k.to_vec(), s)).collect();
                prop_assert_eq!(&got, &order);
                prop_assert_eq!(z.len(), m.len());
                prop_assert_eq!(check(&z.tree, z.tree.root).0, m.len());
                for (rank, (k, s)) in order.iter().enumerate() {
                    prop_assert_eq!(z.zrank(k), Some(rank));
                    prop_assert_eq!(z.score(k), Some(*s));
                }
            }
        }
    }
}
