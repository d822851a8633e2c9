import type { Connection } from 'mongoose';
import { countsRequestSchema, matchesFilter, type NotificationCounts } from '@herald/shared';
import { AppError, ValidationError } from '../platform/errors';
import { notificationModel } from './notification-model';

/**
 * The unread-or-unseen notifications one counts-per-filter request reads at most (the newest). Past it
 * each count is taken over these newest ones: a badge shows 99+ long before, and the default retention
 * keeps 1,000 notifications per user.
 */
export const FILTER_COUNTS_READ_LIMIT = 2000;
/** How long the database may take over that read before it stops it (the caller gets a retryable 503). */
export const FILTER_COUNTS_TIME_LIMIT_MS = 3000;
/** One request of a user runs, one more may wait behind it; more at once are refused (429). */
const MAX_QUEUED_PER_USER = 2;

/** `{ unread, unseen }` per named filter (tabs with badges), from a CountsRequest as sent. */
export type FilterCounts = (
  userId: string,
  rawRequest: unknown,
  options?: {
    /** Charges the caller's budget for the filters (one point each) before anything is read; throws when over it. */
    charge?: (filters: number) => Promise<void>;
  },
) => Promise<Record<string, NotificationCounts>>;

/**
 * Counts for several filters with one bounded read, however many filters: the user's unread or unseen
 * notifications (only the fields a filter looks at), matched in memory by the rule the client uses
 * (`matchesFilter`). A count per filter and state would be up to twenty queries at once, which let one
 * user take the whole database pool. Each user has at most one such read running on this instance.
 *
 * @example
 * const counts = createFilterCounts({ connection });
 * await counts('alice', { filters: { social: { category: 'social' } } }); // { social: { unread: 2, unseen: 1 } }
 */
export function createFilterCounts(deps: { connection: Connection }): FilterCounts {
  const Notification = notificationModel(deps.connection);
  const queues = new Map<string, { tail: Promise<unknown>; queued: number }>();

  async function oneAtATime<T>(userId: string, run: () => Promise<T>): Promise<T> {
    const queue = queues.get(userId) ?? { tail: Promise.resolve(), queued: 0 };
    if (queue.queued >= MAX_QUEUED_PER_USER) {
      throw new AppError('rate_limited', 'Your earlier counts requests are still running; retry in 1 s.', {
        details: { retryAfterSeconds: 1 },
      });
    }
    queue.queued += 1;
    queues.set(userId, queue);
    const result = queue.tail.then(run);
    queue.tail = result.catch(() => undefined);
    try {
      return await result;
    } finally {
      queue.queued -= 1;
      if (queue.queued === 0) queues.delete(userId);
    }
  }

  async function read(userId: string, withData: boolean) {
    try {
      return await Notification.find(
        { userId, archivedAt: null, $or: [{ readAt: null }, { seenAt: null }] },
        { _id: 0, readAt: 1, seenAt: 1, category: 1, tags: 1, ...(withData ? { data: 1 } : {}) },
      )
        .sort({ seq: -1 })
        .limit(FILTER_COUNTS_READ_LIMIT)
        .maxTimeMS(FILTER_COUNTS_TIME_LIMIT_MS)
        .lean();
    } catch (error) {
      // MaxTimeMSExpired: the database is too busy for this read now.
      if ((error as { code?: unknown }).code === 50) {
        throw new AppError('service_unavailable', 'Counting took too long; try again shortly.', { cause: error });
      }
      throw error;
    }
  }

  return async (userId, rawRequest, options = {}) => {
    const parsed = countsRequestSchema.safeParse(rawRequest);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'body');
    const named = Object.entries(parsed.data.filters);
    await options.charge?.(named.length);
    const withData = named.some(([, filter]) => filter.data !== undefined);
    const docs = await oneAtATime(userId, () => read(userId, withData));
    const counts: Record<string, NotificationCounts> = {};
    for (const [name, filter] of named) {
      let unread = 0;
      let unseen = 0;
      for (const doc of docs) {
        if (!matchesFilter(doc as Parameters<typeof matchesFilter>[0], filter)) continue;
        if (!doc.readAt) unread += 1;
        if (!doc.seenAt) unseen += 1;
      }
      counts[name] = { unread, unseen };
    }
    return counts;
  };
}
