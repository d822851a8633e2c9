import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, importSPKI, jwtVerify, type JWTPayload } from 'jose';
import jwt from 'jsonwebtoken';
import { MAX_TENANTS_PER_TOKEN, isShownText, isTenantId, isUserId } from '@herald/shared';
import { AppError } from '../platform/errors';
import { jwksUrlProblem } from '../security/jwks-url';
import { createJwksKeys } from './jwks-keys';
import type { Logger } from '../platform/logger';

/** Who a verified token speaks for. */
export interface Identity {
  userId: string;
  name: string;
  /** The tenants the token grants (its AUTH_TENANTS_CLAIM); none: the default feed only. */
  tenants?: string[];
  /** Set by the authenticator when a tenant was asked for: `userId` is then the feed's key, this the person's id. */
  person?: string;
  tenant?: string;
  /** When the token stops being valid (ms since the epoch); null when it does not expire. */
  expiresAt: number | null;
}

/** Which tokens Herald accepts: the host app's (a JWKS or a public key), HS256 tokens signed with JWT_SECRET, or both. */
export interface TokenVerifierOptions {
  /** HS256 tokens signed with this secret (the host's own, or the demo's). */
  jwtSecret?: string;
  /** The identity provider's key set (RS256, PS256, ES256, EdDSA), fetched and cached. */
  jwksUrl?: string;
  /** Allow an http:// jwksUrl to any host (a trusted internal network), not only loopback. @default false */
  jwksAllowHttp?: boolean;
  /** Refuse tokens valid for longer than this many seconds (exp − iat, or exp − now without iat). @default none */
  maxTokenLifetimeSeconds?: number;
  /** A PEM public key (RSA: RS256/PS256, P-256: ES256, Ed25519: EdDSA). */
  publicKey?: string;
  /** Required `iss`; checked whenever set. */
  issuer?: string;
  /** Required `aud`; checked whenever set. */
  audience?: string;
  /** @default "sub" */
  userIdClaim?: string;
  /** Optional display name claim. @default "name" */
  nameClaim?: string;
  /** The claim listing the tenants a token grants: an array of tenant ids, or one. @default "tenants" */
  tenantsClaim?: string;
  /**
   * Seconds of clock skew allowed on exp/nbf/iat (0-60). A session then ends this long after `exp`, so
   * the handshake and the session clock agree. @default 5
   */
  clockToleranceSeconds?: number;
  logger: Logger;
  /** A JWKS is refetched on an unknown kid at most this often. @default 30000 */
  jwksCooldownMs?: number;
  /** A JWKS is refetched once it is this old (if that fails, the last one fetched stays in use). @default 600000 */
  jwksCacheMaxAgeMs?: number;
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** Algorithm names echoed in a refusal; any other header value is not repeated back (nor kept in memory). */
const NAMED_ALGORITHMS = new Set([
  'none',
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

/** The algorithms a public key may verify, pinned by its type (no HS/RS confusion, no `none`). */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'PS256'];
    case 'rsa-pss':
      return ['PS256'];
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? ['ES256'] : [];
    case 'ed25519':
      return ['EdDSA'];
    default:
      return [];
  }
}

function refused(check: string): AppError {
  return new AppError('invalid_token', `The token is not valid: ${check}.`);
}

/** What failed, in words an operator can act on. */
function describe(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof jwt.JsonWebTokenError) return describeHs256(error);
  if (error instanceof errors.JWTExpired) return new AppError('token_expired', 'The token has expired; sign in again.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = { iss: 'wrong issuer', aud: 'wrong audience', nbf: 'not valid yet', iat: 'issued in the future' }[error.claim];
    return refused(claim ?? (error.reason === 'missing' ? `missing claim "${error.claim}"` : `bad claim "${error.claim}"`));
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('bad signature');
  if (error instanceof errors.JWKSNoMatchingKey) return refused('unknown signing key (kid)');
  if (error instanceof errors.JOSEAlgNotAllowed) return refused('algorithm not accepted');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AppError('service_unavailable', 'The identity provider’s keys could not be fetched; try again shortly.');
  }
  if (error instanceof errors.JOSEError) return refused('malformed token');
  if (error instanceof TypeError) return refused('malformed token');
  return new AppError('service_unavailable', 'Tokens cannot be checked right now; try again shortly.');
}

