//! Reading task outputs for people: the head of an artifact as a table.

use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::tasks::frame::scan_artifact;

/// The first `limit` rows of a Parquet artifact, formatted as a text table, and the column names.
pub fn head_table(path: &Path, limit: usize) -> Result<String> {
    let df = scan_artifact(path)?
        .limit(limit as IdxSize)
        .collect()
        .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))?;
    Ok(df.to_string())
}

/// The first `limit` rows of a Parquet artifact as JSON objects (one per row).
pub fn head_json(path: &Path, limit: usize) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let err = |e: PolarsError| Error::Invalid(format!("cannot read {}: {e}", path.display()));
    let df = scan_artifact(path)?.limit(limit as IdxSize).collect().map_err(err)?;
    let mut rows = vec![serde_json::Map::new(); df.height()];
    for col in df.columns() {
        let s = col.as_materialized_series();
        for (i, row) in rows.iter_mut().enumerate() {
            let v = s.get(i).map_err(err)?;
            row.insert(s.name().to_string(), any_to_json(&v));
        }
    }
    Ok(rows)
}

fn any_to_json(v: &AnyValue) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        AnyValue::Null => J::Null,
        AnyValue::Boolean(b) => J::Bool(*b),
        AnyValue::Int8(x) => (*x).into(),
        AnyValue::Int16(x) => (*x).into(),
        AnyValue::Int32(x) => (*x).into(),
        AnyValue::Int64(x) => (*x).into(),
        AnyValue::UInt8(x) => (*x).into(),
        AnyValue::UInt16(x) => (*x).into(),
        AnyValue::UInt32(x) => (*x).into(),
        AnyValue::UInt64(x) => (*x).into(),
        AnyValue::Float32(x) => serde_json::Number::from_f64(*x as f64).map_or(J::Null, J::Number),
        AnyValue::Float64(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        AnyValue::String(s) => J::String(s.to_string()),
        AnyValue::StringOwned(s) => J::String(s.to_string()),
        other => J::String(other.to_string().trim_matches('"').to_string()),
    }
}
