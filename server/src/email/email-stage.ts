import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { inQuietHours, splitFeedKey, type QuietHours } from '@herald/shared';
import type { Logger } from '../platform/logger';
import { isDuplicateKey } from '../platform/errors';
import { notificationModel, type NotificationDoc } from '../notifications/notification-model';
import { roundOf } from '../notifications/outbox';
import { jobModel, utcHour, type JobDoc, type JobResult, type JobStore } from '../notifications/scheduled-jobs';
import type { EmailConfig } from '../off-page-config';
import { readEffectivePreferences } from '../preferences/effective-preferences';
import { preferenceModel } from '../preferences/preference-model';
import type { RecipientService } from '../recipients/recipient-service';
import { renderDigest } from './email-render';
import type { OutgoingEmail } from './email-sender';
import type { UnsubscribeLinks } from './email-links';

/** Seconds an `email-due` job waits for notifications not inserted yet (the database deadline, with room), one wait a second. */
const INSERT_WAITS = 10;
/** Most notifications one digest lists (the newest); the app has the rest. */
const MAX_DIGEST_ITEMS = 50;
/** How far ahead the end of quiet hours is looked for, in steps of QUIET_STEP_MS. */
const QUIET_STEP_MS = 5 * 60_000;
const QUIET_LOOKAHEAD_STEPS = (24 * 3600_000) / QUIET_STEP_MS;

/** The category an email preference and an unsubscribe link name for a notification: its category, else its type. */
export const emailCategoryOf = (doc: Pick<NotificationDoc, 'category' | 'type'>) => doc.category ?? doc.type;

/** The first moment after `from` outside the quiet hours, in QUIET_STEP_MS steps, at most a day ahead. */
export function endOfQuietHours(quietHours: QuietHours, from: Date): Date {
  for (let step = 1; step <= QUIET_LOOKAHEAD_STEPS; step++) {
    const at = new Date(from.getTime() + step * QUIET_STEP_MS);
    if (!inQuietHours(quietHours, at)) return at;
  }
  return new Date(from.getTime() + QUIET_LOOKAHEAD_STEPS * QUIET_STEP_MS);
}

/**
 * Email when still unread. Two kinds of job:
 * - `email-due` (one per batch round, recorded before its notifications, due `unreadAfterSeconds` after
 *   they were stored): the targets still stored and unread join their recipient's digest, the job
 *   `digest:<userId>`, created due EMAIL_DIGEST_WINDOW_SECONDS later if there is none waiting. While that
 *   digest is being sent it cannot take more: the email-due job fails and is tried again (a second or
 *   two later), and its targets open the next digest.
 * - `digest`: one email with every target still unread, read when it runs (any read meanwhile is left
 *   out), in the recipient's locale and time zone; held until the end of their quiet hours unless one
 *   item is in a critical category. The job is deleted only after the SMTP server accepted the email: a
 *   failure leaves it for a retry with backoff, and one runner holds it at a time, so nothing is lost and
 *   nothing sent twice.
 */
