import fs from 'node:fs';
import type { z } from 'zod';
import { offPageFromEnv, type OffPageOptions } from './off-page-config';
import { jwksUrlProblem } from './security/jwks-url';
import { envSchema, looksWeak, type Env, type LOG_LEVELS } from './config-schema';
import { RATE_VARIABLES, type Limits, type RateName } from './security/limits';

/**
 * The demo app is part of the repository, not of the published package: there DEMO is off unless set
 * (and setting it is refused at start, with the reason).
 */
function demoShipped(): boolean {
  try {
    require.resolve('./demo/install-demo');
    return true;
  } catch {
    return false;
  }
}

/**
 * The validated environment.
 *
 * @example
 * const config: Config = loadConfig();
 */
/** Which tokens are accepted (see TokenVerifierOptions). */
export interface AuthConfig {
  jwtSecret?: string;
  jwksUrl?: string;
  /** http:// key-set URLs to any host (a trusted internal network), not only loopback. */
  jwksAllowHttp?: boolean;
  /** Tokens valid for longer than this (exp − iat) are refused. */
  maxTokenLifetimeSeconds?: number;
  publicKey?: string;
  issuer?: string;
  audience?: string;
  userIdClaim: string;
  nameClaim: string;
  /** The claim listing the tenants a token grants. */
  tenantsClaim: string;
  clockToleranceSeconds: number;
}

export interface Config {
  port: number;
  mongodbUri: string;
  redisUrl: string;
  auth: AuthConfig;
  /** HS256 tokens Herald signs itself (the demo's sign-in); undefined without JWT_SECRET. */
  jwtSecret?: string;
  jwtTtlSeconds: number;
  /** Every accepted service token (SERVICE_TOKEN and SERVICE_TOKENS), so they can be rotated. */
  serviceTokens: string[];
  /** Bearer token for /metrics and the admin stats; required for /metrics in production. */
  metricsToken?: string;
  /** The demo app: passwordless sign-in, seeded users, posts and comments, the demo UI. */
  demo: boolean;
  /** Herald's collections are `<prefix>notifications`, …: for a database shared with another app. */
  collectionPrefix: string;
  corsOrigins: string[];
  /** Categories users cannot turn off (and whose notifications ignore muted types). */
  criticalCategories: string[];
  retention: { maxAgeDays: number; maxPerUser: number; maxPerActor: number; intervalMs: number };
  /** Whose X-Forwarded-For gives a client's address (express's `trust proxy`). */
  trustProxy: string;
  /** What one caller may do: timeouts, rates, connection caps (see security/limits.ts). */
  limits: Limits;
  /** per-user: an instance hears a user's messages only while it holds their sockets; broadcast: every instance hears all (for comparison). */
  routing: 'per-user' | 'broadcast';
  /** Web Push and email (VAPID_*, PUSH_SERVICE_ORIGINS, SMTP_URL, EMAIL_FROM, PUBLIC_URL, EMAIL_*); each off when unset. */
  offPage: OffPageOptions;
  logLevel: (typeof LOG_LEVELS)[number];
  nodeEnv: 'development' | 'production' | 'test';
}

/** Every problem with the environment at once, one line per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets that must be there whatever else is wrong, so one run names every missing variable. */
function missingSecrets(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!env.JWT_SECRET && !env.AUTH_JWKS_URL && !env.AUTH_PUBLIC_KEY && !env.AUTH_PUBLIC_KEY_FILE) {
    problems.push(
      'JWT_SECRET is required (at least 32 random characters) unless AUTH_JWKS_URL or AUTH_PUBLIC_KEY says how to check your users’ tokens',
    );
  }
  if (!env.SERVICE_TOKEN && !env.SERVICE_TOKENS)
    problems.push('SERVICE_TOKEN is required (at least 24 random characters), or SERVICE_TOKENS');
  return problems;
}

