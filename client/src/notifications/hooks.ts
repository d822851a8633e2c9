import { useContext } from 'react';
import { NotificationContext, type NotificationContextValue } from './NotificationProvider';

function useNotificationContext(): NotificationContextValue {
  const value = useContext(NotificationContext);
  if (!value) throw new Error('Herald hooks must be used inside <NotificationProvider>.');
  return value;
}

/** The feed (newest first) and the actions on it. */
export function useNotifications() {
  const { feed, loading, error, hasOlder, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder, retry, live } =
    useNotificationContext();
  return { items: feed.items, loading, error, hasOlder, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder, retry, live };
}

/** `{ unread, unseen }`, live. */
export function useUnreadCount() {
  const { feed } = useNotificationContext();
  return { unread: feed.unread, unseen: feed.unseen };
}

/** 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signed-out'. */
export function useConnectionState() {
  return useNotificationContext().connection;
}
