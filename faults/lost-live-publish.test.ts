import type { Notification } from '@herald/shared';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { closeAllSockets, connect, type ClientSocket } from '../server/test/support/sockets';
import { exactly } from '../server/test/support/wait';
import { startSilentPublisher, type SilentPublisher } from './support/silent-publisher';

/**
 * A notification is stored but its live publish never happens: the publishing process died between
 * the insert and the PUBLISH, or its Redis blipped. A connected, idle client must still get it, within
 * the staleness bound (5 s), without reconnecting and without another notification coming after it.
 */
describe('a stored notification whose live publish was lost', () => {
  let redis: LocalRedis;
  let mongodbUri: string;
  let herald: RunningHerald;
  let silent: SilentPublisher;

  beforeAll(async () => {
    redis = await startTestRedis();
    mongodbUri = freshMongoUri();
    herald = await startTestHerald({ mongodbUri, redisUrl: redis.url });
    // Another process's publisher on the same database and Redis, whose live messages are all lost.
    silent = await startSilentPublisher({ mongodbUri, redisUrl: redis.url });
  });

  afterAll(async () => {
    closeAllSockets();
    await silent?.close();
    await herald?.close();
    await redis?.stop();
  });

  /** A client the way the real one behaves: it syncs on connect and whenever the server asks it to. */
  async function idleClient(userId: string, at = herald) {
    const socket: ClientSocket = await connect(at.url, at.gateway.tokens.sign({ userId, name: userId }).token);
    const seen = new Map<string, { notification: Notification; at: number }>();
    const received = exactly<Notification>(1, `notification for ${userId}`);
    let lastSeq = 0;
    const take = (n: Notification) => {
      lastSeq = Math.max(lastSeq, n.seq);
      if (seen.has(n.id)) return;
      seen.set(n.id, { notification: n, at: Date.now() });
      received.record(n);
    };
    const sync = () =>
      new Promise<void>((resolve) =>
        socket.emit('notifications:sync', { afterSeq: lastSeq }, (answer) => {
          if ('data' in answer && answer.data) answer.data.notifications.forEach(take);
          resolve();
        }),
      );
    socket.on('notification', take);
    socket.on('notifications:resync', () => void sync());
    await sync();
    return { received, seen, sync };
  }

  it('reaches the connected idle client within 5 s, once', async () => {
    const client = await idleClient('idle-1');
    const { notifications } = await silent.core.publishNotification({
      userIds: ['idle-1'],
      type: 'lost.live',
      title: 'Nobody announced me',
    });
    const storedAt = Date.now();
    expect(notifications).toHaveLength(1);

    const [got] = await client.received.settled({ timeoutMs: 8000, quietMs: 1500 });
    expect(got!.id).toBe(notifications[0]!.id);
    const after = client.seen.get(got!.id)!.at - storedAt;
    expect(after).toBeLessThan(5000);
  });

  it('waits for the next sync on a gateway with the check switched off (how the bench measures its cost)', async () => {
    const unchecked = await startTestHerald({ mongodbUri, redisUrl: redis.url, options: { stalenessCheckMs: 0 } });
    try {
      const client = await idleClient('idle-2', unchecked);
      const { notifications } = await silent.core.publishNotification({
        userIds: ['idle-2'],
        type: 'lost.live',
        title: 'Nobody announced me',
      });
      // The checked gateway's client had it within 5 s; this one has had no reason to ask.
      await new Promise((resolve) => setTimeout(resolve, 5000));
      expect(client.received.items).toHaveLength(0);
      await client.sync();
      expect(client.received.items.map((n) => n.id)).toEqual([notifications[0]!.id]);
    } finally {
      await unchecked.close();
    }
  });
});
