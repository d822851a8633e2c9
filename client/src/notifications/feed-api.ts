import type { ErrorBody, FeedPage, Notification, NotificationCounts } from '@herald/shared';

export class FeedApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

/** The signed-in user's feed over HTTP (`baseUrl` defaults to this origin). */
export function createFeedApi(token: string, baseUrl = '') {
  async function call<T>(method: string, path: string): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });
    const json = (await res.json().catch(() => null)) as { error?: ErrorBody } | null;
    if (!res.ok) throw new FeedApiError(res.status, json?.error ?? { code: 'internal', message: `Request failed (${res.status})` });
    return json as T;
  }
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

export type FeedApi = ReturnType<typeof createFeedApi>;
