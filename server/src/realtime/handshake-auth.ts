import type { ExtendedError } from 'socket.io';
import type { TokenService } from '../auth/jwt';
import { toErrorBody } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { IoSocket } from './io-types';

/**
 * The handshake middleware: nobody receives anything before their token is
 * verified. The verified identity goes into `socket.data` (the only source of
 * the user id the rest of the gateway trusts); a refusal reaches the client as
 * `connect_error` with `data: { code, message }`.
 */
export function handshakeAuth(tokens: TokenService, logger: Logger) {
  return (socket: IoSocket, next: (error?: ExtendedError) => void): void => {
    try {
      const identity = tokens.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
      socket.data.userId = identity.userId;
      socket.data.name = identity.name;
      socket.data.expiresAt = identity.expiresAt;
      // Verified: the token need not stay in memory for the life of the connection.
      delete (socket.handshake.auth as { token?: unknown }).token;
      next();
    } catch (error) {
      const { body } = toErrorBody(error);
      logger.debug({ code: body.code }, 'handshake refused');
      next(Object.assign(new Error(body.message), { data: body }));
    }
  };
}
