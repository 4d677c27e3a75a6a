import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, buildUrl } from './client';

type Call = { url: string; init: RequestInit | undefined };

function stub(response: () => Response) {
  const calls: Call[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    return response();
  };
  return { calls, fetchFn };
}

const json = (v: unknown, status = 200) =>
  new Response(JSON.stringify(v), { status, headers: { 'Content-Type': 'application/json' } });

describe('buildUrl', () => {
  it('joins base, path and query; drops empty values; trims slashes', () => {
    expect(buildUrl('http://h:1/', '/api/runs', { pipeline: 'a b', limit: 50, x: undefined, y: null })).toBe(
      'http://h:1/api/runs?pipeline=a+b&limit=50',
    );
    expect(buildUrl('http://h', 'api/x')).toBe('http://h/api/x');
  });
});

describe('ApiClient', () => {
  it('sends the bearer token and builds the routes', async () => {
    const s = stub(() => json([]));
    const c = new ApiClient('http://runner:7878//', 'tok', s.fetchFn);
    await c.listPipelines();
    await c.getPipeline('my pipe');
    await c.listRuns('medallion', 50);
    await c.getRun(3);
    await c.getOutput({ pipeline: 'p', task: 'gold', runId: 3 }, 200, 100);
    await c.getOutput({ pipeline: 'p', task: 'gold', runId: null }, 0, 100);
    expect(s.calls.map((x) => x.url)).toEqual([
      'http://runner:7878/api/pipelines',
      'http://runner:7878/api/pipelines/my%20pipe',
      'http://runner:7878/api/runs?pipeline=medallion&limit=50',
      'http://runner:7878/api/runs/3',
      'http://runner:7878/api/runs/3/tasks/gold/output?offset=200&limit=100',
      'http://runner:7878/api/pipelines/p/tasks/gold/output?offset=0&limit=100',
    ]);
    for (const call of s.calls) {
      expect((call.init?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    }
  });

  it('POSTs a trigger with params and force', async () => {
    const s = stub(() => json({ run_id: 9 }, 202));
    const c = new ApiClient('http://r', 't', s.fetchFn);
    expect(await c.triggerRun('medallion', { force: true })).toEqual({ run_id: 9 });
    const call = s.calls[0]!;
    expect(call.url).toBe('http://r/api/pipelines/medallion/runs');
    expect(call.init?.method).toBe('POST');
    expect(JSON.parse(call.init?.body as string)).toEqual({ params: {}, force: true });
    const h = call.init?.headers as Record<string, string>;
    expect(h['Content-Type']).toBe('application/json');
    expect(h.Authorization).toBe('Bearer t');
  });

  it('reads logs as text', async () => {
    const s = stub(() => new Response('line 1\nline 2\n', { status: 200 }));
    const c = new ApiClient('http://r', 't', s.fetchFn);
    expect(await c.getTaskLog(4, 'gold')).toBe('line 1\nline 2\n');
    expect(s.calls[0]!.url).toBe('http://r/api/runs/4/tasks/gold/log');
  });

  it('turns {code, message} errors into ApiError with the message', async () => {
    const s = stub(() => json({ code: 'not_found', message: "run 1 has no task 'nope'" }, 404));
    const c = new ApiClient('http://r', 't', s.fetchFn);
    const err = await c.getRun(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe("run 1 has no task 'nope'");
    expect((err as ApiError).code).toBe('not_found');
    expect((err as ApiError).status).toBe(404);
  });

  it('falls back to the body text or status for non-JSON errors', async () => {
    const c1 = new ApiClient('http://r', 't', stub(() => new Response('boom', { status: 500 })).fetchFn);
    await expect(c1.listPipelines()).rejects.toThrow('boom');
    const c2 = new ApiClient('http://r', 't', stub(() => new Response('', { status: 502, statusText: 'Bad Gateway' })).fetchFn);
    await expect(c2.listPipelines()).rejects.toThrow('502 Bad Gateway');
  });

  it('reports network failures as ApiError', async () => {
    const c = new ApiClient('http://r', 't', async () => {
      throw new TypeError('fetch failed');
    });
    const err = await c.listPipelines().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('network');
    expect((err as ApiError).message).toContain('http://r');
  });
});
