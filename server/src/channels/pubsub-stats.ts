import type { Redis } from 'ioredis';
import type { HeraldNames } from '@herald/shared';
import { isCluster, type RedisClient } from '../platform/redis-client';

export interface PubSubStats {
  /** Herald channels with at least one subscriber (user and topic channels; sharded ones on a cluster). */
  channels: number;
  userChannels: number;
  /** Sum of subscribers over the user channels: one per instance holding a socket of that user. */
  userChannelSubscriptions: number;
  /** Pattern subscriptions (PUBSUB NUMPAT), e.g. event-bus listeners. */
  patterns: number;
  /** Where the figures come from: "standalone", or "cluster" summed over its masters. */
  mode: 'standalone' | 'cluster';
}

async function nodeStats(node: Redis, names: HeraldNames, sharded: boolean): Promise<Omit<PubSubStats, 'mode'>> {
  const [channels, numpat] = await Promise.all([
    node.call('PUBSUB', sharded ? 'SHARDCHANNELS' : 'CHANNELS', `${names.prefix}:*`) as Promise<string[]>,
    node.call('PUBSUB', 'NUMPAT') as Promise<number>,
  ]);
  const userChannels = channels.filter((c) => names.userIdFromChannel(c) !== undefined).slice(0, 1000);
  const numsub =
    userChannels.length > 0
      ? ((await node.call('PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', ...userChannels)) as (string | number)[])
      : [];
  let subscriptions = 0;
  for (let i = 1; i < numsub.length; i += 2) subscriptions += Number(numsub[i]);
  return { channels: channels.length, userChannels: userChannels.length, userChannelSubscriptions: subscriptions, patterns: numpat };
}

/** PUBSUB figures for GET /api/admin/stats. */
export async function pubSubStats(client: RedisClient, names: HeraldNames): Promise<PubSubStats> {
  if (!isCluster(client)) return { ...(await nodeStats(client, names, false)), mode: 'standalone' };
  const perNode = await Promise.all(client.nodes('master').map((node) => nodeStats(node, names, true)));
  const total = perNode.reduce(
    (sum, n) => ({
      channels: sum.channels + n.channels,
      userChannels: sum.userChannels + n.userChannels,
      userChannelSubscriptions: sum.userChannelSubscriptions + n.userChannelSubscriptions,
      // Classic pattern subscriptions live on one node; take the largest count.
      patterns: Math.max(sum.patterns, n.patterns),
    }),
    { channels: 0, userChannels: 0, userChannelSubscriptions: 0, patterns: 0 },
  );
  return { ...total, mode: 'cluster' };
}
