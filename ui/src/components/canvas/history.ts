// Undo/redo of canvas edits. Every edit is recorded as an operation that carries what is needed to
// replay it and its inverse through the authoring API (a removed task keeps its full spec and
// position, so undoing the delete writes it back). The stacks are plain values: callers take a
// step, apply it, and keep the new history only when the runner accepted the edit.
import type { Positions, TaskSpec, XY } from '../../api/authoring';

export type CanvasOp =
  | { type: 'add'; spec: TaskSpec; position: XY | null }
  | { type: 'remove'; spec: TaskSpec; position: XY | null }
  | { type: 'rename'; from: string; to: string }
  | { type: 'inputs'; task: string; before: string[]; after: string[] }
  /** A SQL task's query or a Python task's code rewritten (to read an upstream); `what` describes it. */
  | { type: 'text'; task: string; lang: 'sql' | 'python'; before: string; after: string; what: string }
  | { type: 'move'; before: Positions; after: Positions };

export interface History {
  /** Applied operations, oldest first. */
  done: CanvasOp[];
  /** Undone operations, the next to redo last. */
  undone: CanvasOp[];
}

/** Operations kept; older ones fall off (each is small, but a session can be long). */
export const HISTORY_LIMIT = 200;

export const emptyHistory: History = { done: [], undone: [] };

/** The operation that cancels `op`. */
export function inverse(op: CanvasOp): CanvasOp {
  switch (op.type) {
    case 'add':
      return { type: 'remove', spec: op.spec, position: op.position };
    case 'remove':
      return { type: 'add', spec: op.spec, position: op.position };
    case 'rename':
      return { type: 'rename', from: op.to, to: op.from };
    case 'inputs':
      return { type: 'inputs', task: op.task, before: op.after, after: op.before };
    case 'text':
      return { ...op, before: op.after, after: op.before };
    case 'move':
      return { type: 'move', before: op.after, after: op.before };
  }
}

/** Records a new edit; it makes the redo stack meaningless, so that is cleared. */
export function record(h: History, op: CanvasOp): History {
  const done = [...h.done, op];
  return { done: done.length > HISTORY_LIMIT ? done.slice(done.length - HISTORY_LIMIT) : done, undone: [] };
}

/** The operation to apply to undo the last edit, and the history once it succeeded. */
export function undoStep(h: History): { apply: CanvasOp; next: History } | null {
  const last = h.done[h.done.length - 1];
  if (!last) return null;
  return { apply: inverse(last), next: { done: h.done.slice(0, -1), undone: [...h.undone, last] } };
}

/** The operation to apply to redo the last undone edit, and the history once it succeeded. */
export function redoStep(h: History): { apply: CanvasOp; next: History } | null {
  const last = h.undone[h.undone.length - 1];
  if (!last) return null;
  return { apply: last, next: { done: [...h.done, last], undone: h.undone.slice(0, -1) } };
}

/**
 * A step that removes a task, with the task's spec as it is now (its SQL may have been edited
 * since the operation was recorded), and the history entry updated to match, so replaying the
 * step back adds the task as it was when removed.
 */
export function withCurrentSpec(step: { apply: CanvasOp; next: History }, current: TaskSpec): { apply: CanvasOp; next: History } {
  if (step.apply.type !== 'remove') return step;
  const apply: CanvasOp = { ...step.apply, spec: current };
  const { done, undone } = step.next;
  // Undo moved the recorded `add` to `undone`; redo moved the recorded `remove` to `done`.
  const lastUndone = undone[undone.length - 1];
  const lastDone = done[done.length - 1];
  if (lastUndone && lastUndone.type === 'add' && lastUndone.spec.id === current.id)
    return { apply, next: { done, undone: [...undone.slice(0, -1), inverse(apply)] } };
  if (lastDone && lastDone.type === 'remove' && lastDone.spec.id === current.id)
    return { apply, next: { done: [...done.slice(0, -1), apply], undone } };
  return { apply, next: step.next };
}

/** Node positions once `op` is applied: adds place, removes forget, renames carry over. */
export function positionsAfter(op: CanvasOp, positions: Positions): Positions {
  switch (op.type) {
    case 'add':
      return op.position ? { ...positions, [op.spec.id]: op.position } : positions;
    case 'remove': {
      const { [op.spec.id]: _gone, ...rest } = positions;
      return rest;
    }
    case 'rename': {
      const { [op.from]: pos, ...rest } = positions;
      return pos ? { ...rest, [op.to]: pos } : rest;
    }
    case 'inputs':
    case 'text':
      return positions;
    case 'move':
      return { ...positions, ...op.after };
  }
}

/** A short description, for the undo/redo buttons' titles and messages. */
export function describe(op: CanvasOp): string {
  switch (op.type) {
    case 'add':
      return `add ${op.spec.id}`;
    case 'remove':
      return `delete ${op.spec.id}`;
    case 'rename':
      return `rename ${op.from} → ${op.to}`;
    case 'inputs': {
      const added = op.after.filter((x) => !op.before.includes(x));
      const removed = op.before.filter((x) => !op.after.includes(x));
      if (added.length && !removed.length) return `connect ${added.join(', ')} → ${op.task}`;
      if (removed.length && !added.length) return `disconnect ${removed.join(', ')} → ${op.task}`;
      return `inputs of ${op.task}`;
    }
    case 'text':
      return op.what;
    case 'move': {
      const ids = Object.keys(op.after);
      return ids.length === 1 ? `move ${ids[0]}` : `move ${ids.length} nodes`;
    }
  }
}
