import type { PublishNotificationInput } from '@herald/shared';
import { createNames } from '@herald/shared';
import { ConfigError } from './config';
import { ensureIndexes } from './db-indexes';
import { createNotificationCore } from './notifications/notification-core';
import { createOffPage, offPageSettings } from './off-page';
import { checkOffPage, type OffPageOptions } from './off-page-config';
import type { PublishOptions, PublishResult } from './notifications/notification-publisher';
import { withDatabaseDeadlines } from './platform/deadline';
import { createLogger, type Logger } from './platform/logger';
import { createMongoConnection } from './platform/mongo-connection';
import { COMMAND_TIMEOUT_MS, createRedisClient, quitRedis } from './platform/redis-client';
import type { RecipientService } from './recipients/recipient-service';
import { createTopicService, type TopicService } from './topics/topic-service';

/**
 * Where the gateways' MongoDB and Redis are, and how to log.
 *
 * @example
 * const options: HeraldPublisherOptions = { mongodbUri, redisUrl, channelPrefix: 'herald' };
 */
export interface HeraldPublisherOptions extends OffPageOptions {
  /** The same MONGODB_URI the gateways use. */
  mongodbUri: string;
  /** The same REDIS_URL the gateways use. */
  redisUrl: string;
  /** @default a pino logger at "info" */
  logger?: Logger;
  /** @default "herald" */
  channelPrefix?: string;
  /** The gateways' collection prefix (MONGODB_COLLECTION_PREFIX, attachHerald's collectionPrefix). @default "" */
  collectionPrefix?: string;
  /** @default 3000 */
  serverSelectionTimeoutMS?: number;
  /** The gateways' critical categories (CRITICAL_CATEGORIES): nobody's settings hold them back. @default none */
  criticalCategories?: readonly string[];
}

/**
 * What a backend does with topics: the calls of `/api/topics` without the HTTP hop.
 *
 * @example
 * await herald.topics.ensure({ name: `post:${post.id}` });
 * await herald.topics.publishToTopic(`post:${post.id}`, { event: 'comment.created', data: { commentId } }, { excludeUserId: authorId });
 */
export type PublisherTopics = Pick<TopicService, 'ensure' | 'members' | 'addMember' | 'removeMember' | 'publishToTopic'>;

/**
 * What createHeraldPublisher returns: publish, topics, and close on shutdown.
 *
 * @example
 * const { notifications } = await herald.publishNotification(input, { idempotencyKey: `order-${order.id}` });
 */
export interface HeraldPublisher {
  /** Validates, stores, then sends to the recipients' sockets on whichever gateways hold them. */
  publishNotification(input: PublishNotificationInput, options?: PublishOptions): Promise<PublishResult>;
  /**
   * Creates topics, manages their members and sends live topic messages, as the gateways' topic API
   * does: a message goes straight to the topic's Redis channel, so it reaches the subscribers on every
   * gateway without an HTTP request in between.
   */
  topics: PublisherTopics;
  /** Who users are off the page (email, name, locale, time zone), as `/api/recipients/:userId` sets them. */
  recipients: RecipientService;
  close(): Promise<void>;
}

/**
 * `publishNotification` for another Node service: no HTTP hop, just the
 * gateways' MongoDB and Redis, and the same notification core the gateways
 * run. Open it once at start and close it on shutdown; it holds one MongoDB
 * pool and one Redis connection.
 *
 * @example
 * const herald = await createHeraldPublisher({ mongodbUri: process.env.MONGODB_URI!, redisUrl: process.env.REDIS_URL! });
 * await herald.publishNotification({ userIds: [post.authorId], type: 'comment.created', title: 'New comment' });
 * await herald.close();
 */
export async function createHeraldPublisher(options: HeraldPublisherOptions): Promise<HeraldPublisher> {
  const logger = options.logger ?? createLogger('info');
  const offPageChecked = checkOffPage(options);
  if (offPageChecked.problems.length > 0) throw new ConfigError(offPageChecked.problems);
  const connection = await createMongoConnection(options.mongodbUri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3000,
  }).asPromise();
  const redis = createRedisClient(options.redisUrl, 'herald-publisher', { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  // Hears preference changes, so recipients' mute settings are kept here (see createMuteSettings).
  const subscriber = createRedisClient(options.redisUrl, 'herald-publisher-sub');
  const onRedisError = (error: Error) => logger.warn({ err: error }, 'redis connection error');
  redis.on('error', onRedisError);
  subscriber.on('error', onRedisError);
  try {
    await ensureIndexes(connection, {
      ...(options.collectionPrefix !== undefined ? { collectionPrefix: options.collectionPrefix } : {}),
    });
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    await connection.close();
    throw error;
  }
  const names = createNames(options.channelPrefix);
  const core = createNotificationCore({
    connection,
    redis,
    subscriber,
    names,
    logger,
    ...(options.criticalCategories ? { criticalCategories: options.criticalCategories } : {}),
    channelDefaults: offPageChecked.config.channelDefaults,
    // It records the off-page jobs; the gateways run them.
    offPage: offPageSettings(offPageChecked.config),
  });
  const topics = withDatabaseDeadlines(createTopicService({ connection, redis, userChannel: core.userChannel, logger, names }));
  const offPage = createOffPage(connection, options, { logger, critical: options.criticalCategories ?? [] });
  return {
    publishNotification: core.publishNotification,
    topics: {
      ensure: topics.ensure,
      members: topics.members,
      addMember: topics.addMember,
      removeMember: topics.removeMember,
      publishToTopic: topics.publishToTopic,
    },
    recipients: offPage.recipients,
    async close() {
      await core.close();
      offPage.close();
      await Promise.allSettled([quitRedis(redis), quitRedis(subscriber)]);
      redis.off('error', onRedisError);
      subscriber.off('error', onRedisError);
      await connection.close();
    },
  };
}
