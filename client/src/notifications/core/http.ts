import { errorTraits, type ErrorBody } from '@herald/shared/errors';

/**
 * An HTTP error answer from Herald (or a host API speaking the same shape), with what the client should do about it.
 *
 * @example
 * catch (e) { if (e instanceof HeraldHttpError && e.signsOut) signOut(); }
 */
export class HeraldHttpError extends Error {
  readonly status: number;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
    this.name = 'HeraldHttpError';
  }

  /** Trying again later may succeed (rate limited, database unavailable). */
  get retryable(): boolean {
    return errorTraits(this.body.code).retryable;
  }

  /** The token is not accepted: sign in again instead of retrying. */
  get signsOut(): boolean {
    return errorTraits(this.body.code).signsOut;
  }
}

/**
 * Body, token and base URL of a requestJson call.
 *
 * @example
 * await requestJson('POST', '/api/posts', { token, body: { text } });
 */
export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** @default "" (this page's origin) */
  baseUrl?: string;
  /** Sent as `Herald-Tenant`: the tenant whose feed the request is about (absent: the default feed). */
  tenant?: string;
}

/**
 * The one fetch wrapper: a JSON request whose error answers become
 * HeraldHttpError with the server's code and message.
 *
 * @example
 * const page = await requestJson<FeedPage>('GET', '/api/notifications?limit=20', { token });
 */
export async function requestJson<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const res = await fetch(`${options.baseUrl ?? ''}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.tenant ? { 'Herald-Tenant': options.tenant } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const json = (await res.json().catch(() => null)) as { error?: ErrorBody } | null;
  if (!res.ok) throw new HeraldHttpError(res.status, json?.error ?? { code: 'internal', message: `Request failed (${res.status})` });
  return json as T;
}
