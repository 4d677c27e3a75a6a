//! Every route refuses a missing or wrong token (routes taken from the generated OpenAPI
//! document, so a new route cannot be forgotten); wrong Host headers are refused; tokens are
//! stored hashed and can be rotated.

use polder_runner::ServeOptions;

use crate::http::*;

#[test]
fn every_route_but_health_needs_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let spec = get(addr, "/api/openapi.json").json();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 12, "{paths:?}");
    let mut checked = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{name}", "p").replace("{id}", "1").replace("{task}", "t");
            let m = method.to_uppercase();
            let none = request(addr, &m, &concrete, None, None, None);
            let wrong = request(addr, &m, &concrete, Some("wrong"), None, None);
            if path == "/api/health" {
                assert_eq!(none.status, 200, "{m} {path}");
            } else {
                assert_eq!(none.status, 401, "{m} {path} without a token");
                assert_eq!(wrong.status, 401, "{m} {path} with a wrong token");
                assert_eq!(none.json()["code"], "unauthorized");
            }
            checked += 1;
        }
    }
    assert!(checked >= 13);
}

#[test]
fn a_foreign_host_header_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let r = request(addr, "GET", "/api/status", Some(TOKEN), Some(&format!("rebind.example:{}", addr.port())), None);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "forbidden_host");
    let r = request(addr, "GET", "/api/status", Some(TOKEN), Some(&format!("localhost:{}", addr.port())), None);
    assert_eq!(r.status, 200);
}

#[test]
fn generated_token_is_stored_hashed_and_rotates() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, token) = start(tmp.path(), None);
    let token = token.expect("first start generates a token");
    assert_eq!(request(addr, "GET", "/api/status", Some(&token), None, None).status, 200);
    let stored = std::fs::read_to_string(tmp.path().join(".polder/runner/token.blake3")).unwrap();
    assert!(!stored.contains(&token));
    assert_eq!(stored.trim(), blake3::hash(token.as_bytes()).to_hex().as_str());

    // A restart keeps the token (and prints none); a rotation replaces it.
    let (addr2, again) = start(tmp.path(), None);
    assert!(again.is_none());
    assert_eq!(request(addr2, "GET", "/api/status", Some(&token), None, None).status, 200);
    let opts = ServeOptions {
        workspace: tmp.path().to_path_buf(),
        bind: "127.0.0.1:0".parse().unwrap(),
        token: None,
        rotate_token: true,
        allow_hosts: vec![],
        max_active_runs: 4,
        ui_dir: None,
        secrets: None,
    };
    let (addr3, rotated) = start_with(opts);
    let rotated = rotated.unwrap();
    assert_ne!(rotated, token);
    assert_eq!(request(addr3, "GET", "/api/status", Some(&token), None, None).status, 401);
    assert_eq!(request(addr3, "GET", "/api/status", Some(&rotated), None, None).status, 200);
}

#[test]
fn the_ui_is_served_without_a_token_and_the_api_still_needs_one() {
    let tmp = tempfile::tempdir().unwrap();
    let ui = tmp.path().join("dist");
    std::fs::create_dir_all(ui.join("assets")).unwrap();
    std::fs::write(ui.join("index.html"), "<!doctype html><title>Polder</title>").unwrap();
    std::fs::write(ui.join("assets/app.js"), "console.log('polder')").unwrap();
    std::fs::write(tmp.path().join("secret.txt"), "do not serve").unwrap();
    let opts = ServeOptions {
        workspace: tmp.path().join("ws"),
        bind: "127.0.0.1:0".parse().unwrap(),
        token: Some(TOKEN.into()),
        rotate_token: false,
        allow_hosts: vec![],
        max_active_runs: 4,
        ui_dir: Some(ui),
        secrets: None,
    };
    let (addr, _) = start_with(opts);
    let index = request(addr, "GET", "/", None, None, None);
    assert_eq!((index.status, index.header("content-type")), (200, Some("text/html; charset=utf-8")));
    assert!(index.text().contains("<title>Polder</title>"));
    let js = request(addr, "GET", "/assets/app.js", None, None, None);
    assert_eq!((js.status, js.header("content-type")), (200, Some("text/javascript; charset=utf-8")));
    // Client-side routes get the page; missing assets and escapes do not leak files.
    assert!(request(addr, "GET", "/pipelines/shop/runs/3", None, None, None).text().contains("<title>Polder</title>"));
    assert_eq!(request(addr, "GET", "/assets/missing.js", None, None, None).status, 404);
    assert!(!request(addr, "GET", "/../secret.txt", None, None, None).text().contains("do not serve"));
    assert!(!request(addr, "GET", "/%2e%2e/secret.txt", None, None, None).text().contains("do not serve"));
    // Unknown API routes still want the token, and are 404 with it.
    assert_eq!(request(addr, "GET", "/api/nope", None, None, None).status, 401);
    assert_eq!(request(addr, "GET", "/api/nope", Some(TOKEN), None, None).status, 404);
    // The Host check covers the UI too.
    assert_eq!(request(addr, "GET", "/", None, Some("evil.example"), None).status, 403);
}

#[test]
fn the_openapi_document_types_the_main_responses() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let spec = get(addr, "/api/openapi.json").json();
    assert_eq!(spec["info"]["title"], "Polder runner API");
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for name in [
        "RunRecord",
        "TaskRunRecord",
        "RunStatus",
        "TaskStatus",
        "RunDetail",
        "Page",
        "ErrorBody",
        "TriggerResponse",
        "TriggerRequest",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing: {:?}", schemas.keys().collect::<Vec<_>>());
    }
    let ok = &spec["paths"]["/api/runs/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(ok, "#/components/schemas/RunDetail");
    let statuses = &schemas["TaskStatus"]["enum"];
    assert!(statuses.as_array().unwrap().contains(&serde_json::json!("upstream_failed")), "{statuses}");
}

/// The committed `crates/runner/openapi.json` (from which the UI's types are generated) matches
/// the routes; run with `UPDATE_OPENAPI=1` to rewrite it after changing the API.
#[test]
fn the_committed_openapi_document_is_current() {
    let tmp = tempfile::tempdir().unwrap();
    let (addr, _) = start(tmp.path(), Some(TOKEN));
    let served = get(addr, "/api/openapi.json").text();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, format!("{served}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == served.trim_end(),
        "crates/runner/openapi.json is stale: rerun the tests with UPDATE_OPENAPI=1 and commit it"
    );
}
