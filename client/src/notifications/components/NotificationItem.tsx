import type { Notification, NotificationAction } from '@herald/shared';
import { initials, relativeTime } from './format.js';
import { useWording } from './labels.js';

export interface NotificationItemProps {
  notification: Notification;
  onOpen(notification: Notification): void;
  onArchive(id: string): void;
  onAction(notification: Notification, action: NotificationAction): void;
}

/** The action buttons, or which one was clicked (in every tab and device, once recorded). */
function Actions({ notification: n, onAction }: Pick<NotificationItemProps, 'notification' | 'onAction'>) {
  const { labels } = useWording();
  if (!n.actions || n.actions.length === 0) return null;
  const chosen = n.interactedAt ? n.actions.find((a) => a.id === n.actionId) : undefined;
  if (n.interactedAt) {
    return (
      <span className="hr-item-interacted" data-testid="notification-interacted">
        {labels.interacted(chosen?.label ?? '')}
      </span>
    );
  }
  return (
    <span className="hr-item-actions">
      {n.actions.map((action, i) => (
        <button
          key={action.id}
          type="button"
          className={i === 0 ? 'hr-action hr-action--primary' : 'hr-action'}
          data-item-action
          data-testid={`notification-action-${action.id}`}
          onClick={() => onAction(n, action)}
        >
          {action.label}
        </button>
      ))}
    </span>
  );
}

/** One row of the feed: avatar, title, body and time as text (never parsed as HTML), unread dot, archive button. */
export function NotificationItem({ notification: n, onOpen, onArchive, onAction }: NotificationItemProps) {
  const { labels, locale } = useWording();
  return (
    <li
      className={`hr-item${n.readAt ? '' : ' hr-item--unread'}`}
      data-testid="notification-item"
      data-seq={n.seq}
      data-read={n.readAt ? 'true' : 'false'}
      data-id={n.id}
      data-seen={n.seenAt ? 'true' : 'false'}
    >
      {n.group && n.group.actors.length > 1 ? (
        <span className="hr-avatar-stack" aria-hidden="true">
          {n.group.actors.slice(0, 2).map((actor) => (
            <span key={actor.id} className="hr-avatar hr-avatar--stacked">
              {initials(actor.name)}
            </span>
          ))}
        </span>
      ) : (
        <span className="hr-avatar" aria-hidden="true">
          {n.actor ? initials(n.actor.name) : '•'}
        </span>
      )}
      <div className="hr-item-main">
        <button type="button" className="hr-item-text" data-item-action onClick={() => onOpen(n)} data-testid="notification-open">
          <span className="hr-item-title">{n.title}</span>
          {n.body ? <span className="hr-item-body">{n.body}</span> : null}
          {n.group && n.group.count > 1 ? (
            <span className="hr-item-group" data-testid="notification-group-count">
              {labels.groupCount(n.group.count)}
            </span>
          ) : null}
          <time className="hr-item-time" dateTime={n.createdAt}>
            {relativeTime(n.createdAt, { locale, justNow: labels.justNow })}
          </time>
          <span className="hr-visually-hidden">{n.readAt ? '' : labels.unreadItem}</span>
        </button>
        <Actions notification={n} onAction={onAction} />
      </div>
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
