import { Router, type RequestHandler } from 'express';
import { CHANNELS, preferencesSchema, type Channel, type ChannelPreferences, type Preferences } from '@herald/shared';
import { currentUser } from '../auth/require-user';
import { withDatabaseDeadline } from '../platform/deadline';
import { ValidationError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { MuteSettings } from './mute-settings';
import type { PreferenceDoc, PreferenceModel } from './preference-model';
import { readEffectivePreferences } from './effective-preferences';

/** The stored settings as the API shows them. */
/** Where each channel's off categories are stored. */
const OFF_FIELD = { inApp: 'mutedCategories', push: 'pushOffCategories', email: 'emailOffCategories' } as const satisfies Record<
  Channel,
  keyof PreferenceDoc
>;

function toPreferences(doc: PreferenceDoc | null, critical: readonly string[], channels: readonly Channel[]): Preferences {
  const categories: Record<string, ChannelPreferences> = {};
  for (const channel of CHANNELS) {
    for (const category of doc?.[OFF_FIELD[channel]] ?? []) {
      (categories[category] ??= { inApp: true, push: true, email: true })[channel] = false;
    }
  }
  return {
    mutedTypes: doc?.mutedTypes ?? [],
    categories,
    quietHours: doc?.quietHours ? { start: doc.quietHours.start, end: doc.quietHours.end, timeZone: doc.quietHours.timeZone } : null,
    critical: [...critical],
    channels: [...channels],
  };
}

/**
 * `/api/preferences`: the signed-in user's muted types, categories per channel (in-app, push, email) and
 * quiet hours. A PUT changes the settings it names and keeps the others; turning a critical category
 * off is refused.
 */
export function preferenceRoutes(deps: {
  preferences: PreferenceModel;
  /** Told after each write, so every publishing process drops what it kept of the user. */
  mutes: Pick<MuteSettings, 'changed'>;
  requireUser: RequestHandler;
  critical?: readonly string[];
  /** The channels this deployment delivers by (push with VAPID keys, email with SMTP). @default all */
  channels?: readonly Channel[];
  logger?: Logger;
}): Router {
  const router = Router();
  const critical = deps.critical ?? [];
  const channels = deps.channels ?? CHANNELS;
  router.use(deps.requireUser);

  /** The caller's feed's settings: in a tenant (Herald-Tenant), the user's defaults with the tenant's own on top. */
  const effective = async (feed: string) =>
    (await withDatabaseDeadline(readEffectivePreferences(deps.preferences, [feed]))).get(feed) ?? null;

  router.get('/', async (_req, res) => {
    res.json(toPreferences(await effective(currentUser(res).userId), critical, channels));
  });

  // In a tenant: back to the user's defaults (the tenant's own settings are forgotten).
  router.delete('/', async (_req, res) => {
    const user = currentUser(res);
    if (!user.tenant) {
      throw new ValidationError('Only a tenant’s settings can be reset: send the Herald-Tenant header.', [
        { path: 'Herald-Tenant', message: 'is required' },
      ]);
    }
    await withDatabaseDeadline(deps.preferences.deleteOne({ _id: user.userId }).exec());
    await deps.mutes
      .changed(user.userId)
      .catch((error: unknown) => deps.logger?.warn({ err: error }, 'could not announce a preference change'));
    res.json(toPreferences(await effective(user.userId), critical, channels));
  });

  router.put('/', async (req, res) => {
    const parsed = preferencesSchema.safeParse(req.body);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'preferences');
    const { mutedTypes, categories, quietHours } = parsed.data;
    // Per channel, the categories turned off (a channel left out is on).
    const off = Object.fromEntries(
      CHANNELS.map((channel) => [
        channel,
        Object.entries(categories ?? {})
          .filter(([, channels]) => channels[channel] === false)
          .map(([category]) => category),
      ]),
    ) as Record<Channel, string[]>;
    const locked = CHANNELS.flatMap((channel) =>
      off[channel].filter((category) => critical.includes(category)).map((category) => ({ category, channel })),
    );
    if (locked.length > 0) {
      throw new ValidationError(
        `${[...new Set(locked.map((l) => l.category))].join(', ')} notifications cannot be turned off.`,
        locked.map(({ category, channel }) => ({ path: `categories.${category}.${channel}`, message: 'is a critical category' })),
      );
    }
    const user = currentUser(res);
    const _id = user.userId;
    const set: Record<string, unknown> = { updatedAt: new Date() };
    // A tenant feed's document names the settings it holds of its own; the others stay the user's defaults.
    const named = [
      mutedTypes !== undefined && 'mutedTypes',
      categories !== undefined && 'categories',
      quietHours !== undefined && 'quietHours',
    ];
    const overrides = user.tenant ? { $addToSet: { overrides: { $each: named.filter((name): name is string => !!name) } } } : {};
    if (mutedTypes !== undefined) set.mutedTypes = mutedTypes;
    // The categories sent replace the ones stored: a category left out is on.
    if (categories !== undefined) for (const channel of CHANNELS) set[OFF_FIELD[channel]] = off[channel];
    if (quietHours !== undefined) set.quietHours = quietHours;
    const doc = await withDatabaseDeadline(
      deps.preferences
        .findOneAndUpdate(
          { _id },
          mutedTypes === undefined ? { $set: set, $setOnInsert: { mutedTypes: [] }, ...overrides } : { $set: set, ...overrides },
          { upsert: true, returnDocument: 'after' },
        )
        .lean()
        .exec(),
    );
    // Stored: the publishing processes drop what they kept of this user. If Redis does not take the
    // message, this one has dropped it already and the others read it again within a minute.
    await deps.mutes.changed(_id).catch((error: unknown) => deps.logger?.warn({ err: error }, 'could not announce a preference change'));
    res.json(toPreferences(user.tenant ? await effective(_id) : doc, critical, channels));
  });
  return router;
}
