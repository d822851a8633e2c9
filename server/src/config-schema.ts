import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { jwksUrlProblem } from './security/jwks-url';
import { defaultLimits, parseRate, RATE_VARIABLES, type Limits, type RateName } from './security/limits';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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

/** Words of placeholder secrets (in docs, examples and tutorials): refused in production. */
const PLACEHOLDER = /change-?me|replace-?me|example|placeholder|secret|password/i;

/** A secret that looks chosen by hand: a placeholder, or too few distinct characters to be random. */
export function looksWeak(value: string): boolean {
  return PLACEHOLDER.test(value) || new Set(value).size < 10;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const booleanFlag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

function originList(value: string): string[] {
  return value
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}

/** Every variable Herald reads, each checked on its own (see loadConfig for the checks across them). */
export const envSchema = z.object({
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
  AUTH_JWKS_URL: z
    .string()
    .refine((value) => jwksUrlProblem(value, true) === undefined, 'must be an https:// URL')
    .optional(),
  AUTH_JWKS_ALLOW_HTTP: booleanFlag.default(false),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a number of seconds')
    .min(60, 'must be at least 60 seconds')
    .max(366 * 24 * 3600, 'must be at most a year')
    .optional(),
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
  AUTH_TENANTS_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_:./-]{1,100}$/, 'must be a claim name')
    .default('tenants'),
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

export type Env = z.infer<typeof envSchema>;
