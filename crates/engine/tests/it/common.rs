//! Helpers: temp pipelines, running them, reading outputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use polder_engine::{run_pipeline, RunCancel, RunOptions, RunSummary, TaskStatus, Workspace};
use serde_json::{Map, Value};

/// A temp folder with a pipeline in `pipe/` and the workspace at its root.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub ws: Arc<Workspace>,
}

impl Fixture {
    pub fn new(spec: &str, files: &[(&str, &str)]) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let f = Fixture { ws: Arc::new(Workspace::open(tmp.path()).unwrap()), tmp };
        f.write("pipeline.toml", spec);
        for (name, text) in files {
            f.write(name, text);
        }
        f
    }

    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("pipe")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub async fn run(&self, opts: RunOptions) -> RunSummary {
        run_dir(&self.ws, &self.dir(), opts).await
    }
}

pub async fn run_dir(ws: &Arc<Workspace>, dir: &Path, opts: RunOptions) -> RunSummary {
    let p = Arc::new(polder_engine::load(dir).unwrap_or_else(|e| panic!("{e}")));
    run_pipeline(ws.clone(), p, opts, None, RunCancel::new()).await.unwrap()
}

/// Every row of a task's output artifact, as JSON objects.
pub fn rows(s: &RunSummary, task: &str) -> Vec<Map<String, Value>> {
    let t = s.task(task).unwrap_or_else(|| panic!("no task {task}"));
    let path = t.artifact.as_ref().unwrap_or_else(|| panic!("task {task} has no artifact: {t:?}"));
    polder_engine::inspect::head_json(path, usize::MAX >> 1).unwrap()
}

pub fn status(s: &RunSummary, task: &str) -> TaskStatus {
    s.task(task).unwrap_or_else(|| panic!("no task {task}")).status
}

pub fn error(s: &RunSummary, task: &str) -> String {
    s.task(task).and_then(|t| t.error.clone()).unwrap_or_default()
}

/// Files under `dir` (recursively) whose names mark them as temp files.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().contains(".tmp-") {
                out.push(p.clone());
            }
            if p.is_dir() {
                out.extend(temp_files(&p));
            }
        }
    }
    out
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

pub fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

pub fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Copies an example folder (spec and SQL, not data or outputs) into `to`.
pub fn copy_example(name: &str, to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
    copy_dir(&from, to);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name();
        if name == "data" || name == "out" {
            continue;
        }
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
