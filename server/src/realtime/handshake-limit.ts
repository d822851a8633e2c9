import type { ExtendedError } from 'socket.io';
import type { TakeFromBudget } from '../security/rate-limiters';
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
        const retryAfterSeconds = Math.ceil(waitMs / 1000);
        const message = `Too many connections from this address; retry in ${retryAfterSeconds} s.`;
        next(Object.assign(new Error(message), { data: { code: 'rate_limited', message, details: { retryAfterSeconds } } }));
      },
      () => next(),
    );
  };
}
