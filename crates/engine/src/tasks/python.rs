//! The `python` task: calls a function of the task's `.py` file with a lazy scan of each
//! upstream output its parameters name, in the pipeline's Python environment, and publishes the
//! frame it returns like any other output.

use crate::python::{child, env};
use crate::spec::PythonTask;
use crate::tasks::{Input, TaskContext, TaskError, TaskOutcome};

/// Runs one attempt.
pub fn run(ctx: &TaskContext, task: &PythonTask) -> Result<TaskOutcome, TaskError> {
    let env = env::ensure(ctx.pipeline_dir, ctx.log, ctx.cancel)?;
    let mut inputs = Vec::with_capacity(task.reads.len());
    for name in &task.reads {
        match ctx.upstream_input(name)? {
            Input::Artifact(path) => inputs.push((name.clone(), path.clone())),
            Input::View(_) => {
                return Err(TaskError::Data(format!(
                    "'{name}' is a view, which Python tasks cannot read; set materialize = \"table\" on '{name}'"
                )))
            }
        }
    }
    ctx.log.line(format!(
        "{}.{}({}) in {}",
        task.file.as_deref().unwrap_or("<inline>"),
        task.function,
        task.reads.iter().map(String::as_str).chain(task.takes_params.then_some("params")).collect::<Vec<_>>().join(", "),
        env.python.display()
    ));
    let call = child::Call {
        task_id: ctx.task_id,
        task,
        pipeline_dir: ctx.pipeline_dir,
        inputs,
        output: ctx.output,
        limit: ctx.limit,
        memory: ctx.memory.map(|m| m.bytes),
    };
    child::run(&env, &call, ctx.log, ctx.cancel)?;
    Ok(TaskOutcome { has_output: true, ..Default::default() })
}
