import DataLoader from 'dataloader';
import type { Connection, Types } from 'mongoose';
import { SYNC_PAGE_BYTES, SYNC_PAGE_SIZE, type Notification, type SyncResult } from '@herald/shared';
import { createAdmission } from '../platform/admission';
import { burstSchedule } from '../platform/burst-schedule';
import { readSeqWindow } from '../storage/notification-reads';
import type { RedisRecovery } from '../platform/redis-recovery';
import type { CountFeed } from './feed-counts';
import { notificationId } from './notification-id';
import { notificationModel, type NotificationDoc } from './notification-model';
import { counterChecks } from './counter-checks';
import { createKnownGaps } from './known-gaps';
import type { SequenceAllocator } from './sequence';
import { toNotification } from './to-notification';

/**
 * A seq handed out this long ago and still not stored is given up on: a known gap is written in its
 * place (an insert arriving later collides with it and its publisher takes a new seq).
 */
export const GAP_AFTER_MS = 10_000;
/** Holes further than this below the user's counter are deletions (retention, DELETE), never in flight. */
const IN_FLIGHT_SPAN = 1000;
/** Gaps written by one sync at most; the next sync settles the rest. */
const MAX_GAPS_PER_SYNC = 200;

/**
 * Exact catch-up: the answer to `notifications:sync`. Guarantee: every
 * notification of the user stored with a seq above `afterSeq` when the read
 * runs is returned, oldest first, once, in pages of `limit` (`hasMore` until
 * the last), with `settledSeq`: every seq up to it is stored or a known gap.
 * Together with the client's watermark (which moves to `settledSeq`, never
 * past a seq another publisher is still storing) this is what makes
 * at-most-once pub/sub lossless.
 */
export interface CatchUp {
  syncAfter(userId: string, afterSeq: number, limit?: number, options?: SyncOptions): Promise<SyncResult>;
  /**
   * Per user, the highest seq the database holds (a notification, a known gap or a deletion; 0 for
   * none), with each user's Redis counter raised to it: after Redis lost the counters, what a socket
   * must have caught up to, and the counters the staleness check compares against are back.
   */
  storedUpTo(userIds: string[]): Promise<Map<string, number>>;
  /** Stops listening to the Redis connection's events. */
  close(): void;
}

export interface SyncOptions {
  /** Since when this client has been seen behind the user's counter (the staleness check): a hole that old is given up on. */
  behindSince?: number;
}

/** How many of the notifications, from the first, fit in `maxBytes` of JSON (at least one). */
function withinBytes(notifications: Notification[], maxBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < notifications.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(notifications[i]));
    if (bytes > maxBytes && i > 0) return i;
  }
  return notifications.length;
}

/** A seq as the database has it: a notification, or a known gap. */
type Slot = { seq: number; notification: Notification; createdAt: number } | { seq: number; gap: true };

function toSlot(doc: NotificationDoc): Slot {
  return doc.gap ? { seq: doc.seq, gap: true } : { seq: doc.seq, notification: toNotification(doc), createdAt: doc.createdAt.getTime() };
}

/**
 * Counter checks share queries: each batch goes out at once, but past 50 batches a second (a reconnect
 * storm is thousands of syncs at once) a batch waits 20 ms for others.
 */
const CHECK_BATCHING = { lingerMs: 20, burstPerSecond: 50 };

/**
 * Syncs one process runs against the database at once (each makes up to three reads, two at a time),
 * within its pool of 20 connections; the rest wait their turn (see createAdmission), at most 3 s.
 */
export const SYNCS_AT_ONCE = 8;
const SYNC_TURN_WAIT_MS = 3000;

/**
 * When the user's seq counter says the gap is at most a page, the missed seqs
 * are known: they are read by _id on a database without secondary indexes,
 * and by the indexed range query elsewhere. A wider gap, or no counter, is a
 * range query.
 */
