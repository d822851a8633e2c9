import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import {
  DEFAULT_CHANNEL_PREFIX,
  publishNotificationInputSchema,
  userChannel,
  type Notification,
  type PublishNotificationInput,
  type UserChannelMessage,
} from '@herald/shared';
import { PersistenceError, ValidationError } from '../errors';
import type { Logger } from '../logger';
import { notificationModel, type NewNotificationDoc } from './notification-model';
import { createSequenceAllocator } from './sequence';
import { toNotification } from './to-notification';

export interface NotificationPublisherDeps {
  connection: Connection;
  /** A Redis connection in normal (not subscriber) mode. */
  redis: Redis;
  logger: Logger;
  /** @default "herald" */
  channelPrefix?: string;
  /** How long to wait for Redis before answering anyway; stored notifications are caught up by sync. @default 2000 */
  publishTimeoutMs?: number;
}

export type PublishNotification = (input: PublishNotificationInput) => Promise<Notification[]>;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Builds `publishNotification`: validate, store (with a per-user seq), then
 * publish on each recipient's Redis channel. Storing comes first and is the
 * only step that can fail the call: if it fails, nothing is published. A Redis
 * failure after storing is logged, not thrown, because the notification exists
 * and clients fetch it on their next sync; throwing would invite a retry that
 * stores it twice.
 */
export function createNotificationPublisher(deps: NotificationPublisherDeps): PublishNotification {
  const Notification = notificationModel(deps.connection);
  const reserveSeq = createSequenceAllocator(deps.connection);
  const prefix = deps.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  const publishTimeoutMs = deps.publishTimeoutMs ?? 2000;
  const log = deps.logger.child({ module: 'notification-publisher' });

  return async function publishNotification(input) {
    const parsed = publishNotificationInputSchema.safeParse(input);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'notification');
    const { userIds, ...content } = parsed.data;

    let stored: Notification[];
    try {
      const seqs = await Promise.all(userIds.map((userId) => reserveSeq(userId)));
      const fresh: NewNotificationDoc[] = userIds.map((userId, i) => ({
        ...content,
        userId: new Types.ObjectId(userId),
        seq: seqs[i] ?? 0,
      }));
      const docs = await Notification.insertMany(fresh, { ordered: true });
      stored = docs.map((doc) => toNotification(doc.toObject()));
    } catch (error) {
      log.error({ err: error, recipients: userIds.length }, 'storing notifications failed; nothing published');
      throw new PersistenceError('The notification could not be stored, so nothing was sent. Try again shortly.', error);
    }

    const pipeline = deps.redis.pipeline();
    for (const notification of stored) {
      const message: UserChannelMessage = { kind: 'notification', notification };
      pipeline.publish(userChannel(notification.userId, prefix), JSON.stringify(message));
    }
    try {
      const results = await withTimeout(pipeline.exec(), publishTimeoutMs, 'redis publish');
      const failed = (results ?? []).filter(([err]) => err).length;
      if (failed > 0)
        log.warn({ failed, total: stored.length }, 'some notifications were stored but not published; clients catch up on sync');
    } catch (error) {
      log.warn({ err: error, total: stored.length }, 'notifications stored but not published; clients catch up on sync');
    }
    return stored;
  };
}
