import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import type { Notification } from '@herald/shared';
import { startFerretDb, type LocalFerretDb } from '../server/src/local-services/ferretdb';
import type { LocalRedis } from '../server/src/local-services/redis-server';
import type { RunningHerald } from '../server/src/main';
import { openInspector } from '../server/test/support/database';
import { createTokenSigner } from '../server/src/auth/token-signer';
import { TEST_JWT_SECRET, TEST_SERVICE_TOKEN, startTestHerald } from '../server/test/support/herald';
import { startTestRedis } from '../server/test/support/services';
import { closeAllSockets, connect } from '../server/test/support/sockets';
import { exactly, sleep } from '../server/test/support/wait';

/** The database process is paused (SIGSTOP): it takes connections and commands, and answers nothing. */
describe('when the database stalls during a keyed publish to 1,000 recipients', () => {
  let dir: string;
  let ferret: LocalFerretDb;
  let redis: LocalRedis;
  let herald: RunningHerald;
  let inspector: Connection;
  const recipients = Array.from({ length: 1000 }, (_, i) => `r${String(i).padStart(4, '0')}`);
  const body = { userIds: recipients, type: 'stall.test', title: 'Sent while the database was paused' };

  /** How many notifications of this type each recipient has in the database. */
  const copiesPerRecipient = (type: string) =>
    inspector
      .collection('notifications')
      .aggregate<{ _id: string; copies: number }>([{ $match: { type } }, { $group: { _id: '$userId', copies: { $sum: 1 } } }])
      .toArray();

  const publish = () =>
    fetch(`${herald.url}/api/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'idempotency-key': 'stall-1' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-stall-'));
    ferret = await startFerretDb({ dataDir: dir });
    redis = await startTestRedis();
    // A short socket timeout, so the driver gives up on the paused database (and the database may
    // apply the write anyway once it resumes) within the test's time.
    herald = await startTestHerald({ mongodbUri: `${ferret.url}stall`, redisUrl: redis.url, options: { socketTimeoutMS: 4000 } });
    inspector = await openInspector(`${ferret.url}stall`);
  });

  afterAll(async () => {
    closeAllSockets();
    ferret?.process.kill('SIGCONT');
    await inspector?.close();
    await herald?.close();
    await redis?.stop();
    await ferret?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After within 5 s, and the key never yields a second copy, however the retries fall', async () => {
    const token = herald.gateway.tokens.sign({ userId: recipients[0]!, name: 'R0' }).token;
    const socket = await connect(herald.url, token);
    const received = exactly<Notification>(1, 'stall.test notification');
    socket.on('notification', (n) => n.type === 'stall.test' && received.record(n));

    ferret.process.kill('SIGSTOP');
    const started = Date.now();
    const first = await publish();
    const waited = Date.now() - started;
    expect(first.status).toBe(503);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
    expect(first.headers.get('retry-after')).toBe('5');
    expect(waited).toBeLessThan(5000);

    // A retry while the database is still paused: the same answer, as fast.
    const again = Date.now();
    expect((await publish()).status).toBe(503);
    expect(Date.now() - again).toBeLessThan(5000);

    // Long enough for the driver to give up on the paused server (its writes may still be applied).
    await sleep(6000);
    ferret.process.kill('SIGCONT');

    // The caller retries with the key, as told, until it gets an answer.
    let answer: Response | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      answer = await publish();
      if (answer.status === 201) break;
      expect([503, 409]).toContain(answer.status);
      await sleep(1000);
    }
    expect(answer!.status).toBe(201);
    const result = (await answer!.json()) as { notifications: { userId: string }[] };
    expect(result.notifications).toHaveLength(1000);

    // Exactly one copy per recipient in the database, and one live delivery to the connected one.
    const perUser = await copiesPerRecipient('stall.test');
    expect(perUser).toHaveLength(1000);
    expect(perUser.filter((user) => user.copies !== 1)).toEqual([]);
    const [live] = await received.settled({ timeoutMs: 10_000, quietMs: 500 });
    expect(live).toMatchObject({ userId: recipients[0], type: 'stall.test' });
  }, 120_000);

  it('stores one copy per recipient when the database applied a keyed write whose answer was lost', async () => {
    // The reply of the next insert into notifications is lost: the database applies it, the driver
    // reports a network timeout (what a stall past the socket timeout looks like from here).
    const Collection = mongoose.mongo.Collection.prototype;
    const insertMany = Collection.insertMany;
    let lost = 0;
    Collection.insertMany = async function (this: typeof Collection, ...args: Parameters<typeof insertMany>) {
      const result = await insertMany.apply(this, args);
      if (this.collectionName === 'notifications' && lost++ === 0) {
        throw new mongoose.mongo.MongoNetworkTimeoutError('connection 7 to 127.0.0.1:27017 timed out');
      }
      return result;
    } as typeof insertMany;
    const lostReply = { ...body, type: 'lost.reply', userIds: recipients.slice(0, 200) };
    const send = () =>
      fetch(`${herald.url}/api/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'idempotency-key': 'lost-1' },
        body: JSON.stringify(lostReply),
      });
    try {
      const first = await send();
      expect(first.status).toBe(503);
      expect(lost).toBe(1);
      // The recipient looks at the bell meanwhile: counts read now already include the stored copy.
      const countsOf = async (userId: string) => {
        const token = createTokenSigner({ secret: TEST_JWT_SECRET, ttlSeconds: 60 }).sign({ userId, name: userId }).token;
        return (await fetch(`${herald.url}/api/notifications/counts`, { headers: { authorization: `Bearer ${token}` } })).json();
      };
      const truth = () => inspector.collection('notifications').countDocuments({ userId: recipients[0], readAt: null, archivedAt: null });
      expect(await countsOf(recipients[0]!)).toMatchObject({ unread: await truth() });
      const retry = await send();
      expect(retry.status).toBe(201);
      // The retry finds its copies stored; counting them again would show one more than there is.
      expect(await countsOf(recipients[0]!)).toMatchObject({ unread: await truth() });
      const replayed = await send();
      expect(replayed.status).toBe(201);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      Collection.insertMany = insertMany;
    }
    const copies = await copiesPerRecipient('lost.reply');
    expect(copies).toHaveLength(200);
    expect(copies.filter((user) => user.copies !== 1)).toEqual([]);
  });
});
