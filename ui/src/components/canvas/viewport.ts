// Readability of the canvas: the level of detail nodes are drawn at for a zoom, and a Fit that
// never zooms out so far that node labels become unreadable.
//
// Full nodes (zoom ≥ FULL_ZOOM) show the id at 13 px, kind, engine, rows and duration. Below that
// nodes turn compact: the id alone, in a font that grows as the zoom shrinks so it stays about
// LABEL_SCREEN_PX on screen (11.5 px), wrapping at `_` onto two lines — until MAX_LABEL_PX, the largest
// font two lines of which fit in a node. READABLE_ZOOM is that point: Fit goes no lower.
import type { XY } from '../../api/authoring';

/** Size on screen (px) of node labels at any zoom from READABLE_ZOOM up. */
export const LABEL_SCREEN_PX = 11.5;
/** Label font (flow px) of full nodes. */
export const FULL_LABEL_PX = 13;
/** Largest compact label font (flow px): two lines of it (line height 1.18) fit in a node (NODE_H 58, 2 px padding). */
export const MAX_LABEL_PX = 22;
/** From this zoom up nodes are full: 13 px × zoom ≥ LABEL_SCREEN_PX. */
export const FULL_ZOOM = LABEL_SCREEN_PX / FULL_LABEL_PX;
/** The lowest zoom at which labels are still LABEL_SCREEN_PX on screen. */
export const READABLE_ZOOM = LABEL_SCREEN_PX / MAX_LABEL_PX;

export type Lod = 'full' | 'compact';

/** The level of detail and the label font (flow px) at `zoom`. */
export function lodFor(zoom: number): { level: Lod; labelPx: number } {
  if (!(zoom > 0)) return { level: 'compact', labelPx: MAX_LABEL_PX };
  if (zoom >= FULL_ZOOM - 1e-9) return { level: 'full', labelPx: FULL_LABEL_PX };
  // Rounded up to a quarter pixel: a new font size only every few percent of zoom.
  const px = Math.ceil((LABEL_SCREEN_PX / zoom) * 4) / 4;
  return { level: 'compact', labelPx: Math.min(MAX_LABEL_PX, Math.max(FULL_LABEL_PX, px)) };
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}
/** Room kept free at each side of the canvas (px): the palette, the tools, the controls. */
export interface Insets {
  top: number;
  right: number;
  bottom: number;
  left: number;
}
export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/**
 * The viewport showing `bounds` (flow coordinates) in a `view` of that size. The whole graph when it
 * fits at READABLE_ZOOM or more (centred, at most `maxZoom`); else at `minZoom` with the part
 * around `focus` (the selected task) in view, or the start of the graph (its left, its top) — the
 * graph's edges never leave empty canvas behind. `whole` says whether everything is in view.
 */
export function readableFit(
  bounds: Rect,
  view: { width: number; height: number },
  insets: Insets,
  opts: { maxZoom?: number; minZoom?: number; focus?: XY | null } = {},
): Viewport & { whole: boolean } {
  const maxZoom = opts.maxZoom ?? 1.25;
  const minZoom = opts.minZoom ?? READABLE_ZOOM;
  const w = Math.max(1, view.width - insets.left - insets.right);
  const h = Math.max(1, view.height - insets.top - insets.bottom);
  const bw = Math.max(1, bounds.width);
  const bh = Math.max(1, bounds.height);
  const fit = Math.min(w / bw, h / bh, maxZoom);
  const zoom = Math.max(fit, Math.min(minZoom, maxZoom));
  /** Viewport offset on one axis: centred when it fits, else around the focus, clamped to the graph. */
  const axis = (start: number, size: number, room: number, inset: number, focus: number | undefined) => {
    const scaled = size * zoom;
    if (scaled <= room + 0.5) return inset + (room - scaled) / 2 - start * zoom;
    const lo = inset + room - (start + size) * zoom; // graph's end at the view's end
    const hi = inset - start * zoom; // graph's start at the view's start
    if (focus === undefined) return hi;
    return Math.min(hi, Math.max(lo, inset + room / 2 - focus * zoom));
  };
  const x = axis(bounds.x, bw, w, insets.left, opts.focus?.x);
  const y = axis(bounds.y, bh, h, insets.top, opts.focus?.y);
  return { x, y, zoom, whole: bw * zoom <= w + 0.5 && bh * zoom <= h + 0.5 };
}

/** Whether two viewports are the same to the eye (a Fit pressed again). */
export const sameViewport = (a: Viewport, b: Viewport) =>
  Math.abs(a.x - b.x) < 1 && Math.abs(a.y - b.y) < 1 && Math.abs(a.zoom - b.zoom) < 0.002;

/** The bounding box of nodes of one size placed at `positions`. */
export function boundsOf(positions: XY[], size: { width: number; height: number }): Rect | null {
  if (!positions.length) return null;
  const xs = positions.map((p) => p.x);
  const ys = positions.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) + size.width - x, height: Math.max(...ys) + size.height - y };
}
