import { Router, type RequestHandler } from 'express';
import { preferencesSchema, type Preferences } from '@herald/shared';
import { currentUser } from '../auth/require-user';
import { withDatabaseDeadline } from '../platform/deadline';
import { ValidationError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { MuteSettings } from './mute-settings';
import type { PreferenceDoc, PreferenceModel } from './preference-model';

/** The stored settings as the API shows them. */
function toPreferences(doc: PreferenceDoc | null, critical: readonly string[]): Preferences {
  return {
    mutedTypes: doc?.mutedTypes ?? [],
    categories: Object.fromEntries((doc?.mutedCategories ?? []).map((category) => [category, { inApp: false }])),
    quietHours: doc?.quietHours ? { start: doc.quietHours.start, end: doc.quietHours.end, timeZone: doc.quietHours.timeZone } : null,
    critical: [...critical],
  };
}

/**
 * `/api/preferences`: the signed-in user's muted types, categories per channel (in-app for now) and
 * quiet hours. A PUT changes the settings it names and keeps the others; turning a critical category
 * off is refused.
 */
export function preferenceRoutes(deps: {
  preferences: PreferenceModel;
  /** Told after each write, so every publishing process drops what it kept of the user. */
  mutes: Pick<MuteSettings, 'changed'>;
  requireUser: RequestHandler;
  critical?: readonly string[];
  logger?: Logger;
}): Router {
  const router = Router();
  const critical = deps.critical ?? [];
  router.use(deps.requireUser);

  router.get('/', async (_req, res) => {
    const doc = await withDatabaseDeadline(deps.preferences.findById(currentUser(res).userId).lean().exec());
    res.json(toPreferences(doc, critical));
  });

  router.put('/', async (req, res) => {
    const parsed = preferencesSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'preferences');
    const { mutedTypes, categories, quietHours } = parsed.data;
    const off = Object.entries(categories ?? {})
      .filter(([, channels]) => !channels.inApp)
      .map(([category]) => category);
    const locked = off.filter((category) => critical.includes(category));
    if (locked.length > 0) {
      throw new ValidationError(
        `${locked.join(', ')} notifications cannot be turned off.`,
        locked.map((category) => ({ path: `categories.${category}.inApp`, message: 'is a critical category' })),
      );
    }
    const _id = currentUser(res).userId;
    const set: Record<string, unknown> = { updatedAt: new Date() };
    if (mutedTypes !== undefined) set.mutedTypes = mutedTypes;
    // The categories sent replace the ones stored: a category left out is on.
    if (categories !== undefined) set.mutedCategories = off;
    if (quietHours !== undefined) set.quietHours = quietHours;
    const doc = await withDatabaseDeadline(
      deps.preferences
        .findOneAndUpdate({ _id }, mutedTypes === undefined ? { $set: set, $setOnInsert: { mutedTypes: [] } } : { $set: set }, {
          upsert: true,
          returnDocument: 'after',
        })
        .lean()
        .exec(),
    );
    // Stored: the publishing processes drop what they kept of this user. If Redis does not take the
    // message, this one has dropped it already and the others read it again within a minute.
    await deps.mutes.changed(_id).catch((error: unknown) => deps.logger?.warn({ err: error }, 'could not announce a preference change'));
    res.json(toPreferences(doc, critical));
  });
  return router;
}
