import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import { SYNC_PAGE_SIZE, type NotificationCounts, type SyncResult } from '@herald/shared';
import { PersistenceError } from '../errors';
import { notificationModel } from './notification-model';
import { toNotification } from './to-notification';

/** Read side of the feed, always scoped to one user. */
export function createNotificationFeed(connection: Connection) {
  const Notification = notificationModel(connection);

  async function counts(userId: string): Promise<NotificationCounts> {
    const owner = new Types.ObjectId(userId);
    const [unread, unseen] = await Promise.all([
      Notification.countDocuments({ userId: owner, readAt: null, archivedAt: null }),
      Notification.countDocuments({ userId: owner, seenAt: null, archivedAt: null }),
    ]);
    return { unread, unseen };
  }

  /** Everything after `afterSeq`, oldest first, one page at a time, plus fresh counts. */
  async function syncAfter(userId: string, afterSeq: number, limit = SYNC_PAGE_SIZE): Promise<SyncResult> {
    try {
      const owner = new Types.ObjectId(userId);
      const docs = await Notification.find({ userId: owner, seq: { $gt: afterSeq } })
        .sort({ seq: 1 })
        .limit(limit + 1)
        .lean();
      const hasMore = docs.length > limit;
      const page = hasMore ? docs.slice(0, limit) : docs;
      return { notifications: page.map((doc) => toNotification(doc)), hasMore, counts: await counts(userId) };
    } catch (error) {
      throw new PersistenceError('Could not read notifications right now. Try again shortly.', error);
    }
  }

  return { counts, syncAfter };
}

export type NotificationFeed = ReturnType<typeof createNotificationFeed>;
