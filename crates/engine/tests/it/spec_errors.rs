//! Bad pipeline files get located, readable errors; every problem is listed.

use std::path::Path;

fn load_err(spec: &str, files: &[(&str, &str)]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    let err = polder_engine::load(tmp.path()).expect_err("spec should be rejected");
    // Paths in messages are absolute; make them stable for assertions.
    err.to_string().replace(&tmp.path().display().to_string(), "DIR")
}

#[test]
fn toml_syntax_error_has_file_line_and_column() {
    let msg = load_err("[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\nkind = \"sql\"\n", &[]);
    assert!(msg.starts_with("DIR/pipeline.toml:5:"), "{msg}");
    assert!(msg.contains("invalid TOML"), "{msg}");
}

#[test]
fn unknown_kind_and_unknown_field_are_located_with_suggestions() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"sqll\"\n\n[[task]]\nid = \"b\"\nkind = \"source\"\nformat = \"csv\"\npaht = \"x.csv\"\n";
    let msg = load_err(spec, &[]);
    assert!(msg.contains("DIR/pipeline.toml:6:8: unknown kind `sqll` in task 'a' (did you mean `sql`?)"), "{msg}");
    assert!(msg.contains("DIR/pipeline.toml:12:1: unknown field `paht` in task 'b' (did you mean `path`?)"), "{msg}");
    assert!(msg.contains("task 'b' is missing `path`"), "{msg}");
    assert!(msg.starts_with("3 problems"), "{msg}");
}

#[test]
fn missing_input_names_the_task_and_suggests() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"gold\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\n\n[[task]]\nid = \"check\"\nkind = \"validate\"\ninput = \"golf\"\nchecks = [{ column = \"a\", not_null = true }]\n";
    let msg = load_err(spec, &[]);
    assert!(
        msg.contains(
            "DIR/pipeline.toml:9:1: task 'check' has input 'golf', which is not a task of this pipeline (did you mean 'gold'?)"
        ),
        "{msg}"
    );
}

#[test]
fn sql_reading_an_unknown_table_is_reported() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"bronze\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\n\n[[task]]\nid = \"silver\"\nkind = \"sql\"\nfile = \"silver.sql\"\n";
    let msg = load_err(spec, &[("silver.sql", "SELECT * FROM bronz")]);
    assert!(
        msg.contains("task 'silver' reads table 'bronz', which is not a task of this pipeline (did you mean 'bronze'?)"),
        "{msg}"
    );
}

#[test]
fn dependency_cycle_shows_the_cycle() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT * FROM c\"\n\n[[task]]\nid = \"b\"\nkind = \"sql\"\nsql = \"SELECT * FROM a\"\n\n[[task]]\nid = \"c\"\nkind = \"sql\"\nsql = \"SELECT * FROM b\"\n";
    let msg = load_err(spec, &[]);
    assert!(msg.contains("dependency cycle: "), "{msg}");
    // Any rotation of a → b → c → a is the same cycle.
    let cycle = msg.split("dependency cycle: ").nth(1).unwrap().split(';').next().unwrap();
    let ok = ["a → b → c → a", "b → c → a → b", "c → a → b → c"].contains(&cycle);
    assert!(ok, "{msg}");
}

#[test]
fn sql_syntax_error_points_into_the_sql_file() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nfile = \"a.sql\"\n";
    let msg = load_err(spec, &[("a.sql", "-- comment\nSELECT a\nFROM t WHERE x = = 1\n")]);
    assert!(msg.starts_with("DIR/a.sql:3:"), "{msg}");
    assert!(msg.contains("task 'a': SQL syntax error (polars dialect)"), "{msg}");
}

#[test]
fn missing_sql_file_duplicate_ids_and_bad_values() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nfile = \"nope.sql\"\n\n[[task]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"true\"\ntimeout_secs = \"soon\"\n\n[[task]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"true\"\n";
    let msg = load_err(spec, &[]);
    assert!(msg.contains("DIR/pipeline.toml:7:8: task 'a': cannot read SQL file `nope.sql`: No such file"), "{msg}");
    assert!(msg.contains("DIR/pipeline.toml:13:16: `timeout_secs` in task 'b' must be a number of seconds"), "{msg}");
}

