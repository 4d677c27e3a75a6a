//! Connections over HTTP against a real S3 server (scripts/test.sh starts SeaweedFS): added with
//! a secret that lands in the keyring only, tested, used by a run; the secret in no file, record
//! or answer. Deploys refused until the runner defines the connections they name; outputs of
//! deployed pipelines survive redeploys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use polder_runner::remotes::SecretStore;
use polder_runner::ServeOptions;
use serde_json::{json, Value};

use crate::http::*;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the tests with scripts/test.sh"))
}

/// The desktop app's keyring, in memory.
#[derive(Debug, Default)]
struct Keyring(Mutex<HashMap<String, String>>);

impl SecretStore for Keyring {
    fn describe(&self) -> String {
        "a test keyring".into()
    }
    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        self.0.lock().unwrap().insert(account.into(), secret.into());
        Ok(())
    }
    fn get(&self, account: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().unwrap().get(account).cloned())
    }
    fn delete(&self, account: &str) -> Result<(), String> {
        self.0.lock().unwrap().remove(account);
        Ok(())
    }
}

fn start_keyring(ws: &std::path::Path, keyring: Arc<Keyring>) -> std::net::SocketAddr {
    start_with(ServeOptions {
        workspace: ws.to_path_buf(),
        bind: "127.0.0.1:0".parse().unwrap(),
        token: Some(TOKEN.into()),
        rotate_token: false,
        allow_hosts: vec![],
        max_active_runs: 4,
        ui_dir: None,
        secrets: Some(keyring),
    })
    .0
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())) {
                hits.push(p);
            }
        }
    }
    hits
}

#[test]
fn a_connection_is_saved_tested_and_used_and_its_secret_reaches_no_file_record_or_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let keyring = Arc::new(Keyring::default());
    let addr = start_keyring(ws, keyring.clone());
    let secret = var("POLDER_TEST_S3_SECRET");
    let answers = std::cell::RefCell::new(Vec::<String>::new());
    let keep = |r: Resp| {
        answers.borrow_mut().push(r.text());
        r
    };

    let body = json!({
        "type": "s3",
        "settings": {
            "endpoint": var("POLDER_TEST_S3_ENDPOINT"),
            "region": var("POLDER_TEST_S3_REGION"),
            "bucket": "polder",
            "path_style": "true",
            "access_key_id": "${env:POLDER_TEST_S3_KEY_ID}",
        },
        "secrets": { "secret_access_key": secret },
    });
    let r = keep(send(addr, "PUT", "/api/connections/lake", body));
    assert_eq!(r.status, 204, "{}", r.text());
    let listed = keep(get(addr, "/api/connections")).json();
    let lake = &listed["connections"][0];
    assert_eq!(lake["name"], "lake");
    assert_eq!(lake["problem"], Value::Null, "{listed}");
    let by_key: HashMap<&str, &Value> =
        lake["settings"].as_array().unwrap().iter().map(|s| (s["key"].as_str().unwrap(), s)).collect();
    assert_eq!(by_key["secret_access_key"]["reference"], "${secret:lake-secret_access_key}");
    assert_eq!(by_key["secret_access_key"]["resolved"], true);
    assert_eq!(by_key["secret_access_key"]["value"], Value::Null);
    assert_eq!(by_key["endpoint"]["value"], var("POLDER_TEST_S3_ENDPOINT"));
    assert_eq!(listed["secrets"], json!(["lake-secret_access_key"]));
    assert_eq!(keyring.0.lock().unwrap().len(), 1, "the value went to the keyring");

    let t = keep(post(addr, "/api/connections/lake/test", "{}")).json();
    assert_eq!(t["ok"], true, "{t}");
    assert!(t["message"].as_str().unwrap().starts_with("ok: lake at http://127.0.0.1:"), "{t}");

    // Editing the endpoint keeps the stored secret's reference.
    let body = json!({ "type": "s3", "settings": {
        "endpoint": var("POLDER_TEST_S3_ENDPOINT"), "region": var("POLDER_TEST_S3_REGION"), "bucket": "polder",
        "access_key_id": "${env:POLDER_TEST_S3_KEY_ID}" } });
    assert_eq!(keep(send(addr, "PUT", "/api/connections/lake", body)).status, 204);
    assert_eq!(keep(post(addr, "/api/connections/lake/test", "{}")).json()["ok"], true);
    // A literal secret in settings is refused, without echoing it.
    let r = keep(send(
        addr,
        "PUT",
        "/api/connections/lake",
        json!({ "type": "s3", "settings": { "secret_access_key": "plain-Text-123" } }),
    ));
    assert_eq!(r.status, 400);
    assert!(r.text().contains("holds a secret") && !r.text().contains("plain-Text-123"), "{}", r.text());

    // A run that reads and writes the bucket through the connection.
    let prefix = format!("it/runner-{}-{}", std::process::id(), polder_engine::store::now_ms());
    let dir = ws.join("lakejob");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/a.csv"), "k,v\na,1\nb,2\na,3\n").unwrap();
    std::fs::write(
        dir.join("pipeline.toml"),
        format!(
            "[pipeline]\nname = \"lakejob\"\n\n[[task]]\nid = \"local\"\nkind = \"source\"\nformat = \"csv\"\npath = \"data/a.csv\"\n\n\
             [[task]]\nid = \"up\"\nkind = \"sink\"\ninput = \"local\"\nformat = \"parquet\"\npath = \"s3://polder/{prefix}/t\"\nconnection = \"lake\"\npartition_by = [\"k\"]\n\n\
             [[task]]\nid = \"back\"\nkind = \"source\"\nformat = \"parquet\"\npath = \"s3://polder/{prefix}/t\"\nconnection = \"lake\"\nhive = true\ninputs = [\"up\"]\n\n\
             [[task]]\nid = \"sums\"\nkind = \"sql\"\nsql = \"SELECT k, SUM(v) AS s FROM back GROUP BY k ORDER BY k\"\n"
        ),
    )
    .unwrap();
    let run = keep(post(addr, "/api/pipelines/lakejob/runs", "{}")).json()["run_id"].as_i64().unwrap();
    let detail = wait_for_end(addr, run);
    assert_eq!(detail["run"]["status"], "success", "{detail}");
    let page = keep(get(addr, &format!("/api/runs/{run}/tasks/sums/output"))).json();
    assert_eq!(page["rows"], json!([{ "k": "a", "s": 4 }, { "k": "b", "s": 2 }]), "{page}");
    answers.borrow_mut().push(detail.to_string());
    for t in ["local", "up", "back", "sums"] {
        keep(get(addr, &format!("/api/runs/{run}/tasks/{t}/log")));
    }
    keep(get(addr, "/api/runs"));
    keep(get(addr, "/api/pipelines/lakejob"));

    // A wrong secret: the test says so in one line.
    let body = json!({ "type": "s3", "settings": { "endpoint": var("POLDER_TEST_S3_ENDPOINT"), "bucket": "polder",
        "access_key_id": "${env:POLDER_TEST_S3_KEY_ID}" }, "secrets": { "secret_access_key": "Wrong-secret-value-99" } });
    assert_eq!(keep(send(addr, "PUT", "/api/connections/lake", body)).status, 204);
    let t = keep(post(addr, "/api/connections/lake/test", "{}")).json();
    assert_eq!(t["ok"], false);
    assert!(t["message"].as_str().unwrap().contains("refused the credentials"), "{t}");

    for a in answers.borrow().iter() {
        assert!(!a.contains(&secret) && !a.contains("Wrong-secret-value-99"), "an API answer holds the secret: {a}");
    }
    assert_eq!(files_containing(ws, &secret), Vec::<std::path::PathBuf>::new(), "the secret is in the workspace");
    assert!(files_containing(ws, "Wrong-secret-value-99").is_empty());

    // Removing the connection removes its secrets.
    assert_eq!(request(addr, "DELETE", "/api/connections/lake", Some(TOKEN), None, None).status, 204);
    assert!(keyring.0.lock().unwrap().is_empty());
    assert_eq!(get(addr, "/api/connections").json()["connections"], json!([]));
    assert_eq!(request(addr, "DELETE", "/api/connections/lake", Some(TOKEN), None, None).status, 404);
}

