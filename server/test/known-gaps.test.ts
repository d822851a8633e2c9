import { createNotificationCore, type NotificationCore } from '../src/notifications/notification-core';
import { GAP_AFTER_MS } from '../src/notifications/catch-up';
import { createLogger } from '../src/platform/logger';
import { asUser } from './support/http';
import { useTestStack } from './support/stack';

/** settledSeq and known gaps: a client's watermark never passes a seq still in flight, and stops waiting for one that never will be. */
describe('settled seqs and known gaps', () => {
  const stack = useTestStack({ users: ['bob'] });
  let core: NotificationCore;

  beforeAll(() => {
    core = createNotificationCore({
      connection: stack.inspector,
      redis: stack.redisClient,
      names: stack.names,
      logger: createLogger('silent'),
    });
  });
  afterAll(() => core?.close());

  const publish = (userId: string, title: string) =>
    core.publishNotification({ userIds: [userId], type: 'gap.test', title }).then((r) => r.notifications[0]!);

  it('does not settle a seq that was handed out and not stored, until it is old; then a late insert takes a new seq', async () => {
    const userId = 'gaps-1';
    const first = await publish(userId, 'one');
    // A publisher took the next seq and has not stored it (yet).
    const [reserved] = await core.sequences.reserve([userId]);
    const third = await publish(userId, 'three');
    expect([first.seq, reserved, third.seq]).toEqual([1, 2, 3]);

    const fresh = await core.catchUp.syncAfter(userId, 0);
    expect(fresh.notifications.map((n) => n.seq)).toEqual([1, 3]);
    expect(fresh.settledSeq).toBe(1);

    // Watched behind for longer than GAP_AFTER_MS: the seq is given up, as a known gap.
    const settled = await core.catchUp.syncAfter(userId, 1, undefined, { behindSince: Date.now() - GAP_AFTER_MS - 1000 });
    expect(settled.notifications.map((n) => n.seq)).toEqual([3]);
    expect(settled.settledSeq).toBe(3);
    const marker = await stack.inspector.collection('notifications').findOne({ userId, seq: 2 });
    expect(marker).toMatchObject({ gap: true });

    // The feed and the counts never show it.
    const bobless = await core.feed.list(userId, {});
    expect(bobless.items.map((n) => n.seq)).toEqual([3, 1]);
    expect(await core.feed.counts(userId)).toMatchObject({ unread: 2, unseen: 2 });
  });

  it('turns a deleted notification into a known gap, so a sync over it settles at once', async () => {
    const bob = stack.users.bob;
    const a = await publish(bob.user.id, 'a');
    const b = await publish(bob.user.id, 'b');
    const c = await publish(bob.user.id, 'c');
    const res = await asUser(stack.herald.url, bob.token).delete(`/api/notifications/${b.id}`);
    expect(res.status).toBe(200);
    const sync = await core.catchUp.syncAfter(bob.user.id, a.seq - 1);
    expect(sync.notifications.map((n) => n.id)).toEqual([a.id, c.id]);
    expect(sync.settledSeq).toBe(c.seq);
    // Deleting it again is a 404: a gap is nobody's notification.
    expect((await asUser(stack.herald.url, bob.token).delete(`/api/notifications/${b.id}`)).status).toBe(404);
  });
});
