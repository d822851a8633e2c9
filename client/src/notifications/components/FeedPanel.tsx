import { useEffect, useRef } from 'react';
import type { Notification } from '@herald/shared';
import { NotificationItem } from './NotificationItem.js';
import { useRovingFocus } from './use-roving-focus.js';
import { useWording } from './labels.js';

export interface FeedPanelProps {
  id: string;
  items: Notification[];
  unread: number;
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  onOpen(notification: Notification): void;
  onArchive(id: string): void;
  onMarkAllRead(): void;
  onLoadOlder(): void;
  onRetry(): void;
  onClose(): void;
}

/** The open feed: header with "mark all read", the list with infinite scroll, and the empty, loading and error states. */
export function FeedPanel(props: FeedPanelProps) {
  const { id, items, unread, loading, error, hasOlder, loadingOlder, onLoadOlder } = props;
  const { labels } = useWording();
  const listRef = useRef<HTMLUListElement>(null);
  const sentinelRef = useRef<HTMLLIElement>(null);
  const onKeyDown = useRovingFocus(listRef, props.onClose);

  // Infinite scroll: load the next page when the end of the list comes into view.
  useEffect(() => {
    const sentinel = sentinelRef.current;
    if (!sentinel || !hasOlder || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) onLoadOlder();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasOlder, onLoadOlder, items.length]);

  // Focus the first item (or the panel) when the panel opens.
  useEffect(() => {
    const first = listRef.current?.querySelector<HTMLElement>('[data-item-action]');
    (first ?? document.getElementById(id))?.focus();
  }, [id]);

  return (
    <section id={id} className="hr-panel" role="dialog" aria-label={labels.title} tabIndex={-1} onKeyDown={onKeyDown}>
      <header className="hr-panel-header">
        <h2 className="hr-panel-title">{labels.title}</h2>
        <button type="button" className="hr-link" disabled={unread === 0} onClick={props.onMarkAllRead} data-testid="mark-all-read">
          {labels.markAllRead}
        </button>
        <button type="button" className="hr-link hr-close" aria-label={labels.close} onClick={props.onClose}>
          ×
        </button>
      </header>
      {loading && items.length === 0 ? (
        <p className="hr-empty">{labels.loading}</p>
      ) : error && items.length === 0 ? (
        <div className="hr-empty" role="alert">
          <p>{labels.loadFailed}</p>
          <button type="button" className="hr-link" onClick={props.onRetry}>
            {labels.retry}
          </button>
        </div>
      ) : items.length === 0 ? (
        <p className="hr-empty">{labels.empty}</p>
      ) : (
        <ul className="hr-list" ref={listRef} aria-label={labels.unreadInList(unread)}>
          {items.map((n) => (
            <NotificationItem key={n.id} notification={n} onOpen={props.onOpen} onArchive={props.onArchive} />
          ))}
          {hasOlder ? (
            <li ref={sentinelRef} className="hr-older">
              <button type="button" className="hr-link" onClick={onLoadOlder} disabled={loadingOlder}>
                {loadingOlder ? labels.loading : labels.showOlder}
              </button>
            </li>
          ) : null}
        </ul>
      )}
    </section>
  );
}
