import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { Notification } from '@herald/shared';
import { badgeText } from './badge';
import { useConnectionState, useNotifications, useUnreadCount } from './hooks';
import { relativeTime } from './relative-time';
import { safeHref } from './safe-url';
import { addToast, defaultToastPolicy, expireToasts, type Toast } from './toast-queue';
import type { ConnectionState } from './feed-client';
import './notifications.css';

const CONNECTION_LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  'signed-out': 'Signed out',
};

function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((part) => part[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

export interface NotificationComponentProps {
  /** Follows a notification's actionUrl; @default a full page navigation */
  onNavigate?: (href: string) => void;
}

/**
 * The bell, unread badge, feed panel and toasts. Everything is text (titles
 * and bodies are never parsed as HTML), every control works from the keyboard,
 * and new notifications are announced in a polite live region.
 */
export function NotificationComponent({ onNavigate = (href) => window.location.assign(href) }: NotificationComponentProps) {
  const { items, loading, error, hasOlder, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder, retry, live } =
    useNotifications();
  const { unread, unseen } = useUnreadCount();
  const connection = useConnectionState();
  const [open, setOpen] = useState(false);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [announcement, setAnnouncement] = useState('');
  const panelId = useId();
  const bellRef = useRef<HTMLButtonElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const sentinelRef = useRef<HTMLLIElement>(null);
  const seenLive = useRef(0);

  // Toasts and the live-region announcement for notifications that arrived live.
  useEffect(() => {
    const fresh = live.slice(seenLive.current);
    seenLive.current = live.length;
    if (fresh.length === 0) return;
    const now = Date.now();
    setToasts((current) => fresh.reduce((acc, n) => addToast(acc, n, now), current));
    setAnnouncement(fresh.length === 1 ? `New notification: ${fresh[0]!.title}` : `${fresh.length} new notifications`);
  }, [live]);

  useEffect(() => {
    if (toasts.length === 0) return;
    const timer = setTimeout(() => setToasts((current) => expireToasts(current, Date.now())), defaultToastPolicy.ttlMs / 5);
    return () => clearTimeout(timer);
  }, [toasts]);

  // Infinite scroll: load the next page when the end of the list comes into view.
  useEffect(() => {
    const sentinel = sentinelRef.current;
    if (!open || !sentinel || !hasOlder || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadOlder();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [open, hasOlder, loadOlder, items.length]);

  const close = useCallback(() => {
    setOpen(false);
    bellRef.current?.focus();
  }, []);

  const toggle = () => {
    if (!open && unseen > 0) void markSeen();
    setOpen((o) => !o);
  };

  // Focus the first item (or the panel) when the panel opens.
  useEffect(() => {
    if (!open) return;
    const first = listRef.current?.querySelector<HTMLElement>('[data-item-action]');
    (first ?? document.getElementById(panelId))?.focus();
  }, [open, panelId]);

  const openItem = async (n: Notification) => {
    if (!n.readAt) await markRead([n.id]).catch(() => undefined);
    const href = safeHref(n.actionUrl);
    if (href) onNavigate(href);
  };

  /** Arrow keys move between items, Home/End jump, Escape closes and returns focus to the bell. */
  const onPanelKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
      return;
    }
    const actions = [...(listRef.current?.querySelectorAll<HTMLElement>('[data-item-action]') ?? [])];
    const index = actions.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => {
      event.preventDefault();
      actions[Math.max(0, Math.min(actions.length - 1, to))]?.focus();
    };
    if (event.key === 'ArrowDown') move(index + 1);
    else if (event.key === 'ArrowUp') move(index - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(actions.length - 1);
  };

  return (
    <div className="hr-root">
      <button
        ref={bellRef}
        type="button"
        className="hr-bell"
        aria-expanded={open}
        aria-controls={panelId}
        aria-haspopup="dialog"
        aria-label={unread > 0 ? `Notifications, ${unread} unread` : 'Notifications'}
        onClick={toggle}
        data-testid="bell"
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
          />
        </svg>
        {unread > 0 ? (
          <span className="hr-badge" data-testid="unread-badge" aria-hidden="true">
            {badgeText(unread)}
          </span>
        ) : null}
      </button>
      <span className={`hr-connection hr-connection--${connection}`} data-testid="connection-state" role="status">
        {CONNECTION_LABEL[connection]}
      </span>

      {open ? (
        <section id={panelId} className="hr-panel" role="dialog" aria-label="Notifications" tabIndex={-1} onKeyDown={onPanelKeyDown}>
          <header className="hr-panel-header">
            <h2 className="hr-panel-title">Notifications</h2>
            <button
              type="button"
              className="hr-link"
              disabled={unread === 0}
              onClick={() => void markAllRead()}
              data-testid="mark-all-read"
            >
              Mark all read
            </button>
            <button type="button" className="hr-link hr-close" aria-label="Close notifications" onClick={close}>
              ×
            </button>
          </header>
          {loading && items.length === 0 ? (
            <p className="hr-empty">Loading…</p>
          ) : error && items.length === 0 ? (
            <div className="hr-empty" role="alert">
              <p>Notifications could not be loaded.</p>
              <button type="button" className="hr-link" onClick={retry}>
                Try again
              </button>
            </div>
          ) : items.length === 0 ? (
            <p className="hr-empty">You are all caught up.</p>
          ) : (
            <ul className="hr-list" ref={listRef} aria-label={`${unread} unread`}>
              {items.map((n) => (
                <li
                  key={n.id}
                  className={`hr-item${n.readAt ? '' : ' hr-item--unread'}`}
                  data-testid="notification-item"
                  data-seq={n.seq}
                  data-read={n.readAt ? 'true' : 'false'}
                >
                  <span className="hr-avatar" aria-hidden="true">
                    {n.actor ? initials(n.actor.name) : '•'}
                  </span>
                  <button
                    type="button"
                    className="hr-item-text"
                    data-item-action
                    onClick={() => void openItem(n)}
                    data-testid="notification-open"
                  >
                    <span className="hr-item-title">{n.title}</span>
                    {n.body ? <span className="hr-item-body">{n.body}</span> : null}
                    <time className="hr-item-time" dateTime={n.createdAt}>
                      {relativeTime(n.createdAt)}
                    </time>
                    <span className="hr-visually-hidden">{n.readAt ? '' : ', unread'}</span>
                  </button>
                  {n.readAt ? null : <span className="hr-unread-dot" aria-hidden="true" />}
                  <button
                    type="button"
                    className="hr-archive"
                    aria-label={`Archive: ${n.title}`}
                    title="Archive"
                    onClick={() => void archive(n.id)}
                  >
                    ×
                  </button>
                </li>
              ))}
              {hasOlder ? (
                <li ref={sentinelRef} className="hr-older">
                  <button type="button" className="hr-link" onClick={() => void loadOlder()} disabled={loadingOlder}>
                    {loadingOlder ? 'Loading…' : 'Show older'}
                  </button>
                </li>
              ) : null}
            </ul>
          )}
        </section>
      ) : null}

      <div className="hr-toasts" aria-hidden="true">
        {toasts.map((t) =>
          t.kind === 'notification' ? (
            <div key={t.key} className="hr-toast" data-testid="toast">
              <strong>{t.notification.title}</strong>
              {t.notification.body ? <span>{t.notification.body}</span> : null}
            </div>
          ) : (
            <div key={t.key} className="hr-toast hr-toast--summary" data-testid="toast-summary">
              <strong>
                {t.count} more new notification{t.count === 1 ? '' : 's'}
              </strong>
            </div>
          ),
        )}
      </div>
      {/* Screen readers hear new notifications here; the toasts are visual only. */}
      <div className="hr-visually-hidden" role="status" aria-live="polite" data-testid="live-region">
        {announcement}
      </div>
    </div>
  );
}
