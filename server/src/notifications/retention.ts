import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RetentionTracker } from './retention-tracker';
import type { RedisClient } from '../platform/redis-client';
import { countNotifications } from '../storage/notification-reads';
import { notificationModel } from './notification-model';
import { recordSeqFloors } from './sequence';

export interface RetentionPolicy {
  /** Delete notifications older than this many days; 0 keeps them forever. */
  maxAgeDays: number;
  /** Keep at most this many notifications per user (the newest); 0 means no limit. */
  maxPerUser: number;
  /**
   * Keep at most this many of one user's notifications from one actor (the newest), so a flood from
   * one actor cannot push everyone else's out of the per-user limit; 0 means no limit.
   * @default 0
   */
  maxPerActor?: number;
  /** How often a sweep runs. */
  intervalMs: number;
}

export interface RetentionReport {
  expired: number;
  overLimit: number;
  /** Removed because one actor had more than `maxPerActor` of a user's notifications. */
  overActorLimit: number;
  usersTrimmed: number;
  /** Users whose notifications were looked at. */
  usersChecked: number;
}

/** Users looked at per sweep at most, and the time one sweep may take; the rest wait for the next. */
const USERS_PER_SWEEP = 5000;
const SWEEP_BUDGET_MS = 60_000;
/** Users named per Redis command when seeding. */
const SEED_CHUNK = 1000;

/** Background deletion of old notifications; safe with several instances (one sweeps per interval). */
export interface RetentionSweeper {
  /** One sweep if this instance wins the lock for this interval; null if another instance has it. */
  runOnce(): Promise<RetentionReport | null>;
  /** Writes what this process's tracker gathered (see RetentionTracker), as runOnce does first. */
  flush(): Promise<void>;
  /** Sweeps on every interval (with a random start offset so instances do not line up). */
  start(): void;
  stop(): void;
}

/**
 * Enforces retention in the background, never on the publish path. With
 * several instances, a Redis lock lets one of them sweep per interval. Each
 * sweep looks only at the users the tracker names: those who received
 * notifications since the last sweep (count limits: per actor first, then per
 * user, so a flood from one actor is cut down before anyone else's are
 * pushed out) and those whose oldest notification has passed the age limit.
 * When Redis has lost the tracking sets (a restart without persistence, or
 * the first sweep of a database written by an older version), the sweep fills
 * them once from the database (a `distinct` on userId, the only query of a
 * sweep not scoped to one user).
 */
