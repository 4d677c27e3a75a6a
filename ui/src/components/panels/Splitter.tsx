// The handle between two panels: drag it (mouse, pen or touch), or focus it and use the arrow
// keys (Shift: bigger steps), Enter to collapse or expand the panel, double-click to reset its size.
import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import { LIMITS, type PanelId } from './panelLayout';
import type { PanelLayoutApi } from './usePanelLayout';

export function Splitter({
  axis,
  grow,
  size,
  min,
  max,
  collapsed,
  label,
  controls,
  testId,
  className,
  onPreview,
  onResize,
  onToggle,
  onReset,
}: {
  /** 'x': a vertical bar that sets a width; 'y': a horizontal bar that sets a height. */
  axis: 'x' | 'y';
  /** +1 when dragging right (down) grows the panel, -1 when it shrinks it. */
  grow: 1 | -1;
  /** The panel's size as drawn now (px). */
  size: number;
  min: number;
  max: number;
  collapsed: boolean;
  /** What the handle resizes, for screen readers and the tooltip ("Explorer"). */
  label: string;
  /** Id of the panel element it resizes. */
  controls?: string;
  testId?: string;
  className?: string;
  onPreview: (px: number) => void;
  onResize: (px: number) => void;
  onToggle: () => void;
  onReset: () => void;
}) {
  const drag = useRef<{ start: number; size: number; last: number; moved: boolean } | null>(null);
  const at = (e: PointerEvent) => (axis === 'x' ? e.clientX : e.clientY);

  const down = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    e.currentTarget.focus({ preventScroll: true });
    drag.current = { start: at(e), size, last: size, moved: false };
    document.body.classList.add(axis === 'x' ? 'resizing-x' : 'resizing-y');
  };
  const move = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d) return;
    const px = d.size + (at(e) - d.start) * grow;
    if (Math.abs(px - d.size) < 2 && !d.moved) return;
    d.moved = true;
    d.last = px;
    onPreview(px);
  };
  const up = () => {
    const d = drag.current;
    drag.current = null;
    document.body.classList.remove('resizing-x', 'resizing-y');
    if (d?.moved) onResize(d.last);
  };
  const key = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 64 : 16;
    const less = axis === 'x' ? (grow > 0 ? 'ArrowLeft' : 'ArrowRight') : grow > 0 ? 'ArrowUp' : 'ArrowDown';
    const more = axis === 'x' ? (grow > 0 ? 'ArrowRight' : 'ArrowLeft') : grow > 0 ? 'ArrowDown' : 'ArrowUp';
    if (e.key === less) {
      if (!collapsed) onResize(Math.max(min, size - step));
    } else if (e.key === more) {
      if (collapsed) onToggle();
      else onResize(Math.min(max, size + step));
    }
    else if (e.key === 'Home') onResize(min);
    else if (e.key === 'End') onResize(max);
    else if (e.key === 'Enter' || e.key === ' ') onToggle();
    else return;
    e.preventDefault();
  };

  return (
    <div
      className={`splitter splitter-${axis}${collapsed ? ' is-collapsed' : ''}${className ? ` ${className}` : ''}`}
      role="separator"
      aria-orientation={axis === 'x' ? 'vertical' : 'horizontal'}
      aria-label={`Resize ${label}`}
      aria-controls={controls}
      aria-valuenow={Math.round(collapsed ? 0 : size)}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      title={`Drag to resize the ${label.toLowerCase()}; double-click to reset, Enter to ${collapsed ? 'expand' : 'collapse'}`}
      data-testid={testId}
      onPointerDown={down}
      onPointerMove={move}
      onPointerUp={up}
      onPointerCancel={up}
      onLostPointerCapture={up}
      onDoubleClick={onReset}
      onKeyDown={key}
    >
      <span className="splitter-hit" />
    </div>
  );
}

/** The splitter of one workbench panel, wired to the layout state. */
export function PanelSplitter({ panels, id, label }: { panels: PanelLayoutApi; id: PanelId; label: string }) {
  return (
    <Splitter
      axis={id === 'output' ? 'y' : 'x'}
      grow={id === 'explorer' ? 1 : -1}
      size={panels.fitted[id]}
      min={LIMITS[id].min}
      max={LIMITS[id].max}
      collapsed={panels.fitted.collapsed[id]}
      label={label}
      controls={`panel-${id}`}
      testId={`splitter-${id}`}
      className={`split-${id}`}
      onPreview={(px) => panels.preview(id, px)}
      onResize={(px) => panels.resize(id, px)}
      onToggle={() => panels.toggle(id)}
      onReset={() => panels.reset(id)}
    />
  );
}
