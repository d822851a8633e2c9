/** Polls until the check passes (returns without throwing) or the time runs out; rethrows the last failure. */
export async function waitFor(check: () => void | Promise<void>, timeoutMs = 5000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Exactly<T> {
  /** Pass as the event listener. */
  record: (item: T) => void;
  /** Everything recorded so far. */
  readonly items: readonly T[];
  /**
   * Resolves with the n items once they are in, and `quietMs` more have passed without another (the
   * window a duplicate would show up in); rejects after `timeoutMs`, or when one too many arrives.
   */
  settled(options?: { timeoutMs?: number; quietMs?: number }): Promise<T[]>;
}

const recorders = new Set<{ check(): void }>();

// Every recorder of a test is checked once more after it: a copy that arrived late, while the test
// went on with other steps, still fails that test instead of passing unseen.
afterEach(() => {
  const open = [...recorders];
  recorders.clear();
  for (const recorder of open) recorder.check();
});

/**
 * A recorder for "this happens exactly n times" (socket.io-redis-adapter's
 * `times(n)`): it fails on one call too many, instead of sleeping and counting.
 */
export function exactly<T>(n: number, what = 'event'): Exactly<T> {
  const items: T[] = [];
  let tooMany: Error | undefined;
  let wake: (() => void) | undefined;
  const check = () => {
    if (tooMany) throw tooMany;
  };
  recorders.add({ check });
  return {
    items,
    record(item) {
      items.push(item);
      if (items.length > n) tooMany ??= new Error(`expected exactly ${n} ${what}(s), got one too many: ${JSON.stringify(item)}`);
      if (items.length >= n) wake?.();
    },
    async settled({ timeoutMs = 10_000, quietMs = 0 } = {}) {
      if (items.length < n) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`expected ${n} ${what}(s) within ${timeoutMs} ms, got ${items.length}`)),
            timeoutMs,
          );
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      check();
      if (quietMs > 0) await sleep(quietMs);
      check();
      return [...items];
    },
  };
}
