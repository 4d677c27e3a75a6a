//! PROBE (temporary): Polars SQL vs DuckDB on small queries.

use std::collections::BTreeMap;

use polder_engine::tasks::{frame::sink_parquet, sql::polars_plan, Input};

fn fixture(dir: &std::path::Path) -> BTreeMap<String, Input> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let t = dir.join("t.parquet");
    let u = dir.join("u.parquet");
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM (VALUES (1, 5, 2, 'x', 1.5, 10.25::DECIMAL(15,2), 0.05::DECIMAL(15,2), DATE '2024-01-31'),
                                     (2, NULL, 2, 'y', 2.5, 3.10::DECIMAL(15,2), 0.07::DECIMAL(15,2), DATE '2024-02-29'),
                                     (3, 1, 0, NULL, NULL, 7.77::DECIMAL(15,2), 0.10::DECIMAL(15,2), NULL),
                                     (4, 3, 2, 'Z', -0.5, 1.01::DECIMAL(15,2), 0.00::DECIMAL(15,2), DATE '2023-12-01'))
               AS v(id, a, b, s, d, p, disc, dt)) TO '{}' (FORMAT parquet);
         COPY (SELECT * FROM (VALUES (1, 'one', 10), (2, 'two', 20), (2, 'deux', 21), (5, 'five', 50)) AS v(id, name, w)) TO '{}' (FORMAT parquet);",
        t.display(), u.display()
    ))
    .unwrap();
    BTreeMap::from([("t".to_string(), Input::Artifact(t)), ("u".to_string(), Input::Artifact(u))])
}

