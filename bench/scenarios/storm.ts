import { cpuMeter, type CpuGroup } from '../lib/cpu';
import { progress, waitWithProgress } from '../lib/progress';
import type { ScenarioResult } from '../lib/result';
import type { Worker } from '../lib/rpc';
import type { ServerUnderTest } from '../lib/systems';
import { concat, sleep, summarize } from '../lib/stats';
import type { PublisherApi } from '../workers/publisher';
import { totalReceived, type ClientWorker } from './context';

/**
 * Every client runs the real FeedClient (the browser's catch-up logic; for Centrifugo, its SDK's
 * recovery). All drop at once; while they are away each user gets `missed` notifications; then all
 * reconnect at the same moment and catch up. Exactness is checked against `truth` (for Herald, what the
 * database holds).
 *
 * With `missed: 0` and clients without a feed (the plain Socket.IO server, which keeps nothing for a
 * client that was away), only the reconnection is measured: what Socket.IO itself takes to let that
 * many clients back in at once on this machine, the floor under any catch-up built on it.
 */
export async function measureStorm(ctx: {
  server: ServerUnderTest;
  workers: ClientWorker[];
  publisher: Worker<PublisherApi>;
  /** What each user should end with; by default what the publisher was told it published. */
  truth?: () => Promise<Map<string, Set<string>>>;
  userIds: string[];
  missed: number;
  timeoutMs: number;
  cpuGroups: CpuGroup[];
}): Promise<ScenarioResult> {
  const n = ctx.userIds.length;
  // Everyone is connected and synced (their feeds are empty): now everyone drops.
  await Promise.all(ctx.workers.map((w) => w.call('drop', undefined)));
  for (let waited = 0; waited < 30_000 && (await ctx.server.memory()).sockets > 0; waited += 100) await sleep(100);

  const reconnectOnly = ctx.missed === 0;
  const sent = new Map<string, Set<string>>();
  if (!reconnectOnly) {
    const bar = progress(`publishing ${ctx.missed} to each of ${n} offline users`, ctx.missed);
    let published = 0;
    for (let round = 0; round < ctx.missed; round++) {
      const r = await ctx.publisher.call('bulk', {
        userIds: ctx.userIds,
        rounds: 1,
        perCall: 1000,
        concurrency: 2,
        type: 'bench.storm',
        ids: true,
      });
      published += r.stored;
      for (const [userId, ids] of Object.entries(r.byUser)) for (const id of ids) sent.set(userId, (sent.get(userId) ?? new Set()).add(id));
      bar.update(round + 1);
    }
    bar.done();
    if (published !== n * ctx.missed) throw new Error(`stored ${published}, expected ${n * ctx.missed}`);
  }

  const meter = cpuMeter(ctx.cpuGroups);
  await Promise.all(ctx.workers.map((w) => w.call('reconnect', { expectedItems: ctx.missed })));
  const wait = await waitWithProgress(
    reconnectOnly ? `${n} clients reconnect` : `${n} clients reconnect and catch up`,
    n,
    async () => {
      const total = await totalReceived(ctx.workers);
      return reconnectOnly ? total.reconnected : total.caughtUp;
    },
    { timeoutMs: ctx.timeoutMs, intervalMs: 100 },
  );
  const cpu = meter.stop();
  // Let anything late (a duplicate push, say) arrive before checking.
  await sleep(1000);

  const feeds = await Promise.all(ctx.workers.map((w) => w.call('feeds', undefined)));
  const reconnectedMs = Array.from(concat(feeds.map((f) => f.reconnectedMs))).sort((a, b) => a - b);
  const reconnected = summarize(reconnectedMs);
  const allReconnected = {
    label: 'all reconnected, before catching up',
    value: reconnected.count === n ? reconnected.max : Number.NaN,
    unit: 'ms',
    ...(reconnected.count === n ? {} : { note: `${reconnected.count} of ${n} reconnected` }),
  };
  if (reconnectOnly) {
    return {
      id: 'storm',
      title: 'Reconnect storm',
      system: ctx.server.name,
      setup: `${ctx.server.name}, 1 instance, ${n.toLocaleString('en')} clients drop at once and reconnect at the same moment (nothing to catch up: the server keeps nothing for them)`,
      figures: [allReconnected, { label: 'reconnected, p50 client', value: reconnected.p50, unit: 'ms' }],
      cpu,
      series: { reconnectedMs },
    };
  }
  const caughtUpMs = concat(feeds.map((f) => f.caughtUpMs));
  const stored = ctx.truth ? await ctx.truth() : sent;
  let exact = 0;
  let missing = 0;
  let extra = 0;
  let doubled = 0;
  for (const feed of feeds) {
    doubled += feed.liveDuplicates;
    for (const [userId, ids] of Object.entries(feed.items)) {
      const truth = stored.get(userId) ?? new Set<string>();
      const held = new Set(ids);
      doubled += ids.length - held.size;
      const miss = [...truth].filter((id) => !held.has(id)).length;
      const more = [...held].filter((id) => !truth.has(id)).length;
      missing += miss;
      extra += more;
      if (miss === 0 && more === 0 && ids.length === held.size) exact++;
    }
  }
  const s = summarize(caughtUpMs);
  return {
    id: 'storm',
    title: 'Reconnect storm',
    system: ctx.server.name,
    setup: `${ctx.server.name}, 1 instance, ${n.toLocaleString('en')} clients running the browser's FeedClient drop at once, miss ${ctx.missed} notifications each (${(n * ctx.missed).toLocaleString('en')} stored meanwhile), then reconnect at the same moment`,
    figures: [
      {
        label: 'all caught up, exactly, after reconnecting',
        value: wait.timedOut ? Number.NaN : s.max,
        unit: 'ms',
        target: { op: '<=', value: 1500 },
        ...(wait.timedOut ? { note: `${wait.done} of ${n} had caught up when the bench stopped waiting (${ctx.timeoutMs / 1000} s)` } : {}),
      },
      { label: 'caught up, p50 client', value: s.p50, unit: 'ms' },
      allReconnected,
      { label: 'clients whose feed equals the database exactly', value: exact, unit: '', target: { op: '>=', value: n } },
      {
        label: 'notifications missing / extra / doubled',
        value: missing + extra + doubled,
        unit: '',
        target: { op: '<=', value: 0 },
        note: `${missing} missing, ${extra} extra, ${doubled} doubled`,
      },
    ],
    cpu,
    series: { caughtUpMs: Array.from(caughtUpMs).sort((a, b) => a - b), reconnectedMs },
  };
}