/** jsonwebtoken's refusals (HS256 tokens), in the same words as jose's. */
function describeHs256(error: jwt.JsonWebTokenError): AppError {
  if (error instanceof jwt.TokenExpiredError) return new AppError('token_expired', 'The token has expired; sign in again.');
  if (error instanceof jwt.NotBeforeError) return refused('not valid yet');
  if (error.message.startsWith('jwt issuer invalid')) return refused('wrong issuer');
  if (error.message.startsWith('jwt audience invalid')) return refused('wrong audience');
  if (error.message === 'invalid signature') return refused('bad signature');
  return refused('malformed token');
}

/**
 * Verifies bearer tokens with jose (a maintained JOSE implementation: JWKS
 * fetching, caching and key rotation, algorithm checks). The algorithm decides
 * the key: HS256 only with JWT_SECRET, asymmetric ones only with the JWKS or
 * the public key, each pinned to what its key type allows. `exp` is required.
 * Every refusal says which check failed, and is logged at info level (at most
 * one line per reason per 10 s).
 */
export function createTokenVerifier(options: TokenVerifierOptions) {
  const log = options.logger.child({ module: 'auth' });
  // HS256 with jsonwebtoken, synchronously, on a key object made once: node:crypto's HMAC costs 10-15 µs a
  // token, where jose's WebCrypto one cost 35-80 µs and a hop to the thread pool and back for every
  // handshake (measured on the bench machine). Asymmetric keys and JWKS stay with jose.
  const secret = options.jwtSecret ? createSecretKey(Buffer.from(options.jwtSecret, 'utf8')) : undefined;
  const hs256Options: jwt.VerifyOptions & { complete?: false } = {
    algorithms: ['HS256'],
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  const jwksProblem = options.jwksUrl === undefined ? undefined : jwksUrlProblem(options.jwksUrl, options.jwksAllowHttp ?? false);
  if (jwksProblem) throw new Error(`The key-set URL (jwksUrl) ${jwksProblem}`);
  const jwks = options.jwksUrl
    ? createJwksKeys(new URL(options.jwksUrl), {
        cooldownMs: options.jwksCooldownMs ?? 30_000,
        cacheMaxAgeMs: options.jwksCacheMaxAgeMs ?? 600_000,
        logger: log,
      })
    : undefined;
  const publicKey = options.publicKey ? createPublicKey(options.publicKey) : undefined;
  const publicAlgorithms = publicKey ? algorithmsFor(publicKey) : [];
  if (publicKey && publicAlgorithms.length === 0) throw new Error('AUTH_PUBLIC_KEY must be an RSA, P-256 or Ed25519 public key');
  const imported = new Map<string, Promise<Awaited<ReturnType<typeof importSPKI>>>>();
  const userIdClaim = options.userIdClaim ?? 'sub';
  const nameClaim = options.nameClaim ?? 'name';
  const tenantsClaim = options.tenantsClaim ?? 'tenants';
  const lastLogged = new Map<string, number>();
  const tolerance = Math.min(60, Math.max(0, options.clockToleranceSeconds ?? 5));

  function note(error: AppError): void {
    const now = Date.now();
    if (now - (lastLogged.get(error.message) ?? 0) < 10_000) return;
    if (lastLogged.size > 100) lastLogged.clear();
    lastLogged.set(error.message, now);
    log.info({ code: error.code, reason: error.message }, 'token refused');
  }

  /** An HS256 token's claims, checked as jose checks them: `exp` required, `iat` not in the future. */
  function verifyHs256(token: string, key: KeyObject): JWTPayload {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, key, { ...hs256Options, clockTolerance: tolerance });
    } catch (error) {
      // Its own refusals are described by describe(); a part that is not JSON throws a bare SyntaxError.
      if (error instanceof jwt.JsonWebTokenError) throw error;
      throw refused('malformed token');
    }
    if (typeof payload !== 'object' || payload === null) throw refused('malformed token');
    if (payload.exp === undefined) throw refused('missing claim "exp"');
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + tolerance) throw refused('issued in the future');
    return payload as JWTPayload;
  }

  async function keyFor(alg: string | undefined) {
    if (alg && ASYMMETRIC_ALGORITHMS.includes(alg)) {
      if (jwks) return { key: jwks, algorithms: ASYMMETRIC_ALGORITHMS };
      if (publicKey && publicAlgorithms.includes(alg)) {
        let key = imported.get(alg);
        if (!key) imported.set(alg, (key = importSPKI(options.publicKey!, alg)));
        return { key: await key, algorithms: publicAlgorithms };
      }
    }
    throw refused(alg && NAMED_ALGORITHMS.has(alg) ? `algorithm ${alg} not accepted` : 'algorithm not accepted');
  }

  function identityOf(payload: JWTPayload): Identity {
    const userId = payload[userIdClaim];
    if (!isUserId(userId)) throw refused(`claim "${userIdClaim}" is not a user id`);
    const maxLifetime = options.maxTokenLifetimeSeconds;
    if (maxLifetime !== undefined) {
      const issuedAt = typeof payload.iat === 'number' ? payload.iat : Date.now() / 1000;
      if (payload.exp! - issuedAt > maxLifetime) throw refused(`valid for longer than ${maxLifetime} s`);
    }
    const name = payload[nameClaim];
    const expiresAt = (payload.exp! + tolerance) * 1000;
    // Shown to others (topic join and leave events): the same rule as any shown text, else the user id.
    const shown = typeof name === 'string' ? name.normalize('NFC').trim().slice(0, 100) : '';
    return { userId, name: shown.length > 0 && isShownText(shown) ? shown : userId, expiresAt, ...tenantsOf(payload[tenantsClaim]) };
  }

  /** The granted tenants: an array of ids or one string; anything else in the claim refuses the token. */
  function tenantsOf(claim: unknown): { tenants?: string[] } {
    if (claim === undefined || claim === null) return {};
    const list = typeof claim === 'string' ? [claim] : claim;
    if (!Array.isArray(list) || list.length > MAX_TENANTS_PER_TOKEN || !list.every(isTenantId)) {
      throw refused(`claim "${tenantsClaim}" must be a tenant id or an array of at most ${MAX_TENANTS_PER_TOKEN}`);
    }
    return { tenants: [...new Set(list)] };
  }

  return {
    /** The identity a token speaks for; AppError `unauthorized`, `invalid_token`, `token_expired` or `service_unavailable`. */
    async verify(token: unknown): Promise<Identity> {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
        throw new AppError('unauthorized', 'A bearer token is required.');
      }
      try {
        let alg: string | undefined;
        try {
          alg = decodeProtectedHeader(token).alg;
        } catch {
          throw refused('malformed token');
        }
        if (alg === 'HS256' && secret) return identityOf(verifyHs256(token, secret));
        const { key, algorithms } = await keyFor(alg);
        const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1] as never, {
          algorithms,
          ...(options.issuer ? { issuer: options.issuer } : {}),
          ...(options.audience ? { audience: options.audience } : {}),
          clockTolerance: tolerance,
          requiredClaims: ['exp'],
        });
        return identityOf(payload);
      } catch (error) {
        const described = describe(error);
        if (described.code !== 'service_unavailable') note(described);
        else log.warn({ err: error }, 'could not check a token');
        throw described;
      }
    },
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
