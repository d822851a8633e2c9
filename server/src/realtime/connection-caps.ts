import type { ExtendedError } from 'socket.io';
import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { IoServer, IoSocket } from './io-types';

/** How long a user's socket list outlives its last connect: entries a crashed instance left behind go then. */
const SOCKETS_TTL_SECONDS = 24 * 3600;

export interface ConnectionCaps {
  /** Handshake middleware: refuses a socket from an address that has `maxPerAddress` open on this instance. */
  checkAddress(socket: IoSocket, next: (error?: ExtendedError) => void): void;
  /** A socket is connected: counted, and the user's oldest sockets beyond `maxPerUser` are closed. */
  admit(socket: IoSocket): void;
  /** A socket has gone. */
  release(socket: IoSocket): void;
}

/**
 * Connection caps. Per user, over every instance: a sorted set in Redis holds the user's socket ids by
 * connect time; a connect beyond the cap closes the oldest ones wherever they are (through the adapter),
 * each told why with `server:error { code: "too_many_connections" }` so its client stops instead of
 * reconnecting. Entries of an instance that died without saying goodbye count until they are the
 * oldest (closing them is a no-op) or a day has passed. Per client address, on this instance: a count
 * in memory; a handshake over it is refused before the token is checked.
 */
export function createConnectionCaps(deps: {
  io: IoServer;
  redis: RedisClient;
  names: HeraldNames;
  maxPerUser: number;
  maxPerAddress: number;
  address: (socket: IoSocket) => string;
  logger: Logger;
}): ConnectionCaps {
  const perAddress = new Map<string, number>();
  const addressOf = new WeakMap<IoSocket, string>();
  const tooMany = (message: string) => ({ code: 'too_many_connections' as const, message });

  async function capUser(socket: IoSocket): Promise<void> {
    const key = deps.names.socketsKey(socket.data.userId);
    const now = Date.now();
    const results = await deps.redis
      .multi()
      .zadd(key, String(now), socket.id)
      .zremrangebyscore(key, '-inf', String(now - SOCKETS_TTL_SECONDS * 1000))
      .expire(key, SOCKETS_TTL_SECONDS)
      .zrange(key, '0', '-1')
      .exec();
    const ids = (results?.[3]?.[1] as string[] | undefined) ?? [];
    const excess = ids.slice(0, Math.max(0, ids.length - deps.maxPerUser)).filter((id) => id !== socket.id);
    if (excess.length === 0) return;
    await deps.redis.zrem(key, ...excess);
    const reason = tooMany(
      `This connection was closed: ${deps.maxPerUser} tabs or devices at most are connected at once, and a newer one opened.`,
    );
    for (const id of excess) {
      deps.io.to(id).emit('server:error', reason);
      deps.io.in(id).disconnectSockets(true);
    }
    deps.logger.info({ userId: socket.data.userId, closed: excess.length }, 'closed the oldest sockets of a user over the cap');
  }

  return {
    checkAddress(socket, next) {
      const address = deps.address(socket);
      addressOf.set(socket, address);
      if (deps.maxPerAddress > 0 && (perAddress.get(address) ?? 0) >= deps.maxPerAddress) {
        const message = `Too many connections from this address (${deps.maxPerAddress} at most).`;
        next(Object.assign(new Error(message), { data: tooMany(message) }));
        return;
      }
      next();
    },
    admit(socket) {
      const address = addressOf.get(socket);
      if (address !== undefined) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      if (deps.maxPerUser > 0) {
        capUser(socket).catch((error: unknown) => deps.logger.warn({ err: error }, 'per-user socket cap not applied'));
      }
    },
    release(socket) {
      const address = addressOf.get(socket);
      if (address !== undefined) {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      }
      if (deps.maxPerUser > 0) deps.redis.zrem(deps.names.socketsKey(socket.data.userId), socket.id).catch(() => undefined);
    },
  };
}
