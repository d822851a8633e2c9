import type { Notification } from '@herald/shared';

/**
 * A toast on screen: one notification, or the summary of several that came in a burst.
 *
 * @example
 * const [toasts, setToasts] = useState<Toast[]>([]);
 */
export type Toast =
  | { kind: 'notification'; key: string; notification: Notification; shownAt: number }
  | { kind: 'summary'; key: string; count: number; shownAt: number };

/**
 * How many toasts show, how close together they fold, and how long they stay.
 *
 * @example
 * const calm: ToastPolicy = { ...defaultToastPolicy, maxVisible: 1 };
 */
export interface ToastPolicy {
  /** At most this many toasts at once. @default 3 */
  maxVisible: number;
  /** New toasts closer together than this are folded into one "N more" toast. @default 800 */
  minGapMs: number;
  /** How long a toast stays. @default 5000 */
  ttlMs: number;
}

/**
 * At most 3 toasts, bursts within 800 ms folded, each shown for 5 s.
 *
 * @example
 * setTimeout(tick, defaultToastPolicy.ttlMs / 5);
 */
export const defaultToastPolicy: ToastPolicy = { maxVisible: 3, minGapMs: 800, ttlMs: 5000 };

/**
 * Adds a toast for a live notification without flooding the screen: a
 * notification arriving within `minGapMs` of the last toast is counted into a
 * single summary toast instead. A group's new item takes the place of its
 * toast on screen ("Alice and 2 others…" becomes "Bob and 3 others…").
 *
 * @example
 * setToasts((current) => addToast(current, notification, Date.now()));
 */
export function addToast(toasts: Toast[], notification: Notification, now: number, policy: ToastPolicy = defaultToastPolicy): Toast[] {
  const current = expireToasts(toasts, now, policy);
  const group = notification.group?.id;
  const same = group ? current.findIndex((t) => t.kind === 'notification' && t.notification.group?.id === group) : -1;
  if (same >= 0) {
    const held = current[same] as Extract<Toast, { kind: 'notification' }>;
    if (held.notification.group!.count > notification.group!.count) return current;
    return current.map((t, i) => (i === same ? { kind: 'notification' as const, key: held.key, notification, shownAt: now } : t));
  }
  const last = current.at(-1);
  if (last && now - last.shownAt < policy.minGapMs) {
    const summary = current.find((t): t is Extract<Toast, { kind: 'summary' }> => t.kind === 'summary');
    const rest = current.filter((t) => t.kind !== 'summary');
    const count = (summary?.count ?? 0) + 1;
    const folded: Toast = { kind: 'summary', key: 'summary', count, shownAt: summary?.shownAt ?? now };
    return [...rest, folded].slice(-policy.maxVisible);
  }
  return [...current, { kind: 'notification' as const, key: notification.id, notification, shownAt: now }].slice(-policy.maxVisible);
}

/**
 * Drops toasts that have been shown for longer than the policy's ttl.
 *
 * @example
 * setToasts((current) => expireToasts(current, Date.now()));
 */
export function expireToasts(toasts: Toast[], now: number, policy: ToastPolicy = defaultToastPolicy): Toast[] {
  return toasts.filter((t) => now - t.shownAt < policy.ttlMs);
}
