import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import { fetchTaskLog, followTaskLog } from '../api/runs';
import type { PipelineDetail, TaskDef } from '../api/types';
import { FailedSql, type TaskRunWithLocation } from './runs/FailedSql';
import {
  appendLines,
  atBottom,
  emptyLog,
  findMatches,
  lineLevels,
  type LogLevel,
  linePieces,
  logFileName,
  logFromText,
  matchCountText,
  stepMatch,
  type LogBuffer,
} from './runs/logBuffer';
import './runs/runs.css';
import './LogView.css';

const LIVE = new Set(['pending', 'running']);
/** States whose error message the tab shows above the log. */
const ERRORED = new Set(['failed', 'cancelled', 'upstream_failed']);

/**
 * The Log tab for one task of one run: a failed task's error (with its SQL) on top, then the log
 * — streamed line by line while the task is pending or running, read whole once it has finished.
 * New lines keep the view at the bottom while "follow" is on; scrolling up turns it off. Lines
 * are coloured by level; the search box marks matches (Enter / Shift+Enter step through them);
 * Download saves the whole log as a .log file.
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
  const [query, setQuery] = useState('');
  const [current, setCurrent] = useState<number | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);
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

  const levels = useMemo(() => lineLevels(log?.lines ?? []), [log]);

  // Search: every match of the query, by line; a new query starts at its first match.
  const matches = useMemo(() => findMatches(log?.lines ?? [], query), [log, query]);
  const byLine = useMemo(() => {
    const m = new Map<number, { start: number; end: number; index: number }[]>();
    matches.forEach((x, index) => {
      const list = m.get(x.line);
      if (list) list.push({ start: x.start, end: x.end, index });
      else m.set(x.line, [{ start: x.start, end: x.end, index }]);
    });
    return m;
  }, [matches]);
  useEffect(() => setCurrent(null), [query, runId, task]);
  const shownCurrent = current != null && current < matches.length ? current : query && matches.length ? 0 : null;
  const [jump, setJump] = useState(0);
  const step = (dir: 1 | -1) => {
    setCurrent(stepMatch(shownCurrent, matches.length, dir));
    setJump((j) => j + 1);
  };
  // Bring the current match into view (and stop following, or the next lines would move it away).
  useLayoutEffect(() => {
    const el = pre.current;
    if (!el || shownCurrent == null) return;
    const mark = el.querySelector<HTMLElement>('mark[data-current="true"]');
    if (!mark) return;
    setFollow(false);
    const top = mark.offsetTop;
    if (top < el.scrollTop + 8 || top > el.scrollTop + el.clientHeight - 24) el.scrollTop = Math.max(0, top - el.clientHeight / 2);
    // Only on a new query or a step: streaming lines leave the view where the user put it.
  }, [query, jump, shownCurrent]);

  const download = () => {
    setDownloadError(null);
    // The whole log from the runner: the page may hold only its last lines.
    fetchTaskLog(client, runId, task)
      .catch(() => (log ? log.lines.join('\n') + '\n' : ''))
      .then((text) => {
        const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
        const a = document.createElement('a');
        a.href = url;
        a.download = logFileName(pipeline, runId, task);
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      })
      .catch((e: unknown) => setDownloadError((e as Error)?.message ?? String(e)));
  };

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
        <span className="log-search">
          <input
            type="search"
            placeholder="Search the log"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                step(e.shiftKey ? -1 : 1);
              } else if (e.key === 'Escape' && query) {
                e.preventDefault();
                setQuery('');
              }
            }}
            aria-label="Search the log"
            title="Enter: next match · Shift+Enter: previous"
            data-testid="log-search"
          />
          {query && (
            <>
              <span className={matches.length ? 'muted log-count' : 'err log-count'} data-testid="log-search-count" data-count={matches.length}>
                {matchCountText(shownCurrent, matches.length, query)}
              </span>
              <button className="ghost log-step" onClick={() => step(-1)} disabled={!matches.length} title="Previous match (Shift+Enter)" data-testid="log-search-prev">
                ↑
              </button>
              <button className="ghost log-step" onClick={() => step(1)} disabled={!matches.length} title="Next match (Enter)" data-testid="log-search-next">
                ↓
              </button>
            </>
          )}
        </span>
        {log && <span className="muted">{(log.dropped + lines).toLocaleString('en-US')} lines</span>}
        <button
          className={follow ? 'ghost log-toggle on' : 'ghost log-toggle'}
          aria-pressed={follow}
          data-testid="log-follow"
          data-on={follow ? 'true' : 'false'}
          onClick={() => setFollow((f) => !f)}
          title={follow ? 'Following the end of the log (scroll up to stop)' : 'Follow the end of the log'}
        >
          ↓ follow
        </button>
        <button className="ghost" onClick={download} disabled={!log} data-testid="log-download" title="Download the whole log as a .log file">
          ⤓ Download
        </button>
      </div>
      {downloadError && <div className="error-box small">{downloadError}</div>}
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
            {lines
              ? log.lines.map((l, i) => {
                  const ms = byLine.get(i) ?? NO_MATCHES;
                  const cur = shownCurrent != null && ms.some((m) => m.index === shownCurrent) ? shownCurrent : null;
                  return <LogLine key={i} text={l} level={levels[i] ?? 'info'} last={i === lines - 1} matches={ms} current={cur} />;
                })
              : streaming
                ? <span className="muted">Waiting for output…</span>
                : '(empty log)'}
          </pre>
        )}
      </div>
    </div>
  );
}

const NO_MATCHES: { start: number; end: number; index: number }[] = [];

/** One log line: its time dimmed, coloured by level, matches marked; a newline after all but the last. */
const LogLine = memo(function LogLine(props: {
  text: string;
  level: LogLevel;
  last: boolean;
  matches: { start: number; end: number; index: number }[];
  current: number | null;
}) {
  const { text, level, last, matches, current } = props;
  return (
    <span className={`ll ll-${level}`} data-level={level}>
      {linePieces(text, matches).map((p, i) =>
        p.match != null ? (
          <mark key={i} className={p.match === current ? 'log-match current' : 'log-match'} data-current={p.match === current ? 'true' : undefined}>
            {p.text}
          </mark>
        ) : p.time ? (
          <span key={i} className="ll-time">
            {p.text}
          </span>
        ) : (
          p.text
        ),
      )}
      {last ? '' : '\n'}
    </span>
  );
});

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
