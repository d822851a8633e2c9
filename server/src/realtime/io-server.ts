import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server, type ExtendedError, type Socket } from 'socket.io';
import {
  DEFAULT_CHANNEL_PREFIX,
  readRequestSchema,
  syncRequestSchema,
  topicRequestSchema,
  topicRoom,
  userRoom,
  type UserChannelMessage,
  type ClientToServerEvents,
  type InstanceStats,
  type InterServerEvents,
  type ServerToClientEvents,
  type SocketData,
} from '@herald/shared';
import type { TokenService } from '../auth/jwt';
import { toErrorBody } from '../errors';
import type { Logger } from '../logger';
import type { NotificationFeed } from '../notifications/notification-feed';
import type { Metrics } from '../metrics';
import type { RedisClient } from '../redis-client';
import { defaultRateLimit, TokenBucket, type RateLimitPolicy } from './rate-limit';
import { createSessionExpiry } from './session-expiry';
import { acknowledged } from './socket-handler';
import { createTopicChannelSubscriber, type TopicChannelSubscriber } from './topic-channel-subscriber';
import { createUserChannelSubscriber, type Routing, type UserChannelSubscriber } from './user-channel-subscriber';
import type { TopicService } from '../topics/topic-service';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface IoServerDeps {
  httpServer: HttpServer;
  tokens: TokenService;
  feed: NotificationFeed;
  logger: Logger;
  /** Allowed cross-origin browser origins; same-origin pages are always allowed. */
  corsOrigins: readonly string[];
  redis: {
    /** Normal-mode connection the adapter publishes with. */
    command: RedisClient;
    /** Subscriber connection for the adapter. */
    adapterSubscriber: RedisClient;
    /** Subscriber connection for per-user notification channels. */
    userSubscriber: RedisClient;
  };
  /** @default "herald" */
  channelPrefix?: string;
  metrics: Metrics;
  topics: TopicService;
  /** @default 30 events at once, 10 per second, cut off after 50 refused in a row */
  rateLimit?: RateLimitPolicy;
  /** Bytes waiting to be written to one client before it counts as stalled and is dropped. @default 1000000 */
  maxBufferedBytes?: number;
  /** Names this instance in stats. */
  instanceId: string;
  /** @default "per-user" */
  routing?: Routing;
}

/**
 * Browsers send Origin on both polling and WebSocket requests, and CORS does
 * not protect WebSocket upgrades, so the origin is checked here for both.
 * Requests without Origin come from non-browser clients and are judged by
 * their token alone.
 */
