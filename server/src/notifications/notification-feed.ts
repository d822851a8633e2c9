import mongoose, { Types, type Connection } from 'mongoose';
import {
  feedQuerySchema,
  MAX_SCHEDULE_AHEAD_MS,
  type FeedPage,
  type JsonObject,
  type Notification,
  type PublishNotificationInput,
  type FeedCounts,
  type ReadResult,
} from '@herald/shared';
import type { UserChannelPublisher } from '../channels/user-channel-publisher';
import { AppError, ValidationError } from '../platform/errors';
import type { CountFeed } from './feed-counts';
import { createFilterCounts, type FilterCounts } from './filter-counts';
import { filterFromQuery, queryDataConditions } from './notification-filter';
import { NOT_A_GAP, notificationModel, toGap, type NotificationDoc } from './notification-model';
import type { JobStore } from './scheduled-jobs';
import { recordSeqFloors } from './sequence';
import { toNotification } from './to-notification';

/**
 * One user's feed: pages and state changes. Every query is scoped by `userId`,
 * so another user's id behaves exactly like a missing one (404 or ignored).
 * Each change is stored first, then announced at most once on the user's
 * channel so their other tabs and devices (on any instance) update without
 * asking; a lost announcement is repaired by the next counts or sync.
 */
export interface NotificationFeed {
  counts(userId: string): Promise<FeedCounts>;
  /** `{ unread, unseen }` per named filter (tabs with badges), from a CountsRequest as sent: see filter-counts.ts. */
  countsFor: FilterCounts;
  /** Newest first, paged by seq so a page never shifts when new notifications arrive; filtered by category, tags and data fields. */
  list(userId: string, rawQuery: unknown): Promise<FeedPage>;
  /** Marks the caller's own notifications read; other ids are ignored. `originSocketId` is not echoed to. */
  markRead(userId: string, ids: string[], originSocketId?: string): Promise<ReadResult>;
  /** Marks the caller's own notifications seen (shown in the open panel); other ids are ignored. */
  markSeen(userId: string, ids: string[], originSocketId?: string): Promise<ReadResult>;
  read(userId: string, id: string): Promise<{ notification: Notification; counts: FeedCounts }>;
  unread(userId: string, id: string): Promise<{ notification: Notification; counts: FeedCounts }>;
  archive(userId: string, id: string): Promise<{ notification: Notification; counts: FeedCounts }>;
  unarchive(userId: string, id: string): Promise<{ notification: Notification; counts: FeedCounts }>;
  /**
   * The user clicked one of the notification's actions: recorded once (interactedAt, actionId; it is
   * read too), announced to their other tabs and devices, and reported through `onAction` (the event
   * bus). A later click of any action answers the notification as it is, reporting nothing.
   */
  act(userId: string, id: string, actionId: string, originSocketId?: string): Promise<{ notification: Notification; counts: FeedCounts }>;
  readAll(userId: string): Promise<FeedCounts>;
  seenAll(userId: string): Promise<FeedCounts>;
  /** Deletes one notification; its seq is never handed out again. */
  remove(userId: string, id: string): Promise<FeedCounts>;
  /** Deletes those of these notifications that are still there (expiry); returns their ids. */
  removeMany(userId: string, ids: string[]): Promise<string[]>;
  /**
   * Hides the notification on every device until `until` (it is removed, and a `wake` job publishes it
   * again then, unread, as a new item). Answers the counts without it.
   */
  snooze(userId: string, id: string, until: string): Promise<{ counts: FeedCounts; until: string }>;
}

/** The publish that brings a snoozed notification back: what it said, to its user. */
function republishInput(doc: NotificationDoc): PublishNotificationInput {
  return {
    userIds: [doc.userId],
    type: doc.type,
    title: doc.title,
    ...(doc.body !== undefined && doc.body !== null ? { body: doc.body } : {}),
    ...(doc.actionUrl ? { actionUrl: doc.actionUrl } : {}),
    ...(doc.actor ? { actor: { id: doc.actor.id, name: doc.actor.name } } : {}),
    ...(doc.data ? { data: doc.data as JsonObject } : {}),
    ...(doc.category ? { category: doc.category } : {}),
    ...(doc.tags?.length ? { tags: [...doc.tags] } : {}),
    ...(doc.actions?.length ? { actions: doc.actions.map((a) => ({ id: a.id, label: a.label, ...(a.url ? { url: a.url } : {}) })) } : {}),
    ...(doc.dedupeKey ? { dedupeKey: doc.dedupeKey } : {}),
    ...(doc.expiresAt ? { expiresAt: doc.expiresAt.toISOString() } : {}),
  };
}

type StateField = 'readAt' | 'seenAt' | 'archivedAt';

