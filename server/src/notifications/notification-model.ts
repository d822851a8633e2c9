import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Actor, NotificationAction } from '@herald/shared';
import { heraldModel } from '../platform/collections';

export interface NotificationDoc {
  _id: Types.ObjectId;
  /** The host app's user id, as given (opaque, case-sensitive). */
  userId: string;
  seq: number;
  type: string;
  title: string;
  body?: string;
  actionUrl?: string;
  actor?: Actor;
  /** Validated JSON (see jsonDataSchema); typed loosely here because mongoose cannot type a recursive JSON type. */
  data?: Record<string, unknown>;
  dedupeKey?: string;
  /**
   * At most one per (userId, key): `d:<dedupeKey>` or `i:<Idempotency-Key>` (see idempotency.ts and
   * KEY_INDEX). Kept when the notification becomes a known gap (deleted, or replaced in its group),
   * so a retry still finds where its copy went.
   */
  key?: string;
  /** Published with an Idempotency-Key: which request stored it (its key and content, hashed). */
  request?: string;
  category?: string;
  tags?: string[];
  actions?: NotificationAction[];
  createdAt: Date;
  readAt?: Date | null;
  seenAt?: Date | null;
  archivedAt?: Date | null;
  /** When one of its actions was clicked (once), and which. */
  interactedAt?: Date | null;
  actionId?: string;
  /** When it leaves the feed (an expiry job removes it; clients hide it from then on). */
  expiresAt?: Date;
  /**
   * A known gap, not a notification: its seq was handed out and will never hold one (the insert
   * failed, or its publisher was gone too long). It takes the seq's `_id`, so an insert arriving late
   * collides instead of landing where clients no longer look. Never listed, counted or returned.
   */
  gap?: boolean;
  /** On a known gap that was a grouped item: the item that replaced it, and its group key. */
  supersededBy?: string;
  groupKey?: string;
  /** A grouped item (see GroupState). */
  group?: GroupState;
  /**
   * `groupHead`, while this is its group key's newest item (a deleted one too, as a known gap):
   * `[userId, key]` (indexed, to find it). `groupSlot`, kept for good (replaced and closed items too):
   * `[userId, key, n]` (unique: two publishers building on the same item cannot both store one, and
   * one that read an item as the newest cannot store after it once another has).
   */
  groupHead?: string;
  groupSlot?: string;
  /** The off-page job that sends it beyond the app (see outbox.ts); only that job sends it. */
  outbox?: string;
}

/** What a grouped item knows of its group. */
export interface GroupState {
  /** Hex id of the group's first notification. */
  id: string;
  key: string;
  count: number;
  actorCount: number;
  /** Up to MAX_GROUP_ACTORS_KEPT different actors, newest first. */
  actors: Actor[];
  startedAt: Date;
  /** This item's place in its key's chain of items (the unique slot). */
  n: number;
  /** The title as published (the stored one may come from the group's title template). */
  memberTitle: string;
  /** The seq of the item this one replaced. */
  prevSeq?: number;
}

/** A notification before MongoDB assigns `_id` and `createdAt`. */
export type NewNotificationDoc = Omit<NotificationDoc, '_id' | 'createdAt'>;

export type NotificationModel = Model<NotificationDoc>;

const actionSchema = new Schema<NotificationAction>(
  { id: { type: String, required: true }, label: { type: String, required: true }, url: { type: String } },
  { _id: false },
);

const actorSchema = new Schema<Actor>({ id: { type: String, required: true }, name: { type: String, required: true } }, { _id: false });

const notificationSchema = new Schema<NotificationDoc>(
  {
    userId: { type: String, required: true },
    seq: { type: Number, required: true, min: 1 },
    type: { type: String, required: true },
    title: { type: String, required: true },
    body: { type: String },
    actionUrl: { type: String },
    actor: { type: actorSchema },
    data: { type: Schema.Types.Mixed },
    dedupeKey: { type: String },
    key: { type: String },
    request: { type: String },
    category: { type: String },
    // No default: a notification without tags stores none (mongoose would store []).
    tags: { type: [String], default: undefined },
    actions: { type: [actionSchema], default: undefined },
    interactedAt: { type: Date },
    actionId: { type: String },
    expiresAt: { type: Date },
    readAt: { type: Date, default: null },
    seenAt: { type: Date, default: null },
    archivedAt: { type: Date, default: null },
    gap: { type: Boolean },
    supersededBy: { type: String },
    groupKey: { type: String },
    group: { type: Schema.Types.Mixed },
    groupHead: { type: String },
    groupSlot: { type: String },
    outbox: { type: String },
  },
  {
    collection: 'notifications',
    timestamps: { createdAt: true, updatedAt: false },
    strict: 'throw',
    strictQuery: 'throw',
    versionKey: false,
  },
);

