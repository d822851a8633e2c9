import type { Notification } from '@herald/shared';
import type { RunningHerald } from '../src/main';
import { postNotification } from './support/http';
import { connect, type ClientSocket } from './support/sockets';
import { channelSubscribers, useTestStack, type RedisTopology } from './support/stack';
import { exactly, waitFor } from './support/wait';

/** Time given to a duplicate to show up after the expected copy arrived. */
const DUPLICATE_WINDOW_MS = 300;

function expectNotifications(socket: ClientSocket, n: number) {
  const received = exactly<Notification>(n, 'notification');
  socket.on('notification', received.record);
  return received;
}

describe.each<RedisTopology>(['standalone', 'cluster'])('two gateway instances on one Redis (%s)', (topology) => {
  const stack = useTestStack({ instances: 2, users: ['bob', 'carol'], redis: topology });
  const { users } = stack;
  let a: RunningHerald;
  let b: RunningHerald;

  beforeAll(() => {
    [a, b] = stack.instances as [RunningHerald, RunningHerald];
  });

  it('a user connected to B gets a notification published through A exactly once', async () => {
    const socket = await connect(b.url, users.bob.token);
    await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    const received = expectNotifications(socket, 1);

    const res = await postNotification(a.url, { userIds: [users.bob.user.id], type: 'comment.created', title: 'via A' }).expect(201);
    const [only] = await received.settled({ quietMs: DUPLICATE_WINDOW_MS });
    expect(only?.id).toBe(res.body.notifications[0].id);
  });

  it('a user with sockets on both instances gets each notification once on each socket', async () => {
    const sockets = [await connect(a.url, users.bob.token), await connect(b.url, users.bob.token), await connect(b.url, users.bob.token)];
    await Promise.all(sockets.map((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 })));
    const got = sockets.map((s) => expectNotifications(s, 5));

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? a : b;
      const {
        notifications: [n],
      } = await via.gateway.publishNotification({ userIds: [users.bob.user.id], type: 'post.liked', title: `like ${i}` });
      ids.push(n!.id);
    }

    for (const received of got) expect((await received.settled({ quietMs: DUPLICATE_WINDOW_MS })).map((n) => n.id)).toEqual(ids);
  });

  it('only instances holding a socket of the user are subscribed to its channel', async () => {
    const { carol } = users;
    const socket = await connect(b.url, carol.token);
    await socket.emitWithAck('notifications:sync', { afterSeq: 0 }); // answered after the subscription is confirmed
    const channel = stack.names.userChannel(carol.user.id);

    expect(await channelSubscribers(stack, channel)).toBe(1);
    expect(a.gateway.userChannels.channelCount).toBe(0);
    expect(b.gateway.userChannels.channelCount).toBe(1);

    socket.close();
    await waitFor(async () => expect(await channelSubscribers(stack, channel)).toBe(0));
  });
});
