import { Redis } from 'ioredis';
import request from 'supertest';
import { createNames, type Notification } from '@herald/shared';
import type { RunningHerald } from '../src/main';
import { closeAllSockets, connect } from './support/sockets';
import { login, type LoggedIn } from './support/http';
import { sleep, waitFor } from './support/wait';
import { TEST_SERVICE_TOKEN, startTestHerald } from './support/herald';
import { startRedisCluster, type LocalRedisCluster } from './support/redis-cluster';
import { freshMongoUri } from './support/services';

describe('on a Redis Cluster (three masters, sharded pub/sub)', () => {
  let cluster: LocalRedisCluster;
  let a: RunningHerald;
  let b: RunningHerald;
  let bob: LoggedIn;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const mongodbUri = freshMongoUri();
    a = await startTestHerald({ mongodbUri, redisUrl: cluster.url });
    b = await startTestHerald({ mongodbUri, redisUrl: cluster.url });
    bob = await login(a.url, 'bob');
  }, 60_000);

  afterAll(async () => {
    closeAllSockets();
    await a?.close();
    await b?.close();
    await cluster?.stop();
  });

  it('delivers each notification once per socket across instances, over SPUBLISH on the shard that owns the channel', async () => {
    const sockets = [await connect(a.url, bob.token), await connect(b.url, bob.token)];
    await Promise.all(sockets.map((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 })));
    const got: Notification[][] = sockets.map((s) => {
      const list: Notification[] = [];
      s.on('notification', (n) => list.push(n));
      return list;
    });

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { notifications, instancesReached } = await (i % 2 ? a : b).gateway.publishNotification({
        userIds: [bob.user.id],
        type: 'a.b',
        title: `c${i}`,
      });
      expect(instancesReached).toEqual([2]);
      ids.push(notifications[0]!.id);
    }
    await waitFor(() => got.forEach((list) => expect(list.map((n) => n.id)).toEqual(ids)));
    await sleep(200);
    got.forEach((list) => expect(list).toHaveLength(5));

    // The user's channel is a sharded channel with two subscribers (A and B) on exactly one master, and no classic subscriber anywhere.
    const channel = createNames().userChannel(bob.user.id);
    const perNode = await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = new Redis(node.url);
        try {
          const [, sharded] = (await client.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
          const [, classic] = (await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
          return { sharded, classic };
        } finally {
          client.disconnect();
        }
      }),
    );
    expect(perNode.map((n) => n.sharded).sort()).toEqual([0, 0, 2]);
    expect(perNode.every((n) => n.classic === 0)).toBe(true);

    const stats = await request(a.url).get('/api/admin/stats').set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`).expect(200);
    expect(stats.body.redis).toMatchObject({ mode: 'cluster', userChannels: 1, userChannelSubscriptions: 2 });
    expect(stats.body.instances).toHaveLength(2);
  });

  it('topics and read-state updates work across instances on the cluster too', async () => {
    const service = request(a.url);
    await service.post('/api/topics').set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`).send({ name: 'post:c1' }).expect(201);
    const alice = await login(a.url, 'alice');
    const onA = await connect(a.url, alice.token);
    const onB = await connect(b.url, alice.token);
    const topicGot: string[] = [];
    onB.on('topic:message', (m) => topicGot.push(m.event));
    expect((await onA.emitWithAck('topic:subscribe', { topic: 'post:c1' })).data).toEqual({ topic: 'post:c1' });
    await waitFor(async () => {
      await a.gateway.topics.publishToTopic('post:c1', { event: 'ping' });
      expect(topicGot).toContain('ping');
    });

    const { notifications } = await a.gateway.publishNotification({ userIds: [alice.user.id], type: 'a.b', title: 'read me' });
    const updated: string[] = [];
    onB.on('notification:updated', (n) => updated.push(n.id));
    await onA.emitWithAck('notifications:read', { ids: [notifications[0]!.id] });
    await waitFor(() => expect(updated).toEqual([notifications[0]!.id]));
  });
});
