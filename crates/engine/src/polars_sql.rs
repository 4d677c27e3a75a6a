//! Which SQL Polars answers exactly like DuckDB, and what Polder changes so that it does.
//!
//! DuckDB is the reference: its answers match the SQL standard and PostgreSQL closely, and
//! every Polder SQL task can run on it. Polars SQL is fast but differs in places, some loudly
//! (an error) and some silently (another number). [`analyze`] reads a parsed query and reports
//! each construct that is not known to give DuckDB's answer on Polars:
//! - [`Verdict::Differs`]: Polars runs it and gives a different answer (ROUND halves to even);
//! - [`Verdict::Unsupported`]: Polars refuses it (a scalar subquery);
//! - [`Verdict::Unverified`]: not in the list of constructs the differential tests compare;
//! - [`Verdict::Heavy`]: same answer, but Polars plans it as a cross product first.
//!
//! `engine = "auto"` runs a query on Polars only when it has no finding at all. `engine =
//! "polars"` refuses `Differs` and `Unsupported` at load time, with the position and the fix.
//! Two differences are fixed instead of reported: NULL ordering ([`rewrite_for_polars`] makes
//! DuckDB's NULLS LAST explicit) and narrow arithmetic ([`widen_inputs`] gives decimal inputs
//! enough scale for exact products and integer inputs 64 bits, where the query computes).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use polars::prelude::*;
use sqlparser::ast::{
    BinaryOperator, DataType, DateTimeField, Expr, FunctionArguments, GroupByExpr, JoinConstraint, JoinOperator, OrderByKind,
    Query, Select, SetExpr, SetOperator, SetQuantifier, Spanned, Statement, TableFactor, UnaryOperator, Value, Visit, VisitMut,
    Visitor, VisitorMut, WindowType,
};

/// How a construct fares on Polars compared with DuckDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Polars gives a different answer without an error.
    Differs,
    /// Polars SQL refuses it.
    Unsupported,
    /// Not among the constructs whose answers are compared with DuckDB's in Polder's tests.
    Unverified,
    /// Same answer, but Polars builds a cross product first and may run out of memory.
    Heavy,
}

/// One construct of a query and its verdict, with its place in the SQL text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// How it fares on Polars.
    pub verdict: Verdict,
    /// Line in the SQL text, from 1.
    pub line: usize,
    /// Column in the SQL text, from 1.
    pub col: usize,
    /// The construct, as written or named (`ROUND(…)`, `scalar subquery`).
    pub construct: String,
    /// What Polars does differently, and what to do.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at line {}, column {}: {}", self.construct, self.line, self.col, self.detail)
    }
}

/// What [`analyze`] found in a query.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Constructs not known to give DuckDB's answer on Polars, in text order.
    pub findings: Vec<Finding>,
    /// Whether the query does arithmetic or sums/averages (its inputs get widened on Polars).
    pub computes: bool,
}

impl Analysis {
    /// Whether `engine = "auto"` may run the query on Polars.
    pub fn polars_ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings that make `engine = "polars"` refuse the query.
    pub fn refusals(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| matches!(f.verdict, Verdict::Differs | Verdict::Unsupported))
    }
}

/// Reads `statements` (one query, parsed) for constructs that Polars would not answer as DuckDB does.
pub fn analyze(statements: &[Statement]) -> Analysis {
    let mut a = Analyzer::default();
    for s in statements {
        match s {
            Statement::Query(_) => {
                let _ = s.visit(&mut a);
            }
            other => a.note(Verdict::Unsupported, other, "a statement other than a query", "a SQL task is one SELECT query"),
        }
    }
    let mut findings = a.findings;
    findings.sort_by_key(|f| (f.line, f.col));
    findings.dedup();
    Analysis { findings, computes: a.computes }
}

#[derive(Default)]
struct Analyzer {
    findings: Vec<Finding>,
    computes: bool,
}

impl Analyzer {
    fn note(&mut self, verdict: Verdict, at: &impl Spanned, construct: impl Into<String>, detail: impl Into<String>) {
        let start = at.span().start;
        self.findings.push(Finding {
            verdict,
            line: (start.line as usize).max(1),
            col: (start.column as usize).max(1),
            construct: construct.into(),
            detail: detail.into(),
        });
    }

