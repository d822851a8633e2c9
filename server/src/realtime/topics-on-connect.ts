import DataLoader from 'dataloader';
import type { HeraldNames } from '@herald/shared';
import { burstSchedule } from '../platform/burst-schedule';
import { readKeys, type RedisClient } from '../platform/redis-client';
import type { TopicService } from '../topics/topic-service';

/** How long a copy of a user's topics lives in Redis without being read again. @default 600 */
const TTL_SECONDS = 600;
/** Users read in one query (the membership check reads this many too). */
const MAX_BATCH = 500;
/** Users waiting for the database share queries: at once, but past 50 queries a second each waits 20 ms for others. */
const QUERY_BATCHING = { lingerMs: 20, burstPerSecond: 50 };

/** The topics a new socket joins, and the membership version they are known to be current at. */
export type TopicsOnConnect = (userId: string) => Promise<{ version: string | null; topics: string[] }>;

/**
 * A new socket joins its user's topics. Reading them from the database on every handshake made a
 * reconnect storm one database query per client, also for the many users who follow no topic. So a
 * copy is kept in Redis next to the user's membership version (the counter every membership change
 * bumps, see startSocketReconciler), tagged with the version it was read at: it is used only while the
 * version is still that one, so any change since (on any instance) sends the next handshake to the
 * database. The version is read before the database, so a change landing in between leaves a copy
 * tagged with the older version, never used. Redis down: the database answers, as before.
 *
 * Handshakes arrive in bursts (a deploy, a network blip), so both reads are batched over the sockets
 * that connect in the same turn of the event loop (DataLoader, flushed with setImmediate): one MGET for
 * their versions and copies instead of one per socket. Those without a usable copy (a user's first
 * socket in 10 minutes, or the first after a change) share queries, and under a burst wait up to 20 ms
 * for others (see burstSchedule): a query costs the gateway about 0.5 ms of CPU whatever its size, and
 * the socket is connected meanwhile, so only its topic messages start later.
 *
 * One case is not covered by the version: a change whose version bump itself failed (Redis did not
 * answer that one call but kept its data). The copy then expires after 10 minutes; the live
 * `topic-membership` message and the next successful change correct sockets before that.
 */
export function createTopicsOnConnect(deps: {
  redis: RedisClient;
  names: HeraldNames;
  topics: Pick<TopicService, 'topicsOfUsers'>;
  ttlSeconds?: number;
}): TopicsOnConnect {
  const ttl = deps.ttlSeconds ?? TTL_SECONDS;
  const batched = { cache: false, maxBatchSize: MAX_BATCH, batchScheduleFn: (flush: () => void) => setImmediate(flush) };
  // Per user: [membership version, copy], or undefined for every user of a batch Redis did not answer.
  const copies = new DataLoader<string, (string | null)[] | undefined>(async (userIds) => {
    const keys = userIds.flatMap((userId) => [deps.names.membershipKey(userId), deps.names.topicsKey(userId)]);
    const values = await readKeys(deps.redis, keys).catch(() => undefined);
    return userIds.map((_, i) => values?.slice(2 * i, 2 * i + 2));
  }, batched);
  const stored = new DataLoader<string, string[]>(
    async (userIds) => {
      const topics = await deps.topics.topicsOfUsers([...userIds]);
      return userIds.map((userId) => topics.get(userId) ?? []);
    },
    { ...batched, batchScheduleFn: burstSchedule(QUERY_BATCHING) },
  );

  return async (userId) => {
    const read = await copies.load(userId);
    const version = read?.[0] ?? null;
    const copy = read?.[1];
    const cached = copy ? fromCopy(copy, version) : undefined;
    if (cached) return { version, topics: cached };
    const topics = await stored.load(userId);
    if (read)
      await deps.redis.set(deps.names.topicsKey(userId), `${version ?? ''}\n${JSON.stringify(topics)}`, 'EX', ttl).catch(() => undefined);
    return { version, topics };
  };
}

/** The topics in a copy written at `version`; undefined when it was written at another one, or is unreadable. */
function fromCopy(copy: string, version: string | null): string[] | undefined {
  const newline = copy.indexOf('\n');
  if (newline < 0 || copy.slice(0, newline) !== (version ?? '')) return undefined;
  try {
    const topics: unknown = JSON.parse(copy.slice(newline + 1));
    return Array.isArray(topics) && topics.every((topic) => typeof topic === 'string') ? topics : undefined;
  } catch {
    return undefined;
  }
}
