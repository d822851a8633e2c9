import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { FeedCache } from './feed-cache';
import { IDEMPOTENCY_TTL_MS, idempotencyModel } from './idempotency';
import { notificationModel } from './notification-model';
import { recordSeqFloors } from './sequence';

export interface RetentionPolicy {
  /** Delete notifications older than this many days; 0 keeps them forever. */
  maxAgeDays: number;
  /** Keep at most this many notifications per user (the newest); 0 means no limit. */
  maxPerUser: number;
  /** How often a sweep runs. */
  intervalMs: number;
}

export interface RetentionReport {
  expired: number;
  overLimit: number;
  usersTrimmed: number;
  idempotencyKeys: number;
}

/** Users trimmed per sweep at most, so one sweep stays short; the rest wait for the next. */
const USERS_PER_SWEEP = 500;

/**
 * Enforces retention in the background, never on the publish path. With
 * several instances, a Redis lock lets one of them sweep per interval.
 * (FerretDB has no TTL indexes, so expired idempotency keys are removed
 * here too.)
 */
/** Background deletion of old notifications; safe with several instances (one sweeps per interval). */
export interface RetentionSweeper {
  /** One sweep if this instance wins the lock for this interval; null if another instance has it. */
  runOnce(): Promise<RetentionReport | null>;
  /** Sweeps on every interval (with a random start offset so instances do not line up). */
  start(): void;
  stop(): void;
}

export function createRetentionSweeper(deps: {
  connection: Connection;
  redis: RedisClient;
  logger: Logger;
  policy: RetentionPolicy;
  cache: FeedCache;
  /** @default names.retentionLock */
  lockKey?: string;
  names: HeraldNames;
}): RetentionSweeper {
  const Notification = notificationModel(deps.connection);
  const Keys = idempotencyModel(deps.connection);
  const log = deps.logger.child({ module: 'retention' });
  const lockKey = deps.lockKey ?? deps.names.retentionLock;
  const owner = randomUUID();
  let timer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<RetentionReport> {
    const { maxAgeDays, maxPerUser } = deps.policy;
    const report: RetentionReport = { expired: 0, overLimit: 0, usersTrimmed: 0, idempotencyKeys: 0 };
    if (maxAgeDays > 0) {
      const cutoff = new Date(Date.now() - maxAgeDays * 24 * 3600 * 1000);
      // Record each user's highest expiring seq first, so it is never handed out again once it is gone.
      // Streamed: memory grows with the users affected, not with the notifications expiring.
      const floors = new Map<string, number>();
      for await (const doc of Notification.find({ createdAt: mongoose.trusted({ $lt: cutoff }) }, { userId: 1, seq: 1 })
        .lean()
        .cursor()) {
        const { userId } = doc;
        floors.set(userId, Math.max(floors.get(userId) ?? 0, doc.seq));
      }
      if (floors.size > 0) {
        await recordSeqFloors(deps.connection, floors);
        report.expired = (await Notification.deleteMany({ createdAt: mongoose.trusted({ $lt: cutoff }) })).deletedCount;
        await deps.cache.changed([...floors.keys()]);
      }
    }
    if (maxPerUser > 0) {
      const heavy = await Notification.aggregate<{ _id: string; n: number }>([
        { $group: { _id: '$userId', n: { $sum: 1 } } },
        { $match: { n: { $gt: maxPerUser } } },
        { $limit: USERS_PER_SWEEP },
      ]);
      for (const { _id: userId } of heavy) {
        // The seq of the oldest notification to keep; everything below it goes.
        const [keep] = await Notification.find({ userId }, { seq: 1 })
          .sort({ seq: -1 })
          .skip(maxPerUser - 1)
          .limit(1)
          .lean();
        if (!keep) continue;
        // The newest stay, so the user's highest seq is still stored: no floor to record.
        const removed = await Notification.deleteMany({ userId, seq: mongoose.trusted({ $lt: keep.seq }) });
        await deps.cache.changed([userId]);
        report.overLimit += removed.deletedCount;
        report.usersTrimmed += 1;
      }
    }
    report.idempotencyKeys = (
      await Keys.deleteMany({ createdAt: mongoose.trusted({ $lt: new Date(Date.now() - IDEMPOTENCY_TTL_MS) }) })
    ).deletedCount;
    return report;
  }

  /** One sweep if this instance wins the lock for this interval; null if another instance has it. */
  async function runOnce(): Promise<RetentionReport | null> {
    const won = await deps.redis.set(lockKey, owner, 'PX', Math.max(1000, deps.policy.intervalMs - 1000), 'NX');
    if (won !== 'OK') return null;
    const started = Date.now();
    const report = await sweep();
    if (report.expired + report.overLimit + report.idempotencyKeys > 0) {
      log.info({ ...report, ms: Date.now() - started }, 'retention sweep removed old data');
    }
    return report;
  }

  return {
    runOnce,
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
