import { ERRORS, type ErrorBody, type ErrorCode } from '@herald/shared';
import type { ZodError } from 'zod';
import { isRedisUnavailable } from './redis-client';

/**
 * An error whose code, status and message are safe to show a caller. The
 * status comes from the shared error table unless a caller has a more exact
 * one (a body-parser 4xx). Anything that is not an AppError reaches clients
 * only as `internal` (or `database_unavailable`, see toAppError).
 *
 * @example
 * throw new AppError('not_found', 'No such post.');
 */
export class AppError extends Error {
  readonly status: number;
  readonly details?: unknown;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status ?? ERRORS[code].status;
    if (options.details !== undefined) this.details = options.details;
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Input failed its schema; `details` lists each problem by path.
 *
 * @example
 * if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'post');
 */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', message, { details });
    this.name = 'ValidationError';
  }

  static fromZod(error: ZodError, what = 'request'): ValidationError {
    const details = error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    }));
    const first = details[0];
    const summary = first ? `${first.path}: ${first.message}` : 'invalid';
    return new ValidationError(`Invalid ${what}: ${summary}`, details);
  }
}

/**
 * The database could not store or read: nothing was published, retrying later is safe.
 *
 * @example
 * catch (e) { if (e instanceof PersistenceError) return retryLater(); }
 */
export class PersistenceError extends AppError {
  constructor(message: string, cause: unknown) {
    super('database_unavailable', message, { cause });
    this.name = 'PersistenceError';
  }
}

const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongooseServerSelectionError',
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
]);

/** Labels the driver puts on errors of a connection, not of the operation. */
const UNAVAILABLE_LABELS = ['NetworkError', 'ResetPool', 'PoolRequestedRetry'];

/**
 * True for errors that mean "the database cannot be reached or did not answer in time", as opposed to a
 * bug or bad input: the driver's connection, pool and timeout errors by name or label, a bulk write
 * that failed as a whole for one of those reasons (it reports no per-document error), and the same
 * found in an error's cause. The only place that decides it.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  if (UNAVAILABLE_ERROR_NAMES.has(error.name)) return true;
  const labels = (error as { errorLabelSet?: Set<string> }).errorLabelSet;
  if (labels && UNAVAILABLE_LABELS.some((label) => labels.has(label))) return true;
  if (
    error.name === 'MongoBulkWriteError' &&
    ((error as { writeErrors?: unknown[] }).writeErrors ?? []).length === 0 &&
    /timed out|connection pool|pool was cleared|connection .* closed|ECONNRESET|ECONNREFUSED|socket/i.test(error.message)
  ) {
    return true;
  }
  // mongoose with bufferCommands=false refuses operations while disconnected
  if (error.name === 'MongooseError' && /before initial connection|Connection was force closed|client was closed/i.test(error.message)) {
    return true;
  }
  return isDatabaseUnavailable(error.cause, depth + 1);
}

/** True for a unique-index violation (E11000), thrown or reported per document in a bulk write. The only place that decides it. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * What a caller may be told about anything thrown: AppErrors as they are, an
 * unreachable database as `database_unavailable` and an unreachable or stalled
 * Redis as `service_unavailable` (both: retry later), and anything else as
 * undefined (a bug: `internal`).
 */
export function toAppError(
  error: unknown,
  unavailableMessage = 'The database is unavailable right now. Try again shortly.',
): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) return new PersistenceError(unavailableMessage, error);
  if (isRedisUnavailable(error))
    return new AppError('service_unavailable', 'Herald is unavailable right now. Try again shortly.', { cause: error });
  return undefined;
}

/** Turns anything thrown into a body that is safe to send. Unknown errors become `internal`. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  const known = toAppError(error);
  if (known) return { status: known.status, body: known.toBody() };
  return { status: ERRORS.internal.status, body: { code: 'internal', message: 'Something went wrong on our side.' } };
}
