// A SQL task as a notebook cell: Monaco editor, Shift+Enter preview of the current (maybe
// unsaved) text, Ctrl+S / blur saves to the task's .sql file, engine errors as markers.
import { useEffect, useRef, useState } from 'react';
import { ApiError, type ApiClient } from '../../api/client';
import { previewTask, saveTaskSql, sqlLocationOf, type PreviewResult } from '../../api/notebook';
import type { PipelineDetail, TaskDef } from '../../api/types';
import { locateSqlError } from '../../sql/errorLocation';
import { CellHeader, type CellRun } from './CellHeader';
import { PreviewPanel, type PreviewState } from './PreviewPanel';
import { SqlEditor, type SqlMarker } from './SqlEditor';

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

export function SqlCell(props: CellProps) {
  const { client, pipeline, task } = props;
  const saved = typeof task.settings.sql === 'string' ? task.settings.sql : '';
  const [draft, setDraft] = useState(saved);
  const [draftVersion, setDraftVersion] = useState(0);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [preview, setPreview] = useState<PreviewState>({ status: 'idle' });
  const [marker, setMarker] = useState<SqlMarker | null>(null);
  const previewCtrl = useRef<AbortController | null>(null);
  const lastSaved = useRef(saved);
  const draftRef = useRef(draft);
  draftRef.current = draft;

  // The spec changed elsewhere (another view, a reload): adopt it unless the user is editing.
  useEffect(() => {
    if (draftRef.current === lastSaved.current && draftRef.current !== saved) {
      setDraft(saved);
      setDraftVersion((v) => v + 1);
    }
    lastSaved.current = saved;
  }, [saved]);

  useEffect(() => () => previewCtrl.current?.abort(), []);

  // Plain functions: the editor calls the latest ones through its own ref.
  const run = async () => {
    const sql = draftRef.current;
    previewCtrl.current?.abort();
    const ctrl = new AbortController();
    previewCtrl.current = ctrl;
    setPreview({ status: 'running' });
    try {
      const result = await previewTask(client, pipeline, task.id, { sql, signal: ctrl.signal });
      if (ctrl.signal.aborted) return;
      setPreview({ status: 'ok', result });
      setMarker(null);
      props.onSchema(result.schema);
    } catch (e) {
      if (ctrl.signal.aborted || (e instanceof DOMException && e.name === 'AbortError')) return;
      const message = errText(e);
      setPreview({ status: 'error', message });
      const range = e instanceof ApiError && e.status === 400 ? locateSqlError(message, sql, sqlLocationOf(e)) : null;
      setMarker(range ? { range, message } : null);
    }
  };

  const save = async () => {
    const sql = draftRef.current;
    if (sql === lastSaved.current || saving) return;
    setSaving(true);
    try {
      const detail = await saveTaskSql(client, pipeline, task.id, sql);
      setSaveError(null);
      lastSaved.current = sql;
      props.onPipelineChange(detail);
    } catch (e) {
      // The runner rejected the edit and left the files alone: keep the text, say why.
      setSaveError(errText(e));
    } finally {
      setSaving(false);
    }
  };

  const dirty = draft !== saved;
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
        marker={marker}
        autoFocus={props.autoFocus}
        onChange={setDraft}
        onRun={run}
        onSave={save}
        onBlur={save}
        onFocus={props.onSelect}
      />
      {saveError && (
        <div className="error-box small nb-save-error" data-testid={`cell-save-error-${task.id}`}>
          Not saved: {saveError}
        </div>
      )}
      <PreviewPanel task={task.id} state={preview} themeKey={props.theme} onClose={() => setPreview({ status: 'idle' })} />
    </section>
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
