import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { createLogger } from '../src/platform/logger';
import { createCatchUp } from '../src/notifications/catch-up';
import { createFeedCache } from '../src/notifications/feed-cache';
import { createCountFeed } from '../src/notifications/notification-counts';
import { createNotificationCore } from '../src/notifications/notification-core';
import { notificationId } from '../src/notifications/notification-id';
import { createSequenceAllocator } from '../src/notifications/sequence';
import { asUser, login } from './support/http';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

describe('catch-up reads by _id and by range give the same answers', () => {
  const stack = useTestStack();

  const feed = (syncReads: 'range' | 'by-id') =>
    createNotificationCore({
      connection: stack.inspector,
      redis: stack.redisClient,
      names: stack.names,
      logger: createLogger('silent'),
      userChannel: { publish: async () => [] },
      syncReads,
    }).catchUp;

  it('over holes (a deleted notification), at the top, past the top, and across pages', async () => {
    const bob = await login(stack.herald.url, 'bob');
    const published = [];
    for (let i = 1; i <= 12; i++) {
      published.push(
        (await stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'a.b', title: `n${i}` })).notifications[0]!,
      );
    }
    await asUser(stack.herald.url, bob.token).delete(`/api/notifications/${published[4]!.id}`).expect(200);
    const byId = feed('by-id');
    const byRange = feed('range');
    const shape = (r: Awaited<ReturnType<typeof byId.syncAfter>>) => ({
      seqs: r.notifications.map((n) => n.seq),
      hasMore: r.hasMore,
      counts: r.counts,
    });
    for (const [afterSeq, limit] of [
      [0, 500],
      [3, 500],
      [3, 5],
      [8, 5],
      [11, 500],
      [12, 500],
      [40, 500],
    ] as const) {
      const a = await byId.syncAfter(bob.user.id, afterSeq, limit);
      const b = await byRange.syncAfter(bob.user.id, afterSeq, limit);
      expect(shape(a)).toEqual(shape(b));
      expect(a.notifications).toEqual(b.notifications);
    }
    expect((await byId.syncAfter(bob.user.id, 3)).notifications.map((n) => n.seq)).toEqual([4, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('a counter behind the database (Redis restored from an older snapshot) does not hide what is stored', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    for (let i = 1; i <= 6; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
    await stack.redisClient.set(stack.names.seqKey(userId), '3');
    const result = await feed('by-id').syncAfter(userId, 2);
    expect(result.notifications.map((n) => n.seq)).toEqual([3, 4, 5, 6]);
    // The lookup that noticed also repaired the counter.
    expect(await stack.redisClient.get(stack.names.seqKey(userId))).toBe('6');
  });

  it('checks a counter against the database once per Redis connection, and again after the connection reopens', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    for (let i = 1; i <= 6; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
    const catchUp = feed('by-id');
    try {
      expect((await catchUp.syncAfter(userId, 2)).notifications.map((n) => n.seq)).toEqual([3, 4, 5, 6]);
      // Checked once on this connection: a counter that falls behind without Redis going away is not
      // looked for again (only a lost Redis write can make one, and that closes the connection).
      await stack.redisClient.set(stack.names.seqKey(userId), '3');
      expect((await catchUp.syncAfter(userId, 2)).notifications.map((n) => n.seq)).toEqual([3]);
      // The connection closes and reopens (a restart, a failover): the next catch-up checks again and repairs.
      const ready = new Promise((resolve) => stack.redisClient.once('ready', resolve));
      (stack.redisClient as Redis).disconnect(true);
      await ready;
      expect((await catchUp.syncAfter(userId, 2)).notifications.map((n) => n.seq)).toEqual([3, 4, 5, 6]);
      expect(await stack.redisClient.get(stack.names.seqKey(userId))).toBe('6');
    } finally {
      catchUp.close();
    }
  });

  /** A catch-up reading by _id whose counter checks (the `_id: { $in }` lookups) are recorded, query by query. */
  async function watchedCatchUp(checkBatching?: { lingerMs: number; burstPerSecond: number }) {
    const watched = await mongoose.createConnection(`${stack.mongodbUri}?monitorCommands=true`).asPromise();
    const checks: unknown[][] = [];
    watched.getClient().on('commandStarted', (event) => {
      const filter = event.command.filter as { _id?: { $in?: unknown[] } } | undefined;
      if (event.commandName === 'find' && event.command.find === 'notifications' && filter?._id?.$in) checks.push(filter._id.$in);
    });
    const logger = createLogger('silent');
    const cache = createFeedCache({ redis: stack.redisClient, logger, names: stack.names });
    const catchUp = createCatchUp({
      connection: watched,
      sequences: createSequenceAllocator({ connection: watched, redis: stack.redisClient, logger, names: stack.names }),
      cache,
      counts: createCountFeed({ connection: watched, cache }),
      redis: stack.redisClient,
      syncReads: 'by-id',
      ...(checkBatching ? { checkBatching } : {}),
    });
    const close = async () => {
      catchUp.close();
      cache.close();
      await watched.close();
    };
    return { catchUp, checks, close };
  }

  it('the counter checks of syncs arriving together share queries, and each lagging counter is still found and repaired', async () => {
    // Batches always wait 200 ms here, so the syncs' checks meet whatever the machine's load.
    const { catchUp, checks, close } = await watchedCatchUp({ lingerMs: 200, burstPerSecond: 0 });
    try {
      const userIds = Array.from({ length: 20 }, () => new mongoose.Types.ObjectId().toHexString());
      for (const userId of userIds) {
        for (let i = 1; i <= 3; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
      }
      // Every other user's counter is behind what is stored.
      for (const userId of userIds.filter((_, i) => i % 2 === 0)) await stack.redisClient.set(stack.names.seqKey(userId), '1');
      const results = await Promise.all(userIds.map((userId) => catchUp.syncAfter(userId, 0)));
      expect(results.map((r) => r.notifications.map((n) => n.seq))).toEqual(userIds.map(() => [1, 2, 3]));
      expect(await Promise.all(userIds.map((userId) => stack.redisClient.get(stack.names.seqKey(userId))))).toEqual(userIds.map(() => '3'));
      // One check per user, in one query (two, should the syncs straddle a batch).
      expect(checks.flat()).toHaveLength(20);
      expect(checks.length).toBeLessThanOrEqual(2);
    } finally {
      await close();
    }
  });

  it('a range read that finds the counter current stands for its check; one that finds it behind does not', async () => {
    const { catchUp, checks, close } = await watchedCatchUp();
    try {
      // A user with nothing yet: no counter, so the first sync is a range read, and it finds nothing.
      const fresh = new mongoose.Types.ObjectId().toHexString();
      expect((await catchUp.syncAfter(fresh, 0)).notifications).toEqual([]);
      for (let i = 1; i <= 3; i++) await stack.herald.gateway.publishNotification({ userIds: [fresh], type: 'a.b', title: `n${i}` });
      // The next sync reads its window from the cache, with no lookup of the seq past the counter.
      expect((await catchUp.syncAfter(fresh, 0)).notifications.map((n) => n.seq)).toEqual([1, 2, 3]);
      expect(checks).toEqual([]);

      // A user whose counter Redis lost: the range read finds seqs above it, so the next window read
      // still looks past the counter (and would repair it).
      const lost = new mongoose.Types.ObjectId().toHexString();
      for (let i = 1; i <= 3; i++) await stack.herald.gateway.publishNotification({ userIds: [lost], type: 'a.b', title: `n${i}` });
      await stack.redisClient.del(stack.names.seqKey(lost));
      expect((await catchUp.syncAfter(lost, 0)).notifications.map((n) => n.seq)).toEqual([1, 2, 3]);
      await stack.redisClient.set(stack.names.seqKey(lost), '3');
      expect((await catchUp.syncAfter(lost, 2)).notifications.map((n) => n.seq)).toEqual([3]);
      expect(checks.flat().map(String)).toContain(String(notificationId(lost, 4)));
    } finally {
      await close();
    }
  });

  it('says when its counts cover the answer, and not when a notification was stored between the counts and a database read', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    for (let i = 1; i <= 3; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
    const logger = createLogger('silent');
    const cache = createFeedCache({ redis: stack.redisClient, logger, names: stack.names });
    const sequences = createSequenceAllocator({ connection: stack.inspector, redis: stack.redisClient, logger, names: stack.names });
    const counts = createCountFeed({ connection: stack.inspector, cache });
    // Runs after the counts are taken and before the notifications are read.
    let between: (() => Promise<unknown>) | undefined;
    const racing = Object.assign((id: string) => counts(id), {
      withState: counts.withState,
      forSync: async (id: string, afterSeq: number, limit: number) => {
        const state = await counts.forSync(id, afterSeq, limit);
        await between?.();
        return state;
      },
    });
    const catchUp = createCatchUp({ connection: stack.inspector, sequences, cache, counts: racing, redis: stack.redisClient });
    try {
      // The cache has no valid counts yet: they are counted in the database, and the answer read after them.
      const quiet = await catchUp.syncAfter(userId, 0);
      expect(quiet.notifications.map((n) => n.seq)).toEqual([1, 2, 3]);
      expect(quiet.counts.unread).toBe(3);
      expect(quiet.countsCoverAnswer).toBe(true);

      // Cached counts now, but not the notifications: those are read from the database, after n4 landed.
      await stack.redisClient.del(stack.names.recentKey(userId));
      between = () => stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: 'n4' });
      const raced = await catchUp.syncAfter(userId, 0);
      expect(raced.notifications.map((n) => n.seq).slice(0, 3)).toEqual([1, 2, 3]);
      expect(raced.counts.unread).toBe(3);
      expect(raced.countsCoverAnswer).toBeUndefined();

      // Counts and n4 from the cache, at one instant: n5, stored right after, is in neither.
      between = () => stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: 'n5' });
      const settled = await catchUp.syncAfter(userId, 3);
      expect(settled.notifications.map((n) => n.seq)).toEqual([4]);
      expect(settled.counts.unread).toBe(4);
      expect(settled.countsCoverAnswer).toBe(true);
      between = undefined;
      expect(await catchUp.syncAfter(userId, 4)).toMatchObject({ counts: { unread: 5 }, countsCoverAnswer: true });
      // Nothing new to cover: no flag.
      expect((await catchUp.syncAfter(userId, 5)).countsCoverAnswer).toBeUndefined();
    } finally {
      catchUp.close();
      cache.close();
    }
  });

  it('answers a sync the cache holds with one Redis command and no database read', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    const logger = createLogger('silent');
    const own = new Redis(stack.redis.url);
    // monitor() opens a connection of its own: both are closed at the end.
    const watcher = new Redis(stack.redis.url);
    const watched = await mongoose.createConnection(`${stack.mongodbUri}?monitorCommands=true`).asPromise();
    const databaseCommands: string[] = [];
    watched.getClient().on('commandStarted', (event) => databaseCommands.push(event.commandName));
    const cache = createFeedCache({ redis: own, logger, names: stack.names });
    const sequences = createSequenceAllocator({ connection: watched, redis: own, logger, names: stack.names });
    const counts = createCountFeed({ connection: watched, cache });
    const catchUp = createCatchUp({ connection: watched, sequences, cache, counts, redis: own });
    let monitor: Redis | undefined;
    try {
      for (let i = 1; i <= 3; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
      // The first sync counts in the database (and checks the counter once for this connection).
      expect((await catchUp.syncAfter(userId, 0)).counts.unread).toBe(3);
      for (let i = 4; i <= 6; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
      const address = /addr=(\S+)/.exec(String(await own.client('INFO')))![1];
      monitor = await watcher.monitor();
      const commands: string[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === address) commands.push(String(args[0]).toLowerCase());
      });
      expect(databaseCommands).not.toHaveLength(0);
      databaseCommands.length = 0;
      const answer = await catchUp.syncAfter(userId, 3);
      expect(answer.notifications.map((n) => n.title)).toEqual(['n4', 'n5', 'n6']);
      expect(answer).toMatchObject({ counts: { unread: 6, unseen: 6 }, countsCoverAnswer: true, settledSeq: 6 });
      // MONITOR shows a command once it ran: one round trip later, everything before it has.
      await own.ping();
      await waitFor(() => expect(commands).toContain('ping'));
      expect(commands.slice(0, -1)).toEqual(['evalsha']);
      expect(databaseCommands).toEqual([]);
    } finally {
      monitor?.disconnect();
      catchUp.close();
      cache.close();
      own.disconnect();
      watcher.disconnect();
      await watched.close();
    }
  });

  it('never returns another user\u2019s notification, whatever the seqs', async () => {
    const alice = await login(stack.herald.url, 'alice');
    const stranger = new mongoose.Types.ObjectId().toHexString();
    await stack.herald.gateway.publishNotification({ userIds: [stranger], type: 'a.b', title: 'not for alice' });
    const result = await feed('by-id').syncAfter(alice.user.id, 0);
    expect(result.notifications.every((n) => n.userId === alice.user.id)).toBe(true);
  });
});