    fn unverified(&mut self, at: &impl Spanned, construct: impl Into<String>) {
        self.note(
            Verdict::Unverified,
            at,
            construct,
            "not among the constructs Polder has verified to give DuckDB's answer on Polars",
        );
    }

    fn check_select(&mut self, s: &Select) {
        if s.distinct.as_ref().is_some_and(|d| !matches!(d, sqlparser::ast::Distinct::Distinct | sqlparser::ast::Distinct::All)) {
            self.unverified(s, "SELECT DISTINCT ON");
        }
        if s.top.is_some() || s.qualify.is_some() || !s.named_window.is_empty() || !s.lateral_views.is_empty() {
            self.unverified(s, "TOP / QUALIFY / WINDOW / LATERAL VIEW");
        }
        if s.prewhere.is_some() || s.exclude.is_some() || !s.sort_by.is_empty() || !s.cluster_by.is_empty() {
            self.unverified(s, "a dialect-specific SELECT clause");
        }
        match &s.group_by {
            GroupByExpr::All(_) => self.unverified(s, "GROUP BY ALL"),
            GroupByExpr::Expressions(_, modifiers) if !modifiers.is_empty() => self.unverified(s, "GROUP BY … WITH ROLLUP/CUBE"),
            _ => {}
        }
        let subquery_filter = s.selection.as_ref().is_some_and(has_subquery_predicate);
        if s.from.len() > 1 && subquery_filter {
            self.note(
                Verdict::Heavy,
                &s.from[1].relation,
                "comma-separated tables with an IN/EXISTS subquery",
                "Polars applies the subquery before turning the WHERE conditions into joins, so it builds the cross product of the tables; write the joins as JOIN … ON",
            );
        }
        let cross = s.from.len() > 1
            || s.from.iter().any(|t| t.joins.iter().any(|j| matches!(j.join_operator, JoinOperator::CrossJoin(_))));
        if let (true, Some(w)) = (cross, &s.selection) {
            let parts = conjuncts(w);
            let across: Vec<&Expr> = parts
                .into_iter()
                .filter(
                    |c| matches!(c, Expr::BinaryOp { left, op, right } if is_comparison(op) && qualifiers_differ(left, right)),
                )
                .collect();
            let equi = across.iter().any(|c| is_equi(c));
            if let Some(c) = across.iter().find(|c| !is_equi(c)) {
                if !equi {
                    self.note(Verdict::Unsupported, *c, format!("join condition `{}`", short(c)), NON_EQUI);
                }
            }
        }
        for twj in &s.from {
            for join in &twj.joins {
                let (outer, constraint) = match &join.join_operator {
                    JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c) => (true, c),
                    JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => (false, c),
                    _ => {
                        self.unverified(&join.relation, "this kind of join");
                        continue;
                    }
                };
                match constraint {
                    JoinConstraint::On(on) => {
                        if !conjuncts(on).iter().any(|c| is_equi(c)) && !outer {
                            self.note(Verdict::Unsupported, on, format!("join condition `{}`", short(on)), NON_EQUI);
                            continue;
                        }
                        for c in conjuncts(on) {
                            let equi = matches!(c, Expr::BinaryOp { left, op: BinaryOperator::Eq, right } if is_column(left) && is_column(right));
                            if equi {
                                continue;
                            }
                            if outer {
                                self.note(
                                    Verdict::Differs,
                                    c,
                                    format!("outer join condition `{c}`"),
                                    "Polars applies a condition other than column = column in the ON of an outer join as a filter after the join, dropping the rows without a match; move it into a subquery on the joined table, or use engine = \"duckdb\"",
                                );
                            } else if !matches!(c, Expr::BinaryOp { op, .. } if is_comparison(op)) {
                                self.unverified(c, format!("join condition `{c}`"));
                            }
                        }
                    }
                    JoinConstraint::Using(_) | JoinConstraint::None => {}
                    JoinConstraint::Natural => self.unverified(&join.relation, "NATURAL JOIN"),
                }
            }
        }
    }

    fn check_set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(_) | SetExpr::Query(_) => {}
            SetExpr::SetOperation { op, set_quantifier, left, right } => {
                let ok = match op {
                    SetOperator::Union => true,
                    SetOperator::Except | SetOperator::Intersect => {
                        matches!(set_quantifier, SetQuantifier::None | SetQuantifier::Distinct)
                    }
                    _ => false,
                };
                if !ok {
                    self.unverified(body, format!("{op} {set_quantifier}"));
                }
                self.check_set_expr(left);
                self.check_set_expr(right);
            }
            other => self.unverified(other, "this query body (VALUES, TABLE, …)"),
        }
    }

    fn check_subquery(&mut self, q: &Query, exists: bool) {
        // Polars turns IN/EXISTS into semi/anti joins on `inner = outer` correlations; other
        // correlated conditions are refused.
        let SetExpr::Select(s) = q.body.as_ref() else { return };
        let local: BTreeSet<String> = s
            .from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
            .filter_map(relation_name)
            .collect();
        let Some(selection) = &s.selection else { return };
        for c in conjuncts(selection) {
            let outer_ref = references_outside(c, &local);
            if outer_ref && !matches!(c, Expr::BinaryOp { op: BinaryOperator::Eq, .. }) {
                self.note(
                    Verdict::Unsupported,
                    c,
                    format!("correlated condition `{c}`"),
                    format!(
                        "Polars SQL correlates {} subqueries with the outer query by `=` only; rewrite with a JOIN and GROUP BY, or use engine = \"duckdb\"",
                        if exists { "EXISTS" } else { "IN" }
                    ),
                );
            }
        }
    }

    fn check_function(&mut self, e: &Expr, f: &sqlparser::ast::Function) {
        let name = f.name.to_string().to_lowercase();
        if let Some(over) = &f.over {
            if matches!(name.as_str(), "rank" | "dense_rank" | "percent_rank" | "cume_dist") {
                self.note(
                    Verdict::Differs,
                    e,
                    format!("{}(…) OVER", name.to_uppercase()),
                    "Polars gives NULL order values a NULL rank, DuckDB ranks them last; use engine = \"duckdb\"",
                );
            } else if name == "ntile" {
                self.note(Verdict::Unsupported, e, "NTILE(…)", "Polars SQL has no NTILE; use engine = \"duckdb\"");
            } else {
                self.unverified(e, format!("window function {}(…)", name.to_uppercase()));
            }
            if let WindowType::WindowSpec(spec) = over {
                if spec.window_frame.is_some() {
                    self.unverified(e, "a window frame (ROWS/RANGE BETWEEN …)");
                }
            }
            return;
        }
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
            self.unverified(e, format!("{}(…) with FILTER/WITHIN GROUP", name.to_uppercase()));
            return;
        }
        if let FunctionArguments::List(list) = &f.args {
            if !list.clauses.is_empty() {
                self.unverified(e, format!("{}(… ORDER BY/LIMIT …)", name.to_uppercase()));
            }
        }
        match name.as_str() {
            "count" | "min" | "max" | "coalesce" | "upper" | "lower" | "abs" => {}
            "sum" | "avg" | "mean" => self.computes = true,
            "round" => self.note(
                Verdict::Differs,
                e,
                "ROUND(…)",
                "Polars rounds halves to even (ROUND(2.5) = 2), DuckDB away from zero (3); use engine = \"duckdb\"",
            ),
            other => self.unverified(e, format!("function {}(…)", other.to_uppercase())),
        }
    }
}

