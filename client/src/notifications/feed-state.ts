import type { Notification, NotificationCounts } from '@herald/shared';

/**
 * The feed as the client holds it. Pure functions, so the delivery rules
 * (dedupe by id, highest seq applied, gap detection) are tested without a
 * browser.
 */
export interface FeedState {
  /** Newest first (highest seq first). */
  items: Notification[];
  /** Highest seq applied; sync asks for everything after it. */
  lastSeq: number;
  unread: number;
  unseen: number;
}

export const emptyFeed: FeedState = { items: [], lastSeq: 0, unread: 0, unseen: 0 };

function merge(state: FeedState, incoming: Notification[]): { state: FeedState; added: Notification[] } {
  const known = new Set(state.items.map((n) => n.id));
  const added = incoming.filter((n) => {
    if (known.has(n.id)) return false;
    known.add(n.id);
    return true;
  });
  if (added.length === 0) return { state, added };
  const items = [...state.items, ...added].sort((a, b) => b.seq - a.seq);
  const lastSeq = Math.max(state.lastSeq, ...added.map((n) => n.seq));
  return { state: { ...state, items, lastSeq }, added };
}

/**
 * A live notification. Returns whether it reveals a gap (a seq was skipped,
 * so something was lost on the way) and the client should sync.
 */
export function applyLive(state: FeedState, notification: Notification): { state: FeedState; isNew: boolean; gap: boolean } {
  const gap = state.lastSeq > 0 && notification.seq > state.lastSeq + 1;
  const { state: next, added } = merge(state, [notification]);
  if (added.length === 0) return { state, isNew: false, gap: false };
  const unreadDelta = notification.readAt ? 0 : 1;
  const unseenDelta = notification.seenAt ? 0 : 1;
  return { state: { ...next, unread: next.unread + unreadDelta, unseen: next.unseen + unseenDelta }, isNew: true, gap };
}

/** A sync answer: missed notifications (any order, possibly already known) plus authoritative counts. */
export function applySync(state: FeedState, notifications: Notification[], counts: NotificationCounts): FeedState {
  const { state: next } = merge(state, notifications);
  return { ...next, unread: counts.unread, unseen: counts.unseen };
}
