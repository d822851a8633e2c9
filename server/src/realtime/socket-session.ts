import { topicRoom, userRoom } from '@herald/shared';
import type { TopicChannelSubscriber } from '../channels/topic-channel-subscriber';
import type { UserChannelSubscriber } from '../channels/user-channel-subscriber';
import type { Logger } from '../platform/logger';
import type { TopicsOnConnect } from './topics-on-connect';
import type { IoSocket } from './io-types';
import { defaultRateLimit, TokenBucket, type RateLimitPolicy } from './rate-limit';
import { createSessionExpiry } from './session-expiry';

/**
 * What the gateway keeps per connection, beside Socket.IO's own socket. One
 * small object instead of closures per socket: the handlers are shared by
 * every socket (Socket.IO calls them with the socket as `this`), which keeps
 * an idle connection cheap.
 */
interface SessionState {
  bucket: TokenBucket;
  /** The second its session expires in (see the expiry clock); null: it does not expire. */
  expiresIn: number | null;
  /** Topics this socket is in; created on the first join. */
  topics?: Set<string>;
}

export interface SocketSessions {
  /** A verified socket connected: join its user's room, hold the user's channel, start its expiry, rejoin its topics. */
  open(socket: IoSocket): void;
  /** The socket's `disconnect` handler (called with the socket as `this`): releases everything it held. */
  close(this: IoSocket): void;
  /** Resolves once this instance is subscribed to the socket's user channel (subscribing again after a failure). */
  subscribed(socket: IoSocket): Promise<void>;
  joinTopic(socket: IoSocket, topic: string): Promise<void>;
  leaveTopic(socket: IoSocket, topic: string): void;
  /** The topics this socket is in. */
  topicsOf(socket: IoSocket): string[];
  bucket(socket: IoSocket): TokenBucket | undefined;
  /** The socket presented a fresh token: its session now ends at `expiresAt` (null: never). */
  renew(socket: IoSocket, expiresAt: number | null): void;
  /** Stops the expiry clock. */
  stop(): void;
}

/**
 * Socket sessions: rooms, channel holds, expiry and topics, taken when a
 * socket opens and released when it closes. Rooms are joined here, on the
 * server, from the verified token: no client event can join a user room.
 */
export function createSocketSessions(deps: {
  userChannels: UserChannelSubscriber;
  topicChannels: TopicChannelSubscriber;
  /** A new socket's topics, and the membership version they are current at (see createTopicsOnConnect). */
  topicsOnConnect: TopicsOnConnect;
  logger: Logger;
  rateLimit?: RateLimitPolicy;
  /** The socket joined its user's topics as they were after `version`. */
  onTopicsRestored?: (userId: string, version: string | null) => void;
}): SocketSessions {
  const sessions = new WeakMap<IoSocket, SessionState>();
  const expiry = createSessionExpiry<IoSocket>((socket) => {
    deps.logger.debug({ userId: socket.data.userId }, 'token expired; closing socket');
    socket.disconnect(true);
  });

  function joinTopic(socket: IoSocket, topic: string): Promise<void> {
    const state = sessions.get(socket);
    if (!state || state.topics?.has(topic)) return Promise.resolve();
    (state.topics ??= new Set()).add(topic);
    void socket.join(topicRoom(topic));
    return deps.topicChannels.acquire(topic);
  }

  function leaveTopic(socket: IoSocket, topic: string): void {
    if (!sessions.get(socket)?.topics?.delete(topic)) return;
    void socket.leave(topicRoom(topic));
    deps.topicChannels.release(topic);
  }

  return {
    open(socket) {
      const { userId, expiresAt } = socket.data;
      deps.userChannels.acquire(userId).catch(() => undefined);
      sessions.set(socket, {
        bucket: new TokenBucket(deps.rateLimit ?? defaultRateLimit),
        expiresIn: expiresAt === null ? null : expiry.add(socket, expiresAt),
      });
      void socket.join(userRoom(userId));
      // Topics the user is a member of follow them onto every new socket. The membership version is read
      // first, so a change landing after the topics were read is seen as a change.
      void (async () => {
        const { version, topics } = await deps.topicsOnConnect(userId);
        await Promise.all(topics.map((topic) => joinTopic(socket, topic)));
        deps.onTopicsRestored?.(userId, version);
      })().catch((error: unknown) => {
        // A socket gone meanwhile (it left, or the gateway is closing its connections and then its
        // clients) has nothing left to restore: not worth a warning.
        if (socket.disconnected) deps.logger.debug({ err: error, userId }, 'topic subscriptions not restored; the socket is gone');
        else deps.logger.warn({ err: error, userId }, 'could not restore topic subscriptions');
      });
    },

    close(this: IoSocket) {
      const state = sessions.get(this);
      if (!state) return;
      sessions.delete(this);
      if (state.expiresIn !== null) expiry.remove(this, state.expiresIn);
      deps.userChannels.release(this.data.userId);
      for (const topic of state.topics ?? []) deps.topicChannels.release(topic);
    },

    subscribed: (socket) => (sessions.has(socket) ? deps.userChannels.subscribed(socket.data.userId) : Promise.resolve()),
    joinTopic,
    leaveTopic,
    topicsOf: (socket) => [...(sessions.get(socket)?.topics ?? [])],
    bucket: (socket) => sessions.get(socket)?.bucket,
    renew(socket, expiresAt) {
      const state = sessions.get(socket);
      if (!state) return;
      if (state.expiresIn !== null) expiry.remove(socket, state.expiresIn);
      state.expiresIn = expiresAt === null ? null : expiry.add(socket, expiresAt);
      socket.data.expiresAt = expiresAt;
    },
    stop: () => expiry.stop(),
  };
}
