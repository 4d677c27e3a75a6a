import { describe, expect, it } from 'vitest';
import { checkLines, fieldVisible, formValues, KIND_FIELDS, rebaseValues, settingsPatch } from './taskFields';

// Settings as GET /api/pipelines/{name} reports them.
const source = { kind: 'source', format: 'csv', path: 'data/customers.csv', connection: null, hive: false, flatten: false, flatten_separator: null, path_column: null, infer_schema_rows: null, delimiter: 44 };
const sink = { kind: 'sink', input: 'region_accuracy', format: 'duckdb', path: null, connection: null, partition_by: [], database: 'out/energy.duckdb', table: 'marts.region_accuracy', mode: 'replace' };
const shell = { kind: 'shell', command: 'echo hi', env: [['A', '1'], ['B', 'x y']] };

describe('formValues', () => {
  it('turns settings into form text', () => {
    expect(formValues('source', source)).toEqual({ format: 'csv', path: 'data/customers.csv', query: '', table: '', connection: '', hive: 'false', delimiter: ',', infer_schema_rows: '', flatten: 'false', flatten_separator: '' });
    expect(formValues('sink', { ...sink, partition_by: ['a', 'b'] }).partition_by).toBe('a, b');
    expect(formValues('shell', shell).env).toBe('A=1, B=x y');
  });
});

describe('settingsPatch', () => {
  it('is empty when nothing changed', () => {
    expect(settingsPatch('source', source, formValues('source', source))).toEqual({ patch: {}, errors: {} });
  });

  it('sends changed fields only, converted; emptied fields and false flags are removed', () => {
    const v = { ...formValues('source', source), delimiter: ';', infer_schema_rows: '500', path: ' data/x.csv ' };
    expect(settingsPatch('source', source, v)).toEqual({ patch: { delimiter: ';', infer_schema_rows: 500, path: 'data/x.csv' }, errors: {} });
    const s2 = { ...source, flatten: true, flatten_separator: '.' };
    expect(settingsPatch('source', s2, { ...formValues('source', s2), flatten: 'false', flatten_separator: '' }).patch).toEqual({ flatten: null, flatten_separator: null });
  });

  it('reports invalid numbers and delimiters', () => {
    const v = { ...formValues('source', source), delimiter: ';;', infer_schema_rows: '-3' };
    expect(settingsPatch('source', source, v)).toEqual({ patch: {}, errors: { delimiter: 'one character', infer_schema_rows: 'a whole number' } });
  });

  it('parses lists and env pairs', () => {
    expect(settingsPatch('sink', sink, { ...formValues('sink', sink), partition_by: 'region, day' }).patch).toEqual({ partition_by: ['region', 'day'] });
    expect(settingsPatch('shell', shell, { ...formValues('shell', shell), env: 'A=2, C=z' }).patch).toEqual({ env: { A: '2', C: 'z' } });
    expect(settingsPatch('shell', shell, { ...formValues('shell', shell), env: 'oops' }).errors).toEqual({ env: 'NAME=value pairs, separated by commas' });
  });
});

describe('fieldVisible', () => {
  it('shows format-specific fields only for their formats', () => {
    const path = KIND_FIELDS.sink.find((f) => f.key === 'path')!;
    const table = KIND_FIELDS.sink.find((f) => f.key === 'table')!;
    const v = formValues('sink', sink);
    expect(fieldVisible(path, v)).toBe(false);
    expect(fieldVisible(table, v)).toBe(true);
  });
});

describe('checkLines', () => {
  it('describes each check', () => {
    const checks = [
      { column: 'region', rule: 'not_null', severity: 'error' },
      { column: 'region', rule: { accepted_values: ['NORTH', 'SOUTH'] }, severity: 'error' },
      { column: 'mape_pct', rule: { range: { min: 0, max: 100 } }, severity: 'warn' },
      { column: null, rule: { row_count: { min: 1, max: 4 } }, severity: 'error' },
    ];
    expect(checkLines(checks)).toEqual([
      'region: not_null',
      'region: accepted_values NORTH | SOUTH',
      'mape_pct: range min 0, max 100 (warn)',
      'row_count min 1, max 4',
    ]);
  });
});

describe('rebaseValues', () => {
  it('takes new settings for untouched fields and keeps fields being edited', () => {
    const before = { path: 'a.csv', sample_rows: '50' };
    const after = { path: 'b.csv', sample_rows: '50' };
    // The user is typing in sample_rows; path changed on disk.
    expect(rebaseValues(before, after, { path: 'a.csv', sample_rows: 'lots' })).toEqual({ path: 'b.csv', sample_rows: 'lots' });
    // Nothing typed: the form is the new settings.
    expect(rebaseValues(before, after, before)).toEqual(after);
    // A reload with the same settings changes nothing the user typed.
    expect(rebaseValues(after, after, { path: 'c.csv', sample_rows: '50' })).toEqual({ path: 'c.csv', sample_rows: '50' });
  });
});

describe('postgres sinks', () => {
  const pg = { ...sink, format: 'postgres', database: null, connection: 'warehouse', table: 'public.sales', mode: 'replace', key: [] };
  const shown = (values: Record<string, string>) => KIND_FIELDS.sink.filter((f) => fieldVisible(f, values)).map((f) => f.key);

  it('show connection, table and mode, and key only for upsert', () => {
    const values = formValues('sink', pg);
    expect(shown(values)).toEqual(['input', 'format', 'connection', 'table', 'mode']);
    expect(shown({ ...values, mode: 'upsert' })).toEqual(['input', 'format', 'connection', 'table', 'mode', 'key']);
  });

  it('send the upsert key as a list', () => {
    const values = { ...formValues('sink', pg), mode: 'upsert', key: 'id, day' };
    expect(settingsPatch('sink', pg, values).patch).toEqual({ mode: 'upsert', key: ['id', 'day'] });
  });
});

describe('postgres sources', () => {
  it('show the query and connection instead of file settings', () => {
    const pg = { ...source, format: 'postgres', path: '', query: 'SELECT * FROM sales', connection: 'warehouse' };
    const values = formValues('source', pg);
    expect(KIND_FIELDS.source.filter((f) => fieldVisible(f, values)).map((f) => f.key)).toEqual(['format', 'query', 'table', 'connection']);
    expect(settingsPatch('source', pg, { ...values, query: 'SELECT id FROM sales' }).patch).toEqual({ query: 'SELECT id FROM sales' });
  });
});

describe('clickhouse sinks', () => {
  it('show the sorting key and send it as a list', () => {
    const ch = { ...sink, format: 'clickhouse', database: null, connection: 'olap', table: 'gold', mode: 'replace', key: [], order_by: ['day'] };
    const values = formValues('sink', ch);
    expect(KIND_FIELDS.sink.filter((f) => fieldVisible(f, values)).map((f) => f.key)).toEqual(['input', 'format', 'connection', 'table', 'mode', 'order_by', 'low_cardinality']);
    expect(settingsPatch('sink', ch, { ...values, order_by: 'day, store' }).patch).toEqual({ order_by: ['day', 'store'] });
    // Empty means "chosen from the data": the key is removed, not written as [].
    const listed = { ...ch, low_cardinality: ['country'] };
    expect(formValues('sink', listed).low_cardinality).toBe('country');
    expect(settingsPatch('sink', listed, { ...formValues('sink', listed), low_cardinality: '' }).patch).toEqual({ low_cardinality: null });
  });
});
