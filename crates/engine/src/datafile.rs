//! Parquet files written from plain column vectors, for the data generators of `polder gen`
//! (the datagen crate does not link Polars). Written beside the target and renamed into place.

use std::path::Path;

use polars::prelude::*;

use crate::fsutil::{publish, temp_path_for};
use crate::tasks::frame::ARTIFACT_COMPRESSION;

/// One column's values.
#[derive(Debug, Clone)]
pub enum Values {
    /// 64-bit integers.
    I64(Vec<i64>),
    /// 32-bit integers.
    I32(Vec<i32>),
    /// Text.
    Text(Vec<String>),
    /// Decimals as unscaled integers (`1999` at scale 2 is 19.99).
    Decimal {
        /// The unscaled values.
        unscaled: Vec<i64>,
        /// Total digits.
        precision: usize,
        /// Digits after the point.
        scale: usize,
    },
    /// Timestamps without time zone, microseconds since 1970-01-01.
    DatetimeMicros(Vec<i64>),
    /// Days since 1970-01-01.
    Date(Vec<i32>),
}

/// Writes `columns` as one Parquet file at `path` (atomically); its row count.
pub fn write_parquet(path: &Path, columns: Vec<(&str, Values)>) -> crate::error::Result<usize> {
    let failed = |e: &dyn std::fmt::Display| crate::error::Error::Invalid(format!("cannot write {}: {e}", path.display()));
    let mut cols = Vec::with_capacity(columns.len());
    for (name, values) in columns {
        let name = PlSmallStr::from(name);
        let series = match values {
            Values::I64(v) => Series::new(name, v),
            Values::I32(v) => Series::new(name, v),
            Values::Text(v) => Series::new(name, v),
            Values::Decimal { unscaled, precision, scale } => {
                let wide: Vec<i128> = unscaled.into_iter().map(i128::from).collect();
                Int128Chunked::from_vec(name, wide).into_decimal(precision, scale).map_err(|e| failed(&e))?.into_series()
            }
            Values::DatetimeMicros(v) => {
                Int64Chunked::from_vec(name, v).into_datetime(TimeUnit::Microseconds, None).into_series()
            }
            Values::Date(v) => Int32Chunked::from_vec(name, v).into_date().into_series(),
        };
        cols.push(Column::from(series));
    }
    let height = cols.first().map_or(0, |c| c.len());
    let mut df = DataFrame::new(height, cols).map_err(|e| failed(&e))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
    }
    let tmp = temp_path_for(path);
    let file = std::fs::File::create(&tmp).map_err(|e| failed(&e))?;
    let written = ParquetWriter::new(file).with_compression(ARTIFACT_COMPRESSION).finish(&mut df);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(failed(&e));
    }
    publish(&tmp, path).map_err(|e| failed(&e))?;
    Ok(height)
}
