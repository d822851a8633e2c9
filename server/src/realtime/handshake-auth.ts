import type { ExtendedError } from 'socket.io';
import type { Authenticator } from '../auth/authenticate';
import { toErrorBody } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { IoSocket } from './io-types';

/**
 * The handshake middleware: nobody receives anything before their token is
 * verified. The verified identity goes into `socket.data` (the only source of
 * the user id the rest of the gateway trusts); a refusal reaches the client as
 * `connect_error` with `data: { code, message }`.
 */
export function handshakeAuth(authenticate: Authenticator, logger: Logger) {
  return (socket: IoSocket, next: (error?: ExtendedError) => void): void => {
    const auth = socket.handshake.auth as { token?: unknown; tenant?: unknown } | undefined;
    // One socket is one feed: the default one, or the tenant's named in auth.tenant (granted by the token).
    authenticate(auth?.token, { transport: 'socket', address: socket.handshake.address, tenant: auth?.tenant }).then(
      (identity) => {
        socket.data.userId = identity.userId;
        if (identity.tenant) {
          socket.data.tenant = identity.tenant;
          socket.data.person = identity.person ?? identity.userId;
        }
        socket.data.name = identity.name;
        socket.data.expiresAt = identity.expiresAt;
        // Verified: the token need not stay in memory for the life of the connection.
        delete auth?.token;
        next();
      },
      (error: unknown) => {
        const { body } = toErrorBody(error);
        logger.debug({ code: body.code }, 'handshake refused');
        next(Object.assign(new Error(body.message), { data: body }));
      },
    );
  };
}
