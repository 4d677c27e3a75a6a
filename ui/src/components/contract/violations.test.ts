import { describe, expect, it } from 'vitest';
import { columnRules, contractFailure } from './violations';

describe('contractFailure', () => {
  it('lists one violation per `- ` line after the header', () => {
    const error = "schema contract of task 'by_region' failed:\n- column 'total' is missing\n- column 'region' has nulls (2 rows)\n";
    expect(contractFailure(error)).toEqual({ task: 'by_region', violations: ["column 'total' is missing", "column 'region' has nulls (2 rows)"] });
  });

  it('finds the header after a prefix line, and keeps a violation on the header line', () => {
    expect(contractFailure("task failed\nschema contract of task 'x' failed: column 'a' is i64, not str")).toEqual({
      task: 'x',
      violations: ["column 'a' is i64, not str"],
    });
  });

  it('is null for other failures', () => {
    expect(contractFailure(null)).toBeNull();
    expect(contractFailure('Binder Error: column "x" not found')).toBeNull();
  });
});

describe('columnRules', () => {
  it('says which rules a column has besides its type', () => {
    expect(columnRules({ name: 'id', dtype: 'i64', not_null: true, unique: true })).toEqual(['not null', 'unique']);
    expect(columnRules({ name: 'note', dtype: 'str', not_null: false, unique: false })).toEqual([]);
  });
});
