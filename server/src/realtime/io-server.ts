import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import type { HeraldNames, InstanceStats } from '@herald/shared';
import type { Authenticator } from '../auth/authenticate';
import { createTopicChannelSubscriber, type TopicChannelSubscriber } from '../channels/topic-channel-subscriber';
import { createUserChannelSubscriber, type Routing, type UserChannelSubscriber } from '../channels/user-channel-subscriber';
import type { CatchUp } from '../notifications/catch-up';
import type { NotificationFeed } from '../notifications/notification-feed';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RedisClient } from '../platform/redis-client';
import type { RedisRecovery } from '../platform/redis-recovery';
import type { TakeFromBudget } from '../security/rate-limiters';
import { socketAddress } from '../security/client-address';
import type { TopicService } from '../topics/topic-service';
import { handshakeAuth } from './handshake-auth';
import { upgradeRequestRelease } from './upgrade-request';
import { createConnectionCaps } from './connection-caps';
import { limitHandshakes } from './handshake-limit';
import { createInstanceStats } from './instance-stats';
import type { IoServer, IoSocket } from './io-types';
import { createLocalDelivery } from './local-delivery';
import { allowRequest } from './origin-check';
import { rateLimitEvents, type RateLimitPolicy } from './rate-limit';
import { resyncAfterRedisOutage } from './redis-resync';
import { createSocketHandlers } from './socket-handlers';
import { createDeliveryPositions } from './delivery-positions';
import { startSocketReconciler } from './socket-reconciler';
import { createSocketSessions } from './socket-session';
import { createTopicsOnConnect } from './topics-on-connect';
import { watchStalledClients } from './stalled-clients';

export type { IoServer, IoSocket } from './io-types';

export interface IoServerDeps {
  httpServer: HttpServer;
  /** The URL path Socket.IO answers on. @default "/socket.io" */
  path?: string;
  /** Close the HTTP server with Socket.IO (a server of Herald's own); a host's server is left running. @default true */
  closesHttpServer?: boolean;
  authenticate: Authenticator;
  feed: NotificationFeed;
  catchUp: CatchUp;
  /** The process's "Redis is back" routine (on `redis.userSubscriber`): the channels and the resync are steps of it. */
  recovery: RedisRecovery;
  topics: TopicService;
  logger: Logger;
  metrics: Metrics;
  names: HeraldNames;
  /** Allowed cross-origin browser origins; same-origin pages are always allowed. */
  corsOrigins: readonly string[];
  redis: {
    /** Normal-mode connection the adapter publishes with. */
    command: RedisClient;
    /** Subscriber connection for the adapter. */
    adapterSubscriber: RedisClient;
    /** Subscriber connection for user and topic channels. */
    userSubscriber: RedisClient;
  };
  /** @default 30 events at once, 10 per second, cut off after 50 refused in a row */
  rateLimit?: RateLimitPolicy;
  /** Bytes waiting to be written to one client before it counts as stalled and is dropped. @default 1000000 */
  maxBufferedBytes?: number;
  /** Names this instance in stats. */
  instanceId: string;
  /** @default "per-user" */
  routing?: Routing;
  /**
   * How often sockets are checked against their users' seq counters (see startSocketReconciler); 0: never
   * (only to measure what the check costs: without it a notification whose push was lost waits for
   * the client's next sync). @default 1000
   */
  stalenessCheckMs?: number;
  /** Per-address handshake and per-user event budgets (security/rate-limiters.ts); none without it. */
  takeFromBudget?: TakeFromBudget;
  /** Which proxies' X-Forwarded-For to believe for a handshake's client address. @default "loopback" */
  trustProxy?: string;
  /** Open sockets per user (over every instance) and per address (on this one); 0: no cap. @default 20, 2000 */
  maxSocketsPerUser?: number;
  maxSocketsPerAddress?: number;
}

export interface RealtimeServer {
  io: IoServer;
  userChannels: UserChannelSubscriber;
  topicChannels: TopicChannelSubscriber;
  clusterStats(): Promise<InstanceStats[]>;
  readonly draining: boolean;
  close(): Promise<void>;
}

/**
 * `socket.use(middleware)` for a socket's only middleware, in an array of exactly one: Socket.IO's own
 * `use` pushes onto an empty array, which V8 grows to room for 16 (about 130 bytes more on every idle
 * socket). Where Socket.IO no longer keeps its middlewares in an empty `fns` array, `use` it is.
 */
function useOnly(socket: IoSocket, middleware: Parameters<IoSocket['use']>[0]): void {
  const internal = socket as unknown as { fns?: unknown };
  if (Array.isArray(internal.fns) && internal.fns.length === 0) internal.fns = [middleware];
  else socket.use(middleware);
}

