/**
 * Herald's React client: wrap your app in <NotificationProvider token userId>
 * and drop <NotificationComponent /> where the bell goes. Everything without
 * React is in ./core (and re-exported here).
 */
export { NotificationProvider, type NotificationProviderProps } from './react/NotificationProvider';
export { NotificationComponent, type NotificationComponentProps } from './components/NotificationComponent';
export { useConnectionState, useNotifications, useTopicMessages, useUnreadCount } from './react/hooks';
export * from './core';
