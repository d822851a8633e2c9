import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import type { Notification } from '@herald/shared';
import { AppError, attachHerald, type EmbeddedHerald } from '../src';
import type { LocalRedis } from '../src/local-services/redis-server';
import { createLogger } from '../src/platform/logger';
import { freshMongoUri, startTestRedis } from './support/services';
import { closeAllSockets, connect } from './support/sockets';
import { exactly, sleep } from './support/wait';

/** The host's own sessions: its token is opaque to Herald, its user ids are not ObjectIds. */
const SESSIONS: Record<string, { userId: string; name: string }> = {
  'sess-alice-7f3a': { userId: 'usr_alice', name: 'Alice' },
  'sess-bob-91c2': { userId: 'usr_bob', name: 'Bob' },
};
const authenticate = async (token: string) => {
  const session = SESSIONS[token];
  if (!session) throw new AppError('invalid_token', 'Unknown session.');
  return { userId: session.userId, name: session.name };
};

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** A host logger with pino's level methods but no child(). */
function hostLogger(lines: LogLine[]) {
  const at = (level: string) => (fields: object | string, message?: string) =>
    typeof fields === 'string'
      ? lines.push({ level, fields: {}, message: fields })
      : lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

describe('attachHerald: Herald inside a host app', () => {
  let redis: LocalRedis;
  let mongodbUri: string;
  let hostConnection: Connection;
  let hostRedis: Redis;
  let server: http.Server;
  let baseUrl: string;
  let herald: EmbeddedHerald;
  const logs: LogLine[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    mongodbUri = freshMongoUri();
    // The host's own connection, with a Notification model and a notifications collection of its own.
    hostConnection = await mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 3000 }).asPromise();
    const HostNotification = hostConnection.model('Notification', new mongoose.Schema({ text: String }), 'notifications');
    await HostNotification.create({ text: 'the host app’s own document' });
    // A client with a key prefix of the host's: Herald must not write under it.
    hostRedis = new Redis(redis.url, { keyPrefix: 'host:' });

    const app = express();
    app.get('/hello', (_req, res) => void res.json({ hello: 'from the host' }));
    server = http.createServer(app);
    herald = await attachHerald({
      server,
      app,
      mongo: hostConnection,
      redis: hostRedis,
      logger: hostLogger(logs),
      authenticate,
      collectionPrefix: 'herald_',
      retention: false,
    });
    app.use((_req, res) => void res.status(404).json({ host: 'not found' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => closeAllSockets());

  afterAll(async () => {
    await herald?.close();
    await new Promise((resolve) => server?.close(resolve));
    hostRedis?.disconnect();
    await hostConnection?.close();
    await redis?.stop();
  });

  it('serves the API under the prefix with the host’s sessions, next to the host’s routes', async () => {
    const feed = await fetch(`${baseUrl}/herald/notifications`, { headers: { authorization: 'Bearer sess-alice-7f3a' } });
    expect(feed.status).toBe(200);
    expect(await feed.json()).toEqual({ items: [], nextCursor: null });

    const refused = await fetch(`${baseUrl}/herald/notifications`, { headers: { authorization: 'Bearer sess-nobody' } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_token' } });

    // Herald answers its own unknown routes; everything else is the host's.
    expect(await (await fetch(`${baseUrl}/herald/nope`)).json()).toMatchObject({ error: { code: 'not_found' } });
    expect(await (await fetch(`${baseUrl}/hello`)).json()).toEqual({ hello: 'from the host' });
    expect(await (await fetch(`${baseUrl}/elsewhere`)).json()).toEqual({ host: 'not found' });
    // No service token was given: publishing over HTTP is closed, not open.
    const publish = await fetch(`${baseUrl}/herald/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userIds: ['usr_alice'], type: 'x', title: 'x' }),
    });
    expect(publish.status).toBe(401);
  });

  it('delivers what the host publishes in-process to that user’s sockets on the socket path, and to no one else', async () => {
    const alice = await connect(baseUrl, 'sess-alice-7f3a', { path: '/herald/socket.io' });
    const bob = await connect(baseUrl, 'sess-bob-91c2', { path: '/herald/socket.io' });
    const toAlice = exactly<Notification>(1, 'notification to alice');
    const toBob = exactly<Notification>(0, 'notification to bob');
    alice.on('notification', toAlice.record);
    bob.on('notification', toBob.record);

    const { notifications } = await herald.publishNotification(
      { userIds: ['usr_alice'], type: 'comment.created', title: 'Bob commented on your post', actor: { id: 'usr_bob', name: 'Bob' } },
      { idempotencyKey: 'comment-c1' },
    );
    expect(notifications).toHaveLength(1);
    const [live] = await toAlice.settled({ quietMs: 200 });
    expect(live).toMatchObject({ userId: 'usr_alice', title: 'Bob commented on your post', seq: 1 });
    await toBob.settled({ quietMs: 50 });

    // A retry of the same event (the host's route ran twice) stores nothing new and sends nothing new.
    await herald.publishNotification(
      { userIds: ['usr_alice'], type: 'comment.created', title: 'Bob commented on your post', actor: { id: 'usr_bob', name: 'Bob' } },
      { idempotencyKey: 'comment-c1' },
    );
    await sleep(100);

    // Stored once, in Herald's prefixed collection; the host's collection and model are untouched.
    const db = hostConnection.db!;
    // (The seq the retry took holds a known gap.)
    expect(
      await db
        .collection('herald_notifications')
        .find({ userId: 'usr_alice', gap: { $exists: false } })
        .toArray(),
    ).toHaveLength(1);
    expect(await db.collection('notifications').find({}).toArray()).toEqual([
      expect.objectContaining({ text: 'the host app’s own document' }),
    ]);
    expect(Object.keys(hostConnection.models).sort()).toEqual(expect.arrayContaining(['Notification', 'herald.herald_.Notification']));
  });

  it('leaves the host’s Redis client as it was, and keeps Herald’s keys out of the host’s prefix', async () => {
    expect(hostRedis.options.keyPrefix).toBe('host:');
    expect(await hostRedis.set('still-mine', '1')).toBe('OK');
    const raw = new Redis(redis.url);
    try {
      const keys = await raw.keys('*');
      expect(keys).toContain('host:still-mine');
      expect(keys.filter((key) => key.startsWith('host:herald'))).toEqual([]);
      expect(keys.some((key) => key.startsWith('herald:'))).toBe(true);
      // Herald's three connections carry their names; the host's is not among the subscribers.
      const clients = await raw.client('LIST');
      for (const name of ['herald-command', 'herald-adapter-sub', 'herald-user-sub']) expect(clients).toContain(`name=${name}`);
    } finally {
      raw.disconnect();
    }
  });

  it('logs through the host’s logger, with Herald’s fields on each line', () => {
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'herald attached', fields: expect.objectContaining({ component: 'herald' }) }),
    );
  });
});

const quiet = createLogger('silent');

describe('attachHerald: closing and refusing', () => {
  let redis: LocalRedis;

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('close() leaves the host’s server, connection and Redis client running', async () => {
    const connection = await mongoose.createConnection(freshMongoUri(), { serverSelectionTimeoutMS: 3000 }).asPromise();
    const hostRedis = new Redis(redis.url);
    const app = express();
    app.get('/hello', (_req, res) => void res.send('hi'));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const herald = await attachHerald({
        server,
        app,
        mongo: connection,
        redis: hostRedis,
        authenticate,
        retention: false,
        prefix: '/notify',
        logger: quiet,
      });
      const socket = await connect(baseUrl, 'sess-alice-7f3a', { path: '/notify/socket.io' });
      const closed = new Promise((resolve) => socket.once('disconnect', resolve));
      await herald.close();
      await closed;
      expect(await (await fetch(`${baseUrl}/hello`)).text()).toBe('hi');
      expect(connection.readyState).toBe(1);
      expect(await hostRedis.ping()).toBe('PONG');
      // Herald's own connections are gone.
      expect(await hostRedis.client('LIST')).not.toContain('name=herald-');
    } finally {
      closeAllSockets();
      await new Promise((resolve) => server.close(resolve));
      hostRedis.disconnect();
      await connection.close();
    }
  });

  it('close() right after attaching stops cleanly: no warning, no stack', async () => {
    const connection = await mongoose.createConnection(freshMongoUri(), { serverSelectionTimeoutMS: 3000 }).asPromise();
    const lines: LogLine[] = [];
    const server = http.createServer(express());
    try {
      for (let round = 0; round < 3; round++) {
        const herald = await attachHerald({
          server,
          app: express(),
          mongo: connection,
          redis: redis.url,
          authenticate,
          retention: false,
          logger: hostLogger(lines),
        });
        await herald.close();
      }
      await sleep(300);
      expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    } finally {
      await connection.close();
    }
  });

  it('on the host’s connection, names its collections herald_… by default: a host’s notifications collection, even empty, stays the host’s', async () => {
    const connection = await mongoose.createConnection(freshMongoUri(), { serverSelectionTimeoutMS: 3000 }).asPromise();
    const server = http.createServer();
    try {
      await connection.db!.createCollection('notifications');
      const herald = await attachHerald({ server, mongo: connection, redis: redis.url, authenticate, retention: false, logger: quiet });
      await herald.publishNotification({ userIds: ['usr_alice'], type: 'a.b', title: 'beside yours' });
      await herald.close();
      expect(await connection.db!.collection('notifications').countDocuments()).toBe(0);
      expect(await connection.db!.collection('notifications').indexes()).toHaveLength(1); // _id only: none of Herald's
      expect(await connection.db!.collection('herald_notifications').countDocuments()).toBe(1);
    } finally {
      await connection.close();
    }
  });

  it('refuses another app’s notifications collection when told to use no prefix, and says how', async () => {
    const connection = await mongoose.createConnection(freshMongoUri(), { serverSelectionTimeoutMS: 3000 }).asPromise();
    const server = http.createServer();
    try {
      await connection.db!.collection('notifications').insertOne({ text: 'the host’s', createdAt: new Date() });
      await expect(
        attachHerald({ server, mongo: connection, redis: redis.url, authenticate, retention: false, logger: quiet, collectionPrefix: '' }),
      ).rejects.toThrow(/"notifications" .* not Herald's.*collectionPrefix/);
      // Nothing of Herald's was created beside it.
      expect((await connection.db!.listCollections().toArray()).map((c) => c.name)).toEqual(['notifications']);
    } finally {
      await connection.close();
    }
  });

  it('refuses to start without a way to check users, on a connection never opened, or with a bad prefix', async () => {
    const server = http.createServer();
    const never = mongoose.createConnection();
    await expect(attachHerald({ server, mongo: freshMongoUri(), redis: redis.url })).rejects.toThrow(/give `authenticate`/);
    await expect(attachHerald({ server, mongo: never, redis: redis.url, authenticate })).rejects.toThrow(/not open; call mongoose.connect/);
    await expect(attachHerald({ server, mongo: never, redis: redis.url, authenticate, prefix: 'herald' })).rejects.toThrow(
      /prefix must be a path/,
    );
  });
});
