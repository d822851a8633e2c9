import { z } from 'zod';

/** A MongoDB ObjectId as 24 hex characters: the form every user and notification id takes. */
export const objectIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{24}$/, 'must be a 24-character hex id')
  .transform((id) => id.toLowerCase());

export function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value);
}
