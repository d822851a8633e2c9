import mongoose, { type Connection } from 'mongoose';
import { SYNC_PAGE_SIZE, type Notification, type SyncResult } from '@herald/shared';
import { databaseTraits } from '../platform/db-traits';
import type { FeedCache } from './feed-cache';
import type { CountFeed } from './notification-counts';
import { notificationId } from './notification-id';
import { notificationModel, type NotificationDoc } from './notification-model';
import type { SequenceAllocator } from './sequence';
import { toNotification } from './to-notification';

/**
 * Exact catch-up: the answer to `notifications:sync`. Guarantee: every
 * notification of the user stored with a seq above `afterSeq` when the read
 * runs is returned, oldest first, once, in pages of `limit` (`hasMore` until
 * the last). Together with the client's seq watermark this is what makes
 * at-most-once pub/sub lossless.
 */
export interface CatchUp {
  syncAfter(userId: string, afterSeq: number, limit?: number): Promise<SyncResult>;
}

/**
 * When the user's seq counter says the gap is at most a page, the missed seqs
 * are known: they come from the cache of recent notifications, and whatever it
 * lacks is read by _id (on a database without secondary indexes) or by the
 * indexed range query. A wider gap, or no counter, is a range query.
 */
export function createCatchUp(deps: {
  connection: Connection;
  sequences: SequenceAllocator;
  cache: FeedCache;
  counts: CountFeed;
  /** How catch-up reads what the cache lacks: 'auto' picks by the database (see DatabaseTraits). @default "auto" */
  syncReads?: 'auto' | 'range' | 'by-id';
}): CatchUp {
  const Notification = notificationModel(deps.connection);

  async function readRange(userId: string, afterSeq: number, limit: number): Promise<{ notifications: Notification[]; hasMore: boolean }> {
    const highest = await deps.sequences.highest(userId);
    const window = highest !== null && highest - afterSeq <= limit ? await readWindow(userId, afterSeq, highest) : undefined;
    if (window) return { notifications: window, hasMore: false };
    const docs = await Notification.find({ userId, seq: mongoose.trusted({ $gt: afterSeq }) })
      .sort({ seq: 1 })
      .limit(limit + 1)
      .lean();
    return { notifications: docs.slice(0, limit).map((doc) => toNotification(doc)), hasMore: docs.length > limit };
  }

  /**
   * Seqs (afterSeq, highest] from the cache, and what it lacks by _id on a database without secondary
   * indexes. Undefined when the range query should answer instead: on MongoDB when the cache lacks
   * some, and whenever the counter turns out to lag behind what is stored (a Redis restored from an
   * older snapshot): one lookup of seq highest + 1 catches that, and the counter is repaired.
   */
  async function readWindow(userId: string, afterSeq: number, highest: number): Promise<Notification[] | undefined> {
    const seqs = Array.from({ length: Math.max(0, highest - afterSeq) }, (_, i) => afterSeq + 1 + i);
    const [beyond, cached] = await Promise.all([
      // Through the driver: this runs on every catch-up, and a mongoose query costs more CPU than the lookup.
      Notification.collection.findOne({ _id: notificationId(userId, highest + 1) }, { projection: { _id: 1 } }),
      deps.cache.recent(userId, seqs),
    ]);
    if (beyond) {
      await deps.sequences.repair([userId]);
      return undefined;
    }
    const missing = seqs.filter((_, i) => cached[i] === undefined);
    if (missing.length === 0) return cached as Notification[];
    const mode = deps.syncReads ?? 'auto';
    const byId = mode === 'by-id' || (mode === 'auto' && !(await databaseTraits(deps.connection)).secondaryIndexes);
    if (!byId) return undefined;
    const found = await Promise.all(missing.map((seq) => Notification.findById(notificationId(userId, seq)).lean<NotificationDoc>()));
    const fromDb = new Map(found.filter((doc) => doc !== null && doc.userId === userId).map((doc) => [doc!.seq, toNotification(doc!)]));
    return seqs.map((seq, i) => cached[i] ?? fromDb.get(seq)).filter((n): n is Notification => n !== undefined);
  }

  return {
    async syncAfter(userId, afterSeq, limit = SYNC_PAGE_SIZE) {
      const [{ notifications, hasMore }, counts] = await Promise.all([readRange(userId, afterSeq, limit), deps.counts(userId)]);
      return { notifications, hasMore, counts };
    },
  };
}
