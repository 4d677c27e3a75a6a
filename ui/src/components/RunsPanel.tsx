import { useState } from 'react';
import type { ApiClient } from '../api/client';
import { cancelRun, triggerQuery, paramsSummary, parseRunParams, retryRun, RUN_STATUSES, TRIGGER_KINDS, triggerKind, type TriggerKind } from '../api/runs';
import { formatDuration, type TaskStates } from '../api/runState';
import type { RunDetail, RunStatus } from '../api/types';
import { CollapseButton } from './panels/PanelRail';
import { RunTimeline } from './runs/RunTimeline';
import { useRunHistory } from './runs/useRunHistory';
import './runs/runs.css';

function duration(start: number | null, end: number | null, now: number): number | null {
  if (start == null) return null;
  return (end ?? now) - start;
}

function when(ms: number | null): string {
  if (ms == null) return '—';
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

const errText = (e: unknown) => (e as Error)?.message ?? String(e);

/** The run history of one pipeline: status and trigger filters, "load more" paging. */
export function RunsList(props: {
  client: ApiClient;
  pipeline: string;
  /** Changes when runs start or finish: the history reloads. */
  refreshKey: unknown;
  /** An error of the caller's own run list (shown above the history's). */
  error?: string | null;
  selectedRunId: number | null;
  followLatest: boolean;
  onSelect: (id: number) => void;
  onFollowLatest: () => void;
  now: number;
  /** Hides the runs panel (to a rail). */
  onCollapse?: () => void;
}) {
  const { client, pipeline, refreshKey, selectedRunId, followLatest, onSelect, onFollowLatest, now, onCollapse } = props;
  const [status, setStatus] = useState<RunStatus | null>(null);
  const [trigger, setTrigger] = useState<TriggerKind | 'all'>('all');
  const history = useRunHistory(client, pipeline, status, triggerQuery(trigger), refreshKey);
  const filtered = status !== null || trigger !== 'all';

  return (
    <section className="runs">
      <div className="panel-title">
        <span>Runs</span>
        <label className="follow" title="Select each new run as it starts">
          <input type="checkbox" data-testid="follow-latest" checked={followLatest} onChange={onFollowLatest} /> follow latest
        </label>
        {onCollapse && <CollapseButton edge="right" label="Runs" onCollapse={onCollapse} testId="side-collapse" />}
      </div>
      <div className="runs-filters">
        <select
          data-testid="runs-filter-status"
          value={status ?? 'all'}
          onChange={(e) => setStatus(e.target.value === 'all' ? null : (e.target.value as RunStatus))}
          title="Status"
        >
          <option value="all">any status</option>
          {RUN_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select
          data-testid="runs-filter-trigger"
          value={trigger}
          onChange={(e) => setTrigger(e.target.value as TriggerKind | 'all')}
          title="Trigger"
        >
          <option value="all">any trigger</option>
          {TRIGGER_KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      {(history.error ?? props.error) && <div className="error-box small">{history.error ?? props.error}</div>}
      {history.runs?.length === 0 && !history.hasMore && (
        <div className="empty pad" data-testid="runs-empty">
          {filtered ? (
            'No runs match these filters.'
          ) : (
            <>
              No runs yet — press <b>▶ Run</b> or <kbd>Ctrl</kbd>+<kbd>Enter</kbd>.
            </>
          )}
        </div>
      )}
      <ul className="list runs-list" data-testid="runs-list">
        {history.runs?.map((r) => {
          const params = paramsSummary(parseRunParams(r.params));
          return (
            <li
              key={r.id}
              data-testid={`run-${r.id}`}
              data-status={r.status}
              data-trigger={triggerKind(r.trigger)}
              className={r.id === selectedRunId ? 'item run-item selected' : 'item run-item'}
              onClick={() => onSelect(r.id)}
            >
              <span className={`dot state-${r.status}`} />
              <span className="run-id">#{r.id}</span>
              <span className="run-status">{r.status}</span>
              <span className="run-trigger" title={`trigger: ${r.trigger ?? '?'}`}>
                {triggerKind(r.trigger)}
              </span>
              <span className="run-when muted">{when(r.started_at_ms)}</span>
              <span className="run-dur">{formatDuration(duration(r.started_at_ms, r.ended_at_ms, now))}</span>
              {params && (
                <span className="run-params muted" title={params}>
                  {params}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {history.hasMore && (
        <div className="runs-more">
          <button className="link" data-testid="runs-load-more" onClick={history.loadMore} disabled={history.loadingMore}>
            {history.loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}

/**
 * One run: status, trigger, parameters, Retry (failed/cancelled) and Cancel (running), the
 * timeline of its tasks and the errors of failed ones.
 */
export function RunTasks(props: {
  client: ApiClient;
  detail: RunDetail | null;
  states: TaskStates;
  error: string | null;
  selectedTask: string | null;
  onSelectTask: (id: string) => void;
  onShowLog: (id: string) => void;
  /** A retry started this run: show it. */
  onFollowRun: (id: number) => void;
  now: number;
}) {
  const { client, detail, states, error, selectedTask, onSelectTask, onShowLog, onFollowRun, now } = props;
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  if (error) return <div className="error-box small">{error}</div>;
  if (!detail) return null;
  const { run } = detail;
  const params = paramsSummary(parseRunParams(run.params));
  const failed = detail.tasks.filter((t) => t.error && (states[t.task_id] ?? t.status) !== 'upstream_failed');

  const act = (f: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    f()
      .catch((e: unknown) => setActionError(errText(e)))
      .finally(() => setBusy(false));
  };

  return (
    <section className="run-detail" data-testid="run-detail" data-run={run.id} data-status={run.status}>
      <div className="panel-title">
        <span>
          Run #{run.id} · <span className={`status-text state-${run.status}`}>{run.status}</span>
        </span>
        <span className="muted run-detail-meta">
          {triggerKind(run.trigger)} · {formatDuration(duration(run.started_at_ms, run.ended_at_ms, now))}
        </span>
        <span className="spacer" />
        {run.status === 'running' && (
          <button className="small-btn" data-testid="run-cancel" disabled={busy} onClick={() => act(() => cancelRun(client, run.id))}>
            ■ Cancel
          </button>
        )}
        {(run.status === 'failed' || run.status === 'cancelled') && (
          <button
            className="small-btn primary"
            data-testid="run-retry"
            disabled={busy}
            title="Start a new run with the same parameters: finished tasks are reused, failed ones and their downstream rerun"
            onClick={() => act(() => retryRun(client, run.id).then((r) => onFollowRun(r.run_id)))}
          >
            ↻ Retry
          </button>
        )}
      </div>
      {params && (
        <div className="run-params-line muted" data-testid="run-params" title={params}>
          {params}
        </div>
      )}
      {actionError && <div className="error-box small">{actionError}</div>}
      <RunTimeline tasks={detail.tasks} states={states} selectedTask={selectedTask} onSelectTask={onSelectTask} onOpenTask={onShowLog} />
      {failed.length === 0 && run.error && <div className="error-box small">{run.error}</div>}
      {failed.map((t) => (
        <div key={t.task_id} className="run-err" onClick={() => onShowLog(t.task_id)} title="Show the error, SQL and log">
          <div className="run-err-head">
            <span className={`dot state-${t.status}`} /> <span className="mono">{t.task_id}</span>
            <span className="spacer" />
            <button className="link" data-testid={`log-${t.task_id}`}>
              error &amp; log →
            </button>
          </div>
          <pre className="task-error" data-testid={`task-error-${t.task_id}`}>
            {t.error}
          </pre>
        </div>
      ))}
    </section>
  );
}
