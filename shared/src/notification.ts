import { z } from 'zod';
import { isSafeActionUrl } from './action-url.js';
import { objectIdSchema, tenantIdSchema, userIdSchema } from './ids.js';
import { jsonDataSchema, type JsonObject } from './json-data.js';
import { categorySchema, tagSchema, tagsSchema, MAX_TAGS } from './filters.js';

/** Most recipients accepted by one publish call. */
export const MAX_RECIPIENTS = 1000;
export const MAX_TITLE_LENGTH = 200;
export const MAX_BODY_LENGTH = 2000;
export const MAX_URL_LENGTH = 2048;

export const notificationTypeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_.:-]{0,63}$/, 'must be 1-64 characters: lowercase letters, digits, "_", ".", ":" or "-", starting with a letter');

/**
 * Characters that hide or reorder what a reader sees: C0 and C1 controls (a body keeps tab and newline),
 * the zero-width space, word joiner and byte-order mark, the bidi marks (U+200E, U+200F, U+061C),
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that make "txt.exe" read as
 * "exe.txt", the Hangul fillers that render as blank letters (U+115F, U+1160, U+3164, U+FFA0), and the
 * tag characters (U+E0000-U+E007F). The zero-width joiner and non-joiner stay: scripts and emoji
 * sequences need them.
 */
const HIDDEN_ALWAYS =
  '\\u007f-\\u009f\\u061c\\u115f\\u1160\\u200b\\u200e\\u200f\\u2060\\ufeff\\u202a-\\u202e\\u2066-\\u2069\\u3164\\uffa0\\u{e0000}-\\u{e007f}';
