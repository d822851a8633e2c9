// `npm run bench`: starts the real stack (redis-server, the MongoDB-wire database, gateway processes),
// drives it from client worker processes over loopback, prints the figures and writes them under
// bench/results/. `--quick` runs every scenario small (a smoke run); `--only=a,b` picks scenarios;
// `--rates=1000,2000` sets the per-user steps; `--out=dir` writes the results elsewhere; `--compare` runs
// the same scenarios against a plain Socket.IO + redis-adapter server and Centrifugo; `--profile[=dir]`
// writes CPU profiles of the gateway and publisher processes and prints their top functions; `--scaling`
// runs fan-out and memory at 1k-20k sockets and per-user throughput over 1-3 gateway instances;
// `--runs=3` runs every scenario three times and reports each figure's median and spread;
// `--switched-off` also runs Herald's per-user scenario without each of its background features;
// `--only=off-page` measures the Web Push messages and digest emails one gateway sends.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { machine, wakeupCostMicros, type CpuGroup } from './lib/cpu';
import { summarizeProfiles } from './lib/profile';
import {
  comparison,
  renderComparison,
  renderCostTable,
  renderScaling,
  renderSwitchedOff,
  renderCpuTable,
  renderTable,
  wakeupLine,
  writeReport,
  type BenchReport,
} from './lib/report';
import type { ScenarioResult } from './lib/result';
import { lineChart } from './lib/report';
import {
  CENTRIFUGO_VERSION,
  findOrBuildCentrifugo,
  heraldServer,
  PLAIN,
  startCentrifugo,
  startPlainServer,
  type ServerUnderTest,
} from './lib/systems';
import { makeUsers, startClientWorkers, startDatabase, startGateways, startPublisher, startRedis, type Database } from './lib/stack';
import { connectAll, FULL, QUICK, type ClientWorker, type Scale } from './scenarios/context';
import { measureIdleSockets } from './scenarios/idle-sockets';
import { measureOffPage } from './scenarios/off-page';
import { measurePerUser, type RateStep } from './scenarios/per-user';
import { measureRouting } from './scenarios/routing';
import { measureStorm } from './scenarios/storm';
import { measureTopicFanout } from './scenarios/topic-fanout';

const ROOT = path.resolve(__dirname, '..');
const SCENARIOS = ['idle', 'fanout', 'per-user', 'routing', 'storm', 'off-page'] as const;
type ScenarioId = (typeof SCENARIOS)[number];
/** Client processes: several, so no single event loop is what limits a figure. */
const CLIENT_WORKERS = 4;

function parseArgs(argv: string[]): {
  scale: Scale;
  scaleName: 'full' | 'quick';
  only: Set<ScenarioId>;
  out: string;
  compare: boolean;
  scaling: boolean;
  runs: number;
  switchedOff: boolean;
} {
  const quick = argv.includes('--quick');
  const compare = argv.includes('--compare');
  // --profile[=dir]: V8 CPU profiles of the gateway and publisher processes, summarised at the end.
  const profileArg = argv.find((a) => a === '--profile' || a.startsWith('--profile='));
  if (profileArg) process.env.BENCH_CPU_PROF = path.resolve(profileArg.split('=')[1] ?? path.join(ROOT, 'bench/results/profiles'));
  const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const scaling = argv.includes('--scaling');
  // `--scaling` alone runs only the sized runs; with --only (or --compare) the scenarios too.
  const only = new Set<ScenarioId>(
    onlyArg ? (onlyArg.split(',') as ScenarioId[]) : scaling && !argv.includes('--compare') ? [] : SCENARIOS,
  );
  // `--switched-off` compares per-user runs with Herald as shipped: that one runs too.
  const switchedOff = argv.includes('--switched-off');
  if (switchedOff) only.add('per-user');
  for (const id of only) if (!SCENARIOS.includes(id)) throw new Error(`unknown scenario "${id}"; choose from ${SCENARIOS.join(', ')}`);
  const outArg = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  const ratesArg = argv.find((a) => a.startsWith('--rates='))?.slice('--rates='.length);
  const base = quick ? QUICK : FULL;
  const rates = ratesArg ? ratesArg.split(',').map(Number) : base.perUserRates;
  if (rates.some((r) => !Number.isInteger(r) || r <= 0)) throw new Error('--rates takes positive whole numbers, e.g. --rates=1000,2000');
  const runsArg = argv.find((a) => a.startsWith('--runs='))?.slice('--runs='.length);
  const runs = runsArg === undefined ? 1 : Number(runsArg);
  if (!Number.isInteger(runs) || runs < 1 || runs > 9) throw new Error('--runs takes a whole number from 1 to 9, e.g. --runs=3');
  return {
    runs,
    switchedOff,
    scale: { ...base, perUserRates: rates },
    scaleName: quick ? 'quick' : 'full',
    only,
    compare,
    scaling,
    out: outArg ?? path.join(ROOT, 'bench/results', quick ? 'quick' : 'latest'),
  };
}

