// The compact settings form of non-SQL cells: which fields each kind has, how the runner's
// settings show as form text, and which changed values become a PATCH (null removes a key, so
// pipeline.toml keeps only what the user set).
import type { TaskKind } from '../../api/types';

export type FieldType = 'text' | 'select' | 'number' | 'bool' | 'char' | 'list' | 'task' | 'env';

export interface FieldSpec {
  key: string;
  label: string;
  type: FieldType;
  options?: string[];
  placeholder?: string;
  /** Shown only when another field has one of these values (e.g. CSV-only options). */
  when?: { key: string; values: string[] };
  wide?: boolean;
}

export const KIND_FIELDS: Record<TaskKind, FieldSpec[]> = {
  source: [
    { key: 'format', label: 'format', type: 'select', options: ['csv', 'parquet', 'ndjson', 'json', 'ipc', 'postgres'] },
    { key: 'path', label: 'path', type: 'text', placeholder: 'data/*.csv or s3://bucket/*.csv', wide: true, when: { key: 'format', values: ['csv', 'parquet', 'ndjson', 'json', 'ipc'] } },
    { key: 'query', label: 'query', type: 'text', placeholder: 'SELECT … (or a table)', wide: true, when: { key: 'format', values: ['postgres'] } },
    { key: 'table', label: 'table', type: 'text', placeholder: 'schema.table (or a query)', when: { key: 'format', values: ['postgres'] } },
    { key: 'connection', label: 'connection', type: 'text', placeholder: 'for s3:// paths and postgres' },
    { key: 'hive', label: 'hive partitions', type: 'bool', when: { key: 'format', values: ['csv', 'parquet', 'ndjson', 'json', 'ipc'] } },
    { key: 'delimiter', label: 'delimiter', type: 'char', placeholder: ',', when: { key: 'format', values: ['csv'] } },
    { key: 'infer_schema_rows', label: 'infer rows', type: 'number', placeholder: '10000', when: { key: 'format', values: ['csv', 'ndjson', 'json'] } },
    { key: 'flatten', label: 'flatten', type: 'bool', when: { key: 'format', values: ['csv', 'parquet', 'ndjson', 'json', 'ipc'] } },
    { key: 'flatten_separator', label: 'separator', type: 'text', placeholder: '.', when: { key: 'flatten', values: ['true'] } },
  ],
  sink: [
    { key: 'input', label: 'input', type: 'task' },
    { key: 'format', label: 'format', type: 'select', options: ['parquet', 'csv', 'ndjson', 'duckdb', 'postgres', 'clickhouse'] },
    { key: 'path', label: 'path', type: 'text', placeholder: 'out/file.parquet or s3://bucket/key', wide: true, when: { key: 'format', values: ['parquet', 'csv', 'ndjson'] } },
    { key: 'connection', label: 'connection', type: 'text', placeholder: 'for s3://, postgres, clickhouse', when: { key: 'format', values: ['parquet', 'csv', 'ndjson', 'postgres', 'clickhouse'] } },
    { key: 'partition_by', label: 'partition by', type: 'list', placeholder: 'col1, col2', when: { key: 'format', values: ['parquet', 'ndjson'] } },
    { key: 'database', label: 'database', type: 'text', placeholder: 'out/db.duckdb', when: { key: 'format', values: ['duckdb'] } },
    { key: 'table', label: 'table', type: 'text', placeholder: 'schema.table', when: { key: 'format', values: ['duckdb', 'postgres', 'clickhouse'] } },
    // `upsert` is for postgres only; loading the pipeline says so for other sinks.
    { key: 'mode', label: 'mode', type: 'select', options: ['replace', 'create', 'append', 'upsert'], when: { key: 'format', values: ['duckdb', 'postgres', 'clickhouse'] } },
    { key: 'order_by', label: 'order by', type: 'list', placeholder: 'sorting key: col1, col2', when: { key: 'format', values: ['clickhouse'] } },
    { key: 'low_cardinality', label: 'low cardinality', type: 'list', placeholder: 'text columns (empty: chosen from the data)', when: { key: 'format', values: ['clickhouse'] } },
    { key: 'key', label: 'key', type: 'list', placeholder: 'id, …', when: { key: 'mode', values: ['upsert'] } },
  ],
  validate: [
    { key: 'input', label: 'input', type: 'task' },
    { key: 'sample_rows', label: 'sample rows', type: 'number', placeholder: '100' },
  ],
  shell: [
    { key: 'command', label: 'command', type: 'text', wide: true },
    { key: 'env', label: 'env', type: 'env', placeholder: 'NAME=value, …', wide: true },
  ],
  // Code cells: their text is edited in the editor, not in a form.
  sql: [],
  python: [],
};

