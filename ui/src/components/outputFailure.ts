// Why the output panel has nothing to show for a task in the selected run: it failed there, was
// cancelled, or did not run because a task upstream of it failed.
import type { TaskStates } from '../api/runState';
import type { TaskRun } from '../api/types';

const NO_OUTPUT = new Set(['failed', 'upstream_failed', 'cancelled']);

export interface TaskFailure {
  status: string;
  runId: number;
  error: string | null;
  /** Failed tasks upstream of it (for upstream_failed), nearest first. */
  upstream: string[];
  /** The task whose log explains it: the task itself, or the first failed upstream task. */
  logTask: string;
}

export function taskFailure(
  task: string,
  runId: number,
  runTasks: readonly TaskRun[],
  states: TaskStates,
  defs: readonly { id: string; upstream: readonly string[] }[],
): TaskFailure | null {
  const tr = runTasks.find((t) => t.task_id === task);
  const status = states[task] ?? tr?.status;
  if (!tr || !status || !NO_OUTPUT.has(status)) return null;
  const upstream: string[] = [];
  if (status === 'upstream_failed') {
    // Breadth-first over the task's inputs: the nearest failed ancestors first.
    const byId = new Map(defs.map((d) => [d.id, d.upstream]));
    const failed = new Set(runTasks.filter((t) => (states[t.task_id] ?? t.status) === 'failed').map((t) => t.task_id));
    const seen = new Set<string>();
    const queue = [...(byId.get(task) ?? [])];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      if (failed.has(id)) upstream.push(id);
      else queue.push(...(byId.get(id) ?? []));
    }
  }
  return { status, runId, error: tr.error, upstream, logTask: upstream[0] ?? task };
}
