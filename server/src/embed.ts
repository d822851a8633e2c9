import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Router } from 'express';
import type { Connection } from 'mongoose';
import type { Authenticate, AuthorizeTenant } from './auth/authenticate';
import type { TokenVerifierOptions } from './auth/token-verifier';
import type { Routing } from './channels/user-channel-subscriber';
import { ConfigError } from './config';
import { ensureIndexes } from './db-indexes';
import { createHeraldParts } from './herald-parts';
import type { NotificationFeed } from './notifications/notification-feed';
import type { PublishNotification } from './notifications/notification-publisher';
import type { RetentionPolicy } from './notifications/retention';
import { checkOffPage, type OffPageOptions } from './off-page-config';
import { createLogger, toLogger, type HostLogger, type Logger } from './platform/logger';
import { createMetrics, type Metrics } from './platform/metrics';
import { createMongoConnection } from './platform/mongo-connection';
import {
  COMMAND_CONNECTION,
  createRedisClient,
  duplicateRedisClient,
  quitRedis,
  watchRedisErrors,
  type RedisClient,
  type RedisClientOptions,
} from './platform/redis-client';
import type { IoServer } from './realtime/io-server';
import type { RecipientService } from './recipients/recipient-service';
import type { Limits } from './security/limits';
import type { TopicPolicy } from './topics/topic-rules';
import type { TopicService } from './topics/topic-service';

/**
 * How attachHerald joins a host application.
 *
 * @example
 * const options: AttachHeraldOptions = { server, app, mongo: mongoose.connection, redis: process.env.REDIS_URL!, authenticate };
 */
export interface AttachHeraldOptions extends OffPageOptions {
  /** The host's HTTP(S) server: Socket.IO answers on it at `socketPath`. */
  server: HttpServer | HttpsServer;
  /**
   * The host's Express app (4 or 5), or any router: Herald's API is mounted on it under `prefix`. Attach
   * before your own 404 and error handlers. Omit it to mount `herald.router` yourself.
   */
  app?: { use(path: string, router: Router): unknown };
  /** Where Herald's API lives: `<prefix>/notifications`, `<prefix>/preferences`, … @default "/herald" */
  prefix?: string;
  /** The Socket.IO path (the client's `socketPath`). @default `${prefix}/socket.io` */
  socketPath?: string;
  /**
   * The host's mongoose connection (`mongoose.connection`, connected or connecting), or a MongoDB URI for
   * a connection of Herald's own. Herald's models are registered under names of their own (`herald.*`),
   * so they never meet the host's models.
   */
  mongo: Connection | string;
  /**
   * The host's ioredis client, or a Redis URL. From a client Herald takes only the settings: it opens
   * three connections of its own with them (two become subscribers, which a shared client cannot be)
   * and closes them on `close()`; the host's client is never changed or closed.
   */
  redis: RedisClient | string;
  /** The host's logger: pino, or anything with pino's level methods. @default a pino logger at "info" */
  logger?: HostLogger;
  /**
   * The host's own token check (see Authenticate). Without it, give `auth` and Herald verifies the
   * users' JWTs itself.
   */
  authenticate?: Authenticate;
  /**
   * Which tenants' feeds a user may read (see AuthorizeTenant), when your tokens do not list them in
   * the `tenants` claim (`auth.tenantsClaim` names another).
   */
  authorizeTenant?: AuthorizeTenant;
  /** The JWTs Herald verifies without `authenticate`: a `jwtSecret`, `jwksUrl` or `publicKey`, with `issuer`/`audience`. */
  auth?: Omit<TokenVerifierOptions, 'logger'>;
  /**
   * Tokens other backends present to publish over HTTP (`POST <prefix>/notifications`). In the host's own
   * process `herald.publishNotification` needs none. @default none: those routes refuse every caller
   */
  serviceTokens?: readonly string[];
  /** A bearer token for the admin stats under the prefix. */
  metricsToken?: string;
  /** Origins of pages on other origins that may call Herald. @default same-origin pages only */
  corsOrigins?: readonly string[];
  /** Categories users cannot turn off (`security`): their notifications reach everyone. @default none */
  criticalCategories?: readonly string[];
  /**
   * Names Herald's collections `<prefix>notifications`, … in a database it shares (see useCollectionPrefix).
   * On your own connection (`mongo` a mongoose Connection) it defaults to `herald_`, so Herald never takes
   * over a collection of yours (say an empty `notifications`); give `""` for none.
   * @default "herald_" with your connection, "" with a URI
   */
  collectionPrefix?: string;
  /** Prefix of Herald's Redis keys and channels. @default "herald" */
  channelPrefix?: string;
  /** Check the database and create Herald's indexes now (see ensureIndexes); false if your migrations do it. @default true */
  ensureIndexes?: boolean;
  /**
   * Rate limits and connection caps (security/limits.ts); unset ones keep their defaults.
   * Header and request timeouts are your server's own (`server.headersTimeout`, `server.requestTimeout`).
   */
  limits?: Partial<Pick<Limits, 'rates' | 'maxSocketsPerUser' | 'maxSocketsPerAddress'>>;
  /** Whose X-Forwarded-For gives a handshake's client address; HTTP requests follow your app's `trust proxy`. @default "loopback" */
  trustProxy?: string;
  /** Background retention; false for none. @default 90 days, 1000 per user, 100 per actor and user, a sweep every 10 minutes */
  retention?: RetentionPolicy | false;
  /** Who may subscribe to which topic. */
  topicPolicy?: TopicPolicy;
  /** @default "per-user" */
  routing?: Routing;
  /** Names this instance in stats. @default host:pid:random */
  instanceId?: string;
}

