import { useEffect, useRef } from 'react';

/**
 * Calls `tick` now and every `ms` while `enabled` and the page is visible; a hidden tab stops
 * the timer and calls `tick` again as soon as it is shown. `tick` is read through a ref, so a new
 * function each render neither restarts the timer nor runs stale state.
 */
export function usePolling(tick: () => void, ms: number, enabled: boolean): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!enabled) return;
    let timer: ReturnType<typeof setInterval> | null = null;
    const stop = () => {
      if (timer !== null) clearInterval(timer);
      timer = null;
    };
    const sync = () => {
      if (document.visibilityState === 'hidden') return stop();
      if (timer !== null) return;
      latest.current();
      timer = setInterval(() => latest.current(), ms);
    };
    sync();
    document.addEventListener('visibilitychange', sync);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', sync);
    };
  }, [ms, enabled]);
}
