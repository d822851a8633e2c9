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
  /** The panel after the token was refused for good: nothing can be shown until the user signs in again. */
  signedOutPanel: string;
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
  /** The settings view (when the host lists categories): its heading, and the header button to and from it. */
  preferences: string;
  preferencesOpen: string;
  preferencesBack: string;
  preferencesInApp: string;
  /** The channel columns of the settings view. */
  channelInApp: string;
  channelPush: string;
  channelEmail: string;
  /** The offer under the panel's header while push is configured and the browser has not asked yet. */
  enablePush: string;
  enablePushHint: string;
  enablePushFailed: string;
  /** Beside a critical category, which cannot be turned off. */
  preferencesAlwaysOn: string;
  quietHours: string;
  quietHoursHint: string;
  quietFrom: string;
  quietTo: string;
  quietTimeZone: (timeZone: string) => string;
  preferencesSave: string;
  preferencesSaved: string;
  preferencesFailed: string;
  connection: Record<ConnectionState, string>;
}

export const englishLabels: NotificationLabels = {
  title: 'Notifications',
  bellUnread: (unread) => `Notifications, ${unread} unread`,
  markAllRead: 'Mark all read',
  close: 'Close notifications',
  loading: 'Loading…',
  signedOutPanel: 'Sign in again to see your notifications.',
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
  preferences: 'Notification settings',
  preferencesOpen: 'Settings',
  preferencesBack: 'Back',
  preferencesInApp: 'Show in the app',
  channelInApp: 'In the app',
  channelPush: 'Desktop',
  channelEmail: 'Email',
  enablePush: 'Enable desktop notifications',
  enablePushHint: 'Get notified even when this page is closed.',
  enablePushFailed: 'Desktop notifications could not be enabled here.',
  preferencesAlwaysOn: 'Always on',
  quietHours: 'Quiet hours',
  quietHoursHint: 'No pop-ups during these hours (the list still updates)',
  quietFrom: 'From',
  quietTo: 'to',
  quietTimeZone: (timeZone) => `Times in ${timeZone}`,
  preferencesSave: 'Save',
  preferencesSaved: 'Saved',
  preferencesFailed: 'Could not save. Try again.',
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
 * The shipped French wording: pass it as `labels` with `locale="fr"` (times then read "il y a 5 minutes").
 *
 * @example
 * <NotificationComponent labels={frenchLabels} locale="fr" />
 */
export const frenchLabels: NotificationLabels = {
  title: 'Notifications',
  bellUnread: (unread) => `Notifications, ${unread} non lue${unread > 1 ? 's' : ''}`,
  markAllRead: 'Tout marquer comme lu',
  close: 'Fermer les notifications',
  loading: 'Chargement…',
  signedOutPanel: 'Reconnectez-vous pour voir vos notifications.',
  loadFailed: 'Les notifications n’ont pas pu être chargées.',
  retry: 'Réessayer',
  empty: 'Vous êtes à jour.',
  showOlder: 'Voir les plus anciennes',
  unreadInList: (unread) => `${unread} non lue${unread > 1 ? 's' : ''}`,
  unreadItem: ', non lue',
  archive: 'Archiver',
  archiveItem: (title) => `Archiver : ${title}`,
  justNow: 'à l’instant',
  announceOne: (title) => `Nouvelle notification : ${title}`,
  announceMany: (count) => `${count} nouvelles notifications`,
  moreToasts: (count) => `${count} autre${count > 1 ? 's' : ''} notification${count > 1 ? 's' : ''}`,
  tabs: 'Filtrer les notifications',
  unreadInTab: (unread) => `${unread} non lue${unread > 1 ? 's' : ''}`,
  emptyTab: 'Rien ici pour l’instant.',
  interacted: (label) => `✓ ${label}`,
  groupCount: (count) => `${count} notifications`,
  snooze: 'Reporter',
  snoozeItem: (title) => `Reporter : ${title}`,
  snoozeHour: 'Dans 1 heure',
  snoozeTomorrow: 'Demain',
  preferences: 'Paramètres des notifications',
  preferencesOpen: 'Paramètres',
  preferencesBack: 'Retour',
  preferencesInApp: 'Afficher dans l’application',
  channelInApp: 'Dans l’application',
  channelPush: 'Bureau',
  channelEmail: 'E-mail',
  enablePush: 'Activer les notifications sur le bureau',
  enablePushHint: 'Soyez prévenu même quand cette page est fermée.',
  enablePushFailed: 'Impossible d’activer les notifications sur le bureau ici.',
  preferencesAlwaysOn: 'Toujours activé',
  quietHours: 'Heures calmes',
  quietHoursHint: 'Pas de pop-up pendant ces heures (la liste reste à jour)',
  quietFrom: 'De',
  quietTo: 'à',
  quietTimeZone: (timeZone) => `Fuseau horaire : ${timeZone}`,
  preferencesSave: 'Enregistrer',
  preferencesSaved: 'Enregistré',
  preferencesFailed: 'Échec de l’enregistrement. Réessayez.',
  connection: {
    connecting: 'Connexion…',
    connected: 'En direct',
    reconnecting: 'Reconnexion…',
    offline: 'Hors ligne',
    'signed-out': 'Déconnecté',
    closed: 'Fermé : ouvert dans trop d’onglets',
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
