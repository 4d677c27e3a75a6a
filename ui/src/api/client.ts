import type {
  OutputPage,
  PipelineDetail,
  PipelineSummary,
  PlanCheck,
  Run,
  RunDetail,
  TriggerResponse,
} from './types';

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** An error from the runner: `message` is meant for the user. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The parsed error body, for fields beyond code and message (e.g. a SQL error's `location`). */
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

/** Joins a base URL, a path and a query string; drops undefined/null query values. */
export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const base = baseUrl.replace(/\/+$/, '');
  const p = path.startsWith('/') ? path : `/${path}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null) params.set(k, String(v));
  }
  const qs = params.toString();
  return `${base}${p}${qs ? `?${qs}` : ''}`;
}

const seg = encodeURIComponent;

/**
 * Turns a failed response into an ApiError, using the runner's `{code, message}` when present
 * (or a bare `{error: "…"}`).
 */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // body unreadable: fall through to the status text
  }
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; error?: unknown };
    const message = typeof body?.message === 'string' ? body.message : typeof body?.error === 'string' ? body.error : null;
    if (body && message !== null) {
      return new ApiError(res.status, typeof body.code === 'string' ? body.code : 'error', message, body as Record<string, unknown>);
    }
  } catch {
    // not JSON
  }
  const msg = text.trim() || `${res.status} ${res.statusText}`.trim();
  return new ApiError(res.status, 'http', msg);
}

export class ApiClient {
  readonly baseUrl: string;
  constructor(
    baseUrl: string,
    readonly token: string,
    private readonly fetchFn: FetchFn = (input, init) => globalThis.fetch(input, init),
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(path: string, query?: Query): string {
    return buildUrl(this.baseUrl, path, query);
  }

  headers(extra?: Record<string, string>): Record<string, string> {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  /** Raw authorized request; throws ApiError on non-2xx and on network failure. */
  async request(path: string, init: RequestInit & { query?: Query } = {}): Promise<Response> {
    const { query, headers, ...rest } = init;
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path, query), {
        ...rest,
        headers: { ...this.headers(), ...(headers as Record<string, string> | undefined) },
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', `Cannot reach the runner at ${this.baseUrl}: ${String((e as Error)?.message ?? e)}`);
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async json<T>(path: string, init?: RequestInit & { query?: Query }): Promise<T> {
    const res = await this.request(path, init);
    return (await res.json()) as T;
  }

  listPipelines(signal?: AbortSignal): Promise<PipelineSummary[]> {
    return this.json('/api/pipelines', { signal });
  }

  getPipeline(name: string, signal?: AbortSignal): Promise<PipelineDetail> {
    return this.json(`/api/pipelines/${seg(name)}`, { signal });
  }

  /** Which queries would fail, planned over their inputs' schemas (nothing runs). */
  checkPipeline(name: string, signal?: AbortSignal): Promise<PlanCheck> {
    return this.json(`/api/pipelines/${seg(name)}/check`, { signal });
  }

  listRuns(pipeline: string, limit = 50, signal?: AbortSignal): Promise<Run[]> {
    return this.json('/api/runs', { query: { pipeline, limit }, signal });
  }

  getRun(id: number, signal?: AbortSignal): Promise<RunDetail> {
    return this.json(`/api/runs/${id}`, { signal });
  }

  triggerRun(
    pipeline: string,
    opts: { params?: Record<string, unknown>; force?: boolean } = {},
  ): Promise<TriggerResponse> {
    return this.json(`/api/pipelines/${seg(pipeline)}/runs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ params: opts.params ?? {}, force: opts.force ?? false }),
    });
  }

  /** Output rows of a task: of one run when `runId` is given, else the task's newest output. */
  getOutput(
    src: { pipeline: string; task: string; runId?: number | null },
    offset: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<OutputPage> {
    const path =
      src.runId != null
        ? `/api/runs/${src.runId}/tasks/${seg(src.task)}/output`
        : `/api/pipelines/${seg(src.pipeline)}/tasks/${seg(src.task)}/output`;
    return this.json(path, { query: { offset, limit }, signal });
  }

  async getTaskLog(runId: number, task: string, signal?: AbortSignal): Promise<string> {
    const res = await this.request(`/api/runs/${runId}/tasks/${seg(task)}/log`, { signal });
    return res.text();
  }

  /** Opens the event stream (caller reads `res.body`). */
  openEvents(signal?: AbortSignal): Promise<Response> {
    return this.request('/api/events', { signal, headers: { Accept: 'text/event-stream' } });
  }
}
