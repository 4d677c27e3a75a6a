/** A collapsed side panel: a narrow strip with its name, a click opens the panel again. */
export function PanelRail({ label, edge, onExpand, testId }: { label: string; edge: 'left' | 'right'; onExpand: () => void; testId?: string }) {
  return (
    <button className={`panel-rail rail-${edge}`} onClick={onExpand} title={`Show the ${label.toLowerCase()} panel`} data-testid={testId} aria-expanded={false}>
      <span className="rail-arrow">{edge === 'left' ? '»' : '«'}</span>
      <span className="rail-label">{label}</span>
    </button>
  );
}

/** The small ‹ / › button in a panel's title that collapses it. */
export function CollapseButton({ edge, label, onCollapse, testId }: { edge: 'left' | 'right'; label: string; onCollapse: () => void; testId?: string }) {
  return (
    <button className="icon panel-collapse" onClick={onCollapse} title={`Hide the ${label.toLowerCase()} panel`} data-testid={testId} aria-expanded>
      {edge === 'left' ? '«' : '»'}
    </button>
  );
}
