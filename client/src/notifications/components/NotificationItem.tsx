import type { Notification } from '@herald/shared';
import { initials, relativeTime } from './format.js';
import { useWording } from './labels.js';

export interface NotificationItemProps {
  notification: Notification;
  onOpen(notification: Notification): void;
  onArchive(id: string): void;
}

/** One row of the feed: avatar, title, body and time as text (never parsed as HTML), unread dot, archive button. */
export function NotificationItem({ notification: n, onOpen, onArchive }: NotificationItemProps) {
  const { labels, locale } = useWording();
  return (
    <li
      className={`hr-item${n.readAt ? '' : ' hr-item--unread'}`}
      data-testid="notification-item"
      data-seq={n.seq}
      data-read={n.readAt ? 'true' : 'false'}
    >
      <span className="hr-avatar" aria-hidden="true">
        {n.actor ? initials(n.actor.name) : '•'}
      </span>
      <button type="button" className="hr-item-text" data-item-action onClick={() => onOpen(n)} data-testid="notification-open">
        <span className="hr-item-title">{n.title}</span>
        {n.body ? <span className="hr-item-body">{n.body}</span> : null}
        <time className="hr-item-time" dateTime={n.createdAt}>
          {relativeTime(n.createdAt, { locale, justNow: labels.justNow })}
        </time>
        <span className="hr-visually-hidden">{n.readAt ? '' : labels.unreadItem}</span>
      </button>
      {n.readAt ? null : <span className="hr-unread-dot" aria-hidden="true" />}
      <button
        type="button"
        className="hr-archive"
        aria-label={labels.archiveItem(n.title)}
        title={labels.archive}
        onClick={() => onArchive(n.id)}
      >
        ×
      </button>
    </li>
  );
}
