//! Python tasks with a real Python and Polars (installed into a cached environment on first use),
//! and schema contracts.

use std::time::{Duration, Instant};

use crate::common::{error, f, i, rows, s, status, Fixture};
use polder_engine::{run_pipeline, RunCancel, RunOptions, RunStatus, TaskStatus};

const SALES: &str = "id,region,amount,day\n1,north,10,2024-01-01\n2,south,20,2024-01-01\n3,north,5,2024-01-02\n4,east,12,2024-01-02\n5,south,7,2024-01-03\n";

/// A CSV source, a SQL filter, a Python aggregation with a parameter and a helper module, and
/// SQL reading the Python output.
fn pipeline(extra_py_task: &str) -> String {
    format!(
        r#"[pipeline]
name = "py"

[params]
factor = 2.5

[[task]]
id = "sales"
kind = "source"
format = "csv"
path = "data/sales.csv"

[[task]]
id = "big"
kind = "sql"
sql = "SELECT * FROM sales WHERE amount >= 7"

[[task]]
id = "by_region"
kind = "python"
file = "by_region.py"
schema = {{ region = "str not null unique", total = "i64 not null", scaled = "f64", n = "int" }}
{extra_py_task}

[[task]]
id = "report"
kind = "sql"
sql = "SELECT region, total, scaled FROM by_region WHERE n >= 1 ORDER BY total DESC"
"#
    )
}

const BY_REGION: &str = r#"import polars as pl

from helpers import scaled


def run(big: pl.LazyFrame, params: dict) -> pl.LazyFrame:
    print("factor is", params["factor"], type(params["factor"]).__name__)
    out = big.group_by("region").agg(pl.col("amount").sum().alias("total"), pl.len().alias("n"))
    return out.with_columns(scaled("total", params["factor"])).sort("region")
"#;

const HELPERS: &str =
    "import polars as pl\n\n\ndef scaled(column, factor):\n    return (pl.col(column) * factor).alias(\"scaled\")\n";

fn fixture() -> Fixture {
    Fixture::new(&pipeline(""), &[("data/sales.csv", SALES), ("by_region.py", BY_REGION), ("helpers.py", HELPERS)])
}