/** Builds the Socket.IO server from the pieces in this folder; the connection handler is a table of event -> handler. */
export function createIoServer(deps: IoServerDeps): RealtimeServer {
  const log = deps.logger.child({ module: 'realtime' });
  let draining = false;
  const io: IoServer = new Server(deps.httpServer, {
    adapter: createAdapter(deps.redis.command, deps.redis.adapterSubscriber, { key: deps.names.adapterKey, requestsTimeout: 2000 }),
    cors: { origin: [...deps.corsOrigins], credentials: false },
    allowRequest: allowRequest(deps.corsOrigins, () => draining),
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
    path: deps.path ?? '/socket.io',
  });
  const releaseRequest = upgradeRequestRelease(io);

  const positions = createDeliveryPositions();
  const delivery = createLocalDelivery({
    positions,
    io,
    metrics: deps.metrics,
    onMembership: (socket, topic, member) => (member ? void sessions.joinTopic(socket, topic) : sessions.leaveTopic(socket, topic)),
  });
  const channelDeps = { subscriber: deps.redis.userSubscriber, recovery: deps.recovery, logger: deps.logger, names: deps.names };
  const userChannels = createUserChannelSubscriber({ ...channelDeps, onMessage: delivery.toUser, routing: deps.routing ?? 'per-user' });
  const topicChannels = createTopicChannelSubscriber({ ...channelDeps, onMessage: delivery.toTopic });
  const sessions = createSocketSessions({
    userChannels,
    topicChannels,
    topicsOnConnect: createTopicsOnConnect({ redis: deps.redis.command, names: deps.names, topics: deps.topics }),
    logger: log,
    ...rateLimitOption(deps),
    onTopicsRestored: (userId, version) => reconciler.restored(userId, version),
  });
  const handlers = createSocketHandlers({
    ...deps,
    sessions,
    positions,
    logger: log,
    ...(deps.takeFromBudget ? { take: deps.takeFromBudget } : {}),
  });
  const rateLimit = rateLimitEvents({
    bucket: sessions.bucket,
    ...(deps.takeFromBudget ? { take: deps.takeFromBudget } : {}),
    metrics: deps.metrics,
    logger: log,
  });
  const stats = createInstanceStats({ io, instanceId: deps.instanceId, userChannels, topicChannels, metrics: deps.metrics, logger: log });
  const stopResync = resyncAfterRedisOutage({ io, recovery: deps.recovery, catchUp: deps.catchUp, positions, logger: log });
  const reconciler = startSocketReconciler({
    io,
    redis: deps.redis.command,
    names: deps.names,
    positions,
    topics: deps.topics,
    sessions,
    metrics: deps.metrics,
    logger: deps.logger,
    staleness: deps.stalenessCheckMs !== 0,
    ...(deps.stalenessCheckMs ? { intervalMs: deps.stalenessCheckMs } : {}),
  });
  const stopStalledCheck = watchStalledClients({ io, metrics: deps.metrics, logger: log, ...stalledOption(deps) });

  const address = socketAddress(deps.trustProxy ?? 'loopback');
  const caps = createConnectionCaps({
    io,
    redis: deps.redis.command,
    names: deps.names,
    maxPerUser: deps.maxSocketsPerUser ?? 20,
    maxPerAddress: deps.maxSocketsPerAddress ?? 2000,
    address,
    logger: log,
  });
  if (deps.takeFromBudget) io.use(limitHandshakes(deps.takeFromBudget, address));
  io.use(caps.checkAddress);
  io.use(handshakeAuth(deps.authenticate, log));
  // Client events and their handlers (each called with the socket as `this`). They are looked up here,
  // after the rate limit, instead of being registered on every socket: ten listeners more on each socket's
  // own table cost about 650 bytes a socket (measured on Node's EventEmitter).
  const clientEvents = new Map<string, (this: IoSocket, ...args: unknown[]) => void>([
    ['topic:subscribe', handlers.subscribe],
    ['topic:unsubscribe', handlers.unsubscribe],
    ['notifications:sync', handlers.sync],
    ['notifications:read', handlers.read],
    ['notifications:counts', handlers.counts],
    ['notifications:action', handlers.action],
    ['notifications:snooze', handlers.snooze],
    ['notifications:seen', handlers.seen],
    ['auth:refresh', handlers.refresh],
  ] as [string, (this: IoSocket, ...args: unknown[]) => void][]);
  const dispatch = (socket: IoSocket, [event, ...args]: unknown[]) => {
    const handler = typeof event === 'string' ? clientEvents.get(event) : undefined;
    // As Socket.IO does: an event that passed the middleware after its socket closed is dropped.
    if (handler && socket.connected) handler.apply(socket, args);
  };
  function onDisconnect(this: IoSocket) {
    caps.release(this);
    sessions.close.call(this);
  }

  io.on('connection', (socket) => {
    caps.admit(socket);
    releaseRequest(socket);
    sessions.open(socket);
    socket.on('disconnect', onDisconnect);
    useOnly(socket, (packet, next) => rateLimit(socket, packet, (error) => (error ? next(error) : dispatch(socket, packet))));
  });

  return {
    io,
    userChannels,
    topicChannels,
    clusterStats: stats.cluster,
    get draining() {
      return draining;
    },
    /**
     * Graceful stop: refuse new handshakes, then close every open transport.
     * Clients see a transport close (not a server disconnect), so they
     * reconnect by themselves, through the load balancer to another instance,
     * and catch up there with a sync. Every listener put on the Redis
     * connections is removed; the connections themselves belong to the caller.
     */
    async close() {
      draining = true;
      stopStalledCheck();
      sessions.stop();
      stopResync();
      reconciler.stop();
      const sockets = [...io.of('/').sockets.values()];
      log.info({ sockets: sockets.length }, 'draining: closing client connections');
      for (const socket of sockets) socket.conn.close();
      userChannels.close();
      topicChannels.close();
      if (deps.closesHttpServer ?? true) {
        await new Promise<void>((resolve) => {
          void io.close(() => resolve());
        });
      } else {
        // io.close() would close the host's HTTP server too: close only what is Socket.IO's.
        await io.of('/').adapter.close();
        io.engine.close();
      }
    },
  };
}

const rateLimitOption = (deps: IoServerDeps) => (deps.rateLimit ? { rateLimit: deps.rateLimit } : {});
const stalledOption = (deps: IoServerDeps) => (deps.maxBufferedBytes ? { maxBufferedBytes: deps.maxBufferedBytes } : {});
