import type { FeedCounts, Notification } from '@herald/shared';

/**
 * The feed as the client holds it. Pure functions, so the delivery rules
 * (dedupe by id, seq watermark, gap detection) are tested without a browser.
 *
 * @example
 * const [feed, setFeed] = useState<FeedState>(emptyFeed);
 */
export interface FeedState {
  /** Newest first (highest seq first). */
  items: Notification[];
  /**
   * The sync watermark: every seq up to here has been applied, or the server
   * said it is settled (stored and returned, or never to hold a notification).
   * Sync asks for what is after it. It never moves past a seq that is still
   * being stored, so a notification whose live message is lost is still fetched.
   */
  lastSeq: number;
  /** The server's last counts, at their position in the log (see FeedCounts). */
  counts: FeedCounts;
  /** What the badge shows: `counts`, plus what is held above its position. */
  unread: number;
  unseen: number;
}

/**
 * The state before anything is known: no items, watermark 0.
 *
 * @example
 * let state = emptyFeed;
 */
export const emptyFeed: FeedState = { items: [], lastSeq: 0, counts: { unread: 0, unseen: 0, atSeq: 0 }, unread: 0, unseen: 0 };

/** Moves the watermark over notifications already held: a seq that arrived ahead of its turn. */
function advance(lastSeq: number, items: Notification[]): number {
  const held = new Set(items.map((n) => n.seq));
  let seq = lastSeq;
  while (held.has(seq + 1)) seq++;
  return seq;
}

/**
 * Merges by id. A group is one item: its newest stays (the highest `group.count`: each new item of a
 * group counts one more, while seqs of publishers racing on it may land out of order), and older items
 * of the same group (replaced on the server by the newer one) leave. `added`: what is new and stays;
 * `replaced`: items held before that left.
 */
function merge(
  items: Notification[],
  incoming: Notification[],
): { items: Notification[]; added: Notification[]; replaced: Notification[] } {
  const known = new Set(items.map((n) => n.id));
  const fresh = incoming.filter((n) => {
    if (known.has(n.id)) return false;
    known.add(n.id);
    return true;
  });
  if (fresh.length === 0) return { items, added: fresh, replaced: [] };
  const all = [...items, ...fresh];
  const newest = new Map<string, number>();
  for (const n of all) if (n.group) newest.set(n.group.id, Math.max(newest.get(n.group.id) ?? 0, n.group.count));
  const stays = (n: Notification) => !n.group || n.group.count >= newest.get(n.group.id)!;
  return {
    items: all.filter(stays).sort((a, b) => b.seq - a.seq),
    added: fresh.filter(stays),
    replaced: items.filter((n) => !stays(n)),
  };
}

const isUnread = (n: Notification) => !n.readAt && !n.archivedAt;
const isUnseen = (n: Notification) => !n.seenAt && !n.archivedAt;

/**
 * The state with its badge figures worked out: the server's counts at their position, plus the held
 * notifications above it (the server had not counted those).
 */
function withCounts(state: Omit<FeedState, 'unread' | 'unseen'>): FeedState {
  let { unread, unseen } = state.counts;
  for (const n of state.items) {
    if (n.seq <= state.counts.atSeq) continue;
    if (isUnread(n)) unread++;
    if (isUnseen(n)) unseen++;
  }
  return { ...state, unread, unseen };
}

/** Counts without the held items that left (counted at their position while they were there). */
function without(counts: FeedCounts, gone: Notification[]): FeedCounts {
  const counted = gone.filter((n) => n.seq <= counts.atSeq);
  return {
    ...counts,
    unread: Math.max(0, counts.unread - counted.filter(isUnread).length),
    unseen: Math.max(0, counts.unseen - counted.filter(isUnseen).length),
  };
}

/**
 * A live notification. `gap` means a seq between the watermark and this one
 * never arrived (a live message was lost): the client should sync. The
 * watermark only moves over contiguous seqs, so that sync still asks for the
 * missing ones.
 *
 * @example
 * const { state: next, isNew, gap } = applyLive(state, notification);
 * if (gap) void client.sync();
 */
export function applyLive(state: FeedState, notification: Notification): { state: FeedState; isNew: boolean; gap: boolean } {
  const { items, added, replaced } = merge(state.items, [notification]);
  if (added.length === 0) return { state: items === state.items ? state : withCounts({ ...state, items }), isNew: false, gap: false };
  const contiguous = notification.seq === state.lastSeq + 1;
  const gap = notification.seq > state.lastSeq + 1;
  return {
    state: withCounts({
      // The watermark moves over held seqs: a replaced item's seq was held (and is a known gap now).
      lastSeq: contiguous ? advance(notification.seq, [...items, ...replaced]) : state.lastSeq,
      items,
      // A group's new item replaces its old one, so the group stays one unread item: counts taken before
      // the new one was stored counted the old one.
      counts: notification.seq > state.counts.atSeq ? without(state.counts, replaced) : state.counts,
    }),
    isNew: true,
    gap,
  };
}

