import type { ErrorBody, ErrorCode } from '@herald/shared';
import type { ZodError } from 'zod';

/**
 * An error whose code, status and message are safe to show a caller.
 * Anything that is not an AppError reaches clients only as `internal`.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Input failed its schema; `details` lists each problem by path. */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', message, 400, details);
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

/** The database could not store or read: nothing was published, retrying later is safe. */
export class PersistenceError extends AppError {
  constructor(message: string, cause: unknown) {
    super('database_unavailable', message, 503, undefined, { cause });
    this.name = 'PersistenceError';
  }
}

/** Turns anything thrown into a body that is safe to send. Unknown errors become `internal`. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError) return { status: error.status, body: error.toBody() };
  return { status: 500, body: { code: 'internal', message: 'Something went wrong on our side.' } };
}

const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongooseServerSelectionError',
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

/** True for errors that mean "the database cannot be reached", as opposed to a bug or bad input. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_ERROR_NAMES.has(error.name)) return true;
  // mongoose with bufferCommands=false refuses operations while disconnected
  return error.name === 'MongooseError' && /before initial connection|Connection was force closed|client was closed/i.test(error.message);
}
