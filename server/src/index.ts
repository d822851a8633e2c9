/**
 * @herald/server as a library: `createHeraldPublisher` for other Node
 * services, and the pieces to run or embed a gateway in your own process.
 * Every export below is documented where it is defined, with an example.
 */
export { createHeraldPublisher, type HeraldPublisher, type HeraldPublisherOptions } from './herald-publisher';
export type { PublishNotification, PublishOptions, PublishResult } from './notifications/notification-publisher';
export { AppError, PersistenceError, ValidationError } from './platform/errors';
export { loadConfig, type Config } from './config';
export { startHerald, type RunningHerald, type StartOptions } from './main';
export { createGateway, type Gateway, type GatewayDeps } from './gateway';
export { ensureIndexes } from './db-indexes';
export { createMongoConnection, type MongoConnectionOptions } from './platform/mongo-connection';
export { createEventBus, type EventBus, type EventBusOptions } from './events/event-bus';
export { createRedisClient, type RedisClient } from './platform/redis-client';
export type { TopicPolicy } from './topics/topic-service';
