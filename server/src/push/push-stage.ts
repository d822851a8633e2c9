import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Logger } from '../platform/logger';
import { notificationModel, type NotificationDoc } from '../notifications/notification-model';
import { roundOf } from '../notifications/outbox';
import type { JobDoc, JobStore } from '../notifications/scheduled-jobs';
import type { PushConfig } from '../off-page-config';
import { createPushSender, type PushMessage, type PushOutcome } from './push-sender';
import type { PushSubscriptions, PushTarget } from './push-subscriptions';

/** How long a push service keeps a message for a device that is offline. */
const PUSH_TTL_SECONDS = 24 * 3600;
/** Most bytes of JSON a message carries (the encrypted record holds 4,096 with its padding and tag). */
const MAX_PAYLOAD_BYTES = 3000;
/** Messages one job has in flight at once. */
const SENDS_AT_ONCE = 16;
/** Seconds a job waits for notifications not inserted yet (the database deadline, with room), one wait a second. */
const INSERT_WAITS = 10;
/** Tries of one message before it is given up on (about a day of backoff). */
const MAX_TRIES = 12;

/** What the service worker reads: enough to show the notification and open it. */
export function pushPayload(doc: NotificationDoc): string {
  const payload = {
    id: String(doc._id),
    title: doc.title,
    ...(doc.body ? { body: doc.body } : {}),
    ...(doc.actionUrl ? { url: doc.actionUrl } : {}),
    ...(doc.category ? { category: doc.category } : {}),
    // The service worker shows one notification per tag: a group's newest item replaces the one before.
    tag: doc.group ? `group:${doc.group.key}` : String(doc._id),
    createdAt: doc.createdAt.toISOString(),
  };
  let json = JSON.stringify(payload);
  // A long body is cut to fit; the app has it whole.
  if (Buffer.byteLength(json) > MAX_PAYLOAD_BYTES && payload.body) {
    const over = Buffer.byteLength(json) - MAX_PAYLOAD_BYTES;
    json = JSON.stringify({ ...payload, body: `${payload.body.slice(0, Math.max(0, payload.body.length - over - 1))}…` });
  }
  return json;
}

/** The backoff before try `retry + 1`: 2 s doubling, at most an hour; a push service's Retry-After wins when longer. */
export function pushRetryDelayMs(retry: number, retryAfterMs?: number): number {
  return Math.max(retryAfterMs ?? 0, Math.min(2000 * 2 ** retry, 3600_000));
}

/**
 * Runs `push` jobs: each target still stored and unread (a read one has been seen) gets one message per
 * subscription of its user, or to the one endpoint a retry names. A subscription the push service says is
 * gone is forgotten; messages it could not take now (429, 5xx, no answer) go into one new job, due after
 * their backoff, so nothing is sent twice and nothing given up on before MAX_TRIES. Endpoints and keys
 * never reach the logs.
 */
