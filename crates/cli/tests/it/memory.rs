//! Memory budgets: a runaway Polars task is killed in its child process and fails alone (in
//! `polder run` and in `polder serve`); DuckDB tasks spill within their budget or fail clearly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{polder, text};

/// `a` and `b` have 100k rows each; `boom` sorts their cross join (10^10 rows, hundreds of GB)
/// within 300 MB; `fine` and `other` do not depend on it.
const RUNAWAY: &str = r#"[pipeline]
name = "p"

[[task]]
id = "a"
kind = "sql"
engine = "duckdb"
sql = "SELECT range AS x FROM range(100000)"

[[task]]
id = "b"
kind = "sql"
engine = "duckdb"
sql = "SELECT range AS y FROM range(100000)"

[[task]]
id = "boom"
kind = "sql"
engine = "polars"
sql = "SELECT a.x, b.y FROM a, b ORDER BY b.y, a.x"
memory_limit = "300MB"

[[task]]
id = "fine"
kind = "sql"
engine = "polars"
sql = "SELECT count(*) AS n FROM a"

[[task]]
id = "other"
kind = "sql"
engine = "polars"
sql = "SELECT 42 AS answer"
"#;

/// The resident size (in MB) the message says the task reached, after "used ".
fn used_mb(msg: &str) -> f64 {
    let rest = &msg[msg.find(" used ").expect("names the memory used") + 6..];
    let (num, unit) = rest.split_once(' ').unwrap();
    let v: f64 = num.parse().unwrap();
    match &unit[..2] {
        "GB" => v * 1000.0,
        "MB" => v,
        other => panic!("unit {other} in {msg}"),
    }
}

/// The first row of a task's latest output.
fn preview(ws: &Path, dir: &Path, task: &str) -> serde_json::Value {
    let (rows, err) = text(&polder(ws, &["preview", &dir.display().to_string(), task, "--json"]));
    serde_json::from_str(rows.lines().next().unwrap_or_else(|| panic!("no rows for {task}: {err}"))).unwrap()
}

fn assert_budget_message(msg: &str) {
    assert!(msg.contains("task 'boom' used "), "{msg}");
    assert!(msg.contains("over its memory budget of 300 MB (memory_limit); raise `memory_limit` in pipeline.toml"), "{msg}");
    assert!(used_mb(msg) > 300.0, "{msg}");
}

#[test]
fn a_runaway_polars_task_is_stopped_at_its_budget_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pipeline.toml"), RUNAWAY).unwrap();
    let started = Instant::now();
    let o = polder(ws, &["run", &dir.display().to_string()]);
    let (out, err) = text(&o);
    // The process ended on its own with the failed status: it was not killed.
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert!(out.contains("run 1 failed"), "{out}");
    let line = err.lines().find(|l| l.starts_with("task 'boom' failed: ")).unwrap_or_else(|| panic!("{err}"));
    assert_budget_message(line);
    let (show, _) = text(&polder(ws, &["show", "1"]));
    for task in ["a", "b", "fine", "other"] {
        assert!(show.lines().any(|l| l.contains(task) && l.contains("success")), "{task}: {show}");
    }
    assert_eq!(preview(ws, &dir, "fine")["n"], 100_000);
    let (log, _) = text(&polder(ws, &["logs", "1", "boom"]));
    assert!(log.contains("running in process ") && log.contains("with a memory budget of 300 MB"), "{log}");
}

