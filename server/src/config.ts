import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
  JWT_SECRET: z.string({ error: 'is required (at least 32 random characters)' }).min(32, 'must be at least 32 characters'),
  JWT_TTL_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(12 * 3600),
  SERVICE_TOKEN: z.string({ error: 'is required (at least 24 random characters)' }).min(24, 'must be at least 24 characters'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform(originList)
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be a comma-separated list of origins like http://localhost:5173'))),
  RETENTION_DAYS: z.coerce.number({ error: 'must be a number of days (0 keeps forever)' }).int().min(0).max(3650).default(90),
  RETENTION_MAX_PER_USER: z.coerce.number({ error: 'must be a number (0 means no limit)' }).int().min(0).max(1_000_000).default(1000),
  RETENTION_INTERVAL_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).int().min(5).max(86_400).default(600),
  ROUTING_MODE: z.enum(['per-user', 'broadcast'], { error: 'must be per-user or broadcast' }).default('per-user'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
});

/**
 * The validated environment.
 *
 * @example
 * const config: Config = loadConfig();
 */
export interface Config {
  port: number;
  mongodbUri: string;
  redisUrl: string;
  jwtSecret: string;
  jwtTtlSeconds: number;
  serviceToken: string;
  corsOrigins: string[];
  retention: { maxAgeDays: number; maxPerUser: number; intervalMs: number };
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
    throw new ConfigError(problems);
  }
  const e = result.data;
  if (e.ROUTING_MODE === 'broadcast' && e.REDIS_URL.includes(',')) {
    throw new ConfigError([
      'ROUTING_MODE broadcast needs a single Redis (REDIS_URL names a cluster, whose sharded pub/sub has no patterns)',
    ]);
  }
  return {
    port: e.PORT,
    mongodbUri: e.MONGODB_URI,
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET,
    jwtTtlSeconds: e.JWT_TTL_SECONDS,
    serviceToken: e.SERVICE_TOKEN,
    corsOrigins: e.CORS_ORIGINS,
    retention: { maxAgeDays: e.RETENTION_DAYS, maxPerUser: e.RETENTION_MAX_PER_USER, intervalMs: e.RETENTION_INTERVAL_SECONDS * 1000 },
    routing: e.ROUTING_MODE,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
  };
}
