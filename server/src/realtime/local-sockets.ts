import type { IoServer, IoSocket } from './io-types';

/**
 * This instance's connected sockets, by user: what the periodic checks (membership, the resync after a
 * Redis outage) walk, one user at a time.
 *
 * @example
 * for (const [userId, sockets] of localSocketsByUser(io)) ...
 */
export function localSocketsByUser(io: IoServer): Map<string, IoSocket[]> {
  const byUser = new Map<string, IoSocket[]>();
  for (const socket of io.of('/').sockets.values()) {
    const list = byUser.get(socket.data.userId);
    if (list) list.push(socket);
    else byUser.set(socket.data.userId, [socket]);
  }
  return byUser;
}
