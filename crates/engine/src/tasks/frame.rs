//! Polars helpers shared by task kinds: scanning and writing Parquet artifacts, reading their facts.

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::tasks::TaskError;

/// A lazy scan of an artifact (hive parsing off: artifact paths are ours, not partitions).
pub fn scan_artifact(path: &Path) -> Result<LazyFrame, TaskError> {
    let args = ScanArgsParquet { hive_options: HiveOptions::new_disabled(), ..Default::default() };
    let p = PlRefPath::try_from_path(path).map_err(|e| TaskError::data(path.display(), e))?;
    LazyFrame::scan_parquet(p, args).map_err(|e| TaskError::data(format!("cannot scan {}", path.display()), e))
}

/// The codec of every Parquet artifact: LZ4 writes and reads several times faster than the zstd
/// default, at a modest size cost; artifacts are intermediate data, read back by the next task.
pub const ARTIFACT_COMPRESSION: ParquetCompression = ParquetCompression::Lz4Raw;

/// Writes `lf` to a Parquet file with the streaming engine, so inputs larger than memory
/// stream through when the query allows it.
pub fn sink_parquet(lf: LazyFrame, path: &Path) -> PolarsResult<()> {
    let opts = ParquetWriteOptions { compression: ARTIFACT_COMPRESSION, ..Default::default() };
    lf.sink(
        SinkDestination::File { target: SinkTarget::Path(PlRefPath::try_from_path(path)?) },
        FileWriteFormat::Parquet(Arc::new(opts)),
        UnifiedSinkArgs { mkdir: true, ..Default::default() },
    )?
    .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// Writes `lf` to a CSV file with a header, streaming.
pub fn sink_csv(lf: LazyFrame, path: &Path) -> PolarsResult<()> {
    lf.sink(
        SinkDestination::File { target: SinkTarget::Path(PlRefPath::try_from_path(path)?) },
        FileWriteFormat::Csv(CsvWriterOptions::default()),
        UnifiedSinkArgs { mkdir: true, ..Default::default() },
    )?
    .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// Writes `lf` to a newline-delimited JSON file, streaming.
pub fn sink_ndjson(lf: LazyFrame, path: &Path) -> PolarsResult<()> {
    lf.sink(
        SinkDestination::File { target: SinkTarget::Path(PlRefPath::try_from_path(path)?) },
        FileWriteFormat::NDJson(NDJsonWriterOptions::default()),
        UnifiedSinkArgs { mkdir: true, ..Default::default() },
    )?
    .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// Writes `lf` to one object (`s3://…`) as Parquet (zstd, for readers elsewhere), CSV or
/// NDJSON, streaming through a multipart upload: the object appears whole when the upload
/// completes, or not at all.
pub fn sink_object(
    lf: LazyFrame,
    url: &str,
    format: crate::spec::SinkFormat,
    cloud: polars::prelude::cloud::CloudOptions,
) -> PolarsResult<()> {
    let format = match format {
        crate::spec::SinkFormat::Csv => FileWriteFormat::Csv(CsvWriterOptions::default()),
        crate::spec::SinkFormat::Ndjson => FileWriteFormat::NDJson(NDJsonWriterOptions::default()),
        _ => FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default())),
    };
    lf.sink(
        SinkDestination::File { target: SinkTarget::Path(PlRefPath::new(url)) },
        format,
        UnifiedSinkArgs { cloud_options: Some(Arc::new(cloud)), ..Default::default() },
    )?
    .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// Facts about a written artifact.
#[derive(Debug, Clone)]
pub struct ArtifactInfo {
    /// Row count (from the Parquet footer).
    pub rows: u64,
    /// File size.
    pub bytes: u64,
    /// Columns as JSON `[{"name":…,"type":…}]`.
    pub schema_json: String,
}

/// Reads row count, size and schema of a Parquet artifact without reading its data.
pub fn artifact_info(path: &Path) -> Result<ArtifactInfo, TaskError> {
    let ctx = |e: &dyn std::fmt::Display| TaskError::Data(format!("cannot read artifact {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| ctx(&e))?;
    let bytes = file.metadata().map_err(|e| ctx(&e))?.len();
    let mut reader = ParquetReader::new(file);
    let rows = reader.num_rows().map_err(|e| ctx(&e))? as u64;
    let schema = scan_artifact(path)?.collect_schema().map_err(|e| ctx(&e))?;
    Ok(ArtifactInfo { rows, bytes, schema_json: schema_json(&schema) })
}

/// A schema as JSON `[{"name":…,"type":…}]`.
pub fn schema_json(schema: &Schema) -> String {
    let cols: Vec<serde_json::Value> =
        schema.iter().map(|(name, dtype)| serde_json::json!({ "name": name.as_str(), "type": dtype.to_string() })).collect();
    serde_json::Value::Array(cols).to_string()
}

/// Turns a Polars error into a task error, naming what was being done.
pub fn polars_err(context: &str) -> impl Fn(PolarsError) -> TaskError + '_ {
    move |e| TaskError::Data(format!("{context}: {e}"))
}
