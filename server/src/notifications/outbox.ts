import { randomUUID } from 'node:crypto';
import type { JobDoc } from './scheduled-jobs';
import type { NotificationDoc } from './notification-model';
import type { Copy, StoreRequest } from './store-batch';

/** The push job of one round of a batch, before it is added: the notifications it will push. */
export type PushJob = Pick<JobDoc, '_id' | 'kind' | 'dueAt' | 'targets'>;

/**
 * The off-page stage's work for one round of inserts: one `push` job for the copies whose publish asked
 * for push and whose recipient did not turn the category off. It is added before the notifications
 * are inserted, and each of those documents names it (`outbox`): a crash in between leaves a job whose
 * notifications are missing (skipped), never notifications without their job; and a seq another
 * publisher took first holds a document that does not name the job, so it is never pushed for this one.
 */
export function pushJobFor(
  batch: readonly StoreRequest[],
  copies: readonly Copy[],
  docs: NotificationDoc[],
  pushOff: readonly Set<string>[] | undefined,
  now: Date,
): PushJob | undefined {
  const marked = copies.flatMap((copy, i) => {
    const request = batch[copy.request]!;
    return request.channels?.push && !pushOff?.[copy.request]?.has(copy.userId) ? [docs[i]!] : [];
  });
  if (marked.length === 0) return undefined;
  const _id = `push:${randomUUID()}`;
  for (const doc of marked) doc.outbox = _id;
  return { _id, kind: 'push', dueAt: now, targets: marked.map((doc) => ({ userId: doc.userId, id: String(doc._id) })) };
}
