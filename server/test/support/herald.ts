import mongoose, { type mongo } from 'mongoose';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/platform/logger';
import { startHerald, type RunningHerald, type StartOptions } from '../../src/main';

export const TEST_SERVICE_TOKEN = 'test-service-token-0123456789abcdef';
/** The spawned gateway processes' /metrics token (their .env may hold another). */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789abcdef';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

/**
 * Every test client connects from 127.0.0.1, so per-address budgets would count a whole test file as
 * one client: they are off in test gateways, and the attack tests turn them on with small budgets.
 * Per-user and per-token budgets keep their production defaults.
 */
export const LOOPBACK_CLIENTS_ENV = { RATE_LIMIT_IP_HANDSHAKES: 'off', RATE_LIMIT_IP_REQUESTS: 'off', MAX_SOCKETS_PER_ADDRESS: '0' };

/** Starts a gateway through the real composition root, on a free loopback port. */
export async function startTestHerald(options: {
  mongodbUri: string;
  redisUrl: string;
  env?: Record<string, string>;
  options?: Pick<StartOptions, 'authenticate' | 'clientDir' | 'socketTimeoutMS' | 'logger' | 'stalenessCheckMs' | 'jobsIntervalMs'>;
}): Promise<RunningHerald> {
  const config: Config = loadConfig({
    PORT: '0',
    MONGODB_URI: options.mongodbUri,
    REDIS_URL: options.redisUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    NODE_ENV: 'test',
    // Sessions end exactly at exp, so expiry tests need not wait out a clock-skew allowance.
    AUTH_CLOCK_TOLERANCE_SECONDS: '0',
    ...LOOPBACK_CLIENTS_ENV,
    ...options.env,
  });
  return startHerald(config, {
    host: '127.0.0.1',
    clientDir: false,
    retention: false,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...options.options,
  });
}

/**
 * A second gateway whose database commands are watched (the stack's own gateways are not): `onCommand`
 * is told of each command it sends, so a test can count what a request costs the database.
 */
export async function startWatchedHerald(
  stack: { mongodbUri: string; redis: { url: string } },
  onCommand: (event: mongo.CommandStartedEvent) => void,
): Promise<RunningHerald> {
  const herald = await startTestHerald({ mongodbUri: `${stack.mongodbUri}?monitorCommands=true`, redisUrl: stack.redis.url });
  for (const connection of mongoose.connections) {
    const client = connection.readyState === 1 ? connection.getClient() : undefined;
    if (client?.options.monitorCommands) client.on('commandStarted', onCommand);
  }
  return herald;
}
