import mongoose from 'mongoose';
import type { Notification } from '@herald/shared';
import { startRedisServer, type LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { closeAllSockets, connect } from '../server/test/support/sockets';
import { waitFor } from '../server/test/support/wait';
import { openInspector, storedNotifications } from '../server/test/support/database';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri } from '../server/test/support/services';
import { exactly } from '../server/test/support/wait';

describe('a socket connects while Redis is down', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let inspector: mongoose.Connection;

  afterAll(async () => {
    closeAllSockets();
    await herald?.close();
    await inspector?.close();
    await redis?.stop();
  });

  it('its failed channel subscription is retried: once Redis is back, its sync answers and live pushes arrive, exactly once', async () => {
    const mongodbUri = freshMongoUri();
    redis = await startRedisServer();
    const port = redis.port;
    herald = await startTestHerald({ mongodbUri, redisUrl: redis.url });
    inspector = await openInspector(mongodbUri);
    const userId = new mongoose.Types.ObjectId().toHexString();

    redis.process.kill('SIGKILL');
    await redis.process.exited;
    const socket = await connect(herald.url, herald.gateway.tokens.sign({ userId, name: 'early' }).token);
    const received = exactly<Notification>(1);
    socket.on('notification', received.record);

    // The SUBSCRIBE cannot reach Redis: the sync that waits for it fails with a retryable error ack.
    const refused = await socket.timeout(10_000).emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(refused.error?.code).toBe('service_unavailable');

    redis = await startRedisServer({ port });
    await waitFor(
      async () => {
        const answer = await socket.timeout(5000).emitWithAck('notifications:sync', { afterSeq: 0 });
        expect(answer.error).toBeUndefined();
        expect(answer.data?.notifications).toEqual([]);
      },
      15_000,
      200,
    );

    const { notifications } = await herald.gateway.publishNotification({ userIds: [userId], type: 'fault.subscribe', title: 'live' });
    const [pushed] = await received.settled();
    expect(pushed?.id).toBe(notifications[0]!.id);
    const stored = await storedNotifications(inspector, userId);
    expect(stored.map((doc) => doc._id.toHexString())).toEqual([notifications[0]!.id]);
  }, 60_000);
});
