import { Types } from 'mongoose';
import type { Notification } from '@herald/shared';
import type { RunningHerald } from '../src/main';
import { connect, type ClientSocket } from './support/sockets';
import { exactly, sleep, waitFor, type Exactly } from './support/wait';
import { useTestStack, type RedisTopology } from './support/stack';

const USERS = 30;
const PER_USER = 3;

describe.each<RedisTopology>(['standalone', 'cluster'])('routing across three gateway instances (%s)', (topology) => {
  const stack = useTestStack({ instances: 3, redis: topology });

  it('every socket gets each of its notifications exactly once, and an instance only receives messages for users it holds', async () => {
    const instances = stack.instances;
    const users = Array.from({ length: USERS }, (_, i) => ({ id: new Types.ObjectId().toHexString(), name: `user ${i}` }));
    // User i is on instance i % 3; every fifth user also has a second socket on the next instance.
    const placement = users.map((_, i) => (i % 5 === 0 ? [i % 3, (i + 1) % 3] : [i % 3]));
    const sockets: { userIndex: number; instance: number; socket: ClientSocket; got: Exactly<Notification> }[] = [];
    for (const [userIndex, user] of users.entries()) {
      for (const instance of placement[userIndex]!) {
        const token = instances[0]!.gateway.tokens.sign({ userId: user.id, name: user.name }).token;
        const socket = await connect(instances[instance]!.url, token);
        const got = exactly<Notification>(PER_USER, 'notification');
        socket.on('notification', got.record);
        sockets.push({ userIndex, instance, socket, got });
      }
    }
    // Sync answers only once the user's channel subscription is live on that instance.
    await Promise.all(sockets.map(({ socket }) => socket.emitWithAck('notifications:sync', { afterSeq: 0 })));
    const before = instances.map((h) => h.gateway.userChannels.messagesReceived);

    const sent = new Map<string, string[]>();
    for (let round = 0; round < PER_USER; round++) {
      await Promise.all(
        users.map(async (user, i) => {
          const via: RunningHerald = instances[(i + round) % 3]!;
          const { notifications } = await via.gateway.publishNotification({ userIds: [user.id], type: 'a.b', title: `${i}/${round}` });
          sent.set(user.id, [...(sent.get(user.id) ?? []), notifications[0]!.id]);
        }),
      );
    }

    const delivered = await Promise.all(sockets.map(({ got }) => got.settled({ quietMs: 300 })));
    sockets.forEach(({ userIndex }, i) => {
      expect(delivered[i]!.map((n) => n.id).sort()).toEqual([...sent.get(users[userIndex]!.id)!].sort());
    });

    // Routing cost: each instance received exactly one message per notification of a user it holds, and nothing else.
    const received = instances.map((h, i) => h.gateway.userChannels.messagesReceived - before[i]!);
    const needed = instances.map((_, i) => placement.filter((p) => p.includes(i)).length * PER_USER);
    expect(received).toEqual(needed);
    expect(received.reduce((a, b) => a + b, 0)).toBeLessThan(USERS * PER_USER * 3);
  });
});

describe('the classic setup for comparison (ROUTING_MODE=broadcast)', () => {
  const stack = useTestStack({ instances: 3, env: { ROUTING_MODE: 'broadcast' } });

  it('every instance receives every notification, and each socket still gets each of its own exactly once', async () => {
    const instances = stack.instances;
    const users = Array.from({ length: 6 }, () => new Types.ObjectId().toHexString());
    const sockets = await Promise.all(
      users.map(async (userId, i) => {
        const socket = await connect(instances[i % 3]!.url, instances[0]!.gateway.tokens.sign({ userId, name: 'u' }).token);
        const got: Notification[] = [];
        socket.on('notification', (n) => got.push(n));
        await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
        return got;
      }),
    );
    const before = instances.map((h) => h.gateway.userChannels.messagesReceived);
    for (const userId of users) await instances[0]!.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: 'hi' });

    await waitFor(() => sockets.forEach((got) => expect(got).toHaveLength(1)));
    await sleep(300);
    sockets.forEach((got, i) => expect(got.map((n) => n.userId)).toEqual([users[i]]));
    expect(instances.map((h, i) => h.gateway.userChannels.messagesReceived - before[i]!)).toEqual([6, 6, 6]);
  });
});
