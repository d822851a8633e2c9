import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis-client';
import type { ZodType } from 'zod';
import type { Logger } from '../logger';

export interface ChannelSubscriberOptions<M> {
  /** A dedicated subscriber connection; several ChannelSubscribers may share it. On a cluster, sharded pub/sub is used. */
  subscriber: RedisClient;
  logger: Logger;
  name: string;
  /** The Redis channel for a key (a user id, a topic name). */
  channelFor(key: string): string;
  /** The key of a channel, or undefined when the channel is not one of ours. */
  keyFor(channel: string): string | undefined;
  schema: ZodType<M>;
  /** Extra check on a parsed message for its key; false drops it. */
  accept?(key: string, message: M): boolean;
  onMessage(key: string, message: M): void;
  /**
   * The classic "every instance hears everything" setup instead of per-key
   * subscriptions: one PSUBSCRIBE on this pattern, held for the life of the
   * instance. Kept for comparison (the benchmark measures both); not on a cluster.
   */
  pattern?: string;
}

/**
 * Reference-counted subscriptions: a channel is subscribed while at least one
 * local holder (a socket) needs it, so a message only reaches the instances
 * that hold someone who wants it.
 *
 * Counts change synchronously and SUBSCRIBE/UNSUBSCRIBE go out in that order
 * on one connection, which Redis applies in order: a fast release/acquire
 * (1 -> 0 -> 1) always ends subscribed.
 */
export class ChannelSubscriber<M> {
  private readonly refs = new Map<string, number>();
  private readonly ready = new Map<string, Promise<void>>();
  private readonly log: Logger;
  private readonly listener = (channel: string, raw: string) => this.dispatch(channel, raw);
  /** Messages received on these channels (every one, valid or not): the routing cost. */
  messagesReceived = 0;
  /** Messages dropped because they were malformed or failed `accept`. */
  messagesDropped = 0;

  private readonly sharded: boolean;
  private readonly patternListener = (_pattern: string, channel: string, raw: string) => this.dispatch(channel, raw);
  /** In pattern mode: the one PSUBSCRIBE every acquire waits for. */
  private readonly patternReady?: Promise<void>;

  constructor(private readonly options: ChannelSubscriberOptions<M>) {
    this.log = options.logger.child({ module: `${options.name}-subscriber` });
    this.sharded = options.subscriber instanceof Cluster;
    if (options.pattern !== undefined) {
      if (this.sharded) throw new Error('pattern routing needs a single Redis: sharded pub/sub has no patterns');
      options.subscriber.on('pmessage', this.patternListener);
      this.patternReady = options.subscriber.psubscribe(options.pattern).then(() => undefined);
      this.patternReady.catch((error: unknown) => this.log.error({ err: error }, 'psubscribe failed'));
    } else {
      options.subscriber.on(this.sharded ? 'smessage' : 'message', this.listener);
    }
  }

  private subscribe(channel: string): Promise<unknown> {
    return this.sharded ? this.options.subscriber.ssubscribe(channel) : this.options.subscriber.subscribe(channel);
  }

  private unsubscribe(channel: string): Promise<unknown> {
    return this.sharded ? this.options.subscriber.sunsubscribe(channel) : this.options.subscriber.unsubscribe(channel);
  }

  /** One more local holder of the key; resolves once Redis confirmed the subscription. */
  acquire(key: string): Promise<void> {
    const count = (this.refs.get(key) ?? 0) + 1;
    this.refs.set(key, count);
    if (this.patternReady) return this.patternReady;
    const existing = this.ready.get(key);
    if (count > 1 && existing) return existing;
    const subscribed = this.subscribe(this.options.channelFor(key)).then(() => undefined);
    this.ready.set(key, subscribed);
    subscribed.catch((error: unknown) => this.log.error({ err: error, key }, 'subscribe failed'));
    return subscribed;
  }

  /** One local holder fewer; the last one out unsubscribes. */
  release(key: string): void {
    const count = (this.refs.get(key) ?? 0) - 1;
    if (count > 0) {
      this.refs.set(key, count);
      return;
    }
    this.refs.delete(key);
    this.ready.delete(key);
    if (this.patternReady) return;
    this.unsubscribe(this.options.channelFor(key)).catch((error: unknown) => {
      this.log.warn({ err: error, key }, 'unsubscribe failed');
    });
  }

  /** How many channels this instance holds. */
  get channelCount(): number {
    return this.refs.size;
  }

  close(): void {
    this.options.subscriber.off('message', this.listener);
    this.options.subscriber.off('smessage', this.listener);
    this.options.subscriber.off('pmessage', this.patternListener);
  }

  private dispatch(channel: string, raw: string): void {
    const key = this.options.keyFor(channel);
    if (key === undefined) return;
    this.messagesReceived++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.messagesDropped++;
      this.log.warn({ channel }, 'dropped a message that is not JSON');
      return;
    }
    const result = this.options.schema.safeParse(parsed);
    if (!result.success || (this.options.accept && !this.options.accept(key, result.data))) {
      this.messagesDropped++;
      this.log.warn({ channel }, 'dropped a message that does not fit its channel');
      return;
    }
    this.options.onMessage(key, result.data);
  }
}
