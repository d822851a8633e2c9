import mongoose from 'mongoose';
import type { PublishNotificationInput } from '@herald/shared';
import { ensureIndexes } from './db-indexes';
import { createLogger, type Logger } from './logger';
import { createRedisClient } from './redis-client';
import { createNotificationPublisher, type PublishOptions, type PublishResult } from './notifications/notification-publisher';
import { createFeedCache } from './notifications/feed-cache';
import { createSequenceAllocator } from './notifications/sequence';
import { createUserEvents } from './notifications/user-events';

export interface HeraldPublisherOptions {
  /** The same MONGODB_URI the gateways use. */
  mongodbUri: string;
  /** The same REDIS_URL the gateways use. */
  redisUrl: string;
  /** @default a pino logger at "info" */
  logger?: Logger;
  /** @default "herald" */
  channelPrefix?: string;
  /** @default 3000 */
  serverSelectionTimeoutMS?: number;
}

export interface HeraldPublisher {
  /** Validates, stores, then sends to the recipients' sockets on whichever gateways hold them. */
  publishNotification(input: PublishNotificationInput, options?: PublishOptions): Promise<PublishResult>;
  close(): Promise<void>;
}

/**
 * `publishNotification` for another Node service: no HTTP hop, just the
 * gateways' MongoDB and Redis. Open it once at start and close it on
 * shutdown; it holds one MongoDB pool and one Redis connection.
 */
export async function createHeraldPublisher(options: HeraldPublisherOptions): Promise<HeraldPublisher> {
  const logger = options.logger ?? createLogger('info');
  const connection = await mongoose
    .createConnection(options.mongodbUri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3000,
      bufferCommands: false,
      autoIndex: false,
      sanitizeFilter: true,
    })
    .asPromise();
  const redis = createRedisClient(options.redisUrl, 'herald-publisher');
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
  try {
    await ensureIndexes(connection);
  } catch (error) {
    redis.disconnect();
    await connection.close();
    throw error;
  }
  const prefix = options.channelPrefix ? { channelPrefix: options.channelPrefix } : {};
  const publishNotification = createNotificationPublisher({
    connection,
    logger,
    events: createUserEvents({ redis, logger, ...prefix }),
    sequences: createSequenceAllocator({ connection, redis, logger, ...prefix }),
    cache: createFeedCache({ redis, logger, ...prefix }),
  });
  return {
    publishNotification,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await connection.close();
    },
  };
}
