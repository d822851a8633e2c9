import { useCallback, useMemo, type RefObject } from 'react';
import type { NotificationFilter } from '@herald/shared';
import type { FeedApi } from '../core/feed-api.js';
import type { FeedClient } from '../core/feed-client.js';
import { applyAllRead, applyUpdated } from '../core/feed-state.js';
import type { TabSync } from '../core/tab-sync.js';

/**
 * What the user does to the feed: each change goes to the server (over the socket or HTTP), is applied
 * here with the counts it answered, and is posted to the user's other tabs.
 */
export function useFeedActions(api: FeedApi, clientRef: RefObject<FeedClient | null>, tabsRef: RefObject<TabSync | null>) {
  const markRead = useCallback(
    async (ids: string[]) => {
      const client = clientRef.current;
      if (!client) return;
      const updated = await client.markRead(ids);
      tabsRef.current?.post({ kind: 'updated', notifications: updated.notifications, counts: updated.counts });
    },
    [clientRef, tabsRef],
  );

  const markAllRead = useCallback(async () => {
    const { counts } = await api.readAll();
    const client = clientRef.current;
    if (!client) return;
    const at = new Date().toISOString();
    client.update(applyAllRead(client.state, at));
    client.applyPushedCounts(counts);
    tabsRef.current?.post({ kind: 'all-read', counts, at });
  }, [api, clientRef, tabsRef]);

  const markSeen = useCallback(async () => {
    const { counts } = await api.seen();
    clientRef.current?.applyPushedCounts(counts);
    tabsRef.current?.post({ kind: 'counts', counts });
  }, [api, clientRef, tabsRef]);

  const archive = useCallback(
    async (id: string) => {
      const { notification, counts } = await api.archive(id);
      const client = clientRef.current;
      if (!client) return;
      client.update(applyUpdated(client.state, notification));
      client.applyPushedCounts(counts);
      tabsRef.current?.post({ kind: 'updated', notifications: [notification], counts });
    },
    [api, clientRef, tabsRef],
  );

  const markItemsSeen = useCallback(
    async (ids: string[]) => {
      const client = clientRef.current;
      if (!client || ids.length === 0) return;
      const { notifications, counts } = await client.markSeen(ids);
      tabsRef.current?.post({ kind: 'updated', notifications, counts });
    },
    [clientRef, tabsRef],
  );

  const act = useCallback(
    async (id: string, actionId: string) => {
      const client = clientRef.current;
      if (!client) return;
      const { notification, counts } = await client.act(id, actionId);
      tabsRef.current?.post({ kind: 'updated', notifications: [notification], counts });
    },
    [clientRef, tabsRef],
  );

  const snooze = useCallback(
    async (id: string, until: Date) => {
      // Every tab and device (this one too) hears of it from the server as a removal, with counts.
      await clientRef.current?.snooze(id, until);
    },
    [clientRef],
  );

  const countsFor = useCallback(
    async (filters: Record<string, NotificationFilter>) => {
      const client = clientRef.current;
      if (!client) throw new Error('not connected');
      return client.countsFor(filters);
    },
    [clientRef],
  );

  return useMemo(
    () => ({ markRead, markAllRead, markSeen, markItemsSeen, archive, act, snooze, countsFor }),
    [markRead, markAllRead, markSeen, markItemsSeen, archive, act, snooze, countsFor],
  );
}
