// A backend service for the bench: publishes through createHeraldPublisher (MongoDB + Redis, no HTTP
// hop), the way README tells Node services to, either in bulk or at a steady open-loop rate.
import { createHeraldPublisher, type HeraldPublisher } from '../../server/src/herald-publisher';
import { createLogger } from '../../server/src/platform/logger';
import { serve } from '../lib/rpc';
import { now, Samples, sleep } from '../lib/stats';

function publisherApi(herald: HeraldPublisher) {
  return {
    /** `rounds` notifications to every user, `perCall` recipients per publishNotification call, `concurrency` calls at a time. */
    async bulk(params: { userIds: string[]; rounds: number; perCall: number; concurrency: number; type: string }) {
      const calls: string[][] = [];
      for (let round = 0; round < params.rounds; round++) {
        for (let i = 0; i < params.userIds.length; i += params.perCall) calls.push(params.userIds.slice(i, i + params.perCall));
      }
      let stored = 0;
      let next = 0;
      const started = now();
      await Promise.all(
        Array.from({ length: params.concurrency }, async () => {
          while (next < calls.length) {
            const userIds = calls[next++]!;
            const result = await herald.publishNotification({
              userIds,
              type: params.type,
              title: 'Bench notification',
              data: { t: now() },
            });
            stored += result.notifications.length;
          }
        }),
      );
      return { stored, ms: now() - started };
    },

    /**
     * Open loop: calls are issued on schedule whether or not earlier ones have finished, one recipient
     * each, round robin over the users; data.t is the moment of the call. In-flight calls are capped, and
     * calls that could not be issued under the cap are counted, not queued.
     */
    async rate(params: { userIds: string[]; perSecond: number; durationMs: number; maxInFlight: number; type: string }) {
      let issued = 0;
      let completed = 0;
      let failed = 0;
      let skipped = 0;
      let inFlight = 0;
      let maxInFlight = 0;
      let cursor = 0;
      const errors = new Set<string>();
      const callMs = new Samples();
      const started = now();
      const cpuBefore = process.cpuUsage();
      for (;;) {
        const elapsed = now() - started;
        if (elapsed >= params.durationMs) break;
        const due = Math.floor((elapsed / 1000) * params.perSecond) - issued - skipped;
        for (let k = 0; k < due; k++) {
          if (inFlight >= params.maxInFlight) {
            skipped++;
            continue;
          }
          const userId = params.userIds[cursor++ % params.userIds.length]!;
          const t = now();
          issued++;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          herald
            .publishNotification({ userIds: [userId], type: params.type, title: 'Bench notification', data: { t } })
            .then(
              () => {
                completed++;
                callMs.push(now() - t);
              },
              (error: Error) => {
                failed++;
                errors.add(error.message);
              },
            )
            .finally(() => inFlight--);
        }
        await sleep(2);
      }
      const issuedFor = now() - started;
      for (let waited = 0; inFlight > 0 && waited < 30_000; waited += 20) await sleep(20);
      const cpu = process.cpuUsage(cpuBefore);
      return {
        issued,
        completed,
        failed,
        skipped,
        maxInFlight,
        issuedForMs: issuedFor,
        callMs: callMs.take(),
        errors: [...errors].slice(0, 5),
        cpuPercent: ((cpu.user + cpu.system) / 1000 / (now() - started)) * 100,
      };
    },

    async close() {
      await herald.close();
    },
  };
}

export type PublisherApi = ReturnType<typeof publisherApi>;

async function main(): Promise<void> {
  const herald = await createHeraldPublisher({
    mongodbUri: process.env.MONGODB_URI!,
    redisUrl: process.env.REDIS_URL!,
    logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
  });
  serve(publisherApi(herald));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
