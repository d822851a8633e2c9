import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createNames } from '@herald/shared';
import { createNotificationCore, type NotificationCore } from '../../server/src/notifications/notification-core';
import { createLogger } from '../../server/src/platform/logger';
import { createMongoConnection } from '../../server/src/platform/mongo-connection';

/**
 * Another process's publisher on the same database and Redis, whose live messages are all lost. Its
 * `connection` and `redis` are its own, so a test can slow one of its steps down.
 */
export interface SilentPublisher {
  core: NotificationCore;
  connection: Connection;
  redis: Redis;
  close(): Promise<void>;
}

export async function startSilentPublisher(env: { mongodbUri: string; redisUrl: string }): Promise<SilentPublisher> {
  const connection = await createMongoConnection(env.mongodbUri).asPromise();
  const redis = new Redis(env.redisUrl);
  const core = createNotificationCore({
    connection,
    redis,
    names: createNames(),
    logger: createLogger('silent'),
    userChannel: { publish: async (messages) => messages.map(() => null) },
  });
  return {
    core,
    connection,
    redis,
    async close() {
      core.close();
      redis.disconnect();
      await connection.close();
    },
  };
}
