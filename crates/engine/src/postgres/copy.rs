//! PostgreSQL's binary COPY format, written straight from a frame's Arrow arrays: a header, per
//! row a field count and each field as its length and its bytes in network order (-1 for NULL),
//! then a trailer. Widths must match the table's columns exactly (the server reads an `int4`
//! column's 4 bytes and fails on 8), so each column is encoded as its [`PgType`] says.

use polars::prelude::*;
use polars_arrow::array::{Array, BinaryViewArray, BooleanArray, ListArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::types::NativeType;

use super::{micros_per, PgType};

/// The file header: signature, flags (no OIDs), no header extension.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The file trailer: a field count of -1.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from 1970-01-01 (Polars' dates) to 2000-01-01 (PostgreSQL's).
const EPOCH_DAYS: i32 = 10_957;

/// Microseconds from 1970-01-01 to 2000-01-01.
const EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A value that cannot be loaded, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column '{column}', row {row}: {what}")]
pub struct EncodeError {
    /// The column's name.
    pub column: String,
    /// The row, counted from 1 over the whole load.
    pub row: u64,
    /// What is wrong and what to do.
    pub what: String,
}

/// One column's values as the encoder reads them.
enum Col {
    Bool(BooleanArray),
    I8(PrimitiveArray<i8>),
    I16(PrimitiveArray<i16>),
    I32(PrimitiveArray<i32>),
    I64(PrimitiveArray<i64>),
    U8(PrimitiveArray<u8>),
    U16(PrimitiveArray<u16>),
    U32(PrimitiveArray<u32>),
    U64(PrimitiveArray<u64>),
    F32(PrimitiveArray<f32>),
    F64(PrimitiveArray<f64>),
    Text(Utf8ViewArray),
    /// A struct's rows as JSON text.
    Jsonb(Utf8ViewArray),
    Bytes(BinaryViewArray),
    Date(PrimitiveArray<i32>),
    /// Nanoseconds since midnight.
    Time(PrimitiveArray<i64>),
    /// Values, then (multiply, divide) to microseconds.
    Instant(PrimitiveArray<i64>, (i64, i64)),
    /// Unscaled values, then the scale.
    Numeric(PrimitiveArray<i128>, u32),
    /// The lists, their values as a column, and the element type's oid.
    List(ListArray<i64>, Box<Col>, u32),
    Null,
}

/// Appends the rows of `df` to `out`, each column encoded as its type in `types`; `rows_before`
/// is how many rows of the load came before this frame (for the row numbers of errors).
pub fn encode_rows(df: &DataFrame, types: &[PgType], rows_before: u64, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let height = df.height();
    if height == 0 {
        return Ok(());
    }
    let fail = |column: &str, what: String| EncodeError { column: column.to_string(), row: rows_before + 1, what };
    let mut cols = Vec::with_capacity(df.width());
    for (column, ty) in df.columns().iter().zip(types) {
        let col = column_values(column.as_materialized_series(), *ty).map_err(|what| fail(column.name(), what))?;
        cols.push(col);
    }
    let names: Vec<&str> = df.columns().iter().map(|c| c.name().as_str()).collect();
    let fields = (cols.len() as i16).to_be_bytes();
    out.reserve(height * (2 + 8 * cols.len()));
    for r in 0..height {
        out.extend_from_slice(&fields);
        for (c, col) in cols.iter().enumerate() {
            write_field(col, r, out).map_err(|what| EncodeError {
                column: names[c].to_string(),
                row: rows_before + r as u64 + 1,
                what,
            })?;
        }
    }
    Ok(())
}

/// The single array of `s` (rechunked) as the encoder reads it for `ty`.
fn column_values(s: &Series, ty: PgType) -> Result<Col, String> {
    let e = |e: PolarsError| e.to_string();
    fn one<T: PolarsDataType>(ca: &ChunkedArray<T>) -> T::Array
    where
        T::Array: Clone,
    {
        let ca = ca.rechunk();
        let array = ca.downcast_iter().next().expect("a non-empty column has a chunk").clone();
        array
    }
    Ok(match (s.dtype(), ty) {
        (DataType::Null, _) => Col::Null,
        (DataType::Boolean, _) => Col::Bool(one(s.bool().map_err(e)?)),
        (DataType::Int8, _) => Col::I8(one(s.i8().map_err(e)?)),
        (DataType::Int16, _) => Col::I16(one(s.i16().map_err(e)?)),
        (DataType::Int32, _) => Col::I32(one(s.i32().map_err(e)?)),
        (DataType::Int64, _) => Col::I64(one(s.i64().map_err(e)?)),
        (DataType::UInt8, _) => Col::U8(one(s.u8().map_err(e)?)),
        (DataType::UInt16, _) => Col::U16(one(s.u16().map_err(e)?)),
        (DataType::UInt32, _) => Col::U32(one(s.u32().map_err(e)?)),
        (DataType::UInt64, _) => Col::U64(one(s.u64().map_err(e)?)),
        (DataType::Float32, _) => Col::F32(one(s.f32().map_err(e)?)),
        (DataType::Float64, _) => Col::F64(one(s.f64().map_err(e)?)),
        (DataType::String, _) => Col::Text(one(s.str().map_err(e)?)),
        (DataType::Categorical(..) | DataType::Enum(..), _) => {
            let text = s.cast(&DataType::String).map_err(e)?;
            Col::Text(one(text.str().map_err(e)?))
        }
        (DataType::Binary, _) => Col::Bytes(one(s.binary().map_err(e)?)),
        (DataType::Struct(_), PgType::Jsonb) => {
            // Polars' own JSON for each row; a NULL struct stays NULL (not the JSON `null`).
            let name = s.name().clone();
            let json = when(col(name.clone()).is_not_null())
                .then(col(name.clone()).struct_().json_encode())
                .otherwise(lit(NULL).cast(DataType::String))
                .alias(name.clone());
            let encoded =
                DataFrame::new(s.len(), vec![s.clone().into()]).and_then(|df| df.lazy().select([json]).collect()).map_err(e)?;
            let text = encoded.column(&name).map_err(e)?.as_materialized_series().clone();
            Col::Jsonb(one(text.str().map_err(e)?))
        }
        (DataType::Date, _) => Col::Date(one(s.date().map_err(e)?.physical())),
        (DataType::Time, _) => Col::Time(one(s.time().map_err(e)?.physical())),
        (DataType::Datetime(unit, _), _) => Col::Instant(one(s.datetime().map_err(e)?.physical()), micros_per(*unit)),
        (DataType::Decimal(_, scale), _) => Col::Numeric(one(s.decimal().map_err(e)?.physical()), *scale as u32),
        (DataType::List(_), PgType::Array(element)) => {
            let lists = one(s.list().map_err(e)?);
            let values = Series::try_from((PlSmallStr::EMPTY, lists.values().clone())).map_err(e)?;
            let inner = if values.is_empty() { Col::Null } else { column_values(&values, element.get())? };
            Col::List(lists, Box::new(inner), element.get().oid())
        }
        (other, _) => return Err(format!("{other} columns cannot be loaded into PostgreSQL yet")),
    })
}

fn valid(array: &dyn Array, r: usize) -> bool {
    array.validity().is_none_or(|v| v.get_bit(r))
}

/// Writes a fixed-width value: its length, then its big-endian bytes.
fn put<const N: usize>(out: &mut Vec<u8>, bytes: [u8; N]) {
    out.extend_from_slice(&(N as i32).to_be_bytes());
    out.extend_from_slice(&bytes);
}

fn value<T: NativeType>(a: &PrimitiveArray<T>, r: usize) -> Option<T> {
    valid(a, r).then(|| a.value(r))
}

/// Appends field `r` of `col`, or says why it cannot be loaded.
fn write_field(col: &Col, r: usize, out: &mut Vec<u8>) -> Result<(), String> {
    const NULL: [u8; 4] = (-1i32).to_be_bytes();
    macro_rules! num {
        ($a:expr, $conv:expr) => {
            match value($a, r) {
                Some(v) => put(out, $conv(v).to_be_bytes()),
                None => out.extend_from_slice(&NULL),
            }
        };
    }
    match col {
        Col::Null => out.extend_from_slice(&NULL),
        Col::Bool(a) => match valid(a, r) {
            true => put(out, [a.value(r) as u8]),
            false => out.extend_from_slice(&NULL),
        },
        Col::I8(a) => num!(a, i16::from),
        Col::I16(a) => num!(a, |v: i16| v),
        Col::I32(a) => num!(a, |v: i32| v),
        Col::I64(a) => num!(a, |v: i64| v),
        Col::U8(a) => num!(a, i16::from),
        Col::U16(a) => num!(a, i32::from),
        Col::U32(a) => num!(a, i64::from),
        Col::U64(a) => match value(a, r) {
            Some(v) => {
                let v = i64::try_from(v).map_err(|_| {
                    format!("{v} does not fit PostgreSQL's bigint (at most {}); filter or cast it upstream", i64::MAX)
                })?;
                put(out, v.to_be_bytes())
            }
            None => out.extend_from_slice(&NULL),
        },
        Col::F32(a) => num!(a, |v: f32| v),
        Col::F64(a) => num!(a, |v: f64| v),
        Col::Text(a) => match valid(a, r) {
            true => {
                let s = a.value(r).as_bytes();
                if memchr::memchr(0, s).is_some() {
                    return Err("the text holds a NUL character (\\0), which PostgreSQL text cannot store; \
                                remove it upstream (e.g. replace(col, chr(0), ''))"
                        .into());
                }
                out.extend_from_slice(&(s.len() as i32).to_be_bytes());
                out.extend_from_slice(s);
            }
            false => out.extend_from_slice(&NULL),
        },
        Col::Jsonb(a) => match valid(a, r) {
            true => {
                // jsonb's binary input: a format version (1), then the JSON text.
                let s = a.value(r).as_bytes();
                out.extend_from_slice(&(s.len() as i32 + 1).to_be_bytes());
                out.push(1);
                out.extend_from_slice(s);
            }
            false => out.extend_from_slice(&NULL),
        },
        Col::Bytes(a) => match valid(a, r) {
            true => {
                let b = a.value(r);
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
            false => out.extend_from_slice(&NULL),
        },
        Col::Date(a) => num!(a, |d: i32| d - EPOCH_DAYS),
        Col::Time(a) => num!(a, |ns: i64| ns / 1000),
        Col::Numeric(a, scale) => match value(a, r) {
            Some(v) => write_numeric(v, *scale, out),
            None => out.extend_from_slice(&NULL),
        },
        Col::List(a, inner, oid) => {
            if !valid(a, r) {
                out.extend_from_slice(&NULL);
                return Ok(());
            }
            let (start, end) = a.offsets().start_end(r);
            // The field's length goes first: reserve it, fill it in once the array is written.
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            let nulls = matches!(**inner, Col::Null) || (start..end).any(|i| !col_valid(inner, i));
            if start == end {
                // An empty array has no dimensions.
                out.extend_from_slice(&0i32.to_be_bytes());
                out.extend_from_slice(&0i32.to_be_bytes());
                out.extend_from_slice(&oid.to_be_bytes());
            } else {
                out.extend_from_slice(&1i32.to_be_bytes());
                out.extend_from_slice(&(nulls as i32).to_be_bytes());
                out.extend_from_slice(&oid.to_be_bytes());
                out.extend_from_slice(&((end - start) as i32).to_be_bytes());
                out.extend_from_slice(&1i32.to_be_bytes());
                for i in start..end {
                    write_field(inner, i, out).map_err(|what| format!("element {} of the list: {what}", i - start + 1))?;
                }
            }
            let len = (out.len() - at - 4) as i32;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        Col::Instant(a, (mul, div)) => match value(a, r) {
            Some(v) => {
                let micros = v
                    .checked_mul(*mul)
                    .map(|v| v.div_euclid(*div))
                    .and_then(|us| us.checked_sub(EPOCH_MICROS))
                    .ok_or_else(|| format!("timestamp {v} is out of PostgreSQL's range"))?;
                put(out, micros.to_be_bytes())
            }
            None => out.extend_from_slice(&NULL),
        },
    }
    Ok(())
}

/// Whether value `i` of a column is not null.
fn col_valid(col: &Col, i: usize) -> bool {
    match col {
        Col::Null => false,
        Col::Bool(a) => valid(a, i),
        Col::I8(a) => valid(a, i),
        Col::I16(a) => valid(a, i),
        Col::I32(a) => valid(a, i),
        Col::I64(a) => valid(a, i),
        Col::U8(a) => valid(a, i),
        Col::U16(a) => valid(a, i),
        Col::U32(a) => valid(a, i),
        Col::U64(a) => valid(a, i),
        Col::F32(a) => valid(a, i),
        Col::F64(a) => valid(a, i),
        Col::Text(a) | Col::Jsonb(a) => valid(a, i),
        Col::Bytes(a) => valid(a, i),
        Col::Date(a) => valid(a, i),
        Col::Time(a) => valid(a, i),
        Col::Instant(a, _) => valid(a, i),
        Col::Numeric(a, _) => valid(a, i),
        Col::List(a, ..) => valid(a, i),
    }
}

/// Writes an unscaled decimal as PostgreSQL's binary numeric: base-10000 digits around the
/// point (most significant first, leading and trailing zero digits left out), the weight of the
/// first digit, the sign and the display scale.
fn write_numeric(v: i128, scale: u32, out: &mut Vec<u8>) {
    // Whole groups of 4 digits after the point: pad the fraction to a multiple of 4.
    let pad = (4 - scale % 4) % 4;
    let mut u = v.unsigned_abs() * 10u128.pow(pad);
    let frac_groups = (scale + pad) / 4;
    let mut groups: Vec<i16> = Vec::new(); // least significant first
    while u > 0 {
        groups.push((u % 10_000) as i16);
        u /= 10_000;
    }
    // Groups below the point that were never reached are zeros too.
    while (groups.len() as u32) < frac_groups {
        groups.push(0);
    }
    let weight = groups.len() as i32 - 1 - frac_groups as i32;
    // Most significant first, without trailing zero groups.
    groups.reverse();
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let weight = if groups.is_empty() { 0 } else { weight };
    // The zero groups pushed for a small fraction lead: drop them, each one lowers the weight.
    let lead = groups.iter().take_while(|g| **g == 0).count();
    let digits = &groups[lead..];
    let weight = weight - lead as i32;
    let sign: u16 = if v < 0 { 0x4000 } else { 0 };
    let len = 8 + 2 * digits.len();
    out.extend_from_slice(&(len as i32).to_be_bytes());
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as u16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(df: &DataFrame) -> Vec<PgType> {
        df.columns().iter().map(|c| PgType::of(c.dtype()).unwrap()).collect()
    }

    #[test]
    fn rows_are_written_field_by_field_in_network_order() {
        let df = df!("n" => [Some(1i32), None], "s" => [Some("hé"), Some("")], "b" => [true, false]).unwrap();
        let mut out = Vec::new();
        encode_rows(&df, &types(&df), 0, &mut out).unwrap();
        let expected: Vec<u8> = [
            &[0, 3][..],
            &[0, 0, 0, 4, 0, 0, 0, 1],
            &[0, 0, 0, 3, b'h', 0xc3, 0xa9],
            &[0, 0, 0, 1, 1],
            &[0, 3],
            &[0xff, 0xff, 0xff, 0xff],
            &[0, 0, 0, 0],
            &[0, 0, 0, 1, 0],
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn dates_and_timestamps_count_from_2000_and_every_unit_becomes_microseconds() {
        let days = Int32Chunked::new("d".into(), [10_957, 10_958, 0]).into_date().into_series();
        let mut out = Vec::new();
        let df = DataFrame::new(3, vec![days.into()]).unwrap();
        encode_rows(&df, &types(&df), 0, &mut out).unwrap();
        let got: Vec<i32> = out.chunks(10).map(|row| i32::from_be_bytes(row[6..10].try_into().unwrap())).collect();
        assert_eq!(got, [0, 1, -10_957]);
        for (unit, one_second) in
            [(TimeUnit::Milliseconds, 1_000), (TimeUnit::Microseconds, 1_000_000), (TimeUnit::Nanoseconds, 1_000_000_000)]
        {
            // 2000-01-01 00:00:01 and 1969-12-31 23:59:59.999999 (floored, not rounded toward zero).
            let v = [EPOCH_MICROS / 1_000_000 * one_second + one_second, -1];
            let s = Int64Chunked::new("t".into(), v).into_datetime(unit, None).into_series();
            let df = DataFrame::new(2, vec![s.into()]).unwrap();
            let mut out = Vec::new();
            encode_rows(&df, &types(&df), 0, &mut out).unwrap();
            let got: Vec<i64> = out.chunks(14).map(|row| i64::from_be_bytes(row[6..14].try_into().unwrap())).collect();
            let last = match unit {
                TimeUnit::Milliseconds => -1000,
                _ => -1,
            };
            assert_eq!(got, [1_000_000, last - EPOCH_MICROS], "{unit:?}");
        }
    }

    #[test]
    fn decimals_become_base_10000_digits_around_the_point() {
        // (unscaled, scale) → (digits, weight, sign, dscale) as PostgreSQL's numeric_send gives them.
        let cases: [(i128, u32, &[i16], i16, u16); 7] = [
            (12_345, 2, &[123, 4500], 0, 0),
            (1, 4, &[1], -1, 0),
            (1, 8, &[1], -2, 0),
            (10_000, 0, &[1], 1, 0),
            (0, 2, &[], 0, 0),
            (-55, 1, &[5, 5000], 0, 0x4000),
            (123_456_789_012, 0, &[1234, 5678, 9012], 2, 0),
        ];
        for (v, scale, digits, weight, sign) in cases {
            let mut out = Vec::new();
            write_numeric(v, scale, &mut out);
            let be = |i: usize| i16::from_be_bytes([out[i], out[i + 1]]);
            assert_eq!(i32::from_be_bytes(out[..4].try_into().unwrap()) as usize, out.len() - 4, "{v}");
            let n = be(4) as usize;
            let got: Vec<i16> = (0..n).map(|k| be(12 + 2 * k)).collect();
            assert_eq!((got.as_slice(), be(6), be(8) as u16, be(10) as u32), (digits, weight, sign, scale), "{v} scale {scale}");
        }
    }

    #[test]
    fn values_that_cannot_be_loaded_name_their_column_and_row() {
        let df = df!("id" => [1u64, u64::MAX]).unwrap();
        let err = encode_rows(&df, &types(&df), 1000, &mut Vec::new()).unwrap_err();
        assert_eq!((err.column.as_str(), err.row), ("id", 1002));
        assert!(err.to_string().starts_with("column 'id', row 1002: 18446744073709551615 does not fit"), "{err}");
        let df = df!("note" => ["fine", "bad\0byte"]).unwrap();
        let err = encode_rows(&df, &types(&df), 0, &mut Vec::new()).unwrap_err();
        assert_eq!((err.column.as_str(), err.row), ("note", 2));
        assert!(err.what.contains("NUL"), "{err}");
        let nested = DataType::List(Box::new(DataType::List(Box::new(DataType::Int64))));
        assert!(PgType::of(&nested).unwrap_err().contains("lists of lists"));
    }
}
