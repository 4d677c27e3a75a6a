// What the canvas needs to know about a task beyond the pipeline detail: how to write it back to
// pipeline.toml (to undo a delete), which of its edges come from `inputs` (the only ones the canvas
// may remove), and sensible settings for a new task of each kind.
import type { TaskSpec } from '../../api/authoring';
import type { Edge, TaskDef, TaskKind } from '../../api/types';
import { newPythonSettings } from '../../python/template';

export const KINDS: TaskKind[] = ['source', 'sql', 'python', 'validate', 'sink', 'shell'];

/**
 * A task as the detail route shows it. `inputs` (the explicit edges) and `spec` (the task's
 * pipeline.toml table as JSON) are read when the runner sends them; without them the canvas
 * derives both from the model's settings (see explicitInputs and specFromTask).
 */
export type TaskInfo = TaskDef & { inputs?: string[] | null; spec?: Record<string, unknown> | null };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The upstream tasks a Python task's function takes as parameters (`reads` in its settings). */
export function pythonReads(t: TaskDef): string[] {
  const reads = t.settings?.reads;
  return Array.isArray(reads) ? reads.filter((r): r is string => typeof r === 'string') : [];
}

/** What a Python task calls, for its node's tooltip: `run(sales) in by_region.py`. */
export function pythonCall(t: TaskDef): string | null {
  if (t.kind !== 'python') return null;
  const fn = str(t.settings?.function) ?? 'run';
  const file = str(t.settings?.file);
  return `${fn}(${pythonReads(t).join(', ')})${file ? ` in ${file}` : ''}`;
}

/** Names of upstream tasks a query mentions as a word (a stand-in for the engine's SQL parser). */
function sqlMentions(sql: string, names: string[]): Set<string> {
  const text = sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').toLowerCase();
  const words = new Set(text.match(/[a-z_][a-z0-9_$]*/g) ?? []);
  return new Set(names.filter((n) => words.has(n.toLowerCase())));
}

/** The task's explicit upstream edges (`inputs` in pipeline.toml). */
export function explicitInputs(t: TaskInfo): string[] {
  if (Array.isArray(t.inputs)) return [...t.inputs];
  const s = t.settings ?? {};
  switch (t.kind) {
    case 'validate':
    case 'sink':
      return t.upstream.filter((u) => u !== s.input);
    case 'sql': {
      const mentioned = sqlMentions(str(s.sql) ?? '', t.upstream);
      return t.upstream.filter((u) => !mentioned.has(u));
    }
    case 'python': {
      const reads = pythonReads(t);
      return t.upstream.filter((u) => !reads.includes(u));
    }
    default:
      return [...t.upstream];
  }
}

/** Where an edge comes from: the `inputs` list (removable here), the `input` field, the SQL, or a Python function's parameters. */
export type EdgeOrigin = 'inputs' | 'input' | 'sql' | 'python';

export function edgeOrigin(edge: Edge, tasks: TaskInfo[]): EdgeOrigin {
  const to = tasks.find((t) => t.id === edge.to);
  if (!to) return 'inputs';
  if (explicitInputs(to).includes(edge.from)) return 'inputs';
  if (to.settings?.input === edge.from) return 'input';
  return to.kind === 'python' ? 'python' : 'sql';
}

/** `kind_1`, `kind_2`, …: the first id of that pattern not taken. */
export function suggestId(kind: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let n = 1; ; n++) if (!used.has(`${kind}_${n}`)) return `${kind}_${n}`;
}

/** A task id the engine accepts: a lower-case SQL identifier. Null when fine, else why not. */
export function idProblem(id: string, taken: Iterable<string>): string | null {
  if (!id) return 'Enter an id';
  if (!/^[a-z_][a-z0-9_]*$/.test(id)) return 'Use lower-case letters, digits and _ (not first)';
  for (const t of taken) if (t === id) return `'${id}' exists`;
  return null;
}

/** Whether a kind reads one upstream through `input` (so a new task of it needs one). */
export const needsInput = (kind: TaskKind) => kind === 'validate' || kind === 'sink';

/** Whether a new task of this kind may start reading an upstream (its code's parameter), none being fine too. */
export const mayReadInput = (kind: TaskKind) => kind === 'python';

/**
 * Valid starting settings of a new task; `input` is the upstream of validate and sink tasks, and
 * the task a new Python function reads (its parameter), if any.
 */
