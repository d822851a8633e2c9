import { z } from 'zod';
import type { AckCallback } from './errors';
import type { Notification, NotificationCounts } from './notification';

/** Most notifications one sync answer carries; the client asks again while `hasMore` is true. */
export const SYNC_PAGE_SIZE = 500;

export const syncRequestSchema = z.strictObject({
  afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export type SyncRequest = z.infer<typeof syncRequestSchema>;

export interface SyncResult {
  /** Everything after `afterSeq`, oldest first. */
  notifications: Notification[];
  /** True when more remain after the last one returned. */
  hasMore: boolean;
  counts: NotificationCounts;
}

export interface ServerToClientEvents {
  notification: (notification: Notification) => void;
  'notification:updated': (notification: Notification) => void;
  counts: (counts: NotificationCounts) => void;
}

export interface ClientToServerEvents {
  'notifications:sync': (request: SyncRequest, ack: AckCallback<SyncResult>) => void;
}

/** Events between gateway instances through the Redis adapter (none yet). */
export type InterServerEvents = Record<string, never>;

/** What the server knows about an authenticated socket; set by the handshake middleware only. */
export interface SocketData {
  userId: string;
  name: string;
}