/**
 * Herald inside a host application.
 *
 * @example
 * await herald.publishNotification({ userIds: [post.authorId], type: 'comment.created', title: `${user.name} commented` });
 */
export interface EmbeddedHerald {
  /** Validates, stores, then delivers live to the recipients' sockets on whichever instance holds them. */
  publishNotification: PublishNotification;
  /** Herald's JSON API (already mounted on `app` when one was given). */
  router: Router;
  io: IoServer;
  feed: NotificationFeed;
  topics: TopicService;
  /** Who users are off the page (email, name, locale, time zone): the calls of `/recipients/:userId`. */
  recipients: RecipientService;
  /** Herald's Prometheus registry (`metrics.registry.metrics()`), to serve from the host's /metrics. */
  metrics: Metrics;
  prefix: string;
  socketPath: string;
  /** Resolves when MongoDB and Redis answer and the instance is not draining; for the host's readiness check. */
  ready(): Promise<void>;
  /**
   * Disconnects Herald's sockets, stops its timers and closes the connections Herald opened. The host's
   * server, mongoose connection and Redis client stay open.
   */
  close(): Promise<void>;
}

const DEFAULT_RETENTION: RetentionPolicy = { maxAgeDays: 90, maxPerUser: 1000, maxPerActor: 100, intervalMs: 600_000 };
const PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

function checkPath(name: string, value: string): string {
  if (!PATH.test(value)) throw new Error(`attachHerald: ${name} must be a path like /herald (got "${value}")`);
  return value;
}

async function openMongo(mongo: Connection | string): Promise<{ connection: Connection; owned: boolean }> {
  if (typeof mongo === 'string') return { connection: await createMongoConnection(mongo).asPromise(), owned: true };
  // 0 = disconnected and never opened: waiting would never end.
  if (mongo.readyState === 0) {
    throw new Error('attachHerald: the mongoose connection is not open; call mongoose.connect(uri) first (it need not have finished)');
  }
  if (mongo.readyState !== 1) await mongo.asPromise();
  return { connection: mongo, owned: false };
}

/**
 * Adds Herald to a host application in one call: its API on the host's Express app under `prefix`,
 * Socket.IO on the host's HTTP server at `socketPath`, its data through the host's mongoose connection,
 * Redis connections made from the host's settings, logs through the host's logger, and the host's
 * users through `authenticate` (or the `auth` JWT settings). Instances scale out like standalone
 * gateways: every one attached to the same MongoDB and Redis delivers to the users it holds.
 *
 * @example
 * const server = http.createServer(app);
 * const herald = await attachHerald({ server, app, mongo: mongoose.connection, redis: process.env.REDIS_URL!, authenticate });
 * app.use(notFound); // the host's own 404, after Herald
 * server.listen(3000);
 * process.on('SIGTERM', async () => { await herald.close(); server.close(); });
 */