fn log(fx: &Fixture, run: &polder_engine::RunSummary, task: &str) -> String {
    let (path, _) = fx.ws.log_path("py", task, run.run_id);
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_task_between_sql_tasks_reads_and_feeds_frames() {
    let fx = fixture();
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(run.status, RunStatus::Success, "{}", error(&run, "by_region"));
    let out = rows(&run, "by_region");
    let got: Vec<(String, i64, f64, i64)> =
        out.iter().map(|r| (s(&r["region"]).to_string(), i(&r["total"]), f(&r["scaled"]), i(&r["n"]))).collect();
    // amount >= 7: north 10, south 20 + 7, east 12.
    assert_eq!(got, vec![("east".into(), 12, 30.0, 1), ("north".into(), 10, 25.0, 1), ("south".into(), 27, 67.5, 2)]);
    let report: Vec<(String, i64)> = rows(&run, "report").iter().map(|r| (s(&r["region"]).to_string(), i(&r["total"]))).collect();
    assert_eq!(report, vec![("south".into(), 27), ("east".into(), 12), ("north".into(), 10)]);
    let text = log(&fx, &run, "by_region");
    assert!(text.contains("| factor is 2.5 float"), "params arrive typed; the print streams into the log:\n{text}");
    assert!(text.contains("schema contract holds (4 column(s))"), "{text}");
    // Nothing the run did shows up in the pipeline folder (no __pycache__).
    let mut names: Vec<String> =
        std::fs::read_dir(fx.dir()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["by_region.py", "data", "helpers.py", "pipeline.toml"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_code_helpers_or_parameters_rerun_the_task_and_nothing_else_does() {
    let fx = fixture();
    let first = fx.run(RunOptions::default()).await;
    assert_eq!(first.status, RunStatus::Success, "{}", error(&first, "by_region"));
    let again = fx.run(RunOptions::default()).await;
    assert_eq!(status(&again, "by_region"), TaskStatus::Cached);
    assert_eq!(status(&again, "report"), TaskStatus::Cached);

    // The task's own file.
    fx.write("by_region.py", &BY_REGION.replace("pl.len()", "pl.col(\"id\").count()"));
    let edited = fx.run(RunOptions::default()).await;
    assert_eq!(status(&edited, "big"), TaskStatus::Cached);
    assert_eq!(status(&edited, "by_region"), TaskStatus::Success);
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);

    // A module it imports.
    fx.write("helpers.py", &HELPERS.replace("* factor", "* factor * 2"));
    let helper = fx.run(RunOptions::default()).await;
    assert_eq!(status(&helper, "by_region"), TaskStatus::Success);
    let scaled: Vec<f64> = rows(&helper, "by_region").iter().map(|r| f(&r["scaled"])).collect();
    assert_eq!(scaled, vec![60.0, 50.0, 135.0]);

    // A parameter the function reads.
    let opts = RunOptions { params: vec![("factor".into(), "1".into())], ..Default::default() };
    let param = fx.run(opts).await;
    assert_eq!(status(&param, "by_region"), TaskStatus::Success);
    assert_eq!(rows(&param, "by_region").iter().map(|r| f(&r["scaled"])).collect::<Vec<_>>(), vec![24.0, 20.0, 54.0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirements_build_an_environment_once_and_a_change_reruns_the_task() {
    // A token of this test run keeps its environments apart from other runs' (a fresh build
    // here, reused below).
    let token = format!("# polder test {}-{}", std::process::id(), polder_engine::store::now_ms());
    let fx = fixture();
    fx.write("requirements.txt", &format!("{token}\npolars\n"));
    let first = fx.run(RunOptions::default()).await;
    assert_eq!(first.status, RunStatus::Success, "{}", error(&first, "by_region"));
    let text = log(&fx, &first, "by_region");
    assert!(text.contains("building the Python environment for") && text.contains("requirements.txt"), "{text}");
    assert!(text.contains("Python environment ready"), "{text}");

    // Another pipeline folder with the same requirements reuses the environment.
    let other = fixture();
    other.write("requirements.txt", &format!("{token}\npolars\n"));
    let reused = other.run(RunOptions::default()).await;
    assert_eq!(reused.status, RunStatus::Success);
    let text = log(&other, &reused, "by_region");
    assert!(!text.contains("building the Python environment"), "rebuilt:\n{text}");

    // Changed requirements: the task reruns (in a new environment), the source does not.
    fx.write("requirements.txt", &format!("{token} v2\npolars\n"));
    let changed = fx.run(RunOptions::default()).await;
    assert_eq!(status(&changed, "sales"), TaskStatus::Cached);
    assert_eq!(status(&changed, "by_region"), TaskStatus::Success);
    assert!(log(&fx, &changed, "by_region").contains("building the Python environment"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirements_that_do_not_install_fail_with_the_installers_words() {
    let fx = fixture();
    fx.write("requirements.txt", "polder-no-such-package-anywhere==0.0.1\n");
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "by_region"), TaskStatus::Failed);
    let e = error(&run, "by_region");
    assert!(e.contains("the Python environment could not be built: pip install exited with code 1"), "{e}");
    assert!(e.contains("polder-no-such-package-anywhere"), "pip's own message is quoted:\n{e}");
    assert!(e.contains("PIP_FIND_LINKS"), "says what to do offline:\n{e}");
    // The failed build is not kept: fixing the file builds again.
    std::fs::remove_file(fx.dir().join("requirements.txt")).unwrap();
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_point_at_the_users_line_through_helpers() {
    let fx = fixture();
    fx.write("helpers.py", "def scaled(column, factor):\n    table = {}\n    return table[column]\n");
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "by_region"), TaskStatus::Failed);
    assert_eq!(status(&run, "report"), TaskStatus::UpstreamFailed);
    let e = error(&run, "by_region");
    assert!(e.starts_with("Python error in helpers.py, line 3, column 12: KeyError: 'total'"), "{e}");
    assert!(e.contains("File \"by_region.py\", line 9, in run"), "the task file's frame:\n{e}");
    assert!(e.contains("File \"helpers.py\", line 3, in scaled"), "{e}");
    assert!(!e.contains("polder_entry"), "no frame of Polder's own entry script:\n{e}");
    let loc = polder_engine::sqlerror::locate_python(&e, BY_REGION, Some("by_region.py")).unwrap();
    assert_eq!(loc.line, 9, "the editor marks the call in the task's file");

    // A lazy plan fails when it is written: the message names the column, and the column's
    // place in the code is found.
    let bad = BY_REGION.replace("pl.col(\"amount\").sum()", "pl.col(\"amountt\").sum()");
    fx.write("helpers.py", HELPERS);
    fx.write("by_region.py", &bad);
    let run = fx.run(RunOptions::default()).await;
    let e = error(&run, "by_region");
    assert!(e.contains("ColumnNotFoundError") && e.contains("amountt"), "{e}");
    assert!(!e.contains("Resolved plan"), "Polars' plan dump is cut:\n{e}");
    let loc = polder_engine::sqlerror::locate_python(&e, &bad, Some("by_region.py")).unwrap();
    assert_eq!(loc.line, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_functions_are_refused_with_what_to_write() {
    let fx = fixture();
    let cases: [(&str, &str); 5] = [
        ("import polars as pl\n\ndef run(big):\n    return 42\n", "Python error in by_region.py, line 3: run() returned int, not a Polars DataFrame or LazyFrame"),
        // The column of the failing expression counts characters (é is two bytes in UTF-8).
        ("def run(big):\n    label = 'é'; return {label: 1}['x']\n", "Python error in by_region.py, line 2, column 25: KeyError: 'x'"),
        ("import polars as pl\nimport polder_missing_module\n\ndef run(big):\n    return big\n", "Python error in by_region.py, line 2, column 1: ModuleNotFoundError: No module named 'polder_missing_module' (list the package in requirements.txt in the pipeline folder)"),
        ("import polars as pl\n\ndef run(big):\n    return None\n", "run() returned None"),
        ("import os, signal\n\ndef run(big):\n    os.kill(os.getpid(), signal.SIGKILL)\n", "the Python process was killed (SIGKILL), most likely by the kernel's out-of-memory killer"),
    ];
    for (code, want) in cases {
        fx.write("by_region.py", code);
        let run = fx.run(RunOptions::default()).await;
        let e = error(&run, "by_region");
        assert!(e.contains(want), "for\n{code}\nwanted {want:?} in:\n{e}");
    }

    // Signature problems are load errors naming the file and line.
    let dir = fx.dir();
    let load = |code: &str| {
        std::fs::write(dir.join("by_region.py"), code).unwrap();
        polder_engine::load(&dir).unwrap_err().to_string()
    };
    let e = load("import polars as pl\n\n\ndef run(bigg, params):\n    return bigg\n");
    assert!(e.contains("by_region.py:") || e.contains("pipeline.toml:"), "{e}");
    assert!(
        e.contains("task 'by_region' has a parameter 'bigg', which is not a task of this pipeline (did you mean 'big'?)"),
        "{e}"
    );
    let e = load("def run(*frames):\n    pass\n");
    assert!(e.contains("by_region.py:1:1") && e.contains("`*frames` is not supported"), "{e}");
    let e = load("import polars as pl\n");
    assert!(e.contains("no top-level `def run(…)`"), "{e}");
    let e = load("def run(report):\n    return report\n");
    assert!(e.contains("cycle") || e.contains("report"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_kills_the_python_process() {
    let fx = Fixture::new(
        &pipeline("timeout_secs = 3"),
        &[
            ("data/sales.csv", SALES),
            ("helpers.py", HELPERS),
            (
                "by_region.py",
                "import os, time\n\ndef run(big):\n    open('pid', 'w').write(str(os.getpid()))\n    time.sleep(120)\n",
            ),
        ],
    );
    let started = Instant::now();
    let run = fx.run(RunOptions::default()).await;
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(error(&run, "by_region").starts_with("timed out after 3s"), "{}", error(&run, "by_region"));
    let pid = std::fs::read_to_string(fx.dir().join("pid")).expect("the function started");
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
    });
    assert!(gone, "python process {pid} still runs after the timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_python_process() {
    let fx = Fixture::new(
        &pipeline(""),
        &[
            ("data/sales.csv", SALES),
            ("helpers.py", HELPERS),
            (
                "by_region.py",
                "import os, time\n\ndef run(big):\n    open('pid', 'w').write(str(os.getpid()))\n    time.sleep(120)\n",
            ),
        ],
    );
    let p = std::sync::Arc::new(polder_engine::load(&fx.dir()).unwrap());
    let cancel = RunCancel::new();
    let c = cancel.clone();
    let pid_file = fx.dir().join("pid");
    let waiter = pid_file.clone();
    tokio::spawn(async move {
        for _ in 0..1200 {
            if waiter.exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.cancel();
    });
    let run = run_pipeline(fx.ws.clone(), p, RunOptions::default(), None, cancel).await.unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(status(&run, "by_region"), TaskStatus::Cancelled);
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
    });
    assert!(gone, "python process {pid} still runs after cancel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_contract_lists_every_violation_and_fails_any_kind_of_task() {
    let spec = r#"[pipeline]
name = "py"

[[task]]
id = "sales"
kind = "source"
format = "csv"
path = "data/sales.csv"
schema_strict = true

[task.schema]
id = "i64 not null unique"
region = "str unique"
amount = "f64"
customer = "str"

[[task]]
id = "frame"
kind = "python"
file = "frame.py"
schema = { x = "i64 not null", y = "str" }
"#;
    let frame = "import polars as pl\n\ndef run():\n    return pl.DataFrame({'x': [1, None, None], 'y': ['a', 'b', 'c']})\n";
    let fx = Fixture::new(spec, &[("data/sales.csv", SALES), ("frame.py", frame)]);
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "sales"), TaskStatus::Failed);
    assert_eq!(
        error(&run, "sales"),
        "schema contract of task 'sales' failed:\n\
         - column `amount` is i64, declared f64\n\
         - column `customer` is missing (the output has: id, region, amount, day)\n\
         - column `day` is not declared (schema_strict = true)\n\
         - column `region` has 2 duplicate value(s), declared unique (e.g. 'north' ×2, 'south' ×2)"
    );
    assert_eq!(status(&run, "frame"), TaskStatus::Failed);
    assert_eq!(
        error(&run, "frame"),
        "schema contract of task 'frame' failed:\n- column `x` has 2 null(s) in 3 rows, declared not null"
    );
    // Broken contracts are not cached as successes.
    fx.write("frame.py", &frame.replace("None, None", "2, 3"));
    let fixed = fx.run(RunOptions::default()).await;
    assert_eq!(status(&fixed, "frame"), TaskStatus::Success);
    assert_eq!(status(&fx.run(RunOptions::default()).await, "frame"), TaskStatus::Cached);
    // A contract added to a cached task is checked on the next run, not passed by the cache.
    let stricter =
        std::fs::read_to_string(fx.dir().join("pipeline.toml")).unwrap().replace("y = \"str\"", "y = \"str\", z = \"f64\"");
    fx.write("pipeline.toml", &stricter);
    let checked = fx.run(RunOptions::default()).await;
    assert_eq!(status(&checked, "frame"), TaskStatus::Failed);
    assert!(error(&checked, "frame").contains("column `z` is missing"), "{}", error(&checked, "frame"));
}

#[test]
fn contracts_are_checked_when_the_pipeline_loads() {
    let fx = Fixture::new(
        "[pipeline]\nname = \"c\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT 1 AS x\"\nschema = { x = \"int64\" }\n",
        &[],
    );
    let e = polder_engine::load(&fx.dir()).unwrap_err().to_string();
    assert!(e.contains("pipeline.toml:8:") && e.contains("schema column `x`: unknown type `int64`"), "{e}");
}

#[test]
fn a_declared_schema_lets_queries_over_a_python_task_be_checked_before_it_runs() {
    let fx = Fixture::new(
        &pipeline("").replace("WHERE n >= 1", "WHERE nn >= 1"),
        &[("data/sales.csv", SALES), ("by_region.py", BY_REGION), ("helpers.py", HELPERS)],
    );
    let p = polder_engine::load(&fx.dir()).unwrap();
    let scratch = fx.tmp.path().join("scratch");
    let checked = polder_engine::plancheck::check(&p, &scratch, &Default::default(), None);
    let problems: Vec<String> = checked.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 1, "{problems:?} unchecked {:?}", checked.unchecked);
    assert!(problems[0].contains("report") && problems[0].contains("nn"), "{problems:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_run_unsaved_code_with_a_row_limit() {
    let fx = fixture();
    assert_eq!(fx.run(RunOptions::default()).await.status, RunStatus::Success);
    let p = polder_engine::load(&fx.dir()).unwrap();
    let edited = "import polars as pl\n\ndef run(big):\n    return big.select('id', 'amount').sort('id')\n";
    let preview =
        polder_engine::preview::preview_with(&fx.ws, &p, "by_region", 2, Some(polder_engine::preview::Edited::Python(edited)))
            .unwrap();
    let got: Vec<(i64, i64)> = preview.rows.iter().map(|r| (i(&r["id"]), i(&r["amount"]))).collect();
    assert_eq!(got, vec![(1, 10), (2, 20)]);
    let names: Vec<&str> = preview.schema.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["id", "amount"]);
    // The file on disk is untouched, and an unknown upstream in the unsaved text is refused.
    assert_eq!(std::fs::read_to_string(fx.dir().join("by_region.py")).unwrap(), BY_REGION);
    let e = polder_engine::preview::preview_with(
        &fx.ws,
        &p,
        "by_region",
        2,
        Some(polder_engine::preview::Edited::Python("def run(nothing):\n    return nothing\n")),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("parameter `nothing` of run() names no task of this pipeline (line 1, column 1)"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_medallion_silver_equals_the_sql_one() {
    use polder_datagen::medallion::{self, MedallionConfig};
    let tmp = tempfile::tempdir().unwrap();
    let ws = std::sync::Arc::new(polder_engine::Workspace::open(tmp.path()).unwrap());
    let cfg = MedallionConfig { contracts: 2_000, ..MedallionConfig::with_rows(30_000) };
    let mut outputs = Vec::new();
    for example in ["medallion", "medallion_python"] {
        let dir = tmp.path().join(example);
        crate::common::copy_example(example, &dir);
        medallion::write(&cfg, &dir.join("data/logs")).unwrap();
        let run = crate::common::run_dir(&ws, &dir, RunOptions::default()).await;
        assert_eq!(status(&run, "silver"), TaskStatus::Success, "{example}: {}", error(&run, "silver"));
        outputs.push(rows(&run, "silver"));
        if example == "medallion_python" {
            assert_eq!(run.status, RunStatus::Success, "{}", error(&run, "by_category"));
            let n: i64 = rows(&run, "by_category").iter().map(|r| i(&r["contracts"])).sum();
            assert_eq!(n as usize, outputs[1].len());
        }
    }
    let (sql, py) = (&outputs[0], &outputs[1]);
    assert!(sql.len() > 1_000, "{} contracts", sql.len());
    assert_eq!(sql.len(), py.len());
    for (a, b) in sql.iter().zip(py) {
        assert_eq!(a, b, "silver differs for contract {}", s(&a["contract"]));
    }
    // Every category wins somewhere, so the tie-breaking order is exercised.
    let winners: std::collections::BTreeSet<&str> = py.iter().map(|r| s(&r["most_watched"])).collect();
    assert!(winners.len() >= 4, "{winners:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_task_over_its_memory_budget_is_stopped_and_said_to_be() {
    let fx = Fixture::new(
        &pipeline("memory_limit = \"300MB\""),
        &[
            ("data/sales.csv", SALES),
            ("helpers.py", HELPERS),
            // 2 GB of touched memory, a bit at a time (the watch looks every 100 ms).
            ("by_region.py", "import time\n\ndef run(big):\n    hog = []\n    for _ in range(200):\n        hog.append(bytearray(10_000_000))\n        time.sleep(0.005)\n    return big\n"),
        ],
    );
    let run = fx.run(RunOptions::default()).await;
    assert_eq!(status(&run, "by_region"), TaskStatus::Failed);
    let e = error(&run, "by_region");
    assert!(e.starts_with("task 'by_region' used") && e.contains("over its memory budget of 300 MB (memory_limit)"), "{e}");
}
