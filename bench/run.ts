// `npm run bench`: starts the real stack (redis-server, the MongoDB-wire database, gateway processes),
// drives it from client worker processes over loopback, prints the figures and writes them under
// bench/results/. `--quick` runs every scenario small (a smoke run); `--only=a,b` picks scenarios.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { machine, type CpuGroup } from './lib/cpu';
import { renderCpuTable, renderTable, writeReport, type BenchReport } from './lib/report';
import type { ScenarioResult } from './lib/result';
import { makeUsers, startClientWorkers, startDatabase, startGateways, startRedis, type Database } from './lib/stack';
import { FULL, QUICK, type ClientWorker, type Scale } from './scenarios/context';
import { measureIdleSockets } from './scenarios/idle-sockets';
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
  return {
    scale: quick ? QUICK : FULL,
    scaleName: quick ? 'quick' : 'full',
    only,
    out: outArg ?? path.join(ROOT, 'bench/results', quick ? 'quick' : 'latest'),
  };
}

export interface RunContext {
  db: Database;
  scale: Scale;
  workers: ClientWorker[];
}

export function cpuGroups(parts: {
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
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await db.stop();
  }
  report.durationSeconds = (Date.now() - started) / 1000;
  const files = writeReport(report, args.out, []);
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
