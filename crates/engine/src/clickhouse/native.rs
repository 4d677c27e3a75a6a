//! ClickHouse's `Native` format, written from a frame's columns: a block is the column count
//! and row count (LEB128), then per column its name, its type and its values (little-endian
//! fixed widths; strings as a length and bytes; `Nullable` as a null map, then the values with
//! zeros in place of the nulls). Values ClickHouse's type cannot hold fail naming column and row.

use polars::prelude::*;

use super::ChType;
use crate::postgres::copy::EncodeError;

/// A column as the block declares it.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub ty: ChType,
    /// Whether it is `Nullable(…)` (sorting-key columns are not).
    pub nullable: bool,
    /// Whether it is `LowCardinality(…)`: a dictionary per block, and each row as a small index.
    pub low_cardinality: bool,
}

impl ColumnSpec {
    /// The type as the table and the block name it.
    pub fn type_name(&self) -> String {
        if self.low_cardinality {
            let inner = if self.nullable { format!("Nullable({})", self.ty.name()) } else { self.ty.name() };
            format!("LowCardinality({inner})")
        } else if self.nullable && !matches!(self.ty, ChType::Array(_)) {
            format!("Nullable({})", self.ty.name())
        } else {
            self.ty.name()
        }
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    varint(s.len() as u64, out);
    out.extend_from_slice(s);
}

/// Appends `df` as one block; `rows_before` rows of the load came before it (for row numbers).
pub fn encode_block(df: &DataFrame, specs: &[ColumnSpec], rows_before: u64, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let height = df.height();
    varint(specs.len() as u64, out);
    varint(height as u64, out);
    for (column, spec) in df.columns().iter().zip(specs) {
        let fail = |r: usize, what: String| EncodeError { column: spec.name.clone(), row: rows_before + r as u64 + 1, what };
        string(spec.name.as_bytes(), out);
        string(spec.type_name().as_bytes(), out);
        let s = column.as_materialized_series().rechunk();
        let nulls: Vec<bool> = match s.rechunk_validity() {
            Some(v) => v.iter().map(|ok| !ok).collect(),
            None => vec![false; height],
        };
        if let ChType::Array(element) = &spec.ty {
            if let Some(r) = nulls.iter().position(|n| *n) {
                return Err(fail(r, "a NULL list, which a ClickHouse Array cannot hold; make it an empty list upstream".into()));
            }
            array(&s, element, out).map_err(|(r, what)| fail(r, what))?;
            continue;
        }
        if !spec.nullable {
            if let Some(r) = nulls.iter().position(|n| *n) {
                return Err(fail(
                    r,
                    "a NULL in a column that is not Nullable (a sorting-key column, order_by), which ClickHouse cannot hold; filter it upstream".into(),
                ));
            }
        }
        if spec.low_cardinality {
            dictionary_encoded(&s, spec.nullable, out).map_err(|(r, what)| fail(r, what))?;
            continue;
        }
        if spec.nullable {
            out.extend(nulls.iter().map(|n| *n as u8));
        }
        values(&s, &spec.ty, out).map_err(|(r, what)| fail(r, what))?;
    }
    Ok(())
}

/// `LowCardinality` keys version 1: each block carries its own dictionary ("additional keys").
const KEYS_VERSION: u64 = 1;
/// Index-type flags: the block has its own keys, and they start a new dictionary.
const HAS_ADDITIONAL_KEYS: u64 = 1 << 9;
const NEED_UPDATE_DICTIONARY: u64 = 1 << 10;

/// Appends a text column as `LowCardinality(String)` (or of `Nullable(String)`), laid out as
/// ClickHouse writes it: the keys version, the index width with flags, the block's dictionary
/// (first NULL's place when nullable, then the empty string, then each other value once in
/// order of appearance), the row count and each row's index into the dictionary.
fn dictionary_encoded(s: &Series, nullable: bool, out: &mut Vec<u8>) -> Result<(), (usize, String)> {
    let e = |e: PolarsError| (0, e.to_string());
    let text = s.cast(&DataType::String).map_err(e)?;
    let ca = text.str().map_err(e)?;
    // Index 0 is NULL in a nullable dictionary; the empty string (the type's default) follows.
    let reserved = if nullable { 2 } else { 1 };
    let empty = reserved as u64 - 1;
    let mut keys: Vec<&str> = Vec::new();
    let mut index: PlHashMap<&str, u64> = PlHashMap::new();
    let mut rows: Vec<u64> = Vec::with_capacity(ca.len());
    for v in ca.iter() {
        rows.push(match v {
            None => 0,
            Some("") => empty,
            Some(v) => *index.entry(v).or_insert_with(|| {
                keys.push(v);
                (reserved + keys.len() - 1) as u64
            }),
        });
    }
    let total = (reserved + keys.len()) as u64;
    let (kind, width) = match total {
        0..=0x100 => (0u64, 1),
        0x101..=0x1_0000 => (1, 2),
        0x1_0001..=0x1_0000_0000 => (2, 4),
        _ => (3, 8),
    };
    out.extend_from_slice(&KEYS_VERSION.to_le_bytes());
    out.extend_from_slice(&(kind | HAS_ADDITIONAL_KEYS | NEED_UPDATE_DICTIONARY).to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    for _ in 0..reserved {
        string(b"", out);
    }
    for k in &keys {
        string(k.as_bytes(), out);
    }
    out.extend_from_slice(&(rows.len() as u64).to_le_bytes());
    for i in rows {
        out.extend_from_slice(&i.to_le_bytes()[..width]);
    }
    Ok(())
}

/// Appends a list column as `Array(Nullable(element))`: each row's end offset, then every
/// element's null flag, then the elements.
fn array(s: &Series, element: &ChType, out: &mut Vec<u8>) -> Result<(), (usize, String)> {
    let e = |e: PolarsError| (0, e.to_string());
    let lists = s.list().map_err(e)?.rechunk();
    let Some(arr) = lists.downcast_iter().next() else { return Ok(()) };
    // A batch may be a slice of a larger array: offsets count from its first one.
    let offsets = arr.offsets().as_slice();
    let first = offsets[0];
    for o in &offsets[1..] {
        out.extend_from_slice(&((o - first) as u64).to_le_bytes());
    }
    let count = (offsets[offsets.len() - 1] - first) as usize;
    let inner = lists.get_inner().slice(first, count);
    match inner.rechunk_validity() {
        Some(v) => out.extend(v.iter().map(|ok| !ok as u8)),
        None => out.extend(std::iter::repeat_n(0u8, inner.len())),
    }
    values(&inner.rechunk(), element, out).map_err(|(_, what)| (0, format!("an element of a list: {what}")))
}

/// Appends the values of `s` as `ty` (zeros in place of nulls).
fn values(s: &Series, ty: &ChType, out: &mut Vec<u8>) -> Result<(), (usize, String)> {
    let e = |e: PolarsError| (0, e.to_string());
    macro_rules! fixed {
        ($ca:expr, $conv:expr) => {{
            for (r, v) in $ca.iter().enumerate() {
                match v {
                    Some(v) => out.extend_from_slice(&$conv(r, v)?.to_le_bytes()),
                    None => out.extend_from_slice(&$conv(r, Default::default()).unwrap_or_default().to_le_bytes()),
                }
            }
        }};
    }
    macro_rules! plain {
        ($ca:expr) => {{
            for v in $ca.iter() {
                out.extend_from_slice(&v.unwrap_or_default().to_le_bytes());
            }
        }};
    }
    match (s.dtype(), ty) {
        (DataType::Boolean, _) => {
            for v in s.bool().map_err(e)?.iter() {
                out.push(v.unwrap_or(false) as u8);
            }
        }
        (DataType::Int8, _) => plain!(s.i8().map_err(e)?),
        (DataType::Int16, _) => plain!(s.i16().map_err(e)?),
        (DataType::Int32, _) => plain!(s.i32().map_err(e)?),
        (DataType::Int64, _) => plain!(s.i64().map_err(e)?),
        (DataType::UInt8, _) => plain!(s.u8().map_err(e)?),
        (DataType::UInt16, _) => plain!(s.u16().map_err(e)?),
        (DataType::UInt32, _) => plain!(s.u32().map_err(e)?),
        (DataType::UInt64, _) => plain!(s.u64().map_err(e)?),
        (DataType::Float32, _) => plain!(s.f32().map_err(e)?),
        (DataType::Float64, _) => plain!(s.f64().map_err(e)?),
        (DataType::Binary, _) => {
            for v in s.binary().map_err(e)?.iter() {
                string(v.unwrap_or_default(), out);
            }
        }
        (DataType::String | DataType::Categorical(..) | DataType::Enum(..), _) => {
            let text = s.cast(&DataType::String).map_err(e)?;
            for v in text.str().map_err(e)?.iter() {
                string(v.unwrap_or_default().as_bytes(), out);
            }
        }
        (DataType::Date, _) => {
            let days = |r: usize, d: i32| {
                u16::try_from(d)
                    .map_err(|_| (r, format!("day {d} after 1970-01-01 is outside ClickHouse's Date (1970-01-01 to 2149-06-06)")))
            };
            fixed!(s.date().map_err(e)?.physical(), days)
        }
        (DataType::Datetime(unit, _), _) => {
            let per_second: i64 = match unit {
                TimeUnit::Milliseconds => 1_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Nanoseconds => 1_000_000_000,
            };
            let seconds = |r: usize, v: i64| {
                if v.rem_euclid(per_second) != 0 {
                    return Err((
                        r,
                        "a time with fractions of a second, which ClickHouse 18.16's DateTime cannot hold; \
                         truncate it upstream (date_trunc('second', …)) or cast it to text"
                            .to_string(),
                    ));
                }
                u32::try_from(v.div_euclid(per_second))
                    .map_err(|_| (r, "a time outside ClickHouse's DateTime (1970 to 2106)".to_string()))
            };
            fixed!(s.datetime().map_err(e)?.physical(), seconds)
        }
        (DataType::Decimal(..), &ChType::Decimal(precision, _)) => {
            let unscaled = s.decimal().map_err(e)?.physical().clone();
            for v in unscaled.iter() {
                let v = v.unwrap_or(0);
                match precision {
                    0..=9 => out.extend_from_slice(&(v as i32).to_le_bytes()),
                    10..=18 => out.extend_from_slice(&(v as i64).to_le_bytes()),
                    _ => out.extend_from_slice(&v.to_le_bytes()),
                }
            }
        }
        (other, _) => return Err((0, format!("{other} columns cannot be loaded into ClickHouse yet"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_counts_then_named_typed_columns() {
        let df = df!("n" => [Some(1i32), None], "s" => ["a", "bc"]).unwrap();
        let specs = [
            ColumnSpec { name: "n".into(), ty: ChType::Int(4), nullable: true, low_cardinality: false },
            ColumnSpec { name: "s".into(), ty: ChType::String, nullable: false, low_cardinality: false },
        ];
        let mut out = Vec::new();
        encode_block(&df, &specs, 0, &mut out).unwrap();
        let mut expected = vec![2, 2];
        expected.extend_from_slice(b"\x01n\x0fNullable(Int32)");
        expected.extend_from_slice(&[0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(b"\x01s\x06String\x01a\x02bc");
        assert_eq!(out, expected);
    }

    #[test]
    fn low_cardinality_blocks_are_laid_out_as_the_server_writes_them() {
        // Both expected blocks are ClickHouse 18.16's own answers to
        // `SELECT toLowCardinality(…) … FORMAT Native` of the same values.
        let df = df!("a" => ["0", "1", "2", "0", "1"]).unwrap();
        let specs = [ColumnSpec { name: "a".into(), ty: ChType::String, nullable: false, low_cardinality: true }];
        let mut out = Vec::new();
        encode_block(&df, &specs, 0, &mut out).unwrap();
        let mut expected = vec![1, 5];
        expected.extend_from_slice(b"\x01a\x16LowCardinality(String)");
        expected.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(b"\x00\x010\x011\x012");
        expected.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 1, 2]);
        assert_eq!(out, expected);

        let df = df!("b" => [None, Some("1"), None, Some("0"), None]).unwrap();
        let specs = [ColumnSpec { name: "b".into(), ty: ChType::String, nullable: true, low_cardinality: true }];
        let mut out = Vec::new();
        encode_block(&df, &specs, 0, &mut out).unwrap();
        let mut expected = vec![1, 5];
        expected.extend_from_slice(b"\x01b\x20LowCardinality(Nullable(String))");
        expected.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend_from_slice(b"\x00\x00\x011\x010");
        expected.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0]);
        assert_eq!(out, expected);

        // Past 256 keys the indexes are two bytes wide.
        let many: Vec<String> = (0..300).map(|i| format!("v{i}")).collect();
        let df = df!("c" => many).unwrap();
        let specs = [ColumnSpec { name: "c".into(), ty: ChType::String, nullable: false, low_cardinality: true }];
        let mut out = Vec::new();
        encode_block(&df, &specs, 0, &mut out).unwrap();
        let flags = 1 + 2 + 2 + 23 + 8; // column count, row count (300 takes 2 bytes), name, type, keys version
        assert_eq!(out[flags..flags + 2], [1, 6]);
        assert_eq!(&out[out.len() - 2..], &[44, 1], "the last row is key 300 (after the empty string)");
    }

    #[test]
    fn values_clickhouse_cannot_hold_name_their_column_and_row() {
        let us = Int64Chunked::new("t".into(), [1_000_000i64, 1_500_000]).into_datetime(TimeUnit::Microseconds, None);
        let df = DataFrame::new(2, vec![us.into_series().into()]).unwrap();
        let specs = [ColumnSpec { name: "t".into(), ty: ChType::DateTime, nullable: true, low_cardinality: false }];
        let err = encode_block(&df, &specs, 10, &mut Vec::new()).unwrap_err();
        assert_eq!((err.column.as_str(), err.row), ("t", 12));
        assert!(err.what.contains("fractions of a second"), "{err}");
        let days = Int32Chunked::new("d".into(), [0, -1]).into_date();
        let df = DataFrame::new(2, vec![days.into_series().into()]).unwrap();
        let specs = [ColumnSpec { name: "d".into(), ty: ChType::Date, nullable: true, low_cardinality: false }];
        assert_eq!(encode_block(&df, &specs, 0, &mut Vec::new()).unwrap_err().row, 2);
        let lists = ListChunked::from_iter([Some(Series::new("".into(), [1i64])), None]).with_name("l".into()).into_series();
        let df = DataFrame::new(2, vec![lists.into()]).unwrap();
        let specs = [ColumnSpec {
            name: "l".into(),
            ty: ChType::Array(Box::new(ChType::Int(8))),
            nullable: true,
            low_cardinality: false,
        }];
        let err = encode_block(&df, &specs, 0, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().starts_with("column 'l', row 2: a NULL list"), "{err}");
        assert_eq!(specs[0].type_name(), "Array(Nullable(Int64))");
        let df = df!("k" => [Some(1i64), None]).unwrap();
        let specs = [ColumnSpec { name: "k".into(), ty: ChType::Int(8), nullable: false, low_cardinality: false }];
        let err = encode_block(&df, &specs, 0, &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().starts_with("column 'k', row 2: a NULL in a column that is not Nullable (a sorting-key column"),
            "{err}"
        );
    }
}
