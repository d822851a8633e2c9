import { Redis } from 'ioredis';
import type { RunningHerald } from '../src/main';
import { useTestStack } from './support/stack';
import { connect, login, postNotification, recordNotifications, sleep, waitFor, type LoggedIn } from './support/clients';

/** Time given to a duplicate to show up after the expected copy arrived. */
const DUPLICATE_WINDOW_MS = 300;

describe('two gateway instances on one Redis', () => {
  const stack = useTestStack({ instances: 2 });
  let a: RunningHerald;
  let b: RunningHerald;
  let bob: LoggedIn;

  beforeAll(async () => {
    [a, b] = stack.instances as [RunningHerald, RunningHerald];
    bob = await login(a.url, 'bob');
  });

  it('a user connected to B gets a notification published through A exactly once', async () => {
    const socket = await connect(b.url, bob.token);
    const received = recordNotifications(socket);

    const res = await postNotification(a.url, { userIds: [bob.user.id], type: 'comment.created', title: 'via A' }).expect(201);
    await waitFor(() => expect(received).toHaveLength(1));
    await sleep(DUPLICATE_WINDOW_MS);

    expect(received).toHaveLength(1);
    expect(received[0]?.id).toBe(res.body.notifications[0].id);
  });

  it('a user with sockets on both instances gets each notification once on each socket', async () => {
    const onA = await connect(a.url, bob.token);
    const onB = await connect(b.url, bob.token);
    const onB2 = await connect(b.url, bob.token);
    const got = [recordNotifications(onA), recordNotifications(onB), recordNotifications(onB2)];

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? a : b;
      const {
        notifications: [n],
      } = await via.gateway.publishNotification({ userIds: [bob.user.id], type: 'post.liked', title: `like ${i}` });
      ids.push(n!.id);
    }

    await waitFor(() => got.forEach((list) => expect(list).toHaveLength(5)));
    await sleep(DUPLICATE_WINDOW_MS);
    for (const list of got) expect(list.map((n) => n.id)).toEqual(ids);
  });

  it('only instances holding a socket of the user are subscribed to its channel', async () => {
    const carol = await login(a.url, 'carol');
    const socket = await connect(b.url, carol.token);
    await socket.emitWithAck('notifications:sync', { afterSeq: 0 }); // answered after the subscription is confirmed

    const client = new Redis(stack.redis.url);
    try {
      const [, subscribers] = (await client.call('PUBSUB', 'NUMSUB', `herald:user:${carol.user.id}`)) as [string, number];
      expect(subscribers).toBe(1);
      expect(a.gateway.userChannels.channelCount).toBe(0);
      expect(b.gateway.userChannels.channelCount).toBe(1);

      socket.close();
      await waitFor(async () => {
        const [, after] = (await client.call('PUBSUB', 'NUMSUB', `herald:user:${carol.user.id}`)) as [string, number];
        expect(after).toBe(0);
      });
    } finally {
      client.disconnect();
    }
  });
});
