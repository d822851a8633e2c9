import type { ErrorBody, FeedPage, Notification, NotificationCounts } from '@herald/shared';

export interface Session {
  token: string;
  expiresAt: string;
  user: { id: string; name: string; username: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

async function request<T>(method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const json = (await res.json().catch(() => null)) as { error?: ErrorBody } | null;
  if (!res.ok) throw new ApiError(res.status, json?.error ?? { code: 'internal', message: `Request failed (${res.status})` });
  return json as T;
}

export function login(username: string): Promise<Session> {
  return request<Session>('POST', '/api/auth/login', { body: { username } });
}

/** The signed-in user's feed over HTTP. */
export function feedApi(token: string) {
  return {
    page: (before?: string, limit = 20) =>
      request<FeedPage>('GET', `/api/notifications?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`, { token }),
    counts: () => request<NotificationCounts>('GET', '/api/notifications/counts', { token }),
    readAll: () => request<{ counts: NotificationCounts }>('POST', '/api/notifications/read-all', { token }),
    seen: () => request<{ counts: NotificationCounts }>('POST', '/api/notifications/seen', { token }),
    archive: (id: string) =>
      request<{ notification: Notification; counts: NotificationCounts }>('POST', `/api/notifications/${encodeURIComponent(id)}/archive`, {
        token,
      }),
  };
}

export type FeedApi = ReturnType<typeof feedApi>;

const SESSION_KEY = 'herald.session';

/** Per tab (sessionStorage), so two windows can be two different demo users. */
export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const session = raw ? (JSON.parse(raw) as Session) : null;
    return session && Date.parse(session.expiresAt) > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
}
