import { useEffect, useRef } from 'react';

export interface MenuItem {
  label: string;
  shortcut?: string;
  testId: string;
  danger?: boolean;
  disabled?: boolean;
  run: () => void;
}

/** A small right-click menu at `at` (relative to the canvas); closes on outside click or Escape. */
export function ContextMenu({ at, items, onClose }: { at: { left: number; top: number }; items: MenuItem[]; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const down = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as globalThis.Node)) onClose();
    };
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('mousedown', down, true);
    window.addEventListener('keydown', key, true);
    return () => {
      window.removeEventListener('mousedown', down, true);
      window.removeEventListener('keydown', key, true);
    };
  }, [onClose]);
  return (
    <div ref={ref} className="dag-menu" role="menu" style={{ left: at.left, top: at.top }} data-testid="canvas-menu">
      {items.map((it) => (
        <button
          key={it.testId}
          role="menuitem"
          className={it.danger ? 'danger' : undefined}
          data-testid={it.testId}
          disabled={it.disabled}
          onClick={() => {
            onClose();
            it.run();
          }}
        >
          <span>{it.label}</span>
          {it.shortcut && <kbd>{it.shortcut}</kbd>}
        </button>
      ))}
    </div>
  );
}
