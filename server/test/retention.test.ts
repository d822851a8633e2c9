import { createLogger } from '../src/platform/logger';
import { createFeedCache } from '../src/notifications/feed-cache';
import { createRetentionSweeper } from '../src/notifications/retention';
import { login } from './support/http';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('retention', () => {
  const stack = useTestStack();

  const sweeper = (maxAgeDays: number, maxPerUser: number, lockKey = `retention-${Math.random()}`) =>
    createRetentionSweeper({
      connection: stack.inspector,
      redis: stack.redisClient,
      logger: createLogger('silent'),
      policy: { maxAgeDays, maxPerUser, intervalMs: 60_000 },
      cache: createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names }),
      names: stack.names,
      lockKey,
    });

  it('keeps only the newest N per user and deletes what is older than the age limit', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const alice = await login(stack.herald.url, 'alice');
    for (let i = 1; i <= 8; i++) await stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'a.b', title: `bob ${i}` });
    for (let i = 1; i <= 3; i++)
      await stack.herald.gateway.publishNotification({ userIds: [alice.user.id], type: 'a.b', title: `alice ${i}` });

    const report = await sweeper(0, 5).runOnce();
    expect(report).toMatchObject({ overLimit: 3, usersTrimmed: 1 });
    expect((await storedNotifications(stack.inspector, bob.user.id)).map((d) => d.title)).toEqual([
      'bob 4',
      'bob 5',
      'bob 6',
      'bob 7',
      'bob 8',
    ]);
    expect(await storedNotifications(stack.inspector, alice.user.id)).toHaveLength(3);

    await stack.inspector
      .collection('notifications')
      .updateOne({ userId: alice.user.id, title: 'alice 1' }, { $set: { createdAt: new Date(Date.now() - 40 * 24 * 3600 * 1000) } });
    expect(await sweeper(30, 0).runOnce()).toMatchObject({ expired: 1 });
    expect((await storedNotifications(stack.inspector, alice.user.id)).map((d) => d.title)).toEqual(['alice 2', 'alice 3']);

    // New notifications keep counting up: retention never reuses a seq.
    const { notifications } = await stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'a.b', title: 'bob 9' });
    expect(notifications[0]?.seq).toBe(9);
  });

  it('one instance sweeps per interval: a second sweeper sharing the lock skips', async () => {
    const first = sweeper(30, 0, 'shared-lock');
    const second = sweeper(30, 0, 'shared-lock');
    expect(await first.runOnce()).not.toBeNull();
    expect(await second.runOnce()).toBeNull();
  });
});
