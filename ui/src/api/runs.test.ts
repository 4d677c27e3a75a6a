import { describe, expect, it } from 'vitest';
import { ApiClient } from './client';
import {
  buildTriggerRequest,
  fetchRuns,
  triggerQuery,
  TRIGGER_KINDS,
  followTaskLog,
  mergeRuns,
  paramDefaults,
  paramsSummary,
  parseRunParams,
  triggerKind,
  triggerRun,
} from './runs';
import { streamOf } from './testStreams';
import type { Run } from './types';

const run = (id: number, trigger: string, status: Run['status'] = 'success'): Run => ({
  id,
  pipeline: 'p',
  status,
  params: '{}',
  trigger,
  started_at_ms: 1000 * id,
  ended_at_ms: 1000 * id + 500,
  error: null,
});

/** A client whose fetch records requests and answers from `answer`. */
function fakeClient(answer: (url: string, init?: RequestInit) => Response) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const client = new ApiClient('http://r', 't', async (url, init) => {
    calls.push({ url, init });
    return answer(url, init);
  });
  return { client, calls };
}

describe('triggerKind', () => {
  it('groups the runner trigger names the way the history filter offers them', () => {
    expect(triggerKind('api')).toBe('manual');
    expect(triggerKind('cli')).toBe('manual');
    expect(triggerKind('schedule')).toBe('schedule');
    expect(triggerKind('retry')).toBe('retry');
    expect(triggerKind('backfill')).toBe('backfill');
    expect(triggerKind('resume:12')).toBe('resume');
    expect(triggerKind('webhook')).toBe('other');
    expect(triggerKind(null)).toBe('other');
  });
});

describe('parseRunParams / paramsSummary', () => {
  it('reads the JSON text and prints it sorted by name', () => {
    const p = parseRunParams('{"run_date":"2026-11-23","min_amount":"5","n":3}');
    expect(p).toEqual({ run_date: '2026-11-23', min_amount: '5', n: '3' });
    expect(paramsSummary(p)).toBe('min_amount=5 · n=3 · run_date=2026-11-23');
  });
  it('yields {} for missing or malformed text', () => {
    expect(parseRunParams(null)).toEqual({});
    expect(parseRunParams('[1,2]')).toEqual({});
    expect(parseRunParams('{oops')).toEqual({});
    expect(paramsSummary({})).toBe('');
  });
});

describe('mergeRuns / triggerQuery', () => {
  it('appends an older page, replaces refreshed rows and keeps newest first', () => {
    const first = [run(5, 'api', 'running'), run(4, 'retry'), run(3, 'schedule')];
    const older = [run(2, 'api'), run(1, 'backfill')];
    const merged = mergeRuns(first, older);
    expect(merged.map((r) => r.id)).toEqual([5, 4, 3, 2, 1]);
    const refreshed = mergeRuns(merged, [run(6, 'api'), run(5, 'api', 'failed')]);
    expect(refreshed.map((r) => r.id)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(refreshed.find((r) => r.id === 5)?.status).toBe('failed');
  });
  it('asks the runner for the triggers of a kind', () => {
    expect(triggerQuery('manual')).toBe('api,cli');
    expect(triggerQuery('resume')).toBe('resume');
    expect(triggerQuery('all')).toBeNull();
    // Every kind the filter offers maps back to itself through the recorded trigger values.
    for (const k of TRIGGER_KINDS) for (const t of triggerQuery(k)!.split(',')) expect(triggerKind(t)).toBe(k);
  });
});

describe('paramDefaults / buildTriggerRequest', () => {
  it('adds run_date and sends only the changed values, tasks in pipeline order', () => {
    const defaults = paramDefaults({ min_amount: '0', region: 'north' });
    expect(defaults).toEqual({ min_amount: '0', region: 'north', run_date: '' });
    const req = buildTriggerRequest(
      { min_amount: ' 5 ', region: 'north', run_date: '' },
      defaults,
      true,
      new Set(['top', 'sales']),
      ['sales', 'by_region', 'top'],
    );
    expect(req).toEqual({ params: { min_amount: '5' }, force: true, only: ['sales', 'top'] });
  });
  it('keeps a run_date the spec already declares', () => {
    expect(paramDefaults({ run_date: '2023-05-01' })).toEqual({ run_date: '2023-05-01' });
    expect(buildTriggerRequest({ run_date: '2023-05-02' }, { run_date: '2023-05-01' }, false, [], [])).toEqual({
      params: { run_date: '2023-05-02' },
      force: false,
      only: [],
    });
  });
});

describe('API calls', () => {
  it('pages the history with status and before, leaving unset filters out', async () => {
    const { client, calls } = fakeClient(() => new Response('[]'));
    await fetchRuns(client, { pipeline: 'p 1', status: 'failed', before: 40, limit: 20 });
    await fetchRuns(client, { pipeline: 'p', status: null });
    expect(calls[0]!.url).toBe('http://r/api/runs?pipeline=p+1&status=failed&before=40&limit=20');
    expect(calls[1]!.url).toBe('http://r/api/runs?pipeline=p');
  });
  it('posts the trigger body as JSON', async () => {
    const { client, calls } = fakeClient(() => new Response('{"run_id":7}', { status: 202 }));
    const ans = await triggerRun(client, 'p', { params: { a: '1' }, force: false, only: ['t'] });
    expect(ans.run_id).toBe(7);
    expect(calls[0]!.init?.method).toBe('POST');
    expect(JSON.parse(String(calls[0]!.init?.body))).toEqual({ params: { a: '1' }, force: false, only: ['t'] });
  });
});

describe('followTaskLog', () => {
  it('hands over lines as they arrive and resolves with the end status', async () => {
    const { client, calls } = fakeClient(
      () => new Response(streamOf(['data: reading sales\n\ndata: 3 ro', 'ws\n\n: keep-alive\n\n', 'event: end\ndata: success\n\n'])),
    );
    const got: string[][] = [];
    const status = await followTaskLog(client, 3, 'by region', (ls) => got.push(ls));
    expect(calls[0]!.url).toBe('http://r/api/runs/3/tasks/by%20region/log/stream');
    expect(got).toEqual([['reading sales'], ['3 rows']]);
    expect(status).toBe('success');
  });
  it('resolves null when the stream closes without an end event', async () => {
    const { client } = fakeClient(() => new Response(streamOf(['data: a\n\n'])));
    const got: string[] = [];
    expect(await followTaskLog(client, 1, 't', (ls) => got.push(...ls))).toBeNull();
    expect(got).toEqual(['a']);
  });
});
