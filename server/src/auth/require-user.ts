import type { RequestHandler, Response } from 'express';
import type { Authenticator } from './authenticate';

/** The signed-in caller of a user route. */
export interface UserIdentity {
  userId: string;
  name: string;
}

/** Express middleware for user endpoints: `Authorization: Bearer <token>` accepted by the authenticator, or 401. */
export function requireUser(authenticate: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    const identity = await authenticate(match?.[1], { transport: 'http', ...(req.ip ? { address: req.ip } : {}) });
    res.locals.user = { userId: identity.userId, name: identity.name } satisfies UserIdentity;
    next();
  };
}

/** The caller set by requireUser. */
export function currentUser(res: Response): UserIdentity {
  const user = res.locals.user as UserIdentity | undefined;
  if (!user) throw new Error('requireUser did not run for this route');
  return user;
}
