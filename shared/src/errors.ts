/**
 * The one error shape used by HTTP responses and socket acknowledgements, and
 * the closed table of codes. Each code says what a client should do with it:
 * `retryable` (the same request may succeed later: back off and try again) and
 * `signsOut` (the user's token is no good: stop and sign in again). Messages
 * are for humans; clients switch on codes. This file imports nothing, so a
 * browser bundle can take it without the schemas.
 */
export interface ErrorTraits {
  /** The HTTP status of a response carrying this code. */
  status: number;
  /** Trying the same request again later may succeed. */
  retryable: boolean;
  /** The caller's credentials are not accepted: sign in again instead of retrying. */
  signsOut: boolean;
}

export const ERRORS = {
  validation_failed: { status: 400, retryable: false, signsOut: false },
  invalid_id: { status: 400, retryable: false, signsOut: false },
  invalid_json: { status: 400, retryable: false, signsOut: false },
  payload_too_large: { status: 413, retryable: false, signsOut: false },
  unsupported_media_type: { status: 415, retryable: false, signsOut: false },
  unauthorized: { status: 401, retryable: false, signsOut: true },
  invalid_token: { status: 401, retryable: false, signsOut: true },
  token_expired: { status: 401, retryable: false, signsOut: true },
  unknown_user: { status: 401, retryable: false, signsOut: false },
  forbidden: { status: 403, retryable: false, signsOut: false },
  not_found: { status: 404, retryable: false, signsOut: false },
  conflict: { status: 409, retryable: false, signsOut: false },
  rate_limited: { status: 429, retryable: true, signsOut: false },
  too_many_connections: { status: 429, retryable: false, signsOut: false },
  database_unavailable: { status: 503, retryable: true, signsOut: false },
  service_unavailable: { status: 503, retryable: true, signsOut: false },
  internal: { status: 500, retryable: true, signsOut: false },
} as const satisfies Record<string, ErrorTraits>;

export type ErrorCode = keyof typeof ERRORS;

/** Every code, in the table's order. */
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** What a client does with a code; an unknown code (from a newer server) is treated as `internal`. */
export function errorTraits(code: string): ErrorTraits {
  return (ERRORS as Record<string, ErrorTraits>)[code] ?? ERRORS.internal;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** HTTP error responses: `{ "error": { code, message, details? } }`. */
export interface ErrorResponse {
  error: ErrorBody;
}

/** Socket.IO acknowledgements: either `{ data }` or `{ error }`, never both. */
export type Ack<T> = { data: T; error?: never } | { error: ErrorBody; data?: never };

export type AckCallback<T> = (response: Ack<T>) => void;
