import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { startTestHerald, TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from './support/herald';
import type { RunningHerald } from '../src/main';
import { isCollectionScan, openInspector } from './support/database';
import { asUser, postNotification } from './support/http';
import { freshMongoUri, startTestRedis } from './support/services';
import { connect } from './support/sockets';
import type { LocalRedis } from '../src/local-services/redis-server';
import { createNames } from '@herald/shared';
import { createRetentionSweeper } from '../src/notifications/retention';
import { createLogger } from '../src/platform/logger';

/** One query shape: a command on a collection with a filter whose values are replaced by their types. */
interface Shape {
  key: string;
  collection: string;
  filter: Record<string, unknown>;
}

/** The filter's shape: operators and field names kept, values replaced by their type. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : [shapeOf(value[0])];
  if (value instanceof Date) return 'date';
  if (value && typeof value === 'object' && !(value instanceof mongoose.Types.ObjectId) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return value === null ? 'null' : value instanceof mongoose.Types.ObjectId ? 'objectId' : typeof value;
}

/** The filters a command applies (several for a batched update or delete). */
function filtersOf(command: Record<string, unknown>): [collection: string, filter: Record<string, unknown>][] {
  const name = Object.keys(command)[0]!;
  const collection = String(command[name]);
  switch (name) {
    case 'find':
      return [[collection, (command.filter as Record<string, unknown>) ?? {}]];
    case 'count':
      return [[collection, (command.query as Record<string, unknown>) ?? {}]];
    case 'findAndModify':
      return [[collection, (command.query as Record<string, unknown>) ?? {}]];
    case 'update':
      return (command.updates as { q: Record<string, unknown> }[]).map((u) => [collection, u.q]);
    case 'delete':
      return (command.deletes as { q: Record<string, unknown> }[]).map((d) => [collection, d.q]);
    case 'aggregate': {
      const first = (command.pipeline as Record<string, unknown>[])[0] ?? {};
      return [[collection, (first.$match as Record<string, unknown>) ?? {}]];
    }
    default:
      return [];
  }
}

/**
 * Every query shape the server issues reads through an index, on MongoDB and on the bundled FerretDB:
 * a gateway does everything it does (publish with and without keys, mute, sync, list, count, read,
 * archive, delete, topics and their members, a user whose Redis keys were lost, a retention sweep
 * by age, per actor and per user) while the driver reports each command; then each distinct shape is
 * explained, and a collection scan fails the test. Two reads are left out on purpose: the job runner's
 * look for jobs more than a week overdue (a range on dueHour, which FerretDB cannot take through an
 * index: once at a runner's start and every 10 minutes, over the jobs waiting, never per request), and the `distinct` on
 * userId with which a sweep refills its tracking after Redis lost it (once, not per sweep).
 */
describe('every query the server issues uses an index', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let inspector: mongoose.Connection;
  /** The retention sweep's connection, watched like the gateway's. */
  let sweeperConnection: mongoose.Connection;
  const shapes = new Map<string, Shape>();
  /** Reads whose answer left a cursor open on the server, and getMore commands: both must stay empty. */
  const openCursors: string[] = [];
  let getMores = 0;

  beforeAll(async () => {
    const mongodbUri = freshMongoUri();
    redis = await startTestRedis();
    // The driver reports every command of the connections opened with monitorCommands.
    herald = await startTestHerald({ mongodbUri: `${mongodbUri}?monitorCommands=true`, redisUrl: redis.url });
    inspector = await openInspector(mongodbUri);
    sweeperConnection = await openInspector(`${mongodbUri}?monitorCommands=true`);
    const dbName = new URL(mongodbUri).pathname.slice(1);
    for (const connection of mongoose.connections) {
      if (connection.name !== dbName || !connection.getClient().options.monitorCommands) continue;
      connection.getClient().on('commandSucceeded', (event) => {
        const cursor = (event.reply as { cursor?: { id?: { toString(): string } } }).cursor;
        if (cursor?.id !== undefined && cursor.id.toString() !== '0') openCursors.push(event.commandName);
      });
      connection.getClient().on('commandStarted', (event) => {
        if (event.commandName === 'getMore') getMores++;
        for (const [collection, filter] of filtersOf(event.command)) {
          const key = `${event.commandName} ${collection} ${JSON.stringify(shapeOf(filter))}`;
          if (!shapes.has(key)) shapes.set(key, { key, collection, filter });
        }
      });
    }
  });
  afterAll(async () => {
    await herald?.close();
    await inspector?.close();
    await sweeperConnection?.close();
    await redis?.stop();
  });

  it('has no collection scan', async () => {
    const url = herald.url;
    const sign = (userId: string) => herald.gateway.tokens.sign({ userId, name: userId }).token;
    const service = (method: 'post' | 'put' | 'delete' | 'get', path: string) =>
      request(url)[method](path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`);

    // Publishing: plain, keyed (and its replay), to several users, to a user who muted the type.
    await asUser(url, sign('qp-muted'))
      .put('/api/preferences', { mutedTypes: ['qp.muted'] })
      .expect(200);
    await asUser(url, sign('qp-muted')).get('/api/preferences').expect(200);
    for (let i = 0; i < 3; i++) await postNotification(url, { userIds: ['qp-a', 'qp-b'], type: 'qp.note', title: `n${i}` }).expect(201);
    await postNotification(url, { userIds: ['qp-a', 'qp-muted'], type: 'qp.muted', title: 'muted' }).expect(201);
    for (let i = 0; i < 2; i++) {
      await service('post', '/api/notifications')
        .set('Idempotency-Key', 'qp-key')
        .send({ userIds: ['qp-a'], type: 'qp.note', title: 'keyed' })
        .expect(201);
    }
    await herald.gateway.publishNotification({ userIds: ['qp-b'], type: 'qp.note', title: 'in process' });
    // Grouped: a group's next items (finding and retiring the one before), several at once (a slot taken).
    const grouped = (title: string) =>
      herald.gateway.publishNotification({ userIds: ['qp-b'], type: 'qp.note', title, group: { key: 'qp:group', windowSeconds: 60 } });
    await grouped('first of a group');
    await Promise.all([grouped('second'), grouped('third'), grouped('fourth')]);

    // The user's side: sockets (sync, read), the feed routes.
    const socket = await connect(url, sign('qp-a'));
    const synced = await socket.emitWithAck('notifications:sync', { afterSeq: 0 });
    const ids = synced.data!.notifications.map((n) => n.id);
    await socket.emitWithAck('notifications:sync', { afterSeq: 2 });
    await socket.emitWithAck('notifications:read', { ids: [ids[0]!] });
    const api = asUser(url, sign('qp-a'));
    await api.get('/api/notifications').expect(200);
    await api.get('/api/notifications?limit=2&unread=true').expect(200);
    // The feed's filtered pages (a tab, a tag, a data field, the archive, a later page) and counts per filter.
    await api.get('/api/notifications?limit=2&category=social').expect(200);
    await api.get('/api/notifications?limit=2&tags=mention,reply').expect(200);
    await api.get('/api/notifications?limit=2&data.postId=p1').expect(200);
    await api.get('/api/notifications?limit=2&archived=true').expect(200);
    await api.get('/api/notifications?limit=2&category=social&before=3').expect(200);
    await api
      .post('/api/notifications/counts', { filters: { social: { category: 'social' }, mentions: { tags: ['mention'] } } })
      .expect(200);
    // A scheduled send (its per-recipient cap is counted through the recipients index).
    await postNotification(url, {
      userIds: ['qp-a'],
      type: 'qp.note',
      title: 'later',
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
    }).expect(202);
    await api.get('/api/notifications/counts').expect(200);
    await api.post(`/api/notifications/${ids[1]}/read`).expect(200);
    await api.post(`/api/notifications/${ids[1]}/unread`).expect(200);
    await api.post(`/api/notifications/${ids[2]}/archive`).expect(200);
    await api.post(`/api/notifications/${ids[2]}/unarchive`).expect(200);
    await api.post('/api/notifications/seen').expect(200);
    await api.post('/api/notifications/read-all').expect(200);
    await api.delete(`/api/notifications/${ids[3]}`).expect(200);
    await service('get', '/api/users/qp-b/notifications').expect(200);
    await service('post', '/api/users/qp-b/notifications/read-all').expect(200);

    // Topics: create, members, subscribe, messages, removal.
    await service('post', '/api/topics').send({ name: 'qp:room', visibility: 'private' }).expect(201);
    await service('put', '/api/topics/qp:room/members/qp-a').expect(201);
    await service('get', '/api/topics/qp:room/members').expect(200);
    expect((await socket.emitWithAck('topic:subscribe', { topic: 'qp:room' })).error).toBeUndefined();
    await service('post', '/api/topics/qp:room/messages').send({ event: 'qp.event', data: {} }).expect(202);
    await service('delete', '/api/topics/qp:room/members/qp-a').expect(200);
    await socket.emitWithAck('topic:unsubscribe', { topic: 'qp:room' });
    socket.close();

    // A user whose Redis keys are gone: seq and counts come back from the database.
    const plain = new Redis(redis.url);
    const keys = await plain.keys('*{qp-b}*');
    if (keys.length > 0) await plain.del(...keys);
    plain.disconnect();
    await herald.gateway.publishNotification({ userIds: ['qp-b'], type: 'qp.note', title: 'after a Redis loss' });
    await asUser(url, sign('qp-b')).get('/api/notifications/counts').expect(200);
    const b = await connect(url, sign('qp-b'));
    expect((await b.emitWithAck('notifications:sync', { afterSeq: 0 })).error).toBeUndefined();
    b.close();

    // A read bigger than the driver's default first batch (101): a catch-up range read of 150.
    for (let i = 0; i < 150; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          herald.gateway.publishNotification({ userIds: ['qp-many'], type: 'qp.note', title: `many ${i + k}` }),
        ),
      );
    }
    const many = new Redis(redis.url);
    const manyKeys = await many.keys('*{qp-many}*');
    if (manyKeys.length > 0) await many.del(...manyKeys);
    many.disconnect();
    const manySocket = await connect(url, sign('qp-many'));
    expect((await manySocket.emitWithAck('notifications:sync', { afterSeq: 0 })).data?.notifications).toHaveLength(150);
    manySocket.close();

    // Tenants: a feed in a workspace (same user id as a default feed), its socket, counts per tenant,
    // the tenant's own settings on top of the user's defaults.
    const tenantToken = jwt.sign({ name: 'T', tenants: ['qp-acme'] }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      subject: 'qp-a',
      expiresIn: 600,
    });
    await service('post', '/api/notifications')
      .send({ userIds: ['qp-a'], type: 'qp.note', title: 'in acme', tenant: 'qp-acme' })
      .expect(201);
    const inTenant = (req: request.Test) => req.set('Authorization', `Bearer ${tenantToken}`).set('Herald-Tenant', 'qp-acme');
    await inTenant(request(url).get('/api/notifications')).expect(200);
    await inTenant(request(url).get('/api/notifications/counts')).expect(200);
    await inTenant(request(url).put('/api/preferences'))
      .send({ categories: { social: { inApp: false } } })
      .expect(200);
    await inTenant(request(url).get('/api/preferences')).expect(200);
    await request(url).get('/api/notifications/counts/by-tenant').set('Authorization', `Bearer ${tenantToken}`).expect(200);
    const tenantSocket = await connect(url, tenantToken, { auth: { tenant: 'qp-acme' } });
    expect((await tenantSocket.emitWithAck('notifications:sync', { afterSeq: 0 })).data?.notifications).toHaveLength(1);
    tenantSocket.close();
    // A tenant feed's page reads only its own key's entries of the feed index: its bounds are the feed key.
    const tenantPlan = JSON.stringify(
      await inspector.db!.command({
        explain: { find: 'notifications', filter: { userId: 'qp-acme/qp-a' }, sort: { seq: -1 } },
        verbosity: 'queryPlanner',
      }),
    );
    expect(isCollectionScan(JSON.parse(tenantPlan) as Record<string, unknown>)).toBe(false);
    expect(tenantPlan).toContain('qp-acme/qp-a');

    // Retention: one user over the per-actor and per-user limits, with a notification past the age limit.
    for (let i = 0; i < 3; i++) {
      await herald.gateway.publishNotification({
        userIds: ['qp-a'],
        type: 'qp.note',
        title: `actor ${i}`,
        actor: { id: 'qp-x', name: 'X' },
      });
    }
    await inspector.collection('notifications').updateOne({ userId: 'qp-a', title: 'n0' }, { $set: { createdAt: new Date(0) } });
    const names = createNames();
    const sweeperRedis = new Redis(redis.url);
    await sweeperRedis.zadd(names.retentionOldest, 0, 'qp-a');
    const quiet = createLogger('silent');
    const sweeper = createRetentionSweeper({
      connection: sweeperConnection,
      redis: sweeperRedis,
      logger: quiet,
      policy: { maxAgeDays: 30, maxPerUser: 3, maxPerActor: 1, intervalMs: 60_000 },
      names,
    });
    const report = await sweeper.runOnce();
    sweeperRedis.disconnect();
    expect(report).toMatchObject({ expired: 1, overActorLimit: 2 });
    expect(report!.overLimit).toBeGreaterThan(0);

    const explained: { key: string; scan: boolean }[] = [];
    for (const shape of shapes.values()) {
      const explain = await inspector.db!.command({ explain: { find: shape.collection, filter: shape.filter }, verbosity: 'queryPlanner' });
      explained.push({ key: shape.key, scan: isCollectionScan(explain) });
    }
    // The workload reached the shapes that matter (a sanity check on the capture itself).
    expect(explained.length).toBeGreaterThan(15);
    const overdueLook = 'find notification_jobs {"dueHour":{"$lt":"string"}}';
    expect(explained.filter((e) => e.scan && e.key !== overdueLook).map((e) => e.key)).toEqual([]);
    // Every answer came whole: no cursor was left open on the server between commands (on FerretDB an
    // open cursor holds a SQLite connection until the client's getMore).
    expect({ openCursors, getMores }).toEqual({ openCursors: [], getMores: 0 });
  });
});
