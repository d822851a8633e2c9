import type { Connection } from 'mongoose';
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../client/src/notifications/core/feed-client';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { notificationModel } from '../server/src/notifications/notification-model';
import { openInspector, storedNotifications } from '../server/test/support/database';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { waitFor } from '../server/test/support/wait';
import { startSilentPublisher, type SilentPublisher } from './support/silent-publisher';

/**
 * Two publishers, one hole: publisher A has reserved seq 1 and is still inserting when publisher B
 * stores seq 2 and pushes it. The client sees the gap and syncs; seq 1 is not stored yet. If the sync
 * moved the client's watermark past 1, and A's live push is then lost, the client would never fetch 1
 * (the badge would count it, the feed never show it).
 */
describe('a seq still being stored by another publisher', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let mongodbUri: string;
  let inspector: Connection;
  let slowPublisher: SilentPublisher;
  let socket: FeedSocket | undefined;
  let releaseInsert: () => void = () => undefined;
  let insertHeld: Promise<void>;

  beforeAll(async () => {
    redis = await startTestRedis();
    mongodbUri = freshMongoUri();
    herald = await startTestHerald({ mongodbUri, redisUrl: redis.url });
    inspector = await openInspector(mongodbUri);
    // Publisher A, another process: its inserts wait for the test's word, and its live pushes are lost.
    slowPublisher = await startSilentPublisher({ mongodbUri, redisUrl: redis.url });
    const collection = notificationModel(slowPublisher.connection).collection;
    const insertMany = collection.insertMany.bind(collection);
    let entered: () => void;
    insertHeld = new Promise((resolve) => (entered = resolve));
    const released = new Promise<void>((resolve) => (releaseInsert = resolve));
    collection.insertMany = (async (...args: Parameters<typeof insertMany>) => {
      entered();
      await released;
      return insertMany(...args);
    }) as typeof collection.insertMany;
  });

  afterAll(async () => {
    releaseInsert();
    socket?.close();
    await slowPublisher?.close();
    await inspector?.close();
    await herald?.close();
    await redis?.stop();
  });

  it('is fetched once stored: the client’s watermark waits for it, and the server reminds the client', async () => {
    const userId = 'hole-1';
    socket = io(herald.url, {
      auth: { token: herald.gateway.tokens.sign({ userId, name: 'Hole' }).token },
      transports: ['websocket'],
      forceNew: true,
    });
    const client = new FeedClient(socket);
    await waitFor(() => expect(client.connection).toBe('connected'));

    // A reserves seq 1 and holds its insert.
    const slow = slowPublisher.core.publishNotification({ userIds: [userId], type: 'hole.test', title: 'From A, stored late' });
    await insertHeld;
    // B stores seq 2 and pushes it: the client sees 2, finds 1 missing, syncs; 1 is not stored yet.
    const { notifications } = await herald.gateway.publishNotification({ userIds: [userId], type: 'hole.test', title: 'From B' });
    expect(notifications[0]!.seq).toBe(2);
    await waitFor(() => expect(client.state.items.map((n) => n.seq)).toEqual([2]));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(client.state.lastSeq).toBe(0);

    // A's insert lands; its live push is lost.
    releaseInsert();
    const stored = (await slow).notifications[0]!;
    expect(stored.seq).toBe(1);
    const storedAt = Date.now();
    await waitFor(() => expect(client.state.items.map((n) => n.seq)).toEqual([2, 1]), 5000, 50);
    expect(Date.now() - storedAt).toBeLessThan(5000);
    expect(client.state.lastSeq).toBe(2);
    // What the client shows is what the database holds: both, once, and counted.
    expect((await storedNotifications(inspector, userId)).map((n) => n.seq)).toEqual([1, 2]);
    expect(client.state.unread).toBe(2);
  });
});
