import { z } from 'zod';
import type { NotificationFilter } from './filter-match.js';

export { matchesFilter, type NotificationFilter } from './filter-match.js';

/** Most tags on one notification. */
export const MAX_TAGS = 10;
/** Most filters one counts request names (tabs with badges). */
export const MAX_COUNT_FILTERS = 10;
/** Most `data` fields one filter compares. */
export const MAX_DATA_FILTER_FIELDS = 5;

const TOKEN = /^[a-z][a-z0-9_.:-]{0,63}$/;
const TOKEN_MESSAGE = 'must be 1-64 characters: lowercase letters, digits, "_", ".", ":" or "-", starting with a letter';

/** A notification's category (`social`, `billing`): one per notification, what tabs usually split by. */
export const categorySchema = z.string().regex(TOKEN, TOKEN_MESSAGE);

/** A tag (`mention`, `team:design`): up to MAX_TAGS per notification. */
export const tagSchema = z.string().regex(TOKEN, TOKEN_MESSAGE);

export const tagsSchema = z
  .array(tagSchema)
  .max(MAX_TAGS, `at most ${MAX_TAGS} tags`)
  .transform((tags) => [...new Set(tags)]);

/** A top-level `data` field a filter may compare: a plain name, never an operator or a path. */
const dataFieldSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a top-level data field name');
const dataValueSchema = z.union([z.string().max(200), z.number().finite(), z.boolean()]);

/** A NotificationFilter as sent: see filter-match.ts for what it selects. */
export const notificationFilterSchema: z.ZodType<NotificationFilter> = z.strictObject({
  category: categorySchema.optional(),
  tags: z.array(tagSchema).min(1).max(MAX_TAGS).optional(),
  data: z
    .record(dataFieldSchema, dataValueSchema)
    .refine((fields) => Object.keys(fields).length <= MAX_DATA_FILTER_FIELDS, `at most ${MAX_DATA_FILTER_FIELDS} data fields`)
    .optional(),
});

/** `notifications:counts` and `POST /api/notifications/counts`: named filters, counted at once. */
export const countsRequestSchema = z.strictObject({
  filters: z
    .record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'filter names are 1-32 letters, digits, "_" or "-"'), notificationFilterSchema)
    .refine((filters) => Object.keys(filters).length <= MAX_COUNT_FILTERS, `at most ${MAX_COUNT_FILTERS} filters`),
});

export type CountsRequest = z.infer<typeof countsRequestSchema>;
