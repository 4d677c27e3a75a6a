// Shapes of the Polder runner HTTP API.

export type TaskKind = 'source' | 'sql' | 'validate' | 'sink' | 'shell' | 'python';
export type RunStatus = 'running' | 'success' | 'failed' | 'cancelled';
export type TaskStatus =
  | 'pending'
  | 'running'
  | 'success'
  | 'cached'
  | 'skipped'
  | 'failed'
  | 'upstream_failed'
  | 'cancelled';

export interface PipelineSummary {
  /** null when the folder does not hold a valid pipeline; `error` says why. */
  name: string | null;
  dir: string;
  version: string | null;
  description: string | null;
  schedule: string | null;
  tasks: number | null;
  error: string | null;
}

export interface TaskDef {
  id: string;
  kind: TaskKind;
  description: string | null;
  upstream: string[];
  materialize: string | null;
  settings: Record<string, unknown>;
  /** The output's declared columns (`schema = { … }` in pipeline.toml), checked after each run. */
  schema?: SchemaContract | null;
  /** The task as written in pipeline.toml (keys as the user wrote them). */
  spec?: Record<string, unknown> | null;
  /** Whether its SQL, code or settings differ from what its last successful run used (null: no such run). */
  changed_since_success?: boolean | null;
}

/** One declared output column of a task's schema contract. */
export interface ContractColumn {
  name: string;
  /** `str`, `i64`, `f64`, `bool`, `date`, `datetime`, `any`, … */
  dtype: string;
  not_null: boolean;
  unique: boolean;
}

/** A task's schema contract: its output must have these columns; `strict`: and no others. */
export interface SchemaContract {
  columns: ContractColumn[];
  strict: boolean;
}

export interface Edge {
  from: string;
  to: string;
}

/** A declared parameter: values are checked against `type` when a run is triggered. */
export interface ParamSpec {
  name: string;
  type: 'string' | 'int' | 'float' | 'date' | 'bool';
  default: string | null;
  description: string | null;
}

export interface PipelineDetail {
  name: string;
  description: string | null;
  schedule: string | null;
  engine: string | null;
  timezone: string | null;
  params: Record<string, unknown>;
  /** Each declared parameter's type, default (null: required) and description. */
  param_specs?: ParamSpec[];
  version: string | null;
  tasks: TaskDef[];
  edges: Edge[];
  /** Task ids in topological order (declaration order breaks ties). */
  order?: string[];
}

export interface Run {
  id: number;
  pipeline: string;
  status: RunStatus;
  /** JSON text. */
  params: string | null;
  trigger: string | null;
  started_at_ms: number | null;
  ended_at_ms: number | null;
  error: string | null;
}

export interface TaskRun {
  run_id: number;
  task_id: string;
  kind: TaskKind;
  status: TaskStatus;
  attempts: number;
  started_at_ms: number | null;
  ended_at_ms: number | null;
  rows: number | null;
  bytes: number | null;
  /** JSON text: [{name, type}]. */
  schema: string | null;
  artifact: string | null;
  error: string | null;
  /** Where a failed SQL or Python task's error points in its text (1-based), when known. */
  error_location?: { line: number; column: number } | null;
  log_path: string | null;
}

export interface RunDetail {
  run: Run;
  tasks: TaskRun[];
}

export interface TriggerResponse {
  run_id?: number;
  queued?: unknown;
}

export interface ColumnSchema {
  name: string;
  type: string;
}

export type CellValue = string | number | boolean | null | Record<string, unknown> | unknown[];

export interface OutputPage {
  offset: number;
  limit: number;
  total_rows: number;
  schema: ColumnSchema[];
  rows: Record<string, CellValue>[];
}

export type RunnerEventKind =
  | 'run_started'
  | 'task_started'
  | 'task_retrying'
  | 'task_finished'
  | 'run_finished';

/** A pipeline's files changed on disk (or it appeared, vanished, or stopped loading). */
export interface PipelineChangedEvent {
  event: 'pipeline_changed';
  /** The pipeline's name, or its folder's when its files do not load. */
  pipeline: string;
  folder: string;
  /** The loader's message when the files are invalid. */
  error: string | null;
  at_ms: number;
}

export interface RunnerEvent {
  event: RunnerEventKind;
  pipeline: string;
  run_id: number;
  task?: string;
  status?: string;
  rows?: number | null;
  duration_ms?: number | null;
  error?: string | null;
}

export interface ApiErrorBody {
  code: string;
  message: string;
}

/** `GET /api/pipelines/{name}/check` (CheckResponse in openapi.json): queries planned over their
 * inputs' schemas before any run. */
export interface PlanCheck {
  problems: { task: string; file: string | null; line: number | null; col: number | null; message: string }[];
  engines: Record<string, { engine: 'polars' | 'duckdb'; auto: boolean; why: string | null }>;
  unchecked: { task: string; why: string }[];
}
