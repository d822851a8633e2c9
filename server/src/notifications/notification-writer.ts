import mongoose, { Types, type Connection } from 'mongoose';
import type { Notification } from '@herald/shared';
import { WHOLE_ANSWER } from '../platform/collections';
import { isDuplicateKey } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { MuteSettings } from '../preferences/mute-settings';
import type { PublishPlan } from './idempotency';
import type { RetentionTracker } from './retention';
import { createGroupStore, groupSlotOf, placeInGroup, type GroupPlacement, type GroupSpec } from './notification-groups';
import { notificationId } from './notification-id';
import { gapDocument, notificationModel, type NewNotificationDoc, type NotificationDoc } from './notification-model';
import type { SequenceAllocator } from './sequence';
import { toNotification } from './to-notification';

/** What one notification says, before it has an owner and a seq. */
export type NotificationContent = Omit<NewNotificationDoc, 'userId' | 'seq'>;

/**
 * Stores notifications, one per recipient who has not muted the type (and
 * has none with the call's dedupeKey yet), each with the next seq of its
 * recipient. A call resolves only once its own
 * notifications are stored (and the feed cache told); it rejects if they
 * could not be, and then nothing of it is stored for the recipients it names
 * as failed. A seq is never stored twice for a user (unique index).
 */
export interface NotificationWriter {
  store(userIds: string[], content: NotificationContent, options?: StoreOptions): Promise<StoreResult>;
}

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

interface StoreRequest extends StoreOptions {
  userIds: string[];
  content: NotificationContent;
  resolve(result: StoreResult): void;
  reject(error: unknown): void;
}

/** What a batch's inserts came to, per call (`request`) and slot. */
interface Outcome {
  stored: Notification[][];
  failed: Map<number, unknown>;
  /** Ids of notifications an earlier attempt of a keyed call had stored (found, not inserted). */
  found: Set<string>;
  deduplicated: Set<string>[];
}

