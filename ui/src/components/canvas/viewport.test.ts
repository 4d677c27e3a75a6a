import { describe, expect, it } from 'vitest';
import { boundsOf, FULL_LABEL_PX, FULL_ZOOM, LABEL_SCREEN_PX, lodFor, MAX_LABEL_PX, READABLE_ZOOM, readableFit, sameViewport } from './viewport';

describe('lodFor', () => {
  it('draws full nodes from FULL_ZOOM up, where 13 px labels are at least the screen size', () => {
    expect(lodFor(1)).toEqual({ level: 'full', labelPx: FULL_LABEL_PX });
    expect(lodFor(FULL_ZOOM)).toEqual({ level: 'full', labelPx: FULL_LABEL_PX });
    expect(FULL_LABEL_PX * FULL_ZOOM).toBeGreaterThanOrEqual(11);
  });
  it('draws compact nodes below, their labels growing so they stay the screen size', () => {
    for (const z of [0.88, 0.75, 0.6, READABLE_ZOOM]) {
      const l = lodFor(z);
      expect(l.level).toBe('compact');
      expect(l.labelPx * z).toBeGreaterThanOrEqual(LABEL_SCREEN_PX - 1e-9);
      expect(l.labelPx).toBeLessThanOrEqual(MAX_LABEL_PX);
    }
  });
  it('stops growing at MAX_LABEL_PX, below READABLE_ZOOM', () => {
    expect(lodFor(0.3)).toEqual({ level: 'compact', labelPx: MAX_LABEL_PX });
    expect(lodFor(0)).toEqual({ level: 'compact', labelPx: MAX_LABEL_PX });
    expect(READABLE_ZOOM).toBeCloseTo(LABEL_SCREEN_PX / MAX_LABEL_PX);
  });
});

describe('readableFit', () => {
  const none = { top: 0, right: 0, bottom: 0, left: 0 };
  it('centres a graph that fits, zoom capped', () => {
    const v = readableFit({ x: 0, y: 0, width: 200, height: 100 }, { width: 1000, height: 500 }, none, { maxZoom: 1.25 });
    expect(v).toEqual({ x: 375, y: 187.5, zoom: 1.25, whole: true });
  });
  it('fits the whole graph when that zoom is readable, within the insets', () => {
    const v = readableFit({ x: 100, y: 0, width: 1000, height: 100 }, { width: 900, height: 400 }, { top: 40, right: 0, bottom: 0, left: 100 });
    expect(v.zoom).toBeCloseTo(0.8);
    expect(v.x).toBeCloseTo(100 - 100 * 0.8);
    expect(v.whole).toBe(true);
  });
  it('stays at the readable zoom for a graph too wide, showing its start', () => {
    const v = readableFit({ x: 50, y: 10, width: 2000, height: 100 }, { width: 720, height: 370 }, { top: 0, right: 0, bottom: 0, left: 100 });
    expect(v.zoom).toBeCloseTo(READABLE_ZOOM);
    expect(v.x).toBeCloseTo(100 - 50 * READABLE_ZOOM);
    expect(v.whole).toBe(false);
    // Vertically it fits: centred.
    expect(v.y + (10 + 50) * v.zoom).toBeCloseTo(185);
  });
  it('keeps the focus (the selected task) in the middle, without leaving empty canvas past the graph', () => {
    const b = { x: 0, y: 0, width: 2000, height: 100 };
    const mid = readableFit(b, { width: 600, height: 300 }, none, { focus: { x: 1000, y: 50 } });
    expect(mid.x + 1000 * mid.zoom).toBeCloseTo(300);
    const end = readableFit(b, { width: 600, height: 300 }, none, { focus: { x: 1990, y: 50 } });
    expect(end.x + 2000 * end.zoom).toBeCloseTo(600);
  });
  it('goes as low as asked: the overview', () => {
    const v = readableFit({ x: 0, y: 0, width: 2000, height: 100 }, { width: 500, height: 300 }, none, { minZoom: 0.05 });
    expect(v.zoom).toBeCloseTo(0.25);
    expect(v.whole).toBe(true);
  });
  it('compares viewports to the eye, and bounds nodes', () => {
    expect(sameViewport({ x: 1, y: 2, zoom: 0.5 }, { x: 1.4, y: 2.3, zoom: 0.5005 })).toBe(true);
    expect(sameViewport({ x: 1, y: 2, zoom: 0.5 }, { x: 10, y: 2, zoom: 0.5 })).toBe(false);
    expect(boundsOf([{ x: 10, y: 0 }, { x: 100, y: 50 }], { width: 20, height: 10 })).toEqual({ x: 10, y: 0, width: 110, height: 60 });
    expect(boundsOf([], { width: 1, height: 1 })).toBeNull();
  });
});
