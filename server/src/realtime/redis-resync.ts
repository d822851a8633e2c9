import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { IoServer } from './io-types';

/** How long the resync after a Redis outage is spread over, and in how many steps. */
const RESYNC_SPREAD_MS = 2000;
const RESYNC_SLICES = 20;

/**
 * Pushes published while this instance's Redis subscription was down are
 * lost; once it is back (ioredis resubscribes by itself), every local client
 * is asked to sync, spread over RESYNC_SPREAD_MS. Returns the function that removes both listeners.
 */
export function resyncAfterRedisOutage(deps: { io: IoServer; subscriber: RedisClient; logger: Logger }): () => void {
  let lost = false;
  const onLost = () => {
    if (!lost) deps.logger.warn('redis subscription lost; clients will resync when it returns');
    lost = true;
  };
  const timers = new Set<NodeJS.Timeout>();
  const onReady = () => {
    if (!lost) return;
    lost = false;
    const sockets = [...deps.io.of('/').sockets.values()];
    deps.logger.info({ sockets: sockets.length }, 'redis subscription back; asking local clients to resync');
    // Spread over a few seconds: every client of every instance syncing in the same instant, right when
    // Redis (and with it the caches and counters) comes back empty, is a load spike on the database.
    const slices = Math.min(RESYNC_SLICES, sockets.length);
    for (let slice = 0; slice < slices; slice++) {
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          for (let i = slice; i < sockets.length; i += slices) if (sockets[i]!.connected) sockets[i]!.emit('notifications:resync');
        },
        (RESYNC_SPREAD_MS * slice) / slices,
      );
      timer.unref();
      timers.add(timer);
    }
  };
  deps.subscriber.on('close', onLost);
  deps.subscriber.on('ready', onReady);
  return () => {
    for (const timer of timers) clearTimeout(timer);
    deps.subscriber.off('close', onLost);
    deps.subscriber.off('ready', onReady);
  };
}
