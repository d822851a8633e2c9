import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import type { LocalRedis } from '../../server/src/local-services/redis-server';
import { createLogger } from '../../server/src/platform/logger';
import { loadConfig } from '../../server/src/config';
import { startHerald, type RunningHerald, type StartOptions } from '../../server/src/main';
import { LOOPBACK_CLIENTS_ENV, TEST_JWT_SECRET, TEST_SERVICE_TOKEN } from '../../server/test/support/herald';
import { freshMongoUri, startTestRedis } from '../../server/test/support/services';
import { launchBrowser } from './browser';
import { buildClient } from './client-build';

/** The demo app as the browser tests drive it: a fresh build, its own Redis and database, chromium. */
export interface DemoStack {
  herald: RunningHerald;
  browser: Browser;
  mongodbUri: string;
  /** Publishes with the service token, as a backend would; fails the test on anything but 201. */
  publish(body: object): Promise<void>;
}

/**
 * Registers beforeAll/afterAll hooks that build the client, start a gateway with the demo on (as a
 * production deployment would have to: explicitly) and launch chromium. `env` adds settings.
 */
export function useDemoStack(
  env: () => Record<string, string> = () => ({}),
  options: Pick<StartOptions, 'jobsIntervalMs'> = {},
): DemoStack {
  const stack = {} as DemoStack;
  let redis: LocalRedis | undefined;
  let clientDir: string | undefined;
  beforeAll(async () => {
    clientDir = buildClient();
    redis = await startTestRedis();
    stack.mongodbUri = freshMongoUri();
    const config = loadConfig({
      PORT: '0',
      MONGODB_URI: stack.mongodbUri,
      REDIS_URL: redis.url,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      DEMO: 'true',
      ...LOOPBACK_CLIENTS_ENV,
      ...env(),
    });
    stack.herald = await startHerald(config, {
      host: '127.0.0.1',
      clientDir,
      logger: createLogger('silent'),
      retention: false,
      ...options,
    });
    stack.browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await stack.browser?.close();
    await stack.herald?.close();
    await redis?.stop();
    if (clientDir) fs.rmSync(clientDir, { recursive: true, force: true });
  });
  stack.publish = async (body) => {
    const res = await fetch(`${stack.herald.url}/api/notifications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
  };
  return stack;
}
