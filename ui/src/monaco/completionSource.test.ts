import { describe, expect, it } from 'vitest';
import { cellUri, completionContextFor, setCompletionSource } from './completionSource';

describe('completionContextFor', () => {
  setCompletionSource('shop', {
    tasks: [
      { id: 'orders', upstream: [] },
      { id: 'totals', upstream: ['orders'] },
    ],
    schemas: { orders: [{ name: 'amount', type: 'f64' }] },
  });

  it("offers the pipeline's other tasks and defaults to the cell's upstreams", () => {
    expect(completionContextFor(cellUri('shop', 'totals'))).toEqual({
      tables: ['orders'],
      columns: { orders: [{ name: 'amount', type: 'f64' }] },
      defaultTables: ['orders'],
    });
  });

  it('offers a Python cell only the tasks with an output', () => {
    setCompletionSource('py', {
      tasks: [
        { id: 'sales', upstream: [], kind: 'source' },
        { id: 'out', upstream: ['sales'], kind: 'sink' },
        { id: 'by_region', upstream: ['sales'], kind: 'python' },
      ],
      schemas: {},
    });
    expect(cellUri('py', 'by_region', 'python').path).toBe('/by_region.py');
    expect(completionContextFor(cellUri('py', 'by_region', 'python'))).toMatchObject({ tables: ['sales'], defaultTables: ['sales'] });
    expect(completionContextFor(cellUri('py', 'by_region'))?.tables).toEqual(['sales', 'out']);
  });

  it('ignores models of other schemes and unknown pipelines', () => {
    expect(completionContextFor({ scheme: 'inmemory', authority: 'shop', path: '/totals.sql' })).toBeNull();
    expect(completionContextFor(cellUri('nope', 'totals'))).toBeNull();
  });
});
