import type { ExtendedError } from 'socket.io';
import type { HeraldNames } from '@herald/shared';
import type { Logger } from '../platform/logger';
import type { RedisClient } from '../platform/redis-client';
import type { IoServer, IoSocket } from './io-types';

/** How long a user's socket list outlives its last connect: entries a crashed instance left behind go then. */
const SOCKETS_TTL_SECONDS = 24 * 3600;

/**
 * KEYS[1]: the user's sockets; ARGV: now, the new socket's id, the cutoff for stale entries, the key's TTL,
 * the cap. Adds the socket, drops entries older than the cutoff and takes out the oldest beyond the cap
 * (never the new one), in one command: one round trip per handshake where a MULTI of five cost five
 * commands' work. Returns the ids taken out, for the caller to close.
 */
const ADMIT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
if over <= 0 then return {} end
local excess = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, over)) do
  if id ~= ARGV[2] and #excess < over then excess[#excess + 1] = id end
end
if #excess > 0 then redis.call('ZREM', KEYS[1], unpack(excess)) end
return excess
`;

interface AdmitScript {
  heraldSocketsAdmit(key: string, now: number, socketId: string, cutoff: number, ttlSeconds: number, max: number): Promise<string[]>;
}

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

  deps.redis.defineCommand('heraldSocketsAdmit', { numberOfKeys: 1, lua: ADMIT });
  const admitScript = deps.redis as unknown as AdmitScript;

  async function capUser(socket: IoSocket): Promise<void> {
    // Per person: a user's tabs in every tenant count together.
    const key = deps.names.socketsKey(socket.data.person ?? socket.data.userId);
    const now = Date.now();
    const excess = await admitScript.heraldSocketsAdmit(
      key,
      now,
      socket.id,
      now - SOCKETS_TTL_SECONDS * 1000,
      SOCKETS_TTL_SECONDS,
      deps.maxPerUser,
    );
    if (excess.length === 0) return;
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
      if (deps.maxPerUser > 0) {
        deps.redis.zrem(deps.names.socketsKey(socket.data.person ?? socket.data.userId), socket.id).catch(() => undefined);
      }
    },
  };
}
