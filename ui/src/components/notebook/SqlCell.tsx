// A SQL task as a notebook cell: Monaco editor, Shift+Enter preview of the current (maybe
// unsaved) text, Ctrl+S / blur saves to the task's .sql file, engine errors as markers.
import { useMemo, useState } from 'react';
import { ApiError } from '../../api/client';
import { saveTaskSql, sqlLocationOf } from '../../api/notebook';
import { locateSqlError } from '../../sql/errorLocation';
import type { CellProps } from './CellParts';
import { CodeCell, type PlanProblem } from './CodeCell';
import type { CodeMarker } from './CodeEditor';
import { useCodeDraft } from './useCodeDraft';
import { usePreview } from './usePreview';

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
    <CodeCell
      {...props}
      language="sql"
      ext=".sql"
      what="SQL"
      text={text}
      preview={preview}
      onRun={run}
      marker={marker ?? planMarker}
    />
  );
}
