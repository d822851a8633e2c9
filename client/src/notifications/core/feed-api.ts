import type { FeedPage, Notification, NotificationCounts } from '@herald/shared';
import { requestJson } from './http';

/**
 * The signed-in user's feed over HTTP (`baseUrl` defaults to this origin). `token` is the user's token,
 * or a function that returns a current one (asked before every call).
 *
 * @example
 * const api = createFeedApi(token);
 * const { items, nextCursor } = await api.page();
 */
export function createFeedApi(token: string | (() => Promise<string>), baseUrl = '') {
  const call = async <T>(method: string, path: string) =>
    requestJson<T>(method, path, { token: typeof token === 'string' ? token : await token(), baseUrl });
  return {
    page: (before?: string, limit = 20) =>
      call<FeedPage>('GET', `/api/notifications?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`),
    counts: () => call<NotificationCounts>('GET', '/api/notifications/counts'),
    readAll: () => call<{ counts: NotificationCounts }>('POST', '/api/notifications/read-all'),
    seen: () => call<{ counts: NotificationCounts }>('POST', '/api/notifications/seen'),
    archive: (id: string) =>
      call<{ notification: Notification; counts: NotificationCounts }>('POST', `/api/notifications/${encodeURIComponent(id)}/archive`),
  };
}

/**
 * The calls createFeedApi returns.
 *
 * @example
 * function Older({ api }: { api: FeedApi }) { … }
 */
export type FeedApi = ReturnType<typeof createFeedApi>;
