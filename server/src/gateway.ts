import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { hostname } from 'node:os';
import { DEFAULT_CHANNEL_PREFIX } from '@herald/shared';
import { createMetrics, type Metrics } from './metrics';
import type { RedisClient } from './redis-client';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { createApp } from './app';
import { demoRoutes } from './demo/demo-routes';
import { createTokenService, type TokenService } from './auth/jwt';
import type { Logger } from './logger';
import { createFeedCache } from './notifications/feed-cache';
import { createNotificationFeed, type NotificationFeed } from './notifications/notification-feed';
import { createNotificationPublisher, type PublishNotification } from './notifications/notification-publisher';
import { createRetentionSweeper, type RetentionPolicy } from './notifications/retention';
import { createSequenceAllocator } from './notifications/sequence';
import { createUserEvents } from './notifications/user-events';
import { preferenceModel } from './preferences/preference-model';
import { createIoServer, type IoServer } from './realtime/io-server';
import { pubSubStats } from './realtime/pubsub-stats';
import type { TopicChannelSubscriber } from './realtime/topic-channel-subscriber';
import type { Routing, UserChannelSubscriber } from './realtime/user-channel-subscriber';
import { createTopicService, type TopicPolicy, type TopicService } from './topics/topic-service';
import { userModel } from './users/user-model';

export interface GatewayDeps {
  connection: Connection;
  redis: {
    /** Normal-mode connection: publishing, adapter requests, health checks. */
    command: RedisClient;
    adapterSubscriber: RedisClient;
    userSubscriber: RedisClient;
  };
  logger: Logger;
  jwtSecret: string;
  jwtTtlSeconds: number;
  serviceToken: string;
  corsOrigins: readonly string[];
  clientDir?: string;
  /** @default "herald" */
  channelPrefix?: string;
  /** Background retention; omit to run no sweeper (tests call runOnce themselves). */
  retention?: RetentionPolicy;
  /** @default a fresh registry */
  metrics?: Metrics;
  /** @default a random id */
  instanceId?: string;
  /** Who may subscribe to which topic; @default created topics only, private ones for members */
  topicPolicy?: TopicPolicy;
  /** Mount the demo app's routes (posts, comments, likes, follows). @default false */
  demo?: boolean;
  /** Show the developer page in the client. @default false */
  devTools?: boolean;
  /** 'broadcast' makes every instance receive every user's messages (the classic setup, kept for comparison). @default "per-user" */
  routing?: Routing;
}

export interface Gateway {
  app: Express;
  httpServer: http.Server;
  io: IoServer;
  userChannels: UserChannelSubscriber;
  topicChannels: TopicChannelSubscriber;
  topics: TopicService;
  tokens: TokenService;
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  metrics: Metrics;
  instanceId: string;
  retention: ReturnType<typeof createRetentionSweeper>;
  /** Listens on loopback-or-all as given; resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Disconnects sockets and stops listening; the caller closes the clients it built. */
  close(): Promise<void>;
}

/** Wires one gateway instance from clients its caller built, so tests can run several in one process. */
export function createGateway(deps: GatewayDeps): Gateway {
  const metrics = deps.metrics ?? createMetrics();
  const instanceId = deps.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const tokens = createTokenService({ secret: deps.jwtSecret, ttlSeconds: deps.jwtTtlSeconds });
  const events = createUserEvents({
    redis: deps.redis.command,
    logger: deps.logger,
    ...(deps.channelPrefix ? { channelPrefix: deps.channelPrefix } : {}),
  });
  const prefixOption = deps.channelPrefix ? { channelPrefix: deps.channelPrefix } : {};
  const sequences = createSequenceAllocator({
    connection: deps.connection,
    redis: deps.redis.command,
    logger: deps.logger,
    ...prefixOption,
  });
  const cache = createFeedCache({ redis: deps.redis.command, logger: deps.logger, ...prefixOption });
  const publishNotification = createNotificationPublisher({
    connection: deps.connection,
    events,
    sequences,
    cache,
    logger: deps.logger,
    metrics,
  });
  const feed = createNotificationFeed({ connection: deps.connection, events, sequences, cache });
  const topics = createTopicService({
    connection: deps.connection,
    redis: deps.redis.command,
    events,
    logger: deps.logger,
    ...(deps.topicPolicy ? { policy: deps.topicPolicy } : {}),
    ...(deps.channelPrefix ? { channelPrefix: deps.channelPrefix } : {}),
  });
  const retention = createRetentionSweeper({
    connection: deps.connection,
    redis: deps.redis.command,
    logger: deps.logger,
    policy: deps.retention ?? { maxAgeDays: 0, maxPerUser: 0, intervalMs: 600_000 },
    cache,
    ...(deps.channelPrefix ? { lockKey: `${deps.channelPrefix}:retention-lock` } : {}),
  });
  if (deps.retention) retention.start();
  const app = createApp({
    logger: deps.logger,
    tokens,
    users: userModel(deps.connection),
    preferences: preferenceModel(deps.connection),
    feed,
    serviceToken: deps.serviceToken,
    corsOrigins: deps.corsOrigins,
    publishNotification,
    readiness: {
      mongodb: async () => {
        const db = deps.connection.db;
        if (!db || deps.connection.readyState !== 1) throw new Error('not connected');
        await db.admin().ping();
      },
      redis: async () => {
        await deps.redis.command.ping();
      },
      // A draining instance reports not ready, so the load balancer stops sending it clients.
      accepting: async () => {
        if (realtime.draining) throw new Error('draining');
      },
    },
    ...(deps.clientDir ? { clientDir: deps.clientDir } : {}),
    metrics,
    topics,
    ...(deps.demo
      ? { extraApiRoutes: demoRoutes({ connection: deps.connection, tokens, publishNotification, topics, logger: deps.logger }) }
      : {}),
    devTools: deps.devTools ?? false,
    clusterStats: () => realtime.clusterStats(),
    redisStats: () => pubSubStats(deps.redis.command, deps.channelPrefix ?? DEFAULT_CHANNEL_PREFIX),
  });
  const httpServer = http.createServer(app);
  const realtime = createIoServer({
    httpServer,
    tokens,
    feed,
    logger: deps.logger,
    corsOrigins: deps.corsOrigins,
    redis: deps.redis,
    metrics,
    instanceId,
    topics,
    ...(deps.channelPrefix ? { channelPrefix: deps.channelPrefix } : {}),
    ...(deps.routing ? { routing: deps.routing } : {}),
  });

  return {
    app,
    httpServer,
    io: realtime.io,
    userChannels: realtime.userChannels,
    topicChannels: realtime.topicChannels,
    topics,
    tokens,
    publishNotification,
    feed,
    metrics,
    instanceId,
    retention,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        // A larger accept queue than Node's 511: when an instance fails, thousands of clients reconnect to
        // the others within a second, and connections beyond the queue wait for a SYN retry (1 s, then 3 s).
        httpServer.listen({ port, host, backlog: 4096 }, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    close: async () => {
      retention.stop();
      await realtime.close();
    },
  };
}
