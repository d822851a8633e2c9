import { Cluster, Redis } from 'ioredis';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

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
 * The wait before each reconnection attempt: 50 ms more per attempt, at most half a second (ioredis's
 * own default climbs to 2 s). Live pushes reach a gateway only through its subscription, and what was
 * missed meanwhile is re-read only once it is back, so every second spent waiting to reconnect to a
 * Redis that has returned is a second of staleness for every client of the instance. A refused
 * connection costs Redis nothing.
 */
export const reconnectDelay = (attempt: number): number => Math.min(attempt * 50, 500);

/**
 * How long a command on a command connection waits for its answer before it fails (`Command timed
 * out`, answered to callers as a retryable 503). Without it a stalled Redis (paused, or a network that
 * drops packets without closing the connection) held every request and publish until it came back. A
 * command that timed out may still run when Redis resumes: everything on these connections is written
 * to stay right when it does (seqs are checked against the database, announcements repeat).
 */
export const COMMAND_TIMEOUT_MS = 2000;

/**
 * Builds the client for REDIS_URL. On a cluster, sharded subscribers are on,
 * so SSUBSCRIBE goes to the node that owns the channel's slot and a message
 * only travels within that shard.
 *
 * @example
 * const command = createRedisClient('redis://127.0.0.1:6379', 'herald-command');
 */
export function createRedisClient(url: string, name: string, options: RedisClientOptions = {}): RedisClient {
  const enableAutoPipelining = options.autoPipelining ?? false;
  if (!isClusterUrl(url)) {
    return new Redis(url, {
      connectionName: name,
      maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
      retryStrategy: reconnectDelay,
      enableAutoPipelining,
      ...commandTimeout(options),
    });
  }
  const first = new URL(url.split(',')[0]!.trim());
  return new Cluster(clusterNodes(url), {
    shardedSubscribers: true,
    enableAutoPipelining,
    redisOptions: {
      connectionName: name,
      maxRetriesPerRequest: options.maxRetriesPerRequest ?? 3,
      ...commandTimeout(options),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    },
  });
}

export interface RedisClientOptions {
  /** @default 3 */
  maxRetriesPerRequest?: number;
  /**
   * ioredis auto-pipelining: the commands issued in one turn of the event loop go out in one write.
   * For the gateway's command connection, where a reconnect storm issues thousands of small commands
   * a second (socket caps, topic copies, counts, seq counters, rate limits). Not for subscriber
   * connections. @default false
   */
  autoPipelining?: boolean;
  /**
   * Fail a command that has no answer after this many ms (see COMMAND_TIMEOUT_MS): for command
   * connections, never for subscribers (a subscription waits for messages, not answers). @default none
   */
  commandTimeoutMs?: number;
}

const commandTimeout = (options: Pick<RedisClientOptions, 'commandTimeoutMs'>) =>
  options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {};

/** A command connection's options: auto-pipelining and the command timeout. */
export const COMMAND_CONNECTION: RedisClientOptions = { autoPipelining: true, commandTimeoutMs: COMMAND_TIMEOUT_MS };

/**
 * True for ioredis's errors of a connection that did not answer or is not there (a command timed out,
 * retries ran out while reconnecting, the connection closed), as opposed to a command Redis refused.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return /^(Command timed out|Connection is closed\.|Stream isn't writeable)/.test(error.message);
}

/**
 * A Redis Cluster client? Asked of the client rather than with `instanceof`, so a client built by the
 * host application's own copy of ioredis answers too.
 */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * A new connection with the settings (host, port, TLS, password, cluster nodes) of a client the host
 * application built, named for Herald, without the host's key prefix (Herald's keys and channels are
 * the same in every process), and with Herald's retry limit and reconnection delay. The host's client is left as it was.
 *
 * @example
 * const subscriber = duplicateRedisClient(app.locals.redis, 'herald-user-sub');
 */
export function duplicateRedisClient(
  client: RedisClient,
  name: string,
  extra: Pick<RedisClientOptions, 'autoPipelining' | 'commandTimeoutMs'> = {},
): RedisClient {
  const enableAutoPipelining = extra.autoPipelining ?? false;
  if (isCluster(client)) {
    const options = client.options;
    return client.duplicate(undefined, {
      ...options,
      keyPrefix: '',
      shardedSubscribers: true,
      enableAutoPipelining,
      redisOptions: { ...options.redisOptions, connectionName: name, keyPrefix: '', maxRetriesPerRequest: 3, ...commandTimeout(extra) },
    });
  }
  return client.duplicate({
    connectionName: name,
    keyPrefix: '',
    maxRetriesPerRequest: 3,
    retryStrategy: reconnectDelay,
    enableAutoPipelining,
    ...commandTimeout(extra),
  });
}

/** PUBLISH, or SPUBLISH on a cluster (sharded pub/sub: the message stays within the channel's shard). Resolves with the receiver count. */
export function publishTo(client: RedisClient, channel: string, message: string): Promise<number> {
  if (isCluster(client)) return client.spublish(channel, message) as Promise<number>;
  return client.publish(channel, message);
}

/** Connections being closed through quitRedis: what fails on them from then on is expected. */
const quitting = new WeakSet<RedisClient>();

/**
 * Closes a connection Herald owns: QUIT, or a disconnect if that fails. A write still on its way (an
 * UNSUBSCRIBE of a socket that closed during shutdown) can then fail with `write EPIPE`, which ioredis
 * reports as an error, unlike the read and connect errors of a closing connection: watchRedisErrors logs
 * errors on a quitting connection at debug level and does not count them.
 *
 * @example
 * await Promise.allSettled([quitRedis(command), quitRedis(subscriber)]);
 */
export async function quitRedis(client: RedisClient): Promise<void> {
  quitting.add(client);
  await client.quit().catch(() => client.disconnect());
}

/**
 * Counts and logs a connection's errors. Redis errors repeat on every reconnect attempt, so one line
 * every 5 s is enough. Returns the function that removes the listener.
 *
 * @example
 * const unwatch = watchRedisErrors(client, 'herald-command', logger, metrics);
 */
export function watchRedisErrors(client: RedisClient, name: string, logger: Logger, metrics: Metrics): () => void {
  let lastLogged = 0;
  const onError = (error: Error) => {
    if (quitting.has(client)) {
      logger.debug({ err: error, connection: name }, 'redis error while quitting');
      return;
    }
    metrics.redisErrors.inc({ connection: name });
    if (Date.now() - lastLogged > 5000) {
      lastLogged = Date.now();
      logger.warn({ err: error, connection: name }, 'redis connection error');
    }
  };
  client.on('error', onError);
  return () => client.off('error', onError);
}

/** Keys read per MGET (standalone) or per batch of GETs (cluster). */
const READ_BATCH = 500;

/**
 * The values of many keys, in order (null where missing): MGETs of 500 on a standalone Redis, sent
 * together; one GET per key on a cluster, where each user's keys live in a slot of their own (ioredis
 * sends them to their nodes together).
 *
 * @example
 * const counters = await readKeys(redis, userIds.map(names.seqKey));
 */
export async function readKeys(client: RedisClient, keys: string[]): Promise<(string | null)[]> {
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += READ_BATCH) batches.push(keys.slice(i, i + READ_BATCH));
  const read = (batch: string[]) => (isCluster(client) ? Promise.all(batch.map((key) => client.get(key))) : client.mget(...batch));
  return (await Promise.all(batches.map(read))).flat();
}
