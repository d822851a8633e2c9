import { useCallback, useId, useMemo, useRef, useState } from 'react';
import type { Notification, NotificationAction } from '@herald/shared';
import { safeHref } from '@herald/shared/action-url';
import { matchesFilter, type NotificationFilter } from '@herald/shared/filter-match';
import { inQuietHours } from '@herald/shared/quiet-hours';
import { useConnectionState, useFilterCounts, useNotificationPreferences, useNotifications, useUnreadCount } from '../react/hooks.js';
import { NotificationPreferences, type PreferenceCategory } from './NotificationPreferences.js';
import { Bell } from './Bell.js';
import { FeedPanel } from './FeedPanel.js';
import { PushOffer } from './PushOffer.js';
import type { SnoozeOption } from './NotificationItem.js';
import { englishLabels, WordingContext, type LabelOverrides } from './labels.js';
import { SlotsContext, type RenderSlots } from './slots.js';
import { Toasts } from './Toasts.js';
import './notifications.css';

/**
 * One tab of the feed panel: its label and which notifications it shows (its badge counts the unread
 * ones, live, from the server).
 *
 * @example
 * const tabs: NotificationTab[] = [{ label: 'All', filter: {} }, { label: 'Mentions', filter: { tags: ['mention'] } }];
 */
export interface NotificationTab {
  label: string;
  filter: NotificationFilter;
}

/**
 * Props of NotificationComponent.
 *
 * @example
 * <NotificationComponent onNavigate={navigate} />
 */
export interface NotificationComponentProps extends RenderSlots {
  /** Follows a notification's actionUrl (e.g. your router's navigate); @default a full page navigation */
  onNavigate?: (href: string) => void;
  /** Words to change (translations, your product's tone); the rest stay English. */
  labels?: LabelOverrides;
  /** BCP 47 locale of the times ("5 minutes ago"). @default the browser's */
  locale?: string;
  /** Added to the root element's class, to place or theme it (see the --hr-* variables in style.css). */
  className?: string;
  /**
   * Tabs over the feed, each with its unread badge (up to 10). A tab lists the loaded notifications
   * its filter selects; "Show older" loads further pages of the feed.
   */
  tabs?: NotificationTab[];
  /**
   * A click on one of a notification's action buttons, after it is recorded (once, in every tab and
   * device; it is read too). If the action has a `url`, it is followed afterwards through `onNavigate`.
   */
  onAction?: (notification: Notification, action: NotificationAction) => void;
  /**
   * The choices of each item's Snooze menu; `[]` hides it. A snoozed notification leaves every tab
   * and device and comes back at that time, unread, at the top.
   * @default for 1 hour, until tomorrow at 9:00
   */
  snoozeOptions?: SnoozeOption[];
  /**
   * The categories the settings view lists (a Settings button appears in the panel's header): each on
   * or off in-app, critical ones always on, and quiet hours. Without it there is no settings view
   * (`NotificationPreferences` can be placed anywhere on its own).
   */
  preferenceCategories?: PreferenceCategory[];
  /**
   * Offers "Enable desktop notifications" at the top of the panel while Herald has Web Push configured
   * and this browser has not asked the user yet (see useDesktopNotifications to place it yourself). @default true
   */
  offerPush?: boolean;
}

/** Tomorrow at 9:00, local time. */
function tomorrowMorning(now: Date): Date {
  const at = new Date(now);
  at.setDate(at.getDate() + 1);
  at.setHours(9, 0, 0, 0);
  return at;
}

/**
 * The bell, unread badge, feed panel and toasts. Everything is text (titles
 * and bodies are never parsed as HTML), every control works from the keyboard,
 * and new notifications are announced in a polite live region.
 *
 * @example
 * <NotificationComponent onNavigate={(href) => router.push(href)} />
 */
