import express from 'express';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import request from 'supertest';
import { errorHandler } from '../src/http/error-handler';
import { createLogger } from '../src/platform/logger';
import { createNotificationWriter } from '../src/notifications/notification-writer';
import { createSequenceAllocator } from '../src/notifications/sequence';
import { createMutedRecipients } from '../src/preferences/muted-recipients';
import { createMutersIndex, type MutersIndex } from '../src/preferences/muters-index';
import { preferenceModel } from '../src/preferences/preference-model';
import { preferenceRoutes } from '../src/preferences/preference-routes';
import { asUser } from './support/http';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

describe('the index of users who mute something', () => {
  const stack = useTestStack({ users: ['alice', 'bob'] });
  const logger = createLogger('silent');
  let redis: Redis;
  let index: MutersIndex;

  beforeAll(async () => {
    // Bob mutes a type through the API: the gateway adds him to the index before storing it.
    await asUser(stack.herald.url, stack.users.bob.token)
      .put('/api/preferences', { mutedTypes: ['post.liked'] })
      .expect(200);
    // An index of this test's own, on a Redis connection of its own (so it can be made to reopen).
    redis = new Redis(stack.redis.url);
    index = createMutersIndex({ connection: stack.inspector, redis, names: stack.names, logger });
    await waitFor(async () => expect(await index.mayMute([stack.users.bob.user.id])).toEqual(new Set([stack.users.bob.user.id])));
    // Its own fill (on its connection's opening) is done too.
    await index.filled();
  });

  afterAll(() => {
    index?.close();
    redis?.disconnect();
  });

  it('a publish to users who mute nothing reads no preferences; one to a user who mutes reads only theirs', async () => {
    const { alice, bob } = stack.users;
    const muted = createMutedRecipients(stack.inspector, { index });
    const find = jest.spyOn(preferenceModel(stack.inspector), 'find');
    try {
      expect(await muted.forEach([{ userIds: [alice.user.id, 'nobody-1'], type: 'post.liked' }])).toEqual([new Set()]);
      expect(find).not.toHaveBeenCalled();
      expect(
        await muted.forEach([
          { userIds: [alice.user.id, bob.user.id], type: 'post.liked' },
          { userIds: [bob.user.id], type: 'comment.created' },
        ]),
      ).toEqual([new Set([bob.user.id]), new Set()]);
      expect(find).toHaveBeenCalledTimes(1);
      expect((find.mock.calls[0]![0] as unknown as { _id: { $in: string[] } })._id.$in).toEqual([bob.user.id]);
    } finally {
      find.mockRestore();
    }
  });

  it('a publish checks the set before it takes seqs, and gives a muted recipient none', async () => {
    const { alice, bob } = stack.users;
    const newcomer = new mongoose.Types.ObjectId().toHexString();
    const sequences = createSequenceAllocator({ connection: stack.inspector, redis, logger, names: stack.names });
    const muted = createMutedRecipients(stack.inspector, { index });
    const writer = createNotificationWriter({ connection: stack.inspector, sequences, muted, logger });
    const watcher = new Redis(stack.redis.url);
    let monitor: Redis | undefined;
    const find = jest.spyOn(preferenceModel(stack.inspector), 'find');
    try {
      // Their counters exist (so no seeding below).
      await writer.store([alice.user.id, bob.user.id, newcomer], { type: 'a.b', title: 'first' });
      const bobsCounter = await redis.get(stack.names.seqKey(bob.user.id));
      const address = /addr=(\S+)/.exec(String(await redis.client('INFO')))![1];
      monitor = await watcher.monitor();
      const commands: string[][] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === address) commands.push(args.map(String));
      });
      const names = () => commands.map(([command]) => command!.toLowerCase());
      const settled = async () => {
        await redis.ping();
        await waitFor(() => expect(names()).toContain('ping'));
        const seen = names().filter((name) => name !== 'ping');
        commands.length = 0;
        return seen;
      };
      find.mockClear();

      // Nobody who mutes: the set is asked about both, then each takes a seq.
      const quiet = await writer.store([alice.user.id, newcomer], { type: 'post.liked', title: 'quiet' });
      expect(quiet.stored.map((n) => n.seq)).toEqual([2, 2]);
      expect(commands[0]!.slice(0, 2)).toEqual(['smismember', stack.names.mutersKey]);
      expect(await settled()).toEqual(['smismember', 'incrby', 'incrby']);
      expect(find).not.toHaveBeenCalled();

      // Bob mutes the type: his preferences are read, and only Alice is numbered.
      const mixed = await writer.store([alice.user.id, bob.user.id], { type: 'post.liked', title: 'mixed' });
      expect(mixed.muted).toEqual([bob.user.id]);
      expect(mixed.stored.map((n) => [n.userId, n.seq])).toEqual([[alice.user.id, 3]]);
      expect(await settled()).toEqual(['smismember', 'incrby']);
      expect(find).toHaveBeenCalledTimes(1);
      expect(await redis.get(stack.names.seqKey(bob.user.id))).toBe(bobsCounter);
      expect(await stack.inspector.collection('notifications').countDocuments({ userId: bob.user.id, title: 'mixed' })).toBe(0);
    } finally {
      find.mockRestore();
      monitor?.disconnect();
      watcher.disconnect();
    }
  });

  it('when Redis has lost the set, every recipient is read from the database until it is filled again', async () => {
    const { alice, bob } = stack.users;
    await stack.redisClient.del(stack.names.mutersKey);
    expect(await index.mayMute([alice.user.id, bob.user.id])).toBeUndefined();
    // That read started a fill from the database.
    await index.filled();
    expect(await index.mayMute([alice.user.id, bob.user.id])).toEqual(new Set([bob.user.id]));
    // Muting still works end to end: the gateway's publish leaves Bob out.
    const published = await stack.herald.gateway.publishNotification({
      userIds: [alice.user.id, bob.user.id],
      type: 'post.liked',
      title: 'liked',
    });
    expect(published.mutedUserIds).toEqual([bob.user.id]);
  });

  it('a Redis back with an older copy of the set (its connection reopens) is not trusted: the set is filled again', async () => {
    const { bob } = stack.users;
    // As if Redis came back from a snapshot taken before Bob muted.
    await stack.redisClient.srem(stack.names.mutersKey, bob.user.id);
    expect(await index.mayMute([bob.user.id])).toEqual(new Set());
    redis.disconnect(true);
    await waitFor(async () => expect(await index.mayMute([bob.user.id])).toEqual(new Set([bob.user.id])));
  });

  it('preferences that mute are not stored when the index cannot take the user: 503, nothing changed', async () => {
    const app = express();
    app.use(express.json());
    app.use(
      '/api/preferences',
      preferenceRoutes({
        preferences: preferenceModel(stack.inspector),
        muters: { willMute: () => Promise.reject(new Error('redis did not answer within 1000 ms')) },
        requireUser: (_req, res, next) => {
          res.locals.user = { userId: 'carol-503', name: 'Carol' };
          next();
        },
      }),
    );
    app.use(errorHandler(logger));
    const res = await request(app)
      .put('/api/preferences')
      .send({ mutedTypes: ['post.liked'] });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    expect(await stack.inspector.collection('preferences').findOne({ _id: 'carol-503' as never })).toBeNull();
    // Unmuting needs no index: it is stored.
    await request(app).put('/api/preferences').send({ mutedTypes: [] }).expect(200);
    expect(await stack.inspector.collection('preferences').findOne({ _id: 'carol-503' as never })).toMatchObject({ mutedTypes: [] });
  });
});
