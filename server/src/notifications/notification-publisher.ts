import { createHash, randomUUID } from 'node:crypto';
import {
  feedKey,
  feedOf,
  MAX_SCHEDULE_AHEAD_MS,
  publishNotificationInputSchema,
  splitFeedKey,
  type Notification,
  type PublishNotificationInput,
  type ValidPublishNotificationInput,
} from '@herald/shared';
import type { UserChannelPublisher } from '../channels/user-channel-publisher';
import { AppError, ValidationError, toAppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { withDatabaseDeadline } from '../platform/deadline';
import type { Metrics } from '../platform/metrics';
import { keyConflict, requestHash } from './idempotency';
import type { CountFeed } from './feed-counts';
import type { NotificationContent, NotificationWriter, StoreResult } from './notification-writer';
import type { StoreOptions } from './store-batch';
import { refuseOverScheduleCap, type JobStore } from './scheduled-jobs';

/**
 * Per-call options of publishNotification.
 *
 * @example
 * await publishNotification(input, { idempotencyKey: `comment-${comment.id}` });
 */
export interface PublishOptions {
  /**
   * The same request again with the same key stores nothing new: it answers with what the first call
   * stored (for as long as that is kept: deleting a notification keeps its key). See idempotency.ts.
   */
  idempotencyKey?: string;
}

/**
 * What publishNotification resolves with once everything is stored.
 *
 * @example
 * const { notifications, mutedUserIds, replayed } = await publishNotification(input);
 */
export interface PublishResult {
  /** One stored notification per recipient who receives it, in the order of `userIds`. */
  notifications: Notification[];
  /** Recipients who muted this type: nothing was stored or sent for them. */
  mutedUserIds: string[];
  /** Recipients who already have a notification with this `dedupeKey`: nothing new was stored or sent for them. */
  deduplicatedUserIds: string[];
  /** True when this answer replays an earlier request with the same idempotency key. */
  replayed: boolean;
  /**
   * Published with a future `sendAt`: nothing is stored or sent yet (`notifications` is empty); the job
   * `id` (to cancel it) and when it will be sent.
   */
  scheduled?: { id: string; sendAt: string };
  /**
   * Gateway instances that received each notification's live message (Redis's PUBLISH count), in the
   * order of `notifications`; 0 means no recipient socket was connected anywhere, null that Redis failed
   * (the notification is stored either way and arrives on the next sync).
   */
  instancesReached: (number | null)[];
}

/**
 * Validates, stores, then sends to the recipients' sockets on whichever
 * gateways hold them. Resolves only once every notification is stored;
 * rejects (`validation_failed`, `conflict`, `database_unavailable`, …) with
 * nothing pushed if storing failed. The database gets DATABASE_DEADLINE_MS:
 * past it the call rejects with `database_unavailable`, and a store the
 * database finishes later is still announced. With an idempotency key, a
 * retry never stores a second copy, whatever the first attempt did.
 *
 * @example
 * const { notifications } = await gateway.publishNotification({ userIds: [bobId], type: 'post.liked', title: 'Alice liked your post' });
 */
export type PublishNotification = (input: PublishNotificationInput, options?: PublishOptions) => Promise<PublishResult>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Builds `publishNotification`, the use case: validate, store through the
 * writer (which drops recipients who muted the type, and finds what an earlier
 * attempt of a keyed request stored: see idempotency.ts), then announce each
 * notification on its recipient's channel. Storing is the only step that can
 * fail the call: if it fails, nothing is published. A Redis
 * failure after storing is logged, not thrown, because the notification exists
 * and clients fetch it on their next sync; throwing would invite a retry that
 * stores it twice.
 */
/** Categories or types whose notifications go out as push or email when the publish does not say. */
export interface ChannelDefaults {
  push?: readonly string[];
  email?: readonly string[];
}

/** The channels a publish asked for, with the deployment's defaults where it said nothing: `false` stays off. */
function withDefaults(
  channels: StoreOptions['channels'],
  content: Pick<NotificationContent, 'category' | 'type'>,
  defaults: ChannelDefaults | undefined,
): NonNullable<StoreOptions['channels']> {
  const listed = (names: readonly string[] | undefined) =>
    !!names && (names.includes(content.type) || (content.category !== undefined && names.includes(content.category)));
  return {
    ...channels,
    ...(channels?.push === undefined && listed(defaults?.push) ? { push: true } : {}),
    ...(channels?.email === undefined && listed(defaults?.email) ? { email: true } : {}),
  };
}

export function createNotificationPublisher(deps: {
  writer: NotificationWriter;
  userChannel: UserChannelPublisher;
  logger: Logger;
  metrics?: Pick<Metrics, 'published' | 'publishFailures'>;
  /** Counts sent with the removal of grouped items a new one replaced. */
  counts: CountFeed;
  /** Where sends with `sendAt` and expiries wait for their time. */
  jobs: JobStore;
  /** Categories or types that ask for push or email when a publish does not say (see ChannelDefaults). */
  channelDefaults?: ChannelDefaults;
}): PublishNotification {
  const log = deps.logger.child({ module: 'notification-publisher' });

  /**
   * Sends what this call inserted on its recipients' channels; copies an earlier attempt stored (found)
   * are not sent again (0 instances reached): that attempt sent them, or the socket reconciler sends
   * them on within seconds if it stopped before (see socket-reconciler).
   */
  async function announce(outcome: StoreResult, publishedAt: number): Promise<(number | null)[]> {
    const { stored, replaced } = outcome;
    const found = new Set(outcome.found);
    const fresh = stored.filter((notification) => !found.has(notification.id));
    const sent = await deps.userChannel.publish(
      fresh.map((notification) => ({ userId: feedOf(notification), message: { kind: 'notification', notification, publishedAt } })),
    );
    deps.metrics?.published.inc(fresh.length);
    // Not fatal: the new items are out, and the next sync or counts settle the rest.
    if (replaced.length > 0)
      await announceReplaced(replaced).catch((error: unknown) => log.warn({ err: error }, 'could not announce replaced group items'));
    let next = 0;
    return stored.map((notification) => (found.has(notification.id) ? 0 : sent[next++]!));
  }

  /**
   * Grouped items the new ones replaced leave every device, with counts taken after (a device holding
   * the old item drops it on the new one already; this tells those that hold it without its group's
   * new item, and corrects the counts of those that never held it).
   */
  async function announceReplaced(replaced: { userId: string; id: string }[]): Promise<void> {
    const byUser = new Map<string, string[]>();
    for (const { userId, id } of replaced) byUser.set(userId, [...(byUser.get(userId) ?? []), id]);
    const messages = await Promise.all(
      [...byUser].map(async ([userId, ids]) => ({ userId, message: { kind: 'deleted' as const, ids, counts: await deps.counts(userId) } })),
    );
    await deps.userChannel.publish(messages);
  }

  /**
   * Records when the stored notifications expire (one job for the call, named after its first
   * notification, so a keyed retry records nothing twice). Not fatal: they are stored, and clients
   * hide them after `expiresAt` anyway; the error is logged.
   */
  async function recordExpiry(stored: Notification[], expiresAt: Date | undefined): Promise<void> {
    if (!expiresAt || stored.length === 0) return;
    const job = {
      _id: `expire:${stored[0]!.id}`,
      kind: 'expire' as const,
      dueAt: expiresAt,
      targets: stored.map((n) => ({ userId: feedOf(n), id: n.id })),
    };
    await deps.jobs
      .add(job)
      .catch((error: unknown) => log.error({ err: error, job: job._id }, 'could not record when notifications expire'));
  }

  /** A publish with a future `sendAt`: one `send` job (with a key: named after it, so the same request again is a replay). */
  async function schedule(
    data: ValidPublishNotificationInput,
    sendAt: Date,
    key: string | undefined,
    hash: string,
  ): Promise<PublishResult> {
    const { sendAt: _sendAt, ...input } = data;
    // A tenant's keys are its own: the same Idempotency-Key in two tenants is two sends.
    const scoped = input.tenant === undefined ? key : `${input.tenant}\n${key}`;
    const id = scoped === undefined ? `send:${randomUUID()}` : `send:${createHash('sha256').update(scoped).digest('hex').slice(0, 40)}`;
    const feeds = input.userIds.map((userId) => feedKey(input.tenant, userId));
    await withDatabaseDeadline(refuseOverScheduleCap(deps.jobs, feeds, id));
    const added = await withDatabaseDeadline(
      deps.jobs.add({
        _id: id,
        kind: 'send',
        dueAt: sendAt,
        input,
        recipients: feeds,
        ...(key === undefined ? {} : { requestHash: hash }),
      }),
    );
    const empty = { notifications: [], mutedUserIds: [], deduplicatedUserIds: [], instancesReached: [] };
    if (added.added) return { ...empty, replayed: false, scheduled: { id, sendAt: sendAt.toISOString() } };
    if (added.existing.kind !== 'send' || added.existing.requestHash !== hash) throw keyConflict();
    return { ...empty, replayed: true, scheduled: { id, sendAt: added.existing.dueAt.toISOString() } };
  }

  /** Times must be ahead (expiresAt) and not too far ahead (both). */
  function checkTimes(data: ValidPublishNotificationInput, now: number): void {
    const issues: { path: string; message: string }[] = [];
    const sendAt = data.sendAt ? Date.parse(data.sendAt) : undefined;
    const expiresAt = data.expiresAt ? Date.parse(data.expiresAt) : undefined;
    if (sendAt !== undefined && sendAt > now + MAX_SCHEDULE_AHEAD_MS) issues.push({ path: 'sendAt', message: 'must be within a year' });
    if (expiresAt !== undefined && expiresAt <= now) issues.push({ path: 'expiresAt', message: 'must be in the future' });
    if (expiresAt !== undefined && expiresAt > now + 2 * MAX_SCHEDULE_AHEAD_MS)
      issues.push({ path: 'expiresAt', message: 'must be within two years' });
    if (issues.length > 0) throw new ValidationError('Invalid notification: check the times.', issues);
  }

  async function publishNotification(input: PublishNotificationInput, options: PublishOptions = {}): Promise<PublishResult> {
    const publishedAt = Date.now();
    const parsed = publishNotificationInputSchema.safeParse(input);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'notification');
    const key = options.idempotencyKey;
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError('Invalid Idempotency-Key: use 1 to 200 printable ASCII characters without spaces.');
    }
    checkTimes(parsed.data, publishedAt);
    // channels: the off-page stage's (see outbox.ts), not part of what is stored.
    // tenant: which feeds (see feedKey); the stored documents carry it in their key.
    const { userIds, tenant, group, sendAt, expiresAt, channels, ...rest } = parsed.data;
    const content: NotificationContent = { ...rest, ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}) };

    // The caller waits for the database at most the deadline. Storing goes on without it; whoever is
    // still there when it ends announces the notifications: the caller, or (after a 503) the background.
    const answer: { owner: 'undecided' | 'caller' | 'background' } = { owner: 'undecided' };
    // Recipients are a set (duplicates are ignored), so their order is not part of the request either.
    const hash = key === undefined ? '' : requestHash({ ...parsed.data, userIds: [...new Set(userIds)].sort() });
    // A second's leeway: a time that is already (nearly) here sends now.
    if (sendAt && Date.parse(sendAt) > publishedAt + 1000) return schedule(parsed.data, new Date(sendAt), key, hash);
    const idempotency = key === undefined ? undefined : { key, hash };
    const asked = withDefaults(channels, content, deps.channelDefaults);
    const offPage = asked.push || asked.email ? asked : undefined;
    const feeds = userIds.map((userId) => feedKey(tenant, userId));
    const storing = deps.writer.store(feeds, content, { group, idempotency, channels: offPage }).then(async (outcome) => {
      await recordExpiry(outcome.stored, content.expiresAt);
      if (answer.owner === 'undecided') answer.owner = 'caller';
      else {
        void announce(outcome, publishedAt).catch((error: unknown) => log.warn({ err: error }, 'late announce failed'));
        log.warn({ recipients: outcome.stored.length }, 'stored after the caller was answered 503; announced now');
      }
      return outcome;
    });
    let outcome: StoreResult;
    try {
      outcome = await withDatabaseDeadline(storing);
    } catch (error) {
      if (answer.owner !== 'caller') {
        answer.owner = 'background';
        if (error instanceof AppError) throw error;
        log.error({ err: error, recipients: userIds.length }, 'storing notifications failed; nothing published');
        throw toAppError(error, 'The notification could not be stored, so nothing was sent. Try again shortly.') ?? error;
      }
      // Stored in the same instant the deadline passed: the caller has it after all.
      outcome = await storing;
    }
    const instancesReached = await announce(outcome, publishedAt);
    const userOf = (key: string) => splitFeedKey(key).userId;
    return {
      notifications: outcome.stored,
      mutedUserIds: outcome.muted.map(userOf),
      deduplicatedUserIds: outcome.deduplicated.map(userOf),
      replayed: outcome.replayed,
      instancesReached,
    };
  }

  return async (input, options) => {
    try {
      return await publishNotification(input, options);
    } catch (error) {
      deps.metrics?.publishFailures.inc({ code: error instanceof AppError ? error.code : 'internal' });
      throw error;
    }
  };
}
