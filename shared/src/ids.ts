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
