import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { createNames, type Notification } from '@herald/shared';
import { connect, type ClientSocket } from './support/sockets';
import { sleep, waitFor } from './support/wait';
import { useTestStack } from './support/stack';

const CYCLES = 1000;
const PARALLEL = 25;

describe('per-user subscriptions under connection churn', () => {
  const stack = useTestStack({ instances: 2 });
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(stack.redis.url);
  });
  afterAll(() => redis.disconnect());

  async function numsub(userId: string): Promise<number> {
    const [, count] = (await redis.call('PUBSUB', 'NUMSUB', createNames().userChannel(userId))) as [string, number];
    return count;
  }

  it(`${CYCLES} rapid connect/disconnect cycles leave no stale subscriptions and lose nothing for sockets that stayed`, async () => {
    const [a, b] = stack.instances;
    const sign = (id: string) => a!.gateway.tokens.sign({ userId: id, name: 'churn' }).token;
    const stayers = Array.from({ length: 4 }, () => new Types.ObjectId().toHexString());
    const churners = Array.from({ length: 20 }, () => new Types.ObjectId().toHexString());

    // Stayers keep one socket on A the whole time; their own extra sockets churn too (refcount > 1 paths).
    const staying: { userId: string; socket: ClientSocket; got: Notification[] }[] = [];
    for (const userId of stayers) {
      const socket = await connect(a!.url, sign(userId));
      const got: Notification[] = [];
      socket.on('notification', (n) => got.push(n));
      staying.push({ userId, socket, got });
    }
    await Promise.all(staying.map(({ socket }) => socket.emitWithAck('notifications:sync', { afterSeq: 0 })));

    const published = new Map<string, string[]>(stayers.map((id) => [id, []]));
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop && i < 500; i++) {
        const userId = stayers[i % stayers.length]!;
        const { notifications } = await b!.gateway.publishNotification({ userIds: [userId], type: 'a.b', title: `during churn ${i}` });
        published.get(userId)!.push(notifications[0]!.id);
        await sleep(5);
      }
    })();

    const everyone = [...churners, ...stayers];
    for (let done = 0; done < CYCLES; done += PARALLEL) {
      await Promise.all(
        Array.from({ length: PARALLEL }, async (_, j) => {
          const userId = everyone[(done + j) % everyone.length]!;
          const instance = (done + j) % 2 === 0 ? a! : b!;
          const socket = await connect(instance.url, sign(userId));
          if (j % 3 === 0) await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
          socket.close();
        }),
      );
    }
    stop = true;
    await publisher;

    await waitFor(async () => {
      for (const userId of churners) expect(await numsub(userId)).toBe(0);
      for (const userId of stayers) expect(await numsub(userId)).toBe(1);
    }, 10_000);
    expect(a!.gateway.userChannels.channelCount).toBe(stayers.length);
    expect(b!.gateway.userChannels.channelCount).toBe(0);

    await waitFor(() => staying.forEach(({ userId, got }) => expect(got.map((n) => n.id)).toEqual(published.get(userId))), 10_000);
    const total = [...published.values()].reduce((sum, ids) => sum + ids.length, 0);
    expect(total).toBeGreaterThan(20);
  }, 120_000);
});
