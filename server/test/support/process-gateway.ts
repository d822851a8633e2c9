import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/local-services/free-port';
import { waitFor } from './wait';
import { LOOPBACK_CLIENTS_ENV, TEST_JWT_SECRET, TEST_METRICS_TOKEN, TEST_SERVICE_TOKEN } from './herald';

export interface GatewayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  output(): string;
  /** Its /metrics text. */
  metrics(): Promise<string>;
}

/** Runs a gateway as its own process through the real entry point (`npm start`'s), as production does. */
export async function spawnGateway(env: {
  mongodbUri: string;
  redisUrl: string;
  port?: number;
  /** @default 20000 */
  readyTimeoutMs?: number;
  /** More settings (VAPID keys, say). */
  extra?: Record<string, string>;
}): Promise<GatewayProcess> {
  const port = env.port ?? (await freePort());
  const root = path.resolve(__dirname, '../../..');
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli/start.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      MONGODB_URI: env.mongodbUri,
      REDIS_URL: env.redisUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      LOG_LEVEL: process.env.GATEWAY_LOG_LEVEL ?? 'warn',
      NODE_ENV: 'test',
      // The loopback push service's certificate (see scripts/test-ca.mjs).
      ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
      ...LOOPBACK_CLIENTS_ENV,
      ...env.extra,
    },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway process exited early:\n${out}`);
        const res = await fetch(`${url}/readyz`);
        expect(res.status).toBe(200);
      },
      env.readyTimeoutMs ?? 20_000,
      100,
    );
  } catch (error) {
    // A gateway that never became ready is not left running, and what it said comes with the error.
    child.kill('SIGKILL');
    throw new Error(`gateway on port ${port} not ready: ${(error as Error).message}\n--- its output ---\n${out.slice(-3000)}`, {
      cause: error,
    });
  }
  const metrics = async () => (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${TEST_METRICS_TOKEN}` } })).text();
  return { url, port, child, exited, output: () => out, metrics };
}
