import type { Connection } from 'mongoose';
import type { NotificationCounts } from '@herald/shared';
import { countUnreadAndUnseen } from '../storage/notification-reads';
import type { CountsWithState, FeedCache, SyncSnapshot } from './feed-cache';

/** A user's `{ unread, unseen }`: from the feed cache when it is valid, else counted in the database (and cached). */
export interface CountFeed {
  (userId: string): Promise<NotificationCounts>;
  /** The counts, and whether a publish for the user was in flight (they may leave its notification out). */
  withState(userId: string): Promise<CountsWithState>;
  /** withState for a sync from `afterSeq`, with what the cache read at the same instant (see FeedCache.syncRead). */
  forSync(userId: string, afterSeq: number, limit: number): Promise<SyncSnapshot>;
}

export function createCountFeed(deps: { connection: Connection; cache: Pick<FeedCache, 'countsWithState' | 'syncRead'> }): CountFeed {
  const countInDatabase = (userId: string) => countUnreadAndUnseen(deps.connection, userId);

  const withState = (userId: string) => deps.cache.countsWithState(userId, () => countInDatabase(userId));
  const forSync = (userId: string, afterSeq: number, limit: number) =>
    deps.cache.syncRead(userId, afterSeq, limit, () => countInDatabase(userId));
  return Object.assign(async (userId: string) => (await withState(userId)).counts, { withState, forSync });
}
