// Replays one canvas operation through the authoring API. Kept apart from React and from the
// HTTP client so the mapping (which route, which body, what happens to positions) is testable.
import type { Positions, TaskSpec } from '../../api/authoring';
import type { PipelineDetail } from '../../api/types';
import { positionsAfter, type CanvasOp } from './history';

/** The authoring calls an operation needs, bound to one pipeline. */
export interface CanvasApi {
  addTask(spec: TaskSpec): Promise<PipelineDetail>;
  removeTask(id: string): Promise<PipelineDetail>;
  renameTask(from: string, to: string): Promise<PipelineDetail>;
  setInputs(task: string, inputs: string[]): Promise<PipelineDetail>;
  /** Writes a SQL task's query (PUT …/sql). */
  setSql(task: string, sql: string): Promise<PipelineDetail>;
  /** Writes a Python task's code (PUT …/code). */
  setCode(task: string, code: string): Promise<PipelineDetail>;
}

export interface Applied {
  /** The pipeline as saved, or null when only positions changed. */
  detail: PipelineDetail | null;
  positions: Positions;
  /** Whether positions changed and layout.json must be written. */
  layoutChanged: boolean;
}

/** Applies `op`; throws the runner's error (nothing changed then). */
export async function applyOp(api: CanvasApi, op: CanvasOp, positions: Positions): Promise<Applied> {
  let detail: PipelineDetail | null = null;
  switch (op.type) {
    case 'add':
      detail = await api.addTask(op.spec);
      break;
    case 'remove':
      detail = await api.removeTask(op.spec.id);
      break;
    case 'rename':
      detail = await api.renameTask(op.from, op.to);
      break;
    case 'inputs':
      detail = await api.setInputs(op.task, op.after);
      break;
    case 'text':
      detail = op.lang === 'sql' ? await api.setSql(op.task, op.after) : await api.setCode(op.task, op.after);
      break;
    case 'move':
      break;
  }
  const next = positionsAfter(op, positions);
  return { detail, positions: next, layoutChanged: !samePositions(next, positions) };
}

export function samePositions(a: Positions, b: Positions): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && b[k]!.x === a[k]!.x && b[k]!.y === a[k]!.y);
}
