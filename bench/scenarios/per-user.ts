import { cpuMeter, type CpuGroup } from '../lib/cpu';
import { progress } from '../lib/progress';
import type { Cost, ScenarioResult } from '../lib/result';
import type { Worker } from '../lib/rpc';
import { commandsPer, opCounts } from '../lib/op-counts';
import { concat, sleep, summarize } from '../lib/stats';
import type { PublisherApi } from '../workers/publisher';
import { costPerDelivery, totalReceived, type ClientWorker } from './context';

const P99_TARGET_MS = 50;

export interface RateStep {
  offered: number;
  /** Notifications that reached their socket per second of publishing. */
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  /** Published (stored) but not received live within the drain time. */
  lost: number;
  failed: number;
  /** Calls the publisher could not even issue (too many in flight): the rate was not sustained. */
  skipped: number;
  /** How long publishNotification took to return (stored and handed to Redis). */
  callP50: number;
  callP99: number;
  publisherCpu: number;
  /** The publisher process's read and write system calls per call (Linux only): its round trips. */
  publisherSyscallsPerCall?: { reads: number; writes: number } | undefined;
  cpu: { name: string; percent: number }[];
  /** CPU-ms per delivered notification, per process group. */
  cost: Cost[];
  /** Redis commands executed during the step (INFO commandstats) per notification stored. */
  redisCommandsPerNotification?: number | undefined;
  /** Database data commands during the step (serverStatus metrics.commands) per notification stored. */
  databaseOpsPerNotification?: number | undefined;
  /** The Redis commands per notification by name (EVALSHA, PUBLISH, …), the busiest first. */
  redisCommandsByName?: Record<string, number> | undefined;
}

/**
 * An operation count per notification as a figure with its target (at most `most`), or nothing where it
 * was not counted. Its unit keeps two decimals in the table: 2.01 (a background check) is not 2.
 */
const countFigure = (label: string, value: number | undefined, most: number, note: string, unit: string) =>
  value === undefined ? [] : [{ label, value, unit, target: { op: '<=' as const, value: most }, note }];

/** The CPU-ms of everything but the client processes. */
const stackCost = (cost: Cost[]) => cost.filter((c) => c.name !== 'client processes').reduce((sum, c) => sum + c.msPerDelivery, 0);

/** The rates every server is also compared at, whatever its highest passing rate. */
export const CPU_COMPARED_AT = 2000;
export const P99_COMPARED_AT = 1000;

/**
 * Figures at fixed rates, so servers are set side by side under the same load: the stack's CPU per
 * notification at CPU_COMPARED_AT and p99 at P99_COMPARED_AT (NaN where the run did not step there).
 */
export function fixedRateFigures(steps: Pick<RateStep, 'offered' | 'p99' | 'cost'>[]): ScenarioResult['figures'] {
  const at = (rate: number) => steps.find((step) => step.offered === rate);
  const cpu = at(CPU_COMPARED_AT);
  const latency = at(P99_COMPARED_AT);
  return [
    {
      label: `stack CPU-ms per notification at ${CPU_COMPARED_AT.toLocaleString('en')}/s`,
      value: cpu ? stackCost(cpu.cost) : Number.NaN,
      unit: 'ms',
      note: 'every server at the same rate (client processes left out)',
    },
    { label: `p99 latency at ${P99_COMPARED_AT.toLocaleString('en')}/s`, value: latency?.p99 ?? Number.NaN, unit: 'ms' },
  ];
}

/**
 * A steady open-loop rate of single-recipient notifications (stored, then
 * pushed) to connected users, stepping the rate up until latency or
 * throughput gives out. A step passes when p99 publish-to-receive latency is
 * at most 50 ms and (nearly) everything offered was delivered.
 */
