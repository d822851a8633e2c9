import { useContext, useEffect, useRef } from 'react';
import type { TopicMessage } from '@herald/shared';
import { NotificationContext, type NotificationContextValue } from './context.js';

function useNotificationContext(): NotificationContextValue {
  const value = useContext(NotificationContext);
  if (!value) throw new Error('Herald hooks must be used inside <NotificationProvider>.');
  return value;
}

/**
 * The feed (newest first) and the actions on it.
 *
 * @example
 * const { items, markRead, loadOlder } = useNotifications();
 */
export function useNotifications() {
  const { feed, loading, error, hasOlder, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder, retry, live } =
    useNotificationContext();
  return { items: feed.items, loading, error, hasOlder, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder, retry, live };
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
