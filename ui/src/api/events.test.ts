import { describe, expect, it } from 'vitest';
import { ApiClient } from './client';
import { readEventStream, subscribeEvents, toRunnerEvent } from './events';
import { applyEvent, formatDuration, statesFromRun } from './runState';
import { streamOf } from './testStreams';
import type { RunnerEvent, TaskRun } from './types';

describe('toRunnerEvent', () => {
  it('accepts runner events and rejects anything else', () => {
    expect(toRunnerEvent('{"event":"run_started","pipeline":"p","run_id":1}')).toEqual({
      event: 'run_started',
      pipeline: 'p',
      run_id: 1,
    });
    expect(toRunnerEvent('not json')).toBeNull();
    expect(toRunnerEvent('{"event":"x"}')).toBeNull();
  });
});

describe('readEventStream', () => {
  it('decodes events split across chunks, including a split UTF-8 character', async () => {
    const enc = new TextEncoder();
    const a = enc.encode('data: {"event":"task_finished","pipeline":"p","run_id":2,"task":"é","status":"failed"}\n\n');
    const cut = a.indexOf(0xc3) + 1; // inside the 2-byte "é"
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(': hi\n\ndata: {"event":"run_started","pipeline":"p","run_id":2}\n'));
        c.enqueue(enc.encode('\n'));
        c.enqueue(a.slice(0, cut));
        c.enqueue(a.slice(cut));
        c.close();
      },
    });
    const got: RunnerEvent[] = [];
    await readEventStream(body, (e) => got.push(e));
    expect(got.map((e) => e.event)).toEqual(['run_started', 'task_finished']);
    expect(got[1]!.task).toBe('é');
  });

  it('subscribeEvents sends the token and delivers events', async () => {
    const seen: { url: string; auth: string }[] = [];
    const client = new ApiClient('http://r', 'tok', async (url, init) => {
      seen.push({ url, auth: (init?.headers as Record<string, string>).Authorization! });
      return new Response(streamOf(['data: {"event":"run_finished","pipeline":"p","run_id":5}\n\n']), { status: 200 });
    });
    const got = await new Promise<RunnerEvent>((resolve) => {
      const stop = subscribeEvents(client, (e) => {
        stop();
        resolve(e);
      });
    });
    expect(got.run_id).toBe(5);
    expect(seen[0]).toEqual({ url: 'http://r/api/events', auth: 'Bearer tok' });
  });
});

describe('run state', () => {
  const task = (task_id: string, status: TaskRun['status']): TaskRun => ({
    run_id: 1, task_id, kind: 'sql', status, attempts: 1, started_at_ms: null, ended_at_ms: null,
    rows: null, bytes: null, schema: null, artifact: null, error: null, log_path: null,
  });

  it('builds states from a run and applies live events of that run only', () => {
    let s = statesFromRun([task('a', 'success'), task('b', 'pending')]);
    expect(s).toEqual({ a: 'success', b: 'pending' });
    const ev = (e: Partial<RunnerEvent>): RunnerEvent => ({ event: 'task_started', pipeline: 'p', run_id: 1, ...e });
    const same = applyEvent(s, 1, ev({ run_id: 2, task: 'b' }));
    expect(same).toBe(s);
    s = applyEvent(s, 1, ev({ task: 'b' }));
    expect(s.b).toBe('running');
    s = applyEvent(s, 1, ev({ event: 'task_finished', task: 'b', status: 'failed' }));
    expect(s.b).toBe('failed');
    s = applyEvent(s, 1, ev({ event: 'task_started', task: 'c' }));
    expect(s.c).toBe('running');
    expect(applyEvent(s, 1, ev({ event: 'run_finished' }))).toBe(s);
  });

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3210)).toBe('3.2 s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(3_726_000)).toBe('1h 02m');
  });
});
