import { useEffect, useRef, useState } from 'react';
import type { Notification } from '@herald/shared';
import { addToast, defaultToastPolicy, expireToasts, type Toast } from '../core/toast-queue.js';
import { useWording } from './labels.js';

/**
 * Toasts for notifications that arrived live (rate-limited into a summary),
 * and the polite live region that announces them to screen readers; the
 * toasts themselves are visual only.
 */
export function Toasts({ live, holdBack }: { live: Notification[]; holdBack?: (notification: Notification) => boolean }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [announcement, setAnnouncement] = useState('');
  const seenLive = useRef(0);
  const { labels } = useWording();

  useEffect(() => {
    // Quiet hours: no toast and no announcement (the feed and the badge still update).
    const fresh = live.slice(seenLive.current).filter((n) => !holdBack?.(n));
    seenLive.current = live.length;
    if (fresh.length === 0) return;
    const now = Date.now();
    setToasts((current) => fresh.reduce((acc, n) => addToast(acc, n, now), current));
    setAnnouncement(fresh.length === 1 ? labels.announceOne(fresh[0]!.title) : labels.announceMany(fresh.length));
  }, [live, labels, holdBack]);

  useEffect(() => {
    if (toasts.length === 0) return;
    const timer = setTimeout(() => setToasts((current) => expireToasts(current, Date.now())), defaultToastPolicy.ttlMs / 5);
    return () => clearTimeout(timer);
  }, [toasts]);

  return (
    <>
      <div className="hr-toasts" aria-hidden="true">
        {toasts.map((t) =>
          t.kind === 'notification' ? (
            <div key={t.key} className="hr-toast" data-testid="toast">
              <strong>{t.notification.title}</strong>
              {t.notification.body ? <span>{t.notification.body}</span> : null}
            </div>
          ) : (
            <div key={t.key} className="hr-toast hr-toast--summary" data-testid="toast-summary">
              <strong>{labels.moreToasts(t.count)}</strong>
            </div>
          ),
        )}
      </div>
      <div className="hr-visually-hidden" role="status" aria-live="polite" data-testid="live-region">
        {announcement}
      </div>
    </>
  );
}
