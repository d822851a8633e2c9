import { createHash } from 'node:crypto';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { heraldModel } from '../platform/collections';
import { AppError, isDuplicateKey } from '../platform/errors';

/**
 * Work due at a time, kept in the database so it survives restarts:
 * - `send`: a publish with `sendAt` (its input, validated, without `sendAt`);
 * - `wake`: a snoozed notification coming back (the input that republishes it, and the original to
 *   remove if the snooze stopped before removing it);
 * - `expire`: notifications whose `expiresAt` has come;
 * - `push`: Web Push messages for stored notifications (to every subscription of each target's user,
 *   or to the one `endpoint` a target names: a retry);
 * - `email-due`: notifications to mail if still unread, due `unreadAfterSeconds` after they were stored;
 * - `digest`: one recipient's email (`digest:<userId>`), collecting their due notifications for
 *   EMAIL_DIGEST_WINDOW_SECONDS.
 */
export interface JobDoc {
  _id: string;
  kind: 'send' | 'wake' | 'expire' | 'push' | 'email-due' | 'digest';
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
  /** send: its recipients (the input's userIds), indexed, so each recipient's waiting sends can be counted. */
  recipients?: string[];
  /** wake: the snoozed notification; expire, push: the notifications (push: a retry names the endpoint). */
  targets?: { userId: string; id: string; endpoint?: string }[];
  /** push: how many times these messages were tried before (the backoff grows with it). */
  retry?: number;
}

const jobSchema = new Schema<JobDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: ['send', 'wake', 'expire', 'push', 'email-due', 'digest'], required: true },
    dueAt: { type: Date, required: true },
    dueHour: { type: String, required: true },
    state: { type: String, enum: ['due', 'running'], required: true },
    claimedAt: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
    input: { type: Schema.Types.Mixed },
    requestHash: { type: String },
    recipients: { type: [String], default: undefined },
    targets: { type: [new Schema({ userId: String, id: String, endpoint: String }, { _id: false })], default: undefined },
    retry: { type: Number },
  },
  { collection: 'notification_jobs', versionKey: false, strictQuery: 'throw' },
);
jobSchema.index({ dueHour: 1 });
jobSchema.index({ recipients: 1 }, { sparse: true });

/** The UTC hour a time falls in, as jobs record it. */
export function utcHour(at: Date): string {
  return at.toISOString().slice(0, 13);
}

/**
 * How far back runners look for due jobs on every pass: a week of hours (169 values of one `$in`).
 * FerretDB uses an index only for an equality on its first field, never for a range, so "dueAt <= now"
 * would read every waiting job; this reads only the hours that can hold due ones. Jobs more than a week
 * overdue (no instance ran for a week) are looked for with a range, which reads every job, only every
 * OVERDUE_CHECK_MS.
 */
const DUE_LOOKBACK_HOURS = 7 * 24;

export function dueHours(now: Date): string[] {
  const hour = 3600_000;
  const current = Math.floor(now.getTime() / hour) * hour;
  return Array.from({ length: DUE_LOOKBACK_HOURS + 1 }, (_, i) => utcHour(new Date(current - i * hour)));
}

export function jobModel(connection: Connection): Model<JobDoc> {
  return heraldModel(connection, 'NotificationJob', jobSchema);
}

/** What a job run asks of the job runner: nothing (done, the job goes), or to run it again at `dueAt`. */
export type JobResult = void | { dueAt: Date };

/** A job claimed this long ago whose runner never finished it (an instance died) is taken over. */
export const JOB_TAKEOVER_MS = 60_000;
/** Longest wait before a failed job is tried again. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** Jobs one pass claims at most, the earliest due first; a full pass is followed at once by the next. */
export const JOBS_PER_PASS = 200;
/** Jobs one runner runs at once: their publishes meet in the writer's batches instead of one at a time. */
export const JOB_CONCURRENCY = 16;
/** How often a runner also looks for jobs more than a week overdue. */
export const OVERDUE_CHECK_MS = 10 * 60_000;
/** Scheduled sends one recipient may have waiting; more are refused (409) until some are sent or cancelled. */
export const MAX_SCHEDULED_PER_RECIPIENT = 100;

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
  /** Whether a job with this id is there (waiting or running). */
  has(id: string): Promise<boolean>;
  /** Those of these recipients with at least `max` scheduled sends waiting. */
  recipientsAtCap(userIds: string[], max: number): Promise<string[]>;
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
    async has(id) {
      return (await Jobs.exists({ _id: id })) !== null;
    },
    async recipientsAtCap(userIds, max) {
      const asked = new Set(userIds);
      const waiting = new Map<string, number>();
      // Through the recipients index; a recipient at the cap has `max` of them, so this reads a bounded number.
      const jobs = await Jobs.find({ kind: 'send', recipients: mongoose.trusted({ $in: userIds }) }, { _id: 0, recipients: 1 })
        .limit(max * userIds.length)
        .lean();
      for (const job of jobs) {
        for (const userId of job.recipients ?? []) if (asked.has(userId)) waiting.set(userId, (waiting.get(userId) ?? 0) + 1);
      }
      return userIds.filter((userId) => (waiting.get(userId) ?? 0) >= max);
    },
  };
}

/**
 * At most MAX_SCHEDULED_PER_RECIPIENT sends wait for one recipient, so a backend looping on `sendAt`
 * cannot fill the jobs collection: `conflict` naming them. The replay of a request already scheduled
 * (the job `id` is there) passes.
 */
export async function refuseOverScheduleCap(jobs: JobStore, userIds: string[], id: string): Promise<void> {
  const full = await jobs.recipientsAtCap(userIds, MAX_SCHEDULED_PER_RECIPIENT);
  if (full.length === 0 || (await jobs.has(id))) return;
  throw new AppError(
    'conflict',
    `${full.length} recipient(s) already have ${MAX_SCHEDULED_PER_RECIPIENT} scheduled sends waiting; cancel some or send later.`,
    { details: { userIds: full.slice(0, 20), maxScheduledPerRecipient: MAX_SCHEDULED_PER_RECIPIENT } },
  );
}
