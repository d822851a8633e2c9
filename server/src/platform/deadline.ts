import { PersistenceError } from './errors';

/**
 * How long a request path waits for the database before the caller is told to retry: under the 5 s a
 * client is promised, with room for the rest of the request.
 */
export const DATABASE_DEADLINE_MS = 4500;

/**
 * Rejects with `database_unavailable` (503, retryable) when `work` has not settled within the deadline.
 * The work is not cancelled: what it does later (a write the database applies once it resumes) still
 * runs to its end, so callers must stay correct when it does (idempotency plans, the staleness check).
 *
 * @example
 * const page = await withDatabaseDeadline(Notification.find({ userId }).lean());
 */
export function withDatabaseDeadline<T>(work: Promise<T>, ms = DATABASE_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PersistenceError(
            `The database did not answer within ${Math.round(ms / 100) / 10} s. Try again shortly.`,
            new Error(`database deadline of ${ms} ms passed`),
          ),
        ),
      ms,
    );
  });
  // The work's own failure after the deadline is nobody's to hear: keep it from being an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

type AsyncMethods<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : T[K];
};

/**
 * The same service with every method that returns a promise bounded by the database deadline: the
 * one place a domain service (the feed, catch-up, topics) gets its request-path deadline.
 *
 * @example
 * const feed = withDatabaseDeadlines(createNotificationFeed(deps));
 */
export function withDatabaseDeadlines<T extends object>(service: T, ms = DATABASE_DEADLINE_MS): AsyncMethods<T> {
  const bounded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(service)) {
    bounded[name] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            const result: unknown = (value as (...a: unknown[]) => unknown).apply(service, args);
            return result instanceof Promise ? withDatabaseDeadline(result, ms) : result;
          }
        : value;
  }
  return bounded as AsyncMethods<T>;
}
