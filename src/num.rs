//! Redis 7.0's number parsing and formatting, reply for reply.
//!
//! - [`parse_i64`]: `string2ll`, the strict canonical integer syntax of INCR's stored values
//!   and of integer arguments ([`parse_i64_arg`]).
//! - [`parse_u64_cursor`]: SCAN's `strtoul` cursor.
//! - [`LongDouble`]: the x87 80-bit `long double` Redis computes INCRBYFLOAT, HINCRBYFLOAT and
//!   blocking timeouts in, with `strtold` parsing ([`LongDouble::parse`]) and `%.17Lf`
//!   "human" printing ([`LongDouble::to_human`]).
//! - [`incrbyfloat`], [`hincrbyfloat_increment`] + [`hincrbyfloat`], [`parse_timeout_ms`]:
//!   those commands' arithmetic with their exact error texts.
//!
//! # Design
//!
//! INCRBYFLOAT's reply is `%.17Lf` of a sum rounded to 64 significant bits, so any other
//! precision shows in the digits (`10.5 + 0.1` is `10.6` in 80-bit but `10.59999999999999964` in
//! f64). Rust has no 80-bit type, so [`LongDouble`] is a software one: a sign, a 64-bit
//! significand with explicit leading bit and a binary exponent, the x87 layout. Each
//! operation Redis performs is done exactly on integers and rounded once, to nearest with ties
//! to even, as glibc and the x87 unit (default 64-bit precision control) do:
//!
//! - parsing builds the exact value (a big integer times a power of ten or two) and rounds it,
//!   as glibc's correctly rounded `strtold` does;
//! - addition aligns the two significands in a `u128`, folding bits shifted out of it into a
//!   sticky bit;
//! - `%.17Lf` scales the exact value by 10^17 and rounds half to even, as glibc's printf does
//!   (0.000003814697265625 prints `0.00000381469726562`).
//!
//! Everyday values (up to 19 significant digits, decimal exponents within ±38) are parsed in
//! `u128` arithmetic. A small private big integer (`Big`) covers the rest: long digit
//! strings, large powers of ten and the integer part of values up to 1.19e4932, in time
//! bounded by the 5119 characters Redis accepts (README, "Performance", has the times).
//!
//! One glibc quirk is kept on purpose: when `strtold`'s result is subnormal, the bit just below
//! the first 64 significant bits is dropped before rounding (so `0x1.0000000000000001p-16446`
//! is taken as a tie, rounds to zero and is rejected, while `0x1.00000000000000001p-16446`
//! rounds up). Only hexadecimal input can carry such a bit; a decimal string would need more
//! than the 5119 characters Redis accepts.
//!
//! # References
//!
//! Redis `src/util.c` (`string2ll`, `string2ld`, `ld2string`), `src/t_string.c`
//! (`incrbyfloatCommand`), `src/t_hash.c` (`hincrbyfloatCommand`), `src/db.c`
//! (`parseScanCursorOrReply`), `src/timeout.c` (`getTimeoutFromObjectOrReply`). Test vectors
//! were recorded from redis-server 7.0.15 (Debian 7.0.15-1~deb12u10, x86-64, glibc).

use std::cmp::Ordering;
use std::fmt;

/// `string2ll`: a signed 64-bit integer in canonical form only: optional `-`, no `+`, no
/// spaces, no leading zeros, no `-0`, not empty, in range.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    // Redis's LONG_STR_SIZE limit; every longer string fails below anyway.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        // -2^63 has no positive counterpart: wrapping_neg maps 2^63 onto it.
        (v <= 1 << 63).then(|| (v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// An integer command argument (`getLongLongFromObject`, `getLongFromObject`): the same
/// strict `string2ll` syntax as [`parse_i64`] (`long` is 64-bit on the platforms Redis targets).
pub fn parse_i64_arg(s: &[u8]) -> Option<i64> {
    parse_i64(s)
}

/// SCAN's cursor (`strtoul` base 10 behind a leading-space check): optional `+` or `-` (a
/// negative value wraps, so `-1` is `u64::MAX`), leading zeros allowed, overflow rejected.
/// Quirks kept: the empty string is cursor 0, and parsing stops at the first NUL byte, as C
/// string functions do (`"5\0x"` is 5). `None` is Redis's `ERR invalid cursor`.
pub fn parse_u64_cursor(s: &[u8]) -> Option<u64> {
    let s = match s.iter().position(|&b| b == 0) {
        Some(nul) => &s[..nul],
        None => s,
    };
    if s.is_empty() {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// Why INCRBYFLOAT or HINCRBYFLOAT failed. `Display` is Redis's exact error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FloatError {
    /// The stored string value or the increment does not parse.
    NotAFloat,
    /// HINCRBYFLOAT: the field's value does not parse.
    HashValueNotAFloat,
    /// HINCRBYFLOAT: the increment is infinite.
    IncrementNanOrInfinity,
    /// The sum is infinite or NaN.
    WouldProduceNanOrInfinity,
}

impl fmt::Display for FloatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FloatError::NotAFloat => "ERR value is not a valid float",
            FloatError::HashValueNotAFloat => "ERR hash value is not a float",
            FloatError::IncrementNanOrInfinity => "ERR value is NaN or Infinity",
            FloatError::WouldProduceNanOrInfinity => "ERR increment would produce NaN or Infinity",
        })
    }
}

impl std::error::Error for FloatError {}

/// INCRBYFLOAT's arithmetic: `current` is the key's string value (`None` when the key is
/// missing, which counts as 0), `increment` the argument. Returns the new value, which is both
/// the reply and what is stored. The type check comes first and is the caller's.
pub fn incrbyfloat(current: Option<&[u8]>, increment: &[u8]) -> Result<Vec<u8>, FloatError> {
    let value = match current {
        Some(v) => LongDouble::parse(v).ok_or(FloatError::NotAFloat)?,
        None => LongDouble::ZERO,
    };
    let incr = LongDouble::parse(increment).ok_or(FloatError::NotAFloat)?;
    let sum = value.sum(incr);
    if !sum.is_finite() {
        return Err(FloatError::WouldProduceNanOrInfinity);
    }
    Ok(sum.to_human())
}