impl Visitor for Analyzer {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.check_set_expr(&q.body);
        if let Some(ob) = &q.order_by {
            if let OrderByKind::All(_) = ob.kind {
                self.unverified(q, "ORDER BY ALL");
            }
        }
        if q.fetch.is_some() || !q.locks.is_empty() || q.settings.is_some() || q.format_clause.is_some() {
            self.unverified(q, "FETCH / FOR UPDATE / SETTINGS / FORMAT");
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        self.check_select(s);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        match t {
            TableFactor::Table { args: None, with_hints, version: None, partitions, sample: None, .. }
                if with_hints.is_empty() && partitions.is_empty() => {}
            TableFactor::Table { name, .. } => self.unverified(t, format!("table function or table option on {name}")),
            TableFactor::Derived { lateral: false, .. } | TableFactor::NestedJoin { .. } => {}
            other => self.unverified(other, "this kind of FROM item"),
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Nested(_) => {}
            Expr::IsNull(_) | Expr::IsNotNull(_) | Expr::Between { .. } | Expr::InList { .. } => {}
            Expr::Case { .. } => {}
            Expr::Value(v) => match &v.value {
                Value::Number(..) | Value::SingleQuotedString(_) | Value::Boolean(_) | Value::Null => {}
                _ => self.unverified(e, format!("literal {e}")),
            },
            Expr::TypedString(ts) => {
                if !matches!(ts.data_type, DataType::Date) {
                    self.unverified(e, format!("literal {e}"));
                }
            }
            Expr::Like { any: false, escape_char: None, .. } | Expr::ILike { any: false, escape_char: None, .. } => {}
            Expr::UnaryOp { op, .. } => {
                if !matches!(op, UnaryOperator::Not | UnaryOperator::Minus | UnaryOperator::Plus) {
                    self.unverified(e, format!("operator {op}"));
                }
            }
            Expr::BinaryOp { op, .. } => match op {
                BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Multiply | BinaryOperator::Divide => {
                    self.computes = true
                }
                BinaryOperator::Modulo => self.note(
                    Verdict::Differs,
                    e,
                    format!("`{e}`"),
                    "Polars' % takes the sign of the divisor (-7 % 3 = 2), DuckDB's the sign of the dividend (-1); use engine = \"duckdb\"",
                ),
                BinaryOperator::And | BinaryOperator::Or | BinaryOperator::StringConcat => {}
                op if is_comparison(op) => {}
                op => self.unverified(e, format!("operator {op}")),
            },
            Expr::Cast { kind: sqlparser::ast::CastKind::Cast | sqlparser::ast::CastKind::DoubleColon, data_type, format: None, .. } => {
                let t = data_type.to_string().to_uppercase();
                let base = t.split(['(', ' ']).next().unwrap_or("");
                let exact = matches!(
                    base,
                    "VARCHAR" | "TEXT" | "STRING" | "CHAR" | "DOUBLE" | "FLOAT" | "FLOAT8" | "FLOAT4" | "REAL" | "DATE" | "BOOLEAN" | "BOOL"
                );
                if !exact {
                    // Fractional numbers cast to integers truncate on Polars and round on DuckDB.
                    self.unverified(e, format!("CAST(… AS {t})"));
                }
            }
            Expr::Extract { field, .. } => {
                if !matches!(field, DateTimeField::Year | DateTimeField::Month | DateTimeField::Day | DateTimeField::Quarter) {
                    self.unverified(e, format!("EXTRACT({field} FROM …)"));
                }
            }
            Expr::Substring { .. } => {}
            Expr::Function(f) => self.check_function(e, f),
            Expr::InSubquery { subquery, .. } => self.check_subquery(subquery, false),
            Expr::Exists { subquery, .. } => self.check_subquery(subquery, true),
            Expr::Subquery(_) => self.note(
                Verdict::Unsupported,
                e,
                "scalar subquery (SELECT …)",
                "Polars SQL supports subqueries only in IN and EXISTS; join the subquery's result instead (a one-row subquery joins with ON true), or use engine = \"duckdb\"",
            ),
            other => self.unverified(other, format!("`{}`", short(other))),
        }
        ControlFlow::Continue(())
    }
}

