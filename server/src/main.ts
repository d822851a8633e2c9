import path from 'node:path';
import type { Config } from './config';
import { ensureIndexes } from './db-indexes';
import type { Authenticate } from './auth/authenticate';
import type * as DemoModule from './demo/install-demo';
import { createGateway, type Gateway } from './gateway';
import { createLogger, type Logger } from './platform/logger';
import { createMetrics, type Metrics } from './platform/metrics';
import { createMongoConnection } from './platform/mongo-connection';
import {
  COMMAND_CONNECTION,
  createRedisClient,
  quitRedis,
  watchRedisErrors,
  type RedisClient,
  type RedisClientOptions,
} from './platform/redis-client';

/**
 * A started gateway with its URL; close() stops it and closes its clients.
 *
 * @example
 * const running = await startHerald(loadConfig());
 * process.on('SIGTERM', () => void running.close());
 */
export interface RunningHerald {
  gateway: Gateway;
  port: number;
  url: string;
  logger: Logger;
  /** Stops accepting, disconnects sockets, closes Redis and MongoDB. */
  close(): Promise<void>;
}

/**
 * How startHerald binds, logs and serves.
 *
 * @example
 * await startHerald(config, { host: '127.0.0.1', clientDir: false });
 */
export interface StartOptions {
  /** @default "0.0.0.0" */
  host?: string;
  logger?: Logger;
  /** @default "herald" */
  channelPrefix?: string;
  /** Serve this built client; @default client/demo-dist (the demo app) beside the server */
  clientDir?: string | false;
  /** @default 3000 */
  serverSelectionTimeoutMS?: number;
  /** See MongoConnectionOptions. @default 20000 */
  socketTimeoutMS?: number;
  /** false: no background retention sweeps (tests run them explicitly). */
  retention?: false;
  /**
   * Background checks switched off with 0, to measure what each costs (the bench's `--switched-off`):
   * the staleness check (a lost push then waits for the client's next sync) and the due-job poller
   * (scheduled sends, snoozes and expiries then wait for another instance). Never 0 in production.
   */
  stalenessCheckMs?: number;
  jobsIntervalMs?: number;
  /** The host's own token check, instead of the verifier the config describes. */
  authenticate?: Authenticate;
}

/**
 * The demo app ships with the repository only (the published package leaves it out), so it is loaded
 * when it is turned on, never before.
 */
function loadDemo(): typeof DemoModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only with DEMO on, and absent from the package
    return require('./demo/install-demo') as typeof DemoModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new Error('DEMO=true, but the demo app is part of the Herald repository, not of the @herald/server package: set DEMO=false.', {
        cause: error,
      });
    }
    throw error;
  }
}

function redisClient(url: string, name: string, logger: Logger, metrics: Metrics, options: RedisClientOptions = {}): RedisClient {
  const client = createRedisClient(url, name, options);
  watchRedisErrors(client, name, logger, metrics);
  return client;
}

/**
 * The composition root: the only place that reads config and builds real
 * MongoDB and Redis clients (everything below takes them as arguments), and
 * the only caller of installDemo (only with DEMO on, the default outside
 * production).
 *
 * @example
 * const running = await startHerald(loadConfig(), { host: '0.0.0.0' });
 * console.log(`listening on ${running.port}`);
 */
export async function startHerald(config: Config, options: StartOptions = {}): Promise<RunningHerald> {
  const demo = config.demo ? loadDemo() : undefined;
  const logger = options.logger ?? createLogger(config.logLevel);
  const connection = createMongoConnection(config.mongodbUri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 3000,
    ...(options.socketTimeoutMS ? { socketTimeoutMS: options.socketTimeoutMS } : {}),
  });
  const metrics = createMetrics();
  connection.on('error', (error: Error) => {
    metrics.mongoErrors.inc();
    logger.warn({ err: error }, 'mongodb connection error');
  });
  const command = redisClient(config.redisUrl, 'herald-command', logger, metrics, COMMAND_CONNECTION);
  const adapterSubscriber = redisClient(config.redisUrl, 'herald-adapter-sub', logger, metrics);
  const userSubscriber = redisClient(config.redisUrl, 'herald-user-sub', logger, metrics);
  const closeClients = async () => {
    await Promise.allSettled([quitRedis(command), quitRedis(adapterSubscriber), quitRedis(userSubscriber)]);
    await connection.close().catch(() => undefined);
  };

  // Connected, the database checked as Herald's and indexed, before anything is built on it.
  await (async () => {
    await connection.asPromise();
    await demo?.refuseForeignUsers(connection);
    await ensureIndexes(connection, { collectionPrefix: config.collectionPrefix });
  })().catch(async (error: unknown) => {
    await closeClients();
    throw error;
  });
  // The built client is the demo app: served only with the demo on.
  const clientDir =
    options.clientDir === false || !config.demo ? undefined : (options.clientDir ?? path.resolve(__dirname, '../../client/demo-dist'));
  const gateway = createGateway({
    connection,
    redis: { command, adapterSubscriber, userSubscriber },
    logger,
    auth: config.auth,
    ...(options.authenticate ? { authenticate: options.authenticate } : {}),
    jwtTtlSeconds: config.jwtTtlSeconds,
    serviceTokens: config.serviceTokens,
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    publicMetrics: config.nodeEnv !== 'production',
    corsOrigins: config.corsOrigins,
    criticalCategories: config.criticalCategories,
    metrics,
    devTools: config.demo && config.nodeEnv !== 'production',
    routing: config.routing,
    ...config.offPage,
    limits: config.limits,
    trustProxy: config.trustProxy,
    ...(options.retention === false ? {} : { retention: config.retention }),
    ...(options.stalenessCheckMs !== undefined ? { stalenessCheckMs: options.stalenessCheckMs } : {}),
    ...(options.jobsIntervalMs !== undefined ? { jobsIntervalMs: options.jobsIntervalMs } : {}),
    ...(clientDir ? { clientDir } : {}),
    ...(options.channelPrefix ? { channelPrefix: options.channelPrefix } : {}),
    collectionPrefix: config.collectionPrefix,
  });
  let port: number;
  try {
    if (demo) {
      if (config.nodeEnv === 'production') logger.warn('DEMO=true in production: the passwordless demo sign-in is open to anyone');
      await demo.installDemo(gateway, { connection });
    }
    port = await gateway.listen(config.port, options.host ?? '0.0.0.0');
  } catch (error) {
    await gateway.close();
    await closeClients();
    throw error;
  }

  logger.info({ port }, 'herald gateway listening');
  const { auth } = config;
  if (config.nodeEnv === 'production' && auth.jwtSecret && !auth.maxTokenLifetimeSeconds && !(auth.issuer && auth.audience)) {
    logger.warn(
      'JWT_SECRET tokens are accepted with any issuer, audience and lifetime: set AUTH_MAX_TOKEN_LIFETIME_SECONDS (and AUTH_ISSUER, AUTH_AUDIENCE)',
    );
  }
  let closing: Promise<void> | undefined;
  return {
    gateway,
    port,
    url: `http://127.0.0.1:${port}`,
    logger,
    close: () => {
      closing ??= (async () => {
        await gateway.close();
        await closeClients();
      })();
      return closing;
    },
  };
}