interface RunContext {
  db: Database;
  scale: Scale;
  workers: ClientWorker[];
}

/** Starts one server under test on a fresh Redis (and, for Herald, a fresh database named after `label`). */
interface ServerKind {
  name: string;
  /** Whether the database takes part (its CPU is counted). */
  usesDatabase: boolean;
  start(redisUrl: string, label: string): Promise<ServerUnderTest & { mongodbUri?: string }>;
}

function heraldKind(ctx: RunContext, instances = 1, extra: Record<string, string> = {}): ServerKind {
  return {
    name: 'Herald',
    usesDatabase: true,
    async start(redisUrl, label) {
      const mongodbUri = ctx.db.freshUri(label);
      const gateways = await startGateways(instances, { mongodbUri, redisUrl, extra });
      return Object.assign(heraldServer(gateways, { mongodbUri, redisUrl }), { mongodbUri });
    },
  };
}

/**
 * `--switched-off`: what Herald's per-user scenario runs without, one at a time, to measure what each
 * feature of the earlier issues costs (the per-address budgets are off in every bench run: all clients
 * share 127.0.0.1).
 */
const SWITCHES: { name: string; env: Record<string, string> }[] = [
  { name: 'the staleness check', env: { BENCH_SWITCHED_OFF: 'staleness' } },
  {
    name: 'the rate limits',
    env: { RATE_LIMIT_USER_REQUESTS: 'off', RATE_LIMIT_USER_EVENTS: 'off', RATE_LIMIT_SERVICE_REQUESTS: 'off' },
  },
  { name: 'the due-job poller (scheduled sends, snoozes, expiries)', env: { BENCH_SWITCHED_OFF: 'jobs' } },
];

/** Client i's server: spread over the instances. */
const urlOf = (server: ServerUnderTest) => (i: number) => (server.urls ?? [server.url])[i % (server.urls?.length ?? 1)]!;

function cpuGroups(parts: {
  server: ServerUnderTest;
  workers: { pid: number }[];
  publisher?: { pid: number };
  redisPid?: number;
  dbPid?: number;
}): CpuGroup[] {
  const groups: CpuGroup[] = [
    { name: 'server', pids: parts.server.pids },
    { name: 'client processes', pids: parts.workers.map((w) => w.pid) },
  ];
  if (parts.publisher) groups.push({ name: 'publisher', pids: [parts.publisher.pid] });
  if (parts.redisPid) groups.push({ name: 'redis', pids: [parts.redisPid] });
  if (parts.dbPid) groups.push({ name: 'database', pids: [parts.dbPid] });
  return groups;
}

async function idleAndFanout(ctx: RunContext, kind: ServerKind, run: { idle: boolean; fanout: boolean }): Promise<ScenarioResult[]> {
  const redis = await startRedis();
  const server = await kind.start(redis.url, 'single');
  try {
    const users = makeUsers(ctx.scale.idleSockets, urlOf(server));
    const groups = cpuGroups({
      server,
      workers: ctx.workers,
      ...(redis.pid ? { redisPid: redis.pid } : {}),
      ...(ctx.db.pid && kind.usesDatabase ? { dbPid: ctx.db.pid } : {}),
    });
    const results: ScenarioResult[] = [];
    console.error(`\n${kind.name}: ${run.idle ? 'idle sockets' : 'topic fan-out'}, ${users.length} sockets on one instance`);
    const idle = await measureIdleSockets({ server, workers: ctx.workers, users, cpuGroups: groups });
    if (run.idle) results.push(idle);
    if (run.fanout) {
      console.error(`\n${kind.name}: topic fan-out, one topic, ${users.length} subscribers`);
      results.push(
        await measureTopicFanout({
          server,
          workers: ctx.workers,
          subscribers: users.length,
          messages: ctx.scale.fanoutMessages,
          cpuGroups: groups,
        }),
      );
    }
    return results;
  } finally {
    await Promise.all(ctx.workers.map((w) => w.call('closeAll', undefined)));
    await server.stop();
    await redis.stop();
  }
}

