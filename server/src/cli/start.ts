import path from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { randomBytes } from 'node:crypto';
import { startLocalStack, type LocalStack } from '../local-services/local-stack';
import { findMailpit } from '../local-services/mailpit';
import { createLogger } from '../platform/logger';
import { startHerald, type RunningHerald } from '../main';
import { loadEnvFile } from './env-file';

const ROOT = path.resolve(__dirname, '../../..');
/** @default 10000 */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * `npm start`: reads .env, starts local Redis and FerretDB (data in .data/)
 * for whichever of MONGODB_URI / REDIS_URL is not set, then runs the gateway
 * until SIGINT/SIGTERM. `--services-only` runs just the local services, for
 * several gateway instances to share.
 */
async function run(): Promise<void> {
  loadEnvFile(path.join(ROOT, '.env'));
  const servicesOnly = process.argv.includes('--services-only');
  const logger = createLogger(process.env.LOG_LEVEL || 'info');

  const running: { stack?: LocalStack; herald?: RunningHerald } = {};
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    await running.herald?.close().catch((error: unknown) => logger.error({ err: error }, 'error while closing the gateway'));
    await running.stack?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  // In development, email goes to a local Mailpit (installed by npm run setup) unless SMTP_URL names a server.
  const development = (process.env.NODE_ENV || 'development') === 'development';
  const mailpit = !process.env.SMTP_URL && development && findMailpit() !== undefined;
  const need = { mongodb: !process.env.MONGODB_URI, redis: !process.env.REDIS_URL, mail: mailpit };
  if (servicesOnly && !need.mongodb && !need.redis) {
    throw new Error('MONGODB_URI and REDIS_URL are both set: there are no local services to run.');
  }
  // Every setting is checked before a local service starts, so a bad one is the only thing said.
  if (!servicesOnly) {
    loadConfig({
      ...process.env,
      ...(need.mongodb ? { MONGODB_URI: 'mongodb://127.0.0.1:27017/herald' } : {}),
      ...(need.redis ? { REDIS_URL: 'redis://127.0.0.1:6379' } : {}),
    });
  }
  const stack = await startLocalStack({ dataDir: path.join(ROOT, '.data'), need });
  running.stack = stack;
  if (stack.mongodbUri) process.env.MONGODB_URI = stack.mongodbUri;
  if (stack.redisUrl) process.env.REDIS_URL = stack.redisUrl;
  if (stack.mongodbUri || stack.redisUrl) {
    logger.info({ mongodb: stack.mongodbUri, redis: stack.redisUrl }, 'local services started (data in .data/)');
  }
  if (stack.mail) {
    process.env.SMTP_URL = stack.mail.smtpUrl;
    process.env.EMAIL_FROM ||= 'Herald <notifications@localhost>';
    process.env.PUBLIC_URL ||= `http://localhost:${process.env.PORT || 3000}`;
    if (!process.env.EMAIL_LINK_SECRET) {
      process.env.EMAIL_LINK_SECRET = randomBytes(32).toString('hex');
      logger.warn(
        'EMAIL_LINK_SECRET is not set: unsubscribe links in emails work until this process stops (npm run setup puts one in .env)',
      );
    }
    logger.info({ inbox: stack.mail.webUrl }, `emails go to Mailpit: open ${stack.mail.webUrl} to read them`);
  }
  if (servicesOnly) {
    console.log(
      `\nLocal services are running. Start gateway instances with:\n  MONGODB_URI=${process.env.MONGODB_URI} REDIS_URL=${process.env.REDIS_URL} PORT=3000 npm start\nPress Ctrl+C to stop them.\n`,
    );
    return;
  }
  try {
    running.herald = await startHerald(loadConfig(process.env), { logger });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  console.log(`\nHerald is running at http://localhost:${running.herald.port}\n`);
}

run().catch(async (error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`${error.message}\nSet them in the environment or in .env (see .env.example; \`npm run setup\` creates one).`);
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