/// HINCRBYFLOAT's first step, before the key is looked up: parse the increment and refuse an
/// infinite one.
pub fn hincrbyfloat_increment(increment: &[u8]) -> Result<LongDouble, FloatError> {
    let incr = LongDouble::parse(increment).ok_or(FloatError::NotAFloat)?;
    if !incr.is_finite() {
        return Err(FloatError::IncrementNanOrInfinity);
    }
    Ok(incr)
}

/// HINCRBYFLOAT's second step: `current` is the field's value (`None` when the field or key is
/// missing). Returns the new value, both the reply and what is stored.
pub fn hincrbyfloat(current: Option<&[u8]>, increment: LongDouble) -> Result<Vec<u8>, FloatError> {
    let value = match current {
        Some(v) => LongDouble::parse(v).ok_or(FloatError::HashValueNotAFloat)?,
        None => LongDouble::ZERO,
    };
    let sum = value.sum(increment);
    if !sum.is_finite() {
        return Err(FloatError::WouldProduceNanOrInfinity);
    }
    Ok(sum.to_human())
}

/// Why a blocking command's timeout argument was refused. `Display` is Redis's exact text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutError {
    /// Not a `strtold` number (also NaN, overflow and underflow to zero).
    NotAFloat,
    /// Negative after conversion to milliseconds, which includes every value whose millisecond
    /// count does not fit an `i64` (infinity, `1e16`, ...): x86-64 converts those to `i64::MIN`.
    Negative,
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutError::NotAFloat => "ERR timeout is not a float or out of range",
            TimeoutError::Negative => "ERR timeout is negative",
        })
    }
}

impl std::error::Error for TimeoutError {}

/// BLPOP/BRPOP's timeout in seconds, as Redis converts it: `(long long) ceill(secs * 1000.0)`
/// in 80-bit arithmetic. Returns milliseconds; 0 means block forever. Rounding up means any
/// positive value waits at least 1 ms, and a value in (-0.001, 0] (`-0.0001`, `-0`) becomes 0
/// and blocks forever rather than being negative.
pub fn parse_timeout_ms(arg: &[u8]) -> Result<i64, TimeoutError> {
    let secs = LongDouble::parse(arg).ok_or(TimeoutError::NotAFloat)?;
    let ms = secs.mul_u64(1000).ceil_to_i64();
    if ms < 0 {
        Err(TimeoutError::Negative)
    } else {
        Ok(ms)
    }
}

