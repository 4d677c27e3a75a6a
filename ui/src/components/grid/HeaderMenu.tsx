import { useRef } from 'react';
import { useDismiss } from '../useDismiss';
import type { SortDir } from './viewQuery';

export interface HeaderMenuAction {
  sort: (dir: SortDir | null) => void;
  filter: () => void;
  selectColumn: () => void;
}

/** The column menu (the header's ▾): sort, filter, select for copy. Closes on Escape or an outside click. */
export function HeaderMenu({
  column,
  at,
  sorted,
  actions,
  onClose,
}: {
  column: string;
  at: { x: number; y: number };
  sorted: SortDir | null;
  actions: HeaderMenuAction;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useDismiss(true, [ref], onClose);

  const item = (testId: string, label: string, run: () => void, disabled = false) => (
    <button
      className="pg-menu-item"
      data-testid={testId}
      disabled={disabled}
      onClick={() => {
        run();
        onClose();
      }}
    >
      {label}
    </button>
  );

  return (
    <div className="pg-menu" ref={ref} style={{ left: at.x, top: at.y }} data-testid="grid-header-menu" role="menu">
      <div className="pg-menu-title">{column}</div>
      {item('grid-menu-sort-asc', 'Sort ascending', () => actions.sort('asc'), sorted === 'asc')}
      {item('grid-menu-sort-desc', 'Sort descending', () => actions.sort('desc'), sorted === 'desc')}
      {item('grid-menu-sort-none', 'Clear sort', () => actions.sort(null), sorted === null)}
      <div className="pg-menu-sep" />
      {item('grid-menu-filter', 'Filter…', actions.filter)}
      {item('grid-menu-select', 'Select column', actions.selectColumn)}
    </div>
  );
}
