import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { DatasetList } from '../../api/datasets';
import { DatasetsList } from './DatasetsSection';
import { EVENTS, occurrences } from './testSupport';

const NOW = 1_700_000_000_000;
const { files: _files, flushed_through: _through, ...eventsView } = EVENTS;

const LIST: DatasetList = {
  datasets: [
    eventsView,
    {
      ...eventsView,
      name: 'orders',
      description: null,
      rows_received: 12_345,
      rows_pending: 0,
      last_flush_ms: null,
      error: "cannot write lake/orders: permission denied (os error 13)",
    },
  ],
  problems: [{ name: 'broken', message: "ingest/broken.toml:3:1: unknown column type 'int128'" }],
};

const render = (data: DatasetList | null, selected: string | null = null, error: string | null = null) =>
  renderToStaticMarkup(<DatasetsList data={data} error={error} now={NOW} selected={selected} onSelect={() => undefined} />);

describe('DatasetsList', () => {
  it('lists each dataset with rows received, rows pending and the last flush', () => {
    const html = render(LIST, 'events');
    expect(html).toContain('data-testid="dataset-events"');
    expect(html).toMatch(/data-testid="dataset-received-events" data-value="3">3 received/);
    expect(html).toMatch(/data-testid="dataset-pending-events" data-value="3">3 pending/);
    expect(html).toMatch(/data-testid="dataset-flushed-events">flushed 2 min ago/);
    expect(html).toMatch(/data-testid="dataset-received-orders" data-value="12345">12,345 received/);
    expect(html).toMatch(/data-testid="dataset-flushed-orders">not flushed yet/);
    // The selected one is highlighted.
    expect(html).toMatch(/class="item selected" data-testid="dataset-events"|data-testid="dataset-events" class="item selected"/);
  });

  it('shows an error badge, with the message, only on a dataset whose flushing fails', () => {
    const html = render(LIST);
    expect(html).not.toContain('data-testid="dataset-error-events"');
    expect(html).toMatch(/<span class="ds-badge ds-badge-err" title="cannot write lake\/orders: permission denied \(os error 13\)" data-testid="dataset-error-orders">error<\/span>/);
    expect(occurrences(html, 'permission denied (os error 13)')).toBe(3); // badge title, line and its title
  });

  it('shows declarations that do not load, with their message', () => {
    const html = render(LIST);
    expect(html).toContain('data-testid="dataset-problem-broken"');
    expect(html).toContain('ingest/broken.toml:3:1: unknown column type &#x27;int128&#x27;');
  });

  it('says how to declare one when there are none, and shows a failed load', () => {
    expect(render({ datasets: [], problems: [] })).toContain('data-testid="datasets-empty"');
    expect(render(null)).toContain('Loading…');
    const failed = render(null, null, 'Cannot reach the runner');
    expect(failed).toContain('data-testid="datasets-error"');
    expect(failed).not.toContain('Loading…');
  });
});
