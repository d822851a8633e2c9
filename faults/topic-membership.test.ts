import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { createNames, topicRoom, type TopicMessage } from '@herald/shared';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { createLogger } from '../server/src/platform/logger';
import { createMongoConnection } from '../server/src/platform/mongo-connection';
import { createTopicService, type TopicService } from '../server/src/topics/topic-service';
import { startTestHerald } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { closeAllSockets, connect, type ClientSocket } from '../server/test/support/sockets';
import { sleep, waitFor } from '../server/test/support/wait';

/**
 * Topic membership is the database's. A member removed from a private topic must stop receiving it on
 * every socket within 5 s even when the gateway missed the membership message, and a subscribe racing
 * the removal must not re-add the member.
 */
describe('topic membership, when messages are lost or requests race', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let connection: Connection;
  let otherRedis: Redis;
  /** Another process's topic service, whose messages on user channels are all lost. */
  let deaf: TopicService;
  let membershipReads = 0;

  beforeAll(async () => {
    redis = await startTestRedis();
    const mongodbUri = freshMongoUri();
    // On a watched connection: the membership reads the gateway sends are counted.
    herald = await startTestHerald({ mongodbUri: `${mongodbUri}?monitorCommands=true`, redisUrl: redis.url });
    for (const watched of mongoose.connections) {
      const client = watched.readyState === 1 ? watched.getClient() : undefined;
      if (!client?.options.monitorCommands) continue;
      client.on('commandStarted', (event) => {
        if (event.commandName === 'find' && event.command.find === 'topic_members') membershipReads++;
      });
    }
    connection = await createMongoConnection(mongodbUri).asPromise();
    otherRedis = new Redis(redis.url);
    deaf = createTopicService({
      connection,
      redis: otherRedis,
      userChannel: { publish: async (messages) => messages.map(() => null) },
      logger: createLogger('silent'),
      names: createNames(),
    });
  });

  afterAll(async () => {
    closeAllSockets();
    otherRedis?.disconnect();
    await connection?.close();
    await herald?.close();
    await redis?.stop();
  });

  const socketFor = (userId: string): Promise<ClientSocket> =>
    connect(herald.url, herald.gateway.tokens.sign({ userId, name: userId }).token);

  it('a removal takes effect on the member’s sockets within 5 s although its message was lost', async () => {
    const topic = 'team:x';
    await herald.gateway.topics.create({ name: topic, visibility: 'private' });
    await herald.gateway.topics.addMember(topic, { id: 'member-1' });
    const socket = await socketFor('member-1');
    const received: TopicMessage[] = [];
    socket.on('topic:message', (message) => received.push(message));
    const room = () => herald.gateway.io.of('/').adapter.rooms.get(topicRoom(topic))?.size ?? 0;
    await waitFor(() => expect(room()).toBe(1));
    await herald.gateway.topics.publishToTopic(topic, { event: 'before' });
    await waitFor(() => expect(received.map((m) => m.event)).toEqual(['before']));

    await deaf.removeMember(topic, { id: 'member-1' });
    const removedAt = Date.now();
    expect(await herald.gateway.topics.members(topic)).toEqual([]);
    await waitFor(() => expect(room()).toBe(0), 5000, 50);
    expect(Date.now() - removedAt).toBeLessThan(5000);
    await herald.gateway.topics.publishToTopic(topic, { event: 'after' });
    await sleep(300);
    expect(received.map((m) => m.event)).toEqual(['before']);
  });

  it('removals of 30 members whose messages were all lost take effect on every socket, with a query per 500 users, not per user', async () => {
    const topic = 'team:many';
    const members = Array.from({ length: 30 }, (_, i) => `many-${i}`);
    await herald.gateway.topics.create({ name: topic, visibility: 'private' });
    for (const id of members) await herald.gateway.topics.addMember(topic, { id });
    await Promise.all(members.map(socketFor));
    const room = () => herald.gateway.io.of('/').adapter.rooms.get(topicRoom(topic))?.size ?? 0;
    await waitFor(() => expect(room()).toBe(30));
    // Every socket's topics are settled (the check has compared each user once) before counting.
    await sleep(2500);

    const readsBefore = membershipReads;
    await Promise.all(members.map((id) => deaf.removeMember(topic, { id })));
    await waitFor(() => expect(room()).toBe(0), 5000, 50);
    // One check or two (the removals may straddle one), never one read per member.
    expect(membershipReads - readsBefore).toBeGreaterThanOrEqual(1);
    expect(membershipReads - readsBefore).toBeLessThanOrEqual(2);
  });

  it('a subscribe racing the removal never re-adds the member (25 races)', async () => {
    const topic = 'team:y';
    await herald.gateway.topics.create({ name: topic, visibility: 'private' });
    const socket = await socketFor('racer-1');
    const resurrected: number[] = [];
    for (let round = 0; round < 25; round++) {
      await herald.gateway.topics.addMember(topic, { id: 'racer-1' });
      await Promise.all([
        socket.timeout(5000).emitWithAck('topic:subscribe', { topic }),
        // Give the subscribe a head start of 0-4 ms, so its read and write fall on both sides of the removal.
        sleep(round % 5).then(() => herald.gateway.topics.removeMember(topic, { id: 'racer-1' })),
      ]);
      if ((await herald.gateway.topics.members(topic)).includes('racer-1')) resurrected.push(round);
    }
    expect(resurrected).toEqual([]);
  });
});
