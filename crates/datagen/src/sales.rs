//! A retail sales table for `examples/parquet_to_postgres`: one row per sale line (id, product,
//! store, quantity, unit price in cents, time of sale, day), split over a number of files as an
//! export would be. The columns are generated here; writing them as Parquet is the caller's job
//! (Polars lives in the engine crate), see `polder gen sales`.

use crate::rng::Stream;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SalesConfig {
    /// Total rows.
    pub rows: usize,
    /// Files to split them over.
    pub files: usize,
    /// Days the sales span, ending on 2024-06-30.
    pub days: u32,
    /// Random seed.
    pub seed: u64,
}

impl SalesConfig {
    /// `rows` rows in 8 files over 90 days.
    pub fn with_rows(rows: usize) -> Self {
        SalesConfig { rows, files: 8, days: 90, seed: 11 }
    }
}

/// One file's rows, column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SalesFile {
    /// The file name (`sales-000.parquet`).
    pub name: String,
    /// Unique sale line id.
    pub id: Vec<i64>,
    /// Product name (`product 0042`), 5,000 products.
    pub product: Vec<String>,
    /// Store number, 1–250.
    pub store: Vec<i32>,
    /// Quantity, 1–12.
    pub qty: Vec<i32>,
    /// Unit price in cents (a decimal with scale 2).
    pub price_cents: Vec<i64>,
    /// Time of sale, microseconds since 1970-01-01 UTC.
    pub sold_at_us: Vec<i64>,
    /// Day of sale, days since 1970-01-01.
    pub day: Vec<i32>,
}

/// 2024-06-30 as days since 1970-01-01.
const LAST_DAY: i32 = 19_904;

/// The files, in order; ids run from 1 over all of them.
pub fn files(cfg: &SalesConfig) -> impl Iterator<Item = SalesFile> + '_ {
    let files = cfg.files.max(1);
    let per = cfg.rows.div_ceil(files);
    (0..files).map(move |f| {
        let start = (f * per).min(cfg.rows);
        let end = ((f + 1) * per).min(cfg.rows);
        let mut out = SalesFile { name: format!("sales-{f:03}.parquet"), ..Default::default() };
        for i in start..end {
            let mut r = Stream::new(cfg.seed, 0, i as u64);
            let product = r.below(5_000);
            let day = LAST_DAY - r.below(cfg.days.max(1) as u64) as i32;
            let second = r.below(86_400) as i64;
            out.id.push(i as i64 + 1);
            out.product.push(format!("product {product:04}"));
            out.store.push(1 + r.below(250) as i32);
            out.qty.push(1 + r.below(12) as i32);
            // Prices are per product: the same product always costs the same.
            out.price_cents.push(99 + (crate::rng::mix64(cfg.seed ^ product) % 20_000) as i64);
            out.sold_at_us.push((day as i64 * 86_400 + second) * 1_000_000);
            out.day.push(day);
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_the_rows_deterministically_with_unique_ids() {
        let cfg = SalesConfig { rows: 1_003, files: 4, days: 30, seed: 5 };
        let a: Vec<SalesFile> = files(&cfg).collect();
        let b: Vec<SalesFile> = files(&cfg).collect();
        assert_eq!(a, b);
        assert_eq!(a.iter().map(|f| f.id.len()).collect::<Vec<_>>(), [251, 251, 251, 250]);
        let ids: Vec<i64> = a.iter().flat_map(|f| f.id.clone()).collect();
        assert_eq!(ids, (1..=1_003).collect::<Vec<_>>());
        for f in &a {
            assert!(f.day.iter().all(|d| (LAST_DAY - 29..=LAST_DAY).contains(d)));
            assert!(f.sold_at_us.iter().zip(&f.day).all(|(t, d)| t.div_euclid(86_400_000_000) == *d as i64));
        }
    }
}