/// Exponent of a significand's lowest bit for subnormals and the smallest normal binade.
const MIN_EXP: i64 = -16445;
/// Exponent of a significand's lowest bit in the largest binade: the largest finite value is
/// (2^64 - 1) * 2^16320, about 1.19e4932.
const MAX_EXP: i64 = 16320;
/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` refuses strings this long or longer.
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// An x87 80-bit extended-precision value (C `long double` on x86-64), in software.
///
/// Invariants for finite values: the value is `mant * 2^exp` with `MIN_EXP <= exp <= MAX_EXP`;
/// `mant >= 2^63` unless `exp == MIN_EXP` (subnormals and zero); zero has `mant == 0` and
/// `exp == MIN_EXP`. So two equal finite values have equal fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble(Repr);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Repr {
    Finite { neg: bool, mant: u64, exp: i64 },
    Inf { neg: bool },
    Nan,
}

impl LongDouble {
    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble(Repr::Finite {
        neg: false,
        mant: 0,
        exp: MIN_EXP,
    });

    /// `string2ld`: glibc `strtold` over the whole string, as Redis accepts it. Accepted:
    /// decimal (`1`, `-1.5e-3`, `.5`, `1.`, `+0.1`), hexadecimal (`0x1p-2`, `0x.8`, `0x1`),
    /// `inf`/`infinity` in any case with an optional sign. Refused (`None`): empty or 5120+
    /// bytes, any space, trailing garbage, NaN in any spelling, overflow to infinity, and
    /// nonzero input that rounds to zero.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble(Repr::Inf { neg }));
        }
        let exact = if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
            parse_hex(&body[2..])?
        } else {
            parse_decimal(body)?
        };
        match exact {
            None => Some(LongDouble::zero(neg)),
            Some(x) => match round(neg, x.q, x.exp, x.sticky, true) {
                LongDouble(Repr::Finite { mant: 0, .. }) | LongDouble(Repr::Inf { .. }) => None,
                v => Some(v),
            },
        }
    }

    /// The exact value of an `f64` (every `f64` is an 80-bit value).
    pub fn from_f64(d: f64) -> LongDouble {
        if d.is_nan() {
            return LongDouble(Repr::Nan);
        }
        let neg = d.is_sign_negative();
        if d.is_infinite() {
            return LongDouble(Repr::Inf { neg });
        }
        let bits = d.to_bits();
        let field = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if field == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), field - 1075)
        };
        if m == 0 {
            return LongDouble::zero(neg);
        }
        round(neg, u128::from(m), e, false, false)
    }

    /// Whether the value is neither infinite nor NaN.
    pub fn is_finite(self) -> bool {
        matches!(self.0, Repr::Finite { .. })
    }

    /// `self + other`, rounded as the x87 unit does (also available as `+`).
    pub fn sum(self, other: LongDouble) -> LongDouble {
        let ((an, am, ae), (bn, bm, be)) = match (self.0, other.0) {
            (
                Repr::Finite { neg, mant, exp },
                Repr::Finite {
                    neg: bneg,
                    mant: bmant,
                    exp: bexp,
                },
            ) => ((neg, mant, exp), (bneg, bmant, bexp)),
            (Repr::Nan, _) | (_, Repr::Nan) => return LongDouble(Repr::Nan),
            (Repr::Inf { neg: x }, Repr::Inf { neg: y }) if x != y => return LongDouble(Repr::Nan),
            (Repr::Inf { .. }, _) => return self,
            (_, Repr::Inf { .. }) => return other,
        };
        if am == 0 && bm == 0 {
            return LongDouble::zero(an && bn);
        }
        if am == 0 {
            return other;
        }
        if bm == 0 {
            return self;
        }
        // Order so that `big` has the larger exponent; then big is normal whenever the
        // exponents differ, because only MIN_EXP holds subnormals.
        let ((gn, gm, ge), (sn, sm, se)) = if ae >= be {
            ((an, am, ae), (bn, bm, be))
        } else {
            ((bn, bm, be), (an, am, ae))
        };
        let diff = ge - se;
        let (big, small, exp, sticky) = if diff <= 63 {
            ((gm as u128) << diff, sm as u128, se, false)
        } else {
            let drop = diff - 63;
            let (kept, lost) = if drop >= 64 {
                (0, true)
            } else {
                (sm >> drop, sm & ((1u64 << drop) - 1) != 0)
            };
            ((gm as u128) << 63, kept as u128, ge - 63, lost)
        };
        if gn == sn {
            return round(gn, big + small, exp, sticky, false);
        }
        match big.cmp(&small) {
            Ordering::Equal => LongDouble::ZERO,
            // big >= 2^126 whenever sticky is set, so the borrow leaves plenty of bits.
            Ordering::Greater => round(gn, big - small - u128::from(sticky), exp, sticky, false),
            Ordering::Less => round(sn, small - big, exp, false, false),
        }
    }

    /// `self * k` for a small integer `k`, rounded.
    fn mul_u64(self, k: u64) -> LongDouble {
        match self.0 {
            Repr::Finite { neg, mant, exp } => {
                if mant == 0 || k == 0 {
                    return LongDouble::zero(neg);
                }
                // Exact: the product has at most 128 bits.
                round(neg, u128::from(mant) * u128::from(k), exp, false, false)
            }
            _ => self,
        }
    }

    /// `(long long) ceill(self)` on x86-64: values out of range (and infinities and NaN)
    /// become `i64::MIN`, the x87 "integer indefinite".
    fn ceil_to_i64(self) -> i64 {
        let Repr::Finite { neg, mant, exp } = self.0 else {
            return i64::MIN;
        };
        let magnitude: u128 = if exp >= 0 {
            if exp >= 64 {
                return i64::MIN;
            }
            u128::from(mant) << exp
        } else {
            let shift = -exp;
            let (int, frac) = if shift >= 64 {
                (0, mant != 0)
            } else {
                (mant >> shift, mant & ((1u64 << shift) - 1) != 0)
            };
            // ceil rounds the magnitude up for positive values, down for negative ones.
            u128::from(int) + u128::from(frac && !neg)
        };
        if neg {
            if magnitude <= 1 << 63 {
                (magnitude as i64).wrapping_neg()
            } else {
                i64::MIN
            }
        } else {
            i64::try_from(magnitude).unwrap_or(i64::MIN)
        }
    }

    /// `ld2string(..., LD_STR_HUMAN)`: `%.17Lf`, then trailing zeros and a trailing dot
    /// removed, and `-0` written `0`. Infinities print `inf`/`-inf` and NaN `nan` (Redis never
    /// stores those).
    pub fn to_human(self) -> Vec<u8> {
        let (neg, mant, exp) = match self.0 {
            Repr::Finite { neg, mant, exp } => (neg, mant, exp),
            Repr::Inf { neg } => {
                return if neg {
                    b"-inf".to_vec()
                } else {
                    b"inf".to_vec()
                }
            }
            Repr::Nan => return b"nan".to_vec(),
        };
        let mut out = Vec::new();
        if neg {
            out.push(b'-');
        }
        if exp >= 0 {
            // An integer: its 17 fractional zeros are all trimmed.
            out.extend_from_slice(
                &Big::from_u128(u128::from(mant))
                    .shl(exp as usize)
                    .to_decimal(),
            );
        } else {
            // mant * 10^17 < 2^121, so the scaled value fits a u128.
            let scaled = u128::from(mant) * 10u128.pow(17);
            let shift = -exp;
            let q = if shift >= 128 {
                // The value is below half a unit of 10^-17 (scaled < 2^121 <= 2^(shift-1)).
                0
            } else {
                let q = scaled >> shift;
                let rem = scaled & ((1u128 << shift) - 1);
                let half = 1u128 << (shift - 1);
                q + u128::from(rem > half || (rem == half && q & 1 == 1))
            };
            let int = q / 10u128.pow(17);
            let frac = q % 10u128.pow(17);
            out.extend_from_slice(int.to_string().as_bytes());
            if frac != 0 {
                let digits = format!(".{frac:017}");
                out.extend_from_slice(digits.trim_end_matches('0').as_bytes());
            }
        }
        if out == b"-0" {
            out.remove(0);
        }
        out
    }

    fn zero(neg: bool) -> LongDouble {
        LongDouble(Repr::Finite {
            neg,
            mant: 0,
            exp: MIN_EXP,
        })
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    fn add(self, other: LongDouble) -> LongDouble {
        self.sum(other)
    }
}

/// An exact nonzero value `(q + f) * 2^exp` where `0 <= f < 1`, `f > 0` exactly when `sticky`.
/// Whenever `sticky` is set, `q` has at least 66 significant bits, so rounding to 64 bits (or
/// fewer, for subnormals) never needs to know more about `f`.
struct Exact {
    q: u128,
    exp: i64,
    sticky: bool,
}

/// Rounds `(q + f) * 2^exp` (see [`Exact`]) to the nearest 80-bit value, ties to even.
/// Overflow gives an infinity. `strtold_quirk` applies glibc `strtold`'s subnormal rounding,
/// which ignores the bit just below the first 64 significant bits.
fn round(neg: bool, mut q: u128, exp: i64, sticky: bool, strtold_quirk: bool) -> LongDouble {
    if q == 0 {
        return LongDouble::zero(neg);
    }
    let bits = 128 - i64::from(q.leading_zeros());
    let lsb = (exp + bits - 64).max(MIN_EXP);
    if strtold_quirk && lsb > exp + bits - 64 && bits >= 65 {
        q &= !(1u128 << (bits - 65));
    }
    let shift = lsb - exp;
    let (mant, lsb) = if shift <= 0 {
        // Exact: q has fewer than 64 bits here (sticky is then false, see Exact).
        ((q << -shift) as u64, lsb)
    } else if shift > 128 {
        // Less than half of the smallest step.
        (0, lsb)
    } else {
        let kept = if shift == 128 { 0 } else { q >> shift };
        let rem = if shift == 128 {
            q
        } else {
            q & ((1u128 << shift) - 1)
        };
        let half = 1u128 << (shift - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        let m = kept + u128::from(up);
        if m >> 64 != 0 {
            (1u64 << 63, lsb + 1)
        } else {
            (m as u64, lsb)
        }
    };
    if mant == 0 {
        return LongDouble::zero(neg);
    }
    if lsb > MAX_EXP {
        return LongDouble(Repr::Inf { neg });
    }
    // A subnormal that rounded up to 2^63 at MIN_EXP is already the smallest normal's encoding.
    LongDouble(Repr::Finite {
        neg,
        mant,
        exp: lsb,
    })
}

/// Largest decimal exponent magnitude kept while parsing; anything beyond already decides
/// overflow or underflow (5119 digits cannot move it back into range).
const EXP_CLAMP: i64 = 1_000_000;

/// Parses `digits[.digits][(e|E)[+-]digits]` (at least one mantissa digit). `None`: syntax
/// error. `Some(None)`: an exact zero. Otherwise the exact value before rounding, or an
/// out-of-range marker that rounds to zero or infinity.
fn parse_decimal(s: &[u8]) -> Option<Option<Exact>> {
    let mut i = 0;
    let mut digits: Vec<u8> = Vec::new();
    let mut int_digits = 0usize;
    let mut seen_digit = false;
    while i < s.len() && s[i].is_ascii_digit() {
        digits.push(s[i] - b'0');
        int_digits += 1;
        seen_digit = true;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            digits.push(s[i] - b'0');
            seen_digit = true;
            i += 1;
        }
    }
    if !seen_digit {
        return None;
    }
    let mut exp10: i64 = 0;
    if i < s.len() && (s[i] | 0x20) == b'e' {
        exp10 = parse_exponent(&s[i + 1..])?;
        i = s.len();
    }
    if i != s.len() {
        return None;
    }
    // value = 0.d1d2d3... * 10^(int_digits + exp10), trimmed to its significant digits.
    let Some(first) = digits.iter().position(|&d| d != 0) else {
        return Some(None);
    };
    let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
    let sig = &digits[first..=last];
    // value = D * 10^e10, D the integer of `sig`.
    let e10 = exp10 + int_digits as i64 - first as i64 - sig.len() as i64;
    let top = e10 + sig.len() as i64; // value < 10^top, >= 10^(top-1)
    if top > 4934 {
        return Some(Some(Exact {
            q: 1,
            exp: MAX_EXP + 64,
            sticky: false,
        }));
    }
    if top < -4952 {
        // Below 10^-4952, less than half the smallest subnormal (about 3.6e-4951).
        return Some(Some(Exact {
            q: 1,
            exp: MIN_EXP - 2,
            sticky: false,
        }));
    }
    if let Some(x) = small_decimal(sig, e10) {
        return Some(Some(x));
    }
    let mut d = Big::from_u128(0);
    for chunk in sig.chunks(9) {
        let mut v = 0u32;
        for &x in chunk {
            v = v * 10 + u32::from(x);
        }
        d.mul_small(10u32.pow(chunk.len() as u32));
        d.add_small(v);
    }
    if e10 >= 0 {
        d.mul_pow10(e10 as usize);
        Some(Some(d.top_bits()))
    } else {
        let mut m = Big::from_u128(1);
        m.mul_pow10((-e10) as usize);
        Some(Some(divide(d, m)))
    }
}

/// The common case of [`parse_decimal`] in `u128` arithmetic: at most 19 significant digits
/// and a power of ten that fits a `u128`. `None` hands over to the big-integer path.
fn small_decimal(sig: &[u8], e10: i64) -> Option<Exact> {
    if sig.len() > 19 {
        return None;
    }
    let d = sig.iter().fold(0u128, |v, &x| v * 10 + u128::from(x));
    if e10 >= 0 {
        let p = 10u128.checked_pow(u32::try_from(e10).ok()?)?;
        return Some(Exact {
            q: d.checked_mul(p)?,
            exp: 0,
            sticky: false,
        });
    }
    let m = 10u128.checked_pow(u32::try_from(-e10).ok()?)?;
    // Long division, one quotient bit at a time, until the quotient has 66 bits.
    let (mut q, mut r, mut exp) = (d / m, d % m, 0i64);
    while q >> 66 == 0 {
        // r < m < 2^127, so doubling cannot overflow.
        r <<= 1;
        q <<= 1;
        if r >= m {
            r -= m;
            q |= 1;
        }
        exp -= 1;
    }
    Some(Exact {
        q,
        exp,
        sticky: r != 0,
    })
}

/// Parses the hexadecimal body after `0x`: `h[.h][(p|P)[+-]digits]` with at least one hex
/// digit. Same result convention as [`parse_decimal`].
fn parse_hex(s: &[u8]) -> Option<Option<Exact>> {
    let mut i = 0;
    let mut nibbles: Vec<u32> = Vec::new();
    let mut frac_digits: i64 = 0;
    let mut seen_digit = false;
    let mut in_frac = false;
    while let Some(&c) = s.get(i) {
        if c == b'.' && !in_frac {
            in_frac = true;
            i += 1;
            continue;
        }
        let Some(h) = (c as char).to_digit(16) else {
            break;
        };
        seen_digit = true;
        if in_frac {
            frac_digits += 1;
        }
        // Leading zeros carry no bits; skipping them keeps the big integer small.
        if h != 0 || !nibbles.is_empty() {
            nibbles.push(h);
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    let mut exp2: i64 = 0;
    if i < s.len() && (s[i] | 0x20) == b'p' {
        exp2 = parse_exponent(&s[i + 1..])?;
        i = s.len();
    }
    if i != s.len() {
        return None;
    }
    if nibbles.is_empty() {
        return Some(None);
    }
    // Eight nibbles per word, least significant first.
    let words = nibbles
        .rchunks(8)
        .map(|c| c.iter().fold(0u32, |w, &h| (w << 4) | h))
        .collect();
    let mut x = Big(words).top_bits();
    x.exp = (x.exp + exp2 - 4 * frac_digits).clamp(MIN_EXP - 200, MAX_EXP + 200);
    Some(Some(x))
}

/// `[+-]digits` filling the whole slice, clamped to ±EXP_CLAMP.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        v = (v * 10 + i64::from(b - b'0')).min(EXP_CLAMP);
    }
    Some(if neg { -v } else { v })
}

/// `n / m` as an [`Exact`] with 66 to 68 quotient bits. Both are nonzero.
fn divide(mut n: Big, mut m: Big) -> Exact {
    // Scale so that 2^66 <= n / m < 2^68.
    let k = m.bits() as i64 - n.bits() as i64 + 67;
    if k >= 0 {
        n = n.shl(k as usize);
    } else {
        m = m.shl((-k) as usize);
    }
    let mut q: u128 = 0;
    for i in (0..68).rev() {
        let t = m.shl(i);
        if n.cmp_big(&t) != Ordering::Less {
            n.sub_assign(&t);
            q |= 1 << i;
        }
    }
    Exact {
        q,
        exp: -k,
        sticky: !n.is_zero(),
    }
}

/// A little-endian arbitrary-precision unsigned integer, with no leading zero words.
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut w = Vec::new();
        while v != 0 {
            w.push(v as u32);
            v >>= 32;
        }
        Big(w)
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> usize {
        match self.0.last() {
            Some(&top) => self.0.len() * 32 - top.leading_zeros() as usize,
            None => 0,
        }
    }

    fn mul_small(&mut self, k: u32) {
        let mut carry = 0u64;
        for w in self.0.iter_mut() {
            let v = u64::from(*w) * u64::from(k) + carry;
            *w = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, k: u32) {
        let mut carry = u64::from(k);
        for w in self.0.iter_mut() {
            if carry == 0 {
                return;
            }
            let v = u64::from(*w) + carry;
            *w = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut e: usize) {
        while e >= 9 {
            self.mul_small(1_000_000_000);
            e -= 9;
        }
        self.mul_small(10u32.pow(e as u32));
    }

    fn shl(&self, n: usize) -> Big {
        if self.is_zero() {
            return Big(Vec::new());
        }
        let (words, bits) = (n / 32, n % 32);
        let mut w = vec![0u32; words];
        if bits == 0 {
            w.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &x in &self.0 {
                w.push((x << bits) | carry);
                carry = x >> (32 - bits);
            }
            if carry != 0 {
                w.push(carry);
            }
        }
        Big(w)
    }

    fn cmp_big(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// `self -= other`; requires `self >= other`.
    fn sub_assign(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, w) in self.0.iter_mut().enumerate() {
            let v = i64::from(*w) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(v < 0);
            *w = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// The top 128 bits (or all of a shorter value) as an [`Exact`].
    fn top_bits(&self) -> Exact {
        let bits = self.bits();
        if bits <= 128 {
            let mut q = 0u128;
            for &w in self.0.iter().rev() {
                q = (q << 32) | u128::from(w);
            }
            return Exact {
                q,
                exp: 0,
                sticky: false,
            };
        }
        let shift = bits - 128;
        let (words, sub) = (shift / 32, shift % 32);
        let sticky = self.0[..words].iter().any(|&w| w != 0)
            || (sub != 0 && self.0[words] & ((1u32 << sub) - 1) != 0);
        Exact {
            q: self.window(words, sub),
            exp: shift as i64,
            sticky,
        }
    }

    /// Bits `32 * words + sub ..` up to 128 of them, as a u128.
    fn window(&self, words: usize, sub: usize) -> u128 {
        let mut acc: u128 = 0;
        let mut filled = 0usize;
        let mut first = true;
        for &w in &self.0[words..] {
            let (val, width) = if first {
                first = false;
                (w >> sub, 32 - sub)
            } else {
                (w, 32)
            };
            if filled >= 128 {
                break;
            }
            acc |= u128::from(val) << filled;
            filled += width;
        }
        acc
    }

    fn to_decimal(&self) -> Vec<u8> {
        if self.is_zero() {
            return b"0".to_vec();
        }
        let mut words = self.0.clone();
        let mut chunks = Vec::new();
        while !words.is_empty() {
            let mut rem = 0u64;
            for w in words.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*w);
                *w = (v / 1_000_000_000) as u32;
                rem = v % 1_000_000_000;
            }
            while words.last() == Some(&0) {
                words.pop();
            }
            chunks.push(rem as u32);
        }
        let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    enum Want {
        Value(&'static [u8]),
        /// A reply too long to spell out: its length, first and last bytes.
        Long(usize, &'static [u8], &'static [u8]),
        Fails(FloatError),
    }
    use FloatError::*;
    use Want::{Fails, Long, Value};

    type Case = (Option<&'static [u8]>, &'static [u8], Want);

    /// INCRBYFLOAT (stored value or missing key, increment, reply), recorded from
    /// redis-server 7.0.15 (Debian 7.0.15-1~deb12u10, x86-64).
    #[rustfmt::skip]
    const INCRBYFLOAT: &[Case] = &[
        (None, b"0.000003814697265625", Value(b"0.00000381469726562")),
        (None, b"0e999999999999999999999", Value(b"0")),
        (None, b"1e-99999999999999999999", Fails(NotAFloat)),
        (None, b"1e99999999999999999999", Fails(NotAFloat)),
        (None, b"inf", Fails(WouldProduceNanOrInfinity)),
        (None, b"INFINITY", Fails(WouldProduceNanOrInfinity)),
        (None, b"nan", Fails(NotAFloat)),
        (None, b"-0", Value(b"0")),
        (None, b"1e-4940", Value(b"0")),
        (None, b"1e-4952", Fails(NotAFloat)),
        (None, b"2e-4951", Value(b"0")),
        (None, b"1e4932", Long(4933, b"100000000000000000000601894938", b"38418113791886622720")),
        (None, b"1.2e4932", Fails(NotAFloat)),
        (None, b"0x1p3", Value(b"8")),
        (None, b"0x1", Value(b"1")),
        (None, b"0x.8", Value(b"0.5")),
        (None, b"0x1p", Fails(NotAFloat)),
        (None, b" 1", Fails(NotAFloat)),
        (Some(b"1 "), b"1", Fails(NotAFloat)),
        (None, b"1.", Value(b"1")),
        (None, b".", Fails(NotAFloat)),
        (None, b"+.5", Value(b"0.5")),
        (None, b"1e", Fails(NotAFloat)),
        (Some(b"10.5"), b"0.1", Value(b"10.6")),
        (None, b"1e17", Value(b"100000000000000000")),
        (None, b"-1e-20", Value(b"0")),
        (None, b"0x1.fffffffffffffffffp0", Value(b"2")),
        (None, b"123456789012345678901234567890", Value(b"123456789012345678899921813504")),
        (None, b"3.0e3", Value(b"3000")),
        (None, b"5.0e-3", Value(b"0.005")),
        (None, b"0x1.8p-16446", Value(b"0")),
        (None, b"0x1.0000000000000001p-16446", Fails(NotAFloat)),
        (None, b"0x1.00000000000000001p-16446", Value(b"0")),
        (None, b"1.8226e-4951", Value(b"0")),
        (None, b"1.8224e-4951", Fails(NotAFloat)),
        (None, b"0x0.8p-16445", Fails(NotAFloat)),
        (None, b"0x1p16383", Long(4932, b"594865747678615882542879663314", b"23513645334982033408")),
        (None, b"0x1p16384", Fails(NotAFloat)),
        (None, b"0x1.ffffffffffffffffp16383", Fails(NotAFloat)),
        (None, b"0x1.fffffffffffffffeffp16383", Long(4933, b"118973149535723176502126385303", b"19552086811989770240")),
        (Some(b"1e4932"), b"-1e4932", Value(b"0")),
        (None, b"0.50000000000000001e-17", Value(b"0.00000000000000001")),
        (None, b"1.5e-17", Value(b"0.00000000000000002")),
        (None, b"2.5e-17", Value(b"0.00000000000000002")),
        (None, b"12345678901234567890.123", Value(b"12345678901234567890")),
        (Some(b"0.1"), b"0.2", Value(b"0.3")),
        (None, b"18446744073709551617", Value(b"18446744073709551616")),
        (None, b"36893488147419103233", Value(b"36893488147419103232")),
        (Some(b"1e4932"), b"1e4932", Fails(WouldProduceNanOrInfinity)),
        (None, b"infinit", Fails(NotAFloat)),
        (None, b"nan(1)", Fails(NotAFloat)),
        (None, b"0.1", Value(b"0.1")),
        (Some(b"0.1"), b"0.1", Value(b"0.2")),
        (Some(b"0.3"), b"0.1", Value(b"0.4")),
        (Some(b"10.5"), b"0.1", Value(b"10.6")),
        (Some(b"1.1"), b"2.2", Value(b"3.3")),
        (Some(b"100"), b"-0.7", Value(b"99.3")),
        (Some(b"1e17"), b"1", Value(b"100000000000000001")),
        (Some(b"1e17"), b"0.1", Value(b"100000000000000000.1015625")),
        (Some(b"9007199254740993"), b"0.5", Value(b"9007199254740993.5")),
        (Some(b"-5.0e-3"), b"5.0e-3", Value(b"0")),
        (Some(b"3.0e3"), b"-3000.000000000000001", Value(b"-0.00000000000000111")),
        (Some(b"0.1"), b"-0.3", Value(b"-0.2")),
        (Some(b"1e300"), b"1e-300", Long(301, b"100000000000000000000899732407", b"90089424915104006144")),
        (Some(b"1e-300"), b"1e-300", Value(b"0")),
        (Some(b"123.456"), b"-0.000001", Value(b"123.455999")),
        (Some(b"18446744073709551615"), b"1", Value(b"18446744073709551616")),
        (Some(b"-18446744073709551615"), b"-1", Value(b"-18446744073709551616")),
        (Some(b"0x1p-64"), b"0", Value(b"0")),
        (Some(b"1.5"), b"1e-18", Value(b"1.5")),
        (Some(b"2.5"), b"5e-18", Value(b"2.5")),
        (Some(b"0.00000000000000001"), b"0.00000000000000001", Value(b"0.00000000000000002")),
        (Some(b"3.3333333333333333333"), b"3.3333333333333333333", Value(b"6.66666666666666667")),
        (Some(b"-0.0"), b"-0.0", Value(b"0")),
        (Some(b"5"), b"-5", Value(b"0")),
        (Some(b"1e20"), b"-1e20", Value(b"0")),
        (Some(b"12345678.87654321"), b"0.00000001", Value(b"12345678.87654321999980311")),
        (Some(b"423601.408830029"), b"76.187487e-1", Value(b"423609.02757872899999825")),
        (Some(b"260499.143070080"), b"32.764444e4", Value(b"588143.5830700799999704")),
        (Some(b"556597.734770807"), b"79.513041e-2", Value(b"556598.52990121700003101")),
        (Some(b"442120.775483847"), b"47.862270e4", Value(b"920743.47548384699996404")),
        (Some(b"903340.732687937"), b"19.483900e-3", Value(b"903340.75217183699999168")),
        (Some(b"891255.608720353"), b"-10.992853e8", Value(b"-1098394044.39127964701037854")),
        (Some(b"710281.831584660"), b"60.331747e4", Value(b"1313599.30158466000000317")),
        (Some(b"44723.289265203"), b"54.213662e3", Value(b"98936.95126520299999839")),
        (Some(b"978463.573711028"), b"59.543849e-2", Value(b"978464.16914951799998335")),
        (Some(b"634922.496820825"), b"45.135412e-2", Value(b"634922.94817494500000521")),
        (Some(b"998690.988663059"), b"95.830303e6", Value(b"96828993.98866305899719009")),
        (Some(b"624340.993046871"), b"64.692374e-3", Value(b"624341.05773924499999339")),
        (Some(b"38862.117888716"), b"21.496738e5", Value(b"2188535.91788871599987942")),
        (Some(b"85102.456791494"), b"18.324856e-8", Value(b"85102.45679167724856029")),
        (Some(b"399571.354010198"), b"66.425019e-2", Value(b"399572.01826038799998742")),
        (Some(b"943687.845266599"), b"81.221705e6", Value(b"82165392.84526659899711376")),
        (Some(b"270088.585694944"), b"-97.132488e3", Value(b"172956.09769494400001122")),
        (Some(b"987079.746249394"), b"-7.137286e-4", Value(b"987079.74553566540004113")),
        (Some(b"637570.438408208"), b"12.124481e-4", Value(b"637570.4396206560999758")),
        (Some(b"310351.186976105"), b"52.152579e-2", Value(b"310351.70850189500001193")),
    ];

    #[test]
    fn incrbyfloat_recorded() {
        for (cur, inc, want) in INCRBYFLOAT {
            let got = incrbyfloat(*cur, inc);
            let ctx = format!(
                "{:?} + {:?}",
                cur.map(String::from_utf8_lossy),
                String::from_utf8_lossy(inc)
            );
            match want {
                Value(w) => assert_eq!(got.as_deref(), Ok(*w), "{ctx}"),
                Long(len, head, tail) => {
                    let v = got.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    assert_eq!(v.len(), *len, "{ctx}");
                    assert!(v.starts_with(head) && v.ends_with(tail), "{ctx}");
                }
                Fails(e) => assert_eq!(got, Err(*e), "{ctx}"),
            }
        }
    }

    /// Recorded from redis-server 7.0.15: `string2ld` refuses 5120-byte strings.
    #[test]
    fn length_limit() {
        assert_eq!(incrbyfloat(None, &[b'0'; 5119]).as_deref(), Ok(&b"0"[..]));
        assert_eq!(incrbyfloat(None, &[b'0'; 5120]), Err(NotAFloat));
        assert_eq!(incrbyfloat(Some(&[b'1'; 5120]), b"1"), Err(NotAFloat));
        assert_eq!(incrbyfloat(None, b"1\x002"), Err(NotAFloat));
    }

    /// HINCRBYFLOAT, recorded from redis-server 7.0.15.
    #[test]
    fn hincrbyfloat_recorded() {
        let run = |cur: Option<&[u8]>, inc: &[u8]| {
            hincrbyfloat_increment(inc)
                .and_then(|i| hincrbyfloat(cur, i))
                .map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(run(Some(b"abc"), b"1"), Err(HashValueNotAFloat));
        assert_eq!(run(None, b"inf"), Err(IncrementNanOrInfinity));
        assert_eq!(run(Some(b"1"), b"-inf"), Err(IncrementNanOrInfinity));
        assert_eq!(run(None, b"nan"), Err(NotAFloat));
        assert_eq!(run(Some(b"1.5"), b"x"), Err(NotAFloat));
        assert_eq!(run(Some(b" 1"), b"1"), Err(HashValueNotAFloat));
        assert_eq!(
            run(Some(b"1e4932"), b"1e4932"),
            Err(WouldProduceNanOrInfinity)
        );
        assert_eq!(run(Some(b"10.5"), b"0.1").as_deref(), Ok("10.6"));
        assert_eq!(run(None, b"-0").as_deref(), Ok("0"));
        assert_eq!(run(Some(b"5"), b"0x10").as_deref(), Ok("21"));
        let big = run(None, b"1e400").unwrap();
        assert_eq!(big.len(), 401);
        assert!(big.starts_with("10000000000000000000281880683947586514586"));
        assert!(big.ends_with("734806343732497430221946880"));
    }

    #[test]
    fn error_texts() {
        assert_eq!(NotAFloat.to_string(), "ERR value is not a valid float");
        assert_eq!(
            HashValueNotAFloat.to_string(),
            "ERR hash value is not a float"
        );
        assert_eq!(
            IncrementNanOrInfinity.to_string(),
            "ERR value is NaN or Infinity"
        );
        assert_eq!(
            WouldProduceNanOrInfinity.to_string(),
            "ERR increment would produce NaN or Infinity"
        );
        assert_eq!(
            TimeoutError::NotAFloat.to_string(),
            "ERR timeout is not a float or out of range"
        );
        assert_eq!(
            TimeoutError::Negative.to_string(),
            "ERR timeout is negative"
        );
    }

    /// Accept/reject recorded from redis-server 7.0.15 (BLPOP inside MULTI); the millisecond
    /// values follow `ceill(x * 1000.0)`.
    #[test]
    fn timeouts() {
        use TimeoutError::{Negative, NotAFloat as Nf};
        let ok: &[(&[u8], i64)] = &[
            (b"0", 0),
            (b"0.0", 0),
            (b"-0", 0),
            (b"0.1", 100),
            (b".1", 100),
            (b"+0.1", 100),
            (b"1.5e-1", 150),
            (b"1e0", 1000),
            (b"0x1", 1000),
            (b"0x0.8p0", 500),
            (b"0.0001", 1),
            (b"-0.0001", 0),
            (b"-0.001", 0),
            (b"-0.0009", 0),
            (b"9223372036854775.807", i64::MAX),
            (b"9223372036854775", 9_223_372_036_854_775_000),
        ];
        for &(arg, ms) in ok {
            assert_eq!(
                parse_timeout_ms(arg),
                Ok(ms),
                "{:?}",
                String::from_utf8_lossy(arg)
            );
        }
        let err: &[(&[u8], TimeoutError)] = &[
            (b"-1", Negative),
            (b"-0.5", Negative),
            (b"inf", Negative),
            (b"-inf", Negative),
            (b"1e400", Negative),
            (b"1e16", Negative),
            (b"9223372036854775807", Negative),
            (b"9223372036854775.808", Negative),
            (b"-0.00100000000001", Negative),
            (b"-9223372036854775.809", Negative),
            (b"abc", Nf),
            (b"nan", Nf),
            (b"", Nf),
            (b" 0.1", Nf),
            (b"0.1 ", Nf),
            (b"5s", Nf),
            (b"1e-5000", Nf),
        ];
        for &(arg, e) in err {
            assert_eq!(
                parse_timeout_ms(arg),
                Err(e),
                "{:?}",
                String::from_utf8_lossy(arg)
            );
        }
    }

    /// keyspace.md §3 and `SET s x; INCRBY s 0` recorded from redis-server 7.0.15.
    #[test]
    fn i64_vectors() {
        let ok: &[(&[u8], i64)] = &[
            (b"0", 0),
            (b"1", 1),
            (b"-1", -1),
            (b"9223372036854775807", i64::MAX),
            (b"-9223372036854775808", i64::MIN),
            (b"10", 10),
        ];
        for &(s, v) in ok {
            assert_eq!(parse_i64(s), Some(v));
            assert_eq!(parse_i64_arg(s), Some(v));
        }
        let bad: &[&[u8]] = &[
            b"",
            b"-",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"-01",
            b"1.0",
            b"1e3",
            b"0x10",
            b"123abc",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551615",
            b"12345678901234567890",
            b"99999999999999999999",
            b"000000000000000000001",
            b"\x001",
        ];
        for s in bad {
            assert_eq!(parse_i64(s), None, "{:?}", String::from_utf8_lossy(s));
        }
    }

    /// keyspace.md §5 and SCAN recorded from redis-server 7.0.15 (`None` = `ERR invalid cursor`).
    #[test]
    fn cursor_vectors() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"", Some(0)),
            (b"0", Some(0)),
            (b"-1", Some(u64::MAX)),
            (b"+5", Some(5)),
            (b"-18446744073709551615", Some(1)),
            (b"-18446744073709551616", None),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"5\x00abc", Some(5)),
            (b"\x00", Some(0)),
            (b"-", None),
            (b"+", None),
            (b"0x10", None),
            (b" 5", None),
            (b"5 ", None),
            (b"007", Some(7)),
            (b"-0", Some(0)),
            (b"+-5", None),
            (b"1.5", None),
            (b"abc", None),
        ];
        for &(s, want) in cases {
            assert_eq!(
                parse_u64_cursor(s),
                want,
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn long_double_basics() {
        let p = |s: &[u8]| LongDouble::parse(s).unwrap();
        assert_eq!(p(b"0x1p-16445").to_human(), b"0");
        assert!(p(b"inf").sum(p(b"-inf")) == LongDouble(Repr::Nan));
        assert_eq!(p(b"-0").sum(p(b"-0")), LongDouble::zero(true));
        assert_eq!(p(b"-0") + p(b"0"), LongDouble::ZERO);
        assert_eq!(p(b"1.5") + p(b"-1.5"), LongDouble::ZERO);
        // Largest finite value; below the midpoint to infinity; the midpoint (a tie that
        // rounds to the even significand, which overflows; recorded from the server).
        assert!(LongDouble::parse(b"0x1.fffffffffffffffep16383").is_some());
        assert!(LongDouble::parse(b"0x1.fffffffffffffffe8p16383").is_some());
        assert_eq!(LongDouble::parse(b"0x1.ffffffffffffffffp16383"), None);
        // Smallest normal built from a subnormal that rounds up.
        assert_eq!(p(b"0x0.fffffffffffffffffp-16382"), p(b"0x1p-16382"));
        assert_eq!(LongDouble::from_f64(f64::NAN).to_human(), b"nan");
        assert_eq!(LongDouble::from_f64(f64::NEG_INFINITY).to_human(), b"-inf");
    }

    /// Rounds a nonzero magnitude to 64 significant bits, ties to even (an independent
    /// model of the 80-bit significand for integers).
    fn round64(v: i128) -> i128 {
        let m = v.unsigned_abs();
        let bits = 128 - m.leading_zeros();
        if bits <= 64 {
            return v;
        }
        let s = bits - 64;
        let (q, r, half) = (m >> s, m & ((1 << s) - 1), 1u128 << (s - 1));
        let q = q + u128::from(r > half || (r == half && q & 1 == 1));
        let r = (q << s) as i128;
        if v < 0 {
            -r
        } else {
            r
        }
    }

    fn trimmed(s: String) -> String {
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        };
        if s == "-0" {
            "0".to_owned()
        } else {
            s
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// `%.17Lf` of any f64 agrees with Rust's exact `{:.17}` (also ties to even).
        #[test]
        fn human_matches_exact_f64_printing(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            prop_assume!(d.is_finite());
            let ours = String::from_utf8(LongDouble::from_f64(d).to_human()).unwrap();
            prop_assert_eq!(ours, trimmed(format!("{d:.17}")));
        }

        /// The exact decimal expansion of an f64 parses to exactly that value.
        #[test]
        fn exact_decimal_parses_exactly(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            prop_assume!(d.is_finite());
            let s = format!("{d:.800e}");
            prop_assert_eq!(LongDouble::parse(s.as_bytes()), Some(LongDouble::from_f64(d)));
            let s = format!("{d:.1100}");
            prop_assert_eq!(LongDouble::parse(s.as_bytes()), Some(LongDouble::from_f64(d)));
        }

        /// Integer inputs beyond 64 bits: parsing and addition each round once to 64 bits.
        #[test]
        fn integer_sums_round_like_the_model(a in -(1i128 << 100)..(1i128 << 100), b in -(1i128 << 100)..(1i128 << 100)) {
            let want = round64(round64(a) + round64(b));
            let got = incrbyfloat(Some(a.to_string().as_bytes()), b.to_string().as_bytes()).unwrap();
            prop_assert_eq!(String::from_utf8(got).unwrap(), want.to_string());
        }

        #[test]
        fn i64_is_canonical_text(s in "-?[0-9]{0,21}|[ +0-9a-]{0,6}") {
            let want = s.parse::<i64>().ok().filter(|v| v.to_string() == s);
            prop_assert_eq!(parse_i64(s.as_bytes()), want);
        }

        #[test]
        fn never_panics(a in prop::collection::vec(any::<u8>(), 0..40), b in "[-+0-9a-fA-FxXpPeE.infINF]{0,30}") {
            let _ = incrbyfloat(Some(&a), &a);
            let _ = incrbyfloat(Some(b.as_bytes()), b.as_bytes());
            let _ = hincrbyfloat_increment(b.as_bytes()).and_then(|i| hincrbyfloat(Some(&a), i));
            let _ = parse_timeout_ms(b.as_bytes());
            let _ = parse_u64_cursor(&a);
            let _ = parse_i64(&a);
        }
    }
}
