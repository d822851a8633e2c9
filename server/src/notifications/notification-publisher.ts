import mongoose, { Types, type Connection } from 'mongoose';
import { publishNotificationInputSchema, type Notification, type PublishNotificationInput } from '@herald/shared';
import { AppError, PersistenceError, ValidationError, isDatabaseUnavailable } from '../errors';
import type { Logger } from '../logger';
import { preferenceModel } from '../preferences/preference-model';
import { createIdempotencyStore, requestHash } from './idempotency';
import { notificationModel, type NewNotificationDoc, type NotificationDoc } from './notification-model';
import { createSequenceAllocator } from './sequence';
import { toNotification } from './to-notification';
import type { Metrics } from '../metrics';
import type { UserEvents } from './user-events';

export interface NotificationPublisherDeps {
  connection: Connection;
  events: UserEvents;
  logger: Logger;
  metrics?: Pick<Metrics, 'published' | 'publishFailures'>;
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

/**
 * Builds `publishNotification`: validate, drop recipients who muted the type,
 * store (with a per-user seq), then publish on each recipient's Redis channel.
 * Storing comes first and is the only step that can fail the call: if it
 * fails, nothing is published. A Redis failure after storing is logged, not
 * thrown, because the notification exists and clients fetch it on their next
 * sync; throwing would invite a retry that stores it twice.
 */
export function createNotificationPublisher(deps: NotificationPublisherDeps): PublishNotification {
  const Notification = notificationModel(deps.connection);
  const Preference = preferenceModel(deps.connection);
  const reserveSeq = createSequenceAllocator(deps.connection);
  const idempotency = createIdempotencyStore(deps.connection);
  const log = deps.logger.child({ module: 'notification-publisher' });

  async function store(
    userIds: string[],
    content: Omit<NewNotificationDoc, 'userId' | 'seq'>,
  ): Promise<{ stored: Notification[]; muted: string[] }> {
    const mutedDocs = await Preference.find(
      { _id: mongoose.trusted({ $in: userIds.map((id) => new Types.ObjectId(id)) }), mutedTypes: content.type },
      { _id: 1 },
    ).lean();
    const muted = new Set(mutedDocs.map((doc) => doc._id.toHexString()));
    const recipients = userIds.filter((id) => !muted.has(id));
    const stored: Notification[] = new Array<Notification>(recipients.length);
    let pending = recipients.map((userId, index) => ({ userId, index }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_SEQ_ATTEMPTS) throw new Error(`no free seq after ${MAX_SEQ_ATTEMPTS} attempts for ${pending.length} recipients`);
      const seqs = await Promise.all(pending.map(({ userId }) => reserveSeq(userId)));
      const outcomes = await insertUnordered(
        pending.map(({ userId }, i) => ({ ...content, userId: new Types.ObjectId(userId), seq: seqs[i] ?? 0 })),
      );
      const collided: typeof pending = [];
      outcomes.forEach((outcome, i) => {
        const slot = pending[i]!;
        if (outcome === 'seq-taken') collided.push(slot);
        else stored[slot.index] = toNotification(outcome);
      });
      if (collided.length > 0) log.debug({ collided: collided.length, attempt }, 'seq collisions; reserving again');
      pending = collided;
    }
    return { stored, muted: userIds.filter((id) => muted.has(id)) };
  }

  /** Inserts every document it can; a document whose (userId, seq) is already taken comes back as 'seq-taken'. */
  async function insertUnordered(fresh: NewNotificationDoc[]): Promise<(NotificationDoc | 'seq-taken')[]> {
    try {
      const docs = await Notification.insertMany(fresh, { ordered: false });
      return docs.map((doc) => doc.toObject());
    } catch (error) {
      const results = (error as { results?: unknown[] }).results;
      if (!Array.isArray(results) || results.length !== fresh.length) throw error;
      return results.map((result) => {
        if (result instanceof Notification) return result.toObject();
        if ((result as { code?: unknown }).code === 11000) return 'seq-taken';
        throw error;
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
