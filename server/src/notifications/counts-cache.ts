import { DEFAULT_CHANNEL_PREFIX, type NotificationCounts } from '@herald/shared';
import type { Logger } from '../logger';
import type { RedisClient } from '../redis-client';
import { withTimeout } from '../with-timeout';

/**
 * Every change bumps `v`; the cached counts are valid only while `at` equals
 * `v`. A publish that finds them valid adds its notifications to them (new
 * notifications are always unread and unseen) and stays valid; any other
 * change leaves them stale until the next read recomputes them.
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
return v`;

const CHANGED = `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return v`;

/** Stores counts computed at version ARGV[1], unless something changed since. */
const STORE = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', v, 'at', v, 'unread', ARGV[2], 'unseen', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

interface CountsScripts {
  heraldCountsAdded(key: string, n: number, ttl: number): Promise<number>;
  heraldCountsChanged(key: string, ttl: number): Promise<number>;
  heraldCountsStore(key: string, version: number, unread: number, unseen: number, ttl: number): Promise<number>;
}

export interface CountsCache {
  /** The counts for a user, computing (and caching) them with `compute` when the cache has none. */
  get(userId: string, compute: () => Promise<NotificationCounts>): Promise<NotificationCounts>;
  /** `n` new notifications were stored for each user. */
  added(entries: Map<string, number>): Promise<void>;
  /** Something else changed the user's counts (read, archive, delete, retention). */
  changed(userIds: string[]): Promise<void>;
}

/** Users whose invalidation failed are kept for a retry when Redis is back; beyond this, the TTL is the fallback. */
const MAX_PENDING = 10_000;

/**
 * Unread and unseen counts cached in Redis, so a reconnecting client's catch-up
 * does not count documents. The database stays the truth: a miss, a Redis
 * error or any doubt falls back to counting, and a counts change that could not
 * reach Redis is retried when it returns (and the entry expires after `ttlSeconds`
 * in any case).
 */
export function createCountsCache(deps: {
  redis: RedisClient;
  logger: Logger;
  channelPrefix?: string;
  /** @default 600 */
  ttlSeconds?: number;
  /** Count in the database instead of waiting longer than this for Redis. @default 1000 */
  timeoutMs?: number;
}): CountsCache {
  const prefix = deps.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  const ttl = deps.ttlSeconds ?? 600;
  const timeoutMs = deps.timeoutMs ?? 1000;
  const redisCall = <T>(work: Promise<T>) => withTimeout(work, timeoutMs, `redis did not answer within ${timeoutMs} ms`);
  const log = deps.logger.child({ module: 'counts-cache' });
  deps.redis.defineCommand('heraldCountsAdded', { numberOfKeys: 1, lua: ADDED });
  deps.redis.defineCommand('heraldCountsChanged', { numberOfKeys: 1, lua: CHANGED });
  deps.redis.defineCommand('heraldCountsStore', { numberOfKeys: 1, lua: STORE });
  const scripts = deps.redis as unknown as CountsScripts;
  const key = (userId: string) => `${prefix}:counts:{${userId}}`;
  const pending = new Set<string>();

  const invalidate = (userIds: string[]) => redisCall(Promise.all(userIds.map((userId) => scripts.heraldCountsChanged(key(userId), ttl))));

  function remember(userIds: string[], error: unknown): void {
    for (const userId of userIds) if (pending.size < MAX_PENDING) pending.add(userId);
    log.warn({ err: error, users: userIds.length }, 'could not update cached counts; retrying when redis is back');
  }

  deps.redis.on('ready', () => {
    if (pending.size === 0) return;
    const retry = [...pending];
    pending.clear();
    invalidate(retry).catch((error: unknown) => remember(retry, error));
  });

  return {
    async get(userId, compute) {
      let version: number;
      try {
        const [v, at, unread, unseen] = await redisCall(deps.redis.hmget(key(userId), 'v', 'at', 'unread', 'unseen'));
        if (v !== null && v === at && unread !== null && unseen !== null && !pending.has(userId)) {
          return { unread: Number(unread), unseen: Number(unseen) };
        }
        version = v === null ? 0 : Number(v);
      } catch {
        return compute();
      }
      const counts = await compute();
      await redisCall(scripts.heraldCountsStore(key(userId), version, counts.unread, counts.unseen, ttl)).catch(() => undefined);
      return counts;
    },

    async added(entries) {
      const users = [...entries.keys()];
      try {
        await redisCall(Promise.all(users.map((userId) => scripts.heraldCountsAdded(key(userId), entries.get(userId)!, ttl))));
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
  };
}
