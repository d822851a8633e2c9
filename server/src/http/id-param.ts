import { isObjectId } from '@herald/shared';
import { AppError } from '../platform/errors';

/** A route's `:id`, or 400 invalid_id; never reaches the database as a malformed or operator value. */
export function idParam(value: unknown): string {
  if (!isObjectId(value)) throw new AppError('invalid_id', 'The id must be 24 hex characters.');
  return value.toLowerCase();
}
