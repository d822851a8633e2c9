import { isObjectId, userIdSchema } from '@herald/shared';
import { AppError, ValidationError } from '../platform/errors';

/** A route's notification `:id`, or 400 invalid_id; never reaches the database as a malformed or operator value. */
export function idParam(value: unknown): string {
  if (!isObjectId(value)) throw new AppError('invalid_id', 'The id must be 24 hex characters.');
  return value.toLowerCase();
}

/** A route's `:userId` (opaque, case-sensitive), or 400 validation_failed with the shared schema's message. */
export function userIdParam(value: unknown): string {
  const parsed = userIdSchema.safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'user id');
  return parsed.data;
}
