/**
 * The one error shape used by HTTP responses and socket acknowledgements.
 * Codes are a closed set so clients can switch on them; messages are for humans.
 */
export const ERROR_CODES = [
  'validation_failed',
  'invalid_id',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'invalid_token',
  'token_expired',
  'forbidden',
  'conflict',
  'not_found',
  'unknown_user',
  'rate_limited',
  'database_unavailable',
  'service_unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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
