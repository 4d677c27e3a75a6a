// Where nodes go: saved positions win; a node without one keeps the place elk gave it relative to a
// neighbour that already has a position (so a new task appears beside its upstream, wherever the
// user moved that one), then moves down until it overlaps nothing.
import type { Positions, XY } from '../../api/authoring';
import type { Edge } from '../../api/types';

export const NODE_W = 188;
export const NODE_H = 58;
const GAP = 16;

const overlaps = (a: XY, b: XY) => Math.abs(a.x - b.x) < NODE_W + GAP && Math.abs(a.y - b.y) < NODE_H + GAP;
const dist2 = (a: XY, b: XY) => (a.x - b.x) ** 2 + (a.y - b.y) ** 2;

/**
 * Positions of every id: `saved` where present, else derived from `elk` (a full layered layout of
 * the graph). With nothing saved, the elk layout is used as is.
 */
export function placeNodes(ids: string[], edges: Edge[], saved: Positions, elk: Positions): Positions {
  const out: Positions = {};
  for (const id of ids) if (saved[id]) out[id] = saved[id]!;
  if (Object.keys(out).length === 0) {
    for (const id of ids) out[id] = elk[id] ?? { x: 0, y: 0 };
    return out;
  }
  const ups = (id: string) => edges.filter((e) => e.to === id).map((e) => e.from);
  const downs = (id: string) => edges.filter((e) => e.from === id).map((e) => e.to);
  for (const id of ids) {
    if (out[id]) continue;
    const own = elk[id] ?? { x: 0, y: 0 };
    const anchor =
      ups(id).find((u) => out[u] && elk[u]) ??
      downs(id).find((d) => out[d] && elk[d]) ??
      nearestPlaced(own, out, elk);
    let pos: XY;
    if (anchor) {
      const a = out[anchor]!;
      const ea = elk[anchor]!;
      pos = { x: a.x + own.x - ea.x, y: a.y + own.y - ea.y };
    } else {
      pos = { ...own };
    }
    out[id] = freeSpot(pos, Object.values(out));
  }
  return out;
}

function nearestPlaced(p: XY, placed: Positions, elk: Positions): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const id of Object.keys(placed)) {
    const e = elk[id];
    if (!e) continue;
    const d = dist2(p, e);
    if (d < bestD) [best, bestD] = [id, d];
  }
  return best;
}

/** `p`, moved down one row at a time until it overlaps no node in `taken`. */
export function freeSpot(p: XY, taken: XY[]): XY {
  let pos = p;
  for (let i = 0; i < 1000 && taken.some((t) => overlaps(t, pos)); i++) pos = { x: pos.x, y: pos.y + NODE_H + GAP };
  return pos;
}

/** Horizontal room between a task and one added beside it (ELK's layer spacing plus a little). */
export const BESIDE_GAP = 64;

/**
 * Where a task added from the palette by a click goes: right of `beside` (the selected task), else
 * centred on `center` (the middle of the view); moved down until it overlaps no node.
 */
export function spotForNew(beside: XY | null, center: XY, taken: XY[]): XY {
  const start = beside ? { x: beside.x + NODE_W + BESIDE_GAP, y: beside.y } : { x: center.x - NODE_W / 2, y: center.y - NODE_H / 2 };
  return freeSpot(start, taken);
}
