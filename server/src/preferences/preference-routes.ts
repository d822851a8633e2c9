import { Router, type RequestHandler } from 'express';
import { preferencesSchema, type Preferences } from '@herald/shared';
import { currentUser } from '../auth/require-user';
import { withDatabaseDeadline } from '../platform/deadline';
import { ValidationError } from '../platform/errors';
import type { PreferenceModel } from './preference-model';

/** `/api/preferences`: the signed-in user's muted notification types. */
export function preferenceRoutes(deps: { preferences: PreferenceModel; requireUser: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireUser);

  router.get('/', async (_req, res) => {
    const doc = await withDatabaseDeadline(deps.preferences.findById(currentUser(res).userId).lean().exec());
    res.json({ mutedTypes: doc?.mutedTypes ?? [] } satisfies Preferences);
  });

  router.put('/', async (req, res) => {
    const parsed = preferencesSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'preferences');
    const _id = currentUser(res).userId;
    await withDatabaseDeadline(
      deps.preferences.updateOne({ _id }, { $set: { mutedTypes: parsed.data.mutedTypes, updatedAt: new Date() } }, { upsert: true }).exec(),
    );
    res.json({ mutedTypes: parsed.data.mutedTypes } satisfies Preferences);
  });
  return router;
}
