import type { RequestHandler, Response } from 'express';
import type { TokenService, UserIdentity } from './jwt';

/** Express middleware for user endpoints: a valid `Authorization: Bearer <user JWT>`, or 401. */
export function requireUser(tokens: TokenService): RequestHandler {
  return (req, res, next) => {
    const match = /^Bearer (.+)$/i.exec(req.get('authorization') ?? '');
    const identity = tokens.verify(match?.[1]);
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
