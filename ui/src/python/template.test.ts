import { describe, expect, it } from 'vitest';
import { functionParams } from './tokens';
import { newPythonSettings, pythonTemplate } from './template';

describe('pythonTemplate', () => {
  it('reads the upstream as the run function’s parameter and returns it', () => {
    expect(pythonTemplate('gold')).toBe(
      'import polars as pl\n\n\ndef run(gold: pl.LazyFrame, params: dict) -> pl.LazyFrame:\n' +
        '    # Upstream tasks arrive as lazy scans; return a LazyFrame or DataFrame.\n    return gold\n',
    );
  });

  it('makes a small frame when there is no upstream (or it is named like a Python keyword)', () => {
    for (const t of [pythonTemplate(null), pythonTemplate('class')]) {
      expect(t).toContain('def run(params: dict) -> pl.DataFrame:');
      expect(t).toContain('return pl.DataFrame({"x": [1, 2, 3]})');
      expect(functionParams(t).get('run')).toEqual(['params']);
    }
  });

  it('gives a new task its own .py file holding the template', () => {
    expect(newPythonSettings('share', 'gold')).toEqual({ file: 'share.py', code: pythonTemplate('gold') });
  });
});
