import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './client';
import {
  connectionBody,
  connectionNameProblem,
  deleteConnection,
  initialForm,
  isReference,
  listConnections,
  putConnection,
  secretState,
  settingText,
  testConnection,
  type Connection,
  type ConnectionTypeInfo,
  type ConnectionsAnswer,
} from './connections';

function fakeClient(answers: Record<string, { status: number; body?: unknown }>) {
  const calls: { url: string; method: string; body: string | null; headers: Record<string, string> }[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ url, method, body: (init?.body as string) ?? null, headers: (init?.headers as Record<string, string>) ?? {} });
    const a = answers[`${method} ${new URL(url).pathname}`] ?? { status: 404, body: { code: 'not_found', message: 'no' } };
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
  };
  return { client: new ApiClient('http://r:1', 't', fetchFn), calls };
}

const S3: ConnectionTypeInfo = {
  type: 's3',
  settings: [
    { key: 'endpoint', kind: 'text', secret: false },
    { key: 'bucket', kind: 'text', secret: false },
    { key: 'region', kind: 'text', secret: false },
    { key: 'path_style', kind: 'bool', secret: false },
    { key: 'access_key_id', kind: 'text', secret: true },
    { key: 'secret_access_key', kind: 'text', secret: true },
    { key: 'session_token', kind: 'text', secret: true },
  ],
};

const LAKE: Connection = {
  name: 'lake',
  type: 's3',
  settings: [
    { key: 'endpoint', value: 'http://127.0.0.1:59003', reference: null, secret: false, resolved: true },
    { key: 'bucket', value: 'polder', reference: null, secret: false, resolved: true },
    { key: 'region', value: null, reference: '${env:REGION}', secret: false, resolved: true },
    { key: 'path_style', value: 'true', reference: null, secret: false, resolved: true },
    { key: 'access_key_id', value: null, reference: '${env:KEY_ID}', secret: true, resolved: true },
    { key: 'secret_access_key', value: null, reference: '${secret:lake-secret_access_key}', secret: true, resolved: true },
    { key: 'session_token', value: null, reference: '${secret:gone}', secret: true, resolved: false },
  ],
  problem: null,
};

const LISTED: ConnectionsAnswer = { file: 'connections.toml', error: null, connections: [LAKE], secrets: ['lake-secret_access_key'], types: [S3] };

