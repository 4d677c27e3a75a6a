//! Deploys over HTTP: `polder deploy`, versions, a redeploy during a run, rollback, and hostile
//! bundles refused with nothing written outside the deploy folder.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::http::*;

fn write_pipeline(dir: &Path, version: &str) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let spec = format!(
        "# deployed by a test\n[pipeline]\nname = \"dep\"\nschedule = \"0 4 * * *\"\n\n[[task]]\nid = \"wait\"\nkind = \"shell\"\ncommand = \"sleep 1\"\n\n\
         [[task]]\nid = \"out\"\nkind = \"sql\"\nsql = \"SELECT '{version}' AS version, COUNT(*) AS n FROM src\"\ninputs = [\"wait\"]\n\n\
         [[task]]\nid = \"src\"\nkind = \"source\"\nformat = \"csv\"\npath = \"data/x.csv\"\n"
    );
    std::fs::write(dir.join("pipeline.toml"), spec).unwrap();
    std::fs::write(dir.join("data/x.csv"), "a\n1\n2\n3\n").unwrap();
}

fn deploy(addr: SocketAddr, dir: &Path) -> String {
    let out = Command::new(polder_bin())
        .args(["deploy", &dir.display().to_string(), "--to", &format!("http://{addr}")])
        .env("POLDER_TOKEN", TOKEN)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

fn version_of_output(addr: SocketAddr, run: i64) -> String {
    let page = get(addr, &format!("/api/runs/{run}/tasks/out/output")).json();
    assert_eq!(page["rows"][0]["n"], 3);
    page["rows"][0]["version"].as_str().unwrap().to_string()
}

#[test]
fn deploy_redeploy_during_a_run_and_roll_back() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("server");
    let src = tmp.path().join("dep");
    write_pipeline(&src, "v1");
    let (addr, _) = start(&ws, Some(TOKEN));

    let said = deploy(addr, &src);
    assert!(said.starts_with(&format!("deployed 'dep' as version 1 to http://{addr}")), "{said}");
    assert!(said.contains("schedule 0 4 * * *: next run "), "{said}");
    let p = get(addr, "/api/pipelines/dep").json();
    assert_eq!(p["version"], 1);

    // A run starts on v1; v2 is deployed while it runs; the run finishes on v1.
    let run_a = post(addr, "/api/pipelines/dep/runs", "{}").json()["run_id"].as_i64().unwrap();
    write_pipeline(&src, "v2");
    assert!(deploy(addr, &src).starts_with("deployed 'dep' as version 2"));
    assert_eq!(wait_for_end(addr, run_a)["run"]["status"], "success");
    assert_eq!(version_of_output(addr, run_a), "v1");
    let run_b = post(addr, "/api/pipelines/dep/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_for_end(addr, run_b);
    assert_eq!(version_of_output(addr, run_b), "v2");

    let versions = get(addr, "/api/pipelines/dep/versions").json();
    assert_eq!(versions["active"], 2);
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
    let r = post(addr, "/api/pipelines/dep/rollback", r#"{"version": 1}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let run_c = post(addr, "/api/pipelines/dep/runs", "{}").json()["run_id"].as_i64().unwrap();
    wait_for_end(addr, run_c);
    assert_eq!(version_of_output(addr, run_c), "v1");
    assert_eq!(post(addr, "/api/pipelines/dep/rollback", r#"{"version": 9}"#).status, 400);
    // The deployed spec kept its comment: versions are the uploaded files as they were.
    let stored = std::fs::read_to_string(ws.join(".polder/deploys/dep/v1/pipeline.toml")).unwrap();
    assert!(stored.starts_with("# deployed by a test"));

    // A wrong token is reported by the runner's answer, not as a broken upload.
    let out = Command::new(polder_bin())
        .args(["deploy", &src.display().to_string(), "--to", &format!("http://{addr}")])
        .env("POLDER_TOKEN", "wrong-token")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("GET /api/status failed (401 Unauthorized)"), "{err}");
    assert_eq!(get(addr, "/api/pipelines/dep/versions").json()["versions"].as_array().unwrap().len(), 2);
}

/// A tar.gz with one entry whose raw name, type, declared size and content are as given
/// (written by hand so that `..`, absolute names and lying sizes get through).
fn raw_bundle(name: &str, kind: tar::EntryType, link: Option<&str>, declared: u64, content: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(declared);
    h.set_mode(0o644);
    if let Some(l) = link {
        h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
    }
    h.set_cksum();
    let mut raw = h.as_bytes().to_vec();
    raw.extend_from_slice(content);
    raw.resize(raw.len().div_ceil(512) * 512 + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

#[test]
fn hostile_bundles_are_refused_and_write_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("server");
    let (addr, _) = start(&ws, Some(TOKEN));
    let canary = tmp.path().join("escaped");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (raw_bundle(&canary.display().to_string(), tar::EntryType::Regular, None, 3, b"bad"), "is an absolute path"),
        (raw_bundle("../../escaped", tar::EntryType::Regular, None, 3, b"bad"), "leaves the pipeline folder"),
        (raw_bundle("link", tar::EntryType::Symlink, Some("/etc"), 0, b""), "is a link"),
        (raw_bundle("big.csv", tar::EntryType::Regular, None, 600 << 20, b"tiny"), "larger than 512 MiB"),
        (raw_bundle("dev", tar::EntryType::Char, None, 0, b""), "not a regular file"),
        (b"not a bundle at all".to_vec(), "not a valid tar.gz bundle"),
    ];
    for (bundle, why) in cases {
        let r = request_bytes(addr, "/api/deploy", &bundle);
        assert_eq!(r.status, 400, "{why}: {}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains(why), "{why}: {}", r.text());
    }
    assert!(!canary.exists() && !ws.join("escaped").exists() && !tmp.path().join("server/.polder/escaped").exists());

    // A pipeline whose query cannot run over its inputs' schemas is refused before it is stored.
    let spec = b"[pipeline]\nname = \"planned\"\n\n[[task]]\nid = \"a\"\nkind = \"sql\"\nsql = \"SELECT 1 AS x\"\n\n[[task]]\nid = \"b\"\nkind = \"sql\"\nengine = \"duckdb\"\nsql = \"SELECT y FROM a\"\n";
    let r =
        request_bytes(addr, "/api/deploy", &raw_bundle("pipeline.toml", tar::EntryType::Regular, None, spec.len() as u64, spec));
    assert_eq!(r.status, 400, "{}", r.text());
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("queries that would fail") && message.contains("task 'b'") && message.contains("\"y\" not found"),
        "{message}"
    );
    assert!(!message.contains(&tmp.path().display().to_string()), "{message}");
    assert_eq!(get(addr, "/api/pipelines/planned").status, 404);
    // Nothing was kept: no version, no leftover incoming folder.
    let left: Vec<_> = std::fs::read_dir(ws.join(".polder/deploys")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
    // A bundle whose pipeline is invalid is refused with the engine's message.
    let src = tmp.path().join("bad");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("pipeline.toml"), "[pipeline]\nname = \"bad\"\n\n[[task]]\nid = \"a\"\nkind = \"sqll\"\n").unwrap();
    let out = Command::new(polder_bin())
        .args(["deploy", &src.display().to_string(), "--to", &format!("http://{addr}")])
        .env("POLDER_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind `sqll`"));
}

/// Copies examples/medallion (without generated data or outputs) to `dest` and generates `rows`
/// rows of logs for it.
fn medallion_copy(dest: &Path, rows: usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/medallion");
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let name = e.file_name();
            if name == "data" || name == "out" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(&name));
            } else {
                std::fs::copy(e.path(), to.join(&name)).unwrap();
            }
        }
    }
    copy(&src, dest);
    let logs = dest.join("data/logs");
    let out = Command::new(polder_bin())
        .args(["gen", "medallion", "--out", &logs.display().to_string(), "--rows", &rows.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn send_json(addr: SocketAddr, method: &str, path: &str, body: &str) -> Resp {
    request(addr, method, path, Some(TOKEN), None, Some(body))
}

#[test]
fn a_workspace_pipeline_deploys_to_a_remote_runner_and_runs_there_with_the_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (local_ws, remote_ws) = (tmp.path().join("local"), tmp.path().join("remote"));
    medallion_copy(&local_ws.join("medallion"), 20_000);
    let (local, _) = start(&local_ws, Some(TOKEN));
    let (remote, _) = start(&remote_ws, Some(TOKEN));

    // Register the remote; its token is stored but never shown.
    let r = send_json(local, "PUT", "/api/remotes/prod", &format!(r#"{{"url": "http://{remote}/", "token": "{TOKEN}"}}"#));
    assert_eq!(r.status, 204, "{}", r.text());
    let list = get(local, "/api/remotes").json();
    assert_eq!(list, serde_json::json!([{ "name": "prod", "url": format!("http://{remote}"), "token_store": "file" }]));
    assert!(!get(local, "/api/remotes").text().contains(TOKEN));

    // Run here, deploy there, run there: the gold outputs agree row for row.
    let run = post(local, "/api/pipelines/medallion/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(local, run)["run"]["status"], "success");
    let here = get(local, &format!("/api/runs/{run}/tasks/gold/output?limit=10000")).json();
    assert!(here["total_rows"].as_u64().unwrap() > 100);

    let r = send_json(local, "POST", "/api/pipelines/medallion/deploy", r#"{"remote": "prod"}"#);
    assert_eq!(r.status, 201, "{}", r.text());
    let answer = r.json();
    assert_eq!((answer["pipeline"].as_str(), answer["version"].as_u64()), (Some("medallion"), Some(1)));
    assert_eq!(answer["schedule"], "0 2 * * *");
    assert!(answer["next_run"].as_str().is_some_and(|n| n.contains("02:00")), "{answer}");
    assert_eq!(answer["remote"], "prod");
    assert_eq!(get(remote, "/api/pipelines/medallion/versions").json()["active"], 1);

    let there_run = post(remote, "/api/pipelines/medallion/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(remote, there_run)["run"]["status"], "success");
    let there = get(remote, &format!("/api/runs/{there_run}/tasks/gold/output?limit=10000")).json();
    assert_eq!(there["total_rows"], here["total_rows"]);
    assert_eq!(there["rows"], here["rows"]);

    // Refusals come back readable: a wrong token, an unknown remote, an invalid pipeline.
    send_json(local, "PUT", "/api/remotes/stale", &format!(r#"{{"url": "http://{remote}", "token": "wrong"}}"#));
    let r = send_json(local, "POST", "/api/pipelines/medallion/deploy", r#"{"remote": "stale"}"#);
    assert_eq!(r.status, 502);
    assert!(r.json()["message"].as_str().unwrap().contains("runner 'stale' refused the token"), "{}", r.text());
    let r = send_json(local, "POST", "/api/pipelines/medallion/deploy", r#"{"remote": "nowhere"}"#);
    assert_eq!(r.status, 404);
    let spec = local_ws.join("medallion/pipeline.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("kind = \"sql\"", "kind = \"sqll\"")).unwrap();
    let r = send_json(local, "POST", "/api/pipelines/medallion/deploy", r#"{"remote": "prod"}"#);
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("pipeline.toml"), "{}", r.text());
    assert_eq!(get(remote, "/api/pipelines/medallion/versions").json()["active"], 1, "nothing was sent");
}

#[test]
fn a_remote_runner_is_watched_through_this_one_with_the_remotes_own_token() {
    use std::io::{BufRead, BufReader};
    const REMOTE_TOKEN: &str = "only-the-remote-knows";
    let tmp = tempfile::tempdir().unwrap();
    let (local, _) = start(&tmp.path().join("local"), Some(TOKEN));
    let remote_ws = tmp.path().join("remote");
    write_pipeline(&remote_ws.join("dep"), "there");
    let (remote, _) = start(&remote_ws, Some(REMOTE_TOKEN));
    let r = send_json(local, "PUT", "/api/remotes/prod", &format!(r#"{{"url": "http://{remote}", "token": "{REMOTE_TOKEN}"}}"#));
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(get(local, "/api/remotes").json()[0]["token_store"], "file");

    // The remote's pipelines, with this runner's token: the remote's token is added on the way.
    let list = get(local, "/api/remotes/prod/api/pipelines").json();
    assert_eq!(list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["dep"]);
    // Without this runner's token nothing passes, whatever the remote would say.
    let r = request(local, "GET", "/api/remotes/prod/api/pipelines", Some(REMOTE_TOKEN), None, None);
    assert_eq!(r.status, 401);

    // Its event stream comes through live: subscribe, trigger there through here, see the run end.
    let mut sse = std::net::TcpStream::connect(local).unwrap();
    write!(sse, "GET /api/remotes/prod/api/events HTTP/1.1\r\nHost: {local}\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").unwrap();
    sse.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reader = BufReader::new(sse);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    std::thread::sleep(Duration::from_millis(200));
    let r = send_json(local, "POST", "/api/remotes/prod/api/pipelines/dep/runs", "{}");
    assert_eq!(r.status, 202, "{}", r.text());
    let run = r.json()["run_id"].as_i64().unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some(data) = line.trim_end().strip_prefix("data: ") else { continue };
        let ev: Value = serde_json::from_str(data).unwrap();
        if ev["run_id"].as_i64() == Some(run) && ev["event"] == "run_finished" {
            assert_eq!(ev["status"], "success", "{ev}");
            break;
        }
    }
    // Outputs page through too, JSON and Arrow, with their content types.
    let page = get(local, &format!("/api/remotes/prod/api/runs/{run}/tasks/out/output")).json();
    assert_eq!((page["rows"][0]["version"].as_str(), page["rows"][0]["n"].as_i64()), (Some("there"), Some(3)));
    let arrow = request(
        local,
        "GET",
        &format!("/api/remotes/prod/api/runs/{run}/tasks/out/output?format=arrow"),
        Some(TOKEN),
        None,
        None,
    );
    assert_eq!(arrow.status, 200, "{}", arrow.text());
    assert_eq!(arrow.header("content-type"), Some("application/vnd.apache.arrow.stream"));
    assert_eq!(arrow.header("x-total-rows"), Some("1"));
    // The remote's own errors pass through; a remote refusing its token is a 502 (a 401 would
    // sign the page out of this runner); unknown remotes and paths that climb are refused here.
    let r = get(local, "/api/remotes/prod/api/runs/999999");
    assert_eq!(r.status, 404, "{}", r.text());
    send_json(local, "PUT", "/api/remotes/stale", &format!(r#"{{"url": "http://{remote}", "token": "wrong"}}"#));
    let r = get(local, "/api/remotes/stale/api/pipelines");
    assert_eq!(r.status, 502);
    assert!(r.json()["message"].as_str().unwrap().contains("runner 'stale' refused the token"), "{}", r.text());
    assert_eq!(get(local, "/api/remotes/nowhere/api/pipelines").status, 404);
    assert_eq!(get(local, "/api/remotes/prod/api/../../api/status").status, 400);
}
