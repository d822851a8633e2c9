import type { Notification } from '@herald/shared';
import { startRedisServer, type LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri } from '../server/test/support/services';
import { closeAllSockets, connect } from '../server/test/support/sockets';
import { exactly } from '../server/test/support/wait';

/**
 * Every announce fails: this Redis refuses PUBLISH (renamed away), so each live message of a publish
 * errors while the notification is stored. A connected, idle client still gets it within 10 s, once,
 * without a new notification to wake it (the staleness check sees the feed moved past the socket), and
 * /metrics counts the failed announces.
 */
describe('a stored notification whose announce failed', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;

  beforeAll(async () => {
    redis = await startRedisServer({ extraArgs: ['--rename-command', 'PUBLISH', ''] });
    herald = await startTestHerald({ mongodbUri: freshMongoUri(), redisUrl: redis.url });
  });

  afterAll(async () => {
    closeAllSockets();
    await herald?.close();
    await redis?.stop();
  });

  const failedAnnounces = async () => {
    const text = await herald.gateway.metrics.registry.metrics();
    return Number(/^herald_announce_failures_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
  };

  it('reaches the connected recipient within 10 s, once, and is counted on /metrics', async () => {
    const userId = 'announce-lost';
    const socket = await connect(herald.url, herald.gateway.tokens.sign({ userId, name: userId }).token);
    expect((await socket.emitWithAck('notifications:sync', { afterSeq: 0 })).data?.notifications).toEqual([]);
    // The client does what FeedClient does: a resync hint makes it sync after what it holds.
    const received = exactly<Notification>(1, 'notification');
    let held = 0;
    socket.on('notifications:resync', () => {
      void socket.emitWithAck('notifications:sync', { afterSeq: held }).then((answer) => {
        for (const n of answer.data?.notifications ?? []) {
          held = Math.max(held, n.seq);
          received.record(n);
        }
      });
    });
    socket.on('notification', (n) => received.record(n));
    const before = await failedAnnounces();

    const started = Date.now();
    const result = await herald.gateway.publishNotification({ userIds: [userId], type: 'announce.lost', title: 'stored, never announced' });
    expect(result.instancesReached).toEqual([null]);
    const [arrived] = await received.settled({ timeoutMs: 10_000, quietMs: 1000 });
    expect(arrived).toMatchObject({ userId, title: 'stored, never announced', seq: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await failedAnnounces()) - before).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
