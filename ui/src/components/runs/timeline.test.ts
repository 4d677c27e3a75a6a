import { describe, expect, it } from 'vitest';
import { layoutTimeline, MIN_BAR_PX, tickLabel, tickStep, toTimelineTasks, type TimelineTask } from './timeline';

const T = 1_700_000_000_000;

describe('tickStep / tickLabel', () => {
  it('picks the smallest round step giving at most maxTicks intervals', () => {
    expect(tickStep(1000, 4)).toBe(500); // 1000/200 = 5 > 4, 1000/500 = 2
    expect(tickStep(27, 3)).toBe(10);
    expect(tickStep(95_000, 5)).toBe(30_000);
    expect(tickStep(10 * 86_400_000, 2)).toBe(5 * 86_400_000);
  });
  it('labels offsets in the unit of the step', () => {
    expect(tickLabel(0, 500)).toBe('0');
    expect(tickLabel(500, 500)).toBe('500 ms');
    expect(tickLabel(1500, 500)).toBe('1500 ms');
    expect(tickLabel(1500, 1000)).toBe('1.5 s');
    expect(tickLabel(120_000, 60_000)).toBe('2 m');
    expect(tickLabel(5_400_000, 3_600_000)).toBe('1.5 h');
  });
});

describe('layoutTimeline', () => {
  const tasks: TimelineTask[] = [
    { id: 'sales', status: 'success', start: T, end: T + 1000 },
    { id: 'top', status: 'upstream_failed', start: null, end: T + 3000 },
    { id: 'by_region', status: 'failed', start: T + 1000, end: T + 3000 },
    { id: 'wide', status: 'success', start: T + 500, end: T + 2000 },
  ];

  it('scales from the first start to the last end and orders lanes by start', () => {
    const tl = layoutTimeline(tasks, 300, T + 99_999);
    expect(tl.t0).toBe(T);
    expect(tl.t1).toBe(T + 3000);
    const byId = Object.fromEntries(tl.bars.map((b) => [b.id, b]));
    expect(byId.sales).toMatchObject({ lane: 0, x: 0, width: 100, durationMs: 1000, running: false });
    expect(byId.wide).toMatchObject({ lane: 1, x: 50, width: 150, durationMs: 1500 });
    expect(byId.by_region).toMatchObject({ lane: 2, x: 100, width: 200, durationMs: 2000 });
    // Never started: last lane, no bar.
    expect(byId.top).toMatchObject({ lane: 3, width: 0, durationMs: null });
  });

  it('grows a running bar up to now', () => {
    const running: TimelineTask[] = [
      { id: 'a', status: 'success', start: T, end: T + 1000 },
      { id: 'b', status: 'running', start: T + 1000, end: null },
    ];
    const at2 = layoutTimeline(running, 400, T + 2000);
    const at4 = layoutTimeline(running, 400, T + 4000);
    expect(at2.t1).toBe(T + 2000);
    expect(at2.bars[1]).toMatchObject({ x: 200, width: 200, durationMs: 1000, running: true });
    expect(at4.t1).toBe(T + 4000);
    expect(at4.bars[1]).toMatchObject({ x: 100, width: 300, durationMs: 3000, running: true });
    expect(at4.bars[0]!.width).toBe(100);
  });

  it('keeps instant tasks visible and inside the chart', () => {
    const tl = layoutTimeline(
      [
        { id: 'slow', status: 'success', start: T, end: T + 10_000 },
        { id: 'cached', status: 'cached', start: T + 10_000, end: T + 10_000 },
      ],
      200,
      T + 10_000,
    );
    const cached = tl.bars[1]!;
    expect(cached.width).toBe(MIN_BAR_PX);
    expect(cached.x + cached.width).toBe(200);
  });

  it('puts ticks at round offsets across the span', () => {
    const tl = layoutTimeline([{ id: 'a', status: 'success', start: T, end: T + 3000 }], 300, T);
    // 300 px / 70 px → at most 4 intervals → 1 s steps.
    expect(tl.ticks.map((t) => t.label)).toEqual(['0', '1 s', '2 s', '3 s']);
    expect(tl.ticks.map((t) => t.x)).toEqual([0, 100, 200, 300]);
  });

  it('shows a short run on a minimum span and an empty run at now', () => {
    const short = layoutTimeline([{ id: 'a', status: 'success', start: T, end: T + 2 }], 100, T + 5);
    expect(short.t1 - short.t0).toBe(10);
    expect(short.bars[0]!.width).toBe(20);
    const none = layoutTimeline([{ id: 'a', status: 'pending', start: null, end: null }], 100, T);
    expect(none.t0).toBe(T);
    expect(none.bars[0]!.width).toBe(0);
  });
});

describe('toTimelineTasks', () => {
  const rec = (task_id: string, status: string, started_at_ms: number | null, ended_at_ms: number | null) => ({
    task_id,
    status,
    started_at_ms,
    ended_at_ms,
  });

  it('takes live states over stored ones and fills missing times from what the page saw', () => {
    const tasks = toTimelineTasks(
      [rec('a', 'success', T, T + 100), rec('b', 'pending', null, null), rec('c', 'running', T + 100, null), rec('d', 'pending', null, null)],
      { b: 'running', c: 'failed' },
      { b: { running: T + 150 }, c: { running: T + 100, ended: T + 400 } },
    );
    expect(tasks).toEqual([
      { id: 'a', status: 'success', start: T, end: T + 100 },
      { id: 'b', status: 'running', start: T + 150, end: null },
      { id: 'c', status: 'failed', start: T + 100, end: T + 400 },
      { id: 'd', status: 'pending', start: null, end: null },
    ]);
  });

  it('shows a cached task as an instant at the time it was reused', () => {
    const [t] = toTimelineTasks([rec('sales', 'cached', null, T + 7)], {}, {});
    expect(t).toEqual({ id: 'sales', status: 'cached', start: T + 7, end: T + 7 });
  });

  it('leaves tasks that never started without a bar', () => {
    const [t] = toTimelineTasks([rec('top', 'upstream_failed', null, T + 5)], {}, {});
    expect(t).toEqual({ id: 'top', status: 'upstream_failed', start: null, end: null });
  });
});