export async function measurePerUser(ctx: {
  /** The server measured (Herald unless `--compare` runs another). */
  system?: string;
  workers: ClientWorker[];
  publisher: Worker<PublisherApi>;
  userIds: string[];
  rates: number[];
  stepMs: number;
  cpuGroups: CpuGroup[];
  /** Where the step's Redis commands and database operations are counted (Herald's stack). */
  counted?: { redisUrl: string; mongodbUri?: string };
}): Promise<ScenarioResult> {
  // One notification to everyone first: seq counters exist and every path is warm before anything is timed.
  const { received: beforeWarm } = await totalReceived(ctx.workers);
  const warm = await ctx.publisher.call('bulk', { userIds: ctx.userIds, rounds: 1, perCall: 500, concurrency: 2, type: 'bench.warm' });
  if (warm.stored !== ctx.userIds.length) throw new Error(`warm-up stored ${warm.stored} of ${ctx.userIds.length}`);
  const warmed = beforeWarm + ctx.userIds.length;
  for (let waited = 0; waited < 30_000 && (await totalReceived(ctx.workers)).received < warmed; waited += 100) await sleep(100);
  // Then the steps' own path at the first step's rate, untimed: a process that has just started runs its
  // code unoptimised for its first thousands of calls, which is not what a publisher running for days
  // costs (of 250/s steps run back to back, the first measured 39-47% of a core of publisher CPU, later
  // ones 27-38%).
  const warmRun = await ctx.publisher.call('rate', {
    userIds: ctx.userIds,
    perSecond: ctx.rates[0]!,
    durationMs: ctx.stepMs,
    maxInFlight: Math.max(500, ctx.rates[0]! * 2),
    type: 'bench.warm',
  });
  const rateWarmed = warmed + warmRun.completed;
  for (let waited = 0; waited < 10_000 && (await totalReceived(ctx.workers)).received < rateWarmed; waited += 100) await sleep(100);

  const steps: RateStep[] = [];
  const bar = progress(`stepping the rate (${ctx.rates.length} steps)`, ctx.rates.length);
  for (const [i, rate] of ctx.rates.entries()) {
    bar.update(i, `${rate}/s`);
    await Promise.all(ctx.workers.map((w) => w.call('record', undefined)));
    const before = (await totalReceived(ctx.workers)).received;
    const opsBefore = ctx.counted ? await opCounts(ctx.counted) : undefined;
    const meter = cpuMeter(ctx.cpuGroups);
    const started = performance.now();
    const run = await ctx.publisher.call('rate', {
      userIds: ctx.userIds,
      perSecond: rate,
      durationMs: ctx.stepMs,
      maxInFlight: Math.max(500, rate * 2),
      type: 'bench.rate',
    });
    const cpu = meter.stop();
    const seconds = (performance.now() - started) / 1000;
    const opsAfter = ctx.counted ? await opCounts(ctx.counted) : undefined;
    const perNotification = (before: number | null | undefined, after: number | null | undefined) =>
      before === null || before === undefined || after === null || after === undefined || run.completed === 0
        ? undefined
        : (after - before) / run.completed;
    // Whatever was stored is pushed; give stragglers a moment before counting.
    for (let waited = 0; waited < 5000 && (await totalReceived(ctx.workers)).received - before < run.completed; waited += 50)
      await sleep(50);
    const taken = await Promise.all(ctx.workers.map((w) => w.call('take', undefined)));
    const latencies = concat(taken.map((t) => t.notifications));
    const s = summarize(latencies);
    const calls = summarize(run.callMs);
    const step: RateStep = {
      offered: rate,
      delivered: (latencies.length / run.issuedForMs) * 1000,
      p50: s.p50,
      p99: s.p99,
      max: s.max,
      lost: run.completed - latencies.length,
      failed: run.failed,
      skipped: run.skipped,
      callP50: calls.p50,
      callP99: calls.p99,
      publisherCpu: run.cpuPercent,
      publisherSyscallsPerCall: run.syscallsPerCall,
      cpu,
      cost: costPerDelivery(cpu, seconds, latencies.length),
      redisCommandsPerNotification: perNotification(opsBefore?.redis, opsAfter?.redis),
      databaseOpsPerNotification: perNotification(opsBefore?.database, opsAfter?.database),
      redisCommandsByName:
        opsBefore && opsAfter && run.completed > 0
          ? commandsPer(opsBefore.redisByCommand, opsAfter.redisByCommand, run.completed)
          : undefined,
    };
    steps.push(step);
    // Past saturation every further step only queues more: stop.
    if (step.p99 > 1000 || step.delivered < rate * 0.8 || step.skipped > 0) break;
    await sleep(500);
  }
  bar.done();
  const passing = steps.filter((s) => s.p99 <= P99_TARGET_MS && s.delivered >= s.offered * 0.95 && s.lost === 0 && s.failed === 0);
  const best = passing.at(-1);
  const top = steps.reduce((a, b) => (b.delivered > a.delivered ? b : a));
  // The operation counts at 2,000/s where the run reached it, else at the highest rate it stepped to.
  const counted = steps.find((s) => s.offered === 2000) ?? steps.filter((s) => s.redisCommandsPerNotification !== undefined).at(-1);
  const countedAt = counted ? ` (at ${counted.offered}/s, background checks included)` : '';
  const lastStep = steps.at(-1)!;
  const system = ctx.system ?? 'Herald';
  return {
    id: 'per-user',
    title: 'Per-user notifications',
    system,
    setup: `${system}, 1 instance, ${ctx.userIds.length.toLocaleString('en')} connected users, 1 publisher process (${system === 'Herald' ? 'createHeraldPublisher' : 'the same open-loop driver'}) publishing once per notification at a steady rate, ${ctx.stepMs / 1000} s per step`,
    figures: [
      {
        label: `highest rate with p99 ≤ ${P99_TARGET_MS} ms`,
        value: best?.offered ?? 0,
        unit: '/s',
        target: { op: '>=', value: 10_000 },
        note: best ? `p50 ${best.p50.toFixed(1)} ms, p99 ${best.p99.toFixed(1)} ms at that rate` : 'no step met the latency bound',
      },
      { label: 'p99 latency at that rate', value: best?.p99 ?? Number.NaN, unit: 'ms', target: { op: '<=', value: P99_TARGET_MS } },
      {
        label: 'highest rate delivered in full, however late',
        value: top.delivered,
        unit: '/s',
        note: `offered ${top.offered}/s, every notification delivered, but queued: p50 ${top.p50.toFixed(0)} ms, p99 ${top.p99.toFixed(0)} ms`,
      },
      {
        label: 'stack CPU-ms per notification',
        value: best ? stackCost(best.cost) : Number.NaN,
        unit: 'ms',
        target: { op: '<=', value: 0.1 },
        note: 'at the highest passing rate: server, publisher, Redis and database CPU over the step divided by the notifications delivered (client processes left out)',
      },
      ...fixedRateFigures(steps),
      ...countFigure(
        'Redis commands per notification',
        counted?.redisCommandsPerNotification,
        2,
        `INFO commandstats before and after the step${countedAt}`,
        'commands',
      ),
      ...countFigure(
        'database operations per notification',
        counted?.databaseOpsPerNotification,
        1,
        `serverStatus metrics.commands before and after the step${countedAt}`,
        'operations',
      ),
      {
        label: 'lost (stored, never pushed) or failed',
        value: steps.reduce((n, s) => n + Math.max(0, s.lost) + s.failed, 0),
        unit: '',
        target: { op: '<=', value: 0 },
      },
    ],
    cpu: lastStep.cpu,
    // The cost at the highest passing rate (else the first step): what a notification costs while it keeps up.
    cost: (best ?? steps[0]!).cost,
    series: { steps },
  };
}
