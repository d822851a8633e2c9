import { useCallback, useId, useRef, useState } from 'react';
import type { Notification } from '@herald/shared';
import { safeHref } from '@herald/shared/action-url';
import { useConnectionState, useNotifications, useUnreadCount } from '../react/hooks';
import { Bell } from './Bell';
import { FeedPanel } from './FeedPanel';
import { Toasts } from './Toasts';
import './notifications.css';

/**
 * Props of NotificationComponent.
 *
 * @example
 * <NotificationComponent onNavigate={navigate} />
 */
export interface NotificationComponentProps {
  /** Follows a notification's actionUrl; @default a full page navigation */
  onNavigate?: (href: string) => void;
}

/**
 * The bell, unread badge, feed panel and toasts. Everything is text (titles
 * and bodies are never parsed as HTML), every control works from the keyboard,
 * and new notifications are announced in a polite live region.
 *
 * @example
 * <NotificationComponent onNavigate={(href) => router.push(href)} />
 */
export function NotificationComponent({ onNavigate = (href) => window.location.assign(href) }: NotificationComponentProps) {
  const { items, loading, error, hasOlder, loadingOlder, markRead, markAllRead, markSeen, archive, loadOlder, retry, live } =
    useNotifications();
  const { unread, unseen } = useUnreadCount();
  const connection = useConnectionState();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const bellRef = useRef<HTMLButtonElement>(null);

  const close = useCallback(() => {
    setOpen(false);
    bellRef.current?.focus();
  }, []);

  const toggle = () => {
    if (!open && unseen > 0) void markSeen();
    setOpen((o) => !o);
  };

  const openItem = async (n: Notification) => {
    if (!n.readAt) await markRead([n.id]).catch(() => undefined);
    const href = safeHref(n.actionUrl);
    if (href) onNavigate(href);
  };

  const onLoadOlder = useCallback(() => void loadOlder(), [loadOlder]);

  return (
    <div className="hr-root">
      <Bell ref={bellRef} unread={unread} open={open} panelId={panelId} connection={connection} onToggle={toggle} />
      {open ? (
        <FeedPanel
          id={panelId}
          items={items}
          unread={unread}
          loading={loading}
          error={error}
          hasOlder={hasOlder}
          loadingOlder={loadingOlder}
          onOpen={(n) => void openItem(n)}
          onArchive={(id) => void archive(id)}
          onMarkAllRead={() => void markAllRead()}
          onLoadOlder={onLoadOlder}
          onRetry={retry}
          onClose={close}
        />
      ) : null}
      <Toasts live={live} />
    </div>
  );
}
