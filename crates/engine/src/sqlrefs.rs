//! Reads the table names a SQL query uses, to derive task dependencies.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, ObjectName, ObjectNamePart, Query, Statement, TableFactor, Value, Visit, Visitor,
};
use sqlparser::dialect::{Dialect, DuckDbDialect, GenericDialect};
use sqlparser::parser::Parser;

use crate::spec::SqlEngine;

/// A SQL syntax error with its 1-based position inside the SQL text, when the parser gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlSyntaxError {
    /// The parser's message, without the position suffix.
    pub message: String,
    /// Line and column inside the SQL text.
    pub position: Option<(usize, usize)>,
}

/// Parses `sql` in the dialect of `engine`.
pub fn parse(sql: &str, engine: SqlEngine) -> Result<Vec<Statement>, SqlSyntaxError> {
    Parser::parse_sql(dialect(engine), sql).map_err(|e| split_position(&e.to_string()))
}

/// The sqlparser dialect closest to `engine`'s own parser.
pub fn dialect(engine: SqlEngine) -> &'static dyn Dialect {
    static GENERIC: GenericDialect = GenericDialect {};
    static DUCKDB: DuckDbDialect = DuckDbDialect {};
    match engine {
        SqlEngine::Polars => &GENERIC,
        SqlEngine::DuckDb => &DUCKDB,
    }
}

/// The one-part table names `statements` read, excluding CTE names and table functions,
/// lower-cased (SQL identifiers are case-insensitive unless quoted), sorted.
pub fn table_refs(statements: &[Statement]) -> BTreeSet<String> {
    let mut v = RefCollector::default();
    for s in statements {
        let _ = s.visit(&mut v);
    }
    v.found
}

#[derive(Default)]
struct RefCollector {
    /// CTE names in scope, one frame per query nesting level.
    ctes: Vec<Vec<String>>,
    skip_next_relation: bool,
    found: BTreeSet<String>,
}

impl Visitor for RefCollector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let names = query
            .with
            .as_ref()
            .map(|w| w.cte_tables.iter().map(|c| c.alias.name.value.to_lowercase()).collect())
            .unwrap_or_default();
        self.ctes.push(names);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.ctes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        // `read_parquet('x')` parses as a table with arguments: a function, not a dependency.
        if let TableFactor::Table { args: Some(_), .. } = factor {
            self.skip_next_relation = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        if std::mem::take(&mut self.skip_next_relation) {
            return ControlFlow::Continue(());
        }
        if let [ObjectNamePart::Identifier(ident)] = relation.0.as_slice() {
            let name = ident.value.to_lowercase();
            if !self.ctes.iter().any(|frame| frame.contains(&name)) {
                self.found.insert(name);
            }
        }
        ControlFlow::Continue(())
    }
}

/// A table function a query calls in `FROM` (`read_parquet('x.parquet')`), with its first
/// argument when that is a string literal (the file it reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFunction {
    /// The function's name, lower-cased.
    pub name: String,
    /// The first argument, if a string literal.
    pub path: Option<String>,
}

/// Every table function `statements` call in `FROM`.
pub fn table_functions(statements: &[Statement]) -> Vec<TableFunction> {
    struct Collector(Vec<TableFunction>);
    impl Visitor for Collector {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, args: Some(args), .. } = factor {
                let path = args.args.first().and_then(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
                        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                });
                self.0.push(TableFunction { name: name.to_string().to_lowercase(), path });
            }
            ControlFlow::Continue(())
        }
    }
    let mut c = Collector(Vec::new());
    for s in statements {
        let _ = s.visit(&mut c);
    }
    c.0
}

/// Splits sqlparser's "… at Line: 3, Column: 7" suffix off a message.
fn split_position(msg: &str) -> SqlSyntaxError {
    let msg = msg.strip_prefix("sql parser error: ").unwrap_or(msg);
    if let Some(i) = msg.rfind(" at Line: ") {
        let tail = &msg[i + " at Line: ".len()..];
        let mut parts = tail.splitn(2, ", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse().ok());
        let col = parts.next().and_then(|c| c.trim().parse().ok());
        if let (Some(line), Some(col)) = (line, col) {
            return SqlSyntaxError { message: msg[..i].to_string(), position: Some((line, col)) };
        }
    }
    SqlSyntaxError { message: msg.to_string(), position: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(sql: &str) -> Vec<String> {
        table_refs(&parse(sql, SqlEngine::Polars).unwrap()).into_iter().collect()
    }

    #[test]
    fn finds_tables_in_joins_subqueries_and_unions() {
        let sql = "SELECT * FROM a JOIN B ON a.x = B.x WHERE a.y IN (SELECT y FROM c) UNION ALL SELECT * FROM d";
        assert_eq!(refs(sql), ["a", "b", "c", "d"]);
    }

    #[test]
    fn excludes_cte_names_and_table_functions() {
        let sql = "WITH t AS (SELECT * FROM bronze), u AS (SELECT * FROM t) \
                   SELECT * FROM u JOIN read_parquet('x.parquet') p ON u.id = p.id";
        assert_eq!(refs(sql), ["bronze"]);
    }

    #[test]
    fn finds_table_functions_and_their_literal_paths() {
        let stmts = parse("SELECT * FROM read_csv('/etc/passwd') JOIN t ON true JOIN READ_PARQUET(x) ON true", SqlEngine::Polars)
            .unwrap();
        let found = table_functions(&stmts);
        assert_eq!(
            found,
            [
                TableFunction { name: "read_csv".into(), path: Some("/etc/passwd".into()) },
                TableFunction { name: "read_parquet".into(), path: None }
            ]
        );
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse("SELECT a\nFROM t WHERE x = = 1", SqlEngine::DuckDb).unwrap_err();
        assert_eq!(err.position.map(|p| p.0), Some(2));
        assert!(!err.message.contains("Line:"), "{}", err.message);
    }
}
