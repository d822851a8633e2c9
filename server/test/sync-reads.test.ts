import type { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { createLogger } from '../src/platform/logger';
import { SYNCS_AT_ONCE, createCatchUp } from '../src/notifications/catch-up';
import { createCountFeed } from '../src/notifications/feed-counts';
import { createRedisRecovery } from '../src/platform/redis-recovery';
import { createNotificationCore } from '../src/notifications/notification-core';
import { notificationId } from '../src/notifications/notification-id';
import { createSequenceAllocator } from '../src/notifications/sequence';
import { asUser, login } from './support/http';
import { useTestStack } from './support/stack';

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
    const sequences = createSequenceAllocator({ connection: watched, redis: stack.redisClient, logger, names: stack.names });
    const catchUp = createCatchUp({
      connection: watched,
      sequences,
      counts: createCountFeed({ connection: watched, sequences }),
      recovery: createRedisRecovery(stack.redisClient, logger),
      syncReads: 'by-id',
      ...(checkBatching ? { checkBatching } : {}),
    });
    const close = async () => {
      catchUp.close();
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
      // One check per user, the checks of the syncs running together in one query (SYNCS_AT_ONCE run at
      // once; one more query should they straddle a batch).
      expect(checks.flat()).toHaveLength(20);
      expect(checks.length).toBeLessThanOrEqual(Math.ceil(20 / SYNCS_AT_ONCE) + 1);
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
      // The next sync reads its window by _id, with no lookup of the seq past the counter.
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

  it('counts at the settled position: what is stored above a seq still being stored is returned, not counted', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    const publish = (title: string) => stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title });
    for (let i = 1; i <= 3; i++) await publish(`n${i}`);
    const catchUp = feed('by-id');
    try {
      expect(await catchUp.syncAfter(userId, 0)).toMatchObject({ settledSeq: 3, counts: { unread: 3, unseen: 3, atSeq: 3 } });
      // Seq 4 is handed out and still being stored (another publisher's insert in flight); 5 is stored.
      await stack.redisClient.incr(stack.names.seqKey(userId));
      await publish('n5');
      const racing = await catchUp.syncAfter(userId, 3);
      expect(racing.notifications.map((n) => n.seq)).toEqual([5]);
      // Up to 3 only: a client holding 5 adds it itself, and 4 when it comes.
      expect(racing).toMatchObject({ settledSeq: 3, counts: { unread: 3, unseen: 3, atSeq: 3 } });
      // Seq 4 lands: everything is settled and counted.
      await stack.inspector.collection('notifications').insertOne({
        _id: notificationId(userId, 4),
        userId,
        seq: 4,
        type: 'a.b',
        title: 'n4',
        createdAt: new Date(),
        readAt: null,
        seenAt: null,
        archivedAt: null,
      });
      const settled = await catchUp.syncAfter(userId, 3);
      expect(settled.notifications.map((n) => n.seq)).toEqual([4, 5]);
      expect(settled).toMatchObject({ settledSeq: 5, counts: { unread: 5, unseen: 5, atSeq: 5 } });
    } finally {
      catchUp.close();
    }
  });

  it('answers a client that is caught up with no read of its notifications', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    const logger = createLogger('silent');
    const watched = await mongoose.createConnection(`${stack.mongodbUri}?monitorCommands=true`).asPromise();
    const databaseCommands: string[] = [];
    watched.getClient().on('commandStarted', (event) => databaseCommands.push(event.commandName));
    const sequences = createSequenceAllocator({ connection: watched, redis: stack.redisClient, logger, names: stack.names });
    const catchUp = createCatchUp({ connection: watched, sequences, counts: createCountFeed({ connection: watched, sequences }) });
    try {
      for (let i = 1; i <= 3; i++) await stack.herald.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `n${i}` });
      // The first sync checks the counter once for this connection.
      expect((await catchUp.syncAfter(userId, 0)).counts.unread).toBe(3);
      databaseCommands.length = 0;
      expect(await catchUp.syncAfter(userId, 3)).toMatchObject({ notifications: [], settledSeq: 3, counts: { unread: 3, atSeq: 3 } });
      // The counts only: no find.
      expect(databaseCommands.filter((name) => name !== 'count' && name !== 'aggregate')).toEqual([]);
    } finally {
      catchUp.close();
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
