import mongoose from 'mongoose';
import { notificationFilterSchema, type NotificationFilter } from '@herald/shared';
import { ValidationError } from '../platform/errors';

/**
 * The database conditions of a NotificationFilter (the same rule as `matchesFilter` in shared): the
 * category equal, any of the tags, each data field equal. Added to a query that is already scoped to
 * one user (the `userId` indexes carry it).
 */
export function filterConditions(filter: NotificationFilter): Record<string, unknown> {
  const conditions: Record<string, unknown> = {};
  if (filter.category !== undefined) conditions.category = filter.category;
  if (filter.tags) conditions.tags = mongoose.trusted({ $in: filter.tags });
  for (const [field, value] of Object.entries(filter.data ?? {})) conditions[`data.${field}`] = value;
  return conditions;
}

/**
 * A filter from a feed query string: `category=social`, `tags=mention,reply` (any of them),
 * `data.postId=p1` (a number or `true`/`false` in the query also matches that number or boolean).
 * Returns the filter and the query without its keys.
 */
export function filterFromQuery(query: Record<string, unknown>): { filter: NotificationFilter; rest: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  const raw: { category?: unknown; tags?: unknown; data?: Record<string, unknown> } = {};
  for (const [key, value] of Object.entries(query)) {
    if (key === 'category') raw.category = value;
    else if (key === 'tags') raw.tags = typeof value === 'string' ? value.split(',') : value;
    else if (key.startsWith('data.')) (raw.data ??= {})[key.slice('data.'.length)] = value;
    else rest[key] = value;
  }
  const parsed = notificationFilterSchema.safeParse(raw);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'query');
  return { filter: parsed.data, rest };
}

/** Query-string values are strings: `5` also matches the number 5, `true` the boolean. */
export function queryDataConditions(filter: NotificationFilter): Record<string, unknown> {
  const conditions = filterConditions({ ...filter, data: {} });
  for (const [field, value] of Object.entries(filter.data ?? {})) {
    const forms: unknown[] = [value];
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) forms.push(Number(value));
    if (value === 'true' || value === 'false') forms.push(value === 'true');
    conditions[`data.${field}`] = forms.length === 1 ? value : mongoose.trusted({ $in: forms });
  }
  return conditions;
}
