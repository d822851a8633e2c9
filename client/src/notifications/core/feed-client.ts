import type { Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  FeedCounts,
  Notification,
  NotificationCounts,
  NotificationFilter,
  ServerToClientEvents,
} from '@herald/shared';
import type { ErrorBody } from '@herald/shared/errors';
import { backoff, ConnectionWatch, retryAfterMs, type ConnectionState } from './connection-watch.js';
export type { ConnectionState } from './connection-watch.js';
import { applyCounts, applyDeleted, applyFirstPage, applyLive, applySync, applyUpdated, emptyFeed, type FeedState } from './feed-state.js';

/**
 * A socket.io-client socket typed with Herald's event maps.
 *
 * @example
 * const socket: FeedSocket = io(url, { auth: { token } });
 */
export type FeedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/**
 * Callbacks and timeouts of a FeedClient.
 *
 * @example
 * const options: FeedClientOptions = { onLive: (n) => toast(n.title) };
 */
export interface FeedClientOptions {
  /** Loads the newest page once, before the first sync; without it the first sync starts from seq 0. */
  loadFirstPage?: () => Promise<{ items: Notification[]; counts: FeedCounts }>;
  onChange?: (state: FeedState) => void;
  onConnection?: (state: ConnectionState) => void;
  /** A notification that arrived live and was new (for toasts). */
  onLive?: (notification: Notification) => void;
  onSignedOut?: (reason: ErrorBody) => void;
  /** The server closed this connection for good (`too_many_connections`): say so, offer a reload. */
  onClosed?: (reason: ErrorBody) => void;
  /**
   * The socket fetches a fresh token on each connect (`auth` is a function): a refused token is then
   * tried once more with a new one before the client signs out. @default false
   */
  retryRefusedToken?: boolean;
  /** @default 10000 */
  ackTimeoutMs?: number;
}

/** Passes of one sync (each asked again because a gap or a local change came up meanwhile). */
const MAX_SYNC_PASSES = 5;
/** Pages of catch-up fetched in one go; each page holds up to 500. */
const MAX_SYNC_PAGES = 20;
/**
 * The client half of the delivery model, independent of React: catches up
 * with `notifications:sync` on every (re)connect and whenever a live seq
 * reveals a gap, de-duplicates by id, and applies updates from other tabs and
 * devices. The socket is created (and closed) by the caller.
 *
 * @example
 * const socket: FeedSocket = io(url, { auth: { token } });
 * const client = new FeedClient(socket, { onChange: render, onSignedOut: signOut });
 */
export class FeedClient {
  state: FeedState = emptyFeed;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private syncingOn: string | undefined;
  private syncToken: object | null = null;
  private epoch = 0;
  private syncFailures = 0;
  private firstPageLoaded = false;
  /** The retry of a failed sync, while one is waiting. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly watch: ConnectionWatch;
  /** The first catch-up is done: later syncs bring what arrived meanwhile. */
  private caughtUp = false;
  private readonly ackTimeoutMs: number;
  readonly socket: FeedSocket;
  private readonly options: FeedClientOptions;

  constructor(socket: FeedSocket, options: FeedClientOptions = {}) {
    this.socket = socket;
    this.options = options;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.watch = new ConnectionWatch(socket, {
      onConnect: () => {
        this.syncFailures = 0;
        void this.catchUp();
      },
      ...(options.onConnection ? { onState: options.onConnection } : {}),
      ...(options.onSignedOut ? { onSignedOut: options.onSignedOut } : {}),
      ...(options.onClosed ? { onClosed: options.onClosed } : {}),
      ...(options.retryRefusedToken ? { retryRefusedToken: true } : {}),
    });
    socket.on('notification', (notification) => {
      const { state, isNew, gap } = applyLive(this.state, notification);
      if (!isNew) return;
      this.update(state);
      this.options.onLive?.(notification);
      // Before the first page is in, the watermark is not set yet; the catch-up after it covers any gap.
      const ready = this.firstPageLoaded || !this.options.loadFirstPage;
      if (gap && ready) void this.sync();
    });
    socket.on('notification:updated', (notification) => this.update(applyUpdated(this.state, notification)));
    socket.on('notification:deleted', (ids) => this.update(applyDeleted(this.state, ids)));
    socket.on('counts', (counts) => this.applyPushedCounts(counts));
    // A hint while a failed sync waits for its retry changes nothing: the retry syncs, and syncing now
    // would undo the backoff (hints repeat every few seconds while the client is behind).
    socket.on('notifications:resync', () => {
      if (!this.retryTimer) void this.sync();
    });
    if (socket.connected) this.watch.connectedAlready();
  }

