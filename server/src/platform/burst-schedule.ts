/**
 * A DataLoader `batchScheduleFn` that batches harder under a burst: a batch is sent on the next turn
 * of the event loop, unless more than `burstPerSecond` batches went out in the current second; then it
 * waits `lingerMs` for more keys. A lone request pays nothing; a reconnect storm's thousands of
 * single-key batches become a few large ones (a database query costs about the same CPU for one key
 * as for hundreds).
 *
 * @example
 * new DataLoader(load, { cache: false, batchScheduleFn: burstSchedule({ lingerMs: 20, burstPerSecond: 50 }) });
 */
export function burstSchedule(options: { lingerMs: number; burstPerSecond: number; now?: () => number }): (flush: () => void) => void {
  const now = options.now ?? Date.now;
  let windowStart = Number.NEGATIVE_INFINITY;
  let batches = 0;
  return (flush) => {
    const at = now();
    if (at - windowStart >= 1000) {
      windowStart = at;
      batches = 0;
    }
    batches++;
    if (batches > options.burstPerSecond) setTimeout(flush, options.lingerMs);
    else setImmediate(flush);
  };
}
