import { Cluster } from 'ioredis';
import { DEFAULT_CHANNEL_PREFIX, userChannel, type UserChannelMessage } from '@herald/shared';
import type { Logger } from '../logger';
import { publishTo, type RedisClient } from '../redis-client';
import { withTimeout } from '../with-timeout';

export interface UserEvents {
  /**
   * Publishes messages on their users' channels in one round trip. Never
   * throws: pub/sub is fire-and-forget here, and clients recover anything
   * missed through sync. Resolves with how many gateway instances received
   * each message (Redis's PUBLISH count), or null where publishing failed.
   */
  publish(messages: { userId: string; message: UserChannelMessage }[]): Promise<(number | null)[]>;
}

export function createUserEvents(deps: { redis: RedisClient; logger: Logger; channelPrefix?: string; timeoutMs?: number }): UserEvents {
  const prefix = deps.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  const timeoutMs = deps.timeoutMs ?? 2000;
  const log = deps.logger.child({ module: 'user-events' });

  return {
    async publish(messages) {
      if (messages.length === 0) return [];
      const send = async (): Promise<[Error | null, unknown][]> => {
        if (deps.redis instanceof Cluster) {
          // Channels of different users live in different slots: one SPUBLISH each, in parallel.
          return Promise.all(
            messages.map(({ userId, message }) =>
              publishTo(deps.redis, userChannel(userId, prefix), JSON.stringify(message)).then(
                (count): [null, unknown] => [null, count],
                (error: Error): [Error, unknown] => [error, null],
              ),
            ),
          );
        }
        const pipeline = deps.redis.pipeline();
        for (const { userId, message } of messages) pipeline.publish(userChannel(userId, prefix), JSON.stringify(message));
        return (await pipeline.exec()) ?? [];
      };
      try {
        const results = await withTimeout(send(), timeoutMs, `redis publish timed out after ${timeoutMs} ms`);
        const receivers = results.map(([error, count]) => (error ? null : Number(count)));
        const failed = receivers.filter((r) => r === null).length;
        if (failed > 0) log.warn({ failed, total: messages.length }, 'some messages were not published; clients catch up on sync');
        return receivers;
      } catch (error) {
        log.warn({ err: error, total: messages.length }, 'messages not published; clients catch up on sync');
        return messages.map(() => null);
      }
    },
  };
}