export function NotificationComponent({
  onNavigate = (href) => window.location.assign(href),
  labels,
  locale,
  className,
  tabs,
  onAction,
  snoozeOptions,
  preferenceCategories,
  offerPush = true,
  renderItem,
  renderEmpty,
  bellIcon,
}: NotificationComponentProps) {
  const slots = useMemo(
    () => ({
      ...(renderItem ? { renderItem } : {}),
      ...(renderEmpty ? { renderEmpty } : {}),
      ...(bellIcon !== undefined ? { bellIcon } : {}),
    }),
    [renderItem, renderEmpty, bellIcon],
  );
  const wording = useMemo(
    () => ({ labels: { ...englishLabels, ...labels, connection: { ...englishLabels.connection, ...labels?.connection } }, locale }),
    [labels, locale],
  );
  const {
    items,
    loading,
    error,
    hasOlder,
    loadingOlder,
    markRead,
    markAllRead,
    markItemsSeen,
    archive,
    loadOlder,
    retry,
    live,
    act,
    snooze,
  } = useNotifications();
  const snoozeChoices = useMemo(
    () =>
      snoozeOptions ?? [
        { label: wording.labels.snoozeHour, until: (now: Date) => new Date(now.getTime() + 3600_000) },
        { label: wording.labels.snoozeTomorrow, until: tomorrowMorning },
      ],
    [snoozeOptions, wording],
  );
  const { unread } = useUnreadCount();
  const connection = useConnectionState();
  const [open, setOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const { preferences } = useNotificationPreferences();
  const holdBack = useCallback(
    (n: Notification) =>
      !!preferences?.quietHours &&
      !(n.category !== undefined && preferences.critical.includes(n.category)) &&
      inQuietHours(preferences.quietHours, new Date()),
    [preferences],
  );
  const [activeTab, setActiveTab] = useState(0);
  const tabFilters = useMemo(
    () => (tabs && tabs.length > 0 ? Object.fromEntries(tabs.slice(0, 10).map((tab, i) => [`t${i}`, tab.filter])) : undefined),
    [tabs],
  );
  const tabCounts = useFilterCounts(tabFilters);
  const current = tabs?.[Math.min(activeTab, tabs.length - 1)];
  const shown = useMemo(() => (current ? items.filter((n) => matchesFilter(n, current.filter)) : items), [items, current]);
  const panelId = useId();
  const bellRef = useRef<HTMLButtonElement>(null);

  const close = useCallback(() => {
    setOpen(false);
    bellRef.current?.focus();
  }, []);

  // Opening the bell no longer makes everything seen: each item is seen once it has been in view.
  const toggle = () => setOpen((o) => !o);
  const onSeen = useCallback((ids: string[]) => void markItemsSeen(ids).catch(() => undefined), [markItemsSeen]);

  const openItem = async (n: Notification) => {
    if (!n.readAt) await markRead([n.id]).catch(() => undefined);
    const href = safeHref(n.actionUrl);
    if (href) onNavigate(href);
  };

  const actOn = async (n: Notification, action: NotificationAction) => {
    // Recorded first, so the backend hears of it (the event bus) even if the page then navigates away.
    const recorded = await act(n.id, action.id).then(
      () => true,
      () => false,
    );
    if (recorded) onAction?.(n, action);
    const href = safeHref(action.url);
    if (href) onNavigate(href);
  };

  const onLoadOlder = useCallback(() => void loadOlder(), [loadOlder]);

  return (
    <WordingContext.Provider value={wording}>
      <SlotsContext.Provider value={slots}>
        <div className={className ? `hr-root ${className}` : 'hr-root'}>
          <Bell ref={bellRef} unread={unread} open={open} panelId={panelId} connection={connection} onToggle={toggle} />
          {open ? (
            <FeedPanel
              id={panelId}
              items={shown}
              unread={unread}
              loading={loading}
              error={error}
              signedOut={connection === 'signed-out'}
              hasOlder={hasOlder}
              loadingOlder={loadingOlder}
              onOpen={(n) => void openItem(n)}
              onArchive={(id) => void archive(id)}
              onSeen={onSeen}
              onAction={(n, action) => void actOn(n, action)}
              snoozeOptions={snoozeChoices}
              onSnooze={(id, until) => void snooze(id, until).catch(() => undefined)}
              onMarkAllRead={() => void markAllRead()}
              onLoadOlder={onLoadOlder}
              onRetry={retry}
              onClose={close}
              {...(offerPush ? { banner: <PushOffer /> } : {})}
              {...(preferenceCategories && preferenceCategories.length > 0
                ? {
                    settings: {
                      open: settingsOpen,
                      onToggle: () => setSettingsOpen((o) => !o),
                      content: <NotificationPreferences categories={preferenceCategories} />,
                    },
                  }
                : {})}
              {...(tabs && tabs.length > 0
                ? {
                    tabs: tabs.slice(0, 10).map((tab, i) => ({ label: tab.label, unread: tabCounts?.[`t${i}`]?.unread })),
                    activeTab: Math.min(activeTab, tabs.length - 1),
                    onTab: setActiveTab,
                  }
                : {})}
            />
          ) : null}
          <Toasts live={live} holdBack={holdBack} />
        </div>
      </SlotsContext.Provider>
    </WordingContext.Provider>
  );
}
