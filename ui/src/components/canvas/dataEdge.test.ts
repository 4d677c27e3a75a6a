import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pythonTemplate } from '../../python/template';
import {
  addPythonParam,
  dataEdgeMessage,
  edgeKind,
  isTemplatePython,
  isTemplateSql,
  planConnect,
  pythonParamLine,
  readInSql,
  sqlCode,
  sqlReferenceLine,
} from './dataEdge';
import type { TaskInfo } from './taskSpec';

const task = (id: string, kind: TaskInfo['kind'], settings: Record<string, unknown>, upstream: string[] = [], inputs: string[] = []): TaskInfo => ({
  id,
  kind,
  description: null,
  upstream,
  inputs,
  materialize: 'table',
  settings,
});

describe('edgeKind', () => {
  const gold = task('gold', 'sql', { sql: 'SELECT * FROM silver' }, ['silver']);
  const checks = task('checks', 'validate', { input: 'gold' }, ['gold']);
  const sink = task('table', 'sink', { input: 'gold' }, ['gold', 'checks'], ['checks']);
  const py = task('py', 'python', { reads: ['gold'], code: '' }, ['gold', 'sink'], ['sink']);
  const tasks = [gold, checks, sink, py];
  it('is data for SQL references, `input` and Python parameters', () => {
    expect(edgeKind({ from: 'silver', to: 'gold' }, tasks)).toBe('data');
    expect(edgeKind({ from: 'gold', to: 'checks' }, tasks)).toBe('data');
    expect(edgeKind({ from: 'gold', to: 'table' }, tasks)).toBe('data');
    expect(edgeKind({ from: 'gold', to: 'py' }, tasks)).toBe('data');
  });
  it('is order for `inputs`', () => {
    expect(edgeKind({ from: 'checks', to: 'table' }, tasks)).toBe('order');
    expect(edgeKind({ from: 'sink', to: 'py' }, tasks)).toBe('order');
  });
});

describe('SQL templates', () => {
  it('blanks comments and strings, keeping offsets and lines; unquotes identifiers', () => {
    const sql = "SELECT 'from x' AS a -- FROM y\nFROM \"gold\" /* join z */";
    const code = sqlCode(sql);
    expect(code.length).toBe(sql.length);
    expect(code.split('\n').length).toBe(2);
    expect(code).not.toMatch(/x|y|z/);
    expect(code).toContain(' gold ');
  });
  it('knows a placeholder query from a real one', () => {
    for (const q of ['SELECT 1 AS x', '', '  select 42 as answer;\n', "-- my query\nSELECT 'from' AS s", 'SELECT 1 -- FROM gold']) expect(isTemplateSql(q)).toBe(true);
    for (const q of ['SELECT * FROM gold', 'SELECT 1 AS x FROM range(3)', 'WITH a AS (SELECT 1) SELECT * FROM a', 'SELECT 1; SELECT 2', 'SELECT a.x FROM a JOIN b USING (id)'])
      expect(isTemplateSql(q)).toBe(false);
  });
  it('rewrites a template to read the table, keeping leading comments and the last newline', () => {
    expect(readInSql('SELECT 1 AS x', 'gold')).toBe('SELECT * FROM gold');
    expect(readInSql('-- totals\nSELECT 1 AS x\n', 'gold')).toBe('-- totals\nSELECT * FROM gold\n');
    expect(readInSql('SELECT 1 AS x', 'order')).toBe('SELECT * FROM "order"');
    expect(readInSql('SELECT * FROM silver', 'gold')).toBeNull();
  });
});

describe('sqlReferenceLine', () => {
  const sql = '-- gold counts per segment (FROM gold)\nSELECT gold.segment,\n       count(*) AS n\nFROM gold\nGROUP BY 1\n';
  it('finds the FROM line, not a comment or a column qualified by the table', () => {
    expect(sqlReferenceLine(sql, 'gold')).toEqual({ line: 4, text: 'FROM gold' });
  });
  it('finds JOINs, FROM lists and quoted or upper-case names', () => {
    expect(sqlReferenceLine('SELECT *\nFROM a\nJOIN  Gold g ON g.id = a.id', 'gold')).toEqual({ line: 3, text: 'JOIN  Gold g ON g.id = a.id' });
    expect(sqlReferenceLine('SELECT *\nFROM a,\n  "gold"\nWHERE x = 1', 'gold')).toEqual({ line: 3, text: '"gold"' });
  });
  it('falls back to any mention as a name, and is null when there is none', () => {
    expect(sqlReferenceLine('SELECT (SELECT max(v) FROM x)\n  + gold_total FROM t, LATERAL gold', 'gold')?.line).toBe(2);
    expect(sqlReferenceLine("SELECT 'gold' -- gold\n", 'gold')).toBeNull();
  });
});

/** Whether python3 compiles the code (null when there is no python3 here). */
function compiles(code: string): boolean | null {
  try {
    execFileSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "t.py", "exec")'], { input: code, stdio: ['pipe', 'ignore', 'ignore'] });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return false;
  }
}

