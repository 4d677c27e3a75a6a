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
    };
    let (addr3, rotated) = start_with(opts);
    let rotated = rotated.unwrap();
    assert_ne!(rotated, token);
    assert_eq!(request(addr3, "GET", "/api/status", Some(&token), None, None).status, 401);
    assert_eq!(request(addr3, "GET", "/api/status", Some(&rotated), None, None).status, 200);
}