#[test]
fn a_runaway_task_in_the_runner_fails_alone_and_the_runner_keeps_serving() {
    const TOKEN: &str = "memory-test-token";
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    std::fs::create_dir_all(ws.join("p")).unwrap();
    std::fs::write(ws.join("p/pipeline.toml"), RUNAWAY).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_polder"))
        .args(["--workspace", &ws.display().to_string(), "serve", "--bind", "127.0.0.1:0"])
        .env("POLDER_TOKEN", TOKEN)
        .env_remove("POLDER_WORKSPACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit_once(' ').map(|(_, url)| url.to_string()).unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let auth = format!("Bearer {TOKEN}");
    let get = |path: &str| -> serde_json::Value {
        let mut r = ureq::get(format!("{base}{path}")).header("Authorization", &auth).call().unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    let mut r = ureq::post(format!("{base}/api/pipelines/p/runs"))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .send("{}")
        .unwrap();
    let trigger: serde_json::Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    let run_id = trigger["run_id"].as_i64().unwrap_or_else(|| panic!("{trigger}"));
    let deadline = Instant::now() + Duration::from_secs(90);
    let detail = loop {
        let d = get(&format!("/api/runs/{run_id}"));
        if d["run"]["status"] != "running" && d["run"]["status"] != "queued" {
            break d;
        }
        assert!(Instant::now() < deadline, "the run never ended: {d}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(detail["run"]["status"], "failed", "{detail}");
    let tasks = detail["tasks"].as_array().unwrap();
    let task = |id: &str| tasks.iter().find(|t| t["task_id"] == id).unwrap_or_else(|| panic!("{id}: {detail}"));
    assert_eq!(task("boom")["status"], "failed");
    assert_budget_message(task("boom")["error"].as_str().unwrap());
    for id in ["a", "b", "fine", "other"] {
        assert_eq!(task(id)["status"], "success", "{id}: {detail}");
    }
    // A notebook preview runs in a task process too: a runaway one fails alone.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let preview = |task: &str, body: &str| -> (u16, String) {
        let mut r = agent
            .post(format!("{base}/api/pipelines/p/tasks/{task}/preview"))
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let (code, body) = preview("fine", "{}");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("100000"), "{body}");
    let (code, body) = preview("boom", r#"{"sql": "SELECT a.x, b.y, count(*) AS n FROM a, b GROUP BY a.x, b.y"}"#);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("over its memory budget of 300 MB (memory_limit)"), "{body}");
    // The server survived its task and still answers.
    assert_eq!(get("/api/health")["ok"], true);
    assert!(server.try_wait().unwrap().is_none(), "the runner exited");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn duckdb_tasks_spill_within_their_budget_or_fail_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    // `sorted` sorts 6M rows holding 192 MB of hashes alone in 100 MB: it must spill. `hoard`
    // builds one list of 8M hashes, which DuckDB cannot spill.
    let spec = r#"[pipeline]
name = "p"
engine = "duckdb"

[defaults]
memory_limit = "100MB"

[[task]]
id = "sorted"
kind = "sql"
sql = "SELECT i, md5(i::VARCHAR) AS h FROM range(6000000) t(i) ORDER BY h"

[[task]]
id = "checked"
kind = "sql"
sql = "SELECT count(*) AS n, bool_and(h >= prev) AS ordered FROM (SELECT h, lag(h, 1, '') OVER () AS prev FROM sorted)"

[[task]]
id = "hoard"
kind = "sql"
sql = "SELECT length(list(md5(i::VARCHAR))) AS n FROM range(8000000) t(i)"
"#;
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let o = polder(ws, &["run", &dir.display().to_string()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    let checked = preview(ws, &dir, "checked");
    assert_eq!((checked["n"].as_i64(), checked["ordered"].as_bool()), (Some(6_000_000), Some(true)), "{out}\n{err}");
    let line = err.lines().find(|l| l.starts_with("task 'hoard' failed: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains(
            "task 'hoard' ran out of memory within its memory budget of 100 MB (memory_limit), \
             with DuckDB spilling what it could to disk: Out of Memory Error"
        ) && line.contains("raise `memory_limit` in pipeline.toml"),
        "{line}"
    );
    // Each attempt's spill folder is gone once it ends.
    let spill = ws.join(".polder/tmp/spill");
    assert_eq!(std::fs::read_dir(&spill).map(|d| d.count()).unwrap_or(0), 0, "{spill:?} not emptied");
}

#[test]
fn a_timeout_stops_a_running_polars_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    // Minutes of work in bounded memory: only the timeout can stop it.
    let spec = format!("{SPIN}timeout_secs = 1\n");
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let started = Instant::now();
    let o = polder(ws, &["run", &dir.display().to_string()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("task 'spin' failed: timed out after 1s"), "{err}");
    // Before task processes, the plan ran on after the timeout and held the process open.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    let (log, _) = text(&polder(ws, &["logs", "1", "spin"]));
    assert!(log.contains("running in process "), "{log}");
    let pid: i32 = log.split("running in process ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    // SAFETY: signal 0 only probes whether the pid exists.
    assert!(unsafe { libc::kill(pid, 0) } != 0, "task process {pid} still alive");
}

/// A pipeline whose Polars task `spin` (last, so settings can be appended to it) sums 10^10 row
/// pairs: minutes of work in bounded memory.
const SPIN: &str = r#"[pipeline]
name = "p"

[[task]]
id = "a"
kind = "sql"
engine = "duckdb"
sql = "SELECT range AS x FROM range(100000)"

[[task]]
id = "spin"
kind = "sql"
engine = "polars"
sql = "SELECT count(*) AS n, sum(l.x * r.x) AS s FROM a AS l CROSS JOIN a AS r"
"#;

/// Starts `polder run` on a pipeline whose Polars task `spin` runs for minutes, and returns it
/// with the pid of spin's task process once that runs.
fn start_spinning(ws: &Path) -> (std::process::Child, i32) {
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = SPIN.to_string()
        + r#"
[[task]]
id = "after"
kind = "sql"
engine = "polars"
sql = "SELECT count(*) AS n FROM a"
inputs = ["a"]
"#;
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_polder"))
        .args(["--workspace", &ws.display().to_string(), "run", &dir.display().to_string()])
        .env_remove("POLDER_WORKSPACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = ws.join(".polder/logs/p/run-1/spin.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid: i32 = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("running in process ").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        assert!(Instant::now() < deadline, "the task never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    (run, pid)
}

#[test]
fn a_task_process_killed_from_outside_fails_its_task_only() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let (run, pid) = start_spinning(ws);
    // What the kernel's OOM killer would do to it.
    // SAFETY: killing the task process this test's run started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let o = run.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("task 'spin' failed: the task's process was killed by signal 9 (SIGKILL;"), "{err}");
    let (show, _) = text(&polder(ws, &["show", "1"]));
    assert!(show.lines().any(|l| l.contains("after") && l.contains("success")), "{show}");
}

#[test]
fn cancel_stops_a_running_polars_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, pid) = start_spinning(tmp.path());
    let started = Instant::now();
    // SAFETY: sending SIGINT (Ctrl-C) to the run this test started.
    unsafe { libc::kill(run.id() as i32, libc::SIGINT) };
    let o = run.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(text(&o).0.contains("run 1 cancelled"), "{:?}", text(&o));
    // SAFETY: signal 0 only probes whether the pid exists.
    assert!(unsafe { libc::kill(pid, 0) } != 0, "task process {pid} still alive");
}

/// The `polder` binary restores SIGPIPE's default action (so `polder runs | head` ends quietly):
/// handing a task to an idle task process that has died must fail that write, not kill the run.
#[test]
fn an_idle_task_process_that_died_is_replaced_and_the_run_lives() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    // `first` leaves its task process idle in the pool; `kill` (a shell task, a child of the
    // run) kills the run's idle task processes; `second` is then handed to a dead one first.
    let spec = r#"[pipeline]
name = "p"
max_parallel = 1

[[task]]
id = "first"
kind = "sql"
engine = "polars"
sql = "SELECT 1 AS a"

[[task]]
id = "kill"
kind = "shell"
command = "pkill -KILL -P $PPID -x exe; sleep 0.3"
inputs = ["first"]

[[task]]
id = "second"
kind = "sql"
engine = "polars"
sql = "SELECT 2 AS b"
inputs = ["kill"]
"#;
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let o = polder(ws, &["run", &dir.display().to_string()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "killed by a signal? {:?}\n{out}\n{err}", o.status);
    assert!(out.contains("run 1 success"), "{out}\n{err}");
    let log = std::fs::read_to_string(ws.join(".polder/logs/p/run-1/second.log")).unwrap();
    assert_eq!(log.matches("running in process").count(), 2, "{log}");
}
