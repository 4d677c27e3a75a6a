//! `materialize = "view"`: not stored, inlined into the reading Polars SQL task.

use polder_engine::{RunOptions, RunStatus, TaskStatus};

use crate::common::*;

const SPEC: &str = r#"
[pipeline]
name = "views"

[[task]]
id = "raw"
kind = "source"
format = "csv"
path = "data/*.csv"
materialize = "view"

[[task]]
id = "big"
kind = "sql"
sql = "SELECT id, amount * 2 AS doubled FROM raw WHERE amount > 1"
materialize = "view"

[[task]]
id = "total"
kind = "sql"
sql = "SELECT COUNT(*) AS n, SUM(doubled) AS s FROM big"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_are_inlined_not_stored_and_invalidate_readers() {
    let fx = Fixture::new(SPEC, &[("data/a.csv", "id,amount\n1,1\n2,5\n3,10\n")]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let total = rows(&run, "total");
    assert_eq!((i(&total[0]["n"]), i(&total[0]["s"])), (2, 30));
    for v in ["raw", "big"] {
        let t = run.task(v).unwrap();
        assert_eq!((t.status, t.attempts, t.artifact.is_none()), (TaskStatus::Success, 0, true), "{v}");
        assert!(!fx.ws.state_dir().join("artifacts/views").join(v).exists(), "{v} must not be stored");
    }
    // A view can still be looked at: it is computed from its upstreams' latest outputs.
    let p = polder_engine::load(&fx.dir()).unwrap();
    let big = polder_engine::inspect::latest(&fx.ws, &p, "big").unwrap();
    let rows_big = polder_engine::inspect::input_json(&big, 10).unwrap();
    let got: Vec<(i64, i64)> = rows_big.iter().map(|r| (i(&r["id"]), i(&r["doubled"]))).collect();
    assert_eq!(got, [(2, 10), (3, 20)]);
    let again = fx.run(RunOptions::default()).await;
    assert_eq!(status(&again, "total"), TaskStatus::Cached);
    // A new file behind the view changes its fingerprint, so its reader reruns.
    fx.write("data/b.csv", "id,amount\n4,3\n");
    let third = fx.run(RunOptions::default()).await;
    assert_eq!(status(&third, "total"), TaskStatus::Success);
    let total = rows(&third, "total");
    assert_eq!((i(&total[0]["n"]), i(&total[0]["s"])), (3, 36));
}

#[test]
fn only_polars_sql_tasks_can_be_or_read_views() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SPEC.to_string()
        + "\n[[task]]\nid = \"duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT * FROM big\"\n\n[[task]]\nid = \"check\"\nkind = \"validate\"\ninput = \"total\"\nmaterialize = \"view\"\nchecks = [{ column = \"n\", not_null = true }]\n";
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    let err = polder_engine::load(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("task 'check': materialize = \"view\" is for source tasks and Polars SQL tasks only"), "{err}");
}

#[test]
fn a_view_with_a_schema_contract_is_refused_since_nothing_would_check_it() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SPEC.replace(
        "sql = \"SELECT id, amount * 2 AS doubled FROM raw WHERE amount > 1\"\nmaterialize = \"view\"\n",
        "sql = \"SELECT id, amount * 2 AS doubled FROM raw WHERE amount > 1\"\nmaterialize = \"view\"\nschema = { id = \"i64 not null unique\" }\n",
    );
    assert!(spec.contains("schema = {"), "the spec was edited");
    std::fs::write(tmp.path().join("pipeline.toml"), &spec).unwrap();
    let err = polder_engine::load(tmp.path()).unwrap_err().to_string();
    assert!(
        err.contains("task 'big': a schema contract is checked on a stored output, and materialize = \"view\" stores none"),
        "{err}"
    );
    assert!(err.contains("pipeline.toml:17:"), "the error names the line of `schema`: {err}");
    // The same contract on the stored task that reads the view loads.
    let spec = SPEC.to_string() + "schema = { n = \"i64 not null\" }\n";
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    polder_engine::load(tmp.path()).unwrap();
}

#[test]
fn duckdb_readers_of_views_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SPEC.to_string() + "\n[[task]]\nid = \"duck\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT * FROM big\"\n";
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    let err = polder_engine::load(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("task 'duck' reads 'big', which is materialize = \"view\"; only Polars SQL tasks and postgres or clickhouse sinks can read it"), "{err}");
}

