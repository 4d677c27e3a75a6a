import { describe, expect, it } from 'vitest';
import { BESIDE_GAP, freeSpot, NODE_H, NODE_W, placeNodes, spotForNew } from './placement';

const edges = [
  { from: 'a', to: 'b' },
  { from: 'b', to: 'c' },
];
const elk = { a: { x: 0, y: 0 }, b: { x: 250, y: 0 }, c: { x: 500, y: 0 } };

describe('placeNodes', () => {
  it('uses the elk layout as is when nothing is saved', () => {
    expect(placeNodes(['a', 'b', 'c'], edges, {}, elk)).toEqual(elk);
  });

  it('keeps saved positions and puts a new node where elk put it relative to its upstream', () => {
    const saved = { a: { x: 1000, y: 400 }, b: { x: 1300, y: 420 } };
    expect(placeNodes(['a', 'b', 'c'], edges, saved, elk)).toEqual({ ...saved, c: { x: 1550, y: 420 } });
  });

  it('anchors on a downstream node when no upstream is placed', () => {
    const saved = { c: { x: 100, y: 100 } };
    const out = placeNodes(['a', 'b', 'c'], edges, saved, elk);
    expect(out.b).toEqual({ x: -150, y: 100 });
    expect(out.a).toEqual({ x: -400, y: 100 });
  });

  it('ignores saved positions of tasks that no longer exist', () => {
    expect(placeNodes(['a'], [], { gone: { x: 5, y: 5 } }, { a: { x: 1, y: 2 } })).toEqual({ a: { x: 1, y: 2 } });
  });

  it('moves a new node down when its spot is taken', () => {
    const saved = { a: { x: 0, y: 0 }, x: { x: 250, y: 0 } };
    const out = placeNodes(['a', 'x', 'b'], [{ from: 'a', to: 'b' }], saved, { a: { x: 0, y: 0 }, x: { x: 0, y: 300 }, b: { x: 250, y: 0 } });
    expect(out.b!.x).toBe(250);
    expect(out.b!.y).toBeGreaterThanOrEqual(NODE_H);
  });
});

describe('freeSpot', () => {
  it('returns the spot itself when free', () => {
    expect(freeSpot({ x: 0, y: 0 }, [{ x: 500, y: 0 }])).toEqual({ x: 0, y: 0 });
  });
  it('steps down past every overlapping node', () => {
    const p = freeSpot({ x: 0, y: 0 }, [{ x: 10, y: 0 }, { x: 0, y: NODE_H + 16 }]);
    expect(p.y).toBe(2 * (NODE_H + 16));
  });
});

describe('spotForNew', () => {
  it('goes right of the selected task, below whatever is there already', () => {
    const sel = { x: 100, y: 40 };
    expect(spotForNew(sel, { x: 0, y: 0 }, [sel])).toEqual({ x: 100 + NODE_W + BESIDE_GAP, y: 40 });
    const taken = [sel, { x: 100 + NODE_W + BESIDE_GAP, y: 40 }];
    expect(spotForNew(sel, { x: 0, y: 0 }, taken).y).toBeGreaterThanOrEqual(40 + NODE_H);
  });
  it('is centred on the middle of the view with nothing selected', () => {
    expect(spotForNew(null, { x: 500, y: 300 }, [])).toEqual({ x: 500 - NODE_W / 2, y: 300 - NODE_H / 2 });
  });
});
