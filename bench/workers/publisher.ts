// A backend service for the bench: publishes through createHeraldPublisher (MongoDB + Redis, no HTTP
// hop), the way README tells Node services to, either in bulk or at a steady open-loop rate. With
// PUBLISH_TO=plain it emits through @socket.io/redis-emitter to the plain Socket.IO baseline instead,
// and with PUBLISH_TO=centrifugo it calls Centrifugo's HTTP API (`--compare`).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { createHeraldPublisher } from '../../server/src/herald-publisher';
import { createLogger } from '../../server/src/platform/logger';
import { serve } from '../lib/rpc';
import { now, Samples, sleep } from '../lib/stats';

/** What the scenarios need of a publisher: one call per notification, with its recipients. */
interface Sender {
  publishNotification(input: {
    userIds: string[];
    type: string;
    title: string;
    data: { t: number };
  }): Promise<{ notifications: { id: string; userId: string }[] }>;
  close(): Promise<void>;
}

/** The plain baseline: an emit to each recipient's room through Redis; nothing is stored. */
function plainSender(redisUrl: string): Sender {
  const redis = new Redis(redisUrl);
  const emitter = new Emitter(redis);
  return {
    async publishNotification({ userIds, type, title, data }) {
      const notifications = userIds.map((userId) => ({ id: randomUUID(), userId, type, title, data }));
      for (const notification of notifications) emitter.to(`user-${notification.userId}`).emit('notification', notification);
      return { notifications };
    },
    async close() {
      redis.disconnect();
    },
  };
}

/**
 * Centrifugo: a publish to each recipient's personal channel (history on, so a reconnect recovers it).
 * Calls made in the same turn of the event loop share one `/api/batch` request, as a service publishing
 * at this rate would send them.
 */
function centrifugoSender(apiUrl: string, apiKey: string): Sender {
  let queue: { commands: unknown[]; done: ((error?: Error) => void)[] } | undefined;
  const flush = async (batch: NonNullable<typeof queue>) => {
    try {
      const res = await fetch(`${apiUrl}/api/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ commands: batch.commands, parallel: true }),
      });
      const body = (await res.json()) as { replies?: { error?: { message: string } }[] };
      if (!res.ok) throw new Error(`centrifugo answered ${res.status}`);
      const failed = body.replies?.find((reply) => reply.error);
      for (const done of batch.done) done(failed?.error ? new Error(failed.error.message) : undefined);
    } catch (error) {
      for (const done of batch.done) done(error as Error);
    }
  };
  return {
    publishNotification({ userIds, type, title, data }) {
      const notifications = userIds.map((userId) => ({ id: randomUUID(), userId, type, title, data }));
      if (!queue) {
        const batch = (queue = { commands: [], done: [] });
        setImmediate(() => {
          queue = undefined;
          void flush(batch);
        });
      }
      for (const notification of notifications) {
        queue.commands.push({ publish: { channel: `personal:#${notification.userId}`, data: { id: notification.id, t: data.t } } });
      }
      const batch = queue;
      return new Promise((resolve, reject) => batch.done.push((error) => (error ? reject(error) : resolve({ notifications }))));
    },
    async close() {},
  };
}

/** This process's read and write system calls so far (Linux's /proc/self/io), or undefined elsewhere. */
function syscalls(): { reads: number; writes: number } | undefined {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1]);
    const counts = { reads: field('syscr'), writes: field('syscw') };
    return Number.isFinite(counts.reads) && Number.isFinite(counts.writes) ? counts : undefined;
  } catch {
    return undefined;
  }
}

function publisherApi(sender: Sender) {
  return {
    /** `rounds` notifications to every user, `perCall` recipients per publishNotification call, `concurrency` calls at a time. */
    async bulk(params: { userIds: string[]; rounds: number; perCall: number; concurrency: number; type: string; ids?: boolean }) {
      const calls: string[][] = [];
      for (let round = 0; round < params.rounds; round++) {
        for (let i = 0; i < params.userIds.length; i += params.perCall) calls.push(params.userIds.slice(i, i + params.perCall));
      }
      let stored = 0;
      let next = 0;
      /** With `ids`: per user, the ids of what was published to it. */
      const byUser: Record<string, string[]> = {};
      const started = now();
      await Promise.all(
        Array.from({ length: params.concurrency }, async () => {
          while (next < calls.length) {
            const userIds = calls[next++]!;
            const result = await sender.publishNotification({
              userIds,
              type: params.type,
              title: 'Bench notification',
              data: { t: now() },
            });
            stored += result.notifications.length;
            if (params.ids) for (const { id, userId } of result.notifications) (byUser[userId] ??= []).push(id);
          }
        }),
      );
      return { stored, ms: now() - started, byUser };
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
      const syscallsBefore = syscalls();
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
          sender
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
      const syscallsAfter = syscalls();
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
        // Each read is mostly a reply the process woke up for: the round trips a call waits on, in turn.
        syscallsPerCall:
          syscallsBefore && syscallsAfter && completed > 0
            ? {
                reads: (syscallsAfter.reads - syscallsBefore.reads) / completed,
                writes: (syscallsAfter.writes - syscallsBefore.writes) / completed,
              }
            : undefined,
      };
    },

    async close() {
      await sender.close();
    },
  };
}

export type PublisherApi = ReturnType<typeof publisherApi>;

async function main(): Promise<void> {
  const to = process.env.PUBLISH_TO ?? 'herald';
  const sender: Sender =
    to === 'plain'
      ? plainSender(process.env.REDIS_URL!)
      : to === 'centrifugo'
        ? centrifugoSender(process.env.CENTRIFUGO_API_URL!, process.env.CENTRIFUGO_API_KEY!)
        : await createHeraldPublisher({
            mongodbUri: process.env.MONGODB_URI!,
            redisUrl: process.env.REDIS_URL!,
            logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
          });
  serve(publisherApi(sender));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