const HIDDEN_IN_LINE = new RegExp(`[\\u0000-\\u001f${HIDDEN_ALWAYS}]`, 'u');
const HIDDEN_IN_TEXT = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f${HIDDEN_ALWAYS}]`, 'u');
const HIDDEN_MESSAGE = 'must not contain control, zero-width, bidi or invisible characters';
/** A character a reader sees: not a mark, separator, control, format or unassigned code point. */
const VISIBLE = /[^\p{M}\p{Z}\p{C}\s]/u;

/**
 * Whether text may be shown to users as it is: nothing that hides or reorders what is shown, and at
 * least one visible character (not only combining marks or spaces) unless it is empty.
 *
 * @example
 * isShownText('New comment'); // true
 * isShownText('\u200f\u0301'); // false
 */
export function isShownText(value: string, options: { lines: boolean } = { lines: false }): boolean {
  const hidden = options.lines ? HIDDEN_IN_TEXT : HIDDEN_IN_LINE;
  return !hidden.test(value) && (value === '' || VISIBLE.test(value));
}

/** Text shown to users: NFC-normalised, and nothing in it that hides or reorders what is shown. */
function shownText(options: { lines: boolean }) {
  return z
    .string()
    .normalize('NFC')
    .refine((value) => isShownText(value, options), `${HIDDEN_MESSAGE}, and must have a visible character`);
}

export const actorSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(128)
    .refine((value) => isShownText(value), HIDDEN_MESSAGE),
  name: shownText({ lines: false }).pipe(z.string().trim().min(1).max(100)),
});

export const actionUrlSchema = z.string().max(MAX_URL_LENGTH).refine(isSafeActionUrl, 'must be an http(s) URL or a path starting with "/"');

/** Most action buttons on one notification. */
export const MAX_ACTIONS = 2;

export const actionIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be 1-32 characters: lowercase letters, digits, "_" or "-", starting with a letter');

/** A button on a notification (`Accept`, `View order`): its id is what the backend hears when it is clicked. */
export const notificationActionSchema = z.strictObject({
  id: actionIdSchema,
  label: shownText({ lines: false }).pipe(z.string().trim().min(1).max(40)),
  url: actionUrlSchema.optional(),
});

export type NotificationAction = z.infer<typeof notificationActionSchema>;

/** Longest digest window: a group collects notifications for at most a week from its first. */
export const MAX_GROUP_WINDOW_SECONDS = 7 * 24 * 3600;
/** @default 3600 */
export const DEFAULT_GROUP_WINDOW_SECONDS = 3600;
/** Most actors a grouped item carries (the latest, newest first). */
export const MAX_GROUP_ACTORS_SHOWN = 3;

const GROUP_PLACEHOLDERS = ['actor', 'others', 'count'];

/** A grouped item's title: `{actor}` (the latest actor), `{others}` (the other actors) and `{count}` (notifications). */
const groupTitleSchema = shownText({ lines: false })
  .pipe(z.string().trim().min(1).max(MAX_TITLE_LENGTH))
  .refine(
    (title) => [...title.matchAll(/\{([^{}]*)\}/g)].every((m) => GROUP_PLACEHOLDERS.includes(m[1]!)),
    'may only use the placeholders {actor}, {others} and {count}',
  );

/**
 * Digest: notifications with the same `key` for the same user within `windowSeconds` of the group's
 * first collapse into one feed item, which moves to the top, unread, with the count and the latest
 * actors. `title.one`/`title.other` (chosen by the number of other actors) replace the title once more
 * than one actor is in the group, e.g. `{ one: '{actor} and 1 other commented', other: '{actor} and {others} others commented' }`.
 */
export const groupInputSchema = z.strictObject({
  key: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 printable ASCII characters without spaces'),
  windowSeconds: z.number().int().min(1).max(MAX_GROUP_WINDOW_SECONDS).default(DEFAULT_GROUP_WINDOW_SECONDS),
  title: z.strictObject({ one: groupTitleSchema, other: groupTitleSchema }).optional(),
});

export type GroupInput = z.input<typeof groupInputSchema>;

/** Furthest ahead a notification can be scheduled, snoozed to or set to expire: a year. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600 * 1000;

/** An instant as ISO 8601 with a zone (`2026-12-01T09:00:00Z`, `…+01:00`). */
export const instantSchema = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a zone, e.g. 2026-12-01T09:00:00Z' });

/** Longest a notification may wait unread before it is mailed: a week. */
export const MAX_UNREAD_AFTER_SECONDS = 7 * 24 * 3600;

/** The channels a publish asks for beyond the app (see publishNotificationInputSchema's `channels`). */
export const channelsSchema = z.strictObject({
  push: z.boolean().optional(),
  email: z
    .union([
      z.boolean(),
      z.strictObject({
        unreadAfterSeconds: z
          .number()
          .int('must be a whole number of seconds')
          .min(0)
          .max(MAX_UNREAD_AFTER_SECONDS, 'must be at most a week (604800 seconds)')
          .optional(),
      }),
    ])
    .optional(),
});

/** What a backend sends to publish one notification to one or more users. */
export const publishNotificationInputSchema = z
  .strictObject({
    /** The workspace whose feeds these go to (each user's feed in it); absent: their default feeds. */
    tenant: tenantIdSchema.optional(),
    userIds: z
      .array(userIdSchema)
      .min(1, 'must name at least one user')
      .max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} users per call`)
      .transform((ids) => [...new Set(ids)]),
    type: notificationTypeSchema,
    title: shownText({ lines: false }).pipe(z.string().trim().min(1, 'must not be empty').max(MAX_TITLE_LENGTH)),
    body: shownText({ lines: true }).pipe(z.string().max(MAX_BODY_LENGTH)).optional(),
    actionUrl: actionUrlSchema.optional(),
    actor: actorSchema.optional(),
    data: jsonDataSchema.optional(),
    /** What tabs split by (`social`, `billing`); see NotificationFilter. */
    category: categorySchema.optional(),
    /** Up to two buttons; a click is recorded once (`interactedAt`, `actionId`) and sent on the event bus. */
    actions: z
      .array(notificationActionSchema)
      .max(MAX_ACTIONS, `at most ${MAX_ACTIONS} actions`)
      .refine((actions) => new Set(actions.map((a) => a.id)).size === actions.length, 'action ids must differ')
      .optional(),
    /** Up to 10 tags (`mention`); a filter's tags match a notification with any of them. */
    tags: tagsSchema.optional(),
    /**
     * At most one notification per recipient with this key while it is stored: a later publish with the
     * same key stores and sends nothing for a recipient who has one (`deduplicatedUserIds`). Use it for
     * things that can happen again and again, e.g. `post.liked:<postId>:<likerId>` whatever the
     * like/unlike count. Deleting the notification (or retention) frees the key.
     */
    dedupeKey: z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 printable ASCII characters without spaces')
      .optional(),
    /** Collapse with the user's other notifications of the same key (see groupInputSchema). */
    group: groupInputSchema.optional(),
    /**
     * Deliver at this time instead of now: kept as a job in the database (it survives restarts) and
     * published once, by whichever instance runs it. A time already past sends now.
     */
    sendAt: instantSchema.optional(),
    /** Gone from the feed and the counts, on every device, once this time has passed. */
    expiresAt: instantSchema.optional(),
    /**
     * Beyond the app (which always has it): a Web Push message to each of the recipient's browsers, and
     * an email if it is still unread `unreadAfterSeconds` after it was stored (the server's default
     * with `true`; 0: due at once). Recipients who turned the category off for a channel are skipped.
     */
    channels: channelsSchema.optional(),
  })
  .refine((input) => !input.sendAt || !input.expiresAt || Date.parse(input.expiresAt) > Date.parse(input.sendAt), {
    message: 'must be after sendAt',
    path: ['expiresAt'],
  });

