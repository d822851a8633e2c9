import type { Notification } from '@herald/shared';
import {
  applyAllRead,
  applyDeleted,
  applyFirstPage,
  applyLive,
  applyOlderPage,
  applySync,
  applyUpdated,
  emptyFeed,
  nextExpiry,
  withoutExpired,
} from '../src/notifications/core/feed-state';

/** Counts taken past every seq these tests hold. */
const ALL = 1000;

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
    state = applySync(again.state, [n(1), n(2)], { unread: 2, unseen: 2, atSeq: ALL });
    expect(state.items.map((x) => x.seq)).toEqual([2, 1]);
    expect(state.unread).toBe(2);
  });

  it('detects a gap in seq and keeps the watermark below it, so a sync asks for the missing one', () => {
    const state = applyLive(emptyFeed, n(1)).state;
    expect(applyLive(state, n(2)).gap).toBe(false);
    const gapped = applyLive(state, n(4));
    expect(gapped.gap).toBe(true);
    expect(gapped.state.lastSeq).toBe(1);
    expect(gapped.state.items.map((x) => x.seq)).toEqual([4, 1]);
    const filled = applySync(gapped.state, [n(2), n(3), n(4)], { unread: 4, unseen: 4, atSeq: ALL });
    expect(filled.lastSeq).toBe(4);
    expect(filled.items.map((x) => x.seq)).toEqual([4, 3, 2, 1]);
  });

  it('moves the watermark over a hole that a sync confirmed (a seq that was never stored)', () => {
    const state = applySync(applyLive(emptyFeed, n(1)).state, [n(3)], { unread: 2, unseen: 2, atSeq: ALL });
    expect(state.lastSeq).toBe(3);
    expect(applyLive(state, n(4)).gap).toBe(false);
  });

  it('never moves the watermark past a seq the server has not settled (another publisher is storing it)', () => {
    // The client holds 1; a sync returns 3, and the server says only 1 is settled: 2 is in flight.
    const state = applySync(applyLive(emptyFeed, n(1)).state, [n(3)], { unread: 2, unseen: 2, atSeq: ALL }, 1);
    expect(state.lastSeq).toBe(1);
    expect(state.items.map((x) => x.seq)).toEqual([3, 1]);
    // 2 arrives (live, or from the next sync): the watermark moves over it and over 3, already held.
    const live = applyLive(state, n(2));
    expect(live.gap).toBe(false);
    expect(live.state.lastSeq).toBe(3);
    // Or the server settles 2 as a known gap (its insert failed): the watermark moves over both.
    expect(applySync(state, [n(3)], { unread: 1, unseen: 1, atSeq: ALL }, 2).lastSeq).toBe(3);
  });

  it('starts the watermark at the newest item of the first page', () => {
    const state = applyFirstPage(emptyFeed, [n(30), n(29)], { unread: 5, unseen: 5, atSeq: ALL });
    expect(state.lastSeq).toBe(30);
    expect(applyLive(state, n(31)).gap).toBe(false);
    expect(applyOlderPage(state, [n(28)]).lastSeq).toBe(30);
  });

  it('applies updates, archive and delete from other tabs', () => {
    let state = applySync(emptyFeed, [n(1), n(2)], { unread: 2, unseen: 2, atSeq: ALL });
    state = applyUpdated(state, n(1, { readAt: new Date().toISOString() }));
    expect(state.items.find((x) => x.seq === 1)?.readAt).toBeDefined();
    state = applyUpdated(state, n(2, { archivedAt: new Date().toISOString() }));
    expect(state.items.map((x) => x.seq)).toEqual([1]);
    state = applyDeleted(state, [n(1).id]);
    expect(state.items).toEqual([]);
    expect(applyUpdated(state, n(9)).items).toEqual([]);
  });

  it('takes counts from sync as authoritative', () => {
    const state = applySync(emptyFeed, [n(1, { readAt: new Date().toISOString() })], { unread: 0, unseen: 1, atSeq: ALL });
    expect(state.unread).toBe(0);
    expect(state.unseen).toBe(1);
  });

  it('marks every item read (and seen) at once, keeping earlier read times', () => {
    const earlier = '2026-01-01T00:00:00.000Z';
    const at = '2026-02-01T00:00:00.000Z';
    const state = applyAllRead(
      applySync(emptyFeed, [n(1, { readAt: earlier, seenAt: earlier }), n(2)], { unread: 1, unseen: 1, atSeq: ALL }),
      at,
    );
    expect(state.items.map((x) => [x.seq, x.readAt, x.seenAt])).toEqual([
      [2, at, at],
      [1, earlier, earlier],
    ]);
  });

  describe('groups', () => {
    const grouped = (seq: number, groupSeq: number, count: number, extra: Partial<Notification> = {}) =>
      n(seq, { group: { id: n(groupSeq).id, key: 'post:1', count, actorCount: count, actors: [] }, ...extra });

    it('keeps one item per group, the newest, and counts it once', () => {
      let state = applyLive(emptyFeed, n(1)).state;
      state = applyLive(state, grouped(2, 2, 1)).state;
      state = applyLive(state, grouped(3, 2, 2)).state;
      expect(state.items.map((x) => x.seq)).toEqual([3, 1]);
      expect(state.unread).toBe(2);
      expect(state.unseen).toBe(2);
      expect(state.lastSeq).toBe(3);
    });

    it('a new item of a read group makes it unread again; an older item arriving late is dropped', () => {
      let state = applyLive(emptyFeed, grouped(1, 1, 1, { readAt: 'x', seenAt: 'x' })).state;
      expect(state.unread).toBe(0);
      state = applyLive(state, grouped(3, 1, 2)).state;
      expect(state.items.map((x) => x.seq)).toEqual([3]);
      expect(state.unread).toBe(1);
      const late = applyLive(state, grouped(2, 1, 1));
      expect(late.isNew).toBe(false);
      expect(late.state.items.map((x) => x.seq)).toEqual([3]);
      expect(late.state.unread).toBe(1);
    });

    it('the newest item of a group is the one counting most, whatever its seq', () => {
      // Two publishers raced: the group's third item got the lower seq.
      let state = applyLive(emptyFeed, grouped(1, 1, 1)).state;
      state = applyLive(state, grouped(3, 1, 2)).state;
      state = applyLive(state, grouped(2, 1, 3)).state;
      expect(state.items.map((x) => x.seq)).toEqual([2]);
      expect(state.unread).toBe(1);
      expect(state.lastSeq).toBe(3);
    });

    it('sync and pages replace a held group item with its newer one', () => {
      let state = applyFirstPage(emptyFeed, [grouped(4, 1, 3), n(2)], { unread: 2, unseen: 2, atSeq: ALL });
      state = applySync(state, [grouped(6, 1, 4), n(7)], { unread: 3, unseen: 3, atSeq: ALL }, 7);
      expect(state.items.map((x) => x.seq)).toEqual([7, 6, 2]);
      state = applyOlderPage(state, [grouped(1, 1, 1)]);
      expect(state.items.map((x) => x.seq)).toEqual([7, 6, 2]);
    });
  });

  it('hides notifications once their expiresAt has passed, and says when the next one does', () => {
    const state = applyFirstPage(
      emptyFeed,
      [n(3, { expiresAt: new Date(5000).toISOString() }), n(2), n(1, { expiresAt: new Date(2000).toISOString() })],
      { unread: 3, unseen: 3, atSeq: ALL },
    );
    expect(withoutExpired(state, 1000)).toBe(state);
    expect(nextExpiry(state.items, 1000)).toBe(2000);
    expect(withoutExpired(state, 2000).items.map((x) => x.seq)).toEqual([3, 2]);
    expect(nextExpiry(state.items, 2000)).toBe(5000);
    expect(withoutExpired(state, 6000).items.map((x) => x.seq)).toEqual([2]);
    expect(nextExpiry(state.items, 6000)).toBeUndefined();
  });
});
