import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';
import { connect, recordNotifications } from './support/sockets';
import { login, postNotification } from './support/http';
import { waitFor } from './support/wait';

describe('publishing a notification end to end', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const { users } = stack;

  it('through the HTTP API: stored in MongoDB, then delivered to the recipient with the stored id and seq', async () => {
    const socket = await connect(stack.herald.url, users.bob.token);
    const received = recordNotifications(socket);

    const res = await postNotification(stack.herald.url, {
      userIds: [users.bob.user.id],
      type: 'comment.created',
      title: 'Alice commented on your post',
      body: 'Great photo!',
      actionUrl: '/posts/42',
      actor: { id: users.alice.user.id, name: users.alice.user.name },
      data: { postId: '42', commentId: 'c1' },
    }).expect(201);

    const [sent] = res.body.notifications;
    expect(sent).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      userId: users.bob.user.id,
      seq: expect.any(Number),
      type: 'comment.created',
      title: 'Alice commented on your post',
      body: 'Great photo!',
      actionUrl: '/posts/42',
      actor: { id: users.alice.user.id, name: users.alice.user.name },
      data: { postId: '42', commentId: 'c1' },
    });
    expect(sent.readAt).toBeUndefined();

    await waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]).toEqual(sent);

    const [doc] = await storedNotifications(stack.inspector, users.bob.user.id);
    expect(doc?._id.toHexString()).toBe(sent.id);
    expect(doc?.seq).toBe(sent.seq);
    expect(doc?.title).toBe('Alice commented on your post');
    expect(doc?.readAt).toBeNull();
  });

  it('through publishNotification: seq grows by one per notification and arrives in order', async () => {
    const carol = await login(stack.herald.url, 'carol');
    const socket = await connect(stack.herald.url, carol.token);
    const received = recordNotifications(socket);

    const published = [];
    for (let i = 1; i <= 3; i++) {
      const {
        notifications: [n],
      } = await stack.herald.gateway.publishNotification({ userIds: [carol.user.id], type: 'post.liked', title: `like ${i}` });
      published.push(n!);
    }
    expect(published.map((n) => n.seq)).toEqual([1, 2, 3]);

    await waitFor(() => expect(received).toHaveLength(3));
    expect(received.map((n) => n.title)).toEqual(['like 1', 'like 2', 'like 3']);
    expect(received.map((n) => n.id)).toEqual(published.map((n) => n.id));

    const stored = await storedNotifications(stack.inspector, carol.user.id);
    expect(stored.map((d) => d.seq)).toEqual([1, 2, 3]);
  });

  it('one call to several users stores one notification each, every user with their own seq', async () => {
    const aliceSocket = await connect(stack.herald.url, users.alice.token);
    const bobSocket = await connect(stack.herald.url, users.bob.token);
    const toAlice = recordNotifications(aliceSocket);
    const toBob = recordNotifications(bobSocket);
    const bobBefore = (await storedNotifications(stack.inspector, users.bob.user.id)).length;

    const res = await postNotification(stack.herald.url, {
      userIds: [users.alice.user.id, users.bob.user.id, users.bob.user.id],
      type: 'system.notice',
      title: 'Maintenance tonight',
    }).expect(201);
    expect(res.body.notifications).toHaveLength(2);

    await waitFor(() => {
      expect(toAlice).toHaveLength(1);
      expect(toBob).toHaveLength(1);
    });
    expect(toAlice[0]?.userId).toBe(users.alice.user.id);
    expect(toBob[0]?.userId).toBe(users.bob.user.id);
    expect(toBob[0]?.seq).toBe(bobBefore + 1);
    expect((await storedNotifications(stack.inspector, users.bob.user.id)).length).toBe(bobBefore + 1);
  });

  it('a user who connects later finds what was stored meanwhile through notifications:sync', async () => {
    const {
      notifications: [n],
    } = await stack.herald.gateway.publishNotification({
      userIds: [users.alice.user.id],
      type: 'order.shipped',
      title: 'Your order shipped',
    });
    const socket = await connect(stack.herald.url, users.alice.token);
    const response = await socket.emitWithAck('notifications:sync', { afterSeq: n!.seq - 1 });
    expect(response.error).toBeUndefined();
    expect(response.data?.notifications.map((x) => x.id)).toEqual([n!.id]);
    expect(response.data?.hasMore).toBe(false);
    expect(response.data?.counts.unread).toBeGreaterThanOrEqual(1);
  });

  it('one call may name 1,000 recipients: each gets one stored notification with seq 1', async () => {
    const userIds = Array.from({ length: 1000 }, (_, i) => `7${i.toString(16).padStart(23, '0')}`);
    const res = await postNotification(stack.herald.url, { userIds, type: 'system.notice', title: 'Scheduled maintenance' }).expect(201);
    expect(res.body.notifications).toHaveLength(1000);
    expect(res.body.notifications.map((n: { userId: string }) => n.userId)).toEqual(userIds);
    expect(res.body.notifications.every((n: { seq: number }) => n.seq === 1)).toBe(true);
    expect(await stack.inspector.collection('notifications').countDocuments({ title: 'Scheduled maintenance' })).toBe(1000);
  });
});
