//! Parquet row groups encoded and compressed on the parsing threads, so the one thread that
//! writes the artifact only appends bytes. Polars' `BatchedWriter::write_batch` compresses on
//! the calling thread, which made that thread the reader's bottleneck.
//!
//! The pages are made as `write_batch` makes them (same encodings, statistics, codec, page
//! size). One shortcut: a column of a few short strings (a log's level, type or app name) is
//! dictionary-encoded from its 16-byte views ([`small_dictionary`]) instead of by Polars' hash
//! cast, which cost ~350 instructions a value, over a tenth of the whole NDJSON source task.
//!
//! Two choices differ from `write_batch`, for speed (an artifact is written once per run and
//! read once or twice on the same machine): a string column with more than a quarter distinct
//! values is written plain rather than as a dictionary ([`mostly_distinct`]), and a column
//! chunk LZ4 hardly shrinks is stored uncompressed ([`worth_compressing`]). Random ids, MAC
//! addresses and customer numbers of logs were a fifth of the source task's time that way.

use std::io::Write;

use polars::io::parquet::write::{get_encodings, BatchedWriter, ParquetWriter, StatisticsOptions};
use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::parquet::compression::compress;
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    array_to_columns, to_parquet_schema, CompressedPage, CompressionOptions, Compressor, Encoding, Page, Version, WriteOptions,
};

use crate::tasks::frame::ARTIFACT_COMPRESSION;

