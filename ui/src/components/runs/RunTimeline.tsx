import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatCount, formatDuration } from '../../api/runState';
import type { TaskRun } from '../../api/types';
import { layoutTimeline, toTimelineTasks, type TimelineBar } from './timeline';

const TICK_MS = 250;
const TIP_PX = 170;

/**
 * Remembers when the page first saw each task running or ended (events carry no times).
 * Written during render on purpose: it only ever fills in first-seen times, so repeating a
 * render (StrictMode) changes nothing.
 */
function useSeenTimes(states: Record<string, string>) {
  const seen = useRef<Record<string, { running?: number; ended?: number }>>({});
  for (const [task, st] of Object.entries(states)) {
    const s = (seen.current[task] ??= {});
    if (st === 'running') s.running ??= Date.now();
    else if (st !== 'pending') s.ended ??= Date.now();
  }
  return seen.current;
}

/** Width of an element, kept current with a ResizeObserver. */
function useWidth<T extends HTMLElement>() {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

/**
 * Gantt chart of a run: one lane per task, a bar from start to end coloured by state, growing
 * while the task runs; hover shows rows and duration, click selects the task.
 */
export function RunTimeline(props: {
  tasks: TaskRun[];
  states: Record<string, string>;
  selectedTask: string | null;
  onSelectTask: (id: string) => void;
  /** Double-click: open the task's log. */
  onOpenTask?: (id: string) => void;
}) {
  const { tasks, states, selectedTask, onSelectTask, onOpenTask } = props;
  const seen = useSeenTimes(states);
  const [trackRef, trackWidth] = useWidth<HTMLDivElement>();
  const [hover, setHover] = useState<{ bar: TimelineBar; x: number; y: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const timelineTasks = toTimelineTasks(tasks, states, seen);
  const live = timelineTasks.some((t) => t.status === 'running' || t.status === 'pending');
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(t);
  }, [live]);

  const tl = layoutTimeline(timelineTasks, trackWidth, now);
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const lanes = [...tl.bars].sort((a, b) => a.lane - b.lane);

  return (
    <div className="tl" data-testid="run-timeline" onMouseLeave={() => setHover(null)}>
      <div className="tl-row tl-axis">
        <span className="tl-label" />
        <div className="tl-track" ref={trackRef}>
          {tl.ticks.map((t) => (
            <span key={t.x} className="tl-tick" style={{ left: t.x }}>
              <span className="tl-tick-label">{t.label}</span>
            </span>
          ))}
        </div>
        <span className="tl-dur" />
      </div>
      {lanes.map((b) => {
        const rec = byId.get(b.id);
        return (
          <div
            key={b.id}
            className={b.id === selectedTask ? 'tl-row tl-lane selected' : 'tl-row tl-lane'}
            data-testid={`runtask-${b.id}`}
            data-state={b.status}
            onClick={() => onSelectTask(b.id)}
            onDoubleClick={() => onOpenTask?.(b.id)}
            title="Click: select the task · double-click: its log"
          >
            <span className="tl-label mono" title={b.id}>
              <span className={`dot state-${b.status}`} /> {b.id}
            </span>
            <div className="tl-track">
              {tl.ticks.map((t) => (
                <span key={t.x} className="tl-grid" style={{ left: t.x }} />
              ))}
              {b.durationMs == null ? (
                <span className="tl-none muted">{b.status.replace('_', ' ')}</span>
              ) : (
                <span
                  className={`tl-bar state-${b.status}${b.running ? ' running' : ''}`}
                  data-testid={`bar-${b.id}`}
                  data-state={b.status}
                  style={{ left: b.x, width: b.width }}
                  onMouseMove={(e) => {
                    const box = e.currentTarget.closest('.tl')!.getBoundingClientRect();
                    // Keep the tip inside the panel: flip it left of the pointer near the right edge.
                    const x = e.clientX - box.left;
                    setHover({ bar: b, x: x + TIP_PX + 12 > box.width ? Math.max(0, x - TIP_PX - 4) : x + 12, y: e.clientY - box.top });
                  }}
                  onMouseLeave={() => setHover(null)}
                />
              )}
            </div>
            <span className="tl-dur muted">{formatDuration(b.durationMs)}</span>
            {rec && rec.attempts > 1 && <span className="tl-attempts muted" title={`${rec.attempts} attempts`}>×{rec.attempts}</span>}
          </div>
        );
      })}
      {hover && (
        <div className="tl-tip" data-testid="timeline-tip" style={{ left: hover.x, top: hover.y + 14, width: TIP_PX }}>
          <b className="mono">{hover.bar.id}</b> · {hover.bar.status.replace('_', ' ')}
          <br />
          {formatDuration(hover.bar.durationMs)}
          {byId.get(hover.bar.id)?.rows != null && <> · {formatCount(byId.get(hover.bar.id)!.rows)} rows</>}
        </div>
      )}
    </div>
  );
}
