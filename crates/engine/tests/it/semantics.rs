//! Polars against DuckDB, construct by construct: every query `auto` would run on Polars must give
//! DuckDB's answer there, and every construct known to differ must keep `auto` on DuckDB.

use std::collections::BTreeMap;
use std::path::Path;

use polder_engine::polars_sql::analyze;
use polder_engine::spec::SqlEngine;
use polder_engine::tasks::{frame::sink_parquet, sql::polars_plan, Input};
use serde_json::{Map, Value};

/// Two small tables with NULLs, negatives, halves, decimals and dates.
fn fixture(dir: &Path) -> BTreeMap<String, Input> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let t = dir.join("t.parquet");
    let u = dir.join("u.parquet");
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM (VALUES
            (1, 5, 2, 'x', 1.5, 10.25::DECIMAL(15,2), 0.05::DECIMAL(15,2), DATE '2024-01-31', 2000000000::INTEGER),
            (2, NULL, 2, 'y', 2.5, 3.10::DECIMAL(15,2), 0.07::DECIMAL(15,2), DATE '2024-02-29', 2000000000::INTEGER),
            (3, 1, 0, NULL, NULL, 7.77::DECIMAL(15,2), 0.10::DECIMAL(15,2), NULL, -7::INTEGER),
            (4, 3, 2, 'Z', -0.5, 1.01::DECIMAL(15,2), 0.00::DECIMAL(15,2), DATE '2023-12-01', 2000000000::INTEGER),
            (5, -2, 3, 'é', 0.125, 99999.99::DECIMAL(15,2), 0.04::DECIMAL(15,2), DATE '2024-03-03', 3::INTEGER))
          AS v(id, a, b, s, d, p, disc, dt, big)) TO '{}' (FORMAT parquet);
         COPY (SELECT *, CAST(d AS DOUBLE) AS f FROM '{}') TO '{}' (FORMAT parquet);
         COPY (SELECT * FROM (VALUES (1, 'one', 10), (2, 'two', 20), (2, 'deux', 21), (5, 'five', 50), (NULL, 'none', 0))
          AS v(id, name, w)) TO '{}' (FORMAT parquet);",
        dir.join("t0.parquet").display(),
        dir.join("t0.parquet").display(),
        t.display(),
        u.display()
    ))
    .unwrap();
    BTreeMap::from([("t".to_string(), Input::Artifact(t)), ("u".to_string(), Input::Artifact(u))])
}

