//! SIGKILL the `polder serve` process mid-run, restart it: metadata is consistent, and the
//! run resumes or stays failed as the pipeline's `on_interrupt` says. Also: a killed process
//! left unreaped (a zombie), a process dying while the runner serves, the end time of a killed
//! run, and temp outputs left beside sink targets.

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

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The state letter of a process in /proc (`Z` for a zombie), if it is there.
fn proc_state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')').and_then(|(_, s)| s.split_whitespace().next()).map(str::to_string)
}

/// Kills and reaps its child when dropped, so a failing test leaves no server running.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the run that resumes `run` to succeed; that run's record.
fn wait_resumed(addr: std::net::SocketAddr, run: i64) -> serde_json::Value {
    let mut resumed = serde_json::Value::Null;
    wait_until("the resumed run", || {
        let runs = get(addr, "/api/runs?pipeline=p").json();
        resumed = runs[0].clone();
        resumed["id"].as_i64() != Some(run) && resumed["status"] == "success"
    });
    resumed
}

/// A pid that no process has: a child that exited and was reaped.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
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
    let resumed = wait_resumed(addr, run);
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

/// The killed runner is not reaped, so it lingers as a zombie with its pid in /proc while a new
/// runner starts on the workspace at once: the run must still be found interrupted and resumed.
#[test]
fn a_runner_started_beside_its_killed_unreaped_predecessor_resumes_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "resume");
    let (old, addr) = serve(tmp.path());
    let mut old = Reaped(old);
    let run = post(addr, "/api/pipelines/p/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_until("the slow task", || tmp.path().join("resumed").exists());
    old.0.kill().unwrap(); // SIGKILL, and no wait(): the process stays a zombie
    let (new, addr) = serve(tmp.path());
    let _new = Reaped(new);
    let resumed = wait_resumed(addr, run);
    assert_eq!(resumed["trigger"], format!("resume:{run}"));
    let old_run = get(addr, &format!("/api/runs/{run}")).json();
    assert_eq!(old_run["run"]["status"], "failed");
    assert!(old_run["run"]["error"].as_str().unwrap().starts_with("interrupted"));
    if cfg!(target_os = "linux") {
        assert_eq!(proc_state(old.0.id()).as_deref(), Some("Z"), "the old runner was still an unreaped zombie");
    }
}

/// A `polder run` killed while a runner serves the same workspace: the runner recovers its run
/// without being restarted.
#[test]
fn a_run_orphaned_while_the_runner_serves_is_recovered_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "fail");
    let (server, addr) = serve(tmp.path());
    let _server = Reaped(server);
    let mut cli = Reaped(
        Command::new(polder_bin())
            .arg("--workspace")
            .arg(tmp.path())
            .arg("run")
            .arg(tmp.path().join("p"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until("the slow task", || tmp.path().join("resumed").exists());
    cli.0.kill().unwrap();
    cli.0.wait().unwrap();
    let mut run = serde_json::Value::Null;
    wait_until("the orphaned run to be failed", || {
        run = get(addr, "/api/runs?pipeline=p").json()[0].clone();
        run["status"] == "failed"
    });
    assert!(run["error"].as_str().unwrap().starts_with("interrupted"), "{run}");
    assert_eq!(run["trigger"], "cli");
    let detail = get(addr, &format!("/api/runs/{}", run["id"])).json();
    assert_eq!(detail["tasks"][1]["status"], "failed");
}

/// A killed run's duration ends at its last heartbeat, not when a later start finds it.
#[test]
fn a_killed_run_ends_at_its_last_heartbeat_not_when_found() {
    let tmp = tempfile::tempdir().unwrap();
    pipeline(tmp.path(), "fail");
    let run = kill_mid_run(tmp.path());
    let killed_by = now_ms();
    std::thread::sleep(Duration::from_secs(3));
    let (child, addr) = serve(tmp.path());
    let _child = Reaped(child);
    let detail = get(addr, &format!("/api/runs/{run}")).json();
    assert_eq!(detail["run"]["status"], "failed");
    let started = detail["run"]["started_at_ms"].as_i64().unwrap();
    let ended = detail["run"]["ended_at_ms"].as_i64().unwrap();
    assert!(started <= ended && ended <= killed_by, "run {started}..{ended}, killed by {killed_by}");
    let slow = &detail["tasks"][1];
    assert_eq!(slow["status"], "failed");
    let slow_ended = slow["ended_at_ms"].as_i64().unwrap();
    assert!(slow["started_at_ms"].as_i64().unwrap() <= slow_ended && slow_ended <= killed_by, "{slow}");
}

/// Temp outputs beside a sink target (and half-unpacked deploys) whose writer is dead are removed
/// at start and while the runner serves; one whose writer lives is kept.
#[test]
fn leftovers_of_dead_writers_beside_sinks_are_swept_at_start_and_while_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let dir = ws.join("s");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let spec = "[pipeline]\nname = \"s\"\n\n[[task]]\nid = \"src\"\nkind = \"sql\"\nsql = \"SELECT 1 AS k, 2 AS v\"\n\n\
                [[task]]\nid = \"gold\"\nkind = \"sink\"\ninput = \"src\"\nformat = \"parquet\"\npath = \"out/gold\"\npartition_by = [\"k\"]\n";
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    let partial = |name: &str| {
        let d = dir.join("out").join(name);
        std::fs::create_dir_all(d.join("k=1")).unwrap();
        std::fs::write(d.join("k=1/data_0.parquet"), "partial").unwrap();
        d
    };
    // A writer killed mid-write (its pid is gone), and one still writing (its owner lock held).
    let dead = partial(&format!(".gold.tmp-{}-6", dead_pid()));
    let owners = ws.join(".polder/owners");
    std::fs::create_dir_all(&owners).unwrap();
    let live_owner = format!("{}-live", std::process::id());
    let lock = std::fs::File::create(owners.join(format!("{live_owner}.lock"))).unwrap();
    lock.lock().unwrap();
    let live = partial(&format!(".gold.tmp-{live_owner}-7"));
    // A deploy cut off while unpacking.
    let unpacking = ws.join(format!(".polder/deploys/.incoming.tmp-{}-1-5", dead_pid()));
    std::fs::create_dir_all(&unpacking).unwrap();
    let _child = Reaped(serve(ws).0);
    wait_until("the dead writer's folder to go", || !dead.exists());
    wait_until("the half-unpacked deploy to go", || !unpacking.exists());
    // While serving: a writer whose pid lives on (pid 1) but whose owner lock nobody holds.
    std::fs::write(owners.join("1-gone.lock"), "").unwrap();
    let reused = partial(".gold.tmp-1-gone-8");
    wait_until("the reused pid's folder to go", || !reused.exists());
    assert!(live.join("k=1/data_0.parquet").exists(), "a live writer's temp was removed");
    drop(lock);
}
