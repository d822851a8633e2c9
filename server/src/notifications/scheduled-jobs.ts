import { createHash } from 'node:crypto';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { heraldModel } from '../platform/collections';
import type { PublishNotificationInput } from '@herald/shared';
import { ValidationError, isDuplicateKey } from '../platform/errors';
import type { Logger } from '../platform/logger';

/**
 * Work due at a time, kept in the database so it survives restarts:
 * - `send`: a publish with `sendAt` (its input, validated, without `sendAt`);
 * - `wake`: a snoozed notification coming back (the input that republishes it, and the original to
 *   remove if the snooze stopped before removing it);
 * - `expire`: notifications whose `expiresAt` has come.
 */
export interface JobDoc {
  _id: string;
  kind: 'send' | 'wake' | 'expire';
  dueAt: Date;
  /** The UTC hour of dueAt (`2026-11-26T15`): runners look jobs up by an equality on an index (see DUE_LOOKBACK_HOURS). */
  dueHour: string;
  /** due: waiting for its time (or a retry); running: claimed at `claimedAt` by one runner. */
  state: 'due' | 'running';
  claimedAt: Date | null;
  attempts: number;
  createdAt: Date;
  /** send and wake: the publish. */
  input?: Record<string, unknown>;
  /** send with an Idempotency-Key: the request's hash (the same key with another request is a 409). */
  requestHash?: string;
  /** wake: the snoozed notification; expire: the notifications. */
  targets?: { userId: string; id: string }[];
}

const jobSchema = new Schema<JobDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: ['send', 'wake', 'expire'], required: true },
    dueAt: { type: Date, required: true },
    dueHour: { type: String, required: true },
    state: { type: String, enum: ['due', 'running'], required: true },
    claimedAt: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
    input: { type: Schema.Types.Mixed },
    requestHash: { type: String },
    targets: { type: [new Schema({ userId: String, id: String }, { _id: false })], default: undefined },
  },
  { collection: 'notification_jobs', versionKey: false, strictQuery: 'throw' },
);
jobSchema.index({ dueHour: 1 });

/** The UTC hour a time falls in, as jobs record it. */
export function utcHour(at: Date): string {
  return at.toISOString().slice(0, 13);
}

/**
 * How far back runners look for due jobs: a week of hours (169 values of one `$in`). FerretDB uses an
 * index only for an equality on its first field, never for a range, so "dueAt <= now" would read every
 * waiting job; this reads only the hours that can hold due ones. A job more than a week overdue (no
 * instance ran for a week) is left in the collection, not run.
 */
const DUE_LOOKBACK_HOURS = 7 * 24;

function dueHours(now: Date): string[] {
  const hour = 3600_000;
  const current = Math.floor(now.getTime() / hour) * hour;
  return Array.from({ length: DUE_LOOKBACK_HOURS + 1 }, (_, i) => utcHour(new Date(current - i * hour)));
}

export function jobModel(connection: Connection): Model<JobDoc> {
  return heraldModel(connection, 'NotificationJob', jobSchema);
}

/** A job claimed this long ago whose runner never finished it (an instance died) is taken over. */
export const JOB_TAKEOVER_MS = 60_000;
/** Longest wait before a failed job is tried again. */
const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** Jobs one pass claims at most; the next pass takes the rest. */
const JOBS_PER_PASS = 100;

/** The idempotency key a job publishes with: the same for every run of it, so a job runs once. */
export function jobIdempotencyKey(jobId: string): string {
  return `herald-job:${createHash('sha256').update(jobId).digest('hex').slice(0, 40)}`;
}

export interface JobStore {
  /**
   * Records a job. A job with this id already there: `existing` (the caller decides whether that is a
   * replay or a conflict); nothing is overwritten.
   */
  add(
    job: Omit<JobDoc, 'state' | 'claimedAt' | 'attempts' | 'createdAt' | 'dueHour'>,
  ): Promise<{ added: true } | { added: false; existing: JobDoc }>;
  /** Cancels a job that has not started; false when there is none (or it is running). */
  cancel(id: string): Promise<boolean>;
}

