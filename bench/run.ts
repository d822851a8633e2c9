// `npm run bench`: starts the real stack (redis-server, the MongoDB-wire database, gateway processes),
// drives it from client worker processes over loopback, prints the figures and writes them under
// bench/results/. `--quick` runs every scenario small (a smoke run); `--only=a,b` picks scenarios;
// `--rates=1000,2000` sets the per-user steps; `--out=dir` writes the results elsewhere.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { machine, type CpuGroup } from './lib/cpu';
import { renderCpuTable, renderTable, writeReport, type BenchReport } from './lib/report';
import type { ScenarioResult } from './lib/result';
import { lineChart } from './lib/report';
import { makeUsers, startClientWorkers, startDatabase, startGateways, startPublisher, startRedis, type Database } from './lib/stack';
import { connectAll, FULL, QUICK, type ClientWorker, type Scale } from './scenarios/context';
import { measureIdleSockets } from './scenarios/idle-sockets';
import { measurePerUser, type RateStep } from './scenarios/per-user';
import { measureRouting } from './scenarios/routing';
import { measureStorm } from './scenarios/storm';
import { measureTopicFanout } from './scenarios/topic-fanout';

const ROOT = path.resolve(__dirname, '..');
const SCENARIOS = ['idle', 'fanout', 'per-user', 'routing', 'storm'] as const;
type ScenarioId = (typeof SCENARIOS)[number];
/** Client processes: several, so no single event loop is what limits a figure. */
const CLIENT_WORKERS = 4;

function parseArgs(argv: string[]): { scale: Scale; scaleName: 'full' | 'quick'; only: Set<ScenarioId>; out: string } {
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const only = new Set<ScenarioId>(onlyArg ? (onlyArg.split(',') as ScenarioId[]) : SCENARIOS);
  for (const id of only) if (!SCENARIOS.includes(id)) throw new Error(`unknown scenario "${id}"; choose from ${SCENARIOS.join(', ')}`);
  const outArg = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  const ratesArg = argv.find((a) => a.startsWith('--rates='))?.slice('--rates='.length);
  const base = quick ? QUICK : FULL;
  const rates = ratesArg ? ratesArg.split(',').map(Number) : base.perUserRates;
  if (rates.some((r) => !Number.isInteger(r) || r <= 0)) throw new Error('--rates takes positive whole numbers, e.g. --rates=1000,2000');
  return {
    scale: { ...base, perUserRates: rates },
    scaleName: quick ? 'quick' : 'full',
    only,
    out: outArg ?? path.join(ROOT, 'bench/results', quick ? 'quick' : 'latest'),
  };
}

interface RunContext {
  db: Database;
  scale: Scale;
  workers: ClientWorker[];
}

function cpuGroups(parts: {
  gateways?: { pid: number }[];
  workers?: { pid: number }[];
  publisher?: { pid: number };
  redisPid?: number;
  dbPid?: number;
}): CpuGroup[] {
  const groups: CpuGroup[] = [];
  if (parts.gateways) groups.push({ name: 'gateways', pids: parts.gateways.map((g) => g.pid) });
  if (parts.workers) groups.push({ name: 'client processes', pids: parts.workers.map((w) => w.pid) });
  if (parts.publisher) groups.push({ name: 'publisher', pids: [parts.publisher.pid] });
  if (parts.redisPid) groups.push({ name: 'redis', pids: [parts.redisPid] });
  if (parts.dbPid) groups.push({ name: 'database', pids: [parts.dbPid] });
  return groups;
}