export function createCatchUp(deps: {
  connection: Connection;
  sequences: SequenceAllocator;
  counts: CountFeed;
  /** The process's "Redis is back" routine: at a loss, every counter is checked again. */
  recovery?: RedisRecovery;
  /** How catch-up reads a short window: 'auto' picks by the database (see DatabaseTraits). @default "auto" */
  syncReads?: 'auto' | 'range' | 'by-id';
  /** How counter checks wait for each other (see burstSchedule). @default 20 ms past 50 batches a second */
  checkBatching?: { lingerMs: number; burstPerSecond: number };
}): CatchUp {
  const Notification = notificationModel(deps.connection);
  const checks = counterChecks(deps.recovery);
  const knownGaps = createKnownGaps(deps.connection);
  const admission = createAdmission(SYNCS_AT_ONCE, SYNC_TURN_WAIT_MS);
  // Which of these ids are stored: the counter checks of syncs arriving together, in one _id query
  // (through the driver: a mongoose query costs more CPU than the lookup).
  const stored = new DataLoader<Types.ObjectId, boolean>(
    async (ids) => {
      const found = await Notification.collection.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray();
      const hex = new Set(found.map((doc) => String(doc._id)));
      return ids.map((id) => hex.has(String(id)));
    },
    { cache: false, maxBatchSize: 500, batchScheduleFn: burstSchedule(deps.checkBatching ?? CHECK_BATCHING) },
  );

  async function readRange(
    userId: string,
    afterSeq: number,
    limit: number,
    highest: number | null,
    generation: number,
  ): Promise<{ slots: Slot[]; hasMore: boolean }> {
    const window = highest !== null && highest - afterSeq <= limit ? await readWindow(userId, afterSeq, highest, generation) : undefined;
    if (window) return { slots: window, hasMore: false };
    // Through the driver: mongoose's query machinery cost more CPU than the read (0.6 ms a call).
    const docs = await Notification.collection
      .find<NotificationDoc>({ userId, seq: { $gt: afterSeq } }, { sort: { seq: 1 }, limit: limit + 1, batchSize: limit + 1 })
      .toArray();
    const hasMore = docs.length > limit;
    // Everything stored above afterSeq was read, and none of it is above the counter (nor is afterSeq):
    // that answers the counter check's question too (is seq highest + 1 stored?), so a user whose first
    // sync on this connection was a range read (one with no counter yet, say) is not looked up again.
    const top = docs.reduce((max, doc) => Math.max(max, doc.seq), afterSeq);
    if (!hasMore && top <= (highest ?? 0)) checks.passed(userId, generation);
    return { slots: docs.slice(0, limit).map(toSlot), hasMore };
  }

  /**
   * Seqs (afterSeq, highest] as storage reads a short window (none for a client that is caught up; see
   * readSeqWindow). Undefined when the range query should answer instead: where storage says so, and whenever the
   * counter turns out to lag behind what is stored (a Redis restored from an older snapshot): one
   * lookup of seq highest + 1 catches that, and the counter is repaired. That lookup runs once per user
   * per Redis connection (see counterChecks), batched with other users'.
   */
  async function readWindow(userId: string, afterSeq: number, highest: number, generation: number): Promise<Slot[] | undefined> {
    const seqs = Array.from({ length: Math.max(0, highest - afterSeq) }, (_, i) => afterSeq + 1 + i);
    const check = checks.needed(userId);
    if (check && (await stored.load(notificationId(userId, highest + 1)))) {
      await deps.sequences.repair([userId]);
      return undefined;
    }
    if (check) checks.passed(userId, generation);
    if (seqs.length === 0) return [];
    return (await readSeqWindow(deps.connection, userId, seqs, deps.syncReads))?.map(toSlot);
  }

  /**
   * The seqs in (afterSeq, upTo] that are neither stored nor known gaps, in order, and how far from
   * afterSeq everything is settled, given what was read.
   */
  function holesIn(slots: Slot[], afterSeq: number, upTo: number): { holes: number[]; settled: number } {
    const present = new Set(slots.map((slot) => slot.seq));
    const holes: number[] = [];
    let settled = afterSeq;
    for (let seq = afterSeq + 1; seq <= upTo; seq++) {
      if (present.has(seq)) {
        if (holes.length === 0) settled = seq;
      } else holes.push(seq);
    }
    return { holes, settled };
  }

  /**
   * Gives up on holes that are old enough: a later seq of the user was stored more than GAP_AFTER_MS
   * ago (seqs are handed out in order, so the hole's was handed out before), or this client has been
   * behind the same counter that long. Holes far below the counter are deletions. Writes a known gap
   * for each; where the insert collides, the notification landed meanwhile and is read instead.
   */
  async function settleHoles(
    userId: string,
    holes: number[],
    slots: Slot[],
    highest: number | null,
    behindSince?: number,
  ): Promise<Slot[]> {
    const now = Date.now();
    // Every hole below the newest seq stored more than GAP_AFTER_MS ago is that old too.
    const oldStored = slots.reduce(
      (max, slot) => ('createdAt' in slot && now - slot.createdAt > GAP_AFTER_MS ? Math.max(max, slot.seq) : max),
      0,
    );
    const watchedLongEnough = behindSince !== undefined && now - behindSince > GAP_AFTER_MS;
    const old = holes.filter((seq) => (highest !== null && seq <= highest - IN_FLIGHT_SPAN) || watchedLongEnough || seq < oldStored);
    const deleted = old.filter((seq) => highest !== null && seq <= highest - IN_FLIGHT_SPAN).map((seq): Slot => ({ seq, gap: true }));
    const toWrite = old.filter((seq) => !(highest !== null && seq <= highest - IN_FLIGHT_SPAN)).slice(0, MAX_GAPS_PER_SYNC);
    if (toWrite.length === 0) return deleted;
    const { gaps, landed } = await knownGaps.giveUp(userId, toWrite);
    return [...deleted, ...gaps.map((seq): Slot => ({ seq, gap: true })), ...landed.map(toSlot)];
  }

  return {
    close: checks.stop,
    storedUpTo: (userIds) => deps.sequences.repair(userIds),
    syncAfter: (userId, afterSeq, limit = SYNC_PAGE_SIZE, options = {}) => admission.run(() => syncAfter(userId, afterSeq, limit, options)),
  };

  async function syncAfter(userId: string, afterSeq: number, limit: number, options: SyncOptions): Promise<SyncResult> {
    // The counter, then the read, then the counts at the position the read settled: every seq up to
    // it is stored or a known gap by then, so the counts include exactly what the client will hold
    // up to there, and it adds what it holds above.
    const generation = checks.generation();
    const highest = await deps.sequences.highest(userId);
    const { slots, hasMore } = await readRange(userId, afterSeq, limit, highest, generation);
    const lastRead = slots.reduce((max, slot) => Math.max(max, slot.seq), afterSeq);
    // A full page settles at most what it read; the last page settles up to the counter (what was handed out).
    const upTo = hasMore ? lastRead : Math.max(lastRead, highest ?? lastRead);
    const { holes } = holesIn(slots, afterSeq, upTo);
    const all = holes.length > 0 ? [...slots, ...(await settleHoles(userId, holes, slots, highest, options.behindSince))] : slots;
    const { settled } = holesIn(all, afterSeq, upTo);
    const notifications = all
      .filter((slot): slot is Extract<Slot, { notification: Notification }> => 'notification' in slot)
      .sort((a, b) => a.seq - b.seq)
      .map((slot) => slot.notification);
    const fits = withinBytes(notifications, SYNC_PAGE_BYTES);
    // Cut short: settled up to the last one carried at most, and the client asks again from there.
    const cut = fits < notifications.length;
    const settledSeq = cut ? Math.min(settled, notifications[fits - 1]!.seq) : settled;
    return {
      notifications: cut ? notifications.slice(0, fits) : notifications,
      hasMore: hasMore || cut,
      settledSeq,
      counts: await deps.counts.at(userId, settledSeq),
    };
  }
}
