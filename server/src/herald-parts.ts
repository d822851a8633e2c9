import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import express, { type Router } from 'express';
import type { Connection } from 'mongoose';
import { createNames, type HeraldNames } from '@herald/shared';
import { createApiRouter } from './app';
import type { Authenticate, Authenticator, AuthorizeTenant } from './auth/authenticate';
import { createAuth } from './auth/create-auth';
import type { TokenSigner } from './auth/token-signer';
import type { TokenVerifierOptions } from './auth/token-verifier';
import { pubSubStats } from './channels/pubsub-stats';
import type { Routing } from './channels/user-channel-subscriber';
import type { ReadinessCheck } from './http/health-routes';
import { createNotificationCore, type NotificationCore } from './notifications/notification-core';
import { createRetentionSweeper, type RetentionPolicy, type RetentionSweeper } from './notifications/retention';
import { createJobRunner, jobWork, type JobRunner } from './notifications/job-runner';
import { createOffPage, offPageSettings, type OffPage } from './off-page';
import type { OffPageOptions } from './off-page-config';
import { useCollectionPrefix } from './platform/collections';
import { withDatabaseDeadlines } from './platform/deadline';
import type { Logger } from './platform/logger';
import { createMetrics, type Metrics } from './platform/metrics';
import type { RedisClient } from './platform/redis-client';
import { preferenceModel } from './preferences/preference-model';
import { createIoServer, type RealtimeServer } from './realtime/io-server';
import { withDefaultLimits, type Limits } from './security/limits';
import { createRateLimiters } from './security/rate-limiters';
import type { TopicPolicy } from './topics/topic-rules';
import { createTopicService, type TopicService } from './topics/topic-service';

/**
 * What one Herald instance is built from, standalone (createGateway) or inside a host (attachHerald).
 *
 * @example
 * const deps: HeraldDeps = { connection, redis: { command, adapterSubscriber, userSubscriber }, logger, auth: { jwksUrl, issuer, audience }, serviceTokens: [], corsOrigins: [] };
 */
export interface HeraldDeps {
  connection: Connection;
  /** Where Herald's API is mounted (`/api` for a gateway, attachHerald's prefix): links in emails point there. @default "/api" */
  apiPath?: string;
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
  /** Decides which tenants' feeds a user may read, instead of the token's tenants claim (see AuthorizeTenant). */
  authorizeTenant?: AuthorizeTenant;
  /** Lifetime of tokens Herald signs (the demo's sign-in). @default 43200 */
  jwtTtlSeconds?: number;
  /** Backends present one of these to publish and manage topics over HTTP; several at once for rotation. */
  serviceTokens: readonly string[];
  /** Bearer token for /metrics and the admin stats. */
  metricsToken?: string;
  corsOrigins: readonly string[];
  /** Categories users cannot turn off (CRITICAL_CATEGORIES). @default none */
  criticalCategories?: readonly string[];
  /** @default "herald" */
  channelPrefix?: string;
  /** Herald's collections are `<prefix>notifications`, … (see useCollectionPrefix). @default "" */
  collectionPrefix?: string;
  /** Background retention; omit to run no sweeper (tests call runOnce themselves). */
  retention?: RetentionPolicy;
  /** How often this instance looks for due jobs (scheduled sends, snoozes, expiries); 0: never. @default 1000 */
  jobsIntervalMs?: number;
  /** How often sockets are checked against their users' seq counters (see startSocketReconciler); 0: never. @default 1000 */
  stalenessCheckMs?: number;
  /** @default a fresh registry */
  metrics?: Metrics;
  /** @default a random id */
  instanceId?: string;
  /** Who may subscribe to which topic; @default created topics only, private ones for members */
  topicPolicy?: TopicPolicy;
  /** Show the developer page in the client. @default false */
  devTools?: boolean;
  /**
   * What one caller may do (see security/limits.ts); unset ones keep their defaults. The header and
   * request timeouts apply to the gateway's own HTTP server only: embedded, the host's server has its own.
   */
  limits?: Partial<Limits>;
  /**
   * Which proxies' X-Forwarded-For to believe for a client's address (per-address limits): addresses,
   * subnets or `loopback`/`linklocal`/`uniquelocal`, comma-separated, as express's `trust proxy`.
   * Embedded, HTTP requests follow the host app's own `trust proxy`. @default "loopback"
   */
  trustProxy?: string;
  /** 'broadcast' makes every instance receive every user's messages (the classic setup, kept for comparison). @default "per-user" */
  routing?: Routing;
  /** Web Push (VAPID keys) and email (SMTP): each off when absent (see OffPageOptions). */
  push?: OffPageOptions['push'];
  email?: OffPageOptions['email'];
  /** Categories or types that ask for push or email when a publish does not say. */
  channelDefaults?: OffPageOptions['channelDefaults'];
}

/** Where Socket.IO listens, and whether closing it closes the HTTP server too. */
export interface RealtimeAttachment {
  /** @default "/socket.io" */
  path?: string;
  /** True when the server is Herald's own; a host's server is left running. */
  ownsHttpServer: boolean;
}

