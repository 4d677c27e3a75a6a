import ELK from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { Positions } from '../api/authoring';
import type { Edge } from '../api/types';
import { NODE_H, NODE_W } from './canvas/placement';

export { NODE_H, NODE_W };
export type { Positions };

let elk: InstanceType<typeof ELK> | null = null;
function getElk() {
  // One worker for the app's lifetime (layouts are small and infrequent).
  elk ??= new ELK({ workerUrl: elkWorkerUrl });
  return elk;
}

/** Layered left-to-right layout of every task, computed in the ELK web worker. */
export async function layoutDag(tasks: { id: string }[], edges: Edge[]): Promise<Positions> {
  const ids = new Set(tasks.map((t) => t.id));
  const graph = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
      'elk.spacing.nodeNode': '24',
      'elk.layered.thoroughness': '1',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: tasks.map((t) => ({ id: t.id, width: NODE_W, height: NODE_H })),
    edges: edges
      .filter((e) => ids.has(e.from) && ids.has(e.to))
      .map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
  };
  const res = await getElk().layout(graph);
  const out: Positions = {};
  for (const c of res.children ?? []) out[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  return out;
}
