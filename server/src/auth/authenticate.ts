import { MAX_TENANTS_PER_TOKEN, feedKey, isTenantId, isUserId } from '@herald/shared';
import { AppError, ValidationError } from '../platform/errors';
import type { Identity, TokenVerifier } from './token-verifier';

/** Where a token is being presented. */
export interface AuthContext {
  transport: 'socket' | 'http';
  /** The caller's address, as the server sees it. */
  address?: string;
  /** The tenant whose feed the caller asks for (`Herald-Tenant`, the handshake's `auth.tenant`); absent: the default feed. */
  tenant?: unknown;
}

/**
 * Whether a user may read a tenant's feed, for hosts whose tokens do not list tenants (a membership
 * table, say). Without it, a token grants the tenants of its AUTH_TENANTS_CLAIM.
 *
 * @example
 * const authorizeTenant: AuthorizeTenant = async (user, tenant) => memberships.has(user.userId, tenant);
 */
export type AuthorizeTenant = (
  identity: { userId: string; name: string; tenants?: string[] },
  tenant: string,
) => boolean | Promise<boolean>;

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
export type Authenticate = (
  token: string,
  context: AuthContext,
) => Promise<{ userId: string; name?: string; expiresAt?: number | null; tenants?: string[] }>;

/** Turns a token into an identity: through the host's hook when given, else through Herald's own verifier. */
export type Authenticator = (token: unknown, context: AuthContext) => Promise<Identity>;

export function createAuthenticator(options: {
  hook?: Authenticate;
  verifier: TokenVerifier;
  authorizeTenant?: AuthorizeTenant;
}): Authenticator {
  const verify = identify(options);
  return async (token, context) => {
    const identity = await verify(token, context);
    if (context.tenant === undefined || context.tenant === null || context.tenant === '') return identity;
    return inTenant(identity, context.tenant, options.authorizeTenant);
  };
}

/**
 * The identity speaking for a tenant's feed: `userId` becomes the feed's key (`<tenant>/<userId>`), which
 * every feed route and socket event then works on, and `person` keeps who it is. A malformed tenant is
 * `400 validation_failed`; one the token does not grant is `403 forbidden`, never a feed of its own.
 */
async function inTenant(identity: Identity, tenant: unknown, authorizeTenant: AuthorizeTenant | undefined): Promise<Identity> {
  if (!isTenantId(tenant)) {
    throw new ValidationError('Invalid tenant: 1-128 characters of A-Z, a-z, 0-9 and _ - . : | @ +.', [
      { path: 'tenant', message: 'must be a tenant id' },
    ]);
  }
  let granted: boolean;
  try {
    granted = authorizeTenant ? (await authorizeTenant(identity, tenant)) === true : (identity.tenants ?? []).includes(tenant);
  } catch (error) {
    if (error instanceof AppError) throw error;
    granted = false;
  }
  if (!granted) throw new AppError('forbidden', `This token does not grant the tenant "${tenant}".`);
  return { ...identity, userId: feedKey(tenant, identity.userId), person: identity.userId, tenant };
}

function identify(options: { hook?: Authenticate; verifier: TokenVerifier }): (token: unknown, context: AuthContext) => Promise<Identity> {
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
    const tenants = answer.tenants;
    if (tenants !== undefined && (!Array.isArray(tenants) || tenants.length > MAX_TENANTS_PER_TOKEN || !tenants.every(isTenantId))) {
      throw new AppError('invalid_token', 'The token is not valid: the hook returned tenants that are not tenant ids.');
    }
    return { userId: answer.userId, name: answer.name || answer.userId, expiresAt, ...(tenants ? { tenants: [...new Set(tenants)] } : {}) };
  };
}
