import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client';
import { fetchRuns, mergeRuns } from '../../api/runs';
import type { Run, RunStatus } from '../../api/types';

export const HISTORY_PAGE = 30;

/**
 * A pipeline's run history filtered by status and trigger (on the runner), paged with `before=`. A refresh
 * (`refreshKey` changes when runs start or finish) reloads as many newest runs as are loaded,
 * so "load more" depth survives new runs and rows whose status changed are replaced.
 */
export function useRunHistory(client: ApiClient, pipeline: string, status: RunStatus | null, trigger: string | null, refreshKey: unknown) {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const depth = useRef(HISTORY_PAGE);
  // Bumped to reload when a reload answered for fewer runs than are loaded by then.
  const [reload, setReload] = useState(0);
  const filterKey = `${pipeline}|${status ?? ''}|${trigger ?? ''}`;
  const lastFilter = useRef(filterKey);

  useEffect(() => {
    if (lastFilter.current !== filterKey) {
      lastFilter.current = filterKey;
      depth.current = HISTORY_PAGE;
      setRuns(null);
    }
    const ctrl = new AbortController();
    const limit = depth.current;
    // One run more than shown says whether there are more: a history of exactly `limit` runs
    // (all of them loaded) must not offer "Load more".
    fetchRuns(client, { pipeline, status, trigger, limit: limit + 1 }, ctrl.signal)
      .then((page) => {
        // "Load more" finished while this was on its way: its answer holds fewer rows than are
        // shown now and would take the loaded ones away (and offer "Load more" again). Ask again.
        if (limit !== depth.current) {
          setReload((n) => n + 1);
          return;
        }
        setError(null);
        setRuns(page.slice(0, limit));
        setHasMore(page.length > limit);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError((e as Error)?.message ?? String(e));
      });
    return () => ctrl.abort();
  }, [client, pipeline, status, trigger, filterKey, refreshKey, reload]);

  const loadMore = useCallback(() => {
    const last = runs?.[runs.length - 1];
    if (!last || loadingMore) return;
    setLoadingMore(true);
    const key = filterKey;
    fetchRuns(client, { pipeline, status, trigger, before: last.id, limit: HISTORY_PAGE + 1 })
      .then((page) => {
        if (lastFilter.current !== key) return; // the filter changed meanwhile: drop this page
        const older = page.slice(0, HISTORY_PAGE);
        // Deepened here, not in the state updater (React may run that only at its next render):
        // a reload answering in between must see the deeper history and ask again, not replace it.
        depth.current = mergeRuns(runs ?? [], older).length;
        setRuns((cur) => mergeRuns(cur ?? [], older));
        setHasMore(page.length > HISTORY_PAGE);
      })
      .catch((e: unknown) => setError((e as Error)?.message ?? String(e)))
      .finally(() => setLoadingMore(false));
  }, [client, pipeline, status, trigger, filterKey, runs, loadingMore]);

  return { runs, hasMore, loadingMore, error, loadMore };
}
