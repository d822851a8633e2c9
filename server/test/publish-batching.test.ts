import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import type { UserChannelMessage } from '@herald/shared';
import { createLogger } from '../src/platform/logger';
import { createNotificationCore } from '../src/notifications/notification-core';
import type { UserChannelPublisher } from '../src/channels/user-channel-publisher';
import { createCountFeed } from '../src/notifications/feed-counts';
import { notificationId } from '../src/notifications/notification-id';
import { createNotificationWriter, type NotificationWriter } from '../src/notifications/notification-writer';
import { createSequenceAllocator } from '../src/notifications/sequence';
import { createMuteSettings } from '../src/preferences/mute-settings';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

describe('publishing under load: calls that arrive together are stored together', () => {
  const stack = useTestStack();
  let monitored: mongoose.Connection;
  const inserts: number[] = [];

  beforeAll(async () => {
    monitored = await mongoose.createConnection(stack.mongodbUri, { monitorCommands: true }).asPromise();
    monitored.getClient().on('commandStarted', (event) => {
      if (event.commandName === 'insert') inserts.push((event.command.documents as unknown[]).length);
    });
  });
  afterAll(() => monitored.close());

  /** A publisher on the given connection and the stack's Redis, pushing through `userChannel`. */
  const publisherOn = (connection: mongoose.Connection, userChannel: UserChannelPublisher) =>
    createNotificationCore({ connection, redis: stack.redisClient, names: stack.names, logger: createLogger('silent'), userChannel })
      .publishNotification;

  /** What a writer on the stack's Redis and the monitored connection is made of. */
  function writerDeps() {
    const logger = createLogger('silent');
    const sequences = createSequenceAllocator({ connection: monitored, redis: stack.redisClient, logger, names: stack.names });
    const muted = createMuteSettings({ connection: monitored, redis: stack.redisClient, names: stack.names, logger });
    return { connection: monitored, sequences, muted, logger };
  }

  const writerOnStack = () => createNotificationWriter(writerDeps());

  /**
   * Leaves the user's counter at 1 with seq 2 held by a notification the counter never handed out
   * (another instance's, say): the next seq reserved for them collides.
   */
  async function nextSeqCollides(writer: NotificationWriter, userId: string): Promise<void> {
    await writer.store([userId], { type: 'a.b', title: 'first' });
    await stack.inspector.collection('notifications').insertOne({
      _id: notificationId(userId, 2),
      userId,
      seq: 2,
      type: 'a.b',
      title: 'foreign',
      createdAt: new Date(),
      readAt: null,
      seenAt: null,
      archivedAt: null,
    });
  }

  it('200 concurrent calls take a handful of inserts, and each is pushed only once its notification is stored', async () => {
    const pushedBeforeStored: string[] = [];
    const pushed: string[] = [];
    const publish = publisherOn(monitored, {
      async publish(messages: { userId: string; message: UserChannelMessage }[]) {
        for (const { message } of messages) {
          if (message.kind !== 'notification') continue;
          const id = new mongoose.Types.ObjectId(message.notification.id);
          if (!(await stack.inspector.collection('notifications').findOne({ _id: id }))) pushedBeforeStored.push(message.notification.id);
          pushed.push(message.notification.id);
        }
        return messages.map(() => 1);
      },
    });
    const users = Array.from({ length: 50 }, () => new mongoose.Types.ObjectId().toHexString());
    inserts.length = 0;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => publish({ userIds: [users[i % 50]!], type: 'load.test', title: `call ${i}` })),
    );

    expect(inserts.reduce((a, b) => a + b, 0)).toBe(200);
    expect(inserts.length).toBeLessThan(20);
    expect(pushedBeforeStored).toEqual([]);
    expect(pushed.sort()).toEqual(results.map((r) => r.notifications[0]!.id).sort());
    // Each user got seqs 1 to 4, in the order the calls were made.
    for (const userId of users) {
      const mine = results.map((r) => r.notifications[0]!).filter((n) => n.userId === userId);
      expect(mine.map((n) => n.seq)).toEqual([1, 2, 3, 4]);
    }
  });

  it('a batch takes its seqs with one INCRBY per recipient, sent together, and nothing else in Redis', async () => {
    const logger = createLogger('silent');
    const own = new Redis(stack.redis.url);
    const watcher = new Redis(stack.redis.url);
    const sequences = createSequenceAllocator({ connection: monitored, redis: own, logger, names: stack.names });
    const writer = createNotificationWriter({
      connection: monitored,
      sequences,
      muted: createMuteSettings({ connection: monitored, redis: stack.redisClient, names: stack.names, logger }),
      logger,
      writers: 1,
    });
    const [a, b, c] = Array.from({ length: 3 }, () => new mongoose.Types.ObjectId().toHexString());
    let monitor: Redis | undefined;
    try {
      // Their counters exist (seeded by a first notification each).
      await writer.store([a!, b!, c!], { type: 'a.b', title: 'first' });
      const address = /addr=(\S+)/.exec(String(await own.client('INFO')))![1];
      monitor = await watcher.monitor();
      const commands: string[][] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === address) commands.push(args.map(String));
      });
      // The first call keeps the only writer busy: the next two are stored together, as one batch.
      const busy = new mongoose.Types.ObjectId().toHexString();
      const busyCall = writer.store([busy], { type: 'a.b', title: 'busy' });
      const [both, two] = await Promise.all([
        writer.store([a!, b!, c!], { type: 'a.b', title: 'second' }),
        writer.store([a!, b!], { type: 'a.b', title: 'third' }),
        busyCall,
      ]);
      expect(both.stored.map((n) => [n.userId, n.seq])).toEqual([
        [a, 2],
        [b, 2],
        [c, 2],
      ]);
      expect(two.stored.map((n) => [n.userId, n.seq])).toEqual([
        [a, 3],
        [b, 3],
      ]);
      await own.ping();
      await waitFor(() => expect(commands.map(([name]) => name!.toLowerCase())).toContain('ping'));
      const batch = commands.filter((args) => args[1] !== stack.names.seqKey(busy) && args[0]!.toLowerCase() !== 'ping');
      // Two seqs for a and b, one for c: one command per recipient for the two calls.
      expect(batch).toEqual([
        ['incrby', stack.names.seqKey(a!), '2'],
        ['incrby', stack.names.seqKey(b!), '2'],
        ['incrby', stack.names.seqKey(c!), '1'],
      ]);
    } finally {
      monitor?.disconnect();
      own.disconnect();
      watcher.disconnect();
    }
  });

  it('a failed write fails every call it carried, and pushes nothing', async () => {
    const pushed: unknown[] = [];
    const closed = await mongoose.createConnection(stack.mongodbUri, { bufferCommands: false }).asPromise();
    const publish = publisherOn(closed, {
      async publish(messages) {
        pushed.push(...messages);
        return messages.map(() => 1);
      },
    });
    await closed.close();
    const userId = new mongoose.Types.ObjectId().toHexString();
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => publish({ userIds: [userId], type: 'a.b', title: 'x' })));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(pushed).toEqual([]);
  });

  it('a call whose Idempotency-Key met another body fails alone, and what it stored for others is withdrawn', async () => {
    const writer = createNotificationWriter({ ...writerDeps(), writers: 1 });
    const newUser = () => new mongoose.Types.ObjectId().toHexString();
    const [taken, other, lucky] = [newUser(), newUser(), newUser()];
    const keyed = (hash: string) => ({ idempotency: { key: 'order-7', hash } });
    await writer.store([taken], { type: 'a.b', title: 'first body' }, keyed('first'));
    // One writer: the first call below goes alone, the next two share a batch.
    const [, conflicting, stored] = await Promise.allSettled([
      writer.store([newUser()], { type: 'a.b', title: 'filler' }),
      writer.store([other, taken], { type: 'a.b', title: 'second body' }, keyed('second')),
      writer.store([lucky], { type: 'a.b', title: 'lucky' }, keyed('lucky')),
    ]);
    expect(conflicting).toMatchObject({ status: 'rejected', reason: { code: 'conflict' } });
    // Stored means answered as stored: a failure here would have the caller retry, and store it again.
    expect(stored.status).toBe('fulfilled');
    const notifications = stack.inspector.collection('notifications');
    expect(await notifications.countDocuments({ userId: lucky, title: 'lucky' })).toBe(1);
    // A 409 stores nothing: the copy it inserted for `other` is a known gap, and its key is free.
    expect(await notifications.countDocuments({ userId: other, gap: { $exists: false } })).toBe(0);
    expect(await notifications.countDocuments({ userId: other, key: { $exists: true } })).toBe(0);
    expect(await notifications.countDocuments({ userId: taken, gap: { $exists: false } })).toBe(1);
  });

  it('a keyed retry that finds its own copy stored does not store or count it again', async () => {
    const writer = writerOnStack();
    const [first, second] = [new mongoose.Types.ObjectId().toHexString(), new mongoose.Types.ObjectId().toHexString()];
    const content = { type: 'a.b', title: 'keyed' };
    const idempotency = { key: 'order-8', hash: 'h' };
    // As if an earlier attempt of the request had stored the first recipient's copy, and failed on the second's.
    const earlier = await writer.store([first], content, { idempotency });
    const counts = createCountFeed({ connection: stack.inspector, sequences: { highest: async () => null } });
    expect(await counts(first)).toEqual({ unread: 1, unseen: 1, atSeq: 1 });
    // And the second recipient's next seq is taken: the retry's insert collides on a seq and on a key at once.
    await nextSeqCollides(writer, second);
    const retry = await writer.store([first, second], content, { idempotency });
    expect(retry.stored.map((n) => [n.userId, n.seq])).toEqual([
      [first, 1],
      [second, 3],
    ]);
    expect(retry.stored[0]).toEqual(earlier.stored[0]);
    expect(retry.replayed).toBe(false);
    // The seq the retry took for `first` is a known gap: counted at it, still one.
    expect(await counts(first)).toEqual({ unread: 1, unseen: 1, atSeq: 2 });
    const again = await writer.store([first, second], content, { idempotency });
    expect(again.replayed).toBe(true);
    expect(again.stored).toEqual(retry.stored);
    expect(await stack.inspector.collection('notifications').countDocuments({ userId: { $in: [first, second] }, title: 'keyed' })).toBe(2);
  });
});
