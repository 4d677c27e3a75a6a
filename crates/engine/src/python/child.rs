//! One call of a Python task's function in a child process of its environment's interpreter:
//! upstream outputs go in as lazy Parquet scans (no copy), the returned frame comes out as the
//! task's output file, output lines stream into the task log, and a cancel or timeout kills the
//! whole process group.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::env::Env;
use crate::spec::PythonTask;
use crate::tasks::shell::{describe_exit, spawn_group, supervise, Supervised};
use crate::tasks::{CancelFlag, TaskError, TaskLog};

/// The entry script the child runs.
const WRAPPER: &str = include_str!("wrapper.py");

/// What one call needs.
pub struct Call<'a> {
    /// Task id.
    pub task_id: &'a str,
    /// The task's settings (its code may be an unsaved notebook cell's).
    pub task: &'a PythonTask,
    /// The pipeline folder (helper modules are imported from it; the process runs there).
    pub pipeline_dir: &'a Path,
    /// `(parameter, Parquet file)` for each upstream the function reads.
    pub inputs: Vec<(String, PathBuf)>,
    /// Where the returned frame is written.
    pub output: &'a Path,
    /// Most rows written (previews).
    pub limit: Option<usize>,
    /// The attempt's memory budget in bytes: the process is stopped when its resident memory
    /// passes it.
    pub memory: Option<u64>,
}

#[derive(Serialize)]
struct Request<'a> {
    task_id: &'a str,
    code: &'a str,
    display_path: String,
    pipeline_dir: String,
    function: &'a str,
    def_line: usize,
    inputs: &'a [(String, PathBuf)],
    takes_params: bool,
    params: &'a [(String, String, String)],
    output: &'a Path,
    result: PathBuf,
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct Outcome {
    ok: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<usize>,
    #[serde(default)]
    traceback: String,
}

/// Runs the call in `env`; Ok once the output file is written.
pub fn run(env: &Env, call: &Call, log: &TaskLog, cancel: &CancelFlag) -> Result<(), TaskError> {
    let file = call.task.file.clone().unwrap_or_else(|| format!("{}.py", call.task_id));
    let display = call.pipeline_dir.join(&file);
    // The request and the result sit beside the output, which the executor cleans up.
    let request_path = sibling(call.output, "request.json");
    let result_path = sibling(call.output, "result.json");
    let wrapper_path = sibling(call.output, "polder_entry.py");
    let request = Request {
        task_id: call.task_id,
        code: &call.task.code,
        display_path: display.to_string_lossy().into_owned(),
        pipeline_dir: call.pipeline_dir.to_string_lossy().into_owned(),
        function: &call.task.function,
        def_line: call.task.def_line,
        inputs: &call.inputs,
        takes_params: call.task.takes_params,
        params: &call.task.params,
        output: call.output,
        result: result_path.clone(),
        limit: call.limit,
    };
    let written = serde_json::to_vec(&request)
        .map_err(|e| TaskError::data("cannot encode the Python task's request", e))
        .and_then(|json| std::fs::write(&request_path, json).map_err(|e| TaskError::data("cannot write the request", e)))
        .and_then(|_| std::fs::write(&wrapper_path, WRAPPER).map_err(|e| TaskError::data("cannot write the entry script", e)));
    let cleanup = || {
        for p in [&request_path, &result_path, &wrapper_path] {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Err(e) = written {
        cleanup();
        return Err(e);
    }
    let mut command = Command::new(&env.python);
    command
        .arg("-u")
        .arg(&wrapper_path)
        .arg(&request_path)
        .current_dir(call.pipeline_dir)
        .env("POLDER_TASK_ID", call.task_id)
        // No `__pycache__` folders appear in the pipeline folder (they would show in diffs).
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONNOUSERSITE", "1")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME");
    let result = spawn_group(&mut command)
        .map_err(|e| TaskError::data(format!("cannot start {}", env.python.display()), e))
        .and_then(|child| supervise(child, log, cancel, call.memory))
        .and_then(|Supervised { status, tail, over_budget }| {
            cancel.check()?;
            if let (Some(used), Some(limit)) = (over_budget, call.memory) {
                return Err(TaskError::OutOfMemory { task: call.task_id.to_string(), used: Some(used), limit, detail: None });
            }
            let outcome: Option<Outcome> = std::fs::read(&result_path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
            match outcome {
                Some(o) if o.ok && status.success() => Ok(()),
                Some(o) if !o.ok => Err(TaskError::Python {
                    file: o.file,
                    line: o.line,
                    column: o.column,
                    message: o.message,
                    traceback: o.traceback,
                }),
                _ => Err(TaskError::Python {
                    file: None,
                    line: None,
                    column: None,
                    message: died(status, &tail),
                    traceback: String::new(),
                }),
            }
        });
    cleanup();
    result
}

/// What a process that ended without a result went through.
fn died(status: std::process::ExitStatus, tail: &[String]) -> String {
    let last = if tail.is_empty() { String::new() } else { format!("; its last output:\n{}", tail.join("\n")) };
    if status.signal() == Some(libc::SIGKILL) {
        // Polder kills only on cancel or timeout, which are reported as such before this.
        return format!(
            "the Python process was killed (SIGKILL), most likely by the kernel's out-of-memory killer \
             (see `dmesg`); process fewer rows at once (lazy frames stream) or give the machine more memory{last}"
        );
    }
    format!("the Python process {} before it finished{last}", describe_exit(status))
}

fn sibling(output: &Path, suffix: &str) -> PathBuf {
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    output.with_file_name(format!("{name}.{suffix}"))
}
