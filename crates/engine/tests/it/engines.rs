//! Engine choice: `auto` routes per query, `polars` refuses what Polars answers differently,
//! and every SQL task is planned over its inputs' schemas before a run.

use polder_engine::spec::{SqlEngine, TaskKind};
use polder_engine::{RunOptions, TaskStatus};

use crate::common::{error, rows, status, Fixture};

const PRICES: &str = "[[task]]\nid = \"prices\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT * FROM (VALUES (10.25::DECIMAL(15,2), 0.05::DECIMAL(15,2)), (3.10::DECIMAL(15,2), 0.07::DECIMAL(15,2)), (7.77::DECIMAL(15,2), 0.10::DECIMAL(15,2))) AS v(price, disc)\"\n";

fn runs_on(p: &polder_engine::Pipeline, id: &str) -> (SqlEngine, Option<String>) {
    match &p.task(id).unwrap().kind {
        TaskKind::Sql(s) => (s.runs_on, s.route.clone()),
        _ => panic!("{id} is not a sql task"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_products_are_exact_on_polars_and_auto_uses_polars_only_where_needed() {
    let spec = format!(
        "[pipeline]\nname = \"eng\"\n\n{PRICES}\n[[task]]\nid = \"revenue\"\nkind = \"sql\"\nengine = \"polars\"\nsql = \"SELECT sum(price * disc) AS rev, sum(price * (1 - disc)) AS net FROM prices\"\n\n[[task]]\nid = \"auto_rev\"\nkind = \"sql\"\nsql = \"SELECT sum(price * disc) AS rev FROM prices\"\n\n[[task]]\nid = \"above\"\nkind = \"sql\"\nfile = \"above.sql\"\n\n[[task]]\nid = \"cheap\"\nkind = \"sql\"\nmaterialize = \"view\"\nsql = \"SELECT price, disc FROM prices WHERE price < 10\"\n\n[[task]]\nid = \"view_rev\"\nkind = \"sql\"\nsql = \"SELECT sum(price * disc) AS rev FROM cheap\"\n"
    );
    let fx = Fixture::new(
        &spec,
        &[("above.sql", "SELECT price\nFROM prices\nWHERE price > (SELECT avg(price) FROM prices)\nORDER BY price")],
    );
    let p = polder_engine::load(&fx.dir()).unwrap();
    // `auto` is DuckDB unless only Polars can run the task: a view, or a reader of one.
    assert_eq!(runs_on(&p, "auto_rev"), (SqlEngine::DuckDb, None));
    assert_eq!(runs_on(&p, "above"), (SqlEngine::DuckDb, None));
    assert_eq!(runs_on(&p, "cheap"), (SqlEngine::Polars, None));
    assert_eq!(runs_on(&p, "view_rev"), (SqlEngine::Polars, None));

    let run = fx.run(RunOptions::default()).await;
    for t in ["revenue", "auto_rev", "above", "view_rev"] {
        assert_eq!(status(&run, t), TaskStatus::Success, "{t}: {}", error(&run, t));
    }
    // 10.25*0.05 + 3.10*0.07 + 7.77*0.10 = 0.5125 + 0.217 + 0.777: Polars alone rounds each product to cents (1.51).
    let r = &rows(&run, "revenue")[0];
    let num = |v: &serde_json::Value| v.as_str().map(|s| s.parse::<f64>().unwrap()).or(v.as_f64()).unwrap();
    assert!((num(&r["rev"]) - 1.5065).abs() < 1e-12, "{r:?}");
    assert!((num(&r["net"]) - (21.12 - 1.5065)).abs() < 1e-12, "{r:?}");
    assert!((num(&rows(&run, "auto_rev")[0]["rev"]) - 1.5065).abs() < 1e-12);
    assert!((num(&rows(&run, "view_rev")[0]["rev"]) - (0.217 + 0.777)).abs() < 1e-12);
    let above: Vec<f64> = rows(&run, "above").iter().map(|r| num(&r["price"])).collect();
    assert_eq!(above, vec![7.77, 10.25]);
}

#[test]
fn a_view_reader_auto_cannot_run_on_polars_is_refused_with_the_reason() {
    let spec = format!(
        "[pipeline]\nname = \"eng\"\n\n{PRICES}\n[[task]]\nid = \"cheap\"\nkind = \"sql\"\nmaterialize = \"view\"\nsql = \"SELECT price FROM prices\"\n\n[[task]]\nid = \"r\"\nkind = \"sql\"\nsql = \"SELECT round(price, 1) AS p FROM cheap\"\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(err.contains("task 'r' reads 'cheap', which is materialize = \"view\"; only Polars SQL tasks and postgres or clickhouse sinks can read it (engine = \"auto\" keeps this query on DuckDB: ROUND(…) at line 1, column 8"), "{err}");
}

#[test]
fn engine_polars_refuses_a_query_polars_answers_differently_with_file_line_and_column() {
    let spec = format!(
        "[pipeline]\nname = \"eng\"\nengine = \"polars\"\n\n{PRICES}\n[[task]]\nid = \"rounded\"\nkind = \"sql\"\nfile = \"rounded.sql\"\n"
    );
    let fx = Fixture::new(&spec, &[("rounded.sql", "SELECT\n  round(price, 1) AS p\nFROM prices")]);
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(
        err.contains(
            "rounded.sql:2:3: task 'rounded' (engine = \"polars\"): Polars would answer differently from DuckDB: ROUND(…)"
        ),
        "{err}"
    );
    assert!(err.contains("engine = \"duckdb\"") && err.contains("engine = \"auto\""), "{err}");
}

#[test]
fn the_plan_check_reports_queries_that_cannot_run_before_any_run() {
    let spec = format!(
        "[pipeline]\nname = \"eng\"\n\n{PRICES}\n[[task]]\nid = \"pol\"\nkind = \"sql\"\nengine = \"polars\"\nfile = \"pol.sql\"\n\n[[task]]\nid = \"duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nfile = \"duck.sql\"\n\n[[task]]\nid = \"fine\"\nkind = \"sql\"\nsql = \"SELECT price FROM prices\"\n\n[[task]]\nid = \"after\"\nkind = \"sql\"\nsql = \"SELECT * FROM pol\"\n"
    );
    let fx = Fixture::new(
        &spec,
        &[
            ("pol.sql", "SELECT price,\n  date_trunc('month', price) AS m\nFROM prices"),
            ("duck.sql", "SELECT\n  missing_col\nFROM prices"),
        ],
    );
    let p = polder_engine::load(&fx.dir()).unwrap();
    let checked = polder_engine::plancheck::check(&p, &fx.tmp.path().join("scratch"), &Default::default(), None);
    let text: Vec<String> = checked.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(text[0].contains("pol.sql:2:3: task 'pol'") && text[0].contains("unsupported function 'date_trunc'"), "{}", text[0]);
    assert!(text[0].contains("engine = \"duckdb\""), "{}", text[0]);
    assert!(text[1].contains("duck.sql:2:3: task 'duck'") && text[1].contains("missing_col"), "{}", text[1]);
    // Downstream of a failing query is not planned; nothing of the check stays behind.
    assert_eq!(checked.unchecked, vec![("after".to_string(), "upstream 'pol': its query fails".to_string())]);
    assert!(!fx.tmp.path().join("scratch").exists());
    // Nothing ran: no run was recorded.
    assert!(fx.ws.store.latest_output("eng", "prices").unwrap().is_none());
}

#[test]
fn a_view_whose_query_auto_sends_to_duckdb_is_refused_at_load() {
    let spec = format!(
        "[pipeline]\nname = \"eng\"\n\n{PRICES}\n[[task]]\nid = \"v\"\nkind = \"sql\"\nmaterialize = \"view\"\nsql = \"SELECT round(price, 1) AS p FROM prices\"\n"
    );
    let fx = Fixture::new(&spec, &[]);
    let err = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(
        err.contains("task 'v' is materialize = \"view\", which needs Polars, but engine = \"auto\" runs it on DuckDB (ROUND(…)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_integer_sums_are_written_exactly_or_fail() {
    // DuckDB sums integers into 128 bits and would write them to Parquet as DOUBLE (2^53 + 1
    // would become 2^53); they are written as BIGINT, and a sum past 64 bits fails loudly.
    let spec = "[pipeline]\nname = \"sums\"\nengine = \"duckdb\"\n\n[[task]]\nid = \"big\"\nkind = \"sql\"\nsql = \"SELECT sum(x) AS s, count(*) AS n FROM (VALUES (9007199254740993), (1)) AS v(x)\"\n\n[[task]]\nid = \"huge\"\nkind = \"sql\"\nsql = \"SELECT sum(x) AS s FROM (VALUES (4611686018427387904), (4611686018427387904)) AS v(x)\"\n";
    let fx = Fixture::new(spec, &[]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "big"), TaskStatus::Success, "{}", error(&run, "big"));
    assert_eq!(rows(&run, "big")[0]["s"], serde_json::json!(9007199254740994_i64));
    assert_eq!(status(&run, "huge"), TaskStatus::Failed);
    assert!(error(&run, "huge").contains("out of range"), "{}", error(&run, "huge"));
}

#[test]
fn the_plan_check_never_reads_data_outside_the_allowed_folders() {
    // A first line read as column names would come back in the check's messages. (Source paths
    // outside are refused when the pipeline loads; a Polars table function only when planned.)
    let fx = Fixture::new("[pipeline]\nname = \"x\"\n", &[]);
    let secret = fx.tmp.path().join("secret.csv");
    std::fs::write(&secret, "password_hunter2\n1\n").unwrap();
    let spec = format!(
        "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"t\"\nkind = \"sql\"\nengine = \"polars\"\nsql = \"SELECT nope FROM read_csv('{}')\"\n",
        secret.display()
    );
    fx.write("pipeline.toml", &spec);
    let p = polder_engine::load(&fx.dir()).unwrap();
    let checked = polder_engine::plancheck::check(&p, &fx.tmp.path().join("scratch"), &Default::default(), None);
    let all = format!("{:?} {:?}", checked.problems, checked.unchecked);
    assert!(!all.contains("password_hunter2"), "{all}");
    assert_eq!(checked.problems.len(), 1, "{all}");
    assert!(checked.problems[0].problem.message.starts_with("task 't': read_csv(…): "), "{all}");
    assert!(all.contains("resolves outside the pipeline folder"), "{all}");
}
