// A SQL task as a notebook cell: Monaco editor, Shift+Enter preview of the current (maybe
// unsaved) text, Ctrl+S / blur saves to the task's .sql file, engine errors as markers.
import { useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../../api/client';
import { saveTaskSql, sqlLocationOf, type PreviewResult } from '../../api/notebook';
import type { PipelineDetail, PlanCheck, TaskDef } from '../../api/types';
import { locateSqlError } from '../../sql/errorLocation';
import { CellHeader, type CellRun } from './CellHeader';
import { PreviewPanel } from './PreviewPanel';
import { SqlEditor, type SqlMarker } from './SqlEditor';
import { usePreview } from './usePreview';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface CellProps {
  client: ApiClient;
  pipeline: string;
  task: TaskDef;
  run: CellRun | null;
  theme: 'light' | 'dark';
  selected: boolean;
  autoFocus: boolean;
  onSelect: () => void;
  onPipelineChange: (p: PipelineDetail) => void;
  /** A preview's columns, so later cells can complete them before the task has run. */
  onSchema: (schema: PreviewResult['schema']) => void;
  onDelete: () => void;
}

/** Why the saved query would fail, planned over its inputs' schemas (from the pipeline's check). */
type PlanProblem = PlanCheck['problems'][number];

export function SqlCell(props: CellProps & { planProblem?: PlanProblem | null }) {
  const { client, pipeline, task, planProblem } = props;
  const saved = typeof task.settings.sql === 'string' ? task.settings.sql : '';
  const [draft, setDraft] = useState(saved);
  const [draftVersion, setDraftVersion] = useState(0);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const preview = usePreview(client, pipeline, task.id, props.onSchema);
  const [marker, setMarker] = useState<SqlMarker | null>(null);
  const lastSaved = useRef(saved);
  const draftRef = useRef(draft);
  draftRef.current = draft;

  // The file's SQL while the user had unsaved edits of an older one: shown, never applied silently.
  const [conflict, setConflict] = useState<string | null>(null);

  // The spec changed elsewhere (another view, an editor, a git pull): adopt it unless the user
  // is editing; then keep their text and say the file changed.
  useEffect(() => {
    if (draftRef.current === lastSaved.current && draftRef.current !== saved) {
      setDraft(saved);
      setDraftVersion((v) => v + 1);
    } else if (saved !== lastSaved.current && draftRef.current !== saved) {
      setConflict(saved);
    }
    lastSaved.current = saved;
  }, [saved]);

  const takeFileVersion = () => {
    if (conflict === null) return;
    setDraft(conflict);
    setDraftVersion((v) => v + 1);
    setConflict(null);
  };

  // Plain functions: the editor calls the latest ones through its own ref.
  const run = async () => {
    const sql = draftRef.current;
    const done = await preview.run(sql);
    if (!done) return; // a newer preview took over
    if (done.ok) return setMarker(null);
    const e = done.error;
    const range = e instanceof ApiError && e.status === 400 ? locateSqlError(done.message, sql, sqlLocationOf(e)) : null;
    setMarker(range ? { range, message: done.message } : null);
  };

  const save = async () => {
    const sql = draftRef.current;
    if (sql === lastSaved.current || saving) return;
    setSaving(true);
    try {
      const detail = await saveTaskSql(client, pipeline, task.id, sql);
      setSaveError(null);
      setConflict(null);
      lastSaved.current = sql;
      props.onPipelineChange(detail);
    } catch (e) {
      // The runner rejected the edit and left the files alone: keep the text, say why.
      setSaveError(errText(e));
    } finally {
      setSaving(false);
    }
  };

  // Leaving the editor saves, except while the file changed under the user's edits: writing
  // their text then would silently drop the change on disk. Ctrl+S still saves theirs on purpose.
  const saveOnBlur = () => {
    if (conflict === null) void save();
  };

  const dirty = draft !== saved;
  // The check ran on the saved text: its place is marked while the editor shows that text (and
  // no preview error is marked). Inline SQL's position is in pipeline.toml, so it gets no mark.
  const planMarker = useMemo((): SqlMarker | null => {
    if (!planProblem || dirty || planProblem.line == null || !planProblem.file?.endsWith('.sql')) return null;
    const range = locateSqlError(null, draft, { line: planProblem.line, column: planProblem.col ?? 1 });
    return range ? { range, message: planProblem.message } : null;
  }, [planProblem, dirty, draft]);
  return (
    <section
      className={`nb-cell nb-sql${props.selected ? ' selected' : ''}`}
      data-testid={`cell-${task.id}`}
      data-kind="sql"
      onMouseDown={props.onSelect}
    >
      <CellHeader task={task} dirty={dirty} run={props.run}>
        <CellActions task={task.id} onPreview={run} onSave={dirty ? save : null} saving={saving} onDelete={props.onDelete} />
      </CellHeader>
      <SqlEditor
        pipeline={pipeline}
        task={task.id}
        value={draft}
        valueVersion={draftVersion}
        theme={props.theme}
        marker={marker ?? planMarker}
        autoFocus={props.autoFocus}
        onChange={setDraft}
        onRun={run}
        onSave={save}
        onBlur={saveOnBlur}
        onFocus={props.onSelect}
      />
      <SaveError task={task.id} error={saveError} />
      {planProblem && !dirty && (
        <div className="error-box small nb-plan-problem" data-testid={`cell-plan-problem-${task.id}`}>
          Would fail when run{planProblem.line != null && planProblem.file?.endsWith('.sql') ? ` (line ${planProblem.line})` : ''}:{' '}
          {planProblem.message.replace(/^task '[^']*' would fail: /, '')}
        </div>
      )}
      {conflict !== null && (
        <div className="nb-conflict" data-testid={`cell-conflict-${task.id}`}>
          The SQL of <b>{task.id}</b> changed on disk while you were editing; your unsaved text is kept.{' '}
          <button className="link" onClick={takeFileVersion} data-testid={`cell-conflict-take-${task.id}`}>
            Use the file's version
          </button>{' '}
          <button className="link" onClick={() => setConflict(null)} title="Keep your text; saving it replaces the file">
            Keep mine
          </button>
        </div>
      )}
      <PreviewPanel task={task.id} state={preview.state} themeKey={props.theme} onClose={preview.close} />
    </section>
  );
}

/** Why the runner refused a cell's last save (the text stays as typed). */
export function SaveError({ task, error }: { task: string; error: string | null }) {
  if (!error) return null;
  return (
    <div className="error-box small nb-save-error" data-testid={`cell-save-error-${task}`}>
      Not saved: {error}
    </div>
  );
}

/** Preview / save / delete buttons of a cell header. */
export function CellActions({
  task,
  onPreview,
  onSave,
  saving,
  onDelete,
}: {
  task: string;
  onPreview: (() => void) | null;
  onSave: (() => void) | null;
  saving: boolean;
  onDelete: () => void;
}) {
  const [confirm, setConfirm] = useState(false);
  useEffect(() => {
    if (!confirm) return;
    const t = setTimeout(() => setConfirm(false), 3000);
    return () => clearTimeout(t);
  }, [confirm]);
  return (
    <span className="nb-actions">
      {onSave && (
        <button className="ghost small" onClick={onSave} disabled={saving} title="Save (Ctrl+S)" data-testid={`cell-save-${task}`}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      )}
      {onPreview && (
        <button className="ghost small" onClick={onPreview} title="Preview (Shift+Enter)" data-testid={`cell-run-button-${task}`}>
          ▶ Preview
        </button>
      )}
      <button
        className={`ghost small${confirm ? ' danger' : ''}`}
        onClick={() => (confirm ? onDelete() : setConfirm(true))}
        title="Remove this task from the pipeline"
        data-testid={`cell-delete-${task}`}
      >
        {confirm ? 'Delete?' : '✕'}
      </button>
    </span>
  );
}
