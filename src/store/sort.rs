//! SORT and SORT_RO: the elements of a list (sets and sorted sets are one arm each of
//! [`Db::sort_elements`]), ordered numerically or byte-wise, optionally by weights read
//! from other keys (`BY`), cut by `LIMIT`, mapped through `GET` patterns, and returned or
//! stored as a list.
//!
//! # Design
//!
//! Redis's rules, kept as they are:
//! - `BY` with a pattern that has no `*` means "do not sort": a list keeps its order (DESC
//!   reads it from the tail) and LIMIT takes that order's range.
//! - Numeric weights are parsed as C's `strtod` would; a weight that does not parse fails
//!   the whole command with `One or more scores can't be converted into double`, while a
//!   missing weight key counts as 0. Equal weights order by the elements' bytes.
//! - ALPHA compares bytes (Redis's `strcoll` in the C locale); with `BY`, a missing weight
//!   sorts first.
//! - Equal elements keep their list order (glibc's `qsort` is a merge sort), reversed
//!   comparisons included under DESC.
//! - `GET #` is the element; `GET pat*->field` reads a hash field; a missing value is nil
//!   in the reply and the empty string in a STORE.

use super::value::Value;
use super::{notify, Db, Lock, Store};
use crate::error::{Error, Result};
use std::cmp::Ordering;

/// SORT's options, as typed arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SortOptions {
    /// `BY pattern`: weights from the keys the pattern names (`*` is the element,
    /// `->field` reads a hash field); a pattern without `*` skips sorting.
    pub by: Option<Vec<u8>>,
    /// `LIMIT offset count` (a negative count takes everything from the offset).
    pub limit: Option<(i64, i64)>,
    /// `GET pattern` for each pattern, in order (`#` is the element itself).
    pub get: Vec<Vec<u8>>,
    /// `DESC`.
    pub desc: bool,
    /// `ALPHA`: compare as byte strings instead of numbers.
    pub alpha: bool,
}

/// C's `strtod` over a whole string: leading white space skipped, the rest all consumed.
/// `None` when it does not parse, is NaN or is out of range (`ERANGE`). The empty string
/// is 0, as `strtod` leaves nothing unparsed there.
fn strtod(s: &[u8]) -> Option<f64> {
    // Redis hands strtod a C string: it stops at the first NUL.
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let text = std::str::from_utf8(&s[start..]).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let literal_inf = lower.trim_start_matches(['+', '-']).starts_with("inf");
    if v.is_infinite() && !literal_inf {
        return None;
    }
    let mantissa = lower.split('e').next().unwrap_or_default();
    let nonzero = mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if (v == 0.0 && nonzero) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    Some(v)
}

/// A BY or GET pattern's parts: the key is `prefix`, the element, `suffix`; `field` is
/// the hash field after `->`, if any.
#[derive(Debug, PartialEq, Eq)]
struct Pattern<'a> {
    prefix: &'a [u8],
    suffix: &'a [u8],
    field: Option<&'a [u8]>,
}

/// `None` for a pattern without `*`, which names no key.
fn split_pattern(pattern: &[u8]) -> Option<Pattern<'_>> {
    let star = pattern.iter().position(|&b| b == b'*')?;
    let (prefix, rest) = (&pattern[..star], &pattern[star + 1..]);
    let arrow = rest.windows(2).position(|w| w == b"->");
    Some(match arrow {
        Some(a) if a + 2 < rest.len() => Pattern {
            prefix,
            suffix: &rest[..a],
            field: Some(&rest[a + 2..]),
        },
        _ => Pattern {
            prefix,
            suffix: rest,
            field: None,
        },
    })
}