export function defaultSettings(kind: TaskKind, id: string, input: string | null): Obj {
  switch (kind) {
    case 'source':
      return { format: 'csv', path: `data/${id}.csv` };
    case 'sql':
      // The runner writes the .sql file when both `file` and `sql` are given.
      return { file: `${id}.sql`, sql: 'SELECT 1 AS x' };
    case 'validate':
      return { input, checks: [{ row_count: { min: 1 } }] };
    case 'sink':
      return { input, format: 'parquet', path: `out/${id}.parquet` };
    case 'shell':
      return { command: `echo "${id}"` };
    case 'python':
      // Like SQL: the runner writes the .py file when both `file` and `code` are given.
      return newPythonSettings(id, input);
  }
}

/** Drops nulls (the engine treats an absent key as its default). */
function compact(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/** One check of the model (`{column, rule, severity}`) in pipeline.toml's form. */
function checkToToml(c: unknown): Obj {
  if (!isObj(c)) return {};
  const out: Obj = {};
  if (typeof c.column === 'string') out.column = c.column;
  const rule = c.rule;
  if (rule === 'not_null' || rule === 'unique') out[rule] = true;
  else if (isObj(rule)) {
    const [name, arg] = Object.entries(rule)[0] ?? [];
    if (name === 'range' && isObj(arg)) Object.assign(out, compact({ min: arg.min, max: arg.max }));
    else if (name === 'row_count' && isObj(arg)) out.row_count = compact({ min: arg.min, max: arg.max });
    else if (name) out[name] = arg;
  }
  if (c.severity === 'warn') out.severity = 'warn';
  return out;
}

/** The kind-specific fields of a task in pipeline.toml's form, from the model's settings. */
function kindFields(t: TaskInfo): Obj {
  const s = t.settings ?? {};
  switch (t.kind) {
    case 'source': {
      const out: Obj = compact({ format: s.format, path: s.path, flatten_separator: s.flatten_separator, infer_schema_rows: s.infer_schema_rows });
      if (s.flatten === true) out.flatten = true;
      if (typeof s.delimiter === 'number' && s.delimiter !== 44) out.delimiter = String.fromCharCode(s.delimiter);
      else if (typeof s.delimiter === 'string' && s.delimiter !== ',') out.delimiter = s.delimiter;
      if (isObj(s.path_column)) {
        const pc = s.path_column;
        const type = pc.dtype ?? pc.type;
        out.path_column = compact({ name: pc.name, pattern: pc.pattern, type, format: type === 'date' ? pc.format : null });
      }
      return out;
    }
    case 'sql':
      // With `file`, the runner writes `sql` into that file again.
      return compact({ file: s.file, sql: s.sql, engine: s.engine });
    case 'validate': {
      const out: Obj = { input: s.input, checks: Array.isArray(s.checks) ? s.checks.map(checkToToml) : [] };
      if (typeof s.sample_rows === 'number' && s.sample_rows !== 100) out.sample_rows = s.sample_rows;
      return out;
    }
    case 'sink': {
      const out: Obj = compact({ input: s.input, format: s.format, path: s.path, database: s.database, table: s.table });
      if (Array.isArray(s.partition_by) && s.partition_by.length) out.partition_by = s.partition_by;
      if (s.mode && s.mode !== 'replace') out.mode = s.mode;
      return out;
    }
    case 'shell': {
      const out: Obj = { command: s.command };
      if (Array.isArray(s.env) && s.env.length) out.env = Object.fromEntries(s.env as [string, string][]);
      else if (isObj(s.env) && Object.keys(s.env).length) out.env = s.env;
      return out;
    }
    case 'python':
      // With `file`, the runner writes `code` into that file again; `run` is the default function.
      return compact({ file: s.file, code: s.code, function: s.function === 'run' ? null : s.function });
  }
}

/** The task as pipeline.toml holds it, to add it back after a delete. */
export function specFromTask(t: TaskInfo): TaskSpec {
  if (isObj(t.spec)) {
    const { id: _id, kind: _kind, ...rest } = t.spec;
    return { id: t.id, kind: t.kind, settings: rest };
  }
  const settings: Obj = {};
  if (t.description) settings.description = t.description;
  Object.assign(settings, kindFields(t));
  const inputs = explicitInputs(t);
  if (inputs.length) settings.inputs = inputs;
  if (t.materialize === 'view') settings.materialize = 'view';
  return { id: t.id, kind: t.kind, settings };
}
