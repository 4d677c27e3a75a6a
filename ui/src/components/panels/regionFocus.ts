// F6 / Shift+F6: the focus moves between the workbench's regions (explorer, main view, runs,
// output), each an element with `data-region`. A region gets back the element that last had the
// focus in it, else its first focusable container (the canvas, the grid), else the region itself
// (focusable with tabIndex -1, outlined while focused).
import { nextRegion, REGIONS, type Region } from './panelLayout';

const lastFocused = new Map<Region, HTMLElement>();

const regionOf = (el: Element | null): Region | null => {
  const r = el?.closest<HTMLElement>('[data-region]')?.dataset.region;
  return r && (REGIONS as readonly string[]).includes(r) ? (r as Region) : null;
};

/** Records where the focus was in each region; call once (returns the unsubscribe). */
export function trackRegionFocus(): () => void {
  const on = (e: FocusEvent) => {
    const t = e.target as HTMLElement | null;
    const r = regionOf(t);
    if (r && t && !t.hasAttribute('data-region')) lastFocused.set(r, t);
  };
  document.addEventListener('focusin', on);
  return () => document.removeEventListener('focusin', on);
}

const shown = (el: HTMLElement) => el.isConnected && el.getClientRects().length > 0 && !el.closest('[aria-hidden="true"], [data-collapsed="true"]');

/** Regions on screen now (a collapsed panel or a hidden main view is skipped). */
export function openRegions(): Region[] {
  return REGIONS.filter((r) => {
    const el = document.querySelector<HTMLElement>(`[data-region="${r}"]`);
    return !!el && shown(el) && el.getAttribute('data-collapsed') !== 'true';
  });
}

/** Moves the focus to the next (previous) open region; returns the region focused. */
export function cycleRegionFocus(backwards = false): Region | null {
  const to = nextRegion(regionOf(document.activeElement), openRegions(), backwards);
  if (!to) return null;
  const el = document.querySelector<HTMLElement>(`[data-region="${to}"]`);
  if (!el) return null;
  const last = lastFocused.get(to);
  // Else the region's own focus target (the canvas, the grid), else the region itself.
  const inner = [...el.querySelectorAll<HTMLElement>('[tabindex="-1"], [tabindex="0"]')].find(shown);
  const target = last && el.contains(last) && shown(last) ? last : (inner ?? el);
  target.focus({ preventScroll: true });
  return to;
}