impl Db<'_> {
    /// The value a BY or GET pattern names for `element`: a string key's bytes or a hash
    /// field's value; `None` when the key, the field or the right type is missing.
    fn lookup_pattern(&mut self, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
        if pattern == b"#" {
            return Some(element.to_vec());
        }
        let Pattern {
            prefix,
            suffix,
            field,
        } = split_pattern(pattern)?;
        let mut key = Vec::with_capacity(prefix.len() + element.len() + suffix.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(element);
        key.extend_from_slice(suffix);
        match (self.value(&key)?, field) {
            (Value::Str(s), None) => Some(s.bytes().into_owned()),
            (Value::Hash(h), Some(f)) => h.get(f).map(<[u8]>::to_vec),
            _ => None,
        }
    }

    /// The elements SORT orders, in the value's own order; WRONGTYPE for a type SORT does
    /// not take. A missing key has none.
    fn sort_elements(&mut self, key: &[u8]) -> Result<Vec<Vec<u8>>> {
        match self.value(key) {
            None => Ok(Vec::new()),
            Some(Value::List(l)) => Ok(l.iter().cloned().collect()),
            Some(Value::Set(s)) => Ok(s.members()),
            Some(Value::ZSet(z)) => Ok(z.iter().map(|(m, _)| m.to_vec()).collect()),
            Some(_) => Err(Error::WrongType),
        }
    }

    /// SORT: the output elements (GET results in order for each element when there are
    /// GET patterns).
    pub(crate) fn sort(&mut self, key: &[u8], opts: &SortOptions) -> Result<Vec<Option<Vec<u8>>>> {
        let mut elems = self.sort_elements(key)?;
        let len = i64::try_from(elems.len()).unwrap_or(i64::MAX);
        let dont_sort = opts.by.as_ref().is_some_and(|p| !p.contains(&b'*'));
        let (offset, count) = opts.limit.unwrap_or((0, -1));
        let mut start = offset.max(0).min(len);
        let count = count.max(-1).min(len);
        let mut end = if count < 0 {
            len - 1
        } else {
            start + count - 1
        };
        if start >= len {
            start = len - 1;
            end = len - 2;
        }
        end = end.min(len - 1);
        if dont_sort {
            if opts.desc {
                elems.reverse();
            }
        } else {
            let by = opts.by.as_deref();
            if opts.alpha {
                let weights: Vec<Option<Vec<u8>>> = match by {
                    Some(p) => elems.iter().map(|e| self.lookup_pattern(p, e)).collect(),
                    None => Vec::new(),
                };
                let mut order: Vec<usize> = (0..elems.len()).collect();
                order.sort_by(|&x, &y| {
                    let c = match by {
                        Some(_) => weights[x].cmp(&weights[y]),
                        None => elems[x].cmp(&elems[y]),
                    };
                    if opts.desc {
                        c.reverse()
                    } else {
                        c
                    }
                });
                elems = order
                    .into_iter()
                    .map(|i| std::mem::take(&mut elems[i]))
                    .collect();
            } else {
                let mut scores = Vec::with_capacity(elems.len());
                let mut bad = false;
                for e in &elems {
                    let w = match by {
                        Some(p) => self.lookup_pattern(p, e),
                        None => Some(e.clone()),
                    };
                    scores.push(match w {
                        None => 0.0,
                        Some(w) => strtod(&w).unwrap_or_else(|| {
                            bad = true;
                            0.0
                        }),
                    });
                }
                if bad {
                    return Err(Error::err(
                        "One or more scores can't be converted into double",
                    ));
                }
                let mut order: Vec<usize> = (0..elems.len()).collect();
                order.sort_by(|&x, &y| {
                    let c = scores[x]
                        .partial_cmp(&scores[y])
                        .unwrap_or(Ordering::Equal)
                        .then_with(|| elems[x].cmp(&elems[y]));
                    if opts.desc {
                        c.reverse()
                    } else {
                        c
                    }
                });
                elems = order
                    .into_iter()
                    .map(|i| std::mem::take(&mut elems[i]))
                    .collect();
            }
        }
        let picked = if end >= start && start >= 0 {
            &elems[start as usize..=end as usize]
        } else {
            &[][..]
        };
        let mut out = Vec::with_capacity(picked.len() * opts.get.len().max(1));
        for e in picked {
            if opts.get.is_empty() {
                out.push(Some(e.clone()));
            }
            for p in &opts.get {
                out.push(self.lookup_pattern(p, e));
            }
        }
        Ok(out)
    }

    /// SORT ... STORE destination: the list's length; an empty result deletes the
    /// destination.
    pub(crate) fn sort_store(
        &mut self,
        key: &[u8],
        opts: &SortOptions,
        dst: &[u8],
    ) -> Result<usize> {
        // A set's order is arbitrary: with a constant BY and STORE, Redis sorts it by its
        // members (ALPHA, no BY) so that what it stores is deterministic.
        let constant_by = opts.by.as_ref().is_some_and(|p| !p.contains(&b'*'));
        let forced;
        let opts = if constant_by && matches!(self.value(key), Some(Value::Set(_))) {
            forced = SortOptions {
                by: None,
                alpha: true,
                ..opts.clone()
            };
            &forced
        } else {
            opts
        };
        let items = self.sort(key, opts)?;
        let n = items.len();
        if n == 0 {
            if self.remove(dst).is_some() {
                self.notify(notify::GENERIC, "del", dst);
            }
        } else {
            let list: super::lists::List =
                items.into_iter().map(Option::unwrap_or_default).collect();
            // Replaced in place, as Redis's setKey overwrites: no `new` for an existing key.
            self.insert(dst, Value::List(Box::new(list)), None);
            self.notify_n(notify::LIST, "sortstore", dst, n as u64);
        }
        Ok(n)
    }
}

