//! Seeded generators shared by the top-k and t-digest parity tests: value streams of
//! several shapes for t-digests, and a Zipf sampler of item names for top-k.

use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha8Rng;

/// A uniform double in `[0, 1)`.
pub fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` values of shape `kind`: 0 uniform, 1 exponential, 2 small integers (duplicates),
/// 3 ascending, 4 descending, 5 a wide range, other: half one repeated value.
pub fn stream(kind: u32, n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut v: Vec<f64> = (0..n)
        .map(|i| match kind {
            0 => uniform(rng) * 1000.0,
            1 => -(1.0 - uniform(rng)).ln() * 3.5,
            2 => (uniform(rng) * 20.0).floor(),
            3 => i as f64,
            4 => (n - i) as f64 * 0.5,
            5 => (uniform(rng) - 0.5) * 1e12,
            _ => {
                let u = uniform(rng);
                if u < 0.5 {
                    7.0
                } else {
                    u * u * 1e-3
                }
            }
        })
        .collect();
    if kind == 6 {
        v.push(-3.0);
    }
    v
}

/// A Zipf(s) sampler over `0..n` by inverse CDF.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n)
            .map(|i| {
                acc += 1.0 / (i as f64).powf(s);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf { cdf }
    }

    pub fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let u = uniform(rng);
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// The name of item `i`.
pub fn item_name(i: usize) -> String {
    format!("page:{i}")
}
