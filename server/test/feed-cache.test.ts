import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import type { Notification } from '@herald/shared';
import { createHeraldPublisher } from '../src';
import { createLogger } from '../src/platform/logger';
import { createFeedCache, PENDING_STALE_SECONDS, type FeedCache } from '../src/notifications/feed-cache';
import { asUser, login } from './support/http';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

const fakeNotification = (userId: string, seq: number): Notification => ({
  id: new mongoose.Types.ObjectId().toHexString(),
  userId,
  seq,
  type: 'a.b',
  title: 't',
  createdAt: new Date().toISOString(),
});

describe('the feed cache: counts and recent notifications in Redis', () => {
  const stack = useTestStack();

  const truth = async (userId: string) => {
    const notifications = stack.inspector.collection('notifications');
    const owner = userId;
    return {
      unread: await notifications.countDocuments({ userId: owner, readAt: null, archivedAt: null }),
      unseen: await notifications.countDocuments({ userId: owner, seenAt: null, archivedAt: null }),
    };
  };

  it('follow publishes, reads, seen, archive and delete exactly, as the database counts them', async () => {
    const alice = await login(stack.herald.url, 'alice');
    const api = asUser(stack.herald.url, alice.token);
    const counts = async () => (await api.get('/api/notifications/counts').expect(200)).body;
    const publish = async (title: string) =>
      (await stack.herald.gateway.publishNotification({ userIds: [alice.user.id], type: 'a.b', title })).notifications[0]!;

    expect(await counts()).toEqual(await truth(alice.user.id));
    const first = await publish('one');
    const second = await publish('two');
    // The cache is warm now: publishes add to it rather than dropping it.
    expect(await stack.redisClient.hget(stack.names.countsKey(alice.user.id), 'at')).toBe(
      await stack.redisClient.hget(stack.names.countsKey(alice.user.id), 'v'),
    );
    expect(await counts()).toEqual(await truth(alice.user.id));
    await api.post(`/api/notifications/${first.id}/read`).expect(200);
    expect(await counts()).toEqual(await truth(alice.user.id));
    await api.post('/api/notifications/seen').expect(200);
    expect(await counts()).toEqual(await truth(alice.user.id));
    await publish('three');
    await api.post(`/api/notifications/${second.id}/archive`).expect(200);
    expect(await counts()).toEqual(await truth(alice.user.id));
    const fourth = await publish('four');
    await api.delete(`/api/notifications/${fourth.id}`).expect(200);
    expect(await counts()).toEqual(await truth(alice.user.id));
    await stack.redisClient.del(stack.names.countsKey(alice.user.id));
    expect(await counts()).toEqual(await truth(alice.user.id));
  });

  it('counts computed while something changed are answered but not cached', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    let computed = 0;
    const racing = await cache.counts(userId, async () => {
      computed++;
      // A publish lands between reading the version and storing the result.
      await cache.added([fakeNotification(userId, 1)], await cache.adding([userId]).announced);
      return { unread: 0, unseen: 0 };
    });
    expect(racing).toEqual({ unread: 0, unseen: 0 });
    const fresh = await cache.counts(userId, async () => {
      computed++;
      return { unread: 1, unseen: 1 };
    });
    expect(fresh).toEqual({ unread: 1, unseen: 1 });
    expect(computed).toBe(2);
    // Cached now: the next read does not compute, and a publish adds to it.
    await cache.added([fakeNotification(userId, 2), fakeNotification(userId, 3)], await cache.adding([userId, userId]).announced);
    expect(await cache.counts(userId, () => Promise.reject(new Error('should come from the cache')))).toEqual({ unread: 3, unseen: 3 });
  });

  it('a count that saw an insert of a publish still in flight is not cached, so the publish does not count it twice', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    const first = await cache.adding([userId]).announced;
    // The insert has landed; the publish has not told the cache yet. A read counts the new notification.
    expect(await cache.counts(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({ unread: 1, unseen: 1 });
    await cache.added([fakeNotification(userId, 1)], first);
    expect(await cache.counts(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({ unread: 1, unseen: 1 });
    // With nothing in flight, counts are cached again and follow publishes.
    await cache.added([fakeNotification(userId, 2)], await cache.adding([userId]).announced);
    expect(await cache.counts(userId, () => Promise.reject(new Error('should come from the cache')))).toEqual({ unread: 2, unseen: 2 });
    // A publish that failed to store leaves nothing pending, and stale counts.
    await cache.abandoned([userId], await cache.adding([userId]).announced);
    expect(await cache.counts(userId, async () => ({ unread: 2, unseen: 2 }))).toEqual({ unread: 2, unseen: 2 });
    expect(await cache.counts(userId, () => Promise.reject(new Error('should come from the cache')))).toEqual({ unread: 2, unseen: 2 });
  });

  it('counts read while a publish is in flight say so, until it reports or its announcement is too old to be alive', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    const key = stack.names.countsKey(userId);
    expect(await cache.countsWithState(userId, async () => ({ unread: 0, unseen: 0 }))).toEqual({
      counts: { unread: 0, unseen: 0 },
      inFlight: false,
    });
    // Announced: its insert may land before it reports, and a read right after would return it uncounted.
    const announced = await cache.adding([userId]).announced;
    const fromCache = () => Promise.reject(new Error('should come from the cache'));
    expect(await cache.countsWithState(userId, fromCache)).toEqual({ counts: { unread: 0, unseen: 0 }, inFlight: true });
    await cache.added([fakeNotification(userId, 1)], announced);
    expect(await cache.countsWithState(userId, fromCache)).toEqual({
      counts: { unread: 1, unseen: 1 },
      inFlight: false,
      stamp: expect.any(String),
    });

    // A publisher that died after announcing: for PENDING_STALE_SECONDS its announcement holds, then it
    // neither keeps the counts from being cached nor makes them provisional.
    await cache.adding([userId]).announced;
    await cache.changed([userId]);
    expect(await cache.countsWithState(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({
      counts: { unread: 1, unseen: 1 },
      inFlight: true,
    });
    expect(await stack.redisClient.hget(key, 'at')).not.toBe(await stack.redisClient.hget(key, 'v'));
    // Kept as provisional: the next read does not count again, and says they are provisional.
    expect(await cache.countsWithState(userId, fromCache)).toEqual({ counts: { unread: 1, unseen: 1 }, inFlight: true });
    const [now] = await stack.redisClient.time();
    await stack.redisClient.hset(key, 'addingAt', Number(now) - PENDING_STALE_SECONDS);
    expect(await cache.countsWithState(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({
      counts: { unread: 1, unseen: 1 },
      inFlight: false,
      stamp: expect.any(String),
    });
    expect(await stack.redisClient.hmget(key, 'pending', 'at')).toEqual(['0', await stack.redisClient.hget(key, 'v')]);
    expect(await cache.countsWithState(userId, fromCache)).toEqual({
      counts: { unread: 1, unseen: 1 },
      inFlight: false,
      stamp: expect.any(String),
    });

    // Announced by a Herald older than `addingAt` (a rolling upgrade): in flight, as it always was.
    await stack.redisClient.hset(key, 'pending', 1);
    await stack.redisClient.hdel(key, 'addingAt');
    expect((await cache.countsWithState(userId, fromCache)).inFlight).toBe(true);
  });

  it('the counts stamp stays while nothing happens, changes with every stored notification or change, and is absent while a publish is in flight', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    try {
      // No counts cached yet: no stamp to compare against.
      expect(await cache.countsStamp(userId)).toBeUndefined();
      // The first count creates the hash after its read, so it has no stamp; the next one has.
      expect((await cache.countsWithState(userId, async () => ({ unread: 0, unseen: 0 }))).stamp).toBeUndefined();
      const first = (await cache.countsWithState(userId, async () => ({ unread: 0, unseen: 0 }))).stamp;
      expect(first).toEqual(expect.any(String));
      expect(await cache.countsStamp(userId)).toBe(first);
      const announced = await cache.adding([userId]).announced;
      expect(await cache.countsStamp(userId)).toBeUndefined();
      await cache.added([fakeNotification(userId, 1)], announced);
      const second = await cache.countsStamp(userId);
      expect(second).toEqual(expect.any(String));
      expect(second).not.toBe(first);
      await cache.changed([userId]);
      expect(await cache.countsStamp(userId)).not.toBe(second);
    } finally {
      cache.close();
    }
  });

  /** A read that counts in the database, once, and answers those counts as settled. */
  const expectRecounted = async (cache: FeedCache, userId: string, counts = { unread: 1, unseen: 1 }) => {
    let computed = 0;
    const answer = await cache.countsWithState(userId, async () => {
      computed++;
      return counts;
    });
    expect(answer).toEqual({ counts, inFlight: false, stamp: expect.any(String) });
    expect(computed).toBe(1);
  };

  it('provisional counts (taken while a publish was in flight) are never added to, and are counted again once it reports', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    const announced = await cache.adding([userId]).announced;
    // The insert landed; a read counts it, provisionally.
    expect(await cache.countsWithState(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({
      counts: { unread: 1, unseen: 1 },
      inFlight: true,
    });
    await cache.added([fakeNotification(userId, 1)], announced);
    // Reported: counted again (adding to the provisional 1 would make 2), and cached as final.
    await expectRecounted(cache, userId);
    expect(await cache.countsWithState(userId, () => Promise.reject(new Error('should come from the cache')))).toEqual({
      counts: { unread: 1, unseen: 1 },
      inFlight: false,
      stamp: expect.any(String),
    });
  });

  /** Makes the user's last announcement older than PENDING_STALE_SECONDS; returns Redis's clock (s). */
  const ageAnnouncement = async (userId: string) => {
    const [now] = await stack.redisClient.time();
    await stack.redisClient.hset(stack.names.countsKey(userId), 'addingAt', Number(now) - PENDING_STALE_SECONDS - 5);
    return Number(now);
  };

  it('a publish waiting on a slow insert renews its announcement, so it is not taken for a dead one', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names, renewMs: 100 });
    const userId = new mongoose.Types.ObjectId().toHexString();
    const key = stack.names.countsKey(userId);
    try {
      const announced = await cache.adding([userId]).announced;
      // As if announced long ago: the renewal makes it current again.
      const now = await ageAnnouncement(userId);
      await waitFor(async () => expect(Number(await stack.redisClient.hget(key, 'addingAt'))).toBeGreaterThanOrEqual(now));
      expect((await cache.countsWithState(userId, async () => ({ unread: 1, unseen: 1 }))).inFlight).toBe(true);
      await cache.added([fakeNotification(userId, 1)], announced);
      expect(await cache.countsWithState(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({
        counts: { unread: 1, unseen: 1 },
        inFlight: false,
        stamp: expect.any(String),
      });
    } finally {
      cache.close();
    }
  });

  it('the late report of a publish taken for dead does not add its notification to counts that may include it', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    try {
      const announced = await cache.adding([userId]).announced;
      // Its publisher is silent for longer than PENDING_STALE_SECONDS; its insert has landed, and a read counts it.
      await ageAnnouncement(userId);
      // No stamp: nothing was ever stored through this hash (no version yet).
      expect(await cache.countsWithState(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({
        counts: { unread: 1, unseen: 1 },
        inFlight: false,
      });
      // It reports after all: adding it would make 2. The counts go stale and are counted again.
      await cache.added([fakeNotification(userId, 1)], announced);
      await expectRecounted(cache, userId);
    } finally {
      cache.close();
    }
  });

  it('a publish announced before Redis lost the counts does not add itself to counts taken after (restart, expiry)', async () => {
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const userId = new mongoose.Types.ObjectId().toHexString();
    expect(await cache.counts(userId, async () => ({ unread: 0, unseen: 0 }))).toEqual({ unread: 0, unseen: 0 });
    const announced = await cache.adding([userId]).announced;
    // Redis restarts (or the hash expires): the announcement is forgotten. The insert lands, and a read
    // counts it; nothing is pending, so that count is cached.
    await stack.redisClient.del(stack.names.countsKey(userId));
    expect(await cache.counts(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({ unread: 1, unseen: 1 });
    // The publish reports its insert: adding it would make 2.
    await cache.added([fakeNotification(userId, 1)], announced);
    expect(await cache.counts(userId, async () => ({ unread: 1, unseen: 1 }))).toEqual({ unread: 1, unseen: 1 });
    expect(await cache.counts(userId, () => Promise.reject(new Error('should come from the cache')))).toEqual({ unread: 1, unseen: 1 });
    // A publish whose announcement never reached Redis makes the counts stale too.
    await cache.added([fakeNotification(userId, 2)], new Map());
    expect(await cache.counts(userId, async () => ({ unread: 2, unseen: 2 }))).toEqual({ unread: 2, unseen: 2 });
  });

  it('keeps what was published for catch-up, and drops it when anything else changes the feed', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const cache = createFeedCache({ redis: stack.redisClient, logger: createLogger('silent'), names: stack.names });
    const published = [];
    for (let i = 1; i <= 3; i++) {
      published.push(
        (await stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'a.b', title: `r${i}` })).notifications[0]!,
      );
    }
    const seqs = published.map((n) => n.seq);
    expect(await cache.recent(bob.user.id, [...seqs, seqs.at(-1)! + 1])).toEqual([...published, undefined]);
    await asUser(stack.herald.url, bob.token).post(`/api/notifications/${published[0]!.id}/read`).expect(200);
    expect(await cache.recent(bob.user.id, seqs)).toEqual([undefined, undefined, undefined]);
  });

  it("a publish's cache update is applied before its PUBLISH goes out, so a client syncing on the message finds it", async () => {
    const carol = await login(stack.herald.url, 'carol');
    const countsKey = stack.names.countsKey(carol.user.id);
    const recentKey = stack.names.recentKey(carol.user.id);
    const channel = stack.names.userChannel(carol.user.id);
    // monitor() opens a connection of its own: both are closed at the end.
    const watcher = new Redis(stack.redis.url);
    const monitor = await watcher.monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      const [command, ...rest] = args.map((arg) => String(arg).toLowerCase());
      // The ADDED script names the user's counts and recent notifications; ADDING the counts and seq counter.
      if ((command === 'evalsha' || command === 'eval') && rest[2] === countsKey.toLowerCase() && rest[3] === recentKey.toLowerCase())
        seen.push('added');
      if (command === 'publish' && rest[0] === channel.toLowerCase()) seen.push('publish');
    });
    // The gateway's command connection auto-pipelines; a service's publisher connection does not.
    const publisher = await createHeraldPublisher({
      mongodbUri: stack.mongodbUri,
      redisUrl: stack.redis.url,
      logger: createLogger('silent'),
    });
    try {
      for (let i = 1; i <= 3; i++)
        await stack.herald.gateway.publishNotification({ userIds: [carol.user.id], type: 'a.b', title: `o${i}` });
      for (let i = 4; i <= 6; i++) await publisher.publishNotification({ userIds: [carol.user.id], type: 'a.b', title: `o${i}` });
      await waitFor(() => expect(seen).toEqual(Array.from({ length: 6 }, () => ['added', 'publish']).flat()));
      // And the counts it left are exact.
      expect(await asUser(stack.herald.url, carol.token).get('/api/notifications/counts').expect(200)).toHaveProperty(
        'body',
        await truth(carol.user.id),
      );
    } finally {
      await publisher.close();
      monitor.disconnect();
      watcher.disconnect();
    }
  });

  it('a batch of more users than one script call takes goes as several calls, all in one round trip', async () => {
    const own = new Redis(stack.redis.url);
    const watcher = new Redis(stack.redis.url);
    const cache = createFeedCache({ redis: own, logger: createLogger('silent'), names: stack.names });
    const users = Array.from({ length: 1200 }, () => new mongoose.Types.ObjectId().toHexString());
    let monitor: Redis | undefined;
    try {
      const address = /addr=(\S+)/.exec(String(await own.client('INFO')))![1];
      monitor = await watcher.monitor();
      const scripts: number[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        const command = String(args[0]).toLowerCase();
        if (source === address && (command === 'eval' || command === 'evalsha')) scripts.push(Number(args[2]));
      });
      const { announced, taken } = cache.adding(users, users);
      const epochs = await announced;
      expect(epochs.size).toBe(1200);
      // No counter exists yet: each is to be seeded.
      expect(new Set((await taken).values())).toEqual(new Set([-1]));
      await cache.added(
        users.map((userId) => fakeNotification(userId, 1)),
        epochs,
      );
      await own.ping();
      // 500, 500 and 200 users: two keys each, for the announcement and for the report.
      await waitFor(() => expect(scripts).toEqual([1000, 1000, 400, 1000, 1000, 400]));
      // Nor does the muters check go in a single script for them.
      expect(cache.addingUnlessMuters(users, users, { key: stack.names.mutersKey, complete: 'x', userIds: users })).toBeUndefined();
    } finally {
      monitor?.disconnect();
      cache.close();
      own.disconnect();
      watcher.disconnect();
    }
  });

  it('when Redis does not answer, counts come from the database', async () => {
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    dead.on('error', () => undefined);
    const cache = createFeedCache({ redis: dead, logger: createLogger('silent'), names: stack.names, timeoutMs: 300 });
    expect(await cache.counts(new mongoose.Types.ObjectId().toHexString(), async () => ({ unread: 7, unseen: 2 }))).toEqual({
      unread: 7,
      unseen: 2,
    });
    dead.disconnect();
  });
});
