import { describe, expect, it } from 'vitest';
import {
  CENTER_MIN_W,
  DEFAULT_LAYOUT,
  fitLayout,
  layoutKey,
  LIMITS,
  MAIN_MIN_H,
  nextRegion,
  parseLayout,
  RAIL_W,
  resizePanel,
  TABS_H,
  toggleCollapsed,
  toggleMaximized,
  TOOLBAR_H,
  TOPBAR_H,
  type PanelLayout,
} from './panelLayout';

const big = { width: 1920, height: 1080 };
const room = (h: number) => h - TOPBAR_H - TOOLBAR_H;

describe('fitLayout', () => {
  it('draws the default layout with the output at its share of the centre', () => {
    const f = fitLayout(DEFAULT_LAYOUT, big);
    expect(f.explorer).toBe(220);
    expect(f.side).toBe(340);
    expect(f.output).toBe(Math.round(room(1080) * 0.42));
  });

  it('keeps the chosen sizes within their limits', () => {
    const l: PanelLayout = { ...DEFAULT_LAYOUT, explorer: 5, side: 5000, output: 20 };
    const f = fitLayout(l, { width: 3840, height: 2160 });
    expect(f.explorer).toBe(LIMITS.explorer.min);
    expect(f.side).toBe(LIMITS.side.max);
    expect(f.output).toBe(LIMITS.output.min);
  });

  it('gives the centre its minimum width: the runs panel yields first, then the explorer', () => {
    const l: PanelLayout = { ...DEFAULT_LAYOUT, explorer: 400, side: 600 };
    const f = fitLayout(l, { width: 1280, height: 720 });
    expect(f.explorer + f.side + CENTER_MIN_W).toBe(1280);
    expect(f.explorer).toBe(400);
    const tiny = fitLayout(l, { width: 800, height: 720 });
    expect(tiny.side).toBe(LIMITS.side.min);
    expect(tiny.explorer).toBe(LIMITS.explorer.min);
  });

  it('leaves the chosen sizes alone when the window is big enough', () => {
    const l: PanelLayout = { ...DEFAULT_LAYOUT, explorer: 400, side: 600 };
    expect(fitLayout(l, big)).toMatchObject({ explorer: 400, side: 600 });
  });

  it('keeps room for the main view above the output', () => {
    const f = fitLayout({ ...DEFAULT_LAYOUT, output: 3000 }, { width: 1280, height: 720 });
    expect(f.output).toBe(room(720) - MAIN_MIN_H);
  });

  it('draws collapsed panels as rails and the collapsed output as its tabs', () => {
    const l: PanelLayout = { ...DEFAULT_LAYOUT, collapsed: { explorer: true, side: true, output: true } };
    expect(fitLayout(l, big)).toMatchObject({ explorer: RAIL_W, side: RAIL_W, output: TABS_H });
  });

  it('gives a maximized output the whole centre', () => {
    expect(fitLayout(toggleMaximized(DEFAULT_LAYOUT), big).output).toBe(room(1080));
  });
});

describe('resizePanel', () => {
  it('takes the dropped size, within limits', () => {
    expect(resizePanel(DEFAULT_LAYOUT, 'explorer', 301.6).explorer).toBe(302);
    expect(resizePanel(DEFAULT_LAYOUT, 'explorer', 120).explorer).toBe(LIMITS.explorer.min);
    expect(resizePanel(DEFAULT_LAYOUT, 'side', 99999).side).toBe(LIMITS.side.max);
  });

  it('collapses a panel dragged far below its minimum, and opens it when dragged out', () => {
    const c = resizePanel(DEFAULT_LAYOUT, 'side', 40);
    expect(c.collapsed.side).toBe(true);
    expect(c.side).toBe(DEFAULT_LAYOUT.side); // the size it comes back to
    const o = resizePanel(c, 'side', 500);
    expect(o.collapsed.side).toBe(false);
    expect(o.side).toBe(500);
  });

  it('ends the output maximized when its splitter moves', () => {
    const m = toggleMaximized(DEFAULT_LAYOUT);
    expect(resizePanel(m, 'output', 300)).toMatchObject({ output: 300, maximized: false });
  });
});

describe('toggles', () => {
  it('collapse and expand keep the size', () => {
    const l = { ...DEFAULT_LAYOUT, explorer: 333 };
    const c = toggleCollapsed(l, 'explorer');
    expect(c.collapsed.explorer).toBe(true);
    expect(toggleCollapsed(c, 'explorer')).toEqual(l);
  });

  it('maximizing opens a collapsed output; collapsing ends the maximize', () => {
    const m = toggleMaximized(toggleCollapsed(DEFAULT_LAYOUT, 'output'));
    expect(m).toMatchObject({ maximized: true, collapsed: { output: false } });
    expect(toggleCollapsed(m, 'output')).toMatchObject({ maximized: false, collapsed: { output: true } });
  });
});

describe('parseLayout', () => {
  it('round-trips a layout through JSON', () => {
    const l: PanelLayout = { explorer: 300, side: 420, output: 380, collapsed: { explorer: false, side: true, output: false }, maximized: true };
    expect(parseLayout(JSON.stringify(l))).toEqual(l);
  });

  it('falls back to the default for anything missing or malformed', () => {
    expect(parseLayout(null)).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('not json')).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('42')).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('{"explorer":"wide","side":-3,"output":"x","collapsed":{"side":"yes"}}')).toEqual(DEFAULT_LAYOUT);
    expect(parseLayout('{"explorer":99999,"output":1}')).toMatchObject({ explorer: LIMITS.explorer.max, output: LIMITS.output.min });
  });

  it('keys layouts by workspace', () => {
    expect(layoutKey('http://127.0.0.1:7878/')).toBe('polder.layout:http://127.0.0.1:7878');
    expect(layoutKey('/home/me/ws')).not.toBe(layoutKey('/home/me/other'));
  });
});

describe('nextRegion', () => {
  const all = ['explorer', 'main', 'side', 'output'] as const;
  it('cycles forwards and backwards', () => {
    expect(nextRegion('explorer', all)).toBe('main');
    expect(nextRegion('output', all)).toBe('explorer');
    expect(nextRegion('explorer', all, true)).toBe('output');
    expect(nextRegion('side', all, true)).toBe('main');
  });

  it('skips closed regions and starts from the first (or last) outside any', () => {
    expect(nextRegion('main', ['explorer', 'main', 'output'])).toBe('output');
    expect(nextRegion(null, all)).toBe('explorer');
    expect(nextRegion(null, all, true)).toBe('output');
    expect(nextRegion('side', ['main'])).toBe('main');
    expect(nextRegion('main', [])).toBeNull();
  });
});
