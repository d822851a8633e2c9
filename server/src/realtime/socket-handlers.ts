import {
  actionRequestSchema,
  authRefreshSchema,
  countsRequestSchema,
  readRequestSchema,
  snoozeRequestSchema,
  syncRequestSchema,
  scopeTopic,
  topicRequestSchema,
} from '@herald/shared';
import type { Authenticator } from '../auth/authenticate';
import { AppError } from '../platform/errors';
import type { CatchUp } from '../notifications/catch-up';
import type { NotificationFeed } from '../notifications/notification-feed';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { withTimeout } from '../platform/with-timeout';
import { overBudget, type TakeFromBudget } from '../security/rate-limiters';
import type { TopicService } from '../topics/topic-service';
import { acknowledged } from './acknowledged';
import type { IoSocket } from './io-types';
import type { SocketSessions } from './socket-session';
import type { DeliveryPositions } from './delivery-positions';

/** How long a sync waits for the user's live subscription before answering `service_unavailable`. */
const SUBSCRIBE_WAIT_MS = 2000;

/**
 * The client events, one handler each, shared by every socket. The gateway
 * only moves messages: each handler hands the verified user id to a domain
 * service and acknowledges `{ data }` or `{ error }`.
 */
export function createSocketHandlers(deps: {
  catchUp: CatchUp;
  authenticate: Authenticator;
  feed: NotificationFeed;
  topics: TopicService;
  sessions: SocketSessions;
  positions: DeliveryPositions;
  metrics: Metrics;
  logger: Logger;
  /** The users' event budgets (userEvents): a counts request costs one point per filter. */
  take?: TakeFromBudget;
}) {
  const { sessions, logger } = deps;
  const userOf = (socket: IoSocket) => ({ id: socket.data.userId, name: socket.data.name });

  return {
    refresh: acknowledged(
      authRefreshSchema,
      async ({ token }, socket: IoSocket) => {
        // The new token must still grant this socket's tenant: the feed key then matches.
        const identity = await deps.authenticate(token, {
          transport: 'socket',
          address: socket.handshake.address,
          tenant: socket.data.tenant,
        });
        if (identity.userId !== socket.data.userId) throw new AppError('forbidden', 'The new token is for another user.');
        socket.data.name = identity.name;
        sessions.renew(socket, identity.expiresAt);
        return { expiresAt: identity.expiresAt === null ? null : new Date(identity.expiresAt).toISOString() };
      },
      logger,
      'auth:refresh',
    ),

    sync: acknowledged(
      syncRequestSchema,
      async ({ afterSeq }, socket: IoSocket) => {
        // Read only after the live subscription is in place, so nothing can fall between the two. A
        // stalled Redis never confirms it: the client is told to retry instead of waiting with it.
        await withTimeout(sessions.subscribed(socket), SUBSCRIBE_WAIT_MS, 'subscribe timed out').catch(() => {
          throw new AppError('service_unavailable', 'Live delivery is not ready yet; retry shortly.');
        });
        deps.metrics.syncRequests.inc();
        const behindSince = deps.positions.behindSince(socket);
        const result = await deps.catchUp.syncAfter(
          socket.data.userId,
          afterSeq,
          undefined,
          behindSince === undefined ? {} : { behindSince },
        );
        deps.positions.synced(socket, result.settledSeq ?? afterSeq, result.hasMore);
        return result;
      },
      logger,
      'notifications:sync',
    ),

    read: acknowledged(
      readRequestSchema,
      ({ ids }, socket: IoSocket) => deps.feed.markRead(socket.data.userId, ids, socket.id),
      logger,
      'notifications:read',
    ),

    seen: acknowledged(
      readRequestSchema,
      ({ ids }, socket: IoSocket) => deps.feed.markSeen(socket.data.userId, ids, socket.id),
      logger,
      'notifications:seen',
    ),

    snooze: acknowledged(
      snoozeRequestSchema,
      ({ id, until }, socket: IoSocket) => deps.feed.snooze(socket.data.userId, id, until),
      logger,
      'notifications:snooze',
    ),

    action: acknowledged(
      actionRequestSchema,
      ({ id, actionId }, socket: IoSocket) => deps.feed.act(socket.data.userId, id, actionId, socket.id),
      logger,
      'notifications:action',
    ),

    counts: acknowledged(
      countsRequestSchema,
      async (request, socket: IoSocket) => {
        const { take } = deps;
        // The event itself cost one point (rateLimitEvents); each further filter costs one more.
        const charge = async (filters: number) => {
          const waitMs = await take?.('userEvents', socket.data.person ?? socket.data.userId, filters - 1);
          if (waitMs === undefined) return;
          const refusal = overBudget(waitMs, 'events');
          throw new AppError(refusal.code, refusal.message, { details: refusal.details });
        };
        return { counts: await deps.feed.countsFor(socket.data.userId, request, { charge }) };
      },
      logger,
      'notifications:counts',
    ),

    subscribe: acknowledged(
      topicRequestSchema,
      async ({ topic }, socket: IoSocket) => {
        // A socket of a tenant follows that tenant's topic of this name.
        const scoped = scopeTopic(socket.data.tenant, topic);
        await deps.topics.subscribe(userOf(socket), scoped);
        // This socket is in the room before the ack, so the caller misses nothing sent after it.
        await sessions.joinTopic(socket, scoped);
        return { topic };
      },
      logger,
      'topic:subscribe',
    ),

    unsubscribe: acknowledged(
      topicRequestSchema,
      async ({ topic }, socket: IoSocket) => {
        const scoped = scopeTopic(socket.data.tenant, topic);
        sessions.leaveTopic(socket, scoped);
        await deps.topics.unsubscribe(userOf(socket), scoped);
        return { topic };
      },
      logger,
      'topic:unsubscribe',
    ),
  };
}
