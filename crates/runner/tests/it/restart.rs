//! SIGKILL the `polder serve` process mid-run, restart it: metadata is consistent, and the
//! run resumes or stays failed as the pipeline's `on_interrupt` says.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::*;

fn serve(ws: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(polder_bin())
        .args(["--workspace", &ws.display().to_string(), "serve", "--bind", "127.0.0.1:0"])
        .env("POLDER_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().parse().unwrap();
    (child, addr)
}

fn pipeline(ws: &Path, policy: &str) {
    let dir = ws.join("p");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = format!(
        "[pipeline]\nname = \"p\"\non_interrupt = \"{policy}\"\n\n[[task]]\nid = \"first\"\nkind = \"sql\"\nsql = \"SELECT 41 AS x\"\n\n\
         [[task]]\nid = \"slow\"\nkind = \"shell\"\ncommand = \"if [ -f ../resumed ]; then exit 0; fi; touch ../resumed; sleep 30\"\ninputs = [\"first\"]\n\n\
         [[task]]\nid = \"last\"\nkind = \"sql\"\nsql = \"SELECT x + 1 AS y FROM first\"\ninputs = [\"slow\"]\n"
    );
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill_mid_run(ws: &Path) -> i64 {
    let (mut child, addr) = serve(ws);
    let run = post(addr, "/api/pipelines/p/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_until("the slow task", || ws.join("resumed").exists());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    run
}

#[test]
fn killed_runner_resumes_runs_when_the_pipeline_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "resume");
    let run = kill_mid_run(tmp.path());
    let (mut child, addr) = serve(tmp.path());
    let old = get(addr, &format!("/api/runs/{run}")).json();
    assert_eq!(old["run"]["status"], "failed");
    assert!(old["run"]["error"].as_str().unwrap().starts_with("interrupted"));
    let tasks = old["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["status"], "success");
    assert_eq!(tasks[1]["status"], "failed");
    assert_eq!(tasks[2]["status"], "cancelled");
    // The resumed run reuses `first` and finishes the rest.
    let mut resumed = serde_json::Value::Null;
    wait_until("the resumed run", || {
        let runs = get(addr, "/api/runs?pipeline=p").json();
        resumed = runs[0].clone();
        resumed["id"].as_i64() != Some(run) && resumed["status"] == "success"
    });
    assert_eq!(resumed["trigger"], format!("resume:{run}"));
    let detail = get(addr, &format!("/api/runs/{}", resumed["id"])).json();
    let status: Vec<&str> = detail["tasks"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["cached", "success", "success"]);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn killed_runner_leaves_runs_failed_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "fail");
    let run = kill_mid_run(tmp.path());
    let (mut child, addr) = serve(tmp.path());
    std::thread::sleep(Duration::from_millis(300));
    let runs = get(addr, "/api/runs?pipeline=p").json();
    assert_eq!(runs.as_array().unwrap().len(), 1, "no new run: {runs}");
    assert_eq!(runs[0]["id"].as_i64(), Some(run));
    assert_eq!(runs[0]["status"], "failed");
    child.kill().unwrap();
    child.wait().unwrap();
}
