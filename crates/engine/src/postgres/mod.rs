//! PostgreSQL: the column types frames get there ([`PgType`]) and their binary COPY encoding
//! ([`copy`]), for sinks that bulk-load artifacts with `COPY … FROM STDIN (FORMAT binary)`.

pub mod access;
pub mod copy;
pub mod sink;
pub mod source;

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
    /// `numeric(precision, scale)` (Polars Decimal)
    Numeric {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: u8,
    },
    /// A one-dimensional array of the element type (Polars List of a scalar type)
    Array(Element),
    /// `jsonb` (a Polars Struct, as the JSON object Polars writes for it)
    Jsonb,
}

/// The element type of an array column: a [`PgType`] that is not itself an array, kept as its
/// object id (and a numeric's precision and scale) so that `PgType` stays a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    oid: u32,
    precision: u8,
    scale: u8,
}

impl Element {
    fn new(t: PgType) -> Element {
        match t {
            PgType::Numeric { precision, scale } => Element { oid: t.oid(), precision, scale },
            _ => Element { oid: t.oid(), precision: 0, scale: 0 },
        }
    }

    /// The element's type.
    pub fn get(self) -> PgType {
        match self.oid {
            16 => PgType::Bool,
            17 => PgType::Bytea,
            20 => PgType::Int8,
            21 => PgType::Int2,
            23 => PgType::Int4,
            700 => PgType::Float4,
            701 => PgType::Float8,
            1082 => PgType::Date,
            1083 => PgType::Time,
            1114 => PgType::Timestamp,
            1184 => PgType::TimestampTz,
            1700 => PgType::Numeric { precision: self.precision, scale: self.scale },
            _ => PgType::Text,
        }
    }
}

impl PgType {
    /// The column type to create, as PostgreSQL's `format_type` names it.
    pub fn sql_name(self) -> String {
        match self {
            PgType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
            PgType::Array(e) => format!("{}[]", e.get().sql_name()),
            scalar => scalar.scalar_name().to_string(),
        }
    }

    /// The type's object id, which a binary array names for its elements.
    pub fn oid(self) -> u32 {
        match self {
            PgType::Bool => 16,
            PgType::Bytea => 17,
            PgType::Int8 => 20,
            PgType::Int2 => 21,
            PgType::Int4 => 23,
            PgType::Text => 25,
            PgType::Float4 => 700,
            PgType::Float8 => 701,
            PgType::Date => 1082,
            PgType::Time => 1083,
            PgType::Timestamp => 1114,
            PgType::TimestampTz => 1184,
            PgType::Numeric { .. } => 1700,
            PgType::Jsonb => 3802,
            // Arrays of arrays are refused in `of`.
            PgType::Array(_) => 0,
        }
    }

    fn scalar_name(self) -> &'static str {
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
            PgType::Jsonb => "jsonb",
            PgType::Numeric { .. } | PgType::Array(_) => unreachable!("named by sql_name"),
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
            DataType::Decimal(precision, scale) => PgType::Numeric { precision: *precision as u8, scale: *scale as u8 },
            DataType::Struct(_) => PgType::Jsonb,
            DataType::List(inner) => match PgType::of(inner)? {
                PgType::Jsonb => return Err(format!("{dtype} columns (lists of structs) cannot be loaded into PostgreSQL yet")),
                PgType::Array(_) => {
                    return Err(format!(
                        "{dtype} columns (lists of lists) cannot be loaded into PostgreSQL yet; flatten them upstream"
                    ))
                }
                element => PgType::Array(Element::new(element)),
            },
            other => {
                return Err(format!("{other} columns cannot be loaded into PostgreSQL yet; cast them in an upstream SQL task"))
            }
        })
    }
}

/// Runs the future `make` gives to completion on a Tokio runtime of its own: on this thread, or
/// on a helper thread when this one already drives a runtime (blocking it would panic), as a
/// preview called from async code does.
pub(crate) fn block_on<T: Send, F: std::future::Future<Output = T>>(make: impl FnOnce() -> F + Send) -> std::io::Result<T> {
    let run = move || -> std::io::Result<T> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(runtime.block_on(make()))
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return run();
    }
    std::thread::scope(|scope| scope.spawn(run).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
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
