import { useContext, useEffect, useRef, useState } from 'react';
import type { NotificationCounts, NotificationFilter, TopicMessage } from '@herald/shared';
import { NotificationContext, type NotificationContextValue } from './context.js';

function useNotificationContext(): NotificationContextValue {
  const value = useContext(NotificationContext);
  if (!value) throw new Error('Herald hooks must be used inside <NotificationProvider>.');
  return value;
}

/**
 * The feed (newest first) and the actions on it (`act(id, actionId)` records a click on an action button,
 * `markItemsSeen(ids)` marks the ones shown as seen).
 *
 * @example
 * const { items, markRead, loadOlder } = useNotifications();
 */
export function useNotifications() {
  // Everything but the topic listener and the filter counts (their own hooks), with the items out of the feed.
  const {
    feed,
    connection: _connection,
    onTopicMessage: _onTopicMessage,
    countsFor: _countsFor,
    preferences: _preferences,
    savePreferences: _savePreferences,
    ...actions
  } = useNotificationContext();
  return { items: feed.items, ...actions };
}

/**
 * The user's notification settings: muted types, categories per channel, quiet hours, and which
 * categories are critical (cannot be turned off). `preferences` is null until loaded.
 *
 * @example
 * const { preferences, save } = useNotificationPreferences();
 * await save({ categories: { social: { inApp: false } } });
 */
export function useNotificationPreferences() {
  const { preferences, savePreferences } = useNotificationContext();
  return { preferences, save: savePreferences };
}

/**
 * `{ unread, unseen }`, live.
 *
 * @example
 * const { unread } = useUnreadCount();
 * document.title = unread > 0 ? `(${unread}) My app` : 'My app';
 */
export function useUnreadCount() {
  const { feed } = useNotificationContext();
  return { unread: feed.unread, unseen: feed.unseen };
}

/**
 * `{ unread, unseen }` per named filter (tabs with badges), asked of the server and asked again
 * whenever the feed changes (a new notification, a read, another tab's change), so they stay live.
 * Undefined until the first answer; the last answer stays while offline.
 *
 * @example
 * const counts = useFilterCounts({ social: { category: 'social' }, mentions: { tags: ['mention'] } });
 * const socialUnread = counts?.social?.unread ?? 0;
 */
export function useFilterCounts(filters: Record<string, NotificationFilter> | undefined): Record<string, NotificationCounts> | undefined {
  const { countsFor, feed, connection } = useNotificationContext();
  const [counts, setCounts] = useState<Record<string, NotificationCounts>>();
  // The filters by value: a host passing a new object literal on every render asks nothing more.
  const key = filters ? JSON.stringify(filters) : '';
  useEffect(() => {
    if (!key || connection !== 'connected') return;
    let current = true;
    // A burst of changes (a sync page, mark all read) asks once.
    const timer = setTimeout(() => {
      countsFor(JSON.parse(key) as Record<string, NotificationFilter>)
        .then((answer) => current && setCounts(answer))
        .catch(() => undefined);
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key, countsFor, connection, feed.unread, feed.unseen, feed.items]);
  return counts;
}

/**
 * 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signed-out'.
 *
 * @example
 * const connection = useConnectionState();
 * if (connection === 'offline') return <Banner>Offline</Banner>;
 */
export function useConnectionState() {
  return useNotificationContext().connection;
}

/**
 * Calls `handler` for each message on the topics the user follows, optionally
 * only for one topic or one event. The handler may change between renders.
 *
 * @example
 * useTopicMessages({ event: 'comment.created' }, (message) => addComment(message.data));
 */
export function useTopicMessages(filter: { topic?: string; event?: string }, handler: (message: TopicMessage) => void): void {
  const { onTopicMessage } = useNotificationContext();
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  }, [handler]);
  const { topic, event } = filter;
  useEffect(
    () =>
      onTopicMessage((message) => {
        if ((topic === undefined || message.topic === topic) && (event === undefined || message.event === event)) latest.current(message);
      }),
    [onTopicMessage, topic, event],
  );
}
