/**
 * @herald/server as a library: `createHeraldPublisher` for any Node service,
 * `attachHerald` to add Herald to an Express app and its HTTP server, and
 * `startHerald`/`createGateway` to run a gateway of its own. Every export
 * below is documented where it is defined, with an example.
 */
import type * as EmbedModule from './embed';
import type * as GatewayModule from './gateway';
import type * as MainModule from './main';

// Light: publishing, the database and the configuration load neither Express nor Socket.IO.
export { createHeraldPublisher, type HeraldPublisher, type HeraldPublisherOptions, type PublisherTopics } from './herald-publisher';
export type { PublishNotification, PublishOptions, PublishResult } from './notifications/notification-publisher';
export { AppError, PersistenceError, ValidationError } from './platform/errors';
export { ConfigError, loadConfig, type Config } from './config';
export { ensureIndexes, type EnsureIndexesOptions } from './db-indexes';
export { useCollectionPrefix } from './platform/collections';
export { createMongoConnection, type MongoConnectionOptions } from './platform/mongo-connection';
export { createEventBus, type EventBus, type EventBusOptions } from './events/event-bus';
export { createRedisClient, type RedisClient } from './platform/redis-client';
export type { HostLogger, Logger } from './platform/logger';
export type { Authenticate, AuthContext } from './auth/authenticate';
export type { TokenVerifierOptions } from './auth/token-verifier';
export type { TopicPolicy } from './topics/topic-rules';
export type { RetentionPolicy } from './notifications/retention';
export { defaultLimits, type Limits, type Rate, type RateName } from './security/limits';

// Heavy: the gateway (Express, Socket.IO, the Redis adapter) loads on the first call, so a service that
// only publishes never loads it.
export type { AttachHeraldOptions, EmbeddedHerald } from './embed';
export type { Gateway, GatewayDeps } from './gateway';
export type { HeraldDeps } from './herald-parts';
export type { RunningHerald, StartOptions } from './main';

function load<T>(id: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred on purpose, see above
  return require(id) as T;
}

/**
 * Adds Herald to your Express app and HTTP server in one call (see AttachHeraldOptions).
 *
 * @example
 * const herald = await attachHerald({ server, app, mongo: mongoose.connection, redis, authenticate });
 */
export const attachHerald: typeof EmbedModule.attachHerald = (options) => load<typeof EmbedModule>('./embed').attachHerald(options);
/**
 * Wires one gateway instance on an HTTP server of its own, from clients you built.
 *
 * @example
 * const gateway = createGateway({ connection, redis: { command, adapterSubscriber, userSubscriber }, logger, auth, serviceTokens, corsOrigins: [] });
 */
export const createGateway: typeof GatewayModule.createGateway = (deps) => load<typeof GatewayModule>('./gateway').createGateway(deps);
/**
 * Runs a gateway from a validated config: connects, prepares the database, listens.
 *
 * @example
 * const running = await startHerald(loadConfig());
 */
export const startHerald: typeof MainModule.startHerald = (config, options) =>
  load<typeof MainModule>('./main').startHerald(config, options);
