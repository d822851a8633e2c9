// One gateway instance for the bench: the real composition root (startHerald, as `npm start` runs it),
// plus a few calls the bench needs (figures, a forced GC for heap measurements).
import v8 from 'node:v8';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/platform/logger';
import { startHerald, type RunningHerald } from '../../server/src/main';
import { serve } from '../lib/rpc';

export interface GatewayStats {
  pid: number;
  sockets: number;
  userChannels: number;
  topicChannels: number;
  /** Messages this instance received on user channels: its routing cost. */
  userMessagesReceived: number;
  topicMessagesReceived: number;
  /** Notification emits to local sockets. */
  delivered: number;
  heapUsed: number;
  rss: number;
  /** Topic messages handed to local subscribers, and the total time that took (ms). */
  topicFanouts: number;
  topicFanoutMs: number;
  /** Staleness checks run so far, and their total time (ms). */
  stalenessChecks: number;
  stalenessCheckMs: number;
}

function gatewayApi(herald: RunningHerald) {
  const { gateway } = herald;
  const stats = async (): Promise<GatewayStats> => {
    const delivered = (await gateway.metrics.delivered.get()).values[0]?.value ?? 0;
    const fanout = (await gateway.metrics.topicFanout.get()).values;
    const fanoutSum = fanout.find((v) => v.metricName === 'herald_topic_fanout_seconds_sum')?.value ?? 0;
    const fanoutCount = fanout.find((v) => v.metricName === 'herald_topic_fanout_seconds_count')?.value ?? 0;
    const staleness = (await gateway.metrics.stalenessCheckSeconds.get()).values;
    const stalenessSum = staleness.find((v) => v.metricName === 'herald_staleness_check_seconds_sum')?.value ?? 0;
    const stalenessCount = staleness.find((v) => v.metricName === 'herald_staleness_check_seconds_count')?.value ?? 0;
    const memory = process.memoryUsage();
    return {
      pid: process.pid,
      sockets: gateway.io.of('/').sockets.size,
      userChannels: gateway.userChannels.channelCount,
      topicChannels: gateway.topicChannels.channelCount,
      userMessagesReceived: gateway.userChannels.messagesReceived,
      topicMessagesReceived: gateway.topicChannels.messagesReceived,
      delivered,
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      topicFanouts: fanoutCount,
      topicFanoutMs: fanoutSum * 1000,
      stalenessChecks: stalenessCount,
      stalenessCheckMs: stalenessSum * 1000,
    };
  };
  return {
    port: () => herald.port,
    stats,
    /** Heap after full collections (the process runs with --expose-gc), so what is left is what is held. */
    async collectGarbage(): Promise<GatewayStats> {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 100));
      }
      return stats();
    },
    /** A V8 heap snapshot, for finding what each socket holds (not used by the scenarios). */
    heapSnapshot(file: string): string {
      globalThis.gc?.();
      return v8.writeHeapSnapshot(file);
    },
    async close(): Promise<void> {
      await herald.close();
    },
  };
}

export type GatewayApi = ReturnType<typeof gatewayApi>;

async function main(): Promise<void> {
  // `--switched-off`: background checks this gateway runs without, to measure what each costs.
  const off = new Set((process.env.BENCH_SWITCHED_OFF ?? '').split(',').filter(Boolean));
  const herald = await startHerald(loadConfig(process.env), {
    host: '127.0.0.1',
    clientDir: false,
    retention: false,
    logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
    ...(off.has('staleness') ? { stalenessCheckMs: 0 } : {}),
    ...(off.has('jobs') ? { jobsIntervalMs: 0 } : {}),
  });
  serve(gatewayApi(herald));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
