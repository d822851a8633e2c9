import pino from 'pino';
import type { LocalRedis } from '../src/local-services/redis-server';
import { createMetrics } from '../src/platform/metrics';
import { createRedisClient, quitRedis, watchRedisErrors } from '../src/platform/redis-client';
import { startTestRedis } from './support/services';
import { waitFor } from './support/wait';

describe('quitRedis: errors of a connection Herald is closing', () => {
  let redis: LocalRedis;
  beforeAll(async () => void (redis = await startTestRedis()));
  afterAll(async () => redis?.stop());

  it('are logged at debug and not counted, while errors before the quit are warnings', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const metrics = createMetrics();
    const client = createRedisClient(redis.url, 'herald-user-sub');
    watchRedisErrors(client, 'herald-user-sub', logger, metrics);
    await client.subscribe('some-channel');
    // What a write after QUIT raises (ioredis itself silences only read and connect errors then).
    const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });
    const counted = async () => (await metrics.redisErrors.get()).values.reduce((n, v) => n + v.value, 0);

    client.emit('error', epipe());
    expect(await counted()).toBe(1);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['redis connection error']);

    await quitRedis(client);
    await waitFor(() => expect(client.status).toBe('end'));
    client.emit('error', epipe());
    expect(await counted()).toBe(1);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines.filter((l) => l.level === 20).map((l) => l.msg)).toEqual(['redis error while quitting']);
  });
});
