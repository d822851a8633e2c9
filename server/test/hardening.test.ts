import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { TEST_SERVICE_TOKEN } from './support/herald';
import { asUser, login, postNotification, type LoggedIn } from './support/http';
import { connect } from './support/sockets';
import { storedNotifications } from './support/database';
import { useTestStack } from './support/stack';

/** Hostile values for any field: query operators and prototype keys. */
const OPERATOR_VALUES: unknown[] = [
  { $gt: '' },
  { $ne: null },
  { $where: 'sleep(100)' },
  JSON.parse('{"__proto__":{"admin":true}}'),
  { constructor: { prototype: { x: 1 } } },
];

describe('hostile input on the feed surface is refused and changes nothing', () => {
  const stack = useTestStack();
  let bob: LoggedIn;

  beforeAll(async () => {
    bob = await login(stack.herald.url, 'bob');
    await stack.herald.gateway.publishNotification({ userIds: [bob.user.id], type: 'post.liked', title: 'keep me unread' });
  });

  it('operator objects in login, publish, preferences: 400', async () => {
    for (const value of OPERATOR_VALUES) {
      expect((await request(stack.herald.url).post('/api/auth/login').send({ username: value }).expect(400)).body.error.code).toBe(
        'validation_failed',
      );
      for (const field of ['userIds', 'type', 'title', 'body', 'actionUrl', 'actor']) {
        const body = { userIds: [bob.user.id], type: 'a.b', title: 't', [field]: field === 'userIds' ? [value] : value };
        expect((await postNotification(stack.herald.url, body).expect(400)).body.error.code).toBe('validation_failed');
      }
      const api = asUser(stack.herald.url, bob.token);
      expect((await api.put('/api/preferences', { mutedTypes: [value] }).expect(400)).body.error.code).toBe('validation_failed');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('a compressed body or a charset other than UTF-8: 415 unsupported_media_type, nothing stored', async () => {
    const body = JSON.stringify({ userIds: [bob.user.id], type: 'encoding.test', title: 'should not be stored' });
    const send = (headers: Record<string, string>, payload: string | Uint8Array<ArrayBuffer> = body) =>
      fetch(`${stack.herald.url}/api/notifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'content-type': 'application/json', ...headers },
        body: payload,
      });
    const refusals = [
      // A plain body that claims to be gzip: this was a 500 with a stack trace in the log.
      await send({ 'content-encoding': 'gzip' }),
      await send({ 'content-encoding': 'gzip' }, Uint8Array.from(gzipSync(body))),
      await send({ 'content-encoding': 'br' }),
      await send({ 'content-type': 'application/json; charset=latin1' }),
      await send({ 'content-type': 'application/json; charset="ISO-8859-1"' }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    }
    expect(await stack.inspector.collection('notifications').countDocuments({ type: 'encoding.test' })).toBe(0);
    expect((await send({ 'content-type': 'application/json; charset=UTF-8', 'content-encoding': 'identity' })).status).toBe(201);
  });

  it('operator syntax in query strings and ids: 400', async () => {
    const api = asUser(stack.herald.url, bob.token);
    for (const query of ['before[$gt]=0', 'limit[$gt]=1', 'unread[$ne]=x', 'archived[$exists]=true', 'userId=' + bob.user.id]) {
      expect((await api.get(`/api/notifications?${query}`).expect(400)).body.error.code).toBe('validation_failed');
    }
    for (const id of ['%7B%22%24gt%22%3A%22%22%7D', '$gt', 'a'.repeat(25)]) {
      expect((await api.post(`/api/notifications/${id}/read`).expect(400)).body.error.code).toBe('invalid_id');
    }
  });

  it('a malformed %-escape in a path: 400 validation_failed, not 500', async () => {
    for (const path of ['/api/notifications/%E0%A4%A/read', '/api/users/%E0%A4%A/notifications', '/api/notifications/%zz/archive']) {
      const res = await request(stack.herald.url).post(path).set('authorization', `Bearer ${bob.token}`);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 400, code: 'validation_failed' });
    }
  });

  it('operator payloads on socket events get an error ack', async () => {
    const socket = await connect(stack.herald.url, bob.token);
    const raw = socket as unknown as { emitWithAck: (e: string, p: unknown) => Promise<{ error?: { code: string } }> };
    for (const value of OPERATOR_VALUES) {
      expect((await raw.emitWithAck('notifications:sync', { afterSeq: value })).error?.code).toBe('validation_failed');
      expect((await raw.emitWithAck('notifications:read', { ids: [value] })).error?.code).toBe('validation_failed');
      expect((await raw.emitWithAck('notifications:sync', value)).error?.code).toBe('validation_failed');
    }
  });

  it('oversized bodies: 413 on every JSON endpoint', async () => {
    const big = { mutedTypes: ['a'], pad: 'x'.repeat(70_000) };
    expect((await asUser(stack.herald.url, bob.token).put('/api/preferences', big).expect(413)).body.error.code).toBe('payload_too_large');
    expect((await request(stack.herald.url).post('/api/auth/login').send(big).expect(413)).body.error.code).toBe('payload_too_large');
  });

  it('after all of it, the stored notification is untouched', async () => {
    const [doc] = await storedNotifications(stack.inspector, bob.user.id);
    expect(doc?.title).toBe('keep me unread');
    expect(doc?.readAt).toBeNull();
    expect(await stack.inspector.collection('preferences').countDocuments()).toBe(0);
  });
});
