import { z } from 'zod';

/** A notification's id: a MongoDB ObjectId as 24 hex characters (lowercased). */
export const objectIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{24}$/, 'must be a 24-character hex id')
  .transform((id) => id.toLowerCase());

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value);
}

/** Most characters in a user id. */
export const MAX_USER_ID_LENGTH = 128;

const USER_ID = /^[A-Za-z0-9_\-.:|@+]{1,128}$/;

/**
 * A user id as the host app's identity provider has it: `auth0|64f1c2`, a
 * UUID, `42`, `ada@example.com` or an ObjectId's hex string. Opaque and
 * case-sensitive (`User-A` and `user-a` are two users): 1-128 ASCII letters,
 * digits and `_ - . : | @ +`. None of these is special in a room name, a Redis
 * channel, a Redis Cluster hash tag (`{…}`) or a glob pattern. ASCII only: two
 * ids that look alike (`é` composed or not, Cyrillic `а` for Latin `a`) are never
 * two users, and no normalisation has to agree across every service that names one.
 */
export const userIdSchema = z
  .string()
  .regex(USER_ID, `must be 1-${MAX_USER_ID_LENGTH} characters: ASCII letters (A-Z, a-z), digits, "_", "-", ".", ":", "|", "@" or "+"`);

export function isUserId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID.test(value);
}

/** Most tenants one token can grant (a longer list is refused: it is a token, not a directory). */
export const MAX_TENANTS_PER_TOKEN = 100;

/**
 * A tenant id (a workspace, an organisation, a shop): opaque, with the same rules as a user id, so it
 * is safe in the same places. A feed is the log of (tenant, user); no tenant is the user's default feed.
 */
export const tenantIdSchema = z
  .string()
  .regex(USER_ID, `must be 1-${MAX_USER_ID_LENGTH} characters: ASCII letters (A-Z, a-z), digits, "_", "-", ".", ":", "|", "@" or "+"`);

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && USER_ID.test(value);
}

/**
 * The key of a user's feed in a tenant: `<tenant>/<userId>`, or the user id alone for the default feed.
 * `/` is in neither id's alphabet, so a key splits one way only; the server stores, counts, sequences
 * and routes by this key, which is how no feed query ever reads another tenant's documents.
 */
export function feedKey(tenant: string | undefined, userId: string): string {
  return tenant ? `${tenant}/${userId}` : userId;
}

/** The tenant and user of a feed key (no tenant: the default feed). */
export function splitFeedKey(key: string): { tenant?: string; userId: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { userId: key } : { tenant: key.slice(0, slash), userId: key.slice(slash + 1) };
}

/** The key of the feed a notification is in (see feedKey). */
export function feedOf(notification: { userId: string; tenant?: string | undefined }): string {
  return feedKey(notification.tenant, notification.userId);
}
