/**
 * @herald/server as a library: `createHeraldPublisher` for other Node
 * services, and the pieces to embed a gateway in your own process.
 */
export { createHeraldPublisher, type HeraldPublisher, type HeraldPublisherOptions } from './herald-publisher';
export type { PublishOptions, PublishResult } from './notifications/notification-publisher';
export { AppError, PersistenceError, ValidationError } from './platform/errors';
export { loadConfig, type Config } from './config';
export { startHerald, type RunningHerald, type StartOptions } from './main';
export { createGateway, type Gateway, type GatewayDeps } from './gateway';
export { createEventBus, type EventBus, type EventBusOptions } from './events/event-bus';
export { createRedisClient, type RedisClient } from './platform/redis-client';
export type { TopicPolicy } from './topics/topic-service';
