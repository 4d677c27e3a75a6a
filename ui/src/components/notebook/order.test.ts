import { describe, expect, it } from 'vitest';
import { cellOrder, insertNote, newNoteId, notebookGroups, topoOrder, type Note } from './order';

const t = (id: string, ...upstream: string[]) => ({ id, upstream });

describe('topoOrder', () => {
  it('puts upstreams first and keeps declaration order among ready tasks', () => {
    // Declared: report first, then its inputs.
    const tasks = [t('report', 'joined'), t('orders'), t('joined', 'orders', 'customers'), t('customers')];
    expect(topoOrder(tasks)).toEqual(['orders', 'customers', 'joined', 'report']);
  });

  it('is stable for independent branches', () => {
    const tasks = [t('a'), t('b'), t('a2', 'a'), t('b2', 'b')];
    expect(topoOrder(tasks)).toEqual(['a', 'b', 'a2', 'b2']);
  });

  it('ignores unknown upstreams and self references, and appends cycles in declaration order', () => {
    expect(topoOrder([t('x', 'nowhere'), t('y', 'y')])).toEqual(['x', 'y']);
    expect(topoOrder([t('p', 'q'), t('q', 'p'), t('r')])).toEqual(['r', 'p', 'q']);
  });
});

describe('cellOrder', () => {
  const tasks = [t('b', 'a'), t('a')];
  it("uses the runner's order when it lists exactly the tasks", () => {
    expect(cellOrder(tasks, ['a', 'b'])).toEqual(['a', 'b']);
  });
  it('computes its own when the order is missing or stale', () => {
    expect(cellOrder(tasks, undefined)).toEqual(['a', 'b']);
    expect(cellOrder(tasks, ['a'])).toEqual(['a', 'b']);
    expect(cellOrder(tasks, ['a', 'zz'])).toEqual(['a', 'b']);
  });
});

describe('notebookGroups', () => {
  const n = (id: string, after: string | null): Note => ({ id, after, text: id });
  it('places notes at the top, after their task, and orphans at the end', () => {
    const groups = notebookGroups(['a', 'b'], [n('1', 'b'), n('2', null), n('3', 'gone'), n('4', 'b')]);
    expect(groups.map((g) => [g.task, g.notes.map((x) => x.id)])).toEqual([
      [null, ['2']],
      ['a', []],
      ['b', ['1', '4', '3']],
    ]);
  });
  it('keeps orphans visible in an empty notebook', () => {
    expect(notebookGroups([], [n('1', 'x')])).toEqual([{ task: null, notes: [n('1', 'x')] }]);
  });
});

describe('insertNote', () => {
  const n = (id: string, after: string | null): Note => ({ id, after, text: '' });
  it('adds the note after the last one of its group', () => {
    const notes = [n('1', 'a'), n('2', 'b'), n('3', 'a'), n('4', 'c')];
    expect(insertNote(notes, n('5', 'a')).map((x) => x.id)).toEqual(['1', '2', '3', '5', '4']);
    expect(insertNote(notes, n('6', null)).map((x) => x.id)).toEqual(['1', '2', '3', '4', '6']);
  });
});

describe('newNoteId', () => {
  it('avoids ids already taken', () => {
    const seq = [0, 0, 0.5];
    const rnd = () => seq.shift()!;
    expect(newNoteId([{ id: 'n000000', after: null, text: '' }], rnd)).toBe(`n${Math.floor(0.5 * 36 ** 6).toString(36)}`);
  });
});