export function createEmailStage(deps: {
  connection: Connection;
  config: EmailConfig;
  jobs: Pick<JobStore, 'add'>;
  recipients: Pick<RecipientService, 'get'>;
  links: UnsubscribeLinks;
  /** Where the unsubscribe route answers, from PUBLIC_URL on: `/api/email/unsubscribe` for a standalone gateway. */
  unsubscribePath: string;
  critical?: readonly string[];
  send: (email: OutgoingEmail) => Promise<void>;
  logger: Logger;
  /** Told of every digest's outcome (metrics). */
  onOutcome?: (outcome: 'sent' | 'failed') => void;
  now?: () => Date;
}): { due(job: JobDoc): Promise<void>; digest(job: JobDoc): Promise<JobResult> } {
  const Notification = notificationModel(deps.connection);
  const Jobs = jobModel(deps.connection);
  const Preferences = preferenceModel(deps.connection);
  const critical = new Set(deps.critical ?? []);
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ module: 'email' });

  const stillUnread = (doc: NotificationDoc | null | undefined, userId: string): doc is NotificationDoc =>
    !!doc && doc.userId === userId && !doc.gap && !doc.readAt && !doc.archivedAt;

  async function due(job: JobDoc): Promise<void> {
    const targets = job.targets ?? [];
    const round = roundOf(job._id);
    const docs = await Promise.all(targets.map((target) => Notification.findById(target.id).lean<NotificationDoc>()));
    const missing = targets.filter((_, i) => !docs[i]);
    const wait = Number(/:w(\d+)$/.exec(job._id)?.[1] ?? 0) + 1;
    if (missing.length > 0 && wait <= INSERT_WAITS) {
      const origin = job._id.replace(/:w\d+$/, '');
      await deps.jobs.add({ _id: `${origin}:w${wait}`, kind: 'email-due', dueAt: new Date(now().getTime() + 1000), targets: missing });
    }
    const byUser = new Map<string, { userId: string; id: string }[]>();
    targets.forEach((target, i) => {
      const doc = docs[i];
      if (stillUnread(doc, target.userId) && doc.outbox === round)
        byUser.set(target.userId, [...(byUser.get(target.userId) ?? []), target]);
    });
    for (const [userId, items] of byUser) {
      const at = now();
      const dueAt = new Date(at.getTime() + deps.config.digestWindowSeconds * 1000);
      try {
        // Joins the digest waiting for this user, or opens one; a digest being sent is not "due", so the
        // upsert then collides with it on its _id and this job is tried again once it is gone.
        await Jobs.collection.updateOne(
          { _id: `digest:${userId}` as never, state: 'due' },
          {
            $addToSet: { targets: { $each: items } },
            $setOnInsert: { kind: 'digest', dueAt, dueHour: utcHour(dueAt), claimedAt: null, attempts: 0, createdAt: at },
          },
          { upsert: true },
        );
      } catch (error) {
        if (isDuplicateKey(error)) throw new Error(`the digest of ${userId} is being sent; these join the next one`, { cause: error });
        throw error;
      }
      // A critical item does not wait for a digest held back (quiet hours): it goes at the window's end.
      if (items.some((item) => critical.has(emailCategoryOf(docs[targets.indexOf(item)]!)))) {
        await Jobs.updateOne(
          { _id: `digest:${userId}`, state: 'due', dueAt: mongoose.trusted({ $gt: dueAt }) },
          { $set: { dueAt, dueHour: utcHour(dueAt) } },
        );
      }
    }
  }

  async function digest(job: JobDoc): Promise<JobResult> {
    // The feed's key: the person's address is theirs in every tenant; settings are the feed's.
    const userId = job._id.slice('digest:'.length);
    const recipient = await deps.recipients.get(splitFeedKey(userId).userId);
    if (!recipient?.email) {
      log.debug({ userId }, 'no email address for this recipient; digest dropped');
      return;
    }
    const ids = [...new Set((job.targets ?? []).filter((t) => t.userId === userId).map((t) => t.id))];
    const docs = (await Promise.all(ids.map((id) => Notification.findById(id).lean<NotificationDoc>()))).filter((doc) =>
      stillUnread(doc, userId),
    );
    const preferences = (await readEffectivePreferences(Preferences, [userId])).get(userId) ?? null;
    const off = new Set(preferences?.emailOffCategories ?? []);
    const items = docs
      .filter((doc) => critical.has(emailCategoryOf(doc)) || !off.has(emailCategoryOf(doc)))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .slice(-MAX_DIGEST_ITEMS);
    if (items.length === 0) return;
    const at = now();
    const urgent = items.some((doc) => critical.has(emailCategoryOf(doc)));
    if (!urgent && preferences?.quietHours && inQuietHours(preferences.quietHours, at)) {
      return { dueAt: endOfQuietHours(preferences.quietHours, at) };
    }
    const categories = [...new Set(items.map(emailCategoryOf))].filter((category) => !critical.has(category)).sort();
    const token = await deps.links.sign({ userId, categories }, at);
    const unsubscribeUrl = `${deps.config.publicUrl}${deps.unsubscribePath}?token=${token}`;
    const rendered = renderDigest({
      items: items.map((doc) => ({ title: doc.title, body: doc.body, actionUrl: doc.actionUrl, createdAt: doc.createdAt })),
      recipient,
      publicUrl: deps.config.publicUrl,
      unsubscribeUrl,
      categories: [...new Set(items.map(emailCategoryOf))].sort(),
    });
    // One Message-ID per digest (every try of it): a receiving server that sees it twice can tell.
    const digestKey = createHash('sha256').update(`${job._id}\n${job.createdAt.toISOString()}`).digest('hex').slice(0, 32);
    const domain = new URL(deps.config.publicUrl).hostname || 'herald.invalid';
    try {
      await deps.send({
        to: { address: recipient.email, name: recipient.name },
        ...rendered,
        unsubscribeUrl,
        messageId: `<digest-${digestKey}@${domain}>`,
      });
    } catch (error) {
      deps.onOutcome?.('failed');
      throw error;
    }
    deps.onOutcome?.('sent');
    log.info({ userId, notifications: items.length }, 'digest email sent');
  }

  return { due, digest };
}