/**
 * The writes that set `field` to now where it is unset, as one command (a bulk write is one `update`
 * with several statements). Reading something also means it was seen: unread and unseen ones get both
 * dates, unread but seen ones keep their seenAt. Each statement matches only what changes, through the
 * (userId, readAt) index on MongoDB.
 */
function setNow(filter: Record<string, unknown>, field: StateField, now: Date) {
  if (field !== 'readAt') return [{ updateMany: { filter: { ...filter, [field]: null }, update: { $set: { [field]: now } } } }];
  return [
    { updateMany: { filter: { ...filter, readAt: null, seenAt: null }, update: { $set: { readAt: now, seenAt: now } } } },
    { updateMany: { filter: { ...filter, readAt: null }, update: { $set: { readAt: now } } } },
  ];
}

function notFound(): AppError {
  return new AppError('not_found', 'No such notification.');
}

export function createNotificationFeed(deps: {
  connection: Connection;
  userChannel: UserChannelPublisher;
  counts: CountFeed;
  /** Told about each first click of an action (the event bus's `notification.action`); its failure is logged, not thrown. */
  onAction?: (notification: Notification) => Promise<void>;
  /** Where snoozed notifications wait to come back. */
  jobs: JobStore;
}): NotificationFeed {
  const Notification = notificationModel(deps.connection);
  const { counts } = deps;
  const countsFor = createFilterCounts({ connection: deps.connection });

  async function list(userId: string, rawQuery: unknown): Promise<FeedPage> {
    const query = rawQuery && typeof rawQuery === 'object' ? (rawQuery as Record<string, unknown>) : {};
    const { filter: selected, rest } = filterFromQuery(query);
    const parsed = feedQuerySchema.safeParse(rest);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'query');
    const { limit, before, unread, archived } = parsed.data;
    const filter: Record<string, unknown> = { userId, gap: mongoose.trusted(NOT_A_GAP.gap), ...queryDataConditions(selected) };
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

  async function announce(userId: string, notifications: Notification[], originSocketId?: string): Promise<FeedCounts> {
    const fresh = await counts(userId);
    await deps.userChannel.publish([
      { userId, message: { kind: 'updated', notifications, counts: fresh, ...(originSocketId ? { originSocketId } : {}) } },
    ]);
    return fresh;
  }

  /** Sets (now) or clears one state field on the caller's own notifications; unchanged ones are left alone. */
  async function setState(userId: string, ids: string[], field: StateField, on: boolean, originSocketId?: string): Promise<ReadResult> {
    const objectIds = ids.map((id) => new Types.ObjectId(id));
    const now = new Date();
    const idFilter = { _id: mongoose.trusted({ $in: objectIds }), userId, gap: mongoose.trusted(NOT_A_GAP.gap) };
    if (on) {
      await Notification.bulkWrite(setNow(idFilter, field, now));
    } else {
      await Notification.updateMany({ ...idFilter, [field]: mongoose.trusted({ $ne: null }) }, { $set: { [field]: null } });
    }
    const docs = await Notification.find(idFilter).sort({ seq: -1 }).lean();
    const notifications = docs.map((doc) => toNotification(doc));
    const fresh = notifications.length > 0 ? await announce(userId, notifications, originSocketId) : await counts(userId);
    return { notifications, counts: fresh };
  }

  async function setOne(userId: string, id: string, field: StateField, on: boolean) {
    const { notifications, counts: fresh } = await setState(userId, [id], field, on);
    const [notification] = notifications;
    if (!notification) throw notFound();
    return { notification, counts: fresh };
  }

  /** Sets a field on every matching notification of the user, then announces the new counts. */
  async function setAll(userId: string, field: 'readAt' | 'seenAt'): Promise<FeedCounts> {
    // (Gaps are read, seen and archived from the start: these never touch one.)
    await Notification.bulkWrite(setNow({ userId }, field, new Date()));
    const fresh = await counts(userId);
    await deps.userChannel.publish([{ userId, message: { kind: 'counts', counts: fresh } }]);
    return fresh;
  }

  async function act(userId: string, id: string, actionId: string, originSocketId?: string) {
    const scope = { _id: new Types.ObjectId(id), userId, gap: mongoose.trusted(NOT_A_GAP.gap) };
    const doc = await Notification.findOne(scope).lean();
    if (!doc) throw notFound();
    if (!doc.actions?.some((action) => action.id === actionId)) {
      throw new ValidationError('This notification has no such action.', [{ path: 'actionId', message: 'not one of its actions' }]);
    }
    const now = new Date();
    // Once: the condition makes a second click (or a race with another tab) change nothing.
    const { modifiedCount } = await Notification.updateOne(
      { ...scope, interactedAt: null },
      { $set: { interactedAt: now, actionId, readAt: doc.readAt ?? now, seenAt: doc.seenAt ?? now } },
    );
    const fresh = await Notification.findOne(scope).lean();
    if (!fresh) throw notFound();
    const notification = toNotification(fresh);
    if (modifiedCount === 0) return { notification, counts: await counts(userId) };
    const latest = await announce(userId, [notification], originSocketId);
    await deps.onAction?.(notification);
    return { notification, counts: latest };
  }

  /**
   * A group's newest item, deleted, stays its key's newest as a known gap with its group and slot: the
   * next notification of the key starts a new group after it (see placeInGroup) in the slot after its
   * own, instead of at the first slot, which the group's replaced items still hold.
   */
  function keptPlace(doc: Pick<NotificationDoc, 'group' | 'groupHead' | 'groupSlot'>) {
    return doc.groupHead && doc.group ? { group: doc.group, groupHead: doc.groupHead, groupSlot: doc.groupSlot } : {};
  }

  /**
   * Turns those of the user's notifications with these ids that are still there into known gaps (not
   * removed: clients syncing over their seqs know at once they hold nothing), then tells the user's
   * devices with fresh counts. Null when none was there.
   */
  async function removeIds(userId: string, ids: string[]): Promise<{ removed: string[]; counts: FeedCounts } | null> {
    const docs = await Notification.find(
      { _id: mongoose.trusted({ $in: ids.map((id) => new Types.ObjectId(id)) }), userId, gap: mongoose.trusted(NOT_A_GAP.gap) },
      { seq: 1, key: 1, group: 1, groupHead: 1, groupSlot: 1 },
    ).lean();
    if (docs.length === 0) return null;
    // Their seqs must never be handed out again, even if one was the newest and the counters are rebuilt.
    await recordSeqFloors(deps.connection, new Map([[userId, Math.max(...docs.map((doc) => doc.seq))]]));
    const now = new Date();
    const result = await Notification.collection.bulkWrite(
      docs.map((doc) => ({
        // Deleting frees a dedupeKey (the same event may notify again); an Idempotency-Key stays held.
        updateOne: { filter: { _id: doc._id, userId, gap: NOT_A_GAP.gap }, update: toGap(now, keptPlace(doc), doc.key?.startsWith('d:')) },
      })),
      { ordered: false },
    );
    if (result.matchedCount === 0) return null;
    const fresh = await counts(userId);
    const removed = docs.map((doc) => doc._id.toHexString());
    await deps.userChannel.publish([{ userId, message: { kind: 'deleted', ids: removed, counts: fresh } }]);
    return { removed, counts: fresh };
  }

  async function remove(userId: string, id: string): Promise<FeedCounts> {
    const result = await removeIds(userId, [id]);
    if (!result) throw notFound();
    return result.counts;
  }

  async function snooze(userId: string, id: string, until: string): Promise<{ counts: FeedCounts; until: string }> {
    const at = Date.parse(until);
    if (!(at > Date.now() + 1000 && at <= Date.now() + MAX_SCHEDULE_AHEAD_MS)) {
      throw new ValidationError('Snooze until a time in the next year.', [
        { path: 'until', message: 'must be in the future, within a year' },
      ]);
    }
    const doc = await Notification.findOne({ _id: new Types.ObjectId(id), userId, gap: mongoose.trusted(NOT_A_GAP.gap) }).lean();
    if (!doc) throw notFound();
    // The way back first: a snooze that stops after this still brings the notification back (and the
    // wake job removes it first if it was not removed here), never loses it.
    await deps.jobs.add({ _id: `wake:${id}`, kind: 'wake', dueAt: new Date(at), input: republishInput(doc), targets: [{ userId, id }] });
    const result = await removeIds(userId, [id]);
    return { counts: result?.counts ?? (await counts(userId)), until: new Date(at).toISOString() };
  }

  return {
    counts,
    countsFor,
    list,
    markRead: (userId, ids, originSocketId) => setState(userId, ids, 'readAt', true, originSocketId),
    markSeen: (userId, ids, originSocketId) => setState(userId, ids, 'seenAt', true, originSocketId),
    read: (userId, id) => setOne(userId, id, 'readAt', true),
    unread: (userId, id) => setOne(userId, id, 'readAt', false),
    archive: (userId, id) => setOne(userId, id, 'archivedAt', true),
    unarchive: (userId, id) => setOne(userId, id, 'archivedAt', false),
    act,
    readAll: (userId) => setAll(userId, 'readAt'),
    seenAll: (userId) => setAll(userId, 'seenAt'),
    remove,
    removeMany: async (userId, ids) => (await removeIds(userId, ids))?.removed ?? [],
    snooze,
  };
}
