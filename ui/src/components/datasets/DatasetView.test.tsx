import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { DatasetInfo, DatasetToolbar, datasetActions, describeMergeDone, type Busy, type Notice } from './DatasetView';
import { EVENTS, fakeClient, findByTestId } from './testSupport';

const NOW = 1_700_000_000_000;

/** The toolbar wired to the real actions, as DatasetView wires it; `events` records what they report. */
function toolbar(answers: Parameters<typeof fakeClient>[0]) {
  const { client, calls } = fakeClient(answers);
  const events: { busy: Busy[]; notices: (Notice | null)[]; changed: number } = { busy: [], notices: [], changed: 0 };
  const actions = datasetActions(client, 'events', {
    busy: (b) => events.busy.push(b),
    notice: (n) => events.notices.push(n),
    changed: () => events.changed++,
  });
  const tree = DatasetToolbar({ name: 'events', description: 'Click events', busy: null, notice: null, onFlush: actions.flush, onMerge: actions.merge });
  /** Presses a button of the toolbar and waits for what it started. */
  const press = async (testId: string) => {
    const button = findByTestId(tree, testId);
    expect(button, testId).not.toBeNull();
    await (button!.props.onClick as () => Promise<void>)();
  };
  return { calls, events, press };
}

describe('DatasetToolbar', () => {
  it('"Flush now" posts to the flush route and says what was written', async () => {
    const { calls, events, press } = toolbar({ 'POST /api/datasets/events/flush': { status: 200, body: { rows: 3, files: ['day=2023-11-14/part-2.parquet'] } } });
    await press('dataset-flush');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST http://r:1/api/datasets/events/flush']);
    expect(events.busy).toEqual(['flush', null]);
    expect(events.notices.at(-1)).toEqual({ text: 'Flushed 3 rows into 1 file' });
    expect(events.changed).toBe(1);
  });

  it('"Flush now" shows the runner\'s refusal and changes nothing', async () => {
    const { events, press } = toolbar({
      'POST /api/datasets/events/flush': { status: 502, body: { code: 'bad_gateway', message: 'cannot write lake/events: disk full' } },
    });
    await press('dataset-flush');
    expect(events.notices.at(-1)).toEqual({ text: 'Flush failed: cannot write lake/events: disk full', error: true });
    expect(events.changed).toBe(0);
    expect(events.busy.at(-1)).toBeNull();
  });

  it('"Merge days" merges every day (all=true)', async () => {
    const { calls, events, press } = toolbar({ 'POST /api/datasets/events/merge': { status: 200, body: { days: ['2023-11-14'], files_in: 3, removed: 0 } } });
    await press('dataset-merge');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST http://r:1/api/datasets/events/merge?all=true']);
    expect(events.notices.at(-1)).toEqual({ text: 'Merged 1 day (3 files in)' });
    expect(describeMergeDone({ days: [], files_in: 0, removed: 2 })).toBe('No day has several files to merge; 2 superseded files removed');
  });

  it('disables both buttons while one runs, and shows the last notice', () => {
    const html = renderToStaticMarkup(
      <DatasetToolbar name="events" description={null} busy="flush" notice={{ text: 'Flush failed: x', error: true }} onFlush={() => undefined} onMerge={() => undefined} />,
    );
    expect(html).toMatch(/<button disabled="" [^>]*data-testid="dataset-flush">Flush now<\/button>/);
    expect(html).toMatch(/<button disabled="" [^>]*data-testid="dataset-merge">Merge days<\/button>/);
    expect(html).toContain('flushing…');
    expect(html).toMatch(/class="err ellipsis"[^>]*data-testid="dataset-notice">Flush failed: x/);
  });
});

describe('DatasetInfo', () => {
  const html = renderToStaticMarkup(<DatasetInfo detail={EVENTS} now={NOW} runnerUrl="http://127.0.0.1:7878" />);

  it('shows every counter', () => {
    const stat = (id: string) => new RegExp(`data-testid="dataset-stat-${id}" data-value="([^"]*)"`).exec(html)?.[1];
    expect(stat('rows_received')).toBe('3');
    expect(stat('batches_accepted')).toBe('1');
    expect(stat('batches_rejected')).toBe('2');
    expect(stat('throttled')).toBe('0');
    expect(stat('rows_pending')).toBe('3');
    expect(stat('bytes_pending')).toBe('1.5 KB');
    expect(stat('flushes')).toBe('4');
    expect(stat('rows_flushed')).toBe('1200');
    expect(stat('merges')).toBe('1');
    expect(stat('last_flush')).toBe('2 min ago');
    expect(html).toContain('1,200');
  });

  it('shows the columns, the target and the flush policy', () => {
    expect(html).toMatch(/data-testid="dataset-column-id"><td class="mono">id<\/td><td class="mono">i64<\/td><td>no<\/td>/);
    expect(html).toMatch(/data-testid="dataset-column-ts"><td class="mono">ts<span[^>]*>event time<\/span><\/td><td class="mono">timestamp<\/td><td>no<\/td>/);
    expect(html).toMatch(/data-testid="dataset-column-user"><td class="mono">user<\/td><td class="mono">str<\/td><td>yes<\/td>/);
    expect(html).toMatch(/data-testid="dataset-path">lake\/events</);
    expect(html).toMatch(/data-testid="dataset-flush-policy"[^>]*>at 1,000,000 rows · 64 MB · 1 h</);
    expect(html).not.toContain('data-testid="dataset-error"');
  });

  it('gives a curl example that posts a fitting row with an ingest token', () => {
    const curl = /data-testid="dataset-curl">([^<]*)</.exec(html)?.[1];
    expect(curl).toBe(
      `curl -X POST -H &#x27;Authorization: Bearer &lt;ingest token&gt;&#x27; -H &#x27;Content-Type: application/json&#x27; --data &#x27;{&quot;id&quot;:1,&quot;ts&quot;:&quot;2025-01-31T12:00:00Z&quot;,&quot;user&quot;:&quot;text&quot;}&#x27; http://127.0.0.1:7878/api/ingest/events`,
    );
  });

  it('shows a flush error', () => {
    const failing = renderToStaticMarkup(<DatasetInfo detail={{ ...EVENTS, error: 'disk full' }} now={NOW} runnerUrl="http://r" />);
    expect(failing).toMatch(/data-testid="dataset-error">.*disk full/);
  });
});