export async function attachHerald(options: AttachHeraldOptions): Promise<EmbeddedHerald> {
  const prefix = checkPath('prefix', options.prefix ?? '/herald');
  const socketPath = checkPath('socketPath', options.socketPath ?? `${prefix}/socket.io`);
  if (!options.authenticate && !options.auth?.jwtSecret && !options.auth?.jwksUrl && !options.auth?.publicKey) {
    throw new Error('attachHerald: give `authenticate` (your own token check) or `auth` (jwtSecret, jwksUrl or publicKey)');
  }
  const offPageProblems = checkOffPage(options).problems;
  if (offPageProblems.length > 0) throw new ConfigError(offPageProblems);
  const logger: Logger = options.logger ? toLogger(options.logger).child({ component: 'herald' }) : createLogger('info');
  const metrics = createMetrics();
  const { connection, owned: ownsConnection } = await openMongo(options.mongo);
  const collectionPrefix = options.collectionPrefix ?? (ownsConnection ? undefined : 'herald_');
  const closeConnection = async () => {
    if (ownsConnection) await connection.close().catch(() => undefined);
  };
  const open = (name: string, settings: RedisClientOptions = {}): RedisClient => {
    const client =
      typeof options.redis === 'string'
        ? createRedisClient(options.redis, name, settings)
        : duplicateRedisClient(options.redis, name, settings);
    watchRedisErrors(client, name, logger, metrics);
    return client;
  };
  const redis = {
    command: open('herald-command', COMMAND_CONNECTION),
    adapterSubscriber: open('herald-adapter-sub'),
    userSubscriber: open('herald-user-sub'),
  };
  const closeRedis = async () => {
    await Promise.allSettled(Object.values(redis).map(quitRedis));
  };

  try {
    if (options.ensureIndexes ?? true) {
      await ensureIndexes(connection, {
        ...(collectionPrefix !== undefined ? { collectionPrefix } : {}),
      });
    }
  } catch (error) {
    await closeRedis();
    await closeConnection();
    throw error;
  }
  const retention = options.retention === false ? undefined : (options.retention ?? DEFAULT_RETENTION);
  const parts = createHeraldParts({
    connection,
    apiPath: prefix,
    redis,
    logger,
    auth: options.auth ?? {},
    ...(options.authenticate ? { authenticate: options.authenticate } : {}),
    ...(options.authorizeTenant ? { authorizeTenant: options.authorizeTenant } : {}),
    serviceTokens: options.serviceTokens ?? [],
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    corsOrigins: options.corsOrigins ?? [],
    ...(options.criticalCategories ? { criticalCategories: options.criticalCategories } : {}),
    ...(options.channelPrefix ? { channelPrefix: options.channelPrefix } : {}),
    ...(collectionPrefix !== undefined ? { collectionPrefix } : {}),
    ...(retention ? { retention } : {}),
    metrics,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    ...(options.topicPolicy ? { topicPolicy: options.topicPolicy } : {}),
    ...(options.routing ? { routing: options.routing } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
    ...(options.push ? { push: options.push } : {}),
    ...(options.email ? { email: options.email } : {}),
    ...(options.channelDefaults ? { channelDefaults: options.channelDefaults } : {}),
  });
  options.app?.use(prefix, parts.api);
  const realtime = parts.attach(options.server as HttpServer, { path: socketPath, ownsHttpServer: false });
  logger.info({ prefix, socketPath }, 'herald attached');

  let closing: Promise<void> | undefined;
  return {
    publishNotification: parts.core.publishNotification,
    router: parts.api,
    io: realtime.io,
    feed: parts.core.feed,
    topics: parts.topics,
    recipients: parts.offPage.recipients,
    metrics,
    prefix,
    socketPath,
    ready: async () => {
      for (const check of Object.values(parts.readiness)) await check();
    },
    close: () => {
      closing ??= (async () => {
        await parts.close();
        await closeRedis();
        await closeConnection();
      })();
      return closing;
    },
  };
}
