//! PostgreSQL: the column types frames get there ([`PgType`]) and their binary COPY encoding
//! ([`copy`]), for sinks that bulk-load artifacts with `COPY … FROM STDIN (FORMAT binary)`.

pub mod access;
pub mod copy;
pub mod sink;

use polars::prelude::{DataType, TimeUnit};

/// The PostgreSQL type a frame column is loaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    /// `boolean`
    Bool,
    /// `smallint` (Polars Int8, Int16, UInt8: PostgreSQL has no one-byte integer)
    Int2,
    /// `integer` (Int32, UInt16)
    Int4,
    /// `bigint` (Int64, UInt32; UInt64 with a check that each value fits)
    Int8,
    /// `real`
    Float4,
    /// `double precision`
    Float8,
    /// `text` (String, Categorical, Enum; an all-null column)
    Text,
    /// `bytea`
    Bytea,
    /// `date`
    Date,
    /// `time` (microseconds: Polars' nanoseconds are truncated)
    Time,
    /// `timestamp` (without time zone)
    Timestamp,
    /// `timestamptz` (the instant Polars keeps; its time zone name is not stored)
    TimestampTz,
}

impl PgType {
    /// The column type to create, as PostgreSQL names it in `information_schema.columns.data_type`.
    pub fn sql_name(self) -> &'static str {
        match self {
            PgType::Bool => "boolean",
            PgType::Int2 => "smallint",
            PgType::Int4 => "integer",
            PgType::Int8 => "bigint",
            PgType::Float4 => "real",
            PgType::Float8 => "double precision",
            PgType::Text => "text",
            PgType::Bytea => "bytea",
            PgType::Date => "date",
            PgType::Time => "time without time zone",
            PgType::Timestamp => "timestamp without time zone",
            PgType::TimestampTz => "timestamp with time zone",
        }
    }

    /// The type a Polars column is loaded as, or why it cannot be (yet).
    pub fn of(dtype: &DataType) -> Result<PgType, String> {
        Ok(match dtype {
            DataType::Boolean => PgType::Bool,
            DataType::Int8 | DataType::Int16 | DataType::UInt8 => PgType::Int2,
            DataType::Int32 | DataType::UInt16 => PgType::Int4,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => PgType::Int8,
            DataType::Float32 => PgType::Float4,
            DataType::Float64 => PgType::Float8,
            DataType::String | DataType::Categorical(..) | DataType::Enum(..) | DataType::Null => PgType::Text,
            DataType::Binary => PgType::Bytea,
            DataType::Date => PgType::Date,
            DataType::Time => PgType::Time,
            DataType::Datetime(_, None) => PgType::Timestamp,
            DataType::Datetime(_, Some(_)) => PgType::TimestampTz,
            other => {
                return Err(format!(
                    "{other} columns cannot be loaded into PostgreSQL yet; cast them in an upstream SQL task \
                     (e.g. to VARCHAR, or a decimal to DOUBLE)"
                ))
            }
        })
    }
}

/// Microseconds in one unit of a Polars datetime or duration.
pub(crate) fn micros_per(unit: TimeUnit) -> (i64, i64) {
    // (multiply, divide)
    match unit {
        TimeUnit::Milliseconds => (1000, 1),
        TimeUnit::Microseconds => (1, 1),
        TimeUnit::Nanoseconds => (1, 1000),
    }
}