export function createJobStore(connection: Connection): JobStore {
  const Jobs = jobModel(connection);
  const add: JobStore['add'] = async (job) => {
    try {
      const doc: JobDoc = { ...job, dueHour: utcHour(job.dueAt), state: 'due', claimedAt: null, attempts: 0, createdAt: new Date() };
      await Jobs.collection.insertOne(doc as never);
      return { added: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const existing = await Jobs.findById(job._id).lean();
      // Ran and removed in between: nothing to compare with, so it is added again.
      if (!existing) return add(job);
      return { added: false, existing };
    }
  };
  return {
    add,
    async cancel(id) {
      const { deletedCount } = await Jobs.deleteOne({ _id: id, state: 'due' });
      return deletedCount > 0;
    },
  };
}

export interface JobRunner {
  /** Runs the jobs due now; resolves with how many ran (tests call it; start() calls it on a timer). */
  runOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Every instance looks for due jobs each `intervalMs` and claims each one with a conditional update,
 * so exactly one runner has a job at a time; a runner that dies leaves it claimed, and another takes
 * it over after JOB_TAKEOVER_MS. What a job does is idempotent (sends publish with the job's own
 * idempotency key, removals remove what is still there), so a job run twice (taken over from a runner
 * that was only slow) changes nothing twice. A job is deleted once done; a failure leaves it due
 * again, with backoff.
 */
export function createJobRunner(deps: {
  connection: Connection;
  logger: Logger;
  run: (job: JobDoc) => Promise<void>;
  /** @default 1000 */
  intervalMs?: number;
}): JobRunner {
  const Jobs = jobModel(deps.connection);
  const log = deps.logger.child({ module: 'scheduled-jobs' });
  const intervalMs = deps.intervalMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let stopped = false;

  async function claim(job: Pick<JobDoc, '_id' | 'state' | 'claimedAt'>, now: Date): Promise<JobDoc | null> {
    return Jobs.findOneAndUpdate(
      { _id: job._id, state: job.state, claimedAt: job.claimedAt },
      { $set: { state: 'running', claimedAt: now }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    ).lean();
  }

  async function runOne(job: JobDoc): Promise<void> {
    const claimedAt = job.claimedAt!;
    try {
      await deps.run(job);
    } catch (error) {
      const delay = Math.min(1000 * 2 ** Math.min(job.attempts, 12), MAX_RETRY_DELAY_MS);
      log.warn({ err: error, job: job._id, kind: job.kind, attempts: job.attempts, retryInMs: delay }, 'scheduled job failed; will retry');
      const dueAt = new Date(Date.now() + delay);
      await Jobs.updateOne({ _id: job._id, claimedAt }, { $set: { state: 'due', claimedAt: null, dueAt, dueHour: utcHour(dueAt) } }).catch(
        () => undefined, // left claimed: taken over after JOB_TAKEOVER_MS
      );
      return;
    }
    await Jobs.deleteOne({ _id: job._id, claimedAt });
  }

  async function pass(): Promise<number> {
    const now = new Date();
    const due = (
      await Jobs.find(
        { dueHour: mongoose.trusted({ $in: dueHours(now) }), dueAt: mongoose.trusted({ $lte: now }) },
        { _id: 1, state: 1, claimedAt: 1, dueAt: 1 },
      ).lean()
    )
      .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime())
      .slice(0, JOBS_PER_PASS);
    let ran = 0;
    for (const candidate of due) {
      if (stopped) break;
      if (candidate.state === 'running' && candidate.claimedAt && now.getTime() - candidate.claimedAt.getTime() < JOB_TAKEOVER_MS) continue;
      const job = await claim(candidate, new Date());
      if (!job) continue; // another instance has it
      await runOne(job);
      ran++;
    }
    return ran;
  }

  function runOnce(): Promise<number> {
    if (running) return running;
    running = pass().finally(() => (running = null));
    return running;
  }

  return {
    runOnce,
    start() {
      stopped = false;
      const tick = () => {
        timer = setTimeout(
          () => {
            runOnce()
              .catch((error: unknown) => log.warn({ err: error }, 'could not look for scheduled jobs; will try again'))
              .finally(() => !stopped && tick());
          },
          intervalMs * (0.75 + Math.random() / 2),
        );
        timer.unref();
      };
      tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/**
 * What each kind of job does, with the core's own publish and feed. A send or wake whose input no
 * longer validates (it did when it was recorded) is logged and dropped, not retried forever.
 */
export function jobWork(deps: {
  publishNotification: (input: PublishNotificationInput, options: { idempotencyKey: string }) => Promise<unknown>;
  removeMany: (userId: string, ids: string[]) => Promise<string[]>;
  logger: Logger;
}): (job: JobDoc) => Promise<void> {
  const log = deps.logger.child({ module: 'scheduled-jobs' });
  const publish = async (job: JobDoc) => {
    try {
      await deps.publishNotification(job.input as PublishNotificationInput, { idempotencyKey: jobIdempotencyKey(job._id) });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      log.error({ err: error, job: job._id }, 'a scheduled notification no longer validates; dropped');
    }
  };
  return async (job) => {
    const byUser = new Map<string, string[]>();
    for (const { userId, id } of job.targets ?? []) byUser.set(userId, [...(byUser.get(userId) ?? []), id]);
    if (job.kind === 'send') return publish(job);
    // expire, and the first half of wake: whatever of the targets is still there goes.
    for (const [userId, ids] of byUser) await deps.removeMany(userId, ids);
    if (job.kind !== 'wake') return;
    const expiresAt = (job.input as { expiresAt?: string } | undefined)?.expiresAt;
    // Expired while snoozed: it does not come back.
    if (expiresAt && Date.parse(expiresAt) <= Date.now() + 1000) return;
    await publish(job);
  };
}
