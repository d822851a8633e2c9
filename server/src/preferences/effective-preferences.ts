import mongoose from 'mongoose';
import { splitFeedKey } from '@herald/shared';
import type { PreferenceDoc, PreferenceModel } from './preference-model';

/** The settings a tenant's feed can hold of its own; the rest come from the user's defaults. */
export const OVERRIDABLE = ['mutedTypes', 'categories', 'quietHours'] as const;
export type Overridable = (typeof OVERRIDABLE)[number];

/**
 * A feed's settings: the user's defaults (their document, keyed by user id), with what the tenant's feed
 * set of its own (its document, keyed by feed key, naming each setting it holds in `overrides`) on top.
 * A default feed's settings are its document as it is.
 */
export function effectivePreferences(defaults: PreferenceDoc | null, own: PreferenceDoc | null): PreferenceDoc | null {
  if (!own) return defaults;
  const held = new Set(own.overrides ?? []);
  const from = (setting: Overridable) => (held.has(setting) ? own : defaults);
  return {
    _id: own._id,
    mutedTypes: from('mutedTypes')?.mutedTypes ?? [],
    ...pick(from('categories'), ['mutedCategories', 'pushOffCategories', 'emailOffCategories']),
    quietHours: from('quietHours')?.quietHours ?? null,
    updatedAt: own.updatedAt,
  };
}

function pick(doc: PreferenceDoc | null | undefined, fields: readonly ('mutedCategories' | 'pushOffCategories' | 'emailOffCategories')[]) {
  return Object.fromEntries(fields.filter((field) => doc?.[field] !== undefined).map((field) => [field, doc![field]]));
}

/** The settings of each of these feeds (user ids, or tenant feed keys), in one query. */
export async function readEffectivePreferences(
  model: PreferenceModel,
  keys: readonly string[],
): Promise<Map<string, PreferenceDoc | null>> {
  const defaultsOf = keys.flatMap((key) => {
    const { tenant, userId } = splitFeedKey(key);
    return tenant ? [userId] : [];
  });
  const ids = [...new Set([...keys, ...defaultsOf])];
  const docs = await model.find({ _id: mongoose.trusted({ $in: ids }) }).lean<PreferenceDoc[]>();
  const byId = new Map(docs.map((doc) => [doc._id, doc]));
  return new Map(
    keys.map((key) => {
      const { tenant, userId } = splitFeedKey(key);
      const own = byId.get(key) ?? null;
      return [key, tenant ? effectivePreferences(byId.get(userId) ?? null, own) : own];
    }),
  );
}
