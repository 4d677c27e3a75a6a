import { useEffect, useState } from 'react';
import type { ApiClient } from '../api/client';

export function LogView({ client, runId, task, refreshKey }: { client: ApiClient; runId: number; task: string; refreshKey: unknown }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    setError(null);
    client
      .getTaskLog(runId, task, ctrl.signal)
      .then(setText)
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError((e as Error)?.message ?? String(e));
      });
    return () => ctrl.abort();
  }, [client, runId, task, refreshKey]);
  if (error) return <div className="error-box pad">{error}</div>;
  if (text === null) return <div className="muted pad">Loading log…</div>;
  return (
    <pre className="log" data-testid="task-log">
      {text || '(empty log)'}
    </pre>
  );
}
