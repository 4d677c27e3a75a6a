import type { Run, RunDetail } from '../api/types';
import { formatCount, formatDuration, type TaskStates } from '../api/runState';

function duration(start: number | null, end: number | null, now: number): number | null {
  if (start == null) return null;
  return (end ?? now) - start;
}

function when(ms: number | null): string {
  if (ms == null) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

export function RunsList(props: {
  runs: Run[] | null;
  error: string | null;
  selectedRunId: number | null;
  followLatest: boolean;
  onSelect: (id: number) => void;
  onFollowLatest: () => void;
  now: number;
}) {
  const { runs, error, selectedRunId, followLatest, onSelect, onFollowLatest, now } = props;
  return (
    <section className="runs">
      <div className="panel-title">
        <span>Runs</span>
        <label className="follow" title="Select each new run as it starts">
          <input type="checkbox" checked={followLatest} onChange={onFollowLatest} /> follow latest
        </label>
      </div>
      {error && <div className="error-box small">{error}</div>}
      {runs?.length === 0 && <div className="empty pad">No runs yet. Press <b>▶ Run</b> to start one.</div>}
      <ul className="list runs-list">
        {runs?.map((r) => (
          <li
            key={r.id}
            data-testid={`run-${r.id}`}
            data-status={r.status}
            className={r.id === selectedRunId ? 'item run-item selected' : 'item run-item'}
            onClick={() => onSelect(r.id)}
          >
            <span className={`dot state-${r.status}`} />
            <span className="run-id">#{r.id}</span>
            <span className="run-status">{r.status}</span>
            <span className="run-when muted">{when(r.started_at_ms)}</span>
            <span className="run-dur">{formatDuration(duration(r.started_at_ms, r.ended_at_ms, now))}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function RunTasks(props: {
  detail: RunDetail | null;
  states: TaskStates;
  error: string | null;
  selectedTask: string | null;
  onSelectTask: (id: string) => void;
  onShowLog: (id: string) => void;
  now: number;
}) {
  const { detail, states, error, selectedTask, onSelectTask, onShowLog, now } = props;
  if (error) return <div className="error-box small">{error}</div>;
  if (!detail) return null;
  const { run } = detail;
  return (
    <section className="run-detail">
      <div className="panel-title">
        <span>
          Run #{run.id} · <span className={`status-text state-${run.status}`}>{run.status}</span>
        </span>
        <span className="muted">{run.trigger ?? ''}</span>
      </div>
      {run.error && <div className="error-box small">{run.error}</div>}
      <table className="tasks-table">
        <thead>
          <tr>
            <th>Task</th>
            <th>Status</th>
            <th className="num">Rows</th>
            <th className="num">Time</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {detail.tasks.map((t) => {
            const state = states[t.task_id] ?? t.status;
            return [
              <tr
                key={t.task_id}
                data-testid={`runtask-${t.task_id}`}
                className={t.task_id === selectedTask ? 'selected' : ''}
                onClick={() => onSelectTask(t.task_id)}
              >
                <td className="mono">{t.task_id}</td>
                <td>
                  <span className={`dot state-${state}`} /> {state.replace('_', ' ')}
                  {t.attempts > 1 ? <span className="muted"> ×{t.attempts}</span> : null}
                </td>
                <td className="num">{formatCount(t.rows)}</td>
                <td className="num">{formatDuration(duration(t.started_at_ms, t.ended_at_ms, now))}</td>
                <td>
                  <button
                    className="link"
                    data-testid={`log-${t.task_id}`}
                    onClick={(e) => {
                      e.stopPropagation();
                      onShowLog(t.task_id);
                    }}
                  >
                    log
                  </button>
                </td>
              </tr>,
              t.error ? (
                <tr key={`${t.task_id}-err`} className="err-row">
                  <td colSpan={5}>
                    <pre className="task-error" data-testid={`task-error-${t.task_id}`}>{t.error}</pre>
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
    </section>
  );
}
