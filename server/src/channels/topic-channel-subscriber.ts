import { topicChannelMessageSchema, type HeraldNames, type TopicChannelMessage } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { RedisRecovery } from '../platform/redis-recovery';
import { ChannelSubscriber } from './channel-subscriber';

export type TopicChannelSubscriber = ChannelSubscriber<TopicChannelMessage>;

/** Per-topic channels: subscribed while this instance holds a socket subscribed to the topic. */
export function createTopicChannelSubscriber(options: {
  subscriber: RedisClient;
  /** See ChannelSubscriberOptions.recovery. */
  recovery?: RedisRecovery;
  logger: Logger;
  names: HeraldNames;
  onMessage: (topic: string, message: TopicChannelMessage) => void;
}): TopicChannelSubscriber {
  return new ChannelSubscriber<TopicChannelMessage>({
    subscriber: options.subscriber,
    ...(options.recovery ? { recovery: options.recovery } : {}),
    logger: options.logger,
    name: 'topic-channel',
    channelFor: options.names.topicChannel,
    keyFor: options.names.topicFromChannel,
    schema: topicChannelMessageSchema,
    accept: (topic, message) => message.topic === topic,
    onMessage: options.onMessage,
  });
}
