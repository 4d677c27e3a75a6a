//! Schema contracts: the columns a task promises to output (`schema = { id = "i64 not null unique" }`),
//! checked against every output it writes, with every violation listed.

use std::path::Path;

use polars::prelude::DataType;
use serde::{Deserialize, Serialize};

use crate::tasks::{quote_ident, quote_str, TaskError};

/// A task's declared output columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contract {
    /// The declared columns, in file order.
    pub columns: Vec<ColumnRule>,
    /// Whether columns not declared are violations too (`schema_strict = true`).
    pub strict: bool,
}

/// One declared column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnRule {
    /// The column's name.
    pub name: String,
    /// The type it must have (`any`: not checked).
    pub dtype: String,
    /// No nulls allowed.
    pub not_null: bool,
    /// No non-null value may occur twice.
    pub unique: bool,
}

/// Type names a contract accepts, after aliases are applied.
const TYPES: &[&str] = &[
    "any", "str", "bool", "int", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "float", "f32", "f64", "date", "datetime",
    "time", "duration", "decimal", "binary", "list", "struct",
];

/// Parses one column's declaration: `"str not null unique"`, `"f64"`, `"not null"` (any type).
pub fn parse_column(name: &str, text: &str) -> Result<ColumnRule, String> {
    let words: Vec<String> = text.split_whitespace().map(str::to_ascii_lowercase).collect();
    let mut rest = words.as_slice();
    let dtype = match rest.first().map(String::as_str) {
        None | Some("not" | "unique") => "any".to_string(),
        Some(first) => {
            rest = &rest[1..];
            let canonical = match first {
                "string" | "utf8" | "text" | "varchar" => "str",
                "boolean" => "bool",
                "integer" => "int",
                "double" => "f64",
                "timestamp" => "datetime",
                other => other,
            };
            if !TYPES.contains(&canonical) {
                return Err(format!(
                    "column `{name}`: unknown type `{first}`; expected one of {} (then optionally `not null`, `unique`)",
                    TYPES.join(", ")
                ));
            }
            canonical.to_string()
        }
    };
    let (mut not_null, mut unique) = (false, false);
    while let Some(word) = rest.first() {
        match (word.as_str(), rest.get(1).map(String::as_str)) {
            ("not", Some("null")) => {
                not_null = true;
                rest = &rest[2..];
            }
            ("unique", _) => {
                unique = true;
                rest = &rest[1..];
            }
            _ => {
                return Err(format!(
                    "column `{name}`: cannot read `{word}` in \"{text}\"; write a type then optionally `not null` and `unique`, like \"str not null unique\""
                ))
            }
        }
    }
    Ok(ColumnRule { name: name.to_string(), dtype, not_null, unique })
}

/// Whether a column of type `actual` satisfies the declared type `declared`.
fn type_matches(declared: &str, actual: &DataType) -> bool {
    use DataType as D;
    match declared {
        "any" => true,
        // An all-null column has no type of its own in Parquet; `not null` is what catches it.
        _ if matches!(actual, D::Null) => true,
        "str" => matches!(actual, D::String | D::Categorical(..) | D::Enum(..)),
        "bool" => matches!(actual, D::Boolean),
        "int" => actual.is_integer(),
        "i8" => matches!(actual, D::Int8),
        "i16" => matches!(actual, D::Int16),
        "i32" => matches!(actual, D::Int32),
        "i64" => matches!(actual, D::Int64),
        "u8" => matches!(actual, D::UInt8),
        "u16" => matches!(actual, D::UInt16),
        "u32" => matches!(actual, D::UInt32),
        "u64" => matches!(actual, D::UInt64),
        "float" => actual.is_float(),
        "f32" => matches!(actual, D::Float32),
        "f64" => matches!(actual, D::Float64),
        "date" => matches!(actual, D::Date),
        "datetime" => matches!(actual, D::Datetime(..)),
        "time" => matches!(actual, D::Time),
        "duration" => matches!(actual, D::Duration(..)),
        "decimal" => matches!(actual, D::Decimal(..)),
        "binary" => matches!(actual, D::Binary | D::BinaryOffset),
        "list" => matches!(actual, D::List(..) | D::Array(..)),
        "struct" => matches!(actual, D::Struct(..)),
        _ => false,
    }
}

