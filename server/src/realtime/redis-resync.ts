import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { IoServer } from './io-types';

/**
 * Pushes published while this instance's Redis subscription was down are
 * lost; once it is back (ioredis resubscribes by itself), every local client
 * is asked to sync. Returns the function that removes both listeners.
 */
export function resyncAfterRedisOutage(deps: { io: IoServer; subscriber: RedisClient; logger: Logger }): () => void {
  let lost = false;
  const onLost = () => {
    if (!lost) deps.logger.warn('redis subscription lost; clients will resync when it returns');
    lost = true;
  };
  const onReady = () => {
    if (!lost) return;
    lost = false;
    deps.logger.info({ sockets: deps.io.of('/').sockets.size }, 'redis subscription back; asking local clients to resync');
    deps.io.local.emit('notifications:resync');
  };
  deps.subscriber.on('close', onLost);
  deps.subscriber.on('ready', onReady);
  return () => {
    deps.subscriber.off('close', onLost);
    deps.subscriber.off('ready', onReady);
  };
}
