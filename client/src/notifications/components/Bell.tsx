import { forwardRef } from 'react';
import type { ConnectionState } from '../core/feed-client.js';
import { badgeText } from './format.js';
import { useWording } from './labels.js';
import { useSlots } from './slots.js';

export interface BellProps {
  unread: number;
  open: boolean;
  panelId: string;
  connection: ConnectionState;
  onToggle(): void;
}

/** The bell button with its unread badge, and the connection state beside it. */
export const Bell = forwardRef<HTMLButtonElement, BellProps>(function Bell({ unread, open, panelId, connection, onToggle }, ref) {
  const { labels } = useWording();
  const { bellIcon } = useSlots();
  return (
    <>
      <button
        ref={ref}
        type="button"
        className="hr-bell"
        aria-expanded={open}
        aria-controls={panelId}
        aria-haspopup="dialog"
        aria-label={unread > 0 ? labels.bellUnread(unread) : labels.title}
        onClick={onToggle}
        data-testid="bell"
      >
        {bellIcon ?? (
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
            <path
              fill="currentColor"
              d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
            />
          </svg>
        )}
        {unread > 0 ? (
          <span className="hr-badge" data-testid="unread-badge" aria-hidden="true">
            {badgeText(unread)}
          </span>
        ) : null}
      </button>
      <span className={`hr-connection hr-connection--${connection}`} data-testid="connection-state" role="status">
        {labels.connection[connection]}
      </span>
    </>
  );
});
