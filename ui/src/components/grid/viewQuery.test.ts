import { describe, expect, it } from 'vitest';
import { filterLabel, filterProblem, nextSort, setSort, viewKey, viewQuery, type SortKey } from './viewQuery';

describe('nextSort', () => {
  it('cycles a plain click asc → desc → none and replaces other keys', () => {
    let s: SortKey[] = [];
    s = nextSort(s, 'id', false);
    expect(s).toEqual([{ column: 'id', dir: 'asc' }]);
    s = nextSort(s, 'id', false);
    expect(s).toEqual([{ column: 'id', dir: 'desc' }]);
    s = nextSort(s, 'id', false);
    expect(s).toEqual([]);
    expect(nextSort([{ column: 'a', dir: 'desc' }], 'b', false)).toEqual([{ column: 'b', dir: 'asc' }]);
  });

  it('shift-click appends a secondary key and cycles it in place', () => {
    let s: SortKey[] = [{ column: 'a', dir: 'asc' }];
    s = nextSort(s, 'b', true);
    expect(s).toEqual([
      { column: 'a', dir: 'asc' },
      { column: 'b', dir: 'asc' },
    ]);
    s = nextSort(s, 'a', true);
    expect(s).toEqual([
      { column: 'a', dir: 'desc' },
      { column: 'b', dir: 'asc' },
    ]);
    s = nextSort(s, 'a', true);
    expect(s).toEqual([{ column: 'b', dir: 'asc' }]);
  });

  it('setSort sets or removes one key', () => {
    expect(setSort([{ column: 'a', dir: 'asc' }], 'b', 'desc')).toEqual([{ column: 'b', dir: 'desc' }]);
    expect(setSort([{ column: 'a', dir: 'asc' }], 'b', 'desc', true)).toEqual([
      { column: 'a', dir: 'asc' },
      { column: 'b', dir: 'desc' },
    ]);
    expect(setSort([{ column: 'a', dir: 'asc' }], 'a', 'desc', true)).toEqual([{ column: 'a', dir: 'desc' }]);
    expect(setSort([{ column: 'a', dir: 'asc' }], 'a', null)).toEqual([]);
  });
});

describe('viewQuery', () => {
  it('builds the sort and filter parameters the runner parses', () => {
    expect(viewQuery({ sort: [], filters: [] })).toEqual({});
    expect(
      viewQuery({
        sort: [
          { column: 'id', dir: 'desc' },
          { column: 'label', dir: 'asc' },
        ],
        filters: [
          { column: 'id', op: 'lt', value: '10' },
          { column: 'ratio', op: 'is_null', value: 'ignored' },
          { column: 'ts', op: 'ge', value: '2023-05-01 10:00:00' },
        ],
      }),
    ).toEqual({ sort: 'id:desc,label:asc', filter: 'id:lt:10;ratio:is_null;ts:ge:2023-05-01 10:00:00' });
  });

  it('leaves out filters the syntax cannot carry', () => {
    expect(viewQuery({ sort: [], filters: [{ column: 'a', op: 'eq', value: 'x;y' }] })).toEqual({});
    expect(filterProblem({ column: 'a', op: 'eq', value: 'x;y' })).toMatch(/;/);
    expect(filterProblem({ column: 'a:b', op: 'eq', value: '1' })).toMatch(/cannot be filtered/);
    expect(filterProblem({ column: 'a', op: 'eq', value: '' })).toMatch(/enter a value/);
    expect(filterProblem({ column: 'a', op: 'not_null', value: '' })).toBeNull();
  });

  it('keys equal views alike and different views apart', () => {
    const a = viewKey({ sort: [{ column: 'id', dir: 'asc' }], filters: [] });
    expect(viewKey({ sort: [{ column: 'id', dir: 'asc' }], filters: [] })).toBe(a);
    expect(viewKey({ sort: [{ column: 'id', dir: 'desc' }], filters: [] })).not.toBe(a);
    expect(viewKey({ sort: [], filters: [] })).toBe('|');
  });

  it('labels filters for their chips', () => {
    expect(filterLabel({ column: 'id', op: 'lt', value: '10' })).toBe('id < 10');
    expect(filterLabel({ column: 'x', op: 'not_null', value: '' })).toBe('x is not null');
  });
});
