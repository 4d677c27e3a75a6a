import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client';
import { deployTo, describeDeploy, listRemotes, type DeployAnswer, type RemoteRunner } from '../../api/remotes';
import { useDismiss } from '../useDismiss';
import './deploy.css';

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Deploy ▾: pick a remote runner and send it this pipeline (validated here, bundled, unpacked
 * there as a new version). Shows the version, schedule and next run, with a button that switches the UI to that runner to watch it.
 */
export function DeployButton({
  client,
  pipeline,
  onManage,
  onWatch,
}: {
  client: ApiClient;
  pipeline: string;
  onManage: () => void;
  /** Switches the UI to the runner deployed to, to watch the pipeline there. */
  onWatch: (remote: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [remotes, setRemotes] = useState<RemoteRunner[] | null>(null);
  const [target, setTarget] = useState<string>(() => localStorage.getItem('polder.deployTarget') ?? '');
  const [state, setState] = useState<{ status: 'idle' | 'busy' } | { status: 'done'; answer: DeployAnswer } | { status: 'error'; message: string }>({
    status: 'idle',
  });

  useEffect(() => {
    if (!open) return;
    const ctrl = new AbortController();
    listRemotes(client, ctrl.signal)
      .then((r) => {
        setRemotes(r);
        setTarget((t) => (r.some((x) => x.name === t) ? t : (r[0]?.name ?? '')));
      })
      .catch((e: unknown) => !ctrl.signal.aborted && setState({ status: 'error', message: msg(e) }));
    return () => ctrl.abort();
  }, [client, open]);

  useEffect(() => setState({ status: 'idle' }), [pipeline]);

  // Escape or a press outside closes the panel (it covers the top of the canvas).
  const box = useRef<HTMLSpanElement>(null);
  useDismiss(open, [box], () => setOpen(false));

  // Managing runners happens in Settings; the list reloads when the panel opens again.
  const manage = () => {
    setOpen(false);
    onManage();
  };

  const deploy = async () => {
    if (!target) return;
    localStorage.setItem('polder.deployTarget', target);
    setState({ status: 'busy' });
    try {
      setState({ status: 'done', answer: await deployTo(client, pipeline, target) });
    } catch (e) {
      setState({ status: 'error', message: msg(e) });
    }
  };

  return (
    <span className="deploy" ref={box}>
      <button
        className="ghost"
        onClick={() => setOpen((o) => !o)}
        data-testid="deploy-open"
        title="Deploy this pipeline to a runner"
        aria-expanded={open}
      >
        ⇪ Deploy
      </button>
      {open && (
        <div className="deploy-pop" data-testid="deploy-panel">
          {remotes?.length === 0 ? (
            <p>
              No runner to deploy to yet.{' '}
              <button className="link" onClick={manage} data-testid="deploy-add-runner">
                Add one
              </button>
            </p>
          ) : (
            <div className="deploy-row">
              <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="deploy-target">
                {remotes?.map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.name} — {r.url}
                  </option>
                ))}
              </select>
              <button className="primary" onClick={() => void deploy()} disabled={!target || state.status === 'busy'} data-testid="deploy-go">
                {state.status === 'busy' ? 'Deploying…' : `Deploy ${pipeline}`}
              </button>
              <button className="link" onClick={manage} title="Add or remove runners">
                Runners…
              </button>
            </div>
          )}
          {state.status === 'done' && (
            <div className="deploy-result" data-testid="deploy-result" data-version={state.answer.version}>
              ✓ {describeDeploy(state.answer)} ·{' '}
              <button className="link" onClick={() => onWatch(state.answer.remote)} data-testid="deploy-watch">
                watch it there
              </button>
            </div>
          )}
          {state.status === 'error' && (
            // Refusals can list things line by line (e.g. each connection the target runner lacks): kept as sent.
            <div className="error-box small deploy-error" role="alert" data-testid="deploy-error">
              {state.message}
            </div>
          )}
        </div>
      )}
    </span>
  );
}
