import { cpuMeter, type CpuGroup } from '../lib/cpu';
import type { ScenarioResult } from '../lib/result';
import type { Gateway } from '../lib/stack';
import type { ClientSpec } from '../workers/clients';
import { connectAll, type ClientWorker } from './context';

/**
 * Server heap per idle authenticated socket: heap after full GCs with every
 * socket connected, minus the heap before the first one, divided by the count.
 * Each socket is a distinct user, so the figure includes its room, its user
 * channel subscription and the gateway's per-socket bookkeeping.
 */
export async function measureIdleSockets(ctx: {
  gateway: Gateway;
  workers: ClientWorker[];
  users: ClientSpec[];
  cpuGroups: CpuGroup[];
}): Promise<ScenarioResult> {
  const before = await ctx.gateway.call('collectGarbage', undefined);
  const meter = cpuMeter(ctx.cpuGroups);
  const connect = await connectAll(ctx.workers, ctx.users, `connecting ${ctx.users.length} sockets`);
  const cpu = meter.stop();
  // The staleness check runs every second over every socket: its cost at this many users, while idle.
  const checksBefore = await ctx.gateway.call('stats', undefined);
  await new Promise((r) => setTimeout(r, 5000));
  const after = await ctx.gateway.call('collectGarbage', undefined);
  const checks = after.stalenessChecks - checksBefore.stalenessChecks;
  const checkMs = checks > 0 ? (after.stalenessCheckMs - checksBefore.stalenessCheckMs) / checks : 0;
  if (after.sockets !== ctx.users.length) throw new Error(`the gateway holds ${after.sockets} sockets, expected ${ctx.users.length}`);
  const n = ctx.users.length;
  return {
    id: 'idle-sockets',
    title: 'Idle sockets',
    setup: `1 gateway instance, ${n.toLocaleString('en')} authenticated sockets (one user each), ${ctx.workers.length} client processes`,
    figures: [
      {
        label: 'server heap per socket',
        value: (after.heapUsed - before.heapUsed) / n / 1024,
        unit: 'KB',
        target: { op: '<=', value: 12 },
      },
      { label: 'server RSS per socket', value: (after.rss - before.rss) / n / 1024, unit: 'KB' },
      { label: 'handshakes per second while connecting', value: connect.perSecond, unit: '/s' },
      { label: 'staleness check (each second, over every socket)', value: checkMs, unit: 'ms' },
    ],
    cpu,
    series: {
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      rssBefore: before.rss,
      rssAfter: after.rss,
      userChannels: after.userChannels,
    },
  };
}
