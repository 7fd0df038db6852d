//! Redis's glob matcher (`stringmatchlen` in `util.c`), byte for byte.
//!
//! KEYS, SCAN MATCH, PSUBSCRIBE and PUBSUB CHANNELS all match with this one function, so it
//! reproduces Redis's results exactly, quirks included (spec: messaging.md §4):
//!
//! - matching runs only while both the pattern and the string have bytes left, so the empty
//!   string matches only the empty pattern (even `*` fails on it);
//! - once the string is used up, trailing `*`s are skipped and both must be used up;
//! - `\x` is a literal `x`; a lone trailing `\` is a literal `\`;
//! - in a class, a range needs three pattern bytes (`[a-]` is the range `]`..`a` and leaves the
//!   class unclosed), reversed ranges are swapped, and range bounds compare as *signed* chars
//!   (x86-64 `char`), so `[a-\xff]` is the range -1..=97 and holds `\xff` but not `\x80`;
//! - an unclosed class runs to the end of the pattern;
//! - a chain of more than 1000 nested `*` expansions fails (CVE-2024-31228's guard, which the
//!   Debian 7.0.15 build carries).
//!
//! # Design
//!
//! Redis recurses once per `*`: the `*` tries the rest of the pattern at each later start in
//! the string, and a shared "skip longer matches" flag is set the first time a `*` runs out of
//! starts; from then on every enclosing `*` gives up at once. An attempt that reaches a further
//! `*` therefore never fails without setting the flag (that `*` either matches, which ends the
//! whole search, or runs out), so an outer `*` only moves on after attempts that failed before
//! the next `*`, and once an inner `*` is reached the outer ones never move again. The only
//! live backtracking point is the innermost `*` reached so far. This module keeps just that
//! point (its pattern index and its current start in the string) and the nesting depth, in a
//! loop, with no recursion:
//!
//! - a segment (the pattern up to the next `*`) that reaches a `*` makes that `*` the
//!   backtracking point, one level deeper; a final `*` matches at once;
//! - a segment that fails moves the innermost `*` one byte on; when it has no byte left to
//!   skip, the match fails (Redis's flag);
//! - reaching a non-final `*` at depth 1000 fails: in Redis its rest is called at nesting
//!   1001, returns "no match" for every start, and the `*` then runs out.
//!
//! Below the nesting limit the flag never changes a result: the proptest below compares with
//! a plain exhaustive matcher.
//!
//! Cost: each `*` tries at most `string.len()` starts and each try scans one segment, so a
//! match is O(string × pattern) at worst, as in Redis, never exponential (README,
//! "Performance", has the times of a hostile pattern and of the quadratic worst case).
//!
//! Redis reads one byte past the pattern's end (the string's NUL terminator) in a few places;
//! here a byte past the end is simply absent, which is never special, so results agree.

/// Redis fails a match when a `*` expansion would be nested deeper than this.
const MAX_STAR_NESTING: usize = 1000;

/// Whether `string` matches the glob `pattern`, exactly as Redis 7.0 `stringmatchlen` with
/// case-sensitive comparison.
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    // (pattern index after the innermost `*`, string index where its rest is being tried)
    let mut star: Option<(usize, usize)> = None;
    let mut depth = 0usize;
    let (mut pi, mut si) = (0usize, 0usize);
    loop {
        match segment(pattern, pi, string, si) {
            Segment::Matched => return true,
            Segment::Star { rest, at } => {
                if depth == MAX_STAR_NESTING {
                    return false;
                }
                depth += 1;
                star = Some((rest, at));
                pi = rest;
                si = at;
            }
            Segment::Failed => {
                let Some((rest, at)) = star else {
                    return false;
                };
                // Redis never tries the rest against the empty suffix: a non-empty pattern
                // cannot match the empty string.
                if at + 1 >= string.len() {
                    return false;
                }
                star = Some((rest, at + 1));
                pi = rest;
                si = at + 1;
            }
        }
    }
}