describe('connections client', () => {
  it('lists, saves, tests and deletes through the runner, with the token', async () => {
    const { client, calls } = fakeClient({
      'GET /api/connections': { status: 200, body: LISTED },
      'PUT /api/connections/lake': { status: 204 },
      'POST /api/connections/lake/test': { status: 200, body: { ok: true, message: "ok: lake at http://127.0.0.1:59003 answers, accepts the credentials and has bucket 'polder'" } },
      'DELETE /api/connections/lake': { status: 204 },
    });
    expect(await listConnections(client)).toEqual(LISTED);
    await putConnection(client, 'lake', { type: 's3', settings: { endpoint: 'http://e' }, secrets: { secret_access_key: 'v' } });
    const t = await testConnection(client, 'lake', 'polder');
    expect(t.ok).toBe(true);
    await testConnection(client, 'lake');
    await deleteConnection(client, 'lake');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET http://r:1/api/connections',
      'PUT http://r:1/api/connections/lake',
      'POST http://r:1/api/connections/lake/test',
      'POST http://r:1/api/connections/lake/test',
      'DELETE http://r:1/api/connections/lake',
    ]);
    expect(JSON.parse(calls[1]!.body!)).toEqual({ type: 's3', settings: { endpoint: 'http://e' }, secrets: { secret_access_key: 'v' } });
    expect(calls[1]!.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(calls[2]!.body!)).toEqual({ bucket: 'polder' });
    expect(JSON.parse(calls[3]!.body!)).toEqual({ bucket: null });
    for (const c of calls) expect(c.headers.Authorization).toBe('Bearer t');
  });

  it('escapes the name in the path', async () => {
    const { client, calls } = fakeClient({});
    await deleteConnection(client, 'a b').catch(() => null);
    expect(calls[0]!.url).toBe('http://r:1/api/connections/a%20b');
  });

  it('reports a refused save with the runner message, in either error shape', async () => {
    const { client } = fakeClient({
      'PUT /api/connections/lake': { status: 400, body: { code: 'bad_request', message: 'connections.toml:3:12: `endpoint` must be a URL' } },
      'PUT /api/connections/bad': { status: 400, body: { error: 'a s3 connection has no setting `x`' } },
    });
    const e = await putConnection(client, 'lake', { type: 's3', settings: {}, secrets: {} }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(400);
    expect((e as ApiError).message).toBe('connections.toml:3:12: `endpoint` must be a URL');
    await expect(putConnection(client, 'bad', { type: 's3', settings: {}, secrets: {} })).rejects.toThrow('a s3 connection has no setting `x`');
  });

  it('passes a failed test through as an answer, not an error', async () => {
    const message = "failed: connection 'lake': http://e refused the credentials for bucket 'polder' (SignatureDoesNotMatch)";
    const { client } = fakeClient({ 'POST /api/connections/lake/test': { status: 200, body: { ok: false, message } } });
    expect(await testConnection(client, 'lake', 'polder')).toEqual({ ok: false, message });
  });

  it('checks names and references', () => {
    expect(connectionNameProblem('lake_2-b')).toBeNull();
    expect(connectionNameProblem('')).toMatch(/name/);
    expect(connectionNameProblem('my lake')).toMatch(/letters, digits, _ and -/);
    expect(connectionNameProblem('lake.x')).not.toBeNull();
    expect(isReference('${env:POLDER_TEST_S3_KEY_ID}')).toBe(true);
    expect(isReference(' ${secret:lake-secret_access_key} ')).toBe(true);
    expect(isReference('${vault:x}')).toBe(false);
    expect(isReference('AKIA${env:X}')).toBe(false);
  });

  it('shows values or references, and secrets only as set / not set', () => {
    expect(settingText(LAKE, 'endpoint')).toBe('http://127.0.0.1:59003');
    expect(settingText(LAKE, 'region')).toBe('${env:REGION}');
    expect(settingText(LAKE, 'nope')).toBeNull();
    const s = (k: string) => LAKE.settings.find((x) => x.key === k);
    expect(secretState(s('secret_access_key'))).toBe('set');
    expect(secretState(s('access_key_id'))).toBe('set');
    expect(secretState(s('session_token'))).toBe('not set');
    expect(secretState(undefined)).toBe('not set');
  });
});

describe('connection form', () => {
  it('a new connection sends values, a checked bool, a reference and a typed secret', () => {
    const f = initialForm(S3);
    expect(f.text).toEqual({ endpoint: '', bucket: '', region: '' });
    expect(f.bool).toEqual({ path_style: false });
    f.text.endpoint = ' http://127.0.0.1:59003 ';
    f.text.bucket = 'polder';
    f.bool.path_style = true;
    f.secret.access_key_id = { mode: 'reference', text: '${env:KEY_ID}' };
    f.secret.secret_access_key = { mode: 'value', text: 'sekrit' };
    expect(connectionBody(S3, f)).toEqual({
      type: 's3',
      settings: { endpoint: 'http://127.0.0.1:59003', bucket: 'polder', path_style: 'true', access_key_id: '${env:KEY_ID}' },
      secrets: { secret_access_key: 'sekrit' },
    });
  });

  it('editing keeps untouched secrets (left out of both maps) and unchanged references', () => {
    const f = initialForm(S3, LAKE);
    expect(f.text).toEqual({ endpoint: 'http://127.0.0.1:59003', bucket: 'polder', region: '${env:REGION}' });
    expect(f.bool.path_style).toBe(true);
    f.text.endpoint = 'http://other:9000';
    f.secret.access_key_id = { mode: 'reference', text: '${env:KEY_ID}' };
    expect(connectionBody(S3, f, LAKE)).toEqual({
      type: 's3',
      settings: { endpoint: 'http://other:9000', bucket: 'polder', region: '${env:REGION}', path_style: 'true' },
      secrets: {},
    });
  });

  it('an unchecked bool is sent as false only when it was set; emptied text is left out', () => {
    const f = initialForm(S3, LAKE);
    f.bool.path_style = false;
    f.text.region = '';
    const body = connectionBody(S3, f, LAKE);
    expect(body.settings.path_style).toBe('false');
    expect('region' in body.settings).toBe(false);
    expect('path_style' in connectionBody(S3, initialForm(S3)).settings).toBe(false);
  });
});
