import type { ErrorBody } from '@herald/shared';

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

/** JSON request to the demo API; errors become ApiError with the server's code and message. */
export async function request<T>(method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<T> {
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
