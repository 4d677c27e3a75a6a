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
    let Supervised { status, tail, .. } = supervise(child, ctx.log, ctx.cancel, None)?;
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

/// How a supervised process ended.
pub(crate) struct Supervised {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its last lines of output.
    pub tail: Vec<String>,
    /// Set when it was killed for going over its memory budget: the most it was seen using.
    pub over_budget: Option<u64>,
}

/// Streams a child's output into `log` (`| line`) as it comes, so a live view can follow it,
/// kills its whole process group on cancel or when its resident memory passes `budget` bytes,
/// and waits for it.
pub(crate) fn supervise(
    mut child: Child,
    log: &TaskLog,
    cancel: &CancelFlag,
    budget: Option<u64>,
) -> Result<Supervised, TaskError> {
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
    let pid = child.id();
    let mut over_budget = None;
    let mut polls = 0u32;
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
            polls += 1;
            // Every 100 ms: the high-water mark catches a peak between two looks.
            if let (Some(limit), true) = (budget, polls.is_multiple_of(5)) {
                if let Some((_, peak)) = crate::memory::resident(pid).filter(|(_, peak)| *peak > limit) {
                    over_budget = Some(peak);
                    // SAFETY: kill(2) on the process group this module created; no memory is touched.
                    unsafe {
                        libc::kill(-(pid as i32), libc::SIGKILL);
                    }
                }
            }
        }
    })?;
    let tail = tail.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().collect();
    Ok(Supervised { status, tail, over_budget })
}

/// "exited with code 3", "was killed by signal 9".
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "failed".to_string(),
    }
}
