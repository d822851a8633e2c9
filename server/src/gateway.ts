import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import express, { type Express, type Router } from 'express';
import type { Connection } from 'mongoose';
import { createNames } from '@herald/shared';
import { createApp } from './app';
import { createAuthenticator, type Authenticate, type Authenticator } from './auth/authenticate';
import { createTokenSigner, noTokenSigner, type TokenSigner } from './auth/token-signer';
import { createTokenVerifier, type TokenVerifierOptions } from './auth/token-verifier';
import { pubSubStats } from './channels/pubsub-stats';
import type { TopicChannelSubscriber } from './channels/topic-channel-subscriber';
import type { Routing, UserChannelSubscriber } from './channels/user-channel-subscriber';
import { createNotificationCore } from './notifications/notification-core';
import type { NotificationFeed } from './notifications/notification-feed';
import type { PublishNotification } from './notifications/notification-publisher';
import { createRetentionSweeper, type RetentionPolicy, type RetentionSweeper } from './notifications/retention';
import type { Logger } from './platform/logger';
import { createMetrics, type Metrics } from './platform/metrics';
import type { RedisClient } from './platform/redis-client';
import { preferenceModel } from './preferences/preference-model';
import { createIoServer, type IoServer } from './realtime/io-server';
import { createTopicService, type TopicPolicy, type TopicService } from './topics/topic-service';

/**
 * The clients and settings createGateway is handed (it builds none itself).
 *
 * @example
 * const deps: GatewayDeps = { connection, redis: { command, adapterSubscriber, userSubscriber }, logger, auth: { jwtSecret }, serviceTokens: [serviceToken], corsOrigins: [] };
 */
export interface GatewayDeps {
  connection: Connection;
  redis: {
    /** Normal-mode connection: publishing, adapter requests, health checks. */
    command: RedisClient;
    adapterSubscriber: RedisClient;
    userSubscriber: RedisClient;
  };
  logger: Logger;
  /**
   * Which users' tokens are accepted: `jwtSecret` (HS256, also signs the demo's tokens), a `jwksUrl` or a
   * `publicKey`, with `issuer`/`audience` checked whenever set.
   */
  auth: Omit<TokenVerifierOptions, 'logger'>;
  /** Replaces token verification with the host's own check (socket handshakes, user routes, auth:refresh). */
  authenticate?: Authenticate;
  /** Lifetime of tokens Herald signs (the demo's sign-in). @default 43200 */
  jwtTtlSeconds?: number;
  /** Backends present one of these to publish and manage topics; several at once for rotation. */
  serviceTokens: readonly string[];
  /** Bearer token for /metrics and the admin stats. */
  metricsToken?: string;
  /** Without a metrics token, /metrics is public (true) or absent (false, as in production). @default true */
  publicMetrics?: boolean;
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
  /** Show the developer page in the client. @default false */
  devTools?: boolean;
  /** 'broadcast' makes every instance receive every user's messages (the classic setup, kept for comparison). @default "per-user" */
  routing?: Routing;
}

/**
 * One wired gateway instance: its express app, HTTP server, Socket.IO server and services.
 *
 * @example
 * const port = await gateway.listen(0, '127.0.0.1');
 * await gateway.close();
 */
export interface Gateway {
  app: Express;
  /** Mounted under /api before the API's 404: add your own routes here (installDemo does). */
  apiRoutes: Router;
  httpServer: http.Server;
  io: IoServer;
  userChannels: UserChannelSubscriber;
  topicChannels: TopicChannelSubscriber;
  topics: TopicService;
  /** Signs HS256 tokens with `auth.jwtSecret` (throws without one): the demo's sign-in, tools, tests. */
  tokens: TokenSigner;
  /** The check every user token goes through (the hook, or Herald's verifier). */
  authenticate: Authenticator;
  publishNotification: PublishNotification;
  feed: NotificationFeed;
  metrics: Metrics;
  logger: Logger;
  instanceId: string;
  retention: RetentionSweeper;
  /** Listens on loopback-or-all as given; resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  /** Disconnects sockets, stops listening and removes its listeners; the caller closes the clients it built. */
  close(): Promise<void>;
}

/**
 * Wires one gateway instance from clients its caller built, so tests can run several in one process.
 *
 * @example
 * const gateway = createGateway({ connection, redis: { command, adapterSubscriber, userSubscriber }, logger, auth: { jwksUrl, issuer, audience }, serviceTokens: [serviceToken], corsOrigins: [] });
 * await ensureIndexes(connection);
 * await gateway.listen(3000);
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { connection, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const names = createNames(deps.channelPrefix);
  const instanceId = deps.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const { auth } = deps;
  const tokens = auth.jwtSecret
    ? createTokenSigner({
        secret: auth.jwtSecret,
        ttlSeconds: deps.jwtTtlSeconds ?? 43_200,
        ...(auth.issuer ? { issuer: auth.issuer } : {}),
        ...(auth.audience ? { audience: auth.audience } : {}),
      })
    : noTokenSigner;
  const authenticate = createAuthenticator({
    verifier: createTokenVerifier({ ...auth, logger }),
    ...(deps.authenticate ? { hook: deps.authenticate } : {}),
  });
  const core = createNotificationCore({ connection, redis: deps.redis.command, names, logger, metrics });
  const topics = createTopicService({
    connection,
    redis: deps.redis.command,
    userChannel: core.userChannel,
    logger,
    names,
    ...(deps.topicPolicy ? { policy: deps.topicPolicy } : {}),
  });
  const retention = createRetentionSweeper({
    connection,
    redis: deps.redis.command,
    logger,
    names,
    policy: deps.retention ?? { maxAgeDays: 0, maxPerUser: 0, intervalMs: 600_000 },
    cache: core.cache,
  });
  if (deps.retention) retention.start();
  const apiRoutes = express.Router();
  const app = createApp({
    logger,
    authenticate,
    preferences: preferenceModel(connection),
    feed: core.feed,
    serviceTokens: deps.serviceTokens,
    ...(deps.metricsToken ? { metricsToken: deps.metricsToken } : {}),
    publicMetrics: deps.publicMetrics ?? true,
    corsOrigins: deps.corsOrigins,
    publishNotification: core.publishNotification,
    readiness: {
      mongodb: async () => {
        const db = connection.db;
        if (!db || connection.readyState !== 1) throw new Error('not connected');
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
    extensions: apiRoutes,
    devTools: deps.devTools ?? false,
    clusterStats: () => realtime.clusterStats(),
    redisStats: () => pubSubStats(deps.redis.command, names),
  });
  const httpServer = http.createServer(app);
  const realtime = createIoServer({
    httpServer,
    authenticate,
    feed: core.feed,
    catchUp: core.catchUp,
    topics,
    logger,
    metrics,
    names,
    corsOrigins: deps.corsOrigins,
    redis: deps.redis,
    instanceId,
    ...(deps.routing ? { routing: deps.routing } : {}),
  });

  return {
    app,
    apiRoutes,
    httpServer,
    io: realtime.io,
    userChannels: realtime.userChannels,
    topicChannels: realtime.topicChannels,
    topics,
    tokens,
    authenticate,
    publishNotification: core.publishNotification,
    feed: core.feed,
    metrics,
    logger,
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
      core.close();
    },
  };
}