/** The services of one instance, before they meet an HTTP server. */
export interface HeraldParts {
  names: HeraldNames;
  metrics: Metrics;
  instanceId: string;
  tokens: TokenSigner;
  authenticate: Authenticator;
  core: NotificationCore;
  topics: TopicService;
  /** Recipients (email, locale, time zone), push subscriptions and the off-page settings. */
  offPage: OffPage;
  retention: RetentionSweeper;
  /** Scheduled sends, snoozes and expiries (runs on every instance unless `jobsIntervalMs` is 0). */
  jobs: JobRunner;
  /** Mounted inside the API before its 404 (installDemo adds the demo's routes here). */
  extensions: Router;
  /** The JSON API: /api in the standalone app, the host's prefix when embedded. */
  api: Router;
  readiness: Record<string, ReadinessCheck>;
  /** Puts Socket.IO on an HTTP server; once. */
  attach(httpServer: HttpServer, attachment: RealtimeAttachment): RealtimeServer;
  /** Stops the sweeper, closes Socket.IO (see RealtimeServer.close) and the core; the clients stay open. */
  close(): Promise<void>;
}

/** Builds one instance's services from clients its caller made: the half that createGateway and attachHerald share. */
export function createHeraldParts(deps: HeraldDeps): HeraldParts {
  const { connection, logger } = deps;
  if (deps.collectionPrefix !== undefined) useCollectionPrefix(connection, deps.collectionPrefix);
  const metrics = deps.metrics ?? createMetrics();
  const names = createNames(deps.channelPrefix);
  const instanceId = deps.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const offPage = createOffPage(
    connection,
    {
      ...(deps.push ? { push: deps.push } : {}),
      ...(deps.email ? { email: deps.email } : {}),
      ...(deps.channelDefaults ? { channelDefaults: deps.channelDefaults } : {}),
    },
    { logger, critical: deps.criticalCategories ?? [], metrics, ...(deps.apiPath ? { apiPath: deps.apiPath } : {}) },
  );
  const { tokens, authenticate } = createAuth(deps);
  const limits = withDefaultLimits(deps.limits);
  const takeFromBudget = createRateLimiters({
    redis: deps.redis.command,
    names,
    limits,
    metrics,
    logger,
  });
  const core = createNotificationCore({
    connection,
    redis: deps.redis.command,
    subscriber: deps.redis.userSubscriber,
    names,
    logger,
    metrics,
    criticalCategories: deps.criticalCategories ?? [],
    offPage: offPageSettings(offPage.config),
    channelDefaults: offPage.config.channelDefaults,
    onJobsDue: () => jobs.soon(),
  });
  const topics = withDatabaseDeadlines(
    createTopicService({
      connection,
      redis: deps.redis.command,
      userChannel: core.userChannel,
      logger,
      names,
      ...(deps.topicPolicy ? { policy: deps.topicPolicy } : {}),
    }),
  );
  const retention = createRetentionSweeper({
    connection,
    redis: deps.redis.command,
    logger,
    names,
    policy: deps.retention ?? { maxAgeDays: 0, maxPerUser: 0, intervalMs: 600_000 },
    tracker: core.retention,
  });
  if (deps.retention) retention.start();
  const jobs = createJobRunner({
    connection,
    logger,
    run: jobWork({
      publishNotification: core.publishNotification,
      removeMany: core.feed.removeMany,
      ...(offPage.push ? { push: offPage.push } : {}),
      ...(offPage.email ? { email: offPage.email } : {}),
      logger,
    }),
    ...(deps.jobsIntervalMs ? { intervalMs: deps.jobsIntervalMs } : {}),
  });
  if (deps.jobsIntervalMs !== 0) jobs.start();

  let realtime: RealtimeServer | undefined;
  const extensions = express.Router();
  const api = createApiRouter({
    logger,
    authenticate,
    preferences: preferenceModel(connection),
    mutes: core.mutes,
    criticalCategories: deps.criticalCategories ?? [],
    feed: core.feed,
    jobs: core.jobs,
    serviceTokens: deps.serviceTokens,
    ...(deps.metricsToken ? { metricsToken: deps.metricsToken } : {}),
    corsOrigins: deps.corsOrigins,
    publishNotification: core.publishNotification,
    topics,
    offPage,
    extensions,
    devTools: deps.devTools ?? false,
    takeFromBudget,
    clusterStats: async () => (realtime ? realtime.clusterStats() : []),
    redisStats: () => pubSubStats(deps.redis.command, names),
  });
  const readiness: Record<string, ReadinessCheck> = {
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
      if (realtime?.draining) throw new Error('draining');
    },
  };

  return {
    names,
    metrics,
    instanceId,
    tokens,
    authenticate,
    core,
    topics,
    offPage,
    retention,
    jobs,
    extensions,
    api,
    readiness,
    attach(httpServer, attachment) {
      if (realtime) throw new Error('Socket.IO is already attached');
      realtime = createIoServer({
        httpServer,
        path: attachment.path ?? '/socket.io',
        closesHttpServer: attachment.ownsHttpServer,
        authenticate,
        feed: core.feed,
        catchUp: core.catchUp,
        recovery: core.recovery,
        topics,
        logger,
        metrics,
        names,
        corsOrigins: deps.corsOrigins,
        redis: deps.redis,
        instanceId,
        takeFromBudget,
        maxSocketsPerUser: limits.maxSocketsPerUser,
        maxSocketsPerAddress: limits.maxSocketsPerAddress,
        ...(deps.trustProxy ? { trustProxy: deps.trustProxy } : {}),
        ...(deps.routing ? { routing: deps.routing } : {}),
        ...(deps.stalenessCheckMs !== undefined ? { stalenessCheckMs: deps.stalenessCheckMs } : {}),
      });
      return realtime;
    },
    async close() {
      retention.stop();
      await jobs.stop();
      await realtime?.close();
      await core.close();
      offPage.close();
    },
  };
}
