import type { ZodType } from 'zod';
import type { Logger } from '../platform/logger';
import type { RedisRecovery } from '../platform/redis-recovery';
import { isCluster, type RedisClient } from '../platform/redis-client';

/** Channels named in one SUBSCRIBE or UNSUBSCRIBE at most. */
const MAX_CHANNELS_PER_COMMAND = 1000;

interface Pending {
  op: 'subscribe' | 'unsubscribe';
  channels: string[];
  done: Promise<unknown>;
  settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void };
}

export interface ChannelSubscriberOptions<M> {
  /** A dedicated subscriber connection; several ChannelSubscribers may share it. On a cluster, sharded pub/sub is used. */
  subscriber: RedisClient;
  /**
   * The process's "Redis is back" routine: subscriptions that failed are made again as one of its
   * steps. Without it, on the connection's every `ready`.
   */
  recovery?: RedisRecovery;
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
 * that hold someone who wants it. Delivery is at-most-once: a message
 * published while a channel is not (yet) subscribed is not received, and
 * clients recover it through `notifications:sync`.
 *
 * Counts change synchronously and SUBSCRIBE/UNSUBSCRIBE go out in that order
 * on one connection, which Redis applies in order: a fast release/acquire
 * (1 -> 0 -> 1) always ends subscribed.
 *
 * A SUBSCRIBE that fails (Redis was down) is rolled back, like centrifuge's
 * addSubscription undoes its local registration: the holders stay, and the
 * next acquire, the next `subscribed()` call or the connection's next `ready`
 * subscribes again, so nobody waits on a failure for the rest of a session.
 */
export class ChannelSubscriber<M> {
  private readonly refs = new Map<string, number>();
  private readonly ready = new Map<string, Promise<void>>();
  private readonly log: Logger;
  private readonly listener = (channel: string, raw: string) => this.dispatch(channel, raw);
  private readonly patternListener = (_pattern: string, channel: string, raw: string) => this.dispatch(channel, raw);
  private readonly onReady = () => void this.resubscribeFailed();
  /** Takes this subscriber's step out of the recovery routine it was given. */
  private removeStep: () => void = () => undefined;
  private readonly sharded: boolean;
  /** (Un)subscribes not sent yet, in order (see queue). */
  private pending: Pending[] = [];
  /** In pattern mode: the one PSUBSCRIBE every acquire waits for (undefined after it failed). */
  private patternReady: Promise<void> | undefined;
  /** After close(): failures are expected (the connection is going too). */
  private closed = false;
  /** Messages received on these channels (every one, valid or not): the routing cost. */
  messagesReceived = 0;
  /** Messages dropped because they were malformed or failed `accept`. */
  messagesDropped = 0;

  constructor(private readonly options: ChannelSubscriberOptions<M>) {
    this.log = options.logger.child({ module: `${options.name}-subscriber` });
    this.sharded = isCluster(options.subscriber);
    if (options.pattern !== undefined) {
      if (this.sharded) throw new Error('pattern routing needs a single Redis: sharded pub/sub has no patterns');
      options.subscriber.on('pmessage', this.patternListener);
      this.ensurePattern();
    } else {
      options.subscriber.on(this.sharded ? 'smessage' : 'message', this.listener);
    }
    if (options.recovery) this.removeStep = options.recovery.add(`${options.name} channels`, { back: () => this.resubscribeFailed() });
    else options.subscriber.on('ready', this.onReady);
  }

  /** One more local holder of the key; resolves once Redis confirmed the subscription. */
  acquire(key: string): Promise<void> {
    this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
    return this.subscribed(key);
  }

  /**
   * For a key this instance holds: resolves once its subscription is live,
   * subscribing again if the last attempt failed. Rejects if this attempt fails.
   */
  subscribed(key: string): Promise<void> {
    if (this.options.pattern !== undefined) return this.ensurePattern();
    if (!this.refs.has(key)) return Promise.reject(new Error(`no local holder of ${this.options.name} ${key}`));
    const existing = this.ready.get(key);
    if (existing) return existing;
    const attempt = this.subscribe(this.options.channelFor(key)).then(() => undefined);
    this.ready.set(key, attempt);
    // Roll back: the next caller (or the next `ready`) subscribes again instead of waiting on this failure.
    // Logged once per command (see logged), not per key: a failed SUBSCRIBE can name a thousand channels.
    attempt.catch(() => {
      if (this.ready.get(key) === attempt) this.ready.delete(key);
    });
    return attempt;
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
    if (this.options.pattern !== undefined) return;
    // Logged once per command (see logged).
    this.unsubscribe(this.options.channelFor(key)).catch(() => undefined);
  }

