import type { Notification, FeedCounts } from '@herald/shared';

/**
 * What one tab tells the user's other tabs after a change it made.
 *
 * @example
 * tabs.post({ kind: 'counts', counts });
 */
export type TabMessage =
  | { kind: 'updated'; notifications: Notification[]; counts: FeedCounts }
  | { kind: 'counts'; counts: FeedCounts }
  | { kind: 'all-read'; counts: FeedCounts; at: string };

/**
 * Tabs of one browser tell each other what they just changed, so the others
 * update at once without asking the server. The server's own events still
 * arrive; applying both is harmless because updates are idempotent.
 *
 * @example
 * const tabs = openTabSync(user.id, (message) => apply(message));
 * tabs.post({ kind: 'counts', counts });
 * tabs.close();
 */
export interface TabSync {
  post(message: TabMessage): void;
  close(): void;
}

/**
 * Opens the BroadcastChannel of one user's tabs (a no-op where the browser has none).
 *
 * @example
 * const tabs = openTabSync(user.id, (message) => apply(message));
 */
export function openTabSync(userId: string, onMessage: (message: TabMessage) => void): TabSync {
  if (typeof BroadcastChannel === 'undefined') return { post: () => undefined, close: () => undefined };
  const channel = new BroadcastChannel(`herald:${userId}`);
  channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
  return {
    post: (message) => channel.postMessage(message),
    close: () => channel.close(),
  };
}
