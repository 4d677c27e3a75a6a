import { useEffect, useRef, type RefObject } from 'react';

/**
 * Closes a popover or menu on Escape and on a press outside it. `inside` are the elements that
 * count as the popover (usually the popover and the button that toggles it, so that button's own
 * click can toggle). Listens only while `open`.
 */
export function useDismiss(open: boolean, inside: readonly RefObject<HTMLElement | null>[], onClose: () => void): void {
  const latest = useRef({ inside, onClose });
  latest.current = { inside, onClose };
  useEffect(() => {
    if (!open) return;
    const down = (e: PointerEvent) => {
      const t = e.target as Node | null;
      if (t && latest.current.inside.some((r) => r.current?.contains(t))) return;
      latest.current.onClose();
    };
    const key = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      latest.current.onClose();
    };
    window.addEventListener('pointerdown', down, true);
    window.addEventListener('keydown', key, true);
    return () => {
      window.removeEventListener('pointerdown', down, true);
      window.removeEventListener('keydown', key, true);
    };
  }, [open]);
}
