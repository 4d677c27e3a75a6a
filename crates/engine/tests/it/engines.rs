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
async fn decimal_products_are_exact_on_polars_and_auto_routes_what_polars_cannot_answer() {
    let spec = format!(
        "[pipeline]\nname = \"eng\"\n\n{PRICES}\n[[task]]\nid = \"revenue\"\nkind = \"sql\"\nengine = \"polars\"\nsql = \"SELECT sum(price * disc) AS rev, sum(price * (1 - disc)) AS net FROM prices\"\n\n[[task]]\nid = \"auto_rev\"\nkind = \"sql\"\nsql = \"SELECT sum(price * disc) AS rev FROM prices\"\n\n[[task]]\nid = \"above\"\nkind = \"sql\"\nfile = \"above.sql\"\n"
    );
    let fx = Fixture::new(
        &spec,
        &[("above.sql", "SELECT price\nFROM prices\nWHERE price > (SELECT avg(price) FROM prices)\nORDER BY price")],
    );
    let p = polder_engine::load(&fx.dir()).unwrap();
    assert_eq!(runs_on(&p, "auto_rev"), (SqlEngine::Polars, None));
    let (engine, why) = runs_on(&p, "above");
    assert_eq!(engine, SqlEngine::DuckDb);
    assert!(why.as_deref().unwrap().starts_with("scalar subquery (SELECT …) at line 3, column 16"), "{why:?}");

    let run = fx.run(RunOptions::default()).await;
    for t in ["revenue", "auto_rev", "above"] {
        assert_eq!(status(&run, t), TaskStatus::Success, "{t}: {}", error(&run, t));
    }
    // 10.25*0.05 + 3.10*0.07 + 7.77*0.10 = 0.5125 + 0.217 + 0.777: Polars alone rounds each product to cents (1.51).
    let r = &rows(&run, "revenue")[0];
    let num = |v: &serde_json::Value| v.as_str().map(|s| s.parse::<f64>().unwrap()).or(v.as_f64()).unwrap();
    assert!((num(&r["rev"]) - 1.5065).abs() < 1e-12, "{r:?}");
    assert!((num(&r["net"]) - (21.12 - 1.5065)).abs() < 1e-12, "{r:?}");
    assert!((num(&rows(&run, "auto_rev")[0]["rev"]) - 1.5065).abs() < 1e-12);
    let above: Vec<f64> = rows(&run, "above").iter().map(|r| num(&r["price"])).collect();
    assert_eq!(above, vec![7.77, 10.25]);
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
    let checked = polder_engine::plancheck::check(&p, &fx.tmp.path().join("scratch"), &[], None);
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