/// The options `ParquetWriter::new(..).with_compression(ARTIFACT_COMPRESSION)` materializes.
fn options() -> WriteOptions {
    WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: ARTIFACT_COMPRESSION.into(),
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
            let dictionary = match encoding.as_slice() {
                [Encoding::RleDictionary] => small_dictionary(array.as_ref()),
                _ => None,
            };
            let plain = [Encoding::Plain];
            let encoding = match encoding.as_slice() {
                [Encoding::RleDictionary] if dictionary.is_none() && mostly_distinct(array.as_ref()) => &plain[..],
                chosen => chosen,
            };
            let array = dictionary.map_or_else(|| array.clone(), |d| d.boxed());
            for pages in array_to_columns(array, type_.clone(), options, encoding)? {
                let pages = pages
                    .map(|page| page.map_err(|e| ParquetError::FeatureNotSupported(format!("reraised in polars: {e}"))))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(PolarsError::from)?;
                // All pages of a column chunk share its codec.
                let codec = if worth_compressing(&pages) { options.compression } else { CompressionOptions::Uncompressed };
                let compressed = Compressor::new_from_vec(pages.into_iter().map(Ok), codec, Vec::new())
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
        let inner = ParquetWriter::new(sink).with_compression(ARTIFACT_COMPRESSION).batched(schema)?;
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

/// Share of distinct values above which a string column is written plain (Polars' writer builds a
/// dictionary up to three quarters): a dictionary then saves little and its hashing costs much.
const DICTIONARY_MAX_DISTINCT: f64 = 0.25;

/// Whether more than [`DICTIONARY_MAX_DISTINCT`] of a string column's values are distinct, by
/// the estimate Polars' writer makes itself.
fn mostly_distinct(array: &dyn Array) -> bool {
    if !matches!(array.dtype(), ArrowDataType::Utf8View | ArrowDataType::BinaryView) || array.len() <= 1024 {
        return false;
    }
    let distinct = polars_compute::cardinality::estimate_cardinality(array);
    distinct as f64 > DICTIONARY_MAX_DISTINCT * array.len() as f64
}

/// Bytes of a column chunk's first data page that LZ4 tries before the chunk is compressed.
const PROBE_BYTES: usize = 64 << 10;

/// Whether LZ4 shrinks a column chunk by a fifth or more, judged on the start of its first data
/// page: random ids and hashes do not shrink, and compressing them cost more than writing them.
fn worth_compressing(pages: &[Page]) -> bool {
    let Some(data) = pages.iter().find_map(|p| match p {
        Page::Data(d) => Some(d.buffer()),
        Page::Dict(_) => None,
    }) else {
        return true;
    };
    let probe = &data[..data.len().min(PROBE_BYTES)];
    if probe.len() < 4096 {
        // Too small to matter either way.
        return true;
    }
    let mut out = Vec::with_capacity(probe.len());
    match compress(CompressionOptions::Lz4Raw, probe, &mut out) {
        Ok(()) => out.len() * 5 <= probe.len() * 4,
        Err(_) => true,
    }
}

/// Most distinct values [`small_dictionary`] looks for.
const SMALL_DICTIONARY: usize = 64;

/// `array` as a dictionary (keys in order of first appearance, as Polars' cast gives them) when
/// it is a string column of more than 1,024 values, each at most 12 bytes (held whole in its
/// view), with at most [`SMALL_DICTIONARY`] distinct ones; `None` leaves it to Polars, which
/// then decides as before. Polars would dictionary-encode every column this accepts (it does
/// below three quarters of distinct values).
fn small_dictionary(array: &dyn Array) -> Option<DictionaryArray<u32>> {
    let strings = array.as_any().downcast_ref::<Utf8ViewArray>()?;
    if strings.len() <= 1024 {
        return None;
    }
    let validity = strings.validity();
    let mut distinct: Vec<u128> = Vec::with_capacity(SMALL_DICTIONARY);
    let mut first_at: Vec<usize> = Vec::with_capacity(SMALL_DICTIONARY);
    let mut keys: Vec<u32> = Vec::with_capacity(strings.len());
    let mut last: Option<(u128, u32)> = None;
    for (i, view) in strings.views().iter().enumerate() {
        if validity.is_some_and(|v| !v.get_bit(i)) {
            keys.push(0);
            continue;
        }
        if view.length > View::MAX_INLINE_SIZE {
            return None;
        }
        // An inline view is the length and the bytes themselves: equal views, equal strings.
        let raw = view.as_u128();
        let key = match last {
            Some((seen, key)) if seen == raw => key,
            _ => match distinct.iter().position(|d| *d == raw) {
                Some(k) => k as u32,
                None if distinct.len() == SMALL_DICTIONARY => return None,
                None => {
                    distinct.push(raw);
                    first_at.push(i);
                    (distinct.len() - 1) as u32
                }
            },
        };
        last = Some((raw, key));
        keys.push(key);
    }
    let values = Utf8ViewArray::from_slice_values(first_at.iter().map(|&i| strings.value(i)).collect::<Vec<_>>());
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), validity.cloned());
    let dtype = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(strings.dtype().clone()), false);
    DictionaryArray::try_new(dtype, keys, values.boxed()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `df` as the reader writes artifacts and reads it back with Polars.
    fn round_trip(df: &DataFrame) -> DataFrame {
        let mut file = Vec::new();
        let mut writer = Writer::new(std::io::Cursor::new(&mut file), df.schema()).unwrap();
        writer.write(&encode(df.clone()).unwrap()).unwrap();
        writer.finish().unwrap();
        ParquetReader::new(std::io::Cursor::new(file)).finish().unwrap()
    }

    fn strings(values: Vec<Option<String>>) -> Series {
        Series::new("s".into(), values)
    }

    #[test]
    fn few_short_strings_become_a_dictionary_and_read_back_the_same() {
        let apps = ["VOD", "KPLUS", "", "CHANNEL", "twelve bytes", "ü€"];
        let values: Vec<Option<String>> =
            (0..5000).map(|i| if i % 7 == 3 { None } else { Some(apps[i * 31 % apps.len()].to_string()) }).collect();
        let s = strings(values);
        let array = s.rechunk().chunks()[0].clone();
        let dict = small_dictionary(array.as_ref()).expect("a dictionary");
        assert_eq!(dict.values().len(), apps.len());
        assert_eq!(dict.keys().null_count(), s.null_count());
        let df = DataFrame::new(5000, vec![s.into()]).unwrap();
        assert!(round_trip(&df).equals_missing(&df));
    }

    #[test]
    fn random_ids_are_written_plain_and_uncompressed_and_repeated_values_as_compressed_dictionaries() {
        use polars_parquet::parquet::compression::Compression;
        let n = 50_000usize;
        // Unique 20-character random ids of letters and digits, as logs' `_id`s are.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let id = |i: usize| {
            let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (0..20)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ALPHABET[(x >> 58) as usize] as char
                })
                .collect::<String>()
        };
        let ids: Vec<Option<String>> = (0..n).map(|i| (i % 97 != 0).then(|| id(i))).collect();
        let users: Vec<Option<String>> = (0..n).map(|i| Some(format!("customer-{:05}", i * 7 % 2000))).collect();
        let amounts: Vec<i64> = (0..n as i64).map(|i| i % 100).collect();
        // Half distinct: Polars' writer would build a dictionary; written plain.
        let contracts: Vec<String> = (0..n).map(|i| format!("SGH{:06}", i * 13 % 25_000)).collect();
        let df = df!("id" => ids, "user" => users, "amount" => amounts, "contract" => contracts).unwrap();
        let mut file = Vec::new();
        let mut writer = Writer::new(std::io::Cursor::new(&mut file), df.schema()).unwrap();
        writer.write(&encode(df.clone()).unwrap()).unwrap();
        writer.finish().unwrap();
        let meta = polars_parquet::read::read_metadata(&mut std::io::Cursor::new(&file)).unwrap();
        let chunks = meta.row_groups[0].parquet_columns();
        let got: Vec<(Compression, bool)> =
            chunks.iter().map(|c| (c.compression(), c.dictionary_page_offset().is_some())).collect();
        assert_eq!(got[..3], [(Compression::Uncompressed, false), (Compression::Lz4Raw, true), (Compression::Lz4Raw, true)]);
        assert!(!got[3].1, "{got:?}");
        let back = ParquetReader::new(std::io::Cursor::new(file)).finish().unwrap();
        assert!(back.equals_missing(&df));
    }

    #[test]
    fn long_many_or_few_strings_are_left_to_polars_and_nulls_are_kept_and_all_read_back_the_same() {
        let long: Vec<Option<String>> = (0..5000).map(|i| Some(format!("{:>13}", i % 3))).collect();
        let many: Vec<Option<String>> = (0..5000).map(|i| Some((i % 65).to_string())).collect();
        let just_enough: Vec<Option<String>> = (0..5000).map(|i| Some((i % 64).to_string())).collect();
        let short: Vec<Option<String>> = (0..1000).map(|i| Some((i % 2).to_string())).collect();
        let all_null: Vec<Option<String>> = vec![None; 2000];
        let late: Vec<Option<String>> = (0..3000).map(|i| (i >= 2000).then(|| "x".to_string())).collect();
        let cases = [(long, false), (many, false), (just_enough, true), (short, false), (all_null, true), (late, true)];
        for (values, dictionary) in cases {
            let s = strings(values);
            let array = s.rechunk().chunks()[0].clone();
            assert_eq!(small_dictionary(array.as_ref()).is_some(), dictionary, "{s}");
            let df = DataFrame::new(s.len(), vec![s.into()]).unwrap();
            assert!(round_trip(&df).equals_missing(&df));
        }
    }
}
