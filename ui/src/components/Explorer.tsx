import type { ReactNode } from 'react';
import type { PipelineSummary } from '../api/types';
import { CollapseButton, PanelRail } from './panels/PanelRail';

export function Explorer(props: {
  pipelines: PipelineSummary[] | null;
  error: string | null;
  selected: string | null;
  onSelect: (name: string) => void;
  onReload: () => void;
  /** Sections below the pipelines (the datasets). */
  children?: ReactNode;
  /** Collapsed to a rail; `onToggle` collapses or expands. */
  collapsed?: boolean;
  onToggle?: () => void;
}) {
  const { pipelines, error, selected, onSelect, onReload, children, collapsed, onToggle } = props;
  if (collapsed)
    return (
      <aside className="explorer collapsed" id="panel-explorer" data-region="explorer" data-collapsed="true">
        <PanelRail label="Explorer" edge="left" onExpand={() => onToggle?.()} testId="explorer-rail" />
      </aside>
    );
  return (
    <aside className="explorer" id="panel-explorer" data-region="explorer" tabIndex={-1} aria-label="Explorer">
      <div className="panel-title">
        <span>Pipelines</span>
        <span className="panel-title-tools">
          <button className="icon" title="Reload pipelines" onClick={onReload}>⟳</button>
          {onToggle && <CollapseButton edge="left" label="Explorer" onCollapse={onToggle} testId="explorer-collapse" />}
        </span>
      </div>
      {error && <div className="error-box small">{error}</div>}
      {pipelines === null && !error && <div className="muted pad">Loading…</div>}
      {pipelines?.length === 0 && (
        <div className="empty pad">
          <b>No pipelines yet.</b>
          <p>Put a folder with a <code>pipeline.toml</code> in the runner's workspace, then press ⟳.</p>
        </div>
      )}
      <ul className="list">
        {pipelines?.map((p) =>
          p.name ? (
            <li
              key={p.dir}
              data-testid={`pipeline-${p.name}`}
              className={p.name === selected ? 'item selected' : 'item'}
              onClick={() => onSelect(p.name!)}
              title={p.description ?? p.name}
            >
              <div className="item-main">{p.name}</div>
              <div className="item-sub muted">
                {p.tasks ?? 0} {p.tasks === 1 ? 'task' : 'tasks'}{p.schedule ? ` · ${p.schedule}` : ''}
              </div>
            </li>
          ) : (
            <li
              key={p.dir}
              className={p.dir === selected ? 'item invalid selected' : 'item invalid'}
              title={p.error ?? ''}
              data-testid={`pipeline-${p.dir}`}
              onClick={() => onSelect(p.dir)}
            >
              <div className="item-main">{p.dir}</div>
              <div className="item-sub err">{p.error ?? 'invalid pipeline'}</div>
            </li>
          ),
        )}
      </ul>
      {children}
    </aside>
  );
}
