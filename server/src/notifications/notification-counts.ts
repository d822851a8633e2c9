import type { Connection } from 'mongoose';
import type { NotificationCounts } from '@herald/shared';
import { databaseTraits } from '../platform/db-traits';
import type { CountsWithState, FeedCache, SyncSnapshot } from './feed-cache';
import { notificationModel } from './notification-model';

/** A user's `{ unread, unseen }`: from the feed cache when it is valid, else counted in the database (and cached). */
export interface CountFeed {
  (userId: string): Promise<NotificationCounts>;
  /** The counts, and whether a publish for the user was in flight (they may leave its notification out). */
  withState(userId: string): Promise<CountsWithState>;
  /** withState for a sync from `afterSeq`, with what the cache read at the same instant (see FeedCache.syncRead). */
  forSync(userId: string, afterSeq: number, limit: number): Promise<SyncSnapshot>;
}

/**
 * How many notifications `query` (plain values, no casting needed) matches. countDocuments is an
 * aggregation; on Herald's FerretDB build the count command is one SQL COUNT instead, with no document
 * read (see DatabaseTraits.sqlCounts).
 */
export async function countNotifications(connection: Connection, query: Record<string, unknown>): Promise<number> {
  const Notification = notificationModel(connection);
  if (!(await databaseTraits(connection)).sqlCounts) return Notification.countDocuments(query);
  const answer = await connection.db!.command({ count: Notification.collection.collectionName, query });
  return Number(answer.n);
}

export function createCountFeed(deps: { connection: Connection; cache: Pick<FeedCache, 'countsWithState' | 'syncRead'> }): CountFeed {
  const Notification = notificationModel(deps.connection);

  async function countInDatabase(userId: string): Promise<NotificationCounts> {
    const traits = await databaseTraits(deps.connection);
    if (!traits.secondaryIndexes && !traits.sqlCounts) {
      // A stock FerretDB runs each count as an aggregation that reads every notification of the user:
      // one read of the unread or unseen ones answers both (the 30-minute chaos run spent half of the
      // database's time in these counts). MongoDB and Herald's FerretDB build count, below.
      const docs = await Notification.find(
        { userId, archivedAt: null, $or: [{ readAt: null }, { seenAt: null }] },
        { _id: 0, readAt: 1, seenAt: 1 },
      ).lean();
      return { unread: docs.filter((doc) => !doc.readAt).length, unseen: docs.filter((doc) => !doc.seenAt).length };
    }
    const [unread, unseen] = await Promise.all([
      countNotifications(deps.connection, { userId, readAt: null, archivedAt: null }),
      countNotifications(deps.connection, { userId, seenAt: null, archivedAt: null }),
    ]);
    return { unread, unseen };
  }

  const withState = (userId: string) => deps.cache.countsWithState(userId, () => countInDatabase(userId));
  const forSync = (userId: string, afterSeq: number, limit: number) =>
    deps.cache.syncRead(userId, afterSeq, limit, () => countInDatabase(userId));
  return Object.assign(async (userId: string) => (await withState(userId)).counts, { withState, forSync });
}
