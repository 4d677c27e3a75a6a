//! The `shell` task: runs a command with `sh -c` in the pipeline folder, its output in the task log.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::spec::ShellTask;
use crate::tasks::{CancelFlag, TaskContext, TaskError, TaskLog, TaskOutcome};

/// Lines of output kept for the error message.
const TAIL_LINES: usize = 20;

/// Runs the command; a cancel (or the executor's timeout) kills its whole process group.
pub fn run(ctx: &TaskContext, task: &ShellTask) -> Result<TaskOutcome, TaskError> {
    ctx.log.line(format!("$ {}", task.command));
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&task.command)
        .current_dir(ctx.pipeline_dir)
        .envs(task.env.iter().map(|(k, v)| (k, v)))
        .env("POLDER_TASK_ID", ctx.task_id);
    let child = spawn_group(&mut command).map_err(|e| TaskError::data(format!("cannot start `{}`", task.command), e))?;
    let (status, tail) = supervise(child, ctx.log, ctx.cancel)?;
    ctx.cancel.check()?;
    if status.success() {
        return Ok(TaskOutcome::default());
    }
    Err(TaskError::ShellExit { command: task.command.clone(), status: describe_exit(status), tail: tail.join("\n") })
}

/// Starts `command` in a process group of its own, output piped, no input.
pub(crate) fn spawn_group(command: &mut Command) -> std::io::Result<Child> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).spawn()
}

/// Streams a child's output into `log` (`| line`) as it comes, so a live view can follow it,
/// kills its whole process group on cancel, and waits for it: its status and last lines.
pub(crate) fn supervise(mut child: Child, log: &TaskLog, cancel: &CancelFlag) -> Result<(ExitStatus, Vec<String>), TaskError> {
    let pgid = child.id() as i32;
    cancel.on_cancel(move || {
        // SAFETY: kill(2) with a negative pid signals the process group we created; no memory is touched.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    });
    let tail = Mutex::new(VecDeque::with_capacity(TAIL_LINES));
    let streams: Vec<Box<dyn std::io::Read + Send>> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    let status = std::thread::scope(|scope| {
        for stream in streams {
            let tail = &tail;
            scope.spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.line(format!("| {line}"));
                    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        loop {
            match child.try_wait() {
                Ok(Some(s)) => break Ok(s),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => break Err(TaskError::data("cannot wait for the process", e)),
            }
        }
    })?;
    Ok((status, tail.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().collect()))
}

/// "exited with code 3", "was killed by signal 9".
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "failed".to_string(),
    }
}