/// Queries whose every construct `auto` runs on Polars: the answers must be DuckDB's.
const SAME: &[&str] = &[
    "SELECT id, a FROM t ORDER BY a, id",
    "SELECT id, a FROM t ORDER BY a DESC, id",
    "SELECT id, s FROM t ORDER BY s DESC, id",
    "SELECT a / b AS q FROM t ORDER BY id",
    "SELECT sum(p * disc) AS x FROM t",
    "SELECT sum(p * (1 - disc) * (1 + disc)) AS x FROM t",
    "SELECT avg(p) AS x, avg(disc) AS y, avg(a) AS z FROM t",
    "SELECT sum(p) / sum(disc) AS x FROM t",
    "SELECT sum(p) / count(*) AS x FROM t",
    "SELECT id, p / 3 AS x FROM t ORDER BY id",
    "SELECT id, p * 2 AS x, p + 1 AS y, p * 1.5 AS z, p - disc AS w FROM t ORDER BY id",
    // 32-bit sums overflow on Polars unless widened (DuckDB sums into 128 bits). Where DuckDB
    // refuses a 32-bit product that overflows, Polars (widened) computes it in 64 bits.
    "SELECT sum(big) AS s, sum(big) * 2 AS s2 FROM t",
    "SELECT id, big * 3 AS x FROM t WHERE big < 1000 ORDER BY id",
    "SELECT count(DISTINCT s) AS c, count(s) AS n, count(*) AS m FROM t",
    "SELECT 'a' < 'B' AS x",
    "SELECT id FROM t WHERE s LIKE 'z%' OR s LIKE '_' ORDER BY id",
    "SELECT id FROM t WHERE s NOT LIKE 'x%' ORDER BY id",
    "SELECT id FROM t WHERE s ILIKE 'z' ORDER BY id",
    "SELECT id, a || s AS c FROM t ORDER BY id",
    "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t RIGHT JOIN u ON t.id = u.id ORDER BY u.name",
    "SELECT t.id AS tid, u.id AS uid, u.name FROM t FULL JOIN u ON t.id = u.id ORDER BY u.name, t.id",
    "SELECT t.id, u.name FROM t JOIN u ON t.id = u.id AND u.w > 15 ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t JOIN u ON t.id = u.id AND u.w > t.a ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t, u WHERE t.id = u.id ORDER BY t.id, u.name",
    "SELECT count(*) AS n FROM t, u",
    "SELECT t.id FROM t LEFT JOIN u ON t.id = u.id WHERE u.id IS NULL ORDER BY t.id",
    "SELECT id FROM t WHERE id IN (SELECT id FROM u) ORDER BY id",
    "SELECT id FROM t WHERE id NOT IN (SELECT id FROM u WHERE id IS NOT NULL) ORDER BY id",
    "SELECT id FROM t WHERE id NOT IN (SELECT id FROM u) ORDER BY id",
    "SELECT id FROM t WHERE a NOT IN (1, 3) ORDER BY id",
    "SELECT count(*) AS n FROM t WHERE a NOT IN (1, NULL)",
    "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id) ORDER BY id",
    "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.w <> 21) ORDER BY id",
    "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.w > 15) ORDER BY id",
    "SELECT s, count(*) AS n FROM t GROUP BY s ORDER BY s",
    "SELECT s, count(*) AS n FROM t GROUP BY s ORDER BY s NULLS FIRST",
    "SELECT b, sum(a) AS sa, min(s) AS ms, max(dt) AS md FROM t GROUP BY b HAVING count(*) > 1 ORDER BY b",
    "SELECT extract(year FROM dt) AS y, extract(month FROM dt) AS m, extract(day FROM dt) AS d, extract(quarter FROM dt) AS q FROM t ORDER BY id",
    "SELECT substring(s, 1, 1) AS x, upper(s) AS u, lower(s) AS l FROM t ORDER BY id",
    "SELECT CASE WHEN a > 2 THEN 'big' WHEN a IS NULL THEN 'none' ELSE 'small' END AS c FROM t ORDER BY id",
    "SELECT coalesce(a, 0) + 1 AS c FROM t ORDER BY id",
    "SELECT sum(a) AS x FROM t WHERE id > 100",
    "SELECT CAST(d AS DOUBLE) AS x, CAST(id AS VARCHAR) AS y, CAST('2024-05-06' AS DATE) AS z FROM t ORDER BY id",
    "SELECT DISTINCT b FROM t ORDER BY b",
    "SELECT id FROM t UNION SELECT id FROM u ORDER BY id",
    "SELECT id FROM t UNION ALL SELECT id FROM u ORDER BY id",
    "SELECT id FROM t EXCEPT SELECT id FROM u ORDER BY id",
    "SELECT id FROM t INTERSECT SELECT id FROM u ORDER BY id",
    "SELECT id FROM t ORDER BY id LIMIT 2 OFFSET 1",
    "SELECT 10 / 4 AS x, 10.0 / 4 AS y, 0.1 + 0.2 AS z",
    "SELECT id FROM t WHERE dt BETWEEN DATE '2024-01-01' AND DATE '2024-02-29' ORDER BY id",
    "SELECT x.id FROM (SELECT id FROM t WHERE a > 1) AS x ORDER BY x.id",
    "WITH c AS (SELECT id, a FROM t) SELECT sum(a) AS s FROM c",
    "SELECT id, a FROM t ORDER BY 2 DESC, 1",
    "SELECT abs(a) AS x, -a AS y FROM t ORDER BY id",
    "SELECT id FROM t WHERE s = 'x' OR a IS NULL OR NOT (b = 2) ORDER BY id",
    "SELECT b, sum(p * disc) AS rev, avg(p) AS ap FROM t GROUP BY b ORDER BY rev DESC",
    "SELECT id FROM t WHERE dt > '2024-01-15' ORDER BY id",
    "SELECT CASE b WHEN 2 THEN 'two' ELSE 'other' END AS c FROM t ORDER BY id",
    "SELECT id FROM t WHERE s IN ('x', 'Z') ORDER BY id",
    "SELECT id, -d AS n, d * 2 AS m, a / 0 AS z FROM t ORDER BY id",
    "SELECT max(p) - min(p) AS spread, sum(d) AS sd, avg(d) AS ad FROM t",
    "SELECT count(*) AS n FROM t WHERE s IS NULL",
    "SELECT id, coalesce(s, 'none') AS s2 FROM t ORDER BY id",
    "SELECT a, count(*) AS n FROM t GROUP BY a ORDER BY a DESC",
    "SELECT substring(s, 2) AS x FROM t ORDER BY id",
    "SELECT id FROM t WHERE NOT s LIKE 'x%' ORDER BY id",
    "SELECT min(s) AS lo, max(s) AS hi FROM t",
    "SELECT id, p FROM t ORDER BY p DESC LIMIT 2",
    "SELECT DISTINCT s FROM t ORDER BY s",
    "SELECT a + b * 2 - 1 AS x FROM t ORDER BY id",
    "SELECT id FROM t WHERE a BETWEEN 1 AND 3 ORDER BY id",
    "SELECT t.id, count(u.id) AS n FROM t LEFT JOIN u ON t.id = u.id GROUP BY t.id ORDER BY t.id",
    "SELECT u.id, u.name FROM u JOIN t USING (id) ORDER BY u.name",
    "SELECT sum(CASE WHEN s LIKE 'x%' THEN p ELSE 0 END) AS x FROM t",
    "SELECT 100.00 * sum(CASE WHEN b = 2 THEN p * (1 - disc) ELSE 0 END) / sum(p * (1 - disc)) AS pct FROM t",
    "SELECT extract(year FROM dt) AS y, sum(p) AS s FROM t GROUP BY extract(year FROM dt) ORDER BY y",
    "SELECT b, count(DISTINCT a) AS n FROM t GROUP BY b ORDER BY b",
    "SELECT id FROM t WHERE (a > 1 AND b = 2) OR (s = 'y' AND d > 2) ORDER BY id",
    "SELECT x.b, x.n FROM (SELECT b, count(*) AS n FROM t GROUP BY b) AS x WHERE x.n > 1",
    "SELECT id, a FROM t WHERE a IS NOT NULL ORDER BY a DESC LIMIT 1",
    "SELECT sum(p) AS s, count(p) AS c FROM t WHERE disc > 0.06",
    "SELECT id FROM t WHERE p > 5 ORDER BY id",
    "SELECT id FROM t WHERE p * disc > 0.3 ORDER BY id",
    "SELECT sum(f) AS s, avg(f) AS m, min(f) AS lo, max(f) AS hi FROM t",
    "SELECT id, f * 3 AS x, f / 2 AS y, f - a AS z FROM t ORDER BY id",
    "SELECT id FROM t WHERE f > 0.2 ORDER BY f DESC",
];

