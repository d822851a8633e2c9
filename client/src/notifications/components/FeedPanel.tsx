import { useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';
import type { Notification, NotificationAction } from '@herald/shared';
import { NotificationItem, type SnoozeOption } from './NotificationItem.js';
import { useRovingFocus } from './use-roving-focus.js';
import { useWording } from './labels.js';
import { useSlots } from './slots.js';

/** How long an unseen item must stay (half) in view to count as seen, and how long seen ids wait to go out together. */
const SEEN_AFTER_MS = 500;
const SEEN_BATCH_MS = 300;

export interface FeedPanelProps {
  id: string;
  items: Notification[];
  unread: number;
  loading: boolean;
  error: string | null;
  /** The token was refused for good: a signed-out state instead of the feed, and no action that needs it. */
  signedOut?: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  onOpen(notification: Notification): void;
  onArchive(id: string): void;
  onAction(notification: Notification, action: NotificationAction): void;
  snoozeOptions?: SnoozeOption[];
  onSnooze?(id: string, until: Date): void;
  onMarkAllRead(): void;
  /** Unseen items that have been in view (at least half, for SEEN_AFTER_MS), in batches. */
  onSeen?(ids: string[]): void;
  onLoadOlder(): void;
  onRetry(): void;
  onClose(): void;
  /** Tabs above the list (the host's `tabs`), with each one's unread count when known. */
  tabs?: { label: string; unread?: number }[];
  activeTab?: number;
  onTab?(index: number): void;
  /** The settings view (NotificationPreferences), behind a header button; shown instead of the list while open. */
  settings?: { open: boolean; onToggle(): void; content: ReactNode };
  /** Shown under the header above the list (the desktop notifications offer). */
  banner?: ReactNode;
}

/** The tab strip: one tab selected, arrow keys, Home and End move between them (WAI-ARIA tabs). */
function TabStrip({
  panelId,
  tabs,
  active,
  onTab,
}: {
  panelId: string;
  tabs: { label: string; unread?: number }[];
  active: number;
  onTab(index: number): void;
}) {
  const { labels } = useWording();
  const stripRef = useRef<HTMLDivElement>(null);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const last = tabs.length - 1;
    const to =
      event.key === 'ArrowRight'
        ? active === last
          ? 0
          : active + 1
        : event.key === 'ArrowLeft'
          ? active === 0
            ? last
            : active - 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? last
              : undefined;
    if (to === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    onTab(to);
    stripRef.current?.querySelectorAll<HTMLElement>('[role="tab"]')[to]?.focus();
  };
  return (
    <div className="hr-tabs" role="tablist" aria-label={labels.tabs} ref={stripRef} onKeyDown={onKeyDown}>
      {tabs.map((tab, i) => (
        <button
          key={i}
          type="button"
          role="tab"
          id={`${panelId}-tab-${i}`}
          aria-selected={i === active}
          aria-controls={`${panelId}-list`}
          tabIndex={i === active ? 0 : -1}
          className="hr-tab"
          data-testid={`tab-${i}`}
          onClick={() => onTab(i)}
        >
          {tab.label}
          {tab.unread ? (
            <span className="hr-tab-badge" aria-label={labels.unreadInTab(tab.unread)}>
              {tab.unread > 99 ? '99+' : tab.unread}
            </span>
          ) : null}
        </button>
      ))}
    </div>
  );
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

  // Per-item seen: an unseen item counts as seen once at least half of it stayed in view for
  // SEEN_AFTER_MS; the ids go out in one batch. One observer for the panel's life; items that arrive
  // later are added to it.
  const onSeen = props.onSeen;
  const observerRef = useRef<IntersectionObserver | null>(null);
  useEffect(() => {
    if (!onSeen || typeof IntersectionObserver === 'undefined') return;
    const timers = new Map<Element, ReturnType<typeof setTimeout>>();
    const seen = new Set<string>();
    let flush: ReturnType<typeof setTimeout> | undefined;
    const report = (id: string) => {
      seen.add(id);
      flush ??= setTimeout(() => {
        flush = undefined;
        const ids = [...seen];
        seen.clear();
        onSeen(ids);
      }, SEEN_BATCH_MS);
    };
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const target = entry.target as HTMLElement;
          if (!entry.isIntersecting) {
            clearTimeout(timers.get(target));
            timers.delete(target);
          } else if (!timers.has(target)) {
            const timer = setTimeout(() => {
              observer.unobserve(target);
              if (target.dataset.seen === 'false' && target.dataset.id) report(target.dataset.id);
            }, SEEN_AFTER_MS);
            timers.set(target, timer);
          }
        }
      },
      { root: document.getElementById(id), threshold: 0.5 },
    );
    observerRef.current = observer;
    return () => {
      observerRef.current = null;
      observer.disconnect();
      for (const timer of timers.values()) clearTimeout(timer);
      clearTimeout(flush);
      if (seen.size > 0) onSeen([...seen]);
    };
  }, [id, onSeen]);
  useEffect(() => {
    const list = listRef.current;
    if (!list) return;
    // Observing an element already observed changes nothing.
    for (const item of list.querySelectorAll<HTMLElement>('[data-seen="false"]')) observerRef.current?.observe(item);
  }, [items]);

  // Focus the first item (or the panel) when the panel opens.
  useEffect(() => {
    const first = listRef.current?.querySelector<HTMLElement>('[data-item-action]');
    (first ?? document.getElementById(id))?.focus();
  }, [id]);

  const tabs = props.tabs && props.tabs.length > 0 ? props.tabs : undefined;
  const { renderEmpty } = useSlots();
  const content = props.signedOut ? (
    <div className="hr-empty" data-testid="signed-out">
      <p>{labels.signedOutPanel}</p>
    </div>
  ) : loading && items.length === 0 ? (
    <p className="hr-empty">{labels.loading}</p>
  ) : error && items.length === 0 ? (
    <div className="hr-empty" role="alert">
      <p>{labels.loadFailed}</p>
      <button type="button" className="hr-link" onClick={props.onRetry}>
        {labels.retry}
      </button>
    </div>
  ) : items.length === 0 && !hasOlder ? (
    <div className="hr-empty">{renderEmpty ? renderEmpty() : <p>{tabs ? labels.emptyTab : labels.empty}</p>}</div>
  ) : (
    <ul className="hr-list" ref={listRef} aria-label={labels.unreadInList(unread)}>
      {items.map((n) => (
        <NotificationItem
          key={n.id}
          notification={n}
          onOpen={props.onOpen}
          onArchive={props.onArchive}
          onAction={props.onAction}
          {...(props.onSnooze && props.snoozeOptions ? { onSnooze: props.onSnooze, snoozeOptions: props.snoozeOptions } : {})}
        />
      ))}
      {hasOlder ? (
        <li ref={sentinelRef} className="hr-older">
          <button type="button" className="hr-link" onClick={onLoadOlder} disabled={loadingOlder}>
            {loadingOlder ? labels.loading : labels.showOlder}
          </button>
        </li>
      ) : null}
    </ul>
  );

  return (
    <section id={id} className="hr-panel" role="dialog" aria-label={labels.title} tabIndex={-1} onKeyDown={onKeyDown}>
      <header className="hr-panel-header">
        <h2 className="hr-panel-title">{labels.title}</h2>
        {props.settings && !props.signedOut ? (
          <button
            type="button"
            className="hr-link"
            aria-expanded={props.settings.open}
            onClick={props.settings.onToggle}
            data-testid="preferences-toggle"
          >
            {props.settings.open ? labels.preferencesBack : labels.preferencesOpen}
          </button>
        ) : null}
        {props.signedOut ? null : (
          <button type="button" className="hr-link" disabled={unread === 0} onClick={props.onMarkAllRead} data-testid="mark-all-read">
            {labels.markAllRead}
          </button>
        )}
        <button type="button" className="hr-link hr-close" aria-label={labels.close} onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.settings?.open || props.signedOut ? null : props.banner}
      {props.settings?.open && !props.signedOut ? (
        props.settings.content
      ) : tabs ? (
        <TabStrip panelId={id} tabs={tabs} active={props.activeTab ?? 0} onTab={(i) => props.onTab?.(i)} />
      ) : null}
      {props.settings?.open ? null : tabs ? (
        <div id={`${id}-list`} role="tabpanel" aria-labelledby={`${id}-tab-${props.activeTab ?? 0}`}>
          {content}
        </div>
      ) : (
        content
      )}
    </section>
  );
}
