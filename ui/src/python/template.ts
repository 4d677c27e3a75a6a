// The code of a new Python task: a working `run` function, reading the upstream task the user
// chose (its parameter names the task, so the runner passes that task's output as a lazy scan),
// or making a small frame when there is none. Written into `<id>.py` by the runner.
import { PY_KEYWORDS } from './tokens';

/**
 * The starting text of a Python task reading `upstream` (or nothing). A task named like a Python
 * keyword cannot be a parameter: the task then starts without it.
 */
export function pythonTemplate(upstream: string | null): string {
  if (upstream && !PY_KEYWORDS.has(upstream)) {
    return `import polars as pl


def run(${upstream}: pl.LazyFrame, params: dict) -> pl.LazyFrame:
    # Upstream tasks arrive as lazy scans; return a LazyFrame or DataFrame.
    return ${upstream}
`;
  }
  return `import polars as pl


def run(params: dict) -> pl.DataFrame:
    # Name upstream tasks as parameters to read them (as lazy scans).
    return pl.DataFrame({"x": [1, 2, 3]})
`;
}

/** The settings that add a Python task with its own `<id>.py` file holding the template. */
export function newPythonSettings(id: string, upstream: string | null): { file: string; code: string } {
  return { file: `${id}.py`, code: pythonTemplate(upstream) };
}
