import { useState } from 'react';
import type { Notification, NotificationAction } from '@herald/shared';
import { initials, relativeTime } from './format.js';
import { useWording } from './labels.js';
import { useSlots } from './slots.js';

/**
 * One choice of an item's Snooze menu: its label, and when the notification comes back.
 *
 * @example
 * const nextWeek: SnoozeOption = { label: 'Next week', until: (now) => new Date(now.getTime() + 7 * 86_400_000) };
 */
export interface SnoozeOption {
  label: string;
  until: (now: Date) => Date;
}

export interface NotificationItemProps {
  notification: Notification;
  onOpen(notification: Notification): void;
  onArchive(id: string): void;
  onAction(notification: Notification, action: NotificationAction): void;
  /** The Snooze menu's choices; none: no Snooze control. */
  snoozeOptions?: SnoozeOption[];
  onSnooze?(id: string, until: Date): void;
}

/**
 * The Snooze control: a button that shows the choices under the item's text. Reached with Tab, like the
 * archive button; the arrow keys move between items' main actions only.
 */
function Snooze({
  notification: n,
  options,
  onSnooze,
}: {
  notification: Notification;
  options: SnoozeOption[];
  onSnooze(id: string, until: Date): void;
}) {
  const { labels } = useWording();
  const [open, setOpen] = useState(false);
  return (
    <span className="hr-snooze">
      <button
        type="button"
        className="hr-snooze-toggle"
        aria-expanded={open}
        aria-label={labels.snoozeItem(n.title)}
        title={labels.snooze}
        data-testid="notification-snooze"
        onClick={() => setOpen((o) => !o)}
      >
        {labels.snooze}
      </button>
      {open
        ? options.map((option) => (
            <button
              key={option.label}
              type="button"
              className="hr-action"
              data-testid="notification-snooze-option"
              onClick={() => {
                setOpen(false);
                onSnooze(n.id, option.until(new Date()));
              }}
            >
              {option.label}
            </button>
          ))
        : null}
    </span>
  );
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
export function NotificationItem({ notification: n, onOpen, onArchive, onAction, snoozeOptions, onSnooze }: NotificationItemProps) {
  const { labels, locale } = useWording();
  const { renderItem } = useSlots();
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
      ) : n.actor ? (
        <span className="hr-avatar" aria-hidden="true">
          {initials(n.actor.name)}
        </span>
      ) : null}
      <div className="hr-item-main">
        <button type="button" className="hr-item-text" data-item-action onClick={() => onOpen(n)} data-testid="notification-open">
          {renderItem ? (
            renderItem(n)
          ) : (
            <>
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
            </>
          )}
          <span className="hr-visually-hidden">{n.readAt ? '' : labels.unreadItem}</span>
        </button>
        <Actions notification={n} onAction={onAction} />
        {onSnooze && snoozeOptions && snoozeOptions.length > 0 ? (
          <Snooze notification={n} options={snoozeOptions} onSnooze={onSnooze} />
        ) : null}
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
