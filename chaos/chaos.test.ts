import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { io } from 'socket.io-client';
import { FeedClient, type FeedSocket } from '../client/src/notifications/core/feed-client';
import { createHeraldPublisher, type HeraldPublisher } from '../server/src/herald-publisher';
import { startFerretDb, type LocalFerretDb } from '../server/src/local-services/ferretdb';
import { freePort } from '../server/src/local-services/free-port';
import { startRedisServer, type LocalRedis } from '../server/src/local-services/redis-server';
import { createLogger } from '../server/src/platform/logger';
import { openInspector } from '../server/test/support/database';
import { TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from '../server/test/support/herald';
import { spawnGateway, type GatewayProcess } from '../server/test/support/process-gateway';
import { startBalancer, type Balancer } from '../server/test/support/tcp-balancer';
import jwt from 'jsonwebtoken';
import { feedKey, splitFeedKey } from '@herald/shared';

/**
 * The chaos test: 3 gateway processes behind a loopback balancer, 200 clients (the real FeedClient)
 * that also drop and reconnect, two publishers (createHeraldPublisher in this process; HTTP with
 * idempotency keys and retries), while a scheduler restarts Redis, pauses the database, kills and
 * restarts gateways and drops clients. When the faults stop, a checker compares, per user, what the
 * database holds with what each client applied: nothing missing, nothing doubled, unread counts equal.
 *
 * CHAOS_SECONDS (default 60) sets how long faults run; CHAOS_SEED replays a run.
 */
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** CHAOS_FAULTS (comma-separated) narrows the faults injected, to find which one breaks a run. */
const ALL_FAULTS = ['redis-restart', 'db-pause', 'gateway-kill', 'client-drop'] as const;
const FAULTS = (process.env.CHAOS_FAULTS?.split(',') ?? ALL_FAULTS).map((name) => {
  const fault = ALL_FAULTS.find((known) => known === name.trim());
  if (!fault) throw new Error(`CHAOS_FAULTS: unknown fault "${name}" (known: ${ALL_FAULTS.join(', ')})`);
  return fault;
});
const USERS = 100;
const CLIENTS = 200;
/** After the faults: how long everything has to settle, and how long a client has after that. */
const SETTLE_MS = 15_000;

/** mulberry32: a small seeded PRNG, so a run reproduces from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Interval = { from: number; to: number };

/** How much of [from, to] the intervals cover (overlapping intervals counted once). */
function covered(from: number, to: number, intervals: Interval[]): number {
  const clipped = intervals
    .map((i) => ({ from: Math.max(from, i.from), to: Math.min(to, i.to) }))
    .filter((i) => i.to > i.from)
    .sort((a, b) => a.from - b.from);
  let total = 0;
  let end = from;
  for (const i of clipped) {
    if (i.to <= end) continue;
    total += i.to - Math.max(end, i.from);
    end = i.to;
  }
  return total;
}

/** The staleness bound the checker holds every answered notification to (README: "Bounded staleness"). */
const STALENESS_BOUND_MS = 5000;

/**
 * For each client's first application of a notification whose publish was answered: the time from the
 * answer to the application, less the time in between that Redis was down, the database paused or that
 * client offline. A notification applied before its publish was answered counts 0.
 */
function staleness(applied: { id: string; at: number; offline: Interval[] }[], answeredAt: Map<string, number>, outages: Interval[]) {
  const values: number[] = [];
  const examples: string[] = [];
  let unanswered = 0;
  for (const { id, at, offline } of applied) {
    const answered = answeredAt.get(id);
    if (answered === undefined) {
      unanswered++;
      continue;
    }
    const ms = at <= answered ? 0 : at - answered - covered(answered, at, [...outages, ...offline]);
    values.push(ms);
    if (ms > STALENESS_BOUND_MS && examples.length < 5) {
      examples.push(`stale: ${id} applied ${at - answered} ms after its answer, ${ms} ms of it with everything up`);
    }
  }
  values.sort((a, b) => a - b);
  const q = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? 0;
  return {
    summary: {
      measured: values.length,
      unanswered,
      p50: q(0.5),
      p99: q(0.99),
      max: values.at(-1) ?? 0,
      over5s: values.filter((ms) => ms > STALENESS_BOUND_MS).length,
    },
    examples,
  };
}

describe(`chaos (seed ${SEED}, ${SECONDS} s of faults)`, () => {
  // Two streams from the seed: the fault schedule replays exactly; the load's choices too, its timing not.
  const random = prng(SEED);
  const faultRandom = prng(SEED ^ 0x5bd1e995);
  const pick = <T>(items: readonly T[], from = random): T => items[Math.floor(from() * items.length)]!;
  const log: string[] = [];
  const note = (line: string) => log.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
  let dir: string;
  let debugAddr: string;
  let ferret: LocalFerretDb;
  let redis: LocalRedis;
  let gateways: GatewayProcess[] = [];
  let balancer: Balancer;
  let publisher: HeraldPublisher;
  let inspector: Connection;
  /** Each client's feed (`userId`: a user id, or `<tenant>/<userId>`), as the database keys it. */
  const clients: { userId: string; client: FeedClient; socket: FeedSocket; trace: string[] }[] = [];
  const users = Array.from({ length: USERS }, (_, i) => `chaos-${String(i).padStart(3, '0')}`);
  // A quarter of the users also have a feed in each of two workspaces: the same user ids, three feeds each.
  const TENANTS = ['chaos-acme', 'chaos-globex'];
  const tenantFeeds = new Map(TENANTS.map((tenant) => [tenant, users.slice(0, USERS / 4).map((userId) => feedKey(tenant, userId))]));
  const feeds = [...users, ...[...tenantFeeds.values()].flat()];
  /** A token for the feed's user, granting both tenants (as a host app would list its workspaces). */
  const tokenFor = (feed: string) => {
    const { userId } = splitFeedKey(feed);
    return jwt.sign({ name: userId, tenants: TENANTS }, TEST_JWT_SECRET, { algorithm: 'HS256', subject: userId, expiresIn: 3600 });
  };
  /** Delivery latencies (ms from stored to applied), counted once a client's first catch-up is done. */
  const latencies: number[] = [];
  /**
   * Staleness, asserted: for each notification whose publish was answered (so it was stored by then),
   * the time from that answer to each client applying it, less the time Redis was down, the database
   * paused or that client disconnected in between (nothing can arrive then).
   */
  const answeredAt = new Map<string, number>();
  const outages: { from: number; to: number }[] = [];
  const applied: { id: string; at: number; offline: { from: number; to: number }[] }[] = [];
  const caughtUp = new WeakSet<FeedClient>();
  /** With CHAOS_TRACE: the history of the first clients that applied a notification late. */
  const lateTraces: string[] = [];
  /** The load runs while this is set; the result was printed once this is. */
  let publishing = false;
  let reported = false;
  const counts = {
    published: 0,
    httpRetries: 0,
    httpGaveUp: 0,
    gatewayStartFailures: 0,
    inProcessFailed: 0,
    httpFailures: {} as Record<string, number>,
    faults: {} as Record<string, number>,
  };

  beforeAll(async () => {
    // The seed is what reproduces a failure.
    console.log(`chaos seed ${SEED} (CHAOS_SEED=${SEED} replays the schedule)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-chaos-'));
    // FerretDB's debug server (loopback, a free port unless CHAOS_FERRETDB_DEBUG_ADDR names one): its
    // metrics during the run, and its goroutines when a gateway cannot start (see diagnoseDatabase).
    debugAddr = process.env.CHAOS_FERRETDB_DEBUG_ADDR ?? `127.0.0.1:${await freePort()}`;
    ferret = await startFerretDb({ dataDir: path.join(dir, 'db'), debugAddr });
    redis = await startRedisServer();
    const env = { mongodbUri: `${ferret.url}chaos`, redisUrl: redis.url };
    gateways = await Promise.all([spawnGateway(env), spawnGateway(env), spawnGateway(env)]);
    balancer = await startBalancer(
      gateways.map((g) => g.port),
      { spread: true },
    );
    publisher = await createHeraldPublisher({ ...env, logger: createLogger('silent') });
    inspector = await openInspector(env.mongodbUri);
    for (let i = 0; i < CLIENTS; i++) {
      const userId = feeds[i % feeds.length]!;
      const { tenant } = splitFeedKey(userId);
      const socket: FeedSocket = io(balancer.url, {
        auth: { token: tokenFor(userId), ...(tenant ? { tenant } : {}) },
        transports: ['websocket'],
        forceNew: true,
        reconnectionDelay: 200,
        reconnectionDelayMax: 2000,
      });
      const client = new FeedClient(socket);
      // A short history per client, printed for a client that ends wrong.
      const trace: string[] = [];
      const at = () => new Date().toISOString().slice(14, 23);
      const update = client.update.bind(client);
      const seen = new Set<string>();
      const offline: { from: number; to: number }[] = [];
      socket.on('disconnect', () => offline.push({ from: Date.now(), to: Infinity }));
      socket.on('connect', () => {
        const last = offline.at(-1);
        if (last && last.to === Infinity) last.to = Date.now();
      });
      client.update = (state) => {
        update(state);
        // How long after it was stored each notification reached this client (live or by sync).
        for (const item of state.items) {
          if (seen.has(item.id)) continue;
          seen.add(item.id);
          if (!caughtUp.has(client)) continue;
          latencies.push(Date.now() - Date.parse(item.createdAt));
          applied.push({ id: item.id, at: Date.now(), offline });
          // A late one (before outages are taken off): this client's recent history, for the report.
          const answered = answeredAt.get(item.id);
          if (process.env.CHAOS_TRACE && answered !== undefined && Date.now() - answered > STALENESS_BOUND_MS && lateTraces.length < 8) {
            lateTraces.push(
              `late: ${item.id} (#${item.seq}) to ${userId}, ${Date.now() - answered} ms after its answer:\n  ${trace.join('\n  ')}`,
            );
          }
        }
        trace.push(`${at()} state unread=${state.unread} items=${state.items.length} lastSeq=${state.lastSeq}`);
        if (trace.length > 40) trace.shift();
      };
      socket.on('notification', (n) => trace.push(`${at()} live #${n.seq}`));
      socket.on('counts', (c) => trace.push(`${at()} counts ${c.unread}`));
      socket.on('notifications:resync', () => trace.push(`${at()} resync hint`));
      socket.on('connect', () => trace.push(`${at()} connect`));
      clients.push({ userId, socket, client, trace });
    }
  }, 120_000);

  afterAll(async () => {
    publishing = false;
    if (!reported) console.log(`chaos run ended early; its notes:\n${log.join('\n')}`);
    for (const { socket } of clients) socket.close();
    await publisher?.close().catch(() => undefined);
    await inspector?.close();
    await balancer?.close();
    for (const g of gateways) if (g.child.exitCode === null) g.child.kill('SIGKILL');
    ferret?.process.kill('SIGCONT');
    await redis?.stop();
    await ferret?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes over HTTP with an idempotency key, retrying (as told by 503/409, after Retry-After) up to 20 times. */
  async function publishOverHttp(key: string, userIds: string[], tenant?: string): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await fetch(`${balancer.url}/api/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'idempotency-key': key },
        body: JSON.stringify({ userIds, type: 'chaos.http', title: key, ...(tenant ? { tenant } : {}) }),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      if (res?.status === 201) {
        const at = Date.now();
        const body = (await res.json().catch(() => ({}))) as { notifications?: { id: string }[] };
        for (const { id } of body.notifications ?? []) answeredAt.set(id, at);
        return;
      }
      counts.httpRetries++;
      const why = res
        ? `${res.status} ${((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? ''}`
        : 'no answer';
      counts.httpFailures[why] = (counts.httpFailures[why] ?? 0) + 1;
      // As a well-behaved caller does: wait what Retry-After says (with jitter), else about a second.
      const retryAfter = Number(res?.headers.get('retry-after') ?? NaN);
      await sleep((Number.isFinite(retryAfter) ? retryAfter * 1000 : 1000) * (0.5 + random()));
    }
    counts.httpGaveUp++;
  }

  /** Kills a gateway and starts it again, retrying a start that fails as a process supervisor would. */
  async function restartGateway(index: number): Promise<void> {
    const old = gateways[index]!;
    old.child.kill('SIGKILL');
    await old.exited;
    for (let attempt = 1; ; attempt++) {
      try {
        gateways[index] = await spawnGateway({
          mongodbUri: `${ferret.url}chaos`,
          redisUrl: redis.url,
          port: old.port,
          readyTimeoutMs: 60_000,
        });
        return;
      } catch (error) {
        note(`gateway start ${attempt} failed: ${(error as Error).message.split('\n').slice(0, 2).join(' ')}`);
        counts.gatewayStartFailures++;
        await diagnoseDatabase(attempt);
        if (attempt === 5) {
          // What the database said lately, with the run's notes: why a gateway could not start.
          throw new Error(
            `${(error as Error).message}\n--- notes ---\n${log.join('\n')}\n--- FerretDB's last output ---\n${ferret.process.output().slice(-4000)}`,
            { cause: error },
          );
        }
        await sleep(1000 * attempt);
      }
    }
  }

  /**
   * Why the database does not answer a starting gateway: whether a fresh connection gets a ping and a
   * read through, and where every FerretDB goroutine waits (a dump written to $TMPDIR, kept, with
   * a count of those waiting on a lock or for a SQLite connection in the notes).
   */
  async function diagnoseDatabase(attempt: number): Promise<void> {
    const started = Date.now();
    const probe = await openInspector(`${ferret.url}chaos`)
      .then(async (connection) => {
        try {
          await connection.db!.admin().ping();
          const pinged = Date.now() - started;
          await connection.db!.collection('notification_sequences').findOne({}, { maxTimeMS: 5000 });
          return `ping ${pinged} ms, read ${Date.now() - started} ms`;
        } finally {
          await connection.close();
        }
      })
      .catch((error: unknown) => `failed after ${Date.now() - started} ms: ${(error as Error).message}`);
    note(`database probe: ${probe}`);
    const dump = await fetch(`http://${debugAddr}/debug/pprof/goroutine?debug=2`, { signal: AbortSignal.timeout(5000) })
      .then((res) => res.text())
      .catch((error: unknown) => `no dump: ${(error as Error).message}`);
    const file = path.join(os.tmpdir(), `chaos-ferretdb-goroutines-${SEED}-${attempt}.txt`);
    fs.writeFileSync(file, dump);
    const stacks = dump.split('\n\n');
    const waiting = (pattern: RegExp) => stacks.filter((stack) => pattern.test(stack)).length;
    note(
      `ferretdb goroutines: ${stacks.length}; on a mutex ${waiting(/sync\.\(\*Mutex\)\.Lock|sync\.\(\*RWMutex\)/)}, ` +
        `in herald's write lock ${waiting(/heraldWriteMu|handler\.\(\*Handler\)\.herald/)}, ` +
        `waiting for a SQLite connection ${waiting(/database\/sql\.\(\*DB\)\.conn/)}; dump in ${file}`,
    );
  }

  async function restartRedis(): Promise<void> {
    const port = redis.port;
    redis.process.kill('SIGKILL');
    await redis.process.exited;
    await sleep(500);
    redis = await startRedisServer({ port });
  }

  it(
    'ends with every client holding exactly what the database holds for its user',
    async () => {
      for (let i = 0; i < 300 && clients.some(({ client }) => client.connection !== 'connected'); i++) await sleep(100);
      for (const { client } of clients) caughtUp.add(client);
      const until = Date.now() + SECONDS * 1000;
      publishing = true;
      const load = (async () => {
        let n = 0;
        const inFlight = new Set<Promise<void>>();
        while (publishing) {
          // One publish goes to one tenant's feeds (two fifths of them to a workspace's).
          const roll = random();
          const tenant = roll < 0.2 ? TENANTS[0] : roll < 0.4 ? TENANTS[1] : undefined;
          const group = tenant ? tenantFeeds.get(tenant)! : users;
          const targets = [...new Set([pick(group), ...(random() < 0.3 ? [pick(group)] : [])].map((feed) => splitFeedKey(feed).userId))];
          const key = `k${SEED}-${n++}`;
          const work =
            random() < 0.5
              ? publishOverHttp(key, targets, tenant)
              : publisher
                  .publishNotification({ userIds: targets, type: 'chaos.direct', title: key, ...(tenant ? { tenant } : {}) })
                  .then(({ notifications }) => {
                    for (const { id } of notifications) answeredAt.set(id, Date.now());
                  })
                  .catch(() => void counts.inProcessFailed++);
          counts.published++;
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
          await sleep(40 + random() * 60);
        }
        await Promise.all(inFlight);
      })();

      const faults = FAULTS;
      let lastProgress = Date.now();
      // The load stops with the faults, also when a fault fails the run (it would publish forever).
      try {
        while (Date.now() < until) {
          await sleep(3000 + faultRandom() * 4000);
          if (Date.now() - lastProgress > 60_000) {
            lastProgress = Date.now();
            note(`progress: ${JSON.stringify({ ...counts, latencies: latencies.length })}`);
          }
          if (process.env.CHAOS_TRACE) {
            // Each gateway's sync and hint counters, as the run goes (written at once, not at the end).
            const figures = await Promise.all(
              gateways.map((g) =>
                g
                  .metrics()
                  .then((text) =>
                    text
                      .split('\n')
                      .filter((line) => /^herald_(sync_requests|staleness_hints)_total /.test(line))
                      .join(' '),
                  )
                  .catch(() => 'down'),
              ),
            );
            fs.appendFileSync(path.join(os.tmpdir(), 'chaos-progress.log'), `${new Date().toISOString()} ${figures.join(' | ')}\n`);
          }
          const fault = pick(faults, faultRandom);
          counts.faults[fault] = (counts.faults[fault] ?? 0) + 1;
          note(fault);
          const from = Date.now();
          if (fault === 'redis-restart') {
            await restartRedis();
            outages.push({ from, to: Date.now() });
          } else if (fault === 'db-pause') {
            ferret.process.kill('SIGSTOP');
            await sleep(1000 + faultRandom() * 4000);
            ferret.process.kill('SIGCONT');
            outages.push({ from, to: Date.now() });
          } else if (fault === 'gateway-kill') await restartGateway(Math.floor(faultRandom() * gateways.length));
          else for (let i = 0; i < 20; i++) pick(clients, faultRandom).socket.io.engine?.close();
        }
      } finally {
        publishing = false;
      }
      await load;
      note('faults stopped; settling');

      // Everyone connected and caught up, then compare.
      const deadline = Date.now() + SETTLE_MS + 30_000;
      const fresh = () => ({ missing: 0, extra: 0, doubled: 0, countMismatches: 0, examples: [] as string[] });
      let report = fresh();
      for (let round = 0; ; round++) {
        await sleep(1000);
        if (round > 0) report = fresh();
        const stored = await inspector
          .collection('notifications')
          .find({ gap: { $exists: false } }, { projection: { _id: 1, userId: 1, title: 1, readAt: 1 } })
          .toArray();
        const byUser = new Map<string, string[]>();
        const titles = new Map<string, number>();
        for (const doc of stored) {
          byUser.set(doc.userId as string, [...(byUser.get(doc.userId as string) ?? []), String(doc._id)]);
          const copy = `${doc.userId as string}|${doc.title as string}`;
          titles.set(copy, (titles.get(copy) ?? 0) + 1);
        }
        for (const [copy, n] of titles) {
          if (n > 1 && copy.includes('|k')) {
            report.doubled++;
            if (report.examples.length < 5) report.examples.push(`doubled ${copy} x${n}`);
            if (process.env.CHAOS_TRACE && report.examples.length < 8) {
              const [userId, title] = copy.split('|');
              const copies = await inspector.collection('notifications').find({ userId, title }).toArray();
              report.examples.push(JSON.stringify({ copies: copies.map((c) => [c.seq, c.createdAt, c.key, c.request]) }));
            }
          }
        }
        for (const { userId, client, trace } of clients) {
          const want = new Set(byUser.get(userId) ?? []);
          const have = new Set(client.state.items.map((item) => item.id));
          for (const id of want) if (!have.has(id)) report.missing++;
          for (const id of have) if (!want.has(id)) report.extra++;
          if (client.state.unread !== want.size) {
            report.countMismatches++;
            if (report.examples.length < 5) {
              // The server's answer tells a stale server-side count from a client that applied counts out of order.
              const { tenant } = splitFeedKey(userId);
              const served = await fetch(`${balancer.url}/api/notifications/counts`, {
                headers: { authorization: `Bearer ${tokenFor(userId)}`, ...(tenant ? { 'herald-tenant': tenant } : {}) },
              })
                .then((res) => res.text())
                .catch((error: Error) => error.message);
              report.examples.push(`${userId}: unread ${client.state.unread}, stored unread ${want.size}, server says ${served}`);
              if (process.env.CHAOS_TRACE) {
                const docs = await inspector
                  .collection('notifications')
                  .find({ userId }, { projection: { seq: 1, createdAt: 1, gap: 1, title: 1 } })
                  .sort({ seq: 1 })
                  .toArray();
                const rows = docs.map(
                  (d) => `#${d.seq as number} ${(d.createdAt as Date).toISOString().slice(14, 23)} ${d.gap ? 'gap' : (d.title as string)}`,
                );
                report.examples.push(`trace:\n${trace.join('\n')}\nstored:\n${rows.join('\n')}`);
              }
            }
          }
          if ((report.missing || report.extra) && report.examples.length < 5) {
            report.examples.push(`${userId}: ${[...want].filter((id) => !have.has(id)).length} missing, connection ${client.connection}`);
          }
        }
        if ((report.missing === 0 && report.extra === 0 && report.countMismatches === 0) || Date.now() > deadline) break;
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      const stale = staleness(applied, answeredAt, outages);
      const summary = {
        seed: SEED,
        seconds: SECONDS,
        ...counts,
        // From createdAt, not asserted: it includes time an insert waited in the database and every outage.
        deliveryMs: {
          p50: at(0.5),
          p99: at(0.99),
          max: sorted.at(-1) ?? 0,
          over5s: sorted.filter((ms) => ms > 5000).length,
          applied: sorted.length,
        },
        stalenessMs: stale.summary,
        stored: await inspector.collection('notifications').countDocuments({ gap: { $exists: false } }),
        ...report,
      };
      // The run's figures are its result.
      reported = true;
      console.log(
        `chaos result ${JSON.stringify({ ...summary, examples: undefined })}\n${[...report.examples, ...stale.examples].join('\n')}\n${log.join('\n')}`,
      );
      if (process.env.CHAOS_TRACE) {
        for (const g of gateways) fs.writeFileSync(path.join(os.tmpdir(), `chaos-gateway-${g.port}.log`), g.output());
        if (lateTraces.length > 0) console.log(lateTraces.join('\n'));
      }
      expect({
        missing: report.missing,
        extra: report.extra,
        doubled: report.doubled,
        countMismatches: report.countMismatches,
        staleOver5s: stale.summary.over5s,
      }).toEqual({ missing: 0, extra: 0, doubled: 0, countMismatches: 0, staleOver5s: 0 });
    },
    // After the faults: in-flight retries, the settle and the checks, on a machine the run has loaded.
    (SECONDS + 600) * 1000,
  );
});