/// Queries with a construct Polars answers differently (or refuses): `auto` must keep them on DuckDB.
const CAUGHT: &[&str] = &[
    "SELECT round(d) AS r FROM t ORDER BY id",
    "SELECT t.id, u.name FROM t JOIN u ON t.id < u.id ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t CROSS JOIN u WHERE t.id < u.id ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t, u WHERE t.id < u.id ORDER BY t.id, u.name",
    "SELECT round(2.5) AS r",
    "SELECT id, round(f) AS r FROM t ORDER BY id",
    "SELECT id, CAST(f AS INTEGER) AS i FROM t ORDER BY id",
    "SELECT -7 % 3 AS m",
    "SELECT CAST(2.7 AS INT) AS c",
    "SELECT CAST(d AS BIGINT) AS c FROM t",
    "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id AND u.name <> 'deux' ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id AND u.w > 15 ORDER BY t.id, u.name",
    "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id AND u.name NOT LIKE 'd%' ORDER BY t.id",
    "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.w > t.a) ORDER BY id",
    "SELECT id FROM t WHERE a > (SELECT avg(a) FROM t) ORDER BY id",
    "SELECT id, (SELECT max(w) FROM u) AS m FROM t ORDER BY id",
    "SELECT id, row_number() OVER (ORDER BY a) AS rn FROM t ORDER BY id",
    "SELECT id, rank() OVER (PARTITION BY b ORDER BY a DESC) AS rk FROM t ORDER BY id",
    "SELECT id, sum(a) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS rs FROM t ORDER BY id",
    "SELECT id, ntile(2) OVER (ORDER BY id) AS n FROM t ORDER BY id",
    "SELECT extract(dow FROM dt) AS w FROM t ORDER BY id",
    "SELECT EXTRACT(epoch FROM dt) AS e FROM t ORDER BY id",
    "SELECT dt + INTERVAL '1 month' AS m FROM t ORDER BY id",
    "SELECT date_trunc('month', dt) AS m FROM t ORDER BY id",
    "SELECT length(s) AS l FROM t ORDER BY id",
    "SELECT b, string_agg(s, ',') AS l FROM t GROUP BY b ORDER BY b",
    "SELECT stddev(d) AS x FROM t",
    "SELECT t.id FROM t, u WHERE t.id = u.id AND t.id IN (SELECT id FROM u WHERE w > 15)",
];

