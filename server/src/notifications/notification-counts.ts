import type { Connection } from 'mongoose';
import type { NotificationCounts } from '@herald/shared';
import type { FeedCache } from './feed-cache';
import { notificationModel } from './notification-model';

/** A user's `{ unread, unseen }`: from the feed cache when it is valid, else counted in the database (and cached). */
export type CountFeed = (userId: string) => Promise<NotificationCounts>;

export function createCountFeed(deps: { connection: Connection; cache: FeedCache }): CountFeed {
  const Notification = notificationModel(deps.connection);

  function countInDatabase(userId: string): Promise<NotificationCounts> {
    return Promise.all([
      Notification.countDocuments({ userId, readAt: null, archivedAt: null }),
      Notification.countDocuments({ userId, seenAt: null, archivedAt: null }),
    ]).then(([unread, unseen]) => ({ unread, unseen }));
  }

  return (userId) => deps.cache.counts(userId, () => countInDatabase(userId));
}
