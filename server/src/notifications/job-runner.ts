import mongoose, { type Connection } from 'mongoose';
import type { PublishNotificationInput } from '@herald/shared';
import { ValidationError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import {
  JOB_CONCURRENCY,
  JOB_TAKEOVER_MS,
  JOBS_PER_PASS,
  MAX_RETRY_DELAY_MS,
  OVERDUE_CHECK_MS,
  dueHours,
  jobIdempotencyKey,
  jobModel,
  utcHour,
  type JobDoc,
  type JobResult,
} from './scheduled-jobs';

export interface JobRunner {
  /** Runs the jobs due now; resolves with how many ran (tests call it; start() calls it on a timer). */
  runOnce(): Promise<number>;
  start(): void;
  /** Jobs are due now (a publish recorded them): once started, a pass runs within a few milliseconds. */
  soon(): void;
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
  /** Runs a job: resolving with `{ dueAt }` puts it back to run again then (email held through quiet hours). */
  run: (job: JobDoc) => Promise<JobResult>;
  /** @default 1000 */
  intervalMs?: number;
}): JobRunner {
  const Jobs = jobModel(deps.connection);
  const log = deps.logger.child({ module: 'scheduled-jobs' });
  const intervalMs = deps.intervalMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let stopped = false;
  let started = false;
  // soon() while a pass runs: that pass may have looked already, so another follows it.
  let again = false;
  let soonTimer: NodeJS.Timeout | undefined;

  async function claim(job: Pick<JobDoc, '_id' | 'state' | 'claimedAt'>, now: Date): Promise<JobDoc | null> {
    return Jobs.findOneAndUpdate(
      { _id: job._id, state: job.state, claimedAt: job.claimedAt },
      { $set: { state: 'running', claimedAt: now }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    ).lean();
  }

  async function runOne(job: JobDoc): Promise<void> {
    const claimedAt = job.claimedAt!;
    let result: JobResult;
    try {
      result = await deps.run(job);
    } catch (error) {
      const delay = Math.min(1000 * 2 ** Math.min(job.attempts, 12), MAX_RETRY_DELAY_MS);
      log.warn({ err: error, job: job._id, kind: job.kind, attempts: job.attempts, retryInMs: delay }, 'scheduled job failed; will retry');
      const dueAt = new Date(Date.now() + delay);
      await Jobs.updateOne({ _id: job._id, claimedAt }, { $set: { state: 'due', claimedAt: null, dueAt, dueHour: utcHour(dueAt) } }).catch(
        () => undefined, // left claimed: taken over after JOB_TAKEOVER_MS
      );
      return;
    }
    if (result?.dueAt) {
      const { dueAt } = result;
      await Jobs.updateOne(
        { _id: job._id, claimedAt },
        { $set: { state: 'due', claimedAt: null, attempts: 0, dueAt, dueHour: utcHour(dueAt) } },
      );
      return;
    }
    await Jobs.deleteOne({ _id: job._id, claimedAt });
  }

  let lastOverdueCheck = 0;

  /** The earliest due jobs, sorted and limited by the database; now and then those over a week overdue too. */
  async function dueJobs(now: Date): Promise<Pick<JobDoc, '_id' | 'state' | 'claimedAt' | 'dueAt'>[]> {
    const fields = { _id: 1, state: 1, claimedAt: 1, dueAt: 1 };
    const hours = dueHours(now);
    const recent = await Jobs.find({ dueHour: mongoose.trusted({ $in: hours }), dueAt: mongoose.trusted({ $lte: now }) }, fields)
      .sort({ dueAt: 1 })
      .limit(JOBS_PER_PASS)
      .lean();
    if (now.getTime() - lastOverdueCheck < OVERDUE_CHECK_MS) return recent;
    lastOverdueCheck = now.getTime();
    const overdue = await Jobs.find({ dueHour: mongoose.trusted({ $lt: hours.at(-1)! }) }, fields)
      .sort({ dueAt: 1 })
      .limit(JOBS_PER_PASS)
      .lean();
    if (overdue.length > 0) log.warn({ jobs: overdue.length }, 'running scheduled jobs more than a week overdue');
    return [...overdue, ...recent].slice(0, JOBS_PER_PASS);
  }

  async function pass(): Promise<number> {
    const now = new Date();
    const due = await dueJobs(now);
    let ran = 0;
    let next = 0;
    // JOB_CONCURRENCY workers take the due jobs in order: each claims one, runs it, takes the next.
    const worker = async () => {
      while (!stopped && next < due.length) {
        const candidate = due[next++]!;
        if (candidate.state === 'running' && candidate.claimedAt && now.getTime() - candidate.claimedAt.getTime() < JOB_TAKEOVER_MS)
          continue;
        const job = await claim(candidate, new Date());
        if (!job) continue; // another instance has it
        await runOne(job);
        ran++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(JOB_CONCURRENCY, due.length) }, worker));
    return ran;
  }

  function runOnce(): Promise<number> {
    if (running) return running;
    running = pass().finally(() => {
      running = null;
      if (again) {
        again = false;
        soon();
      }
    });
    return running;
  }

  function soon(): void {
    if (!started || stopped) return;
    if (running) {
      again = true;
      return;
    }
    // The publishes of one moment share a pass.
    soonTimer ??= setTimeout(() => {
      soonTimer = undefined;
      runOnce().catch((error: unknown) => log.warn({ err: error }, 'could not look for scheduled jobs; will try again'));
    }, 5);
    soonTimer.unref();
  }

  return {
    runOnce,
    soon,
    start() {
      stopped = false;
      started = true;
      // A full pass (more may be due) is followed at once by the next; otherwise wait about intervalMs.
      const tick = (delayMs: number) => {
        timer = setTimeout(() => {
          runOnce()
            .catch((error: unknown) => {
              log.warn({ err: error }, 'could not look for scheduled jobs; will try again');
              return 0;
            })
            .then((ran) => !stopped && tick(ran >= JOBS_PER_PASS ? 0 : intervalMs * (0.75 + Math.random() / 2)));
        }, delayMs);
        timer.unref();
      };
      tick(intervalMs * (0.75 + Math.random() / 2));
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(soonTimer);
      soonTimer = undefined;
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
  /** Runs `push` jobs (see createPushStage); without it (push is off) they are dropped. */
  push?: (job: JobDoc) => Promise<void>;
  /** Runs `email-due` and `digest` jobs (see createEmailStage); without it (email is off) they are dropped. */
  email?: { due(job: JobDoc): Promise<void>; digest(job: JobDoc): Promise<JobResult> };
  logger: Logger;
}): (job: JobDoc) => Promise<JobResult> {
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
    if (job.kind === 'push') {
      if (deps.push) return deps.push(job);
      log.warn({ job: job._id }, 'a push job, but push is not configured here (no VAPID keys); dropped');
      return;
    }
    if (job.kind === 'email-due' || job.kind === 'digest') {
      if (deps.email) return job.kind === 'digest' ? deps.email.digest(job) : deps.email.due(job);
      log.warn({ job: job._id }, 'an email job, but email is not configured here (no SMTP_URL); dropped');
      return;
    }
    // expire, and the first half of wake: whatever of the targets is still there goes.
    for (const [userId, ids] of byUser) await deps.removeMany(userId, ids);
    if (job.kind !== 'wake') return;
    const expiresAt = (job.input as { expiresAt?: string } | undefined)?.expiresAt;
    // Expired while snoozed: it does not come back.
    if (expiresAt && Date.parse(expiresAt) <= Date.now() + 1000) return;
    await publish(job);
  };
}
