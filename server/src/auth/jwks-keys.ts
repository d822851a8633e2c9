import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';

/** The key getter jwtVerify takes. */
export type JwksKeys = ReturnType<typeof createLocalJWKSet>;

/** jose's answers about the key set itself (not about fetching it): a token's fault, refused as such. */
const KEY_SET_ANSWERS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSEAlgNotAllowed, errors.JOSENotSupported];

const unavailable = (cause: unknown) =>
  new AppError('service_unavailable', 'The identity provider’s keys could not be fetched; try again shortly.', { cause });

/**
 * The identity provider's key set, fetched and cached by jose, that outlives an outage of the provider:
 * when a refresh fails (the endpoint answers 502, refuses connections or times out), tokens are checked
 * against the last key set fetched, however old. A token that key set cannot check (a key rotated in
 * during the outage), or any token before the first fetch succeeded, is a retryable
 * `503 service_unavailable`, never `401`: a client told 401 signs its user out.
 *
 * @example
 * const keys = createJwksKeys(new URL('https://idp.example/.well-known/jwks.json'), { logger });
 * await jwtVerify(token, keys, { algorithms: ['RS256'] });
 */
export function createJwksKeys(url: URL, options: { cooldownMs: number; cacheMaxAgeMs: number; logger: Logger }): JwksKeys {
  const remote = createRemoteJWKSet(url, { cooldownDuration: options.cooldownMs, cacheMaxAge: options.cacheMaxAgeMs });
  let lastWarned = 0;
  return (async (header: JWTHeaderParameters, token: FlattenedJWSInput) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (KEY_SET_ANSWERS.some((type) => error instanceof type)) throw error;
      if (Date.now() - lastWarned > 10_000) {
        lastWarned = Date.now();
        options.logger.warn({ err: error, url: url.href }, 'could not refresh the identity provider’s keys; using the last ones fetched');
      }
      // jose keeps the last key set it fetched when a refresh fails.
      const last = remote.jwks();
      if (!last) throw unavailable(error);
      try {
        return await createLocalJWKSet(last)(header, token);
      } catch (fallbackError) {
        if (fallbackError instanceof errors.JWKSNoMatchingKey) throw unavailable(error);
        throw fallbackError;
      }
    }
  }) as JwksKeys;
}
