import fs from 'node:fs';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { defaultLimits, parseRate, RATE_VARIABLES, type Limits, type RateName } from './security/limits';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Words of placeholder secrets (in docs, examples and tutorials): refused in production. */
/** TRUST_PROXY as proxy-addr (express's `trust proxy`) reads it; it throws on anything else. */
function isTrustList(value: string): boolean {
  try {
    proxyAddr.compile(value.split(',').map((entry) => entry.trim()));
    return true;
  } catch {
    return false;
  }
}

/** RATE_LIMIT_* variables: `<points>/<seconds>s` or `off`, each defaulting to security/limits.ts. */
function rateVariables() {
  return Object.fromEntries(
    (Object.entries(RATE_VARIABLES) as [RateName, string][]).map(([name, variable]) => [
      variable,
      z
        .string()
        .optional()
        .transform((text, ctx) => {
          if (text === undefined || text.trim() === '') return defaultLimits.rates[name];
          const rate = parseRate(text);
          if (rate === undefined) {
            ctx.addIssue({ code: 'custom', message: 'must be <points>/<seconds>s (like 300/60s) or off' });
            return z.NEVER;
          }
          return rate;
        }),
    ]),
  ) as Record<(typeof RATE_VARIABLES)[RateName], z.ZodType<Limits['rates'][RateName], string | undefined>>;
}

const PLACEHOLDER = /change-?me|replace-?me|example|placeholder|secret|password/i;

