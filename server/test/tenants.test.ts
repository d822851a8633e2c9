import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Notification, SyncResult } from '@herald/shared';
import { TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from './support/herald';
import { connect, recordNotifications, type ClientSocket } from './support/sockets';
import { useTestStack } from './support/stack';
import { sleep, waitFor } from './support/wait';

/**
 * Tenants, tested as an attacker would: the same user id in two workspaces, a token granting one asking
 * for another over HTTP and over the socket, ids of one workspace used under another, malformed and
 * over-long tenant ids, live publishes and catch-up crossing workspaces.
 */
const stack = useTestStack();

/** A token as the host app would sign it: the user, and the tenants it grants (the `tenants` claim). */
const tokenFor = (userId: string, tenants?: string | string[]) =>
  jwt.sign({ name: userId, ...(tenants === undefined ? {} : { tenants }) }, TEST_JWT_SECRET, {
    algorithm: 'HS256',
    subject: userId,
    expiresIn: 600,
  });

const api = (token: string, tenant?: string) => {
  const withHeaders = (req: request.Test) => {
    void req.set('Authorization', `Bearer ${token}`);
    return tenant === undefined ? req : req.set('Herald-Tenant', tenant);
  };
  return {
    get: (path: string) => withHeaders(request(stack.herald.url).get(path)),
    post: (path: string, body?: object) => withHeaders(request(stack.herald.url).post(path)).send(body ?? {}),
  };
};

async function publish(tenant: string | undefined, userIds: string[], title: string): Promise<Notification[]> {
  const res = await request(stack.herald.url)
    .post('/api/notifications')
    .set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`)
    .send({ userIds, type: 'tenant.test', title, ...(tenant ? { tenant } : {}) })
    .expect(201);
  return res.body.notifications as Notification[];
}

const connectTo = (token: string, tenant?: string): Promise<ClientSocket> =>
  connect(stack.herald.url, token, tenant ? { auth: { tenant } } : {});

describe('tenants: one user, several workspaces, each with its own feed', () => {
  it('keeps the same user id apart in two tenants and in the default feed: lists, counts, seqs', async () => {
    const ada = 'tenant-ada';
    const token = tokenFor(ada, ['acme', 'globex']);
    const [inAcme] = await publish('acme', [ada], 'Acme invoice');
    await publish('globex', [ada], 'Globex invoice');
    await publish('globex', [ada], 'Globex reminder');
    await publish(undefined, [ada], 'Personal');
    expect(inAcme).toMatchObject({ userId: ada, tenant: 'acme', seq: 1 });

    const titles = async (tenant?: string) =>
      ((await api(token, tenant).get('/api/notifications').expect(200)).body.items as Notification[]).map((n) => n.title).sort();
    expect(await titles('acme')).toEqual(['Acme invoice']);
    expect(await titles('globex')).toEqual(['Globex invoice', 'Globex reminder']);
    expect(await titles()).toEqual(['Personal']);
    expect((await api(token, 'globex').get('/api/notifications/counts').expect(200)).body).toMatchObject({ unread: 2, unseen: 2 });
    expect((await api(token).get('/api/notifications/counts').expect(200)).body).toMatchObject({ unread: 1 });
    expect((await api(token).get('/api/notifications/counts/by-tenant').expect(200)).body).toEqual({
      counts: { acme: { unread: 1, unseen: 1 }, globex: { unread: 2, unseen: 2 } },
    });
    // Reading in one tenant changes nothing in another.
    await api(token, 'globex').post('/api/notifications/read-all').expect(200);
    expect((await api(token, 'acme').get('/api/notifications/counts').expect(200)).body).toMatchObject({ unread: 1 });
  });

  it('refuses a tenant the token does not grant (403 over HTTP, forbidden at connect), and malformed or over-long ids (400)', async () => {
    const eve = 'tenant-eve';
    await publish('acme', [eve], 'Acme secret');
    const onlyGlobex = tokenFor(eve, 'globex');
    const refused = await api(onlyGlobex, 'acme').get('/api/notifications');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await api(tokenFor(eve), 'acme').get('/api/notifications/counts')).status).toBe(403);
    await expect(connectTo(onlyGlobex, 'acme')).rejects.toMatchObject({ data: { code: 'forbidden' } });
    await expect(connectTo(tokenFor(eve), 'acme')).rejects.toMatchObject({ data: { code: 'forbidden' } });

    for (const bad of ['acme/evil', 'a'.repeat(129), 'spaces here', '../acme']) {
      const res = await api(onlyGlobex, bad).get('/api/notifications');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      await expect(connectTo(onlyGlobex, bad)).rejects.toMatchObject({ data: { code: 'validation_failed' } });
    }
    // A token whose tenants claim is not a list of tenant ids is no token at all.
    expect((await api(tokenFor(eve, ['acme/evil'])).get('/api/notifications')).status).toBe(401);
    const publishing = await request(stack.herald.url)
      .post('/api/notifications')
      .set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`)
      .send({ userIds: [eve], type: 'tenant.test', title: 'x', tenant: 'acme/evil' });
    expect(publishing.status).toBe(400);
  });

  it("answers 404 for another tenant's ids, exactly like a missing one, and changes nothing", async () => {
    const bob = 'tenant-bob';
    const token = tokenFor(bob, ['acme', 'globex']);
    const [secret] = await publish('acme', [bob], 'Acme only');
    for (const path of [`/api/notifications/${secret!.id}/read`, `/api/notifications/${secret!.id}/archive`]) {
      const res = await api(token, 'globex').post(path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect((await api(token).post(path)).status).toBe(404);
    }
    const acme = await api(token, 'acme').get('/api/notifications').expect(200);
    expect(acme.body.items).toEqual([expect.objectContaining({ id: secret!.id, title: 'Acme only' })]);
    expect(acme.body.items[0].readAt).toBeUndefined();
  });

  it("delivers a live publish only to sockets of that tenant, and catches a socket up on its tenant's feed only", async () => {
    const cy = 'tenant-cy';
    const token = tokenFor(cy, ['acme', 'globex']);
    const [acme, globex, personal] = await Promise.all([connectTo(token, 'acme'), connectTo(token, 'globex'), connectTo(token)]);
    const got = { acme: recordNotifications(acme), globex: recordNotifications(globex), personal: recordNotifications(personal) };
    await publish('acme', [cy], 'For Acme');
    await waitFor(() => expect(got.acme.map((n) => n.title)).toEqual(['For Acme']));
    await sleep(300);
    expect(got.globex).toEqual([]);
    expect(got.personal).toEqual([]);

    await publish('globex', [cy], 'Missed in Globex');
    await waitFor(() => expect(got.globex).toHaveLength(1));
    const sync = (socket: ClientSocket) =>
      new Promise<SyncResult>((resolve, reject) =>
        socket.emit('notifications:sync', { afterSeq: 0 }, (answer) => ('error' in answer ? reject(answer.error) : resolve(answer.data))),
      );
    expect((await sync(acme)).notifications.map((n) => n.title)).toEqual(['For Acme']);
    expect((await sync(globex)).notifications.map((n) => n.title)).toEqual(['Missed in Globex']);
    expect((await sync(personal)).notifications).toEqual([]);
    // A read over one tenant's socket does not reach another tenant's feed.
    const foreign = got.acme[0]!.id;
    const ack = await new Promise<unknown>((resolve) => globex.emit('notifications:read', { ids: [foreign] }, resolve));
    expect(ack).toMatchObject({ data: expect.anything() });
    expect((await api(token, 'acme').get('/api/notifications').expect(200)).body.items[0].readAt).toBeUndefined();
  });

  it('lets a service act on a user’s feed in a tenant with the Herald-Tenant header', async () => {
    const dee = 'tenant-dee';
    const [n] = await publish('acme', [dee], 'Acme');
    const service = (tenant?: string) => {
      const req = request(stack.herald.url).get(`/api/users/${dee}/notifications`).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`);
      return tenant ? req.set('Herald-Tenant', tenant) : req;
    };
    expect((await service('acme').expect(200)).body.items.map((item: Notification) => item.id)).toEqual([n!.id]);
    expect((await service().expect(200)).body.items).toEqual([]);
    expect((await service('bad/tenant')).status).toBe(400);
  });

  it("holds a tenant's own settings on top of the user's defaults: mute a category in one workspace only", async () => {
    const fay = 'tenant-fay';
    const token = tokenFor(fay, ['acme', 'globex']);
    const put = (tenant: string | undefined, body: object) => {
      const req = request(stack.herald.url).put('/api/preferences').set('Authorization', `Bearer ${token}`);
      return (tenant ? req.set('Herald-Tenant', tenant) : req).send(body).expect(200);
    };
    const muted = async (tenant: string | undefined, extra: object) => {
      const res = await request(stack.herald.url)
        .post('/api/notifications')
        .set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`)
        .send({ userIds: [fay], title: 'x', type: 'tenant.test', ...(tenant ? { tenant } : {}), ...extra })
        .expect(201);
      return (res.body.mutedUserIds as string[]).includes(fay);
    };
    await put('acme', { categories: { social: { inApp: false } } });
    expect(await muted('acme', { category: 'social' })).toBe(true);
    expect(await muted('globex', { category: 'social' })).toBe(false);
    expect(await muted(undefined, { category: 'social' })).toBe(false);

    // The defaults reach every tenant for what the tenant did not set itself.
    await put(undefined, { mutedTypes: ['digest.weekly'] });
    expect(await muted('globex', { type: 'digest.weekly' })).toBe(true);
    expect(await muted('acme', { type: 'digest.weekly' })).toBe(true);
    expect((await api(token, 'acme').get('/api/preferences').expect(200)).body).toMatchObject({
      mutedTypes: ['digest.weekly'],
      categories: { social: { inApp: false } },
    });
    expect((await api(token).get('/api/preferences').expect(200)).body.categories).toEqual({});

    // Reset: the tenant follows the defaults again.
    await request(stack.herald.url)
      .delete('/api/preferences')
      .set('Authorization', `Bearer ${token}`)
      .set('Herald-Tenant', 'acme')
      .expect(200);
    expect(await muted('acme', { category: 'social' })).toBe(false);
    expect((await request(stack.herald.url).delete('/api/preferences').set('Authorization', `Bearer ${token}`)).status).toBe(400);
  });

  it("keeps topics per tenant: a tenant's topic reaches its own sockets only, and its members are that tenant's", async () => {
    const gus = 'tenant-gus';
    const token = tokenFor(gus, ['acme', 'globex']);
    const service = (method: 'post' | 'put' | 'get', path: string, tenant?: string) => {
      const req = request(stack.herald.url)[method](path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`);
      return tenant ? req.set('Herald-Tenant', tenant) : req;
    };
    expect((await service('post', '/api/topics', 'acme').send({ name: 'room:1' }).expect(201)).body.name).toBe('room:1');
    await service('post', '/api/topics').send({ name: 'room:1' }).expect(201);
    await service('post', '/api/topics', 'acme').send({ name: 'vault:1', visibility: 'private' }).expect(201);
    await service('put', `/api/topics/vault:1/members/${gus}`, 'acme').expect(201);
    expect((await service('get', '/api/topics/vault:1/members', 'acme').expect(200)).body.members).toEqual([gus]);

    const [acme, globex, personal] = await Promise.all([connectTo(token, 'acme'), connectTo(token, 'globex'), connectTo(token)]);
    const heard = (socket: ClientSocket) => {
      const list: { topic: string; event: string }[] = [];
      socket.on('topic:message', (m) => list.push({ topic: m.topic, event: m.event }));
      return list;
    };
    const got = { acme: heard(acme), globex: heard(globex), personal: heard(personal) };
    expect(await acme.emitWithAck('topic:subscribe', { topic: 'room:1' })).toEqual({ data: { topic: 'room:1' } });
    expect(await acme.emitWithAck('topic:subscribe', { topic: 'vault:1' })).toEqual({ data: { topic: 'vault:1' } });
    expect(await personal.emitWithAck('topic:subscribe', { topic: 'room:1' })).toEqual({ data: { topic: 'room:1' } });
    // Globex has no such topics; the default feed is no member of Acme's private one.
    expect((await globex.emitWithAck('topic:subscribe', { topic: 'room:1' })).error?.code).toBe('not_found');
    expect((await personal.emitWithAck('topic:subscribe', { topic: 'vault:1' })).error?.code).toBe('not_found');

    await service('post', '/api/topics/room:1/messages', 'acme').send({ event: 'acme.event' }).expect(202);
    await service('post', '/api/topics/vault:1/messages', 'acme').send({ event: 'vault.event' }).expect(202);
    await service('post', '/api/topics/room:1/messages').send({ event: 'default.event' }).expect(202);
    await waitFor(() => expect(got.acme).toHaveLength(2));
    await waitFor(() => expect(got.personal).toHaveLength(1));
    await sleep(200);
    expect(got.acme).toEqual([
      { topic: 'room:1', event: 'acme.event' },
      { topic: 'vault:1', event: 'vault.event' },
    ]);
    expect(got.personal).toEqual([{ topic: 'room:1', event: 'default.event' }]);
    expect(got.globex).toEqual([]);
  });

  it('scopes Idempotency-Keys, dedupeKeys, digest groups and scheduled sends to the tenant', async () => {
    const hal = 'tenant-hal';
    const token = tokenFor(hal, ['acme', 'globex']);
    const send = (tenant: string, extra: object, key?: string) => {
      const req = request(stack.herald.url).post('/api/notifications').set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`);
      return (key ? req.set('Idempotency-Key', key) : req).send({ userIds: [hal], type: 'tenant.scope', title: 'x', tenant, ...extra });
    };
    // The same Idempotency-Key in two tenants: two notifications, neither a replay.
    const keyed = await Promise.all(['acme', 'globex'].map((tenant) => send(tenant, { title: 'keyed' }, 'same-key').expect(201)));
    expect(keyed.map((res) => res.body.replayed)).toEqual([false, false]);
    // The same dedupeKey: one per tenant, and the second in a tenant is held.
    await send('acme', { title: 'deduped', dedupeKey: 'd-1' }).expect(201);
    await send('globex', { title: 'deduped', dedupeKey: 'd-1' }).expect(201);
    expect((await send('acme', { title: 'deduped', dedupeKey: 'd-1' }).expect(201)).body.deduplicatedUserIds).toEqual([hal]);
    // The same group key: a group in each tenant.
    for (const tenant of ['acme', 'globex', 'acme']) await send(tenant, { title: 'grouped', group: { key: 'g-1' } }).expect(201);
    // A scheduled send lands in its tenant's feed.
    const scheduled = await send('globex', { title: 'later', sendAt: new Date(Date.now() + 60_000).toISOString() }).expect(202);
    const job = await stack.inspector.collection('notification_jobs').findOne({ _id: scheduled.body.scheduled.id });
    expect(job?.recipients).toEqual([`globex/${hal}`]);
    await stack.herald.gateway.publishNotification(job!.input, { idempotencyKey: 'run-the-send' });

    const titles = async (tenant: string) =>
      ((await api(token, tenant).get('/api/notifications').expect(200)).body.items as Notification[])
        .map((n) => `${n.title}${n.group ? ` x${n.group.count}` : ''}`)
        .sort();
    expect(await titles('acme')).toEqual(['deduped', 'grouped x2', 'keyed']);
    expect(await titles('globex')).toEqual(['deduped', 'grouped x1', 'keyed', 'later']);
  });
});
