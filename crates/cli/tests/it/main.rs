//! CLI tests: the real `polder` binary, its output and exit codes.

mod memory;
mod postgres;

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

    // Second run reuses everything, also when the folder is named relative to the current
    // directory (the runner names it absolute); a parameter change reruns the SQL and its check.
    let o = Command::new(env!("CARGO_BIN_EXE_polder"))
        .current_dir(ws)
        .args(["--workspace", ".", "run", "shop"])
        .env_remove("POLDER_WORKSPACE")
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert!(out.contains("(0 ran, 3 cached)"), "{out}");
    let (out, _) = text(&polder(ws, &["run", &dir_s, "--param", "min_amount=10"]));
    assert!(out.contains("(2 ran, 1 cached)"), "{out}");
    let (out, _) = text(&polder(ws, &["preview", &dir_s, "customer_totals", "--json"]));
    assert!(out.contains("\"bob\"") && out.contains("12.0") && !out.contains("15.0"), "{out}");

    let (out, _) = text(&polder(ws, &["runs"]));
    assert!(out.contains("shop") && out.contains("success"), "{out}");
    let (out, _) = text(&polder(ws, &["show", "1"]));
    assert!(out.contains("run 1 of pipeline 'shop': success"), "{out}");
    let (log, _) = text(&polder(ws, &["logs", "1", "customer_totals"]));
    assert!(log.contains("attempt 1 of task 'customer_totals' (sql)") && log.contains("3 rows"), "{log}");
    assert!(out.contains("customer_totals"), "{out}");

    let o = polder(ws, &["preview", &dir_s, "nope"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("pipeline 'shop' has no task 'nope'; its tasks: orders, customer_totals, customer_checks"));
}

#[test]
fn gc_removes_python_environments_no_task_used_for_the_given_days() {
    let tmp = tempfile::tempdir().unwrap();
    let envs = tmp.path().join("envs");
    let day = std::time::Duration::from_secs(86_400);
    for (name, unused_for) in [("old", 40 * day), ("recent", 2 * day)] {
        let dir = envs.join(name);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin").join("python"), vec![1u8; 5000]).unwrap();
        std::fs::write(dir.join("polder-ready.json"), "{}").unwrap();
        let marker = std::fs::File::open(dir.join("polder-ready.json")).unwrap();
        marker.set_modified(std::time::SystemTime::now() - unused_for).unwrap();
    }
    let gc = |days: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_polder"))
            .args(["--workspace"])
            .arg(tmp.path().join("ws"))
            .args(["gc", "--python-envs-unused-days", days])
            .env("POLDER_PYTHON_ENVS", &envs)
            .env_remove("POLDER_WORKSPACE")
            .output()
            .unwrap();
        assert!(o.status.success(), "{:?}", text(&o));
        text(&o).0
    };
    let out = gc("30");
    assert!(out.contains("removed 1 Python environment(s) unused for 30 days"), "{out}");
    assert!(out.contains(", 5,002 bytes freed"), "{out}");
    assert!(!envs.join("old").exists() && envs.join("recent").join("bin").join("python").is_file());
    let out = gc("1");
    assert!(out.contains("removed 1 Python environment(s) unused for 1 day from"), "{out}");
    assert!(!envs.join("recent").exists());
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

/// Starts `polder run` on a pipeline whose `slow` shell task sleeps, and waits until it runs.
fn start_slow_run(ws: &Path) -> std::process::Child {
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = "[pipeline]\nname = \"p\"\n\n[[task]]\nid = \"quick\"\nkind = \"sql\"\nsql = \"SELECT 1 AS one\"\n\n\
                [[task]]\nid = \"slow\"\nkind = \"shell\"\ncommand = \"sleep 30\"\ninputs = [\"quick\"]\n";
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_polder"))
        .arg("--workspace")
        .arg(ws)
        .arg("run")
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = ws.join(".polder/logs/p/run-1/slow.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !log.exists() {
        assert!(std::time::Instant::now() < deadline, "the slow task never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    child
}

#[test]
fn ctrl_c_cancels_the_run_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let child = start_slow_run(tmp.path());
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{:?}", text(&out));
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("run 1 cancelled"), "{stdout}");
    assert!(stderr.contains("cancelling"), "{stderr}");
    let (show, _) = text(&polder(tmp.path(), &["show", "1"]));
    assert!(show.contains("run 1 of pipeline 'p': cancelled"), "{show}");
}

