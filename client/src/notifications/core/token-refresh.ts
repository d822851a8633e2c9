import type { FeedSocket } from './feed-client.js';

/** When a JWT expires (ms since the epoch), read without verifying it; null for an opaque token or one without exp. */
export function tokenExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : null;
  } catch {
    return null;
  }
}

export interface TokenRefreshOptions {
  /** Refresh this long before the token expires. @default 60000 */
  leadMs?: number;
  /** Wait this long before trying again after a failed refresh. @default 5000 */
  retryMs?: number;
  /** @default 10000 */
  ackTimeoutMs?: number;
}

/**
 * Keeps a live socket's session alive with short-lived tokens (an identity
 * provider's 5-minute tokens): before the token expires it asks `getToken`
 * for a fresh one and sends it with `auth:refresh`, so the socket, its rooms
 * and its subscriptions stay. Pass the same `getToken` as the socket's `auth`
 * callback so reconnects use fresh tokens too. Returns the stop function.
 *
 * @example
 * const socket: FeedSocket = io(url, { auth: (cb) => void getToken().then((token) => cb({ token })) });
 * const stop = keepTokenFresh(socket, getToken);
 */
export function keepTokenFresh(socket: FeedSocket, getToken: () => Promise<string>, options: TokenRefreshOptions = {}): () => void {
  const leadMs = options.leadMs ?? 60_000;
  const retryMs = options.retryMs ?? 5_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const schedule = (expiresAt: number | null) => {
    clearTimeout(timer);
    if (stopped || expiresAt === null) return;
    timer = setTimeout(() => void refresh(expiresAt), Math.max(0, expiresAt - leadMs - Date.now()));
    (timer as { unref?: () => void }).unref?.();
  };

  async function refresh(current: number): Promise<void> {
    if (stopped || !socket.connected) return;
    try {
      const token = await getToken();
      const answer = await socket.timeout(options.ackTimeoutMs ?? 10_000).emitWithAck('auth:refresh', { token });
      if (answer.error) throw new Error(answer.error.message);
      schedule(answer.data.expiresAt === null ? null : Date.parse(answer.data.expiresAt));
    } catch {
      // Try again shortly while the old token still holds; past it, the reconnect gets a fresh token anyway.
      if (Date.now() + retryMs < current) {
        clearTimeout(timer);
        timer = setTimeout(() => void refresh(current), retryMs);
      }
    }
  }

  const onConnect = () => {
    void getToken()
      .then((token) => schedule(tokenExpiry(token)))
      .catch(() => undefined);
  };
  socket.on('connect', onConnect);
  if (socket.connected) onConnect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket.off('connect', onConnect);
  };
}
