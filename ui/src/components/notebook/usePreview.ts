// A cell's preview request: one at a time (a new one aborts the last), aborted when the cell
// unmounts, and a superseded request never touches the state.
import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client';
import { previewTask, type PreviewResult } from '../../api/notebook';
import type { PreviewState } from './PreviewPanel';

/** How a preview ended: `null` when a newer one (or unmounting) superseded it. */
export type PreviewOutcome = { ok: true } | { ok: false; error: unknown; message: string } | null;

export function usePreview(client: ApiClient, pipeline: string, task: string, onSchema: (schema: PreviewResult['schema']) => void) {
  const [state, setState] = useState<PreviewState>({ status: 'idle' });
  const ctrlRef = useRef<AbortController | null>(null);
  useEffect(() => () => ctrlRef.current?.abort(), []);

  /** Previews the task; `text` is the unsaved text of a SQL (`sql`) or Python (`code`) task. */
  const run = async (text?: { sql: string } | { code: string }): Promise<PreviewOutcome> => {
    ctrlRef.current?.abort();
    const ctrl = new AbortController();
    ctrlRef.current = ctrl;
    setState({ status: 'running' });
    try {
      const result = await previewTask(client, pipeline, task, { ...text, signal: ctrl.signal });
      if (ctrl.signal.aborted) return null;
      setState({ status: 'ok', result });
      onSchema(result.schema);
      return { ok: true };
    } catch (error) {
      if (ctrl.signal.aborted || (error instanceof DOMException && error.name === 'AbortError')) return null;
      const message = error instanceof Error ? error.message : String(error);
      setState({ status: 'error', message });
      return { ok: false, error, message };
    }
  };
  const close = () => setState({ status: 'idle' });
  return { state, run, close };
}
