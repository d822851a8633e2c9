#!/usr/bin/env node
import path from 'node:path';
import webpush from 'web-push';
import { ConfigError, loadConfig } from '../config';
import { startHerald } from '../main';
import { createLogger } from '../platform/logger';
import { loadEnvFile } from './env-file';

/** @default 10000 */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * `npx herald`: the gateway as a service of its own, configured by the environment (and a .env file
 * in the working directory, if there is one; variables already set win). MONGODB_URI and REDIS_URL
 * point at your database and Redis; see .env.example for the rest. Stops gracefully on SIGINT/SIGTERM.
 */
async function run(): Promise<void> {
  loadEnvFile(path.resolve('.env'));
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const running = await startHerald(config, { logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while closing the gateway');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** `npx herald vapid-keys`: a fresh VAPID key pair for Web Push, as lines for a .env file. */
function printVapidKeys(): void {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  console.log(`VAPID_PUBLIC_KEY=${publicKey}`);
  console.log(`VAPID_PRIVATE_KEY=${privateKey}`);
  console.log('# VAPID_SUBJECT=mailto:<an address where push services can reach you>');
}

const command = process.argv[2];
if (command === 'vapid-keys') {
  printVapidKeys();
  process.exit(0);
}
if (command !== undefined) {
  console.error(`Unknown command "${command}". Usage: herald (start the gateway), herald vapid-keys (print a Web Push key pair).`);
  process.exit(2);
}

run().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`${error.message}\nSet them in the environment or in a .env file in this directory.`);
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
