//! Python tasks over HTTP: added with their file, saved, previewed unsaved, run, their failures
//! located in the code; deploys build the environment first (a real Python and Polars).

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::http::*;

const CODE: &str = "import polars as pl\n\n\ndef run(orders: pl.LazyFrame, params: dict) -> pl.LazyFrame:\n    return orders.group_by(\"customer\").agg(pl.col(\"amount\").sum().alias(\"total\")).sort(\"customer\")\n";

#[test]
fn a_python_task_is_added_saved_previewed_run_and_its_errors_located() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    assert_eq!(send(addr, "POST", "/api/pipelines", json!({ "name": "shop" })).status, 201);
    let dir = tmp.path().join("shop");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/orders.csv"), "id,customer,amount\n1,ann,10\n2,bob,5\n3,ann,7\n").unwrap();
    let r = send(
        addr,
        "POST",
        "/api/pipelines/shop/tasks",
        json!({ "id": "orders", "kind": "source", "settings": { "format": "csv", "path": "data/orders.csv" } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Added with its file: the code lands in totals.py, pipeline.toml names the file.
    let r = send(
        addr,
        "POST",
        "/api/pipelines/shop/tasks",
        json!({ "id": "totals", "kind": "python", "settings": { "file": "totals.py", "code": CODE, "schema": { "customer": "str not null unique" } } }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("totals.py")).unwrap(), CODE);
    let spec = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    assert!(spec.contains("kind = \"python\"") && spec.contains("file = \"totals.py\"") && !spec.contains("def run"), "{spec}");
    let detail = get(addr, "/api/pipelines/shop").json();
    assert_eq!(detail["edges"], json!([{ "from": "orders", "to": "totals" }]));
    let task = detail["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "totals").unwrap().clone();
    assert_eq!(task["kind"], "python");
    assert_eq!(task["settings"]["reads"], json!(["orders"]));
    assert_eq!(task["settings"]["code"], CODE);
    assert_eq!(task["schema"]["columns"][0], json!({ "name": "customer", "dtype": "str", "not_null": true, "unique": true }));

    // Before it ever ran, editors complete the columns its contract declares.
    let schemas = get(addr, "/api/pipelines/shop/schemas").json();
    assert_eq!(schemas["tasks"]["totals"], json!([{ "name": "customer", "type": "str" }]), "{schemas}");

    // A parameter naming no task is refused with its line; the file keeps its text.
    let bad = "import polars as pl\n\n\ndef run(order):\n    return order\n";
    let r = send(addr, "PUT", "/api/pipelines/shop/tasks/totals/code", json!({ "code": bad }));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("parameter 'order'"), "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("totals.py")).unwrap(), CODE);

    let run = post(addr, "/api/pipelines/shop/runs", "{}").json()["run_id"].as_i64().unwrap();
    let done = wait_for_end(addr, run);
    assert_eq!(done["run"]["status"], "success", "{done}");
    let out = get(addr, "/api/pipelines/shop/tasks/totals/output").json();
    assert_eq!(out["rows"], json!([{ "customer": "ann", "total": 17 }, { "customer": "bob", "total": 5 }]), "{out}");

    // Unsaved code previews with a limit; the file is untouched.
    let unsaved = "import polars as pl\n\ndef run(orders):\n    return orders.filter(pl.col('amount') > 6).select('id')\n";
    let p = send(addr, "POST", "/api/pipelines/shop/tasks/totals/preview", json!({ "code": unsaved, "limit": 1 })).json();
    assert_eq!(p["rows"], json!([{ "id": 1 }]), "{p}");
    let broken = "import polars as pl\n\ndef run(orders):\n    x = 1\n    return orders.select(pl.col('nope'))\n";
    let r = send(addr, "POST", "/api/pipelines/shop/tasks/totals/preview", json!({ "code": broken }));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("nope"), "{}", r.text());
    assert_eq!(r.json()["location"]["line"], 5, "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("totals.py")).unwrap(), CODE);

    // Saved, run, failed: the run's task carries the line of the raise.
    let raising = "import polars as pl\n\n\ndef run(orders):\n    limit = 3\n    raise ValueError(f'too many orders: {limit}')\n";
    let r = send(addr, "PUT", "/api/pipelines/shop/tasks/totals/code", json!({ "code": raising }));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(std::fs::read_to_string(dir.join("totals.py")).unwrap(), raising);
    let run = post(addr, "/api/pipelines/shop/runs", "{}").json()["run_id"].as_i64().unwrap();
    let done = wait_for_end(addr, run);
    let t = done["tasks"].as_array().unwrap().iter().find(|t| t["task_id"] == "totals").unwrap().clone();
    assert_eq!(t["status"], "failed");
    assert!(
        t["error"].as_str().unwrap().starts_with("Python error in totals.py, line 6, column 5: ValueError: too many orders: 3"),
        "{t}"
    );
    assert_eq!(t["error_location"], json!({ "line": 6, "column": 5 }));
}

fn python_pipeline(dir: &Path, requirements: Option<&str>) {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("pipeline.toml"),
        "[pipeline]\nname = \"pydep\"\n\n[[task]]\nid = \"src\"\nkind = \"source\"\nformat = \"csv\"\npath = \"data/x.csv\"\n\n\
         [[task]]\nid = \"doubled\"\nkind = \"python\"\nfile = \"doubled.py\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("data/x.csv"), "a\n1\n2\n3\n").unwrap();
    std::fs::write(
        dir.join("doubled.py"),
        "import polars as pl\n\ndef run(src):\n    return src.select((pl.col('a') * 2).sum().alias('s'))\n",
    )
    .unwrap();
    if let Some(r) = requirements {
        std::fs::write(dir.join("requirements.txt"), r).unwrap();
    }
}

#[test]
fn a_deploy_builds_the_python_environment_or_is_refused_with_the_installers_words() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(&tmp.path().join("runner"), Some(TOKEN));
    let deploy = |dir: &Path| {
        let out = Command::new(polder_bin())
            .args(["deploy", &dir.display().to_string(), "--to", &format!("http://{addr}")])
            .env("POLDER_TOKEN", TOKEN)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let bad = tmp.path().join("bad");
    python_pipeline(&bad, Some("polder-no-such-package-anywhere==0.0.1\n"));
    let (ok, text) = deploy(&bad);
    assert!(!ok, "{text}");
    assert!(
        text.contains("the bundle's Python environment could not be built") && text.contains("polder-no-such-package-anywhere"),
        "{text}"
    );
    assert!(get(addr, "/api/pipelines/pydep/versions").json().as_array().is_none_or(|v| v.is_empty()));

    let good = tmp.path().join("good");
    python_pipeline(&good, None);
    let (ok, text) = deploy(&good);
    assert!(ok, "{text}");
    let run = post(addr, "/api/pipelines/pydep/runs", "{}").json()["run_id"].as_i64().unwrap();
    let done = wait_for_end(addr, run);
    assert_eq!(done["run"]["status"], "success", "{done}");
    let out = get(addr, "/api/pipelines/pydep/tasks/doubled/output").json();
    assert_eq!(out["rows"], json!([{ "s": 12 }]), "{out}");
}
