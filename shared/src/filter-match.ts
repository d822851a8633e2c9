import type { Notification } from './notification.js';

/**
 * Which notifications a tab shows or a badge counts. Every condition given must hold: the category
 * equal, at least one of the tags present, each named top-level `data` field equal (string, number
 * or boolean). An empty filter matches everything. (No zod here: browsers import this.)
 */
export interface NotificationFilter {
  category?: string;
  tags?: string[];
  data?: Record<string, string | number | boolean>;
}

/** Whether a notification is one the filter selects (the same rule the server's queries apply). */
export function matchesFilter(notification: Pick<Notification, 'category' | 'tags' | 'data'>, filter: NotificationFilter): boolean {
  if (filter.category !== undefined && notification.category !== filter.category) return false;
  if (filter.tags && !filter.tags.some((tag) => notification.tags?.includes(tag))) return false;
  for (const [field, value] of Object.entries(filter.data ?? {})) {
    if (notification.data?.[field] !== value) return false;
  }
  return true;
}
