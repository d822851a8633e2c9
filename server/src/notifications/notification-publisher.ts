import mongoose, { Types, type Connection } from 'mongoose';
import { publishNotificationInputSchema, type Notification, type PublishNotificationInput } from '@herald/shared';
import { AppError, PersistenceError, ValidationError, isDatabaseUnavailable } from '../errors';
import type { Logger } from '../logger';
import { preferenceModel } from '../preferences/preference-model';
import { createIdempotencyStore, requestHash } from './idempotency';
import { notificationModel, type NewNotificationDoc, type NotificationDoc } from './notification-model';
import type { FeedCache } from './feed-cache';
import { notificationId } from './notification-id';
import type { SequenceAllocator } from './sequence';
import { toNotification } from './to-notification';
import type { Metrics } from '../metrics';
import type { UserEvents } from './user-events';

export interface NotificationPublisherDeps {
  connection: Connection;
  events: UserEvents;
  sequences: SequenceAllocator;
  /** Cached counts and recent notifications, told about every notification stored. */
  cache: FeedCache;
  logger: Logger;
  metrics?: Pick<Metrics, 'published' | 'publishFailures'>;
  /** Most notifications stored in one insert when calls are grouped. @default 1000 */
  maxBatch?: number;
}

export interface PublishOptions {
  /** The same key again (within 24 hours) stores and sends nothing and returns the first call's result. */
  idempotencyKey?: string;
}

export interface PublishResult {
  /** One stored notification per recipient who receives it, in the order of `userIds`. */
  notifications: Notification[];
  /** Recipients who muted this type: nothing was stored or sent for them. */
  mutedUserIds: string[];
  /** True when this answer replays an earlier request with the same idempotency key. */
  replayed: boolean;
  /**
   * Gateway instances that received each notification's live message (Redis's PUBLISH count), in the
   * order of `notifications`; 0 means no recipient socket was connected anywhere, null that Redis failed
   * (the notification is stored either way and arrives on the next sync).
   */
  instancesReached: (number | null)[];
}

export type PublishNotification = (input: PublishNotificationInput, options?: PublishOptions) => Promise<PublishResult>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
/** Rounds of re-reserving seqs that collided with another instance's before giving up. */
const MAX_SEQ_ATTEMPTS = 20;

type Content = Omit<NewNotificationDoc, 'userId' | 'seq'>;

/** The stored shape: every optional field that is absent stays absent, and the states start unset. */
function newDocument(content: Content, keys: Pick<NotificationDoc, '_id' | 'userId' | 'seq' | 'createdAt'>): NotificationDoc {
  const doc: NotificationDoc = { ...keys, type: content.type, title: content.title, readAt: null, seenAt: null, archivedAt: null };
  if (content.body !== undefined) doc.body = content.body;
  if (content.actionUrl !== undefined) doc.actionUrl = content.actionUrl;
  if (content.actor !== undefined) doc.actor = { id: content.actor.id, name: content.actor.name };
  if (content.data !== undefined) doc.data = content.data;
  return doc;
}

interface StoreRequest {
  userIds: string[];
  content: Content;
  resolve(result: { stored: Notification[]; muted: string[] }): void;
  reject(error: unknown): void;
}

/**
 * Builds `publishNotification`: validate, drop recipients who muted the type,
 * store (with a per-user seq), then publish on each recipient's Redis channel.
 * Storing comes first and is the only step that can fail the call: if it
 * fails, nothing is published. A Redis failure after storing is logged, not
 * thrown, because the notification exists and clients fetch it on their next
 * sync; throwing would invite a retry that stores it twice.
 *
 * Calls that arrive while a write is in flight are stored together in the
 * next one (one preferences read, one seq round trip, one insertMany), so
 * under load the database sees a few large writes instead of many small ones,
 * and an idle publisher writes at once. Each call is still answered, and its
 * notifications pushed, only after its own notifications are stored.
 */
