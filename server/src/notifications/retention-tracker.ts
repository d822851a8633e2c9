import { feedOf } from '@herald/shared';
import type { HeraldNames, Notification } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';

/**
 * What the sweeper needs to know about new notifications, kept in Redis by
 * whoever stores them: which users received some since the last sweep (they
 * may be over a count limit now), and when each user's oldest notification
 * was stored (they need looking at once it is older than the age limit).
 * Every sweep query is then scoped to one user and reads through the
 * `userId` indexes, on MongoDB and FerretDB alike.
 *
 * Gathered in memory and written once a second (two commands for every user
 * of that second), not per publish: the two sets are global keys, and a
 * publish touches only its recipients' keys. A process that dies loses at
 * most that second; such a user is looked at again with their next
 * notification, or when the sets are seeded from the database.
 */
export interface RetentionTracker {
  /** Never waits on Redis, never throws. */
  stored(notifications: Notification[]): void;
  /** Writes what was gathered now (a sweep of this process does first). A failure is logged. */
  flush(): Promise<void>;
}

/** How long new notifications are gathered before they are written to the tracking sets. */
const TRACK_EVERY_MS = 1000;

export function createRetentionTracker(deps: { redis: RedisClient; names: HeraldNames; logger: Logger }): RetentionTracker {
  const log = deps.logger.child({ module: 'retention' });
  let oldest = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (oldest.size === 0) return;
    const gathered = oldest;
    oldest = new Map();
    try {
      // NX: a user already known has an older notification; it stays the one the age limit waits for.
      await Promise.all([
        deps.redis.zadd(deps.names.retentionOldest, 'NX', ...[...gathered].flatMap(([userId, at]) => [at, userId])),
        deps.redis.sadd(deps.names.retentionTouched, ...gathered.keys()),
      ]);
    } catch (error) {
      log.warn({ err: error, users: gathered.size }, 'could not track new notifications for retention');
    }
  }

  return {
    stored(notifications) {
      for (const n of notifications) {
        const at = Date.parse(n.createdAt);
        oldest.set(feedOf(n), Math.min(oldest.get(feedOf(n)) ?? at, at));
      }
      if (oldest.size === 0 || timer) return;
      timer = setTimeout(() => void flush(), TRACK_EVERY_MS);
      timer.unref();
    },
    flush,
  };
}
