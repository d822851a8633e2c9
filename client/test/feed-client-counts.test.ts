import type { Notification, NotificationCounts, SyncResult } from '@herald/shared';
import { FeedClient, type FeedSocket } from '../src/notifications/core/feed-client';

/**
 * Counts and live notifications racing, with a scripted socket: the server's counts are taken at one
 * moment, a live notification lands just before or after, and the client must end with the server's
 * count, not one more or one less. (The chaos test shows the same end to end.)
 */
type Listener = (...args: unknown[]) => void;

function scriptedSocket() {
  const listeners = new Map<string, Listener[]>();
  const syncs: { afterSeq: number; answer: (result: SyncResult) => void; fail: (code: string) => void }[] = [];
  const socket = {
    connected: true,
    id: 'socket-1',
    io: { on: () => undefined },
    on(event: string, listener: Listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return socket;
    },
    connect: () => socket,
    close: () => socket,
    timeout: () => ({
      emitWithAck: (event: string, payload: { afterSeq: number }) =>
        new Promise((resolve) => {
          if (event !== 'notifications:sync') throw new Error(`unexpected ${event}`);
          syncs.push({
            afterSeq: payload.afterSeq,
            answer: (data) => resolve({ data }),
            fail: (code) => resolve({ error: { code, message: code } }),
          });
        }),
    }),
  };
  const emit = (event: string, ...args: unknown[]) => listeners.get(event)?.forEach((listener) => listener(...args));
  return { socket: socket as unknown as FeedSocket, syncs, emit };
}

function notification(seq: number): Notification {
  return {
    id: `n${seq}`,
    seq,
    userId: 'u1',
    type: 'post.liked',
    title: `#${seq}`,
    createdAt: new Date(0).toISOString(),
  };
}