export function createNotificationPublisher(deps: NotificationPublisherDeps): PublishNotification {
  const Notification = notificationModel(deps.connection);
  const Preference = preferenceModel(deps.connection);
  const idempotency = createIdempotencyStore(deps.connection);
  const log = deps.logger.child({ module: 'notification-publisher' });
  const maxBatch = deps.maxBatch ?? 1000;
  let queue: StoreRequest[] = [];
  let writing = false;

  function store(userIds: string[], content: Content): Promise<{ stored: Notification[]; muted: string[] }> {
    return new Promise((resolve, reject) => {
      queue.push({ userIds, content, resolve, reject });
      if (!writing) void drain();
    });
  }

  async function drain(): Promise<void> {
    writing = true;
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
      writing = false;
    }
  }

  async function storeBatch(batch: StoreRequest[]): Promise<void> {
    let muted: Set<string>[];
    try {
      muted = await mutedRecipients(batch);
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    const slots = batch.flatMap((request, r) =>
      request.userIds.filter((userId) => !muted[r]!.has(userId)).map((userId, index) => ({ request: r, index, userId })),
    );
    const stored = batch.map((request, r) => new Array<Notification>(request.userIds.length - muted[r]!.size));
    const failed = new Map<number, unknown>();
    let pending = slots;
    try {
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > MAX_SEQ_ATTEMPTS) throw new Error(`no free seq after ${MAX_SEQ_ATTEMPTS} attempts for ${pending.length} recipients`);
        const seqs = await deps.sequences.reserve(pending.map((slot) => slot.userId));
        const createdAt = new Date();
        const outcomes = await insertUnordered(
          pending.map(({ userId, request }, i) =>
            newDocument(batch[request]!.content, {
              _id: notificationId(userId, seqs[i]!),
              userId: new Types.ObjectId(userId),
              seq: seqs[i]!,
              createdAt,
            }),
          ),
        );
        const collided: typeof pending = [];
        outcomes.forEach((outcome, i) => {
          const slot = pending[i]!;
          if (outcome === 'seq-taken') collided.push(slot);
          else if (outcome instanceof Error) failed.set(slot.request, outcome);
          else stored[slot.request]![slot.index] = toNotification(outcome);
        });
        if (collided.length > 0) {
          log.debug({ collided: collided.length, attempt }, 'seq collisions; reserving again');
          await deps.sequences.repair(collided.map((slot) => slot.userId));
        }
        pending = collided;
      }
    } catch (error) {
      for (const request of batch) request.reject(error);
      return;
    }
    await deps.cache.added(stored.flatMap((notifications) => notifications.filter((n) => n !== undefined)));
    batch.forEach((request, r) => {
      const error = failed.get(r);
      if (error) request.reject(error);
      else request.resolve({ stored: stored[r]!, muted: request.userIds.filter((id) => muted[r]!.has(id)) });
    });
  }

  /** Per request: the recipients who muted its type, from one read for the whole batch. */
  async function mutedRecipients(batch: StoreRequest[]): Promise<Set<string>[]> {
    const userIds = [...new Set(batch.flatMap((request) => request.userIds))];
    const types = [...new Set(batch.map((request) => request.content.type))];
    const docs = await Preference.find(
      {
        _id: mongoose.trusted({ $in: userIds.map((id) => new Types.ObjectId(id)) }),
        mutedTypes: mongoose.trusted({ $in: types }),
      },
      { mutedTypes: 1 },
    ).lean();
    const mutedTypes = new Map(docs.map((doc) => [doc._id.toHexString(), new Set(doc.mutedTypes)]));
    return batch.map((request) => new Set(request.userIds.filter((id) => mutedTypes.get(id)?.has(request.content.type))));
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
        return failure.code === 11000 ? 'seq-taken' : new Error(failure.errmsg ?? `insert failed with code ${failure.code}`);
      });
    }
  }

  async function replay(notificationIds: string[], mutedUserIds: string[]): Promise<PublishResult> {
    const docs = await Notification.find({ _id: mongoose.trusted({ $in: notificationIds.map((id) => new Types.ObjectId(id)) }) }).lean();
    const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toNotification(doc)]));
    const notifications = notificationIds.map((id) => byId.get(id)).filter((n): n is Notification => n !== undefined);
    return { notifications, mutedUserIds, replayed: true, instancesReached: notifications.map(() => 0) };
  }

  async function publishNotification(input: PublishNotificationInput, options: PublishOptions = {}): Promise<PublishResult> {
    const publishedAt = Date.now();
    const parsed = publishNotificationInputSchema.safeParse(input);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'notification');
    const key = options.idempotencyKey;
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError('Invalid Idempotency-Key: use 1 to 200 printable ASCII characters without spaces.');
    }
    const { userIds, ...content } = parsed.data;

    let result: { stored: Notification[]; muted: string[] };
    try {
      if (key !== undefined) {
        const claim = await idempotency.claim(key, requestHash(parsed.data));
        if (claim.kind === 'replay') return await replay(claim.notificationIds, claim.mutedUserIds);
      }
      try {
        result = await store(userIds, content);
      } catch (error) {
        if (key !== undefined) await idempotency.release(key);
        throw error;
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      log.error({ err: error, recipients: userIds.length }, 'storing notifications failed; nothing published');
      if (isDatabaseUnavailable(error)) {
        throw new PersistenceError('The notification could not be stored, so nothing was sent. Try again shortly.', error);
      }
      throw error;
    }

    if (key !== undefined) {
      // Stored is stored: failing to record the key must not fail the call (a retry would store twice).
      await idempotency
        .complete(
          key,
          result.stored.map((n) => n.id),
          result.muted,
        )
        .catch((error: unknown) => {
          log.error({ err: error }, 'could not record an idempotency key as done');
        });
    }
    const instancesReached = await deps.events.publish(
      result.stored.map((notification) => ({ userId: notification.userId, message: { kind: 'notification', notification, publishedAt } })),
    );
    deps.metrics?.published.inc(result.stored.length);
    return { notifications: result.stored, mutedUserIds: result.muted, replayed: false, instancesReached };
  }

  return async (input, options) => {
    try {
      return await publishNotification(input, options);
    } catch (error) {
      deps.metrics?.publishFailures.inc({ code: error instanceof AppError ? error.code : 'internal' });
      throw error;
    }
  };
}
