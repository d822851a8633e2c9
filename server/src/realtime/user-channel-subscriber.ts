import { DEFAULT_CHANNEL_PREFIX, userChannel, userChannelMessageSchema, userIdFromChannel, type UserChannelMessage } from '@herald/shared';
import type { Logger } from '../logger';
import type { RedisClient } from '../redis-client';
import { ChannelSubscriber } from './channel-subscriber';

export type UserChannelSubscriber = ChannelSubscriber<UserChannelMessage>;

/** Per-user channels: subscribed while this instance holds a socket of that user. */
export function createUserChannelSubscriber(options: {
  subscriber: RedisClient;
  logger: Logger;
  onMessage: (userId: string, message: UserChannelMessage) => void;
  channelPrefix?: string;
}): UserChannelSubscriber {
  const prefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  return new ChannelSubscriber<UserChannelMessage>({
    subscriber: options.subscriber,
    logger: options.logger,
    name: 'user-channel',
    channelFor: (userId) => userChannel(userId, prefix),
    keyFor: (channel) => userIdFromChannel(channel, prefix),
    schema: userChannelMessageSchema,
    // A notification published on another user's channel is never delivered.
    accept: (userId, message) => message.kind !== 'notification' || message.notification.userId === userId,
    onMessage: options.onMessage,
  });
}