function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.has(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export interface RealtimeServer {
  io: IoServer;
  userChannels: UserChannelSubscriber;
  topicChannels: TopicChannelSubscriber;
  clusterStats(): Promise<InstanceStats[]>;
  readonly draining: boolean;
  close(): Promise<void>;
}

export function createIoServer(deps: IoServerDeps): RealtimeServer {
  const log = deps.logger.child({ module: 'realtime' });
  const prefix = deps.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  const allowedOrigins = new Set(deps.corsOrigins);
  let draining = false;

  const io: IoServer = new Server(deps.httpServer, {
    adapter: createAdapter(deps.redis.command, deps.redis.adapterSubscriber, { key: `${prefix}#sio`, requestsTimeout: 2000 }),
    cors: { origin: [...allowedOrigins], credentials: false },
    allowRequest: (req, callback) => {
      if (draining) callback('server shutting down', false);
      else if (originAllowed(req, allowedOrigins)) callback(null, true);
      else callback('origin not allowed', false);
    },
    maxHttpBufferSize: 64 * 1024,
    serveClient: false,
  });

  // Exactly once per socket: each instance that holds sockets of the user is
  // subscribed once to the user's channel and emits to its *local* sockets only.
  function deliver(userId: string, message: UserChannelMessage): void {
    deps.metrics.channelMessages.inc({ kind: 'user' });
    const room = userRoom(userId);
    const local = io.local.to(room);
    const origin = 'originSocketId' in message ? message.originSocketId : undefined;
    const others = origin ? local.except(origin) : local;
    switch (message.kind) {
      case 'notification':
        others.emit('notification', message.notification);
        deps.metrics.delivered.inc(io.of('/').adapter.rooms.get(room)?.size ?? 0);
        if (message.publishedAt !== undefined) deps.metrics.deliveryLatency.observe(Math.max(0, Date.now() - message.publishedAt) / 1000);
        return;
      case 'updated':
        for (const notification of message.notifications) others.emit('notification:updated', notification);
        others.emit('counts', message.counts);
        return;
      case 'deleted':
        others.emit('notification:deleted', message.ids);
        others.emit('counts', message.counts);
        return;
      case 'counts':
        others.emit('counts', message.counts);
        return;
      case 'topic-membership':
        for (const socketId of io.of('/').adapter.rooms.get(room) ?? []) {
          const socket = io.of('/').sockets.get(socketId);
          if (!socket) continue;
          if (message.member) void joinTopic(socket, message.topic);
          else leaveTopic(socket, message.topic);
        }
        return;
    }
  }

  const userChannels = createUserChannelSubscriber({
    subscriber: deps.redis.userSubscriber,
    logger: deps.logger,
    channelPrefix: prefix,
    onMessage: deliver,
    ...(deps.routing ? { routing: deps.routing } : {}),
  });

  // Topics: a socket joins the topic's room and holds the topic channel while it is subscribed.
  const topicChannels = createTopicChannelSubscriber({
    subscriber: deps.redis.userSubscriber,
    logger: deps.logger,
    channelPrefix: prefix,
    onMessage: (topic, message) => {
      deps.metrics.channelMessages.inc({ kind: 'topic' });
      let target = io.local.to(topicRoom(topic));
      if (message.excludeUserId) target = target.except(userRoom(message.excludeUserId));
      if (message.excludeSocketId) target = target.except(message.excludeSocketId);
      const started = performance.now();
      target.emit('topic:message', { topic, event: message.event, data: message.data, sentAt: message.sentAt });
      deps.metrics.topicFanout.observe((performance.now() - started) / 1000);
    },
  });
  /**
   * What the gateway keeps per connection, beside Socket.IO's own socket. One
   * small object instead of closures per socket: the handlers below are shared
   * by every socket (Socket.IO calls them with the socket as `this`), which
   * keeps an idle connection cheap.
   */
  interface Connection {
    bucket: TokenBucket;
    /** Resolves once this instance is subscribed to the user's channel. */
    subscribed: Promise<void>;
    /** The second its session expires in (see the expiry clock). */
    expiresIn: number;
    /** Topics this socket is in; created on the first join. */
    topics?: Set<string>;
  }
  const connections = new WeakMap<IoSocket, Connection>();

  function joinTopic(socket: IoSocket, topic: string): Promise<void> {
    const state = connections.get(socket);
    if (!state || state.topics?.has(topic)) return Promise.resolve();
    (state.topics ??= new Set()).add(topic);
    void socket.join(topicRoom(topic));
    return topicChannels.acquire(topic);
  }

  function leaveTopic(socket: IoSocket, topic: string): void {
    if (!connections.get(socket)?.topics?.delete(topic)) return;
    void socket.leave(topicRoom(topic));
    topicChannels.release(topic);
  }

  const expiry = createSessionExpiry<IoSocket>((socket) => {
    log.debug({ userId: socket.data.userId }, 'token expired; closing socket');
    socket.disconnect(true);
  });

  io.use((socket, next) => {
    try {
      const identity = deps.tokens.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
      socket.data.userId = identity.userId;
      socket.data.name = identity.name;
      socket.data.expiresAt = identity.expiresAt;
      // Verified: the token need not stay in memory for the life of the connection.
      delete (socket.handshake.auth as { token?: unknown }).token;
      next();
    } catch (error) {
      const { body } = toErrorBody(error);
      const refusal: ExtendedError = Object.assign(new Error(body.message), { data: body });
      log.debug({ code: body.code }, 'handshake refused');
      next(refusal);
    }
  });

  // Pushes published while this instance's Redis subscription was down are lost; once it is back
  // (ioredis resubscribes by itself), every local client is asked to sync.
  let redisLost = false;
  const onRedisLost = () => {
    if (!redisLost) log.warn('redis subscription lost; clients will resync when it returns');
    redisLost = true;
  };
  const onRedisReady = () => {
    if (!redisLost) return;
    redisLost = false;
    log.info({ sockets: io.of('/').sockets.size }, 'redis subscription back; asking local clients to resync');
    io.local.emit('notifications:resync');
  };
  deps.redis.userSubscriber.on('close', onRedisLost);
  deps.redis.userSubscriber.on('ready', onRedisReady);

  // A client that stops reading makes the server buffer everything sent to it. Past a bound the
  // connection is dropped; the client catches up with a sync when it comes back.
  const stalledCheck = setInterval(() => {
    for (const socket of io.of('/').sockets.values()) {
      // engine.io keeps these private; read them defensively (a missing field reads as zero).
      const conn = socket.conn as unknown as {
        writeBuffer?: unknown[];
        transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
      };
      const buffered = conn.transport?.socket?.bufferedAmount ?? 0;
      const queued = conn.writeBuffer?.length ?? 0;
      if (buffered > (deps.maxBufferedBytes ?? 1_000_000) || queued > 1000) {
        log.warn({ userId: socket.data.userId, buffered, queued }, 'client stopped reading; dropping its connection');
        deps.metrics.stalledDropped.inc();
        // close() would wait for the buffer to drain, which a stalled client never lets happen:
        // discard it, and cut the TCP connection instead of waiting for a closing handshake.
        conn.transport?.socket?.terminate?.();
        socket.conn.close(true);
      }
    }
  }, 1000);
  stalledCheck.unref();

  const startedAt = Date.now();
  const localStats = (): InstanceStats => ({
    id: deps.instanceId,
    sockets: io.of('/').sockets.size,
    userChannels: userChannels.channelCount,
    topicChannels: topicChannels.channelCount,
    channelMessagesReceived: userChannels.messagesReceived + topicChannels.messagesReceived,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  });
  io.on('stats:request', (ack) => ack(localStats()));
  deps.metrics.beforeCollect.push(() => {
    deps.metrics.connectedSockets.set(io.of('/').sockets.size);
    deps.metrics.subscribedChannels.set({ kind: 'user' }, userChannels.channelCount);
    deps.metrics.subscribedChannels.set({ kind: 'topic' }, topicChannels.channelCount);
  });

  /** This instance's figures and every other instance's, through the adapter (instances that do not answer in time are left out). */
  function clusterStats(): Promise<InstanceStats[]> {
    return new Promise((resolve) => {
      // The adapter gives up after its requestsTimeout and passes on the answers that did arrive.
      io.serverSideEmit('stats:request', (error: Error | null, responses: InstanceStats[]) => {
        if (error) log.warn({ err: error }, 'some instances did not answer the stats request');
        resolve([localStats(), ...(responses ?? [])].sort((a, b) => a.id.localeCompare(b.id)));
      });
    });
  }

  // Every client event costs a token; a flood gets error acks, then the socket is closed with a reason.
  function rateLimit(socket: IoSocket, packet: unknown[], next: (error?: Error) => void): void {
    const bucket = connections.get(socket)?.bucket;
    if (!bucket || bucket.take()) return next();
    deps.metrics.rateLimited.inc();
    const ack = packet.at(-1);
    if (typeof ack === 'function')
      (ack as (r: unknown) => void)({ error: { code: 'rate_limited', message: 'Too many events; slow down.' } });
    if (bucket.exhausted) {
      log.warn({ userId: socket.data.userId }, 'socket kept flooding events; disconnecting it');
      socket.emit('server:error', { code: 'rate_limited', message: 'Too many events: this connection was closed.' });
      socket.disconnect(true);
    }
  }

  function onDisconnect(this: IoSocket): void {
    const state = connections.get(this);
    if (!state) return;
    connections.delete(this);
    expiry.remove(this, state.expiresIn);
    userChannels.release(this.data.userId);
    for (const topic of state.topics ?? []) topicChannels.release(topic);
  }

  const userOf = (socket: IoSocket) => ({ id: socket.data.userId, name: socket.data.name });

  const onTopicSubscribe = acknowledged(
    topicRequestSchema,
    async ({ topic }, socket: IoSocket) => {
      await deps.topics.subscribe(userOf(socket), topic);
      // This socket is in the room before the ack, so the caller misses nothing sent after it.
      await joinTopic(socket, topic);
      return { topic };
    },
    log,
    'topic:subscribe',
  );

  const onTopicUnsubscribe = acknowledged(
    topicRequestSchema,
    async ({ topic }, socket: IoSocket) => {
      leaveTopic(socket, topic);
      await deps.topics.unsubscribe(userOf(socket), topic);
      return { topic };
    },
    log,
    'topic:unsubscribe',
  );

  const onSync = acknowledged(
    syncRequestSchema,
    async ({ afterSeq }, socket: IoSocket) => {
      // Read only after the live subscription is in place, so nothing can fall between the two.
      await connections.get(socket)?.subscribed;
      deps.metrics.syncRequests.inc();
      return deps.feed.syncAfter(socket.data.userId, afterSeq);
    },
    log,
    'notifications:sync',
  );

  const onRead = acknowledged(
    readRequestSchema,
    ({ ids }, socket: IoSocket) => deps.feed.markRead(socket.data.userId, ids, socket.id),
    log,
    'notifications:read',
  );

  io.on('connection', (socket) => {
    const { userId, expiresAt } = socket.data;
    // Socket.IO's memory guide drops the reference to the upgrade request; nothing here reads it after the
    // handshake (auth and headers are copied into socket.handshake by now).
    (socket.conn as unknown as { request: unknown }).request = null;
    const subscribed = userChannels.acquire(userId);
    subscribed.catch(() => undefined);
    connections.set(socket, {
      bucket: new TokenBucket(deps.rateLimit ?? defaultRateLimit),
      subscribed,
      expiresIn: expiry.add(socket, expiresAt),
    });
    socket.use((packet, next) => rateLimit(socket, packet, next));
    socket.on('disconnect', onDisconnect);
    // The room is joined here, on the server, from the verified token; no client event can join a room.
    void socket.join(userRoom(userId));
    // Topics the user is a member of follow them onto every new socket.
    deps.topics
      .topicsOf(userId)
      .then((topics) => Promise.all(topics.map((topic) => joinTopic(socket, topic))))
      .catch((error: unknown) => log.warn({ err: error, userId }, 'could not restore topic subscriptions'));
    socket.on('topic:subscribe', onTopicSubscribe);
    socket.on('topic:unsubscribe', onTopicUnsubscribe);
    socket.on('notifications:sync', onSync);
    socket.on('notifications:read', onRead);
  });

  return {
    io,
    userChannels,
    topicChannels,
    clusterStats,
    get draining() {
      return draining;
    },
    /**
     * Graceful stop: refuse new handshakes, then close every open transport.
     * Clients see a transport close (not a server disconnect), so they
     * reconnect by themselves, through the load balancer to another instance,
     * and catch up there with a sync.
     */
    async close() {
      draining = true;
      clearInterval(stalledCheck);
      expiry.stop();
      deps.redis.userSubscriber.off('close', onRedisLost);
      deps.redis.userSubscriber.off('ready', onRedisReady);
      const sockets = [...io.of('/').sockets.values()];
      log.info({ sockets: sockets.length }, 'draining: closing client connections');
      for (const socket of sockets) socket.conn.close();
      userChannels.close();
      topicChannels.close();
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
      });
    },
  };
}