async function idleAndFanout(ctx: RunContext, run: { idle: boolean; fanout: boolean }): Promise<ScenarioResult[]> {
  const redis = await startRedis();
  const [gateway] = await startGateways(1, { mongodbUri: ctx.db.freshUri('single'), redisUrl: redis.url });
  try {
    const users = makeUsers(ctx.scale.idleSockets, () => gateway!.url);
    const groups = cpuGroups({
      gateways: [gateway!],
      workers: ctx.workers,
      redisPid: redis.pid,
      ...(ctx.db.pid ? { dbPid: ctx.db.pid } : {}),
    });
    const results: ScenarioResult[] = [];
    console.error(`\n${run.idle ? 'Idle sockets' : 'Topic fan-out'}: ${users.length} sockets on one gateway`);
    const idle = await measureIdleSockets({ gateway: gateway!, workers: ctx.workers, users, cpuGroups: groups });
    if (run.idle) results.push(idle);
    if (run.fanout) {
      console.error(`\nTopic fan-out: one topic, ${users.length} subscribers`);
      results.push(
        await measureTopicFanout({
          gateway: gateway!,
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
    await gateway!.call('close', undefined).catch(() => undefined);
    await gateway!.stop();
    await redis.stop();
  }
}

/** One gateway and one publisher process on a fresh Redis and database, for the scenarios that publish. */
async function withPublishingStack<T>(
  ctx: RunContext,
  label: string,
  users: number,
  run: (parts: {
    gateway: Awaited<ReturnType<typeof startGateways>>[number];
    publisher: Awaited<ReturnType<typeof startPublisher>>;
    mongodbUri: string;
    userIds: string[];
    cpuGroups: CpuGroup[];
  }) => Promise<T>,
  options: { feed?: boolean; reconnection?: boolean } = {},
): Promise<T> {
  const redis = await startRedis();
  const mongodbUri = ctx.db.freshUri(label);
  const [gateway] = await startGateways(1, { mongodbUri, redisUrl: redis.url });
  const publisher = await startPublisher({ mongodbUri, redisUrl: redis.url });
  try {
    const specs = makeUsers(users, () => gateway!.url);
    await connectAll(ctx.workers, specs, `connecting ${users} sockets`, options);
    const groups = cpuGroups({
      gateways: [gateway!],
      workers: ctx.workers,
      publisher,
      redisPid: redis.pid,
      ...(ctx.db.pid ? { dbPid: ctx.db.pid } : {}),
    });
    return await run({ gateway: gateway!, publisher, mongodbUri, userIds: specs.map((u) => u.userId), cpuGroups: groups });
  } finally {
    await Promise.all(ctx.workers.map((w) => w.call('closeAll', undefined)));
    await publisher.call('close', undefined).catch(() => undefined);
    await publisher.stop();
    await gateway!.call('close', undefined).catch(() => undefined);
    await gateway!.stop();
    await redis.stop();
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
  const storm = report.scenarios.find((s) => s.id === 'storm');
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
  const db = await startDatabase();
  const workers = await startClientWorkers(CLIENT_WORKERS);
  const ctx: RunContext = { db, scale: args.scale, workers };
  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: 0,
    scale: args.scaleName,
    machine: machine(),
    database: db.name,
    redis: process.env.REDIS_URL
      ? 'REDIS_URL'
      : `redis-server ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? ''}`,
    scenarios: [],
    failures: [],
  };
  const attempt = async (id: string, run: () => Promise<ScenarioResult[]>) => {
    try {
      report.scenarios.push(...(await run()));
    } catch (error) {
      console.error(`\n${id} failed:`, error);
      report.failures.push({ id, error: error instanceof Error ? error.message : String(error) });
    }
  };
  try {
    if (args.only.has('idle') || args.only.has('fanout')) {
      await attempt('idle/fanout', () => idleAndFanout(ctx, { idle: args.only.has('idle'), fanout: args.only.has('fanout') }));
    }
    if (args.only.has('per-user')) {
      console.error(`\nPer-user notifications: ${args.scale.perUserUsers} connected users, steady rates`);
      await attempt('per-user', () =>
        withPublishingStack(ctx, 'peruser', args.scale.perUserUsers, async (parts) => [
          await measurePerUser({ ...parts, workers, rates: args.scale.perUserRates, stepMs: args.scale.perUserStepMs }),
        ]),
      );
    }
    if (args.only.has('routing')) {
      await attempt('routing', async () => [
        await measureRouting({ db, workers, users: args.scale.routingUsers, rounds: args.scale.routingRounds }),
      ]);
    }
    if (args.only.has('storm')) {
      console.error(`\nReconnect storm: ${args.scale.stormClients} clients`);
      await attempt('storm', () =>
        withPublishingStack(
          ctx,
          'storm',
          args.scale.stormClients,
          async (parts) => [
            await measureStorm({ ...parts, workers, missed: args.scale.stormMissed, timeoutMs: args.scale.stormTimeoutMs }),
          ],
          { feed: true, reconnection: true },
        ),
      );
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await db.stop();
  }
  report.durationSeconds = (Date.now() - started) / 1000;
  const files = writeReport(report, args.out, charts(report));
  console.log(`\nHerald benchmark, ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.database}, ${report.redis}\n`);
  console.log(renderTable(report));
  console.log(`\nCPU while measuring (100% = one core):\n\n${renderCpuTable(report)}`);
  console.log(`\nWritten: ${path.relative(ROOT, files.json)}, ${path.relative(ROOT, files.html)}`);
  if (report.failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
