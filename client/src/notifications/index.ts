/**
 * Herald's React client: wrap your app in <NotificationProvider token userId>
 * and drop <NotificationComponent /> where the bell goes.
 */
export { NotificationProvider, type NotificationProviderProps } from './NotificationProvider';
export { NotificationComponent, type NotificationComponentProps } from './NotificationComponent';
export { useConnectionState, useNotifications, useUnreadCount } from './hooks';
export { FeedClient, type ConnectionState, type FeedClientOptions, type FeedSocket } from './feed-client';
export type { FeedState } from './feed-state';
