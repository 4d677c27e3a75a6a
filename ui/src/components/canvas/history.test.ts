import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../api/authoring';
import { describe as describeOp, emptyHistory, HISTORY_LIMIT, inverse, positionsAfter, record, redoStep, undoStep, withCurrentSpec, type CanvasOp } from './history';

const spec: TaskSpec = { id: 'sql_1', kind: 'sql', settings: { file: 'sql_1.sql', sql: 'SELECT 1 AS x', inputs: ['gold'] } };

describe('inverse', () => {
  it('turns add into remove with the same spec and position, and back', () => {
    const add: CanvasOp = { type: 'add', spec, position: { x: 10, y: 20 } };
    expect(inverse(add)).toEqual({ type: 'remove', spec, position: { x: 10, y: 20 } });
    expect(inverse(inverse(add))).toEqual(add);
  });
  it('swaps rename ends, inputs before/after and move before/after', () => {
    expect(inverse({ type: 'rename', from: 'a', to: 'b' })).toEqual({ type: 'rename', from: 'b', to: 'a' });
    expect(inverse({ type: 'inputs', task: 't', before: ['a'], after: ['a', 'b'] })).toEqual({ type: 'inputs', task: 't', before: ['a', 'b'], after: ['a'] });
    expect(inverse({ type: 'move', before: { a: { x: 0, y: 0 } }, after: { a: { x: 5, y: 6 } } })).toEqual({
      type: 'move',
      before: { a: { x: 5, y: 6 } },
      after: { a: { x: 0, y: 0 } },
    });
  });
  it('swaps a rewritten text back, and says what it did', () => {
    const op: CanvasOp = { type: 'text', task: 'n', lang: 'sql', before: 'SELECT 1 AS x', after: 'SELECT * FROM gold', what: 'read gold in n' };
    expect(inverse(op)).toEqual({ ...op, before: 'SELECT * FROM gold', after: 'SELECT 1 AS x' });
    expect(describeOp(op)).toBe('read gold in n');
    expect(positionsAfter(op, { n: { x: 1, y: 1 } })).toEqual({ n: { x: 1, y: 1 } });
  });
});

describe('undo/redo stacks', () => {
  const rename: CanvasOp = { type: 'rename', from: 'sql_1', to: 'sql_9' };
  const add: CanvasOp = { type: 'add', spec, position: null };

  it('undoes the newest edit first with its inverse, and redoes it as recorded', () => {
    let h = record(record(emptyHistory, add), rename);
    const u1 = undoStep(h)!;
    expect(u1.apply).toEqual({ type: 'rename', from: 'sql_9', to: 'sql_1' });
    h = u1.next;
    const u2 = undoStep(h)!;
    expect(u2.apply).toEqual({ type: 'remove', spec, position: null });
    h = u2.next;
    expect(undoStep(h)).toBeNull();
    const r1 = redoStep(h)!;
    expect(r1.apply).toEqual(add);
    h = r1.next;
    expect(redoStep(h)!.apply).toEqual(rename);
    expect(h).toEqual({ done: [add], undone: [rename] });
  });

  it('leaves the history as it was until the caller keeps `next` (a rejected replay changes nothing)', () => {
    const h = record(emptyHistory, add);
    const step = undoStep(h)!;
    expect(h).toEqual({ done: [add], undone: [] });
    expect(step.next).toEqual({ done: [], undone: [add] });
  });

  it('a new edit clears the redo stack', () => {
    const h = undoStep(record(emptyHistory, add))!.next;
    expect(h.undone).toHaveLength(1);
    expect(record(h, rename)).toEqual({ done: [rename], undone: [] });
  });

  it('keeps at most HISTORY_LIMIT edits, dropping the oldest', () => {
    let h = emptyHistory;
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) h = record(h, { type: 'rename', from: `a${i}`, to: `b${i}` });
    expect(h.done).toHaveLength(HISTORY_LIMIT);
    expect(h.done[0]).toEqual({ type: 'rename', from: 'a5', to: 'b5' });
  });
});

describe('positionsAfter', () => {
  const pos = { a: { x: 1, y: 2 }, b: { x: 3, y: 4 } };
  it('places an added task, forgets a removed one and carries a renamed one', () => {
    expect(positionsAfter({ type: 'add', spec, position: { x: 9, y: 9 } }, pos)).toEqual({ ...pos, sql_1: { x: 9, y: 9 } });
    expect(positionsAfter({ type: 'add', spec, position: null }, pos)).toBe(pos);
    expect(positionsAfter({ type: 'remove', spec: { ...spec, id: 'a' }, position: null }, pos)).toEqual({ b: { x: 3, y: 4 } });
    expect(positionsAfter({ type: 'rename', from: 'a', to: 'z' }, pos)).toEqual({ b: { x: 3, y: 4 }, z: { x: 1, y: 2 } });
    expect(positionsAfter({ type: 'move', before: { b: { x: 3, y: 4 } }, after: { b: { x: 30, y: 40 } } }, pos)).toEqual({ a: { x: 1, y: 2 }, b: { x: 30, y: 40 } });
  });
});

describe('describe', () => {
  it('names connects, disconnects and moves', () => {
    expect(describeOp({ type: 'inputs', task: 't', before: [], after: ['gold'] })).toBe('connect gold → t');
    expect(describeOp({ type: 'inputs', task: 't', before: ['gold', 'x'], after: ['x'] })).toBe('disconnect gold → t');
    expect(describeOp({ type: 'move', before: {}, after: { a: { x: 0, y: 0 } } })).toBe('move a');
  });
});

describe('withCurrentSpec', () => {
  const edited: TaskSpec = { ...spec, settings: { ...spec.settings, sql: 'SELECT 2 AS y' } };
  it('undoing an add removes the task as it is now, and redo adds that version back', () => {
    const h = record(emptyHistory, { type: 'add', spec, position: { x: 1, y: 1 } });
    const step = withCurrentSpec(undoStep(h)!, edited);
    expect(step.apply).toEqual({ type: 'remove', spec: edited, position: { x: 1, y: 1 } });
    expect(redoStep(step.next)!.apply).toEqual({ type: 'add', spec: edited, position: { x: 1, y: 1 } });
  });
  it('redoing a delete records the current spec, so its undo restores the edited task', () => {
    const h = undoStep(record(emptyHistory, { type: 'remove', spec, position: null }))!.next;
    const step = withCurrentSpec(redoStep(h)!, edited);
    expect(step.apply).toEqual({ type: 'remove', spec: edited, position: null });
    expect(undoStep(step.next)!.apply).toEqual({ type: 'add', spec: edited, position: null });
  });
  it('leaves other steps alone', () => {
    const step = undoStep(record(emptyHistory, { type: 'rename', from: 'a', to: 'b' }))!;
    expect(withCurrentSpec(step, edited)).toBe(step);
  });
});
