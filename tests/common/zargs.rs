//! Random sorted-set arguments shared by the seeded zset streams (tests/parity_zsets.rs runs
//! them through the store, tests/types_zset_redis.rs through the bare type): members, scores
//! in every spelling Redis parses (and some it refuses), range ends and LIMIT clauses.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A member: mostly from a hot set of `hot` names (`hot_pct` percent of draws), else from
/// `spread` names, and now and then one long enough to leave the listpack encoding.
pub fn member(rng: &mut ChaCha8Rng, hot_pct: u32, spread: u32) -> String {
    match rng.gen_range(0..100) {
        0 => "x".repeat(rng.gen_range(60..70)),
        n if n <= hot_pct => format!("m{}", rng.gen_range(0..12)),
        _ => format!("m{}", rng.gen_range(0..spread)),
    }
}

/// A member of a lex set: 0 to 2 letters of "abcd", so lex ranges hit and miss.
pub fn lex_member(rng: &mut ChaCha8Rng) -> String {
    let len = rng.gen_range(0..3);
    (0..len)
        .map(|_| (b'a' + rng.gen_range(0..4)) as char)
        .collect()
}

/// A score as a client would send it: integers, decimals, infinities, `-0`, hex floats,
/// exponents, and the invalid `nan`, `abc` and out-of-range `1e400`.
pub fn score(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..40) {
        0 => "inf".into(),
        1 => "-inf".into(),
        2 => "+inf".into(),
        3 => "-0".into(),
        4 => "nan".into(),
        5 => "abc".into(),
        6 => "0x1p-3".into(),
        7 => "1e3".into(),
        8 => ".5".into(),
        9 => "1e400".into(),
        10..=25 => rng.gen_range(-5..6).to_string(),
        _ => format!("{:.3}", rng.gen_range(-100.0..100.0)),
    }
}

/// One end of a score range, exclusive (`(`) three times in ten.
pub fn score_end(rng: &mut ChaCha8Rng) -> String {
    let ex = if rng.gen_bool(0.3) { "(" } else { "" };
    let v = match rng.gen_range(0..20) {
        0 => "-inf".into(),
        1 => "+inf".into(),
        2 => "inf".into(),
        3 => return "notafloat".into(),
        4 => "1.5".into(),
        _ => rng.gen_range(-6..7).to_string(),
    };
    format!("{ex}{v}")
}

/// One end of a lex range: `-`, `+`, an invalid one, or `[`/`(` and a lex member.
pub fn lex_end(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..12) {
        0 => "-".into(),
        1 => "+".into(),
        2 => "bad".into(),
        3..=7 => format!("[{}", lex_member(rng)),
        _ => format!("({}", lex_member(rng)),
    }
}

/// A LIMIT clause three times in ten, negative offsets and counts included.
pub fn limit(rng: &mut ChaCha8Rng, v: &mut Vec<String>) {
    if rng.gen_bool(0.3) {
        v.push("LIMIT".into());
        v.push(rng.gen_range(-1..5).to_string());
        v.push(rng.gen_range(-2..6).to_string());
    }
}
