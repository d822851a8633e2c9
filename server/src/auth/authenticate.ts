import { isUserId } from '@herald/shared';
import { AppError } from '../platform/errors';
import type { Identity, TokenVerifier } from './token-verifier';

/** Where a token is being presented. */
export interface AuthContext {
  transport: 'socket' | 'http';
  /** The caller's address, as the server sees it. */
  address?: string;
}

/**
 * The host's own check of a bearer token, for embedded use (a session store,
 * a verifier Herald does not know). Resolve with the user; throw
 * `AppError('invalid_token' | 'token_expired', …)` to refuse, or
 * `AppError('service_unavailable', …)` when the check cannot run right now.
 * Anything else thrown refuses the token.
 *
 * @example
 * const authenticate: Authenticate = async (token) => {
 *   const session = await sessions.get(token);
 *   if (!session) throw new AppError('invalid_token', 'Unknown session.');
 *   return { userId: session.userId, name: session.displayName, expiresAt: session.expiresAt.getTime() };
 * };
 */
export type Authenticate = (token: string, context: AuthContext) => Promise<{ userId: string; name?: string; expiresAt?: number | null }>;

/** Turns a token into an identity: through the host's hook when given, else through Herald's own verifier. */
export type Authenticator = (token: unknown, context: AuthContext) => Promise<Identity>;

export function createAuthenticator(options: { hook?: Authenticate; verifier: TokenVerifier }): Authenticator {
  const { hook } = options;
  if (!hook) return (token) => options.verifier.verify(token);
  return async (token, context) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw new AppError('unauthorized', 'A bearer token is required.');
    }
    let answer: Awaited<ReturnType<Authenticate>>;
    try {
      answer = await hook(token, context);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('invalid_token', 'The token is not valid: refused by the authenticate hook.', { cause: error });
    }
    if (!isUserId(answer?.userId)) throw new AppError('invalid_token', 'The token is not valid: the hook returned no valid user id.');
    const expiresAt = typeof answer.expiresAt === 'number' ? answer.expiresAt : null;
    if (expiresAt !== null && expiresAt <= Date.now()) throw new AppError('token_expired', 'The token has expired; sign in again.');
    return { userId: answer.userId, name: answer.name || answer.userId, expiresAt };
  };
}
