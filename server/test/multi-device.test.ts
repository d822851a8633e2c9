import type { Notification, NotificationCounts } from '@herald/shared';
import type { RunningHerald } from '../src/main';
import { asUser, login } from './support/http';
import { connect, type ClientSocket } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

function record(socket: ClientSocket) {
  const events = { updated: [] as Notification[], counts: [] as NotificationCounts[], deleted: [] as string[][] };
  socket.on('notification:updated', (n) => events.updated.push(n));
  socket.on('counts', (c) => events.counts.push(c));
  socket.on('notification:deleted', (ids) => events.deleted.push(ids));
  return events;
}

describe('read state travels to every tab and device of the user', () => {
  const stack = useTestStack({ instances: 2, users: ['bob'] });
  const { users } = stack;
  let a: RunningHerald;
  let b: RunningHerald;

  beforeAll(async () => {
    [a, b] = stack.instances as [RunningHerald, RunningHerald];
  });

  it('a read on one socket (instance A) reaches the other socket (instance B) with new counts, and is not echoed back', async () => {
    const phone = await connect(a.url, users.bob.token);
    const laptop = await connect(b.url, users.bob.token);
    const onPhone = record(phone);
    const onLaptop = record(laptop);
    const {
      notifications: [n1, n2],
    } = await a.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'post.liked', title: 'one' }).then(async (first) => ({
      notifications: [
        first.notifications[0]!,
        (await a.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'post.liked', title: 'two' })).notifications[0]!,
      ],
    }));

    const ack = await phone.emitWithAck('notifications:read', { ids: [n1!.id] });
    expect(ack.error).toBeUndefined();
    expect(ack.data?.notifications.map((n) => n.id)).toEqual([n1!.id]);
    expect(ack.data?.counts.unread).toBe(1);

    await waitFor(() => {
      expect(onLaptop.updated.map((n) => n.id)).toEqual([n1!.id]);
      expect(onLaptop.counts.at(-1)).toMatchObject({ unread: 1, unseen: 1 });
    });
    expect(onLaptop.updated[0]?.readAt).toEqual(expect.any(String));
    await sleep(200);
    expect(onPhone.updated).toEqual([]);
    expect(onPhone.counts).toEqual([]);
    expect(n2).toBeDefined();
  });

  it('an HTTP action (read-all, archive, delete) reaches every socket, on both instances', async () => {
    const one = await connect(a.url, users.bob.token);
    const two = await connect(b.url, users.bob.token);
    const events = [record(one), record(two)];
    const {
      notifications: [n],
    } = await b.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'post.liked', title: 'three' });
    const api = asUser(a.url, users.bob.token);

    await api.post(`/api/notifications/${n!.id}/archive`).expect(200);
    await waitFor(() => events.forEach((e) => expect(e.updated.some((u) => u.id === n!.id && u.archivedAt)).toBe(true)));

    await api.post('/api/notifications/read-all').expect(200);
    await waitFor(() => events.forEach((e) => expect(e.counts.at(-1)?.unread).toBe(0)));

    await api.delete(`/api/notifications/${n!.id}`).expect(200);
    await waitFor(() => events.forEach((e) => expect(e.deleted).toContainEqual([n!.id])));
  });

  it("notifications:read ignores ids of another user's notifications and refuses bad payloads", async () => {
    const alice = await login(a.url, 'alice');
    const {
      notifications: [aliceOwn],
    } = await a.gateway.publishNotification({ userIds: [alice.user.id], type: 'post.liked', title: 'alice' });
    const bobSocket = await connect(a.url, users.bob.token);
    const ack = await bobSocket.emitWithAck('notifications:read', { ids: [aliceOwn!.id] });
    expect(ack.data?.notifications).toEqual([]);
    const [doc] = await stack.inspector.collection('notifications').find({ title: 'alice' }).toArray();
    expect(doc?.readAt).toBeNull();

    const sneaky = bobSocket as unknown as { emitWithAck: (e: string, p: unknown) => Promise<{ error?: { code: string } }> };
    for (const payload of [
      { ids: [] },
      { ids: ['nope'] },
      { ids: [{ $gt: '' }] },
      { ids: aliceOwn!.id },
      null,
      'x',
      { ids: [aliceOwn!.id], extra: 1 },
    ]) {
      expect((await sneaky.emitWithAck('notifications:read', payload)).error?.code).toBe('validation_failed');
    }
  });
});
