import type { FeedCounts, Notification, SyncResult } from '@herald/shared';
import { FeedClient, type FeedSocket } from '../src/notifications/core/feed-client';

/**
 * Counts and live notifications racing, with a scripted socket: the server's counts are taken at a
 * position of the feed, a live notification lands just before or after, and the client must end with
 * the server's count, not one more or one less. (The chaos test shows the same end to end.)
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

const counts = (unread: number, atSeq: number): FeedCounts => ({ unread, unseen: unread, atSeq });
const settle = () => new Promise((resolve) => setImmediate(resolve));
const answer = (notifications: Notification[], settledSeq: number, unread: number): SyncResult => ({
  notifications,
  hasMore: false,
  settledSeq,
  counts: counts(unread, settledSeq),
});

describe('FeedClient counts at a position, against live notifications', () => {
  it('a live notification that lands while a sync is in flight is counted once, with no second sync', async () => {
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    // Stored before the server read: the sync's counts (at 1) include it, and its live message is held.
    emit('notification', notification(1));
    syncs[0]!.answer(answer([notification(1)], 1, 1));
    await settle();
    expect(client.state.unread).toBe(1);
    // Stored after the server read: above the counts' position, so added to them.
    emit('notification', notification(2));
    expect(client.state.unread).toBe(2);
    expect(syncs).toHaveLength(1);
  });

  it('what a sync returns above a seq still being stored is added to counts taken below it', async () => {
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    // 2 is being stored: the server settles (and counts) up to 1, and returns 3.
    syncs[0]!.answer(answer([notification(1), notification(3)], 1, 1));
    await settle();
    expect(client.state).toMatchObject({ lastSeq: 1, unread: 2 });
    // 2 lands and arrives live: above the counts' position, so one more.
    emit('notification', notification(2));
    expect(client.state).toMatchObject({ lastSeq: 3, unread: 3 });
    expect(syncs).toHaveLength(1);
  });

  it('pushed counts past the watermark (a seq up to them may still be being stored) are followed by one sync', async () => {
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    syncs[0]!.answer(answer([notification(1)], 1, 1));
    await settle();
    // Another device read nothing; a publish took seq 2 and its insert is in flight when these are taken.
    emit('counts', counts(1, 2));
    await settle();
    expect(syncs).toHaveLength(2);
    emit('notification', notification(2));
    syncs[1]!.answer(answer([notification(2)], 2, 2));
    await settle();
    expect(client.state).toMatchObject({ lastSeq: 2, unread: 2 });
    // Counts at or below the watermark are exact as they are.
    emit('counts', counts(0, 2));
    await settle();
    expect(client.state.unread).toBe(0);
    expect(syncs).toHaveLength(2);
  });

  it('a sync asked for while one runs runs once more after it; a local change meanwhile keeps the older counts out', async () => {
    const { socket, syncs, emit } = scriptedSocket();
    const client = new FeedClient(socket);
    await settle();
    client.noteLocalChange();
    syncs[0]!.answer(answer([notification(1)], 1, 1));
    await settle();
    // Its counts were taken before the local change: not applied, and asked again.
    expect(client.state.unread).toBe(1);
    expect(syncs).toHaveLength(2);
    syncs[1]!.answer(answer([], 1, 0));
    await settle();
    expect(client.state.unread).toBe(0);
    emit('notifications:resync');
    expect(syncs).toHaveLength(3);
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
    syncs[1]!.answer({ notifications: [], hasMore: false, settledSeq: 0, counts: counts(0, 0) });
    await settle();
    // Caught up: hints sync again at once.
    emit('notifications:resync');
    expect(syncs).toHaveLength(3);
  });
});
