import type { RequestHandler, Response } from 'express';
import { requestAddress, type CheckBudget } from '../http/rate-limit';
import type { Authenticator } from './authenticate';

/** The signed-in caller of a user route. */
export interface UserIdentity {
  /** The feed the request works on: the user id, or `<tenant>/<userId>` with a `Herald-Tenant` header. */
  userId: string;
  name: string;
  /** The person (their user id), whichever feed. */
  person: string;
  tenant?: string;
  /** The tenants the token grants. */
  tenants?: string[];
}

/**
 * Express middleware for user endpoints: `Authorization: Bearer <token>` accepted by the authenticator, or
 * 401. With `check`, the user's requests spend their budget (userRequests), and a refused token spends
 * its address's (ipRequests), so guessing tokens is limited too.
 */
export function requireUser(authenticate: Authenticator, check?: CheckBudget): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = /^Bearer (.+)$/i.exec(header ?? '');
    let identity;
    try {
      identity = await authenticate(match?.[1], {
        transport: 'http',
        ...(req.ip ? { address: req.ip } : {}),
        // The feed every user route works on: the default one, or this tenant's (granted by the token).
        tenant: req.get('herald-tenant'),
      });
    } catch (error) {
      // Without a header, limitAnonymous has counted the request already.
      if (check && header) await check('ipRequests', requestAddress(req), res);
      throw error;
    }
    // One budget per person, whichever of their feeds a request reads.
    await check?.('userRequests', identity.person ?? identity.userId, res);
    res.locals.user = {
      userId: identity.userId,
      name: identity.name,
      person: identity.person ?? identity.userId,
      ...(identity.tenant ? { tenant: identity.tenant } : {}),
      ...(identity.tenants ? { tenants: identity.tenants } : {}),
    } satisfies UserIdentity;
    next();
  };
}

/** The caller set by requireUser. */
export function currentUser(res: Response): UserIdentity {
  const user = res.locals.user as UserIdentity | undefined;
  if (!user) throw new Error('requireUser did not run for this route');
  return user;
}