/// An expression as text, cut to a readable length.
fn short(e: &Expr) -> String {
    let text = e.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

const NON_EQUI: &str = "a join on conditions other than column = column makes Polars' streaming engine fail; add an equality between the tables, or use engine = \"duckdb\"";

/// `a.x = b.y` between two columns.
fn is_equi(e: &Expr) -> bool {
    matches!(e, Expr::BinaryOp { left, op: BinaryOperator::Eq, right } if is_column(left) && is_column(right))
}

/// Whether both sides are columns qualified by different tables.
fn qualifiers_differ(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::CompoundIdentifier(x), Expr::CompoundIdentifier(y)) if x.len() == 2 && y.len() == 2 => {
            x[0].value.to_lowercase() != y[0].value.to_lowercase()
        }
        _ => false,
    }
}

fn is_column(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// The AND-ed parts of a condition.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        Expr::Nested(inner) => match inner.as_ref() {
            Expr::BinaryOp { op: BinaryOperator::And, .. } => conjuncts(inner),
            _ => vec![e],
        },
        _ => vec![e],
    }
}

fn has_subquery_predicate(e: &Expr) -> bool {
    struct Finder(bool);
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if matches!(e, Expr::InSubquery { .. } | Expr::Exists { .. }) {
                self.0 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Finder(false);
    let _ = e.visit(&mut f);
    f.0
}

/// The name a FROM item is referred to by (its alias, else its last name part), lower-cased.
fn relation_name(t: &TableFactor) -> Option<String> {
    match t {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            Some(a.name.value.to_lowercase())
        }
        TableFactor::Table { name, .. } => name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase()),
        _ => None,
    }
}

