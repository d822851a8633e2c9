import mongoose from 'mongoose';
import type { Notification } from '@herald/shared';
import { isDuplicateKey } from '../platform/errors';
import type { PublishPlan } from './idempotency';
import type { GroupPlacement, GroupSpec } from './notification-groups';
import type { NewNotificationDoc, NotificationDoc, NotificationModel } from './notification-model';

/**
 * What the writer's batches are made of: calls (requests), one slot per recipient of each, and what
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
  /** Grouped items the stored ones replaced (now known gaps): the recipients' other devices drop them. */
  replaced: { userId: string; id: string }[];
}

/**
 * A keyed request's plan: an earlier attempt's (its recipients keep their seqs, so what that attempt
 * stored is found, not stored again), or a new one to record (`onPlan`) before anything is inserted.
 */
export interface StoreOptions {
  plan?: PublishPlan | null;
  onPlan?: (plan: PublishPlan) => Promise<void>;
  /** Collapse into the recipients' groups of this key (see placeInGroup). */
  group?: GroupSpec | undefined;
}

export interface StoreRequest extends StoreOptions {
  userIds: string[];
  content: NotificationContent;
  resolve(result: StoreResult): void;
  reject(error: unknown): void;
}

/** What a batch's inserts came to, per call (`request`) and slot. */
export interface Outcome {
  stored: Notification[][];
  failed: Map<number, unknown>;
  /** Ids of notifications an earlier attempt of a keyed call had stored (found, not inserted). */
  found: Set<string>;
  deduplicated: Set<string>[];
}

export interface Slot {
  request: number;
  index: number;
  userId: string;
  /** The seq this slot is inserted with: planned, or reserved. */
  seq?: number;
  /** Where a grouped slot goes, as last placed; and the group slot another publisher took first. */
  placement?: GroupPlacement;
  slotTaken?: string;
  /** A keyed retry found its grouped copy: the seq of the item that copy replaced. */
  foundPrevSeq?: number;
  foundPrevSlot?: string;
}

/** What makes two notifications the same one: everything but ids, dates and state. */
export function contentOf(
  doc: Pick<
    NotificationDoc,
    'type' | 'title' | 'body' | 'actionUrl' | 'actor' | 'data' | 'dedupeKey' | 'category' | 'tags' | 'actions' | 'group' | 'expiresAt'
  >,
): string {
  const { type, body, actionUrl, actor, data, dedupeKey, category, tags } = doc;
  // A grouped item's title may come from the group's template: compare the one published.
  const title = doc.group?.memberTitle ?? doc.title;
  // Actions as plain fields in a fixed order (a stored one comes back with its keys in stored order).
  const actions = doc.actions?.map((a) => [a.id, a.label, a.url ?? null]);
  const group = doc.group?.key;
  const expiresAt = doc.expiresAt?.toISOString();
  return JSON.stringify(
    [type, title, body, actionUrl, actor, data, dedupeKey, category, tags, actions, group, expiresAt].map((field) => field ?? null),
  );
}

/** The stored shape: every optional field that is absent stays absent, and the states start unset. */
export function newDocument(
  content: NotificationContent,
  keys: Pick<NotificationDoc, '_id' | 'userId' | 'seq' | 'createdAt'>,
): NotificationDoc {
  const doc: NotificationDoc = { ...keys, type: content.type, title: content.title, readAt: null, seenAt: null, archivedAt: null };
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
 * Keyed requests record which seq each recipient got before anything of theirs is inserted (when
 * seqs were reserved for them in this round). A request whose plan cannot be recorded fails here,
 * with nothing inserted; its slots leave the round.
 */
export async function recordPlans(
  round: { batch: StoreRequest[]; slots: Slot[]; pending: Slot[]; reserved: Slot[]; muted: Set<string>[]; failed: Map<number, unknown> },
  /** Records the seqs of refused plans as known gaps. */
  markGaps: (slots: Slot[]) => Promise<void>,
): Promise<Slot[]> {
  const { batch, slots, pending, reserved, muted, failed } = round;
  const changed = [...new Set(reserved.map((slot) => slot.request))].filter((r) => batch[r]!.onPlan);
  if (changed.length === 0) return pending;
  const outcomes = await Promise.allSettled(
    changed.map((r) =>
      batch[r]!.onPlan!({
        recipients: slots.filter((slot) => slot.request === r).map((slot) => ({ userId: slot.userId, seq: slot.seq! })),
        mutedUserIds: [...muted[r]!],
      }),
    ),
  );
  outcomes.forEach((outcome, i) => outcome.status === 'rejected' && failed.set(changed[i]!, outcome.reason));
  // Their seqs were handed out and will hold nothing.
  await markGaps(reserved.filter((slot) => failed.has(slot.request)));
  return pending.filter((slot) => !failed.has(slot.request));
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
