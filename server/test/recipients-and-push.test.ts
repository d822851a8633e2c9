import { createECDH, randomBytes } from 'node:crypto';
import request from 'supertest';
import webpush from 'web-push';
import { MAX_PUSH_SUBSCRIPTIONS_PER_USER } from '@herald/shared';
import { TEST_SERVICE_TOKEN, startTestHerald } from './support/herald';
import { asUser } from './support/http';
import { useTestStack } from './support/stack';

const vapid = webpush.generateVAPIDKeys();
const PUSH_ORIGIN = 'https://127.0.0.1:8443';
const stack = useTestStack({
  users: ['alice', 'bob'],
  env: {
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:ops@example.com',
    PUSH_SERVICE_ORIGINS: PUSH_ORIGIN,
  },
});

const asService = (method: 'put' | 'get' | 'delete', path: string) =>
  request(stack.herald.url)[method](path).set('Authorization', `Bearer ${TEST_SERVICE_TOKEN}`);

/** A browser's PushSubscription.toJSON(), with real keys. */
function browserSubscription(endpoint = `${PUSH_ORIGIN}/push/${randomBytes(8).toString('hex')}`) {
  const ecdh = createECDH('prime256v1');
  return {
    endpoint,
    expirationTime: null,
    keys: { p256dh: ecdh.generateKeys().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

describe('recipients: who a user is off the page, set by the backend', () => {
  it('creates, updates field by field, reads and forgets a recipient', async () => {
    const created = await asService('put', '/api/recipients/user-42').send({ email: 'ada@example.com', name: 'Ada', locale: 'fr-CA' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ userId: 'user-42', email: 'ada@example.com', name: 'Ada', locale: 'fr-CA' });

    const updated = await asService('put', '/api/recipients/user-42').send({ timeZone: 'Europe/Paris', name: null });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      userId: 'user-42',
      email: 'ada@example.com',
      locale: 'fr-CA',
      timeZone: 'Europe/Paris',
      updatedAt: expect.any(String),
    });
    expect((await asService('get', '/api/recipients/user-42')).body).toEqual(updated.body);

    expect((await asService('delete', '/api/recipients/user-42')).status).toBe(204);
    const gone = await asService('get', '/api/recipients/user-42');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
    // Forgetting twice is fine.
    expect((await asService('delete', '/api/recipients/user-42')).status).toBe(204);
  });

  it.each([
    [{ email: 'not an address' }, 'email'],
    [{ email: `${'a'.repeat(250)}@example.com` }, 'email'],
    [{ locale: 'french!' }, 'locale'],
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
    [{ name: '' }, 'name'],
    [{ phone: '+33 1 23 45 67 89' }, '(root)'],
  ])('refuses %j with 400 naming the field', async (body, path) => {
    const res = await asService('put', '/api/recipients/user-43').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('refuses a malformed user id with 400', async () => {
    const res = await asService('put', '/api/recipients/not%20valid').send({ email: 'a@example.com' });
    expect(res.status).toBe(400);
  });

  it('refuses a user’s own token with 403 and no token with 401, and stores nothing', async () => {
    const alice = stack.users.alice;
    const own = await asUser(stack.herald.url, alice.token).put(`/api/recipients/${alice.user.id}`, { email: 'evil@example.com' });
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('forbidden');
    expect((await asUser(stack.herald.url, alice.token).get(`/api/recipients/${alice.user.id}`)).status).toBe(403);
    expect((await request(stack.herald.url).put(`/api/recipients/${alice.user.id}`).send({ email: 'x@example.com' })).status).toBe(401);
    const forged = await request(stack.herald.url)
      .put(`/api/recipients/${alice.user.id}`)
      .set('Authorization', 'Bearer not-a-token')
      .send({ email: 'x@example.com' });
    expect(forged.status).toBe(401);
    // Still the address the demo gave her (alice@example.com), none of those.
    const stored = await stack.inspector.collection('recipients').findOne({ _id: alice.user.id } as never);
    expect(stored?.email).toBe('alice@example.com');
  });
});

describe('push subscriptions of the signed-in user', () => {
  it('serves the VAPID public key', async () => {
    const res = await asUser(stack.herald.url, stack.users.alice.token).get('/api/push/vapid-public-key');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ publicKey: vapid.publicKey });
  });

  it('registers a subscription once, however often the browser sends it, and removes it', async () => {
    const alice = asUser(stack.herald.url, stack.users.alice.token);
    const subscription = browserSubscription();
    expect((await alice.post('/api/push/subscriptions', subscription)).status).toBe(201);
    expect((await alice.post('/api/push/subscriptions', subscription)).status).toBe(201);
    const stored = () => stack.inspector.collection('push_subscriptions').find({ endpoint: subscription.endpoint }).toArray();
    expect(await stored()).toEqual([expect.objectContaining({ userId: stack.users.alice.user.id, keys: subscription.keys })]);

    // Another user cannot remove it; its owner can.
    const bob = asUser(stack.herald.url, stack.users.bob.token);
    expect((await bob.delete('/api/push/subscriptions').send({ endpoint: subscription.endpoint })).status).toBe(204);
    expect(await stored()).toHaveLength(1);
    expect((await alice.delete('/api/push/subscriptions').send({ endpoint: subscription.endpoint })).status).toBe(204);
    expect(await stored()).toHaveLength(0);
  });

  it('moves an endpoint to the user who registers it last (the same browser, another user signed in)', async () => {
    const subscription = browserSubscription();
    await asUser(stack.herald.url, stack.users.alice.token).post('/api/push/subscriptions', subscription).expect(201);
    await asUser(stack.herald.url, stack.users.bob.token).post('/api/push/subscriptions', subscription).expect(201);
    const docs = await stack.inspector.collection('push_subscriptions').find({ endpoint: subscription.endpoint }).toArray();
    expect(docs.map((doc) => doc.userId)).toEqual([stack.users.bob.user.id]);
  });

  it(`keeps a user's ${MAX_PUSH_SUBSCRIPTIONS_PER_USER} newest subscriptions`, async () => {
    const bob = asUser(stack.herald.url, stack.users.bob.token);
    await stack.inspector.collection('push_subscriptions').deleteMany({ userId: stack.users.bob.user.id });
    const endpoints: string[] = [];
    for (let i = 0; i <= MAX_PUSH_SUBSCRIPTIONS_PER_USER; i++) {
      const subscription = browserSubscription();
      endpoints.push(subscription.endpoint);
      await bob.post('/api/push/subscriptions', subscription).expect(201);
      // Distinct creation times, so "oldest" is unambiguous.
      await new Promise((r) => setTimeout(r, 5));
    }
    const held = await stack.inspector.collection('push_subscriptions').find({ userId: stack.users.bob.user.id }).toArray();
    expect(held.map((doc) => doc.endpoint).sort()).toEqual(endpoints.slice(1).sort());
  });

  it.each([
    ['http://127.0.0.1:8443/push/abc', 'endpoint'],
    ['https://push.evil.example/abc', 'endpoint'],
    ['https://127.0.0.1:9443/push/abc', 'endpoint'],
  ])('refuses the endpoint %s with 400', async (endpoint, path) => {
    const res = await asUser(stack.herald.url, stack.users.alice.token).post('/api/push/subscriptions', browserSubscription(endpoint));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it.each([
    [{ p256dh: randomBytes(65).toString('base64url'), auth: randomBytes(16).toString('base64url') }, 'keys.p256dh'],
    [{ p256dh: createECDH('prime256v1').generateKeys().toString('base64url'), auth: randomBytes(8).toString('base64url') }, 'keys.auth'],
    [{ p256dh: 'not base64!', auth: randomBytes(16).toString('base64url') }, 'keys.p256dh'],
  ])('refuses malformed keys with 400 (%#)', async (keys, path) => {
    const res = await asUser(stack.herald.url, stack.users.alice.token).post('/api/push/subscriptions', { ...browserSubscription(), keys });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('needs a signed-in user', async () => {
    expect((await request(stack.herald.url).post('/api/push/subscriptions').send(browserSubscription())).status).toBe(401);
  });

  it('answers 404 on every push route of a server without VAPID keys', async () => {
    const plain = await startTestHerald({ mongodbUri: stack.mongodbUri, redisUrl: stack.redis.url });
    try {
      const alice = asUser(plain.url, stack.users.alice.token);
      for (const res of [
        await alice.get('/api/push/vapid-public-key'),
        await alice.post('/api/push/subscriptions', browserSubscription()),
        await alice.delete('/api/push/subscriptions').send({ endpoint: `${PUSH_ORIGIN}/push/x` }),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
    } finally {
      await plain.close();
    }
  });
});
