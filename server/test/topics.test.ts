import { Redis } from 'ioredis';
import request from 'supertest';
import type { TopicMessage } from '@herald/shared';
import type { RunningHerald } from '../src/main';
import { connect, type ClientSocket } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { createTokenSigner } from '../src/auth/token-signer';
import { createTopicsOnConnect } from '../src/realtime/topics-on-connect';
import { startWatchedHerald, TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from './support/herald';
import { useTestStack } from './support/stack';

function recordTopics(socket: ClientSocket): TopicMessage[] {
  const got: TopicMessage[] = [];
  socket.on('topic:message', (m) => got.push(m));
  return got;
}

describe('topics', () => {
  const stack = useTestStack({ instances: 2, users: ['alice', 'bob', 'carol'] });
  const { users } = stack;
  let a: RunningHerald;
  let b: RunningHerald;
  const service = (url: string) => ({
    post: (path: string, body: object) => request(url).post(path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`).send(body),
    put: (path: string) => request(url).put(path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`),
    get: (path: string) => request(url).get(path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`),
    delete: (path: string) => request(url).delete(path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`),
  });

  beforeAll(async () => {
    [a, b] = stack.instances as [RunningHerald, RunningHerald];
    await service(a.url).post('/api/topics', { name: 'post:1' }).expect(201);
    await service(a.url).post('/api/topics', { name: 'post:2', systemEvents: true }).expect(201);
    await service(a.url).post('/api/topics', { name: 'team:secret', visibility: 'private' }).expect(201);
  });

  it('refuses unknown, forbidden and malformed topics with an error ack', async () => {
    const socket = await connect(a.url, users.bob.token);
    expect((await socket.emitWithAck('topic:subscribe', { topic: 'post:404' })).error?.code).toBe('not_found');
    expect((await socket.emitWithAck('topic:subscribe', { topic: 'team:secret' })).error?.code).toBe('forbidden');
    const raw = socket as unknown as { emitWithAck: (e: string, p: unknown) => Promise<{ error?: { code: string } }> };
    for (const payload of [{ topic: 'no colon' }, { topic: { $gt: '' } }, 'post:1', { topic: 'post:1', extra: true }]) {
      expect((await raw.emitWithAck('topic:subscribe', payload)).error?.code).toBe('validation_failed');
    }
    expect((await service(a.url).get('/api/topics/team:secret/members').expect(200)).body.members).toEqual([]);
    await service(a.url).post('/api/topics', { name: 'post:1' }).expect(409);
    await request(a.url).post('/api/topics').send({ name: 'post:9' }).expect(401);
  });

  it('delivers a topic message to every subscriber on every instance once, and to nobody else', async () => {
    const aliceSocket = await connect(a.url, users.alice.token);
    const carolSocket = await connect(b.url, users.carol.token);
    const bobSocket = await connect(b.url, users.bob.token);
    const got = [recordTopics(aliceSocket), recordTopics(carolSocket)];
    const toBob = recordTopics(bobSocket);
    expect((await aliceSocket.emitWithAck('topic:subscribe', { topic: 'post:1' })).data).toEqual({ topic: 'post:1' });
    expect((await carolSocket.emitWithAck('topic:subscribe', { topic: 'post:1' })).data).toEqual({ topic: 'post:1' });

    expect(await a.gateway.topics.publishToTopic('post:1', { event: 'comment.created', data: { text: 'hi' } })).toBe(2);
    await waitFor(() => got.forEach((list) => expect(list.map((m) => m.event)).toEqual(['comment.created'])));
    await sleep(200);
    got.forEach((list) => expect(list).toHaveLength(1));
    expect(toBob).toEqual([]);
    expect(got[0]![0]).toMatchObject({ topic: 'post:1', data: { text: 'hi' } });

    // The user who caused it can be left out.
    await b.gateway.topics.publishToTopic('post:1', { event: 'post.liked' }, { excludeUserId: users.alice.user.id });
    await waitFor(() => expect(got[1]!.map((m) => m.event)).toEqual(['comment.created', 'post.liked']));
    await sleep(200);
    expect(got[0]!.map((m) => m.event)).toEqual(['comment.created']);

    // Unsubscribe stops delivery.
    await carolSocket.emitWithAck('topic:unsubscribe', { topic: 'post:1' });
    await a.gateway.topics.publishToTopic('post:1', { event: 'after.leave' });
    await waitFor(() => expect(got[0]!.map((m) => m.event)).toContain('after.leave'));
    await sleep(200);
    expect(got[1]!.map((m) => m.event)).not.toContain('after.leave');
  });

  it('membership follows the user: a new socket is subscribed, and a backend can add and remove members', async () => {
    const later = await connect(b.url, users.alice.token);
    const got = recordTopics(later);
    await waitFor(async () => expect(await b.gateway.topicChannels.channelCount).toBeGreaterThan(0));
    await a.gateway.topics.publishToTopic('post:1', { event: 'for.members' });
    await waitFor(() => expect(got.map((m) => m.event)).toContain('for.members'));

    const bobSocket = await connect(a.url, users.bob.token);
    const toBob = recordTopics(bobSocket);
    await service(b.url).put(`/api/topics/team:secret/members/${users.bob.user.id}`).expect(201);
    await waitFor(async () => {
      await a.gateway.topics.publishToTopic('team:secret', { event: 'standup' });
      expect(toBob.map((m) => m.event)).toContain('standup');
    });
    expect((await service(a.url).get('/api/topics/team:secret/members').expect(200)).body.members).toEqual([users.bob.user.id]);
    expect((await bobSocket.emitWithAck('topic:subscribe', { topic: 'team:secret' })).data).toEqual({ topic: 'team:secret' });

    await service(a.url).delete(`/api/topics/team:secret/members/${users.bob.user.id}`).expect(200);
    await sleep(200);
    const before = toBob.length;
    await a.gateway.topics.publishToTopic('team:secret', { event: 'after.removal' });
    await sleep(300);
    expect(toBob.length).toBe(before);
  });

  it('a new socket takes its topics from the Redis copy while the membership version is unchanged, else from the database', async () => {
    const reads = jest.spyOn(a.gateway.topics, 'topicsOfUsers');
    const redis = new Redis(stack.redis.url);
    // A user no test has seen: no copy yet, and no membership change for the periodic check to re-read.
    const userId = `topics-copy-${Date.now()}`;
    const token = createTokenSigner({ secret: TEST_JWT_SECRET, ttlSeconds: 600 }).sign({ userId, name: 'Dana' }).token;
    const readsOf = () => reads.mock.calls.filter(([ids]) => ids.includes(userId)).length;
    const sockets: ClientSocket[] = [];
    try {
      sockets.push(await connect(a.url, token));
      await waitFor(async () => expect(await redis.get(stack.names.topicsKey(userId))).toBe('\n[]'));
      expect(readsOf()).toBe(1);
      // Another handshake of the same user, nothing changed: no database read.
      sockets.push(await connect(a.url, token));
      await sleep(300);
      expect(readsOf()).toBe(1);

      // A change made through the other instance bumps the version: the next handshake reads the database and joins.
      await service(b.url).put(`/api/topics/team:secret/members/${userId}`).expect(201);
      const third = await connect(a.url, token);
      sockets.push(third);
      const toThird = recordTopics(third);
      await waitFor(() => expect(readsOf()).toBeGreaterThan(1));
      await waitFor(async () => {
        await b.gateway.topics.publishToTopic('team:secret', { event: 'welcome' });
        expect(toThird.map((m) => m.event)).toContain('welcome');
      });
      // A copy tagged with another version is never used: a forged one naming a topic the user left changes nothing.
      await service(b.url).delete(`/api/topics/team:secret/members/${userId}`).expect(200);
      const version = await redis.get(stack.names.membershipKey(userId));
      await redis.set(stack.names.topicsKey(userId), `${Number(version) - 1}\n["team:secret"]`);
      const fourth = await connect(a.url, token);
      sockets.push(fourth);
      const toFourth = recordTopics(fourth);
      await sleep(300);
      await b.gateway.topics.publishToTopic('team:secret', { event: 'members.only' });
      await sleep(300);
      expect(toFourth).toEqual([]);
      // An unreadable copy at the current version is read past, to the database.
      const before = readsOf();
      await redis.set(stack.names.topicsKey(userId), `${version}\nnot json`);
      sockets.push(await connect(a.url, token));
      await waitFor(() => expect(readsOf()).toBe(before + 1));
    } finally {
      for (const socket of sockets) socket.close();
      reads.mockRestore();
      redis.disconnect();
    }
  });

  it('a burst of first handshakes joins each socket to its own topics; calls in one turn share one query', async () => {
    await service(a.url).post('/api/topics', { name: 'team:burst', visibility: 'private' }).expect(201);
    const signer = createTokenSigner({ secret: TEST_JWT_SECRET, ttlSeconds: 600 });
    // Users no test has seen, so none has a copy in Redis: every one of them needs the database.
    const userIds = Array.from({ length: 40 }, (_, i) => `burst-${Date.now()}-${i}`);
    const members = userIds.filter((_, i) => i % 2 === 0);
    for (const userId of members) await service(a.url).put(`/api/topics/team:burst/members/${userId}`).expect(201);

    // The function itself: 40 users asked in one turn are read with one query, each answered with its own topics.
    const queries: string[][] = [];
    const redis = new Redis(stack.redis.url);
    try {
      const topicsOnConnect = createTopicsOnConnect({
        redis,
        names: stack.names,
        topics: { topicsOfUsers: (ids) => (queries.push(ids), a.gateway.topics.topicsOfUsers(ids)) },
      });
      const answers = await Promise.all(userIds.map(topicsOnConnect));
      expect(queries).toHaveLength(1);
      expect(answers.map((answer) => answer.topics)).toEqual(userIds.map((_, i) => (i % 2 === 0 ? ['team:burst'] : [])));
      // Now copied to Redis: asked again, nobody needs the database.
      await Promise.all(userIds.map(topicsOnConnect));
      expect(queries).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
    await Promise.all(userIds.map((userId) => a.gateway.topics.removeMember('team:burst', { id: userId })));
    for (const userId of members) await service(a.url).put(`/api/topics/team:burst/members/${userId}`).expect(201);

    // Through the gateway: every socket of the burst is in its own topics, and only those.
    const sockets: ClientSocket[] = [];
    try {
      sockets.push(...(await Promise.all(userIds.map((userId) => connect(b.url, signer.sign({ userId, name: userId }).token)))));
      const got = sockets.map(recordTopics);
      await waitFor(async () => {
        await a.gateway.topics.publishToTopic('team:burst', { event: 'standup' });
        members.forEach((_, i) => expect(got[2 * i]!.map((m) => m.event)).toContain('standup'));
      });
      await sleep(200);
      got.forEach((list, i) => (i % 2 === 0 ? expect(list.length).toBeGreaterThan(0) : expect(list).toEqual([])));
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  it('system events: others hear joined and left; the joiner is not echoed', async () => {
    const carolSocket = await connect(a.url, users.carol.token);
    await carolSocket.emitWithAck('topic:subscribe', { topic: 'post:2' });
    const toCarol = recordTopics(carolSocket);
    const bobSocket = await connect(b.url, users.bob.token);
    const toBob = recordTopics(bobSocket);

    await bobSocket.emitWithAck('topic:subscribe', { topic: 'post:2' });
    await waitFor(() =>
      expect(toCarol).toContainEqual(
        expect.objectContaining({ event: 'joined', data: { user: { id: users.bob.user.id, name: users.bob.user.name } } }),
      ),
    );
    await bobSocket.emitWithAck('topic:unsubscribe', { topic: 'post:2' });
    await waitFor(() => expect(toCarol.map((m) => m.event)).toContain('left'));
    expect(toBob.filter((m) => m.event === 'joined' || m.event === 'left')).toEqual([]);
  });

  it('HTTP messages to a topic, and the topic channel is dropped when its last local subscriber leaves', async () => {
    const res = await service(a.url)
      .post('/api/topics/post:1/messages', { event: 'broadcast', data: { n: 1 } })
      .expect(202);
    expect(typeof res.body.instancesReached).toBe('number');
    await service(a.url).post('/api/topics/post:404/messages', { event: 'x' }).expect(404);
    expect(
      (
        await service(a.url)
          .post('/api/topics/post:1/messages', { event: 'x', data: { $gt: 1 } })
          .expect(400)
      ).body.error.code,
    ).toBe('validation_failed');

    await service(a.url).post('/api/topics', { name: 'post:3' }).expect(201);
    const redis = new Redis(stack.redis.url);
    const numsub = async () => ((await redis.call('PUBSUB', 'NUMSUB', stack.names.topicChannel('post:3'))) as [string, number])[1];
    try {
      const socket = await connect(a.url, users.carol.token);
      await socket.emitWithAck('topic:subscribe', { topic: 'post:3' });
      expect(await numsub()).toBe(1);
      await socket.emitWithAck('topic:unsubscribe', { topic: 'post:3' });
      await waitFor(async () => expect(await numsub()).toBe(0));
    } finally {
      redis.disconnect();
    }
  });

  it('a topic found once is not read again for each message; a topic not found is, so one created elsewhere is found at once', async () => {
    // The reads of the topics collection this gateway sends are counted.
    const topicReads: unknown[] = [];
    const watched = await startWatchedHerald(stack, (event) => {
      if (event.commandName === 'find' && event.command.find === 'topics') topicReads.push(event.command.filter);
    });
    try {
      await service(watched.url).post('/api/topics/post:4/messages', { event: 'x' }).expect(404);
      await service(a.url).post('/api/topics', { name: 'post:4' }).expect(201);
      for (let i = 0; i < 3; i++) await service(watched.url).post('/api/topics/post:4/messages', { event: 'x' }).expect(202);
      expect(topicReads).toEqual([{ _id: 'post:4' }, { _id: 'post:4' }]);
    } finally {
      await watched.close();
    }
  });
});