/// One source twice, as a view (streamed into DuckDB) and as a table (stored, then scanned), and
/// the same DuckDB queries over each.
const STREAMED: &str = r#"
[pipeline]
name = "streamed"

[[task]]
id = "logs"
kind = "source"
format = "ndjson"
path = "data/*.json"
flatten = true
path_column = { name = "day", pattern = '(\d{8})\.json$', type = "date", format = "%Y%m%d" }
materialize = "view"

[[task]]
id = "logs_t"
kind = "source"
format = "ndjson"
path = "data/*.json"
flatten = true
path_column = { name = "day", pattern = '(\d{8})\.json$', type = "date", format = "%Y%m%d" }

[[task]]
id = "per_user"
kind = "sql"
sql = "SELECT user, day, count(*) AS n, sum(amount) AS amount, max(note) AS note, bool_or(ok) AS ok, sum(score) AS score FROM logs GROUP BY ALL ORDER BY ALL"

[[task]]
id = "per_user_t"
kind = "sql"
sql = "SELECT user, day, count(*) AS n, sum(amount) AS amount, max(note) AS note, bool_or(ok) AS ok, sum(score) AS score FROM logs_t GROUP BY ALL ORDER BY ALL"

[[task]]
id = "all_rows"
kind = "sql"
sql = "SELECT * FROM logs ORDER BY id"

[[task]]
id = "all_rows_t"
kind = "sql"
sql = "SELECT * FROM logs_t ORDER BY id"

[[task]]
id = "counted"
kind = "sql"
sql = "SELECT count(*) AS n FROM logs"
"#;

