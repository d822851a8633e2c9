import { z } from 'zod';
import { objectIdSchema } from './ids.js';
import { actionIdSchema, instantSchema, notificationTypeSchema, type Notification } from './notification.js';

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

export interface Preferences {
  /** Notification types this user does not want: they are not stored or sent for them. */
  mutedTypes: string[];
}

export const preferencesSchema = z.strictObject({
  mutedTypes: z
    .array(notificationTypeSchema)
    .max(MAX_MUTED_TYPES)
    .transform((types) => [...new Set(types)]),
});
