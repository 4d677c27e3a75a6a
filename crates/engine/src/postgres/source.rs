//! The PostgreSQL source: a query's result read through `COPY (query) TO STDOUT (FORMAT binary)`
//! and decoded straight into column builders, written to the artifact in batches, so memory
//! stays flat however many rows the query returns. The column types come from preparing the
//! query; types without an exact Polars counterpart are refused, naming the column and the cast
//! that reads it.

use std::fs::File;
use std::time::Instant;

use futures::StreamExt;
use polars::prelude::*;
use polars_arrow::array::{MutableBinaryViewArray, Utf8ViewArray};
use tokio_postgres::types::Type;

use super::access::describe;
use crate::spec::SourceTask;
use crate::tasks::frame::ARTIFACT_COMPRESSION;
use crate::tasks::{TaskContext, TaskError};

/// Rows per artifact batch.
const BATCH_ROWS: usize = 65_536;

/// Days from 1970-01-01 to 2000-01-01, and the same in microseconds.
const EPOCH_DAYS: i32 = 10_957;
const EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Reads the source's query into the task's artifact; the number of rows.
pub fn read(ctx: &TaskContext, src: &SourceTask) -> Result<u64, TaskError> {
    let access = ctx.postgres.ok_or_else(|| TaskError::Data("no PostgreSQL access for this source".into()))?;
    let query = match (&src.query, &src.table) {
        (Some(q), _) => q.clone(),
        (None, Some(t)) => {
            let quoted: Vec<String> = t.split('.').map(crate::tasks::quote_ident).collect();
            format!("SELECT * FROM {}", quoted.join("."))
        }
        (None, None) => return Err(TaskError::Data("a postgres source needs `query` or `table`".into())),
    };
    let query = match ctx.limit {
        // Previews read the first rows only.
        Some(n) => format!("SELECT * FROM (\n{query}\n) AS preview LIMIT {n}"),
        None => query.to_string(),
    };
    let started = Instant::now();
    let rows = super::block_on(|| async {
        let client = access.connect().await.map_err(TaskError::Data)?;
        super::access::cancel_queries_on(ctx.cancel, &client);
        let failed = |e: tokio_postgres::Error| {
            if ctx.cancel.is_set() {
                TaskError::Cancelled
            } else {
                TaskError::Data(format!("query at {} failed: {}", access.address(), describe(&e)))
            }
        };
        let statement = client.prepare(&query).await.map_err(failed)?;
        let mut columns = Vec::with_capacity(statement.columns().len());
        for c in statement.columns() {
            let kind = Kind::of(c.type_(), c.type_modifier()).map_err(|cast| {
                TaskError::Data(format!(
                    "column '{}' is {} in PostgreSQL, which Polder does not read yet; cast it in the query ({})",
                    c.name(),
                    c.type_().name(),
                    cast
                ))
            })?;
            columns.push((c.name().to_string(), kind));
        }
        let mut writer = Writer::create(ctx.output, &columns)?;
        let stream = client.copy_out(&format!("COPY ({query}) TO STDOUT (FORMAT binary)")).await.map_err(failed)?;
        futures::pin_mut!(stream);
        let mut decoder = Decoder::new(&columns);
        while let Some(chunk) = stream.next().await {
            ctx.cancel.check()?;
            decoder.feed(&chunk.map_err(failed)?).map_err(TaskError::Data)?;
            if decoder.rows_buffered() >= BATCH_ROWS {
                writer.write(decoder.take_frame()?)?;
            }
        }
        decoder.finish().map_err(TaskError::Data)?;
        writer.write(decoder.take_frame()?)?;
        writer.finish()
    })
    .map_err(|e| TaskError::data("cannot start the PostgreSQL client", e))??;
    let secs = started.elapsed().as_secs_f64();
    ctx.log.line(format!(
        "read {rows} rows from {} in {secs:.2} s ({:.0} rows/s)",
        access.address(),
        rows as f64 / secs.max(1e-9)
    ));
    Ok(rows)
}

/// How a PostgreSQL column is read, and the Polars type it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Text,
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    /// `numeric(precision, scale)`, read exactly as a Decimal.
    Numeric {
        precision: u8,
        scale: u8,
    },
    /// `uuid`, as its text form.
    Uuid,
    /// `json` (its text) and `jsonb` (a version byte, then its text), as text.
    Json,
    Jsonb,
}

/// The widest Decimal Polars holds.
const MAX_DECIMAL_PRECISION: i32 = 38;

