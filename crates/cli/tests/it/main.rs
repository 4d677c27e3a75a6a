//! CLI tests: the real `polder` binary, its output and exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn polder(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polder"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("POLDER_WORKSPACE")
        .output()
        .expect("polder runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn init_run_preview_runs_show() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let parent = ws.display().to_string();
    let o = polder(ws, &["init", "shop", "--parent", &parent]);
    assert!(o.status.success(), "{:?}", text(&o));
    let dir = ws.join("shop");
    let dir_s = dir.display().to_string();

    let o = polder(ws, &["validate", &dir_s]);
    let (out, _) = text(&o);
    assert!(out.starts_with("pipeline 'shop' is valid: 3 tasks, 2 dependencies"), "{out}");

    let o = polder(ws, &["run", &dir_s]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("run 1 success"), "{out}");
    assert!(out.contains("(3 ran, 0 cached)"), "{out}");

    let o = polder(ws, &["preview", &dir_s, "customer_totals", "--json"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(String, i64, f64)> = rows
        .iter()
        .map(|r| (r["customer"].as_str().unwrap().to_string(), r["orders"].as_i64().unwrap(), r["total"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, [("carol".into(), 1, 99.9), ("alice".into(), 2, 37.75), ("bob".into(), 2, 15.0)]);

    // Second run reuses everything; a parameter change reruns the SQL and its check.
    let (out, _) = text(&polder(ws, &["run", &dir_s]));
    assert!(out.contains("(0 ran, 3 cached)"), "{out}");
    let (out, _) = text(&polder(ws, &["run", &dir_s, "--param", "min_amount=10"]));
    assert!(out.contains("(2 ran, 1 cached)"), "{out}");
    let (out, _) = text(&polder(ws, &["preview", &dir_s, "customer_totals", "--json"]));
    assert!(out.contains("\"bob\"") && out.contains("12.0") && !out.contains("15.0"), "{out}");

    let (out, _) = text(&polder(ws, &["runs"]));
    assert!(out.contains("shop") && out.contains("success"), "{out}");
    let (out, _) = text(&polder(ws, &["show", "1"]));
    assert!(out.contains("run 1 of pipeline 'shop': success"), "{out}");
    assert!(out.contains("customer_totals"), "{out}");

    let o = polder(ws, &["preview", &dir_s, "nope"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("pipeline 'shop' has no task 'nope'; its tasks: orders, customer_totals, customer_checks"));
}

#[test]
fn bad_spec_and_failed_task_exit_non_zero_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pipeline.toml"), "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"a\"\nkind = \"shel\"\n").unwrap();
    let dir_s = dir.display().to_string();
    let o = polder(ws, &["validate", &dir_s]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(err.contains("pipeline.toml:6:8: unknown kind `shel` in task 'a' (did you mean `shell`?)"), "{err}");

    std::fs::write(
        dir.join("pipeline.toml"),
        "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"a\"\nkind = \"shell\"\ncommand = \"echo nope >&2; exit 4\"\n",
    )
    .unwrap();
    let o = polder(ws, &["run", &dir_s]);
    assert_eq!(o.status.code(), Some(1));
    let (out, err) = text(&o);
    assert!(out.contains("run 1 failed"), "{out}");
    assert!(err.contains("task 'a' failed: command `echo nope >&2; exit 4` exited with code 4; last output:\nnope"), "{err}");

    let o = polder(ws, &["run", &dir_s, "--param", "nope=1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("unknown parameter `nope` for pipeline 'p'"), "{:?}", text(&o));
}