/// The contract's violations by the Parquet output at `artifact` (empty: it holds).
/// Types come from the file's schema; nulls and duplicates are counted by DuckDB, which
/// keeps to `memory` however large the output is.
pub fn violations(
    contract: &Contract,
    artifact: &Path,
    memory: Option<&crate::memory::MemoryBudget>,
) -> Result<Vec<String>, TaskError> {
    let schema = crate::tasks::frame::scan_artifact(artifact)?
        .collect_schema()
        .map_err(|e| TaskError::data(format!("cannot read the schema of {}", artifact.display()), e))?;
    let mut out = Vec::new();
    let mut counted = Vec::new();
    for rule in &contract.columns {
        match schema.get(&rule.name) {
            None => out.push(format!("column `{}` is missing (the output has: {})", rule.name, names(&schema))),
            Some(actual) if !type_matches(&rule.dtype, actual) => {
                out.push(format!("column `{}` is {actual}, declared {}", rule.name, rule.dtype))
            }
            Some(_) => {
                if rule.not_null || rule.unique {
                    counted.push(rule);
                }
            }
        }
    }
    if contract.strict {
        for name in schema.iter_names() {
            if !contract.columns.iter().any(|c| c.name == name.as_str()) {
                out.push(format!("column `{name}` is not declared (schema_strict = true)"));
            }
        }
    }
    if counted.is_empty() {
        return Ok(out);
    }
    let dir = artifact.parent().unwrap_or(artifact);
    let conn = crate::duckdb_files::lend_confined(&[dir], memory, Default::default())
        .map_err(|e| TaskError::data("cannot start DuckDB to check the schema contract", e))?;
    let table = format!("read_parquet({})", quote_str(&artifact.to_string_lossy()));
    let failed = |e: duckdb::Error| TaskError::data("cannot check the schema contract", e);
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).map_err(failed)?;
    for rule in counted {
        let c = quote_ident(&rule.name);
        if rule.not_null {
            let nulls: i64 =
                conn.query_row(&format!("SELECT count(*) - count({c}) FROM {table}"), [], |r| r.get(0)).map_err(failed)?;
            if nulls > 0 {
                out.push(format!("column `{}` has {nulls} null(s) in {total} rows, declared not null", rule.name));
            }
        }
        if rule.unique {
            let sql = format!(
                "SELECT CAST({c} AS VARCHAR), count(*) AS n FROM {table} WHERE {c} IS NOT NULL GROUP BY {c} HAVING count(*) > 1 ORDER BY n DESC, 1 LIMIT 3"
            );
            let mut stmt = conn.prepare(&sql).map_err(failed)?;
            let dups: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)))
                .map_err(failed)?
                .collect::<Result<_, _>>()
                .map_err(failed)?;
            if !dups.is_empty() {
                let repeated: i64 = conn
                    .query_row(&format!("SELECT count({c}) - count(DISTINCT {c}) FROM {table}"), [], |r| r.get(0))
                    .map_err(failed)?;
                let examples: Vec<String> = dups.iter().map(|(v, n)| format!("'{v}' ×{n}")).collect();
                out.push(format!(
                    "column `{}` has {repeated} duplicate value(s), declared unique (e.g. {})",
                    rule.name,
                    examples.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

fn names(schema: &polars::prelude::Schema) -> String {
    let all: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
    if all.is_empty() {
        "no columns".to_string()
    } else {
        all.join(", ")
    }
}

/// An empty frame with the declared columns, when every declared type is a concrete one (for
/// planning what reads a task before it ever ran); None when a type leaves the layout open.
pub fn empty_frame(contract: &Contract) -> Option<polars::prelude::DataFrame> {
    use polars::prelude::{Column, TimeUnit};
    if contract.columns.is_empty() {
        return None;
    }
    let columns = contract
        .columns
        .iter()
        .map(|c| {
            let dtype = match c.dtype.as_str() {
                "str" => DataType::String,
                "bool" => DataType::Boolean,
                "int" | "i64" => DataType::Int64,
                "i8" => DataType::Int8,
                "i16" => DataType::Int16,
                "i32" => DataType::Int32,
                "u8" => DataType::UInt8,
                "u16" => DataType::UInt16,
                "u32" => DataType::UInt32,
                "u64" => DataType::UInt64,
                "float" | "f64" => DataType::Float64,
                "f32" => DataType::Float32,
                "date" => DataType::Date,
                "datetime" => DataType::Datetime(TimeUnit::Microseconds, None),
                "time" => DataType::Time,
                "duration" => DataType::Duration(TimeUnit::Microseconds),
                "binary" => DataType::Binary,
                _ => return None,
            };
            Some(Column::new_empty(c.name.as_str().into(), &dtype))
        })
        .collect::<Option<Vec<_>>>()?;
    polars::prelude::DataFrame::new(0, columns).ok()
}

/// The error a broken contract fails its task with.
pub fn failure(task: &str, violations: Vec<String>) -> TaskError {
    TaskError::Contract { task: task.to_string(), violations }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_parse_with_aliases_and_flags_in_any_order() {
        let c = parse_column("id", "i64 not null unique").unwrap();
        assert_eq!((c.dtype.as_str(), c.not_null, c.unique), ("i64", true, true));
        let c = parse_column("name", "String unique not null").unwrap();
        assert_eq!((c.dtype.as_str(), c.not_null, c.unique), ("str", true, true));
        let c = parse_column("x", "not null").unwrap();
        assert_eq!((c.dtype.as_str(), c.not_null, c.unique), ("any", true, false));
        let c = parse_column("t", "timestamp").unwrap();
        assert_eq!(c.dtype, "datetime");
        let e = parse_column("x", "int64").unwrap_err();
        assert!(e.contains("unknown type `int64`") && e.contains("i64"), "{e}");
        let e = parse_column("x", "str nullable").unwrap_err();
        assert!(e.contains("`nullable`"), "{e}");
    }

    #[test]
    fn types_match_families_and_exact_widths() {
        assert!(type_matches("int", &DataType::Int32));
        assert!(!type_matches("i64", &DataType::Int32));
        assert!(type_matches("float", &DataType::Float32));
        assert!(type_matches("str", &DataType::String));
        assert!(!type_matches("str", &DataType::Int64));
        assert!(type_matches("f64", &DataType::Null));
    }
}
