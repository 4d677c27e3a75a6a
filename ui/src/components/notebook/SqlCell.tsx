// A SQL task as a notebook cell: Monaco editor, Shift+Enter preview of the current (maybe
// unsaved) text, Ctrl+S / blur saves to the task's .sql file, engine errors as markers.
import { useMemo, useState } from 'react';
import { ApiError } from '../../api/client';
import { saveTaskSql, sqlLocationOf } from '../../api/notebook';
import type { PlanCheck } from '../../api/types';
import { locateSqlError } from '../../sql/errorLocation';
import { CellActions, ConflictNote, SaveError, type CellProps } from './CellParts';
import { CellHeader } from './CellHeader';
import { CodeEditor, type CodeMarker } from './CodeEditor';
import { PreviewPanel } from './PreviewPanel';
import { SchemaContract } from '../contract/SchemaContract';
import { useCodeDraft } from './useCodeDraft';
import { usePreview } from './usePreview';

/** Why the saved query would fail, planned over its inputs' schemas (from the pipeline's check). */
type PlanProblem = PlanCheck['problems'][number];

export function SqlCell(props: CellProps & { planProblem?: PlanProblem | null }) {
  const { client, pipeline, task, planProblem } = props;
  const saved = typeof task.settings.sql === 'string' ? task.settings.sql : '';
  const text = useCodeDraft(saved, (sql) => saveTaskSql(client, pipeline, task.id, sql), props.onPipelineChange);
  const preview = usePreview(client, pipeline, task.id, props.onSchema);
  const [marker, setMarker] = useState<CodeMarker | null>(null);

  // A plain function: the editor calls the latest one through its own ref.
  const run = async () => {
    const sql = text.draftRef.current;
    const done = await preview.run({ sql });
    if (!done) return; // a newer preview took over
    if (done.ok) return setMarker(null);
    const e = done.error;
    const range = e instanceof ApiError && e.status === 400 ? locateSqlError(done.message, sql, sqlLocationOf(e)) : null;
    setMarker(range ? { range, message: done.message } : null);
  };

  const { dirty, draft } = text;
  // The check ran on the saved text: its place is marked while the editor shows that text (and
  // no preview error is marked). Inline SQL's position is in pipeline.toml, so it gets no mark.
  const planMarker = useMemo((): CodeMarker | null => {
    if (!planProblem || dirty || planProblem.line == null || !planProblem.file?.endsWith('.sql')) return null;
    const range = locateSqlError(null, draft, { line: planProblem.line, column: planProblem.col ?? 1 });
    return range ? { range, message: planProblem.message } : null;
  }, [planProblem, dirty, draft]);
  return (
    <section
      className={`nb-cell nb-sql${props.selected ? ' selected' : ''}${props.maximized ? ' maximized' : ''}`}
      data-testid={`cell-${task.id}`}
      data-kind="sql"
      onMouseDown={props.onSelect}
    >
      <CellHeader task={task} dirty={dirty} run={props.run}>
        <CellActions
          task={task.id}
          onPreview={run}
          onSave={dirty ? text.save : null}
          saving={text.saving}
          onDelete={props.onDelete}
          maximized={props.maximized}
          onToggleMaximize={props.onToggleMaximize}
        />
      </CellHeader>
      <CodeEditor
        pipeline={pipeline}
        task={task.id}
        language="sql"
        value={draft}
        valueVersion={text.draftVersion}
        theme={props.theme}
        marker={marker ?? planMarker}
        autoFocus={props.autoFocus}
        fill={props.maximized}
        onChange={text.setDraft}
        onRun={run}
        onSave={text.save}
        onBlur={text.saveOnBlur}
        onFocus={props.onSelect}
      />
      <SaveError task={task.id} error={text.saveError} />
      {planProblem && !dirty && (
        <div className="error-box small nb-plan-problem" data-testid={`cell-plan-problem-${task.id}`}>
          Would fail when run{planProblem.line != null && planProblem.file?.endsWith('.sql') ? ` (line ${planProblem.line})` : ''}:{' '}
          {planProblem.message.replace(/^task '[^']*' would fail: /, '')}
        </div>
      )}
      {text.conflict !== null && <ConflictNote task={task.id} what="SQL" onTake={text.takeFileVersion} onKeep={text.keepMine} />}
      <SchemaContract task={task.id} contract={task.schema} error={props.run?.error} />
      <PreviewPanel task={task.id} state={preview.state} themeKey={props.theme} onClose={preview.close} />
    </section>
  );
}
