import type { HeraldNames, UserChannelMessage } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { isCluster, publishTo, type RedisClient } from '../platform/redis-client';
import { withTimeout } from '../platform/with-timeout';

/**
 * Publishes messages on users' channels. At-most-once, like all Redis pub/sub:
 * a gateway that is not subscribed at that moment never gets the message, and
 * clients recover what they missed through `notifications:sync`.
 */
export interface UserChannelPublisher {
  /**
   * Publishes messages on their users' channels in one round trip. Never
   * throws: pub/sub is fire-and-forget here, and clients recover anything
   * missed through sync. Resolves with how many gateway instances received
   * each message (Redis's PUBLISH count), or null where publishing failed.
   */
  publish(messages: { userId: string; message: UserChannelMessage }[]): Promise<(number | null)[]>;
}

export function createUserChannelPublisher(deps: {
  redis: RedisClient;
  logger: Logger;
  names: HeraldNames;
  /** @default 2000 */
  timeoutMs?: number;
  /** Counts each message that could not be published. */
  metrics?: Pick<Metrics, 'announceFailures'>;
}): UserChannelPublisher {
  const { names } = deps;
  const timeoutMs = deps.timeoutMs ?? 2000;
  const log = deps.logger.child({ module: 'user-channel-publisher' });

  return {
    async publish(messages) {
      if (messages.length === 0) return [];
      const send = async (): Promise<[Error | null, unknown][]> => {
        // Channels of different users live in different slots (one SPUBLISH each, in parallel). On a
        // connection that auto-pipelines, single commands keep their order with the other commands of
        // the turn; an explicit pipeline would be written ahead of them.
        if (isCluster(deps.redis) || deps.redis.options.enableAutoPipelining) {
          return Promise.all(
            messages.map(({ userId, message }) =>
              publishTo(deps.redis, names.userChannel(userId), JSON.stringify(message)).then(
                (count): [null, unknown] => [null, count],
                (error: Error): [Error, unknown] => [error, null],
              ),
            ),
          );
        }
        const pipeline = deps.redis.pipeline();
        for (const { userId, message } of messages) pipeline.publish(names.userChannel(userId), JSON.stringify(message));
        return (await pipeline.exec()) ?? [];
      };
      try {
        const results = await withTimeout(send(), timeoutMs, `redis publish timed out after ${timeoutMs} ms`);
        const receivers = results.map(([error, count]) => (error ? null : Number(count)));
        const failed = receivers.filter((r) => r === null).length;
        if (failed > 0) {
          deps.metrics?.announceFailures.inc(failed);
          log.warn({ failed, total: messages.length }, 'some messages were not published; clients catch up on sync');
        }
        return receivers;
      } catch (error) {
        deps.metrics?.announceFailures.inc(messages.length);
        log.warn({ err: error, total: messages.length }, 'messages not published; clients catch up on sync');
        return messages.map(() => null);
      }
    },
  };
}
