import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { freePort } from '../src/local-services/free-port';
import { createLogger } from '../src/platform/logger';
import { createSequenceAllocator } from '../src/notifications/sequence';
import { asUser, login } from './support/http';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

describe('per-user seq', () => {
  const stack = useTestStack({ instances: 2 });
  const logger = createLogger('silent');

  const seqsOf = async (userId: string) => (await storedNotifications(stack.inspector, userId)).map((d) => d.seq as number);
  const publish = (userId: string, title: string, instance = 0) =>
    stack.instances[instance]!.gateway.publishNotification({ userIds: [userId], type: 'post.liked', title });

  it('the unique (userId, seq) index exists once a gateway has started', async () => {
    const indexes = await stack.inspector.collection('notifications').indexes();
    expect(indexes).toContainEqual(expect.objectContaining({ key: { userId: 1, seq: 1 }, unique: true }));
  });

  it('120 concurrent publishes to one user through two instances get seqs 1 to 120, no gaps, no repeats', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => publish(userId, `like ${i}`, i % 2)));
    const returned = results.map((r) => r.notifications[0]!.seq);
    expect([...returned].sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect((await seqsOf(userId)).sort((a, b) => a - b)).toEqual([...returned].sort((a, b) => a - b));
  });

  it('a counter Redis lost is rebuilt from what the database holds, so seqs go on from there', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    for (let i = 1; i <= 3; i++) await publish(userId, `before ${i}`);
    await stack.redisClient.del(stack.names.seqKey(userId));
    const { notifications } = await publish(userId, 'after the counter was lost');
    expect(notifications[0]!.seq).toBe(4);
    expect(await seqsOf(userId)).toEqual([1, 2, 3, 4]);
  });

  it('a seq is not handed out again after the notification that had it was deleted and the counter lost', async () => {
    const carol = await login(stack.herald.url, 'carol');
    const userId = carol.user.id;
    const before = await seqsOf(userId);
    const { notifications } = await publish(userId, 'the newest, soon deleted');
    const deletedSeq = notifications[0]!.seq;
    await asUser(stack.herald.url, carol.token).delete(`/api/notifications/${notifications[0]!.id}`).expect(200);
    await stack.redisClient.del(stack.names.seqKey(userId));
    const next = await publish(userId, 'after');
    expect(next.notifications[0]!.seq).toBe(deletedSeq + 1);
    expect(await seqsOf(userId)).toEqual([...before, deletedSeq + 1]);
  });

  it('a counter behind the database (a stale Redis) collides on the unique index, is repaired, and the publish still succeeds', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    for (let i = 1; i <= 5; i++) await publish(userId, `n ${i}`);
    await stack.redisClient.set(stack.names.seqKey(userId), '1');
    const { notifications } = await publish(userId, 'after the counter went back');
    expect(notifications[0]!.seq).toBe(6);
    expect(await seqsOf(userId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await stack.redisClient.get(stack.names.seqKey(userId))).toBe('6');
  });

  it('while Redis does not answer, seqs come from the database', async () => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    for (let i = 1; i <= 2; i++) await publish(userId, `n ${i}`);
    // Nothing listens on this port: every Redis call fails.
    const dead = new Redis({ port: await freePort(), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    dead.on('error', () => undefined);
    const sequences = createSequenceAllocator({ connection: stack.inspector, redis: dead, logger, names: stack.names, timeoutMs: 300 });
    expect(await sequences.reserve([userId, userId])).toEqual([3, 4]);
    expect(await sequences.highest(userId)).toBeNull();
    dead.disconnect();
  });
});