impl Kind {
    /// The reading of a column type (`typmod`: its modifier, -1 if none), or the cast to suggest.
    fn of(t: &Type, typmod: i32) -> Result<Kind, &'static str> {
        Ok(match *t {
            Type::BOOL => Kind::Bool,
            Type::INT2 => Kind::Int2,
            Type::INT4 => Kind::Int4,
            Type::INT8 => Kind::Int8,
            Type::FLOAT4 => Kind::Float4,
            Type::FLOAT8 => Kind::Float8,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Kind::Text,
            Type::BYTEA => Kind::Bytea,
            Type::UUID => Kind::Uuid,
            Type::JSON => Kind::Json,
            Type::JSONB => Kind::Jsonb,
            Type::DATE => Kind::Date,
            Type::TIME => Kind::Time,
            Type::TIMESTAMP => Kind::Timestamp,
            Type::TIMESTAMPTZ => Kind::TimestampTz,
            Type::NUMERIC => {
                // numeric(p, s) has typmod ((p << 16) | s) + 4; a computed numeric (sum(…)) has none.
                if typmod < 4 {
                    return Err("a numeric without precision and scale, such as a sum, has no fixed decimal places: \
                                give it some, e.g. sum(price)::numeric(18,2)");
                }
                let (precision, scale) = ((typmod - 4) >> 16, (typmod - 4) & 0xffff);
                if precision > MAX_DECIMAL_PRECISION {
                    return Err(
                        "Polars decimals have at most 38 digits: e.g. col::numeric(38,2), or col::text to keep every digit",
                    );
                }
                Kind::Numeric { precision: precision as u8, scale: scale as u8 }
            }
            Type::OID => return Err("e.g. col::int8"),
            _ => return Err("e.g. col::text"),
        })
    }

    fn dtype(self) -> DataType {
        match self {
            Kind::Bool => DataType::Boolean,
            Kind::Int2 => DataType::Int16,
            Kind::Int4 => DataType::Int32,
            Kind::Int8 => DataType::Int64,
            Kind::Float4 => DataType::Float32,
            Kind::Float8 => DataType::Float64,
            Kind::Text | Kind::Uuid | Kind::Json | Kind::Jsonb => DataType::String,
            Kind::Bytea => DataType::Binary,
            Kind::Date => DataType::Date,
            Kind::Time => DataType::Time,
            Kind::Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
            Kind::TimestampTz => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            Kind::Numeric { precision, scale } => DataType::Decimal(precision as usize, scale as usize),
        }
    }
}

