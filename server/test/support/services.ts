import { randomBytes } from 'node:crypto';
import { startRedisServer, type LocalRedis } from '../../src/local-services/redis-server';

/** A MongoDB URL for a database no other test file uses. */
export function freshMongoUri(): string {
  const base = process.env.TEST_MONGODB_URI;
  if (!base) throw new Error('TEST_MONGODB_URI is not set: run the tests through jest (global setup starts FerretDB)');
  const url = new URL(base);
  url.pathname = `/t_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

/** A throwaway redis-server on a free loopback port; stop it in afterAll. */
export function startTestRedis(): Promise<LocalRedis> {
  if (process.env.TEST_REDIS_URL) {
    throw new Error('tests start their own redis-server; unset TEST_REDIS_URL');
  }
  return startRedisServer();
}
