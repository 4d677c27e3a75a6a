// A Python task as a notebook cell: Monaco editor (Python), Shift+Enter preview of the current
// (maybe unsaved) code, Ctrl+S / blur saves to the task's .py file, errors marked on their line
// (a preview's, else the selected run's failure while the code is unchanged).
import { useMemo, useState } from 'react';
import { ApiError } from '../../api/client';
import { saveTaskCode, sqlLocationOf } from '../../api/notebook';
import { locatePythonError, pythonChangedSince } from '../../python/errorLocation';
import type { CellProps } from './CellParts';
import { CodeCell, type PlanProblem } from './CodeCell';
import type { CodeMarker } from './CodeEditor';
import { useCodeDraft } from './useCodeDraft';
import { usePreview } from './usePreview';

export function PythonCell(props: CellProps & { planProblem?: PlanProblem | null }) {
  const { client, pipeline, task, planProblem } = props;
  const saved = typeof task.settings.code === 'string' ? task.settings.code : '';
  const file = typeof task.settings.file === 'string' ? task.settings.file : null;
  const text = useCodeDraft(saved, (code) => saveTaskCode(client, pipeline, task.id, code), props.onPipelineChange);
  const preview = usePreview(client, pipeline, task.id, props.onSchema);
  const [marker, setMarker] = useState<CodeMarker | null>(null);

  // A plain function: the editor calls the latest one through its own ref.
  const run = async () => {
    const code = text.draftRef.current;
    const done = await preview.run({ code });
    if (!done) return; // a newer preview took over
    if (done.ok) return setMarker(null);
    const e = done.error;
    const range = e instanceof ApiError && e.status === 400 ? locatePythonError(done.message, code, sqlLocationOf(e), file) : null;
    setMarker(range ? { range, message: done.message } : null);
  };

  const { dirty, draft } = text;
  // The selected run's failure and the pipeline check's problem were about the saved code: marked
  // while the editor shows it (and the traceback still quotes its lines).
  const savedMarker = useMemo((): CodeMarker | null => {
    if (dirty) return null;
    const failed = props.run?.status === 'failed' ? props.run : null;
    if (failed?.error && !pythonChangedSince(failed.error, draft, file)) {
      const range = locatePythonError(failed.error, draft, failed.errorLocation, file);
      if (range) return { range, message: failed.error };
    }
    if (planProblem?.line != null && planProblem.file?.endsWith('.py')) {
      const range = locatePythonError(null, draft, { line: planProblem.line, column: planProblem.col ?? 1 }, file);
      if (range) return { range, message: planProblem.message };
    }
    return null;
  }, [dirty, draft, file, props.run, planProblem]);

  return (
    <CodeCell
      {...props}
      language="python"
      ext=".py"
      what="code"
      text={text}
      preview={preview}
      onRun={run}
      marker={marker ?? savedMarker}
      headerExtra={file && <span className="muted mono nb-file">{file}</span>}
    />
  );
}
