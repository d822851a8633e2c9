import { createContext, useContext } from 'react';
import type { ConnectionState } from '../core/feed-client.js';

/**
 * Every word NotificationComponent shows or announces. Pass the ones to change as its `labels` prop
 * (with `locale` for the times: "5 minutes ago" comes from the browser's Intl in that locale).
 *
 * @example
 * const french: Partial<NotificationLabels> = { title: 'Notifications', markAllRead: 'Tout marquer comme lu', empty: 'Rien de neuf.' };
 */
export interface NotificationLabels {
  /** The panel's heading and the bell's name. */
  title: string;
  /** The bell's accessible name with unread notifications. */
  bellUnread: (unread: number) => string;
  markAllRead: string;
  close: string;
  loading: string;
  loadFailed: string;
  retry: string;
  empty: string;
  showOlder: string;
  /** The list's accessible name. */
  unreadInList: (unread: number) => string;
  /** Read after an unread item's text by screen readers. */
  unreadItem: string;
  archive: string;
  archiveItem: (title: string) => string;
  justNow: string;
  /** Announced (politely) when one notification arrives live. */
  announceOne: (title: string) => string;
  /** Announced when several arrive at once. */
  announceMany: (count: number) => string;
  /** The toast that stands for the ones beyond the toast limit. */
  moreToasts: (count: number) => string;
  /** The accessible name of the tab strip (when the host gives `tabs`). */
  tabs: string;
  /** A tab's badge, for screen readers. */
  unreadInTab: (unread: number) => string;
  /** The empty state of a tab with nothing loaded in it. */
  emptyTab: string;
  /** Shown instead of the buttons once one of a notification's actions was clicked. */
  interacted: (label: string) => string;
  /** A grouped item's size ("5 notifications"), shown from two on. */
  groupCount: (count: number) => string;
  /** The control that opens an item's snooze choices, and its accessible name. */
  snooze: string;
  snoozeItem: (title: string) => string;
  /** The default snooze choices. */
  snoozeHour: string;
  snoozeTomorrow: string;
  connection: Record<ConnectionState, string>;
}

export const englishLabels: NotificationLabels = {
  title: 'Notifications',
  bellUnread: (unread) => `Notifications, ${unread} unread`,
  markAllRead: 'Mark all read',
  close: 'Close notifications',
  loading: 'Loading…',
  loadFailed: 'Notifications could not be loaded.',
  retry: 'Try again',
  empty: 'You are all caught up.',
  showOlder: 'Show older',
  unreadInList: (unread) => `${unread} unread`,
  unreadItem: ', unread',
  archive: 'Archive',
  archiveItem: (title) => `Archive: ${title}`,
  justNow: 'just now',
  announceOne: (title) => `New notification: ${title}`,
  announceMany: (count) => `${count} new notifications`,
  moreToasts: (count) => `${count} more new notification${count === 1 ? '' : 's'}`,
  tabs: 'Filter notifications',
  unreadInTab: (unread) => `${unread} unread`,
  emptyTab: 'Nothing here yet.',
  interacted: (label) => `✓ ${label}`,
  groupCount: (count) => `${count} notifications`,
  snooze: 'Snooze',
  snoozeItem: (title) => `Snooze: ${title}`,
  snoozeHour: 'For 1 hour',
  snoozeTomorrow: 'Until tomorrow',
  connection: {
    connecting: 'Connecting…',
    connected: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
    'signed-out': 'Signed out',
    closed: 'Closed: open in too many tabs',
  },
};

/**
 * The labels a host changes: any of them, and any of the connection states (a state added later keeps
 * its English label until the host names it).
 */
export type LabelOverrides = Partial<Omit<NotificationLabels, 'connection'>> & {
  connection?: Partial<NotificationLabels['connection']>;
};

/** The labels and locale in force under one NotificationComponent. */
export interface Wording {
  labels: NotificationLabels;
  /** A BCP 47 tag for times; undefined: the browser's. */
  locale: string | undefined;
}

export const WordingContext = createContext<Wording>({ labels: englishLabels, locale: undefined });

export function useWording(): Wording {
  return useContext(WordingContext);
}
