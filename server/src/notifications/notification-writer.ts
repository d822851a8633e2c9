import type { Connection } from 'mongoose';
import type { Notification } from '@herald/shared';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { MuteSettings } from '../preferences/mute-settings';
import { createGroupPlacements } from './group-placements';
import { copyKeys } from './idempotency';
import { createKnownGaps } from './known-gaps';
import { notificationId } from './notification-id';
import { notificationModel, type NotificationDoc } from './notification-model';
import { offPageJobsFor, type ChannelsOff, type OffPageSettings } from './outbox';
import { createRefusedInserts } from './refused-inserts';
import type { JobStore } from './scheduled-jobs';
import type { RetentionTracker } from './retention-tracker';
import type { SequenceAllocator } from './sequence';
import {
  insertUnordered,
  newDocument,
  type NotificationContent,
  type Outcome,
  type Copy,
  type StoreOptions,
  type StoreRequest,
  type StoreResult,
} from './store-batch';
import { toNotification } from './to-notification';

export type { NotificationContent, StoreOptions, StoreResult } from './store-batch';

/**
 * Stores notifications, one per recipient who has not muted the type (and
 * has none with the call's dedupeKey yet), each with the next seq of its
 * recipient. A call resolves only once its own notifications are stored; it
 * rejects if they could not be, and then nothing of it is stored for the
 * recipients it names as failed. A seq is never stored twice for a user
 * (unique index).
 */
export interface NotificationWriter {
  store(userIds: string[], content: NotificationContent, options?: StoreOptions): Promise<StoreResult>;
}

