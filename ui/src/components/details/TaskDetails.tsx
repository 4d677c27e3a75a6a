// The task details panel: for the selected task its settings, schema, history across runs (with
// a sparkline of durations), its last error with a link to that run's log, and whether its text
// changed since its last successful run. Esc or × closes it; selecting another task opens it.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client';
import { ApiError } from '../../api/client';
import { getSchemas } from '../../api/notebook';
import { formatDuration } from '../../api/runState';
import { fetchTaskHistory, type TaskHistory } from '../../api/taskDetails';
import type { ColumnSchema, PipelineDetail, TaskDef } from '../../api/types';
import { inTextField } from '../../shortcuts';
import { taskCode } from '../runs/FailedSql';
import { pythonLines } from '../runs/pythonHighlight';
import { sqlLines } from '../runs/sqlHighlight';
import {
  changedFlags,
  durationSeries,
  historyItem,
  lastFailure,
  schemaRows,
  settingsEntries,
  sparkline,
  whenText,
  type ChangedFlags,
} from './format';
import './details.css';

export { withChangedFlags } from './format';

const KIND_ICON: Record<string, string> = { source: '⇥', sql: 'Σ', validate: '✓', sink: '⇲', shell: '$', python: 'Py' };
const HISTORY_LIMIT = 30;

const isAbort = (e: unknown) => e instanceof DOMException && e.name === 'AbortError';
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface TaskDetailsProps {
  client: ApiClient;
  pipeline: PipelineDetail | null;
  /** The selected task (canvas node, notebook cell, run panel row). */
  task: string | null;
  /** Changes when runs start or finish: history, schema and "changed" flags are read again. */
  refreshKey: unknown;
  /** Opens the log of `task` in run `runId`. */
  onViewLog: (runId: number, task: string) => void;
  /**
   * Each task's "changed since its last success" flag as the runner says after runs finish,
   * for the caller's copy of the pipeline (the canvas and notebook show it).
   */
  onChangedFlags?: (flags: ChangedFlags) => void;
}

export function TaskDetails(props: TaskDetailsProps) {
  const { client, pipeline, task, refreshKey, onViewLog } = props;
  const name = pipeline?.name ?? null;
  const def = pipeline?.tasks.find((t) => t.id === task) ?? null;
  const [closedFor, setClosedFor] = useState<string | null>(null);
  const open = !!def && closedFor !== def.id;

  useChangedFlagsRefresh(client, name, refreshKey, props.onChangedFlags);

  // Esc closes the panel, unless a dialog or menu is open or a text field has the key.
  const panel = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (!open || !task) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      const inPanel = !!panel.current && e.target instanceof Node && panel.current.contains(e.target);
      if (!inPanel && inTextField(e.target)) return;
      if (document.querySelector('.overlay, [role="dialog"], [role="menu"]')) return;
      setClosedFor(task);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open, task]);

  if (!def || !name) return null;
  if (!open)
    return (
      <div className="details-closed">
        <button className="link" data-testid="details-open" onClick={() => setClosedFor(null)} title="Show the task's details">
          ⓘ Details of <span className="mono">{def.id}</span>
        </button>
      </div>
    );
  return (
    <section className="task-details" ref={panel} data-testid="task-details" data-task={def.id} aria-label={`Task ${def.id}`}>
      <DetailsBody
        key={`${name}|${def.id}`}
        client={client}
        pipeline={pipeline!}
        def={def}
        refreshKey={refreshKey}
        onViewLog={onViewLog}
        onClose={() => setClosedFor(def.id)}
      />
    </section>
  );
}

/** After runs finish, re-reads which tasks changed since their last success. */
function useChangedFlagsRefresh(client: ApiClient, name: string | null, refreshKey: unknown, onFlags?: (f: ChangedFlags) => void) {
  const cb = useRef(onFlags);
  cb.current = onFlags;
  useEffect(() => {
    if (!name || !cb.current) return;
    const ctrl = new AbortController();
    client
      .getPipeline(name, ctrl.signal)
      .then((d) => cb.current?.(changedFlags(d)))
      .catch(() => undefined); // the flags stay as they were
    return () => ctrl.abort();
  }, [client, name, refreshKey]);
}

