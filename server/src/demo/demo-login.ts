import { Router } from 'express';
import { z } from 'zod';
import { AppError, ValidationError } from '../platform/errors';
import type { TokenSigner } from '../auth/token-signer';
import type { UserModel } from './user-model';

const loginSchema = z.strictObject({
  username: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9_.-]{1,40}$/, 'must be 1-40 letters, digits, ".", "_" or "-"'),
});

/** The workspaces every demo user belongs to. */
export const DEMO_TENANTS = ['acme', 'globex'] as const;

/**
 * Demo sign-in by username (the seeded users), at `POST /api/auth/login`. It
 * exists only where installDemo() ran: a real deployment signs users in with
 * its own identity provider.
 */
export function demoLoginRoutes(deps: { users: UserModel; tokens: TokenSigner }): Router {
  const router = Router();
  router.post('/auth/login', async (req, res) => {
    const parsed = loginSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'login');
    const user = await deps.users.findOne({ username: parsed.data.username }).lean();
    if (!user) throw new AppError('unknown_user', `No user named "${parsed.data.username}".`);
    // The demo's users belong to two workspaces too, to show tenants (the header's workspace menu).
    const { token, expiresAt } = deps.tokens.sign({ userId: user._id.toHexString(), name: user.name, tenants: DEMO_TENANTS });
    res.json({ token, expiresAt, user: { id: user._id.toHexString(), name: user.name, username: user.username } });
  });
  return router;
}
