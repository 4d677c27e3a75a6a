// The task details panel's call: one task's history across runs (its schemas come from
// getSchemas in notebook.ts).
import type { ApiClient } from './client';
import type { TaskStatus } from './types';

const seg = encodeURIComponent;

/** One run of one task (`GET /api/pipelines/{name}/tasks/{task}/history`). */
export interface TaskHistoryEntry {
  run_id: number;
  status: TaskStatus;
  attempts: number;
  started_at_ms: number | null;
  ended_at_ms: number | null;
  rows: number | null;
  error: string | null;
  trigger: string | null;
}

export interface TaskHistory {
  /** Newest first. */
  runs: TaskHistoryEntry[];
  /** The newest run in which the task succeeded (or was reused). */
  last_success_run: number | null;
  /** Whether its SQL, code or settings differ from what that run used (null: unknown). */
  changed_since_success: boolean | null;
}

export function fetchTaskHistory(client: ApiClient, pipeline: string, task: string, limit = 30, signal?: AbortSignal): Promise<TaskHistory> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}/history`, { query: { limit }, signal });
}
