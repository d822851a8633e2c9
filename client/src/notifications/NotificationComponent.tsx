import { useEffect, useId, useState } from 'react';
import type { ErrorBody, Notification } from '@herald/shared';
import { relativeTime } from './relative-time';
import { useNotificationFeed, type ConnectionState } from './use-notification-feed';
import './notifications.css';

const CONNECTION_LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  'signed-out': 'Signed out',
};

function badgeText(unread: number): string {
  return unread > 99 ? '99+' : String(unread);
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((part) => part[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

/** Only http(s) and same-site paths are followed; the server refuses anything else too. */
function safeHref(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function NotificationItem({
  notification,
  onOpen,
  onArchive,
}: {
  notification: Notification;
  onOpen: (n: Notification) => void;
  onArchive: (n: Notification) => void;
}) {
  const unread = !notification.readAt;
  return (
    <li className={`hr-item${unread ? ' hr-item--unread' : ''}`} data-testid="notification-item" data-seq={notification.seq}>
      <span className="hr-avatar" aria-hidden="true">
        {notification.actor ? initials(notification.actor.name) : '•'}
      </span>
      <button type="button" className="hr-item-text" onClick={() => onOpen(notification)} data-testid="notification-open">
        {/* Text nodes only: titles and bodies are never parsed as HTML. */}
        <p className="hr-item-title">{notification.title}</p>
        {notification.body ? <p className="hr-item-body">{notification.body}</p> : null}
        <time className="hr-item-time" dateTime={notification.createdAt}>
          {relativeTime(notification.createdAt)}
        </time>
      </button>
      {unread ? <span className="hr-unread-dot" aria-label="unread" /> : null}
      <button type="button" className="hr-archive" aria-label="Archive" title="Archive" onClick={() => onArchive(notification)}>
        ×
      </button>
    </li>
  );
}

/** The bell, unread badge and live feed for the signed-in user. */
export function NotificationComponent({ token, onSignedOut }: { token: string; onSignedOut: (reason: ErrorBody) => void }) {
  const { feed, connection, lastLive, hasOlder, markRead, markAllRead, markSeen, archive, loadOlder } = useNotificationFeed(
    token,
    onSignedOut,
  );
  const [open, setOpen] = useState(false);
  const [dismissedToastId, setDismissedToastId] = useState<string | null>(null);
  const toast = lastLive && lastLive.id !== dismissedToastId ? lastLive : null;
  const panelId = useId();

  useEffect(() => {
    if (!lastLive) return;
    const timer = setTimeout(() => setDismissedToastId(lastLive.id), 4000);
    return () => clearTimeout(timer);
  }, [lastLive]);

  return (
    <div className="hr-root">
      <button
        type="button"
        className="hr-bell"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`Notifications, ${feed.unread} unread`}
        onClick={() => {
          if (!open && feed.unseen > 0) void markSeen();
          setOpen((o) => !o);
        }}
        data-testid="bell"
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
          />
        </svg>
        {feed.unread > 0 ? (
          <span className="hr-badge" data-testid="unread-badge">
            {badgeText(feed.unread)}
          </span>
        ) : null}
      </button>
      <span className={`hr-connection hr-connection--${connection}`} data-testid="connection-state">
        {CONNECTION_LABEL[connection]}
      </span>
      {open ? (
        <section id={panelId} className="hr-panel" aria-label="Notifications">
          <header className="hr-panel-header">
            <span>Notifications</span>
            <button
              type="button"
              className="hr-link"
              disabled={feed.unread === 0}
              onClick={() => void markAllRead()}
              data-testid="mark-all-read"
            >
              Mark all read
            </button>
          </header>
          {feed.items.length === 0 ? (
            <p className="hr-empty">You are all caught up.</p>
          ) : (
            <ul className="hr-list">
              {feed.items.map((n) => (
                <NotificationItem
                  key={n.id}
                  notification={n}
                  onArchive={(item) => void archive(item.id)}
                  onOpen={(item) => {
                    const href = safeHref(item.actionUrl);
                    const read = item.readAt ? Promise.resolve() : markRead([item.id]);
                    if (href) void read.finally(() => window.location.assign(href));
                    else void read;
                  }}
                />
              ))}
            </ul>
          )}
          {hasOlder ? (
            <button type="button" className="hr-link hr-older" onClick={() => void loadOlder()}>
              Show older
            </button>
          ) : null}
        </section>
      ) : null}
      <div className="hr-toasts" role="status" aria-live="polite">
        {toast ? (
          <div className="hr-toast" data-testid="toast">
            <strong>{toast.title}</strong>
            {toast.body ? <span>{toast.body}</span> : null}
          </div>
        ) : null}
      </div>
    </div>
  );
}
