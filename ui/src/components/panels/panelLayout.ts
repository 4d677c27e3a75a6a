// The workbench's panel layout as data: the explorer's and the runs panel's widths, the output
// panel's height, which are collapsed, and whether the output fills the centre. Sizes are what the
// user chose (pixels, remembered per workspace); `fitLayout` turns them into sizes that fit the
// window now, without changing what is remembered (a small window does not shrink a big choice).

export type PanelId = 'explorer' | 'side' | 'output';

export interface PanelLayout {
  /** Explorer width (px). */
  explorer: number;
  /** Runs panel width (px). */
  side: number;
  /** Output panel height (px); null: a share of the centre's height (the default). */
  output: number | null;
  collapsed: Record<PanelId, boolean>;
  /** The output panel fills the centre (the canvas or notebook is hidden). */
  maximized: boolean;
}

export const DEFAULT_LAYOUT: PanelLayout = {
  explorer: 220,
  side: 340,
  output: null,
  collapsed: { explorer: false, side: false, output: false },
  maximized: false,
};

/** Smallest and largest size a user may give a panel. */
export const LIMITS: Record<PanelId, { min: number; max: number }> = {
  explorer: { min: 160, max: 640 },
  side: { min: 260, max: 900 },
  output: { min: 100, max: 4000 },
};

/** Width of a collapsed side panel (its rail) and height of a collapsed output panel (its tabs). */
export const RAIL_W = 28;
export const TABS_H = 31;
/** Fixed heights above the centre's main view: the top bar and the pipeline's toolbar. */
export const TOPBAR_H = 36;
export const TOOLBAR_H = 38;
/** What the centre keeps for itself however big the panels are. */
export const CENTER_MIN_W = 420;
export const MAIN_MIN_H = 140;
/** The output's default share of the centre's height. */
export const OUTPUT_SHARE = 0.42;
/** A drag this far below a panel's minimum collapses it. */
export const COLLAPSE_BELOW = 0.5;

export const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), Math.max(lo, hi));

/** Room the centre's main view and output share (the window's height minus the bars above). */
export const centerHeight = (viewportHeight: number) => Math.max(0, viewportHeight - TOPBAR_H - TOOLBAR_H);

/** The output height the user chose, or the default share of `room`. */
export function outputWanted(l: PanelLayout, room: number): number {
  return l.output ?? Math.round(room * OUTPUT_SHARE);
}

export interface FittedLayout {
  /** Column widths and output height to draw now (collapsed panels at their rail/tab size). */
  explorer: number;
  side: number;
  output: number;
  collapsed: Record<PanelId, boolean>;
  maximized: boolean;
}

/**
 * Sizes that fit a `width`×`height` window: each panel within its limits, the centre at least
 * CENTER_MIN_W wide (the runs panel gives way first, then the explorer, never below their
 * minimum) and the main view at least MAIN_MIN_H high.
 */
export function fitLayout(l: PanelLayout, viewport: { width: number; height: number }): FittedLayout {
  const c = l.collapsed;
  let explorer = c.explorer ? RAIL_W : clamp(l.explorer, LIMITS.explorer.min, LIMITS.explorer.max);
  let side = c.side ? RAIL_W : clamp(l.side, LIMITS.side.min, LIMITS.side.max);
  let over = explorer + side + CENTER_MIN_W - viewport.width;
  if (over > 0 && !c.side) {
    const give = Math.min(over, side - LIMITS.side.min);
    side -= give;
    over -= give;
  }
  if (over > 0 && !c.explorer) explorer -= Math.min(over, explorer - LIMITS.explorer.min);
  const room = centerHeight(viewport.height);
  const output = l.maximized
    ? room
    : c.output
      ? TABS_H
      : clamp(outputWanted(l, room), LIMITS.output.min, Math.min(LIMITS.output.max, room - MAIN_MIN_H));
  return { explorer, side, output, collapsed: { ...c }, maximized: l.maximized };
}

/**
 * A splitter dragged to `px`: the new layout. Below half the minimum collapses the panel; a
 * collapsed panel dragged out past its rail opens again at the size dragged to.
 */
export function resizePanel(l: PanelLayout, id: PanelId, px: number): PanelLayout {
  const { min, max } = LIMITS[id];
  const rest = id === 'output' ? TABS_H : RAIL_W;
  if (px < Math.max(rest + 8, min * COLLAPSE_BELOW)) return { ...l, collapsed: { ...l.collapsed, [id]: true } };
  const size = Math.round(clamp(px, min, max));
  return { ...l, [id]: size, collapsed: { ...l.collapsed, [id]: false }, maximized: id === 'output' ? false : l.maximized };
}

export function toggleCollapsed(l: PanelLayout, id: PanelId): PanelLayout {
  const collapsed = !l.collapsed[id];
  // Collapsing a maximized output restores the centre first.
  return { ...l, collapsed: { ...l.collapsed, [id]: collapsed }, maximized: id === 'output' && collapsed ? false : l.maximized };
}

export function toggleMaximized(l: PanelLayout): PanelLayout {
  return { ...l, maximized: !l.maximized, collapsed: { ...l.collapsed, output: false } };
}

/** Reads a stored layout; anything missing or malformed falls back to the default. */
export function parseLayout(text: string | null): PanelLayout {
  if (!text) return DEFAULT_LAYOUT;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return DEFAULT_LAYOUT;
  }
  if (!v || typeof v !== 'object') return DEFAULT_LAYOUT;
  const o = v as Record<string, unknown>;
  const num = (x: unknown, d: number) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? Math.round(x) : d);
  const col = (o.collapsed && typeof o.collapsed === 'object' ? o.collapsed : {}) as Record<string, unknown>;
  return {
    explorer: clamp(num(o.explorer, DEFAULT_LAYOUT.explorer), LIMITS.explorer.min, LIMITS.explorer.max),
    side: clamp(num(o.side, DEFAULT_LAYOUT.side), LIMITS.side.min, LIMITS.side.max),
    output: typeof o.output === 'number' ? clamp(num(o.output, 0), LIMITS.output.min, LIMITS.output.max) : null,
    collapsed: { explorer: col.explorer === true, side: col.side === true, output: col.output === true },
    maximized: o.maximized === true,
  };
}

/** The localStorage key of a workspace's layout (the desktop app's workspace, else the runner's URL). */
export function layoutKey(workspace: string): string {
  return `polder.layout:${workspace.replace(/\/+$/, '')}`;
}

/** The focus regions F6 cycles through, in order. */
export const REGIONS = ['explorer', 'main', 'side', 'output'] as const;
export type Region = (typeof REGIONS)[number];

/**
 * The region after `current` (before it with `backwards`) among those `open` now; from outside
 * every region, the first (or last). Null when none is open.
 */
export function nextRegion(current: Region | null, open: readonly Region[], backwards = false): Region | null {
  const order = REGIONS.filter((r) => open.includes(r));
  if (order.length === 0) return null;
  const step = backwards ? -1 : 1;
  if (current === null) return backwards ? order[order.length - 1]! : order[0]!;
  let i = REGIONS.indexOf(current);
  for (let n = 0; n < REGIONS.length; n++) {
    i = (i + step + REGIONS.length) % REGIONS.length;
    if (order.includes(REGIONS[i]!)) return REGIONS[i]!;
  }
  return null;
}
