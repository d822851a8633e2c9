import type { InstanceStats } from '@herald/shared';
import type { ChannelSubscriber } from '../channels/channel-subscriber';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { IoServer } from './io-types';

/**
 * This instance's figures (for /metrics and /api/admin/stats), and every
 * instance's through the adapter: each answers `stats:request` with its own.
 */
export function createInstanceStats(deps: {
  io: IoServer;
  instanceId: string;
  userChannels: ChannelSubscriber<unknown>;
  topicChannels: ChannelSubscriber<unknown>;
  metrics: Metrics;
  logger: Logger;
}) {
  const { io, userChannels, topicChannels, metrics } = deps;
  const startedAt = Date.now();
  const local = (): InstanceStats => ({
    id: deps.instanceId,
    sockets: io.of('/').sockets.size,
    userChannels: userChannels.channelCount,
    topicChannels: topicChannels.channelCount,
    channelMessagesReceived: userChannels.messagesReceived + topicChannels.messagesReceived,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  });
  io.on('stats:request', (ack) => ack(local()));
  metrics.beforeCollect.push(() => {
    metrics.connectedSockets.set(io.of('/').sockets.size);
    metrics.subscribedChannels.set({ kind: 'user' }, userChannels.channelCount);
    metrics.subscribedChannels.set({ kind: 'topic' }, topicChannels.channelCount);
  });

  /** This instance's figures and every other instance's (instances that do not answer in time are left out). */
  function cluster(): Promise<InstanceStats[]> {
    return new Promise((resolve) => {
      // The adapter gives up after its requestsTimeout and passes on the answers that did arrive.
      io.serverSideEmit('stats:request', (error: Error | null, responses: InstanceStats[]) => {
        if (error) deps.logger.warn({ err: error }, 'some instances did not answer the stats request');
        resolve([local(), ...(responses ?? [])].sort((a, b) => a.id.localeCompare(b.id)));
      });
    });
  }

  return { local, cluster };
}
