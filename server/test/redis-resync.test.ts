import { EventEmitter } from 'node:events';
import { createNames } from '@herald/shared';
import { Redis } from 'ioredis';
import { startRedisServer, type LocalRedis } from '../src/local-services/redis-server';
import type { Logger } from '../src/platform/logger';
import type { RedisClient } from '../src/platform/redis-client';
import type { IoServer, IoSocket } from '../src/realtime/io-types';
import { createRedisRecovery } from '../src/platform/redis-recovery';
import { resyncAfterRedisOutage } from '../src/realtime/redis-resync';
import type { RunningHerald } from '../src/main';
import { startTestHerald } from './support/herald';
import { freshMongoUri, startTestRedis } from './support/services';
import { closeAllSockets, connect, type ClientSocket } from './support/sockets';
import { sleep, waitFor } from './support/wait';

describe('after a Redis restart, the gateway asks only the sockets behind what is stored to resync', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;

  beforeAll(async () => {
    redis = await startTestRedis();
    herald = await startTestHerald({ mongodbUri: freshMongoUri(), redisUrl: redis.url });
  });

  afterAll(async () => {
    closeAllSockets();
    await herald?.close();
    await redis?.stop();
  });

  async function client(userId: string) {
    const socket: ClientSocket = await connect(herald.url, herald.gateway.tokens.sign({ userId, name: userId }).token);
    const resyncs: number[] = [];
    socket.on('notifications:resync', () => resyncs.push(Date.now()));
    const sync = (afterSeq: number) =>
      new Promise<number[]>((resolve, reject) =>
        socket.emit('notifications:sync', { afterSeq }, (answer) =>
          'data' in answer && answer.data
            ? resolve(answer.data.notifications.map((n) => n.seq))
            : reject(new Error(JSON.stringify(answer))),
        ),
      );
    await sync(0);
    const live: number[] = [];
    socket.on('notification', (n) => live.push(n.seq));
    return { socket, resyncs, sync, live };
  }

  it('a client that missed a notification during the outage is asked at once; one that missed nothing is not; counters are back', async () => {
    const upToDate = await client('resync-a');
    const behind = await client('resync-b');
    await herald.gateway.publishNotification({ userIds: ['resync-a', 'resync-b'], type: 'resync.test', title: 'before' });
    await waitFor(() => {
      expect(upToDate.live).toEqual([1]);
      expect(behind.live).toEqual([1]);
    });

    const port = redis.port;
    redis.process.kill('SIGKILL');
    await redis.process.exited;
    // Stored while Redis is down: its live message cannot go out.
    const during = await herald.gateway.publishNotification({ userIds: ['resync-b'], type: 'resync.test', title: 'during' });
    expect(during.notifications.map((n) => n.seq)).toEqual([2]);
    await sleep(300);
    redis = await startRedisServer({ port });
    const back = Date.now();

    await waitFor(() => expect(behind.resyncs).toHaveLength(1), 5000);
    // Not spread over seconds, and not left to the staleness check (which needs its counter confirmed for ~2 s).
    expect(behind.resyncs[0]! - back).toBeLessThan(1500);
    expect(await behind.sync(1)).toEqual([2]);

    // The seq counters the staleness check compares with are back, at what is stored.
    const check = new Redis(redis.url);
    try {
      const names = createNames();
      expect(await check.mget(names.seqKey('resync-a'), names.seqKey('resync-b'))).toEqual(['1', '2']);
    } finally {
      check.disconnect();
    }
    await sleep(1000);
    expect(upToDate.resyncs).toEqual([]);
    expect(behind.resyncs).toHaveLength(1);
  }, 30_000);
});

describe('resyncAfterRedisOutage when the database cannot say what is stored', () => {
  afterEach(() => jest.useRealTimers());

  function fakeSockets(n: number) {
    const emitted: string[] = [];
    const sockets = Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      connected: true,
      data: { userId: `u${i}` },
      emit: (event: string) => emitted.push(`s${i}:${event}`),
    }));
    const io = { of: () => ({ sockets: new Map(sockets.map((s) => [s.id, s])) }) } as unknown as IoServer;
    return { io, emitted };
  }

  const logger = { warn: () => undefined, info: () => undefined, child: () => logger } as unknown as Logger;

  it('asks every socket, spread over two seconds', async () => {
    jest.useFakeTimers();
    const { io, emitted } = fakeSockets(40);
    const subscriber = new EventEmitter() as unknown as RedisClient;
    const stop = resyncAfterRedisOutage({
      io,
      recovery: createRedisRecovery(subscriber, logger),
      catchUp: { storedUpTo: () => Promise.reject(new Error('database deadline passed')) },
      positions: { entry: () => ({ seq: 5 }) },
      logger,
    });
    subscriber.emit('close');
    subscriber.emit('ready');
    await jest.advanceTimersByTimeAsync(0);
    expect(emitted.length).toBeGreaterThan(0);
    expect(emitted.length).toBeLessThan(40);
    await jest.advanceTimersByTimeAsync(2000);
    expect(emitted.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `s${i}:notifications:resync`).sort());
    stop();
  });

  it('gives up a resync still reading when Redis is lost again, and the next return starts over', async () => {
    const { io, emitted } = fakeSockets(3);
    const subscriber = new EventEmitter() as unknown as RedisClient;
    const reads: ((stored: Map<string, number>) => void)[] = [];
    const stop = resyncAfterRedisOutage({
      io,
      recovery: createRedisRecovery(subscriber, logger),
      catchUp: { storedUpTo: () => new Promise((resolve) => reads.push(resolve)) },
      positions: { entry: (socket: IoSocket) => (socket.id === 's0' ? { seq: 1 } : { seq: 3 }) },
      logger,
    });
    subscriber.emit('close');
    subscriber.emit('ready');
    subscriber.emit('close');
    subscriber.emit('ready');
    expect(reads).toHaveLength(2);
    const stored = new Map([
      ['u0', 3],
      ['u1', 3],
      ['u2', 3],
    ]);
    reads[0]!(stored);
    await sleep(0);
    // The first read's answer may predate what was lost in the second outage: nothing is decided on it.
    expect(emitted).toEqual([]);
    reads[1]!(stored);
    await sleep(0);
    expect(emitted).toEqual(['s0:notifications:resync']);
    stop();
  });
});
