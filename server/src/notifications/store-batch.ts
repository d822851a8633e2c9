import type { Notification } from '@herald/shared';
import type { PublishPlan } from './idempotency';
import type { GroupPlacement, GroupSpec } from './notification-groups';
import type { NewNotificationDoc, NotificationDoc } from './notification-model';

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
