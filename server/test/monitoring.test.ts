import request from 'supertest';
import type { RunningHerald } from '../src/main';
import { connect } from './support/sockets';
import { login, postNotification } from './support/http';
import { waitFor } from './support/wait';
import { TEST_SERVICE_TOKEN } from './support/herald';
import { useTestStack } from './support/stack';

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  if (!line) throw new Error(`metric ${name}${labels} not found`);
  return Number(line.split(' ').at(-1));
}

describe('monitoring', () => {
  const stack = useTestStack({ instances: 2, users: ['alice', 'bob'] });
  const { users } = stack;
  let a: RunningHerald;
  let b: RunningHerald;

  beforeAll(async () => {
    [a, b] = stack.instances as [RunningHerald, RunningHerald];
  });

  it('/metrics reports sockets, channels, published, delivered, latency and syncs for this instance', async () => {
    const sockets = [await connect(a.url, users.bob.token), await connect(a.url, users.bob.token), await connect(a.url, users.alice.token)];
    await Promise.all(sockets.map((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 })));
    const got: string[] = [];
    sockets.forEach((s) => s.on('notification', (n) => got.push(n.id)));
    await postNotification(b.url, { userIds: [users.bob.user.id], type: 'a.b', title: 'm' }).expect(201);
    await waitFor(() => expect(got).toHaveLength(2));

    const text = (await request(a.url).get('/metrics').expect(200)).text;
    expect(metric(text, 'herald_connected_sockets')).toBe(3);
    expect(metric(text, 'herald_subscribed_channels', '{kind="user"}')).toBe(2);
    expect(metric(text, 'herald_sync_requests_total')).toBe(3);
    expect(metric(text, 'herald_notifications_delivered_total')).toBe(2);
    expect(metric(text, 'herald_delivery_latency_seconds_count')).toBe(1);
    expect(metric(text, 'herald_channel_messages_received_total', '{kind="user"}')).toBe(1);
    expect(text).toContain('herald_process_resident_memory_bytes');
    const textB = (await request(b.url).get('/metrics').expect(200)).text;
    expect(metric(textB, 'herald_notifications_published_total')).toBe(1);
    expect(metric(textB, 'herald_connected_sockets')).toBe(0);
  });

  it('GET /api/admin/stats gathers every instance and the Redis pub/sub figures; it needs the service token', async () => {
    await connect(b.url, users.alice.token).then((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 }));
    await connect(a.url, users.bob.token).then((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 }));
    const res = await request(a.url).get('/api/admin/stats').set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`).expect(200);
    const byId = new Map(res.body.instances.map((i: { id: string }) => [i.id, i]));
    expect(byId.size).toBe(2);
    expect(byId.get(a.gateway.instanceId)).toMatchObject({ sockets: 1, userChannels: 1 });
    expect(byId.get(b.gateway.instanceId)).toMatchObject({ sockets: 1, userChannels: 1 });
    expect(res.body.redis).toMatchObject({ userChannels: 2, userChannelSubscriptions: 2 });
    expect(typeof res.body.redis.patterns).toBe('number');

    await request(a.url).get('/api/admin/stats').expect(401);
    await request(a.url).get('/api/admin/stats').set('Authorization', `Bearer ${users.bob.token}`).expect(401);
  });

  it('a publish reports how many gateway instances its live message reached', async () => {
    await connect(a.url, users.bob.token).then((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 }));
    await connect(b.url, users.bob.token).then((s) => s.emitWithAck('notifications:sync', { afterSeq: 0 }));
    const carol = await login(a.url, 'carol');
    const res = await postNotification(a.url, { userIds: [users.bob.user.id, carol.user.id], type: 'a.b', title: 'reach' }).expect(201);
    expect(res.body.instancesReached).toEqual([2, 0]);
  });
});