  /** Where the connection stands (see ConnectionState). */
  get connection(): ConnectionState {
    return this.watch.state;
  }

  /**
   * Everything after the watermark, page by page. A call while a sync runs
   * asks for one more pass afterwards (the running one may have read the
   * database before the gap it was called for). A sync that fails or times out
   * is retried with backoff while connected, so a missed message is never
   * left behind.
   */
  sync(): Promise<void> {
    // A sync still waiting on a connection that has since died is not waited for.
    if (this.syncing && this.syncingOn === this.socket.id) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncingOn = this.socket.id;
    const token = {};
    this.syncToken = token;
    this.syncing = (async () => {
      try {
        for (let pass = 0; pass === 0 || (this.syncAgain && this.socket.connected && pass < MAX_SYNC_PASSES); pass++) {
          this.syncAgain = false;
          await this.syncOnce();
        }
        this.syncFailures = 0;
        // Caught up: a retry still waiting from an earlier failure is not needed, and must not mute hints.
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      } catch (error) {
        if (this.syncToken === token) this.scheduleRetry(retryAfterMs((error as { body?: ErrorBody }).body));
      } finally {
        if (this.syncToken === token) this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    // Pages follow a cursor (the last seq read); the watermark follows settledSeq, which only the page
    // asked from the watermark itself can move (a later page knows nothing of holes before it).
    let cursor = this.state.lastSeq;
    for (let page = 0; page < MAX_SYNC_PAGES; page++) {
      const epoch = this.epoch;
      const response = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('notifications:sync', { afterSeq: cursor });
      if (!response.data) throw Object.assign(new Error(response.error.message), { body: response.error });
      const { notifications, hasMore } = response.data;
      const settled = cursor === this.state.lastSeq ? response.data.settledSeq : this.state.lastSeq;
      for (const n of notifications) cursor = Math.max(cursor, n.seq);
      const known = new Set(this.state.items.map((n) => n.id));
      if (epoch === this.epoch) {
        // Counted at the settled position: what arrived live meanwhile is in them up to there, and
        // added above it (see FeedCounts).
        this.update(applySync(this.state, notifications, response.data.counts, settled));
      } else {
        // A local action (a read, say) happened while this was in flight: its counts may be older than
        // that action's, so keep the notifications, not the counts, and ask once more.
        this.update(applySync(this.state, notifications, this.state.counts, settled));
        this.syncAgain = true;
      }
      // After the first catch-up, what a sync brings arrived while the user was here (its live message
      // was lost or overtaken): it is announced like a live one (a toast), once.
      if (this.caughtUp) for (const n of notifications) if (!known.has(n.id)) this.options.onLive?.(n);
      if (!hasMore) {
        this.caughtUp = true;
        return;
      }
    }
  }

  /** Marks that the user changed something, so counts from requests sent earlier are not trusted. */
  noteLocalChange(): void {
    this.epoch++;
  }

  /** Stops retrying and closes the socket; the client is done. */
  close(): void {
    this.watch.close();
    clearTimeout(this.retryTimer);
    this.socket.close();
  }

  private scheduleRetry(atLeastMs = 0): void {
    // While connected a failed sync is retried for as long as it takes: giving up would leave a missed
    // notification behind until some later gap or reconnect. Disconnected, the next connect syncs anyway.
    if (!this.socket.connected || this.watch.closed) return;
    const delay = Math.max(atLeastMs, backoff(this.syncFailures));
    this.syncFailures++;
    const timer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.sync();
    }, delay);
    (timer as { unref?: () => void }).unref?.();
    this.retryTimer = timer;
  }

  /** Marks the caller's notifications read; other devices hear of it from the server. Returns what changed. */
  async markRead(ids: string[], options: { applyCounts?: boolean } = {}): Promise<{ notifications: Notification[]; counts: FeedCounts }> {
    if (ids.length === 0) return { notifications: [], counts: this.state.counts };
    this.noteLocalChange();
    const response = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('notifications:read', { ids });
    if (response.error) throw new Error(response.error.message);
    let next = this.state;
    for (const notification of response.data.notifications) next = applyUpdated(next, notification);
    this.update(next);
    if (options.applyCounts !== false) this.applyPushedCounts(response.data.counts);
    return response.data;
  }

  /** Marks the caller's notifications seen (shown in the open panel); other devices hear of it from the server. */
  async markSeen(ids: string[]): Promise<{ notifications: Notification[]; counts: FeedCounts }> {
    this.noteLocalChange();
    const response = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('notifications:seen', { ids });
    if (!response.data) throw Object.assign(new Error(response.error.message), { body: response.error });
    let next = this.state;
    for (const notification of response.data.notifications) next = applyUpdated(next, notification);
    this.update(next);
    this.applyPushedCounts(response.data.counts);
    return response.data;
  }

  /**
   * Hides the notification on every device until `until`; it comes back then, unread, as a new item.
   * Rejects (`validation_failed`) for a time that is past or more than a year ahead.
   */
  async snooze(id: string, until: Date | string): Promise<{ counts: FeedCounts; until: string }> {
    this.noteLocalChange();
    const at = typeof until === 'string' ? until : until.toISOString();
    const response = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('notifications:snooze', { id, until: at });
    if (!response.data) throw Object.assign(new Error(response.error.message), { body: response.error });
    this.update(applyDeleted(this.state, [id]));
    this.applyPushedCounts(response.data.counts);
    return response.data;
  }

  /** Records a click on one of the notification's actions (once; it is read too). Returns the notification as stored. */
  async act(id: string, actionId: string): Promise<{ notification: Notification; counts: FeedCounts }> {
    this.noteLocalChange();
    const response = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('notifications:action', { id, actionId });
    if (!response.data) throw Object.assign(new Error(response.error.message), { body: response.error });
    this.update(applyUpdated(this.state, response.data.notification));
    this.applyPushedCounts(response.data.counts);
    return response.data;
  }

  /**
   * Counts that came outside a sync (another device's read, an action's answer), taken at the newest
   * seq handed out. Past this client's watermark, a seq up to their position may still have been being
   * stored when they were taken, and not be in them: a sync's counts, taken at a settled position, say.
   */
  applyPushedCounts(counts: FeedCounts): void {
    this.update(applyCounts(this.state, counts));
    if (counts.atSeq > this.state.lastSeq && this.socket.connected && !this.retryTimer) void this.sync();
  }

  /** `{ unread, unseen }` per named filter, from the server (tabs with badges). */
  async countsFor(filters: Record<string, NotificationFilter>): Promise<Record<string, NotificationCounts>> {
    const response = await this.socket.timeout(this.ackTimeoutMs).emitWithAck('notifications:counts', { filters });
    if (!response.data) throw Object.assign(new Error(response.error.message), { body: response.error });
    return response.data.counts;
  }

  /** Replaces the state, e.g. after an HTTP action whose answer the caller applied. */
  update(state: FeedState): void {
    this.state = state;
    this.options.onChange?.(state);
  }

  private async catchUp(): Promise<void> {
    if (!this.firstPageLoaded && this.options.loadFirstPage) {
      try {
        const { items, counts } = await this.options.loadFirstPage();
        this.update(applyFirstPage(this.state, items, counts));
        this.firstPageLoaded = true;
      } catch {
        // Fall through to sync; the next connect tries the first page again.
      }
    }
    await this.sync();
  }

  /** The browser says the network is gone or back (see ConnectionWatch.setNetwork). */
  setNetwork(online: boolean): void {
    this.watch.setNetwork(online);
  }
}