function DetailsBody(props: {
  client: ApiClient;
  pipeline: PipelineDetail;
  def: TaskDef;
  refreshKey: unknown;
  onViewLog: (runId: number, task: string) => void;
  onClose: () => void;
}) {
  const { client, pipeline, def, refreshKey, onViewLog, onClose } = props;
  const name = pipeline.name;
  const [history, setHistory] = useState<TaskHistory | null>(null);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [output, setOutput] = useState<ColumnSchema[] | null>(null);

  // The history again after runs and after the task's files change (the pipeline is re-read then).
  useEffect(() => {
    const ctrl = new AbortController();
    fetchTaskHistory(client, name, def.id, HISTORY_LIMIT, ctrl.signal)
      .then((h) => {
        setHistory(h);
        setHistoryError(null);
      })
      .catch((e) => {
        if (isAbort(e)) return;
        setHistoryError(e instanceof ApiError && e.status === 404 && /no route/i.test(e.message) ? 'This runner does not keep task histories.' : errText(e));
      });
    return () => ctrl.abort();
  }, [client, name, def.id, refreshKey, pipeline]);

  useEffect(() => {
    const ctrl = new AbortController();
    getSchemas(client, name, [def.id], ctrl.signal)
      .then((s) => setOutput(s[def.id] ?? null))
      .catch(() => setOutput(null));
    return () => ctrl.abort();
  }, [client, name, def.id, refreshKey]);

  // The pipeline's copy is what the canvas and notebook show; the history's is as fresh.
  const changed = def.changed_since_success ?? history?.changed_since_success ?? null;
  const items = useMemo(() => (history ? history.runs.map(historyItem) : []), [history]);
  const hasRun = items.some((it) => it.status === 'success' || it.status === 'cached');
  const failure = history ? lastFailure(history) : null;
  const settings = useMemo(() => settingsEntries(def), [def]);
  const code = taskCode(def);
  const file = typeof def.settings.file === 'string' ? def.settings.file : null;
  const schema = schemaRows(def, output, hasRun);

  return (
    <>
      <div className="panel-title details-title">
        <span className="details-name">
          <span className={`details-icon kind-${def.kind}`} title={def.kind}>
            {KIND_ICON[def.kind] ?? '•'}
          </span>
          <span className="mono" data-testid="details-task">
            {def.id}
          </span>
          <span className="details-kind">{def.kind}</span>
        </span>
        <button className="ghost details-close" onClick={onClose} title="Close (Esc)" aria-label="Close the details" data-testid="details-close">
          ×
        </button>
      </div>
      <div className="details-scroll">
        {changed && (
          <div
            className="details-changed"
            data-testid="details-changed"
            title={`Its ${code ? (code.language === 'sql' ? 'SQL' : 'code') : 'settings'} differ from what run #${history?.last_success_run ?? '?'} used`}
          >
            ● changed since the last successful run{history?.last_success_run != null && <> (#{history.last_success_run})</>}
          </div>
        )}
        {def.description && <p className="details-desc">{def.description}</p>}

        <h4>History</h4>
        {historyError && <div className="error-box small">{historyError}</div>}
        {!history && !historyError && <div className="muted details-pad">Loading…</div>}
        {history && items.length === 0 && (
          <div className="muted details-pad" data-testid="details-history-empty">
            Not run yet.
          </div>
        )}
        {history && items.length > 0 && (
          <>
            <DurationSparkline history={history} />
            <ol className="details-history" data-testid="details-history">
              {items.map((it) => (
                <li
                  key={it.runId}
                  data-testid={`details-run-${it.runId}`}
                  data-status={it.status}
                  data-rows={it.rows ?? ''}
                  className={it.hasLog ? 'has-log' : undefined}
                  title={it.error ?? undefined}
                >
                  <span className={`details-chip state-${it.status}`}>{it.statusLabel}</span>
                  <span className="mono details-runid">#{it.runId}</span>
                  <span className="details-rows">{it.rowsText}</span>
                  <span className="details-dur">{it.durationText}</span>
                  <span className="muted details-when" title={it.startedAtMs != null ? new Date(it.startedAtMs).toLocaleString() : undefined}>
                    {whenText(it.startedAtMs)}
                  </span>
                  {it.hasLog ? (
                    <button className="link details-log" onClick={() => onViewLog(it.runId, def.id)} data-testid={`details-log-${it.runId}`} title={`The log of run #${it.runId}`}>
                      log
                    </button>
                  ) : (
                    <span />
                  )}
                  {it.attemptsText && <span className="muted details-attempts">{it.attemptsText}</span>}
                </li>
              ))}
            </ol>
          </>
        )}

        {failure && (
          <>
            <h4>Last error</h4>
            <div className="details-error" data-testid="details-last-error" data-run={failure.run_id}>
              <div className="details-error-head">
                <span className="dot state-failed" /> run #{failure.run_id}
                <span className="muted">{whenText(failure.started_at_ms ?? failure.ended_at_ms)}</span>
                <span className="spacer" />
                <button className="link" onClick={() => onViewLog(failure.run_id, def.id)} data-testid="details-view-log">
                  view log
                </button>
              </div>
              <pre className="task-error">{failure.error ?? 'failed'}</pre>
            </div>
          </>
        )}

        <h4>Settings</h4>
        <dl className="details-settings" data-testid="details-settings">
          {settings.map(([k, v]) => (
            <div key={k} className="details-kv" data-key={k}>
              <dt className="mono">{k}</dt>
              <dd className="mono">{v}</dd>
            </div>
          ))}
          {def.upstream.length > 0 && (
            <div className="details-kv" data-key="reads">
              <dt>reads</dt>
              <dd className="mono">{def.upstream.join(', ')}</dd>
            </div>
          )}
        </dl>
        {code && <CodeBlock text={code.text} language={code.language} file={file} />}

        <h4>
          Schema
          {schema.source && (
            <span className="muted details-h-note" data-testid="details-schema-source">
              {schema.source === 'output' ? 'from the last output' : `declared${def.schema?.strict ? ', strict' : ''}`}
            </span>
          )}
        </h4>
        {schema.rows.length === 0 ? (
          <div className="muted details-pad">No columns known yet: run the task, or declare a schema.</div>
        ) : (
          <table className="details-schema" data-testid="details-schema">
            <tbody>
              {schema.rows.map((c) => (
                <tr key={c.name} data-column={c.name}>
                  <td className="mono">{c.name}</td>
                  <td className="mono muted">{c.type}</td>
                  <td className="details-rules">
                    {c.notNull && <span className="details-rule">not null</span>}
                    {c.unique && <span className="details-rule">unique</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

const SPARK_W = 220;
const SPARK_H = 34;

/** Durations of the task's runs, oldest to newest, as a small line with a dot per run. */
function DurationSparkline({ history }: { history: TaskHistory }) {
  const series = useMemo(() => durationSeries(history), [history]);
  if (series.length === 0) return null;
  const s = sparkline(
    series.map((p) => p.ms),
    SPARK_W,
    SPARK_H,
    3,
  );
  const last = series[series.length - 1]!;
  return (
    <div className="details-spark">
      <svg
        width={SPARK_W}
        height={SPARK_H}
        viewBox={`0 0 ${SPARK_W} ${SPARK_H}`}
        data-testid="details-sparkline"
        data-points={s.points.length}
        role="img"
        aria-label={`Durations of the last ${series.length} runs; longest ${formatDuration(s.max)}`}
      >
        <line x1={0} x2={SPARK_W} y1={SPARK_H - 3} y2={SPARK_H - 3} className="spark-base" />
        {s.segments.map((pts, i) => (
          <polyline key={i} points={pts} className="spark-line" />
        ))}
        {s.points.map((p) => (
          <circle key={p.i} cx={p.x} cy={p.y} r={2.5} className={`spark-dot state-${series[p.i]!.status}`}>
            <title>{`#${series[p.i]!.runId} · ${formatDuration(p.value)} · ${series[p.i]!.status.replace(/_/g, ' ')}`}</title>
          </circle>
        ))}
      </svg>
      <span className="muted details-spark-note">
        last {formatDuration(last.ms)}
        <br />
        max {formatDuration(s.max)}
      </span>
    </div>
  );
}

/** The task's SQL or Python, highlighted, folded under its file name. */
function CodeBlock({ text, language, file }: { text: string; language: 'sql' | 'python'; file: string | null }) {
  const lines = useMemo(() => (language === 'sql' ? sqlLines(text) : pythonLines(text)), [text, language]);
  return (
    <details className="details-code" data-testid="details-code">
      <summary>
        {language === 'sql' ? 'SQL' : 'Python'}
        {file && <span className="mono muted"> · {file}</span>}
        <span className="muted"> · {lines.length.toLocaleString('en-US')} lines</span>
      </summary>
      <pre className="details-code-text">
        {lines.map((toks, i) => (
          <span key={i}>
            {toks.map((t, j) => (
              <span key={j} className={`tk-${t.kind}`}>
                {t.text}
              </span>
            ))}
            {'\n'}
          </span>
        ))}
      </pre>
    </details>
  );
}