/// A uuid's 16 bytes as `8-4-4-4-12` lowercase hex, as PostgreSQL prints it.
fn uuid_text(b: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A binary `numeric` as its unscaled value at `scale` decimal places: the header (digit count,
/// weight of the first base-10000 digit, sign, display scale), then the digits.
fn numeric_unscaled(b: &[u8], scale: u8) -> Result<i128, String> {
    let word = |i: usize| b.get(i * 2..i * 2 + 2).map(|w| u16::from_be_bytes([w[0], w[1]]));
    let (Some(ndigits), Some(weight), Some(sign)) = (word(0), word(1), word(2)) else {
        return Err(format!("a numeric of {} bytes", b.len()));
    };
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Err("NaN, which a Polars decimal cannot hold; filter it or cast the column in the query".into()),
        _ => return Err("an infinite numeric, which a Polars decimal cannot hold; filter it in the query".into()),
    }
    let weight = weight as i16 as i32;
    let mut unscaled: i128 = 0;
    for i in 0..ndigits as usize {
        let digit = word(4 + i).ok_or_else(|| format!("a numeric of {} bytes for {ndigits} digits", b.len()))? as i128;
        // This digit counts 10000^(weight - i), i.e. 10^(4 (weight - i)), times 10^scale.
        let exponent = 4 * (weight - i as i32) + scale as i32;
        let overflow = || "a numeric wider than 38 digits".to_string();
        let term = if exponent >= 0 {
            10i128.checked_pow(exponent as u32).and_then(|p| digit.checked_mul(p)).ok_or_else(overflow)?
        } else {
            let p = 10i128.pow((-exponent) as u32);
            if digit % p != 0 {
                return Err(format!("a numeric with more than the column's {scale} decimal places"));
            }
            digit / p
        };
        unscaled = unscaled.checked_add(term).ok_or_else(overflow)?;
    }
    Ok(if sign == 0x4000 { -unscaled } else { unscaled })
}

/// Values of one column being built.
enum Builder {
    Bool(Vec<Option<bool>>),
    I16(Vec<Option<i16>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
    I128(Vec<Option<i128>>),
    Text(MutableBinaryViewArray<str>),
    Bytes(MutableBinaryViewArray<[u8]>),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        match kind {
            Kind::Bool => Builder::Bool(Vec::new()),
            Kind::Int2 => Builder::I16(Vec::new()),
            Kind::Int4 | Kind::Date => Builder::I32(Vec::new()),
            Kind::Int8 | Kind::Time | Kind::Timestamp | Kind::TimestampTz => Builder::I64(Vec::new()),
            Kind::Float4 => Builder::F32(Vec::new()),
            Kind::Float8 => Builder::F64(Vec::new()),
            Kind::Numeric { .. } => Builder::I128(Vec::new()),
            Kind::Text | Kind::Uuid | Kind::Json | Kind::Jsonb => Builder::Text(MutableBinaryViewArray::new()),
            Kind::Bytea => Builder::Bytes(MutableBinaryViewArray::new()),
        }
    }

    /// Appends one field (None: NULL), decoded as `kind`.
    fn push(&mut self, kind: Kind, field: Option<&[u8]>) -> Result<(), String> {
        fn fixed<const N: usize>(b: &[u8]) -> Result<[u8; N], String> {
            b.try_into().map_err(|_| format!("a value of {} bytes where {N} were expected", b.len()))
        }
        match (self, field) {
            (Builder::Bool(v), f) => v.push(f.map(|b| fixed::<1>(b).map(|b| b[0] != 0)).transpose()?),
            (Builder::I16(v), f) => v.push(f.map(|b| fixed(b).map(i16::from_be_bytes)).transpose()?),
            (Builder::I32(v), f) => {
                let x = f.map(|b| fixed(b).map(i32::from_be_bytes)).transpose()?;
                v.push(if kind == Kind::Date { x.map(|d| d.saturating_add(EPOCH_DAYS)) } else { x });
            }
            (Builder::I64(v), f) => {
                let x = f.map(|b| fixed(b).map(i64::from_be_bytes)).transpose()?;
                v.push(match kind {
                    // Polars' times are nanoseconds since midnight.
                    Kind::Time => x.map(|us| us * 1000),
                    Kind::Timestamp | Kind::TimestampTz => x.map(|us| us.saturating_add(EPOCH_MICROS)),
                    _ => x,
                });
            }
            (Builder::F32(v), f) => v.push(f.map(|b| fixed(b).map(f32::from_be_bytes)).transpose()?),
            (Builder::F64(v), f) => v.push(f.map(|b| fixed(b).map(f64::from_be_bytes)).transpose()?),
            (Builder::I128(v), f) => {
                let Kind::Numeric { scale, .. } = kind else { unreachable!("only numeric columns build i128") };
                v.push(f.map(|b| numeric_unscaled(b, scale)).transpose()?);
            }
            (Builder::Text(v), f) if kind == Kind::Uuid => {
                let text = f.map(|b| fixed::<16>(b).map(|u| uuid_text(&u))).transpose()?;
                v.push(text.as_deref());
            }
            (Builder::Text(v), f) => {
                let f = match (kind, f) {
                    (Kind::Jsonb, Some([1, rest @ ..])) => Some(rest),
                    (Kind::Jsonb, Some(b)) => return Err(format!("a jsonb value of format version {:?}", b.first())),
                    _ => f,
                };
                let s = f.map(|b| std::str::from_utf8(b).map_err(|e| format!("text that is not UTF-8 ({e})"))).transpose()?;
                v.push(s);
            }
            (Builder::Bytes(v), f) => v.push(f),
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match self {
            Builder::Bool(v) => v.len(),
            Builder::I16(v) => v.len(),
            Builder::I32(v) => v.len(),
            Builder::I64(v) => v.len(),
            Builder::F32(v) => v.len(),
            Builder::F64(v) => v.len(),
            Builder::I128(v) => v.len(),
            Builder::Text(v) => v.len(),
            Builder::Bytes(v) => v.len(),
        }
    }

    /// The values built so far as a column of `kind`'s type; the builder starts over.
    fn take(&mut self, name: &str, kind: Kind) -> PolarsResult<Column> {
        let name = PlSmallStr::from(name);
        let series = match self {
            Builder::Bool(v) => BooleanChunked::from_iter_options(name, std::mem::take(v).into_iter()).into_series(),
            Builder::I16(v) => Int16Chunked::from_iter_options(name, std::mem::take(v).into_iter()).into_series(),
            Builder::I32(v) => Int32Chunked::from_iter_options(name, std::mem::take(v).into_iter()).into_series(),
            Builder::I64(v) => Int64Chunked::from_iter_options(name, std::mem::take(v).into_iter()).into_series(),
            Builder::F32(v) => Float32Chunked::from_iter_options(name, std::mem::take(v).into_iter()).into_series(),
            Builder::F64(v) => Float64Chunked::from_iter_options(name, std::mem::take(v).into_iter()).into_series(),
            Builder::I128(v) => {
                let Kind::Numeric { precision, scale } = kind else { unreachable!("only numeric columns build i128") };
                // The unscaled values become the decimal as they are (a cast would scale them).
                Int128Chunked::from_iter_options(name, std::mem::take(v).into_iter())
                    .into_decimal(precision as usize, scale as usize)?
                    .into_series()
            }
            Builder::Text(v) => {
                let array: Utf8ViewArray = std::mem::take(v).freeze();
                StringChunked::with_chunk(name, array).into_series()
            }
            Builder::Bytes(v) => {
                let array = std::mem::take(v).freeze();
                BinaryChunked::with_chunk(name, array).into_series()
            }
        };
        // Dates and instants were built as their physical integers.
        Ok(series.cast(&kind.dtype())?.into())
    }
}

/// Decodes a binary COPY stream into rows of builders.
struct Decoder {
    kinds: Vec<(String, Kind)>,
    builders: Vec<Builder>,
    /// Bytes received and not yet decoded (a row split across chunks waits here).
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
    rows: u64,
}

/// The header's fixed part: signature, flags, extension length.
const HEADER_LEN: usize = 19;
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

impl Decoder {
    fn new(kinds: &[(String, Kind)]) -> Decoder {
        Decoder {
            kinds: kinds.to_vec(),
            builders: kinds.iter().map(|(_, k)| Builder::new(*k)).collect(),
            pending: Vec::new(),
            header_read: false,
            ended: false,
            rows: 0,
        }
    }

    fn rows_buffered(&self) -> usize {
        self.builders.first().map_or(0, Builder::len)
    }

    /// Decodes every whole row of `chunk` (with what earlier chunks left over).
    fn feed(&mut self, chunk: &[u8]) -> Result<(), String> {
        self.pending.extend_from_slice(chunk);
        let data = std::mem::take(&mut self.pending);
        let mut at = 0;
        if !self.header_read {
            if data.len() < HEADER_LEN {
                self.pending = data;
                return Ok(());
            }
            if &data[..SIGNATURE.len()] != SIGNATURE {
                return Err("the server's COPY output is not in binary format".into());
            }
            let ext = u32::from_be_bytes(data[15..19].try_into().expect("4 bytes")) as usize;
            if data.len() < HEADER_LEN + ext {
                self.pending = data;
                return Ok(());
            }
            at = HEADER_LEN + ext;
            self.header_read = true;
        }
        while !self.ended {
            let Some(count) = data.get(at..at + 2) else { break };
            let count = i16::from_be_bytes(count.try_into().expect("2 bytes"));
            if count == -1 {
                self.ended = true;
                at += 2;
                break;
            }
            if count as usize != self.kinds.len() {
                return Err(format!("a row of {count} fields where the query has {} columns", self.kinds.len()));
            }
            // Only a whole row is decoded: find its end first.
            let mut end = at + 2;
            let mut whole = true;
            for _ in 0..count {
                let Some(len) = data.get(end..end + 4) else {
                    whole = false;
                    break;
                };
                let len = i32::from_be_bytes(len.try_into().expect("4 bytes"));
                end += 4 + len.max(0) as usize;
                if end > data.len() {
                    whole = false;
                    break;
                }
            }
            if !whole {
                break;
            }
            let mut p = at + 2;
            for (c, (name, kind)) in self.kinds.iter().enumerate() {
                let len = i32::from_be_bytes(data[p..p + 4].try_into().expect("4 bytes"));
                p += 4;
                let field = if len < 0 {
                    None
                } else {
                    let f = &data[p..p + len as usize];
                    p += len as usize;
                    Some(f)
                };
                self.builders[c].push(*kind, field).map_err(|e| format!("column '{name}', row {}: {e}", self.rows + 1))?;
            }
            self.rows += 1;
            at = end;
        }
        self.pending = data[at..].to_vec();
        Ok(())
    }

    /// Checks the stream ended with its trailer.
    fn finish(&self) -> Result<(), String> {
        if !self.ended {
            return Err(format!("the COPY stream stopped after {} rows without its end", self.rows));
        }
        Ok(())
    }

    /// The rows decoded since the last call, as a frame.
    fn take_frame(&mut self) -> Result<DataFrame, TaskError> {
        let height = self.rows_buffered();
        let columns = self
            .builders
            .iter_mut()
            .zip(&self.kinds)
            .map(|(b, (name, kind))| b.take(name, *kind))
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(|e| TaskError::data("cannot build the rows read from PostgreSQL", e))?;
        DataFrame::new(height, columns).map_err(|e| TaskError::data("cannot build the rows read from PostgreSQL", e))
    }
}

/// The artifact being written, batch by batch.
struct Writer {
    inner: polars::io::parquet::write::BatchedWriter<File>,
    path: std::path::PathBuf,
    rows: u64,
}

impl Writer {
    fn create(path: &std::path::Path, columns: &[(String, Kind)]) -> Result<Writer, TaskError> {
        let failed = |e: &dyn std::fmt::Display| TaskError::Data(format!("cannot write {}: {e}", path.display()));
        let schema: Schema = columns.iter().map(|(n, k)| Field::new(n.as_str().into(), k.dtype())).collect();
        let file = File::create(path).map_err(|e| failed(&e))?;
        let inner = ParquetWriter::new(file).with_compression(ARTIFACT_COMPRESSION).batched(&schema).map_err(|e| failed(&e))?;
        Ok(Writer { inner, path: path.to_path_buf(), rows: 0 })
    }

    fn write(&mut self, df: DataFrame) -> Result<(), TaskError> {
        self.rows += df.height() as u64;
        if df.height() == 0 {
            return Ok(());
        }
        self.inner.write_batch(&df).map_err(|e| TaskError::Data(format!("cannot write {}: {e}", self.path.display())))
    }

    fn finish(self) -> Result<u64, TaskError> {
        self.inner.finish().map_err(|e| TaskError::Data(format!("cannot write {}: {e}", self.path.display())))?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of `rows` (each a list of optional field bytes).
    fn stream(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        for row in rows {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for f in row {
                match f {
                    Some(b) => {
                        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        out.extend_from_slice(b);
                    }
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn rows_split_anywhere_across_chunks_decode_the_same() {
        let kinds = vec![("id".to_string(), Kind::Int8), ("name".to_string(), Kind::Text), ("day".to_string(), Kind::Date)];
        let rows: Vec<Vec<Option<Vec<u8>>>> = (0..50i64)
            .map(|i| {
                vec![
                    Some(i.to_be_bytes().to_vec()),
                    (i % 3 != 0).then(|| format!("name {i} ü").into_bytes()),
                    Some((i as i32 - 1).to_be_bytes().to_vec()),
                ]
            })
            .collect();
        let bytes = stream(&rows);
        for chunk in [1, 2, 3, 7, 19, 1000] {
            let mut d = Decoder::new(&kinds);
            for part in bytes.chunks(chunk) {
                d.feed(part).unwrap();
            }
            d.finish().unwrap();
            let df = d.take_frame().unwrap();
            assert_eq!(df.height(), 50, "chunks of {chunk}");
            let ids: Vec<i64> = df.column("id").unwrap().i64().unwrap().into_no_null_iter().collect();
            assert_eq!(ids, (0..50).collect::<Vec<_>>());
            assert_eq!(df.column("name").unwrap().null_count(), 17);
            assert_eq!(df.column("name").unwrap().str().unwrap().get(49), Some("name 49 ü"));
            // Day -1 after 2000-01-01 is 1999-12-31: 10,956 days after 1970-01-01.
            assert_eq!(df.column("day").unwrap().date().unwrap().physical().get(0), Some(10_956));
        }
    }

    #[test]
    fn a_stream_cut_short_or_a_wrong_width_is_an_error_not_fewer_rows() {
        let kinds = vec![("id".to_string(), Kind::Int8)];
        let bytes = stream(&[vec![Some(1i64.to_be_bytes().to_vec())], vec![Some(2i64.to_be_bytes().to_vec())]]);
        let mut d = Decoder::new(&kinds);
        d.feed(&bytes[..bytes.len() - 2]).unwrap();
        assert!(d.finish().unwrap_err().contains("stopped after 2 rows without its end"));
        let bad = stream(&[vec![Some(1i32.to_be_bytes().to_vec())]]);
        let err = Decoder::new(&kinds).feed(&bad).unwrap_err();
        assert_eq!(err, "column 'id', row 1: a value of 4 bytes where 8 were expected");
    }
}
