/**
 * Herald's React client: wrap your app in <NotificationProvider token userId>
 * and drop <NotificationComponent /> where the bell goes. Everything without
 * React is in ./core (and re-exported here).
 */
export { NotificationProvider, type NotificationProviderProps } from './react/NotificationProvider.js';
export { NotificationComponent, type NotificationComponentProps, type NotificationTab } from './components/NotificationComponent.js';
export { englishLabels, frenchLabels, type LabelOverrides, type NotificationLabels } from './components/labels.js';
export { NotificationPreferences, type PreferenceCategory } from './components/NotificationPreferences.js';
export type { RenderSlots } from './components/slots.js';
export type { SnoozeOption } from './components/NotificationItem.js';
export {
  useConnectionState,
  useFilterCounts,
  useNotificationPreferences,
  useNotifications,
  useTopicMessages,
  useUnreadCount,
} from './react/hooks.js';
export { useDesktopNotifications, type DesktopNotifications } from './react/use-push.js';
export * from './core/index.js';
