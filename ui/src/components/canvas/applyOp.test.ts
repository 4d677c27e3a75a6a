import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../api/authoring';
import type { PipelineDetail } from '../../api/types';
import { applyOp, samePositions, type CanvasApi } from './applyOp';

function fakeApi(fail?: string) {
  const calls: unknown[][] = [];
  const detail = { name: 'p', tasks: [], edges: [] } as unknown as PipelineDetail;
  const answer = (name: string, ...args: unknown[]) => {
    calls.push([name, ...args]);
    return fail === name ? Promise.reject(new Error('rejected by the engine')) : Promise.resolve(detail);
  };
  const api: CanvasApi = {
    addTask: (s) => answer('addTask', s),
    removeTask: (id) => answer('removeTask', id),
    renameTask: (a, b) => answer('renameTask', a, b),
    setInputs: (t, i) => answer('setInputs', t, i),
    setSql: (t, q) => answer('setSql', t, q),
    setCode: (t, c) => answer('setCode', t, c),
  };
  return { api, calls, detail };
}

const spec: TaskSpec = { id: 'n', kind: 'shell', settings: { command: 'true' } };

describe('applyOp', () => {
  it('adds the task with its full spec and saves its position', async () => {
    const f = fakeApi();
    const res = await applyOp(f.api, { type: 'add', spec, position: { x: 5, y: 7 } }, {});
    expect(f.calls).toEqual([['addTask', spec]]);
    expect(res).toEqual({ detail: f.detail, positions: { n: { x: 5, y: 7 } }, layoutChanged: true });
  });

  it('removes, renames and sets inputs through their routes', async () => {
    const f = fakeApi();
    const pos = { n: { x: 1, y: 1 }, m: { x: 2, y: 2 } };
    expect((await applyOp(f.api, { type: 'remove', spec, position: pos.n }, pos)).positions).toEqual({ m: { x: 2, y: 2 } });
    expect((await applyOp(f.api, { type: 'rename', from: 'm', to: 'k' }, pos)).positions).toEqual({ n: { x: 1, y: 1 }, k: { x: 2, y: 2 } });
    const inputs = await applyOp(f.api, { type: 'inputs', task: 'n', before: [], after: ['m'] }, pos);
    expect(inputs.layoutChanged).toBe(false);
    expect(f.calls).toEqual([['removeTask', 'n'], ['renameTask', 'm', 'k'], ['setInputs', 'n', ['m']]]);
  });

  it('moves without calling the API', async () => {
    const f = fakeApi();
    const res = await applyOp(f.api, { type: 'move', before: { n: { x: 1, y: 1 } }, after: { n: { x: 9, y: 1 } } }, { n: { x: 1, y: 1 } });
    expect(f.calls).toEqual([]);
    expect(res).toEqual({ detail: null, positions: { n: { x: 9, y: 1 } }, layoutChanged: true });
  });

  it('passes the engine error on', async () => {
    const f = fakeApi('setInputs');
    await expect(applyOp(f.api, { type: 'inputs', task: 'a', before: [], after: ['b'] }, {})).rejects.toThrow('rejected by the engine');
  });
});

describe('samePositions', () => {
  it('compares by value', () => {
    expect(samePositions({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 2 } })).toBe(true);
    expect(samePositions({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 3 } })).toBe(false);
    expect(samePositions({ a: { x: 1, y: 2 } }, { b: { x: 1, y: 2 } })).toBe(false);
    expect(samePositions({}, { b: { x: 1, y: 2 } })).toBe(false);
  });

  it('writes a rewritten query or code through the SQL and code routes, positions untouched', async () => {
    const f = fakeApi();
    const pos = { a: { x: 1, y: 2 } };
    const sql = await applyOp(f.api, { type: 'text', task: 'a', lang: 'sql', before: 'SELECT 1 AS x', after: 'SELECT * FROM g', what: 'read g in a' }, pos);
    await applyOp(f.api, { type: 'text', task: 'b', lang: 'python', before: 'x', after: 'y', what: 'read g in b' }, pos);
    expect(f.calls).toEqual([
      ['setSql', 'a', 'SELECT * FROM g'],
      ['setCode', 'b', 'y'],
    ]);
    expect(sql.layoutChanged).toBe(false);
  });
});
