import { cpuMeter } from '../lib/cpu';
import type { ScenarioResult } from '../lib/result';
import { makeUsers, startGateways, startPublisher, startRedis, type Database } from '../lib/stack';
import { concat, sleep, summarize } from '../lib/stats';
import { connectAll, totalReceived, type ClientWorker } from './context';

const INSTANCES = 3;

export interface RoutingRun {
  mode: 'per-user' | 'broadcast';
  /** Per instance: Redis messages it received divided by the messages its own users needed. */
  ratios: number[];
  received: number[];
  needed: number[];
  p50: number;
  p99: number;
  gatewayCpu: number;
}

async function runMode(
  mode: 'per-user' | 'broadcast',
  ctx: { db: Database; workers: ClientWorker[]; users: number; rounds: number },
): Promise<RoutingRun> {
  const redis = await startRedis();
  const mongodbUri = ctx.db.freshUri(`routing_${mode.replace('-', '')}`);
  const gateways = await startGateways(INSTANCES, { mongodbUri, redisUrl: redis.url, extra: { ROUTING_MODE: mode } });
  const publisher = await startPublisher({ MONGODB_URI: mongodbUri, REDIS_URL: redis.url });
  try {
    const users = makeUsers(ctx.users, (i) => gateways[i % INSTANCES]!.url);
    await connectAll(ctx.workers, users, `${mode}: connecting ${users.length} sockets over ${INSTANCES} instances`);
    const before = await Promise.all(gateways.map((g) => g.call('stats', undefined)));
    await Promise.all(ctx.workers.map((w) => w.call('record', undefined)));
    const start = (await totalReceived(ctx.workers)).received;
    const meter = cpuMeter([{ name: 'gateways', pids: gateways.map((g) => g.pid) }]);
    const userIds = users.map((u) => u.userId);
    const { stored } = await publisher.call('bulk', { userIds, rounds: ctx.rounds, perCall: 100, concurrency: 4, type: 'bench.routing' });
    for (let waited = 0; waited < 30_000 && (await totalReceived(ctx.workers)).received - start < stored; waited += 50) await sleep(50);
    const [gatewayCpu] = meter.stop();
    const after = await Promise.all(gateways.map((g) => g.call('stats', undefined)));
    const latencies = concat((await Promise.all(ctx.workers.map((w) => w.call('take', undefined)))).map((t) => t.notifications));
    const received = after.map((a, i) => a.userMessagesReceived - before[i]!.userMessagesReceived);
    // Instance i holds users i, i+3, …; each of them got `rounds` notifications.
    const needed = gateways.map((_, i) => users.filter((_, u) => u % INSTANCES === i).length * ctx.rounds);
    const s = summarize(latencies);
    return {
      mode,
      ratios: received.map((r, i) => r / needed[i]!),
      received,
      needed,
      p50: s.p50,
      p99: s.p99,
      gatewayCpu: gatewayCpu!.percent,
    };
  } finally {
    await Promise.all(ctx.workers.map((w) => w.call('closeAll', undefined)));
    await publisher.call('close', undefined).catch(() => undefined);
    await publisher.stop();
    await Promise.all(gateways.map(async (g) => (await g.call('close', undefined).catch(() => undefined), g.stop())));
    await redis.stop();
  }
}

/**
 * Three instances, users spread evenly, every user gets the same number of
 * notifications. Routing cost per instance: Redis messages received divided by
 * the messages its own users needed. Run with per-user channels (the default)
 * and with the classic setup where every instance receives everything.
 */
export async function measureRouting(ctx: {
  db: Database;
  workers: ClientWorker[];
  users: number;
  rounds: number;
}): Promise<ScenarioResult> {
  console.error(`\nRouting: ${INSTANCES} instances, ${ctx.users} users, per-user channels`);
  const perUser = await runMode('per-user', ctx);
  console.error(`\nRouting: the same with ROUTING_MODE=broadcast (every instance receives everything)`);
  const broadcast = await runMode('broadcast', ctx);
  const worst = (run: RoutingRun) => Math.max(...run.ratios);
  return {
    id: 'routing',
    title: 'Routing, 3 instances',
    setup: `${INSTANCES} gateway instances on one Redis, ${ctx.users.toLocaleString('en')} users spread evenly, ${ctx.rounds} notifications each sent as fast as a publisher process can (100 recipients per call); run once per routing mode`,
    figures: [
      {
        label: 'Redis messages received / needed, per-user channels (worst instance)',
        value: worst(perUser),
        unit: 'x',
        target: { op: '<=', value: 1.05 },
        note: `per instance: ${perUser.received.map((r, i) => `${r}/${perUser.needed[i]}`).join(', ')}`,
      },
      {
        label: 'the same, classic broadcast setup (ROUTING_MODE=broadcast)',
        value: worst(broadcast),
        unit: 'x',
        note: `per instance: ${broadcast.received.map((r, i) => `${r}/${broadcast.needed[i]}`).join(', ')}`,
      },
      { label: 'gateway CPU while delivering, per-user channels', value: perUser.gatewayCpu, unit: '%' },
      { label: 'gateway CPU while delivering, broadcast', value: broadcast.gatewayCpu, unit: '%' },
      { label: 'publish-to-receive p99 of the burst, per-user channels', value: perUser.p99, unit: 'ms' },
      { label: 'publish-to-receive p99 of the burst, broadcast', value: broadcast.p99, unit: 'ms' },
    ],
    cpu: [{ name: 'gateways', percent: perUser.gatewayCpu }],
    series: { runs: [perUser, broadcast] },
  };
}
