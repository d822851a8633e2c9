import type { ClientsApi, ClientSpec, System } from '../workers/clients';
import type { CpuShare } from '../lib/cpu';
import type { Cost } from '../lib/result';
import type { Worker } from '../lib/rpc';
import { progress } from '../lib/progress';
import { spread } from '../lib/stats';

export type ClientWorker = Worker<ClientsApi>;

/** How big each scenario runs: `full` is the numbers, `quick` a smoke run of the same code. */
export interface Scale {
  idleSockets: number;
  fanoutMessages: number;
  perUserUsers: number;
  perUserRates: number[];
  perUserStepMs: number;
  routingUsers: number;
  routingRounds: number;
  stormClients: number;
  stormMissed: number;
  stormTimeoutMs: number;
  /** Recipients of the off-page scenario (each with two push subscriptions and an address). */
  offPageUsers: number;
  /** `--scaling`: the socket counts the idle and fan-out scenarios run at. */
  scalingSockets: number[];
  /** `--scaling`: the gateway instance counts the per-user scenario runs with. */
  scalingInstances: number[];
}

export const FULL: Scale = {
  idleSockets: 10_000,
  fanoutMessages: 20,
  perUserUsers: 5_000,
  perUserRates: [250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_500, 15_000],
  perUserStepMs: 5000,
  routingUsers: 3_000,
  routingRounds: 2,
  stormClients: 5_000,
  stormMissed: 10,
  stormTimeoutMs: 120_000,
  offPageUsers: 1_000,
  scalingSockets: [1_000, 5_000, 10_000, 20_000],
  scalingInstances: [1, 2, 3],
};

export const QUICK: Scale = {
  idleSockets: 400,
  fanoutMessages: 5,
  perUserUsers: 300,
  perUserRates: [100, 200],
  perUserStepMs: 2000,
  routingUsers: 300,
  routingRounds: 2,
  stormClients: 200,
  stormMissed: 10,
  stormTimeoutMs: 60_000,
  offPageUsers: 50,
  scalingSockets: [100, 300],
  scalingInstances: [1, 2],
};

/** Connects every user through the workers (round robin), with a progress bar; throws if any failed. */
export async function connectAll(
  workers: ClientWorker[],
  users: ClientSpec[],
  label: string,
  options: { feed?: boolean; reconnection?: boolean; system?: System } = {},
) {
  const bar = progress(label, users.length);
  let done = 0;
  const onConnected = (n: unknown) => {
    done += n as number;
    bar.update(done);
  };
  for (const worker of workers) worker.on('connected', onConnected);
  const slices = spread(users, workers.length);
  const started = performance.now();
  const results = await Promise.all(
    workers.map((worker, i) => worker.call('connect', { clients: slices[i]!, concurrency: 50, ...options })),
  );
  const ms = performance.now() - started;
  const failed = results.reduce((n, r) => n + r.failed, 0);
  bar.done(failed > 0 ? `${failed} failed` : '');
  if (failed > 0) throw new Error(`${failed} of ${users.length} connections failed: ${results.flatMap((r) => r.errors).join('; ')}`);
  return { ms, perSecond: (users.length / ms) * 1000 };
}

/** Sum of a numeric field over every worker's answer. */
export async function totalReceived(
  workers: ClientWorker[],
): Promise<{ received: number; caughtUp: number; reconnected: number; sockets: number }> {
  const all = await Promise.all(workers.map((w) => w.call('received', undefined)));
  return all.reduce(
    (sum, r) => ({
      received: sum.received + r.received,
      caughtUp: sum.caughtUp + r.caughtUp,
      reconnected: sum.reconnected + r.reconnected,
      sockets: sum.sockets + r.sockets,
    }),
    { received: 0, caughtUp: 0, reconnected: 0, sockets: 0 },
  );
}

/** CPU-ms per delivery for each process group, from its share of a core over `seconds`. */
export function costPerDelivery(cpu: CpuShare[], seconds: number, deliveries: number): Cost[] {
  return cpu.map(({ name, percent }) => ({
    name,
    msPerDelivery: deliveries > 0 ? ((percent / 100) * seconds * 1000) / deliveries : Number.NaN,
  }));
}
