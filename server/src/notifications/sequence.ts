import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import type { HeraldNames } from '@herald/shared';
import { newestStoredSeqs } from '../storage/notification-reads';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import { withTimeout } from '../platform/with-timeout';
import { heraldModel } from '../platform/collections';
import { notificationId } from './notification-id';
import { notificationModel } from './notification-model';

interface FloorDoc {
  /** The user id. */
  _id: string;
  seq: number;
}

/**
 * The highest seq a user ever had, written where notifications are deleted
 * (retention, DELETE), so a counter rebuilt from the database never hands out
 * a seq again once the notifications that carried it are gone.
 */
const floorSchema = new Schema<FloorDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { collection: 'notification_sequences', versionKey: false },
);

export function sequenceFloorModel(connection: Connection): Model<FloorDoc> {
  return heraldModel(connection, 'NotificationSequence', floorSchema);
}

/** How many times each user id occurs: a batch holds several calls, often for the same users. */
export function countPerUser(userIds: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const userId of userIds) counts.set(userId, (counts.get(userId) ?? 0) + 1);
  return counts;
}

/** Raises the counter to at least ARGV[1], then takes ARGV[2] numbers (0 only raises). */
const SEED_AND_TAKE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCRBY', KEYS[1], ARGV[2])`;

interface SequenceScripts {
  heraldSeqSeed(key: string, floor: number, count: number): Promise<number>;
}

export interface SequenceAllocator {
  /** One new seq per entry, in order; a user named twice gets two consecutive numbers. */
  reserve(userIds: string[]): Promise<number[]>;
  /**
   * Raises these users' counters to everything stored (after an insert found its seq taken, or after
   * Redis lost the counters), and resolves with that: per user, the highest seq the database holds as
   * a notification, a known gap or a deletion (0 for none). A Redis failure is logged, not thrown.
   */
  repair(userIds: string[]): Promise<Map<string, number>>;
  /** The highest seq handed out to the user, or null when Redis cannot say. */
  highest(userId: string): Promise<number | null>;
}

/**
 * Per-user sequence numbers from a Redis counter (`INCRBY` is atomic, and a
 * whole batch of users costs one round trip), with the database as the
 * authority: a counter Redis does not have is seeded from the highest seq
 * stored (or recorded as deleted) for that user, and the unique index on
 * notifications catches any seq handed out twice (the publisher then calls
 * repair and reserves again). While Redis is unreachable, seqs come straight
 * from the database the same way, so publishing keeps working.
 */
