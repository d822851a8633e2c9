import { Cluster, Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { createNames, type HeraldNames } from '@herald/shared';
import type { RedisClient } from '../../src/platform/redis-client';
import type { RunningHerald } from '../../src/main';
import { openInspector } from './database';
import { startTestHerald } from './herald';
import { login, type LoggedIn } from './http';
import { startRedisCluster } from './redis-cluster';
import { freshMongoUri, startTestRedis } from './services';
import { closeAllSockets } from './sockets';

export type DemoUser = 'alice' | 'bob' | 'carol';

/** Which Redis a stack runs on: one redis-server, or a three-master Redis Cluster (sharded pub/sub). */
export type RedisTopology = 'standalone' | 'cluster';

export interface TestRedis {
  /** REDIS_URL for the gateways (comma-separated nodes on a cluster). */
  url: string;
  /** One URL per node (the master nodes on a cluster). */
  nodeUrls: string[];
  stop(): Promise<void>;
}

export interface TestStack {
  topology: RedisTopology;
  redis: TestRedis;
  mongodbUri: string;
  /** Every gateway instance, all on the same Redis and database. */
  instances: RunningHerald[];
  /** The first instance. */
  herald: RunningHerald;
  /** An independent connection for checking what is stored. */
  inspector: Connection;
  /** A plain client of the stack's Redis, for tests that look at or change keys. */
  redisClient: RedisClient;
  /** The channel and key names the stack's gateways use. */
  names: HeraldNames;
  /** The demo users asked for in `users`, signed in through the first instance. */
  users: Record<DemoUser, LoggedIn>;
}

/**
 * Registers beforeAll/afterEach/afterAll hooks that run a real stack for one
 * test file: its own redis-server, its own database, `instances` gateways,
 * and the demo `users` signed in. The returned object is filled in by beforeAll.
 */
export function useTestStack(
  options: {
    instances?: number;
    env?: Record<string, string>;
    users?: DemoUser[];
    redis?: RedisTopology;
    /** startHerald's options for every instance (`jobsIntervalMs: 0`: no job runner, the test runs jobs itself). */
    herald?: Parameters<typeof startTestHerald>[0]['options'];
  } = {},
): TestStack {
  const stack = { names: createNames(), users: {}, topology: options.redis ?? 'standalone' } as TestStack;
  beforeAll(async () => {
    stack.mongodbUri = freshMongoUri();
    stack.redis = await startRedis(stack.topology);
    stack.instances = [];
    for (let i = 0; i < (options.instances ?? 1); i++) {
      stack.instances.push(
        await startTestHerald({
          mongodbUri: stack.mongodbUri,
          redisUrl: stack.redis.url,
          ...(options.env ? { env: options.env } : {}),
          ...(options.herald ? { options: options.herald } : {}),
        }),
      );
    }
    stack.herald = stack.instances[0]!;
    stack.inspector = await openInspector(stack.mongodbUri);
    stack.redisClient =
      stack.topology === 'cluster'
        ? new Cluster(stack.redis.nodeUrls.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })))
        : new Redis(stack.redis.url);
    for (const username of options.users ?? []) stack.users[username] = await login(stack.herald.url, username);
  }, 60_000);
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

async function startRedis(topology: RedisTopology): Promise<TestRedis> {
  if (topology === 'cluster') {
    const cluster = await startRedisCluster(3);
    return { url: cluster.url, nodeUrls: cluster.nodes.map((node) => node.url), stop: cluster.stop };
  }
  const redis = await startTestRedis();
  return { url: redis.url, nodeUrls: [redis.url], stop: redis.stop };
}

/**
 * How many subscribers a channel has across the stack's Redis: PUBSUB NUMSUB,
 * or on a cluster SHARDNUMSUB summed over the masters (a sharded channel lives
 * on the one that owns its slot).
 */
export async function channelSubscribers(stack: TestStack, channel: string): Promise<number> {
  const counts = await Promise.all(
    stack.redis.nodeUrls.map(async (url) => {
      const client = new Redis(url);
      try {
        const sub = stack.topology === 'cluster' ? 'SHARDNUMSUB' : 'NUMSUB';
        const [, count] = (await client.call('PUBSUB', sub, channel)) as [string, number];
        return Number(count);
      } finally {
        client.disconnect();
      }
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
