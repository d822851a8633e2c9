import { z } from 'zod';
import type { AckCallback, ErrorBody } from './errors.js';
import type { ActionRequest, ReadRequest, SnoozeRequest } from './feed.js';
import type { CountsRequest } from './filters.js';
import type { TopicMessage } from './topics.js';
import type { FeedCounts, Notification, NotificationCounts } from './notification.js';

/** Most notifications one sync answer carries; the client asks again while `hasMore` is true. */
export const SYNC_PAGE_SIZE = 500;
/**
 * Most bytes of notifications (as JSON) one sync answer carries: a page stops before the notification
 * that would pass it (it always carries one), and `hasMore` says to ask again. 500 notifications at
 * their largest would be about 7 MB.
 */
export const SYNC_PAGE_BYTES = 256 * 1024;

export const syncRequestSchema = z.strictObject({
  afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export type SyncRequest = z.infer<typeof syncRequestSchema>;

/** `auth:refresh`: a fresh token for the same user, so a live socket outlives a short-lived token. */
export const authRefreshSchema = z.strictObject({ token: z.string().min(1).max(8192) });

export type AuthRefreshRequest = z.infer<typeof authRefreshSchema>;

export interface SyncResult {
  /** Everything after `afterSeq`, oldest first. */
  notifications: Notification[];
  /** True when more remain after the last one returned. */
  hasMore: boolean;
  /**
   * Every seq up to this one is settled: stored (and returned, if after `afterSeq`) or known never to
   * be. The client's watermark moves here, never further: a seq still being stored by another
   * publisher is not skipped, and the client asks again (the server reminds it) until it settles.
   * Absent from servers older than this field: then the highest seq returned.
   */
  settledSeq?: number;
  /** Counted at `settledSeq` (see FeedCounts): what this answer returns above it is not in them. */
  counts: FeedCounts;
}

export interface ServerToClientEvents {
  notification: (notification: Notification) => void;
  'notification:updated': (notification: Notification) => void;
  counts: (counts: FeedCounts) => void;
  /** Notifications deleted in another tab or device. */
  'notification:deleted': (ids: string[]) => void;
  /** A message on a topic the user is subscribed to. */
  'topic:message': (message: TopicMessage) => void;
  /** Live messages may have been lost (the gateway's Redis link was down): sync now. */
  'notifications:resync': () => void;
  /** Why the server is about to close this socket (e.g. `rate_limited`). */
  'server:error': (error: ErrorBody) => void;
}

export interface ReadResult {
  notifications: Notification[];
  counts: FeedCounts;
}

export interface ClientToServerEvents {
  'notifications:sync': (request: SyncRequest, ack: AckCallback<SyncResult>) => void;
  /** Marks the caller's own notifications read; ids of other users' notifications are ignored. */
  'notifications:read': (request: ReadRequest, ack: AckCallback<ReadResult>) => void;
  /** Marks the caller's own notifications seen (they were shown in the open panel); others' ids are ignored. */
  'notifications:seen': (request: ReadRequest, ack: AckCallback<ReadResult>) => void;
  /**
   * The user clicked an action button: recorded once (`interactedAt`, `actionId`; it is also read), sent
   * to their other tabs and devices and on the event bus (`notification.action`). A second click answers
   * the notification as it is.
   */
  'notifications:action': (request: ActionRequest, ack: AckCallback<{ notification: Notification; counts: FeedCounts }>) => void;
  /**
   * Hides the caller's notification on every device until `until` (at most a year ahead); then it is
   * published to them again, unread, as a new item at the top. Answers the counts without it.
   */
  'notifications:snooze': (request: SnoozeRequest, ack: AckCallback<{ counts: FeedCounts; until: string }>) => void;
  /** `{ unread, unseen }` per named filter (tabs with badges): at most 10 filters. */
  'notifications:counts': (request: CountsRequest, ack: AckCallback<{ counts: Record<string, NotificationCounts> }>) => void;
  /** Subscribes the user (all their sockets, and later ones) if the server's topic policy allows it. */
  'topic:subscribe': (request: { topic: string }, ack: AckCallback<{ topic: string }>) => void;
  'topic:unsubscribe': (request: { topic: string }, ack: AckCallback<{ topic: string }>) => void;
  /**
   * Replaces this socket's token with a fresh one for the same user (another user's is `forbidden`);
   * the socket, its rooms and subscriptions stay. Answers when the new token expires (ISO, or null).
   */
  'auth:refresh': (request: AuthRefreshRequest, ack: AckCallback<{ expiresAt: string | null }>) => void;
}

/** One gateway instance's figures, as gathered for GET /api/admin/stats. */
export interface InstanceStats {
  id: string;
  sockets: number;
  userChannels: number;
  topicChannels: number;
  channelMessagesReceived: number;
  uptimeSeconds: number;
}

/** Events between gateway instances through the Redis adapter. */
export interface InterServerEvents {
  /** Every other instance answers with its own figures. */
  'stats:request': (ack: (stats: InstanceStats) => void) => void;
}

/** What the server knows about an authenticated socket; set by the handshake middleware only. */
export interface SocketData {
  /** The socket's feed: the user id, or `<tenant>/<userId>` in a tenant (see feedKey). */
  userId: string;
  /** The tenant of the feed, when not the default one, and the person's own id then (budgets and caps are theirs). */
  tenant?: string;
  person?: string;
  name: string;
  /** When the session token expires (ms since the epoch; null: never); the server closes the socket then, unless refreshed. */
  expiresAt: number | null;
}
