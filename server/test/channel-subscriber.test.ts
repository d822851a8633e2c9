import { Redis } from 'ioredis';
import { z } from 'zod';
import { ChannelSubscriber } from '../src/channels/channel-subscriber';
import type { LocalRedis } from '../src/local-services/redis-server';
import { createLogger, toLogger } from '../src/platform/logger';
import { startTestRedis } from './support/services';
import { waitFor } from './support/wait';

describe('channel subscriptions made in one turn go out together, in order', () => {
  let redis: LocalRedis;
  let subscriber: Redis;
  let client: Redis;
  let channels: ChannelSubscriber<{ n: number }>;
  const got: [string, number][] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    subscriber = new Redis(redis.url);
    client = new Redis(redis.url);
    channels = new ChannelSubscriber({
      subscriber,
      logger: createLogger('silent'),
      name: 'test',
      channelFor: (key) => `test:${key}`,
      keyFor: (channel) => (channel.startsWith('test:') ? channel.slice('test:'.length) : undefined),
      schema: z.object({ n: z.number() }),
      onMessage: (key, message) => got.push([key, message.n]),
    });
  });

  afterAll(async () => {
    channels.close();
    subscriber.disconnect();
    client.disconnect();
    await redis.stop();
  });

  /** How many SUBSCRIBE and UNSUBSCRIBE commands Redis has run. */
  async function commandCalls(): Promise<{ subscribe: number; unsubscribe: number }> {
    const stats = await client.info('commandstats');
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    return { subscribe: calls('subscribe'), unsubscribe: calls('unsubscribe') };
  }

  const subscribers = async (key: string) => ((await client.pubsub('NUMSUB', `test:${key}`)) as [string, number])[1];

  it('200 keys acquired in one turn: one SUBSCRIBE, every key live; released in one turn: one UNSUBSCRIBE', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    const before = await commandCalls();
    await Promise.all(keys.map((key) => channels.acquire(key)));
    expect(await commandCalls()).toEqual({ subscribe: before.subscribe + 1, unsubscribe: before.unsubscribe });
    expect(channels.channelCount).toBe(200);
    await client.publish('test:k0', JSON.stringify({ n: 1 }));
    await client.publish('test:k199', JSON.stringify({ n: 2 }));
    await waitFor(() =>
      expect(got).toEqual([
        ['k0', 1],
        ['k199', 2],
      ]),
    );

    for (const key of keys) channels.release(key);
    await waitFor(async () => expect(await subscribers('k199')).toBe(0));
    expect(await commandCalls()).toEqual({ subscribe: before.subscribe + 1, unsubscribe: before.unsubscribe + 1 });
    expect(channels.channelCount).toBe(0);
  });

  it('acquire, release, acquire in one turn ends subscribed; acquire, release ends unsubscribed', async () => {
    void channels.acquire('again');
    channels.release('again');
    const ready = channels.acquire('again');
    void channels.acquire('gone');
    channels.release('gone');
    await ready;
    await waitFor(async () => expect([await subscribers('again'), await subscribers('gone')]).toEqual([1, 0]));
    got.length = 0;
    await client.publish('test:again', JSON.stringify({ n: 3 }));
    await client.publish('test:gone', JSON.stringify({ n: 4 }));
    await waitFor(() => expect(got).toEqual([['again', 3]]));
    channels.release('again');
  });
});

describe('failed (un)subscribes are logged once per command, not once per key', () => {
  let redis: LocalRedis;
  const lines: { level: string; message: string | undefined; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: object | string, message?: string) => {
    lines.push(
      typeof fields === 'string' ? { level, message: fields, fields: {} } : { level, message, fields: fields as Record<string, unknown> },
    );
  };
  const logger = toLogger({ debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') });

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  function subscriberOn(connection: Redis): ChannelSubscriber<{ n: number }> {
    return new ChannelSubscriber({
      subscriber: connection,
      logger,
      name: 'test',
      channelFor: (key) => `test:${key}`,
      keyFor: (channel) => (channel.startsWith('test:') ? channel.slice('test:'.length) : undefined),
      schema: z.object({ n: z.number() }),
      onMessage: () => undefined,
    });
  }
  const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
  const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('300 keys released on a closed connection: one warning; after close(): debug lines only', async () => {
    const connection = new Redis(redis.url);
    const channels = subscriberOn(connection);
    await Promise.all(keys.map((key) => channels.acquire(key)));
    connection.disconnect();
    lines.length = 0;
    for (const key of keys.slice(0, 150)) channels.release(key);
    await settled();
    expect(lines.map((line) => [line.level, line.message, line.fields.channels])).toEqual([['warn', 'unsubscribe failed', 150]]);

    // Shutdown: sockets close after the subscriber did, and the connection is gone with it.
    lines.length = 0;
    channels.close();
    for (const key of keys.slice(150)) channels.release(key);
    await settled();
    expect(lines.map((line) => [line.level, line.message])).toEqual([['debug', 'unsubscribe failed after close']]);
    expect(channels.channelCount).toBe(0);
  });

  it('300 keys acquired while Redis refuses: one error, every acquire rejects, and a later acquire subscribes', async () => {
    const connection = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false });
    const channels = subscriberOn(connection);
    lines.length = 0;
    const outcomes = await Promise.allSettled(keys.map((key) => channels.acquire(key)));
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    await settled();
    expect(lines.map((line) => [line.level, line.message, line.fields.channels])).toEqual([
      ['error', 'subscribe failed; will subscribe again', 300],
    ]);
    // The first command started connecting (lazyConnect) but was refused before the connection was up.
    // The holders stay and nothing waits on the failure: once connected, held keys subscribe again.
    await waitFor(() => expect(connection.status).toBe('ready'));
    await channels.subscribed('k7');
    const client = new Redis(redis.url);
    expect(((await client.pubsub('NUMSUB', 'test:k7')) as [string, number])[1]).toBe(1);
    client.disconnect();
    channels.close();
    connection.disconnect();
  });
});