#[test]
fn a_killed_run_is_marked_failed_and_the_next_run_reuses_finished_tasks() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = start_slow_run(tmp.path());
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let (runs, _) = text(&polder(tmp.path(), &["runs"]));
    assert!(runs.contains("failed") && runs.contains("interrupted: the process running it exited"), "{runs}");
    let (show, _) = text(&polder(tmp.path(), &["show", "1"]));
    assert!(show.contains("task 'slow' (failed): interrupted"), "{show}");
    // The finished task's artifact survived and is reused; the slow one would run again.
    let dir = tmp.path().join("p");
    let spec = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap().replace("sleep 30", "true");
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let o = polder(tmp.path(), &["run", &dir.display().to_string()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("(1 ran, 1 cached)"), "{out}");
}

#[test]
fn backfill_runs_each_interval_with_its_logical_date() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = "[pipeline]\nname = \"b\"\nschedule = \"0 6 * * *\"\n\n[[task]]\nid = \"d\"\nkind = \"sql\"\nsql = \"SELECT '{{ run_date }}' AS run_date\"\n";
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let d = dir.display().to_string();
    let o = polder(tmp.path(), &["backfill", &d, "--from", "2024-02-28", "--until", "2024-03-01"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.starts_with("backfilling 'b': 3 intervals"), "{out}");
    for (n, date) in ["2024-02-27", "2024-02-28", "2024-02-29"].iter().enumerate() {
        assert!(out.contains(&format!("run_date {date}: run {} success", n + 1)), "{out}");
    }
    let (json, _) = text(&polder(tmp.path(), &["preview", &d, "d", "--json"]));
    assert_eq!(json.trim(), r#"{"run_date":"2024-02-29"}"#);
}

/// A pid that no process has: a child that exited and was reaped.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// `polder run` removes what killed writers left beside sink targets (of the pipeline it runs and
/// of the workspace's others), judging death by owner locks, and keeps a live writer's temp.
#[test]
fn run_sweeps_dead_writers_temp_outputs_beside_sinks_and_keeps_live_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let sink = |name: &str, task: &str, path: &str, extra: &str| {
        let dir = ws.join(name);
        std::fs::create_dir_all(dir.join("out")).unwrap();
        let spec = format!(
            "[pipeline]\nname = \"{name}\"\n\n[[task]]\nid = \"src\"\nkind = \"sql\"\nsql = \"SELECT 1 AS k, 2 AS v\"\n\n\
             [[task]]\nid = \"{task}\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"parquet\"\npath = \"{path}\"\n{extra}"
        );
        std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
        dir
    };
    let p = sink("p", "gold", "out/gold", "partition_by = [\"k\"]\n");
    let q = sink("q", "x", "out/x.parquet", "");
    let partial = |d: std::path::PathBuf| {
        std::fs::create_dir_all(d.join("k=1")).unwrap();
        std::fs::write(d.join("k=1/data_0.parquet"), "partial").unwrap();
        d
    };
    let owners = ws.join(".polder/owners");
    std::fs::create_dir_all(&owners).unwrap();
    // Killed mid-write: an old-style name of a gone pid; a pid that lives on (pid 1, as after
    // reuse) whose owner lock nobody holds; a file of the other pipeline's sink.
    let gone = partial(p.join(format!("out/.gold.tmp-{}-6", dead_pid())));
    std::fs::write(owners.join("1-gone.lock"), "").unwrap();
    let reused = partial(p.join("out/.gold.tmp-1-gone-7"));
    let other = q.join(format!("out/.x.tmp-{}-0.parquet", dead_pid()));
    std::fs::write(&other, "partial").unwrap();
    // Still writing: its owner holds its lock.
    let live_owner = format!("{}-live", std::process::id());
    let lock = std::fs::File::create(owners.join(format!("{live_owner}.lock"))).unwrap();
    lock.lock().unwrap();
    let live = partial(p.join(format!("out/.gold.tmp-{live_owner}-8")));

    let o = polder(ws, &["run", &p.display().to_string()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    for left in [&gone, &reused, &other] {
        assert!(!left.exists(), "{} was left", left.display());
    }
    assert!(live.join("k=1/data_0.parquet").exists(), "a live writer's temp was removed");
    assert!(p.join("out/gold/k=1").is_dir(), "the sink wrote its folder");
    drop(lock);
}

#[test]
fn a_pipeline_name_is_looked_up_in_the_workspace_not_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let parent = ws.display().to_string();
    assert!(polder(&ws, &["init", "shop", "--parent", &parent]).status.success());
    // A second pipeline whose folder is not named after it.
    let o = polder(&ws, &["init", "orders", "--parent", &parent]);
    assert!(o.status.success(), "{:?}", text(&o));
    std::fs::rename(ws.join("orders"), ws.join("orders_folder")).unwrap();

    let in_elsewhere = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_polder"))
            .current_dir(&elsewhere)
            .arg("--workspace")
            .arg(&ws)
            .args(args)
            .env_remove("POLDER_WORKSPACE")
            .output()
            .unwrap()
    };
    let o = in_elsewhere(&["run", "shop"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("run 1 success"), "{out}");
    let o = in_elsewhere(&["validate", "orders"]);
    let (out, err) = text(&o);
    assert!(out.starts_with("pipeline 'orders' is valid"), "{out}\n{err}");
    let o = in_elsewhere(&["preview", "shop", "customer_totals", "--json"]);
    assert!(o.status.success(), "{:?}", text(&o));

    // A relative path is still taken from the current directory first.
    std::fs::create_dir_all(elsewhere.join("local")).unwrap();
    assert!(in_elsewhere(&["init", "shop", "--parent", "local"]).status.success());
    let o = in_elsewhere(&["run", "local/shop"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");

    let o = in_elsewhere(&["run", "nothing"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("no pipeline 'nothing'") && err.contains(&ws.display().to_string()), "{err}");

    let (help, _) = text(&in_elsewhere(&["run", "--help"]));
    assert!(help.contains("A bare NAME is found as the folder WORKSPACE/NAME"), "{help}");
}

#[test]
fn connection_list_shows_references_never_values_and_secrets_come_from_the_encrypted_store() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let key = tmp.path().join("config/polder/secret.key");
    let spec = "[connections.lake]\ntype = \"s3\"\nendpoint = \"http://127.0.0.1:9000\"\npath_style = true\naccess_key_id = \"${env:POLDER_TEST_LAKE_KEY}\"\nsecret_access_key = \"${secret:lake}\"\n";
    std::fs::write(ws.join("connections.toml"), spec).unwrap();
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_polder"));
        c.arg("--workspace")
            .arg(&ws)
            .args(args)
            .env("POLDER_SECRET_KEY_FILE", &key)
            .env("POLDER_TEST_LAKE_KEY", "AKIA-visible-nowhere");
        c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    };
    let o = cli(&["connection", "list"], None);
    let (out, err) = text(&o);
    assert!(
        out.contains("lake") && out.contains("access_key_id=${env:POLDER_TEST_LAKE_KEY}") && out.contains("path_style=true"),
        "{out}"
    );
    assert!(out.contains("refers to ${secret:lake}, which is not set; set it with `polder secret set lake`"), "{out}");
    assert_eq!(o.status.code(), Some(1), "{out}{err}");

    // Set through stdin; then the reference resolves, and no value is shown or stored in clear.
    let o = cli(&["secret", "set", "lake"], Some("hunter2-secret-value\n"));
    assert!(o.status.success(), "{:?}", text(&o));
    let o = cli(&["connection", "list"], None);
    let (out, err) = text(&o);
    assert!(out.contains("[ok]"), "{out}{err}");
    assert_eq!(text(&cli(&["secret", "list"], None)).0.trim(), "lake");
    let mut seen = String::new();
    for entry in walk(tmp.path()) {
        if entry != key {
            seen.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()));
        }
    }
    assert!(!seen.contains("hunter2") && !out.contains("hunter2") && !out.contains("AKIA-visible-nowhere"), "a secret leaked");

    std::fs::write(ws.join("connections.toml"), "[connections.lake]\ntype = \"s3\"\nsecret_access_key = \"hunter2\"\n").unwrap();
    let (out, err) = text(&cli(&["connection", "list"], None));
    assert!(err.contains("connections.toml:3:21: connection 'lake': `secret_access_key` holds a secret"), "{out}{err}");
    assert!(!err.contains("hunter2") && !out.contains("hunter2"), "{out}{err}");
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

mod s3 {
    //! S3 through the real binary and a real S3 server (scripts/test.sh starts it): the standard
    //! AWS variables when a task names no connection, and a kill -9 in the middle of an upload.

    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use polder_engine::s3::{self, S3Access};

    fn var(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the tests with scripts/test.sh"))
    }

    /// The test server as the AWS_* variables name it.
    fn aws_env() -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", var("POLDER_TEST_S3_ENDPOINT")),
            ("AWS_REGION", var("POLDER_TEST_S3_REGION")),
            ("AWS_ACCESS_KEY_ID", var("POLDER_TEST_S3_KEY_ID")),
            ("AWS_SECRET_ACCESS_KEY", var("POLDER_TEST_S3_SECRET")),
        ]
    }

    fn access() -> S3Access {
        let env = aws_env();
        S3Access::from_env(&|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())).unwrap()
    }

    fn polder(ws: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_polder"));
        c.arg("--workspace").arg(ws).args(args).env_remove("POLDER_WORKSPACE").envs(aws_env());
        c
    }

    /// 300 partitions of 1000 rows each.
    fn write_events(dir: &Path) {
        let mut csv = String::from("part,i,v\n");
        for i in 0..300_000u32 {
            csv.push_str(&format!("p{:03},{i},{}\n", i % 300, i as f64 * 0.5));
        }
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/events.csv"), csv).unwrap();
    }

    #[test]
    fn a_kill_during_an_upload_publishes_nothing_and_the_next_run_cleans_up_and_publishes_all() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path();
        let prefix = format!("it/cli-kill-{}-{}", std::process::id(), polder_engine::store::now_ms());
        let dir = ws.join("up");
        write_events(&dir);
        let spec = format!(
            "[pipeline]\nname = \"up\"\n\n[[task]]\nid = \"events\"\nkind = \"source\"\nformat = \"csv\"\npath = \"data/events.csv\"\n\n\
             [[task]]\nid = \"out\"\nkind = \"sink\"\ninput = \"events\"\nformat = \"parquet\"\npath = \"s3://polder/{prefix}/parts\"\npartition_by = [\"part\"]\n"
        );
        std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
        let folder = format!("s3://polder/{prefix}/parts");
        let a = access();

        // No `connection`: the AWS_* variables of the process reach the server.
        let mut child = polder(ws, &["run", "up"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        let mut killed_mid_upload = false;
        while started.elapsed() < Duration::from_secs(120) {
            let uploaded = s3::list(&a, &format!("{folder}/**/part-*")).unwrap_or_default();
            if !uploaded.is_empty() {
                child.kill().unwrap(); // SIGKILL
                let manifest = s3::get(&a, &format!("{folder}/{}", s3::MANIFEST));
                killed_mid_upload = manifest.is_err();
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.wait();
        assert!(killed_mid_upload, "the kill did not land between the first upload and the manifest");
        let orphans = s3::list(&a, &format!("{folder}/**/part-*")).unwrap();
        assert!(!orphans.is_empty() && orphans.len() < 300, "{} files uploaded before the kill", orphans.len());
        // A reader of the folder sees no output, not a part of one.
        assert!(s3::list(&a, &folder).unwrap().is_empty());

        let o = polder(ws, &["run", "up"]).output().unwrap();
        let (out, err) = super::text(&o);
        assert!(o.status.success(), "{out}\n{err}");
        let published = s3::list(&a, &folder).unwrap();
        assert_eq!(published.len(), 300);
        let all = s3::list(&a, &format!("{folder}/**/part-*")).unwrap();
        assert_eq!(all.len(), 300, "what the killed run uploaded is removed");
        // Read back through a pipeline: every row, the partition column from the folders.
        let back = ws.join("back");
        std::fs::create_dir_all(&back).unwrap();
        std::fs::write(
            back.join("pipeline.toml"),
            format!("[pipeline]\nname = \"back\"\n\n[[task]]\nid = \"parts\"\nkind = \"source\"\nformat = \"parquet\"\npath = \"{folder}\"\nhive = true\n\n[[task]]\nid = \"totals\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT COUNT(*) AS n, COUNT(DISTINCT part) AS parts, SUM(v) AS s FROM parts\"\n"),
        )
        .unwrap();
        let o = polder(ws, &["run", "back"]).output().unwrap();
        assert!(o.status.success(), "{:?}", super::text(&o));
        let o = polder(ws, &["preview", "back", "totals", "--json"]).output().unwrap();
        let (out, err) = super::text(&o);
        assert!(o.status.success(), "{err}");
        let row: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(row["n"].as_i64(), Some(300_000), "{row}");
        assert_eq!(row["parts"].as_i64(), Some(300), "{row}");
        let want: f64 = (0..300_000u32).map(|i| i as f64 * 0.5).sum();
        assert_eq!(row["s"].as_f64(), Some(want), "{row}");
    }

    #[test]
    fn connection_test_says_in_one_line_what_answers() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path();
        // The key file lives outside the workspace.
        let config = tempfile::tempdir().unwrap();
        let key = config.path().join("secret.key");
        let conns = format!(
            "[connections.lake]\ntype = \"s3\"\nendpoint = \"{}\"\nbucket = \"polder\"\naccess_key_id = \"${{env:POLDER_TEST_S3_KEY_ID}}\"\nsecret_access_key = \"${{secret:lake}}\"\n\n\
             [connections.nobucket]\ntype = \"s3\"\nendpoint = \"{}\"\nbucket = \"missing-bucket\"\naccess_key_id = \"${{env:POLDER_TEST_S3_KEY_ID}}\"\nsecret_access_key = \"${{env:POLDER_TEST_S3_SECRET}}\"\n",
            var("POLDER_TEST_S3_ENDPOINT"),
            var("POLDER_TEST_S3_ENDPOINT"),
        );
        std::fs::write(ws.join("connections.toml"), conns).unwrap();
        let run = |args: &[&str], stdin: Option<&str>| {
            let mut c = polder(ws, args);
            c.env("POLDER_SECRET_KEY_FILE", &key).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = c.spawn().unwrap();
            if let Some(s) = stdin {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
            }
            child.wait_with_output().unwrap()
        };
        let wrong = "not-the-Secret-2718";
        assert!(run(&["secret", "set", "lake"], Some(wrong)).status.success());
        let o = run(&["connection", "test", "lake"], None);
        let (out, err) = super::text(&o);
        assert!(!o.status.success());
        assert!(out.starts_with("failed: connection 'lake':") && out.contains("refused the credentials"), "{out}{err}");
        assert!(!out.contains(wrong) && !err.contains(wrong));
        assert!(run(&["secret", "set", "lake"], Some(&var("POLDER_TEST_S3_SECRET"))).status.success());
        let o = run(&["connection", "test", "lake"], None);
        let (out, _) = super::text(&o);
        assert!(o.status.success(), "{out}");
        assert!(out.starts_with("ok: lake at http://127.0.0.1:") && out.contains("bucket 'polder'"), "{out}");
        // `connection set` writes settings and keeps the stored secret's reference.
        let o = run(
            &[
                "connection",
                "set",
                "lake2",
                &format!("endpoint={}", var("POLDER_TEST_S3_ENDPOINT")),
                "bucket=polder",
                "access_key_id=${env:POLDER_TEST_S3_KEY_ID}",
                "--secret",
                "secret_access_key",
            ],
            Some(&var("POLDER_TEST_S3_SECRET")),
        );
        assert!(o.status.success(), "{:?}", super::text(&o));
        let o = run(
            &[
                "connection",
                "set",
                "lake2",
                &format!("endpoint={}", var("POLDER_TEST_S3_ENDPOINT")),
                "bucket=polder",
                "access_key_id=${env:POLDER_TEST_S3_KEY_ID}",
            ],
            None,
        );
        assert!(o.status.success(), "{:?}", super::text(&o));
        let toml = std::fs::read_to_string(ws.join("connections.toml")).unwrap();
        assert!(
            toml.contains("secret_access_key = \"${secret:lake2-secret_access_key}\"")
                && !toml.contains(&var("POLDER_TEST_S3_SECRET")),
            "{toml}"
        );
        assert!(run(&["connection", "test", "lake2"], None).status.success());
        let o = run(&["connection", "set", "lake2", "secret_access_key=plain-Value-5"], None);
        let (_, err) = super::text(&o);
        assert!(!o.status.success() && err.contains("holds a secret") && !err.contains("plain-Value-5"), "{err}");
        let o = run(&["connection", "test", "nobucket"], None);
        let (out, _) = super::text(&o);
        assert!(out.contains("bucket 'missing-bucket' does not exist"), "{out}");
    }
}
