import type { Connection } from 'mongoose';
import type { HeraldNames } from '@herald/shared';
import { createUserChannelPublisher, type UserChannelPublisher } from '../channels/user-channel-publisher';
import { publishEvent } from '../events/event-bus';
import { withDatabaseDeadlines } from '../platform/deadline';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RedisClient } from '../platform/redis-client';
import { createMuteSettings, type MuteSettings } from '../preferences/mute-settings';
import { createRedisRecovery, type RedisRecovery } from '../platform/redis-recovery';
import { createCatchUp, type CatchUp } from './catch-up';
import { createCountFeed } from './feed-counts';
import { createNotificationFeed, type NotificationFeed } from './notification-feed';
import { createNotificationPublisher, type PublishNotification } from './notification-publisher';
import { createNotificationWriter } from './notification-writer';
import { createRetentionTracker, type RetentionTracker } from './retention-tracker';
import { createJobStore, type JobStore } from './scheduled-jobs';
import type { OffPageSettings } from './outbox';
import type { ChannelDefaults } from './notification-publisher';
import { createSequenceAllocator, type SequenceAllocator } from './sequence';

export interface NotificationCore {
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  catchUp: CatchUp;
  sequences: SequenceAllocator;
  userChannel: UserChannelPublisher;
  jobs: JobStore;
  /** Which users received notifications lately, for the retention sweeper. */
  retention: RetentionTracker;
  /** The process's "Redis is back" routine, on the subscriber connection (see RedisRecovery). */
  recovery: RedisRecovery;
  /** Recipients' mute settings as this process keeps them (a preference write tells every process). */
  mutes: MuteSettings;
  /** Removes every listener the core attached to the connections it was handed (it closes neither). */
  close(): Promise<void>;
}

export interface NotificationCoreDeps {
  connection: Connection;
  /** A normal-mode connection (commands and PUBLISH). */
  redis: RedisClient;
  /**
   * A subscriber-mode connection (may be shared). Without it, every publish reads its recipients' mute
   * settings, and the "Redis is back" routine watches `redis`.
   */
  subscriber?: RedisClient;
  names: HeraldNames;
  logger: Logger;
  metrics?: Pick<Metrics, 'published' | 'publishFailures' | 'announceFailures'>;
  /** Replaces the Redis user-channel publisher (tests use it to lose or watch live messages). */
  userChannel?: UserChannelPublisher;
  /** @default "auto" */
  syncReads?: 'auto' | 'range' | 'by-id';
  /** Categories users cannot turn off: their notifications ignore muted types and categories. */
  criticalCategories?: readonly string[];
  /** The off-page channels configured here: publishes asking for them record their jobs (see outbox.ts). @default none */
  offPage?: OffPageSettings;
  /** Categories or types that ask for push or email when a publish does not say. */
  channelDefaults?: ChannelDefaults;
  /** Told when a publish recorded jobs that are due now (push), so this process runs them without waiting for its next look. */
  onJobsDue?: () => void;
}

/**
 * Builds the notification domain from one MongoDB connection and one Redis
 * connection: the same pieces for a gateway and for `createHeraldPublisher`,
 * so both store, number and announce notifications identically.
 */
export function createNotificationCore(deps: NotificationCoreDeps): NotificationCore {
  const { connection, redis, names, logger } = deps;
  const userChannel =
    deps.userChannel ?? createUserChannelPublisher({ redis, logger, names, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  const sequences = createSequenceAllocator({ connection, redis, logger, names });
  const counts = createCountFeed({ connection, sequences });
  const jobs = createJobStore(connection);
  // Registered in order: the mute settings, then the counter checks (catch-up); a gateway's channels
  // and resync come after (see createIoServer).
  const recovery = createRedisRecovery(deps.subscriber ?? redis, logger);
  const mutes = createMuteSettings({
    connection,
    redis,
    ...(deps.subscriber ? { listen: { subscriber: deps.subscriber, recovery } } : {}),
    names,
    logger,
    critical: deps.criticalCategories ?? [],
  });
  const retention = createRetentionTracker({ redis, names, logger });
  const writer = createNotificationWriter({
    connection,
    sequences,
    muted: mutes,
    // Push jobs only where push is configured (the gateways that run them must have it too).
    ...(deps.offPage && (deps.offPage.push || deps.offPage.email)
      ? { offPage: { jobs, settings: deps.offPage }, ...(deps.onJobsDue ? { onJobsDue: deps.onJobsDue } : {}) }
      : {}),
    logger,
    retention,
  });
  const catchUp = withDatabaseDeadlines(
    createCatchUp({ connection, sequences, counts, recovery, ...(deps.syncReads ? { syncReads: deps.syncReads } : {}) }),
  );
  return {
    publishNotification: createNotificationPublisher({
      writer,
      userChannel,
      logger,
      counts,
      jobs,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.channelDefaults ? { channelDefaults: deps.channelDefaults } : {}),
    }),
    // Request paths wait for the database at most DATABASE_DEADLINE_MS (publishing bounds itself).
    feed: withDatabaseDeadlines(
      createNotificationFeed({
        connection,
        userChannel,
        counts,
        jobs,
        onAction: async (n) => {
          const data = {
            notificationId: n.id,
            userId: n.userId,
            ...(n.tenant ? { tenant: n.tenant } : {}),
            actionId: n.actionId!,
            type: n.type,
            interactedAt: n.interactedAt!,
            ...(n.category ? { category: n.category } : {}),
            ...(n.data ? { data: n.data } : {}),
          };
          // The click is stored either way; a backend listening on the bus misses this one if Redis is down.
          await publishEvent(redis, names, 'notification.action', data).catch((error: unknown) =>
            logger.warn({ err: error, notificationId: n.id }, 'could not emit notification.action'),
          );
        },
      }),
    ),
    catchUp,
    sequences,
    userChannel,
    jobs,
    mutes,
    retention,
    recovery,
    close: async () => {
      catchUp.close();
      recovery.stop();
      await retention.flush();
      mutes.close();
    },
  };
}
