import type { HeraldNames, Notification, NotificationCounts } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import { withTimeout } from '../platform/with-timeout';

/**
 * Counts: every change bumps `v`; the cached counts are valid only while `at`
 * equals `v`. A publish that finds them valid adds its notifications to them
 * (new notifications are always unread and unseen) and stays valid; any other
 * change leaves them stale until the next read recomputes them.
 *
 * Recent notifications: a publish also keeps each new notification, as the
 * client sees it, in the user's `recent` hash (seq -> JSON), so a catch-up of
 * the last hour needs no database read. Any other change (a read, an archive,
 * a delete) drops the whole hash: those come from the database again.
 */
const ADDED = `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '-1')
if at == v - 1 then
  redis.call('HINCRBY', KEYS[1], 'unread', ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'unseen', ARGV[1])
  redis.call('HSET', KEYS[1], 'at', v)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if #ARGV > 3 then
  redis.call('HSET', KEYS[2], unpack(ARGV, 4))
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return v`;

const CHANGED = `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return v`;

/** Stores counts computed at version ARGV[1], unless something changed since. */
const STORE = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', v, 'at', v, 'unread', ARGV[2], 'unseen', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

interface FeedCacheScripts {
  heraldFeedAdded(
    counts: string,
    recent: string,
    n: number,
    ttl: number,
    recentTtl: number,
    ...entries: (string | number)[]
  ): Promise<number>;
  heraldFeedChanged(counts: string, recent: string, ttl: number): Promise<number>;
  heraldCountsStore(key: string, version: number, unread: number, unseen: number, ttl: number): Promise<number>;
}

/**
 * A cache only: the database stays the truth. Counts are served from Redis
 * only while no change has happened since they were computed, and any doubt
 * (a miss, an error, an invalidation that has not reached Redis yet) falls
 * back to the database.
 */
export interface FeedCache {
  /** The counts for a user, computing (and caching) them with `compute` when the cache has none. */
  counts(userId: string, compute: () => Promise<NotificationCounts>): Promise<NotificationCounts>;
  /** Notifications just stored (unread, unseen, as the client sees them). */
  added(notifications: Notification[]): Promise<void>;
  /** Something else changed these users' feeds (read, archive, delete, retention). */
  changed(userIds: string[]): Promise<void>;
  /** The cached notifications of these seqs, in order; undefined where the cache does not have one. */
  recent(userId: string, seqs: number[]): Promise<(Notification | undefined)[]>;
  /** Removes the listener this cache attached to the Redis connection it was handed. */
  close(): void;
}

/** Users whose invalidation failed are kept for a retry when Redis is back; beyond this, the TTL is the fallback. */
const MAX_PENDING = 10_000;

/**
 * Per-user counts and recent notifications cached in Redis, so a reconnecting
 * client's catch-up neither counts documents nor reads them. The database stays
 * the truth: a miss, a Redis error or any doubt falls back to it, and a change
 * that could not reach Redis is retried when it returns (entries expire in any
 * case).
 */
export function createFeedCache(deps: {
  redis: RedisClient;
  logger: Logger;
  names: HeraldNames;
  /** @default 600 */
  countsTtlSeconds?: number;
  /** How long a published notification stays readable from the cache. @default 3600 */
  recentTtlSeconds?: number;
  /** Use the database instead of waiting longer than this for Redis. @default 1000 */
  timeoutMs?: number;
}): FeedCache {
  const ttl = deps.countsTtlSeconds ?? 600;
  const recentTtl = deps.recentTtlSeconds ?? 3600;
  const timeoutMs = deps.timeoutMs ?? 1000;
  const redisCall = <T>(work: Promise<T>) => withTimeout(work, timeoutMs, `redis did not answer within ${timeoutMs} ms`);
  const log = deps.logger.child({ module: 'feed-cache' });
  deps.redis.defineCommand('heraldFeedAdded', { numberOfKeys: 2, lua: ADDED });
  deps.redis.defineCommand('heraldFeedChanged', { numberOfKeys: 2, lua: CHANGED });
  deps.redis.defineCommand('heraldCountsStore', { numberOfKeys: 1, lua: STORE });
  const scripts = deps.redis as unknown as FeedCacheScripts;
  const { countsKey, recentKey } = deps.names;
  const pending = new Set<string>();

  const invalidate = (userIds: string[]) =>
    redisCall(Promise.all(userIds.map((userId) => scripts.heraldFeedChanged(countsKey(userId), recentKey(userId), ttl))));

  function remember(userIds: string[], error: unknown): void {
    for (const userId of userIds) if (pending.size < MAX_PENDING) pending.add(userId);
    log.warn({ err: error, users: userIds.length }, 'could not update the feed cache; retrying when redis is back');
  }

  const onReady = () => {
    if (pending.size === 0) return;
    const retry = [...pending];
    pending.clear();
    invalidate(retry).catch((error: unknown) => remember(retry, error));
  };
  deps.redis.on('ready', onReady);

  return {
    close() {
      deps.redis.off('ready', onReady);
    },

    async counts(userId, compute) {
      let version: number;
      try {
        const [v, at, unread, unseen] = await redisCall(deps.redis.hmget(countsKey(userId), 'v', 'at', 'unread', 'unseen'));
        if (v !== null && v === at && unread !== null && unseen !== null && !pending.has(userId)) {
          return { unread: Number(unread), unseen: Number(unseen) };
        }
        version = v === null ? 0 : Number(v);
      } catch {
        return compute();
      }
      const counts = await compute();
      await redisCall(scripts.heraldCountsStore(countsKey(userId), version, counts.unread, counts.unseen, ttl)).catch(() => undefined);
      return counts;
    },

    async added(notifications) {
      const byUser = new Map<string, Notification[]>();
      for (const n of notifications) byUser.set(n.userId, [...(byUser.get(n.userId) ?? []), n]);
      const users = [...byUser.keys()];
      try {
        await redisCall(
          Promise.all(
            users.map((userId) => {
              const mine = byUser.get(userId)!;
              const entries = mine.flatMap((n) => [n.seq, JSON.stringify(n)]);
              return scripts.heraldFeedAdded(countsKey(userId), recentKey(userId), mine.length, ttl, recentTtl, ...entries);
            }),
          ),
        );
      } catch (error) {
        remember(users, error);
      }
    },

    async changed(userIds) {
      try {
        await invalidate(userIds);
      } catch (error) {
        remember(userIds, error);
      }
    },

    async recent(userId, seqs) {
      if (seqs.length === 0 || pending.has(userId)) return seqs.map(() => undefined);
      try {
        const found = await redisCall(deps.redis.hmget(recentKey(userId), ...seqs.map(String)));
        return found.map((json) => (json === null ? undefined : (JSON.parse(json) as Notification)));
      } catch {
        return seqs.map(() => undefined);
      }
    },
  };
}