/** A secret that looks chosen by hand: a placeholder, or too few distinct characters to be random. */
function looksWeak(value: string): boolean {
  return PLACEHOLDER.test(value) || new Set(value).size < 10;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const booleanFlag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

/** https, or http to a loopback host (a local identity provider in development and tests). */
function isJwksUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

function originList(value: string): string[] {
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}

const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a port number (0-65535)' })
    .int('must be a port number (0-65535)')
    .min(0, 'must be a port number (0-65535)')
    .max(65535, 'must be a port number (0-65535)')
    .default(3000),
  MONGODB_URI: z
    .string({ error: 'is required (a mongodb:// URL)' })
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URL'),
  REDIS_URL: z.string({ error: 'is required (a redis:// URL)' }).regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(12 * 3600),
  SERVICE_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  SERVICE_TOKENS: z
    .string()
    .default('')
    .transform(list)
    .pipe(z.array(z.string().min(24, 'must be a comma-separated list of tokens of at least 24 characters each'))),
  AUTH_JWKS_URL: z.string().refine(isJwksUrl, 'must be an https:// URL (http:// only for localhost)').optional(),
  AUTH_PUBLIC_KEY: z
    .string()
    .includes('-----BEGIN PUBLIC KEY-----', { error: 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)' })
    .optional(),
  AUTH_PUBLIC_KEY_FILE: z.string().optional(),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  AUTH_USER_ID_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:./-]{1,100}$/, 'must be a claim name')
    .default('sub'),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce
    .number({ error: 'must be 0 to 60 seconds' })
    .int()
    .min(0, 'must be 0 to 60 seconds')
    .max(60, 'must be 0 to 60 seconds')
    .default(5),
  AUTH_NAME_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:./-]{1,100}$/, 'must be a claim name')
    .default('name'),
  DEMO: booleanFlag.optional(),
  MONGODB_COLLECTION_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,32}$/, 'must be up to 32 letters, digits, _ or - (like herald_)')
    .default(''),
  METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform(originList)
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be a comma-separated list of origins like http://localhost:5173'))),
  CRITICAL_CATEGORIES: z
    .string()
    .default('')
    .transform((value) => [
      ...new Set(
        value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, 'must be a comma-separated list of categories like security,billing'))),
  RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days (0 keeps forever)' }).int().min(0).max(3650).default(90),
  RETENTION_MAX_PER_USER: z.coerce.number({ error: 'must be a number (0 means no limit)' }).int().min(0).max(1_000_000).default(1000),
  RETENTION_MAX_PER_ACTOR: z.coerce.number({ error: 'must be a number (0 means no limit)' }).int().min(0).max(1_000_000).default(100),
  RETENTION_INTERVAL_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(5).max(86_400).default(600),
  HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).max(600).default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).max(3600).default(30),
  ...rateVariables(),
  MAX_SOCKETS_PER_USER: z.coerce.number({ error: 'must be a number (0 means no cap)' }).int().min(0).max(100_000).default(20),
  MAX_SOCKETS_PER_ADDRESS: z.coerce.number({ error: 'must be a number (0 means no cap)' }).int().min(0).max(10_000_000).default(2000),
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .refine(isTrustList, 'must be a comma-separated list of addresses, subnets, loopback, linklocal or uniquelocal'),
  ROUTING_MODE: z.enum(['per-user', 'broadcast'], { error: 'must be per-user or broadcast' }).default('per-user'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
});

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
  publicKey?: string;
  issuer?: string;
  audience?: string;
  userIdClaim: string;
  nameClaim: string;
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
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
    throw new ConfigError([...problems, ...missingSecrets(cleaned)]);
  }
  const e = result.data;
  const problems: string[] = [];
  if (e.ROUTING_MODE === 'broadcast' && e.REDIS_URL.includes(',')) {
    problems.push('ROUTING_MODE broadcast needs a single Redis (REDIS_URL names a cluster, whose sharded pub/sub has no patterns)');
  }
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    problems.push('HTTP_HEADERS_TIMEOUT_SECONDS must not be more than HTTP_REQUEST_TIMEOUT_SECONDS (the headers are part of the request)');
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
  if (e.AUTH_JWKS_URL && publicKey) problems.push('AUTH_JWKS_URL and AUTH_PUBLIC_KEY are both set: use one');
  if ((e.AUTH_JWKS_URL || publicKey) && (!e.AUTH_ISSUER || !e.AUTH_AUDIENCE)) {
    problems.push('AUTH_ISSUER and AUTH_AUDIENCE are required with AUTH_JWKS_URL or AUTH_PUBLIC_KEY');
  }
  problems.push(...missingSecrets(cleaned));
  const production = e.NODE_ENV === 'production';
  const demo = e.DEMO ?? (!production && demoShipped());
  if (demo && !e.JWT_SECRET) problems.push('JWT_SECRET is required with the demo on (DEMO=true): it signs the demo sign-in');
  const serviceTokens = [...new Set([...(e.SERVICE_TOKEN ? [e.SERVICE_TOKEN] : []), ...e.SERVICE_TOKENS])];
  if (production) {
    const secrets: [string, string | undefined][] = [
      ['JWT_SECRET', e.JWT_SECRET],
      ['SERVICE_TOKEN', e.SERVICE_TOKEN],
      ...e.SERVICE_TOKENS.map((token): [string, string] => ['SERVICE_TOKENS', token]),
      ['METRICS_TOKEN', e.METRICS_TOKEN],
    ];
    for (const [name, value] of secrets) {
      if (value !== undefined && looksWeak(value)) {
        problems.push(`${name} is a placeholder or has too few distinct characters: use a random secret in production`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: e.PORT,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    auth: {
      ...(e.JWT_SECRET ? { jwtSecret: e.JWT_SECRET } : {}),
      ...(e.AUTH_JWKS_URL ? { jwksUrl: e.AUTH_JWKS_URL } : {}),
      ...(publicKey ? { publicKey } : {}),
      ...(e.AUTH_ISSUER ? { issuer: e.AUTH_ISSUER } : {}),
      ...(e.AUTH_AUDIENCE ? { audience: e.AUTH_AUDIENCE } : {}),
      userIdClaim: e.AUTH_USER_ID_CLAIM,
      nameClaim: e.AUTH_NAME_CLAIM,
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
