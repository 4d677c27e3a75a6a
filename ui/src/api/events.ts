import type { ApiClient } from './client';
import { SseDecoder } from './sse';
import type { PipelineChangedEvent, RunnerEvent } from './types';

/** Parses one SSE `data:` payload into a runner event; null when it is not one. */
export function toRunnerEvent(data: string): RunnerEvent | null {
  try {
    const v = JSON.parse(data) as Partial<RunnerEvent>;
    if (v && typeof v.event === 'string' && typeof v.run_id === 'number' && typeof v.pipeline === 'string') {
      return v as RunnerEvent;
    }
  } catch {
    // not JSON: ignore
  }
  return null;
}

/** Parses one SSE `data:` payload into a workspace change; null when it is not one. */
export function toPipelineChanged(data: string): PipelineChangedEvent | null {
  try {
    const v = JSON.parse(data) as Partial<PipelineChangedEvent>;
    if (v && v.event === 'pipeline_changed' && typeof v.pipeline === 'string') return v as PipelineChangedEvent;
  } catch {
    // not JSON: ignore
  }
  return null;
}

/** Reads an SSE body to the end, calling `onEvent` for each runner event and `onChange` for each workspace change. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: RunnerEvent) => void,
  onChange?: (e: PipelineChangedEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const sse = new SseDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const msg of sse.push(decoder.decode(value, { stream: true }))) {
        const ev = toRunnerEvent(msg.data);
        if (ev) onEvent(ev);
        const change = onChange && toPipelineChanged(msg.data);
        if (change) onChange(change);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export type StreamStatus = 'connecting' | 'open' | 'closed';

/**
 * Keeps /api/events open, reconnecting with backoff (1 s doubling to 15 s).
 * Returns a function that stops it.
 */
export function subscribeEvents(
  client: ApiClient,
  onEvent: (e: RunnerEvent) => void,
  onStatus?: (s: StreamStatus, error?: string) => void,
  onChange?: (e: PipelineChangedEvent) => void,
): () => void {
  const ctrl = new AbortController();
  let delay = 1000;
  const loop = async () => {
    while (!ctrl.signal.aborted) {
      onStatus?.('connecting');
      try {
        const res = await client.openEvents(ctrl.signal);
        if (!res.body) throw new Error('no response body');
        onStatus?.('open');
        delay = 1000;
        await readEventStream(res.body, onEvent, onChange);
        onStatus?.('closed');
      } catch (e) {
        if (ctrl.signal.aborted) return;
        onStatus?.('closed', (e as Error)?.message ?? String(e));
      }
      if (ctrl.signal.aborted) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  void loop();
  return () => ctrl.abort();
}
