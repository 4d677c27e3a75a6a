import { describe, expect, it } from 'vitest';
import { addTask, getLayout, putLayout, removeTask, renameTask, roundPositions, sanitizePositions, setInputs } from './authoring';
import { ApiClient } from './client';

function stub(respond: (url: string) => Response) {
  const calls: { url: string; method: string; body: unknown }[] = [];
  const client = new ApiClient('http://r', 'tok', async (url, init) => {
    calls.push({ url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined });
    return respond(url);
  });
  return { client, calls };
}
const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status });

describe('authoring routes', () => {
  it('sends each edit to its route with its body', async () => {
    const s = stub(() => json({ name: 'p', tasks: [], edges: [] }));
    await addTask(s.client, 'my p', { id: 'sql_1', kind: 'sql', settings: { sql: 'SELECT 1' } });
    await removeTask(s.client, 'p', 'sql_1');
    await renameTask(s.client, 'p', 'a', 'b');
    await setInputs(s.client, 'p', 'a', ['gold']);
    expect(s.calls).toEqual([
      { url: 'http://r/api/pipelines/my%20p/tasks', method: 'POST', body: { id: 'sql_1', kind: 'sql', settings: { sql: 'SELECT 1' } } },
      { url: 'http://r/api/pipelines/p/tasks/sql_1', method: 'DELETE', body: undefined },
      { url: 'http://r/api/pipelines/p/tasks/a/rename', method: 'POST', body: { to: 'b' } },
      { url: 'http://r/api/pipelines/p/tasks/a/inputs', method: 'PUT', body: { inputs: ['gold'] } },
    ]);
  });

  it('throws the engine message of a rejected edit', async () => {
    const s = stub(() => json({ code: 'bad_request', message: 'dependency cycle: a → b → a' }, 400));
    await expect(setInputs(s.client, 'p', 'a', ['b'])).rejects.toMatchObject({ status: 400, message: 'dependency cycle: a → b → a' });
  });
});

describe('layout', () => {
  it('reads saved positions, dropping malformed entries', async () => {
    const s = stub(() => json({ positions: { a: { x: 1, y: 2 }, b: { x: 'no' }, c: null } }));
    expect(await getLayout(s.client, 'p')).toEqual({ a: { x: 1, y: 2 } });
    expect(s.calls[0]!.url).toBe('http://r/api/pipelines/p/layout');
  });
  it('treats a runner without the route (404) as no saved layout, and passes other errors on', async () => {
    expect(await getLayout(stub(() => json({ code: 'not_found', message: 'no route' }, 404)).client, 'p')).toEqual({});
    await expect(getLayout(stub(() => json({ code: 'internal', message: 'boom' }, 500)).client, 'p')).rejects.toThrow('boom');
  });
  it('writes whole-pixel positions sorted by task', async () => {
    const s = stub(() => new Response(null, { status: 204 }));
    await putLayout(s.client, 'p', { b: { x: 1.6, y: -1.6 }, a: { x: 0, y: 10.5 } });
    expect(s.calls[0]).toEqual({ url: 'http://r/api/pipelines/p/layout', method: 'PUT', body: { positions: { a: { x: 0, y: 11 }, b: { x: 2, y: -2 } } } });
    expect(Object.keys(roundPositions({ z: { x: 0, y: 0 }, a: { x: 0, y: 0 } }))).toEqual(['a', 'z']);
    expect(sanitizePositions('junk')).toEqual({});
  });
});