export function createRetentionSweeper(deps: {
  connection: Connection;
  redis: RedisClient;
  logger: Logger;
  policy: RetentionPolicy;
  /** @default names.retentionLock */
  lockKey?: string;
  names: HeraldNames;
  /** This process's tracker: what it gathered is written before each sweep. */
  tracker?: RetentionTracker;
}): RetentionSweeper {
  const Notification = notificationModel(deps.connection);
  const log = deps.logger.child({ module: 'retention' });
  const lockKey = deps.lockKey ?? deps.names.retentionLock;
  const { retentionOldest, retentionTouched, retentionSeeded, seqKey } = deps.names;
  const owner = randomUUID();
  let timer: NodeJS.Timeout | undefined;

  /** Fills the tracking sets from the database when Redis does not have them. */
  async function seedIfLost(): Promise<void> {
    if ((await deps.redis.exists(retentionSeeded)) === 1) return;
    const userIds = (await Notification.distinct('userId')) as string[];
    const now = Date.now();
    for (let i = 0; i < userIds.length; i += SEED_CHUNK) {
      const chunk = userIds.slice(i, i + SEED_CHUNK);
      // Score 0: "oldest unknown", so the next age pass looks at each of them and records the real one.
      await deps.redis.zadd(retentionOldest, 'NX', ...chunk.flatMap((userId) => [0, userId]));
      await deps.redis.sadd(retentionTouched, ...chunk);
    }
    await deps.redis.set(retentionSeeded, String(now));
    if (userIds.length > 0) log.info({ users: userIds.length }, 'retention tracking filled from the database');
  }

  /** Keeps the newest `keep` notifications of the filter's; returns how many were removed. */
  async function keepNewest(filter: Record<string, unknown>, keep: number): Promise<number> {
    const [oldestKept] = await Notification.find(filter, { seq: 1 })
      .sort({ seq: -1 })
      .skip(keep - 1)
      .limit(1)
      .lean();
    if (!oldestKept) return 0;
    // The newest stay, so the user's highest seq is still stored: no floor to record.
    return (await Notification.deleteMany({ ...filter, seq: mongoose.trusted({ $lt: oldestKept.seq }) })).deletedCount;
  }

  /** The count limits for one user who received notifications since the last sweep. */
  async function trimUser(userId: string, report: RetentionReport): Promise<boolean> {
    const { maxPerUser } = deps.policy;
    const maxPerActor = deps.policy.maxPerActor ?? 0;
    const caps = [maxPerUser, maxPerActor].filter((cap) => cap > 0);
    if (caps.length === 0) return false;
    // Seqs start at 1 and never repeat: a user whose counter is within every cap cannot be over one.
    const highest = Number((await deps.redis.get(seqKey(userId))) ?? Number.POSITIVE_INFINITY);
    if (highest <= Math.min(...caps)) return false;
    let count = await countNotifications(deps.connection, { userId });
    let removed = 0;
    if (maxPerActor > 0 && count > maxPerActor) {
      const heavy = await Notification.aggregate<{ _id: string }>([
        { $match: { userId } },
        { $group: { _id: '$actor.id', n: { $sum: 1 } } },
        { $match: { n: { $gt: maxPerActor } } },
      ]);
      for (const { _id: actorId } of heavy) {
        if (typeof actorId !== 'string') continue; // notifications without an actor are not capped per actor
        const n = await keepNewest({ userId, 'actor.id': actorId }, maxPerActor);
        report.overActorLimit += n;
        removed += n;
        count -= n;
      }
    }
    if (maxPerUser > 0 && count > maxPerUser) {
      const n = await keepNewest({ userId }, maxPerUser);
      report.overLimit += n;
      removed += n;
    }
    if (removed > 0) report.usersTrimmed += 1;
    return removed > 0;
  }

  /** The age limit for one user whose oldest known notification has passed it. */
  async function expireUser(userId: string, cutoff: Date, report: RetentionReport): Promise<boolean> {
    const old = { userId, createdAt: mongoose.trusted({ $lt: cutoff }) };
    // Record the highest seq expiring first, so it is never handed out again once it is gone.
    const [newestOld] = await Notification.find(old, { seq: 1 }).sort({ seq: -1 }).limit(1).lean();
    let removed = 0;
    if (newestOld) {
      await recordSeqFloors(deps.connection, new Map([[userId, newestOld.seq]]));
      removed = (await Notification.deleteMany(old)).deletedCount;
      report.expired += removed;
    }
    const [oldest] = await Notification.find({ userId }, { createdAt: 1 }).sort({ createdAt: 1 }).limit(1).lean();
    if (oldest) {
      await deps.redis.zadd(retentionOldest, oldest.createdAt.getTime(), userId);
    } else {
      // Nothing left. A notification stored meanwhile is tracked after its insert, so after this
      // removal it adds the user again, or the look below (after the removal) finds it.
      await deps.redis.zrem(retentionOldest, userId);
      const [late] = await Notification.find({ userId }, { createdAt: 1 }).sort({ createdAt: 1 }).limit(1).lean();
      if (late) await deps.redis.zadd(retentionOldest, 'NX', late.createdAt.getTime(), userId);
    }
    return removed > 0;
  }

  async function sweep(): Promise<RetentionReport> {
    const { maxAgeDays, maxPerUser } = deps.policy;
    const report: RetentionReport = { expired: 0, overLimit: 0, overActorLimit: 0, usersTrimmed: 0, usersChecked: 0 };
    const deadline = Date.now() + SWEEP_BUDGET_MS;
    await seedIfLost();
    // Age first: what expires does not count against the limits.
    if (maxAgeDays > 0) {
      const cutoff = new Date(Date.now() - maxAgeDays * 24 * 3600 * 1000);
      const due = await deps.redis.zrangebyscore(retentionOldest, '-inf', `(${cutoff.getTime()}`, 'LIMIT', 0, USERS_PER_SWEEP);
      for (const userId of due) {
        if (Date.now() > deadline) break;
        report.usersChecked += 1;
        await expireUser(userId, cutoff, report);
      }
    }
    if (maxPerUser > 0 || (deps.policy.maxPerActor ?? 0) > 0) {
      const touched = (await deps.redis.spop(retentionTouched, USERS_PER_SWEEP)) as string[];
      for (let i = 0; i < touched.length; i++) {
        if (Date.now() > deadline) {
          await deps.redis.sadd(retentionTouched, ...touched.slice(i));
          break;
        }
        const userId = touched[i]!;
        report.usersChecked += 1;
        try {
          await trimUser(userId, report);
        } catch (error) {
          // This one and the rest are looked at next time.
          await deps.redis.sadd(retentionTouched, ...touched.slice(i));
          throw error;
        }
      }
    } else {
      // Nothing to check them against: the set would only grow.
      await deps.redis.del(retentionTouched);
    }
    return report;
  }

  /** One sweep if this instance wins the lock for this interval; null if another instance has it. */
  async function runOnce(): Promise<RetentionReport | null> {
    await deps.tracker?.flush();
    const won = await deps.redis.set(lockKey, owner, 'PX', Math.max(1000, deps.policy.intervalMs - 1000), 'NX');
    if (won !== 'OK') return null;
    const started = Date.now();
    const report = await sweep();
    if (report.expired + report.overLimit + report.overActorLimit > 0) {
      log.info({ ...report, ms: Date.now() - started }, 'retention sweep removed old data');
    }
    return report;
  }

  return {
    runOnce,
    flush: async () => deps.tracker?.flush(),
    /** Sweeps on every interval (with a random start offset so instances do not line up). */
    start() {
      const tick = () => {
        runOnce().catch((error: unknown) => log.warn({ err: error }, 'retention sweep failed; will retry next interval'));
      };
      const first = setTimeout(
        () => {
          tick();
          timer = setInterval(tick, deps.policy.intervalMs);
          timer.unref();
        },
        Math.floor(Math.random() * Math.min(deps.policy.intervalMs, 30_000)),
      );
      first.unref();
      timer = first;
    },
    stop() {
      clearTimeout(timer);
      clearInterval(timer);
    },
  };
}