const counts = (unread: number): NotificationCounts => ({ unread, unseen: unread });
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('FeedClient counts against live notifications', () => {
  afterEach(() => jest.useRealTimers());

  it('a live notification that lands while a sync is in flight makes the client ask again, and it ends on the later counts', async () => {
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    syncs[0]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0) });
    await settle();
    // A resync hint starts a sync; the server counts (0 unread) before #1 is stored, and #1's live
    // message (no gap: it is next in line) arrives before the answer.
    emit('notifications:resync');
    expect(syncs).toHaveLength(2);
    emit('notification', notification(1));
    syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0) });
    await settle();
    // Taken as it is, the answer would leave 0 unread with 1 held: the client asks once more.
    expect(syncs).toHaveLength(3);
    expect(syncs[2]!.afterSeq).toBe(1);
    syncs[2]!.answer({ notifications: [], hasMore: false, settledSeq: 1, counts: counts(1) });
    await settle();
    expect(client.state.items.map((n) => n.seq)).toEqual([1]);
    expect(client.state.unread).toBe(1);
    expect(syncs).toHaveLength(3);
  });

  it('a catch-up that brings new notifications asks once more to settle the counts, unless the server says they cover the answer', async () => {
    for (const covered of [false, true]) {
      const { socket, syncs } = scriptedSocket();
      const client = new FeedClient(socket);
      await settle();
      syncs[0]!.answer({
        notifications: [notification(1), notification(2)],
        hasMore: false,
        settledSeq: 2,
        counts: counts(2),
        ...(covered ? { countsCoverAnswer: true as const } : {}),
      });
      await settle();
      expect(client.state.items.map((n) => n.seq)).toEqual([2, 1]);
      expect(client.state.unread).toBe(2);
      if (covered) {
        expect(syncs).toHaveLength(1);
      } else {
        expect(syncs).toHaveLength(2);
        expect(syncs[1]!.afterSeq).toBe(2);
        syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 2, counts: counts(2) });
        await settle();
        expect(syncs).toHaveLength(2);
      }
      client.close();
    }
  });

  it('when every pass of a sync is overtaken by a live notification, it syncs again a moment later and ends on the server counts', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    syncs[0]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0) });
    await settle();
    emit('notifications:resync');
    // Each pass is counted before its live notification is stored, and that live message arrives first.
    let seq = 0;
    for (let pass = 0; pass < 5; pass++) {
      expect(syncs).toHaveLength(2 + pass);
      emit('notification', notification(++seq));
      syncs[1 + pass]!.answer({ notifications: [], hasMore: false, settledSeq: seq - 1, counts: counts(seq - 1) });
      await settle();
    }
    // Five passes, none settled: the counts are one short and no more passes run now.
    expect(syncs).toHaveLength(6);
    expect(client.state.unread).toBe(4);
    // The stream stops; a moment later the client asks again and takes the settled counts.
    jest.advanceTimersByTime(3000);
    await settle();
    expect(syncs).toHaveLength(7);
    syncs[6]!.answer({ notifications: [], hasMore: false, settledSeq: 5, counts: counts(5) });
    await settle();
    expect(client.state.unread).toBe(5);
    expect(client.state.items).toHaveLength(5);
  });

  it('a sync that brings notifications it did not hold is confirmed by one that brings nothing new', async () => {
    const { socket, syncs } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    // Counted before #2 was stored, read after: the answer holds #1 and #2 but counts 1.
    syncs[0]!.answer({ notifications: [notification(1), notification(2)], hasMore: false, settledSeq: 2, counts: counts(1) });
    await settle();
    expect(syncs).toHaveLength(2);
    expect(syncs[1]!.afterSeq).toBe(2);
    syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 2, counts: counts(2) });
    await settle();
    expect(client.state.unread).toBe(2);
    // Nothing new in the last answer: the counts are settled, no more asking.
    expect(syncs).toHaveLength(2);
  });

  it('counts the server took while a publish was in flight are settled by a sync a moment later, until they are settled', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { socket, syncs } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    // #1 is stored but its publisher has not counted it yet: the read returns it, the counts leave it out.
    syncs[0]!.answer({ notifications: [notification(1)], hasMore: false, settledSeq: 1, counts: counts(0), countsSettled: false });
    await settle();
    syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 1, counts: counts(0), countsSettled: false });
    await settle();
    // Nothing new, no live notification: without the server's word this would be settled, one short.
    expect(syncs).toHaveLength(2);
    expect(client.state.unread).toBe(0);
    jest.advanceTimersByTime(3000);
    await settle();
    expect(syncs).toHaveLength(3);
    // Still in flight: asked again, after twice as long.
    syncs[2]!.answer({ notifications: [], hasMore: false, settledSeq: 1, counts: counts(0), countsSettled: false });
    await settle();
    jest.advanceTimersByTime(5900);
    await settle();
    expect(syncs).toHaveLength(3);
    jest.advanceTimersByTime(100);
    await settle();
    expect(syncs).toHaveLength(4);
    syncs[3]!.answer({ notifications: [], hasMore: false, settledSeq: 1, counts: counts(1) });
    await settle();
    expect(client.state.unread).toBe(1);
    // Settled: no more asking.
    jest.advanceTimersByTime(10_000);
    await settle();
    expect(syncs).toHaveLength(4);
  });

  it('unsettled counts on a sync that brought nothing new are taken as they are (nothing held can be missing from them)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { socket, syncs } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    // The publish in flight has not been read by this sync: its live message will count it.
    syncs[0]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0), countsSettled: false });
    await settle();
    jest.advanceTimersByTime(30_000);
    await settle();
    expect(syncs).toHaveLength(1);
    expect(client.state.unread).toBe(0);
  });

  it('pushed counts that already include a live notification arriving just after are settled by a sync', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    syncs[0]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0) });
    await settle();
    expect(syncs).toHaveLength(1);
    // Another device read something; the server's counts were taken after #1 was stored, and #1's live
    // message comes after them: held and counted, it would show 2 where the server has 1.
    emit('counts', counts(1));
    emit('notification', notification(1));
    expect(client.state.unread).toBe(2);
    jest.advanceTimersByTime(3000);
    await settle();
    expect(syncs).toHaveLength(2);
    syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 1, counts: counts(1) });
    await settle();
    expect(client.state.unread).toBe(1);
  });
});

describe('FeedClient against a failing server', () => {
  afterEach(() => jest.useRealTimers());

  it('a resync hint while a failed sync waits for its retry does not sync again before the retry', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { socket, syncs, emit } = scriptedSocket();
    new FeedClient(socket);
    await settle();
    syncs[0]!.fail('database_unavailable');
    await settle();
    // The staleness check hints every couple of seconds while the client is behind.
    for (let i = 0; i < 5; i++) emit('notifications:resync');
    expect(syncs).toHaveLength(1);
    jest.advanceTimersByTime(1000);
    await settle();
    expect(syncs).toHaveLength(2);
    syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0) });
    await settle();
    // Caught up: hints sync again at once.
    emit('notifications:resync');
    expect(syncs).toHaveLength(3);
  });
});
