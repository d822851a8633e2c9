import { createContext, useContext, type ReactNode } from 'react';
import type { Notification } from '@herald/shared';

/**
 * Parts of NotificationComponent a host can draw itself, without forking it. The component keeps the
 * behaviour around them: the item's button (open, mark read, keyboard, the unread text for screen
 * readers), the list, the bell's button, badge and name.
 *
 * @example
 * const slots: RenderSlots = { renderItem: (n) => <OrderLine notification={n} />, bellIcon: <InboxIcon /> };
 */
export interface RenderSlots {
  /** What an item shows inside its button, instead of title, body, group size and time. */
  renderItem?: (notification: Notification) => ReactNode;
  /** What an empty feed (or tab) shows, instead of the `empty` label. */
  renderEmpty?: () => ReactNode;
  /** The bell's icon, instead of the bell. */
  bellIcon?: ReactNode;
}

export const SlotsContext = createContext<RenderSlots>({});

export function useSlots(): RenderSlots {
  return useContext(SlotsContext);
}
