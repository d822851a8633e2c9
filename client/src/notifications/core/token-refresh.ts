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
  /** Refresh this long before the token expires, and at most half its lifetime before. @default 60000 */
  leadMs?: number;
  /** Never refresh sooner than this after the last refresh (or connect). @default 1000 */
  minIntervalMs?: number;
  /** Wait this long before trying again after a failed refresh. @default 5000 */
  retryMs?: number;
  /** @default 10000 */
  ackTimeoutMs?: number;
}

/**
 * How long to wait before refreshing a token that expires at `expiresAt`, received at `receivedAt`: the
 * lead is at most half the token's lifetime (a 60-second token with the default 60-second lead would be
 * due at once, every time), and the wait is never shorter than `minIntervalMs`.
 *
 * @example
 * refreshDelay(now + 60_000, now, now); // 30000: half of a 60-second token's life
 */
export function refreshDelay(expiresAt: number, receivedAt: number, now: number, options: TokenRefreshOptions = {}): number {
  const lifetime = Math.max(0, expiresAt - receivedAt);
  const lead = Math.min(options.leadMs ?? 60_000, lifetime / 2);
  return Math.max(options.minIntervalMs ?? 1000, expiresAt - lead - now);
}

/**
 * Keeps a live socket's session alive with short-lived tokens (an identity
 * provider's 5-minute tokens): before the token expires it asks `getToken`
 * for a fresh one and sends it with `auth:refresh`, so the socket, its rooms
 * and its subscriptions stay. Pass the same `getToken` as the socket's `auth`
 * callback so reconnects use fresh tokens too. `getToken` should return a
 * cached token while it is fresh (your identity SDK's usual call does): a
 * token that expires no later than the one the socket holds is not sent, and
 * asked for again a little later. Returns the stop function.
 *
 * @example
 * const socket: FeedSocket = io(url, { auth: (cb) => void getToken().then((token) => cb({ token })) });
 * const stop = keepTokenFresh(socket, getToken);
 */
export function keepTokenFresh(socket: FeedSocket, getToken: () => Promise<string>, options: TokenRefreshOptions = {}): () => void {
  const retryMs = options.retryMs ?? 5_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const schedule = (expiresAt: number | null) => {
    clearTimeout(timer);
    if (stopped || expiresAt === null) return;
    timer = setTimeout(() => void refresh(expiresAt), refreshDelay(expiresAt, Date.now(), Date.now(), options));
    (timer as { unref?: () => void }).unref?.();
  };

  const retry = (current: number) => {
    // Try again shortly while the old token still holds; past it, the reconnect gets a fresh token anyway.
    if (Date.now() + retryMs >= current) return;
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(current), retryMs);
    (timer as { unref?: () => void }).unref?.();
  };

  async function refresh(current: number): Promise<void> {
    if (stopped || !socket.connected) return;
    try {
      const token = await getToken();
      const next = tokenExpiry(token);
      // The same (cached) token, or one that ends no later: nothing to gain from sending it.
      if (next !== null && next <= current) return retry(current);
      const answer = await socket.timeout(options.ackTimeoutMs ?? 10_000).emitWithAck('auth:refresh', { token });
      if (answer.error) throw new Error(answer.error.message);
      schedule(answer.data.expiresAt === null ? null : Date.parse(answer.data.expiresAt));
    } catch {
      retry(current);
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
