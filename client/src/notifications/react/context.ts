import { createContext } from 'react';
import type { Notification, NotificationCounts, NotificationFilter, Preferences, PreferencesUpdate, TopicMessage } from '@herald/shared';
import type { ConnectionState } from '../core/feed-client.js';
import type { FeedState } from '../core/feed-state.js';

export interface NotificationContextValue {
  feed: FeedState;
  connection: ConnectionState;
  /** Notifications that arrived live, newest last (for toasts and the live region). */
  live: Notification[];
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  markRead(ids: string[]): Promise<void>;
  markAllRead(): Promise<void>;
  markSeen(): Promise<void>;
  archive(id: string): Promise<void>;
  loadOlder(): Promise<void>;
  retry(): void;
  /** Marks these notifications seen (they were shown); other tabs and devices follow. */
  markItemsSeen(ids: string[]): Promise<void>;
  /** Hides a notification on every device until `until`, when it comes back unread at the top. */
  snooze(id: string, until: Date): Promise<void>;
  /** Records a click on an action button (once); other tabs and devices follow. */
  act(id: string, actionId: string): Promise<void>;
  /** Counts per named filter from the server; rejects while not connected. */
  countsFor(filters: Record<string, NotificationFilter>): Promise<Record<string, NotificationCounts>>;
  /** The user's settings, once loaded (null until then, or if they could not be). */
  preferences: Preferences | null;
  /** Saves the settings named; resolves with all of them as stored. */
  savePreferences(update: PreferencesUpdate): Promise<Preferences>;
  /** Adds a listener for topic messages; returns the function that removes it. */
  onTopicMessage(listener: (message: TopicMessage) => void): () => void;
}

export const NotificationContext = createContext<NotificationContextValue | null>(null);
