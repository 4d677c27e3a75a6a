// Authoring routes of the runner used by the DAG canvas: task edits, explicit edges and the
// pipeline's remembered node positions. Every edit answers with the pipeline as saved, or throws
// the engine's ApiError (400) when the edit is rejected — files are unchanged then.
import { ApiError, type ApiClient } from './client';
import type { PipelineDetail, TaskKind } from './types';

export type XY = { x: number; y: number };
/** task id → top-left corner of its node on the canvas. */
export type Positions = Record<string, XY>;

/** A task as written in pipeline.toml: its id, kind and other fields (`settings`, incl. `inputs`). */
export interface TaskSpec {
  id: string;
  kind: TaskKind;
  settings: Record<string, unknown>;
}

const seg = encodeURIComponent;
const JSON_HEADERS = { 'Content-Type': 'application/json' };
const taskPath = (pipeline: string, task: string) => `/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}`;

function send<T>(client: ApiClient, method: string, path: string, body?: unknown): Promise<T> {
  return client.json<T>(path, {
    method,
    headers: body === undefined ? undefined : JSON_HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function addTask(client: ApiClient, pipeline: string, spec: TaskSpec): Promise<PipelineDetail> {
  return send(client, 'POST', `/api/pipelines/${seg(pipeline)}/tasks`, spec);
}

export function removeTask(client: ApiClient, pipeline: string, task: string): Promise<PipelineDetail> {
  return send(client, 'DELETE', taskPath(pipeline, task));
}

export function renameTask(client: ApiClient, pipeline: string, task: string, to: string): Promise<PipelineDetail> {
  return send(client, 'POST', `${taskPath(pipeline, task)}/rename`, { to });
}

/** Sets a task's explicit upstream edges (`inputs`); an empty list removes the key. */
export function setInputs(client: ApiClient, pipeline: string, task: string, inputs: string[]): Promise<PipelineDetail> {
  return send(client, 'PUT', `${taskPath(pipeline, task)}/inputs`, { inputs });
}

/** Saved node positions; none (an empty map) when the pipeline has no layout.json yet. */
export async function getLayout(client: ApiClient, pipeline: string, signal?: AbortSignal): Promise<Positions> {
  try {
    const res = await client.json<{ positions?: Positions | null }>(`/api/pipelines/${seg(pipeline)}/layout`, { signal });
    return sanitizePositions(res.positions ?? {});
  } catch (e) {
    // A runner without the layout route yet (404) lays out everything, as before.
    if (e instanceof ApiError && e.status === 404) return {};
    throw e;
  }
}

export async function putLayout(client: ApiClient, pipeline: string, positions: Positions): Promise<void> {
  await client.request(`/api/pipelines/${seg(pipeline)}/layout`, {
    method: 'PUT',
    headers: JSON_HEADERS,
    body: JSON.stringify({ positions: roundPositions(positions) }),
  });
}

/** Keeps only finite {x, y} entries: layout.json is hand-editable, so it may hold anything. */
export function sanitizePositions(raw: unknown): Positions {
  const out: Positions = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    const p = v as { x?: unknown; y?: unknown } | null;
    if (p && typeof p.x === 'number' && typeof p.y === 'number' && Number.isFinite(p.x) && Number.isFinite(p.y))
      out[id] = { x: p.x, y: p.y };
  }
  return out;
}

/** Whole pixels keep layout.json small and its diffs readable. */
export function roundPositions(p: Positions): Positions {
  const out: Positions = {};
  for (const id of Object.keys(p).sort()) out[id] = { x: Math.round(p[id]!.x), y: Math.round(p[id]!.y) };
  return out;
}