describe('addPythonParam', () => {
  it('turns the template of a task that reads nothing into the template reading the upstream', () => {
    expect(isTemplatePython(pythonTemplate(null))).toBe(true);
    expect(addPythonParam(pythonTemplate(null), 'run', 'gold')).toBe(pythonTemplate('gold'));
  });
  it('adds the parameter before params, annotated when polars is imported as pl', () => {
    const code = 'import polars as pl\n\n\ndef run(silver: pl.LazyFrame, params: dict) -> pl.LazyFrame:\n    return silver\n';
    const out = addPythonParam(code, 'run', 'gold')!;
    expect(out).toContain('def run(silver: pl.LazyFrame, gold: pl.LazyFrame, params: dict) -> pl.LazyFrame:');
    expect(compiles(out)).not.toBe(false);
  });
  it('keeps one parameter per line in a multi-line signature', () => {
    const code = 'def run(\n    silver,\n    params,\n):\n    return silver\n';
    const out = addPythonParam(code, 'run', 'gold')!;
    expect(out).toBe('def run(\n    silver,\n    gold,\n    params,\n):\n    return silver\n');
    expect(compiles(out)).not.toBe(false);
  });
  it('appends when there is no params, also after a trailing comma, and fills an empty list', () => {
    expect(addPythonParam('def run(a):\n    return a\n', 'run', 'b')).toBe('def run(a, b):\n    return a\n');
    expect(addPythonParam('def run(\n    a,\n):\n    return a\n', 'run', 'b')).toBe('def run(\n    a,\n    b,\n):\n    return a\n');
    expect(addPythonParam('def run():\n    return 1\n', 'run', 'b')).toBe('def run(b):\n    return 1\n');
    expect(addPythonParam('def run(a, *rest, **kw):\n    pass\n', 'run', 'b')).toBe('def run(a, b, *rest, **kw):\n    pass\n');
  });
  it('finds the named function, skipping comments, strings and defaults with commas', () => {
    const code = '# def run(x)\nHELP = "def run(y)"\n\ndef helper(a, b=(1, 2)):\n    pass\n\ndef main(s, params={"a": 1, "b": 2}):\n    return s\n';
    const out = addPythonParam(code, 'main', 'gold')!;
    expect(out).toContain('def main(s, gold, params={"a": 1, "b": 2}):');
    expect(out).toContain('def helper(a, b=(1, 2)):');
    expect(compiles(out)).not.toBe(false);
  });
  it('refuses keywords, missing functions and parameters already there', () => {
    expect(addPythonParam('def run(a):\n    pass\n', 'run', 'class')).toBeNull();
    expect(addPythonParam('def other(a):\n    pass\n', 'run', 'b')).toBeNull();
    expect(addPythonParam('def run(a, params):\n    pass\n', 'run', 'a')).toBeNull();
  });
  it('locates a parameter’s line', () => {
    expect(pythonParamLine('import x\n\ndef run(\n    gold: pl.LazyFrame,\n    params,\n):\n    pass\n', 'run', 'gold')).toEqual({ line: 4, text: 'gold: pl.LazyFrame,' });
    expect(pythonParamLine('def run(a):\n    pass\n', 'run', 'b')).toBeNull();
  });
});

describe('planConnect', () => {
  const gold = task('gold', 'sql', { sql: 'SELECT * FROM silver' }, ['silver']);
  const fresh = task('sql_1', 'sql', { file: 'sql_1.sql', sql: 'SELECT 1 AS x' });
  it('offers reading in a fresh SQL task, by default', () => {
    const p = planConnect(gold, fresh)!;
    expect(p.defaultChoice).toBe('read');
    expect(p.read).toMatchObject({ ok: true, lang: 'sql', before: 'SELECT 1 AS x', after: 'SELECT * FROM gold' });
  });
  it('defaults to running after for a query of its own, saying how to read it', () => {
    const p = planConnect(fresh, gold)!;
    expect(p.defaultChoice).toBe('after');
    expect(p.read.ok).toBe(false);
    expect(!p.read.ok && p.read.why).toMatch(/FROM or JOIN/);
  });
  it('adds a parameter to a Python task: the default when it reads nothing yet', () => {
    const py = task('py', 'python', { code: pythonTemplate(null), function: 'run', reads: [] });
    expect(planConnect(gold, py)).toMatchObject({ defaultChoice: 'read', read: { ok: true, lang: 'python', after: pythonTemplate('gold') } });
    const reading = task('py', 'python', { code: pythonTemplate('silver'), function: 'run', reads: ['silver'] }, ['silver']);
    const p = planConnect(gold, reading)!;
    expect(p.defaultChoice).toBe('after');
    expect(p.read.ok && p.read.after).toContain('def run(silver: pl.LazyFrame, gold: pl.LazyFrame, params: dict)');
  });
  it('cannot read a sink or a shell task, and asks nothing of other kinds', () => {
    const sink = task('out', 'sink', { input: 'gold' }, ['gold']);
    expect(planConnect(sink, fresh)).toMatchObject({ defaultChoice: 'after', read: { ok: false } });
    expect(planConnect(gold, task('check', 'validate', { input: 'x' }))).toBeNull();
    expect(planConnect(gold, task('sh', 'shell', { command: 'true' }))).toBeNull();
  });
});

describe('dataEdgeMessage', () => {
  it('names the line of SQL that reads the table, and the file', () => {
    const report = task('report', 'sql', { file: 'report.sql', sql: '-- per segment\nSELECT segment, count(*) AS n\nFROM gold AS g\nGROUP BY 1\n' }, ['gold']);
    const m = dataEdgeMessage({ from: 'gold', to: 'report' }, 'sql', report);
    expect(m).toContain('change line 3 of report.sql');
    expect(m).toContain('3 | FROM gold AS g');
  });
  it('names the parameter’s line for Python, and the setting for `input`', () => {
    const py = task('py', 'python', { file: 'py.py', code: pythonTemplate('gold'), function: 'run' }, ['gold']);
    expect(dataEdgeMessage({ from: 'gold', to: 'py' }, 'python', py)).toContain('line 4 of py.py');
    expect(dataEdgeMessage({ from: 'gold', to: 'chk' }, 'input', undefined)).toContain('`input`');
  });
});
