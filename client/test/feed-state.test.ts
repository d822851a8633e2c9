import type { Notification } from '@herald/shared';
import { applyLive, applySync, emptyFeed } from '../src/notifications/feed-state';

const n = (seq: number, extra: Partial<Notification> = {}): Notification => ({
  id: seq.toString(16).padStart(24, '0'),
  userId: 'f'.repeat(24),
  seq,
  type: 'a.b',
  title: `n${seq}`,
  createdAt: new Date(0).toISOString(),
  ...extra,
});

describe('client feed state', () => {
  it('keeps the newest first and counts unread', () => {
    let state = emptyFeed;
    for (const seq of [1, 2, 3]) state = applyLive(state, n(seq)).state;
    expect(state.items.map((x) => x.seq)).toEqual([3, 2, 1]);
    expect(state.unread).toBe(3);
    expect(state.lastSeq).toBe(3);
  });

  it('shows a notification once even when it arrives live and by sync', () => {
    let state = applyLive(emptyFeed, n(1)).state;
    const again = applyLive(state, n(1));
    expect(again.isNew).toBe(false);
    state = applySync(again.state, [n(1), n(2)], { unread: 2, unseen: 2 });
    expect(state.items.map((x) => x.seq)).toEqual([2, 1]);
    expect(state.unread).toBe(2);
  });

  it('detects a gap in seq', () => {
    const state = applyLive(emptyFeed, n(1)).state;
    expect(applyLive(state, n(2)).gap).toBe(false);
    expect(applyLive(state, n(4)).gap).toBe(true);
  });

  it('a first live notification on an empty feed is not a gap (the initial sync covers history)', () => {
    expect(applyLive(emptyFeed, n(7)).gap).toBe(false);
  });

  it('takes counts from sync as authoritative', () => {
    const state = applySync(emptyFeed, [n(1, { readAt: new Date().toISOString() })], { unread: 0, unseen: 1 });
    expect(state.unread).toBe(0);
    expect(state.unseen).toBe(1);
  });
});