/** Rounds of re-reserving seqs that collided with another instance's before giving up. */
const MAX_SEQ_ATTEMPTS = 20;
/** Rounds of placing a grouped item again after other publishers took its group's next slot first. */
const MAX_GROUP_ROUNDS = 500;

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
  muted: Pick<MuteSettings, 'forEach'> & Partial<Pick<MuteSettings, 'channelsOff'>>;
  /**
   * The off-page stage (see outbox.ts): where its jobs go, and which channels are configured; without
   * it, publishes asking for push or email store only.
   */
  offPage?: { jobs: Pick<JobStore, 'add'>; settings: OffPageSettings };
  /** Told once a round's notifications that have a job due now are inserted (the job runner looks at once). */
  onJobsDue?: () => void;
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
  const refusals = createRefusedInserts(deps.connection);
  const knownGaps = createKnownGaps(deps.connection, deps.logger);
  const log = deps.logger.child({ module: 'notification-writer' });
  const placements = createGroupPlacements({ connection: deps.connection, logger: log });
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

  /** Per request, its recipients who are not muted. */
  function copiesOf(batch: StoreRequest[], muted: Set<string>[]): Copy[] {
    return batch.flatMap((request, r) =>
      request.userIds.filter((userId) => !muted[r]!.has(userId)).map((userId, index) => ({ request: r, index, userId })),
    );
  }

  async function storeBatch(batch: StoreRequest[]): Promise<void> {
    let muted: Set<string>[];
    try {
      muted = await deps.muted.forEach(
        batch.map((request) => ({ userIds: request.userIds, type: request.content.type, category: request.content.category })),
      );
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    let channelsOff: ChannelsOff[] | undefined;
    try {
      channelsOff = await channelsOffFor(batch);
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    const copies = copiesOf(batch, muted);
    const stored = batch.map((request, r) => new Array<Notification>(request.userIds.length - muted[r]!.size));
    const failed = new Map<number, unknown>();
    const deduplicated = batch.map(() => new Set<string>());
    const found = new Set<string>();
    const own = batch.map(() => 0);
    try {
      await insertWithSeqs(batch, copies, { stored, failed, found, deduplicated, own }, channelsOff);
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    await withdrawConflicts(stored, { failed, found });
    const inserted = stored.flatMap((notifications) => notifications.filter((n) => n !== undefined && !found.has(n.id)));
    const replaced = await placements.retire(copies, stored, found);
    deps.retention?.stored(inserted);
    batch.forEach((request, r) => {
      const error = failed.get(r);
      if (error) request.reject(error);
      else {
        // Deduplicated recipients, and those whose earlier copy was deleted since, left their places empty.
        const answer = stored[r]!.filter((n) => n !== undefined);
        request.resolve({
          stored: answer,
          muted: request.userIds.filter((id) => muted[r]!.has(id)),
          deduplicated: request.userIds.filter((id) => deduplicated[r]!.has(id)),
          replayed: own[r]! > 0 && answer.every((n) => found.has(n.id)),
          found: answer.filter((n) => found.has(n.id)).map((n) => n.id),
          replaced: replaced.filter((item) => item.request === r).map(({ userId, id }) => ({ userId, id })),
        });
      }
    });
  }

  /**
   * A request that met its Idempotency-Key under another body is a 409, which promises nothing stored:
   * what it inserted for its other recipients becomes known gaps before anyone is told of it.
   */
  async function withdrawConflicts(stored: Notification[][], outcome: Pick<Outcome, 'failed' | 'found'>): Promise<void> {
    const conflicted = [...outcome.failed].filter(([, error]) => error instanceof AppError && error.code === 'conflict').map(([r]) => r);
    const copies = conflicted.flatMap((r) => stored[r]!.filter((n) => n !== undefined && !outcome.found.has(n.id)));
    await knownGaps.withdraw(copies);
    for (const r of conflicted) stored[r] = new Array<Notification>(stored[r]!.length);
  }

  /**
   * Reserves seqs for the copies without one and inserts until every copy is stored or has failed. A
   * taken seq is reserved again; a held key (the dedupeKey, the Idempotency-Key) settles the copy
   * without an insert (see RefusedInserts.sort); a taken group slot places the item again.
   */
  /** Per request, its recipients who turned the category off as push and by email (none asked for either: undefined). */
  async function channelsOffFor(batch: StoreRequest[]): Promise<ChannelsOff[] | undefined> {
    if (!deps.offPage || !deps.muted.channelsOff || !batch.some((request) => request.channels?.push || request.channels?.email))
      return undefined;
    return deps.muted.channelsOff(
      batch.map((request) => ({ userIds: request.userIds, type: request.content.type, category: request.content.category })),
    );
  }

  async function insertWithSeqs(batch: StoreRequest[], copies: Copy[], outcome: Outcome, channelsOff?: ChannelsOff[]): Promise<void> {
    const { stored, failed } = outcome;
    let pending = copies;
    // Rounds in which a seq was taken, and in which a group's slot was (each of those means another
    // publisher stored the group's next item: progress, so they have a bound of their own).
    let attempt = 1;
    let regroups = 0;
    while (pending.length > 0) {
      if (attempt > MAX_SEQ_ATTEMPTS) throw new Error(`no free seq after ${MAX_SEQ_ATTEMPTS} attempts for ${pending.length} recipients`);
      if (regroups > MAX_GROUP_ROUNDS) throw new Error(`no free group slot after ${MAX_GROUP_ROUNDS} rounds`);
      const unreserved = pending.filter((copy) => copy.seq === undefined);
      if (unreserved.length > 0) {
        const seqs = await deps.sequences.reserve(unreserved.map((copy) => copy.userId));
        unreserved.forEach((copy, i) => (copy.seq = seqs[i]!));
      }
      const createdAt = new Date();
      const deferred = await placements.place(batch, pending, createdAt);
      const waiting = pending.filter((copy) => deferred.has(copy));
      pending = pending.filter((copy) => !deferred.has(copy));
      const docs = pending.map(({ userId, request, seq, placement }) => {
        const ids = { _id: notificationId(userId, seq!), userId, seq: seq!, createdAt };
        const doc = newDocument(batch[request]!.content, ids, batch[request]!.keys);
        if (placement)
          Object.assign(doc, {
            group: placement.group,
            title: placement.title,
            groupHead: placement.groupHead,
            groupSlot: placement.groupSlot,
          });
        return doc;
      });
      // The off-page jobs first, then the notifications that name their round (see outbox.ts).
      const offPage = deps.offPage ? offPageJobsFor(batch, pending, docs, channelsOff, deps.offPage.settings, createdAt) : [];
      for (const job of offPage) await deps.offPage!.jobs.add(job);
      const outcomes = await insertUnordered(Notification.collection, docs);
      if (offPage.some((job) => job.dueAt <= createdAt)) deps.onJobsDue?.();
      const taken: { copy: Copy; doc: NotificationDoc }[] = [];
      const refused: Copy[] = [];
      outcomes.forEach((result, i) => {
        const copy = pending[i]!;
        if (result === 'seq-taken') taken.push({ copy, doc: docs[i]! });
        else if (result instanceof Error) {
          failed.set(copy.request, result);
          refused.push(copy);
        } else stored[copy.request]![copy.index] = toNotification(result);
      });
      const { collided, keyHeld, regroup } = await refusals.sort(taken, batch, outcome);
      // Their seqs were handed out and will hold nothing.
      await markGaps([...refused, ...keyHeld]);
      if (collided.length > 0) {
        log.debug({ collided: collided.length, attempt }, 'seq collisions; reserving again');
        await deps.sequences.repair(collided.map((copy) => copy.userId));
        for (const copy of collided) delete copy.seq;
      }
      // Another publisher stored the group's next item first: these keep their seqs and are placed after it.
      for (const copy of regroup) copy.slotTaken = copy.placement!.groupSlot;
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
  async function markGaps(copies: Copy[]): Promise<void> {
    await knownGaps.refused(copies.map((copy) => ({ userId: copy.userId, seq: copy.seq! })));
  }

  return {
    store(userIds, content, options = {}) {
      const keys = copyKeys(content.dedupeKey, options.idempotency?.key, options.idempotency?.hash ?? '');
      return new Promise((resolve, reject) => {
        queue.push({ userIds, content, ...options, keys, resolve, reject });
        if (writing < maxWriters) void drain();
      });
    },
  };
}
