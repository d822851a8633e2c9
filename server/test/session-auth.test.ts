import jwt from 'jsonwebtoken';
import type { Notification } from '@herald/shared';
import type { RunningHerald } from '../src/main';
import type { LocalRedis } from '../src/local-services/redis-server';
import { AppError } from '../src/platform/errors';
import { TEST_JWT_SECRET, startTestHerald } from './support/herald';
import { asUser } from './support/http';
import { freshMongoUri, startTestRedis } from './support/services';
import { closeAllSockets, connect } from './support/sockets';
import { useTestStack } from './support/stack';
import { exactly, sleep } from './support/wait';

describe('an embedded gateway with the host’s own authenticate hook', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  const sessions = new Map([
    ['sess-ada', { userId: 'user:ada', name: 'Ada' }],
    ['sess-bob', { userId: 'user:bob', name: 'Bob' }],
  ]);
  const seen: string[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    herald = await startTestHerald({
      mongodbUri: freshMongoUri(),
      redisUrl: redis.url,
      options: {
        authenticate: async (token, context) => {
          seen.push(context.transport);
          if (token === 'sess-down') throw new AppError('service_unavailable', 'Session store is down.');
          const session = sessions.get(token);
          if (!session) throw new Error('no such session');
          return { ...session, expiresAt: Date.now() + 60_000 };
        },
      },
    });
  });
  afterAll(async () => {
    closeAllSockets();
    await herald?.close();
    await redis?.stop();
  });

  it('decides for sockets and user routes alike; Herald’s own tokens no longer pass', async () => {
    const socket = await connect(herald.url, 'sess-ada');
    const received = exactly<Notification>(1, 'notification');
    socket.on('notification', received.record);
    await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    await herald.gateway.publishNotification({ userIds: ['user:ada'], type: 'hook.test', title: 'hi Ada' });
    expect((await received.settled())[0]?.title).toBe('hi Ada');
    expect((await asUser(herald.url, 'sess-ada').get('/api/notifications/counts').expect(200)).body).toMatchObject({
      unread: 1,
      unseen: 1,
    });
    expect(seen).toEqual(expect.arrayContaining(['socket', 'http']));

    const refusedHttp = await asUser(herald.url, 'sess-nobody').get('/api/notifications/counts').expect(401);
    expect(refusedHttp.body.error.code).toBe('invalid_token');
    const demoToken = herald.gateway.tokens.sign({ userId: 'user:ada', name: 'Ada' }).token;
    expect((await asUser(herald.url, demoToken).get('/api/notifications/counts').expect(401)).body.error.code).toBe('invalid_token');
    const unavailable = await asUser(herald.url, 'sess-down').get('/api/notifications/counts').expect(503);
    expect(unavailable.body.error).toEqual({ code: 'service_unavailable', message: 'Session store is down.' });
  });
});

describe('refreshing the token of a live socket', () => {
  const stack = useTestStack();
  const shortToken = (userId: string, seconds: number) =>
    jwt.sign({ name: userId }, TEST_JWT_SECRET, { subject: userId, expiresIn: seconds });

  it('keeps the socket, its room and its topics past the first token’s expiry; another user’s token is refused', async () => {
    const userId = 'refresh-user';
    await fetch(`${stack.herald.url}/api/topics`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-service-token-0123456789abcdef', 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'team:refresh' }),
    });
    const socket = await connect(stack.herald.url, shortToken(userId, 2));
    expect((await socket.emitWithAck('topic:subscribe', { topic: 'team:refresh' })).data).toEqual({ topic: 'team:refresh' });

    const other = await socket.emitWithAck('auth:refresh', { token: shortToken('someone-else', 600) });
    expect(other.error?.code).toBe('forbidden');
    expect((await socket.emitWithAck('auth:refresh', { token: 'garbage' })).error?.code).toBe('invalid_token');
    const refreshed = await socket.emitWithAck('auth:refresh', { token: shortToken(userId, 600) });
    expect(Date.parse(refreshed.data!.expiresAt!)).toBeGreaterThan(Date.now() + 500_000);

    let disconnected = false;
    socket.on('disconnect', () => (disconnected = true));
    await sleep(3500); // past the first token's expiry
    expect(disconnected).toBe(false);

    const notifications = exactly<Notification>(1, 'notification');
    const topicMessages = exactly<unknown>(1, 'topic message');
    socket.on('notification', notifications.record);
    socket.on('topic:message', topicMessages.record);
    await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'refresh.test', title: 'still here' });
    await stack.herald.gateway.topics.publishToTopic('team:refresh', { event: 'ping' });
    expect((await notifications.settled())[0]?.title).toBe('still here');
    await topicMessages.settled();
  });
});

describe('several service tokens at once (SERVICE_TOKENS)', () => {
  const stack = useTestStack({ env: { SERVICE_TOKENS: 'rotated-token-aaaaaaaaaaaaaaaaaaaa,rotated-token-bbbbbbbbbbbbbbbbbbbb' } });

  it('accepts each of them and SERVICE_TOKEN, and refuses others', async () => {
    const publish = (token: string) =>
      fetch(`${stack.herald.url}/api/notifications`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userIds: ['rotation'], type: 'a.b', title: 't' }),
      }).then((res) => res.status);
    expect(await publish('rotated-token-aaaaaaaaaaaaaaaaaaaa')).toBe(201);
    expect(await publish('rotated-token-bbbbbbbbbbbbbbbbbbbb')).toBe(201);
    expect(await publish('test-service-token-0123456789abcdef')).toBe(201);
    expect(await publish('rotated-token-cccccccccccccccccccc')).toBe(401);
  });
});

describe('a backend acting for a user (service token)', () => {
  const stack = useTestStack({ instances: 2 });
  const service = (method: string, path: string, token = 'test-service-token-0123456789abcdef') =>
    fetch(`${stack.instances[1]!.url}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });

  it('reads counts and marks read, seen, archived or all read, pushed live to the user’s sockets on any instance', async () => {
    const userId = 'auth0|backend-acts';
    const socket = await connect(stack.herald.url, stack.herald.gateway.tokens.sign({ userId, name: 'U' }).token);
    await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    const updated = exactly<Notification>(1, 'notification:updated');
    const counts: unknown[] = [];
    socket.on('notification:updated', updated.record);
    socket.on('counts', (c) => counts.push(c));
    const { notifications } = await stack.herald.gateway.publishNotification({
      userIds: [userId, userId.toUpperCase()],
      type: 'a.b',
      title: 'x',
    });
    const mine = notifications.find((n) => n.userId === userId)!;
    const base = `/api/users/${encodeURIComponent(userId)}/notifications`;

    expect(await (await service('GET', `${base}/counts`)).json()).toMatchObject({ unread: 1, unseen: 1 });
    const read = await service('POST', `${base}/${mine.id}/read`);
    expect(read.status).toBe(200);
    expect(((await updated.settled())[0] as Notification).readAt).toEqual(expect.any(String));
    expect(counts.at(-1)).toMatchObject({ unread: 0, unseen: 0 });
    // Scoped to that user: another user's notification is not found through this user's path.
    const theirs = notifications.find((n) => n.userId !== userId)!;
    expect((await service('POST', `${base}/${theirs.id}/archive`)).status).toBe(404);
    expect((await service('POST', `${base}/read-all`)).status).toBe(200);

    expect((await service('GET', `${base}/counts`, 'wrong-token-wrong-token-wrong')).status).toBe(401);
    expect((await service('GET', '/api/users/not%20an%20id/notifications/counts')).status).toBe(400);
  });
});
