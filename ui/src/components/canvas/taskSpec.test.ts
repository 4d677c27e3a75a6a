import { describe, expect, it } from 'vitest';
import { pythonTemplate } from '../../python/template';
import { dataEdgeMessage } from './dataEdge';
import { defaultSettings, edgeOrigin, explicitInputs, idProblem, pythonCall, specFromTask, suggestId, type TaskInfo } from './taskSpec';

// Tasks as GET /api/pipelines/medallion answers them (settings serialized from the engine's model).
const bronze: TaskInfo = {
  id: 'bronze', kind: 'source', description: null, upstream: [], materialize: 'table',
  settings: {
    kind: 'source', format: 'ndjson', path: '{{ logs_dir }}/*.json', flatten: true, flatten_separator: null,
    path_column: { name: 'date', pattern: '(\\d{8})\\.json$', dtype: 'date', format: '%Y%m%d' }, infer_schema_rows: null, delimiter: 44,
  },
};
const gold: TaskInfo = {
  id: 'gold', kind: 'sql', description: null, upstream: ['silver', 'extra'], materialize: 'table',
  settings: { kind: 'sql', file: 'gold.sql', sql: '-- reads silver\nSELECT * FROM Silver s JOIN x ON true', engine: 'duckdb' },
};
const checks: TaskInfo = {
  id: 'gold_checks', kind: 'validate', description: 'checks', upstream: ['gold'], materialize: 'table',
  settings: {
    kind: 'validate', input: 'gold', sample_rows: 100,
    checks: [
      { column: 'contract', rule: 'not_null', severity: 'error' },
      { column: 'contract', rule: { regex: '^[A-Z]{3}[0-9]{6}$' }, severity: 'error' },
      { column: 'segment', rule: { accepted_values: ['Champions', 'Loyal'] }, severity: 'error' },
      { column: 'r_score', rule: { range: { min: 1, max: 4 } }, severity: 'error' },
      { column: 'recency', rule: { range: { min: 0, max: null } }, severity: 'error' },
      { column: null, rule: { row_count: { min: 1, max: null } }, severity: 'error' },
      { column: null, rule: { expr: 'monetary > 0' }, severity: 'warn' },
    ],
  },
};
const sink: TaskInfo = {
  id: 'gold_parquet', kind: 'sink', description: null, upstream: ['gold', 'gold_checks'], materialize: 'table',
  settings: { kind: 'sink', input: 'gold', format: 'parquet', path: 'out/gold_rfm', partition_by: ['segment'], database: null, table: null, mode: 'replace' },
};
const shell: TaskInfo = {
  id: 'notify', kind: 'shell', description: null, upstream: ['gold_parquet'], materialize: 'table',
  settings: { kind: 'shell', command: 'echo done', env: [['A', '1']] },
};
const py: TaskInfo = {
  id: 'by_region', kind: 'python', description: null, upstream: ['gold', 'extra'], materialize: 'table',
  settings: { kind: 'python', file: 'by_region.py', code: 'def run(gold, params):\n    return gold\n', function: 'run', reads: ['gold'], takes_params: true, params: [] },
};

describe('explicitInputs', () => {
  it('prefers the runner’s `inputs` when it sends them', () => {
    expect(explicitInputs({ ...gold, inputs: ['silver'] })).toEqual(['silver']);
  });
  it('is the upstream minus `input` for validate and sink tasks', () => {
    expect(explicitInputs(sink)).toEqual(['gold_checks']);
    expect(explicitInputs(checks)).toEqual([]);
  });
  it('is the upstream not named in the SQL (comments ignored, any case) for SQL tasks', () => {
    expect(explicitInputs(gold)).toEqual(['extra']);
    expect(explicitInputs({ ...gold, settings: { ...gold.settings, sql: '-- silver\nSELECT 1' } })).toEqual(['silver', 'extra']);
  });
  it('is the upstream the Python function does not take as a parameter for Python tasks', () => {
    expect(explicitInputs(py)).toEqual(['extra']);
  });
  it('is the whole upstream for sources and shell tasks', () => {
    expect(explicitInputs(shell)).toEqual(['gold_parquet']);
  });
});

describe('edgeOrigin', () => {
  const tasks = [gold, checks, sink];
  it('tells removable `inputs` edges from `input` and SQL edges', () => {
    expect(edgeOrigin({ from: 'gold_checks', to: 'gold_parquet' }, tasks)).toBe('inputs');
    expect(edgeOrigin({ from: 'gold', to: 'gold_parquet' }, tasks)).toBe('input');
    expect(edgeOrigin({ from: 'silver', to: 'gold' }, tasks)).toBe('sql');
    expect(dataEdgeMessage({ from: 'silver', to: 'gold' }, 'sql', gold)).toContain('change line 2 of gold.sql:\n  2 | SELECT * FROM Silver s JOIN x ON true');
  });
  it('says a Python task’s edge comes from its function’s parameters', () => {
    expect(edgeOrigin({ from: 'gold', to: 'by_region' }, [py])).toBe('python');
    expect(edgeOrigin({ from: 'extra', to: 'by_region' }, [py])).toBe('inputs');
    expect(dataEdgeMessage({ from: 'gold', to: 'by_region' }, 'python', py)).toContain('takes gold as a parameter. To remove the edge, drop that parameter on line 1 of by_region.py');
  });
});

