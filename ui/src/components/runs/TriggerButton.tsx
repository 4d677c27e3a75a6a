import { useEffect, useRef, useState, type RefObject } from 'react';
import { buildTriggerRequest, paramDefaults, RUN_DATE, type TriggerRequest } from '../../api/runs';
import type { PipelineDetail } from '../../api/types';
import { useDismiss } from '../useDismiss';
import './runs.css';

/**
 * The Run button: a click runs with the defaults; ▾ opens the dialog with the pipeline's
 * parameters (defaults editable), Force and "only these tasks"; Enter in it runs.
 * (Ctrl/⌘+Enter is bound app-wide in App.tsx through shortcuts.ts.)
 */
export function TriggerButton(props: {
  pipeline: PipelineDetail | null;
  disabled?: boolean;
  onTrigger: (req: TriggerRequest) => void | Promise<void>;
}) {
  const { pipeline, disabled, onTrigger } = props;
  const [open, setOpen] = useState(false);
  const run = (req: TriggerRequest) => {
    setOpen(false);
    void onTrigger(req);
  };
  const plain: TriggerRequest = { params: {}, force: false, only: [] };
  const anchor = useRef<HTMLSpanElement>(null);

  return (
    <span className="trigger" ref={anchor}>
      <button
        className="primary trigger-main"
        data-testid="run-pipeline"
        onClick={() => run(plain)}
        disabled={disabled || !pipeline}
        title="Run the pipeline (Ctrl+Enter); unchanged tasks reuse their cached outputs"
      >
        ▶ Run
      </button>
      <button
        className="primary trigger-more"
        data-testid="run-menu"
        onClick={() => setOpen((o) => !o)}
        disabled={disabled || !pipeline}
        title="Run with parameters, force, or only some tasks"
        aria-expanded={open}
      >
        ▾
      </button>
      {open && pipeline && <TriggerDialog pipeline={pipeline} anchor={anchor} onRun={run} onClose={() => setOpen(false)} />}
    </span>
  );
}

function TriggerDialog({
  pipeline,
  anchor,
  onRun,
  onClose,
}: {
  pipeline: PipelineDetail;
  /** The Run buttons and the dialog: a press there is not outside (▾ toggles the dialog itself). */
  anchor: RefObject<HTMLSpanElement | null>;
  onRun: (req: TriggerRequest) => void;
  onClose: () => void;
}) {
  const defaults = paramDefaults(pipeline.params);
  const specs = new Map((pipeline.param_specs ?? []).map((p) => [p.name, p]));
  const names = Object.keys(defaults).sort((a, b) => (a === RUN_DATE ? 1 : b === RUN_DATE ? -1 : a.localeCompare(b)));
  const [values, setValues] = useState<Record<string, string>>(defaults);
  const [force, setForce] = useState(false);
  const [onlySome, setOnlySome] = useState(false);
  const [only, setOnly] = useState<Set<string>>(new Set());
  const box = useRef<HTMLFormElement | null>(null);
  const order = pipeline.tasks.map((t) => t.id);

  useEffect(() => {
    box.current?.querySelector<HTMLInputElement>('input')?.focus();
  }, []);
  // Escape (wherever the focus is) or a press outside closes it.
  useDismiss(true, [anchor], onClose);

  return (
    <form
      ref={box}
      className="trigger-dialog"
      data-testid="trigger-dialog"
      onSubmit={(e) => {
        e.preventDefault();
        onRun(buildTriggerRequest(values, defaults, force, onlySome ? only : [], order));
      }}
      onKeyDown={(e) => {
        // Text fields submit on Enter by themselves; make checkboxes do the same.
        if (e.key === 'Enter' && (e.target as HTMLInputElement).type === 'checkbox') {
          e.preventDefault();
          box.current?.requestSubmit();
        }
      }}
    >
      <div className="td-title">
        Run <b>{pipeline.name}</b>
      </div>
      <div className="td-section">Parameters</div>
      <div className="td-params">
        {names.map((k) => (
          <label key={k} className="td-param" title={specs.get(k)?.description ?? undefined}>
            <span className="mono">{k}</span>
            <input
              data-testid={`param-${k}`}
              value={values[k] ?? ''}
              placeholder={paramPlaceholder(k, specs.get(k)?.type ?? (k === RUN_DATE ? 'date' : 'string'), defaults[k], specs.has(k) && specs.get(k)?.default == null)}
              onChange={(e) => setValues((v) => ({ ...v, [k]: e.target.value }))}
              spellCheck={false}
            />
          </label>
        ))}
      </div>
      <label className="td-check">
        <input type="checkbox" data-testid="trigger-force" checked={force} onChange={(e) => setForce(e.target.checked)} />
        Force: rerun every task, ignoring the cache
      </label>
      <label className="td-check">
        <input type="checkbox" data-testid="trigger-only" checked={onlySome} onChange={(e) => setOnlySome(e.target.checked)} />
        Only these tasks (on their upstreams' newest outputs)
      </label>
      {onlySome && (
        <div className="td-tasks">
          {order.map((t) => (
            <label key={t} className="td-task">
              <input
                type="checkbox"
                data-testid={`trigger-only-${t}`}
                checked={only.has(t)}
                onChange={(e) =>
                  setOnly((s) => {
                    const n = new Set(s);
                    if (e.target.checked) n.add(t);
                    else n.delete(t);
                    return n;
                  })
                }
              />
              <span className="mono">{t}</span>
            </label>
          ))}
        </div>
      )}
      <div className="td-actions">
        <span className="muted">Enter runs · Esc closes</span>
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="primary" data-testid="trigger-submit" disabled={onlySome && only.size === 0}>
          ▶ Run
        </button>
      </div>
    </form>
  );
}

/** What an empty parameter field means: its type, and the default or that a value is required. */
function paramPlaceholder(name: string, type: string, fallback: string | undefined, required: boolean): string {
  const hint = type === 'date' ? 'YYYY-MM-DD' : type;
  if (required) return `${hint} · required`;
  if (name === RUN_DATE && !fallback) return `${hint} · today (UTC)`;
  return `${hint} · default`;
}
