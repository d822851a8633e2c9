import { Cluster, Redis } from 'ioredis';

/**
 * A standalone Redis or a Redis Cluster; both speak the commands Herald uses.
 *
 * @example
 * const client: RedisClient = createRedisClient(process.env.REDIS_URL!, 'my-service');
 */
export type RedisClient = Redis | Cluster;

/** Several comma-separated URLs in REDIS_URL mean a Redis Cluster (any of its nodes; the rest are discovered). */
export function isClusterUrl(url: string): boolean {
  return url.includes(',');
}

function clusterNodes(url: string): { host: string; port: number }[] {
  return url.split(',').map((part) => {
    const parsed = new URL(part.trim());
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
}

/**
 * Builds the client for REDIS_URL. On a cluster, sharded subscribers are on,
 * so SSUBSCRIBE goes to the node that owns the channel's slot and a message
 * only travels within that shard.
 *
 * @example
 * const command = createRedisClient('redis://127.0.0.1:6379', 'herald-command');
 */
export function createRedisClient(url: string, name: string, options: { maxRetriesPerRequest?: number } = {}): RedisClient {
  if (!isClusterUrl(url)) return new Redis(url, { connectionName: name, maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3 });
  const first = new URL(url.split(',')[0]!.trim());
  return new Cluster(clusterNodes(url), {
    shardedSubscribers: true,
    redisOptions: {
      connectionName: name,
      maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    },
  });
}

/** PUBLISH, or SPUBLISH on a cluster (sharded pub/sub: the message stays within the channel's shard). Resolves with the receiver count. */
export function publishTo(client: RedisClient, channel: string, message: string): Promise<number> {
  if (client instanceof Cluster) return client.spublish(channel, message) as Promise<number>;
  return client.publish(channel, message);
}
