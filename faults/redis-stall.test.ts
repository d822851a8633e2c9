import type { Connection } from 'mongoose';
import type { Ack, SyncResult } from '@herald/shared';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { openInspector } from '../server/test/support/database';
import { TEST_SERVICE_TOKEN, startTestHerald } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { closeAllSockets, connect, recordNotifications } from '../server/test/support/sockets';
import { sleep, waitFor } from '../server/test/support/wait';

/** A few seconds, what a client is promised (as with a stalled database): every answer comes within it while Redis is paused. */
const ANSWER_WITHIN_MS = 5000;

/**
 * Redis is paused (SIGSTOP): its connections stay open and nothing answers, as with a frozen host or a
 * network that drops packets. Every request, publish and handshake used to wait for it to resume.
 * Now each answers within seconds: what the database can serve is served, a publish is a retryable
 * 503 with Retry-After, a handshake is let through or refused retryably; and once Redis is back,
 * everything works and nothing is lost or doubled.
 */
describe('when Redis stalls', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let inspector: Connection;
  const userId = 'stalled-user';

  const tokenOf = (id: string) => herald.gateway.tokens.sign({ userId: id, name: id }).token;
  const timed = async (path: string, init: RequestInit = {}) => {
    const started = Date.now();
    const res = await fetch(`${herald.url}${path}`, init);
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, body, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
  };
  const asUser = (path: string, init: RequestInit = {}) =>
    timed(path, { ...init, headers: { authorization: `Bearer ${tokenOf(userId)}`, 'content-type': 'application/json' } });
  const publish = (title: string, key: string) =>
    timed('/api/notifications', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ userIds: [userId], type: 'stall.redis', title }),
    });

  beforeAll(async () => {
    redis = await startTestRedis();
    const mongodbUri = freshMongoUri();
    // Every per-address budget on, as in production: each request and handshake takes from Redis.
    herald = await startTestHerald({
      mongodbUri,
      redisUrl: redis.url,
      env: { RATE_LIMIT_IP_HANDSHAKES: '600/60s', RATE_LIMIT_IP_REQUESTS: '600/60s' },
    });
    inspector = await openInspector(mongodbUri);
  });

  afterAll(async () => {
    closeAllSockets();
    redis?.process.kill('SIGCONT');
    await inspector?.close();
    await herald?.close();
    await redis?.stop();
  });

  it('answers within seconds while paused, and loses or doubles nothing once back', async () => {
    expect((await publish('before', 'k-before')).status).toBe(201);
    const socket = await connect(herald.url, tokenOf(userId));
    const live = recordNotifications(socket);
    const first = (await socket.emitWithAck('notifications:sync', { afterSeq: 0 })) as Ack<SyncResult>;
    expect(first.data?.notifications.map((n) => n.title)).toEqual(['before']);

    redis.process.kill('SIGSTOP');
    const during: Record<string, { status: number; ms: number }> = {};
    try {
      // Reads the database can answer are answered.
      const feed = await asUser('/api/notifications?limit=10');
      during.feed = feed;
      expect(feed.status).toBe(200);
      expect((feed.body.items as { title: string }[]).map((n) => n.title)).toEqual(['before']);
      const counts = await asUser('/api/notifications/counts');
      during.counts = counts;
      expect(counts.status).toBe(200);
      expect(counts.body).toMatchObject({ unread: 1 });

      // A publish: stored with its seq from the database (its live push waits for Redis), or a fast,
      // retryable refusal.
      const duringPublish = await publish('during', 'k-during');
      during.publish = duringPublish;
      if (duringPublish.status !== 201) {
        expect(duringPublish.status).toBe(503);
        expect(duringPublish.body).toMatchObject({
          error: { code: expect.stringMatching(/^(service_unavailable|database_unavailable)$/) },
        });
        expect(Number(duringPublish.retryAfter)).toBeGreaterThan(0);
      }

      // A new handshake: let through, or refused with an error the client retries.
      const started = Date.now();
      const outcome = await connect(herald.url, tokenOf('other-user')).then(
        () => 'connected',
        (error: { data?: { code?: string } }) => error.data?.code ?? 'no code',
      );
      during.handshake = { status: outcome === 'connected' ? 101 : 503, ms: Date.now() - started };
      expect(['connected', 'service_unavailable']).toContain(outcome);

      // A sync over the open socket: answered from the database, or refused retryably.
      const syncStarted = Date.now();
      const sync = (await socket.timeout(10_000).emitWithAck('notifications:sync', { afterSeq: 1 })) as Ack<SyncResult>;
      during.sync = { status: sync.error ? 503 : 200, ms: Date.now() - syncStarted };
      if (sync.error) expect(sync.error.code).toBe('service_unavailable');
      else expect(sync.data.notifications.map((n) => n.title)).toEqual(duringPublish.status === 201 ? ['during'] : []);

      for (const [what, answer] of Object.entries(during)) {
        expect({ what, ms: Math.min(answer.ms, ANSWER_WITHIN_MS) }).toEqual({ what, ms: answer.ms });
      }
    } finally {
      redis.process.kill('SIGCONT');
    }

    // Back: the caller retries its publish with the same key (as told after a 503; a replay after a 201),
    // and publishes anew.
    await sleep(500);
    let retried = await publish('during', 'k-during');
    for (let attempt = 0; attempt < 20 && retried.status !== 201; attempt++) {
      await sleep(500);
      retried = await publish('during', 'k-during');
    }
    expect(retried.status).toBe(201);
    expect((await publish('after', 'k-after')).status).toBe(201);

    // The open socket hears both (live, or through its next sync), the database holds each once.
    await waitFor(() => expect(live.map((n) => n.title)).toEqual(expect.arrayContaining(['after'])), 10_000);
    const all = (await socket.emitWithAck('notifications:sync', { afterSeq: 0 })) as Ack<SyncResult>;
    expect(all.data?.notifications.map((n) => n.title)).toEqual(['before', 'during', 'after']);
    const stored = await inspector.collection('notifications').find({ userId, type: 'stall.redis' }).sort({ seq: 1 }).toArray();
    expect(stored.map((n) => n.title)).toEqual(['before', 'during', 'after']);
    expect((await asUser('/api/notifications/counts')).body).toMatchObject({ unread: 3 });
  }, 90_000);
});
