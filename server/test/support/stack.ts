import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createNames, type HeraldNames } from '@herald/shared';
import type { LocalRedis } from '../../src/local-services/redis-server';
import type { RunningHerald } from '../../src/main';
import { closeAllSockets } from './clients';
import { openInspector } from './database';
import { startTestHerald } from './herald';
import { freshMongoUri, startTestRedis } from './services';

export interface TestStack {
  redis: LocalRedis;
  mongodbUri: string;
  /** Every gateway instance, all on the same Redis and database. */
  instances: RunningHerald[];
  /** The first instance. */
  herald: RunningHerald;
  /** An independent connection for checking what is stored. */
  inspector: Connection;
  /** A plain client of the stack's Redis, for tests that look at or change keys. */
  redisClient: Redis;
  /** The channel and key names the stack's gateways use. */
  names: HeraldNames;
}

/**
 * Registers beforeAll/afterEach/afterAll hooks that run a real stack for one
 * test file: its own redis-server, its own database, `instances` gateways.
 * The returned object is filled in by beforeAll.
 */
export function useTestStack(options: { instances?: number; env?: Record<string, string> } = {}): TestStack {
  const stack = { names: createNames() } as TestStack;
  beforeAll(async () => {
    stack.mongodbUri = freshMongoUri();
    stack.redis = await startTestRedis();
    stack.instances = [];
    for (let i = 0; i < (options.instances ?? 1); i++) {
      stack.instances.push(
        await startTestHerald({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url, ...(options.env ? { env: options.env } : {}) }),
      );
    }
    stack.herald = stack.instances[0]!;
    stack.inspector = await openInspector(stack.mongodbUri);
    stack.redisClient = new Redis(stack.redis.url);
  });
  afterEach(() => closeAllSockets());
  afterAll(async () => {
    closeAllSockets();
    await Promise.all((stack.instances ?? []).map((instance) => instance.close()));
    await stack.inspector?.close();
    stack.redisClient?.disconnect();
    await stack.redis?.stop();
  });
  return stack;
}