/** One server and one publisher process on a fresh Redis (and database), for the scenarios that publish. */
async function withPublishingStack<T>(
  ctx: RunContext,
  kind: ServerKind,
  label: string,
  users: number,
  run: (parts: {
    server: ServerUnderTest & { mongodbUri?: string };
    publisher: Awaited<ReturnType<typeof startPublisher>>;
    userIds: string[];
    cpuGroups: CpuGroup[];
    /** Herald's Redis and database, where the per-user steps count their operations. */
    counted?: { redisUrl: string; mongodbUri?: string };
  }) => Promise<T>,
  options: { feed?: boolean; reconnection?: boolean } = {},
): Promise<T> {
  const redis = await startRedis();
  const server = await kind.start(redis.url, label);
  const publisher = await startPublisher(server.publisherEnv);
  try {
    const specs = makeUsers(users, urlOf(server));
    await connectAll(ctx.workers, specs, `connecting ${users} sockets`, { ...options, system: server.client });
    const groups = cpuGroups({
      server,
      workers: ctx.workers,
      publisher,
      ...(redis.pid ? { redisPid: redis.pid } : {}),
      ...(ctx.db.pid && kind.usesDatabase ? { dbPid: ctx.db.pid } : {}),
    });
    const counted = kind.usesDatabase
      ? { redisUrl: redis.url, ...(server.mongodbUri ? { mongodbUri: server.mongodbUri } : {}) }
      : undefined;
    return await run({ server, publisher, userIds: specs.map((u) => u.userId), cpuGroups: groups, ...(counted ? { counted } : {}) });
  } finally {
    await Promise.all(ctx.workers.map((w) => w.call('closeAll', undefined)));
    await publisher.call('close', undefined).catch(() => undefined);
    await publisher.stop();
    await server.stop();
    await redis.stop();
  }
}

/** Per user, the ids of the notifications of `type` the database holds: the storm's truth for Herald. */
async function storedNotifications(mongodbUri: string, type: string): Promise<Map<string, Set<string>>> {
  const inspector = await mongoose.createConnection(mongodbUri).asPromise();
  try {
    const docs = await inspector
      .collection('notifications')
      .find({ type }, { projection: { userId: 1 } })
      .toArray();
    const stored = new Map<string, Set<string>>();
    for (const doc of docs) {
      const userId = String(doc.userId);
      stored.set(userId, (stored.get(userId) ?? new Set()).add(String(doc._id)));
    }
    return stored;
  } finally {
    await inspector.close();
  }
}

