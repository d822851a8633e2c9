import type { Notification } from '@herald/shared';
import { asUser, postNotification } from './support/http';
import { connect } from './support/sockets';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';
import { exactly } from './support/wait';

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