describe('specFromTask', () => {
  it('writes a source back in pipeline.toml’s form', () => {
    expect(specFromTask(bronze)).toEqual({
      id: 'bronze', kind: 'source',
      settings: { format: 'ndjson', path: '{{ logs_dir }}/*.json', flatten: true, path_column: { name: 'date', pattern: '(\\d{8})\\.json$', type: 'date', format: '%Y%m%d' } },
    });
    expect(specFromTask({ ...bronze, settings: { kind: 'source', format: 'csv', path: 'a.csv', flatten: false, delimiter: 59 } }).settings).toEqual({ format: 'csv', path: 'a.csv', delimiter: ';' });
  });
  it('keeps a SQL task’s file, text, engine and explicit inputs', () => {
    expect(specFromTask(gold)).toEqual({
      id: 'gold', kind: 'sql',
      settings: { file: 'gold.sql', sql: gold.settings.sql, engine: 'duckdb', inputs: ['extra'] },
    });
  });
  it('turns model checks into one toml check per rule', () => {
    expect(specFromTask(checks).settings).toEqual({
      description: 'checks',
      input: 'gold',
      checks: [
        { column: 'contract', not_null: true },
        { column: 'contract', regex: '^[A-Z]{3}[0-9]{6}$' },
        { column: 'segment', accepted_values: ['Champions', 'Loyal'] },
        { column: 'r_score', min: 1, max: 4 },
        { column: 'recency', min: 0 },
        { row_count: { min: 1 } },
        { expr: 'monetary > 0', severity: 'warn' },
      ],
    });
  });
  it('writes sinks and shell tasks without defaults', () => {
    expect(specFromTask(sink).settings).toEqual({ input: 'gold', format: 'parquet', path: 'out/gold_rfm', partition_by: ['segment'], inputs: ['gold_checks'] });
    expect(specFromTask(shell).settings).toEqual({ command: 'echo done', env: { A: '1' }, inputs: ['gold_parquet'] });
  });
  it('keeps a Python task’s file, code and explicit inputs (and its function unless `run`)', () => {
    expect(specFromTask(py)).toEqual({ id: 'by_region', kind: 'python', settings: { file: 'by_region.py', code: py.settings.code, inputs: ['extra'] } });
    expect(specFromTask({ ...py, settings: { ...py.settings, function: 'main' } }).settings.function).toBe('main');
  });
  it('uses the runner’s spec as is when it sends one', () => {
    expect(specFromTask({ ...sink, spec: { id: 'gold_parquet', kind: 'sink', input: 'gold', retries: 2 } })).toEqual({ id: 'gold_parquet', kind: 'sink', settings: { input: 'gold', retries: 2 } });
  });
});

describe('new tasks', () => {
  it('suggests the first free kind_n id', () => {
    expect(suggestId('sql', ['sql_1', 'sql_3', 'gold'])).toBe('sql_2');
    expect(suggestId('source', [])).toBe('source_1');
  });
  it('checks ids like the engine does, and that they are free', () => {
    expect(idProblem('sql_1', ['gold'])).toBeNull();
    expect(idProblem('Sql', [])).toMatch(/lower-case/);
    expect(idProblem('1x', [])).toMatch(/lower-case/);
    expect(idProblem('gold', ['gold'])).toBe("'gold' exists");
    expect(idProblem('', [])).toBe('Enter an id');
  });
  it('gives every kind settings the engine accepts', () => {
    expect(defaultSettings('sql', 'sql_1', null)).toEqual({ file: 'sql_1.sql', sql: 'SELECT 1 AS x' });
    expect(defaultSettings('source', 'source_1', null)).toEqual({ format: 'csv', path: 'data/source_1.csv' });
    expect(defaultSettings('validate', 'v', 'gold')).toEqual({ input: 'gold', checks: [{ row_count: { min: 1 } }] });
    expect(defaultSettings('sink', 's', 'gold')).toEqual({ input: 'gold', format: 'parquet', path: 'out/s.parquet' });
    expect(defaultSettings('shell', 'sh', null)).toEqual({ command: 'echo "sh"' });
    expect(defaultSettings('python', 'share', 'gold')).toEqual({ file: 'share.py', code: pythonTemplate('gold') });
    expect(defaultSettings('python', 'first', null)).toEqual({ file: 'first.py', code: pythonTemplate(null) });
  });
  it('says what a Python task calls', () => {
    expect(pythonCall(py)).toBe('run(gold) in by_region.py');
    expect(pythonCall(gold)).toBeNull();
  });
});
