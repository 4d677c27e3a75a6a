//! Seeded random streams and the few distributions the generators need.
//!
//! Only `next_u64` of the PCG generator is used; the helpers below are written here rather than
//! taken from `rand`'s distributions so the output cannot change with a `rand` upgrade.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

/// SplitMix64 finaliser: a bijection on `u64` with good avalanche.
pub(crate) fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An independent random stream, named by `(seed, stream, index)`.
pub(crate) struct Stream(Pcg64Mcg);

impl Stream {
    /// The stream `stream`/`index` of `seed` (e.g. stream "rows", index = day number).
    pub(crate) fn new(seed: u64, stream: u64, index: u64) -> Self {
        let a = mix64(mix64(mix64(seed) ^ stream) ^ index);
        let b = mix64(a ^ 0xD1B5_4A32_D192_ED03);
        Stream(Pcg64Mcg::new((u128::from(a) << 64) | u128::from(b)))
    }

    /// 64 random bits.
    #[inline]
    pub(crate) fn bits(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.bits() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`), by widening multiply (bias below 2^-40 for our `n`).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.bits()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[lo, hi)`.
    #[inline]
    pub(crate) fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// Index of the bucket that `x` (in `[0, total)`) falls in, given cumulative weights.
pub(crate) fn pick_cumulative(cumulative: &[f64], x: f64) -> usize {
    let i = cumulative.partition_point(|&c| c <= x);
    i.min(cumulative.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(mut s: Stream) -> Vec<u64> {
        (0..4).map(|_| s.bits()).collect()
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        assert_eq!(draw(Stream::new(1, 2, 3)), draw(Stream::new(1, 2, 3)));
        assert_ne!(draw(Stream::new(1, 2, 3)), draw(Stream::new(1, 2, 4)));
        assert_ne!(draw(Stream::new(1, 2, 3)), draw(Stream::new(1, 3, 3)));
        assert_ne!(draw(Stream::new(1, 2, 3)), draw(Stream::new(2, 2, 3)));
    }

    #[test]
    fn helpers_stay_in_range() {
        let mut s = Stream::new(9, 9, 9);
        let mut seen = [0usize; 7];
        for _ in 0..70_000 {
            let u = s.unit();
            assert!((0.0..1.0).contains(&u));
            seen[s.below(7) as usize] += 1;
        }
        // Each bucket near 10_000.
        assert!(seen.iter().all(|&c| (9_500..10_500).contains(&c)), "{seen:?}");
    }

    #[test]
    fn pick_cumulative_buckets() {
        let cum = [1.0, 3.0, 6.0];
        assert_eq!(pick_cumulative(&cum, 0.0), 0);
        assert_eq!(pick_cumulative(&cum, 0.99), 0);
        assert_eq!(pick_cumulative(&cum, 1.0), 1);
        assert_eq!(pick_cumulative(&cum, 5.99), 2);
        assert_eq!(pick_cumulative(&cum, 6.0), 2);
    }

    #[test]
    fn mix64_is_not_identity() {
        assert_ne!(mix64(0), 0);
        assert_ne!(mix64(1), mix64(2));
    }
}
