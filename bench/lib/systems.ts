// The servers `npm run bench -- --compare` measures with the same client workers and the same scenarios:
// Herald, a plain Socket.IO + @socket.io/redis-adapter server (the baseline a tutorial would write) and
// Centrifugo (built with `go install` into a cache folder when Go is on the machine).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { createHeraldPublisher, type HeraldPublisher } from '../../server/src/herald-publisher';
import { createLogger } from '../../server/src/platform/logger';
import type { System } from '../workers/clients';
import { rssBytes } from './cpu';
import { startWorker, type Worker } from './rpc';
import { freePort, JWT_SECRET, profile, SERVICE_TOKEN, type Gateway } from './stack';
import { sleep } from './stats';

export interface TopicPath {
  via: 'library' | 'http';
  publish(name: string, data: { i: number; t: number }): Promise<void>;
}

/** What a scenario needs of the server it measures. */
export interface ServerUnderTest {
  /** As the tables show it. */
  name: string;
  /** How the client workers talk to it. */
  client: System;
  /** Where clients connect. */
  url: string;
  /** With several instances: every one's address (clients are spread over them). */
  urls?: string[];
  /** The server's own processes (for CPU and memory). */
  pids: number[];
  /** Sockets it holds and its memory, after collecting garbage where it can (Node; Go reports RSS only). */
  memory(): Promise<{ sockets: number; heapUsed?: number; rss: number }>;
  createTopic(name: string): Promise<void>;
  /**
   * The ways a backend sends a topic message to it: from a library in its own process (Herald's
   * `createHeraldPublisher`, the plain server's `@socket.io/redis-emitter`) and over its HTTP API
   * (Herald's `/api/topics/:name/messages`, Centrifugo's `/api/publish`).
   */
  topicPaths: TopicPath[];
  /** Environment for a publisher worker that publishes to this server. */
  publisherEnv: Record<string, string>;
  /** Herald's gateway, for the figures only it has. */
  gateway?: Gateway;
  stop(): Promise<void>;
}

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Herald's gateways as a server under test (topics over the first one's HTTP API, as a backend
 * publishes); with several, clients are spread over them and memory is their sum.
 */
export function heraldServer(gateways: Gateway[], env: { mongodbUri: string; redisUrl: string }): ServerUnderTest {
  const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };
  const first = gateways[0]!;
  let publisher: Promise<HeraldPublisher> | undefined;
  // Opened before the first message (createTopic), so no message waits for its connections.
  const library = () =>
    (publisher ??= createHeraldPublisher({ mongodbUri: env.mongodbUri, redisUrl: env.redisUrl, logger: createLogger('warn') }));
  return {
    name: 'Herald',
    client: 'herald',
    url: first.url,
    urls: gateways.map((g) => g.url),
    pids: gateways.map((g) => g.pid),
    gateway: first,
    async memory() {
      const all = await Promise.all(gateways.map((g) => g.call('collectGarbage', undefined)));
      return all.reduce((sum, m) => ({ sockets: sum.sockets + m.sockets, heapUsed: sum.heapUsed + m.heapUsed, rss: sum.rss + m.rss }), {
        sockets: 0,
        heapUsed: 0,
        rss: 0,
      });
    },
    async createTopic(name) {
      await post(`${first.url}/api/topics`, auth, { name, visibility: 'public' });
      await library();
    },
    topicPaths: [
      {
        via: 'library',
        publish: async (name, data) => void (await (await library()).topics.publishToTopic(name, { event: 'bench.tick', data })),
      },
      {
        via: 'http',
        publish: async (name, data) => void (await post(`${first.url}/api/topics/${name}/messages`, auth, { event: 'bench.tick', data })),
      },
    ],
    publisherEnv: { MONGODB_URI: env.mongodbUri, REDIS_URL: env.redisUrl },
    async stop() {
      await (await publisher?.catch(() => undefined))?.close();
      await Promise.all(
        gateways.map(async (gateway) => {
          await gateway.call('close', undefined).catch(() => undefined);
          await gateway.stop();
        }),
      );
    },
  };
}

type PlainApi = {
  stats(): { pid: number; sockets: number; heapUsed: number; rss: number };
  collectGarbage(): Promise<{ pid: number; sockets: number; heapUsed: number; rss: number }>;
  close(): Promise<void>;
};

/** The plain server's name in reports. */
export const PLAIN = 'Socket.IO + redis-adapter';

/** The plain Socket.IO + redis-adapter server; topic messages go through @socket.io/redis-emitter. */
export async function startPlainServer(redisUrl: string): Promise<ServerUnderTest> {
  const port = await freePort();
  const worker: Worker<PlainApi> = await startWorker<PlainApi>(path.resolve(__dirname, '../workers/plain-server.ts'), {
    execArgv: ['--expose-gc', ...profile()],
    env: { PORT: String(port), REDIS_URL: redisUrl },
  });
  const redis = new Redis(redisUrl);
  const emitter = new Emitter(redis);
  return {
    name: PLAIN,
    client: 'plain',
    url: `http://127.0.0.1:${port}`,
    pids: [worker.pid],
    memory: () => worker.call('collectGarbage', undefined),
    createTopic: async () => undefined,
    topicPaths: [
      {
        via: 'library',
        publish: async (name, data) => void emitter.to(`topic-${name}`).emit('topic:message', { topic: name, event: 'bench.tick', data }),
      },
    ],
    publisherEnv: { PUBLISH_TO: 'plain', REDIS_URL: redisUrl },
    async stop() {
      redis.disconnect();
      await worker.call('close', undefined).catch(() => undefined);
      await worker.stop();
    },
  };
}

