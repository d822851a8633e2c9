import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { isUserId } from '@herald/shared';
import { AppError } from '../platform/errors';

export interface UserIdentity {
  userId: string;
  name: string;
}

export interface TokenService {
  sign(identity: UserIdentity): { token: string; expiresAt: string };
  /** Throws AppError `invalid_token` or `token_expired`. */
  verify(token: unknown): UserIdentity & { expiresAt: number };
}

/**
 * HS256 only: `algorithms` is pinned on verify so a token signed with `none`
 * or with another algorithm is refused, whatever its header claims.
 */
export function createTokenService(options: { secret: string; ttlSeconds: number }): TokenService {
  // A key object, made once: given a string, jsonwebtoken first tries (and fails) to parse it as a
  // PEM public key on every call, which was the largest single cost of a Socket.IO handshake.
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  return {
    sign({ userId, name }) {
      const token = jwt.sign({ name }, key, { algorithm: 'HS256', subject: userId, expiresIn: options.ttlSeconds });
      return { token, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000).toISOString() };
    },
    verify(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
        throw new AppError('unauthorized', 'A bearer token is required.');
      }
      let payload: jwt.JwtPayload | string;
      try {
        payload = jwt.verify(token, key, { algorithms: ['HS256'] });
      } catch (error) {
        if (error instanceof jwt.TokenExpiredError) throw new AppError('token_expired', 'The token has expired; sign in again.');
        throw new AppError('invalid_token', 'The token is not valid.');
      }
      if (typeof payload === 'string' || !isUserId(payload.sub) || typeof payload.name !== 'string' || typeof payload.exp !== 'number') {
        throw new AppError('invalid_token', 'The token is not valid.');
      }
      return { userId: payload.sub, name: payload.name, expiresAt: payload.exp * 1000 };
    },
  };
}