export function createSequenceAllocator(deps: {
  connection: Connection;
  redis: RedisClient;
  logger: Logger;
  names: HeraldNames;
  /** Give up on Redis after this long and use the database. @default 1000 */
  timeoutMs?: number;
}): SequenceAllocator {
  const Floor = sequenceFloorModel(deps.connection);
  const timeoutMs = deps.timeoutMs ?? 1000;
  const log = deps.logger.child({ module: 'sequence' });
  deps.redis.defineCommand('heraldSeqSeed', { numberOfKeys: 1, lua: SEED_AND_TAKE });
  const scripts = deps.redis as unknown as SequenceScripts;
  const key = deps.names.seqKey;
  let lastRedisWarning = 0;

  const redisCall = <T>(work: Promise<T>) => withTimeout(work, timeoutMs, `redis did not answer within ${timeoutMs} ms`);

  /** Highest seq stored or recorded as deleted, per user (0 for a new user). */
  async function floors(userIds: string[]): Promise<Map<string, number>> {
    const result = new Map(userIds.map((id) => [id, 0]));
    const raise = (userId: string, seq: number) => result.set(userId, Math.max(result.get(userId) ?? 0, seq));
    const recorded = await Floor.find({ _id: mongoose.trusted({ $in: userIds }) }).lean();
    for (const doc of recorded) raise(doc._id, doc.seq);
    for (const [userId, seq] of await newestStoredSeqs(deps.connection, userIds)) raise(userId, seq);
    return result;
  }

  function warnRedis(error: unknown): void {
    if (Date.now() - lastRedisWarning < 5000) return;
    lastRedisWarning = Date.now();
    log.warn({ err: error }, 'seq counters unavailable in redis; taking seqs from the database');
  }

  /**
   * Users whose first range (1 to n) may hold a stored notification or a deleted one: their counter was
   * missing (Redis lost it) rather than new. Two reads for all of them: the recorded floors, and the
   * range's ids (which other publishers of a new user, racing, do not hold).
   */
  async function usedBefore(fresh: string[], counts: Map<string, number>): Promise<string[]> {
    const ids = fresh.flatMap((userId) => Array.from({ length: counts.get(userId)! }, (_, i) => notificationId(userId, i + 1)));
    const [recorded, stored] = await Promise.all([
      Floor.find({ _id: mongoose.trusted({ $in: fresh }) }).lean(),
      notificationModel(deps.connection)
        .find({ _id: mongoose.trusted({ $in: ids }) }, { userId: 1 })
        .lean(),
    ]);
    const used = new Set([...recorded.filter((doc) => doc.seq > 0).map((doc) => doc._id), ...stored.map((doc) => doc.userId)]);
    return fresh.filter((userId) => used.has(userId));
  }

  /**
   * The last number of each user's new range of `count`: one INCRBY per user, all in one round trip.
   * An answer equal to the count is a counter that was new or missing (Redis lost it): if that first
   * range was used before, the counter is raised past everything stored and the range taken again (the
   * first one is never used). Only the Redis calls are bounded by the timeout (a slow read of the
   * floors is not a reason to give up on Redis).
   */
  async function take(counts: Map<string, number>): Promise<Map<string, number>> {
    const users = [...counts.keys()];
    let taken: number[];
    try {
      taken = await redisCall(Promise.all(users.map((userId) => deps.redis.incrby(key(userId), counts.get(userId)!))));
    } catch (error) {
      warnRedis(error);
      const floor = await floors(users);
      return new Map(users.map((userId) => [userId, floor.get(userId)! + counts.get(userId)!]));
    }
    const last = new Map(users.map((userId, i) => [userId, taken[i]!]));
    const fresh = users.filter((userId) => last.get(userId) === counts.get(userId));
    if (fresh.length === 0) return last;
    const unseeded = await usedBefore(fresh, counts);
    if (unseeded.length === 0) return last;
    const floor = await floors(unseeded);
    try {
      const seeded = await redisCall(
        Promise.all(unseeded.map((userId) => scripts.heraldSeqSeed(key(userId), floor.get(userId)!, counts.get(userId)!))),
      );
      seeded.forEach((value, i) => last.set(unseeded[i]!, Number(value)));
    } catch (error) {
      warnRedis(error);
      for (const userId of unseeded) last.set(userId, floor.get(userId)! + counts.get(userId)!);
    }
    return last;
  }

  return {
    async reserve(userIds) {
      const counts = countPerUser(userIds);
      const last = await take(counts);
      // Hand each user's range out in order: the first entry gets the lowest number.
      const next = new Map([...last].map(([userId, end]) => [userId, end - counts.get(userId)! + 1]));
      return userIds.map((userId) => {
        const seq = next.get(userId)!;
        next.set(userId, seq + 1);
        return seq;
      });
    },

    async repair(userIds) {
      const unique = [...new Set(userIds)];
      const floor = await floors(unique);
      await redisCall(Promise.all(unique.map((userId) => scripts.heraldSeqSeed(key(userId), floor.get(userId)!, 0)))).catch(
        (error: unknown) => log.warn({ err: error }, 'could not raise seq counters in redis'),
      );
      return floor;
    },

    async highest(userId) {
      try {
        const value = await redisCall(deps.redis.get(key(userId)));
        return value === null ? null : Number(value);
      } catch {
        return null;
      }
    },
  };
}

/** Records that a user once had `seq`, so it is never handed out again after the notification is deleted. */
export async function recordSeqFloors(connection: Connection, floors: Map<string, number>): Promise<void> {
  const Floor = sequenceFloorModel(connection);
  const entries = [...floors];
  // Small batches: FerretDB 1.x stalls on update commands carrying about a hundred statements.
  for (let i = 0; i < entries.length; i += 50) {
    await Floor.bulkWrite(
      entries.slice(i, i + 50).map(([userId, seq]) => ({
        updateOne: { filter: { _id: userId }, update: { $max: { seq } }, upsert: true },
      })),
      { ordered: false },
    );
  }
}