impl Store {
    /// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]`
    /// (and SORT_RO): the sorted elements, or with GET patterns the values they name, nil
    /// where a value is missing.
    ///
    /// ```
    /// use sketchstore::{SortOptions, Store};
    /// let store = Store::new();
    /// store.rpush("l", &["3", "1", "2"]).unwrap();
    /// let sorted = store.sort("l", &SortOptions::default()).unwrap();
    /// assert_eq!(sorted, vec![Some(b"1".to_vec()), Some(b"2".to_vec()), Some(b"3".to_vec())]);
    /// ```
    pub fn sort(&self, key: impl AsRef<[u8]>, opts: &SortOptions) -> Result<Vec<Option<Vec<u8>>>> {
        let key = key.as_ref();
        self.with_db(Lock::All, |db| db.sort(key, opts))
    }

    /// `SORT key ... STORE destination`: stores the result as a list (an empty result
    /// deletes `dst`) and returns its length.
    pub fn sort_store(
        &self,
        key: impl AsRef<[u8]>,
        opts: &SortOptions,
        dst: impl AsRef<[u8]>,
    ) -> Result<usize> {
        self.check_memory(true)?;
        let (key, dst) = (key.as_ref(), dst.as_ref());
        self.with_db(Lock::All, |db| db.sort_store(key, opts, dst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_like_c() {
        assert_eq!(strtod(b""), Some(0.0));
        assert_eq!(strtod(b" 1.5"), Some(1.5));
        assert_eq!(strtod(b"1.5 "), None);
        assert_eq!(strtod(b"  "), None);
        assert_eq!(strtod(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod(b"nan"), None);
        assert_eq!(strtod(b"1e400"), None);
        assert_eq!(strtod(b"1e-400"), None);
        assert_eq!(strtod(b"0e-400"), Some(0.0));
        assert_eq!(strtod(b"12\0ab"), Some(12.0));
        assert_eq!(strtod(b"abc"), None);
    }

    #[test]
    fn patterns() {
        let p = |prefix: &'static [u8], suffix: &'static [u8], field: Option<&'static [u8]>| {
            Some(Pattern {
                prefix,
                suffix,
                field,
            })
        };
        assert_eq!(split_pattern(b"w_*"), p(b"w_", b"", None));
        assert_eq!(split_pattern(b"h_*->f"), p(b"h_", b"", Some(b"f")));
        assert_eq!(split_pattern(b"h_*->"), p(b"h_", b"->", None));
        assert_eq!(split_pattern(b"nostar"), None);
    }
}
