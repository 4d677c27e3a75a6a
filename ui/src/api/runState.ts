import type { RunnerEvent, TaskRun } from './types';

/** A task's state as shown on the canvas: a task status, or "none" (no run yet). */
export type NodeState = string;

/** task id → state, for one run. */
export type TaskStates = Record<string, NodeState>;

/** Initial task states from a run's detail (tasks not listed stay absent). */
export function statesFromRun(tasks: TaskRun[]): TaskStates {
  const out: TaskStates = {};
  for (const t of tasks) out[t.task_id] = t.status;
  return out;
}

/** Applies one runner event to the task states of `runId`; returns the same object when nothing changed. */
export function applyEvent(states: TaskStates, runId: number, ev: RunnerEvent): TaskStates {
  if (ev.run_id !== runId) return states;
  switch (ev.event) {
    case 'task_started':
    case 'task_retrying':
      if (!ev.task) return states;
      if (states[ev.task] === 'running') return states;
      return { ...states, [ev.task]: 'running' };
    case 'task_finished':
      if (!ev.task || !ev.status) return states;
      if (states[ev.task] === ev.status) return states;
      return { ...states, [ev.task]: ev.status };
    default:
      return states;
  }
}

/** Duration text, e.g. "850 ms", "3.2 s", "4m 05s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  if (m < 60) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Row counts like "1,171". */
export function formatCount(n: number | null | undefined): string {
  return n == null ? '—' : n.toLocaleString('en-US');
}
