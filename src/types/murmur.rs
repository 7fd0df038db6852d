//! MurmurHash64A, the 64-bit hash Redis uses for HyperLogLog and RedisBloom uses for
//! Bloom and cuckoo filters, and MurmurHash2, the 32-bit one RedisBloom's count-min sketch
//! and top-k use.
//!
//! # Design
//!
//! Austin Appleby's MurmurHash64A with the input read as little-endian 64-bit blocks
//! whatever the host, which is how Redis's endian-neutral copy behaves. Both users pass
//! their own seed: Redis's HyperLogLog uses `0xadc83b19`; RedisBloom hashes once with
//! `0xc6a4a7935bd1e995` and a second time seeded with the first result.
//!
//! # References
//!
//! Redis `src/hyperloglog.c` (`MurmurHash64A`), RedisBloom `deps/murmur2/MurmurHash2.c`.

const M: u64 = 0xc6a4_a793_5bd1_e995;
const R: u32 = 47;

/// MurmurHash64A of `data` with `seed`.
///
/// Whole 8-byte blocks are single little-endian loads; the 1 to 7 trailing bytes are read
/// with at most two loads (see [`tail_le`]) instead of one step per byte.
#[inline]
pub fn murmurhash64a(data: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        h ^= mix(le64(block));
        h = h.wrapping_mul(M);
    }
    let tail = data.len() % 8;
    if tail != 0 {
        h ^= tail_le(data, tail);
        h = h.wrapping_mul(M);
    }
    fmix(h)
}

/// The per-block mix of MurmurHash64A (before the block enters the chain).
#[inline(always)]
pub(crate) fn mix(k: u64) -> u64 {
    let k = k.wrapping_mul(M);
    (k ^ (k >> R)).wrapping_mul(M)
}

/// MurmurHash64A's final avalanche.
#[inline(always)]
pub(crate) fn fmix(h: u64) -> u64 {
    let h = (h ^ (h >> R)).wrapping_mul(M);
    h ^ (h >> R)
}

/// The 8 bytes of `block` (exactly 8 long) as a little-endian integer.
#[inline(always)]
pub(crate) fn le64(block: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(block);
    u64::from_le_bytes(buf)
}

/// The last `tail` bytes of `data` (`tail` in 1..=7, at most `data.len()`) as a
/// little-endian integer: byte `i` of the tail is bits `8i..8i+7`.
///
/// With at least 8 bytes of input, one load of the last 8 bytes shifted down; shorter
/// inputs are the whole tail: two overlapping 4-byte loads, or for 1 to 3 bytes the first,
/// middle and last byte (positions that cover every byte, overlaps carrying equal bits).
#[inline(always)]
pub(crate) fn tail_le(data: &[u8], tail: usize) -> u64 {
    debug_assert!((1..8).contains(&tail) && tail <= data.len());
    if let Some(last) = data.last_chunk::<8>() {
        return u64::from_le_bytes(*last) >> (8 * (8 - tail));
    }
    let t = &data[data.len() - tail..];
    match (t.first_chunk::<4>(), t.last_chunk::<4>()) {
        (Some(lo), Some(hi)) => {
            u64::from(u32::from_le_bytes(*lo))
                | u64::from(u32::from_le_bytes(*hi)) << (8 * (tail - 4))
        }
        _ => match (t.first(), t.get(tail / 2), t.last()) {
            (Some(&b0), Some(&b1), Some(&b2)) => {
                u64::from(b0)
                    | u64::from(b1) << (8 * (tail / 2))
                    | u64::from(b2) << (8 * (tail - 1))
            }
            _ => 0,
        },
    }
}

/// MurmurHash2 (32-bit) of `data` with `seed`.
#[inline]
pub fn murmurhash2(data: &[u8], seed: u32) -> u32 {
    const M32: u32 = 0x5bd1_e995;
    let mut h = seed ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(block);
        let mut k = u32::from_le_bytes(buf);
        k = k.wrapping_mul(M32);
        k ^= k >> 24;
        k = k.wrapping_mul(M32);
        h = h.wrapping_mul(M32);
        h ^= k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M32);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M32);
    h ^= h >> 15;
    h
}

#[cfg(test)]
mod tests {
    use super::{murmurhash2, murmurhash64a};

    /// MurmurHash64A with the tail read byte by byte, as the reference does.
    fn reference(data: &[u8], seed: u64) -> u64 {
        let (m, r) = (super::M, super::R);
        let mut h = seed ^ (data.len() as u64).wrapping_mul(m);
        let blocks = data.chunks_exact(8);
        let tail = blocks.remainder();
        for block in blocks {
            let mut k = u64::from_le_bytes(block.try_into().unwrap()).wrapping_mul(m);
            k ^= k >> r;
            h = (h ^ k.wrapping_mul(m)).wrapping_mul(m);
        }
        if !tail.is_empty() {
            for (i, &b) in tail.iter().enumerate() {
                h ^= u64::from(b) << (8 * i);
            }
            h = h.wrapping_mul(m);
        }
        h ^= h >> r;
        h = h.wrapping_mul(m);
        h ^ (h >> r)
    }

    #[test]
    fn every_length_matches_the_bytewise_reference() {
        let data: Vec<u8> = (0..80u32).map(|i| (i * 37 + 11) as u8).collect();
        for start in 0..3 {
            for len in 0..=data.len() - start {
                let d = &data[start..start + len];
                for seed in [0, 0xadc8_3b19, 0xc6a4_a793_5bd1_e995] {
                    assert_eq!(murmurhash64a(d, seed), reference(d, seed), "len {len}");
                }
            }
        }
    }

    #[test]
    fn murmurhash2_vectors() {
        // The reference algorithm's outputs; tests/types_parity_cf_cms.rs checks the hash
        // end to end through RedisBloom's CMS counts.
        assert_eq!(murmurhash2(b"", 0), 0);
        assert_eq!(murmurhash2(b"", 1), 0x5bd1_5e36);
        assert_eq!(murmurhash2(b"hello", 0), 0xe56129cb);
    }

    const REDIS_HLL_SEED: u64 = 0xadc8_3b19;

    #[test]
    fn matches_redis_hll_vectors() {
        let vectors: [(&[u8], u64); 7] = [
            (b"a", 0x53d2_470a_9b43_b1a7),
            (b"b", 0xf10c_df96_c004_fda4),
            (b"c", 0x7585_a455_33f2_60f4),
            (b"", 0xd8df_ea65_85bc_9732),
            (b"hello world!", 0x0fc4_4401_1f57_220c),
            (b"12345678", 0x95eb_b863_8913_2953),
            (b"123456789abcdefgh", 0xad1c_b3e9_9ced_07a6),
        ];
        for (input, want) in vectors {
            assert_eq!(murmurhash64a(input, REDIS_HLL_SEED), want, "{input:?}");
        }
    }
}
