import { io } from 'socket.io-client';
import { startRedisServer } from '../src/local-services/redis-server';
import { FeedClient, type FeedSocket } from '../../client/src/notifications/core/feed-client';
import { TEST_SERVICE_TOKEN } from './support/herald';
import { asUser, postNotification } from './support/http';
import { connect, type ClientSocket } from './support/sockets';
import { useTestStack } from './support/stack';
import { waitFor } from './support/wait';

/**
 * The attack suite's rate limits, each with a small budget: over it, 429 rate_limited with Retry-After
 * (HTTP) or an error ack / connect_error with retryAfterSeconds (sockets). The budgets live in Redis,
 * so two instances count against the same one.
 */
describe('rate limits hold per user, per service token and per address, across instances', () => {
  const stack = useTestStack({
    instances: 2,
    env: {
      RATE_LIMIT_USER_REQUESTS: '6/60s',
      RATE_LIMIT_USER_EVENTS: '8/60s',
      RATE_LIMIT_SERVICE_REQUESTS: '5/60s',
      RATE_LIMIT_IP_REQUESTS: '4/60s',
      RATE_LIMIT_IP_HANDSHAKES: '6/60s',
    },
  });
  const token = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;
  /** The instance a request goes to: alternating, so the budget is shown to be shared. */
  const instance = (i: number) => stack.instances[i % 2]!.url;

  async function clearBudgets(): Promise<void> {
    const keys = await stack.redisClient.keys(`${stack.names.prefix}:limit:*`);
    if (keys.length > 0) await stack.redisClient.del(...keys);
  }
  beforeEach(clearBudgets);

  it("a user's HTTP requests: 429 with Retry-After past the budget, over both instances; others unaffected", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await asUser(instance(i), token('rl-ann')).get('/api/notifications/counts')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    const refused = await asUser(instance(0), token('rl-ann')).get('/api/notifications/counts').expect(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    await asUser(instance(1), token('rl-ben')).get('/api/notifications/counts').expect(200);
  });

  it('a service token: 429 past its budget, and a refused publish stores nothing', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await postNotification(instance(i), { userIds: ['rl-pub'], type: 'a.b', title: `n${i}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
    const stored = await stack.inspector.collection('notifications').find({ userId: 'rl-pub' }).toArray();
    expect(stored.map((doc) => doc.title as string).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
  });

  it('an address sending no credentials, or refused ones: 429 past its budget, before any token is checked', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${instance(i)}/api/config`)).status);
    for (let i = 0; i < 3; i++) statuses.push((await asUser(instance(i), 'not-a-token').get('/api/notifications')).status);
    // A wrong service token spends the same budget.
    statuses.push((await postNotification(instance(0), { userIds: ['x'], type: 'a.b', title: 't' }, 'wrong-service-token')).status);
    expect(statuses).toEqual([200, 200, 200, 401, 429, 429, 429]);
    // Valid callers are not on the address's budget.
    await asUser(instance(1), token('rl-cat')).get('/api/notifications/counts').expect(200);
    await postNotification(instance(1), { userIds: ['rl-cat'], type: 'a.b', title: 't' }, TEST_SERVICE_TOKEN).expect(201);
  });

  it('handshakes from one address: refused past the budget before the token is checked (a bad token gets rate_limited, not invalid_token)', async () => {
    const sockets: ClientSocket[] = [];
    for (let i = 0; i < 6; i++) sockets.push(await connect(instance(i), token(`rl-hs-${i}`)));
    const refused = await connect(instance(0), 'not-a-token').catch((error: Error & { data?: unknown }) => error.data);
    expect(refused).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    const valid = await connect(instance(1), token('rl-hs-late')).catch((error: Error & { data?: unknown }) => error.data);
    expect(valid).toMatchObject({ code: 'rate_limited' });
    // The sockets already connected keep working.
    const ack = await sockets[0]!.emitWithAck('notifications:sync', { afterSeq: 0 });
    expect(ack.error).toBeUndefined();
  });

  it("a user's socket events: over all their sockets on both instances, an error ack with retryAfterSeconds past the budget", async () => {
    const a = await connect(instance(0), token('rl-ev'));
    const b = await connect(instance(1), token('rl-ev'));
    const other = await connect(instance(0), token('rl-ev-other'));
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 10; i++) {
      const ack = await (i % 2 ? a : b).emitWithAck('notifications:sync', { afterSeq: 0 });
      codes.push(ack.error?.code);
    }
    expect(codes).toEqual([...Array.from({ length: 8 }, () => undefined), 'rate_limited', 'rate_limited']);
    const refused = await a.emitWithAck('notifications:read', { ids: [] });
    expect(refused.error).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
    // Still connected (a budget, not a flood): and another user is unaffected.
    expect(a.connected && b.connected).toBe(true);
    expect((await other.emitWithAck('notifications:sync', { afterSeq: 0 })).error).toBeUndefined();
  });
});

describe('a client refused for now connects by itself when the server says', () => {
  const stack = useTestStack({ env: { RATE_LIMIT_IP_HANDSHAKES: '2/2s' } });

  it('the FeedClient waits out retryAfterSeconds, connects and catches up', async () => {
    const sign = (userId: string) => stack.herald.gateway.tokens.sign({ userId, name: userId }).token;
    await connect(stack.herald.url, sign('rl-first'));
    await connect(stack.herald.url, sign('rl-second'));
    await stack.herald.gateway.publishNotification({ userIds: ['rl-third'], type: 'a.b', title: 'waiting for you' });
    const socket: FeedSocket = io(stack.herald.url, { auth: { token: sign('rl-third') }, transports: ['websocket'], forceNew: true });
    const refusals: string[] = [];
    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => refusals.push(error.data?.code ?? 'transport'));
    const client = new FeedClient(socket);
    try {
      await waitFor(() => expect(client.state.items.map((n) => n.title)).toEqual(['waiting for you']), 10_000);
      expect(refusals[0]).toBe('rate_limited');
      expect(client.connection).toBe('connected');
    } finally {
      client.close();
    }
  });
});

describe('while Redis is unreachable, each instance keeps counting in memory', () => {
  const stack = useTestStack({ env: { RATE_LIMIT_USER_REQUESTS: '3/60s' } });

  it('requests are served up to the budget, then 429: neither failed nor unlimited', async () => {
    const userToken = stack.herald.gateway.tokens.sign({ userId: 'rl-outage', name: 'rl-outage' }).token;
    await stack.redis.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await asUser(stack.herald.url, userToken).get('/api/preferences')).status);
    // Back, so the stack shuts down as usual.
    const redis = await startRedisServer({ port: Number(new URL(stack.redis.url).port) });
    stack.redis = { url: redis.url, nodeUrls: [redis.url], stop: redis.stop };
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });
});
