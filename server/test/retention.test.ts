import { createLogger } from '../src/platform/logger';
import { createRetentionSweeper, type RetentionPolicy } from '../src/notifications/retention';
import { login } from './support/http';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

const DAY_MS = 24 * 3600 * 1000;

describe('retention', () => {
  const stack = useTestStack();

  const sweeper = (policy: Partial<RetentionPolicy>, lockKey = `retention-${Math.random()}`) =>
    createRetentionSweeper({
      connection: stack.inspector,
      redis: stack.redisClient,
      logger: createLogger('silent'),
      policy: { maxAgeDays: 0, maxPerUser: 0, intervalMs: 60_000, ...policy },
      names: stack.names,
      lockKey,
      // What the gateway's publishes gathered is written before each sweep, as a sweeper in that process does.
      tracker: { stored: () => undefined, flush: () => stack.herald.gateway.retention.flush() },
    });
  const publish = (userId: string, title: string, actor?: string) =>
    stack.herald.gateway.publishNotification({
      userIds: [userId],
      type: 'a.b',
      title,
      ...(actor ? { actor: { id: actor, name: actor } } : {}),
    });
  const titles = async (userId: string) => (await storedNotifications(stack.inspector, userId)).map((d) => d.title);
  const age = (userId: string, title: string, days: number) =>
    stack.inspector.collection('notifications').updateOne({ userId, title }, { $set: { createdAt: new Date(Date.now() - days * DAY_MS) } });

  it('keeps only the newest N per user and deletes what is older than the age limit', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const alice = await login(stack.herald.url, 'alice');
    for (let i = 1; i <= 8; i++) await publish(bob.user.id, `bob ${i}`);
    for (let i = 1; i <= 3; i++) await publish(alice.user.id, `alice ${i}`);

    const report = await sweeper({ maxPerUser: 5 }).runOnce();
    expect(report).toMatchObject({ overLimit: 3, usersTrimmed: 1 });
    expect(await titles(bob.user.id)).toEqual(['bob 4', 'bob 5', 'bob 6', 'bob 7', 'bob 8']);
    expect(await titles(alice.user.id)).toHaveLength(3);

    await age(alice.user.id, 'alice 1', 40);
    // Its user's oldest notification as the tracker knows it is what the age limit waits for.
    await stack.redisClient.zadd(stack.names.retentionOldest, Date.now() - 40 * DAY_MS, alice.user.id);
    expect(await sweeper({ maxAgeDays: 30 }).runOnce()).toMatchObject({ expired: 1 });
    expect(await titles(alice.user.id)).toEqual(['alice 2', 'alice 3']);

    // New notifications keep counting up: retention never reuses a seq.
    const { notifications } = await publish(bob.user.id, 'bob 9');
    expect(notifications[0]?.seq).toBe(9);
  });

  it('cuts a flood from one actor down to the per-actor cap first, so nobody else is pushed out', async () => {
    const userId = 'flooded-user';
    for (let i = 1; i <= 3; i++) await publish(userId, `friend ${i}`, 'friend');
    await publish(userId, 'system');
    for (let i = 1; i <= 12; i++) await publish(userId, `flood ${i}`, 'flooder');

    // 16 stored, over the per-user limit of 10. Without the actor cap the oldest six (everyone else's) would go.
    const report = await sweeper({ maxPerUser: 10, maxPerActor: 4 }).runOnce();
    expect(report).toMatchObject({ overActorLimit: 8, overLimit: 0, usersTrimmed: 1 });
    expect(await titles(userId)).toEqual(['friend 1', 'friend 2', 'friend 3', 'system', 'flood 9', 'flood 10', 'flood 11', 'flood 12']);
  });

  it('only looks at users who received something since the last sweep', async () => {
    const userId = 'quiet-user';
    for (let i = 1; i <= 6; i++) await publish(userId, `quiet ${i}`);
    await sweeper({ maxPerUser: 100 }).runOnce();
    // Over the limit now only because the limit went down: nothing new arrived, so nothing is looked at.
    expect(await sweeper({ maxPerUser: 2 }).runOnce()).toMatchObject({ usersChecked: 0, overLimit: 0 });
    await publish(userId, 'quiet 7');
    expect(await sweeper({ maxPerUser: 2 }).runOnce()).toMatchObject({ usersChecked: 1, overLimit: 5 });
    expect(await titles(userId)).toEqual(['quiet 6', 'quiet 7']);
  });

  it('expires an idle user whose oldest notification passed the age limit, then forgets them', async () => {
    const userId = 'idle-user';
    await publish(userId, 'old one');
    await publish(userId, 'newer one');
    await stack.herald.gateway.retention.flush();
    const tracked = Number(await stack.redisClient.zscore(stack.names.retentionOldest, userId));
    expect(Math.abs(tracked - Date.now())).toBeLessThan(60_000);

    await age(userId, 'old one', 40);
    await age(userId, 'newer one', 35);
    await stack.redisClient.zadd(stack.names.retentionOldest, Date.now() - 40 * DAY_MS, userId);
    expect(await sweeper({ maxAgeDays: 38 }).runOnce()).toMatchObject({ expired: 1 });
    expect(await titles(userId)).toEqual(['newer one']);
    // The next look is due when the remaining one passes the limit.
    const next = Number(await stack.redisClient.zscore(stack.names.retentionOldest, userId));
    expect(Math.abs(next - (Date.now() - 35 * DAY_MS))).toBeLessThan(60_000);

    expect(await sweeper({ maxAgeDays: 30 }).runOnce()).toMatchObject({ expired: 1 });
    expect(await titles(userId)).toEqual([]);
    expect(await stack.redisClient.zscore(stack.names.retentionOldest, userId)).toBeNull();
    // Its seqs are never handed out again.
    expect((await publish(userId, 'after')).notifications[0]?.seq).toBe(3);
  });

  it('refills its tracking from the database once when Redis lost it', async () => {
    const userId = 'lost-tracking-user';
    for (let i = 1; i <= 4; i++) await publish(userId, `lost ${i}`);
    await age(userId, 'lost 1', 40);
    await stack.herald.gateway.retention.flush();
    const { retentionOldest, retentionTouched, retentionSeeded } = stack.names;
    await stack.redisClient.del(retentionOldest, retentionTouched, retentionSeeded);

    // Every user is looked at (others are trimmed to 2 as well): the age limit takes "lost 1", the count limit "lost 2".
    const report = await sweeper({ maxAgeDays: 30, maxPerUser: 2 }).runOnce();
    expect(report?.expired).toBe(1);
    expect(await titles(userId)).toEqual(['lost 3', 'lost 4']);
    expect(await stack.redisClient.exists(retentionSeeded)).toBe(1);
  });

  it('one instance sweeps per interval: a second sweeper sharing the lock skips', async () => {
    const first = sweeper({ maxAgeDays: 30 }, 'shared-lock');
    const second = sweeper({ maxAgeDays: 30 }, 'shared-lock');
    expect(await first.runOnce()).not.toBeNull();
    expect(await second.runOnce()).toBeNull();
  });
});
