import type { Redis } from 'ioredis';
import { DEFAULT_CHANNEL_PREFIX, userChannel, userChannelMessageSchema, userIdFromChannel, type UserChannelMessage } from '@herald/shared';
import type { Logger } from '../logger';

export interface UserChannelSubscriberOptions {
  /** A dedicated connection: it enters subscriber mode and can run nothing else. */
  subscriber: Redis;
  logger: Logger;
  onMessage: (userId: string, message: UserChannelMessage) => void;
  /** @default "herald" */
  channelPrefix?: string;
}

/**
 * Holds this instance's subscriptions to per-user channels: subscribed while
 * at least one local socket of that user exists, so a notification for U only
 * reaches the instances holding U's sockets.
 *
 * Reference counts change synchronously and SUBSCRIBE/UNSUBSCRIBE go out in
 * that order on one connection, which Redis applies in order: a fast
 * disconnect/reconnect (1 -> 0 -> 1) always ends subscribed.
 */
export class UserChannelSubscriber {
  private readonly refs = new Map<string, number>();
  private readonly ready = new Map<string, Promise<void>>();
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly listener = (channel: string, raw: string) => this.dispatch(channel, raw);
  /** Messages this instance received on user channels (every one, valid or not): the routing cost. */
  messagesReceived = 0;
  /** Messages dropped because they were malformed or on the wrong channel. */
  messagesDropped = 0;

  constructor(private readonly options: UserChannelSubscriberOptions) {
    this.prefix = options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
    this.log = options.logger.child({ module: 'user-channel-subscriber' });
    options.subscriber.on('message', this.listener);
  }

  /** Counts one more local socket of the user; resolves once Redis confirmed the subscription. */
  acquire(userId: string): Promise<void> {
    const count = (this.refs.get(userId) ?? 0) + 1;
    this.refs.set(userId, count);
    const existing = this.ready.get(userId);
    if (count > 1 && existing) return existing;
    const subscribed = this.options.subscriber.subscribe(userChannel(userId, this.prefix)).then(() => undefined);
    this.ready.set(userId, subscribed);
    subscribed.catch((error: unknown) => this.log.error({ err: error, userId }, 'subscribe failed'));
    return subscribed;
  }

  /** Counts one local socket fewer; the last one out unsubscribes. */
  release(userId: string): void {
    const count = (this.refs.get(userId) ?? 0) - 1;
    if (count > 0) {
      this.refs.set(userId, count);
      return;
    }
    this.refs.delete(userId);
    this.ready.delete(userId);
    this.options.subscriber.unsubscribe(userChannel(userId, this.prefix)).catch((error: unknown) => {
      this.log.warn({ err: error, userId }, 'unsubscribe failed');
    });
  }

  /** How many user channels this instance is subscribed to. */
  get channelCount(): number {
    return this.refs.size;
  }

  close(): void {
    this.options.subscriber.off('message', this.listener);
  }

  private dispatch(channel: string, raw: string): void {
    const userId = userIdFromChannel(channel, this.prefix);
    if (userId === undefined) return;
    this.messagesReceived++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.messagesDropped++;
      this.log.warn({ channel }, 'dropped a message that is not JSON');
      return;
    }
    const result = userChannelMessageSchema.safeParse(parsed);
    if (!result.success) {
      this.messagesDropped++;
      this.log.warn({ channel, issues: result.error.issues.length }, 'dropped a message that does not match the schema');
      return;
    }
    if (result.data.kind === 'notification' && result.data.notification.userId !== userId) {
      this.messagesDropped++;
      this.log.warn({ channel }, "dropped a notification published on another user's channel");
      return;
    }
    this.options.onMessage(userId, result.data);
  }
}