/**
 * Reads and validates the environment once at start; empty strings count as unset.
 *
 * @example
 * const config = loadConfig(process.env); // throws ConfigError listing every bad variable
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  // Each variable on its own, so a bad one does not hide the checks across the others: one run names every problem.
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(envSchema.shape)) {
    const result = (field as z.ZodType).safeParse(cleaned[name]);
    if (result.success) parsed[name] = result.data;
    else problems.push(...result.error.issues.map((issue) => `${name} ${issue.message}`));
  }
  const e = parsed as Partial<Env>;
  if (e.ROUTING_MODE === 'broadcast' && e.REDIS_URL?.includes(',')) {
    problems.push('ROUTING_MODE broadcast needs a single Redis (REDIS_URL names a cluster, whose sharded pub/sub has no patterns)');
  }
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS !== undefined && e.HTTP_REQUEST_TIMEOUT_SECONDS !== undefined) {
    if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
      problems.push(
        'HTTP_HEADERS_TIMEOUT_SECONDS must not be more than HTTP_REQUEST_TIMEOUT_SECONDS (the headers are part of the request)',
      );
    }
  }
  let publicKey = e.AUTH_PUBLIC_KEY;
  if (e.AUTH_PUBLIC_KEY_FILE) {
    if (publicKey) problems.push('AUTH_PUBLIC_KEY_FILE and AUTH_PUBLIC_KEY are both set: use one');
    try {
      publicKey = fs.readFileSync(e.AUTH_PUBLIC_KEY_FILE, 'utf8');
    } catch {
      problems.push(`AUTH_PUBLIC_KEY_FILE cannot be read (${e.AUTH_PUBLIC_KEY_FILE})`);
    }
  }
  if (e.AUTH_JWKS_URL) {
    const jwksProblem = jwksUrlProblem(e.AUTH_JWKS_URL, e.AUTH_JWKS_ALLOW_HTTP ?? false);
    if (jwksProblem) problems.push(`AUTH_JWKS_URL ${jwksProblem}`);
  }
  if (e.AUTH_JWKS_URL && publicKey) problems.push('AUTH_JWKS_URL and AUTH_PUBLIC_KEY are both set: use one');
  if ((e.AUTH_JWKS_URL || publicKey) && (!e.AUTH_ISSUER || !e.AUTH_AUDIENCE)) {
    problems.push('AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL or AUTH_PUBLIC_KEY');
  }
  problems.push(...missingSecrets(cleaned));
  const offPage = offPageFromEnv(cleaned);
  problems.push(...offPage.problems);
  const production = e.NODE_ENV === 'production';
  const demo = e.DEMO ?? (!production && demoShipped());
  if (demo && !cleaned.JWT_SECRET) problems.push('JWT_SECRET is required with the demo on (DEMO=true): it signs the demo sign-in');
  const serviceTokens = [...new Set([...(e.SERVICE_TOKEN ? [e.SERVICE_TOKEN] : []), ...(e.SERVICE_TOKENS ?? [])])];
  if (production) {
    const secrets: [string, string | undefined][] = [
      ['JWT_SECRET', e.JWT_SECRET],
      ['SERVICE_TOKEN', e.SERVICE_TOKEN],
      ...(e.SERVICE_TOKENS ?? []).map((token): [string, string] => ['SERVICE_TOKENS', token]),
      ['METRICS_TOKEN', e.METRICS_TOKEN],
    ];
    for (const [name, value] of secrets) {
      if (value !== undefined && looksWeak(value)) {
        problems.push(`${name} is a placeholder or has too few distinct characters: use a random secret in production`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...toConfig(parsed as Env, { demo, serviceTokens, ...(publicKey ? { publicKey } : {}) }), offPage: offPage.options };
}

/** The Config of an environment that passed every check. */
function toConfig(e: Env, derived: { demo: boolean; serviceTokens: string[]; publicKey?: string }): Omit<Config, 'offPage'> {
  const { demo, serviceTokens, publicKey } = derived;
  return {
    port: e.PORT,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    auth: {
      ...(e.JWT_SECRET ? { jwtSecret: e.JWT_SECRET } : {}),
      ...(e.AUTH_JWKS_URL ? { jwksUrl: e.AUTH_JWKS_URL, jwksAllowHttp: e.AUTH_JWKS_ALLOW_HTTP } : {}),
      ...(e.AUTH_MAX_TOKEN_LIFETIME_SECONDS ? { maxTokenLifetimeSeconds: e.AUTH_MAX_TOKEN_LIFETIME_SECONDS } : {}),
      ...(publicKey ? { publicKey } : {}),
      ...(e.AUTH_ISSUER ? { issuer: e.AUTH_ISSUER } : {}),
      ...(e.AUTH_AUDIENCE ? { audience: e.AUTH_AUDIENCE } : {}),
      userIdClaim: e.AUTH_USER_ID_CLAIM,
      nameClaim: e.AUTH_NAME_CLAIM,
      tenantsClaim: e.AUTH_TENANTS_CLAIM,
      clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE_SECONDS,
    },
    ...(e.JWT_SECRET ? { jwtSecret: e.JWT_SECRET } : {}),
    jwtTtlSeconds: e.JWT_TTL_SECONDS,
    serviceTokens,
    ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
    demo,
    collectionPrefix: e.MONGODB_COLLECTION_PREFIX,
    corsOrigins: e.CORS_ORIGINS,
    criticalCategories: e.CRITICAL_CATEGORIES,
    retention: {
      maxAgeDays: e.RETENTION_DAYS,
      maxPerUser: e.RETENTION_MAX_PER_USER,
      maxPerActor: e.RETENTION_MAX_PER_ACTOR,
      intervalMs: e.RETENTION_INTERVAL_SECONDS * 1000,
    },
    trustProxy: e.TRUST_PROXY,
    limits: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
      rates: Object.fromEntries(
        (Object.entries(RATE_VARIABLES) as [RateName, keyof typeof e][]).map(([name, variable]) => [name, e[variable]]),
      ) as Limits['rates'],
      maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
      maxSocketsPerAddress: e.MAX_SOCKETS_PER_ADDRESS,
    },
    routing: e.ROUTING_MODE,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
  };
}
