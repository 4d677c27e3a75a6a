//! Source formats: CSV, Parquet, NDJSON (nested), JSON arrays, Arrow IPC; globs; path columns; local file sinks.

use polars::prelude::*;
use polder_engine::{RunOptions, RunStatus};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_reads_with_globs_and_path_columns() {
    let spec = r#"
[pipeline]
name = "formats"

[[task]]
id = "csv_src"
kind = "source"
format = "csv"
path = "data/csv/*.csv"
path_column = { name = "region", pattern = 'sales_([a-z]+)\.csv$', type = "string" }

[[task]]
id = "nested"
kind = "source"
format = "ndjson"
path = "data/events/day-*.jsonl"
flatten = true
flatten_separator = "."
path_column = { name = "day", pattern = 'day-(\d+)\.jsonl$', type = "int" }

[[task]]
id = "nested_struct"
kind = "source"
format = "ndjson"
path = "data/events/day-1.jsonl"

[[task]]
id = "arr"
kind = "source"
format = "json"
path = "data/array.json"

[[task]]
id = "pq"
kind = "source"
format = "parquet"
path = "data/nums.parquet"

[[task]]
id = "ipc_src"
kind = "source"
format = "ipc"
path = "data/nums.arrow"

[[task]]
id = "struct_access"
kind = "sql"
sql = "SELECT person.name AS who FROM nested_struct ORDER BY who"
"#;
    let fx = Fixture::new(
        spec,
        &[
            ("data/csv/sales_north.csv", "id,amount\n1,10.5\n2,20\n"),
            ("data/csv/sales_south.csv", "id,amount\n3,5\n"),
            ("data/events/day-1.jsonl", "{\"id\":1,\"person\":{\"name\":\"ann\",\"geo\":{\"cc\":\"NL\"}}}\n{\"id\":2,\"person\":{\"name\":\"bob\",\"geo\":{\"cc\":\"BE\"}}}\n"),
            ("data/events/day-2.jsonl", "{\"id\":3,\"person\":{\"name\":\"cy\",\"geo\":{\"cc\":\"DE\"}}}\n"),
            ("data/array.json", "[{\"k\":\"x\",\"v\":1},{\"k\":\"y\",\"v\":2}]"),
        ],
    );
    let mut df = df!("n" => [1i64, 2, 3], "s" => ["a", "b", "c"]).unwrap();
    let mut file = std::fs::File::create(fx.dir().join("data/nums.parquet")).unwrap();
    ParquetWriter::new(&mut file).finish(&mut df).unwrap();
    let mut file = std::fs::File::create(fx.dir().join("data/nums.arrow")).unwrap();
    IpcWriter::new(&mut file).finish(&mut df).unwrap();

    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");

    let csv = rows(&run, "csv_src");
    let got: Vec<(i64, f64, &str)> = csv.iter().map(|r| (i(&r["id"]), f(&r["amount"]), s(&r["region"]))).collect();
    assert_eq!(got, [(1, 10.5, "north"), (2, 20.0, "north"), (3, 5.0, "south")]);

    let nested = rows(&run, "nested");
    let got: Vec<(i64, &str, &str, i64)> =
        nested.iter().map(|r| (i(&r["id"]), s(&r["person.name"]), s(&r["person.geo.cc"]), i(&r["day"]))).collect();
    assert_eq!(got, [(1, "ann", "NL", 1), (2, "bob", "BE", 1), (3, "cy", "DE", 2)]);

    let who: Vec<String> = rows(&run, "struct_access").iter().map(|r| s(&r["who"]).to_string()).collect();
    assert_eq!(who, ["ann", "bob"]);

    let arr: Vec<(String, i64)> = rows(&run, "arr").iter().map(|r| (s(&r["k"]).to_string(), i(&r["v"]))).collect();
    assert_eq!(arr, [("x".to_string(), 1), ("y".to_string(), 2)]);

    for t in ["pq", "ipc_src"] {
        let got: Vec<(i64, String)> = rows(&run, t).iter().map(|r| (i(&r["n"]), s(&r["s"]).to_string())).collect();
        assert_eq!(got, [(1, "a".to_string()), (2, "b".to_string()), (3, "c".to_string())], "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_column_mismatch_names_the_file() {
    let spec = "[pipeline]\nname = \"pc\"\n\n[[task]]\nid = \"s\"\nkind = \"source\"\nformat = \"csv\"\npath = \"data/*.csv\"\npath_column = { name = \"d\", pattern = '(\\d{8})\\.csv$', type = \"date\" }\n";
    let fx = Fixture::new(spec, &[("data/20230401.csv", "a\n1\n"), ("data/latest.csv", "a\n2\n")]);
    let run = fx.run(RunOptions::default()).await;
    let err = error(&run, "s");
    assert!(err.contains("latest.csv does not match path_column pattern"), "{err}");
}

/// A local Parquet sink writes its input's rows: the stored artifact, copied whole (not decoded
/// and encoded again), published atomically; a CSV sink of the same input writes the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parquet_sink_writes_its_input_artifact_and_a_csv_sink_the_same_rows() {
    let spec = r#"
[pipeline]
name = "sinks"

[[task]]
id = "src"
kind = "source"
format = "csv"
path = "data/in.csv"

[[task]]
id = "totals"
kind = "sql"
engine = "duckdb"
sql = "SELECT name, sum(amount) AS total, count(*) AS n FROM src GROUP BY name ORDER BY name"

[[task]]
id = "pq"
kind = "sink"
input = "totals"
format = "parquet"
path = "out/totals.parquet"

[[task]]
id = "csv"
kind = "sink"
input = "totals"
format = "csv"
path = "out/totals.csv"
"#;
    let csv: String = std::iter::once("name,amount\n".to_string())
        .chain((0..3000).map(|i| format!("{},{}\n", ["ann", "bob", "zoë"][i % 3], i)))
        .collect();
    let fx = Fixture::new(spec, &[("data/in.csv", &csv)]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{run:#?}");
    let artifact = run.task("totals").unwrap().artifact.clone().unwrap();
    let written = fx.dir().join("out/totals.parquet");
    assert_eq!(std::fs::read(&written).unwrap(), std::fs::read(&artifact).unwrap());
    let back = polder_engine::inspect::head_json(&written, 100).unwrap();
    assert_eq!(back, rows(&run, "totals"));
    let zoe = &back[2];
    assert_eq!((s(&zoe["name"]), i(&zoe["total"]), i(&zoe["n"])), ("zoë", (2..3000).step_by(3).sum::<usize>() as i64, 1000));
    assert_eq!(run.task("pq").unwrap().rows, Some(3));
    let text = std::fs::read_to_string(fx.dir().join("out/totals.csv")).unwrap();
    assert_eq!(text.lines().nth(3), Some(format!("zoë,{},1000", (2..3000).step_by(3).sum::<usize>()).as_str()), "{text}");
    assert!(temp_files(&fx.dir().join("out")).is_empty());
}
