import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { createTokenSigner } from '../../server/src/auth/token-signer';
import { findFerretDb, startFerretDb, type LocalFerretDb } from '../../server/src/local-services/ferretdb';
import { freePort } from '../../server/src/local-services/free-port';
import { startRedisServer, type LocalRedis } from '../../server/src/local-services/redis-server';
import type { ClientsApi, ClientSpec } from '../workers/clients';
import type { GatewayApi } from '../workers/gateway';
import type { PublisherApi } from '../workers/publisher';
import { startWorker, type Worker } from './rpc';

const WORKERS = path.resolve(__dirname, '../workers');
/**
 * `--profile` (or BENCH_CPU_PROF=dir) writes a V8 CPU profile of every gateway and publisher process,
 * and of the plain Socket.IO server, into that folder when it exits (for finding hot spots, and what
 * Herald spends beyond the plain server on the same work; see lib/profile.ts for the summary).
 */
export const profile = () => (process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []);
export const JWT_SECRET = randomBytes(32).toString('hex');
export const SERVICE_TOKEN = randomBytes(24).toString('hex');
const tokens = createTokenSigner({ secret: JWT_SECRET, ttlSeconds: 6 * 3600 });

/** The MongoDB-wire database for the whole run: MONGODB_URI if set, else a throwaway FerretDB. */
export interface Database {
  /** A URL for a database no other scenario uses. */
  freshUri(label: string): string;
  /** FerretDB's pid when the bench started it (for its CPU figure). */
  pid?: number;
  name: string;
  stop(): Promise<void>;
}

export async function startDatabase(): Promise<Database> {
  const given = process.env.MONGODB_URI;
  const withDb = (base: string, label: string) => {
    const url = new URL(base);
    url.pathname = `/bench_${label}_${randomBytes(3).toString('hex')}`;
    return url.toString();
  };
  if (given) return { freshUri: (label) => withDb(given, label), name: 'MONGODB_URI', stop: async () => undefined };
  if (!findFerretDb()) throw new Error('ferretdb is not installed: run `npm run setup` first (or set MONGODB_URI).');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-ferretdb-'));
  const ferret: LocalFerretDb = await startFerretDb({ dataDir: dir });
  return {
    freshUri: (label) => withDb(ferret.url, label),
    pid: ferret.process.child.pid,
    name: 'FerretDB 1.24 (SQLite)',
    stop: async () => {
      await ferret.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis for one scenario: REDIS_URL if set, else a fresh redis-server on a free loopback port. */
export async function startRedis(): Promise<{ url: string; pid?: number; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  const redis: LocalRedis = await startRedisServer();
  return { url: redis.url, pid: redis.process.child.pid, stop: () => redis.stop() };
}

export type Gateway = Worker<GatewayApi> & { url: string };

/** Gateway processes through the real composition root, on free loopback ports. */
export async function startGateways(count: number, env: { mongodbUri: string; redisUrl: string; extra?: Record<string, string> }) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const port = await freePort();
      const worker = await startWorker<GatewayApi>(path.join(WORKERS, 'gateway.ts'), {
        execArgv: ['--expose-gc', ...profile()],
        env: {
          PORT: String(port),
          MONGODB_URI: env.mongodbUri,
          REDIS_URL: env.redisUrl,
          JWT_SECRET,
          SERVICE_TOKEN,
          NODE_ENV: 'production',
          LOG_LEVEL: 'warn',
          // The bench signs 6-hour tokens; a production gateway is told the longest it accepts.
          AUTH_MAX_TOKEN_LIFETIME_SECONDS: String(24 * 3600),
          // Thousands of clients from 127.0.0.1 are one address to the per-address budgets: those are off.
          RATE_LIMIT_IP_HANDSHAKES: 'off',
          RATE_LIMIT_IP_REQUESTS: 'off',
          MAX_SOCKETS_PER_ADDRESS: '0',
          ...env.extra,
        },
      });
      return Object.assign(worker, { url: `http://127.0.0.1:${port}` }) as Gateway;
    }),
  );
}

export function startClientWorkers(count: number): Promise<Worker<ClientsApi>[]> {
  return Promise.all(Array.from({ length: count }, () => startWorker<ClientsApi>(path.join(WORKERS, 'clients.ts'))));
}

/** A publisher process; `env` says where it publishes (see workers/publisher.ts and ServerUnderTest.publisherEnv). */
export function startPublisher(env: Record<string, string>): Promise<Worker<PublisherApi>> {
  return startWorker<PublisherApi>(path.join(WORKERS, 'publisher.ts'), {
    execArgv: profile(),
    env: { ...env, LOG_LEVEL: 'warn' },
  });
}

/** `count` new users, each with a signed session token, connecting to `urlFor(i)`. */
export function makeUsers(count: number, urlFor: (index: number) => string): ClientSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const userId = new mongoose.Types.ObjectId().toHexString();
    return { userId, token: tokens.sign({ userId, name: `bench-${i}` }).token, url: urlFor(i) };
  });
}

export { freePort };
