import ELK from 'elkjs/lib/elk-api.js';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { Edge, TaskDef } from '../api/types';

export const NODE_W = 180;
export const NODE_H = 52;

export type Positions = Record<string, { x: number; y: number }>;

let elk: InstanceType<typeof ELK> | null = null;
function getElk() {
  // One worker for the app's lifetime (layouts are small and infrequent).
  elk ??= new ELK({ workerUrl: elkWorkerUrl });
  return elk;
}

/** Layered left-to-right layout computed in the ELK web worker. */
export async function layoutDag(tasks: TaskDef[], edges: Edge[]): Promise<Positions> {
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
