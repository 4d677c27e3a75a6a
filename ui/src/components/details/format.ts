// Pure pieces of the task details panel: the duration sparkline's geometry, the history list's
// text, the task's settings as readable key/values, and its schema's source.
import { formatCount, formatDuration } from '../../api/runState';
import type { TaskHistory, TaskHistoryEntry } from '../../api/taskDetails';
import type { ColumnSchema, PipelineDetail, TaskDef } from '../../api/types';

// ---- sparkline ----

export interface SparkPoint {
  x: number;
  y: number;
  /** Index into the values given. */
  i: number;
  value: number;
}

export interface Sparkline {
  /** One SVG polyline `points` string per run of consecutive known values. */
  segments: string[];
  points: SparkPoint[];
  /** The largest value (the top of the scale; the bottom is 0). */
  max: number;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Places `values` (oldest first; null = unknown, which breaks the line) left to right in a
 * `width`×`height` box with `pad` pixels kept free on every side. The scale runs from 0 at the
 * bottom to the largest value at the top, so a run twice as long stands twice as high; all zeros
 * lie on the bottom line, and a single value sits in the middle.
 */
export function sparkline(values: (number | null)[], width: number, height: number, pad = 2): Sparkline {
  const known = values.filter((v): v is number => v != null && Number.isFinite(v) && v >= 0);
  const max = known.length ? Math.max(...known) : 0;
  const n = values.length;
  const innerW = Math.max(0, width - 2 * pad);
  const innerH = Math.max(0, height - 2 * pad);
  const points: SparkPoint[] = [];
  const segments: string[] = [];
  let cur: string[] = [];
  values.forEach((v, i) => {
    if (v == null || !Number.isFinite(v) || v < 0) {
      if (cur.length) segments.push(cur.join(' '));
      cur = [];
      return;
    }
    const x = n === 1 ? width / 2 : pad + (innerW * i) / (n - 1);
    const y = max > 0 ? pad + innerH * (1 - v / max) : height - pad;
    const p = { x: r1(x), y: r1(y), i, value: v };
    points.push(p);
    cur.push(`${p.x},${p.y}`);
  });
  if (cur.length) segments.push(cur.join(' '));
  return { segments, points, max };
}

// ---- history ----

/** A task run's duration, when it started and ended. */
export function entryDuration(e: Pick<TaskHistoryEntry, 'started_at_ms' | 'ended_at_ms'>): number | null {
  if (e.started_at_ms == null || e.ended_at_ms == null) return null;
  return Math.max(0, e.ended_at_ms - e.started_at_ms);
}

/** States in which the task did not run itself: no duration of its own, no log. */
const DID_NOT_RUN = new Set(['upstream_failed', 'skipped', 'cached', 'pending']);

export interface HistoryItem {
  runId: number;
  status: string;
  /** "upstream failed" */
  statusLabel: string;
  rows: number | null;
  /** "23,528 rows" or "" */
  rowsText: string;
  durationMs: number | null;
  /** "1.2 s" or "" */
  durationText: string;
  /** "3 attempts" when it was retried, else "" */
  attemptsText: string;
  /** Whether the run wrote a log for the task (it ran in it). */
  hasLog: boolean;
  error: string | null;
  trigger: string | null;
  startedAtMs: number | null;
}

export function historyItem(e: TaskHistoryEntry): HistoryItem {
  const ran = !DID_NOT_RUN.has(e.status);
  const durationMs = ran ? entryDuration(e) : null;
  return {
    runId: e.run_id,
    status: e.status,
    statusLabel: e.status.replace(/_/g, ' '),
    rows: e.rows,
    rowsText: e.rows == null ? '' : `${formatCount(e.rows)} ${e.rows === 1 ? 'row' : 'rows'}`,
    durationMs,
    durationText: durationMs == null ? '' : formatDuration(durationMs),
    attemptsText: e.attempts > 1 ? `${e.attempts} attempts` : '',
    hasLog: ran && e.attempts > 0,
    error: e.error,
    trigger: e.trigger,
    startedAtMs: e.started_at_ms ?? e.ended_at_ms,
  };
}

/** The sparkline's values: durations of the runs in which the task ran, oldest first. */
export function durationSeries(h: TaskHistory): { runId: number; status: string; ms: number }[] {
  return h.runs
    .map(historyItem)
    .filter((it): it is HistoryItem & { durationMs: number } => it.durationMs != null)
    .reverse()
    .map((it) => ({ runId: it.runId, status: it.status, ms: it.durationMs }));
}

/** The newest run in which the task itself failed (not an upstream's failure), if any. */
export function lastFailure(h: TaskHistory): TaskHistoryEntry | null {
  return h.runs.find((r) => r.status === 'failed') ?? null;
}

/** When a run started, short: the time (24 h) today, else the day. */
export function whenText(ms: number | null, now = Date.now()): string {
  if (ms == null) return '';
  const d = new Date(ms);
  const today = new Date(now).toDateString() === d.toDateString();
  const hms = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return today ? hms : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

// ---- settings ----

/** Keys shown elsewhere in the panel (header, schema section, code block) or not worth a line. */
const HIDDEN_KEYS = new Set(['id', 'kind', 'description', 'schema', 'sql', 'code', 'depends_on', 'runs_on']);

/** A scalar as text: strings as written, everything else as JSON. */
function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** One value as readable text: lists joined by commas, small tables inline as `k = v`. */
export function valueText(v: unknown): string {
  if (v == null) return '—';
  if (Array.isArray(v)) return v.length ? v.map((x) => (isPlainObject(x) || Array.isArray(x) ? `{ ${valueText(x)} }` : scalarText(x))).join(', ') : '(none)';
  if (isPlainObject(v))
    return Object.entries(v)
      .map(([k, x]) => `${k} = ${isPlainObject(x) ? `{ ${valueText(x)} }` : valueText(x)}`)
      .join(', ');
  return scalarText(v);
}

/**
 * The task's settings as key/value lines, from what the user wrote in pipeline.toml (`spec`)
 * when the runner sends it, else from the resolved settings without their empty defaults.
 * A nested table becomes one line per key (`path_column.name`).
 */
export function settingsEntries(task: TaskDef): [string, string][] {
  const src: Record<string, unknown> = task.spec ?? task.settings ?? {};
  const out: [string, string][] = [];
  const add = (prefix: string, obj: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(obj)) {
      if (!prefix && HIDDEN_KEYS.has(k)) continue;
      if (!task.spec && (v == null || v === false)) continue; // resolved defaults
      const key = prefix ? `${prefix}.${k}` : k;
      if (isPlainObject(v) && Object.keys(v).length <= 6 && Object.values(v).every((x) => !isPlainObject(x))) add(key, v);
      else out.push([key, valueText(v)]);
    }
  };
  add('', src);
  // Where a SQL task really runs (the spec may leave the engine to the pipeline or to the planner).
  const runsOn = task.settings?.runs_on;
  if (task.kind === 'sql' && typeof runsOn === 'string' && !out.some(([k]) => k === 'engine')) out.push(['engine', runsOn]);
  if (task.materialize && !out.some(([k]) => k === 'materialize')) out.push(['materialize', task.materialize]);
  return out;
}

// ---- schema ----

export interface SchemaRow {
  name: string;
  type: string;
  notNull: boolean;
  unique: boolean;
}

/**
 * The task's columns: its last output's (`/schemas`), with the contract's not-null and unique
 * marks; the declared contract alone when there is no output. `source` says which.
 */
export function schemaRows(task: TaskDef, output: ColumnSchema[] | null | undefined, hasRun: boolean): { source: 'output' | 'contract' | null; rows: SchemaRow[] } {
  const declared = new Map((task.schema?.columns ?? []).map((c) => [c.name, c]));
  if (output && output.length && hasRun)
    return {
      source: 'output',
      rows: output.map((c) => ({ name: c.name, type: c.type, notNull: !!declared.get(c.name)?.not_null, unique: !!declared.get(c.name)?.unique })),
    };
  if (task.schema?.columns.length)
    return { source: 'contract', rows: task.schema.columns.map((c) => ({ name: c.name, type: c.dtype, notNull: c.not_null, unique: c.unique })) };
  if (output && output.length) return { source: 'output', rows: output.map((c) => ({ name: c.name, type: c.type, notNull: false, unique: false })) };
  return { source: null, rows: [] };
}

// ---- changed since the last success ----

/** task id → whether it changed since its last successful run, as the runner says now. */
export type ChangedFlags = Record<string, boolean | null>;

export function changedFlags(d: PipelineDetail): ChangedFlags {
  const out: ChangedFlags = {};
  for (const t of d.tasks) out[t.id] = t.changed_since_success ?? null;
  return out;
}

/**
 * The pipeline with each task's "changed since its last success" flag from `flags` (tasks not
 * in it keep theirs); the same object when no flag differs, so a caller's state does not churn.
 */
export function withChangedFlags(d: PipelineDetail, flags: ChangedFlags): PipelineDetail {
  let changed = false;
  const tasks = d.tasks.map((t) => {
    if (!(t.id in flags)) return t;
    const f = flags[t.id] ?? null;
    if ((t.changed_since_success ?? null) === f) return t;
    changed = true;
    return { ...t, changed_since_success: f };
  });
  return changed ? { ...d, tasks } : d;
}
