import './overlay.css';
import { useEffect } from 'react';
import { display, isMac, SHORTCUTS, VIEW_SHORTCUTS } from '../shortcuts';

/** The keyboard shortcuts, as an overlay (Shift+? opens it, Escape or a click outside closes it). */
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  const mac = isMac();
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [onClose]);
  const views = [...new Set(VIEW_SHORTCUTS.map((s) => s.view))];
  return (
    <div className="overlay" onClick={onClose} data-testid="shortcuts-help">
      <div className="dialog" onClick={(e) => e.stopPropagation()} role="dialog" aria-label="Keyboard shortcuts">
        <h3>Keyboard shortcuts</h3>
        <table className="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <Row key={s.id} combo={display(s.combo, mac)} label={s.label} />
            ))}
            {views.map((v) => [
              <tr key={v}>
                <th colSpan={2}>{v}</th>
              </tr>,
              ...VIEW_SHORTCUTS.filter((s) => s.view === v).map((s) => (
                <Row key={`${v}-${s.combo}`} combo={display(s.combo, mac)} label={s.label} />
              )),
            ])}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Row({ combo, label }: { combo: string; label: string }) {
  return (
    <tr>
      <td>
        <kbd>{combo}</kbd>
      </td>
      <td>{label}</td>
    </tr>
  );
}
