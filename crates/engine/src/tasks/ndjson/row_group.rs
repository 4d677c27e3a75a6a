//! Parquet row groups encoded and compressed on the parsing threads, so the one thread that
//! writes the artifact only appends bytes. Polars' `BatchedWriter::write_batch` compresses on
//! the calling thread, which made that thread the reader's bottleneck.
//!
//! The pages are made exactly as `write_batch` makes them (same encodings, statistics, codec,
//! page size), so the file is the one Polars would write.

use std::io::Write;

use polars::io::parquet::write::{get_encodings, BatchedWriter, ParquetCompression, ParquetWriter, StatisticsOptions};
use polars::prelude::*;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{array_to_columns, to_parquet_schema, CompressedPage, Compressor, Version, WriteOptions};

/// The artifact's codec (as every Parquet artifact of the engine).
const COMPRESSION: ParquetCompression = ParquetCompression::Lz4Raw;

/// The options `ParquetWriter::new(..).with_compression(COMPRESSION)` materializes.
fn options() -> WriteOptions {
    WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: COMPRESSION.into(),
        version: Version::V1,
        data_page_size: None,
    }
}

/// One frame as compressed Parquet pages: a row group per aligned batch of its columns.
pub struct Encoded {
    schema: Schema,
    groups: Vec<(u64, Vec<Vec<CompressedPage>>)>,
}

impl Encoded {
    /// The frame's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

/// Encodes and compresses `df` (on the calling thread).
pub fn encode(mut df: DataFrame) -> PolarsResult<Encoded> {
    df.align_chunks();
    let schema = df.schema().as_ref().clone();
    let arrow_schema = schema.to_arrow(CompatLevel::newest());
    let parquet_schema = to_parquet_schema(&arrow_schema)?;
    let encodings = get_encodings(&arrow_schema);
    let options = options();
    let mut groups = Vec::new();
    for batch in df.iter_chunks(CompatLevel::newest(), false) {
        if batch.is_empty() {
            continue;
        }
        let mut columns = Vec::with_capacity(batch.columns().len());
        for ((array, type_), encoding) in batch.columns().iter().zip(parquet_schema.fields()).zip(encodings.iter()) {
            for pages in array_to_columns(array, type_.clone(), options, encoding)? {
                let pages =
                    pages.map(|page| page.map_err(|e| ParquetError::FeatureNotSupported(format!("reraised in polars: {e}"))));
                let compressed = Compressor::new_from_vec(pages, options.compression, Vec::new())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(PolarsError::from)?;
                columns.push(compressed);
            }
        }
        groups.push((batch.len() as u64, columns));
    }
    Ok(Encoded { schema, groups })
}

/// Appends encoded frames to one Parquet file, in the order given.
pub struct Writer<W: Write> {
    inner: BatchedWriter<W>,
    schema: Schema,
}

impl<W: Write> Writer<W> {
    /// A file whose row groups have `schema`.
    pub fn new(sink: W, schema: &Schema) -> PolarsResult<Self> {
        let inner = ParquetWriter::new(sink).with_compression(COMPRESSION).batched(schema)?;
        Ok(Writer { inner, schema: schema.clone() })
    }

    /// Appends the row groups of one frame.
    pub fn write(&mut self, encoded: &Encoded) -> PolarsResult<()> {
        // Pages of another schema would make a file no reader can read: refuse them.
        if encoded.schema != self.schema {
            polars_bail!(SchemaMismatch: "a chunk has columns {:?}, the file {:?}", encoded.schema, self.schema);
        }
        for (rows, columns) in &encoded.groups {
            self.inner.write_row_group(*rows, columns)?;
        }
        Ok(())
    }

    /// Writes the footer; the file's size.
    pub fn finish(self) -> PolarsResult<u64> {
        self.inner.finish()
    }
}
