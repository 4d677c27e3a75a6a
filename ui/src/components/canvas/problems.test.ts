import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../api/client';
import { problemsByTask } from '../DagCanvas';

describe('plan check', () => {
  it('asks the runner for the pipeline check', async () => {
    const urls: string[] = [];
    const fetchFn = async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ problems: [], engines: {}, unchecked: [] }), { status: 200 });
    };
    const c = new ApiClient('http://r', 't', fetchFn);
    expect(await c.checkPipeline('my p')).toEqual({ problems: [], engines: {}, unchecked: [] });
    expect(urls).toEqual(['http://r/api/pipelines/my%20p/check']);
  });

  it('puts each failing query on its task with the file, line and column', () => {
    const byTask = problemsByTask({
      problems: [
        { task: 'by_month', file: 'by_month.sql', line: 2, col: 3, message: "unsupported function 'date_trunc'" },
        { task: 'inline', file: 'pipeline.toml', line: null, col: null, message: 'no such column' },
      ],
      engines: {},
      unchecked: [],
    });
    expect(byTask).toEqual({ by_month: "by_month.sql:2:3: unsupported function 'date_trunc'", inline: 'no such column' });
  });
});
