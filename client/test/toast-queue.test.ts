import type { Notification } from '@herald/shared';
import { badgeText } from '../src/notifications/components/format';
import { addToast, defaultToastPolicy, expireToasts, type Toast } from '../src/notifications/core/toast-queue';

const n = (i: number): Notification => ({
  id: `id${i}`,
  userId: 'u',
  seq: i,
  type: 'a.b',
  title: `t${i}`,
  createdAt: new Date(0).toISOString(),
});

describe('toasts do not flood the screen', () => {
  it('a burst becomes one toast plus one "N more" summary', () => {
    let toasts: Toast[] = [];
    for (let i = 1; i <= 20; i++) toasts = addToast(toasts, n(i), 1000 + i * 10);
    expect(toasts).toHaveLength(2);
    expect(toasts[0]).toMatchObject({ kind: 'notification', key: 'id1' });
    expect(toasts[1]).toMatchObject({ kind: 'summary', count: 19 });
  });

  it('spaced-out notifications each get a toast, at most three at once, and expire', () => {
    let toasts: Toast[] = [];
    for (let i = 1; i <= 5; i++) toasts = addToast(toasts, n(i), i * 1000);
    expect(toasts.map((t) => t.key)).toEqual(['id3', 'id4', 'id5']);
    expect(expireToasts(toasts, 5000 + defaultToastPolicy.ttlMs)).toEqual([]);
  });

  it('the badge caps at 99+', () => {
    expect(badgeText(7)).toBe('7');
    expect(badgeText(99)).toBe('99');
    expect(badgeText(100)).toBe('99+');
  });

  it("a group's new item takes its toast's place instead of adding one", () => {
    const grouped = (i: number, count: number): Notification => ({
      ...n(i),
      group: { id: 'id1', key: 'k', count, actorCount: count, actors: [] },
    });
    let toasts = addToast([], grouped(1, 1), 0);
    toasts = addToast(toasts, grouped(2, 2), 100);
    toasts = addToast(toasts, grouped(3, 3), 200);
    expect(toasts).toHaveLength(1);
    expect(toasts[0]).toMatchObject({ kind: 'notification', notification: { seq: 3 }, shownAt: 200 });
    // An older item of the group arriving late changes nothing.
    expect(addToast(toasts, grouped(4, 2), 300)).toEqual(toasts);
  });
});
