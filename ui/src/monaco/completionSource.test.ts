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

  it('ignores models of other schemes and unknown pipelines', () => {
    expect(completionContextFor({ scheme: 'inmemory', authority: 'shop', path: '/totals.sql' })).toBeNull();
    expect(completionContextFor(cellUri('nope', 'totals'))).toBeNull();
  });
});