function charts(report: BenchReport): string[] {
  const out: string[] = [];
  const perUser = report.scenarios.find((s) => s.id === 'per-user');
  const steps = (perUser?.series?.steps ?? []) as RateStep[];
  if (steps.length > 0) {
    out.push(
      lineChart({
        title: 'Per-user notifications: latency against offered rate',
        xLabel: 'offered notifications per second',
        yLabel: 'publish-to-receive latency (ms)',
        series: [
          { name: 'p50', points: steps.map((s) => [s.offered, s.p50]), color: '#2a7' },
          { name: 'p99', points: steps.map((s) => [s.offered, s.p99]), color: '#c60' },
        ],
        hLine: { y: 50, label: 'p99 target 50 ms' },
      }),
      lineChart({
        title: 'Per-user notifications: delivered against offered',
        xLabel: 'offered notifications per second',
        yLabel: 'delivered per second',
        series: [
          { name: 'delivered', points: steps.map((s) => [s.offered, s.delivered]), color: '#27c' },
          { name: 'offered', points: steps.map((s) => [s.offered, s.offered]), color: '#999' },
        ],
      }),
    );
  }
  const fanout = report.scenarios.find((s) => s.id === 'topic-fanout');
  const last = (fanout?.series?.lastReceiptMs ?? []) as number[];
  if (last.length > 0) {
    out.push(
      lineChart({
        title: 'Topic fan-out: when the last subscriber had each message',
        xLabel: 'message',
        yLabel: 'ms after publishing',
        series: [{ name: 'last receipt', points: last.map((v, i) => [i + 1, v]), color: '#27c' }],
        hLine: { y: 100, label: 'target 100 ms' },
      }),
    );
  }
  const storm = report.scenarios.find((s) => s.id === 'storm' && (s.system ?? 'Herald') === 'Herald');
  const times = (storm?.series?.caughtUpMs ?? []) as number[];
  if (times.length > 0) {
    const step = Math.max(1, Math.floor(times.length / 200));
    out.push(
      lineChart({
        title: 'Reconnect storm: clients caught up over time',
        xLabel: 'ms after every client reconnected',
        yLabel: 'clients caught up',
        series: [
          {
            name: 'caught up',
            points: times
              .filter((_, i) => i % step === 0 || i === times.length - 1)
              .map((t, i, a) => [t, ((i + 1) / a.length) * times.length]),
            color: '#27c',
          },
        ],
      }),
    );
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  console.error('Building shared/ (the gateway and the clients import it)…');
  execFileSync('npm', ['run', 'build', '-w', '@herald/shared'], { cwd: ROOT, stdio: 'ignore' });
  // Measured before anything else runs, on a quiet machine.
  const wakeups = args.scaleName === 'quick' ? 200 : 1000;
  const wakeup = { backToBackMicros: wakeupCostMicros(0, wakeups), after4msIdleMicros: wakeupCostMicros(4, wakeups) };
  const db = await startDatabase();
  const workers = await startClientWorkers(CLIENT_WORKERS);
  const ctx: RunContext = { db, scale: args.scale, workers };
  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: 0,
    scale: args.scaleName,
    runs: args.runs,
    machine: machine(),
    wakeup,
    database: db.name,
    redis: process.env.REDIS_URL
      ? 'REDIS_URL'
      : `redis-server ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? ''}`,
    scenarios: [],
    failures: [],
    notes: [],
  };
  // With --runs=N, every scenario of every server runs once per run, the servers taking turns within
  // a run, so the machine's drift over the invocation reaches each of them alike.
  let currentRun: number | undefined;
  const attempt = async (id: string, run: () => Promise<ScenarioResult[]>) => {
    try {
      report.scenarios.push(...(await run()).map((result) => (currentRun ? { ...result, run: currentRun } : result)));
    } catch (error) {
      console.error(`\n${id} failed:`, error);
      report.failures.push({
        id: currentRun ? `${id}, run ${currentRun}` : id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  const kinds: ServerKind[] = [heraldKind(ctx)];
  if (args.compare) {
    kinds.push({ name: PLAIN, usesDatabase: false, start: (redisUrl) => startPlainServer(redisUrl) });
    const centrifugo = findOrBuildCentrifugo((line) => console.error(line));
    if (centrifugo.binary) {
      for (const engine of ['memory', 'redis'] as const) {
        kinds.push({
          name: `Centrifugo (${engine === 'memory' ? 'memory' : 'Redis'} engine)`,
          usesDatabase: false,
          start: (redisUrl) => startCentrifugo(centrifugo.binary!, engine, redisUrl),
        });
      }
    } else {
      console.error(`Centrifugo skipped: ${centrifugo.skipped}`);
      report.notes.push(`Centrifugo ${CENTRIFUGO_VERSION} skipped: ${centrifugo.skipped}`);
    }
  }
  try {
    for (let run = 1; run <= args.runs; run++) {
      if (args.runs > 1) {
        currentRun = run;
        console.error(`\n=== Run ${run} of ${args.runs} ===`);
      }
      for (const kind of kinds) {
        const herald = kind.name === 'Herald';
        if (args.only.has('idle') || args.only.has('fanout')) {
          await attempt(`${kind.name} idle/fanout`, () =>
            idleAndFanout(ctx, kind, { idle: args.only.has('idle'), fanout: args.only.has('fanout') }),
          );
        }
        if (args.only.has('per-user')) {
          console.error(`\n${kind.name}: per-user notifications, ${args.scale.perUserUsers} connected users, steady rates`);
          await attempt(`${kind.name} per-user`, () =>
            withPublishingStack(ctx, kind, 'peruser', args.scale.perUserUsers, async (parts) => [
              await measurePerUser({
                ...parts,
                system: kind.name,
                workers,
                rates: args.scale.perUserRates,
                stepMs: args.scale.perUserStepMs,
              }),
            ]),
          );
        }
        if (args.only.has('routing') && herald) {
          await attempt('routing', async () => [
            await measureRouting({ db, workers, users: args.scale.routingUsers, rounds: args.scale.routingRounds }),
          ]);
        }
        if (args.only.has('off-page') && herald) {
          console.error(`\nHerald: Web Push and email, ${args.scale.offPageUsers} recipients`);
          await attempt('off-page', async () => [await measureOffPage({ db: ctx.db, users: args.scale.offPageUsers, browsers: 2 })]);
        }
        // The plain baseline keeps nothing for a client that was away: its storm is the reconnection
        // alone, the floor under any catch-up built on Socket.IO.
        if (args.only.has('storm')) {
          const plain = kind.name === PLAIN;
          console.error(`\n${kind.name}: reconnect storm, ${args.scale.stormClients} clients${plain ? ', reconnecting only' : ''}`);
          await attempt(`${kind.name} storm`, () =>
            withPublishingStack(
              ctx,
              kind,
              'storm',
              args.scale.stormClients,
              async (parts) => [
                await measureStorm({
                  ...parts,
                  workers,
                  missed: plain ? 0 : args.scale.stormMissed,
                  timeoutMs: args.scale.stormTimeoutMs,
                  ...(parts.server.mongodbUri ? { truth: () => storedNotifications(parts.server.mongodbUri!, 'bench.storm') } : {}),
                }),
              ],
              { feed: !plain, reconnection: true },
            ),
          );
        }
      }
      if (args.switchedOff) {
        for (const feature of SWITCHES) {
          console.error(`\nHerald without ${feature.name}: per-user notifications, ${args.scale.perUserUsers} connected users`);
          await attempt(`Herald without ${feature.name}`, () =>
            withPublishingStack(ctx, heraldKind(ctx, 1, feature.env), 'switched', args.scale.perUserUsers, async (parts) => [
              {
                ...(await measurePerUser({ ...parts, workers, rates: args.scale.perUserRates, stepMs: args.scale.perUserStepMs })),
                switchedOff: feature.name,
              },
            ]),
          );
        }
      }
    }
    currentRun = undefined;
    if (args.scaling) {
      // Herald at each size: fan-out and memory by socket count, per-user throughput by instance count.
      for (const sockets of args.scale.scalingSockets) {
        await attempt(`scaling ${sockets} sockets`, async () =>
          (
            await idleAndFanout({ ...ctx, scale: { ...ctx.scale, idleSockets: sockets } }, heraldKind(ctx), { idle: true, fanout: true })
          ).map((result) => ({ ...result, variant: `${sockets.toLocaleString('en')} sockets` })),
        );
      }
      for (const instances of args.scale.scalingInstances) {
        console.error(`\nHerald: per-user notifications over ${instances} gateway instance(s)`);
        await attempt(`scaling ${instances} instances`, () =>
          withPublishingStack(ctx, heraldKind(ctx, instances), 'scaling', args.scale.perUserUsers, async (parts) => [
            {
              ...(await measurePerUser({ ...parts, workers, rates: args.scale.perUserRates, stepMs: args.scale.perUserStepMs })),
              variant: `${instances} instance${instances === 1 ? '' : 's'}`,
            },
          ]),
        );
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await db.stop();
  }
  report.durationSeconds = (Date.now() - started) / 1000;
  if (args.compare) report.comparison = comparison(report);
  const files = writeReport(report, args.out, charts(report));
  console.log(`\nHerald benchmark, ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.database}, ${report.redis}`);
  if (report.wakeup) console.log(wakeupLine(report.wakeup));
  console.log('');
  console.log(renderTable(report));
  console.log(`\nCPU while measuring (100% = one core):\n\n${renderCpuTable(report)}`);
  console.log(`\nCPU-ms per delivered notification or message, per process:\n\n${renderCostTable(report)}`);
  if (args.compare) console.log(`\nSide by side (ratio: Herald's figure over the other's):\n\n${renderComparison(report)}`);
  if (args.scaling) console.log(`\nScaling (Herald):\n\n${renderScaling(report)}`);
  if (args.switchedOff) console.log(`\nHerald's per-user scenario with one feature switched off:\n\n${renderSwitchedOff(report)}`);
  for (const note of report.notes) console.log(note);
  if (process.env.BENCH_CPU_PROF && fs.existsSync(process.env.BENCH_CPU_PROF)) {
    const summary = summarizeProfiles(process.env.BENCH_CPU_PROF, ROOT);
    fs.writeFileSync(path.join(process.env.BENCH_CPU_PROF, 'top-functions.txt'), `${summary}\n`);
    console.log(`\nCPU profiles in ${path.relative(ROOT, process.env.BENCH_CPU_PROF)} (top self time per process):\n\n${summary}`);
  }
  console.log(`\nWritten: ${path.relative(ROOT, files.json)}, ${path.relative(ROOT, files.html)}`);
  if (report.failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