/// Logs with what the stream must carry exactly: nulls, missing fields, strings of up to 12 bytes
/// (copied as DuckDB's inline strings) and longer (copied into DuckDB's heap), unicode escapes.
fn streamed_logs() -> Vec<(&'static str, String)> {
    let mut a = String::new();
    for id in 0..700 {
        let user = ["ann", "bob", "kees van der berg-achternaam", "zoë"][id % 4];
        let note = if id % 5 == 0 { "null".to_string() } else { format!("\"note {id} \\u00e9{}\"", "x".repeat(id % 20)) };
        let ok = if id % 7 == 0 {
            "null"
        } else if id % 2 == 0 {
            "true"
        } else {
            "false"
        };
        a += &format!(
            "{{\"meta\": {{\"id\": {id}}}, \"_source\": {{\"user\": \"{user}\", \"amount\": {}, \"note\": {note}, \"ok\": {ok}, \"score\": {}}}}}\n",
            id * 3,
            id as f64 / 8.0
        );
    }
    let b = "{\"meta\": {\"id\": 1000}, \"_source\": {\"user\": \"ann\", \"amount\": 5, \"note\": null, \"ok\": null, \"score\": 2.0}}\n\
             {\"meta\": {\"id\": 1001}, \"_source\": {\"user\": \"bob\", \"amount\": 2, \"ok\": true}}\n\
             {\"meta\": {\"id\": 1002}, \"_source\": {\"user\": null, \"amount\": null, \"note\": \"\", \"score\": -1.5}}\n"
        .to_string();
    vec![("data/20240101.json", a), ("data/20240102.json", b)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_reads_a_source_view_as_a_stream_with_the_answers_of_the_stored_table() {
    let logs = streamed_logs();
    let files: Vec<(&str, &str)> = logs.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let fx = Fixture::new(STREAMED, &files);
    let p = polder_engine::load(&fx.dir()).unwrap();
    // `auto` keeps readers of a source view on DuckDB (only SQL views need Polars readers).
    for t in ["per_user", "all_rows", "counted"] {
        let polder_engine::spec::TaskKind::Sql(sql) = &p.task(t).unwrap().kind else { panic!() };
        assert_eq!(sql.runs_on, polder_engine::spec::SqlEngine::DuckDb, "{t}");
    }
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let logs_task = run.task("logs").unwrap();
    assert!(logs_task.artifact.is_none() && logs_task.attempts == 0, "{logs_task:?}");
    assert!(!fx.ws.state_dir().join("artifacts/streamed/logs").exists(), "the view must not be stored");

    let per_user = rows(&run, "per_user");
    assert_eq!(per_user, rows(&run, "per_user_t"));
    // 4 users on day 1 (175 rows each), 3 (one null) on day 2.
    assert_eq!(per_user.len(), 7);
    let kees = per_user.iter().find(|r| r["user"] == "kees van der berg-achternaam").unwrap();
    // ids 2, 6, …, 698: amounts 3·id.
    assert_eq!((i(&kees["n"]), f(&kees["amount"])), (175, 3.0 * (2..700).step_by(4).sum::<usize>() as f64));
    assert_eq!(s(&kees["day"]), "2024-01-01");
    let zoe = per_user.iter().find(|r| r["user"] == "zoë").unwrap();
    // The longest note of ids 3, 7, …: "note 99 é" + 19 x's sorts last ("note 99" > "note 983").
    assert_eq!(s(&zoe["note"]), format!("note 99 é{}", "x".repeat(19)));
    let nobody = per_user.iter().find(|r| r["user"].is_null()).unwrap();
    assert_eq!((s(&nobody["note"]), f(&nobody["score"]), nobody["ok"].is_null()), ("", -1.5, true));

    let all = rows(&run, "all_rows");
    assert_eq!(all.len(), 703);
    assert_eq!(all, rows(&run, "all_rows_t"));
    assert_eq!(i(&rows(&run, "counted")[0]["n"]), 703);

    // What was streamed, in the reader's log: only the columns each query reads.
    let log = std::fs::read_to_string(fx.ws.state_dir().join(format!("logs/streamed/run-{}/per_user.log", run.run_id))).unwrap();
    assert!(log.contains("view 'logs' streamed into DuckDB") && log.contains("703 rows, 6 of 7 column(s)"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_line_in_a_streamed_view_fails_its_reader_with_file_and_line() {
    let mut logs = streamed_logs();
    logs[1].1.push_str("{\"meta\": {\"id\": 1003}, \"_source\": {\"user\": \"ann\", \"amount\": 1,}}\n");
    let files: Vec<(&str, &str)> = logs.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let fx = Fixture::new(STREAMED, &files);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "per_user"), TaskStatus::Failed);
    let err = error(&run, "per_user");
    assert!(err.contains("view 'logs'") && err.contains("data/20240102.json:4:"), "{err}");
    assert!(run.task("per_user").unwrap().artifact.is_none());

    // Past the rows Polars infers the schema from, the fast reader meets it mid-stream.
    let mut late = String::new();
    for id in 0..10_010 {
        late += &format!("{{\"meta\": {{\"id\": {id}}}, \"_source\": {{\"user\": \"u\", \"amount\": 1, \"note\": \"n\", \"ok\": true, \"score\": 0.5}}}}\n");
    }
    late += "{\"meta\": {\"id\": 1}, \"_source\": {\"user\": \"ann\" \"amount\": 1}}\n";
    let fx = Fixture::new(STREAMED, &[("data/20240103.json", &late)]);
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "per_user");
    assert!(err.contains("view 'logs'") && err.contains("data/20240103.json:10011:"), "{err}");
    // The stored table's reader says the same.
    assert!(error(&run, "logs_t").contains("data/20240103.json:10011:"), "{}", error(&run, "logs_t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scalar_type_streams_into_duckdb_as_the_stored_table_gives_it() {
    use polars::prelude::*;
    let spec = r#"
[pipeline]
name = "typed"

[[task]]
id = "v"
kind = "source"
format = "parquet"
path = "data/t.parquet"
materialize = "view"

[[task]]
id = "t"
kind = "source"
format = "parquet"
path = "data/t.parquet"

[[task]]
id = "from_view"
kind = "sql"
sql = "SELECT * FROM v ORDER BY id"

[[task]]
id = "from_table"
kind = "sql"
sql = "SELECT * FROM t ORDER BY id"
"#;
    let fx = Fixture::new(spec, &[]);
    let n = 5000;
    let ids: Vec<i64> = (0..n).collect();
    let some = |k: i64| (0..n).map(move |x| (x % k != 0).then_some(x));
    let mut df = df!(
        "id" => &ids,
        "i8" => some(3).map(|v| v.map(|v| (v % 100) as i8)).collect::<Vec<_>>(),
        "i16" => some(4).map(|v| v.map(|v| v as i16 - 2500)).collect::<Vec<_>>(),
        "i32" => some(5).map(|v| v.map(|v| v as i32 * 1000)).collect::<Vec<_>>(),
        "u8" => some(6).map(|v| v.map(|v| (v % 250) as u8)).collect::<Vec<_>>(),
        "u16" => some(7).map(|v| v.map(|v| v as u16)).collect::<Vec<_>>(),
        "u32" => some(8).map(|v| v.map(|v| v as u32 * 100_000)).collect::<Vec<_>>(),
        "u64" => some(9).map(|v| v.map(|v| v as u64 * 3_000_000_000_000)).collect::<Vec<_>>(),
        "f32" => some(10).map(|v| v.map(|v| v as f32 / 3.0)).collect::<Vec<_>>(),
        "f64" => some(11).map(|v| v.map(|v| v as f64 / 7.0)).collect::<Vec<_>>(),
        "b" => some(12).map(|v| v.map(|v| v % 2 == 0)).collect::<Vec<_>>(),
        "s" => some(13).map(|v| v.map(|v| format!("{}{v}", "ü".repeat((v % 9) as usize)))).collect::<Vec<_>>(),
        "bin" => some(14).map(|v| v.map(|v| vec![v as u8; (v % 30) as usize])).collect::<Vec<_>>(),
    )
    .unwrap();
    let ms = Int64Chunked::from_iter_options("ms".into(), some(15).map(|v| v.map(|v| v * 86_400_123 - 1)));
    let extra = [
        Int32Chunked::from_iter_options("d".into(), some(16).map(|v| v.map(|v| v as i32 - 2000))).into_date().into_series(),
        ms.clone().into_datetime(TimeUnit::Milliseconds, None).into_series(),
        (&ms * 1000).with_name("us".into()).into_datetime(TimeUnit::Microseconds, None).into_series(),
        (&ms * 1_000_000).with_name("ns".into()).into_datetime(TimeUnit::Nanoseconds, None).into_series(),
        (&ms * 1_000_000)
            .with_name("tz".into())
            .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::opt_try_new(Some("Europe/Amsterdam")).unwrap().unwrap()))
            .into_series(),
        Int64Chunked::from_iter_options("tm".into(), some(17).map(|v| v.map(|v| (v * 17_000_123_000) % 86_400_000_000_000)))
            .into_time()
            .into_series(),
        Series::new("cat".into(), (0..n).map(|v| ["a", "bb", "a much longer category"][v as usize % 3]).collect::<Vec<_>>())
            .cast(&DataType::from_categories(Categories::global()))
            .unwrap(),
    ];
    for s in extra {
        df.with_column(s.into()).unwrap();
    }
    std::fs::create_dir_all(fx.dir().join("data")).unwrap();
    ParquetWriter::new(std::fs::File::create(fx.dir().join("data/t.parquet")).unwrap()).finish(&mut df).unwrap();
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let (view, table) = (rows(&run, "from_view"), rows(&run, "from_table"));
    assert_eq!(view.len(), 5000);
    for (r, (a, b)) in view.iter().zip(&table).enumerate() {
        assert_eq!(a, b, "row {r}");
    }
    assert_eq!(s(&view[4999]["s"]), format!("{}4999", "ü".repeat(4999 % 9)));
}

/// A notebook preview of a DuckDB query over a source view: the first matching rows in the
/// source's order, the same ones each time. Without insertion order DuckDB's two threads race
/// over the stream's vectors, and a `LIMIT` keeps whichever rows arrive first.
#[test]
fn a_preview_of_a_query_over_a_view_gives_the_first_rows_in_the_source_order_each_time() {
    let spec = r#"
[pipeline]
name = "preview_order"

[[task]]
id = "logs"
kind = "source"
format = "ndjson"
path = "data/*.json"
materialize = "view"

[[task]]
id = "picked"
kind = "sql"
engine = "duckdb"
sql = "SELECT id, note FROM logs WHERE id % 7 = 3"
"#;
    // 3 files of 6,000 rows: each several of DuckDB's 2,048-row vectors.
    let texts: Vec<(String, String)> = (0..3)
        .map(|d| {
            let rows: String =
                (0..6000).map(|i| format!("{{\"id\": {}, \"note\": \"row {}\"}}\n", d * 6000 + i, d * 6000 + i)).collect();
            (format!("data/2024010{}.json", d + 1), rows)
        })
        .collect();
    let files: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let fx = Fixture::new(spec, &files);
    let p = polder_engine::load(&fx.dir()).unwrap();
    let expected: Vec<i64> = (0..).map(|k| 7 * k + 3).take(50).collect();
    for attempt in 0..12 {
        let preview = polder_engine::preview::preview_task(&fx.ws, &p, "picked", 50, None).unwrap();
        let ids: Vec<i64> = preview.rows.iter().map(|r| i(&r["id"])).collect();
        assert_eq!(ids, expected, "preview {attempt}");
        assert_eq!(s(&preview.rows[49]["note"]), "row 346");
    }
}