export type FormValues = Record<string, string>;

/** Form text of one setting as the runner reports it. */
function toText(type: FieldType, v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (type) {
    case 'char':
      // The runner reports the CSV delimiter as a byte.
      return typeof v === 'number' ? String.fromCharCode(v) : String(v);
    case 'list':
      return Array.isArray(v) ? v.join(', ') : String(v);
    case 'env':
      if (Array.isArray(v)) return v.map((p) => (Array.isArray(p) ? `${p[0]}=${p[1]}` : String(p))).join(', ');
      if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${String(x)}`).join(', ');
      return String(v);
    case 'bool':
      return v ? 'true' : 'false';
    default:
      return String(v);
  }
}

export function formValues(kind: TaskKind, settings: Record<string, unknown>): FormValues {
  const out: FormValues = {};
  for (const f of KIND_FIELDS[kind]) out[f.key] = toText(f.type, settings[f.key]);
  return out;
}

/**
 * The form after the task's settings changed from `before` to `after` (a save, an edit on disk):
 * fields the user has not touched follow the new settings; fields being edited keep their text.
 */
export function rebaseValues(before: FormValues, after: FormValues, current: FormValues): FormValues {
  const out: FormValues = { ...after };
  for (const [key, text] of Object.entries(current)) {
    if (text !== (before[key] ?? '')) out[key] = text;
  }
  return out;
}

export function fieldVisible(f: FieldSpec, values: FormValues): boolean {
  return !f.when || f.when.values.includes(values[f.when.key] ?? '');
}

export interface SettingsPatch {
  patch: Record<string, unknown>;
  errors: Record<string, string>;
}

/** The settings to PATCH for the fields changed from `settings` to `values`, or per-field errors. */
export function settingsPatch(kind: TaskKind, settings: Record<string, unknown>, values: FormValues): SettingsPatch {
  const before = formValues(kind, settings);
  const patch: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of KIND_FIELDS[kind]) {
    const text = (values[f.key] ?? '').trim();
    if (text === (before[f.key] ?? '').trim()) continue;
    if (text === '') {
      patch[f.key] = null;
      continue;
    }
    switch (f.type) {
      case 'number':
        if (!/^\d+$/.test(text)) errors[f.key] = 'a whole number';
        else patch[f.key] = Number(text);
        break;
      case 'char':
        if ([...text].length !== 1) errors[f.key] = 'one character';
        else patch[f.key] = text;
        break;
      case 'bool':
        // false is the default: remove the key rather than writing `flatten = false`.
        patch[f.key] = text === 'true' ? true : null;
        break;
      case 'list':
        patch[f.key] = text.split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case 'env': {
        const env: Record<string, string> = {};
        for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
          const eq = part.indexOf('=');
          if (eq <= 0) {
            errors[f.key] = 'NAME=value pairs, separated by commas';
            break;
          }
          env[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
        }
        patch[f.key] = env;
        break;
      }
      default:
        patch[f.key] = text;
    }
  }
  return { patch, errors };
}

/** One line per check of a validate task, as the runner reports them (`{column, rule, severity}`). */
export function checkLines(checks: unknown): string[] {
  if (!Array.isArray(checks)) return [];
  return checks.map((c) => {
    const { column, rule, severity } = (c ?? {}) as { column?: unknown; rule?: unknown; severity?: unknown };
    let r: string;
    if (typeof rule === 'string') r = rule;
    else if (rule && typeof rule === 'object') {
      const [name, arg] = Object.entries(rule as Record<string, unknown>)[0] ?? ['?', null];
      const a =
        arg && typeof arg === 'object' && !Array.isArray(arg)
          ? Object.entries(arg as Record<string, unknown>).map(([k, v]) => `${k} ${String(v)}`).join(', ')
          : Array.isArray(arg)
            ? arg.join(' | ')
            : String(arg);
      r = `${name} ${a}`;
    } else r = JSON.stringify(rule);
    const sev = severity === 'warn' ? ' (warn)' : '';
    return `${typeof column === 'string' ? `${column}: ` : ''}${r}${sev}`;
  });
}
