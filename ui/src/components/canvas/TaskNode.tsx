import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { createContext, memo, useContext, useEffect, useRef, useState } from 'react';
import { formatCount, formatDuration } from '../../api/runState';
import { NODE_H, NODE_W } from './placement';

export type TaskNodeData = {
  id: string;
  kind: string;
  state: string;
  rows: number | null;
  durationMs: number | null;
  renaming: boolean;
  editable: boolean;
  /** For SQL tasks: the engine the query runs on, and why `auto` did not pick Polars. */
  engine?: string;
  engineWhy?: string;
  /** Why the query would fail, planned over its inputs' schemas before any run. */
  problem?: string;
  /** For Python tasks: the function called and the tasks it reads (`run(sales) in by_region.py`). */
  call?: string;
  /** The task's definition changed since its last successful run. */
  changed?: boolean;
};
export type TaskNode = Node<TaskNodeData, 'task'>;

export const KIND_ICON: Record<string, string> = { source: '⇥', sql: 'Σ', validate: '✓', sink: '⇲', shell: '$', python: 'Py' };

/** Rename callbacks, shared by context so node data stays plain (and nodes stay memoized). */
export interface RenameActions {
  start(id: string): void;
  commit(from: string, to: string): void;
  cancel(): void;
}
export const RenameContext = createContext<RenameActions | null>(null);

function RenameInput({ id }: { id: string }) {
  const actions = useContext(RenameContext);
  const [value, setValue] = useState(id);
  const ref = useRef<HTMLInputElement>(null);
  // Blur commits like Enter does, unless Escape already cancelled.
  const done = useRef(false);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  const finish = (commit: boolean) => {
    if (done.current) return;
    done.current = true;
    if (commit && value.trim() && value.trim() !== id) actions?.commit(id, value.trim());
    else actions?.cancel();
  };
  return (
    <input
      ref={ref}
      className="dag-rename nodrag"
      data-testid="rename-input"
      value={value}
      spellCheck={false}
      onChange={(e) => setValue(e.target.value)}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') finish(true);
        if (e.key === 'Escape') finish(false);
      }}
      onBlur={() => finish(true)}
    />
  );
}

/** The id with a line-break opportunity after each `_`: compact nodes wrap long ids there. */
function breakable(id: string) {
  const parts = id.split('_');
  return parts.map((p, i) =>
    i < parts.length - 1 ? (
      <span key={i}>
        {p}_<wbr />
      </span>
    ) : (
      <span key={i}>{p}</span>
    ),
  );
}

const CHANGED = 'changed since the last successful run';

export const TaskNodeView = memo(function TaskNodeView({ data, selected }: NodeProps<TaskNode>) {
  const actions = useContext(RenameContext);
  const meta = [data.engine ? `${data.kind} · ${data.engine}` : data.kind];
  if (data.rows != null) meta.push(`${formatCount(data.rows)} rows`);
  if (data.durationMs != null) meta.push(formatDuration(data.durationMs));
  return (
    <div
      className={`dag-node state-${data.state}${selected ? ' is-selected' : ''}${data.problem ? ' has-problem' : ''}${data.changed ? ' is-changed' : ''}`}
      data-testid={`node-${data.id}`}
      data-state={data.state}
      style={{ width: NODE_W, height: NODE_H }}
      title={`${data.id} (${data.kind}) — ${data.state === 'none' ? 'not run' : data.state}${data.engineWhy ? `\nruns on DuckDB: ${data.engineWhy}` : ''}${data.call ? `\ncalls ${data.call}` : ''}${data.changed ? `\n${CHANGED}` : ''}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={data.editable} data-testid={`handle-in-${data.id}`} />
      <div className="dag-node-head">
        <span className={`dag-kind-icon kind-${data.kind}`}>{KIND_ICON[data.kind] ?? '•'}</span>
        {data.renaming ? (
          <RenameInput id={data.id} />
        ) : (
          <span
            className="dag-node-id"
            data-testid={`node-label-${data.id}`}
            onDoubleClick={(e) => {
              if (!data.editable) return;
              e.stopPropagation();
              actions?.start(data.id);
            }}
          >
            {breakable(data.id)}
          </span>
        )}
        {data.problem && (
          <span className="dag-node-problem" data-testid={`node-problem-${data.id}`} title={data.problem}>
            ⚠
          </span>
        )}
        {data.state !== 'none' && <span className={`dot state-${data.state}`} />}
      </div>
      <div className="dag-node-meta">
        <span className="ellipsis">{meta.join(' · ')}</span>
        {/* The dot says success; other states are worth words (failed, running, cached…). */}
        {data.state !== 'none' && data.state !== 'success' && <span className="dag-node-state">{data.state.replace('_', ' ')}</span>}
      </div>
      {data.changed && (
        <span className="dag-node-changed" data-testid={`node-changed-${data.id}`} title={CHANGED}>
          changed
        </span>
      )}
      {/* An indeterminate bar sliding along the node's foot while the task runs. */}
      {data.state === 'running' && <span className="dag-node-run" data-testid={`node-running-${data.id}`} aria-hidden="true" />}
      <Handle type="source" position={Position.Right} isConnectable={data.editable} data-testid={`handle-out-${data.id}`} />
    </div>
  );
});

export const nodeTypes = { task: TaskNodeView };
