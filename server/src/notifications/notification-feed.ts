import mongoose, { Types, type Connection } from 'mongoose';
import {
  SYNC_PAGE_SIZE,
  feedQuerySchema,
  type FeedPage,
  type Notification,
  type NotificationCounts,
  type ReadResult,
  type SyncResult,
} from '@herald/shared';
import { databaseTraits } from '../db-traits';
import { AppError, ValidationError } from '../errors';
import type { FeedCache } from './feed-cache';
import { notificationId } from './notification-id';
import { notificationModel, type NotificationDoc } from './notification-model';
import { recordSeqFloors, type SequenceAllocator } from './sequence';
import { toNotification } from './to-notification';
import type { UserEvents } from './user-events';

type StateField = 'readAt' | 'seenAt' | 'archivedAt';

function notFound(): AppError {
  return new AppError('not_found', 'No such notification.', 404);
}

/**
 * The feed of one user: reads and state changes, every query scoped by
 * `userId` so another user's id behaves exactly like a missing one. Each
 * change is announced on the user's channel so their other tabs and devices
 * (on any gateway instance) update without asking.
 */
export function createNotificationFeed(deps: {
  connection: Connection;
  events: UserEvents;
  sequences: SequenceAllocator;
  cache: FeedCache;
  /** How catch-up reads what the cache lacks: 'auto' picks by the database (see DatabaseTraits). @default "auto" */
  syncReads?: 'auto' | 'range' | 'by-id';
}) {
  const Notification = notificationModel(deps.connection);

  function countInDatabase(userId: string): Promise<NotificationCounts> {
    const owner = new Types.ObjectId(userId);
    return Promise.all([
      Notification.countDocuments({ userId: owner, readAt: null, archivedAt: null }),
      Notification.countDocuments({ userId: owner, seenAt: null, archivedAt: null }),
    ]).then(([unread, unseen]) => ({ unread, unseen }));
  }

  function counts(userId: string): Promise<NotificationCounts> {
    return deps.cache.counts(userId, () => countInDatabase(userId));
  }

  /**
   * Everything after `afterSeq`, oldest first, up to `limit`. When the user's seq counter says the gap
   * is at most a page, the missed seqs are known: they come from the cache of recent notifications,
   * and whatever it lacks is read by _id (on a database without secondary indexes) or by the indexed
   * range query. A wider gap, or no counter, is a range query.
   */
  async function readRange(userId: string, afterSeq: number, limit: number): Promise<{ notifications: Notification[]; hasMore: boolean }> {
    const highest = await deps.sequences.highest(userId);
    const window = highest !== null && highest - afterSeq <= limit ? await readWindow(userId, afterSeq, highest) : undefined;
    if (window) return { notifications: window, hasMore: false };
    const docs = await Notification.find({ userId: new Types.ObjectId(userId), seq: mongoose.trusted({ $gt: afterSeq }) })
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
    if (byId) {
      const found = await Promise.all(missing.map((seq) => Notification.findById(notificationId(userId, seq)).lean<NotificationDoc>()));
      const owner = userId.toLowerCase();
      const fromDb = new Map(
        found.filter((doc) => doc !== null && doc.userId.toHexString() === owner).map((doc) => [doc!.seq, toNotification(doc!)]),
      );
      return seqs.map((seq, i) => cached[i] ?? fromDb.get(seq)).filter((n): n is Notification => n !== undefined);
    }
    return undefined;
  }

  /** Everything after `afterSeq`, oldest first, one page at a time, plus fresh counts. */
  async function syncAfter(userId: string, afterSeq: number, limit = SYNC_PAGE_SIZE): Promise<SyncResult> {
    const [{ notifications, hasMore }, fresh] = await Promise.all([readRange(userId, afterSeq, limit), counts(userId)]);
    return { notifications, hasMore, counts: fresh };
  }

  /** Newest first, paged by seq so a page never shifts when new notifications arrive. */
  async function list(userId: string, rawQuery: unknown): Promise<FeedPage> {
    const parsed = feedQuerySchema.safeParse(rawQuery);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'query');
    const { limit, before, unread, archived } = parsed.data;
    const filter: Record<string, unknown> = { userId: new Types.ObjectId(userId) };
    filter.archivedAt = archived === 'true' ? mongoose.trusted({ $ne: null }) : null;
    if (unread === 'true') filter.readAt = null;
    if (before !== undefined) filter.seq = mongoose.trusted({ $lt: Number(before) });
    const docs = await Notification.find(filter)
      .sort({ seq: -1 })
      .limit(limit + 1)
      .lean();
    const page = docs.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((doc) => toNotification(doc)), nextCursor: docs.length > limit && last ? String(last.seq) : null };
  }

  async function announce(userId: string, notifications: Notification[], originSocketId?: string): Promise<NotificationCounts> {
    const fresh = await counts(userId);
    await deps.events.publish([
      { userId, message: { kind: 'updated', notifications, counts: fresh, ...(originSocketId ? { originSocketId } : {}) } },
    ]);
    return fresh;
  }

  /** Sets (now) or clears one state field on the caller's own notifications; unchanged ones are left alone. */
  async function setState(userId: string, ids: string[], field: StateField, on: boolean, originSocketId?: string): Promise<ReadResult> {
    const owner = new Types.ObjectId(userId);
    const objectIds = ids.map((id) => new Types.ObjectId(id));
    const now = new Date();
    const idFilter = { _id: mongoose.trusted({ $in: objectIds }), userId: owner };
    if (on) {
      await Notification.updateMany({ ...idFilter, [field]: null }, { $set: { [field]: now } });
      // Reading something also means it was seen.
      if (field === 'readAt') await Notification.updateMany({ ...idFilter, seenAt: null }, { $set: { seenAt: now } });
    } else {
      await Notification.updateMany({ ...idFilter, [field]: mongoose.trusted({ $ne: null }) }, { $set: { [field]: null } });
    }
    await deps.cache.changed([userId]);
    const docs = await Notification.find(idFilter).sort({ seq: -1 }).lean();
    const notifications = docs.map((doc) => toNotification(doc));
    const fresh = notifications.length > 0 ? await announce(userId, notifications, originSocketId) : await counts(userId);
    return { notifications, counts: fresh };
  }

  async function setOne(
    userId: string,
    id: string,
    field: StateField,
    on: boolean,
  ): Promise<{ notification: Notification; counts: NotificationCounts }> {
    const { notifications, counts: fresh } = await setState(userId, [id], field, on);
    const [notification] = notifications;
    if (!notification) throw notFound();
    return { notification, counts: fresh };
  }

  /** Sets a field on every matching notification of the user, then announces the new counts. */
  async function setAll(userId: string, field: 'readAt' | 'seenAt'): Promise<NotificationCounts> {
    const owner = new Types.ObjectId(userId);
    const now = new Date();
    await Notification.updateMany({ userId: owner, [field]: null }, { $set: { [field]: now } });
    if (field === 'readAt') await Notification.updateMany({ userId: owner, seenAt: null }, { $set: { seenAt: now } });
    await deps.cache.changed([userId]);
    const fresh = await counts(userId);
    await deps.events.publish([{ userId, message: { kind: 'counts', counts: fresh } }]);
    return fresh;
  }

  async function remove(userId: string, id: string): Promise<NotificationCounts> {
    const owner = new Types.ObjectId(userId);
    const doc = await Notification.findOne({ _id: new Types.ObjectId(id), userId: owner }, { seq: 1 }).lean();
    if (!doc) throw notFound();
    // Its seq must never be handed out again, even if it was the newest and the counters are rebuilt.
    await recordSeqFloors(deps.connection, new Map([[userId, doc.seq]]));
    const result = await Notification.deleteOne({ _id: doc._id, userId: owner });
    if (result.deletedCount === 0) throw notFound();
    await deps.cache.changed([userId]);
    const fresh = await counts(userId);
    await deps.events.publish([{ userId, message: { kind: 'deleted', ids: [id], counts: fresh } }]);
    return fresh;
  }

  return {
    counts,
    syncAfter,
    list,
    markRead: (userId: string, ids: string[], originSocketId?: string) => setState(userId, ids, 'readAt', true, originSocketId),
    read: (userId: string, id: string) => setOne(userId, id, 'readAt', true),
    unread: (userId: string, id: string) => setOne(userId, id, 'readAt', false),
    archive: (userId: string, id: string) => setOne(userId, id, 'archivedAt', true),
    unarchive: (userId: string, id: string) => setOne(userId, id, 'archivedAt', false),
    readAll: (userId: string) => setAll(userId, 'readAt'),
    seenAll: (userId: string) => setAll(userId, 'seenAt'),
    remove,
  };
}

export type NotificationFeed = ReturnType<typeof createNotificationFeed>;
export type { NotificationDoc };
