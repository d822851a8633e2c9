import { feedOf, userChannelMessageSchema, type HeraldNames, type UserChannelMessage } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { RedisRecovery } from '../platform/redis-recovery';
import { ChannelSubscriber } from './channel-subscriber';

export type UserChannelSubscriber = ChannelSubscriber<UserChannelMessage>;

/** How user channels reach instances: only those holding the user's sockets, or all of them. */
export type Routing = 'per-user' | 'broadcast';

/** Per-user channels: subscribed while this instance holds a socket of that user. */
export function createUserChannelSubscriber(options: {
  subscriber: RedisClient;
  /** See ChannelSubscriberOptions.recovery. */
  recovery?: RedisRecovery;
  logger: Logger;
  names: HeraldNames;
  onMessage: (userId: string, message: UserChannelMessage) => void;
  /** 'broadcast': every instance receives every user's messages (the classic setup, for comparison). @default "per-user" */
  routing?: Routing;
}): UserChannelSubscriber {
  const { names } = options;
  return new ChannelSubscriber<UserChannelMessage>({
    subscriber: options.subscriber,
    ...(options.recovery ? { recovery: options.recovery } : {}),
    logger: options.logger,
    name: 'user-channel',
    channelFor: names.userChannel,
    keyFor: names.userIdFromChannel,
    schema: userChannelMessageSchema,
    // A notification published on another user's channel is never delivered.
    accept: (userId, message) => message.kind !== 'notification' || feedOf(message.notification) === userId,
    onMessage: options.onMessage,
    ...(options.routing === 'broadcast' ? { pattern: names.userChannelPattern } : {}),
  });
}