#[test]
fn a_deploy_names_the_connections_to_define_and_deployed_outputs_survive_redeploys() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("server");
    let (addr, _) = start(&ws, Some(TOKEN));
    let src = tmp.path().join("lakeread");
    std::fs::create_dir_all(src.join("data")).unwrap();
    std::fs::write(src.join("data/local-copy.ndjson"), "{\"a\":1}\n").unwrap();
    std::fs::write(
        src.join("pipeline.toml"),
        "[pipeline]\nname = \"lakeread\"\n\n[[task]]\nid = \"raw\"\nkind = \"source\"\nformat = \"ndjson\"\npath = \"s3://polder/raw/*.ndjson\"\nconnection = \"lake\"\n\n\
         [[task]]\nid = \"more\"\nkind = \"source\"\nformat = \"ndjson\"\npath = \"s3://polder/more/*.ndjson\"\nconnection = \"archive\"\n",
    )
    .unwrap();
    let bundle = polder_runner::deploys::bundle(&src).unwrap();
    let listing = tar_names(&bundle);
    assert!(!listing.iter().any(|n| n.starts_with("data")), "data/ stays home when sources read the bucket: {listing:?}");
    let r = request_bytes(addr, "/api/deploy", &bundle);
    assert_eq!(r.status, 400);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("uses connections this runner does not define"), "{msg}");
    assert!(msg.contains("  archive (type s3)\n  lake (type s3)"), "{msg}");
    std::fs::write(
        ws.join("connections.toml"),
        "[connections.lake]\ntype = \"s3\"\nendpoint = \"http://127.0.0.1:9\"\n\n[connections.archive]\ntype = \"s3\"\nregion = \"eu-west-1\"\n",
    )
    .unwrap();
    assert_eq!(request_bytes(addr, "/api/deploy", &bundle).status, 201);

    // A relative sink path of a deployed pipeline: the runner's data folder, kept across versions.
    let out = tmp.path().join("outjob");
    std::fs::create_dir_all(&out).unwrap();
    let spec = |n: u32| {
        format!("[pipeline]\nname = \"outjob\"\n\n[[task]]\nid = \"q\"\nkind = \"sql\"\nsql = \"SELECT {n} AS n\"\n\n[[task]]\nid = \"w\"\nkind = \"sink\"\ninput = \"q\"\nformat = \"csv\"\npath = \"out/n.csv\"\n")
    };
    std::fs::write(out.join("pipeline.toml"), spec(1)).unwrap();
    assert_eq!(request_bytes(addr, "/api/deploy", &polder_runner::deploys::bundle(&out).unwrap()).status, 201);
    let run = post(addr, "/api/pipelines/outjob/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(addr, run)["run"]["status"], "success");
    let written = ws.join(".polder/data/outjob/out/n.csv");
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "n\n1\n");
    assert!(!ws.join(".polder/deploys/outjob/v1/out").exists(), "nothing is written into the version folder");
    std::fs::write(out.join("pipeline.toml"), spec(2)).unwrap();
    assert_eq!(request_bytes(addr, "/api/deploy", &polder_runner::deploys::bundle(&out).unwrap()).status, 201);
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "n\n1\n", "a redeploy keeps the outputs");
    let run = post(addr, "/api/pipelines/outjob/runs", "{}").json()["run_id"].as_i64().unwrap();
    assert_eq!(wait_for_end(addr, run)["run"]["status"], "success");
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "n\n2\n");
}

