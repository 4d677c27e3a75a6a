//! A minimal blocking HTTP/1.1 client and a test runner.
//!
//! Hand-written on purpose: an HTTP client crate (reqwest, hyper-util) would change the features of
//! crates Polars shares, and with them force a full Polars rebuild.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use polder_runner::{Runner, ServeOptions};

pub const TOKEN: &str = "test-token-0123456789";

/// A response: status, headers (lower-case names), body.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request (`Connection: close`) and reads the whole response.
pub fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, host: Option<&str>, body: Option<&str>) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    let host = host.map(str::to_string).unwrap_or_else(|| addr.to_string());
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    read_response(s)
}

/// Reads a whole HTTP/1.1 response (content-length or chunked) from a stream.
pub fn read_response(s: TcpStream) -> Resp {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.trim().to_lowercase(), v.trim().to_string()));
    }
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let n = usize::from_str_radix(line.trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        r.read_to_end(&mut body).unwrap();
    }
    Resp { status, headers, body }
}

pub fn get(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path, Some(TOKEN), None, None)
}

pub fn post(addr: SocketAddr, path: &str, body: &str) -> Resp {
    request(addr, "POST", path, Some(TOKEN), None, Some(body))
}

/// Starts a runner over `workspace` on a free loopback port, in a background thread.
pub fn start(workspace: &Path, token: Option<&str>) -> (SocketAddr, Option<String>) {
    let opts = ServeOptions {
        workspace: workspace.to_path_buf(),
        bind: "127.0.0.1:0".parse().unwrap(),
        token: token.map(str::to_string),
        rotate_token: false,
        allow_hosts: vec![],
        max_active_runs: 4,
        ui_dir: None,
        secrets: None,
    };
    start_with(opts)
}

pub fn start_with(opts: ServeOptions) -> (SocketAddr, Option<String>) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let runner = Runner::bind(opts).await.unwrap();
            tx.send((runner.addr, runner.new_token.clone())).unwrap();
            runner.serve().await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// The `polder` binary of this build (integration tests live in target/<profile>/deps).
pub fn polder_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("polder");
    assert!(bin.exists(), "{} not built: run `cargo test --workspace`", bin.display());
    bin
}

/// POSTs a binary body (bundles); the text helper above sends text bodies.
pub fn request_bytes(addr: SocketAddr, path: &str, body: &[u8]) -> Resp {
    // The shared helper sends text bodies; bundles are binary.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    read_response(s)
}

/// Sends a JSON body with the test token.
pub fn send(addr: SocketAddr, method: &str, path: &str, body: serde_json::Value) -> Resp {
    request(addr, method, path, Some(TOKEN), None, Some(&body.to_string()))
}

/// Polls run `run` until it is no longer running (at most two minutes); its detail.
pub fn wait_for_end(addr: SocketAddr, run: i64) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let r = get(addr, &format!("/api/runs/{run}")).json();
        if r["run"]["status"] != "running" {
            return r;
        }
        assert!(std::time::Instant::now() < deadline, "run {run} did not end");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