export const CENTRIFUGO_VERSION = 'v6.9.1';
const CENTRIFUGO_MODULE = 'github.com/centrifugal/centrifugo/v6';

/**
 * The Centrifugo binary: from the cache folder, else built there with `go install` (a few minutes, once).
 * Undefined, with the reason, when Go is not on the machine or the build fails: the comparison skips it.
 */
export function findOrBuildCentrifugo(log: (line: string) => void): { binary?: string; skipped?: string } {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const dir = path.join(cache, 'herald-bench', `centrifugo-${CENTRIFUGO_VERSION}`);
  const binary = path.join(dir, 'centrifugo');
  // CI sets this: building Centrifugo takes minutes on a fresh machine, and the quick run only smoke-tests.
  // It skips a binary already built too, as README says.
  if (process.env.BENCH_CENTRIFUGO === 'skip') return { skipped: 'BENCH_CENTRIFUGO=skip' };
  if (fs.existsSync(binary)) return { binary };
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return { skipped: 'Go is not installed, so Centrifugo could not be built' };
  }
  log(`Building Centrifugo ${CENTRIFUGO_VERSION} with go install into ${dir} (once; a few minutes)…`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('go', ['install', `${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION}`], {
      env: { ...process.env, GOBIN: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return { binary };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-3).join(' ');
    return { skipped: `go install ${CENTRIFUGO_MODULE}@${CENTRIFUGO_VERSION} failed: ${stderr ?? (error as Error).message}` };
  }
}

/**
 * Centrifugo, single node, with the memory engine or the Redis engine (broker and presence on `redisUrl`).
 * Users connect with the same signed token as Herald's (HMAC key shared) and are subscribed by the server
 * to their personal channel, which keeps history and recovers it on reconnect, like Herald's feed.
 */
export async function startCentrifugo(binary: string, engine: 'memory' | 'redis', redisUrl: string): Promise<ServerUnderTest> {
  const port = await freePort();
  const apiKey = randomBytes(16).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-centrifugo-'));
  const config = centrifugoConfig({ port, apiKey, engine, redisUrl });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const child: ChildProcess = spawn(binary, ['--config', path.join(dir, 'config.json')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${port}`;
  const api = (method: string, body: unknown) => post(`${base}/api/${method}`, { 'x-api-key': apiKey }, body);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`centrifugo exited (code ${child.exitCode}): ${output}`);
    const ok = await fetch(`${base}/health`)
      .then((res) => res.ok)
      .catch(() => false);
    if (ok) break;
    if (i > 200) {
      await stop();
      throw new Error(`centrifugo did not start in 20 s: ${output}`);
    }
    await sleep(100);
  }
  const pid = child.pid!;
  return {
    name: `Centrifugo (${engine === 'memory' ? 'memory' : 'Redis'} engine)`,
    client: 'centrifugo',
    url: `ws://127.0.0.1:${port}/connection/websocket`,
    pids: [pid],
    async memory() {
      const info = (await api('info', {})) as { result?: { nodes?: { num_clients?: number }[] } };
      return { sockets: info.result?.nodes?.reduce((n, node) => n + (node.num_clients ?? 0), 0) ?? 0, rss: rssBytes(pid) };
    },
    createTopic: async () => undefined,
    topicPaths: [{ via: 'http', publish: async (name, data) => void (await api('publish', { channel: `topic:${name}`, data })) }],
    publisherEnv: { PUBLISH_TO: 'centrifugo', CENTRIFUGO_API_URL: base, CENTRIFUGO_API_KEY: apiKey },
    stop,
  };
}

function centrifugoConfig(options: { port: number; apiKey: string; engine: 'memory' | 'redis'; redisUrl: string }) {
  const redis = { address: [options.redisUrl] };
  return {
    http_server: { address: '127.0.0.1', port: options.port },
    log: { level: 'error' },
    client: {
      token: { hmac_secret_key: JWT_SECRET },
      allowed_origins: ['*'],
      subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal' },
    },
    http_api: { key: options.apiKey },
    health: { enabled: true },
    channel: {
      namespaces: [
        // As Herald's feed: every notification kept (for the storm's catch-up) and recovered on reconnect.
        { name: 'personal', history_size: 100, history_ttl: '600s', force_recovery: true },
        { name: 'topic', allow_subscribe_for_client: true },
      ],
    },
    ...(options.engine === 'redis' ? { engine: { type: 'redis', redis } } : {}),
    usage_stats: { disabled: true },
  };
}
