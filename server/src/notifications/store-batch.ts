import mongoose from 'mongoose';
import type { Notification } from '@herald/shared';
import { isDuplicateKey } from '../platform/errors';
import type { CopyKeys } from './idempotency';
import type { GroupPlacement, GroupSpec } from './notification-groups';
import type { NewNotificationDoc, NotificationDoc, NotificationModel } from './notification-model';

/**
 * What the writer's batches are made of: calls (requests), one copy per recipient of each, and what
 * their inserts came to; and how a notification's content becomes its stored document.
 */

/** What one notification says, before it has an owner and a seq. */
export type NotificationContent = Omit<NewNotificationDoc, 'userId' | 'seq'>;

/** Per call: what was stored (in the order of its userIds), and the recipients nothing was stored for. */
export interface StoreResult {
  stored: Notification[];
  /** Muted the type. */
  muted: string[];
  /** Already have a notification with the call's dedupeKey. */
  deduplicated: string[];
  /**
   * A keyed request's earlier attempt had stored everything this one answers with: nothing was
   * inserted now, and at least one recipient's key was held by the request's own copy.
   */
  replayed: boolean;
  /** Ids in `stored` that an earlier attempt stored (found, not inserted now). */
  found: string[];
  /** Grouped items the stored ones replaced (now known gaps): the recipients' other devices drop them. */
  replaced: { userId: string; id: string }[];
}

export interface StoreOptions {
  /** The request's Idempotency-Key and content hash: a retry finds its copies instead of storing them again (see copyKeys). */
  idempotency?: { key: string; hash: string } | undefined;
  /** Collapse into the recipients' groups of this key (see placeInGroup). */
  group?: GroupSpec | undefined;
  /** Beyond the app: a Web Push message for each stored copy, an email when it stays unread (see outbox.ts). */
  channels?: { push?: boolean; email?: boolean | { unreadAfterSeconds?: number | undefined } } | undefined;
}

export interface StoreRequest extends StoreOptions {
  userIds: string[];
  content: NotificationContent;
  /** The `key` and `request` its copies carry. */
  keys: CopyKeys;
  resolve(result: StoreResult): void;
  reject(error: unknown): void;
}

/** What a batch's inserts came to, per call (`request`) and copy. */
export interface Outcome {
  stored: Notification[][];
  failed: Map<number, unknown>;
  /** Ids of notifications an earlier attempt of the same keyed request had stored (found, not inserted). */
  found: Set<string>;
  /** Per call, how many of its recipients' keys its own earlier copies held (found, replaced since, or deleted). */
  own: number[];
  deduplicated: Set<string>[];
}

export interface Copy {
  request: number;
  index: number;
  userId: string;
  /** The seq reserved for this copy. */
  seq?: number;
  /** Where a grouped copy goes, as last placed; and the group slot another publisher took first. */
  placement?: GroupPlacement;
  slotTaken?: string;
  /** A keyed retry found its grouped copy: the seq of the item that copy replaced. */
  foundPrevSeq?: number;
  foundPrevSlot?: string;
}

/** The stored shape: every optional field that is absent stays absent, and the states start unset. */
export function newDocument(
  content: NotificationContent,
  ids: Pick<NotificationDoc, '_id' | 'userId' | 'seq' | 'createdAt'>,
  keys: CopyKeys = {},
): NotificationDoc {
  const doc: NotificationDoc = { ...ids, type: content.type, title: content.title, readAt: null, seenAt: null, archivedAt: null };
  if (keys.key !== undefined) doc.key = keys.key;
  if (keys.request !== undefined) doc.request = keys.request;
  if (content.body !== undefined) doc.body = content.body;
  if (content.actionUrl !== undefined) doc.actionUrl = content.actionUrl;
  if (content.actor !== undefined) doc.actor = { id: content.actor.id, name: content.actor.name };
  if (content.data !== undefined) doc.data = content.data;
  if (content.dedupeKey !== undefined) doc.dedupeKey = content.dedupeKey;
  if (content.category !== undefined) doc.category = content.category;
  if (content.expiresAt !== undefined) doc.expiresAt = content.expiresAt;
  if (content.tags !== undefined && content.tags.length > 0) doc.tags = [...content.tags];
  if (content.actions !== undefined && content.actions.length > 0) {
    doc.actions = content.actions.map((a) => ({ id: a.id, label: a.label, ...(a.url !== undefined ? { url: a.url } : {}) }));
  }
  return doc;
}

/**
 * Inserts every document it can. Per document: the stored document, 'seq-taken' when its
 * (userId, seq) is already used, or the error that kept it out. The documents were validated by
 * the shared schema already, so they go to the driver as they are: building and validating a
 * mongoose document for each was the largest cost of a big batch.
 */
export async function insertUnordered(
  collection: NotificationModel['collection'],
  fresh: NotificationDoc[],
): Promise<(NotificationDoc | 'seq-taken' | Error)[]> {
  try {
    await collection.insertMany(fresh, { ordered: false });
    return fresh;
  } catch (error) {
    if (!(error instanceof mongoose.mongo.MongoBulkWriteError)) throw error;
    const failures = new Map([error.writeErrors].flat().map((failure) => [failure.index, failure]));
    if (failures.size === 0) throw error;
    return fresh.map((doc, i) => {
      const failure = failures.get(i);
      if (!failure) return doc;
      return isDuplicateKey(failure) ? 'seq-taken' : new Error(failure.errmsg ?? `insert failed with code ${failure.code}`);
    });
  }
}
