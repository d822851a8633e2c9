import { asUser, postNotification } from './support/http';
import { connect } from './support/sockets';
import { waitFor } from './support/wait';
import { useTestStack } from './support/stack';

describe('per-item seen', () => {
  const stack = useTestStack();
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;

  it('marks only the ids shown, follows on other devices, ignores other users, and "seen" without ids sees all', async () => {
    const userId = 'seen-user';
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      ids.push(
        (await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: `n${i}` }).expect(201)).body.notifications[0].id,
      );
    }
    const stranger = (await postNotification(stack.herald.url, { userIds: ['seen-other'], type: 'a.b', title: 'theirs' }).expect(201)).body
      .notifications[0].id;
    const panel = await connect(stack.herald.url, token(userId));
    const phone = await connect(stack.herald.url, token(userId));
    const updates: { id: string; seenAt?: string }[] = [];
    phone.on('notification:updated', (n) => updates.push(n));

    const answer = await panel.emitWithAck('notifications:seen', { ids: [ids[0]!, stranger] });
    expect(answer.data?.notifications.map((n) => n.id)).toEqual([ids[0]]);
    expect(answer.data?.notifications[0]?.seenAt).toBeDefined();
    expect(answer.data?.notifications[0]?.readAt).toBeUndefined();
    expect(answer.data?.counts).toMatchObject({ unread: 3, unseen: 2 });
    await waitFor(() => expect(updates.map((n) => n.id)).toEqual([ids[0]]));

    const api = asUser(stack.herald.url, token(userId));
    const http = await api
      .post('/api/notifications/seen')
      .send({ ids: [ids[1]] })
      .expect(200);
    expect(http.body.counts).toMatchObject({ unread: 3, unseen: 1 });
    expect((await asUser(stack.herald.url, token('seen-other')).get('/api/notifications/counts').expect(200)).body).toMatchObject({
      unread: 1,
      unseen: 1,
    });

    expect(
      (
        await api
          .post('/api/notifications/seen')
          .send({ ids: ['nope'] })
          .expect(400)
      ).body.error.code,
    ).toBe('validation_failed');
    expect((await panel.emitWithAck('notifications:seen', { ids: [{ $gt: '' }] } as never)).error?.code).toBe('validation_failed');
    expect((await api.post('/api/notifications/seen').expect(200)).body.counts).toMatchObject({ unread: 3, unseen: 0 });
  });
});
