import type { Logger } from '../platform/logger';

/**
 * Runs `check` every `intervalMs`, never two at once (a slow run is not stacked on itself). A failed
 * run (Redis down, say) is logged at most every 10 s and tried again at the next tick; one that fails
 * after the stop is not logged. Returns the function that stops it. The timer does not keep the process alive.
 *
 * @example
 * const stop = everyInterval(1000, check, log, 'staleness check skipped');
 */
export function everyInterval(intervalMs: number, check: () => Promise<void>, log: Logger, failure: string): () => void {
  let running = false;
  let stopped = false;
  let lastError = 0;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    check()
      .catch((error: unknown) => {
        // A run still in flight when the instance stopped fails as its clients close: nothing to report.
        if (!stopped && Date.now() - lastError > 10_000) {
          lastError = Date.now();
          log.warn({ err: error }, failure);
        }
      })
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