export function createPushStage(deps: {
  connection: Connection;
  config: PushConfig;
  subscriptions: PushSubscriptions;
  jobs: Pick<JobStore, 'add'>;
  /** Categories whose messages ask the push service to wake the device at once. */
  critical?: readonly string[];
  logger: Logger;
  /** Told of every message's outcome (metrics). */
  onOutcome?: (outcome: PushOutcome['status']) => void;
  send?: (target: Pick<PushTarget, 'endpoint' | 'keys'>, message: PushMessage) => Promise<PushOutcome>;
}): (job: JobDoc) => Promise<void> {
  const Notification = notificationModel(deps.connection);
  const send = deps.send ?? createPushSender(deps.config);
  const critical = new Set(deps.critical ?? []);
  const log = deps.logger.child({ module: 'push' });

  return async (job) => {
    const targets = job.targets ?? [];
    // Retries and waits are jobs of their own (`push:<round>:r2`); the notifications name the round.
    const origin = job._id.replace(/:[rw]\d+$/, '');
    const round = roundOf(job._id);
    const docs = await Promise.all(targets.map((target) => Notification.findById(target.id).lean<NotificationDoc>()));
    const live = targets.flatMap((target, i) => {
      const doc = docs[i];
      return doc && doc.userId === target.userId && doc.outbox === round && !doc.gap && !doc.readAt ? [{ target, doc }] : [];
    });
    // The job is added just before its notifications are inserted: one claimed in between finds them
    // missing, and waits for them while an insert could still land; after that they never will.
    const missing = targets.filter((_, i) => !docs[i]);
    const wait = Number(/:w(\d+)$/.exec(job._id)?.[1] ?? 0) + 1;
    if (missing.length > 0 && !job.retry && wait <= INSERT_WAITS) {
      await deps.jobs.add({ _id: `${origin}:w${wait}`, kind: 'push', dueAt: new Date(Date.now() + 1000), targets: missing });
    }
    const users = [...new Set(live.filter(({ target }) => !target.endpoint).map(({ target }) => target.userId))];
    const held = await deps.subscriptions.of(users);
    const messages = live.flatMap(({ target, doc }) => {
      const to = target.endpoint ? held.filter((s) => s.endpoint === target.endpoint) : held.filter((s) => s.userId === target.userId);
      return to.map((subscription) => ({ target, doc, subscription }));
    });
    // A retry names an endpoint its user may have dropped since; the subscription is then not held.
    const retried = live.filter(({ target }) => target.endpoint).map(({ target }) => target);
    if (retried.length > 0) {
      const again = await deps.subscriptions.of([...new Set(retried.map((t) => t.userId))]);
      for (const target of retried) {
        const subscription = again.find((s) => s.endpoint === target.endpoint && s.userId === target.userId);
        const doc = live.find((l) => l.target === target)!.doc;
        if (subscription) messages.push({ target, doc, subscription });
      }
    }

    const later: { userId: string; id: string; endpoint: string; afterMs?: number }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < messages.length) {
        const { target, doc, subscription } = messages[next++]!;
        const outcome = await send(subscription, {
          payload: pushPayload(doc),
          ttlSeconds: PUSH_TTL_SECONDS,
          urgency: doc.category && critical.has(doc.category) ? 'high' : 'normal',
          ...(doc.group ? { topic: topicOf(doc.userId, doc.group.key) } : {}),
        });
        deps.onOutcome?.(outcome.status);
        if (outcome.status === 'gone') await deps.subscriptions.gone(subscription.endpoint);
        else if (outcome.status === 'retry') {
          later.push({
            userId: target.userId,
            id: target.id,
            endpoint: subscription.endpoint,
            ...(outcome.afterMs !== undefined ? { afterMs: outcome.afterMs } : {}),
          });
        } else if (outcome.status === 'refused')
          log.warn({ job: job._id, userId: target.userId, reason: outcome.reason }, 'push message refused');
      }
    };
    await Promise.all(Array.from({ length: Math.min(SENDS_AT_ONCE, messages.length) }, worker));

    const retry = (job.retry ?? 0) + 1;
    if (later.length === 0) return;
    if (retry >= MAX_TRIES) {
      log.error({ job: job._id, messages: later.length }, 'push messages given up on after every try');
      return;
    }
    const afterMs = pushRetryDelayMs(retry - 1, Math.max(...later.map((l) => l.afterMs ?? 0)));
    await deps.jobs.add({
      _id: `${origin}:r${retry}`,
      kind: 'push',
      dueAt: new Date(Date.now() + afterMs),
      retry,
      targets: later.map(({ userId, id, endpoint }) => ({ userId, id, endpoint })),
    });
  };
}

/** A group's Topic header: 32 characters of the URL-safe base64 alphabet, the same for every item of the group. */
function topicOf(userId: string, key: string): string {
  return createHash('sha256').update(`${userId}\n${key}`).digest('base64url').slice(0, 32);
}