export type PublishNotificationInput = z.input<typeof publishNotificationInputSchema>;
export type ValidPublishNotificationInput = z.output<typeof publishNotificationInputSchema>;

export interface Actor {
  id: string;
  name: string;
}

/**
 * A feed item that stands for several notifications of one group key. Each new one replaces the item
 * (a new id and seq, unread again); a client keeps only the item of a group `id` with the highest `count`.
 */
export interface NotificationGroup {
  /** The id of the group's first notification: the same for every item the group becomes. */
  id: string;
  key: string;
  /** Notifications in the group so far. */
  count: number;
  /** Different actors in the group so far. */
  actorCount: number;
  /** The latest actors, newest first (at most MAX_GROUP_ACTORS_SHOWN). */
  actors: Actor[];
}

/** A notification as clients see it. Timestamps are ISO 8601 strings; unset states are absent. */
export interface Notification {
  id: string;
  userId: string;
  /** The tenant whose feed holds it; absent in the default feed. */
  tenant?: string;
  seq: number;
  type: string;
  title: string;
  body?: string;
  actionUrl?: string;
  actor?: Actor;
  data?: JsonObject;
  category?: string;
  tags?: string[];
  actions?: NotificationAction[];
  createdAt: string;
  readAt?: string;
  seenAt?: string;
  archivedAt?: string;
  /** When one of its actions was clicked, and which. */
  interactedAt?: string;
  actionId?: string;
  /** Set on a grouped item (a digest of several notifications). */
  group?: NotificationGroup;
  /** When it leaves the feed and the counts (clients hide it from then on). */
  expiresAt?: string;
}

const isoDate = z.string().datetime({ offset: true });

/** Parses notifications crossing Redis, so a malformed message is dropped instead of reaching a browser. */
export const notificationSchema: z.ZodType<Notification> = z.object({
  id: objectIdSchema,
  userId: userIdSchema,
  tenant: tenantIdSchema.optional(),
  seq: z.number().int().positive(),
  type: notificationTypeSchema,
  title: z.string().max(MAX_TITLE_LENGTH),
  body: z.string().max(MAX_BODY_LENGTH).optional(),
  actionUrl: actionUrlSchema.optional(),
  actor: actorSchema.optional(),
  data: jsonDataSchema.optional(),
  category: categorySchema.optional(),
  tags: z.array(tagSchema).max(MAX_TAGS).optional(),
  actions: z.array(notificationActionSchema).max(MAX_ACTIONS).optional(),
  createdAt: isoDate,
  readAt: isoDate.optional(),
  seenAt: isoDate.optional(),
  archivedAt: isoDate.optional(),
  interactedAt: isoDate.optional(),
  actionId: actionIdSchema.optional(),
  group: z
    .object({
      id: objectIdSchema,
      key: z.string().max(200),
      count: z.number().int().positive(),
      actorCount: z.number().int().min(0),
      actors: z.array(actorSchema).max(MAX_GROUP_ACTORS_SHOWN),
    })
    .optional(),
  expiresAt: isoDate.optional(),
});

export interface NotificationCounts {
  unread: number;
  unseen: number;
}

/**
 * A feed's counts at a position of its log: `unread` and `unseen` count the notifications with a seq up
 * to `atSeq`, and nothing above it. A client adds what it holds above `atSeq` itself, so a count never
 * misses or doubles a notification that arrived while it was taken.
 */
export interface FeedCounts extends NotificationCounts {
  atSeq: number;
}
