import { describe, expect, it } from 'vitest';
import { ApiClient } from './client';
import { deployTo, describeDeploy, listRemotes, putRemote, remoteBase, suggestRemoteName } from './remotes';

function fakeClient(answers: Record<string, { status: number; body?: unknown }>) {
  const calls: { url: string; method: string; body: string | null }[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ url, method, body: (init?.body as string) ?? null });
    const a = answers[`${method} ${new URL(url).pathname}`] ?? { status: 404, body: { code: 'not_found', message: 'no' } };
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
  };
  return { client: new ApiClient('http://r:1', 't', fetchFn), calls };
}

describe('remotes', () => {
  it('lists, saves and deploys through the runner', async () => {
    const { client, calls } = fakeClient({
      'GET /api/remotes': { status: 200, body: [{ name: 'prod', url: 'http://p:7878' }] },
      'PUT /api/remotes/prod': { status: 204 },
      'POST /api/pipelines/shop/deploy': {
        status: 201,
        body: { remote: 'prod', url: 'http://p:7878', pipeline: 'shop', version: 3, schedule: '0 2 * * *', next_run: '2026-11-24T02:00:00+00:00', bundle_bytes: 10 },
      },
    });
    expect(await listRemotes(client)).toEqual([{ name: 'prod', url: 'http://p:7878' }]);
    await putRemote(client, 'prod', 'http://p:7878', 'secret');
    expect(JSON.parse(calls[1]!.body!)).toEqual({ url: 'http://p:7878', token: 'secret' });
    const a = await deployTo(client, 'shop', 'prod');
    expect(describeDeploy(a)).toBe('shop v3 on prod · schedule 0 2 * * * · next run 2026-11-24 02:00:00+00:00');
    expect(describeDeploy({ ...a, schedule: null, next_run: null })).toBe('shop v3 on prod · no schedule: trigger it there');
  });

  it('reports a refused deploy with the runner message', async () => {
    const { client } = fakeClient({
      'POST /api/pipelines/shop/deploy': { status: 502, body: { code: 'bad_gateway', message: "runner 'prod' refused the token; update it in Settings" } },
    });
    await expect(deployTo(client, 'shop', 'prod')).rejects.toThrow("runner 'prod' refused the token");
  });

  it('suggests a free name from the URL', () => {
    expect(suggestRemoteName('http://prod-1.example.com:7878', [])).toBe('prod-1');
    expect(suggestRemoteName('http://127.0.0.1:9000', ['runner'])).toBe('runner-2');
    expect(suggestRemoteName('http://staging:7878/', ['staging'])).toBe('staging-2');
  });

  it('reaches a remote through the local runner, name escaped', async () => {
    expect(remoteBase('http://127.0.0.1:5000/', 'prod')).toBe('http://127.0.0.1:5000/api/remotes/prod');
    expect(remoteBase('http://127.0.0.1:5000', 'a b')).toBe('http://127.0.0.1:5000/api/remotes/a%20b');
    const seen: string[] = [];
    const client = new ApiClient(remoteBase('http://127.0.0.1:5000', 'prod'), 'local', async (url: string) => {
      seen.push(url);
      return new Response('[]', { status: 200 });
    });
    await client.json('/api/pipelines');
    expect(seen).toEqual(['http://127.0.0.1:5000/api/remotes/prod/api/pipelines']);
  });
});