// Catch-up (`seq > afterSeq` ascending) and the feed (newest first) both walk this index;
// uniqueness makes a duplicated seq impossible even if two writers raced.
notificationSchema.index({ userId: 1, seq: 1 }, { unique: true });
// Unread counts.
notificationSchema.index({ userId: 1, readAt: 1 });

/**
 * One stored notification per (userId, key): the dedupeKey and the Idempotency-Key (see idempotency.ts).
 * Only notifications with a key are in it: on MongoDB through a partial filter; FerretDB has no partial
 * indexes, but its SQLite index holds no entry for a missing field (NULL), which SQLite never counts as
 * a duplicate, so the same unique index works there.
 */
export const KEY_INDEX = { key: { userId: 1, key: 1 }, name: 'userId_1_key_1' } as const;

/** Finds a group key's newest item (FerretDB uses an index whose first field a filter compares). */
export const GROUP_HEAD_INDEX = { key: { groupHead: 1 }, name: 'groupHead_1' } as const;
/** One item per (user, key, n): the compare-and-set between publishers of the same group. */
export const GROUP_SLOT_INDEX = { key: { groupSlot: 1 }, name: 'groupSlot_1' } as const;

/**
 * The feed's pages, newest first, by what they filter on: the inbox or the archive, a category (a tab),
 * a tag, and the state changes "read all" and "seen all" make. MongoDB walks each in seq order and stops
 * at the page's end. FerretDB uses an index only through its first field (userId, which every one of
 * these already has), so there they would only cost every insert more: ensureIndexes creates them on
 * MongoDB alone.
 */
export const FEED_INDEXES = [
  { key: { userId: 1, archivedAt: 1, seq: -1 }, name: 'userId_1_archivedAt_1_seq_-1' },
  { key: { userId: 1, category: 1, seq: -1 }, name: 'userId_1_category_1_seq_-1' },
  { key: { userId: 1, tags: 1, seq: -1 }, name: 'userId_1_tags_1_seq_-1' },
  { key: { userId: 1, seenAt: 1 }, name: 'userId_1_seenAt_1' },
] as const;

/** The filter that leaves known gaps out: every query that lists, counts or changes notifications has it. */
export const NOT_A_GAP = { gap: { $exists: false } } as const;

/** What a known gap does not have: everything a notification says, and its place in a group. */
const NOTIFICATION_FIELDS = [
  'body',
  'actionUrl',
  'actor',
  'data',
  'dedupeKey',
  'category',
  'tags',
  'actions',
  'interactedAt',
  'actionId',
  'expiresAt',
  'group',
  'groupHead',
  'groupSlot',
  'supersededBy',
  'groupKey',
] as const;

/**
 * The update that turns a stored notification into a known gap where it stands (a delete, a grouped item
 * replaced): `_id`, `userId`, `seq`, `request` and, unless `freeKey`, `key` stay, so the key stays held
 * and a keyed retry finds where its copy went; `keep` is set too.
 */
export function toGap(now: Date, keep: Partial<Pick<NotificationDoc, (typeof NOTIFICATION_FIELDS)[number]>> = {}, freeKey = false) {
  const $set = { type: 'herald.gap', title: 'gap', gap: true, createdAt: now, readAt: now, seenAt: now, archivedAt: now, ...keep };
  const unset: string[] = [...NOTIFICATION_FIELDS.filter((field) => !(field in keep)), ...(freeKey ? ['key'] : [])];
  return { $set, $unset: Object.fromEntries(unset.map((field) => [field, ''])) };
}

/** The stored form of a known gap at (userId, seq). */
export function gapDocument(userId: string, seq: number, id: Types.ObjectId, now: Date): NotificationDoc {
  return { _id: id, userId, seq, type: 'herald.gap', title: 'gap', gap: true, createdAt: now, readAt: now, seenAt: now, archivedAt: now };
}

/** Binds the Notification model to one connection, so two gateways in one process keep separate pools. */
export function notificationModel(connection: Connection): NotificationModel {
  return heraldModel(connection, 'Notification', notificationSchema);
}
