import type { ExtendedError } from 'socket.io';
import { overBudget, type TakeFromBudget } from '../security/rate-limiters';
import type { IoSocket } from './io-types';

/**
 * The first handshake middleware: each handshake spends its client address's budget (ipHandshakes)
 * before anything else, the token check included, so a flood of handshakes from one address costs a
 * Redis increment each, not a signature check. A refused one reaches the client as `connect_error`
 * with `data: { code: "rate_limited", details: { retryAfterSeconds } }`.
 */
export function limitHandshakes(take: TakeFromBudget, address: (socket: IoSocket) => string) {
  return (socket: IoSocket, next: (error?: ExtendedError) => void): void => {
    take('ipHandshakes', address(socket)).then(
      (waitMs) => {
        if (waitMs === undefined) return next();
        const body = overBudget(waitMs, 'connections from this address');
        next(Object.assign(new Error(body.message), { data: body }));
      },
      () => next(),
    );
  };
}
