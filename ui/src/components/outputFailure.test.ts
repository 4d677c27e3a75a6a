import { describe, expect, it } from 'vitest';
import type { TaskRun } from '../api/types';
import { taskFailure } from './outputFailure';

const tr = (task_id: string, status: string, error: string | null = null) => ({ task_id, status, error }) as unknown as TaskRun;
const defs = [
  { id: 'sales', upstream: [] },
  { id: 'by_region', upstream: ['sales'] },
  { id: 'top', upstream: ['by_region'] },
  { id: 'report', upstream: ['top'] },
];
const run = [tr('sales', 'success'), tr('by_region', 'failed', 'Binder Error: bogus_col'), tr('top', 'upstream_failed'), tr('report', 'upstream_failed')];

describe('taskFailure', () => {
  it('gives a failed task its error and its own log', () => {
    expect(taskFailure('by_region', 7, run, {}, defs)).toEqual({
      status: 'failed',
      runId: 7,
      error: 'Binder Error: bogus_col',
      upstream: [],
      logTask: 'by_region',
    });
  });

  it('points a task that did not run at the failed task upstream, however far', () => {
    expect(taskFailure('report', 7, run, {}, defs)).toMatchObject({ status: 'upstream_failed', upstream: ['by_region'], logTask: 'by_region' });
  });

  it('says nothing for tasks that have or may get an output', () => {
    expect(taskFailure('sales', 7, run, {}, defs)).toBeNull();
    expect(taskFailure('missing', 7, run, {}, defs)).toBeNull();
    // A live state wins over the run's loaded one (a retry is running the task again).
    expect(taskFailure('by_region', 7, run, { by_region: 'running' }, defs)).toBeNull();
  });

  it('reports a cancelled task', () => {
    expect(taskFailure('x', 2, [tr('x', 'cancelled')], {}, [{ id: 'x', upstream: [] }])).toMatchObject({ status: 'cancelled', logTask: 'x' });
  });
});
