import { PersistenceError } from './errors';

/**
 * At most `concurrency` of one kind of database work at once; the rest wait their turn, first come
 * first served. A reconnect storm is thousands of syncs at once: handed to the driver all together
 * they queued in its connection pool, most timed out there (each failure a thrown error and a client
 * retry) and the database did a fraction of the work it could. Here they wait in a plain array and
 * reach the database at the rate it answers. A turn that comes after `maxWaitMs` is refused
 * (`database_unavailable`, retryable) without running: its caller has given up by then.
 *
 * @example
 * const admission = createAdmission(8, 3000);
 * const page = await admission.run(() => readPage(userId));
 */
export interface Admission {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createAdmission(concurrency: number, maxWaitMs: number): Admission {
  let active = 0;
  let waiting: { since: number; start: () => void; refuse: (error: Error) => void }[] = [];
  let head = 0;

  /** Hands free slots to the oldest waiters still worth starting. */
  function next(): void {
    const now = Date.now();
    while (active < concurrency && head < waiting.length) {
      const turn = waiting[head++]!;
      if (now - turn.since > maxWaitMs) {
        turn.refuse(new PersistenceError('The database is busy. Try again shortly.', new Error(`waited over ${maxWaitMs} ms for a turn`)));
        continue;
      }
      active++;
      turn.start();
    }
    // Drop the consumed part now and then, so the array does not hold every waiter ever seen.
    if (head > 1000 && head * 2 > waiting.length) {
      waiting = waiting.slice(head);
      head = 0;
    }
  }

  return {
    async run(work) {
      if (active < concurrency) active++;
      else await new Promise<void>((start, refuse) => waiting.push({ since: Date.now(), start, refuse }));
      try {
        return await work();
      } finally {
        active--;
        next();
      }
    },
  };
}
