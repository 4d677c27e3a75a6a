// Test support for the dataset components (no DOM): a fake runner that records calls, a sample
// dataset, and a search through what a component returns.
import { isValidElement, type ReactElement, type ReactNode } from 'react';
import { ApiClient, type FetchFn } from '../../api/client';
import type { DatasetDetail } from '../../api/datasets';

export interface Call {
  url: string;
  method: string;
  body: string | null;
}

export type Answers = Record<string, { status: number; body?: unknown }>;

export function fakeClient(answers: Answers) {
  const calls: Call[] = [];
  const fetchFn: FetchFn = async (url, init) => {
    const method = init?.method ?? 'GET';
    calls.push({ url, method, body: typeof init?.body === 'string' ? init.body : null });
    const a = answers[`${method} ${new URL(url).pathname}`] ?? { status: 404, body: { code: 'not_found', message: 'no such route' } };
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
  };
  return { client: new ApiClient('http://r:1', 't', fetchFn), calls };
}

/** ingest/events.toml with 3 rows received and waiting, as GET /api/datasets/events answers. */
export const EVENTS: DatasetDetail = {
  name: 'events',
  description: 'Click events',
  columns: [
    { name: 'id', type: 'i64', nullable: false },
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'user', type: 'str', nullable: true },
  ],
  event_time: 'ts',
  unknown_fields: 'reject',
  path: 'lake/events',
  connection: null,
  flush: { max_rows: 1_000_000, max_bytes: 67_108_864, max_age_secs: 3600 },
  rows_received: 3,
  batches_accepted: 1,
  batches_rejected: 2,
  throttled: 0,
  rows_pending: 3,
  bytes_pending: 1536,
  oldest_pending_ms: 1_700_000_000_000,
  flushes: 4,
  rows_flushed: 1200,
  last_flush_ms: 1_700_000_000_000 - 120_000,
  merges: 1,
  error: null,
  files: ['day=2023-11-14/part-1.parquet'],
  flushed_through: 7,
};

type Props = Record<string, unknown> & { children?: ReactNode };

/**
 * Finds the element with `data-testid` = `id` in what a component returns, expanding function
 * components that use no hooks (one with hooks cannot run outside a render and is skipped), so a
 * test can read its props and press its onClick.
 */
export function findByTestId(node: ReactNode, id: string): ReactElement<Props> | null {
  if (Array.isArray(node)) {
    for (const n of node as ReactNode[]) {
      const found = findByTestId(n, id);
      if (found) return found;
    }
    return null;
  }
  if (!isValidElement<Props>(node)) return null;
  if (node.props['data-testid'] === id) return node;
  if (typeof node.type === 'function') {
    let out: ReactNode;
    try {
      out = (node.type as (p: Props) => ReactNode)(node.props);
    } catch {
      return null; // it uses hooks: not expandable outside a render
    }
    return findByTestId(out, id);
  }
  return findByTestId(node.props.children, id);
}

/** Counts the occurrences of `needle` in `text`. */
export const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;
