import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import { fetchTaskLog, followTaskLog } from '../api/runs';
import type { PipelineDetail, TaskDef } from '../api/types';
import { FailedSql, type TaskRunWithLocation } from './runs/FailedSql';
import { appendLines, atBottom, emptyLog, logFromText, type LogBuffer } from './runs/logBuffer';
import './runs/runs.css';

const LIVE = new Set(['pending', 'running']);
/** States whose error message the tab shows above the log. */
const ERRORED = new Set(['failed', 'cancelled', 'upstream_failed']);

/**
 * The Log tab for one task of one run: a failed task's error (with its SQL) on top, then the log
 * — streamed line by line while the task is pending or running, read whole once it has finished.
 * New lines keep the view at the bottom until the user scrolls up.
 */
export function LogView(props: {
  client: ApiClient;
  runId: number;
  task: string;
  /** Changes when the shown task finished (the log is then read whole again). */
  refreshKey: unknown;
  /** The task's state: live from events, else the stored one. */
  state?: string;
  taskRun?: TaskRunWithLocation | null;
  def?: TaskDef | null;
  /** The pipeline: a failed task's definition is re-read from it, so its SQL is current. */
  pipeline?: string | null;
}) {
  const { client, runId, task, refreshKey, taskRun, pipeline } = props;
  const state = props.state ?? taskRun?.status ?? 'success';
  const live = LIVE.has(state);
  const [log, setLog] = useState<LogBuffer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [streaming, setStreaming] = useState(false);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    const { signal } = ctrl;
    setError(null);
    setFollow(true);
    const readWhole = () =>
      fetchTaskLog(client, runId, task, signal).then((text) => {
        if (!signal.aborted) setLog(logFromText(text));
      });
    const fail = (e: unknown) => {
      if (!signal.aborted) setError((e as Error)?.message ?? String(e));
    };
    if (live) {
      setLog(emptyLog());
      setStreaming(true);
      followTaskLog(client, runId, task, (lines) => setLog((b) => appendLines(b ?? emptyLog(), lines)), signal)
        // The stream sends whole lines only: read the file once more for a last unterminated one.
        .then(() => (signal.aborted ? undefined : readWhole()))
        .catch(fail)
        .finally(() => {
          if (!signal.aborted) setStreaming(false);
        });
    } else {
      setLog(null);
      setStreaming(false);
      readWhole().catch(fail);
    }
    return () => ctrl.abort();
  }, [client, runId, task, refreshKey, live]);

  // Stay at the bottom while following.
  useLayoutEffect(() => {
    const el = pre.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [log, follow]);

  const failedState = state === 'failed';
  const def = useCurrentDef(client, failedState ? (pipeline ?? null) : null, task, props.def ?? null, refreshKey);
  const showFailure = taskRun && ERRORED.has(state) && (taskRun.error || state === 'failed');
  const lines = log?.lines.length ?? 0;

  return (
    <div className="logview">
      <div className="logview-bar">
        <span className={`dot state-${state}`} />
        <span className="mono">{task}</span>
        <span className="muted">run #{runId} · {state.replace('_', ' ')}</span>
        {streaming && (
          <span className="live-badge" data-testid="log-live">
            ● live
          </span>
        )}
        <span className="spacer" />
        {log && <span className="muted">{(log.dropped + lines).toLocaleString('en-US')} lines</span>}
        {streaming && !follow && (
          <button className="link" data-testid="log-follow" onClick={() => setFollow(true)}>
            ↓ follow
          </button>
        )}
      </div>
      {/* Side by side only when there is SQL or Python to show; a bare message sits above the log. */}
      <div className={showFailure && failedState && (def?.kind === 'sql' || def?.kind === 'python') ? 'logview-body split' : 'logview-body'}>
        {showFailure && <FailedSql run={taskRun} def={def ?? null} withSql={state === 'failed'} />}
        {error ? (
          <div className="error-box">{error}</div>
        ) : log === null ? (
          <div className="muted pad">Loading log…</div>
        ) : (
          <pre
            className="log logview-text"
            data-testid="task-log"
            data-streaming={streaming ? 'true' : 'false'}
            ref={pre}
            onScroll={(e) => {
              const el = e.currentTarget;
              setFollow(atBottom(el.scrollTop, el.clientHeight, el.scrollHeight));
            }}
          >
            {log.dropped > 0 && <span className="muted">… {log.dropped.toLocaleString('en-US')} earlier lines not shown{'\n'}</span>}
            {lines ? log.lines.join('\n') : streaming ? <span className="muted">Waiting for output…</span> : '(empty log)'}
          </pre>
        )}
      </div>
    </div>
  );
}

/**
 * A task's definition as the runner has it now (the SQL may have been edited outside this page
 * since the caller loaded the pipeline); `fallback` until it arrives or when it cannot be read.
 */
function useCurrentDef(
  client: ApiClient,
  pipeline: string | null,
  task: string,
  fallback: TaskDef | null,
  refreshKey: unknown,
): TaskDef | null {
  const [fresh, setFresh] = useState<{ key: string; def: TaskDef | null } | null>(null);
  const key = `${pipeline}|${task}`;
  useEffect(() => {
    if (!pipeline) return;
    const ctrl = new AbortController();
    client
      .json<PipelineDetail>(`/api/pipelines/${encodeURIComponent(pipeline)}`, { signal: ctrl.signal })
      .then((d) => setFresh({ key, def: d.tasks.find((t) => t.id === task) ?? null }))
      .catch(() => undefined); // keep the caller's copy
    return () => ctrl.abort();
  }, [client, pipeline, task, key, refreshKey]);
  return fresh?.key === key && fresh.def ? fresh.def : fallback;
}
