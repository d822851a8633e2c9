import type { FeedCounts, FeedPage, Notification, Preferences, PreferencesUpdate } from '@herald/shared';
import { requestJson } from './http.js';

/**
 * Where Herald's API is.
 *
 * @example
 * const where: FeedApiLocation = { serverUrl: 'https://app.example.com', apiPath: '/herald' };
 */
export interface FeedApiLocation {
  /** The origin Herald answers on. @default this page's origin */
  serverUrl?: string;
  /** The API's path there: "/api" for a standalone gateway, the `prefix` of attachHerald when embedded. @default "/api" */
  apiPath?: string;
  /** The tenant (workspace) whose feed the calls are about; absent: the user's default feed. */
  tenant?: string;
}

/**
 * The signed-in user's feed over HTTP. `token` is the user's token, or a function that returns a current
 * one (asked before every call).
 *
 * @example
 * const api = createFeedApi(token, { apiPath: '/herald' });
 * const { items, nextCursor } = await api.page();
 */
export function createFeedApi(token: string | (() => Promise<string>), location: FeedApiLocation = {}) {
  const baseUrl = location.serverUrl ?? '';
  const base = `${location.apiPath ?? '/api'}/notifications`;
  const call = async <T>(method: string, path: string, body?: unknown) =>
    requestJson<T>(method, path, {
      token: typeof token === 'string' ? token : await token(),
      baseUrl,
      ...(location.tenant ? { tenant: location.tenant } : {}),
      ...(body === undefined ? {} : { body }),
    });
  const preferencesPath = `${location.apiPath ?? '/api'}/preferences`;
  return {
    page: (before?: string, limit = 20) =>
      call<FeedPage>('GET', `${base}?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`),
    counts: () => call<FeedCounts>('GET', `${base}/counts`),
    readAll: () => call<{ counts: FeedCounts }>('POST', `${base}/read-all`),
    seen: () => call<{ counts: FeedCounts }>('POST', `${base}/seen`),
    /** Unread and unseen per tenant the token grants (a workspace switcher's badges). */
    countsByTenant: () => call<{ counts: Record<string, { unread: number; unseen: number }> }>('GET', `${base}/counts/by-tenant`),
    archive: (id: string) => call<{ notification: Notification; counts: FeedCounts }>('POST', `${base}/${encodeURIComponent(id)}/archive`),
    preferences: () => call<Preferences>('GET', preferencesPath),
    /** Changes the settings named; the answer is all of them as stored. */
    savePreferences: (update: PreferencesUpdate) => call<Preferences>('PUT', preferencesPath, update),
  };
}

/**
 * The calls createFeedApi returns.
 *
 * @example
 * function Older({ api }: { api: FeedApi }) { … }
 */
export type FeedApi = ReturnType<typeof createFeedApi>;
