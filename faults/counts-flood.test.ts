import type { Connection } from 'mongoose';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { openInspector } from '../server/test/support/database';
import { TEST_SERVICE_TOKEN, startTestHerald } from '../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../server/test/support/services';
import { closeAllSockets, connect } from '../server/test/support/sockets';
import { sleep } from '../server/test/support/wait';

/** Ten filters, the most one counts request may name: each one a tab with a badge. */
const TEN_FILTERS = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [`tab${i}`, i % 2 === 0 ? { category: `c${i % 4}` } : { tags: [`t${i % 3}`], data: { n: i % 5 } }]),
);

/**
 * One signed-in user asks for counts per filter as fast as their budget lets them, on a feed of 1,000
 * notifications (the default retention). Each such request used to run twenty counts at once against
 * the database pool of twenty: the flooder got 503s, and another user's feed and the backend's publishes
 * to them failed about half the time. Now one bounded read answers all filters, one per user at a time.
 */
describe('a user flooding counts per filter', () => {
  let redis: LocalRedis;
  let herald: RunningHerald;
  let inspector: Connection;
  const flooder = 'flooder';
  const victim = 'victim';

  const tokenOf = (userId: string) => herald.gateway.tokens.sign({ userId, name: userId }).token;
  const call = (path: string, token: string, body?: unknown) =>
    fetch(`${herald.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const timed = async (run: () => Promise<Response>) => {
    const started = Date.now();
    const res = await run();
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started };
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    const mongodbUri = freshMongoUri();
    herald = await startTestHerald({ mongodbUri, redisUrl: redis.url });
    inspector = await openInspector(mongodbUri);
    // 1,000 notifications for the flooder, spread over categories, tags and a data field.
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          return herald.gateway.publishNotification({
            userIds: [flooder],
            type: 'flood.seed',
            title: `seed ${n}`,
            category: `c${n % 4}`,
            tags: [`t${n % 3}`],
            data: { n: n % 5 },
          });
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    closeAllSockets();
    await inspector?.close();
    await herald?.close();
    await redis?.stop();
  });

  it('answers the counts right with one read, whatever the number of filters', async () => {
    const res = await call('/api/notifications/counts', tokenOf(flooder), { filters: TEN_FILTERS });
    expect(res.status).toBe(200);
    const { counts } = (await res.json()) as { counts: Record<string, { unread: number; unseen: number }> };
    const notifications = inspector.collection('notifications');
    for (const [name, filter] of Object.entries(TEN_FILTERS)) {
      const query: Record<string, unknown> = { userId: flooder, archivedAt: null, readAt: null };
      if ('category' in filter) query.category = filter.category;
      if ('tags' in filter) query.tags = { $in: filter.tags };
      if ('data' in filter) query['data.n'] = filter.data?.n;
      const truth = await notifications.countDocuments(query);
      expect({ name, unread: counts[name]!.unread }).toEqual({ name, unread: truth });
      expect(counts[name]!.unseen).toBe(truth);
    }
  });

  it('charges each filter, runs one at a time per user, and leaves other users and publishes unaffected', async () => {
    const flooderToken = tokenOf(flooder);
    const victimToken = tokenOf(victim);
    const socket = await connect(herald.url, flooderToken);
    const floodAnswers: Promise<{ status: number; ms: number }>[] = [];
    const socketAnswers: Promise<unknown>[] = [];
    const victimAnswers: { what: string; status: number; ms: number }[] = [];
    // 4 requests a second over HTTP and 8 over the socket, for 6 s, without waiting for answers.
    for (let tick = 0; tick < 24; tick++) {
      floodAnswers.push(timed(() => call('/api/notifications/counts', flooderToken, { filters: TEN_FILTERS })));
      for (let i = 0; i < 2; i++) socketAnswers.push(socket.timeout(20_000).emitWithAck('notifications:counts', { filters: TEN_FILTERS }));
      if (tick % 2 === 0) {
        victimAnswers.push({ what: 'feed', ...(await timed(() => call('/api/notifications?limit=20', victimToken))) });
        victimAnswers.push({ what: 'counts', ...(await timed(() => call('/api/notifications/counts', victimToken))) });
        const publish = await timed(() =>
          call('/api/notifications', TEST_SERVICE_TOKEN, { userIds: [victim], type: 'flood.victim', title: `to the victim ${tick}` }),
        );
        victimAnswers.push({ what: 'publish', ...publish });
      }
      await sleep(250);
    }
    const flood = await Promise.all(floodAnswers);
    const overSocket = (await Promise.all(socketAnswers)) as { data?: unknown; error?: { code: string } }[];

    // The other user and the backend: every answer a success, none waiting on the flood.
    expect(victimAnswers.filter((answer) => answer.status >= 300)).toEqual([]);
    expect(victimAnswers.filter((answer) => answer.ms > 2000)).toEqual([]);
    // The flooder: answered or told to slow down, never a database failure. Over HTTP 24 requests of 10
    // filters are 240 points, within the 300 a minute; over the socket 48 are 480.
    expect(flood.filter((answer) => answer.status !== 200 && answer.status !== 429)).toEqual([]);
    expect(flood.filter((answer) => answer.status === 200).length).toBeGreaterThan(0);
    const socketCodes = overSocket.map((answer) => answer.error?.code ?? 'ok');
    expect(socketCodes.filter((code) => code !== 'ok' && code !== 'rate_limited')).toEqual([]);
    // 300 points a minute at 10 a request: at most 30 socket requests can pass, however they arrive.
    expect(socketCodes.filter((code) => code === 'ok').length).toBeLessThanOrEqual(30);
    expect(socketCodes).toContain('rate_limited');
    // Everything the backend sent to the victim is stored once.
    expect(await inspector.collection('notifications').countDocuments({ userId: victim, type: 'flood.victim' })).toBe(12);
  }, 60_000);
});
