import mongoose from 'mongoose';
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../client/src/notifications/core/feed-client';
import { startRedisServer, type LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { sleep, waitFor } from '../server/test/support/wait';
import { openInspector } from '../server/test/support/database';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri } from '../server/test/support/services';

const CLIENTS = 40;

describe('Redis is killed mid-stream and comes back on the same port', () => {
  let redis: LocalRedis;
  let instances: RunningHerald[] = [];
  let inspector: mongoose.Connection;
  const sockets: FeedSocket[] = [];

  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all(instances.map((i) => i.close()));
    await inspector?.close();
    await redis?.stop();
  });

  it('notifications published meanwhile are stored, and every connected client has them within seconds of Redis returning, without reconnecting', async () => {
    const mongodbUri = freshMongoUri();
    redis = await startRedisServer();
    const port = redis.port;
    instances = [await startTestHerald({ mongodbUri, redisUrl: redis.url }), await startTestHerald({ mongodbUri, redisUrl: redis.url })];
    inspector = await openInspector(mongodbUri);
    const users = Array.from({ length: CLIENTS }, () => new mongoose.Types.ObjectId().toHexString());
    const clients = users.map((userId, i) => {
      const socket: FeedSocket = io(instances[i % 2]!.url, {
        auth: { token: instances[0]!.gateway.tokens.sign({ userId, name: 'fault' }).token },
        transports: ['websocket'],
        forceNew: true,
      });
      sockets.push(socket);
      return new FeedClient(socket);
    });
    await waitFor(() => clients.forEach((c) => expect(c.connection).toBe('connected')), 15_000);
    await Promise.all(clients.map((c) => c.sync()));
    let connects = 0;
    sockets.forEach((s) => s.on('connect', () => connects++));

    const publish = (title: string) => instances[0]!.gateway.publishNotification({ userIds: users, type: 'fault.redis', title });
    await publish('before');
    await waitFor(() => clients.forEach((c) => expect(c.state.items).toHaveLength(1)));

    redis.process.kill('SIGKILL');
    await redis.process.exited;
    // Stored while Redis is down: the live message cannot go out, the call still succeeds.
    const during = await publish('while redis was down');
    expect(during.notifications).toHaveLength(CLIENTS);
    expect(during.instancesReached.every((n) => n === null)).toBe(true);
    await sleep(500);

    redis = await startRedisServer({ port });
    const back = Date.now();
    await waitFor(() => clients.forEach((c) => expect(c.state.items.map((n) => n.title)).toContain('while redis was down')), 10_000, 50);
    const caughtUpMs = Date.now() - back;
    expect(caughtUpMs).toBeLessThan(5000);

    // Live delivery works again, through the resubscribed channels.
    await publish('after');
    await waitFor(() => clients.forEach((c) => expect(c.state.items).toHaveLength(3)), 10_000);
    expect(connects).toBe(0);

    const stored = await inspector.collection('notifications').countDocuments({});
    expect(stored).toBe(CLIENTS * 3);
    clients.forEach((c) => expect(new Set(c.state.items.map((n) => n.id)).size).toBe(3));
  }, 60_000);
});