fn run_polars(sql: &str, inputs: &BTreeMap<String, Input>, out: &Path) -> Result<Vec<Map<String, Value>>, String> {
    let lf = polars_plan(sql, inputs)?;
    polder_engine::executor::guarded(|| sink_parquet(lf, out).map_err(|e| polder_engine::tasks::TaskError::Data(e.to_string())))
        .map_err(|e| e.to_string())?;
    polder_engine::inspect::head_json(out, 1000).map_err(|e| e.to_string())
}

fn run_duckdb(sql: &str, inputs: &BTreeMap<String, Input>, out: &Path) -> Vec<Map<String, Value>> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    for (name, input) in inputs {
        let Input::Artifact(p) = input else { unreachable!() };
        conn.execute_batch(&format!("CREATE VIEW {name} AS SELECT * FROM read_parquet('{}')", p.display())).unwrap();
    }
    conn.execute_batch(&format!("COPY ({sql}) TO '{}' (FORMAT parquet)", out.display())).unwrap_or_else(|e| panic!("{sql}: {e}"));
    polder_engine::inspect::head_json(out, 1000).unwrap()
}

/// Whether two cells hold the same value: numbers (and decimals, which read back as text) to 1e-9
/// relative, everything else exactly.
fn same_cell(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

fn same_rows(a: &[Map<String, Value>], b: &[Map<String, Value>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.len() == y.len() && x.values().zip(y.values()).all(|(p, q)| same_cell(p, q)))
}

#[test]
fn every_query_auto_runs_on_polars_gives_duckdbs_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = fixture(tmp.path());
    let mut wrong = Vec::new();
    for (i, sql) in SAME.iter().enumerate() {
        let stmts = polder_engine::sqlrefs::parse(sql, SqlEngine::Polars).unwrap();
        let a = analyze(&stmts);
        assert!(a.polars_ok(), "{sql}: expected no findings, got {:?}", a.findings);
        let reference = run_duckdb(sql, &inputs, &tmp.path().join(format!("d{i}.parquet")));
        match run_polars(sql, &inputs, &tmp.path().join(format!("p{i}.parquet"))) {
            Ok(rows) if same_rows(&rows, &reference) => {}
            Ok(rows) => wrong.push(format!("{sql}\n  polars: {rows:?}\n  duckdb: {reference:?}")),
            Err(e) => wrong.push(format!("{sql}\n  polars failed: {e}")),
        }
    }
    assert!(wrong.is_empty(), "Polars answers differ from DuckDB's:\n{}", wrong.join("\n"));
}

#[test]
fn every_construct_polars_answers_differently_keeps_auto_on_duckdb() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = fixture(tmp.path());
    let mut differing = 0;
    for (i, sql) in CAUGHT.iter().enumerate() {
        let stmts = polder_engine::sqlrefs::parse(sql, SqlEngine::Polars).unwrap();
        let a = analyze(&stmts);
        assert!(!a.polars_ok(), "{sql}: auto would run this on Polars");
        // Keep the list honest: most of these really differ or fail on Polars.
        let reference = run_duckdb(sql, &inputs, &tmp.path().join(format!("d{i}.parquet")));
        match run_polars(sql, &inputs, &tmp.path().join(format!("p{i}.parquet"))) {
            Ok(rows) if same_rows(&rows, &reference) => {}
            _ => differing += 1,
        }
    }
    assert!(differing >= CAUGHT.len() * 2 / 3, "only {differing} of {} caught queries differ on Polars", CAUGHT.len());
}