/**
 * A sync page: everything stored after the watermark (oldest first, possibly
 * already known) plus authoritative counts. The watermark moves to the
 * server's `settledSeq` (every seq up to it is stored or known empty), then
 * over notifications already held; a seq another publisher is still storing
 * is not skipped. From a server without `settledSeq`, to the highest returned.
 *
 * @example
 * state = applySync(state, answer.notifications, answer.counts, answer.settledSeq);
 */
export function applySync(state: FeedState, notifications: Notification[], counts: FeedCounts, settledSeq?: number): FeedState {
  const { items } = merge(state.items, notifications);
  const settled = settledSeq ?? notifications.reduce((max, n) => Math.max(max, n.seq), state.lastSeq);
  return withCounts({ items, lastSeq: advance(Math.max(state.lastSeq, settled), items), counts });
}

/**
 * The first page of the feed (newest first): older history is paged, not synced, so the watermark starts at the newest.
 *
 * @example
 * state = applyFirstPage(state, page.items, counts);
 */
export function applyFirstPage(state: FeedState, page: Notification[], counts: FeedCounts): FeedState {
  const { items } = merge(state.items, page);
  const newest = page.reduce((max, n) => Math.max(max, n.seq), 0);
  return withCounts({ items, lastSeq: Math.max(state.lastSeq, newest), counts });
}

/**
 * An older page from infinite scroll; the watermark is untouched.
 *
 * @example
 * state = applyOlderPage(state, (await api.page(cursor)).items);
 */
export function applyOlderPage(state: FeedState, page: Notification[]): FeedState {
  return withCounts({ ...state, items: merge(state.items, page).items });
}

/**
 * Another tab or device changed a notification (read, unread, archived); archived ones leave the feed.
 *
 * @example
 * socket.on('notification:updated', (n) => (state = applyUpdated(state, n)));
 */
export function applyUpdated(state: FeedState, updated: Notification): FeedState {
  if (!state.items.some((n) => n.id === updated.id)) return state;
  const items = updated.archivedAt
    ? state.items.filter((n) => n.id !== updated.id)
    : state.items.map((n) => (n.id === updated.id ? updated : n));
  return withCounts({ ...state, items });
}

/**
 * Notifications deleted here or on another device leave the feed.
 *
 * @example
 * socket.on('notification:deleted', (ids) => (state = applyDeleted(state, ids)));
 */
export function applyDeleted(state: FeedState, ids: string[]): FeedState {
  const gone = new Set(ids);
  return withCounts({ ...state, items: state.items.filter((n) => !gone.has(n.id)) });
}

/**
 * The feed without the notifications whose `expiresAt` has passed (the server removes them moments
 * later and says so, with counts; until then they are hidden).
 *
 * @example
 * const shown = withoutExpired(state, Date.now());
 */
export function withoutExpired(state: FeedState, now: number): FeedState {
  if (!state.items.some((n) => n.expiresAt && Date.parse(n.expiresAt) <= now)) return state;
  return withCounts({ ...state, items: state.items.filter((n) => !n.expiresAt || Date.parse(n.expiresAt) > now) });
}

/** When the next of these notifications expires (ms since the epoch), or undefined. */
export function nextExpiry(items: Notification[], now: number): number | undefined {
  let next: number | undefined;
  for (const n of items) {
    const at = n.expiresAt ? Date.parse(n.expiresAt) : NaN;
    if (at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}

/**
 * The server's counts replace the last ones; what is held above their position is added to them.
 *
 * @example
 * socket.on('counts', (counts) => (state = applyCounts(state, counts)));
 */
export function applyCounts(state: FeedState, counts: FeedCounts): FeedState {
  return withCounts({ ...state, counts });
}

/**
 * Every notification in the feed read at `at` (and so seen), e.g. after "mark all read" here or in another tab.
 *
 * @example
 * state = applyCounts(applyAllRead(state, new Date().toISOString()), (await api.readAll()).counts);
 */
export function applyAllRead(state: FeedState, at: string): FeedState {
  return withCounts({ ...state, items: state.items.map((n) => (n.readAt ? n : { ...n, readAt: at, seenAt: n.seenAt ?? at })) });
}
