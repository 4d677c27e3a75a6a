//! Reading task outputs for people: the latest output of a task (stored, or recomputed for a
//! view) as a text table or JSON rows.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::executor::plan;
use crate::params::Params;
use crate::spec::{Materialize, Pipeline};
use crate::tasks::{Input, ViewPlan};
use crate::workspace::Workspace;

mod view;

pub use view::{export, page_ipc, page_json, ExportFormat, Filter, FilterOp, View, ViewCache};

/// The latest output of `task`: its newest artifact, or for a view, the view's plan over its
/// upstreams' latest outputs (with the parameters' defaults).
pub fn latest(ws: &Workspace, pipeline: &Pipeline, task: &str) -> Result<Input> {
    let t = pipeline.task(task).ok_or_else(|| {
        let ids: Vec<&str> = pipeline.tasks.iter().map(|t| t.id.as_str()).collect();
        Error::NotFound(format!("pipeline '{}' has no task '{task}'; its tasks: {}", pipeline.name, ids.join(", ")))
    })?;
    if t.materialize == Materialize::Table {
        let facts = ws.store.latest_output(&pipeline.name, task)?.map(|(_, _, f)| f);
        return match facts.and_then(|f| f.artifact) {
            Some(a) => Ok(Input::Artifact(ws.resolve(&a))),
            None => Err(Error::NotFound(format!(
                "task '{task}' has no output yet; run `polder run {}` first",
                pipeline.dir.display()
            ))),
        };
    }
    let planned = plan(pipeline, &Params::samples(pipeline), &ws.paths)?;
    let p = planned.into_iter().find(|p| p.id == task).expect("planned tasks include every task");
    let mut upstream = BTreeMap::new();
    for u in &p.upstream {
        upstream.insert(u.clone(), latest(ws, pipeline, u)?);
    }
    Ok(Input::View(Arc::new(ViewPlan { id: p.id, kind: p.kind, files: p.files, upstream })))
}

fn head(input: &Input, limit: usize) -> Result<DataFrame> {
    let limit = limit.min(IdxSize::MAX as usize) as IdxSize;
    input.lazy()?.limit(limit).collect().map_err(|e| Error::Invalid(format!("cannot read the output: {e}")))
}

/// The first `limit` rows of an output as a text table.
pub fn input_table(input: &Input, limit: usize) -> Result<String> {
    Ok(head(input, limit)?.to_string())
}

/// The first `limit` rows of an artifact as a text table.
pub fn head_table(path: &Path, limit: usize) -> Result<String> {
    input_table(&Input::Artifact(path.to_path_buf()), limit)
}

/// The first `limit` rows of an output as JSON objects (one per row).
pub fn input_json(input: &Input, limit: usize) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    frame_json(&head(input, limit)?)
}

/// The first `limit` rows of an artifact as JSON objects.
pub fn head_json(path: &Path, limit: usize) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    input_json(&Input::Artifact(path.to_path_buf()), limit)
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

/// The columns of an output as JSON `[{"name":…,"type":…}]`.
pub fn schema(input: &Input) -> Result<serde_json::Value> {
    let schema = input.lazy()?.collect_schema().map_err(|e| Error::Invalid(format!("cannot read the schema: {e}")))?;
    Ok(serde_json::from_str(&crate::tasks::frame::schema_json(&schema)).unwrap_or_default())
}

fn frame_json(df: &DataFrame) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let err = |e: PolarsError| Error::Invalid(format!("cannot read the output: {e}"));
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

/// Rows of an Arrow IPC stream (as served by the runner's output pages) as JSON objects.
pub fn ipc_to_json(bytes: &[u8]) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let df = IpcStreamReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| Error::Invalid(format!("not an Arrow IPC stream: {e}")))?;
    frame_json(&df)
}

/// Per-column statistics of an output: type, null count, min and max (as text), computed in one
/// streaming pass over the artifact.
pub fn column_stats(input: &Input) -> Result<Vec<serde_json::Value>> {
    let lf = input.lazy()?;
    let schema = lf.clone().collect_schema().map_err(|e| Error::Invalid(format!("cannot read the schema: {e}")))?;
    let mut exprs = Vec::new();
    for (name, dtype) in schema.iter() {
        let c = col(name.clone());
        exprs.push(c.clone().null_count().alias(format!("{name}\u{1}nulls")));
        // min/max are defined for primitive, temporal and string columns; nested types get none.
        if !dtype.is_nested() {
            exprs.push(c.clone().min().cast(DataType::String).alias(format!("{name}\u{1}min")));
            exprs.push(c.max().cast(DataType::String).alias(format!("{name}\u{1}max")));
        }
    }
    let df = lf
        .select(exprs)
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| Error::Invalid(format!("cannot compute statistics: {e}")))?;
    let df = df.unwrap_single();
    let cell = |key: String| -> serde_json::Value {
        df.column(&key).ok().and_then(|c| c.get(0).ok()).map(|v| any_to_json(&v)).unwrap_or(serde_json::Value::Null)
    };
    Ok(schema
        .iter()
        .map(|(name, dtype)| {
            serde_json::json!({
                "name": name.as_str(),
                "type": dtype.to_string(),
                "null_count": cell(format!("{name}\u{1}nulls")),
                "min": cell(format!("{name}\u{1}min")),
                "max": cell(format!("{name}\u{1}max")),
            })
        })
        .collect())
}