  /** How many channels this instance holds. */
  get channelCount(): number {
    return this.refs.size;
  }

  /**
   * Removes every listener this subscriber attached to the connection it was handed. Releases that come
   * after (sockets closing on shutdown) still unsubscribe, as the connection may outlive this subscriber;
   * their failures, once the connection is closed too, are expected and logged at debug level only.
   */
  close(): void {
    this.closed = true;
    this.options.subscriber.off('message', this.listener);
    this.options.subscriber.off('smessage', this.listener);
    this.options.subscriber.off('pmessage', this.patternListener);
    this.options.subscriber.off('ready', this.onReady);
    this.removeStep();
  }

  private subscribe(channel: string): Promise<unknown> {
    return this.sharded
      ? this.logged('subscribe', [channel], this.options.subscriber.ssubscribe(channel))
      : this.queue('subscribe', channel);
  }

  private unsubscribe(channel: string): Promise<unknown> {
    return this.sharded
      ? this.logged('unsubscribe', [channel], this.options.subscriber.sunsubscribe(channel))
      : this.queue('unsubscribe', channel);
  }

  /** One log line for a failed command, however many channels (and holders) it named. */
  private logged(op: Pending['op'], channels: string[], command: Promise<unknown>): Promise<unknown> {
    command.catch((error: unknown) => {
      const fields = { err: error, channels: channels.length, first: channels[0] };
      if (this.closed) this.log.debug(fields, `${op} failed after close`);
      else if (op === 'subscribe') this.log.error(fields, 'subscribe failed; will subscribe again');
      else this.log.warn(fields, 'unsubscribe failed');
    });
    return command;
  }

  /**
   * Channels (un)subscribed in one turn of the event loop go out as one command each way, in the order
   * asked (a reconnect storm is thousands of SUBSCRIBEs a second, each its own write otherwise). A
   * subscribe after an unsubscribe starts a new command, so Redis still applies them in order. Sharded
   * channels live in different slots and cannot share a command: they go one by one.
   */
  private queue(op: Pending['op'], channel: string): Promise<unknown> {
    if (this.pending.length === 0) setImmediate(() => this.flush());
    let last = this.pending.at(-1);
    if (!last || last.op !== op || last.channels.length >= MAX_CHANNELS_PER_COMMAND) {
      let settle!: Pending['settle'];
      const done = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
      last = { op, channels: [], done, settle };
      this.pending.push(last);
    }
    last.channels.push(channel);
    return last.done;
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = [];
    const subscriber = this.options.subscriber;
    for (const { op, channels, settle } of batches) {
      const command = op === 'subscribe' ? subscriber.subscribe(...channels) : subscriber.unsubscribe(...channels);
      this.logged(op, channels, command).then(settle.resolve, settle.reject);
    }
  }

  private ensurePattern(): Promise<void> {
    if (this.patternReady) return this.patternReady;
    const attempt = this.options.subscriber.psubscribe(this.options.pattern!).then(() => undefined);
    this.patternReady = attempt;
    attempt.catch((error: unknown) => {
      if (this.patternReady === attempt) this.patternReady = undefined;
      this.log.error({ err: error }, 'psubscribe failed; will subscribe again');
    });
    return attempt;
  }

  /** The connection is back: held keys whose SUBSCRIBE failed are subscribed again (ioredis resubscribes the others). */
  /** Subscribes again where the last attempt failed; resolves once those attempts are answered. */
  private async resubscribeFailed(): Promise<void> {
    if (this.options.pattern !== undefined) {
      if (!this.patternReady) await this.ensurePattern().catch(() => undefined);
      return;
    }
    const attempts = [...this.refs.keys()].filter((key) => !this.ready.has(key)).map((key) => this.subscribed(key));
    // Those made again after the connection's reopening, and those ioredis made again by itself.
    await Promise.allSettled([...attempts, ...this.ready.values()]);
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
