import mongoose from 'mongoose';
import type { Notification } from '@herald/shared';
import { asUser, postNotification } from './support/http';
import { connect } from './support/sockets';
import { openInspector, storedNotifications } from './support/database';
import { freshMongoUri } from './support/services';
import { useTestStack } from './support/stack';
import { exactly } from './support/wait';
import { startTestHerald } from './support/herald';

const HOST_IDS = ['auth0|64f1c2', '6f1c2b9e-2d4b-4c1a-9f4e-1b2c3d4e5f60', '42', 'ada.lovelace+herald@example.com', 'User-A', 'user-a'];

describe("the host app's own user ids", () => {
  const stack = useTestStack();
  const tokenFor = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;

  it.each(HOST_IDS)('%s: published, stored, delivered live, listed and synced under exactly that id', async (userId) => {
    const socket = await connect(stack.herald.url, tokenFor(userId));
    await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    const received = exactly<Notification>(1, 'notification');
    socket.on('notification', received.record);

    const res = await postNotification(stack.herald.url, { userIds: [userId], type: 'host.ids', title: `for ${userId}` }).expect(201);
    const [sent] = res.body.notifications as Notification[];
    expect(sent?.userId).toBe(userId);
    expect((await received.settled())[0]?.id).toBe(sent!.id);

    const page = await asUser(stack.herald.url, tokenFor(userId)).get('/api/notifications').expect(200);
    expect(page.body.items.map((n: Notification) => n.id)).toEqual([sent!.id]);
    const sync = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(sync.data?.notifications.map((n) => n.id)).toEqual([sent!.id]);
    expect((await storedNotifications(stack.inspector, userId)).map((doc) => doc.userId)).toEqual([userId]);
  });

  it('User-A and user-a are two users: neither sees the other', async () => {
    for (const userId of ['User-A', 'user-a']) {
      const page = await asUser(stack.herald.url, tokenFor(userId)).get('/api/notifications').expect(200);
      expect(page.body.items.map((n: Notification) => n.title)).toEqual([`for ${userId}`]);
    }
  });

  it.each(['', 'a b', 'x'.repeat(129), 'a{b}', 'a*b', 'a/b', 'é', 'josé', '\u0430dmin', '用户', '$gt', 42, null])(
    'refuses %p with 400 validation_failed, saying which characters an id may have',
    async (userId) => {
      const res = await postNotification(stack.herald.url, { userIds: [userId], type: 'host.ids', title: 'no' }).expect(400);
      expect(res.body.error.code).toBe('validation_failed');
      if (typeof userId === 'string' && userId.length > 0 && userId.length <= 128) expect(res.body.error.message).toMatch(/ASCII letters/);
    },
  );
});

describe('data stored while user ids were ObjectIds', () => {
  const stack = useTestStack();

  it('is rewritten at start, so the same user keeps their feed, preferences and seqs', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    const legacyUser = new mongoose.Types.ObjectId(userId);
    // A database an older version wrote, that this version has never started on.
    const mongodbUri = freshMongoUri();
    const db = await openInspector(mongodbUri);
    const created = new Date();
    await db.collection('notifications').insertMany(
      [1, 2].map((seq) => ({
        _id: new mongoose.Types.ObjectId(),
        userId: legacyUser,
        seq,
        type: 'legacy.note',
        title: `old ${seq}`,
        createdAt: created,
        readAt: null,
        seenAt: null,
        archivedAt: null,
      })),
    );
    await db.collection('preferences').insertOne({ _id: legacyUser, mutedTypes: ['muted.type'], updatedAt: created });
    await db.collection('notification_sequences').insertOne({ _id: legacyUser, seq: 5 });

    const restarted = await startTestHerald({ mongodbUri, redisUrl: stack.redis.url });
    try {
      const token = restarted.gateway.tokens.sign({ userId, name: 'legacy' }).token;
      const page = await asUser(restarted.url, token).get('/api/notifications').expect(200);
      expect(page.body.items.map((n: Notification) => n.title)).toEqual(['old 2', 'old 1']);
      expect((await asUser(restarted.url, token).get('/api/preferences').expect(200)).body).toMatchObject({ mutedTypes: ['muted.type'] });
      // The recorded floor (5) still holds: the next seq is 6.
      const { notifications } = await restarted.gateway.publishNotification({ userIds: [userId], type: 'legacy.note', title: 'new' });
      expect(notifications[0]?.seq).toBe(6);
      expect(await db.collection('notifications').countDocuments({ userId: { $type: 'objectId' } })).toBe(0);
      expect(await db.collection('preferences').countDocuments({ _id: { $type: 'objectId' } } as never)).toBe(0);
    } finally {
      await restarted.close();
    }
    // Done once, recorded: later starts look the record up instead of scanning every notification.
    expect(await db.collection('notification_migrations').findOne({ _id: 'string-user-ids' } as never)).toMatchObject({
      completedAt: expect.any(Date),
    });
    await db.collection('notifications').insertOne({ _id: new mongoose.Types.ObjectId(), userId: legacyUser, seq: 99, type: 'late.write' });
    const again = await startTestHerald({ mongodbUri, redisUrl: stack.redis.url });
    await again.close();
    expect(await db.collection('notifications').countDocuments({ userId: { $type: 'objectId' } })).toBe(1);
    await db.close();
  });
});
