import { z } from 'zod';
import { objectIdSchema } from './ids.js';
import { actionIdSchema, instantSchema, notificationTypeSchema, type Notification } from './notification.js';
import { categorySchema } from './filters.js';
import { isTimeZone, type QuietHours } from './quiet-hours.js';

export type { QuietHours } from './quiet-hours.js';
export { inQuietHours } from './quiet-hours.js';

/** @default 20 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Most ids one `notifications:read` call may name. */
export const MAX_IDS_PER_CALL = 100;
export const MAX_MUTED_TYPES = 100;

/**
 * `GET /api/notifications` query. The cursor is opaque to clients (it is the
 * seq of the last item returned), so pages stay stable while new
 * notifications arrive at the top.
 */
export const feedQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  before: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'must be a cursor returned as nextCursor')
    .optional(),
  unread: z.enum(['true', 'false']).default('false'),
  archived: z.enum(['true', 'false']).default('false'),
});

export type FeedQuery = z.input<typeof feedQuerySchema>;

export interface FeedPage {
  /** Newest first. */
  items: Notification[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const readRequestSchema = z.strictObject({
  ids: z.array(objectIdSchema).min(1).max(MAX_IDS_PER_CALL),
});

export type ReadRequest = z.input<typeof readRequestSchema>;

/** `notifications:snooze`: hide a notification everywhere until `until`, when it comes back unread (a new item, at the top). */
export const snoozeRequestSchema = z.strictObject({ id: objectIdSchema, until: instantSchema });

export type SnoozeRequest = z.input<typeof snoozeRequestSchema>;

/** `notifications:action`: the user clicked one of a notification's action buttons. */
export const actionRequestSchema = z.strictObject({ id: objectIdSchema, actionId: actionIdSchema });

export type ActionRequest = z.input<typeof actionRequestSchema>;

/** Most categories one user has a setting for. */
export const MAX_CATEGORY_PREFERENCES = 50;

/** The channels a notification can reach a user by. */
export const CHANNELS = ['inApp', 'push', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * How a category reaches the user, per channel: in the app (off: not stored or sent, like a muted type),
 * as a Web Push message, by email when it stays unread.
 */
export interface ChannelPreferences {
  inApp: boolean;
  push: boolean;
  email: boolean;
}

export interface Preferences {
  /** Notification types this user does not want: they are not stored or sent for them. */
  mutedTypes: string[];
  /** Per category and channel (only categories with a channel off are listed); a category off in-app is not stored or sent. */
  categories: Record<string, ChannelPreferences>;
  /** While quiet, clients show no toasts (the feed and the badge still update). */
  quietHours: QuietHours | null;
  /** Categories nobody can turn off (the deployment's `CRITICAL_CATEGORIES`); read-only. */
  critical: string[];
  /** The channels this deployment delivers by: in-app always, push with VAPID keys, email with SMTP; read-only. */
  channels: Channel[];
}

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time as HH:MM (00:00 to 23:59)');

export const quietHoursSchema = z.strictObject({
  start: clockTime,
  end: clockTime,
  timeZone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/Paris'),
});

/** `PUT /api/preferences`: any of the settings; those left out stay as they are. */
export const preferencesSchema = z
  .strictObject({
    mutedTypes: z
      .array(notificationTypeSchema)
      .max(MAX_MUTED_TYPES)
      .transform((types) => [...new Set(types)])
      .optional(),
    categories: z
      // A channel left out of a category is on.
      .record(
        categorySchema,
        z.strictObject({ inApp: z.boolean().optional(), push: z.boolean().optional(), email: z.boolean().optional() }),
      )
      .refine((categories) => Object.keys(categories).length <= MAX_CATEGORY_PREFERENCES, `at most ${MAX_CATEGORY_PREFERENCES} categories`)
      .optional(),
    quietHours: quietHoursSchema.nullable().optional(),
  })
  .refine((update) => Object.keys(update).length > 0, 'name at least one of mutedTypes, categories, quietHours');

export type PreferencesUpdate = z.input<typeof preferencesSchema>;
