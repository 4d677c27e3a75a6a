// Geometry of the run timeline (a Gantt chart of task runs): the time scale, one lane per task,
// bars and time ticks, in pixels for a given width. Pure, so the chart component only draws.

export interface TimelineTask {
  id: string;
  status: string;
  /** Unix ms; null when the task has not started (pending, or skipped because an upstream failed). */
  start: number | null;
  /** Unix ms; null while it runs. */
  end: number | null;
}

export interface TimelineBar {
  id: string;
  status: string;
  /** Row index: lanes are ordered by start time, tasks that never started last. */
  lane: number;
  x: number;
  width: number;
  /** Milliseconds from start to end (or to `now` while running); null without a start. */
  durationMs: number | null;
  running: boolean;
}

export interface TimelineTick {
  x: number;
  /** Time since the run's first start, e.g. "0", "500 ms", "1.5 s", "2 m". */
  label: string;
}

export interface Timeline {
  /** Start and end of the scale, Unix ms. */
  t0: number;
  t1: number;
  bars: TimelineBar[];
  ticks: TimelineTick[];
}

/** Bars never get thinner than this, so an instant (cached) task still shows. */
export const MIN_BAR_PX = 3;
/** The smallest span the scale shows, so a run of a few ms does not blow up to full width per ms. */
export const MIN_SPAN_MS = 10;

const STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The smallest "round" step that cuts `spanMs` into at most `maxTicks` intervals. */
export function tickStep(spanMs: number, maxTicks: number): number {
  const n = Math.max(1, Math.floor(maxTicks));
  for (const s of STEPS_MS) if (spanMs / s <= n) return s;
  const day = 86_400_000;
  return Math.ceil(spanMs / n / day) * day;
}

/** A tick label: offset from the run start, in the unit the step is round in. */
export function tickLabel(offsetMs: number, stepMs: number): string {
  if (offsetMs === 0) return '0';
  if (stepMs < 1000) return `${offsetMs} ms`;
  if (stepMs < 60_000) return `${+(offsetMs / 1000).toFixed(1)} s`;
  if (stepMs < 3_600_000) return `${+(offsetMs / 60_000).toFixed(1)} m`;
  return `${+(offsetMs / 3_600_000).toFixed(1)} h`;
}

/**
 * Lays out `tasks` on `width` pixels. The scale runs from the earliest start to the latest end
 * (running tasks end at `now`); ticks are about `tickPx` apart. Bars of running tasks grow with
 * `now`, so re-laying out on a timer makes them tick.
 */
export function layoutTimeline(tasks: TimelineTask[], width: number, now: number, tickPx = 70): Timeline {
  const w = Math.max(1, width);
  const started = tasks.filter((t) => t.start != null);
  const t0 = started.length ? Math.min(...started.map((t) => t.start!)) : now;
  const ends = started.map((t) => Math.max(t.start!, t.end ?? now));
  const t1 = Math.max(t0 + MIN_SPAN_MS, ...ends);
  const span = t1 - t0;
  const px = (t: number) => ((t - t0) / span) * w;

  // Lanes: by start time, ties and never-started tasks in the given (pipeline) order.
  const order = tasks
    .map((t, i) => ({ t, i }))
    .sort((a, b) => {
      const sa = a.t.start ?? Infinity;
      const sb = b.t.start ?? Infinity;
      return sa === sb ? a.i - b.i : sa - sb;
    });

  const bars: TimelineBar[] = order.map(({ t }, lane) => {
    if (t.start == null) return { id: t.id, status: t.status, lane, x: 0, width: 0, durationMs: null, running: false };
    const running = t.end == null;
    const end = Math.max(t.start, t.end ?? now);
    let x = px(t.start);
    let bw = Math.max(MIN_BAR_PX, px(end) - x);
    // Keep a minimum-width bar inside the chart at the right edge.
    if (x + bw > w) x = Math.max(0, w - bw);
    bw = Math.min(bw, w);
    return { id: t.id, status: t.status, lane, x, width: bw, durationMs: end - t.start, running };
  });

  const step = tickStep(span, Math.max(1, Math.floor(w / tickPx)));
  const ticks: TimelineTick[] = [];
  for (let off = 0; off <= span; off += step) ticks.push({ x: px(t0 + off), label: tickLabel(off, step) });

  return { t0, t1, bars, ticks };
}

const LIVE = new Set(['pending', 'running']);

/**
 * Timeline tasks of a run from its stored task runs and the live states from events. Events
 * carry no times, so a task the events say started (or ended) before the stored record caught
 * up uses the time this page first saw that state (`seen`: task → {running?, ended?} in ms).
 * Cached tasks are recorded with an end and no start: they become instants at that end.
 */
export function toTimelineTasks(
  taskRuns: { task_id: string; status: string; started_at_ms: number | null; ended_at_ms: number | null }[],
  states: Record<string, string>,
  seen: Record<string, { running?: number; ended?: number }>,
): TimelineTask[] {
  return taskRuns.map((t) => {
    const status = states[t.task_id] ?? t.status;
    const s = seen[t.task_id] ?? {};
    // A cached task never starts: it shows as an instant at the moment it was reused.
    const reused = status === 'cached' ? t.ended_at_ms : null;
    const start = t.started_at_ms ?? reused ?? (status === 'pending' ? null : (s.running ?? null));
    const end = LIVE.has(status) ? null : (t.ended_at_ms ?? s.ended ?? start);
    return { id: t.task_id, status, start, end: start == null ? null : end };
  });
}
