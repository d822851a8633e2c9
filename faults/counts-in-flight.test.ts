import type { Connection } from 'mongoose';
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../client/src/notifications/core/feed-client';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { openInspector, storedNotifications } from '../server/test/support/database';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { sleep, waitFor } from '../server/test/support/wait';
import { startSilentPublisher, type SilentPublisher } from './support/silent-publisher';

/**
 * A publish whose notification is stored but not yet counted: publisher A has inserted and not yet
 * told the counts cache (its Redis is slow, or the database answered late). A client that syncs in
 * that window gets the notification from the database and counts that leave it out; nothing new
 * comes on the next pass, so the client took those counts as settled, and A's live message (a
 * duplicate once held) changed nothing: the badge stayed one short for good. The chaos test found it
 * (29 clients 1-2 below the database after a 15-minute run).
 */
describe('counts taken while a publish is in flight', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let inspector: Connection;
  let slowPublisher: SilentPublisher;
  let socket: FeedSocket | undefined;
  let releaseAdded: () => void = () => undefined;
  let addedHeld: Promise<void>;

  beforeAll(async () => {
    redis = await startTestRedis();
    const mongodbUri = freshMongoUri();
    herald = await startTestHerald({ mongodbUri, redisUrl: redis.url });
    inspector = await openInspector(mongodbUri);
    // Publisher A, another process: after its insert, its report to the counts cache waits for the
    // test's word, and its live pushes are lost.
    slowPublisher = await startSilentPublisher({ mongodbUri, redisUrl: redis.url });
    const scripts = slowPublisher.redis as unknown as { heraldFeedAdded: (...args: unknown[]) => Promise<number> };
    const added = scripts.heraldFeedAdded.bind(slowPublisher.redis);
    let entered: () => void;
    addedHeld = new Promise((resolve) => (entered = resolve));
    const released = new Promise<void>((resolve) => (releaseAdded = resolve));
    scripts.heraldFeedAdded = async (...args: unknown[]) => {
      entered();
      await released;
      return added(...args);
    };
  });

  afterAll(async () => {
    releaseAdded();
    socket?.close();
    await slowPublisher?.close();
    await inspector?.close();
    await herald?.close();
    await redis?.stop();
  });

  it('are settled a moment later: the client ends with the database’s unread count', async () => {
    const userId = 'in-flight-1';
    socket = io(herald.url, {
      auth: { token: herald.gateway.tokens.sign({ userId, name: 'In flight' }).token },
      transports: ['websocket'],
      forceNew: true,
    });
    const client = new FeedClient(socket);
    await waitFor(() => expect(client.connection).toBe('connected'));
    await sleep(300);

    // A stores seq 1 and has not counted it yet.
    const slow = slowPublisher.core.publishNotification({ userIds: [userId], type: 'in-flight.test', title: 'From A' });
    await addedHeld;
    expect((await storedNotifications(inspector, userId)).map((n) => n.seq)).toEqual([1]);
    // B stores and pushes seq 2: the client sees the gap and syncs while A is still in flight.
    await herald.gateway.publishNotification({ userIds: [userId], type: 'in-flight.test', title: 'From B' });
    await waitFor(() => expect(client.state.items.map((n) => n.seq)).toEqual([2, 1]));
    await sleep(500);
    // Both held, one counted: the counts were taken with A in flight.
    expect(client.state.unread).toBe(1);

    // A reports; its live push is lost. The client settles its counts without anything else happening.
    releaseAdded();
    await slow;
    await waitFor(() => expect(client.state.unread).toBe(2), 6000, 50);
    // What the database holds: both, once, unread.
    const stored = await storedNotifications(inspector, userId);
    expect(stored.map((n) => n.seq)).toEqual([1, 2]);
    expect(stored.filter((n) => !n.readAt)).toHaveLength(2);
    expect(client.state.items.map((n) => n.seq)).toEqual([2, 1]);
  });
});