#[test]
fn duplicate_task_ids_are_rejected() {
    let spec = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"true\"\n\n[[task]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"true\"\n";
    let msg = load_err(spec, &[]);
    assert!(msg.contains("DIR/pipeline.toml:9:1: duplicate task id 'b' (first declared at line 4)"), "{msg}");
}

#[test]
fn examples_load() {
    for name in ["medallion", "energy", "lakehouse"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
        let p = polder_engine::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(p.tasks.len() >= 6, "{name}");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/medallion");
    let p = polder_engine::load(&dir).unwrap();
    assert_eq!(p.task("silver").unwrap().upstream, ["bronze"]);
    assert_eq!(p.task("gold_table").unwrap().upstream, ["gold", "gold_checks"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lakehouse");
    let p = polder_engine::load(&dir).unwrap();
    assert_eq!(p.task("bronze").unwrap().upstream, ["land"], "the bucket is read after the files landed");
    let used: Vec<_> = p.connections_used().into_iter().collect();
    assert_eq!(used, [("lake".to_string(), "s3"), ("olap".to_string(), "clickhouse")]);
}

#[test]
fn memory_limits_are_sizes_checked_at_load() {
    let spec = "[pipeline]\nname = \"x\"\n\n[defaults]\nmemory_limit = 4\n\n[[task]]\nid = \"a\"\nkind = \"shell\"\ncommand = \"true\"\nmemory_limit = \"4 gigs\"\n\n[[task]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"true\"\nmemory_limit = \"1KB\"\n";
    let msg = load_err(spec, &[]);
    assert!(msg.contains("DIR/pipeline.toml:5:16: `memory_limit` in [defaults] must be a size in quotes, e.g. \"4GB\""), "{msg}");
    assert!(
        msg.contains("DIR/pipeline.toml:11:16: `memory_limit` in task 'a': `4 gigs` has an unknown unit; use KB, MB, GB"),
        "{msg}"
    );
    assert!(msg.contains("DIR/pipeline.toml:17:16: `memory_limit` in task 'b': `1KB` is too small"), "{msg}");

    let tmp = tempfile::tempdir().unwrap();
    let spec = "[pipeline]\nname = \"x\"\n\n[defaults]\nmemory_limit = \"2GiB\"\n\n[[task]]\nid = \"a\"\nkind = \"shell\"\ncommand = \"true\"\nmemory_limit = \"300MB\"\n\n[[task]]\nid = \"b\"\nkind = \"shell\"\ncommand = \"true\"\n";
    std::fs::write(tmp.path().join("pipeline.toml"), spec).unwrap();
    let p = polder_engine::load(tmp.path()).unwrap();
    assert_eq!(p.task("a").unwrap().memory_limit, Some(300_000_000));
    assert_eq!(p.task("b").unwrap().memory_limit, Some(2 << 30));
}

#[test]
fn s3_settings_are_checked_where_they_are_written() {
    let base = "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"raw\"\nkind = \"source\"\nformat = \"ndjson\"\n";
    let msg = load_err(&format!("{base}path = \"data/*.json\"\nconnection = \"lake\"\n"), &[]);
    assert!(msg.contains("DIR/pipeline.toml:9:14: task 'raw' has `connection = \"lake\"` but a local path"), "{msg}");
    let msg = load_err(&format!("{base}path = \"s3://b/x/*.json\"\nmaterialize = \"view\"\n"), &[]);
    assert!(msg.contains("a source reading s3://, PostgreSQL or a dataset cannot be materialize = \"view\""), "{msg}");
    let msg = load_err(&format!("{base}path = \"s3://b/x/*.json\"\nconnection = \"no way\"\n"), &[]);
    assert!(msg.contains("connection name `no way` must be letters, digits, _ and -"), "{msg}");
    let sink = "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"q\"\nkind = \"sql\"\nsql = \"SELECT 1 AS a\"\n\n[[task]]\nid = \"w\"\nkind = \"sink\"\ninput = \"q\"\nformat = \"parquet\"\n";
    let msg = load_err(&format!("{sink}path = \"out/a.parquet\"\nmode = \"append\"\n"), &[]);
    assert!(msg.contains("`mode` of task 'w' applies to duckdb tables and to partitioned Parquet on s3://"), "{msg}");
}

#[test]
fn postgres_sinks_need_a_table_and_upsert_needs_a_key() {
    let head = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"src\"\nkind = \"source\"\nformat = \"csv\"\npath = \"a.csv\"\n\n";
    let spec = format!(
        "{head}[[task]]\nid = \"up\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"postgres\"\ntable = \"s.sales\"\nmode = \"upsert\"\n\n\
         [[task]]\nid = \"keyed\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"postgres\"\ntable = \"sales\"\nkey = [\"id\"]\n\n\
         [[task]]\nid = \"bad\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"postgres\"\ntable = \"a.b.c\"\n\n\
         [[task]]\nid = \"none\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"postgres\"\n\n\
         [[task]]\nid = \"duck\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"duckdb\"\ndatabase = \"x.duckdb\"\ntable = \"t\"\nmode = \"upsert\"\n"
    );
    let msg = load_err(&spec, &[("a.csv", "id\n1\n")]);
    assert!(msg.contains("pipeline.toml:16:8: task 'up' is mode = \"upsert\", which needs `key = [\"…\"]`"), "{msg}");
    assert!(msg.contains("pipeline.toml:24:7: `key` of task 'keyed' is for mode = \"upsert\" only"), "{msg}");
    assert!(msg.contains("table name `a.b.c` must be an identifier"), "{msg}");
    assert!(msg.contains("task 'none' is missing `table`"), "{msg}");
    assert!(msg.contains("unknown mode `upsert` in task 'duck'; expected one of: create, replace, append"), "{msg}");
}

#[test]
fn clickhouse_sinks_need_a_table_and_a_sorting_key_to_create() {
    let head = "[pipeline]\nname = \"x\"\n\n[[task]]\nid = \"src\"\nkind = \"source\"\nformat = \"csv\"\npath = \"a.csv\"\n\n";
    let spec = format!(
        "{head}[[task]]\nid = \"made\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"clickhouse\"\ntable = \"db.t\"\n\n\
         [[task]]\nid = \"added\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"clickhouse\"\ntable = \"t\"\nmode = \"append\"\n\n\
         [[task]]\nid = \"merged\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"clickhouse\"\ntable = \"t\"\nmode = \"upsert\"\norder_by = [\"id\"]\n"
    );
    let msg = load_err(&spec, &[("a.csv", "id\n1\n")]);
    assert!(msg.contains("task 'made' (clickhouse) needs `order_by = [\"…\"]`"), "{msg}");
    // Appending to an existing table needs no key (creating a missing one is refused at run time).
    assert!(!msg.contains("task 'added'"), "{msg}");
    assert!(msg.contains("unknown mode `upsert` in task 'merged'; expected one of: create, replace, append"), "{msg}");
}

#[test]
fn dataset_sources_and_triggers_are_checked() {
    let base = "[pipeline]\nname = \"x\"\n";
    let msg = load_err(&format!("{base}[params]\nday = {{ type = \"date\" }}\n[trigger]\non_dataset = \"events\"\n"), &[]);
    assert!(msg.contains("parameter `day` has no default, but the pipeline is started by dataset flushes"), "{msg}");
    let msg = load_err(&format!("{base}[trigger]\non_dataset = [\"ok\", \"not ok\"]\nevery = 1\n"), &[]);
    assert!(msg.contains("dataset name `not ok`"), "{msg}");
    assert!(msg.contains("unknown field `every` in [trigger]"), "{msg}");
    let src = "\n[[task]]\nid = \"e\"\nkind = \"source\"\nformat = \"dataset\"\n";
    let msg = load_err(&format!("{base}{src}"), &[]);
    assert!(msg.contains("task 'e' is missing `dataset`"), "{msg}");
    let msg = load_err(&format!("{base}{src}dataset = \"events\"\nmaterialize = \"view\"\n"), &[]);
    assert!(msg.contains("a source reading s3://, PostgreSQL or a dataset cannot be materialize = \"view\""), "{msg}");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("pipeline.toml"),
        format!("{base}[trigger]\non_dataset = \"events\"\n{src}dataset = \"events\"\ninclude_unflushed = true\n"),
    )
    .unwrap();
    let p = polder_engine::load(tmp.path()).unwrap();
    assert_eq!(p.on_dataset, ["events"]);
    assert!(!p.tasks[0].cache, "rows still in the log change by the second: never cached");
}
