import type { CatchUp } from '../notifications/catch-up';
import type { Logger } from '../platform/logger';
import type { RedisRecovery } from '../platform/redis-recovery';
import type { IoServer, IoSocket } from './io-types';
import { localSocketsByUser } from './local-sockets';

/** How long the resync of every client is spread over, and in how many steps, when the database cannot say who is behind. */
const RESYNC_SPREAD_MS = 2000;
const RESYNC_SLICES = 20;
/** Users whose stored top is read in one go (one query for the recorded floors, one probe per user). */
const USERS_PER_READ = 50;

/**
 * Pushes published while this instance's Redis subscription was down are lost, and so are the seq
 * counters the staleness check compares with when Redis itself restarted. Once the subscription is
 * back (ioredis resubscribes by itself), this reads, for the users with sockets here, the highest seq
 * the database holds (raising each counter to it, so the staleness check works again), and asks at
 * once each socket that has not been sent that far to sync. A socket this instance has not answered
 * a sync yet is asked too. Only the sockets that missed something sync, instead of every socket of
 * every instance at the moment the caches are empty. When the database cannot answer, every
 * remaining socket is asked, spread over RESYNC_SPREAD_MS. Returns the function that stops it.
 */
export function resyncAfterRedisOutage(deps: {
  io: IoServer;
  /** The process's "Redis is back" routine: this is its last step (the channels are subscribed again before it). */
  recovery: RedisRecovery;
  catchUp: Pick<CatchUp, 'storedUpTo'>;
  /** What each socket is known to have been sent (see createDeliveryPositions). */
  positions: { entry(socket: IoSocket): { seq: number } | undefined };
  logger: Logger;
}): () => void {
  let lost = false;
  /** Moves on each loss and on stop: a resync still reading for an earlier return gives up. */
  let outage = 0;
  const onLost = () => {
    if (!lost) deps.logger.warn('redis subscription lost; clients will resync when it returns');
    lost = true;
    outage++;
  };
  const timers = new Set<NodeJS.Timeout>();

  function resyncSpread(sockets: IoSocket[]): void {
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
  }

  async function resyncBehind(current: number): Promise<void> {
    const started = Date.now();
    const byUser = localSocketsByUser(deps.io);
    const users = [...byUser.keys()];
    let asked = 0;
    for (let i = 0; i < users.length; i += USERS_PER_READ) {
      const batch = users.slice(i, i + USERS_PER_READ);
      let stored: Map<string, number>;
      try {
        stored = await deps.catchUp.storedUpTo(batch);
      } catch (error) {
        if (current !== outage) return;
        const rest = users.slice(i).flatMap((userId) => byUser.get(userId)!);
        deps.logger.warn({ err: error, sockets: rest.length }, 'could not read what is stored; asking every remaining client to resync');
        resyncSpread(rest);
        return;
      }
      // Lost again (or stopped) meanwhile: this answer may predate what that outage lost; the next return starts over.
      if (current !== outage) return;
      for (const userId of batch) {
        for (const socket of byUser.get(userId)!) {
          const sent = deps.positions.entry(socket)?.seq;
          if (!socket.connected || (sent !== undefined && sent >= (stored.get(userId) ?? 0))) continue;
          socket.emit('notifications:resync');
          asked++;
        }
      }
    }
    deps.logger.info(
      { users: users.length, asked, ms: Date.now() - started },
      'redis subscription back; clients behind what is stored asked to resync',
    );
  }

  const onBack = async () => {
    if (!lost) return;
    lost = false;
    await resyncBehind(outage).catch((error: unknown) => deps.logger.warn({ err: error }, 'resync after a redis outage failed'));
  };
  const remove = deps.recovery.add('resync of sockets behind', { lost: onLost, back: onBack });
  return () => {
    remove();
    outage++;
    for (const timer of timers) clearTimeout(timer);
  };
}
