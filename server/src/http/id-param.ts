import { isObjectId, isUserId, MAX_USER_ID_LENGTH } from '@herald/shared';
import { AppError } from '../platform/errors';

/** A route's notification `:id`, or 400 invalid_id; never reaches the database as a malformed or operator value. */
export function idParam(value: unknown): string {
  if (!isObjectId(value)) throw new AppError('invalid_id', 'The id must be 24 hex characters.');
  return value.toLowerCase();
}

/** A route's `:userId` (opaque, case-sensitive), or 400 validation_failed. */
export function userIdParam(value: unknown): string {
  if (!isUserId(value)) {
    throw new AppError(
      'validation_failed',
      `A user id is 1-${MAX_USER_ID_LENGTH} characters: letters, digits, "_", "-", ".", ":", "|", "@" or "+".`,
    );
  }
  return value;
}
