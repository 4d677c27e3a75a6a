import { describe, expect, it } from 'vitest';
import type { TaskHistory, TaskHistoryEntry } from '../../api/taskDetails';
import type { PipelineDetail, TaskDef } from '../../api/types';
import { durationSeries, historyItem, lastFailure, schemaRows, settingsEntries, sparkline, valueText, withChangedFlags, changedFlags } from './format';

const entry = (run_id: number, status: TaskHistoryEntry['status'], extra: Partial<TaskHistoryEntry> = {}): TaskHistoryEntry => ({
  run_id,
  status,
  attempts: 1,
  started_at_ms: 1000 * run_id,
  ended_at_ms: 1000 * run_id + 250,
  rows: 10,
  error: null,
  trigger: 'api',
  ...extra,
});

const def = (over: Partial<TaskDef> = {}): TaskDef => ({
  id: 't',
  kind: 'sql',
  description: null,
  upstream: ['a'],
  materialize: 'table',
  settings: { kind: 'sql', file: 't.sql', sql: 'SELECT 1', engine: null, runs_on: 'duckdb', route: null, auto: false },
  ...over,
});

describe('sparkline', () => {
  it('scales from 0 at the bottom to the largest value at the top, left to right', () => {
    const s = sparkline([50, 100, 0], 104, 24, 2);
    expect(s.max).toBe(100);
    expect(s.points.map((p) => [p.x, p.y])).toEqual([
      [2, 12],
      [52, 2],
      [102, 22],
    ]);
    expect(s.segments).toEqual(['2,12 52,2 102,22']);
  });
  it('breaks the line at unknown values and puts a single value in the middle', () => {
    const s = sparkline([10, null, 20, 30], 100, 20, 0);
    expect(s.segments.length).toBe(2);
    expect(s.points.map((p) => p.i)).toEqual([0, 2, 3]);
    const one = sparkline([5], 100, 20, 2);
    expect(one.points[0]).toMatchObject({ x: 50, y: 2 });
  });
  it('lays all-zero durations on the bottom line', () => {
    const s = sparkline([0, 0], 100, 20, 2);
    expect(s.points.map((p) => p.y)).toEqual([18, 18]);
    expect(sparkline([], 100, 20).segments).toEqual([]);
  });
});

describe('history', () => {
  it('formats rows, duration and attempts; only runs of the task itself have a log', () => {
    const it1 = historyItem(entry(3, 'success', { rows: 23528, attempts: 2, started_at_ms: 0, ended_at_ms: 1234 }));
    expect(it1).toMatchObject({ rowsText: '23,528 rows', durationText: '1.2 s', attemptsText: '2 attempts', hasLog: true, statusLabel: 'success' });
    expect(historyItem(entry(4, 'success', { rows: 1 })).rowsText).toBe('1 row');
    const up = historyItem(entry(5, 'upstream_failed', { attempts: 0, rows: null, started_at_ms: null }));
    expect(up).toMatchObject({ statusLabel: 'upstream failed', rowsText: '', durationText: '', hasLog: false });
    const cached = historyItem(entry(6, 'cached', { attempts: 0, started_at_ms: null }));
    expect(cached.hasLog).toBe(false);
    expect(cached.durationMs).toBeNull();
  });
  it('gives the durations oldest first, skipping runs the task did not run in', () => {
    const h: TaskHistory = {
      runs: [entry(4, 'cached', { attempts: 0 }), entry(3, 'success'), entry(2, 'upstream_failed', { attempts: 0 }), entry(1, 'failed', { ended_at_ms: 1100 })],
      last_success_run: 4,
      changed_since_success: false,
    };
    expect(durationSeries(h)).toEqual([
      { runId: 1, status: 'failed', ms: 100 },
      { runId: 3, status: 'success', ms: 250 },
    ]);
    expect(lastFailure(h)?.run_id).toBe(1);
    expect(lastFailure({ ...h, runs: [entry(2, 'upstream_failed', { error: 'an upstream task failed' })] })).toBeNull();
  });
});

describe('settings', () => {
  it('reads the spec as written, nested tables key by key, SQL text and ids left out', () => {
    const t = def({
      kind: 'source',
      spec: { id: 't', kind: 'source', format: 'ndjson', path: '{{ dir }}/*.json', flatten: true, path_column: { name: 'date', type: 'date' }, columns: ['a', 'b'] },
      settings: { kind: 'source', format: 'ndjson', delimiter: 44 },
    });
    expect(settingsEntries(t)).toEqual([
      ['format', 'ndjson'],
      ['path', '{{ dir }}/*.json'],
      ['flatten', 'true'],
      ['path_column.name', 'date'],
      ['path_column.type', 'date'],
      ['columns', 'a, b'],
      ['materialize', 'table'],
    ]);
  });
  it("falls back to the resolved settings without empty defaults, with a SQL task's engine", () => {
    expect(settingsEntries(def())).toEqual([
      ['file', 't.sql'],
      ['engine', 'duckdb'],
      ['materialize', 'table'],
    ]);
  });
  it('writes lists of tables and empty lists readably', () => {
    expect(valueText([{ column: 'id', unique: true }])).toBe('{ column = id, unique = true }');
    expect(valueText([])).toBe('(none)');
    expect(valueText(null)).toBe('—');
    expect(valueText(5432)).toBe('5432');
  });
});

describe('schema rows', () => {
  const contract = { columns: [{ name: 'id', dtype: 'i64', not_null: true, unique: true }], strict: false };
  it("takes the last output's columns with the contract's marks once the task ran", () => {
    const r = schemaRows(def({ schema: contract }), [{ name: 'id', type: 'i64' }, { name: 'x', type: 'str' }], true);
    expect(r.source).toBe('output');
    expect(r.rows).toEqual([
      { name: 'id', type: 'i64', notNull: true, unique: true },
      { name: 'x', type: 'str', notNull: false, unique: false },
    ]);
  });
  it('shows the declared contract before any run, and nothing when neither is known', () => {
    expect(schemaRows(def({ schema: contract }), [{ name: 'id', type: 'i64' }], false).source).toBe('contract');
    expect(schemaRows(def(), null, false)).toEqual({ source: null, rows: [] });
  });
});

describe('changed flags', () => {
  const p = (flags: (boolean | null | undefined)[]): PipelineDetail =>
    ({ name: 'p', tasks: flags.map((f, i) => def({ id: `t${i}`, changed_since_success: f })), edges: [], params: {} }) as unknown as PipelineDetail;
  it('keeps the same object when no flag differs', () => {
    const d = p([true, false]);
    expect(withChangedFlags(d, { t0: true, t1: false })).toBe(d);
    expect(withChangedFlags(d, {})).toBe(d);
  });
  it('updates only the flags that differ', () => {
    const d = p([true, false]);
    const n = withChangedFlags(d, changedFlags(p([false, false])));
    expect(n).not.toBe(d);
    expect(n.tasks.map((t) => t.changed_since_success)).toEqual([false, false]);
    expect(n.tasks[1]).toBe(d.tasks[1]);
  });
});
