import { cpuMeter, type CpuGroup } from '../lib/cpu';
import type { ScenarioResult } from '../lib/result';
import type { ServerUnderTest } from '../lib/systems';
import type { ClientSpec } from '../workers/clients';
import { connectAll, type ClientWorker } from './context';

/**
 * Server heap per idle authenticated socket: heap after full GCs with every
 * socket connected (the lowest of three samples), minus the heap before the first one, divided by the count.
 * Each socket is a distinct user, so the figure includes its room, its user
 * channel subscription and the gateway's per-socket bookkeeping.
 */
export async function measureIdleSockets(ctx: {
  server: ServerUnderTest;
  workers: ClientWorker[];
  users: ClientSpec[];
  cpuGroups: CpuGroup[];
}): Promise<ScenarioResult> {
  const { server, gateway } = { server: ctx.server, gateway: ctx.server.gateway };
  const before = await server.memory();
  const meter = cpuMeter(ctx.cpuGroups);
  const connect = await connectAll(ctx.workers, ctx.users, `connecting ${ctx.users.length} sockets`, { system: server.client });
  const cpu = meter.stop();
  // Herald's staleness check runs every second over every socket: its cost at this many users, while idle.
  const checksBefore = await gateway?.call('stats', undefined);
  await new Promise((r) => setTimeout(r, 5000));
  // Sampled three times, a second apart, each after full collections: the lowest is what the sockets
  // hold. A sample taken while a periodic check was reading every socket's user (its arrays and its
  // Redis reply still in flight) also counts that garbage-to-be: about 1 KB a socket in one run of six.
  let after = await server.memory();
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const next = await server.memory();
    if ((next.heapUsed ?? next.rss) < (after.heapUsed ?? after.rss)) after = next;
  }
  const checksAfter = await gateway?.call('stats', undefined);
  const checks = checksAfter && checksBefore ? checksAfter.stalenessChecks - checksBefore.stalenessChecks : 0;
  const checkMs = checks > 0 ? (checksAfter!.stalenessCheckMs - checksBefore!.stalenessCheckMs) / checks : Number.NaN;
  if (after.sockets !== ctx.users.length) throw new Error(`${server.name} holds ${after.sockets} sockets, expected ${ctx.users.length}`);
  const n = ctx.users.length;
  const heap = after.heapUsed !== undefined && before.heapUsed !== undefined ? (after.heapUsed - before.heapUsed) / n / 1024 : Number.NaN;
  return {
    id: 'idle-sockets',
    title: 'Idle sockets',
    system: server.name,
    setup: `${server.name}, 1 instance, ${n.toLocaleString('en')} authenticated sockets (one user each), ${ctx.workers.length} client processes`,
    figures: [
      { label: 'server heap per socket', value: heap, unit: 'KB', target: { op: '<=', value: 10 } },
      { label: 'server RSS per socket', value: (after.rss - before.rss) / n / 1024, unit: 'KB', target: { op: '<=', value: 16 } },
      { label: 'handshakes per second while connecting', value: connect.perSecond, unit: '/s' },
      ...(gateway ? [{ label: 'staleness check (each second, over every socket)', value: checkMs, unit: 'ms' }] : []),
    ],
    cpu,
    series: { heapBefore: before.heapUsed, heapAfter: after.heapUsed, rssBefore: before.rss, rssAfter: after.rss },
  };
}