fn tar_names(bundle: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(bundle));
    a.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

/// Database connections: Test connects and logs in (the test PostgreSQL and ClickHouse servers of
/// scripts/test.sh), and says in one line what went wrong; the password reaches no answer.
#[test]
fn database_connections_are_tested_by_logging_in() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path();
    let keyring = Arc::new(Keyring::default());
    let addr = start_keyring(ws, keyring.clone());
    let pg_password = var("POLDER_TEST_PG_PASSWORD");
    let body = json!({ "type": "postgres", "settings": { "host": var("POLDER_TEST_PG_HOST"), "port": var("POLDER_TEST_PG_PORT"),
        "database": var("POLDER_TEST_PG_DATABASE"), "user": var("POLDER_TEST_PG_USER") }, "secrets": { "password": pg_password } });
    assert_eq!(send(addr, "PUT", "/api/connections/warehouse", body).status, 204);
    let t = post(addr, "/api/connections/warehouse/test", "{}");
    let t_text = t.text();
    let t = t.json();
    assert_eq!(t["ok"], true, "{t}");
    let message = t["message"].as_str().unwrap();
    assert!(message.starts_with("ok: warehouse at 127.0.0.1:") && message.contains("(PostgreSQL 15."), "{message}");
    assert!(!t_text.contains(&pg_password));

    let body = json!({ "type": "postgres", "settings": { "host": "127.0.0.1", "port": var("POLDER_TEST_PG_PORT"),
        "database": "polder", "user": "polder" }, "secrets": { "password": "Wrong-pg-password-31" } });
    assert_eq!(send(addr, "PUT", "/api/connections/warehouse", body).status, 204);
    let t = post(addr, "/api/connections/warehouse/test", "{}");
    let text = t.text();
    let t = t.json();
    assert_eq!(t["ok"], false);
    assert!(t["message"].as_str().unwrap().contains("password authentication failed"), "{t}");
    assert!(!text.contains("Wrong-pg-password-31"));

    let body = json!({ "type": "clickhouse", "settings": { "url": var("POLDER_TEST_CH_URL"), "user": var("POLDER_TEST_CH_USER") },
        "secrets": { "password": var("POLDER_TEST_CH_PASSWORD") } });
    assert_eq!(send(addr, "PUT", "/api/connections/olap", body).status, 204);
    let t = post(addr, "/api/connections/olap/test", "{}").json();
    assert_eq!(t["ok"], true, "{t}");
    assert!(t["message"].as_str().unwrap().contains("(ClickHouse 18.16"), "{t}");
    let body = json!({ "type": "clickhouse", "settings": { "url": var("POLDER_TEST_CH_URL"), "user": var("POLDER_TEST_CH_USER") },
        "secrets": { "password": "Wrong-ch-password-42" } });
    assert_eq!(send(addr, "PUT", "/api/connections/olap", body).status, 204);
    let t = post(addr, "/api/connections/olap/test", "{}");
    let text = t.text();
    let t = t.json();
    assert_eq!(t["ok"], false);
    assert!(t["message"].as_str().unwrap().contains("refused user 'polder' (connection 'olap')"), "{t}");
    assert!(!text.contains("Wrong-ch-password-42"));
}
