import { useEffect, useRef, type DependencyList } from 'react';

/**
 * Runs `load` now and whenever `deps` change, and then every `intervalMs` while that is not
 * null (null pauses the polling; a number again resumes it, one interval later). The next run
 * is timed from the end of the previous one, so slow answers never pile up. `live()` turns
 * false once the component is gone or `deps` changed: a late answer is then dropped instead of
 * overwriting a newer one. `load` shows its own errors.
 */
export function usePolling(load: (live: () => boolean) => Promise<unknown> | void, intervalMs: number | null, deps: DependencyList): void {
  // The newest `load` and interval, so that a poll sees the current state without a restart.
  const latest = useRef({ load, intervalMs });
  const loop = useRef<{ retime: () => void } | null>(null);
  useEffect(() => {
    latest.current = { load, intervalMs };
  });

  useEffect(() => {
    let live = true;
    let running = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const isLive = () => live;
    const schedule = () => {
      clearTimeout(timer);
      const every = latest.current.intervalMs;
      timer = every === null ? undefined : setTimeout(run, every);
    };
    const run = async () => {
      running = true;
      try {
        await latest.current.load(isLive);
      } catch {
        // Nothing to add to what `load` showed: the next poll tries again.
      }
      running = false;
      if (live) schedule();
    };
    // A run in progress schedules the next one itself when it ends.
    loop.current = { retime: () => live && !running && schedule() };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    loop.current?.retime();
  }, [intervalMs]);
}