/// Whether `pattern` is exactly `*`, the pattern KEYS and SCAN treat as "everything" without
/// matching (which is how they list the key `""`, which `*` does not match).
pub fn is_match_all(pattern: &[u8]) -> bool {
    pattern == b"*"
}

/// How matching from a given pattern and string position ended.
enum Segment {
    /// The rest of the pattern matched the rest of the string.
    Matched,
    /// A mismatch before any further `*`.
    Failed,
    /// A non-final `*` (run of `*`s) was reached with string bytes left: its rest starts at
    /// pattern index `rest` and is first tried at string index `at`.
    Star { rest: usize, at: usize },
}

/// One pass of Redis's main loop from `(pi, si)` up to the next `*`.
fn segment(p: &[u8], mut pi: usize, s: &[u8], mut si: usize) -> Segment {
    while pi < p.len() && si < s.len() {
        match p[pi] {
            b'*' => {
                while p.get(pi + 1) == Some(&b'*') {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return Segment::Matched;
                }
                return Segment::Star {
                    rest: pi + 1,
                    at: si,
                };
            }
            b'?' => si += 1,
            b'[' => {
                let (matched, last) = class(p, pi + 1, s[si]);
                if !matched {
                    return Segment::Failed;
                }
                pi = last;
                si += 1;
            }
            b'\\' => {
                if p.len() - pi >= 2 {
                    pi += 1;
                }
                if p[pi] != s[si] {
                    return Segment::Failed;
                }
                si += 1;
            }
            c => {
                if c != s[si] {
                    return Segment::Failed;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == s.len() {
            while p.get(pi) == Some(&b'*') {
                pi += 1;
            }
            break;
        }
    }
    if pi == p.len() && si == s.len() {
        Segment::Matched
    } else {
        Segment::Failed
    }
}

/// Matches byte `c` against the class whose body starts at `pi` (just after `[`). Returns
/// whether it matched and the index of the class's last pattern byte (its `]`, or the last byte
/// of the pattern when the class is unclosed), so that the caller's step lands after it.
fn class(p: &[u8], mut pi: usize, c: u8) -> (bool, usize) {
    let negate = p.get(pi) == Some(&b'^');
    if negate {
        pi += 1;
    }
    let mut matched = false;
    // Invariant: pi <= p.len(); bytes past the end read as absent (Redis sees the NUL).
    loop {
        let left = p.len() - pi;
        if p.get(pi) == Some(&b'\\') && left >= 2 {
            pi += 1;
            matched |= p[pi] == c;
        } else if p.get(pi) == Some(&b']') {
            break;
        } else if left == 0 {
            // Unclosed: step back so the caller's step ends exactly at the pattern end.
            pi -= 1;
            break;
        } else if left >= 3 && p[pi + 1] == b'-' {
            let (mut lo, mut hi) = (signed(p[pi]), signed(p[pi + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            matched |= (lo..=hi).contains(&signed(c));
            pi += 2;
        } else {
            matched |= p[pi] == c;
        }
        pi += 1;
    }
    (matched != negate, pi)
}

/// A byte as x86-64 C `char` (signed), which is how Redis compares range bounds.
fn signed(b: u8) -> i8 {
    b as i8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// messaging.md §4.1, recorded from redis-server 7.0.15 with KEYS and PUBSUB CHANNELS.
    const VECTORS: &[(&[u8], &[u8], bool)] = &[
        (b"h?llo", b"hello", true),
        (b"h?llo", b"hllo", false),
        (b"h*llo", b"hllo", true),
        (b"h*llo", b"heeeello", true),
        (b"h[ae]llo", b"hallo", true),
        (b"h[ae]llo", b"hillo", false),
        (b"h[^e]llo", b"hallo", true),
        (b"h[^e]llo", b"hello", false),
        (b"h[a-b]llo", b"hbllo", true),
        (b"h[a-b]llo", b"hcllo", false),
        (b"h[z-a]llo", b"hello", true),
        (b"h\\*llo", b"h*llo", true),
        (b"h\\*llo", b"hello", false),
        (b"h[", b"h[", false),
        (b"h[ab", b"ha", true),
        (b"h[ab", b"h[ab", false),
        (b"h[^", b"hx", true),
        (b"[\\]]", b"]", true),
        (b"[a\\-z]", b"-", true),
        (b"[a\\-z]", b"b", false),
        (b"[a-]", b"-", false),
        (b"[a-]", b"_", true),
        (b"[]a", b"]a", false),
        (b"[^]", b"x", true),
        (b"[[]", b"[", true),
        (b"[a-c-e]", b"-", true),
        (b"[a-c-e]", b"d", false),
        (b"x[^a-c]y", b"xdy", true),
        (b"ab\\", b"ab\\", true),
        (b"a\\b", b"ab", true),
        (b"\\?", b"x", false),
        (b"H*", b"hello", false),
        (b"a?", b"a", false),
        (b"a*b*c", b"acb", false),
        (b"*.txt", b"f.txt.bak", false),
        (b"*[", b"x[", false),
        (b"*", b"", false),
    ];

    #[test]
    fn spec_vectors() {
        for &(p, s, want) in VECTORS {
            assert_eq!(glob_match(p, s), want, "{:?} vs {:?}", p, s);
            assert_eq!(reference(p, s), want, "reference: {:?} vs {:?}", p, s);
        }
    }

    #[test]
    fn empty_string_matches_only_empty_pattern() {
        assert!(glob_match(b"", b""));
        for p in [&b"*"[..], b"**", b"?", b"[", b"[^", b"\\"] {
            assert!(!glob_match(p, b""), "{:?}", p);
        }
        assert!(!glob_match(b"", b"a"));
    }

    #[test]
    fn match_all_shortcut() {
        assert!(is_match_all(b"*"));
        assert!(!is_match_all(b"**"));
        assert!(!is_match_all(b""));
        assert!(!is_match_all(b"*a"));
    }

    #[test]
    fn signed_char_ranges() {
        // Bounds compare as signed chars: 'a'..=0xff is -1..=97 once swapped.
        assert!(glob_match(b"[a-\xff]", b"\xff"));
        assert!(glob_match(b"[a-\xff]", b"0"));
        assert!(!glob_match(b"[a-\xff]", b"b"));
        assert!(!glob_match(b"[a-\xff]", b"\x80"));
        assert!(glob_match(b"[\x80-\x90]", b"\x85"));
        assert!(!glob_match(b"[\x80-\x90]", b"a"));
    }

    /// messaging.md §4: a chain of more than 1000 nested `*` expansions fails.
    #[test]
    fn recursion_guard() {
        let s = vec![b'a'; 1100];
        let mut p = b"*a".repeat(1000);
        p.push(b'*');
        assert!(glob_match(&p, &s));
        let mut p = b"*a".repeat(1001);
        p.push(b'*');
        assert!(!glob_match(&p, &s));
        // Redis's regression test for CVE-2024-31228.
        assert!(!glob_match(&b"*?".repeat(50_000), &vec![b'a'; 50_000]));
        // 999 `*?` then a final `*`: within the limit.
        let mut p = b"*?".repeat(1000);
        p.push(b'*');
        assert!(glob_match(&p, &vec![b'a'; 1500]));
    }

    /// Patterns that make a plain backtracking matcher exponential (each would run for
    /// ages here if the matcher were). Measured in release: the first takes about 30 µs.
    #[test]
    fn hostile_patterns_finish() {
        let s = vec![b'a'; 10_000];
        assert!(!glob_match(b"*a*a*a*a*a*a*a*a*b", &s));
        let mut p = b"a*".repeat(40);
        p.push(b'b');
        assert!(!glob_match(&p, &s));
        assert!(glob_match(b"*a*a*a*a*a*a*a*a*", &s));
        assert!(!glob_match(b"*?*?*?*?*?*?*?*?*?*?*?*?*[b]", &s));
    }

    /// Independent reference: tokenize the pattern first (classes become byte sets), then
    /// match with memoized recursion that tries every split, without Redis's shortcut or its
    /// nesting guard (patterns here stay far below 1000 stars).
    fn reference(p: &[u8], s: &[u8]) -> bool {
        #[derive(Clone)]
        enum Tok {
            Star,
            Set(Box<[bool; 256]>),
        }
        let mut toks = Vec::new();
        let mut i = 0;
        while i < p.len() {
            let mut set = [false; 256];
            match p[i] {
                b'*' => {
                    if !matches!(toks.last(), Some(Tok::Star)) {
                        toks.push(Tok::Star);
                    }
                    i += 1;
                    continue;
                }
                b'?' => set = [true; 256],
                b'\\' if i + 1 < p.len() => {
                    i += 1;
                    set[p[i] as usize] = true;
                }
                b'[' => {
                    i += 1;
                    let neg = i < p.len() && p[i] == b'^';
                    if neg {
                        i += 1;
                    }
                    loop {
                        if i >= p.len() {
                            break;
                        }
                        let b = p[i];
                        if b == b'\\' && i + 1 < p.len() {
                            set[p[i + 1] as usize] = true;
                            i += 2;
                        } else if b == b']' {
                            i += 1;
                            break;
                        } else if i + 2 < p.len() && p[i + 1] == b'-' {
                            let (x, y) = (b as i8 as i32, p[i + 2] as i8 as i32);
                            let (lo, hi) = (x.min(y), x.max(y));
                            for (c, slot) in set.iter_mut().enumerate() {
                                let v = c as u8 as i8 as i32;
                                if v >= lo && v <= hi {
                                    *slot = true;
                                }
                            }
                            i += 3;
                        } else {
                            set[b as usize] = true;
                            i += 1;
                        }
                    }
                    if neg {
                        for v in set.iter_mut() {
                            *v = !*v;
                        }
                    }
                    toks.push(Tok::Set(Box::new(set)));
                    continue;
                }
                b => set[b as usize] = true,
            }
            toks.push(Tok::Set(Box::new(set)));
            i += 1;
        }
        // m(t, j): tokens t.. against s[j..], where the caller guarantees j < s.len() or the
        // whole input was empty.
        fn m(
            toks: &[Tok],
            t: usize,
            s: &[u8],
            j: usize,
            memo: &mut std::collections::HashMap<(usize, usize), bool>,
        ) -> bool {
            if t == toks.len() || j == s.len() {
                return t == toks.len() && j == s.len();
            }
            if let Some(&r) = memo.get(&(t, j)) {
                return r;
            }
            let r = match &toks[t] {
                Tok::Star => {
                    t + 1 == toks.len() || (j..s.len()).any(|k| m(toks, t + 1, s, k, memo))
                }
                Tok::Set(set) => {
                    set[s[j] as usize] && {
                        if j + 1 == s.len() {
                            toks[t + 1..].iter().all(|x| matches!(x, Tok::Star))
                        } else {
                            m(toks, t + 1, s, j + 1, memo)
                        }
                    }
                }
            };
            memo.insert((t, j), r);
            r
        }
        m(&toks, 0, s, 0, &mut std::collections::HashMap::new())
    }

    fn pat_byte() -> impl Strategy<Value = u8> {
        prop::sample::select(b"ab*?[]^-\\\xff".to_vec())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn agrees_with_reference(
            p in prop::collection::vec(pat_byte(), 0..12),
            s in prop::collection::vec(prop::sample::select(b"ab-]^\\*[\xff".to_vec()), 0..10),
        ) {
            prop_assert_eq!(glob_match(&p, &s), reference(&p, &s));
        }

        #[test]
        fn never_panics(p in prop::collection::vec(any::<u8>(), 0..40), s in prop::collection::vec(any::<u8>(), 0..40)) {
            let _ = glob_match(&p, &s);
        }
    }
}
