//! LCS: the longest common subsequence of two strings, with Redis 7.0's choice among equal
//! subsequences and its list of matching ranges.
//!
//! The table is Redis's dynamic program: `t[i][j]` the LCS length of the first `i` bytes
//! of `a` and the first `j` of `b`, 4 bytes a cell. The walk back from the end prefers
//! stepping through `a` when that keeps a longer subsequence, else through `b`, which fixes
//! which of several equally long subsequences is returned; ranges are emitted from the end
//! of the strings towards their start, as Redis lists them.

use super::value::Value;
use super::{Db, Lock, Store};
use crate::error::{Error, Result};

/// One matching range of [`LcsMatches`]: inclusive byte ranges of each string, and its
/// length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LcsRange {
    /// First and last byte of the match in the first string.
    pub a: (usize, usize),
    /// First and last byte of the match in the second string.
    pub b: (usize, usize),
    /// The match's length.
    pub len: usize,
}

/// `LCS ... IDX`: the matching ranges (last first) and the subsequence's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LcsMatches {
    /// Ranges at least `MINMATCHLEN` long, from the end of the strings back.
    pub matches: Vec<LcsRange>,
    /// The length of the longest common subsequence.
    pub len: usize,
}

/// What LCS computes beyond the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LcsWant {
    /// The subsequence itself.
    String,
    /// Its length only.
    Len,
    /// The ranges of matches at least `min_len` long.
    Idx { min_len: usize },
}

/// The answer to an [`LcsWant`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LcsOutcome {
    String(Vec<u8>),
    Len(usize),
    Idx(LcsMatches),
}

/// The LCS of `a` and `b`; `limit` bounds the table's bytes (Redis's proto-max-bulk-len).
pub(crate) fn lcs(a: &[u8], b: &[u8], want: LcsWant, limit: usize) -> Result<LcsOutcome> {
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(Error::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    let cells = (alen + 1).checked_mul(width);
    match cells.and_then(|c| c.checked_mul(4)) {
        Some(bytes) if bytes <= limit => {}
        _ => {
            return Err(Error::err(
                "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            ))
        }
    }
    let mut t = vec![0u32; cells.unwrap_or(0)];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * width + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * width + j - 1] + 1
            } else {
                t[(i - 1) * width + j].max(t[i * width + j - 1])
            };
        }
    }
    let total = t[alen * width + blen] as usize;
    if want == LcsWant::Len {
        return Ok(LcsOutcome::Len(total));
    }
    let min_len = match want {
        LcsWant::Idx { min_len } => Some(min_len),
        _ => None,
    };
    let mut result = vec![0u8; total];
    let mut matches = Vec::new();
    let mut idx = total;
    // The range being extended backwards; `None` between ranges.
    let mut range: Option<LcsRange> = None;
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            match &mut range {
                None => {
                    range = Some(LcsRange {
                        a: (i - 1, i - 1),
                        b: (j - 1, j - 1),
                        len: 0,
                    })
                }
                Some(r) if r.a.0 == i && r.b.0 == j => {
                    r.a.0 -= 1;
                    r.b.0 -= 1;
                }
                Some(_) => emit = true,
            }
            if range.is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * width + j] > t[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = range.is_some();
        }
        if emit {
            if let (Some(mut r), Some(min)) = (range, min_len) {
                r.len = r.a.1 - r.a.0 + 1;
                if min == 0 || r.len >= min {
                    matches.push(r);
                }
            }
            range = None;
        }
    }
    Ok(match min_len {
        Some(_) => LcsOutcome::Idx(LcsMatches {
            matches,
            len: total,
        }),
        None => LcsOutcome::String(result),
    })
}

impl Db<'_> {
    /// The two strings LCS compares: a missing key is the empty string; a key of another
    /// type is an error.
    pub(crate) fn lcs_inputs(&mut self, a: &[u8], b: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut read = |k: &[u8]| -> Result<Vec<u8>> {
            match self.value(k) {
                None => Ok(Vec::new()),
                Some(Value::Str(s)) => Ok(s.bytes().into_owned()),
                Some(_) => Err(Error::err("The specified keys must contain string values")),
            }
        };
        let a = read(a);
        let b = read(b);
        Ok((a?, b?))
    }

    /// LCS of the strings at two keys.
    pub(crate) fn lcs(&mut self, a: &[u8], b: &[u8], want: LcsWant) -> Result<LcsOutcome> {
        let (a, b) = self.lcs_inputs(a, b)?;
        lcs(&a, &b, want, self.settings().max_string_bytes())
    }
}

impl Store {
    fn lcs_typed(&self, a: &[u8], b: &[u8], want: LcsWant) -> Result<LcsOutcome> {
        self.with_db(Lock::Keys(&[a, b]), |db| db.lcs(a, b, want))
    }

    /// `LCS key1 key2`: the longest common subsequence of two strings (a missing key is
    /// the empty string).
    ///
    /// ```
    /// let store = sketchstore::Store::new();
    /// store.set("a", "ohmytext").unwrap();
    /// store.set("b", "mynewtext").unwrap();
    /// assert_eq!(store.lcs("a", "b").unwrap(), b"mytext".to_vec());
    /// ```
    pub fn lcs(&self, a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        match self.lcs_typed(a.as_ref(), b.as_ref(), LcsWant::String)? {
            LcsOutcome::String(s) => Ok(s),
            _ => Ok(Vec::new()),
        }
    }

    /// `LCS key1 key2 LEN`: the length of the longest common subsequence.
    pub fn lcs_len(&self, a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> Result<usize> {
        match self.lcs_typed(a.as_ref(), b.as_ref(), LcsWant::Len)? {
            LcsOutcome::Len(n) => Ok(n),
            _ => Ok(0),
        }
    }

    /// `LCS key1 key2 IDX MINMATCHLEN min_len WITHMATCHLEN`: the matching ranges.
    pub fn lcs_idx(
        &self,
        a: impl AsRef<[u8]>,
        b: impl AsRef<[u8]>,
        min_len: usize,
    ) -> Result<LcsMatches> {
        match self.lcs_typed(a.as_ref(), b.as_ref(), LcsWant::Idx { min_len })? {
            LcsOutcome::Idx(m) => Ok(m),
            _ => Ok(LcsMatches {
                matches: Vec::new(),
                len: 0,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(a: &str, b: &str, min_len: usize) -> LcsMatches {
        match lcs(
            a.as_bytes(),
            b.as_bytes(),
            LcsWant::Idx { min_len },
            1 << 20,
        )
        .unwrap()
        {
            LcsOutcome::Idx(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn redis_documentation_example() {
        let s = lcs(b"ohmytext", b"mynewtext", LcsWant::String, 1 << 20).unwrap();
        assert_eq!(s, LcsOutcome::String(b"mytext".to_vec()));
        let m = idx("ohmytext", "mynewtext", 0);
        assert_eq!(m.len, 6);
        let ranges: Vec<_> = m.matches.iter().map(|r| (r.a, r.b, r.len)).collect();
        assert_eq!(ranges, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
        assert_eq!(idx("ohmytext", "mynewtext", 4).matches.len(), 1);
    }

    #[test]
    fn empty_and_limit() {
        assert_eq!(
            lcs(b"", b"abc", LcsWant::Len, 1 << 20).unwrap(),
            LcsOutcome::Len(0)
        );
        let e = lcs(b"abcd", b"abcd", LcsWant::Len, 24).unwrap_err();
        assert!(e.to_string().contains("proto-max-bulk-len"));
    }
}
