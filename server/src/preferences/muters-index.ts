import mongoose, { type Connection } from 'mongoose';
import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import { withTimeout } from '../platform/with-timeout';
import { preferenceModel } from './preference-model';

/**
 * Which users may have muted something, kept in Redis, so that a publish to users who mute nothing
 * (most of them) reads no preferences from the database.
 *
 * The set holds every user whose stored preferences mute a type or a category, and possibly some who
 * no longer do (members are never removed: a stale one costs a database read, never a notification).
 * A sentinel member says the set is complete. A preference write that mutes something adds its user
 * before it writes to the database. The set is filled from the database whenever the sentinel is
 * missing (Redis lost its data) and each time this process's Redis connection opens (Redis may be back
 * from an older snapshot, or a failover): the sentinel is taken out first, so until the fill is done
 * every publish asks the database, as before this index existed.
 */
export interface MutersIndex {
  /** Of these users, those who may mute something; undefined when the index cannot say (ask the database about all). */
  mayMute(userIds: readonly string[]): Promise<Set<string> | undefined>;
  /**
   * The set, for a caller that asks Redis itself within a step of its own (see FeedCache.addingUnlessMuters):
   * its key, and the member that says it is complete, to ask about before the users.
   */
  readonly key: string;
  readonly complete: string;
  /** mayMute from an answer the caller got: SMISMEMBER of `complete` and then these users. */
  read(userIds: readonly string[], answer: readonly number[]): Set<string> | undefined;
  /** Before storing preferences that mute something: the user joins the set. Rejects when Redis does not take it. */
  willMute(userId: string): Promise<void>;
  /** Waits for a fill in progress (tests, tools). */
  filled(): Promise<void>;
  /** Stops filling; resolves once a fill in progress has stopped (its connections may close then). */
  close(): Promise<void>;
}

/** Not a user id: ids are validated to printable characters. */
const COMPLETE = '\u0000complete';
/** Users added to the set per command while filling it. */
const FILL_CHUNK = 1000;
/** A failed fill is tried again on a read at most this often. */
const FILL_RETRY_MS = 5000;

export function createMutersIndex(deps: {
  connection: Connection;
  redis: RedisClient;
  names: HeraldNames;
  logger: Logger;
  /** Ask the database instead of waiting longer than this for Redis. @default 1000 */
  timeoutMs?: number;
}): MutersIndex {
  const Preference = preferenceModel(deps.connection);
  const key = deps.names.mutersKey;
  const timeoutMs = deps.timeoutMs ?? 1000;
  const log = deps.logger.child({ module: 'muters-index' });
  const redisCall = <T>(work: Promise<T>) => withTimeout(work, timeoutMs, `redis did not answer within ${timeoutMs} ms`);
  let filling: Promise<void> | undefined;
  let again = false;
  let lastFailure = 0;
  let closed = false;

  async function fillOnce(distrust: boolean): Promise<void> {
    if (distrust) await deps.redis.srem(key, COMPLETE);
    // One answer, no cursor left open (see WHOLE_ANSWER): ids only, a few MB for 100,000 users who mute.
    const muters = await Preference.find(
      {
        $or: [
          { mutedTypes: mongoose.trusted({ $exists: true, $ne: [] }) },
          { mutedCategories: mongoose.trusted({ $exists: true, $ne: [] }) },
        ],
      },
      { _id: 1 },
    ).lean();
    for (let i = 0; i < muters.length; i += FILL_CHUNK) {
      await deps.redis.sadd(key, ...muters.slice(i, i + FILL_CHUNK).map((doc) => doc._id));
    }
    await deps.redis.sadd(key, COMPLETE);
  }

  /** One fill at a time; a request during one (a reconnect) runs one more after it, distrusting again. */
  function fill(distrust: boolean): Promise<void> {
    if (closed) return Promise.resolve();
    if (filling) {
      if (distrust) again = true;
      return filling;
    }
    filling = (async () => {
      try {
        let nextDistrust = distrust;
        do {
          again = false;
          await fillOnce(nextDistrust);
          nextDistrust = true;
        } while (again && !closed);
      } catch (error) {
        lastFailure = Date.now();
        // Closed meanwhile (a close right after start): its connections went away under it, as asked.
        if (closed) log.debug({ err: error }, 'muters index fill stopped by close');
        else log.warn({ err: error }, 'could not fill the index of users who mute something; publishes read preferences meanwhile');
      } finally {
        filling = undefined;
      }
    })();
    return filling;
  }

  function read(userIds: readonly string[], answer: readonly number[]): Set<string> | undefined {
    if (answer[0] !== 1) {
      if (!filling && Date.now() - lastFailure > FILL_RETRY_MS) void fill(false);
      return undefined;
    }
    return new Set(userIds.filter((_, i) => answer[i + 1] === 1));
  }

  const onReady = () => void fill(true);
  deps.redis.on('ready', onReady);
  if (deps.redis.status === 'ready') onReady();

  return {
    async mayMute(userIds) {
      if (userIds.length === 0) return new Set();
      let answer: number[];
      try {
        answer = await redisCall(deps.redis.smismember(key, COMPLETE, ...userIds));
      } catch {
        return undefined;
      }
      return read(userIds, answer);
    },
    key,
    complete: COMPLETE,
    read,
    async willMute(userId) {
      await redisCall(deps.redis.sadd(key, userId));
    },
    filled: () => filling ?? Promise.resolve(),
    async close() {
      closed = true;
      deps.redis.off('ready', onReady);
      await filling;
    },
  };
}
