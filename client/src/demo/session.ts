import { requestJson } from '../notifications';

export interface Session {
  token: string;
  expiresAt: string;
  user: { id: string; name: string; username: string };
}

export function login(username: string): Promise<Session> {
  return requestJson<Session>('POST', '/api/auth/login', { body: { username } });
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
