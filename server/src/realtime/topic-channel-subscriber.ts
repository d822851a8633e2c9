import { DEFAULT_CHANNEL_PREFIX, topicChannel, topicChannelMessageSchema, type TopicChannelMessage } from '@herald/shared';
import type { Logger } from '../logger';
import type { RedisClient } from '../redis-client';
import { ChannelSubscriber } from './channel-subscriber';

export type TopicChannelSubscriber = ChannelSubscriber<TopicChannelMessage>;

/** Per-topic channels: subscribed while this instance holds a socket subscribed to the topic. */
export function createTopicChannelSubscriber(options: {
  subscriber: RedisClient;
  logger: Logger;
  onMessage: (topic: string, message: TopicChannelMessage) => void;
  channelPrefix?: string;
}): TopicChannelSubscriber {
  const prefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  const head = `${prefix}:topic:`;
  return new ChannelSubscriber<TopicChannelMessage>({
    subscriber: options.subscriber,
    logger: options.logger,
    name: 'topic-channel',
    channelFor: (topic) => topicChannel(topic, prefix),
    keyFor: (channel) => (channel.startsWith(head) ? channel.slice(head.length) : undefined),
    schema: topicChannelMessageSchema,
    accept: (topic, message) => message.topic === topic,
    onMessage: options.onMessage,
  });
}
