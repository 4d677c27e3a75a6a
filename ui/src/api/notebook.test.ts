import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './client';
import { getNotes, getSchemas, newPythonTask, newSourceTask, newSqlTask, parseNotes, previewTask, saveTaskCode, sqlLocationOf, taskIdProblem } from './notebook';

type Call = { url: string; init?: RequestInit };

/** A client over a fake fetch answering by path (without the query). */
function fake(routes: Record<string, (url: URL, init?: RequestInit) => [number, unknown]>) {
  const calls: Call[] = [];
  const client = new ApiClient('http://r', 't', async (input, init) => {
    calls.push({ url: input, init });
    const url = new URL(input);
    const route = routes[`${init?.method ?? 'GET'} ${url.pathname}`];
    const [status, body] = route ? route(url, init) : [404, { code: 'not_found', message: `no route ${url.pathname}` }];
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  });
  return { client, calls };
}

describe('notes', () => {
  it('reads notes and drops malformed entries', async () => {
    const { client } = fake({
      'GET /api/pipelines/p/notes': () => [200, { notes: [{ id: 'a', after: null, text: '# Hi' }, { id: 'b', after: 'x', text: 't' }, { id: 3 }, null] }],
    });
    expect(await getNotes(client, 'p')).toEqual([
      { id: 'a', after: null, text: '# Hi' },
      { id: 'b', after: 'x', text: 't' },
    ]);
    expect(parseNotes(undefined)).toEqual([]);
  });
});

describe('getSchemas', () => {
  it('uses the schemas route when the runner has it', async () => {
    const { client, calls } = fake({
      'GET /api/pipelines/p/schemas': () => [200, { tasks: { a: [{ name: 'x', type: 'i64' }] } }],
    });
    expect(await getSchemas(client, 'p', ['a', 'b'])).toEqual({ a: [{ name: 'x', type: 'i64' }] });
    expect(calls).toHaveLength(1);
  });

  it('falls back to zero-row output pages on an older runner, skipping tasks without output', async () => {
    const { client, calls } = fake({
      'GET /api/pipelines/p/tasks/a/output': (url) => [200, { offset: 0, limit: Number(url.searchParams.get('limit')), total_rows: 5, rows: [], schema: [{ name: 'x', type: 'str' }] }],
      'GET /api/pipelines/p/tasks/b/output': () => [404, { code: 'not_found', message: "task 'b' has no output yet" }],
    });
    expect(await getSchemas(client, 'p', ['a', 'b'])).toEqual({ a: [{ name: 'x', type: 'str' }] });
    expect(calls.map((c) => c.url)).toContain('http://r/api/pipelines/p/tasks/a/output?limit=0');
  });

  it('does not hide other errors', async () => {
    const { client } = fake({ 'GET /api/pipelines/p/schemas': () => [500, { code: 'internal', message: 'boom' }] });
    await expect(getSchemas(client, 'p', ['a'])).rejects.toThrow('boom');
  });
});

describe('previewTask', () => {
  it('sends the limit and the unsaved SQL, and exposes the error location', async () => {
    const { client, calls } = fake({
      'POST /api/pipelines/p/tasks/t%20x/preview': () => [400, { code: 'bad_request', message: 'Binder Error', location: { line: 2, column: 7 } }],
    });
    const err = await previewTask(client, 'p', 't x', { sql: 'SELECT\n  nme' }).catch((e) => e);
    expect(JSON.parse(String(calls[0]!.init!.body))).toEqual({ limit: 1000, sql: 'SELECT\n  nme' });
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('Binder Error');
    expect(sqlLocationOf(err)).toEqual({ line: 2, column: 7 });
  });

  it("sends a Python cell's unsaved code as `code`", async () => {
    const { client, calls } = fake({
      'POST /api/pipelines/p/tasks/py/preview': () => [400, { code: 'bad_request', message: 'File "py.py", line 4', location: { line: 4, column: 1 } }],
    });
    const err = await previewTask(client, 'p', 'py', { code: 'def run(params):\n  x' }).catch((e) => e);
    expect(JSON.parse(String(calls[0]!.init!.body))).toEqual({ limit: 1000, code: 'def run(params):\n  x' });
    expect(sqlLocationOf(err)).toEqual({ line: 4, column: 1 });
  });

  it('has no location for errors without one', () => {
    expect(sqlLocationOf(new ApiError(400, 'bad_request', 'x', { code: 'bad_request', message: 'x' }))).toBeNull();
    expect(sqlLocationOf(new ApiError(400, 'bad_request', 'x', { location: { line: 0, column: 1 } }))).toBeNull();
    expect(sqlLocationOf(new Error('x'))).toBeNull();
  });
});

describe('saveTaskCode', () => {
  it('PUTs the code to the task\'s /code route and answers the pipeline as saved', async () => {
    const { client, calls } = fake({ 'PUT /api/pipelines/p/tasks/py/code': () => [200, { name: 'p', tasks: [] }] });
    expect(await saveTaskCode(client, 'p', 'py', 'import polars as pl\n')).toEqual({ name: 'p', tasks: [] });
    expect(JSON.parse(String(calls[0]!.init!.body))).toEqual({ code: 'import polars as pl\n' });
  });
});

describe('new SQL cells', () => {
  it('get their own .sql file reading the task above', () => {
    expect(newSqlTask('top_customers', 'order_totals')).toEqual({
      id: 'top_customers',
      kind: 'sql',
      settings: { file: 'top_customers.sql', sql: 'SELECT * FROM order_totals\n' },
    });
    expect(newSqlTask('first', null).settings.sql).toBe('SELECT 1 AS one\n');
  });

  it('new Python cells get their own .py file with a run function reading the task above', () => {
    const t = newPythonTask('by_region', 'sales');
    expect(t.kind).toBe('python');
    expect(t.settings.file).toBe('by_region.py');
    expect(t.settings.code).toContain('def run(sales: pl.LazyFrame, params: dict) -> pl.LazyFrame:');
  });

  it('new source cells read CSV files under data/', () => {
    expect(newSourceTask('raw')).toEqual({ id: 'raw', kind: 'source', settings: { format: 'csv', path: 'data/*.csv' } });
  });

  it('need a lower-case identifier that is not taken', () => {
    expect(taskIdProblem('top_customers', ['a'])).toBeNull();
    expect(taskIdProblem('', [])).toMatch(/Enter/);
    expect(taskIdProblem('Top', [])).toMatch(/lower-case/);
    expect(taskIdProblem('1x', [])).toMatch(/lower-case/);
    expect(taskIdProblem('a', ['a'])).toMatch(/exists/);
  });
});
