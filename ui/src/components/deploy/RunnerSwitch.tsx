import { useEffect, useState } from 'react';
import type { ApiClient } from '../../api/client';
import { listRemotes, type RemoteRunner } from '../../api/remotes';
import './deploy.css';

/**
 * Which runner the workbench shows: this one, or a remote one reached through it (to watch
 * its runs and outputs). The list reloads when `refreshKey` changes (the Runners dialog closes).
 */
export function RunnerSwitch({
  client,
  watching,
  onWatch,
  refreshKey,
}: {
  client: ApiClient;
  watching: string | null;
  onWatch: (remote: string | null) => void;
  refreshKey: unknown;
}) {
  const [remotes, setRemotes] = useState<RemoteRunner[]>([]);
  useEffect(() => {
    const ctrl = new AbortController();
    listRemotes(client, ctrl.signal)
      .then(setRemotes)
      // The switch is a convenience: without the list, only this runner is offered.
      .catch(() => !ctrl.signal.aborted && setRemotes([]));
    return () => ctrl.abort();
  }, [client, refreshKey]);

  const current = remotes.find((r) => r.name === watching);
  if (remotes.length === 0 && !watching) return null;
  return (
    <span className={watching ? 'runner-switch remote' : 'runner-switch'}>
      <select
        value={watching ?? ''}
        onChange={(e) => onWatch(e.target.value || null)}
        data-testid="runner-switch"
        title={current ? `Watching ${current.url} through this runner` : 'Show another runner'}
      >
        <option value="">This runner</option>
        {remotes.map((r) => (
          <option key={r.name} value={r.name}>
            {r.name} — {r.url}
          </option>
        ))}
        {watching && !current && <option value={watching}>{watching}</option>}
      </select>
    </span>
  );
}
