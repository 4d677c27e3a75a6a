//! The web UI ships inside the binary: `polder serve` started in a folder without `ui/dist`
//! serves the page and its assets; `--ui-dir` overrides the embedded build; every UI answer
//! carries the Content-Security-Policy.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::http::*;

/// A `polder serve` process, killed when dropped.
struct Serve(Child, SocketAddr);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the real binary in `cwd` with these extra arguments; waits for its address.
fn serve(cwd: &Path, extra: &[&str]) -> Serve {
    let mut child = Command::new(polder_bin())
        .current_dir(cwd)
        .args(["--workspace", "ws", "serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .env("POLDER_TOKEN", TOKEN)
        .env_remove("POLDER_UI_DIR")
        .env_remove("POLDER_WORKSPACE")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().parse().unwrap_or_else(|e| panic!("{e}: {line}"));
    Serve(child, addr)
}

fn ui_get(addr: SocketAddr, path: &str) -> Resp {
    let r = request(addr, "GET", path, None, None, None);
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self';") && csp.contains("object-src 'none'"), "{path}: CSP {csp:?}");
    r
}

#[test]
fn serve_without_ui_dist_serves_the_embedded_ui_and_ui_dir_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(!tmp.path().join("ui/dist").exists());
    let s = serve(tmp.path(), &[]);
    if polder_runner::api::ui::embedded() {
        let index = ui_get(s.1, "/");
        assert_eq!((index.status, index.header("content-type")), (200, Some("text/html; charset=utf-8")), "{}", index.text());
        let html = index.text();
        assert!(html.contains("<div id=\"root\">"), "{html}");
        // The page's own script, as built by Vite: ./assets/index-HASH.js.
        let script = html.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script in index.html");
        let asset = ui_get(s.1, &format!("/{}", script.trim_start_matches("./")));
        assert_eq!((asset.status, asset.header("content-type")), (200, Some("text/javascript; charset=utf-8")), "{script}");
        assert!(asset.body.len() > 1000 && asset.header("cache-control").is_some_and(|c| c.contains("immutable")));
        assert!(ui_get(s.1, "/pipelines/x").text().contains("<div id=\"root\">"));
        assert_eq!(ui_get(s.1, "/assets/missing.js").status, 404);
    } else {
        // Built before `npm run build`: a page that says how to get the UI. scripts/test.sh
        // builds the UI first and sets POLDER_REQUIRE_EMBEDDED_UI, so this branch never passes there.
        assert!(std::env::var_os("POLDER_REQUIRE_EMBEDDED_UI").is_none(), "this build has no embedded UI (ui/dist was missing)");
        let page = ui_get(s.1, "/");
        assert_eq!(page.status, 404);
        assert!(page.text().contains("npm ci &amp;&amp; npm run build"), "{}", page.text());
    }
    // The API is unaffected either way.
    assert_eq!(get(s.1, "/api/status").status, 200);
    drop(s);

    let dev = tmp.path().join("dev-ui");
    std::fs::create_dir_all(dev.join("assets")).unwrap();
    std::fs::write(dev.join("index.html"), "<!doctype html><title>dev build</title>").unwrap();
    std::fs::write(dev.join("assets/app.js"), "console.log('dev')").unwrap();
    let s = serve(tmp.path(), &["--ui-dir", "dev-ui"]);
    assert!(ui_get(s.1, "/").text().contains("<title>dev build</title>"));
    assert_eq!(ui_get(s.1, "/assets/app.js").text(), "console.log('dev')");
    assert!(ui_get(s.1, "/runs/3").text().contains("<title>dev build</title>"));
}
