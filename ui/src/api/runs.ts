// Runs: history paging, trigger/retry/cancel, live task logs, and the pure helpers the runs
// views share (trigger kinds, parameter text, page merging, trigger bodies).
import type { ApiClient } from './client';
import { SseDecoder } from './sse';
import type { Run, RunDetail, RunStatus } from './types';

const seg = encodeURIComponent;

export const RUN_STATUSES: RunStatus[] = ['running', 'success', 'failed', 'cancelled'];

/** One page of a pipeline's history, newest first. `before` is the last id of the previous page. */
export function fetchRuns(
  client: ApiClient,
  q: { pipeline: string; status?: RunStatus | null; trigger?: string | null; before?: number | null; limit?: number },
  signal?: AbortSignal,
): Promise<Run[]> {
  return client.json('/api/runs', {
    query: { pipeline: q.pipeline, status: q.status ?? undefined, trigger: q.trigger ?? undefined, before: q.before ?? undefined, limit: q.limit },
    signal,
  });
}

export function fetchRun(client: ApiClient, id: number, signal?: AbortSignal): Promise<RunDetail> {
  return client.json(`/api/runs/${id}`, { signal });
}

/** Body of `POST /api/pipelines/{name}/runs` (see TriggerRequest in openapi.json). */
export interface TriggerRequest {
  params: Record<string, string>;
  force: boolean;
  only: string[];
}

export interface TriggerAnswer {
  run_id?: number | null;
  queued?: number | null;
}

export function triggerRun(client: ApiClient, pipeline: string, req: TriggerRequest): Promise<TriggerAnswer> {
  return client.json(`/api/pipelines/${seg(pipeline)}/runs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(req),
  });
}

/** A new run with the failed run's parameters; tasks whose fingerprints did not change are reused. */
export function retryRun(client: ApiClient, id: number): Promise<{ run_id: number; retry_of?: number }> {
  return client.json(`/api/runs/${id}/retry`, { method: 'POST' });
}

export function cancelRun(client: ApiClient, id: number): Promise<unknown> {
  return client.json(`/api/runs/${id}/cancel`, { method: 'POST' });
}

export function fetchTaskLog(client: ApiClient, runId: number, task: string, signal?: AbortSignal): Promise<string> {
  return client.request(`/api/runs/${runId}/tasks/${seg(task)}/log`, { signal }).then((r) => r.text());
}

/**
 * Follows a task's log over SSE: each `data:` message is one line; one `end` event carries the
 * task's final status, after which the server closes the stream. Resolves with that status, or
 * null when the stream closed without one (connection lost).
 */
export async function followTaskLog(
  client: ApiClient,
  runId: number,
  task: string,
  onLines: (lines: string[]) => void,
  signal?: AbortSignal,
): Promise<string | null> {
  const res = await client.request(`/api/runs/${runId}/tasks/${seg(task)}/log/stream`, {
    signal,
    headers: { Accept: 'text/event-stream' },
  });
  if (!res.body) throw new Error('the log stream has no body');
  const reader = res.body.getReader();
  const text = new TextDecoder();
  const sse = new SseDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return null;
      const lines: string[] = [];
      let end: string | null = null;
      for (const m of sse.push(text.decode(value, { stream: true }))) {
        if (m.event === 'end') end = m.data;
        else if (m.event === 'message') lines.push(m.data);
      }
      if (lines.length) onLines(lines);
      if (end !== null) return end;
    }
  } finally {
    reader.releaseLock();
  }
}

// ---- pure helpers ----

/** What started a run, as the history filter groups it. */
export type TriggerKind = 'manual' | 'schedule' | 'retry' | 'backfill' | 'resume' | 'other';
export const TRIGGER_KINDS: TriggerKind[] = ['manual', 'schedule', 'retry', 'backfill', 'resume'];

/**
 * The runner records `api` (UI/remote trigger) and `cli` (local `polder run`) — both manual —
 * plus `schedule`, `retry`, `backfill` and `resume:<old run id>`.
 */
export function triggerKind(trigger: string | null | undefined): TriggerKind {
  const t = (trigger ?? '').toLowerCase();
  if (t === 'api' || t === 'cli' || t === 'manual') return 'manual';
  if (t === 'schedule' || t === 'retry' || t === 'backfill') return t;
  if (t.startsWith('resume')) return 'resume';
  return 'other';
}

/** A run's `params` (JSON object text) as strings; {} when missing or malformed. */
export function parseRunParams(text: string | null | undefined): Record<string, string> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = typeof x === 'string' ? x : JSON.stringify(x);
    return out;
  } catch {
    return {};
  }
}

/** "k=v · k2=v2", sorted by name, for one line of the history. */
export function paramsSummary(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join(' · ');
}

/** Adds a page to the loaded history: one entry per id (the newer copy wins), newest first. */
export function mergeRuns(loaded: Run[], page: Run[]): Run[] {
  const byId = new Map<number, Run>();
  for (const r of loaded) byId.set(r.id, r);
  for (const r of page) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

/** The runner's `trigger=` filter for a kind of the history filter (null: no filter). */
export function triggerQuery(kind: TriggerKind | 'all'): string | null {
  switch (kind) {
    case 'all':
    case 'other':
      return null;
    case 'manual':
      return 'api,cli';
    default:
      return kind;
  }
}

/** The built-in parameter every run has (default: today, UTC), even when the spec omits it. */
export const RUN_DATE = 'run_date';

/** The parameters the trigger dialog offers: the spec's, plus `run_date`; values as strings. */
export function paramDefaults(specParams: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specParams ?? {})) out[k] = v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  if (!(RUN_DATE in out)) out[RUN_DATE] = '';
  return out;
}

/**
 * The trigger body for the dialog's values: only parameters that differ from their defaults are
 * sent (the run records every value anyway), and an emptied field means "use the default".
 * `only` keeps the pipeline's task order.
 */
export function buildTriggerRequest(
  values: Record<string, string>,
  defaults: Record<string, string>,
  force: boolean,
  only: Iterable<string>,
  taskOrder: string[],
): TriggerRequest {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const val = v.trim();
    if (val !== '' && val !== (defaults[k] ?? '').trim()) params[k] = val;
  }
  const picked = new Set(only);
  return { params, force, only: taskOrder.filter((t) => picked.has(t)) };
}
