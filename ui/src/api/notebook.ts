// Runner calls of the notebook view: markdown notes, output schemas for completion, cell
// previews and task edits. Every edit answers the pipeline as the runner now sees it.
import { ApiError, type ApiClient } from './client';
import { newPythonSettings } from '../python/template';
import type { CellValue, ColumnSchema, PipelineDetail, TaskKind } from './types';

const seg = encodeURIComponent;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export interface Note {
  id: string;
  /** The task this note follows in the notebook, or null for the top. */
  after: string | null;
  /** Markdown. */
  text: string;
}

/** A pipeline's notes (`notes.md` in its folder); malformed entries are dropped, not fatal. */
export async function getNotes(client: ApiClient, pipeline: string, signal?: AbortSignal): Promise<Note[]> {
  const body = await client.json<{ notes?: unknown }>(`/api/pipelines/${seg(pipeline)}/notes`, { signal });
  return parseNotes(body?.notes);
}

export function parseNotes(raw: unknown): Note[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((n): Note[] => {
    if (!n || typeof n !== 'object') return [];
    const { id, after, text } = n as Record<string, unknown>;
    if (typeof id !== 'string' || typeof text !== 'string') return [];
    return [{ id, after: typeof after === 'string' ? after : null, text }];
  });
}

/** Replaces the pipeline's notes. */
export async function putNotes(client: ApiClient, pipeline: string, notes: Note[]): Promise<void> {
  await client.request(`/api/pipelines/${seg(pipeline)}/notes`, {
    method: 'PUT',
    headers: JSON_HEADERS,
    body: JSON.stringify({ notes }),
  });
}

export type Schemas = Record<string, ColumnSchema[]>;

/** A route this runner does not have yet (an older build): the caller falls back. */
function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 405 || (e.status === 404 && /no route/i.test(e.message)));
}

/**
 * Output columns of every task that has an output. Runners without `/schemas` are asked for
 * each task's newest output page of zero rows instead; tasks without an output are left out.
 */
export async function getSchemas(client: ApiClient, pipeline: string, tasks: string[], signal?: AbortSignal): Promise<Schemas> {
  try {
    const body = await client.json<{ tasks?: Schemas }>(`/api/pipelines/${seg(pipeline)}/schemas`, { signal });
    return body?.tasks ?? {};
  } catch (e) {
    if (!isMissingRoute(e)) throw e;
  }
  const out: Schemas = {};
  await Promise.all(
    tasks.map(async (t) => {
      try {
        const page = await client.json<{ schema: ColumnSchema[] }>(`/api/pipelines/${seg(pipeline)}/tasks/${seg(t)}/output`, {
          query: { limit: 0 },
          signal,
        });
        out[t] = page.schema;
      } catch (e) {
        if (e instanceof DOMException && e.name === 'AbortError') throw e;
        // No output yet (never ran, a view, a sink): nothing to complete from.
      }
    }),
  );
  return out;
}

export interface PreviewResult {
  rows: Record<string, CellValue>[];
  schema: ColumnSchema[];
  elapsed_ms: number;
}

export const PREVIEW_LIMIT = 1000;

/**
 * Runs one source, SQL or Python task on its upstreams' newest outputs; `sql` previews unsaved
 * SQL, `code` unsaved Python. Throws ApiError; `sqlLocationOf` reads where a SQL or Python error points.
 */
export function previewTask(
  client: ApiClient,
  pipeline: string,
  task: string,
  opts: { sql?: string; code?: string; limit?: number; signal?: AbortSignal } = {},
): Promise<PreviewResult> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}/preview`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      limit: opts.limit ?? PREVIEW_LIMIT,
      ...(opts.sql !== undefined ? { sql: opts.sql } : {}),
      ...(opts.code !== undefined ? { code: opts.code } : {}),
    }),
    signal: opts.signal,
  });
}

/** The `{line, column}` (1-based) a SQL or Python error's body carries, if valid. */
export function sqlLocationOf(e: unknown): { line: number; column: number } | null {
  if (!(e instanceof ApiError)) return null;
  const loc = e.body?.location as { line?: unknown; column?: unknown } | undefined | null;
  if (!loc || typeof loc !== 'object') return null;
  const { line, column } = loc;
  if (typeof line !== 'number' || typeof column !== 'number' || line < 1 || column < 1) return null;
  return { line, column };
}

/** Writes a SQL task's text (into its .sql file, or inline). */
export function saveTaskSql(client: ApiClient, pipeline: string, task: string, sql: string): Promise<PipelineDetail> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}/sql`, {
    method: 'PUT',
    headers: JSON_HEADERS,
    body: JSON.stringify({ sql }),
  });
}

/** Writes a Python task's code (into its .py file). Refused (400, files untouched) like a SQL save. */
export function saveTaskCode(client: ApiClient, pipeline: string, task: string, code: string): Promise<PipelineDetail> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}/code`, {
    method: 'PUT',
    headers: JSON_HEADERS,
    body: JSON.stringify({ code }),
  });
}

/** Sets (or, with null, removes) settings keys of a task. */
export function patchTask(
  client: ApiClient,
  pipeline: string,
  task: string,
  settings: Record<string, unknown>,
): Promise<PipelineDetail> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}`, {
    method: 'PATCH',
    headers: JSON_HEADERS,
    body: JSON.stringify({ settings }),
  });
}

export function addTask(
  client: ApiClient,
  pipeline: string,
  task: { id: string; kind: TaskKind; settings: Record<string, unknown> },
): Promise<PipelineDetail> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify(task),
  });
}

/** The new SQL cell's task: its own `.sql` file, reading the task above it (if any). */
export function newSqlTask(id: string, above: string | null): { id: string; kind: TaskKind; settings: Record<string, unknown> } {
  return { id, kind: 'sql', settings: { file: `${id}.sql`, sql: above ? `SELECT * FROM ${above}\n` : 'SELECT 1 AS one\n' } };
}

/** The new Python cell's task: its own `.py` file with a `run` function reading the task above (if any). */
export function newPythonTask(id: string, above: string | null): { id: string; kind: TaskKind; settings: Record<string, unknown> } {
  return { id, kind: 'python', settings: newPythonSettings(id, above) };
}

/** A new source cell: CSV files under data/ until the user points it elsewhere in its form. */
export function newSourceTask(id: string): { id: string; kind: TaskKind; settings: Record<string, unknown> } {
  return { id, kind: 'source', settings: { format: 'csv', path: 'data/*.csv' } };
}

export function deleteTask(client: ApiClient, pipeline: string, task: string): Promise<PipelineDetail> {
  return client.json(`/api/pipelines/${seg(pipeline)}/tasks/${seg(task)}`, { method: 'DELETE' });
}

/** Task ids are lower-case SQL identifiers (the engine's rule); null when `id` is fine. */
export function taskIdProblem(id: string, taken: string[]): string | null {
  if (!id) return 'Enter an id.';
  if (!/^[a-z_][a-z0-9_]*$/.test(id)) return 'Use lower-case letters, digits and _ (not first).';
  if (taken.includes(id)) return `A task named ${id} exists.`;
  return null;
}
