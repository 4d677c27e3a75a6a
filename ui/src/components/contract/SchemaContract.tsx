// A task's schema contract next to its output: the declared columns (name, type, not null,
// unique; strict: no other columns allowed) and, when a run failed the contract, its violations.
// Inline under a notebook cell; behind a "Contract" button in the output panel's bar.
import { useRef, useState } from 'react';
import type { SchemaContract as Contract } from '../../api/types';
import { useDismiss } from '../useDismiss';
import { columnRules, contractFailure } from './violations';
import './contract.css';

export interface SchemaContractProps {
  task: string;
  contract: Contract | null | undefined;
  /** The error of the task's last run, if it failed: a contract failure lists its violations. */
  error?: string | null;
}

export function SchemaContract({ task, contract, error }: SchemaContractProps) {
  const failure = contractFailure(error);
  if (!contract && !failure) return null;
  return (
    <div className="contract" data-testid={`contract-${task}`}>
      {contract && (
        <div className="contract-cols">
          <span className="contract-title" title="The output's declared columns, checked after each run">
            Schema contract{contract.strict ? ' (strict)' : ''}
          </span>
          {contract.columns.map((c) => (
            <span key={c.name} className="contract-col" data-testid={`contract-col-${task}-${c.name}`}>
              <span className="mono">{c.name}</span> <span className="contract-dtype">{c.dtype}</span>
              {columnRules(c).map((r) => (
                <span key={r} className="contract-rule">
                  {r}
                </span>
              ))}
            </span>
          ))}
          {contract.strict && <span className="muted contract-note">no other columns</span>}
        </div>
      )}
      {failure && (
        <div className="contract-violations" data-testid={`contract-violations-${task}`}>
          <span className="err">The last run broke the contract:</span>
          <ul>
            {failure.violations.map((v, i) => (
              <li key={i}>{v}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** "Contract ▾" in the output panel's bar: the same view in a drop-down (flagged when the run broke it). */
export function ContractMenu(props: SchemaContractProps) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLSpanElement>(null);
  useDismiss(open, [box], () => setOpen(false));
  const failed = contractFailure(props.error) !== null;
  if (!props.contract && !failed) return null;
  return (
    <span className="contract-menu" ref={box}>
      <button
        className={`pg-link${failed ? ' err' : ''}`}
        onClick={() => setOpen((o) => !o)}
        title="The output's declared schema"
        data-testid="output-contract"
        data-failed={failed ? 'true' : 'false'}
        aria-expanded={open}
      >
        {failed ? '⚠ Contract broken ▾' : `Contract · ${props.contract!.columns.length} columns ▾`}
      </button>
      {open && (
        <span className="contract-popup" tabIndex={-1} data-testid="output-contract-popup">
          <SchemaContract {...props} />
        </span>
      )}
    </span>
  );
}
