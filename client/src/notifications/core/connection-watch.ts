import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '@herald/shared';
import { errorTraits, type ErrorBody } from '@herald/shared/errors';

/**
 * Where the connection stands, for the UI. `closed`: the server closed this connection for good (too
 * many of the user's tabs and devices are connected, and this is the oldest); it does not reconnect by
 * itself.
 *
 * @example
 * new FeedClient(socket, { onConnection: (state: ConnectionState) => setBanner(state) });
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signed-out' | 'closed';

/** Longest wait between retries (a busy server refuses or times out; a retry must not add to the pile). */
export const MAX_RETRY_DELAY_MS = 30_000;

/** 1 s doubling up to MAX_RETRY_DELAY_MS, with jitter, after `failures` failures in a row. */
export function backoff(failures: number): number {
  return Math.min(1000 * 2 ** Math.min(failures, 10), MAX_RETRY_DELAY_MS) * (0.5 + Math.random() / 2);
}

/** The wait an error asks for (`details.retryAfterSeconds` of a `rate_limited`), else 0. */
export function retryAfterMs(body: ErrorBody | undefined): number {
  const seconds = (body?.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? Math.min(seconds, 3600) * 1000 : 0;
}

export interface ConnectionHooks {
  onState?: (state: ConnectionState) => void;
  /** Connected (again): time to catch up. */
  onConnect: () => void;
  onSignedOut?: (reason: ErrorBody) => void;
  onClosed?: (reason: ErrorBody) => void;
  /** A refused token is tried once more with a fresh one (the socket's `auth` is a function). */
  retryRefusedToken?: boolean;
}

/**
 * The socket's life as the UI shows it: connected, reconnecting (after a drop, or a handshake refused
 * for now, retried after what the server asked or with backoff), offline (the browser says so),
 * signed out (the token is refused for good) or closed (the server closed it for good).
 */
export class ConnectionWatch {
  state: ConnectionState = 'connecting';
  closed = false;
  /** The next handshake after the server refused one for now, and how many were refused in a row. */
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeFailures = 0;
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly hooks: ConnectionHooks;

  constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>, hooks: ConnectionHooks) {
    this.socket = socket;
    this.hooks = hooks;
    let retriedToken = false;
    socket.on('connect', () => {
      retriedToken = false;
      this.handshakeFailures = 0;
      this.set('connected');
      hooks.onConnect();
    });
    socket.on('server:error', (error) => {
      if (error.code !== 'too_many_connections') return;
      // Closed for good: reconnecting would close the next-oldest tab, and so on around.
      this.closed = true;
      this.set('closed');
      hooks.onClosed?.(error);
    });
    socket.on('disconnect', (reason) => {
      if (this.closed) {
        this.set('closed');
        return;
      }
      this.set('reconnecting');
      // The server closed us (e.g. the token expired): one reconnect tells us why, through connect_error.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.io.on('reconnect_attempt', () => this.set('reconnecting'));
    socket.on('connect_error', (error: Error & { data?: ErrorBody }) => {
      const signsOut = error.data !== undefined && errorTraits(error.data.code).signsOut;
      if (signsOut && hooks.retryRefusedToken && !retriedToken) {
        // The token may just have expired: the next attempt asks for a fresh one.
        retriedToken = true;
        this.set('reconnecting');
        socket.connect();
      } else if (signsOut) {
        this.set('signed-out');
        socket.close();
        hooks.onSignedOut?.(error.data!);
      } else if (error.data) {
        // Refused for now (rate_limited, service_unavailable…): Socket.IO does not retry a handshake the
        // server refused, so try again after what the server said, or with backoff.
        this.set('reconnecting');
        this.scheduleReconnect(retryAfterMs(error.data));
      } else {
        this.set('reconnecting');
      }
    });
  }

  /** The socket was connected before the watch began. */
  connectedAlready(): void {
    this.set('connected');
    this.hooks.onConnect();
  }

  /**
   * The browser says the network is gone or back. Back online, reconnect now instead of waiting out
   * the backoff timer (which may be seconds away).
   */
  setNetwork(online: boolean): void {
    if (this.state === 'signed-out') return;
    if (!online) {
      this.set('offline');
      return;
    }
    if (this.socket.connected) this.set('connected');
    else {
      this.set('reconnecting');
      this.socket.connect();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
  }

  private scheduleReconnect(atLeastMs: number): void {
    clearTimeout(this.reconnectTimer);
    const delay = Math.max(atLeastMs, backoff(this.handshakeFailures++));
    const timer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delay);
    (timer as { unref?: () => void }).unref?.();
    this.reconnectTimer = timer;
  }

  private set(state: ConnectionState): void {
    // While the browser is offline, failed attempts keep showing "offline", not "reconnecting".
    if (this.state === 'offline' && state === 'reconnecting') return;
    this.state = state;
    this.hooks.onState?.(state);
  }
}
