import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { createEventBus } from '../src/events/event-bus';
import { createLogger } from '../src/platform/logger';
import { asUser, postNotification } from './support/http';
import { connect } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

describe('action buttons', () => {
  const stack = useTestStack();
  const userId = 'actions-user';
  const token = (id = userId) => stack.herald.gateway.tokens.sign({ userId: id, name: id }).token;
  const actions = [
    { id: 'accept', label: 'Accept', url: '/invites/7' },
    { id: 'decline', label: 'Decline' },
  ];
  const publish = async (body: Record<string, unknown> = {}) =>
    (
      await postNotification(stack.herald.url, {
        userIds: [userId],
        type: 'invite.sent',
        title: 'Join the team?',
        data: { inviteId: 7 },
        actions,
        ...body,
      }).expect(201)
    ).body.notifications[0];

  it('a click is recorded once, reaches the other devices, and is emitted on the event bus once', async () => {
    const publisher = new Redis(stack.redis.url);
    const subscriber = new Redis(stack.redis.url);
    const bus = createEventBus({ publisher, subscriber, logger: createLogger('silent') });
    const heard: Record<string, unknown>[] = [];
    await bus.on('notification.action', (data) => void heard.push(data as Record<string, unknown>));
    try {
      const stored = await publish();
      expect(stored.actions).toEqual(actions);
      const laptop = await connect(stack.herald.url, token());
      const phone = await connect(stack.herald.url, token());
      const updates: { id: string; actionId?: string }[] = [];
      phone.on('notification:updated', (n) => updates.push(n));

      const answer = await laptop.emitWithAck('notifications:action', { id: stored.id, actionId: 'accept' });
      expect(answer.data?.notification).toMatchObject({ id: stored.id, actionId: 'accept' });
      expect(answer.data?.notification.interactedAt).toBeDefined();
      expect(answer.data?.notification.readAt).toBeDefined();
      expect(answer.data?.counts.unread).toBe(0);
      await waitFor(() => expect(updates).toEqual([expect.objectContaining({ id: stored.id, actionId: 'accept' })]));
      await waitFor(() =>
        expect(heard).toEqual([
          expect.objectContaining({ notificationId: stored.id, userId, actionId: 'accept', type: 'invite.sent', data: { inviteId: 7 } }),
        ]),
      );

      // A second click (another action, over HTTP) changes nothing and is not emitted again.
      const again = await asUser(stack.herald.url, token()).post(`/api/notifications/${stored.id}/actions/decline`).expect(200);
      expect(again.body.notification).toMatchObject({ actionId: 'accept', interactedAt: answer.data?.notification.interactedAt });
      await sleep(300);
      expect(heard).toHaveLength(1);
      expect(updates).toHaveLength(1);
    } finally {
      publisher.disconnect();
      subscriber.disconnect();
    }
  });

  it('refuses bad actions at publish, unknown actions on click, and other users', async () => {
    const refused = async (body: Record<string, unknown>, expected: string) => {
      const res = await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: 't', ...body }).expect(400);
      expect(JSON.stringify(res.body.error)).toContain(expected);
    };
    await refused({ actions: [...actions, { id: 'third', label: 'Third' }] }, 'at most 2 actions');
    await refused(
      {
        actions: [
          { id: 'same', label: 'A' },
          { id: 'same', label: 'B' },
        ],
      },
      'action ids must differ',
    );
    await refused({ actions: [{ id: 'go', label: 'Go', url: 'javascript:alert(1)' }] }, 'actions.0.url');
    await refused({ actions: [{ id: 'go', label: 'Go\u202e' }] }, 'actions.0.label');
    await refused({ actions: [{ id: 'Go!', label: 'Go' }] }, 'actions.0.id');

    const stored = await publish();
    const api = asUser(stack.herald.url, token());
    expect((await api.post(`/api/notifications/${stored.id}/actions/nope`).expect(400)).body.error.code).toBe('validation_failed');
    expect((await api.post(`/api/notifications/${stored.id}/actions/BAD!`).expect(400)).body.error.code).toBe('validation_failed');
    const stranger = asUser(stack.herald.url, token('someone-else'));
    expect((await stranger.post(`/api/notifications/${stored.id}/actions/accept`).expect(404)).body.error.code).toBe('not_found');
    const plain = (await postNotification(stack.herald.url, { userIds: [userId], type: 'a.b', title: 'no buttons' }).expect(201)).body
      .notifications[0];
    expect((await api.post(`/api/notifications/${plain.id}/actions/accept`).expect(400)).body.error.code).toBe('validation_failed');
    const socket = await connect(stack.herald.url, token());
    expect((await socket.emitWithAck('notifications:action', { id: stored.id, actionId: { $ne: 1 } } as never)).error?.code).toBe(
      'validation_failed',
    );
    // Nothing of the refused clicks was recorded.
    const [doc] = await stack.inspector
      .collection('notifications')
      .find({ _id: new Types.ObjectId(stored.id) })
      .toArray();
    expect(doc?.interactedAt).toBeUndefined();
  });
});