interface Slot {
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
function contentOf(
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

/** Rounds of re-reserving seqs that collided with another instance's before giving up. */
const MAX_SEQ_ATTEMPTS = 20;
/** Rounds of placing a grouped item again after other publishers took its group's next slot first. */
const MAX_GROUP_ROUNDS = 500;

/** The stored shape: every optional field that is absent stays absent, and the states start unset. */
function newDocument(content: NotificationContent, keys: Pick<NotificationDoc, '_id' | 'userId' | 'seq' | 'createdAt'>): NotificationDoc {
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
 * Calls that arrive while both writers are busy are stored together in the
 * next batch (one seq round trip, one insertMany; mutes are kept in the
 * process), so
 * under load the database sees a few large writes instead of many small ones,
 * and an idle writer writes at once. Seqs come from the allocator; an insert
 * that finds its seq taken (another instance raced) repairs the counter and
 * takes a new seq, up to MAX_SEQ_ATTEMPTS rounds.
 */
export function createNotificationWriter(deps: {
  connection: Connection;
  sequences: SequenceAllocator;
  muted: Pick<MuteSettings, 'forEach'>;
  logger: Logger;
  /** Told about every stored notification, so retention only looks at users who have some. */
  retention?: RetentionTracker;
  /** Most notifications stored in one insert when calls are grouped. @default 1000 */
  maxBatch?: number;
  /**
   * Batches stored at once. While one waits for its insert, the next does its Redis steps and sends its
   * own, as a second publishing process would (seqs of one user may then be stored out of order; clients
   * and sync handle that, see catch-up). @default 2
   */
  writers?: number;
}): NotificationWriter {
  const Notification = notificationModel(deps.connection);
  const groups = createGroupStore(deps.connection);
  const log = deps.logger.child({ module: 'notification-writer' });
  const maxBatch = deps.maxBatch ?? 1000;
  const maxWriters = deps.writers ?? 2;
  let queue: StoreRequest[] = [];
  let writing = 0;

  async function drain(): Promise<void> {
    writing++;
    try {
      while (queue.length > 0) {
        // Whole calls only; one call larger than the batch goes alone.
        let docs = 0;
        let take = 0;
        while (take < queue.length && (take === 0 || docs + queue[take]!.userIds.length <= maxBatch)) docs += queue[take++]!.userIds.length;
        const batch = queue.slice(0, take);
        queue = queue.slice(take);
        // storeBatch answers every call itself; anything it did not expect fails this batch, not the queue.
        await storeBatch(batch).catch((error: unknown) => {
          for (const request of batch) request.reject(error);
        });
      }
    } finally {
      writing--;
    }
  }

  /** Per request, its recipients who are not muted, each with its planned seq if it has one. */
  function slotsOf(batch: StoreRequest[], muted: Set<string>[]): Slot[] {
    return batch.flatMap((request, r) => {
      const planned = request.plan ? new Map(request.plan.recipients.map((p) => [p.userId, p.seq])) : undefined;
      return request.userIds
        .filter((userId) => !muted[r]!.has(userId))
        .map((userId, index) => ({ request: r, index, userId, ...(planned?.has(userId) ? { seq: planned.get(userId)! } : {}) }));
    });
  }

  async function storeBatch(batch: StoreRequest[]): Promise<void> {
    let muted: Set<string>[];
    try {
      // A planned request keeps the recipients and mutes of its first attempt.
      const unplanned = batch.filter((request) => !request.plan);
      const looked = await deps.muted.forEach(
        unplanned.map((request) => ({ userIds: request.userIds, type: request.content.type, category: request.content.category })),
      );
      let next = 0;
      muted = batch.map((request) => (request.plan ? new Set(request.plan.mutedUserIds) : looked[next++]!));
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    const slots = slotsOf(batch, muted);
    const stored = batch.map((request, r) => new Array<Notification>(request.userIds.length - muted[r]!.size));
    const failed = new Map<number, unknown>();
    const deduplicated = batch.map(() => new Set<string>());
    const found = new Set<string>();
    try {
      await insertWithSeqs(batch, slots, muted, { stored, failed, found, deduplicated });
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    const inserted = stored.flatMap((notifications) => notifications.filter((n) => n !== undefined && !found.has(n.id)));
    const replaced = await retireGroups(slots, stored, found);
    deps.retention?.stored(inserted);
    batch.forEach((request, r) => {
      const error = failed.get(r);
      if (error) request.reject(error);
      else {
        request.resolve({
          // Deduplicated recipients left their places empty.
          stored: stored[r]!.filter((n) => n !== undefined),
          muted: request.userIds.filter((id) => muted[r]!.has(id)),
          deduplicated: request.userIds.filter((id) => deduplicated[r]!.has(id)),
          replaced: replaced.filter((item) => item.request === r).map(({ userId, id }) => ({ userId, id })),
        });
      }
    });
  }

  /** Seqs for the slots that have none (a keyed retry's planned ones keep theirs); returns those it gave one. */
  async function reserveSeqs(slots: Slot[]): Promise<Slot[]> {
    const unreserved = slots.filter((slot) => slot.seq === undefined);
    if (unreserved.length === 0) return unreserved;
    const seqs = await deps.sequences.reserve(unreserved.map((slot) => slot.userId));
    unreserved.forEach((slot, i) => (slot.seq = seqs[i]!));
    return unreserved;
  }

  /**
   * Reserves seqs for the slots without one, records the plans of keyed requests, and inserts until every
   * slot is stored or has failed. A taken seq is reserved again, unless the document holding it is this
   * very notification (an earlier attempt of a keyed request stored it): then that one is the answer;
   * or the recipient already has one with the call's dedupeKey: then nothing is stored for them.
   */
  async function insertWithSeqs(batch: StoreRequest[], slots: Slot[], muted: Set<string>[], outcome: Outcome): Promise<void> {
    const { stored, failed } = outcome;
    let pending = slots;
    // Rounds in which a seq was taken, and in which a group's slot was (each of those means another
    // publisher stored the group's next item: progress, so they have a bound of their own).
    let attempt = 1;
    let regroups = 0;
    while (pending.length > 0) {
      if (attempt > MAX_SEQ_ATTEMPTS) throw new Error(`no free seq after ${MAX_SEQ_ATTEMPTS} attempts for ${pending.length} recipients`);
      if (regroups > MAX_GROUP_ROUNDS) throw new Error(`no free group slot after ${MAX_GROUP_ROUNDS} rounds`);
      const unreserved = await reserveSeqs(pending);
      pending = await recordPlans(batch, slots, pending, unreserved, muted, failed);
      // Every request left in this round failed to record its plan: nothing to insert.
      if (pending.length === 0) break;
      const createdAt = new Date();
      const deferred = await placeGroups(batch, pending, createdAt);
      const waiting = pending.filter((slot) => deferred.has(slot));
      pending = pending.filter((slot) => !deferred.has(slot));
      const docs = pending.map(({ userId, request, seq, placement }) => {
        const doc = newDocument(batch[request]!.content, { _id: notificationId(userId, seq!), userId, seq: seq!, createdAt });
        if (placement)
          Object.assign(doc, {
            group: placement.group,
            title: placement.title,
            groupHead: placement.groupHead,
            groupSlot: placement.groupSlot,
          });
        return doc;
      });
      const outcomes = await insertUnordered(docs);
      const taken: { slot: Slot; doc: NotificationDoc }[] = [];
      const refused: Slot[] = [];
      outcomes.forEach((result, i) => {
        const slot = pending[i]!;
        if (result === 'seq-taken') taken.push({ slot, doc: docs[i]! });
        else if (result instanceof Error) {
          failed.set(slot.request, result);
          refused.push(slot);
        } else stored[slot.request]![slot.index] = toNotification(result);
      });
      const { collided, duplicates, regroup } = await claimOwnCopies(taken, batch, outcome);
      // Their seqs were handed out and will hold nothing.
      await markGaps([...refused, ...duplicates]);
      if (collided.length > 0) {
        log.debug({ collided: collided.length, attempt }, 'seq collisions; reserving again');
        await deps.sequences.repair(collided.map((slot) => slot.userId));
        for (const slot of collided) delete slot.seq;
      }
      // Another publisher stored the group's next item first: these keep their seqs and are placed after it.
      for (const slot of regroup) slot.slotTaken = slot.placement!.groupSlot;
      if (collided.length > 0) attempt++;
      if (regroup.length > 0) regroups++;
      pending = [...collided, ...regroup, ...waiting];
    }
  }

  /**
   * Seqs whose insert the database refused (it answered: nothing of them is stored, or will be) become
   * known gaps at once, so clients need not wait for them. Best effort: a gap not written here is
   * written by a client's sync once the seq is old enough (see catch-up).
   */
  async function markGaps(slots: Slot[]): Promise<void> {
    if (slots.length === 0) return;
    const now = new Date();
    await Notification.collection
      .insertMany(
        slots.map((slot) => gapDocument(slot.userId, slot.seq!, notificationId(slot.userId, slot.seq!), now)),
        { ordered: false },
      )
      .catch((error: unknown) => log.debug({ err: error, seqs: slots.length }, 'could not record known gaps'));
  }

  /**
   * Keyed requests record which seq each recipient got before anything of theirs is inserted (when
   * seqs were reserved for them in this round). A request whose plan cannot be recorded fails here,
   * with nothing inserted; its slots leave the round.
   */
  async function recordPlans(
    batch: StoreRequest[],
    slots: Slot[],
    pending: Slot[],
    reserved: Slot[],
    muted: Set<string>[],
    failed: Map<number, unknown>,
  ): Promise<Slot[]> {
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
   * Sorts the slots whose insert hit a unique index. Those holding their own notification are resolved
   * with it (its id goes to `found`); those whose recipient already has a notification with the call's
   * dedupeKey are deduplicated (returned in `duplicates`: nothing is stored for them); the rest are
   * seq collisions (`collided`: they take a new seq).
   */
  async function claimOwnCopies(
    taken: { slot: Slot; doc: NotificationDoc }[],
    batch: StoreRequest[],
    outcome: Outcome,
  ): Promise<{ collided: Slot[]; duplicates: Slot[]; regroup: Slot[] }> {
    const { stored, found } = outcome;
    // Grouped slots are looked up too: a refused one whose seq is free was refused for its group slot.
    const keyed = taken.filter(({ slot }) => batch[slot.request]!.plan || batch[slot.request]!.onPlan || batch[slot.request]!.group);
    const existing =
      keyed.length === 0
        ? new Map<string, NotificationDoc>()
        : new Map(
            (await Notification.collection.find({ _id: { $in: keyed.map(({ doc }) => doc._id) } }, WHOLE_ANSWER).toArray()).map((doc) => [
              doc._id.toHexString(),
              doc as unknown as NotificationDoc,
            ]),
          );
    const others: { slot: Slot; doc: NotificationDoc }[] = [];
    const folded: { slot: Slot; into: string }[] = [];
    for (const { slot, doc } of taken) {
      const copy = existing.get(doc._id.toHexString());
      const keyedSlot = batch[slot.request]!.plan || batch[slot.request]!.onPlan;
      if (keyedSlot && copy && copy.userId === doc.userId && contentOf(copy) === contentOf(doc)) {
        stored[slot.request]![slot.index] = toNotification(copy);
        found.add(copy._id.toHexString());
        if (copy.group?.prevSeq !== undefined) {
          slot.foundPrevSeq = copy.group.prevSeq;
          // The item it was placed after held the slot before its own.
          slot.foundPrevSlot = groupSlotOf(copy.userId, copy.group.key, copy.group.n - 1);
        }
      } else if (keyedSlot && copy?.supersededBy && copy.userId === doc.userId && copy.groupKey === doc.group?.key) {
        // An earlier attempt stored it and a later notification of its group has replaced it since.
        folded.push({ slot, into: copy.supersededBy });
      } else others.push({ slot, doc });
    }
    if (folded.length > 0) {
      const ids = folded.map(({ into }) => new Types.ObjectId(into));
      const current = new Map(
        (await Notification.collection.find({ _id: { $in: ids } }, WHOLE_ANSWER).toArray()).map((doc) => [doc._id.toHexString(), doc]),
      );
      for (const { slot, into } of folded) {
        const doc = current.get(into) as unknown as NotificationDoc | undefined;
        // The group's item as it is now; gone (replaced again, deleted): nothing to show for it.
        if (doc && !doc.gap && doc.userId === slot.userId) {
          stored[slot.request]![slot.index] = toNotification(doc);
          found.add(into);
        }
      }
    }
    const holders = await dedupeHolders(others.map(({ doc }) => doc));
    const collided: Slot[] = [];
    const duplicates: Slot[] = [];
    const regroup: Slot[] = [];
    for (const { slot, doc } of others) {
      if (doc.dedupeKey !== undefined && holders.has(`${doc.userId}\u0000${doc.dedupeKey}`)) {
        outcome.deduplicated[slot.request]!.add(slot.userId);
        duplicates.push(slot);
      } else if (doc.group && !existing.has(doc._id.toHexString())) regroup.push(slot);
      else collided.push(slot);
    }
    return { collided, duplicates, regroup };
  }

  /**
   * Places each grouped slot after its key's newest item (see placeInGroup), one round trip for all,
   * plus one for the holders of slots refused last round. Of several slots of the same user and key,
   * one is placed per round and the others are returned, deferred: an item placed after another
   * still unstored would carry that one's count and actor even if its insert were refused.
   */
  async function placeGroups(batch: StoreRequest[], pending: Slot[], now: Date): Promise<Set<Slot>> {
    const deferred = new Set<Slot>();
    const placing = new Set<string>();
    const grouped = pending.filter((slot) => {
      if (!batch[slot.request]!.group) return false;
      const pair = JSON.stringify([slot.userId, batch[slot.request]!.group!.key]);
      if (placing.has(pair)) deferred.add(slot);
      placing.add(pair);
      return !deferred.has(slot);
    });
    if (grouped.length === 0) return deferred;
    const pairs = grouped.map((slot) => ({ userId: slot.userId, key: batch[slot.request]!.group!.key }));
    const taken = grouped.flatMap((slot) => (slot.slotTaken ? [slot.slotTaken] : []));
    const [heads, holders] = await Promise.all([groups.heads(pairs), groups.slotHolders(taken)]);
    const known = [...heads, ...holders.filter((doc) => !heads.some((head) => head._id.equals(doc._id)))];
    for (const slot of grouped) {
      const content = batch[slot.request]!.content;
      const id = notificationId(slot.userId, slot.seq!);
      slot.placement = placeInGroup(
        { userId: slot.userId, id: id.toHexString(), title: content.title, actor: content.actor, spec: batch[slot.request]!.group! },
        known,
        now,
      );
    }
    return deferred;
  }

  /**
   * Retires what the stored grouped items replace or close (see GroupStore.retire). Not fatal: the
   * notifications are stored, and the next item of the key retires whatever is left.
   */
  async function retireGroups(
    slots: Slot[],
    stored: Notification[][],
    found: Set<string>,
  ): Promise<{ request: number; userId: string; id: string }[]> {
    const work = slots.flatMap((slot) => {
      const notification = stored[slot.request]![slot.index];
      if (!slot.placement || !notification) return [];
      const doc = { _id: new Types.ObjectId(notification.id), userId: slot.userId, seq: notification.seq, group: slot.placement.group };
      // A copy an earlier attempt stored (a keyed retry) replaces what it was placed after, in case that
      // attempt stopped before; one that has been replaced itself since retires nothing.
      if (!found.has(notification.id)) return [{ request: slot.request, doc: doc as NotificationDoc, retire: slot.placement.retire }];
      if (slot.foundPrevSeq === undefined || notification.seq !== slot.seq) return [];
      return [
        {
          request: slot.request,
          doc: doc as NotificationDoc,
          retire: [{ seq: slot.foundPrevSeq, replace: true, slot: slot.foundPrevSlot }],
        },
      ];
    });
    if (work.length === 0) return [];
    try {
      return (await groups.retire(work)).map(({ userId, id, by }) => ({ request: work[by]!.request, userId, id }));
    } catch (error) {
      log.warn({ err: error, items: work.length }, 'could not retire replaced group items; the next of their keys will');
      return [];
    }
  }

  /** `userId NUL dedupeKey` of every stored notification holding the key of one of these documents. */
  async function dedupeHolders(docs: NotificationDoc[]): Promise<Set<string>> {
    const byKey = new Map<string, Set<string>>();
    for (const doc of docs)
      if (doc.dedupeKey !== undefined) byKey.set(doc.dedupeKey, (byKey.get(doc.dedupeKey) ?? new Set()).add(doc.userId));
    const holders = new Set<string>();
    // One query per key (a call has one): through the (userId, dedupeKey) index.
    for (const [dedupeKey, users] of byKey) {
      const held = await Notification.collection
        .find({ userId: { $in: [...users] }, dedupeKey }, { projection: { userId: 1 }, ...WHOLE_ANSWER })
        .toArray();
      for (const doc of held) holders.add(`${String(doc.userId)}\u0000${dedupeKey}`);
    }
    return holders;
  }

  /**
   * Inserts every document it can. Per document: the stored document, 'seq-taken' when its
   * (userId, seq) is already used, or the error that kept it out. The documents were validated by
   * the shared schema already, so they go to the driver as they are: building and validating a
   * mongoose document for each was the largest cost of a big batch.
   */
  async function insertUnordered(fresh: NotificationDoc[]): Promise<(NotificationDoc | 'seq-taken' | Error)[]> {
    try {
      await Notification.collection.insertMany(fresh, { ordered: false });
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

  return {
    store(userIds, content, options = {}) {
      return new Promise((resolve, reject) => {
        queue.push({ userIds, content, ...options, resolve, reject });
        if (writing < maxWriters) void drain();
      });
    },
  };
}
