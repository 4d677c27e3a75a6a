import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './client';
import {
  createToken,
  curlExample,
  datasetOutputPath,
  flushDataset,
  formatBytes,
  formatSeconds,
  getDataset,
  listDatasets,
  listTokens,
  mergeDataset,
  revokeToken,
  shellQuote,
  timeAgo,
} from './datasets';

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

describe('datasets client', () => {
  it('reaches every dataset and token route with the right method', async () => {
    const { client, calls } = fakeClient({
      'GET /api/datasets': { status: 200, body: { datasets: [], problems: [] } },
      'GET /api/datasets/a b': { status: 200, body: { name: 'a b' } },
      'GET /api/datasets/a%20b': { status: 200, body: { name: 'a b' } },
      'POST /api/datasets/events/flush': { status: 200, body: { rows: 0, files: [] } },
      'POST /api/datasets/events/merge': { status: 200, body: { days: [], files_in: 0, removed: 0 } },
      'GET /api/ingest-tokens': { status: 200, body: [] },
      'POST /api/ingest-tokens': { status: 201, body: { id: 'i', name: 'n', datasets: ['events'], created_at: 'c', token: 'pit_x' } },
      'DELETE /api/ingest-tokens/i': { status: 204 },
    });
    expect(await listDatasets(client)).toEqual({ datasets: [], problems: [] });
    await getDataset(client, 'a b');
    expect(await flushDataset(client, 'events')).toEqual({ rows: 0, files: [] });
    await mergeDataset(client, 'events');
    await listTokens(client);
    expect((await createToken(client, { name: 'n', datasets: ['events'] })).token).toBe('pit_x');
    await revokeToken(client, 'i');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET http://r:1/api/datasets',
      'GET http://r:1/api/datasets/a%20b',
      'POST http://r:1/api/datasets/events/flush',
      'POST http://r:1/api/datasets/events/merge?all=true',
      'GET http://r:1/api/ingest-tokens',
      'POST http://r:1/api/ingest-tokens',
      'DELETE http://r:1/api/ingest-tokens/i',
    ]);
    expect(JSON.parse(calls[5]!.body!)).toEqual({ name: 'n', datasets: ['events'] });
    expect(datasetOutputPath('events')).toBe('/api/datasets/events/output');
  });

  it('turns a refusal into an ApiError with the runner message', async () => {
    const { client } = fakeClient({ 'POST /api/datasets/events/flush': { status: 502, body: { code: 'bad_gateway', message: 'disk full' } } });
    const err = await flushDataset(client, 'events').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, code: 'bad_gateway', message: 'disk full' });
  });
});

describe('dataset display helpers', () => {
  it('says how long ago, in words', () => {
    const now = 1_000_000_000;
    expect(timeAgo(null, now)).toBe('never');
    expect(timeAgo(now - 1000, now)).toBe('just now');
    expect(timeAgo(now - 42_000, now)).toBe('42 s ago');
    expect(timeAgo(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(timeAgo(now - 3 * 3600_000, now)).toBe('3 h ago');
    expect(timeAgo(now - 3 * 86400_000, now)).toBe('3 days ago');
    expect(timeAgo(now + 5000, now)).toBe('just now'); // a runner clock slightly ahead
  });

  it('formats bytes and seconds', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(64 << 20)).toBe('64 MB');
    expect(formatSeconds(45)).toBe('45 s');
    expect(formatSeconds(90)).toBe('1 min 30 s');
    expect(formatSeconds(3600)).toBe('1 h');
    expect(formatSeconds(5400)).toBe('1 h 30 min');
  });

  it('writes a curl example that a shell reads back as sent', () => {
    const cmd = curlExample('http://h:7878/', { name: 'events', columns: [{ name: "it's", type: 'bool', nullable: true }] }, 'pit_1');
    expect(cmd).toBe(
      `curl -X POST -H 'Authorization: Bearer pit_1' -H 'Content-Type: application/json' --data '{"it'\\''s":true}' http://h:7878/api/ingest/events`,
    );
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