/// Whether `e` names a column qualified by a table that is not in `local`.
fn references_outside(e: &Expr, local: &BTreeSet<String>) -> bool {
    struct Finder<'a>(&'a BTreeSet<String>, bool);
    impl Visitor for Finder<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = e {
                if parts.len() == 2 && !self.0.contains(&parts[0].value.to_lowercase()) {
                    self.1 = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Finder(local, false);
    let _ = e.visit(&mut f);
    f.1
}

/// `sql` with every ORDER BY item (query and window) that leaves NULL placement to the engine
/// made `NULLS LAST`, DuckDB's default; Polars puts NULLs first when sorting descending.
/// Returns the text unchanged when nothing needs it (so Polars' messages quote the user's SQL).
pub fn rewrite_for_polars(sql: &str, mut statements: Vec<Statement>) -> String {
    struct NullsLast(bool);
    impl NullsLast {
        fn fix(&mut self, items: &mut [sqlparser::ast::OrderByExpr]) {
            for o in items {
                if o.options.nulls_first.is_none() {
                    o.options.nulls_first = Some(false);
                    self.0 = true;
                }
            }
        }
    }
    impl VisitorMut for NullsLast {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            if let Some(ob) = &mut q.order_by {
                if let OrderByKind::Expressions(items) = &mut ob.kind {
                    self.fix(items);
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if let Expr::Function(f) = e {
                if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
                    self.fix(&mut spec.order_by);
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = NullsLast(false);
    for s in &mut statements {
        let _ = s.visit(&mut v);
    }
    if !v.0 {
        return sql.to_string();
    }
    statements.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(";\n")
}

/// The scale decimal inputs get on Polars when the query computes: exact for products of up
/// to six factors with two decimals, and 26 digits left before the point.
pub const WIDE_DECIMAL_SCALE: usize = 12;

/// `lf` with columns widened so that Polars' arithmetic keeps DuckDB's exact results:
/// Polars multiplies and divides decimals at the larger of the two scales (so 0.05 * 10.25 is
/// 0.51, not 0.5125), and sums and multiplies 32-bit integers in 32 bits, wrapping on overflow.
/// Decimals get [`WIDE_DECIMAL_SCALE`] (precision 38; an overflow is an error, never a wrong
/// number), integers of 32 bits or fewer become 64-bit.
pub fn widen_inputs(lf: LazyFrame, schema: &Schema) -> LazyFrame {
    let casts: Vec<polars::prelude::Expr> = schema
        .iter()
        .filter_map(|(name, dtype)| {
            let to = match dtype {
                DataType_::Decimal(_, scale) if *scale < WIDE_DECIMAL_SCALE => DataType_::Decimal(38, WIDE_DECIMAL_SCALE),
                DataType_::Int8
                | DataType_::Int16
                | DataType_::Int32
                | DataType_::UInt8
                | DataType_::UInt16
                | DataType_::UInt32 => DataType_::Int64,
                _ => return None,
            };
            Some(col(name.clone()).cast(to))
        })
        .collect();
    if casts.is_empty() {
        lf
    } else {
        lf.with_columns(casts)
    }
}

use polars::prelude::DataType as DataType_;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SqlEngine;

    fn findings(sql: &str) -> Vec<(Verdict, usize, usize, String)> {
        let stmts = crate::sqlrefs::parse(sql, SqlEngine::Polars).unwrap();
        analyze(&stmts).findings.into_iter().map(|f| (f.verdict, f.line, f.col, f.construct)).collect()
    }

    #[test]
    fn plain_analytics_sql_is_polars_ok() {
        let sql = "WITH x AS (SELECT a, b FROM t WHERE d BETWEEN DATE '2024-01-01' AND DATE '2024-12-31')\n\
                   SELECT a, sum(b * (1 - c)) AS s, count(DISTINCT b) AS n, avg(b) AS m,\n\
                          CASE WHEN a LIKE 'x%' THEN 1 ELSE 0 END AS k, extract(year FROM d) AS y\n\
                   FROM x JOIN u ON x.a = u.a LEFT JOIN v ON v.id = x.a, w\n\
                   WHERE a IN (1, 2) AND b IS NOT NULL AND EXISTS (SELECT 1 FROM z WHERE z.k = x.a AND z.q > 3)\n\
                   GROUP BY a HAVING count(*) > 1 ORDER BY s DESC LIMIT 10";
        let stmts = crate::sqlrefs::parse(sql, SqlEngine::Polars).unwrap();
        let a = analyze(&stmts);
        // The comma join plus EXISTS is the one finding: a memory risk, not a wrong answer.
        assert_eq!(a.findings.iter().map(|f| f.verdict).collect::<Vec<_>>(), vec![Verdict::Heavy], "{:?}", a.findings);
        assert!(a.computes);
    }

    #[test]
    fn silent_differences_are_found_with_their_position() {
        let f = findings("SELECT round(x, 2) AS r,\n  a % 3 AS m\nFROM t LEFT JOIN u ON t.id = u.id AND u.w > 15");
        assert_eq!(
            f,
            vec![
                (Verdict::Differs, 1, 8, "ROUND(…)".to_string()),
                (Verdict::Differs, 2, 3, "`a % 3`".to_string()),
                (Verdict::Differs, 3, 39, "outer join condition `u.w > 15`".to_string()),
            ]
        );
        let f = findings("SELECT id FROM t\nWHERE a > (SELECT avg(a) FROM t)");
        assert_eq!(f, vec![(Verdict::Unsupported, 2, 12, "scalar subquery (SELECT …)".to_string())]);
        let f = findings("SELECT 1 FROM l1 WHERE EXISTS (SELECT * FROM l2 WHERE l2.k = l1.k AND l2.s <> l1.s)");
        assert_eq!(f, vec![(Verdict::Unsupported, 1, 71, "correlated condition `l2.s <> l1.s`".to_string())]);
        let f = findings("SELECT rank() OVER (ORDER BY a) AS r, CAST(d AS INTEGER) AS i FROM t");
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), vec![Verdict::Differs, Verdict::Unverified]);
    }

    #[test]
    fn nulls_last_is_made_explicit_and_nothing_else_changes() {
        let sql = "SELECT a, row_number() OVER (ORDER BY b DESC) AS r FROM t ORDER BY a DESC, b NULLS FIRST";
        let stmts = crate::sqlrefs::parse(sql, SqlEngine::Polars).unwrap();
        assert_eq!(
            rewrite_for_polars(sql, stmts),
            "SELECT a, row_number() OVER (ORDER BY b DESC NULLS LAST) AS r FROM t ORDER BY a DESC NULLS LAST, b NULLS FIRST"
        );
        let sql = "SELECT a FROM t  -- no order\n";
        let stmts = crate::sqlrefs::parse(sql, SqlEngine::Polars).unwrap();
        assert_eq!(rewrite_for_polars(sql, stmts), sql);
    }
}