#[test]
fn probe() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = fixture(tmp.path());
    let queries = [
        "SELECT a / b AS q FROM t ORDER BY id",
        "SELECT a FROM t ORDER BY a",
        "SELECT a FROM t ORDER BY a DESC",
        "SELECT round(d) AS r FROM t ORDER BY id",
        "SELECT round(2.5) AS r, round(-2.5) AS r2, round(0.125, 2) AS r3",
        "SELECT count(DISTINCT s) AS c FROM t",
        "SELECT 7 % 3 AS m, -7 % 3 AS m2",
        "SELECT CAST(2.7 AS INT) AS c",
        "SELECT 'a' < 'B' AS x",
        "SELECT 1 / 0 AS z",
        "SELECT avg(a) AS x FROM t",
        "SELECT sum(p * disc) AS x FROM t",
        "SELECT sum(p * (1 - disc)) AS x FROM t",
        "SELECT avg(p) AS x, avg(disc) AS y FROM t",
        "SELECT sum(p) / sum(disc) AS x FROM t",
        "SELECT sum(p) / count(*) AS x FROM t",
        "SELECT p / 3 AS x FROM t ORDER BY id",
        "SELECT a || s AS c FROM t ORDER BY id",
        "SELECT id FROM t WHERE s LIKE 'z%' ORDER BY id",
        "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id AND u.name <> 'deux' ORDER BY t.id, u.name",
        "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id AND u.w > 15 ORDER BY t.id, u.name",
        "SELECT t.id, u.name FROM t LEFT JOIN u ON t.id = u.id AND u.name NOT LIKE 'd%' ORDER BY t.id, u.name",
        "SELECT t.id, u.name FROM t JOIN u ON t.id < u.id ORDER BY t.id, u.name",
        "SELECT t.id, u.name FROM t, u WHERE t.id = u.id ORDER BY t.id, u.name",
        "SELECT id FROM t WHERE id IN (SELECT id FROM u) ORDER BY id",
        "SELECT id FROM t WHERE id NOT IN (SELECT a FROM t) ORDER BY id",
        "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id) ORDER BY id",
        "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.w > t.a) ORDER BY id",
        "SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = t.id AND u.w <> 21) ORDER BY id",
        "SELECT id FROM t WHERE a > (SELECT avg(a) FROM t) ORDER BY id",
        "SELECT id, (SELECT max(w) FROM u) AS m FROM t ORDER BY id",
        "SELECT id, (SELECT max(w) FROM u WHERE u.id = t.id) AS m FROM t ORDER BY id",
        "SELECT s, count(*) AS n FROM t GROUP BY s ORDER BY s",
        "SELECT s, count(*) AS n FROM t GROUP BY s ORDER BY s NULLS FIRST",
        "SELECT id, row_number() OVER (ORDER BY a) AS rn FROM t ORDER BY id",
        "SELECT id, rank() OVER (PARTITION BY b ORDER BY a DESC) AS rk FROM t ORDER BY id",
        "SELECT id, sum(a) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS rs FROM t ORDER BY id",
        "SELECT id, ntile(2) OVER (ORDER BY id) AS n FROM t ORDER BY id",
        "SELECT extract(year FROM dt) AS y, extract(dow FROM dt) AS w FROM t ORDER BY id",
        "SELECT dt + INTERVAL '1 month' AS m FROM t ORDER BY id",
        "SELECT date_trunc('month', dt) AS m FROM t ORDER BY id",
        "SELECT substring(s, 1, 1) AS x, upper(s) AS u, length(s) AS l FROM t ORDER BY id",
        "SELECT CASE WHEN a > 2 THEN 'big' WHEN a IS NULL THEN 'none' ELSE 'small' END AS c FROM t ORDER BY id",
        "SELECT coalesce(a, 0) + 1 AS c, nullif(b, 0) AS n FROM t ORDER BY id",
        "SELECT sum(a) AS x FROM t WHERE id > 100",
        "SELECT count(a) AS x, count(*) AS y FROM t",
        "SELECT CAST(d AS INT) AS c FROM t ORDER BY id",
        "SELECT 2147483647 + 1 AS x",
        "SELECT CAST(id AS INTEGER) * 2000000000 AS x FROM t ORDER BY id",
        "SELECT id FROM t ORDER BY s",
        "SELECT DISTINCT b FROM t ORDER BY b",
        "SELECT b, string_agg(s, ',') AS l FROM t GROUP BY b ORDER BY b",
        "SELECT id FROM t WHERE s = 'x' OR a IS NULL ORDER BY id",
        "SELECT id FROM t UNION SELECT id FROM u ORDER BY id",
        "SELECT id FROM t EXCEPT SELECT id FROM u ORDER BY id",
        "SELECT id FROM t INTERSECT SELECT id FROM u ORDER BY id",
        "SELECT id FROM t ORDER BY id LIMIT 2 OFFSET 1",
        "SELECT 10 / 4 AS x, 10.0 / 4 AS y, 10 // 4 AS z",
        "SELECT stddev(d) AS x, variance(d) AS v, median(d) AS m FROM t",
        "SELECT id, lag(a) OVER (ORDER BY id) AS l FROM t ORDER BY id",
        "SELECT b, count(*) FROM t GROUP BY b HAVING count(*) > 1 ORDER BY b",
        "SELECT 0.1 + 0.2 AS x",
        "SELECT p * 2 AS x, p + 1 AS y, p * 1.5 AS z FROM t ORDER BY id",
        "SELECT greatest(a, b) AS g, least(a, b) AS l FROM t ORDER BY id",
        "SELECT id FROM t WHERE dt BETWEEN DATE '2024-01-01' AND DATE '2024-12-31' ORDER BY id",
        "SELECT count(*) AS n FROM t, u",
        "SELECT t.id FROM t LEFT JOIN u ON t.id = u.id WHERE u.id IS NULL ORDER BY t.id",
        "SELECT t.id, u.name FROM t FULL JOIN u ON t.id = u.id ORDER BY t.id, u.name",
        "SELECT u.id, u.name FROM t RIGHT JOIN u ON t.id = u.id ORDER BY u.id, u.name",
        "SELECT x.id FROM (SELECT id FROM t WHERE a > 1) AS x ORDER BY x.id",
        "WITH c AS (SELECT id, a FROM t) SELECT sum(a) AS s FROM c",
        "SELECT id, a FROM t ORDER BY 2 DESC, 1",
        "SELECT regexp_matches(s, '^[a-z]$') AS m FROM t ORDER BY id",
        "SELECT id FROM t WHERE s ILIKE 'z' ORDER BY id",
        "SELECT trim('  x ') AS x, lower('AB') AS y, replace('abc', 'b', 'B') AS z",
        "SELECT strftime(dt, '%Y') AS y FROM t ORDER BY id",
        "SELECT EXTRACT(epoch FROM dt) AS e FROM t ORDER BY id",
        "SELECT count(*) AS n FROM t WHERE a NOT IN (1, NULL)",
        "SELECT abs(-3) AS a, sqrt(16) AS s, power(2, 10) AS p, floor(-1.5) AS f, ceil(1.2) AS c",
    ];
    for q in queries {
        let polars = polars_plan(q, &inputs).and_then(|lf| lf.collect().map_err(|e| e.to_string()));
        let p = match polars {
            Ok(df) => format!("{df}").lines().filter(|l| !l.starts_with('╞') && !l.starts_with('┌') && !l.starts_with('└') && !l.starts_with("shape")).collect::<Vec<_>>().join(" "),
            Err(e) => format!("ERR {}", e.lines().next().unwrap_or("")),
        };
        let conn = duckdb::Connection::open_in_memory().unwrap();
        for (name, i) in &inputs {
            if let Input::Artifact(path) = i {
                conn.execute_batch(&format!("CREATE VIEW {name} AS SELECT * FROM read_parquet('{}')", path.display())).unwrap();
            }
        }
        let d = match conn.prepare(&format!("SELECT * FROM ({q})")).and_then(|mut st| {
            let rows = st.query_map([], |r| {
                let n = r.as_ref().column_count();
                Ok((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join(","))
            })?;
            rows.collect::<Result<Vec<_>, _>>()
        }) {
            Ok(rows) => rows.join(" | "),
            Err(e) => format!("ERR {}", e.to_string().lines().next().unwrap_or("")),
        };
        let _ = sink_parquet;
        println!("Q {q}\n   P {p}\n   D {d}");
    }
}
