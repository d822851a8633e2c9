import { randomUUID } from 'node:crypto';
import type { JobDoc } from './scheduled-jobs';
import type { NotificationDoc } from './notification-model';
import type { Copy, StoreRequest } from './store-batch';

/** An off-page job of one round of a batch, before it is added: the notifications it will push or mail. */
export type OffPageJob = Pick<JobDoc, '_id' | 'kind' | 'dueAt' | 'targets'>;

/** What the off-page stage does here: push configured, email configured (with its default wait). */
export interface OffPageSettings {
  push: boolean;
  email?: { unreadAfterSeconds: number };
}

/** Per request, its recipients who turned the request's category off, per channel. */
export interface ChannelsOff {
  push: Set<string>;
  email: Set<string>;
}

/**
 * The round a job's notifications name (`outbox`): `push:<round>`, `email:<round>.<seconds>`, and their
 * retries and waits (`…:r2`, `…:w1`) all belong to `<round>`.
 */
export function roundOf(jobId: string): string {
  return jobId.split(':')[1]!.split('.')[0]!;
}

/** Seconds a copy's notification waits unread before it is mailed, or undefined when it is not to be mailed. */
function unreadAfter(request: StoreRequest, settings: OffPageSettings): number | undefined {
  const email = request.channels?.email;
  if (!email || !settings.email) return undefined;
  return email === true ? settings.email.unreadAfterSeconds : (email.unreadAfterSeconds ?? settings.email.unreadAfterSeconds);
}

/**
 * The off-page stage's work for one round of inserts: one `push` job, due now, for the copies whose
 * publish asked for push, and one `email-due` job per wait (`unreadAfterSeconds`) for those that asked
 * for email, each leaving out recipients who turned the category off on that channel. They are added
 * before the notifications are inserted, and each of those documents names the round (`outbox`): a
 * crash in between leaves jobs whose notifications are missing (skipped), never notifications without
 * their jobs; and a seq another publisher took first holds a document that does not name the round, so
 * it is never pushed or mailed for this one.
 */
export function offPageJobsFor(
  batch: readonly StoreRequest[],
  copies: readonly Copy[],
  docs: NotificationDoc[],
  off: readonly ChannelsOff[] | undefined,
  settings: OffPageSettings,
  now: Date,
): OffPageJob[] {
  const round = randomUUID();
  const push: NotificationDoc[] = [];
  const email = new Map<number, NotificationDoc[]>();
  copies.forEach((copy, i) => {
    const request = batch[copy.request]!;
    const doc = docs[i]!;
    if (settings.push && request.channels?.push && !off?.[copy.request]?.push.has(copy.userId)) push.push(doc);
    const wait = unreadAfter(request, settings);
    if (wait !== undefined && !off?.[copy.request]?.email.has(copy.userId)) email.set(wait, [...(email.get(wait) ?? []), doc]);
  });
  const targets = (list: NotificationDoc[]) => {
    for (const doc of list) doc.outbox = round;
    return list.map((doc) => ({ userId: doc.userId, id: String(doc._id) }));
  };
  const jobs: OffPageJob[] = [];
  if (push.length > 0) jobs.push({ _id: `push:${round}`, kind: 'push', dueAt: now, targets: targets(push) });
  for (const [seconds, list] of email) {
    jobs.push({
      _id: `email:${round}.${seconds}`,
      kind: 'email-due',
      dueAt: new Date(now.getTime() + seconds * 1000),
      targets: targets(list),
    });
  }
  return jobs;
}
